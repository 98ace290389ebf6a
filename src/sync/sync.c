/*
 * sync/sync.c - serving and following the Mochimo chain (sync.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
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
#include "lwip/netif.h"
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
 * trailers than asked), "short" (answer a TF with half the range),
 * "ipl" (answer GET_IPL with 64 invented addresses on its own /24, from
 * host KEEL_SIM_SYNC_IPL_BASE on, 150 by default),
 * "vanish" (honest until the first TF that is not a proof segment,
 * then reset and gone for good), "grow" (an honest file that grows by
 * 100 trailers once a proof segment has been served: a chain that grows
 * during a sync). */
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
             : strcmp(l, "ipl") == 0      ? 6
             : strcmp(l, "vanish") == 0   ? 7
             : strcmp(l, "grow") == 0     ? 8
                                          : 0;
    {
        const char *b = hal_sys_param("KEEL_SIM_SYNC_IPL_BASE");

        s->lie_ipl_base = b != NULL ? (uint8_t)atoi(b) : 150;
    }
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
    if (s->lie_file && s->lie == 8 && !s->grown && s->lie_n > 100)
        return s->lie_n - 100;
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

        if (srv_read(s, srv_count(s) - 1, t) == 0) {
            h->cblock = srv_count(s) - 1;
            memcpy(h->cblockhash, t + 128, 32);
            memcpy(h->pblockhash, t, 32);
            struct chain_weight w = s->lie_w;

            /* the part not served yet does not count */
            for (uint64_t b = srv_count(s); b < s->lie_n; b++)
                if (srv_read(s, b, t) == 0)
                    chain_weight_sub(&w, t);
            sync_weight_bytes(&w, h->weight);
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

    s->nseeds = n > 0 ? sync_seeds_decode(b, (size_t)n, s->seeds) : 0;
}

static int
seeds_save(struct sync *s)
{
    uint8_t b[SYNC_SEEDS_MAX * 6];
    size_t n = sync_seeds_encode(s->seeds, s->nseeds, b);

    if (n == 0) {
        int rc = store_del(s->st, SYNC_SEEDS_KEY);

        return rc == -ENOENT ? 0 : rc;
    }
    return store_put(s->st, SYNC_SEEDS_KEY, b, n);
}

/* ---- the peer table on flash (book.h) ------------------------------------- */

static void
book_load(struct sync *s)
{
    uint8_t b[SYNC_PEERS_HDR + SYNC_PEERS_HALF * SYNC_PEER_REC];
    const char *keys[2] = {SYNC_PEERS_KEY0, SYNC_PEERS_KEY1};
    unsigned skipped = 0;

    memset(&s->book, 0, sizeof(s->book));
    for (int h = 0; h < 2; h++) {
        int n = store_get(s->st, keys[h], b, sizeof(b));

        if (n > 0 && sync_book_decode(&s->book, b, (size_t)n, &skipped) < 0)
            klog(KLOG_WARN, "sync: store record %s is damaged: not used",
                 keys[h]);
    }
    if (skipped > 0)
        klog(KLOG_WARN, "sync: %u peer table entries were not valid: dropped",
             skipped);
}

/* Write the table when an entry came or went or was pinklisted; when
 * only scores and times moved, at most once an hour (flash wear). */
