/*
 * update/archive.h - the slot payload: a small archive of files (the
 * keel binary and rootfs files), written by keel-bundle and unpacked by
 * keel-boot into a private directory.
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

int kar_path_ok(const char *p, size_t n);

/* Unpack into dir (which must exist).  Returns the file count or < 0
 * with *why set. */
int kar_extract(const struct kar_src *src, const char *dir, const char **why);

#endif
