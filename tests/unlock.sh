# tests/unlock.sh - operator unlock at the console (sourced by
# tests/run.sh: ok, fail, $tmp, $BOARD, $HOST_ARCH).  A node on a FIFO
# console (tests/net/lib.sh), keys made by openssl, answers signed with
# `openssl dgst -sha256 -sign`, as an operator would.

unlock_tests() {
    local KEEL=build/$BOARD-$HOST_ARCH/keel
    local tmp=$tmp/unlock v ch sig sig_old
    mkdir -p "$tmp"
    # shellcheck source=tests/net/lib.sh
    source tests/net/lib.sh
    local kk
    for kk in op other; do
        openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/$kk.pem" \
            2>/dev/null &&
            openssl ec -in "$tmp/$kk.pem" -pubout -out "$tmp/$kk.pub" \
                2>/dev/null || { fail "unlock: openssl keys"; return 0; }
    done
    # answer KEY: sign the challenge line of the last 'unlock'
    answer() {
        printf '%s' "$ch" | openssl dgst -sha256 -sign "$tmp/$1.pem" |
            xxd -p | tr -d '\n'
    }
    challenge() {
        ch=$(q u unlock | grep '^keel-unlock-v1 ')
    }

    NODE_NET=none node_start u "" || { fail "unlock: keel did not start"; return 0; }
    if grep -q "no operator key: this console is not locked" "$tmp/u.log" &&
        q u status | grep -q "^console:  unprovisioned" &&
        [ -z "$(q u 'store put t.a 1')" ]; then
        ok "unlock: unprovisioned: banner and status say so, nothing is locked"
    else
        fail "unlock: unprovisioned" "$(q u status | tail -n 2)"
    fi
    v=$(q u "op add $tmp/op.pem")
    if [[ "$v" == *"private key"* ]] && [ "$(q u 'op list')" = "(no operator key: unprovisioned)" ]; then
        ok "unlock: a private key is refused as an operator key"
    else
        fail "unlock: op add private" "$v"
    fi
    v=$(q u "op add $tmp/op.pub")
    if [[ "$v" == *"now locked"* ]] && q u status | grep -q "^console:  locked" &&
        q u "store put t.b 1" | grep -q "locked: this command changes the device" &&
        q u "update confirm" | grep -q "locked" &&
        q u "peer trust add $tmp/other.pub" | grep -q "locked" &&
        q u "store get t.a" | grep -q '^1$'; then
        ok "unlock: the first operator key locks: changing commands refuse with the reason, reading ones run"
    else
        fail "unlock: locked" "$v"
    fi

    challenge
    sig=$(answer other)
    v=$(q u "unlock $sig")
    if [[ "$v" == *"wrong signature"* ]] &&
        q u unlock | grep -q "wrong answer: the next challenge in 1 s"; then
        ok "unlock: a wrong key's answer is refused, counted, and the next challenge waits"
    else
        fail "unlock: wrong answer" "$v"
    fi
    sleep 1.2
    challenge
    sig=$(answer op)
    sig_old=$sig
    v=$(q u "unlock $sig")
    if [[ "$v" == unlocked* ]] && q u "store put t.c 1" >/dev/null &&
        q u "store get t.c" | grep -q '^1$' &&
        q u status | grep -q "^console:  unlocked"; then
        ok "unlock: an openssl-made answer unlocks; changing commands run"
    else
        fail "unlock: right answer" "$v"
    fi
    v=$(q u "unlock $sig_old")
    q u lock >/dev/null
    if [[ "$v" == *"no challenge pending"* ]] &&
        q u "store put t.d 1" | grep -q locked; then
        ok "unlock: an answer used once is refused again; lock locks"
    else
        fail "unlock: replay" "$v"
    fi
    challenge
    v=$(q u "unlock $sig_old")
    if [[ "$v" == *"wrong signature"* ]]; then
        ok "unlock: an old answer to a new challenge is refused (replay)"
    else
        fail "unlock: replay to a new challenge" "$v"
    fi
    sleep 1.2
    # The host tool: the console's output in, the line to paste out.
    v=$(q u unlock | scripts/keel-unlock-answer "$tmp/op.pem")
    if [[ "$v" == "unlock "* ]] && [[ "$(q u "$v")" == unlocked* ]] &&
        ! scripts/keel-unlock-answer "$tmp/op.pem" \
            'keel-unlock-v1 device=00 nonce=11 time=1 valid=300' 2>/dev/null &&
        ! scripts/keel-unlock-answer "$tmp/nokey.pem" "$ch" 2>/dev/null; then
        ok "unlock: scripts/keel-unlock-answer turns a pasted challenge into the answer line; a malformed one or a missing key is refused"
    else
        fail "unlock: keel-unlock-answer" "$v"
    fi
    q u "op valid 1" >/dev/null
    q u "op idle 1" >/dev/null
    q u lock >/dev/null
    challenge
    sleep 1.3
    v=$(q u "unlock $(answer op)")
    if [[ "$v" == *"challenge expired"* ]]; then
        ok "unlock: an answer after the challenge's time is refused (expired)"
    else
        fail "unlock: expiry" "$v"
    fi
    challenge
    q u "unlock $(answer op)" >/dev/null
    sleep 1.3
    if q u "store put t.e 1" | grep -q locked; then
        ok "unlock: an idle console locks again"
    else
        fail "unlock: idle"
    fi
    v=$(q u metrics | grep '^keel_console_unlock_total')
    if grep -q 'result="ok"} [1-9]' <<<"$v" &&
        grep -q 'result="wrong"} [1-9]' <<<"$v" &&
        grep -q 'result="expired"} 1' <<<"$v" &&
        grep -q "unlock: refused: wrong" "$tmp/u.err"; then
        ok "unlock: answers counted by result in metrics and logged"
    else
        fail "unlock: metrics" "$v"
    fi
    node_stop u
    # The keys survive a restart: still locked.
    v=$(stat -c %s "$tmp/u.log")
    NODE_NET=none node_start u "" || fail "unlock: restart"
    if q u "store put t.f 1" | grep -q locked &&
        ! tail -c +"$((v + 1))" "$tmp/u.log" | grep -q "no operator key"; then
        ok "unlock: operator keys are kept: locked after a restart"
    else
        fail "unlock: restart"
    fi
    net_cleanup
    # The first operator keys from the image: etc/keel/operators (PEM
    # public keys one after another) seeds a device that has none.
    mkdir -p "$tmp/rootfs/etc/keel"
    cat "$tmp/op.pub" "$tmp/other.pub" >"$tmp/rootfs/etc/keel/operators"
    printf 'op list\nstatus\nstore put t.z 1\n' |
        timeout 30 "$KEEL" --flash "$tmp/seed.img" --rootfs "$tmp/rootfs" \
        >"$tmp/seed.out" 2>&1
    if [ "$(grep -cE '^[0-9a-f]{64}$' "$tmp/seed.out")" = 2 ] &&
        grep -q '^console:  locked (2 operator keys' "$tmp/seed.out" &&
        grep -q 'store put: locked' "$tmp/seed.out" &&
        grep -q 'unlock: 2 operator keys from the image' "$tmp/seed.out" &&
        ! grep -q 'no operator key' "$tmp/seed.out"; then
        ok "unlock: a device without operator keys takes the image's etc/keel/operators and is locked"
    else
        fail "unlock: seeding from the image" "$(grep -E 'console|operator|locked' "$tmp/seed.out" | head -n 3)"
    fi
}

unlock_tests
