/*
 * chain/chain.c - the chain on flash (see chain.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chain/chain.h"
#include "crypto/crypto.h"
#include "lib/le.h"
#include "lib/why.h"

static const char state_magic[4] = {'K', 'C', 'S', '1'};

/* Put the failure in c->why and return rc (lib/why.h). */
#define fail(c, rc, ...) lib_why((c)->why, sizeof((c)->why), (rc), __VA_ARGS__)

static void
w_put(uint8_t *p, const struct chain_weight *w)
{
    for (int i = 0; i < 8; i++)
        lib_put32(p + 4 * i, w->w[i]);
}

static void
w_get(const uint8_t *p, struct chain_weight *w)
{
    for (int i = 0; i < 8; i++)
        w->w[i] = lib_le32(p + 4 * i);
}

uint64_t
chain_tip_bnum(const struct chain *c)
{
    return c->base + c->count - 1;
}

/* State record (docs/FORMAT.md): one store record, so the snapshot is
 * never half old and half new. */
static int
state_save(struct chain *c)
{
    uint8_t s[CHAIN_STATE_LEN];

    memset(s, 0, sizeof(s));
    memcpy(s, state_magic, 4);
    s[4] = 1;
    s[5] = c->pf == &chain_mainnet ? 0 : 1;
    s[6] = (uint8_t)(c->from_checkpoint ? 1 : 0);
    lib_put64(s + 8, c->origin);
    lib_put64(s + 16, c->base);
    memcpy(s + 24, c->base_bhash, 32);
    w_put(s + 56, &c->base_w);
    lib_put64(s + 88, c->count);
    if (c->count > 0)
        memcpy(s + 96, c->tip + 128, 32);
    w_put(s + 128, &c->w);
    return store_put(c->st, CHAIN_STATE_KEY, s, sizeof(s)) == 0 ? 0 : -EIO;
}

static uint32_t
index_of(const struct chain *c, uint64_t bnum)
{
    return (uint32_t)(bnum - c->origin);
}

/* Weight from the base through the stored tip, reading every trailer. */
static int
recompute(struct chain *c)
{
    uint8_t t[TRAILER_LEN];

    c->w = c->base_w;
    for (uint64_t b = c->base + 1; c->count > 0 && b <= chain_tip_bnum(c);
         b++) {
        int rc = clog_read(c->log, index_of(c, b), t);

        if (rc != 0)
            return fail(c, rc,
                        "trailer %" PRIu64 " unreadable while "
                        "recomputing the weight",
                        b);
        chain_weight_add(&c->w, t);
    }
    c->recomputed = 1;
    return 0;
}

/* The log holds trailers but the store no state (lost, or never written
 * because the store was full): a log that starts at a genesis says all
 * there is to say, so the state is computed again. */
static int
rebuild_state(struct chain *c)
{
    uint8_t g[TRAILER_LEN];
    int rc;

    if (c->log->first != 0)
        return fail(c, -EBADMSG,
                    "the chain log holds trailers but no chain state, and "
                    "its history was trimmed; 'chain reset --force' drops "
                    "them");
    rc = clog_read(c->log, 0, c->tip);
    if (rc != 0)
        return fail(c, rc,
                    "the chain log holds trailers but no chain state, and "
                    "its first trailer is unreadable; 'chain reset --force' "
                    "drops them");
    chain_genesis(&chain_mainnet, g);
    if (memcmp(g, c->tip, TRAILER_LEN) == 0) {
        c->pf = &chain_mainnet;
    } else {
        chain_genesis(&chain_testnet, g);
        if (memcmp(g, c->tip, TRAILER_LEN) != 0)
            return fail(c, -EBADMSG,
                        "the chain log holds trailers but no chain state, "
                        "and they do not start at a genesis; 'chain reset "
                        "--force' drops them");
        c->pf = &chain_testnet;
    }
    memset(&c->base_w, 0, sizeof(c->base_w));
    chain_weight_add(&c->base_w, g);
    memcpy(c->base_bhash, g + 128, 32);
    c->count = c->log->end;
    rc = clog_read(c->log, c->log->end - 1, c->tip);
    if (rc != 0)
        return fail(c, rc, "the tip trailer is unreadable");
    rc = recompute(c);
    if (rc != 0)
        return rc;
    c->rebuilt = 1;
    c->state_stale = state_save(c) != 0;
    return 0;
}

