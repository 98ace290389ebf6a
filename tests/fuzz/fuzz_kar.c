/*
 * tests/fuzz/fuzz_kar.c - libFuzzer target: kar_extract() (keel-boot's
 * unpacker, which makes files named by the archive's paths) on arbitrary
 * bytes, into a memory sink.  Nothing may crash or read out of bounds;
 * every path the unpacker asks the sink to create must pass
 * kar_path_ok() (no "..", no absolute path, nothing the archive's
 * rules refuse), every file's bytes must fit what its header declared,
 * and the file count must match the return value.  Seeds: the golden
 * archive (tests/vectors/update/image.kar).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "update/archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
    int files;
    int open; /* handle of the file being written, or -1 */
    uint64_t bytes;
};

static const uint8_t *in;
static size_t in_len;

static int
rd(void *arg, uint64_t off, void *buf, size_t len)
{
    (void)arg;
    if (off > in_len || len > in_len - off)
        return -EIO;
    memcpy(buf, in + off, len);
    return 0;
}

static int
create(void *arg, const char *path, uint32_t mode)
{
    struct sink *s = arg;

    if (!kar_path_ok(path, strlen(path)) || (mode != 0644 && mode != 0755) ||
        s->open >= 0)
        abort();
    s->open = s->files++;
    return s->open;
}

static int
wr(void *arg, int h, const void *buf, size_t len)
{
    struct sink *s = arg;

    (void)buf;
    if (h != s->open)
        abort();
    s->bytes += len;
    return 0;
}

static int
cl(void *arg, int h)
{
    struct sink *s = arg;

    if (h != s->open)
        abort();
    s->open = -1;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[777]; /* odd-sized: files cross it */
    struct sink s = {0, -1, 0};
    const struct kar_src src = {rd, NULL, size};
    const struct kar_sink dst = {create, wr, cl, &s};
    const char *why = NULL;
    int n;

    in = data;
    in_len = size;
    n = kar_extract(&src, &dst, buf, sizeof(buf), &why);
    if (n >= 0 && (n != s.files || s.open >= 0 || s.bytes > size))
        abort();
    if (n < 0 && why == NULL)
        abort();
    return 0;
}
