# edgeinit — see README.md. `make` builds build/init; `make test` runs every test; `make demo`
# boots the reference image.
BUILD ?= build
INIT := $(BUILD)/init
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

CC ?= gcc
LIBS_PC := libcryptsetup blkid libkmod devmapper
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude \
	-ffile-prefix-map=$(CURDIR)=. -fno-plt
LIB_SRC := $(sort $(wildcard lib/*.c))
MODULE_SRC := $(sort $(wildcard modules/*.c))
INIT_SRC := $(sort $(wildcard init/*.c))
HEADERS := $(wildcard include/edgeinit/*.h init/*.h)

.PHONY: all test unit fuzz fuzz-run demo clean
all: $(INIT)

$(INIT): $(LIB_SRC) $(MODULE_SRC) $(INIT_SRC) $(HEADERS) Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DEDGEINIT_VERSION='"$(VERSION)"' -Iinit $(shell pkg-config --cflags $(LIBS_PC)) \
		-o $@ $(LIB_SRC) $(MODULE_SRC) $(INIT_SRC) $(shell pkg-config --libs $(LIBS_PC))

# Unit and stage tests (Check). Stages run against a fake root with a recording fake of the
# side-effect seam, so init/sys_real.c and init/main.c are not linked.
UNIT_SRC := $(sort $(wildcard tests/unit/*.c tests/stages/*.c))
$(BUILD)/unit-tests: $(UNIT_SRC) $(LIB_SRC) $(MODULE_SRC) init/log.c $(HEADERS) $(wildcard tests/unit/*.h tests/stages/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=address,undefined -Iinit -Itests/unit -Itests/stages $(shell pkg-config --cflags $(LIBS_PC)) \
		-o $@ $(UNIT_SRC) $(LIB_SRC) $(MODULE_SRC) init/log.c $(shell pkg-config --cflags --libs check)

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

# libFuzzer targets for the parsers; `make fuzz-run` gives each FUZZ_SECONDS.
FUZZ_SECONDS ?= 10
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(HEADERS)
	@mkdir -p $(@D)
	clang -g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude -fsanitize=fuzzer,address,undefined -o $@ $< $(LIB_SRC)
fuzz: $(FUZZ_TARGETS)
fuzz-run: $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
		n=$$(basename $$t); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
		echo "fuzz $$n for $(FUZZ_SECONDS) s"; \
		if ! $$t -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/corpus-$$n tests/fuzz/corpus/$${n#fuzz_} \
			>$(BUILD)/fuzz/$$n.log 2>&1; then tail -n 40 $(BUILD)/fuzz/$$n.log; exit 1; fi; \
		grep -a '^Done' $(BUILD)/fuzz/$$n.log; \
	done

-include qemu/image.mk

test: deps
	$(MAKE) unit
	$(MAKE) fuzz-run
	$(MAKE) boot-test

demo: deps
	$(MAKE) all initrd uki image
	$(MAKE) demo-boot

clean:
	rm -rf $(BUILD)/init $(BUILD)/unit-tests $(BUILD)/fuzz $(BUILD)/initrd* $(BUILD)/uki.efi $(BUILD)/boot-tests
