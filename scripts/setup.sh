#!/usr/bin/env bash
# One-time machine setup for building and testing keel on Debian bookworm.
#
# Idempotent: a second run checks what is there and returns in about a
# second. Enables Debian source packages (deb-src) and the arm64/armhf
# foreign architectures, then installs every Debian package the build,
# the tests and the later issues (fuzzing, YMODEM, QEMU) need.  The QEMU
# boards' kernel comes from Debian's arm64/amd64 packages through apt
# (scripts/kernel.sh): kmod's depmod makes their modules.dep, xz-utils
# unpacks the amd64 bzImage.
set -euo pipefail

PKGS_NATIVE=(
    build-essential make gcc dpkg-dev file binutils xxd
    musl-tools musl-dev linux-libc-dev
    linux-libc-dev-arm64-cross linux-libc-dev-armhf-cross
    gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf
    qemu-user-static
    openssl clang clang-format libclang-rt-14-dev
    socat lrzsz picocom qemu-system-x86 qemu-system-arm
    iproute2 ethtool dnsmasq-base prometheus
    kmod xz-utils
)
PKGS_FOREIGN=(musl-dev:arm64 musl-dev:armhf)

missing_pkgs() {
    local p
    for p in "${PKGS_NATIVE[@]}" "${PKGS_FOREIGN[@]}"; do
        # One line per installed architecture; any "installed" will do.
        dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null |
            grep -qx installed || echo "$p"
    done
}

have_deb_src() {
    grep -rqsE '^(deb-src[[:space:]]|Types:.*deb-src)' \
        /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

have_arches() {
    local a
    a=$(dpkg --print-foreign-architectures 2>/dev/null || true)
    grep -qx arm64 <<<"$a" && grep -qx armhf <<<"$a"
}

missing=$(missing_pkgs)
if [ -z "$missing" ] && have_deb_src && have_arches; then
    echo "setup: everything is installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "setup: packages or settings are missing:" $missing >&2
    echo "setup: run as root:  sudo bash scripts/setup.sh" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

if ! have_deb_src; then
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        # deb822 format: add deb-src to every "Types: deb" stanza.
        sed -i -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb deb-src/' \
            /etc/apt/sources.list.d/debian.sources
    fi
    if ! have_deb_src && [ -f /etc/apt/sources.list ]; then
        grep -E '^deb[[:space:]]' /etc/apt/sources.list |
            sed -E 's/^deb([[:space:]])/deb-src\1/' \
                >/etc/apt/sources.list.d/keel-deb-src.list
    fi
    if ! have_deb_src; then
        echo "setup: could not enable deb-src; add deb-src lines for" \
            "bookworm to /etc/apt/sources.list by hand" >&2
        exit 1
    fi
    echo "setup: enabled Debian source packages (deb-src)"
fi

if ! have_arches; then
    dpkg --add-architecture arm64
    dpkg --add-architecture armhf
    echo "setup: added foreign architectures arm64 and armhf"
fi

# A mirror in mid-sync can fail one index; retry, then go on with the
# lists we have (the install below says clearly if a package is missing).
for try in 1 2 3; do
    apt-get update -q && break
    echo "setup: apt-get update failed (try $try of 3)" >&2
    sleep $((try * 5))
done
# shellcheck disable=SC2046
apt-get install -y -q --no-install-recommends \
    "${PKGS_NATIVE[@]}" "${PKGS_FOREIGN[@]}"

missing=$(missing_pkgs)
if [ -n "$missing" ]; then
    echo "setup: still missing after install:" $missing >&2
    exit 1
fi
echo "setup: done"
