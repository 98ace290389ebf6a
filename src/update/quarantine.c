/*
 * update/quarantine.c - the quarantine list: its record and its store
 * operations (quarantine.h).
 */
#include <errno.h>
#include <string.h>

#include "lib/le.h"
#include "update/quarantine.h"

static const uint8_t magic[4] = {'Q', 'R', 'N', '1'};

size_t
upd_quar_encode(const struct upd_quar *q, uint8_t *out)
{
    size_t n = 6;

    memcpy(out, magic, 4);
    out[4] = (uint8_t)q->n;
    out[5] = 0;
    for (unsigned i = 0; i < q->n && i < UPD_QUAR_MAX; i++) {
        const struct upd_quar_entry *e = &q->e[i];
        size_t r = strnlen(e->reason, UPD_QUAR_REASON);

        memcpy(out + n, e->hash, 32);
        lib_put64(out + n + 32, (uint64_t)e->when);
        out[n + 40] = e->automatic ? 1 : 0;
        out[n + 41] = (uint8_t)r;
        memcpy(out + n + 42, e->reason, r);
        n += 42 + r;
    }
    return n;
}

int
upd_quar_decode(const uint8_t *p, size_t len, struct upd_quar *q)
{
    size_t n = 6;

    memset(q, 0, sizeof(*q));
    if (len < 6 || memcmp(p, magic, 4) != 0 || p[4] > UPD_QUAR_MAX || p[5] != 0)
        return -EBADMSG;
    q->n = p[4];
    for (unsigned i = 0; i < q->n; i++) {
        struct upd_quar_entry *e = &q->e[i];
        size_t r;

        if (len - n < 42)
            return -EBADMSG;
        r = p[n + 41];
        if (p[n + 40] > 1 || r > UPD_QUAR_REASON || len - n - 42 < r)
            return -EBADMSG;
        memcpy(e->hash, p + n, 32);
        e->when = (int64_t)lib_le64(p + n + 32);
        e->automatic = p[n + 40];
        for (size_t k = 0; k < r; k++)
            if (p[n + 42 + k] < 0x20 || p[n + 42 + k] > 0x7e)
                return -EBADMSG;
        memcpy(e->reason, p + n + 42, r);
        e->reason[r] = '\0';
        n += 42 + r;
    }
    return n == len ? 0 : -EBADMSG;
}

int
upd_quar_load(struct store *st, struct upd_quar *q)
{
    uint8_t b[UPD_QUAR_REC_MAX];
    int n;

    memset(q, 0, sizeof(*q));
    if (st == NULL)
        return -EIO;
    n = store_get(st, UPD_QUAR_KEY, b, sizeof(b));
    if (n == -ENOENT)
        return 0;
    if (n < 0)
        return n == -ENOBUFS ? -EBADMSG : n;
    return upd_quar_decode(b, (size_t)n, q);
}

int
upd_quar_find(const struct upd_quar *q, const uint8_t hash[32])
{
    for (unsigned i = 0; i < q->n; i++)
        if (memcmp(q->e[i].hash, hash, 32) == 0)
            return (int)i;
    return -ENOENT;
}

int
upd_quar_check(struct store *st, const uint8_t hash[32])
{
    struct upd_quar q;
    int rc = upd_quar_load(st, &q);

    if (rc != 0)
        return rc;
    return upd_quar_find(&q, hash) >= 0;
}

static int
save(struct store *st, const struct upd_quar *q)
{
    uint8_t b[UPD_QUAR_REC_MAX];

    return store_put(st, UPD_QUAR_KEY, b, upd_quar_encode(q, b));
}

int
upd_quar_add(struct store *st, const uint8_t hash[32], const char *reason,
             int automatic, int64_t when)
{
    struct upd_quar q;
    struct upd_quar_entry *e;
    int i;
    size_t r = 0;

    if (st == NULL)
        return -EIO;
    if (upd_quar_load(st, &q) != 0)
        memset(&q, 0, sizeof(q)); /* damaged: replaced */
    i = upd_quar_find(&q, hash);
    if (i < 0) {
        if (q.n >= UPD_QUAR_MAX)
            return -ENOSPC;
        i = (int)q.n++;
    }
    e = &q.e[i];
    memset(e, 0, sizeof(*e));
    memcpy(e->hash, hash, 32);
    e->when = when;
    e->automatic = automatic ? 1 : 0;
    for (const char *s = reason; s != NULL && *s && r < UPD_QUAR_REASON; s++)
        e->reason[r++] = (*s >= 0x20 && *s <= 0x7e) ? *s : '?';
    return save(st, &q);
}

int
upd_quar_release(struct store *st, const uint8_t hash[32])
{
    struct upd_quar q;
    int i;

    if (st == NULL)
        return -EIO;
    if (upd_quar_load(st, &q) != 0) {
        memset(&q, 0, sizeof(q)); /* damaged: rewritten empty */
        return save(st, &q);
    }
    i = upd_quar_find(&q, hash);
    if (i < 0)
        return -ENOENT;
    memmove(&q.e[i], &q.e[i + 1], (q.n - (unsigned)i - 1) * sizeof(q.e[0]));
    q.n--;
    return save(st, &q);
}
