/*
 * tests/unit/test_file.c - hal/posix/file.c: what opens for reading and
 * what is refused (FIFO, directory, device, dangling link), bounded
 * reads, and replacement by a temporary file and rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hal/file.h"
#include "ut.h"

static char dir[64];

static const char *
at(const char *name)
{
    static char buf[4][160];
    static int next;
    char *p = buf[next++ % 4];

    snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
    return p;
}

static void
put(const char *name, const char *content)
{
    FILE *f = fopen(at(name), "wb");

    if (f == NULL) {
        perror(name);
        exit(2);
    }
    fputs(content, f);
    fclose(f);
}

static int
same(const char *name, const char *content)
{
    char buf[256];
    FILE *f = fopen(at(name), "rb");
    size_t n;

    if (f == NULL)
        return 0;
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    return n == strlen(content) && memcmp(buf, content, n) == 0;
}

/* Entries in dir whose name contains s (temporary files left over). */
static int
count_like(const char *s)
{
    char cmd[200], line[64];
    FILE *p;
    int n = 0;

    snprintf(cmd, sizeof(cmd), "ls -a '%s'", dir);
    p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    while (fgets(line, sizeof(line), p) != NULL)
        n += strstr(line, s) != NULL;
    pclose(p);
    return n;
}

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

struct open_case {
    const char *name;
    const char *path; /* in dir, or absolute */
    int rc;
    const char *kind; /* substring of f.kind on -EINVAL */
    uint64_t size;
};

static const struct open_case open_cases[] = {
    {"open: a regular file", "data", 0, NULL, 10},
    {"open: an empty file", "empty", 0, NULL, 0},
    {"open: a symlink to a regular file", "link", 0, NULL, 10},
    {"open: a FIFO without a writer", "fifo", -EINVAL, "FIFO", 0},
    {"open: a symlink to a FIFO", "fifolink", -EINVAL, "FIFO", 0},
    {"open: a directory", "sub", -EINVAL, "directory", 0},
    {"open: /dev/zero", "/dev/zero", -EINVAL, "character device", 0},
    {"open: /dev/null", "/dev/null", -EINVAL, "character device", 0},
    {"open: a missing file", "nosuch", -ENOENT, NULL, 0},
    {"open: a dangling symlink", "dangling", -ENOENT, NULL, 0},
};

static void
test_open(void)
{
    for (size_t i = 0; i < sizeof(open_cases) / sizeof(open_cases[0]); i++) {
        const struct open_case *c = &open_cases[i];
        struct hal_file f;
        long t0 = now_ms();
        int rc;

        UT_CASE(c->name);
        rc = hal_file_open(&f, c->path[0] == '/' ? c->path : at(c->path));
        UT_CHECK_EQ(rc, c->rc);
        UT_CHECK(now_ms() - t0 < 2000); /* never waits for a writer */
        if (c->kind != NULL)
            UT_CHECK(f.kind != NULL && strstr(f.kind, c->kind) != NULL);
        if (rc == 0) {
            UT_CHECK_EQ(f.size, c->size);
            UT_CHECK_EQ(f.pos, 0);
            hal_file_close(&f);
        }
    }
}

static void
test_read(void)
{
    struct hal_file f;
    char buf[32];

    UT_CASE("read: in pieces, then 0 at the size");
    UT_CHECK_EQ(hal_file_open(&f, at("data")), 0);
    UT_CHECK_EQ(hal_file_read(&f, buf, 4), 4);
    UT_CHECK(memcmp(buf, "0123", 4) == 0);
    UT_CHECK_EQ(hal_file_read(&f, buf, sizeof(buf)), 6);
    UT_CHECK(memcmp(buf, "456789", 6) == 0);
    UT_CHECK_EQ(hal_file_read(&f, buf, sizeof(buf)), 0);
    UT_CHECK_EQ(f.pos, 10);

    UT_CASE("read_at: inside, at the end, past the end");
    UT_CHECK_EQ(hal_file_read_at(&f, 2, buf, 3), 0);
    UT_CHECK(memcmp(buf, "234", 3) == 0);
    UT_CHECK_EQ(hal_file_read_at(&f, 10, buf, 0), 0);
    UT_CHECK_EQ(hal_file_read_at(&f, 8, buf, 3), -EINVAL);
    UT_CHECK_EQ(hal_file_read_at(&f, 11, buf, 0), -EINVAL);
    UT_CHECK_EQ(hal_file_read_at(&f, UINT64_MAX, buf, 2), -EINVAL);
    UT_CHECK_EQ(f.pos, 10);
    hal_file_close(&f);

    UT_CASE("read: a file grown after open is read to its size at open");
    put("grow", "abc");
    UT_CHECK_EQ(hal_file_open(&f, at("grow")), 0);
    put("grow", "abcdefgh");
    UT_CHECK_EQ(hal_file_read(&f, buf, sizeof(buf)), 3);
    UT_CHECK_EQ(hal_file_read(&f, buf, sizeof(buf)), 0);
    hal_file_close(&f);

    UT_CASE("read: a file shrunk after open is an I/O error");
    put("shrink", "abcdefgh");
    UT_CHECK_EQ(hal_file_open(&f, at("shrink")), 0);
    UT_CHECK_EQ(truncate(at("shrink"), 2), 0);
    UT_CHECK_EQ(hal_file_read(&f, buf, sizeof(buf)), -EIO);
    UT_CHECK_EQ(hal_file_read_at(&f, 4, buf, 2), -EIO);
    hal_file_close(&f);
}

