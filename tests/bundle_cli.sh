# tests/bundle_cli.sh - keel-bundle's command line.  Every number an
# option takes is plain decimal digits in the option's range: anything
# else (a sign, a space, hex, a leading zero, trailing bytes, an empty
# string, one past either end of the range) stops the tool with exit
# status 2, one line naming the option and its range, and no file
# written; the ends of each range are accepted and stored exactly.
#
# And the desk check of --board: create and verify refuse a payload
# that cannot fit the board's update slots (sim's size from its board.h),
# and take one that fills them to the last byte.
#
# Sourced by tests/run.sh (ok, fail, $tmp), or run on its own from
# anywhere: bash tests/bundle_cli.sh [KEEL-BUNDLE] (default
# build/tools/keel-bundle; KEEL_BUNDLE= works too).  Variables and
# functions are prefixed bc_ so that run.sh's own stay untouched.
# shellcheck shell=bash

bc_alone=0
if ! declare -F ok >/dev/null; then
    bc_alone=1
    cd "$(dirname "$0")/.." || exit 1
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    passed=0 failed=0
    ok() { passed=$((passed + 1)); echo "ok - $1"; }
    fail() { failed=$((failed + 1)); echo "FAIL - $1${2:+: $2}"; }
    KEEL_BUNDLE=${1:-${KEEL_BUNDLE:-}}
fi
bc_kb=${KEEL_BUNDLE:-build/tools/keel-bundle}
bc=$tmp/bundle-cli
mkdir -p "$bc"

# Sixteen keys, so that a keyring may have threshold 16; a small payload.
bc_keys=()
for i in $(seq 1 16); do
    openssl ecparam -name prime256v1 -genkey -noout -out "$bc/k$i.pem" \
        2>/dev/null
    bc_keys+=("$bc/k$i.pem")
done
head -c 5000 /dev/urandom >"$bc/p.bin"
bc_bh=7ca8712a48aa9759274fe959960df639b837ce4d5b7457b4d51dd2734c639d6a
bc_wt=00000000000000000000000000000000000000000000000000000000000003e6

# The range each option names when it refuses a value.
declare -A bc_range=(
    ["create --counter"]='from 0 to 4294967295 '
    ["create --version"]='X.Y.Z, three decimal numbers from 0 to 4294967295 '
    ["create --chunk"]='from 4096 to 1048576'
    ["create --created"]='from 0 to 253402300799 '
    ["create --checkpoint"]='BNUM a decimal number from 0 to 18446744073709551615,'
    ["keyring --threshold"]='from 1 to 16 '
    ["keyring --version"]='from 1 to 4294967295 '
    ["keyring --expires"]='from 0 to 253402300799 '
)

# bc_run CMD OPT VAL: keel-bundle CMD with OPT set to VAL and the other
# options valid; output file $bc_out, status $bc_rc, stderr $bc/err.
bc_run() {
    local cmd=$1 opt=$2 val=$3
    local -a args
    if [ "$cmd" = create ]; then
        bc_out=$bc/out.kbn
        args=(create --payload "$bc/p.bin" --board sim -o "$bc_out")
        [ "$opt" = --version ] || args+=(--version 1.0.0)
        [ "$opt" = --counter ] || args+=(--counter 1)
        if [ "$opt" = --checkpoint ]; then
            val=$val:$bc_bh:$bc_wt
        fi
    else
        bc_out=$bc/keyring
        args=(keyring create -o "$bc_out" "${bc_keys[@]}")
        [ "$opt" = --threshold ] || args+=(--threshold 2)
    fi
    args+=("$opt" "$val")
    rm -f "$bc_out"
    "$bc_kb" "${args[@]}" >"$bc/outp" 2>"$bc/err"
    bc_rc=$?
}

