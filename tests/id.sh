# tests/id.sh - the `id` and `status` commands against the openssl
# command line.  Sourced by tests/run.sh, which provides ok, fail,
# keel_run, expect, $k (the native keel), $a (its arch) and $tmp.
# shellcheck shell=bash

d=$tmp/id
mkdir -p "$d"
f=$d/flash.img
printf 'keel interop message\n' >"$d/msg"

# id_field NAME -> the value of "NAME":"..." or "NAME":N in $tmp/out
id_field() {
    grep -oE "\"$1\":(\"[^\"]*\"|[0-9]+)" "$tmp/out" | head -n 1 |
        sed -E 's/^[^:]+://; s/"//g'
}

# First boot makes the identity; status and id show report it.
keel_run "$a" "$f" 'status\nid show\nid show --json\n'
expect "id: first boot makes the identity" 'first boot, making the identity' \
    '^identity: ready, generation 1' '^fingerprint: [0-9a-f]{64}$' \
    '^algorithm: +ECDSA P-256' '"rotation":"none"' '"window_days":14'
fp1=$(id_field fingerprint)

# Export parses in openssl; the fingerprint is SHA-256 of the SPKI.
keel_run "$a" "$f" "id export $d/pub.pem\\n"
if [ "$rc" -eq 0 ] && openssl pkey -pubin -in "$d/pub.pem" -noout 2>/dev/null &&
    [ "$(openssl pkey -pubin -in "$d/pub.pem" -outform DER | sha256sum |
        cut -d' ' -f1)" = "$fp1" ]; then
    ok "id: exported PEM parses in openssl; fingerprint = SHA-256(SPKI)"
else
    fail "id: export" "exit $rc"
fi

# id sign -> openssl verifies, and refuses a tampered message.
keel_run "$a" "$f" "id sign $d/msg --out $d/sig.der\\nid sign --hex 6b65656c\\n"
if [ "$rc" -eq 0 ] &&
    openssl dgst -sha256 -verify "$d/pub.pem" -signature "$d/sig.der" \
        "$d/msg" >/dev/null 2>&1 &&
    grep -qE '^30[0-9a-f]{130,142}$' "$tmp/out"; then
    printf 'keel interop messagE\n' >"$d/msg2"
    if openssl dgst -sha256 -verify "$d/pub.pem" -signature "$d/sig.der" \
        "$d/msg2" >/dev/null 2>&1; then
        fail "id: openssl accepted a signature over another message"
    else
        ok "id: 'id sign' signature verifies with openssl dgst -verify"
    fi
else
    fail "id: sign/openssl verify" "exit $rc"
fi
# id sign --hex signs the bytes the hex names: openssl agrees.
grep -oE '^30[0-9a-f]+$' "$tmp/out" | xxd -r -p >"$d/hsig.der"
printf keel >"$d/keel.txt"
if openssl dgst -sha256 -verify "$d/pub.pem" -signature "$d/hsig.der" \
    "$d/keel.txt" >/dev/null 2>&1; then
    ok "id: 'id sign --hex' signs the decoded bytes"
else
    fail "id: sign --hex"
fi

# openssl signs with its own key -> id verify --key accepts; tampered no.
openssl ecparam -name prime256v1 -genkey -out "$d/ossl.pem" 2>/dev/null
openssl pkey -in "$d/ossl.pem" -pubout -out "$d/ossl-pub.pem"
openssl dgst -sha256 -sign "$d/ossl.pem" -out "$d/osig.der" "$d/msg"
keel_run "$a" "$f" "id verify $d/msg $d/osig.der --key $d/ossl-pub.pem\\n"
expect "id: openssl signature verifies with 'id verify --key'" \
    '^verified: with the given key'
keel_run "$a" "$f" "id verify $d/msg2 $d/osig.der --key $d/ossl-pub.pem\\n"
if [ "$rc" -ne 0 ] && grep -q 'does NOT verify' "$tmp/out"; then
    ok "id: 'id verify' refuses a signature over another message"
else
    fail "id: verify tampered" "exit $rc"
fi

# Bad key files: a clear error naming the problem, nothing written.
printf -- '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n' \
    >"$d/trunc.pem"
printf -- '-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n' \
    >"$d/garbage.pem"
