/*
 * tests/unit/test_flash_sim.c - the sim flash: geometry, files, windows,
 * the NOR rules, power cuts at every operation against a model, torn
 * operations, bit flips, corruption and statistics; block windows and
 * their volatile write cache under each way the power fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Relative to this file, so that both the Makefile (-Ihal) and a bare
 * -Ihal/include -Ihal/sim command line find it. */
#include "../../hal/sim/flash_sim.h"
#include "ut.h"

#define ES 256u /* erase size in these tests */
#define PS 16u  /* program unit */
#define DEV (8 * ES)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct sim_flash_geom geom = {DEV, ES, PS, 0xff};

static char tmpdir[] = "/tmp/keel-ut-flash-XXXXXX";
static char path[sizeof(tmpdir) + 32];

/* path = tmpdir/name, removed first so each case starts from nothing. */
static const char *
tmp_path(const char *name)
{
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    unlink(path);
    return path;
}

static int
all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

/* The file's bytes as another process would see them. */
static int
file_bytes(const char *name, uint64_t off, uint8_t *buf, size_t len)
{
    int fd = open(name, O_RDONLY);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = pread(fd, buf, len, (off_t)off);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

static int
open_whole(struct sim_flash *d, struct hal_flash *p,
           const struct sim_flash_geom *g)
{
    int rc = sim_flash_open_mem(d, g);

    if (rc != 0)
        return rc;
    return sim_flash_partition(d, p, "all", 0, g->size);
}

static void
test_geometry(void)
{
    static const struct {
        const char *why;
        struct sim_flash_geom g;
        int rc;
    } cases[] = {
        {"typical", {DEV, ES, PS, 0xff}, 0},
        {"program unit = erase block", {DEV, ES, ES, 0xff}, 0},
        {"one block, byte programs", {ES, ES, 1, 0xff}, 0},
        {"erased value 0", {DEV, ES, PS, 0x00}, 0},
        {"prog not a power of two", {DEV, ES, 24, 0xff}, -EINVAL},
        {"prog 0", {DEV, ES, 0, 0xff}, -EINVAL},
        {"erase not a power of two", {DEV, 384, PS, 0xff}, -EINVAL},
        {"erase 0", {DEV, 0, PS, 0xff}, -EINVAL},
        {"erase smaller than prog", {DEV, PS, ES, 0xff}, -EINVAL},
        {"size not erase-aligned", {DEV + PS, ES, PS, 0xff}, -EINVAL},
        {"size 0", {0, ES, PS, 0xff}, -EINVAL},
        {"size beyond off_t", {(uint64_t)1 << 63, ES, PS, 0xff}, -EINVAL},
    };

    UT_CASE("geometry is validated for memory and file devices");
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct sim_flash d;
        const char *f = tmp_path("geom.img");
        int rc = sim_flash_open_mem(&d, &cases[i].g);

        if (rc != cases[i].rc)
            printf("  case: %s (mem)\n", cases[i].why);
        UT_CHECK_EQ(rc, cases[i].rc);
        if (rc == 0)
            sim_flash_close(&d);
        rc = sim_flash_open(&d, f, &cases[i].g, 1);
        if (rc != cases[i].rc)
            printf("  case: %s (file)\n", cases[i].why);
        UT_CHECK_EQ(rc, cases[i].rc);
        if (rc == 0)
            sim_flash_close(&d);
        else /* a refused geometry creates no file */
            UT_CHECK(access(f, F_OK) != 0 && errno == ENOENT);
        unlink(f);
    }
}

static void
test_create_reopen(void)
{
    static const uint8_t erased[] = {0xff, 0x00, 0xa5};

    UT_CASE("a missing file is refused without create");
    {
        struct sim_flash d;
        const char *f = tmp_path("dev.img");
        char nodir[sizeof(path) + 8];

        UT_CHECK_EQ(sim_flash_open(&d, f, &geom, 0), -ENOENT);
        UT_CHECK(access(f, F_OK) != 0);
        snprintf(nodir, sizeof(nodir), "%s/no/dev.img", tmpdir);
        UT_CHECK_EQ(sim_flash_open(&d, nodir, &geom, 1), -ENOENT);
    }

    for (size_t e = 0; e < NELEM(erased); e++) {
        struct sim_flash_geom g = geom;
        struct sim_flash d;
        struct hal_flash p;
        struct stat st;
        static uint8_t buf[DEV];
        uint8_t data[PS];
        const char *f = tmp_path("dev.img");

        g.erased = erased[e];
        for (unsigned i = 0; i < PS; i++)
            data[i] = (uint8_t)(0x30 + 7 * i);

        UT_CASE("a missing file is created erased at the device size");
        UT_CHECK_EQ(sim_flash_open(&d, f, &g, 1), 0);
        UT_CHECK_EQ(stat(f, &st), 0);
        UT_CHECK_EQ(st.st_size, DEV);
        UT_CHECK_EQ(file_bytes(f, 0, buf, DEV), 0);
        UT_CHECK(all_bytes(buf, DEV, g.erased));
        UT_CHECK_EQ(sim_flash_partition(&d, &p, "all", 0, DEV), 0);
        memset(buf, (uint8_t)~g.erased, DEV);
        UT_CHECK_EQ(hal_flash_read(&p, 0, buf, DEV), 0);
        UT_CHECK(all_bytes(buf, DEV, g.erased));

        UT_CASE("data survives close and reopen; programmed units stay "
                "programmed");
        UT_CHECK_EQ(hal_flash_prog(&p, 3 * PS, data, PS), 0);
        /* a unit with one non-erased byte counts as programmed too */
        UT_CHECK_EQ(sim_flash_corrupt(&d, 5 * PS + PS - 1, 0x01), 0);
        sim_flash_close(&d);
        UT_CHECK_EQ(file_bytes(f, 3 * PS, buf, PS), 0);
        UT_CHECK(memcmp(buf, data, PS) == 0);
        UT_CHECK_EQ(sim_flash_open(&d, f, &g, 1), 0);
        UT_CHECK_EQ(sim_flash_partition(&d, &p, "all", 0, DEV), 0);
        UT_CHECK_EQ(hal_flash_read(&p, 3 * PS, buf, PS), 0);
        UT_CHECK(memcmp(buf, data, PS) == 0);
        UT_CHECK_EQ(hal_flash_prog(&p, 3 * PS, data, PS), -EINVAL);
        UT_CHECK_EQ(hal_flash_prog(&p, 5 * PS, data, PS), -EINVAL);
        UT_CHECK_EQ(hal_flash_prog(&p, 4 * PS, data, PS), 0);
        UT_CHECK_EQ(hal_flash_prog(&p, 6 * PS, data, PS), 0);
        UT_CHECK_EQ(d.stats.refused, 2);
        /* reopening with create set must not re-erase the file */
        sim_flash_close(&d);
        UT_CHECK_EQ(sim_flash_open(&d, f, &g, 1), 0);
        UT_CHECK(memcmp(d.map + 6 * PS, data, PS) == 0);
        sim_flash_close(&d);
        unlink(f);
    }

    UT_CASE("an existing file of another size is refused and kept");
    {
        static const uint64_t sizes[] = {0, 1, DEV - ES, DEV + ES, DEV + 1};

        for (size_t i = 0; i < NELEM(sizes); i++) {
            struct sim_flash d;
            struct stat st;
            const char *f = tmp_path("size.img");
            int fd = open(f, O_RDWR | O_CREAT | O_EXCL, 0644);

            UT_CHECK(fd >= 0);
            UT_CHECK_EQ(ftruncate(fd, (off_t)sizes[i]), 0);
            close(fd);
            UT_CHECK_EQ(sim_flash_open(&d, f, &geom, 1), -EINVAL);
            UT_CHECK_EQ(sim_flash_open(&d, f, &geom, 0), -EINVAL);
            UT_CHECK_EQ(stat(f, &st), 0);
            UT_CHECK_EQ(st.st_size, sizes[i]);
            unlink(f);
        }
    }
}

