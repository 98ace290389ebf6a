/*
 * hal/flash.h - a flash partition: read, program-once, erase, sync.
 *
 * A partition is a window [base, base + size) of a flash device, seen by
 * the code above as offsets from 0.  The contract is that of raw NOR or
 * NAND flash, whichever is stricter:
 *
 *  - erase() sets whole erase blocks to the erased value (0xff on NOR);
 *    off and len are multiples of erase_size.
 *  - prog() writes into bytes that are erased since the last erase, each
 *    program unit at most once; off and len are multiples of prog_size.
 *    Programming a unit twice is a caller bug; backends that can detect
 *    it refuse it with -EINVAL and write nothing.
 *  - read() may read any range inside the partition.
 *  - sync() returns once everything programmed or erased before it is
 *    durable (a no-op on real flash, fdatasync on a file or disk).
 *
 * Every operation returns 0 on success or a negative errno value:
 *   -EINVAL  range or alignment outside the contract (caller bug)
 *   -EIO     the device failed (including a simulated power cut)
 *
 * The wrappers below check range and alignment once, for every backend,
 * so a backend's ops only ever see valid requests.
 *
 * Backends: hal/sim/flash_sim.c (file with NOR rules and fault injection).
 */
#ifndef HAL_FLASH_H
#define HAL_FLASH_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

struct hal_flash;

struct hal_flash_ops {
    int (*read)(const struct hal_flash *f, uint64_t off, void *buf, size_t len);
    int (*prog)(const struct hal_flash *f, uint64_t off, const void *buf,
                size_t len);
    int (*erase)(const struct hal_flash *f, uint64_t off, uint64_t len);
    int (*sync)(const struct hal_flash *f);
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
    if (!hal_flash_range_ok(f, off, len) || off % f->prog_size != 0 ||
        len % f->prog_size != 0)
        return -EINVAL;
    if (len == 0)
        return 0;
    return f->ops->prog(f, off, buf, len);
}

static inline int
hal_flash_erase(const struct hal_flash *f, uint64_t off, uint64_t len)
{
    if (!hal_flash_range_ok(f, off, len) || off % f->erase_size != 0 ||
        len % f->erase_size != 0)
        return -EINVAL;
    if (len == 0)
        return 0;
    return f->ops->erase(f, off, len);
}

static inline int
hal_flash_sync(const struct hal_flash *f)
{
    return f->ops->sync(f);
}

#endif
