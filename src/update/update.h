/*
 * update/update.h - installing a bundle into the inactive slot, checking
 * a slot, confirming and rolling back.
 *
 * update_install() takes the bundle as a byte stream (a file on the sim
 * board now; YMODEM and peers later feed the same function) and, in
 * this order:
 *  1. reads and checks the header, manifest and signatures against the
 *     device keyring (k valid signatures of k distinct listed keys; a
 *     new keyring in the manifest also needs its own threshold and a
 *     higher version), the board, the version (not older than the
 *     running slot's) and the security counter (not below the
 *     anti-rollback counter) -- before the inactive slot is touched;
 *  2. marks the slot INSTALLING, then streams the payload one chunk at a
 *     time: hash, compare with the manifest, and only then write it
 *     (erase and program on a RAW partition; one write over the old
 *     bytes on a BLOCK partition, hal/flash.h) - a bad chunk stops the
 *     install with nothing after it written;
 *  3. writes the manifest into the slot, then the slot header with the
 *     signature blocks; syncs the slot once (what makes a BLOCK
 *     partition's writes durable), re-reads the whole slot and checks
 *     every chunk again;
 *  4. stores a new keyring if the bundle carried one, and marks the
 *     slot READY for a trial boot.
 * A bundle whose manifest hash is on the quarantine list
 * (update/quarantine.h) is refused in step 1 (reason quarantined), as
 * is every bundle while that list cannot be read.
 * Any failure after step 1 leaves the slot BAD; the running slot is
 * never written.  One chunk of payload is in RAM at a time
 * (UPD_CHUNK_BUF at most).
 *
 * Memory: struct update is caller-allocated, at most 2 KiB, and points
 * at the caller's struct upd_work (slot.h) and struct upd_audit (at
 * most 5 KiB, audit.h); nothing is static.
 *
 * Slot layout (docs/FORMAT.md, upd_slot_hdr and upd_slot_payload_off()
 * in format.h): a 4 KiB slot header naming the manifest length and
 * payload offset and holding the bundle's signature blocks, the manifest
 * at 4 KiB, the payload at the next 4 KiB (or erase block) boundary
 * after it.
 */
#ifndef UPDATE_UPDATE_H
#define UPDATE_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "hal/flash.h"
#include "store/ctl.h"
#include "store/store.h"
#include "update/audit.h"
#include "update/bootctl.h"
#include "update/floor.h"
#include "update/format.h"
#include "update/slot.h"

#define UPD_CHUNK_BUF (128u * 1024)   /* largest chunk this device takes */
#define UPD_KEY_KEYRING "upd.keyring" /* the device keyring (store) */
#define UPD_SKEW_S 86400              /* clock skew allowed on expiry */
#define UPD_CLOCK_SANE 1577836800     /* 2020-01-01: before it, "unset" */

struct upd_src {
    /* Read up to len bytes; returns the count (0 at the end) or < 0. */
    int (*read)(void *arg, void *buf, size_t len);
    void *arg;
};

struct upd_progress {
    uint64_t done, total;
};

struct update {
    struct store *st;
    struct ctl *ctl;
    const struct hal_flash *slot[2];
    const char *board;
    int running; /* the slot this node runs from, or -1 (not under
                    keel-boot) */
    /* Called after every chunk; returns nonzero to cancel. */
    int (*progress)(void *arg, const struct upd_progress *p);
    void *progress_arg;
    char why[200];            /* reason of the last failure, in words */
    int reason;               /* and as a code: enum upd_reason (audit.h) */
    struct upd_audit *audit;  /* counts and logs events; may be NULL */
    struct upd_work *work;    /* the caller's buffers (update/slot.h) */
    uint32_t keyring_version; /* of the keyring last read */
    int restored;             /* the last keyring file restored a lost one */
    struct upd_manifest man;
    uint8_t man_hash[32];
    /* An install whose chunks arrive in any order (update_ra_*). */
    struct upd_ra {
        int active, t;
        uint32_t po;     /* payload offset in the slot */
        uint32_t unit;   /* chunks per erase unit (RAW) */
        uint32_t have_n; /* chunks in the slot, verified */
        uint32_t kept;   /* of them, kept from before by begin */
        struct upd_header hd;
        uint8_t have[(UPD_CHUNKS_MAX + 7) / 8];  /* chunk i verified */
        uint8_t ready[(UPD_CHUNKS_MAX + 7) / 8]; /* unit k erased or kept */
    } ra;
};

/* Install a bundle.  Returns the slot written (0 or 1), or a negative
 * errno with u->why set: -EPERM (signatures, keyring), -EINVAL
 * (malformed), -E2BIG (over a limit), -ESTALE (downgrade), -ENODEV
 * (wrong board), -EBADMSG (a chunk's hash), -ECANCELED, -EBUSY (a trial
 * is pending), -EIO (flash). */
int update_install(struct update *u, const struct upd_src *src);