static void
test_windows(void)
{
    static const struct {
        uint64_t base, size;
        int rc;
    } parts[] = {
        {0, DEV, 0},
        {2 * ES, 4 * ES, 0},
        {7 * ES, ES, 0},
        {7 * ES, 2 * ES, -EINVAL},          /* past the end */
        {DEV, ES, -EINVAL},                 /* starts at the end */
        {10, ES, -EINVAL},                  /* base misaligned */
        {0, ES + PS, -EINVAL},              /* size misaligned */
        {0, 0, -EINVAL},                    /* empty */
        {(uint64_t)1 << 63, ES, -EINVAL},   /* far outside */
        {ES, UINT64_MAX - ES + 1, -EINVAL}, /* base + size wraps */
    };
    /* Calls on window a = [0, 2 ES) of the device. */
    enum { RD, PG, ER };
    static const struct {
        int op;
        uint64_t off, len;
        int rc;
    } calls[] = {
        {RD, 2 * ES - PS, 2 * PS, -EINVAL},
        {RD, 2 * ES, 1, -EINVAL},
        {RD, UINT64_MAX, 1, -EINVAL},
        {RD, 3, 5, 0},
        {RD, 2 * ES - 1, 1, 0},
        {RD, 2 * ES, 0, 0},
        {PG, 8, PS, -EINVAL},
        {PG, 0, PS - 1, -EINVAL},
        {PG, 0, 0, 0},
        {PG, 2 * ES, PS, -EINVAL},
        {PG, 2 * ES - PS, 2 * PS, -EINVAL},
        {PG, UINT64_MAX - PS + 1, PS, -EINVAL},
        {ER, PS, ES, -EINVAL},
        {ER, 0, ES + PS, -EINVAL},
        {ER, ES, 2 * ES, -EINVAL},
        {ER, 2 * ES, ES, -EINVAL},
        {ER, 0, 0, 0},
    };
    struct sim_flash d;
    struct hal_flash a, b, w;
    uint8_t buf[2 * PS], data[2 * PS];

    memset(data, 0x5a, sizeof(data));
    UT_CASE("partitions inside the device and aligned are accepted");
    UT_CHECK_EQ(sim_flash_open_mem(&d, &geom), 0);
    for (size_t i = 0; i < NELEM(parts); i++) {
        int rc = sim_flash_partition(&d, &w, "w", parts[i].base, parts[i].size);

        UT_CHECK_EQ(rc, parts[i].rc);
        if (rc == 0) {
            UT_CHECK_EQ(w.base, parts[i].base);
            UT_CHECK_EQ(w.size, parts[i].size);
            UT_CHECK(w.dev == &d && strcmp(w.name, "w") == 0);
            UT_CHECK_EQ(w.erase_size, ES);
            UT_CHECK_EQ(w.prog_size, PS);
            UT_CHECK_EQ(w.erased, 0xff);
        }
    }

    UT_CASE("partitions are windows with offsets from their start");
    UT_CHECK_EQ(sim_flash_partition(&d, &a, "a", 0, 2 * ES), 0);
    UT_CHECK_EQ(sim_flash_partition(&d, &b, "b", 2 * ES, 4 * ES), 0);
    UT_CHECK_EQ(sim_flash_partition(&d, &w, "all", 0, DEV), 0);
    UT_CHECK_EQ(hal_flash_prog(&b, PS, data, PS), 0);
    UT_CHECK_EQ(d.map[2 * ES + PS], 0x5a);
    UT_CHECK_EQ(d.map[PS], 0xff);
    UT_CHECK_EQ(hal_flash_read(&w, 2 * ES + PS, buf, PS), 0);
    UT_CHECK(all_bytes(buf, PS, 0x5a));
    UT_CHECK_EQ(hal_flash_read(&b, PS, buf, PS), 0);
    UT_CHECK(all_bytes(buf, PS, 0x5a));
    /* the same unit seen through two windows is one unit */
    UT_CHECK_EQ(hal_flash_prog(&w, 2 * ES + PS, data, PS), -EINVAL);
    UT_CHECK_EQ(hal_flash_prog(&w, 3 * ES, data, PS), 0);
    UT_CHECK_EQ(hal_flash_erase(&b, ES, ES), 0); /* device block 3 */
    UT_CHECK_EQ(d.map[3 * ES], 0xff);
    UT_CHECK_EQ(d.map[2 * ES + PS], 0x5a);

    UT_CASE("out-of-range and misaligned calls are -EINVAL, reach nothing");
    {
        uint64_t ops = d.ops, refused = d.stats.refused;

        for (size_t i = 0; i < NELEM(calls); i++) {
            int rc;

            if (calls[i].op == RD)
                rc =
                    hal_flash_read(&a, calls[i].off, buf, (size_t)calls[i].len);
            else if (calls[i].op == PG)
                rc = hal_flash_prog(&a, calls[i].off, data,
                                    (size_t)calls[i].len);
            else
                rc = hal_flash_erase(&a, calls[i].off, calls[i].len);
            if (rc != calls[i].rc)
                printf("  call %zu\n", i);
            UT_CHECK_EQ(rc, calls[i].rc);
        }
        UT_CHECK_EQ(d.ops, ops);
        UT_CHECK_EQ(d.stats.refused, refused);
        /* nothing leaked into b, right after a */
        UT_CHECK_EQ(d.map[2 * ES], 0xff);
        UT_CHECK(all_bytes(d.map, 2 * ES, 0xff));
    }
    sim_flash_close(&d);
}

