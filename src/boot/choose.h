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

#endif
