#!/usr/bin/env bash
# tests/soak/identity_kill.sh MODE COUNT KEEL - SIGKILL keel at random
# moments while it writes its identity, COUNT times, and check every
# restart.  The flash is the sim board's file-backed image, so whatever
# reached the file before the kill is what the next boot finds.
#
#   create: a blank store each round; keel makes the identity at boot.
#           The restart must load a ready identity; it may make one only
#           if the killed run had not reported "generation 1 made".
#   rotate: one image throughout; each round runs 'id rotate --window 0'
#           (so the next boot also retires the old key).  The restart
#           must show the same generation and key as before, or the next
#           generation whose statement names the key before; a rotation
#           the killed run reported must be there.
#
# Kill moments are spread over the measured time of the writes (or over
# the first KEEL_KILL_MS milliseconds when that is set).  Prints one line per failure and,
# last, "soak identity/MODE: N rounds, K kills (B before the write was
# reported done), F failures".
set -uo pipefail
mode=${1:?mode: create or rotate} count=${2:?count} k=${3:?keel binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A private copy of the binary: a rebuild during a long soak must not
# swap it mid-run.
cp "$k" "$tmp/keel" && k=$tmp/keel
img=$tmp/flash.img
blank=$tmp/blank.img
# The store and control block live in the first 2 MiB (board/sim).
head -c $((2 << 20)) /dev/zero | tr '\0' '\377' >"$blank"
fresh_store() { dd if="$blank" of="$img" bs=1M count=2 conv=notrunc \
    status=none; }

field() { # NAME FILE
    grep -oE "\"$1\":(\"[^\"]*\"|[0-9]+)" "$2" | head -n 1 |
        sed -E 's/^[^:]+://; s/"//g'
}

input='id show --json\n'
[ "$mode" = rotate ] && input='id rotate --window 0\nid show --json\n'

# Measure an uncut round, and a boot alone, to aim the kills at the
# writes: moments are spread from a little before the boot's end to a
# little after the round's.
ms_of() { # input -> milliseconds of one run
    local t0 t1
    t0=$(date +%s%N)
    printf "$1" | "$k" --flash "$img" >/dev/null 2>&1
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}
printf '' | "$k" --flash "$img" >/dev/null 2>&1 # creates the image
[ "$mode" = create ] && fresh_store
tf=$(ms_of "$input")
[ "$mode" = create ] && fresh_store
tb=$(ms_of '')
[ "$mode" = create ] && fresh_store
lo=$((tb > 8 ? tb - 8 : 0))
[ "$mode" = create ] && lo=$((tb > 20 ? tb - 20 : 0))
hi=$((tf + 4))
if [ -n "${KEEL_KILL_MS:-}" ]; then lo=0 hi=$KEEL_KILL_MS; fi
span=$((hi - lo + 1))
if [ "$mode" = rotate ]; then
    printf 'id show --json\n' | "$k" --flash "$img" >"$tmp/chk" 2>&1
    pgen=$(field generation "$tmp/chk") pfp=$(field fingerprint "$tmp/chk")
fi

kills=0 failures=0 late=0
for ((i = 1; i <= count; i++)); do
    [ "$mode" = create ] && fresh_store
    # keel reads its script from a FIFO held open until the kill, so it
    # never reaches end of input and powers off by itself.
    rm -f "$tmp/fifo"
    mkfifo "$tmp/fifo"
    "$k" --flash "$img" <"$tmp/fifo" >"$tmp/run" 2>&1 &
    pid=$!
    exec 3>"$tmp/fifo"
    printf "$input" >&3
    ms=$((lo + RANDOM % span))
    sleep "$(printf '0.%03d' "$ms")"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ $? -eq 137 ] && kills=$((kills + 1))
    exec 3>&-
    grep -qE 'generation 1 made|^rotated:' "$tmp/run" && late=$((late + 1))

    printf 'id show --json\n' | "$k" --flash "$img" >"$tmp/chk" 2>&1
    st=$(field state "$tmp/chk")
    if [ "$st" != ready ] || grep -q LOST "$tmp/chk"; then
        echo "round $i (kill at ${ms} ms): restart is '$st'"
        sed 's/^/    /' "$tmp/chk" | head -n 5
        failures=$((failures + 1))
        continue
    fi
    gen=$(field generation "$tmp/chk") fp=$(field fingerprint "$tmp/chk")
    if [ "$mode" = create ]; then
        if grep -q 'generation 1 made' "$tmp/run" &&
            grep -q 'first boot' "$tmp/chk"; then
            echo "round $i: creation was reported, restart made another"
            failures=$((failures + 1))
        fi
    else
        old=$(field old_fingerprint "$tmp/chk")
        if [ "$gen" = "$pgen" ] && [ "$fp" = "$pfp" ]; then
            if grep -q '^rotated:' "$tmp/run"; then
                echo "round $i: rotation reported, restart has the old key"
                failures=$((failures + 1))
            fi
        elif [ "$gen" != $((pgen + 1)) ] || [ "$old" != "$pfp" ]; then
            echo "round $i: generation $pgen -> $gen, statement old key" \
                "${old:0:12} (want ${pfp:0:12})"
            failures=$((failures + 1))
        fi
        pgen=$gen pfp=$fp
    fi
done
echo "kills aimed at ${lo}-${hi} ms after start (boot ${tb} ms, round ${tf} ms)"
echo "soak identity/$mode: $count rounds, $kills kills ($((kills - late))" \
    "before the write was reported done), $failures failures"
[ "$failures" -eq 0 ]
