# tests/net/lib.sh - run keel nodes on a simwire hub from a test script.
#
# Each node reads its console from a FIFO the test holds open (line
# mode: commands are echoed and each is followed by a prompt) and writes
# its console to NAME.log and its log (stderr) to NAME.err.  Every
# process started here is recorded and stopped by its id in net_cleanup,
# which the caller's EXIT trap must run.  Every wait is bounded.
#
# Needs: $tmp (a scratch directory), $KEEL (the keel binary), $WIRE
# (keel-wire).

NET_PIDS=()
declare -A NODE_FD NODE_PID

net_cleanup() {
    local p
    for n in "${!NODE_FD[@]}"; do
        eval "exec ${NODE_FD[$n]}>&-" 2>/dev/null || true
    done
    for p in "${NET_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${NET_PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    NET_PIDS=()
}

# net_scratch: for a script on its own (a benchmark): $tmp becomes a new
# scratch directory, and at exit every process is stopped and it is
# removed.
net_scratch() {
    tmp=$(mktemp -d)
    # shellcheck disable=SC2064 # $tmp now, not at exit
    trap "net_cleanup; rm -rf '$tmp'" EXIT
}

# hub_start [OPTIONS]: a hub on $tmp/wire.sock.
hub_start() {
    rm -f "$tmp/wire.sock" "$tmp/wire.sock.ctl"
    "$WIRE" "$@" "$tmp/wire.sock" >"$tmp/wire.log" 2>&1 &
    NET_PIDS+=($!)
    HUB_PID=$!
    for _ in $(seq 50); do
        [ -S "$tmp/wire.sock.ctl" ] && return 0
        sleep 0.1
    done
    echo "hub did not start" >&2
    return 1
}

# hub CMD...: one control command; prints the reply line.
hub() {
    printf '%s\n' "$*" | timeout 5 socat - UNIX-CONNECT:"$tmp/wire.sock.ctl" \
        2>/dev/null
}

# node_start NAME IP [ENV=VALUE...]: a node with flash $tmp/NAME.img on
# the hub as port NAME (or on $NODE_NET when set; "none": no network),
# address IP/24 (none when empty); $NODE_ARGS are added to keel's command
# line.  Returns when its first prompt is out.
node_start() {
    local name=$1 ip=$2 fd net
    shift 2
    rm -f "$tmp/$name.in"
    mkfifo "$tmp/$name.in"
    net=${NODE_NET:-simwire:$tmp/wire.sock,port=$name}
    [ "$net" = none ] && net=
    # shellcheck disable=SC2086 # NODE_ARGS: words on purpose
    env "$@" "$KEEL" --flash "$tmp/$name.img" ${net:+--net "$net"} ${NODE_ARGS:-} \
        <"$tmp/$name.in" >>"$tmp/$name.log" 2>>"$tmp/$name.err" &
    NODE_PID[$name]=$!
    NET_PIDS+=($!)
    exec {fd}>"$tmp/$name.in"
    NODE_FD[$name]=$fd
    wait_log "$name" 'keel> ' 20 || return 1
    [ -z "$ip" ] || q "$name" "net config ip $ip 255.255.255.0" >/dev/null
}

# node_close NAME: end its console (it powers off).
node_close() {
    eval "exec ${NODE_FD[$1]}>&-"
    unset "NODE_FD[$1]"
}

# node_reap NAME: wait for it (5 s at most, then kill) and reap it.
node_reap() {
    local p=${NODE_PID[$1]}
    for _ in $(seq 50); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
}

# node_stop NAME: end its console and reap it.
node_stop() {
    node_close "$1"
    node_reap "$1"
}

# node_gone NAME...: stop the nodes together and delete their flash
# images (128 MiB each on disk: a scenario keeps only the nodes it
# needs).
node_gone() {
    local name
    for name in "$@"; do node_close "$name"; done
    for name in "$@"; do
        node_reap "$name"
        rm -f "$tmp/$name.img"
    done
}

# sync_wait NODE [SECONDS]: until its sync is idle again (60 s at most).
sync_wait() {
    local i
    for ((i = 0; i < 2 * ${2:-60}; i++)); do
        q "$1" "sync status" | grep -q '^state: *idle' && return 0
        sleep 0.5
    done
    return 1
}

# wait_log NAME TEXT SECONDS [FILE]: until TEXT (fixed string) is in the
# node's console log (or FILE: log/err).
wait_log() {
    local name=$1 text=$2 s=$3 f=${4:-log} i
    for ((i = 0; i < s * 10; i++)); do
        grep -qF -- "$text" "$tmp/$name.$f" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# q NAME LINE: run LINE on the node, print what it answered (the lines
# between its echo and the next prompt).  Fails after 30 s.
q() {
    local name=$1 line=$2 off i out
    off=$(stat -c %s "$tmp/$name.log")
    printf '%s\n' "$line" >&"${NODE_FD[$name]}"
    for ((i = 0; i < 300; i++)); do
        out=$(tail -c +"$((off + 1))" "$tmp/$name.log")
        if [[ "$out" == *$'\nkeel> ' ]]; then
            printf '%s\n' "$out" | sed -e '1d' -e '$d'
            return 0
        fi
        sleep 0.1
    done
    echo "q $name '$line': no answer" >&2
    return 1
}

# metric NAME METRIC-LINE-PREFIX: the value of one metrics line.
metric() {
    q "$1" metrics | grep -v '^#' | grep -F -- "$2 " | awk '{print $NF}' |
        head -n 1
}

# fp NAME: the node's identity fingerprint.
fp() {
    q "$1" "id show --json" | sed -n 's/.*"fingerprint":"\([0-9a-f]*\)".*/\1/p'
}

# links_up NAME: how many links are up.
links_up() {
    metric "$1" keel_peer_links
}

# wait_links NAME COUNT SECONDS
wait_links() {
    local i
    for ((i = 0; i < $3 * 2; i++)); do
        [ "$(links_up "$1")" = "$2" ] && return 0
        sleep 0.5
    done
    return 1
}
