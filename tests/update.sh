# tests/update.sh - bundles end to end on the sim board: keys made by
# openssl, a 2-of-3 keyring, one signature through `keel-bundle sign`
# and one through `digest` + `openssl dgst -sign` + `attach-signature`,
# install, keel-boot's trial, confirm, a bundle whose node fails at start
# rolled back, a trial that does not unpack, automatic confirmation,
# keel-boot's --workdir handling, and keel-boot with both control-block
# copies corrupt.  Sourced by tests/run.sh (ok, fail, $tmp, $a).
# shellcheck shell=bash

u=$tmp/upd
mkdir -p "$u"
kb=build/tools/keel-bundle
ke=build/$BOARD-$a/keel
kboot=build/$BOARD-$a/keel-boot
f=$u/flash.img

for i in 1 2 3; do
    openssl ecparam -name prime256v1 -genkey -noout -out "$u/k$i.pem" \
        2>/dev/null
done
$kb keyring create --threshold 2 -o "$u/keyring" "$u/k1.pem" "$u/k2.pem" \
    "$u/k3.pem" >/dev/null
mkdir -p "$u/rootfs/etc/keel"
cp "$u/keyring" "$u/rootfs/etc/keel/keyring"

# mkbundle NAME VERSION COUNTER PROGRAM: a bundle whose bin/keel is
# PROGRAM, signed by k1 (sign) and k2 (openssl + attach-signature).
mkbundle() {
    $kb archive "$u/$1.kar" bin/keel="$4" etc/keel/keyring="$u/keyring" \
        >/dev/null &&
        $kb create --payload "$u/$1.kar" --board "$BOARD" --version "$2" \
            --counter "$3" -o "$u/$1.kbn" >/dev/null &&
        $kb sign "$u/$1.kbn" --key "$u/k1.pem" >/dev/null &&
        $kb digest "$u/$1.kbn" --manifest "$u/$1.man" >/dev/null &&
        openssl dgst -sha256 -sign "$u/k2.pem" -out "$u/$1.sig" \
            "$u/$1.man" &&
        openssl pkey -in "$u/k2.pem" -pubout -out "$u/k2.pub" &&
        $kb attach-signature "$u/$1.kbn" "$u/$1.sig" --key "$u/k2.pub" \
            >/dev/null
}

if mkbundle good 0.2.0 1 "$ke" &&
    $kb verify "$u/good.kbn" --keyring "$u/keyring" --board "$BOARD" \
        >"$tmp/out" 2>&1 &&
    grep -q 'verified (2 of 2 required' "$tmp/out"; then
    ok "update: openssl keys, 2-of-3 keyring; sign + openssl/attach verify"
else
    fail "update: bundle with openssl signatures" "$(cat "$tmp/out")"
fi

# A bundle may carry a chain checkpoint, covered by the signatures.
bh=7ca8712a48aa9759274fe959960df639b837ce4d5b7457b4d51dd2734c639d6a
wt=00000000000000000000000000000000000000000000000000000000000003e6
if $kb create --payload "$u/good.kar" --board "$BOARD" --version 0.2.1 \
    --counter 1 --checkpoint "1000:$bh:$wt" -o "$u/ck.kbn" >/dev/null &&
    $kb sign "$u/ck.kbn" --key "$u/k1.pem" >/dev/null &&
    $kb sign "$u/ck.kbn" --key "$u/k3.pem" >/dev/null &&
    $kb verify "$u/ck.kbn" --keyring "$u/keyring" >/dev/null 2>&1 &&
    $kb inspect "$u/ck.kbn" --json |
    grep -q "\"checkpoint\":{\"bnum\":1000,\"bhash\":\"$bh\",\"weight\":\"$wt\",\"network\":\"mainnet\"}" &&
    ! $kb create --payload "$u/good.kar" --board "$BOARD" --version 0.2.1 \
        --counter 1 --checkpoint "1000:$bh:3e6" -o "$u/x.kbn" 2>"$tmp/out" &&
    grep -q 'checkpoint wants \[NET:\]BNUM:BHASH:WEIGHT' "$tmp/out" &&
    [ ! -e "$u/x.kbn" ]; then
    ok "keel-bundle: a signed chain checkpoint in the manifest; a bad one refused"
else
    fail "keel-bundle: checkpoint" "$(cat "$tmp/out")"
fi

