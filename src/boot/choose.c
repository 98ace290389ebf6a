/*
 * boot/choose.c - keel-boot's slot choice (see choose.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "boot/choose.h"
#include "lib/le.h"
#include "update/update.h"

static void
say(void (*log)(void *, const char *), void *arg, const char *msg)
{
    if (log != NULL)
        log(arg, msg);
}

int
boot_choose(struct ctl *ctl, const struct hal_flash *slot[2],
            struct upd_work *w, int *trial,
            void (*log)(void *arg, const char *msg), void *arg)
{
    struct bootctl bc;
    char msg[200], why[120];
    int rc = bootctl_load(ctl, &bc);

    *trial = 0;
    if (rc != 0) {
        say(log, arg, "boot control unreadable");
        return -EIO;
    }
    for (int round = 0; round < 4; round++) {
        int t = -1, g = -1;

        for (int s = 0; s < 2; s++)
            if ((bc.slot[s].state == SLOT_READY ||
                 bc.slot[s].state == SLOT_TRIAL) &&
                (t < 0 || bc.slot[s].counter > bc.slot[t].counter))
                t = s;
        if (t >= 0) {
            struct bc_slot *x = &bc.slot[t];

            if (x->tries == 0 || x->counter < bc.arb) {
                int r = x->tries == 0 ? UPD_R_TRIAL_EXHAUSTED
                                      : UPD_R_COUNTER_ROLLBACK;

                snprintf(msg, sizeof(msg),
                         "slot %c: %s, marking it bad (%s) and falling back",
                         slot_name(t),
                         x->tries == 0 ? "trial out of tries"
                                       : "below the anti-rollback counter",
                         upd_reason_name(r));
                say(log, arg, msg);
                upd_slot_set(&bc, t, SLOT_BAD, r);
                if (bootctl_save(ctl, &bc) != 0)
                    return -EIO;
                continue;
            }
            if (update_slot_verify(slot[t], x, w, why, sizeof(why)) !=
                UPD_VERIFIED) {
                snprintf(msg, sizeof(msg),
                         "slot %c fails verification (%s); "
                         "marking it bad (boot_verify)",
                         slot_name(t), why);
                say(log, arg, msg);
                upd_slot_set(&bc, t, SLOT_BAD, UPD_R_BOOT_VERIFY);
                if (bootctl_save(ctl, &bc) != 0)
                    return -EIO;
                continue;
            }
            upd_slot_set(&bc, t, SLOT_TRIAL, UPD_R_TRIAL_BOOT);
            if (bootctl_save(ctl, &bc) != 0) {
                /* Unrecorded trials could loop forever: do not try. */
                say(log, arg,
                    "cannot record the trial count; booting the "
                    "good slot instead");
                if (bootctl_load(ctl, &bc) != 0)
                    return -EIO;
                bc.slot[t].state = SLOT_EMPTY; /* in RAM only: skip it */
            } else {
                snprintf(msg, sizeof(msg),
                         "slot %c on trial, %u tries left after this one",
                         slot_name(t), x->tries);
                say(log, arg, msg);
                *trial = 1;
                return t;
            }
        }
        if (bc.primary != BOOTCTL_NONE &&
            bc.slot[bc.primary].state == SLOT_GOOD &&
            bootctl_bootable(&bc, bc.primary))
            g = bc.primary;
        else if (bc.slot[0].state == SLOT_GOOD && bootctl_bootable(&bc, 0))
            g = 0;
        else if (bc.slot[1].state == SLOT_GOOD && bootctl_bootable(&bc, 1))
            g = 1;
        if (g < 0)
            break;
        if (update_slot_verify(slot[g], &bc.slot[g], w, why, sizeof(why)) !=
            UPD_VERIFIED) {
            snprintf(msg, sizeof(msg),
                     "good slot %c fails verification (%s); marking it bad "
                     "(boot_verify)",
                     slot_name(g), why);
            say(log, arg, msg);
            upd_slot_set(&bc, g, SLOT_BAD, UPD_R_BOOT_VERIFY);
            if (bootctl_save(ctl, &bc) != 0)
                return -EIO;
            continue;
        }
        snprintf(msg, sizeof(msg), "slot %c (good)", slot_name(g));
        say(log, arg, msg);
        return g;
    }
    say(log, arg, "no bootable slot");
    return -ENOENT;
}

