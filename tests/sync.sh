# tests/sync.sh - following the Mochimo chain over Mochimo's own
# protocol, between keel nodes on a simwire hub (sourced by
# tests/run.sh: ok, fail, skip, $tmp, $BOARD, $HOST_ARCH).
#
# One node holds a minted chain and serves it (net.sync_port); a second
# with nothing, and a third with the first part of it, sync from it:
# each scans the seed (HELLO_ACK's tip, the proof segment with proof of
# work), then downloads in TF ranges to the same tip.  A seed that is
# not there is refused with a reason; the served counters add up.

# tip_wait NODE TIP SECONDS: until the node's chain reaches TIP.
tip_wait() {
    local i
    for ((i = 0; i < 2 * $3; i++)); do
        q "$1" "chain info" | grep -q "^tip: *$2 " && return 0
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
    if grep -q '^10.78.0.1:2095  seed  tip 2600 .* admitted' <<<"$v" &&
        grep -q '^10.78.0.9:2095  seed  tip 0 .* \(connect_failed\|timeout\)' <<<"$v" &&
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
    if tip_wait b 2800 30 &&
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
    refused_with 25 bad_link 176000
    refused_with 26 protocol 9500
    refused_with 27 timeout 0
    refused_with 28 oversize 3000
    refused_with 29 no_proof 5000
    if [ -z "$bad" ] && grep -q '^10.78.0.1:2095 .* admitted' "$tmp/v.peers" &&
        [ "$(metric v 'keel_sync_refused_total{reason="proof_of_work"}')" = 3 ]; then
        ok "sync: each liar is refused with its reason; bytes fetched from each are bounded (a proof segment, or probes, a peer list and one range; a stall costs nothing)"
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
    sync_peer_tests
    net_cleanup
}