/* An install whose chunks arrive in any order, from several sources (a
 * fetch from peers, node/p2p.h).  The same checks and the same slot as
 * update_install(), in three steps:
 *
 * update_ra_begin(): src gives the header, manifest and signatures only
 * (step 1 of update_install(), every check before the slot is touched).
 * The slot becomes INSTALLING.  When boot control already says the
 * target slot is INSTALLING this very manifest (a fetch cut by a power
 * cut or a reboot), or BAD with it (a fetch whose sources went away, a
 * slot found corrupt), every chunk in the slot is hashed again and
 * those that match are kept (u->ra.have, u->ra.kept) - on RAW flash
 * only whole erase units whose every chunk matches; any other unit is
 * erased again before its first chunk is written.  Returns the slot (0
 * or 1) or a refusal as update_install() does.
 *
 * update_ra_put(): chunk i (len bytes at p, with room for padding to the
 * program unit up to the chunk size) is hashed against the signed
 * manifest and only then written at its place in the slot (its erase
 * unit is erased first on RAW flash, once).  0 (also for a chunk already
 * held); -EBADMSG when the hash does not match (nothing written, the
 * install goes on: ask another source); -EINVAL (not a chunk of it);
 * -EIO on a flash error (the slot is marked BAD, the install is over).
 *
 * update_ra_end(): every chunk held: the manifest and slot header are
 * written, the slot synced, read back and checked whole, a new keyring
 * stored, and the slot marked READY.  Returns the slot or an error (the
 * slot BAD).  update_ra_stop(): give up (reason UPD_R_TRUNCATED or
 * UPD_R_CANCELLED): the slot is marked BAD with that reason, its
 * verified chunks stay for the next begin.
 *
 * Boot control is read again before every write of it: an operator's
 * confirm meanwhile stays; a target slot changed under the install ends
 * it (-ESTALE).  Nothing is kept in RAM that flash does not also say:
 * after a power cut, begin finds the verified chunks by their hashes. */
int update_ra_begin(struct update *u, const struct upd_src *src);
int update_ra_put(struct update *u, uint32_t i, uint8_t *p, uint32_t len);
int update_ra_end(struct update *u);
void update_ra_stop(struct update *u, int reason);

static inline int
update_ra_has(const struct update *u, uint32_t i)
{
    return (u->ra.have[i / 8] >> (i % 8)) & 1;
}

/* Rebuild a control block whose two copies are both corrupt (ctl_mount
 * gave -EBADMSG), from what can be verified, by an operator's decision
 * (`update recover --force`): the running slot must verify by its own
 * signatures against the device keyring and the store's trust floor
 * (update_slot_verify_signed); it becomes GOOD and primary, the other
 * slot BAD (it may have been a failed trial: it is never booted again
 * unreinstalled), both with result `recovered`; the anti-rollback
 * counter is the highest of the floor and the running slot's counter;
 * marker (NULL, or mlen bytes) is the identity's section.  One control-
 * block write with every section, read back.  0, or with u->why set:
 * -EINVAL (not running from a slot), -EPERM / -EBADMSG / -ESTALE (the
 * running slot does not verify), -ENOKEY (no keyring), -EIO. */
int update_bootctl_rebuild(struct update *u, const uint8_t *marker,
                           size_t mlen);

/* The running slot's trial passed: it becomes GOOD and primary, the
 * anti-rollback counter rises to its counter; one atomic write, read
 * back. */
int update_confirm(struct update *u);

/* Mark the running slot BAD so keel-boot boots the other.  -ENOENT when
 * the other slot cannot boot (nothing to fall back to). */
int update_rollback(struct update *u);

/* The device keyring, from the store.  Refused (reason
 * UPD_R_KEYRING_ROLLBACK, not counted: callers count) when missing or
 * below the trust floor while the device trusted one (update/floor.h). */
int update_keyring(struct update *u, struct upd_keyring *k);

/* Bring every home of the trust floor up to the highest (after a cut
 * between writes or a damaged copy) and fill *f with the floor and what
 * was found behind or damaged.  0, or -EBADMSG when a source was
 * damaged (reported; the rest still counts). */
int update_floor_sync(struct update *u, struct upd_floor *f);

/* Rotate the device keyring to the one in a signed keyring file
 * (upd_skr_decode): a higher version, signed by the current keyring's
 * threshold and by its own; stored and read back, and the trust floor
 * raised.  When the stored keyring was lost or is below the floor, the
 * file may instead restore exactly the keyring the floor names (signed
 * by its own threshold; u->restored is set).  An expired current
 * keyring may still be rotated (that is how one recovers from expiry).
 * 0, or -EPERM / -EINVAL / -EIO with u->why set. */
int update_keyring_rotate(struct update *u, const uint8_t *p, size_t len);

/* The chain checkpoint signed into the running slot's manifest
 * (FORMAT.md): the slot is verified by its own signatures against the
 * device keyring and the trust floor first (every chunk re-hashed), so
 * the checkpoint is as trusted as the firmware.  0 with the 72 bytes in
 * out and the network in *net (UPD_NET_*); -ENOENT when the manifest
 * carries none; -EINVAL (not running from a slot), -EPERM (the slot
 * does not verify) or a keyring error, with u->why set.  Reads the
 * whole slot: for a device with no chain yet, once. */
int update_running_checkpoint(struct update *u, uint8_t out[UPD_CHECKPOINT_LEN],
                              uint8_t *net);

/* Store the image's keyring, the len bytes of its keyring file at p
 * (called name in messages), when the store holds none yet (first boot
 * of an image), and raise the trust floor to it.  A device that trusted
 * a keyring before takes only that very keyring from the image (-EPERM,
 * reason keyring_rollback, u->why set).  0 (stored, or a keyring was
 * there already), -EBADMSG with u->why set when the bytes are not a
 * keyring, or a store error.  The caller reads the file (update/ does
 * no file I/O). */
int update_keyring_seed(struct update *u, const uint8_t *p, size_t len,
                        const char *name);

#endif
