/*
 * tests/unit/test_store.c - record store, chain log and control block:
 * the API's edges, corruption, full flash, and mounts of garbage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../hal/sim/flash_sim.h"
#include "store/clog.h"
#include "lib/crc32c.h"
#include "store/ctl.h"
#include "store/store.h"
#include "ut.h"
#include "ut_store.h"

#define ES 4096u
#define STORE_SIZE (8 * 16384u)
#define CHAIN_SIZE (16 * ES)
#define CTL_SIZE (2 * ES)
#define DEV_SIZE (STORE_SIZE + CHAIN_SIZE + CTL_SIZE)

static struct sim_flash dev;
static struct hal_flash pstore, pchain, pctl;
static struct store st;
static struct clog lg;
static struct ctl ctl;
static uint32_t rs = 12345;

static uint32_t
rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return rs;
}

static void
dev_new(void)
{
    static const struct sim_flash_geom g = {DEV_SIZE, ES, 16, 0xff};

    sim_flash_open_mem(&dev, &g);
    sim_flash_partition(&dev, &pstore, "store", 0, STORE_SIZE);
    sim_flash_partition(&dev, &pchain, "chain", STORE_SIZE, CHAIN_SIZE);
    sim_flash_partition(&dev, &pctl, "ctl", STORE_SIZE + CHAIN_SIZE, CTL_SIZE);
}

static void
test_crc(void)
{
    UT_CASE("crc32c check value and chaining");
    UT_CHECK_EQ(lib_crc32c(0, "123456789", 9), 0xe3069283u);
    UT_CHECK_EQ(lib_crc32c(lib_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
    UT_CHECK_EQ(lib_crc32c(0, "", 0), 0);
    UT_CASE("crc32c tables are the polynomial's");
    {
        uint32_t t0[256];
        int same = 1;

        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;

            for (int k = 0; k < 8; k++)
                c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
            t0[i] = c;
            same &= lib_crc32c_tab[0][i] == c;
        }
        for (int t = 1; t < 4; t++)
            for (uint32_t i = 0; i < 256; i++) {
                uint32_t p = lib_crc32c_tab[t - 1][i];

                same &= lib_crc32c_tab[t][i] == ((p >> 8) ^ t0[p & 0xff]);
            }
        UT_CHECK(same);
    }
}

static void
test_store_api(void)
{
    char v[STORE_VAL_MAX + 1], big[STORE_VAL_MAX + 1];
    static const struct {
        const char *key;
        int ok;
    } keys[] = {
        {"a", 1},
        {"config.net.port", 1},
        {"0123456789abcdef0123456789abcdef", 1},
        {"0123456789abcdef0123456789abcdefX", 0},
        {"", 0},
        {"has space", 0},
        {"tab\there", 0},
        {"ctl\x01", 0},
        {"caf\xc3\xa9", 0},
    };

    dev_new();
    UT_CASE("mount of a blank partition");
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK_EQ(st.nkeys, 0);
    UT_CHECK_EQ(store_get(&st, "a", v, sizeof(v)), -ENOENT);

    UT_CASE("key validation table");
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        UT_CHECK_EQ(store_put(&st, keys[i].key, "x", 1),
                    keys[i].ok ? 0 : -EINVAL);
    UT_CHECK_EQ(store_put(&st, NULL, "x", 1), -EINVAL);

    UT_CASE("value sizes: empty, 4096, 4097");
    memset(big, 'v', sizeof(big));
    UT_CHECK_EQ(store_put(&st, "empty", NULL, 0), 0);
    UT_CHECK_EQ(store_get(&st, "empty", v, sizeof(v)), 0);
    UT_CHECK_EQ(store_put(&st, "big", big, STORE_VAL_MAX), 0);
    UT_CHECK_EQ(store_get(&st, "big", v, sizeof(v)), STORE_VAL_MAX);
    UT_CHECK(memcmp(v, big, STORE_VAL_MAX) == 0);
    UT_CHECK_EQ(store_put(&st, "big", big, STORE_VAL_MAX + 1), -EINVAL);
    UT_CHECK_EQ(store_get(&st, "big", v, 10), -ENOBUFS);

    UT_CASE("replace, delete, delete of a missing key");
    UT_CHECK_EQ(store_put(&st, "a", "one", 3), 0);
    UT_CHECK_EQ(store_put(&st, "a", "two!", 4), 0);
    UT_CHECK_EQ(store_get(&st, "a", v, sizeof(v)), 4);
    UT_CHECK(memcmp(v, "two!", 4) == 0);
    UT_CHECK_EQ(store_del(&st, "a"), 0);
    UT_CHECK_EQ(store_get(&st, "a", v, sizeof(v)), -ENOENT);
    UT_CHECK_EQ(store_del(&st, "a"), -ENOENT);

    UT_CASE("group commit: all visible; duplicates and bad rows refused");
    {
        struct store_entry g[3] = {
            {"g1", "x", 1, 0}, {"g2", "yy", 2, 0}, {"empty", NULL, 0, 1}};
        struct store_entry dup[2] = {{"g1", "a", 1, 0}, {"g1", "b", 1, 0}};
        struct store_entry miss[2] = {{"g3", "a", 1, 0},
                                      {"nosuch", NULL, 0, 1}};

        UT_CHECK_EQ(store_commit(&st, g, 3), 0);
        UT_CHECK_EQ(store_get(&st, "g2", v, sizeof(v)), 2);
        UT_CHECK_EQ(store_get(&st, "empty", v, sizeof(v)), -ENOENT);
        UT_CHECK_EQ(store_commit(&st, dup, 2), -EINVAL);
        UT_CHECK_EQ(store_commit(&st, miss, 2), -ENOENT);
        UT_CHECK_EQ(store_get(&st, "g3", v, sizeof(v)), -ENOENT);
        UT_CHECK_EQ(store_commit(&st, g, 0), -EINVAL);
        UT_CHECK_EQ(store_commit(&st, g, STORE_GROUP_MAX + 1), -EINVAL);
    }
    UT_CASE("a group larger than one record is refused whole");
    {
        struct store_entry g[2] = {{"h1", big, 3000, 0}, {"h2", big, 3000, 0}};

        UT_CHECK_EQ(store_commit(&st, g, 2), -EINVAL);
        UT_CHECK_EQ(store_get(&st, "h1", v, sizeof(v)), -ENOENT);
    }

    UT_CASE("everything survives a remount");
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK_EQ(store_get(&st, "big", v, sizeof(v)), STORE_VAL_MAX);
    UT_CHECK_EQ(store_get(&st, "g1", v, sizeof(v)), 1);
    UT_CHECK_EQ(store_get(&st, "a", v, sizeof(v)), -ENOENT);
    UT_CHECK_EQ(store_put(&st, "after", "remount", 7), 0);
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK_EQ(store_get(&st, "after", v, sizeof(v)), 7);
    sim_flash_close(&dev);
}

static void
test_store_full(void)
{
    char v[2048], name[16];
    int n = 0, rc = 0, lost = 0;

    dev_new();
    store_mount(&st, &pstore);
    UT_CASE("fill until -ENOSPC: an error, never corruption");
    memset(v, 0x5c, sizeof(v));
    while (n < 10000) {
        snprintf(name, sizeof(name), "f%d", n);
        v[0] = (char)n;
        rc = store_put(&st, name, v, sizeof(v));
        if (rc != 0)
            break;
        n++;
    }
    UT_CHECK_EQ(rc, -ENOSPC);
    UT_CHECK(n > 20);
    /* Replacing a value with one the same size still works when full. */
    snprintf(name, sizeof(name), "f%d", 0);
    v[0] = 0;
    UT_CHECK_EQ(store_put(&st, name, v, sizeof(v)), 0);

    UT_CASE("after -ENOSPC and a remount everything committed reads back");
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    for (int i = 0; i < n; i++) {
        char got[2048];

        snprintf(name, sizeof(name), "f%d", i);
        if (store_get(&st, name, got, sizeof(got)) != (int)sizeof(got) ||
            got[0] != (char)i || got[1] != 0x5c)
            lost++;
    }
    UT_CHECK_EQ(lost, 0);

    UT_CASE("deleting frees space for new values");
    for (int i = 0; i < n / 2; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        UT_CHECK_EQ(store_del(&st, name), 0);
    }
    for (int i = 0; i < 10 * n; i++) {
        snprintf(name, sizeof(name), "n%d", i % (n / 4));
        v[0] = (char)i;
        rc = store_put(&st, name, v, sizeof(v));
        if (rc != 0)
            break;
    }
    UT_CHECK_EQ(rc, 0);
    UT_CHECK(st.compactions > 0);
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK_EQ(store_get(&st, "n0", v, sizeof(v)), (int)sizeof(v));

    UT_CASE("too many keys is -ENOSPC");
    sim_flash_close(&dev);
    dev_new();
    store_mount(&st, &pstore);
    for (n = 0; n < STORE_KEYS_MAX; n++) {
        snprintf(name, sizeof(name), "k%d", n);
        if (store_put(&st, name, "v", 1) != 0)
            break;
    }
    UT_CHECK_EQ(n, STORE_KEYS_MAX);
    UT_CHECK_EQ(store_put(&st, "onemore", "v", 1), -ENOSPC);
    sim_flash_close(&dev);
}

