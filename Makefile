# keel - one entry point.  See README.md.
#
#   make              keel for the sim board, host architecture
#   make run          set up what is missing, build, start keel
#   make test         the test suite (unit tests under ASan/UBSan, static
#                     and cross checks, format check, the QEMU boards'
#                     quick system tests)
#   make test-system  the QEMU boards from their serial console, in full
#   make image BOARD=qemu-x86_64 (or qemu-aarch64): the flash image,
#                     kernel and initramfs; make run BOARD=... boots it
#   make cross        the sim board for aarch64 and armhf too
#   make size         text/data/bss and stripped size of shipped binaries
#   make bench        benchmarks; make bench-rauc: keel's install beside
#                     RAUC's (root; not part of make test)
#   make format       reformat the sources; make check-format checks only
#   make clean        remove build/
#
# Variables: BOARD (sim), ARCH (x86_64, aarch64, armhf; default: this
# machine's), V=1 for full command lines.

KEEL_VERSION := 0.1.0
BOARD ?= sim
HOST_ARCH := $(shell uname -m | sed -e 's/^arm64$$/aarch64/' \
	-e 's/^armv7.*/armhf/')

include board/$(BOARD)/board.mk

# The host's architecture when the board has it, else the board's first
# (qemu-aarch64 on an x86_64 machine builds for aarch64).
ARCH ?= $(if $(filter $(HOST_ARCH),$(BOARD_ARCHES)),$(HOST_ARCH),$(firstword \
	$(BOARD_ARCHES)))

ifeq ($(filter $(ARCH),$(BOARD_ARCHES)),)
$(error ARCH=$(ARCH) is not one of $(BOARD_ARCHES) for board $(BOARD))
endif

.DEFAULT_GOAL := all
Q := $(if $(V),,@)
BUILD_ID := $(shell git describe --always --dirty --abbrev=12 2>/dev/null \
	|| echo unknown)

# ---- sources --------------------------------------------------------------

# src/lib/: the leaf codecs (little-endian, CRC-32C, hex, failure text);
# crc32c and why go with the store, hex with crypto, so no program links
# one twice.
STORE_SRCS := src/store/store.c src/store/clog.c src/store/ctl.c \
	src/store/logring.c src/lib/crc32c.c src/lib/why.c src/lib/klog.c
# What keel-boot needs of the update code: formats, boot control, the
# trust floor, a slot's checks; the installer (update.c) is the node's.
UPDATE_CORE_SRCS := src/update/format.c src/update/bootctl.c \
	src/update/floor.c src/update/slot.c src/update/audit.c
UPDATE_SRCS := $(UPDATE_CORE_SRCS) src/update/update.c src/update/quarantine.c \
	src/update/p2pwire.c
# The hardware SHA-256 path is one file per architecture (crypto/arch/):
# host-built programs (unit tests, fuzzers) take the host's, and
# $(call for_arch,ARCH,SRCS) swaps in another's.
CRYPTO_SRCS := src/lib/hex.c src/crypto/sha256.c src/crypto/sha256_k.c \
	src/crypto/arch/sha256_hw_$(HOST_ARCH).c src/crypto/ec.c \
	src/crypto/keyfmt.c
# What the code above needs from the HAL in host programs (unit tests,
# fuzzers, benchmarks, tools): entropy and start-up parameters.
HOST_HAL := hal/posix/rng.c hal/posix/param.c
HASH_SRCS := src/crypto/keccak.c src/crypto/md2.c src/crypto/hashes.c
CHAIN_SRCS := src/chain/trailer.c src/chain/trigg.c src/chain/peach.c \
	src/chain/chain.c $(HASH_SRCS)
# Peach's proof of work is the node's hottest code (chain verify and sync
# check one per standard block): it is built -O2 where everything else is
# -Os.  At -Os gcc turns dflops' branch-free selection back into a branch
# on the operation, builds the four results through integer registers and
# keeps Keccak's lanes in memory; -O2 takes a check from about 590 to
# 480 us here for 1.4 KiB more text (docs/BENCH.md).
POW_SRCS := src/chain/peach.c src/crypto/md2.c src/crypto/keccak.c
pow_opt = $(if $(filter $(POW_SRCS),$(1)),-O2)
# keel-boot: stage 1.  It links BearSSL only (through src/crypto/).
BOOT_SRCS := src/boot/main.c src/boot/choose.c src/update/archive.c \
	$(UPDATE_CORE_SRCS) $(CRYPTO_SRCS) $(STORE_SRCS) $(HAL_SRCS)
# Peer links: the netif glue, links, certificate and gate, records.
NET_SRCS := src/net/netif.c src/net/peer.c src/net/cert.c src/net/trust.c \
	src/net/frame.c
NODE_SRCS := src/node/main.c src/node/bringup.c src/node/jobs.c \
	src/node/health.c src/node/cmds.c src/node/files.c \
	src/console/line.c src/console/cmd.c src/console/unlock.c \
	src/console/ymodem.c src/lib/crc16.c src/console/progress.c \
	src/node/cmds_xfer.c \
	src/node/cmds_op.c src/node/log.c src/node/metrics.c \
	src/node/http.c $(CRYPTO_SRCS) \
	$(STORE_SRCS) src/node/cmds_store.c \
	src/identity/identity.c src/node/cmds_id.c \
	$(UPDATE_SRCS) src/node/cmds_update.c src/node/p2p.c \
	$(CHAIN_SRCS) src/node/cmds_chain.c \
	src/net/lwip_port.c src/net/tls.c $(NET_SRCS) src/node/cmds_net.c \
	src/sync/mpkt.c src/sync/proof.c src/sync/book.c src/sync/sync.c \
	src/node/cmds_sync.c \
	$(HAL_SRCS)