# Peers beyond the seeds (on the hub and nodes of sync_tests): peer
# lists, a list of invented addresses, FOUND pushes, a peer that
# vanishes mid-download, a chain that grows during a sync.
sync_peer_tests() {
    local v n_asked n_from first second
    # a (honest), p1 (a sybil) and t (a broken tfile) stay for later
    node_gone b c v h2 w p2 p3 r z o h f
    $cg -n 3000 -d 1 --seed 5 -o "$tmp/c3.dat" >/dev/null 2>&1 &&
        cmp -s "$tmp/c-full.dat" <(head -c $((160 * 2801)) "$tmp/c3.dat") ||
        { fail "sync: keel-chaingen (3000)"; return 0; }
    # s1 serves the chain and names a (honest) and l (its own list is 64
    # invented addresses) as its seeds; n knows only s1.
    node_start s1 10.78.0.61 || { fail "sync: s1 did not start"; return 0; }
    node_start l 10.78.0.50 KEEL_SIM_SYNC_LIE=ipl ||
        { fail "sync: l did not start"; return 0; }
    node_start n 10.78.0.70 || { fail "sync: n did not start"; return 0; }
    for v in s1 l; do
        q "$v" "chain import $tmp/c-full.dat" >/dev/null
        q "$v" "net config set sync_port 2095" >/dev/null
    done
    q s1 "sync seeds add 10.78.0.1" >/dev/null
    q s1 "sync seeds add 10.78.0.50" >/dev/null
    q n "sync seeds add 10.78.0.61" >/dev/null
    q n "net config set sync_port 2095" >/dev/null
    q n "net config set sync_poll_s 0" >/dev/null
    q n "sync now" >/dev/null
    sync_wait n
    v=$(q n "sync peers")
    printf '%s\n' "$v" >"$tmp/n.peers"
    n_asked=$(grep -c '^10\.78\.0\.\(1[5-9][0-9]\|2[01][0-9]\):2095  peer .* \(timeout\|connect_failed\|closed\)' <<<"$v")
    n_from=$(q n "sync peers --json" | grep -o '"from":"10.78.0.50"' | wc -l)
    if q n "chain info" | grep -q '^tip: *2800 ' &&
        grep -q '^10.78.0.1:2095  peer .* admitted' <<<"$v" &&
        grep -q '^10.78.0.50:2095  peer .* admitted' <<<"$v" &&
        [ "$n_asked" -ge 1 ] && [ "$n_asked" -le 6 ] &&
        [ "$n_from" -le 16 ] &&
        [ "$(grep -c 'pinklisted' <<<"$v")" = "$n_asked" ]; then
        ok "sync: peer lists widen the seeds (a, l found through s1); of 64 invented addresses 16 are taken, $n_asked asked (at most 8 never-answered a sync) and pinklisted; the honest tip is reached"
    else
        fail "sync: peer lists" "asked $n_asked, from l $n_from: $(tr '\n' ' ' <<<"$v")"
    fi
    # the table is on flash: after a restart the same entries, the same
    # pinklist; the next sync asks other never-answered addresses only
    first=$(grep -o '^10\.78\.0\.[0-9]*:2095  peer .* \(timeout\|connect_failed\|closed\)' "$tmp/n.peers" | cut -d' ' -f1 | sort)
    node_stop n
    node_start n "" || { fail "sync: n did not restart"; return 0; }
    v=$(q n "sync peers")
    if grep -q "^peer table: $(grep -o '^peer table: [0-9]*' "$tmp/n.peers" | grep -o '[0-9]*$') known" <<<"$v" &&
        [ "$(grep -c pinklisted <<<"$v")" = "$n_asked" ]; then
        q n "sync now" >/dev/null
        sync_wait n
        second=$(q n "sync peers" | grep -o '^10\.78\.0\.[0-9]*:2095  peer .* \(timeout\|connect_failed\|closed\)' | cut -d' ' -f1 | sort)
        if [ -n "$second" ] && [ -z "$(comm -12 <(echo "$first") <(echo "$second"))" ] &&
            [ "$(wc -l <<<"$second")" -le 8 ]; then
            ok "sync: the peer table survives a restart (entries and pinklist); the next sync leaves pinklisted addresses alone"
        else
            fail "sync: pinklist after restart" "first: $first / second: $second"
        fi
    else
        fail "sync: peer table after restart" "$(tr '\n' ' ' <<<"$v")"
    fi
    node_gone l # its invented list has made its point
    # --- a sybil group of 20 (sy1..sy20 at .100-.119 serve one
    # fabricated heavier chain without valid proof of work), named in the
    # list of l2 (64 addresses from .100 on); s1 names l2.  n4 knows s1
    # only, and syncs three times.
    node_start l2 10.78.0.51 KEEL_SIM_SYNC_LIE=ipl KEEL_SIM_SYNC_IPL_BASE=100 ||
        { fail "sync: l2 did not start"; return 0; }
    q l2 "chain import $tmp/c-full.dat" >/dev/null
    q l2 "net config set sync_port 2095" >/dev/null
    for ((i = 1; i <= 20; i++)); do
        node_start "sy$i" "10.78.0.$((99 + i))" KEEL_SIM_SYNC_FILE="$tmp/fake.dat" ||
            { fail "sync: sy$i did not start"; return 0; }
        q "sy$i" "net config set sync_port 2095" >/dev/null
    done
    q s1 "sync seeds add 10.78.0.51" >/dev/null
    node_start n4 10.78.0.71 || { fail "sync: n4 did not start"; return 0; }
    q n4 "sync seeds add 10.78.0.61" >/dev/null
    q n4 "net config set sync_poll_s 0" >/dev/null
    local run per worst=0 asked="" bad=""
    for run in 1 2 3; do
        q n4 "sync now" >/dev/null
        sync_wait n4
        v=$(q n4 "sync peers")
        per=$(grep -c '^10\.78\.0\.1[01][0-9]:2095  peer .* [1-9][0-9]* bytes$' <<<"$v")
        [ "$per" -gt "$worst" ] && worst=$per
        asked="$asked $(grep -o '^10\.78\.0\.1[01][0-9]:2095  peer .* [1-9][0-9]* bytes$' <<<"$v" | cut -d' ' -f1)"
        while read -r line; do
            [ -n "$line" ] || continue
            [[ "$line" == *" proof_of_work "* ]] &&
                [ "$(awk '{print $(NF-1)}' <<<"$line")" -le 9500 ] ||
                bad="$bad [$line]"
        done < <(grep '^10\.78\.0\.1[01][0-9]:2095  peer .* [1-9][0-9]* bytes$' <<<"$v")
    done
    local n_sy n_dist n_bad
    n_sy=$(tr ' ' '\n' <<<"$asked" | grep -c .)
    n_dist=$(tr ' ' '\n' <<<"$asked" | grep . | sort -u | wc -l)
    n_bad=$(q n4 "sync bad" | grep -c '^peer  10\.78\.0\.1[01][0-9]:2095  proof_of_work')
    if q n4 "chain info" | grep -q '^tip: *2800 ' && [ -z "$bad" ] &&
        [ "$n_sy" -ge 1 ] && [ "$n_sy" = "$n_dist" ] && [ "$n_bad" = "$n_dist" ] &&
        [ "$worst" -le 8 ] &&
        [ "$(q n4 'sync peers --json' | grep -o '"from":"10.78.0.51"' | wc -l)" -le 32 ]; then
        ok "sync: a sybil group of 20 in a peer list: 16 addresses a list and at most 32 never-answered from one source enter the table, at most 8 new peers are asked a sync ($worst), each sybil is asked once ($n_dist over three syncs), costs one proof segment and is remembered; the honest tip is reached"
    else
        fail "sync: sybil group" "asked $n_sy ($n_dist distinct), remembered $n_bad, worst run $worst, bad:$bad"
    fi
    node_gone sy{1..20} l2 n4 s1
    # --- FOUND: a proved push starts a sync at once (no polling); a push
    # whose segment fails proof of work is refused and remembered
    q a "chain import $tmp/c3.dat" >/dev/null
    q a "sync push 10.78.0.70" >/dev/null
    if tip_wait n 3000 20 &&
        [ "$(metric n 'keel_sync_found_total{result="proved"}')" = 1 ]; then
        ok "sync: a FOUND push from a peer with a heavier proved chain starts a sync: the node reaches its tip without polling"
    else
        fail "sync: FOUND honest" "$(q n 'sync status' | tr '\n' ' ')"
    fi
    q p1 "sync push 10.78.0.70" >/dev/null
    for ((i = 0; i < 20; i++)); do
        [ "$(metric n 'keel_sync_found_total{result="refused"}')" = 1 ] && break
        sleep 0.5
    done
    if [ "$(metric n 'keel_sync_found_total{result="refused"}')" = 1 ] &&
        q n "sync bad" | grep -q '^peer  10.78.0.22:2095  proof_of_work' &&
        q n "chain info" | grep -q '^tip: *3000 '; then
        ok "sync: a FOUND push whose proof segment fails proof of work is refused and its sender remembered"
    else
        fail "sync: FOUND liar" "$(q n 'sync bad' | tr '\n' ' ')"
    fi
    # --- a peer that vanishes mid-download, beside an honest one; and a
    # chain that grows during the sync (g advertises 2,900, then serves
    # 3,000: the node takes the 2,900 it chose, then follows)
    node_start x 10.78.0.80 KEEL_SIM_SYNC_LIE=vanish \
        KEEL_SIM_SYNC_FILE="$tmp/c3.dat" || { fail "sync: x did not start"; return 0; }
    node_start g 10.78.0.81 KEEL_SIM_SYNC_LIE=grow \
        KEEL_SIM_SYNC_FILE="$tmp/c3.dat" || { fail "sync: g did not start"; return 0; }
    node_start m 10.78.0.82 || { fail "sync: m did not start"; return 0; }
    for v in x g; do q "$v" "net config set sync_port 2095" >/dev/null; done
    q m "sync seeds add 10.78.0.80" >/dev/null
    q m "sync seeds add 10.78.0.1" >/dev/null
    q m "net config set sync_poll_s 0" >/dev/null
    q m "sync now" >/dev/null
    sync_wait m
    v=$(q m "sync peers")
    if q m "chain info" | grep -q '^tip: *3000 ' &&
        grep -q '^10.78.0.80:2095  seed .* closed' <<<"$v" &&
        ! q m "sync bad" | grep -q '10.78.0.80'; then
        ok "sync: a peer that vanishes mid-download: its range goes to the other peer, the tip is reached, and going away is not held as a lie"
    else
        fail "sync: vanishing peer" "$(tr '\n' ' ' <<<"$v")"
    fi
    node_start gw 10.78.0.83 || { fail "sync: gw did not start"; return 0; }
    q gw "sync seeds add 10.78.0.81" >/dev/null
    q gw "sync now" >/dev/null
    sync_wait gw
    first=$(q gw "chain info" | sed -n 's/^tip: *\([0-9]*\) .*/\1/p')
    q gw "net config set sync_poll_s 1" >/dev/null
    if tip_wait gw 3000 20 && [ "$first" = 2900 ]; then
        ok "sync: a chain that grows during the sync: the chosen tip is reached, the growth is followed by the next poll"
    else
        fail "sync: growing chain" "first $first; $(q gw 'sync status' | tr '\n' ' ')"
    fi
    node_gone x g m gw n p1
    # --- a trailer that failed is remembered by its hash: t and t2 serve
    # the same broken tfile; r2 finds the break at 500 in a range from
    # one, and refuses the range from 499 of the other unchecked
    node_start t2 10.78.0.31 KEEL_SIM_SYNC_FILE="$tmp/tamper.dat" ||
        { fail "sync: t2 did not start"; return 0; }
    q t2 "net config set sync_port 2095" >/dev/null
    node_start r2 10.78.0.84 || { fail "sync: r2 did not start"; return 0; }
    q r2 "sync seeds add 10.78.0.25" >/dev/null
    q r2 "sync seeds add 10.78.0.31" >/dev/null
    q r2 "net config set sync_poll_s 0" >/dev/null
    q r2 "sync now" >/dev/null
    sync_wait r2
    v=$(q r2 "sync peers")
    if [ "$(metric r2 'keel_sync_ranges_remembered_total')" = 1 ] &&
        [ "$(grep -c '^10.78.0.\(25\|31\):2095  seed .* bad_link ' <<<"$v")" = 2 ] &&
        q r2 "sync bad" | grep -q '^trailer 500  [0-9a-f]*  bad_link'; then
        ok "sync: a trailer that failed is remembered by its hash: the same trailer from another peer, in another range, is refused without being checked"
    else
        fail "sync: remembered range" "$(tr '\n' ' ' <<<"$v") / $(q r2 'sync bad' | tr '\n' ' ')"
    fi
    node_gone t t2 r2
    sync_checkpoint_test
    sync_link_test
}