int
chain_open(struct chain *c, struct clog *log, struct store *st)
{
    uint8_t s[CHAIN_STATE_LEN];
    int n, rc;

    memset(c, 0, sizeof(*c));
    c->log = log;
    c->st = st;
    n = store_get(st, CHAIN_STATE_KEY, s, sizeof(s));
    if (n == -ENOENT) {
        if (log->end != log->first)
            return rebuild_state(c);
        return 0;
    }
    if (n != CHAIN_STATE_LEN || memcmp(s, state_magic, 4) != 0 || s[4] != 1 ||
        s[5] > 1 || s[6] > 1)
        return fail(c, -EBADMSG,
                    "chain state record unreadable; 'chain reset --force' "
                    "drops the stored chain");
    c->pf = s[5] == 0 ? &chain_mainnet : &chain_testnet;
    c->from_checkpoint = s[6];
    c->origin = lib_le64(s + 8);
    c->base = lib_le64(s + 16);
    memcpy(c->base_bhash, s + 24, 32);
    w_get(s + 56, &c->base_w);
    /* The log decides what is stored; the snapshot only saves work. */
    /* (origin + first below the base is a trim whose log part a cut
     * stopped: the trailers below the base are ignored) */
    if (c->origin + log->first > c->base)
        return fail(c, -EBADMSG, "chain log was trimmed past its base");
    c->count =
        log->end > index_of(c, c->base) ? log->end - index_of(c, c->base) : 0;
    if (c->count > 0) {
        rc = clog_read(log, log->end - 1, c->tip);
        if (rc != 0)
            return fail(c, rc, "the tip trailer is unreadable");
    }
    if (lib_le64(s + 88) == c->count &&
        (c->count == 0 || memcmp(s + 96, c->tip + 128, 32) == 0)) {
        w_get(s + 128, &c->w);
        return 0;
    }
    /* A cut fell between the log and its snapshot: count again. */
    rc = recompute(c);
    if (rc == 0 && lib_le64(s + 88) > c->count && log->tail_torn > 0) {
        /* Not a cut: the snapshot is ahead of a log whose last write
         * did not commit.  An append writes the log before the
         * snapshot, and a truncation or reorg the snapshot missed ends
         * the log with a slot that verifies.  The end of the log is
         * damaged, and trailers it had committed are lost.  The
         * snapshot stays as it is, so every open says so until the
         * chain is written again. */
        c->lost = lib_le64(s + 88) - c->count;
        return 0;
    }
    if (rc == 0)
        rc = state_save(c);
    return rc;
}

int
chain_set_checkpoint(struct chain *c, const struct chain_profile *pf,
                     uint64_t bnum, const uint8_t bhash[32],
                     const struct chain_weight *w)
{
    if (c->count > 0)
        return fail(c, -EEXIST,
                    "a chain is stored (tip %" PRIu64 "); trim it instead",
                    chain_tip_bnum(c));
    c->pf = pf;
    c->from_checkpoint = 1;
    c->origin = bnum;
    c->base = bnum;
    memcpy(c->base_bhash, bhash, 32);
    c->base_w = *w;
    c->w = *w;
    return state_save(c) == 0 ? 0 : fail(c, -EIO, "store write failed");
}

int
chain_read(struct chain *c, uint64_t bnum, uint8_t out[TRAILER_LEN])
{
    if (c->count == 0 || bnum < c->base || bnum > chain_tip_bnum(c))
        return -ENOENT;
    return clog_read(c->log, index_of(c, bnum), out);
}

/* The first stored trailer: genesis, or the checkpoint's. */
static enum chain_reason
check_base(struct chain *c, const uint8_t t[TRAILER_LEN])
{
    uint8_t g[TRAILER_LEN], h[32];

    if (!c->from_checkpoint) {
        chain_genesis(c->pf, g);
        return memcmp(g, t, TRAILER_LEN) == 0 ? CHAIN_OK : CHAIN_R_GENESIS;
    }
    if (lib_le64(t + 32) != c->base || memcmp(t + 128, c->base_bhash, 32) != 0)
        return CHAIN_R_CHECKPOINT;
    if (c->base >= c->pf->v30) {
        crypto_sha256(t, 128, h);
        if (memcmp(h, t + 128, 32) != 0)
            return CHAIN_R_BHASH;
    }
    return CHAIN_OK;
}

/* The log is full, or its run map is (each mount and truncation starts
 * a run): drop the oldest quarter of the stored history, and at least
 * the oldest run, keeping the weight through the new base. */
