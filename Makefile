# keel - one entry point.  See README.md.
#
#   make              keel for the sim board, host architecture
#   make run          set up what is missing, build, start keel
#   make test         the test suite (unit tests under ASan/UBSan, static
#                     and cross checks, format check)
#   make cross        the sim board for aarch64 and armhf too
#   make size         text/data/bss and stripped size of shipped binaries
#   make format       reformat the sources; make check-format checks only
#   make clean        remove build/
#
# Variables: BOARD (sim), ARCH (x86_64, aarch64, armhf; default: this
# machine's), V=1 for full command lines.

KEEL_VERSION := 0.1.0
BOARD ?= sim
HOST_ARCH := $(shell uname -m | sed -e 's/^arm64$$/aarch64/' \
	-e 's/^armv7.*/armhf/')
ARCH ?= $(HOST_ARCH)

include board/$(BOARD)/board.mk

ifeq ($(filter $(ARCH),$(BOARD_ARCHES)),)
$(error ARCH=$(ARCH) is not one of $(BOARD_ARCHES) for board $(BOARD))
endif

.DEFAULT_GOAL := all
Q := $(if $(V),,@)
BUILD_ID := $(shell git describe --always --dirty --abbrev=12 2>/dev/null \
	|| echo unknown)

# ---- sources --------------------------------------------------------------

STORE_SRCS := src/store/store.c src/store/clog.c src/store/ctl.c \
	src/store/crc32c.c
UPDATE_SRCS := src/update/format.c src/update/bootctl.c src/update/floor.c \
	src/update/update.c \
	src/update/audit.c
CRYPTO_SRCS := src/crypto/sha256.c src/crypto/sha256_hw.c src/crypto/ec.c \
	src/crypto/keyfmt.c
HASH_SRCS := src/crypto/keccak.c src/crypto/hashes.c
CHAIN_SRCS := src/chain/trailer.c src/chain/trigg.c src/chain/peach.c \
	src/chain/chain.c $(HASH_SRCS)
# keel-boot: stage 1.  It links BearSSL only (through src/crypto/).
BOOT_SRCS := src/boot/main.c src/boot/choose.c src/update/archive.c \
	$(UPDATE_SRCS) $(CRYPTO_SRCS) $(STORE_SRCS) $(HAL_SRCS)
NODE_SRCS := src/node/main.c src/node/cmds.c \
	src/console/line.c src/console/cmd.c \
	$(CRYPTO_SRCS) \
	$(STORE_SRCS) src/node/cmds_store.c \
	src/identity/identity.c src/node/cmds_id.c \
	$(UPDATE_SRCS) src/node/cmds_update.c \
	$(CHAIN_SRCS) src/node/cmds_chain.c \
	src/net/lwip_port.c src/net/tls.c \
	$(HAL_SRCS)

