# tests/receive.sh - files over the console line by YMODEM, with lrzsz
# on the terminal's other end as a field engineer's laptop would run it
# (build/tools/ptyexpect -x): a signed bundle installed by `update
# receive` with 1K and 128-byte blocks, a tampered one refused mid-stream
# with both sides ending cleanly and no slot written, a key by `id
# receive`, a bad keyring refused, the log out by `log export` and `rb`.
# Sourced by tests/run.sh (ok, fail, skip, $tmp, $BOARD, $HOST_ARCH).

# `log show --follow` at a terminal: the log, then Ctrl-C ends it.
follow_test() {
    local K=build/$BOARD-$HOST_ARCH d=$tmp/recv
    timeout 60 build/tools/ptyexpect -t 20 -e 'keel> ' \
        -s 'log show --follow\r' -e 'boot 1: keel' -s '\x03' -e 'keel> ' \
        -s 'log show --follow --json\r' -e 'keel> ' -s 'poweroff\r' -- \
        "$K/keel" --flash "$d/fl.img" >"$d/out" 2>&1
    if grep -aq 'boot 1: keel' "$d/out" && grep -aq 'for a terminal' "$d/out" &&
        grep -aq 'powering off' "$d/out"; then
        ok "log: show --follow lists, then stops at Ctrl-C; --json --follow is refused"
    else
        fail "log: --follow" "$(tail -n 3 "$d/out")"
    fi
}

