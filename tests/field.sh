# tests/field.sh - the field engineer's session of docs/RUNBOOK.md, with
# the tools the runbook names: picocom on a serial line (a pty pair made
# by socat), keel-boot on the device's side, lrzsz's `sz --ymodem` as
# picocom's send command, the answer to `unlock` made on the "laptop" by
# scripts/keel-unlock-answer.  A scripted stand-in for the by-hand run:
# the keys typed are the operator's (Enter, `unlock`, the pasted answer,
# `update receive`, C-a C-s and the bundle's path, `reboot`, `log show
# --boot -1`).  Sourced by tests/run.sh (ok, fail, skip, $tmp, $BOARD,
# $HOST_ARCH).

field_test() {
    local K=build/$BOARD-$HOST_ARCH d=$tmp/field pe=build/tools/ptyexpect
    local kb=build/tools/keel-bundle f spid i
    f=$d/flash.img
    for i in picocom socat sz; do
        if ! command -v $i >/dev/null; then
            skip "field" "$i is not installed (scripts/setup.sh installs it)"
            return 0
        fi
    done
    mkdir -p "$d/factory/etc/keel" "$d/img/etc/keel"
    openssl ecparam -name prime256v1 -genkey -noout -out "$d/rel.pem" 2>/dev/null &&
        openssl ecparam -name prime256v1 -genkey -noout -out "$d/op.pem" 2>/dev/null &&
        openssl ec -in "$d/op.pem" -pubout -out "$d/op.pub" 2>/dev/null &&
        $kb keyring create --threshold 1 -o "$d/keyring" "$d/rel.pem" >/dev/null ||
        { fail "field: keys"; return 0; }
    cp "$d/keyring" "$d/factory/etc/keel/keyring"
    # bundle NAME VERSION COUNTER: this build's keel, the keyring and the
    # operator's key in the image.
    bundle() {
        $kb archive "$d/$1.kar" bin/keel="$K/keel" etc/keel/keyring="$d/keyring" \
            etc/keel/operators="$d/op.pub" >/dev/null &&
            $kb create --payload "$d/$1.kar" --board "$BOARD" --version "$2" \
                --counter "$3" -o "$d/$1.kbn" >/dev/null &&
            $kb sign "$d/$1.kbn" --key "$d/rel.pem" >/dev/null
    }
    bundle v2 0.2.0 1 && bundle v3 0.3.0 2 || { fail "field: bundles"; return 0; }
    # The factory: slot a written from a file, before any operator key.
    printf 'update install %s\n' "$d/v2.kbn" |
        timeout 60 "$K/keel" --flash "$f" --rootfs "$d/factory" >"$d/factory.out" 2>&1
    # The device: keel-boot on one end of a serial line (a pty pair).
    socat PTY,link="$d/ttyUSB0",rawer \
        EXEC:"$PWD/build/$BOARD-$HOST_ARCH/keel-boot --flash $f --workdir $d/work",pty,rawer,stderr \
        2>"$d/socat.err" &
    spid=$!
    for i in $(seq 50); do [ -e "$d/ttyUSB0" ] && break; sleep 0.1; done
    # The laptop: picocom, as the runbook attaches it.
    timeout 240 "$pe" -t 90 -e 'Terminal ready' -s '\r' -e 'keel> ' \
        -s 'status\r' -e 'keel> ' -s 'unlock\r' -e 'valid=' -e 'keel> ' \
        -X "$PWD/scripts/keel-unlock-answer $d/op.pem <$d/pc.out | tr -d '\\n'; printf '\\r'" \
        -e 'unlocked' -e 'keel> ' -s 'update confirm\r' -e 'keel> ' \
        -s 'update receive\r' -e 'start the YMODEM upload' -s '\x01\x13' \
        -e '*** file: ' -s "$d/v3.kbn\r" -e 'into slot b' -e 'keel> ' \
        -s 'reboot\r' -e 'slot b on trial' -e 'keel> ' -s '\r' -e 'keel> ' \
        -s 'log show --boot -1\r' -e 'keel> ' -s 'update status\r' \
        -e 'keel> ' -s 'poweroff\r' -e 'powering off' -- \
        picocom -b 115200 --send-cmd 'sz --ymodem -vv' "$d/ttyUSB0" \
        >"$d/pc.out" 2>&1
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    if grep -aq '^console:  locked' "$d/pc.out" &&
        grep -aq '^unlocked (until' "$d/pc.out" &&
        grep -aq "received v3.kbn ($(stat -c %s "$d/v3.kbn") bytes" "$d/pc.out" &&
        grep -aq '^[0-9]* info .* update receive: v3.kbn installed from the console' "$d/pc.out" &&
        grep -aq '^[0-9]* info .* keel-boot: boot [0-9]*: starting slot a on trial' "$d/pc.out" &&
        grep -aq 'keel-boot: boot [0-9]*: starting slot b on trial' "$d/pc.out" &&
        grep -aq '^slot b: *trial, version 0.3.0' "$d/pc.out"; then
        ok "field: picocom on a serial line to keel-boot: unlock with keel-unlock-answer, update receive by sz --ymodem, reboot into the trial, log show --boot -1 tells it"
    else
        fail "field: picocom session" "$(grep -a -E 'error|unlock|received|slot b' "$d/pc.out" | tail -n 5)"
    fi
}

field_test
