/*
 * tests/bench/chain_bench.c - the chain layer, built as the firmware is:
 *   chain.validate.trailers_per_s   structure rules, no proof of work,
 *                                   over 100,000 testnet trailers
 *   chain.peach.us_per_check        peach on mainnet block 0x128ff
 *   chain.peach.us_per_check.mainnet3  the mean over the three mainnet
 *                                   proofs of keel's vectors (0x128ff,
 *                                   0x12fff, 0x1ffff), the ones the
 *                                   Mochimo reference node's own peach
 *                                   test checks: what its figure is
 *                                   compared with (each proof picks
 *                                   its hashes from its data, so one
 *                                   proof alone is not the mean)
 *   chain.peach.stack_bytes         stack the check used (its peak RAM:
 *                                   it allocates nothing else)
 *   chain.verify_100k.s             `chain verify --pow` work on 100,000
 *                                   stored trailers at difficulty 1
 *                                   (every standard block's peach is
 *                                   computed), through the chain log on
 *                                   the sim flash
 *   chain.gen_100k.s                keel-chaingen's work for 100,000
 *                                   blocks at difficulty 0 and at 1
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../hal/sim/flash_sim.h"
#include "chain/chain.h"
#include "chain/gen.h"
#include "chain/peach.h"
#include "hal/clock.h"
#include "ut_mem.h"

#define N 100000

static const char vec[] =
    "c87fdc08ad6a53ef5fd0f98bf2a66db6c58426787cb771244ef7fc574b454695ff2801"
    "0000000000f40100000000000003000000bcc21c5d20000000f0f958eb58ebe50b2cc8"
    "bc84f4f00b7480e9d2f610fe61127438c8f7e8930a6f0f77e201a50112000000000000"
    "00000055d6016bf2012a0000000000000000002bc41c5de48aca7bfabddb92afbe0852"
    "7bfd49710dfc5fffe8ed15df5b7c7a30e4b40a51";
/* mainnet blocks 0x12fff and 0x1ffff (tests/vectors/peach-mainnet.txt) */
static const char vec2[] =
    "fa3c9f108d128156cc68318255c514e7199bdc6c70e8dcf5b8a5127734df605eff2f01"
    "0000000000f40100000000000002000000b0eb245d24000000d5cf681d3f006f3f0c49"
    "ee6f2cd90308f577d390632744ea314b368817d03594fdd90168d80118000000000000"
    "0000001e0f54d801da150301053d81000000007ded245d69c5dee163bd2d72c25bdcf7"
    "3fc3615a853417ef53c53f4f3be59a1d68888cae";
static const char vec3[] =
    "54b41430e1af0ae1fb4b2abf4b92334e88667caedc23dc45723bb4dcbe372ea9ffff01"
    "0000000000f4010000000000000a0000006b8f155e22000000ed5ac4b3d4e112b32ee7"
    "a1d7ccde55ebb5056a081f0d0d12fd807fa79a605d9c0cff0105c0011e000000000000"
    "000000fbe1010f0560c7030157000000000000f18f155e57a5ba1bb3ed926f99f4ebe1"
    "e2f18fa085e958009c1bab2e59f612b58c04ae66";

static void
unhex160(const char *h, uint8_t t[160])
{
    for (size_t i = 0; i < 160; i++) {
        unsigned v;

        sscanf(h + 2 * i, "%2x", &v);
        t[i] = (uint8_t)v;
    }
}

/* Reading what another frame left is the point here. */
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

/* Stack use: paint 64 KiB where the callee's frames will go, run the
 * check from the same depth, then see how much of the paint is gone. */
#define PAINT 65536
static __attribute__((noinline)) void
paint(void)
{
    volatile uint8_t a[PAINT];

    for (size_t i = 0; i < PAINT; i++)
        a[i] = 0xa5;
}

static __attribute__((noinline)) size_t
unpainted(void)
{
    volatile uint8_t a[PAINT];
    size_t i = 0;

    while (i < PAINT && a[i] == 0xa5)
        i++;
    return PAINT - i;
}

static __attribute__((noinline)) int
run_check(const uint8_t *t)
{
    return peach_check(t, NULL);
}

