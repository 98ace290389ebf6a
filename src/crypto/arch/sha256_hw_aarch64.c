/*
 * crypto/arch/sha256_hw_aarch64.c - SHA-256 compression with the ARMv8
 * Cryptographic Extensions, chosen by the build for aarch64.
 *
 * The state needs no reordering: SHA256H/SHA256H2 take ABCD and EFGH as
 * they are, SHA256SU0/SU1 extend the schedule.  Used only when AT_HWCAP
 * says the CPU has SHA2.
 */
#include <stddef.h>
#include <stdint.h>

#include "crypto/sha256_hw.h"

#include <arm_neon.h>
#include <sys/auxv.h>

#define HWCAP_SHA2_BIT (1ul << 6) /* AT_HWCAP on arm64 Linux */

int
sha256_hw_available(void)
{
    return (getauxval(AT_HWCAP) & HWCAP_SHA2_BIT) != 0;
}

__attribute__((target("arch=armv8-a+crypto"))) void
sha256_hw_blocks(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    uint32x4_t abcd = vld1q_u32(h), efgh = vld1q_u32(h + 4);

    while (nblocks-- > 0) {
        uint32x4_t abcd0 = abcd, efgh0 = efgh, w[4];

        for (int i = 0; i < 4; i++)
            w[i] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 16 * i)));
        for (int g = 0; g < 16; g++) {
            uint32x4_t wk = vaddq_u32(w[g & 3], vld1q_u32(sha256_hw_k + 4 * g));
            uint32x4_t prev = abcd;

            abcd = vsha256hq_u32(abcd, efgh, wk);
            efgh = vsha256h2q_u32(efgh, prev, wk);
            if (g < 12)
                /* W[4g+16..4g+19] from W[4g..4g+15] */
                w[g & 3] =
                    vsha256su1q_u32(vsha256su0q_u32(w[g & 3], w[(g + 1) & 3]),
                                    w[(g + 2) & 3], w[(g + 3) & 3]);
        }
        abcd = vaddq_u32(abcd, abcd0);
        efgh = vaddq_u32(efgh, efgh0);
        p += 64;
    }
    vst1q_u32(h, abcd);
    vst1q_u32(h + 4, efgh);
}
