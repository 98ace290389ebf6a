/*
 * store/ctl.c - the redundant control block.
 *
 * Copy layout (docs/FORMAT.md): magic "KCB1" u32, version u16, payload
 * length u16, sequence u32, CRC-32C u32 over bytes 0..11 and the payload;
 * then the payload, padded with the erased value to a program unit.
 */
#include <errno.h>
#include <string.h>

#include "lib/crc32c.h"
#include "store/ctl.h"
#include "lib/le.h"

#define CTL_MAGIC 0x3142434bu /* "KCB1" */
#define CTL_VERSION 1

/* Read and check copy i into c->buf.  Returns payload length or < 0. */
static int
copy_load(struct ctl *c, int i, uint32_t *seq)
{
    uint8_t *b = c->buf;
    uint32_t len;
    int rc;

    rc = hal_flash_read(c->f, (uint64_t)i * c->f->erase_size, b, CTL_HDR_SIZE);
    if (rc != 0)
        return rc;
    len = lib_le16(b + 6);
    if (lib_le32(b) != CTL_MAGIC || lib_le16(b + 4) != CTL_VERSION ||
        len > CTL_PAYLOAD_MAX || CTL_HDR_SIZE + len > c->f->erase_size)
        return -EBADMSG;
    rc = hal_flash_read(c->f, (uint64_t)i * c->f->erase_size + CTL_HDR_SIZE,
                        b + CTL_HDR_SIZE, len);
    if (rc != 0)
        return rc;
    if (lib_crc32c(lib_crc32c(0, b, 12), b + CTL_HDR_SIZE, len) !=
        lib_le32(b + 12))
        return -EBADMSG;
    *seq = lib_le32(b + 8);
    return (int)len;
}

int
ctl_mount(struct ctl *c, const struct hal_flash *f)
{
    uint32_t seq[2] = {0, 0};
    int blank[2] = {0, 0};

    c->f = f;
    c->newest = -1;
    c->bad = 0;
    if (f->size < 2ull * f->erase_size)
        return -EINVAL;
    for (int i = 0; i < 2; i++) {
        int rc = copy_load(c, i, &seq[i]);

        if (rc == -EIO)
            return rc;
        c->valid[i] = rc >= 0;
        if (rc == -EBADMSG) {
            /* A blank copy is not corrupt, just unused. */
            uint8_t h[4];

            if (hal_flash_read(f, (uint64_t)i * f->erase_size, h, 4) == 0 &&
                !(h[0] == f->erased && h[1] == f->erased && h[2] == f->erased &&
                  h[3] == f->erased))
                c->bad++;
            else
                blank[i] = 1;
        }
    }
    if (c->valid[0] && c->valid[1])
        /* Wrap-safe: the newer is ahead by less than half the space. */
        c->newest = (int32_t)(seq[1] - seq[0]) > 0 ? 1 : 0;
    else if (c->valid[0] || c->valid[1])
        c->newest = c->valid[0] ? 0 : 1;
    if (c->newest < 0)
        /* Every completed write leaves both copies programmed, so one
         * blank copy means no write ever completed (at most a torn
         * first one): blank.  Two programmed copies that both fail
         * their checks are damage, never a fresh device. */
        return blank[0] || blank[1] ? -ENOENT : -EBADMSG;
    c->seq = seq[c->newest];
    return 0;
}

int
ctl_read(struct ctl *c, void *buf, size_t cap)
{
    uint32_t seq;
    int len;

    if (c->newest < 0)
        return -ENOENT;
    len = copy_load(c, c->newest, &seq);
    if (len < 0)
        return len;
    if (seq != c->seq)
        return -EBADMSG;
    if ((size_t)len > cap)
        return -ENOBUFS;
    memcpy(buf, c->buf + CTL_HDR_SIZE, (size_t)len);
    return len;
}

/* Write the payload with sequence seq into copy target, then read it
 * back.  0 or -EIO; the copy is invalid until it verifies. */
