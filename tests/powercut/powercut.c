/*
 * tests/powercut/powercut.c - cut the power at every flash operation of
 * each storage workload and check what survives against a model.
 *
 * For each workload: run it once uncut to count its flash operations;
 * then for every operation k (or every Nth with --sample N), and for each
 * way the operation in flight can fail (no effect, a prefix, random
 * bits): run the workload on a fresh device with the cut armed at k,
 * remount, and check that every key, the chain log and the control block
 * hold their last committed state, or for the step that was interrupted
 * the state before it or after it - all of it, for group commits and
 * batches.  Then run the rest of the workload on the remounted device and
 * check again: a store that mounts but cannot write is a failure.
 *
 * With --double M, each first cut (every S-th with --double-every S) is
 * also paired with a second cut at each of the first M operations after
 * power returns: inside the recovery the mount performs (finishing an
 * interrupted compaction's erase) and the first writes behind a fence.
 *
 * The chain workloads (issue #14) drive the chain's streamed importer
 * exactly as a sync does (src/sync/sync.c: chain_rx_begin_at from the
 * last trailer in common, TF ranges of 1,000 trailers each put whole,
 * chain_rx_end): an append of 2,500 trailers after the stored tip, and a
 * heavier fork that replaces the stored branch's last 1,000 trailers
 * with 1,500.  After each cut the stored chain must be a valid prefix:
 * the old chain, or the old chain and whole batches of CHAIN_BATCH (an
 * append), or the whole new branch (a reorg), never a mix, byte for byte
 * the minted trailers, with the weight they add up to.  Then the sync
 * runs again from the stored tip, as the next sync would, and must reach
 * the target.
 *
 * The fetch workloads drive an update from peers as src/node/p2p.c does
 * (update_ra_begin, the chunks of a signed v2 put in a scrambled order,
 * update_ra_end) into slot b, while slot a holds a confirmed v1; on NOR
 * and on 64 KiB erase blocks of four chunks.  After each cut slot a must
 * still be GOOD, primary and whole, and slot b bootable only whole; then
 * the fetch again keeps what begin verifies (at least every erase unit
 * written whole before the cut, never part of one) and puts only the
 * rest, and slot b must end READY and whole.
 *
 * Prints "powercut: <W> workloads, <N> cut points, <M> violations" and
 * exits non-zero on any violation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/chain.h"
#include "chain/gen.h"
#include "sim/flash_sim.h"
#include "store/clog.h"
#include "store/ctl.h"
#include "store/store.h"
#include "update/update.h"
#include "ut_src.h"

/* Two devices: NOR (4 KiB blocks, 16-byte program unit) and NAND (2 KiB
 * pages, the program unit, in 16 KiB blocks: small blocks keep a run
 * short; the chain log packs 11 slots to a page either way). */
struct geo {
    uint32_t erase, prog;
    uint64_t store, chain, ctl;
};
static const struct geo nor = {4096, 16, 8 * 16384u, 256 * 4096u, 2 * 4096u};
static const struct geo nand = {16384, 2048, 8 * 16384u, 192 * 16384u,
                                2 * 16384u};
#define NKEYS 100
#define VMAX 1400
#define LOGMAX 8192

struct rig {
    struct sim_flash dev;
    struct hal_flash pstore, pchain, pctl;
    struct store st;
    struct clog log;
    struct ctl ctl;
};

struct model {
    int len[NKEYS]; /* -1: absent */
    uint8_t val[NKEYS][VMAX];
    uint32_t first, end;
    uint16_t gen[LOGMAX];
    int ctl_len;
    uint8_t ctl[CTL_PAYLOAD_MAX];
};

enum op_kind {
    OP_KV,
    OP_APPEND,
    OP_TRUNC,
    OP_TRIM,
    OP_CTL,
    OP_KV_DAMAGE_OLD, /* OP_KV of one key, then its superseded record damaged */
    OP_SCRUB,
    OP_BATCH, /* a batch in pieces (clog_batch_*) from index on */
};

struct op {
    enum op_kind kind;
    int n;                     /* entries, records */
    int key[STORE_GROUP_MAX];  /* OP_KV: key numbers */
    int vlen[STORE_GROUP_MAX]; /* -1: delete */
    uint32_t seed;
    uint32_t index; /* OP_TRUNC, OP_TRIM, OP_BATCH */
    uint16_t gen;   /* OP_APPEND, OP_BATCH */
    int pieces;     /* OP_BATCH: n records in this many pieces */
};

static struct rig rig;
static struct model cur, next;
static int verbose;
static long violations;

static uint32_t
rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void
fill(uint8_t *b, int n, uint32_t seed)
{
    for (int i = 0; i < n; i++)
        b[i] = (uint8_t)(rnd(&seed) >> 7);
}

static void
key_name(char *buf, int k)
{
    snprintf(buf, 8, "k%03d", k & 0x3ff);
}

static void
record(uint8_t *r, uint32_t index, uint16_t gen)
{
    uint32_t s = index * 2654435761u + gen * 40503u + 1;

    fill(r, CLOG_REC, s);
    memcpy(r, &index, 4);
    memcpy(r + 4, &gen, 2);
}

/* ---- applying an operation ---------------------------------------- */

static void
model_apply(struct model *m, const struct op *o)
{
    switch (o->kind) {
    case OP_SCRUB:
        break;
    case OP_KV:
    case OP_KV_DAMAGE_OLD:
        for (int i = 0; i < o->n; i++) {
            int k = o->key[i];

            m->len[k] = o->vlen[i];
            if (o->vlen[i] > 0)
                fill(m->val[k], o->vlen[i], o->seed + (uint32_t)i);
        }
        break;
    case OP_APPEND:
        for (int i = 0; i < o->n; i++)
            m->gen[m->end + (uint32_t)i] = o->gen;
        m->end += (uint32_t)o->n;
        break;
    case OP_TRUNC:
        m->end = o->index;
        break;
    case OP_BATCH:
        for (int i = 0; i < o->n; i++)
            m->gen[o->index + (uint32_t)i] = o->gen;
        m->end = o->index + (uint32_t)o->n;
        break;
    case OP_TRIM:
        m->first = o->index;
        break;
    case OP_CTL:
        m->ctl_len = o->n;
        fill(m->ctl, o->n, o->seed);
        break;
    }
}

