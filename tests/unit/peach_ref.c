/*
 * tests/unit/peach_ref.c - the test oracle for peach: nighthash as keel
 * first wrote it (before issue #18's speed-ups), a straight
 * transcription of the reference node's algorithm: a branch per float
 * operation, dmemtx a byte at a time, and mbedTLS's MD2 rather than
 * keel's.  test_chain compares peach_check() with it on random
 * trailers, so the fast code is held to the plain one wherever the data
 * lead, not only on the five mainnet vectors.
 */
#include <math.h>
#include <string.h>

#include <mbedtls/md2.h>

#include "crypto/crypto.h"
#include "lib/le.h"
#include "peach_ref.h"

#define ROUNDS 8
#define GENLEN 36    /* index + phash */
#define JUMPLEN 1060 /* nonce + index + tile */
#define TILELEN 1024
#define MAP_M1 0xfffffu

/* Float operations on len bytes (4 at a time); with txf the data are
 * changed in place.  Returns the running op code. */
static uint32_t
dflops(uint8_t *data, size_t len, uint32_t index, int txf)
{
    uint32_t op = 0;

    for (size_t i = 0; i < len; i += 4) {
        uint8_t *bp = data + i, res[4];
        unsigned shift = (unsigned)(((bp[0] & 7) + 1) << 1);
        int32_t operand;
        float f, v;

        memcpy(&f, bp, 4);
        op += bp[(0x26C34u >> shift) & 3];
        operand = bp[(0x14198u >> shift) & 3];
        if (bp[(0x3D6ECu >> shift) & 3] & 1)
            operand = (int32_t)((uint32_t)operand ^ 0x80000000u);
        v = (float)operand;
        if (isnan(f))
            f = (float)index;
        switch (op & 3) {
        case 3:
            f /= v;
            break;
        case 2:
            f *= v;
            break;
        case 1:
            f -= v;
            break;
        default:
            f += v;
            break;
        }
        if (isnan(f))
            f = (float)index;
        memcpy(res, &f, 4);
        if (txf)
            memcpy(bp, res, 4);
        op += (uint32_t)res[0] + res[1] + res[2] + res[3];
    }
    return op;
}

/* Byte transformations on len bytes (a multiple of 4). */
static uint32_t
dmemtx(uint8_t *bp, size_t len, uint32_t op)
{
    size_t half = len / 2;

    for (unsigned i = 0; i < ROUNDS; i++) {
        op += bp[i & 31];
        switch (op & 7) {
        case 0: /* flip the first and last bit of every byte */
            for (size_t z = 0; z < len; z++)
                bp[z] ^= 0x81;
            break;
        case 1: /* swap the halves */
            for (size_t z = 0; z < half; z++) {
                uint8_t t = bp[z];

                bp[z] = bp[half + z];
                bp[half + z] = t;
            }
            break;
        case 2: /* complement */
            for (size_t z = 0; z < len; z++)
                bp[z] = (uint8_t)~bp[z];
            break;
        case 3: /* +1, -1, +1, ... */
            for (size_t z = 0; z < len; z++)
                bp[z] = (uint8_t)(bp[z] + ((z & 1) ? -1 : 1));
            break;
        case 4: /* +i, -i alternately (i is the round) */
            for (size_t z = 0; z < len; z++)
                bp[z] = (uint8_t)(bp[z] + ((z & 1) ? i : -i));
            break;
        case 5: /* 104 becomes 72 */
            for (size_t z = 0; z < len; z++)
                if (bp[z] == 104)
                    bp[z] = 72;
            break;
        case 6: /* order each pair across the halves */
            for (size_t z = 0; z < half; z++)
                if (bp[z] > bp[half + z]) {
                    uint8_t t = bp[z];

                    bp[z] = bp[half + z];
                    bp[half + z] = t;
                }
            break;
        case 7: /* running xor */
            for (size_t z = 1; z < len; z++)
                bp[z] ^= bp[z - 1];
            break;
        }
    }
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
        (void)mbedtls_md2_ret(in, inlen, h);
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

void
peach_ref_final(const uint8_t t[160], uint8_t fin[32])
{
    _Alignas(8) uint8_t tile[TILELEN];
    struct crypto_sha256 c;
    uint8_t h0[32];
    uint32_t m;

    crypto_sha256(t, 124, h0);
    m = h0[0];

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
