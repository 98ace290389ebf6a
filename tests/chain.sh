# tests/chain.sh - the `chain` commands on the sim board with chains from
# keel-chaingen: import, export, verify, trim, checkpoint, forks, and
# bad input refused with the bnum and the rule.  Sourced by tests/run.sh
# (ok, fail, keel_run, expect, $tmp, $a, $k).
# shellcheck shell=bash

c=$tmp/chain
mkdir -p "$c"
cg=build/tools/keel-chaingen
f=$c/flash.img

$cg -n 2000 --pseudo-every 7 -o "$c/main.dat" >"$c/main.txt"
keel_run "$a" "$f" "chain import $c/main.dat\\nchain info\\nchain export $c/out.dat\\nchain verify\\n"
if [ "$rc" -eq 0 ] && cmp -s "$c/main.dat" "$c/out.dat" &&
    grep -q '^tip: *2000 ' "$tmp/out" &&
    grep -q "weight: *$(awk '{print $NF}' "$c/main.txt")" "$tmp/out" &&
    grep -q '^chain verify: 2001 trailers valid, weight matches' "$tmp/out"
then
    ok "chain: import 2,001 trailers; export gives the same bytes; verify"
else
    fail "chain: import/export" "exit $rc"
    sed 's/^/    /' "$tmp/out" | head -n 12
fi

# A heavier fork (difficulty 2 from 1500 on) replaces the stored chain.
$cg -n 1800 --pseudo-every 7 --fork-at 1500 --fork-difficulty 2 \
    --fork-seed 9 -o "$c/fork.dat" >/dev/null
keel_run "$a" "$f" "chain import $c/fork.dat\\nchain info --json\\n"
if [ "$rc" -eq 0 ] && grep -q 'a heavier fork replaced the stored one' \
    "$tmp/out" && grep -q '"tip":1800' "$tmp/out"; then
    ok "chain: a heavier fork replaces the stored chain"
else
    fail "chain: fork" "exit $rc"
    sed 's/^/    /' "$tmp/out" | head -n 8
fi
# ... and the lighter main chain is then left alone.
keel_run "$a" "$f" "chain import $c/main.dat\\nchain info --json\\n"
if grep -q 'is as heavy or heavier' "$tmp/out" &&
    grep -q '"tip":1800' "$tmp/out"; then
    ok "chain: the lighter chain is refused after the fork"
else
    fail "chain: lighter chain" "$(tail -n 3 "$tmp/out")"
fi
rm -f "$f"

# Bad input: a size not a multiple of 160; nothing committed.
head -c $((160 * 100 + 7)) "$c/main.dat" >"$c/short.dat"
keel_run "$a" "$f" "chain import $c/short.dat\\nchain info --json\\n"
if [ "$rc" -ne 0 ] &&
    grep -q '^error: chain import: file size 16007 is not a multiple of 160' \
        "$tmp/out" && grep -q '"count":0' "$tmp/out"; then
    ok "chain: a file not a multiple of 160 bytes is refused, nothing stored"
else
    fail "chain: odd size" "exit $rc"
    sed 's/^/    /' "$tmp/out" | head -n 6
fi

# An invalid trailer in the middle: named by bnum and rule; the prefix is
# kept, nothing after it.
$cg -n 2000 --pseudo-every 7 --break time-gap --at 1500 -o "$c/bad.dat" \
    >/dev/null
keel_run "$a" "$f" "chain import $c/bad.dat\\nchain info --json\\n"
if [ "$rc" -ne 0 ] && grep -q '^error: chain import: stopped at trailer 1500 (block time (stime - time0) above the limit); nothing past 1499 committed' "$tmp/out" &&
    grep -q '"tip":1499' "$tmp/out"; then
    ok "chain: an invalid trailer mid-file names bnum 1500 and its rule"
else
    fail "chain: invalid trailer" "exit $rc"
    sed 's/^/    /' "$tmp/out" | head -n 6