static int
write_all(const char *path, const char *s, int commit)
{
    struct hal_file_new w;
    int rc = hal_file_create(&w, path);

    if (rc != 0)
        return rc;
    rc = hal_file_write(&w, s, strlen(s));
    if (rc != 0 || !commit) {
        hal_file_abort(&w);
        return rc;
    }
    return hal_file_commit(&w);
}

struct create_case {
    const char *name;
    const char *path;
    int rc;
    const char *kind;
};

static const struct create_case refuse_cases[] = {
    {"create: over a FIFO", "fifo", -EINVAL, "FIFO"},
    {"create: over a symlink to a FIFO", "fifolink", -EINVAL, "FIFO"},
    {"create: over a directory", "sub", -EINVAL, "directory"},
    {"create: through a dangling symlink", "dangling", -EINVAL, "symlink"},
    {"create: over /dev/null", "/dev/null", -EINVAL, "character device"},
    {"create: in a missing directory", "nosuch/x", -ENOENT, NULL},
};

static void
test_create(void)
{
    struct stat st;

    UT_CASE("create: a new file appears whole on commit");
    UT_CHECK_EQ(write_all(at("new"), "fresh", 1), 0);
    UT_CHECK(same("new", "fresh"));

    UT_CASE("create: abort leaves the old file and no temporary");
    UT_CHECK_EQ(write_all(at("new"), "other", 0), 0);
    UT_CHECK(same("new", "fresh"));
    UT_CHECK_EQ(count_like(".tmp-"), 0);

    UT_CASE("create: abort of a new file leaves nothing");
    UT_CHECK_EQ(write_all(at("never"), "x", 0), 0);
    UT_CHECK(access(at("never"), F_OK) != 0);

    UT_CASE("create: replacing keeps the file's permissions");
    UT_CHECK_EQ(chmod(at("new"), 0600), 0);
    UT_CHECK_EQ(write_all(at("new"), "again", 1), 0);
    UT_CHECK(same("new", "again"));
    UT_CHECK(stat(at("new"), &st) == 0 && (st.st_mode & 0777) == 0600);

    UT_CASE("create: through a symlink the target is replaced");
    UT_CHECK_EQ(write_all(at("link"), "via link", 1), 0);
    UT_CHECK(lstat(at("link"), &st) == 0 && S_ISLNK(st.st_mode));
    UT_CHECK(same("data", "via link"));
    put("data", "0123456789");
    UT_CHECK_EQ(count_like(".tmp-"), 0);

    for (size_t i = 0; i < sizeof(refuse_cases) / sizeof(refuse_cases[0]);
         i++) {
        const struct create_case *c = &refuse_cases[i];
        struct hal_file_new w;
        int rc;

        UT_CASE(c->name);
        rc = hal_file_create(&w, c->path[0] == '/' ? c->path : at(c->path));
        UT_CHECK_EQ(rc, c->rc);
        if (c->kind != NULL)
            UT_CHECK(w.kind != NULL && strstr(w.kind, c->kind) != NULL);
        if (rc == 0)
            hal_file_abort(&w);
    }
    UT_CASE("create: refusals leave no temporary");
    UT_CHECK_EQ(count_like(".tmp-"), 0);
    UT_CHECK(access(at("nosuch-target"), F_OK) != 0);
}

int
main(void)
{
    ut_suite = "file";
    snprintf(dir, sizeof(dir), "/tmp/keel-test-file-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    put("data", "0123456789");
    put("empty", "");
    if (symlink("data", at("link")) != 0 ||
        symlink("nosuch-target", at("dangling")) != 0 ||
        mkfifo(at("fifo"), 0600) != 0 || symlink("fifo", at("fifolink")) != 0 ||
        mkdir(at("sub"), 0700) != 0) {
        perror("setup");
        return 2;
    }
    test_open();
    test_read();
    test_create();
    {
        char cmd[100];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            printf("note: could not remove %s\n", dir);
    }
    return ut_done();
}