static void
test_nor_rules(void)
{
    struct sim_flash d;
    struct hal_flash p;
    uint8_t one[2 * PS], two[PS], ff[PS], buf[PS];

    memset(one, 0xf0, sizeof(one));
    memset(two, 0x0f, sizeof(two));
    memset(ff, 0xff, sizeof(ff));
    UT_CASE("program-once: a programmed unit is refused until erased");
    UT_CHECK_EQ(open_whole(&d, &p, &geom), 0);
    UT_CHECK_EQ(hal_flash_prog(&p, ES, one, PS), 0);
    UT_CHECK_EQ(hal_flash_prog(&p, ES, two, PS), -EINVAL);
    UT_CHECK_EQ(hal_flash_prog(&p, ES, one, PS), -EINVAL); /* same data */
    UT_CHECK_EQ(d.stats.refused, 2);
    UT_CHECK_EQ(d.stats.progs, 1);
    UT_CHECK_EQ(d.ops, 1); /* refused programs never reach the chip */
    UT_CHECK_EQ(hal_flash_read(&p, ES, buf, PS), 0);
    UT_CHECK(all_bytes(buf, PS, 0xf0));

    UT_CASE("a range overlapping one programmed unit is refused whole");
    UT_CHECK_EQ(hal_flash_prog(&p, ES - PS, one, 2 * PS), -EINVAL);
    UT_CHECK(all_bytes(d.map + ES - PS, PS, 0xff));
    UT_CHECK_EQ(hal_flash_prog(&p, ES - PS, one, PS), 0); /* not touched */
    UT_CHECK_EQ(d.stats.refused, 3);

    UT_CASE("a long program off a byte boundary of the map marks its units");
    {
        static uint8_t ten[10 * PS];

        /* units 3..12 of block 3: not aligned to 8 units either end */
        UT_CHECK_EQ(hal_flash_prog(&p, 3 * ES + 3 * PS, ten, 10 * PS), 0);
        for (uint32_t u = 3; u < 13; u++)
            UT_CHECK_EQ(hal_flash_prog(&p, 3 * ES + u * PS, two, PS), -EINVAL);
        UT_CHECK_EQ(hal_flash_prog(&p, 3 * ES + 2 * PS, two, PS), 0);
        UT_CHECK_EQ(hal_flash_prog(&p, 3 * ES + 13 * PS, two, PS), 0);
        UT_CHECK_EQ(hal_flash_erase(&p, 3 * ES, ES), 0);
        UT_CHECK_EQ(hal_flash_prog(&p, 3 * ES, one, 2 * PS), 0);
    }

    UT_CASE("a unit programmed with erased-looking bytes is still used");
    UT_CHECK_EQ(hal_flash_prog(&p, 4 * PS, ff, PS), 0);
    UT_CHECK_EQ(hal_flash_prog(&p, 4 * PS, two, PS), -EINVAL);
    UT_CHECK(all_bytes(d.map + 4 * PS, PS, 0xff));

    UT_CASE("erase restores the erased value and programmability");
    UT_CHECK_EQ(hal_flash_erase(&p, ES, ES), 0);
    UT_CHECK_EQ(hal_flash_read(&p, ES, buf, PS), 0);
    UT_CHECK(all_bytes(buf, PS, 0xff));
    UT_CHECK_EQ(hal_flash_prog(&p, ES, two, PS), 0);
    UT_CHECK(all_bytes(d.map + ES, PS, 0x0f));
    /* the erase of block 1 left block 0 alone */
    UT_CHECK_EQ(hal_flash_prog(&p, 4 * PS, two, PS), -EINVAL);
    UT_CHECK(all_bytes(d.map + ES - PS, PS, 0xf0));

    UT_CASE("a program needing a bit set again is refused (NOR clears)");
    /* Only sim_flash_corrupt() can leave an untouched unit not erased. */
    UT_CHECK_EQ(sim_flash_corrupt(&d, 2 * ES, 0x80), 0); /* 0xff -> 0x7f */
    UT_CHECK_EQ(hal_flash_prog(&p, 2 * ES, one, PS), -EINVAL);
    UT_CHECK_EQ(d.map[2 * ES], 0x7f);
    UT_CHECK(all_bytes(d.map + 2 * ES + 1, PS - 1, 0xff));
    memset(buf, 0x70, PS); /* needs only bits that are still set */
    UT_CHECK_EQ(hal_flash_prog(&p, 2 * ES, buf, PS), 0);
    UT_CHECK(all_bytes(d.map + 2 * ES, PS, 0x70));
    UT_CHECK_EQ(d.stats.refused, 3 + 10 + 3);
    sim_flash_close(&d);

    UT_CASE("with erased value 0, programs only set bits");
    {
        struct sim_flash_geom g0 = geom;

        g0.erased = 0x00;
        UT_CHECK_EQ(open_whole(&d, &p, &g0), 0);
        UT_CHECK(all_bytes(d.map, DEV, 0x00));
        UT_CHECK_EQ(sim_flash_corrupt(&d, 0, 0x01), 0);
        UT_CHECK_EQ(hal_flash_prog(&p, 0, two, PS), 0); /* 0x0f has bit 0 */
        UT_CHECK(all_bytes(d.map, PS, 0x0f));
        UT_CHECK_EQ(sim_flash_corrupt(&d, PS, 0x80), 0);
        UT_CHECK_EQ(hal_flash_prog(&p, PS, two, PS), -EINVAL);
        UT_CHECK_EQ(hal_flash_erase(&p, 0, ES), 0);
        UT_CHECK(all_bytes(d.map, ES, 0x00));
        sim_flash_close(&d);
    }
}

/* A scripted workload of programs and erases on an 8-block window at
 * device offset WBASE, replayed on a model of the whole device. */
#define WBASE (2 * ES)
#define CUTDEV (WBASE + DEV)

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
    {1, 0, 8 * ES, 0},          {0, 8 * ES - PS, PS, 0x3c},
};
#define NSCRIPT NELEM(script)

static uint8_t
op_byte(const struct op *o, uint32_t i)
{
    return (uint8_t)(o->fill ^ (i * 29u));
}

static void
model_apply(uint8_t *m, const struct op *o)
{
    for (uint32_t i = 0; i < o->len; i++) {
        uint8_t *b = m + WBASE + o->off + i;

        *b = o->erase ? 0xff : (uint8_t)(*b & op_byte(o, i));
    }
}

static int
run_op(const struct hal_flash *p, const struct op *o)
{
    static uint8_t buf[8 * ES];

    if (o->erase)
        return hal_flash_erase(p, o->off, o->len);
    for (uint32_t i = 0; i < o->len; i++)
        buf[i] = op_byte(o, i);
    return hal_flash_prog(p, o->off, buf, o->len);
}

/* Is dev[0..len) what a torn version of old -> full may leave?  Every
 * mode changes only bits that differ between old and full; a prefix
 * tear is full up to some k < len and old from k. */
static int
torn_ok(enum sim_flash_torn mode, const uint8_t *dev, const uint8_t *old,
        const uint8_t *full, size_t len)
{
    size_t k0 = 0, k1 = 0;

    for (size_t i = 0; i < len; i++)
        if ((dev[i] ^ old[i]) & ~(old[i] ^ full[i]))
            return 0;
    switch (mode) {
    case SIM_TORN_NONE:
        return memcmp(dev, old, len) == 0;
    case SIM_TORN_PREFIX:
        while (k0 < len && dev[k0] == full[k0])
            k0++;
        for (size_t i = 0; i < len; i++)
            if (dev[i] != old[i])
                k1 = i + 1;
        return k1 <= k0 && k1 < len;
    case SIM_TORN_BITS:
        return 1;
    }
    return 0;
}

static void
test_cut_every_op(void)
{
    static const char *const names[] = {
        "a cut at operation N leaves exactly operations 0..N-1 (NONE)",
        "a cut at operation N leaves 0..N-1 and a prefix of N (PREFIX)",
        "a cut at operation N leaves 0..N-1 and some bits of N (BITS)",
    };
    const struct sim_flash_geom g = {CUTDEV, ES, PS, 0xff};
    static uint8_t model[CUTDEV], next[CUTDEV];

    for (int mode = SIM_TORN_NONE; mode <= SIM_TORN_BITS; mode++) {
        int partial = 0;

        UT_CASE(names[mode]);
        for (size_t n = 0; n <= NSCRIPT; n++) {
            for (uint32_t seed = 1; seed <= (mode ? 4u : 1u); seed++) {
                struct sim_flash d;
                struct hal_flash p;
                const struct op *o = &script[n < NSCRIPT ? n : 0];
                int ok = 1, rc;
                uint8_t b, unit[PS] = {0};

                UT_CHECK_EQ(sim_flash_open_mem(&d, &g), 0);
                UT_CHECK_EQ(sim_flash_partition(&d, &p, "w", WBASE, DEV), 0);
                sim_flash_cut_after(&d, n, (enum sim_flash_torn)mode, seed);
                memset(model, 0xff, sizeof(model));
                for (size_t i = 0; i < NSCRIPT; i++) {
                    rc = run_op(&p, &script[i]);
                    ok &= rc == (i < n ? 0 : -EIO);
                    if (i < n)
                        model_apply(model, &script[i]);
                }
                UT_CHECK(ok);
                if (n == NSCRIPT) {
                    UT_CHECK(memcmp(d.map, model, CUTDEV) == 0);
                    UT_CHECK_EQ(d.dead, 0);
                    UT_CHECK_EQ(d.stats.failed, 0);
                    sim_flash_close(&d);
                    continue;
                }
                /* Outside operation n's range: exactly ops 0..n-1. */
                memcpy(next, model, sizeof(next));
                model_apply(next, o);
                UT_CHECK(memcmp(d.map, model, WBASE + o->off) == 0);
                UT_CHECK(memcmp(d.map + WBASE + o->off + o->len,
                                model + WBASE + o->off + o->len,
                                CUTDEV - WBASE - o->off - o->len) == 0);
                UT_CHECK(torn_ok((enum sim_flash_torn)mode,
                                 d.map + WBASE + o->off, model + WBASE + o->off,
                                 next + WBASE + o->off, o->len));
                partial |= memcmp(d.map, model, CUTDEV) != 0 &&
                           memcmp(d.map, next, CUTDEV) != 0;
                /* Later operations never reached the chip or the count. */
                UT_CHECK_EQ(d.ops, n + 1);
                UT_CHECK_EQ(d.stats.failed, NSCRIPT - n);
                UT_CHECK_EQ(d.stats.progs + d.stats.erases, n);
                /* Reads and syncs fail too while the power is off. */
                UT_CHECK_EQ(hal_flash_read(&p, 0, &b, 1), -EIO);
                UT_CHECK_EQ(hal_flash_sync(&p), -EIO);
                UT_CHECK_EQ(d.stats.failed, NSCRIPT - n + 2);
                sim_flash_power_on(&d);
                UT_CHECK_EQ(hal_flash_read(&p, 0, &b, 1), 0);
                UT_CHECK_EQ(hal_flash_sync(&p), 0);
                /* The interrupted range is not programmable. */
                UT_CHECK_EQ(hal_flash_prog(&p, o->off, unit, PS), -EINVAL);
                sim_flash_close(&d);
            }
        }
        /* Torn modes must really tear sometimes. */
        UT_CHECK(mode == SIM_TORN_NONE || partial);
    }
}

