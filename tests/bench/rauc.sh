#!/usr/bin/env bash
# tests/bench/rauc.sh BENCH_BINARY RAUC_SCRIPT - keel's install into a
# file-backed blk flash beside RAUC's into a file-backed raw slot, in one
# run (make bench-rauc; not part of make test; needs root, for RAUC's
# loop mount).
#
#  1. tests/bench/update_blk.sh: keel installs a 64 MiB bundle, 7 timed
#     runs after a warm-up, each under /usr/bin/time -v;
#  2. RAUC_SCRIPT (../shared/bench/rauc-install.sh): RAUC 1.8 installs a
#     64 MiB plain bundle, 7 timed runs after a warm-up (it installs the
#     Debian packages it needs);
#  3. keel's runs again, so a change in the machine's load shows;
#  4. RAUC's peak RSS during one install: `rauc service` (where RAUC
#     does the work; `rauc install` is only its D-Bus client) started
#     under /usr/bin/time -v on the bundle and slots step 2 kept, one
#     install, then stopped.
#
# Prints, beside each script's own lines:
#   bench update.install_blk.mb_per_s X   (the lower of 1 and 3)
#   bench rauc.install_64m.mb_per_s X
#   bench update.install_blk_vs_rauc X    (keel / RAUC; 1.0 = as fast)
#   bench update.install_blk_vs_rauc.process X (keel's whole process,
#       start to exit, against the same RAUC figure: `rauc install` is
#       timed from the client's start to its exit)
#   bench update.install_blk.rss_kib X    (largest of keel's runs)
#   bench rauc.install_64m.rss_kib X      (rauc service, one install)
#   bench rauc.install_64m.client_rss_kib X
set -euo pipefail
b=${1:?bench binary}
rs=${2:?rauc-install.sh}
[ "$(id -u)" -eq 0 ] || {
    echo "bench-rauc: needs root (RAUC loop-mounts its bundle)" >&2
    exit 1
}
[ -r "$rs" ] || {
    echo "bench-rauc: $rs not found (RAUC_BENCH=PATH)" >&2
    exit 1
}
[ -x /usr/bin/time ] || {
    echo "bench-rauc: /usr/bin/time not found (Debian's time package)" >&2
    exit 1
}
get() { awk -v k="$1" '$1 == "bench" && $2 == k { print $3 }'; }

echo "# keel, before RAUC"
k1=$(bash tests/bench/update_blk.sh "$b" 64)
echo "$k1"

echo "# RAUC"
rlog=$(mktemp)
rout=$(mktemp)
T=""
BUS_PID=""
TIME_PID=""
# The rauc service started under time: TERM it (time's child, by its
# id), and let time report.
stop_service() {
    local c
    c=$(pgrep -P "$TIME_PID" || true)
    [ -n "$c" ] && kill -TERM "$c"
    wait "$TIME_PID" || true
    TIME_PID=""
}
cleanup() {
    set +e
    [ -n "$TIME_PID" ] && stop_service
    [ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null
    if [ -n "$T" ] && [ -d "$T" ]; then
        awk -v p="$T/mnt/" 'index($2, p) == 1 {print $2}' /proc/mounts |
            while read -r m; do umount "$m"; done
        for f in "$T"/*.raucb "$T"/slot-*.img; do
            [ -e "$f" ] || continue
            for l in $(losetup -l -n -O NAME -j "$f" 2>/dev/null); do
                losetup -d "$l"
            done
        done
        rm -rf "$T"
    fi
    rm -f "$rlog" "$rout"
}
trap cleanup EXIT
rc=0
KEEP=1 bash "$rs" 2>"$rlog" | tee "$rout" || rc=$?
grep -v '^# kept ' "$rlog" >&2 || true
T=$(sed -n 's/^# kept //p' "$rlog" | tail -1)
[ "$rc" -eq 0 ] || {
    echo "bench-rauc: $rs failed (exit $rc)" >&2
    exit 1
}
if [ -z "$T" ] || [ ! -d "$T" ]; then
    echo "bench-rauc: RAUC's scratch directory was not kept" >&2
    exit 1
fi
rm_mbps=$(get rauc.install_64m.mb_per_s <"$rout")

echo "# keel, after RAUC"
k2=$(bash tests/bench/update_blk.sh "$b" 64)
echo "$k2"

# RAUC's service under /usr/bin/time -v for one install.
echo "# RAUC's RSS: rauc service under /usr/bin/time -v, one install"
out=$(dbus-daemon --session --address="unix:path=$T/rss-bus.sock" --fork \
    --nopidfile --print-pid=1)
BUS_PID=$(head -1 <<<"$out")
export DBUS_SESSION_BUS_ADDRESS="unix:path=$T/rss-bus.sock"
export DBUS_STARTER_BUS_TYPE=session
/usr/bin/time -v -o "$T/service.time" rauc service \
    --conf="$T/system.conf" --override-boot-slot=A >"$T/rss-service.log" 2>&1 &
TIME_PID=$!
svc_up() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus \
        /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
        string:de.pengutronix.rauc 2>/dev/null | grep -q 'boolean true'
}
for _ in $(seq 100); do svc_up && break; sleep 0.1; done
svc_up || {
    echo "bench-rauc: rauc service did not come up" >&2
    exit 1
}
/usr/bin/time -v -o "$T/client.time" rauc install "$T/bundle-plain.raucb" \
    >"$T/rss-install.log" 2>&1 || {
    echo "bench-rauc: rauc install failed" >&2
    tail -5 "$T/rss-install.log" >&2
    exit 1
}
stop_service
rss() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
rsvc=$(rss "$T/service.time")
rcli=$(rss "$T/client.time")

km1=$(get update.install_blk.mb_per_s <<<"$k1")
km2=$(get update.install_blk.mb_per_s <<<"$k2")
km=$(awk -v a="$km1" -v b="$km2" 'BEGIN { print (a < b) ? a : b }')
kr=$(printf '%s\n%s\n' "$(get update.install_blk.rss_kib <<<"$k1")" \
    "$(get update.install_blk.rss_kib <<<"$k2")" | sort -n | tail -1)
echo "# keel MB/s before and after RAUC: $km1, $km2 (the lower one counts)"
echo "bench update.install_blk.mb_per_s $km"
echo "bench rauc.install_64m.mb_per_s $rm_mbps"
awk -v a="$km" -v b="$rm_mbps" \
    'BEGIN { printf "bench update.install_blk_vs_rauc %.3f\n", a / b }'
kp=$(printf '%s\n%s\n' "$(get update.install_blk.process_mb_per_s <<<"$k1")" \
    "$(get update.install_blk.process_mb_per_s <<<"$k2")" | sort -g | head -1)
echo "bench update.install_blk.process_mb_per_s $kp"
awk -v a="$kp" -v b="$rm_mbps" \
    'BEGIN { printf "bench update.install_blk_vs_rauc.process %.3f\n", a / b }'
echo "bench update.install_blk.rss_kib $kr"
echo "bench rauc.install_64m.rss_kib $rsvc"
echo "bench rauc.install_64m.client_rss_kib $rcli"
