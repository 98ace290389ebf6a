/*
 * tests/unit/ut_src.h - a bundle in memory as update_install()'s byte
 * stream (struct upd_src), for the tests and the power-cut rig.
 * Include once per program.
 */
#ifndef UT_SRC_H
#define UT_SRC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct mem_src {
    const uint8_t *p;
    size_t len, off;
};

/* upd_src's read: up to len bytes from where the last read ended. */
static int
mem_read(void *arg, void *buf, size_t len)
{
    struct mem_src *m = arg;
    size_t n = m->len - m->off < len ? m->len - m->off : len;

    memcpy(buf, m->p + m->off, n);
    m->off += n;
    return (int)n;
}

#endif
