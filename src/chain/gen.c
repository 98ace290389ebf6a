/*
 * chain/gen.c - minting testnet chains (see gen.h).
 */
#include <errno.h>
#include <string.h>

#include "chain/gen.h"
#include "chain/peach.h"
#include "crypto/crypto.h"

static const struct {
    const char *name;
    enum chain_reason reason;
} breaks[GEN__COUNT] = {
    [GEN_OK] = {"none", CHAIN_OK},
    [GEN_PHASH] = {"phash", CHAIN_R_PHASH},
    [GEN_BNUM] = {"bnum", CHAIN_R_BNUM},
    [GEN_MFEE] = {"mfee", CHAIN_R_MFEE},
    [GEN_TCOUNT] = {"tcount", CHAIN_R_TCOUNT},
    [GEN_TIME_EQ] = {"time-eq", CHAIN_R_TIME_EQ},
    [GEN_TIME_GAP] = {"time-gap", CHAIN_R_TIME_GAP},
    [GEN_TIME0] = {"time0", CHAIN_R_TIME0},
    [GEN_DIFF] = {"difficulty", CHAIN_R_DIFF},
    [GEN_BHASH] = {"bhash", CHAIN_R_BHASH},
    [GEN_POW_SYNTAX] = {"haiku", CHAIN_R_POW_SYNTAX},
    [GEN_POW] = {"pow", CHAIN_R_POW},
    [GEN_NG_FIELDS] = {"ng-fields", CHAIN_R_NG_FIELDS},
    [GEN_NG_COPY] = {"ng-copy", CHAIN_R_NG_COPY},
    [GEN_PSEUDO_GAP] = {"pseudo-gap", CHAIN_R_PSEUDO_GAP},
    [GEN_NG_MROOT] = {"ng-mroot", CHAIN_R_NG_MROOT},
};

const char *
chaingen_break_name(enum chaingen_break b)
{
    return b < GEN__COUNT ? breaks[b].name : "?";
}

enum chaingen_break
chaingen_break_find(const char *name)
{
    for (int i = 1; i < GEN__COUNT; i++)
        if (strcmp(breaks[i].name, name) == 0)
            return (enum chaingen_break)i;
    return GEN_OK;
}

enum chain_reason
chaingen_break_reason(enum chaingen_break b)
{
    return b < GEN__COUNT ? breaks[b].reason : CHAIN_OK;
}

static uint32_t
xorshift(void *arg)
{
    uint32_t *s = arg;

    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void
rehash(uint8_t t[TRAILER_LEN])
{
    crypto_sha256(t, 128, t + 128);
}

/* The gap that brings the next difficulty from d toward target. */
static uint32_t
gap_for(unsigned d, unsigned target)
{
    if (d < target)
        return 60; /* below 69: up one */
    if (d > target)
        return 200; /* above 138: down one */
    return 100;
}

int
chaingen_run(const struct chaingen *g,
             int (*out)(void *arg, const uint8_t t[TRAILER_LEN]), void *arg)
{
    const struct chain_profile *pf =
        g->mainnet ? &chain_mainnet : &chain_testnet;
    uint8_t p[TRAILER_LEN], t[TRAILER_LEN];
    uint32_t rs = g->seed ? g->seed : 1;

    chain_genesis(pf, p);
    if (out(arg, p) != 0)
        return -EIO;
    for (uint64_t n = 1; n <= g->blocks; n++) {
        struct trailer pt, tt;
        int forked = g->fork_at && n >= g->fork_at;
        unsigned target = forked ? g->fork_difficulty : g->difficulty;
        int brk = g->brk != GEN_OK && n == g->brk_at;

        if (g->fork_at && n == g->fork_at)
            rs = g->fork_seed ? g->fork_seed : 7;
        trailer_decode(p, &pt);
        memset(&tt, 0, sizeof(tt));
        memcpy(tt.phash, pt.bhash, 32);
        tt.bnum = n;
        if ((n & 0xff) == 0) {
            /* NG block: copies the previous times and difficulty (and
             * before v3 carries no mroot) */
            tt.time0 = pt.time0;
            tt.difficulty = pt.difficulty;
            tt.stime = pt.stime;
            if (n >= pf->v30)
                crypto_sha256(&n, sizeof(n), tt.mroot);
        } else if (n < pf->v30) {
            /* mainnet below v3: pseudo-blocks only, 949 s apart; the
             * difficulty stays at genesis's 0 (949 s is slow) */
            tt.time0 = pt.stime;
            tt.difficulty = chain_next_difficulty(pf, &pt);
            tt.stime = tt.time0 + 949;
        } else if (g->pseudo_every && n % g->pseudo_every == 0) {
            tt.time0 = pt.stime;
            tt.difficulty = chain_next_difficulty(pf, &pt);
            tt.stime = tt.time0 + 238;
        } else {
            tt.mfee = 500;
            tt.tcount = 1;
            tt.time0 = pt.stime;
            tt.difficulty = chain_next_difficulty(pf, &pt);
            tt.stime = tt.time0 + gap_for(tt.difficulty, target);
            for (int i = 0; i < 32; i++)
                tt.mroot[i] = (uint8_t)xorshift(&rs);
        }
        if (brk) {
            /* break one rule; the fields are set before mining so the
             * proof still holds for what is stored */
            switch (g->brk) {
            case GEN_PHASH:
                tt.phash[0] ^= 1;
                break;
            case GEN_BNUM:
                tt.bnum++;
                break;
            case GEN_MFEE:
                tt.mfee = 499;
                break;
            case GEN_TCOUNT:
                tt.tcount = 32769;
                break;
            case GEN_TIME_EQ:
                tt.stime = tt.time0;
                break;
            case GEN_TIME_GAP:
                tt.stime = tt.time0 + 239;
                break;
            case GEN_TIME0:
                tt.time0--;
                if (n < pf->v30) /* a pseudo-block keeps its gap */
                    tt.stime--;
                break;
            case GEN_DIFF:
                tt.difficulty++;
                break;
            case GEN_NG_FIELDS:
                tt.mfee = 1;
                break;
            case GEN_NG_COPY:
                tt.stime++;
                break;
            case GEN_PSEUDO_GAP:
                tt.stime--;
                break;
            case GEN_NG_MROOT:
                tt.mroot[0] ^= 1;
                break;
            default:
                break;
            }
        }
        trailer_encode(&tt, t);
        if (tt.tcount != 0 && (n & 0xff) != 0) {
            if (brk && g->brk == GEN_POW) {
                /* a haiku that misses: needs a difficulty above 0 */
                int missed = 0;

                for (int i = 0; i < 1000 && !missed; i++) {
                    trigg_generate(xorshift, &rs, t + 92);
                    trigg_generate(xorshift, &rs, t + 108);
                    missed = peach_check(t, NULL) == PEACH_MISS;
                }
                if (!missed)
                    return -ERANGE;
            } else if (peach_mine(t, t[56], 1u << 20, xorshift, &rs) != 0) {
                return -ERANGE;
            }
            if (brk && g->brk == GEN_POW_SYNTAX)
                t[92] = 0;
        }
        rehash(t);
        if (brk && g->brk == GEN_BHASH)
            t[140] ^= 1;
        if (out(arg, t) != 0)
            return -EIO;
        memcpy(p, t, TRAILER_LEN);
    }
    return 0;
}
