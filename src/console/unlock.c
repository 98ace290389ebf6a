/*
 * console/unlock.c - operator unlock (see unlock.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/unlock.h"
#include "hal/clock.h"
#include "hal/rng.h"
#include "lib/crc32c.h"
#include "lib/hex.h"
#include "lib/le.h"

static const uint8_t ops_magic[4] = {'K', 'O', 'P', '1'};

const char *
unlock_result_name(int r)
{
#define UNLOCK_R_TEXT(id, name) name,
    static const char *const t[] = {UNLOCK_RESULTS(UNLOCK_R_TEXT)};
#undef UNLOCK_R_TEXT

    return r >= 0 && r < UNLOCK_R_COUNT ? t[r] : "unknown";
}

int
unlock_ops_decode(const uint8_t *b, size_t len, struct unlock_ops *o)
{
    unsigned n;

    memset(o, 0, sizeof(*o));
    if (len < 12 || memcmp(b, ops_magic, 4) != 0 || lib_le16(b + 6) != 0)
        return -EBADMSG;
    n = lib_le16(b + 4);
    if (n == 0 || n > UNLOCK_OPS_MAX || len != 8 + n * CRYPTO_EC_PUB_LEN + 4 ||
        lib_crc32c(0, b, len - 4) != lib_le32(b + len - 4))
        return -EBADMSG;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *p = b + 8 + i * CRYPTO_EC_PUB_LEN;

        if (p[0] != 0x04) /* uncompressed points only */
            return -EBADMSG;
        for (unsigned j = 0; j < i; j++)
            if (memcmp(o->pub[j], p, CRYPTO_EC_PUB_LEN) == 0) {
                memset(o, 0, sizeof(*o));
                return -EBADMSG;
            }
        memcpy(o->pub[i], p, CRYPTO_EC_PUB_LEN);
    }
    o->n = n;
    return 0;
}

size_t
unlock_ops_encode(const struct unlock_ops *o, uint8_t out[UNLOCK_REC_MAX])
{
    size_t len = 8 + o->n * CRYPTO_EC_PUB_LEN;

    memcpy(out, ops_magic, 4);
    lib_put16(out + 4, (uint16_t)o->n);
    lib_put16(out + 6, 0);
    for (unsigned i = 0; i < o->n; i++)
        memcpy(out + 8 + i * CRYPTO_EC_PUB_LEN, o->pub[i], CRYPTO_EC_PUB_LEN);
    lib_put32(out + len, lib_crc32c(0, out, len));
    return len + 4;
}

static uint32_t
setting(struct store *st, const char *key, uint32_t def, uint32_t max)
{
    char v[16];
    int n = st ? store_get(st, key, v, sizeof(v) - 1) : -ENOENT;
    char *end;
    unsigned long x;

    if (n <= 0)
        return def;
    v[n] = '\0';
    x = strtoul(v, &end, 10);
    return *end == '\0' && x >= 1 && x <= max ? (uint32_t)x : def;
}

void
unlock_init(struct unlock *u, struct store *st)
{
    uint8_t rec[UNLOCK_REC_MAX];
    int n;

    memset(u, 0, sizeof(*u));
    u->st = st;
    u->idle_s = setting(st, UNLOCK_IDLE_KEY, UNLOCK_IDLE_S, 86400);
    u->valid_s = setting(st, UNLOCK_VALID_KEY, UNLOCK_VALID_S, 3600);
    n = st ? store_get(st, UNLOCK_KEY, rec, sizeof(rec)) : -ENOENT;
    if (n > 0 && unlock_ops_decode(rec, (size_t)n, &u->ops) != 0) {
        /* Damaged: the device stays locked (one key that matches
         * nothing) rather than falling back to unprovisioned. */
        u->ops.n = 1;
        memset(u->ops.pub[0], 0, CRYPTO_EC_PUB_LEN);
    }
}

int
unlock_allowed(struct unlock *u)
{
    uint64_t now = hal_clock_ms();

    if (u->ops.n == 0)
        return 1;
    if (u->unlocked && now - u->last_ms >= (uint64_t)u->idle_s * 1000)
        u->unlocked = 0;
    if (u->unlocked)
        u->last_ms = now;
    return u->unlocked;
}

void
unlock_lock(struct unlock *u)
{
    u->unlocked = 0;
    u->pending = 0;
}