# Over keel's mutual-TLS peer links: lk has no seed; it is linked to a
# (the honest chain) and to ly (a trusted node serving a chain whose
# proof of work fails).  The same requests run as link frames.
sync_link_test() {
    local v fa fy fk
    node_start lk 10.78.0.91 || { fail "sync: lk did not start"; return 0; }
    node_start ly 10.78.0.92 KEEL_SIM_SYNC_FILE="$tmp/fake.dat" ||
        { fail "sync: ly did not start"; return 0; }
    fa=$(fp a) fy=$(fp ly) fk=$(fp lk)
    q a "peer trust add $fk" >/dev/null
    q ly "peer trust add $fk" >/dev/null
    q lk "peer trust add $fa" >/dev/null
    q lk "peer trust add $fy" >/dev/null
    q lk "peer connect 10.78.0.1" >/dev/null
    q lk "peer connect 10.78.0.92" >/dev/null
    q lk "net config set sync_poll_s 0" >/dev/null
    if ! wait_links lk 2 15; then
        fail "sync: links" "$(q lk 'peer list' | tr '\n' ' ')"
        node_gone lk ly
        return 0
    fi
    q lk "sync now" >/dev/null
    sync_wait lk
    v=$(q lk "sync peers")
    if q lk "chain info" | grep -q '^tip: *3000 ' &&
        [ "$(grep -c '^link [0-9]*  link  tip 3000 .* admitted' <<<"$v")" = 1 ] &&
        [ "$(grep -c '^link [0-9]*  link  tip 2700 .* proof_of_work' <<<"$v")" = 1 ] &&
        [ "$(metric a keel_sync_link_sessions_total)" -ge 2 ] &&
        q lk "sync bad" | grep -q 'nothing remembered'; then
        ok "sync: over mutual-TLS peer links, as link frames: a node with no seed syncs from a linked keel node; a linked node's fabricated chain is refused by proof of work (the trust list, not the guard, governs links)"
    else
        fail "sync: over peer links" "$(tr '\n' ' ' <<<"$v")"
    fi
    node_gone lk ly
}

