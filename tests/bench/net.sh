#!/usr/bin/env bash
# tests/bench/net.sh KEEL WIRE CONLAT - the network figures of issue #13:
# keel nodes on a simwire hub (tests/net/lib.sh), and openssl on
# 127.0.0.1 beside them with the same suite and curve
# (ECDHE-ECDSA-AES128-GCM-SHA256, P-256, TLS 1.2, client certificate
# required), in the same run.  One `bench net.NAME VALUE` line each:
#   tls_handshake_ms, tls_handshakes_per_s    median of 15 sequential
#       handshakes keel to keel (the dialer's "up in N ms" log line:
#       dial to TLS done, TCP's handshake included)
#   tls_handshake_openssl_ms, tls_handshake_vs_openssl   `openssl s_time
#       -new` for 5 s; the ratio is keel / openssl (lower is better)
#   tls_bulk_mb_per_s, tls_bulk_openssl_mb_per_s, tls_bulk_vs_openssl
#       `peer bench` for about 4 s; s_client piping 1000 MB of /dev/zero
#       into s_server; keel / openssl (higher is better)
#   console_idle_p99_ms, console_p50_ms, console_p99_ms   `uptime` on the
#       receiving node (build/tools/conlat), idle and while `peer bench`
#       fills its link
#   ram_per_link_bytes, ram_per_link_marginal_bytes   lwIP's heap (TLS
#       state and packets) of a node with 16 inbound links: high-water / 16
#       and (used with 16 - used with none) / 16
# MB is 10^6 bytes.  Every process started here is stopped by its pid
# (net_cleanup in the EXIT trap); every wait is bounded.  Only simwire
# and 127.0.0.1 are used.  The scratch directory (mktemp -d) holds 18
# flash images of 128 MiB, about 2.4 GB; NET_BENCH_KEEP=1 keeps it.
set -uo pipefail
KEEL=${1:?keel binary} WIRE=${2:?keel-wire} CONLAT=${3:?conlat}
SUITE=ECDHE-ECDSA-AES128-GCM-SHA256
HS_ROUNDS=15
BULK_S=4
OSSL_BULK_BYTES=1000000000
LEAVES=16
tmp=$(mktemp -d)
# shellcheck source=tests/net/lib.sh
source tests/net/lib.sh
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    net_cleanup
    [ -n "${ofd:-}" ] && eval "exec ${ofd}>&-"
    if [ "${NET_BENCH_KEEP:-0}" = 1 ]; then
        echo "# net: scratch kept in $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
failed=0
say() { echo "# net: $*"; }
broken() {
    say "FAILED: $*"
    failed=1
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a / b }'; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

for t in openssl socat ss; do
    command -v "$t" >/dev/null || {
        echo "# net: $t is not installed (scripts/setup.sh); no network figures"
        exit 1
    }
done

# ups NAME PEER: how many "link N to PEER up in X ms" lines NAME logged.
ups() { grep -c -- "to $2 up in" "$tmp/$1.err" 2>/dev/null; }
# wait_ups NAME PEER COUNT SECONDS: until NAME has logged COUNT of them.
wait_ups() {
    local i
    for ((i = 0; i < $4 * 20; i++)); do
        [ "$(ups "$1" "$2")" -ge "$3" ] && return 0
        sleep 0.05
    done
    return 1
}
# up_link NAME PEER: the id of NAME's link to PEER that is up.
up_link() {
    q "$1" "peer list --json" |
        grep -o "\"id\":[0-9]*,\"address\":\"$2\",\"direction\":\"out\",\"state\":\"up\"" |
        head -n 1 | sed 's/"id":\([0-9]*\),.*/\1/'
}
# bench_run NAME ID BYTES: `peer bench`; prints "MS MB_PER_S".
bench_run() {
    q "$1" "peer bench $2 $3" |
        sed -n 's/^bench: [0-9]* bytes in \([0-9]*\) ms: \([0-9.]*\) MB\/s$/\1 \2/p'
}
# wait_pid PID SECONDS: until the process has ended (then reap it).
wait_pid() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || {
            wait "$1" 2>/dev/null
            return 0
        }
        sleep 0.1
    done
    return 1
}

