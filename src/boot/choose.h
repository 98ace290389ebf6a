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
#include "update/bootctl.h"

/* Returns the slot to boot (0 or 1) with *trial set when it boots on
 * trial, or -ENOENT / -EIO.  log(arg, msg) hears each decision. */
int boot_choose(struct ctl *ctl, const struct hal_flash *slot[2], int *trial,
                void (*log)(void *arg, const char *msg), void *arg);

/* Slot s, just chosen, verified but its archive does not unpack (why):
 * a failed boot of that slot, not a reason to stop.  A slot on trial is
 * marked BAD with result boot_unpack; a good slot too, but only when
 * the other slot can boot (bootable and verifies), so keel-boot never
 * marks the last bootable slot bad.  Returns 0 when it was marked (call
 * boot_choose again), -ENOENT when it was not (nothing else can boot),
 * -EIO. */
int boot_unpack_failed(struct ctl *ctl, const struct hal_flash *slot[2], int s,
                       const char *why, void (*log)(void *arg, const char *msg),
                       void *arg);

#endif
