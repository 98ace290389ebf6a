# tests/sync.sh - following the Mochimo chain over Mochimo's own
# protocol, between keel nodes on a simwire hub (sourced by
# tests/run.sh: ok, fail, skip, $tmp, $BOARD, $HOST_ARCH).
#
# One node holds a minted chain and serves it (net.sync_port); a second
# with nothing, and a third with the first part of it, sync from it:
# each scans the seed (HELLO_ACK's tip, the proof segment with proof of
# work), then downloads in TF ranges to the same tip.  A seed that is
# not there is refused with a reason; the served counters add up.

sync_tests() {
    local KEEL=build/$BOARD-$HOST_ARCH/keel WIRE=build/tools/keel-wire
    local cg=build/tools/keel-chaingen v i tipa
    local tmp=$tmp/sync
    mkdir -p "$tmp"
    # shellcheck source=tests/net/lib.sh
    source tests/net/lib.sh
    if ! command -v socat >/dev/null; then
        skip "sync" "socat is not installed (scripts/setup.sh installs it)"
        return 0
    fi
    $cg -n 2600 -d 1 --seed 5 -o "$tmp/c.dat" >/dev/null 2>&1 &&
        head -c $((160 * 1200)) "$tmp/c.dat" >"$tmp/c-head.dat" ||
        { fail "sync: keel-chaingen"; return 0; }
    hub_start || { fail "sync: the hub did not start"; return 0; }
    for n in a:1 b:2 c:3; do
        node_start "${n%:*}" "10.78.0.${n#*:}" ||
            { fail "sync: node ${n%:*} did not start"; net_cleanup; return 0; }
    done
    q a "chain import $tmp/c.dat" >/dev/null
    q c "chain import $tmp/c-head.dat" >/dev/null
    q a "net config set sync_port 2095" >/dev/null
    tipa=$(q a "chain info" | sed -n 's/^tip: *\([0-9]*\) .*/\1/p')
    q b "sync seeds add 10.78.0.1" >/dev/null
    q b "sync seeds add 10.78.0.9:2095" >/dev/null # nobody there
    q c "sync seeds add 10.78.0.1:2095" >/dev/null
    q b "sync now" >/dev/null
    q c "sync now" >/dev/null
    for ((i = 0; i < 120; i++)); do
        q b "sync status" | grep -q '^state: *idle' &&
            q c "sync status" | grep -q '^state: *idle' && break
        sleep 0.5
    done
    v=$(q b "sync status")
    if [ -n "$tipa" ] && [ "$tipa" = 2600 ] &&
        grep -q "^last: *synced to tip 2600 (2601 trailers new)" <<<"$v" &&
        q b "chain info" | grep -q "^tip: *2600 " &&
        q c "sync status" | grep -q "^last: *synced to tip 2600 (1401 trailers new)"; then
        ok "sync: an empty node and one with part of the chain sync from a keel node serving Mochimo's protocol, proof segment checked with proof of work"
    else
        fail "sync: to the served tip" "$(tr '\n' ' ' <<<"$v") / $(q c 'sync status' | tr '\n' ' ')"
    fi
    v=$(q b "sync peers")
    if grep -q '^10.78.0.1:2095  tip 2600 .* admitted' <<<"$v" &&
        grep -q '^10.78.0.9:2095  tip 0 .* \(connect_failed\|timeout\)' <<<"$v" &&
        [ "$(metric b 'keel_sync_trailers_fetched_total')" = 2601 ] &&
        [ "$(metric a 'keel_sync_served_bytes_total')" -gt $((160 * 4000)) ]; then
        ok "sync: a seed that does not answer is refused with its reason; fetched and served counters add up"
    else
        fail "sync: peers and counters" "$(tr '\n' ' ' <<<"$v")"
    fi
    # the chain a node synced is the one served, byte for byte
    q b "chain export $tmp/b.dat" >/dev/null
    if cmp -s "$tmp/b.dat" "$tmp/c.dat"; then
        ok "sync: the synced chain exports byte for byte as the served one"
    else
        fail "sync: synced chain differs"
    fi
    net_cleanup
}

sync_tests
