/*
 * store/store.c - the record store (see store.h for the design).
 *
 * Sector header (hdr_size bytes, one or more program units):
 *   0 u32 magic "KSS1"   4 u16 version   6 u16 header length (32)
 *   8 u32 block seq     12 u32 erase count  16 u32 floor
 *  20 u32 sector size   24 u32 reserved (0) 28 u32 CRC-32C of 0..27
 * Record (at a program-unit boundary, padded with the erased value):
 *   0 u16 magic "KR"     2 u8 version   3 u8 type (1 data, 2 retire)
 *   4 u32 seq            8 u32 payload length
 *  12 u32 CRC-32C of bytes 0..11 and the payload
 * Data payload: entries of  u8 key length, u8 op (1 put, 2 delete),
 * u16 value length, key, value.  Retire payload: u32 sector, u32 seq.
 * Fence payload: u32 start of the void span (it ends at the fence).
 */
#include <errno.h>
#include <string.h>

#include "hal/clock.h"
#include "lib/crc32c.h"
#include "lib/le.h"
#include "store/store.h"

#define SEC_MAGIC 0x3153534bu /* "KSS1" */
#define SEC_VERSION 1
#define SEC_HDR 32
#define REC_MAGIC 0x524b /* "KR" */
#define REC_VERSION 1
#define REC_HDR 16
#define REC_DATA 1
#define REC_RETIRE 2
#define REC_FENCE 3
#define ENT_HDR 4
#define OP_PUT 1
#define OP_DEL 2

static uint32_t
pad(const struct store *s, uint32_t n)
{
    return hal_flash_pad(s->f, n);
}

static uint64_t
sec_off(const struct store *s, uint32_t sec)
{
    return (uint64_t)sec * s->sector_size;
}

/* What one entry costs as a record of its own: the unit of accounting. */
static uint32_t
standalone(const struct store *s, uint32_t klen, uint32_t vlen)
{
    return pad(s, REC_HDR + ENT_HDR + klen + vlen);
}

