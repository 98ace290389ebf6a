/*
 * hal/sim/flash_sim.h - a flash device over a file or memory, with the
 * rules of NOR flash enforced and faults injected on request.
 *
 * The device is caller-allocated; sim_flash_open() maps the file (or
 * anonymous memory) and allocates one bitmap (one bit per program unit);
 * nothing is allocated after that.  Partitions are windows handed out by
 * sim_flash_partition() as struct hal_flash; all share the device and
 * its operation counter.
 *
 * Rules enforced (each refused with -EINVAL, nothing written, counted in
 * stats.refused):
 *  - prog only into program units not touched since their last erase.
 *    A unit counts as touched once any prog covered it, even a torn one
 *    whose bytes still read erased: after a power cut such space may be
 *    half-programmed and must not be programmed again.
 *  - the bytes written are old & new, as on NOR: prog only clears bits.
 *  - erase sets whole blocks to the erased value and clears "touched".
 * The touched map lives in memory; a device opened from an existing
 * file starts with every unit that does not read erased marked touched.
 *
 * Fault injection (driven from tests, never by editing code):
 *  - sim_flash_cut_after(d, n, mode, seed): the mutating operations (prog
 *    and erase; reads never count) are numbered from 0 since the device
 *    was opened.  Operations 0..n-1 complete; operation n is the one in
 *    flight when power fails: with SIM_TORN_NONE it does nothing, with
 *    SIM_TORN_PREFIX a random prefix of its bytes is written (a prog) or
 *    erased (an erase), with SIM_TORN_BITS a random subset of the bits it
 *    would change is changed.  Operation n and every later prog, erase,
 *    read or sync fail with -EIO until sim_flash_power_on().
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
    uint64_t refused; /* rule violations refused */
    uint64_t failed;  /* ops failed by a power cut */
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

void sim_flash_cut_after(struct sim_flash *d, uint64_t n,
                         enum sim_flash_torn mode, uint32_t seed);
/* Restore power: disarm the cut and let operations succeed again.  The
 * stored bytes and the touched map are kept, as on a real chip. */
void sim_flash_power_on(struct sim_flash *d);
void sim_flash_flip_on_read(struct sim_flash *d, uint32_t ppm, uint32_t seed);
/* The device's state, for tests that replay a workload from the same
 * start: its bytes, then the touched map (one bit per program unit), in
 * sim_flash_state_size() bytes.  Restore puts them back and powers on. */
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
