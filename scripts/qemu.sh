#!/usr/bin/env bash
# scripts/qemu.sh - boot a QEMU board's image: Debian's kernel, the
# initramfs with keel-boot as /init, the flash image as a virtio disk,
# the serial console on this terminal, QEMU's user networking.
#
#   scripts/qemu.sh BOARD [OPTIONS] [-- QEMU-ARGS...]
#
#   --dir DIR       where `make image` put the kernel and initramfs
#                   (default build/BOARD)
#   --flash FILE    the disk (default DIR/run.img; `make run` copies
#                   DIR/flash.img there when the image is newer)
#   --mem MIB       guest memory (default 256)
#   --port N        forward 127.0.0.1:N on this host to the node's peer
#                   port (7950); 0: no forward (default)
#   --serial MODE   mux: the console and QEMU's monitor on this terminal,
#                   Ctrl-A X quits (default); stdio: the console only,
#                   8-bit clean, Ctrl-C goes to the node (tests; quit by
#                   stopping QEMU); pty: a new pseudo-terminal, named on
#                   stderr, for picocom or sz
#   --restrict      the guest reaches nothing but the forwarded port
#   --pidfile FILE  QEMU writes its pid there
#   --append TEXT   more kernel command line
# The CPU is emulated (TCG), as docs/BENCH.md's figures are.
#
# QEMU replaces this script (exec): its pid is the script's.  Only
# 127.0.0.1 is ever forwarded.
set -euo pipefail

if [ $# -lt 1 ] || [ ! -f "board/$1/qemu.env" ]; then
    echo "usage: $0 BOARD [options] [-- qemu args]; BOARD is one of:" \
        $(ls board/*/qemu.env 2>/dev/null | cut -d/ -f2) >&2
    exit 2
fi
board=$1
shift
# shellcheck source=/dev/null
. "board/$board/qemu.env"
dir=build/$board flash= mem=256 port=0 serial=mux restrict=off pidfile=
append=
while [ $# -gt 0 ]; do
    case $1 in
    --dir) dir=$2; shift 2 ;;
    --flash) flash=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --serial) serial=$2; shift 2 ;;
    --restrict) restrict=on; shift ;;
    --pidfile) pidfile=$2; shift 2 ;;
    --append) append=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "$0: unknown option $1" >&2; exit 2 ;;
    esac
done
flash=${flash:-$dir/run.img}
for f in "$dir/$QEMU_KERNEL" "$dir/initramfs.cpio" "$flash"; do
    if [ ! -f "$f" ]; then
        echo "$0: $f is missing; run 'make image BOARD=$board'" >&2
        exit 1
    fi
done
case $port in
'' | *[!0-9]*) echo "$0: --port wants a number" >&2; exit 2 ;;
esac

net="user,id=n0,restrict=$restrict"
[ "$port" -eq 0 ] || net="$net,hostfwd=tcp:127.0.0.1:$port-:7950"
case $serial in
mux) con=(-serial mon:stdio) ;;
stdio) con=(-chardev stdio,id=s0,signal=off -serial chardev:s0) ;;
pty) con=(-serial pty) ;;
*) echo "$0: --serial is mux, stdio or pty" >&2; exit 2 ;;
esac
extra=()
[ -z "$pidfile" ] || extra+=(-pidfile "$pidfile")

# shellcheck disable=SC2086
exec $QEMU $QEMU_MACHINE -accel tcg -m "$mem" \
    -display none -monitor none "${con[@]}" \
    -kernel "$dir/$QEMU_KERNEL" -initrd "$dir/initramfs.cpio" \
    -append "console=$QEMU_CONSOLE quiet loglevel=2 panic=5 $append" \
    -drive "file=$flash,format=raw,if=none,id=d0,cache=unsafe" \
    -device virtio-blk-pci,drive=d0 \
    -netdev "$net" -device virtio-net-pci,netdev=n0 \
    -device virtio-rng-pci -device i6300esb -action watchdog=reset \
    "${extra[@]}" "$@"
