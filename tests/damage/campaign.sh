#!/usr/bin/env bash
# tests/damage/campaign.sh - the damage campaign (docs/STORE.md): one
# flipped byte at a time in a populated sim flash image, then keel and
# keel-boot must keep every trust decision, keep what is intact, boot a
# verifiable slot, report what they lost, and never crash.
#
#   bash tests/damage/campaign.sh [--quick]
#
# The image is made once per run by the real binaries: slot a and slot b
# installed from signed bundles and confirmed through keel-boot (the
# anti-rollback counter rises to 2), the keyring rotated to version 2
# by a signed keyring file (one key revoked), a chain of 5,001 trailers
# from keel-chaingen imported, and 16,000 console `store put`s and three
# deletes around the import, so the store spans most of its sectors and
# compacts.  What keel and keel-boot then report is the truth.
#
# The points come from build/tools/damage-points (tests/damage/points.c):
# the header fields and first and last bytes of every structure, and
# random offsets in every partition.  Each point is flipped (XOR a mask)
# in a copy of the image, which is queried by keel run directly
# (--rootfs of the slot's files, as keel-boot passes them) and by
# keel-boot (which verifies and unpacks a slot and runs its keel on the
# same commands).  keel-boot runs on every bootctl and slot point and on
# every DAMAGE_BOOT_EVERY-th other one.
#
# --quick (make test) takes a fixed sample of each class, spread over
# it; without it (make damage) every boundary point, one in
# DAMAGE_SAMPLE of the old store records and chain slots, and
# DAMAGE_POINTS random offsets per partition.
#
# Environment (quick / full): DAMAGE_POINTS (4 / 100), DAMAGE_SAMPLE
# (- / 200), DAMAGE_BOOT_EVERY (3 / 2), DAMAGE_JOBS work images in
# parallel (1 / 2), DAMAGE_SEED (1); DAMAGE_KEEP=1 keeps the work
# directory; DAMAGE_ONLY=REGEX runs only the listed points whose line
# matches (an offset such as 0x000f2000, a class, a field): to
# reproduce a finding.  BOARD, ARCH.
#
# Output: one line per violated invariant, naming the offset, the
# partition, what the byte was and what went wrong; then
#   damage: N images, N flips, N invariant violations
# Exit status 0 only with 0 violations.
set -uo pipefail

cd "$(dirname "$0")/../.."
BOARD=${BOARD:-sim}
ARCH=${ARCH:-$(uname -m)}
quick=0
[ "${1:-}" = --quick ] && quick=1
if [ "$quick" = 1 ]; then
    nrandom=${DAMAGE_POINTS:-4}
    boot_every=${DAMAGE_BOOT_EVERY:-3}
    jobs=${DAMAGE_JOBS:-1}
else
    nrandom=${DAMAGE_POINTS:-100}
    boot_every=${DAMAGE_BOOT_EVERY:-2}
    jobs=${DAMAGE_JOBS:-2}
fi
sample=${DAMAGE_SAMPLE:-200}
seed=${DAMAGE_SEED:-1}

ke=build/$BOARD-$ARCH/keel
kboot=build/$BOARD-$ARCH/keel-boot
kb=build/tools/keel-bundle
cg=build/tools/keel-chaingen
dp=build/tools/damage-points
for t in "$ke" "$kboot" "$kb" "$cg" "$dp"; do
    if [ ! -x "$t" ]; then
        echo "damage: $t is not built (make all build/tools/damage-points)"
        echo "damage: 0 images, 0 flips, 1 invariant violations"
        exit 1
    fi
done

w=$(mktemp -d "${TMPDIR:-/tmp}/keel-damage.XXXXXX")
if [ "${DAMAGE_KEEP:-0}" = 1 ]; then
    echo "damage: work directory $w (kept)"
else
    trap 'rm -rf "$w"' EXIT
fi
t0=$(date +%s)

# ---- the populated image ------------------------------------------------

