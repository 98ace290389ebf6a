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

/* A named start-up parameter of the board, or NULL when it is unset:
 * on the sim board (and Linux boards) the process environment, e.g.
 * "KEEL_SLOT" (the slot keel-boot started, "a" or "b") or
 * "KEEL_CRYPTO_NO_HW" (a test switch).  The string lives until the
 * program ends; read it at start-up, not in a loop.  Backend:
 * hal/posix/param.c. */
const char *hal_sys_param(const char *name);

/* Remember argv so that a sim reboot can re-execute the program. */
void hal_sys_init(int argc, char **argv);

_Noreturn void hal_sys_reboot(void);
_Noreturn void hal_sys_poweroff(int status);

#endif