DEPS_SRC := build/src
DEPS_INPUTS := scripts/deps.sh scripts/deps.sha256 \
	$(wildcard src/net/port/*.h src/net/port/arch/*.h)

# Warnings are errors in keel's own code; third-party headers are system
# headers so that their warnings are not.
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-missing-field-initializers
INCLUDES := -Ihal/include -Ihal -Isrc -Iboard/$(BOARD) -Isrc/net/port \
	-isystem $(DEPS_SRC)/bearssl/inc \
	-isystem $(DEPS_SRC)/mbedtls/include \
	-isystem $(DEPS_SRC)/lwip/src/include \
	-Ibuild/deps/include -Ibuild/gen
DEFINES := -D_GNU_SOURCE -DKEEL_VERSION='"$(KEEL_VERSION)"' \
	-DMBEDTLS_CONFIG_FILE='"keel_mbedtls_config.h"'
CFLAGS_COMMON := -std=c11 $(WARN) $(INCLUDES) $(DEFINES) $(BOARD_CFLAGS) \
	-MMD -MP

# The build id lives in a header rewritten only when it changes, so the
# objects that use it rebuild exactly then.
build/gen/build_id.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define KEEL_BUILD_ID "$(BUILD_ID)"' > $@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@
FORCE:

# ---- the shipped binaries, one tree per board and arch -----------------------

# $(call node_rules,ARCH) defines build/$(BOARD)-ARCH/keel.
define node_rules
OUT_$(1) := build/$(BOARD)-$(1)
OBJS_$(1) := $$(patsubst %.c,$$(OUT_$(1))/obj/%.o,$(NODE_SRCS))
DEPLIBS_$(1) := build/deps/$(1)/.stamp

$$(DEPLIBS_$(1)): $(DEPS_INPUTS)
	$(Q)bash scripts/deps.sh $(1)
	$(Q)touch $$@

$$(OUT_$(1))/obj/%.o: %.c | $$(DEPLIBS_$(1)) build/gen/build_id.h
	@mkdir -p $$(dir $$@)
	@$(if $(Q),echo "  CC [$(1)] $$<")
	$(Q)$(CC_$(1)) $(CFLAGS_COMMON) -Os -g -ffunction-sections \
		-fdata-sections -isystem build/kheaders/$(1) -c $$< -o $$@

$$(OUT_$(1))/keel: $$(OBJS_$(1)) $$(DEPLIBS_$(1))
	@$(if $(Q),echo "  LD [$(1)] $$@")
	$(Q)$(CC_$(1)) -static -Wl,--gc-sections -o $$@ $$(OBJS_$(1)) \
		-Lbuild/deps/$(1)/lib -llwip -lmbedtls -lbearssl -lb2

BOOT_OBJS_$(1) := $$(patsubst %.c,$$(OUT_$(1))/obj/%.o,$(BOOT_SRCS))
$$(OUT_$(1))/keel-boot: $$(BOOT_OBJS_$(1)) $$(DEPLIBS_$(1))
	@$(if $(Q),echo "  LD [$(1)] $$@")
	$(Q)$(CC_$(1)) -static -Wl,--gc-sections -o $$@ $$(BOOT_OBJS_$(1)) \
		-Lbuild/deps/$(1)/lib -lbearssl
-include $$(BOOT_OBJS_$(1):.o=.d)

-include $$(OBJS_$(1):.o=.d)
endef
$(foreach a,$(BOARD_ARCHES),$(eval $(call node_rules,$(a))))

OUT := build/$(BOARD)-$(ARCH)

.PHONY: all run test cross size format check-format clean setup unit FORCE \
	powercut fuzz-store fuzz-keys fuzz-bundle fuzz-chain fuzz-chain-mount bench \
	soak-identity image bundle damage

all: $(OUT)/keel $(OUT)/keel-boot build/tools/keel-bundle \
	build/tools/keel-chaingen

cross: $(foreach a,$(BOARD_ARCHES),build/$(BOARD)-$(a)/keel \
	build/$(BOARD)-$(a)/keel-boot)

setup:
	$(Q)bash scripts/setup.sh

run: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(OUT)/keel --flash $(OUT)/flash.img

# ---- unit tests: host gcc with ASan and UBSan --------------------------------

SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
UT_CFLAGS := $(CFLAGS_COMMON) -Itests/unit -O1 -g $(SAN)
UT_OUT := build/test

# Each unit test: its program and the sources it links.
UNIT_TESTS := flash_sim console store blk crypto identity update chain
UT_SRCS_flash_sim := tests/unit/test_flash_sim.c hal/sim/flash_sim.c
UT_SRCS_crypto := tests/unit/test_crypto.c $(CRYPTO_SRCS) hal/sim/rng.c
UT_SRCS_identity := tests/unit/test_identity.c src/identity/identity.c \
	$(CRYPTO_SRCS) \
	$(STORE_SRCS) hal/sim/flash_sim.c hal/sim/rng.c
UT_SRCS_update := tests/unit/test_update.c $(UPDATE_SRCS) src/boot/choose.c \
	$(CRYPTO_SRCS) $(STORE_SRCS) hal/sim/flash_sim.c hal/sim/rng.c \
	hal/sim/clock.c
UT_SRCS_chain := tests/unit/test_chain.c $(CHAIN_SRCS) $(CRYPTO_SRCS) \
	src/chain/gen.c $(STORE_SRCS) hal/sim/flash_sim.c hal/sim/rng.c \
	hal/sim/clock.c
UT_SRCS_blk := tests/unit/test_blk.c hal/linux/blk.c $(STORE_SRCS) \
	hal/sim/clock.c
UT_SRCS_store := tests/unit/test_store.c $(STORE_SRCS) hal/sim/flash_sim.c \
	hal/sim/clock.c
UT_SRCS_console := tests/unit/test_console.c src/console/line.c \
	src/console/cmd.c

build/deps/host/.stamp: $(DEPS_INPUTS)
	$(Q)bash scripts/deps.sh host
	$(Q)touch $@

$(UT_OUT)/obj/%.o: %.c | build/deps/host/.stamp build/gen/build_id.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC [host] $<")
	$(Q)gcc $(UT_CFLAGS) -c $< -o $@

define unit_rules
$(UT_OUT)/test_$(1): $$(patsubst %.c,$(UT_OUT)/obj/%.o,$$(UT_SRCS_$(1)))
	@$(if $(Q),echo "  LD [host] $$@")
	$(Q)gcc $(SAN) -o $$@ $$^ -Lbuild/deps/host/lib -llwip -lmbedtls \
		-lbearssl -lb2
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rules,$(t))))
-include $(shell find $(UT_OUT)/obj -name '*.d' 2>/dev/null)

unit: $(foreach t,$(UNIT_TESTS),$(UT_OUT)/test_$(t))

# ---- power cuts, fuzzing, benchmarks ------------------------------------

HOST_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ihal/include \
	-Ihal -Isrc -Iboard/$(BOARD) -Itests/unit
PC_SRCS := tests/powercut/powercut.c $(STORE_SRCS) hal/sim/flash_sim.c \
	hal/sim/clock.c

# Optimised for the exhaustive run; the sampled run in make test uses
# the sanitized build.
$(UT_OUT)/powercut: $(PC_SRCS)
	@mkdir -p $(dir $@)
	$(Q)gcc $(HOST_CFLAGS) -O2 -o $@ $(PC_SRCS)
$(UT_OUT)/powercut-san: $(PC_SRCS)
	@mkdir -p $(dir $@)
	$(Q)gcc $(HOST_CFLAGS) -O1 -g $(SAN) -o $@ $(PC_SRCS)

POWERCUT_SAMPLE ?= 13
powercut: $(UT_OUT)/powercut
	$(Q)$(UT_OUT)/powercut --double 6 --double-every 11

FUZZ_SECONDS ?= 60
FUZZ_SRCS := tests/fuzz/fuzz_store_mount.c $(STORE_SRCS) \
	hal/sim/flash_sim.c hal/sim/clock.c
$(UT_OUT)/fuzz_store_mount: $(FUZZ_SRCS)
	@mkdir -p $(dir $@)
	$(Q)clang $(HOST_CFLAGS) -O1 -g \
		-fsanitize=fuzzer,address,undefined -o $@ $(FUZZ_SRCS)
$(UT_OUT)/mkseed: tests/fuzz/mkseed.c $(STORE_SRCS) hal/sim/flash_sim.c \
		hal/sim/clock.c
	$(Q)gcc $(HOST_CFLAGS) -O1 -o $@ $^
build/fuzz/store-corpus/seed: $(UT_OUT)/mkseed
	@mkdir -p $(dir $@)
	$(Q)$< $@
fuzz-store: $(UT_OUT)/fuzz_store_mount build/fuzz/store-corpus/seed
	$(Q)$< -max_total_time=$(FUZZ_SECONDS) -max_len=131072 \
		build/fuzz/store-corpus

# The key parser's target links an instrumented BearSSL, so coverage
# reaches into its PEM and DER decoders.
build/deps/clang/.stamp: $(DEPS_INPUTS)
	$(Q)bash scripts/deps.sh clang
FUZZ_KEY_SRCS := tests/fuzz/fuzz_keyparse.c $(CRYPTO_SRCS) hal/sim/rng.c
$(UT_OUT)/fuzz_keyparse: $(FUZZ_KEY_SRCS) build/deps/clang/.stamp
	@mkdir -p $(dir $@)
	$(Q)clang $(HOST_CFLAGS) -isystem $(DEPS_SRC)/bearssl/inc -Ibuild/deps/include -O1 -g \
		-fsanitize=fuzzer,address,undefined -o $@ $(FUZZ_KEY_SRCS) \
		-Lbuild/deps/clang/lib -lbearssl
FUZZ_BUNDLE_SRCS := tests/fuzz/fuzz_bundle.c src/update/format.c \
	src/update/bootctl.c src/update/floor.c $(CRYPTO_SRCS) $(STORE_SRCS) \
	hal/sim/rng.c
$(UT_OUT)/fuzz_bundle: $(FUZZ_BUNDLE_SRCS) build/deps/clang/.stamp
	@mkdir -p $(dir $@)
	$(Q)clang $(HOST_CFLAGS) -isystem $(DEPS_SRC)/bearssl/inc \
		-Ibuild/deps/include -O1 -g -fsanitize=fuzzer,address,undefined \
		-o $@ $(FUZZ_BUNDLE_SRCS) -Lbuild/deps/clang/lib -lbearssl
# Seeds: the golden vectors, each behind its decoder's selector byte.
fuzz-bundle: $(UT_OUT)/fuzz_bundle
	$(Q)bash tests/fuzz/bundleseeds.sh build/fuzz/bundle-corpus && \
		$< -max_total_time=$(FUZZ_SECONDS) -max_len=70000 \
		build/fuzz/bundle-corpus
FUZZ_CHAIN_SRCS := tests/fuzz/fuzz_chain_import.c $(CHAIN_SRCS) \
	$(CRYPTO_SRCS) $(STORE_SRCS) hal/sim/flash_sim.c hal/sim/clock.c \
	hal/sim/rng.c
$(UT_OUT)/fuzz_chain_import: $(FUZZ_CHAIN_SRCS) build/deps/clang/.stamp
	@mkdir -p $(dir $@)
	$(Q)clang $(HOST_CFLAGS) $(INCLUDES) $(DEFINES) -O1 -g \
		-fsanitize=fuzzer,address,undefined -o $@ $(FUZZ_CHAIN_SRCS) \
		-Lbuild/deps/clang/lib -lmbedtls -lbearssl -lb2
# Seeds: a short valid testnet chain and a broken one (keel-chaingen).
fuzz-chain: $(UT_OUT)/fuzz_chain_import build/tools/keel-chaingen
	$(Q)mkdir -p build/fuzz/chain-corpus && \
		build/tools/keel-chaingen -n 40 --pseudo-every 5 \
		-o build/fuzz/chain-corpus/valid >/dev/null && \
		$< -max_total_time=$(FUZZ_SECONDS) -max_len=16000 \
		build/fuzz/chain-corpus
# Mount a damaged store + chain log and use the chain found there;
# seeded with a real chain stored as the node stores it (mkseed_chain).
FUZZ_CHAIN_MOUNT_SRCS := tests/fuzz/fuzz_chain_mount.c $(CHAIN_SRCS) \
	$(CRYPTO_SRCS) $(STORE_SRCS) hal/sim/flash_sim.c hal/sim/clock.c \
	hal/sim/rng.c
$(UT_OUT)/fuzz_chain_mount: $(FUZZ_CHAIN_MOUNT_SRCS) \
		tests/fuzz/fuzz_chain_mount.h build/deps/clang/.stamp
	@mkdir -p $(dir $@)
	$(Q)clang $(HOST_CFLAGS) $(INCLUDES) $(DEFINES) -O1 -g \
		-fsanitize=fuzzer,address,undefined -o $@ $(FUZZ_CHAIN_MOUNT_SRCS) \
		-Lbuild/deps/clang/lib -lmbedtls -lbearssl -lb2
MKSEED_CHAIN_SRCS := tests/fuzz/mkseed_chain.c src/chain/gen.c \
	$(CHAIN_SRCS) $(CRYPTO_SRCS) $(STORE_SRCS) hal/sim/flash_sim.c \
	hal/sim/clock.c hal/sim/rng.c
$(UT_OUT)/mkseed_chain: $(MKSEED_CHAIN_SRCS) tests/fuzz/fuzz_chain_mount.h \
		build/deps/host/.stamp
	@mkdir -p $(dir $@)
	$(Q)gcc -std=c11 $(WARN) $(INCLUDES) $(DEFINES) -O1 -o $@ \
		$(MKSEED_CHAIN_SRCS) -Lbuild/deps/host/lib -lmbedtls -lbearssl -lb2
build/fuzz/chain-mount-corpus/seed: $(UT_OUT)/mkseed_chain
	@mkdir -p $(dir $@)
	$(Q)$< $@
fuzz-chain-mount: $(UT_OUT)/fuzz_chain_mount \
		build/fuzz/chain-mount-corpus/seed
	$(Q)$< -max_total_time=$(FUZZ_SECONDS) -max_len=147456 \
		build/fuzz/chain-mount-corpus
fuzz-keys: $(UT_OUT)/fuzz_keyparse
	$(Q)mkdir -p build/fuzz/key-corpus && \
		bash tests/fuzz/keyseeds.sh build/fuzz/key-corpus && \
		$< -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		build/fuzz/key-corpus

BENCH_SRCS := tests/bench/store_bench.c $(STORE_SRCS) hal/sim/flash_sim.c \
	hal/sim/clock.c
$(UT_OUT)/bench_store: $(BENCH_SRCS)
	@mkdir -p $(dir $@)
	$(Q)gcc $(HOST_CFLAGS) -O2 -o $@ $(BENCH_SRCS)
# The crypto bench is built as the firmware is: musl, -Os, the same
# BearSSL build, for the host's arch.
BENCH_CRYPTO_SRCS := tests/bench/crypto_bench.c $(CRYPTO_SRCS) \
	hal/sim/clock.c hal/sim/rng.c
build/bench/crypto_bench: $(BENCH_CRYPTO_SRCS) build/deps/$(ARCH)/.stamp
	@mkdir -p $(dir $@)
	$(Q)$(CC_$(ARCH)) $(CFLAGS_COMMON) -Os -isystem build/kheaders/$(ARCH) \
		-static -o $@ $(BENCH_CRYPTO_SRCS) -Lbuild/deps/$(ARCH)/lib \
		-lbearssl
BENCH_UPDATE_SRCS := tests/bench/update_bench.c $(UPDATE_SRCS) \
	$(CRYPTO_SRCS) $(STORE_SRCS) hal/sim/flash_sim.c hal/sim/clock.c \
	hal/sim/rng.c
build/bench/update_bench: $(BENCH_UPDATE_SRCS) build/deps/$(ARCH)/.stamp
	@mkdir -p $(dir $@)
	$(Q)$(CC_$(ARCH)) $(CFLAGS_COMMON) -Os -isystem build/kheaders/$(ARCH) \
		-static -o $@ $(BENCH_UPDATE_SRCS) -Lbuild/deps/$(ARCH)/lib \
		-lbearssl
BENCH_CHAIN_SRCS := tests/bench/chain_bench.c $(CHAIN_SRCS) src/chain/gen.c \
	$(CRYPTO_SRCS) $(STORE_SRCS) hal/sim/flash_sim.c hal/sim/clock.c \
	hal/sim/rng.c
build/bench/chain_bench: $(BENCH_CHAIN_SRCS) build/deps/$(ARCH)/.stamp
	@mkdir -p $(dir $@)
	$(Q)$(CC_$(ARCH)) $(CFLAGS_COMMON) -Os -isystem build/kheaders/$(ARCH) \
		-static -o $@ $(BENCH_CHAIN_SRCS) -Lbuild/deps/$(ARCH)/lib \
		-lmbedtls -lbearssl -lb2
bench: $(UT_OUT)/bench_store build/bench/crypto_bench build/bench/update_bench \
		build/bench/chain_bench
	$(Q)$(UT_OUT)/bench_store
	$(Q)bash tests/bench/crypto.sh build/bench/crypto_bench
	$(Q)bash tests/bench/update.sh build/bench/update_bench
	$(Q)build/bench/chain_bench

# ---- host tools, the slot image and bundles -------------------------------

# keel-bundle's table of boards (src/tools/boards.c): every
# board/<name>/board.h, each followed by src/tools/board_row.h.  The list
# is rewritten only when the set of boards changes.
TOOL_BOARD_HS := $(sort $(wildcard board/*/board.h))
build/gen/tool_boards.inc: FORCE
	@mkdir -p $(dir $@)
	@printf '#include "../../%s"\n#include "tools/board_row.h"\n' \
		$(TOOL_BOARD_HS) > $@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

