/*
 * sync/sync.c - serving and following the Mochimo chain (sync.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/clock.h"
#include "hal/file.h"
#include "hal/sys.h"
#include "hal/rng.h"
#include "keel_opts.h"
#include "lib/crc16.h"
#include "lib/klog.h"
#include "lib/le.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/tcp.h"
#include "net/net.h"
#include "sync/sync.h"

void
sync_weight_bytes(const struct chain_weight *w, uint8_t out[32])
{
    for (int i = 0; i < 8; i++)
        lib_put32(out + 4 * i, w->w[i]);
}

void
sync_weight_from(const uint8_t in[32], struct chain_weight *w)
{
    for (int i = 0; i < 8; i++)
        w->w[i] = lib_le32(in + 4 * i);
}

static uint16_t
random16(void)
{
    uint16_t v = 0;

    while (v == 0)
        (void)hal_rng_fill(&v, sizeof(v));
    return v;
}

/* A header stamped with this node's tip, as every packet is. */
static void
stamp(const struct sync *s, struct mpkt *h, uint16_t op)
{
    const struct chain *c = s->c;

    memset(h, 0, sizeof(*h));
    h->version = MPKT_VERSION;
    h->net = MPKT_NET;
    h->op = op;
    if (c->count > 0) {
        h->cblock = chain_tip_bnum(c);
        memcpy(h->cblockhash, c->tip + 128, 32);
        memcpy(h->pblockhash, c->tip, 32);
        sync_weight_bytes(&c->w, h->weight);
    }
}

/* ---- what is served: the chain, or a sim test's liar ---------------------
 *
 * Sim board only (KEEL_TEST_HOOKS), for tests/sync.sh: the node plays a
 * lying Mochimo peer.  KEEL_SIM_SYNC_FILE=TFILE serves that file,
 * unchecked, instead of the chain (its tip advertised);
 * KEEL_SIM_SYNC_LIE names one wire lie: "weight" (advertise far more
 * weight than the chain has), "crc" (every file packet with a bad CRC),
 * "stall" (never answer HELLO), "oversize" (answer a TF with more
 * trailers than asked), "short" (answer a TF with half the range). */
#if KEEL_TEST_HOOKS
static void
lie_init(struct sync *s)
{
    const char *f = hal_sys_param("KEEL_SIM_SYNC_FILE");
    const char *l = hal_sys_param("KEEL_SIM_SYNC_LIE");
    uint8_t t[TRAILER_LEN];

    s->lie = l == NULL                    ? 0
             : strcmp(l, "weight") == 0   ? 1
             : strcmp(l, "crc") == 0      ? 2
             : strcmp(l, "stall") == 0    ? 3
             : strcmp(l, "oversize") == 0 ? 4
             : strcmp(l, "short") == 0    ? 5
                                          : 0;
    if (f == NULL || hal_file_open(&s->lie_f, f) != 0)
        return;
    s->lie_n = s->lie_f.size / TRAILER_LEN;
    memset(&s->lie_w, 0, sizeof(s->lie_w));
    for (uint64_t b = 0; b < s->lie_n; b++)
        if (hal_file_read_at(&s->lie_f, b * TRAILER_LEN, t, TRAILER_LEN) == 0)
            chain_weight_add(&s->lie_w, t);
    s->lie_file = s->lie_n > 0;
    klog(KLOG_WARN,
         "sync: TEST HOOK: serving %s unchecked (%" PRIu64 " trailers)", f,
         s->lie_n);
}
#endif

static uint64_t
srv_count(const struct sync *s)
{
    return s->lie_file ? s->lie_n : s->c->count;
}

static uint64_t
srv_base(const struct sync *s)
{
    return s->lie_file ? 0 : s->c->base;
}

static int
srv_read(struct sync *s, uint64_t b, uint8_t t[TRAILER_LEN])
{
#if KEEL_TEST_HOOKS
    if (s->lie_file)
        return b < s->lie_n ? hal_file_read_at(&s->lie_f, b * TRAILER_LEN, t,
                                               TRAILER_LEN)
                            : -ENOENT;
#endif
    return chain_read(s->c, b, t);
}

/* A served packet's header: the served tip. */
static void
srv_stamp(struct sync *s, struct mpkt *h, uint16_t op)
{
    stamp(s, h, op);
#if KEEL_TEST_HOOKS
    if (s->lie_file) {
        uint8_t t[TRAILER_LEN];

        if (srv_read(s, s->lie_n - 1, t) == 0) {
            h->cblock = s->lie_n - 1;
            memcpy(h->cblockhash, t + 128, 32);
            memcpy(h->pblockhash, t, 32);
            sync_weight_bytes(&s->lie_w, h->weight);
        }
    }
    if (s->lie == 1)
        h->weight[31] = 0x7f; /* 2^254 and more */
#endif
}

static void
ip_text(const uint8_t ip[4], uint16_t port, char *out, size_t cap)
{
    snprintf(out, cap, "%u.%u.%u.%u:%u", ip[0], ip[1], ip[2], ip[3],
             (unsigned)port);
}

/* ---- seeds ------------------------------------------------------------- */

/* Store record sync.seeds: 6 bytes a seed (IPv4, port little-endian). */
static void
seeds_load(struct sync *s)
{
    uint8_t b[SYNC_SEEDS_MAX * 6];
    int n = store_get(s->st, SYNC_SEEDS_KEY, b, sizeof(b));

    s->nseeds = 0;
    if (n <= 0 || n % 6 != 0)
        return;
    for (int i = 0; i < n / 6; i++) {
        memcpy(s->seeds[i].ip, b + 6 * i, 4);
        s->seeds[i].port = lib_le16(b + 6 * i + 4);
        s->nseeds++;
    }
}

static int
seeds_save(struct sync *s)
{
    uint8_t b[SYNC_SEEDS_MAX * 6];

    for (unsigned i = 0; i < s->nseeds; i++) {
        memcpy(b + 6 * i, s->seeds[i].ip, 4);
        lib_put16(b + 6 * i + 4, s->seeds[i].port);
    }
    if (s->nseeds == 0) {
        int rc = store_del(s->st, SYNC_SEEDS_KEY);

        return rc == -ENOENT ? 0 : rc;
    }
    return store_put(s->st, SYNC_SEEDS_KEY, b, 6 * s->nseeds);
}

