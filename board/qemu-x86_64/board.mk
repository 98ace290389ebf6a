# board/qemu-x86_64/board.mk - keel on QEMU's x86_64 PC: keel-boot as
# /init of an initramfs under Debian's kernel, the flash on a virtio
# disk, the console on a serial line, the network on virtio-net.
#
# The HAL backends are the Linux ones: the whole disk as a blk flash
# device (hal/linux/board.c), AF_PACKET on eth0, /dev/watchdog0, stage 1
# as the system's init, reboot(2); the console is the same POSIX tty
# code as the sim board's (hal/sim/console.c takes any tty path).

BOARD_NAME := qemu-x86_64
BOARD_ARCHES := x86_64

CC_x86_64 := x86_64-linux-musl-gcc
RUN_x86_64 :=
# keel and keel-boot go into the image without their symbols.
STRIP_x86_64 := strip

HAL_SRCS := hal/linux/board.c hal/linux/blk.c hal/sim/console.c \
	hal/posix/clock.c hal/posix/rng.c hal/linux/sys.c hal/posix/sysid.c \
	hal/linux/os.c \
	hal/posix/param.c hal/posix/file.c hal/posix/io.c hal/posix/poll.c \
	hal/linux/net.c hal/linux/net_packet.c hal/linux/watchdog.c \
	hal/linux/init.c
BOARD_CFLAGS :=

# The kernel: Debian's own package for amd64, fetched by apt-get download
# (apt checks it against the archive's signed index) by
# scripts/kernel.sh, never compiled.  KERNEL_PKG is the metapackage;
# the image package it depends on is what is fetched, and its version
# and SHA-256 are recorded.  KERNEL_BOOT is what QEMU boots:
# the uncompressed ELF vmlinux, taken out of the package's bzImage
# (scripts/kernel.sh), booted through its PVH entry.
KERNEL_DEB_ARCH := amd64
KERNEL_PKG := linux-image-amd64
KERNEL_BOOT := vmlinux
# The drivers keel-boot loads (with their dependencies, from the
# package's modules.dep): virtio on PCI, the disk, the network, the
# entropy source (without it the first getrandom waits about a second
# under TCG for the kernel's random pool), the watchdog.
KERNEL_MODULES := virtio_pci virtio_blk virtio_net virtio_rng i6300esb
