# tests/ymodem.sh - keel's YMODEM (src/console/ymodem.c) against lrzsz,
# the other end an operator would run, on a pseudo-terminal (sourced by
# tests/run.sh: ok, fail, skip, $tmp).
#
# build/tools/ymodem_pty runs sb, sz --ymodem or rb on the terminal's
# slave side and keel's receiver or sender on the master side.  Files
# must arrive byte for byte both ways, in 128 and 1024-byte blocks, and
# every refusal must end both sides: keel's CANs stop sb (which then
# exits non-zero), and nothing past a refusal or a bad block is written.
# Every run is bounded by ymodem_pty's -t, which cancels the session and
# kills the program by its id.
#
# Two lrzsz habits show here and nowhere on a real serial line: rb
# flushes its input right after each ACK, so on a pty a block sent at
# once is now and then lost and comes again after rb's 5 s NAK; and sb
# flushes its terminal's output after its own CANs when it gives up, so
# those never reach keel on a pty (ymodem_pty ends the session once sb
# has exited and the line is quiet).
# shellcheck shell=bash

ymodem_tests() {
    local T=$PWD/build/tools/ymodem_pty tmp=$tmp/ymodem v n
    mkdir -p "$tmp/rb"
    if ! command -v sb >/dev/null || ! command -v rb >/dev/null; then
        skip "ymodem" "lrzsz is not installed (scripts/setup.sh installs it)"
        return 0
    fi
    if [ ! -x "$T" ]; then
        fail "ymodem: $T not built"
        return 0
    fi
    head -c 5000 /dev/urandom >"$tmp/small.bin"
    head -c 102417 /dev/urandom >"$tmp/big.bin"
    head -c 8192 /dev/urandom >"$tmp/even.bin"
    : >"$tmp/empty.bin"

    # yp ARGS...: ymodem_pty in $tmp; its line in $v, its status in $rc,
    # the program's standard error in $tmp/peer.err.
    yp() {
        v=$(cd "$tmp" && "$T" "$@" 2>"$tmp/peer.err")
        rc=$?
    }
    # field NAME: a key's value in ymodem_pty's line
    field() {
        sed -nE "s/.* $1=([^ ]*).*/\\1/p" <<<"$v"
    }
    # same NAME FILE OUT: a transfer that must arrive whole
    same() {
        if [ "$rc" -eq 0 ] && cmp -s "$tmp/$2" "$3" &&
            [ "$(field reason)" = "done" ]; then
            ok "ymodem: $1"
        else
            fail "ymodem: $1" "exit $rc: $v"
            tr '\r' '\n' <"$tmp/peer.err" | grep -v '^ *$' | tail -n 5 |
                sed 's/^/    /'
        fi
    }

    # --- lrzsz sends, keel receives -------------------------------------------
    yp -t 60 recv out.bin -- sb small.bin
    same "sb (128-byte blocks) to keel: 5000 bytes arrive whole" \
        small.bin "$tmp/out.bin"
    yp -t 60 recv out.bin -- sb -k big.bin
    same "sb -k (1K blocks) to keel: 102417 bytes arrive whole" \
        big.bin "$tmp/out.bin"
    yp -t 60 recv out.bin -- sb -k even.bin
    same "sb -k to keel: a file of whole 1K blocks, no padding" \
        even.bin "$tmp/out.bin"
    yp -t 60 --pull 700 recv out.bin -- sz --ymodem -k big.bin
    same "sz --ymodem -k to keel's pull reader (700-byte reads)" \
        big.bin "$tmp/out.bin"
    yp -t 60 recv out.bin -- sb empty.bin
    same "sb to keel: an empty file" empty.bin "$tmp/out.bin"
    yp -t 60 recv out.bin -- sb --delay-startup 4 -k big.bin
    same "sb starting 4 s late, two stale 'C's waiting: it arrives whole" \
        big.bin "$tmp/out.bin"

    # --- keel sends, lrzsz receives -------------------------------------------
    rm -f "$tmp"/rb/*
    v=$(cd "$tmp/rb" && "$T" -t 60 send ../big.bin -- rb \
        2>"$tmp/peer.err")
    rc=$?
    same "keel to rb, 1K blocks: 102417 bytes arrive whole, named" \
        big.bin "$tmp/rb/big.bin"
    rm -f "$tmp"/rb/*
    v=$(cd "$tmp/rb" && "$T" -t 60 --block 128 send ../small.bin \
        -- rb 2>"$tmp/peer.err")
    rc=$?
    same "keel to rb, 128-byte blocks: 5000 bytes arrive whole" \
        small.bin "$tmp/rb/small.bin"
    rm -f "$tmp"/rb/*
    v=$(cd "$tmp/rb" && "$T" -t 60 --name renamed.kbn \
        send ../empty.bin -- rb 2>"$tmp/peer.err")
    rc=$?
    same "keel to rb: an empty file, under the name keel gives it" \
        empty.bin "$tmp/rb/renamed.kbn"
    # rb will not overwrite: it cancels, and keel's sender stops on it
    v=$(cd "$tmp/rb" && "$T" -t 60 --name renamed.kbn send ../small.bin \
        -- rb 2>"$tmp/peer.err")
    rc=$?
    if [ "$(field reason)" = peer_cancel ] && [ "$(field err)" = -125 ] &&
        [ "$(stat -c %s "$tmp/rb/renamed.kbn")" -eq 0 ]; then
        ok "ymodem: rb refusing the file (it exists) stops keel's sender"
    else
        fail "ymodem: rb refuses" "exit $rc: $v"
    fi

    # --- refusals: keel's CANs end sb -----------------------------------------
    yp -t 60 --refuse-at 50000 recv out.bin -- sb -k big.bin
    n=$(stat -c %s "$tmp/out.bin")
    if [ "$rc" -eq 1 ] && [ "$(field reason)" = refused ] &&
        [ "$(field err)" = -28 ] && [ "$(field peer)" -ne 0 ] &&
        [ "$n" -eq 49152 ] && cmp -s -n "$n" "$tmp/out.bin" "$tmp/big.bin" &&
        tr '\r' '\n' <"$tmp/peer.err" | grep -q "Transfer incomplete"; then
        ok "ymodem: a sink refusing mid-file cancels sb (it exits $(field \
            peer)); nothing past the refusal is written"
    else
        fail "ymodem: sink refusal" "exit $rc, $n bytes: $v"
    fi
    yp -t 60 --limit 100000 recv out.bin -- sb -k big.bin
    if [ "$(field reason)" = too_big ] && [ "$(field peer)" -ne 0 ] &&
        [ "$(stat -c %s "$tmp/out.bin")" -eq 0 ] &&
        grep -q "is 102417 bytes; at most 100000 are taken" <<<"$v"; then
        ok "ymodem: a file over the limit is refused at block 0; sb stops"
    else
        fail "ymodem: limit" "exit $rc: $v"
    fi
    yp -t 60 --cancel-at 30000 recv out.bin -- sb -k big.bin
    if [ "$(field reason)" = cancelled ] && [ "$(field err)" = -125 ] &&
        [ "$(field peer)" -ne 0 ]; then
        ok "ymodem: the operator's cancel mid-file stops sb"
    else
        fail "ymodem: operator cancel" "exit $rc: $v"
    fi

    # --- a bad line, a sender that dies, no sender ----------------------------
    yp -t 60 --corrupt-from 20000 recv out.bin -- sb -k big.bin
    n=$(stat -c %s "$tmp/out.bin")
    if [ "$(field reason)" = retries ] && [ "$(field err)" = -5 ] &&
        [ "$(field peer)" -ne 0 ] && [ "$n" -eq 20480 ] &&
        cmp -s -n "$n" "$tmp/out.bin" "$tmp/big.bin"; then
        ok "ymodem: all blocks bad from 20 KiB: 11 tries, CAN, none kept"
    else
        fail "ymodem: bad line" "exit $rc, $n bytes: $v"
    fi
    yp -t 60 --corrupt-from 20000 --retries 20 recv out.bin -- sb -k big.bin
    n=$(stat -c %s "$tmp/out.bin")
    if [ "$(field peer)" -ne 0 ] && [ "$rc" -eq 1 ] && [ "$n" -eq 20480 ] &&
        tr '\r' '\n' <"$tmp/peer.err" | grep -q "Retry Count Exceeded"; then
        ok "ymodem: sb giving up first ends keel's session too ($(field \
            reason))"
    else
        fail "ymodem: sb gives up" "exit $rc, $n bytes: $v"
    fi
    yp -t 60 --fast --kill-at 30000 recv out.bin -- sb -k big.bin
    n=$(stat -c %s "$tmp/out.bin")
    if [ "$rc" -eq 1 ] && [ "$(field peer)" -ne 0 ] &&
        [ "$(field err)" != 0 ] && cmp -s -n "$n" "$tmp/out.bin" \
        "$tmp/big.bin"; then
        ok "ymodem: sb killed mid-file: keel's session ends ($(field \
            reason)), what arrived is a prefix"
    else
        fail "ymodem: sender killed" "exit $rc: $v"
    fi
    yp -t 30 --fast recv out.bin -- cat
    if [ "$(field reason)" = no_start ] && [ "$(field err)" = -110 ]; then
        ok "ymodem: no sender ('C's echoed back): -ETIMEDOUT at the bound"
    else
        fail "ymodem: no sender" "exit $rc: $v"
    fi
}

ymodem_tests
