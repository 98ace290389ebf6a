#!/bin/bash
# tests/fuzz/bundleseeds.sh DIR - seed the bundle-decoder corpus from the
# golden vectors: header, manifest, signatures, keyring and boot control,
# each prefixed with the selector byte fuzz_bundle.c switches on.
set -euo pipefail
d=$1 v=${KEEL_VECTORS:-tests/vectors}/update
mkdir -p "$d"
b=$v/bundle-2of3.kbn
mlen=$(od -An -tu4 -j12 -N4 "$b" | tr -d ' ')
slen=$(od -An -tu4 -j16 -N4 "$b" | tr -d ' ')
{ printf '\000'; head -c 64 "$b"; } >"$d/header"
{ printf '\001'; tail -c +65 "$b" | head -c "$mlen"; } >"$d/manifest"
{ printf '\003'; tail -c +$((65 + mlen)) "$b" | head -c "$slen"; } >"$d/sigs"
{ printf '\002'; cat "$v/keyring-2of3.bin"; } >"$d/keyring"
{ printf '\004'; cat "$v/bootctl.bin"; } >"$d/bootctl"