TOOL_SRCS := src/tools/keel-bundle.c src/tools/boards.c src/update/format.c \
	src/update/archive.c $(CRYPTO_SRCS) src/store/crc32c.c hal/sim/rng.c
build/tools/keel-bundle: $(TOOL_SRCS) build/gen/tool_boards.inc \
		$(TOOL_BOARD_HS) src/tools/boards.h src/tools/board_row.h \
		src/update/format.h build/deps/host/.stamp
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD [host] $@")
	$(Q)gcc -std=c11 $(WARN) $(INCLUDES) -D_GNU_SOURCE -O2 -o $@ \
		$(TOOL_SRCS) -Lbuild/deps/host/lib -lbearssl

# A host test tool: drives keel on a pseudo-terminal (tests/tools/).
build/tools/ptyexpect: tests/tools/ptyexpect.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD [host] $@")
	$(Q)gcc -std=c11 $(WARN) -O2 -o $@ $<

# A host test tool: the damage campaign's points, flips and restores
# (tests/damage/).
DAMAGE_POINTS_SRCS := tests/damage/points.c $(STORE_SRCS) \
	hal/sim/flash_sim.c hal/sim/clock.c
build/tools/damage-points: $(DAMAGE_POINTS_SRCS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD [host] $@")
	$(Q)gcc $(HOST_CFLAGS) -O2 -o $@ $(DAMAGE_POINTS_SRCS)

CHAINGEN_SRCS := src/tools/keel-chaingen.c src/chain/gen.c $(CHAIN_SRCS) \
	$(CRYPTO_SRCS) $(STORE_SRCS) hal/sim/rng.c hal/sim/clock.c
build/tools/keel-chaingen: $(CHAINGEN_SRCS) build/deps/host/.stamp
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD [host] $@")
	$(Q)gcc -std=c11 $(WARN) $(INCLUDES) $(DEFINES) -O2 -o $@ \
		$(CHAINGEN_SRCS) -Lbuild/deps/host/lib -lmbedtls -lbearssl -lb2

# Development release keys (2 of 3), made once under build/keys/: for the
# sim board and tests only.  Real releases pass KEYRING= and KEY=.
DEV_KEYS := build/keys/dev-1.pem build/keys/dev-2.pem build/keys/dev-3.pem
build/keys/dev-%.pem:
	@mkdir -p $(dir $@)
	$(Q)openssl ecparam -name prime256v1 -genkey -noout -out $@ 2>/dev/null
build/keys/keyring: $(DEV_KEYS) build/tools/keel-bundle
	$(Q)build/tools/keel-bundle keyring create --threshold 2 -o $@ \
		$(DEV_KEYS) >/dev/null

KEYRING ?= build/keys/keyring
KEY ?= build/keys/dev-1.pem,build/keys/dev-2.pem
IMAGE_VERSION ?= $(KEEL_VERSION)
IMAGE_COUNTER ?= 1
ROOTFS_FILES := $(filter-out rootfs/README.md,$(shell find rootfs -type f \
	2>/dev/null))

# The slot image: keel, the release keyring and rootfs/, as a KAR1
# archive; $(OUT)/rootfs holds the same files for running keel directly.
image: $(OUT)/image.kar
$(OUT)/image.kar: $(OUT)/keel $(KEYRING) build/tools/keel-bundle \
		$(ROOTFS_FILES)
	$(Q)rm -rf $(OUT)/rootfs && mkdir -p $(OUT)/rootfs/etc/keel && \
		cp $(KEYRING) $(OUT)/rootfs/etc/keel/keyring
	$(Q)build/tools/keel-bundle archive $@ bin/keel=$(OUT)/keel \
		etc/keel/keyring=$(KEYRING) \
		$(foreach f,$(ROOTFS_FILES),$(patsubst rootfs/%,%,$(f))=$(f))
# A signed bundle of the image: KEY is a comma-separated list of keys.
bundle: $(OUT)/image.kar build/tools/keel-bundle
	$(Q)build/tools/keel-bundle create --payload $(OUT)/image.kar \
		--board $(BOARD) --version $(IMAGE_VERSION) \
		--counter $(IMAGE_COUNTER) -o $(OUT)/bundle.kbn
	$(Q)for k in $(subst $(comma), ,$(KEY)); do \
		build/tools/keel-bundle sign $(OUT)/bundle.kbn --key $$k || \
		exit 1; done
comma := ,

# SIGKILL keel 1,000 times during identity creation and 1,000 during
# rotation (make test runs 40 of each).
SOAK_COUNT ?= 1000
soak-identity: $(OUT)/keel
	$(Q)bash tests/soak/identity_kill.sh create $(SOAK_COUNT) $(OUT)/keel
	$(Q)bash tests/soak/identity_kill.sh rotate $(SOAK_COUNT) $(OUT)/keel

# The damage campaign (tests/damage/campaign.sh, docs/STORE.md): one
# flipped byte at a time in a populated image, queried by keel and
# keel-boot.  DAMAGE_POINTS random points per partition (300),
# DAMAGE_JOBS in parallel (2); make test runs a fixed sample.
damage: all build/tools/damage-points
	$(Q)bash tests/damage/campaign.sh

test: unit cross $(UT_OUT)/powercut-san $(UT_OUT)/fuzz_store_mount \
		build/fuzz/store-corpus/seed $(UT_OUT)/fuzz_keyparse \
		$(UT_OUT)/fuzz_bundle build/tools/keel-bundle \
		$(UT_OUT)/fuzz_chain_import build/tools/keel-chaingen \
		build/tools/ptyexpect build/tools/damage-points \
		$(UT_OUT)/fuzz_chain_mount build/fuzz/chain-mount-corpus/seed
	$(Q)UNIT_TESTS="$(UNIT_TESTS)" BOARD=$(BOARD) \
		ARCHES="$(BOARD_ARCHES)" POWERCUT_SAMPLE=$(POWERCUT_SAMPLE) \
		bash tests/run.sh

# ---- size, format, clean -------------------------------------------------

size: cross
	$(Q)bash scripts/size.sh $(foreach a,$(BOARD_ARCHES),\
		build/$(BOARD)-$(a)/keel build/$(BOARD)-$(a)/keel-boot)

FORMAT_FILES = $(shell git ls-files --cached --others --exclude-standard \
	'*.c' '*.h' 2>/dev/null)

format:
	$(Q)clang-format -i $(FORMAT_FILES)

check-format:
	$(Q)clang-format --dry-run --Werror $(FORMAT_FILES) && \
		echo "check-format: $(words $(FORMAT_FILES)) files ok"

clean:
	rm -rf build
