/*
 * tests/fuzz/mkseed_chain.c - write a seed input for fuzz_chain_mount: a
 * small device (record store, then chain log; the geometry is in
 * fuzz_chain_mount.h) holding a real chain of CHAIN_SEED_BLOCKS testnet
 * trailers minted as keel-chaingen mints them.  The chain is stored the
 * way the node stores it: several batches, a chain-log checkpoint in the
 * store part-way, a reorg to a heavier fork (a truncation and a batch),
 * a trim (the chain state's base moves, a second checkpoint), and more
 * batches after it, so the mount replays slots after a checkpoint and
 * the chain state's snapshot matches.  The NAND seed also appends a few
 * single trailers, which keep a page each, after the packed batches.
 * Each file starts with fuzz_chain_mount's selector byte.  Usage:
 * mkseed_chain NOR_FILE NAND_FILE
 */
#include <stdio.h>
#include <string.h>

#include "../../hal/sim/flash_sim.h"
#include "chain/chain.h"
#include "chain/gen.h"
#include "fuzz_chain_mount.h"

struct mint {
    uint8_t *buf;
    uint32_t n, cap;
};

static int
collect(void *arg, const uint8_t t[TRAILER_LEN])
{
    struct mint *m = arg;

    if (m->n == m->cap)
        return -1;
    memcpy(m->buf + (size_t)m->n++ * TRAILER_LEN, t, TRAILER_LEN);
    return 0;
}

/* Append trailers [from, to) of recs in batches of step. */
static int
extend(struct chain *c, const uint8_t *recs, uint32_t from, uint32_t to,
       uint32_t step)
{
    struct chain_opts o = {0, 0};
    enum chain_reason bad;
    uint64_t bad_bnum;

    for (uint32_t i = from; i < to; i += step) {
        uint32_t n = to - i < step ? to - i : step;

        if (chain_extend(c, recs + (size_t)i * TRAILER_LEN, n, &o, &bad,
                         &bad_bnum) != (int)n) {
            fprintf(stderr, "mkseed_chain: extend at %u: %s\n", i, c->why);
            return -1;
        }
    }
    return 0;
}

/* Store the seed chain on a device of geometry g (store, then chain
 * log) and write selector, then the device's bytes, to path. */
static int
seed(const struct sim_flash_geom *g, uint32_t store_size, uint32_t chain_size,
     uint8_t selector, const uint8_t *main_chain, uint32_t nm,
     const uint8_t *fork, uint32_t nf, const char *path)
{
    static struct sim_flash dev;
    static struct store st;
    static struct clog lg;
    static struct chain ch;
    struct hal_flash ps, pc;
    FILE *f;
    int rc = 1;

    if (sim_flash_open_mem(&dev, g) != 0)
        return 2;
    sim_flash_partition(&dev, &ps, "store", 0, store_size);
    sim_flash_partition(&dev, &pc, "chain", store_size, chain_size);
    if (store_mount(&st, &ps) != 0 || clog_mount(&lg, &pc, &st) != 0 ||
        chain_open(&ch, &lg, &st) != 0)
        goto out;
    /* the main chain in batches of 40 (the network picked from its
     * genesis, as chain_import does), a checkpoint half-way */
    ch.pf = &chain_testnet;
    if (extend(&ch, main_chain, 0, nm / 2, 40) != 0 ||
        clog_checkpoint(&lg) != 0 ||
        extend(&ch, main_chain, nm / 2, nm, 40) != 0)
        goto out;
    /* a heavier fork (difficulty 1 from CHAIN_SEED_BLOCKS - 100 on)
     * replaces its tail: a truncation slot and a batch */
    if (chain_truncate(&ch, CHAIN_SEED_BLOCKS - 100) != 0 ||
        extend(&ch, fork, CHAIN_SEED_BLOCKS - 100, nf - 30, 50) != 0)
        goto out;
    /* a trim moves the base (a checkpoint), then more batches (and, on
     * NAND, single trailers); the device is remounted once so a run
     * starts after a gap */
    if (chain_trim(&ch, 60) != 0 || store_mount(&st, &ps) != 0 ||
        clog_mount(&lg, &pc, &st) != 0 || chain_open(&ch, &lg, &st) != 0 ||
        extend(&ch, fork, nf - 30, nf - (selector ? 4 : 0), 10) != 0 ||
        (selector && extend(&ch, fork, nf - 4, nf, 1) != 0))
        goto out;
    fprintf(stderr,
            "mkseed_chain: %s: %u trailers stored, base %u, tip %u; log "
            "%u..%u, %u runs\n",
            path, (unsigned)ch.count, (unsigned)ch.base,
            (unsigned)chain_tip_bnum(&ch), lg.first, lg.end, lg.nruns);
    f = fopen(path, "wb");
    if (f != NULL && fwrite(&selector, 1, 1, f) == 1 &&
        fwrite(dev.map, 1, (size_t)g->size, f) == g->size && fclose(f) == 0)
        rc = 0;
out:
    sim_flash_close(&dev);
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct sim_flash_geom nor = {FCM_DEV_SIZE, FCM_ERASE, 16,
                                              0xff};
    static const struct sim_flash_geom nand = {
        FCM_NAND_DEV_SIZE, FCM_NAND_ERASE, FCM_NAND_PROG, 0xff};
    static uint8_t main_chain[(CHAIN_SEED_BLOCKS + 1) * TRAILER_LEN];
    static uint8_t fork[(CHAIN_SEED_BLOCKS + 1) * TRAILER_LEN];
    struct chaingen gm = {CHAIN_SEED_BLOCKS - 40, 0, 7, 1, 0, 0, 0, 0, 0};
    struct chaingen gf = {
        CHAIN_SEED_BLOCKS, 0, 7, 1, CHAIN_SEED_BLOCKS - 100, 1, 17, 0, 0};
    struct mint mm = {main_chain, 0, CHAIN_SEED_BLOCKS + 1};
    struct mint mf = {fork, 0, CHAIN_SEED_BLOCKS + 1};

    if (argc != 3)
        return 2;
    if (chaingen_run(&gm, collect, &mm) != 0 ||
        chaingen_run(&gf, collect, &mf) != 0) {
        fprintf(stderr, "mkseed_chain: minting failed\n");
        return 1;
    }
    if (seed(&nor, FCM_STORE_SIZE, FCM_CHAIN_SIZE, 0, main_chain, mm.n, fork,
             mf.n, argv[1]) != 0 ||
        seed(&nand, FCM_NAND_STORE_SIZE, FCM_NAND_CHAIN_SIZE, 1, main_chain,
             mm.n, fork, mf.n, argv[2]) != 0) {
        fprintf(stderr, "mkseed_chain: storing the chain failed\n");
        return 1;
    }
    return 0;
}