# The checkpoint signed into the running firmware's manifest: a node
# with no chain starts there and fetches only what follows it.  The
# bundle is signed by a 1-of-1 keyring of the test's own; the node runs
# "from slot a" (KEEL_SLOT, as keel-boot would start it).
sync_checkpoint_test() {
    local kb=build/tools/keel-bundle k=$tmp/ck v bh wt
    mkdir -p "$k/rootfs/etc/keel"
    openssl ecparam -name prime256v1 -genkey -noout -out "$k/k1.pem" 2>/dev/null
    $kb keyring create --threshold 1 -o "$k/keyring" "$k/k1.pem" >/dev/null &&
        cp "$k/keyring" "$k/rootfs/etc/keel/keyring" ||
        { fail "sync: checkpoint keyring"; return 0; }
    NODE_ARGS="--rootfs $k/rootfs" node_start ck 10.78.0.90 ||
        { fail "sync: ck did not start"; return 0; }
    # the checkpoint: block 2000 of the served chain, as chain info says
    head -c $((160 * 2001)) "$tmp/c3.dat" >"$k/c2000.dat"
    q ck "chain import $k/c2000.dat" >/dev/null
    v=$(q ck "chain info --json")
    bh=$(sed -n 's/.*"tip_hash":"\([0-9a-f]*\)".*/\1/p' <<<"$v")
    wt=$(sed -n 's/.*"weight":"\([0-9a-f]*\)".*/\1/p' <<<"$v")
    q ck "chain reset --force" >/dev/null
    $kb archive "$k/ck.kar" bin/keel="$KEEL" etc/keel/keyring="$k/keyring" \
        >/dev/null &&
        $kb create --payload "$k/ck.kar" --board "$BOARD" --version 0.3.0 \
            --counter 1 --checkpoint "testnet:2000:$bh:$wt" \
            -o "$k/ck.kbn" >/dev/null &&
        $kb sign "$k/ck.kbn" --key "$k/k1.pem" >/dev/null ||
        { fail "sync: checkpoint bundle"; return 0; }
    q ck "update install $k/ck.kbn" >"$k/install.out"
    node_stop ck
    # slot b holds nothing: no checkpoint, and nothing written
    NODE_ARGS="--rootfs $k/rootfs" node_start ck "" KEEL_SLOT=b ||
        { fail "sync: ck did not restart"; return 0; }
    v=$(q ck "chain info")
    node_stop ck
    if ! grep -q 'none yet' <<<"$v" ||
        ! grep -q "checkpoint is not used: the running slot b does not verify" "$tmp/ck.err"; then
        fail "sync: a slot that does not verify gives no checkpoint" "$(tr '\n' ' ' <<<"$v")"
    fi
    NODE_ARGS="--rootfs $k/rootfs" node_start ck "" KEEL_SLOT=a ||
        { fail "sync: ck did not restart"; return 0; }
    q ck "sync seeds add 10.78.0.1" >/dev/null
    q ck "net config set sync_poll_s 0" >/dev/null
    q ck "sync now" >/dev/null
    sync_wait ck
    v=$(q ck "chain info")
    if grep -q '^installed 0.3.0 (counter 1) into slot a' "$k/install.out" &&
        grep -q 'starting at the checkpoint signed into the running firmware: testnet block 2000' "$tmp/ck.err" &&
        grep -q '^checkpoint: bnum 2000 ' <<<"$v" &&
        grep -q '^stored: *2000 \.\. 3000 (1001 trailers)' <<<"$v" &&
        [ "$(metric ck keel_sync_trailers_fetched_total)" = 1001 ] &&
        q ck "sync status" | grep -q '^last: *synced to tip 3000'; then
        ok "sync: a node with no chain starts at the checkpoint signed into its firmware's manifest and fetches only the 1,001 trailers from it (none below); a slot that does not verify gives none"
    else
        fail "sync: from the firmware's checkpoint" "$(tr '\n' ' ' <<<"$v") / $(q ck 'sync status' | tr '\n' ' ')"
    fi
    node_gone ck
}

sync_tests