static int
key_ok(const char *key, size_t *klen)
{
    size_t n = key ? strnlen(key, STORE_KEY_MAX + 1) : 0;

    if (n == 0 || n > STORE_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (key[i] <= ' ' || key[i] > '~')
            return 0;
    *klen = n;
    return 1;
}

static struct store_key *
key_find(struct store *s, const char *key, size_t klen)
{
    for (uint32_t i = 0; i < s->nkeys; i++)
        if (s->keys[i].klen == klen && memcmp(s->keys[i].key, key, klen) == 0)
            return &s->keys[i];
    return NULL;
}

static void
key_remove(struct store *s, struct store_key *k)
{
    s->live_bytes -= standalone(s, k->klen, k->vlen);
    *k = s->keys[--s->nkeys];
}

/* ---- reading records ----------------------------------------------- */

/* Parse the record at off of sector sec into s->rbuf.  Returns its padded
 * size, 0 when the unit there reads erased, or -EBADMSG. */
static int
rec_load(struct store *s, uint32_t sec, uint32_t off)
{
    uint8_t *b = s->rbuf;
    uint32_t len;
    int rc, blank = 1;

    if (off + REC_HDR > s->sector_size)
        return -EBADMSG;
    rc = hal_flash_read(s->f, sec_off(s, sec) + off, b, REC_HDR);
    if (rc != 0)
        return rc;
    for (int i = 0; i < REC_HDR; i++)
        blank &= b[i] == s->f->erased;
    if (blank)
        return 0;
    len = lib_le32(b + 8);
    if (lib_le16(b) != REC_MAGIC || b[2] != REC_VERSION ||
        len > STORE_REC_MAX - REC_HDR || off + REC_HDR + len > s->sector_size)
        return -EBADMSG;
    rc =
        hal_flash_read(s->f, sec_off(s, sec) + off + REC_HDR, b + REC_HDR, len);
    if (rc != 0)
        return rc;
    if (lib_crc32c(lib_crc32c(0, b, 12), b + REC_HDR, len) != lib_le32(b + 12))
        return -EBADMSG;
    return (int)pad(s, REC_HDR + len);
}

/* Walk the entries of the data record in rbuf.  fn returns 0 to go on. */
typedef int (*entry_fn)(struct store *s, uint32_t sec, uint32_t rec_off,
                        uint32_t seq, int op, const char *key, uint32_t klen,
                        uint32_t val_off, uint32_t vlen, void *arg);

static int
rec_entries(struct store *s, uint32_t sec, uint32_t off, entry_fn fn, void *arg)
{
    const uint8_t *b = s->rbuf;
    uint32_t len = lib_le32(b + 8), seq = lib_le32(b + 4), p = REC_HDR;

    while (p < REC_HDR + len) {
        uint32_t klen, vlen;
        int op, rc;

        if (p + ENT_HDR > REC_HDR + len)
            return -EBADMSG;
        klen = b[p];
        op = b[p + 1];
        vlen = lib_le16(b + p + 2);
        if (klen == 0 || klen > STORE_KEY_MAX || vlen > STORE_VAL_MAX ||
            (op != OP_PUT && op != OP_DEL) ||
            p + ENT_HDR + klen + vlen > REC_HDR + len)
            return -EBADMSG;
        rc = fn(s, sec, off, seq, op, (const char *)b + p + ENT_HDR, klen,
                p + ENT_HDR + klen, vlen, arg);
        if (rc != 0)
            return rc;
        p += ENT_HDR + klen + vlen;
    }
    return 0;
}

/* Scan a sector's records.  Calls fn(rec_off) for every record that
 * verifies, and bad_fn (when given) where each run of units that neither
 * verify nor read erased starts.  Resynchronises unit by unit after a bad
 * record, so one flipped bit never hides the records behind it. */
typedef int (*rec_fn)(struct store *s, uint32_t sec, uint32_t off, void *arg);
typedef void (*bad_fn)(void *arg, uint32_t sector, uint32_t off);

struct scan_out {
    uint32_t bad;   /* runs of bad units */
    uint32_t end;   /* end of the last record that verified */
    uint32_t dirty; /* end of the last unit that does not read erased */
};

static int
sec_scan(struct store *s, uint32_t sec, rec_fn fn, void *arg, bad_fn bad,
         void *bad_arg, struct scan_out *out)
{
    uint32_t off = s->hdr_size;
    int in_bad = 0;

    *out = (struct scan_out){0, s->hdr_size, s->hdr_size};
    while (off + REC_HDR <= s->sector_size) {
        int n = rec_load(s, sec, off);

        if (n == -EIO)
            return n;
        if (n > 0) {
            int rc = fn ? fn(s, sec, off, arg) : 0;

            if (rc != 0)
                return rc;
            off += (uint32_t)n;
            out->end = out->dirty = off;
            in_bad = 0;
            continue;
        }
        if (n < 0) {
            if (!in_bad) {
                out->bad++;
                if (bad)
                    bad(bad_arg, sec, off);
            }
            out->dirty = off + s->f->prog_size;
        }
        in_bad = n < 0;
        off += s->f->prog_size;
    }
    return 0;
}

/* ---- mount ------------------------------------------------------------ */

static int
sec_header(struct store *s, uint32_t sec)
{
    uint8_t h[SEC_HDR];
    struct store_sector *x = &s->sec[sec];
    int rc = hal_flash_read(s->f, sec_off(s, sec), h, SEC_HDR);

    if (rc != 0)
        return rc;
    x->in_use = lib_le32(h) == SEC_MAGIC && lib_le16(h + 4) == SEC_VERSION &&
                lib_le16(h + 6) == SEC_HDR &&
                lib_le32(h + 20) == s->sector_size &&
                lib_crc32c(0, h, 28) == lib_le32(h + 28);
    if (x->in_use) {
        x->seq = lib_le32(h + 8);
        x->erases = lib_le32(h + 12);
        x->floor = lib_le32(h + 16);
    }
    return 0;
}

/* A sector whose header does not verify is free, unless the header is
 * damaged: it is programmed and the first record behind it verifies.
 * A sector is erased before its header is written, so a cut while the
 * header is programmed leaves nothing behind it; what looks the same
 * otherwise is a retired sector whose erase was cut in the header's
 * bytes, and its retire record says so (mount_retire).
 *
 * Such a sector is read all the same (salvage()): a header holds only
 * the sector's place among the others (block sequence), its floor and
 * its erase count, and the records give the first two back.  The
 * record at hdr_size is the first one written into the sector: a
 * sector opens with the floor next_seq - 1, and its first record takes
 * next_seq (a failed write does not advance it).  Sets hdr_bad and the
 * floor; 1, 0, or -EIO. */
static int
hdr_damaged(struct store *s, uint32_t sec)
{
    struct store_sector *x = &s->sec[sec];
    uint8_t h[SEC_HDR];
    int rc, blank = 1;

    if (x->in_use)
        return 0;
    rc = hal_flash_read(s->f, sec_off(s, sec), h, SEC_HDR);
    if (rc != 0)
        return rc;
    for (int i = 0; i < SEC_HDR; i++)
        blank &= h[i] == s->f->erased;
    if (blank)
        return 0;
    rc = rec_load(s, sec, s->hdr_size);
    if (rc <= 0)
        return rc == -EIO ? rc : 0;
    x->hdr_bad = 1;
    x->floor = lib_le32(s->rbuf + 4) - 1;
    return 1;
}

/* Give each sector found by hdr_damaged() a block sequence that orders
 * it as its lost one did, lowest floor first.  A sector with a lower
 * floor was opened before it.  One with the same floor either was
 * opened before it and holds no record that counts, or after it, when
 * none of its own writes succeeded: it is taken as later, which at
 * worst leaves this sector's records uncounted (its floor, the limit
 * that later sector sets, is below them), never counts a torn one.
 * Its own block sequence lies between the earlier ones' and the later
 * ones', so one more than the highest earlier one does too; if that is
 * not below every later one (damage elsewhere too), it stays unread.
 * Its erase count is unknown: the highest of the others'. */
static void
salvage(struct store *s, uint32_t *max_block)
{
    for (;;) {
        struct store_sector *x = NULL;
        uint32_t older = 0, newer = UINT32_MAX, erases = 0;
        int has_older = 0;

        for (uint32_t i = 0; i < s->nsectors; i++)
            if (s->sec[i].hdr_bad == 1 &&
                (x == NULL || s->sec[i].floor < x->floor))
                x = &s->sec[i];
        if (x == NULL)
            return;
        x->hdr_bad = 2;
        for (uint32_t i = 0; i < s->nsectors; i++) {
            const struct store_sector *y = &s->sec[i];

            if (!y->in_use || y == x)
                continue;
            if (y->floor < x->floor) {
                if (!has_older || y->seq > older)
                    older = y->seq;
                has_older = 1;
            } else if (y->seq < newer) {
                newer = y->seq;
            }
            if (y->erases > erases)
                erases = y->erases;
        }
        if (has_older && older + 1 < newer)
            x->seq = older + 1;
        else if (!has_older && newer > 0)
            x->seq = newer == UINT32_MAX ? 0 : newer - 1;
        else
            continue; /* no room between its neighbours: left unread */
        x->in_use = 1;
        x->erases = erases;
        if (x->seq >= *max_block)
            *max_block = x->seq + 1;
    }
}

/* Sectors in use, oldest first (insertion sort: at most a few hundred). */
static uint32_t
sec_order(struct store *s, uint16_t *order)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < s->nsectors; i++) {
        uint32_t j = n++;

        if (!s->sec[i].in_use) {
            n--;
            continue;
        }
        while (j > 0 && s->sec[order[j - 1]].seq > s->sec[i].seq) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (uint16_t)i;
    }
    return n;
}

