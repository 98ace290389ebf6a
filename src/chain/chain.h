/*
 * chain/chain.h - the chain on flash: validated trailers in the chain
 * log, the tip, the weight and the trusted checkpoint.
 *
 * Log index i holds the trailer with bnum origin + i.  origin is 0 when
 * the chain starts at genesis, or the bnum of a trusted checkpoint: the
 * device keeps and checks only history from there on.  The base is the
 * first trailer kept (origin, or later after `chain trim`).  A small
 * state record in the store (CHAIN_STATE_KEY, docs/FORMAT.md) names the
 * profile, the origin, the base (bnum, bhash, weight through it) and a
 * snapshot of the tip (bnum, bhash, weight), all in one record.  The
 * snapshot is written after each appended batch and each truncation; a cut between the log and the
 * snapshot is found at open (count or tip hash differ) and the weight is
 * recomputed from the base, so the recorded weight always matches the
 * stored chain.
 *
 * When the log is full, or its run map is (every mount and truncation
 * starts a run), an append first trims the oldest quarter of the stored
 * history (at least the oldest run), keeping the weight through the new
 * base: a small device keeps the recent chain.  Appends validate every
 * trailer against its predecessor before any is written, and write in
 * batches (each all or none): after a cut the
 * stored chain is a valid prefix of what was being appended.  A reorg is
 * one chain-log batch from the fork (clog_batch_*): the old branch stays
 * until the new one is complete.
 *
 * Memory: struct chain is caller-allocated, at most 81 KiB (most of it
 * the import's read buffer, CHAIN_BATCH trailers); nothing is static.
 */
#ifndef CHAIN_CHAIN_H
#define CHAIN_CHAIN_H

#include <stdint.h>

#include "chain/trailer.h"
#include "store/clog.h"
#include "store/store.h"

#define CHAIN_STATE_KEY "chain.state"
#define CHAIN_STATE_LEN 160
#define CHAIN_BATCH 512 /* trailers per atomic append */

struct chain {
    const struct chain_profile *pf; /* NULL: no chain yet */
    struct clog *log;
    struct store *st;
    int from_checkpoint; /* started at a trusted checkpoint */
    uint64_t origin;     /* bnum at log index 0 */
    uint64_t base;       /* bnum of the first trailer kept */
    uint8_t base_bhash[32];
    struct chain_weight base_w; /* through base, inclusive */
    uint64_t count;             /* trailers stored */
    uint8_t tip[TRAILER_LEN];   /* the last one (when count > 0) */
    struct chain_weight w;      /* through the tip */
    int recomputed;             /* open had to recompute the weight */
    int rebuilt;                /* open computed a lost state from the log */
    uint64_t lost;   /* trailers the snapshot counted that the end of the log
                      lost to damage (found at open; reported) */
    int state_stale; /* the last state write failed (the log counts) */
    unsigned auto_trims; /* history dropped to make room */
    /* Called now and then by chain_import while it validates a file
     * (done, total trailers); nonzero cancels (nothing committed yet).
     * May be NULL. */
    int (*progress)(void *arg, uint64_t done, uint64_t total);
    void *progress_arg;
    char why[200];
    uint8_t io[CHAIN_BATCH * TRAILER_LEN]; /* import's read buffer */
};

/* Open the stored chain.  0 (a chain, or none yet: pf NULL), or < 0
 * with why set (the log does not match its state: -EBADMSG).  A log
 * without a state that starts at a genesis has its state computed
 * again (rebuilt set). */
int chain_open(struct chain *c, struct clog *log, struct store *st);

/* Start an empty device at a trusted checkpoint: profile, bnum, bhash
 * and the weight through it.  The trailer itself arrives with the first
 * import (its bhash must match).  -EEXIST when a chain is stored. */
int chain_set_checkpoint(struct chain *c, const struct chain_profile *pf,
                         uint64_t bnum, const uint8_t bhash[32],
                         const struct chain_weight *w);

/* Read the stored trailer bnum.  -ENOENT outside the stored range. */
int chain_read(struct chain *c, uint64_t bnum, uint8_t out[TRAILER_LEN]);

/* Validate n trailers (consecutive, the first succeeding the tip) and
 * append the valid prefix.  Returns how many were appended; on the first
 * invalid one *bad gets its reason and *bad_bnum its bnum.  < 0 on a
 * storage error (what was appended before it stays). */
int chain_extend(struct chain *c, const uint8_t *recs, uint32_t n,
                 const struct chain_opts *o, enum chain_reason *bad,
                 uint64_t *bad_bnum);

/* Drop trailers from bnum on (bnum > base).  -EINVAL otherwise. */
int chain_truncate(struct chain *c, uint64_t bnum);

