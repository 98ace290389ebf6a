/*
 * hal/posix/file.c - operator files on a POSIX host (see hal/file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/file.h"
#include "posix/io.h"

/* One read or write call moves at most this much, so that a count fits
 * an int. */
#define FILE_IO_MAX (1u << 30)

static const char *
kind_of(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO (named pipe)";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "an unknown kind of file";
}

int
hal_file_open(struct hal_file *f, const char *path)
{
    struct stat st;
    int fd, fl;

    memset(f, 0, sizeof(*f));
    f->fd = -1;
    /* Look before opening: opening a device can do things of its own
     * (a watchdog starts, a tape rewinds). */
    if (stat(path, &st) != 0)
        return -errno;
    if (!S_ISREG(st.st_mode)) {
        f->kind = kind_of(st.st_mode);
        return -EINVAL;
    }
    /* Non-blocking: should the path have become a FIFO since stat(),
     * the open still returns at once, and fstat() below refuses it. */
    do {
        fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0) {
        int e = -errno;

        close(fd);
        return e;
    }
    if (!S_ISREG(st.st_mode)) {
        f->kind = kind_of(st.st_mode);
        close(fd);
        return -EINVAL;
    }
    fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    f->fd = fd;
    f->size = (uint64_t)st.st_size;
    return 0;
}

static int
pread_all(int fd, uint64_t off, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -EIO; /* 0: the file shrank under us */
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int
hal_file_read(struct hal_file *f, void *buf, size_t len)
{
    uint64_t left = f->size - f->pos;
    size_t n = len < FILE_IO_MAX ? len : FILE_IO_MAX;
    int rc;

    if (n > left)
        n = (size_t)left;
    if (n == 0)
        return 0;
    rc = pread_all(f->fd, f->pos, buf, n);
    if (rc != 0)
        return rc;
    f->pos += n;
    return (int)n;
}

int
hal_file_read_at(struct hal_file *f, uint64_t off, void *buf, size_t len)
{
    if (off > f->size || len > f->size - off)
        return -EINVAL;
    return pread_all(f->fd, off, buf, len);
}

void
hal_file_close(struct hal_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

int
hal_file_create(struct hal_file_new *w, const char *path)
{
    static char real[PATH_MAX];
    static unsigned seq;
    const char *target = path;
    struct stat st;
    mode_t mode = 0;
    size_t n;
    int fd;

    memset(w, 0, sizeof(*w));
    w->fd = -1;
    if (lstat(path, &st) == 0) {
        if (S_ISLNK(st.st_mode)) {
            /* Follow it, as a reader would, to a regular file only; a
             * link to nothing is refused rather than made to create
             * its target somewhere else. */
            if (stat(path, &st) != 0) {
                if (errno != ENOENT)
                    return -errno;
                w->kind = "a symlink to a missing file";
                return -EINVAL;
            }
            if (!S_ISREG(st.st_mode)) {
                w->kind = kind_of(st.st_mode);
                return -EINVAL;
            }
            if (realpath(path, real) == NULL)
                return -errno;
            target = real;
        } else if (!S_ISREG(st.st_mode)) {
            w->kind = kind_of(st.st_mode);
            return -EINVAL;
        }
        mode = st.st_mode & 0777;
    } else if (errno != ENOENT) {
        return -errno;
    }
    n = strlen(target);
    if (n > HAL_FILE_PATH_MAX)
        return -ENAMETOOLONG;
    memcpy(w->path, target, n + 1);
    snprintf(w->tmp, sizeof(w->tmp), "%s.tmp-%ld-%u", w->path, (long)getpid(),
             seq++);
    do {
        fd = open(w->tmp,
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY |
                      O_CLOEXEC,
                  0666);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -errno;
    if (mode != 0 && fchmod(fd, mode) != 0) {
        int e = -errno;

        close(fd);
        unlink(w->tmp);
        return e;
    }
    w->fd = fd;
    return 0;
}

int
hal_file_write(struct hal_file_new *w, const void *buf, size_t len)
{
    int rc = posix_write_all(w->fd, buf, len);

    if (rc == 0)
        w->size += len;
    return rc;
}

/* The rename is durable once the directory is synced.  Best effort: by
 * now the new file is in place, and failing here would say otherwise. */
static void
sync_dir(const char *path)
{
    char dir[HAL_FILE_PATH_MAX + 1];
    const char *slash = strrchr(path, '/');
    int fd;

    if (slash == NULL) {
        strcpy(dir, ".");
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);

        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int
hal_file_commit(struct hal_file_new *w)
{
    int rc = 0;

    if (fsync(w->fd) != 0)
        rc = -errno;
    if (close(w->fd) != 0 && rc == 0)
        rc = -errno;
    w->fd = -1;
    if (rc == 0 && rename(w->tmp, w->path) != 0)
        rc = -errno;
    if (rc != 0) {
        unlink(w->tmp);
        return rc;
    }
    sync_dir(w->path);
    return 0;
}

void
hal_file_abort(struct hal_file_new *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    unlink(w->tmp);
}