static int
make_room(struct chain *c, uint64_t limit)
{
    uint64_t t = c->base + (c->count > 4 ? c->count / 4 : 1);

    if (c->log->nruns > 1 && c->origin + c->log->runs[1].index > t)
        t = c->origin + c->log->runs[1].index;
    if (c->count == 0 || t > chain_tip_bnum(c))
        t = c->count > 0 ? chain_tip_bnum(c) : c->base;
    if (t > limit)
        t = limit;
    if (t <= c->base)
        return -ENOSPC;
    c->auto_trims++;
    return chain_trim(c, t);
}

/* Append k trailers already validated against the tip, all or none,
 * then the state snapshot. */
static int
commit(struct chain *c, const uint8_t *b, uint32_t k)
{
    struct chain_weight w = c->w;
    int rc;

    /* a checkpoint's own trailer is already in its weight; genesis is
     * not */
    for (uint32_t i = 0; i < k; i++)
        if (!(c->count == 0 && i == 0 && c->from_checkpoint))
            chain_weight_add(&w, b + (size_t)i * TRAILER_LEN);
    rc = clog_append(c->log, b, k);
    if (rc == -ENOSPC && c->count > 0 && make_room(c, chain_tip_bnum(c)) == 0)
        rc = clog_append(c->log, b, k);
    if (rc != 0)
        return fail(c, rc, "appending to the chain log failed: %s",
                    strerror(-rc));
    if (c->count == 0 && !c->from_checkpoint) {
        /* the weight through genesis */
        memset(&c->base_w, 0, sizeof(c->base_w));
        chain_weight_add(&c->base_w, b);
        memcpy(c->base_bhash, b + 128, 32);
    }
    c->count += k;
    memcpy(c->tip, b + (size_t)(k - 1) * TRAILER_LEN, TRAILER_LEN);
    c->w = w;
    /* The trailers are committed: the log decides what is stored, and
     * open recomputes a state that did not follow (a full store). */
    c->state_stale = state_save(c) != 0;
    return 0;
}

int
chain_extend(struct chain *c, const uint8_t *recs, uint32_t n,
             const struct chain_opts *o, enum chain_reason *bad,
             uint64_t *bad_bnum)
{
    uint32_t done = 0;

    *bad = CHAIN_OK;
    if (c->pf == NULL)
        return fail(c, -EINVAL,
                    "no network chosen (import a tfile that "
                    "starts at a genesis, or set a checkpoint)");
    while (done < n) {
        uint32_t k = 0, m = n - done < CHAIN_BATCH ? n - done : CHAIN_BATCH;
        const uint8_t *b = recs + (size_t)done * TRAILER_LEN;
        enum chain_reason r = CHAIN_OK;

        /* validate the batch against the tip and itself */
        for (; k < m; k++) {
            const uint8_t *t = b + (size_t)k * TRAILER_LEN;

            if (c->count == 0 && k == 0)
                r = check_base(c, t);
            else
                r = chain_check(c->pf, k > 0 ? t - TRAILER_LEN : c->tip, t, o);
            if (r != CHAIN_OK) {
                *bad = r;
                *bad_bnum = lib_le64(t + 32);
                break;
            }
        }
        if (k > 0) {
            int rc = commit(c, b, k);

            if (rc != 0)
                return rc;
            done += k;
        }
        if (r != CHAIN_OK)
            break;
    }
    return (int)done;
}

int
chain_truncate(struct chain *c, uint64_t bnum)
{
    int rc;

    if (c->count == 0 || bnum <= c->base || bnum > chain_tip_bnum(c))
        return fail(c, -EINVAL,
                    "truncate point %" PRIu64 " outside the stored range",
                    bnum);
    rc = clog_truncate(c->log, index_of(c, bnum));
    if (rc != 0)
        return fail(c, rc, "truncating the chain log failed");
    c->count = bnum - c->base;
    rc = clog_read(c->log, index_of(c, bnum - 1), c->tip);
    if (rc == 0)
        rc = recompute(c);
    if (rc == 0)
        rc = state_save(c);
    return rc;
}

/* The weight through bnum (base <= bnum <= tip) into *w and trailer
 * bnum into t: forward from the base, or, when a trailer on the way is
 * unreadable, back from the tip's weight (so an unreadable trailer can
 * be trimmed past). */
