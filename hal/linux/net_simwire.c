/*
 * hal/linux/net_simwire.c - a port on keel-wire, the user-space Ethernet
 * hub (src/tools/keel-wire.c), over a Unix SOCK_SEQPACKET socket.
 *
 * The wire protocol is the hub's: the first message is the hello
 * "KWIRE1 NAME", every later message one Ethernet frame, both ways.
 * Everything the port needs to attach again lives in the caller's
 * struct hal_net: n->name holds "PATH,port=NAME" and priv[] the rest,
 * so any number of ports can be open in one process (the tests attach
 * three) without a static table.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "linux/net_backend.h"

/* priv[] slots */
#define SW_UP 0       /* 1: attached to the hub */
#define SW_LAST_TRY 1 /* monotonic ms of the last attach attempt */
#define SW_NAME_OFF 2 /* where NAME starts in n->name */
#define SW_PATH_LEN 3 /* PATH's length in n->name */
#define SW_RETRY_MS 1000
#define SW_RECV_BURST 64 /* dropped frames skipped in one recv call */
#define SW_ETH_HDR 14

/* Milliseconds, modulo 2^32: priv[] is 32 bits wide on armhf, and only
 * differences of a few seconds are taken. */
static uint32_t
sw_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u +
                      (uint64_t)ts.tv_nsec / 1000000u);
}

static int
sw_attach(struct hal_net *n)
{
    struct sockaddr_un sa;
    char hello[8 + HAL_SIMWIRE_PORT_MAX];
    size_t plen = (size_t)n->priv[SW_PATH_LEN];
    int fd, len, e;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, n->name, plen); /* plen < sizeof(n->name) < 108 */
    /* Non-blocking from the start: on a Unix socket connect() completes
     * at once or fails with EAGAIN (the hub's backlog is full), so a
     * re-attach from the event loop never waits. */
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        e = -errno;
        close(fd);
        return e;
    }
    len = snprintf(hello, sizeof(hello), "KWIRE1 %s",
                   n->name + n->priv[SW_NAME_OFF]);
    if (send(fd, hello, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) != len) {
        e = errno != 0 ? -errno : -EIO;
        close(fd);
        return e;
    }
    n->h = fd;
    n->priv[SW_UP] = 1;
    return 0;
}

static void
sw_detach(struct hal_net *n)
{
    if (n->priv[SW_UP])
        close((int)n->h);
    n->h = -1;
    n->priv[SW_UP] = 0;
    n->priv[SW_LAST_TRY] = (intptr_t)sw_now_ms();
}

/* Detached: try again once SW_RETRY_MS has passed since the last try. */
static void
sw_retry(struct hal_net *n)
{
    uint32_t now;

    if (n->priv[SW_UP])
        return;
    now = sw_now_ms();
    if (now - (uint32_t)n->priv[SW_LAST_TRY] < SW_RETRY_MS)
        return;
    n->priv[SW_LAST_TRY] = (intptr_t)now;
    if (sw_attach(n) == 0)
        n->st.reconnects++;
}

static int
sw_gone(int e)
{
    return e == ECONNRESET || e == EPIPE || e == ENOTCONN;
}

static int
sw_send(struct hal_net *n, const void *frame, size_t len)
{
    ssize_t r;

    if (len < SW_ETH_HDR)
        return -EINVAL;
    if (len > HAL_NET_FRAME_MAX)
        return -EMSGSIZE;
    sw_retry(n);
    if (!n->priv[SW_UP]) {
        n->st.tx_dropped++;
        return 0;
    }
    r = send((int)n->h, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r == (ssize_t)len) {
        n->st.tx_frames++;
        n->st.tx_bytes += len;
        return 0;
    }
    if (r >= 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ||
        errno == EINTR) {
        n->st.tx_dropped++;
        return 0;
    }
    if (sw_gone(errno)) {
        sw_detach(n);
        n->st.tx_dropped++;
        return 0;
    }
    return -errno;
}

static int
sw_recv(struct hal_net *n, void *frame, size_t cap)
{
    sw_retry(n);
    for (int i = 0; i < SW_RECV_BURST && n->priv[SW_UP]; i++) {
        /* MSG_TRUNC: the message's real length, so that one over cap is
         * seen and dropped, never passed on cut short. */
        ssize_t r = recv((int)n->h, frame, cap, MSG_DONTWAIT | MSG_TRUNC);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (sw_gone(errno)) {
                sw_detach(n);
                return 0;
            }
            return -errno;
        }
        if (r == 0) { /* the hub closed the port */
            sw_detach(n);
            return 0;
        }
        if (hal_net_rx_take(n, (size_t)r, cap))
            return (int)r;
    }
    return 0;
}