struct mount_ctx {
    uint32_t limit; /* records above this seq are ignored in this sector */
    uint32_t max_seq;
};

static int
mount_retire(struct store *s, uint32_t sec, uint32_t off, void *arg)
{
    struct mount_ctx *m = arg;
    const uint8_t *b = s->rbuf;
    uint32_t target;

    if (lib_le32(b + 4) > m->limit)
        return 0;
    if (b[3] == REC_FENCE && lib_le32(b + 8) == 4) {
        if (s->nfences < STORE_FENCES_MAX)
            s->fences[s->nfences++] =
                (struct store_fence){sec, lib_le32(b + REC_HDR), off};
        return 0;
    }
    if (b[3] != REC_RETIRE || lib_le32(b + 8) != 8)
        return 0;
    target = lib_le32(b + REC_HDR);
    /* A sector read despite a damaged header (salvage()) has lost the
     * block sequence a retire record names: any retire record written
     * after its first record retires it (one written before retired an
     * earlier use of that sector). */
    if (target < s->nsectors && s->sec[target].in_use &&
        (s->sec[target].hdr_bad
             ? lib_le32(b + 4) > s->sec[target].floor
             : s->sec[target].seq == lib_le32(b + REC_HDR + 4)))
        s->sec[target].in_use = 2; /* retired, erase below */
    return 0;
}

static int
mount_entry(struct store *s, uint32_t sec, uint32_t rec_off, uint32_t seq,
            int op, const char *key, uint32_t klen, uint32_t val_off,
            uint32_t vlen, void *arg)
{
    struct store_key *k = key_find(s, key, klen);

    (void)arg;
    if (k != NULL && k->seq > seq)
        return 0;
    if (op == OP_DEL) {
        if (k != NULL)
            key_remove(s, k);
        return 0;
    }
    if (k == NULL) {
        if (s->nkeys == STORE_KEYS_MAX)
            return 0; /* cannot happen with a store keel wrote */
        k = &s->keys[s->nkeys++];
        memcpy(k->key, key, klen);
        k->klen = (uint8_t)klen;
    } else {
        s->live_bytes -= standalone(s, k->klen, k->vlen);
    }
    k->vlen = (uint16_t)vlen;
    k->sector = (uint16_t)sec;
    k->rec_off = rec_off;
    k->val_off = val_off;
    k->seq = seq;
    s->live_bytes += standalone(s, klen, vlen);
    return 0;
}

static int
fenced(const struct store *s, uint32_t sec, uint32_t off)
{
    for (uint32_t i = 0; i < s->nfences; i++)
        if (s->fences[i].sector == sec && off >= s->fences[i].from &&
            off < s->fences[i].to)
            return 1;
    return 0;
}

