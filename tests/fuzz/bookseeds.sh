#!/usr/bin/env bash
# Seeds for fuzz_sync_book: one of each record behind the byte that
# selects its decoder (mod 4: 0 a half of the peer table, 1 sync.bad,
# 2 sync.seeds, 3 a SEND_IPL payload), written here by hand as
# docs/FORMAT.md describes them.
set -euo pipefail
out=$1
mkdir -p "$out"
# peer table, half 0, two entries (24 bytes each)
printf '\x00\x01\x00\x02\x00%b%b' \
    '\x0a\x4e\x00\x01\x2f\x08\x01\x00\x04\x00\x01\x00\x0a\x4e\x00\x3d\x00\xf1\x53\x65\x00\x00\x00\x00' \
    '\x0a\x4e\x00\x96\x2f\x08\x00\x02\xfe\xff\x01\x00\x0a\x4e\x00\x32\x00\x00\x00\x00\x3c\xf1\x53\x65' \
    >"$out/peers"
# sync.bad: one peer (80 bytes)
{ printf '\x01\x01\x06\x0a\x4e\x00\x16\x2f\x08'
  printf '\x80\x51\x01\x00\x00\x00\x00\x00'
  head -c 64 /dev/zero; } >"$out/bad"
# sync.seeds: two
printf '\x02\x0a\x4e\x00\x01\x2f\x08\x0a\x4e\x00\x3d\x2f\x08' >"$out/seeds"
# SEND_IPL: three addresses, one repeated
printf '\x03\x0a\x4e\x00\x01\x0a\x4e\x00\x02\x0a\x4e\x00\x01' >"$out/ipl"