# A signature over another manifest is not attached.
$kb digest "$u/good.kbn" --manifest "$u/m2" >/dev/null
printf x >>"$u/m2"
openssl dgst -sha256 -sign "$u/k3.pem" -out "$u/bad.sig" "$u/m2"
openssl pkey -in "$u/k3.pem" -pubout -out "$u/k3.pub"
if ! $kb attach-signature "$u/good.kbn" "$u/bad.sig" --key "$u/k3.pub" \
    >"$tmp/out" 2>&1 && grep -q 'does not verify' "$tmp/out"; then
    ok "update: attach-signature refuses a signature over other bytes"
else
    fail "update: attach-signature of a bad signature"
fi

# Install with keel alone (factory), then keel-boot tries it; confirm.
printf 'update install %s\nupdate status\n' "$u/good.kbn" |
    timeout 60 "$ke" --flash "$f" --rootfs "$u/rootfs" >"$tmp/out" 2>&1
if grep -q '^installed 0.2.0 (counter 1) into slot a' "$tmp/out" &&
    grep -q '^install: 100%' "$tmp/out" &&
    grep -q '^slot a: *ready' "$tmp/out"; then
    ok "update: install verifies and writes slot a, with progress"
else
    fail "update: install" "$(tail -n 5 "$tmp/out")"
fi
printf 'update status\nupdate confirm\nupdate status --json\n' |
    timeout 60 "$kboot" --flash "$f" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q 'slot a on trial' "$tmp/out" &&
    grep -q '^slot a: *trial' "$tmp/out" &&
    grep -q '^confirmed: slot a is good' "$tmp/out" &&
    grep -q '"anti_rollback":1' "$tmp/out"; then
    ok "update: keel-boot boots the trial; update confirm makes it good"
else
    fail "update: trial and confirm" "exit $rc"
    sed 's/^/    /' "$tmp/out" | tail -n 12
fi

# A node that exits 3 at start: three failed trials, then slot a again.
printf '#!/bin/sh\necho "broken node"\nexit 3\n' >"$u/broken.sh"
chmod +x "$u/broken.sh"
mkbundle broken 0.3.0 1 "$u/broken.sh"
printf 'update install %s\nreboot\n' "$u/broken.kbn" |
    timeout 60 "$kboot" --flash "$f" >"$tmp/out" 2>&1
rc=$?
n=$(grep -c 'slot b exited with status 3 during its trial' "$tmp/out")
if [ "$rc" -eq 0 ] && [ "$n" -eq 3 ] &&
    grep -q 'slot b: trial out of tries, marking it bad' "$tmp/out" &&
    [ "$(grep -c 'slot a (good)' "$tmp/out")" -ge 2 ]; then
    ok "update: a node failing at start is rolled back after 3 trials"
else
    fail "update: rollback of a failing node" "exit $rc, $n failed trials"
    sed 's/^/    /' "$tmp/out" | tail -n 14
fi
# The log tells the story across the boots: keel-boot's decisions (the
# failed trials, the rollback, the slot started) and keel's lines, each
# under its boot number; `log show --boot -1` is the boot before.
printf 'log show\nlog show --boot -1\n' |
    timeout 60 "$kboot" --flash "$f" >"$tmp/out" 2>&1
lb=$(sed -n 's/^\([0-9]*\) info .*keel-boot: boot [0-9]*: starting slot a$/\1/p' \
    "$tmp/out" | sort -n | tail -n 1)
if [ "$(grep -c 'keel-boot: boot [0-9]*: slot b exited with status 3 during its trial' "$tmp/out")" -ge 3 ] &&
    grep -q 'keel-boot: slot b: trial out of tries, marking it bad' "$tmp/out" &&
    [ -n "$lb" ] &&
    grep -q "^$lb info .* boot $lb: keel 0.1.0 .*under keel-boot" "$tmp/out" &&
    grep -q "^$((lb - 1)) .*keel-boot: boot $((lb - 1)): starting slot" \
        <(sed -n '/^keel> log show --boot -1/,$p' "$tmp/out"); then
    ok "log: keel-boot's decisions and keel's lines survive reboots, by boot number"
else
    fail "log: across boots" "boot $lb"
    grep -E '^[0-9]+ ' "$tmp/out" | tail -n 12 | sed 's/^/    /'
fi
# The reason survives in boot control: update status says why.
printf 'update status\nupdate status --json\n' |
    timeout 60 "$kboot" --flash "$f" >"$tmp/out" 2>&1
if grep -q '^slot b: *bad, version 0.3.0.*; last: trial_exhausted$' \
    "$tmp/out" && grep -q '^slot a: *good.*; last: confirmed$' "$tmp/out" &&
    grep -q '"b":{"state":"bad",.*"result":"trial_exhausted"}' "$tmp/out"; then
    ok "update: status tells each slot's last result (trial_exhausted)"
