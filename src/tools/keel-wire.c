/*
 * tools/keel-wire.c - simwire: a user-space Ethernet switch for keel
 * nodes on one machine, with faults to order.
 *
 *   keel-wire [--drop PCT] [--dup PCT] [--reorder PCT] [--delay MS]
 *             [--seed N] [--max-ports N] [--pidfile FILE] PATH.sock
 *
 * Nodes attach to PATH.sock, a Unix SOCK_SEQPACKET socket
 * (hal/linux/net_simwire.c): the first message is the hello
 * "KWIRE1 NAME", every later one an Ethernet frame of 14 to 1514 bytes
 * (others are dropped and counted).  The hub learns source MACs per
 * port, sends unicast to the port that owns the destination and floods
 * the rest (broadcast, multicast, unknown) to every other port.
 *
 * Faults apply to each copy of a frame on its way to one port, in this
 * order: partition, drop, dup, then delay (a FIFO of at most
 * KW_DELAY_MAX frames) and reorder (a frame held back until the next
 * one to that port, or KW_HOLD_MS).  They are set on the command line
 * and at run time on PATH.sock.ctl, a SOCK_STREAM socket taking one
 * command per line and answering each with one line, "ok ..." or
 * "error ...": drop PCT, dup PCT, reorder PCT, delay MS, seed N,
 * partition A,B C,D ..., heal, clear, faults, stats, ports, quit.
 *
 * Partitions: each argument of "partition" is a group of port names
 * joined by commas; ports in different groups exchange nothing.  Every
 * port named in no group (attached now or later) is in one more group,
 * together with the other unnamed ones.
 *
 * One thread, one ppoll(2) loop, nothing blocks: a port whose socket is
 * full has its frames wait in order (KW_OUTQ at most, then they are lost
 * and counted), a port that goes away is removed and its MACs
 * forgotten.  Every table is bounded.  SIGTERM and SIGINT end
 * the hub cleanly; both sockets (and the pid file) are removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hal/net.h"
#include "linux/net_backend.h"

#define KW_FRAME_MIN 14
#define KW_PORTS_MAX 1024 /* the largest --max-ports */
#define KW_PORTS_DEFAULT 64
#define KW_MACS 16        /* MACs learned per port (the oldest goes) */
#define KW_DELAY_MAX 4096 /* frames the delay queue holds */
#define KW_DELAY_MS_MAX 60000
#define KW_HOLD_MS 1000    /* a frame held for reorder waits no longer */
#define KW_HELLO_MS 5000   /* a new port says hello within this */
#define KW_BURST 64        /* frames read from one port per turn */
#define KW_OUTQ 128        /* frames waiting for a port whose socket is full */
#define KW_CTL_MAX 8       /* control connections */
#define KW_LINE_MAX 1024   /* a control line */
#define KW_REPLY_MAX 65536 /* a control reply (ports with their MACs) */
#define KW_PART_MAX 256    /* names in a partition */
#define KW_HELLO "KWIRE1 "

struct kw_frame {
    uint16_t len;
    uint8_t b[HAL_NET_FRAME_MAX];
};

struct kw_port {
    int fd;       /* -1: a free slot */
    int attached; /* the hello was taken */
    int dead;     /* to be removed at the end of this turn */
    uint64_t id;  /* unique per connection: delayed frames name it */
    int64_t since;
    char name[HAL_SIMWIRE_PORT_MAX + 1];
    uint8_t mac[KW_MACS][6];
    int nmac;
    int held; /* 1: hold is a frame held back for reorder */
    int64_t held_at;
    struct kw_frame hold;
    /* frames its socket had no room for, in order (allocated when first
     * needed, KW_OUTQ at most) */
    struct kw_frame *outq;
    unsigned oq_head, oq_len;
};

struct kw_delayed {
    int64_t due;
    uint64_t port;
    struct kw_frame f;
};

struct kw_ctl {
    int fd;
    int skipping; /* an overlong line: drop bytes up to its end */
    size_t len;
    char buf[KW_LINE_MAX];
};

struct kw_part {
    char name[HAL_SIMWIRE_PORT_MAX + 1];
    int group; /* 1, 2, ...: the argument it was named in */
};

struct kw_stats {
    uint64_t in, forwarded, duplicated, reordered, delayed, refused;
    uint64_t filtered; /* unicast to a MAC on the port it came from */
    uint64_t d_size, d_fault, d_partition, d_slow, d_queue, d_gone;
};

struct kw {
    int lfd, cfd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    const char *pidfile;
    int max_ports;
    struct kw_port *ports;
    uint64_t next_id;
    struct kw_ctl ctl[KW_CTL_MAX];
    /* faults */
    double drop, dup, reorder;
    int delay_ms;
    uint64_t seed, rng;
    int nparts; /* 0: no partition */
    struct kw_part part[KW_PART_MAX];
    /* the delay queue: a ring */
    struct kw_delayed *dq;
    size_t dq_head, dq_len;
    struct kw_stats st;
    int stop;
};