static int
dev_apply(const struct op *o)
{
    static uint8_t vals[STORE_GROUP_MAX][VMAX];
    static uint8_t recs[1000 * CLOG_REC];
    struct store_entry e[STORE_GROUP_MAX];
    char names[STORE_GROUP_MAX][8];

    switch (o->kind) {
    case OP_KV:
        for (int i = 0; i < o->n; i++) {
            key_name(names[i], o->key[i]);
            e[i].key = names[i];
            e[i].del = o->vlen[i] < 0;
            e[i].len = e[i].del ? 0 : (size_t)o->vlen[i];
            fill(vals[i], o->vlen[i] > 0 ? o->vlen[i] : 0,
                 o->seed + (uint32_t)i);
            e[i].val = vals[i];
        }
        return store_commit(&rig.st, e, o->n);
    case OP_KV_DAMAGE_OLD: {
        /* put, then flip a byte of the record it superseded (dead now:
         * the model does not change), if that record still stands */
        uint32_t sec = UINT32_MAX, off = 0, comp = rig.st.compactions;
        int rc;

        key_name(names[0], o->key[0]);
        for (uint32_t i = 0; i < rig.st.nkeys; i++)
            if (strcmp(rig.st.keys[i].key, names[0]) == 0) {
                sec = rig.st.keys[i].sector;
                off = rig.st.keys[i].rec_off;
            }
        fill(vals[0], o->vlen[0], o->seed);
        rc = store_put(&rig.st, names[0], vals[0], (size_t)o->vlen[0]);
        /* dead only if no live key still points into that record (a
         * compaction copy holds several) */
        for (uint32_t i = 0; rc == 0 && i < rig.st.nkeys; i++)
            if (rig.st.keys[i].sector == sec && rig.st.keys[i].rec_off == off)
                sec = UINT32_MAX;
        if (rc == 0 && sec != UINT32_MAX && rig.st.compactions == comp &&
            rig.st.sec[sec].in_use && !rig.dev.dead)
            sim_flash_corrupt(&rig.dev,
                              rig.pstore.base +
                                  (uint64_t)sec * rig.st.sector_size + off + 18,
                              0x40);
        return rc;
    }
    case OP_SCRUB: {
        /* in the uncut run every scrub finds a damaged record and
         * compacts its sector */
        int rc = store_scrub(&rig.st);

        return rc < 0 ? rc : 0;
    }
    case OP_APPEND:
        for (int i = 0; i < o->n; i++)
            record(recs + (size_t)i * CLOG_REC, cur.end + (uint32_t)i, o->gen);
        return clog_append(&rig.log, recs, (uint32_t)o->n);
    case OP_TRUNC:
        return clog_truncate(&rig.log, o->index);
    case OP_BATCH: {
        /* pieces of uneven sizes, most ending inside a page */
        uint32_t s = o->seed, done = 0;
        int rc;

        for (int i = 0; i < o->n; i++)
            record(recs + (size_t)i * CLOG_REC, o->index + (uint32_t)i, o->gen);
        rc = clog_batch_begin(&rig.log, o->index, (uint32_t)o->n);
        for (int k = 0; rc == 0 && done < (uint32_t)o->n; k++) {
            uint32_t left = (uint32_t)o->n - done;
            uint32_t n = k + 1 == o->pieces ? left : 1 + rnd(&s) % left;

            rc = clog_batch_put(&rig.log, recs + (size_t)done * CLOG_REC, n);
            done += n;
        }
        return rc;
    }
    case OP_TRIM:
        return clog_trim(&rig.log, o->index);
    case OP_CTL: {
        uint8_t b[CTL_PAYLOAD_MAX];

        fill(b, o->n, o->seed);
        return ctl_write(&rig.ctl, b, (size_t)o->n);
    }
    }
    return -EINVAL;
}

/* ---- the workloads ------------------------------------------------- */

typedef int (*gen_fn)(int step, const struct model *m, struct op *o);

static int
gen_kv_create(int step, const struct model *m, struct op *o)
{
    (void)m;
    if (step >= NKEYS)
        return 0;
    *o = (struct op){.kind = OP_KV, .n = 1, .seed = (uint32_t)step + 1};
    o->key[0] = step;
    o->vlen[0] = 1 + (step * 37) % 300;
    return 1;
}

static int
gen_kv_replace(int step, const struct model *m, struct op *o)
{
    uint32_t s = (uint32_t)step * 7919u + 13;
    int k = (int)(rnd(&s) % 30);

    if (step >= 700)
        return 0;
    *o = (struct op){.kind = OP_KV, .n = 1, .seed = s};
    o->key[0] = k;
    if (m->len[k] >= 0 && rnd(&s) % 10 == 0)
        o->vlen[0] = -1;
    else
        o->vlen[0] = (int)(rnd(&s) % VMAX);
    return 1;
}

static int
gen_kv_group(int step, const struct model *m, struct op *o)
{
    uint32_t s = (uint32_t)step * 104729u + 7;

    if (step >= 200)
        return 0;
    *o = (struct op){.kind = OP_KV, .n = 2 + (int)(rnd(&s) % 4), .seed = s};
    for (int i = 0; i < o->n; i++) {
        int k, dup;

        do {
            k = (int)(rnd(&s) % 24);
            dup = 0;
            for (int j = 0; j < i; j++)
                dup |= o->key[j] == k;
        } while (dup);
        o->key[i] = k;
        o->vlen[i] =
            m->len[k] >= 0 && rnd(&s) % 6 == 0 ? -1 : (int)(rnd(&s) % 700);
    }
    return 1;
}

static int
gen_log_append(int step, const struct model *m, struct op *o)
{
    (void)m;
    /* 1,000 single appends, 40 batches of 54, 2 batches of 1,000. */
    if (step >= 1042)
        return 0;
    *o = (struct op){.kind = OP_APPEND, .gen = (uint16_t)(step + 1)};
    o->n = step < 1000 ? 1 : step < 1040 ? 54 : 1000;
    return 1;
}

static int
gen_log_trunc(int step, const struct model *m, struct op *o)
{
    uint32_t s = (uint32_t)step * 31337u + 3;
    uint32_t r = rnd(&s) % 10;

    if (step >= 400)
        return 0;
    if (r < 2 && m->end > m->first) {
        uint32_t back = 1 + rnd(&s) % 20;

        /* Unsigned: never step back past the first record. */
        *o = (struct op){.kind = OP_TRUNC,
                         .index = back > m->end - m->first ? m->first
                                                           : m->end - back};
    } else if (r == 2 && m->end > m->first + 50) {
        *o = (struct op){.kind = OP_TRIM, .index = m->end - 50};
    } else {
        *o = (struct op){.kind = OP_APPEND,
                         .n = 1 + (int)(rnd(&s) % 12),
                         .gen = (uint16_t)(step + 1)};
    }
    return 1;
}

