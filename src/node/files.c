/*
 * node/files.c - operator files for console commands (see files.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "node/files.h"

static int
say(char *why, size_t cap, int rc, const char *path, const char *kind,
    const char *verb)
{
    if (rc == -EINVAL && kind != NULL)
        snprintf(why, cap, "'%s' is %s, not a regular file", path, kind);
    else
        snprintf(why, cap, "cannot %s '%s': %s", verb, path, strerror(-rc));
    return rc;
}

int
node_file_open(struct hal_file *f, const char *path, uint64_t max,
               const char *what, char *why, size_t cap)
{
    int rc = hal_file_open(f, path);

    if (rc != 0)
        return say(why, cap, rc, path, f->kind, "open");
    if (f->size > max) {
        snprintf(why, cap,
                 "'%s' is %" PRIu64 " bytes, larger than any %s keel "
                 "accepts (%" PRIu64 " bytes)",
                 path, f->size, what, max);
        hal_file_close(f);
        return -EFBIG;
    }
    return 0;
}

int
node_file_load(const char *path, void *buf, size_t cap, const char *what,
               char *why, size_t wcap)
{
    struct hal_file f;
    int rc = node_file_open(&f, path, cap, what, why, wcap);

    if (rc != 0)
        return rc;
    rc = hal_file_read_at(&f, 0, buf, (size_t)f.size);
    hal_file_close(&f);
    if (rc != 0)
        return say(why, wcap, rc, path, NULL, "read");
    return (int)f.size;
}

int
node_file_create(struct hal_file_new *w, const char *path, char *why,
                 size_t cap)
{
    int rc = hal_file_create(w, path);

    return rc != 0 ? say(why, cap, rc, path, w->kind, "write") : 0;
}

int
node_file_save(const char *path, const void *p, size_t n, char *why, size_t cap)
{
    struct hal_file_new w;
    int rc = node_file_create(&w, path, why, cap);

    if (rc != 0)
        return rc;
    rc = hal_file_write(&w, p, n);
    if (rc != 0) {
        hal_file_abort(&w);
        return say(why, cap, rc, path, NULL, "write");
    }
    rc = hal_file_commit(&w);
    return rc != 0 ? say(why, cap, rc, path, NULL, "write") : 0;
}
