/*
 * update/archive.h - the slot payload: a small archive of files (the
 * keel binary and rootfs files), written by keel-bundle and unpacked by
 * keel-boot into a private directory.  The unpacker only parses: the
 * files are made through a sink, so the format is tested without a file
 * system and the OS is reached only through the HAL.
 *
 * Format (docs/FORMAT.md): "KAR1", u32 count, then per file u16 path
 * length, u16 mode, u64 size, the path, the bytes.  Paths are relative,
 * made of [A-Za-z0-9._-] components separated by single '/', with no
 * "." or ".." component; modes are 0644 or 0755.  The archive is
 * verified (chunk hashes) before it is unpacked, and the unpacker checks
 * every field again anyway.
 */
#ifndef UPDATE_ARCHIVE_H
#define UPDATE_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#define KAR_FILES_MAX 256
#define KAR_PATH_MAX 200

/* A reader of the archive bytes: read len bytes at off; 0 or < 0. */
struct kar_src {
    int (*read)(void *arg, uint64_t off, void *buf, size_t len);
    void *arg;
    uint64_t size;
};

/* Where the files go (keel-boot: hal/os.h's files under a fresh
 * directory; tests: memory).
 *  create: a new file at path (passed kar_path_ok) with mode 0644 or
 *          0755, its missing directories made; a handle >= 0, -EEXIST
 *          when path conflicts with what is there (a file twice, a file
 *          where a directory is needed: the archive's fault), other < 0
 *          (the target's fault);
 *  write:  all len bytes, 0 or < 0;
 *  close:  0 or < 0. */
struct kar_sink {
    int (*create)(void *arg, const char *path, uint32_t mode);
    int (*write)(void *arg, int h, const void *buf, size_t len);
    int (*close)(void *arg, int h);
    void *arg;
};

int kar_path_ok(const char *p, size_t n);

/* Unpack src into dst, copying file bytes through the caller's buf (cap
 * bytes, any size; keel-boot lends its chunk buffer).  Returns the file
 * count, or with *why set:
 * -EBADMSG when the archive is at fault (malformed, paths in conflict,
 * trailing bytes), -EIO when src cannot be read, or the sink's error
 * when the target is at fault. */
int kar_extract(const struct kar_src *src, const struct kar_sink *dst,
                uint8_t *buf, size_t cap, const char **why);

#endif
