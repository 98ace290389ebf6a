# tests/system/lib.sh - the QEMU boards tested as a device is used: from
# its serial console.  Each test boots `make image`'s flash.img (a copy)
# in QEMU with the console on build/tools/ptyexpect's terminal
# (scripts/qemu.sh --serial stdio), types commands, waits for answers
# and sends files with lrzsz's sb over that line.  Sourced by
# tests/system/run.sh (make test-system: everything, both boards) and
# tests/run.sh (make test: a quick set); they provide ok, fail, skip and
# $tmp.
#
# The rules: QEMU's user networking only, restricted (the guest reaches
# nothing), forwarded from 127.0.0.1 only and only for the network
# test; every QEMU is stopped by its pid (its -pidfile); every wait is
# bounded by ptyexpect -t and timeout(1), every loop by its count.
# shellcheck shell=bash

# ok and fail take one message (tests/run.sh's print their first
# argument): these join the words of theirs.
sys_ok() { ok "$*"; }
sys_fail() { fail "$1" "${*:2}"; }

SYS_PE=build/tools/ptyexpect
SYS_KB=build/tools/keel-bundle
SYS_WAIT=${SYS_WAIT:-120} # seconds, for each thing awaited
sys_missing=

# sys_stop PIDFILE: SIGKILL the QEMU named there if it still runs.
sys_stop() {
    local pid
    pid=$(cat "$1" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
        grep -q qemu-system "/proc/$pid/cmdline" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

# sys_qemu BOARD FLASH OUT STEPS...: boot FLASH, run ptyexpect's STEPS
# on its console; the transcript (CRs dropped) in OUT, the status in
# $sys_rc (QEMU's own after a poweroff: 0).
sys_qemu() {
    local board=$1 flash=$2 out=$3
    shift 3
    timeout $((SYS_WAIT * 8)) "$SYS_PE" -t "$SYS_WAIT" "$@" -- \
        bash scripts/qemu.sh "$board" --flash "$flash" --serial stdio \
        --restrict --pidfile "$out.pid" >"$out.raw" 2>&1
    sys_rc=$?
    sys_stop "$out.pid"
    tr -d '\r' <"$out.raw" >"$out"
}

# sys_show OUT: the transcript's end, for a failure.
sys_show() {
    grep -av '^$' "$1" | tail -n "${2:-15}" | sed 's/^/    /'
}

# sys_has OUT PATTERN...: every pattern (grep -E) is in the transcript.
sys_has() {
    local out=$1 p
    shift
    for p in "$@"; do
        grep -aqE -- "$p" "$out" || {
            sys_missing=$p
            return 1
        }
    done
}

# sys_bundle BOARD NAME VERSION COUNTER PROGRAM: a bundle whose bin/keel
# is PROGRAM, signed like `make bundle` (the dev keys of the image's
# keyring), as $sys_dir/NAME.kbn.
sys_bundle() {
    local board=$1 name=$2 v=$3 c=$4 p=$5 d=$sys_dir
    $SYS_KB archive "$d/$name.kar" bin/keel="$p" \
        etc/keel/keyring=build/keys/keyring >/dev/null &&
        $SYS_KB create --payload "$d/$name.kar" --board "$board" \
            --version "$v" --counter "$c" -o "$d/$name.kbn" >/dev/null &&
        $SYS_KB sign "$d/$name.kbn" --key build/keys/dev-1.pem >/dev/null &&
        $SYS_KB sign "$d/$name.kbn" --key build/keys/dev-2.pem >/dev/null
}

# sys_setup BOARD: checks what the tests need; 0 when they can run.
sys_setup() {
    local board=$1 arch
    arch=${board#qemu-}
    sys_img=build/$board
    sys_out=build/$board-$arch
    sys_dir=$tmp/system-$board
    mkdir -p "$sys_dir"
    if ! command -v "qemu-system-$arch" >/dev/null || ! command -v sb \
        >/dev/null; then
        skip "system/$board" "qemu-system-$arch or sb is not installed (scripts/setup.sh)"
        return 1
    fi
    if [ ! -s "$sys_img/flash.img" ] || [ ! -s "$sys_img/initramfs.cpio" ] ||
        [ ! -x "$sys_out/stub-crash" ] || [ ! -x "$sys_out/keel.stripped" ]
    then
        sys_fail "system/$board" "make image system-stubs BOARD=$board did not run"
        return 1
    fi
    return 0
}

# --- boot: the prompt, the first commands, poweroff -----------------------
sys_boot_test() {
    local board=$1 o=$sys_dir/boot.out f=$sys_dir/boot.img
    cp "$sys_img/flash.img" "$f"
    sys_qemu "$board" "$f" "$o" -e 'keel> ' -s 'version\r' -e 'lwIP' \
        -e 'keel> ' -s 'selftest\r' -e 'selftest: ' -e 'keel> ' \
        -s 'id show\r' -e 'generation:' -e 'keel> ' -s 'update status\r' \
        -e 'keyring:' -e 'keel> ' -s 'flash\r' -e 'keel> ' \
        -s 'poweroff\r' -e 'powering off'
    if [ "$sys_rc" -eq 0 ] &&
        sys_has "$o" '^keel-boot: kernel linux-image-' \
            '^keel-boot: [0-9]+ kernel modules loaded; flash /dev/vda' \
            '^keel-boot: boot 1: starting slot a$' \
            "board ${board}, arch ${board#qemu-}" '^BearSSL 0\.6' \
            '^selftest: ok$' '^fingerprint: [0-9a-f]{64}$' \
            '^running: +slot a$' '^slot a: +good, version' \
            '^keyring: +version 1, 2 of 3 keys'; then
        sys_ok "system/$board: keel-boot as /init boots slot a to keel>;" \
            "version, selftest, id show, update status answer; poweroff" \
            "stops the machine"
    else
        sys_fail "system/$board: boot" "exit $sys_rc, lacks /$sys_missing/"
        sys_show "$o"
    fi
}

# --- an update over the serial line: receive, reboot, trial, confirm ------
sys_update_test() {
    local board=$1 o=$sys_dir/update.out f=$sys_dir/update.img
    cp "$sys_img/flash.img" "$f"
    if ! sys_bundle "$board" new 0.2.0 2 "$sys_out/keel.stripped"; then
        sys_fail "system/$board: update" "could not make the bundle"
        return
    fi
    sys_qemu "$board" "$f" "$o" -e 'keel> ' -s 'update receive\r' \
        -e 'start the YMODEM upload' \
        -x "sb -k $sys_dir/new.kbn 2>$sys_dir/sb.err" -e 'keel> ' \
        -s 'update status\r' -e 'keyring:' -e 'keel> ' -s 'reboot\r' \
        -e 'boot 2: starting slot b on trial' -e 'keel> ' \
        -s 'update confirm\r' -e 'confirmed' -e 'keel> ' -s 'reboot\r' \
        -e 'boot 3: starting slot b' -e 'keel> ' -s 'update status\r' \
        -e 'keyring:' -e 'keel> ' -s 'poweroff\r' -e 'powering off'
    if [ "$sys_rc" -eq 0 ] &&
        sys_has "$o" 'received new\.kbn \([0-9]+ bytes in [0-9.]+ s' \
            'installed 0\.2\.0 \(counter 2\) into slot b' \
            '^slot b: +ready, version 0\.2\.0' \
            'slot b on trial, 2 tries left' '^confirmed: slot b is good' \
            '^keel-boot: boot 3: starting slot b$' \
            '^running: +slot b$' '^anti-rollback: 2$' \
            '^slot b: +good, version 0\.2\.0.*\(primary\)'; then
        # The power cuts fall within this transfer's time (and 2 s on).
        grep -ao 'received new.kbn ([0-9]* bytes in [0-9]*' "$o" |
            sed 's/.* in //' >"$sys_dir/xfer.s"
        sys_ok "system/$board: update by YMODEM on the serial line" \
            "($(grep -ao 'received new.kbn ([0-9]* bytes in [0-9.]* s' "$o" |
                sed 's/.*(//')), reboot, trial boot, confirm; the next" \
            "boot runs slot b, counter 2"
    else
        sys_fail "system/$board: update" "exit $sys_rc, lacks /$sys_missing/"
        sys_show "$o" 20
    fi
}

# --- a node that crashes at start: three trials, then slot a again --------
sys_rollback_test() {
    local board=$1 o=$sys_dir/rollback.out f=$sys_dir/rollback.img n
    cp "$sys_img/flash.img" "$f"
    if ! sys_bundle "$board" crash 0.3.0 1 "$sys_out/stub-crash"; then
        sys_fail "system/$board: rollback" "could not make the bundle"
        return
    fi
    sys_qemu "$board" "$f" "$o" -e 'keel> ' -s 'update receive\r' \
        -e 'start the YMODEM upload' \
        -x "sb -k $sys_dir/crash.kbn 2>$sys_dir/sb.err" -e 'keel> ' \
        -s 'reboot\r' -e 'trial out of tries' -e 'keel> ' \
        -s 'update status\r' -e 'keyring:' -e 'keel> ' \
        -s 'log show\r' -e 'keel> ' -s 'poweroff\r' -e 'powering off'
    n=$(grep -ac '^keel-boot: boot [0-9]*: slot b died of signal 6 during its trial$' "$o")
    if [ "$sys_rc" -eq 0 ] && [ "$n" -eq 3 ] &&
        sys_has "$o" 'slot b: trial out of tries, marking it bad' \
            '^running: +slot a$' '^slot b: +bad, version 0\.3\.0' \
            'keel-boot: boot [0-9]+: slot b died of signal 6 during its trial'
    then
        sys_ok "system/$board: a node crashing at start: 3 trials, each" \
            "logged and rebooted, then slot b bad and slot a runs again"
    else
        sys_fail "system/$board: rollback" "exit $sys_rc, $n crashes seen," \
            "lacks /$sys_missing/"
        sys_show "$o" 20
    fi
}

# --- the watchdog: fed by a live node, it resets a hung one --------------
sys_watchdog_test() {
    local board=$1 o=$sys_dir/wd.out f=$sys_dir/wd.img n
    cp "$sys_img/flash.img" "$f"
    if ! sys_bundle "$board" hang 0.4.0 1 "$sys_out/stub-hang"; then
        sys_fail "system/$board: watchdog" "could not make the bundle"
        return
    fi
    # 15 s idle at the prompt: longer than the watchdog's 10 s, so a
    # node that did not kick it would be reset here.
    sys_qemu "$board" "$f" "$o" -e 'keel> ' -X 'sleep 15' -s 'uptime\r' \
        -e 'keel> ' -s 'update receive\r' -e 'start the YMODEM upload' \
        -x "sb -k $sys_dir/hang.kbn 2>$sys_dir/sb.err" -e 'keel> ' \
        -s 'reboot\r' -e 'trial out of tries' -e 'keel> ' \
        -s 'update status\r' -e 'keyring:' -e 'keel> ' \
        -s 'log show\r' -e 'keel> ' -s 'poweroff\r' -e 'powering off'
    n=$(grep -ac 'keel-boot: the last boot ended in a watchdog reset$' "$o")
    if [ "$sys_rc" -eq 0 ] && [ "$n" -ge 3 ] &&
        sys_has "$o" '^up 0d 00:00:(1[5-9]|[2-5][0-9])' \
            'stub: hanging' 'slot b: trial out of tries, marking it bad' \
            '^running: +slot a$' '^slot b: +bad, version 0\.4\.0'; then
        sys_ok "system/$board: watchdog: a live node keeps it fed (15 s idle);" \
            "a hung trial is reset by it, 3 times, then rolled back"
    else
        sys_fail "system/$board: watchdog" "exit $sys_rc, $n resets logged," \
            "lacks /$sys_missing/"
        sys_show "$o" 25
    fi
}

# --- power cuts: QEMU killed during an install or a chain import ---------
# sys_powercut_test BOARD RUNS [KIND]: RUNS times, SIGKILL QEMU at a
# random moment while the node takes a file over the serial line --
# KIND install (default): a bundle by `update receive`, written into
# slot b as it arrives; KIND chain: a 4,001-trailer tfile by `chain
# receive`, appended to the chain log as it arrives -- then boot again.
# Every time: the slot that boots is the good one (or, when the cut came
# after the install was complete, slot b on its trial), `store check`
# is clean, a key committed before and the identity are kept; after a
# chain cut, what is stored of the chain verifies.  KEEL_SYSTEM_SEED
# fixes the moments.
sys_powercut_test() {
    local board=$1 runs=$2 kind=${3:-install} o=$sys_dir/pc.out
    local base=$sys_dir/pc-base.img fp i d bad=0 cuts=0 after=0 pe_pid w win
    local delays="" cmd file what
    cp "$sys_img/flash.img" "$base"
    if [ "$kind" = chain ]; then
        cmd='chain receive' file=$sys_dir/pc.tf what="chain imports"
        build/tools/keel-chaingen -n 4000 -o "$file" >/dev/null || {
            sys_fail "system/$board: power cuts ($kind)" "keel-chaingen failed"
            return
        }
    else
        cmd='update receive' file=$sys_dir/pc.kbn what="installs"
        sys_bundle "$board" pc 0.2.0 2 "$sys_out/keel.stripped" || {
            sys_fail "system/$board: power cuts" "could not make the bundle"
            return
        }
    fi
    sys_qemu "$board" "$base" "$o" -e 'keel> ' \
        -s 'store put keep.me committed-1\r' -e 'keel> ' -s 'id show\r' \
        -e 'generation:' -e 'keel> ' -s 'poweroff\r' -e 'powering off'
    fp=$(sed -n 's/^fingerprint: \([0-9a-f]*\)$/\1/p' "$o" | head -n 1)
    if [ "$sys_rc" -ne 0 ] || [ -z "$fp" ]; then
        sys_fail "system/$board: power cuts ($kind)" "the base image did not boot"
        sys_show "$o"
        return
    fi
    # One seed gives each kind its own moments.
    RANDOM=$((${KEEL_SYSTEM_SEED:-$$} + ${#kind} * 7919))
    # Cuts fall within the transfer as the update test timed it, and 2 s
    # past it (the end of the install); 15 s when it did not run.
    win=$(($(cat "$sys_dir/xfer.s" 2>/dev/null || echo 13) * 1000 + 2000))
    for i in $(seq 1 "$runs"); do
        d=$(((RANDOM * 32768 + RANDOM) % win))
        delays="$delays $d"
        cp "$base" "$sys_dir/pc.img"
        rm -f "$sys_dir/cut.pid" "$sys_dir/sb.pid"
        : >"$sys_dir/cut.out" # never the last run's
        # ptyexpect itself in the background (its -t bounds it), so that
        # $! is its pid and it is the one stopped below.
        "$SYS_PE" -t "$SYS_WAIT" -e 'keel> ' \
            -s "$cmd\\r" -e 'start the YMODEM upload' \
            -x "echo \$\$ >$sys_dir/sb.pid; exec sb -k $file 2>/dev/null" \
            -e 'keel> ' -- bash scripts/qemu.sh "$board" \
            --flash "$sys_dir/pc.img" --serial stdio --restrict \
            --pidfile "$sys_dir/cut.pid" >"$sys_dir/cut.out" 2>&1 &
        pe_pid=$!
        for w in $(seq 1 $((SYS_WAIT * 10))); do
            grep -aq 'start the YMODEM upload' "$sys_dir/cut.out" && break
            kill -0 "$pe_pid" 2>/dev/null || break
            sleep 0.1
        done
        sleep "$((d / 1000)).$(printf '%03d' $((d % 1000)))"
        sys_stop "$sys_dir/cut.pid"
        w=$(cat "$sys_dir/sb.pid" 2>/dev/null || true)
        [ -z "$w" ] || kill -KILL "$w" 2>/dev/null || true
        kill -KILL "$pe_pid" 2>/dev/null || true
        wait "$pe_pid" 2>/dev/null || true
        sys_stop "$sys_dir/cut.pid" # had it not written its pid in time
        cuts=$((cuts + 1))
        sys_qemu "$board" "$sys_dir/pc.img" "$o" -e 'keel> ' \
            -s 'update status\r' -e 'keyring:' -e 'keel> ' \
            -s 'store check\r' -e 'store check:' -e 'keel> ' \
            -s 'store get keep.me\r' -e 'keel> ' -s 'id show\r' \
            -e 'generation:' -e 'keel> ' -s 'chain verify\r' \
            -e 'chain verify: ' -e 'keel> ' -X 'sleep 3' \
            -s 'chain info\r' -e 'keel> ' -s 'poweroff\r' -e 'powering off'
        if [ "$sys_rc" -ne 0 ] ||
            ! sys_has "$o" '^store check: 0 bad store records, 0 bad chain records' \
                '^committed-1$' "^fingerprint: $fp\$" \
                'chain verify: (nothing stored|[0-9]+ trailers valid, weight matches)'; then
            bad=$((bad + 1))
            echo "    cut $i at ${d} ms: exit $sys_rc, lacks /$sys_missing/"
            sys_show "$o" 12
        elif grep -aq '^keel-boot: boot [0-9]*: starting slot a$' "$o" &&
            grep -aqE '^slot b: +(empty|installing|bad)' "$o"; then
            echo "    cut $i at ${d} ms: slot a booted; $(grep -a '^slot b:' "$o" |
                cut -c1-40); chain: $(grep -a -m1 -E '^stored:|chain verify: nothing' "$o")"
        elif grep -aq 'starting slot b on trial' "$o" &&
            grep -aqE '^slot b: +trial, version 0\.2\.0' "$o"; then
            after=$((after + 1)) # the install was complete: tried
            echo "    cut $i at ${d} ms: after the install; slot b on trial"
        else
            bad=$((bad + 1))
            echo "    cut $i at ${d} ms: an unexpected slot booted"
            sys_show "$o" 12
        fi
    done
    if [ "$bad" -eq 0 ]; then
        [ "$kind" = chain ] && after="slot b untouched" ||
            after="$after after a complete install: its trial"
        sys_ok "system/$board: $cuts power cuts during $what (QEMU SIGKILLed" \
            "at$delays ms into the transfer): the good slot booted every" \
            "time ($after), store check clean, what is stored of the chain" \
            "verifies, the committed key and the identity kept"
    else
        sys_fail "system/$board: power cuts ($kind)" "$bad of $cuts went wrong" \
            "(moments:$delays ms; KEEL_SYSTEM_SEED=${KEEL_SYSTEM_SEED:-$$})"
    fi
}

# --- keel-flash at the desk: inspect, refusals, a reproducible initramfs --
sys_flash_tool_test() {
    local board=$1 kf=build/tools/keel-flash o=$sys_dir/kf.out
    local d=$sys_dir/kf
    mkdir -p "$d"
    if $kf inspect "$sys_img/flash.img" >"$o" 2>&1 &&
        grep -q "^board: *$board: 256 MiB flash" "$o" &&
        grep -q '^slot a: *good (confirmed), 0\.1\.0, counter 1' "$o" &&
        grep -q 'contents verify against boot control' "$o" &&
        grep -q ' bin/keel$' "$o" && grep -q '^keyring: *version 1, 2 of 3' "$o" &&
        grep -q '^floor: *counter 1' "$o" && ! grep -q 'sec\.id' "$o"; then
        sys_ok "keel-flash: inspect finds $board by its slot, slot a good and" \
            "verified, its files, the keyring and floor; no identity key" \
            "in the factory image"
    else
        sys_fail "keel-flash: inspect $board" "$(head -n 3 "$o")"
    fi
    # A bundle with a flipped byte in its first signature: refused, and
    # no image is left behind.
    cp "$sys_out/bundle.kbn" "$d/bad.kbn"
    printf '\x55' | dd of="$d/bad.kbn" bs=1 seek=300 conv=notrunc 2>/dev/null
    if ! $kf create --board "$board" --bundle "$d/bad.kbn" \
        --keyring build/keys/keyring -o "$d/x.img" >"$o" 2>&1 &&
        grep -q 'refused' "$o" && [ ! -e "$d/x.img" ] &&
        [ ! -e "$d/x.img.tmp" ] &&
        ! $kf create --board sim --bundle "$sys_out/bundle.kbn" \
            --keyring build/keys/keyring -o "$d/y.img" >"$o" 2>&1 &&
        grep -q 'not a disk' "$o" && [ ! -e "$d/y.img" ]; then
        sys_ok "keel-flash: create refuses a tampered bundle and a board that" \
            "is not a disk, leaving no file"
    else
        sys_fail "keel-flash: create refusals" "$(head -n 2 "$o")"
    fi
    # The same inputs make the same initramfs, byte for byte.
    if $kf initramfs -o "$d/1.cpio" dir:/dev cdev:/dev/console=5:1 \
        file:/init="$sys_img/init" file:/etc/keel/kernel="$sys_img/kernel.txt" \
        >/dev/null && sleep 1 && touch "$sys_img/kernel.txt" &&
        $kf initramfs -o "$d/2.cpio" dir:/dev cdev:/dev/console=5:1 \
            file:/init="$sys_img/init" \
            file:/etc/keel/kernel="$sys_img/kernel.txt" >/dev/null &&
        cmp -s "$d/1.cpio" "$d/2.cpio" &&
        [ "$(head -c 6 "$d/1.cpio")" = 070701 ] &&
        grep -aq 'TRAILER!!!' "$d/1.cpio" &&
        [ $(($(stat -c %s "$d/1.cpio") % 512)) -eq 0 ] &&
        ! $kf initramfs -o "$d/3.cpio" file:etc/x="$sys_img/init" \
            >/dev/null 2>&1; then
        sys_ok "keel-flash: the initramfs is the same bytes from the same" \
            "inputs (newc, padded to 512); a relative path is refused"
    else
        sys_fail "keel-flash: initramfs"
    fi
}

# --- the network: mutual TLS through QEMU's forwarded port ---------------
# The guest's peer port is forwarded from 127.0.0.1 only (and the guest
# reaches nothing else).  openssl s_client with a key the node trusts
# completes the handshake and gets a pong for a ping frame; with a key it
# does not trust, it is refused, and `peer refused` names that key.
sys_net_test() {
    local board=$1 o=$sys_dir/net.out f=$sys_dir/net.img d=$sys_dir/net
    local port=0 p k gfp bfp
    mkdir -p "$d"
    cp "$sys_img/flash.img" "$f"
    for k in good bad; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
            -nodes -keyout "$d/$k.key" -out "$d/$k.crt" -subj "/CN=$k" \
            -days 2 2>/dev/null || {
            sys_fail "system/$board: net" "openssl could not make keys"
            return
        }
    done
    fpr() { openssl x509 -in "$d/$1.crt" -pubkey -noout |
        openssl pkey -pubin -outform DER | sha256sum | cut -c1-64; }
    gfp=$(fpr good)
    bfp=$(fpr bad)
    for p in $(shuf -i 20000-60000 -n 20); do
        if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
            port=$p
            break
        fi
    done
    # The client: a ping frame (version 1, type 1, length 8) and its
    # answer in a file; nothing on the console line.
    cat >"$d/client.sh" <<EOS
{ printf '\\x01\\x01\\x00\\x00\\x08\\x00\\x00\\x00ABCDEFGH'; sleep 2; } |
    timeout 10 openssl s_client -connect 127.0.0.1:$port -tls1_2 \\
    -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -curves prime256v1 \\
    -cert "$d/\$1.crt" -key "$d/\$1.key" -quiet >"$d/\$1.out" 2>"$d/\$1.err"
exit 0
EOS
    timeout $((SYS_WAIT * 4)) "$SYS_PE" -t "$SYS_WAIT" -e 'keel> ' \
        -s "peer trust add $gfp\r" -e 'keel> ' -X 'sleep 5' \
        -s 'net status\r' -e 'keel> ' -x "bash $d/client.sh good" \
        -x "bash $d/client.sh bad" -s 'peer refused\r' -e 'keel> ' \
        -s 'poweroff\r' -e 'powering off' -- bash scripts/qemu.sh "$board" \
        --flash "$f" --serial stdio --restrict --port "$port" \
        --pidfile "$o.pid" >"$o.raw" 2>&1
    sys_rc=$?
    sys_stop "$o.pid"
    tr -d '\r' <"$o.raw" >"$o"
    if [ "$port" -ne 0 ] && [ "$sys_rc" -eq 0 ] &&
        xxd -p "$d/good.out" | tr -d '\n' |
        grep -q "0102000008000000""4142434445464748" &&
        ! xxd -p "$d/bad.out" 2>/dev/null | tr -d '\n' | grep -q 01020000 &&
        sys_has "$o" '10\.0\.2\.15.*\(dhcp\)' " $bfp\$"; then
        sys_ok "system/$board: openssl s_client through 127.0.0.1:$port," \
            "forwarded to the node's peer port: a trusted key completes the" \
            "TLS handshake and its ping is answered; an untrusted one is" \
            "refused and named in 'peer refused'"
    else
        sys_fail "system/$board: net" "exit $sys_rc, port $port, lacks" \
            "/$sys_missing/; good: $(xxd -p "$d/good.out" 2>/dev/null |
                head -c 40); $(tail -n 1 "$d/good.err" 2>/dev/null)"
        sys_show "$o" 15
    fi
}