/* The d1 chain takes two minutes to mint: keep it between runs. */
static int
load_or_mint(const char *path, const struct chaingen *g, struct mem *m)
{
    FILE *f = fopen(path, "rb");
    uint64_t t0 = hal_clock_ms();

    if (f != NULL) {
        m->len = fread(m->p, 1, (size_t)(N + 1) * TRAILER_LEN, f);
        fclose(f);
        if (m->len == (size_t)(N + 1) * TRAILER_LEN)
            return 0;
    }
    m->len = 0;
    if (chaingen_run(g, mem_put, m) != 0)
        return -1;
    printf("bench chain.gen_100k.d1.s %.2f\n",
           (double)(hal_clock_ms() - t0) / 1e3);
    f = fopen(path, "wb");
    if (f != NULL) {
        fwrite(m->p, 1, m->len, f);
        fclose(f);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    static struct sim_flash dev;
    static struct hal_flash pstore, plog;
    static struct store st;
    static struct clog lg;
    static struct chain ch;
    struct mem m = {malloc((size_t)(N + 1) * TRAILER_LEN), 0,
                    (size_t)(N + 1) * TRAILER_LEN};
    struct chaingen g = {N, 0, 0, 7, 0, 0, 0, GEN_OK, 0};
    uint8_t t[160];
    uint64_t t0, t1;
    double s;

    setvbuf(stdout, NULL, _IOLBF, 0);
    /* chaingen, difficulty 0 */
    g.pseudo_every = 7;
    t0 = hal_clock_ms();
    chaingen_run(&g, mem_put, &m);
    printf("bench chain.gen_100k.d0.s %.2f\n",
           (double)(hal_clock_ms() - t0) / 1e3);

    /* structure validation */
    {
        struct chain_opts o = {0, 0};
        unsigned bad = 0;

        t0 = hal_clock_ms();
        for (int rep = 0; rep < 5; rep++)
            for (size_t i = 1; i <= N; i++)
                bad += chain_check(&chain_testnet, m.p + (i - 1) * TRAILER_LEN,
                                   m.p + i * TRAILER_LEN, &o) != CHAIN_OK;
        t1 = hal_clock_ms() - t0;
        printf("bench chain.validate.trailers_per_s %.0f\n",
               5.0 * N / ((double)(t1 ? t1 : 1) / 1e3));
        if (bad)
            return 1;
    }

    /* peach */
    unhex160(vec, t);
    t0 = hal_clock_ms();
    for (int i = 0; i < 2000; i++)
        if (peach_check(t, NULL) != 0)
            return 1;
    t1 = hal_clock_ms() - t0;
    printf("bench chain.peach.us_per_check %.0f\n", (double)t1 * 1e3 / 2000);
    {
        const char *v3[3] = {vec, vec2, vec3};
        uint8_t u[160];

        t0 = hal_clock_ms();
        for (int k = 0; k < 3; k++) {
            unhex160(v3[k], u);
            for (int i = 0; i < 700; i++)
                if (peach_check(u, NULL) != 0)
                    return 1;
        }
        t1 = hal_clock_ms() - t0;
        printf("bench chain.peach.us_per_check.mainnet3 %.0f\n",
               (double)t1 * 1e3 / 2100);
    }
    paint();
    run_check(t);
    printf("bench chain.peach.stack_bytes %zu\n", unpainted());

    /* a difficulty-1 chain, stored on the sim flash, verified with pow */
    g.difficulty = 1;
    g.seed = 11;
    if (load_or_mint(argc > 1 ? argv[1] : "build/bench/chain-d1-100k.dat", &g,
                     &m) != 0)
        return 1;
    {
        /* 100,001 slots of 176 bytes: a 24 MiB chain log */
        static const struct sim_flash_geom geo = {(8 * 16384u) + (4096u * 6144),
                                                  4096, 16, 0xff};
        struct chain_import_res r;
        struct chain_opts o = {0, 0};

        if (sim_flash_open_mem(&dev, &geo) != 0 ||
            sim_flash_partition(&dev, &pstore, "store", 0, 8 * 16384u) != 0 ||
            sim_flash_partition(&dev, &plog, "chain", 8 * 16384u,
                                4096u * 6144) != 0 ||
            store_mount(&st, &pstore) != 0 || clog_mount(&lg, &plog, &st) ||
            chain_open(&ch, &lg, &st) != 0)
            return 1;
        if (chain_import(&ch, m.len, mem_read, &m, &o, &r) != 0 ||
            r.appended != N + 1) {
            fprintf(stderr, "import: %s (%llu appended)\n", ch.why,
                    (unsigned long long)r.appended);
            return 1;
        }
        /* what `chain verify --pow` does, step for step */
        o.pow = 1;
        t0 = hal_clock_ms();
        {
            uint8_t p[160], c[160];

            chain_read(&ch, 0, p);
            for (uint64_t b = 1; b <= N; b++) {
                chain_read(&ch, b, c);
                if (chain_check(ch.pf, p, c, &o) != CHAIN_OK)
                    return 1;
                memcpy(p, c, 160);
            }
        }
        s = (double)(hal_clock_ms() - t0) / 1e3;
        printf("bench chain.verify_100k.s %.1f\n", s);
    }
    return 0;
}