static void
test_dead_and_power_on(void)
{
    struct sim_flash d;
    struct hal_flash p;
    uint8_t data[PS], buf[PS];

    memset(data, 0x42, sizeof(data));
    UT_CASE("a cut counts from open; refused programs take no number");
    UT_CHECK_EQ(open_whole(&d, &p, &geom), 0);
    UT_CHECK_EQ(hal_flash_prog(&p, 0, data, PS), 0); /* op 0 */
    UT_CHECK_EQ(hal_flash_erase(&p, ES, ES), 0);     /* op 1 */
    sim_flash_cut_after(&d, 3, SIM_TORN_NONE, 9);
    UT_CHECK_EQ(hal_flash_prog(&p, 0, data, PS), -EINVAL); /* refused */
    UT_CHECK_EQ(hal_flash_read(&p, 0, buf, PS), 0);        /* no number */
    UT_CHECK_EQ(hal_flash_sync(&p), 0);                    /* no number */
    UT_CHECK_EQ(hal_flash_prog(&p, PS, data, PS), 0);      /* op 2 */
    UT_CHECK_EQ(sim_flash_ops(&d), 3);
    UT_CHECK_EQ(hal_flash_prog(&p, 2 * PS, data, PS), -EIO); /* op 3 */
    UT_CHECK(all_bytes(d.map + 2 * PS, PS, 0xff));

    UT_CASE("after a cut every operation fails with -EIO");
    UT_CHECK_EQ(hal_flash_read(&p, 0, buf, PS), -EIO);
    UT_CHECK_EQ(hal_flash_prog(&p, 3 * PS, data, PS), -EIO);
    UT_CHECK_EQ(hal_flash_prog(&p, 0, data, PS), -EIO); /* not -EINVAL */
    UT_CHECK_EQ(hal_flash_erase(&p, 0, ES), -EIO);
    UT_CHECK_EQ(hal_flash_sync(&p), -EIO);
    UT_CHECK_EQ(d.stats.failed, 6);
    UT_CHECK_EQ(d.stats.refused, 1);
    UT_CHECK_EQ(sim_flash_ops(&d), 4);
    UT_CHECK(all_bytes(d.map + 3 * PS, ES - 3 * PS, 0xff));

    UT_CASE("power on keeps bytes and the touched map, disarms the cut");
    sim_flash_power_on(&d);
    UT_CHECK_EQ(hal_flash_read(&p, 0, buf, PS), 0);
    UT_CHECK(all_bytes(buf, PS, 0x42));
    UT_CHECK_EQ(hal_flash_prog(&p, 2 * PS, data, PS), -EINVAL);
    UT_CHECK_EQ(hal_flash_prog(&p, 3 * PS, data, PS), 0); /* op 4 */
    for (int i = 0; i < 8; i++)
        UT_CHECK_EQ(hal_flash_erase(&p, ES, ES), 0);
    UT_CHECK_EQ(sim_flash_ops(&d), 13);
    UT_CHECK_EQ(d.stats.failed, 6);

    UT_CASE("a cut armed at an operation index already past never fires");
    sim_flash_cut_after(&d, 2, SIM_TORN_BITS, 1);
    UT_CHECK_EQ(hal_flash_erase(&p, 0, ES), 0);
    UT_CHECK_EQ(d.dead, 0);

    UT_CASE("a saved state restores bytes and the touched map, powered on");
    {
        size_t n = sim_flash_state_size(&d);
        uint8_t *st = malloc(n);

        UT_CHECK_EQ(n, (size_t)geom.size + geom.size / geom.prog_size / 8);
        UT_CHECK_EQ(hal_flash_prog(&p, 0, data, PS), 0);
        sim_flash_save(&d, st);
        UT_CHECK_EQ(hal_flash_erase(&p, 0, ES), 0);
        UT_CHECK_EQ(hal_flash_prog(&p, PS, data, PS), 0);
        sim_flash_cut_after(&d, sim_flash_ops(&d), SIM_TORN_NONE, 1);
        UT_CHECK_EQ(hal_flash_erase(&p, 0, ES), -EIO);
        sim_flash_restore(&d, st);
        UT_CHECK_EQ(d.dead, 0);
        UT_CHECK_EQ(hal_flash_read(&p, 0, buf, PS), 0);
        UT_CHECK(all_bytes(buf, PS, 0x42));
        UT_CHECK_EQ(hal_flash_read(&p, PS, buf, PS), 0);
        UT_CHECK(all_bytes(buf, PS, 0xff));
        /* unit 0 programmed at the save: still refused; unit 1 free */
        UT_CHECK_EQ(hal_flash_prog(&p, 0, data, PS), -EINVAL);
        UT_CHECK_EQ(hal_flash_prog(&p, PS, data, PS), 0);
        free(st);
    }
    sim_flash_close(&d);
}