# bc_stored CMD OPT VAL: the file written holds exactly VAL.
bc_stored() {
    local cmd=$1 opt=$2 val=$3 pat
    if [ "$cmd" = create ]; then
        case $opt in
        --counter) pat="\"counter\":$val," ;;
        --version) pat="\"version\":\"$val\"" ;;
        --chunk) pat="\"chunk_size\":$val," ;;
        --created) pat="\"created\":$val," ;;
        --checkpoint) pat="\"checkpoint\":{\"bnum\":$val," ;;
        esac
        "$bc_kb" inspect "$bc_out" --json 2>&1 | grep -qF -- "$pat"
    else
        case $opt in
        --threshold) pat="threshold: $val of 16" ;;
        --version) pat="version:   $val" ;;
        --expires) pat="expires:   $val" ;;
        esac
        "$bc_kb" keyring show "$bc_out" 2>&1 | grep -qxF -- "$pat"
    fi
}

# The table: CMD|OPTION|VALUE|WANT, WANT "ok" (accepted and stored
# exactly) or "2" (refused as a usage error).  Spaces inside a value are
# part of it.  One result per option.
bc_group='' bc_bad='' bc_nrefused=0 bc_naccepted=0
bc_flush() {
    [ -n "$bc_group" ] || return 0
    if [ -z "$bc_bad" ]; then
        ok "keel-bundle $bc_group: $bc_nrefused malformed values refused\
 (exit 2, option and range named), $bc_naccepted accepted exactly"
    else
        fail "keel-bundle $bc_group" "$bc_bad"
    fi
}
while IFS='|' read -r bc_cmd bc_opt bc_val bc_want; do
    case $bc_cmd in '' | '#'*) continue ;; esac
    if [ "$bc_cmd $bc_opt" != "$bc_group" ]; then
        bc_flush
        bc_group="$bc_cmd $bc_opt" bc_bad='' bc_nrefused=0 bc_naccepted=0
    fi
    bc_run "$bc_cmd" "$bc_opt" "$bc_val"
    if [ "$bc_want" = ok ]; then
        if [ "$bc_rc" -eq 0 ] && bc_stored "$bc_cmd" "$bc_opt" "$bc_val"; then
            bc_naccepted=$((bc_naccepted + 1))
        else
            bc_bad+=" '$bc_val' (want accepted: exit $bc_rc $(head -n 1 \
                "$bc/err"))"
        fi
    elif [ "$bc_rc" -eq 2 ] && [ "$(wc -l <"$bc/err")" -eq 1 ] &&
        grep -qF -- "keel-bundle: $bc_opt wants " "$bc/err" &&
        grep -qF -- "${bc_range[$bc_group]}" "$bc/err" &&
        grep -qF -- "got '$bc_val" "$bc/err" && [ ! -e "$bc_out" ]; then
        bc_nrefused=$((bc_nrefused + 1))
    else
        bc_bad+=" '$bc_val' (want exit 2: exit $bc_rc $(head -n 1 \
            "$bc/err"))"
    fi
