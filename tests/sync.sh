# tests/sync.sh - following the Mochimo chain over Mochimo's own
# protocol, between keel nodes on a simwire hub (sourced by
# tests/run.sh: ok, fail, skip, $tmp, $BOARD, $HOST_ARCH).
#
# One node holds a minted chain and serves it (net.sync_port); a second
# with nothing, and a third with the first part of it, sync from it:
# each scans the seed (HELLO_ACK's tip, the proof segment with proof of
# work), then downloads in TF ranges to the same tip.  A seed that is
# not there is refused with a reason; the served counters add up.

# sync_wait NODE: until its sync is idle again (at most 60 s).
sync_wait() {
    local i
    for ((i = 0; i < 120; i++)); do
        q "$1" "sync status" | grep -q '^state: *idle' && return 0
        sleep 0.5
    done
    return 1
}

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
    $cg -n 2800 -d 1 --seed 5 -o "$tmp/c-full.dat" >/dev/null 2>&1 &&
        head -c $((160 * 2601)) "$tmp/c-full.dat" >"$tmp/c.dat" &&
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
    sync_wait b
    sync_wait c
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
    # following: the served chain grows; b polls (every 2 s here) and
    # takes the new trailers
    q b "net config set sync_poll_s 2" >/dev/null
    q c "net config set sync_poll_s 0" >/dev/null
    q a "chain import $tmp/c-full.dat" >/dev/null
    for ((i = 0; i < 60; i++)); do
        q b "chain info" | grep -q '^tip: *2800 ' && break
        sleep 0.5
    done
    if q b "chain info" | grep -q '^tip: *2800 ' &&
        q b "sync status" | grep -q '^last: *synced to tip 2800 (200 trailers new)'; then
        ok "sync: a node that has synced follows: it polls and appends what the served chain grew by"
    else
        fail "sync: follow" "$(q b 'sync status' | tr '\n' ' ')"
    fi
    q b "net config set sync_poll_s 0" >/dev/null
    # --- liars beside two honest peers -------------------------------------
    # Each liar is a sim node playing one lie (KEEL_SIM_SYNC_FILE and
    # KEEL_SIM_SYNC_LIE, sim board only): w claims a weight it cannot
    # have for the chain's first 2,600 (a and h2 are honest: a serves
    # 2,800 by now); p1..p3 (a sybil group) advertise a
    # heavier fork whose proof segment fails proof of work; t serves a
    # heavier fork whose tfile is broken below its proof segment; r sends
    # bad CRCs; z stalls; o answers with more than asked; h with less.
    $cg -n 2700 -d 1 --seed 5 --fork-at 2000 --fork-difficulty 3 \
        --fork-seed 7 --break pow --at 2690 -o "$tmp/fake.dat" >/dev/null 2>&1
    $cg -n 2700 -d 1 --seed 5 --fork-at 2000 --fork-difficulty 3 \
        --fork-seed 7 --break phash --at 500 -o "$tmp/tamper.dat" >/dev/null 2>&1
    node_start h2 10.78.0.12 || { fail "sync: h2 did not start"; net_cleanup; return 0; }
    q h2 "chain import $tmp/c.dat" >/dev/null
    q h2 "net config set sync_port 2095" >/dev/null
    local liars="w:21:weight: p1:22::fake p2:23::fake p3:24::fake t:25::tamper r:26:crc: z:27:stall: o:28:oversize: h:29:short:"
    local L name ip lie file
    for L in $liars; do
        IFS=: read -r name ip lie file <<<"$L"
        node_start "$name" "10.78.0.$ip" ${lie:+KEEL_SIM_SYNC_LIE=$lie} \
            ${file:+KEEL_SIM_SYNC_FILE=$tmp/$file.dat} ||
            { fail "sync: liar $name did not start"; net_cleanup; return 0; }
        [ -n "$file" ] || q "$name" "chain import $tmp/c.dat" >/dev/null
        q "$name" "net config set sync_port 2095" >/dev/null
    done
    node_start v 10.78.0.30 || { fail "sync: v did not start"; net_cleanup; return 0; }
    for ip in 1 12 21 22 23 24 25 26 27 28 29; do
        q v "sync seeds add 10.78.0.$ip" >/dev/null
    done
    q v "sync now" >/dev/null
    sync_wait v
    v=$(q v "sync peers")
    printf '%s\n' "$v" >"$tmp/v.peers"
    q v "chain export $tmp/v.dat" >/dev/null
    if cmp -s "$tmp/v.dat" "$tmp/c-full.dat" &&
        q v "sync status" | grep -q '^last: *synced to tip 2800'; then
        ok "sync: beside eight liars (a weight claim, a sybil group with no proof of work, a broken tfile, bad CRCs, a stall, too much, too little) the node reaches the honest tip"
    else
        fail "sync: liars" "$(q v 'sync status' | tr '\n' ' ')"
    fi
    # peer REASON MAXBYTES: the liar at 10.78.0.IP was refused with
    # REASON, having cost at most MAXBYTES
    local bad=""
    refused_with() {
        local line
        line=$(grep "^10.78.0.$1:2095 " "$tmp/v.peers")
        [[ "$line" == *" $2 "* ]] || { bad="$bad $1:$2(${line:-none})"; return; }
        [ "$(awk '{print $(NF-1)}' <<<"$line")" -le "$3" ] ||
            bad="$bad $1:bytes($line)"
    }
    refused_with 21 weight_short 500000
    refused_with 22 proof_of_work 9500
    refused_with 23 proof_of_work 9500
    refused_with 24 proof_of_work 9500
    refused_with 25 bad_link 175000
    refused_with 26 protocol 9500
    refused_with 27 timeout 0
    refused_with 28 oversize 3000
    refused_with 29 no_proof 5000
    if [ -z "$bad" ] && grep -q '^10.78.0.1:2095 .* admitted' "$tmp/v.peers" &&
        [ "$(metric v 'keel_sync_refused_total{reason="proof_of_work"}')" = 3 ]; then
        ok "sync: each liar is refused with its reason; bytes fetched from each are bounded (a proof segment, or one range; a stall costs nothing)"
    else
        fail "sync: liar reasons" "$bad"
    fi
    # --- a heavier fork, honest: the node finds the fork point and
    # replaces its branch in one chain-log batch
    $cg -n 2700 -d 1 --seed 5 --fork-at 2000 --fork-difficulty 3 \
        --fork-seed 7 -o "$tmp/fork.dat" >/dev/null 2>&1
    node_start f 10.78.0.40 KEEL_SIM_SYNC_FILE="$tmp/fork.dat" ||
        { fail "sync: f did not start"; net_cleanup; return 0; }
    q f "net config set sync_port 2095" >/dev/null
    q v "sync seeds add 10.78.0.40" >/dev/null
    q v "net config set sync_poll_s 0" >/dev/null
    # deeper than the limit: refused and reported, not remembered
    q v "net config set sync_fork_max 100" >/dev/null
    q v "sync now" >/dev/null
    sync_wait v
    if q v "sync peers" | grep -q '^10.78.0.40:2095 .* fork_below_tip' &&
        q v "chain info" | grep -q '^tip: *2800 ' &&
        grep -q 'forks deeper than 100 below' "$tmp/v.err"; then
        ok "sync: a heavier fork deeper than sync_fork_max is refused and reported, the stored chain kept"
    else
        fail "sync: fork limit" "$(q v 'sync peers' | grep 10.78.0.40)"
    fi
    q v "net config set sync_fork_max 10000" >/dev/null
    q v "sync now" >/dev/null
    sync_wait v
    q v "chain export $tmp/v2.dat" >/dev/null
    v=$(q v "sync status")
    if cmp -s "$tmp/v2.dat" "$tmp/fork.dat" &&
        grep -q "^last: *synced to tip 2700 (701 trailers new, a heavier fork replaced the stored branch)" <<<"$v"; then
        ok "sync: a heavier fork from 2000: the fork point is found by probes, the branch replaces the stored one whole"
    else
        fail "sync: heavier fork" "$(tr '\n' ' ' <<<"$v")"
    fi
    # --- the guard remembers across a restart: the liars are not asked
    node_stop v
    node_start v "" || { fail "sync: v did not restart"; net_cleanup; return 0; }
    q v "sync now" >/dev/null
    sync_wait v
    v=$(q v "sync peers")
    local n_rem
    n_rem=$(grep -c ' remembered:[a-z_]*  0 bytes$' <<<"$v")
    if [ "$n_rem" = 8 ] && grep -q '^10.78.0.27:2095 .* timeout' <<<"$v" &&
        [ "$(q v 'sync bad' | grep -c '^peer ')" = 8 ] &&
        [ "$(q v 'sync bad' | grep -c '^chain ')" = 1 ] &&
        q v "sync status" | grep -q '^last: *in sync: tip 2700'; then
        ok "sync: after a restart the guard still refuses the eight liars without asking them (a stall is not a lie: asked again)"
    else
        fail "sync: guard after restart" "$n_rem remembered; $(tr '\n' ' ' <<<"$v")"
    fi
    q v "sync forget" >/dev/null
    if q v "sync bad" | grep -q "nothing remembered"; then
        ok "sync: sync forget clears the guard"
    else
        fail "sync: forget"
    fi
    net_cleanup
}

sync_tests
