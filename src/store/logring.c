/*
 * store/logring.c - the persistent log ring (see logring.h).
 */
#include <errno.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/le.h"
#include "store/logring.h"

static const uint8_t sec_magic[4] = {'K', 'L', 'G', '1'};

#define SEC_HDR 16

const char *
logring_sev_name(int sev)
{
    static const char *const n[] = {"err", "warn", "info", "debug"};

    return sev >= 0 && sev <= LOG_DEBUG ? n[sev] : "?";
}

_Static_assert(LOG_HDR + LOG_TEXT_MAX <= LOG_PROG_MAX &&
                   LOG_PROG_MAX <= sizeof(((struct logring *)0)->buf),
               "a record padded to LOG_PROG_MAX must fit l->buf");

static uint32_t
hdr_len(const struct logring *l)
{
    return hal_flash_pad(l->f, SEC_HDR);
}

static uint64_t
sec_off(const struct logring *l, uint32_t s)
{
    return (uint64_t)s * l->sector_size;
}

static int
all_erased(const uint8_t *p, size_t n, uint8_t e)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != e)
            return 0;
    return 1;
}

/* The sector's header: 1 valid (with *sseq), 0 not. */
static int
sec_read(struct logring *l, uint32_t s, uint32_t *sseq)
{
    uint8_t h[SEC_HDR];

    if (hal_flash_read(l->f, sec_off(l, s), h, sizeof(h)) != 0)
        return 0;
    if (memcmp(h, sec_magic, 4) != 0 ||
        lib_crc32c(0, h, 8) != lib_le32(h + 8) || lib_le32(h + 12) != 0)
        return 0;
    *sseq = lib_le32(h + 4);
    return 1;
}

int
logring_decode(const uint8_t *p, size_t n, uint32_t prog, struct log_rec *r)
{
    uint32_t len, total;

    if (n < LOG_HDR)
        return -EBADMSG;
    if (all_erased(p, LOG_HDR, 0xff))
        return 0;
    len = lib_le16(p + 16);
    if (len == 0 || len > LOG_TEXT_MAX || p[18] > LOG_DEBUG || p[19] != 0)
        return -EBADMSG;
    total = (LOG_HDR + len + prog - 1) / prog * prog;
    if (total > n || lib_crc32c(0, p + 4, LOG_HDR - 4 + len) != lib_le32(p))
        return -EBADMSG;
    r->seq = lib_le32(p + 4);
    r->boot = lib_le32(p + 8);
    r->time = lib_le32(p + 12);
    r->len = (uint16_t)len;
    r->sev = p[18];
    memcpy(r->text, p + LOG_HDR, len);
    r->text[len] = '\0';
    return (int)total;
}

/* Read the record at off of sector s: its length (0: erased space,
 * -EBADMSG: damaged or running over the sector). */
static int
rec_read(struct logring *l, uint32_t s, uint32_t off, struct log_rec *r)
{
    uint32_t len, total;
    int rc;

    if (off + LOG_HDR > l->sector_size)
        return 0;
    rc = hal_flash_read(l->f, sec_off(l, s) + off, l->buf, LOG_HDR);
    if (rc != 0)
        return rc;
    if (all_erased(l->buf, LOG_HDR, l->f->erased))
        return 0;
    len = lib_le16(l->buf + 16);
    if (len == 0 || len > LOG_TEXT_MAX)
        return -EBADMSG;
    total = hal_flash_pad(l->f, LOG_HDR + len);
    if (off + total > l->sector_size)
        return -EBADMSG;
    rc = hal_flash_read(l->f, sec_off(l, s) + off + LOG_HDR, l->buf + LOG_HDR,
                        total - LOG_HDR);
    if (rc != 0)
        return rc;
    return logring_decode(l->buf, total, l->f->prog_size, r);
}

int
logring_mount(struct logring *l, const struct hal_flash *f, uint32_t boot)
{
    struct log_rec r;
    uint32_t best = 0, sseq, off;
    int found = 0;

    memset(l, 0, sizeof(*l));
    l->f = f;
    l->head = -1;
    l->sector_size = f->erase_size;
    while (l->sector_size < LOG_SECTOR_MIN)
        l->sector_size *= 2;
    /* A sector header and every record, padded, fit l->buf: program
     * units up to a disk sector (512 bytes, hal/linux/blk.h). */
    if (f->size % l->sector_size != 0 || f->prog_size > LOG_PROG_MAX ||
        (f->prog_size & (f->prog_size - 1)) != 0)
        return -EINVAL;
    l->nsec = (uint32_t)(f->size / l->sector_size);
    if (l->nsec < 2 || l->nsec > LOG_SECTORS_MAX)
        return -EINVAL;
    for (uint32_t s = 0; s < l->nsec; s++) {
        if (!sec_read(l, s, &sseq))
            continue;
        if (!found || sseq > best) {
            best = sseq;
            l->head = (int)s;
        }
        found = 1;
        /* records: the highest sequence and boot numbers */
        for (off = hdr_len(l);;) {
            int n = rec_read(l, s, off, &r);

            if (n <= 0) {
                l->torn += n < 0;
                break;
            }
            if (r.seq + 1 > l->next_seq)
                l->next_seq = r.seq + 1;
            if (r.boot > l->last_boot)
                l->last_boot = r.boot;
            off += (uint32_t)n;
        }
    }
    l->boot = boot != 0 ? boot : l->last_boot + 1;
    if (l->head < 0)
        return 0;
    /* The head sector is closed: a program the cut interrupted may have
     * touched cells that still read erased, and flash must not be
     * programmed twice.  The next append opens the next sector (each
     * boot costs the rest of one sector; tests/powercut/logcut.c). */
    l->head_sseq = best;
    l->head_off = l->sector_size;
    return 0;
}

