/*
 * tests/unit/test_blk.c - the blk flash backend: geometry, creation,
 * program/read/erase, windows, block partitions (write in place, one
 * sync), kinds kept apart, persistence, bad paths, and the record store
 * and the log ring running on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux/blk.h"
#include "store/logring.h"
#include "store/store.h"
#include "ut.h"

#define ES 4096u

static char path[64];

struct cnt {
    int n;
    char last[LOG_TEXT_MAX + 1];
};

static int
count_rec(void *arg, const struct log_rec *r)
{
    struct cnt *c = arg;

    c->n++;
    snprintf(c->last, sizeof(c->last), "%s", r->text);
    return 0;
}

int
main(void)
{
    struct blk_flash d;
    struct hal_flash p, q;
    uint8_t buf[BLK_PROG_SIZE], data[BLK_PROG_SIZE];
    static struct store st;
    struct stat sb;

    ut_suite = "flash_blk";
    snprintf(path, sizeof(path), "/tmp/keel-ut-blk-%d.img", (int)getpid());
    unlink(path);

    UT_CASE("geometry: erase size a power of two, at least 512");
    UT_CHECK_EQ(blk_flash_open(&d, path, 64 * ES, 256, 1), -EINVAL);
    UT_CHECK_EQ(blk_flash_open(&d, path, 64 * ES, 3 * 1024, 1), -EINVAL);
    UT_CHECK_EQ(blk_flash_open(&d, path, 0, ES, 1), -ENOENT);

    UT_CASE("a missing file is created erased at the size asked");
    UT_CHECK_EQ(blk_flash_open(&d, path, 64 * ES, ES, 1), 0);
    UT_CHECK_EQ(stat(path, &sb), 0);
    UT_CHECK_EQ(sb.st_size, 64 * ES);
    UT_CHECK_EQ(blk_flash_partition(&d, &p, "all", 0, 64 * ES, HAL_FLASH_RAW),
                0);
    UT_CHECK_EQ(hal_flash_read(&p, 63 * ES, buf, sizeof(buf)), 0);
    UT_CHECK(buf[0] == 0xff && buf[511] == 0xff);

    UT_CASE("program, read back, erase");
    memset(data, 0x42, sizeof(data));
    UT_CHECK_EQ(hal_flash_prog(&p, ES, data, sizeof(data)), 0);
    UT_CHECK_EQ(hal_flash_read(&p, ES, buf, sizeof(buf)), 0);
    UT_CHECK(memcmp(buf, data, sizeof(buf)) == 0);
    UT_CHECK_EQ(hal_flash_prog(&p, ES + 16, data, 16), -EINVAL);
    UT_CHECK_EQ(hal_flash_erase(&p, ES, ES), 0);
    UT_CHECK_EQ(hal_flash_read(&p, ES, buf, 4), 0);
    UT_CHECK_EQ(buf[0], 0xff);
    UT_CHECK_EQ(d.stats.progs, 1);
    UT_CHECK_EQ(d.stats.erases, 1);
    UT_CHECK(d.stats.syncs >= 2);

    UT_CASE("windows: offsets from the partition, bounds checked");
    UT_CHECK_EQ(blk_flash_partition(&d, &q, "q", 8 * ES, 8 * ES, HAL_FLASH_RAW),
                0);
    UT_CHECK_EQ(hal_flash_prog(&q, 0, data, sizeof(data)), 0);
    UT_CHECK_EQ(hal_flash_read(&p, 8 * ES, buf, 1), 0);
    UT_CHECK_EQ(buf[0], 0x42);
    UT_CHECK_EQ(hal_flash_read(&q, 8 * ES, buf, 1), -EINVAL);
    UT_CHECK_EQ(
        blk_flash_partition(&d, &q, "q", 60 * ES, 8 * ES, HAL_FLASH_RAW),
        -EINVAL);
    UT_CHECK_EQ(blk_flash_partition(&d, &q, "q", 100, ES, HAL_FLASH_RAW),
                -EINVAL);
    UT_CHECK_EQ(blk_flash_partition(&d, &q, "q", 0, ES, 7), -EINVAL);

    UT_CASE("a block partition: written in place, no erase, one sync");
    {
        static uint8_t big[16 * ES], back[16 * ES];
        struct hal_flash b;

        UT_CHECK_EQ(blk_flash_partition(&d, &b, "slot", 32 * ES, 32 * ES,
                                        HAL_FLASH_BLOCK),
                    0);
        UT_CHECK_EQ(b.kind, HAL_FLASH_BLOCK);
        UT_CHECK_EQ(b.prog_size, BLK_PROG_SIZE);
        memset(&d.stats, 0, sizeof(d.stats));
        for (int round = 0; round < 2; round++) {
            /* the second round overwrites the first: no erase between */
            for (size_t i = 0; i < sizeof(big); i++)
                big[i] = (uint8_t)(i * 7 + (size_t)round * 101);
            UT_CHECK_EQ(hal_flash_write(&b, 0, big, sizeof(big)), 0);
            UT_CHECK_EQ(hal_flash_write(&b, 16 * ES, big, BLK_PROG_SIZE), 0);
            UT_CHECK_EQ(hal_flash_sync(&b), 0);
            UT_CHECK_EQ(hal_flash_read(&b, 0, back, sizeof(back)), 0);
            UT_CHECK(memcmp(back, big, sizeof(big)) == 0);
        }
        UT_CHECK_EQ(d.stats.writes, 4);
        UT_CHECK_EQ(d.stats.bytes_written, 2 * (sizeof(big) + BLK_PROG_SIZE));
        UT_CHECK_EQ(d.stats.syncs, 2);
        UT_CHECK_EQ(d.stats.erases, 0);
        UT_CHECK_EQ(d.stats.progs, 0);

        UT_CASE("kinds kept apart: no prog or erase on a block partition, "
                "no write on a raw one");
        UT_CHECK_EQ(hal_flash_prog(&b, 0, data, sizeof(data)), -EINVAL);
        UT_CHECK_EQ(hal_flash_erase(&b, 0, ES), -EINVAL);
        UT_CHECK_EQ(hal_flash_write(&p, 0, data, sizeof(data)), -EINVAL);
        UT_CHECK_EQ(hal_flash_write(&b, 16, data, BLK_PROG_SIZE), -EINVAL);
        UT_CHECK_EQ(hal_flash_write(&b, 0, data, 16), -EINVAL);
        UT_CHECK_EQ(hal_flash_write(&b, 32 * ES, data, BLK_PROG_SIZE), -EINVAL);
        UT_CHECK_EQ(d.stats.writes, 4);
    }
    blk_flash_close(&d);

    UT_CASE("reopen keeps data; size 0 takes the file's size");
    UT_CHECK_EQ(blk_flash_open(&d, path, 0, ES, 0), 0);
    UT_CHECK_EQ(d.size, 64 * ES);
    blk_flash_partition(&d, &p, "all", 0, d.size, HAL_FLASH_RAW);
    UT_CHECK_EQ(hal_flash_read(&p, 8 * ES, buf, 1), 0);
    UT_CHECK_EQ(buf[0], 0x42);
    blk_flash_close(&d);
    UT_CHECK_EQ(blk_flash_open(&d, path, 128 * ES, ES, 1), -EINVAL);

    UT_CASE("a directory or an unreadable path is a clean error");
    UT_CHECK(blk_flash_open(&d, "/tmp", 0, ES, 0) < 0);
    UT_CHECK(blk_flash_open(&d, "/nonexistent/dir/x.img", ES, ES, 1) < 0);

    UT_CASE("the record store runs on it and survives a reopen");
    UT_CHECK_EQ(blk_flash_open(&d, path, 0, ES, 0), 0);
    blk_flash_partition(&d, &p, "store", 0, 32 * ES, HAL_FLASH_RAW);
    UT_CHECK_EQ(hal_flash_erase(&p, 0, 32 * ES), 0);
    UT_CHECK_EQ(store_mount(&st, &p), 0);
    UT_CHECK_EQ(store_put(&st, "on.disk", "yes", 3), 0);
    blk_flash_close(&d);
    UT_CHECK_EQ(blk_flash_open(&d, path, 0, ES, 0), 0);
    blk_flash_partition(&d, &p, "store", 0, 32 * ES, HAL_FLASH_RAW);
    UT_CHECK_EQ(store_mount(&st, &p), 0);
    UT_CHECK_EQ(store_get(&st, "on.disk", buf, sizeof(buf)), 3);
    UT_CHECK(memcmp(buf, "yes", 3) == 0);
    blk_flash_close(&d);

    UT_CASE("the log ring takes 512-byte units: a record a unit, kept "
            "across a reopen, the next boot in a new sector");
    {
        static struct logring lr;
        struct cnt c = {0};
        uint8_t raw[BLK_PROG_SIZE];

        UT_CHECK_EQ(blk_flash_open(&d, path, 0, ES, 0), 0);
        blk_flash_partition(&d, &p, "log", 32 * ES, 16 * ES, HAL_FLASH_RAW);
        UT_CHECK_EQ(hal_flash_erase(&p, 0, 16 * ES), 0);
        UT_CHECK_EQ(logring_mount(&lr, &p, 0), 0);
        UT_CHECK_EQ(logring_append(&lr, LOG_INFO, 0, "first"), 0);
        UT_CHECK_EQ(logring_append(&lr, LOG_WARN, 0, "second"), 0);
        UT_CHECK_EQ(lr.bytes, 2 * BLK_PROG_SIZE);
        /* the header's unit, then one unit per record, then erased */
        UT_CHECK_EQ(hal_flash_read(&p, 2 * BLK_PROG_SIZE, raw, sizeof(raw)), 0);
        UT_CHECK(raw[0] != 0xff && raw[BLK_PROG_SIZE - 1] == 0xff);
        UT_CHECK_EQ(hal_flash_read(&p, 3 * BLK_PROG_SIZE, raw, sizeof(raw)), 0);
        UT_CHECK(raw[0] == 0xff && raw[BLK_PROG_SIZE - 1] == 0xff);
        blk_flash_close(&d);
        UT_CHECK_EQ(blk_flash_open(&d, path, 0, ES, 0), 0);
        blk_flash_partition(&d, &p, "log", 32 * ES, 16 * ES, HAL_FLASH_RAW);
        UT_CHECK_EQ(logring_mount(&lr, &p, 0), 0);
        UT_CHECK_EQ(lr.boot, 2);
        UT_CHECK_EQ(logring_append(&lr, LOG_INFO, 0, "boot two"), 0);
        UT_CHECK_EQ(logring_walk(&lr, count_rec, &c), 3);
        UT_CHECK_EQ(c.n, 3);
        UT_CHECK(strcmp(c.last, "boot two") == 0);
        UT_CHECK_EQ(lr.torn, 0);
        blk_flash_close(&d);
    }

    unlink(path);
    return ut_done();
}
