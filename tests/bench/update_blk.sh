#!/usr/bin/env bash
# tests/bench/update_blk.sh BENCH_BINARY [MIB] - keel installing a bundle
# of MIB MiB (default 64) into a file-backed blk flash
# (build/bench/update_bench blk-install: hal/linux/blk.c on a file in
# TMPDIR), RUNS times (default 7) after one untimed warm-up.  Each install
# is a process of its own, run under /usr/bin/time -v for its peak RSS.
# Beside each one, the reference of tests/bench/update.sh on the same
# payload: `sha256sum; cp; sync -f` (page cache warm for both).
#
# Prints (MB = 1e6 bytes; the install's own timer, around update_install):
#   bench update.install_blk.mb_per_s X      (from the median time)
#   bench update.install_blk.s_min / .s_median / .s_max X
#   bench update.install_blk.process_mb_per_s X (the whole process, start
#       to exit: opening the flash and mounting the store included)
#   bench update.install_blk.rss_kib X       (largest of the runs)
#   bench update.sha256sum_cp_blk.mb_per_s X (reference, median)
#   bench update.install_blk_vs_sha256sum_cp X (run by run, median)
set -euo pipefail
b=${1:?bench binary}
mib=${2:-64}
RUNS=${RUNS:-7}
d=$(mktemp -d "${TMPDIR:-/tmp}/keelblk.XXXXXX")
trap 'rm -rf "$d"' EXIT

"$b" blk-prepare "$d" "$mib"
TIME=/usr/bin/time
[ -x "$TIME" ] || TIME=""

# min median max of the numbers on stdin
stats() { sort -g | awk '{ a[NR] = $1 } END {
    m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
    printf "%.4f %.4f %.4f\n", a[1], m, a[NR] }'; }
mbps() { awk -v s="$1" -v b="$mib" 'BEGIN { printf "%.1f", b * 1048576 / 1e6 / s }'; }

one() {   # one install; its seconds on stdout, its RSS (KiB) in $d/rss,
          # the process's seconds in $d/t.proc
    local out t0 t1
    t0=$(date +%s%N)
    if [ -n "$TIME" ]; then
        out=$("$TIME" -v -o "$d/time" "$b" blk-install "$d")
        awk -F': ' '/Maximum resident set size/ { print $2 }' "$d/time" >> "$d/rss"
    else
        out=$("$b" blk-install "$d")
    fi
    t1=$(date +%s%N)
    awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.4f\n", ns / 1e9 }' >> "$d/t.proc"
    grep '^#' <<<"$out" > "$d/last" || true
    awk '/^bench update.install_blk.s / { print $3 }' <<<"$out"
}

one > /dev/null
: > "$d/rss"
: > "$d/t.proc"
: > "$d/t.keel"
: > "$d/t.ref"
for _ in $(seq "$RUNS"); do
    one >> "$d/t.keel"
    rm -f "$d/copy"
    sync
    t0=$(date +%s%N)
    sha256sum "$d/blk-payload" > /dev/null
    cp "$d/blk-payload" "$d/copy"
    sync -f "$d/copy"
    t1=$(date +%s%N)
    awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.4f\n", ns / 1e9 }' >> "$d/t.ref"
done

read -r kmin kmed kmax < <(stats < "$d/t.keel")
read -r rmin rmed rmax < <(stats < "$d/t.ref")
read -r _ pmed _ < <(stats < "$d/t.proc")
cat "$d/last"
echo "# runs: $RUNS (after 1 warm-up), $mib MiB payload; s min median max:" \
    "keel $kmin $kmed $kmax, sha256sum+cp+sync -f $rmin $rmed $rmax"
echo "bench update.install_blk.mb_per_s $(mbps "$kmed")"
echo "bench update.install_blk.s_min $kmin"
echo "bench update.install_blk.s_median $kmed"
echo "bench update.install_blk.s_max $kmax"
echo "bench update.install_blk.process_mb_per_s $(mbps "$pmed")"
if [ -s "$d/rss" ]; then
    echo "bench update.install_blk.rss_kib $(sort -n "$d/rss" | tail -1)"
else
    echo "bench update.install_blk.rss_kib unmeasured (no /usr/bin/time)"
fi
echo "bench update.sha256sum_cp_blk.mb_per_s $(mbps "$rmed")"
paste "$d/t.ref" "$d/t.keel" | awk '{ print $1 / $2 }' | stats |
    awk '{ printf "bench update.install_blk_vs_sha256sum_cp %.3f\n", $2 }'
