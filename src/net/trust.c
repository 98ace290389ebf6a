/*
 * net/trust.c - the trust list and dial list records (see trust.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/le.h"
#include "net/trust.h"

static const uint8_t trust_magic[4] = {'K', 'P', 'T', '1'};
static const uint8_t dial_magic[4] = {'K', 'P', 'D', '1'};

/* Header (magic, u16 count, u16 reserved), entries, CRC-32C of all
 * before it: check the frame and return the count, or -EBADMSG. */
static int
rec_check(const uint8_t *b, size_t len, const uint8_t magic[4], size_t ent,
          unsigned max)
{
    unsigned n;

    if (len < 12 || memcmp(b, magic, 4) != 0 || lib_le16(b + 6) != 0)
        return -EBADMSG;
    n = lib_le16(b + 4);
    if (n > max || len != 8 + n * ent + 4)
        return -EBADMSG;
    if (lib_crc32c(0, b, len - 4) != lib_le32(b + len - 4))
        return -EBADMSG;
    return (int)n;
}

static size_t
rec_close(uint8_t *out, const uint8_t magic[4], unsigned n, size_t ent)
{
    size_t len = 8 + n * ent;

    memcpy(out, magic, 4);
    lib_put16(out + 4, (uint16_t)n);
    lib_put16(out + 6, 0);
    lib_put32(out + len, lib_crc32c(0, out, len));
    return len + 4;
}

int
trust_decode(const uint8_t *b, size_t len, struct trust_list *t)
{
    int n = rec_check(b, len, trust_magic, TRUST_ENTRY_LEN, TRUST_MAX);

    memset(t, 0, sizeof(*t));
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++) {
        const uint8_t *p = b + 8 + (size_t)i * TRUST_ENTRY_LEN;
        struct trust_entry *e = &t->e[i];

        memcpy(e->fp, p, TRUST_FP_LEN);
        e->added = (int64_t)lib_le64(p + 32);
        e->retire_at = (int64_t)lib_le64(p + 40);
        e->flags = p[48];
        for (int k = 49; k < TRUST_ENTRY_LEN; k++)
            if (p[k] != 0)
                goto bad;
        if (e->flags & ~TRUST_F_ROTATED)
            goto bad;
        /* one entry per key */
        for (int j = 0; j < i; j++)
            if (memcmp(t->e[j].fp, e->fp, TRUST_FP_LEN) == 0)
                goto bad;
    }
    t->n = (unsigned)n;
    return 0;
bad:
    memset(t, 0, sizeof(*t));
    return -EBADMSG;
}

size_t
trust_encode(const struct trust_list *t, uint8_t out[TRUST_REC_MAX])
{
    memset(out, 0, TRUST_REC_MAX);
    for (unsigned i = 0; i < t->n; i++) {
        uint8_t *p = out + 8 + (size_t)i * TRUST_ENTRY_LEN;

        memcpy(p, t->e[i].fp, TRUST_FP_LEN);
        lib_put64(p + 32, (uint64_t)t->e[i].added);
        lib_put64(p + 40, (uint64_t)t->e[i].retire_at);
        p[48] = t->e[i].flags;
    }
    return rec_close(out, trust_magic, t->n, TRUST_ENTRY_LEN);
}

int
trust_find(const struct trust_list *t, const uint8_t fp[TRUST_FP_LEN])
{
    for (unsigned i = 0; i < t->n; i++)
        if (memcmp(t->e[i].fp, fp, TRUST_FP_LEN) == 0)
            return (int)i;
    return -1;
}

int
trust_add(struct trust_list *t, const uint8_t fp[TRUST_FP_LEN], int64_t now,
          uint8_t flags)
{
    struct trust_entry *e;

    if (trust_find(t, fp) >= 0)
        return -EEXIST;
    if (t->n >= TRUST_MAX)
        return -ENOSPC;
    e = &t->e[t->n++];
    memset(e, 0, sizeof(*e));
    memcpy(e->fp, fp, TRUST_FP_LEN);
    e->added = now;
    e->flags = flags;
    return 0;
}

int
trust_remove(struct trust_list *t, const uint8_t fp[TRUST_FP_LEN])
{
    int i = trust_find(t, fp);

    if (i < 0)
        return -ENOENT;
    memmove(&t->e[i], &t->e[i + 1], (t->n - (unsigned)i - 1) * sizeof(t->e[0]));
    t->n--;
    memset(&t->e[t->n], 0, sizeof(t->e[0]));
    return 0;
}

int
dial_decode(const uint8_t *b, size_t len, struct dial_list *d)
{
    int n = rec_check(b, len, dial_magic, 8, DIAL_MAX);

    memset(d, 0, sizeof(*d));
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++) {
        const uint8_t *p = b + 8 + (size_t)i * 8;

        memcpy(d->e[i].ip, p, 4);
        d->e[i].port = lib_le16(p + 4);
        if (d->e[i].port == 0 || lib_le16(p + 6) != 0 ||
            dial_find(d, d->e[i].ip, d->e[i].port) < i) {
            memset(d, 0, sizeof(*d));
            return -EBADMSG;
        }
    }
    d->n = (unsigned)n;
    return 0;
}

size_t
dial_encode(const struct dial_list *d, uint8_t out[DIAL_REC_MAX])
{
    memset(out, 0, DIAL_REC_MAX);
    for (unsigned i = 0; i < d->n; i++) {
        uint8_t *p = out + 8 + (size_t)i * 8;

        memcpy(p, d->e[i].ip, 4);
        lib_put16(p + 4, d->e[i].port);
    }
    return rec_close(out, dial_magic, d->n, 8);
}

int
dial_find(const struct dial_list *d, const uint8_t ip[4], uint16_t port)
{
    for (unsigned i = 0; i < DIAL_MAX; i++)
        if (memcmp(d->e[i].ip, ip, 4) == 0 && d->e[i].port == port)
            return (int)i;
    return -1;
}

static int
dec_u(const char **s, unsigned max, unsigned *out)
{
    const char *p = *s;
    unsigned v = 0;

    if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
        return -EINVAL;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (unsigned)(*p - '0');
        if (v > max)
            return -EINVAL;
        p++;
    }
    *s = p;
    *out = v;
    return 0;
}

int
dial_parse(const char *s, uint16_t default_port, struct dial_entry *out)
{
    unsigned v, port = default_port;

    memset(out, 0, sizeof(*out));
    for (int i = 0; i < 4; i++) {
        if (dec_u(&s, 255, &v) != 0)
            return -EINVAL;
        out->ip[i] = (uint8_t)v;
        if (i < 3 && *s++ != '.')
            return -EINVAL;
    }
    if (*s == ':') {
        s++;
        if (dec_u(&s, 65535, &port) != 0 || port == 0)
            return -EINVAL;
    }
    if (*s != '\0')
        return -EINVAL;
    out->port = (uint16_t)port;
    return 0;
}
