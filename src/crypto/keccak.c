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
#include "lib/le.h"

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

static uint64_t
rol(uint64_t v, unsigned n)
{
    return v << n | v >> (64 - n);
}

/* theta's column parity of column x, and chi on the row starting at y */
#define THETA_C(x)                                                             \
    c[x] = a[x] ^ a[(x) + 5] ^ a[(x) + 10] ^ a[(x) + 15] ^ a[(x) + 20]
#define CHI_ROW(y)                                                             \
    do {                                                                       \
        a[(y) + 0] = b[(y) + 0] ^ (~b[(y) + 1] & b[(y) + 2]);                  \
        a[(y) + 1] = b[(y) + 1] ^ (~b[(y) + 2] & b[(y) + 3]);                  \
        a[(y) + 2] = b[(y) + 2] ^ (~b[(y) + 3] & b[(y) + 4]);                  \
        a[(y) + 3] = b[(y) + 3] ^ (~b[(y) + 4] & b[(y) + 0]);                  \
        a[(y) + 4] = b[(y) + 4] ^ (~b[(y) + 0] & b[(y) + 1]);                  \
    } while (0)

/* The state as lanes a[x + 5y].  Every index below is a constant, so the
 * compiler keeps the lanes in registers or fixed stack slots (an index
 * read from a table, as in a walk of rho and pi's cycle, kept them in
 * memory and cost about twice the time, issue #18). */
static void
keccak_f(uint64_t st[25])
{
    uint64_t a[25], b[25], c[5], d[5];

    memcpy(a, st, sizeof(a));
    for (int r = 0; r < 24; r++) {
        /* theta */
        THETA_C(0);
        THETA_C(1);
        THETA_C(2);
        THETA_C(3);
        THETA_C(4);
        d[0] = c[4] ^ rol(c[1], 1);
        d[1] = c[0] ^ rol(c[2], 1);
        d[2] = c[1] ^ rol(c[3], 1);
        d[3] = c[2] ^ rol(c[4], 1);
        d[4] = c[3] ^ rol(c[0], 1);
        /* rho and pi: B[y, 2x + 3y] = rot(A[x, y] ^ D[x], r[x, y]) with
         * the offsets of FIPS 202 table 2 */
        b[0] = a[0] ^ d[0];
        b[1] = rol(a[6] ^ d[1], 44);
        b[2] = rol(a[12] ^ d[2], 43);
        b[3] = rol(a[18] ^ d[3], 21);
        b[4] = rol(a[24] ^ d[4], 14);
        b[5] = rol(a[3] ^ d[3], 28);
        b[6] = rol(a[9] ^ d[4], 20);
        b[7] = rol(a[10] ^ d[0], 3);
        b[8] = rol(a[16] ^ d[1], 45);
        b[9] = rol(a[22] ^ d[2], 61);
        b[10] = rol(a[1] ^ d[1], 1);
        b[11] = rol(a[7] ^ d[2], 6);
        b[12] = rol(a[13] ^ d[3], 25);
        b[13] = rol(a[19] ^ d[4], 8);
        b[14] = rol(a[20] ^ d[0], 18);
        b[15] = rol(a[4] ^ d[4], 27);
        b[16] = rol(a[5] ^ d[0], 36);
        b[17] = rol(a[11] ^ d[1], 10);
        b[18] = rol(a[17] ^ d[2], 15);
        b[19] = rol(a[23] ^ d[3], 56);
        b[20] = rol(a[2] ^ d[2], 62);
        b[21] = rol(a[8] ^ d[3], 55);
        b[22] = rol(a[14] ^ d[4], 39);
        b[23] = rol(a[15] ^ d[0], 41);
        b[24] = rol(a[21] ^ d[1], 2);
        /* chi, a row at a time */
        CHI_ROW(0);
        CHI_ROW(5);
        CHI_ROW(10);
        CHI_ROW(15);
        CHI_ROW(20);
        /* iota */
        a[0] ^= rc[r];
    }
    memcpy(st, a, sizeof(a));
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
        for (int i = 0; i < RATE / 8; i++)
            a[i] ^= lib_le64(block + 8 * i);
        keccak_f(a);
        if (n < RATE)
            break;
        p += n;
        len -= n;
    }
    for (int i = 0; i < CRYPTO_SHA256_LEN / 8; i++)
        lib_put64(out + 8 * i, a[i]);
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
