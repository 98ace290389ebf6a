/*
 * hal/linux/sys.c - a Linux board: reboot and power off (hal/sys.h;
 * the name and architecture are hal/posix/sysid.c).
 *
 * Only the system's first program (keel-boot as /init, PID 1) calls
 * reboot(2).  The node runs under it and returns to it with exit status
 * HAL_SYS_EXIT_REBOOT, which keel-boot turns into a reboot; so does a
 * node started by hand, which on a build machine must never reboot the
 * machine it was tried on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "hal/sys.h"

void
hal_sys_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
}

/* As PID 1: everything written reaches the disk, then the kernel stops
 * or restarts the machine.  reboot(2) returns only on failure; PID 1
 * must not exit (the kernel would panic), so it waits for the watchdog
 * or a power cycle. */
static _Noreturn void
sys_down(int cmd)
{
    fflush(NULL);
    sync();
    (void)reboot(cmd);
    perror("keel-boot: reboot(2)");
    for (;;)
        pause();
}

_Noreturn void
hal_sys_reboot(void)
{
    if (getpid() == 1)
        sys_down(RB_AUTOBOOT);
    fflush(NULL);
    _exit(HAL_SYS_EXIT_REBOOT);
}

_Noreturn void
hal_sys_poweroff(int status)
{
    if (getpid() == 1)
        sys_down(RB_POWER_OFF);
    fflush(NULL);
    exit(status);
}