# openssl: a P-256 key and a self-signed certificate for both sides; a
# server on a free loopback port, its input a FIFO held open here (at
# end of input s_server would end the connection).
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ossl.key" 2>/dev/null
openssl req -new -x509 -key "$tmp/ossl.key" -out "$tmp/ossl.crt" -days 2 \
    -subj /CN=keel-bench 2>/dev/null
mkfifo "$tmp/ossl.in"
exec {ofd}<>"$tmp/ossl.in"
# ossl_server SECONDS NACCEPT: start one; sets OSSL_PID and OSSL_PORT.
ossl_server() {
    local p i
    for _ in 1 2 3 4 5; do
        p=$((20000 + RANDOM % 40000))
        [ -z "$(ss -Hltn "sport = :$p")" ] || continue
        timeout "$1" openssl s_server -accept "127.0.0.1:$p" \
            -cert "$tmp/ossl.crt" -key "$tmp/ossl.key" \
            -CAfile "$tmp/ossl.crt" -Verify 1 -cipher "$SUITE" \
            -curves prime256v1 -tls1_2 -quiet -naccept "$2" \
            <"$tmp/ossl.in" >/dev/null 2>>"$tmp/ossl-server.err" &
        OSSL_PID=$!
        NET_PIDS+=("$OSSL_PID")
        for ((i = 0; i < 50; i++)); do
            if [ -n "$(ss -Hltn "sport = :$p")" ]; then
                OSSL_PORT=$p
                return 0
            fi
            kill -0 "$OSSL_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$OSSL_PID" 2>/dev/null
        wait_pid "$OSSL_PID" 5
    done
    return 1
}

# shellcheck disable=SC2119 # the hub with no faults
hub_start || {
    broken "the hub did not start"
    exit 1
}

# ---- handshakes, keel to keel ----------------------------------------------
# a dials b; each round ends the dial and makes it again ('peer drop
# ADDR', 'peer connect ADDR'), so the next dial starts at once.  ('peer
# drop ID' alone would do, but a link that was up under 10 s counts as
# unstable: the dial's backoff doubles each round, 1, 2, 4 ... 60 s.)
hs=""
if node_start a 10.77.0.1 && node_start b 10.77.0.2; then
    for n in a b; do
        q $n "net config set conn_per_min 6000" >/dev/null
        q $n "net config set bytes_per_s 1073741824" >/dev/null
        q $n "net config set frames_per_s 1000000" >/dev/null
    done
    fa=$(fp a) fb=$(fp b)
    q a "peer trust add $fb" >/dev/null
    q b "peer trust add $fa" >/dev/null
    q a "peer connect 10.77.0.2" >/dev/null
    if wait_ups a 10.77.0.2:7950 1 20; then
        for ((r = 1; r <= HS_ROUNDS; r++)); do
            q a "peer drop 10.77.0.2" >/dev/null
            q a "peer connect 10.77.0.2" >/dev/null
            wait_ups a 10.77.0.2:7950 $((r + 1)) 20 || break
        done
        hs=$(grep -o 'to 10.77.0.2:7950 up in [0-9]* ms' "$tmp/a.err" |
            awk '{print $(NF-1)}' | tail -n +2)
    fi
    if [ "$(wc -w <<<"$hs")" -ge "$HS_ROUNDS" ]; then
        med=$(sort -n <<<"$hs" | awk '{v[NR]=$1} END {
            printf "%g\n", NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2 }')
        say "keel handshakes (ms): $(tr '\n' ' ' <<<"$hs")"
        echo "bench net.tls_handshake_ms $med"
        echo "bench net.tls_handshakes_per_s $(awk -v m="$med" \
            'BEGIN { printf "%.1f\n", 1000 / m }')"
    else
        broken "handshakes: only $(wc -w <<<"$hs") of $HS_ROUNDS links came up"
        hs=""
    fi
else
    broken "nodes a and b did not start"
fi

