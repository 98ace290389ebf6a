/*
 * store/clog.c - the chain log (see clog.h).
 *
 * Slot trailer at byte 160: u16 magic "KL", u8 version, u8 type (1
 * append, 2 append ending a batch, 3 truncate), u32 write sequence, u32
 * index, u32 CRC-32C of bytes 0..171.  Checkpoint value: u32 version,
 * first, end, next slot, last write sequence, run count, then per run
 * u32 index, slot, count.
 */
#include <errno.h>
#include <string.h>

#include "store/clog.h"
#include "lib/crc32c.h"
#include "lib/le.h"

#define SLOT_MAGIC 0x4c4b
#define SLOT_VERSION 1
#define T_APPEND 1
#define T_END 2
#define T_TRUNC 3
#define CKPT_VERSION 1

static uint64_t
slot_off(const struct clog *l, uint32_t slot)
{
    return (uint64_t)(slot / l->per_seg) * l->f->erase_size +
           (uint64_t)(slot % l->per_seg) * l->slot_size;
}

static uint32_t
seg_of(const struct clog *l, uint32_t slot)
{
    return slot / l->per_seg;
}

/* Read and check a slot into b.  Returns its type or -EBADMSG / -EIO. */
static int
slot_load(struct clog *l, uint32_t slot, uint8_t *b, uint32_t *seq,
          uint32_t *index)
{
    int rc = hal_flash_read(l->f, slot_off(l, slot), b, CLOG_SLOT_RAW);

    if (rc != 0)
        return rc;
    if (lib_le16(b + 160) != SLOT_MAGIC || b[162] != SLOT_VERSION ||
        b[163] < T_APPEND || b[163] > T_TRUNC ||
        lib_crc32c(0, b, 172) != lib_le32(b + 172))
        return -EBADMSG;
    *seq = lib_le32(b + 164);
    *index = lib_le32(b + 168);
    return b[163];
}

/* ---- the run map ------------------------------------------------- */

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
runs_add(struct clog *l, uint32_t index, uint32_t slot, uint32_t count)
{
    if (l->nruns > 0) {
        struct clog_run *r = &l->runs[l->nruns - 1];

        if (r->index + r->count == index &&
            (r->slot + r->count) % l->nslots == slot) {
            r->count += count;
            return 0;
        }
    }
    if (l->nruns == CLOG_RUNS_MAX)
        return -ENOSPC;
    l->runs[l->nruns++] = (struct clog_run){index, slot, count};
    return 0;
}

static void
runs_drop_front(struct clog *l, uint32_t index)
{
    uint32_t k = 0;

    while (k < l->nruns && l->runs[k].index + l->runs[k].count <= index)
        k++;
    memmove(l->runs, l->runs + k, (l->nruns - k) * sizeof(l->runs[0]));
    l->nruns -= k;
    if (l->nruns > 0 && l->runs[0].index < index) {
        uint32_t d = index - l->runs[0].index;

        l->runs[0].index += d;
        l->runs[0].slot = (l->runs[0].slot + d) % l->nslots;
        l->runs[0].count -= d;
    }
}

static int
slot_of(const struct clog *l, uint32_t index, uint32_t *slot)
{
    for (uint32_t i = l->nruns; i-- > 0;) {
        const struct clog_run *r = &l->runs[i];

        if (index >= r->index && index < r->index + r->count) {
            *slot = (r->slot + (index - r->index)) % l->nslots;
            return 0;
        }
    }
    return -ENOENT;
}

/* ---- checkpoint ------------------------------------------------------ */

int
clog_checkpoint(struct clog *l)
{
    uint8_t v[24 + CLOG_RUNS_MAX * 12];
    uint32_t n = 24;

    lib_put32(v, CKPT_VERSION);
    lib_put32(v + 4, l->first);
    lib_put32(v + 8, l->end);
    lib_put32(v + 12, l->wslot);
    lib_put32(v + 16, l->wseq - 1);
    lib_put32(v + 20, l->nruns);
    for (uint32_t i = 0; i < l->nruns; i++, n += 12) {
        lib_put32(v + n, l->runs[i].index);
        lib_put32(v + n + 4, l->runs[i].slot);
        lib_put32(v + n + 8, l->runs[i].count);
    }
    int rc = store_put(l->st, CLOG_CKPT_KEY, v, n);

    if (rc == 0)
        l->since_ckpt = 0;
    return rc;
}

