/*
 * crypto/sha256_hw.h - SHA-256 compression in hardware, where the CPU
 * has it (x86 SHA extensions).  Internal to src/crypto/.
 */
#ifndef CRYPTO_SHA256_HW_H
#define CRYPTO_SHA256_HW_H

#include <stddef.h>
#include <stdint.h>

int sha256_hw_available(void);
void sha256_hw_blocks(uint32_t h[8], const uint8_t *p, size_t nblocks);

#endif