receive_tests() {
    local K=build/$BOARD-$HOST_ARCH d=$tmp/recv pe=build/tools/ptyexpect
    local b v
    mkdir -p "$d"
    if ! command -v sb >/dev/null || ! command -v rb >/dev/null; then
        skip "receive" "lrzsz (sb, rb) is not installed (scripts/setup.sh)"
        return 0
    fi
    if [ ! -s "$K/bundle.kbn" ] || [ ! -d "$K/rootfs" ]; then
        fail "receive: make image bundle did not run"
        return 0
    fi
    b=$K/bundle.kbn
    # run FLASH STEPS...: keel on a pty, the steps, then poweroff.
    run() {
        local f=$1
        shift
        timeout 120 "$pe" -t 60 -e 'keel> ' "$@" -e 'keel> ' \
            -s 'update status\r' -e 'keel> ' -s 'poweroff\r' -- \
            "$K/keel" --flash "$f" --rootfs "$K/rootfs" >"$d/out" 2>&1
    }
    run "$d/a.img" -s 'update receive\r' -e 'start the YMODEM upload' \
        -x "sb -k $b 2>$d/sb.err"
    if grep -aq "received bundle.kbn ($(stat -c %s "$b") bytes" "$d/out" &&
        grep -aq '^slot a: *ready, version' "$d/out"; then
        ok "receive: sb -k (1K blocks) into update receive installs the signed bundle"
    else
        fail "receive: 1K" "$(grep -a -E 'error|received|slot a' "$d/out" | head -n 4)"
    fi
    run "$d/b.img" -s 'update receive\r' -e 'start the YMODEM upload' \
        -x "sb $b 2>$d/sb.err"
    if grep -aq 'received bundle.kbn' "$d/out" &&
        grep -aq '^slot a: *ready, version' "$d/out"; then
        ok "receive: sb (128-byte blocks) installs it too"
    else
        fail "receive: 128" "$(grep -a -E 'error|received|slot a' "$d/out" | head -n 4)"
    fi
    # A flipped byte in the first signature: refused before a slot is
    # touched; the sender is cancelled and says so.
    cp "$b" "$d/bad.kbn"
    printf '\x55' | dd of="$d/bad.kbn" bs=1 seek=300 conv=notrunc 2>/dev/null
    run "$d/c.img" -s 'update receive\r' -e 'start the YMODEM upload' \
        -x "sb -k $d/bad.kbn 2>$d/sb.err; echo \"sb exit \$?\" >$d/sb.rc"
    if grep -aq '^error: update receive: ' "$d/out" &&
        grep -aq '^slot a: *empty' "$d/out" &&
        ! grep -aq 'sb exit 0' "$d/sb.rc"; then
        ok "receive: a tampered bundle is refused mid-stream: sender cancelled, no slot written ($(grep -a '^error: update receive' "$d/out" | head -c 90))"
    else
        fail "receive: tampered" "$(grep -a -E 'error|slot a' "$d/out" | head -n 3); $(cat "$d/sb.rc")"
    fi
    # A line that corrupts one byte on its way: the block is NAKed and
    # sent again; the install completes.
    run "$d/f.img" -s 'update receive\r' -e 'start the YMODEM upload' \
        -x "sb -k $b 2>$d/sb.err | perl -e 'binmode STDIN; binmode STDOUT; \$|=1; my \$o=0; while (my \$n = sysread(STDIN, my \$x, 4096)) { if (\$o <= 50000 && \$o + \$n > 50000) { substr(\$x, 50000 - \$o, 1) ^= chr(1) } \$o += \$n; syswrite(STDOUT, \$x) }'"
    if grep -aq 'received bundle.kbn ([0-9]* bytes in [0-9.]* s, [1-9][0-9]* errors recovered)' "$d/out" &&
        grep -aq '^slot a: *ready, version' "$d/out"; then
        ok "receive: a byte corrupted on the line: the block is sent again, the install completes ($(grep -a -o '[0-9]* errors recovered' "$d/out"))"
    else
        fail "receive: corrupting line" "$(grep -a -E 'error|received' "$d/out" | head -n 3)"
    fi
    # The sender cancels mid-transfer (CAN CAN ...): the install ends,
    # no slot is made bootable.
    run "$d/g.img" -s 'update receive\r' -e 'start the YMODEM upload' \
        -x "sb -k $b 2>$d/sb.err & p=\$!; sleep 0.15; kill -STOP \$p; printf '\\030\\030\\030\\030\\030\\030\\030\\030'; kill -9 \$p"
    if grep -aq '^error: update receive: .*cancel' "$d/out" &&
        ! grep -aq '^slot a: *ready' "$d/out"; then
        ok "receive: the sender cancelling mid-transfer ends the install; no slot is made bootable"
    else
        fail "receive: sender cancel" "$(grep -a -E 'error|received|slot a' "$d/out" | head -n 3)"
    fi
    # The sender stalls mid-block and never comes back (its line is cut
    # after 5,000 bytes, without a word): each block's wait times out (1 s here, by the sim
    # board's KEEL_SIM_YMODEM_BLOCK_MS; 10 s on a device), the receiver
    # gives up after its retries, cancels, and the console comes back;
    # no slot is made bootable.
    KEEL_SIM_YMODEM_BLOCK_MS=1000 run "$d/s.img" -s 'update receive\r' \
        -e 'start the YMODEM upload' \
        -x "sb -k $b 2>$d/sb.err | stdbuf -o0 head -c 5000"
    if grep -aq '^error: update receive: .*block [2-9] failed 11 times (last: nothing within 1 s)' "$d/out" &&
        ! grep -aq '^slot a: *ready' "$d/out" && grep -aq '^slot a: ' "$d/out"; then
        ok "receive: a sender that stalls mid-transfer: the receiver times out, cancels, the console answers again; no slot is made bootable"
    else
        fail "receive: stalled sender" "$(grep -a -E 'error|received|slot a' "$d/out" | head -n 3)"
    fi
    # The console works after the cancel (the prompt answered above);
    # a key by id receive.
    openssl ecparam -name prime256v1 -genkey -noout -out "$d/k.pem" 2>/dev/null
    timeout 120 "$pe" -t 60 -e 'keel> ' -s 'id receive\r' \
        -e 'start the YMODEM upload' -x "sb -k $d/k.pem 2>$d/sb.err" \
        -e 'keel> ' -s 'id show\r' -e 'keel> ' -s 'poweroff\r' -- \
        "$K/keel" --flash "$d/a.img" >"$d/out" 2>&1
    openssl ec -in "$d/k.pem" -pubout -outform DER 2>/dev/null |
        openssl dgst -sha256 -r | cut -c1-16 >"$d/fp"
    if grep -aq '^imported: generation 2' "$d/out" &&
        grep -aq "$(cat "$d/fp")" "$d/out"; then
        ok "receive: id receive imports a key sent by sb"
    else
        fail "receive: id receive" "$(grep -a -E 'error|imported' "$d/out" | head -n 3)"
    fi
    head -c 3000 /dev/urandom >"$d/junk"
    timeout 120 "$pe" -t 60 -e 'keel> ' -s 'update keyring receive\r' \
        -e 'start the YMODEM upload' -x "sb -k $d/junk 2>$d/sb.err" \
        -e 'keel> ' -s 'poweroff\r' -- \
        "$K/keel" --flash "$d/a.img" --rootfs "$K/rootfs" >"$d/out" 2>&1
    if grep -aq '^error: update keyring receive: .*the keyring is unchanged' "$d/out"; then
        ok "receive: a keyring file that is not signed is refused after the transfer"
    else
        fail "receive: keyring" "$(grep -a error "$d/out" | head -n 2)"
    fi
    # The log out by rb: one line per record, this boot's included.
    mkdir -p "$d/rb"
    timeout 120 "$pe" -t 60 -e 'keel> ' -s 'log export\r' \
        -e 'start the YMODEM download' -x "cd $d/rb && rb 2>$d/rb.err" \
        -e 'keel> ' -s 'log stat\r' -e 'keel> ' -s 'poweroff\r' -- \
        "$K/keel" --flash "$d/a.img" >"$d/out" 2>&1
    v=$(sed -n 's/.*, \([0-9]*\) appended.*/\1/p' "$d/out" | head -n 1)
    if [ -s "$d/rb/keel.log" ] &&
        grep -aq ' info .*boot [0-9]*: keel ' "$d/rb/keel.log" &&
        grep -aq 'update receive: bundle.kbn installed' "$d/rb/keel.log" &&
        grep -aq '^sent keel.log: ' "$d/out"; then
        ok "receive: log export sends the log; rb receives it ($(wc -l <"$d/rb/keel.log") lines)"
    else
        fail "receive: log export" "$(grep -a -E 'error|sent' "$d/out" | head -n 2)"
    fi
    # The chain and the identity out by rb, byte for byte.
    build/tools/keel-chaingen -n 200 -o "$d/tf.dat" >/dev/null 2>&1
    mkdir -p "$d/rb2"
    timeout 120 "$pe" -t 60 -e 'keel> ' -s "chain import $d/tf.dat\r" \
        -e 'keel> ' -s 'chain export --ymodem\r' \
        -e 'start the YMODEM download' -x "cd $d/rb2 && rb 2>$d/rb.err" \
        -e 'keel> ' -s 'id export --ymodem\r' \
        -e 'start the YMODEM download' -x "cd $d/rb2 && rb 2>$d/rb.err" \
        -e 'keel> ' -s 'id export\r' -e 'keel> ' -s 'poweroff\r' -- \
        "$K/keel" --flash "$d/e.img" >"$d/out" 2>&1
    if cmp -s "$d/tf.dat" "$d/rb2/tfile.dat" && [ -s "$d/rb2/keel-id.pem" ] &&
        grep -aq "$(sed -n 2p "$d/rb2/keel-id.pem")" "$d/out"; then
        ok "receive: chain export --ymodem and id export --ymodem: rb gets the tfile and the key, byte for byte"
    else
        fail "receive: exports" "$(grep -a -E 'error|sent' "$d/out" | head -n 3)"
    fi
}