static volatile sig_atomic_t kw_signal;

static void
kw_on_signal(int sig)
{
    kw_signal = sig;
}

static int64_t
kw_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- numbers and names --------------------------------------------------- */

/* splitmix64: small, and the same sequence for the same seed anywhere. */
static uint64_t
kw_rand(struct kw *w)
{
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* 1 with probability pct percent. */
static int
kw_chance(struct kw *w, double pct)
{
    if (pct <= 0)
        return 0;
    return (double)(kw_rand(w) >> 11) * 0x1.0p-53 * 100.0 < pct;
}

/* Plain decimal digits, at most max: 0 or -EINVAL. */
static int
kw_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -EINVAL;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        if (v > (max - (uint64_t)(*s - '0')) / 10)
            return -EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* A share in percent: digits with an optional fraction, 0 to 100. */
static int
kw_parse_pct(const char *s, double *out)
{
    const char *p = s;
    char *end;
    double v;

    while (*p >= '0' && *p <= '9')
        p++;
    if (p == s)
        return -EINVAL;
    if (*p == '.') {
        const char *f = ++p;

        while (*p >= '0' && *p <= '9')
            p++;
        if (p == f)
            return -EINVAL;
    }
    if (*p != '\0')
        return -EINVAL;
    v = strtod(s, &end);
    if (*end != '\0' || !(v >= 0 && v <= 100))
        return -EINVAL;
    *out = v;
    return 0;
}

static int
kw_name_ok(const char *s, size_t len)
{
    if (len < 1 || len > HAL_SIMWIRE_PORT_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* ---- ports --------------------------------------------------------------- */

static struct kw_port *
kw_port_by_id(struct kw *w, uint64_t id)
{
    for (int i = 0; i < w->max_ports; i++)
        if (w->ports[i].fd >= 0 && w->ports[i].id == id)
            return &w->ports[i];
    return NULL;
}

static int
kw_nports(struct kw *w)
{
    int k = 0;

    for (int i = 0; i < w->max_ports; i++)
        k += w->ports[i].fd >= 0 && w->ports[i].attached;
    return k;
}

static void
kw_port_free(struct kw *w, struct kw_port *p, const char *why)
{
    if (p->attached)
        fprintf(stderr, "keel-wire: port %s detached (%s), %d left\n", p->name,
                why, kw_nports(w) - 1);
    if (p->held)
        w->st.d_gone++;
    w->st.d_gone += p->oq_len;
    free(p->outq);
    close(p->fd);
    memset(p, 0, sizeof(*p));
    p->fd = -1;
}

/* The port that owns mac, or NULL. */
static struct kw_port *
kw_lookup(struct kw *w, const uint8_t mac[6])
{
    for (int i = 0; i < w->max_ports; i++) {
        struct kw_port *p = &w->ports[i];

        if (p->fd < 0 || !p->attached || p->dead)
            continue;
        for (int j = 0; j < p->nmac; j++)
            if (memcmp(p->mac[j], mac, 6) == 0)
                return p;
    }
    return NULL;
}

static void
kw_learn(struct kw *w, struct kw_port *p, const uint8_t mac[6])
{
    struct kw_port *o;

    if (mac[0] & 1) /* a multicast source is nobody's address */
        return;
    o = kw_lookup(w, mac);
    if (o == p)
        return;
    if (o != NULL) { /* it moved: forget it there */
        for (int j = 0; j < o->nmac; j++)
            if (memcmp(o->mac[j], mac, 6) == 0) {
                memmove(o->mac[j], o->mac[j + 1],
                        (size_t)(o->nmac - j - 1) * 6);
                o->nmac--;
                break;
            }
    }
    if (p->nmac == KW_MACS) { /* full: the oldest goes */
        memmove(p->mac[0], p->mac[1], (size_t)(KW_MACS - 1) * 6);
        p->nmac--;
    }
    memcpy(p->mac[p->nmac++], mac, 6);
}

/* The port's partition group: 0 for every port named in no group. */
static int
kw_group(struct kw *w, const struct kw_port *p)
{
    for (int i = 0; i < w->nparts; i++)
        if (strcmp(w->part[i].name, p->name) == 0)
            return w->part[i].group;
    return 0;
}

/* ---- the way out: reorder, delay, the socket ----------------------------- */

/* One frame to the port's socket: 1 sent, 0 no room now, -1 gone. */
static int
kw_sock_send(struct kw *w, struct kw_port *p, const uint8_t *b, size_t len)
{
    ssize_t r = send(p->fd, b, len, MSG_DONTWAIT | MSG_NOSIGNAL);

    if (r == (ssize_t)len) {
        w->st.forwarded++;
        return 1;
    }
    if (r >= 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
        return 0;
    p->dead = 1;
    return -1;
}

/* Send what waits for the port, in order, as far as its socket takes. */
static void
kw_flush(struct kw *w, struct kw_port *p)
{
    while (p->oq_len > 0 && !p->dead) {
        const struct kw_frame *f = &p->outq[p->oq_head];
        int rc = kw_sock_send(w, p, f->b, f->len);

        if (rc == 0)
            return;
        if (rc < 0) {
            w->st.d_gone += p->oq_len;
            p->oq_len = 0;
            return;
        }
        p->oq_head = (p->oq_head + 1) % KW_OUTQ;
        p->oq_len--;
    }
}

static void
kw_out(struct kw *w, struct kw_port *p, const uint8_t *b, size_t len)
{
    struct kw_frame *f;

    if (p->dead) {
        w->st.d_gone++;
        return;
    }
    if (p->oq_len == 0) {
        int rc = kw_sock_send(w, p, b, len);

        if (rc != 0) {
            w->st.d_gone += rc < 0;
            return;
        }
    }
    /* its socket is full (or frames wait before this one): the frame
     * waits too, up to KW_OUTQ; a slow port never holds up the hub */
    if (p->outq == NULL &&
        (p->outq = malloc(KW_OUTQ * sizeof(*p->outq))) == NULL) {
        w->st.d_slow++;
        return;
    }
    if (p->oq_len == KW_OUTQ) {
        w->st.d_slow++;
        return;
    }
    f = &p->outq[(p->oq_head + p->oq_len) % KW_OUTQ];
    memcpy(f->b, b, len);
    f->len = (uint16_t)len;
    p->oq_len++;
}

/* Reorder: a held frame goes right after the next one to its port. */
static void
kw_send(struct kw *w, struct kw_port *p, const uint8_t *b, size_t len,
        int64_t now)
{
    if (p->held) {
        kw_out(w, p, b, len);
        kw_out(w, p, p->hold.b, p->hold.len);
        p->held = 0;
        return;
    }
    if (kw_chance(w, w->reorder)) {
        memcpy(p->hold.b, b, len);
        p->hold.len = (uint16_t)len;
        p->held = 1;
        p->held_at = now;
        w->st.reordered++;
        return;
    }
    kw_out(w, p, b, len);
}

static void
kw_delay(struct kw *w, struct kw_port *p, const uint8_t *b, size_t len,
         int64_t now)
{
    struct kw_delayed *d;

    if (w->dq_len == KW_DELAY_MAX) {
        w->st.d_queue++;
        return;
    }
    d = &w->dq[(w->dq_head + w->dq_len) % KW_DELAY_MAX];
    d->due = now + w->delay_ms;
    d->port = p->id;
    memcpy(d->f.b, b, len);
    d->f.len = (uint16_t)len;
    w->dq_len++;
    w->st.delayed++;
}

/* Frames leave the delay queue in the order they entered it. */
static void
kw_release(struct kw *w, int64_t now, int all)
{
    while (w->dq_len > 0) {
        struct kw_delayed *d = &w->dq[w->dq_head];
        struct kw_port *p;

        if (!all && d->due > now)
            break;
        p = kw_port_by_id(w, d->port);
        if (p == NULL)
            w->st.d_gone++;
        else
            kw_send(w, p, d->f.b, d->f.len, now);
        w->dq_head = (w->dq_head + 1) % KW_DELAY_MAX;
        w->dq_len--;
    }
}

static void
kw_unhold(struct kw *w, int64_t now, int all)
{
    for (int i = 0; i < w->max_ports; i++) {
        struct kw_port *p = &w->ports[i];

        if (p->fd >= 0 && p->held && (all || now - p->held_at >= KW_HOLD_MS)) {
            p->held = 0;
            kw_out(w, p, p->hold.b, p->hold.len);
        }
    }
}

/* One copy of a frame on its way from src to p. */
static void
kw_deliver(struct kw *w, struct kw_port *src, struct kw_port *p,
           const uint8_t *b, size_t len, int64_t now)
{
    int copies = 1;

    if (w->nparts > 0 && kw_group(w, src) != kw_group(w, p)) {
        w->st.d_partition++;
        return;
    }
    if (kw_chance(w, w->drop)) {
        w->st.d_fault++;
        return;
    }
    if (kw_chance(w, w->dup)) {
        copies = 2;
        w->st.duplicated++;
    }
    while (copies-- > 0) {
        if (w->delay_ms > 0)
            kw_delay(w, p, b, len, now);
        else
            kw_send(w, p, b, len, now);
    }
}

static void
kw_frame(struct kw *w, struct kw_port *src, const uint8_t *b, size_t len,
         int64_t now)
{
    struct kw_port *dst = NULL;

    kw_learn(w, src, b + 6);
    if (!(b[0] & 1))
        dst = kw_lookup(w, b);
    if (dst == src) {
        w->st.filtered++;
        return;
    }
    if (dst != NULL) {
        kw_deliver(w, src, dst, b, len, now);
        return;
    }
    for (int i = 0; i < w->max_ports; i++) {
        struct kw_port *p = &w->ports[i];

        if (p != src && p->fd >= 0 && p->attached && !p->dead)
            kw_deliver(w, src, p, b, len, now);
    }
}

static void
kw_hello(struct kw *w, struct kw_port *p, const uint8_t *b, ssize_t len)
{
    size_t hl = sizeof(KW_HELLO) - 1;
    const char *name = (const char *)b + hl;
    size_t nlen = len > (ssize_t)hl ? (size_t)len - hl : 0;

    if (len < (ssize_t)hl || memcmp(b, KW_HELLO, hl) != 0 ||
        !kw_name_ok(name, nlen)) {
        fprintf(stderr, "keel-wire: refused a port: no valid hello\n");
        w->st.refused++;
        p->dead = 1;
        return;
    }
    for (int i = 0; i < w->max_ports; i++) {
        struct kw_port *o = &w->ports[i];

        if (o->fd >= 0 && o->attached && !o->dead && strlen(o->name) == nlen &&
            memcmp(o->name, name, nlen) == 0) {
            fprintf(stderr,
                    "keel-wire: refused a port: the name %.*s is taken\n",
                    (int)nlen, name);
            w->st.refused++;
            p->dead = 1;
            return;
        }
    }
    memcpy(p->name, name, nlen);
    p->name[nlen] = '\0';
    p->attached = 1;
    fprintf(stderr, "keel-wire: port %s attached (%d of %d)\n", p->name,
            kw_nports(w), w->max_ports);
}

static void
kw_port_read(struct kw *w, struct kw_port *p, int64_t now)
{
    uint8_t b[HAL_NET_FRAME_MAX + 1];

    for (int i = 0; i < KW_BURST && !p->dead; i++) {
        /* MSG_TRUNC: the message's real length, to refuse oversize. */
        ssize_t r = recv(p->fd, b, sizeof(b), MSG_DONTWAIT | MSG_TRUNC);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                p->dead = 1;
            return;
        }
        if (r == 0) { /* the node closed its end */
            p->dead = 1;
            return;
        }
        if (!p->attached) {
            kw_hello(w, p, b, r > (ssize_t)sizeof(b) ? 0 : r);
            continue;
        }
        w->st.in++;
        if (r < KW_FRAME_MIN || r > HAL_NET_FRAME_MAX) {
            w->st.d_size++;
            continue;
        }
        kw_frame(w, p, b, (size_t)r, now);
    }
}

static void
kw_accept(struct kw *w, int64_t now)
{
    for (;;) {
        int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct kw_port *p = NULL;

        if (fd < 0)
            return; /* EAGAIN, or the node gave up already */
        for (int i = 0; i < w->max_ports && p == NULL; i++)
            if (w->ports[i].fd < 0)
                p = &w->ports[i];
        if (p == NULL) {
            fprintf(stderr,
                    "keel-wire: refused a port: %d ports are "
                    "the most (--max-ports)\n",
                    w->max_ports);
            w->st.refused++;
            close(fd);
            continue;
        }
        memset(p, 0, sizeof(*p));
        p->fd = fd;
        p->id = ++w->next_id;
        p->since = now;
    }
}

/* ---- the control socket -------------------------------------------------- */

static size_t
kw_mac_str(char *out, size_t cap, const uint8_t m[6])
{
    int k = snprintf(out, cap, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
                     m[2], m[3], m[4], m[5]);

    return k < 0 || (size_t)k >= cap ? cap - 1 : (size_t)k;
}

/* out += printf(...), never past cap. */
static size_t kw_add(char *out, size_t cap, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t
kw_add(char *out, size_t cap, size_t at, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (at >= cap - 1)
        return at;
    va_start(ap, fmt);
    k = vsnprintf(out + at, cap - at, fmt, ap);
    va_end(ap);
    if (k < 0)
        return at;
    return at + (size_t)k >= cap ? cap - 1 : at + (size_t)k;
}

static void
kw_cmd_ports(struct kw *w, char *out, size_t cap)
{
    size_t at = kw_add(out, cap, 0, "ok %d", kw_nports(w));

    for (int i = 0; i < w->max_ports; i++) {
        struct kw_port *p = &w->ports[i];

        if (p->fd < 0 || !p->attached)
            continue;
        /* room for one more port with all its MACs, or the list ends
         * in " ..." */
        if (at + 4 + HAL_SIMWIRE_PORT_MAX + KW_MACS * 18 >= cap) {
            kw_add(out, cap, at, " ...");
            return;
        }
        at = kw_add(out, cap, at, " %s=", p->name);
        if (p->nmac == 0)
            at = kw_add(out, cap, at, "-");
        for (int j = 0; j < p->nmac; j++) {
            char m[18];

            kw_mac_str(m, sizeof(m), p->mac[j]);
            at = kw_add(out, cap, at, "%s%s", j ? "," : "", m);
        }
    }
}

static void
kw_cmd_stats(struct kw *w, char *out, size_t cap)
{
    const struct kw_stats *s = &w->st;
    uint64_t dropped = s->d_size + s->d_fault + s->d_partition + s->d_slow +
                       s->d_queue + s->d_gone;

    kw_add(out, cap, 0,
           "ok ports=%d in=%" PRIu64 " forwarded=%" PRIu64 " dropped=%" PRIu64
           " dropped_size=%" PRIu64 " dropped_fault=%" PRIu64
           " dropped_partition=%" PRIu64 " dropped_slow=%" PRIu64
           " dropped_queue=%" PRIu64 " dropped_gone=%" PRIu64
           " duplicated=%" PRIu64 " reordered=%" PRIu64 " delayed=%" PRIu64
           " filtered=%" PRIu64 " refused=%" PRIu64 " queued=%zu",
           kw_nports(w), s->in, s->forwarded, dropped, s->d_size, s->d_fault,
           s->d_partition, s->d_slow, s->d_queue, s->d_gone, s->duplicated,
           s->reordered, s->delayed, s->filtered, s->refused, w->dq_len);
}

static void
kw_cmd_faults(struct kw *w, char *out, size_t cap)
{
    size_t at = kw_add(out, cap, 0,
                       "ok drop=%g dup=%g reorder=%g delay=%d seed=%" PRIu64
                       " partition=",
                       w->drop, w->dup, w->reorder, w->delay_ms, w->seed);

    if (w->nparts == 0)
        at = kw_add(out, cap, at, "none");
    for (int i = 0; i < w->nparts; i++) {
        const char *sep = ",";

        if (i == 0)
            sep = "";
        else if (w->part[i].group != w->part[i - 1].group)
            sep = " ";
        at = kw_add(out, cap, at, "%s%s", sep, w->part[i].name);
    }
}

/* "partition A,B C": the arguments, already split at spaces.  Parsed
 * aside, so that a refused command leaves the partition as it was. */
static int
kw_cmd_partition(struct kw *w, char **arg, int nargs, char *out, size_t cap)
{
    static struct kw_part tmp[KW_PART_MAX];
    int n = 0;

    if (nargs == 0) {
        snprintf(out, cap,
                 "error partition needs groups of port names: "
                 "partition A,B C,D");
        return -EINVAL;
    }
    for (int g = 0; g < nargs; g++) {
        char *s = arg[g];

        for (;;) {
            size_t len = strcspn(s, ",");

            if (!kw_name_ok(s, len)) {
                snprintf(out, cap,
                         "error partition: '%.*s' is not a port name "
                         "(1 to 32 of A-Z a-z 0-9 . _ -)",
                         (int)(len > 40 ? 40 : len), s);
                return -EINVAL;
            }
            if (n == KW_PART_MAX) {
                snprintf(out, cap, "error partition: at most %d names",
                         KW_PART_MAX);
                return -EINVAL;
            }
            for (int i = 0; i < n; i++)
                if (strlen(tmp[i].name) == len &&
                    memcmp(tmp[i].name, s, len) == 0) {
                    snprintf(out, cap, "error partition: %.*s is named twice",
                             (int)len, s);
                    return -EINVAL;
                }
            memcpy(tmp[n].name, s, len);
            tmp[n].name[len] = '\0';
            tmp[n].group = g + 1;
            n++;
            if (s[len] == '\0')
                break;
            s += len + 1;
        }
    }
    memcpy(w->part, tmp, (size_t)n * sizeof(tmp[0]));
    w->nparts = n;
    snprintf(out, cap,
             "ok partition: %d group%s, and one of the ports named in none",
             nargs, nargs == 1 ? "" : "s");
    return 0;
}

/* Runs one command line; the reply (one line, no newline) is in out. */
static void
kw_command(struct kw *w, char *line, char *out, size_t cap, int64_t now)
{
    char *arg[KW_LINE_MAX / 2], *save = NULL, *tok;
    int nargs = 0;
    const char *cmd;

    for (tok = strtok_r(line, " \t\r", &save); tok != NULL;
         tok = strtok_r(NULL, " \t\r", &save))
        arg[nargs++] = tok;
    if (nargs == 0) {
        out[0] = '\0';
        return;
    }
    cmd = arg[0];
    if (strcmp(cmd, "drop") == 0 || strcmp(cmd, "dup") == 0 ||
        strcmp(cmd, "reorder") == 0) {
        double v;

        if (nargs != 2 || kw_parse_pct(arg[1], &v) < 0) {
            snprintf(out, cap,
                     "error %s takes one share in percent, 0 to "
                     "100 (fractions allowed): %s PCT",
                     cmd, cmd);
            return;
        }
        if (cmd[0] == 'r') {
            w->reorder = v;
            if (v == 0)
                kw_unhold(w, now, 1);
        } else {
            *(cmd[1] == 'r' ? &w->drop : &w->dup) = v;
        }
        snprintf(out, cap, "ok %s %g", cmd, v);
    } else if (strcmp(cmd, "delay") == 0) {
        uint64_t v;

        if (nargs != 2 || kw_parse_u64(arg[1], KW_DELAY_MS_MAX, &v) < 0) {
            snprintf(out, cap,
                     "error delay takes milliseconds, 0 to %d: "
                     "delay MS",
                     KW_DELAY_MS_MAX);
            return;
        }
        w->delay_ms = (int)v;
        snprintf(out, cap, "ok delay %d ms", w->delay_ms);
    } else if (strcmp(cmd, "seed") == 0) {
        uint64_t v;

        if (nargs != 2 || kw_parse_u64(arg[1], UINT64_MAX, &v) < 0) {
            snprintf(out, cap, "error seed takes a decimal number: seed N");
            return;
        }
        w->seed = w->rng = v;
        snprintf(out, cap, "ok seed %" PRIu64, v);
    } else if (strcmp(cmd, "partition") == 0) {
        kw_cmd_partition(w, arg + 1, nargs - 1, out, cap);
    } else if (strcmp(cmd, "heal") == 0 && nargs == 1) {
        w->nparts = 0;
        snprintf(out, cap, "ok healed");
    } else if (strcmp(cmd, "clear") == 0 && nargs == 1) {
        w->drop = w->dup = w->reorder = 0;
        w->delay_ms = 0;
        w->nparts = 0;
        kw_release(w, now, 1);
        kw_unhold(w, now, 1);
        snprintf(out, cap, "ok clear");
    } else if (strcmp(cmd, "faults") == 0 && nargs == 1) {
        kw_cmd_faults(w, out, cap);
    } else if (strcmp(cmd, "stats") == 0 && nargs == 1) {
        kw_cmd_stats(w, out, cap);
    } else if (strcmp(cmd, "ports") == 0 && nargs == 1) {
        kw_cmd_ports(w, out, cap);
    } else if (strcmp(cmd, "quit") == 0 && nargs == 1) {
        w->stop = 1;
        snprintf(out, cap, "ok bye");
    } else if (strcmp(cmd, "heal") == 0 || strcmp(cmd, "clear") == 0 ||
               strcmp(cmd, "faults") == 0 || strcmp(cmd, "stats") == 0 ||
               strcmp(cmd, "ports") == 0 || strcmp(cmd, "quit") == 0) {
        snprintf(out, cap, "error %s takes no arguments", cmd);
    } else {
        snprintf(out, cap,
                 "error unknown command '%.40s': drop PCT, dup PCT, "
                 "reorder PCT, delay MS, seed N, partition A,B C,D, heal, "
                 "clear, faults, stats, ports, quit",
                 cmd);
    }
}

static void
kw_ctl_close(struct kw_ctl *c)
{
    close(c->fd);
    c->fd = -1;
    c->len = 0;
    c->skipping = 0;
}

/* A reply the client does not take at once ends its connection: the
 * hub waits for nobody. */
static void
kw_ctl_reply(struct kw_ctl *c, char *out)
{
    size_t len = strlen(out);

    out[len++] = '\n';
    if (send(c->fd, out, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len)
        kw_ctl_close(c);
}

static void
kw_ctl_read(struct kw *w, struct kw_ctl *c, int64_t now)
{
    static char out[KW_REPLY_MAX];
    char b[512];
    ssize_t r = recv(c->fd, b, sizeof(b), MSG_DONTWAIT);

    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r <= 0) {
        kw_ctl_close(c);
        return;
    }
    for (ssize_t i = 0; i < r && c->fd >= 0; i++) {
        if (b[i] != '\n') {
            if (c->skipping)
                continue;
            if (c->len == sizeof(c->buf) - 1) {
                c->skipping = 1;
                snprintf(out, sizeof(out) - 1,
                         "error the line is longer than %d bytes",
                         KW_LINE_MAX - 1);
                kw_ctl_reply(c, out);
                continue;
            }
            c->buf[c->len++] = b[i];
            continue;
        }
        if (c->skipping) {
            c->skipping = 0;
            c->len = 0;
            continue;
        }
        c->buf[c->len] = '\0';
        c->len = 0;
        kw_command(w, c->buf, out, sizeof(out) - 1, now);
        if (out[0] != '\0')
            kw_ctl_reply(c, out);
    }
}

static void
kw_ctl_accept(struct kw *w)
{
    for (;;) {
        int fd = accept4(w->cfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct kw_ctl *c = NULL;

        if (fd < 0)
            return;
        for (int i = 0; i < KW_CTL_MAX && c == NULL; i++)
            if (w->ctl[i].fd < 0)
                c = &w->ctl[i];
        if (c == NULL) {
            static const char busy[] = "error too many control connections\n";

            send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->len = 0;
        c->skipping = 0;
    }
}

/* ---- the loop ------------------------------------------------------------ */

/* Milliseconds until the next timed event (a delayed frame is due, a
 * held frame is let go, a silent new port is closed), or -1. */
static int
kw_timeout(struct kw *w, int64_t now)
{
    int64_t next = -1;

    if (w->dq_len > 0)
        next = w->dq[w->dq_head].due;
    for (int i = 0; i < w->max_ports; i++) {
        struct kw_port *p = &w->ports[i];
        int64_t t;

        if (p->fd < 0)
            continue;
        if (p->held) {
            t = p->held_at + KW_HOLD_MS;
            next = next < 0 || t < next ? t : next;
        }
        if (!p->attached) {
            t = p->since + KW_HELLO_MS;
            next = next < 0 || t < next ? t : next;
        }
    }
    if (next < 0)
        return -1;
    return next <= now ? 0 : (int)(next - now);
}

static void
kw_timers(struct kw *w, int64_t now)
{
    kw_release(w, now, 0);
    kw_unhold(w, now, 0);
    for (int i = 0; i < w->max_ports; i++) {
        struct kw_port *p = &w->ports[i];

        if (p->fd >= 0 && !p->attached && now - p->since >= KW_HELLO_MS) {
            fprintf(stderr, "keel-wire: refused a port: no hello in %d ms\n",
                    KW_HELLO_MS);
            w->st.refused++;
            p->dead = 1;
        }
    }
}

static void
kw_reap(struct kw *w)
{
    for (int i = 0; i < w->max_ports; i++)
        if (w->ports[i].fd >= 0 && w->ports[i].dead)
            kw_port_free(w, &w->ports[i], "closed");
}

static int
kw_loop(struct kw *w, const sigset_t *unblocked)
{
    static struct pollfd pf[2 + KW_CTL_MAX + KW_PORTS_MAX];
    static uint64_t pid[KW_PORTS_MAX];
    static int pslot[KW_PORTS_MAX];

    while (!w->stop && !kw_signal) {
        int64_t now = kw_now();
        int to = kw_timeout(w, now), k = 0, np = 0, r;
        struct timespec ts = {to / 1000, (long)(to % 1000) * 1000000L};

        pf[k++] = (struct pollfd){.fd = w->lfd, .events = POLLIN};
        pf[k++] = (struct pollfd){.fd = w->cfd, .events = POLLIN};
        for (int i = 0; i < KW_CTL_MAX; i++)
            pf[k++] = (struct pollfd){.fd = w->ctl[i].fd, .events = POLLIN};
        for (int i = 0; i < w->max_ports; i++) {
            if (w->ports[i].fd < 0)
                continue;
            pslot[np] = i;
            pid[np++] = w->ports[i].id;
            pf[k++] = (struct pollfd){
                .fd = w->ports[i].fd,
                .events = (short)(POLLIN | (w->ports[i].oq_len ? POLLOUT : 0))};
        }
        r = ppoll(pf, (nfds_t)k, to < 0 ? NULL : &ts, unblocked);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            perror("keel-wire: poll");
            return 1;
        }
        now = kw_now();
        for (int i = 0; i < np; i++) {
            struct kw_port *p = &w->ports[pslot[i]];

            if (p->fd >= 0 && p->id == pid[i] &&
                (pf[2 + KW_CTL_MAX + i].revents & POLLOUT))
                kw_flush(w, p);
            if (p->fd >= 0 && p->id == pid[i] &&
                (pf[2 + KW_CTL_MAX + i].revents & (POLLIN | POLLHUP | POLLERR)))
                kw_port_read(w, p, now);
        }
        for (int i = 0; i < KW_CTL_MAX && !w->stop; i++)
            if (w->ctl[i].fd >= 0 &&
                (pf[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
                kw_ctl_read(w, &w->ctl[i], now);
        if (pf[1].revents & POLLIN)
            kw_ctl_accept(w);
        if (pf[0].revents & POLLIN)
            kw_accept(w, now);
        kw_timers(w, now);
        kw_reap(w);
    }
    if (kw_signal)
        fprintf(stderr, "keel-wire: %s, stopping\n",
                kw_signal == SIGINT ? "SIGINT" : "SIGTERM");
    return 0;
}

/* ---- start and end ------------------------------------------------------- */

/* A socket file left at path by a hub that died is removed; a live hub
 * there, or a file that is not a socket, is not touched. */
static int
kw_claim(const char *path, int type, const char **why)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    int fd, rc;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode)) {
        *why = "exists and is not a socket";
        return -EEXIST;
    }
    fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    strcpy(sa.sun_path, path); /* checked for length by the caller */
    rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    close(fd);
    if (rc == 0 || errno == EAGAIN) {
        *why = "has a hub listening on it already";
        return -EADDRINUSE;
    }
    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    fprintf(stderr, "keel-wire: removed a stale socket at %s\n", path);
    return 0;
}

static int
kw_listen(const char *path, int type, int *out)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    const char *why = "";
    int fd, rc = kw_claim(path, type, &why);

    if (rc < 0) {
        fprintf(stderr, "keel-wire: %s %s\n", path, *why ? why : strerror(-rc));
        return rc;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(fd, 64) < 0) {
        rc = -errno;
        fprintf(stderr, "keel-wire: cannot listen on %s: %s\n", path,
                strerror(-rc));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

static int
kw_usage(void)
{
    fprintf(stderr,
            "usage: keel-wire [--drop PCT] [--dup PCT] [--reorder PCT] "
            "[--delay MS]\n"
            "                 [--seed N] [--max-ports N] [--pidfile FILE] "
            "PATH.sock\n"
            "Control: PATH.sock.ctl, one command per line: drop PCT, dup "
            "PCT, reorder PCT,\n"
            "delay MS, seed N, partition A,B C,D, heal, clear, faults, "
            "stats, ports, quit.\n");
    return 2;
}

static int
kw_options(struct kw *w, int argc, char **argv, const char **path)
{
    *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char *want = "";
        uint64_t u = 0;
        int bad = 0;

        if (o[0] != '-') {
            if (*path != NULL)
                return kw_usage();
            *path = o;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "keel-wire: %s needs a value\n", o);
            return kw_usage();
        }
        i++;
        if (strcmp(o, "--drop") == 0 || strcmp(o, "--dup") == 0 ||
            strcmp(o, "--reorder") == 0) {
            double *d = &w->reorder;

            if (strcmp(o, "--drop") == 0)
                d = &w->drop;
            else if (strcmp(o, "--dup") == 0)
                d = &w->dup;

            want = "a share in percent, 0 to 100 (fractions allowed)";
            bad = kw_parse_pct(v, d) < 0;
        } else if (strcmp(o, "--delay") == 0) {
            want = "milliseconds, 0 to 60000";
            bad = kw_parse_u64(v, KW_DELAY_MS_MAX, &u) < 0;
            w->delay_ms = (int)u;
        } else if (strcmp(o, "--seed") == 0) {
            want = "decimal digits, at most 64 bits";
            bad = kw_parse_u64(v, UINT64_MAX, &w->seed) < 0;
        } else if (strcmp(o, "--max-ports") == 0) {
            want = "1 to 1024";
            bad = kw_parse_u64(v, KW_PORTS_MAX, &u) < 0 || u == 0;
            w->max_ports = (int)u;
        } else if (strcmp(o, "--pidfile") == 0) {
            w->pidfile = v;
        } else {
            return kw_usage();
        }
        if (bad) {
            fprintf(stderr, "keel-wire: %s %s: want %s\n", o, v, want);
            return 2;
        }
    }
    if (*path == NULL)
        return kw_usage();
    if (strlen(*path) + 5 > sizeof(w->path)) {
        fprintf(stderr,
                "keel-wire: the socket path is too long: PATH.ctl must "
                "fit in %zu bytes\n",
                sizeof(w->path) - 1);
        return 2;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    static struct kw w;
    struct sigaction sa;
    sigset_t block, unblocked;
    const char *path;
    int rc;

    w.max_ports = KW_PORTS_DEFAULT;
    w.seed = 1;
    w.lfd = w.cfd = -1;
    rc = kw_options(&w, argc, argv, &path);
    if (rc != 0)
        return rc;
    w.rng = w.seed;
    snprintf(w.path, sizeof(w.path), "%s", path);
    snprintf(w.ctl_path, sizeof(w.ctl_path), "%s.ctl", path);
    w.ports = calloc((size_t)w.max_ports, sizeof(*w.ports));
    w.dq = calloc(KW_DELAY_MAX, sizeof(*w.dq));
    if (w.ports == NULL || w.dq == NULL) {
        fprintf(stderr, "keel-wire: out of memory\n");
        return 1;
    }
    for (int i = 0; i < w.max_ports; i++)
        w.ports[i].fd = -1;
    for (int i = 0; i < KW_CTL_MAX; i++)
        w.ctl[i].fd = -1;

    /* The signals are taken only inside ppoll(), so none is lost
     * between a check of the flag and the wait. */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &unblocked);
    sigdelset(&unblocked, SIGTERM);
    sigdelset(&unblocked, SIGINT);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kw_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* The control socket last: once it answers, ports can attach. */
    if (kw_listen(w.path, SOCK_SEQPACKET, &w.lfd) < 0)
        return 1;
    if (kw_listen(w.ctl_path, SOCK_STREAM, &w.cfd) < 0) {
        close(w.lfd);
        unlink(w.path);
        return 1;
    }
    if (w.pidfile != NULL) {
        FILE *f = fopen(w.pidfile, "w");

        if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 ||
            fclose(f) != 0) {
            fprintf(stderr, "keel-wire: cannot write %s: %s\n", w.pidfile,
                    strerror(errno));
            w.pidfile = NULL;
            w.stop = 1;
        }
    }
    fprintf(stderr,
            "keel-wire: listening on %s (control %s, at most %d "
            "ports)\n",
            w.path, w.ctl_path, w.max_ports);
    rc = w.stop ? 1 : kw_loop(&w, &unblocked);

    for (int i = 0; i < w.max_ports; i++)
        if (w.ports[i].fd >= 0)
            close(w.ports[i].fd);
    for (int i = 0; i < KW_CTL_MAX; i++)
        if (w.ctl[i].fd >= 0)
            close(w.ctl[i].fd);
    close(w.lfd);
    close(w.cfd);
    unlink(w.path);
    unlink(w.ctl_path);
    if (w.pidfile != NULL)
        unlink(w.pidfile);
    free(w.ports);
    free(w.dq);
    return rc;
}