static void
book_save(struct sync *s, int force)
{
    uint8_t b[SYNC_PEERS_HDR + SYNC_PEERS_HALF * SYNC_PEER_REC];
    const char *keys[2] = {SYNC_PEERS_KEY0, SYNC_PEERS_KEY1};
    uint64_t now = hal_clock_ms();
    int rc = 0;

    if (s->st == NULL ||
        !(s->book.dirty || force ||
          (s->book.soft_dirty && now - s->book_saved >= 3600 * 1000ull)))
        return;
    for (int h = 0; h < 2 && rc == 0; h++) {
        size_t n = sync_book_encode(&s->book, h, b);

        if (n == SYNC_PEERS_HDR) {
            rc = store_del(s->st, keys[h]);
            rc = rc == -ENOENT ? 0 : rc;
        } else {
            rc = store_put(s->st, keys[h], b, n);
        }
    }
    if (rc != 0) {
        klog(KLOG_WARN, "sync: cannot save the peer table: %s", strerror(-rc));
        return;
    }
    s->book.dirty = 0;
    s->book.soft_dirty = 0;
    s->book_saved = now;
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
    for (unsigned i = 0; i < SYNC_INFLIGHT; i++)
        s->conn[i].s = s;
    if (st != NULL) {
        seeds_load(s);
        book_load(s);
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
           r != SYNC_R_FORK && r != SYNC_R_REMEMBERED && r != SYNC_R_CLOSED;
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
    for (unsigned i = 0; i < s->nbad; i++)
        if (guard_live(&s->bad[i])) {
            sync_bad_encode1(&s->bad[i], buf + n);
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
    unsigned skipped = 0;

    s->nbad =
        n > 0 ? sync_bad_decode(buf, (size_t)n, s->bad, SYNC_R_COUNT, &skipped)
              : 0;
    if (skipped > 0)
        klog(KLOG_WARN, "sync: %u entries of %s were not valid: dropped",
             skipped, SYNC_BAD_KEY);
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

/* A trailer that failed, remembered by the SHA-256 of its bytes after
 * those of the trailer before it (what it was checked against) and its
 * bnum: the same pair is refused unchecked from any peer that sends it.
 * Only pairs within one range are remembered and matched. */
static void
pair_hash(const uint8_t *prev, const uint8_t *t, uint8_t out[32])
{
    struct crypto_sha256 h;

    crypto_sha256_init(&h);
    crypto_sha256_update(&h, prev, TRAILER_LEN);
    crypto_sha256_update(&h, t, TRAILER_LEN);
    crypto_sha256_final(&h, out);
}

/* A remembered trailer among the n at p (bnum from on), or NULL. */
static const struct sync_bad *
guard_trailer_in(const struct sync *s, const uint8_t *p, uint64_t from,
                 uint32_t n)
{
    for (unsigned i = 0; i < s->nbad; i++) {
        const struct sync_bad *b = &s->bad[i];
        uint64_t at = lib_le64(b->weight);
        uint8_t h[32];

        if (b->kind != SYNC_BAD_RANGE || !guard_live(b) || at <= from ||
            at >= from + n)
            continue;
        pair_hash(p + (size_t)(at - from - 1) * TRAILER_LEN,
                  p + (size_t)(at - from) * TRAILER_LEN, h);
        if (memcmp(h, b->hash, 32) == 0)
            return b;
    }
    return NULL;
}

/* Remember trailer bad (which failed for r) of the n at p, from on. */
static void
guard_add_trailer(struct sync *s, const uint8_t *p, uint64_t from, uint32_t n,
                  uint64_t bad, enum sync_reason r)
{
    struct sync_bad *b;
    uint8_t h[32];

    if (!is_lie(r) || bad <= from || bad >= from + n ||
        guard_trailer_in(s, p, from, n) != NULL)
        return;
    pair_hash(p + (size_t)(bad - from - 1) * TRAILER_LEN,
              p + (size_t)(bad - from) * TRAILER_LEN, h);
    b = guard_slot(s);
    memset(b, 0, sizeof(*b));
    b->kind = SYNC_BAD_RANGE;
    b->reason = (uint8_t)r;
    memcpy(b->hash, h, 32);
    lib_put64(b->weight, bad);
    lib_put32(b->weight + 8, 1);
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

static int link_flush(struct sync_served *v);

static void
served_end(struct sync_served *v)
{
    struct altcp_pcb *p = v->pcb;
    struct sync *s = v->s;

    /* a link session sends what it staged first (serve_tick retries
     * while the link has no room, for at most the answer's 30 s) */
    if (v->on_link && v->lfill > 0 && v->state != 0 &&
        link_flush(v) == -EAGAIN && hal_clock_ms() - v->t0 < 30000) {
        v->state = 4;
        return;
    }
    v->state = 0;
    if (s != NULL && s->found_owner == v)
        s->found_owner = NULL;
    if (v->on_link) { /* the end of the session: a frame of its id alone */
        uint8_t b[2];

        lib_put16(b, v->sess);
        if (s->links.send != NULL)
            (void)s->links.send(s->links.arg, v->link, SYNC_LINK_S2C, b, 2);
        v->on_link = 0;
        v->lfill = 0;
        return;
    }
    if (p == NULL)
        return;
    v->pcb = NULL;
    net_pcb_close(p);
}

/* ---- where an answer goes: the TCP connection, or link frames ------------ */

static int
out_write(struct altcp_pcb *p, const void *b, size_t n)
{
    return altcp_write(p, b, (u16_t)n, TCP_WRITE_FLAG_COPY) == ERR_OK ? 0 : -1;
}

static int
srv_alive(const struct sync_served *v)
{
    return v->state != 0 && (v->on_link || v->pcb != NULL);
}

/* Send what is staged for a link session: 0, or -EAGAIN (the link has
 * no room now; kept), or < 0 (the link is gone: the session ends). */
/* The pacing window of a link: its own, or the stalest one. */
static struct sync_pace *
pace_of(struct sync *s, uint32_t link)
{
    struct sync_pace *e = &s->pace[0];

    for (unsigned i = 0; i < SYNC_SERVE_MAX; i++) {
        if (s->pace[i].link == link)
            return &s->pace[i];
        if (s->pace[i].t < e->t)
            e = &s->pace[i];
    }
    memset(e, 0, sizeof(*e));
    e->link = link;
    return e;
}

static int
link_flush(struct sync_served *v)
{
    struct sync *s = v->s;
    struct sync_pace *e;
    uint32_t bytes = UINT32_MAX, frames = UINT32_MAX;
    uint64_t now = hal_clock_ms();
    int rc;

    if (v->lfill == 0)
        return 0;
    /* sync's share of the link, by the second (sync.h) */
    if (s->links.share != NULL)
        s->links.share(s->links.arg, &bytes, &frames);
    e = pace_of(s, v->link);
    if (now - e->t >= 1000) {
        e->t = now;
        e->bytes = 0;
        e->frames = 0;
    }
    if (e->bytes + 2 + v->lfill > bytes || e->frames + 1 > frames)
        return -EAGAIN;
    lib_put16(v->lbuf, v->sess);
    rc = s->links.send(s->links.arg, v->link, SYNC_LINK_S2C, v->lbuf,
                       2 + v->lfill);
    if (rc == 0) {
        e->bytes += 2 + v->lfill;
        e->frames++;
    }
    if (rc == 0)
        v->lfill = 0;
    else if (rc != -EAGAIN) {
        v->on_link = 0; /* gone: nothing more to send it */
        v->lfill = 0;
        v->state = 0;
    }
    return rc;
}

static size_t
sink_room(struct sync_served *v)
{
    if (!v->on_link)
        return altcp_sndbuf(v->pcb);
    if (SYNC_LINK_MAX - v->lfill < MPKT_HDR + MPKT_TAIL)
        (void)link_flush(v); /* room for a header or a tail, at least */
    return v->state != 0 ? SYNC_LINK_MAX - v->lfill : 0;
}

static int
sink_write(struct sync_served *v, const void *b, size_t n)
{
    if (!v->on_link)
        return out_write(v->pcb, b, n);
    if (n > SYNC_LINK_MAX - v->lfill)
        return -1;
    memcpy(v->lbuf + 2 + v->lfill, b, n);
    v->lfill += (uint32_t)n;
    return 0;
}

static void
sink_output(struct sync_served *v)
{
    if (!v->on_link)
        altcp_output(v->pcb);
    else
        (void)link_flush(v);
}

/* Send a whole short packet (at most sizeof(v->out)). */
static void
served_send(struct sync_served *v, struct mpkt *h, const uint8_t *payload)
{
    size_t n;

    h->id1 = v->id1;
    h->id2 = v->id2;
    n = mpkt_encode(v->out, h, payload);
    if (sink_room(v) < n || sink_write(v, v->out, n) != 0) {
        served_end(v);
        return;
    }
    sink_output(v);
}

/* Write as much of the file answer as the send buffer takes: a header,
 * payload bytes read trailer by trailer from the chain log (never more
 * than one trailer in RAM), the tail; again until a packet shorter than
 * 64 KiB - 1 (perhaps empty) has ended the file. */
static void
served_pump(struct sync_served *v)
{
    struct sync *s = v->s;

    while (srv_alive(v) && v->state == 3) {
        size_t room = sink_room(v), k;

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
            if (sink_write(v, hb, MPKT_HDR) != 0)
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
            if (k == 0 || sink_write(v, v->t + v->t_off, k) != 0)
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
            if (sink_write(v, tb, MPKT_TAIL) != 0)
                break;
            s->served_bytes += MPKT_TAIL;
            v->phase = 0;
        }
    }
    if (srv_alive(v))
        sink_output(v);
    /* lwIP sends what is queued, then FIN; a link session ends once all
     * is sent (serve_tick retries what the link had no room for) */
    if (srv_alive(v) && v->state == 4 && (!v->on_link || v->lfill == 0))
        served_end(v);
}

static long
served_head(void *arg, const struct mpkt *h)
{
    struct sync_served *v = arg;
    struct sync *s = v->s;

    if (v->state == 1)
        return h->op == MOP_HELLO ? 0 : -1;
    if (v->state != 2 || h->id1 != v->id1 || h->id2 != v->id2)
        return -1;
    /* a pushed block: its proof segment, one push checked at a time and
     * at most one a second (each costs SYNC_PROOF proofs of work) */
    if (h->op == MOP_FOUND) {
        uint64_t now = hal_clock_ms();

        if (v->on_link)
            return -1; /* pushes come from Mochimo peers, over TCP */

        if (s->found_owner != NULL ||
            (s->found_t != 0 && now - s->found_t < SYNC_FOUND_MS)) {
            s->found_dropped++;
            return -1;
        }
        s->found_owner = v;
        s->found_t = now;
        v->found_len = 0;
        return SYNC_PROOF * TRAILER_LEN;
    }
    return 0; /* the other requests keel serves take no payload */
}

static int
served_body(void *arg, const uint8_t *p, size_t n)
{
    struct sync_served *v = arg;
    struct sync *s = v->s;

    if (s->found_owner != v || v->found_len + n > sizeof(s->found_k.proof))
        return -1;
    memcpy(s->found_k.proof + v->found_len, p, n);
    v->found_len += (uint32_t)n;
    return 0;
}

/* A FOUND push: checked like any scanned peer's proof segment; a proved
 * chain heavier than this node's starts a sync, with the pusher in the
 * peer table; a segment that fails is a lie, remembered. */
static void
found_check(struct sync *s, struct sync_served *v, const struct mpkt *q)
{
    struct sync_cand *k = &s->found_k;
    char at[32];
    uint64_t t0 = hal_clock_ms();

    memset(k, 0, offsetof(struct sync_cand, proof));
    memcpy(k->at.ip, v->ip, 4);
    k->at.port = s->port; /* a network's peers share one port */
    k->tip = q->cblock;
    memcpy(k->bhash, q->cblockhash, 32);
    sync_weight_from(q->weight, &k->w);
    k->bytes = q->len;
    ip_text(k->at.ip, k->at.port, at, sizeof(at));
    if (guard_peer(s, &k->at) != NULL ||
        guard_chain(s, q->weight, q->cblockhash) != NULL) {
        s->found_dropped++;
        s->skipped++;
        return;
    }
    k->reason =
        (uint8_t)sync_proof_check(s->c->pf, k, q->len, hal_clock_wall());
    s->proof_ms += hal_clock_ms() - t0;
    s->proof_checks++;
    if (k->reason != SYNC_R_NONE) {
        s->found_refused++;
        s->refused[k->reason]++;
        guard_add_peer(s, k, (enum sync_reason)k->reason);
        sync_book_lied(&s->book,
                       sync_book_find(&s->book, k->at.ip, k->at.port));
        guard_save(s);
        klog(KLOG_WARN, "sync: FOUND from %s refused: %s", at,
             sync_reason_name(k->reason));
        return;
    }
    s->found_ok++;
    if (s->c->count > 0 && chain_weight_cmp(&k->w, &s->c->w) <= 0)
        return; /* proved, and nothing new */
    if (seed_find(s, &k->at) < 0)
        (void)sync_book_learn(&s->book, k->at.ip, k->at.port, SYNC_SRC_FOUND,
                              k->at.ip);
    s->kick = 1;
    klog(KLOG_INFO,
         "sync: FOUND from %s proves a heavier chain (tip %" PRIu64
         "): syncing",
         at, k->tip);
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
        if (s->lie == 7 && (n != SYNC_PROOF || first + n != count)) {
            s->vanished = 1; /* gone, mid-download: reset (served_recv) */
            v->state = 5;
            return;
        }
        if (s->lie == 8 && n == SYNC_PROOF && first + n == count)
            s->grown = 1; /* from the next request on, 100 more */
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
        /* the seeds, then peers that answered honestly */
        uint8_t ipl[MPKT_IPL_MAX][4];
        unsigned n = 0;

        srv_stamp(s, &h, MOP_SEND_IPL);
        for (unsigned i = 0; i < s->nseeds && n < MPKT_IPL_MAX; i++)
            memcpy(ipl[n++], s->seeds[i].ip, 4);
        n += sync_book_good(&s->book, ipl + n, MPKT_IPL_MAX - n);
#if KEEL_TEST_HOOKS
        if (s->lie == 6 && netif_default != NULL) /* 64 invented */
            for (n = 0; n < MPKT_IPL_MAX; n++) {
                memcpy(ipl[n], &ip_2_ip4(&netif_default->ip_addr)->addr, 3);
                ipl[n][3] = (uint8_t)(s->lie_ipl_base + n);
            }
#endif
        h.len = (uint16_t)(4 * n);
        served_send(v, &h, ipl[0]);
        served_end(v);
        return;
    }
    case MOP_FOUND:
        if (s->found_owner == v && v->found_len == q->len)
            found_check(s, v, q);
        served_end(v);
        return;
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
    if (v->state == 5) { /* a test's vanishing peer: reset */
        v->pcb = NULL;
        v->state = 0;
        altcp_abort(pcb);
        return ERR_ABRT;
    }
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
        if (v->s != NULL && v->s->found_owner == v)
            v->s->found_owner = NULL;
    }
}

static err_t
served_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct sync *s = arg;
    struct sync_served *v = NULL;
    struct mpkt_rx_ops ops = {
        .head = served_head, .body = served_body, .end = served_packet};

    if (err != ERR_OK || pcb == NULL)
        return ERR_VAL;
    if (s->vanished) { /* a test's vanished peer answers nothing */
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    for (unsigned i = 0; i < SYNC_SERVE_MAX && v == NULL; i++)
        if (s->served[i].state == 0)
            v = &s->served[i];
    if (v == NULL) {
        s->serve_busy++;
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    memset(v, 0, offsetof(struct sync_served, lbuf));
    v->s = s;
    v->pcb = pcb;
    v->state = 1;
    v->t0 = hal_clock_ms();
    {
        const ip_addr_t *ra = altcp_get_ip(pcb, 0);

        if (ra != NULL && IP_IS_V4(ra))
            memcpy(v->ip, &ip_2_ip4(ra)->addr, 4);
    }
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

        if (v->state != 0 && now - v->t0 > limit) {
            served_end(v);
            continue;
        }
        /* a link session goes on as its link takes frames */
        if (v->on_link && v->state == 3)
            served_pump(v);
        else if (v->on_link && v->state == 4)
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

/* ---- the client: requests, SYNC_INFLIGHT at once ------------------------- */

static void
conn_close(struct sync_conn *q)
{
    struct altcp_pcb *p = q->pcb;
    struct sync *s = q->s;

    if (q->on_link) { /* the end of the session: a frame of its id alone */
        uint8_t b[2];

        lib_put16(b, q->sess);
        if (q->cstate != 0 && s->links.send != NULL)
            (void)s->links.send(s->links.arg, q->link, SYNC_LINK_C2S, b, 2);
        q->on_link = 0;
    }
    q->cstate = 0;
    if (p == NULL)
        return;
    q->pcb = NULL;
    net_pcb_close(p);
}

/* The request ended: ok, or failed with reason r. */
static void
conn_done(struct sync_conn *q, enum sync_reason r)
{
    conn_close(q);
    q->fail = r;
    q->pending = 1;
}

static int
conn_send(struct sync_conn *q, struct mpkt *h)
{
    struct sync *s = q->s;
    uint8_t b[MPKT_HDR + MPKT_TAIL];
    const uint8_t *out = b;
    size_t n;

    h->id1 = q->id1;
    h->id2 = q->id2;
    if (h->op == MOP_FOUND && q->job == SYNC_JOB_FOUND) {
        /* the push: its payload waits in s->push (sync_push) */
        h->len = SYNC_PROOF * TRAILER_LEN;
        mpkt_put_head(s->push, h);
        n = MPKT_HDR + (size_t)h->len;
        mpkt_put_tail(s->push + n, lib_crc16(0, s->push, n));
        n += MPKT_TAIL;
        out = s->push;
    } else {
        h->len = 0;
        n = mpkt_encode(b, h, NULL);
    }
    if (q->on_link) { /* one frame: the session id, the packet */
        uint8_t f[2 + MPKT_HDR + MPKT_TAIL];

        if (n > sizeof(f) - 2 || s->links.send == NULL)
            return -1; /* a push is not sent over links */
        lib_put16(f, q->sess);
        memcpy(f + 2, out, n);
        return s->links.send(s->links.arg, q->link, SYNC_LINK_C2S, f,
                             (uint32_t)(n + 2)) == 0
                   ? 0
                   : -1;
    }
    if (altcp_write(q->pcb, out, n, TCP_WRITE_FLAG_COPY) != ERR_OK)
        return -1;
    altcp_output(q->pcb);
    return 0;
}

static long
conn_head(void *arg, const struct mpkt *h)
{
    struct sync_conn *q = arg;
    long room = (long)(q->file_cap - q->file_len);

    if (q->cstate == 2) /* HELLO_ACK: our id1 back, no payload */
        return h->op == MOP_HELLO_ACK && h->id1 == q->id1 ? 0 : -1;
    if (h->id1 != q->id1 || h->id2 != q->id2)
        return -1;
    if (q->req.op == MOP_HASH)
        return h->op == MOP_HASH ? 32 : -1;
    if (q->req.op == MOP_GET_IPL) /* at most 64 addresses */
        return h->op == MOP_SEND_IPL ? room : -1;
    if (h->op != MOP_SEND_FILE)
        return -1;
    /* a file answer never holds more than was asked */
    return room < (long)MPKT_LEN_MAX ? room : (long)MPKT_LEN_MAX;
}

static int
conn_body(void *arg, const uint8_t *p, size_t n)
{
    struct sync_conn *q = arg;

    if (q->file_len + n > q->file_cap)
        return -1;
    memcpy(q->file + q->file_len, p, n);
    q->file_len += (uint32_t)n;
    return 0;
}

static int
conn_packet(void *arg, const struct mpkt *h)
{
    struct sync_conn *q = arg;

    q->t_req = hal_clock_ms(); /* the next packet's own 5 s */
    if (q->cstate == 2) {
        q->ack = *h;
        q->ack_ok = 1;
        q->id2 = h->id2;
        if (q->req_from_ack != NULL && q->req_from_ack(q) != 0) {
            conn_done(q, SYNC_R_REMEMBERED);
            return 1;
        }
        q->cstate = 3;
        if (conn_send(q, &q->req) != 0)
            conn_done(q, SYNC_R_CONNECT);
        return 0;
    }
    if (q->req.op == MOP_HASH || q->req.op == MOP_GET_IPL ||
        h->len < MPKT_LEN_MAX) {
        q->file_done = 1;
        conn_done(q, SYNC_R_NONE);
        return 1;
    }
    return 0;
}

/* Bytes of the answer, from TCP or a link: < 0 when they ended it. */
static int
conn_feed(struct sync_conn *q, const void *p, size_t n)
{
    struct sync *s = q->s;

    s->got_bytes += n;
    if (q->k < s->ncand)
        s->cand[q->k].bytes += n;
    if (mpkt_rx_feed(&q->crx, p, n) < 0) {
        conn_done(q,
                  q->crx.err == MPKT_E_LEN ? SYNC_R_OVERSIZE : SYNC_R_PROTOCOL);
        return -1;
    }
    return 0;
}

static err_t
conn_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct sync_conn *q = arg;

    (void)err;
    if (q == NULL || q->pcb != pcb) {
        if (p != NULL)
            pbuf_free(p);
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    if (p == NULL) { /* closed before the answer was whole */
        /* a push has no answer: the peer closes once it has it; else a
         * peer that went away (not held as a lie: an answer cut short
         * proves nothing false) */
        conn_done(q, q->job == SYNC_JOB_FOUND && q->cstate == 3
                         ? SYNC_R_NONE
                         : SYNC_R_CLOSED);
        return ERR_OK;
    }
    altcp_recved(pcb, p->tot_len);
    for (struct pbuf *b = p; b != NULL && q->pcb == pcb; b = b->next)
        if (conn_feed(q, b->payload, b->len) < 0)
            break;
    pbuf_free(p);
    return ERR_OK;
}

static void
conn_err(void *arg, err_t err)
{
    struct sync_conn *q = arg;

    (void)err;
    if (q == NULL)
        return;
    q->pcb = NULL;
    q->cstate = 0;
    q->fail = q->ack_ok ? SYNC_R_CLOSED : SYNC_R_CONNECT;
    q->pending = 1;
}

static err_t
conn_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct sync_conn *q = arg;
    struct mpkt h;

    (void)pcb;
    if (err != ERR_OK) {
        conn_done(q, SYNC_R_CONNECT);
        return ERR_OK;
    }
    q->cstate = 2;
    q->t_req = hal_clock_ms();
    q->id2 = 0;
    stamp(q->s, &h, MOP_HELLO);
    if (conn_send(q, &h) != 0)
        conn_done(q, SYNC_R_CONNECT);
    return ERR_OK;
}

static struct sync_conn *
conn_free(struct sync *s)
{
    for (unsigned i = 0; i < SYNC_INFLIGHT; i++)
        if (!s->conn[i].busy)
            return &s->conn[i];
    return NULL;
}

static unsigned
conns_busy(const struct sync *s)
{
    unsigned n = 0;

    for (unsigned i = 0; i < SYNC_INFLIGHT; i++)
        n += s->conn[i].busy != 0;
    return n;
}

/* Ask candidate k for req (after HELLO; fix, if given, fills the
 * request in from the peer's HELLO_ACK); the answer goes into buf (cap
 * bytes).  The outcome comes back through q->pending. */
static void
conn_request_at(struct sync_conn *q, const struct sync_seed *at, unsigned k,
                enum sync_job job, const struct mpkt *req,
                int (*fix)(struct sync_conn *), uint8_t *buf, uint32_t cap)
{
    struct sync *s = q->s;
    struct mpkt_rx_ops ops = {
        .head = conn_head, .body = conn_body, .end = conn_packet, .arg = q};
    ip_addr_t a;

    q->busy = 1;
    q->job = job;
    q->k = k;
    q->req = *req;
    q->req_from_ack = fix;
    q->file = buf;
    q->file_cap = cap;
    q->file_len = 0;
    q->file_done = 0;
    q->ack_ok = 0;
    q->pending = 0;
    q->fail = SYNC_R_NONE;
    q->id1 = random16();
    q->id2 = 0;
    if (k < s->ncand)
        s->cand[k].asked = 1;
    mpkt_rx_init(&q->crx, &ops);
    if (k < s->ncand && s->cand[k].on_link) {
        /* a keel node on a peer link: the session starts at HELLO */
        struct mpkt h;

        q->on_link = 1;
        q->link = s->cand[k].link;
        q->sess = random16();
        q->cstate = 2;
        q->t_req = hal_clock_ms();
        stamp(s, &h, MOP_HELLO);
        if (conn_send(q, &h) != 0)
            conn_done(q, SYNC_R_CONNECT);
        return;
    }
    q->pcb = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
    if (q->pcb == NULL) {
        conn_done(q, SYNC_R_CONNECT);
        return;
    }
    IP_ADDR4(&a, at->ip[0], at->ip[1], at->ip[2], at->ip[3]);
    altcp_arg(q->pcb, q);
    altcp_recv(q->pcb, conn_recv);
    altcp_err(q->pcb, conn_err);
    q->cstate = 1;
    q->t_req = hal_clock_ms();
    if (altcp_connect(q->pcb, &a, at->port, conn_connected) != ERR_OK)
        conn_done(q, SYNC_R_CONNECT);
}

/* The same, to candidate k. */
static void
conn_request(struct sync_conn *q, unsigned k, enum sync_job job,
             const struct mpkt *req, int (*fix)(struct sync_conn *),
             uint8_t *buf, uint32_t cap)
{
    conn_request_at(q, &q->s->cand[k].at, k, job, req, fix, buf, cap);
}

static void
conns_timeouts(struct sync *s)
{
    uint64_t now = hal_clock_ms();

    for (unsigned i = 0; i < SYNC_INFLIGHT; i++) {
        struct sync_conn *q = &s->conn[i];
        uint64_t limit = q->cstate <= 2 ? SYNC_CONNECT_MS : SYNC_PACKET_MS;

        if (q->cstate != 0 && now - q->t_req > limit)
            conn_done(q, SYNC_R_TIMEOUT);
    }
}

/* ---- candidates: seeds and the peer table -------------------------------- */

static int
cand_add(struct sync *s, const struct sync_seed *at, int seed)
{
    struct sync_cand *k;

    if (s->ncand >= SYNC_CAND_MAX)
        return -ENOSPC;
    for (unsigned i = 0; i < s->ncand; i++)
        if (memcmp(s->cand[i].at.ip, at->ip, 4) == 0 &&
            s->cand[i].at.port == at->port)
            return -EEXIST;
    k = &s->cand[s->ncand++];
    memset(k, 0, sizeof(*k));
    k->at = *at;
    k->seed = (uint8_t)seed;
    return 0;
}

static int
book_of(const struct sync *s, const struct sync_cand *k)
{
    return k->seed || k->on_link
               ? -1
               : sync_book_find(&s->book, k->at.ip, k->at.port);
}

/* This node's own address (not asked, not learned). */
static int
is_self(const uint8_t ip[4])
{
    const struct netif *nf = netif_default;

    return nf != NULL && memcmp(&ip_2_ip4(&nf->ip_addr)->addr, ip, 4) == 0;
}

/* ---- scan: tips and proof segments --------------------------------------- */

/* The proof request, made once the peer's HELLO_ACK told its tip;
 * nonzero (nothing asked) when the chain it claims is remembered. */
static int
proof_req(struct sync_conn *q)
{
    uint64_t tip = q->ack.cblock;
    uint64_t first = tip + 1 >= SYNC_PROOF ? tip + 1 - SYNC_PROOF : 0;

    if (guard_chain(q->s, q->ack.weight, q->ack.cblockhash) != NULL)
        return 1;
    q->req.blocknum = first | ((tip - first + 1) << 32);
    return 0;
}

static void choose(struct sync *s);

/* Keep up to SYNC_INFLIGHT requests out: proof segments of the
 * candidates in order, then peer lists of admitted peers; when nothing
 * is out and nothing is left, choose. */
static void
scan_pump(struct sync *s)
{
    struct sync_conn *q;
    struct mpkt m;

    while (s->state == SYNC_SCAN && (q = conn_free(s)) != NULL) {
        int pick = -1;

        if (s->scan_i < s->ncand) {
            struct sync_cand *k = &s->cand[s->scan_i];
            const struct sync_bad *b =
                k->on_link ? NULL : guard_peer(s, &k->at);

            s->scan_i++;
            if (b != NULL) { /* remembered: not asked */
                k->reason = b->reason;
                k->remembered = 1;
                s->skipped++;
                continue;
            }
            stamp(s, &m, MOP_TF);
            conn_request(q, (unsigned)(k - s->cand), SYNC_JOB_PROOF, &m,
                         proof_req, k->proof, sizeof(k->proof));
            continue;
        }
        /* peer lists: from peers whose chain was proved, a few a sync */
        for (unsigned i = 0; i < s->ncand && pick < 0; i++)
            if (s->cand[i].admitted && !s->cand[i].ipl_asked &&
                !s->cand[i].on_link)
                pick = (int)i;
        if (pick < 0 || s->ipl_n >= SYNC_IPL_ASK || s->ncand >= SYNC_CAND_MAX)
            break;
        s->cand[pick].ipl_asked = 1;
        s->ipl_n++;
        stamp(s, &m, MOP_GET_IPL);
        conn_request(q, (unsigned)pick, SYNC_JOB_IPL, &m, NULL, q->ipl,
                     sizeof(q->ipl));
    }
    if (s->state == SYNC_SCAN && conns_busy(s) == 0 && s->scan_i >= s->ncand)
        choose(s);
}

static void
refuse(struct sync *s, struct sync_cand *k, enum sync_reason r)
{
    char at[32];
    int bi = book_of(s, k);

    k->reason = (uint8_t)r;
    k->admitted = 0;
    s->refused[r]++;
    if (!k->on_link) /* a linked node is the trust list's business */
        guard_add_peer(s, k, r);
    if (is_lie(r))
        sync_book_lied(&s->book, bi);
    else if (r == SYNC_R_TIMEOUT || r == SYNC_R_CONNECT || r == SYNC_R_CLOSED)
        sync_book_failed(&s->book, bi, hal_clock_wall(), hal_clock_ms());
    if (k->on_link)
        snprintf(at, sizeof(at), "link %" PRIu32, k->link);
    else
        ip_text(k->at.ip, k->at.port, at, sizeof(at));
    klog(KLOG_WARN,
         "sync: %s refused: %s (tip %" PRIu64 ", %" PRIu64
         " bytes fetched from it)",
         at, sync_reason_name(r), k->tip, k->bytes);
}

static void
scan_outcome(struct sync *s, struct sync_conn *q)
{
    struct sync_cand *k = &s->cand[q->k];

    if (q->ack_ok) {
        k->tip = q->ack.cblock;
        memcpy(k->bhash, q->ack.cblockhash, 32);
        sync_weight_from(q->ack.weight, &k->w);
    }
    if (q->fail == SYNC_R_REMEMBERED) { /* its chain is remembered */
        const struct sync_bad *b =
            guard_chain(s, q->ack.weight, q->ack.cblockhash);

        k->reason = b != NULL ? b->reason : SYNC_R_REMEMBERED;
        k->remembered = 1;
        s->skipped++;
    } else if (q->fail != SYNC_R_NONE) {
        refuse(s, k, q->fail);
    } else {
        uint64_t t0 = hal_clock_ms();

        k->reason = (uint8_t)sync_proof_check(s->c->pf, k, q->file_len,
                                              hal_clock_wall());
        s->proof_ms += hal_clock_ms() - t0;
        s->proof_checks++;
        if (k->reason != 0) {
            refuse(s, k, (enum sync_reason)k->reason);
        } else {
            k->admitted = 1;
            sync_book_answered(&s->book, book_of(s, k), 1, hal_clock_wall());
        }
    }
}

/* A peer list from an admitted peer: at most SYNC_IPL_TAKE new
 * addresses into the table (on the peer's port: Mochimo's lists carry
 * none, a network uses one), and into this sync while it has room for
 * peers never heard from (SYNC_NEW_PER_RUN). */
static void
ipl_outcome(struct sync *s, struct sync_conn *q)
{
    struct sync_cand *k = &s->cand[q->k];
    uint8_t a[64][4];
    unsigned taken = 0;
    int n;

    n = q->fail == SYNC_R_NONE ? sync_ipl_parse(q->ipl, q->file_len, a)
                               : -EPROTO;
    if (n < 0) {
        s->ipl_refused++;
        return;
    }
    for (int i = 0; i < n && taken < SYNC_IPL_TAKE; i++) {
        struct sync_seed at;
        int known, bi;

        memcpy(at.ip, a[i], 4);
        at.port = k->at.port;
        if (is_self(at.ip) || seed_find(s, &at) >= 0)
            continue;
        known = sync_book_find(&s->book, at.ip, at.port) >= 0;
        bi = sync_book_learn(&s->book, at.ip, at.port, SYNC_SRC_IPL, k->at.ip);
        if (bi < 0)
            continue;
        if (!known) {
            taken++;
            s->learned++;
            k->learned++;
        }
        if (sync_book_pinked(&s->book.p[bi], hal_clock_wall(), hal_clock_ms()))
            continue;
        if (!(s->book.p[bi].flags & SYNC_PF_ANSWERED)) {
            if (s->fresh >= SYNC_NEW_PER_RUN)
                continue;
            if (cand_add(s, &at, 0) == 0)
                s->fresh++;
        } else {
            (void)cand_add(s, &at, 0);
        }
    }
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

            seen = b->admitted && !a->on_link && !b->on_link &&
                   chain_weight_cmp(&b->w, &k->w) == 0 &&
                   memcmp(b->bhash, k->bhash, 32) == 0 &&
                   memcmp(b->at.ip, a->at.ip, 3) == 0;
        }
        n += !seen;
    }
    return n;
}