int
unlock_challenge(struct unlock *u, const uint8_t fp[CRYPTO_SHA256_LEN],
                 uint32_t *wait_s)
{
    uint64_t now = hal_clock_ms();
    uint8_t nonce[16];
    char fph[2 * CRYPTO_SHA256_LEN + 1], nh[2 * sizeof(nonce) + 1];
    int rc;

    *wait_s = 0;
    if (u->ops.n == 0)
        return -ENOKEY;
    if (now < u->blocked_until_ms) {
        *wait_s = (uint32_t)((u->blocked_until_ms - now + 999) / 1000);
        u->count[UNLOCK_BLOCKED]++;
        return -EAGAIN;
    }
    rc = hal_rng_fill(nonce, sizeof(nonce));
    if (rc != 0)
        return rc;
    lib_hex_encode(fp, CRYPTO_SHA256_LEN, fph);
    lib_hex_encode(nonce, sizeof(nonce), nh);
    snprintf(u->challenge, sizeof(u->challenge),
             "keel-unlock-v1 device=%s nonce=%s time=%" PRId64 " valid=%u", fph,
             nh, hal_clock_wall(), (unsigned)u->valid_s);
    u->pending = 1;
    u->issued_ms = now;
    return 0;
}

int
unlock_answer(struct unlock *u, const uint8_t *sig, size_t len)
{
    uint64_t now = hal_clock_ms();
    uint8_t h[CRYPTO_SHA256_LEN];
    int r = UNLOCK_WRONG;

    if (!u->pending) {
        r = UNLOCK_NONE;
        goto out;
    }
    u->pending = 0; /* used once, whatever the answer */
    if (now - u->issued_ms >= (uint64_t)u->valid_s * 1000) {
        r = UNLOCK_EXPIRED;
        goto out;
    }
    if (len == 0 || len > CRYPTO_SIG_MAX) {
        r = UNLOCK_MALFORMED;
        goto wrong;
    }
    crypto_sha256(u->challenge, strlen(u->challenge), h);
    for (unsigned i = 0; i < u->ops.n; i++)
        if (crypto_ec_verify(u->ops.pub[i], h, sig, len) == CRYPTO_VERIFIED) {
            u->unlocked = 1;
            u->last_ms = now;
            u->wrong = 0;
            u->blocked_until_ms = 0;
            r = UNLOCK_OK;
            goto out;
        }
wrong:
    /* Each wrong answer doubles the wait before the next challenge. */
    u->wrong++;
    {
        uint64_t wait = 1000;

        for (uint32_t i = 1; i < u->wrong && wait < UNLOCK_BACKOFF_MAX_S * 1000;
             i++)
            wait *= 2;
        if (wait > UNLOCK_BACKOFF_MAX_S * 1000)
            wait = UNLOCK_BACKOFF_MAX_S * 1000;
        u->blocked_until_ms = now + wait;
    }
out:
    u->count[r]++;
    return r;
}

static int
ops_save(struct unlock *u, const struct unlock_ops *o)
{
    uint8_t rec[UNLOCK_REC_MAX];
    size_t len = unlock_ops_encode(o, rec);

    if (u->st == NULL)
        return -EROFS;
    return store_put(u->st, UNLOCK_KEY, rec, len);
}

int
unlock_op_add(struct unlock *u, const uint8_t pub[CRYPTO_EC_PUB_LEN])
{
    struct unlock_ops o = u->ops;
    int rc;

    for (unsigned i = 0; i < o.n; i++)
        if (memcmp(o.pub[i], pub, CRYPTO_EC_PUB_LEN) == 0)
            return -EEXIST;
    if (o.n >= UNLOCK_OPS_MAX)
        return -ENOSPC;
    memcpy(o.pub[o.n++], pub, CRYPTO_EC_PUB_LEN);
    rc = ops_save(u, &o);
    if (rc == 0)
        u->ops = o;
    return rc;
}

int
unlock_op_remove(struct unlock *u, const uint8_t fp[CRYPTO_SHA256_LEN])
{
    struct unlock_ops o = u->ops;
    uint8_t spki[CRYPTO_SPKI_LEN], f[CRYPTO_SHA256_LEN];
    int rc;

    for (unsigned i = 0; i < o.n; i++) {
        crypto_spki_encode(o.pub[i], spki);
        crypto_sha256(spki, sizeof(spki), f);
        if (memcmp(f, fp, sizeof(f)) != 0)
            continue;
        if (o.n == 1)
            return -EPERM;
        memmove(o.pub[i], o.pub[i + 1], (o.n - i - 1) * CRYPTO_EC_PUB_LEN);
        o.n--;
        memset(o.pub[o.n], 0, CRYPTO_EC_PUB_LEN);
        rc = ops_save(u, &o);
        if (rc == 0)
            u->ops = o;
        return rc;
    }
    return -ENOENT;
}
