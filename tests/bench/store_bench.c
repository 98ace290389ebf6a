/*
 * tests/bench/store_bench.c - storage figures for `make bench`.
 *
 * Prints "bench <name> <value> <unit>" lines: write amplification of
 * tfile appends (flash bytes programmed anywhere on the device, the
 * checkpoint in the record store included, per trailer byte), erases per
 * 1,000 appends, write amplification and rate of key replacement (one
 * put at a time, and 16 in a group commit), and mount time with 1k,
 * 100k and 1M trailers stored after 10k record writes.  NOR-like: 4 KiB erase blocks, 16-byte program unit; NAND-like
 * (suffix .nand): 128 KiB blocks, 2 KiB pages.  A memcpy rate measured
 * in the same run is the reference for the timed figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../hal/sim/flash_sim.h"
#include "store/clog.h"
#include "store/store.h"

struct geo {
    const char *sfx;
    uint32_t erase, prog;
    uint64_t store_size;
};

static const struct geo nor = {"", 4096, 16, 1u << 20};
static const struct geo nand = {".nand", 131072, 2048, 16u << 17};

static struct sim_flash dev;
static struct hal_flash ps, pc;
static struct store st;
static struct clog lg;

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
rig(const struct geo *g, uint64_t chain_size)
{
    struct sim_flash_geom sg = {g->store_size + chain_size, g->erase, g->prog,
                                0xff};

    if (sim_flash_open_mem(&dev, &sg) != 0)
        return -1;
    sim_flash_partition(&dev, &ps, "store", 0, g->store_size);
    sim_flash_partition(&dev, &pc, "chain", g->store_size, chain_size);
    if (store_mount(&st, &ps) != 0 || clog_mount(&lg, &pc, &st) != 0)
        return -1;
    return 0;
}

static void
append_wa(const struct geo *g, uint32_t batch)
{
    static uint8_t recs[1000 * CLOG_REC];
    uint32_t total = batch == 1000 ? 6000 : batch == 54 ? 5994 : 5000;
    uint64_t slots = (uint64_t)total * 2 + 64 * 1024;
    uint32_t slot = (CLOG_SLOT_RAW + g->prog - 1) / g->prog * g->prog;
    uint64_t size = (slots * slot / g->erase + 8) * g->erase;

    if (rig(g, size) != 0) {
        printf("# append b%u%s: set-up failed\n", batch, g->sfx);
        return;
    }
    memset(recs, 0x5a, sizeof(recs));
    uint64_t p0 = dev.stats.bytes_prog, e0 = dev.stats.erases;

    for (uint32_t n = 0; n < total; n += batch)
        if (clog_append(&lg, recs, batch) != 0) {
            printf("# append b%u%s failed at %u\n", batch, g->sfx, n);
            break;
        }
    printf("bench store.tfile_append.wa.b%u%s %.3f x\n", batch, g->sfx,
           (double)(dev.stats.bytes_prog - p0) / ((double)total * CLOG_REC));
    if (batch == 1) {
        printf("bench store.tfile_append.erases_per_1k.b1%s %.2f erases\n",
               g->sfx, (double)(dev.stats.erases - e0) * 1000.0 / total);
        printf("bench store.tfile_append.records_per_erase_block%s %u "
               "records\n",
               g->sfx, lg.per_seg);
    }
    sim_flash_close(&dev);
}

static void
kv_replace(const struct geo *g, uint32_t vlen, uint32_t count, int rate)
{
    static uint8_t v[1024];
    char name[16];

    if (rig(g, 4ull * g->erase) != 0)
        return;
    memset(v, 0x33, sizeof(v));
    uint64_t p0 = dev.stats.bytes_prog;
    double t0 = now_ms();

    for (uint32_t i = 0; i < count; i++) {
        snprintf(name, sizeof(name), "key%u", i % 20);
        v[0] = (uint8_t)i;
        if (store_put(&st, name, v, vlen) != 0) {
            printf("# kv_replace %u failed at %u\n", vlen, i);
            break;
        }
    }
    double ms = now_ms() - t0;

    printf("bench store.kv_replace.wa.%u%s %.3f x\n", vlen, g->sfx,
           (double)(dev.stats.bytes_prog - p0) / ((double)count * vlen));
    if (rate)
        printf("bench store.kv_replace.ops_per_s.%u%s %.0f ops/s\n", vlen,
               g->sfx, count / (ms / 1e3));
    sim_flash_close(&dev);
}

/* What limits kv_replace.wa.32 on NAND is that every durable put is a
 * record of its own, at least one program unit; a group commit of 16
 * values shares one record (and its page). */