/* Appends of 1..30 records, and every fifth step a batch in pieces that
 * replaces the tail from up to 20 records back (a reorg), 2..120
 * records long; trims keep the ring from filling. */
static int
gen_log_batch(int step, const struct model *m, struct op *o)
{
    uint32_t s = (uint32_t)step * 48271u + 11;
    uint32_t r = rnd(&s) % 10;

    if (step >= 160)
        return 0;
    if (r < 2) {
        uint32_t back = rnd(&s) % 21;

        if (back > m->end - m->first)
            back = m->end - m->first;
        *o = (struct op){.kind = OP_BATCH,
                         .index = m->end - back,
                         .n = 2 + (int)(rnd(&s) % 119),
                         .pieces = 1 + (int)(rnd(&s) % 4),
                         .seed = s,
                         .gen = (uint16_t)(step + 1)};
    } else if (r == 2 && m->end > m->first + 300) {
        *o = (struct op){.kind = OP_TRIM, .index = m->end - 300};
    } else {
        *o = (struct op){.kind = OP_APPEND,
                         .n = 1 + (int)(rnd(&s) % 30),
                         .gen = (uint16_t)(step + 1)};
    }
    return 1;
}

static int
gen_ctl(int step, const struct model *m, struct op *o)
{
    uint32_t s = (uint32_t)step * 7u + 99;

    (void)m;
    if (step >= 150)
        return 0;
    *o = (struct op){.kind = OP_CTL, .n = 1 + (int)(rnd(&s) % 400), .seed = s};
    return 1;
}

/* Replacements, some leaving a damaged superseded record behind (what
 * a repair leaves), and a scrub every 25 steps that compacts them away. */
static int
gen_kv_scrub(int step, const struct model *m, struct op *o)
{
    uint32_t s = (uint32_t)step * 6151u + 5;

    (void)m;
    if (step >= 150)
        return 0;
    if (step % 25 == 24) {
        *o = (struct op){.kind = OP_SCRUB};
        return 1;
    }
    *o = (struct op){
        .kind = step % 5 == 2 ? OP_KV_DAMAGE_OLD : OP_KV, .n = 1, .seed = s};
    o->key[0] = (int)(rnd(&s) % 12);
    o->vlen[0] = 1 + (int)(rnd(&s) % 400);
    return 1;
}

static const struct {
    const char *name;
    gen_fn gen;
    const struct geo *geo;
} workloads[] = {
    {"kv-create-100", gen_kv_create, &nor},
    {"kv-replace-compact", gen_kv_replace, &nor},
    {"kv-group-commit", gen_kv_group, &nor},
    {"log-append-1-54-1000", gen_log_append, &nor},
    {"log-truncate-reappend-trim", gen_log_trunc, &nor},
    {"log-batch-pieces", gen_log_batch, &nor},
    {"ctl-update", gen_ctl, &nor},
    {"kv-damage-scrub", gen_kv_scrub, &nor},
    /* the chain log packs slots to NAND pages (issue #18) */
    {"nand-log-append-1-54-1000", gen_log_append, &nand},
    {"nand-log-truncate-reappend-trim", gen_log_trunc, &nand},
    {"nand-log-batch-pieces", gen_log_batch, &nand},
};
#define NWORK (sizeof(workloads) / sizeof(workloads[0]))

/* ---- checking -------------------------------------------------------- */

static void
violation(const char *w, long cut, int mode, const char *what)
{
    violations++;
    if (violations <= 20)
        printf("VIOLATION %s cut %ld mode %d: %s\n", w, cut, mode, what);
}

/* 1: the device matches m in full. */
static int
matches(const struct model *m)
{
    static uint8_t buf[STORE_VAL_MAX], r[CLOG_REC], want[CLOG_REC];
    char name[8];

    for (int k = 0; k < NKEYS; k++) {
        int n;

        key_name(name, k);
        n = store_get(&rig.st, name, buf, sizeof(buf));
        if (m->len[k] < 0 ? n != -ENOENT
                          : n != m->len[k] || memcmp(buf, m->val[k], n) != 0)
            return 0;
    }
    if (rig.st.nkeys > NKEYS + 1)
        return 0;
    if (rig.log.first != m->first || rig.log.end != m->end)
        return 0;
    for (uint32_t i = m->first; i < m->end; i++) {
        record(want, i, m->gen[i]);
        if (clog_read(&rig.log, i, r) != 0 || memcmp(r, want, CLOG_REC))
            return 0;
    }
    if (m->ctl_len == 0)
        return rig.ctl.newest < 0;
    return ctl_read(&rig.ctl, buf, sizeof(buf)) == m->ctl_len &&
           memcmp(buf, m->ctl, (size_t)m->ctl_len) == 0;
}

static int
mount_all(void)
{
    int rc = store_mount(&rig.st, &rig.pstore);

    if (rc == 0)
        rc = clog_mount(&rig.log, &rig.pchain, &rig.st);
    if (rc == 0) {
        rc = ctl_mount(&rig.ctl, &rig.pctl);
        if (rc == -ENOENT)
            rc = 0;
    }
    return rc;
}

static int
rig_open(const struct geo *geo)
{
    struct sim_flash_geom g = {geo->store + geo->chain + geo->ctl, geo->erase,
                               geo->prog, 0xff};

    if (sim_flash_open_mem(&rig.dev, &g) != 0)
        return -1;
    sim_flash_partition(&rig.dev, &rig.pstore, "store", 0, geo->store);
    sim_flash_partition(&rig.dev, &rig.pchain, "chain", geo->store, geo->chain);
    sim_flash_partition(&rig.dev, &rig.pctl, "bootctl", geo->store + geo->chain,
                        geo->ctl);
    return mount_all();
}

static void
model_init(struct model *m)
{
    memset(m, 0, sizeof(*m));
    for (int k = 0; k < NKEYS; k++)
        m->len[k] = -1;
}

/* Arm a cut at operation at from now (at < 0: none), torn by mode;
 * returns the operations counted so far. */
static uint64_t
arm(long at, int mode, uint32_t seed)
{
    uint64_t base = sim_flash_ops(&rig.dev);

    if (at >= 0)
        sim_flash_cut_after(&rig.dev, (uint64_t)at + base,
                            (enum sim_flash_torn)mode, seed);
    return base;
}

