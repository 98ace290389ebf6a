/*
 * store/clog.c - the chain log (see clog.h).
 *
 * Slot trailer at byte 160: u16 magic "KL", u8 version (1: the slot is
 * alone in its page; 2: slots packed several to a page), u8 type (1
 * append, 2 append ending a batch, 3 truncate), u32 write sequence, u32
 * index, u32 CRC-32C of bytes 0..171.  A slot's position is page *
 * per_page + its place in the page.  Checkpoint value: u32 version,
 * first, end, next page, last write sequence, run count, then per run
 * u32 index, page, count (version 1: one slot a page), and u32 slots a
 * page, batch length (version 2, written once any run packs).
 */
#include <errno.h>
#include <string.h>

#include "store/clog.h"
#include "lib/crc32c.h"
#include "lib/le.h"

#define SLOT_MAGIC 0x4c4b
#define SLOT_ALONE 1  /* version: the only slot of its page */
#define SLOT_PACKED 2 /* version: one of a batch packed to pages (#18) */
#define T_APPEND 1
#define T_END 2
#define T_TRUNC 3
#define CKPT_V1 1 /* runs of 12 bytes, one slot a page */
#define CKPT_V2 2 /* runs of 20 bytes, with slots a page and batch length */
#define CKPT_MAX (24 + CLOG_RUNS_MAX * 20)

static uint64_t
page_off(const struct clog *l, uint32_t page)
{
    return (uint64_t)(page / l->per_seg) * l->f->erase_size +
           (uint64_t)(page % l->per_seg) * l->page_size;
}

/* Byte offset of the slot at position pos (page * per_page + place). */
static uint64_t
pos_off(const struct clog *l, uint32_t pos)
{
    return page_off(l, pos / l->per_page) +
           (uint64_t)(pos % l->per_page) * CLOG_SLOT_RAW;
}

static uint32_t
seg_of(const struct clog *l, uint32_t page)
{
    return page / l->per_seg;
}

/* The position of the first slot of the page after pos's. */
static uint32_t
next_page(const struct clog *l, uint32_t pos)
{
    return (pos / l->per_page + 1) % l->npages * l->per_page;
}

/* Pages a batch of n records takes, per to a page. */
static uint32_t
pages_for(uint32_t n, uint32_t per)
{
    return (n + per - 1) / per;
}

/* Read and check the slot at position pos into l->rbuf.  Returns its
 * type or -EBADMSG / -EIO; *ver is its version. */
static int
slot_load(struct clog *l, uint32_t pos, uint32_t *seq, uint32_t *index,
          int *ver)
{
    uint8_t *b = l->rbuf;
    int rc = hal_flash_read(l->f, pos_off(l, pos), b, CLOG_SLOT_RAW);

    if (rc != 0)
        return rc;
    if (lib_le16(b + 160) != SLOT_MAGIC ||
        (b[162] != SLOT_ALONE && b[162] != SLOT_PACKED) ||
        (b[162] == SLOT_ALONE && pos % l->per_page != 0) || b[163] < T_APPEND ||
        b[163] > T_TRUNC || lib_crc32c(0, b, 172) != lib_le32(b + 172))
        return -EBADMSG;
    *seq = lib_le32(b + 164);
    *index = lib_le32(b + 168);
    *ver = b[162];
    return b[163];
}

/* ---- the run map ------------------------------------------------- */

/* The page after a run whose last batch is complete. */
static uint32_t
run_next_page(const struct clog *l, const struct clog_run *r)
{
    uint64_t p =
        r->page + (uint64_t)(r->count / r->blen) * pages_for(r->blen, r->per);

    return (uint32_t)(p % l->npages);
}

/* A batch of count records at page, per to a page, as its run: batches
 * that fill their pages are normalised to blen = per, so any number of
 * them continue one run. */
static struct clog_run
run_of(uint32_t index, uint32_t page, uint32_t count, uint32_t per)
{
    return (struct clog_run){index, page, count, per,
                             count % per == 0 ? per : count};
}

/* 1 when n records continue the last run. */
static int
runs_continue(const struct clog *l, const struct clog_run *n)
{
    const struct clog_run *r;

    if (l->nruns == 0)
        return 0;
    r = &l->runs[l->nruns - 1];
    return r->index + r->count == n->index && r->per == n->per &&
           r->blen == n->blen && r->count % r->blen == 0 &&
           run_next_page(l, r) == n->page;
}

