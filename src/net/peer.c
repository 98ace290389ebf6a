/*
 * net/peer.c - keel-to-keel peer links: listen, dial, gate, frames,
 * limits and timeouts (net.h says what a link is; docs/NET.md why).
 *
 * Order of checks for a link coming in, cheapest first: the source's
 * connection rate (before TLS: a handshake costs real CPU), the link
 * limit, the handshakes in progress; then TLS, where the gate (verify
 * callback) refuses any key that is not trusted; only a link that
 * passed the gate and finished the handshake ever feeds the frame
 * parser.  A link's end is always counted by reason (refused: before
 * it was up; closed: after) and logged with address and fingerprint.
 *
 * lwIP rules kept here: a callback that ends its link aborts it and
 * returns ERR_ABRT; anything else ends a link with altcp_close() after
 * detaching the callbacks, so no callback ever sees a freed link.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "hal/rng.h"
#include "lib/hex.h"
#include "lib/le.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/altcp_tls.h"
#include "lwip/tcp.h"
#include "mbedtls/asn1.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "net/net.h"
#include "net/peer.h"

#define TICK_MS 100
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define STABLE_MS 10000 /* a link up this long resets its dial's backoff */
#define LISTEN_BACKLOG 8
#define TXBUF (FRAME_HDR + FRAME_KEEP_MAX) /* one frame written at a time */

extern const uint8_t net_rot_oid[];
extern const size_t net_rot_oid_len;

static uint8_t txbuf[TXBUF];

static uint64_t
now_ms(void)
{
    return hal_clock_ms();
}

static void
ip_of(const ip_addr_t *a, uint8_t ip[4])
{
    uint32_t v = ip4_addr_get_u32(ip_2_ip4(a));

    memcpy(ip, &v, 4); /* network order, as stored */
}

static void
fmt_addr(char *out, size_t cap, const uint8_t ip[4], uint16_t port)
{
    snprintf(out, cap, "%u.%u.%u.%u:%u", ip[0], ip[1], ip[2], ip[3],
             (unsigned)port);
}

static void
fmt_fp(char *out, const struct peer_link *l)
{
    if (l->fp_known)
        lib_hex_encode(l->fp, TRUST_FP_LEN, out);
    else
        strcpy(out, "-");
}

void
peer_load(struct net *n)
{
    uint8_t rec[TRUST_REC_MAX];
    int len;

    if (n->st == NULL)
        return;
    len = store_get(n->st, TRUST_KEY, rec, sizeof(rec));
    if (len >= 0 && trust_decode(rec, (size_t)len, &n->trust) != 0)
        net_logf(n,
                 "net: the trust list (%s) is damaged: no peer is "
                 "trusted until it is rewritten with 'peer trust add'",
                 TRUST_KEY);
    len = store_get(n->st, DIAL_KEY, rec, sizeof(rec));
    if (len >= 0 && dial_decode(rec, (size_t)len, &n->dials) != 0)
        net_logf(n,
                 "net: the dial list (%s) is damaged: no peer is dialed "
                 "until 'peer connect' rewrites it",
                 DIAL_KEY);
}

/* ---- counting and ending ---------------------------------------------- */

static void
remember_refusal(struct net *n, const uint8_t ip[4], const uint8_t *fp,
                 int reason)
{
    struct net_refusal *r = &n->refusals[n->refusal_next++ % NET_REFUSALS];

    memset(r, 0, sizeof(*r));
    r->when = hal_clock_wall();
    memcpy(r->ip, ip, 4);
    if (fp != NULL) {
        memcpy(r->fp, fp, TRUST_FP_LEN);
        r->fp_known = 1;
    }
    r->reason = (uint8_t)reason;
}

/* A connection refused before it became a link (no TLS state yet). */
static void
refuse_early(struct net *n, const uint8_t ip[4], uint16_t port, int reason)
{
    char a[32];

    n->c.refused[reason]++;
    remember_refusal(n, ip, NULL, reason);
    fmt_addr(a, sizeof(a), ip, port);
    net_logf(n, "net: refused %s before TLS: %s", a, net_reason_name(reason));
}

