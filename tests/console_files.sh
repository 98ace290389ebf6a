# tests/console_files.sh - the console on its edges.  Every keel run is
# under `timeout`, so a command that blocks fails here instead of hanging
# the suite.  Sourced by tests/run.sh (ok, fail, $tmp, $k).
#  - Host files: every file command given a FIFO without a writer, a
#    directory or a device returns at once with an error naming it;
#    files over a command's limit are refused before they are read; a
#    directory given to `update install` is not counted as a refusal.
#  - Numeric arguments are parsed strictly.
#  - A script's odd lines (too long at the end, a NUL byte, lines after
#    `reboot` or `poweroff`) fail with a message.
# shellcheck shell=bash

cf=$tmp/files
mkdir -p "$cf/dir"
f=$cf/flash.img
mkfifo "$cf/fifo"

# kq INPUT [ENV...]: keel on $f with INPUT as its script, at most 10 s;
# output in $tmp/out, status in $rc.
kq() {
    local in=$1
    shift
    printf '%b' "$in" | env "$@" timeout 10 "$k" --flash "$f" \
        >"$tmp/out" 2>&1
    rc=$?
}

# refused NAME COMMAND PATTERN: COMMAND fails promptly (not killed by
# timeout) with an error line matching PATTERN.
refused() {
    kq "$2\\n"
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] &&
        grep -qE -- "^error: $3" "$tmp/out"; then
        ok "files: $1"
    else
        fail "files: $1" "exit $rc (124: it blocked)"
        sed 's/^/    /' "$tmp/out" | tail -n 4
    fi
}

# A short chain, so that `chain export` has something to write.
build/tools/keel-chaingen -n 20 -o "$cf/c.dat" >/dev/null
kq "chain import $cf/c.dat\\n" # first boot: the identity is made, too
fifo=$cf/fifo
isfifo="'$fifo' is a FIFO \\(named pipe\\), not a regular file"
refused "chain import of a FIFO" "chain import $fifo" \
    "chain import: $isfifo; nothing committed"
refused "update install of a FIFO" "update install $fifo" \
    "update install: $isfifo; no slot touched"
refused "update keyring from a FIFO" "update keyring $fifo" \
    "update keyring: $isfifo; the keyring is unchanged"
refused "id import of a FIFO" "id import $fifo" \
    "id import: $isfifo; nothing written"
refused "id sign of a FIFO" "id sign $fifo" "id sign: $isfifo"
refused "id verify of a FIFO" "id verify $fifo $fifo" "id verify: $isfifo"
refused "id verify --key of a FIFO" \
    "id verify --hex 00 3000 --key $fifo" "id verify: $isfifo"
refused "id export into a FIFO" "id export $fifo" "id export: $isfifo"
refused "id sign --out into a FIFO" "id sign --hex 00 --out $fifo" \
    "id sign: $isfifo"
refused "chain export into a FIFO" "chain export $fifo" \
    "chain export: $isfifo"
refused "id sign of /dev/zero" "id sign /dev/zero" \
    "id sign: '/dev/zero' is a character device, not a regular file"
refused "id import of /dev/zero" "id import /dev/zero" \
    "id import: '/dev/zero' is a character device"
refused "chain import of a directory (not a size of 2^63-1)" \
    "chain import $cf/dir" \
    "chain import: '$cf/dir' is a directory, not a regular file"
refused "id export into a directory" "id export $cf/dir" \
    "id export: '$cf/dir' is a directory"
ln -s "$fifo" "$cf/fifolink"
refused "a symlink to a FIFO is refused as a FIFO" \
    "id import $cf/fifolink" "id import: '$cf/fifolink' is a FIFO"

# A directory is the operator's slip, not a bundle: not counted.
kq "update install $cf/dir\\nupdate metrics\\n"
if [ "$rc" -ne 0 ] &&
    grep -q "^error: update install: '$cf/dir' is a directory" "$tmp/out" &&
    grep -q '^keel_update_rejected_total{reason="truncated"} 0$' "$tmp/out" &&
    ! grep -q 'keel: update: refused' "$tmp/out"; then
    ok "files: update install DIR is refused, not counted as truncated"
else
    fail "files: update install DIR" "exit $rc"
    grep -E 'error|truncated|refused' "$tmp/out" | sed 's/^/    /'
fi

# Limits, checked before reading: a signature, a signed keyring, a file
# to sign (sparse, so it costs no disk).
head -c 100 /dev/urandom >"$cf/sig100"
head -c 4000 /dev/urandom >"$cf/kr4000"
truncate -s $((64 * 1048576 + 1)) "$cf/huge"
refused "a signature over 72 bytes" "id verify --key $cf/kr4000 $cf/sig100 $cf/sig100" \
    "id verify: '$cf/sig100' is 100 bytes, larger than any signature keel accepts \\(72 bytes\\)"
refused "a signed keyring over its limit" "update keyring $cf/kr4000" \
    "update keyring: '$cf/kr4000' is 4000 bytes, larger than any signed keyring"
refused "id sign of a file over 64 MiB" "id sign $cf/huge" \
    "id sign: '$cf/huge' is 67108865 bytes, larger than any file to sign"

