/*
 * update/floor.h - the trust floor: the lowest anti-rollback counter and
 * keyring a device may ever go back to.
 *
 * Trust only rises.  The floor names the anti-rollback counter and the
 * version and SHA-256 of the device keyring last accepted.  It is kept in
 * three places: the control block's CTL_TAG_TRUST section (two copies,
 * both rewritten on every raise), boot control's own counter (KBC1), and
 * a mirror in the record store (UPD_KEY_FLOOR).  The floor in force is
 * the maximum of every valid source, so damage to one source, a deleted
 * store key, or a control block that fell back to an older copy cannot
 * take the device back; a source that is present but corrupt is
 * reported (struct upd_floor.damaged), never read as zero.
 *
 * A keyring below the floor (an older version, or the floor's version
 * with other bytes) is refused wherever it comes from: the store, the
 * image, a signed keyring file.  The one way back to a keyring after
 * its record was lost is the exact keyring the floor names
 * (update_keyring_restore() in update.h).
 *
 * Encoding (docs/FORMAT.md), the same in the control block and the
 * store: "KTF1", u32 keyring version, u64 anti-rollback counter, then
 * the keyring's SHA-256: 48 bytes, little-endian.
 */
#ifndef UPDATE_FLOOR_H
#define UPDATE_FLOOR_H

#include <stddef.h>
#include <stdint.h>

#include "store/ctl.h"
#include "store/store.h"

#define UPD_FLOOR_LEN 48
#define UPD_KEY_FLOOR "upd.floor" /* the store's mirror */
#define CTL_TAG_TRUST 3

/* Sources, as bits in upd_floor.damaged and upd_floor.from. */
#define UPD_FLOOR_SRC_CTL 1   /* the control block's trust section */
#define UPD_FLOOR_SRC_BOOT 2  /* boot control's counter */
#define UPD_FLOOR_SRC_STORE 4 /* the store's mirror */

struct upd_floor {
    uint64_t arb;             /* anti-rollback counter */
    uint32_t keyring_version; /* 0: no keyring accepted yet */
    uint8_t keyring_hash[32]; /* of the keyring of that version */
    unsigned from;            /* sources that were read */
    unsigned damaged;         /* sources present but unreadable */
    unsigned behind;          /* valid sources below the maximum */
};

void upd_floor_encode(const struct upd_floor *f, uint8_t out[UPD_FLOOR_LEN]);
/* 0 or -EBADMSG. */
int upd_floor_decode(const uint8_t *p, size_t len, struct upd_floor *f);

/* The floor in force: the maximum over the control block (ctl may be
 * NULL or unmounted: skipped) and the store (st may be NULL).  Always
 * fills *f (zeros when nothing was ever raised); returns 0, or
 * -EBADMSG when a source was damaged (f->damaged says which: the
 * result is still the maximum of the rest). */
int upd_floor_load(struct ctl *ctl, struct store *st, struct upd_floor *f);

/* Raise the floor to at least f (each field only rises; a keyring hash
 * goes with its version): the control block's section first (both
 * copies), then the store's mirror.  0, or the first write's error.  A
 * source found behind is brought up too. */
int upd_floor_raise(struct ctl *ctl, struct store *st,
                    const struct upd_floor *f);

#endif