void
net_pcb_detach(struct altcp_pcb *pcb)
{
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_err(pcb, NULL);
    altcp_poll(pcb, NULL, 0);
}

void
net_pcb_close(struct altcp_pcb *pcb)
{
    net_pcb_detach(pcb);
    if (altcp_close(pcb) != ERR_OK)
        altcp_abort(pcb);
}

static void
schedule_dial(struct net *n, int d, int was_stable)
{
    struct net_dial *nd = &n->dial[d];
    uint32_t b, j = 0;

    if (was_stable)
        nd->attempts = 0;
    b = BACKOFF_MIN_MS;
    for (uint32_t i = 1; i < nd->attempts && b < BACKOFF_MAX_MS; i++)
        b *= 2;
    if (b > BACKOFF_MAX_MS)
        b = BACKOFF_MAX_MS;
    /* jitter: 75% to 125% of the step */
    (void)hal_rng_fill(&j, sizeof(j));
    b = b / 4 * 3 + j % (b / 2 + 1);
    nd->backoff_ms = b;
    nd->next_try = now_ms() + b;
}

/* Count and log the end of l, and free its slot.  The pcb is already
 * gone or detached. */
static void
link_finish(struct peer_link *l, int reason)
{
    struct net *n = l->net;
    char a[32], fp[2 * TRUST_FP_LEN + 1];
    uint64_t now = now_ms();

    fmt_addr(a, sizeof(a), l->ip, l->port);
    fmt_fp(fp, l);
    if (l->state == LINK_UP) {
        n->c.closed[reason]++;
        n->c.links_closed++;
        net_logf(n, "net: link %u %s %s closed: %s (fingerprint %s)",
                 (unsigned)l->id, l->out ? "to" : "from", a,
                 net_reason_name(reason), fp);
    } else {
        n->c.hs_failed++;
        n->c.refused[reason]++;
        remember_refusal(n, l->ip, l->fp_known ? l->fp : NULL, reason);
        if (l->out)
            net_logf(n, "net: link to %s failed: %s (fingerprint %s)", a,
                     net_reason_name(reason), fp);
        else
            net_logf(n, "net: refused link from %s: %s (fingerprint %s)", a,
                     net_reason_name(reason), fp);
    }
    if (l->dial >= 0 && l->dial < DIAL_MAX) {
        n->dial[l->dial].link = -1;
        n->dial[l->dial].last_reason = (uint8_t)reason;
        /* A link that stayed up, or one the operator dropped, starts
         * its dial's backoff again from the first step. */
        schedule_dial(n, l->dial,
                      reason == NET_R_DROPPED ||
                          (l->state == LINK_UP && now - l->t_up >= STABLE_MS));
    }
    l->pcb = NULL;
    l->state = LINK_FREE;
}

/* End a link from outside its callbacks (console, tick). */
static void
link_end(struct peer_link *l, int reason, int graceful)
{
    struct altcp_pcb *pcb = l->pcb;

    if (pcb != NULL) {
        net_pcb_detach(pcb);
        if (!graceful || altcp_close(pcb) != ERR_OK)
            altcp_abort(pcb);
    }
    link_finish(l, reason);
}

static struct peer_link *
link_alloc(struct net *n)
{
    for (int i = 0; i < NET_LINKS; i++) {
        struct peer_link *l = &n->link[i];

        if (l->state == LINK_FREE) {
            memset(l, 0, sizeof(*l));
            l->net = n;
            l->dial = -1;
            l->id = ++n->next_link_id;
            l->t_start = l->t_rx = l->t_tx = now_ms();
            frame_rx_init(&l->rx, l->rxbuf, n->set[NET_S_FRAME_MAX]);
            return l;
        }
    }
    return NULL;
}

static unsigned
count_links(const struct net *n, int out, int handshaking)
{
    unsigned c = 0;

    for (int i = 0; i < NET_LINKS; i++) {
        const struct peer_link *l = &n->link[i];

        if (l->state == LINK_FREE)
            continue;
        if (handshaking ? l->state == LINK_HANDSHAKE : l->out == out)
            c++;
    }
    return c;
}