static int
ckpt_load(struct clog *l, uint32_t *last_seq)
{
    uint8_t v[24 + CLOG_RUNS_MAX * 12];
    int n = store_get(l->st, CLOG_CKPT_KEY, v, sizeof(v));

    if (n == -ENOENT) {
        *last_seq = 0;
        return 0; /* a new log */
    }
    if (n < 0)
        return n;
    if (n < 24 || lib_le32(v) != CKPT_VERSION ||
        (uint32_t)n != 24 + 12 * lib_le32(v + 20) ||
        lib_le32(v + 20) > CLOG_RUNS_MAX || lib_le32(v + 12) >= l->nslots)
        return -EBADMSG;
    l->first = lib_le32(v + 4);
    l->end = lib_le32(v + 8);
    l->wslot = lib_le32(v + 12);
    *last_seq = lib_le32(v + 16);
    l->nruns = lib_le32(v + 20);
    for (uint32_t i = 0; i < l->nruns; i++) {
        const uint8_t *r = v + 24 + 12 * i;

        l->runs[i] =
            (struct clog_run){lib_le32(r), lib_le32(r + 4), lib_le32(r + 8)};
        if (l->runs[i].slot >= l->nslots)
            return -EBADMSG;
    }
    return l->first <= l->end ? 0 : -EBADMSG;
}

/* ---- mount ----------------------------------------------------------- */

/* 1 when the slot read into b is all erased (never programmed). */
static int
slot_blank(const struct clog *l, const uint8_t *b)
{
    for (uint32_t i = 0; i < CLOG_SLOT_RAW; i++)
        if (b[i] != l->f->erased)
            return 0;
    return 1;
}

/* Slot bad failed its check while the slot before it (or the
 * checkpoint) ended write sequence last.  If a valid data slot follows
 * within one erase block whose sequence says it was written right after
 * the slots in between, those slots were written too (damage, not a torn
 * tail): return how many (>= 1) with *index set to the valid slot's
 * index.  0 when the bad slot is the end of what was written. */
static uint32_t
holes_after(struct clog *l, uint32_t bad, uint32_t last, uint32_t *index)
{
    uint8_t *b = l->buf;

    for (uint32_t j = 1; j <= l->per_seg; j++) {
        uint32_t seq, idx;
        int t = slot_load(l, (bad + j) % l->nslots, b, &seq, &idx);

        if (t == T_APPEND || t == T_END) {
            if (seq != last + j + 1 || idx < j)
                return 0;
            *index = idx;
            return j;
        }
        if (t != -EBADMSG)
            return 0;
    }
    return 0;
}

int
clog_mount(struct clog *l, const struct hal_flash *f, struct store *st)
{
    uint32_t last, prev, max_seq, slot, p_index = 0, p_slot = 0, p_count = 0;
    uint8_t *b = l->buf;
    int rc, pending = 0, stopped = 0, garbage = 0;

    memset(l, 0, offsetof(struct clog, buf));
    l->f = f;
    l->st = st;
    l->slot_size =
        (CLOG_SLOT_RAW + f->prog_size - 1) / f->prog_size * f->prog_size;
    l->per_seg = f->erase_size / l->slot_size;
    l->nsegs = (uint32_t)(f->size / f->erase_size);
    if (l->per_seg == 0 || l->nsegs < 3 ||
        (uint64_t)l->per_seg * l->nsegs > UINT32_MAX / 2)
        return -EINVAL;
    l->nslots = l->per_seg * l->nsegs;
    rc = ckpt_load(l, &last);
    if (rc != 0)
        return rc;
    max_seq = last;

    /* Replay what was written after the checkpoint. */
    slot = l->wslot;
    for (uint32_t steps = 0; steps < l->nslots; steps++) {
        uint32_t seq, index;
        int t = slot_load(l, slot, b, &seq, &index);
        /* (holes_after() reads into b too) */
        int blank = t == -EBADMSG && slot_blank(l, b);

        l->scanned++;
        if (t == -EIO)
            return t;
        if (t == -EBADMSG) {
            /* Torn tail, or damage inside what was written?  Valid
             * slots right after it that continue the write sequence
             * mean the latter: keep the batch, with holes. */
            uint32_t j = holes_after(l, slot, last, &index);

            if (j > 0) {
                l->holes += j;
                seq = last + j;
                index -= j;
                for (uint32_t h = 0; h < j; h++) {
                    if (!pending || index + h != p_index + p_count ||
                        (slot + h) % l->nslots !=
                            (p_slot + p_count) % l->nslots) {
                        pending = 1;
                        p_index = index + h;
                        p_slot = (slot + h) % l->nslots;
                        p_count = 0;
                    }
                    p_count++;
                }
                last = seq;
                if (seq > max_seq)
                    max_seq = seq;
                slot = (slot + j) % l->nslots;
                steps += j - 1;
                continue;
            }
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
            if (slot % l->per_seg == 0)
                break;
            slot = (seg_of(l, slot) + 1) % l->nsegs * l->per_seg;
            continue;
        }
        stopped = 0;
        if (seq > max_seq)
            max_seq = seq;
        prev = last;
        last = seq;
        if (t == T_TRUNC) {
            pending = 0;
            if (index < l->end) {
                l->end = index < l->first ? l->first : index;
                runs_cut(l, l->end);
            }
        } else {
            /* A batch's slots follow each other in index, slot and
             * write sequence: a slot written after a mount right behind
             * a torn batch's last one (at the next erase block's start)
             * may continue the first two, never the third. */
            if (!pending || index != p_index + p_count ||
                slot != (p_slot + p_count) % l->nslots || seq != prev + 1) {
                pending = 1; /* a new batch starts here */
                p_index = index;
                p_slot = slot;
                p_count = 0;
            }
            p_count++;
            if (t == T_END) {
                if (p_index >= l->first && p_index <= l->end) {
                    runs_cut(l, p_index);
                    if (runs_add(l, p_index, p_slot, p_count) != 0)
                        return -ENOSPC;
                    l->end = p_index + p_count;
                }
                pending = 0;
            }
        }
        slot = (slot + 1) % l->nslots;
    }
    l->tail_torn = (pending ? p_count : 0) + (uint32_t)(stopped && garbage);
    l->wslot = slot;
    l->wseq = max_seq + CLOG_SEQ_GAP;
    l->fresh = 1;
    return 0;
}

