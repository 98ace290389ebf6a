# tests/net_kernel.sh - keel on the AF_PACKET backend against the kernel
# and openssl, in a network namespace of its own (unshare -Urn): kernel
# TLS interop both ways, and the bad peers (garbage, stalls, slow bytes,
# bad frames, a connection burst).  Sourced by tests/run.sh (ok, fail,
# skip, $tmp, $BOARD, $HOST_ARCH); tests/net/kernel_inner.sh does the
# work inside the namespace.
# shellcheck shell=bash

nk_run() {
    local keel=build/$BOARD-$HOST_ARCH/keel line c
    local dir=$tmp/net_kernel
    mkdir -p "$dir"
    for c in unshare ip openssl socat xxd; do
        if ! command -v $c >/dev/null; then
            skip "net_kernel" "$c is not installed (scripts/setup.sh)"
            return 0
        fi
    done
    if ! unshare -Urn true 2>/dev/null; then
        skip "net_kernel" "no network namespace here (unshare -Urn)"
        return 0
    fi
    timeout 240 unshare -Urn bash tests/net/kernel_inner.sh "$dir" \
        "$PWD/$keel" >"$dir/out" 2>&1
    while IFS= read -r line; do
        case $line in
        "ok - "*) ok "${line#ok - }" ;;
        "FAIL - "*) fail "${line#FAIL - }" ;;
        "SKIP - "*) skip "${line#SKIP - }" ;;
        esac
    done <"$dir/out"
    if ! grep -q '^ok - ' "$dir/out"; then
        fail "net_kernel: nothing ran" "$(tail -n 5 "$dir/out")"
    fi
}
nk_run
