/*
 * tests/unit/ut_mem.h - a growable tfile in memory, for the tests and
 * benchmarks that mint a chain (chaingen_run's out) and import it
 * (chain_import's read_at).  Include once per program.
 */
#ifndef UT_MEM_H
#define UT_MEM_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/trailer.h"

struct mem {
    uint8_t *p;
    size_t len, cap;
};

/* chaingen_run's out: append one trailer. */
static int
mem_put(void *arg, const uint8_t t[TRAILER_LEN])
{
    struct mem *m = arg;

    if (m->len + TRAILER_LEN > m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64 * TRAILER_LEN;
        m->p = realloc(m->p, m->cap);
        if (m->p == NULL)
            abort();
    }
    memcpy(m->p + m->len, t, TRAILER_LEN);
    m->len += TRAILER_LEN;
    return 0;
}

/* chain_import's read_at: exactly len bytes at off, or -EIO. */
static int
mem_read(void *arg, uint64_t off, void *buf, size_t len)
{
    struct mem *m = arg;

    if (off > m->len || len > m->len - off)
        return -EIO;
    memcpy(buf, m->p + off, len);
    return 0;
}

#endif
