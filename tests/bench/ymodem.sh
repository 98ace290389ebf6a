#!/usr/bin/env bash
# tests/bench/ymodem.sh KEEL PTYEXPECT BUNDLE ROOTFS - YMODEM receive at
# the console (make bench), beside lrzsz's own rb receiving the same
# file over a pty in the same run, both with sb -k (1K blocks) on the
# other end:
#   bench ymodem.rx_mb_per_s        keel: update receive, the install
#                                   it drives included
#   bench ymodem.rb_mb_per_s        lrzsz rb into a file
#   bench ymodem.rx_vs_lrzsz        keel / rb (goal: at least 0.8)
#   bench ymodem.efficiency_1k      file bytes over line bytes, 1K blocks
#   bench ymodem.minutes_16mib_115200  a 16 MiB bundle on a 115200-baud
#                                   line (8N1: 11,520 bytes a second)
set -uo pipefail
keel=${1:?keel} pe=${2:?ptyexpect} bundle=${3:?bundle} rootfs=${4:?rootfs}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
size=$(stat -c %s "$bundle")

timeout 120 "$pe" -t 60 -e 'keel> ' -s 'update receive\r' \
    -e 'start the YMODEM upload' -x "sb -k $bundle 2>/dev/null" \
    -e 'keel> ' -s 'poweroff\r' -- \
    "$keel" --flash "$d/f.img" --rootfs "$rootfs" >"$d/out" 2>&1
s=$(grep -a -o 'received [^ ]* ([0-9]* bytes in [0-9.]* s' "$d/out" |
    sed 's/.* in \([0-9.]*\) s/\1/')
if [ -n "$s" ]; then
    rx=$(awk -v b="$size" -v s="$s" 'BEGIN { printf "%.3f", b / 1e6 / s }')
    echo "bench ymodem.rx_mb_per_s $rx"
else
    echo "# ymodem: keel's receive failed: $(grep -a error "$d/out" | head -n 1)"
fi

# rb's own figure: lrzsz times the transfer itself (its BPS), as keel
# times its receive from block 0.
mkdir -p "$d/rb"
timeout 120 "$pe" -t 60 -x "sb -k $bundle 2>/dev/null" -- \
    sh -c "cd $d/rb && rb 2>$d/rb.err" >"$d/rbout" 2>&1
bps=$(tr '\r' '\n' <"$d/rb.err" | sed -n 's/.*BPS:\([0-9]*\).*/\1/p' |
    tail -n 1)
if cmp -s "$bundle" "$d/rb/$(basename "$bundle")" && [ -n "$bps" ]; then
    rb=$(awk -v b="$bps" 'BEGIN { printf "%.3f", b / 1e6 }')
    echo "bench ymodem.rb_mb_per_s $rb"
    [ -n "${rx:-}" ] &&
        awk -v a="$rx" -v b="$rb" \
            'BEGIN { printf "bench ymodem.rx_vs_lrzsz %.3f\n", a / b }'
else
    echo "# ymodem: rb did not receive the file intact"
fi

# What crosses the line, sender to receiver, with 1K blocks: block 0
# (128 + 5), the data blocks (1024 + 5 each), EOT twice, the empty
# block 0 that ends the batch.
awk -v b="$size" 'BEGIN {
    blocks = int((b + 1023) / 1024)
    line = 133 + blocks * 1029 + 2 + 133
    printf "bench ymodem.efficiency_1k %.4f\n", b / line
    m = 16 * 1048576
    mb = int((m + 1023) / 1024)
    ml = 133 + mb * 1029 + 2 + 133
    printf "bench ymodem.minutes_16mib_115200 %.1f\n", ml / 11520 / 60
}'