static int
sw_link(struct hal_net *n)
{
    sw_retry(n);
    if (n->priv[SW_UP]) {
        struct pollfd p = {.fd = (int)n->h, .events = POLLIN};
        char c;

        /* A closed peer reads as readable and hung up; it is gone only
         * once the frames it left are read. */
        if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR))) {
            ssize_t r = recv((int)n->h, &c, 1, MSG_DONTWAIT | MSG_PEEK);

            if (r == 0 || (r < 0 && sw_gone(errno)))
                sw_detach(n);
        }
    }
    return n->priv[SW_UP] ? 1 : 0;
}

static void
sw_close(struct hal_net *n)
{
    if (n->priv[SW_UP])
        close((int)n->h);
    n->h = -1;
    n->priv[SW_UP] = 0;
}

static const struct hal_net_ops sw_ops = {
    .send = sw_send,
    .recv = sw_recv,
    .link = sw_link,
    .close = sw_close,
};

static int
sw_port_ok(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return i >= 1 && i <= HAL_SIMWIRE_PORT_MAX;
}

/* "key=..." after the last comma is an option; anything else there is
 * part of the path. */
static int
sw_is_option(const char *s)
{
    size_t i = 0;

    while (s[i] >= 'a' && s[i] <= 'z')
        i++;
    return i > 0 && s[i] == '=';
}

/* FNV-1a, 64 bits: the MAC's five free bytes. */
static void
sw_mac(uint8_t mac[6], const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; *name != '\0'; name++) {
        h ^= (uint8_t)*name;
        h *= 0x100000001b3ull;
    }
    mac[0] = 0x02; /* locally administered, unicast */
    for (int i = 1; i < 6; i++)
        mac[i] = (uint8_t)(h >> (8 * (i - 1)));
}

static const char *
sw_why(int e)
{
    switch (e) {
    case -ENOENT:
        return "no hub socket at that path: start build/tools/keel-wire "
               "PATH first";
    case -ECONNREFUSED:
        return "nothing listens at that path (a hub that died?): start "
               "keel-wire there again";
    case -EAGAIN:
        return "the hub is not taking new ports now: try again";
    case -EPIPE:
    case -ECONNRESET:
        return "the hub closed the port at once: it is full (--max-ports) "
               "or the port name is taken";
    case -ENOTSOCK:
    case -EPROTOTYPE:
        return "that path is not a keel-wire socket";
    default:
        return "cannot connect to the hub at that path";
    }
}

int
hal_net_open_simwire(struct hal_net *n, const char *arg, const char **why)
{
    const char *comma = strrchr(arg, ',');
    const char *port = NULL;
    size_t plen = strlen(arg);
    char def[24];
    int rc;

    memset(n, 0, sizeof(*n));
    n->h = -1;
    *why = "";
    if (comma != NULL && sw_is_option(comma + 1)) {
        if (strncmp(comma + 1, "port=", 5) != 0) {
            *why = "unknown simwire option: the form is "
                   "simwire:PATH[,port=NAME]";
            return -EINVAL;
        }
        port = comma + 6;
        plen = (size_t)(comma - arg);
    }
    if (port == NULL) {
        snprintf(def, sizeof(def), "p%ld", (long)getpid());
        port = def;
    }
    if (plen == 0) {
        *why = "simwire needs the hub's socket path: "
               "simwire:PATH[,port=NAME]";
        return -EINVAL;
    }
    if (!sw_port_ok(port)) {
        *why = "a simwire port name is 1 to 32 letters, digits, '.', '_' "
               "or '-'";
        return -EINVAL;
    }
    if (plen + 6 + strlen(port) >= sizeof(n->name)) {
        *why = "the simwire socket path is too long (PATH,port=NAME must "
               "fit in 95 bytes)";
        return -ENAMETOOLONG;
    }
    memcpy(n->name, arg, plen);
    snprintf(n->name + plen, sizeof(n->name) - plen, ",port=%s", port);
    n->priv[SW_PATH_LEN] = (intptr_t)plen;
    n->priv[SW_NAME_OFF] = (intptr_t)(plen + 6);
    rc = sw_attach(n);
    if (rc < 0) {
        *why = sw_why(rc);
        n->h = -1;
        return rc;
    }
    n->priv[SW_LAST_TRY] = (intptr_t)sw_now_ms();
    sw_mac(n->mac, port);
    n->kind = "simwire";
    n->dhcp_default = 0;
    n->ops = &sw_ops;
    return 0;
}