static int
mount_data(struct store *s, uint32_t sec, uint32_t off, void *arg)
{
    struct mount_ctx *m = arg;
    uint32_t seq = lib_le32(s->rbuf + 4);

    if (seq > m->limit || fenced(s, sec, off))
        return 0; /* a torn record that verifies now: never counted */
    if (seq > m->max_seq)
        m->max_seq = seq;
    if (s->rbuf[3] != REC_DATA)
        return 0;
    if (rec_entries(s, sec, off, mount_entry, NULL) != 0)
        s->bad_records++;
    return 0;
}

static int
mount(struct store *s, const struct hal_flash *f, int ro)
{
    uint64_t t0 = hal_clock_ms();
    uint16_t order[STORE_SECTORS_MAX];
    uint32_t limit[STORE_SECTORS_MAX];
    struct mount_ctx m = {0, 0};
    struct scan_out scan;
    uint32_t n, max_block = 0, dirty = 0;
    int rc;

    memset(s, 0, offsetof(struct store, rbuf));
    s->f = f;
    s->head = -1;
    s->fresh = 1;
    if (f->prog_size > STORE_PROG_MAX || f->prog_size < 4)
        return -EINVAL;
    s->sector_size = f->erase_size;
    while (s->sector_size < STORE_SECTOR_MIN)
        s->sector_size *= 2;
    s->nsectors = (uint32_t)(f->size / s->sector_size);
    if (s->nsectors < STORE_RESERVE + 3 || s->nsectors > STORE_SECTORS_MAX)
        return -EINVAL;
    s->hdr_size = pad(s, SEC_HDR);
    s->marker_size = pad(s, REC_HDR + 8);
    s->capacity =
        (uint64_t)(s->nsectors - STORE_RESERVE - 1) *
        (s->sector_size - s->hdr_size - s->marker_size - pad(s, STORE_REC_MAX));

    for (uint32_t i = 0; i < s->nsectors; i++) {
        rc = sec_header(s, i);
        if (rc != 0)
            return rc;
        rc = hdr_damaged(s, i);
        if (rc < 0)
            return rc;
        if (s->sec[i].in_use && s->sec[i].seq >= max_block)
            max_block = s->sec[i].seq + 1;
    }
    salvage(s, &max_block);
    n = sec_order(s, order);
    /* limit: the lowest floor of any later sector. */
    for (uint32_t i = n, lim = UINT32_MAX; i-- > 0;) {
        limit[i] = lim;
        if (s->sec[order[i]].floor < lim)
            lim = s->sec[order[i]].floor;
    }
    for (uint32_t i = 0; i < n; i++) {
        m.limit = limit[i];
        rc = sec_scan(s, order[i], mount_retire, &m, NULL, NULL, &scan);
        if (rc != 0)
            return rc;
    }
    /* A damaged header found on a retired sector is no loss: it is
     * erased below.  The others are damage (store_check() lists them). */
    for (uint32_t i = 0; i < s->nsectors; i++) {
        if (s->sec[i].in_use == 2)
            s->sec[i].hdr_bad = 0;
        s->bad_headers += s->sec[i].hdr_bad != 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct store_sector *x = &s->sec[order[i]];

        if (x->in_use == 2)
            continue;
        m.limit = limit[i];
        rc = sec_scan(s, order[i], mount_data, &m, NULL, NULL, &scan);
        if (rc != 0)
            return rc;
        s->bad_records += scan.bad;
        x->used = scan.end;
        s->head = order[i];
        dirty = scan.dirty;
    }
    if (s->head >= 0) {
        /* Resume behind a fence, past anything visible: a torn record,
         * or a fence torn on an earlier boot. */
        s->fresh = 2;
        s->resume_from =
            dirty > s->sec[s->head].used ? dirty : s->sec[s->head].used;
    }
    /* Finish compactions that were cut before their erase (read-only:
     * leave them; the retired sector's records are already ignored). */
    s->ro = ro;
    for (uint32_t i = 0; i < s->nsectors && !ro; i++) {
        if (s->sec[i].in_use != 2)
            continue;
        for (uint32_t b = 0; b < s->sector_size; b += f->erase_size) {
            rc = hal_flash_erase(f, sec_off(s, i) + b, f->erase_size);
            if (rc != 0)
                return rc;
        }
        s->sec[i].in_use = 0;
        s->sec[i].erases++;
    }
    s->next_seq = m.max_seq + 1;
    s->next_block_seq = max_block;
    s->mount_ms = hal_clock_ms() - t0;
    return 0;
}

int
store_mount(struct store *s, const struct hal_flash *f)
{
    return mount(s, f, 0);
}

int
store_mount_ro(struct store *s, const struct hal_flash *f)
{
    return mount(s, f, 1);
}

/* ---- writing ------------------------------------------------------- */

static uint32_t
free_count(const struct store *s)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < s->nsectors; i++)
        n += !s->sec[i].in_use;
    return n;
}

