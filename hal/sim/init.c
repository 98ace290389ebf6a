/* hal/sim/init.c - the sim board's stage 1 is never the system's first
 * program (hal/init.h). */
#include <errno.h>

#include "hal/init.h"

int
hal_init_is_system(void)
{
    return 0;
}

int
hal_init_system(struct hal_init *out, const char **why)
{
    (void)out;
    *why = "the sim board runs on a host; there is no system to start";
    return -ENOSYS;
}
