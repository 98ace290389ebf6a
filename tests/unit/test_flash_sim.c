/*
 * tests/unit/test_flash_sim.c - the sim flash: geometry, files, windows,
 * the NOR rules, power cuts at every operation against a model, torn
 * operations, bit flips.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/flash_sim.h"
#include "ut.h"

#define ES 256u /* erase size in these tests */
#define PS 16u  /* program unit */
#define DEV (8 * ES)

static const struct sim_flash_geom geom = {DEV, ES, PS, 0xff};

static char path[64];

static void
tmp_path(void)
{
    snprintf(path, sizeof(path), "/tmp/keel-ut-flash-%d.img", (int)getpid());
    unlink(path);
}

static void
test_geometry(void)
{
    static const struct {
        struct sim_flash_geom g;
        int ok;
    } cases[] = {
        {{DEV, ES, PS, 0xff}, 1},
        {{DEV, ES, ES, 0xff}, 1},     /* program unit = erase block */
        {{DEV, ES, 24, 0xff}, 0},     /* prog not a power of two */
        {{DEV, 384, PS, 0xff}, 0},    /* erase not a power of two */
        {{DEV, PS, ES, 0xff}, 0},     /* erase smaller than prog */
        {{DEV + 1, ES, PS, 0xff}, 0}, /* size not erase-aligned */
        {{0, ES, PS, 0xff}, 0},       /* empty */
    };
    UT_CASE("geometry is validated");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sim_flash d;
        int rc = sim_flash_open_mem(&d, &cases[i].g);

        UT_CHECK_EQ(rc == 0, cases[i].ok);
        if (rc == 0)
            sim_flash_close(&d);
        else
            UT_CHECK_EQ(rc, -EINVAL);
    }
}

static void
test_file(void)
{
    struct sim_flash d;
    struct hal_flash p;
    struct stat st;
    uint8_t buf[PS], data[PS];
    int all_ff = 1;

    UT_CASE("a missing file is created erased at the device size");
    tmp_path();
    UT_CHECK_EQ(sim_flash_open(&d, path, &geom, 0), -ENOENT);
    UT_CHECK_EQ(sim_flash_open(&d, path, &geom, 1), 0);
    UT_CHECK_EQ(stat(path, &st), 0);
    UT_CHECK_EQ(st.st_size, DEV);
    UT_CHECK_EQ(sim_flash_partition(&d, &p, "all", 0, DEV), 0);
    for (uint64_t off = 0; off < DEV; off += PS) {
        UT_CHECK_EQ(hal_flash_read(&p, off, buf, PS), 0);
        for (unsigned i = 0; i < PS; i++)
            all_ff &= buf[i] == 0xff;
    }
    UT_CHECK(all_ff);

    UT_CASE("data survives close and reopen; programmed units stay "
            "programmed");
    for (unsigned i = 0; i < PS; i++)
        data[i] = (uint8_t)(0x10 + i);
    UT_CHECK_EQ(hal_flash_prog(&p, 3 * PS, data, PS), 0);
    sim_flash_close(&d);
    UT_CHECK_EQ(sim_flash_open(&d, path, &geom, 1), 0);
    UT_CHECK_EQ(sim_flash_partition(&d, &p, "all", 0, DEV), 0);
    UT_CHECK_EQ(hal_flash_read(&p, 3 * PS, buf, PS), 0);
    UT_CHECK(memcmp(buf, data, PS) == 0);
    UT_CHECK_EQ(hal_flash_prog(&p, 3 * PS, data, PS), -EINVAL);
    UT_CHECK_EQ(hal_flash_prog(&p, 4 * PS, data, PS), 0);
    sim_flash_close(&d);

    UT_CASE("a file of another size is refused");
    {
        struct sim_flash_geom big = geom;

        big.size = 2 * DEV;
        UT_CHECK_EQ(sim_flash_open(&d, path, &big, 1), -EINVAL);
    }
    unlink(path);
}

