#!/usr/bin/env bash
# The test suite behind `make test`.  Runs the unit test programs (built
# by make under ASan/UBSan), then checks of the shipped binaries: static
# linking, the console in script mode, the cross builds under qemu-user,
# the pinned dependency sums, and the source format.  Every check counts;
# the last line is "N passed, N failed" and the exit status is non-zero
# on any failure.
#
# Environment (set by the Makefile): UNIT_TESTS, BOARD, ARCHES.
set -uo pipefail

cd "$(dirname "$0")/.."
BOARD=${BOARD:-sim}
ARCHES=${ARCHES:-x86_64 aarch64 armhf}
UNIT_TESTS=${UNIT_TESTS:-}
HOST_ARCH=$(uname -m)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1${2:+: $2}"; }
# A check that cannot run here is said and counted, never silently
# passed over.
skip() { skipped=$((skipped + 1)); echo "SKIP - $1${2:+: $2}"; }

# --- unit tests -------------------------------------------------------------
for t in $UNIT_TESTS; do
    out=$tmp/unit-$t.log
    build/test/test_"$t" >"$out" 2>&1
    rc=$?
    grep '^FAIL' "$out" | sed 's/^/    /'
    line=$(grep -E '^[a-z_]+: [0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' \
        "$out" | tail -n 1)
    if [ -z "$line" ]; then
        fail "unit/$t" "no summary line (exit $rc)"
        tail -n 20 "$out" | sed 's/^/    /'
        continue
    fi
    p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
    f=$(sed -E 's/.*, ([0-9]+) failed.*/\1/' <<<"$line")
    if grep -q skipped <<<"$line"; then
        sk=$(sed -E 's/.*, ([0-9]+) skipped/\1/' <<<"$line")
        skipped=$((skipped + sk))
        grep '^SKIP' "$out" | sed 's/^/    /'
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        fail "unit/$t" "exit $rc (sanitizer report?)"
        tail -n 20 "$out" | sed 's/^/    /'
    else
        echo "ok - unit/$t: $p passed, $f failed"
    fi
done

# --- power cuts (sampled; make powercut runs every cut point) ---------------
if [ ! -x build/test/powercut-san ]; then
    fail "powercut" "build/test/powercut-san not built"
else
    build/test/powercut-san --sample "${POWERCUT_SAMPLE:-13}" \
        --double 4 --double-every 4 >"$tmp/pc.log" 2>&1
    rc=$?
    sed 's/^/    /' "$tmp/pc.log" | grep -v '^    powercut: [a-z]' | head -20
    line=$(tail -n 1 "$tmp/pc.log")
    if [ "$rc" -eq 0 ] && grep -q ', 0 violations$' <<<"$line"; then
        ok "$line (every ${POWERCUT_SAMPLE:-13}th cut point, some paired)"
    else
        fail "powercut" "$line (exit $rc)"
    fi
fi

# --- the log ring's power cuts: every flash operation, each failure mode --
if [ ! -x build/test/logcut ]; then
    fail "logcut" "build/test/logcut not built"
else
    build/test/logcut >"$tmp/logcut.log" 2>&1
    rc=$?
    line=$(tail -n 1 "$tmp/logcut.log")
    if [ "$rc" -eq 0 ] && grep -q ', 0 violations$' <<<"$line"; then
        ok "$line"
    else
        fail "logcut" "$line (exit $rc)"
        head -n 20 "$tmp/logcut.log" | sed 's/^/    /'
    fi
fi

# --- fuzz smoke: each libFuzzer target, bounded, from its seeds ----------
# fuzz_smoke TARGET RUNS MAX_LEN CORPUS WHAT: run build/test/TARGET.
fuzz_smoke() {
    local t=$1 runs=$2 max=$3 corpus=$4 what=$5
    if [ ! -x "build/test/$t" ]; then
        fail "fuzz/${t#fuzz_}" "build/test/$t not built"
        return 0
    fi
    if "build/test/$t" -runs="$runs" -seed=1 -max_len="$max" "$corpus" \
        >"$tmp/$t.log" 2>&1; then
        ok "fuzz/${t#fuzz_}: $runs runs $what, clean"
    else
        fail "fuzz/${t#fuzz_}" "see below"
        tail -n 30 "$tmp/$t.log" | sed 's/^/    /'
    fi
}
mkdir -p "$tmp/corpus" "$tmp/chains"
cp build/fuzz/store-corpus/seed "$tmp/corpus/" 2>/dev/null
fuzz_smoke fuzz_store_mount 3000 131072 "$tmp/corpus" "from a real image"
bash tests/fuzz/keyseeds.sh "$tmp/keys"
fuzz_smoke fuzz_keyparse 20000 4096 "$tmp/keys" "from openssl keys"
build/tools/keel-chaingen -n 40 --pseudo-every 5 -o "$tmp/chains/valid" \
    >/dev/null 2>&1
