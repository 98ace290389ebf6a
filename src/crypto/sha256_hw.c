/*
 * crypto/sha256_hw.c - SHA-256 compression with the CPU's SHA
 * instructions, used by crypto_sha256_*() when the CPU has them: the x86
 * SHA extensions (SHA-NI) on x86_64, the ARMv8 Cryptographic Extensions
 * on aarch64.
 *
 * The compression function only: buffering, padding and the length are
 * sha256.c's.  The state is kept as the two registers the instructions
 * want (ABEF and CDGH); the message schedule runs four words at a time
 * with SHA256MSG1/MSG2, and each SHA256RNDS2 does two rounds (FIPS 180-4
 * section 6.2, as Intel's SHA extensions paper maps it).  Checked against
 * the same CAVP vectors as BearSSL's path (test_crypto.c runs both).
 * On aarch64 the state needs no reordering: SHA256H/SHA256H2 take ABCD
 * and EFGH as they are, SHA256SU0/SU1 extend the schedule.  Elsewhere
 * (armhf: ARMv7 has no SHA instructions) this file says "not available".
 */
#include <stddef.h>
#include <stdint.h>

#include "crypto/sha256_hw.h"

#if (defined(__x86_64__) || defined(__aarch64__)) && defined(__GNUC__)
/* FIPS 180-4 4.2.2: the round constants, four per instruction group. */
static const uint32_t k256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};
#endif

#if defined(__x86_64__) && defined(__GNUC__)

#include <cpuid.h>
#include <immintrin.h>

int
sha256_hw_available(void)
{
    unsigned a, b, c, d;

    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) ||
        !(c & bit_SSE4_1))
        return 0;
    if (__get_cpuid_max(0, NULL) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 29)) != 0; /* CPUID.7.0:EBX.SHA */
}

__attribute__((target("sha,sse4.1,ssse3"))) void
sha256_hw_blocks(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    const __m128i bswap =
        _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
    __m128i abef, cdgh, t;

    /* h[0..3] = A B C D and h[4..7] = E F G H into ABEF and CDGH */
    t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h), 0xb1);
    cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(h + 4)), 0x1b);
    abef = _mm_alignr_epi8(t, cdgh, 8);
    cdgh = _mm_blend_epi16(cdgh, t, 0xf0);

    while (nblocks-- > 0) {
        __m128i w[4], save_abef = abef, save_cdgh = cdgh;

        for (int i = 0; i < 4; i++)
            w[i] = _mm_shuffle_epi8(
                _mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
        for (int g = 0; g < 16; g++) {
            __m128i m = _mm_add_epi32(
                w[g & 3], _mm_loadu_si128((const __m128i *)(k256 + 4 * g)));

            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m);
            abef =
                _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m, 0x0e));
            if (g < 12) {
                /* W[4g+16..4g+19] from W[4g..4g+15] */
                __m128i s = _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]);

                s = _mm_add_epi32(
                    s, _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4));
                w[g & 3] = _mm_sha256msg2_epu32(s, w[(g + 3) & 3]);
            }
        }
        abef = _mm_add_epi32(abef, save_abef);
        cdgh = _mm_add_epi32(cdgh, save_cdgh);
        p += 64;
    }
    /* back to A B C D and E F G H */
    t = _mm_shuffle_epi32(abef, 0x1b);
    cdgh = _mm_shuffle_epi32(cdgh, 0xb1);
    _mm_storeu_si128((__m128i *)h, _mm_blend_epi16(t, cdgh, 0xf0));
    _mm_storeu_si128((__m128i *)(h + 4), _mm_alignr_epi8(cdgh, t, 8));
}

#elif defined(__aarch64__) && defined(__GNUC__)

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
            uint32x4_t wk = vaddq_u32(w[g & 3], vld1q_u32(k256 + 4 * g));
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

#else

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

#endif