/* Power back on after a cut, arming the paired second cut once
 * (*second >= 0: that many operations from now). */
static void
repower(long *second, int mode)
{
    sim_flash_power_on(&rig.dev);
    if (*second >= 0)
        (void)arm(*second, mode, (uint32_t)(*second * 13 + mode + 5));
    *second = -1;
}

/* Run workload w with a cut at operation cut (-1: none) and, when
 * second >= 0, another one second operations after power returns - in
 * the recovery the remount does, or in the steps after it.  Returns the
 * flash operations the workload took when uncut. */
static long
run(size_t w, long cut, int mode, long second)
{
    const char *name = workloads[w].name;
    struct op o;
    int step = 0;

    model_init(&cur);
    if (rig_open(workloads[w].geo) != 0) {
        violation(name, cut, mode, "fresh mount failed");
        return -1;
    }
    (void)arm(cut, mode, (uint32_t)(cut * 7 + mode + 1));
    for (;;) {
        int rc = 0, mounted = 0;

        for (; workloads[w].gen(step, &cur, &o); step++) {
            rc = dev_apply(&o);
            if (rc != 0)
                break;
            model_apply(&cur, &o);
        }
        if (rc == 0)
            break; /* the workload is done */
        if (!rig.dev.dead) {
            char msg[96];

            snprintf(msg, sizeof(msg),
                     "step %d (op %d, n %d, index %u) "
                     "failed: %d%s; log %u..%u",
                     step, (int)o.kind, o.n, o.index, rc,
                     cut < 0 ? "" : " (after a cut)", rig.log.first,
                     rig.log.end);
            if (verbose) {
                struct store_stat st;

                store_stat(&rig.st, &st);
                printf("  store: %u used, %u free, live %llu of %llu; "
                       "flash refused %llu; head %d used %u fresh %d "
                       "fences %u\n",
                       st.sectors_used, st.sectors_free,
                       (unsigned long long)st.live_bytes,
                       (unsigned long long)st.capacity_bytes,
                       (unsigned long long)rig.dev.stats.refused, rig.st.head,
                       rig.st.sec[rig.st.head].used, rig.st.fresh,
                       rig.st.nfences);
            }
            violation(name, cut, mode, msg);
            sim_flash_close(&rig.dev);
            return -1;
        }
        /* Power comes back (perhaps to fail again during the mount's
         * own recovery): the interrupted step is all or nothing. */
        next = cur;
        model_apply(&next, &o);
        for (int tries = 0; tries < 3 && !mounted; tries++) {
            repower(&second, mode);
            mounted = mount_all() == 0;
            if (!mounted && !rig.dev.dead)
                break;
        }
        if (!mounted) {
            violation(name, cut, mode, "remount failed");
            sim_flash_close(&rig.dev);
            return -1;
        }
        if (matches(&next)) {
            cur = next;
        } else if (!matches(&cur)) {
            violation(name, cut, mode,
                      "state is neither before nor after the cut step");
            sim_flash_close(&rig.dev);
            return -1;
        }
        step++;
    }
    long ops = (long)sim_flash_ops(&rig.dev);

    /* The cut fell after the last step's commit point (the control
     * block's second copy, a chain-log checkpoint): the step reported
     * success and the power is gone.  What the flash holds after power
     * returns must be that step's result. */
    if (rig.dev.dead) {
        sim_flash_power_on(&rig.dev);
        if (mount_all() != 0) {
            violation(name, cut, mode, "remount after the last step failed");
            sim_flash_close(&rig.dev);
            return -1;
        }
    }
    if (!matches(&cur))
        violation(name, cut, mode, "final state mismatch");
    sim_flash_close(&rig.dev);
    return cut < 0 ? ops : 0;
}

/* ---- chain workloads: a sync's appends and reorg -------------------- */

/* Room for the reorg's branch beside the stored chain (CHAIN.md). */
static const struct geo chain_nor = {4096, 16, 8 * 16384u, 320 * 4096u,
                                     2 * 4096u};
static const struct geo chain_nand = {16384, 2048, 8 * 16384u, 96 * 16384u,
                                      2 * 16384u};
#define SYNC_TF 1000 /* trailers per TF range (sync.h SYNC_RANGE) */

/* What the chain workloads import: a testnet chain at difficulty 0 (its
 * proofs are their haiku: a sync checks them all), and a fork of it. */
struct tfile {
    uint8_t *p;
    uint64_t n; /* trailers */
};
static struct tfile ch_a; /* 0..3700 */
static struct tfile ch_f; /* ch_a to 2000, then another branch to 3500 */
static struct chain chn;
static struct chain_rx crx;

static int
tf_put(void *arg, const uint8_t t[TRAILER_LEN])
{
    struct tfile *f = arg;

    memcpy(f->p + f->n * TRAILER_LEN, t, TRAILER_LEN);
    f->n++;
    return 0;
}

static void
tf_mint(struct tfile *f, uint64_t blocks, uint64_t fork_at)
{
    struct chaingen g = {blocks, 0, 7, 21, fork_at, 0, 9, GEN_OK, 0, 0};

    f->p = malloc((blocks + 1) * TRAILER_LEN);
    f->n = 0;
    if (f->p == NULL || chaingen_run(&g, tf_put, f) != 0) {
        fprintf(stderr, "powercut: minting a chain failed\n");
        exit(2);
    }
}

static const struct {
    const char *name;
    int reorg;
    const struct geo *geo;
} chain_workloads[] = {
    {"chain-sync-append-2500", 0, &chain_nor},
    {"chain-sync-reorg-1500", 1, &chain_nor},
    {"nand-chain-sync-append-2500", 0, &chain_nand},
    {"nand-chain-sync-reorg-1500", 1, &chain_nand},
};
#define NCHAIN (sizeof(chain_workloads) / sizeof(chain_workloads[0]))
#define APP_FROM 1200u /* the append: stored 0..1200, then to 3700 */
#define APP_TO 3700u
#define REORG_OLD 3000u  /* the reorg: stored ch_a 0..3000 ... */
#define REORG_FORK 2000u /* ... ch_f from 2001 on, to 3500 */
#define REORG_NEW 3500u

static int
chain_mount(void)
{
    int rc = mount_all();

    return rc == 0 ? chain_open(&chn, &rig.log, &rig.st) : rc;
}

/* Stream trailers [first, last] of f into the chain as a sync does:
 * chain_rx_begin_at from first (0: from genesis, on an empty chain), the
 * ranges of SYNC_TF trailers from first, each put whole, chain_rx_end.
 * 0, or < 0 (a cut; the stream abandoned, as sync abandons it). */
