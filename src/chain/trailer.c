/*
 * chain/trailer.c - trailer codec, v3 rules, difficulty, weight,
 * profiles.
 */
#include <string.h>

#include "chain/peach.h"
#include "chain/trailer.h"
#include "crypto/crypto.h"
#include "lib/le.h"

void
trailer_decode(const uint8_t b[TRAILER_LEN], struct trailer *t)
{
    memcpy(t->phash, b, 32);
    t->bnum = lib_le64(b + 32);
    t->mfee = lib_le64(b + 40);
    t->tcount = lib_le32(b + 48);
    t->time0 = lib_le32(b + 52);
    t->difficulty = lib_le32(b + 56);
    memcpy(t->mroot, b + 60, 32);
    memcpy(t->nonce, b + 92, 32);
    t->stime = lib_le32(b + 124);
    memcpy(t->bhash, b + 128, 32);
}

void
trailer_encode(const struct trailer *t, uint8_t b[TRAILER_LEN])
{
    memcpy(b, t->phash, 32);
    lib_put64(b + 32, t->bnum);
    lib_put64(b + 40, t->mfee);
    lib_put32(b + 48, t->tcount);
    lib_put32(b + 52, t->time0);
    lib_put32(b + 56, t->difficulty);
    memcpy(b + 60, t->mroot, 32);
    memcpy(b + 92, t->nonce, 32);
    lib_put32(b + 124, t->stime);
    memcpy(b + 128, t->bhash, 32);
}

/* ---- profiles ------------------------------------------------------- */

const struct chain_profile chain_mainnet = {
    .name = "mainnet",
    .genesis_bhash = {0x00, 0x17, 0x0c, 0x67, 0x11, 0xb9, 0xdc, 0x3c,
                      0xa7, 0x46, 0xc4, 0x6c, 0xc2, 0x81, 0xbc, 0x69,
                      0xe3, 0x03, 0xdf, 0xad, 0x2f, 0x33, 0x3b, 0xa3,
                      0x97, 0xba, 0x06, 0x1e, 0xcc, 0xef, 0xde, 0x03},
    .v30 = 0xa0700,
    .peach = 0x12851,
    .time0_link = 0x4321,
    .diff_v2 = 0x4321,
    .diff_v2_hash = 0x4521,
    .gap_a = 0x1b6ff,
    .gap_b = 0xd431,
    .bad_pow = 0x52d3c,
    .bad_pow_bhash = {0x2f, 0xfa, 0xb9, 0xb9, 0x00, 0xe1, 0xbc, 0xa8,
                      0x25, 0x19, 0x20, 0xc2, 0xdd, 0xf0, 0x46, 0xb8,
                      0x07, 0x44, 0x2a, 0xbb, 0xfa, 0x5e, 0x94, 0x51,
                      0xb0, 0x60, 0x03, 0xcc, 0x82, 0x2d, 0xb1, 0x12},
    .has_bad_pow = 1,
};

/* keel's test network: every rule of v3 from block 1 and peach on every
 * standard block, so short chains exercise what mainnet does today.
 * The genesis is chain_genesis() below; its bhash is SHA-256 of its
 * first 128 bytes, like every v3 trailer. */
const struct chain_profile chain_testnet = {
    .name = "testnet",
    .genesis_bhash = {0}, /* computed: see chain_genesis() */
    .v30 = 0,
    .peach = 0,
    .time0_link = 0,
    .diff_v2 = 0,
    .diff_v2_hash = 0,
    .gap_a = 0,
    .gap_b = 0,
    .has_bad_pow = 0,
};

const struct chain_profile *
chain_profile_find(const char *name)
{
    if (strcmp(name, "mainnet") == 0)
        return &chain_mainnet;
    if (strcmp(name, "testnet") == 0)
        return &chain_testnet;
    return NULL;
}

#define TESTNET_TIME 1700000000u /* 2023-11-14: long chains end before now */
#define TESTNET_DIFF 0           /* chaingen picks its own */

