/*
 * crypto/arch/sha256_hw_armhf.c - ARMv7 has no SHA instructions: the
 * portable path (BearSSL's) always runs.
 */
#include <stddef.h>
#include <stdint.h>

#include "crypto/sha256_hw.h"

int
sha256_hw_available(void)
{
    return 0;
}

void
sha256_hw_blocks(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    (void)h;
    (void)p;
    (void)nblocks;
}
