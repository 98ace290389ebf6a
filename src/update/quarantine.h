/*
 * update/quarantine.h - bundles this node refuses to fetch, serve or
 * install, by manifest hash (issue #17).
 *
 * The list is one store record (UPD_QUAR_KEY), so it survives reboots
 * and is replaced atomically.  Record (docs/FORMAT.md "Quarantine
 * list"), little-endian: "QRN1", u8 count (<= UPD_QUAR_MAX), u8 0; then
 * per entry: manifest hash (32), i64 when (Unix seconds, 0: clock
 * unset), u8 automatic (0 / 1), u8 reason length R (<= UPD_QUAR_REASON),
 * R bytes of printable reason.  Decode refuses anything else.
 *
 * A damaged record fails closed: upd_quar_check() says -EBADMSG and the
 * callers refuse, until `update quarantine release` rewrites the list.
 * Memory: struct upd_quar is about 2.2 KiB, the caller's.
 */
#ifndef UPDATE_QUARANTINE_H
#define UPDATE_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define UPD_QUAR_KEY "upd.quarantine"
#define UPD_QUAR_MAX 16
#define UPD_QUAR_REASON 96
#define UPD_QUAR_REC_MAX (6 + UPD_QUAR_MAX * (42 + UPD_QUAR_REASON))

struct upd_quar_entry {
    uint8_t hash[32];
    int64_t when;
    uint8_t automatic;
    char reason[UPD_QUAR_REASON + 1];
};

struct upd_quar {
    unsigned n;
    struct upd_quar_entry e[UPD_QUAR_MAX];
};

/* Encode: the record's length.  Decode: 0 or -EBADMSG. */
size_t upd_quar_encode(const struct upd_quar *q, uint8_t *out);
int upd_quar_decode(const uint8_t *p, size_t len, struct upd_quar *q);

/* The list from st (missing: empty, 0), or -EBADMSG / -EIO. */
int upd_quar_load(struct store *st, struct upd_quar *q);
/* Index of hash in q, or -ENOENT. */
int upd_quar_find(const struct upd_quar *q, const uint8_t hash[32]);
/* 1 when hash is quarantined, 0 when not, < 0 when the list cannot be
 * read (callers refuse: fail closed). */
int upd_quar_check(struct store *st, const uint8_t hash[32]);
/* Add (or update the reason of) hash; reason is cut to UPD_QUAR_REASON
 * printable bytes.  0, -ENOSPC (list full), or a store error.  A
 * damaged list is replaced by one holding this entry. */
int upd_quar_add(struct store *st, const uint8_t hash[32], const char *reason,
                 int automatic, int64_t when);
/* Remove hash: 0, -ENOENT, or a store error.  A damaged list is
 * rewritten empty (-ENOENT is then not reported). */
int upd_quar_release(struct store *st, const uint8_t hash[32]);

#endif