static int
sec_open(struct store *s)
{
    uint32_t start = s->head < 0 ? 0 : (uint32_t)s->head + 1, sec = 0;
    uint8_t h[STORE_PROG_MAX];
    struct store_sector *x;
    int rc, found = 0;

    for (uint32_t i = 0; i < s->nsectors && !found; i++) {
        sec = (start + i) % s->nsectors;
        found = !s->sec[sec].in_use;
    }
    if (!found)
        return -ENOSPC;
    x = &s->sec[sec];
    /* Erase even what reads erased: it may be half-programmed. */
    for (uint32_t b = 0; b < s->sector_size; b += s->f->erase_size) {
        rc = hal_flash_erase(s->f, sec_off(s, sec) + b, s->f->erase_size);
        if (rc != 0)
            return rc;
    }
    x->erases++;
    x->hdr_bad = 0;
    memset(h, s->f->erased, s->hdr_size);
    lib_put32(h, SEC_MAGIC);
    lib_put16(h + 4, SEC_VERSION);
    lib_put16(h + 6, SEC_HDR);
    lib_put32(h + 8, s->next_block_seq);
    lib_put32(h + 12, x->erases);
    lib_put32(h + 16, s->next_seq - 1);
    lib_put32(h + 20, s->sector_size);
    lib_put32(h + 24, 0);
    lib_put32(h + 28, lib_crc32c(0, h, 28));
    rc = hal_flash_prog(s->f, sec_off(s, sec), h, s->hdr_size);
    if (rc != 0)
        return rc == -EINVAL ? -EIO : rc;
    x->in_use = 1;
    x->seq = s->next_block_seq++;
    x->floor = s->next_seq - 1;
    x->used = s->hdr_size;
    s->head = (int)sec;
    s->fresh = 0;
    return 0;
}

/* Make room for size bytes in the head sector, opening sectors as
 * allowed: a normal write leaves one free sector for compaction; a
 * compaction (spare = 1) may use it.  Markers (retire) may use the last
 * marker_size bytes of a sector that data writes leave free. */
static int fence_write(struct store *s);

static int
room(struct store *s, uint32_t size, int spare, int marker)
{
    int fence_failed = 0;

    for (;;) {
        uint32_t lim = s->sector_size - (marker ? 0 : s->marker_size);

        if (s->fresh == 2) {
            int rc = fence_write(s);

            /* A failed fence leaves fresh == 2 one span further on, so
             * every retry programs fresh units: a fence cut without a
             * trace on each of several boots in a row left one touched
             * span per boot at the same spots.  The spans run out at
             * the sector's end (a new sector is opened), so this is
             * bounded; the bound below only guards the arithmetic. */
            if (rc != 0 && (fence_failed++ > 64 || s->fresh != 2))
                return rc;
            continue;
        }
        if (!s->fresh && s->head >= 0 && s->sec[s->head].used + size <= lim)
            return 0;
        if (free_count(s) < (spare ? 1u : STORE_RESERVE + 1u))
            return -ENOSPC;
        int rc = sec_open(s);

        if (rc != 0)
            return rc;
    }
}

/* Program a small record (retire, fence) from its own buffer, at the
 * head's current end; the caller has made room. */
static int
small_write(struct store *s, int type, const uint8_t *payload, uint32_t plen)
{
    uint8_t b[STORE_PROG_MAX + 32];
    uint32_t size = pad(s, REC_HDR + plen), off = s->sec[s->head].used;
    int rc;

    memset(b, s->f->erased, size);
    lib_put16(b, REC_MAGIC);
    b[2] = REC_VERSION;
    b[3] = (uint8_t)type;
    lib_put32(b + 4, s->next_seq);
    lib_put32(b + 8, plen);
    memcpy(b + REC_HDR, payload, plen);
    lib_put32(b + 12, lib_crc32c(lib_crc32c(0, b, 12), b + REC_HDR, plen));
    rc = hal_flash_prog(s->f, sec_off(s, (uint32_t)s->head) + off, b, size);
    s->sec[s->head].used = off + size;
    if (rc != 0) {
        s->fresh = 2;
        s->resume_from = off;
        return rc == -EINVAL ? -EIO : rc;
    }
    if (rec_load(s, (uint32_t)s->head, off) != (int)size ||
        memcmp(s->rbuf, b, REC_HDR + plen) != 0) {
        s->fresh = 2;
        s->resume_from = off;
        return -EIO;
    }
    s->next_seq++;
    return 0;
}

/* After a mount or a failed program: skip the span a torn record may
 * occupy and void it with a fence, or, when the head has no room for
 * that, leave the head for a new sector. */
static int
fence_write(struct store *s)
{
    uint32_t at = s->resume_from + pad(s, STORE_REC_MAX), from;
    uint8_t p[4];
    int rc;

    s->fresh = 1;
    if (s->head < 0 || s->nfences == STORE_FENCES_MAX ||
        at + 2 * s->marker_size + pad(s, STORE_REC_MAX) > s->sector_size)
        return 0;
    from = s->resume_from;
    s->sec[s->head].used = at;
    lib_put32(p, from);
    rc = small_write(s, REC_FENCE, p, 4);
    if (rc != 0)
        return rc;
    s->fences[s->nfences++] = (struct store_fence){(uint32_t)s->head, from, at};
    s->fresh = 0;
    return 0;
}

