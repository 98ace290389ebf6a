/*
 * boot/choose.h - keel-boot's decision: which slot boots now.
 *
 *  1. A slot READY or TRIAL (an update pending): with tries left, its
 *     contents are verified against the manifest hash in boot control,
 *     its count is decremented and written (read back), and it boots;
 *     out of tries, or failing verification, it is marked BAD.
 *  2. Otherwise the primary GOOD slot, then the other GOOD slot, each
 *     verified first (a failure marks it BAD) and never below the
 *     anti-rollback counter.
 *  3. Nothing bootable: -ENOENT.
 * A chosen slot whose archive then does not unpack is a failed boot
 * (boot_unpack_failed), and the choice is made again.
 * Counting happens only in step 1, so power cuts while a confirmed slot
 * boots never change slots.  A slot whose count cannot be recorded is
 * not booted on trial.
 */
#ifndef BOOT_CHOOSE_H
#define BOOT_CHOOSE_H

#include "hal/flash.h"
#include "store/ctl.h"
#include "store/store.h"
#include "update/bootctl.h"
#include "update/format.h"
#include "update/slot.h"

/* Returns the slot to boot (0 or 1) with *trial set when it boots on
 * trial, or -ENOENT / -EIO.  log(arg, msg) hears each decision. */
int boot_choose(struct ctl *ctl, const struct hal_flash *slot[2],
                struct upd_work *w, int *trial,
                void (*log)(void *arg, const char *msg), void *arg);

/* Slot s, just chosen, verified but its archive does not unpack (why):
 * a failed boot of that slot, not a reason to stop.  A slot on trial is
 * marked BAD with result boot_unpack; a good slot too, but only when
 * the other slot can boot (bootable and verifies), so keel-boot never
 * marks the last bootable slot bad.  Returns 0 when it was marked (call
 * boot_choose again), -ENOENT when it was not (nothing else can boot),
 * -EIO. */
int boot_unpack_failed(struct ctl *ctl, const struct hal_flash *slot[2],
                       struct upd_work *w, int s, const char *why,
                       void (*log)(void *arg, const char *msg), void *arg);

/* ---- boot control unreadable: degraded mode -----------------------
 *
 * With both copies of the control block corrupt (ctl_mount -EBADMSG),
 * or a boot control record that does not decode, nothing says which
 * slot is good, on trial or bad.  keel-boot then trusts only what is
 * signed: a slot boots when it verifies on its own
 * (update_slot_verify_signed) against the keyring in the store, for
 * this board, not below the anti-rollback floor the store mirrors.
 * Nothing is written -- not boot control (the evidence stays for the
 * operator), not the store -- and the node is told (KEEL_BOOT_DEGRADED).
 */

struct boot_trust {
    struct upd_keyring keyring;
    uint64_t arb_floor;     /* no slot below this security counter */
    uint32_t keyring_floor; /* the keyring is at least this version */
};

/* Read the keyring (UPD_KEY_KEYRING) and the trust floor's store mirror
 * (UPD_KEY_FLOOR, update/floor.h; all 0 when absent) from a store,
 * mounted read-only by the caller.  0, or with why set: -ENOKEY (no
 * keyring: nothing to verify a slot with), -EBADMSG (keyring or floor
 * record malformed, or the keyring below or other than the floor's),
 * -EIO. */
int boot_trust_load(struct store *st, struct boot_trust *t, char *why,
                    size_t wcap);

/* Among the slots not in skip (skip[s] nonzero: failed in this run)
 * that verify against t for board, the highest security counter, then
 * the highest version (slot a on a tie).  Reads only.  Returns the slot,
 * or -ENOENT when none verifies; log hears each slot's verdict. */
int boot_choose_degraded(const struct hal_flash *slot[2], struct upd_work *w,
                         const struct boot_trust *t, const char *board,
                         const int skip[2],
                         void (*log)(void *arg, const char *msg), void *arg);

#endif
