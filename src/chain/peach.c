/*
 * chain/peach.c - the peach proof of work (see peach.h).
 *
 * Written from the algorithm as Mochimo's reference node defines it
 * (mochimodev/mochimo src/peach.c); every constant below is consensus.
 * Data are handled as bytes with explicit little-endian loads, so the
 * code runs the same on any host; the float steps use memcpy to and from
 * float (binary32 on every target keel builds for).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "chain/peach.h"
#include "lib/hex.h"
#include "crypto/crypto.h"
#include "lib/le.h"

_Static_assert(sizeof(float) == 4, "binary32 float");

#define ROUNDS 8
#define GENLEN 36    /* index + phash */
#define JUMPLEN 1060 /* nonce + index + tile */
#define TILELEN 1024
#define MAP_M1 0xfffffu

/* Float operations on len bytes (4 at a time); with txf the data are
 * changed in place.  Returns the running op code.
 *
 * Which operation applies to a float depends on op, and op on the bytes
 * of the result before: a branch on it mispredicts about every other
 * float.  So the four results are computed from the data alone, off
 * that chain, and op only picks one.  One exception keeps it fast: a
 * division whose result may be subnormal costs a microcode assist on
 * x86 (about 150 cycles), so when f is small enough for that (or
 * subnormal itself) the division is done only if it is the one picked.
 * Either way every result is the IEEE operation the reference does. */
static uint32_t
dflops(uint8_t *data, size_t len, uint32_t index, int txf)
{
    const float fi = (float)index;
    uint32_t op = 0, fib;

    memcpy(&fib, &fi, 4);
    for (size_t i = 0; i < len; i += 4) {
        uint8_t *bp = data + i;
        unsigned shift = (unsigned)(((bp[0] & 7) + 1) << 1);
        int32_t operand;
        uint32_t fb, fdb, x, k, small, b, rb[4];
        float f, fd, v, r[4];

        memcpy(&fb, bp, 4);
        op += bp[(0x26C34u >> shift) & 3];
        operand = bp[(0x14198u >> shift) & 3];
        if (bp[(0x3D6ECu >> shift) & 3] & 1)
            operand = (int32_t)((uint32_t)operand ^ 0x80000000u);
        v = (float)operand;
        if ((fb & 0x7fffffffu) > 0x7f800000u) /* NaN */
            fb = fib;
        memcpy(&f, &fb, 4);
        /* |v| <= 2^31: f / v stays normal when f's exponent field is at
         * least 32, or f is zero; otherwise divide 1.0 for now */
        small = (fb & 0x7fffffffu) - 1u < (32u << 23) - 1u;
        fdb = fb ^ ((fb ^ 0x3f800000u) & (0u - small));
        memcpy(&fd, &fdb, 4);
        r[0] = f + v;
        r[1] = f - v;
        r[2] = f * v;
        r[3] = fd / v;
        memcpy(rb, r, sizeof(rb));
        k = op & 3;
        x = rb[k];
        if (small & (k + 1) >> 2) { /* the division was picked after all */
            float q = f / v;

            memcpy(&x, &q, 4);
        }
        if ((x & 0x7fffffffu) > 0x7f800000u)
            x = fib;
        if (txf)
            memcpy(bp, &x, 4);
        b = (x & 0x00ff00ffu) + (x >> 8 & 0x00ff00ffu);
        op += (b & 0xffffu) + (b >> 16);
    }
    return op;
}

/* dmemtx works on whole 64-bit words, each byte a lane (SWAR), loaded
 * little-endian so byte z of the data is always lane z % 8. */
#define TXMAX GENLEN /* the longest data dmemtx is given */
#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

/* lane-wise a + b and a - b, mod 256 */
static uint64_t
add8(uint64_t a, uint64_t b)
{
    return ((a & ~HIGH) + (b & ~HIGH)) ^ ((a ^ b) & HIGH);
}

static uint64_t
sub8(uint64_t a, uint64_t b)
{
    return ((a | HIGH) - (b & ~HIGH)) ^ ((a ^ ~b) & HIGH);
}

/* 0xff in each lane where a < b (unsigned), else 0 */
static uint64_t
lt8(uint64_t a, uint64_t b)
{
    uint64_t m = ((~a & b) | ((~a | b) & sub8(a, b))) & HIGH;

    return (m >> 7) * 0xff;
}

