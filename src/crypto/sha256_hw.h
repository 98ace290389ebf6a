/*
 * crypto/sha256_hw.h - SHA-256 compression in hardware, where the CPU
 * has it: one file per architecture in crypto/arch/, chosen by the build
 * (x86_64: SHA-NI; aarch64: ARMv8 SHA2; armhf: none).  The compression
 * function only: buffering, padding and the length are sha256.c's.
 * Internal to src/crypto/.
 */
#ifndef CRYPTO_SHA256_HW_H
#define CRYPTO_SHA256_HW_H

#include <stddef.h>
#include <stdint.h>

/* 1 when this CPU runs sha256_hw_blocks(); decided at run time. */
int sha256_hw_available(void);
/* The round constants the hardware paths add in (sha256_k.c). */
extern const uint32_t sha256_hw_k[64];
void sha256_hw_blocks(uint32_t h[8], const uint8_t *p, size_t nblocks);

#endif
