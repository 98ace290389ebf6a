#!/usr/bin/env bash
# tests/bench/sync.sh KEEL WIRE CHAINGEN - the sync figures of issue #14:
# 100,000 trailers minted once (difficulty 0: each proof of work is
# still computed and checked, it just always meets 0), imported by
# `chain import` on one node, and synced by another from three honest
# keel nodes serving them over Mochimo's protocol on a simwire hub, in
# the same run.  One `bench sync.NAME VALUE` line each:
#   import_trailers_per_s   `chain import` of the file (its own timing)
#   trailers_per_s          the sync (scan, proof segments, download,
#                           validation, storing), by its own timing
#   vs_import               trailers_per_s / import_trailers_per_s
#   proof_pow_ms_per_candidate  time in the proof-segment check (54
#                           trailers, 53 proofs of work) per candidate,
#                           at difficulty 1 (a second, small chain)
#   peak_rss_kib            the syncing node's VmHWM after the sync (the
#                           sim board holds its 128 MiB flash in RAM)
#   rss_growth_kib          VmHWM after the sync - VmRSS before it
#   state_kib               struct sync, in the node's one allocation
#   wire_bytes_per_trailer  bytes received / trailers stored
# Every process is stopped by its pid; every wait is bounded; only
# simwire is used.
set -uo pipefail
KEEL=${1:?keel binary} WIRE=${2:?keel-wire} CG=${3:?keel-chaingen}
N=${SYNC_BENCH_N:-100000}
# shellcheck source=tests/net/lib.sh
source tests/net/lib.sh
net_scratch
"$CG" -n "$N" -o "$tmp/c.dat" >/dev/null || exit 1
"$CG" -n 600 -d 1 -o "$tmp/d1.dat" >/dev/null || exit 1
hub_start || exit 1
for n in s1:1 s2:2 s3:3 v:9 w:10; do
    node_start "${n%:*}" "10.79.0.${n#*:}" || exit 1
done
imp=$(q s1 "chain import $tmp/c.dat" | sed -n 's/.* committed; tip [0-9]* (\([0-9.]*\) s)$/\1/p')
for n in s2 s3; do q $n "chain import $tmp/c.dat" >/dev/null; done
for n in s1 s2 s3; do
    q $n "net config set sync_port 2095" >/dev/null
    q v "sync seeds add 10.79.0.${n#s}" >/dev/null
done
rss0=$(awk '/^VmRSS:/ {print $2}' "/proc/${NODE_PID[v]}/status" 2>/dev/null)
q v "sync now" >/dev/null
for ((i = 0; i < 1200; i++)); do
    q v "sync status" | grep -q '^state: *idle' && break
    sleep 0.5
done
js=$(q v "sync status --json")
# the proof check at difficulty 1: w syncs a 600-trailer chain from s1
q s1 "chain reset" >/dev/null 2>&1
q w "sync seeds add 10.79.0.1" >/dev/null
q s1 "net config set sync_port 0" >/dev/null
node_stop s1
node_start s1b 10.79.0.1 || exit 1
q s1b "chain import $tmp/d1.dat" >/dev/null
q s1b "net config set sync_port 2095" >/dev/null
for k in 1 2 3 4 5; do
    q w "sync now" >/dev/null
    for ((i = 0; i < 120; i++)); do
        q w "sync status" | grep -q '^state: *idle' && break
        sleep 0.2
    done
done
jw=$(q w "sync status --json")
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }
secs=$(field "$js" seconds)
got=$(field "$js" fetched)
bytes=$(field "$js" bytes_in)
rss=$(awk '/^VmHWM:/ {print $2}' "/proc/${NODE_PID[v]}/status" 2>/dev/null)
if [ -z "$imp" ] || [ -z "$secs" ] || [ "${got:-0}" -lt "$N" ]; then
    echo "# sync bench: the sync did not complete: $js" >&2
    exit 1
fi
awk -v n="$N" -v imp="$imp" -v secs="$secs" -v got="$got" -v bytes="$bytes" \
    -v pc="$(field "$jw" proof_checks)" -v pms="$(field "$jw" proof_ms)" \
    -v rss="$rss" -v rss0="$rss0" -v st="$(field "$js" state_bytes)" 'BEGIN {
    printf "bench sync.import_trailers_per_s %.0f\n", n / imp
    printf "bench sync.trailers_per_s %.0f\n", got / secs
    printf "bench sync.vs_import %.3f\n", (got / secs) / (n / imp)
    if (pc > 0)
        printf "bench sync.proof_pow_ms_per_candidate %.1f\n", pms / pc
    printf "bench sync.peak_rss_kib %d\n", rss
    printf "bench sync.rss_growth_kib %d\n", rss - rss0
    printf "bench sync.state_kib %.0f\n", st / 1024
    printf "bench sync.wire_bytes_per_trailer %.1f\n", bytes / got
}'
