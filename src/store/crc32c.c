/* store/crc32c.c - table-driven CRC-32C, slicing by 4. */
#include "store/crc32c.h"

static uint32_t tab[4][256];
static int tab_ready;

static void
tab_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 4; t++)
            tab[t][i] = (tab[t - 1][i] >> 8) ^ tab[0][tab[t - 1][i] & 0xff];
    tab_ready = 1;
}

uint32_t
crc32c(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;

    if (!tab_ready)
        tab_init();
    crc = ~crc;
    while (len >= 4) {
        crc ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
               (uint32_t)p[3] << 24;
        crc = tab[3][crc & 0xff] ^ tab[2][(crc >> 8) & 0xff] ^
              tab[1][(crc >> 16) & 0xff] ^ tab[0][crc >> 24];
        p += 4;
        len -= 4;
    }
    while (len--)
        crc = (crc >> 8) ^ tab[0][(crc ^ *p++) & 0xff];
    return ~crc;
}