fuzz_smoke fuzz_chain_import 3000 16000 "$tmp/chains" "from a minted chain"
mkdir -p "$tmp/kar"
cp tests/vectors/update/image.kar "$tmp/kar/"
fuzz_smoke fuzz_kar 30000 4096 "$tmp/kar" "from the golden archive"
mkdir -p "$tmp/frame"
cp tests/vectors/formats/frame-ping.bin "$tmp/frame/"
fuzz_smoke fuzz_frame 50000 70000 "$tmp/frame" "from the golden ping"
mkdir -p "$tmp/logring"
fuzz_smoke fuzz_logring 20000 16384 "$tmp/logring" "from nothing: garbage rings"
bash tests/fuzz/peerseeds.sh "$tmp/peerrec"
fuzz_smoke fuzz_peer_records 50000 4096 "$tmp/peerrec" \
    "from the golden records and frames"
mkdir -p "$tmp/idrec"
cp tests/vectors/formats/identity-record.bin "$tmp/idrec/"
fuzz_smoke fuzz_identity 3000 1024 "$tmp/idrec" "from the golden record"
bash tests/fuzz/bundleseeds.sh "$tmp/bundles"
fuzz_smoke fuzz_bundle 50000 70000 "$tmp/bundles" "from the golden vectors"
mkdir -p "$tmp/chain-mount"
cp build/fuzz/chain-mount-corpus/seed build/fuzz/chain-mount-corpus/seed-nand \
    "$tmp/chain-mount/" 2>/dev/null
fuzz_smoke fuzz_chain_mount 2000 163841 "$tmp/chain-mount" \
    "from a stored chain, on NOR and packed on NAND"
mkdir -p "$tmp/ymodem-seeds"
build/test/mkseed_ymodem "$tmp/ymodem-seeds" >/dev/null 2>&1
fuzz_smoke fuzz_ymodem 50000 8192 "$tmp/ymodem-seeds" \
    "from sessions as sb sends them"
mkdir -p "$tmp/sync-seeds"
build/tools/keel-chaingen -n 120 -d 1 -o "$tmp/sync.tf" >/dev/null 2>&1
build/test/mkseed_sync "$tmp/sync.tf" "$tmp/sync-seeds/seed" >/dev/null 2>&1
fuzz_smoke fuzz_sync 20000 20000 "$tmp/sync-seeds" \
    "from an honest peer's proof segment"
bash tests/fuzz/bookseeds.sh "$tmp/book-seeds"
fuzz_smoke fuzz_sync_book 50000 4096 "$tmp/book-seeds" \
    "from a peer table, guard, seeds and peer list by hand"

# --- the shipped binaries are static --------------------------------------
for a in $ARCHES; do
    for prog in keel keel-boot; do
        b=build/$BOARD-$a/$prog
        if [ ! -x "$b" ]; then
            fail "static/$a/$prog" "$b not built"
            continue
        fi
        desc=$(file -b "$b")
        case $a in
        x86_64) want='x86-64' ;; aarch64) want='aarch64' ;; armhf) want='ARM' ;;
        esac
        if ! grep -q 'statically linked' <<<"$desc"; then
            fail "static/$a/$prog" "file says: $desc"
        elif ! grep -q "$want" <<<"$desc"; then
            fail "static/$a/$prog" "wrong architecture: $desc"
        elif readelf -l "$b" | grep -q INTERP; then
            fail "static/$a/$prog" "has a program interpreter"
        else
            ok "static/$a/$prog ($want, statically linked, no interpreter)"
        fi
    done
done

# --- keel-boot runs no shell: it is /init where there is none ------------
for a in $ARCHES; do
    b=build/$BOARD-$a/keel-boot
    [ -x "$b" ] || continue
    if nm "$b" 2>/dev/null | grep -qE ' T (system|popen)$' ||
        grep -q /bin/sh "$b"; then
        fail "no-shell/$a/keel-boot" "links system() or popen(), or names /bin/sh"
    else
        ok "no-shell/$a/keel-boot: no system(), popen() or /bin/sh in it"
    fi
done