static int
copy_write(struct ctl *c, int target, uint32_t seq, const void *buf, size_t len)
{
    uint64_t off = (uint64_t)target * c->f->erase_size;
    uint32_t total, got;
    uint8_t *b = c->buf;
    int rc;

    total = hal_flash_pad(c->f, CTL_HDR_SIZE + (uint32_t)len);
    memset(b, c->f->erased, total);
    lib_put32(b, CTL_MAGIC);
    lib_put16(b + 4, CTL_VERSION);
    lib_put16(b + 6, (uint16_t)len);
    lib_put32(b + 8, seq);
    memcpy(b + CTL_HDR_SIZE, buf, len);
    lib_put32(b + 12, lib_crc32c(lib_crc32c(0, b, 12), b + CTL_HDR_SIZE, len));

    c->valid[target] = 0;
    rc = hal_flash_erase(c->f, off, c->f->erase_size);
    if (rc == 0)
        rc = hal_flash_prog(c->f, off, b, total);
    if (rc != 0)
        return rc == -EINVAL ? -EIO : rc;
    rc = copy_load(c, target, &got);
    if (rc != (int)len || got != seq ||
        memcmp(c->buf + CTL_HDR_SIZE, buf, len) != 0)
        return -EIO;
    c->valid[target] = 1;
    c->newest = target;
    c->seq = seq;
    return 0;
}

int
ctl_write(struct ctl *c, const void *buf, size_t len)
{
    int target = c->newest < 0 ? 0 : 1 - c->newest;
    uint32_t seq = c->newest < 0 ? 1 : c->seq + 1;
    int rc;

    /* the copy is built in c->buf, padded to the program unit */
    if (len > CTL_PAYLOAD_MAX || CTL_HDR_SIZE + len > c->f->erase_size ||
        hal_flash_pad(c->f, CTL_HDR_SIZE + (uint32_t)len) > sizeof(c->buf))
        return -EINVAL;
    /* The older copy first: until it verifies, the other copy still
     * holds the current value. */
    rc = copy_write(c, target, seq, buf, len);
    if (rc != 0)
        return rc;
    /* Committed.  Now the other copy, so that damage to either one
     * can never bring back the previous value (a trust decision such
     * as a confirm or a counter rise would otherwise be undone by one
     * bad byte in the newest copy). */
    if (copy_write(c, 1 - target, seq + 1, buf, len) != 0)
        c->mirror_failed++;
    return 0;
}

/* ---- tagged sections ------------------------------------------------ */

/* Walk the payload's sections; returns the offset of tag's section (its
 * header) or -ENOENT, and the payload's used length in *end; -EBADMSG
 * when a section runs past the payload. */
static int
sec_find(const uint8_t *p, size_t len, uint8_t tag, size_t *end)
{
    size_t off = 0;
    int at = -ENOENT;

    while (off < len) {
        size_t n;

        if (off + CTL_SEC_HDR > len)
            return -EBADMSG;
        n = (size_t)p[off + 2] | (size_t)p[off + 3] << 8;
        if (p[off] == 0 || p[off + 1] != 0 || off + CTL_SEC_HDR + n > len)
            return -EBADMSG;
        if (p[off] == tag)
            at = (int)off;
        off += CTL_SEC_HDR + n;
    }
    *end = off;
    return at;
}

int
ctl_get(struct ctl *c, uint8_t tag, void *buf, size_t cap)
{
    uint8_t p[CTL_PAYLOAD_MAX];
    int len = ctl_read(c, p, sizeof(p)), at;
    size_t end, n;

    if (len < 0)
        return len;
    at = sec_find(p, (size_t)len, tag, &end);
    if (at < 0)
        return at;
    n = (size_t)p[at + 2] | (size_t)p[at + 3] << 8;
    if (n > cap)
        return -ENOBUFS;
    memcpy(buf, p + at + CTL_SEC_HDR, n);
    return (int)n;
}

int
ctl_put(struct ctl *c, uint8_t tag, const void *val, size_t len)
{
    uint8_t old[CTL_PAYLOAD_MAX], p[CTL_PAYLOAD_MAX];
    int olen = ctl_read(c, old, sizeof(old));
    size_t off = 0, n = 0;

    if (tag == 0 || len > 0xffff)
        return -EINVAL;
    if (olen == -ENOENT)
        olen = 0;
    if (olen < 0)
        return olen;
    /* Keep every other section as it was, then this one. */
    while (off < (size_t)olen) {
        size_t sl;

        if (off + CTL_SEC_HDR > (size_t)olen)
            return -EBADMSG;
        sl = CTL_SEC_HDR + ((size_t)old[off + 2] | (size_t)old[off + 3] << 8);
        if (off + sl > (size_t)olen)
            return -EBADMSG;
        if (old[off] != tag) {
            memcpy(p + n, old + off, sl);
            n += sl;
        }
        off += sl;
    }
    if (n + CTL_SEC_HDR + len > sizeof(p))
        return -ENOSPC;
    p[n] = tag;
    p[n + 1] = 0;
    p[n + 2] = (uint8_t)len;
    p[n + 3] = (uint8_t)(len >> 8);
    memcpy(p + n + CTL_SEC_HDR, val, len);
    return ctl_write(c, p, n + CTL_SEC_HDR + len);
}