unsigned
net_links_up(const struct net *n)
{
    unsigned c = 0;

    for (int i = 0; i < NET_LINKS; i++)
        c += n->link[i].state == LINK_UP;
    return c;
}

/* ---- sending ------------------------------------------------------------ */

/* One frame, whole, or -EAGAIN when the link cannot take it now. */
static int
link_send(struct peer_link *l, unsigned type, const void *p, uint32_t len)
{
    struct net *n = l->net;

    if (l->pcb == NULL || l->state != LINK_UP)
        return -ENOTCONN;
    if (FRAME_HDR + len > TXBUF || FRAME_HDR + len > altcp_sndbuf(l->pcb))
        return -EAGAIN;
    if (frame_encode(txbuf, type, len) != 0)
        return -EINVAL;
    if (len > 0 && p != NULL)
        memcpy(txbuf + FRAME_HDR, p, len);
    else if (len > 0)
        memset(txbuf + FRAME_HDR, 0, len);
    if (altcp_write(l->pcb, txbuf, (u16_t)(FRAME_HDR + len),
                    TCP_WRITE_FLAG_COPY) != ERR_OK)
        return -EAGAIN;
    altcp_output(l->pcb);
    l->bytes_out += FRAME_HDR + len;
    l->frames_out++;
    n->c.frames_out++;
    n->c.bytes_out += FRAME_HDR + len;
    l->t_tx = now_ms();
    return 0;
}

static int
send_ping(struct peer_link *l, uint64_t stamp)
{
    uint8_t b[8];
    int rc;

    lib_put64(b, stamp);
    rc = link_send(l, FRAME_PING, b, sizeof(b));
    if (rc == 0) {
        l->t_ping = now_ms();
        l->ping_out = 1;
    }
    return rc;
}

/* `peer bench`: keep the send buffer full of discard frames. */
static void
bench_pump(struct peer_link *l)
{
    while (l->bench_left > 0 && l->pcb != NULL) {
        u16_t room = altcp_sndbuf(l->pcb);
        uint64_t k;

        if (room <= FRAME_HDR + 512)
            return;
        k = room - FRAME_HDR;
        if (k > TXBUF - FRAME_HDR)
            k = TXBUF - FRAME_HDR;
        if (k > l->bench_left)
            k = l->bench_left;
        if (link_send(l, FRAME_DISCARD, NULL, (uint32_t)k) != 0)
            return;
        l->bench_left -= k;
    }
    if (l->bench_left == 0 && l->bench_total > 0 && l->bench_ping == 0 &&
        send_ping(l, now_ms()) == 0)
        l->bench_ping = 1;
}

/* ---- callbacks ---------------------------------------------------------- */

static void
cb_err(void *arg, err_t err)
{
    struct peer_link *l = arg;

    if (l == NULL || l->state == LINK_FREE)
        return;
    l->pcb = NULL; /* lwIP frees it */
    if (l->state == LINK_HANDSHAKE)
        link_finish(l, l->reason != NET_R_NONE     ? l->reason
                       : l->gated                  ? NET_R_TLS
                       : l->out && err != ERR_CLSD ? NET_R_CONNECT
                                                   : NET_R_TLS);
    else
        link_finish(l, err == ERR_CLSD ? NET_R_CLOSED : NET_R_RESET);
}

static err_t
abort_in_cb(struct peer_link *l, struct altcp_pcb *pcb, int reason)
{
    net_pcb_detach(pcb);
    l->pcb = NULL;
    altcp_abort(pcb);
    link_finish(l, reason);
    return ERR_ABRT;
}

static int
frame_reason(int r)
{
    switch (r) {
    case FRAME_R_VERSION:
        return NET_R_F_VERSION;
    case FRAME_R_RESERVED:
        return NET_R_F_RESERVED;
    case FRAME_R_TYPE:
        return NET_R_F_TYPE;
    default:
        return NET_R_F_SIZE;
    }
}

