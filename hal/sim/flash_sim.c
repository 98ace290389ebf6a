/*
 * hal/sim/flash_sim.c - NOR flash over a file or memory, with faults.
 *
 * The whole device is mapped; reads are memcpy, programs combine new bytes
 * into old ones the way NOR cells do, erases fill blocks with the erased
 * value.  The "touched" bitmap (one bit per program unit) is what makes
 * the program-once rule checkable: a unit stays touched from its first
 * program, torn or not, until its block is completely erased.
 *
 * Bits are combined relative to the erased value so that a device whose
 * erased byte is not 0xff still obeys "programming only moves bits away
 * from their erased state"; with 0xff this is exactly old & new.
 *
 * A BLOCK window's write goes straight into the map (reads see it, as
 * they see a page cache), after the bytes it replaces are saved in
 * "old" for every unit not already unsynced; the "dirty" bitmap marks
 * those units and pend[] lists the writes in order.  A sync of the
 * window forgets its entries; a power failure puts "old" back wherever
 * the failure mode says a unit did not make it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Same directory: found with -Ihal as well as with -Ihal/sim. */
#include "flash_sim.h"

/* xorshift32 never leaves 0, so a 0 seed is replaced by these. */
#define SEED_TORN 0x9e3779b9u
#define SEED_FLIP 0x2545f491u

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

/* Uniform in [0, n), n > 0; two draws so a 64-bit erase length works. */
static uint64_t
rng_below(uint32_t *s, uint64_t n)
{
    uint64_t hi = rng_next(s);

    return ((hi << 32) | rng_next(s)) % n;
}

