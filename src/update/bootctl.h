/*
 * update/bootctl.h - boot control: which slot holds what, which one to
 * boot, trial counting and the anti-rollback counter.
 *
 * Kept as the control block's CTL_TAG_BOOT section (two copies, CRC,
 * sequence number, read back), so every change below is one atomic
 * write: a cut leaves the old record or the new one.  keel-boot and the
 * node share these functions; docs/FORMAT.md gives the bytes.
 *
 * Slot states:
 *   EMPTY       nothing installed
 *   INSTALLING  being written: never bootable
 *   READY       written and verified; will be tried on the next boot
 *   TRIAL       booted on trial; tries counts what is left
 *   GOOD        confirmed; bootable
 *   BAD         failed verification or its trial: never booted again
 * Trials are counted only while a slot is READY or TRIAL, so a healthy
 * device that loses power during boot never changes slots.
 */
#ifndef UPDATE_BOOTCTL_H
#define UPDATE_BOOTCTL_H

#include <stdint.h>

#include "store/ctl.h"
#include "update/format.h"

enum slot_state {
    SLOT_EMPTY = 0,
    SLOT_INSTALLING,
    SLOT_READY,
    SLOT_TRIAL,
    SLOT_GOOD,
    SLOT_BAD,
};

#define BOOTCTL_LEN 160
#define BOOTCTL_TRIES_DEFAULT 3
#define BOOTCTL_TRIES_MAX 10
#define BOOTCTL_NONE 0xff

struct bc_slot {
    uint8_t state, tries;
    uint8_t result; /* why it is in this state: enum upd_reason (audit.h) */
    struct upd_version version;
    uint64_t counter, payload_size;
    uint32_t manifest_len;
    uint8_t manifest_hash[32];
};

struct bootctl {
    uint8_t primary;   /* the slot last confirmed, or BOOTCTL_NONE */
    uint8_t tries_max; /* trial boots an update gets */
    uint64_t arb;      /* anti-rollback counter */
    struct bc_slot slot[2];
};

const char *slot_state_name(int state);
char slot_name(int s); /* 'a' or 'b' */

/* Load (an absent section gives the blank record: both slots EMPTY;
 * the counter is raised to the trust floor's, update/floor.h), and save (ctl_put, then read back and compare: -EIO on mismatch). */
int bootctl_load(struct ctl *c, struct bootctl *bc);
int bootctl_save(struct ctl *c, const struct bootctl *bc);

void bootctl_encode(const struct bootctl *bc, uint8_t out[BOOTCTL_LEN]);
int bootctl_decode(const uint8_t *p, size_t len, struct bootctl *bc);

/* A slot may boot: GOOD, READY or TRIAL, and not below the
 * anti-rollback counter. */
int bootctl_bootable(const struct bootctl *bc, int s);

#endif