/* A whole frame arrived: 0, or the reason to end the link. */
static int
on_frame(struct peer_link *l)
{
    struct net *n = l->net;
    uint64_t now = now_ms();

    l->frames_in++;
    n->c.frames_in++;
    if (now - l->t_win >= 1000) {
        l->t_win = now;
        l->win_frames = 0;
        l->win_bytes = 0;
    }
    if (++l->win_frames > n->set[NET_S_FRAMES_PER_S])
        return NET_R_RATE_FRAMES;
    l->win_bytes += FRAME_HDR + l->rx.len;
    if (l->win_bytes > n->set[NET_S_BYTES_PER_S])
        return NET_R_RATE_BYTES;
    switch (l->rx.type) {
    case FRAME_PING:
        /* Answer if there is room; a full link has other signs of life. */
        (void)link_send(l, FRAME_PONG, l->rxbuf, l->rx.len);
        break;
    case FRAME_PONG:
        if (l->rx.len == 8 && l->ping_out) {
            uint64_t sent = lib_le64(l->rxbuf);

            if (sent <= now) {
                l->rtt_ms = (uint32_t)(now - sent);
                l->rtt_known = 1;
            }
            l->ping_out = 0;
            if (l->bench_ping == 1) {
                l->bench_ping = now - l->bench_t0 + 2; /* done: ms + 2 */
            }
        }
        break;
    case FRAME_DISCARD:
        break; /* counted */
    default:
        if (n->app.frame != NULL && l->fp_known)
            n->app.frame(n->app.arg, l->id, l->fp, l->rx.type, l->rxbuf,
                         l->rx.len);
        break;
    }
    return 0;
}

static err_t
cb_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct peer_link *l = arg;
    struct net *n;

    (void)err;
    if (l == NULL || l->state == LINK_FREE) {
        if (p != NULL) {
            altcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    n = l->net;
    if (p == NULL)
        return abort_in_cb(l, pcb, NET_R_CLOSED);
    if (!l->gated || l->state != LINK_UP) {
        /* Cannot happen: TLS hands no data up before the handshake,
         * which the gate must have passed.  Counted, never parsed. */
        n->c.parser_bytes_ungated += p->tot_len;
        pbuf_free(p);
        return abort_in_cb(l, pcb, NET_R_UNTRUSTED);
    }
    l->t_rx = now_ms();
    l->bytes_in += p->tot_len;
    n->c.bytes_in += p->tot_len;
    for (struct pbuf *q = p; q != NULL; q = q->next) {
        const uint8_t *b = q->payload;
        size_t off = 0;

        while (off < q->len) {
            int done, used;

            if (!l->rx.in_payload && l->rx.have == 0)
                l->t_frame = l->t_rx;
            used = frame_rx_feed(&l->rx, b + off, q->len - off, &done);
            if (used < 0) {
                n->c.parser_bytes += q->len - off;
                pbuf_free(p);
                return abort_in_cb(l, pcb, frame_reason(l->rx.reason));
            }
            n->c.parser_bytes += (uint64_t)used;
            off += (size_t)used;
            if (done) {
                int r = on_frame(l);

                if (r != 0) {
                    pbuf_free(p);
                    return abort_in_cb(l, pcb, r);
                }
            }
        }
    }
    altcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (l->bench_left > 0)
        bench_pump(l);
    return ERR_OK;
}

static err_t
cb_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    struct peer_link *l = arg;

    (void)pcb;
    (void)len;
    if (l != NULL && l->state == LINK_UP && l->bench_left > 0)
        bench_pump(l);
    return ERR_OK;
}

static err_t
cb_up(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct peer_link *l = arg;
    struct net *n;
    char a[32], fp[2 * TRUST_FP_LEN + 1];

    if (l == NULL || l->state == LINK_FREE)
        return ERR_OK;
    n = l->net;
    if (err != ERR_OK) {
        l->pcb = NULL; /* the caller frees it */
        link_finish(l, NET_R_CONNECT);
        return ERR_OK;
    }
    if (!l->gated) /* no certificate was checked: never up */
        return abort_in_cb(l, pcb, NET_R_BAD_CERT);
    l->state = LINK_UP;
    l->t_up = l->t_rx = now_ms();
    n->c.hs_ok++;
    n->c.links_opened++;
    fmt_addr(a, sizeof(a), l->ip, l->port);
    fmt_fp(fp, l);
    /* The handshake's duration: from the link's start (the dial, or the
     * accepted connection) to TLS done, TCP's handshake included. */
    net_logf(n, "net: link %u %s %s up in %u ms (fingerprint %s)",
             (unsigned)l->id, l->out ? "to" : "from", a,
             (unsigned)(l->t_up - l->t_start), fp);
    (void)send_ping(l, now_ms());
    return ERR_OK;
}