static int
chain_sync(const struct tfile *f, uint64_t first, uint64_t last)
{
    static const struct chain_opts o = {1900000000, 1};
    struct chain_import_res res;
    uint64_t b = first;
    int rc = chain_rx_begin_at(&crx, &chn, first,
                               (last - first + 1) * TRAILER_LEN, &o, &res);

    for (; rc == 0 && b <= last; b += SYNC_TF) {
        uint64_t n = last - b + 1 < SYNC_TF ? last - b + 1 : SYNC_TF;

        rc =
            chain_rx_put(&crx, f->p + b * TRAILER_LEN, (size_t)n * TRAILER_LEN);
    }
    if (rc != 0) {
        (void)chain_rx_end(&crx, 0);
        return rc < 0 ? rc : -EBADMSG; /* 1: a trailer refused */
    }
    rc = chain_rx_end(&crx, 1);
    if (rc == 0 && (res.bad != CHAIN_OK || res.kept))
        return -EBADMSG;
    return rc;
}

/* 1: the stored chain is f's trailers 0..tip exactly, and the weight
 * recorded is theirs. */
static int
chain_is(const struct tfile *f, uint64_t tip)
{
    uint8_t t[TRAILER_LEN];
    struct chain_weight w;

    if (chn.pf != &chain_testnet || chn.count == 0 || chn.base != 0 ||
        chain_tip_bnum(&chn) != tip || chn.lost != 0)
        return 0;
    memset(&w, 0, sizeof(w));
    for (uint64_t b = 0; b <= tip; b++) {
        if (chain_read(&chn, b, t) != 0 ||
            memcmp(t, f->p + b * TRAILER_LEN, TRAILER_LEN) != 0)
            return 0;
        chain_weight_add(&w, t);
    }
    return chain_weight_cmp(&w, &chn.w) == 0;
}

/* After a cut: the old chain, or the old chain and whole batches (an
 * append), or all of the new branch (a reorg), never a mix. */
static long seen_old, seen_part, seen_new; /* what the cuts left */

static int
chain_prefix_ok(int reorg)
{
    uint64_t tip;
    int ok;

    if (chn.count == 0)
        return 0;
    tip = chain_tip_bnum(&chn);
    if (reorg)
        ok = (tip == REORG_OLD && chain_is(&ch_a, REORG_OLD)) ||
             (tip == REORG_NEW && chain_is(&ch_f, REORG_NEW));
    else
        ok = tip >= APP_FROM && tip <= APP_TO &&
             ((tip - APP_FROM) % CHAIN_BATCH == 0 || tip == APP_TO) &&
             chain_is(&ch_a, tip);
    if (ok) {
        if (tip == (reorg ? REORG_OLD : APP_FROM))
            seen_old++;
        else if (tip == (reorg ? REORG_NEW : APP_TO))
            seen_new++;
        else
            seen_part++;
    }
    return ok;
}

/* The sync again, as the next one would run it: from the stored tip (an
 * append), or from the fork point while the old branch stands. */
static int
chain_resume(int reorg)
{
    uint64_t tip = chain_tip_bnum(&chn);

    if (reorg)
        return tip == REORG_NEW ? 0 : chain_sync(&ch_f, REORG_FORK, REORG_NEW);
    return tip == APP_TO ? 0 : chain_sync(&ch_a, tip, APP_TO);
}

/* Mount after power returns, perhaps failing again inside the mount's
 * recovery (a second cut armed): up to three tries. */
static int
chain_remount(void)
{
    for (int tries = 0; tries < 3; tries++) {
        sim_flash_power_on(&rig.dev);
        if (chain_mount() == 0)
            return 0;
        if (!rig.dev.dead)
            return -1;
    }
    return -1;
}

/* Chain workload w with a cut at operation cut (-1: none), and a second
 * one second operations after power returns (-1: none).  Returns the
 * flash operations of the uncut sync. */
static long
chain_run(size_t w, long cut, int mode, long second)
{
    const char *name = chain_workloads[w].name;
    int reorg = chain_workloads[w].reorg, rc;
    uint64_t base;

    if (rig_open(chain_workloads[w].geo) != 0 || chain_mount() != 0) {
        violation(name, cut, mode, "fresh mount failed");
        return -1;
    }
    /* the stored chain, uncut */
    if (chain_sync(&ch_a, 0, reorg ? REORG_OLD : APP_FROM) != 0) {
        violation(name, cut, mode, "storing the chain to start from failed");
        sim_flash_close(&rig.dev);
        return -1;
    }
    base = arm(cut, mode, (uint32_t)(cut * 7 + mode + 1));
    rc = reorg ? chain_sync(&ch_f, REORG_FORK, REORG_NEW)
               : chain_sync(&ch_a, APP_FROM, APP_TO);
    if (rc != 0 && !rig.dev.dead) {
        char msg[300];

        snprintf(msg, sizeof(msg), "the sync failed: %d (%s)", rc, chn.why);
        violation(name, cut, mode, msg);
        sim_flash_close(&rig.dev);
        return -1;
    }
    if (cut < 0) {
        long ops = (long)(sim_flash_ops(&rig.dev) - base);

        if (chain_mount() != 0 ||
            !chain_is(reorg ? &ch_f : &ch_a, reorg ? REORG_NEW : APP_TO))
            violation(name, cut, mode, "uncut: the target is not stored");
        sim_flash_close(&rig.dev);
        return ops;
    }
    /* power returns (perhaps to fail again in the recovery or the next
     * sync): a valid prefix, then the next sync reaches the target */
    for (int round = 0; round < 3; round++) {
        if (rig.dev.dead)
            repower(&second, mode);
        if (chain_remount() != 0) {
            violation(name, cut, mode, "remount failed");
            break;
        }
        if (!chain_prefix_ok(reorg)) {
            char msg[160];

            snprintf(msg, sizeof(msg),
                     "stored chain is not a valid prefix: tip %llu, %llu "
                     "trailers, lost %llu",
                     (unsigned long long)chain_tip_bnum(&chn),
                     (unsigned long long)chn.count,
                     (unsigned long long)chn.lost);
            violation(name, cut, mode, msg);
            break;
        }
        rc = chain_resume(reorg);
        if (rc == 0) {
            if (chain_mount() != 0 ||
                !chain_is(reorg ? &ch_f : &ch_a, reorg ? REORG_NEW : APP_TO))
                violation(name, cut, mode,
                          "the sync after the cut did not reach the target");
            break;
        }
        if (!rig.dev.dead) {
            char msg[300];

            snprintf(msg, sizeof(msg), "the sync after the cut failed: %d (%s)",
                     rc, chn.why);
            violation(name, cut, mode, msg);
            break;
        }
    }
    sim_flash_close(&rig.dev);
    return 0;
}

