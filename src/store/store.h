/*
 * store/store.h - the record store: small keys, values up to 4 KiB,
 * atomic replace and atomic group commit, on raw flash.
 *
 * The partition is cut into sectors (erase blocks, grouped to at least
 * 16 KiB) used as a ring log of CRC'd records; docs/FORMAT.md gives every
 * byte and docs/STORE.md the reasoning.  In short:
 *  - a record holds one or more entries (put or delete); its CRC-32C
 *    covers all of them, so a group commit is one record: all or none;
 *  - a record counts only once it verifies; the newest record for a key
 *    (by sequence number) wins;
 *  - after a mount (or a failed program) nothing is programmed into the
 *    span a torn record could occupy (space that reads erased may be
 *    half-programmed): writing resumes one maximum record further on,
 *    behind a fence record that voids that span for good, so a torn
 *    record that happens to verify on a later boot is never counted;
 *    each new sector also records a floor, the highest sequence number
 *    valid when it was opened, and records in older sectors above it are
 *    ignored;
 *  - compaction copies the live entries of the oldest sector forward,
 *    then writes a retire record naming that sector, and only then
 *    erases it: before the retire record the old sector rules, after it
 *    the copies do;
 *  - a sector whose header is damaged (programmed, and its first record
 *    verifies) is read all the same: the records give its floor and its
 *    place among the sectors back; it is counted (bad_headers) and
 *    store_check() lists it;
 *  - a put that cannot fit, counting worst-case fragmentation and the
 *    spare sector compaction needs, is refused with -ENOSPC up front.
 *
 * Memory: struct store is caller-allocated (at most 36 KiB with the
 * defaults below) and holds the key index and two record buffers;
 * nothing is allocated.  Mount reads every sector once or twice: its
 * time depends on the partition size, not on the history.
 *
 * Errors: -ENOENT (no such key), -EBADMSG (the key's record no longer
 * verifies: counted, never returned as data), -ENOSPC (live data would
 * not fit, or STORE_KEYS_MAX keys), -EINVAL (bad key, value or group),
 * -ENOBUFS (caller's buffer too small), -EIO (the flash failed).
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include "keel_opts.h"

#include <stddef.h>
#include <stdint.h>

#include "hal/flash.h"

#define STORE_KEY_MAX 32       /* bytes in a key: printable, no spaces */
#define STORE_VAL_MAX 4096     /* bytes in a value */
#define STORE_REC_MAX 4416     /* bytes in a record, header included */
#define STORE_GROUP_MAX 16     /* entries in one group commit */
#define STORE_SECTOR_MIN 16384 /* sectors group erase blocks to this */
#define STORE_PROG_MAX 2048    /* largest program unit supported */
#define STORE_RESERVE 2        /* free sectors kept back for compaction */
/* Keys starting with this prefix hold secrets: compaction gives each its
 * own record, so redundant copies of a secret never share one CRC. */
#define STORE_SOLO_PREFIX "sec."
#define STORE_SOLO_LEN 4

struct store_entry {
    const char *key;
    const void *val; /* NULL with del set */
    size_t len;
    int del; /* 1: delete key (it must exist) */
};

struct store_stat {
    uint32_t sectors, sectors_used, sectors_free, sector_size;
    uint64_t live_bytes;     /* as standalone records */
    uint64_t dead_bytes;     /* programmed, superseded or corrupt */
    uint64_t capacity_bytes; /* the most live_bytes may reach */
    uint32_t keys;
    uint32_t erase_min, erase_max;
    uint32_t bad_records; /* found corrupt or torn since mount */
    uint32_t bad_headers; /* sectors found with a damaged header */
    uint32_t compactions; /* since mount */
    uint64_t mount_ms;
};

struct store_sector {
    uint32_t seq;    /* block sequence, when in use */
    uint32_t erases; /* erase count from its header */
    uint32_t floor;
    uint32_t used; /* bytes from the sector start, when in use */
    uint8_t in_use;
    uint8_t hdr_bad; /* its header is damaged, a record verifies behind it:
                        read all the same (mount), listed by store_check()
                        until the sector is retired */
};

struct store_key {
    char key[STORE_KEY_MAX];
    uint8_t klen;
    uint16_t vlen;
    uint16_t sector;
    uint32_t rec_off; /* record offset in the sector */
    uint32_t val_off; /* value offset in the record */
    uint32_t seq;
};

struct store_fence {
    uint32_t sector, from, to; /* records in [from, to) are void */
};

struct store {
    const struct hal_flash *f;
    uint32_t sector_size, nsectors, hdr_size, marker_size;
    struct store_sector sec[STORE_SECTORS_MAX];
    struct store_key keys[STORE_KEYS_MAX];
    uint32_t nkeys;
    int head;             /* sector being written, -1 for none */
    int fresh;            /* 1: open a new sector before the next write;
                           2: fence off the possibly torn span first */
    uint32_t resume_from; /* with fresh 2: end of the last good record */
    struct store_fence fences[STORE_FENCES_MAX];
    uint32_t nfences;
    uint32_t next_seq, next_block_seq;
    uint64_t live_bytes, capacity;
    uint32_t bad_records, compactions;
    uint32_t bad_headers; /* sectors whose header is damaged (store_check) */
    uint64_t mount_ms;
    int ro; /* mounted by store_mount_ro() */
    uint8_t rbuf[STORE_REC_MAX];
    uint8_t wbuf[STORE_REC_MAX + STORE_PROG_MAX];
};

int store_mount(struct store *s, const struct hal_flash *f);
/* Mount without writing anything, ever: a compaction cut before its
 * erase is left as it is (store_mount finishes it), and store_commit,
 * store_put and store_del return -EROFS.  For readers that must leave
 * the flash as they found it (keel-boot). */
int store_mount_ro(struct store *s, const struct hal_flash *f);
int store_get(struct store *s, const char *key, void *buf, size_t cap);
int store_put(struct store *s, const char *key, const void *val, size_t len);
int store_del(struct store *s, const char *key);
int store_commit(struct store *s, const struct store_entry *e, int n);

/* The idx-th live key (0, 1, ...) and its value length; -ENOENT past the
 * end.  Order is unspecified; a write invalidates the numbering. */
int store_key_at(struct store *s, unsigned idx, const char **key, size_t *len);

void store_stat(struct store *s, struct store_stat *st);

/* 1 when the live entries of keys a and b sit in one record (one CRC
 * covers both), 0 when not, -ENOENT when either is absent. */
int store_same_record(struct store *s, const char *a, const char *b);

/* Compact every sector that holds a corrupt or torn record (through
 * the ordinary compaction, oldest first, so the power-cut proofs hold):
 * the live entries are copied forward, the damaged records are gone.
 * What a damaged record held is lost for good -- a key whose newest
 * record was damaged keeps its older value -- so this is an operator's
 * decision after `store check`, not something done behind their back.
 * Returns the sectors compacted (>= 0) or < 0. */
int store_scrub(struct store *s);

/* Read every record of every sector and verify it.  Calls bad() for each
 * corrupt or torn record found (sector, offset) and returns how many
 * there were (0: clean), or -EIO. */
int store_check(struct store *s,
                void (*bad)(void *arg, uint32_t sector, uint32_t off),
                void *arg);

#endif
