/*
 * crypto/arch/sha256_hw_x86_64.c - SHA-256 compression with the x86 SHA
 * extensions (SHA-NI), chosen by the build for x86_64.
 *
 * The state is kept as the two registers the instructions want (ABEF
 * and CDGH); the message schedule runs four words at a time with
 * SHA256MSG1/MSG2, and each SHA256RNDS2 does two rounds (FIPS 180-4
 * section 6.2, as Intel's SHA extensions paper maps it).  Checked
 * against the same CAVP vectors as BearSSL's path (test_crypto.c runs
 * both).
 */
#include <stddef.h>
#include <stdint.h>

#include "crypto/sha256_hw.h"

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

#pragma GCC unroll 4
        for (int i = 0; i < 4; i++)
            w[i] = _mm_shuffle_epi8(
                _mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
#pragma GCC unroll 16
        for (int g = 0; g < 16; g++) {
            __m128i m = _mm_add_epi32(
                w[g & 3],
                _mm_loadu_si128((const __m128i *)(sha256_hw_k + 4 * g)));

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