void
chain_genesis(const struct chain_profile *pf, uint8_t out[TRAILER_LEN])
{
    memset(out, 0, TRAILER_LEN);
    if (pf == &chain_mainnet) {
        memcpy(out + 128, pf->genesis_bhash, 32);
        return;
    }
    /* testnet: a named mroot, a start time and difficulty, v3 spacing */
    crypto_sha256("keel testnet genesis", 20, out + 60);
    lib_put32(out + 52, TESTNET_TIME);
    lib_put32(out + 56, TESTNET_DIFF);
    lib_put32(out + 124, TESTNET_TIME + 100);
    crypto_sha256(out, 128, out + 128);
}

/* ---- rules ---------------------------------------------------------- */

const char *
chain_reason_str(enum chain_reason r)
{
    static const char *const s[CHAIN_R__COUNT] = {
        [CHAIN_OK] = "ok",
        [CHAIN_R_PHASH] = "phash is not the previous trailer's bhash",
        [CHAIN_R_BNUM] = "bnum is not the previous bnum + 1",
        [CHAIN_R_NG_FIELDS] = "NG or pseudo-block with fees, transactions "
                              "or a nonce",
        [CHAIN_R_NG_MROOT] = "NG or pseudo-block before v3 with an mroot",
        [CHAIN_R_NG_COPY] = "NG block does not copy time0, difficulty and "
                            "stime from the previous trailer",
        [CHAIN_R_MFEE] = "mining fee below 500",
        [CHAIN_R_TCOUNT] = "transaction count outside 1..32768",
        [CHAIN_R_PSEUDO_GAP] = "pseudo-block stime - time0 is not the fixed "
                               "gap",
        [CHAIN_R_TIME_EQ] = "time0 equals stime",
        [CHAIN_R_TIME_GAP] = "block time (stime - time0) above the limit",
        [CHAIN_R_TIME0] = "time0 is not the previous trailer's stime",
        [CHAIN_R_DIFF] = "difficulty is not the one the previous trailer "
                         "sets",
        [CHAIN_R_FUTURE] = "stime is in the future (more than 3 s ahead of "
                           "the clock)",
        [CHAIN_R_BHASH] = "bhash is not SHA-256 of the trailer",
        [CHAIN_R_POW_SYNTAX] = "nonce is not a haiku (Trigg syntax)",
        [CHAIN_R_POW] = "proof of work does not meet the difficulty",
        [CHAIN_R_GENESIS] = "first trailer is not the network's genesis",
        [CHAIN_R_CHECKPOINT] = "trailer at the checkpoint height differs "
                               "from the checkpoint",
    };

    return r >= 0 && r < CHAIN_R__COUNT && s[r] ? s[r] : "unknown";
}

uint32_t
chain_next_difficulty(const struct chain_profile *pf, const struct trailer *p)
{
    uint32_t d = p->difficulty, hi, lo, h = 0;
    int32_t s = (int32_t)(p->stime - p->time0);

    if (s < 0)
        return d;
    if (p->bnum >= pf->v30) {
        hi = 138;
        lo = 69;
    } else if (p->bnum >= pf->diff_v2) {
        hi = 284;
        lo = 143;
        if (p->bnum <= pf->diff_v2_hash)
            h = (p->stime >> 6) ^ p->stime;
    } else {
        hi = 506;
        lo = 253;
    }
    if ((uint32_t)s > hi && d > 0)
        d -= 1 + (h & 1);
    else if ((uint32_t)s < lo && (h & 3) == 0 && d < 255)
        d += 1;
    return d;
}

