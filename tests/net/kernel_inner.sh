# tests/net/kernel_inner.sh - keel on the AF_PACKET backend against the
# kernel's TCP and openssl, inside a network namespace of its own (run by
# tests/net_kernel.sh under `unshare -Urn`; only addresses inside it).
#
#   veth1 (kernel, 10.79.0.1/24, tx checksum offload off) <-> veth0
#   (keel --net packet:veth0, 10.79.0.2/24)
#
# Prints "ok - ..." / "FAIL - ..." lines for the caller to count.
# shellcheck shell=bash
set -u
tmp=$1
KEEL=$2
cd "$(dirname "$0")/../.." || exit 1
ok() { echo "ok - $1"; }
fail() { echo "FAIL - $1${2:+: $2}"; }
# shellcheck source=tests/net/lib.sh
source tests/net/lib.sh
trap 'net_cleanup' EXIT

K=10.79.0.2 # keel
H=10.79.0.1 # the kernel side
PORT=7950

echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null
ip link add veth0 type veth peer name veth1 &&
    ip link set lo up && ip link set veth0 up && ip link set veth1 up &&
    ip addr add $H/24 dev veth1 || {
    echo "SKIP - net_kernel: cannot make a veth pair"
    exit 0
}
# A kernel peer on a veth hands over partial checksums; lwIP checks them.
ethtool -K veth1 tx off >/dev/null 2>&1 ||
    echo "note: ethtool could not turn tx checksum offload off"

# Keys for the openssl ends: one trusted, one not.
mkkey() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -nodes -keyout "$tmp/$1.key" -out "$tmp/$1.crt" -subj "/CN=$1" \
        -days 2 2>/dev/null &&
        openssl x509 -in "$tmp/$1.crt" -pubkey -noout >"$tmp/$1.pub"
}
mkkey good && mkkey bad && mkkey srv || {
    fail "net_kernel: openssl could not make keys"
    exit 0
}

# --- DHCP: the default on packet (dnsmasq serves the namespace) -----------
if command -v dnsmasq >/dev/null; then
    dnsmasq --no-daemon --user=root --group=root --interface=veth1 \
        --bind-interfaces --except-interface=lo --port=0 \
        --dhcp-range=10.79.0.50,10.79.0.60,255.255.255.0,1h \
        --dhcp-leasefile="$tmp/leases" --pid-file="$tmp/dnsmasq.pid" \
        >"$tmp/dnsmasq.log" 2>&1 &
    NET_PIDS+=($!)
    NODE_NET=packet:veth0 node_start dh "" || fail "net_kernel: dhcp node"
    v=
    for _ in $(seq 40); do
        v=$(q dh "net status" | grep '^address:')
        [[ "$v" == *"(dhcp)"* && "$v" != *" 0.0.0.0 "* ]] && break
        sleep 0.25
    done
    if [[ "$v" == "address:  10.79.0."[56]*"gateway 10.79.0.1 (dhcp)" ]]; then
        ok "net_kernel: on packet with no address set, DHCP gives one ($v)"
    else
        fail "net_kernel: dhcp" "$v"
    fi
    node_stop dh
    kill "${NET_PIDS[-1]}" 2>/dev/null
else
    echo "SKIP - net_kernel: dhcp: dnsmasq is not installed (dnsmasq-base)"
fi

NODE_NET=packet:veth0 node_start k $K || {
    fail "net_kernel: keel did not start on packet:veth0" \
        "$(tail -n 3 "$tmp/k.err")"
    exit 0
}
q k "net config set handshake_ms 1500" >/dev/null
q k "net config set frame_ms 1500" >/dev/null
q k "net config set idle_ms 5000" >/dev/null
q k "net config set conn_per_min 30" >/dev/null
q k "peer trust add $tmp/good.pub" >/dev/null
q k "peer trust add $tmp/srv.pub" >/dev/null