/* ---- the fetch workload: an update from peers, in any order ---------- */

/* A device with boot control, the store (the keyring) and two RAW
 * slots: a holds v1, GOOD and primary; b a v1.1 whose trial failed
 * (BAD).  v2 is fetched into b as src/node/p2p.c does: update_ra_begin
 * from the bundle's head, every chunk put in a scrambled order,
 * update_ra_end. */
#define F_CHUNK 16384u
#define F_N 15u /* chunks; the last one short */
#define F_PAYLOAD (14 * F_CHUNK + 5000)
#define F_SLOT (384 * 1024u)

static const struct {
    const char *name;
    uint32_t erase, prog;
} fetch_workloads[] = {
    {"fetch-v2-any-order", 4096, 16},
    /* four chunks to an erase block: begin keeps whole blocks only */
    {"fetch-v2-64k-erase-blocks", 65536, 512},
};
#define NFETCH (sizeof(fetch_workloads) / sizeof(fetch_workloads[0]))

static struct hal_flash fslot[2];
static struct update fu;
static struct upd_work fwork;
static struct crypto_eckey fkey;
static uint8_t fkr[UPD_KEYRING_MAX], *fstart; /* the device before */
static int fkrlen;
static uint8_t fb[3][F_PAYLOAD + 4096], fmh[3][32]; /* v1, v1.1, v2 */
static size_t fhead[3];                             /* header..signatures */
static uint64_t fs[F_N], fe[F_N]; /* uncut: chunk i's put is ops [fs, fe) */
static long f_kept, f_dropped, mem_ready; /* over the cuts */

/* Bundle b (v1.b, counter 1, 1 and 2), signed by the one release key. */
static void
f_build(int b)
{
    static uint8_t pl[F_PAYLOAD], hashes[F_N * 32];
    struct upd_manifest m = {.nboards = 1,
                             .boards = {"sim"},
                             .version = {1, (uint32_t)b, 0},
                             .counter = b == 2 ? 2 : 1,
                             .created = 1790000000,
                             .payload_size = F_PAYLOAD,
                             .chunk_size = F_CHUNK,
                             .nchunks = F_N,
                             .chunk_hash = hashes};
    struct upd_header h = {0, UPD_SIG_LEN, F_PAYLOAD};
    uint8_t *man = fb[b] + UPD_HDR_LEN, spki[CRYPTO_SPKI_LEN];
    struct upd_sig sg;
    int ml;

    fill(pl, (int)F_PAYLOAD, (uint32_t)b * 7919u + 1);
    for (uint32_t i = 0; i < F_N; i++)
        crypto_sha256(pl + i * F_CHUNK,
                      i + 1 < F_N ? F_CHUNK : F_PAYLOAD - i * F_CHUNK,
                      hashes + i * 32);
    ml = upd_manifest_encode(&m, man, 2048);
    if (ml < 0) {
        fprintf(stderr, "powercut: encoding a manifest failed\n");
        exit(2);
    }
    h.manifest_len = (uint32_t)ml;
    upd_header_encode(&h, fb[b]);
    crypto_sha256(man, (size_t)ml, fmh[b]);
    crypto_spki_encode(fkey.pub, spki);
    upd_key_id(spki, sg.key_id);
    sg.len = (uint8_t)crypto_ec_sign(&fkey, fmh[b], sg.der);
    upd_sig_encode(&sg, man + ml);
    fhead[b] = UPD_HDR_LEN + (size_t)ml + UPD_SIG_LEN;
    memcpy(fb[b] + fhead[b], pl, F_PAYLOAD);
}

/* Power is on: mount, and the node's update context (running from a). */
static int
f_mount(void)
{
    int rc = store_mount(&rig.st, &rig.pstore);

    if (rc == 0 && (rc = ctl_mount(&rig.ctl, &rig.pctl)) == -ENOENT)
        rc = 0;
    fu = (struct update){.st = &rig.st,
                         .ctl = &rig.ctl,
                         .slot = {&fslot[0], &fslot[1]},
                         .board = "sim",
                         .running = 0,
                         .work = &fwork};
    return rc;
}

/* update_install() of bundle b whole (the setup); the slot or < 0. */
static int
f_install(int b)
{
    struct mem_src m = {fb[b], fhead[b] + F_PAYLOAD, 0};
    const struct upd_src s = {mem_read, &m};

    return update_install(&fu, &s);
}

/* Boot control moves slot s to state (as keel-boot does: a trial boot,
 * a trial that failed). */
static int
f_set(int s, enum slot_state state)
{
    struct bootctl bc;

    if (bootctl_load(&rig.ctl, &bc) != 0)
        return -1;
    upd_slot_set(&bc, s, state, UPD_R_TRIAL_BOOT);
    return bootctl_save(&rig.ctl, &bc);
}

/* The device of fetch workload w, set up once and saved in fstart. */
static int
f_setup(size_t w)
{
    uint64_t e = fetch_workloads[w].erase, ctl = 2 * e,
             store = 8 * (e < STORE_SECTOR_MIN ? STORE_SECTOR_MIN : e);
    struct sim_flash_geom g = {ctl + store + 2 * F_SLOT, (uint32_t)e,
                               fetch_workloads[w].prog, 0xff};
    int rc;

    if (sim_flash_open_mem(&rig.dev, &g) != 0)
        return -1;
    sim_flash_partition(&rig.dev, &rig.pctl, "bootctl", 0, ctl);
    sim_flash_partition(&rig.dev, &rig.pstore, "store", ctl, store);
    for (int s = 0; s < 2; s++)
        sim_flash_partition(&rig.dev, &fslot[s], s ? "slot_b" : "slot_a",
                            ctl + store + s * F_SLOT, F_SLOT);
    /* v1 into a (the first install), booted on trial and confirmed;
     * v1.1 into b, its trial failed */
    rc = f_mount() != 0 ||
         store_put(&rig.st, UPD_KEY_KEYRING, fkr, (size_t)fkrlen) != 0;
    fu.running = -1;
    rc = rc || f_install(0) != 0 || f_set(0, SLOT_TRIAL) != 0;
    fu.running = 0;
    rc = rc || update_confirm(&fu) != 0 || f_install(1) != 1 ||
         f_set(1, SLOT_BAD) != 0;
    if (rc) {
        fprintf(stderr, "powercut: %s: setting up failed: %s\n",
                fetch_workloads[w].name, fu.why);
        sim_flash_close(&rig.dev);
        return -1;
    }
    fstart = realloc(fstart, sim_flash_state_size(&rig.dev));
    if (fstart == NULL)
        exit(2);
    sim_flash_save(&rig.dev, fstart);
    return 0;
}