done <<'EOF'
create|--counter|0|ok
create|--counter|1|ok
create|--counter|4294967295|ok
create|--counter|4294967296|2
create|--counter|18446744073709551614|2
create|--counter|18446744073709551616|2
create|--counter|-2|2
create|--counter|-0|2
create|--counter|+1|2
create|--counter|abc|2
create|--counter||2
create|--counter| 1|2
create|--counter|1 |2
create|--counter|1 2|2
create|--counter|0x10|2
create|--counter|01|2
create|--counter|1e3|2
create|--counter|1.0|2
create|--version|0.0.0|ok
create|--version|1.2.3|ok
create|--version|4294967295.4294967295.4294967295|ok
create|--version|-1.0.0|2
create|--version|4294967296.0.0|2
create|--version|1.4294967296.0|2
create|--version|1.0.4294967296|2
create|--version|+1.0.0|2
create|--version|1.-1.0|2
create|--version||2
create|--version|1|2
create|--version|1.0|2
create|--version|1.0.0.0|2
create|--version|1..0|2
create|--version|.1.0|2
create|--version|1.0.|2
create|--version| 1.0.0|2
create|--version|1.0.0 |2
create|--version|1. 0.0|2
create|--version|1.0.0-rc1|2
create|--version|0x1.0.0|2
create|--version|01.0.0|2
create|--version|1.00.0|2
create|--chunk|4096|ok
create|--chunk|65536|ok
create|--chunk|1048576|ok
create|--chunk|4095|2
create|--chunk|1048577|2
create|--chunk|2097152|2
create|--chunk|65535|2
create|--chunk|0|2
create|--chunk|65536xyz|2
create|--chunk|0x10000|2
create|--chunk|065536|2
create|--chunk|-65536|2
create|--chunk|+65536|2
create|--chunk||2
create|--chunk| 65536|2
create|--chunk|64k|2
create|--created|0|ok
create|--created|1790000000|ok
create|--created|253402300799|ok
create|--created|253402300800|2
create|--created|9223372036854775808|2
create|--created|-1|2
create|--created|+1|2
create|--created||2
create|--created| 1|2
create|--created|1790000000x|2
create|--created|1e9|2
create|--created|0x10|2
create|--created|01|2
create|--checkpoint|0|ok
create|--checkpoint|1000|ok
create|--checkpoint|18446744073709551615|ok
create|--checkpoint|18446744073709551616|2
create|--checkpoint|99999999999999999999999|2
create|--checkpoint|-1|2
create|--checkpoint|+1|2
create|--checkpoint||2
create|--checkpoint| 1|2
create|--checkpoint|1 |2
create|--checkpoint|0x1|2
create|--checkpoint|01|2
create|--checkpoint|1a|2
keyring|--threshold|1|ok
keyring|--threshold|16|ok
keyring|--threshold|0|2
keyring|--threshold|17|2
keyring|--threshold|258|2
keyring|--threshold|-1|2
keyring|--threshold|+2|2
keyring|--threshold||2
keyring|--threshold| 2|2
keyring|--threshold|2 |2
keyring|--threshold|2x|2
keyring|--threshold|0x2|2
keyring|--threshold|02|2
keyring|--version|1|ok
keyring|--version|4294967295|ok
keyring|--version|0|2
keyring|--version|4294967296|2
keyring|--version|-1|2
keyring|--version|+1|2
keyring|--version||2
keyring|--version| 1|2
keyring|--version|abc|2
keyring|--version|1x|2
keyring|--version|0x1|2
keyring|--version|01|2
keyring|--expires|0|ok
keyring|--expires|253402300799|ok
keyring|--expires|253402300800|2
keyring|--expires|9223372036854775808|2
keyring|--expires|-1|2
keyring|--expires|+1|2
keyring|--expires||2
keyring|--expires| 1|2
keyring|--expires|1e9|2
keyring|--expires|0x1|2
keyring|--expires|01|2
EOF
bc_flush

# --- the desk check of --board: does the payload fit the board's slots? --
# The sim board's slot size and erase block, from its board.h; the
# largest payload its slots take behind a one-board manifest at 64 KiB
# chunks: the payload starts at 4096 + the manifest (56 bytes + 32 per
# chunk), rounded up to the erase block (at least 4096), as on the device.
bc_slot=$(awk '/P\(slot_[ab],/ { gsub(/[P(),\\]/, " "); print $3 }' \
    board/sim/board.h | while read -r x; do echo $((x)); done | sort -n |
    head -n 1)
bc_erase=$(sed -n 's/^#define BOARD_FLASH_ERASE \([0-9]*\)u*$/\1/p' \
    board/sim/board.h)
[ "${bc_erase:-0}" -gt 4096 ] || bc_erase=4096
bc_fit=$bc_slot
for _ in 1 2 3 4; do
    bc_po=$(((4096 + 56 + 32 * ((bc_fit + 65535) / 65536) + bc_erase - 1) /
        bc_erase * bc_erase))
    bc_fit=$((bc_slot - bc_po))
done
"$bc_kb" keyring create --threshold 1 -o "$bc/kr" "$bc/k1.pem" >/dev/null
# Sparse payloads: nothing is stored for them, and reading zeros is fast.
truncate -s "$bc_fit" "$bc/fit.bin"
truncate -s $((bc_fit + 1)) "$bc/over.bin"