else
    fail "update: slot results" "$(grep '^slot' "$tmp/out")"
fi

# A signed trial whose payload is no archive: keel-boot marks it bad
# (boot_unpack) and boots the good slot in the same run.
head -c 20000 /dev/urandom >"$u/noarch.bin"
$kb create --payload "$u/noarch.bin" --board "$BOARD" --version 0.3.1 \
    --counter 1 -o "$u/noarch.kbn" >/dev/null &&
    $kb sign "$u/noarch.kbn" --key "$u/k1.pem" >/dev/null &&
    $kb sign "$u/noarch.kbn" --key "$u/k2.pem" >/dev/null
printf 'update install %s\nreboot\n' "$u/noarch.kbn" |
    timeout 60 "$kboot" --flash "$f" >"$tmp/out" 2>&1
rc=$?
printf 'update status\n' | timeout 60 "$kboot" --flash "$f" >>"$tmp/out" 2>&1
if [ "$rc" -eq 0 ] &&
    grep -q 'slot b on trial' "$tmp/out" &&
    grep -q "slot b: archive does not unpack (payload is not a keel archive); marking it bad (boot_unpack)" "$tmp/out" &&
    [ "$(grep -c 'slot a (good)' "$tmp/out")" -ge 2 ] &&
    grep -q '^slot b: *bad, version 0.3.1.*; last: boot_unpack$' "$tmp/out"; then
    ok "update: a trial whose archive does not unpack is marked bad (boot_unpack); slot a boots in the same run"
else
    fail "update: unpack failure" "exit $rc"
    sed 's/^/    /' "$tmp/out" | tail -n 14
fi

# A healthy update confirms itself after update.confirm_after_s.
mkbundle next 0.4.0 2 "$ke"
printf 'store put update.confirm_after_s 0\nupdate install %s\nreboot\n' \
    "$u/next.kbn" | timeout 60 "$kboot" --flash "$f" >"$tmp/out" 2>&1
printf 'update status --json\n' | timeout 60 "$kboot" --flash "$f" \
    >>"$tmp/out" 2>&1
if grep -q 'slot b confirmed after 0 s of health' "$tmp/out" &&
    grep -q '"primary":"b"' "$tmp/out" &&
    grep -q '"anti_rollback":2' "$tmp/out"; then
    ok "update: a healthy trial confirms itself; counter rises to 2"
else
    fail "update: automatic confirm" "$(tail -n 6 "$tmp/out")"
fi

# The same on a disk (--flash blk:): the slots are block partitions,
# each written in place and synced once; keel-boot verifies, boots and
# confirms them as on flash.
bd=$u/disk.img
printf 'update install %s\n' "$u/good.kbn" |
    timeout 60 "$ke" --flash "blk:$bd" --rootfs "$u/rootfs" >"$tmp/out" 2>&1
printf 'update confirm\nstore put update.confirm_after_s 0\nupdate install %s\nreboot\n' \
    "$u/next.kbn" | timeout 60 "$kboot" --flash "blk:$bd" \
    --workdir "$u/disk.boot" >>"$tmp/out" 2>&1
printf 'update status --json\n' | timeout 60 "$kboot" --flash "blk:$bd" \
    --workdir "$u/disk.boot" >>"$tmp/out" 2>&1
if grep -q '^installed 0.2.0 (counter 1) into slot a' "$tmp/out" &&
    grep -q '^confirmed: slot a is good' "$tmp/out" &&
    grep -q '^installed 0.4.0 (counter 2) into slot b' "$tmp/out" &&
    grep -q 'slot b confirmed after 0 s of health' "$tmp/out" &&
    grep -q '"primary":"b"' "$tmp/out"; then
    ok "update: on a disk (blk:), slots written in place: install, trial, confirm"
else
    fail "update: on a disk (blk:)" "$(tail -n 6 "$tmp/out")"
fi
rm -rf "$bd" "$u/disk.boot"

# The metrics page of a node that has installed, refused a bundle and
# imported a chain passes promtool's checks.
build/tools/keel-chaingen -n 30 -o "$u/tf.dat" >/dev/null 2>&1
printf 'update install %s\nchain import %s\nmetrics\n' "$u/good.kbn" \
    "$u/tf.dat" | timeout 60 "$kboot" --flash "$f" 2>/dev/null |
    sed -n '/^keel> metrics$/,/^keel> $/p' | sed '1d;$d' >"$u/metrics.txt"
