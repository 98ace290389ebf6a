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
#include "lib/crc32c.h"
#include "lib/le.h"
#include "lib/why.h"
#include "update/floor.h"
#include "update/quarantine.h"
#include "update/update.h"

static int fail(struct update *u, int reason, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Set u->why and u->reason and return rc.  A refusal (a reason from
 * UPD_R_FIRST_REFUSAL on) is also counted and logged; an operator's
 * mistake (UPD_R_NONE) is only told.  fmt may name u->why itself. */
static int
fail(struct update *u, int reason, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    rc = lib_vwhy(u->why, sizeof(u->why), rc, fmt, ap);
    va_end(ap);
    u->reason = reason;
    upd_audit_refused(u->audit, reason, u->why);
    return rc;
}

/* Set u->why and u->reason and return rc, without counting: for checks
 * that status displays also run (the caller counts a refusal). */
static int tell(struct update *u, int reason, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
tell(struct update *u, int reason, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    rc = lib_vwhy(u->why, sizeof(u->why), rc, fmt, ap);
    va_end(ap);
    u->reason = reason;
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

/* ---- keyring -------------------------------------------------------- */

/* Is keyring bytes b (n, decoded as k) at or above the trust floor?  0,
 * or a refusal told (keyring_rollback). */
static int
keyring_vs_floor(struct update *u, const uint8_t *b, size_t n,
                 const struct upd_keyring *k, const struct upd_floor *f,
                 const char *what)
{
    uint8_t h[32];

    if (k->version < f->keyring_version)
        return tell(u, UPD_R_KEYRING_ROLLBACK, -EPERM,
                    "%s keyring version %" PRIu32 " is below version %" PRIu32
                    " that this device already trusts (rolled back or "
                    "damaged); restore it with 'update keyring FILE'",
                    what, k->version, f->keyring_version);
    crypto_sha256(b, n, h);
    if (k->version == f->keyring_version &&
        crypto_ct_diff(h, f->keyring_hash, 32) != 0)
        return tell(u, UPD_R_KEYRING_ROLLBACK, -EPERM,
                    "%s keyring version %" PRIu32
                    " differs from the version %" PRIu32
                    " this device trusts; restore it with 'update "
                    "keyring FILE'",
                    what, k->version, f->keyring_version);
    return 0;
}

static void
floor_of(const uint8_t *b, size_t n, const struct upd_keyring *k,
         struct upd_floor *f)
{
    memset(f, 0, sizeof(*f));
    f->keyring_version = k->version;
    crypto_sha256(b, n, f->keyring_hash);
}

int
update_keyring(struct update *u, struct upd_keyring *k)
{
    uint8_t b[UPD_KEYRING_MAX];
    struct upd_floor f;
    const char *why;
    int n =
        u->st != NULL ? store_get(u->st, UPD_KEY_KEYRING, b, sizeof(b)) : -EIO;

    (void)upd_floor_load(u->ctl, u->st, &f);
    if (n == -ENOENT && f.keyring_version > 0)
        return tell(u, UPD_R_KEYRING_ROLLBACK, -ENOKEY,
                    "the keyring is missing (deleted or damaged) but "
                    "this device trusted version %" PRIu32
                    "; restore it with 'update keyring FILE'",
                    f.keyring_version);
    if (n == -ENOENT)
        return tell(u, UPD_R_NONE, -ENOKEY,
                    "no keyring on this device (the image provides one in "
                    "rootfs/etc/keel/keyring)");
    if (n < 0)
        return tell(u, UPD_R_NONE, n, "keyring unreadable from the store: %s",
                    strerror(-n));
    if (upd_keyring_decode(b, (size_t)n, k, &why) != 0)
        return tell(u, UPD_R_NONE, -EBADMSG, "stored keyring is invalid: %s",
                    why);
    n = keyring_vs_floor(u, b, (size_t)n, k, &f, "the stored");
    if (n != 0)
        return n;
    u->keyring_version = k->version;
    return 0;
}

int
update_keyring_seed(struct update *u, const uint8_t *p, size_t len,
                    const char *name)
{
    uint8_t *b = u->work->kr;
    struct upd_keyring k;
    struct upd_floor f;
    const char *why;
    int rc;

    if (u->st == NULL)
        return -EIO;
    rc = store_get(u->st, UPD_KEY_KEYRING, b, UPD_KEYRING_MAX + 1);
    if (rc != -ENOENT)
        return rc < 0 ? rc : 0; /* already there (or the store failed) */
    if (len > UPD_KEYRING_MAX || upd_keyring_decode(p, len, &k, &why) != 0)
        return fail(u, UPD_R_NONE, -EBADMSG, "image keyring %s is invalid",
                    name);
    /* Only a device that never trusted a keyring takes the image's, or
     * one that lost the very keyring it trusted: never an older one. */
    (void)upd_floor_load(u->ctl, u->st, &f);
    if (f.keyring_version > 0) {
        rc = keyring_vs_floor(u, p, len, &k, &f, "the image's");
        if (rc == 0 && k.version != f.keyring_version)
            rc = fail(u, UPD_R_KEYRING_ROLLBACK, -EPERM,
                      "the image's keyring version %" PRIu32
                      " is not the version %" PRIu32
                      " this device trusts; restore that one with "
                      "'update keyring FILE'",
                      k.version, f.keyring_version);
        if (rc != 0)
            return rc;
    }
    rc = store_put(u->st, UPD_KEY_KEYRING, p, len);
    if (rc != 0)
        return rc;
    floor_of(p, len, &k, &f);
    return upd_floor_raise(u->ctl, u->st, &f);
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
    struct upd_keyring k;
    struct upd_floor f;
    const char *why;
    int rc = store_put(u->st, UPD_KEY_KEYRING, kr, len);

    if (rc == 0 &&
        (store_get(u->st, UPD_KEY_KEYRING, back, sizeof(back)) != (int)len ||
         memcmp(back, kr, len) != 0))
        rc = -EIO;
    /* Then the floor: from here on nothing older is taken.  A cut
     * before this leaves a stored keyring above the floor, which
     * update_floor_sync() raises it to. */
    if (rc == 0 && upd_keyring_decode(kr, len, &k, &why) == 0) {
        floor_of(kr, len, &k, &f);
        rc = upd_floor_raise(u->ctl, u->st, &f);
    }
    if (rc == 0) {
        upd_audit_keyring(u->audit, u->keyring_version, version);
        u->keyring_version = version;
    }
    return rc;
}

/* The stored keyring is lost or below the floor: the one way back is
 * the exact keyring the floor names, still signed by its own threshold. */
static int
keyring_restore(struct update *u, const uint8_t *kr, uint32_t krl,
                const struct upd_keyring *newk, const uint8_t h[32], int n)
{
    struct upd_floor f;
    char wb[120];
    int cnt, unknown;

    (void)upd_floor_load(u->ctl, u->st, &f);
    if (newk->version != f.keyring_version ||
        crypto_ct_diff(h, f.keyring_hash, 32) != 0)
        return fail(u, UPD_R_KEYRING_ROLLBACK, -EPERM,
                    "%s; this file holds keyring version %" PRIu32
                    ", not the one the device trusts",
                    u->why, newk->version);
    cnt = upd_sigs_check(newk, h, u->work->sigs, n, &unknown, wb, sizeof(wb));
    if (cnt < 0)
        return fail(u, sig_reason(cnt), -EPERM, "%s", wb);
    if (cnt < newk->threshold)
        return fail(u, UPD_R_TOO_FEW_SIGNATURES, -EPERM,
                    "restoring keyring version %" PRIu32
                    " needs %u of its own signatures, has %d",
                    newk->version, newk->threshold, cnt);
    if (keyring_store(u, kr, krl, newk->version) != 0)
        return fail(u, UPD_R_FLASH_ERROR, -EIO, "storing the keyring failed");
    u->restored = 1;
    return 0;
}

int
update_keyring_rotate(struct update *u, const uint8_t *p, size_t len)
{
    struct upd_keyring *cur = &u->work->cur, *newk = &u->work->next;
    struct upd_sig *sigs = u->work->sigs;
    const uint8_t *kr;
    const char *why;
    uint32_t krl;
    uint8_t h[32];
    int n, rc;

    u->why[0] = '\0';
    u->restored = 0;
    n = upd_skr_decode(p, len, &kr, &krl, sigs, UPD_SIGS_MAX, &why);
    if (n < 0)
        return n == -E2BIG ? fail(u, UPD_R_TOO_LARGE, -E2BIG, "%s", why)
                           : fail(u, UPD_R_BAD_ROTATION, -EINVAL, "%s", why);
    if (upd_keyring_decode(kr, krl, newk, &why) != 0)
        return fail(u, UPD_R_BAD_ROTATION, -EINVAL, "%s", why);
    crypto_sha256(kr, krl, h);
    rc = update_keyring(u, cur);
    if (rc != 0 && u->reason == UPD_R_KEYRING_ROLLBACK)
        return keyring_restore(u, kr, krl, newk, h, n);
    if (rc != 0)
        return fail(u, UPD_R_NO_KEYRING, rc, "%s", u->why);
    rc = rotation_ok(u, cur, newk, h, sigs, n);
    if (rc != 0)
        return rc;
    if (keyring_store(u, kr, krl, newk->version) != 0)
        return fail(u, UPD_R_FLASH_ERROR, -EIO,
                    "storing the new keyring failed; the old one "
                    "stays");
    return 0;
}

/* ---- install -------------------------------------------------------- */

/* Write [off, off + len) of the slot, padded with erased bytes to the
 * program unit (p is the work chunk buffer, which has the room).  On a
 * RAW partition: erase the blocks ahead of it first (*erased: everything
 * below it is erased), then program.  On a BLOCK partition (a disk): one
 * write over whatever the slot held, no erase; it is volatile until the
 * one sync before the read-back (hal/flash.h). */
static int
slot_write(const struct hal_flash *f, uint64_t off, uint8_t *p, uint32_t len,
           uint64_t *erased)
{
    uint32_t plen = hal_flash_pad(f, len);
    int rc;

    if (plen != len) {
        /* the last piece */
        if (plen > UPD_CHUNK_BUF)
            return -EINVAL;
        memset(p + len, f->erased, plen - len);
    }
    if (f->kind == HAL_FLASH_BLOCK)
        return hal_flash_write(f, off, p, plen);
    while (*erased < off + plen) {
        rc = hal_flash_erase(f, *erased, f->erase_size);
        if (rc != 0)
            return rc;
        *erased += f->erase_size;
    }
    return hal_flash_prog(f, off, p, plen);
}

static void
mark_bad(struct update *u, struct bootctl *saved, struct bootctl *bc, int t,
         int reason)
{
    upd_slot_set(bc, t, SLOT_BAD, reason);
    (void)save_bc(u, saved, bc);
}

/* Steps 1: everything checked before the slot is touched. */
static int
check_bundle(struct update *u, const struct upd_src *src, struct upd_header *hd,
             struct bootctl *bc, int *target, struct upd_keyring *newk)
{
    struct upd_keyring *cur = &u->work->cur;
    struct upd_sig *sigs = u->work->sigs;
    uint8_t *manbuf = u->work->man, *sigbuf = u->work->sigraw;
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
    rc = upd_quar_check(u->st, u->man_hash);
    if (rc != 0) {
        char hx[17];

        for (int i = 0; i < 8; i++)
            snprintf(hx + 2 * i, 3, "%02x", u->man_hash[i]);
        return rc > 0 ? fail(u, UPD_R_QUARANTINED, -EPERM,
                             "bundle %s... is quarantined on this node "
                             "('update quarantine list')",
                             hx)
                      : fail(u, UPD_R_QUARANTINED, -EPERM,
                             "the quarantine list cannot be read (%s): "
                             "nothing installs until 'update quarantine "
                             "release' rewrites it",
                             strerror(-rc));
    }
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
    rc = update_keyring(u, cur);
    if (rc != 0)
        return fail(u,
                    u->reason == UPD_R_KEYRING_ROLLBACK ? UPD_R_KEYRING_ROLLBACK
                                                        : UPD_R_NO_KEYRING,
                    rc, "%s", u->why);
    if (cur->expires != 0) {
        if (now < UPD_CLOCK_SANE)
            return fail(u, UPD_R_CLOCK_UNSET, -EPERM,
                        "the clock is unset (reads %lld): the keyring's "
                        "expiry cannot be checked; set the clock",
                        (long long)now);
        if (now - UPD_SKEW_S > cur->expires)
            return fail(u, UPD_R_KEYRING_EXPIRED, -EPERM,
                        "the device keyring (version %" PRIu32
                        ") expired at %lld",
                        cur->version, (long long)cur->expires);
    }
    cnt =
        upd_sigs_check(cur, u->man_hash, sigs, nsig, &unknown, wb, sizeof(wb));
    if (cnt < 0)
        return fail(u, sig_reason(cnt), -EPERM, "%s", wb);
    if (cnt < cur->threshold)
        return fail(u, unknown ? UPD_R_UNKNOWN_KEY : UPD_R_TOO_FEW_SIGNATURES,
                    -EPERM,
                    "needs %u signatures by keyring keys, has %d%s (keyring "
                    "version %" PRIu32 ")",
                    cur->threshold, cnt,
                    unknown ? " (others by keys not in the keyring)" : "",
                    cur->version);
    newk->nkeys = 0;
    if (u->man.keyring != NULL) {
        rc = upd_keyring_decode(u->man.keyring, u->man.keyring_len, newk, &why);
        if (rc != 0)
            return fail(u, UPD_R_BAD_ROTATION, -EINVAL, "new keyring: %s", why);
        rc = rotation_ok(u, cur, newk, u->man_hash, sigs, nsig);
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
    {
        struct upd_floor f;

        /* the counter in force: the highest any source holds */
        (void)upd_floor_load(u->ctl, u->st, &f);
        if (f.arb > bc->arb)
            bc->arb = f.arb;
    }
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
    if (!upd_slot_fits(u->slot[t]->size, u->slot[t]->erase_size,
                       hd->manifest_len, u->man.payload_size))
        return fail(u, UPD_R_TOO_LARGE, -E2BIG,
                    "payload of %" PRIu64 " bytes does not fit slot %c",
                    u->man.payload_size, slot_name(t));
    *target = t;
    return UPD_VERIFIED;
}

/* Slot t in bc becomes INSTALLING u's bundle (manifest of ml bytes):
 * never bootable until READY, and no longer primary. */
static void
installing(const struct update *u, struct bootctl *bc, int t, uint32_t ml)
{
    bc->slot[t] = (struct bc_slot){
        .state = SLOT_INSTALLING,
        .result = UPD_R_INSTALLING,
        .version = u->man.version,
        .counter = u->man.counter,
        .payload_size = u->man.payload_size,
        .manifest_len = ml,
    };
    memcpy(bc->slot[t].manifest_hash, u->man_hash, 32);
    if (bc->primary == t)
        bc->primary = BOOTCTL_NONE;
}

/* Steps 3 and 4 of an install whose every chunk is in slot t: the
 * manifest and the slot header, one sync, the read-back, a new keyring,
 * READY.  checked: the verdict of step 1.  The slot BAD on failure. */
static int
finish(struct update *u, int t, const struct upd_header *hdp,
       struct bootctl *bcp, struct bootctl *savedp, int checked,
       uint64_t erased)
{
    struct upd_keyring *newk = &u->work->next;
    uint8_t *chunk = u->work->chunk;
    const struct upd_header hd = *hdp;
    const struct hal_flash *f = u->slot[t];
    struct bootctl bc = *bcp, saved = *savedp;
    uint32_t po = upd_slot_payload_off_in(f, hd.manifest_len);
    int rc, verified = -EPERM;

    {
        /* 3. The manifest, then the slot header naming it, with the
         * signature blocks behind it (one program: the header is what
         * makes the slot readable). */
        const struct upd_slot_hdr sh = {hd.manifest_len, po, hd.sigs_len,
                                        u->man.payload_size};

        memset(chunk, f->erased, UPD_CHUNK_BUF);
        memcpy(chunk, u->work->man, hd.manifest_len);
        rc = slot_write(f, UPD_SLOT_HDR, chunk, hd.manifest_len, &erased);
        if (rc != 0)
            goto io;
        memset(chunk, f->erased, UPD_SLOT_HDR);
        upd_slot_hdr_encode(&sh, chunk);
        memcpy(chunk + UPD_SLOT_SIGS_OFF, u->work->sigraw, hd.sigs_len);
        rc = slot_write(f, 0, chunk, UPD_SLOT_SIGS_OFF + hd.sigs_len, &erased);
        if (rc != 0)
            goto io;
        /* The one sync: on a block partition every byte above becomes
         * durable here, before the read-back and before boot control
         * names the slot READY (its write is synced in turn); on raw
         * flash each program already was. */
        rc = hal_flash_sync(f);
        if (rc != 0)
            goto io;
    }
    {
        char w[120];

        verified = update_slot_verify(f, &bc.slot[t], u->work, w, sizeof(w));
        if (verified == UPD_VERIFIED &&
            (hal_flash_read(f, UPD_SLOT_SIGS_OFF, chunk, hd.sigs_len) != 0 ||
             memcmp(chunk, u->work->sigraw, hd.sigs_len) != 0)) {
            snprintf(w, sizeof(w), "signature blocks differ");
            verified = -EIO;
        }
        if (verified != UPD_VERIFIED) {
            mark_bad(u, &saved, &bc, t, UPD_R_READBACK);
            return fail(u, UPD_R_READBACK, -EIO,
                        "read-back of slot %c failed: %s", slot_name(t), w);
        }
    }
    /* 4. A new keyring, then READY. */
    if (newk->nkeys > 0 && keyring_store(u, u->man.keyring, u->man.keyring_len,
                                         newk->version) != 0) {
        mark_bad(u, &saved, &bc, t, UPD_R_FLASH_ERROR);
        return fail(u, UPD_R_FLASH_ERROR, -EIO,
                    "storing the new keyring failed");
    }
    /* Both verdicts once more, right before the slot becomes bootable:
     * one skipped branch must not make it so. */
    if (checked != UPD_VERIFIED || verified != UPD_VERIFIED) {
        mark_bad(u, &saved, &bc, t, UPD_R_READBACK);
        return fail(u, UPD_R_READBACK, -EIO, "verification inconsistent");
    }
    upd_slot_set(&bc, t, SLOT_READY, UPD_R_INSTALLED);
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

int
update_install(struct update *u, const struct upd_src *src)
{
    struct upd_keyring *newk = &u->work->next;
    uint8_t *chunk = u->work->chunk;
    struct upd_header hd;
    struct bootctl bc, saved;
    const struct hal_flash *f;
    uint64_t erased = 0, off = 0;
    uint32_t po;
    int t = 0, rc, checked;

    u->why[0] = '\0';
    checked = check_bundle(u, src, &hd, &bc, &t, newk);
    if (checked != UPD_VERIFIED)
        return checked < 0 ? checked : -EPERM;
    f = u->slot[t];
    po = upd_slot_payload_off_in(f, hd.manifest_len);
    saved = bc;
    /* 2. The slot is now being written: never bootable until READY. */
    installing(u, &bc, t, hd.manifest_len);
    rc = save_bc(u, &saved, &bc);
    if (rc != 0)
        return fail(u, UPD_R_FLASH_ERROR, -EIO, "boot control write failed");
    /* On raw flash the old slot header and manifest are erased before
     * any payload is written.  A block partition keeps them until the
     * new header is written over them; until then boot control says
     * INSTALLING, and a check of the slot on its own (degraded boot)
     * finds the old signed image, whole or with chunks that no longer
     * match its manifest. */
    while (f->kind == HAL_FLASH_RAW && erased < po) {
        rc = hal_flash_erase(f, erased, f->erase_size);
        if (rc != 0)
            goto io;
        erased += f->erase_size;
    }
    for (uint32_t i = 0; i < u->man.nchunks; i++) {
        uint32_t len = upd_chunk_len(&u->man, i);
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
    return finish(u, t, &hd, &bc, &saved, checked, erased);
io:
    mark_bad(u, &saved, &bc, t, UPD_R_FLASH_ERROR);
    return fail(u, UPD_R_FLASH_ERROR, -EIO, "flash error writing slot %c: %s",
                slot_name(t), strerror(-rc));
}

/* ---- an install in any order ----------------------------------------- */

static int
bit(const uint8_t *m, uint32_t i)
{
    return (m[i / 8] >> (i % 8)) & 1;
}

static void
bit_set(uint8_t *m, uint32_t i, int v)
{
    if (v)
        m[i / 8] |= (uint8_t)(1u << (i % 8));
    else
        m[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

/* Boot control as it is now, with slot t still this install's
 * INSTALLING: 0, or -ESTALE (changed under it) / -EIO. */
static int
ra_bc(struct update *u, struct bootctl *bc)
{
    const struct bc_slot *s;

    if (bootctl_load(u->ctl, bc) != 0)
        return fail(u, UPD_R_FLASH_ERROR, -EIO, "boot control unreadable");
    s = &bc->slot[u->ra.t];
    if (s->state != SLOT_INSTALLING ||
        s->manifest_len != u->ra.hd.manifest_len ||
        crypto_ct_diff(s->manifest_hash, u->man_hash, 32) != 0)
        return fail(u, UPD_R_CANCELLED, -ESTALE,
                    "slot %c changed under the install (now %s)",
                    slot_name(u->ra.t), slot_state_name(s->state));
    return 0;
}

int
update_ra_begin(struct update *u, const struct upd_src *src)
{
    struct upd_ra *r = &u->ra;
    struct bootctl bc, saved;
    const struct hal_flash *f;
    uint64_t erased = 0;
    uint32_t unit_bytes;
    int t = 0, rc, checked, resume;

    u->why[0] = '\0';
    memset(r, 0, sizeof(*r));
    checked = check_bundle(u, src, &r->hd, &bc, &t, &u->work->next);
    if (checked != UPD_VERIFIED)
        return checked < 0 ? checked : -EPERM;
    f = u->slot[t];
    r->t = t;
    r->po = upd_slot_payload_off_in(f, r->hd.manifest_len);
    unit_bytes = u->man.chunk_size;
    if (f->kind == HAL_FLASH_RAW && f->erase_size > unit_bytes) {
        /* both powers of two: an erase block holds whole chunks */
        if (f->erase_size % unit_bytes != 0 || r->po % f->erase_size != 0)
            return fail(u, UPD_R_TOO_LARGE, -EINVAL,
                        "chunks of %" PRIu32 " bytes do not tile erase "
                        "blocks of %" PRIu32 " bytes",
                        u->man.chunk_size, (uint32_t)f->erase_size);
        unit_bytes = (uint32_t)f->erase_size;
    }
    r->unit = unit_bytes / u->man.chunk_size;
    saved = bc;
    /* Any slot of this very manifest that is not bootable (a fetch cut
     * short, or a slot found corrupt and marked bad): its chunks are
     * checked one by one against the signed manifest below, so which
     * reason it has does not matter. */
    resume =
        (bc.slot[t].state == SLOT_INSTALLING || bc.slot[t].state == SLOT_BAD) &&
        bc.slot[t].manifest_len == r->hd.manifest_len &&
        crypto_ct_diff(bc.slot[t].manifest_hash, u->man_hash, 32) == 0;
    if (resume) {
        /* Verify on read: a chunk is kept when its bytes hash right; a
         * unit only when every chunk in it does (the others in it may
         * be torn: they are erased with it). */
        uint8_t *chunk = u->work->chunk;

        for (uint32_t i = 0; i < u->man.nchunks; i++) {
            uint32_t len = upd_chunk_len(&u->man, i);
            uint8_t h[32];

            if (hal_flash_read(f, r->po + (uint64_t)i * u->man.chunk_size,
                               chunk, len) != 0)
                continue;
            crypto_sha256(chunk, len, h);
            if (crypto_ct_diff(h, u->man.chunk_hash + (size_t)i * 32, 32) == 0)
                bit_set(r->have, i, 1);
        }
        for (uint32_t k = 0; k * r->unit < u->man.nchunks; k++) {
            uint32_t a = k * r->unit, all = 1;

            for (uint32_t i = a; i < a + r->unit && i < u->man.nchunks; i++)
                all &= (uint32_t)bit(r->have, i);
            for (uint32_t i = a; i < a + r->unit && i < u->man.nchunks; i++)
                bit_set(r->have, i, (int)all);
            bit_set(r->ready, k, (int)all);
        }
        for (uint32_t i = 0; i < u->man.nchunks; i++)
            r->have_n += (uint32_t)bit(r->have, i);
        r->kept = r->have_n;
    }
    installing(u, &bc, t, r->hd.manifest_len);
    if (save_bc(u, &saved, &bc) != 0)
        return fail(u, UPD_R_FLASH_ERROR, -EIO, "boot control write failed");
    /* The old slot header and manifest go first (as update_install). */
    while (f->kind == HAL_FLASH_RAW && erased < r->po) {
        rc = hal_flash_erase(f, erased, f->erase_size);
        if (rc != 0) {
            mark_bad(u, &saved, &bc, t, UPD_R_FLASH_ERROR);
            return fail(u, UPD_R_FLASH_ERROR, -EIO,
                        "flash error erasing slot %c: %s", slot_name(t),
                        strerror(-rc));
        }
        erased += f->erase_size;
    }
    r->active = 1;
    return t;
}

/* The install is over with reason (the slot BAD), if boot control still
 * names it. */
static void
ra_bad(struct update *u, int reason)
{
    struct bootctl bc, saved;

    u->ra.active = 0;
    if (ra_bc(u, &bc) != 0)
        return;
    saved = bc;
    mark_bad(u, &saved, &bc, u->ra.t, reason);
}

int
update_ra_put(struct update *u, uint32_t i, uint8_t *p, uint32_t len)
{
    struct upd_ra *r = &u->ra;
    const struct hal_flash *f = u->slot[r->t];
    uint32_t k;
    uint8_t h[32];
    int rc;

    if (!r->active || i >= u->man.nchunks || len != upd_chunk_len(&u->man, i))
        return -EINVAL;
    if (bit(r->have, i))
        return 0;
    crypto_sha256(p, len, h);
    if (crypto_ct_diff(h, u->man.chunk_hash + (size_t)i * 32, 32) != 0)
        return -EBADMSG; /* nothing written: the caller asks elsewhere */
    k = i / r->unit;
    if (f->kind == HAL_FLASH_RAW && !bit(r->ready, k)) {
        /* its erase unit, once: every chunk in it is missing (a unit
         * with a chunk kept or written is ready) */
        uint64_t a = r->po + (uint64_t)k * r->unit * u->man.chunk_size,
                 e = a + (uint64_t)r->unit * u->man.chunk_size,
                 end = r->po + u->man.payload_size;

        end += (f->erase_size - end % f->erase_size) % f->erase_size;
        for (; a < e && a < end; a += f->erase_size) {
            rc = hal_flash_erase(f, a, f->erase_size);
            if (rc != 0)
                goto io;
        }
        bit_set(r->ready, k, 1);
    }
    {
        /* slot_write pads the last chunk to the program unit; with the
         * erase done above it programs only */
        uint64_t off = r->po + (uint64_t)i * u->man.chunk_size,
                 erased = UINT64_MAX;

        rc = slot_write(f, off, p, len, &erased);
        if (rc != 0)
            goto io;
    }
    bit_set(r->have, i, 1);
    r->have_n++;
    return 0;
io:
    ra_bad(u, UPD_R_FLASH_ERROR);
    return fail(u, UPD_R_FLASH_ERROR, -EIO, "flash error writing slot %c: %s",
                slot_name(r->t), strerror(-rc));
}

/* The header, manifest and signatures of the install again, from the
 * work buffers check_bundle() filled (it reads them back into the same
 * places): for the second check in update_ra_end(). */
struct ra_again {
    struct update *u;
    uint8_t hb[UPD_HDR_LEN];
    size_t off;
};

static int
ra_again_read(void *arg, void *buf, size_t len)
{
    struct ra_again *a = arg;
    const struct upd_header *hd = &a->u->ra.hd;
    size_t ml = hd->manifest_len, sl = hd->sigs_len, o = a->off, n;
    const uint8_t *from;

    if (o < UPD_HDR_LEN) {
        from = a->hb + o;
        n = UPD_HDR_LEN - o;
    } else if (o < UPD_HDR_LEN + ml) {
        from = a->u->work->man + (o - UPD_HDR_LEN);
        n = UPD_HDR_LEN + ml - o;
    } else if (o < UPD_HDR_LEN + ml + sl) {
        from = a->u->work->sigraw + (o - UPD_HDR_LEN - ml);
        n = UPD_HDR_LEN + ml + sl - o;
    } else
        return 0;
    n = n < len ? n : len;
    memmove(buf, from, n);
    a->off += n;
    return (int)n;
}

int
update_ra_end(struct update *u)
{
    struct upd_ra *r = &u->ra;
    struct ra_again again = {.u = u};
    const struct upd_src src = {ra_again_read, &again};
    struct upd_header hd;
    struct bootctl bc, saved;
    int rc, t = -1, checked;

    if (!r->active)
        return -EINVAL;
    if (r->have_n != u->man.nchunks)
        return fail(u, UPD_R_TRUNCATED, -EINVAL,
                    "%" PRIu32 " of %" PRIu32 " chunks held: not complete",
                    r->have_n, u->man.nchunks);
    rc = ra_bc(u, &bc);
    if (rc != 0) {
        r->active = 0;
        return rc;
    }
    /* Step 1 once more, right before the slot is finished: a keyring
     * rotated or a counter raised while the chunks came in counts. */
    upd_header_encode(&r->hd, again.hb);
    checked = check_bundle(u, &src, &hd, &bc, &t, &u->work->next);
    if (checked != UPD_VERIFIED || t != r->t) {
        int reason = checked != UPD_VERIFIED ? u->reason : UPD_R_CANCELLED;
        char w[sizeof(u->why)];

        snprintf(w, sizeof(w), "%s", u->why);
        ra_bad(u, reason);
        return fail(u, reason, checked != UPD_VERIFIED ? checked : -ESTALE,
                    "checked again at the end: %.150s; slot %c marked bad",
                    checked != UPD_VERIFIED ? w : "the target slot changed",
                    slot_name(r->t));
    }
    saved = bc;
    r->active = 0;
    return finish(u, r->t, &r->hd, &bc, &saved, checked, r->po);
}

void
update_ra_stop(struct update *u, int reason)
{
    if (u->ra.active)
        ra_bad(u, reason);
}

int
update_floor_sync(struct update *u, struct upd_floor *out)
{
    struct upd_floor f;
    struct upd_keyring k;
    uint8_t b[UPD_KEYRING_MAX];
    int rc = upd_floor_load(u->ctl, u->st, &f), n;

    *out = f;
    if (u->st != NULL &&
        (n = store_get(u->st, UPD_KEY_KEYRING, b, sizeof(b))) > 0 &&
        update_keyring(u, &k) == 0 && k.version > f.keyring_version) {
        struct upd_floor g;

        floor_of(b, (size_t)n, &k, &g);
        f.keyring_version = g.keyring_version;
        memcpy(f.keyring_hash, g.keyring_hash, 32);
        f.behind |= UPD_FLOOR_SRC_CTL;
    }
    if (f.behind == 0 || u->ctl == NULL || u->ctl->newest < 0)
        return rc;
    /* A source fell behind (a cut between writes, or a damaged or
     * deleted copy): bring every one up to the maximum. */
    if (upd_floor_raise(u->ctl, u->st, &f) == 0)
        (void)upd_floor_load(u->ctl, u->st, out);
    out->behind = f.behind;
    return rc;
}

/* ---- recovery ------------------------------------------------------- */

/* Append section tag (len bytes) to the payload p at *n. */
static int
sec_add(uint8_t *p, size_t cap, size_t *n, uint8_t tag, const void *v,
        size_t len)
{
    if (*n + CTL_SEC_HDR + len > cap)
        return -ENOSPC;
    p[*n] = tag;
    p[*n + 1] = 0;
    p[*n + 2] = (uint8_t)len;
    p[*n + 3] = (uint8_t)(len >> 8);
    memcpy(p + *n + CTL_SEC_HDR, v, len);
    *n += CTL_SEC_HDR + len;
    return 0;
}

int
update_bootctl_rebuild(struct update *u, const uint8_t *marker, size_t mlen)
{
    struct upd_keyring k;
    struct upd_floor f;
    struct upd_slot_info info[2];
    struct bootctl bc;
    uint8_t kb[BOOTCTL_LEN], fb[UPD_FLOOR_LEN], p[CTL_PAYLOAD_MAX];
    char why[2][120];
    int ok[2], r = u->running, rc;
    size_t n = 0;

    u->why[0] = '\0';
    if (r < 0)
        return fail(u, UPD_R_NONE, -EINVAL,
                    "not running from a slot: boot through keel-boot first "
                    "(it boots a slot that verifies by its signatures)");
    /* the control block is what was lost: the store's floor counts */
    rc = upd_floor_load(NULL, u->st, &f);
    if (rc != 0)
        return fail(u, UPD_R_NONE, -EBADMSG,
                    "the store's trust floor is damaged too: nothing to "
                    "rebuild boot control from");
    {
        struct ctl *saved = u->ctl;

        u->ctl = NULL;
        rc = update_keyring(u, &k);
        u->ctl = saved;
    }
    if (rc != 0)
        return fail(u, UPD_R_NONE, rc, "%s", u->why);
    for (int s = 0; s < 2; s++)
        ok[s] = update_slot_verify_signed(u->slot[s], &k, u->board, f.arb,
                                          &info[s], u->work, why[s],
                                          sizeof(why[s])) == UPD_VERIFIED;
    if (!ok[r])
        return fail(u, UPD_R_NONE, -EPERM,
                    "the running slot %c does not verify: %s", slot_name(r),
                    why[r]);
    memset(&bc, 0, sizeof(bc));
    bc.primary = (uint8_t)r;
    bc.tries_max = BOOTCTL_TRIES_DEFAULT;
    bc.arb = f.arb > info[r].counter ? f.arb : info[r].counter;
    for (int s = 0; s < 2; s++) {
        struct bc_slot *x = &bc.slot[s];

        if (s != r && !ok[s])
            continue; /* EMPTY: nothing that verifies there */
        upd_slot_set(&bc, s, s == r ? SLOT_GOOD : SLOT_BAD, UPD_R_RECOVERED);
        x->version = info[s].version;
        x->counter = info[s].counter;
        x->payload_size = info[s].payload_size;
        x->manifest_len = info[s].manifest_len;
        memcpy(x->manifest_hash, info[s].manifest_hash, 32);
    }
    bootctl_encode(&bc, kb);
    f.arb = bc.arb;
    upd_floor_encode(&f, fb);
    rc = 0;
    if (marker != NULL)
        rc = sec_add(p, sizeof(p), &n, CTL_TAG_ID, marker, mlen);
    if (rc == 0)
        rc = sec_add(p, sizeof(p), &n, CTL_TAG_BOOT, kb, sizeof(kb));
    if (rc == 0)
        rc = sec_add(p, sizeof(p), &n, CTL_TAG_TRUST, fb, sizeof(fb));
    if (rc != 0)
        return fail(u, UPD_R_NONE, rc, "control block payload too large");
    /* One write with every section: a cut leaves the damaged block or
     * the rebuilt one, never a half-built one that reads as blank. */
    rc = ctl_write(u->ctl, p, n);
    if (rc == 0)
        rc = ctl_mount(u->ctl, u->ctl->f);
    if (rc == 0) {
        struct bootctl back;

        rc = bootctl_load(u->ctl, &back);
        if (rc == 0 && (back.primary != r || back.arb != bc.arb))
            rc = -EIO;
    }
    if (rc != 0)
        return fail(u, UPD_R_NONE, -EIO,
                    "writing the rebuilt control block failed: %s",
                    strerror(-rc));
    (void)upd_floor_raise(u->ctl, u->st, &f);
    {
        struct bootctl none;

        memset(&none, 0, sizeof(none));
        upd_audit_bootctl(u->audit, &none, &bc);
    }
    return 0;
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
    upd_slot_set(&bc, r, SLOT_GOOD, UPD_R_CONFIRMED);
    bc.primary = (uint8_t)r;
    if (bc.slot[r].counter > bc.arb)
        bc.arb = bc.slot[r].counter;
    rc = save_bc(u, &saved, &bc);
    if (rc != 0)
        return fail(u, UPD_R_NONE, -EIO,
                    "writing boot control failed: the trial is "
                    "NOT confirmed");
    /* Confirmed.  The counter's other homes follow (boot control's own
     * copy is the one that counts until they do). */
    {
        struct upd_floor f = {.arb = bc.arb};

        if (upd_floor_raise(u->ctl, u->st, &f) != 0)
            return fail(u, UPD_R_NONE, -EIO,
                        "slot %c confirmed, but the trust floor could not "
                        "be written (it is raised again at the next start)",
                        slot_name(r));
    }
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
    upd_slot_set(&bc, r, SLOT_BAD, UPD_R_ROLLED_BACK);
    bc.primary = (uint8_t)(1 - r);
    rc = save_bc(u, &saved, &bc);
    if (rc != 0)
        return fail(u, UPD_R_NONE, -EIO,
                    "writing boot control failed; nothing changed");
    return 0;
}

int
update_running_checkpoint(struct update *u, uint8_t out[UPD_CHECKPOINT_LEN],
                          uint8_t *net)
{
    struct upd_keyring k;
    struct upd_floor f;
    struct upd_slot_info info;
    struct upd_manifest m;
    const char *why;
    char w[160];
    int r = u->running, rc;

    if (r < 0 || r > 1)
        return tell(u, UPD_R_NONE, -EINVAL, "not running from a slot");
    if ((rc = update_keyring(u, &k)) != 0)
        return rc;
    rc = update_floor_sync(u, &f);
    if (rc != 0 && rc != -EBADMSG)
        return tell(u, UPD_R_NONE, rc, "cannot read the trust floor");
    if (update_slot_verify_signed(u->slot[r], &k, u->board, f.arb, &info,
                                  u->work, w, sizeof(w)) != UPD_VERIFIED)
        return tell(u, UPD_R_NONE, -EPERM,
                    "the running slot %c does not verify: %s", slot_name(r), w);
    /* the manifest the check just hashed and verified, in u->work */
    rc = upd_manifest_decode(u->work->man, info.manifest_len, &m, &why);
    if (rc != 0)
        return tell(u, UPD_R_NONE, -EBADMSG, "the running manifest: %s", why);
    if (m.checkpoint == NULL)
        return -ENOENT;
    memcpy(out, m.checkpoint, UPD_CHECKPOINT_LEN);
    *net = m.checkpoint_net;
    return 0;
}