# create refuses a payload one byte over the slot, takes one that fills
# it to the last byte; verify --board sim passes that one.
if "$bc_kb" create --payload "$bc/over.bin" --board sim --version 1.0.0 \
    --counter 1 -o "$bc/over.kbn" >"$bc/outp" 2>"$bc/err"; then
    fail "keel-bundle create --board sim: a payload over the slot" \
        "accepted: $(cat "$bc/outp")"
elif [ "$?" -eq 1 ] && [ ! -e "$bc/over.kbn" ] &&
    grep -q "^keel-bundle: a payload of $((bc_fit + 1)) bytes does not fit board 'sim': its update slots hold $bc_slot bytes" \
        "$bc/err" &&
    "$bc_kb" create --payload "$bc/fit.bin" --board sim --version 1.0.0 \
        --counter 1 -o "$bc/fit.kbn" >/dev/null 2>"$bc/err" &&
    "$bc_kb" sign "$bc/fit.kbn" --key "$bc/k1.pem" >/dev/null &&
    "$bc_kb" verify "$bc/fit.kbn" --keyring "$bc/kr" --board sim \
        >/dev/null 2>>"$bc/err"; then
    ok "keel-bundle create --board sim: $((bc_fit + 1)) bytes refused\
 (sim's slots hold $bc_fit of payload), $bc_fit accepted and verified"
else
    fail "keel-bundle create --board sim: slot size" "$(cat "$bc/err")"
fi
rm -f "$bc/fit.kbn"

# verify --board sim refuses a signed bundle for sim one byte over the
# slot.  create makes it for a board it does not know ("xim", with a
# note), the name becomes "sim" in the manifest, then it is signed.
if "$bc_kb" create --payload "$bc/over.bin" --board xim --version 1.0.0 \
    --counter 1 -o "$bc/over.kbn" >/dev/null 2>"$bc/note" &&
    printf sim | dd of="$bc/over.kbn" bs=1 seek=117 conv=notrunc \
        2>/dev/null &&
    "$bc_kb" inspect "$bc/over.kbn" --json | grep -q '"boards":\["sim"\]' &&
    "$bc_kb" sign "$bc/over.kbn" --key "$bc/k1.pem" >/dev/null &&
    "$bc_kb" verify "$bc/over.kbn" --keyring "$bc/kr" >/dev/null; then
    if ! "$bc_kb" verify "$bc/over.kbn" --keyring "$bc/kr" --board sim \
        >"$bc/outp" 2>"$bc/err" &&
        grep -q "^keel-bundle: a payload of $((bc_fit + 1)) bytes does not fit board 'sim'" \
            "$bc/err" &&
        grep -q "note: board 'xim' is not one this keel-bundle knows" \
            "$bc/note"; then
        ok "keel-bundle verify --board sim: a signed bundle one byte over\
 the slot refused"
    else
        fail "keel-bundle verify --board sim: a bundle over the slot" \
            "$(cat "$bc/outp" "$bc/err" "$bc/note")"
    fi
else
    fail "keel-bundle verify --board sim: making the oversized bundle" \
        "$(cat "$bc/err")"
fi

# The archive format is pinned: the same two files make the bytes of the
# golden archive that test_boot.c unpacks.
mkdir -p "$bc/kar"
printf '#!/bin/sh\necho keel\n' >"$bc/kar/keel"
printf 'keyring bytes\n' >"$bc/kar/keyring"
chmod 755 "$bc/kar/keel"
chmod 644 "$bc/kar/keyring"
if "$bc_kb" archive "$bc/kar/out.kar" bin/keel="$bc/kar/keel" \
    etc/keel/keyring="$bc/kar/keyring" >/dev/null 2>&1 &&
    cmp -s "$bc/kar/out.kar" tests/vectors/update/image.kar; then
    ok "keel-bundle archive: the golden archive's bytes (KAR1 pinned)"
else
    fail "keel-bundle archive: differs from tests/vectors/update/image.kar"
fi

rm -rf "$bc"
if [ "$bc_alone" -eq 1 ]; then
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
fi
