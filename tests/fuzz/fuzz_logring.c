/*
 * tests/fuzz/fuzz_logring.c - libFuzzer target: the log ring
 * (src/store/logring.c) mounted from arbitrary partition contents: the
 * input fills a four-sector partition (the rest erased); mount, walk
 * every record, append one and walk again.  Nothing may crash or read
 * out of bounds; each record walked has a length within the limit and
 * its text NUL-terminated there; the appended record is the last one
 * walked.  Seed: a real ring (tests/fuzz/mkseed_logring.c would do; the
 * run starts from an empty corpus and a record made here).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/flash_sim.h"
#include "store/logring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SIZE (4 * 4096u)

struct seen {
    uint32_t n, last_seq;
    int bad;
};

static int
visit(void *arg, const struct log_rec *r)
{
    struct seen *s = arg;

    if (r->len == 0 || r->len > LOG_TEXT_MAX || r->text[r->len] != '\0' ||
        r->sev > LOG_DEBUG)
        s->bad = 1;
    s->n++;
    s->last_seq = r->seq;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sim_flash_geom g = {SIZE, 4096, 16, 0xff};
    static struct sim_flash dev;
    static int open;
    struct hal_flash part;
    struct logring lr;
    struct seen a = {0}, b = {0};

    if (!open) {
        sim_flash_open_mem(&dev, &g);
        open = 1;
    }
    memset(dev.map, 0xff, SIZE);
    memset(dev.touched, 0, SIZE / 16 / 8);
    memcpy(dev.map, data, size < SIZE ? size : SIZE);
    if (size > 0) /* what the input holds counts as programmed */
        memset(dev.touched, 0xff, (size < SIZE ? size : SIZE) / 16 / 8);
    sim_flash_partition(&dev, &part, "log", 0, SIZE);
    if (logring_mount(&lr, &part, 0) != 0)
        return 0;
    logring_walk(&lr, visit, &a);
    if (logring_append(&lr, LOG_INFO, 1, "fuzz") != 0)
        abort(); /* a mounted ring always takes a record */
    logring_walk(&lr, visit, &b);
    if (a.bad || b.bad || b.n == 0 || b.last_seq != lr.next_seq - 1)
        abort();
    return 0;
}
