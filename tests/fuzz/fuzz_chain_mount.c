/*
 * tests/fuzz/fuzz_chain_mount.c - libFuzzer target: mount a damaged
 * store + chain log and use the chain found there.
 *
 * The input is laid over a small device (fuzz_chain_mount.h: record
 * store, then chain log); the rest stays erased, and every program unit
 * that does not read erased counts as programmed, as when the sim board
 * opens an image file.  The seed (mkseed_chain) is a real chain of a
 * few hundred trailers stored as the node stores it, so mutations start
 * from valid sector headers, records, slots, a chain-log checkpoint and
 * a chain state.
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

static struct sim_flash dev;
static struct hal_flash ps, pc;
static struct store st;
static struct clog lg;
static struct chain ch;

/* Lay data over the device; units that do not read erased are
 * programmed (touched), the rest may be programmed. */
static void
load(const uint8_t *data, size_t size)
{
    size_t n = size < FCM_DEV_SIZE ? size : FCM_DEV_SIZE;

    memset(dev.map, 0xff, FCM_DEV_SIZE);
    memcpy(dev.map, data, n);
    memset(dev.touched, 0, FCM_DEV_SIZE / 16 / 8);
    for (size_t u = 0; u < n / 16 + (n % 16 != 0); u++)
        for (size_t i = u * 16; i < u * 16 + 16; i++)
            if (dev.map[i] != 0xff) {
                dev.touched[u / 8] |= (uint8_t)(1u << (u % 8));
                break;
            }
    sim_flash_power_on(&dev);
}

/* Read every record the log claims (it never claims more than it has
 * slots: a mount that does is a finding). */
static void
read_log(void)
{
    uint8_t rec[CLOG_REC];

    if (lg.end - lg.first > lg.nslots)
        abort();
    for (uint32_t i = lg.first; i < lg.end; i++)
        (void)clog_read(&lg, i, rec);
}

static void
read_chain(void)
{
    uint8_t t[TRAILER_LEN];

    if (ch.count > lg.nslots)
        abort();
    for (uint64_t b = ch.base; ch.count > 0 && b <= chain_tip_bnum(&ch); b++)
        (void)chain_read(&ch, b, t);
}

static int
mount_all(void)
{
    if (store_mount(&st, &ps) != 0)
        return -1;
    if (clog_mount(&lg, &pc, &st) != 0)
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
    static const struct sim_flash_geom g = {FCM_DEV_SIZE, FCM_ERASE, 16, 0xff};
    static int opened;
    uint8_t buf[STORE_VAL_MAX];
    const char *key;
    size_t len;

    if (!opened) {
        if (sim_flash_open_mem(&dev, &g) != 0)
            return 0;
        sim_flash_partition(&dev, &ps, "store", 0, FCM_STORE_SIZE);
        sim_flash_partition(&dev, &pc, "chain", FCM_STORE_SIZE, FCM_CHAIN_SIZE);
        opened = 1;
    }
    load(data, size);
    if (store_mount(&st, &ps) != 0)
        return 0;
    for (unsigned i = 0; store_key_at(&st, i, &key, &len) == 0; i++)
        (void)store_get(&st, key, buf, sizeof(buf));
    (void)store_check(&st, NULL, NULL);
    if (clog_mount(&lg, &pc, &st) != 0)
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
