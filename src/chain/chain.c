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

/* ---- steps shared by the file import and the streamed one ------------- */

/* The file's size: whole trailers, not empty, reaching the stored base.
 * *n gets its trailer count. */
static int
import_size(struct chain *c, uint64_t size, struct chain_import_res *res,
            uint64_t *n)
{
    memset(res, 0, sizeof(*res));
    if (size % TRAILER_LEN != 0)
        return fail(c, -EINVAL,
                    "file size %" PRIu64 " is not a multiple of 160 (cut "
                    "%" PRIu64 " bytes into trailer %" PRIu64 ")",
                    size, size % TRAILER_LEN, size / TRAILER_LEN);
    *n = size / TRAILER_LEN;
    res->records = *n;
    if (*n == 0)
        return fail(c, -EINVAL, "the file is empty");
    if (c->base >= *n)
        return fail(c, -EINVAL,
                    "the file ends at bnum %" PRIu64
                    " before the stored base %" PRIu64,
                    *n - 1, c->base);
    return 0;
}

int
chain_pick_network(struct chain *c, const uint8_t t[TRAILER_LEN])
{
    uint8_t g[TRAILER_LEN];

    chain_genesis(&chain_mainnet, g);
    if (memcmp(t, g, TRAILER_LEN) == 0) {
        c->pf = &chain_mainnet;
        return 0;
    }
    chain_genesis(&chain_testnet, g);
    if (memcmp(t, g, TRAILER_LEN) != 0)
        return fail(c, -EINVAL,
                    "trailer 0 is neither the mainnet nor the testnet "
                    "genesis");
    c->pf = &chain_testnet;
    return 0;
}

/* Does the file's trailer t at bnum k (base <= k <= tip) differ from
 * the stored one?  1: it differs, or the stored one no longer reads
 * (res->damaged counts it: the file's bytes then replace it, a repair,
 * when its branch is not lighter); 0: the same; < 0 with why set.  The
 * base is compared by its hash when it no longer reads. */
static int
stored_differs(struct chain *c, uint64_t k, const uint8_t t[TRAILER_LEN],
               struct chain_import_res *res)
{
    uint8_t s[TRAILER_LEN];
    int rc = chain_read(c, k, s);

    if (rc == -EBADMSG && k == c->base) {
        if (memcmp(t + 128, c->base_bhash, 32) != 0)
            return 1;
        res->damaged++;
        return 0;
    }
    if (rc == -EBADMSG) {
        res->damaged++;
        return 1;
    }
    if (rc != 0)
        return fail(c, rc, "stored trailer %" PRIu64 " unreadable", k);
    return memcmp(t, s, TRAILER_LEN) != 0;
}

/* The base differs: the file is of another chain (or checkpoint). */
static void
base_refused(const struct chain *c, struct chain_import_res *res)
{
    res->bad = c->from_checkpoint || c->base > 0 ? CHAIN_R_CHECKPOINT
                                                 : CHAIN_R_GENESIS;
    res->bad_bnum = c->base;
}

/* The weight through the fork and the fork's trailer, where the file's
 * branch starts; fb is the file's trailer at the base (used when the
 * stored base no longer reads: it matched by its hash). */
static int
branch_start(struct chain *c, uint64_t fork, const uint8_t fb[TRAILER_LEN],
             struct chain_weight *w, uint8_t prev[TRAILER_LEN])
{
    int rc;

    if (fork != c->base)
        return weight_through(c, fork, w, prev);
    *w = c->base_w;
    rc = chain_read(c, fork, prev);
    if (rc == -EBADMSG) {
        memcpy(prev, fb, TRAILER_LEN);
        rc = 0;
    }
    return rc == 0 ? 0
                   : fail(c, rc, "stored trailer %" PRIu64 " unreadable", fork);
}

/* Check the file's trailer t at bnum b after prev, adding it to *w.
 * empty: nothing was stored when the import began, so the base comes
 * from the file. */
static enum chain_reason
branch_check(struct chain *c, int empty, uint64_t b, const uint8_t *prev,
             const uint8_t t[TRAILER_LEN], const struct chain_opts *o,
             struct chain_weight *w)
{
    enum chain_reason r;

    if (empty && b == c->base) {
        r = check_base(c, t);
        if (r == CHAIN_OK && !c->from_checkpoint)
            chain_weight_add(w, t);
        return r;
    }
    r = chain_check(c->pf, prev, t, o);
    if (r == CHAIN_OK)
        chain_weight_add(w, t);
    return r;
}

/* Does a branch of weight fw win?  Heavier, or as heavy and repairing
 * damaged stored trailers. */