/* 0x20 in each lane that is 104, else 0: 104 ^ 0x20 is 72 */
static uint64_t
is104(uint64_t a)
{
    uint64_t y = a ^ (104 * ONES);

    return (~(((y & ~HIGH) + ~HIGH) | y) & HIGH) >> 2;
}

/* Byte transformations on len bytes (a multiple of 4, at most TXMAX),
 * eight rounds, each chosen by op. */
static uint32_t
dmemtx(uint8_t *data, size_t len, uint32_t op)
{
    /* the data, zero-padded to whole words, and the halves of case 6
     * read past len by up to 7 bytes */
    uint8_t bp[TXMAX + 16], tmp[TXMAX / 2];
    size_t half = len / 2;

    memcpy(bp, data, len);
    memset(bp + len, 0, sizeof(bp) - len);
    for (unsigned i = 0; i < ROUNDS; i++) {
        uint64_t k = 0, carry = 0;

        op += bp[i & 31];
        switch (op & 7) {
        case 0: /* flip the first and last bit of every byte */
            k = 0x81 * ONES;
            break;
        case 1: /* swap the halves */
            memcpy(tmp, bp, half);
            memmove(bp, bp + half, half);
            memcpy(bp + half, tmp, half);
            continue;
        case 2: /* complement */
            k = ~0ull;
            break;
        case 3: /* +1, -1, +1, ... */
            k = 0xff01ff01ff01ff01ull;
            break;
        case 4: /* -i, +i alternately (i is the round) */
            k = 0x0001000100010001ull * ((-i & 0xffu) | (i & 0xffu) << 8);
            break;
        case 6: /* order each pair across the halves */
            for (size_t o = 0; o < half; o += 8) {
                uint64_t x = lib_le64(bp + o), y = lib_le64(bp + half + o);
                uint64_t m = lt8(y, x), t;

                if (half - o < 8)
                    m &= (1ull << 8 * (half - o)) - 1;
                t = (x ^ y) & m;
                lib_put64(bp + o, x ^ t);
                lib_put64(bp + half + o, y ^ t);
            }
            continue;
        }
        for (size_t o = 0; o < len; o += 8) {
            uint64_t w = lib_le64(bp + o);

            switch (op & 7) {
            case 0:
            case 2:
                w ^= k;
                break;
            case 3:
            case 4:
                w = add8(w, k);
                break;
            case 5: /* 104 becomes 72 */
                w ^= is104(w);
                break;
            case 7: /* running xor: each byte ^= the one before */
                w ^= w << 8;
                w ^= w << 16;
                w ^= w << 32;
                w ^= carry;
                carry = (w >> 56) * ONES;
                break;
            }
            lib_put64(bp + o, w);
        }
    }
    memcpy(data, bp, len);
    return op;
}

/* Nighthash of inlen bytes of in into out (32 bytes).  With txlen the
 * first txlen bytes are transformed in place first. */
