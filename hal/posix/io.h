/*
 * hal/posix/io.h - what the POSIX backends share: writing a whole
 * buffer to a descriptor.  Internal to hal/ (not a HAL interface).
 */
#ifndef HAL_POSIX_IO_H
#define HAL_POSIX_IO_H

#include <stddef.h>

/* Write all len bytes to fd, going on after short writes and EINTR.
 * 0, or a negative errno (-EIO when the descriptor takes nothing). */
int posix_write_all(int fd, const void *buf, size_t len);

#endif
