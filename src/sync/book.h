/*
 * sync/book.h - what sync keeps about peers on flash, with no network
 * code (so the parsers have a fuzz target of their own and the table's
 * policy a unit test): the seeds, the peer table and the guard's memory,
 * their store records (docs/FORMAT.md), and the addresses of a SEND_IPL.
 *
 * The peer table (SYNC_PEERS_MAX entries) holds Mochimo peers learned
 * from GET_IPL answers and FOUND pushes, each with a score, when it last
 * answered and a pinklist expiry.  It is bounded and cannot be flooded:
 *  - an answer adds at most SYNC_IPL_TAKE addresses, and the table holds
 *    at most SYNC_FROM_MAX never-answered addresses from one source;
 *  - a full table makes room only by replacing an entry known to be
 *    bad (a score below zero, or never answered and failed); a peer
 *    that answered honestly, or an address not tried yet, is never
 *    pushed out by hearsay;
 *  - a peer that does not connect or answer in time is pinklisted for
 *    SYNC_PINK_S << (failures - 1) seconds, at most SYNC_PINK_MAX_S, and
 *    not asked meanwhile; one that lied goes to the guard's memory
 *    (sync.bad) and is also scored down;
 *  - a sync asks at most SYNC_NEW_PER_RUN addresses that never answered.
 * Persisted in two store records (sync.peers.0, sync.peers.1: half the
 * table each, so each fits a store value); each half is whole on its own.
 * Times are wall-clock seconds; without a clock, pinklisting holds for
 * this boot only (pink_mono).
 */
#ifndef SYNC_BOOK_H
#define SYNC_BOOK_H

#include <stddef.h>
#include <stdint.h>

#define SYNC_SEEDS_KEY "sync.seeds"
#define SYNC_SEEDS_MAX 16

#define SYNC_PEERS_KEY0 "sync.peers.0"
#define SYNC_PEERS_KEY1 "sync.peers.1"
#define SYNC_PEERS_MAX 256
#define SYNC_PEERS_HALF (SYNC_PEERS_MAX / 2)
#define SYNC_PEERS_VERSION 1
#define SYNC_PEER_REC 24
#define SYNC_PEERS_HDR 4
#define SYNC_IPL_TAKE 16   /* new addresses taken from one answer */
#define SYNC_NEW_PER_RUN 8 /* never-answered addresses asked per sync */
#define SYNC_FROM_MAX 32   /* never-answered entries from one source */
#define SYNC_PINK_S 60     /* first pinklisting */
#define SYNC_PINK_MAX_S (24 * 3600)
#define SYNC_SCORE_MAX 1000
#define SYNC_SCORE_MIN (-1000)
#define SYNC_SCORE_LIE (-100) /* what a lie costs */

/* How a peer entered the table. */
#define SYNC_SRC_IPL 1   /* a GET_IPL answer */
#define SYNC_SRC_FOUND 2 /* it pushed a proved block (FOUND) */

/* Entry flags. */
#define SYNC_PF_ANSWERED 1 /* has answered a scan at least once */

struct sync_seed {
    uint8_t ip[4];
    uint16_t port;
};

struct sync_peer {
    uint8_t ip[4];
    uint16_t port;       /* 0: a free entry */
    uint8_t flags;       /* SYNC_PF_* */
    uint8_t fails;       /* failures in a row */
    int16_t score;       /* +1 an answer, +2 a proved chain; -1 a failure */
    uint8_t src;         /* SYNC_SRC_* */
    uint8_t from[4];     /* who told us (GET_IPL) */
    uint32_t last_seen;  /* wall s of the last answer; 0: never */
    uint32_t pink_until; /* wall s; 0: not pinklisted */
    uint64_t pink_mono;  /* monotonic ms, without a wall clock (RAM only) */
};

struct sync_book {
    struct sync_peer p[SYNC_PEERS_MAX];
    unsigned n;     /* entries in use are p[0..n) (free ones have port 0) */
    int dirty;      /* differs from the store in what matters */
    int soft_dirty; /* only last_seen/score moved */
};