static void
test_store_flips(void)
{
    int wrong = 0, detected = 0, trials = 300;

    UT_CASE("a bit flipped in a stored record is detected, never returned");
    for (int t = 0; t < trials; t++) {
        char v[64], name[16];
        uint32_t end;

        dev_new();
        store_mount(&st, &pstore);
        for (int k = 0; k < 20; k++) {
            snprintf(name, sizeof(name), "k%d", k);
            memset(v, 'a' + k, sizeof(v));
            store_put(&st, name, v, (size_t)(10 + k));
        }
        end = st.sec[st.head].used;
        /* Flip one bit somewhere in the written part of the head. */
        uint64_t off = (uint64_t)st.head * st.sector_size + rnd() % end;
        sim_flash_corrupt(&dev, off, (uint8_t)(1u << (rnd() % 8)));
        int bad_before = (int)st.bad_records;

        store_mount(&st, &pstore);
        for (int k = 0; k < 20; k++) {
            int n;

            snprintf(name, sizeof(name), "k%d", k);
            n = store_get(&st, name, v, sizeof(v));
            if (n == -ENOENT || n == -EBADMSG) {
                detected++;
                continue;
            }
            if (n != 10 + k)
                wrong++;
            for (int i = 0; i < n; i++)
                wrong += v[i] != 'a' + k;
        }
        (void)bad_before;
        sim_flash_close(&dev);
    }
    UT_CHECK_EQ(wrong, 0);
    UT_CHECK(detected > 0);

    UT_CASE("a flip after mount is caught by get and counted");
    {
        char v[16];

        dev_new();
        store_mount(&st, &pstore);
        store_put(&st, "x", "0123456789", 10);
        sim_flash_corrupt(&dev,
                          (uint64_t)st.keys[0].sector * st.sector_size +
                              st.keys[0].rec_off + st.keys[0].val_off,
                          0x10);
        UT_CHECK_EQ(store_get(&st, "x", v, sizeof(v)), -EBADMSG);
        UT_CHECK_EQ(st.bad_records, 1);
        UT_CHECK_EQ(store_check(&st, NULL, NULL), 1);
        sim_flash_close(&dev);
    }
}

static void
test_garbage(void)
{
    int ok = 1;

    UT_CASE("mounting garbage never crashes and never invents keys wrongly");
    for (int t = 0; t < 200; t++) {
        dev_new();
        /* Random bytes, or erased space with random valid-looking
         * headers sprinkled in. */
        for (uint64_t i = 0; i < DEV_SIZE; i++)
            dev.map[i] = t % 2 ? (uint8_t)rnd() : 0xff;
        if (t % 2 == 0)
            for (int k = 0; k < 200; k++) {
                uint64_t o = (rnd() % (DEV_SIZE / 16)) * 16;

                dev.map[o] = 0x4b;
                dev.map[o + 1] = 0x52;
                dev.map[o + 2] = 1;
                dev.map[o + 3] = (uint8_t)(1 + rnd() % 3);
            }
        if (store_mount(&st, &pstore) == 0) {
            char v[STORE_VAL_MAX];
            const char *key;
            size_t len;

            for (unsigned i = 0; store_key_at(&st, i, &key, &len) == 0; i++)
                ok &= store_get(&st, key, v, sizeof(v)) != -EFAULT;
            clog_mount(&lg, &pchain, &st);
        }
        ctl_mount(&ctl, &pctl);
        sim_flash_close(&dev);
    }
    UT_CHECK(ok);
}

