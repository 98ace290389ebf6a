/* hal/linux/blk.c - flash over a file or block device (see blk.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "linux/blk.h"

static const struct hal_flash_ops blk_ops;
static const uint8_t ff[65536] = {[0 ... 65535] = 0xff};

static int
write_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -EIO; /* a full disk is a failed device here */
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int
blk_read(const struct hal_flash *f, uint64_t off, void *buf, size_t len)
{
    struct blk_flash *d = f->dev;
    uint8_t *p = buf;

    off += f->base;
    while (len > 0) {
        ssize_t n = pread(d->fd, p, len, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int
blk_sync(const struct hal_flash *f)
{
    struct blk_flash *d = f->dev;

    d->stats.syncs++;
    return fdatasync(d->fd) == 0 ? 0 : -EIO;
}

static int
blk_prog(const struct hal_flash *f, uint64_t off, const void *buf, size_t len)
{
    struct blk_flash *d = f->dev;
    int rc = write_all(d->fd, buf, len, f->base + off);

    if (rc == 0)
        rc = blk_sync(f);
    if (rc == 0) {
        d->stats.progs++;
        d->stats.bytes_prog += len;
    }
    return rc;
}

static int
blk_erase(const struct hal_flash *f, uint64_t off, uint64_t len)
{
    struct blk_flash *d = f->dev;
    int rc = 0;

    off += f->base;
    while (rc == 0 && len > 0) {
        size_t n = len < sizeof(ff) ? (size_t)len : sizeof(ff);

        rc = write_all(d->fd, ff, n, off);
        off += n;
        len -= n;
    }
    if (rc == 0)
        rc = blk_sync(f);
    if (rc == 0)
        d->stats.erases++;
    return rc;
}

/* A BLOCK partition: one pwrite, left to the page cache until sync. */
static int
blk_write(const struct hal_flash *f, uint64_t off, const void *buf, size_t len)
{
    struct blk_flash *d = f->dev;
    int rc = write_all(d->fd, buf, len, f->base + off);

    if (rc == 0) {
        d->stats.writes++;
        d->stats.bytes_written += len;
        /* Start writing it back now, while the caller checks the next
         * piece, so the one sync waits only for what is left.  A hint:
         * durability is the sync's alone, so a failure here is not
         * one. */
        (void)sync_file_range(d->fd, (off_t)(f->base + off), (off_t)len,
                              SYNC_FILE_RANGE_WRITE);
    }
    return rc;
}

static const struct hal_flash_ops blk_ops = {
    .read = blk_read,
    .prog = blk_prog,
    .erase = blk_erase,
    .sync = blk_sync,
    .write = blk_write,
};

int
blk_flash_open(struct blk_flash *d, const char *path, uint64_t size,
               uint32_t erase_size, int create)
{
    struct stat st;
    uint64_t have;
    int fd, rc;

    memset(d, 0, sizeof(*d));
    d->fd = -1;
    if (erase_size < BLK_PROG_SIZE || (erase_size & (erase_size - 1)) != 0)
        return -EINVAL;
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create && size > 0) {
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
            return -errno;
        for (uint64_t o = 0; o < size; o += sizeof(ff)) {
            size_t n = size - o < sizeof(ff) ? (size_t)(size - o) : sizeof(ff);

            if (write_all(fd, ff, n, o) != 0 || fdatasync(fd) != 0) {
                close(fd);
                unlink(path);
                return -EIO;
            }
        }
    }
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto fail;
    }
    if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, &have) < 0) {
            rc = -errno;
            goto fail;
        }
    } else if (S_ISREG(st.st_mode)) {
        have = (uint64_t)st.st_size;
    } else {
        rc = -EINVAL; /* a directory, a fifo, a character device */
        goto fail;
    }
    if (size == 0)
        size = have / erase_size * erase_size;
    if (size == 0 || size % erase_size != 0 || size > have) {
        rc = -EINVAL;
        goto fail;
    }
    d->fd = fd;
    d->size = size;
    d->erase_size = erase_size;
    return 0;
fail:
    close(fd);
    return rc;
}

int
blk_flash_partition(struct blk_flash *d, struct hal_flash *part,
                    const char *name, uint64_t base, uint64_t size,
                    enum hal_flash_kind kind)
{
    if (size == 0 || base % d->erase_size != 0 || size % d->erase_size != 0 ||
        base > d->size || size > d->size - base ||
        (kind != HAL_FLASH_RAW && kind != HAL_FLASH_BLOCK))
        return -EINVAL;
    *part = (struct hal_flash){
        .ops = &blk_ops,
        .dev = d,
        .name = name,
        .base = base,
        .size = size,
        .erase_size = d->erase_size,
        .prog_size = BLK_PROG_SIZE,
        .erased = 0xff,
        .kind = (uint8_t)kind,
    };
    return 0;
}

void
blk_flash_close(struct blk_flash *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
}
