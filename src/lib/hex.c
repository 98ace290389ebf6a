/*
 * lib/hex.c - the one hex codec (see hex.h).
 */
#include <errno.h>

#include "lib/hex.h"

static int
nibble(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

int
lib_hex_decode(const char *h, size_t n, uint8_t *out, size_t cap)
{
    if (n % 2 != 0 || n / 2 > cap)
        return -EINVAL;
    for (size_t i = 0; i < n; i += 2) {
        int a = nibble(h[i]), b = nibble(h[i + 1]);

        if (a < 0 || b < 0)
            return -EINVAL;
        out[i / 2] = (uint8_t)(a << 4 | b);
    }
    return (int)(n / 2);
}

void
lib_hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}