# A frame: version 1, TYPE, reserved 0, LEN (4 bytes LE); then payload.
frame() { printf "\\x01\\x$1\\x00\\x00$2"; }
PING8='\x08\x00\x00\x00'

# s_client with the trusted key; stdin is what it sends.
client() {
    timeout "${2:-6}" openssl s_client -connect $K:$PORT -tls1_2 \
        -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -curves prime256v1 \
        -cert "$tmp/$1.crt" -key "$tmp/$1.key" -quiet 2>>"$tmp/sclient.err"
}

refused() { metric k "keel_peer_refused_total{reason=\"$1\"}"; }
closed() { metric k "keel_peer_closed_total{reason=\"$1\"}"; }

# wait_metric FUNC REASON ABOVE SECONDS: until FUNC REASON > ABOVE.
wait_metric() {
    local i v
    for ((i = 0; i < $4 * 4; i++)); do
        v=$($1 "$2")
        [ "${v:-0}" -gt "$3" ] && return 0
        sleep 0.25
    done
    return 1
}

# --- a trusted openssl client: handshake and a ping frame ------------------
{ frame 01 "${PING8}ABCDEFGH"; sleep 1.5; } | client good 4 >"$tmp/ping.out"
if xxd -p "$tmp/ping.out" | tr -d '\n' |
    grep -q "0102000008000000""4142434445464748"; then
    ok "net_kernel: openssl s_client with a trusted key: TLS 1.2 handshake, a ping frame answered by a pong"
else
    fail "net_kernel: s_client ping" "$(xxd "$tmp/ping.out" | head -n 3)"
fi

# --- a good link that must survive everything below -------------------------
# A pinging s_client: keeps its link alive while the bad peers come.
# (timeout is the pipeline's last command, so $! is its pid and stopping
# it stops openssl; the loop then dies of SIGPIPE.)
(while sleep 0.3; do frame 01 "${PING8}KEEPLIVE"; done) |
    timeout 120 openssl s_client -connect $K:$PORT -tls1_2 \
        -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -curves prime256v1 \
        -cert "$tmp/good.crt" -key "$tmp/good.key" -quiet \
        >"$tmp/good.out" 2>>"$tmp/sclient.err" &
NET_PIDS+=($!)
good_id=
for _ in $(seq 40); do
    good_id=$(q k "peer list" | awk '$2 ~ /^10.79.0.1:/ && $4 == "up" {print $1; exit}')
    [ -n "$good_id" ] && break
    sleep 0.25
done
[ -n "$good_id" ] || fail "net_kernel: the good link did not come up"

# --- an untrusted key is refused --------------------------------------------
before=$(refused untrusted)
{ frame 01 "${PING8}ABCDEFGH"; sleep 1; } | client bad 4 >"$tmp/bad.out"
if wait_metric refused untrusted "$before" 5 &&
    ! xxd -p "$tmp/bad.out" | grep -q "01020000"; then
    ok "net_kernel: openssl s_client with an untrusted key is refused in the handshake"
else
    fail "net_kernel: untrusted s_client" "refused $before -> $(refused untrusted)"
fi

# --- garbage before TLS ------------------------------------------------------
before=$(refused tls_failed)
(exec 3<>/dev/tcp/$K/$PORT && printf 'GET / HTTP/1.0\r\n\r\n' >&3 &&
    timeout 3 cat <&3 >/dev/null) 2>/dev/null
if wait_metric refused tls_failed "$before" 5; then
    ok "net_kernel: garbage before TLS ends the connection (tls_failed)"
else
    fail "net_kernel: garbage" "tls_failed $before -> $(refused tls_failed)"
fi

# --- a peer that stalls mid-handshake, and one that sends a byte a second ---
before=$(refused handshake_timeout)
(exec 3<>/dev/tcp/$K/$PORT && sleep 4) 2>/dev/null &
NET_PIDS+=($!)
(exec 3<>/dev/tcp/$K/$PORT &&
    for _ in 1 2 3 4 5; do printf '\x16' >&3 || break; sleep 1; done) \
    2>/dev/null &
