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
#include "store/crc32c.h"
#include "store/le.h"

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
    if (le16(b + 160) != SLOT_MAGIC || b[162] != SLOT_VERSION ||
        b[163] < T_APPEND || b[163] > T_TRUNC ||
        crc32c(0, b, 172) != le32(b + 172))
        return -EBADMSG;
    *seq = le32(b + 164);
    *index = le32(b + 168);
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

    put32(v, CKPT_VERSION);
    put32(v + 4, l->first);
    put32(v + 8, l->end);
    put32(v + 12, l->wslot);
    put32(v + 16, l->wseq - 1);
    put32(v + 20, l->nruns);
    for (uint32_t i = 0; i < l->nruns; i++, n += 12) {
        put32(v + n, l->runs[i].index);
        put32(v + n + 4, l->runs[i].slot);
        put32(v + n + 8, l->runs[i].count);
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
    if (n < 24 || le32(v) != CKPT_VERSION ||
        (uint32_t)n != 24 + 12 * le32(v + 20) || le32(v + 20) > CLOG_RUNS_MAX ||
        le32(v + 12) >= l->nslots)
        return -EBADMSG;
    l->first = le32(v + 4);
    l->end = le32(v + 8);
    l->wslot = le32(v + 12);
    *last_seq = le32(v + 16);
    l->nruns = le32(v + 20);
    for (uint32_t i = 0; i < l->nruns; i++) {
        const uint8_t *r = v + 24 + 12 * i;

        l->runs[i] = (struct clog_run){le32(r), le32(r + 4), le32(r + 8)};
        if (l->runs[i].slot >= l->nslots)
            return -EBADMSG;
    }
    return l->first <= l->end ? 0 : -EBADMSG;
}

/* ---- mount ----------------------------------------------------------- */

int
clog_mount(struct clog *l, const struct hal_flash *f, struct store *st)
{
    uint32_t last, max_seq, slot, p_index = 0, p_slot = 0, p_count = 0;
    uint8_t *b = l->buf;
    int rc, pending = 0;

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

        l->scanned++;
        if (t == -EIO)
            return t;
        if (t < 0 || seq <= last) {
            /* The end, unless writing went on at the next erase block
             * (the writer skips there after a mount or a failure). */
            if (slot % l->per_seg == 0)
                break;
            slot = (seg_of(l, slot) + 1) % l->nsegs * l->per_seg;
            continue;
        }
        if (seq > max_seq)
            max_seq = seq;
        last = seq;
        if (t == T_TRUNC) {
            pending = 0;
            if (index < l->end) {
                l->end = index < l->first ? l->first : index;
                runs_cut(l, l->end);
            }
        } else {
            if (!pending || index != p_index + p_count ||
                slot != (p_slot + p_count) % l->nslots) {
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
    put16(b + 160, SLOT_MAGIC);
    b[162] = SLOT_VERSION;
    b[163] = (uint8_t)type;
    put32(b + 164, l->wseq++);
    put32(b + 168, index);
    put32(b + 172, crc32c(0, b, 172));
    memset(b + CLOG_SLOT_RAW, l->f->erased, l->slot_size - CLOG_SLOT_RAW);
}

/* Program count slots from recs (NULL: one truncation slot for index). */
static int
slots_write(struct clog *l, const uint8_t *recs, uint32_t count, uint32_t index,
            uint32_t *first_slot)
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
            int type = recs == NULL            ? T_TRUNC
                       : done + n + 1 == count ? T_END
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
    rc = slots_write(l, recs, n, l->end, &slot);
    if (rc != 0)
        return rc;
    rc = runs_add(l, l->end, slot, n);
    if (rc != 0)
        return rc;
    l->end += n;
    if (l->since_ckpt >= CLOG_CKPT_EVERY)
        return clog_checkpoint(l);
    return 0;
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
    rc = slots_write(l, NULL, 1, index, &slot);
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