static void
runs_cut(struct clog *l, uint32_t index)
{
    while (l->nruns > 0 && l->runs[l->nruns - 1].index >= index)
        l->nruns--;
    if (l->nruns > 0) {
        struct clog_run *r = &l->runs[l->nruns - 1];

        if (r->index + r->count > index)
            r->count = index - r->index;
    }
}

static int
runs_add(struct clog *l, uint32_t index, uint32_t page, uint32_t count,
         uint32_t per)
{
    struct clog_run n = run_of(index, page, count, per);

    if (runs_continue(l, &n)) {
        l->runs[l->nruns - 1].count += count;
        return 0;
    }
    if (l->nruns == CLOG_RUNS_MAX)
        return -ENOSPC;
    l->runs[l->nruns++] = n;
    return 0;
}

/* Drop the runs before index.  The first run left keeps its batches
 * whole (its start must stay at a batch's first page), so it may still
 * begin before index: those records lie below first and are never
 * read. */
static void
runs_drop_front(struct clog *l, uint32_t index)
{
    uint32_t k = 0;

    while (k < l->nruns && l->runs[k].index + l->runs[k].count <= index)
        k++;
    memmove(l->runs, l->runs + k, (l->nruns - k) * sizeof(l->runs[0]));
    l->nruns -= k;
    if (l->nruns > 0 && l->runs[0].index < index) {
        struct clog_run *r = &l->runs[0];
        uint32_t d = (index - r->index) / r->blen;
        uint64_t p = r->page + (uint64_t)d * pages_for(r->blen, r->per);

        r->index += d * r->blen;
        r->page = (uint32_t)(p % l->npages);
        r->count -= d * r->blen;
    }
}

static int
slot_of(const struct clog *l, uint32_t index, uint32_t *pos)
{
    for (uint32_t i = l->nruns; i-- > 0;) {
        const struct clog_run *r = &l->runs[i];

        if (index >= r->index && index < r->index + r->count) {
            uint32_t k = index - r->index, b = k % r->blen;
            uint64_t p = r->page +
                         (uint64_t)(k / r->blen) * pages_for(r->blen, r->per) +
                         b / r->per;

            *pos = (uint32_t)(p % l->npages) * l->per_page + b % r->per;
            return 0;
        }
    }
    return -ENOENT;
}

int
clog_locate(const struct clog *l, uint32_t index, uint64_t *off)
{
    uint32_t pos;
    int rc = slot_of(l, index, &pos);

    if (rc == 0)
        *off = pos_off(l, pos);
    return rc;
}

/* ---- checkpoint ------------------------------------------------------ */

int
clog_checkpoint(struct clog *l)
{
    uint8_t v[CKPT_MAX];
    uint32_t n = 24, ver = CKPT_V1;

    for (uint32_t i = 0; i < l->nruns; i++)
        if (l->runs[i].per != 1)
            ver = CKPT_V2;
    lib_put32(v, ver);
    lib_put32(v + 4, l->first);
    lib_put32(v + 8, l->end);
    lib_put32(v + 12, l->wpage);
    lib_put32(v + 16, l->wseq - 1);
    lib_put32(v + 20, l->nruns);
    for (uint32_t i = 0; i < l->nruns; i++) {
        lib_put32(v + n, l->runs[i].index);
        lib_put32(v + n + 4, l->runs[i].page);
        lib_put32(v + n + 8, l->runs[i].count);
        n += 12;
        if (ver == CKPT_V2) {
            lib_put32(v + n, l->runs[i].per);
            lib_put32(v + n + 4, l->runs[i].blen);
            n += 8;
        }
    }
    int rc = store_put(l->st, CLOG_CKPT_KEY, v, n);

    if (rc == 0)
        l->since_ckpt = 0;
    return rc;
}