setup_fail() {
    echo "damage: setting up the populated image failed: $1"
    [ -f "$w/out" ] && sed 's/^/    /' "$w/out" | tail -n 15
    echo "damage: 0 images, 0 flips, 1 invariant violations"
    exit 1
}

pristine=$w/pristine.img
for i in 1 2 3; do
    openssl ecparam -name prime256v1 -genkey -noout -out "$w/k$i.pem" \
        2>/dev/null || setup_fail "openssl"
done
$kb keyring create --threshold 2 -o "$w/keyring" "$w/k1.pem" "$w/k2.pem" \
    "$w/k3.pem" >/dev/null || setup_fail "keyring"
mkdir -p "$w/rootfs/etc/keel" "$w/rootfs/bin"
cp "$w/keyring" "$w/rootfs/etc/keel/keyring"
cp "$ke" "$w/rootfs/bin/keel"
for s in a:0.2.0 b:0.3.0; do
    n=${s%%:*}
    $kb archive "$w/$n.kar" bin/keel="$ke" etc/keel/keyring="$w/keyring" \
        >/dev/null &&
        $kb create --payload "$w/$n.kar" --board "$BOARD" \
            --version "${s#*:}" --counter 2 -o "$w/$n.kbn" >/dev/null &&
        $kb sign "$w/$n.kbn" --key "$w/k1.pem" >/dev/null &&
        $kb sign "$w/$n.kbn" --key "$w/k2.pem" >/dev/null ||
        setup_fail "bundle $n"
done
# keyring version 2: k3 revoked, signed by k1 and k2 (old and new)
$kb keyring revoke "$w/keyring" "$w/k3.pem" -o "$w/kr2" >/dev/null &&
    $kb keyring sign "$w/kr2" --key "$w/k1.pem" -o "$w/kr2.ksk" >/dev/null &&
    $kb keyring sign "$w/kr2.ksk" --key "$w/k2.pem" -o "$w/kr2.ksk" \
        >/dev/null || setup_fail "keyring file"
$cg -n 5000 --pseudo-every 7 -o "$w/chain.dat" >/dev/null ||
    setup_fail "keel-chaingen"

# Console keys app.k00..app.k39, rewritten round after round (values of
# 100..199 bytes); app.k37..app.k39 deleted at the end.
churn() { # FROM TO
    local v r
    v=$(printf '%0200d' 0 | tr 0 v)
    for ((r = $1; r < $2; r++)); do
        printf 'store put app.k%02d %s.%d\n' $((r % 40)) \
            "${v:0:$((100 + r % 100))}" "$r"
    done
}

printf 'update install %s\n' "$w/a.kbn" |
    timeout 60 "$ke" --flash "$pristine" --rootfs "$w/rootfs" \
        >"$w/out" 2>&1 || setup_fail "install a"
printf 'update confirm\nupdate install %s\n' "$w/b.kbn" |
    timeout 60 "$kboot" --flash "$pristine" >"$w/out" 2>&1 ||
    setup_fail "confirm a, install b"
grep -q '^confirmed: slot a is good' "$w/out" || setup_fail "confirm a"
printf 'update confirm\nupdate keyring %s\n' "$w/kr2.ksk" |
    timeout 60 "$kboot" --flash "$pristine" >"$w/out" 2>&1 ||
    setup_fail "confirm b, rotate the keyring"
grep -q '^confirmed: slot b is good' "$w/out" &&
    grep -q '^keyring: version 2, 2 of 2 keys' "$w/out" ||
    setup_fail "confirm b, rotate the keyring"
{
    churn 0 8000
    printf 'chain import %s\n' "$w/chain.dat"
    churn 8000 16000
    printf 'store del app.k37\nstore del app.k38\nstore del app.k39\n'
    printf 'store stat --json\n'
} >"$w/script"
timeout 120 "$ke" --flash "$pristine" --rootfs "$w/rootfs" <"$w/script" \
    >"$w/out" 2>&1 || setup_fail "store churn and chain import"