# Written files are whole or absent: a failed export leaves nothing.
kq "id export $cf/nodir/pub.pem\\nid export $cf/pub.pem\\n"
if [ "$rc" -ne 0 ] && grep -q "^error: id export: cannot write '$cf/nodir/pub.pem'" \
    "$tmp/out" && openssl pkey -pubin -in "$cf/pub.pem" -noout 2>/dev/null &&
    [ -z "$(find "$cf" -name '*.tmp-*')" ]; then
    ok "files: id export writes through a temporary file, none left over"
else
    fail "files: id export" "exit $rc"
fi

# Numeric arguments: no sign, no 0x, no octal.
kq "chain trim -1\\n"
if [ "$rc" -ne 0 ] &&
    grep -q "^error: chain trim: '-1' is not a block number" "$tmp/out" &&
    ! grep -q 18446744073709551615 "$tmp/out"; then
    ok "console: 'chain trim -1' is refused, not taken as 2^64-1"
else
    fail "console: chain trim -1" "exit $rc: $(grep error "$tmp/out")"
fi
kq "id rotate --window +3\\nid rotate --window 0x3\\n"
if [ "$rc" -ne 0 ] &&
    [ "$(grep -c '^error: id rotate: --window takes days' "$tmp/out")" -eq 2 ]
then
    ok "console: 'id rotate --window +3' and '0x3' are refused"
else
    fail "console: id rotate --window" "exit $rc"
fi

# --- script mode -----------------------------------------------------------
long=$(head -c 300 /dev/zero | tr '\0' x)
kq "version\\n$long"
if [ "$rc" -eq 1 ] &&
    grep -q '^error: line 2 is longer than 256 bytes; not run' "$tmp/out"; then
    ok "script: an over-long last line without a newline fails"
else
    fail "script: over-long last line" "exit $rc"
    tail -n 3 "$tmp/out" | sed 's/^/    /'
fi

kq 'uptime\nver\0sion\nversion\n'
if [ "$rc" -eq 1 ] &&
    grep -q '^error: line 2 contains a NUL byte; not run' "$tmp/out" &&
    grep -q '^BearSSL' "$tmp/out" &&
    ! grep -q "unknown command 'ver'" "$tmp/out"; then
    ok "script: a line with a NUL byte is refused; the next line runs"
else
    fail "script: NUL byte" "exit $rc"
    tail -n 5 "$tmp/out" | sed 's/^/    /'
fi
kq 'uptime\nver\0'
if [ "$rc" -eq 1 ] &&
    grep -q '^error: line 2 contains a NUL byte; not run' "$tmp/out"; then
    ok "script: a NUL byte in an unterminated last line is refused"
else
    fail "script: NUL in the last line" "exit $rc"
fi

kq 'uptime\npoweroff\n\n# a comment\nuptime\n'
if [ "$rc" -eq 1 ] &&
    grep -q "^error: 1 script line after 'poweroff' was not run" "$tmp/out" &&
    [ "$(grep -c '^up 0d' "$tmp/out")" -eq 1 ]; then
    ok "script: a line after 'poweroff' is an error (exit 1)"
else
    fail "script: lines after poweroff" "exit $rc"
    tail -n 4 "$tmp/out" | sed 's/^/    /'
fi
kq 'uptime\npoweroff\n\n# only a comment after\n'
if [ "$rc" -eq 0 ] && ! grep -q '^error' "$tmp/out"; then
    ok "script: blank and comment lines after 'poweroff' are no error"
else
    fail "script: comment after poweroff" "exit $rc"
fi

# After 'reboot': the lines are reported and consumed, and the status is
# 100 (keel-boot's reboot) without a new session, run alone or not.
kq 'uptime\nreboot\nupdate confirm\nuptime\n'
if [ "$rc" -eq 100 ] &&
    grep -q "^error: 2 script lines after 'reboot' were not run" "$tmp/out" &&
    [ "$(grep -c '^keel 0' "$tmp/out")" -eq 1 ] &&
    ! grep -q 'update confirm' "$tmp/out"; then
    ok "script: lines after 'reboot' are an error; exit 100, no new session"
else
    fail "script: lines after reboot" "exit $rc"
    tail -n 6 "$tmp/out" | sed 's/^/    /'
fi
kq 'uptime\nreboot\n' KEEL_BOOT_SUPERVISED=1
if [ "$rc" -eq 100 ] && ! grep -q '^error' "$tmp/out"; then
    ok "script: 'reboot' as the last line under keel-boot exits 100, no error"
else
    fail "script: reboot under keel-boot" "exit $rc"
fi

# A stored chain whose trailer 0 differs from the file's: the message
# says nothing was committed, with no bnum - 1 wrapped around.
{
    printf '\377'
    tail -c +2 "$cf/c.dat"
} >"$cf/c0.dat"
kq "chain import $cf/c.dat\\nchain import $cf/c0.dat\\n"
if [ "$rc" -ne 0 ] &&
    grep -q '^error: chain import: stopped at trailer 0 (.*); nothing committed$' \
        "$tmp/out" && ! grep -q 18446744073709551615 "$tmp/out"; then
    ok "chain: a mismatch at trailer 0 says nothing was committed"
else
    fail "chain: mismatch at trailer 0" "exit $rc"
    grep error "$tmp/out" | sed 's/^/    /'
fi
rm -rf "$cf"
