#!/usr/bin/env bash
# Print text/data/bss and the stripped file size of each binary given.
# Usage: scripts/size.sh BINARY...   (architecture read from the ELF)
set -euo pipefail
# scripts/size.sh --files FILE...: each file's size in bytes (the QEMU
# boards' slot image, bundle, initramfs and kernel).
if [ "${1:-}" = --files ]; then
    shift
    printf '%-36s %11s\n' file bytes
    for f in "$@"; do
        printf '%-36s %11s\n' "$f" "$(stat -c %s "$f")"
    done
    exit 0
fi
printf '%-28s %-8s %9s %7s %7s %11s\n' binary arch text data bss stripped
for b in "$@"; do
    case $(file -b "$b") in
    *x86-64*) arch=x86_64 pfx= ;;
    *aarch64*) arch=aarch64 pfx=aarch64-linux-gnu- ;;
    *ARM*) arch=armhf pfx=arm-linux-gnueabihf- ;;
    *) echo "size: $b: unknown architecture" >&2; exit 1 ;;
    esac
    read -r text data bss _ < <("${pfx}size" "$b" | tail -n 1)
    tmp=$(mktemp)
    "${pfx}strip" -o "$tmp" "$b"
    stripped=$(stat -c %s "$tmp")
    rm -f "$tmp"
    printf '%-28s %-8s %9s %7s %7s %11s\n' "$b" "$arch" "$text" "$data" \
        "$bss" "$stripped"
done