if ! command -v promtool >/dev/null; then
    skip "metrics: promtool check" "promtool is not installed (Debian's prometheus; scripts/setup.sh)"
elif promtool check metrics <"$u/metrics.txt" >"$tmp/out" 2>&1 &&
    grep -q '^keel_update_rejected_total{reason="counter_rollback"} 1$' \
        "$u/metrics.txt" &&
    grep -q '^keel_chain_trailers 31$' "$u/metrics.txt" &&
    grep -q '^keel_peer_handshakes_total' "$u/metrics.txt" &&
    grep -q '^keel_log_records_total' "$u/metrics.txt"; then
    ok "metrics: one page for every subsystem; promtool check metrics accepts it ($(grep -c '^# TYPE' "$u/metrics.txt") families)"
else
    fail "metrics: promtool" "$(head -n 5 "$tmp/out")"
fi

# A correctly signed older bundle is refused: the downgrade attack.
printf 'update install %s\nupdate status\nupdate log\nupdate metrics\n' \
    "$u/good.kbn" | timeout 60 "$kboot" --flash "$f" >"$tmp/out" 2>&1
if grep -q 'error: update install: security counter 1 is below the anti-rollback counter 2' "$tmp/out"; then
    ok "update: a signed but older bundle is refused (downgrade)"
else
    fail "update: downgrade" "$(tail -n 4 "$tmp/out")"
fi
# ... logged, counted by reason, and named in update status.
if grep -q '^keel: update: refused counter_rollback: security counter 1' \
    "$tmp/out" &&
    grep -q '^last refusal:  counter_rollback: security counter 1' \
        "$tmp/out" &&
    grep -qE '^[0-9]+  refused counter_rollback: ' "$tmp/out" &&
    grep -q '^keel_update_rejected_total{reason="counter_rollback"} 1$' \
        "$tmp/out" &&
    grep -q '^keel_update_rejected_total{reason="bad_signature"} 0$' \
        "$tmp/out" &&
    grep -q '^keel_update_antirollback_floor 2$' "$tmp/out"; then
    ok "update: the refusal is logged and counted per reason (metrics)"
else
    fail "update: audit" "$(grep -E 'refus|rejected_total' "$tmp/out")"
fi
# Rotating the keyring with a signed keyring file: k3 out, a new k4 in.
openssl ecparam -name prime256v1 -genkey -noout -out "$u/k4.pem" 2>/dev/null
$kb keyring revoke "$u/keyring" "$u/k3.pem" -o "$u/kr2" >/dev/null
$kb keyring add "$u/kr2" "$u/k4.pem" -o "$u/kr3" >/dev/null
$kb keyring sign "$u/kr3" --key "$u/k1.pem" -o "$u/kr3.ksk" >/dev/null
printf 'update keyring %s\n' "$u/kr3.ksk" |
    timeout 60 "$kboot" --flash "$f" >"$tmp/out" 2>&1
$kb keyring sign "$u/kr3.ksk" --key "$u/k2.pem" -o "$u/kr3.ksk" >/dev/null
printf 'update keyring %s\nupdate status --json\n' "$u/kr3.ksk" |
    timeout 60 "$kboot" --flash "$f" >>"$tmp/out" 2>&1
if grep -q "error: update keyring: needs 2 signatures by keyring keys, has 1" \
    "$tmp/out" && grep -q '^keyring: version 3, 2 of 3 keys' "$tmp/out" &&
    grep -q '"keyring":{"version":3' "$tmp/out"; then
    ok "update: keyring rotated by a signed keyring file (k1 + k2, in old and new)"
else
    fail "update: keyring file" "$(tail -n 6 "$tmp/out")"
fi
printf 'update keyring\nupdate keyring --json\n' |
    timeout 60 "$kboot" --flash "$f" >"$tmp/out" 2>&1
kid1=$(openssl pkey -in "$u/k1.pem" -pubout -outform DER 2>/dev/null |
    sha256sum | cut -c1-64)
if grep -q '^version: *3$' "$tmp/out" &&
    grep -q '^threshold: 2 of 3 keys$' "$tmp/out" &&
    [ "$(grep -cE '^key [0-9]+ +[0-9a-f]{64}$' "$tmp/out")" -eq 3 ] &&
    grep -q "$kid1" "$tmp/out" &&
    grep -q '^{"version":3,"threshold":2,"expires":0,"keys":\["' "$tmp/out"; then
    ok "update keyring: shows the version, threshold and key ids"
