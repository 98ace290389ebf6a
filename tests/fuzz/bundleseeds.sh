#!/bin/bash
# tests/fuzz/bundleseeds.sh DIR - seed the bundle-decoder corpus from the
# golden vectors: header, manifest, signatures, keyring, boot control and
# slot header, each prefixed with the selector byte fuzz_bundle.c
# switches on.
set -euo pipefail
d=$1 v=${KEEL_VECTORS:-tests/vectors}/update
mkdir -p "$d"
b=$v/bundle-2of3.kbn
mlen=$(od -An -tu4 -j12 -N4 "$b" | tr -d ' ')
slen=$(od -An -tu4 -j16 -N4 "$b" | tr -d ' ')
# dd, not tail | head: a pipe cut short is SIGPIPE under pipefail
part() { dd if="$b" bs=1 skip="$1" count="$2" status=none; }
{ printf '\000'; part 0 64; } >"$d/header"
{ printf '\001'; part 64 "$mlen"; } >"$d/manifest"
{ printf '\003'; part $((64 + mlen)) "$slen"; } >"$d/sigs"
{ printf '\002'; cat "$v/keyring-2of3.bin"; } >"$d/keyring"
{ printf '\004'; cat "$v/bootctl.bin"; } >"$d/bootctl"
{ printf '\005'; cat "$v/slot-header.bin"; } >"$d/slot-header"