/* Program the record built in wbuf (header fields filled by caller,
 * payload at REC_HDR) into the head sector. */
static int
rec_write(struct store *s, int type, uint32_t plen, int spare, int marker,
          uint32_t *rec_off)
{
    uint8_t *b = s->wbuf;
    uint32_t size = pad(s, REC_HDR + plen), off;
    int rc = room(s, size, spare, marker);

    if (rc != 0)
        return rc;
    lib_put16(b, REC_MAGIC);
    b[2] = REC_VERSION;
    b[3] = (uint8_t)type;
    lib_put32(b + 4, s->next_seq);
    lib_put32(b + 8, plen);
    lib_put32(b + 12, lib_crc32c(lib_crc32c(0, b, 12), b + REC_HDR, plen));
    memset(b + REC_HDR + plen, s->f->erased, size - REC_HDR - plen);
    off = s->sec[s->head].used;
    rc = hal_flash_prog(s->f, sec_off(s, (uint32_t)s->head) + off, b, size);
    /* Whatever happened, that space is spent; if it failed, what is
     * there may verify one day, so the next write fences it off. */
    s->sec[s->head].used = off + size;
    if (rc == 0 && (rec_load(s, (uint32_t)s->head, off) != (int)size ||
                    memcmp(s->rbuf, b, REC_HDR + plen) != 0))
        rc = -EIO;
    if (rc != 0) {
        s->fresh = 2;
        s->resume_from = off;
        return rc == -EINVAL ? -EIO : rc;
    }
    s->next_seq++;
    *rec_off = off;
    return 0;
}

/* Apply the entries of the record just written (still in wbuf) to the
 * index. */
static void
index_apply(struct store *s, uint32_t rec_off)
{
    memcpy(s->rbuf, s->wbuf, REC_HDR + lib_le32(s->wbuf + 8));
    rec_entries(s, (uint32_t)s->head, rec_off, mount_entry, NULL);
}

/* ---- compaction ---------------------------------------------------- */

struct gc_ctx {
    uint32_t plen; /* payload bytes packed in wbuf */
    int rc;
};

static int
gc_flush(struct store *s, struct gc_ctx *g)
{
    uint32_t off;
    int rc;

    if (g->plen == 0)
        return 0;
    rc = rec_write(s, REC_DATA, g->plen, 1, 0, &off);
    if (rc == 0)
        index_apply(s, off);
    g->plen = 0;
    return rc;
}

/* Flush the packed record, then load the source record being walked
 * again: the flush reads its own record back into rbuf, and rec_entries
 * keeps only offsets into it. */
static int
gc_flush_reload(struct store *s, struct gc_ctx *g, uint32_t sec,
                uint32_t rec_off, uint32_t seq)
{
    int n;

    g->rc = gc_flush(s, g);
    if (g->rc != 0)
        return g->rc;
    n = rec_load(s, sec, rec_off);
    if (n <= 0 || lib_le32(s->rbuf + 4) != seq)
        g->rc = n < 0 && n != -EBADMSG ? n : -EIO;
    return g->rc;
}

static int
gc_entry(struct store *s, uint32_t sec, uint32_t rec_off, uint32_t seq, int op,
         const char *key, uint32_t klen, uint32_t val_off, uint32_t vlen,
         void *arg)
{
    struct gc_ctx *g = arg;
    struct store_key *k = key_find(s, key, klen);
    uint32_t need = ENT_HDR + klen + vlen;
    /* Secrets travel alone, so two copies of one never share a CRC. */
    int solo = klen > STORE_SOLO_LEN &&
               memcmp(key, STORE_SOLO_PREFIX, STORE_SOLO_LEN) == 0;

    /* Only the live entry of each key moves; deletes in the oldest
     * sector have nothing older left to hide and are dropped. */
    if (op != OP_PUT || k == NULL || k->sector != sec ||
        k->rec_off != rec_off || k->val_off != val_off)
        return 0;
    if (g->plen > 0 &&
        (solo || REC_HDR + g->plen + need > STORE_REC_MAX ||
         s->sec[s->head].used + pad(s, REC_HDR + g->plen + need) >
             s->sector_size - s->marker_size) &&
        gc_flush_reload(s, g, sec, rec_off, seq) != 0)
        return g->rc;
    memcpy(s->wbuf + REC_HDR + g->plen, s->rbuf + val_off - klen - ENT_HDR,
           need);
    g->plen += need;
    if (solo)
        return gc_flush_reload(s, g, sec, rec_off, seq);
    return 0;
}

static int
gc_rec(struct store *s, uint32_t sec, uint32_t off, void *arg)
{
    struct gc_ctx *g = arg;
    int rc;

    if (s->rbuf[3] != REC_DATA || lib_le32(s->rbuf + 4) > s->next_seq)
        return 0;
    rc = rec_entries(s, sec, off, gc_entry, g);
    return rc == -EBADMSG ? 0 : rc;
}