static void
test_torn_prog(void)
{
    uint8_t data[4 * PS];
    int ok = 1, seen_mid = 0;
    unsigned changed = 0, could = 0;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 1) & 0x7f; /* never 0xff */

    UT_CASE("a torn program leaves a prefix of the new bytes, rest old");
    for (uint32_t seed = 0; seed < 64; seed++) {
        struct sim_flash d;
        struct hal_flash p;
        size_t k = 0;

        UT_CHECK_EQ(open_whole(&d, &p, &geom), 0);
        UT_CHECK_EQ(hal_flash_prog(&p, ES, data, PS), 0);
        sim_flash_cut_after(&d, 1, SIM_TORN_PREFIX, seed);
        ok &= hal_flash_prog(&p, ES + PS, data, sizeof(data)) == -EIO;
        while (k < sizeof(data) && d.map[ES + PS + k] == data[k])
            k++;
        ok &= k < sizeof(data);
        ok &= all_bytes(d.map + ES + PS + k, sizeof(data) - k, 0xff);
        ok &= memcmp(d.map + ES, data, PS) == 0; /* neighbours kept */
        ok &= all_bytes(d.map + ES + 5 * PS, ES - 5 * PS, 0xff);
        seen_mid |= k > PS;
        sim_flash_close(&d);
    }
    UT_CHECK(ok);
    UT_CHECK(seen_mid);

    UT_CASE("a torn program changes only bits the program would clear");
    ok = 1;
    for (uint32_t seed = 1; seed <= 64; seed++) {
        struct sim_flash d;
        struct hal_flash p;

        UT_CHECK_EQ(open_whole(&d, &p, &geom), 0);
        sim_flash_cut_after(&d, 0, SIM_TORN_BITS, seed);
        ok &= hal_flash_prog(&p, 0, data, sizeof(data)) == -EIO;
        for (size_t i = 0; i < sizeof(data); i++) {
            uint8_t v = d.map[i];

            /* old (0xff) >= v >= old & new, bitwise */
            ok &= (v & data[i]) == data[i];
            changed += (unsigned)__builtin_popcount(v ^ 0xffu);
            could += (unsigned)__builtin_popcount(data[i] ^ 0xffu);
        }
        ok &= all_bytes(d.map + sizeof(data), DEV - sizeof(data), 0xff);
        sim_flash_close(&d);
    }
    UT_CHECK(ok);
    /* each bit the program would clear is cleared with probability 1/2 */
    UT_CHECK(changed * 10 > could * 4 && changed * 10 < could * 6);

    UT_CASE("seed 0 still draws (xorshift would stick at 0)");
    {
        struct sim_flash d;
        struct hal_flash p;
        static const uint8_t zero[4 * PS];
        unsigned cleared = 0;

        UT_CHECK_EQ(open_whole(&d, &p, &geom), 0);
        sim_flash_cut_after(&d, 0, SIM_TORN_BITS, 0);
        UT_CHECK_EQ(hal_flash_prog(&p, 0, zero, sizeof(zero)), -EIO);
        for (size_t i = 0; i < sizeof(zero); i++)
            cleared += (unsigned)__builtin_popcount(d.map[i] ^ 0xffu);
        UT_CHECK(cleared > 0 && cleared < 8 * sizeof(zero));
        sim_flash_close(&d);
    }

    UT_CASE("a torn program's range is not programmable until erased");
    for (int mode = SIM_TORN_NONE; mode <= SIM_TORN_BITS; mode++) {
        struct sim_flash d;
        struct hal_flash p;

        UT_CHECK_EQ(open_whole(&d, &p, &geom), 0);
        sim_flash_cut_after(&d, 0, (enum sim_flash_torn)mode, 5);
        UT_CHECK_EQ(hal_flash_prog(&p, PS, data, 3 * PS), -EIO);
        sim_flash_power_on(&d);
        /* even units that still read erased */
        for (uint32_t off = PS; off < 4 * PS; off += PS)
            UT_CHECK_EQ(hal_flash_prog(&p, off, data, PS), -EINVAL);
        UT_CHECK_EQ(hal_flash_prog(&p, 0, data, PS), 0);
        UT_CHECK_EQ(hal_flash_prog(&p, 4 * PS, data, PS), 0);
        UT_CHECK_EQ(hal_flash_erase(&p, 0, ES), 0);
        UT_CHECK_EQ(hal_flash_prog(&p, PS, data, 3 * PS), 0);
        UT_CHECK(memcmp(d.map + PS, data, 3 * PS) == 0);
        sim_flash_close(&d);
    }
}

static void
test_torn_erase(void)
{
    static uint8_t old[2 * ES];
    int ok = 1, seen_mid = 0;
    unsigned changed = 0, could = 0;

    for (size_t i = 0; i < sizeof(old); i++)
        old[i] = (uint8_t)(i * 13 + 5) & 0xfe; /* never 0xff */

    UT_CASE("a torn erase erases a prefix of its range, rest old");
    for (uint32_t seed = 1; seed <= 64; seed++) {
        struct sim_flash d;
        struct hal_flash p;
        size_t k = 0;

        UT_CHECK_EQ(open_whole(&d, &p, &geom), 0);
        UT_CHECK_EQ(hal_flash_prog(&p, ES, old, sizeof(old)), 0);
        sim_flash_cut_after(&d, 1, SIM_TORN_PREFIX, seed);
        ok &= hal_flash_erase(&p, ES, 2 * ES) == -EIO;
        while (k < sizeof(old) && d.map[ES + k] == 0xff)
            k++;
        ok &= k < sizeof(old);
        ok &= memcmp(d.map + ES + k, old + k, sizeof(old) - k) == 0;
        seen_mid |= k > ES; /* reached into the second block */
        sim_flash_close(&d);
    }
    UT_CHECK(ok);
    UT_CHECK(seen_mid);

    UT_CASE("a torn erase only sets bits (only 0 -> 1 changes)");
    ok = 1;
    for (uint32_t seed = 1; seed <= 16; seed++) {
        struct sim_flash d;
        struct hal_flash p;

        UT_CHECK_EQ(open_whole(&d, &p, &geom), 0);
        UT_CHECK_EQ(hal_flash_prog(&p, ES, old, sizeof(old)), 0);
        sim_flash_cut_after(&d, 1, SIM_TORN_BITS, seed);
        ok &= hal_flash_erase(&p, ES, 2 * ES) == -EIO;
        for (size_t i = 0; i < sizeof(old); i++) {
            uint8_t v = d.map[ES + i];

            ok &= (v & old[i]) == old[i];
            changed += (unsigned)__builtin_popcount(v ^ old[i]);
            could += (unsigned)__builtin_popcount(old[i] ^ 0xffu);
        }
        sim_flash_close(&d);
    }
    UT_CHECK(ok);
    UT_CHECK(changed * 10 > could * 4 && changed * 10 < could * 6);

    UT_CASE("after a torn erase its blocks must be erased again");
    for (int mode = SIM_TORN_NONE; mode <= SIM_TORN_BITS; mode++) {
        struct sim_flash d;
        struct hal_flash p;
        uint8_t data[PS];

        memset(data, 0x00, sizeof(data));
        UT_CHECK_EQ(open_whole(&d, &p, &geom), 0);
        /* block 1 programmed, block 2 still erased: both torn */
        UT_CHECK_EQ(hal_flash_prog(&p, ES, old, ES), 0);
        sim_flash_cut_after(&d, 1, (enum sim_flash_torn)mode, 7);
        UT_CHECK_EQ(hal_flash_erase(&p, ES, 2 * ES), -EIO);
        if (mode == SIM_TORN_NONE)
            UT_CHECK(memcmp(d.map + ES, old, ES) == 0);
        UT_CHECK(all_bytes(d.map + 2 * ES, ES, 0xff));
        sim_flash_power_on(&d);
        for (uint32_t off = ES; off < 3 * ES; off += PS)
            UT_CHECK_EQ(hal_flash_prog(&p, off, data, PS), -EINVAL);
        UT_CHECK_EQ(hal_flash_prog(&p, 3 * ES, data, PS), 0);
        UT_CHECK_EQ(hal_flash_erase(&p, ES, 2 * ES), 0);
        UT_CHECK_EQ(hal_flash_prog(&p, ES, data, PS), 0);
        UT_CHECK_EQ(hal_flash_prog(&p, 3 * ES - PS, data, PS), 0);
        sim_flash_close(&d);
    }
}

/* With 2-byte blocks and 1-byte units a prefix can only be 0 or 1
 * byte long: a tear that completes the operation would show at once. */