static void
test_ctl(void)
{
    uint8_t b[CTL_PAYLOAD_MAX];

    dev_new();
    UT_CASE("control block: blank, write, read, alternate copies");
    UT_CHECK_EQ(ctl_mount(&ctl, &pctl), -ENOENT);
    UT_CHECK_EQ(ctl_read(&ctl, b, sizeof(b)), -ENOENT);
    UT_CHECK_EQ(ctl_write(&ctl, "first", 5), 0);
    /* both copies are written: copy 0 first, then copy 1 */
    UT_CHECK_EQ(ctl.newest, 1);
    UT_CHECK(ctl.valid[0] && ctl.valid[1]);
    UT_CHECK_EQ(ctl_write(&ctl, "second", 6), 0);
    UT_CHECK_EQ(ctl.newest, 1);
    UT_CHECK_EQ(ctl_mount(&ctl, &pctl), 0);
    UT_CHECK_EQ(ctl_read(&ctl, b, sizeof(b)), 6);
    UT_CHECK(memcmp(b, "second", 6) == 0);
    UT_CHECK_EQ(ctl_read(&ctl, b, 3), -ENOBUFS);
    UT_CHECK_EQ(ctl_write(&ctl, b, CTL_PAYLOAD_MAX + 1), -EINVAL);

    /* Damage to the newest copy must not bring back the previous value
     * (a confirm or a counter rise would be undone by one bad byte). */
    UT_CASE("control block: a corrupt newest copy keeps the newest value");
    sim_flash_corrupt(&dev, pctl.base + ES + 20, 0x04);
    UT_CHECK_EQ(ctl_mount(&ctl, &pctl), 0);
    UT_CHECK_EQ(ctl.bad, 1);
    UT_CHECK_EQ(ctl_read(&ctl, b, sizeof(b)), 6);
    UT_CHECK(memcmp(b, "second", 6) == 0);
    /* The next write repairs the bad copy too. */
    UT_CHECK_EQ(ctl_write(&ctl, "third", 5), 0);
    UT_CHECK_EQ(ctl_mount(&ctl, &pctl), 0);
    UT_CHECK_EQ(ctl.bad, 0);
    UT_CHECK(ctl.valid[0] && ctl.valid[1]);

    UT_CASE("control block: both copies corrupt is damage, never blank");
    sim_flash_corrupt(&dev, pctl.base + 20, 0x01);
    sim_flash_corrupt(&dev, pctl.base + ES + 20, 0x01);
    UT_CHECK_EQ(ctl_mount(&ctl, &pctl), -EBADMSG);
    UT_CHECK_EQ(ctl.bad, 2);
    UT_CHECK_EQ(ctl_read(&ctl, b, sizeof(b)), -ENOENT);
    sim_flash_close(&dev);

    UT_CASE("control block: a cut first write (one copy blank) is blank");
    dev_new();
    UT_CHECK_EQ(ctl_mount(&ctl, &pctl), -ENOENT);
    UT_CHECK_EQ(ctl_write(&ctl, "first", 5), 0);
    /* as a cut in the first write leaves it: copy 1 never written */
    UT_CHECK_EQ(hal_flash_erase(&pctl, ES, ES), 0);
    sim_flash_corrupt(&dev, pctl.base + 20, 0x01);
    UT_CHECK_EQ(ctl_mount(&ctl, &pctl), -ENOENT);
    UT_CHECK_EQ(ctl.bad, 1);
    sim_flash_close(&dev);

    UT_CASE("control block: one blank and one torn copy is blank");
    dev_new();
    ctl_mount(&ctl, &pctl);
    UT_CHECK_EQ(ctl_write(&ctl, "x", 1), 0);
    /* erase copy 1, then tear copy 0: no write completed on this flash */
    UT_CHECK_EQ(hal_flash_erase(&pctl, ES, ES), 0);
    sim_flash_corrupt(&dev, pctl.base + 16, 0x01);
    UT_CHECK_EQ(ctl_mount(&ctl, &pctl), -ENOENT);
    sim_flash_close(&dev);

    UT_CASE("control block: sequence numbers compare across the wrap");
    dev_new();
    ctl_mount(&ctl, &pctl);
    ctl.newest = 0;
    ctl.seq = 0xfffffffeu;   /* pretend a long history */
    ctl_write(&ctl, "A", 1); /* copy 1 seq 0xffffffff, then copy 0 seq 0 */
    UT_CHECK_EQ(ctl_mount(&ctl, &pctl), 0);
    UT_CHECK_EQ(ctl.seq, 0);
    UT_CHECK_EQ(ctl.newest, 0);
    UT_CHECK_EQ(ctl_read(&ctl, b, sizeof(b)), 1);
    UT_CHECK_EQ(b[0], 'A');
    sim_flash_close(&dev);

    UT_CASE("control block: a copy padded past its buffer is refused, not "
            "written past it (512-byte units, 2 KiB pages)");
    {
        static const struct sim_flash_geom g512 = {2 * 16384, 16384, 512, 0xff},
                                           g2k = {2 * 16384, 16384, 2048, 0xff};
        uint8_t p[CTL_PAYLOAD_MAX];

        memset(p, 0x5a, sizeof(p));
        sim_flash_open_mem(&dev, &g512);
        sim_flash_partition(&dev, &pctl, "ctl", 0, 2 * 16384);
        ctl_mount(&ctl, &pctl);
        UT_CHECK_EQ(ctl_write(&ctl, p, 1024 - CTL_HDR_SIZE), 0);
        UT_CHECK_EQ(ctl_write(&ctl, p, 1024 - CTL_HDR_SIZE + 1), -EINVAL);
        UT_CHECK_EQ(ctl_read(&ctl, b, sizeof(b)), 1024 - CTL_HDR_SIZE);
        sim_flash_close(&dev);
        sim_flash_open_mem(&dev, &g2k);
        sim_flash_partition(&dev, &pctl, "ctl", 0, 2 * 16384);
        ctl_mount(&ctl, &pctl);
        UT_CHECK_EQ(ctl_write(&ctl, "x", 1), -EINVAL);
        UT_CHECK_EQ(ctl_mount(&ctl, &pctl), -ENOENT);
        sim_flash_close(&dev);
    }
}

static void
rec(uint8_t *r, uint32_t i, uint8_t tag)
{
    memset(r, tag, CLOG_REC);
    memcpy(r, &i, 4);
}