int
boot_unpack_failed(struct ctl *ctl, const struct hal_flash *slot[2],
                   struct upd_work *wk, int s, const char *why,
                   void (*log)(void *arg, const char *msg), void *arg)
{
    struct bootctl bc;
    struct bc_slot *x;
    char msg[300], w[120];
    int o = 1 - s;

    if (bootctl_load(ctl, &bc) != 0)
        return -EIO;
    x = &bc.slot[s];
    if (x->state == SLOT_GOOD &&
        (!bootctl_bootable(&bc, o) ||
         update_slot_verify(slot[o], &bc.slot[o], wk, w, sizeof(w)) !=
             UPD_VERIFIED)) {
        snprintf(msg, sizeof(msg),
                 "slot %c: archive does not unpack (%s), and slot %c cannot "
                 "boot: leaving slot %c as it is; nothing to boot",
                 slot_name(s), why, slot_name(o), slot_name(s));
        say(log, arg, msg);
        return -ENOENT;
    }
    snprintf(msg, sizeof(msg),
             "slot %c: archive does not unpack (%s); marking it bad "
             "(boot_unpack)",
             slot_name(s), why);
    say(log, arg, msg);
    upd_slot_set(&bc, s, SLOT_BAD, UPD_R_BOOT_UNPACK);
    if (bc.primary == s) /* as a rollback does */
        bc.primary = bc.slot[o].state == SLOT_GOOD ? (uint8_t)o : BOOTCTL_NONE;
    return bootctl_save(ctl, &bc) != 0 ? -EIO : 0;
}

/* ---- degraded mode ------------------------------------------------- */

int
boot_trust_load(struct store *st, struct boot_trust *t, char *why, size_t wcap)
{
    uint8_t b[UPD_KEYRING_MAX]; /* 1.5 KiB, on stage 1's stack */
    struct upd_floor f;
    uint8_t h[32];
    const char *w;
    int n, kl;

    memset(t, 0, sizeof(*t));
    n = store_get(st, UPD_KEY_KEYRING, b, sizeof(b));
    if (n == -ENOENT) {
        snprintf(why, wcap, "no keyring in the store");
        return -ENOKEY;
    }
    if (n < 0) {
        snprintf(why, wcap, "keyring unreadable from the store: %s",
                 strerror(-n));
        return n == -EIO ? -EIO : -EBADMSG;
    }
    kl = n;
    if (upd_keyring_decode(b, (size_t)kl, &t->keyring, &w) != 0) {
        snprintf(why, wcap, "stored keyring is invalid: %s", w);
        return -EBADMSG;
    }
    /* The store's mirror of the trust floor (update/floor.h): the
     * control block's copies are what is lost here. */
    n = upd_floor_load(NULL, st, &f);
    if (n != 0) {
        snprintf(why, wcap, "%s unreadable: the trust floor is unknown",
                 UPD_KEY_FLOOR);
        return -EBADMSG;
    }
    t->arb_floor = f.arb;
    t->keyring_floor = f.keyring_version;
    crypto_sha256(b, (size_t)kl, h);
    if (t->keyring.version < f.keyring_version ||
        (t->keyring.version == f.keyring_version && f.keyring_version > 0 &&
         crypto_ct_diff(h, f.keyring_hash, 32) != 0)) {
        snprintf(why, wcap,
                 "stored keyring version %" PRIu32
                 " is below or other than the trusted version %" PRIu32
                 " (rolled back?)",
                 t->keyring.version, f.keyring_version);
        return -EBADMSG;
    }
    return 0;
}

int
boot_choose_degraded(const struct hal_flash *slot[2], struct upd_work *w,
                     const struct boot_trust *t, const char *board,
                     const int skip[2], void (*log)(void *arg, const char *msg),
                     void *arg)
{
    struct upd_slot_info info[2];
    char msg[300], why[120];
    int ok[2] = {0, 0}, best = -1;

    for (int s = 0; s < 2; s++) {
        int v;

        if (skip[s]) {
            snprintf(msg, sizeof(msg), "slot %c: failed in this run; skipped",
                     slot_name(s));
            say(log, arg, msg);
            continue;
        }
        v = update_slot_verify_signed(slot[s], &t->keyring, board, t->arb_floor,
                                      &info[s], w, why, sizeof(why));
        ok[s] = v == UPD_VERIFIED;
        if (ok[s])
            snprintf(msg, sizeof(msg),
                     "slot %c verifies: version %" PRIu32 ".%" PRIu32
                     ".%" PRIu32 ", counter %" PRIu64 " (keyring version "
                     "%" PRIu32 ")",
                     slot_name(s), info[s].version.major, info[s].version.minor,
                     info[s].version.patch, info[s].counter,
                     t->keyring.version);
        else
            snprintf(msg, sizeof(msg), "slot %c does not verify: %s",
                     slot_name(s), why);
        say(log, arg, msg);
    }
    for (int s = 0; s < 2; s++) {
        if (!ok[s])
            continue;
        if (best < 0 || info[s].counter > info[best].counter ||
            (info[s].counter == info[best].counter &&
             upd_version_cmp(&info[s].version, &info[best].version) > 0))
            best = s;
    }
    if (best < 0) {
        say(log, arg,
            skip[0] || skip[1]
                ? "no slot left that verifies and has not failed in this run"
                : "no slot verifies against the store's keyring");
        return -ENOENT;
    }
    return best;
}
