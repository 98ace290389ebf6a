# tests/sync_mainnet.sh - a chain of the shape real Mochimo peers serve
# (keel-chaingen --profile mainnet: the real genesis, pseudo and NG
# blocks up to v3 at 0xa0700 = 657,152, then difficulty-1 blocks mined
# with peach): imported and checked under mainnet's rules, with proof of
# work really checked past v3, and synced node to node over simwire.
# Sourced by tests/run.sh (ok, fail, skip, $tmp, $BOARD, $HOST_ARCH).
# shellcheck shell=bash
#
# The chain (660,001 trailers, 105.6 MB) is minted once per run into
# $tmp/mainnet-chain and reused.  The sim board's chain log (29 MiB)
# holds about 172,000 trailers: an import or a sync of this chain keeps
# the recent part and the full weight (the oldest history is trimmed as
# the log fills, CHAIN.md "Full log"), so a node that has imported it
# cannot serve it from genesis.  The empty node therefore syncs from a
# sim node serving the whole file (KEEL_SIM_SYNC_FILE, honest: no lie),
# as a reference node serves its whole tfile, then follows a heavier
# fork from 659,001 (another such node); a node holding the first
# 658,001 syncs the rest from the keel node that imported the chain.

# mn_now: seconds since the epoch, to the millisecond; mn_since T0:
# seconds since T0 (figures printed only: nothing here fails on time).
mn_now() {
    date +%s.%N | cut -c1-14
}
mn_since() {
    awk -v a="$1" -v b="$(mn_now)" 'BEGIN { printf "%.1f", b - a }'
}

# mn_sync NODE: sync now and wait (120 s at most); t1 is how long it
# took, v the node's sync status after.
mn_sync() {
    local t0
    t0=$(mn_now)
    q "$1" "sync now" >/dev/null
    sync_wait "$1" 120
    t1=$(mn_since "$t0")
    v=$(q "$1" "sync status")
}

