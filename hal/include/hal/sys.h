/*
 * hal/sys.h - the board itself: identity, reboot, power off.
 *
 * hal_sys_reboot() and hal_sys_poweroff() do not return.  On the sim
 * board, reboot hands control back to keel-boot when keel runs under it
 * (the environment variable KEEL_BOOT_SUPERVISED is set) by exiting with
 * HAL_SYS_EXIT_REBOOT, and otherwise re-executes the program; poweroff
 * exits with the given status.  On Linux boards they call reboot(2).
 */
#ifndef HAL_SYS_H
#define HAL_SYS_H

#define HAL_SYS_EXIT_REBOOT 100

/* Board name ("sim", "qemu-x86_64", ...) and CPU architecture. */
const char *hal_sys_board(void);
const char *hal_sys_arch(void);

/* Remember argv so that a sim reboot can re-execute the program. */
void hal_sys_init(int argc, char **argv);

_Noreturn void hal_sys_reboot(void);
_Noreturn void hal_sys_poweroff(int status);

#endif
