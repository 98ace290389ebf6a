/*
 * lib/crc32c.h - CRC-32C (Castagnoli, reflected polynomial 0x82f63b78),
 * the checksum of every record keel writes to flash.
 *
 * lib_crc32c(0, data, len) is the standard CRC-32C (check value for
 * "123456789": 0xe3069283); pass a previous result to continue.
 */
#ifndef LIB_CRC32C_H
#define LIB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t lib_crc32c(uint32_t crc, const void *data, size_t len);

/* The slicing tables (constants; exposed so a test can recompute them). */
extern const uint32_t lib_crc32c_tab[4][256];

#endif