static void finish(struct sync *s, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void dl_abort(struct sync *s);

static void
finish(struct sync *s, int ok, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->why, sizeof(s->why), fmt, ap);
    va_end(ap);
    dl_abort(s);
    s->state = SYNC_IDLE;
    s->t_end = hal_clock_ms();
    for (unsigned i = 0; i < s->ncand; i++)
        s->bytes_by[s->cand[i].admitted ? 0 : s->cand[i].reason] +=
            s->cand[i].bytes;
    guard_save(s);
    book_save(s, 0);
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

/* Stop every range in flight (the download ends or starts again). */
static void
dl_abort(struct sync *s)
{
    for (unsigned i = 0; i < SYNC_DL_SLOTS; i++) {
        struct sync_conn *q = &s->conn[i];

        if (q->busy && q->job == SYNC_JOB_RANGE) {
            conn_close(q);
            q->busy = 0;
            q->pending = 0;
        }
        s->dl[i].busy = 0;
        s->dl[i].done = 0;
        s->dl[i].need = 0;
    }
}

/* The chosen chain's claim is false or cannot be followed: every peer
 * that made it is refused with r, and the next-best chain chosen. */
static void
drop_chain(struct sync *s, enum sync_reason r)
{
    const struct sync_cand ch = s->cand[s->chosen];

    dl_abort(s);
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

/* Ask the next quorum member (in turn) that has no other range in
 * flight for the range of download slot i: a lone member is asked for
 * one range at a time, and its range is checked as soon as it is the
 * next to feed, so a member that lies costs one range.  0 (asked, or
 * waiting for a member to be free: d->need stays), or -ENOENT when no
 * peer of the chosen chain is left. */
static int
slot_try(struct sync *s, unsigned i)
{
    const struct sync_cand *ch = &s->cand[s->chosen];
    struct sync_dl *d = &s->dl[i];
    int pick = -1, any = 0;
    struct mpkt q;

    for (unsigned j = 1; j <= s->ncand && pick < 0; j++) {
        unsigned c = (s->cur + j) % s->ncand;
        int out = 0;

        if (!s->cand[c].admitted || !same_chain(&s->cand[c], ch))
            continue;
        any = 1;
        for (unsigned o = 0; o < SYNC_DL_SLOTS && !out; o++)
            out = o != i && s->dl[o].busy && !s->dl[o].need && !s->dl[o].done &&
                  s->dl[o].k == c;
        if (!out)
            pick = (int)c;
    }
    if (!any)
        return -ENOENT;
    if (pick < 0)
        return 0; /* every member has a range out: later */
    s->cur = (unsigned)pick;
    d->k = (unsigned)pick;
    d->need = 0;
    stamp(s, &q, MOP_TF);
    q.blocknum = d->first | ((uint64_t)d->count << 32);
    conn_request(&s->conn[i], (unsigned)pick, SYNC_JOB_RANGE, &q, NULL,
                 s->range[i], d->count * TRAILER_LEN);
    return 0;
}

/* Download slot i takes trailers [first, first + count). */
static int
slot_ask(struct sync *s, unsigned i, uint64_t first, uint64_t count)
{
    struct sync_dl *d = &s->dl[i];

    d->first = first;
    d->count = (uint32_t)(count > SYNC_RANGE ? SYNC_RANGE : count);
    d->got = 0;
    d->busy = 1;
    d->done = 0;
    d->need = 1;
    return slot_try(s, i);
}

/* While streaming, keep every slot asking: ranges waiting for a free
 * member first (the earlier ranges), then the next range. */
static void
dl_pump(struct sync *s)
{
    for (unsigned i = 0; i < SYNC_DL_SLOTS; i++) {
        if (s->state != SYNC_DOWNLOAD || s->dl_phase != 1)
            return;
        if (s->dl[i].busy && s->dl[i].need && !s->conn[i].busy &&
            slot_try(s, i) != 0) {
            drop_chain(s, SYNC_R_NONE);
            return;
        }
    }
    for (unsigned i = 0; i < SYNC_DL_SLOTS; i++) {
        if (s->state != SYNC_DOWNLOAD || s->dl_phase != 1)
            return;
        if (s->dl[i].busy || s->conn[i].busy || s->dl_next > s->target)
            continue;
        if (slot_ask(s, i, s->dl_next, s->target - s->dl_next + 1) != 0) {
            drop_chain(s, SYNC_R_NONE);
            return;
        }
        s->dl_next += s->dl[i].count;
    }
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
    s->dl_next = first;
    dl_pump(s);
    return 0;
}

/* Start (or start again) the download of the chosen chain: on an empty
 * node a stream from genesis; else first find where the chains part,
 * one trailer at a time (a TF of 1, in slot 0): the tip (the common
 * case: the peer extends this chain), then the deepest point followed,
 * then halving the distance between a common trailer and a differing
 * one. */
static void
dl_begin(struct sync *s)
{
    struct chain *c = s->c;
    uint64_t tip;

    dl_abort(s);
    if (s->rx_open) {
        (void)chain_rx_end(&s->rx, 0);
        s->rx_open = 0;
    }
    if (c->count == 0) {
        /* from genesis, or from the checkpoint an empty device starts
         * at (the firmware's: history below it is not fetched) */
        uint64_t from = c->pf != NULL && c->from_checkpoint ? c->base : 0;

        if (s->target < from) {
            finish(s, 0,
                   "the heaviest proved chain (tip %" PRIu64
                   ") ends below the checkpoint %" PRIu64,
                   s->target, from);
            return;
        }
        (void)stream_open(s, from);
        return;
    }
    tip = chain_tip_bnum(c);
    if (tip > s->target) /* a heavier but shorter chain */
        tip = s->target;
    s->dl_phase = 0;
    s->fork_hi = tip + 1; /* nothing known to differ yet */
    s->fork_lo = tip > c->base + s->fork_max ? tip - s->fork_max : c->base;
    s->probe_lo_known = 0;
    if (slot_ask(s, 0, tip, 1) != 0)
        drop_chain(s, SYNC_R_NONE);
}

static void
dl_done(struct sync *s)
{
    struct chain *c = s->c;
    struct sync_dl *d = &s->dl[s->dl_fed];
    struct sync_cand *k = &s->cand[d->k];
    int rc;

    dl_abort(s);
    rc = chain_rx_end(&s->rx, 1);
    s->rx_open = 0;
    s->got_trailers += s->res.appended;
    s->trailers_fetched += s->res.appended;
    if (rc != 0) {
        finish(s, 0, "following the chain failed: %s", c->why);
        return;
    }
    if (s->res.bad != CHAIN_OK) {
        /* the invalid trailer (with the one before it) is refused
         * unchecked from now on, whoever sends it */
        guard_add_trailer(s, s->range[s->dl_fed], d->first, d->got,
                          s->res.bad_bnum, sync_reason_of(s->res.bad));
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

/* Feed the stream the range in slot i (its turn: it begins at
 * stream_next).  0 when the download goes on, 1 when it ended or
 * started again, 2 when the range is asked again from another member. */
static int
dl_feed(struct sync *s, unsigned i)
{
    struct sync_dl *d = &s->dl[i];
    struct sync_cand *k = &s->cand[d->k];
    const uint8_t *p = s->range[i];
    int rc;

    /* the proof segment, byte for byte at its own offset */
    for (uint32_t j = 0; j < d->got; j++) {
        uint64_t at = d->first + j;

        if (at >= k->proof_first && at < k->proof_first + k->proof_n &&
            memcmp(p + (size_t)j * TRAILER_LEN,
                   k->proof + (at - k->proof_first) * TRAILER_LEN,
                   TRAILER_LEN) != 0) {
            refuse(s, k, SYNC_R_TAIL);
            if (slot_ask(s, i, d->first, d->count) != 0) {
                drop_chain(s, SYNC_R_NONE);
                return 1;
            }
            return 2; /* the same range from another member, later */
        }
    }
    rc = chain_rx_put(&s->rx, p, (size_t)d->got * TRAILER_LEN);
    s->dl_fed = i;
    d->busy = 0;
    d->done = 0;
    if (rc < 0) {
        dl_abort(s);
        (void)chain_rx_end(&s->rx, 0);
        s->rx_open = 0;
        finish(s, 0, "following the chain failed: %s", s->c->why);
        return 1;
    }
    s->stream_next = d->first + d->got;
    if (rc == 1 || s->stream_next > s->target) {
        dl_done(s);
        return 1;
    }
    return 0;
}

/* Feed every range whose turn has come, then ask for more. */
static void
dl_drain(struct sync *s)
{
    for (;;) {
        int next = -1, rc;

        for (unsigned i = 0; i < SYNC_DL_SLOTS && next < 0; i++)
            if (s->dl[i].busy && s->dl[i].done &&
                s->dl[i].first == s->stream_next)
                next = (int)i;
        if (next < 0)
            break;
        rc = dl_feed(s, (unsigned)next);
        if (rc == 1)
            return;
        if (rc == 2)
            break;
    }
    dl_pump(s);
}

/* A probe answered while finding the fork (slot 0). */
static void
dl_probe(struct sync *s)
{
    struct chain *c = s->c;
    uint64_t b = s->dl[0].first;
    uint8_t t[TRAILER_LEN];
    int common =
        chain_read(c, b, t) == 0 && memcmp(t, s->range[0], TRAILER_LEN) == 0;

    s->dl[0].busy = 0;
    if (common && b == s->fork_hi - 1) { /* the tip, or just below a
                                            differing one */
        if (b == s->target) {
            drop_chain(s, SYNC_R_WEIGHT_SHORT); /* nothing new */
            return;
        }
        (void)stream_open(s, b);
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
        drop_chain(s, SYNC_R_FORK); /* deeper than the limit, or another
                                       chain */
        return;
    } else {
        s->fork_hi = b;
    }
    /* the next probe: the deepest point first, then halfway */
    b = !s->probe_lo_known ? s->fork_lo
                           : s->fork_lo + (s->fork_hi - s->fork_lo) / 2;
    if (s->probe_lo_known && s->fork_hi - s->fork_lo == 1) {
        (void)stream_open(s, s->fork_lo);
        return;
    }
    if (slot_ask(s, 0, b, 1) != 0)
        drop_chain(s, SYNC_R_NONE);
}

static void
dl_outcome(struct sync *s, struct sync_conn *q)
{
    unsigned i = (unsigned)(q - s->conn);
    struct sync_dl *d;
    struct sync_cand *k;
    uint32_t n = q->file_len / TRAILER_LEN;
    enum sync_reason fail = q->fail;

    if (i >= SYNC_DL_SLOTS || !s->dl[i].busy)
        return; /* a range of a download that started again */
    d = &s->dl[i];
    k = &s->cand[d->k];
    /* a range is whole: the chosen tip is the target, and no range
     * passes it */
    if (fail == SYNC_R_NONE && (q->file_len % TRAILER_LEN != 0 || n == 0 ||
                                (s->dl_phase == 1 && n != d->count)))
        fail = SYNC_R_PROTOCOL; /* less than it advertised */
    if (fail == SYNC_R_NONE && s->dl_phase == 1) {
        const struct sync_bad *b =
            guard_trailer_in(s, s->range[i], d->first, n);

        if (b != NULL) { /* a trailer that failed before */
            s->ranges_remembered++;
            fail = (enum sync_reason)b->reason;
        }
    }
    if (fail != SYNC_R_NONE) {
        /* another member of the quorum takes over the same range */
        refuse(s, k, fail);
        if (slot_ask(s, i, d->first, d->count) != 0)
            drop_chain(s, SYNC_R_NONE);
        else if (s->dl_phase == 1)
            dl_pump(s);
        return;
    }
    d->got = n;
    if (s->dl_phase == 0) {
        dl_probe(s);
        return;
    }
    d->done = 1;
    dl_drain(s);
}

/* ---- pushing this node's tip -------------------------------------------- */

int
sync_push(struct sync *s, const struct sync_seed *to)
{
    uint64_t count = srv_count(s), base = srv_base(s), first;
    struct sync_conn *q;
    struct mpkt m;

    if (s->push_busy || s->state == SYNC_DOWNLOAD)
        return -EBUSY;
    if (count < SYNC_PROOF)
        return -ENOENT;
    q = conn_free(s);
    if (q == NULL)
        return -EBUSY;
    first = base + count - SYNC_PROOF;
    for (unsigned i = 0; i < SYNC_PROOF; i++)
        if (srv_read(s, first + i,
                     s->push + MPKT_HDR + (size_t)i * TRAILER_LEN) != 0)
            return -EIO;
    srv_stamp(s, &m, MOP_FOUND);
    s->push_to = *to;
    s->push_busy = 1;
    s->push_result = SYNC_R_NONE;
    s->pushes++;
    conn_request_at(q, to, SYNC_CAND_MAX, SYNC_JOB_FOUND, &m, NULL, NULL, 0);
    return 0;
}

static void
push_outcome(struct sync *s, struct sync_conn *q)
{
    char at[32];

    s->push_busy = 0;
    s->push_result = q->fail;
    ip_text(s->push_to.ip, s->push_to.port, at, sizeof(at));
    if (q->fail == SYNC_R_NONE)
        klog(KLOG_INFO, "sync: pushed the tip to %s (FOUND)", at);
    else
        klog(KLOG_WARN, "sync: push to %s failed: %s", at,
             sync_reason_name(q->fail));
}

/* ---- over peer links ------------------------------------------------------ */

void
sync_set_links(struct sync *s, const struct sync_link_ops *ops)
{
    if (ops != NULL)
        s->links = *ops;
    else
        memset(&s->links, 0, sizeof(s->links));
}

/* A frame for a session this node serves: a new session takes a free
 * slot (none: ended at once, counted busy), its bytes go to the same
 * packet receiver a TCP connection feeds. */
static void
link_serve(struct sync *s, uint32_t link, uint16_t sess, const uint8_t *p,
           uint32_t n)
{
    struct sync_served *v = NULL;
    struct mpkt_rx_ops ops = {
        .head = served_head, .body = served_body, .end = served_packet};

    for (unsigned i = 0; i < SYNC_SERVE_MAX && v == NULL; i++)
        if (s->served[i].state != 0 && s->served[i].on_link &&
            s->served[i].link == link && s->served[i].sess == sess)
            v = &s->served[i];
    if (n == 0) { /* the client ended it */
        if (v != NULL) {
            v->on_link = 0; /* nothing more to send it */
            v->lfill = 0;
            served_end(v);
        }
        return;
    }
    if (v == NULL) {
        for (unsigned i = 0; i < SYNC_SERVE_MAX && v == NULL; i++)
            if (s->served[i].state == 0)
                v = &s->served[i];
        if (v == NULL) {
            uint8_t b[2];

            s->serve_busy++;
            lib_put16(b, sess);
            (void)s->links.send(s->links.arg, link, SYNC_LINK_S2C, b, 2);
            return;
        }
        memset(v, 0, offsetof(struct sync_served, lbuf));
        v->s = s;
        v->on_link = 1;
        v->link = link;
        v->sess = sess;
        v->state = 1;
        v->t0 = hal_clock_ms();
        ops.arg = v;
        mpkt_rx_init(&v->rx, &ops);
        s->link_sessions++;
    }
    if ((v->state == 1 || v->state == 2) && mpkt_rx_feed(&v->rx, p, n) < 0)
        served_end(v); /* bad CRC, wrong id: ended without a word */
}

void
sync_link_frame(struct sync *s, uint32_t link, int dir, const uint8_t *p,
                uint32_t len)
{
    uint16_t sess;

    if (len < 2 || len > 2 + SYNC_LINK_MAX || s->links.send == NULL)
        return;
    sess = lib_le16(p);
    if (dir == SYNC_LINK_C2S) {
        link_serve(s, link, sess, p + 2, len - 2);
        return;
    }
    for (unsigned i = 0; i < SYNC_INFLIGHT; i++) {
        struct sync_conn *q = &s->conn[i];

        if (!q->on_link || q->link != link || q->sess != sess || q->cstate == 0)
            continue;
        if (len == 2) { /* the server ended it */
            q->on_link = 0;
            conn_done(q, q->job == SYNC_JOB_FOUND && q->cstate == 3
                             ? SYNC_R_NONE
                             : SYNC_R_CLOSED);
        } else {
            (void)conn_feed(q, p + 2, len - 2);
        }
        return;
    }
}

/* ---- the loop ----------------------------------------------------------- */

int
sync_start(struct sync *s)
{
    int pick[SYNC_CAND_MAX];
    unsigned n;

    if (s->state != SYNC_IDLE)
        return -EBUSY;
    s->ncand = 0;
    s->scan_i = 0;
    s->fresh = 0;
    s->ipl_n = 0;
    s->cur = 0;
    s->chosen = -1;
    for (unsigned i = 0; i < s->nseeds; i++)
        (void)cand_add(s, &s->seeds[i], 1);
    n = sync_book_pick(&s->book, hal_clock_wall(), hal_clock_ms(),
                       SYNC_CAND_MAX - s->ncand, SYNC_NEW_PER_RUN, pick);
    for (unsigned i = 0; i < n; i++) {
        const struct sync_peer *e = &s->book.p[pick[i]];
        struct sync_seed at;

        memcpy(at.ip, e->ip, 4);
        at.port = e->port;
        if (cand_add(s, &at, 0) == 0 && !(e->flags & SYNC_PF_ANSWERED))
            s->fresh++;
    }
    if (s->links.ids != NULL) { /* the keel nodes on peer links */
        uint32_t ids[SYNC_CAND_MAX];
        int nl = s->links.ids(s->links.arg, ids, SYNC_CAND_MAX);

        for (int i = 0; i < nl && s->ncand < SYNC_CAND_MAX; i++) {
            struct sync_cand *k = &s->cand[s->ncand++];

            memset(k, 0, sizeof(*k));
            k->on_link = 1;
            k->link = ids[i];
        }
    }
    if (s->ncand == 0)
        return -ENOENT;
    s->got_trailers = 0;
    s->got_bytes = 0;
    s->why[0] = '\0';
    s->state = SYNC_SCAN;
    s->t_start = hal_clock_ms();
    s->runs++;
    scan_pump(s);
    return 0;
}

void
sync_tick(struct sync *s, int up, uint16_t port, uint32_t poll_s,
          uint32_t fork_max)
{
    s->fork_max = fork_max > 0 ? fork_max : SYNC_FORK_MAX;
    serve_tick(s, up ? port : 0);
    /* a proved push, or following: poll again once a sync has run */
    if (up && s->state == SYNC_IDLE &&
        (s->kick || (s->runs > 0 && poll_s > 0 &&
                     hal_clock_ms() - s->t_end >= poll_s * 1000ull))) {
        s->kick = 0;
        if (sync_start(s) == -ENOENT)
            s->t_end = hal_clock_ms(); /* nobody to ask: wait a poll */
    }
    conns_timeouts(s);
    for (unsigned i = 0; i < SYNC_INFLIGHT; i++) {
        struct sync_conn *q = &s->conn[i];

        if (!q->pending)
            continue;
        q->pending = 0;
        q->busy = 0;
        if (q->job == SYNC_JOB_FOUND)
            push_outcome(s, q);
        else if (s->state == SYNC_SCAN && q->job == SYNC_JOB_PROOF)
            scan_outcome(s, q);
        else if (s->state == SYNC_SCAN && q->job == SYNC_JOB_IPL)
            ipl_outcome(s, q);
        else if (s->state == SYNC_DOWNLOAD && q->job == SYNC_JOB_RANGE)
            dl_outcome(s, q);
    }
    if (s->state == SYNC_SCAN)
        scan_pump(s);
}
