/*
 * tests/unit/test_boot.c - what keel-boot does outside the flash:
 *  - the archive unpacker (src/update/archive.c) into a memory sink:
 *    good archives, every truncation, bad fields, conflicting paths
 *    (the archive's fault, -EBADMSG) against target failures (not);
 *  - hal/linux/os.c on a scratch directory: files created without
 *    following links, trees removed without following links or running
 *    anything (names with quotes and $(...) are names), bounded depth,
 *    paths refused rather than cut, and running a program.
 * Slot choice is tested with the update code in test_update.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/os.h"
#include "lib/le.h"
#include "update/archive.h"
#include "ut.h"

/* ---- archives in memory ---- */

struct ent {
    const char *path;
    uint16_t mode;
    const char *data;
};

static uint8_t ar[8192];

/* A KAR1 archive of n entries into ar; returns its length. */
static size_t
kar_build(const struct ent *e, int n)
{
    size_t off = 8;

    memcpy(ar, "KAR1", 4);
    lib_put32(ar + 4, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        size_t pl = strlen(e[i].path), dl = strlen(e[i].data);

        lib_put16(ar + off, (uint16_t)pl);
        lib_put16(ar + off + 2, e[i].mode);
        lib_put32(ar + off + 4, (uint32_t)dl);
        lib_put32(ar + off + 8, 0);
        memcpy(ar + off + 12, e[i].path, pl);
        memcpy(ar + off + 12 + pl, e[i].data, dl);
        off += 12 + pl + dl;
    }
    return off;
}

static int read_fail_at = -1; /* offset from which reads fail, or -1 */

static int
mem_read(void *arg, uint64_t off, void *buf, size_t len)
{
    (void)arg;
    if (read_fail_at >= 0 && off + len > (uint64_t)read_fail_at)
        return -EIO;
    memcpy(buf, ar + off, len);
    return 0;
}

/* A sink that keeps the files in memory and refuses a path that is
 * there already, or that has a file where a directory is needed. */
struct msink {
    int nfiles;
    char path[8][64];
    uint32_t mode[8];
    char data[8][64];
    size_t len[8];
    int fail_create, fail_write; /* error to return, or 0 */
};

static int
ms_create(void *arg, const char *path, uint32_t mode)
{
    struct msink *m = arg;
    size_t pl = strlen(path);

    if (m->fail_create != 0)
        return m->fail_create;
    for (int i = 0; i < m->nfiles; i++) {
        size_t l = strlen(m->path[i]);

        if (strcmp(m->path[i], path) == 0 ||
            (l < pl && strncmp(path, m->path[i], l) == 0 && path[l] == '/') ||
            (pl < l && strncmp(m->path[i], path, pl) == 0 &&
             m->path[i][pl] == '/'))
            return -EEXIST;
    }
    if (m->nfiles == 8 || pl >= sizeof(m->path[0]))
        return -ENOSPC;
    snprintf(m->path[m->nfiles], sizeof(m->path[0]), "%s", path);
    m->mode[m->nfiles] = mode;
    m->len[m->nfiles] = 0;
    return m->nfiles++;
}

static int
ms_write(void *arg, int h, const void *buf, size_t len)
{
    struct msink *m = arg;

    if (m->fail_write != 0)
        return m->fail_write;
    if (m->len[h] + len > sizeof(m->data[0]))
        return -ENOSPC;
    memcpy(m->data[h] + m->len[h], buf, len);
    m->len[h] += len;
    return 0;
}

static int
ms_close(void *arg, int h)
{
    (void)arg;
    (void)h;
    return 0;
}

static int
extract(size_t len, struct msink *m, const char **why)
{
    const struct kar_src src = {mem_read, NULL, len};
    const struct kar_sink dst = {ms_create, ms_write, ms_close, m};

    static uint8_t buf[3000]; /* odd-sized: files cross it */

    return kar_extract(&src, &dst, buf, sizeof(buf), why);
}

/* The golden archive (tests/vectors/update/image.kar, made by
 * `keel-bundle archive`; tests/bundle_cli.sh checks the tool still
 * makes these bytes) unpacks to its two files. */
