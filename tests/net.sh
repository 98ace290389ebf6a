# tests/net.sh - peer links between keel nodes on a simwire hub (sourced
# by tests/run.sh, which defines ok, fail, skip and $tmp).
#
# Three nodes trust each other, link and ping; a fourth, untrusted, is
# refused inside the handshake and its bytes never reach a frame parser;
# a node presenting a trusted node's certificate without its key is
# refused; a rotated node is followed through its rotation statement
# during the window and refused after it; chaos on the wire (loss,
# reordering, a partition that heals) ends with the links back and
# lwIP's heap and pools where they were.  Every process is stopped by
# its id (tests/net/lib.sh).

net_tests() {
    local KEEL=build/$BOARD-$HOST_ARCH/keel WIRE=build/tools/keel-wire
    local fa fb fc fd fe fb2 v before after n i
    local tmp=$tmp/net
    mkdir -p "$tmp"
    # shellcheck source=tests/net/lib.sh
    source tests/net/lib.sh
    if ! command -v socat >/dev/null; then
        skip "net" "socat is not installed (scripts/setup.sh installs it)"
        return 0
    fi
    hub_start || { fail "net: the hub did not start"; return 0; }
    for n in a:1 b:2 c:3; do
        node_start "${n%:*}" "10.77.0.${n#*:}" ||
            { fail "net: node ${n%:*} did not start"; net_cleanup; return 0; }
    done
    # Short timeouts so the test does not wait on the defaults.
    for n in a b c; do
        q $n "net config set ping_ms 500" >/dev/null
        q $n "net config set idle_ms 3000" >/dev/null
        q $n "net config set handshake_ms 3000" >/dev/null
    done
    fa=$(fp a) fb=$(fp b) fc=$(fp c)

    # --- three nodes trust each other, link and ping ----------------------
    q a "peer trust add $fb" >/dev/null
    q a "peer trust add $fc" >/dev/null
    q b "peer trust add $fa" >/dev/null
    q b "peer trust add $fc" >/dev/null
    q c "peer trust add $fa" >/dev/null
    q c "peer trust add $fb" >/dev/null
    q a "peer connect 10.77.0.2" >/dev/null
    q a "peer connect 10.77.0.3" >/dev/null
    q b "peer connect 10.77.0.3" >/dev/null
    if wait_links a 2 15 && wait_links b 2 15 && wait_links c 2 15; then
        ok "net: three trusting nodes on simwire link each to each"
    else
        fail "net: links" "a $(links_up a), b $(links_up b), c $(links_up c)"
    fi
    v=$(q a "peer ping 1")
    if [[ "$v" == "pong from link 1: "*" ms" ]]; then
        ok "net: peer ping answers with a round-trip time ($v)"
    else
        fail "net: peer ping" "$v"
    fi
    v=$(q a "peer list --json")
    if [[ "$v" == *"\"fingerprint\":\"$fb\""* && "$v" == *'"rtt_ms":'[0-9]* &&
        "$v" == *'"handshake_ms":'[0-9]* ]]; then
        ok "net: peer list shows the peer's fingerprint, round trip and handshake time"
    else
        fail "net: peer list --json" "$v"
    fi

    # --- an untrusted node is refused inside the handshake ----------------
    node_start d 10.77.0.4 || fail "net: node d did not start"
    fd=$(fp d)
    q d "peer trust add $fa" >/dev/null # d trusts a; a does not trust d
    before=$(metric a 'keel_peer_parser_bytes_total{gated="no"}')
    q d "peer connect 10.77.0.1" >/dev/null
    for _ in $(seq 40); do
        v=$(metric a 'keel_peer_refused_total{reason="untrusted"}')
        [ "${v:-0}" -ge 1 ] && break
        sleep 0.25
    done
    after=$(metric a 'keel_peer_parser_bytes_total{gated="no"}')
    if [ "${v:-0}" -ge 1 ] && [ "$(links_up d)" = 0 ] &&
        [ "$before" = 0 ] && [ "$after" = 0 ] &&
        q a "peer refused" | grep -q "10.77.0.4 untrusted .*$fd" &&
        grep -q "refused link from 10.77.0.4:[0-9]*: untrusted (fingerprint $fd)" \
            "$tmp/a.err"; then
        ok "net: an untrusted key is refused in the handshake (counted, logged, listed; 0 bytes reached a frame parser)"
    else
        fail "net: untrusted node" "refused $v, d links $(links_up d), ungated parser bytes $before/$after"
    fi
    q d "peer drop 10.77.0.1" >/dev/null

    # --- impersonation: b's certificate without b's key --------------------
    q b "peer cert $tmp/b-cert.pem" >/dev/null
    node_start e 10.77.0.5 KEEL_SIM_NET_CERT="$tmp/b-cert.pem" ||
        fail "net: node e did not start"
    q e "peer trust add $fa" >/dev/null
    before=$(metric a 'keel_peer_refused_total{reason="tls_failed"}')
    q e "peer connect 10.77.0.1" >/dev/null
    for _ in $(seq 40); do
        v=$(metric a 'keel_peer_refused_total{reason="tls_failed"}')
        [ "${v:-0}" -gt "${before:-0}" ] && break
        sleep 0.25
    done
    if [ "${v:-0}" -gt "${before:-0}" ] && [ "$(links_up e)" = 0 ] &&
        ! q a "peer list" | grep -q "10.77.0.5"; then
        ok "net: a trusted node's certificate presented with another key is refused (tls_failed)"
    else
        fail "net: impersonation" "tls_failed $before -> $v, e links $(links_up e)"
    fi
    node_stop e
    node_stop d

    # --- rotation: followed in the window, refused after it ----------------
    node_stop c
    q b "id rotate --window 1" >/dev/null
    fb2=$(fp b)
    for _ in $(seq 40); do
        q a "peer trust list" | grep -q "^$fb2 .*by rotation" && break
        sleep 0.25
    done
    if [ "$fb2" != "$fb" ] &&
        q a "peer trust list" | grep -q "^$fb2 .*by rotation" &&
        q a "peer trust list" | grep -q "^$fb .*retired from" &&
        [ "$(metric a keel_peer_rotations_total)" = 1 ] &&
        grep -q "by the rotation statement of trusted" "$tmp/a.err" &&
        wait_links a 1 15; then
        ok "net: a rotated node is followed through its statement in the window (new key trusted, old one retires, logged)"
    else
        fail "net: rotation in the window" "$(q a 'peer trust list')"
    fi
    # c trusted b's old key and was away; it comes back two days later.
    node_start c "" KEEL_SIM_CLOCK_OFFSET=172800 || fail "net: c restart"
    for _ in $(seq 40); do
        v=$(metric c 'keel_peer_refused_total{reason="rotation_expired"}')
        [ "${v:-0}" -ge 1 ] && break
        sleep 0.25
    done
    if [ "${v:-0}" -ge 1 ] && ! q c "peer list" | grep -q "10.77.0.2:.* up"; then
        ok "net: after the window the rotation statement no longer counts (rotation_expired)"
    else
        fail "net: rotation after the window" "rotation_expired $v"
    fi
    node_stop c
    node_start c "" || fail "net: c restart"
    q c "peer trust add $fb2" >/dev/null
    q b "net config set idle_ms 3000" >/dev/null

    # --- chaos: loss, reordering, a partition that heals -------------------
    if ! wait_links a 2 20; then
        fail "net: chaos: links before" "a has $(links_up a)"
    fi
    before=$(metric a 'keel_net_heap_bytes{kind="used"}')
    hub "drop 10" >/dev/null
    hub "reorder 10" >/dev/null
    hub "dup 5" >/dev/null
    for i in 1 2 3 4 5 6; do
        q a "peer ping 1" >/dev/null 2>&1
        q b "status" >/dev/null
        sleep 0.5
    done
    hub "partition a b,c" >/dev/null
    sleep 4
    v=$(links_up a)
    hub "heal" >/dev/null
    hub "clear" >/dev/null
    if wait_links a 2 30 && wait_links b 2 30 && wait_links c 2 30; then
        ok "net: chaos: 10% loss, reordering, duplicates, a partition (a had $v links in it) that heals: links come back"
    else
        fail "net: chaos" "links a $(links_up a) b $(links_up b) c $(links_up c)"
    fi
    sleep 1
    after=$(metric a 'keel_net_heap_bytes{kind="used"}')
    v=$(metric a keel_net_pbuf_pool_used)
    if [ -n "$before" ] && [ -n "$after" ] &&
        [ "$after" -le $((before + 16384)) ] && [ "${v:-99}" -le 4 ]; then
        ok "net: chaos: lwIP heap $before -> $after bytes with the same links, $v pool pbufs in use"
    else
        fail "net: chaos: leak" "heap $before -> $after, pool pbufs $v"
    fi
    for n in a b c; do
        if ! kill -0 "${NODE_PID[$n]}" 2>/dev/null; then
            fail "net: node $n died" "$(tail -n 5 "$tmp/$n.err")"
        fi
    done
    v=$(q a "status")
    if [[ "$v" == *"network:  simwire"*"10.77.0.1 (static), link up, 2 peer links up"* ]]; then
        ok "net: status has the network line"
    else
        fail "net: status network line" "$v"
    fi
    net_cleanup
}

net_tests
