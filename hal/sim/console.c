/*
 * hal/sim/console.c - the console on stdio, a new pty, or a tty path.
 *
 * A terminal is put in raw mode (no echo, no line discipline, no signals:
 * Ctrl-C arrives as a byte for the line editor) with output processing
 * kept, so "\n" still reaches the terminal as CR LF.  The previous mode
 * is restored on close.  Anything that is not a terminal is line mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "hal/console.h"

static struct termios con_saved;
static int con_saved_fd = -1;
static char con_pty_name[64];

static int
con_read(struct hal_console *c, void *buf, size_t len, int timeout_ms)
{
    struct pollfd p = {.fd = (int)c->h[0], .events = POLLIN};
    ssize_t n;
    int r;

    do {
        r = poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    if (r == 0)
        return 0;
    do {
        n = read((int)c->h[0], buf, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        /* A pty whose other side is closed reads EIO: end of input. */
        return errno == EIO ? -EPIPE : -errno;
    if (n == 0)
        return -EPIPE;
    return (int)n;
}

static int
con_write(struct hal_console *c, const void *buf, size_t len)
{
    const char *p = buf;
    size_t left = len;

    while (left > 0) {
        ssize_t n = write((int)c->h[1], p, left);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pf = {.fd = (int)c->h[1], .events = POLLOUT};

                poll(&pf, 1, 100);
                continue;
            }
            return -errno;
        }
        p += n;
        left -= (size_t)n;
    }
    return (int)len;
}

static void
con_restore(void)
{
    if (con_saved_fd >= 0) {
        tcsetattr(con_saved_fd, TCSAFLUSH, &con_saved);
        con_saved_fd = -1;
    }
}

static void
con_close(struct hal_console *c)
{
    con_restore();
    if ((int)c->h[0] > 2)
        close((int)c->h[0]);
    if ((int)c->h[1] > 2 && (int)c->h[1] != (int)c->h[0])
        close((int)c->h[1]);
    c->h[0] = c->h[1] = -1;
}

/* Output processing off while a transfer runs, on the output side when
 * it is a terminal (a pipe or file passes bytes as they are). */
static int
con_binary(struct hal_console *c, int on)
{
    int fd = (int)c->h[1];
    struct termios t;

    if (!isatty(fd))
        return 0;
    if (tcgetattr(fd, &t) < 0)
        return -errno;
    if (on)
        t.c_oflag &= ~(tcflag_t)OPOST;
    else
        t.c_oflag |= OPOST | ONLCR;
    return tcsetattr(fd, TCSADRAIN, &t) < 0 ? -errno : 0;
}

static const struct hal_console_ops con_ops = {
    .read = con_read,
    .write = con_write,
    .close = con_close,
    .binary = con_binary,
};

static int
con_raw(int fd)
{
    struct termios t;

    if (tcgetattr(fd, &t) < 0)
        return -errno;
    con_saved = t;
    con_saved_fd = fd;
    atexit(con_restore);
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
                             ICRNL | IXON);
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_oflag |= OPOST | ONLCR;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSAFLUSH, &t) < 0)
        return -errno;
    return 0;
}

static int
con_open_pty(struct hal_console *c)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY), s;
    const char *name;

    if (m < 0)
        return -errno;
    if (grantpt(m) < 0 || unlockpt(m) < 0 || (name = ptsname(m)) == NULL) {
        int e = -errno;

        close(m);
        return e;
    }
    strncpy(con_pty_name, name, sizeof(con_pty_name) - 1);
    /* Set the slave's line discipline to raw once; the operator's
     * terminal program (screen, picocom) keeps it that way. */
    s = open(con_pty_name, O_RDWR | O_NOCTTY);
    if (s >= 0) {
        struct termios t;

        if (tcgetattr(s, &t) == 0) {
            cfmakeraw(&t);
            tcsetattr(s, TCSANOW, &t);
        }
        close(s);
    }
    c->h[0] = c->h[1] = m;
    c->interactive = 1;
    c->path = con_pty_name;
    return 0;
}

int
hal_console_open(struct hal_console *c, const char *path)
{
    memset(c, 0, sizeof(*c));
    c->ops = &con_ops;
    if (path == NULL || strcmp(path, "-") == 0) {
        c->h[0] = STDIN_FILENO;
        c->h[1] = STDOUT_FILENO;
        c->path = "stdio";
    } else if (strcmp(path, "pty") == 0) {
        return con_open_pty(c);
    } else {
        int fd = open(path, O_RDWR | O_NOCTTY);

        if (fd < 0)
            return -errno;
        c->h[0] = c->h[1] = fd;
        c->path = path;
    }
    c->interactive = isatty((int)c->h[0]) && con_raw((int)c->h[0]) == 0;
    return 0;
}