int
sync_seed_parse(const char *text, struct sync_seed *out)
{
    unsigned a, b, c, d, port = MPKT_PORT;
    char tail;
    int n = sscanf(text, "%u.%u.%u.%u:%u%c", &a, &b, &c, &d, &port, &tail);

    if (!(n == 4 || n == 5) || a > 255 || b > 255 || c > 255 || d > 255 ||
        port == 0 || port > 65535)
        return -EINVAL;
    if (n == 4 && strchr(text, ':') != NULL)
        return -EINVAL;
    out->ip[0] = (uint8_t)a;
    out->ip[1] = (uint8_t)b;
    out->ip[2] = (uint8_t)c;
    out->ip[3] = (uint8_t)d;
    out->port = (uint16_t)port;
    return 0;
}

static int
seed_find(const struct sync *s, const struct sync_seed *x)
{
    for (unsigned i = 0; i < s->nseeds; i++)
        if (memcmp(s->seeds[i].ip, x->ip, 4) == 0 &&
            s->seeds[i].port == x->port)
            return (int)i;
    return -1;
}

int
sync_seed_add(struct sync *s, const struct sync_seed *x)
{
    if (seed_find(s, x) >= 0)
        return -EEXIST;
    if (s->nseeds >= SYNC_SEEDS_MAX)
        return -ENOSPC;
    s->seeds[s->nseeds++] = *x;
    return seeds_save(s);
}

int
sync_seed_remove(struct sync *s, const struct sync_seed *x)
{
    int i = seed_find(s, x);

    if (i < 0)
        return -ENOENT;
    memmove(&s->seeds[i], &s->seeds[i + 1],
            (s->nseeds - (unsigned)i - 1) * sizeof(s->seeds[0]));
    s->nseeds--;
    return seeds_save(s);
}

static void guard_load(struct sync *s);

void
sync_init(struct sync *s, struct chain *c, struct store *st)
{
    memset(s, 0, sizeof(*s));
    s->c = c;
    s->st = st;
    s->chosen = -1;
    s->fork_max = SYNC_FORK_MAX;
    if (st != NULL) {
        seeds_load(s);
        guard_load(s);
    }
#if KEEL_TEST_HOOKS
    lie_init(s);
#endif
}

/* ---- the guard's memory ------------------------------------------------
 *
 * Peers that lied (address, reason) and chains whose claim failed
 * (weight, tip hash, reason), each until an expiry, in the store record
 * sync.bad (FORMAT.md), so a reboot does not reset what the node
 * learned: a remembered peer is not asked, a remembered chain is not
 * fetched.  Bounded (SYNC_BAD_MAX; when full the entry that expires
 * first goes).  Timeouts, refused connections and forks past the limit
 * are not remembered: they are not lies. */

static int
is_lie(enum sync_reason r)
{
    /* a fork past sync_fork_max is this node's limit, not a lie */
    return r != SYNC_R_NONE && r != SYNC_R_TIMEOUT && r != SYNC_R_CONNECT &&
           r != SYNC_R_FORK && r != SYNC_R_REMEMBERED;
}

static int64_t
guard_until(void)
{
    int64_t now = hal_clock_wall();

    /* clock unset: kept until forgotten or pushed out */
    return now > 0 ? now + SYNC_BAD_S : INT64_MAX;
}

static int
guard_live(const struct sync_bad *b)
{
    int64_t now = hal_clock_wall();

    return b->kind != 0 && (now <= 0 || b->until > now);
}

static void
guard_save(struct sync *s)
{
    uint8_t buf[SYNC_BAD_MAX * SYNC_BAD_REC];
    size_t n = 0;

    if (s->st == NULL || !s->bad_dirty)
        return;
    for (unsigned i = 0; i < s->nbad; i++) {
        const struct sync_bad *b = &s->bad[i];
        uint8_t *p = buf + n;

        if (!guard_live(b))
            continue;
        p[0] = b->kind;
        p[1] = b->reason;
        memcpy(p + 2, b->ip, 4);
        lib_put16(p + 6, b->port);
        lib_put64(p + 8, (uint64_t)b->until);
        memcpy(p + 16, b->hash, 32);
        memcpy(p + 48, b->weight, 32);
        n += SYNC_BAD_REC;
    }
    if (n == 0) {
        int rc = store_del(s->st, SYNC_BAD_KEY);

        s->bad_dirty = rc != 0 && rc != -ENOENT;
    } else {
        s->bad_dirty = store_put(s->st, SYNC_BAD_KEY, buf, n) != 0;
    }
}

static void
guard_load(struct sync *s)
{
    uint8_t buf[SYNC_BAD_MAX * SYNC_BAD_REC];
    int n = store_get(s->st, SYNC_BAD_KEY, buf, sizeof(buf));

    s->nbad = 0;
    if (n <= 0 || n % SYNC_BAD_REC != 0)
        return;
    for (int i = 0; i < n / SYNC_BAD_REC; i++) {
        const uint8_t *p = buf + i * SYNC_BAD_REC;
        struct sync_bad *b = &s->bad[s->nbad];

        if ((p[0] != SYNC_BAD_PEER && p[0] != SYNC_BAD_CHAIN) ||
            p[1] >= SYNC_R_COUNT)
            continue;
        b->kind = p[0];
        b->reason = p[1];
        memcpy(b->ip, p + 2, 4);
        b->port = lib_le16(p + 6);
        b->until = (int64_t)lib_le64(p + 8);
        memcpy(b->hash, p + 16, 32);
        memcpy(b->weight, p + 48, 32);
        s->nbad++;
    }
}

static struct sync_bad *
guard_slot(struct sync *s)
{
    unsigned pick = 0;

    for (unsigned i = 0; i < s->nbad; i++)
        if (!guard_live(&s->bad[i]))
            return &s->bad[i];
    if (s->nbad < SYNC_BAD_MAX)
        return &s->bad[s->nbad++];
    for (unsigned i = 1; i < s->nbad; i++)
        if (s->bad[i].until < s->bad[pick].until)
            pick = i;
    return &s->bad[pick];
}

