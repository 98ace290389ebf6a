# tests/p2p.sh - peer bundle distribution on a simwire hub (issue #17;
# sourced by tests/run.sh, which defines ok, fail, skip and $tmp).
#
# Five nodes linked each to each; node d serves corrupted chunks (the
# sim-only KEEL_SIM_P2P_CORRUPT hook) and node e's anti-rollback counter
# is 3 (a bundle confirmed under keel-boot before the test).  a installs
# a 32 MiB release; b, c, d and e fetch it on their own (auto_fetch
# fetch-only), from several peers, d is marked and dropped, and every
# slot ends with the same verified bundle.  Then: a bundle signed by a
# key not in the keyring (served by a sixth node, x) and one with an
# older counter are refused at the manifest with no chunk requested; a
# link dropped mid-fetch and a node killed mid-fetch (a power cut) end
# with correct slots, the latter resumed from its verified chunks; a
# quarantine holds across a reboot; `update verify-all` finds a flipped
# bit and `--fix` repairs it from peers.  Every process is stopped by
# its id (tests/net/lib.sh).  No check depends on wall-clock time; the
# waits are bounded.
# shellcheck shell=bash

p2p_tests() {
    local KEEL=build/$BOARD-$HOST_ARCH/keel WIRE=build/tools/keel-wire
    local KBOOT=build/$BOARD-$HOST_ARCH/keel-boot KB=build/tools/keel-bundle
    local tmp=$tmp/p2p n m v i fpa fpd fpx hbig hold hmid hbad ids
    local -A FP
    mkdir -p "$tmp"
    # shellcheck source=tests/net/lib.sh
    source tests/net/lib.sh
    if ! command -v socat >/dev/null; then
        skip "p2p" "socat is not installed (scripts/setup.sh installs it)"
        return 0
    fi

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
    $KB archive "$tmp/c3.kar" bin/keel="$KEEL" \
        etc/keel/keyring="$tmp/root/etc/keel/keyring" >/dev/null
    mk c3 0.1.0 3 "$tmp/c3.kar" "$tmp/k1.pem" >/dev/null
    hbig=$(mk big 0.3.0 5 "$tmp/big.bin" "$tmp/k1.pem")
    hold=$(mk old 0.4.0 1 "$tmp/mid.bin" "$tmp/k1.pem")
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
    v=$(q a "update install $tmp/big.kbn")
    if [[ "$v" != *"installed 0.3.0"* ]]; then
        fail "p2p: a installs the release" "$v"
        return 0
    fi
    for n in b c d e; do
        wait_log $n "fetched into slot" 90 err ||
            fail "p2p: $n did not fetch the release" "$(grep p2p "$tmp/$n.err" | tail -n 3)"
    done
    local same=1 spread=1 nfrom nall
    for n in b c d e; do
        v=$(q $n "update status --json")
        [[ "$v" == *"\"state\":\"ready\""*"\"manifest\":\"$hbig\""* ]] || same=0
        v=$(q $n "update verify-all --json")
        [[ "$v" == *'"verdict":"good"'* ]] || same=0
        nfrom=$(metric $n "keel_p2p_source_bytes_total{peer=\"${fpa:0:16}\"}")
        nall=$(q $n metrics | grep '^keel_p2p_source_bytes_total' |
            awk '{s += $NF} END {print s + 0}')
        echo "    $n: ${nfrom:-0} of $nall bytes from a" >&2
        [ "${nfrom:-0}" -lt "$nall" ] || spread=0
    done
    if [ $same = 1 ]; then
        ok "p2p: four nodes fetch a 32 MiB release and verify the same slot"
    else
        fail "p2p: fleet slots" "$v"
    fi
    if [ $spread = 1 ]; then
        ok "p2p: the load spreads: no node fetched it all from a"
    else
        fail "p2p: load spread"
    fi
    # d served corrupted chunks: marked, dropped, never in a slot
    local marked=1 rej
    for n in b c e; do
        v=$(metric $n 'keel_p2p_chunks_total{result="bad_hash"}')
        rej=$(metric $n 'keel_update_rejected_total{reason="chunk_hash"}')
        if [ "${v:-0}" -lt 1 ] || [ "${rej:-0}" != 0 ]; then
            marked=0
        fi
        grep -q "from peer ${fpd:0:16} does not match" "$tmp/$n.err" || marked=0
    done
    if [ $marked = 1 ] && grep -q "peer ${fpd:0:16} dropped for bundle" \
        "$tmp"/[bce].err; then
        ok "p2p: a corrupting peer is marked and dropped; no bad chunk reached a slot"
    else
        fail "p2p: corrupting peer" "$(grep -h 'p2p' "$tmp"/[bce].err | grep -v fetch | tail -n 3)"
    fi

    net_cleanup
}

p2p_tests
