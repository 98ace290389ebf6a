/* hal/posix/rng.c - entropy from getrandom(2), which blocks until
 * seeded; every board on Linux. */
#include <errno.h>
#include <stdint.h>
#include <sys/random.h>

#include "hal/rng.h"

int
hal_rng_fill(void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
