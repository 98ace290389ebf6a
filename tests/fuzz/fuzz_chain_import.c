/*
 * tests/fuzz/fuzz_chain_import.c - libFuzzer target: `chain import` of
 * arbitrary bytes as a tfile.dat, into an empty chain on a small sim
 * flash, and then again on top of what the first import stored.
 * Nothing may crash or read out of bounds; whatever was committed must
 * be a valid chain whose recorded weight adds up.  Proofs of work are
 * not computed (structure only), so each input stays fast.
 * The same bytes go through the streamed importer (`chain receive`) as
 * well, in pieces whose sizes the input's first byte picks, into the
 * empty chain and then on top of the file imports.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../hal/sim/flash_sim.h"
#include "chain/chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
    const uint8_t *p;
    size_t len;
};

static int
rd(void *arg, uint64_t off, void *buf, size_t len)
{
    struct mem *m = arg;

    if (off > m->len || len > m->len - off)
        return -1;
    memcpy(buf, m->p + off, len);
    return 0;
}

static int
valid(struct chain *c)
{
    uint8_t p[TRAILER_LEN], t[TRAILER_LEN];
    struct chain_weight w = c->base_w;

    if (c->count == 0)
        return 1;
    if (chain_read(c, c->base, p) != 0)
        return 0;
    for (uint64_t b = c->base + 1; b <= chain_tip_bnum(c); b++) {
        if (chain_read(c, b, t) != 0 ||
            chain_check(c->pf, p, t, &(struct chain_opts){0, 0}) != CHAIN_OK)
            return 0;
        chain_weight_add(&w, t);
        memcpy(p, t, TRAILER_LEN);
    }
    return chain_weight_cmp(&w, &c->w) == 0;
}

/* Stream data in pieces of 1 + (seed * k) % 1024 bytes. */
static void
stream(struct chain *c, const uint8_t *data, size_t size)
{
    static struct chain_rx rx;
    struct chain_import_res r;
    struct chain_opts o = {0, 0};
    size_t off = 0, k = 0, seed = size > 0 ? data[0] : 0;
    int rc = chain_rx_begin(&rx, c, size, &o, &r);

    while (rc == 0 && off < size) {
        size_t n = 1 + (seed * ++k) % 1024;

        if (n > size - off)
            n = size - off;
        rc = chain_rx_put(&rx, data + off, n);
        off += n;
    }
    (void)chain_rx_end(&rx, rc >= 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sim_flash_geom g = {16384 * 6 + 4096 * 64, 4096, 16,
                                            0xff};
    static struct sim_flash dev;
    static struct hal_flash ps, pl;
    static struct store st;
    static struct clog lg;
    static struct chain ch;
    struct chain_import_res r;
    struct chain_opts o = {0, 0};
    struct mem m = {data, size};

    if (sim_flash_open_mem(&dev, &g) != 0)
        return 0;
    sim_flash_partition(&dev, &ps, "store", 0, 16384 * 6);
    sim_flash_partition(&dev, &pl, "chain", 16384 * 6, 4096 * 64);
    if (store_mount(&st, &ps) == 0 && clog_mount(&lg, &pl, &st) == 0 &&
        chain_open(&ch, &lg, &st) == 0) {
        stream(&ch, data, size);
        if (!valid(&ch) || chain_reset(&ch) != 0)
            abort();
        (void)chain_import(&ch, size, rd, &m, &o, &r);
        if (!valid(&ch))
            abort();
        (void)chain_import(&ch, size, rd, &m, &o, &r);
        if (!valid(&ch) || chain_open(&ch, &lg, &st) != 0 || !valid(&ch))
            abort();
        stream(&ch, data, size);
        if (!valid(&ch) || chain_open(&ch, &lg, &st) != 0 || !valid(&ch))
            abort();
    }
    sim_flash_close(&dev);
    return 0;
}