static const struct sync_bad *
guard_peer(const struct sync *s, const struct sync_seed *at)
{
    for (unsigned i = 0; i < s->nbad; i++) {
        const struct sync_bad *b = &s->bad[i];

        if (b->kind == SYNC_BAD_PEER && guard_live(b) &&
            memcmp(b->ip, at->ip, 4) == 0 && b->port == at->port)
            return b;
    }
    return NULL;
}

static const struct sync_bad *
guard_chain(const struct sync *s, const uint8_t weight[32],
            const uint8_t hash[32])
{
    for (unsigned i = 0; i < s->nbad; i++) {
        const struct sync_bad *b = &s->bad[i];

        if (b->kind == SYNC_BAD_CHAIN && guard_live(b) &&
            memcmp(b->hash, hash, 32) == 0 &&
            memcmp(b->weight, weight, 32) == 0)
            return b;
    }
    return NULL;
}

static void
guard_add_peer(struct sync *s, const struct sync_cand *k, enum sync_reason r)
{
    struct sync_bad *b;

    if (!is_lie(r) || guard_peer(s, &k->at) != NULL)
        return;
    b = guard_slot(s);
    memset(b, 0, sizeof(*b));
    b->kind = SYNC_BAD_PEER;
    b->reason = (uint8_t)r;
    memcpy(b->ip, k->at.ip, 4);
    b->port = k->at.port;
    b->until = guard_until();
    s->bad_dirty = 1;
}

static void
guard_add_chain(struct sync *s, const struct sync_cand *k, enum sync_reason r)
{
    uint8_t w[32];
    struct sync_bad *b;

    sync_weight_bytes(&k->w, w);
    if (!is_lie(r) || guard_chain(s, w, k->bhash) != NULL)
        return;
    b = guard_slot(s);
    memset(b, 0, sizeof(*b));
    b->kind = SYNC_BAD_CHAIN;
    b->reason = (uint8_t)r;
    memcpy(b->hash, k->bhash, 32);
    memcpy(b->weight, w, 32);
    b->until = guard_until();
    s->bad_dirty = 1;
}

void
sync_forget(struct sync *s)
{
    s->nbad = 0;
    s->bad_dirty = 1;
    guard_save(s);
}

/* ---- serving ------------------------------------------------------------- */

static void
served_end(struct sync_served *v)
{
    struct altcp_pcb *p = v->pcb;

    v->state = 0;
    if (p == NULL)
        return;
    v->pcb = NULL;
    net_pcb_close(p);
}

static int
out_write(struct altcp_pcb *p, const void *b, size_t n)
{
    return altcp_write(p, b, (u16_t)n, TCP_WRITE_FLAG_COPY) == ERR_OK ? 0 : -1;
}

/* Send a whole short packet (at most sizeof(v->out)). */
static void
served_send(struct sync_served *v, struct mpkt *h, const uint8_t *payload)
{
    size_t n;

    h->id1 = v->id1;
    h->id2 = v->id2;
    n = mpkt_encode(v->out, h, payload);
    if (altcp_sndbuf(v->pcb) < n || out_write(v->pcb, v->out, n) != 0) {
        served_end(v);
        return;
    }
    altcp_output(v->pcb);
}

/* Write as much of the file answer as the send buffer takes: a header,
 * payload bytes read trailer by trailer from the chain log (never more
 * than one trailer in RAM), the tail; again until a packet shorter than
 * 64 KiB - 1 (perhaps empty) has ended the file. */
static void
served_pump(struct sync_served *v)
{
    struct sync *s = v->s;

    while (v->pcb != NULL && v->state == 3) {
        size_t room = altcp_sndbuf(v->pcb), k;

        if (v->phase == 0) { /* a header */
            uint64_t left = (v->end - v->next) * TRAILER_LEN;
            struct mpkt h;
            uint8_t hb[MPKT_HDR];

            if (v->finished) {
                v->state = 4;
                break;
            }
            if (room < MPKT_HDR)
                break;
            if (v->t_off < TRAILER_LEN)
                left -= v->t_off;
            srv_stamp(s, &h, MOP_SEND_FILE);
            h.id1 = v->id1;
            h.id2 = v->id2;
            h.len =
                left >= MPKT_LEN_MAX ? (uint16_t)MPKT_LEN_MAX : (uint16_t)left;
            mpkt_put_head(hb, &h);
            if (out_write(v->pcb, hb, MPKT_HDR) != 0)
                break;
            v->crc = lib_crc16(0, hb, MPKT_HDR);
            v->pkt_left = h.len;
            v->finished = h.len < MPKT_LEN_MAX;
            v->phase = h.len > 0 ? 1 : 2;
            s->served_bytes += MPKT_HDR;
            continue;
        }
        if (v->phase == 1) { /* payload */
            if (v->t_off == TRAILER_LEN) {
                if (srv_read(s, v->next, v->t) != 0) {
                    served_end(v); /* a trailer that no longer reads */
                    return;
                }
                v->t_off = 0;
            }
            k = TRAILER_LEN - v->t_off;
            if (k > v->pkt_left)
                k = v->pkt_left;
            if (k > room)
                k = room;
            if (k == 0 || out_write(v->pcb, v->t + v->t_off, k) != 0)
                break;
            v->crc = lib_crc16(v->crc, v->t + v->t_off, k);
            v->t_off += (uint32_t)k;
            v->pkt_left -= (uint32_t)k;
            s->served_bytes += k;
            if (v->t_off == TRAILER_LEN)
                v->next++;
            if (v->pkt_left == 0)
                v->phase = 2;
            continue;
        }
        if (room < MPKT_TAIL) /* the tail */
            break;
        {
            uint8_t tb[MPKT_TAIL];

            mpkt_put_tail(tb, s->lie == 2 ? v->crc ^ 1 : v->crc);
            if (out_write(v->pcb, tb, MPKT_TAIL) != 0)
                break;
            s->served_bytes += MPKT_TAIL;
            v->phase = 0;
        }
    }
    if (v->pcb != NULL)
        altcp_output(v->pcb);
    if (v->pcb != NULL && v->state == 4)
        served_end(v); /* lwIP sends what is queued, then FIN */
}

