/*
 * tests/fuzz/fuzz_chain_mount.c - libFuzzer target: mount a damaged
 * store + chain log and use the chain found there.
 *
 * The input's first byte picks the device (fuzz_chain_mount.h: NOR, or
 * NAND where the chain log packs slots to 2 KiB pages); the rest is laid
 * over it (record store, then chain log), the remainder stays erased,
 * and every program unit that does not read erased counts as
 * programmed, as when the sim board opens an image file.  The seeds
 * (mkseed_chain) are a real chain of a few hundred trailers stored as
 * the node stores it, on each device, so mutations start from valid
 * sector headers, records, slots (packed pages among them), a chain-log
 * checkpoint and a chain state.
 *
 * Per input: mount the store and read every key; mount the chain log
 * and read every record it claims; open the chain and read every
 * trailer from base to tip; trim half of it (the weight is found
 * forward, or back from the tip past unreadable trailers) and read
 * again; then remount everything and read again.  Nothing may crash,
 * read out of bounds (ASan/UBSan) or run unbounded: a mounted log never
 * claims more records than its ring has slots, and every loop here is
 * bounded by that.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../hal/sim/flash_sim.h"
#include "chain/chain.h"
#include "fuzz_chain_mount.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The two devices, opened once; the input picks one. */
static struct sim_flash devs[2];
static struct hal_flash pss[2], pcs[2];
static struct hal_flash *ps, *pc;
static struct store st;
static struct clog lg;
static struct chain ch;

/* Lay data over device d; units that do not read erased are programmed
 * (touched), the rest may be programmed. */
static void
load(struct sim_flash *d, const uint8_t *data, size_t size)
{
    size_t dev_size = (size_t)d->geom.size, unit = d->geom.prog_size;
    size_t n = size < dev_size ? size : dev_size;

    memset(d->map, 0xff, dev_size);
    memcpy(d->map, data, n);
    memset(d->touched, 0, dev_size / unit / 8);
    for (size_t u = 0; u < n / unit + (n % unit != 0); u++)
        for (size_t i = u * unit; i < u * unit + unit && i < dev_size; i++)
            if (d->map[i] != 0xff) {
                d->touched[u / 8] |= (uint8_t)(1u << (u % 8));
                break;
            }
    sim_flash_power_on(d);
}

/* Read every record the log claims (it never claims more than it has
 * slots: a mount that does is a finding). */
static void
read_log(void)
{
    uint8_t rec[CLOG_REC];

    if (lg.end - lg.first > lg.npages * lg.per_page)
        abort();
    for (uint32_t i = lg.first; i < lg.end; i++)
        (void)clog_read(&lg, i, rec);
}

static void
read_chain(void)
{
    uint8_t t[TRAILER_LEN];

    if (ch.count > (uint64_t)lg.npages * lg.per_page)
        abort();
    for (uint64_t b = ch.base; ch.count > 0 && b <= chain_tip_bnum(&ch); b++)
        (void)chain_read(&ch, b, t);
}

static int
mount_all(void)
{
    if (store_mount(&st, ps) != 0)
        return -1;
    if (clog_mount(&lg, pc, &st) != 0)
        return -1;
    read_log();
    if (chain_open(&ch, &lg, &st) != 0)
        return -1;
    read_chain();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sim_flash_geom g[2] = {
        {FCM_DEV_SIZE, FCM_ERASE, 16, 0xff},
        {FCM_NAND_DEV_SIZE, FCM_NAND_ERASE, FCM_NAND_PROG, 0xff},
    };
    static const uint32_t store_size[2] = {FCM_STORE_SIZE, FCM_NAND_STORE_SIZE};
    static const uint32_t chain_size[2] = {FCM_CHAIN_SIZE, FCM_NAND_CHAIN_SIZE};
    static int opened;
    uint8_t buf[STORE_VAL_MAX];
    const char *key;
    size_t len;
    int k;

    if (!opened) {
        for (k = 0; k < 2; k++) {
            if (sim_flash_open_mem(&devs[k], &g[k]) != 0)
                return 0;
            sim_flash_partition(&devs[k], &pss[k], "store", 0, store_size[k]);
            sim_flash_partition(&devs[k], &pcs[k], "chain", store_size[k],
                                chain_size[k]);
        }
        opened = 1;
    }
    if (size == 0)
        return 0;
    k = data[0] & 1;
    ps = &pss[k];
    pc = &pcs[k];
    load(&devs[k], data + 1, size - 1);
    if (store_mount(&st, ps) != 0)
        return 0;
    for (unsigned i = 0; store_key_at(&st, i, &key, &len) == 0; i++)
        (void)store_get(&st, key, buf, sizeof(buf));
    (void)store_check(&st, NULL, NULL);
    if (clog_mount(&lg, pc, &st) != 0)
        return 0;
    read_log();
    if (chain_open(&ch, &lg, &st) != 0)
        return 0;
    read_chain();
    if (ch.count > 2) {
        (void)chain_trim(&ch, ch.base + ch.count / 2);
        read_chain();
    }
    /* What the chain kept must mount again. */
    (void)mount_all();
    return 0;
}