fi
rm -f "$f"

# A stime in the future of the device clock (set back to before the
# chain's block 500): refused there.
off=$(( 1700000000 + 500 * 100 - $(date +%s) ))
KEEL_SIM_CLOCK_OFFSET=$off keel_run "$a" "$f" \
    "chain import $c/main.dat\\nchain info --json\\n"
if [ "$rc" -ne 0 ] && grep -q 'is in the future' "$tmp/out" &&
    grep -q '"count":4[0-9][0-9],' "$tmp/out"; then
    ok "chain: a trailer from the device's future is refused"
else
    fail "chain: future stime" "exit $rc"
    sed 's/^/    /' "$tmp/out" | head -n 6
fi
rm -f "$f"

# A trusted checkpoint: the right one keeps history from 1000 only and
# the full weight; a wrong one is refused.
$cg -n 1000 --pseudo-every 7 -o "$c/head.dat" >"$c/head.txt"
bh=$(tail -c 32 "$c/head.dat" | od -An -v -tx1 | tr -d ' \n')
wt=$(awk '{print $NF}' "$c/head.txt")
keel_run "$a" "$f" "chain checkpoint testnet 1000 $bh $wt\\nchain import $c/main.dat\\nchain info\\n"
if [ "$rc" -eq 0 ] && grep -q '^stored: *1000 .. 2000 (1001 trailers)' \
    "$tmp/out" &&
    grep -q "weight: *$(awk '{print $NF}' "$c/main.txt")" "$tmp/out"; then
    ok "chain: a checkpoint at 1000 keeps 1000..2000 with the full weight"
else
    fail "chain: checkpoint" "exit $rc"
    sed 's/^/    /' "$tmp/out" | head -n 10
fi
rm -f "$f"
bad=$(printf '%064d' 0)
keel_run "$a" "$f" "chain checkpoint testnet 1000 $bad $wt\\nchain import $c/main.dat\\n"
if [ "$rc" -ne 0 ] && grep -q 'trailer at the checkpoint height differs' \
    "$tmp/out"; then
    ok "chain: a checkpoint mismatch is refused"
else
    fail "chain: checkpoint mismatch" "exit $rc"
    sed 's/^/    /' "$tmp/out" | head -n 6
fi
rm -f "$f"

# Proofs of work: a difficulty-2 chain verifies with --pow; trim keeps
# the weight.
$cg -n 150 -d 2 --pseudo-every 9 -o "$c/pow.dat" >/dev/null
keel_run "$a" "$f" "chain import $c/pow.dat\\nchain verify --pow\\nchain info --json\\nchain trim 100\\nchain verify\\nchain info --json\\n"
w1=$(grep -o '"weight":"[0-9a-f]*"' "$tmp/out" | head -n 1)
w2=$(grep -o '"weight":"[0-9a-f]*"' "$tmp/out" | tail -n 1)
if [ "$rc" -eq 0 ] &&
    grep -q 'trailers valid with their proofs of work' "$tmp/out" &&
    grep -q '^chain trim: keeping 100 .. 150' "$tmp/out" &&
    [ -n "$w1" ] && [ "$w1" = "$w2" ]; then
    ok "chain: verify --pow on a difficulty-2 chain; trim keeps the weight"
else
    fail "chain: verify --pow / trim" "exit $rc"
    sed 's/^/    /' "$tmp/out" | head -n 12
fi
rm -f "$f"

# At a real terminal `chain verify --pow` runs in steps in the background:
# the console answers other commands (here `uptime` and a progress query)
# before the verification ends.  2,000 blocks at difficulty 1: about two
# seconds of proofs on x86_64.
$cg -n 2000 -d 1 -o "$c/d1.dat" >/dev/null
keel_run "$a" "$f" "chain import $c/d1.dat\n"
build/tools/ptyexpect -t 120 -e 'keel> ' -s 'chain verify --pow\r' \
    -e 'keel> ' -s 'uptime\r' -e 'keel> ' -s 'chain verify\r' \
    -e 'trailers valid' -e 'keel> ' -s 'poweroff\r' \
    -- $(runner "$a") "$k" --flash "$f" >"$tmp/out" 2>&1
