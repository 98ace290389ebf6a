/*
 * store/ctl.h - a redundant control block: two copies in separate erase
 * blocks, each with a sequence number and CRC-32C (U-Boot's redundant
 * environment, with read-back).  Boot control lives on it.
 *
 * A write goes to the older (or invalid) copy first, which is erased,
 * programmed and read back: from then on the new value is committed.
 * Then the other copy is written the same way, so that after a
 * completed write both copies hold the value and damage to either one
 * never brings back an older value.  The newest valid copy wins on
 * read, with wrap-safe comparison of the 32-bit sequence numbers.  A cut
 * at any point leaves the old value or the new one.
 *
 * The partition must hold at least two erase blocks; copy 0 is block 0,
 * copy 1 is block 1.  Payloads are at most CTL_PAYLOAD_MAX bytes and at
 * most one erase block less the header.  Memory: struct ctl is
 * caller-allocated, at most 1.2 KiB (one copy's buffer); no malloc.
 */
#ifndef STORE_CTL_H
#define STORE_CTL_H

#include "keel_opts.h"

#include <stddef.h>
#include <stdint.h>

#include "hal/flash.h"

#define CTL_HDR_SIZE 16

struct ctl {
    const struct hal_flash *f;
    uint32_t seq;           /* of the newest valid copy */
    int newest;             /* 0 or 1; -1 when neither copy is valid */
    int valid[2];           /* each copy passed its checks at the last read */
    uint32_t bad;           /* copies found corrupt at mount */
    uint32_t mirror_failed; /* second-copy writes that failed */
    uint8_t buf[CTL_HDR_SIZE + CTL_PAYLOAD_MAX + 16];
};

/* Read both copies.  Returns 0 (at least one valid copy), -ENOENT (none
 * valid, and at least one copy blank: nothing was written, or the first
 * write was cut), -EBADMSG (neither copy valid nor blank: the block was
 * written and is corrupt now), -EINVAL (partition too small), -EIO.
 * After -EBADMSG the block reads as empty, and a write would replace the
 * evidence: callers that write must refuse to. */
int ctl_mount(struct ctl *c, const struct hal_flash *f);

/* Copy the newest payload into buf.  Returns its length, -ENOENT when
 * there is none, -ENOBUFS when cap is too small, -EBADMSG when the copy
 * no longer verifies (bit flip since mount). */
int ctl_read(struct ctl *c, void *buf, size_t cap);

/* Write a new payload to the older copy and read it back, then to the
 * other copy.  Returns 0 once the first copy verified (a failure of the
 * second is counted in mirror_failed), -EINVAL (too long, or its copy
 * padded to the program unit is larger than buf: any payload on a
 * 16-byte unit, up to 1,008 bytes on 512, none on 2 KiB pages), -EIO (the
 * flash failed or the read-back differed; the previous value is still
 * the newest). */
int ctl_write(struct ctl *c, const void *buf, size_t len);

/* Tagged sections.  The payload is a run of sections, each a 4-byte
 * header (tag, 0, length as u16 LE) and its bytes, so independent users
 * (boot control, the identity's marker) share the block: ctl_put()
 * rewrites the whole payload with one section replaced (a cut leaves
 * the old payload or the new one).  Tags: CTL_TAG_ID (the identity
 * marker, src/identity/); 2 is reserved for boot control.
 * ctl_get: the section's length, -ENOENT (no block or no such section),
 * -ENOBUFS, -EBADMSG (sections malformed).  ctl_put: 0, -EINVAL, -ENOSPC,
 * -EBADMSG, or ctl_write()'s errors. */
#define CTL_SEC_HDR 4
#define CTL_TAG_ID 1
#define CTL_TAG_BOOT 2
int ctl_get(struct ctl *c, uint8_t tag, void *buf, size_t cap);
int ctl_put(struct ctl *c, uint8_t tag, const void *val, size_t len);

#endif
