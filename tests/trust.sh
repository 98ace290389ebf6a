# tests/trust.sh - issue #11 at the console: the node's own keys are not
# the console's, console keys never starve them, a full store does not
# break the chain, a verify is not disturbed by a trim, and a wrong chain
# can be dropped.  Sourced by tests/run.sh (ok, fail, keel_run, $tmp, $a,
# $k).
# shellcheck shell=bash

t=$tmp/trust
mkdir -p "$t"
f=$t/flash.img

# The node's keys cannot be written or deleted from the console (a
# deleted keyring used to be re-seeded from the image at the next start,
# bringing a revoked key back); settings stay writable.
keel_run "$a" "$f" 'store put upd.keyring x\nstore del upd.keyring\nstore del chain.state\nstore put clog.ckpt x\nstore put sec.id.0 x\nstore put id.window_days 7\nstore get id.window_days\n'
n=$(grep -c "belongs to the node\|holds a secret" "$tmp/out")
if [ "$rc" -ne 0 ] && [ "$n" -eq 5 ] && grep -q '^7$' "$tmp/out"; then
    ok "trust: the node's own store keys are refused from the console; settings are not"
else
    fail "trust: internal keys" "exit $rc, $n refusals"
    sed 's/^/    /' "$tmp/out" | tail -n 12
fi
rm -f "$f"

# Console keys stop short of the store's key limit; the chain still
# imports afterwards (254 console keys used to leave the chain with
# trailers but no state, for good).
build/tools/keel-chaingen -n 600 -o "$t/c.dat" >/dev/null
{
    for i in $(seq 1 260); do echo "store put user.k$i v$i"; done
    echo "chain import $t/c.dat"
    echo "chain info --json"
} >"$t/script"
"$k" --flash "$f" <"$t/script" >"$tmp/out" 2>&1
rc=$?
stored=$(grep -c '^keel> store put' "$tmp/out")
refused=$(grep -c 'the console may keep at most 192 keys' "$tmp/out")
printf 'chain info --json\nstore check\n' | "$k" --flash "$f" >"$t/again" 2>&1
if [ "$rc" -ne 0 ] && [ "$stored" -eq 260 ] && [ "$refused" -eq 68 ] &&
    grep -q '"tip":600' "$tmp/out" && grep -q '"tip":600' "$t/again"; then
    ok "trust: console keys stop at 192 of 256; the chain imports and survives a restart"
else
    fail "trust: store reserve" "exit $rc, $refused refused"
    grep -v '^keel> store put' "$tmp/out" | tail -n 8 | sed 's/^/    /'
fi
rm -f "$f"

# chain reset wants --force, then drops the chain; a new one imports.
keel_run "$a" "$f" "chain import $t/c.dat\\nchain reset\\nchain reset --force\\nchain info --json\\nchain import $t/c.dat\\nchain info --json\\n"
if grep -q "say 'chain reset --force'" "$tmp/out" &&
    grep -q '^chain reset: no chain stored' "$tmp/out" &&
    grep -q '"count":0' "$tmp/out" &&
    [ "$(grep -c '"tip":600' "$tmp/out")" -eq 1 ]; then
    ok "trust: chain reset --force drops the chain; it imports again"
else
    fail "trust: chain reset" "exit $rc"
    sed 's/^/    /' "$tmp/out" | tail -n 10
fi
rm -f "$f"

# At a terminal, a trim while a background verify runs is refused (it
# used to make the verify report a false failure).
build/tools/keel-chaingen -n 2000 -d 1 -o "$t/d1.dat" >/dev/null
keel_run "$a" "$f" "chain import $t/d1.dat\n"
build/tools/ptyexpect -t 120 -e 'keel> ' -s 'chain verify --pow\r' \
    -e 'keel> ' -s 'chain trim 1000\r' -e 'keel> ' -s 'chain verify\r' \
    -e 'trailers valid' -e 'keel> ' -s 'poweroff\r' \
    -- $(runner "$a") "$k" --flash "$f" >"$tmp/out" 2>&1
rc=$?
tr -d '\r' <"$tmp/out" >"$tmp/out.txt"
if grep -q 'chain trim: a verify is running; wait for it' "$tmp/out.txt" &&
    grep -q 'chain verify: 2001 trailers valid with their proofs' \
        "$tmp/out.txt"; then
    ok "trust: chain trim during a background verify is refused; the verify passes"
else
    fail "trust: trim during verify" "exit $rc"
    sed 's/^/    /' "$tmp/out.txt" | tail -n 10
fi
rm -rf "$t"
