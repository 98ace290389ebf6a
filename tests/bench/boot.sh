#!/usr/bin/env bash
# tests/bench/boot.sh - make bench-boot: the QEMU boards' boot under TCG,
# timed from their serial console, and the smallest guest memory the
# node runs in.
#
#   tests/bench/boot.sh BOARD...
#
# For each board, BENCH_BOOT_RUNS (3) times on a fresh copy of
# build/BOARD/flash.img: QEMU is started with the console on
# build/tools/ptyexpect's terminal (-T records when each text is seen);
# the node is rebooted once and powered off.  Printed (medians):
#   bench boot.ARCH.qemu_to_init_ms          QEMU started -> keel-boot's
#                                            first line
#   bench boot.ARCH.init_to_prompt_ms        keel-boot's first line ->
#                                            keel> (a boot of a device
#                                            that has its identity)
#   bench boot.ARCH.init_to_prompt_first_ms  the same on the very first
#                                            boot (the identity key made)
# Then, for the first board only, the memory floor: the smallest -m (in
# 8 MiB steps, found by bisection between 16 and 256) that boots to the
# prompt; at that size the node must then install a bundle of
# BENCH_BOOT_INSTALL_MIB (64) MiB received by YMODEM over the line --
# about 15 minutes at the ~70 KB/s the emulated UART gives -- and, when
# it cannot, the next size up is tried (three at most):
#   bench boot.ARCH.min_mem_mib              boots and installs
#   bench boot.ARCH.install_mib              the bundle's size
#   bench boot.ARCH.install_s                its transfer and install
# BENCH_BOOT_INSTALL_MIB=0 skips the install (the floor is then the
# boot's only, and said so).  Every QEMU is stopped by its pid; every
# wait is bounded.
set -uo pipefail

