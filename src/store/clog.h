/*
 * store/clog.h - the chain log: the tfile as fixed 160-byte records in
 * fixed slots on a flash partition.
 *
 * A slot is the record and a 16-byte trailer (magic, version, type,
 * write sequence, index, CRC-32C): 176 bytes.  Slots live in pages: a
 * page is a slot rounded up to the program unit (176 bytes on 16-byte
 * NOR, so one slot a page and an append programs 1.1 bytes per byte), and
 * where the program unit holds two slots or more (2 KiB NAND pages: 11;
 * 512-byte disk sectors: 2) a batch of records is packed per_page to a
 * page, each page still programmed once, whole.  A single record keeps
 * a page of its own.  Pages are written in order around the partition
 * as a ring; every slot says "record[index] = this" (appends) or "the
 * log now ends at index" (truncation), and the last slot of a batch
 * carries an end mark: a batch counts only once its end mark verifies.
 *
 * A checkpoint (first and end index, the map of runs from index to page,
 * where to resume) is kept in the record store under CLOG_CKPT_KEY every
 * CLOG_CKPT_EVERY slots and on every trim, so a mount reads only the
 * slots written since: mount time does not grow with the chain.
 *
 * After a mount, writing resumes at the next erase block (the rest of
 * the last one may hold a half-programmed page) with a write sequence
 * CLOG_SEQ_GAP ahead, so a torn batch that reads valid later can never
 * be taken for a newer one.  The run map is bounded (CLOG_RUNS_MAX): each
 * mount and each truncation starts a run, and so does a batch of another
 * size than the packed batches before it (batches of one size, and
 * single records, continue a run); trimming drops old runs.  Once three
 * quarters of the map are in use, batches are written a record to a page,
 * which continues a run of single records.  A full map or a full ring is
 * -ENOSPC: trim the log.
 *
 * Memory: struct clog is caller-allocated, at most 7 KiB with the defaults
 * (the run map and one program buffer); no malloc.  Errors as in
 * store.h.
 */
#ifndef STORE_CLOG_H
#define STORE_CLOG_H

#include "keel_opts.h"

#include <stdint.h>

#include "hal/flash.h"
#include "store/store.h"

#define CLOG_REC 160
#define CLOG_SLOT_RAW 176
#define CLOG_BATCH_MAX 60000
#define CLOG_SEQ_GAP 65536
#define CLOG_CKPT_KEY "clog.ckpt"
#define CLOG_BUF 4096 /* bytes programmed per call at most; the largest page */

/* Records [index, index + count) from page on, per to a page, written in
 * batches of blen records, each batch from a fresh page (blen is per
 * when batches fill their pages: then the pages simply follow). */
struct clog_run {
    uint32_t index, page, count, per, blen;
};

struct clog {
    const struct hal_flash *f;
    struct store *st;
    uint32_t page_size; /* a slot rounded up to the program unit */
    uint32_t per_page;  /* slots a page holds (1 where it holds one) */
    uint32_t per_seg;   /* pages in an erase block */
    uint32_t nsegs, npages;
    uint32_t first, end; /* records [first, end) are in the log */
    uint32_t wpage;      /* next page to program */
    uint32_t wseq;       /* next write sequence */
    int fresh;           /* skip to the next erase block first */
    uint32_t since_ckpt; /* slots written since the last checkpoint */
    uint32_t nruns;
    struct clog_run runs[CLOG_RUNS_MAX];
    uint32_t scanned; /* slots read by the last mount */
    uint32_t bad;     /* slots that failed to verify when read */
    uint32_t holes;   /* unreadable slots inside batches, found at mount */
    /* Slots at the end of what was written that did not commit, found at
     * mount: the slots read of a batch without its end mark, plus one
     * when the scan stopped at a slot that is programmed but fails its
     * check.  Nonzero after a torn write, or when the end of the log is
     * damaged; the chain tells the two apart (chain_open). */
    uint32_t tail_torn;
    uint32_t ckpt_failed; /* checkpoint writes that failed (store full) */
    int batch_active;     /* a clog_batch_begin() is open */
    uint32_t batch_index, batch_total, batch_done, batch_per;
    uint32_t batch_page, batch_pages; /* where it starts, pages written */
    uint32_t queued; /* slots in buf not programmed yet (an open batch) */
    uint8_t rbuf[CLOG_SLOT_RAW];
    uint8_t buf[CLOG_BUF];
};

/* Mount the log on f with its checkpoint in st (mounted). */
int clog_mount(struct clog *l, const struct hal_flash *f, struct store *st);

/* Append n records (n * CLOG_REC bytes) at the end: all or none.  Once
 * the records are on flash the append has succeeded: a checkpoint that
 * cannot be written then is only counted (ckpt_failed).  -ENOSPC: the
 * ring or the run map is full (trim). */
int clog_append(struct clog *l, const uint8_t *recs, uint32_t n);

/* A batch written in pieces that replaces records index.. with total
 * new ones, all or none: before the last piece's end mark verifies, the
 * log (in RAM and after any cut) is what it was; after it, records
 * [index, index + total) are the new ones and the log ends there.  This
 * is how a reorg replaces a branch longer than a RAM buffer atomically.
 * begin: 0, -EINVAL (index outside [first, end]), -ENOSPC (the ring or
 * run map cannot take it: trim first; nothing written), -EBUSY.  put:
 * pieces in order, n records each; 0 or an error (the batch is
 * abandoned and the log stays as before).  abort: give up (what was
 * written is never read).  Other writes are -EBUSY while it is open. */
int clog_batch_begin(struct clog *l, uint32_t index, uint32_t total);
int clog_batch_put(struct clog *l, const uint8_t *recs, uint32_t n);
void clog_batch_abort(struct clog *l);

/* Records a batch may take without a trim: the pages before the oldest
 * live record's erase block, packed as a batch would pack them. */
uint32_t clog_room(const struct clog *l);

/* Forget every record: the log is empty from index 0, by one checkpoint
 * (all that was written lies below its sequence number). */
int clog_reset(struct clog *l);

/* Read record index into out[CLOG_REC].  -ENOENT outside [first, end),
 * -EBADMSG when its slot no longer verifies. */
int clog_read(struct clog *l, uint32_t index, uint8_t *out);

/* Drop records index.. (index >= first): one truncation slot. */
int clog_truncate(struct clog *l, uint32_t index);

/* Drop records before index, keeping [index, end); frees their slots for
 * reuse once the checkpoint that records it is committed. */
int clog_trim(struct clog *l, uint32_t index);

/* Write the checkpoint now. */
int clog_checkpoint(struct clog *l);

/* Where record index's slot is: its byte offset in the partition (for
 * tools and tests that damage or list slots).  0, or -ENOENT when the
 * run map has no such record. */
int clog_locate(const struct clog *l, uint32_t index, uint64_t *off);

#endif
