#!/usr/bin/env bash
# Seeds for fuzz_peer_records: each golden record behind the byte that
# selects its decoder (even: trust list, odd: dial list).
set -euo pipefail
out=$1
mkdir -p "$out"
{ printf '\x00'; cat tests/vectors/formats/peer-trust.bin; } >"$out/trust"
{ printf '\x01'; cat tests/vectors/formats/peer-dial.bin; } >"$out/dial"