/* Invariants after power returns: boot control reads, slot a is v1,
 * GOOD, primary and whole; slot b is bootable only as v2, whole.  1:
 * slot b is READY (the fetch is done), 0, or -1 (a violation). */
static int
f_check(const char *name, long cut, int mode)
{
    struct bootctl bc;
    char why[120] = "", msg[200];
    int sb;

    if (bootctl_load(&rig.ctl, &bc) != 0) {
        violation(name, cut, mode, "boot control unreadable");
        return -1;
    }
    if (bc.primary != 0 || bc.slot[0].state != SLOT_GOOD ||
        memcmp(bc.slot[0].manifest_hash, fmh[0], 32) != 0 ||
        update_slot_verify(&fslot[0], &bc.slot[0], &fwork, why, sizeof(why)) !=
            UPD_VERIFIED) {
        snprintf(msg, sizeof(msg),
                 "slot a is not v1 GOOD primary whole: %s, primary %d %s",
                 slot_state_name(bc.slot[0].state), bc.primary, why);
        violation(name, cut, mode, msg);
        return -1;
    }
    sb = bc.slot[1].state;
    if (sb != SLOT_READY && sb != SLOT_GOOD && sb != SLOT_TRIAL)
        return 0;
    if (sb != SLOT_READY || memcmp(bc.slot[1].manifest_hash, fmh[2], 32) ||
        update_slot_verify(&fslot[1], &bc.slot[1], &fwork, why, sizeof(why)) !=
            UPD_VERIFIED) {
        snprintf(msg, sizeof(msg), "slot b is %s but not v2 whole: %s",
                 slot_state_name(sb), why);
        violation(name, cut, mode, msg);
        return -1;
    }
    return 1;
}

static int
f_begin(void)
{
    struct mem_src m = {fb[2], fhead[2], 0};
    const struct upd_src s = {mem_read, &m};

    return update_ra_begin(&fu, &s);
}

/* The chunks not held, in a scrambled order, then update_ra_end: the
 * slot or < 0, the chunks put in *put; span: note each put's flash
 * operations from base (the uncut run). */
static int
f_fill_end(uint32_t *put, uint64_t base, int span)
{
    static uint8_t cb[F_CHUNK];
    int rc = 0;

    *put = 0;
    for (uint32_t k = 0; rc == 0 && k < F_N; k++) {
        uint32_t i = (k * 7 + 3) % F_N,
                 len = i + 1 < F_N ? F_CHUNK : F_PAYLOAD - i * F_CHUNK;

        if (update_ra_has(&fu, i))
            continue;
        memcpy(cb, fb[2] + fhead[2] + i * F_CHUNK, len);
        if (span)
            fs[i] = sim_flash_ops(&rig.dev) - base;
        rc = update_ra_put(&fu, i, cb, len);
        if (span)
            fe[i] = sim_flash_ops(&rig.dev) - base;
        *put += rc == 0;
    }
    return rc == 0 ? update_ra_end(&fu) : rc;
}

/* What begin may keep after a cut at op cut: at least every erase unit
 * whose chunks were all written before it, at most those whose chunks
 * had all begun; never part of a unit.  Counts the chunks kept, and
 * those written whole but dropped with a unit not whole. */
static void
f_kept_ok(const char *name, long cut, int mode)
{
    uint32_t lo = 0, hi = 0, u = fu.ra.unit;
    char msg[120];

    for (uint32_t a = 0; a < F_N; a += u) {
        uint32_t n = a + u < F_N ? u : F_N - a, done = 1, begun = 1, has = 0;

        for (uint32_t i = a; i < a + n; i++) {
            f_dropped += fe[i] <= (uint64_t)cut && !update_ra_has(&fu, i);
            done &= fe[i] <= (uint64_t)cut;
            begun &= fs[i] <= (uint64_t)cut;
            has += (uint32_t)update_ra_has(&fu, i);
        }
        lo += done ? n : 0;
        hi += begun ? n : 0;
        if (has != 0 && has != n) {
            snprintf(msg, sizeof(msg),
                     "begin kept %u of the %u chunks of erase unit %u", has, n,
                     a / u);
            violation(name, cut, mode, msg);
        }
    }
    if (fu.ra.kept < lo || fu.ra.kept > hi) {
        snprintf(msg, sizeof(msg), "begin kept %u chunks, not %u..%u",
                 fu.ra.kept, lo, hi);
        violation(name, cut, mode, msg);
    }
    f_kept += fu.ra.kept;
}

/* Fetch workload w with a cut at operation cut (-1: none) and a second
 * one second operations after power returns (-1: none).  After each
 * cut: the invariants, then the fetch again (as the node's next
 * attempt), which keeps what begin verified and puts only the rest.
 * Returns the flash operations of the uncut fetch. */
static long
fetch_run(size_t w, long cut, int mode, long second)
{
    const char *name = fetch_workloads[w].name;
    uint64_t base;
    uint32_t put = 0;
    char msg[300];
    int rc, again = 0, first = 1;

    sim_flash_restore(&rig.dev, fstart);
    if (f_mount() != 0) {
        violation(name, cut, mode, "mount failed");
        return -1;
    }
    base = arm(cut, mode, (uint32_t)(cut * 7 + mode + 1));
    rc = f_begin();
    rc = rc == 1 ? f_fill_end(&put, base, cut < 0) : rc;
    if (cut < 0) {
        snprintf(msg, sizeof(msg), "uncut: %d, %u chunks put (%s)", rc, put,
                 fu.why);
        if (rc != 1 || put != F_N || f_check(name, cut, mode) != 1)
            violation(name, cut, mode, msg);
        return (long)(sim_flash_ops(&rig.dev) - base);
    }
    for (int round = 0; round < 3; round++) {
        if (rc < 0 && !rig.dev.dead) {
            snprintf(msg, sizeof(msg), "the fetch failed: %d (%s)", rc, fu.why);
            violation(name, cut, mode, msg);
            return 0;
        }
        if (rig.dev.dead)
            repower(&second, mode);
        if (f_mount() != 0 || rig.dev.dead) {
            if (rig.dev.dead)
                continue;
            violation(name, cut, mode, "remount failed");
            return 0;
        }
        rc = f_check(name, cut, mode);
        if (rc != 0 || again) {
            mem_ready += rc > 0 && !again;
            if (rc == 0)
                violation(name, cut, mode,
                          "the fetch again ended, slot b is not READY");
            return 0;
        }
        /* the fetch again (the first begin after the cut is checked) */
        rc = f_begin();
        if (rc == 1 && first) {
            f_kept_ok(name, cut, mode);
            first = 0;
        }
        rc = rc == 1 ? f_fill_end(&put, 0, 0) : rc;
        again = rc == 1;
        if (again && put != F_N - fu.ra.kept) {
            snprintf(msg, sizeof(msg), "the fetch again put %u chunks, kept %u",
                     put, fu.ra.kept);
            violation(name, cut, mode, msg);
            return 0;
        }
    }
    violation(name, cut, mode, "the fetch never ended");
    return 0;
}

