#!/usr/bin/env bash
# scripts/kernel.sh - Debian's own kernel for a QEMU board, never compiled.
#
#   scripts/kernel.sh DEB_ARCH METAPACKAGE BOOT OUTDIR MODULE...
#
# Fetches the kernel image package that METAPACKAGE (linux-image-amd64,
# linux-image-arm64) depends on with `apt-get download`, which checks
# the .deb against the archive's signed index, and makes in OUTDIR:
#   kernel.deb   the package as fetched (kept: a second run reuses it
#                while its SHA-256 still matches the index)
#   kernel.txt   one line: package, version, architecture, SHA-256
#   BOOT         what QEMU boots: "vmlinux", the uncompressed ELF taken
#                out of the package's bzImage (booted through its PVH
#                entry; the note is checked), or "Image", the arm64
#                Image (gunzipped when the package compressed it)
#   modules/     each MODULE and what it needs (from modules.dep, made
#                by depmod over the unpacked package), as plain .ko
#   modules.load their paths in the initramfs, in load order
# The package's version and SHA-256 are printed too.  Needs apt, dpkg-deb,
# depmod (kmod), readelf (binutils) and the decompressors (xz-utils, gzip,
# zstd, bzip2, lz4, lzop as the kernel needs); scripts/setup.sh installs
# them.
set -euo pipefail