static void
test_archive_golden(void)
{
    const char *d = getenv("KEEL_VECTORS");
    char path[512];
    struct msink m;
    const char *why;
    FILE *f;
    size_t n;

    UT_CASE("golden archive: two files, modes and bytes");
    snprintf(path, sizeof(path), "%s/update/image.kar",
             d != NULL ? d : "tests/vectors");
    f = fopen(path, "rb");
    UT_CHECK(f != NULL);
    if (f == NULL)
        return;
    n = fread(ar, 1, sizeof(ar), f);
    fclose(f);
    memset(&m, 0, sizeof(m));
    UT_CHECK_EQ(extract(n, &m, &why), 2);
    UT_CHECK(strcmp(m.path[0], "bin/keel") == 0 && m.mode[0] == 0755);
    UT_CHECK(m.len[0] == 20 &&
             memcmp(m.data[0], "#!/bin/sh\necho keel\n", 20) == 0);
    UT_CHECK(strcmp(m.path[1], "etc/keel/keyring") == 0 && m.mode[1] == 0644);
    UT_CHECK(m.len[1] == 14 && memcmp(m.data[1], "keyring bytes\n", 14) == 0);
}

static void
test_archive(void)
{
    static const struct ent good[] = {
        {"bin/keel", 0755, "#!/bin/sh\n"},
        {"etc/keel/keyring", 0644, "KKR1..."},
        {"empty", 0644, ""},
    };
    static const struct {
        const char *name;
        struct ent e[2];
        int n;
        int want;
        const char *why;
    } bad[] = {
        {"a path with ..",
         {{"bin/../x", 0644, "x"}},
         1,
         -EBADMSG,
         "not allowed"},
        {"an absolute path", {{"/x", 0644, "x"}}, 1, -EBADMSG, "not allowed"},
        {"a quote in a path",
         {{"it's", 0644, "x"}},
         1,
         -EBADMSG,
         "not allowed"},
        {"mode 0777", {{"x", 0777, "x"}}, 1, -EBADMSG, "malformed"},
        {"no files", {{"x", 0644, "x"}}, 0, -EBADMSG, "count"},
        {"a file twice",
         {{"x", 0644, "1"}, {"x", 0644, "2"}},
         2,
         -EBADMSG,
         "conflict"},
        {"a file where a directory is needed",
         {{"bin", 0644, "1"}, {"bin/keel", 0755, "2"}},
         2,
         -EBADMSG,
         "conflict"},
    };
    struct msink m;
    const char *why;
    size_t len;
    int accepted = 0;

    UT_CASE("archive: a good archive unpacks, file by file");
    memset(&m, 0, sizeof(m));
    len = kar_build(good, 3);
    UT_CHECK_EQ(extract(len, &m, &why), 3);
    UT_CHECK_EQ(m.nfiles, 3);
    UT_CHECK(strcmp(m.path[0], "bin/keel") == 0 && m.mode[0] == 0755);
    UT_CHECK(m.len[0] == 10 && memcmp(m.data[0], "#!/bin/sh\n", 10) == 0);
    UT_CHECK(strcmp(m.path[1], "etc/keel/keyring") == 0 && m.mode[1] == 0644);
    UT_CHECK_EQ(m.len[2], 0);

    UT_CASE("archive: every truncation and trailing bytes are the archive's "
            "fault");
    for (size_t l = 0; l < len; l++) {
        memset(&m, 0, sizeof(m));
        accepted += extract(l, &m, &why) != -EBADMSG;
    }
    UT_CHECK_EQ(accepted, 0);
    ar[len] = 0;
    memset(&m, 0, sizeof(m));
    UT_CHECK_EQ(extract(len + 1, &m, &why), -EBADMSG);
    UT_CHECK(strstr(why, "trailing") != NULL);
    memcpy(ar, "KAR2", 4);
    UT_CHECK_EQ(extract(len, &m, &why), -EBADMSG);
    UT_CHECK(strstr(why, "not a keel archive") != NULL);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char title[120];

        snprintf(title, sizeof(title), "archive: %s is refused", bad[i].name);
        UT_CASE(title);
        memset(&m, 0, sizeof(m));
        len = kar_build(bad[i].e, bad[i].n > 0 ? bad[i].n : 1);
        if (bad[i].n == 0)
            lib_put32(ar + 4, 0);
        UT_CHECK_EQ(extract(len, &m, &why), bad[i].want);
        if (strstr(why, bad[i].why) == NULL)
            printf("  why: '%s'\n", why);
        UT_CHECK(strstr(why, bad[i].why) != NULL);
    }

    UT_CASE("archive: the target's failures are not the archive's");
    len = kar_build(good, 3);
    memset(&m, 0, sizeof(m));
    m.fail_create = -ENOSPC;
    UT_CHECK_EQ(extract(len, &m, &why), -ENOSPC);
    memset(&m, 0, sizeof(m));
    m.fail_write = -EIO;
    UT_CHECK_EQ(extract(len, &m, &why), -EIO);
    UT_CHECK(strstr(why, "cannot write") != NULL);
    memset(&m, 0, sizeof(m));
    read_fail_at = 30;
    UT_CHECK(extract(len, &m, &why) < 0);
    read_fail_at = -1;
}

