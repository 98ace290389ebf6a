/*
 * hal/flash.h - a flash partition: read, program-once, erase, sync; or,
 * on a block device, write and sync.
 *
 * A partition is a window [base, base + size) of a flash device, seen by
 * the code above as offsets from 0.  What may be written there is set by
 * its kind, which the board's layout chooses per partition:
 *
 * HAL_FLASH_RAW (0, the default) - the contract of raw NOR or NAND
 * flash, whichever is stricter.  Every backend offers it, a disk too (it
 * emulates erase).  The record store, chain log, log ring and boot
 * control live on RAW partitions, whatever the device:
 *  - erase() sets whole erase blocks to the erased value (0xff on NOR);
 *    off and len are multiples of erase_size.
 *  - prog() writes into bytes that are erased since the last erase, each
 *    program unit at most once; off and len are multiples of prog_size.
 *    Programming a unit twice is a caller bug; backends that can detect
 *    it refuse it with -EINVAL and write nothing.
 *  - a prog() or erase() that returned 0 is durable: a power cut after
 *    it keeps it (on a disk the backend syncs before it returns).
 *  - write() is refused (-EINVAL).
 *
 * HAL_FLASH_BLOCK - a block device that can be overwritten in place
 * (eMMC, SD, a disk partition, a file), offered for partitions that hold
 * whole images written front to back and checked before use (the update
 * slots).  Nothing is erased and nothing is programmed once:
 *  - write() replaces [off, off + len) whatever it held; off and len are
 *    multiples of prog_size (the sector), which is also the unit a power
 *    cut may tear.
 *  - a write is volatile until sync() returns 0: a power cut before that
 *    may keep any part of any unsynced write, in any order, torn at
 *    sector boundaries or worse; reads meanwhile return the new bytes.
 *  - prog() and erase() are refused (-EINVAL): no record structure
 *    belongs on a partition with these rules.
 *  - erase_size is still the unit the layout and the slot's payload
 *    offset align to.
 *
 * On both kinds read() may read any range inside the partition, and
 * sync() returns once everything written, programmed or erased on the
 * partition before it is durable (fdatasync on a file or disk; on raw
 * flash there is nothing left to do).
 *
 * Every operation returns 0 on success or a negative errno value:
 *   -EINVAL  range, alignment or kind outside the contract (caller bug)
 *   -EIO     the device failed (including a simulated power cut)
 *
 * The wrappers below check range, alignment and kind once, for every
 * backend, so a backend's ops only ever see valid requests.
 *
 * Backends: hal/sim/flash_sim.c (file or memory with NOR rules and fault
 * injection; BLOCK windows with a volatile write cache), hal/linux/blk.c
 * (a file or block device).
 */
#ifndef HAL_FLASH_H
#define HAL_FLASH_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

struct hal_flash;

enum hal_flash_kind {
    HAL_FLASH_RAW = 0, /* program-once, erase before reuse */
    HAL_FLASH_BLOCK,   /* overwrite in place, durable after sync */
};

struct hal_flash_ops {
    int (*read)(const struct hal_flash *f, uint64_t off, void *buf, size_t len);
    int (*prog)(const struct hal_flash *f, uint64_t off, const void *buf,
                size_t len);
    int (*erase)(const struct hal_flash *f, uint64_t off, uint64_t len);
    int (*sync)(const struct hal_flash *f);
    /* BLOCK partitions only; NULL in a backend that has none. */
    int (*write)(const struct hal_flash *f, uint64_t off, const void *buf,
                 size_t len);
};

struct hal_flash {
    const struct hal_flash_ops *ops; /* first field, BearSSL-style */
    void *dev;                       /* backend device, owned elsewhere */
    const char *name;                /* partition name, e.g. "store" */
    uint64_t base;                   /* offset of the partition in dev */
    uint64_t size;                   /* bytes; a multiple of erase_size */
    uint32_t erase_size;             /* bytes per erase block */
    uint32_t prog_size;              /* bytes per program unit */
    uint8_t erased;                  /* value of an erased byte */
    uint8_t kind;                    /* enum hal_flash_kind */
};

static inline int
hal_flash_range_ok(const struct hal_flash *f, uint64_t off, uint64_t len)
{
    return off <= f->size && len <= f->size - off;
}

/* n rounded up to a whole number of program units. */
static inline uint32_t
hal_flash_pad(const struct hal_flash *f, uint32_t n)
{
    return (n + f->prog_size - 1) / f->prog_size * f->prog_size;
}

static inline int
hal_flash_read(const struct hal_flash *f, uint64_t off, void *buf, size_t len)
{
    if (!hal_flash_range_ok(f, off, len))
        return -EINVAL;
    if (len == 0)
        return 0;
    return f->ops->read(f, off, buf, len);
}

static inline int
hal_flash_prog(const struct hal_flash *f, uint64_t off, const void *buf,
               size_t len)
{
    if (f->kind != HAL_FLASH_RAW || !hal_flash_range_ok(f, off, len) ||
        off % f->prog_size != 0 || len % f->prog_size != 0)
        return -EINVAL;
    if (len == 0)
        return 0;
    return f->ops->prog(f, off, buf, len);
}

static inline int
hal_flash_erase(const struct hal_flash *f, uint64_t off, uint64_t len)
{
    if (f->kind != HAL_FLASH_RAW || !hal_flash_range_ok(f, off, len) ||
        off % f->erase_size != 0 || len % f->erase_size != 0)
        return -EINVAL;
    if (len == 0)
        return 0;
    return f->ops->erase(f, off, len);
}

static inline int
hal_flash_write(const struct hal_flash *f, uint64_t off, const void *buf,
                size_t len)
{
    if (f->kind != HAL_FLASH_BLOCK || f->ops->write == NULL ||
        !hal_flash_range_ok(f, off, len) || off % f->prog_size != 0 ||
        len % f->prog_size != 0)
        return -EINVAL;
    if (len == 0)
        return 0;
    return f->ops->write(f, off, buf, len);
}

static inline int
hal_flash_sync(const struct hal_flash *f)
{
    return f->ops->sync(f);
}

/* The ops of a flash that cannot be written (a read-only view: keel-
 * boot's degraded choice, keel-flash inspect): every program, erase and
 * block write is refused with -EROFS; a sync has nothing to do. */
static inline int
hal_flash_refuse_prog(const struct hal_flash *f, uint64_t off, const void *buf,
                      size_t len)
{
    (void)f;
    (void)off;
    (void)buf;
    (void)len;
    return -EROFS;
}

static inline int
hal_flash_refuse_erase(const struct hal_flash *f, uint64_t off, uint64_t len)
{
    (void)f;
    (void)off;
    (void)len;
    return -EROFS;
}

static inline int
hal_flash_no_sync(const struct hal_flash *f)
{
    (void)f;
    return 0;
}

#endif
