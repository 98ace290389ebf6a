/*
 * identity/identity.c - the identity key's life: first boot, load and
 * self-check, repair, rotation, retirement, replacement.
 *
 * Every write is: build the record in RAM, check it as a loader would,
 * commit both copies at once, read both back and compare, move copy 1
 * into a record of its own, then update the marker.  A cut before the
 * commit leaves the old identity; any cut after it leaves the new one
 * (the remaining steps are redone at the next boot).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/clock.h"
#include "identity/identity.h"
#include "lib/le.h"
#include "lib/why.h"

/* ---- record layout (docs/FORMAT.md) ---------------------------------- */

#define R_MAGIC 0
#define R_VERSION 4
#define R_FLAGS 5
#define R_GEN 8
#define R_CREATED 12
#define R_PRIV 20
#define R_PUB 52
#define R_OLD_CREATED 117
#define R_OLD_PRIV 125
#define R_OLD_PUB 157
#define R_WINDOW_END 222
#define R_STMT 230
#define R_SIG_OLD 436 /* length byte, then CRYPTO_SIG_MAX bytes */
#define R_SIG_NEW 509
#define R_SHA 582
_Static_assert(R_SHA + CRYPTO_SHA256_LEN == ID_REC_LEN, "record layout");

#define F_ROTATING 0x01
#define F_STMT 0x02

#define S_MAGIC 0
#define S_SEQ 4
#define S_TIME 8
#define S_WINDOW_END 16
#define S_OLD 24
#define S_NEW 115
_Static_assert(S_NEW + CRYPTO_SPKI_LEN == ID_STMT_LEN, "statement layout");

static const char rec_magic[4] = {'K', 'I', 'D', '1'};
static const char stmt_magic[4] = {'K', 'R', 'S', '1'};
static const char mark_magic[4] = {'K', 'I', 'M', '1'};

static int64_t
le64s(const uint8_t *p)
{
    return (int64_t)lib_le64(p);
}

