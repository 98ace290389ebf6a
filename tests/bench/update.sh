#!/usr/bin/env bash
# tests/bench/update.sh BENCH_BINARY - the 64 MiB install and slot
# verification figures, beside `sha256sum` + `cp` of the same payload in
# the same run (page cache warm for both; cp goes to a file in the same
# scratch directory):
#   bench update.install_vs_sha256sum_cp  (keel / reference; 1.0 = as fast)
set -euo pipefail
b=${1:?bench binary}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
ours=$("$b" "$d")
echo "$ours"
t0=$(date +%s%N)
sha256sum "$d/payload" >/dev/null
cp "$d/payload" "$d/copy"
sync -f "$d/copy" 2>/dev/null || true
t1=$(date +%s%N)
ref=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", 67108864 / 1e6 / (ns / 1e9) }')
echo "bench update.sha256sum_cp_64m.mb_per_s $ref"
inst=$(awk '/^bench update.install_64m.mb_per_s/ {print $3}' <<<"$ours")
awk -v a="$inst" -v b="$ref" \
    'BEGIN { printf "bench update.install_vs_sha256sum_cp %.3f\n", a / b }'
