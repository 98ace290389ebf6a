#!/usr/bin/env bash
# Seeds for fuzz_peer_records: each golden record behind the byte that
# selects its decoder (mod 9: 0 trust list, 1 dial list, 2 operator keys,
# 3 quarantine list, 4 p2p announce, 5 stored drops, 6 request, 7 piece,
# 8 nak).
set -euo pipefail
out=$1
mkdir -p "$out"
{ printf '\x00'; cat tests/vectors/formats/peer-trust.bin; } >"$out/trust"
{ printf '\x01'; cat tests/vectors/formats/peer-dial.bin; } >"$out/dial"
{ printf '\x02'; cat tests/vectors/formats/operator-keys.bin; } >"$out/ops"
printf '\x03QRN1\x00\x00' >"$out/quarantine" # the empty quarantine list
printf '\x04\x02\x00' >"$out/announce" # an announce of nothing
{ printf '\x04'; cat tests/vectors/formats/p2p-announce.bin; } >"$out/announce-part"
{ printf '\x05'; cat tests/vectors/formats/p2p-bans.bin; } >"$out/bans"
{ printf '\x06'; head -c 36 /dev/zero; } >"$out/request"
{ printf '\x07'; head -c 40 /dev/zero; printf 'piece'; } >"$out/piece"
{ printf '\x08'; head -c 36 /dev/zero; printf '\x04'; } >"$out/nak"