# ---- handshakes, openssl ---------------------------------------------------
ohs=""
if ossl_server 60 1000000; then
    t0=$(date +%s%N)
    n=$(timeout 30 openssl s_time -connect "127.0.0.1:$OSSL_PORT" -new \
        -time 5 -cert "$tmp/ossl.crt" -key "$tmp/ossl.key" \
        -cipher "$SUITE" 2>/dev/null |
        sed -n 's/^\([0-9]*\) connections in [0-9.]* real seconds.*/\1/p')
    t=$(ms_since "$t0")
    kill "$OSSL_PID" 2>/dev/null
    wait_pid "$OSSL_PID" 5
    if [ "${n:-0}" -gt 0 ]; then
        ohs=$(awk -v t="$t" -v n="$n" 'BEGIN { printf "%.3f\n", t / n }')
        say "openssl s_time: $n handshakes in $t ms"
        echo "bench net.tls_handshake_openssl_ms $ohs"
        [ -n "$hs" ] &&
            echo "bench net.tls_handshake_vs_openssl $(ratio "$med" "$ohs")"
    else
        broken "openssl s_time made no connection"
    fi
else
    broken "openssl s_server did not start"
fi

# ---- bulk, keel to keel ----------------------------------------------------
bulk=""
id=$(up_link a 10.77.0.2:7950)
if [ -n "$hs" ] && [ -n "$id" ]; then
    probe=$(bench_run a "$id" 20000000)
    rate=${probe#* }
    if [ -n "$probe" ]; then
        bytes=$(awk -v r="$rate" -v s="$BULK_S" \
            'BEGIN { b = int(r * 1e6 * s); print b < 20000000 ? 20000000 : b }')
        run=$(bench_run a "$id" "$bytes")
        if [ -n "$run" ]; then
            bulk=${run#* }
            say "keel peer bench: $bytes bytes in ${run% *} ms"
            echo "bench net.tls_bulk_mb_per_s $bulk"
        fi
    fi
    [ -n "$bulk" ] || broken "peer bench on link $id: $probe"
else
    broken "no link from a to b for the bulk figure"
fi

# ---- bulk, openssl ---------------------------------------------------------
if ossl_server 120 1; then
    t0=$(date +%s%N)
    head -c "$OSSL_BULK_BYTES" /dev/zero |
        timeout 90 openssl s_client -quiet -no_ign_eof \
            -connect "127.0.0.1:$OSSL_PORT" -cert "$tmp/ossl.crt" \
            -key "$tmp/ossl.key" -cipher "$SUITE" -curves prime256v1 \
            -tls1_2 >/dev/null 2>"$tmp/ossl-client.err"
    # The server ends after its one connection: when it has read all.
    if wait_pid "$OSSL_PID" 60; then
        t=$(ms_since "$t0")
        obulk=$(awk -v b="$OSSL_BULK_BYTES" -v t="$t" \
            'BEGIN { printf "%.1f\n", b / 1e3 / t }')
        say "openssl s_client to s_server: $OSSL_BULK_BYTES bytes in $t ms"
        echo "bench net.tls_bulk_openssl_mb_per_s $obulk"
        [ -n "$bulk" ] &&
            echo "bench net.tls_bulk_vs_openssl $(ratio "$bulk" "$obulk")"
    else
        broken "openssl bulk transfer did not end"
    fi
else
    broken "openssl s_server did not start (bulk)"
fi

# ---- the console under load ------------------------------------------------
# b runs again under conlat (same flash: identity, trust, address and
# raised rate limits kept); a dials it once conlat's setup is done,
# conlat times 250 `uptime`s idle (at most 5 s), then a starts a
# `peer bench` long enough to outlast the load phase, and conlat times
# 250 more (at most 5 s) while b receives it; b powers off once the
# bench is over (a link cut in the middle would stall it until idle_ms).
if [ -n "$bulk" ]; then
    q a "peer drop 10.77.0.2" >/dev/null
    node_stop b
    load_bytes=$(awk -v r="$bulk" 'BEGIN { printf "%d\n", r * 1e6 * 8 }')
    "$CONLAT" -t "$tmp/trigger" -g "$tmp/go" -e "$tmp/end" -n 250 -i 20 \
        -d 5000 -w 30 \
        -T 60 -l "$tmp/b.log" \
        -s "net config set bytes_per_s 1073741824" \
        -s "net config set frames_per_s 1000000" -s "net status" \
        -- "$KEEL" --flash "$tmp/b.img" \
        --net "simwire:$tmp/wire.sock,port=b" \
        >"$tmp/conlat.out" 2>>"$tmp/b.err" &
    CL_PID=$!
    NET_PIDS+=("$CL_PID")
    ok=0
    if wait_log conlat "conlat: setup done" 30 out; then
        n0=$(ups a 10.77.0.2:7950)
        q a "peer connect 10.77.0.2" >/dev/null
        if wait_ups a 10.77.0.2:7950 $((n0 + 1)) 20 &&
            id=$(up_link a 10.77.0.2:7950) && [ -n "$id" ]; then
            touch "$tmp/go"
            if wait_log conlat "conlat: waiting for" 30 out; then
                bench_run a "$id" "$load_bytes" >"$tmp/load-bench.out" &
                BP=$!
                NET_PIDS+=("$BP")
                sleep 0.5
                touch "$tmp/trigger"
                wait_log conlat "conlat: load done" 30 out &&
                    wait_pid "$BP" 40 && ok=1
                touch "$tmp/end"
                wait_pid "$CL_PID" 30 || ok=0
            fi
        fi
    fi
    idle=$(grep '^conlat idle ' "$tmp/conlat.out")
    load=$(grep '^conlat load ' "$tmp/conlat.out")
    lb=$(cat "$tmp/load-bench.out" 2>/dev/null)
    if [ $ok = 1 ] && [ -n "$idle" ] && [ -n "$load" ]; then
        get() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }
        say "$idle"
        say "$load"
        say "load: peer bench on a: ${lb:-?} (ms MB/s) of $load_bytes bytes"
        ls=$(get seconds "$load")
        [ -n "$lb" ] && awk -v b="${lb% *}" -v s="$ls" \
            'BEGIN { exit !(b < (s + 0.5) * 1000) }' &&
            say "note: the bench ended before the load phase did"
        echo "bench net.console_idle_p99_ms $(get p99_ms "$idle")"
        echo "bench net.console_p50_ms $(get p50_ms "$load")"
        echo "bench net.console_p99_ms $(get p99_ms "$load")"
    else
        broken "console latency: $(tail -n 3 "$tmp/conlat.out" | tr '\n' ' ')"
    fi
fi

# ---- RAM per link ----------------------------------------------------------
# z and 16 leaves; each leaf trusts z and dials it, z trusts all 16.
# z admits 8 handshakes at a time (the 'handshakes' setting); the others
# are refused and dial again after their backoff.
if node_start z 10.77.0.100; then
    used0=$(metric z 'keel_net_heap_bytes{kind="used"}')
    max0=$(metric z 'keel_net_heap_bytes{kind="max"}')
    fz=$(fp z)
    started=1
    for ((i = 1; i <= LEAVES; i++)); do
        node_start "l$i" "10.77.0.$((100 + i))" || {
            started=0
            break
        }
        q z "peer trust add $(fp "l$i")" >/dev/null
        q "l$i" "peer trust add $fz" >/dev/null
    done
    if [ $started = 1 ]; then
        for ((i = 1; i <= LEAVES; i++)); do
            q "l$i" "peer connect 10.77.0.100" >/dev/null
        done
        if wait_links z "$LEAVES" 90; then
            sleep 1 # their first pings answered
            used=$(metric z 'keel_net_heap_bytes{kind="used"}')
            max=$(metric z 'keel_net_heap_bytes{kind="max"}')
            busy=$(metric z 'keel_peer_refused_total{reason="handshakes_busy"}')
            say "z heap before links: used $used0, high-water $max0;" \
                "with $LEAVES links: used $used, high-water $max" \
                "($busy handshakes refused as busy)"
            echo "bench net.ram_per_link_bytes $((max / LEAVES))"
            echo "bench net.ram_per_link_marginal_bytes" \
                "$(((used - used0) / LEAVES))"
        else
            broken "z has $(links_up z) of $LEAVES links up after 90 s"
        fi
    else
        broken "leaf l$i did not start"
    fi
else
    broken "node z did not start"
fi
exit $failed
