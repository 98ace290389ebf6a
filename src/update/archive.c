/*
 * update/archive.c - parse and unpack a slot's archive into a sink
 * (keel-boot), check archive paths (keel-bundle too).
 */
#include <errno.h>
#include <string.h>

#include "lib/le.h"
#include "update/archive.h"

int
kar_path_ok(const char *p, size_t n)
{
    size_t start = 0;

    if (n == 0 || n > KAR_PATH_MAX || p[0] == '/' || p[n - 1] == '/')
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '/') {
            size_t l = i - start;

            if (l == 0 || (l == 1 && p[start] == '.') ||
                (l == 2 && p[start] == '.' && p[start + 1] == '.'))
                return 0;
            start = i + 1;
            continue;
        }
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              (p[i] >= '0' && p[i] <= '9') || p[i] == '.' || p[i] == '_' ||
              p[i] == '-'))
            return 0;
    }
    return 1;
}

int
kar_extract(const struct kar_src *src, const struct kar_sink *dst, uint8_t *buf,
            size_t cap, const char **why)
{
    uint8_t h[12];
    uint64_t off = 8;
    uint32_t count;
    int rc = 0, n;

    *why = "";
    if (buf == NULL || cap == 0) {
        *why = "no buffer";
        return -EINVAL;
    }
    if (src->size < 8 || src->read(src->arg, 0, h, 8) != 0 ||
        memcmp(h, "KAR1", 4) != 0) {
        *why = "payload is not a keel archive";
        return -EBADMSG;
    }
    count = lib_le32(h + 4);
    if (count == 0 || count > KAR_FILES_MAX) {
        *why = "archive file count out of range";
        return -EBADMSG;
    }
    for (n = 0; n < (int)count; n++) {
        char path[KAR_PATH_MAX + 1];
        uint32_t plen, mode;
        uint64_t size;
        int fh;

        if (off + 12 > src->size || src->read(src->arg, off, h, 12) != 0) {
            *why = "archive truncated in an entry header";
            return -EBADMSG;
        }
        plen = lib_le16(h);
        mode = lib_le16(h + 2);
        size = (uint64_t)lib_le32(h + 4) | (uint64_t)lib_le32(h + 8) << 32;
        off += 12;
        if (plen == 0 || plen > KAR_PATH_MAX ||
            (mode != 0644 && mode != 0755) || off + plen > src->size ||
            size > src->size - off - plen ||
            src->read(src->arg, off, path, plen) != 0) {
            *why = "archive entry malformed";
            return -EBADMSG;
        }
        path[plen] = '\0';
        if (!kar_path_ok(path, plen)) {
            *why = "archive path not allowed (absolute, '..' or odd "
                   "characters)";
            return -EBADMSG;
        }
        off += plen;
        fh = dst->create(dst->arg, path, mode);
        if (fh == -EEXIST) {
            *why = "archive paths conflict (a file twice, or a file "
                   "where a directory is needed)";
            return -EBADMSG;
        }
        if (fh < 0) {
            *why = "cannot create a file";
            return fh;
        }
        while (size > 0 && rc == 0) {
            size_t l = size < cap ? (size_t)size : cap;

            if (src->read(src->arg, off, buf, l) != 0) {
                *why = "archive unreadable";
                rc = -EIO;
            } else if ((rc = dst->write(dst->arg, fh, buf, l)) != 0) {
                *why = "cannot write a file";
            }
            off += l;
            size -= l;
        }
        if (dst->close(dst->arg, fh) != 0 && rc == 0) {
            *why = "cannot write a file";
            rc = -EIO;
        }
        if (rc != 0)
            return rc;
    }
    if (off != src->size) {
        *why = "archive has trailing bytes";
        return -EBADMSG;
    }
    return n;
}