static void
test_torn_tiny(void)
{
    const struct sim_flash_geom g = {16, 2, 1, 0xff};
    static const uint8_t data[2] = {0x12, 0x34};
    int ok = 1, seen[3] = {0, 0, 0};

    UT_CASE("a torn operation never completes, even a 2-byte one");
    for (uint32_t seed = 1; seed <= 64; seed++) {
        struct sim_flash d;
        struct hal_flash p;
        int k;

        UT_CHECK_EQ(open_whole(&d, &p, &g), 0);
        sim_flash_cut_after(&d, 0, SIM_TORN_PREFIX, seed);
        ok &= hal_flash_prog(&p, 4, data, 2) == -EIO;
        k = d.map[4] == 0x12 ? (d.map[5] == 0x34 ? 2 : 1) : 0;
        ok &= k == 2 || d.map[4 + k] == 0xff;
        seen[k]++;
        sim_flash_power_on(&d);
        UT_CHECK_EQ(hal_flash_prog(&p, 8, data, 2), 0);
        sim_flash_cut_after(&d, 2, SIM_TORN_PREFIX, seed);
        ok &= hal_flash_erase(&p, 8, 2) == -EIO;
        k = d.map[8] == 0xff ? (d.map[9] == 0xff ? 2 : 1) : 0;
        ok &= k == 2 || d.map[8 + k] == data[k];
        seen[k]++;
        sim_flash_close(&d);
    }
    UT_CHECK(ok);
    UT_CHECK(seen[0] > 0 && seen[1] > 0);
    UT_CHECK_EQ(seen[2], 0);
}

#define FLIPDEV (1024u * 1024u)

static void
test_flips(void)
{
    static const struct {
        uint32_t ppm, seed;
        uint64_t lo, hi; /* flipped bits allowed in FLIPDEV bytes */
    } cases[] = {
        {0, 1, 0, 0},
        {1, 2, 1, 30},         /* expect 8.4 */
        {1000, 3, 7550, 9230}, /* expect 8389, +-10 % */
        {250000, 0, 2044723, 2149580},
        {1000000, 4, 8u * FLIPDEV, 8u * FLIPDEV},
        {2000000, 5, 8u * FLIPDEV, 8u * FLIPDEV}, /* clamped to all */
    };
    const struct sim_flash_geom g = {FLIPDEV, ES, PS, 0xff};
    static uint8_t buf[FLIPDEV], again[FLIPDEV];
    struct sim_flash d;
    struct hal_flash p;

    UT_CASE("flips on read change returned data at ppm / 1e6 per bit");
    UT_CHECK_EQ(open_whole(&d, &p, &g), 0);
    for (size_t c = 0; c < NELEM(cases); c++) {
        uint64_t flips = 0;

        sim_flash_flip_on_read(&d, cases[c].ppm, cases[c].seed);
        UT_CHECK_EQ(hal_flash_read(&p, 0, buf, FLIPDEV), 0);
        for (size_t i = 0; i < FLIPDEV; i++)
            flips += (unsigned)__builtin_popcount(buf[i] ^ 0xffu);
        if (flips < cases[c].lo || flips > cases[c].hi)
            printf("  ppm %u: %llu flips\n", (unsigned)cases[c].ppm,
                   (unsigned long long)flips);
        UT_CHECK(flips >= cases[c].lo && flips <= cases[c].hi);
        /* the same seed flips the same bits */
        sim_flash_flip_on_read(&d, cases[c].ppm, cases[c].seed);
        UT_CHECK_EQ(hal_flash_read(&p, 0, again, FLIPDEV), 0);
        UT_CHECK(memcmp(buf, again, FLIPDEV) == 0);
    }
    UT_CHECK(all_bytes(d.map, FLIPDEV, 0xff));
    UT_CHECK_EQ(d.ops, 0);
    UT_CHECK_EQ(d.stats.reads, 2 * NELEM(cases));
    UT_CHECK_EQ(d.stats.bytes_read, 2ull * NELEM(cases) * FLIPDEV);

    UT_CASE("flips hit every bit position alike");
    {
        uint64_t per_bit[8] = {0};

        sim_flash_flip_on_read(&d, 100000, 11);
        UT_CHECK_EQ(hal_flash_read(&p, 0, buf, FLIPDEV), 0);
        for (size_t i = 0; i < FLIPDEV; i++)
            for (int b = 0; b < 8; b++)
                per_bit[b] += !((buf[i] >> b) & 1);
        /* expect 104858 each; +-3 % is about ten standard deviations */
        for (int b = 0; b < 8; b++)
            UT_CHECK(per_bit[b] > 101712 && per_bit[b] < 108004);
    }

    UT_CASE("flips leave stored data alone; ppm 0 turns them off");
    memset(buf, 0x3c, PS);
    UT_CHECK_EQ(hal_flash_prog(&p, 0, buf, PS), 0);
    UT_CHECK(all_bytes(d.map, PS, 0x3c));
    UT_CHECK(all_bytes(d.map + PS, FLIPDEV - PS, 0xff));
    sim_flash_flip_on_read(&d, 0, 1);
    UT_CHECK_EQ(hal_flash_read(&p, 0, buf, FLIPDEV), 0);
    UT_CHECK(all_bytes(buf, PS, 0x3c));
    UT_CHECK(all_bytes(buf + PS, FLIPDEV - PS, 0xff));
    sim_flash_close(&d);
}

static void
test_corrupt(void)
{
    struct sim_flash d;
    struct hal_flash p;
    uint8_t buf[PS];
    const char *f = tmp_path("dev.img");

    UT_CASE("corrupt changes stored data in place, bypassing the rules");
    UT_CHECK_EQ(sim_flash_open(&d, f, &geom, 1), 0);
    UT_CHECK_EQ(sim_flash_partition(&d, &p, "p", ES, ES), 0);
    memset(buf, 0x0f, PS);
    UT_CHECK_EQ(hal_flash_prog(&p, 0, buf, PS), 0);
    UT_CHECK_EQ(sim_flash_corrupt(&d, ES + 2, 0xf1), 0); /* 0->1 too */
    UT_CHECK_EQ(hal_flash_read(&p, 0, buf, PS), 0);
    UT_CHECK_EQ(buf[2], 0xfe);
    UT_CHECK_EQ(buf[1], 0x0f);
    UT_CHECK_EQ(d.map[ES + 2], 0xfe);
    UT_CHECK_EQ(file_bytes(f, ES + 2, buf, 1), 0);
    UT_CHECK_EQ(buf[0], 0xfe);
    UT_CHECK_EQ(sim_flash_corrupt(&d, DEV - 1, 0xff), 0);
    UT_CHECK_EQ(d.map[DEV - 1], 0x00);
    UT_CHECK_EQ(sim_flash_corrupt(&d, DEV, 0x01), -EINVAL);
    UT_CHECK_EQ(sim_flash_corrupt(&d, UINT64_MAX, 0x01), -EINVAL);
    UT_CHECK_EQ(d.ops, 1);
    UT_CHECK_EQ(d.stats.refused, 0);

    UT_CASE("corrupt works while the power is cut");
    sim_flash_cut_after(&d, 1, SIM_TORN_NONE, 1);
    UT_CHECK_EQ(hal_flash_erase(&p, 0, ES), -EIO);
    UT_CHECK_EQ(sim_flash_corrupt(&d, 0, 0x01), 0);
    UT_CHECK_EQ(d.map[0], 0xfe);

    UT_CASE("sync makes programmed data visible in the file");
    sim_flash_power_on(&d);
    UT_CHECK_EQ(sim_flash_partition(&d, &p, "q", 4 * ES, ES), 0);
    memset(buf, 0x24, PS);
    UT_CHECK_EQ(hal_flash_prog(&p, PS, buf, PS), 0);
    UT_CHECK_EQ(hal_flash_sync(&p), 0);
    memset(buf, 0, PS);
    UT_CHECK_EQ(file_bytes(f, 4 * ES + PS, buf, PS), 0);
    UT_CHECK(all_bytes(buf, PS, 0x24));
    sim_flash_close(&d);
    unlink(f);
}

