/*
 * tests/fuzz/fuzz_store_mount.c - libFuzzer target: mount the record
 * store, the chain log and the control block from arbitrary flash bytes,
 * then read everything they claim to hold.  Nothing may crash, hang or
 * read out of bounds (ASan/UBSan), whatever the bytes.
 *
 * The input is laid over the start of a small device (store, then chain,
 * then control block); the rest stays erased, so short inputs explore
 * headers and long ones whole sectors.
 */
#include <stddef.h>
#include <stdint.h>
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sim_flash_geom g = {DEV_SIZE, ES, 16, 0xff};
    static struct sim_flash dev;
    static struct store st;
    static struct clog lg;
    static struct ctl ctl;
    static int opened;
    struct hal_flash ps, pc, pk;
    uint8_t buf[STORE_VAL_MAX];

    if (!opened) {
        if (sim_flash_open_mem(&dev, &g) != 0)
            return 0;
        opened = 1;
    }
    memset(dev.map, 0xff, DEV_SIZE);
    memset(dev.touched, 0xff, DEV_SIZE / 16 / 8);
    memcpy(dev.map, data, size < DEV_SIZE ? size : DEV_SIZE);
    sim_flash_power_on(&dev);
    sim_flash_partition(&dev, &ps, "store", 0, STORE_SIZE);
    sim_flash_partition(&dev, &pc, "chain", STORE_SIZE, CHAIN_SIZE);
    sim_flash_partition(&dev, &pk, "ctl", STORE_SIZE + CHAIN_SIZE, CTL_SIZE);
    if (store_mount(&st, &ps) == 0) {
        const char *key;
        size_t len;

        for (unsigned i = 0; store_key_at(&st, i, &key, &len) == 0; i++)
            store_get(&st, key, buf, sizeof(buf));
        store_check(&st, NULL, NULL);
        if (clog_mount(&lg, &pc, &st) == 0) {
            uint32_t n = 0;

            for (uint32_t i = lg.first; i < lg.end && n < 64; i++, n++)
                clog_read(&lg, i, buf);
        }
    }
    if (ctl_mount(&ctl, &pk) == 0)
        ctl_read(&ctl, buf, sizeof(buf));
    return 0;
}