static void
test_clog(void)
{
    static uint8_t batch[600 * CLOG_REC];
    uint8_t r[CLOG_REC], want[CLOG_REC];
    int bad = 0;

    dev_new();
    store_mount(&st, &pstore);
    UT_CASE("chain log: empty, append, read, bounds");
    UT_CHECK_EQ(clog_mount(&lg, &pchain, &st), 0);
    UT_CHECK_EQ(lg.per_seg, 23);
    UT_CHECK_EQ(clog_read(&lg, 0, r), -ENOENT);
    for (uint32_t i = 0; i < 100; i++)
        rec(batch + i * CLOG_REC, i, 1);
    UT_CHECK_EQ(clog_append(&lg, batch, 1), 0);
    UT_CHECK_EQ(clog_append(&lg, batch + CLOG_REC, 99), 0);
    UT_CHECK_EQ(lg.end, 100);
    for (uint32_t i = 0; i < 100; i++) {
        rec(want, i, 1);
        bad += clog_read(&lg, i, r) != 0 || memcmp(r, want, CLOG_REC);
    }
    UT_CHECK_EQ(bad, 0);
    UT_CHECK_EQ(clog_read(&lg, 100, r), -ENOENT);
    UT_CHECK_EQ(clog_append(&lg, batch, 0), -EINVAL);

    UT_CASE("chain log: truncate then re-append replaces the tail");
    UT_CHECK_EQ(clog_truncate(&lg, 90), 0);
    UT_CHECK_EQ(lg.end, 90);
    UT_CHECK_EQ(clog_read(&lg, 95, r), -ENOENT);
    for (uint32_t i = 0; i < 5; i++)
        rec(batch + i * CLOG_REC, 90 + i, 2);
    UT_CHECK_EQ(clog_append(&lg, batch, 5), 0);
    UT_CHECK_EQ(clog_truncate(&lg, 200), -EINVAL);

    UT_CASE("chain log: state survives a remount, reading only the tail");
    UT_CHECK_EQ(clog_mount(&lg, &pchain, &st), 0);
    UT_CHECK_EQ(lg.end, 95);
    rec(want, 92, 2);
    UT_CHECK_EQ(clog_read(&lg, 92, r), 0);
    UT_CHECK(memcmp(r, want, CLOG_REC) == 0);
    rec(want, 89, 1);
    UT_CHECK_EQ(clog_read(&lg, 89, r), 0);
    UT_CHECK(memcmp(r, want, CLOG_REC) == 0);
    UT_CHECK_EQ(clog_checkpoint(&lg), 0);
    UT_CHECK_EQ(clog_mount(&lg, &pchain, &st), 0);
    UT_CHECK(lg.scanned <= 2);
    UT_CHECK_EQ(lg.end, 95);

    UT_CASE("chain log: the ring fills (-ENOSPC) until trimmed");
    {
        int rc = 0;
        uint32_t n = 0;

        while (rc == 0 && n < 1000) {
            for (uint32_t i = 0; i < 10; i++)
                rec(batch + i * CLOG_REC, lg.end + i, 3);
            rc = clog_append(&lg, batch, 10);
            n++;
        }
        UT_CHECK_EQ(rc, -ENOSPC);
        UT_CHECK(lg.end > 200);
        UT_CHECK_EQ(clog_trim(&lg, lg.end - 50), 0);
        UT_CHECK_EQ(lg.first, lg.end - 50);
        UT_CHECK_EQ(clog_read(&lg, lg.first - 1, r), -ENOENT);
        for (uint32_t i = 0; i < 10; i++)
            rec(batch + i * CLOG_REC, lg.end + i, 4);
        UT_CHECK_EQ(clog_append(&lg, batch, 10), 0);
        UT_CHECK_EQ(clog_mount(&lg, &pchain, &st), 0);
        rec(want, lg.end - 1, 4);
        UT_CHECK_EQ(clog_read(&lg, lg.end - 1, r), 0);
        UT_CHECK(memcmp(r, want, CLOG_REC) == 0);
        UT_CHECK_EQ(clog_trim(&lg, lg.first - 1), -EINVAL);
    }

    UT_CASE("chain log: a flipped bit in a record is -EBADMSG");
    {
        uint64_t off = 0;

        UT_CHECK_EQ(clog_locate(&lg, lg.end - 1, &off), 0);
        sim_flash_corrupt(&dev, pchain.base + off + 7, 0x80);
        UT_CHECK_EQ(clog_read(&lg, lg.end - 1, r), -EBADMSG);
        UT_CHECK_EQ(lg.bad, 1);
    }
    sim_flash_close(&dev);
}

/* A reorg batch torn right after its first slot, the last of an erase
 * block; after the mount the next append lands at the next block's
 * start with the following index.  Slot, index and place follow on, but
 * the write sequence jumped: the torn slot must not join that batch (it
 * did once, and replaced record 21 with the torn batch's; the power-cut
 * rig's log-batch-pieces workload found it). */
static void
test_clog_torn_neighbour(void)
{
    uint8_t b[5 * CLOG_REC], r[CLOG_REC], want[CLOG_REC];

    UT_CASE("chain log: a torn slot never joins the next mount's batch");
    dev_new();
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK_EQ(clog_mount(&lg, &pchain, &st), 0);
    for (uint32_t i = 0; i < 22; i++) {
        rec(b, i, 1);
        UT_CHECK_EQ(clog_append(&lg, b, 1), 0);
    }
    for (uint32_t i = 0; i < 5; i++)
        rec(b + i * CLOG_REC, 21 + i, 2);
    UT_CHECK_EQ(clog_batch_begin(&lg, 21, 5), 0);
    /* the batch programs slot 22, then erases the next block: cut there */
    sim_flash_cut_after(&dev, sim_flash_ops(&dev) + 1, SIM_TORN_NONE, 1);
    UT_CHECK(clog_batch_put(&lg, b, 5) != 0);
    sim_flash_power_on(&dev);
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK_EQ(clog_mount(&lg, &pchain, &st), 0);
    UT_CHECK_EQ(lg.end, 22);
    rec(b, 22, 3);
    UT_CHECK_EQ(clog_append(&lg, b, 1), 0);
    UT_CHECK_EQ(clog_mount(&lg, &pchain, &st), 0);
    UT_CHECK_EQ(lg.end, 23);
    rec(want, 21, 1);
    UT_CHECK_EQ(clog_read(&lg, 21, r), 0);
    UT_CHECK(memcmp(r, want, CLOG_REC) == 0);
    rec(want, 22, 3);
    UT_CHECK_EQ(clog_read(&lg, 22, r), 0);
    UT_CHECK(memcmp(r, want, CLOG_REC) == 0);
    sim_flash_close(&dev);
}

/* ---- the chain log on NAND: slots packed to 2 KiB pages (#18) ---- */

#define NES 16384u /* erase block */
#define NPG 2048u  /* page, the program unit */
#define NCHAIN (64 * NES)

static struct hal_flash nps, npc;

static void
nand_new(void)
{
    static const struct sim_flash_geom g = {8 * NES + NCHAIN, NES, NPG, 0xff};

    UT_CHECK_EQ(sim_flash_open_mem(&dev, &g), 0);
    sim_flash_partition(&dev, &nps, "store", 0, 8 * NES);
    sim_flash_partition(&dev, &npc, "chain", 8 * NES, NCHAIN);
    UT_CHECK_EQ(store_mount(&st, &nps), 0);
    UT_CHECK_EQ(clog_mount(&lg, &npc, &st), 0);
}

static int
nand_remount(void)
{
    sim_flash_power_on(&dev);
    if (store_mount(&st, &nps) != 0)
        return -1;
    return clog_mount(&lg, &npc, &st);
}

/* Records [from, to) of the log read back as tag's (0: any tag, only the
 * index must match); the number that do not. */
static uint32_t
nand_bad_reads(uint32_t from, uint32_t to, uint8_t tag)
{
    uint8_t r[CLOG_REC], want[CLOG_REC];
    uint32_t bad = 0;

    for (uint32_t i = from; i < to; i++) {
        rec(want, i, tag);
        bad += clog_read(&lg, i, r) != 0 ||
               (tag ? memcmp(r, want, CLOG_REC) != 0 : memcmp(r, &i, 4) != 0);
    }
    return bad;
}