if [ $# -lt 4 ]; then
    echo "usage: $0 DEB_ARCH METAPACKAGE vmlinux|Image OUTDIR MODULE..." >&2
    exit 2
fi
arch=$1 meta=$2 boot=$3 out=$4
shift 4
mkdir -p "$out"
out=$(cd "$out" && pwd)
say() { echo "kernel: $*"; }
die() {
    echo "kernel: $*" >&2
    exit 1
}

# --- which package, which version --------------------------------------
pkg=$(apt-cache depends "$meta:$arch" 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[^ :]*\).*/\1/p' | head -n 1)
[ -n "$pkg" ] || die "apt knows no $meta for $arch; run scripts/setup.sh" \
    "(it adds the $arch architecture and updates the package lists)"
show=$(apt-cache show --no-all-versions "$pkg:$arch" 2>/dev/null) ||
    die "apt has no $pkg:$arch"
ver=$(sed -n 's/^Version: //p' <<<"$show" | head -n 1)
want=$(sed -n 's/^SHA256: //p' <<<"$show" | head -n 1)
[ -n "$ver" ] && [ -n "$want" ] || die "no version or SHA256 for $pkg:$arch"

deb=$out/kernel.deb
have=$( [ -f "$deb" ] && sha256sum "$deb" | cut -d' ' -f1 || true)
if [ "$have" != "$want" ]; then
    say "fetching $pkg $ver ($arch) with apt-get download"
    rm -rf "$out/dl" && mkdir -p "$out/dl"
    (cd "$out/dl" && apt-get download -q -o APT::Sandbox::User=root \
        "$pkg:$arch=$ver" >/dev/null) ||
        die "apt-get download $pkg:$arch=$ver failed"
    mv "$out"/dl/*.deb "$deb"
    rm -rf "$out/dl"
    have=$(sha256sum "$deb" | cut -d' ' -f1)
    [ "$have" = "$want" ] || die "$pkg: SHA-256 $have, the index says $want"
fi
echo "$pkg $ver $arch sha256:$have" >"$out/kernel.txt.new"
say "$pkg $ver ($arch), sha256 $have"

# Unpacked once per package: the stamp names what is there.
if ! cmp -s "$out/kernel.txt.new" "$out/root.stamp" 2>/dev/null; then
    rm -rf "$out/root"
    mkdir -p "$out/root"
    dpkg-deb -x "$deb" "$out/root"
    cp "$out/kernel.txt.new" "$out/root.stamp"
fi
root=$out/root
kver=$(ls "$root/lib/modules")
[ "$(wc -w <<<"$kver")" -eq 1 ] || die "expected one module tree, got: $kver"
vmlinuz=$root/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "no /boot/vmlinuz-$kver in $pkg"

# --- the kernel QEMU boots -------------------------------------------------
is_elf() { [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }

# The kernel's scripts/extract-vmlinux, redone: find each compressed
# stream's magic in the bzImage and keep the first that unpacks to an
# ELF file.
extract_vmlinux() { # bzImage output
    local img=$1 dst=$2 magic cmd off
    while read -r magic cmd; do
        for off in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1); do
            tail -c +$((off + 1)) "$img" | $cmd >"$dst.tmp" 2>/dev/null || true
            if [ -s "$dst.tmp" ] && is_elf "$dst.tmp"; then
                mv "$dst.tmp" "$dst"
                return 0
            fi
        done
    done <<'EOF'
\x1f\x8b\x08 gzip -dc
\xfd7zXZ\x00 xz -dc
BZh bzip2 -dc
\x5d\x00\x00\x00 xz -dc --format=lzma
\x89\x4c\x5a lzop -dc
\x02\x21\x4c\x18 lz4 -dc
\x28\xb5\x2f\xfd zstd -dc
EOF
    rm -f "$dst.tmp"
    return 1
}

case $boot in
vmlinux)
    extract_vmlinux "$vmlinuz" "$out/vmlinux" ||
        die "no ELF vmlinux found inside $vmlinuz"
    # XEN_ELFNOTE_PHYS32_ENTRY (18): the PVH entry QEMU's -kernel uses.
    if ! readelf -n "$out/vmlinux" |
        grep -qE '^ *Xen .*(\(0x00000012\)|PHYS32)'; then
        die "$pkg's vmlinux has no PVH entry note (CONFIG_PVH); boot" \
            "its bzImage instead"
    fi
    ;;
Image)
    if [ "$(head -c 2 "$vmlinuz" | od -An -tx1 | tr -d ' \n')" = 1f8b ]; then
        gzip -dc "$vmlinuz" >"$out/Image"
    else
        cp "$vmlinuz" "$out/Image"
    fi
    # The arm64 Image header's magic "ARM\x64" at byte 56.
    [ "$(tail -c +57 "$out/Image" | head -c 4 | od -An -tx1 | tr -d ' \n')" = 41524d64 ] ||
        die "$vmlinuz is not an arm64 Image"
    ;;
*)
    die "unknown boot file '$boot' (vmlinux or Image)"
    ;;
esac
say "$boot: $(stat -c %s "$out/$boot") bytes"

# --- the modules and their dependencies -----------------------------------
depmod=$(command -v depmod || echo /usr/sbin/depmod)
[ -x "$depmod" ] || die "depmod not found (Debian package kmod; scripts/setup.sh)"
[ -s "$root/lib/modules/$kver/modules.dep" ] || "$depmod" -b "$root" "$kver"
dep=$root/lib/modules/$kver/modules.dep
rm -rf "$out/modules" && mkdir -p "$out/modules"
: >"$out/modules.load"
declare -A done_=()
add() { # path (relative to the module tree), after what it needs
    local p=$1 d
    [ -z "${done_[$p]:-}" ] || return 0
    done_[$p]=1
    for d in $(grep -m 1 "^$p:" "$dep" | cut -d: -f2); do
        add "$d"
    done
    cp "$root/lib/modules/$kver/$p" "$out/modules/"
    echo "/lib/modules/$(basename "$p")" >>"$out/modules.load"
}
for m in "$@"; do
    p=$(grep -m 1 -E "(^|/)${m//_/[_-]}\.ko:" "$dep" | cut -d: -f1 || true)
    if [ -z "$p" ]; then
        grep -qE "(^|/)${m//_/[_-]}\.ko$" \
            "$root/lib/modules/$kver/modules.builtin" 2>/dev/null &&
            continue # built into this kernel
        die "module $m is not in $pkg"
    fi
    add "$p"
done
say "modules: $(sed 's|.*/||; s|\.ko$||' "$out/modules.load" | tr '\n' ' ')"
mv "$out/kernel.txt.new" "$out/kernel.txt"