static void
test_stats(void)
{
    enum { RD, PG, ER, SY, CUT, ON };
    static const struct {
        int op;
        uint32_t off, len;
        int rc;
    } seq[] = {
        {RD, 0, 100, 0},         /* read 100 */
        {PG, 0, 2 * PS, 0},      /* op 0 */
        {PG, PS, PS, -EINVAL},   /* refused, no number */
        {ER, ES, 2 * ES, 0},     /* op 1 */
        {RD, 5, 7, 0},           /* read 7 */
        {SY, 0, 0, 0},           /* sync counts nowhere */
        {PG, 3 * ES, 3 * PS, 0}, /* op 2 */
        {CUT, 4, 0, 0},          /* power fails in op 4 */
        {PG, 4 * ES, PS, 0},     /* op 3 */
        {ER, 5 * ES, ES, -EIO},  /* op 4, torn: failed 1 */
        {RD, 0, 1, -EIO},        /* failed 2 */
        {PG, 0, PS, -EIO},       /* failed 3 */
        {SY, 0, 0, -EIO},        /* failed 4 */
        {ON, 0, 0, 0},           /* power back */
        {PG, 0, PS, -EINVAL},    /* refused 2 */
        {ER, 0, ES, 0},          /* op 5 */
        {RD, 0, ES, 0},          /* read ES */
        {PG, ES, 0, 0},          /* empty: never reaches the device */
        {PG, DEV, PS, -EINVAL},  /* out of range: the wrapper's */
    };
    struct sim_flash d;
    struct hal_flash p;
    static uint8_t buf[DEV];

    UT_CASE("stats count completed operations and their bytes");
    memset(buf, 0x55, sizeof(buf));
    UT_CHECK_EQ(open_whole(&d, &p, &geom), 0);
    for (size_t i = 0; i < NELEM(seq); i++) {
        int rc = 0;

        switch (seq[i].op) {
        case RD:
            rc = hal_flash_read(&p, seq[i].off, buf, seq[i].len);
            break;
        case PG:
            rc = hal_flash_prog(&p, seq[i].off, buf, seq[i].len);
            break;
        case ER:
            rc = hal_flash_erase(&p, seq[i].off, seq[i].len);
            break;
        case SY:
            rc = hal_flash_sync(&p);
            break;
        case CUT:
            sim_flash_cut_after(&d, seq[i].off, SIM_TORN_PREFIX, 3);
            break;
        case ON:
            sim_flash_power_on(&d);
            break;
        }
        if (rc != seq[i].rc)
            printf("  step %zu\n", i);
        UT_CHECK_EQ(rc, seq[i].rc);
    }
    UT_CHECK_EQ(d.stats.reads, 3);
    UT_CHECK_EQ(d.stats.bytes_read, 100 + 7 + ES);
    UT_CHECK_EQ(d.stats.progs, 3);
    UT_CHECK_EQ(d.stats.bytes_prog, 2 * PS + 3 * PS + PS);
    UT_CHECK_EQ(d.stats.erases, 2);
    UT_CHECK_EQ(d.stats.bytes_erased, 2 * ES + ES);
    UT_CHECK_EQ(d.stats.refused, 2);
    UT_CHECK_EQ(d.stats.failed, 4);
    UT_CHECK_EQ(sim_flash_ops(&d), 6);
    sim_flash_close(&d);
}

/* ---- block windows ---- */

#define SEC (2 * PS) /* the block windows' sector in these tests */

/* Unit u of a block window after a power failure, against the bytes it
 * held before (o) and the bytes last written (n): 0 old, 1 new, 2 a mix
 * in which every byte is a prefix tear or a bitwise mix of o and n, -1
 * anything else. */
static int
unit_state(const uint8_t *m, const uint8_t *o, const uint8_t *n)
{
    int old = 1, new = 1;

    for (size_t i = 0; i < PS; i++) {
        old &= m[i] == o[i];
        new &= m[i] == n[i];
        if (((m[i] ^ o[i]) & ~(o[i] ^ n[i])) != 0)
            return -1; /* a bit neither old nor new */
    }
    return old ? 0 : new ? 1 : 2;
}

