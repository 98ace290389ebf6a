/*
 * hal/posix/io.c - writing a whole buffer (see io.h).
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "posix/io.h"

int
posix_write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