static long
served_head(void *arg, const struct mpkt *h)
{
    struct sync_served *v = arg;

    if (v->state == 1)
        return h->op == MOP_HELLO ? 0 : -1;
    /* the request: both ids, no payload (what keel serves takes none) */
    if (v->state == 2 && h->id1 == v->id1 && h->id2 == v->id2)
        return 0;
    return -1;
}

/* The one request, answered. */
static void
served_request(struct sync_served *v, const struct mpkt *q)
{
    struct sync *s = v->s;
    uint64_t count = srv_count(s), base = srv_base(s);
    uint64_t tip = count > 0 ? base + count - 1 : 0;
    struct mpkt h;

    if (q->op < sizeof(s->served_req) / sizeof(s->served_req[0]))
        s->served_req[q->op]++;
    switch (q->op) {
    case MOP_TF: {
        uint64_t first = q->blocknum & 0xffffffffu;
        uint64_t n = q->blocknum >> 32;

        if (n > MPKT_TF_MAX || (count > 0 && first < base)) {
            served_end(v); /* as the reference: closed unanswered */
            return;
        }
        if (s->lie == 4 && first >= 50) { /* 50 more, before the range */
            first -= 50;
            n += 50;
        } else if (s->lie == 5) {
            n /= 2;
        }
        v->next = first;
        v->end = count == 0 || first > tip ? first
                 : first + n > tip + 1     ? tip + 1
                                           : first + n;
        break;
    }
    case MOP_GET_TFILE:
        if (count == 0 || base != 0) {
            served_end(v); /* no tfile from genesis to give */
            return;
        }
        v->next = 0;
        v->end = tip + 1;
        break;
    case MOP_HASH: {
        uint8_t t[TRAILER_LEN];

        if (count == 0 || q->blocknum < base || q->blocknum > tip ||
            srv_read(s, q->blocknum, t) != 0) {
            served_end(v); /* silence, as the reference */
            return;
        }
        srv_stamp(s, &h, MOP_HASH);
        h.blocknum = q->blocknum;
        h.len = 32;
        served_send(v, &h, t + 128);
        v->state = 4;
        served_end(v);
        return;
    }
    case MOP_GET_IPL: {
        uint8_t ipl[MPKT_IPL_MAX * 4];

        srv_stamp(s, &h, MOP_SEND_IPL);
        for (unsigned i = 0; i < s->nseeds && i < MPKT_IPL_MAX; i++)
            memcpy(ipl + 4 * i, s->seeds[i].ip, 4);
        h.len = (uint16_t)(4 * (s->nseeds < MPKT_IPL_MAX ? s->nseeds
                                                         : MPKT_IPL_MAX));
        if (h.len > sizeof(v->out) - MPKT_HDR - MPKT_TAIL)
            h.len = (uint16_t)((sizeof(v->out) - MPKT_HDR - MPKT_TAIL) / 4 * 4);
        served_send(v, &h, ipl);
        served_end(v);
        return;
    }
    default:
        served_end(v); /* not served */
        return;
    }
    v->state = 3;
    v->phase = 0;
    v->finished = 0;
    v->t_off = TRAILER_LEN;
    v->t0 = hal_clock_ms();
    served_pump(v);
}

static int
served_packet(void *arg, const struct mpkt *q)
{
    struct sync_served *v = arg;
    struct mpkt h;

    if (v->state == 1) {
        if (v->s->lie == 3)
            return 1; /* the stall: never an answer */
        v->id1 = q->id1;
        v->id2 = random16();
        srv_stamp(v->s, &h, MOP_HELLO_ACK);
        served_send(v, &h, NULL);
        v->state = 2;
        v->t0 = hal_clock_ms();
        return 0;
    }
    served_request(v, q);
    return 1; /* one request a connection */
}

static err_t
served_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct sync_served *v = arg;

    (void)err;
    if (v == NULL || v->pcb != pcb) {
        if (p != NULL)
            pbuf_free(p);
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    if (p == NULL) {
        if (v->state < 3)
            served_end(v);
        return ERR_OK;
    }
    altcp_recved(pcb, p->tot_len);
    if (v->state == 1 || v->state == 2) {
        for (struct pbuf *q = p; q != NULL && v->pcb != NULL; q = q->next)
            if (mpkt_rx_feed(&v->rx, q->payload, q->len) < 0) {
                served_end(v); /* bad CRC, wrong id: closed without a word */
                break;
            }
    }
    pbuf_free(p);
    return ERR_OK;
}

static err_t
served_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    struct sync_served *v = arg;

    (void)pcb;
    (void)len;
    if (v != NULL && v->state == 3)
        served_pump(v);
    return ERR_OK;
}

static void
served_err(void *arg, err_t err)
{
    struct sync_served *v = arg;

    (void)err;
    if (v != NULL) {
        v->pcb = NULL;
        v->state = 0;
    }
}

static err_t
served_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct sync *s = arg;
    struct sync_served *v = NULL;
    struct mpkt_rx_ops ops = {.head = served_head, .end = served_packet};

    if (err != ERR_OK || pcb == NULL)
        return ERR_VAL;
    for (unsigned i = 0; i < SYNC_SERVE_MAX && v == NULL; i++)
        if (s->served[i].state == 0)
            v = &s->served[i];
    if (v == NULL) {
        s->serve_busy++;
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    memset(v, 0, sizeof(*v));
    v->s = s;
    v->pcb = pcb;
    v->state = 1;
    v->t0 = hal_clock_ms();
    ops.arg = v;
    mpkt_rx_init(&v->rx, &ops);
    altcp_arg(pcb, v);
    altcp_recv(pcb, served_recv);
    altcp_sent(pcb, served_sent);
    altcp_err(pcb, served_err);
    return ERR_OK;
}