static void
test_block(void)
{
    static const uint32_t bad_sector[] = {0, 3 * PS, PS / 2, 2 * ES};
    struct sim_flash d;
    struct hal_flash raw, a, b;
    static uint8_t buf[ES], old[2 * ES], mem[2 * ES];
    /* four writes of two units each, in issue order, over a window */
    static const uint32_t w_off[4] = {3 * SEC, 0, 6 * SEC, SEC};

    UT_CASE("block windows: the sector must be a power of two from the "
            "program unit to the erase size");
    UT_CHECK_EQ(sim_flash_open_mem(&d, &geom), 0);
    for (size_t i = 0; i < NELEM(bad_sector); i++)
        UT_CHECK_EQ(
            sim_flash_block_partition(&d, &a, "a", 0, ES, bad_sector[i]),
            -EINVAL);
    UT_CHECK_EQ(sim_flash_block_partition(&d, &a, "a", 3, ES, SEC), -EINVAL);
    UT_CHECK_EQ(sim_flash_block_partition(&d, &a, "a", 2 * ES, 2 * ES, SEC), 0);
    UT_CHECK_EQ(sim_flash_block_partition(&d, &b, "b", 4 * ES, 2 * ES, SEC), 0);
    UT_CHECK_EQ(sim_flash_partition(&d, &raw, "raw", 0, 2 * ES), 0);
    UT_CHECK_EQ(a.kind, HAL_FLASH_BLOCK);
    UT_CHECK_EQ(a.prog_size, SEC);
    UT_CHECK_EQ(raw.kind, HAL_FLASH_RAW);

    UT_CASE("block windows: writes over anything and reads see them at "
            "once; prog and erase refused there, write on raw windows");
    memset(buf, 0x11, sizeof(buf));
    UT_CHECK_EQ(hal_flash_write(&a, 0, buf, ES), 0);
    memset(buf, 0x22, sizeof(buf));
    UT_CHECK_EQ(hal_flash_write(&a, SEC, buf, SEC), 0); /* over, no erase */
    UT_CHECK_EQ(hal_flash_read(&a, 0, mem, 3 * SEC), 0);
    UT_CHECK(all_bytes(mem, SEC, 0x11) && all_bytes(mem + SEC, SEC, 0x22) &&
             all_bytes(mem + 2 * SEC, SEC, 0x11));
    UT_CHECK_EQ(hal_flash_write(&a, PS, buf, SEC), -EINVAL);
    UT_CHECK_EQ(hal_flash_write(&a, 0, buf, PS), -EINVAL);
    UT_CHECK_EQ(hal_flash_prog(&a, 4 * ES, buf, SEC), -EINVAL);
    UT_CHECK_EQ(hal_flash_erase(&a, 0, ES), -EINVAL);
    UT_CHECK_EQ(hal_flash_write(&raw, 0, buf, SEC), -EINVAL);
    UT_CHECK_EQ(d.stats.writes, 2);
    UT_CHECK_EQ(d.stats.refused, 0);

    UT_CASE("a sync is an operation only while its window holds unsynced "
            "writes, and makes them survive the power failing");
    UT_CHECK_EQ(sim_flash_ops(&d), 2);
    UT_CHECK_EQ(hal_flash_sync(&b), 0); /* nothing of b's: no number */
    UT_CHECK_EQ(sim_flash_ops(&d), 2);
    UT_CHECK_EQ(hal_flash_sync(&a), 0);
    UT_CHECK_EQ(sim_flash_ops(&d), 3);
    UT_CHECK_EQ(hal_flash_sync(&a), 0);
    UT_CHECK_EQ(sim_flash_ops(&d), 3);
    UT_CHECK_EQ(d.stats.syncs, 1);
    memset(buf, 0x33, sizeof(buf));
    UT_CHECK_EQ(hal_flash_write(&a, 0, buf, 2 * SEC), 0);
    sim_flash_power_off(&d, SIM_TORN_NONE, 1);
    UT_CHECK_EQ(hal_flash_read(&a, 0, mem, SEC), -EIO);
    UT_CHECK_EQ(hal_flash_write(&a, 0, buf, SEC), -EIO);
    UT_CHECK_EQ(hal_flash_sync(&a), -EIO);
    sim_flash_power_on(&d);
    UT_CHECK_EQ(hal_flash_read(&a, 0, mem, 3 * SEC), 0);
    UT_CHECK(all_bytes(mem, SEC, 0x11) && all_bytes(mem + SEC, SEC, 0x22) &&
             all_bytes(mem + 2 * SEC, SEC, 0x11));
    UT_CHECK_EQ(d.stats.lost, 2 * SEC / PS);

    UT_CASE("a sync keeps its own window's writes only; raw operations "
            "flush nothing");
    memset(buf, 0x44, sizeof(buf));
    UT_CHECK_EQ(hal_flash_write(&a, 0, buf, SEC), 0);
    UT_CHECK_EQ(hal_flash_write(&b, 0, buf, SEC), 0);
    UT_CHECK_EQ(hal_flash_sync(&a), 0);
    UT_CHECK_EQ(hal_flash_erase(&raw, 0, ES), 0);
    UT_CHECK_EQ(hal_flash_prog(&raw, 0, buf, PS), 0);
    UT_CHECK_EQ(hal_flash_sync(&raw), 0);
    sim_flash_power_off(&d, SIM_TORN_NONE, 1);
    sim_flash_power_on(&d);
    UT_CHECK_EQ(hal_flash_read(&a, 0, mem, SEC), 0);
    UT_CHECK(all_bytes(mem, SEC, 0x44));
    UT_CHECK_EQ(hal_flash_read(&b, 0, mem, SEC), 0);
    UT_CHECK(all_bytes(mem, SEC, 0xff));
    UT_CHECK_EQ(hal_flash_read(&raw, 0, mem, PS), 0);
    UT_CHECK(all_bytes(mem, PS, 0x44));

    UT_CASE("a cut in a write or in a sync loses every unsynced write "
            "(mode none), the synced ones stay");
    for (int at = 0; at < 3; at++) {
        uint64_t base;

        UT_CHECK_EQ(hal_flash_read(&a, 0, old, 2 * ES), 0);
        base = sim_flash_ops(&d);
        sim_flash_cut_after(&d, base + (uint64_t)at, SIM_TORN_NONE, 1);
        memset(buf, 0x50 + at, sizeof(buf));
        /* ops: write, write, sync */
        UT_CHECK_EQ(hal_flash_write(&a, 0, buf, SEC), at == 0 ? -EIO : 0);
        UT_CHECK_EQ(hal_flash_write(&a, ES, buf, SEC), at <= 1 ? -EIO : 0);
        UT_CHECK_EQ(hal_flash_sync(&a), -EIO);
        sim_flash_power_on(&d);
        UT_CHECK_EQ(hal_flash_read(&a, 0, mem, 2 * ES), 0);
        UT_CHECK(memcmp(mem, old, 2 * ES) == 0);
    }

    UT_CASE("mode prefix keeps the unsynced writes in the order issued up "
            "to one torn unit; mode bits keeps, loses or mixes each unit");
    for (int mode = SIM_TORN_PREFIX; mode <= SIM_TORN_BITS; mode++) {
        int seen[3] = {0, 0, 0}, ok = 1, extremes = 0;

        for (uint32_t seed = 1; seed <= 200; seed++) {
            static uint8_t nw[2 * ES];
            int state[8], torn = 0, k = 0, landed = 0;

            UT_CHECK_EQ(hal_flash_sync(&a), 0);
            UT_CHECK_EQ(hal_flash_read(&a, 0, old, 2 * ES), 0);
            memcpy(nw, old, sizeof(nw));
            for (int w = 0; w < 4; w++) {
                for (uint32_t i = 0; i < SEC; i++)
                    buf[i] = (uint8_t)(seed * 37 + (uint32_t)w * 59 + i);
                memcpy(nw + w_off[w], buf, SEC);
                UT_CHECK_EQ(hal_flash_write(&a, w_off[w], buf, SEC), 0);
            }
            sim_flash_power_off(&d, (enum sim_flash_torn)mode, seed);
            sim_flash_power_on(&d);
            UT_CHECK_EQ(hal_flash_read(&a, 0, mem, 2 * ES), 0);
            /* untouched bytes never change */
            for (uint32_t i = 0; i < 2 * ES; i++) {
                int written = 0;

                for (int w = 0; w < 4; w++)
                    written |= i >= w_off[w] && i < w_off[w] + SEC;
                if (!written && mem[i] != old[i])
                    ok = 0;
            }
            for (int w = 0; w < 4; w++)
                for (uint32_t u = 0; u < SEC / PS; u++, k++) {
                    uint32_t o = w_off[w] + u * PS;

                    state[k] = unit_state(mem + o, old + o, nw + o);
                    if (state[k] < 0)
                        ok = 0;
                    else
                        seen[state[k]]++;
                    landed += state[k] == 1;
                }
            if (mode == SIM_TORN_PREFIX)
                /* new..., at most one torn, then old... */
                for (k = 1; k < 8; k++) {
                    if (state[k - 1] != 1 && state[k] != 0)
                        ok = 0;
                    torn += state[k] == 2;
                }
            extremes |= (landed == 0) | (landed == 8) << 1;
            if (torn > 1)
                ok = 0;
        }
        UT_CHECK(ok);
        UT_CHECK(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
        if (mode == SIM_TORN_PREFIX)
            UT_CHECK_EQ(extremes, 3); /* nothing kept, and everything */
    }

    UT_CASE("at most SIM_PENDING_MAX unsynced writes; a sync makes room");
    memset(buf, 0x66, sizeof(buf));
    for (int i = 0; i < SIM_PENDING_MAX; i++)
        UT_CHECK_EQ(hal_flash_write(&b, 0, buf, SEC), 0);
    UT_CHECK_EQ(hal_flash_write(&a, 0, buf, SEC), -ENOBUFS);
    UT_CHECK_EQ(hal_flash_sync(&b), 0);
    UT_CHECK_EQ(hal_flash_write(&a, 0, buf, SEC), 0);

    UT_CASE("a restored state has nothing unsynced");
    {
        static uint8_t state[DEV + DEV / PS / 8];

        UT_CHECK_EQ(sim_flash_state_size(&d), sizeof(state));
        sim_flash_save(&d, state);
        sim_flash_restore(&d, state);
        sim_flash_power_off(&d, SIM_TORN_NONE, 1);
        sim_flash_power_on(&d);
        UT_CHECK_EQ(hal_flash_read(&a, 0, mem, SEC), 0);
        UT_CHECK(all_bytes(mem, SEC, 0x66));
        UT_CHECK_EQ(d.npend, 0);
    }
    sim_flash_close(&d);
}

int
main(void)
{
    ut_suite = "flash_sim";
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_geometry();
    test_create_reopen();
    test_windows();
    test_nor_rules();
    test_cut_every_op();
    test_dead_and_power_on();
    test_torn_prog();
    test_torn_erase();
    test_torn_tiny();
    test_flips();
    test_corrupt();
    test_stats();
    test_block();
    rmdir(tmpdir);
    return ut_done();
}