/* ---- writing --------------------------------------------------------- */

/* Make wslot writable: at an erase-block start, erase the block, unless
 * it still holds live records. */
static int
enter_slot(struct clog *l)
{
    uint32_t seg;
    int rc;

    if (l->fresh && l->wslot % l->per_seg != 0)
        l->wslot = (seg_of(l, l->wslot) + 1) % l->nsegs * l->per_seg;
    if (l->wslot % l->per_seg != 0)
        return 0;
    seg = seg_of(l, l->wslot);
    if (l->end > l->first) {
        uint32_t s0;

        if (slot_of(l, l->first, &s0) == 0 && seg_of(l, s0) == seg)
            return -ENOSPC; /* the ring is full: trim first */
    }
    rc = hal_flash_erase(l->f, (uint64_t)seg * l->f->erase_size,
                         l->f->erase_size);
    if (rc != 0)
        return rc;
    l->fresh = 0;
    return 0;
}

static void
slot_fill(struct clog *l, uint8_t *b, const uint8_t *rec, int type,
          uint32_t index)
{
    if (rec != NULL)
        memcpy(b, rec, CLOG_REC);
    else
        memset(b, 0, CLOG_REC);
    lib_put16(b + 160, SLOT_MAGIC);
    b[162] = SLOT_VERSION;
    b[163] = (uint8_t)type;
    lib_put32(b + 164, l->wseq++);
    lib_put32(b + 168, index);
    lib_put32(b + 172, lib_crc32c(0, b, 172));
    memset(b + CLOG_SLOT_RAW, l->f->erased, l->slot_size - CLOG_SLOT_RAW);
}

/* Program count slots from recs (NULL: one truncation slot for index);
 * the last one carries the end mark when end is set. */
static int
slots_write(struct clog *l, const uint8_t *recs, uint32_t count, uint32_t index,
            uint32_t *first_slot, int end)
{
    uint32_t done = 0;

    while (done < count) {
        uint32_t n = 0, start;
        int rc = enter_slot(l);

        if (rc != 0)
            goto fail_rc;
        start = l->wslot;
        if (done == 0)
            *first_slot = start;
        else if (start != (*first_slot + done) % l->nslots) {
            rc = -EIO; /* a batch never skips: the ring is inconsistent */
            goto fail_rc;
        }
        /* As many slots as fit the buffer and the erase block. */
        while (done + n < count && (n + 1) * l->slot_size <= CLOG_BUF &&
               start % l->per_seg + n < l->per_seg) {
            int type = recs == NULL                   ? T_TRUNC
                       : end && done + n + 1 == count ? T_END
                                                      : T_APPEND;

            slot_fill(l, l->buf + n * l->slot_size,
                      recs ? recs + (size_t)(done + n) * CLOG_REC : NULL, type,
                      index + done + n);
            n++;
        }
        rc = hal_flash_prog(l->f, slot_off(l, start), l->buf,
                            (size_t)n * l->slot_size);
        l->wslot = (start + n) % l->nslots;
        if (rc != 0)
            goto fail_rc;
        done += n;
        continue;
    fail_rc:
        /* What is on flash past the last good slot is unknown: never
         * program there again; the next write starts a fresh block. */
        l->fresh = 1;
        return rc == -EINVAL ? -EIO : rc;
    }
    l->since_ckpt += count;
    return 0;
}

