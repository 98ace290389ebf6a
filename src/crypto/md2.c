/*
 * crypto/md2.c - MD2 (RFC 1319), keel's own, for peach's nighthash.
 *
 * MD2 is one long chain of dependent byte lookups: for each 16-byte
 * block, 18 rounds over a 48-byte state X, each step t = X[k] ^= S[t].
 * A step cannot start before the one before it has loaded S[t] and
 * xored it in, so a straight transcription (RFC 1319's own code,
 * mbedTLS's) runs at one L1 load plus one xor per step, about 6 cycles
 * on x86_64, whatever the compiler does: 864 steps a block.
 *
 * keel takes two steps per load.  For a pair of steps over state bytes
 * a = X[k] and b = X[k + 1], both known before the pair starts,
 *
 *     X[k]     = a ^ S[t]
 *     X[k + 1] = b ^ S[X[k]] = b ^ S[a ^ S[t]] = b ^ T[a][t]
 *
 * with T[a][t] = S[a ^ S[t]], a 64 KiB table built from S on first use.
 * The second line no longer waits for the first, so the chain is one
 * load and one xor per two steps.  The table is larger than a typical
 * L1 cache, so the row T[a] of a pair a few pairs ahead (its a is
 * already final) is prefetched: the row is known early, only the
 * column t is late.  Measured in docs/BENCH.md.
 *
 * Memory: the table, 64 KiB of static storage, filled on the first call
 * (keel runs single-threaded); each call uses about 300 bytes of stack.
 */
#include <string.h>

#include "crypto/crypto.h"

/* RFC 1319, section 3.4: the permutation of 0..255 built from the
 * digits of pi. */
static const uint8_t md2_s[256] = {
    41,  46,  67,  201, 162, 216, 124, 1,   61,  54,  84,  161, 236, 240, 6,
    19,  98,  167, 5,   243, 192, 199, 115, 140, 152, 147, 43,  217, 188, 76,
    130, 202, 30,  155, 87,  60,  253, 212, 224, 22,  103, 66,  111, 24,  138,
    23,  229, 18,  190, 78,  196, 214, 218, 158, 222, 73,  160, 251, 245, 142,
    187, 47,  238, 122, 169, 104, 121, 145, 21,  178, 7,   63,  148, 194, 16,
    137, 11,  34,  95,  33,  128, 127, 93,  154, 90,  144, 50,  39,  53,  62,
    204, 231, 191, 247, 151, 3,   255, 25,  48,  179, 72,  165, 181, 209, 215,
    94,  146, 42,  172, 86,  170, 198, 79,  184, 56,  210, 150, 164, 125, 182,
    118, 252, 107, 226, 156, 116, 4,   241, 69,  157, 112, 89,  100, 113, 135,
    32,  134, 91,  207, 101, 230, 45,  168, 2,   27,  96,  37,  173, 174, 176,
    185, 246, 28,  70,  97,  105, 52,  64,  126, 15,  85,  71,  163, 35,  221,
    81,  175, 58,  195, 92,  249, 206, 186, 197, 234, 38,  44,  83,  13,  110,
    133, 40,  132, 9,   211, 223, 205, 244, 65,  129, 77,  82,  106, 220, 55,
    200, 108, 193, 171, 250, 36,  225, 123, 8,   12,  189, 177, 74,  120, 136,
    149, 139, 227, 99,  232, 109, 233, 203, 213, 254, 59,  0,   29,  57,  242,
    239, 183, 14,  102, 88,  208, 228, 166, 119, 114, 248, 235, 117, 75,  10,
    49,  68,  80,  180, 143, 237, 31,  26,  219, 153, 141, 51,  159, 17,  131,
    20};

static uint8_t md2_t[256 * 256];
static int md2_t_ready;