enum chain_reason
chain_check(const struct chain_profile *pf, const uint8_t pb[TRAILER_LEN],
            const uint8_t tb[TRAILER_LEN], const struct chain_opts *o)
{
    struct trailer p, t;
    uint64_t n;
    int ng, pseudo;
    uint32_t gap;

    trailer_decode(pb, &p);
    trailer_decode(tb, &t);
    n = p.bnum + 1;
    if (memcmp(t.phash, p.bhash, 32) != 0)
        return CHAIN_R_PHASH;
    if (t.bnum != n)
        return CHAIN_R_BNUM;
    ng = (n & 0xff) == 0;
    pseudo = !ng && t.tcount == 0;
    if (ng || pseudo) {
        if (t.mfee != 0 || t.tcount != 0 || !lib_bytes_zero(t.nonce, 32))
            return CHAIN_R_NG_FIELDS;
        if (n < pf->v30 && !lib_bytes_zero(t.mroot, 32))
            return CHAIN_R_NG_MROOT;
    } else {
        if (t.mfee < 500)
            return CHAIN_R_MFEE;
        if (t.tcount < 1 || t.tcount > 32768)
            return CHAIN_R_TCOUNT;
    }
    gap = t.stime - t.time0;
    if (ng) {
        if (t.time0 != p.time0 || t.difficulty != p.difficulty ||
            t.stime != p.stime)
            return CHAIN_R_NG_COPY;
    } else {
        if (pseudo) {
            if (gap != (n >= pf->v30 ? 238u : 949u))
                return CHAIN_R_PSEUDO_GAP;
        } else {
            if (t.time0 == t.stime)
                return CHAIN_R_TIME_EQ;
            if ((n > pf->gap_a || ((n & 0xff) != 0xff && n > pf->gap_b)) &&
                gap > (n >= pf->v30 ? 238u : 949u))
                return CHAIN_R_TIME_GAP;
        }
        if (n > pf->time0_link && t.time0 != p.stime)
            return CHAIN_R_TIME0;
        if (t.difficulty != chain_next_difficulty(pf, &p))
            return CHAIN_R_DIFF;
        if (o->now > 0 && (int64_t)t.stime > o->now + 3)
            return CHAIN_R_FUTURE;
    }
    if (n >= pf->v30) {
        uint8_t h[32];

        crypto_sha256(tb, 128, h);
        if (memcmp(h, t.bhash, 32) != 0)
            return CHAIN_R_BHASH;
    }
    if (o->pow && !ng && !pseudo && n > pf->peach) {
        int rc;

        if (pf->has_bad_pow && n == pf->bad_pow)
            return memcmp(t.bhash, pf->bad_pow_bhash, 32) == 0 ? CHAIN_OK
                                                               : CHAIN_R_POW;
        rc = peach_check(tb, NULL);
        if (rc == PEACH_SYNTAX)
            return CHAIN_R_POW_SYNTAX;
        if (rc != 0)
            return CHAIN_R_POW;
    }
    return CHAIN_OK;
}

/* ---- weight --------------------------------------------------------- */

void
chain_weight_add(struct chain_weight *w, const uint8_t t[TRAILER_LEN])
{
    uint64_t bnum = lib_le64(t + 32);
    unsigned d = t[56]; /* difficulty[0] */
    uint64_t carry;

    if ((bnum & 0xff) == 0xff)
        return;
    carry = (uint64_t)1 << (d % 32);
    for (unsigned i = d / 32; i < 8 && carry; i++) {
        uint64_t s = (uint64_t)w->w[i] + carry;

        w->w[i] = (uint32_t)s;
        carry = s >> 32;
    }
}

void
chain_weight_sub(struct chain_weight *w, const uint8_t t[TRAILER_LEN])
{
    uint64_t bnum = lib_le64(t + 32);
    unsigned d = t[56];
    uint64_t borrow;

    if ((bnum & 0xff) == 0xff)
        return;
    borrow = (uint64_t)1 << (d % 32);
    for (unsigned i = d / 32; i < 8 && borrow; i++) {
        uint64_t v = w->w[i];

        w->w[i] = (uint32_t)(v - borrow);
        borrow = v < borrow ? 1 : 0;
    }
}

int
chain_weight_cmp(const struct chain_weight *a, const struct chain_weight *b)
{
    for (int i = 7; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

void
chain_weight_hex(const struct chain_weight *w, char out[65])
{
    static const char hx[] = "0123456789abcdef";

    for (int i = 0; i < 32; i++) {
        uint8_t b = (uint8_t)(w->w[7 - i / 4] >> (8 * (3 - i % 4)));

        out[2 * i] = hx[b >> 4];
        out[2 * i + 1] = hx[b & 15];
    }
    out[64] = '\0';
}
