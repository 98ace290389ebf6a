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

/* Rotation offsets r[x + 5y] (FIPS 202 table 2). */
static const unsigned rot[25] = {
    0,  1,  62, 28, 27, 36, 44, 6,  55, 20, 3,  10, 43,
    25, 39, 41, 45, 15, 21, 8,  18, 2,  61, 56, 14,
};

static uint64_t
rol(uint64_t v, unsigned n)
{
    return n == 0 ? v : v << n | v >> (64 - n);
}

static void
keccak_f(uint64_t a[25])
{
    for (int r = 0; r < 24; r++) {
        uint64_t c[5], d, b[25];

        /* theta */
        for (int x = 0; x < 5; x++)
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (int x = 0; x < 5; x++) {
            d = c[(x + 4) % 5] ^ rol(c[(x + 1) % 5], 1);
            for (int y = 0; y < 25; y += 5)
                a[x + y] ^= d;
        }
        /* rho and pi: B[y, 2x + 3y] = rot(A[x, y], r[x, y]) */
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                b[y + 5 * ((2 * x + 3 * y) % 5)] =
                    rol(a[x + 5 * y], rot[x + 5 * y]);
        /* chi */
        for (int y = 0; y < 25; y += 5)
            for (int x = 0; x < 5; x++)
                a[x + y] =
                    b[x + y] ^ (~b[(x + 1) % 5 + y] & b[(x + 2) % 5 + y]);
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
    crypto_wipe(a, sizeof(a));
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
