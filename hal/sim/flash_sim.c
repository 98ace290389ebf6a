/*
 * hal/sim/flash_sim.c - NOR flash over a file or memory, with faults.
 *
 * The whole device is mapped; reads are memcpy, programs AND new bytes
 * into old ones, erases fill blocks with the erased value.  The "touched"
 * bitmap (one bit per program unit) is what makes the program-once rule
 * checkable: a unit stays touched from its first program, torn or not,
 * until its block is erased.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/flash_sim.h"

static const struct hal_flash_ops sim_ops;

static uint32_t
rng_next(uint32_t *s)
{
    uint32_t x = *s;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

static int
is_pow2(uint32_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

static int
geom_ok(const struct sim_flash_geom *g)
{
    return is_pow2(g->erase_size) && is_pow2(g->prog_size) &&
           g->erase_size >= g->prog_size && g->size > 0 &&
           g->size % g->erase_size == 0 && g->size <= SIZE_MAX;
}

static int
touched_get(const struct sim_flash *d, uint64_t unit)
{
    return (d->touched[unit / 8] >> (unit % 8)) & 1;
}

static void
touched_set(struct sim_flash *d, uint64_t unit, int on)
{
    if (on)
        d->touched[unit / 8] |= (uint8_t)(1u << (unit % 8));
    else
        d->touched[unit / 8] &= (uint8_t) ~(1u << (unit % 8));
}

static int
dev_init(struct sim_flash *d, const struct sim_flash_geom *g)
{
    uint64_t units = g->size / g->prog_size;

    d->geom = *g;
    d->touched = calloc((size_t)((units + 7) / 8), 1);
    if (d->touched == NULL)
        return -ENOMEM;
    d->cut_at = UINT64_MAX;
    d->rng = 0x9e3779b9u;
    return 0;
}

/* A unit that does not read erased must have been programmed. */
static void
touched_from_content(struct sim_flash *d)
{
    uint64_t units = d->geom.size / d->geom.prog_size;

    for (uint64_t u = 0; u < units; u++) {
        const uint8_t *p = d->map + u * d->geom.prog_size;

        for (uint32_t i = 0; i < d->geom.prog_size; i++) {
            if (p[i] != d->geom.erased) {
                touched_set(d, u, 1);
                break;
            }
        }
    }
}

int
sim_flash_open(struct sim_flash *d, const char *path,
               const struct sim_flash_geom *g, int create)
{
    struct stat st;
    int fd, fresh = 0, rc;

    memset(d, 0, sizeof(*d));
    d->fd = -1;
    if (!geom_ok(g))
        return -EINVAL;
    fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto fail;
    }
    if (st.st_size == 0 && create) {
        if (ftruncate(fd, (off_t)g->size) < 0) {
            rc = -errno;
            goto fail;
        }
        fresh = 1;
    } else if ((uint64_t)st.st_size != g->size) {
        rc = -EINVAL;
        goto fail;
    }
    d->map =
        mmap(NULL, (size_t)g->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (d->map == MAP_FAILED) {
        rc = -errno;
        d->map = NULL;
        goto fail;
    }
    d->fd = fd;
    rc = dev_init(d, g);
    if (rc != 0) {
        sim_flash_close(d);
        return rc;
    }
    if (fresh)
        memset(d->map, g->erased, (size_t)g->size);
    else
        touched_from_content(d);
    return 0;
fail:
    close(fd);
    return rc;
}