/* Append n records tagged tag at the end; the pages programmed. */
static uint64_t
nand_append(uint32_t n, uint8_t tag)
{
    static uint8_t b[1000 * CLOG_REC];
    uint64_t p0 = dev.stats.bytes_prog;

    for (uint32_t i = 0; i < n; i++)
        rec(b + i * CLOG_REC, lg.end + i, tag);
    UT_CHECK_EQ(clog_append(&lg, b, n), 0);
    return (dev.stats.bytes_prog - p0) / NPG;
}

static void
test_clog_nand(void)
{
    uint64_t off;
    uint32_t runs;

    UT_CASE("chain log on NAND: 11 slots a page; batches pack, singles not");
    nand_new();
    UT_CHECK_EQ(lg.per_page, 11);
    UT_CHECK_EQ(lg.page_size, NPG);
    UT_CHECK_EQ(lg.per_seg, 8);
    UT_CHECK_EQ(nand_append(1, 1), 1);
    UT_CHECK_EQ(nand_append(54, 1), 5);    /* 11 11 11 11 10 */
    UT_CHECK_EQ(nand_append(1000, 1), 91); /* 90 full pages and 10 */
    UT_CHECK_EQ(nand_append(2, 1), 1);
    UT_CHECK_EQ(nand_append(1, 1), 1);
    UT_CHECK_EQ(lg.end, 1058);
    UT_CHECK_EQ(nand_bad_reads(0, lg.end, 1), 0);
    /* record 1 (the 54's first) opens a page; record 2 shares it */
    UT_CHECK_EQ(clog_locate(&lg, 1, &off), 0);
    UT_CHECK_EQ(off % NPG, 0);
    UT_CHECK_EQ(clog_locate(&lg, 2, &off), 0);
    UT_CHECK_EQ(off % NPG, CLOG_SLOT_RAW);

    UT_CASE("chain log on NAND: a remount reads it all back, and appends on");
    UT_CHECK_EQ(nand_remount(), 0);
    UT_CHECK_EQ(lg.end, 1058);
    UT_CHECK_EQ(lg.holes + lg.tail_torn, 0);
    UT_CHECK_EQ(nand_bad_reads(0, lg.end, 1), 0);
    UT_CHECK_EQ(nand_append(30, 2), 3);
    UT_CHECK_EQ(clog_checkpoint(&lg), 0);
    UT_CHECK_EQ(nand_append(7, 3), 1);
    UT_CHECK_EQ(nand_remount(), 0);
    UT_CHECK_EQ(lg.end, 1095);
    UT_CHECK(lg.scanned <= 12); /* the 7, the rest of their page, the end */
    UT_CHECK_EQ(nand_bad_reads(1058, 1088, 2), 0);
    UT_CHECK_EQ(nand_bad_reads(1088, 1095, 3), 0);
    UT_CHECK_EQ(nand_bad_reads(0, 1058, 1), 0);
    sim_flash_close(&dev);

    UT_CASE("chain log on NAND: batches of one size continue one run");
    nand_new();
    for (int i = 0; i < 20; i++)
        nand_append(54, 1);
    UT_CHECK_EQ(lg.nruns, 1);
    for (int i = 0; i < 10; i++)
        nand_append(1, 1);
    UT_CHECK_EQ(lg.nruns, 2);
    nand_append(33, 1); /* three full pages: a run of their own */
    nand_append(22, 1); /* full pages again: the same run */
    UT_CHECK_EQ(lg.nruns, 3);
    nand_append(54, 1);
    UT_CHECK_EQ(lg.nruns, 4);
    runs = lg.nruns;
    UT_CHECK_EQ(clog_checkpoint(&lg), 0);
    UT_CHECK_EQ(nand_remount(), 0);
    UT_CHECK_EQ(lg.nruns, runs);
    UT_CHECK_EQ(lg.end, 20 * 54 + 10 + 33 + 22 + 54);
    UT_CHECK_EQ(nand_bad_reads(0, lg.end, 1), 0);

    UT_CASE("chain log on NAND: the replay rebuilds the same runs");
    UT_CHECK_EQ(clog_reset(&lg), 0);
    for (int i = 0; i < 5; i++)
        nand_append(54, 1);
    nand_append(1, 1);
    nand_append(1, 1);
    nand_append(44, 1);
    UT_CHECK_EQ(lg.nruns, 3);
    UT_CHECK_EQ(nand_remount(), 0); /* no checkpoint since the reset */
    UT_CHECK_EQ(lg.nruns, 3);
    UT_CHECK_EQ(lg.end, 5 * 54 + 2 + 44);
    UT_CHECK_EQ(nand_bad_reads(0, lg.end, 1), 0);
    sim_flash_close(&dev);

    UT_CASE("chain log on NAND: a batch in pieces packs across the pieces");
    nand_new();
    nand_append(100, 1);
    {
        static const uint32_t piece[] = {7, 30, 13, 1, 49};
        static uint8_t b[50 * CLOG_REC];
        uint64_t p0 = dev.stats.bytes_prog;
        uint32_t at = 60;

        UT_CHECK_EQ(clog_batch_begin(&lg, 60, 100), 0);
        for (size_t k = 0; k < sizeof(piece) / sizeof(piece[0]); k++) {
            for (uint32_t i = 0; i < piece[k]; i++)
                rec(b + i * CLOG_REC, at + i, 2);
            UT_CHECK_EQ(clog_batch_put(&lg, b, piece[k]), 0);
            at += piece[k];
            /* before the end mark the log is what it was */
            UT_CHECK_EQ(lg.end, k + 1 < 5 ? 100u : 160u);
        }
        UT_CHECK_EQ((dev.stats.bytes_prog - p0) / NPG, 10); /* 100 / 11 */
    }
    UT_CHECK_EQ(nand_bad_reads(0, 60, 1), 0);
    UT_CHECK_EQ(nand_bad_reads(60, 160, 2), 0);
    UT_CHECK_EQ(nand_remount(), 0);
    UT_CHECK_EQ(lg.end, 160);
    UT_CHECK_EQ(nand_bad_reads(0, 60, 1), 0);
    UT_CHECK_EQ(nand_bad_reads(60, 160, 2), 0);

    UT_CASE("chain log on NAND: an abandoned batch leaves the log as it was");
    {
        static uint8_t b[20 * CLOG_REC];

        for (uint32_t i = 0; i < 20; i++)
            rec(b + i * CLOG_REC, 150 + i, 3);
        UT_CHECK_EQ(clog_batch_begin(&lg, 150, 40), 0);
        UT_CHECK_EQ(clog_batch_put(&lg, b, 20), 0);
        clog_batch_abort(&lg);
        UT_CHECK_EQ(lg.end, 160);
        UT_CHECK_EQ(nand_remount(), 0);
        UT_CHECK_EQ(lg.end, 160);
        UT_CHECK_EQ(nand_bad_reads(60, 160, 2), 0);
    }

    UT_CASE("chain log on NAND: truncate, re-append, trim, remount");
    UT_CHECK_EQ(clog_truncate(&lg, 140), 0);
    UT_CHECK_EQ(nand_append(25, 4), 3);
    UT_CHECK_EQ(lg.end, 165);
    UT_CHECK_EQ(clog_trim(&lg, 75), 0);
    UT_CHECK_EQ(lg.first, 75);
    UT_CHECK(lg.runs[0].index <= 75); /* a run keeps its batches whole */
    UT_CHECK_EQ(nand_remount(), 0);
    UT_CHECK_EQ(lg.first, 75);
    UT_CHECK_EQ(lg.end, 165);
    UT_CHECK_EQ(nand_bad_reads(75, 140, 2), 0);
    UT_CHECK_EQ(nand_bad_reads(140, 165, 4), 0);
    {
        uint8_t r[CLOG_REC];

        UT_CHECK_EQ(clog_read(&lg, 74, r), -ENOENT);
    }
    sim_flash_close(&dev);

    UT_CASE("chain log on NAND: the ring fills (-ENOSPC) until trimmed");
    nand_new();
    {
        static uint8_t b[100 * CLOG_REC];
        int rc = 0;

        while (rc == 0) {
            for (uint32_t i = 0; i < 100; i++)
                rec(b + i * CLOG_REC, lg.end + i, 5);
            rc = clog_append(&lg, b, 100);
        }
        UT_CHECK_EQ(rc, -ENOSPC);
        UT_CHECK(lg.end >= 5000); /* 62 blocks of 88 slots, 2 kept free */
        UT_CHECK_EQ(clog_trim(&lg, lg.end - 500), 0);
        UT_CHECK_EQ(nand_append(100, 5), 10);
        UT_CHECK_EQ(nand_remount(), 0);
        UT_CHECK_EQ(nand_bad_reads(lg.first, lg.end, 5), 0);
    }
    sim_flash_close(&dev);

    UT_CASE("chain log on NAND: with the run map 3/4 full, a slot a page");
    nand_new();
    {
        uint32_t n = 2;

        while (lg.nruns < CLOG_RUNS_MAX * 3 / 4)
            nand_append(n++ % 2 ? 3 : 2, 1); /* sizes alternate: a run each */
        runs = lg.nruns;
        UT_CHECK_EQ(nand_append(5, 1), 5); /* not packed: one more run */
        UT_CHECK_EQ(nand_append(7, 1), 7); /* and it continues that run */
        UT_CHECK_EQ(nand_append(1, 1), 1);
        UT_CHECK_EQ(lg.nruns, runs + 1);
        UT_CHECK_EQ(nand_remount(), 0);
        UT_CHECK_EQ(lg.nruns, runs + 1);
        UT_CHECK_EQ(nand_bad_reads(0, lg.end, 1), 0);
    }
    sim_flash_close(&dev);
}