static void
serve_tick(struct sync *s, uint16_t want)
{
    uint64_t now = hal_clock_ms();

    for (unsigned i = 0; i < SYNC_SERVE_MAX; i++) {
        struct sync_served *v = &s->served[i];
        uint64_t limit = v->state == 1 && s->lie != 3 ? SYNC_HELLO_MS
                         : v->state == 2              ? SYNC_REQ_MS
                                                      : 30000;

        if (v->state != 0 && now - v->t0 > limit)
            served_end(v);
    }
    if (want == s->port)
        return;
    for (unsigned i = 0; i < SYNC_SERVE_MAX; i++)
        served_end(&s->served[i]);
    if (s->listener != NULL) {
        altcp_close(s->listener);
        s->listener = NULL;
    }
    s->port = 0;
    if (want == 0)
        return;
    {
        struct altcp_pcb *pcb = altcp_tcp_new_ip_type(IPADDR_TYPE_V4), *lp;

        if (pcb == NULL || altcp_bind(pcb, IP4_ADDR_ANY, want) != ERR_OK ||
            (lp = altcp_listen_with_backlog(pcb, SYNC_SERVE_MAX)) == NULL) {
            if (pcb != NULL)
                altcp_close(pcb);
            klog(KLOG_WARN, "sync: cannot serve on port %u", (unsigned)want);
            s->port = want; /* not again each tick */
            return;
        }
        altcp_arg(lp, s);
        altcp_accept(lp, served_accept);
        s->listener = lp;
        s->port = want;
        klog(KLOG_INFO, "sync: serving the chain on port %u", (unsigned)want);
    }
}

/* ---- the client: one request at a time ----------------------------------- */

static void
client_close(struct sync *s)
{
    struct altcp_pcb *p = s->pcb;

    s->cstate = 0;
    if (p == NULL)
        return;
    s->pcb = NULL;
    net_pcb_close(p);
}

/* The request ended: ok, or failed with reason r. */
static void
client_done(struct sync *s, enum sync_reason r)
{
    client_close(s);
    s->fail = r;
    s->pending = 1;
}

static int
client_send(struct sync *s, struct mpkt *h)
{
    uint8_t b[MPKT_HDR + MPKT_TAIL];

    h->id1 = s->id1;
    h->id2 = s->id2;
    h->len = 0;
    mpkt_encode(b, h, NULL);
    if (altcp_write(s->pcb, b, sizeof(b), TCP_WRITE_FLAG_COPY) != ERR_OK)
        return -1;
    altcp_output(s->pcb);
    return 0;
}

static long
client_head(void *arg, const struct mpkt *h)
{
    struct sync *s = arg;

    if (s->cstate == 2) /* HELLO_ACK: our id1 back, no payload */
        return h->op == MOP_HELLO_ACK && h->id1 == s->id1 ? 0 : -1;
    if (h->id1 != s->id1 || h->id2 != s->id2)
        return -1;
    if (s->req.op == MOP_HASH)
        return h->op == MOP_HASH ? 32 : -1;
    if (h->op != MOP_SEND_FILE)
        return -1;
    /* a file answer never holds more than was asked */
    return (long)(s->file_cap - s->file_len) < (long)MPKT_LEN_MAX
               ? (long)(s->file_cap - s->file_len)
               : (long)MPKT_LEN_MAX;
}

static int
client_body(void *arg, const uint8_t *p, size_t n)
{
    struct sync *s = arg;

    if (s->file_len + n > s->file_cap)
        return -1;
    memcpy(s->file + s->file_len, p, n);
    s->file_len += (uint32_t)n;
    return 0;
}

static int
client_packet(void *arg, const struct mpkt *h)
{
    struct sync *s = arg;

    s->t_req = hal_clock_ms(); /* the next packet's own 5 s */
    if (s->cstate == 2) {
        s->ack = *h;
        s->ack_ok = 1;
        s->id2 = h->id2;
        if (s->req_from_ack != NULL && s->req_from_ack(s) != 0) {
            client_done(s, SYNC_R_REMEMBERED);
            return 1;
        }
        s->cstate = 3;
        if (client_send(s, &s->req) != 0)
            client_done(s, SYNC_R_CONNECT);
        return 0;
    }
    if (s->req.op == MOP_HASH || h->len < MPKT_LEN_MAX) {
        s->file_done = 1;
        client_done(s, SYNC_R_NONE);
        return 1;
    }
    return 0;
}

static err_t
client_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct sync *s = arg;

    (void)err;
    if (s == NULL || s->pcb != pcb) {
        if (p != NULL)
            pbuf_free(p);
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    if (p == NULL) { /* closed before the answer was whole */
        client_done(s, s->cstate == 3 && s->file_len > 0 ? SYNC_R_PROTOCOL
                                                         : SYNC_R_PROTOCOL);
        return ERR_OK;
    }
    altcp_recved(pcb, p->tot_len);
    for (struct pbuf *q = p; q != NULL && s->pcb == pcb; q = q->next) {
        s->got_bytes += q->len;
        if (s->cur < SYNC_SEEDS_MAX)
            s->cand[s->cur].bytes += q->len;
        if (mpkt_rx_feed(&s->crx, q->payload, q->len) < 0) {
            client_done(s, s->crx.err == MPKT_E_LEN ? SYNC_R_OVERSIZE
                                                    : SYNC_R_PROTOCOL);
            break;
        }
    }
    pbuf_free(p);
    return ERR_OK;
}

static void
client_err(void *arg, err_t err)
{
    struct sync *s = arg;

    if (s == NULL)
        return;
    s->pcb = NULL;
    s->cstate = 0;
    s->fail = s->ack_ok ? SYNC_R_PROTOCOL : SYNC_R_CONNECT;
    s->pending = 1;
    (void)err;
}

static err_t
client_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct sync *s = arg;
    struct mpkt h;

    (void)pcb;
    if (err != ERR_OK) {
        client_done(s, SYNC_R_CONNECT);
        return ERR_OK;
    }
    s->cstate = 2;
    s->t_req = hal_clock_ms();
    s->id2 = 0;
    stamp(s, &h, MOP_HELLO);
    if (client_send(s, &h) != 0)
        client_done(s, SYNC_R_CONNECT);
    return ERR_OK;
}

/* Ask peer at for req (after HELLO; fix, if given, fills the request in
 * from the peer's HELLO_ACK); the answer goes into buf (cap bytes). */