static int
ckpt_load(struct clog *l, uint32_t *last_seq)
{
    uint8_t v[CKPT_MAX];
    int n = store_get(l->st, CLOG_CKPT_KEY, v, sizeof(v));
    uint32_t ver, rl;

    if (n == -ENOENT) {
        *last_seq = 0;
        return 0; /* a new log */
    }
    if (n < 0)
        return n;
    if (n < 24)
        return -EBADMSG;
    ver = lib_le32(v);
    rl = ver == CKPT_V1 ? 12 : 20;
    if ((ver != CKPT_V1 && ver != CKPT_V2) ||
        lib_le32(v + 20) > CLOG_RUNS_MAX ||
        (uint32_t)n != 24 + rl * lib_le32(v + 20) ||
        lib_le32(v + 12) >= l->npages)
        return -EBADMSG;
    l->first = lib_le32(v + 4);
    l->end = lib_le32(v + 8);
    l->wpage = lib_le32(v + 12);
    *last_seq = lib_le32(v + 16);
    l->nruns = lib_le32(v + 20);
    for (uint32_t i = 0; i < l->nruns; i++) {
        const uint8_t *r = v + 24 + rl * i;
        struct clog_run *u = &l->runs[i];

        *u = (struct clog_run){lib_le32(r), lib_le32(r + 4), lib_le32(r + 8), 1,
                               1};
        if (ver == CKPT_V2) {
            u->per = lib_le32(r + 12);
            u->blen = lib_le32(r + 16);
        }
        /* a run as the writer makes them, or the map is not ours */
        if (u->page >= l->npages || u->per == 0 || u->per > l->per_page ||
            u->blen == 0 || u->blen > CLOG_BATCH_MAX ||
            (u->per == 1 && u->blen != 1) ||
            (u->blen % u->per == 0 && u->blen != u->per))
            return -EBADMSG;
    }
    return l->first <= l->end ? 0 : -EBADMSG;
}

/* ---- mount ----------------------------------------------------------- */

/* 1 when the slot read into l->rbuf is all erased (never programmed). */
static int
slot_blank(const struct clog *l)
{
    for (uint32_t i = 0; i < CLOG_SLOT_RAW; i++)
        if (l->rbuf[i] != l->f->erased)
            return 0;
    return 1;
}

/* What the slots after a bad one say (holes_after). */
struct holes {
    uint32_t n;     /* slots in between that were written, the bad one too */
    uint32_t index; /* the valid slot's index */
    int ver;        /* and its version */
};

/* The slot at pos failed its check while the slot before it (or the
 * checkpoint) ended write sequence last.  If a valid data slot follows
 * within one erase block's worth of slots whose sequence says it was
 * written right after the slots in between, those slots were written
 * too (damage, not a torn tail): fill h and return 1.  The erased rest
 * of a page is not a slot in between: it was never written.  0 when
 * the bad slot is the end of what was written. */
static int
holes_after(struct clog *l, uint32_t pos, uint32_t last, struct holes *h)
{
    uint32_t total = l->npages * l->per_page, j = 1;

    for (uint32_t step = 0; step < l->per_seg * l->per_page; step++) {
        uint32_t seq, idx;
        int ver, t;

        pos = (pos + 1) % total;
        t = slot_load(l, pos, &seq, &idx, &ver);
        if (t == -EBADMSG && pos % l->per_page != 0 && slot_blank(l)) {
            pos = next_page(l, pos) + total - 1; /* on to the next page */
            continue;
        }
        if (t == T_APPEND || t == T_END) {
            if (seq != last + j + 1 || idx < j)
                return 0;
            *h = (struct holes){j, idx, ver};
            return 1;
        }
        if (t != -EBADMSG)
            return 0;
        j++;
    }
    return 0;
}

/* The batch being read at mount: records [index, index + count) from
 * position pos on; per is 0 while unknown (only holes read yet), then 1
 * (a slot a page) or per_page; the next slot is expected at position
 * next with write sequence seq + 1. */
struct pend {
    int on;
    uint32_t index, pos, count, per, next, seq;
};

/* Commit the batch p: it replaces everything from its index on. */
static int
pend_commit(struct clog *l, struct pend *p)
{
    if (p->on && p->index >= l->first && p->index <= l->end) {
        runs_cut(l, p->index);
        if (runs_add(l, p->index, p->pos / l->per_page, p->count,
                     p->per ? p->per : 1) != 0)
            return -ENOSPC;
        l->end = p->index + p->count;
    }
    p->on = 0;
    return 0;
}

/* Add the slot at pos (index, write sequence seq, version ver; 0 for a
 * hole) to the batch being read, or start one there.  A batch's slots
 * follow each other in index, place and write sequence: a slot written
 * after a mount right behind a torn batch's last slot (at the start of
 * the next erase block) continues the first two, never the third. */