# --- the node in script mode, on every arch ------------------------------
runner() { # arch -> command prefix
    case $1 in
    x86_64) [ "$HOST_ARCH" = x86_64 ] || echo qemu-x86_64-static ;;
    aarch64) [ "$HOST_ARCH" = aarch64 ] || echo qemu-aarch64-static ;;
    armhf) echo qemu-arm-static ;;
    esac
}

# keel_run ARCH FLASH INPUT -> output in $tmp/out, status in $rc
keel_run() {
    local r
    r=$(runner "$1")
    printf "$3" | $r "build/$BOARD-$1/keel" --flash "$2" >"$tmp/out" 2>&1
    rc=$?
}

expect() { # name, then grep patterns that must all appear in $tmp/out
    local name=$1 p
    shift
    for p in "$@"; do
        if ! grep -qE -- "$p" "$tmp/out"; then
            fail "$name" "output lacks /$p/"
            sed 's/^/    /' "$tmp/out" | head -n 30
            return
        fi
    done
    ok "$name"
}

for a in $ARCHES; do
    if [ ! -x "build/$BOARD-$a/keel" ]; then
        fail "node/$a" "build/$BOARD-$a/keel not built"
        continue
    fi
    f=$tmp/flash-$a.img
    keel_run "$a" "$f" 'version\nselftest\npoweroff\n'
    if [ "$rc" -ne 0 ]; then
        fail "node/$a version+selftest" "exit $rc"
        sed 's/^/    /' "$tmp/out" | head -n 30
    else
        expect "node/$a version+selftest" '^keel> ' "arch $a" \
            '^BearSSL 0\.6' '^mbed TLS 2\.28' '^lwIP 2\.1\.3' \
            '^selftest: ok$'
    fi
    keel_run "$a" "$f" 'nosuch\n'
    if [ "$rc" -eq 0 ]; then
        fail "node/$a unknown command exits non-zero"
    else
        n=$(grep -c '^error:' "$tmp/out")
        if [ "$n" -eq 1 ] && grep -q "^error: .*nosuch.*help" "$tmp/out"
        then
            ok "node/$a unknown command: exit $rc, one error line"
        else
            fail "node/$a unknown command" "want one error line naming" \
                "the command and help"
            sed 's/^/    /' "$tmp/out"
        fi
    fi
    rm -f "$f"
done

# The rest runs natively only.
a=$HOST_ARCH
k=build/$BOARD-$a/keel
if [ -x "$k" ]; then
    f=$tmp/flash.img
    keel_run "$a" "$f" 'help\n'
    size=$(stat -c %s "$f" 2>/dev/null || echo 0)
    # the last 4 KiB (slot B): nothing writes there at first boot
    first=$(tail -c 4096 "$f" | od -An -v -tx1 | tr -s ' \n' '\n' |
        sort -u | grep . | tr -d '\n')
    if [ "$rc" -eq 0 ] && [ "$size" -eq 134217728 ] && [ "$first" = ff ]
    then
        ok "node: missing flash file created at 128 MiB, erased"
    else
        fail "node: flash file creation" "exit $rc, size $size, bytes $first"
    fi
    expect "node: help lists the commands" 'version' 'selftest' \
        'uptime' 'reboot' 'poweroff'

    keel_run "$a" "$f" 'version extra\n'
    if [ "$rc" -ne 0 ] && grep -q '^error: .*too many arguments' "$tmp/out"
    then
        ok "node: extra argument refused with a message"
    else
        fail "node: extra argument" "exit $rc"
    fi

    keel_run "$a" "$f" 'version --json\nuptime --json\n'
    expect "node: --json output" '^\{"keel":"[0-9.]+",.*"lwip":"lwIP' \
        '^\{"uptime_ms":[0-9]+\}$'

    keel_run "$a" "$f" 'selftest --json\n'
    expect "node: selftest --json" '"ok":true\}$'

    long=$(head -c 300 /dev/zero | tr '\0' x)
    keel_run "$a" "$f" "$long\\nversion\\n"
    if [ "$rc" -ne 0 ] &&
        grep -q '^error: line 1 is longer than 256 bytes' "$tmp/out" &&
        grep -q '^BearSSL' "$tmp/out"; then
        ok "node: overlong line refused, next command still runs"
    else
        fail "node: overlong line" "exit $rc"
    fi

    keel_run "$a" "$f" 'uptime'
    expect "node: last line without newline runs, end of input exits" \
        '^up 0d'
    [ "$rc" -eq 0 ] || fail "node: end of input exit status" "exit $rc"

    "$k" >"$tmp/out" 2>&1 </dev/null
    rc=$?
    if [ "$rc" -eq 2 ] && grep -q -- '--flash FILE is required' "$tmp/out"
    then
        ok "node: missing --flash is a usage error"
    else
        fail "node: missing --flash" "exit $rc"
    fi

    head -c 1000 /dev/zero >"$tmp/small.img"
    printf 'version\n' | "$k" --flash "$tmp/small.img" >"$tmp/out" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] && grep -q "cannot open flash" "$tmp/out"; then
        ok "node: a flash file of the wrong size is refused"
    else
        fail "node: wrong-size flash file" "exit $rc"
    fi
    rm -f "$f"