static void
test_windows(void)
{
    struct sim_flash d;
    struct hal_flash a, b;
    uint8_t buf[2 * PS], data[PS];

    memset(data, 0x5a, sizeof(data));
    UT_CASE("partitions are windows with offsets from their start");
    UT_CHECK_EQ(sim_flash_open_mem(&d, &geom), 0);
    UT_CHECK_EQ(sim_flash_partition(&d, &a, "a", 0, 2 * ES), 0);
    UT_CHECK_EQ(sim_flash_partition(&d, &b, "b", 2 * ES, 4 * ES), 0);
    UT_CHECK_EQ(hal_flash_prog(&b, 0, data, PS), 0);
    UT_CHECK_EQ(d.map[2 * ES], 0x5a);
    UT_CHECK_EQ(d.map[0], 0xff);
    UT_CHECK_EQ(b.size, 4 * ES);

    UT_CASE("partitions outside the device or misaligned are refused");
    UT_CHECK_EQ(sim_flash_partition(&d, &a, "x", 7 * ES, 2 * ES), -EINVAL);
    UT_CHECK_EQ(sim_flash_partition(&d, &a, "x", 10, ES), -EINVAL);
    UT_CHECK_EQ(sim_flash_partition(&d, &a, "x", 0, ES + 1), -EINVAL);
    UT_CHECK_EQ(sim_flash_partition(&d, &a, "a", 0, 2 * ES), 0);

    UT_CASE("out-of-range and misaligned operations are -EINVAL");
    UT_CHECK_EQ(hal_flash_read(&a, 2 * ES - PS, buf, 2 * PS), -EINVAL);
    UT_CHECK_EQ(hal_flash_read(&a, 2 * ES, buf, 1), -EINVAL);
    UT_CHECK_EQ(hal_flash_read(&a, UINT64_MAX, buf, 1), -EINVAL);
    UT_CHECK_EQ(hal_flash_read(&a, 3, buf, 5), 0);
    UT_CHECK_EQ(hal_flash_prog(&a, 8, data, PS), -EINVAL);
    UT_CHECK_EQ(hal_flash_prog(&a, 0, data, PS - 1), -EINVAL);
    UT_CHECK_EQ(hal_flash_prog(&a, 2 * ES, data, PS), -EINVAL);
    UT_CHECK_EQ(hal_flash_erase(&a, PS, ES), -EINVAL);
    UT_CHECK_EQ(hal_flash_erase(&a, 0, ES + PS), -EINVAL);
    UT_CHECK_EQ(hal_flash_erase(&a, ES, 2 * ES), -EINVAL);
    UT_CHECK_EQ(d.ops, 1); /* none of those reached the chip */
    sim_flash_close(&d);
}

static void
test_nor_rules(void)
{
    struct sim_flash d;
    struct hal_flash p;
    uint8_t one[PS], two[PS], buf[PS];

    memset(one, 0xf0, PS);
    memset(two, 0x0f, PS);
    UT_CASE("program-once: a programmed unit is refused until erased");
    UT_CHECK_EQ(sim_flash_open_mem(&d, &geom), 0);
    UT_CHECK_EQ(sim_flash_partition(&d, &p, "p", 0, DEV), 0);
    UT_CHECK_EQ(hal_flash_prog(&p, ES, one, PS), 0);
    UT_CHECK_EQ(hal_flash_prog(&p, ES, two, PS), -EINVAL);
    UT_CHECK_EQ(d.stats.refused, 1);
    UT_CHECK_EQ(hal_flash_read(&p, ES, buf, PS), 0);
    UT_CHECK(memcmp(buf, one, PS) == 0);
    /* a range that overlaps one programmed unit is refused whole */
    UT_CHECK_EQ(hal_flash_prog(&p, ES - PS, one, 2 * PS), -EINVAL);
    UT_CHECK_EQ(d.map[ES - PS], 0xff);

    UT_CASE("erase restores the erased value and programmability");
    UT_CHECK_EQ(hal_flash_erase(&p, ES, ES), 0);
    UT_CHECK_EQ(hal_flash_read(&p, ES, buf, PS), 0);
    UT_CHECK_EQ(buf[0], 0xff);
    UT_CHECK_EQ(hal_flash_prog(&p, ES, two, PS), 0);
    UT_CHECK_EQ(d.map[ES], 0x0f);

    UT_CASE("programming ANDs into the old bytes (NOR clears bits only)");
    /* Bypass the rule with a corrupt byte (erased 0xff -> 0x7f), then
     * program 0x80 | ... into a fresh unit next to it to see AND. */
    UT_CHECK_EQ(sim_flash_corrupt(&d, 2 * ES, 0x80), 0);
    d.touched[(2 * ES / PS) / 8] &= (uint8_t) ~(1u << ((2 * ES / PS) % 8));
    memset(one, 0xf0, PS);
    UT_CHECK_EQ(hal_flash_prog(&p, 2 * ES, one, PS), 0);
    UT_CHECK_EQ(d.map[2 * ES], 0x70);
    UT_CHECK_EQ(d.map[2 * ES + 1], 0xf0);

    UT_CASE("stats count completed operations and bytes");
    UT_CHECK_EQ(d.stats.progs, 3);
    UT_CHECK_EQ(d.stats.erases, 1);
    UT_CHECK_EQ(d.stats.bytes_prog, 3 * PS);
    UT_CHECK_EQ(d.stats.bytes_erased, ES);
    UT_CHECK_EQ(d.ops, 4);
    sim_flash_close(&d);
}