static void
pend_add(const struct clog *l, struct pend *p, uint32_t pos, uint32_t index,
         uint32_t seq, int ver)
{
    uint32_t per = ver == SLOT_PACKED ? l->per_page : ver ? 1 : 0;

    if (!p->on || index != p->index + p->count || pos != p->next ||
        seq != p->seq + 1 || (p->per && per && per != p->per) ||
        (p->per == 0 && per == 1 && p->count > 1)) {
        /* a batch starts at a page's first slot; anything else is not
         * a batch this log wrote (and is never committed) */
        *p = (struct pend){pos % l->per_page == 0, index, pos, 0, per, pos, 0};
        if (!p->on)
            return;
    }
    p->seq = seq;
    if (p->per == 0)
        p->per = per;
    p->count++;
    /* unknown density: packed until a skip to the next page says
     * otherwise (see the skip in clog_mount) */
    p->next =
        p->per == 1 ? next_page(l, pos) : (pos + 1) % (l->npages * l->per_page);
}

int
clog_mount(struct clog *l, const struct hal_flash *f, struct store *st)
{
    uint32_t last, max_seq, pos, total, left = 0, hole_index = 0;
    struct pend p = {0};
    struct holes hs = {0};
    int rc, stopped = 0, garbage = 0, after_hole = 0;

    memset(l, 0, offsetof(struct clog, rbuf));
    l->f = f;
    l->st = st;
    l->page_size =
        (CLOG_SLOT_RAW + f->prog_size - 1) / f->prog_size * f->prog_size;
    l->per_page = l->page_size / CLOG_SLOT_RAW;
    l->per_seg = f->erase_size / l->page_size;
    l->nsegs = (uint32_t)(f->size / f->erase_size);
    if (l->per_seg == 0 || l->nsegs < 3 || l->page_size > CLOG_BUF ||
        (uint64_t)l->per_seg * l->nsegs * l->per_page > UINT32_MAX / 4)
        return -EINVAL;
    l->npages = l->per_seg * l->nsegs;
    total = l->npages * l->per_page;
    rc = ckpt_load(l, &last);
    if (rc != 0)
        return rc;
    max_seq = last;

    /* Replay what was written after the checkpoint, slot by slot. */
    pos = l->wpage * l->per_page;
    for (uint32_t steps = 0; steps < 2 * total; steps++) {
        uint32_t seq, index;
        int ver = 0, t = slot_load(l, pos, &seq, &index, &ver);
        int blank = t == -EBADMSG && slot_blank(l);

        l->scanned++;
        if (t == -EIO)
            return t;
        if (blank && pos % l->per_page != 0) {
            /* The rest of this page was never written.  After holes
             * that a later slot proved written, a packed batch (or one
             * of unknown density) ended here: its end mark is among the
             * holes.  A batch of one slot a page just goes on. */
            if (after_hole && p.on && p.per != 1) {
                if (p.per == 0 && p.count == 1 && hs.ver == SLOT_ALONE) {
                    p.per = 1; /* a lone slot, damaged: the next continues */
                    p.next = next_page(l, pos);
                } else if (pend_commit(l, &p) != 0) {
                    return -ENOSPC;
                }
            }
            pos = next_page(l, pos);
            continue;
        }
        if (t == -EBADMSG && left == 0) {
            /* Torn tail, or damage inside what was written?  Valid
             * slots after it that continue the write sequence mean the
             * latter: keep the batch, with holes. */
            if (holes_after(l, pos, last, &hs)) {
                left = hs.n;
                hole_index = hs.index - hs.n;
            }
        }
        if (t == -EBADMSG && left > 0) {
            last++;
            pend_add(l, &p, pos, hole_index++, last, 0);
            l->holes++;
            left--;
            if (last > max_seq)
                max_seq = last;
            after_hole = 1;
            pos = (pos + 1) % total;
            continue;
        }
        if (t < 0 || seq <= last) {
            /* The end, unless writing went on at the next erase block
             * (the writer skips there after a mount or a failure).  Is
             * the first slot past the last one that counted programmed?
             * Then the last write did not finish, or its end is
             * damaged (tail_torn). */
            if (!stopped) {
                stopped = 1;
                garbage = t == -EBADMSG && !blank;
            }
            if (pos % l->per_page == 0 && (pos / l->per_page) % l->per_seg == 0)
                break;
            pos = (seg_of(l, pos / l->per_page) + 1) % l->nsegs * l->per_seg *
                  l->per_page;
            left = 0;
            after_hole = 0;
            continue;
        }
        stopped = 0;
        after_hole = 0;
        if (seq > max_seq)
            max_seq = seq;
        last = seq;
        if (t == T_TRUNC) {
            p.on = 0;
            if (index < l->end) {
                l->end = index < l->first ? l->first : index;
                runs_cut(l, l->end);
            }
        } else {
            pend_add(l, &p, pos, index, seq, ver);
            if (t == T_END && pend_commit(l, &p) != 0)
                return -ENOSPC;
        }
        /* a slot alone in its page: nothing follows it there */
        pos = ver == SLOT_ALONE ? next_page(l, pos) : (pos + 1) % total;
    }
    l->tail_torn = (p.on ? p.count : 0) + (uint32_t)(stopped && garbage);
    l->wpage = pos / l->per_page;
    l->wseq = max_seq + CLOG_SEQ_GAP;
    l->fresh = 1;
    return 0;
}

