/*
 * hal/posix/poll.c - hal_poll() with poll(2), for every board on Linux.
 *
 * The console's input fd is c->h[0] (hal/sim/console.c); the link's is
 * n->h.  A link whose handle is -1 (a simwire port while the hub is
 * away) is not waited on: the event loop still wakes on its timeout
 * (lwIP's timers), which is when the backend tries to attach again.
 */
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "hal/poll.h"

static int64_t
poll_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
hal_poll(struct hal_console *c, struct hal_net *n, int timeout_ms)
{
    struct pollfd p[2];
    int con = -1, net = -1, k = 0, r;
    int64_t end = timeout_ms > 0 ? poll_now_ms() + timeout_ms : 0;
    unsigned mask = 0;

    if (c != NULL && c->ops != NULL && (int)c->h[0] >= 0) {
        p[k].fd = (int)c->h[0];
        p[k].events = POLLIN;
        con = k++;
    }
    if (n != NULL && n->ops != NULL && (int)n->h >= 0) {
        p[k].fd = (int)n->h;
        p[k].events = POLLIN;
        net = k++;
    }
    for (;;) {
        r = poll(p, (nfds_t)k, timeout_ms);
        if (r >= 0)
            break;
        if (errno != EINTR)
            return -errno;
        /* A signal: wait out what is left of the timeout, no more. */
        if (timeout_ms > 0) {
            int64_t left = end - poll_now_ms();

            timeout_ms = left > 0 ? (int)left : 0;
        }
    }
    /* A handle that is not open is the caller's bug; say so rather
     * than spin.  Hang-up and errors count as readable: the console's
     * read then reports end of input, the link's recv notices the hub
     * is gone or takes the socket's error. */
    for (int i = 0; i < k; i++)
        if (p[i].revents & POLLNVAL)
            return -EBADF;
    if (con >= 0 && (p[con].revents & (POLLIN | POLLHUP | POLLERR)))
        mask |= HAL_POLL_CONSOLE;
    if (net >= 0 && (p[net].revents & (POLLIN | POLLHUP | POLLERR)))
        mask |= HAL_POLL_NET;
    return (int)mask;
}