static int
is_pow2(uint32_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

static int
geom_ok(const struct sim_flash_geom *g)
{
    /* Both sizes are powers of two, so erase_size >= prog_size is the
     * same as "a multiple of".  The size must also fit mmap's size_t and
     * ftruncate's off_t on 32-bit hosts. */
    return is_pow2(g->erase_size) && is_pow2(g->prog_size) &&
           g->erase_size >= g->prog_size && g->size > 0 &&
           g->size % g->erase_size == 0 && g->size <= SIZE_MAX &&
           g->size <= (uint64_t)INT64_MAX &&
           (uint64_t)(off_t)g->size == g->size;
}

/* The byte a program of nv over ov leaves: bits can only leave their
 * erased state (for erased 0xff this is ov & nv). */
static uint8_t
prog_byte(uint8_t erased, uint8_t ov, uint8_t nv)
{
    return (uint8_t)(erased ^ ((ov ^ erased) | (nv ^ erased)));
}

static int
touched_get(const struct sim_flash *d, uint64_t unit)
{
    return (d->touched[unit / 8] >> (unit % 8)) & 1;
}

static int
dirty_get(const struct sim_flash *d, uint64_t unit)
{
    return (d->dirty[unit / 8] >> (unit % 8)) & 1;
}

static void
dirty_put(struct sim_flash *d, uint64_t unit, int on)
{
    if (on)
        d->dirty[unit / 8] |= (uint8_t)(1u << (unit % 8));
    else
        d->dirty[unit / 8] &= (uint8_t) ~(1u << (unit % 8));
}

/* Set or clear units [u, u + n); erases of a 128 MiB partition go
 * through here, so whole bytes are done with memset. */
static void
touched_fill(struct sim_flash *d, uint64_t u, uint64_t n, int on)
{
    uint64_t end = u + n;

    while (u < end && u % 8 != 0) {
        if (on)
            d->touched[u / 8] |= (uint8_t)(1u << (u % 8));
        else
            d->touched[u / 8] &= (uint8_t) ~(1u << (u % 8));
        u++;
    }
    if (end - u >= 8) {
        memset(d->touched + u / 8, on ? 0xff : 0, (size_t)((end - u) / 8));
        u += (end - u) / 8 * 8;
    }
    while (u < end) {
        if (on)
            d->touched[u / 8] |= (uint8_t)(1u << (u % 8));
        else
            d->touched[u / 8] &= (uint8_t) ~(1u << (u % 8));
        u++;
    }
}

static int
all_equal(const uint8_t *p, uint64_t n, uint8_t v)
{
    /* p[i] == v for all i, 64 bytes per step (musl's memcmp goes byte
     * by byte, and opening a 128 MiB image scans all of it). */
    const uint64_t pat = 0x0101010101010101ull * v;
    uint64_t i = 0;

    for (; i + 64 <= n; i += 64) {
        uint64_t w[8], acc = 0;

        memcpy(w, p + i, sizeof(w));
        for (int j = 0; j < 8; j++)
            acc |= w[j] ^ pat;
        if (acc != 0)
            return 0;
    }
    for (; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

/* A unit that does not read erased must have been programmed.  Whole
 * erased blocks are skipped quickly: opening a 128 MiB image is common. */
static void
touched_from_content(struct sim_flash *d)
{
    const struct sim_flash_geom *g = &d->geom;
    uint32_t per_block = g->erase_size / g->prog_size;

    for (uint64_t b = 0; b < g->size; b += g->erase_size) {
        if (all_equal(d->map + b, g->erase_size, g->erased))
            continue;
        for (uint32_t i = 0; i < per_block; i++) {
            uint64_t at = b + (uint64_t)i * g->prog_size;

            if (!all_equal(d->map + at, g->prog_size, g->erased))
                touched_fill(d, at / g->prog_size, 1, 1);
        }
    }
}

static void
dev_reset(struct sim_flash *d)
{
    memset(d, 0, sizeof(*d));
    d->fd = -1;
    d->cut_at = UINT64_MAX;
    d->rng = SEED_TORN;
}

static size_t
touched_len(const struct sim_flash *d)
{
    return (size_t)((d->geom.size / d->geom.prog_size + 7) / 8);
}

static int
touched_alloc(struct sim_flash *d)
{
    d->touched = calloc(touched_len(d), 1);
    return d->touched != NULL ? 0 : -ENOMEM;
}

size_t
sim_flash_state_size(const struct sim_flash *d)
{
    return (size_t)d->geom.size + touched_len(d);
}

void
sim_flash_save(const struct sim_flash *d, uint8_t *state)
{
    memcpy(state, d->map, (size_t)d->geom.size);
    memcpy(state + d->geom.size, d->touched, touched_len(d));
}

void
sim_flash_restore(struct sim_flash *d, const uint8_t *state)
{
    memcpy(d->map, state, (size_t)d->geom.size);
    memcpy(d->touched, state + d->geom.size, touched_len(d));
    if (d->dirty != NULL)
        memset(d->dirty, 0, touched_len(d));
    d->npend = 0;
    sim_flash_power_on(d);
}

int
sim_flash_open(struct sim_flash *d, const char *path,
               const struct sim_flash_geom *g, int create)
{
    struct stat st;
    int fd, fresh = 0, rc;

    dev_reset(d);
    if (!geom_ok(g))
        return -EINVAL;
    d->geom = *g;
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        /* O_EXCL: only a file this call created may be sized and
         * erased; anything that already exists keeps its bytes. */
        fd = open(path, O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL, 0644);
        fresh = fd >= 0;
    }
    if (fd < 0)
        return -errno;
    if (fresh) {
        if (ftruncate(fd, (off_t)g->size) < 0) {
            rc = -errno;
            goto fail;
        }
    } else {
        if (fstat(fd, &st) < 0) {
            rc = -errno;
            goto fail;
        }
        if (st.st_size < 0 || (uint64_t)st.st_size != g->size) {
            rc = -EINVAL;
            goto fail;
        }
    }
    d->map =
        mmap(NULL, (size_t)g->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (d->map == MAP_FAILED) {
        rc = -errno;
        d->map = NULL;
        goto fail;
    }
    rc = touched_alloc(d);
    if (rc != 0)
        goto fail;
    d->fd = fd;
    /* ftruncate already gave zeros; an erased value of 0 needs no pass
     * over the (possibly sparse) file. */
    if (fresh && g->erased != 0)
        memset(d->map, g->erased, (size_t)g->size);
    if (!fresh)
        touched_from_content(d);
    return 0;
fail:
    if (d->map != NULL)
        munmap(d->map, (size_t)g->size);
    close(fd);
    /* A half-made file would be refused (or misread) by the next open. */
    if (fresh)
        unlink(path);
    dev_reset(d);
    return rc;
}

int
sim_flash_open_mem(struct sim_flash *d, const struct sim_flash_geom *g)
{
    int rc;

    dev_reset(d);
    if (!geom_ok(g))
        return -EINVAL;
    d->geom = *g;
    d->map = mmap(NULL, (size_t)g->size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (d->map == MAP_FAILED) {
        dev_reset(d);
        return -ENOMEM;
    }
    rc = touched_alloc(d);
    if (rc != 0) {
        munmap(d->map, (size_t)g->size);
        dev_reset(d);
        return rc;
    }
    if (g->erased != 0)
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
    free(d->old);
    free(d->dirty);
    d->map = NULL;
    d->touched = NULL;
    d->old = NULL;
    d->dirty = NULL;
    d->npend = 0;
    d->fd = -1;
}

int
sim_flash_partition(struct sim_flash *d, struct hal_flash *part,
                    const char *name, uint64_t base, uint64_t size)
{
    /* An empty partition is always a layout mistake, so it is refused
     * rather than handed out as a window nothing fits in. */
    if (d->map == NULL || size == 0 || base % d->geom.erase_size != 0 ||
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
    part->kind = HAL_FLASH_RAW;
    return 0;
}

int
sim_flash_block_partition(struct sim_flash *d, struct hal_flash *part,
                          const char *name, uint64_t base, uint64_t size,
                          uint32_t sector)
{
    int rc;

    if (!is_pow2(sector) || sector < d->geom.prog_size ||
        sector > d->geom.erase_size)
        return -EINVAL;
    rc = sim_flash_partition(d, part, name, base, size);
    if (rc != 0)
        return rc;
    if (d->old == NULL) {
        d->old = malloc((size_t)d->geom.size);
        d->dirty = calloc(touched_len(d), 1);
        if (d->old == NULL || d->dirty == NULL) {
            free(d->old);
            free(d->dirty);
            d->old = NULL;
            d->dirty = NULL;
            return -ENOMEM;
        }
    }
    part->prog_size = sector;
    part->kind = HAL_FLASH_BLOCK;
    return 0;
}

void
sim_flash_cut_after(struct sim_flash *d, uint64_t n, enum sim_flash_torn mode,
                    uint32_t seed)
{
    d->cut_at = n;
    d->torn = mode;
    d->rng = seed != 0 ? seed : SEED_TORN;
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
    d->flip_ppm = ppm > 1000000u ? 1000000u : ppm;
    d->flip_rng = seed != 0 ? seed : SEED_FLIP;
}

int
sim_flash_corrupt(struct sim_flash *d, uint64_t off, uint8_t xor_mask)
{
    if (d->map == NULL || off >= d->geom.size)
        return -EINVAL;
    d->map[off] ^= xor_mask;
    return 0;
}

/*
 * Invert each bit of buf with probability p = ppm / 1e6.  One draw per
 * byte decides whether the byte has any flip (probability
 * q = 1 - (1 - p)^8); only such bytes draw which bit is the lowest
 * flipped one (from its distribution given that one flips) and then the
 * bits above it independently.  The result has exactly the per-bit
 * distribution asked for, at one xorshift per byte.
 */
static void
flip_bits(struct sim_flash *d, uint8_t *buf, size_t len)
{
    const double one = 4294967296.0; /* 2^32: a draw's range */
    double p = d->flip_ppm / 1e6, keep = 1.0, q, acc = 0.0, pk = p;
    uint64_t any, bit, lowest[8];

    for (int b = 0; b < 8; b++)
        keep *= 1.0 - p;
    q = 1.0 - keep;
    any = (uint64_t)(q * one);
    bit = (uint64_t)(p * one);
    for (int b = 0; b < 8; b++) {
        acc += pk;
        pk *= 1.0 - p;
        lowest[b] = (uint64_t)(acc / q * one);
    }
    lowest[7] = (uint64_t)1 << 32; /* rounding must not lose the tail */
    for (size_t i = 0; i < len; i++) {
        uint32_t r;
        uint8_t mask;
        int b = 0;

        if (rng_next(&d->flip_rng) >= any)
            continue;
        r = rng_next(&d->flip_rng);
        while (r >= lowest[b])
            b++;
        mask = (uint8_t)(1u << b);
        while (++b < 8)
            if (rng_next(&d->flip_rng) < bit)
                mask |= (uint8_t)(1u << b);
        buf[i] ^= mask;
    }
}

static int
power_fail(struct sim_flash *d)
{
    d->stats.failed++;
    return -EIO;
}

/* A unit of unsynced write that did not reach the medium: its old
 * bytes back. */
static void
unit_lose(struct sim_flash *d, uint64_t u)
{
    size_t ps = d->geom.prog_size;

    memcpy(d->map + u * ps, d->old + u * ps, ps);
    d->stats.lost++;
}

/* The power fails with writes unsynced: resolve each of their units by
 * the failure mode (flash_sim.h), then forget them. */
static void
cache_lose(struct sim_flash *d)
{
    size_t ps = d->geom.prog_size;
    uint64_t total = 0, cut, pos = 0;

    if (d->npend == 0)
        return; /* no draw: raw-only workloads replay as before */
    for (uint32_t i = 0; i < d->npend; i++)
        total += d->pend[i].n;
    if (d->torn == SIM_TORN_PREFIX) {
        /* in issue order, up to unit number cut (torn) */
        cut = rng_below(&d->rng, total + 1);
        for (uint32_t i = 0; i < d->npend; i++)
            for (uint64_t j = 0; j < d->pend[i].n; j++, pos++) {
                uint64_t u = d->pend[i].unit + j;
                size_t k;

                if (!dirty_get(d, u) || pos > cut)
                    continue;
                dirty_put(d, u, 0);
                if (pos < cut)
                    continue;
                k = (size_t)rng_below(&d->rng, ps);
                memcpy(d->map + u * ps + k, d->old + u * ps + k, ps - k);
                d->stats.lost++;
            }
    } else if (d->torn == SIM_TORN_BITS) {
        /* each unit on its own: kept, lost, or its bits mixed */
        for (uint32_t i = 0; i < d->npend; i++)
            for (uint64_t j = 0; j < d->pend[i].n; j++) {
                uint64_t u = d->pend[i].unit + j;
                uint32_t r;

                if (!dirty_get(d, u))
                    continue;
                r = rng_next(&d->rng) % 3;
                if (r == 1)
                    continue; /* lost, below */
                dirty_put(d, u, 0);
                if (r == 0)
                    continue; /* kept */
                for (size_t b = 0; b < ps; b++) {
                    uint8_t *m = d->map + u * ps + b, o = d->old[u * ps + b];

                    *m = (uint8_t)(o ^ ((o ^ *m) & rng_next(&d->rng)));
                }
                d->stats.lost++;
            }
    }
    /* whatever is still unsynced never reached the medium */
    for (uint32_t i = 0; i < d->npend; i++)
        for (uint64_t j = 0; j < d->pend[i].n; j++) {
            uint64_t u = d->pend[i].unit + j;

            if (dirty_get(d, u)) {
                dirty_put(d, u, 0);
                unit_lose(d, u);
            }
        }
    d->npend = 0;
}

/* Number the mutating operation about to reach the chip; nonzero when
 * it is the one the power fails in (unsynced writes are resolved
 * then). */
static int
op_is_cut(struct sim_flash *d)
{
    if (d->ops++ != d->cut_at)
        return 0;
    d->dead = 1;
    cache_lose(d);
    return 1;
}

void
sim_flash_power_off(struct sim_flash *d, enum sim_flash_torn mode,
                    uint32_t seed)
{
    d->torn = mode;
    d->rng = seed != 0 ? seed : SEED_TORN;
    d->dead = 1;
    cache_lose(d);
}

static int
sim_read(const struct hal_flash *f, uint64_t off, void *buf, size_t len)
{
    struct sim_flash *d = f->dev;

    if (d->dead)
        return power_fail(d);
    memcpy(buf, d->map + f->base + off, len);
    if (d->flip_ppm != 0)
        flip_bits(d, buf, len);
    d->stats.reads++;
    d->stats.bytes_read += len;
    return 0;
}

/* A program that breaks a rule; it never reaches the chip, so it is not
 * numbered as an operation a power cut could interrupt. */
static int
prog_refused(const struct sim_flash *d, uint64_t at, const uint8_t *src,
             size_t len)
{
    uint64_t u0 = at / d->geom.prog_size;
    uint64_t n = len / d->geom.prog_size;

    for (uint64_t u = 0; u < n; u++)
        if (touched_get(d, u0 + u))
            return 1;
    /* An untouched unit reads erased unless sim_flash_corrupt() changed
     * it; a program needing a bit back in its erased state is refused
     * there too. */
    for (size_t i = 0; i < len; i++) {
        uint8_t ov = d->map[at + i];

        if (prog_byte(d->geom.erased, ov, src[i]) != src[i])
            return 1;
    }
    return 0;
}

static int
sim_prog(const struct hal_flash *f, uint64_t off, const void *buf, size_t len)
{
    struct sim_flash *d = f->dev;
    const uint8_t *src = buf;
    uint64_t at = f->base + off;
    uint8_t *dst = d->map + at;
    uint8_t e = d->geom.erased;

    if (d->dead)
        return power_fail(d);
    if (prog_refused(d, at, src, len)) {
        d->stats.refused++;
        return -EINVAL;
    }
    /* Torn or not, the range may now hold partly programmed cells. */
    touched_fill(d, at / d->geom.prog_size, len / d->geom.prog_size, 1);
    if (!op_is_cut(d)) {
        for (size_t i = 0; i < len; i++)
            dst[i] = prog_byte(e, dst[i], src[i]);
        d->stats.progs++;
        d->stats.bytes_prog += len;
        return 0;
    }
    if (d->torn == SIM_TORN_PREFIX) {
        size_t k = (size_t)rng_below(&d->rng, len);

        for (size_t i = 0; i < k; i++)
            dst[i] = prog_byte(e, dst[i], src[i]);
    } else if (d->torn == SIM_TORN_BITS) {
        for (size_t i = 0; i < len; i++) {
            uint8_t change = (uint8_t)(prog_byte(e, dst[i], src[i]) ^ dst[i]);

            dst[i] ^= (uint8_t)(change & rng_next(&d->rng));
        }
    }
    return power_fail(d);
}

static int
sim_erase(const struct hal_flash *f, uint64_t off, uint64_t len)
{
    struct sim_flash *d = f->dev;
    uint64_t at = f->base + off;
    uint8_t *dst = d->map + at;
    uint8_t e = d->geom.erased;
    uint64_t u0 = at / d->geom.prog_size;
    uint64_t n = len / d->geom.prog_size;

    if (d->dead)
        return power_fail(d);
    if (!op_is_cut(d)) {
        memset(dst, e, (size_t)len);
        touched_fill(d, u0, n, 0);
        d->stats.erases++;
        d->stats.bytes_erased += len;
        return 0;
    }
    if (d->torn == SIM_TORN_PREFIX) {
        memset(dst, e, (size_t)rng_below(&d->rng, len));
    } else if (d->torn == SIM_TORN_BITS) {
        for (uint64_t i = 0; i < len; i++) {
            uint8_t change = (uint8_t)(dst[i] ^ e);

            dst[i] ^= (uint8_t)(change & rng_next(&d->rng));
        }
    }
    /* The blocks are in an unknown state, even where they read erased:
     * nothing may be programmed there before a complete erase. */
    touched_fill(d, u0, n, 1);
    return power_fail(d);
}

/* A BLOCK window's write: into the map at once, unsynced. */
static int
sim_write(const struct hal_flash *f, uint64_t off, const void *buf, size_t len)
{
    struct sim_flash *d = f->dev;
    size_t ps = d->geom.prog_size;
    uint64_t at = f->base + off, u0 = at / ps, n = len / ps;

    if (d->dead)
        return power_fail(d);
    if (d->npend == SIM_PENDING_MAX)
        return -ENOBUFS;
    for (uint64_t u = u0; u < u0 + n; u++)
        if (!dirty_get(d, u)) {
            memcpy(d->old + u * ps, d->map + u * ps, ps);
            dirty_put(d, u, 1);
        }
    d->pend[d->npend++] = (struct sim_flash_pending){u0, n};
    memcpy(d->map + at, buf, len);
    if (op_is_cut(d))
        return power_fail(d); /* in flight: resolved with the rest */
    d->stats.writes++;
    d->stats.bytes_written += len;
    return 0;
}

/* Does window f hold unsynced writes? */
static int
cache_holds(const struct sim_flash *d, const struct hal_flash *f)
{
    uint64_t lo = f->base / d->geom.prog_size;
    uint64_t hi = (f->base + f->size) / d->geom.prog_size;

    for (uint32_t i = 0; i < d->npend; i++)
        if (d->pend[i].unit >= lo && d->pend[i].unit < hi)
            return 1;
    return 0;
}

/* Window f's writes reach the medium: forget them. */
static void
cache_flush(struct sim_flash *d, const struct hal_flash *f)
{
    uint64_t lo = f->base / d->geom.prog_size;
    uint64_t hi = (f->base + f->size) / d->geom.prog_size;
    uint32_t k = 0;

    for (uint32_t i = 0; i < d->npend; i++) {
        const struct sim_flash_pending *p = &d->pend[i];

        if (p->unit >= lo && p->unit < hi) {
            for (uint64_t j = 0; j < p->n; j++)
                dirty_put(d, p->unit + j, 0);
        } else {
            d->pend[k++] = *p;
        }
    }
    d->npend = k;
}

static int
sim_sync(const struct hal_flash *f)
{
    struct sim_flash *d = f->dev;

    if (d->dead)
        return power_fail(d);
    if (f->kind == HAL_FLASH_BLOCK && cache_holds(d, f)) {
        if (op_is_cut(d))
            return power_fail(d);
        cache_flush(d, f);
        d->stats.syncs++;
    }
    if (d->fd >= 0 && msync(d->map, (size_t)d->geom.size, MS_SYNC) < 0)
        return -errno;
    return 0;
}

static const struct hal_flash_ops sim_ops = {
    .read = sim_read,
    .prog = sim_prog,
    .erase = sim_erase,
    .sync = sim_sync,
    .write = sim_write,
};