/* ---- writing --------------------------------------------------------- */

/* Make wpage writable: at an erase-block start, erase the block, unless
 * it still holds live records. */
static int
enter_page(struct clog *l)
{
    uint32_t seg;
    int rc;

    if (l->fresh && l->wpage % l->per_seg != 0)
        l->wpage = (seg_of(l, l->wpage) + 1) % l->nsegs * l->per_seg;
    if (l->wpage % l->per_seg != 0)
        return 0;
    seg = seg_of(l, l->wpage);
    if (l->end > l->first) {
        uint32_t s0;

        if (slot_of(l, l->first, &s0) == 0 &&
            seg_of(l, s0 / l->per_page) == seg)
            return -ENOSPC; /* the ring is full: trim first */
    }
    rc = hal_flash_erase(l->f, (uint64_t)seg * l->f->erase_size,
                         l->f->erase_size);
    if (rc != 0)
        return rc;
    l->fresh = 0;
    return 0;
}

/* Program the first n pages of buf at the next pages of the ring.  A
 * write never skips a page: *done pages of it went before, from *first
 * (set here when *done is 0). */
static int
prog_pages(struct clog *l, uint32_t n, uint32_t *first, uint32_t *done)
{
    for (uint32_t at = 0; at < n;) {
        uint32_t k, start;
        int rc = enter_page(l);

        if (rc != 0)
            return rc;
        start = l->wpage;
        if (*done == 0)
            *first = start;
        else if (start != (*first + *done) % l->npages)
            return -EIO; /* the ring is inconsistent */
        k = n - at;
        if (k > l->per_seg - start % l->per_seg)
            k = l->per_seg - start % l->per_seg;
        rc = hal_flash_prog(l->f, page_off(l, start),
                            l->buf + (size_t)at * l->page_size,
                            (size_t)k * l->page_size);
        l->wpage = (start + k) % l->npages;
        if (rc != 0)
            return rc;
        at += k;
        *done += k;
    }
    return 0;
}

/* Queue count slots from recs (NULL: one truncation slot), indices from
 * index, per to a page, and program pages as the buffer fills; with last
 * set, everything (a partial page padded with the erased value).  The
 * last slot carries the end mark when end is set.  On an error nothing
 * is left queued and the next write starts a fresh block: what is on
 * flash past the last good page is unknown, never program there. */