else
    fail "update keyring (show)" "$(head -n 8 "$tmp/out")"
fi

# Ctrl-C at a real terminal: a 40 MiB install is cancelled part-way.
ptyx=build/tools/ptyexpect
head -c $((40 << 20)) /dev/urandom >"$u/big.bin"
$kb create --payload "$u/big.bin" --board "$BOARD" --version 0.9.0 \
    --counter 1 -o "$u/big.kbn" >/dev/null &&
    $kb sign "$u/big.kbn" --key "$u/k1.pem" >/dev/null &&
    $kb sign "$u/big.kbn" --key "$u/k2.pem" >/dev/null
$ptyx -t 60 -e 'keel> ' -s "update install $u/big.kbn\r" -e 'install:' \
    -s '\x03' -e 'keel> ' -s 'update status\r' -e 'keel> ' -s 'poweroff\r' \
    -- "$ke" --flash "$u/pty.img" --rootfs "$u/rootfs" >"$tmp/out" 2>&1
rc=$?
tr -d '\r' <"$tmp/out" >"$tmp/out.txt"
if [ "$rc" -eq 1 ] &&
    grep -q '^error: update install: cancelled; slot a marked bad, the running slot is untouched' "$tmp/out.txt" &&
    grep -q 'slot a: *bad, version 0.9.0.*; last: cancelled$' "$tmp/out.txt" &&
    ! grep -q 'install: 100%' "$tmp/out.txt"; then
    ok "update: Ctrl-C at a terminal stops an install; the slot is marked bad"
else
    fail "update: Ctrl-C on a pty" "exit $rc"
    sed 's/^/    /' "$tmp/out.txt" | tail -n 12
fi

# keel-boot never hands a path to a shell: a --workdir holding quotes
# and commands is just a directory name.
wq="$u/q'; rm -rf '$u/canary'; touch '$u/pwned'; echo '"
mkdir -p "$wq" && : >"$u/canary"
printf 'update status\n' |
    timeout 60 "$kboot" --flash "$f" --workdir "$wq" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ -e "$u/canary" ] && [ ! -e "$u/pwned" ] &&
    grep -q '^running: *slot [ab]$' "$tmp/out"; then
    ok "keel-boot: a --workdir with quotes runs no command and deletes nothing else"
else
    fail "keel-boot: quoted --workdir" "exit $rc$([ -e "$u/pwned" ] &&
        echo ', a command ran')$([ -e "$u/canary" ] || echo ', canary gone')"
    sed 's/^/    /' "$tmp/out" | tail -n 6
fi
# A work directory too long for keel-boot's paths is refused, never cut
# short: the sibling that a cut path would name keeps its files.
wl="$u/long"
while [ ${#wl} -lt 640 ]; do wl="$wl/$(printf 'd%.0s' $(seq 100))"; done
sib=${wl:0:599}
mkdir -p "$wl" "$sib" && : >"$sib/canary"
printf 'update status\n' |
    timeout 60 "$kboot" --flash "$f" --workdir "$wl" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && [ -e "$sib/canary" ] && [ ! -e "$wl/slot-b" ] &&
    [ ! -e "$wl/slot-a" ] && grep -q 'keel-boot: --workdir is too long' "$tmp/out"; then
    ok "keel-boot: an overlong --workdir is refused; nothing is deleted"
else
    fail "keel-boot: overlong --workdir" "exit $rc$([ -e "$sib/canary" ] ||
        echo ', canary gone')"
    sed 's/^/    /' "$tmp/out" | tail -n 6
fi

# Boot control unreadable (both control-block copies corrupt): keel-boot
# boots a slot that verifies by its signatures against the store's
# keyring, writes nothing, and tells the node (KEEL_BOOT_DEGRADED=1).
d=$u/deg.img
flip() { # FILE OFFSET: invert the byte at OFFSET
    local b
    b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 0xff)))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
ctlsum() { dd if="$d" bs=4096 count=2 status=none | sha256sum; }
printf '#!/bin/sh\necho "degraded node: slot=$KEEL_SLOT degraded=$KEEL_BOOT_DEGRADED"\nexit 3\n' \
    >"$u/degnode.sh"
chmod +x "$u/degnode.sh"
mkbundle degb 0.3.0 1 "$u/degnode.sh"
printf 'update install %s\n' "$u/good.kbn" |
    timeout 60 "$ke" --flash "$d" --rootfs "$u/rootfs" >"$tmp/out" 2>&1