static int
branch_wins(const struct chain *c, const struct chain_weight *fw,
            const struct chain_import_res *res)
{
    int cmp = c->count > 0 ? chain_weight_cmp(fw, &c->w) : 1;

    return cmp > 0 || (cmp == 0 && res->damaged > 0);
}

/* Start the chain-log batch that replaces the trailers after fork with
 * total new ones.  trim: make room by dropping the oldest history (never
 * past the fork) when the log cannot hold both branches. */
static int
branch_batch(struct chain *c, uint64_t fork, uint64_t total, int trim)
{
    int rc;

    if (total > UINT32_MAX)
        return fail(c, -E2BIG, "the branch is too long");
    for (;;) {
        rc = clog_batch_begin(c->log, index_of(c, fork + 1), (uint32_t)total);
        if (rc != -ENOSPC)
            break;
        if (!trim || make_room(c, fork) != 0)
            return fail(c, -ENOSPC,
                        "the chain log cannot hold a %" PRIu64
                        "-trailer branch beside the stored one (trim "
                        "history, or import a later checkpoint)",
                        total);
    }
    return rc == 0 ? 0
                   : fail(c, rc, "starting the chain-log batch failed: %s",
                          strerror(-rc));
}

/* The batch's last piece is on flash: the branch through to - 1 (whose
 * trailer is tip) is the chain, of weight *fw. */
static void
branch_done(struct chain *c, uint64_t to, const uint8_t tip[TRAILER_LEN],
            const struct chain_weight *fw)
{
    c->count = to - c->base;
    memcpy(c->tip, tip, TRAILER_LEN);
    c->w = *fw;
    c->state_stale = state_save(c) != 0;
}

