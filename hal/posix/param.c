/* hal/posix/param.c - start-up parameters from the environment (see
 * hal/sys.h). */
#include <stdlib.h>

#include "hal/sys.h"

const char *
hal_sys_param(const char *name)
{
    return getenv(name);
}
