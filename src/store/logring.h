/*
 * store/logring.h - the persistent log: a ring of checksummed records
 * in the `log` partition, oldest out first, that survives reboots and
 * power cuts (docs/FORMAT.md "Log ring", docs/STORE.md).
 *
 * The partition is a ring of sectors (one erase block, or several up to
 * 4 KiB).  A sector starts with a header (magic, the sector's sequence
 * number, CRC) programmed once after its erase; records follow, each
 * programmed once, padded to the program unit:
 *   u32 CRC-32C of the rest, u32 record sequence, u32 boot number,
 *   u32 time (Unix seconds, 0: clock unset), u16 text length, u8
 *   severity, u8 0, then the text (at most LOG_TEXT_MAX bytes).
 * Appending to a full sector opens the next one, erasing the oldest.
 *
 * Power cuts: a record is written with one program and then synced; a
 * torn record fails its CRC and ends its sector's readable records; a
 * torn sector header, or a sector cut during its erase, reads as free
 * and is erased again before use.  A mount never appends to a sector it
 * found (a program cut short may have touched cells that still read
 * erased): the first append after it opens the next sector.  So
 * what mount finds is every record whose append returned 0 and has not
 * been pushed out by the ring, in order, with contiguous sequence
 * numbers (tests/powercut/logcut.c checks this at every flash operation).
 *
 * Nothing allocates; struct logring is the caller's.  Functions return
 * 0 or a negative errno.
 */
#ifndef STORE_LOGRING_H
#define STORE_LOGRING_H

#include <stddef.h>
#include <stdint.h>

#include "hal/flash.h"

#define LOG_TEXT_MAX 480
#define LOG_HDR 20
#define LOG_SECTOR_MIN 4096 /* sectors group erase blocks to this */
#define LOG_SECTORS_MAX 1024
#define LOG_PROG_MAX 512 /* largest program unit (a disk sector) */

enum log_severity { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

struct log_rec {
    uint32_t seq, boot, time;
    uint8_t sev;
    uint16_t len;
    char text[LOG_TEXT_MAX + 1]; /* NUL-terminated copy */
};

struct logring {
    const struct hal_flash *f;
    uint32_t sector_size, nsec;
    int head;          /* the sector being appended to, or -1: none */
    uint32_t head_off; /* where the next record goes in it */
    uint32_t head_sseq;
    uint32_t next_seq;  /* the next record's sequence number */
    uint32_t boot;      /* this boot's number */
    uint32_t last_boot; /* the highest boot number found at mount */
    uint32_t torn;      /* torn records or headers found at mount */
    uint64_t appends, bytes, erases;
    /* one padded record, or a sector header: at most LOG_PROG_MAX, or
     * LOG_HDR + LOG_TEXT_MAX rounded up to a program unit */
    uint8_t buf[LOG_HDR + LOG_TEXT_MAX + 64];
};

/* Scan the partition.  boot 0: this boot is the highest found + 1;
 * else that number (keel-boot passes its own to keel). */
int logring_mount(struct logring *l, const struct hal_flash *f, uint32_t boot);
/* Append one record (text truncated to LOG_TEXT_MAX), synced. */
int logring_append(struct logring *l, int sev, int64_t time, const char *text);
/* Each record, oldest first; fn returns nonzero to stop.  Returns the
 * number visited or an error. */
int logring_walk(struct logring *l,
                 int (*fn)(void *arg, const struct log_rec *r), void *arg);
/* Erase every sector (the boot number goes on). */
int logring_clear(struct logring *l);
/* Decode one record from bytes read off flash (untrusted): its padded
 * length, 0 for erased space, -EBADMSG for a damaged record. */
int logring_decode(const uint8_t *p, size_t n, uint32_t prog,
                   struct log_rec *r);
const char *logring_sev_name(int sev);

#endif
