/*
 * hal/file.h - files an operator names at the console: host paths on
 * the sim board (later boards: their transfer area).
 *
 * Only regular files.  A console command must return in bounded time,
 * and only a regular file guarantees that every read ends: a FIFO waits
 * for its writer, /dev/zero never ends, a tty waits for a human.  So:
 *
 * Reading.  hal_file_open() follows symlinks (an operator's path may be
 * a link), then requires that what it reaches is a regular file.  A
 * FIFO, socket, directory or device is refused before it is opened and
 * again after (the check is repeated on the open descriptor, so a path
 * swapped in between is caught too); the open itself never waits (it is
 * non-blocking, and takes no controlling terminal).  f->size is the
 * file's size at open; reads never go past it.  A file that grows while
 * it is read is read up to its size at open; one that shrinks gives
 * -EIO.  Every read returns once the storage has answered.
 *
 * Writing.  hal_file_create() starts the replacement of a file: the
 * bytes go to a temporary file in the same directory, and
 * hal_file_commit() syncs it and renames it over the path in one step,
 * so the path holds either the old file or the whole new one, never a
 * part.  hal_file_abort(), or a failed commit, removes the temporary
 * file and leaves the path as it was.  An existing path must be a
 * regular file or a symlink to one; the symlink is kept and its target
 * replaced (with the target's permission bits).  A new file gets 0666
 * less the umask.
 *
 * Returns: 0 (or a count) on success, or a negative errno: those of
 * open(2) (-ENOENT, -EACCES, -ELOOP, -ENOTDIR, -ENAMETOOLONG, ...),
 * -EINVAL when the path is not a regular file (f->kind / w->kind then
 * name what it is, e.g. "a FIFO (named pipe)"), -EIO, -ENOSPC.
 *
 * Caller-allocated, no malloc; one thread.  A struct hal_file must be
 * closed, a struct hal_file_new committed or aborted, exactly once after
 * a successful open or create; after a failed one there is nothing to
 * close.  Paths are at most HAL_FILE_PATH_MAX bytes once symlinks are
 * resolved (-ENAMETOOLONG beyond).
 *
 * Backend: hal/posix/file.c.
 */
#ifndef HAL_FILE_H
#define HAL_FILE_H

#include <stddef.h>
#include <stdint.h>

#ifndef HAL_FILE_PATH_MAX
#define HAL_FILE_PATH_MAX 512 /* bytes, without the NUL */
#endif

struct hal_file {
    int fd;
    uint64_t size;    /* bytes, at open */
    uint64_t pos;     /* next byte hal_file_read() returns */
    const char *kind; /* after -EINVAL: what the path is; else NULL */
};

/* Open path for reading; see above.  On success f->size is set and
 * f->pos is 0. */
int hal_file_open(struct hal_file *f, const char *path);

/* Read the next bytes: min(len, size - pos) of them, all of them unless
 * the file shrank.  Returns the count (at most 1 GiB per call), 0 at
 * f->size, or -EIO. */
int hal_file_read(struct hal_file *f, void *buf, size_t len);

/* Read exactly len bytes at off (pos is unchanged).  Returns 0, -EINVAL
 * when [off, off + len) is not inside f->size, or -EIO. */
int hal_file_read_at(struct hal_file *f, uint64_t off, void *buf, size_t len);

void hal_file_close(struct hal_file *f);

struct hal_file_new {
    int fd;
    uint64_t size;    /* bytes written so far */
    const char *kind; /* after -EINVAL: what the path is; else NULL */
    char path[HAL_FILE_PATH_MAX + 1]; /* the file replaced */
    char tmp[HAL_FILE_PATH_MAX + 32]; /* the temporary file beside it */
};

/* Start replacing (or creating) path; see above. */
int hal_file_create(struct hal_file_new *w, const char *path);

/* Append len bytes.  Returns 0 or a negative errno (-ENOSPC, -EIO); the
 * caller then aborts. */
int hal_file_write(struct hal_file_new *w, const void *buf, size_t len);

/* Make the new file durable and put it in place.  Returns 0, or a
 * negative errno with the path unchanged and the temporary file gone. */
int hal_file_commit(struct hal_file_new *w);

/* Give up: the temporary file is removed, the path unchanged. */
void hal_file_abort(struct hal_file_new *w);

#endif