sync_mainnet_tests() {
    local KEEL=build/$BOARD-$HOST_ARCH/keel WIRE=build/tools/keel-wire
    local cg=build/tools/keel-chaingen v t0 t1 w base m
    local cache=$tmp/mainnet-chain tip=660000
    local tmp=$tmp/sync_mainnet
    mkdir -p "$tmp" "$cache"
    # shellcheck source=tests/net/lib.sh
    source tests/net/lib.sh
    if ! command -v socat >/dev/null; then
        skip "sync_mainnet" "socat is not installed (scripts/setup.sh installs it)"
        return 0
    fi
    m=$cache/m.dat
    if [ ! -s "$m" ]; then
        t0=$(mn_now)
        $cg --profile mainnet -n $tip -d 1 --pseudo-every 50 --seed 3 \
            -o "$m" >"$cache/m.txt" 2>&1 || { fail "sync_mainnet: keel-chaingen" "$(cat "$cache/m.txt")"; return 0; }
        echo "# sync_mainnet: minted $((tip + 1)) trailers in $(mn_since "$t0") s"
    fi
    w=$(awk '{print $NF}' "$cache/m.txt")
    # a proof of work that misses, past v3: 138 blocks after 0xa0700
    $cg --profile mainnet -n 657300 -d 1 --pseudo-every 50 --seed 3 \
        --break pow --at 657290 -o "$tmp/bad.dat" >/dev/null 2>&1 &&
        head -c $((160 * 658001)) "$m" >"$tmp/head.dat" ||
        { fail "sync_mainnet: keel-chaingen (bad chain)"; return 0; }
    hub_start || { fail "sync_mainnet: the hub did not start"; return 0; }
    node_start a 10.79.0.1 ||
        { fail "sync_mainnet: node a did not start"; net_cleanup; return 0; }
    v=$(q a "chain import $m")
    printf '%s\n' "$v" >"$tmp/a.import"
    echo "# sync_mainnet: $(grep 'committed;' <<<"$v" | sed 's/^chain import: //')"
    v=$(q a "chain info")
    if grep -q '^profile: *mainnet' <<<"$v" &&
        grep -q "^tip: *$tip " <<<"$v" && grep -q "^weight: *$w" <<<"$v" &&
        grep -q 'the log was full: history before [0-9]* was dropped' \
            "$tmp/a.import" &&
        q a "chain verify --pow" | grep -q 'trailers valid with their proofs of work, weight matches'; then
        ok "sync_mainnet: a 660,001-trailer mainnet-shaped chain imports under mainnet's rules, the recent part kept with the full weight; verify --pow"
    else
        fail "sync_mainnet: import" "$(tr '\n' ' ' <<<"$v") / $(tr '\n' ' ' <"$tmp/a.import")"
    fi
    # past v3 the proof of work is checked: a miss at 657290 is refused
    node_start x "" ||
        { fail "sync_mainnet: node x did not start"; net_cleanup; return 0; }
    v=$(q x "chain import $tmp/bad.dat")
    if grep -q '^error: chain import: stopped at trailer 657290 (proof of work does not meet the difficulty); nothing past 657289 committed' <<<"$v" &&
        q x "chain info" | grep -q '^tip: *657289 '; then
        ok "sync_mainnet: past 0xa0700 a proof of work that misses is refused at its block"
    else
        fail "sync_mainnet: pow past v3" "$(tr '\n' ' ' <<<"$v")"
    fi
    node_stop x
    # an empty node syncs the whole chain from a peer serving the file
    node_start s 10.79.0.2 KEEL_SIM_SYNC_FILE="$m" ||
        { fail "sync_mainnet: node s did not start"; net_cleanup; return 0; }
    q s "net config set sync_port 2095" >/dev/null
    node_start b 10.79.0.3 ||
        { fail "sync_mainnet: node b did not start"; net_cleanup; return 0; }
    q b "sync seeds add 10.79.0.2" >/dev/null
    mn_sync b
    echo "# sync_mainnet: an empty node synced $((tip + 1)) trailers in $t1 s (wall, polled every 0.5 s)"
    base=$(q b "chain info" | sed -n 's/^stored: *\([0-9]*\) .*/\1/p')
    q b "chain export $tmp/b.dat" >/dev/null
    if grep -q "^last: *synced to tip $tip ($((tip + 1)) trailers new)" <<<"$v" &&
        q b "chain info" | grep -q "^weight: *$w" &&
        q b "chain info" | grep -q '^profile: *mainnet' && [ -n "$base" ] &&
        tail -c +$((base * 160 + 1)) "$m" | cmp -s - "$tmp/b.dat"; then
        ok "sync_mainnet: an empty node syncs 660,001 mainnet-shaped trailers over simwire, to the same tip, weight and bytes (from $base)"
    else
        fail "sync_mainnet: sync from empty" "$(tr '\n' ' ' <<<"$v") base ${base:-?}"
    fi
    # a heavier fork from 659,001 (600 blocks at difficulty 2 against
    # 1,000 at 1): b finds the fork point and replaces its branch
    local fk=$cache/fork.dat
    if [ ! -s "$fk" ]; then
        $cg --profile mainnet -n 659600 -d 1 --pseudo-every 50 --seed 3 \
            --fork-at 659001 --fork-difficulty 2 --fork-seed 8 \
            -o "$fk" >"$cache/fork.txt" 2>&1 ||
            { fail "sync_mainnet: keel-chaingen (fork)" "$(cat "$cache/fork.txt")"; net_cleanup; return 0; }
    fi
    node_start f 10.79.0.5 KEEL_SIM_SYNC_FILE="$fk" ||
        { fail "sync_mainnet: node f did not start"; net_cleanup; return 0; }
    q f "net config set sync_port 2095" >/dev/null
    q b "sync seeds add 10.79.0.5" >/dev/null
    mn_sync b
    echo "# sync_mainnet: the heavier fork from 659001 replaced the branch in $t1 s"
    if grep -q "^last: *synced to tip 659600 (600 trailers new, a heavier fork replaced the stored branch)" <<<"$v" &&
        q b "chain info" | grep -q "^weight: *$(awk '{print $NF}' "$cache/fork.txt")"; then
        ok "sync_mainnet: a heavier fork 1,000 below the tip, past v3: the fork point is found and the branch replaced"
    else
        fail "sync_mainnet: fork" "$(tr '\n' ' ' <<<"$v")"
    fi
    # a node holding the chain to 658,000 follows a keel node that
    # imported it (and serves what it keeps)
    q a "net config set sync_port 2095" >/dev/null
    node_start c 10.79.0.4 ||
        { fail "sync_mainnet: node c did not start"; net_cleanup; return 0; }
    q c "chain import $tmp/head.dat" >/dev/null
    q c "sync seeds add 10.79.0.1" >/dev/null
    mn_sync c
    echo "# sync_mainnet: a node at 658000 synced the rest in $t1 s"
    if grep -q "^last: *synced to tip $tip (2000 trailers new)" <<<"$v" &&
        q c "chain info" | grep -q "^weight: *$w"; then
        ok "sync_mainnet: a node at 658,000 syncs the 2,000 new trailers from a keel node holding the chain's recent part"
    else
        fail "sync_mainnet: follow from a keel node" "$(tr '\n' ' ' <<<"$v")"
    fi
    net_cleanup
    rm -f "$tmp/head.dat" "$tmp/b.dat" "$tmp/bad.dat" "$tmp"/*.img
}

sync_mainnet_tests
