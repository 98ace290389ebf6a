/*
 * hal/console.h - the operator's byte stream.
 *
 * A console is a pair of file-like byte streams (stdio, a pty or a tty
 * such as /dev/ttyS0).  On a terminal the backend switches to raw mode
 * (no echo, no line discipline: the line editor above does that) and
 * restores the previous mode on close; on a pipe or file it stays in
 * line mode and the node reads commands line by line.
 *
 * All calls return >= 0 (a count) or a negative errno value.
 */
#ifndef HAL_CONSOLE_H
#define HAL_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct hal_console;

struct hal_console_ops {
    /* Wait up to timeout_ms (0: do not wait, < 0: forever) for input and
     * read at most len bytes.  Returns the count, 0 when nothing arrived
     * in time, -EPIPE at end of input. */
    int (*read)(struct hal_console *c, void *buf, size_t len, int timeout_ms);
    /* Write all len bytes (blocking).  Returns len or a negative errno. */
    int (*write)(struct hal_console *c, const void *buf, size_t len);
    void (*close)(struct hal_console *c);
    /* 1: an 8-bit clean line for a file transfer (no output processing:
     * "\n" is not turned into CR LF); 0: back to the console's mode.
     * Returns 0 or a negative errno. */
    int (*binary)(struct hal_console *c, int on);
};

struct hal_console {
    const struct hal_console_ops *ops;
    int interactive;  /* 1: a terminal in raw mode, 0: line mode */
    intptr_t h[2];    /* the backend's own handles (sim: input, output fd) */
    const char *path; /* what the console is attached to, for banners */
};

/* Open the console.  path NULL or "-" means stdio; "pty" allocates a new
 * pseudo-terminal and reports its name in c->path; anything else is a tty
 * or fifo path.  Returns 0 or a negative errno. */
int hal_console_open(struct hal_console *c, const char *path);

static inline int
hal_console_read(struct hal_console *c, void *buf, size_t len, int timeout)
{
    return c->ops->read(c, buf, len, timeout);
}

static inline int
hal_console_write(struct hal_console *c, const void *buf, size_t len)
{
    return c->ops->write(c, buf, len);
}

static inline int
hal_console_binary(struct hal_console *c, int on)
{
    return c->ops->binary != NULL ? c->ops->binary(c, on) : 0;
}

static inline void
hal_console_close(struct hal_console *c)
{
    c->ops->close(c);
}

#endif
