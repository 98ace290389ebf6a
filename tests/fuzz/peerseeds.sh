#!/usr/bin/env bash
# Seeds for fuzz_peer_records: each golden record behind the byte that
# selects its decoder (mod 5: 0 trust list, 1 dial list, 2 operator keys,
# 3 quarantine list, 4 p2p announce).
set -euo pipefail
out=$1
mkdir -p "$out"
{ printf '\x00'; cat tests/vectors/formats/peer-trust.bin; } >"$out/trust"
{ printf '\x01'; cat tests/vectors/formats/peer-dial.bin; } >"$out/dial"
{ printf '\x02'; cat tests/vectors/formats/operator-keys.bin; } >"$out/ops"
printf '\x03QRN1\x00\x00' >"$out/quarantine" # the empty quarantine list
printf '\x04\x01\x00' >"$out/announce" # an announce of nothing
