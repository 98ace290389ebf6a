# tests/p2p.sh - peer bundle distribution on a simwire hub (issue #17;
# sourced by tests/run.sh, which defines ok, fail, skip and $tmp).
#
# Five nodes linked each to each; node d serves corrupted chunks (the
# sim-only KEEL_SIM_P2P_CORRUPT hook) and node e's anti-rollback counter
# is 3 (a bundle confirmed under keel-boot before the test).  a installs
# a 32 MiB release; b, c, d and e fetch it on their own (auto_fetch
# fetch-only), from several peers, and every slot ends with the same
# verified bundle.  Then: b fetches a bundle a and d hold, d's chunks
# fail, d is marked and dropped, the rest comes from a; a bundle signed by a
# key not in the keyring (served by a sixth node, x) and one with an
# older counter are refused at the manifest with no chunk requested; a
# link dropped mid-fetch and a node killed mid-fetch (a power cut) end
# with correct slots, the latter resumed from its verified chunks (and
# b still remembers d as dropped after that reboot); a
# quarantine holds across a reboot; `update verify-all` finds a flipped
# bit and `--fix` repairs it from peers; with fetch-and-install a node
# fetches on its own and reboots (and, under keel-boot, boots the
# fetched slot on trial); a peer serving a manifest that does
# not match its announce is dropped and another asked; a chunk that
# fails from every source quarantines its bundle.  Every process is stopped by
# its id (tests/net/lib.sh).  No check depends on wall-clock time; the
# waits are bounded.
# shellcheck shell=bash

