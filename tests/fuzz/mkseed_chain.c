/*
 * tests/fuzz/mkseed_chain.c - write a seed input for fuzz_chain_mount: a
 * small device (record store, then chain log; the geometry is in
 * fuzz_chain_mount.h) holding a real chain of CHAIN_SEED_BLOCKS testnet
 * trailers minted as keel-chaingen mints them.  The chain is stored the
 * way the node stores it: several batches, a chain-log checkpoint in the
 * store part-way, a reorg to a heavier fork (a truncation and a batch),
 * a trim (the chain state's base moves, a second checkpoint), and more
 * batches after it, so the mount replays slots after a checkpoint and
 * the chain state's snapshot matches.  Usage: mkseed_chain FILE
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

int
main(int argc, char **argv)
{
    static const struct sim_flash_geom g = {FCM_DEV_SIZE, FCM_ERASE, 16, 0xff};
    static uint8_t main_chain[(CHAIN_SEED_BLOCKS + 1) * TRAILER_LEN];
    static uint8_t fork[(CHAIN_SEED_BLOCKS + 1) * TRAILER_LEN];
    static struct sim_flash dev;
    static struct store st;
    static struct clog lg;
    static struct chain ch;
    struct chaingen gm = {CHAIN_SEED_BLOCKS - 40, 0, 7, 1, 0, 0, 0, 0, 0};
    struct chaingen gf = {
        CHAIN_SEED_BLOCKS, 0, 7, 1, CHAIN_SEED_BLOCKS - 100, 1, 17, 0, 0};
    struct mint mm = {main_chain, 0, CHAIN_SEED_BLOCKS + 1};
    struct mint mf = {fork, 0, CHAIN_SEED_BLOCKS + 1};
    struct hal_flash ps, pc;
    FILE *f;

    if (argc != 2 || sim_flash_open_mem(&dev, &g) != 0)
        return 2;
    if (chaingen_run(&gm, collect, &mm) != 0 ||
        chaingen_run(&gf, collect, &mf) != 0) {
        fprintf(stderr, "mkseed_chain: minting failed\n");
        return 1;
    }
    sim_flash_partition(&dev, &ps, "store", 0, FCM_STORE_SIZE);
    sim_flash_partition(&dev, &pc, "chain", FCM_STORE_SIZE, FCM_CHAIN_SIZE);
    if (store_mount(&st, &ps) != 0 || clog_mount(&lg, &pc, &st) != 0 ||
        chain_open(&ch, &lg, &st) != 0)
        return 1;
    /* the main chain in batches of 40 (the network picked from its
     * genesis, as chain_import does), a checkpoint half-way */
    ch.pf = &chain_testnet;
    if (extend(&ch, main_chain, 0, mm.n / 2, 40) != 0 ||
        clog_checkpoint(&lg) != 0 ||
        extend(&ch, main_chain, mm.n / 2, mm.n, 40) != 0)
        return 1;
    /* a heavier fork (difficulty 1 from CHAIN_SEED_BLOCKS - 100 on)
     * replaces its tail: a truncation slot and a batch */
    if (chain_truncate(&ch, CHAIN_SEED_BLOCKS - 100) != 0 ||
        extend(&ch, fork, CHAIN_SEED_BLOCKS - 100, mf.n - 30, 50) != 0)
        return 1;
    /* a trim moves the base (a checkpoint), then more batches; the
     * device is remounted once so a run starts after a gap */
    if (chain_trim(&ch, 60) != 0 || store_mount(&st, &ps) != 0 ||
        clog_mount(&lg, &pc, &st) != 0 || chain_open(&ch, &lg, &st) != 0 ||
        extend(&ch, fork, mf.n - 30, mf.n, 10) != 0)
        return 1;
    fprintf(stderr,
            "mkseed_chain: %u trailers stored, base %u, tip %u; log %u..%u, "
            "%u runs\n",
            (unsigned)ch.count, (unsigned)ch.base,
            (unsigned)chain_tip_bnum(&ch), lg.first, lg.end, lg.nruns);
    f = fopen(argv[1], "wb");
    if (f == NULL || fwrite(dev.map, 1, FCM_DEV_SIZE, f) != FCM_DEV_SIZE)
        return 1;
    return fclose(f) == 0 ? 0 : 1;
}
