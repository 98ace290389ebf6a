/*
 * hal/linux/os.c - stage 1's operating system calls on Linux (see
 * hal/os.h): *at() calls relative to open directories, O_NOFOLLOW on
 * every step, getdents64 into a static buffer (fdopendir would
 * allocate), fork and execv.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hal/os.h"
#include "posix/io.h"

static int
path_ok(const char *p)
{
    return strnlen(p, HAL_OS_PATH_MAX) < HAL_OS_PATH_MAX;
}

/* One component of a name: not empty, ".", ".." or with a '/'. */
static int
name_ok(const char *n, size_t len)
{
    return len > 0 && len <= NAME_MAX && memchr(n, '/', len) == NULL &&
           !(len == 1 && n[0] == '.') &&
           !(len == 2 && n[0] == '.' && n[1] == '.');
}

int
hal_os_mkdir(const char *path)
{
    struct stat st;

    if (!path_ok(path))
        return -ENAMETOOLONG;
    if (mkdir(path, 0700) == 0)
        return 0;
    if (errno != EEXIST)
        return -errno;
    if (stat(path, &st) != 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* ---- removing a tree ------------------------------------------------ */

struct dent64 {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

/* Read from the start, and only up to the first entry: that one is
 * copied out before anything recursive reuses the buffer. */
static uint8_t dents[4096] __attribute__((aligned(8)));

/* The first entry of directory fd other than "." and "..": 1 with its
 * name, 0 when it is empty, or < 0. */
static int
first_entry(int fd, char name[NAME_MAX + 1])
{
    if (lseek(fd, 0, SEEK_SET) != 0)
        return -errno;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, dents, sizeof(dents));

        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        for (long off = 0; off < n;) {
            const struct dent64 *e = (const void *)(dents + off);
            size_t len = strnlen(e->name, NAME_MAX + 1);

            off += e->reclen;
            if (e->reclen == 0 || len > NAME_MAX)
                return -EIO;
            if (strcmp(e->name, ".") == 0 || strcmp(e->name, "..") == 0)
                continue;
            memcpy(name, e->name, len + 1);
            return 1;
        }
    }
}

static int rm_at(int fd, const char *name, dev_t dev, int depth);

/* Empty directory fd, re-reading it after every removal (a listing goes
 * stale as entries go). */
static int
rm_children(int fd, dev_t dev, int depth)
{
    char name[NAME_MAX + 1], last[NAME_MAX + 1] = "";

    for (;;) {
        int rc = first_entry(fd, name);

        if (rc <= 0)
            return rc;
        if (strcmp(name, last) == 0)
            return -EBUSY; /* removed, yet there again: give up */
        rc = rm_at(fd, name, dev, depth);
        if (rc != 0)
            return rc;
        memcpy(last, name, sizeof(last));
    }
}

/* Remove name in directory fd: a directory with everything under it
 * (depth more levels allowed), anything else (a link included) by
 * unlinking it. */
static int
rm_at(int fd, const char *name, dev_t dev, int depth)
{
    struct stat st;
    int sub, rc;

    if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(fd, name, 0) == 0 || errno == ENOENT ? 0 : -errno;
    if (st.st_dev != dev)
        return -EXDEV;
    if (depth <= 0)
        return -ELOOP;
    /* O_NOFOLLOW: swapped for a link since the fstatat, it fails. */
    sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0)
        return -errno;
    rc = fstat(sub, &st) != 0 ? -errno : st.st_dev != dev ? -EXDEV : 0;
    if (rc == 0)
        rc = rm_children(sub, dev, depth - 1);
    close(sub);
    if (rc == 0 && unlinkat(fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        rc = -errno;
    return rc;
}

int
hal_os_tree_remove(const char *dir, const char *name)
{
    struct stat st;
    int fd, rc;

    if (!path_ok(dir) || !path_ok(name))
        return -ENAMETOOLONG;
    if (!name_ok(name, strlen(name)))
        return -EINVAL;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    rc = fstat(fd, &st) != 0 ? -errno
                             : rm_at(fd, name, st.st_dev, HAL_OS_TREE_DEPTH);
    close(fd);
    return rc;
}

/* ---- unpacking ------------------------------------------------------ */

int
hal_os_dir_open(const char *path)
{
    int fd;

    if (!path_ok(path))
        return -ENAMETOOLONG;
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* What is in the way of a path is the path's conflict, not the OS's. */
static int
conflict(int e)
{
    return e == EEXIST || e == ENOTDIR || e == EISDIR || e == ELOOP ? -EEXIST
                                                                    : -e;
}

int
hal_os_file_create(int d, const char *rel, unsigned mode)
{
    char name[NAME_MAX + 1];
    const char *p = rel;
    int at = d, rc;

    if (!path_ok(rel))
        return -ENAMETOOLONG;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);
        int next;

        if (!name_ok(p, n)) {
            rc = -EINVAL;
            break;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        if (slash == NULL) {
            rc = openat(at, name,
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        mode & 0777);
            if (rc < 0) {
                rc = conflict(errno);
            } else if (fchmod(rc, mode & 0777) != 0) {
                int e = -errno;

                close(rc);
                rc = e;
            }
            break;
        }
        if (mkdirat(at, name, 0755) != 0 && errno != EEXIST) {
            rc = -errno;
            break;
        }
        next =
            openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            rc = conflict(errno);
            break;
        }
        if (at != d)
            close(at);
        at = next;
        p = slash + 1;
    }
    if (at != d)
        close(at);
    return rc;
}

int
hal_os_file_write(int h, const void *buf, size_t len)
{
    return posix_write_all(h, buf, len);
}

int
hal_os_close(int h)
{
    return close(h) == 0 ? 0 : -errno;
}

/* ---- running -------------------------------------------------------- */

int
hal_os_run(const char *prog, char *const argv[], char *const env[],
           struct hal_os_exit *ex)
{
    pid_t pid;
    int st;

    if (!path_ok(prog))
        return -ENAMETOOLONG;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        for (int i = 0; env != NULL && env[i] != NULL; i++)
            if (putenv(env[i]) != 0)
                _exit(127);
        execv(prog, argv);
        fprintf(stderr, "cannot run %s: %s\n", prog, strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -errno;
    ex->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    ex->status = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
    return 0;
}