static void say(struct identity *id, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(struct identity *id, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    if (id->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    id->log(id->log_arg, msg);
}

/* Put the failure in id->why and return rc (lib/why.h). */
#define fail(id, rc, ...)                                                      \
    lib_why((id)->why, sizeof((id)->why), (rc), __VA_ARGS__)

void
identity_fingerprint(const uint8_t pub[CRYPTO_EC_PUB_LEN],
                     uint8_t fp[ID_FP_LEN])
{
    uint8_t der[CRYPTO_SPKI_LEN];

    crypto_spki_encode(pub, der);
    crypto_sha256(der, sizeof(der), fp);
}

/* Sign and verify a message naming the key: the private half works and
 * matches the public half. */
static int
self_check(const struct crypto_eckey *k)
{
    struct crypto_eckey d;
    uint8_t h[32], sig[CRYPTO_SIG_MAX];
    struct crypto_sha256 c;
    int n, ok;

    memcpy(d.priv, k->priv, sizeof(d.priv));
    ok = crypto_ec_from_priv(&d) == 0 &&
         memcmp(d.pub, k->pub, CRYPTO_EC_PUB_LEN) == 0;
    crypto_wipe(&d, sizeof(d));
    if (!ok)
        return -EBADMSG;
    crypto_sha256_init(&c);
    crypto_sha256_update(&c, "keel identity self-check", 24);
    crypto_sha256_update(&c, k->pub, CRYPTO_EC_PUB_LEN);
    crypto_sha256_final(&c, h);
    n = crypto_ec_sign(k, h, sig);
    if (n < 0 || crypto_ec_verify(k->pub, h, sig, (size_t)n) != CRYPTO_VERIFIED)
        return -EBADMSG;
    h[0] ^= 1; /* and a wrong digest fails */
    if (crypto_ec_verify(k->pub, h, sig, (size_t)n) != -EBADMSG)
        return -EBADMSG;
    return 0;
}

/* ---- rotation statement --------------------------------------------- */

int
identity_stmt_check(const uint8_t stmt[ID_STMT_LEN], const uint8_t *sig_old,
                    size_t lo, const uint8_t *sig_new, size_t ln,
                    uint8_t old_pub[CRYPTO_EC_PUB_LEN],
                    uint8_t new_pub[CRYPTO_EC_PUB_LEN], uint32_t *seq)
{
    uint8_t h[32];

    if (memcmp(stmt + S_MAGIC, stmt_magic, 4) != 0 ||
        crypto_spki_decode(stmt + S_OLD, CRYPTO_SPKI_LEN, old_pub) != 0 ||
        crypto_spki_decode(stmt + S_NEW, CRYPTO_SPKI_LEN, new_pub) != 0 ||
        memcmp(old_pub, new_pub, CRYPTO_EC_PUB_LEN) == 0)
        return -EINVAL;
    crypto_sha256(stmt, ID_STMT_LEN, h);
    if (crypto_ec_verify(old_pub, h, sig_old, lo) != CRYPTO_VERIFIED ||
        crypto_ec_verify(new_pub, h, sig_new, ln) != CRYPTO_VERIFIED)
        return -EBADMSG;
    *seq = lib_le32(stmt + S_SEQ);
    return 0;
}

/* ---- record encode / decode ----------------------------------------- */

void
identity_record_encode(const struct identity *id, uint8_t r[ID_REC_LEN])
{
    memset(r, 0, ID_REC_LEN);
    memcpy(r + R_MAGIC, rec_magic, 4);
    r[R_VERSION] = 1;
    r[R_FLAGS] = (uint8_t)((id->rotating ? F_ROTATING : 0) |
                           (id->has_stmt ? F_STMT : 0));
    lib_put32(r + R_GEN, id->gen);
    lib_put64(r + R_CREATED, (uint64_t)id->cur.created);
    memcpy(r + R_PRIV, id->cur.k.priv, CRYPTO_EC_PRIV_LEN);
    memcpy(r + R_PUB, id->cur.k.pub, CRYPTO_EC_PUB_LEN);
    if (id->has_stmt) {
        lib_put64(r + R_OLD_CREATED, (uint64_t)id->old.created);
        memcpy(r + R_OLD_PUB, id->old.k.pub, CRYPTO_EC_PUB_LEN);
        lib_put64(r + R_WINDOW_END, (uint64_t)id->window_end);
        memcpy(r + R_STMT, id->stmt, ID_STMT_LEN);
        r[R_SIG_OLD] = id->sig_old_len;
        memcpy(r + R_SIG_OLD + 1, id->sig_old, id->sig_old_len);
        r[R_SIG_NEW] = id->sig_new_len;
        memcpy(r + R_SIG_NEW + 1, id->sig_new, id->sig_new_len);
    }
    if (id->rotating)
        memcpy(r + R_OLD_PRIV, id->old.k.priv, CRYPTO_EC_PRIV_LEN);
    crypto_sha256(r, R_SHA, r + R_SHA);
}

int
identity_record_decode(const uint8_t *r, size_t len, struct identity *out,
                       const char **why)
{
    uint8_t h[32], op[CRYPTO_EC_PUB_LEN], np[CRYPTO_EC_PUB_LEN];
    uint32_t seq;
    uint8_t fl;

    *why = "";
    if (len != ID_REC_LEN) {
        *why = "wrong length";
        return -EBADMSG;
    }
    crypto_sha256(r, R_SHA, h);
    if (crypto_ct_diff(h, r + R_SHA, 32) != 0) {
        *why = "checksum mismatch";
        return -EBADMSG;
    }
    fl = r[R_FLAGS];
    if (memcmp(r, rec_magic, 4) != 0 || r[R_VERSION] != 1 ||
        (fl & ~(F_ROTATING | F_STMT)) != 0 ||
        ((fl & F_ROTATING) && !(fl & F_STMT)) || r[6] != 0 || r[7] != 0) {
        *why = "unknown format";
        return -EBADMSG;
    }
    out->gen = lib_le32(r + R_GEN);
    out->rotating = (fl & F_ROTATING) != 0;
    out->has_stmt = (fl & F_STMT) != 0;
    out->cur.created = le64s(r + R_CREATED);
    memcpy(out->cur.k.priv, r + R_PRIV, CRYPTO_EC_PRIV_LEN);
    memcpy(out->cur.k.pub, r + R_PUB, CRYPTO_EC_PUB_LEN);
    memset(&out->old, 0, sizeof(out->old));
    out->window_end = 0;
    out->sig_old_len = out->sig_new_len = 0;
    if (self_check(&out->cur.k) != 0) {
        *why = "key fails its self-check";
        goto bad;
    }
    if (!out->has_stmt) {
        if (!lib_bytes_zero(r + R_OLD_CREATED, R_SHA - R_OLD_CREATED)) {
            *why = "unknown format";
            goto bad;
        }
        return 0;
    }
    out->old.created = le64s(r + R_OLD_CREATED);
    memcpy(out->old.k.pub, r + R_OLD_PUB, CRYPTO_EC_PUB_LEN);
    out->window_end = le64s(r + R_WINDOW_END);
    memcpy(out->stmt, r + R_STMT, ID_STMT_LEN);
    out->sig_old_len = r[R_SIG_OLD];
    out->sig_new_len = r[R_SIG_NEW];
    if (out->sig_old_len > CRYPTO_SIG_MAX ||
        out->sig_new_len > CRYPTO_SIG_MAX) {
        *why = "unknown format";
        goto bad;
    }
    memcpy(out->sig_old, r + R_SIG_OLD + 1, out->sig_old_len);
    memcpy(out->sig_new, r + R_SIG_NEW + 1, out->sig_new_len);
    if (identity_stmt_check(out->stmt, out->sig_old, out->sig_old_len,
                            out->sig_new, out->sig_new_len, op, np,
                            &seq) != 0 ||
        memcmp(np, out->cur.k.pub, CRYPTO_EC_PUB_LEN) != 0 ||
        memcmp(op, out->old.k.pub, CRYPTO_EC_PUB_LEN) != 0 || seq != out->gen ||
        le64s(out->stmt + S_WINDOW_END) != out->window_end) {
        *why = "rotation statement does not verify";
        goto bad;
    }
    if (out->rotating) {
        memcpy(out->old.k.priv, r + R_OLD_PRIV, CRYPTO_EC_PRIV_LEN);
        if (self_check(&out->old.k) != 0) {
            *why = "old key fails its self-check";
            goto bad;
        }
    } else if (!lib_bytes_zero(r + R_OLD_PRIV, CRYPTO_EC_PRIV_LEN)) {
        *why = "retired key not wiped";
        goto bad;
    }
    return 0;
bad:
    crypto_wipe(&out->cur, sizeof(out->cur));
    crypto_wipe(&out->old, sizeof(out->old));
    return -EBADMSG;
}

/* ---- marker --------------------------------------------------------- */

/* 1 and fills gen/fp when the control block holds a marker, 0 when it
 * holds none, -EIO when it cannot say (destroyed or unreadable). */
static int
mark_read(struct identity *id, uint32_t *gen, uint8_t fp[ID_FP_LEN])
{
    uint8_t m[ID_MARK_LEN];
    int n;

    if (id->ctl == NULL)
        return -EIO;
    n = ctl_get(id->ctl, CTL_TAG_ID, m, sizeof(m));
    /* No section: none was ever written, unless both copies are there
     * and corrupt (one blank copy means at most one write, torn). */
    if (n == -ENOENT)
        return id->ctl->newest < 0 && id->ctl->bad >= 2 ? -EIO : 0;
    if (n != ID_MARK_LEN || memcmp(m, mark_magic, 4) != 0)
        return -EIO;
    *gen = lib_le32(m + 4);
    memcpy(fp, m + 8, ID_FP_LEN);
    return 1;
}

int
identity_mark_encode(const struct identity *id, uint8_t m[ID_MARK_LEN])
{
    if (id->state != IDENTITY_READY)
        return -ENOKEY;
    memcpy(m, mark_magic, 4);
    lib_put32(m + 4, id->gen);
    identity_fingerprint(id->cur.k.pub, m + 8);
    return 0;
}

static int
mark_write(struct identity *id)
{
    uint8_t m[ID_MARK_LEN];

    if (id->ctl == NULL)
        return -EIO;
    memcpy(m, mark_magic, 4);
    lib_put32(m + 4, id->gen);
    identity_fingerprint(id->cur.k.pub, m + 8);
    return ctl_put(id->ctl, CTL_TAG_ID, m, sizeof(m));
}

/* ---- writing -------------------------------------------------------- */

static uint32_t
repairs_read(struct store *st)
{
    uint8_t b[4];

    return store_get(st, ID_KEY_REPAIRS, b, sizeof(b)) == 4 ? lib_le32(b) : 0;
}

/* Take from's generation, keys, window and statement (what a record
 * holds); id keeps its store, control block, state and counters. */
static void
take_keys(struct identity *id, const struct identity *from)
{
    id->gen = from->gen;
    id->rotating = from->rotating;
    id->has_stmt = from->has_stmt;
    id->cur = from->cur;
    id->old = from->old;
    id->window_end = from->window_end;
    memcpy(id->stmt, from->stmt, ID_STMT_LEN);
    memcpy(id->sig_old, from->sig_old, CRYPTO_SIG_MAX);
    memcpy(id->sig_new, from->sig_new, CRYPTO_SIG_MAX);
    id->sig_old_len = from->sig_old_len;
    id->sig_new_len = from->sig_new_len;
}

/* Commit next (already checked) as the identity: both copies in one
 * group commit (plus the repair counter when counting), read back,
 * separate, mark.  On success id takes next's contents. */
static int
commit(struct identity *id, const struct identity *next, int count_repair)
{
    uint8_t *r = id->work->rec[0], *back = id->work->back;
    uint8_t cnt[4];
    struct store_entry e[3] = {
        {ID_KEY_A, r, ID_REC_LEN, 0},
        {ID_KEY_B, r, ID_REC_LEN, 0},
        {ID_KEY_REPAIRS, cnt, 4, 0},
    };
    int rc;

    identity_record_encode(next, r);
    lib_put32(cnt, id->repairs + 1);
    rc = store_commit(id->st, e, count_repair ? 3 : 2);
    if (rc != 0) {
        crypto_wipe(r, ID_REC_LEN);
        return fail(id, rc, "store: writing the identity failed: %s",
                    strerror(-rc));
    }
    for (int i = 0; i < 2; i++) {
        rc = store_get(id->st, i ? ID_KEY_B : ID_KEY_A, back, ID_REC_LEN);
        if (rc != ID_REC_LEN || memcmp(back, r, ID_REC_LEN) != 0) {
            crypto_wipe(r, ID_REC_LEN);
            crypto_wipe(back, ID_REC_LEN);
            return fail(id, -EIO, "identity copy %d did not read back", i);
        }
    }
    crypto_wipe(back, ID_REC_LEN);
    /* The commit point is passed: from here on the new identity rules. */
    if (count_repair)
        id->repairs++;
    if (next != id)
        take_keys(id, next);
    id->state = IDENTITY_READY;
    id->why[0] = '\0';
    /* Copy 1 into a record of its own, so one bad CRC never takes both
     * copies; a failure here is repaired at the next boot. */
    rc = store_put(id->st, ID_KEY_B, r, ID_REC_LEN);
    crypto_wipe(r, ID_REC_LEN);
    if (rc != 0)
        say(id,
            "identity: separating copy 1 failed (%s); retried at next "
            "boot",
            strerror(-rc));
    rc = mark_write(id);
    if (rc != 0)
        say(id, "identity: marker not written (%s); retried at next boot",
            rc == -EIO && id->ctl == NULL ? "no control block" : strerror(-rc));
    return 0;
}

/* A fresh key into k from a DRBG seeded by the HAL rng. */
static int
fresh_key(struct identity *id, struct crypto_eckey *k)
{
    struct crypto_drbg d;
    int rc = crypto_drbg_init(&d, "keel identity", 13);

    if (rc == 0)
        rc = crypto_ec_keygen(&d, k);
    crypto_wipe(&d, sizeof(d));
    if (rc != 0)
        return fail(id, rc, "no key made: the random source failed (%s)",
                    strerror(-rc));
    return 0;
}

static int64_t
now(void)
{
    int64_t t = hal_clock_wall();

    return t > 0 ? t : 0;
}

int
identity_new(struct identity *id, const struct crypto_eckey *k)
{
    struct identity *next = &id->work->next;
    uint32_t mgen = 0;
    uint8_t fp[ID_FP_LEN];
    int rc;

    if (id->st == NULL)
        return fail(id, -EIO, "store not mounted");
    memset(next, 0, sizeof(*next));
    if (k != NULL) {
        next->cur.k = *k;
        if (self_check(&next->cur.k) != 0) {
            crypto_wipe(next, sizeof(*next));
            return fail(id, -EINVAL, "the key fails its self-check");
        }
    } else if ((rc = fresh_key(id, &next->cur.k)) != 0) {
        return rc;
    }
    next->cur.created = now();
    next->gen = id->gen + 1;
    if (mark_read(id, &mgen, fp) == 1 && mgen >= next->gen)
        next->gen = mgen + 1;
    rc = commit(id, next, 0);
    crypto_wipe(next, sizeof(*next));
    if (rc == 0)
        say(id, "identity: generation %u made (%s)", (unsigned)id->gen,
            k != NULL ? "imported" : "new key");
    return rc;
}

int
identity_rotate(struct identity *id, int64_t window_s)
{
    struct identity *next = &id->work->next;
    uint8_t h[32];
    int64_t t = now();
    int n;

    if (id->state != IDENTITY_READY)
        return fail(id, -ENOKEY, "no identity to rotate");
    if (id->rotating)
        return fail(id, -EBUSY,
                    "a rotation's overlap window is open until %lld "
                    "(Unix time); rotate again after it",
                    (long long)id->window_end);
    if (window_s < 0 || window_s > (int64_t)ID_WINDOW_DAYS_MAX * 86400)
        return fail(id, -EINVAL, "window out of range");
    if (t == 0 && window_s > 0)
        return fail(id, -EINVAL,
                    "the clock is unset: an overlap window cannot be "
                    "timed; set the clock first");
    memset(next, 0, sizeof(*next));
    next->old = id->cur;
    n = fresh_key(id, &next->cur.k);
    if (n != 0)
        return n;
    next->cur.created = t;
    next->gen = id->gen + 1;
    next->rotating = 1;
    next->has_stmt = 1;
    next->window_end = t + window_s;
    memcpy(next->stmt + S_MAGIC, stmt_magic, 4);
    lib_put32(next->stmt + S_SEQ, next->gen);
    lib_put64(next->stmt + S_TIME, (uint64_t)t);
    lib_put64(next->stmt + S_WINDOW_END, (uint64_t)next->window_end);
    crypto_spki_encode(next->old.k.pub, next->stmt + S_OLD);
    crypto_spki_encode(next->cur.k.pub, next->stmt + S_NEW);
    crypto_sha256(next->stmt, ID_STMT_LEN, h);
    n = crypto_ec_sign(&next->old.k, h, next->sig_old);
    next->sig_old_len = (uint8_t)(n > 0 ? n : 0);
    n = crypto_ec_sign(&next->cur.k, h, next->sig_new);
    next->sig_new_len = (uint8_t)(n > 0 ? n : 0);
    {
        /* check it as every loader and peer will */
        uint8_t *r = id->work->rec[1];
        struct identity *chk = &id->work->chk;
        const char *why;

        identity_record_encode(next, r);
        n = identity_record_decode(r, ID_REC_LEN, chk, &why);
        crypto_wipe(r, ID_REC_LEN);
        crypto_wipe(chk, sizeof(*chk));
        if (n != 0) {
            crypto_wipe(next, sizeof(*next));
            return fail(id, -EIO, "rotation record fails its check: %s", why);
        }
    }
    n = commit(id, next, 0);
    crypto_wipe(next, sizeof(*next));
    if (n == 0)
        say(id,
            "identity: rotated to generation %u; old key valid until "
            "%lld",
            (unsigned)id->gen, (long long)id->window_end);
    return n;
}

int
identity_tick(struct identity *id)
{
    struct identity *next = &id->work->next;
    int rc;

    if (id->state != IDENTITY_READY || !id->rotating || now() < id->window_end)
        return 0;
    *next = *id;
    crypto_wipe(&next->old.k.priv, sizeof(next->old.k.priv));
    next->rotating = 0;
    rc = commit(id, next, 0);
    crypto_wipe(next, sizeof(*next));
    if (rc != 0)
        return rc;
    say(id, "identity: overlap window over; old key retired");
    return 1;
}

/* ---- boot ----------------------------------------------------------- */

static int lost(struct identity *id, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
lost(struct identity *id, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(id->why, sizeof(id->why), fmt, ap);
    va_end(ap);
    id->state = IDENTITY_LOST;
    crypto_wipe(&id->cur, sizeof(id->cur));
    crypto_wipe(&id->old, sizeof(id->old));
    say(id,
        "identity: LOST: %s; peers refused until 'id new --force' or "
        "'id import FILE'",
        id->why);
    return -ENOKEY;
}

int
identity_boot(struct identity *id, struct store *st, struct ctl *ctl)
{
    uint8_t(*r)[ID_REC_LEN];
    struct identity *c;
    int ok[2], present[2], best = -1, mk;
    const char *why[2] = {"", ""};
    uint32_t mgen = 0;
    uint8_t mfp[ID_FP_LEN], fp[ID_FP_LEN];

    identity_close(id);
    if (id->work == NULL)
        return fail(id, -EINVAL, "no work area (identity.work) given");
    r = id->work->rec;
    c = id->work->copies;
    id->st = st;
    id->ctl = ctl;
    id->state = IDENTITY_NONE;
    id->gen = 0;
    id->repaired_boot = 0;
    id->why[0] = '\0';
    if (st == NULL)
        return fail(id, -EIO, "store not mounted");
    id->repairs = repairs_read(st);
    for (int i = 0; i < 2; i++) {
        int n = store_get(st, i ? ID_KEY_B : ID_KEY_A, r[i], ID_REC_LEN);

        if (n == -EIO)
            return fail(id, -EIO, "store: reading identity copy %d failed", i);
        present[i] = n != -ENOENT;
        if (n == -EBADMSG)
            why[i] = "store record corrupt";
        else if (n == -ENOBUFS)
            why[i] = "wrong length";
        ok[i] = n >= 0 &&
                identity_record_decode(r[i], (size_t)n, &c[i], &why[i]) == 0;
        if (ok[i] && (best < 0 || c[i].gen > c[best].gen))
            best = i;
    }
    mk = mark_read(id, &mgen, mfp);

    if (best < 0) {
        if (present[0] || present[1])
            return lost(id, "both copies are bad (copy 0: %s; copy 1: %s)",
                        present[0] ? why[0] : "missing",
                        present[1] ? why[1] : "missing");
        if (mk == 1)
            return lost(id,
                        "both copies are missing, but the control block "
                        "records generation %u",
                        (unsigned)mgen);
        if (mk < 0)
            return lost(id, "no copy in the store and the control block "
                            "cannot say whether one existed");
        say(id, "identity: first boot, making the identity key");
        return identity_new(id, NULL) == 0 ? 0 : -EIO;
    }

    identity_fingerprint(c[best].cur.k.pub, fp);
    if (mk == 1 && (mgen > c[best].gen ||
                    (mgen == c[best].gen && memcmp(mfp, fp, 32) != 0)))
        return lost(id,
                    "the copies hold generation %u but the control block "
                    "records generation %u%s: the identity was rolled "
                    "back or replaced",
                    (unsigned)c[best].gen, (unsigned)mgen,
                    mgen == c[best].gen ? " with another key" : "");
    take_keys(id, &c[best]);
    id->state = IDENTITY_READY;
    for (int i = 0; i < 2; i++)
        crypto_wipe(&c[i], sizeof(c[i]));

    /* Repair: a copy that is bad, missing or older than the best. */
    {
        int other = 1 - best;

        if (!ok[other] || memcmp(r[other], r[best], ID_REC_LEN) != 0) {
            int rc;

            say(id, "identity: copy %d %s; repairing it from copy %d", other,
                !present[other] ? "missing"
                : !ok[other]    ? why[other]
                                : "older than the other",
                best);
            rc = commit(id, id, 1);
            if (rc != 0) {
                crypto_wipe(r, 2 * ID_REC_LEN);
                return rc;
            }
            id->repaired_boot++;
        } else if (store_same_record(st, ID_KEY_A, ID_KEY_B) == 1) {
            /* A cut between commit and separation: finish it. */
            if (store_put(st, ID_KEY_B, r[best], ID_REC_LEN) != 0)
                say(id, "identity: separating copy 1 failed");
        }
    }
    crypto_wipe(r, 2 * ID_REC_LEN);
    if (mk != 1 || mgen < id->gen) {
        int rc = mark_write(id);

        if (rc != 0)
            say(id, "identity: marker not written (%s)", strerror(-rc));
    }
    if (identity_tick(id) < 0)
        say(id, "identity: retiring the old key failed: %s", id->why);
    return 0;
}

int
identity_sign(struct identity *id, const uint8_t h[CRYPTO_SHA256_LEN],
              uint8_t sig[CRYPTO_SIG_MAX])
{
    if (id->state != IDENTITY_READY)
        return fail(id, -ENOKEY, "identity %s",
                    id->state == IDENTITY_LOST ? "lost" : "not loaded");
    return crypto_ec_sign(&id->cur.k, h, sig);
}

int
identity_verify(struct identity *id, const uint8_t h[CRYPTO_SHA256_LEN],
                const uint8_t *sig, size_t len, int *which)
{
    if (id->state != IDENTITY_READY)
        return fail(id, -ENOKEY, "identity %s",
                    id->state == IDENTITY_LOST ? "lost" : "not loaded");
    *which = 0;
    if (crypto_ec_verify(id->cur.k.pub, h, sig, len) == CRYPTO_VERIFIED)
        return CRYPTO_VERIFIED;
    *which = 1;
    if (id->rotating && now() < id->window_end &&
        crypto_ec_verify(id->old.k.pub, h, sig, len) == CRYPTO_VERIFIED)
        return CRYPTO_VERIFIED;
    return -EBADMSG;
}

int
identity_window_days(struct identity *id)
{
    char b[16];
    int n = id->st != NULL ? store_get(id->st, ID_KEY_WINDOW, b, sizeof(b) - 1)
                           : -ENOENT;
    char *end;
    long v;

    if (n <= 0)
        return ID_WINDOW_DAYS_DEFAULT;
    b[n] = '\0';
    v = strtol(b, &end, 10);
    if (*end != '\0' || v < 0 || v > ID_WINDOW_DAYS_MAX)
        return ID_WINDOW_DAYS_DEFAULT;
    return (int)v;
}

const char *
identity_state_name(enum identity_state s)
{
    return s == IDENTITY_READY ? "ready" : s == IDENTITY_LOST ? "lost" : "none";
}

void
identity_close(struct identity *id)
{
    crypto_wipe(&id->cur, sizeof(id->cur));
    crypto_wipe(&id->old, sizeof(id->old));
    id->state = IDENTITY_NONE;
}