/* A scripted workload of programs and erases, replayed on a model. */
struct op {
    int erase;
    uint32_t off, len;
    uint8_t fill;
};

static const struct op script[] = {
    {0, 0, PS, 0x11},           {0, PS, 3 * PS, 0x22},
    {0, ES, ES, 0x33},          {1, 0, ES, 0},
    {0, 0, 2 * PS, 0x44},       {0, 5 * ES, PS, 0x55},
    {1, ES, 2 * ES, 0},         {0, ES + 4 * PS, PS, 0x66},
    {0, 2 * ES, ES, 0x77},      {0, 7 * ES, 4 * PS, 0x88},
    {1, 5 * ES, ES, 0},         {0, 5 * ES, PS, 0x99},
    {0, 6 * ES, ES, 0x0a},      {1, 6 * ES, ES, 0},
    {0, 6 * ES + PS, PS, 0xbb}, {0, 3 * ES, 8 * PS, 0xcc},
    {1, 7 * ES, ES, 0},         {0, 7 * ES, PS, 0xdd},
    {0, 4 * ES, 2 * PS, 0xee},  {0, 4 * ES + 2 * PS, PS, 0x01},
};
#define NSCRIPT (sizeof(script) / sizeof(script[0]))

static void
model_apply(uint8_t *m, const struct op *o)
{
    if (o->erase)
        memset(m + o->off, 0xff, o->len);
    else
        for (uint32_t i = 0; i < o->len; i++)
            m[o->off + i] &= o->fill;
}

static int
run_op(const struct hal_flash *p, const struct op *o)
{
    uint8_t buf[ES];

    if (o->erase)
        return hal_flash_erase(p, o->off, o->len);
    memset(buf, o->fill, o->len);
    return hal_flash_prog(p, o->off, buf, o->len);
}

static void
test_cut_every_op(void)
{
    static uint8_t model[DEV];
    int exact = 1, dead_ok = 1, all_ops_ok = 1;

    UT_CASE("a cut after operation N leaves exactly operations 0..N-1");
    for (size_t n = 0; n <= NSCRIPT; n++) {
        struct sim_flash d;
        struct hal_flash p;
        uint8_t b;

        sim_flash_open_mem(&d, &geom);
        sim_flash_partition(&d, &p, "p", 0, DEV);
        sim_flash_cut_after(&d, n, SIM_TORN_NONE, 1);
        memset(model, 0xff, sizeof(model));
        for (size_t i = 0; i < NSCRIPT; i++) {
            int rc = run_op(&p, &script[i]);

            if (i < n) {
                all_ops_ok &= rc == 0;
                model_apply(model, &script[i]);
            } else {
                dead_ok &= rc == -EIO;
            }
        }
        exact &= memcmp(d.map, model, DEV) == 0;
        /* reads and syncs fail too while the power is off */
        if (n < NSCRIPT) {
            dead_ok &= hal_flash_read(&p, 0, &b, 1) == -EIO;
            dead_ok &= hal_flash_sync(&p) == -EIO;
            sim_flash_power_on(&d);
            dead_ok &= hal_flash_read(&p, 0, &b, 1) == 0;
        }
        sim_flash_close(&d);
    }
    UT_CHECK(exact);
    UT_CHECK(dead_ok);
    UT_CHECK(all_ops_ok);
}