/* Damage in a packed log: a slot that fails its check amid slots that
 * continue the write sequence is a hole, even where the erased rest of a
 * page lies between (the batch ended there). */
static void
test_clog_nand_damage(void)
{
    static const struct {
        const char *name;
        uint32_t index; /* record whose slot is damaged */
    } cases[] = {
        {"inside a packed page", 20},
        {"the first slot of a page", 11},
        {"a batch's end mark, in a page it does not fill", 54},
        {"a single record's slot", 55},
        {"the last slot of a full page", 76},
    };

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        uint64_t off;
        uint8_t r[CLOG_REC];

        UT_CASE(cases[c].name);
        nand_new();
        nand_append(1, 1);  /* 0 */
        nand_append(54, 1); /* 1..54: end mark in the 5th page, alone */
        nand_append(1, 1);  /* 55 */
        nand_append(1, 1);  /* 56 */
        nand_append(33, 1); /* 57..89: three full pages */
        nand_append(10, 1); /* 90..99 */
        UT_CHECK_EQ(clog_locate(&lg, cases[c].index, &off), 0);
        sim_flash_corrupt(&dev, npc.base + off + 100, 0x10);
        UT_CHECK_EQ(nand_remount(), 0);
        UT_CHECK_EQ(lg.end, 100);
        UT_CHECK_EQ(lg.holes, 1);
        UT_CHECK_EQ(clog_read(&lg, cases[c].index, r), -EBADMSG);
        UT_CHECK_EQ(nand_bad_reads(0, lg.end, 1), 1);
        UT_CHECK_EQ(nand_append(5, 2), 1);
        UT_CHECK_EQ(nand_remount(), 0);
        UT_CHECK_EQ(lg.end, 105);
        UT_CHECK_EQ(nand_bad_reads(100, 105, 2), 0);
        sim_flash_close(&dev);
    }

    UT_CASE("a damaged end mark at the end of the log is a torn tail");
    {
        uint64_t off;

        nand_new();
        nand_append(54, 1);
        nand_append(20, 1);
        UT_CHECK_EQ(clog_locate(&lg, 73, &off), 0);
        sim_flash_corrupt(&dev, npc.base + off + 3, 0x01);
        UT_CHECK_EQ(nand_remount(), 0);
        UT_CHECK_EQ(lg.end, 54);
        UT_CHECK(lg.tail_torn > 0);
        sim_flash_close(&dev);
    }
}

/* A cut during any program or erase of packed appends: after power
 * returns the log is what it was before the append or after it, never
 * part of it, and it goes on.  (tests/powercut does this at scale.) */
static void
test_clog_nand_cuts(void)
{
    static uint8_t b[60 * CLOG_REC];
    uint32_t bad = 0, points = 0;

    UT_CASE("chain log on NAND: a cut in a packed page write, each way");
    for (int mode = SIM_TORN_NONE; mode <= SIM_TORN_BITS; mode++)
        for (uint64_t k = 0; k < 12; k++) {
            uint32_t before;
            int rc;

            nand_new();
            nand_append(30, 1);
            before = lg.end;
            for (uint32_t i = 0; i < 60; i++)
                rec(b + i * CLOG_REC, before + i, 2);
            sim_flash_cut_after(&dev, sim_flash_ops(&dev) + k,
                                (enum sim_flash_torn)mode,
                                (uint32_t)(k * 3 + 1));
            rc = clog_append(&lg, b, 60);
            if (rc == 0 && !dev.dead) {
                sim_flash_close(&dev);
                continue; /* the append took fewer operations */
            }
            points++;
            if (nand_remount() != 0) {
                bad++;
                sim_flash_close(&dev);
                continue;
            }
            if (lg.end == before + 60)
                bad += nand_bad_reads(before, lg.end, 2) != 0;
            else
                bad += lg.end != before;
            bad += nand_bad_reads(0, before, 1) != 0;
            before = lg.end;
            bad += nand_append(12, 3) != 2;
            bad += nand_remount() != 0 || lg.end != before + 12 ||
                   nand_bad_reads(before, lg.end, 3) != 0;
            sim_flash_close(&dev);
        }
    UT_CHECK(points >= 12);
    UT_CHECK_EQ(bad, 0);
}

