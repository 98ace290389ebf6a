/*
 * hal/sim/flash_sim.h - a flash device over a file or memory, with the
 * rules of NOR flash enforced and faults injected on request; and, as
 * windows of the same device, block partitions with a volatile write
 * cache.
 *
 * The device is caller-allocated; sim_flash_open() maps the file (or
 * anonymous memory) and allocates one bitmap (one bit per program unit);
 * the first block window allocates its cache bookkeeping; nothing is
 * allocated after that.  Partitions are windows handed out by
 * sim_flash_partition() (HAL_FLASH_RAW) and sim_flash_block_partition()
 * (HAL_FLASH_BLOCK) as struct hal_flash; all share the device and its
 * operation counter.
 *
 * Rules enforced on RAW windows (each refused with -EINVAL, nothing
 * written, counted in stats.refused):
 *  - prog only into program units not touched since their last erase.
 *    A unit counts as touched once any prog covered it, even a torn one
 *    whose bytes still read erased: after a power cut such space may be
 *    half-programmed and must not be programmed again.
 *  - the bytes written are old & new, as on NOR: prog only clears bits.
 *  - erase sets whole blocks to the erased value and clears "touched".
 * The touched map lives in memory; a device opened from an existing
 * file starts with every unit that does not read erased marked touched.
 *
 * BLOCK windows model a disk behind a volatile write cache (hal/flash.h):
 * a write replaces the bytes at once for reads, but stays unsynced (the
 * bytes it replaced are kept) until a sync of that window.  When the
 * power fails, every unsynced write on the device - of any window - is
 * resolved as the failure mode says: SIM_TORN_NONE loses all of them;
 * SIM_TORN_PREFIX keeps them in the order issued up to a random program
 * unit, that unit torn to a byte prefix; SIM_TORN_BITS keeps, loses or
 * mixes the bits of each program unit at random (a disk that reorders).
 * The units are the device's program units, finer than the window's
 * sector, so tears are harsher than a real disk's.  A sync makes
 * durable only its own window's writes; a RAW operation flushes nothing.
 * At most SIM_PENDING_MAX writes may be unsynced at a time (-ENOBUFS
 * beyond, not an operation).  A unit written twice between syncs is
 * modelled with its latest bytes only.
 *
 * Fault injection (driven from tests, never by editing code):
 *  - sim_flash_cut_after(d, n, mode, seed): the mutating operations
 *    (prog, erase, write, and a sync of a BLOCK window that holds
 *    unsynced writes; reads and other syncs never count) are numbered
 *    from 0 since the device was opened.  Operations 0..n-1 complete;
 *    operation n is the one in flight when power fails: with
 *    SIM_TORN_NONE it does nothing, with SIM_TORN_PREFIX a random prefix
 *    of its bytes is written (a prog) or erased (an erase), with
 *    SIM_TORN_BITS a random subset of the bits it would change is
 *    changed; a write joins the unsynced writes, resolved as above.
 *    Operation n and every later prog, erase, write, read or sync fail
 *    with -EIO until sim_flash_power_on().
 *  - sim_flash_power_off(d, mode, seed): the power fails now, between
 *    operations: unsynced writes are resolved by mode, and everything
 *    fails with -EIO until sim_flash_power_on().
 *  - sim_flash_flip_on_read(d, ppm, seed): each bit returned by read is
 *    inverted with probability ppm / 1e6 (the stored bytes do not change).
 *  - sim_flash_corrupt(d, off, xor): invert bits of stored data in place,
 *    bypassing every rule (retention loss, a rogue writer).
 */
#ifndef HAL_SIM_FLASH_SIM_H
#define HAL_SIM_FLASH_SIM_H

#include <stdint.h>

#include "hal/flash.h"

enum sim_flash_torn {
    SIM_TORN_NONE = 0, /* the operation in flight has no effect */
    SIM_TORN_PREFIX,   /* a random-length prefix of it takes effect */
    SIM_TORN_BITS,     /* a random subset of its bit changes happen */
};

struct sim_flash_geom {
    uint64_t size;       /* device bytes, a multiple of erase_size */
    uint32_t erase_size; /* power of two, multiple of prog_size */
    uint32_t prog_size;  /* power of two */
    uint8_t erased;      /* 0xff for NOR */
};