static int
client_request(struct sync *s, const struct sync_seed *at,
               const struct mpkt *req, int (*fix)(struct sync *), uint8_t *buf,
               uint32_t cap)
{
    struct mpkt_rx_ops ops = {.head = client_head,
                              .body = client_body,
                              .end = client_packet,
                              .arg = s};
    ip_addr_t a;

    s->req = *req;
    s->req_from_ack = fix;
    s->file = buf;
    s->file_cap = cap;
    s->file_len = 0;
    s->file_done = 0;
    s->ack_ok = 0;
    s->pending = 0;
    s->fail = SYNC_R_NONE;
    s->id1 = random16();
    s->id2 = 0;
    mpkt_rx_init(&s->crx, &ops);
    s->pcb = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
    if (s->pcb == NULL) {
        client_done(s, SYNC_R_CONNECT);
        return -ENOMEM;
    }
    IP_ADDR4(&a, at->ip[0], at->ip[1], at->ip[2], at->ip[3]);
    altcp_arg(s->pcb, s);
    altcp_recv(s->pcb, client_recv);
    altcp_err(s->pcb, client_err);
    s->cstate = 1;
    s->t_req = hal_clock_ms();
    if (altcp_connect(s->pcb, &a, at->port, client_connected) != ERR_OK) {
        client_done(s, SYNC_R_CONNECT);
        return -EIO;
    }
    return 0;
}

static void
client_timeouts(struct sync *s)
{
    uint64_t now = hal_clock_ms();
    uint64_t limit = s->cstate <= 2 ? SYNC_CONNECT_MS : SYNC_PACKET_MS;

    if (s->cstate != 0 && now - s->t_req > limit)
        client_done(s, SYNC_R_TIMEOUT);
}

/* ---- scan: tips and proof segments --------------------------------------- */

/* The proof request, made once the peer's HELLO_ACK told its tip;
 * nonzero (nothing asked) when the chain it claims is remembered. */
static int
proof_req(struct sync *s)
{
    if (guard_chain(s, s->ack.weight, s->ack.cblockhash) != NULL)
        return 1;
    uint64_t tip = s->ack.cblock;
    uint64_t first = tip + 1 >= SYNC_PROOF ? tip + 1 - SYNC_PROOF : 0;

    s->req.blocknum = first | ((tip - first + 1) << 32);
    return 0;
}

static void choose(struct sync *s);

static void
scan_next(struct sync *s)
{
    struct sync_cand *k;
    struct mpkt q;

    if (s->cur >= s->nseeds) {
        choose(s);
        return;
    }
    k = &s->cand[s->cur];
    memset(k, 0, sizeof(*k));
    k->at = s->seeds[s->cur];
    s->ncand = s->cur + 1;
    {
        const struct sync_bad *b = guard_peer(s, &k->at);

        if (b != NULL) { /* remembered: not asked */
            k->reason = b->reason;
            k->remembered = 1;
            s->skipped++;
            s->cur++;
            scan_next(s);
            return;
        }
    }
    stamp(s, &q, MOP_TF);
    client_request(s, &k->at, &q, proof_req, k->proof, sizeof(k->proof));
}

static void
refuse(struct sync *s, struct sync_cand *k, enum sync_reason r)
{
    char at[32];

    k->reason = (uint8_t)r;
    k->admitted = 0;
    s->refused[r]++;
    guard_add_peer(s, k, r);
    ip_text(k->at.ip, k->at.port, at, sizeof(at));
    klog(KLOG_WARN,
         "sync: %s refused: %s (tip %" PRIu64 ", %" PRIu64
         " bytes fetched from it)",
         at, sync_reason_name(r), k->tip, k->bytes);
}

static void
scan_outcome(struct sync *s)
{
    struct sync_cand *k = &s->cand[s->cur];

    if (s->ack_ok) {
        k->tip = s->ack.cblock;
        memcpy(k->bhash, s->ack.cblockhash, 32);
        sync_weight_from(s->ack.weight, &k->w);
    }
    if (s->fail == SYNC_R_REMEMBERED) { /* its chain is remembered */
        const struct sync_bad *b =
            guard_chain(s, s->ack.weight, s->ack.cblockhash);

        k->reason = b != NULL ? b->reason : SYNC_R_REMEMBERED;
        k->remembered = 1;
        s->skipped++;
    } else if (s->fail != SYNC_R_NONE) {
        refuse(s, k, s->fail);
    } else {
        uint64_t t0 = hal_clock_ms();

        k->reason = (uint8_t)sync_proof_check(s->c->pf, k, s->file_len,
                                              hal_clock_wall());
        s->proof_ms += hal_clock_ms() - t0;
        s->proof_checks++;
        if (k->reason != 0)
            refuse(s, k, (enum sync_reason)k->reason);
        else
            k->admitted = 1;
    }
    s->cur++;
    scan_next(s);
}

/* Distinct /24 networks among the admitted peers serving k's chain. */
static unsigned
nets_serving(const struct sync *s, const struct sync_cand *k)
{
    unsigned n = 0;

    for (unsigned i = 0; i < s->ncand; i++) {
        const struct sync_cand *a = &s->cand[i];
        int seen = 0;

        if (!a->admitted || chain_weight_cmp(&a->w, &k->w) != 0 ||
            memcmp(a->bhash, k->bhash, 32) != 0)
            continue;
        for (unsigned j = 0; j < i && !seen; j++) {
            const struct sync_cand *b = &s->cand[j];

            seen = b->admitted && chain_weight_cmp(&b->w, &k->w) == 0 &&
                   memcmp(b->bhash, k->bhash, 32) == 0 &&
                   memcmp(b->at.ip, a->at.ip, 3) == 0;
        }
        n += !seen;
    }
    return n;
}

static void finish(struct sync *s, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
finish(struct sync *s, int ok, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->why, sizeof(s->why), fmt, ap);
    va_end(ap);
    s->state = SYNC_IDLE;
    s->t_end = hal_clock_ms();
    guard_save(s);
    if (ok)
        s->syncs_ok++;
    else
        s->syncs_failed++;
    klog(ok ? KLOG_INFO : KLOG_WARN, "sync: %s", s->why);
}

static void dl_begin(struct sync *s);

