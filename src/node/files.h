/*
 * node/files.h - the host files of console commands, through hal/file.h,
 * with the messages an operator reads.
 *
 * Every function returns 0 (or a size) or a negative errno, and on an
 * error writes one phrase into why (cap bytes) naming the path and the
 * problem, e.g. "'x' is a FIFO (named pipe), not a regular file"; the
 * command puts its name before it and, where it matters, what it did not
 * do after it.  Only regular files are read (hal/file.h says why), so
 * no command waits on a FIFO, a device or a slow writer.
 */
#ifndef NODE_FILES_H
#define NODE_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "hal/file.h"

#define NODE_FILE_ANY UINT64_MAX /* no size limit */

/* Open path for reading, refusing a file of more than max bytes before
 * reading any (-EFBIG; what names the kind of file in the message: "key
 * file" gives "larger than any key file keel accepts").  Close it with
 * hal_file_close(). */
int node_file_open(struct hal_file *f, const char *path, uint64_t max,
                   const char *what, char *why, size_t cap);

/* Read a whole file of at most cap bytes into buf.  Returns its size. */
int node_file_load(const char *path, void *buf, size_t cap, const char *what,
                   char *why, size_t wcap);

/* Start replacing path (hal_file_create()); then hal_file_write(),
 * hal_file_commit() or hal_file_abort(). */
int node_file_create(struct hal_file_new *w, const char *path, char *why,
                     size_t cap);

/* Replace path with the n bytes at p, all or nothing. */
int node_file_save(const char *path, const void *p, size_t n, char *why,
                   size_t cap);

#endif
