/* hal/sim/watchdog.c - the sim board has no watchdog (hal/watchdog.h). */
#include <errno.h>

#include "hal/watchdog.h"

int
hal_watchdog_open(unsigned timeout_s)
{
    (void)timeout_s;
    return -ENODEV;
}

void
hal_watchdog_kick(void)
{
}

void
hal_watchdog_release(void)
{
}