DEPS_SRC := build/src
# lwIP's and mbedTLS's option headers: they shape structs keel's own
# objects use, yet -MMD does not list them (they are reached through
# -isystem headers), so every object depends on them explicitly.
PORT_HS := $(wildcard src/net/port/*.h src/net/port/arch/*.h)
DEPS_INPUTS := scripts/deps.sh scripts/deps.sha256 $(PORT_HS)

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

for_arch = $(subst sha256_hw_$(HOST_ARCH).c,sha256_hw_$(1).c,$(2))

# $(call node_rules,ARCH) defines build/$(BOARD)-ARCH/keel.
define node_rules
OUT_$(1) := build/$(BOARD)-$(1)
OBJS_$(1) := $$(patsubst %.c,$$(OUT_$(1))/obj/%.o,$$(call for_arch,$(1),$(NODE_SRCS)))
DEPLIBS_$(1) := build/deps/$(1)/.stamp

$$(DEPLIBS_$(1)): $(DEPS_INPUTS)
	$(Q)bash scripts/deps.sh $(1)
	$(Q)touch $$@

$$(OUT_$(1))/obj/%.o: %.c $(PORT_HS) | $$(DEPLIBS_$(1)) build/gen/build_id.h
	@mkdir -p $$(dir $$@)
	@$(if $(Q),echo "  CC [$(1)] $$<")
	$(Q)$(CC_$(1)) $(CFLAGS_COMMON) -Os -g -ffunction-sections \
		-fdata-sections -isystem build/kheaders/$(1) \
		$$(call pow_opt,$$<) -c $$< -o $$@

$$(OUT_$(1))/keel: $$(OBJS_$(1)) $$(DEPLIBS_$(1))
	@$(if $(Q),echo "  LD [$(1)] $$@")
	$(Q)$(CC_$(1)) -static -Wl,--gc-sections -o $$@ $$(OBJS_$(1)) \
		-Lbuild/deps/$(1)/lib -llwip -lmbedtls -lbearssl -lb2

BOOT_OBJS_$(1) := $$(patsubst %.c,$$(OUT_$(1))/obj/%.o,$$(call for_arch,$(1),$(BOOT_SRCS)))
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
	powercut fuzz-store fuzz-keys fuzz-bundle fuzz-chain fuzz-chain-mount \
	fuzz-identity fuzz-kar fuzz-net fuzz-peer-records fuzz-logring \
	fuzz-ymodem bench bench-rauc soak-identity image bundle damage \
	run-board system-stubs system-images test-system \
	test-system-powercut bench-boot

all: $(OUT)/keel $(OUT)/keel-boot build/tools/keel-bundle \
	build/tools/keel-chaingen build/tools/keel-wire

cross: $(foreach a,$(BOARD_ARCHES),build/$(BOARD)-$(a)/keel \
	build/$(BOARD)-$(a)/keel-boot)

setup:
	$(Q)bash scripts/setup.sh

run: setup
ifneq ($(KERNEL_PKG),)
	$(Q)$(MAKE) --no-print-directory run-board
else
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(OUT)/keel --flash $(OUT)/flash.img
endif

# ---- unit tests: host gcc with ASan and UBSan --------------------------------

SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
UT_CFLAGS := $(CFLAGS_COMMON) -Itests/unit -O1 -g $(SAN)
UT_OUT := build/test

# Each unit test: its program and the sources it links.
UNIT_TESTS := flash_sim console store blk crypto identity update chain \
	formats boot file frame trust simwire gate unlock ymodem mpkt book
UT_SRCS_flash_sim := tests/unit/test_flash_sim.c hal/sim/flash_sim.c
UT_SRCS_file := tests/unit/test_file.c hal/posix/file.c hal/posix/io.c
UT_SRCS_crypto := tests/unit/test_crypto.c $(CRYPTO_SRCS) $(HOST_HAL)
UT_SRCS_identity := tests/unit/test_identity.c src/identity/identity.c \
	$(CRYPTO_SRCS) \
	$(STORE_SRCS) hal/sim/flash_sim.c $(HOST_HAL)
UT_SRCS_update := tests/unit/test_update.c $(UPDATE_SRCS) src/boot/choose.c \
	$(CRYPTO_SRCS) $(STORE_SRCS) hal/sim/flash_sim.c $(HOST_HAL) \
	hal/posix/clock.c
UT_SRCS_boot := tests/unit/test_boot.c src/update/archive.c hal/linux/os.c \
	hal/posix/io.c
UT_SRCS_chain := tests/unit/test_chain.c tests/unit/peach_ref.c \
	$(CHAIN_SRCS) $(CRYPTO_SRCS) \
	src/chain/gen.c $(STORE_SRCS) hal/sim/flash_sim.c $(HOST_HAL) \
	hal/posix/clock.c
UT_SRCS_blk := tests/unit/test_blk.c hal/linux/blk.c $(STORE_SRCS) \
	hal/posix/clock.c
UT_SRCS_store := tests/unit/test_store.c $(STORE_SRCS) hal/sim/flash_sim.c \
	hal/posix/clock.c
UT_SRCS_formats := tests/unit/test_formats.c $(STORE_SRCS) $(CHAIN_SRCS) \
	src/chain/gen.c src/identity/identity.c $(UPDATE_CORE_SRCS) \
	src/update/quarantine.c src/update/p2pwire.c src/sync/book.c \
	src/sync/mpkt.c src/lib/crc16.c src/net/frame.c \
	$(CRYPTO_SRCS) hal/sim/flash_sim.c $(HOST_HAL) hal/posix/clock.c
UT_SRCS_frame := tests/unit/test_frame.c src/net/frame.c
UT_SRCS_unlock := tests/unit/test_unlock.c src/console/unlock.c \
	$(CRYPTO_SRCS) $(STORE_SRCS) hal/sim/flash_sim.c $(HOST_HAL)
UT_SRCS_trust := tests/unit/test_trust.c src/net/trust.c src/lib/crc32c.c
# The gate links the TLS side whole (cert.c and what lwIP's binding asks
# of its platform); the test brings its own wall clock.
UT_SRCS_gate := tests/unit/test_gate.c src/net/cert.c src/net/trust.c \
	src/net/lwip_port.c src/net/tls.c src/identity/identity.c \
	$(CRYPTO_SRCS) $(STORE_SRCS) hal/sim/flash_sim.c $(HOST_HAL) \
	hal/posix/file.c hal/posix/io.c
# simwire starts build/tools/keel-wire (KEEL_WIRE=) and attaches ports.
NET_HAL := hal/sim/net.c hal/linux/net_simwire.c hal/linux/net_packet.c \
	hal/posix/poll.c
UT_SRCS_simwire := tests/unit/test_simwire.c $(NET_HAL)
# Not in UNIT_TESTS: it needs a network namespace with a veth pair,
# which tests/net_packet.sh makes around it.
UT_SRCS_packet := tests/unit/test_packet.c $(NET_HAL)
UT_SRCS_mpkt := tests/unit/test_mpkt.c src/sync/mpkt.c src/lib/crc16.c
UT_SRCS_book := tests/unit/test_book.c src/sync/book.c
UT_SRCS_ymodem := tests/unit/test_ymodem.c src/console/ymodem.c \
	src/lib/why.c src/lib/crc16.c
UT_SRCS_console := tests/unit/test_console.c src/console/line.c src/lib/hex.c \
	src/console/cmd.c

build/deps/host/.stamp: $(DEPS_INPUTS)
	$(Q)bash scripts/deps.sh host
	$(Q)touch $@

$(UT_OUT)/obj/%.o: %.c $(PORT_HS) | build/deps/host/.stamp build/gen/build_id.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC [host] $<")
	$(Q)gcc $(UT_CFLAGS) -c $< -o $@

define unit_rules
$(UT_OUT)/test_$(1): $$(patsubst %.c,$(UT_OUT)/obj/%.o,$$(UT_SRCS_$(1)))
	@$(if $(Q),echo "  LD [host] $$@")
	$(Q)gcc $(SAN) -o $$@ $$^ -Lbuild/deps/host/lib -llwip -lmbedtls \
		-lbearssl -lb2
endef
$(foreach t,$(UNIT_TESTS) packet,$(eval $(call unit_rules,$(t))))
-include $(shell find $(UT_OUT)/obj -name '*.d' 2>/dev/null)

unit: $(foreach t,$(UNIT_TESTS),$(UT_OUT)/test_$(t))

# ---- host programs: power cuts, fuzzers, benchmarks, tools ---------------
#
# Every program is linked from objects compiled with -MMD (editing a
# header rebuilds what includes it) and the one warning set, WARN, in
# CFLAGS_COMMON.  A flavour names the compiler, its flags, where its
# objects go and the dependency build it links:
#   host   gcc -O2: tools, the exhaustive power cut, seeds, bench_store
#   san    the unit tests' objects (ASan/UBSan): powercut-san
#   fuzz   clang with libFuzzer, ASan and UBSan: fuzz_*
#   bench  the firmware's compiler (musl, -Os, static) for ARCH
HOST_CFLAGS := $(CFLAGS_COMMON) -Itests/unit

CC_host := gcc
CFLAGS_host := $(HOST_CFLAGS) -O2
OBJ_host := build/obj/host
LIB_host := build/deps/host
CC_san := gcc
LDFLAGS_san := $(SAN)
OBJ_san := $(UT_OUT)/obj
LIB_san := build/deps/host
CC_fuzz := clang
CFLAGS_fuzz := $(HOST_CFLAGS) -O1 -g \
	-fsanitize=fuzzer-no-link,address,undefined
LDFLAGS_fuzz := -fsanitize=fuzzer,address,undefined
OBJ_fuzz := build/obj/fuzz
LIB_fuzz := build/deps/clang
CC_bench = $(CC_$(ARCH))
CFLAGS_bench := $(HOST_CFLAGS) -Os -isystem build/kheaders/$(ARCH)
LDFLAGS_bench := -static
OBJ_bench := build/obj/bench-$(ARCH)
LIB_bench := build/deps/$(ARCH)

# The fuzzers link an instrumented BearSSL (and mbedTLS, libb2), so
# coverage reaches into their decoders.
build/deps/clang/.stamp: $(DEPS_INPUTS)
	$(Q)bash scripts/deps.sh clang

# $(call flavour_rules,FLAVOUR): how its objects are compiled.
define flavour_rules
$$(OBJ_$(1))/%.o: %.c $(PORT_HS) | $$(LIB_$(1))/.stamp build/gen/build_id.h
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  CC [$(1)] $$<")
	$$(Q)$$(CC_$(1)) $$(CFLAGS_$(1)) $$(if $$(filter bench,$(1)),$$(call \
		pow_opt,$$<)) -c $$< -o $$@
endef
$(foreach f,host fuzz bench,$(eval $(call flavour_rules,$(f))))

# $(call program,OUT,FLAVOUR,SRCS,LIBS): OUT linked from SRCS' objects.
define program
$(1): $$(patsubst %.c,$$(OBJ_$(2))/%.o,$(3)) | $$(LIB_$(2))/.stamp
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LD [$(2)] $$@")
	$$(Q)$$(CC_$(2)) $$(LDFLAGS_$(2)) -o $$@ $$(filter %.o,$$^) \
		-L$$(LIB_$(2))/lib $(4)
-include $$(patsubst %.c,$$(OBJ_$(2))/%.d,$(3))
endef

# $(call fuzz_run,NAME,PROGRAM,MAX_LEN,SEED COMMAND): make fuzz-NAME runs
# PROGRAM for FUZZ_SECONDS on build/fuzz/NAME-corpus, after the command
# has seeded that directory.
FUZZ_SECONDS ?= 60
define fuzz_run
fuzz-$(1): $(2)
	$$(Q)mkdir -p build/fuzz/$(1)-corpus && $(4) && \
		$(2) -max_total_time=$$(FUZZ_SECONDS) -max_len=$(3) \
		build/fuzz/$(1)-corpus
endef

# The chain workloads (a sync's appends and reorg) link the chain; the
# fetch workloads (an update from peers, in any order) the installer.
PC_SRCS := tests/powercut/powercut.c $(STORE_SRCS) hal/sim/flash_sim.c \
	hal/posix/clock.c $(CHAIN_SRCS) src/chain/gen.c $(CRYPTO_SRCS) \
	$(UPDATE_CORE_SRCS) src/update/update.c src/update/quarantine.c \
	$(HOST_HAL)
# Optimised for the exhaustive run; the sampled run in make test uses
# the sanitized build.
$(eval $(call program,$(UT_OUT)/powercut,host,$(PC_SRCS),-lbearssl -lb2))
$(eval $(call program,$(UT_OUT)/powercut-san,san,$(PC_SRCS),-lbearssl -lb2))
# The log ring's own power-cut rig (every operation, each way it fails).
$(eval $(call program,$(UT_OUT)/logcut,san,tests/powercut/logcut.c \
	src/store/logring.c src/lib/crc32c.c hal/sim/flash_sim.c,))
POWERCUT_SAMPLE ?= 13
powercut: $(UT_OUT)/powercut
	$(Q)$(UT_OUT)/powercut --double 6 --double-every 11

FUZZ_STORE_SRCS := tests/fuzz/fuzz_store_mount.c $(STORE_SRCS) \
	hal/sim/flash_sim.c hal/posix/clock.c
FUZZ_KEY_SRCS := tests/fuzz/fuzz_keyparse.c $(CRYPTO_SRCS) $(HOST_HAL)
FUZZ_BUNDLE_SRCS := tests/fuzz/fuzz_bundle.c $(UPDATE_CORE_SRCS) \
	$(CRYPTO_SRCS) $(STORE_SRCS) hal/posix/clock.c $(HOST_HAL)
FUZZ_CHAIN_SRCS := tests/fuzz/fuzz_chain_import.c $(CHAIN_SRCS) \
	$(CRYPTO_SRCS) $(STORE_SRCS) hal/sim/flash_sim.c hal/posix/clock.c \
	$(HOST_HAL)
FUZZ_ID_SRCS := tests/fuzz/fuzz_identity.c src/identity/identity.c \
	$(CRYPTO_SRCS) $(STORE_SRCS) $(HOST_HAL) hal/posix/clock.c
FUZZ_KAR_SRCS := tests/fuzz/fuzz_kar.c src/update/archive.c
FUZZ_FRAME_SRCS := tests/fuzz/fuzz_frame.c src/net/frame.c
FUZZ_PEERREC_SRCS := tests/fuzz/fuzz_peer_records.c src/net/trust.c \
	src/console/unlock.c src/update/quarantine.c src/update/p2pwire.c $(CRYPTO_SRCS) $(STORE_SRCS) hal/posix/clock.c \
	$(HOST_HAL)
$(eval $(call program,$(UT_OUT)/fuzz_store_mount,fuzz,$(FUZZ_STORE_SRCS),))
$(eval $(call program,$(UT_OUT)/fuzz_keyparse,fuzz,$(FUZZ_KEY_SRCS),-lbearssl))
$(eval $(call program,$(UT_OUT)/fuzz_bundle,fuzz,$(FUZZ_BUNDLE_SRCS),-lbearssl))
$(eval $(call program,$(UT_OUT)/fuzz_chain_import,fuzz,$(FUZZ_CHAIN_SRCS),\
	-lbearssl -lb2))
$(eval $(call program,$(UT_OUT)/fuzz_identity,fuzz,$(FUZZ_ID_SRCS),-lbearssl))
$(eval $(call program,$(UT_OUT)/fuzz_kar,fuzz,$(FUZZ_KAR_SRCS),))
$(eval $(call program,$(UT_OUT)/fuzz_frame,fuzz,$(FUZZ_FRAME_SRCS),))
$(eval $(call program,$(UT_OUT)/fuzz_logring,fuzz,tests/fuzz/fuzz_logring.c \
	src/store/logring.c src/lib/crc32c.c hal/sim/flash_sim.c,))
$(eval $(call fuzz_run,logring,$(UT_OUT)/fuzz_logring,16384,true))
# Mochimo reply streams and proof segments (sync/mpkt.c, sync/proof.c);
# seeded with an honest peer's answer to a proof request (mkseed_sync).
FUZZ_SYNC_SRCS := src/sync/mpkt.c src/sync/proof.c src/lib/crc16.c \
	src/chain/trailer.c src/chain/trigg.c src/chain/peach.c $(HASH_SRCS) \
	$(CRYPTO_SRCS) $(HOST_HAL)
$(eval $(call program,$(UT_OUT)/fuzz_sync,fuzz,tests/fuzz/fuzz_sync.c \
	$(FUZZ_SYNC_SRCS),-lmbedtls -lbearssl -lb2))
$(eval $(call program,$(UT_OUT)/mkseed_sync,host,tests/fuzz/mkseed_sync.c \
	$(FUZZ_SYNC_SRCS),-lmbedtls -lbearssl -lb2))
$(eval $(call fuzz_run,sync,$(UT_OUT)/fuzz_sync,20000,\
	$(MAKE) --no-print-directory $(UT_OUT)/mkseed_sync \
	build/tools/keel-chaingen && \
	build/tools/keel-chaingen -n 120 -d 1 -o build/fuzz/sync.tf >/dev/null && \
	$(UT_OUT)/mkseed_sync build/fuzz/sync.tf build/fuzz/sync-corpus/seed))
$(eval $(call program,$(UT_OUT)/fuzz_peer_records,fuzz,$(FUZZ_PEERREC_SRCS),\
	-lbearssl))
# The peer table, the guard's memory, the seeds and peer lists
# (sync/book.c): what sync reads back from flash and from a peer.
$(eval $(call program,$(UT_OUT)/fuzz_sync_book,fuzz,\
	tests/fuzz/fuzz_sync_book.c src/sync/book.c,))
$(eval $(call fuzz_run,sync-book,$(UT_OUT)/fuzz_sync_book,4096,\
	bash tests/fuzz/bookseeds.sh build/fuzz/sync-book-corpus))
YMODEM_SRCS := src/console/ymodem.c src/lib/why.c src/lib/crc16.c
$(eval $(call program,$(UT_OUT)/fuzz_ymodem,fuzz,tests/fuzz/fuzz_ymodem.c \
	$(YMODEM_SRCS),))

# The store's seed: a real image made by mkseed.
MKSEED_SRCS := tests/fuzz/mkseed.c $(STORE_SRCS) hal/sim/flash_sim.c \
	hal/posix/clock.c
$(eval $(call program,$(UT_OUT)/mkseed,host,$(MKSEED_SRCS),))
build/fuzz/store-corpus/seed: $(UT_OUT)/mkseed
	@mkdir -p $(dir $@)
	$(Q)$< $@

$(eval $(call fuzz_run,store,$(UT_OUT)/fuzz_store_mount,131072,\
	$(MAKE) --no-print-directory build/fuzz/store-corpus/seed))
$(eval $(call fuzz_run,keys,$(UT_OUT)/fuzz_keyparse,4096,\
	bash tests/fuzz/keyseeds.sh build/fuzz/keys-corpus))
# Seeds: the golden vectors, each behind its decoder's selector byte.
$(eval $(call fuzz_run,bundle,$(UT_OUT)/fuzz_bundle,70000,\
	bash tests/fuzz/bundleseeds.sh build/fuzz/bundle-corpus))
# Seed: a short valid testnet chain (keel-chaingen).
$(eval $(call fuzz_run,chain,$(UT_OUT)/fuzz_chain_import,16000,\
	$(MAKE) --no-print-directory build/tools/keel-chaingen && \
	build/tools/keel-chaingen -n 40 --pseudo-every 5 \
	-o build/fuzz/chain-corpus/valid >/dev/null))
$(eval $(call fuzz_run,identity,$(UT_OUT)/fuzz_identity,1024,\
	cp tests/vectors/formats/identity-record.bin build/fuzz/identity-corpus/))
$(eval $(call fuzz_run,kar,$(UT_OUT)/fuzz_kar,4096,\
	cp tests/vectors/update/image.kar build/fuzz/kar-corpus/))
$(eval $(call fuzz_run,net,$(UT_OUT)/fuzz_frame,70000,\
	cp tests/vectors/formats/frame-ping.bin build/fuzz/net-corpus/))
# Seeds: the golden trust and dial lists behind their selector byte.
$(eval $(call fuzz_run,peer-records,$(UT_OUT)/fuzz_peer_records,4096,\
	bash tests/fuzz/peerseeds.sh build/fuzz/peer-records-corpus))
# Seeds: YMODEM sessions as lrzsz's sb sends them (mkseed_ymodem).
$(eval $(call program,$(UT_OUT)/mkseed_ymodem,host,\
	tests/fuzz/mkseed_ymodem.c $(YMODEM_SRCS),))
$(eval $(call fuzz_run,ymodem,$(UT_OUT)/fuzz_ymodem,8192,\
	$(MAKE) --no-print-directory $(UT_OUT)/mkseed_ymodem && \
	$(UT_OUT)/mkseed_ymodem build/fuzz/ymodem-corpus))

# The chain on a damaged store and chain log; seeded with a real chain
# stored as the node stores it (mkseed_chain).
FUZZ_CHAIN_MOUNT_SRCS := tests/fuzz/fuzz_chain_mount.c $(CHAIN_SRCS) \
	$(CRYPTO_SRCS) $(STORE_SRCS) hal/sim/flash_sim.c hal/posix/clock.c \
	$(HOST_HAL)
MKSEED_CHAIN_SRCS := tests/fuzz/mkseed_chain.c src/chain/gen.c \
	$(CHAIN_SRCS) $(CRYPTO_SRCS) $(STORE_SRCS) hal/sim/flash_sim.c \
	hal/posix/clock.c $(HOST_HAL)
$(eval $(call program,$(UT_OUT)/fuzz_chain_mount,fuzz,\
	$(FUZZ_CHAIN_MOUNT_SRCS),-lbearssl -lb2))
$(eval $(call program,$(UT_OUT)/mkseed_chain,host,$(MKSEED_CHAIN_SRCS),\
	-lbearssl -lb2))
build/fuzz/chain-mount-corpus/seed: $(UT_OUT)/mkseed_chain
	@mkdir -p $(dir $@)
	$(Q)$< $@ $(dir $@)seed-nand
$(eval $(call fuzz_run,chain-mount,$(UT_OUT)/fuzz_chain_mount,163841,\
	$(MAKE) --no-print-directory build/fuzz/chain-mount-corpus/seed))

BENCH_SRCS := tests/bench/store_bench.c $(STORE_SRCS) hal/sim/flash_sim.c \
	hal/posix/clock.c
# The other benches are built as the firmware is: musl, -Os, the same
# BearSSL build, for the host's arch.
BENCH_CRYPTO_SRCS := $(call for_arch,$(ARCH),tests/bench/crypto_bench.c \
	$(CRYPTO_SRCS) hal/posix/clock.c $(HOST_HAL))
BENCH_UPDATE_SRCS := $(call for_arch,$(ARCH),tests/bench/update_bench.c \
	$(UPDATE_SRCS) $(CRYPTO_SRCS) $(STORE_SRCS) hal/sim/flash_sim.c \
	hal/linux/blk.c hal/posix/clock.c $(HOST_HAL))
BENCH_CHAIN_SRCS := $(call for_arch,$(ARCH),tests/bench/chain_bench.c \
	$(CHAIN_SRCS) src/chain/gen.c $(CRYPTO_SRCS) $(STORE_SRCS) \
	hal/sim/flash_sim.c hal/posix/clock.c $(HOST_HAL))
$(eval $(call program,$(UT_OUT)/bench_store,host,$(BENCH_SRCS),))
$(eval $(call program,$(UT_OUT)/bench_log,host,tests/bench/log_bench.c \
	src/store/logring.c src/lib/crc32c.c hal/sim/flash_sim.c,))
$(eval $(call program,build/bench/crypto_bench,bench,$(BENCH_CRYPTO_SRCS),\
	-lbearssl))
$(eval $(call program,build/bench/update_bench,bench,$(BENCH_UPDATE_SRCS),\
	-lbearssl))
$(eval $(call program,build/bench/chain_bench,bench,$(BENCH_CHAIN_SRCS),\
	-lbearssl -lb2))
# The network figures run keel nodes on a simwire hub, and openssl on
# 127.0.0.1 beside them (tests/bench/net.sh).
bench: $(UT_OUT)/bench_store build/bench/crypto_bench build/bench/update_bench \
		build/bench/chain_bench all build/tools/conlat $(UT_OUT)/bench_log \
		build/tools/ptyexpect bundle build/tools/keel-chaingen
	$(Q)$(UT_OUT)/bench_store
	$(Q)$(UT_OUT)/bench_log build/bench-log.img; rm -f build/bench-log.img
	$(Q)bash tests/bench/ymodem.sh $(OUT)/keel build/tools/ptyexpect \
		$(OUT)/bundle.kbn $(OUT)/rootfs
	$(Q)bash tests/bench/crypto.sh build/bench/crypto_bench
	$(Q)bash tests/bench/update.sh build/bench/update_bench
	$(Q)bash tests/bench/update_blk.sh build/bench/update_bench
	$(Q)build/bench/chain_bench
	$(Q)bash tests/bench/net.sh $(OUT)/keel build/tools/keel-wire \
		build/tools/conlat
	$(Q)bash tests/bench/sync.sh $(OUT)/keel build/tools/keel-wire \
		build/tools/keel-chaingen
	$(Q)bash tests/bench/p2p.sh $(OUT)/keel build/tools/keel-wire \
		build/tools/keel-bundle

# keel's install into a file-backed blk flash beside RAUC's into a
# file-backed slot, in one run (tests/bench/rauc.sh); not part of make
# test: it needs root, and RAUC_BENCH installs Debian's rauc, dbus and
# squashfs-tools when they are missing.
RAUC_BENCH ?= ../shared/bench/rauc-install.sh
bench-rauc: build/bench/update_bench
	$(Q)bash tests/bench/rauc.sh build/bench/update_bench $(RAUC_BENCH)

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
$(OBJ_host)/src/tools/boards.o: build/gen/tool_boards.inc

TOOL_SRCS := src/tools/keel-bundle.c src/tools/boards.c src/update/format.c \
	src/update/slot.c src/update/archive.c $(CRYPTO_SRCS) \
	src/lib/crc32c.c $(HOST_HAL)
$(eval $(call program,build/tools/keel-bundle,host,$(TOOL_SRCS),-lbearssl))

# Flash images of the disk boards, and their initramfs (docs/BOARDS.md):
# made and inspected with the device's own update and storage code.
FLASH_TOOL_SRCS := src/tools/keel-flash.c src/tools/boards.c \
	$(UPDATE_SRCS) src/boot/choose.c src/update/archive.c \
	$(CRYPTO_SRCS) $(STORE_SRCS) hal/linux/blk.c hal/posix/clock.c \
	$(HOST_HAL)
$(eval $(call program,build/tools/keel-flash,host,$(FLASH_TOOL_SRCS),\
	-lbearssl))
$(OBJ_host)/src/tools/boards.o: build/gen/tool_boards.inc

# A host test tool: drives keel on a pseudo-terminal (tests/tools/).
$(eval $(call program,build/tools/ptyexpect,host,tests/tools/ptyexpect.c,))
# A host test tool: keel's YMODEM against lrzsz on a pseudo-terminal
# (tests/ymodem.sh).
$(eval $(call program,build/tools/ymodem_pty,host,tests/tools/ymodem_pty.c \
	$(YMODEM_SRCS),))

# A host bench tool: the console's response time, idle and under load
# (tests/bench/net.sh).
$(eval $(call program,build/tools/conlat,host,tests/tools/conlat.c,))

# A host test tool: the damage campaign's points, flips and restores
# (tests/damage/).
DAMAGE_POINTS_SRCS := tests/damage/points.c $(STORE_SRCS) \
	hal/sim/flash_sim.c hal/posix/clock.c
$(eval $(call program,build/tools/damage-points,host,$(DAMAGE_POINTS_SRCS),))

CHAINGEN_SRCS := src/tools/keel-chaingen.c src/chain/gen.c $(CHAIN_SRCS) \
	$(CRYPTO_SRCS) $(STORE_SRCS) $(HOST_HAL) hal/posix/clock.c
$(eval $(call program,build/tools/keel-chaingen,host,$(CHAINGEN_SRCS),\
	-lbearssl -lb2))

# simwire's hub: nodes' simwire ports meet on it (docs/NET.md).
$(eval $(call program,build/tools/keel-wire,host,src/tools/keel-wire.c,))

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
# A board with STRIP_<arch> (the QEMU boards) ships keel without its
# symbols; the sim board's image keeps them.
IMAGE_KEEL := $(if $(STRIP_$(ARCH)),$(OUT)/keel.stripped,$(OUT)/keel)
$(OUT)/keel.stripped: $(OUT)/keel
	$(Q)$(STRIP_$(ARCH)) -o $@ $<

image: $(OUT)/image.kar
$(OUT)/image.kar: $(IMAGE_KEEL) $(KEYRING) build/tools/keel-bundle \
		$(ROOTFS_FILES)
	$(Q)rm -rf $(OUT)/rootfs && mkdir -p $(OUT)/rootfs/etc/keel && \
		cp $(KEYRING) $(OUT)/rootfs/etc/keel/keyring
	$(Q)build/tools/keel-bundle archive $@ bin/keel=$(IMAGE_KEEL) \
		etc/keel/keyring=$(KEYRING) \
		$(foreach f,$(ROOTFS_FILES),$(patsubst rootfs/%,%,$(f))=$(f))
# A signed bundle of the image: KEY is a comma-separated list of keys.
bundle: $(OUT)/bundle.kbn
$(OUT)/bundle.kbn: $(OUT)/image.kar build/tools/keel-bundle
	$(Q)build/tools/keel-bundle create --payload $(OUT)/image.kar \
		--board $(BOARD) --version $(IMAGE_VERSION) \
		--counter $(IMAGE_COUNTER) -o $@
	$(Q)for k in $(subst $(comma), ,$(KEY)); do \
		build/tools/keel-bundle sign $@ --key $$k || \
		exit 1; done
comma := ,

# ---- the disk boards' image: kernel, initramfs, flash (docs/BOARDS.md) ---
#
# A board whose board.mk names KERNEL_PKG boots Debian's kernel
# (scripts/kernel.sh) with an initramfs holding keel-boot as /init and
# the driver modules; `make image` also writes build/BOARD/:
#   flash.img       the disk a user writes with dd: the layout, slot a
#                   holding the signed image and confirmed, the keyring,
#                   an empty store (keel-flash create)
#   initramfs.cpio  /init, /dev/console, the modules and their load order
#   vmlinux|Image   the kernel QEMU boots; kernel.txt names its package,
#                   version and SHA-256 (also /etc/keel/kernel inside)
# `make run` boots a copy, run.img, made again whenever flash.img is
# newer, on this terminal (scripts/qemu.sh; Ctrl-A X quits).
ifneq ($(KERNEL_PKG),)
IMG := build/$(BOARD)
KDIR := build/kernel/$(KERNEL_DEB_ARCH)
# The peer port forwarded from 127.0.0.1 by `make run` (0: none).
PORT ?= 7950
SERIAL ?= mux

$(KDIR)/kernel.txt: scripts/kernel.sh board/$(BOARD)/board.mk
	$(Q)bash scripts/kernel.sh $(KERNEL_DEB_ARCH) $(KERNEL_PKG) \
		$(KERNEL_BOOT) $(KDIR) $(KERNEL_MODULES)
$(IMG)/kernel.txt: $(KDIR)/kernel.txt
	@mkdir -p $(dir $@)
	$(Q)cp $(KDIR)/$(KERNEL_BOOT) $(IMG)/$(KERNEL_BOOT) && cp $< $@
$(IMG)/init: $(OUT)/keel-boot
	@mkdir -p $(dir $@)
	$(Q)$(STRIP_$(ARCH)) -o $@ $<
$(IMG)/initramfs.cpio: $(IMG)/init $(KDIR)/kernel.txt build/tools/keel-flash
	$(Q)build/tools/keel-flash initramfs -o $@ dir:/dev dir:/proc \
		dir:/sys dir:/run cdev:/dev/console=5:1 file:/init=$(IMG)/init \
		tree:/lib/modules=$(KDIR)/modules \
		file:/etc/keel/modules=$(KDIR)/modules.load \
		file:/etc/keel/kernel=$(KDIR)/kernel.txt
$(IMG)/flash.img: $(OUT)/bundle.kbn $(KEYRING) build/tools/keel-flash
	@mkdir -p $(dir $@)
	$(Q)build/tools/keel-flash create --board $(BOARD) \
		--bundle $(OUT)/bundle.kbn --keyring $(KEYRING) -o $@
$(IMG)/run.img: $(IMG)/flash.img
	$(Q)cp $< $@
image: $(IMG)/flash.img $(IMG)/initramfs.cpio $(IMG)/kernel.txt
	@echo "image: $(IMG)/flash.img, $(IMG)/initramfs.cpio," \
		"$(IMG)/$(KERNEL_BOOT); $$(cat $(IMG)/kernel.txt)"
# The system tests' failing nodes (tests/system/stub.c), for this board.
$(OUT)/stub-%: tests/system/stub.c
	$(Q)$(CC_$(ARCH)) -std=c11 -Wall -Werror -Os -static -s \
		-DSTUB_$(shell echo $* | tr a-z A-Z) -o $@ $<
system-stubs: $(OUT)/stub-crash $(OUT)/stub-hang
run-board: image $(IMG)/run.img
	$(Q)bash scripts/qemu.sh $(BOARD) --port $(PORT) --serial $(SERIAL)
endif

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

test: unit cross bundle $(UT_OUT)/powercut-san $(UT_OUT)/logcut $(UT_OUT)/fuzz_store_mount \
		build/fuzz/store-corpus/seed $(UT_OUT)/fuzz_keyparse \
		$(UT_OUT)/fuzz_bundle build/tools/keel-bundle \
		$(UT_OUT)/fuzz_chain_import build/tools/keel-chaingen \
		$(UT_OUT)/fuzz_identity $(UT_OUT)/fuzz_kar $(UT_OUT)/fuzz_frame \
		$(UT_OUT)/fuzz_peer_records $(UT_OUT)/fuzz_logring \
		$(UT_OUT)/fuzz_ymodem $(UT_OUT)/mkseed_ymodem \
		$(UT_OUT)/fuzz_sync $(UT_OUT)/mkseed_sync $(UT_OUT)/fuzz_sync_book \
		build/tools/ptyexpect build/tools/ymodem_pty \
		build/tools/damage-points $(UT_OUT)/fuzz_chain_mount \
		build/fuzz/chain-mount-corpus/seed build/tools/keel-wire \
		$(UT_OUT)/test_packet build/tools/keel-flash
	$(Q)$(MAKE) --no-print-directory system-images
	$(Q)UNIT_TESTS="$(UNIT_TESTS)" BOARD=$(BOARD) \
		ARCHES="$(BOARD_ARCHES)" POWERCUT_SAMPLE=$(POWERCUT_SAMPLE) \
		bash tests/run.sh

# ---- system tests: the QEMU boards from their serial console ------------
#
# tests/system/run.sh boots each board's flash.img in QEMU and drives it
# over its serial line (tests/system/lib.sh): boot and first commands,
# an update by YMODEM with reboot, trial and confirm, a crashing node
# rolled back, the watchdog, mutual TLS through the port forwarded from
# 127.0.0.1, power cuts during an install and a chain import
# (POWERCUT_RUNS, 5 of each a board;
# make test-system-powercut: 20).  make test runs a quick set.  The
# boards' images are made one board after the other, after everything
# else: a board's make must not build host tools beside another's.
SYSTEM_BOARDS := qemu-x86_64 qemu-aarch64
system-images:
	$(Q)for b in $(SYSTEM_BOARDS); do \
		$(MAKE) --no-print-directory BOARD=$$b image system-stubs \
			>/dev/null || exit 1; done
test-system: build/tools/ptyexpect build/tools/keel-bundle \
		build/tools/keel-flash build/tools/keel-chaingen
	$(Q)$(MAKE) --no-print-directory system-images
	$(Q)BOARDS="$(SYSTEM_BOARDS)" bash tests/system/run.sh
# Boot times under TCG and the memory floor (tests/bench/boot.sh; the
# 64 MiB install at the floor takes about 15 minutes).
bench-boot: build/tools/ptyexpect build/tools/keel-bundle \
		build/tools/keel-flash
	$(Q)$(MAKE) --no-print-directory system-images
	$(Q)bash tests/bench/boot.sh $(SYSTEM_BOARDS)
test-system-powercut: build/tools/ptyexpect build/tools/keel-bundle \
		build/tools/keel-flash build/tools/keel-chaingen
	$(Q)$(MAKE) --no-print-directory system-images
	$(Q)BOARDS="$(SYSTEM_BOARDS)" TESTS="update powercut chaincut" \
		POWERCUT_RUNS=$${POWERCUT_RUNS:-20} bash tests/system/run.sh

# ---- size, format, clean -------------------------------------------------

size: cross $(if $(KERNEL_PKG),image)
	$(Q)bash scripts/size.sh $(foreach a,$(BOARD_ARCHES),\
		build/$(BOARD)-$(a)/keel build/$(BOARD)-$(a)/keel-boot)
ifneq ($(KERNEL_PKG),)
	$(Q)bash scripts/size.sh --files $(OUT)/image.kar $(OUT)/bundle.kbn \
		$(IMG)/init $(IMG)/initramfs.cpio $(IMG)/$(KERNEL_BOOT)
endif

FORMAT_FILES = $(shell git ls-files --cached --others --exclude-standard \
	'*.c' '*.h' 2>/dev/null)

format:
	$(Q)clang-format -i $(FORMAT_FILES)

check-format:
	$(Q)clang-format --dry-run --Werror $(FORMAT_FILES) && \
		echo "check-format: $(words $(FORMAT_FILES)) files ok"

clean:
	rm -rf build