/* Compaction packs the live entries of several records into one; when a
 * packed record fills up in the middle of a multi-entry source record,
 * the entries after that point must still move.  Every key is checked
 * after the churn and after a remount. */
static void
test_store_gc_groups(void)
{
    static uint8_t v[1000], got[1000];
    char key[32];
    int bad = 0;

    dev_new();
    UT_CASE("compaction moves every entry of multi-entry records");
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    for (int g = 0; g < 6; g++) {
        struct store_entry e[4];
        static char names[4][32];
        static uint8_t vals[4][1000];

        for (int i = 0; i < 4; i++) {
            snprintf(names[i], sizeof(names[i]), "g%d.%d", g, i);
            memset(vals[i], 'a' + g * 4 + i, sizeof(vals[i]));
            e[i] = (struct store_entry){names[i], vals[i], sizeof(vals[i]), 0};
        }
        UT_CHECK_EQ(store_commit(&st, e, 4), 0);
    }
    for (int n = 0; n < 400; n++) {
        memset(v, n, 700);
        UT_CHECK_EQ(store_put(&st, "churn", v, 700), 0);
    }
    UT_CHECK(st.compactions >= 8);
    for (int pass = 0; pass < 2; pass++) {
        for (int g = 0; g < 6; g++)
            for (int i = 0; i < 4; i++) {
                snprintf(key, sizeof(key), "g%d.%d", g, i);
                memset(v, 'a' + g * 4 + i, sizeof(v));
                bad += store_get(&st, key, got, sizeof(got)) != 1000 ||
                       memcmp(got, v, sizeof(v)) != 0;
            }
        UT_CHECK_EQ(bad, 0);
        UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    }
    sim_flash_close(&dev);

    dev_new();
    UT_CASE("compaction gives each sec. key its own record");
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    {
        struct store_entry e[3] = {{"sec.x.0", "k0", 2, 0},
                                   {"sec.x.1", "k1", 2, 0},
                                   {"plain", "p", 1, 0}};

        UT_CHECK_EQ(store_commit(&st, e, 3), 0);
        UT_CHECK_EQ(store_same_record(&st, "sec.x.0", "sec.x.1"), 1);
        UT_CHECK_EQ(store_same_record(&st, "sec.x.0", "nosuch"), -ENOENT);
        for (int n = 0; n < 200; n++) {
            memset(v, n, 700);
            UT_CHECK_EQ(store_put(&st, "churn", v, 700), 0);
        }
        UT_CHECK(st.compactions >= 3);
        UT_CHECK_EQ(store_same_record(&st, "sec.x.0", "sec.x.1"), 0);
        UT_CHECK_EQ(store_same_record(&st, "sec.x.0", "plain"), 0);
        UT_CHECK_EQ(store_get(&st, "sec.x.1", got, sizeof(got)), 2);
        UT_CHECK(memcmp(got, "k1", 2) == 0);
    }
    sim_flash_close(&dev);
}

/* A write cut before it leaves any trace (the fence after a mount, say)
 * still touched its program units, and the next boot, seeing nothing,
 * picks the same spot: the chip refuses, and the store must move on
 * however many boots in a row the first write was cut. */
static void
test_store_traceless_cuts(void)
{
    uint8_t got[8];

    dev_new();
    UT_CASE("traceless cuts of the first write, boot after boot");
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK_EQ(store_put(&st, "k", "v0", 2), 0);
    for (int boot = 0; boot < 5; boot++) {
        UT_CHECK_EQ(store_mount(&st, &pstore), 0);
        sim_flash_cut_after(&dev, sim_flash_ops(&dev), SIM_TORN_NONE, 1);
        UT_CHECK(store_put(&st, "k", "v1", 2) != 0);
        sim_flash_power_on(&dev);
    }
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK_EQ(store_put(&st, "k", "v2", 2), 0);
    UT_CHECK_EQ(store_get(&st, "k", got, sizeof(got)), 2);
    UT_CHECK(memcmp(got, "v2", 2) == 0);
    /* the chip refused the re-programs (counted); the store moved on */
    UT_CHECK(dev.stats.refused > 0);
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK_EQ(store_get(&st, "k", got, sizeof(got)), 2);
    UT_CHECK(memcmp(got, "v2", 2) == 0);
    sim_flash_close(&dev);
}

static void
test_store_scrub(void)
{
    char v[64], key[16];
    int n;

    dev_new();
    store_mount(&st, &pstore);
    UT_CASE("scrub: a damaged record superseded by a repair goes away");
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        snprintf(v, sizeof(v), "value %d", i);
        UT_CHECK_EQ(store_put(&st, key, v, strlen(v)), 0);
    }
    UT_CHECK_EQ(store_put(&st, "id", "copy-1", 6), 0);
    ut_store_damage(&dev, &pstore, &st, "id", 0, 0x20);
    UT_CHECK_EQ(store_get(&st, "id", v, sizeof(v)), -EBADMSG);
    UT_CHECK_EQ(store_put(&st, "id", "copy-2", 6), 0); /* the repair */
    UT_CHECK_EQ(store_check(&st, NULL, NULL), 1);
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK_EQ(store_check(&st, NULL, NULL), 1); /* until compaction */
    n = store_scrub(&st);
    UT_CHECK(n >= 1);
    UT_CHECK_EQ(store_check(&st, NULL, NULL), 0);
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK_EQ(store_check(&st, NULL, NULL), 0);
    UT_CHECK_EQ(store_get(&st, "id", v, sizeof(v)), 6);
    UT_CHECK(memcmp(v, "copy-2", 6) == 0);
    for (int i = 0; i < 40; i++) {
        char want[64];

        snprintf(key, sizeof(key), "k%d", i);
        snprintf(want, sizeof(want), "value %d", i);
        n = store_get(&st, key, v, sizeof(v));
        UT_CHECK(n == (int)strlen(want) && memcmp(v, want, (size_t)n) == 0);
    }
    UT_CHECK_EQ(store_scrub(&st), 0); /* nothing left to do */
    sim_flash_close(&dev);
}

static int
retired_left(const struct store *s)
{
    int n = 0;

    for (uint32_t i = 0; i < s->nsectors; i++)
        n += s->sec[i].in_use == 2;
    return n;
}

/* keel-boot reads the keyring without writing: store_mount_ro leaves a
 * compaction cut before its erase as it is, where store_mount finishes
 * it, and refuses every write. */