else
    fail "node: $k not built"
fi

# --- the identity from the console, against the openssl command line ------
if [ -x "$k" ]; then
    # shellcheck source=tests/id.sh
    . tests/id.sh
else
    fail "id: $k not built"
fi

# --- host files at the console (FIFOs, directories, limits), script edges --
if [ -x "$k" ] && [ -x build/tools/keel-chaingen ]; then
    # shellcheck source=tests/console_files.sh
    . tests/console_files.sh
else
    fail "files: keel or keel-chaingen not built"
fi

# --- the chain from the console, with keel-chaingen's chains -------------
if [ -x "$k" ] && [ -x build/tools/keel-chaingen ]; then
    # shellcheck source=tests/chain.sh
    . tests/chain.sh
else
    fail "chain: keel or keel-chaingen not built"
fi

# --- bundles, keel-boot and A/B slots, end to end ------------------------
if [ -x "$k" ] && [ -x build/tools/keel-bundle ] &&
    [ -x "build/$BOARD-$a/keel-boot" ]; then
    # shellcheck source=tests/update.sh
    . tests/update.sh
else
    fail "update: keel-boot or keel-bundle not built"
fi

# --- trust state and recovery at the console (issue #11) -----------------
if [ -x "$k" ] && [ -x build/tools/keel-chaingen ]; then
    # shellcheck source=tests/trust.sh
    . tests/trust.sh
else
    fail "trust: keel or keel-chaingen not built"
fi

# --- damage: one flipped byte at a time in a populated image (sampled) ----
if [ -x "$k" ] && [ -x "build/$BOARD-$a/keel-boot" ] &&
    [ -x build/tools/damage-points ] && [ -x build/tools/keel-bundle ]; then
    # shellcheck source=tests/damage.sh
    . tests/damage.sh
else
    fail "damage: keel, keel-boot, keel-bundle or damage-points not built"
fi

# --- keel-bundle's command line: numbers and desk checks -----------------
if [ -x build/tools/keel-bundle ]; then
    # shellcheck source=tests/bundle_cli.sh
    . tests/bundle_cli.sh
else
    fail "keel-bundle: not built"
fi

# --- the AF_PACKET backend on a veth pair, in a network namespace -------
# shellcheck source=tests/net_packet.sh
. tests/net_packet.sh

# --- peer links on simwire: trust, refusals, rotation, chaos (issue #13) ---
if [ -x "$k" ] && [ -x build/tools/keel-wire ]; then
    # shellcheck source=tests/net.sh
    . tests/net.sh
else
    fail "net: keel or keel-wire not built"
fi

# --- keel on AF_PACKET against the kernel and openssl, bad peers ----------
if [ -x "$k" ]; then
    # shellcheck source=tests/net_kernel.sh
    . tests/net_kernel.sh
else
    fail "net_kernel: $k not built"
fi

# --- peer bundle distribution on simwire (#17) -----------------------------
if [ -x "$k" ] && [ -x build/tools/keel-wire ]; then
    # shellcheck source=tests/p2p.sh
    . tests/p2p.sh
else
    fail "p2p: keel or keel-wire not built"
fi

# --- following the Mochimo chain over its own protocol (#14) ---------------
if [ -x "$k" ] && [ -x build/tools/keel-wire ]; then
    # shellcheck source=tests/sync.sh
    . tests/sync.sh
else
    fail "sync: keel or keel-wire not built"
fi

# --- a mainnet-shaped chain (660,001 trailers) imported and synced (#14) ----
if [ -x "$k" ] && [ -x build/tools/keel-wire ] &&
    [ -x build/tools/keel-chaingen ]; then
    # shellcheck source=tests/sync_mainnet.sh
    . tests/sync_mainnet.sh
else
    fail "sync_mainnet: keel, keel-wire or keel-chaingen not built"