static void
nighthash(uint8_t *in, size_t inlen, uint32_t index, size_t txlen,
          uint8_t out[32])
{
    static const uint8_t key32[32] = {0};
    static const uint8_t key64[64] = {
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    uint8_t h[32];

    if (txlen) {
        index = dflops(in, txlen, index, 1);
        index = dmemtx(in, txlen, index);
    } else {
        index = dflops(in, inlen, index, 0);
    }
    memset(h, 0, sizeof(h));
    switch (index & 7) {
    case 0:
        crypto_blake2b_256(key32, 32, in, inlen, h);
        break;
    case 1:
        crypto_blake2b_256(key64, 64, in, inlen, h);
        break;
    case 2:
        crypto_sha1(in, inlen, h);
        break;
    case 3:
        crypto_sha256(in, inlen, h);
        break;
    case 4:
        crypto_sha3_256(in, inlen, h);
        break;
    case 5:
        crypto_keccak_256(in, inlen, h);
        break;
    case 6:
        crypto_md2(in, inlen, h);
        break;
    default:
        crypto_md5(in, inlen, h);
        break;
    }
    memcpy(out, h, 32);
}

/* Tile index of the map for phash, into tile (1 KiB). */
static void
tile_gen(uint32_t index, const uint8_t phash[32], uint8_t tile[TILELEN])
{
    /* tile rows are 32 bytes; each row's input is the row before with
     * the index in front (36 bytes), hashed into the next row */
    lib_put32(tile, index);
    memcpy(tile + 4, phash, 32);
    nighthash(tile, GENLEN, index, GENLEN, tile);
    for (int i = 0; i < TILELEN - 32; i += 32) {
        lib_put32(tile + i + 32, index);
        nighthash(tile + i, GENLEN, index, 32, tile + i + 32);
    }
}

static uint32_t
jump(uint32_t index, const uint8_t nonce[32], const uint8_t tile[TILELEN])
{
    uint8_t seed[JUMPLEN], h[32];
    uint32_t sum = 0;

    memcpy(seed, nonce, 32);
    lib_put32(seed + 32, index);
    memcpy(seed + 36, tile, TILELEN);
    nighthash(seed, JUMPLEN, index, 0, h);
    for (int i = 0; i < 8; i++)
        sum += lib_le32(h + 4 * i);
    return sum & MAP_M1;
}

static void
peach_final(const uint8_t t[160], const uint8_t h0[32], uint8_t fin[32])
{
    _Alignas(8) uint8_t tile[TILELEN];
    struct crypto_sha256 c;
    uint32_t m = h0[0];

    for (int i = 1; i < 32; i++)
        m *= h0[i];
    m &= MAP_M1;
    for (int i = 0; i < ROUNDS; i++) {
        tile_gen(m, t, tile);
        m = jump(m, t + 92, tile);
    }
    tile_gen(m, t, tile);
    crypto_sha256_init(&c);
    crypto_sha256_update(&c, h0, 32);
    crypto_sha256_update(&c, tile, TILELEN);
    crypto_sha256_final(&c, fin);
}

int
peach_check(const uint8_t t[160], uint8_t fin[32])
{
    uint8_t h0[32], f[32];

    if (trigg_syntax(t + 92) != 0 || trigg_syntax(t + 108) != 0)
        return PEACH_SYNTAX;
    if (t[56] == 0 && fin == NULL)
        return 0; /* every hash has at least zero leading zero bits */
    crypto_sha256(t, 124, h0);
    peach_final(t, h0, f);
    if (fin != NULL)
        memcpy(fin, f, 32);
    return trigg_eval(f, t[56]) == 0 ? 0 : PEACH_MISS;
}

int
peach_mine(uint8_t t[160], unsigned diff, uint64_t tries,
           uint32_t (*rnd)(void *), void *arg)
{
    uint8_t h0[32], f[32];

    while (tries-- > 0) {
        trigg_generate(rnd, arg, t + 92);
        trigg_generate(rnd, arg, t + 108);
        if (diff == 0)
            return 0; /* every proof meets difficulty 0 */
        crypto_sha256(t, 124, h0);
        peach_final(t, h0, f);
        if (trigg_eval(f, diff) == 0)
            return 0;
    }
    return -EAGAIN;
}

/* Mainnet block 0x128ff (the first peach block in keel's vectors) and its
 * final hash: proves the float steps and all eight hashes on this build
 * and CPU. */
static const char st_trailer[] =
    "c87fdc08ad6a53ef5fd0f98bf2a66db6c58426787cb771244ef7fc574b454695ff2801"
    "0000000000f40100000000000003000000bcc21c5d20000000f0f958eb58ebe50b2cc8"
    "bc84f4f00b7480e9d2f610fe61127438c8f7e8930a6f0f77e201a50112000000000000"
    "00000055d6016bf2012a0000000000000000002bc41c5de48aca7bfabddb92afbe0852"
    "7bfd49710dfc5fffe8ed15df5b7c7a30e4b40a51";
static const char st_final[] =
    "00000000f5c5a5cef0d97e716beae6e1379d7d06b4e5d908e98b0e4b8ecae2fc";

int
peach_selftest(const char **what)
{
    uint8_t t[160], want[32], fin[32];

    (void)lib_hex_decode(st_trailer, 2 * sizeof(t), t, sizeof(t));
    (void)lib_hex_decode(st_final, 2 * sizeof(want), want, sizeof(want));
    if (peach_check(t, fin) != 0 || memcmp(fin, want, 32) != 0) {
        *what = "mainnet block 0x128ff: peach hash differs";
        return -EBADMSG;
    }
    *what = "mainnet block 0x128ff reproduced";
    return 0;
}