/* The peer's certificate: the gate decides on the leaf; anything the
 * peer sent above it is not looked at (trust is by key, not issuer). */
static int
cb_verify(void *arg, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    struct peer_link *l = arg;
    const uint8_t *ext = NULL;
    size_t ext_len = 0;
    int r;

    if (depth != 0) {
        *flags = 0;
        return 0;
    }
    /* The rotation extension, if any: Extensions ::= SEQUENCE OF
     * SEQUENCE { OID, [BOOLEAN], OCTET STRING }. */
    if (crt->v3_ext.p != NULL && crt->v3_ext.len > 0) {
        unsigned char *p = crt->v3_ext.p, *end = p + crt->v3_ext.len;
        size_t len;

        if (mbedtls_asn1_get_tag(&p, end, &len,
                                 MBEDTLS_ASN1_CONSTRUCTED |
                                     MBEDTLS_ASN1_SEQUENCE) == 0)
            end = p + len;
        else
            p = end;
        while (p < end) {
            unsigned char *e_end, *oid;
            size_t olen;
            int crit;

            if (mbedtls_asn1_get_tag(&p, end, &len,
                                     MBEDTLS_ASN1_CONSTRUCTED |
                                         MBEDTLS_ASN1_SEQUENCE))
                break;
            e_end = p + len;
            if (mbedtls_asn1_get_tag(&p, e_end, &olen, MBEDTLS_ASN1_OID))
                break;
            oid = p;
            p += olen;
            if (mbedtls_asn1_get_bool(&p, e_end, &crit) != 0 &&
                mbedtls_asn1_get_tag(&p, e_end, &len, MBEDTLS_ASN1_BOOLEAN) ==
                    0)
                break;
            if (mbedtls_asn1_get_tag(&p, e_end, &len,
                                     MBEDTLS_ASN1_OCTET_STRING) != 0)
                break;
            if (olen == net_rot_oid_len &&
                memcmp(oid, net_rot_oid, olen) == 0) {
                ext = p;
                ext_len = len;
            }
            p = e_end;
        }
    }
    r = net_gate(l->net, crt->pk_raw.p, crt->pk_raw.len, ext, ext_len, l->fp);
    l->fp_known = r != NET_R_BAD_CERT;
    if (r != NET_R_NONE) {
        l->reason = (uint8_t)r;
        return MBEDTLS_ERR_X509_FATAL_ERROR; /* fatal even if optional */
    }
    l->gated = 1;
    *flags = 0;
    return 0;
}

static void
arm(struct peer_link *l, struct altcp_pcb *tls)
{
    l->pcb = tls;
    l->state = LINK_HANDSHAKE;
    mbedtls_ssl_set_verify(altcp_tls_context(tls), cb_verify, l);
    altcp_arg(tls, l);
    altcp_recv(tls, cb_recv);
    altcp_sent(tls, cb_sent);
    altcp_err(tls, cb_err);
    /* Frames are small and answered at once (ping/pong): no Nagle. */
    altcp_nagle_disable(tls);
    /* lwIP 2.1.3 calls a server connection's 'connected' when its
     * handshake completes, as for a client: set it directly (struct
     * altcp_pcb is public). */
    tls->connected = cb_up;
}

/* ---- accepting ------------------------------------------------------------ */

