# edgeinit — see README.md. `make` builds build/init; `make test` runs every test; `make demo`
# boots the reference image.
BUILD ?= build
INIT := $(BUILD)/init
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

CC ?= gcc
# Host build (unit tests, fuzzers): Debian's -dev packages, dynamic, with sanitizers.
LIBS_PC := libcryptsetup blkid libkmod devmapper
# What lib/ itself calls (hashes, base64, JSON): Debian's packages of the versions deps.lock
# pins, so the host tests and fuzzers run the library code /init runs, without the deps prefix.
# tss2-mu: lib/tpm2_decide.c unmarshals the sealed object with tpm2-tss's own code (bookworm has
# 3.2.1, deps.lock pins trixie's 4.1.3: the structures it fills are the same).
LIB_PC := nettle json-c tss2-mu
LIB_PC_FLAGS = $(shell pkg-config --cflags --libs $(LIB_PC))
# The layout.env tool has no use for the TPM decisions (nor its package for libtss2).
LAYOUT_LIB_SRC = $(filter-out lib/tpm2_decide.c,$(LIB_SRC))
LAYOUT_PC := nettle json-c
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude \
	-ffile-prefix-map=$(CURDIR)=. -fno-plt
LIB_SRC := $(sort $(wildcard lib/*.c))
MODULE_SRC := $(sort $(wildcard modules/*.c))
INIT_SRC := $(sort $(wildcard init/*.c))
HEADERS := $(wildcard include/edgeinit/*.h init/*.h lib/*.h modules/*.h)

# /init: static, musl, against libraries built from the Debian source packages pinned in
# deps.lock (tools/build-deps.sh), once, into $(DEPS). DEPS may point at a shared cache.
DEPS ?= $(BUILD)/deps
DEPS_STAMP := $(DEPS)/stamp
SYSROOT := $(DEPS)/sysroot
STATIC_CC := musl-gcc
# Only the prefix's .pc files: a host (glibc) library must never end up in /init.
STATIC_PKG_CONFIG := PKG_CONFIG_LIBDIR=$(SYSROOT)/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$(SYSROOT) \
	PKG_CONFIG_PATH= pkg-config --static
# libmount reads the mount table for the exitrd (init/shutdown.c); the boot itself mounts with
# flags it chose and parses no option strings.
INIT_PC := libcryptsetup devmapper blkid mount libkmod libzstd tss2-esys tss2-sys tss2-mu tss2-rc tss2-tcti-device nettle json-c
INIT_CFLAGS := -Os -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Iinit \
	-include tools/musl-compat.h \
	-ffunction-sections -fdata-sections -fno-plt \
	-ffile-prefix-map=$(CURDIR)=. -ffile-prefix-map=$(abspath $(DEPS))=/deps \
	-idirafter $(DEPS)/kinc
INIT_LDFLAGS := -static -Wl,--gc-sections -Wl,-Map=$(BUILD)/init.map
INIT_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC) $(MODULE_SRC) $(INIT_SRC))

.PHONY: all test check unit fuzz fuzz-run demo clean distclean deps-build size relink static-check repro-test \
	layout-tool-test
# The integrators' layout.env tool: a host program with the same parser and planner as /init.
LAYOUT_TOOL := $(BUILD)/edgeinit-layout
all: $(INIT) $(LAYOUT_TOOL)

$(LAYOUT_TOOL): tools/edgeinit-layout.c $(LIB_SRC) $(HEADERS) Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ tools/edgeinit-layout.c $(LAYOUT_LIB_SRC) \
		$(shell pkg-config --cflags --libs $(LAYOUT_PC))

deps-build: $(DEPS_STAMP)
$(DEPS_STAMP): deps.lock tools/build-deps.sh $(wildcard tools/patches/*/*.patch)
	tools/build-deps.sh deps.lock $(DEPS)

# The version string changes with every commit; only main.c uses it, only main.o depends on it.
$(BUILD)/version: edgeinit-version-force
	@mkdir -p $(@D)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
edgeinit-version-force:
$(BUILD)/obj/init/main.o: $(BUILD)/version
$(BUILD)/obj/init/main.o: VERSION_DEF := -DEDGEINIT_VERSION='"$(VERSION)"'

# Kernel module lists are data (modules.d/*.list, installed for edgeinit-mkinitrd); /init's
# tables are generated from them: modlist_boot.h (the modules stage's required modules), and
# modlist_luks.h, modlist_fs.h (loaded in the background, and by the unlock paths and mounts).
MODULE_LISTS := $(sort $(wildcard modules.d/*.list))
GEN_DIR := $(BUILD)/gen
MODLIST_HEADERS := $(GEN_DIR)/modlist_boot.h $(GEN_DIR)/modlist_luks.h $(GEN_DIR)/modlist_fs.h \
	$(GEN_DIR)/modlist_crypto-kernel.h
$(GEN_DIR)/modlist_%.h: modules.d/%.list tools/modlist-header.sh
	@mkdir -p $(@D)
	tools/modlist-header.sh $< >$@.tmp && mv $@.tmp $@
$(BUILD)/obj/modules/load_modules.o $(BUILD)/obj/modules/unlock.o: $(MODLIST_HEADERS)
$(BUILD)/obj/modules/load_modules.o $(BUILD)/obj/modules/unlock.o: INIT_CFLAGS += -I$(GEN_DIR)
# libcryptsetup's crypto backend (tools/build-deps.sh): with "kernel", /init also loads what
# modules.d/crypto-kernel.list names (AF_ALG hashes); the prefix must be built with the same one.
CRYPTSETUP_CRYPTO_BACKEND ?= nettle
export CRYPTSETUP_CRYPTO_BACKEND
ifeq ($(CRYPTSETUP_CRYPTO_BACKEND),kernel)
$(BUILD)/obj/modules/load_modules.o: INIT_CFLAGS += -DEDGEINIT_CRYPTO_BACKEND_KERNEL
endif
$(BUILD)/crypto-backend: edgeinit-version-force
	@mkdir -p $(@D)
	@echo '$(CRYPTSETUP_CRYPTO_BACKEND)' | cmp -s - $@ || echo '$(CRYPTSETUP_CRYPTO_BACKEND)' >$@
$(BUILD)/obj/modules/load_modules.o: $(BUILD)/crypto-backend
# edgeinit-mkinitrd's lists: crypto-kernel only beside a /init that loads it.
INSTALLED_LISTS := $(if $(filter kernel,$(CRYPTSETUP_CRYPTO_BACKEND)),$(MODULE_LISTS),\
	$(filter-out modules.d/crypto-kernel.list,$(MODULE_LISTS)))

# pkg-config runs when the recipe does, after the prefix exists.
$(BUILD)/obj/%.o: %.c $(HEADERS) tools/musl-compat.h Makefile $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(STATIC_CC) $(INIT_CFLAGS) $(VERSION_DEF) \
		$$($(STATIC_PKG_CONFIG) --cflags $(INIT_PC)) -c -o $@ $<

# Relinking (LGPL): this rule plus $(BUILD)/obj and the prefix recipe is the relinkable form:
# rebuild a library in $(DEPS) (or replace its .a) and `make relink` links /init against it.
$(INIT): $(INIT_OBJ) $(DEPS_STAMP)
	$(STATIC_CC) $(INIT_CFLAGS) $(INIT_LDFLAGS) -o $@ $(INIT_OBJ) \
		$$($(STATIC_PKG_CONFIG) --libs $(INIT_PC))
	tests/static/check-init.sh $@

relink:
	rm -f $(INIT)
	$(MAKE) $(INIT)

# Size of /init stripped, and what each library contributes (from the link map).
size: $(INIT)
	tools/size-report.py --binary $(INIT) --map $(BUILD)/init.map

# Unit and stage tests (Check). Stages run against a fake root with a recording fake of the
# side-effect seam, so init/sys_real.c and init/main.c are not linked (init/emergency.c and crash.c
# are: the `main` stage cases run the fatal path in a child). One object per source, so
# that after an edit `make check` recompiles what changed and not the whole tree.
UNIT_SRC := $(sort $(wildcard tests/unit/*.c tests/stages/*.c))
UNIT_OBJ := $(patsubst %.c,$(BUILD)/unit-obj/%.o,$(UNIT_SRC) $(LIB_SRC) $(MODULE_SRC) init/log.c \
	init/emergency.c init/crash.c init/module_queue.c init/sys_luks.c init/module_image.c)
UNIT_HEADERS := $(HEADERS) $(wildcard tests/unit/*.h tests/stages/*.h init/*.h modules/*.h)
$(BUILD)/unit-obj/%.o: %.c $(UNIT_HEADERS) $(MODLIST_HEADERS) Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=address,undefined -I$(GEN_DIR) -Iinit -Itests/unit -Itests/stages \
		$(shell pkg-config --cflags $(LIBS_PC) $(LIB_PC) libzstd check) -c -o $@ $<
# Stage tests as data: tests/stages/test_cases.c reads the cases at run time.
$(BUILD)/unit-obj/tests/stages/test_cases.o: CFLAGS += -DEDGEINIT_CASES_DIR='"$(CURDIR)/tests/stages/cases"'
$(BUILD)/unit-tests: $(UNIT_OBJ)
	$(CC) $(CFLAGS) -fsanitize=address,undefined -o $@ $(UNIT_OBJ) $(LIB_PC_FLAGS) \
		$(shell pkg-config --libs libcryptsetup libzstd check)

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

# libFuzzer targets for the parsers; `make fuzz-run` gives each FUZZ_SECONDS. lib/ is compiled
# once with the fuzzer's instrumentation and linked into every target.
FUZZ_SECONDS ?= 10
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIB_OBJ := $(patsubst lib/%.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRC))
$(BUILD)/fuzz/obj/%.o: lib/%.c $(HEADERS) Makefile
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) $(shell pkg-config --cflags $(LIB_PC)) -c -o $@ $<
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ) $(HEADERS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LIB_PC_FLAGS)
fuzz: $(FUZZ_TARGETS)

# The quick tier, for every change: unit and stage tests, the house rules, a short fuzz of every
# parser. No root, no QEMU, no dependency prefix: `make -j2 check`.
CHECK_FUZZ_SECONDS ?= 2
check: $(BUILD)/unit-tests $(FUZZ_TARGETS)
	$(BUILD)/unit-tests
	tests/static/house.sh
	@$(MAKE) --no-print-directory fuzz-run FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
fuzz-run: $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
		n=$$(basename $$t); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
		echo "fuzz $$n for $(FUZZ_SECONDS) s"; \
		if ! $$t -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/corpus-$$n tests/fuzz/corpus/$${n#fuzz_} \
			>$(BUILD)/fuzz/$$n.log 2>&1; then tail -n 40 $(BUILD)/fuzz/$$n.log; exit 1; fi; \
		grep -a '^Done' $(BUILD)/fuzz/$$n.log; \
	done

# Initrd compressor (none, zstd, lz4, gzip, xz); none by default, since edgeinit-mkinitrd stores
# the modules compressed; tools/initrd-unpack-bench.sh measures the guest kernel's unpack time of
# each. The stamp file rebuilds the initrd when it changes.
INITRD_COMPRESS ?= none
export MKINITRD_COMPRESS := $(INITRD_COMPRESS)
$(BUILD)/initrd.compress: edgeinit-version-force
	@mkdir -p $(@D)
	@echo '$(INITRD_COMPRESS)' | cmp -s - $@ || echo '$(INITRD_COMPRESS)' >$@

-include qemu/image.mk

$(BUILD)/initrd.img: $(MODULE_LISTS) $(BUILD)/initrd.compress
$(BUILD)/uki.efi: tools/pe-set-timestamp.py

# Installation, for integrators and packages (PREFIX=/usr DESTDIR=... for a package):
#   $(PREFIX)/lib/edgeinit/init          the static /init (stripped)
#   $(PREFIX)/lib/edgeinit/mkuki, pe-set-timestamp.py   the UKI assembler the plugin uses
#   $(PREFIX)/bin/edgeinit-mkinitrd      the initrd builder (python3)
#   $(PREFIX)/bin/edgeinit-layout        the layout.env checker
#   $(PREFIX)/share/edgeinit/layout.env  the default layout.env (/etc/edgeinit/layout.env wins)
#   $(PREFIX)/share/edgeinit/modules.d/*.list   the module lists
#   $(PREFIX)/lib/kernel/install.d/50-edgeinit.install   the kernel-install plugin
#   $(PREFIX)/share/man/man7/edgeinit.7, man8/edgeinit-mkinitrd.8, man8/edgeinit-layout.8
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/bin
PKGLIBDIR := $(PREFIX)/lib/edgeinit
PKGDATADIR := $(PREFIX)/share/edgeinit
KERNEL_INSTALL_DIR := $(PREFIX)/lib/kernel/install.d
MANDIR := $(PREFIX)/share/man
MAN7 := man/edgeinit.7
MAN8 := man/edgeinit-mkinitrd.8 man/edgeinit-layout.8
.PHONY: install uninstall toolchain-test
install: $(INIT) $(LAYOUT_TOOL)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(PKGDATADIR)/modules.d \
		$(DESTDIR)$(KERNEL_INSTALL_DIR) $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	strip --strip-all -o $(DESTDIR)$(PKGLIBDIR)/init $(INIT)
	chmod 0755 $(DESTDIR)$(PKGLIBDIR)/init
	install -m 0755 tools/mkuki.sh $(DESTDIR)$(PKGLIBDIR)/mkuki
	install -m 0755 tools/pe-set-timestamp.py $(DESTDIR)$(PKGLIBDIR)/pe-set-timestamp.py
	sed 's|^INSTALL_PREFIX = None$$|INSTALL_PREFIX = "$(PREFIX)"|' tools/edgeinit-mkinitrd \
		>$(DESTDIR)$(BINDIR)/edgeinit-mkinitrd
	chmod 0755 $(DESTDIR)$(BINDIR)/edgeinit-mkinitrd
	install -m 0755 $(LAYOUT_TOOL) $(DESTDIR)$(BINDIR)/edgeinit-layout
	install -m 0644 layout/layout.env $(DESTDIR)$(PKGDATADIR)/layout.env
	install -m 0644 $(INSTALLED_LISTS) $(DESTDIR)$(PKGDATADIR)/modules.d/
	sed -e 's|@BINDIR@|$(BINDIR)|' -e 's|@PKGLIBDIR@|$(PKGLIBDIR)|' kernel-install/50-edgeinit.install \
		>$(DESTDIR)$(KERNEL_INSTALL_DIR)/50-edgeinit.install
	chmod 0755 $(DESTDIR)$(KERNEL_INSTALL_DIR)/50-edgeinit.install
	install -m 0644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/

uninstall:
	rm -f $(DESTDIR)$(PKGLIBDIR)/init $(DESTDIR)$(PKGLIBDIR)/mkuki $(DESTDIR)$(PKGLIBDIR)/pe-set-timestamp.py \
		$(DESTDIR)$(BINDIR)/edgeinit-mkinitrd $(DESTDIR)$(BINDIR)/edgeinit-layout \
		$(DESTDIR)$(PKGDATADIR)/layout.env $(addprefix $(DESTDIR)$(PKGDATADIR)/,$(MODULE_LISTS)) \
		$(DESTDIR)$(KERNEL_INSTALL_DIR)/50-edgeinit.install \
		$(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(MAN7))) $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8)))
	-rmdir $(DESTDIR)$(PKGDATADIR)/modules.d $(DESTDIR)$(PKGDATADIR) $(DESTDIR)$(PKGLIBDIR)

# The integrator's toolchain: install layout, mkinitrd refusals, kernel-install plugin.
toolchain-test: $(INIT) $(LAYOUT_TOOL) $(KERNEL_DIR)/kver $(ROOTFS_DIR).stamp $(IMAGE_DIR)/roothash
	BUILD=$(BUILD) tests/toolchain/run.sh

# The static /init: no PT_INTERP, no DT_NEEDED, no dlopen (also checked after every link).
static-check: $(INIT)
	OBJDIR=$(BUILD)/obj DEPS_LIBDIR=$(SYSROOT)/usr/lib tests/static/run.sh $(INIT)

# Two clean clones of HEAD build byte-identical init, initrd and UKI (a few minutes: one of
# them builds the dependency prefix from scratch).
repro-test: $(KERNEL_DIR)/kver $(IMAGE_DIR)/roothash
	BUILD=$(BUILD) DEPS=$(abspath $(DEPS)) tests/repro/run.sh

layout-tool-test: $(BUILD)/edgeinit-layout $(ROOTFS_DIR).stamp
	tests/layout-tool/run.sh $(BUILD)/edgeinit-layout $(ROOTFS_DIR)

# Packages: the .deb and the RPM build from this tree reusing the dependency prefix, carry the
# install layout (tests/package/files.txt) and the same /init, the .deb is lintian-clean and
# installs into a copy of the reference rootfs, where kernel-install add builds the same initrd as
# edgeinit-mkinitrd by hand (tests/package/run.sh; a few minutes).
.PHONY: package-test
package-test: $(DEPS_STAMP) $(ROOTFS_DIR).stamp $(KERNEL_DIR)/kver
	DEB_WORK=$(DEB_WORK) tests/package/run.sh $(DEPS) $(ROOTFS_DIR) $(BUILD)/package-test $(KERNEL_DIR)

test: deps
	$(MAKE) check
	$(MAKE) layout-tool-test
	$(MAKE) toolchain-test
	$(MAKE) package-test
	$(MAKE) static-check
	$(MAKE) fuzz-run
	$(MAKE) boot-test
	$(MAKE) repro-test

demo: deps
	$(MAKE) all image
	$(MAKE) demo-boot

# The dependency prefix survives `clean` (it takes minutes to build); `distclean` removes it.
clean:
	rm -rf $(BUILD)/init $(BUILD)/edgeinit-layout $(BUILD)/init.map $(BUILD)/obj $(BUILD)/version $(BUILD)/unit-tests $(BUILD)/unit-obj $(BUILD)/gen \
		$(BUILD)/fuzz $(BUILD)/initrd* $(BUILD)/uki.efi $(BUILD)/boot-tests
distclean: clean
	rm -rf $(DEPS) $(DEPS).tmp $(DEPS).cache