static int
put_slots(struct clog *l, const uint8_t *recs, uint32_t count, uint32_t index,
          uint32_t per, int last, int end, uint32_t *first, uint32_t *done)
{
    uint32_t cap = CLOG_BUF / l->page_size, used = per * CLOG_SLOT_RAW;
    /* where the next program lands (enter_page), and the pages left in
     * that erase block: a full buffer is one program, as the buffer's
     * pages never straddle two blocks */
    uint32_t at = l->fresh ? 0 : l->wpage % l->per_seg;
    int rc = 0;

    if (cap > l->per_seg - at)
        cap = l->per_seg - at;

    for (uint32_t i = 0; i < count && rc == 0; i++) {
        uint8_t *pg = l->buf + (size_t)(l->queued / per) * l->page_size;
        uint8_t *b = pg + (size_t)(l->queued % per) * CLOG_SLOT_RAW;

        if (recs != NULL)
            memcpy(b, recs + (size_t)i * CLOG_REC, CLOG_REC);
        else
            memset(b, 0, CLOG_REC);
        lib_put16(b + 160, SLOT_MAGIC);
        b[162] = per > 1 ? SLOT_PACKED : SLOT_ALONE;
        b[163] = recs == NULL            ? T_TRUNC
                 : end && i + 1 == count ? T_END
                                         : T_APPEND;
        lib_put32(b + 164, l->wseq++);
        lib_put32(b + 168, index + i);
        lib_put32(b + 172, lib_crc32c(0, b, 172));
        if (++l->queued % per == 0) {
            memset(pg + used, l->f->erased, l->page_size - used);
            if (l->queued / per == cap) {
                rc = prog_pages(l, cap, first, done);
                l->queued = 0;
                cap = CLOG_BUF / l->page_size;
                if (cap > l->per_seg - l->wpage % l->per_seg)
                    cap = l->per_seg - l->wpage % l->per_seg;
            }
        }
    }
    if (rc == 0 && last && l->queued > 0) {
        uint32_t n = pages_for(l->queued, per), tail = l->queued % per;

        if (tail != 0) /* the rest of the last page, erased */
            memset(l->buf + (size_t)(n - 1) * l->page_size +
                       (size_t)tail * CLOG_SLOT_RAW,
                   l->f->erased, l->page_size - tail * CLOG_SLOT_RAW);
        rc = prog_pages(l, n, first, done);
        l->queued = 0;
    }
    if (rc != 0) {
        l->queued = 0;
        l->fresh = 1;
        return rc == -EINVAL ? -EIO : rc;
    }
    l->since_ckpt += count;
    return 0;
}

/* Slots to a page for a batch of n: packed from two records on, until
 * the run map is three quarters full (then a slot a page, which
 * continues a run of single records instead of starting one). */
static uint32_t
batch_per(const struct clog *l, uint32_t n)
{
    return n >= 2 && l->nruns < CLOG_RUNS_MAX - CLOG_RUNS_MAX / 4 ? l->per_page
                                                                  : 1;
}

static void maybe_checkpoint(struct clog *l);

int
clog_append(struct clog *l, const uint8_t *recs, uint32_t n)
{
    uint32_t page = 0, done = 0, per;
    int rc;

    if (n == 0 || n > CLOG_BATCH_MAX)
        return -EINVAL;
    per = batch_per(l, n);
    if (pages_for(n, per) > l->npages - 2 * l->per_seg)
        return -ENOSPC;
    if (l->nruns == CLOG_RUNS_MAX) {
        /* a new run would not fit the map: only one that continues */
        struct clog_run r = run_of(l->end, l->wpage, n, per);

        if (l->fresh || !runs_continue(l, &r))
            return -ENOSPC;
    }
    if (l->batch_active)
        return -EBUSY;
    rc = put_slots(l, recs, n, l->end, per, 1, 1, &page, &done);
    if (rc != 0)
        return rc;
    rc = runs_add(l, l->end, page, n, per);
    if (rc != 0)
        return rc;
    l->end += n;
    maybe_checkpoint(l);
    return 0;
}

/* The records are committed whatever happens here: a checkpoint that
 * cannot be written (a full store) only means a longer scan at the next
 * mount, so it is counted, never reported as a failed append. */
static void
maybe_checkpoint(struct clog *l)
{
    if (l->since_ckpt >= CLOG_CKPT_EVERY && clog_checkpoint(l) != 0)
        l->ckpt_failed++;
}

/* Pages that can be written before the oldest live record's block. */
static uint32_t
room_pages(const struct clog *l)
{
    uint32_t w = l->wpage, s0, seg0, sw, avail;

    if (l->fresh && w % l->per_seg != 0)
        w = (seg_of(l, w) + 1) % l->nsegs * l->per_seg;
    if (l->end == l->first || slot_of(l, l->first, &s0) != 0)
        return l->npages - l->per_seg;
    seg0 = seg_of(l, s0 / l->per_page);
    sw = seg_of(l, w);
    avail = 0;
    if (w % l->per_seg != 0) {
        avail = l->per_seg - w % l->per_seg;
        sw = (sw + 1) % l->nsegs;
    }
    return avail + (seg0 + l->nsegs - sw) % l->nsegs * l->per_seg;
}

uint32_t
clog_room(const struct clog *l)
{
    return room_pages(l) * l->per_page;
}