int
sim_flash_open_mem(struct sim_flash *d, const struct sim_flash_geom *g)
{
    int rc;

    memset(d, 0, sizeof(*d));
    d->fd = -1;
    if (!geom_ok(g))
        return -EINVAL;
    d->map = mmap(NULL, (size_t)g->size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (d->map == MAP_FAILED) {
        d->map = NULL;
        return -ENOMEM;
    }
    rc = dev_init(d, g);
    if (rc != 0) {
        sim_flash_close(d);
        return rc;
    }
    memset(d->map, g->erased, (size_t)g->size);
    return 0;
}

void
sim_flash_close(struct sim_flash *d)
{
    if (d->map != NULL)
        munmap(d->map, (size_t)d->geom.size);
    if (d->fd >= 0)
        close(d->fd);
    free(d->touched);
    d->map = NULL;
    d->touched = NULL;
    d->fd = -1;
}

int
sim_flash_partition(struct sim_flash *d, struct hal_flash *part,
                    const char *name, uint64_t base, uint64_t size)
{
    if (size == 0 || base % d->geom.erase_size != 0 ||
        size % d->geom.erase_size != 0 || base > d->geom.size ||
        size > d->geom.size - base)
        return -EINVAL;
    part->ops = &sim_ops;
    part->dev = d;
    part->name = name;
    part->base = base;
    part->size = size;
    part->erase_size = d->geom.erase_size;
    part->prog_size = d->geom.prog_size;
    part->erased = d->geom.erased;
    return 0;
}

void
sim_flash_cut_after(struct sim_flash *d, uint64_t n, enum sim_flash_torn mode,
                    uint32_t seed)
{
    d->cut_at = n;
    d->torn = mode;
    d->rng = seed ? seed : 0x9e3779b9u;
}

void
sim_flash_power_on(struct sim_flash *d)
{
    d->dead = 0;
    d->cut_at = UINT64_MAX;
}

void
sim_flash_flip_on_read(struct sim_flash *d, uint32_t ppm, uint32_t seed)
{
    d->flip_ppm = ppm;
    d->flip_rng = seed ? seed : 0x2545f491u;
}

int
sim_flash_corrupt(struct sim_flash *d, uint64_t off, uint8_t xor_mask)
{
    if (off >= d->geom.size)
        return -EINVAL;
    d->map[off] ^= xor_mask;
    return 0;
}

/* Is this mutating operation the one power fails in?  Counts it. */
static int
op_begin(struct sim_flash *d)
{
    if (d->dead) {
        d->stats.failed++;
        return -EIO;
    }
    if (d->ops++ == d->cut_at) {
        d->dead = 1;
        d->stats.failed++;
        return 1;
    }
    return 0;
}

static int
sim_read(const struct hal_flash *f, uint64_t off, void *buf, size_t len)
{
    struct sim_flash *d = f->dev;
    uint8_t *out = buf;

    if (d->dead) {
        d->stats.failed++;
        return -EIO;
    }
    memcpy(out, d->map + f->base + off, len);
    if (d->flip_ppm != 0) {
        /* One draw per bit is slow but only runs when flips are on. */
        for (size_t i = 0; i < len; i++)
            for (int b = 0; b < 8; b++)
                if (rng_next(&d->flip_rng) % 1000000u < d->flip_ppm)
                    out[i] ^= (uint8_t)(1u << b);
    }
    d->stats.reads++;
    d->stats.bytes_read += len;
    return 0;
}

static int
sim_prog(const struct hal_flash *f, uint64_t off, const void *buf, size_t len)
{
    struct sim_flash *d = f->dev;
    const uint8_t *src = buf;
    uint8_t *dst = d->map + f->base + off;
    uint64_t u0 = (f->base + off) / d->geom.prog_size;
    uint64_t nu = len / d->geom.prog_size;
    int r;

    if (d->dead) {
        d->stats.failed++;
        return -EIO;
    }
    /* A refused program never reaches the chip, so it does not count as
     * an operation a power cut could interrupt. */
    for (uint64_t u = 0; u < nu; u++) {
        if (touched_get(d, u0 + u)) {
            d->stats.refused++;
            return -EINVAL;
        }
    }
    r = op_begin(d);
    if (r < 0)
        return r;
    for (uint64_t u = 0; u < nu; u++)
        touched_set(d, u0 + u, 1);
    if (r == 0) {
        for (size_t i = 0; i < len; i++)
            dst[i] &= src[i];
        d->stats.progs++;
        d->stats.bytes_prog += len;
        return 0;
    }
    if (d->torn == SIM_TORN_PREFIX) {
        size_t k = rng_next(&d->rng) % len;

        for (size_t i = 0; i < k; i++)
            dst[i] &= src[i];
    } else if (d->torn == SIM_TORN_BITS) {
        for (size_t i = 0; i < len; i++) {
            uint8_t clear = (uint8_t)(dst[i] & ~src[i]);

            dst[i] &= (uint8_t) ~(clear & rng_next(&d->rng));
        }
    }
    return -EIO;
}

static int
sim_erase(const struct hal_flash *f, uint64_t off, uint64_t len)
{
    struct sim_flash *d = f->dev;
    uint8_t *dst = d->map + f->base + off;
    uint64_t u0 = (f->base + off) / d->geom.prog_size;
    uint64_t nu = len / d->geom.prog_size;
    int r = op_begin(d);

    if (r < 0)
        return r;
    if (r == 0) {
        memset(dst, d->geom.erased, (size_t)len);
        for (uint64_t u = 0; u < nu; u++)
            touched_set(d, u0 + u, 0);
        d->stats.erases++;
        d->stats.bytes_erased += len;
        return 0;
    }
    /* Interrupted: the blocks are in an unknown state, so every unit in
     * them stays touched until a complete erase. */
    if (d->torn == SIM_TORN_PREFIX) {
        size_t k = (size_t)(rng_next(&d->rng) % len);

        memset(dst, d->geom.erased, k);
    } else if (d->torn == SIM_TORN_BITS) {
        for (uint64_t i = 0; i < len; i++) {
            uint8_t set = (uint8_t)(d->geom.erased & ~dst[i]);

            dst[i] |= (uint8_t)(set & rng_next(&d->rng));
        }
    }
    for (uint64_t u = 0; u < nu; u++)
        touched_set(d, u0 + u, 1);
    return -EIO;
}

static int
sim_sync(const struct hal_flash *f)
{
    struct sim_flash *d = f->dev;

    if (d->dead) {
        d->stats.failed++;
        return -EIO;
    }
    /* The mapping is the device; nothing more is needed for durability
     * within this process, and tests never rely on surviving a host
     * crash. */
    return 0;
}

static const struct hal_flash_ops sim_ops = {
    .read = sim_read,
    .prog = sim_prog,
    .erase = sim_erase,
    .sync = sim_sync,
};