static int
source_allowed(struct net *n, const uint8_t ip[4])
{
    uint64_t now = now_ms();
    struct net_source *s = NULL, *oldest = &n->src[0];

    for (int i = 0; i < NET_SOURCES; i++) {
        if (n->src[i].t_win != 0 && memcmp(n->src[i].ip, ip, 4) == 0) {
            s = &n->src[i];
            break;
        }
        if (n->src[i].t_win < oldest->t_win)
            oldest = &n->src[i];
    }
    if (s == NULL) {
        s = oldest;
        memcpy(s->ip, ip, 4);
        s->t_win = 0;
    }
    if (s->t_win == 0 || now - s->t_win >= 60000) {
        s->t_win = now ? now : 1;
        s->count = 0;
    }
    return ++s->count <= n->set[NET_S_CONN_PER_MIN];
}

static err_t
cb_accept(void *arg, struct altcp_pcb *inner, err_t err)
{
    struct net *n = arg;
    struct peer_link *l;
    struct altcp_pcb *tls;
    uint8_t ip[4];
    uint16_t port;
    int why = NET_R_NONE;

    if (err != ERR_OK || inner == NULL)
        return ERR_VAL;
    ip_of(altcp_get_ip(inner, 0), ip);
    port = altcp_get_port(inner, 0);
    if (!source_allowed(n, ip))
        why = NET_R_CONN_RATE;
    else if (count_links(n, 0, 0) >= n->set[NET_S_LINKS_IN])
        why = NET_R_LINKS_FULL;
    else if (count_links(n, 0, 1) >= n->set[NET_S_HANDSHAKES])
        why = NET_R_HS_BUSY;
    else if (n->srv_conf == NULL || (l = link_alloc(n)) == NULL)
        why = NET_R_MEMORY;
    if (why != NET_R_NONE) {
        refuse_early(n, ip, port, why);
        altcp_abort(inner);
        return ERR_ABRT;
    }
    tls = altcp_tls_wrap(n->srv_conf, inner);
    if (tls == NULL) {
        refuse_early(n, ip, port, NET_R_MEMORY);
        altcp_abort(inner);
        return ERR_ABRT;
    }
    memcpy(l->ip, ip, 4);
    l->port = port;
    arm(l, tls);
    return ERR_OK;
}

int
peer_listen(struct net *n)
{
    struct altcp_pcb *pcb = altcp_tcp_new_ip_type(IPADDR_TYPE_V4), *lp;

    if (pcb == NULL)
        return -ENOMEM;
    if (altcp_bind(pcb, IP4_ADDR_ANY, (u16_t)n->set[NET_S_PORT]) != ERR_OK) {
        altcp_close(pcb);
        snprintf(n->why, sizeof(n->why), "cannot listen on port %u",
                 (unsigned)n->set[NET_S_PORT]);
        return -EADDRINUSE;
    }
    lp = altcp_listen_with_backlog(pcb, LISTEN_BACKLOG);
    if (lp == NULL) {
        altcp_close(pcb);
        return -ENOMEM;
    }
    altcp_arg(lp, n);
    altcp_accept(lp, cb_accept);
    n->listener = lp;
    return 0;
}

/* ---- dialing -------------------------------------------------------------- */

static void
dial(struct net *n, int d)
{
    const struct dial_entry *e = &n->dials.e[d];
    struct altcp_pcb *inner, *tls;
    struct peer_link *l;
    ip_addr_t ip;

    n->dial[d].attempts++;
    if (n->cli_conf == NULL ||
        count_links(n, 1, 0) >= n->set[NET_S_LINKS_OUT] ||
        count_links(n, 0, 1) >= n->set[NET_S_HANDSHAKES] ||
        (l = link_alloc(n)) == NULL) {
        schedule_dial(n, d, 0);
        return;
    }
    inner = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
    tls = inner ? altcp_tls_wrap(n->cli_conf, inner) : NULL;
    if (tls == NULL) {
        if (inner != NULL)
            altcp_close(inner);
        n->dial[d].last_reason = NET_R_MEMORY;
        schedule_dial(n, d, 0);
        return;
    }
    memcpy(l->ip, e->ip, 4);
    l->port = e->port;
    l->out = 1;
    l->dial = d;
    n->dial[d].link = (int)(l - n->link);
    arm(l, tls);
    IP_ADDR4(&ip, e->ip[0], e->ip[1], e->ip[2], e->ip[3]);
    if (altcp_connect(tls, &ip, e->port, cb_up) != ERR_OK)
        link_end(l, NET_R_CONNECT, 0);
}