/* Erase the sector after the head (the oldest) and make it the head. */
static int
open_next(struct logring *l)
{
    uint32_t s = l->head < 0 ? 0 : ((uint32_t)l->head + 1) % l->nsec;
    uint8_t *h = l->buf; /* free: the record is made after this */
    int rc;

    rc = hal_flash_erase(l->f, sec_off(l, s), l->sector_size);
    if (rc != 0)
        return rc;
    l->erases++;
    memset(h, l->f->erased, hdr_len(l));
    memcpy(h, sec_magic, 4);
    lib_put32(h + 4, l->head_sseq + 1);
    lib_put32(h + 8, lib_crc32c(0, h, 8));
    lib_put32(h + 12, 0);
    rc = hal_flash_prog(l->f, sec_off(l, s), h, hdr_len(l));
    if (rc != 0)
        return rc;
    l->head = (int)s;
    l->head_sseq = lib_le32(h + 4);
    l->head_off = hdr_len(l);
    return 0;
}

int
logring_append(struct logring *l, int sev, int64_t time, const char *text)
{
    size_t len = strlen(text);
    uint32_t total;
    int rc;

    if (l->f == NULL)
        return -ENODEV;
    if (len == 0)
        text = "-", len = 1;
    if (len > LOG_TEXT_MAX)
        len = LOG_TEXT_MAX;
    if (sev < LOG_ERR || sev > LOG_DEBUG)
        sev = LOG_INFO;
    total = hal_flash_pad(l->f, (uint32_t)(LOG_HDR + len));
    if (l->head < 0 || l->head_off + total > l->sector_size) {
        rc = open_next(l);
        if (rc != 0)
            return rc;
    }
    memset(l->buf, l->f->erased, total);
    lib_put32(l->buf + 4, l->next_seq);
    lib_put32(l->buf + 8, l->boot);
    lib_put32(l->buf + 12,
              time > 0 && time < 0xffffffffLL ? (uint32_t)time : 0);
    lib_put16(l->buf + 16, (uint16_t)len);
    l->buf[18] = (uint8_t)sev;
    l->buf[19] = 0;
    memcpy(l->buf + LOG_HDR, text, len);
    lib_put32(l->buf, lib_crc32c(0, l->buf + 4, LOG_HDR - 4 + len));
    rc = hal_flash_prog(l->f, sec_off(l, (uint32_t)l->head) + l->head_off,
                        l->buf, total);
    if (rc == 0)
        rc = hal_flash_sync(l->f);
    if (rc != 0) {
        /* What is there now is unknown: the next append opens a sector. */
        l->head_off = l->sector_size;
        return rc;
    }
    l->head_off += total;
    l->next_seq++;
    l->appends++;
    l->bytes += total;
    return 0;
}

int
logring_walk(struct logring *l, int (*fn)(void *arg, const struct log_rec *r),
             void *arg)
{
    struct log_rec r;
    int count = 0;

    if (l->f == NULL)
        return -ENODEV;
    if (l->head < 0)
        return 0;
    for (uint32_t i = 1; i <= l->nsec; i++) {
        uint32_t s = ((uint32_t)l->head + i) % l->nsec, sseq;

        if (!sec_read(l, s, &sseq))
            continue;
        for (uint32_t off = hdr_len(l);;) {
            int n = rec_read(l, s, off, &r);

            if (n <= 0)
                break;
            count++;
            if (fn(arg, &r))
                return count;
            off += (uint32_t)n;
        }
    }
    return count;
}

int
logring_clear(struct logring *l)
{
    int rc;

    if (l->f == NULL)
        return -ENODEV;
    rc = hal_flash_erase(l->f, 0, l->f->size);
    if (rc != 0)
        return rc;
    l->erases += l->nsec;
    l->head = -1;
    l->head_off = 0;
    return 0;
}