NET_PIDS+=($!)
if wait_metric refused handshake_timeout $((before + 1)) 8; then
    ok "net_kernel: a stalled handshake and a byte-a-second peer are cut off (handshake_timeout x2)"
else
    fail "net_kernel: slow peers" "handshake_timeout $before -> $(refused handshake_timeout)"
fi

# --- frames: oversized, unknown type, one that never completes -------------
before=$(closed oversized)
{ frame 03 '\x00\x00\x20\x00'; sleep 1; } | client good 4 >/dev/null
if wait_metric closed oversized "$before" 5; then
    ok "net_kernel: a 2 MiB frame header ends the link before its payload (oversized)"
else
    fail "net_kernel: oversized frame" "$before -> $(closed oversized)"
fi
before=$(closed unknown_type)
{ frame 63 '\x00\x00\x00\x00'; sleep 1; } | client good 4 >/dev/null
if wait_metric closed unknown_type "$before" 5; then
    ok "net_kernel: a frame of unknown type ends the link (unknown_type)"
else
    fail "net_kernel: unknown type" "$before -> $(closed unknown_type)"
fi
before=$(closed frame_timeout)
{ printf '\x01\x01\x00'; sleep 4; } | client good 6 >/dev/null
if wait_metric closed frame_timeout "$before" 3; then
    ok "net_kernel: a frame that never completes is cut off (frame_timeout)"
else
    fail "net_kernel: frame timeout" "$before -> $(closed frame_timeout)"
fi

# --- per-link rates: frames and bytes per second -----------------------------
q k "net config set frames_per_s 20" >/dev/null
before=$(closed frame_rate)
{ for _ in $(seq 40); do frame 01 "${PING8}FLOODING"; done; sleep 1; } |
    client good 4 >/dev/null
if wait_metric closed frame_rate "$before" 4; then
    ok "net_kernel: 40 frames in a burst over frames_per_s 20 end the link (frame_rate)"
else
    fail "net_kernel: frame rate" "$before -> $(closed frame_rate)"
fi
q k "net config unset frames_per_s" >/dev/null
q k "net config set bytes_per_s 65536" >/dev/null
before=$(closed byte_rate)
{
    for _ in 1 2 3; do
        frame 03 '\x00\x80\x00\x00'
        head -c 32768 /dev/zero
    done
    sleep 1
} | client good 4 >/dev/null
if wait_metric closed byte_rate "$before" 4; then
    ok "net_kernel: 96 KiB in a second over bytes_per_s 64 KiB ends the link (byte_rate)"
else
    fail "net_kernel: byte rate" "$before -> $(closed byte_rate)"
fi
q k "net config unset bytes_per_s" >/dev/null

# --- handshakes in progress and links in ---------------------------------------
q k "net config set handshakes 1" >/dev/null
before=$(refused handshakes_busy)
(exec 3<>/dev/tcp/$K/$PORT && sleep 3) 2>/dev/null &
NET_PIDS+=($!)
sleep 0.5
(exec 3<>/dev/tcp/$K/$PORT && sleep 1) 2>/dev/null
if wait_metric refused handshakes_busy "$before" 3; then
    ok "net_kernel: a second handshake while one is in progress is refused at handshakes 1 (handshakes_busy)"
else
    fail "net_kernel: handshakes" "$before -> $(refused handshakes_busy)"
fi
q k "net config unset handshakes" >/dev/null
sleep 2.5
q k "net config set links_in 1" >/dev/null
before=$(refused links_full)
{ sleep 1; } | client good 3 >/dev/null
if wait_metric refused links_full "$before" 3; then
    ok "net_kernel: a link over links_in 1 (the good link holds it) is refused (links_full)"
else
    fail "net_kernel: links_in" "$before -> $(refused links_full)"
