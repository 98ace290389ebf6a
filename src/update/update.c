/*
 * update/update.c - verify a bundle, then install it chunk by chunk into
 * the inactive slot; check a slot; confirm; roll back.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "store/crc32c.h"
#include "store/le.h"
#include "update/update.h"

static const char slot_magic[4] = {'K', 'S', 'L', 'T'};

/* One chunk of payload and one manifest: the only big buffers. */
static uint8_t chunk[UPD_CHUNK_BUF];
static uint8_t manbuf[UPD_MANIFEST_MAX];
static uint8_t sigbuf[UPD_SIGS_MAX * UPD_SIG_LEN];
static struct upd_sig sigs[UPD_SIGS_MAX];

static int fail(struct update *u, int reason, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Set u->why and u->reason and return rc.  A refusal (a reason from
 * UPD_R_FIRST_REFUSAL on) is also counted and logged; an operator's
 * mistake (UPD_R_NONE) is only told.  fmt may name u->why itself. */
static int
fail(struct update *u, int reason, int rc, const char *fmt, ...)
{
    char why[sizeof(u->why)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    memcpy(u->why, why, sizeof(why));
    u->reason = reason;
    upd_audit_refused(u->audit, reason, why);
    return rc;
}

/* Signature check results as reasons: -EEXIST is a key signing twice. */
static int
sig_reason(int rc)
{
    return rc == -EEXIST ? UPD_R_DUPLICATE_KEY : UPD_R_BAD_SIGNATURE;
}

/* Write boot control and, once it is read back, log what changed. */
static int
save_bc(struct update *u, struct bootctl *saved, const struct bootctl *next)
{
    int rc = bootctl_save(u->ctl, next);

    if (rc == 0) {
        upd_audit_bootctl(u->audit, saved, next);
        *saved = *next;
    }
    return rc;
}

/* Read exactly n bytes; -EPIPE when the stream ends first. */
static int
read_full(const struct upd_src *src, void *buf, size_t n)
{
    uint8_t *p = buf;

    while (n > 0) {
        int r = src->read(src->arg, p, n);

        if (r < 0)
            return r;
        if (r == 0)
            return -EPIPE;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static uint32_t
payload_off(const struct hal_flash *f, uint32_t man_len)
{
    uint32_t a = f->erase_size > UPD_SLOT_HDR ? f->erase_size : UPD_SLOT_HDR;

    return (UPD_SLOT_HDR + man_len + a - 1) / a * a;
}

/* ---- keyring -------------------------------------------------------- */

int
update_keyring(struct update *u, struct upd_keyring *k)
{
    static uint8_t b[UPD_KEYRING_MAX];
    const char *why;
    int n =
        u->st != NULL ? store_get(u->st, UPD_KEY_KEYRING, b, sizeof(b)) : -EIO;

    if (n == -ENOENT)
        return fail(u, UPD_R_NONE, -ENOKEY,
                    "no keyring on this device (the image provides one in "
                    "rootfs/etc/keel/keyring)");
    if (n < 0)
        return fail(u, UPD_R_NONE, n, "keyring unreadable from the store: %s",
                    strerror(-n));
    if (upd_keyring_decode(b, (size_t)n, k, &why) != 0)
        return fail(u, UPD_R_NONE, -EBADMSG, "stored keyring is invalid: %s",
                    why);
    u->keyring_version = k->version;
    return 0;
}

int
update_keyring_seed(struct update *u, const uint8_t *p, size_t len,
                    const char *name)
{
    static uint8_t b[UPD_KEYRING_MAX + 1];
    struct upd_keyring k;
    const char *why;
    int rc;

    if (u->st == NULL)
        return -EIO;
    rc = store_get(u->st, UPD_KEY_KEYRING, b, sizeof(b));
    if (rc != -ENOENT)
        return rc < 0 ? rc : 0; /* already there (or the store failed) */
    if (len > UPD_KEYRING_MAX || upd_keyring_decode(p, len, &k, &why) != 0)
        return fail(u, UPD_R_NONE, -EBADMSG, "image keyring %s is invalid",
                    name);
    return store_put(u->st, UPD_KEY_KEYRING, p, len);
}

/* The rotation rules, shared by bundles and signed keyring files: a
 * higher version, k of the current keyring and k' of the new one. */
static int
rotation_ok(struct update *u, const struct upd_keyring *cur,
            const struct upd_keyring *newk, const uint8_t h[32],
            const struct upd_sig *sg, int n)
{
    char wb[120];
    int cnt, unknown;

    if (newk->version <= cur->version)
        return fail(u, UPD_R_BAD_ROTATION, -EPERM,
                    "new keyring version %" PRIu32
                    " is not above the device's %" PRIu32,
                    newk->version, cur->version);
    cnt = upd_sigs_check(cur, h, sg, n, &unknown, wb, sizeof(wb));
    if (cnt < 0)
        return fail(u, sig_reason(cnt), -EPERM, "%s", wb);
    if (cnt < cur->threshold)
        return fail(u, UPD_R_BAD_ROTATION, -EPERM,
                    "needs %u signatures by keyring keys, has %d (keyring "
                    "version %" PRIu32 ")",
                    cur->threshold, cnt, cur->version);
    cnt = upd_sigs_check(newk, h, sg, n, &unknown, wb, sizeof(wb));
    if (cnt < 0)
        return fail(u, sig_reason(cnt), -EPERM, "new keyring: %s", wb);
    if (cnt < newk->threshold)
        return fail(u, UPD_R_BAD_ROTATION, -EPERM,
                    "keyring rotation needs %u signatures by the new "
                    "keyring's keys, has %d",
                    newk->threshold, cnt);
    return 0;
}

/* Store the new keyring (of version `version`), read it back, and log the
 * rotation from the keyring last read (u->keyring_version). */
static int
keyring_store(struct update *u, const uint8_t *kr, uint32_t len,
              uint32_t version)
{
    uint8_t back[UPD_KEYRING_MAX];
    int rc = store_put(u->st, UPD_KEY_KEYRING, kr, len);

    if (rc == 0 &&
        (store_get(u->st, UPD_KEY_KEYRING, back, sizeof(back)) != (int)len ||
         memcmp(back, kr, len) != 0))
        rc = -EIO;
    if (rc == 0) {
        upd_audit_keyring(u->audit, u->keyring_version, version);
        u->keyring_version = version;
    }
    return rc;
}

int
update_keyring_rotate(struct update *u, const uint8_t *p, size_t len)
{
    static struct upd_keyring cur, newk;
    const uint8_t *kr;
    const char *why;
    uint32_t krl;
    uint8_t h[32];
    int n, rc;

    u->why[0] = '\0';
    n = upd_skr_decode(p, len, &kr, &krl, sigs, UPD_SIGS_MAX, &why);
    if (n < 0)
        return n == -E2BIG ? fail(u, UPD_R_TOO_LARGE, -E2BIG, "%s", why)
                           : fail(u, UPD_R_BAD_ROTATION, -EINVAL, "%s", why);
    rc = update_keyring(u, &cur);
    if (rc != 0)
        return fail(u, UPD_R_NO_KEYRING, rc, "%s", u->why);
    if (upd_keyring_decode(kr, krl, &newk, &why) != 0)
        return fail(u, UPD_R_BAD_ROTATION, -EINVAL, "%s", why);
    crypto_sha256(kr, krl, h);
    rc = rotation_ok(u, &cur, &newk, h, sigs, n);
    if (rc != 0)
        return rc;
    if (keyring_store(u, kr, krl, newk.version) != 0)
        return fail(u, UPD_R_FLASH_ERROR, -EIO,
                    "storing the new keyring failed; the old one "
                    "stays");
    return 0;
}

/* ---- slot check ----------------------------------------------------- */

int
update_slot_verify(const struct hal_flash *slot, const struct bc_slot *bs,
                   char *why, size_t wcap)
{
    uint8_t hdr[32], h[32];
    struct upd_manifest m;
    const char *w;
    uint32_t ml, po;
    uint64_t off;
    int rc;

    rc = hal_flash_read(slot, 0, hdr, sizeof(hdr));
    if (rc != 0) {
        snprintf(why, wcap, "slot header unreadable");
        return -EIO;
    }
    ml = le32(hdr + 4);
    po = le32(hdr + 8);
    if (memcmp(hdr, slot_magic, 4) != 0 ||
        crc32c(0, hdr, 24) != le32(hdr + 24) || ml != bs->manifest_len ||
        ml > UPD_MANIFEST_MAX || po != payload_off(slot, ml) ||
        le64(hdr + 16) != bs->payload_size || po > slot->size ||
        bs->payload_size > slot->size - po) {
        snprintf(why, wcap, "slot header does not match boot control");
        return -EBADMSG;
    }
    rc = hal_flash_read(slot, UPD_SLOT_HDR, manbuf, ml);
    if (rc != 0) {
        snprintf(why, wcap, "manifest unreadable");
        return -EIO;
    }
    crypto_sha256(manbuf, ml, h);
    if (crypto_ct_diff(h, bs->manifest_hash, 32) != 0) {
        snprintf(why, wcap, "manifest hash differs from boot control");
        return -EBADMSG;
    }
    if (upd_manifest_decode(manbuf, ml, &m, &w) != 0 ||
        m.payload_size != bs->payload_size || m.chunk_size > UPD_CHUNK_BUF) {
        snprintf(why, wcap, "manifest in slot invalid: %s", w);
        return -EBADMSG;
    }
    off = 0;
    for (uint32_t i = 0; i < m.nchunks; i++) {
        uint32_t len = (uint32_t)(m.payload_size - off < m.chunk_size
                                      ? m.payload_size - off
                                      : m.chunk_size);

        rc = hal_flash_read(slot, po + off, chunk, len);
        if (rc != 0) {
            snprintf(why, wcap, "chunk %" PRIu32 " unreadable", i);
            return -EIO;
        }
        crypto_sha256(chunk, len, h);
        if (crypto_ct_diff(h, m.chunk_hash + (size_t)i * 32, 32) != 0) {
            snprintf(why, wcap,
                     "chunk %" PRIu32 " of %" PRIu32 " does not match its hash",
                     i, m.nchunks);
            return -EBADMSG;
        }
        off += len;
    }
    return 0;
}

/* ---- install -------------------------------------------------------- */

/* Program [off, off + len) of the slot, erasing blocks ahead of it as
 * needed (*erased: everything below it is erased). */
static int
slot_write(const struct hal_flash *f, uint64_t off, const uint8_t *p,
           uint32_t len, uint64_t *erased)
{
    uint32_t plen = hal_flash_pad(f, len);
    int rc;

    while (*erased < off + plen) {
        rc = hal_flash_erase(f, *erased, f->erase_size);
        if (rc != 0)
            return rc;
        *erased += f->erase_size;
    }
    if (plen != len) {
        /* the last piece: pad to the program unit with erased bytes */
        if (p != chunk)
            return -EINVAL;
        memset(chunk + len, f->erased, plen - len);
    }
    return hal_flash_prog(f, off, p, plen);
}

static void
mark_bad(struct update *u, struct bootctl *saved, struct bootctl *bc, int t,
         int reason)
{
    bc->slot[t].state = SLOT_BAD;
    bc->slot[t].tries = 0;
    bc->slot[t].result = (uint8_t)reason;
    (void)save_bc(u, saved, bc);
}

/* Steps 1: everything checked before the slot is touched. */
static int
check_bundle(struct update *u, const struct upd_src *src, struct upd_header *hd,
             struct bootctl *bc, int *target, struct upd_keyring *newk)
{
    static struct upd_keyring cur;
    uint8_t hb[UPD_HDR_LEN];
    const char *why;
    char wb[120];
    int rc, nsig, cnt, unknown, t;
    int64_t now = hal_clock_wall();

    rc = read_full(src, hb, sizeof(hb));
    if (rc != 0)
        return fail(u, UPD_R_TRUNCATED, -EINVAL,
                    "bundle truncated in its header");
    rc = upd_header_decode(hb, hd, &why);
    if (rc != 0)
        return rc == -E2BIG ? fail(u, UPD_R_TOO_LARGE, -E2BIG, "%s", why)
                            : fail(u, UPD_R_BAD_HEADER, -EINVAL, "%s", why);
    rc = read_full(src, manbuf, hd->manifest_len);
    if (rc != 0)
        return fail(u, UPD_R_TRUNCATED, -EINVAL,
                    "bundle truncated in its manifest");
    rc = upd_manifest_decode(manbuf, hd->manifest_len, &u->man, &why);
    if (rc != 0)
        return rc == -E2BIG
                   ? fail(u, UPD_R_TOO_LARGE, -E2BIG, "manifest: %s", why)
                   : fail(u, UPD_R_BAD_MANIFEST, -EINVAL, "manifest: %s", why);
    crypto_sha256(manbuf, hd->manifest_len, u->man_hash);
    rc = read_full(src, sigbuf, hd->sigs_len);
    if (rc != 0)
        return fail(u, UPD_R_TRUNCATED, -EINVAL,
                    "bundle truncated in its signatures");
    nsig = upd_sigs_decode(sigbuf, hd->sigs_len, sigs, UPD_SIGS_MAX, &why);
    if (nsig < 0)
        return fail(u, UPD_R_BAD_SIGNATURE, -EINVAL, "signatures: %s", why);
    if (hd->payload_len != u->man.payload_size)
        return fail(u, UPD_R_BAD_HEADER, -EINVAL,
                    "header payload length %" PRIu64
                    " differs from the manifest's %" PRIu64,
                    hd->payload_len, u->man.payload_size);

    /* Signatures against the device keyring. */
    rc = update_keyring(u, &cur);
    if (rc != 0)
        return fail(u, UPD_R_NO_KEYRING, rc, "%s", u->why);
    if (cur.expires != 0) {
        if (now < UPD_CLOCK_SANE)
            return fail(u, UPD_R_CLOCK_UNSET, -EPERM,
                        "the clock is unset (reads %lld): the keyring's "
                        "expiry cannot be checked; set the clock",
                        (long long)now);
        if (now > cur.expires + UPD_SKEW_S)
            return fail(u, UPD_R_KEYRING_EXPIRED, -EPERM,
                        "the device keyring (version %" PRIu32
                        ") expired at %lld",
                        cur.version, (long long)cur.expires);
    }
    cnt =
        upd_sigs_check(&cur, u->man_hash, sigs, nsig, &unknown, wb, sizeof(wb));
    if (cnt < 0)
        return fail(u, sig_reason(cnt), -EPERM, "%s", wb);
    if (cnt < cur.threshold)
        return fail(
            u, unknown ? UPD_R_UNKNOWN_KEY : UPD_R_TOO_FEW_SIGNATURES, -EPERM,
            "needs %u signatures by keyring keys, has %d%s (keyring "
            "version %" PRIu32 ")",
            cur.threshold, cnt,
            unknown ? " (others by keys not in the keyring)" : "", cur.version);
    newk->nkeys = 0;
    if (u->man.keyring != NULL) {
        rc = upd_keyring_decode(u->man.keyring, u->man.keyring_len, newk, &why);
        if (rc != 0)
            return fail(u, UPD_R_BAD_ROTATION, -EINVAL, "new keyring: %s", why);
        rc = rotation_ok(u, &cur, newk, u->man_hash, sigs, nsig);
        if (rc != 0)
            return rc;
    }

    /* Board, version, counter. */
    {
        int fits = 0;

        for (int i = 0; i < u->man.nboards; i++)
            fits |= strcmp(u->man.boards[i], u->board) == 0;
        if (!fits)
            return fail(u, UPD_R_WRONG_BOARD, -ENODEV,
                        "bundle is for board '%s'%s, this is "
                        "'%s'",
                        u->man.boards[0],
                        u->man.nboards > 1 ? " (and others)" : "", u->board);
    }
    rc = bootctl_load(u->ctl, bc);
    if (rc != 0)
        return fail(u, UPD_R_FLASH_ERROR, -EIO, "boot control unreadable");
    if (u->man.counter < bc->arb)
        return fail(u, UPD_R_COUNTER_ROLLBACK, -ESTALE,
                    "security counter %" PRIu64
                    " is below the anti-rollback counter %" PRIu64,
                    u->man.counter, bc->arb);
    if (u->running >= 0 && bc->slot[u->running].state == SLOT_TRIAL)
        return fail(u, UPD_R_TRIAL_PENDING, -EBUSY,
                    "slot %c is on trial: 'update confirm' or "
                    "'update rollback' first",
                    slot_name(u->running));
    {
        int ref = u->running >= 0 ? u->running : bc->primary;

        if (ref != BOOTCTL_NONE && bc->slot[ref].state == SLOT_GOOD &&
            upd_version_cmp(&u->man.version, &bc->slot[ref].version) < 0)
            return fail(
                u, UPD_R_VERSION_DOWNGRADE, -ESTALE,
                "version %" PRIu32 ".%" PRIu32 ".%" PRIu32
                " is older than slot %c's %" PRIu32 ".%" PRIu32 ".%" PRIu32,
                u->man.version.major, u->man.version.minor,
                u->man.version.patch, slot_name(ref),
                bc->slot[ref].version.major, bc->slot[ref].version.minor,
                bc->slot[ref].version.patch);
        t = ref == BOOTCTL_NONE ? 0 : 1 - ref;
    }
    if (u->man.chunk_size > UPD_CHUNK_BUF)
        return fail(u, UPD_R_TOO_LARGE, -E2BIG,
                    "chunk size %" PRIu32 " is above this "
                    "device's %u",
                    u->man.chunk_size, UPD_CHUNK_BUF);
    if ((uint64_t)payload_off(u->slot[t], hd->manifest_len) +
            u->man.payload_size >
        u->slot[t]->size)
        return fail(u, UPD_R_TOO_LARGE, -E2BIG,
                    "payload of %" PRIu64 " bytes does not fit slot %c",
                    u->man.payload_size, slot_name(t));
    *target = t;
    return 0;
}

int
update_install(struct update *u, const struct upd_src *src)
{
    static struct upd_keyring newk;
    struct upd_header hd;
    struct bootctl bc, saved;
    const struct hal_flash *f;
    uint64_t erased = 0, off = 0;
    uint32_t po;
    int t = 0, rc;

    u->why[0] = '\0';
    rc = check_bundle(u, src, &hd, &bc, &t, &newk);
    if (rc != 0)
        return rc;
    f = u->slot[t];
    po = payload_off(f, hd.manifest_len);
    saved = bc;

    /* 2. The slot is now being written: never bootable until READY. */
    bc.slot[t] = (struct bc_slot){
        .state = SLOT_INSTALLING,
        .result = UPD_R_INSTALLING,
        .version = u->man.version,
        .counter = u->man.counter,
        .payload_size = u->man.payload_size,
        .manifest_len = hd.manifest_len,
    };
    memcpy(bc.slot[t].manifest_hash, u->man_hash, 32);
    if (bc.primary == t)
        bc.primary = BOOTCTL_NONE;
    rc = save_bc(u, &saved, &bc);
    if (rc != 0)
        return fail(u, UPD_R_FLASH_ERROR, -EIO, "boot control write failed");
    while (erased < po) {
        rc = hal_flash_erase(f, erased, f->erase_size);
        if (rc != 0)
            goto io;
        erased += f->erase_size;
    }
    for (uint32_t i = 0; i < u->man.nchunks; i++) {
        uint32_t len = (uint32_t)(u->man.payload_size - off < u->man.chunk_size
                                      ? u->man.payload_size - off
                                      : u->man.chunk_size);
        uint8_t h[32];

        rc = read_full(src, chunk, len);
        if (rc != 0) {
            mark_bad(u, &saved, &bc, t, UPD_R_TRUNCATED);
            return fail(u, UPD_R_TRUNCATED, -EINVAL,
                        "bundle truncated in chunk %" PRIu32 " of %" PRIu32
                        "; slot %c marked bad",
                        i, u->man.nchunks, slot_name(t));
        }
        crypto_sha256(chunk, len, h);
        if (crypto_ct_diff(h, u->man.chunk_hash + (size_t)i * 32, 32) != 0) {
            mark_bad(u, &saved, &bc, t, UPD_R_CHUNK_HASH);
            return fail(u, UPD_R_CHUNK_HASH, -EBADMSG,
                        "chunk %" PRIu32 " of %" PRIu32
                        " does not match the signed manifest; nothing "
                        "after it written, slot %c marked bad",
                        i, u->man.nchunks, slot_name(t));
        }
        rc = slot_write(f, po + off, chunk, len, &erased);
        if (rc != 0)
            goto io;
        off += len;
        if (u->progress != NULL) {
            struct upd_progress p = {off, u->man.payload_size};

            if (u->progress(u->progress_arg, &p) != 0) {
                mark_bad(u, &saved, &bc, t, UPD_R_CANCELLED);
                return fail(u, UPD_R_CANCELLED, -ECANCELED,
                            "cancelled; slot %c marked bad, the running "
                            "slot is untouched",
                            slot_name(t));
            }
        }
    }
    {
        /* 3. The manifest, then the slot header naming it. */
        uint8_t hdr[32];

        memset(chunk, f->erased, UPD_CHUNK_BUF);
        memcpy(chunk, manbuf, hd.manifest_len);
        rc = slot_write(f, UPD_SLOT_HDR, chunk, hd.manifest_len, &erased);
        if (rc != 0)
            goto io;
        memset(hdr, 0, sizeof(hdr));
        memcpy(hdr, slot_magic, 4);
        put32(hdr + 4, hd.manifest_len);
        put32(hdr + 8, po);
        put32(hdr + 16, (uint32_t)u->man.payload_size);
        put32(hdr + 20, (uint32_t)(u->man.payload_size >> 32));
        put32(hdr + 24, crc32c(0, hdr, 24));
        memset(chunk, f->erased, UPD_SLOT_HDR);
        memcpy(chunk, hdr, sizeof(hdr));
        rc = slot_write(f, 0, chunk, sizeof(hdr), &erased);
        if (rc != 0)
            goto io;
        rc = hal_flash_sync(f);
        if (rc != 0)
            goto io;
    }
    {
        char w[120];

        rc = update_slot_verify(f, &bc.slot[t], w, sizeof(w));
        if (rc != 0) {
            mark_bad(u, &saved, &bc, t, UPD_R_READBACK);
            return fail(u, UPD_R_READBACK, -EIO,
                        "read-back of slot %c failed: %s", slot_name(t), w);
        }
    }
    /* 4. A new keyring, then READY. */
    if (newk.nkeys > 0 && keyring_store(u, u->man.keyring, u->man.keyring_len,
                                        newk.version) != 0) {
        mark_bad(u, &saved, &bc, t, UPD_R_FLASH_ERROR);
        return fail(u, UPD_R_FLASH_ERROR, -EIO,
                    "storing the new keyring failed");
    }
    bc.slot[t].state = SLOT_READY;
    bc.slot[t].tries = bc.tries_max;
    bc.slot[t].result = UPD_R_INSTALLED;
    rc = save_bc(u, &saved, &bc);
    if (rc != 0)
        return fail(u, UPD_R_FLASH_ERROR, -EIO, "marking slot %c ready failed",
                    slot_name(t));
    return t;
io:
    mark_bad(u, &saved, &bc, t, UPD_R_FLASH_ERROR);
    return fail(u, UPD_R_FLASH_ERROR, -EIO, "flash error writing slot %c: %s",
                slot_name(t), strerror(-rc));
}

/* ---- confirm, rollback ---------------------------------------------- */

/* The running slot and boot control as stored; 0 or an error told. */
static int
running_bootctl(struct update *u, struct bootctl *bc)
{
    if (u->running < 0)
        return fail(u, UPD_R_NONE, -ENOENT,
                    "not running from a slot (keel-boot did not "
                    "start this node)");
    if (bootctl_load(u->ctl, bc) != 0)
        return fail(u, UPD_R_NONE, -EIO, "boot control unreadable");
    return 0;
}

int
update_confirm(struct update *u)
{
    struct bootctl bc, saved;
    int r = u->running, rc = running_bootctl(u, &bc);

    if (rc != 0)
        return rc;
    saved = bc;
    if (bc.slot[r].state == SLOT_GOOD && bc.primary == r)
        return 0; /* already confirmed */
    if (bc.slot[r].state != SLOT_TRIAL)
        return fail(u, UPD_R_NONE, -EINVAL, "slot %c is %s, not on trial",
                    slot_name(r), slot_state_name(bc.slot[r].state));
    bc.slot[r].state = SLOT_GOOD;
    bc.slot[r].tries = 0;
    bc.slot[r].result = UPD_R_CONFIRMED;
    bc.primary = (uint8_t)r;
    if (bc.slot[r].counter > bc.arb)
        bc.arb = bc.slot[r].counter;
    rc = save_bc(u, &saved, &bc);
    if (rc != 0)
        return fail(u, UPD_R_NONE, -EIO,
                    "writing boot control failed: the trial is "
                    "NOT confirmed");
    return 0;
}

int
update_rollback(struct update *u)
{
    struct bootctl bc, saved;
    int r = u->running, rc = running_bootctl(u, &bc);

    if (rc != 0)
        return rc;
    saved = bc;
    if (bc.slot[1 - r].state != SLOT_GOOD || !bootctl_bootable(&bc, 1 - r))
        return fail(u, UPD_R_NONE, -ENOENT,
                    "slot %c (%s) cannot boot: nothing to roll "
                    "back to",
                    slot_name(1 - r), slot_state_name(bc.slot[1 - r].state));
    bc.slot[r].state = SLOT_BAD;
    bc.slot[r].tries = 0;
    bc.slot[r].result = UPD_R_ROLLED_BACK;
    bc.primary = (uint8_t)(1 - r);
    rc = save_bc(u, &saved, &bc);
    if (rc != 0)
        return fail(u, UPD_R_NONE, -EIO,
                    "writing boot control failed; nothing changed");
    return 0;
}