/* How workload w (run by fn; ops flash operations) is cut: at every
 * sample-th operation, or only at one (>= 0), in each tear mode; with
 * pairs on every dsample-th cut point (always on the one asked for): a
 * second cut in the first `doubles` operations after power returns
 * (the mount's recovery and the first writes behind a fence).  Returns
 * the cut points. */
struct cut_plan {
    long sample, dsample, doubles, one;
};

static long
cut_all(long (*fn)(size_t, long, int, long), size_t w, long ops,
        const struct cut_plan *cp)
{
    long n = 0, first, end, step;

    first = cp->one >= 0 ? cp->one : (long)(w % (size_t)cp->sample);
    end = cp->one >= 0 ? cp->one + 1 : ops;
    step = cp->one >= 0 ? 1 : cp->sample;
    for (long k = first; k < end; k += step)
        for (int mode = SIM_TORN_NONE; mode <= SIM_TORN_BITS; mode++) {
            fn(w, k, mode, -1);
            n++;
            if (cp->one < 0 && (k / cp->sample) % cp->dsample != 0)
                continue;
            for (long m = 0; m < cp->doubles; m++) {
                if (verbose && cp->one >= 0)
                    printf("-- cut %ld mode %d second %ld\n", k, mode, m);
                fn(w, k, mode, m);
                n++;
            }
        }
    return n;
}

int
main(int argc, char **argv)
{
    long sample = 1, points = 0, one = -1, doubles = 0, dsample = 1;
    const char *only = NULL;
    struct cut_plan cp;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sample") == 0 && i + 1 < argc)
            sample = atol(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--double") == 0 && i + 1 < argc)
            doubles = atol(argv[++i]);
        else if (strcmp(argv[i], "--double-every") == 0 && i + 1 < argc)
            dsample = atol(argv[++i]);
        else if (strcmp(argv[i], "--cut") == 0 && i + 1 < argc)
            one = atol(argv[++i]);
        else if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else {
            fprintf(stderr, "usage: powercut [--sample N] [--only NAME] "
                            "[--double M] [--cut K] [-v]\n");
            return 2;
        }
    }
    if (sample < 1)
        sample = 1;
    if (dsample < 1)
        dsample = 1;
    cp = (struct cut_plan){sample, dsample, doubles, one};
    for (size_t w = 0; w < NWORK; w++) {
        long ops, n = 0;

        if (only && strcmp(only, workloads[w].name) != 0)
            continue;
        ops = run(w, -1, 0, -1);
        if (ops < 0)
            continue;
        n = cut_all(run, w, ops, &cp);
        if (one >= 0) {
            points += n;
            continue;
        }
        printf("powercut: %-28s %6ld flash ops, %6ld cut points\n",
               workloads[w].name, ops, n);
        points += n;
        fflush(stdout);
    }
    tf_mint(&ch_a, APP_TO, 0);
    tf_mint(&ch_f, REORG_NEW, REORG_FORK + 1);
    for (size_t w = 0; w < NCHAIN; w++) {
        long ops, n = 0;

        if (only && strcmp(only, chain_workloads[w].name) != 0)
            continue;
        ops = chain_run(w, -1, 0, -1);
        if (ops < 0)
            continue;
        seen_old = seen_part = seen_new = 0;
        n = cut_all(chain_run, w, ops, &cp);
        printf("powercut: %-28s %6ld flash ops, %6ld cut points\n",
               chain_workloads[w].name, ops, n);
        if (verbose || one >= 0)
            printf("  after a cut: the old chain %ld times, old + whole "
                   "batches %ld, the new one %ld\n",
                   seen_old, seen_part, seen_new);
        points += n;
        fflush(stdout);
    }
    free(ch_a.p);
    free(ch_f.p);
    {
        /* the release key, the device keyring naming it, the bundles */
        struct upd_keyring kr = {.version = 1, .threshold = 1, .nkeys = 1};

        crypto_sha256("keel powercut release key", 25, fkey.priv);
        if (crypto_ec_from_priv(&fkey) != 0)
            exit(2);
        crypto_spki_encode(fkey.pub, kr.spki[0]);
        fkrlen = upd_keyring_encode(&kr, fkr, sizeof(fkr));
        for (int b = 0; b < 3; b++)
            f_build(b);
    }
    for (size_t w = 0; w < NFETCH; w++) {
        long ops, n;

        if (only && strcmp(only, fetch_workloads[w].name) != 0)
            continue;
        if (f_setup(w) != 0) {
            violations++;
            continue;
        }
        ops = fetch_run(w, -1, 0, -1);
        f_kept = f_dropped = mem_ready = 0;
        n = ops < 0 ? 0 : cut_all(fetch_run, w, ops, &cp);
        /* after the cuts: the chunks the next begin kept, those written
         * whole it dropped (with their erase unit), the fetches done */
        printf("powercut: %-28s %6ld flash ops, %6ld cut points; kept %ld, "
               "dropped %ld, done %ld\n",
               fetch_workloads[w].name, ops, n, f_kept, f_dropped, mem_ready);
        points += n;
        sim_flash_close(&rig.dev);
        fflush(stdout);
    }
    free(fstart);
    printf("powercut: %zu workloads, %ld cut points, %ld violations\n",
           only ? (size_t)1 : NWORK + NCHAIN + NFETCH, points, violations);
    return violations == 0 ? 0 : 1;
}