fi
q k "net config unset links_in" >/dev/null

# --- 200 connection attempts in a burst --------------------------------------
before=$(refused conn_rate)
for _ in $(seq 200); do
    (exec 3<>/dev/tcp/$K/$PORT) 2>/dev/null
done
v=$(refused conn_rate)
if [ $((v - before)) -ge 150 ]; then
    ok "net_kernel: 200 connection attempts in a burst: $((v - before)) refused before TLS (conn_rate)"
else
    fail "net_kernel: burst" "conn_rate $before -> $v"
fi

# --- the console and the good link lived through it --------------------------
t0=$(date +%s%N)
v=$(q k "uptime")
t1=$(date +%s%N)
if [[ "$v" == up* ]] && [ -n "$good_id" ] &&
    q k "peer list" | awk -v id="$good_id" '$1 == id && $4 == "up"' | grep -q .; then
    ok "net_kernel: the console answered ($(((t1 - t0) / 1000000)) ms) and the good link $good_id is still up"
else
    fail "net_kernel: console or good link" "$(q k 'peer list')"
fi
if xxd -p "$tmp/good.out" | tr -d '\n' | grep -q "01020000080000004b4545504c495645"; then
    ok "net_kernel: the good link was answered throughout"
else
    fail "net_kernel: good link answers"
fi

# --- GET /metrics over HTTP, off until net.metrics_port is set ---------------
if (exec 3<>/dev/tcp/$K/9100) 2>/dev/null; then
    fail "net_kernel: metrics port open before it was set"
fi
q k "net config set metrics_port 9100" >/dev/null
sleep 0.3
(exec 3<>/dev/tcp/$K/9100 && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 &&
    timeout 5 cat <&3) >"$tmp/http.out" 2>/dev/null
(exec 3<>/dev/tcp/$K/9100 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 &&
    timeout 5 cat <&3) >"$tmp/http404.out" 2>/dev/null
tr -d '\r' <"$tmp/http.out" | sed '1,/^$/d' >"$tmp/http.body"
if head -n 1 "$tmp/http.out" | grep -q '^HTTP/1.0 200 OK' &&
    grep -q '^keel_peer_handshakes_total{result="ok"} [1-9]' "$tmp/http.body" &&
    head -n 1 "$tmp/http404.out" | grep -q '^HTTP/1.0 404' &&
    { ! command -v promtool >/dev/null ||
        promtool check metrics <"$tmp/http.body" >/dev/null 2>&1; }; then
    ok "net_kernel: GET /metrics on net.metrics_port serves the page (promtool accepts it), other paths 404"
else
    fail "net_kernel: http metrics" "$(head -c 300 "$tmp/http.out")"
fi
q k "net config set metrics_port 0" >/dev/null

# --- keel dials out to openssl s_server ----------------------------------------
sleep 12 | timeout 15 openssl s_server -accept $PORT -tls1_2 -cert "$tmp/srv.crt" \
    -key "$tmp/srv.key" -Verify 1 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 \
    -curves prime256v1 -quiet -naccept 1 >"$tmp/srv.out" 2>"$tmp/srv.err" &
NET_PIDS+=($!)
sleep 0.5
q k "peer connect $H:$PORT" >/dev/null
up=
for _ in $(seq 40); do
    q k "peer list" | grep -q "^[0-9]* *$H:$PORT *out up" && up=1 && break
    sleep 0.25
done
sleep 0.5
if [ -n "$up" ] && xxd -p "$tmp/srv.out" | grep -q "^0101000008000000"; then
    ok "net_kernel: keel dials openssl s_server: mutual TLS, and its first ping frame arrives"
else
    fail "net_kernel: keel to s_server" "up=$up $(head -c 200 "$tmp/srv.err")"
fi
if ! kill -0 "${NODE_PID[k]}" 2>/dev/null; then
    fail "net_kernel: keel died" "$(tail -n 5 "$tmp/k.err")"
fi