rc=$?
tr -d '\r' <"$tmp/out" >"$tmp/out.txt"
up=$(grep -n '^up [0-9]' "$tmp/out.txt" | head -n 1 | cut -d: -f1)
prog=$(grep -n 'chain verify: *[0-9]*%  [0-9]* of 2001 trailers  [0-9]*/s' "$tmp/out.txt" |
    head -n 1 | cut -d: -f1)
done_at=$(grep -n 'chain verify: 2001 trailers valid with their proofs' \
    "$tmp/out.txt" | head -n 1 | cut -d: -f1)
if [ "$rc" -eq 0 ] && grep -q 'started in the background' "$tmp/out.txt" &&
    [ -n "$up" ] && [ -n "$prog" ] && [ -n "$done_at" ] &&
    [ "$up" -lt "$done_at" ] && [ "$prog" -lt "$done_at" ]; then
    ok "chain: verify --pow runs in the background; the console answers meanwhile"
else
    fail "chain: background verify" "exit $rc"
    sed 's/^/    /' "$tmp/out.txt" | tail -n 12
fi
rm -f "$f"

# Ctrl-C at a terminal cancels a long import (proofs of work for 1,900
# trailers) while it validates: nothing is committed, the stored 0..100
# stay as they were.
head -c $((160 * 101)) "$c/d1.dat" >"$c/d1-head.dat"
keel_run "$a" "$f" "chain import $c/d1-head.dat\n"
build/tools/ptyexpect -t 120 -e 'keel> ' -s "chain import $c/d1.dat\r" \
    -e 'd1.dat\r' -s '\x03' -e 'keel> ' -s 'chain info --json\r' \
    -e 'keel> ' -s 'poweroff\r' \
    -- $(runner "$a") "$k" --flash "$f" >"$tmp/out" 2>&1
rc=$?
tr -d '\r' <"$tmp/out" >"$tmp/out.txt"
if [ "$rc" -eq 1 ] &&
    grep -q '^error: chain import: cancelled (Ctrl-C); nothing committed' \
        "$tmp/out.txt" && grep -q '"count":101,"first":0,"tip":100,' \
    "$tmp/out.txt" && ! grep -q 'committed;' "$tmp/out.txt"; then
    ok "chain: Ctrl-C at a terminal cancels an import; nothing committed"
else
    fail "chain: Ctrl-C on a pty" "exit $rc"
    sed 's/^/    /' "$tmp/out.txt" | tail -n 8
fi

# What is typed while a long command runs is kept, and runs after it,
# as a terminal's typeahead (node_poll): a command typed during the
# import runs once the import has committed.
build/tools/ptyexpect -t 120 -e 'keel> ' -s "chain import $c/d1.dat\r" \
    -e 'd1.dat\r' -s 'chain info --json\r' -e '"count":' \
    -e 'keel> ' -s 'poweroff\r' \
    -- $(runner "$a") "$k" --flash "$f" >"$tmp/out" 2>&1
rc=$?
tr -d '\r' <"$tmp/out" >"$tmp/out.txt"
if [ "$rc" -eq 0 ] &&
    [ "$(grep -n 'committed; tip' "$tmp/out.txt" | cut -d: -f1)" -lt \
        "$(grep -n '"count":' "$tmp/out.txt" | cut -d: -f1)" ] 2>/dev/null; then
    ok "chain: a command typed during a long import is kept and runs after it (typeahead)"
else
    fail "chain: typeahead on a pty" "exit $rc"
    sed 's/^/    /' "$tmp/out.txt" | tail -n 8
fi
rm -rf "$c"
