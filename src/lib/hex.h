/*
 * lib/hex.h - the one hex codec (leaf library: no dependencies).
 *
 * Decode takes n characters (upper or lower case, an even count) into
 * at most cap bytes; encode writes lowercase with a terminating NUL
 * (2 * n + 1 bytes).
 */
#ifndef LIB_HEX_H
#define LIB_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The byte count (n / 2), or -EINVAL (odd count, a non-hex character,
 * more than cap bytes). */
int lib_hex_decode(const char *h, size_t n, uint8_t *out, size_t cap);

void lib_hex_encode(const uint8_t *p, size_t n, char *out);

#endif