static int
weight_through(struct chain *c, uint64_t bnum, struct chain_weight *w,
               uint8_t t[TRAILER_LEN])
{
    int rc = 0;

    *w = c->base_w;
    for (uint64_t b = c->base + 1; b <= bnum && rc == 0; b++) {
        rc = clog_read(c->log, index_of(c, b), t);
        if (rc == 0)
            chain_weight_add(w, t);
    }
    if (rc == 0) {
        if (bnum == c->base)
            rc = clog_read(c->log, index_of(c, bnum), t);
        return rc == 0 ? 0
                       : fail(c, rc, "trailer %" PRIu64 " unreadable", bnum);
    }
    *w = c->w;
    for (uint64_t b = chain_tip_bnum(c); b > bnum; b--) {
        rc = clog_read(c->log, index_of(c, b), t);
        if (rc != 0)
            return fail(c, rc,
                        "trailers %" PRIu64 " and above %" PRIu64
                        " are unreadable: the weight through %" PRIu64
                        " cannot be known",
                        b, bnum, bnum);
        chain_weight_sub(w, t);
    }
    rc = clog_read(c->log, index_of(c, bnum), t);
    return rc == 0
               ? 0
               : fail(c, rc,
                      "trailer %" PRIu64 " is unreadable: trim to a later one",
                      bnum);
}

int
chain_trim(struct chain *c, uint64_t bnum)
{
    struct chain_weight w;
    uint8_t t[TRAILER_LEN];
    int rc;

    if (c->count == 0 || bnum < c->base || bnum > chain_tip_bnum(c))
        return fail(c, -EINVAL,
                    "trim point %" PRIu64 " outside the stored range", bnum);
    if (bnum == c->base)
        return 0;
    rc = weight_through(c, bnum, &w, t);
    if (rc != 0)
        return rc;
    /* State first: a cut before the log trim leaves older trailers on
     * flash below the base, which open ignores. */
    c->count -= bnum - c->base;
    c->base = bnum;
    c->base_w = w;
    memcpy(c->base_bhash, t + 128, 32);
    if (state_save(c) != 0)
        return fail(c, -EIO, "chain state write failed");
    rc = clog_trim(c->log, index_of(c, bnum));
    if (rc != 0)
        return fail(c, rc, "trimming the chain log failed");
    return 0;
}

int
chain_reset(struct chain *c)
{
    struct clog *log = c->log;
    struct store *st = c->st;
    int rc = clog_reset(log);

    if (rc != 0)
        return fail(c, rc, "resetting the chain log failed: %s", strerror(-rc));
    rc = store_del(st, CHAIN_STATE_KEY);
    if (rc != 0 && rc != -ENOENT)
        return fail(c, rc, "deleting the chain state failed: %s",
                    strerror(-rc));
    memset(c, 0, sizeof(*c));
    c->log = log;
    c->st = st;
    return 0;
}

/* ---- import --------------------------------------------------------- */

/* Replace the trailers after fork with the file's [fork + 1, to), whose
 * weight through to is *fw: already validated once; read again in
 * pieces, each checked against its predecessor (ft is trailer fork)
 * as it is written.  One
 * chain-log batch, then the state: a cut anywhere before the batch's end
 * mark leaves the old branch; after it, the new one. */
static int
replace_branch(struct chain *c, uint64_t fork, const uint8_t ft[TRAILER_LEN],
               uint64_t to,
               int (*read_at)(void *arg, uint64_t off, void *buf, size_t len),
               void *arg, const struct chain_weight *fw)
{
    uint8_t prev[TRAILER_LEN];
    uint64_t total = to - fork - 1;
    int rc;

    if (total > UINT32_MAX)
        return fail(c, -E2BIG, "the branch is too long");
    /* Room for the whole branch beside the old one, trimming the oldest
     * history (never past the fork) if need be. */
    for (;;) {
        rc = clog_batch_begin(c->log, index_of(c, fork + 1), (uint32_t)total);
        if (rc != -ENOSPC)
            break;
        if (make_room(c, fork) != 0)
            return fail(c, -ENOSPC,
                        "the chain log cannot hold a %" PRIu64
                        "-trailer branch beside the stored one (trim "
                        "history, or import a later checkpoint)",
                        total);
    }
    if (rc != 0)
        return fail(c, rc, "starting the chain-log batch failed: %s",
                    strerror(-rc));
    memcpy(prev, ft, TRAILER_LEN);
    for (uint64_t b = fork + 1; rc == 0 && b < to;) {
        uint32_t m = to - b < CHAIN_BATCH ? (uint32_t)(to - b) : CHAIN_BATCH;

        if (read_at(arg, b * TRAILER_LEN, c->io, (size_t)m * TRAILER_LEN)) {
            rc = fail(c, -EIO, "cannot read the file");
            break;
        }
        for (uint32_t i = 0; i < m; i++) {
            const uint8_t *t = c->io + (size_t)i * TRAILER_LEN;

            if (chain_check(c->pf, i > 0 ? t - TRAILER_LEN : prev, t,
                            &(struct chain_opts){0, 0}) != CHAIN_OK) {
                rc = fail(c, -EIO,
                          "trailer %" PRIu64 " changed while importing", b + i);
                break;
            }
        }
        if (rc != 0)
            break;
        memcpy(prev, c->io + (size_t)(m - 1) * TRAILER_LEN, TRAILER_LEN);
        rc = clog_batch_put(c->log, c->io, m);
        if (rc != 0)
            rc = fail(c, rc,
                      "writing the branch failed: %s; the stored "
                      "chain is unchanged",
                      strerror(-rc));
        b += m;
    }
    if (rc != 0) {
        clog_batch_abort(c->log);
        return rc;
    }
    c->count = to - c->base;
    memcpy(c->tip, prev, TRAILER_LEN);
    c->w = *fw;
    c->state_stale = state_save(c) != 0;
    return 0;
}