struct sim_flash_stats {
    uint64_t reads, progs, erases;   /* completed operations */
    uint64_t bytes_read, bytes_prog; /* bytes of completed ops */
    uint64_t bytes_erased;
    uint64_t writes, bytes_written; /* BLOCK windows */
    uint64_t syncs;                 /* of BLOCK windows with writes */
    uint64_t lost;    /* unsynced program units lost or torn by a cut */
    uint64_t refused; /* rule violations refused */
    uint64_t failed;  /* ops failed by a power cut */
};

#define SIM_PENDING_MAX 256 /* unsynced writes a device holds at once */

struct sim_flash_pending {
    uint64_t unit, n; /* program units [unit, unit + n) */
};

struct sim_flash {
    struct sim_flash_geom geom;
    int fd;           /* -1 for a memory device */
    uint8_t *map;     /* the whole device */
    uint8_t *touched; /* one bit per program unit */
    uint64_t ops;     /* mutating operations attempted since open */
    uint64_t cut_at;  /* UINT64_MAX: no cut armed */
    enum sim_flash_torn torn;
    int dead;     /* power is cut */
    uint32_t rng; /* xorshift state for torn ops and flips */
    uint32_t flip_ppm;
    uint32_t flip_rng;
    struct sim_flash_stats stats;
    /* BLOCK windows: the volatile cache */
    uint8_t *old;   /* what the medium holds under unsynced units */
    uint8_t *dirty; /* one bit per program unit: written, not synced */
    struct sim_flash_pending pend[SIM_PENDING_MAX]; /* in issue order */
    uint32_t npend;
};

/* Open path as a device of geometry g.  A missing file is created at
 * g->size and erased when create is nonzero; an existing file of any
 * other size is refused with -EINVAL.  Returns 0 or a negative errno. */
int sim_flash_open(struct sim_flash *d, const char *path,
                   const struct sim_flash_geom *g, int create);

/* A device in anonymous memory, erased; for tests and fuzzers. */
int sim_flash_open_mem(struct sim_flash *d, const struct sim_flash_geom *g);

/* Unmap and close; every hal_flash handed out becomes invalid. */
void sim_flash_close(struct sim_flash *d);

/* Fill *part as the window [base, base + size) of d named name.  base and
 * size must be multiples of the erase size and inside the device.
 * Returns 0 or -EINVAL. */
int sim_flash_partition(struct sim_flash *d, struct hal_flash *part,
                        const char *name, uint64_t base, uint64_t size);

/* Fill *part as a BLOCK window (hal/flash.h) [base, base + size) of d
 * named name, with sectors of sector bytes (its prog_size: a power of
 * two, a multiple of the device's program unit, at most its erase
 * size).  base and size as for sim_flash_partition.  The first call
 * allocates the cache's bookkeeping (the device's size again, and a
 * bitmap).  Returns 0, -EINVAL or -ENOMEM. */
int sim_flash_block_partition(struct sim_flash *d, struct hal_flash *part,
                              const char *name, uint64_t base, uint64_t size,
                              uint32_t sector);

void sim_flash_cut_after(struct sim_flash *d, uint64_t n,
                         enum sim_flash_torn mode, uint32_t seed);
/* The power fails now, between operations (see above). */
void sim_flash_power_off(struct sim_flash *d, enum sim_flash_torn mode,
                         uint32_t seed);
/* Restore power: disarm the cut and let operations succeed again.  The
 * stored bytes and the touched map are kept, as on a real chip. */
void sim_flash_power_on(struct sim_flash *d);
void sim_flash_flip_on_read(struct sim_flash *d, uint32_t ppm, uint32_t seed);
/* The device's state, for tests that replay a workload from the same
 * start: its bytes as read (unsynced writes included), then the touched
 * map (one bit per program unit), in sim_flash_state_size() bytes.
 * Restore puts them back as the medium's, with nothing unsynced, and
 * powers on. */
size_t sim_flash_state_size(const struct sim_flash *d);
void sim_flash_save(const struct sim_flash *d, uint8_t *state);
void sim_flash_restore(struct sim_flash *d, const uint8_t *state);
int sim_flash_corrupt(struct sim_flash *d, uint64_t off, uint8_t xor_mask);

/* Mutating operations attempted since open (the number a cut counts). */
static inline uint64_t
sim_flash_ops(const struct sim_flash *d)
{
    return d->ops;
}

#endif