static void
test_torn(void)
{
    int prefix_ok = 1, bits_ok = 1, erase_ok = 1, saw_partial = 0;

    UT_CASE("a torn program leaves a prefix of the new bytes");
    for (uint32_t seed = 1; seed <= 50; seed++) {
        struct sim_flash d;
        struct hal_flash p;
        uint8_t data[4 * PS];
        size_t k = 0;

        for (size_t i = 0; i < sizeof(data); i++)
            data[i] = (uint8_t)(i * 7);
        sim_flash_open_mem(&d, &geom);
        sim_flash_partition(&d, &p, "p", 0, DEV);
        sim_flash_cut_after(&d, 0, SIM_TORN_PREFIX, seed);
        prefix_ok &= hal_flash_prog(&p, 0, data, sizeof(data)) == -EIO;
        while (k < sizeof(data) && d.map[k] == data[k])
            k++;
        for (size_t i = k; i < sizeof(data); i++)
            prefix_ok &= d.map[i] == 0xff || (data[i] == 0xff);
        saw_partial |= k > 0 && k < sizeof(data);
        sim_flash_power_on(&d);
        /* the whole range stays unprogrammable, even bytes that read
         * erased */
        prefix_ok &= hal_flash_prog(&p, 3 * PS, data, PS) == -EINVAL;
        prefix_ok &= hal_flash_prog(&p, 4 * PS, data, PS) == 0;
        prefix_ok &= hal_flash_erase(&p, 0, ES) == 0;
        prefix_ok &= hal_flash_prog(&p, 3 * PS, data, PS) == 0;
        sim_flash_close(&d);
    }
    UT_CHECK(prefix_ok);
    UT_CHECK(saw_partial);

    UT_CASE("a torn program changes only bits the program would clear");
    for (uint32_t seed = 1; seed <= 50; seed++) {
        struct sim_flash d;
        struct hal_flash p;
        uint8_t data[2 * PS];

        for (size_t i = 0; i < sizeof(data); i++)
            data[i] = (uint8_t)(0x5a ^ i);
        sim_flash_open_mem(&d, &geom);
        sim_flash_partition(&d, &p, "p", 0, DEV);
        sim_flash_cut_after(&d, 0, SIM_TORN_BITS, seed);
        bits_ok &= hal_flash_prog(&p, 0, data, sizeof(data)) == -EIO;
        for (size_t i = 0; i < sizeof(data); i++) {
            /* old (0xff) >= result >= old & new, bitwise */
            bits_ok &= (d.map[i] & data[i]) == data[i];
        }
        sim_flash_close(&d);
    }
    UT_CHECK(bits_ok);

    UT_CASE("a torn erase only sets bits; the block must be erased again");
    for (int mode = SIM_TORN_NONE; mode <= SIM_TORN_BITS; mode++) {
        struct sim_flash d;
        struct hal_flash p;
        uint8_t data[ES];

        memset(data, 0x00, sizeof(data));
        sim_flash_open_mem(&d, &geom);
        sim_flash_partition(&d, &p, "p", 0, DEV);
        erase_ok &= hal_flash_prog(&p, ES, data, ES) == 0;
        memset(data, 0xff, sizeof(data));
        sim_flash_cut_after(&d, 1, (enum sim_flash_torn)mode, 7);
        erase_ok &= hal_flash_erase(&p, ES, ES) == -EIO;
        if (mode == SIM_TORN_NONE)
            erase_ok &= d.map[ES] == 0 && d.map[2 * ES - 1] == 0;
        sim_flash_power_on(&d);
        /* even where it reads erased, nothing may be programmed */
        for (uint32_t off = ES; off < 2 * ES; off += PS)
            erase_ok &= hal_flash_prog(&p, off, data, PS) == -EINVAL;
        erase_ok &= hal_flash_erase(&p, ES, ES) == 0;
        erase_ok &= hal_flash_prog(&p, ES, data, PS) == 0;
        sim_flash_close(&d);
    }
    UT_CHECK(erase_ok);
}

static void
test_flips(void)
{
    struct sim_flash d;
    struct hal_flash p;
    static uint8_t buf[DEV];
    unsigned diff = 0;

    UT_CASE("flips on read change returned data, not stored data");
    sim_flash_open_mem(&d, &geom);
    sim_flash_partition(&d, &p, "p", 0, DEV);
    sim_flash_flip_on_read(&d, 0, 1);
    UT_CHECK_EQ(hal_flash_read(&p, 0, buf, DEV), 0);
    for (size_t i = 0; i < DEV; i++)
        diff += buf[i] != 0xff;
    UT_CHECK_EQ(diff, 0);
    sim_flash_flip_on_read(&d, 1000, 3); /* 0.1 % of bits */
    UT_CHECK_EQ(hal_flash_read(&p, 0, buf, DEV), 0);
    for (size_t i = 0; i < DEV; i++)
        diff += buf[i] != 0xff;
    UT_CHECK(diff > 0 && diff < DEV / 10);
    for (size_t i = 0; i < DEV; i++)
        UT_CHECK(d.map[i] == 0xff || !"stored data changed");

    UT_CASE("corrupt changes stored data in place");
    sim_flash_flip_on_read(&d, 0, 1);
    UT_CHECK_EQ(sim_flash_corrupt(&d, 100, 0x01), 0);
    UT_CHECK_EQ(hal_flash_read(&p, 100, buf, 1), 0);
    UT_CHECK_EQ(buf[0], 0xfe);
    UT_CHECK_EQ(sim_flash_corrupt(&d, DEV, 0x01), -EINVAL);
    sim_flash_close(&d);
}

int
main(void)
{
    ut_suite = "flash_sim";
    test_geometry();
    test_file();
    test_windows();
    test_nor_rules();
    test_cut_every_op();
    test_torn();
    test_flips();
    return ut_done();
}