/* ---- the tick ------------------------------------------------------------- */

void
peer_tick(struct net *n)
{
    uint64_t now = now_ms();

    if (now - n->t_tick < TICK_MS)
        return;
    n->t_tick = now;
    /* A new identity: the certificate changes, so every link ends and is
     * made again with the new one. */
    if (n->id != NULL && n->id->state == IDENTITY_READY &&
        (n->id->gen != n->conf_gen || n->srv_conf == NULL)) {
        for (int i = 0; i < NET_LINKS; i++)
            if (n->link[i].state != LINK_FREE)
                link_end(&n->link[i], NET_R_REKEY, 1);
        if (net_tls_configure(n) == 0)
            net_logf(n,
                     "net: TLS certificate remade for identity "
                     "generation %u",
                     (unsigned)n->conf_gen);
    }
    for (int i = 0; i < NET_LINKS; i++) {
        struct peer_link *l = &n->link[i];

        if (l->state == LINK_HANDSHAKE &&
            now - l->t_start > n->set[NET_S_HS_MS]) {
            link_end(l, NET_R_HS_TIMEOUT, 0);
        } else if (l->state == LINK_UP) {
            if ((l->rx.in_payload || l->rx.have > 0) &&
                now - l->t_frame > n->set[NET_S_FRAME_MS])
                link_end(l, NET_R_FRAME_TIMEOUT, 0);
            else if (now - l->t_rx > n->set[NET_S_IDLE_MS])
                link_end(l, NET_R_IDLE_TIMEOUT, 0);
            else if (now - l->t_ping >= n->set[NET_S_PING_MS] &&
                     l->bench_left == 0)
                (void)send_ping(l, now);
            if (l->state == LINK_UP && l->bench_left > 0)
                bench_pump(l);
        }
    }
    for (unsigned d = 0; d < n->dials.n; d++)
        if (n->dial[d].link < 0 && now >= n->dial[d].next_try)
            dial(n, (int)d);
}

/* ---- console operations -------------------------------------------------- */

int
net_trust_add(struct net *n, const uint8_t fp[TRUST_FP_LEN])
{
    int rc = trust_add(&n->trust, fp, hal_clock_wall(), 0);

    if (rc != 0)
        return rc;
    rc = net_save_trust(n);
    if (rc != 0)
        (void)trust_remove(&n->trust, fp);
    return rc;
}

int
net_trust_remove(struct net *n, const uint8_t fp[TRUST_FP_LEN])
{
    struct trust_list keep = n->trust;
    int rc = trust_remove(&n->trust, fp);

    if (rc != 0)
        return rc;
    rc = net_save_trust(n);
    if (rc != 0) {
        n->trust = keep;
        return rc;
    }
    /* Links with that key end now: trust is checked at every link. */
    for (int i = 0; i < NET_LINKS; i++) {
        struct peer_link *l = &n->link[i];

        if (l->state != LINK_FREE && l->fp_known &&
            memcmp(l->fp, fp, TRUST_FP_LEN) == 0)
            link_end(l, NET_R_UNTRUSTED, 1);
    }
    return 0;
}

static int
save_dials(struct net *n)
{
    uint8_t rec[DIAL_REC_MAX];
    size_t len = dial_encode(&n->dials, rec);

    if (n->st == NULL)
        return -EROFS;
    return store_put(n->st, DIAL_KEY, rec, len);
}

int
net_dial_add(struct net *n, const struct dial_entry *d)
{
    int rc;

    if (dial_find(&n->dials, d->ip, d->port) >= 0)
        return -EEXIST;
    if (n->dials.n >= DIAL_MAX)
        return -ENOSPC;
    n->dials.e[n->dials.n++] = *d;
    rc = save_dials(n);
    if (rc != 0) {
        n->dials.n--;
        return rc;
    }
    memset(&n->dial[n->dials.n - 1], 0, sizeof(n->dial[0]));
    n->dial[n->dials.n - 1].link = -1;
    return 0;
}

