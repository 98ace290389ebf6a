/*
 * hal/os.h - what stage 1 (keel-boot) asks of the operating system: a
 * private work directory, files unpacked into it, clearing it again, and
 * running the node.
 *
 * No shell is involved anywhere: keel-boot runs as /init on boards whose
 * image has none, and a path given here is only ever a path (quotes,
 * spaces and semicolons are characters of a name).  A path longer than
 * HAL_OS_PATH_MAX - 1 bytes is refused with -ENAMETOOLONG, never cut.
 * Every function returns 0 (or a handle >= 0) on success and a negative
 * errno value on failure.  Handles are the backend's; close each once.
 *
 * Backend: hal/linux/os.c (Linux *at() system calls; used by the sim
 * board and the Linux boards alike).  No malloc.
 */
#ifndef HAL_OS_H
#define HAL_OS_H

#include <stddef.h>

#define HAL_OS_PATH_MAX 4096
#define HAL_OS_TREE_DEPTH 128 /* directory levels a removal descends */

/* Create directory path (mode 0700).  0 also when it exists as a
 * directory (or a link to one: the caller chose the path); -ENOTDIR when
 * it exists as something else. */
int hal_os_mkdir(const char *path);

/* Remove name, one path component, in directory dir, and everything
 * under it.  A symbolic link is removed, never followed; a directory on
 * another file system (a mount point) is -EXDEV; more than
 * HAL_OS_TREE_DEPTH levels is -ELOOP; name "", ".", ".." or with a '/'
 * is -EINVAL.  0 also when name does not exist.  On an error part of
 * the tree may be gone, nothing outside it.  Meant for the small trees
 * of an unpacked slot: each directory is re-read after every removal. */
int hal_os_tree_remove(const char *dir, const char *name);

/* Open directory path for hal_os_file_create(); close with
 * hal_os_close().  A handle, or < 0. */
int hal_os_dir_open(const char *path);

/* Create rel under directory handle d for writing, with its missing
 * parent directories (0755), and give it mode (permission bits; the
 * umask does not apply).  rel is a relative path of plain components
 * separated by single '/' (the caller checks: kar_path_ok).  Nothing is
 * followed: a link on the way, an existing file at rel, or a file where
 * a directory is needed is -EEXIST.  A handle, or < 0. */
int hal_os_file_create(int d, const char *rel, unsigned mode);

/* Write all len bytes to a handle of hal_os_file_create().  0 or < 0. */
int hal_os_file_write(int h, const void *buf, size_t len);

/* Close a file or directory handle.  0, or < 0 (for a file: what was
 * written may not all have reached the disk). */
int hal_os_close(int h);

struct hal_os_exit {
    int signal; /* the signal that ended the program, or 0 */
    int status; /* its exit status, when signal is 0 */
};

/* Run the program at path prog with arguments argv (argv[0] first,
 * NULL-terminated) and this process's environment plus env
 * ("NAME=value" strings, NULL-terminated; may be NULL), and wait until
 * it ends.  0 with *ex set, or < 0 when it could not be started; a
 * program that cannot be executed ends with status 127 after a line on
 * the error stream. */
int hal_os_run(const char *prog, char *const argv[], char *const env[],
               struct hal_os_exit *ex);

#endif