int
clog_batch_begin(struct clog *l, uint32_t index, uint32_t total)
{
    uint32_t keep = 0, per;

    if (l->batch_active)
        return -EBUSY;
    if (total == 0 || index < l->first || index > l->end)
        return -EINVAL;
    per = batch_per(l, total);
    if (pages_for(total, per) > l->npages - 2 * l->per_seg ||
        pages_for(total, per) > room_pages(l))
        return -ENOSPC;
    /* the run map must take the batch's run once it lands */
    while (keep < l->nruns && l->runs[keep].index < index)
        keep++;
    if (keep + 1 > CLOG_RUNS_MAX)
        return -ENOSPC;
    l->batch_active = 1;
    l->batch_index = index;
    l->batch_total = total;
    l->batch_done = 0;
    l->batch_per = per;
    l->batch_page = 0;
    l->batch_pages = 0;
    l->queued = 0;
    return 0;
}

int
clog_batch_put(struct clog *l, const uint8_t *recs, uint32_t n)
{
    int last, rc;

    if (!l->batch_active)
        return -EINVAL;
    if (n == 0 || n > l->batch_total - l->batch_done) {
        clog_batch_abort(l);
        return -EINVAL;
    }
    last = l->batch_done + n == l->batch_total;
    /* a piece that ends inside a page stays queued until the next one
     * fills it: the batch counts only at its end mark anyway */
    rc = put_slots(l, recs, n, l->batch_index + l->batch_done, l->batch_per,
                   last, last, &l->batch_page, &l->batch_pages);
    if (rc != 0) {
        clog_batch_abort(l);
        return rc;
    }
    l->batch_done += n;
    if (!last)
        return 0;
    /* The end mark verified: the batch replaces everything from its
     * index on, in one step, as the next mount will see it too. */
    l->batch_active = 0;
    runs_cut(l, l->batch_index);
    rc = runs_add(l, l->batch_index, l->batch_page, l->batch_total,
                  l->batch_per);
    if (rc != 0)
        return rc; /* checked at begin: cannot happen */
    l->end = l->batch_index + l->batch_total;
    maybe_checkpoint(l);
    return 0;
}

void
clog_batch_abort(struct clog *l)
{
    if (!l->batch_active)
        return;
    l->batch_active = 0;
    l->queued = 0;
    /* Slots of the unfinished batch are on flash without an end mark:
     * the next write starts in a fresh erase block, so nothing written
     * later can ever be read as that batch's continuation. */
    l->fresh = 1;
}

int
clog_reset(struct clog *l)
{
    if (l->batch_active)
        return -EBUSY;
    l->first = 0;
    l->end = 0;
    l->nruns = 0;
    l->fresh = 1;
    /* Everything written so far now lies below the checkpoint's
     * sequence number: a mount never reads it again. */
    return clog_checkpoint(l);
}

int
clog_read(struct clog *l, uint32_t index, uint8_t *out)
{
    uint32_t pos, seq, got;
    int t, ver;

    if (index < l->first || index >= l->end || slot_of(l, index, &pos))
        return -ENOENT;
    t = slot_load(l, pos, &seq, &got, &ver);
    if (t == -EIO)
        return t;
    if (t < 0 || t == T_TRUNC || got != index) {
        l->bad++;
        return -EBADMSG;
    }
    memcpy(out, l->rbuf, CLOG_REC);
    return 0;
}

int
clog_truncate(struct clog *l, uint32_t index)
{
    uint32_t page = 0, done = 0;
    int rc;

    if (index < l->first || index > l->end)
        return -EINVAL;
    if (index == l->end)
        return 0;
    if (l->batch_active)
        return -EBUSY;
    rc = put_slots(l, NULL, 1, index, 1, 1, 0, &page, &done);
    if (rc != 0)
        return rc;
    l->end = index;
    runs_cut(l, index);
    return 0;
}

int
clog_trim(struct clog *l, uint32_t index)
{
    struct clog_run saved[CLOG_RUNS_MAX];
    uint32_t nruns = l->nruns, first = l->first;
    int rc;

    if (index < l->first || index > l->end)
        return -EINVAL;
    memcpy(saved, l->runs, nruns * sizeof(saved[0]));
    l->first = index;
    runs_drop_front(l, index);
    /* The slots become reusable only once this is committed. */
    rc = clog_checkpoint(l);
    if (rc != 0) {
        l->first = first;
        l->nruns = nruns;
        memcpy(l->runs, saved, nruns * sizeof(saved[0]));
    }
    return rc;
}
