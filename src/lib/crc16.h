/*
 * lib/crc16.h - CRC-16/XMODEM (polynomial 0x1021, initial 0, no
 * reflection, no final xor), table-driven: YMODEM's block check and
 * Mochimo's packet check.  Check value: crc16("123456789") = 0x31c3.
 */
#ifndef LIB_CRC16_H
#define LIB_CRC16_H

#include <stddef.h>
#include <stdint.h>

/* Pass 0 to start, the previous result to continue. */
uint16_t lib_crc16(uint16_t crc, const void *p, size_t n);

#endif