/* The heaviest admitted chain; at equal weight the one more distinct
 * networks serve, then the larger hash. */
static void
choose(struct sync *s)
{
    int best = -1;

    for (unsigned i = 0; i < s->ncand; i++) {
        const struct sync_cand *k = &s->cand[i], *b;
        int cmp;

        if (!k->admitted)
            continue;
        if (best < 0) {
            best = (int)i;
            continue;
        }
        b = &s->cand[best];
        cmp = chain_weight_cmp(&k->w, &b->w);
        if (cmp == 0) {
            int d = (int)nets_serving(s, k) - (int)nets_serving(s, b);

            cmp = d != 0 ? d : memcmp(k->bhash, b->bhash, 32);
        }
        if (cmp > 0)
            best = (int)i;
    }
    if (best < 0) {
        finish(s, 0, "no peer proved a chain (%u asked)", s->ncand);
        return;
    }
    s->chosen = best;
    s->target = s->cand[best].tip;
    if (s->c->count > 0 && chain_weight_cmp(&s->cand[best].w, &s->c->w) <= 0) {
        finish(s, 1,
               "in sync: tip %" PRIu64
               "; the heaviest proved chain (tip %" PRIu64
               ", %u network%s) is not heavier",
               chain_tip_bnum(s->c), s->target, nets_serving(s, &s->cand[best]),
               nets_serving(s, &s->cand[best]) == 1 ? "" : "s");
        return;
    }
    s->state = SYNC_DOWNLOAD;
    dl_begin(s);
}

/* ---- download --------------------------------------------------------- */

static int
same_chain(const struct sync_cand *a, const struct sync_cand *b)
{
    return chain_weight_cmp(&a->w, &b->w) == 0 &&
           memcmp(a->bhash, b->bhash, 32) == 0 && a->tip == b->tip;
}

/* The chosen chain's claim is false or cannot be followed: every peer
 * that made it is refused with r, and the next-best chain chosen. */
static void
drop_chain(struct sync *s, enum sync_reason r)
{
    const struct sync_cand ch = s->cand[s->chosen];

    if (s->rx_open) {
        (void)chain_rx_end(&s->rx, 0);
        s->rx_open = 0;
    }
    for (unsigned i = 0; i < s->ncand; i++)
        if (s->cand[i].admitted && same_chain(&s->cand[i], &ch))
            refuse(s, &s->cand[i], r);
    /* A claim is remembered only when it is refuted by the chain
     * itself: the stored chain ends at the claimed hash (the proof
     * segment forced it) and its weight fell short, so no liar can get
     * an honest claim remembered. */
    if (r == SYNC_R_WEIGHT_SHORT)
        guard_add_chain(s, &ch, r);
    s->state = SYNC_SCAN;
    choose(s);
}

/* Ask the next quorum member (in turn) for trailers [first, first +
 * count).  0, or -ENOENT when no peer of the chosen chain is left. */
static int
ask_range(struct sync *s, uint64_t first, uint64_t count)
{
    const struct sync_cand *ch = &s->cand[s->chosen];
    int pick = -1;
    struct mpkt q;

    if (count > SYNC_RANGE)
        count = SYNC_RANGE;
    for (unsigned i = 1; i <= s->ncand && pick < 0; i++) {
        unsigned j = (s->cur + i) % s->ncand;

        if (s->cand[j].admitted && same_chain(&s->cand[j], ch))
            pick = (int)j;
    }
    if (pick < 0)
        return -ENOENT;
    s->cur = (unsigned)pick;
    s->dl_start = first;
    s->dl_count = (uint32_t)count;
    stamp(s, &q, MOP_TF);
    q.blocknum = first | (count << 32);
    client_request(s, &s->cand[pick].at, &q, NULL, s->range,
                   (uint32_t)count * TRAILER_LEN);
    return 0;
}

/* Open the stream into the chain from trailer first (stored and common,
 * or 0 on an empty node) to the target. */
static int
stream_open(struct sync *s, uint64_t first)
{
    int rc = chain_rx_begin_at(
        &s->rx, s->c, first, (s->target - first + 1) * TRAILER_LEN,
        &(struct chain_opts){hal_clock_wall(), 1}, &s->res);

    if (rc != 0) {
        finish(s, 0, "cannot follow from %" PRIu64 ": %s", first, s->c->why);
        return rc;
    }
    s->rx_open = 1;
    s->dl_phase = 1;
    s->stream_next = first;
    return 0;
}

/* Start (or start again) the download of the chosen chain: on an empty
 * node a stream from genesis; else first find where the chains part,
 * one trailer at a time (a TF of 1): the tip (the common case: the peer
 * extends this chain), then the deepest point followed, then halving
 * the distance between a common trailer and a differing one. */
static void
dl_begin(struct sync *s)
{
    struct chain *c = s->c;
    uint64_t tip;

    if (s->rx_open) {
        (void)chain_rx_end(&s->rx, 0);
        s->rx_open = 0;
    }
    if (c->count == 0) {
        if (stream_open(s, 0) == 0 && ask_range(s, 0, s->target + 1) != 0)
            drop_chain(s, SYNC_R_NONE);
        return;
    }
    tip = chain_tip_bnum(c);
    if (tip > s->target) /* a heavier but shorter chain */
        tip = s->target;
    s->dl_phase = 0;
    s->fork_hi = tip + 1; /* nothing known to differ yet */
    s->fork_lo = tip > c->base + s->fork_max ? tip - s->fork_max : c->base;
    s->probe_lo_known = 0;
    if (ask_range(s, tip, 1) != 0)
        drop_chain(s, SYNC_R_NONE);
}

static void
dl_done(struct sync *s)
{
    struct chain *c = s->c;
    struct sync_cand *k = &s->cand[s->cur];
    int rc = chain_rx_end(&s->rx, 1);

    s->rx_open = 0;
    s->got_trailers += s->res.appended;
    s->trailers_fetched += s->res.appended;
    if (rc != 0) {
        finish(s, 0, "following the chain failed: %s", c->why);
        return;
    }
    if (s->res.bad != CHAIN_OK) {
        refuse(s, k, sync_reason_of(s->res.bad));
        dl_begin(s);
        return;
    }
    if (s->res.kept || chain_weight_cmp(&c->w, &k->w) < 0) {
        /* what was fetched is valid and kept (appended); the claim was
         * not */
        drop_chain(s, SYNC_R_WEIGHT_SHORT);
        return;
    }
    finish(s, 1, "synced to tip %" PRIu64 " (%" PRIu64 " trailers new%s)",
           chain_tip_bnum(c), s->got_trailers,
           s->res.replaced ? ", a heavier fork replaced the stored branch"
                           : "");
}

