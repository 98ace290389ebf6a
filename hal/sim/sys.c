/*
 * hal/sim/sys.c - the sim board: reboot, power off (name and
 * architecture: hal/posix/sysid.c).
 *
 * Reboot under keel-boot (KEEL_BOOT_SUPERVISED set) exits with
 * HAL_SYS_EXIT_REBOOT so that keel-boot chooses a slot again; run alone,
 * the program re-executes itself with the arguments it started with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hal/sys.h"

static char **sys_argv;

void
hal_sys_init(int argc, char **argv)
{
    (void)argc;
    sys_argv = argv;
}

_Noreturn void
hal_sys_reboot(void)
{
    fflush(NULL);
    if (getenv("KEEL_BOOT_SUPERVISED") != NULL || sys_argv == NULL)
        _exit(HAL_SYS_EXIT_REBOOT);
    execv("/proc/self/exe", sys_argv);
    perror("reboot: execv /proc/self/exe");
    _exit(HAL_SYS_EXIT_REBOOT);
}

_Noreturn void
hal_sys_poweroff(int status)
{
    fflush(NULL);
    exit(status);
}