static int
gc_one(struct store *s)
{
    struct gc_ctx g = {0, 0};
    struct scan_out scan;
    uint32_t tail = 0;
    int found = 0, rc;

    for (uint32_t i = 0; i < s->nsectors; i++) {
        if (!s->sec[i].in_use || (int)i == s->head)
            continue;
        if (!found || s->sec[i].seq < s->sec[tail].seq)
            tail = i;
        found = 1;
    }
    if (!found)
        return -ENOSPC;
    rc = sec_scan(s, tail, gc_rec, &g, NULL, NULL, &scan);
    if (rc == 0)
        rc = g.rc;
    if (rc == 0)
        rc = gc_flush(s, &g);
    if (rc != 0)
        return rc;
    /* The commit point: after this record the copies rule. */
    uint8_t p[8];

    lib_put32(p, tail);
    lib_put32(p + 4, s->sec[tail].seq);
    rc = room(s, s->marker_size, 1, 1);
    if (rc == 0)
        rc = small_write(s, REC_RETIRE, p, 8);
    if (rc != 0)
        return rc;
    s->sec[tail].in_use = 0;
    s->sec[tail].hdr_bad = 0;
    for (uint32_t i = 0; i < s->nfences;)
        if (s->fences[i].sector == tail)
            s->fences[i] = s->fences[--s->nfences];
        else
            i++;
    for (uint32_t b = 0; b < s->sector_size; b += s->f->erase_size) {
        rc = hal_flash_erase(s->f, sec_off(s, tail) + b, s->f->erase_size);
        if (rc != 0)
            return rc;
    }
    s->sec[tail].erases++;
    s->compactions++;
    return 0;
}

/* Write the data record in wbuf, compacting as needed. */
static int
data_write(struct store *s, uint32_t plen)
{
    uint32_t size = pad(s, REC_HDR + plen), off;
    uint8_t save[STORE_REC_MAX];
    int rc;

    for (uint32_t round = 0;; round++) {
        rc = room(s, size, 0, 0);
        if (rc != -ENOSPC)
            break;
        if (round > s->nsectors)
            return -ENOSPC;
        /* Compaction packs copies in wbuf: keep the new record aside. */
        memcpy(save, s->wbuf + REC_HDR, plen);
        rc = gc_one(s);
        memcpy(s->wbuf + REC_HDR, save, plen);
        if (rc != 0)
            return rc;
    }
    if (rc != 0)
        return rc;
    /* A program the flash refused or that did not read back leaves that
     * span behind a fence; try again further on, a bounded number of
     * times (with the power gone every attempt fails at once). */
    for (int tries = 0; tries < 3; tries++) {
        rc = rec_write(s, REC_DATA, plen, 0, 0, &off);
        if (rc != -EIO)
            break;
    }
    if (rc == 0)
        index_apply(s, off);
    return rc;
}

int
store_commit(struct store *s, const struct store_entry *e, int n)
{
    uint64_t live = s->live_bytes;
    uint32_t plen = 0, newkeys = 0;
    size_t klen[STORE_GROUP_MAX];

    if (s->ro)
        return -EROFS;
    if (n < 1 || n > STORE_GROUP_MAX)
        return -EINVAL;
    for (int i = 0; i < n; i++) {
        struct store_key *k;

        if (!key_ok(e[i].key, &klen[i]) ||
            (!e[i].del &&
             (e[i].len > STORE_VAL_MAX || (e[i].len > 0 && e[i].val == NULL))))
            return -EINVAL;
        for (int j = 0; j < i; j++)
            if (klen[j] == klen[i] && memcmp(e[j].key, e[i].key, klen[i]) == 0)
                return -EINVAL; /* one key twice in a group */
        k = key_find(s, e[i].key, klen[i]);
        if (e[i].del && k == NULL)
            return -ENOENT;
        if (k != NULL)
            live -= standalone(s, k->klen, k->vlen);
        else
            newkeys++;
        if (!e[i].del)
            live += standalone(s, (uint32_t)klen[i], (uint32_t)e[i].len);
        plen += ENT_HDR + (uint32_t)klen[i] + (e[i].del ? 0 : e[i].len);
    }
    if (REC_HDR + plen > STORE_REC_MAX)
        return -EINVAL;
    if (s->nkeys + newkeys > STORE_KEYS_MAX)
        return -ENOSPC;
    if (live > s->live_bytes && live > s->capacity)
        return -ENOSPC;

    uint8_t *p = s->wbuf + REC_HDR;
    for (int i = 0; i < n; i++) {
        uint32_t vlen = e[i].del ? 0 : (uint32_t)e[i].len;

        p[0] = (uint8_t)klen[i];
        p[1] = e[i].del ? OP_DEL : OP_PUT;
        lib_put16(p + 2, (uint16_t)vlen);
        memcpy(p + ENT_HDR, e[i].key, klen[i]);
        if (vlen > 0)
            memcpy(p + ENT_HDR + klen[i], e[i].val, vlen);
        p += ENT_HDR + klen[i] + vlen;
    }
    return data_write(s, plen);
}