static void maybe_checkpoint(struct clog *l);

int
clog_append(struct clog *l, const uint8_t *recs, uint32_t n)
{
    uint32_t slot = 0;
    int rc;

    if (n == 0 || n > CLOG_BATCH_MAX)
        return -EINVAL;
    if (n > l->nslots - 2 * l->per_seg)
        return -ENOSPC;
    if (l->nruns == CLOG_RUNS_MAX &&
        (l->runs[l->nruns - 1].index + l->runs[l->nruns - 1].count != l->end ||
         (l->runs[l->nruns - 1].slot + l->runs[l->nruns - 1].count) %
                 l->nslots !=
             (l->fresh ? UINT32_MAX : l->wslot)))
        return -ENOSPC; /* a new run would not fit the map */
    if (l->batch_active)
        return -EBUSY;
    rc = slots_write(l, recs, n, l->end, &slot, 1);
    if (rc != 0)
        return rc;
    rc = runs_add(l, l->end, slot, n);
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

uint32_t
clog_room(const struct clog *l)
{
    uint32_t w = l->wslot, s0, seg0, sw, avail;

    if (l->fresh && w % l->per_seg != 0)
        w = (seg_of(l, w) + 1) % l->nsegs * l->per_seg;
    if (l->end == l->first || slot_of(l, l->first, &s0) != 0)
        return l->nslots - l->per_seg;
    seg0 = seg_of(l, s0);
    sw = seg_of(l, w);
    avail = 0;
    if (w % l->per_seg != 0) {
        avail = l->per_seg - w % l->per_seg;
        sw = (sw + 1) % l->nsegs;
    }
    return avail + (seg0 + l->nsegs - sw) % l->nsegs * l->per_seg;
}

int
clog_batch_begin(struct clog *l, uint32_t index, uint32_t total)
{
    uint32_t keep = 0;

    if (l->batch_active)
        return -EBUSY;
    if (total == 0 || index < l->first || index > l->end)
        return -EINVAL;
    if (total > l->nslots - 2 * l->per_seg || total > clog_room(l))
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
    return 0;
}

int
clog_batch_put(struct clog *l, const uint8_t *recs, uint32_t n)
{
    uint32_t slot = 0;
    int last, rc;

    if (!l->batch_active)
        return -EINVAL;
    if (n == 0 || n > l->batch_total - l->batch_done) {
        clog_batch_abort(l);
        return -EINVAL;
    }
    last = l->batch_done + n == l->batch_total;
    rc = slots_write(l, recs, n, l->batch_index + l->batch_done, &slot, last);
    if (rc == 0 && l->batch_done == 0)
        l->batch_slot = slot;
    else if (rc == 0 && slot != (l->batch_slot + l->batch_done) % l->nslots)
        rc = -EIO; /* a batch never skips a slot */
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
    rc = runs_add(l, l->batch_index, l->batch_slot, l->batch_total);
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
    uint32_t slot, seq, got;
    int t;

    if (index < l->first || index >= l->end || slot_of(l, index, &slot))
        return -ENOENT;
    t = slot_load(l, slot, l->buf, &seq, &got);
    if (t == -EIO)
        return t;
    if (t < 0 || t == T_TRUNC || got != index) {
        l->bad++;
        return -EBADMSG;
    }
    memcpy(out, l->buf, CLOG_REC);
    return 0;
}

int
clog_truncate(struct clog *l, uint32_t index)
{
    uint32_t slot;
    int rc;

    if (index < l->first || index > l->end)
        return -EINVAL;
    if (index == l->end)
        return 0;
    if (l->batch_active)
        return -EBUSY;
    rc = slots_write(l, NULL, 1, index, &slot, 0);
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
