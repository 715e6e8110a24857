# Guest kernel, initrd, UKI, disk images and QEMU boot tests for edgeinit.
# Included from the top Makefile, which provides $(BUILD) and builds $(INIT).
# The initrd's modules are the lists INITRD_LISTS (modules.d/NAME.list); integrators add
# modules with EXTRA_MODULES="..." and pick a layout with LAYOUT=...; BOOT_TESTS="happy ..."
# selects boot-test scenarios.

BUILD ?= build
INIT ?= $(BUILD)/init
# The reference QEMU image: virtio disks (and USB), no NVMe/AHCI/eMMC drivers.
INITRD_LISTS ?= boot fs luks disk-virtio disk-usb tpm
ifdef INITRD_MODULES
$(error INITRD_MODULES is gone: the initrd's modules are lists (modules.d/*.list); choose lists with INITRD_LISTS="$(INITRD_LISTS)" and add modules with EXTRA_MODULES=)
endif
EXTRA_MODULES ?=
LAYOUT ?= layout/layout.env
UKI_STUB ?= /usr/lib/systemd/boot/efi/linuxx64.efi.stub
BOOT_TESTS ?=

KERNEL_DIR := $(BUILD)/kernel
ROOTFS_DIR := $(BUILD)/rootfs
IMAGE_DIR := $(BUILD)/image
INITRD_MODLIST := lists: $(strip $(INITRD_LISTS)) modules: $(strip $(EXTRA_MODULES))
GUEST_FILES := qemu/guest/edgeinit-test.sh qemu/guest/edgeinit-test.service

.PHONY: deps kernel initrd initrd-list uki image emt-images boot-test bench-emt demo-boot edgeinit-image-force

deps:
	tools/deps.sh

kernel: $(KERNEL_DIR)/kver
$(KERNEL_DIR)/kver:
	tools/fetch-kernel.sh $(KERNEL_DIR)

# The selection lives in make variables; this file changes only when it does, so the
# initrd is rebuilt exactly then (the lists themselves are prerequisites too).
$(BUILD)/initrd.modules: edgeinit-image-force
	@mkdir -p $(@D)
	@echo '$(INITRD_MODLIST)' | cmp -s - $@ || echo '$(INITRD_MODLIST)' >$@
edgeinit-image-force:

MKINITRD = tools/edgeinit-mkinitrd --init $(INIT) --kernel-dir $(KERNEL_DIR) \
	--lists "$(INITRD_LISTS)" --modules "$(EXTRA_MODULES)" --layout $(LAYOUT)

initrd: $(BUILD)/initrd.img
$(BUILD)/initrd.img: $(INIT) $(KERNEL_DIR)/kver $(LAYOUT) tools/edgeinit-mkinitrd $(BUILD)/initrd.modules
	$(MKINITRD) -o $@

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