/* ---- the OS ---- */

static char scratch[64];

/* rel exists under the scratch directory (links not followed). */
static int
exists(const char *rel)
{
    char p[512];
    struct stat st;

    snprintf(p, sizeof(p), "%s/%s", scratch, rel);
    return lstat(p, &st) == 0;
}

static int
write_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    if (fd < 0)
        return -1;
    if (write(fd, "canary", 6) != 6) {
        close(fd);
        return -1;
    }
    return close(fd);
}

static void
test_os_files(void)
{
    char p[512], q[512];
    struct stat st;
    int d, h;
    mode_t um = umask(077);

    UT_CASE("os: files are created with their mode and parents");
    snprintf(p, sizeof(p), "%s/un", scratch);
    UT_CHECK_EQ(hal_os_mkdir(p), 0);
    UT_CHECK_EQ(hal_os_mkdir(p), 0); /* exists: fine */
    d = hal_os_dir_open(p);
    UT_CHECK(d >= 0);
    h = hal_os_file_create(d, "bin/deep/keel", 0755);
    UT_CHECK(h >= 0);
    UT_CHECK_EQ(hal_os_file_write(h, "hello", 5), 0);
    UT_CHECK_EQ(hal_os_close(h), 0);
    snprintf(q, sizeof(q), "%s/un/bin/deep/keel", scratch);
    UT_CHECK(stat(q, &st) == 0 && (st.st_mode & 0777) == 0755 &&
             st.st_size == 5);

    UT_CASE("os: conflicts are -EEXIST, odd names -EINVAL, links not "
            "followed");
    UT_CHECK_EQ(hal_os_file_create(d, "bin/deep/keel", 0644), -EEXIST);
    UT_CHECK_EQ(hal_os_file_create(d, "bin/deep/keel/x", 0644), -EEXIST);
    UT_CHECK_EQ(hal_os_file_create(d, "../escape", 0644), -EINVAL);
    UT_CHECK_EQ(hal_os_file_create(d, "a//b", 0644), -EINVAL);
    UT_CHECK(!exists("escape"));
    snprintf(q, sizeof(q), "%s/outside", scratch);
    UT_CHECK_EQ(mkdir(q, 0700), 0);
    snprintf(p, sizeof(p), "%s/un/lnk", scratch);
    UT_CHECK_EQ(symlink(q, p), 0);
    UT_CHECK_EQ(hal_os_file_create(d, "lnk/x", 0644), -EEXIST);
    UT_CHECK_EQ(hal_os_file_create(d, "lnk", 0644), -EEXIST);
    UT_CHECK(!exists("outside/x"));
    UT_CHECK_EQ(hal_os_close(d), 0);
    snprintf(p, sizeof(p), "%s/afile", scratch);
    UT_CHECK_EQ(write_file(p), 0);
    UT_CHECK_EQ(hal_os_mkdir(p), -ENOTDIR);
    umask(um);
}