static void
kv_group(const struct geo *g, uint32_t vlen, uint32_t groups)
{
    static uint8_t v[16][64];
    static char names[16][16];
    struct store_entry e[16];

    if (rig(g, 4ull * g->erase) != 0)
        return;
    uint64_t p0 = dev.stats.bytes_prog;

    for (uint32_t i = 0; i < groups; i++) {
        for (int k = 0; k < 16; k++) {
            snprintf(names[k], sizeof(names[k]), "key%d", k);
            memset(v[k], 0x33, vlen);
            v[k][0] = (uint8_t)i;
            e[k] = (struct store_entry){names[k], v[k], vlen, 0};
        }
        if (store_commit(&st, e, 16) != 0) {
            printf("# kv_commit16 %u failed at %u\n", vlen, i);
            break;
        }
    }
    printf("bench store.kv_commit16.wa.%u%s %.3f x\n", vlen, g->sfx,
           (double)(dev.stats.bytes_prog - p0) / ((double)groups * 16 * vlen));
    sim_flash_close(&dev);
}

static void
mount_time(uint32_t trailers, const char *label)
{
    static uint8_t recs[1000 * CLOG_REC];
    uint64_t size = ((uint64_t)trailers / 23 + 64) * 4096;
    char name[16];
    double best = 1e9;

    if (rig(&nor, size) != 0) {
        printf("# mount %s: set-up failed\n", label);
        return;
    }
    /* 10k record writes of history, interleaved with the appends. */
    for (uint32_t i = 0, n = 0; i < 10000 || n < trailers; i++) {
        if (i < 10000) {
            snprintf(name, sizeof(name), "h%u", i % 50);
            store_put(&st, name, "history", 7);
        }
        if (n < trailers) {
            uint32_t b = trailers - n < 1000 ? trailers - n : 1000;

            if (clog_append(&lg, recs, b) != 0) {
                printf("# mount %s: append failed\n", label);
                break;
            }
            n += b;
        }
    }
    for (int r = 0; r < 3; r++) {
        double t0 = now_ms();

        store_mount(&st, &ps);
        clog_mount(&lg, &pc, &st);
        double ms = now_ms() - t0;

        if (ms < best)
            best = ms;
    }
    printf("bench store.mount_ms.%s %.3f ms\n", label, best);
    printf("bench store.mount_slots_scanned.%s %u slots\n", label, lg.scanned);
    if (lg.end != trailers)
        printf("# mount %s: %u trailers after mount, expected %u\n", label,
               lg.end, trailers);
    sim_flash_close(&dev);
}

static void
memcpy_ref(void)
{
    size_t n = 64u << 20;
    char *a = malloc(n), *b = malloc(n);
    double t0, ms;

    if (a == NULL || b == NULL)
        return;
    memset(a, 1, n);
    memset(b, 2, n);
    t0 = now_ms();
    for (int i = 0; i < 8; i++) {
        a[i] = (char)i;
        memcpy(b, a, n);
    }
    ms = now_ms() - t0;
    printf("bench store.ref.memcpy_mb_per_s %.0f MB/s\n",
           8.0 * (double)n / 1e6 / (ms / 1e3) + b[5] * 0);
    free(a);
    free(b);
}

int
main(void)
{
    printf("# store_bench: NOR 4096/16, NAND 131072/2048 (sim flash, in "
           "memory)\n");
    memcpy_ref();
    for (int k = 0; k < 2; k++) {
        const struct geo *g = k ? &nand : &nor;

        append_wa(g, 1);
        append_wa(g, 54);
        append_wa(g, 1000);
        kv_replace(g, 32, 20000, k == 0);
        kv_group(g, 32, 2000);
        kv_replace(g, 1024, 5000, 0);
    }
    mount_time(1000, "1k");
    mount_time(100000, "100k");
    mount_time(1000000, "1m");
    return 0;
}