static void
test_store_ro(void)
{
    static uint8_t saved[DEV_SIZE + DEV_SIZE / 16 / 8], v[700], got[700];
    uint64_t ops;
    int found = 0;

    dev_new();
    UT_CASE("read-only mount: a cut compaction is left, nothing written");
    UT_CHECK_EQ(sim_flash_state_size(&dev), sizeof(saved));
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK_EQ(store_put(&st, "keep", "kept", 4), 0);
    for (int n = 0; n < 400 && !found; n++) {
        uint32_t before = st.compactions;

        sim_flash_save(&dev, saved);
        memset(v, n, sizeof(v));
        UT_CHECK_EQ(store_put(&st, "churn", v, sizeof(v)), 0);
        if (st.compactions == before)
            continue;
        /* This put compacted: cut it at each operation until one cut
         * leaves a retired sector not yet erased. */
        for (uint64_t k = 0; k < 64 && !found; k++) {
            sim_flash_restore(&dev, saved);
            UT_CHECK_EQ(store_mount(&st, &pstore), 0);
            sim_flash_cut_after(&dev, sim_flash_ops(&dev) + k, SIM_TORN_NONE,
                                1);
            (void)store_put(&st, "churn", v, sizeof(v));
            sim_flash_power_on(&dev);
            ops = sim_flash_ops(&dev);
            UT_CHECK_EQ(store_mount_ro(&st, &pstore), 0);
            found = retired_left(&st) > 0;
            UT_CHECK_EQ(sim_flash_ops(&dev), ops);
        }
    }
    UT_CHECK(found);
    ops = sim_flash_ops(&dev);
    UT_CHECK_EQ(store_get(&st, "keep", got, sizeof(got)), 4);
    UT_CHECK(memcmp(got, "kept", 4) == 0);
    UT_CHECK_EQ(store_put(&st, "keep", "x", 1), -EROFS);
    UT_CHECK_EQ(store_del(&st, "keep"), -EROFS);
    UT_CHECK_EQ(sim_flash_ops(&dev), ops);
    UT_CASE("read-write mount finishes the cut compaction");
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK(sim_flash_ops(&dev) > ops);
    UT_CHECK_EQ(retired_left(&st), 0);
    UT_CHECK_EQ(store_get(&st, "keep", got, sizeof(got)), 4);
    UT_CHECK_EQ(store_put(&st, "keep", "x", 1), 0);
    sim_flash_close(&dev);
}

/* The model of test_store_headers: key k<i> holds val[i] when live. */
#define HK 24
static char hval[HK][200];
static int hlen[HK], hlive[HK];

static void
hput(int i, int round)
{
    char name[16];

    snprintf(name, sizeof(name), "k%d", i);
    hlen[i] = 40 + (i * 7 + round) % 150;
    memset(hval[i], 'a' + (round + i) % 26, (size_t)hlen[i]);
    snprintf(hval[i], sizeof(hval[i]), "%d.%d", i, round);
    hval[i][strlen(hval[i])] = '-';
    UT_CHECK_EQ(store_put(&st, name, hval[i], (size_t)hlen[i]), 0);
    hlive[i] = 1;
}

static void
hdel(int i)
{
    char name[16];

    snprintf(name, sizeof(name), "k%d", i);
    if (hlive[i])
        UT_CHECK_EQ(store_del(&st, name), 0);
    hlive[i] = 0;
}

/* Churn: puts over every key, a delete now and then. */
static void
hchurn(int from, int to)
{
    for (int r = from; r < to; r++) {
        if (r % 17 == 5)
            hdel(r % HK);
        else
            hput(r % HK, r);
    }
}

/* Keys that do not read back as the model says. */
static int
hwrong(void)
{
    char name[16], v[200];
    int bad = 0;

    for (int i = 0; i < HK; i++) {
        int n;

        snprintf(name, sizeof(name), "k%d", i);
        n = store_get(&st, name, v, sizeof(v));
        if (hlive[i] ? n != hlen[i] || memcmp(v, hval[i], (size_t)n) != 0
                     : n != -ENOENT)
            bad++;
    }
    return bad;
}

/* Issue #11, damage campaign: one flipped byte in a sector header made
 * the sector free, so the records behind it (the newest values, deletes)
 * were dropped without a word.  Now the sector is read all the same,
 * and the damage counted and listed. */
static void
test_store_headers(void)
{
    static const uint32_t fields[] = {0, 4, 6, 8, 12, 16, 20, 24, 28, 31};
    static uint8_t snap[DEV_SIZE + DEV_SIZE / 16 / 8];
    static char sval[HK][200];
    static int slen[HK], slive[HK];
    int wrong = 0, unread = 0, unreported = 0, points = 0;

    UT_CASE("a damaged sector header loses nothing and is reported");
    dev_new();
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    memset(hlive, 0, sizeof(hlive));
    hchurn(0, 900); /* several laps of compaction over 8 sectors */
    UT_CHECK(st.compactions > 0);
    UT_CHECK_EQ(hwrong(), 0);
    sim_flash_save(&dev, snap);
    memcpy(sval, hval, sizeof(sval));
    memcpy(slen, hlen, sizeof(slen));
    memcpy(slive, hlive, sizeof(slive));
    for (uint32_t sec = 0; sec < st.nsectors; sec++) {
        int in_use;

        sim_flash_restore(&dev, snap);
        UT_CHECK_EQ(store_mount(&st, &pstore), 0);
        in_use = st.sec[sec].in_use;
        if (!in_use)
            continue;
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
            sim_flash_restore(&dev, snap);
            memcpy(hval, sval, sizeof(sval));
            memcpy(hlen, slen, sizeof(slen));
            memcpy(hlive, slive, sizeof(slive));
            sim_flash_corrupt(&dev, (uint64_t)sec * 16384 + fields[f],
                              (uint8_t)(f % 2 ? 0x80 : 0x01));
            points++;
            UT_CHECK_EQ(store_mount(&st, &pstore), 0);
            wrong += hwrong() != 0;
            unread += !st.sec[sec].in_use;
            unreported +=
                st.bad_headers != 1 || store_check(&st, NULL, NULL) < 1;
            /* writes go on; compaction reaches the damaged sector and
             * retires it; every remount agrees */
            hchurn(900, 1100);
            wrong += hwrong() != 0;
            UT_CHECK_EQ(store_mount(&st, &pstore), 0);
            wrong += hwrong() != 0;
            hchurn(1100, 1500);
            UT_CHECK_EQ(store_mount(&st, &pstore), 0);
            wrong += hwrong() != 0;
            UT_CHECK_EQ(st.bad_headers, 0);
        }
    }
    printf("  %d header flips: %d with a wrong value, %d sectors unread, %d "
           "unreported\n",
           points, wrong, unread, unreported);
    UT_CHECK(points >= 40);
    UT_CHECK_EQ(wrong, 0);
    UT_CHECK_EQ(unread, 0);
    UT_CHECK_EQ(unreported, 0);
    sim_flash_close(&dev);
}

int
main(void)
{
    ut_suite = "store";
    test_crc();
    test_store_api();
    test_store_full();
    test_store_flips();
    test_store_gc_groups();
    test_store_traceless_cuts();
    test_store_ro();
    test_store_headers();
    test_garbage();
    test_ctl();
    test_clog();
    test_clog_torn_neighbour();
    test_clog_nand();
    test_clog_nand_damage();
    test_clog_nand_cuts();
    test_store_scrub();
    return ut_done();
}