static int import_file(struct chain *c, uint64_t size,
                       int (*read_at)(void *, uint64_t, void *, size_t),
                       void *arg, const struct chain_opts *o,
                       struct chain_import_res *res);

int
chain_import(struct chain *c, uint64_t size,
             int (*read_at)(void *arg, uint64_t off, void *buf, size_t len),
             void *arg, const struct chain_opts *o,
             struct chain_import_res *res)
{
    int had_pf = c->pf != NULL;
    int rc = import_file(c, size, read_at, arg, o, res);

    /* The network is chosen from the file's genesis before anything is
     * stored: when nothing was, the device has still chosen none. */
    if (!had_pf && c->count == 0)
        c->pf = NULL;
    return rc;
}

static int
import_file(struct chain *c, uint64_t size,
            int (*read_at)(void *arg, uint64_t off, void *buf, size_t len),
            void *arg, const struct chain_opts *o, struct chain_import_res *res)
{
    uint8_t t[TRAILER_LEN], s[TRAILER_LEN], prev[TRAILER_LEN], ft[TRAILER_LEN];
    struct chain_weight w;
    uint64_t n, start, fork, k;
    int rc;

    memset(res, 0, sizeof(*res));
    if (size % TRAILER_LEN != 0)
        return fail(c, -EINVAL,
                    "file size %" PRIu64 " is not a multiple of 160 (cut "
                    "%" PRIu64 " bytes into trailer %" PRIu64 ")",
                    size, size % TRAILER_LEN, size / TRAILER_LEN);
    n = size / TRAILER_LEN;
    res->records = n;
    if (n == 0)
        return fail(c, -EINVAL, "the file is empty");
    /* Pick the network from the genesis when nothing is stored. */
    if (c->pf == NULL) {
        uint8_t g[TRAILER_LEN];

        if (read_at(arg, 0, t, TRAILER_LEN) != 0)
            return fail(c, -EIO, "cannot read the file");
        chain_genesis(&chain_mainnet, g);
        if (memcmp(t, g, TRAILER_LEN) == 0) {
            c->pf = &chain_mainnet;
        } else {
            chain_genesis(&chain_testnet, g);
            if (memcmp(t, g, TRAILER_LEN) != 0)
                return fail(c, -EINVAL,
                            "trailer 0 is neither the mainnet "
                            "nor the testnet genesis");
            c->pf = &chain_testnet;
        }
    }
    /* Every record must sit at its bnum's offset. */
    start = c->base;
    if (start >= n)
        return fail(c, -EINVAL,
                    "the file ends at bnum %" PRIu64
                    " before the stored base %" PRIu64,
                    n - 1, start);
    /* Where do the stored chain and the file part?  A stored trailer
     * that no longer reads counts as a difference: the file's bytes
     * then replace it (a repair) when its branch is not lighter. */
    fork = start;
    if (c->count > 0) {
        uint64_t tip = chain_tip_bnum(c);

        if (read_at(arg, start * TRAILER_LEN, t, TRAILER_LEN) != 0)
            return fail(c, -EIO, "cannot read the file");
        rc = chain_read(c, start, s);
        if (rc == -EBADMSG) {
            /* the base itself: its hash is in the state */
            if (memcmp(t + 128, c->base_bhash, 32) != 0)
                rc = 1;
            else
                res->damaged++;
        } else if (rc != 0) {
            return fail(c, rc, "stored trailer %" PRIu64 " unreadable", start);
        } else if (memcmp(t, s, TRAILER_LEN) != 0) {
            rc = 1;
        }
        if (rc != 0 && rc != -EBADMSG) {
            res->bad = c->from_checkpoint || start > 0 ? CHAIN_R_CHECKPOINT
                                                       : CHAIN_R_GENESIS;
            res->bad_bnum = start;
            return 0;
        }
        for (k = start + 1; k <= tip && k < n; k++) {
            if (read_at(arg, k * TRAILER_LEN, t, TRAILER_LEN) != 0)
                return fail(c, -EIO, "cannot read the file");
            rc = chain_read(c, k, s);
            if (rc == -EBADMSG) {
                res->damaged++;
                break;
            }
            if (rc != 0)
                return fail(c, rc, "stored trailer %" PRIu64 " unreadable", k);
            if (memcmp(t, s, TRAILER_LEN) != 0)
                break;
        }
        fork = k - 1;
    }
    res->fork = fork;
    /* Validate the file's branch after the fork, weighing it. */
    if (c->count > 0) {
        if (fork == start) {
            w = c->base_w;
            rc = chain_read(c, start, prev);
            if (rc == -EBADMSG &&
                read_at(arg, start * TRAILER_LEN, prev, TRAILER_LEN) == 0)
                rc = 0; /* the base by its hash, compared above */
        } else {
            rc = weight_through(c, fork, &w, prev);
        }
        if (rc != 0)
            return rc;
        memcpy(ft, prev, TRAILER_LEN);
        k = fork + 1;
    } else {
        /* nothing stored: the base itself comes from the file */
        k = start;
        w = c->base_w;
    }
    {
        struct chain_weight fw = w;
        uint64_t valid_to = k; /* first bnum not validated ok */
        int cmp;

        for (uint64_t b = k; b < n; b++) {
            enum chain_reason r;

            if ((b - k) % 4096 == 0 && c->progress != NULL &&
                c->progress(c->progress_arg, b - k, n - k) != 0)
                return fail(c, -ECANCELED, "cancelled; nothing committed");
            if (read_at(arg, b * TRAILER_LEN, t, TRAILER_LEN) != 0)
                return fail(c, -EIO, "cannot read the file");
            if (b == start && c->count == 0) {
                r = check_base(c, t);
                if (r == CHAIN_OK && !c->from_checkpoint)
                    chain_weight_add(&fw, t);
            } else {
                r = chain_check(c->pf, prev, t, o);
                if (r == CHAIN_OK)
                    chain_weight_add(&fw, t);
            }
            if (r != CHAIN_OK) {
                res->bad = r;
                res->bad_bnum = b;
                break;
            }
            memcpy(prev, t, TRAILER_LEN);
            valid_to = b + 1;
        }
        if (valid_to == k) {
            res->kept = 1;
            return 0;
        }
        cmp = c->count > 0 ? chain_weight_cmp(&fw, &c->w) : 1;
        if (cmp < 0 || (cmp == 0 && res->damaged == 0)) {
            res->kept = 1;
            return 0;
        }
        if (c->count > 0 && fork < chain_tip_bnum(c)) {
            /* A reorg (or a repair): the branch replaces the stored one
             * in one chain-log batch, so the old branch stays until the
             * heavier one is complete on flash. */
            rc = replace_branch(c, fork, ft, valid_to, read_at, arg, &fw);
            if (rc != 0)
                return rc;
            res->replaced = 1;
            res->appended = valid_to - k;
            return 0;
        }
        /* Appends after the tip: each batch extends a valid chain, so a
         * cut leaves a heavier prefix. */
        for (uint64_t b = k; b < valid_to;) {
            uint32_t m = valid_to - b < CHAIN_BATCH ? (uint32_t)(valid_to - b)
                                                    : CHAIN_BATCH;
            enum chain_reason r;
            uint64_t bb;

            if (read_at(arg, b * TRAILER_LEN, c->io, (size_t)m * TRAILER_LEN))
                return fail(c, -EIO, "cannot read the file");
            /* The file is read a second time here: its structure is
             * checked again so a file changed in between cannot slip a
             * broken trailer in; the proofs were computed above. */
            rc = chain_extend(c, c->io, m, &(struct chain_opts){o->now, 0}, &r,
                              &bb);
            if (rc < 0)
                return rc;
            res->appended += (uint64_t)rc;
            if (r != CHAIN_OK)
                return fail(c, -EIO,
                            "trailer %" PRIu64 " changed while importing", bb);
            b += m;
        }
    }
    return 0;
}