grep -q '^chain import: 5001 trailers read, 5001 committed' "$w/out" ||
    setup_fail "chain import"
compactions=$(sed -n 's/.*"compactions":\([0-9]*\).*/\1/p' "$w/out")
sectors=$(sed -n 's/.*"used":\([0-9]*\).*/\1/p' "$w/out")
[ "${compactions:-0}" -ge 5 ] ||
    setup_fail "the churn compacted ${compactions:-0} sectors, want >= 5"
rm -rf "$pristine.boot"

# ---- observing a device -------------------------------------------------

keys=() dels=()
for i in $(seq 0 39); do keys+=("$(printf 'app.k%02d' "$i")"); done
dels=("${keys[@]:37}")
{
    printf 'status --json\nupdate status --json\nupdate keyring --json\n'
    printf 'chain info --json\nstore check\n'
    printf 'store keys --json\n'
    for k in "${keys[@]:0:37}"; do printf 'store get %s\n' "$k"; done
} >"$w/query"

# observe FILE: keel's (or keel-boot's) output as "name value" lines.
# The first answer to each command counts (a keel that keel-boot
# restarts after a failed command answers nothing more).
observe() {
    awk -v dels="${dels[*]}" '
    function jf(s, name,   i, r) { # a scalar JSON field of s
        i = index(s, "\"" name "\":")
        if (i == 0) return "-"
        r = substr(s, i + length(name) + 3)
        if (substr(r, 1, 1) == "\"") {
            r = substr(r, 2)
            return substr(r, 1, index(r, "\"") - 1)
        }
        match(r, /^[^,}\]]*/)
        return substr(r, 1, RLENGTH)
    }
    function jo(s, name,   i, r) { # an object field of s, up to its "}"
        i = index(s, "\"" name "\":{")
        if (i == 0) return ""
        r = substr(s, i + length(name) + 3)
        return substr(r, 1, index(r, "}"))
    }
    function out(name, v) { if (!(name in seen)) { seen[name] = 1; print name, v } }
    /^keel-boot: slot [ab] \(good\)/ { out("booted", substr($0, 17, 1)) }
    /^keel-boot: slot [ab] on trial/ { out("booted", substr($0, 17, 1) "-trial") }
    /^keel-boot: .*died of signal/ { out("signal", $0) }
    /^keel> / { cmd = substr($0, 7); got[cmd] = 0; next }
    /^keel: / || /^keel-boot: / { next }
    cmd == "status --json" && /^\{"health"/ {
        out("health", jf($0, "health"))
        d = $0; sub(/.*"damage":\[/, "", d); sub(/\].*/, "", d)
        gsub(/"/, "", d); out("damage", d == "" ? "none" : d)
        id = jo($0, "identity")
        out("identity", jf(id, "state") " " jf(id, "fingerprint") " " \
            jf(id, "generation"))
    }
    cmd == "update status --json" && /^\{"running"/ {
        out("upd", "ok"); out("primary", jf($0, "primary"))
        out("arb", jf($0, "anti_rollback"))
        for (s = 0; s < 2; s++) {
            n = s ? "b" : "a"; o = jo($0, n)
            out("slot_" n, jf(o, "state") "/" jf(o, "result") "/" \
                jf(o, "version") "/" jf(o, "counter") "/" jf(o, "manifest"))
        }
    }
    cmd == "update status --json" && /^error:/ { out("upd", "error") }
    cmd == "update keyring --json" && /^\{"version"/ { out("keyring", $0) }
    cmd == "update keyring --json" && /^error:/ { out("keyring", "error") }
    cmd == "chain info --json" && /^\{"profile"/ {
        out("chain", jf($0, "count") "/" jf($0, "first") "/" \
            jf($0, "tip") "/" jf($0, "tip_hash") "/" jf($0, "weight"))
    }
    cmd == "chain info --json" && /^error:/ { out("chain", "error") }
    cmd == "store check" && /^store check: / {
        out("check", $3 == 0 && $7 == 0 ? "clean" : $3 "+" $7)
    }
    cmd == "store check" && /^error:/ { out("check", "error") }
    cmd == "store keys --json" && /^\{"keys"/ {
        n = split(dels, dl, " ")
        for (i = 1; i <= n; i++)
            out("key." dl[i], index($0, "\"key\":\"" dl[i] "\"") ? "present" : "absent")
    }
    cmd ~ /^store get / && got[cmd] == 0 {
        got[cmd] = 1; k = substr(cmd, 11)
        out("key." k, /^error:/ ? "absent" : $0)
    }
    ' "$1"
}

# load ARRAY FILE: the observations into an associative array.
declare -A T O
load() { # NAME FILE
    local -n a=$1
    local n v
    a=()
    while read -r n v; do a[$n]=$v; done <"$2"
}

# ---- the truth ------------------------------------------------------------

work=$w/work.img
cp "$pristine" "$work"
timeout 60 "$ke" --flash "$work" --rootfs "$w/rootfs" <"$w/query" \
    >"$w/truth.out" 2>&1
rc=$?
observe "$w/truth.out" >"$w/truth"
cp "$pristine" "$work"
timeout 60 "$kboot" --flash "$work" <"$w/query" >"$w/truth-boot.out" 2>&1
rcb=$?
observe "$w/truth-boot.out" | grep -v '^booted ' >"$w/truth-boot"
load T "$w/truth"
if [ "$rc" -ne 0 ] || [ "$rcb" -ne 0 ] ||
    ! cmp -s "$w/truth" "$w/truth-boot" || [ "${T[health]:-}" != ok ] ||
    [ "${T[arb]:-}" != 2 ] || [ "${T[primary]:-}" != b ] ||
    [ "${T[check]:-}" != clean ] ||
    ! grep -q '^keyring {"version":2,' "$w/truth" ||
    ! grep -q '^chain 5001/0/5000/' "$w/truth" ||
    [ "${T[key.app.k36]:-absent}" = absent ] ||
    [ "${T[key.app.k37]:-}" != absent ] ||
    [ "${T[slot_a]%%/*}" != good ] || [ "${T[slot_b]%%/*}" != good ]; then
    echo "damage: the populated image is not what was made (exit $rc/$rcb)"
    diff "$w/truth" "$w/truth-boot" | sed 's/^/    /' | head -n 10
    sed 's/^/    /' "$w/truth" | head -n 12
    echo "damage: 0 images, 0 flips, 1 invariant violations"
    exit 1
fi
cp "$pristine" "$work"
rm -rf "$work.boot"
echo "damage: populated image: slots a+b good (primary b), anti-rollback" \
    "${T[arb]}, keyring version 2, chain of 5,001, ${#keys[@]} console" \
    "keys (3 deleted), $sectors store sectors in use, $compactions" \
    "compactions ($(($(date +%s) - t0)) s)"

# ---- the points ---------------------------------------------------------

$dp list "$pristine" --random "$nrandom" --seed "$seed" >"$w/points.all" \
    2>"$w/points.err" || {
    cat "$w/points.err"
    echo "damage: 0 images, 0 flips, 1 invariant violations"
    exit 1
}
declare -A KOFF KLEN
while read -r _ k off len; do
    KOFF[$k]=$((off))
    KLEN[$k]=$len
done < <(grep '^key ' "$w/points.all")

# pick CLASS MAX: at most MAX points of a class, spread evenly over it
# (0: all of them).
pick() {
    awk -v c="$1" -v max="$2" '$1 == "point" && $5 == c { p[n++] = $0 }
        END {
            if (max == 0 || n <= max) { for (i = 0; i < n; i++) print p[i]; exit }
            for (i = 0; i < max; i++) print p[int(i * n / max)]
        }' "$w/points.all"
}
if [ -n "${DAMAGE_ONLY:-}" ]; then
    # Reproduce: the listed points that match (an offset, a class, a field).
    grep '^point' "$w/points.all" | grep -E -- "$DAMAGE_ONLY" >"$w/points"
elif [ "$quick" = 1 ]; then
    # A fixed sample: each class, spread over its records or slots.
    {
        pick ctl-hdr 0
        pick ctl-tag 0
        pick ctl-pay 28
        pick store-sec 10
        pick store-live 40
        pick store-del 4
        pick store-mark 4
        pick store-new 0
        pick store-dead 5
        pick clog-first 3
        pick clog-ckpt 8
        pick clog-end 5
        pick clog-new 8
        pick clog-slot 5
        pick slot-hdr 6
        pick slot-man 6
        pick slot-pay 6
        pick random 0
    } >"$w/points"
else
    nd=$(grep -c ' store-dead ' "$w/points.all")
    ns=$(grep -c ' clog-slot ' "$w/points.all")
    {
        for c in ctl-hdr ctl-tag ctl-pay store-sec store-live store-del \
            store-mark store-new clog-first clog-ckpt clog-end clog-new \
            slot-hdr slot-man slot-pay random; do
            pick "$c" 0
        done
        pick store-dead $((nd / sample))
        pick clog-slot $((ns / sample))
    } >"$w/points"
fi

# ---- the invariants ---------------------------------------------------------

nviol=0 nimages=0 nflips=0
off=0 mask=0 part='' cls='' what='' mode=''

viol() {
    nviol=$((nviol + 1))
    printf 'damage: VIOLATION at 0x%08x (%s+0x%x, %s %s, xor %s) via %s: %s\n' \
        "$off" "$part" "$((off - pbase))" "$cls" "$what" "$mask" "$mode" "$*"
}
has_damage() { # NAME...: status lists one of them
    local d
    for d in "$@"; do
        case ",${O[damage]:-}," in *",$d,"*) return 0 ;; esac
    done
    return 1
}
check_reported() { # the store check found something
    [ -n "${O[check]:-}" ] && [ "${O[check]}" != clean ]
}

# check RC OUTFILE: every invariant for the current point and mode.
check() {
    local rc=$1 k s ov tv kv tvv
    observe "$2" >"$work.obs"
    load O "$work.obs"

    # nothing crashes or hangs; exit statuses as expected
    if [ "$rc" -eq 124 ]; then
        viol "hung (killed by timeout)"
    elif [ "$rc" -gt 128 ]; then
        viol "killed by signal $((rc - 128))"
    elif [ "$mode" = keel ] && [ "$rc" -gt 1 ]; then
        viol "exit status $rc"
    elif [ "$mode" = keel-boot ] && [ "$rc" -ne 0 ]; then
        viol "keel-boot exit status $rc"
    fi
    [ -n "${O[signal]:-}" ] && viol "${O[signal]}"
    if [ -z "${O[health]:-}" ]; then
        viol "no answer to 'status --json' (the device did not come up)"
        return
    fi

    # a device with a verifiable slot boots it (both slots are good and
    # one byte can damage one of them at most)
    if [ "$mode" = keel-boot ]; then
        local want=${T[primary]}
        if [ "${O[booted]:-}" != "$want" ]; then
            if [ "$part" = "slot_$want" ] &&
                [ "${O[booted]:-}" = "$([ "$want" = a ] && echo b || echo a)" ] &&
                [ "${O[slot_$want]%%/*}" = bad ] &&
                [[ "${O[slot_$want]}" == bad/boot_verify/* ]]; then
                : # the damaged primary was refused, reported, and the
                # other good slot booted
            else
                viol "booted '${O[booted]:-nothing}', not slot $want"
            fi
        fi
    fi

    # identity: never silently replaced
    if [ "${O[identity]:-}" != "${T[identity]}" ]; then
        if [ "${O[identity]%% *}" = ready ]; then
            viol "identity changed: ${O[identity]} (was ${T[identity]})"
        elif [ "${O[health]}" != degraded ]; then
            viol "identity ${O[identity]%% *} but status says ${O[health]}"
        fi
    fi

    # keyring: never below the truth, or refused and reported
    ov=${O[keyring]:-missing}
    if [ "$ov" != "${T[keyring]}" ]; then
        if [ "$ov" = error ] || [ "$ov" = missing ]; then
            has_damage keyring trust_floor ||
                viol "keyring refused or missing but status damage is [${O[damage]}]"
        else
            kv=$(sed -n 's/^{"version":\([0-9]*\),.*/\1/p' <<<"$ov")
            tvv=$(sed -n 's/^{"version":\([0-9]*\),.*/\1/p' <<<"${T[keyring]}")
            if [ "${kv:-0}" -lt "$tvv" ]; then
                viol "keyring went back to version $kv (truth $tvv)"
            else
                viol "keyring changed: $ov"
            fi
        fi
    fi

    # boot control: counter, primary and the confirmed slots
    if [ "${O[upd]:-}" != ok ]; then
        has_damage bootctl ||
            viol "update status fails but status damage is [${O[damage]}]"
    else
        if [ "${O[arb]}" != "${T[arb]}" ]; then
            if [ "${O[arb]}" -lt "${T[arb]}" ]; then
                has_damage bootctl ||
                    viol "anti-rollback counter went back to ${O[arb]} (truth ${T[arb]})"
            elif [ "${O[health]}" != degraded ]; then
                viol "anti-rollback counter ${O[arb]} (truth ${T[arb]}), not reported"
            fi
        fi
        [ "${O[primary]}" != "${T[primary]}" ] && ! has_damage bootctl &&
            viol "primary slot is ${O[primary]} (truth ${T[primary]})"
        for s in a b; do
            ov=${O[slot_$s]}
            tv=${T[slot_$s]}
            [ "$ov" = "$tv" ] && continue
            if [[ "$ov" == bad/boot_verify/* ]] && [ "$part" = "slot_$s" ] &&
                [ "$mode" = keel-boot ]; then
                continue # its bytes were damaged: refused and reported
            fi
            has_damage bootctl && continue
            case ${ov%%/*} in
            trial | ready) viol "confirmed slot $s is back on ${ov%%/*}: $ov" ;;
            *) viol "confirmed slot $s is now $ov (truth $tv)" ;;
            esac
        done
    fi

    # the chain: what is intact stays, or the loss is reported
    if [ "${O[chain]:-}" != "${T[chain]}" ]; then
        has_damage chain || check_reported ||
            viol "chain is '${O[chain]:-missing}' (truth ${T[chain]}), not reported (status damage [${O[damage]}], store check ${O[check]:-none})"
    fi

    # console keys: one whose record is intact is still there, unchanged;
    # any change is reported by store check (one line per invariant)
    local intact=() back=() lost=()
    for k in "${keys[@]}"; do
        ov=${O[key.$k]:-missing}
        tv=${T[key.$k]}
        [ "$ov" = "$tv" ] && continue
        if [ "$tv" = absent ]; then
            check_reported || back+=("$k")
        elif [ -n "${KOFF[$k]:-}" ] && [ "$off" -ge "${KOFF[$k]}" ] &&
            [ "$off" -lt $((KOFF[$k] + KLEN[$k])) ]; then
            check_reported || lost+=("$k")
        elif [ "$ov" = absent ]; then
            intact+=("$k dropped")
        else
            intact+=("$k changed")
        fi
    done
    [ ${#intact[@]} -gt 0 ] &&
        viol "${#intact[@]} console keys whose records are intact were" \
            "dropped or changed ($(keylist "${intact[@]}"));" \
            "$(check_reported && echo "store check: ${O[check]}" ||
                echo "not reported")"
    [ ${#back[@]} -gt 0 ] &&
        viol "${#back[@]} deleted keys are back, not reported" \
            "($(keylist "${back[@]}"))"
    [ ${#lost[@]} -gt 0 ] &&
        viol "key ${lost[*]} lost with its record, not reported by store check"
    return 0
}

# keylist ITEM...: the first four, then how many more.
keylist() {
    local s
    s=$(printf '%s, ' "${@:1:4}")
    s=${s%, }
    [ $# -gt 4 ] && s="$s, and $(($# - 4)) more"
    printf '%s' "$s"
}

# ---- the campaign -----------------------------------------------------------

declare -A PBASE
while read -r n o; do PBASE[$n]=$o; done < <(sed -n \
    's/^ *P(\([a-z_]*\), *\(0x[0-9a-fA-F]*\),.*/\1 \2/p' \
    "board/$BOARD/board.h")

run() { # MODE: query the damaged work image, then check
    mode=$1
    $dp restore "$pristine" "$work" >/dev/null &&
        $dp flip "$work" "$off" "$mask" || {
        viol "could not make the damaged image"
        return
    }
    nimages=$((nimages + 1))
    if [ "$mode" = keel ]; then
        timeout 60 "$ke" --flash "$work" --rootfs "$w/rootfs" \
            <"$w/query" >"$work.out" 2>&1
    else
        timeout 120 "$kboot" --flash "$work" <"$w/query" >"$work.out" 2>&1
    fi
    check $? "$work.out"
}

# shard J: points J, J + jobs, J + 2 jobs, ... on a work image of its own;
# violations go straight to stdout, the counts to $w/count.J.
shard() {
    local j=$1 i=0 total step
    total=$(wc -l <"$w/points")
    step=$((total / 10 > 0 ? total / 10 : 1))
    work=$w/work.$j.img
    cp "$pristine" "$work"
    while read -r _ offs mask part cls what; do
        if [ $((i % jobs)) -eq "$j" ]; then
            off=$((offs))
            pbase=$((PBASE[$part]))
            nflips=$((nflips + 1))
            run keel
            case $part in
            bootctl | slot_a | slot_b) run keel-boot ;;
            *) [ $((i / jobs % boot_every)) -eq 0 ] && run keel-boot ;;
            esac
        fi
        i=$((i + 1))
        [ "$j" -eq 0 ] && [ "$quick" = 0 ] && [ $((i % step)) -eq 0 ] &&
            echo "damage: at point $i of $total ($(($(date +%s) - t0)) s)"
    done <"$w/points"
    echo "$nimages $nflips $nviol" >"$w/count.$j"
}
for ((j = 0; j < jobs; j++)); do
    shard "$j" &
done
wait
for ((j = 0; j < jobs; j++)); do
    read -r a b c <"$w/count.$j" || { a=0 b=0 c=1; echo "damage: shard $j did not finish"; }
    nimages=$((nimages + a)) nflips=$((nflips + b)) nviol=$((nviol + c))
done

# The checker itself must be able to fail: the undamaged image against
# a truth with a higher counter, another keyring, a key changed and the
# chain one trailer longer gives one violation each.
saved=$nviol
cp "$pristine" "$work"
timeout 60 "$ke" --flash "$work" --rootfs "$w/rootfs" <"$w/query" \
    >"$w/out" 2>&1
T[arb]=3
T[keyring]='{"version":3,"planted":1}'
T[key.app.k00]=other
T[chain]=5002/${T[chain]#*/}
off=0 mask=0 part=bootctl pbase=0 cls=selftest what=none mode=keel
check 0 "$w/out" >"$w/selftest"
if [ $((nviol - saved)) -ne 4 ]; then
    echo "damage: the checker's self-test found $((nviol - saved)) of 4 planted violations:"
    sed 's/^/    /' "$w/selftest"
    nviol=$((saved + 1))
else
    nviol=$saved
fi

echo "damage: $(wc -l <"$w/points") points from $(grep -c '^point' "$w/points.all") listed ($nrandom random per partition, seed $seed), $(($(date +%s) - t0)) s"
echo "damage: $nimages images, $nflips flips, $nviol invariant violations"
[ "$nviol" -eq 0 ]