/* Feed the stream trailers [from, from + n) held at p. */
static void
dl_feed(struct sync *s, const uint8_t *p, uint64_t from, uint32_t n)
{
    struct sync_cand *k = &s->cand[s->cur];
    int rc;

    /* the proof segment, byte for byte at its own offset */
    for (uint32_t i = 0; i < n; i++) {
        uint64_t at = from + i;

        if (at >= k->proof_first && at < k->proof_first + k->proof_n &&
            memcmp(p + (size_t)i * TRAILER_LEN,
                   k->proof + (at - k->proof_first) * TRAILER_LEN,
                   TRAILER_LEN) != 0) {
            refuse(s, k, SYNC_R_TAIL);
            if (ask_range(s, s->stream_next, s->target - s->stream_next + 1))
                drop_chain(s, SYNC_R_NONE);
            return;
        }
    }
    rc = chain_rx_put(&s->rx, p, (size_t)n * TRAILER_LEN);
    if (rc < 0) {
        (void)chain_rx_end(&s->rx, 0);
        s->rx_open = 0;
        finish(s, 0, "following the chain failed: %s", s->c->why);
        return;
    }
    s->stream_next = from + n;
    if (rc == 1 || s->stream_next > s->target) {
        dl_done(s);
        return;
    }
    if (ask_range(s, s->stream_next, s->target - s->stream_next + 1) != 0)
        drop_chain(s, SYNC_R_NONE);
}

static void
dl_outcome(struct sync *s)
{
    struct chain *c = s->c;
    struct sync_cand *k = &s->cand[s->cur];
    uint32_t n = s->file_len / TRAILER_LEN;

    if (s->fail == SYNC_R_NONE &&
        (s->file_len % TRAILER_LEN != 0 || n == 0 ||
         (n < s->dl_count && s->dl_start + n - 1 < k->tip)))
        s->fail = SYNC_R_PROTOCOL; /* less than it advertised */
    if (s->fail != SYNC_R_NONE) {
        /* another member of the quorum takes over the same range */
        refuse(s, k, s->fail);
        if (ask_range(s, s->dl_start,
                      s->dl_phase == 0 ? s->dl_count
                                       : s->target - s->dl_start + 1) != 0)
            drop_chain(s, SYNC_R_NONE);
        return;
    }
    if (s->dl_phase == 1) {
        dl_feed(s, s->range, s->dl_start, n);
        return;
    }
    /* finding the fork: is the probed trailer common? */
    {
        uint64_t b = s->dl_start;
        uint8_t t[TRAILER_LEN];
        int common =
            chain_read(c, b, t) == 0 && memcmp(t, s->range, TRAILER_LEN) == 0;

        if (common && b == s->fork_hi - 1) { /* the tip, or just below
                                                 a differing one */
            if (b == s->target) {
                drop_chain(s, SYNC_R_WEIGHT_SHORT); /* nothing new */
                return;
            }
            if (stream_open(s, b) == 0 &&
                ask_range(s, b, s->target - b + 1) != 0)
                drop_chain(s, SYNC_R_NONE);
            return;
        }
        if (common) {
            s->fork_lo = b;
            s->probe_lo_known = 1;
        } else if (b == s->fork_lo) {
            s->refused[SYNC_R_FORK]++;
            klog(KLOG_WARN,
                 "sync: the chain of tip %" PRIu64 " forks deeper than %u "
                 "below this node's tip (sync_fork_max), or from its base: "
                 "not followed",
                 s->target, (unsigned)s->fork_max);
            drop_chain(s, SYNC_R_FORK); /* deeper than the limit, or
                                           another chain */
            return;
        } else {
            s->fork_hi = b;
        }
        /* the next probe: the deepest point first, then halfway */
        b = !s->probe_lo_known ? s->fork_lo
                               : s->fork_lo + (s->fork_hi - s->fork_lo) / 2;
        if (s->probe_lo_known && s->fork_hi - s->fork_lo == 1) {
            if (stream_open(s, s->fork_lo) == 0 &&
                ask_range(s, s->fork_lo, s->target - s->fork_lo + 1) != 0)
                drop_chain(s, SYNC_R_NONE);
            return;
        }
        if (ask_range(s, b, 1) != 0)
            drop_chain(s, SYNC_R_NONE);
    }
}

/* ---- the loop ----------------------------------------------------------- */

int
sync_start(struct sync *s)
{
    if (s->state != SYNC_IDLE)
        return -EBUSY;
    if (s->nseeds == 0)
        return -ENOENT;
    memset(s->cand, 0, sizeof(s->cand));
    s->ncand = 0;
    s->cur = 0;
    s->chosen = -1;
    s->got_trailers = 0;
    s->got_bytes = 0;
    s->why[0] = '\0';
    s->state = SYNC_SCAN;
    s->t_start = hal_clock_ms();
    s->runs++;
    scan_next(s);
    return 0;
}

void
sync_tick(struct sync *s, int up, uint16_t port, uint32_t poll_s,
          uint32_t fork_max)
{
    s->fork_max = fork_max > 0 ? fork_max : SYNC_FORK_MAX;
    serve_tick(s, up ? port : 0);
    /* following: poll again once a sync has run */
    if (up && s->state == SYNC_IDLE && s->runs > 0 && poll_s > 0 &&
        s->nseeds > 0 && hal_clock_ms() - s->t_end >= poll_s * 1000ull)
        (void)sync_start(s);
    client_timeouts(s);
    if (!s->pending)
        return;
    s->pending = 0;
    if (s->state == SYNC_SCAN)
        scan_outcome(s);
    else if (s->state == SYNC_DOWNLOAD)
        dl_outcome(s);
}
