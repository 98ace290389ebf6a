#!/usr/bin/env bash
# tests/system/run.sh - make test-system: the QEMU boards from their
# serial console (tests/system/lib.sh), every test on every board.
#
# Environment: BOARDS (qemu-x86_64 qemu-aarch64), TESTS (flash_tool
# boot update rollback watchdog net powercut chaincut), POWERCUT_RUNS (5; make
# test-system-powercut runs 20), KEEL_SYSTEM_SEED (the power cuts'
# moments).  Needs `make image system-stubs` for each board (the
# Makefile does it).  The last line is "N passed, N failed".
set -uo pipefail

cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1${2:+: ${*:2}}"; }
skip() { skipped=$((skipped + 1)); echo "SKIP - $1${2:+: ${*:2}}"; }

# shellcheck source=tests/system/lib.sh
. tests/system/lib.sh

for b in ${BOARDS:-qemu-x86_64 qemu-aarch64}; do
    sys_setup "$b" || continue
    for t in ${TESTS:-flash_tool boot update rollback watchdog net powercut \
        chaincut}; do
        t0=$(date +%s)
        case $t in
        powercut) sys_powercut_test "$b" "${POWERCUT_RUNS:-5}" ;;
        chaincut) sys_powercut_test "$b" "${POWERCUT_RUNS:-5}" chain ;;
        *) "sys_${t}_test" "$b" ;;
        esac
        echo "    ($b $t: $(($(date +%s) - t0)) s)"
    done
done

if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
