# tests/damage.sh - the damage campaign's fixed sample
# (tests/damage/campaign.sh --quick): one flipped byte at a time in a
# populated sim image, each queried by keel and keel-boot against issue
# #11's invariants.  `make damage` runs the long campaign.  Sourced by
# tests/run.sh (ok, fail, $tmp, $a).
# shellcheck shell=bash

ARCH=$a BOARD=$BOARD bash tests/damage/campaign.sh --quick \
    >"$tmp/damage.log" 2>&1
rc=$?
line=$(tail -n 1 "$tmp/damage.log")
if [ "$rc" -eq 0 ] && grep -q ', 0 invariant violations$' <<<"$line"; then
    ok "$line (a fixed sample; make damage runs more)"
else
    fail "damage" "$line (exit $rc)"
    grep -v '^damage: at point' "$tmp/damage.log" | head -n 40 |
        sed 's/^/    /'
fi
