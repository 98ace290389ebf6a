/*
 * board/qemu-x86_64/opts.h - the QEMU x86_64 board's overrides of
 * keel_opts.h: where keel-boot, as /init, finds the flash, the console
 * and the network, and a watchdog timeout short enough for tests that
 * wait for it (i6300esb takes 1 to 2046 s).
 */
#ifndef BOARD_QEMU_X86_64_OPTS_H
#define BOARD_QEMU_X86_64_OPTS_H

#define HAL_LINUX_FLASH_DEV "/dev/vda"
#define HAL_LINUX_CONSOLE "/dev/ttyS0"
#define HAL_LINUX_NETIF "eth0"
#define KEEL_WATCHDOG_S 10

#endif
