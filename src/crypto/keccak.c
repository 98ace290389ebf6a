/*
 * crypto/keccak.c - Keccak-f[1600] and the two 256-bit sponges peach's
 * nighthash uses: SHA3-256 (FIPS 202, domain bits 01 then pad10*1) and
 * Keccak-256 (the original submission's padding, pad10*1 alone).
 *
 * Neither BearSSL 0.6 nor mbedTLS 2.28 has them, so keel has its own:
 * the permutation as FIPS 202 section 3 specifies it (theta, rho, pi,
 * chi, iota over 24 rounds), lanes loaded little-endian, rate 136 bytes
 * for a 256-bit output.  Checked against the FIPS 202 examples and the
 * Keccak team's known answers in tests/vectors/ (test_crypto.c).
 */
#include <string.h>

#include "crypto/crypto.h"

static const uint64_t rc[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808aull,
    0x8000000080008000ull, 0x000000000000808bull, 0x0000000080000001ull,
    0x8000000080008081ull, 0x8000000000008009ull, 0x000000000000008aull,
    0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000aull,
    0x000000008000808bull, 0x800000000000008bull, 0x8000000000008089ull,
    0x8000000000008003ull, 0x8000000000008002ull, 0x8000000000000080ull,
    0x000000000000800aull, 0x800000008000000aull, 0x8000000080008081ull,
    0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

/* rho and pi walked as one cycle over the 24 lanes other than (0,0):
 * lane pi_lane[i] receives the previous one rotated by rho_rot[i]
 * (FIPS 202 3.2.2 and 3.2.3, unrolled into their single cycle). */
static const uint8_t pi_lane[24] = {10, 7,  11, 17, 18, 3,  5,  16,
                                    8,  21, 24, 4,  15, 23, 19, 13,
                                    12, 2,  20, 14, 22, 9,  6,  1};
static const uint8_t rho_rot[24] = {1,  3,  6,  10, 15, 21, 28, 36,
                                    45, 55, 2,  14, 27, 41, 56, 8,
                                    25, 43, 62, 18, 39, 61, 20, 44};

static uint64_t
rol(uint64_t v, unsigned n)
{
    return v << n | v >> (64 - n);
}

static void
keccak_f(uint64_t a[25])
{
    for (int r = 0; r < 24; r++) {
        uint64_t c[5], t;

        /* theta */
        for (int x = 0; x < 5; x++)
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (int x = 0; x < 5; x++) {
            uint64_t d = c[x == 0 ? 4 : x - 1] ^ rol(c[x == 4 ? 0 : x + 1], 1);

            a[x] ^= d;
            a[x + 5] ^= d;
            a[x + 10] ^= d;
            a[x + 15] ^= d;
            a[x + 20] ^= d;
        }
        /* rho and pi */
        t = a[1];
        for (int i = 0; i < 24; i++) {
            uint64_t next = a[pi_lane[i]];

            a[pi_lane[i]] = rol(t, rho_rot[i]);
            t = next;
        }
        /* chi, a row at a time */
        for (int y = 0; y < 25; y += 5) {
            uint64_t r0 = a[y], r1 = a[y + 1], r2 = a[y + 2], r3 = a[y + 3],
                     r4 = a[y + 4];

            a[y] = r0 ^ (~r1 & r2);
            a[y + 1] = r1 ^ (~r2 & r3);
            a[y + 2] = r2 ^ (~r3 & r4);
            a[y + 3] = r3 ^ (~r4 & r0);
            a[y + 4] = r4 ^ (~r0 & r1);
        }
        /* iota */
        a[0] ^= rc[r];
    }
}

static void
sponge256(const void *data, size_t len, uint8_t pad,
          uint8_t out[CRYPTO_SHA256_LEN])
{
    enum { RATE = 136 };
    const uint8_t *p = data;
    uint64_t a[25];
    uint8_t block[RATE];

    memset(a, 0, sizeof(a));
    for (;;) {
        size_t n = len < RATE ? len : RATE;

        memcpy(block, p, n);
        if (n < RATE) {
            /* the last, partial block: pad and absorb, then stop */
            memset(block + n, 0, RATE - n);
            block[n] ^= pad;
            block[RATE - 1] ^= 0x80;
        }
        for (int i = 0; i < RATE / 8; i++) {
            uint64_t lane = 0;

            for (int j = 7; j >= 0; j--)
                lane = lane << 8 | block[8 * i + j];
            a[i] ^= lane;
        }
        keccak_f(a);
        if (n < RATE)
            break;
        p += n;
        len -= n;
    }
    for (int i = 0; i < CRYPTO_SHA256_LEN; i++)
        out[i] = (uint8_t)(a[i / 8] >> (8 * (i % 8)));
}

void
crypto_sha3_256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN])
{
    sponge256(data, len, 0x06, out);
}

void
crypto_keccak_256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN])
{
    sponge256(data, len, 0x01, out);
}
