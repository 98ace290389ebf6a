#!/usr/bin/env bash
# tests/bench/p2p.sh KEEL WIRE BUNDLE - the peer distribution figures of
# issue #17, on a simwire hub, in one run.  Six nodes: s1 and s2 are
# sources, f1..f4 fetch.  One `bench p2p.NAME VALUE` line each:
#   local_install_mbps      `update install FILE` of the 32 MiB bundle
#                           on s1 (its own timing), MB/s
#   fleet4_32m_s            s1 alone holds it; f1..f4 start `update
#                           fetch` together: seconds until all four
#                           have it verified in a slot
#   fleet4_32m_2src_s       the same with a second bundle that s1 and s2
#                           both installed from the file
#   fleet_mbps_per_node     32 MiB / fleet4_32m_s, MB/s
#   fleet_vs_local_install  fleet_mbps_per_node / local_install_mbps
#   frame_bytes_per_payload_byte  peer frame bytes received by the four
#                           (keel_peer_bytes_total{dir="in"}: headers,
#                           chunk pieces, requests, announces, pings)
#                           per payload byte delivered, one-source run
#   origin_share            chunk bytes s1 served in the one-source run
#                           / the 4 x 32 MiB the fetchers took (1.000:
#                           all from the origin; 0.25: each byte once)
#   wire_bytes_per_payload_byte   the same with what TLS (29 bytes per
#                           record of at most 4096, AES-GCM) and
#                           TCP/IPv4/Ethernet (54 bytes per 1460-byte
#                           segment) add, computed, not counted
# The servers pace each link to 3/4 of net.bytes_per_s (8 MiB/s by
# default), so one link carries at most 6 MiB/s: a figure of the
# configuration as much as of the code (docs/P2P.md).
# P2P_BENCH_DEBUG=1 adds the hub's counters, each node's p2p counters
# and the fetchers' progress lines on stderr.
# Every process is stopped by its pid; every wait is bounded; only
# simwire is used.
set -uo pipefail
KEEL=${1:?keel binary} WIRE=${2:?keel-wire} KB=${3:?keel-bundle}
# shellcheck source=tests/net/lib.sh
source tests/net/lib.sh
net_scratch
now() { date +%s.%N; }

openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/k.pem" 2>/dev/null
mkdir -p "$tmp/root/etc/keel"
"$KB" keyring create --threshold 1 -o "$tmp/root/etc/keel/keyring" \
    "$tmp/k.pem" >/dev/null || exit 1
head -c $((32 << 20)) /dev/urandom >"$tmp/p1" || exit 1
head -c $((32 << 20)) /dev/urandom >"$tmp/p2" || exit 1
for r in 1 2; do
    "$KB" create --payload "$tmp/p$r" --board sim --version "0.$((r + 1)).0" \
        --counter "$r" -o "$tmp/r$r.kbn" >/dev/null &&
        "$KB" sign "$tmp/r$r.kbn" --key "$tmp/k.pem" >/dev/null || exit 1
done

hub_start || exit 1
nodes=(s1 s2 f1 f2 f3 f4)
declare -A IP FPN
i=1
for n in "${nodes[@]}"; do
    IP[$n]=10.80.0.$i
    i=$((i + 1))
    NODE_ARGS="--rootfs $tmp/root" node_start "$n" "${IP[$n]}" || exit 1
    q "$n" "update auto-fetch off" >/dev/null
done
for n in "${nodes[@]}"; do FPN[$n]=$(fp "$n"); done
for n in "${nodes[@]}"; do
    for m in "${nodes[@]}"; do
        [ "$n" = "$m" ] || q "$n" "peer trust add ${FPN[$m]}" >/dev/null
    done
done
for ((a = 0; a < ${#nodes[@]}; a++)); do
    for ((b = a + 1; b < ${#nodes[@]}; b++)); do
        q "${nodes[a]}" "peer connect ${IP[${nodes[b]}]}" >/dev/null
    done
done
for n in "${nodes[@]}"; do
    wait_links "$n" 5 30 || { echo "p2p bench: links of $n" >&2; exit 1; }
done

peer_in() {
    local s=0 v
    for n in f1 f2 f3 f4; do
        v=$(metric "$n" 'keel_peer_bytes_total{dir="in"}')
        s=$((s + ${v:-0}))
    done
    echo "$s"
}

# fleet VERSION: f1..f4 fetch together; prints the seconds
fleet() {
    local v=$1 t0 t1 n
    for n in f1 f2 f3 f4; do
        for _ in $(seq 40); do
            q "$n" "update peers" | grep -q " $v " && break
            sleep 0.25
        done
    done
    t0=$(now)
    for n in f1 f2 f3 f4; do
        printf 'update fetch\n' >&"${NODE_FD[$n]}"
    done
    for n in f1 f2 f3 f4; do
        wait_log "$n" "fetched $v" 300 ||
            { echo "p2p bench: $n did not fetch $v" >&2; exit 1; }
    done
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f\n", b - a}'
}

loc=$(q s1 "update install $tmp/r1.kbn" |
    sed -n 's/^installed .* in \([0-9.]*\) s;.*/\1/p')
b0=$(peer_in)
o0=$(metric s1 keel_p2p_served_bytes_total)
t1=$(fleet 0.2.0) || exit 1
b1=$(peer_in)
o1=$(metric s1 keel_p2p_served_bytes_total)
q s1 "update install $tmp/r2.kbn" >/dev/null
q s2 "update install $tmp/r2.kbn" >/dev/null
t2=$(fleet 0.3.0) || exit 1
if [ -n "${P2P_BENCH_DEBUG:-}" ]; then
    hub stats >&2
    grep -h -E "^fetch|^fetched|source" "$tmp"/f?.log >&2
    for n in "${nodes[@]}"; do
        echo "== $n" >&2
        q "$n" metrics | grep -E '^keel_p2p_(chunks_total.result=.timeout|served_chunks)|^keel_net_frames_dropped_total.dir=.rx' >&2
    done
fi

awk -v loc="$loc" -v t1="$t1" -v t2="$t2" -v bytes=$((b1 - b0)) \
    -v origin=$((${o1:-0} - ${o0:-0})) \
    -v pay=$((4 * (32 << 20))) 'BEGIN {
    mb = 32 * 1048576 / 1e6
    lm = mb / loc; fm = mb / t1
    fr = bytes / pay
    # TLS: 29 bytes per record of up to 4096; TCP/IP/Ethernet: 54 per
    # 1460-byte segment of the TLS stream
    tls = fr * (1 + 29 / 4096)
    wire = tls * (1 + 54 / 1460)
    printf "bench p2p.local_install_mbps %.1f\n", lm
    printf "bench p2p.fleet4_32m_s %.2f\n", t1
    printf "bench p2p.fleet4_32m_2src_s %.2f\n", t2
    printf "bench p2p.fleet_mbps_per_node %.2f\n", fm
    printf "bench p2p.fleet_vs_local_install %.3f\n", fm / lm
    printf "bench p2p.frame_bytes_per_payload_byte %.4f\n", fr
    printf "bench p2p.wire_bytes_per_payload_byte %.4f\n", wire
    printf "bench p2p.origin_share %.3f\n", origin / pay
}'
