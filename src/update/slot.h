/*
 * update/slot.h - one home for an update slot: its header's bytes, the
 * payload's place, checking what a slot holds, and every change of a
 * slot's state in boot control.
 *
 * keel-boot links this (with bootctl, format and floor), not the
 * installer.  The byte layout is in docs/FORMAT.md ("Slot layout"); the
 * golden vector tests/vectors/update/slot-header.bin pins it.
 *
 * Memory: the checks read a manifest and one chunk at a time into a
 * caller-allocated struct upd_work (at most 201 KiB); nothing here is
 * static.
 */
#ifndef UPDATE_SLOT_H
#define UPDATE_SLOT_H

#include "keel_opts.h"

#include <stddef.h>
#include <stdint.h>

#include "hal/flash.h"
#include "update/bootctl.h"
#include "update/format.h"

/* A slot (docs/FORMAT.md): a slot header in the first UPD_SLOT_HDR
 * bytes, the manifest at UPD_SLOT_HDR, the payload from the next
 * boundary of max(UPD_SLOT_HDR, the erase block) after the manifest. */

#define UPD_SLOT_HDR 4096

/* The payload's offset in a slot with erase blocks of erase_size bytes
 * that holds a manifest of manifest_len (<= UPD_MANIFEST_MAX) bytes. */
uint32_t upd_slot_payload_off(uint32_t erase_size, uint32_t manifest_len);

/* 1 when a bundle with a manifest of manifest_len bytes and a payload of
 * payload_size bytes fits a slot of slot_size bytes, else 0.  The device
 * installs by this rule, and keel-bundle checks it at the desk. */
int upd_slot_fits(uint64_t slot_size, uint32_t erase_size,
                  uint32_t manifest_len, uint64_t payload_size);

/* The slot header: UPD_SLOT_HDR_LEN bytes at offset 0 of a slot, then
 * the bundle's signature blocks (sigs_len bytes, 0 in slots written
 * before they were kept) at UPD_SLOT_SIGS_OFF; the manifest is at 4 KiB
 * and the payload at payload_off.  Decode checks the magic, the CRC,
 * the zero bytes and the lengths' ranges (-EBADMSG); whether
 * payload_off fits the slot's geometry is the caller's to check. */
#define UPD_SLOT_HDR_LEN 32
#define UPD_SLOT_SIGS_OFF UPD_SLOT_HDR_LEN
#define UPD_SLOT_SIGS_MAX (UPD_SIGS_MAX * UPD_SIG_LEN)

struct upd_slot_hdr {
    uint32_t manifest_len, payload_off, sigs_len;
    uint64_t payload_size;
};

void upd_slot_hdr_encode(const struct upd_slot_hdr *h,
                         uint8_t out[UPD_SLOT_HDR_LEN]);
int upd_slot_hdr_decode(const uint8_t p[UPD_SLOT_HDR_LEN],
                        struct upd_slot_hdr *h, const char **why);

/* The payload's offset in slot f for a manifest of manifest_len bytes. */
uint32_t upd_slot_payload_off_in(const struct hal_flash *f,
                                 uint32_t manifest_len);

/* Buffers for reading a slot or a bundle: one chunk, one manifest, the
 * signature blocks; and the keyrings an install compares. */
struct upd_work {
    uint8_t chunk[UPD_CHUNK_BUF];
    uint8_t man[UPD_MANIFEST_MAX];
    uint8_t sigraw[UPD_SIGS_MAX * UPD_SIG_LEN];
    struct upd_sig sigs[UPD_SIGS_MAX];
    struct upd_keyring cur, next;
    uint8_t kr[UPD_KEYRING_MAX + 1];
};

/* The verdict of a slot check that passed: a value no error code and no
 * accident equals; compare with ==, and check again right before the
 * irreversible step (STYLE rule 3). */
#define UPD_VERIFIED 0x5a3c96e1

/* Verify the contents of a slot against its record in boot control:
 * the slot header, the manifest's hash, then every chunk.  Returns
 * UPD_VERIFIED, or -EBADMSG / -EIO with why set. */
int update_slot_verify(const struct hal_flash *slot, const struct bc_slot *bs,
                       struct upd_work *w, char *why, size_t wcap);

struct upd_slot_info {
    struct upd_version version;
    uint64_t counter, payload_size;
    uint32_t manifest_len;
    uint8_t manifest_hash[32];
};

/* Verify a slot on its own, without boot control (keel-boot, when boot
 * control cannot be read): the slot header; the manifest; at least
 * k->threshold valid signatures by distinct keys of k over the
 * manifest's SHA-256 (the blocks kept in the slot header; others do not
 * count); board among the manifest's boards; every chunk; and the
 * security counter not below floor.  The keyring's expiry is not
 * checked: the slot was installed while it held, and stage 1 has no
 * clock to trust.  Returns UPD_VERIFIED with *info set, or
 * -EBADMSG (header, manifest or a chunk), -ENODATA (no signatures kept:
 * written by an older build), -EPERM (signatures), -ENODEV (board),
 * -ESTALE (counter below floor), -EIO; why says which. */
int update_slot_verify_signed(const struct hal_flash *slot,
                              const struct upd_keyring *k, const char *board,
                              uint64_t floor, struct upd_slot_info *info,
                              struct upd_work *w, char *why, size_t wcap);

/* The one way a slot's state changes in boot control: state, the
 * reason it is in it (enum upd_reason, audit.h), and its tries, by one
 * rule: READY gets tries_max, TRIAL spends one, every other state holds
 * none. */
void upd_slot_set(struct bootctl *bc, int s, enum slot_state state, int reason);

#endif