p2p_tests() {
    local KEEL=build/$BOARD-$HOST_ARCH/keel WIRE=build/tools/keel-wire
    local KBOOT=build/$BOARD-$HOST_ARCH/keel-boot KB=build/tools/keel-bundle
    local tmp=$tmp/p2p n m v fpa fpd hbig hold hmid hbad
    local -A FP
    mkdir -p "$tmp"
    # shellcheck source=tests/net/lib.sh
    source tests/net/lib.sh
    if ! command -v socat >/dev/null; then
        skip "p2p" "socat is not installed (scripts/setup.sh installs it)"
        return 0
    fi

    # peers_wait NODE TEXT SECONDS: until 'update peers' on NODE shows TEXT
    peers_wait() {
        local i
        for ((i = 0; i < $3 * 4; i++)); do
            q "$1" "update peers" | grep -q -- "$2" && return 0
            sleep 0.25
        done
        return 1
    }
    # link_pair A B IP: A and B trust each other, A dials B at IP
    link_pair() {
        q "$1" "peer trust add $(fp "$2")" >/dev/null
        q "$2" "peer trust add $(fp "$1")" >/dev/null
        q "$1" "peer connect $3" >/dev/null
    }

    # --- keys, keyrings, bundles -----------------------------------------
    openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/k1.pem" 2>/dev/null
    openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/k9.pem" 2>/dev/null
    mkdir -p "$tmp/root/etc/keel" "$tmp/root9/etc/keel"
    $KB keyring create --threshold 1 -o "$tmp/root/etc/keel/keyring" \
        "$tmp/k1.pem" >/dev/null
    $KB keyring create --threshold 1 -o "$tmp/root9/etc/keel/keyring" \
        "$tmp/k9.pem" >/dev/null
    # mk NAME VERSION COUNTER PAYLOAD KEY
    mk() {
        $KB create --payload "$4" --board "$BOARD" --version "$2" \
            --counter "$3" -o "$tmp/$1.kbn" >/dev/null &&
            $KB sign "$tmp/$1.kbn" --key "$5" >/dev/null &&
            $KB inspect "$tmp/$1.kbn" --json |
            sed -n 's/.*"manifest_sha256":"\([0-9a-f]*\)".*/\1/p'
    }
    head -c $((32 << 20)) /dev/urandom >"$tmp/big.bin"
    head -c $((1 << 20)) /dev/urandom >"$tmp/mid.bin"
    head -c $((1 << 20)) /dev/urandom >"$tmp/old.bin"
    $KB archive "$tmp/c3.kar" bin/keel="$KEEL" \
        etc/keel/keyring="$tmp/root/etc/keel/keyring" >/dev/null
    mk c3 0.1.0 3 "$tmp/c3.kar" "$tmp/k1.pem" >/dev/null
    hbig=$(mk big 0.3.0 5 "$tmp/big.bin" "$tmp/k1.pem")
    hold=$(mk old 0.4.0 1 "$tmp/old.bin" "$tmp/k1.pem")
    hmid=$(mk mid 0.5.0 6 "$tmp/mid.bin" "$tmp/k1.pem")
    hbad=$(mk bad 0.9.0 9 "$tmp/mid.bin" "$tmp/k9.pem")
    if [ ${#hbig} -ne 64 ] || [ ${#hold} -ne 64 ] || [ ${#hmid} -ne 64 ] ||
        [ ${#hbad} -ne 64 ]; then
        fail "p2p: bundles not made" "big '$hbig' old '$hold'"
        return 0
    fi

    # e: counter 3 confirmed under keel-boot before the test
    printf 'update install %s\n' "$tmp/c3.kbn" |
        timeout 60 "$KEEL" --flash "$tmp/e.img" --rootfs "$tmp/root" \
            >"$tmp/e-prep.log" 2>&1
    printf 'update confirm\n' |
        timeout 60 "$KBOOT" --flash "$tmp/e.img" >>"$tmp/e-prep.log" 2>&1
    if ! grep -q 'confirmed: slot a is good' "$tmp/e-prep.log"; then
        fail "p2p: node e's counter 3 not confirmed" "$(tail -n 3 "$tmp/e-prep.log")"
        return 0
    fi

    hub_start || { fail "p2p: the hub did not start"; return 0; }
    trap 'net_cleanup' RETURN
    for n in a:1 b:2 c:3 d:4 e:5; do
        if [ "${n%:*}" = d ]; then
            NODE_ARGS="--rootfs $tmp/root" node_start d 10.78.0.4 \
                KEEL_SIM_P2P_CORRUPT=1 || { fail "p2p: node d"; return 0; }
        else
            NODE_ARGS="--rootfs $tmp/root" node_start "${n%:*}" \
                "10.78.0.${n#*:}" || { fail "p2p: node ${n%:*}"; return 0; }
        fi
    done
    for n in a b c d e; do
        FP[$n]=$(fp $n)
        q $n "net config set ping_ms 1000" >/dev/null
        q $n "update auto-fetch off" >/dev/null
    done
    for n in a b c d e; do
        for m in a b c d e; do
            [ $n = $m ] || q $n "peer trust add ${FP[$m]}" >/dev/null
        done
    done
    local -A IP=([a]=1 [b]=2 [c]=3 [d]=4 [e]=5)
    for n in a b c d; do
        for m in b c d e; do
            [[ "$m" > "$n" ]] || continue
            q $n "peer connect 10.78.0.${IP[$m]}" >/dev/null
        done
    done
    for n in a b c d e; do
        wait_links $n 4 20 || { fail "p2p: links of $n" "$(links_up $n)"; return 0; }
    done
    fpa=${FP[a]} fpd=${FP[d]}

    # --- a 32 MiB release spreads over the fleet -------------------------
    # bytes: what each node fetched before (all of it, and from a)
    local -A B0 A0
    sumsrc() { q "$1" metrics | grep '^keel_p2p_source_bytes_total' |
        awk '{s += $NF} END {print s + 0}'; }
    for n in b c d e; do
        B0[$n]=$(sumsrc $n)
        A0[$n]=$(metric $n "keel_p2p_source_bytes_total{peer=\"${fpa:0:16}\"}")
    done
    v=$(q a "update install $tmp/big.kbn")
    if [[ "$v" != *"installed 0.3.0"* ]]; then
        fail "p2p: a installs the release" "$v"
        return 0
    fi
    # the fleet takes it on its own (the default policy, fetch-only)
    for n in b c d e; do
        q $n "update auto-fetch fetch-only" >/dev/null
    done
    for n in b c d e; do
        wait_log $n "bundle ${hbig:0:16} fetched into slot" 90 err ||
            fail "p2p: $n did not fetch the release" "$(grep p2p "$tmp/$n.err" | tail -n 3)"
    done
    local same=1 spread=1 nfrom nall others=0 spread_msg=""
    for n in b c d e; do
        v=$(q $n "update status --json")
        [[ "$v" == *"\"state\":\"ready\""*"\"manifest\":\"$hbig\""* ]] || same=0
        v=$(q $n "update verify-all --json")
        [[ "$v" == *'"verdict":"good"'* ]] || same=0
        nfrom=$(metric $n "keel_p2p_source_bytes_total{peer=\"${fpa:0:16}\"}")
        nfrom=$((${nfrom:-0} - ${A0[$n]:-0}))
        nall=$(($(sumsrc $n) - ${B0[$n]}))
        [ "$nall" -ge $((32 << 20)) ] || spread=0
        [ "$nfrom" -lt "$nall" ] && others=$((others + 1))
        spread_msg+=" $n:$((nfrom >> 20))/$((nall >> 20))MiB"
    done
    # Chunks go rarest first from a random start, written where they
    # belong: every fetcher takes part of the release from the others
    # (docs/P2P.md).
    [ $others -eq 4 ] || spread=0
    if [ $same = 1 ]; then
        ok "p2p: four nodes fetch a 32 MiB release and verify the same slot"
    else
        fail "p2p: fleet slots" "$v"
    fi
    if [ $spread = 1 ]; then
        ok "p2p: the load spreads: no node took all of it from a (from a:$spread_msg)"
    else
        fail "p2p: load spread" "from a:$spread_msg"
    fi
    for n in a b c d e; do
        q $n "update auto-fetch off" >/dev/null
    done
    v=$(q b "update fetch $hbig")
    if [[ "$v" == *"is in slot "*" already (ready): nothing to fetch"* ]] &&
        [[ "$(q b "update peers")" != *"fetch "* ]]; then
        ok "p2p: a bundle a slot holds already is not fetched again"
    else
        fail "p2p: fetch of a held bundle" "$v"
    fi

    # --- refused at the manifest: a key not in the keyring -------------------
    NODE_ARGS="--rootfs $tmp/root9" node_start x 10.78.0.9 ||
        { fail "p2p: node x"; return 0; }
    q x "update auto-fetch off" >/dev/null
    v=$(q x "update install $tmp/bad.kbn")
    link_pair x b 10.78.0.2
    wait_links x 1 20 || fail "p2p: x links to b"
    peers_wait b "0.9.0" 10
    local ok0
    ok0=$(metric b 'keel_p2p_chunks_total{result="ok"}')
    v=$(q b "update fetch $hbad")
    if [[ "$v" == *"keys not in the keyring"*"refused at the manifest, no chunk requested"* ]] &&
        [ "$(metric x keel_p2p_served_chunks_total)" = 0 ] &&
        [ "$(metric b 'keel_p2p_chunks_total{result="ok"}')" = "$ok0" ] &&
        grep -q "refused unknown_key" "$tmp/b.err"; then
        ok "p2p: a bundle signed by a key not in the keyring is refused at the manifest, no chunk requested"
    else
        fail "p2p: unknown key" "$v"
    fi
    node_stop x

    # --- refused at the manifest: an older security counter -------------------
    v=$(q a "update install $tmp/old.kbn")
    peers_wait e "0.4.0" 10
    local served0
    served0=$(metric a keel_p2p_served_chunks_total)
    v=$(q e "update fetch $hold")
    if [[ "$v" == *"security counter 1 is below the anti-rollback counter 3"*"no chunk requested"* ]] &&
        [ "$(metric a keel_p2p_served_chunks_total)" = "$served0" ] &&
        grep -q "refused counter_rollback" "$tmp/e.err"; then
        ok "p2p: an older counter is refused at the manifest, no chunk requested"
    else
        fail "p2p: older counter" "$v"
    fi


    # --- a peer serving corrupted chunks (d: KEEL_SIM_P2P_CORRUPT) ----------
    # d fetches the bundle a holds, then b fetches it from both: d's
    # chunks fail their hash, d is marked and dropped after three, the
    # rest comes from a, and update_install() never saw a bad chunk.
    q d "update fetch $hold" >/dev/null
    for _ in $(seq 40); do
        [ "$(q b "update peers" | grep -c "0.4.0 .*chunks 16/16")" = 2 ] && break
        sleep 0.25
    done
    local bad0 rej
    bad0=$(metric b 'keel_p2p_chunks_total{result="bad_hash"}')
    v=$(q b "update fetch $hold")
    rej=$(metric b 'keel_update_rejected_total{reason="chunk_hash"}')
    if [[ "$v" == *"fetched 0.4.0"* ]] &&
        [ "$(metric b 'keel_p2p_chunks_total{result="bad_hash"}')" -ge $((bad0 + 3)) ] &&
        [ "${rej:-0}" = 0 ] &&
        grep -q "from peer ${fpd:0:16} does not match" "$tmp/b.err" &&
        grep -q "peer ${fpd:0:16} dropped for bundle ${hold:0:16}" "$tmp/b.err" &&
        [[ "$(q b "update verify-all")" == *"slot a: ready    good"* ]]; then
        ok "p2p: a corrupting peer is marked and dropped; the bundle completes from the others, no bad chunk reached a slot"
    else
        fail "p2p: corrupting peer" "$v $(grep p2p "$tmp/b.err" | tail -n 2)"
    fi

    # --- a power cut (kill) mid-fetch: the next fetch resumes ----------------
    # a serves slowly (its pacing follows its own byte limit) so the cut
    # lands in the middle; the checks count chunks, not time.
    q a "net config set bytes_per_s 65536" >/dev/null
    q a "update install $tmp/mid.kbn" >/dev/null
    peers_wait b "0.5.0" 10
    served0=$(metric a keel_p2p_served_chunks_total)
    printf 'update fetch %s\n' "$hmid" >&"${NODE_FD[b]}"
    for _ in $(seq 200); do
        v=$(metric a keel_p2p_served_chunks_total)
        [ $((v - served0)) -ge 3 ] && break
        sleep 0.1
    done
    kill -9 "${NODE_PID[b]}" 2>/dev/null
    q a "net config set bytes_per_s 8388608" >/dev/null
    { wait "${NODE_PID[b]}"; } 2>/dev/null
    eval "exec ${NODE_FD[b]}>&-"
    NODE_ARGS="--rootfs $tmp/root" node_start b "" || { fail "p2p: b again"; return 0; }
    wait_links b 4 20 || fail "p2p: b links again" "$(links_up b)"
    v=$(q b "update peers")
    if [[ "$v" == *"dropped: peer ${fpd:0:16} for bundle ${hold:0:16}"* ]]; then
        ok "p2p: a peer dropped for bad chunks stays dropped across a reboot"
    else
        fail "p2p: drop across a reboot" "$v"
    fi
    peers_wait b "0.5.0" 10
    v=$(q b "update fetch $hmid")
    m=$(sed -n 's/.*, \([0-9]*\) chunks kept from before.*/\1/p' <<<"$v")
    if [ "${m:-0}" -ge 1 ] && [ "$m" -lt 15 ] &&
        [[ "$(q b "update verify-all")" == *"slot a: ready    good"* ]]; then
        ok "p2p: a fetch cut by a power cut resumes after $m verified chunks and ends good"
    else
        fail "p2p: resume after a cut" "$v"
    fi

    # --- a link lost mid-fetch: the fetch goes on when it is back ----------
    local lid
    q a "net config set bytes_per_s 131072" >/dev/null
    served0=$(metric a keel_p2p_served_chunks_total)
    printf 'update fetch --from %s %s\n' "${fpa:0:16}" "$hmid" >&"${NODE_FD[c]}"
    for _ in $(seq 200); do
        v=$(metric a keel_p2p_served_chunks_total)
        [ $((v - served0)) -ge 4 ] && break
        sleep 0.1
    done
    lid=$(q a "update peers --json" |
        grep -o "\"link\":[0-9]*,\"fingerprint\":\"${FP[c]}\"" |
        sed 's/"link":\([0-9]*\),.*/\1/')
    q a "peer drop $lid" >/dev/null
    if wait_log c "bundle ${hmid:0:16} fetched into slot" 60 err &&
        [[ "$(q c "update verify-all")" == *"slot a: ready    good"* ]] &&
        grep -q "closed: dropped" "$tmp/a.err"; then
        ok "p2p: a link dropped mid-fetch comes back and the fetch ends good"
    else
        fail "p2p: link loss" "link '$lid' $(grep p2p "$tmp/c.err" | tail -n 2)"
    fi
    q a "net config set bytes_per_s 8388608" >/dev/null

    # --- quarantine: not fetched, served or installed, across a reboot ------
    q b "update quarantine $hmid --reason 'held for the test'" >/dev/null
    # e's quarantine comes while it fetches (slowly, from a alone): the
    # fetch stops there
    local mq=1
    q a "net config set bytes_per_s 65536" >/dev/null
    q e "update fetch --background --from ${fpa:0:16} $hmid" >/dev/null
    peers_wait e "fetching chunks" 10
    q e "update quarantine $hmid --reason 'held for the test'" >/dev/null
    wait_log e "the bundle was quarantined during the fetch" 10 err && mq=0
    q a "net config set bytes_per_s 8388608" >/dev/null
    node_stop e
    NODE_ARGS="--rootfs $tmp/root" node_start e "" || { fail "p2p: e again"; return 0; }
    wait_links e 4 20 || fail "p2p: e links again"
    sleep 0.5
    local qf qi qs
    qf=$(q e "update fetch $hmid")
    qi=$(q e "update install $tmp/mid.kbn")
    qs=$(q d "update peers --json" | grep -o "\"fingerprint\":\"${FP[b]}\",\"bundles\":\[[^]]*\]")
    if [ $mq = 0 ] && q e "update quarantine list" | grep -q "^$hmid .*held for the test" &&
        [[ "$qf" == *"quarantined on this node: not fetched"* ]] &&
        [[ "$qi" == *"is quarantined on this node"* ]] &&
        [[ -n "$qs" && "$qs" != *"$hmid"* ]]; then
        ok "p2p: a quarantined bundle is neither fetched (a fetch under way stops), installed nor served, across a reboot"
    else
        fail "p2p: quarantine" "mid-fetch $mq fetch '$qf' install '$qi' b announces '$qs'"
    fi

    # --- verify-all finds a flipped bit; --fix repairs it from peers -------
    node_stop c
    printf '\xff' | dd of="$tmp/c.img" bs=1 seek=$((0x2000000 + 8192 + 100)) \
        conv=notrunc 2>/dev/null
    NODE_ARGS="--rootfs $tmp/root" node_start c "" || { fail "p2p: c again"; return 0; }
    wait_links c 4 20 || fail "p2p: c links again"
    sleep 0.5
    v=$(q c "update verify-all")
    m=$(q c "update verify-all --fix")
    if [[ "$v" == *"slot a: ready    corrupt: chunk 0"* ]] &&
        [[ "$m" == *"slot a repaired from peers"* ]] &&
        [[ "$(q c "update verify-all --json")" == *'"a":{"state":"ready","verdict":"good"'* ]]; then
        ok "p2p: verify-all finds a flipped bit in the inactive slot; --fix repairs it from peers"
    else
        fail "p2p: verify-all" "$v / $m"
    fi

    # --- fetch-and-install: d fetches what a announces, then reboots -------
    # (not under keel-boot, the sim node re-executes itself: same pid)
    local boots
    boots=$(grep -c '^keel: boot ' "$tmp/d.err")
    q d "update auto-fetch fetch-and-install" >/dev/null
    if wait_log d "fetch-and-install: rebooting into slot a" 60 err; then
        for _ in $(seq 100); do
            [ "$(grep -c '^keel: boot ' "$tmp/d.err")" -gt "$boots" ] && break
            sleep 0.1
        done
        wait_log d 'keel> ' 20 || true
        sleep 0.5
    fi
    v=$(q d "update status --json")
    if grep -q "bundle ${hmid:0:16} fetched into slot a" "$tmp/d.err" &&
        [ "$(grep -c '^keel: boot ' "$tmp/d.err")" -gt "$boots" ] &&
        [[ "$v" == *"\"manifest\":\"$hmid\""* ]]; then
        ok "p2p: fetch-and-install fetches a newer bundle on its own, then reboots with it ready for its trial"
    else
        fail "p2p: fetch-and-install" "$(grep p2p "$tmp/d.err" | tail -n 2)"
    fi

    # --- a peer serving a bad manifest is dropped; another serves it -------
    local fy v2
    NODE_ARGS="--rootfs $tmp/root" node_start y 10.78.0.10 \
        KEEL_SIM_P2P_CORRUPT=manifest || { fail "p2p: node y"; return 0; }
    NODE_ARGS="--rootfs $tmp/root" node_start z 10.78.0.11 ||
        { fail "p2p: node z"; return 0; }
    fy=$(fp y)
    for n in y z; do q $n "update auto-fetch off" >/dev/null; done
    q y "update install $tmp/mid.kbn" >/dev/null
    link_pair z y 10.78.0.10
    link_pair z a 10.78.0.1
    wait_links z 2 20 || fail "p2p: z links" "$(links_up z)"
    for _ in $(seq 40); do
        [ "$(q z "update peers" | grep -c "0.5.0")" = 2 ] && break
        sleep 0.25
    done
    v=$(q z "update fetch --from ${fy:0:8} $hmid")
    v2=$(q z "update fetch $hmid")
    if [[ "$v" == *"every peer that announces it was dropped"* ]] &&
        grep -q "peer ${fy:0:16} served a manifest for bundle ${hmid:0:16} that does not match its hash" "$tmp/z.err" &&
        [ "$(metric y keel_p2p_served_chunks_total)" = 0 ] &&
        [[ "$v2" == *"fetched 0.5.0"* ]]; then
        ok "p2p: a peer serving a manifest that does not match is dropped for the bundle; another serves it"
    else
        fail "p2p: bad manifest" "$v / $v2"
    fi
    node_stop y
    node_stop z

    # --- a chunk that fails from every source: quarantined on its own ----
    # w links only to d, which corrupts every chunk it serves.
    NODE_ARGS="--rootfs $tmp/root" node_start w 10.78.0.12 ||
        { fail "p2p: node w"; return 0; }
    q w "update auto-fetch off" >/dev/null
    link_pair w d 10.78.0.4
    wait_links w 1 20 || fail "p2p: w links" "$(links_up w)"
    v=$(q w "update fetch $hmid")
    if [[ "$v" == *"failed its hash from every source"*"quarantined"* ]] &&
        q w "update quarantine list" | grep -q "^$hmid .*(automatic) automatic: chunk [0-9]* failed" &&
        [[ "$(q w "update verify-all")" != *"good"* ]]; then
        ok "p2p: a chunk that fails from every source quarantines the bundle on its own; nothing bad in a slot"
    else
        fail "p2p: automatic quarantine" "$v"
    fi

    node_stop w

    # --- fetch-and-install under keel-boot: the fetched slot boots ------
    # k runs under keel-boot (--net passed on to its node) from a slot
    # holding keel itself; a announces 0.6.0, also keel in a signed
    # archive.  k fetches it on its own, its node ends for the reboot,
    # keel-boot boots slot b on trial, and the operator confirms it.
    local hc6 kboots
    $KB archive "$tmp/c6.kar" bin/keel="$KEEL" \
        etc/keel/keyring="$tmp/root/etc/keel/keyring" >/dev/null
    hc6=$(mk c6 0.6.0 7 "$tmp/c6.kar" "$tmp/k1.pem")
    printf 'update install %s\n' "$tmp/c3.kbn" |
        timeout 60 "$KEEL" --flash "$tmp/k.img" --rootfs "$tmp/root" \
            >"$tmp/k-prep.log" 2>&1
    printf 'update confirm\n' |
        timeout 60 "$KBOOT" --flash "$tmp/k.img" >>"$tmp/k-prep.log" 2>&1
    if ! grep -q 'confirmed: slot a is good' "$tmp/k-prep.log" ||
        ! KEEL=$KBOOT node_start k 10.78.0.13; then
        fail "p2p: node k under keel-boot" "$(tail -n 3 "$tmp/k-prep.log")"
        net_cleanup
        return 0
    fi
    q k "update auto-fetch off" >/dev/null
    q a "update install $tmp/c6.kbn" >/dev/null
    link_pair k a 10.78.0.1
    wait_links k 1 20 || fail "p2p: k links" "$(links_up k)"
    # k_reboot: after k's node ended for a reboot, until its next prompt
    k_reboot() {
        for _ in $(seq 100); do
            [ "$(grep -c '^keel: boot ' "$tmp/k.err")" -gt "$kboots" ] && break
            sleep 0.1
        done
        kboots=$(grep -c '^keel: boot ' "$tmp/k.err")
        wait_log k 'keel> ' 20 || true
        sleep 0.5
    }
    kboots=$(grep -c '^keel: boot ' "$tmp/k.err")
    q k "update auto-fetch fetch-and-install" >/dev/null
    wait_log k "fetch-and-install: rebooting into slot b" 60 err && k_reboot
    # the trial is rolled back: the bundle failed here, and the automatic
    # fetch must not take it again (it would reboot into it once a start)
    v=$(q k "update status")
    q k "update rollback" >/dev/null
    k_reboot
    q k "peer connect 10.78.0.1" >/dev/null
    wait_links k 1 20 || true
    sleep 3 # two announces of a's
    local refetched
    refetched=$(grep -c "automatic fetch .* (bundle ${hc6:0:16})" "$tmp/k.err")
    if grep -q "bundle ${hc6:0:16} fetched into slot b" "$tmp/k.err" &&
        [[ "$v" == *"slot b"*"trial"* ]] && [ "$refetched" = 1 ] &&
        [[ "$(q k "update status")" == *"rolled_back"* ]]; then
        ok "p2p: fetch-and-install under keel-boot boots the fetched slot on trial; rolled back, it is not fetched again on its own"
    else
        fail "p2p: fetch-and-install under keel-boot" "refetched $refetched; $v $(grep 'p2p\|keel-boot' "$tmp/k.err" | tail -n 3)"
    fi
    # the operator decides: fetched by its hash, booted, confirmed
    q k "update auto-fetch fetch-only" >/dev/null
    q k "update fetch $hc6" >/dev/null
    printf 'reboot\n' >&"${NODE_FD[k]}"
    k_reboot
    v=$(q k "update confirm")
    if [[ "$v" == *"confirmed: slot b is good"* ]]; then
        ok "p2p: the operator fetches it again by its hash; under keel-boot it boots and is confirmed"
    else
        fail "p2p: fetch again under keel-boot" "$v $(grep 'p2p\|keel-boot' "$tmp/k.err" | tail -n 3)"
    fi
    node_stop k

    net_cleanup
}

p2p_tests