/* ---- import from a file ------------------------------------------------ */

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
    int rc = branch_batch(c, fork, to - fork - 1, 1);

    if (rc != 0)
        return rc;
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
    branch_done(c, to, prev, fw);
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
    uint8_t t[TRAILER_LEN], fb[TRAILER_LEN], prev[TRAILER_LEN], ft[TRAILER_LEN];
    struct chain_weight w;
    uint64_t n, start = c->base, fork = c->base, k;
    int empty = c->count == 0, rc = import_size(c, size, res, &n);

    if (rc != 0)
        return rc;
    if (c->pf == NULL) {
        if (read_at(arg, 0, t, TRAILER_LEN) != 0)
            return fail(c, -EIO, "cannot read the file");
        if ((rc = chain_pick_network(c, t)) != 0)
            return rc;
    }
    /* Where do the stored chain and the file part? */
    if (!empty) {
        uint64_t tip = chain_tip_bnum(c);

        if (read_at(arg, start * TRAILER_LEN, fb, TRAILER_LEN) != 0)
            return fail(c, -EIO, "cannot read the file");
        rc = stored_differs(c, start, fb, res);
        if (rc < 0)
            return rc;
        if (rc > 0) {
            base_refused(c, res);
            return 0;
        }
        for (k = start + 1; k <= tip && k < n; k++) {
            if (read_at(arg, k * TRAILER_LEN, t, TRAILER_LEN) != 0)
                return fail(c, -EIO, "cannot read the file");
            rc = stored_differs(c, k, t, res);
            if (rc < 0)
                return rc;
            if (rc > 0)
                break;
        }
        fork = k - 1;
        if ((rc = branch_start(c, fork, fb, &w, prev)) != 0)
            return rc;
        memcpy(ft, prev, TRAILER_LEN);
        k = fork + 1;
    } else {
        k = start;
        w = c->base_w;
    }
    res->fork = fork;
    /* Validate the file's branch after the fork, weighing it. */
    {
        struct chain_weight fw = w;
        uint64_t valid_to = k; /* first bnum not validated ok */

        for (uint64_t b = k; b < n; b++) {
            enum chain_reason r;

            if ((b - k) % 4096 == 0 && c->progress != NULL &&
                c->progress(c->progress_arg, b - k, n - k) != 0)
                return fail(c, -ECANCELED, "cancelled; nothing committed");
            if (read_at(arg, b * TRAILER_LEN, t, TRAILER_LEN) != 0)
                return fail(c, -EIO, "cannot read the file");
            r = branch_check(c, empty, b, prev, t, o, &fw);
            if (r != CHAIN_OK) {
                res->bad = r;
                res->bad_bnum = b;
                break;
            }
            memcpy(prev, t, TRAILER_LEN);
            valid_to = b + 1;
        }
        if (valid_to == k || !branch_wins(c, &fw, res)) {
            res->kept = 1;
            return 0;
        }
        if (!empty && fork < chain_tip_bnum(c)) {
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

/* ---- import from a stream ---------------------------------------------- */

enum { RX_LEAD, RX_BRANCH, RX_DONE };

int
chain_rx_begin(struct chain_rx *rx, struct chain *c, uint64_t size,
               const struct chain_opts *o, struct chain_import_res *res)
{
    return chain_rx_begin_at(rx, c, 0, size, o, res);
}

int
chain_rx_begin_at(struct chain_rx *rx, struct chain *c, uint64_t first,
                  uint64_t size, const struct chain_opts *o,
                  struct chain_import_res *res)
{
    memset(rx, 0, sizeof(*rx));
    rx->c = c;
    rx->o = *o;
    rx->res = res;
    rx->had_pf = c->pf != NULL;
    rx->empty = c->count == 0;
    rx->fork = c->base;
    rx->size = size;
    if (first == 0)
        return import_size(c, size, res, &rx->n);
    memset(res, 0, sizeof(*res));
    if (size == 0 || size % TRAILER_LEN != 0)
        return fail(c, -EINVAL,
                    "a stream of %" PRIu64 " bytes is not whole "
                    "trailers",
                    size);
    /* a stored trailer, or the checkpoint an empty device starts at */
    if (c->count == 0
            ? !(c->pf != NULL && c->from_checkpoint && first == c->base)
            : first < c->base || first > chain_tip_bnum(c))
        return fail(c, -EINVAL,
                    "a stream from %" PRIu64 " must begin at a stored "
                    "trailer",
                    first);
    res->records = size / TRAILER_LEN;
    rx->first = first;
    rx->b = first;
    rx->fork = first;
    rx->n = first + size / TRAILER_LEN;
    return 0;
}

/* The branch starts after rx->fork. */
static int
rx_branch(struct chain_rx *rx)
{
    struct chain *c = rx->c;
    int rc;

    rx->res->fork = rx->fork;
    if (rx->empty) {
        rx->k = c->base;
        rx->w = c->base_w;
    } else {
        rc = branch_start(c, rx->fork, rx->fb, &rx->w, rx->prev);
        if (rc != 0)
            return rc;
        rx->k = rx->fork + 1;
        rx->reorg = rx->fork < chain_tip_bnum(c);
    }
    rx->phase = RX_BRANCH;
    return 0;
}

/* Trailer t (bnum rx->b) before the branch: below the base, or stored
 * already.  1 when it is the branch's first (not consumed), 0 when
 * consumed, < 0 with why set. */
static int
rx_lead(struct chain_rx *rx, const uint8_t t[TRAILER_LEN])
{
    struct chain *c = rx->c;
    uint64_t b = rx->b;
    int rc;

    if (b == 0 && c->pf == NULL && (rc = chain_pick_network(c, t)) != 0)
        return rc;
    if (b < c->base)
        return 0;
    if (rx->empty) {
        rc = rx_branch(rx);
        return rc < 0 ? rc : 1;
    }
    if (b == c->base)
        memcpy(rx->fb, t, TRAILER_LEN);
    rc = stored_differs(c, b, t, rx->res);
    if (rc < 0)
        return rc;
    if (rc > 0 && b == c->base) {
        base_refused(c, rx->res);
        rx->refused = 1;
        rx->phase = RX_DONE;
        return 0;
    }
    if (rc > 0 && b == rx->first && b > 0)
        return fail(c, -EINVAL,
                    "the stream's first trailer %" PRIu64 " is not the "
                    "stored one",
                    b);
    if (rc > 0) {
        rc = rx_branch(rx);
        return rc < 0 ? rc : 1;
    }
    rx->fork = b;
    if (b == chain_tip_bnum(c) && (rc = rx_branch(rx)) != 0)
        return rc;
    return 0;
}

/* Validate the branch's trailers that are complete in c->io and not
 * checked yet; the first invalid one ends the stream (DONE). */
static void
rx_check(struct chain_rx *rx)
{
    struct chain *c = rx->c;

    while (rx->phase == RX_BRANCH &&
           (size_t)(rx->checked + 1) * TRAILER_LEN <= rx->fill) {
        const uint8_t *t = c->io + (size_t)rx->checked * TRAILER_LEN;
        uint64_t b = rx->b + rx->checked;
        enum chain_reason r =
            branch_check(c, rx->empty, b, rx->prev, t, &rx->o, &rx->w);

        if (r != CHAIN_OK) {
            rx->res->bad = r;
            rx->res->bad_bnum = b;
            rx->phase = RX_DONE;
            break;
        }
        memcpy(rx->prev, t, TRAILER_LEN);
        rx->checked++;
    }
}

/* Write the checked trailers in c->io: appended after the tip, or put
 * into the reorg's batch, whose last piece commits it only if the whole
 * branch is valid and wins.  last: the stream is complete. */
static int
rx_write(struct chain_rx *rx, int last)
{
    struct chain *c = rx->c;
    struct chain_import_res *res = rx->res;
    uint32_t v = rx->checked;
    int rc;

    rx->fill = 0;
    rx->checked = 0;
    rx->b += v;
    if (!rx->reorg) {
        enum chain_reason r;
        uint64_t bb;

        if (v == 0)
            return 0;
        /* structure checked again on the way in; the proofs were above */
        rc = chain_extend(c, c->io, v, &(struct chain_opts){rx->o.now, 0}, &r,
                          &bb);
        if (rc < 0)
            return rc;
        res->appended += (uint64_t)rc;
        return r == CHAIN_OK ? 0
                             : fail(c, -EIO,
                                    "trailer %" PRIu64 " failed its second "
                                    "check",
                                    bb);
    }
    /* A reorg commits all of the file's branch or nothing: an invalid
     * trailer, or a branch that does not win, abandons the batch. */
    if (rx->phase == RX_DONE || (last && !branch_wins(c, &rx->w, res))) {
        if (rx->batch)
            clog_batch_abort(c->log);
        rx->batch = 0;
        rx->phase = RX_DONE;
        return 0;
    }
    if (!rx->batch) {
        rc = branch_batch(c, rx->fork, rx->n - rx->k, 0);
        if (rc != 0)
            return rc;
        rx->batch = 1;
    }
    rc = clog_batch_put(c->log, c->io, v);
    if (rc != 0) {
        clog_batch_abort(c->log);
        rx->batch = 0;
        return fail(c, rc,
                    "writing the branch failed: %s; the stored chain is "
                    "unchanged",
                    strerror(-rc));
    }
    if (last) {
        rx->batch = 0;
        branch_done(c, rx->n, rx->prev, &rx->w);
        res->replaced = 1;
        res->appended = rx->n - rx->k;
    }
    return 0;
}

int
chain_rx_put(struct chain_rx *rx, const void *p, size_t len)
{
    struct chain *c = rx->c;
    const uint8_t *q = p;
    int rc;

    while (len > 0 && rx->phase != RX_DONE) {
        /* before the branch, one trailer at a time */
        size_t cap = rx->phase == RX_LEAD ? TRAILER_LEN : sizeof(c->io);
        size_t take = cap - rx->fill;

        if (take > len)
            take = len;
        if (rx->got + take > rx->size)
            return fail(c, -EFBIG, "more than the announced %" PRIu64 " bytes",
                        rx->size);
        memcpy(c->io + rx->fill, q, take);
        rx->fill += take;
        rx->got += take;
        q += take;
        len -= take;
        if (rx->phase == RX_LEAD && rx->fill == TRAILER_LEN) {
            rc = rx_lead(rx, c->io);
            if (rc < 0)
                return rc;
            if (rc == 0) { /* consumed; else the branch's first */
                rx->fill = 0;
                rx->b++;
            }
        }
        rx_check(rx);
        if (rx->phase == RX_DONE && (rc = rx_write(rx, 0)) != 0)
            return rc;
        /* the last piece waits for chain_rx_end(): a reorg's decision */
        if (rx->fill == sizeof(c->io) && rx->got < rx->size &&
            (rc = rx_write(rx, 0)) != 0)
            return rc;
    }
    return rx->phase == RX_DONE;
}

int
chain_rx_end(struct chain_rx *rx, int complete)
{
    struct chain *c = rx->c;
    int rc = 0;

    if (complete && rx->phase != RX_DONE) {
        if (rx->got != rx->size)
            rc = fail(c, -EPIPE,
                      "the stream ended after %" PRIu64 " of %" PRIu64 " bytes",
                      rx->got, rx->size);
        else
            rc = rx_write(rx, 1);
    } else if (!complete && rx->phase != RX_DONE) {
        rc = -ECANCELED; /* the caller knows why */
    }
    if (rx->batch) {
        clog_batch_abort(c->log);
        rx->batch = 0;
    }
    if (rx->phase == RX_LEAD)
        rx->res->fork = rx->fork; /* the file ended inside the stored chain */
    if (rc == 0 && rx->res->appended == 0 && !rx->res->replaced && !rx->refused)
        rx->res->kept = 1;
    if (!rx->had_pf && c->count == 0)
        c->pf = NULL;
    rx->phase = RX_DONE;
    return rc;
}
