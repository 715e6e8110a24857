# Guest kernel, initrd, UKI, disk images and QEMU boot tests for edgeinit.
# Included from the top Makefile, which provides $(BUILD) and builds $(INIT).
# The initrd's modules are the lists INITRD_LISTS (modules.d/NAME.list); integrators add
# modules with EXTRA_MODULES="..." and pick a layout with LAYOUT=...; BOOT_TESTS="happy ..."
# selects boot-test scenarios.

BUILD ?= build
INIT ?= $(BUILD)/init
# The reference QEMU image: virtio disks (and USB), no NVMe/AHCI/eMMC drivers.
INITRD_LISTS ?= boot fs luks disk-virtio disk-usb tpm $(if $(filter kernel,$(CRYPTSETUP_CRYPTO_BACKEND)),crypto-kernel)
ifdef INITRD_MODULES
$(error INITRD_MODULES is gone: the initrd's modules are lists (modules.d/*.list); choose lists with INITRD_LISTS="$(INITRD_LISTS)" and add modules with EXTRA_MODULES=)
endif
EXTRA_MODULES ?=
LAYOUT ?= layout/layout.env
UKI_STUB ?= /usr/lib/systemd/boot/efi/linuxx64.efi.stub
BOOT_TESTS ?=

KERNEL_DIR := $(BUILD)/kernel
ROOTFS_DIR := $(BUILD)/rootfs
IMAGE_ROOT := $(BUILD)/image-root
IMAGE_DIR := $(BUILD)/image
DEB_WORK := $(BUILD)/deb-build
INITRD_MODLIST := lists: $(strip $(INITRD_LISTS)) modules: $(strip $(EXTRA_MODULES))
GUEST_FILES := qemu/guest/edgeinit-test.sh qemu/guest/edgeinit-test.service qemu/guest/efi.mount

.PHONY: deps kernel initrd initrd-list uki image emt-images boot-test bench-emt bench demo-boot edgeinit-image-force

deps:
	tools/deps.sh

kernel: $(KERNEL_DIR)/kver
$(KERNEL_DIR)/kver:
	tools/fetch-kernel.sh $(KERNEL_DIR)
# The package itself, for the image root (a kernel directory fetched before it was kept lacks it).
$(KERNEL_DIR)/linux-image.deb:
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

# The reference image is built the integrator's way: the .deb of this tree (tools/build-deb.sh;
# package-test reuses the same build) and the kernel package are installed into a copy of the
# base tree, and kernel-install in that root makes the initrd (qemu/build-image-root.sh). Its
# kernel and initrd land in $(IMAGE_DIR) beside the partition images; the boot tests and the
# demo boot those. The .deb is copied to $(BUILD)/edgeinit.deb only when its bytes change.
image: $(IMAGE_DIR)/roothash
$(ROOTFS_DIR).stamp: qemu/build-rootfs.sh $(GUEST_FILES)
	qemu/build-rootfs.sh $(ROOTFS_DIR)
$(BUILD)/edgeinit.deb: $(DEPS_STAMP) edgeinit-image-force
	tools/build-deb.sh --source $(DEPS) $(DEB_WORK)
	@cmp -s $(DEB_WORK)/deb/edgeinit_*_amd64.deb $@ || cp $(DEB_WORK)/deb/edgeinit_*_amd64.deb $@
$(IMAGE_ROOT).stamp: $(ROOTFS_DIR).stamp $(BUILD)/edgeinit.deb $(KERNEL_DIR)/linux-image.deb qemu/build-image-root.sh \
		$(BUILD)/initrd.modules
	INITRD_LISTS="$(INITRD_LISTS)" EXTRA_MODULES="$(EXTRA_MODULES)" qemu/build-image-root.sh $(ROOTFS_DIR) $(KERNEL_DIR) $(BUILD)/edgeinit.deb $(IMAGE_ROOT)
$(IMAGE_DIR)/roothash: $(IMAGE_ROOT).stamp qemu/build-image.sh qemu/build-fde.sh
	qemu/build-image.sh $(IMAGE_ROOT) $(IMAGE_DIR)
	qemu/build-fde.sh $(IMAGE_DIR)

# Partition images of EMT-provisioned disks, one dir per mode (FDE + DM-verity, DM-verity
# only, unprovisioned); qemu/mkdisk-emt.sh assembles a disk from one. layout.txt is written last.
EMT_MODES := fde verity plain
emt-images: $(EMT_MODES:%=$(BUILD)/emt-%/layout.txt)
$(BUILD)/emt-%/layout.txt: $(ROOTFS_DIR).stamp $(KERNEL_DIR)/kver qemu/build-emt-disk.sh
	qemu/build-emt-disk.sh $* $(@D) $(ROOTFS_DIR)

# The reference UKI boots the happy path (qemu/cmdline.happy + the root hash). $(BUILD)/uki.efi
# wraps the checkout's initrd (make initrd, for quick turns and the reproducibility test);
# $(IMAGE_DIR)/uki.efi the image's own kernel and initrd (make demo).
uki: $(BUILD)/uki.efi
$(IMAGE_DIR)/uki.efi: $(IMAGE_DIR)/roothash qemu/cmdline.happy qemu/os-release tools/mkuki.sh
	tools/mkuki.sh --stub $(UKI_STUB) --kernel $(IMAGE_DIR)/vmlinuz --initrd $(IMAGE_DIR)/initrd.img \
		--cmdline "$$(sed "s/@ROOTHASH@/$$(cat $(IMAGE_DIR)/roothash)/" qemu/cmdline.happy)" \
		--osrel qemu/os-release --out $@
$(BUILD)/uki.efi: $(BUILD)/initrd.img $(KERNEL_DIR)/kver $(IMAGE_DIR)/roothash \
		qemu/cmdline.happy qemu/os-release tools/mkuki.sh
	tools/mkuki.sh --stub $(UKI_STUB) --kernel $(KERNEL_DIR)/vmlinuz --initrd $(BUILD)/initrd.img \
		--cmdline "$$(sed "s/@ROOTHASH@/$$(cat $(IMAGE_DIR)/roothash)/" qemu/cmdline.happy)" \
		--osrel qemu/os-release --out $@

boot-test: $(KERNEL_DIR)/kver $(IMAGE_DIR)/roothash emt-images
	BUILD=$(BUILD) tests/boot/run.sh $(BOOT_TESTS)

# Benchmark (reports figures, never fails on timing): EMT's FDE disk booted with EMT's command
# line, BENCH_BOOTS times on one machine.
BENCH_BOOTS ?= 3
bench-emt: $(BUILD)/initrd.img $(KERNEL_DIR)/kver emt-images
	BUILD=$(BUILD) tools/bench-emt.sh $(BENCH_BOOTS)

# The peer benchmark: Debian's dracut initrd and edgeinit's (the reference image's own), same
# kernel, disk and TPM, BENCH_BOOTS boots of each, alternating (tools/bench.sh).
bench: $(IMAGE_DIR)/roothash $(KERNEL_DIR)/linux-image.deb emt-images
	BUILD=$(BUILD) tools/bench.sh $(BENCH_BOOTS)

demo-boot: $(IMAGE_DIR)/uki.efi
	BUILD=$(BUILD) UKI=$(abspath $(IMAGE_DIR))/uki.efi qemu/demo.sh