static void
test_os_remove(void)
{
    static const char odd[] =
        "it's; touch pwned; $(touch pwned2) `touch pwned3` \"x\" \\";
    char p[512], q[512], longp[5000];

    UT_CASE("os: a tree is removed; links in it are removed, not followed");
    /* scratch/outside/canary is what a followed link would reach */
    snprintf(q, sizeof(q), "%s/outside/canary", scratch);
    UT_CHECK_EQ(write_file(q), 0);
    snprintf(p, sizeof(p), "%s/un/to-outside", scratch);
    snprintf(q, sizeof(q), "%s/outside", scratch);
    UT_CHECK_EQ(symlink(q, p), 0);
    snprintf(p, sizeof(p), "%s/un/bin/to-canary", scratch);
    snprintf(q, sizeof(q), "%s/outside/canary", scratch);
    UT_CHECK_EQ(symlink(q, p), 0);
    UT_CHECK_EQ(hal_os_tree_remove(scratch, "un"), 0);
    UT_CHECK(!exists("un"));
    UT_CHECK(exists("outside/canary"));
    UT_CHECK(exists("outside"));
    UT_CHECK_EQ(hal_os_tree_remove(scratch, "un"), 0); /* gone: fine */

    UT_CASE("os: a name with quotes and $(...) is only a name");
    snprintf(p, sizeof(p), "%s/%s", scratch, odd);
    UT_CHECK_EQ(hal_os_mkdir(p), 0);
    snprintf(p, sizeof(p), "%s/%s/f", scratch, odd);
    UT_CHECK_EQ(write_file(p), 0);
    UT_CHECK_EQ(hal_os_tree_remove(scratch, odd), 0);
    UT_CHECK(!exists(odd));
    UT_CHECK(!exists("pwned") && !exists("pwned2") && !exists("pwned3"));
    UT_CHECK(access("pwned", F_OK) != 0 && access("pwned2", F_OK) != 0 &&
             access("pwned3", F_OK) != 0);

    UT_CASE("os: names that are no single component are refused");
    UT_CHECK_EQ(hal_os_tree_remove(scratch, "outside/canary"), -EINVAL);
    UT_CHECK_EQ(hal_os_tree_remove(scratch, ".."), -EINVAL);
    UT_CHECK_EQ(hal_os_tree_remove(scratch, "."), -EINVAL);
    UT_CHECK_EQ(hal_os_tree_remove(scratch, ""), -EINVAL);
    UT_CHECK(exists("outside/canary"));

    UT_CASE("os: a path too long is refused, never cut");
    memset(longp, 'x', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    memcpy(longp, scratch, strlen(scratch));
    longp[strlen(scratch)] = '/';
    UT_CHECK_EQ(hal_os_tree_remove(longp, "outside"), -ENAMETOOLONG);
    UT_CHECK_EQ(hal_os_mkdir(longp), -ENAMETOOLONG);
    UT_CHECK_EQ(hal_os_dir_open(longp), -ENAMETOOLONG);
    UT_CHECK(exists("outside/canary"));

    UT_CASE("os: removal descends a bounded number of levels");
    {
        int ok, fd;

        snprintf(p, sizeof(p), "%s/deep", scratch);
        ok = mkdir(p, 0700) == 0;
        fd = open(p, O_RDONLY | O_DIRECTORY);

        /* HAL_OS_TREE_DEPTH + 2 levels below deep/, made relative */
        for (int i = 0; i < HAL_OS_TREE_DEPTH + 2 && ok; i++) {
            int next;

            ok = mkdirat(fd, "d", 0700) == 0;
            next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
            close(fd);
            fd = next;
            ok = ok && fd >= 0;
        }
        if (fd >= 0)
            close(fd);
        UT_CHECK(ok);
        UT_CHECK_EQ(hal_os_tree_remove(scratch, "deep"), -ELOOP);
        /* from three levels down it is within bounds */
        snprintf(p, sizeof(p), "%s/deep/d/d", scratch);
        UT_CHECK_EQ(hal_os_tree_remove(p, "d"), 0);
        UT_CHECK_EQ(hal_os_tree_remove(scratch, "deep"), 0);
        UT_CHECK(!exists("deep"));
    }
}

static void
test_os_run(void)
{
    char var[] = "KEEL_TEST_VAR=a b'c";
    char *env[] = {var, NULL};
    char *args[] = {(char *)"sh", (char *)"-c", NULL, NULL};
    struct hal_os_exit ex;

    UT_CASE("os: a program runs with the environment given; its status");
    args[2] = (char *)"[ \"$KEEL_TEST_VAR\" = \"a b'c\" ] || exit 9; exit 3";
    UT_CHECK_EQ(hal_os_run("/bin/sh", args, env, &ex), 0);
    UT_CHECK_EQ(ex.signal, 0);
    UT_CHECK_EQ(ex.status, 3);
    UT_CHECK(getenv("KEEL_TEST_VAR") == NULL); /* only in the child */
    args[2] = (char *)"kill -TERM $$";
    UT_CHECK_EQ(hal_os_run("/bin/sh", args, NULL, &ex), 0);
    UT_CHECK_EQ(ex.signal, 15);
    UT_CASE("os: a program that cannot run ends with status 127");
    UT_CHECK_EQ(hal_os_run("/nonexistent/keel", args, NULL, &ex), 0);
    UT_CHECK_EQ(ex.signal, 0);
    UT_CHECK_EQ(ex.status, 127);
}

int
main(void)
{
    ut_suite = "boot";
    test_archive_golden();
    test_archive();
    snprintf(scratch, sizeof(scratch), "/tmp/keel-test-boot.XXXXXX");
    if (mkdtemp(scratch) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_os_files();
    test_os_remove();
    test_os_run();
    UT_CASE("os: the scratch directory is removed");
    {
        char *slash = strrchr(scratch, '/');

        *slash = '\0';
        UT_CHECK_EQ(hal_os_tree_remove(scratch, slash + 1), 0);
        *slash = '/';
        UT_CHECK(access(scratch, F_OK) != 0);
    }
    return ut_done();
}
