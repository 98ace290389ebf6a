# board/sim/board.mk - the sim board: keel as a host process.
#
# ARCH selects the static musl toolchain; the HAL backends are the sim
# ones (file-backed flash with fault injection, stdio/pty console), the
# POSIX ones for operator files, start-up parameters and the event
# loop's wait, and the Linux network backends (keel-wire's simwire
# ports, AF_PACKET) behind hal/sim/net.c.

BOARD_NAME := sim
BOARD_ARCHES := x86_64 aarch64 armhf

CC_x86_64 := x86_64-linux-musl-gcc
CC_aarch64 := aarch64-linux-musl-gcc
CC_armhf := arm-linux-musleabihf-gcc

# What runs the binary of an ARCH on this machine (empty: natively).
RUN_x86_64 :=
RUN_aarch64 := qemu-aarch64-static
RUN_armhf := qemu-arm-static

HAL_SRCS := hal/sim/board.c hal/sim/flash_sim.c hal/linux/blk.c hal/sim/console.c hal/posix/clock.c \
	hal/posix/rng.c hal/sim/sys.c hal/posix/sysid.c hal/linux/os.c \
	hal/posix/param.c \
	hal/posix/file.c hal/posix/io.c hal/posix/poll.c hal/sim/net.c \
	hal/linux/net_simwire.c hal/linux/net_packet.c hal/sim/watchdog.c \
	hal/sim/init.c
BOARD_CFLAGS :=
