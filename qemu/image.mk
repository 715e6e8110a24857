# Guest kernel, initrd, UKI, disk images and QEMU boot tests for edgeinit.
# Included from the top Makefile, which provides $(BUILD) and builds $(INIT).
# Integrators add initrd modules with EXTRA_MODULES="..." and pick a layout
# with LAYOUT=...; BOOT_TESTS="happy ..." selects boot-test scenarios.

BUILD ?= build
INIT ?= $(BUILD)/init
INITRD_MODULES ?= virtio_pci virtio_blk dm_verity ext4 overlay algif_hash algif_skcipher dm_crypt xts sha512_generic efivarfs xhci_pci usb_storage sd_mod
EXTRA_MODULES ?=
LAYOUT ?= layout/layout.env
UKI_STUB ?= /usr/lib/systemd/boot/efi/linuxx64.efi.stub
BOOT_TESTS ?=

KERNEL_DIR := $(BUILD)/kernel
ROOTFS_DIR := $(BUILD)/rootfs
IMAGE_DIR := $(BUILD)/image
INITRD_MODLIST := $(strip $(INITRD_MODULES) $(EXTRA_MODULES))
GUEST_FILES := qemu/guest/edgeinit-test.sh qemu/guest/edgeinit-test.service

.PHONY: deps kernel initrd initrd-list uki image emt-images boot-test bench-emt demo-boot edgeinit-image-force

deps:
	tools/deps.sh

kernel: $(KERNEL_DIR)/kver
$(KERNEL_DIR)/kver:
	tools/fetch-kernel.sh $(KERNEL_DIR)

# The module list lives in a make variable; this file changes only when the
# list does, so the initrd is rebuilt exactly then.
$(BUILD)/initrd.modules: edgeinit-image-force
	@mkdir -p $(@D)
	@echo '$(INITRD_MODLIST)' | cmp -s - $@ || echo '$(INITRD_MODLIST)' >$@
edgeinit-image-force:

MKINITRD = tools/mkinitrd.py --init $(INIT) --kernel-dir $(KERNEL_DIR) \
	--modules "$(INITRD_MODLIST)" --layout $(LAYOUT)

initrd: $(BUILD)/initrd.img
$(BUILD)/initrd.img: $(INIT) $(KERNEL_DIR)/kver $(LAYOUT) tools/mkinitrd.py $(BUILD)/initrd.modules
	$(MKINITRD) --out $@

initrd-list: $(INIT) $(KERNEL_DIR)/kver $(LAYOUT)
	@$(MKINITRD) --list

image: $(IMAGE_DIR)/roothash
$(ROOTFS_DIR).stamp: qemu/build-rootfs.sh $(GUEST_FILES)
	qemu/build-rootfs.sh $(ROOTFS_DIR)
$(IMAGE_DIR)/roothash: $(ROOTFS_DIR).stamp qemu/build-image.sh qemu/build-fde.sh
	qemu/build-image.sh $(ROOTFS_DIR) $(IMAGE_DIR)
	qemu/build-fde.sh $(IMAGE_DIR)

# Partition images of EMT-provisioned disks, one dir per mode (FDE + DM-verity, DM-verity
# only, unprovisioned); qemu/mkdisk-emt.sh assembles a disk from one. layout.txt is written last.
EMT_MODES := fde verity plain
emt-images: $(EMT_MODES:%=$(BUILD)/emt-%/layout.txt)
$(BUILD)/emt-%/layout.txt: $(ROOTFS_DIR).stamp qemu/build-emt-disk.sh
	qemu/build-emt-disk.sh $* $(@D) $(ROOTFS_DIR)

# The reference UKI boots the happy path (qemu/cmdline.happy + the root hash).
uki: $(BUILD)/uki.efi
$(BUILD)/uki.efi: $(BUILD)/initrd.img $(KERNEL_DIR)/kver $(IMAGE_DIR)/roothash \
		qemu/cmdline.happy qemu/os-release tools/mkuki.sh
	tools/mkuki.sh --stub $(UKI_STUB) --kernel $(KERNEL_DIR)/vmlinuz --initrd $(BUILD)/initrd.img \
		--cmdline "$$(sed "s/@ROOTHASH@/$$(cat $(IMAGE_DIR)/roothash)/" qemu/cmdline.happy)" \
		--osrel qemu/os-release --out $@

boot-test: $(BUILD)/initrd.img $(KERNEL_DIR)/kver $(IMAGE_DIR)/roothash emt-images
	BUILD=$(BUILD) tests/boot/run.sh $(BOOT_TESTS)

# Benchmark (reports figures, never fails on timing): EMT's FDE disk booted with EMT's command
# line, BENCH_BOOTS times on one machine.
BENCH_BOOTS ?= 3
bench-emt: $(BUILD)/initrd.img $(KERNEL_DIR)/kver emt-images
	BUILD=$(BUILD) tools/bench-emt.sh $(BENCH_BOOTS)

demo-boot: $(BUILD)/uki.efi $(IMAGE_DIR)/roothash
	BUILD=$(BUILD) qemu/demo.sh