int
net_dial_remove(struct net *n, const struct dial_entry *d)
{
    struct dial_list keep = n->dials;
    int i = dial_find(&n->dials, d->ip, d->port), rc;
    unsigned last;

    if (i < 0 || (unsigned)i >= n->dials.n)
        return -ENOENT;
    last = n->dials.n - 1;
    memmove(&n->dials.e[i], &n->dials.e[i + 1],
            (last - (unsigned)i) * sizeof(n->dials.e[0]));
    memset(&n->dials.e[last], 0, sizeof(n->dials.e[0]));
    n->dials.n--;
    rc = save_dials(n);
    if (rc != 0) {
        n->dials = keep;
        return rc;
    }
    if (n->dial[i].link >= 0)
        link_end(&n->link[n->dial[i].link], NET_R_DROPPED, 1);
    memmove(&n->dial[i], &n->dial[i + 1],
            (last - (unsigned)i) * sizeof(n->dial[0]));
    memset(&n->dial[last], 0, sizeof(n->dial[0]));
    n->dial[last].link = -1;
    for (int k = 0; k < NET_LINKS; k++)
        if (n->link[k].state != LINK_FREE && n->link[k].dial > i)
            n->link[k].dial--;
    return 0;
}

static struct peer_link *
link_by_id(struct net *n, uint32_t id)
{
    for (int i = 0; i < NET_LINKS; i++)
        if (n->link[i].state != LINK_FREE && n->link[i].id == id)
            return &n->link[i];
    return NULL;
}

int
net_drop(struct net *n, uint32_t id)
{
    struct peer_link *l = link_by_id(n, id);

    if (l == NULL)
        return -ENOENT;
    link_end(l, NET_R_DROPPED, 1);
    return 0;
}

void
net_stop(struct net *n)
{
    if (!n->up)
        return;
    for (int i = 0; i < NET_LINKS; i++)
        if (n->link[i].state != LINK_FREE)
            link_end(&n->link[i], NET_R_DROPPED, 1);
    /* let the FINs out */
    for (int i = 0; i < 3; i++)
        net_poll(n);
}

int
net_ping(struct net *n, uint32_t id)
{
    struct peer_link *l = link_by_id(n, id);

    if (l == NULL)
        return -ENOENT;
    if (l->state != LINK_UP)
        return -ENOTCONN;
    return send_ping(l, now_ms());
}

int
net_send(struct net *n, uint32_t id, unsigned type, const void *p, uint32_t len)
{
    struct peer_link *l = link_by_id(n, id);

    if (l == NULL)
        return -ENOENT;
    if (len > FRAME_KEEP_MAX)
        return -EINVAL;
    return link_send(l, type, p, len);
}

int
net_link_up(const struct net *n, uint32_t id, uint8_t fp[TRUST_FP_LEN])
{
    for (int i = 0; i < NET_LINKS; i++) {
        const struct peer_link *l = &n->link[i];

        if (l->state == LINK_UP && l->id == id && l->fp_known) {
            if (fp != NULL)
                memcpy(fp, l->fp, TRUST_FP_LEN);
            return 1;
        }
    }
    return 0;
}

int
net_link_ids(const struct net *n, uint32_t *ids, int max)
{
    int k = 0;

    for (int i = 0; i < NET_LINKS && k < max; i++)
        if (n->link[i].state == LINK_UP && n->link[i].fp_known)
            ids[k++] = n->link[i].id;
    return k;
}

int
net_bench(struct net *n, uint32_t id, uint64_t bytes)
{
    struct peer_link *l = link_by_id(n, id);

    if (l == NULL)
        return -ENOENT;
    if (l->state != LINK_UP)
        return -ENOTCONN;
    if (l->bench_left > 0 || l->bench_ping == 1)
        return -EBUSY;
    l->bench_left = l->bench_total = bytes;
    l->bench_ping = 0;
    l->bench_t0 = now_ms();
    bench_pump(l);
    return 0;
}