/* The guard's memory (store record sync.bad): a peer that lied, a chain
 * whose claim failed, or a trailer that failed (the SHA-256 of the one
 * before it and itself), until an expiry. */
#define SYNC_BAD_KEY "sync.bad"
#define SYNC_BAD_MAX 32
#define SYNC_BAD_REC 80
#define SYNC_BAD_S (24 * 3600) /* remembered this long (wall clock) */
#define SYNC_BAD_PEER 1
#define SYNC_BAD_CHAIN 2
#define SYNC_BAD_RANGE 3
struct sync_bad {
    uint8_t kind;   /* SYNC_BAD_*; 0: free */
    uint8_t reason; /* enum sync_reason */
    uint8_t ip[4];  /* a peer: its address and port */
    uint16_t port;
    int64_t until;      /* wall clock; INT64_MAX: until forgotten */
    uint8_t hash[32];   /* a chain: its tip hash; a trailer: SHA-256 of
                           the trailer before it and itself */
    uint8_t weight[32]; /* a chain: its advertised weight; a trailer: its
                           bnum (u64) and 1 (u32) */
};

/* Records: decode what is valid (an entry that is not is skipped and
 * counted in *skipped when given), encode the table.  reason_count
 * bounds the reasons of sync.bad. */
unsigned sync_seeds_decode(const uint8_t *p, size_t n,
                           struct sync_seed out[SYNC_SEEDS_MAX]);
size_t sync_seeds_encode(const struct sync_seed *s, unsigned n,
                         uint8_t out[SYNC_SEEDS_MAX * 6]);
unsigned sync_bad_decode(const uint8_t *p, size_t n,
                         struct sync_bad out[SYNC_BAD_MAX],
                         unsigned reason_count, unsigned *skipped);
void sync_bad_encode1(const struct sync_bad *b, uint8_t out[SYNC_BAD_REC]);
/* Half h (0 or 1) of the table into out (SYNC_PEERS_HDR + HALF * REC
 * bytes at most); returns the length. */
size_t sync_book_encode(const struct sync_book *b, int h, uint8_t *out);
/* Add half h's entries from a record; -EBADMSG when its header is not
 * one (nothing taken), else the entries taken. */
int sync_book_decode(struct sync_book *b, const uint8_t *p, size_t n,
                     unsigned *skipped);

/* A SEND_IPL payload: the usable addresses (not 0/8, 127/8, multicast
 * or reserved, not repeated), at most 64; -EMSGSIZE (over 256 bytes) or
 * -EINVAL (not a multiple of 4). */
int sync_ipl_parse(const uint8_t *p, size_t n, uint8_t out[64][4]);

/* The table. */
int sync_book_find(const struct sync_book *b, const uint8_t ip[4],
                   uint16_t port);
/* Learn ip:port (src, told by from): its index (new or known), or
 * -ENOSPC when the table is full of peers worth keeping. */
int sync_book_learn(struct sync_book *b, const uint8_t ip[4], uint16_t port,
                    uint8_t src, const uint8_t from[4]);
/* An answer (admitted: its chain was proved), a failure (pinklisted
 * with backoff), a lie (scored down hard; the guard remembers it). */
void sync_book_answered(struct sync_book *b, int i, int admitted, int64_t wall);
void sync_book_failed(struct sync_book *b, int i, int64_t wall, uint64_t mono);
void sync_book_lied(struct sync_book *b, int i);
int sync_book_pinked(const struct sync_peer *p, int64_t wall, uint64_t mono);
/* Up to max entries to ask, best first (answered before never-answered,
 * then by score), skipping pinklisted ones; at most max_new that never
 * answered.  Returns how many indexes went into out. */
unsigned sync_book_pick(const struct sync_book *b, int64_t wall, uint64_t mono,
                        unsigned max, unsigned max_new, int out[]);
/* Entries that answered with a score above zero: what GET_IPL serves. */
unsigned sync_book_good(const struct sync_book *b, uint8_t out[][4],
                        unsigned max);

#endif
