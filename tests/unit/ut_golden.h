/*
 * tests/unit/ut_golden.h - golden vectors: compare bytes with
 * $KEEL_VECTORS/formats/NAME (tests/vectors by default), or write them
 * there when the test runs as `test_X --write-golden DIR` (ut_golden_init
 * reads that).  Include once per program, after ut.h.
 */
#ifndef UT_GOLDEN_H
#define UT_GOLDEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut.h"

static int ut_golden_writing;

/* Take `--write-golden DIR` from the command line. */
static void
ut_golden_init(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-golden") == 0) {
        setenv("KEEL_VECTORS", argv[2], 1);
        ut_golden_writing = 1;
    }
}

static void
ut_golden(const char *name, const uint8_t *buf, size_t len)
{
    static uint8_t b[64 * 1024];
    const char *d = getenv("KEEL_VECTORS");
    char path[512];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/formats/%s",
             d != NULL ? d : "tests/vectors", name);
    f = fopen(path, ut_golden_writing ? "wb" : "rb");
    if (f == NULL) {
        printf("  cannot open %s\n", path);
        UT_CHECK(f != NULL);
        return;
    }
    if (ut_golden_writing) {
        UT_CHECK(fwrite(buf, 1, len, f) == len);
        fclose(f);
        return;
    }
    n = fread(b, 1, sizeof(b), f);
    fclose(f);
    if (n != len || memcmp(b, buf, len) != 0)
        printf("  %s differs from what the code writes (%zu vs %zu bytes)\n",
               path, n, len);
    UT_CHECK(n == len && memcmp(b, buf, len) == 0);
}

#endif
