/*
 * lib/crc16.c - CRC-16/XMODEM, a byte at a time through a table of the
 * 256 one-byte remainders, made at the first call (keel has one thread).
 */
#include "lib/crc16.h"

static uint16_t table[256];
static int table_made;

static void
make_table(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint16_t c = (uint16_t)(i << 8);

        for (int k = 0; k < 8; k++)
            c = c & 0x8000 ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
        table[i] = c;
    }
    table_made = 1;
}

uint16_t
lib_crc16(uint16_t crc, const void *p, size_t n)
{
    const uint8_t *b = p;

    if (!table_made)
        make_table();
    while (n-- > 0)
        crc = (uint16_t)(crc << 8) ^ table[(crc >> 8) ^ *b++];
    return crc;
}