static void
md2_table(void)
{
    for (uint32_t a = 0; a < 256; a++)
        for (uint32_t t = 0; t < 256; t++)
            md2_t[a << 8 | t] = md2_s[a ^ md2_s[t]];
    md2_t_ready = 1;
}

/* Pairs between the one being computed and the one whose row is
 * prefetched: enough to cover an L2 hit (about 6 cycles a pair). */
#define MD2_AHEAD 4

/* A macro, not a function: a function whose only effect is a prefetch
 * counts as having none, and -Os then drops its calls. */
#define MD2_PREFETCH_ROW(a)                                                    \
    do {                                                                       \
        const uint8_t *row_ = md2_t + ((uint32_t)(a) << 8);                    \
        __builtin_prefetch(row_);                                              \
        __builtin_prefetch(row_ + 64);                                         \
        __builtin_prefetch(row_ + 128);                                        \
        __builtin_prefetch(row_ + 192);                                        \
    } while (0)

/* The state: X one byte value per 32-bit word (with bytes, gcc -O2 merges
 * a pair's two stores into one 16-bit store and routes the chain through
 * a partial register, which costs more than the lookup saves), the
 * checksum C and its running byte L (RFC 1319 3.2). */
struct md2 {
    uint32_t x[48];
    uint8_t c[16];
    uint8_t l;
};

static void
md2_block(struct md2 *m, const uint8_t blk[16])
{
    uint32_t *x = m->x, t = 0;

    /* checksum: C[j] ^= S[M[j] ^ L], L = C[j] */
    for (int j = 0; j < 16; j++) {
        m->c[j] ^= md2_s[blk[j] ^ m->l];
        m->l = m->c[j];
    }
    for (int j = 0; j < 16; j++) {
        x[16 + j] = blk[j];
        x[32 + j] = x[j] ^ blk[j];
    }
    for (int k = 0; k < MD2_AHEAD; k++)
        MD2_PREFETCH_ROW(x[2 * k]);
    /* Two pairs an iteration: the loop's own work then shares the
     * chain's cycles better (about 1% of a peach check).  48 is a
     * multiple of 4, so a round is twelve iterations. */
    for (uint32_t r = 0; r < 18; r++) {
        for (int k = 0; k < 48; k += 4) {
            uint32_t a = x[k], b = x[k + 1], c = x[k + 2], d = x[k + 3];
            const uint8_t *row = md2_t + (a << 8), *row2 = md2_t + (c << 8);
            int ahead = k + 2 * MD2_AHEAD;

            /* the pairs that far ahead, in this round or (their bytes
             * already final) the next */
            MD2_PREFETCH_ROW(x[ahead < 48 ? ahead : ahead - 48]);
            MD2_PREFETCH_ROW(x[ahead + 2 < 48 ? ahead + 2 : ahead + 2 - 48]);
            x[k] = a ^ md2_s[t];
            t = b ^ row[t];
            x[k + 1] = t;
            x[k + 2] = c ^ md2_s[t];
            t = d ^ row2[t];
            x[k + 3] = t;
        }
        t = (t + r) & 0xff;
    }
}

void
crypto_md2(const void *data, size_t len, uint8_t out[16])
{
    const uint8_t *p = data;
    struct md2 m;
    uint8_t last[16];
    size_t rest = len % 16;

    if (!md2_t_ready)
        md2_table();
    memset(&m, 0, sizeof(m));
    for (size_t i = 0; i + 16 <= len; i += 16)
        md2_block(&m, p + i);
    /* padding: n bytes of value n, 1 <= n <= 16 (RFC 1319 3.1) */
    memcpy(last, p + (len - rest), rest);
    memset(last + rest, (int)(16 - rest), 16 - rest);
    md2_block(&m, last);
    /* the checksum is the last block (3.2); its own update of C is
     * harmless, C is not used after it */
    memcpy(last, m.c, 16);
    md2_block(&m, last);
    for (int i = 0; i < 16; i++)
        out[i] = (uint8_t)m.x[i];
}