# `chain receive`: a tfile streamed into the chain as it arrives; one
# with an invalid trailer stops the sender there; a heavier fork
# replaces the stored branch; the chain comes back out byte for byte.
chain_receive_test() {
    local K=build/$BOARD-$HOST_ARCH d=$tmp/recv pe=build/tools/ptyexpect
    local cg=build/tools/keel-chaingen
    command -v sb >/dev/null && command -v rb >/dev/null || return 0
    mkdir -p "$d/rb3"
    $cg -n 1500 --seed 3 -o "$d/c1.dat" >/dev/null 2>&1
    $cg -n 1500 --seed 3 --fork-at 1200 --fork-difficulty 2 --fork-seed 8 \
        -o "$d/c2.dat" >/dev/null 2>&1
    $cg -n 3000 --seed 3 --fork-at 1200 --fork-difficulty 2 --fork-seed 8 \
        --break phash --at 2000 -o "$d/c3.dat" >/dev/null 2>&1
    timeout 180 "$pe" -t 90 -e 'keel> ' -s 'chain receive\r' \
        -e 'start the YMODEM upload' -x "sb -k $d/c1.dat 2>$d/sb.err" \
        -e 'keel> ' -s 'chain receive\r' \
        -e 'start the YMODEM upload' -x "sb -k $d/c2.dat 2>$d/sb.err" \
        -e 'keel> ' -s 'chain export --ymodem\r' \
        -e 'start the YMODEM download' -x "cd $d/rb3 && rb 2>$d/rb.err" \
        -e 'keel> ' -s 'chain receive\r' \
        -e 'start the YMODEM upload' \
        -x "sb -k $d/c3.dat 2>$d/sb.err; echo \"sb exit \$?\" >$d/sb.rc" \
        -e 'keel> ' -s 'chain info\r' -e 'keel> ' -s 'poweroff\r' -- \
        "$K/keel" --flash "$d/ch.img" >"$d/ch.out" 2>&1
    if grep -aq 'chain receive: 1501 trailers read, 1501 committed; tip 1500' "$d/ch.out" &&
        grep -aq 'chain receive: 1501 trailers read, 301 committed (a heavier fork replaced' "$d/ch.out" &&
        cmp -s "$d/c2.dat" "$d/rb3/tfile.dat"; then
        ok "receive: chain receive takes a tfile by sb, then a heavier fork (a reorg); chain export gives the fork back byte for byte"
    else
        fail "receive: chain receive" "$(grep -a -E 'chain receive|error' "$d/ch.out" | head -n 4)"
    fi
    if grep -aq 'chain receive: stopped at trailer 2000 (phash' "$d/ch.out" &&
        grep -aq 'nothing past 1999 committed' "$d/ch.out" &&
        ! grep -aq 'sb exit 0' "$d/sb.rc" &&
        grep -aq 'tip: *1999' "$d/ch.out"; then
        ok "receive: a tfile with a broken trailer stops the sender at it; the valid trailers before it are kept"
    else
        fail "receive: chain receive of a broken tfile" "$(grep -a -E 'chain receive|error|tip' "$d/ch.out" | tail -n 4)"
    fi
}

receive_tests
chain_receive_test
follow_test