cd "$(dirname "$0")/../.."
pe=build/tools/ptyexpect
kb=build/tools/keel-bundle
runs=${BENCH_BOOT_RUNS:-3}
inst_mib=${BENCH_BOOT_INSTALL_MIB:-64}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# stop PIDFILE: the QEMU named there, by its pid.
stop() {
    local pid
    pid=$(cat "$1" 2>/dev/null || true)
    if [ -n "$pid" ] && grep -q qemu-system "/proc/$pid/cmdline" 2>/dev/null
    then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

# boot BOARD FLASH MEM TIMES STEPS...: ptyexpect on QEMU; status.
boot() {
    local board=$1 flash=$2 mem=$3 times=$4 rc
    shift 4
    timeout 4000 "$pe" -t "${BOOT_WAIT:-120}" -T "$times" "$@" -- \
        bash scripts/qemu.sh "$board" --flash "$flash" --mem "$mem" \
        --serial stdio --restrict --pidfile "$tmp/qemu.pid" \
        >"$tmp/out" 2>&1
    rc=$?
    stop "$tmp/qemu.pid"
    return $rc
}

# at TIMES N: the time of the N-th wait met.
at() { sed -n "${2}p" "$1" | cut -d' ' -f1; }

first=
for board in "$@"; do
    arch=${board#qemu-}
    if [ ! -s "build/$board/flash.img" ]; then
        echo "bench-boot: build/$board/flash.img missing (make image" \
            "BOARD=$board)" >&2
        exit 1
    fi
    : >"$tmp/q" && : >"$tmp/p" && : >"$tmp/p1"
    for r in $(seq 1 "$runs"); do
        cp "build/$board/flash.img" "$tmp/f.img"
        if ! boot "$board" "$tmp/f.img" 256 "$tmp/t" \
            -e "stage 1, the system's init" -e 'keel> ' -s 'reboot\r' \
            -e "stage 1, the system's init" -e 'keel> ' -s 'poweroff\r' \
            -e 'powering off'; then
            echo "bench-boot: $board did not boot (run $r):" >&2
            tail -n 5 "$tmp/out" >&2
            exit 1
        fi
        at "$tmp/t" 1 >>"$tmp/q"
        echo $(($(at "$tmp/t" 2) - $(at "$tmp/t" 1))) >>"$tmp/p1"
        echo $(($(at "$tmp/t" 4) - $(at "$tmp/t" 3))) >>"$tmp/p"
    done
    echo "bench boot.$arch.qemu_to_init_ms $(median <"$tmp/q")"
    echo "bench boot.$arch.init_to_prompt_ms $(median <"$tmp/p")"
    echo "bench boot.$arch.init_to_prompt_first_ms $(median <"$tmp/p1")"
    [ -n "$first" ] || first=$board
done

# --- the memory floor, on the first board ---------------------------------
board=$first
arch=${board#qemu-}
boots() { # MEM: 0 when it reaches the prompt
    cp "build/$board/flash.img" "$tmp/m.img"
    BOOT_WAIT=60 boot "$board" "$tmp/m.img" "$1" "$tmp/t" -e 'keel> ' \
        -s 'poweroff\r' -e 'powering off'
}
lo=16 hi=256 # lo fails (assumed), hi boots
if ! boots $hi; then
    echo "bench-boot: $board does not boot in $hi MiB" >&2
    exit 1
fi
for i in $(seq 1 8); do
    [ $((hi - lo)) -gt 8 ] || break
    mid=$(((lo + hi) / 2 / 8 * 8))
    [ "$mid" -gt "$lo" ] || mid=$((lo + 8))
    if boots "$mid"; then hi=$mid; else lo=$mid; fi
done
if [ "$inst_mib" -eq 0 ]; then
    echo "bench boot.$arch.min_mem_mib $hi"
    echo "bench boot.$arch.install_mib 0 (the floor above is the boot's only)"
    exit 0
fi

# A bundle of inst_mib MiB: the node and random bytes to fill it.
head -c $((inst_mib * 1048576 - $(stat -c %s "build/$board-$arch/keel.stripped") - 4096)) \
    /dev/urandom >"$tmp/fill"
$kb archive "$tmp/big.kar" bin/keel="build/$board-$arch/keel.stripped" \
    etc/keel/keyring=build/keys/keyring var/fill="$tmp/fill" >/dev/null &&
    $kb create --payload "$tmp/big.kar" --board "$board" --version 0.9.0 \
        --counter 1 -o "$tmp/big.kbn" >/dev/null &&
    $kb sign "$tmp/big.kbn" --key build/keys/dev-1.pem >/dev/null &&
    $kb sign "$tmp/big.kbn" --key build/keys/dev-2.pem >/dev/null || {
    echo "bench-boot: could not make the ${inst_mib} MiB bundle" >&2
    exit 1
}
for try in 1 2 3; do
    cp "build/$board/flash.img" "$tmp/m.img"
    t0=$(date +%s)
    if BOOT_WAIT=3600 boot "$board" "$tmp/m.img" "$hi" "$tmp/t" -e 'keel> ' \
        -s 'update receive\r' -e 'start the YMODEM upload' \
        -x "sb -k $tmp/big.kbn 2>/dev/null" -e 'keel> ' \
        -s 'update status\r' -e 'keyring:' -e 'keel> ' -s 'poweroff\r' \
        -e 'powering off' &&
        tr -d '\r' <"$tmp/out" | grep -aq '^slot b: *ready, version 0\.9\.0'
    then
        echo "bench boot.$arch.min_mem_mib $hi"
        echo "bench boot.$arch.install_mib $inst_mib"
        echo "bench boot.$arch.install_s $(($(date +%s) - t0))"
        exit 0
    fi
    echo "bench-boot: the ${inst_mib} MiB install failed in $hi MiB:" \
        "$(tr -d '\r' <"$tmp/out" | grep -a -E 'error|Out of memory' |
            head -n 2)" >&2
    hi=$((hi + 8))
done
exit 1