/* Keep only bnum.. : it becomes the new base (checkpoint).  The weight
 * through bnum is summed forward from the base, or back from the tip
 * when a trailer below bnum is unreadable: a damaged trailer can be
 * trimmed past. */
int chain_trim(struct chain *c, uint64_t bnum);

/* Drop the stored chain and its state (a wrong network, a state that
 * cannot be recovered): one chain-log checkpoint, then the state key. */
int chain_reset(struct chain *c);

/* Import a tfile.dat (record k is bnum k) read through read_at.  The
 * stored chain and the file must share the base trailer (genesis, or
 * the checkpoint's); from where they part, the file's trailers are
 * validated in order, and the valid part replaces the stored one only
 * if the result is heavier ("a reorg truncates").  Returns 0 with *res
 * filled (even when the file had an invalid trailer: what came before
 * it is committed), or < 0 with why set. */
struct chain_import_res {
    uint64_t records;      /* in the file */
    uint64_t fork;         /* last trailer in common */
    uint64_t appended;     /* trailers committed */
    int replaced;          /* 1: the file's branch won a reorg */
    unsigned damaged;      /* stored trailers found unreadable (and, with
                              replaced, rewritten from the file) */
    int kept;              /* 1: the stored chain was heavier or equal */
    enum chain_reason bad; /* first invalid trailer's reason, or OK */
    uint64_t bad_bnum;
};
int chain_import(struct chain *c, uint64_t size,
                 int (*read_at)(void *arg, uint64_t off, void *buf, size_t len),
                 void *arg, const struct chain_opts *o,
                 struct chain_import_res *res);

/*
 * Import a tfile that arrives as a stream, in order, once (a YMODEM
 * upload: `chain receive`), with chain_import's checks in one pass and
 * no more memory than c->io:
 *   - trailers below the base are skipped (trailer 0 picks the network
 *     when nothing is stored); the base and the stored trailers after it
 *     are compared as they come, to find the fork;
 *   - after the tip, trailers are validated and appended in batches of
 *     CHAIN_BATCH as they come (each batch extends a valid chain, as
 *     chain_extend does: a stream cut short keeps the valid part it
 *     delivered);
 *   - a branch that forks below the tip (a reorg, or a repair) goes into
 *     one chain-log batch as it comes; the last piece, held back until
 *     chain_rx_end(), commits it only if the whole of the file's branch
 *     is valid and wins.  Unlike chain_import it is all or nothing (the
 *     batch's length is fixed when it begins), and it never trims
 *     history to make room (-ENOSPC instead: the decision to drop
 *     history is not made on bytes not yet checked).
 * begin: the size is the stream's, announced before it starts (its
 * checks as chain_import's).  put: 0 to go on, 1 when the rest of the
 * stream is not needed (an invalid trailer, another chain's base),
 * < 0 with why set.  end: complete 1 after the last byte (the last
 * piece is processed there), 0 to abandon (a reorg's batch is
 * abandoned; appended batches stay); 0 with *res filled, or < 0.
 */
struct chain_rx {
    struct chain *c;
    struct chain_opts o;
    struct chain_import_res *res;
    uint64_t size, got;    /* bytes announced, taken */
    uint64_t n, b;         /* bnum after the stream's last; of c->io[0] */
    uint64_t first;        /* bnum of the stream's first trailer */
    uint64_t fork, k;      /* last trailer in common; first of the branch */
    size_t fill;           /* bytes waiting in c->io */
    uint32_t checked;      /* trailers in c->io validated */
    struct chain_weight w; /* through prev */
    uint8_t prev[TRAILER_LEN];
    uint8_t fb[TRAILER_LEN]; /* the stream's trailer at the base */
    int phase, had_pf, empty, reorg, batch, refused;
};
int chain_rx_begin(struct chain_rx *rx, struct chain *c, uint64_t size,
                   const struct chain_opts *o, struct chain_import_res *res);
/* The same for a stream of trailers first.. (first > 0: a stored
 * trailer, the last one known to be common, as sync finds it, and the
 * stream's first trailer must equal it; or, on an empty device started
 * at a checkpoint, the checkpoint's bnum, and the stream's first
 * trailer must carry its bhash), size bytes. */
int chain_rx_begin_at(struct chain_rx *rx, struct chain *c, uint64_t first,
                      uint64_t size, const struct chain_opts *o,
                      struct chain_import_res *res);
int chain_rx_put(struct chain_rx *rx, const void *p, size_t len);
int chain_rx_end(struct chain_rx *rx, int complete);

/* Nothing stored: choose the network whose genesis is t (the first
 * trailer of a tfile).  -EINVAL (why set) when t is neither genesis. */
int chain_pick_network(struct chain *c, const uint8_t t[TRAILER_LEN]);

/* The tip's bnum (base + count - 1); only when count > 0. */
uint64_t chain_tip_bnum(const struct chain *c);

#endif
