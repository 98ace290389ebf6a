/*
 * lib/crc16.c - CRC-16/XMODEM, a byte at a time through a table of the
 * 256 one-byte remainders (computed at compile time below).
 */
#include "lib/crc16.h"

#define R1(c) ((uint16_t)((c) & 0x8000 ? ((c) << 1) ^ 0x1021 : (c) << 1))
#define R8(c) R1(R1(R1(R1(R1(R1(R1(R1((uint16_t)(c))))))))
#define T4(n) R8((n) << 8), R8((n + 1) << 8), R8((n + 2) << 8), R8((n + 3) << 8)
#define T16(n) T4(n), T4(n + 4), T4(n + 8), T4(n + 12)
#define T64(n) T16(n), T16(n + 16), T16(n + 32), T16(n + 48)

static const uint16_t table[256] = {T64(0), T64(64), T64(128), T64(192)};

uint16_t
lib_crc16(uint16_t crc, const void *p, size_t n)
{
    const uint8_t *b = p;

    while (n-- > 0)
        crc = (uint16_t)(crc << 8) ^ table[(crc >> 8) ^ *b++];
    return crc;
}