int
store_put(struct store *s, const char *key, const void *val, size_t len)
{
    struct store_entry e = {key, val, len, 0};

    return store_commit(s, &e, 1);
}

int
store_del(struct store *s, const char *key)
{
    struct store_entry e = {key, NULL, 0, 1};

    return store_commit(s, &e, 1);
}

int
store_get(struct store *s, const char *key, void *buf, size_t cap)
{
    struct store_key *k;
    size_t klen;
    int n;

    if (!key_ok(key, &klen))
        return -EINVAL;
    k = key_find(s, key, klen);
    if (k == NULL)
        return -ENOENT;
    n = rec_load(s, k->sector, k->rec_off);
    if (n == -EIO)
        return n;
    if (n <= 0 || lib_le32(s->rbuf + 4) != k->seq) {
        s->bad_records++;
        return -EBADMSG;
    }
    if (k->vlen > cap)
        return -ENOBUFS;
    memcpy(buf, s->rbuf + k->val_off, k->vlen);
    return k->vlen;
}

int
store_same_record(struct store *s, const char *a, const char *b)
{
    size_t la, lb;
    struct store_key *ka, *kb;

    if (!key_ok(a, &la) || !key_ok(b, &lb))
        return -EINVAL;
    ka = key_find(s, a, la);
    kb = key_find(s, b, lb);
    if (ka == NULL || kb == NULL)
        return -ENOENT;
    return ka->sector == kb->sector && ka->rec_off == kb->rec_off;
}

int
store_key_at(struct store *s, unsigned idx, const char **key, size_t *len)
{
    static char name[STORE_KEY_MAX + 1];

    if (idx >= s->nkeys)
        return -ENOENT;
    memcpy(name, s->keys[idx].key, s->keys[idx].klen);
    name[s->keys[idx].klen] = '\0';
    *key = name;
    *len = s->keys[idx].vlen;
    return 0;
}

void
store_stat(struct store *s, struct store_stat *st)
{
    uint64_t used = 0;

    memset(st, 0, sizeof(*st));
    st->sectors = s->nsectors;
    st->sector_size = s->sector_size;
    st->erase_min = UINT32_MAX;
    for (uint32_t i = 0; i < s->nsectors; i++) {
        const struct store_sector *x = &s->sec[i];

        if (x->in_use) {
            st->sectors_used++;
            used += x->used - s->hdr_size;
        }
        if (x->erases < st->erase_min)
            st->erase_min = x->erases;
        if (x->erases > st->erase_max)
            st->erase_max = x->erases;
    }
    st->sectors_free = s->nsectors - st->sectors_used;
    st->live_bytes = s->live_bytes;
    st->dead_bytes = used > s->live_bytes ? used - s->live_bytes : 0;
    st->capacity_bytes = s->capacity;
    st->keys = s->nkeys;
    st->bad_records = s->bad_records;
    st->bad_headers = s->bad_headers;
    st->compactions = s->compactions;
    st->mount_ms = s->mount_ms;
}

int
store_scrub(struct store *s)
{
    int done = 0;

    for (uint32_t round = 0; round <= s->nsectors; round++) {
        struct scan_out scan;
        int bad = -1, rc;

        for (uint32_t i = 0; i < s->nsectors && bad < 0; i++) {
            if (!s->sec[i].in_use)
                continue;
            rc = sec_scan(s, i, NULL, NULL, NULL, NULL, &scan);
            if (rc != 0)
                return rc;
            if (scan.bad > 0)
                bad = (int)i;
        }
        if (bad < 0)
            return done;
        /* The head is never compacted: move on to a new one first (its
         * floor voids anything torn in the old head, so no fence is
         * needed there). */
        if (bad == s->head) {
            s->fresh = 1;
            rc = room(s, REC_HDR, 0, 0);
            if (rc != 0)
                return rc;
        }
        /* Compaction takes the oldest sector: repeat until the damaged
         * one has been copied forward and erased. */
        rc = gc_one(s);
        if (rc != 0)
            return rc;
        done++;
    }
    return -EIO; /* cannot happen: every sector was compacted once */
}

int
store_check(struct store *s,
            void (*bad)(void *arg, uint32_t sector, uint32_t off), void *arg)
{
    struct scan_out scan;
    int total = 0;

    for (uint32_t i = 0; i < s->nsectors; i++) {
        if (s->sec[i].hdr_bad) {
            if (bad)
                bad(arg, i, 0);
            total++;
        }
        if (!s->sec[i].in_use)
            continue;
        int rc = sec_scan(s, i, NULL, NULL, bad, arg, &scan);

        if (rc != 0)
            return rc;
        total += (int)scan.bad;
    }
    return total;
}