fi

# --- files over the console by YMODEM, lrzsz on the other end (#16) -------
if [ -x "$k" ] && [ -x build/tools/ptyexpect ]; then
    # shellcheck source=tests/receive.sh
    . tests/receive.sh
else
    fail "receive: keel or ptyexpect not built"
fi

# --- operator unlock at the console (issue #16, first part) ---------------
if [ -x "$k" ]; then
    # shellcheck source=tests/unlock.sh
    . tests/unlock.sh
else
    fail "unlock: $k not built"
fi

# --- the runbook's field session: picocom, keel-boot, sz (issue #16) ------
if [ -x "$k" ] && [ -x build/tools/ptyexpect ]; then
    # shellcheck source=tests/field.sh
    . tests/field.sh
else
    fail "field: keel or ptyexpect not built"
fi

# --- YMODEM against lrzsz on a pseudo-terminal (issue #16) ----------------
# shellcheck source=tests/ymodem.sh
. tests/ymodem.sh

# --- process kills during identity writes (sampled; make soak-identity) ---
if [ -x "$k" ]; then
    for mode in create rotate; do
        if bash tests/soak/identity_kill.sh "$mode" "${SOAK_SAMPLE:-40}" \
            "$k" >"$tmp/soak.log" 2>&1 &&
            grep -q ', 0 failures$' "$tmp/soak.log"; then
            ok "$(tail -n 1 "$tmp/soak.log")"
        else
            fail "soak identity/$mode" "$(tail -n 1 "$tmp/soak.log")"
            tail -n 15 "$tmp/soak.log" | sed 's/^/    /'
        fi
    done
else
    fail "soak identity: $k not built"
fi

# --- the QEMU boards from their serial console (quick set; #15) ----------
# Boot and first commands on both boards; on x86_64 keel-flash at the
# desk, an update by YMODEM with reboot, trial and confirm, a crashing
# node rolled back, mutual TLS through the forwarded port, two power
# cuts during an install and one during a chain import.  make test-system runs every test on both boards
# (tests/system/run.sh), the watchdog's included.
if [ -x build/tools/ptyexpect ] && [ -x build/tools/keel-bundle ]; then
    # shellcheck source=tests/system/lib.sh
    . tests/system/lib.sh
    for b in qemu-x86_64 qemu-aarch64; do
        sys_setup "$b" && sys_boot_test "$b"
    done
    sys_setup qemu-x86_64 && sys_flash_tool_test qemu-x86_64
    if sys_setup qemu-x86_64; then
        sys_update_test qemu-x86_64
        sys_rollback_test qemu-x86_64
        sys_net_test qemu-x86_64
        sys_powercut_test qemu-x86_64 2
        sys_powercut_test qemu-x86_64 1 chain
    fi
else
    fail "system: ptyexpect or keel-bundle not built"
fi

# --- pinned dependency sums -----------------------------------------------
sed -E '0,/^[0-9a-f]{64}/s/^([0-9a-f]{63})./\10/' scripts/deps.sha256 \
    >"$tmp/bad.sha256"
# Make sure the edit changed the first sum (it may already end in 0).
if cmp -s "$tmp/bad.sha256" scripts/deps.sha256; then
    sed -i -E '0,/^[0-9a-f]{64}/s/^([0-9a-f]{63})./\11/' "$tmp/bad.sha256"
fi
badfile=$(grep -m1 -E '^[0-9a-f]{64}' "$tmp/bad.sha256" | awk '{print $2}')
badsum=$(grep -m1 -E '^[0-9a-f]{64}' "$tmp/bad.sha256" | awk '{print $1}')
goodsum=$(grep -m1 -E '^[0-9a-f]{64}' scripts/deps.sha256 | awk '{print $1}')
KEEL_DEPS_SUMS=$tmp/bad.sha256 bash scripts/deps.sh --fetch-only \
    >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q "mismatch for $badfile" "$tmp/out" &&
    grep -q "$badsum" "$tmp/out" && grep -q "$goodsum" "$tmp/out"; then
    ok "deps: a tampered pinned sum stops the build, naming file and sums"
else
    fail "deps: tampered sum" "exit $rc"
    sed 's/^/    /' "$tmp/out"
fi

# --- format ---------------------------------------------------------------
if make -s check-format >"$tmp/out" 2>&1; then
    ok "format: $(tail -n 1 "$tmp/out")"
else
    fail "format" "run 'make format'"
    head -n 20 "$tmp/out" | sed 's/^/    /'
fi

if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