openssl ecparam -name secp384r1 -genkey -noout -out "$d/p384.pem" 2>/dev/null
openssl pkey -in "$d/ossl.pem" -outform DER -out "$d/ossl.der"
head -c 60 "$d/ossl.der" >"$d/trunc.der"
head -c 9000 /dev/urandom >"$d/big.pem"
for bad in "trunc.pem:truncated PEM" "garbage.pem:malformed PEM" \
    "p384.pem:wrong curve secp384r1" "trunc.der:truncated" \
    "big.pem:larger than any key file" "pub.pem:a public key" \
    "nosuch.pem:cannot open"; do
    file=${bad%%:*} why=${bad#*:}
    keel_run "$a" "$f" "id import $d/$file\\nid show --json\\n"
    fp=$(id_field fingerprint)
    if [ "$rc" -ne 0 ] && grep -q "^error: .*$why" "$tmp/out" &&
        [ "$fp" = "$fp1" ] && grep -q '"generation":1' "$tmp/out"; then
        ok "id: import of $file refused ($why), nothing written"
    else
        fail "id: import of $file" "exit $rc, fp ${fp:0:16}"
        sed 's/^/    /' "$tmp/out" | head -n 8
    fi
done

# An openssl key imports; keel's signature then verifies with its public
# key, and openssl's own signature verifies with 'id verify'.
keel_run "$a" "$f" "id import $d/ossl.pem\\nid sign $d/msg --out $d/s2.der\\nid verify $d/msg $d/osig.der\\nid show --json\\n"
if [ "$rc" -eq 0 ] && grep -q '^imported: generation 2' "$tmp/out" &&
    openssl dgst -sha256 -verify "$d/ossl-pub.pem" -signature "$d/s2.der" \
        "$d/msg" >/dev/null 2>&1 &&
    grep -q '^verified: with the current identity key' "$tmp/out" &&
    [ "$(id_field fingerprint)" = "$(openssl pkey -in "$d/ossl.pem" -pubout \
        -outform DER | sha256sum | cut -d' ' -f1)" ]; then
    ok "id: an openssl key imports; signatures verify both ways"
else
    fail "id: import openssl key" "exit $rc"
    sed 's/^/    /' "$tmp/out" | head -n 12
fi

# Rotation: both keys verify in the window; the statement's old key is
# the one before; a second rotation waits for the window.
keel_run "$a" "$f" "id rotate --window 3\\nid show --json\\nid verify $d/msg $d/osig.der\\nid rotate\\n"
fp2=$(id_field fingerprint)
old=$(id_field old_fingerprint)
if grep -q '^rotated: generation 3' "$tmp/out" &&
    grep -q '"rotation":"overlap"' "$tmp/out" &&
    [ "$old" = "$(openssl pkey -in "$d/ossl.pem" -pubout -outform DER |
        sha256sum | cut -d' ' -f1)" ] &&
    grep -q '^verified: with the old key' "$tmp/out" &&
    grep -q '^error: id rotate: a rotation.s overlap window is open' \
        "$tmp/out"; then
    ok "id: rotate; old key verifies in the window; next rotation waits"
else
    fail "id: rotate" "exit $rc"
    sed 's/^/    /' "$tmp/out" | head -n 12
fi
# Four days later the old key is retired and no longer verifies.
KEEL_SIM_CLOCK_OFFSET=$((4 * 86400)) keel_run "$a" "$f" \
    "id show --json\\nid verify $d/msg $d/osig.der\\n"
if grep -q '"rotation":"retired"' "$tmp/out" &&
    grep -q 'old key retired' "$tmp/out" &&
    grep -q 'does NOT verify' "$tmp/out" &&
    [ "$(id_field fingerprint)" = "$fp2" ]; then
    ok "id: after the window the old key is retired and refused"
else
    fail "id: window end" "exit $rc"
    sed 's/^/    /' "$tmp/out" | head -n 12
fi

# Both copies gone (the store erased), the marker remembers: lost.
# Erased NOR reads 0xff: 510 sectors of 4 KiB from offset 0x2000.
head -c $((0x1fe000)) /dev/zero | tr '\000' '\377' |
    dd of="$f" bs=4096 seek=2 conv=notrunc status=none
keel_run "$a" "$f" "status\\nstatus --json\\nid show\\nid sign --hex 00\\n"
if [ "$rc" -ne 0 ] && grep -q 'identity: LOST' "$tmp/out" &&
    grep -q '"peers":"refused"' "$tmp/out" &&
    grep -q '^state: *lost' "$tmp/out" &&
    grep -q '^error: identity lost' "$tmp/out" &&
    ! grep -q 'first boot' "$tmp/out"; then
    ok "id: copies gone, marker present: 'identity lost', nothing invented"
else
    fail "id: lost" "exit $rc"
    sed 's/^/    /' "$tmp/out" | head -n 14
fi
keel_run "$a" "$f" "id new\\nid new --force\\nstatus\\n"
if grep -q "^error: id new: .*--force" "$tmp/out" &&
    grep -q '^new identity: generation 4' "$tmp/out" &&
    grep -q '^identity: ready, generation 4' "$tmp/out"; then
    ok "id: 'id new --force' leaves the lost state (generation 4)"
else
    fail "id: new --force" "exit $rc"
    sed 's/^/    /' "$tmp/out" | head -n 10
fi
rm -rf "$d"
