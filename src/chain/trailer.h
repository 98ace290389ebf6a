/*
 * chain/trailer.h - Mochimo block trailers: the 160-byte BTRAILER, the
 * v3 validation rules, chain weight and network profiles.
 *
 * Trailers are handled as the 160 bytes they are on the wire and in a
 * tfile.dat; struct trailer is a decoded copy (explicit little-endian
 * loads, never a struct cast).  docs/CHAIN.md gives the rules with their
 * sources; docs/FORMAT.md the bytes.
 */
#ifndef CHAIN_TRAILER_H
#define CHAIN_TRAILER_H

#include <stddef.h>
#include <stdint.h>

#define TRAILER_LEN 160

/* Byte offsets of the fields in Mochimo's 160-byte BTRAILER (all
 * integers little-endian; docs/FORMAT.md "Trailer"). */
#define TRAILER_PHASH 0       /* 32: the previous block's bhash */
#define TRAILER_BNUM 32       /* u64 */
#define TRAILER_MFEE 40       /* u64 */
#define TRAILER_TCOUNT 48     /* u32 */
#define TRAILER_TIME0 52      /* u32 */
#define TRAILER_DIFFICULTY 56 /* u32 */
#define TRAILER_MROOT 60      /* 32 */
#define TRAILER_NONCE 92      /* 32: two 16-byte haiku halves */
#define TRAILER_STIME 124     /* u32 */
#define TRAILER_BHASH 128     /* 32: SHA-256 of bytes 0..127 */

struct trailer {
    uint8_t phash[32];
    uint64_t bnum, mfee;
    uint32_t tcount, time0, difficulty;
    uint8_t mroot[32], nonce[32];
    uint32_t stime;
    uint8_t bhash[32];
};

void trailer_decode(const uint8_t b[TRAILER_LEN], struct trailer *t);
void trailer_encode(const struct trailer *t, uint8_t b[TRAILER_LEN]);

/* A network: its genesis and the heights at which rules changed. */
struct chain_profile {
    const char *name;
    uint8_t genesis_bhash[32];
    uint64_t v30;              /* v3 rules (238 s blocks, bhash) from here */
    uint64_t peach;            /* proof of work is peach for bnum > this */
    uint64_t time0_link;       /* time0 == p.stime for bnum > this */
    uint64_t diff_v2;          /* difficulty thresholds 284/143 from here */
    uint64_t diff_v2_hash;     /* ... with the stime hash up to here */
    uint64_t gap_a, gap_b;     /* block time limit enforced above these */
    uint64_t bad_pow;          /* one block accepted without its peach... */
    uint8_t bad_pow_bhash[32]; /* ... with exactly this bhash */
    int has_bad_pow;
};

extern const struct chain_profile chain_mainnet, chain_testnet;
const struct chain_profile *chain_profile_find(const char *name);

/* The genesis trailer of a profile (bytes 0..127 zero for mainnet). */
void chain_genesis(const struct chain_profile *pf, uint8_t out[TRAILER_LEN]);

/* Why a trailer was refused. */
enum chain_reason {
    CHAIN_OK = 0,
    CHAIN_R_PHASH,      /* phash is not the previous bhash */
    CHAIN_R_BNUM,       /* bnum is not previous + 1 */
    CHAIN_R_NG_FIELDS,  /* NG/pseudo block with fees, tcount or nonce */
    CHAIN_R_NG_MROOT,   /* NG/pseudo block before v3 with an mroot */
    CHAIN_R_NG_COPY,    /* NG block not copying time0/difficulty/stime */
    CHAIN_R_MFEE,       /* standard block mfee below 500 */
    CHAIN_R_TCOUNT,     /* standard block tcount outside 1..32768 */
    CHAIN_R_PSEUDO_GAP, /* pseudo-block stime - time0 not 238 (949) */
    CHAIN_R_TIME_EQ,    /* standard block with time0 == stime */
    CHAIN_R_TIME_GAP,   /* standard block stime - time0 above 238 (949) */
    CHAIN_R_TIME0,      /* time0 is not the previous stime */
    CHAIN_R_DIFF,       /* difficulty is not next_difficulty(previous) */
    CHAIN_R_FUTURE,     /* stime more than 3 s past the device clock */
    CHAIN_R_BHASH,      /* bhash is not SHA-256 of bytes 0..127 */
    CHAIN_R_POW_SYNTAX, /* nonce halves are not haiku */
    CHAIN_R_POW,        /* the proof of work misses the difficulty */
    CHAIN_R_GENESIS,    /* first trailer is not the profile's genesis */
    CHAIN_R_CHECKPOINT, /* trailer at the checkpoint height differs */
    CHAIN_R__COUNT
};

const char *chain_reason_str(enum chain_reason r);

/* Options for chain_check(). */
struct chain_opts {
    int64_t now; /* device clock, Unix seconds; <= 0: no future check */
    int pow;     /* 1: check the proof of work */
};

/* Check trailer t (160 bytes) as the successor of p.  Returns CHAIN_OK
 * or the first rule it breaks.  pf decides the heights. */
enum chain_reason chain_check(const struct chain_profile *pf,
                              const uint8_t p[TRAILER_LEN],
                              const uint8_t t[TRAILER_LEN],
                              const struct chain_opts *o);

/* The difficulty the successor of p must carry. */
uint32_t chain_next_difficulty(const struct chain_profile *pf,
                               const struct trailer *p);

/* 256-bit chain weight, little-endian 32-bit limbs. */
struct chain_weight {
    uint32_t w[8];
};
/* Add the weight of trailer t (2^difficulty[0], unless bnum % 256 ==
 * 0xff). */
void chain_weight_add(struct chain_weight *w, const uint8_t t[TRAILER_LEN]);
/* The inverse of chain_weight_add (w must hold t's share). */
void chain_weight_sub(struct chain_weight *w, const uint8_t t[TRAILER_LEN]);
int chain_weight_cmp(const struct chain_weight *a,
                     const struct chain_weight *b);
/* 64 hex digits, most significant first, NUL-terminated. */
void chain_weight_hex(const struct chain_weight *w, char out[65]);

#endif
