/*
 * chain/gen.h - minting testnet chains (keel-chaingen and the tests).
 *
 * A chain starts at the testnet genesis and holds standard blocks (one
 * transaction, mined with peach at the target difficulty), a pseudo-block
 * every pseudo_every blocks, and the NG block every 256th block the rules
 * demand.  Block times are chosen so the difficulty stays at the target:
 * 100 s normally, shorter or longer to step back to it after a
 * pseudo-block.  With fork_at set, blocks from that height on are minted
 * from a different seed at fork_difficulty (a heavier or lighter branch).
 * With brk set, block brk_at breaks one rule once; later blocks build on
 * it.  The NG and pseudo breaks need brk_at at such a block, and "pow"
 * a difficulty above 0.  The clock rule (stime in the future) depends on
 * the validating device's clock, not on the chain: tests set the clock.
 *
 * With mainnet set, the chain has the shape real Mochimo peers serve
 * (docs/CHAIN.md "Test chains"): the real mainnet genesis, then, below
 * v3 (0xa0700), only pseudo-blocks (949 s apart, difficulty 0, no mroot)
 * and the NG blocks that copy them; from 0xa0700 on the blocks above
 * (standard blocks mined with peach at the target difficulty, a
 * pseudo-block every pseudo_every, NG blocks), under v3's rules.  It
 * validates under chain_mainnet.  blocks is the tip's bnum in both
 * modes; below v3 only the NG and pseudo breaks (and phash, bnum, time0,
 * difficulty, bhash, ng-mroot) make sense.
 */
#ifndef CHAIN_GEN_H
#define CHAIN_GEN_H

#include <stdint.h>

#include "chain/trailer.h"

enum chaingen_break {
    GEN_OK = 0,
    GEN_PHASH,
    GEN_BNUM,
    GEN_MFEE,
    GEN_TCOUNT,
    GEN_TIME_EQ,
    GEN_TIME_GAP,
    GEN_TIME0,
    GEN_DIFF,
    GEN_BHASH,
    GEN_POW_SYNTAX,
    GEN_POW,
    GEN_NG_FIELDS,
    GEN_NG_COPY,
    GEN_PSEUDO_GAP,
    GEN_NG_MROOT, /* an mroot in an NG or pseudo-block before v3 */
    GEN__COUNT
};

struct chaingen {
    uint64_t blocks;       /* trailers after genesis */
    unsigned difficulty;   /* target difficulty (0..16 sensible) */
    unsigned pseudo_every; /* 0: none */
    uint32_t seed;
    uint64_t fork_at; /* 0: no fork */
    unsigned fork_difficulty;
    uint32_t fork_seed;
    enum chaingen_break brk;
    uint64_t brk_at; /* the block that breaks brk */
    int mainnet;     /* 1: mainnet-shaped (above); 0: testnet */
};

const char *chaingen_break_name(enum chaingen_break b);
enum chaingen_break chaingen_break_find(const char *name);
/* The reason a validator must give for a break. */
enum chain_reason chaingen_break_reason(enum chaingen_break b);

/* Mint: out(arg, trailer) for genesis and every block.  Returns 0,
 * -ERANGE when a block could not be mined (difficulty too high), or
 * -EIO when out failed. */
int chaingen_run(const struct chaingen *g,
                 int (*out)(void *arg, const uint8_t t[TRAILER_LEN]),
                 void *arg);

#endif
