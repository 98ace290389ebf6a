# tests/net_packet.sh - the AF_PACKET backend (hal/linux/net_packet.c)
# on a veth pair, in a network namespace of its own (unshare -Urn), so
# that nothing on the host is touched and no root is needed outside.
#
# Inside: IPv6 off (the kernel then sends nothing of its own on veth0),
# veth0 and veth1 up at MTU 2000 (an oversized frame can be sent at all),
# 10.213.0.2/24 on veth1, and `ethtool -K veth1 tx off`: a kernel peer
# on a veth otherwise hands over partial checksums, which lwIP refuses
# (docs/NET.md).  Then build/test/test_packet veth0 veth1 runs there.
#
# A machine where the namespace or the veth pair cannot be made skips
# with the reason.  Sourced by tests/run.sh (ok, fail, skip, $tmp), or
# run on its own: bash tests/net_packet.sh.  Variables are prefixed np_.
# shellcheck shell=bash

if ! declare -F ok >/dev/null; then
    cd "$(dirname "$0")/.." || exit 1
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    passed=0 failed=0 skipped=0
    ok() { passed=$((passed + 1)); echo "ok - $1"; }
    fail() { failed=$((failed + 1)); echo "FAIL - $1${2:+: $2}"; }
    skip() { skipped=$((skipped + 1)); echo "SKIP - $1${2:+: $2}"; }
    np_alone=1
fi
np_bin=build/test/test_packet
np_log=$tmp/net_packet.log

np_run() {
    # Exit 77: the namespace is there but the wire could not be made.
    # shellcheck disable=SC2016 # expanded by the inner shell
    unshare -Urn bash -c '
        echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null
        ip link add veth0 mtu 2000 type veth peer name veth1 mtu 2000 &&
            ip link set lo up && ip link set veth0 up &&
            ip link set veth1 up &&
            ip addr add 10.213.0.2/24 dev veth1 || exit 77
        tx=
        if command -v ethtool >/dev/null; then
            ethtool -K veth1 tx off >/dev/null 2>&1 && tx=txoff
        fi
        exec "$1" veth0 veth1 $tx
    ' np "$np_bin"
}

if [ ! -x "$np_bin" ]; then
    fail "net_packet" "$np_bin not built"
elif ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
    skip "net_packet" "needs unshare (util-linux) and ip (iproute2)"
elif ! unshare -Urn true 2>"$np_log"; then
    skip "net_packet" "no network namespace here: $(head -n 1 "$np_log")"
else
    np_run >"$np_log" 2>&1
    np_rc=$?
    np_line=$(grep -E '^packet: [0-9]+ passed' "$np_log" | tail -n 1)
    if [ "$np_rc" -eq 77 ]; then
        skip "net_packet" "cannot make a veth pair in the namespace"
        sed 's/^/    /' "$np_log" | head -n 5
    elif [ "$np_rc" -eq 0 ] && [ -n "$np_line" ]; then
        grep '^SKIP' "$np_log" | sed 's/^/    /'
        ok "net_packet: $np_line (a veth pair in a namespace)"
    else
        fail "net_packet" "${np_line:-no summary line} (exit $np_rc)"
        grep -E '^(FAIL|SKIP|    )' "$np_log" | head -n 30 | sed 's/^/    /'
        [ -n "$np_line" ] || tail -n 20 "$np_log" | sed 's/^/    /'
    fi
fi

if [ "${np_alone:-0}" = 1 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
fi
