/*
 * tests/powercut/logcut.c - cut the power at every flash operation of a
 * log ring workload (src/store/logring.c) and check what the next mount
 * finds.
 *
 * The workload appends LOGCUT_N records of varying length to a ring of
 * four 4 KiB sectors, wrapping it several times.  For every operation k
 * and every way the operation in flight can fail (no effect, a prefix,
 * random bits), it runs on a fresh device with the cut armed at k, then
 * powers on and remounts, and checks:
 *  - the records found are in order, with contiguous sequence numbers,
 *    each with exactly the text appended under its number;
 *  - the newest is the last append that returned 0, or the one in
 *    flight (whole);
 *  - at least the records that fit in the ring's two newest sectors are
 *    there (a cut may close a sector early, never lose more);
 *  - appends go on after the remount: numbers continue, the boot number
 *    is one higher, and a second mount finds them.
 * Prints "logcut: N cut points, M violations"; exits non-zero on any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/flash_sim.h"
#include "store/logring.h"

#define ES 4096u
#define NSEC 4u
#define LOGCUT_N 150
#define TEXT_MAX 300

static struct sim_flash dev;
static struct hal_flash part;
static struct logring lr;
static long violations;

static void
text_of(uint32_t seq, char *out)
{
    size_t len = 8 + (seq * 37) % (TEXT_MAX - 8);

    snprintf(out, 16, "r%07u", (unsigned)seq);
    for (size_t i = 8; i < len; i++)
        out[i] = (char)('a' + (seq + i) % 26);
    out[len] = '\0';
}

struct seen {
    uint32_t n, first, last, boot;
    int bad;
};

static int
collect(void *arg, const struct log_rec *r)
{
    struct seen *s = arg;
    char t[TEXT_MAX + 1];

    text_of(r->seq, t);
    if (s->n > 0 && r->seq != s->last + 1)
        s->bad |= 1;
    if (strcmp(t, r->text) != 0)
        s->bad |= 2;
    if (s->n == 0)
        s->first = r->seq;
    s->last = r->seq;
    s->boot = r->boot;
    s->n++;
    return 0;
}

static void
violation(long cut, int mode, const char *what)
{
    violations++;
    if (violations <= 20)
        printf("  violation: cut %ld mode %d: %s\n", cut, mode, what);
}

static void
fresh(void)
{
    static const struct sim_flash_geom g = {NSEC * ES, ES, 16, 0xff};

    sim_flash_close(&dev);
    sim_flash_open_mem(&dev, &g);
    sim_flash_partition(&dev, &part, "log", 0, NSEC * ES);
}

/* Appends until one fails; the count that returned 0. */
static uint32_t
workload(uint32_t from, uint32_t n)
{
    char t[TEXT_MAX + 1];
    uint32_t i;

    for (i = from; i < from + n; i++) {
        text_of(i, t);
        if (logring_append(&lr, LOG_INFO, 0, t) != 0)
            break;
    }
    return i - from;
}

static long
run(long cut, int mode)
{
    struct seen s = {0};
    uint32_t acked, min_keep;
    long ops;

    fresh();
    if (logring_mount(&lr, &part, 0) != 0) {
        violation(cut, mode, "fresh mount failed");
        return -1;
    }
    if (cut >= 0)
        sim_flash_cut_after(&dev, (uint64_t)cut + sim_flash_ops(&dev),
                            (enum sim_flash_torn)mode,
                            (uint32_t)(cut * 7 + mode + 1));
    acked = workload(0, LOGCUT_N);
    ops = (long)sim_flash_ops(&dev);
    if (cut < 0)
        return ops;
    sim_flash_power_on(&dev);
    if (logring_mount(&lr, &part, 0) != 0) {
        violation(cut, mode, "mount after the cut failed");
        return ops;
    }
    logring_walk(&lr, collect, &s);
    if (s.bad & 1)
        violation(cut, mode, "sequence numbers not contiguous");
    if (s.bad & 2)
        violation(cut, mode, "a record's text differs");
    if (acked > 0 && (s.n == 0 || (s.last != acked - 1 && s.last != acked)))
        violation(cut, mode, "the newest record is not the last appended");
    /* two sectors' worth of the longest records always fit */
    min_keep = 2 * ((ES - 16) / (LOG_HDR + TEXT_MAX + 16));
    if (acked >= min_keep && s.n < min_keep)
        violation(cut, mode, "fewer records kept than two sectors hold");
    /* life goes on */
    {
        uint32_t next = s.n ? s.last + 1 : 0, boot = lr.boot;
        struct seen t = {0};

        if (workload(next, 5) != 5)
            violation(cut, mode, "appends after the remount failed");
        if (logring_mount(&lr, &part, 0) != 0)
            violation(cut, mode, "second mount failed");
        logring_walk(&lr, collect, &t);
        if (t.bad || t.last != next + 4 || t.boot != boot)
            violation(cut, mode, "records after the remount are wrong");
    }
    return ops;
}

int
main(int argc, char **argv)
{
    long total, points = 0, sample = 1;

    if (argc == 3 && strcmp(argv[1], "--sample") == 0)
        sample = atol(argv[2]) > 0 ? atol(argv[2]) : 1;
    total = run(-1, 0);
    if (total <= 0) {
        printf("logcut: the uncut workload failed\n");
        return 1;
    }
    {
        struct seen s = {0};

        logring_walk(&lr, collect, &s);
        if (s.bad || s.last != LOGCUT_N - 1 || lr.erases <= NSEC)
            violation(-1, 0,
                      "the uncut workload's records are wrong or "
                      "it did not wrap");
    }
    for (long k = 0; k < total; k += sample)
        for (int mode = SIM_TORN_NONE; mode <= SIM_TORN_BITS; mode++) {
            run(k, mode);
            points++;
        }
    sim_flash_close(&dev);
    printf("logcut: %ld cut points over %ld flash operations, %ld "
           "violations\n",
           points, total, violations);
    return violations != 0;
}