printf 'update confirm\nupdate install %s\n' "$u/degb.kbn" |
    timeout 60 "$kboot" --flash "$d" >>"$tmp/out" 2>&1
if grep -q '^confirmed: slot a is good' "$tmp/out" &&
    grep -q '^installed 0.3.0 (counter 1) into slot b' "$tmp/out"; then
    flip "$d" 20
    flip "$d" $((4096 + 20))
    before=$(ctlsum)
    printf 'version\n' |
        timeout 60 "$kboot" --flash "$d" >"$tmp/out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] && [ "$(ctlsum)" = "$before" ] &&
        grep -q 'keel-boot: boot control unreadable' "$tmp/out" &&
        grep -q '^degraded node: slot=b degraded=1$' "$tmp/out" &&
        grep -q 'slot b exited with status 3' "$tmp/out" &&
        grep -q 'keel-boot: slot a (degraded' "$tmp/out" &&
        grep -q '^keel 0.1.0 (board sim' "$tmp/out"; then
        ok "keel-boot: boot control corrupt: the signed slots boot (b, then a after b fails); nothing written"
    else
        fail "keel-boot: degraded boot" "exit $rc"
        sed 's/^/    /' "$tmp/out" | tail -n 14
    fi
    # The node says what happened, and an operator rebuilds boot control
    # from the running slot (on a copy: the flips below need the
    # original).
    cp "$d" "$d.rec"
    printf 'status\nupdate status\nupdate install %s\nupdate recover\nupdate recover --force\nupdate status\nstatus --json\n' \
        "$u/good.kbn" |
        timeout 60 "$kboot" --flash "$d.rec" >"$tmp/out" 2>&1
    printf 'update status --json\n' |
        timeout 60 "$kboot" --flash "$d.rec" >"$tmp/out2" 2>&1
    if grep -q '^damage: *bootctl: both boot-control copies are corrupt' \
        "$tmp/out" && grep -q '^damage: *boot: keel-boot booted without' \
        "$tmp/out" && grep -q '^boot control: *CORRUPT' "$tmp/out" &&
        grep -q '^error: update: both boot-control copies are corrupt' \
            "$tmp/out" &&
        grep -q "say 'update recover --force'" "$tmp/out" &&
        grep -q '^update recover: boot control rebuilt: slot a good' \
            "$tmp/out" &&
        grep -q '^slot a: *good, version 0.2.0.*last: recovered' "$tmp/out" &&
        grep -q '"damage":\["boot"\]' "$tmp/out" &&
        grep -q 'keel-boot: slot a (good)' "$tmp/out2" &&
        grep -q '"primary":"a"' "$tmp/out2"; then
        ok "update recover --force: boot control rebuilt from the signed running slot; the next boot is normal"
    else
        fail "update recover" "$(grep -E 'error|damage|recover' "$tmp/out" | head -n 8)"
        sed 's/^/    /' "$tmp/out2" | tail -n 6
    fi
    rm -rf "$d.rec" "$d.rec.boot"
    # A flipped payload byte in slot b, then a flipped signature byte in
    # slot a: each is refused.
    po=$(od -An -tu4 -j$((0x5000000 + 8)) -N4 "$d" | tr -d ' ')
    flip "$d" $((0x5000000 + po + 100))
    printf 'version\n' |
        timeout 60 "$kboot" --flash "$d" >"$tmp/out" 2>&1
    rc=$?
    flip "$d" $((0x2000000 + 32 + 40))
    printf 'version\n' |
        timeout 60 "$kboot" --flash "$d" >>"$tmp/out" 2>&1
    rc2=$?
    if [ "$rc" -eq 0 ] && [ "$rc2" -eq 1 ] && [ "$(ctlsum)" = "$before" ] &&
        grep -q 'slot b does not verify: chunk 0 of 1 does not match its hash' "$tmp/out" &&
        ! grep -q '^degraded node' "$tmp/out" &&
        grep -q 'slot a does not verify: signature by key .* does not verify' "$tmp/out" &&
        grep -q 'nothing to boot (boot control is corrupt and no slot verifies' "$tmp/out"; then
        ok "keel-boot: boot control corrupt: a tampered payload or signature is refused"
    else
        fail "keel-boot: degraded, tampered slots" "exit $rc, $rc2"
        sed 's/^/    /' "$tmp/out" | tail -n 14
    fi
else
    fail "keel-boot: degraded boot (set-up)"
    sed 's/^/    /' "$tmp/out" | tail -n 8
fi
rm -rf "$u" "$f.boot" "$d.boot"
