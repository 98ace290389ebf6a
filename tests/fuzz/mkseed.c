/*
 * tests/fuzz/mkseed.c - write a seed input for fuzz_store_mount: a small
 * device with a real record store (puts, a group, deletes, enough churn
 * for a compaction), a chain log with appends, a truncation and a
 * checkpoint, and a control block - so the fuzzer starts from valid
 * structures and mutates inwards.  Usage: mkseed FILE
 */
#include <stdio.h>
#include <string.h>

#include "../../hal/sim/flash_sim.h"
#include "store/clog.h"
#include "store/ctl.h"
#include "store/store.h"

#define ES 4096u
#define STORE_SIZE (6 * 16384u)
#define CHAIN_SIZE (4 * ES)
#define CTL_SIZE (2 * ES)
#define DEV_SIZE (STORE_SIZE + CHAIN_SIZE + CTL_SIZE)

int
main(int argc, char **argv)
{
    static const struct sim_flash_geom g = {DEV_SIZE, ES, 16, 0xff};
    static struct sim_flash dev;
    static struct store st;
    static struct clog lg;
    static struct ctl ctl;
    static uint8_t recs[40 * CLOG_REC];
    struct hal_flash ps, pc, pk;
    struct store_entry grp[2] = {{"g.a", "1", 1, 0}, {"g.b", "22", 2, 0}};
    char name[16], v[300];
    FILE *f;

    if (argc != 2 || sim_flash_open_mem(&dev, &g) != 0)
        return 2;
    sim_flash_partition(&dev, &ps, "store", 0, STORE_SIZE);
    sim_flash_partition(&dev, &pc, "chain", STORE_SIZE, CHAIN_SIZE);
    sim_flash_partition(&dev, &pk, "ctl", STORE_SIZE + CHAIN_SIZE, CTL_SIZE);
    store_mount(&st, &ps);
    for (int i = 0; i < 400; i++) {
        snprintf(name, sizeof(name), "k%d", i % 12);
        memset(v, 'a' + i % 26, sizeof(v));
        store_put(&st, name, v, (size_t)(i % 300));
    }
    store_commit(&st, grp, 2);
    store_del(&st, "k3");
    clog_mount(&lg, &pc, &st);
    for (uint32_t i = 0; i < 40; i++)
        memset(recs + i * CLOG_REC, (int)i, CLOG_REC);
    clog_append(&lg, recs, 30);
    clog_truncate(&lg, 25);
    clog_append(&lg, recs, 10);
    clog_checkpoint(&lg);
    clog_append(&lg, recs, 5);
    ctl_mount(&ctl, &pk);
    ctl_write(&ctl, "boot", 4);
    ctl_write(&ctl, "boot2", 5);
    f = fopen(argv[1], "wb");
    if (f == NULL || fwrite(dev.map, 1, DEV_SIZE, f) != DEV_SIZE)
        return 1;
    return fclose(f) == 0 ? 0 : 1;
}
