/*
 * node/p2p.c - peer bundle distribution: announce, serve, fetch
 * (node/p2p.h says what and why; docs/P2P.md the reasoning).
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "keel_opts.h"

#include "hal/clock.h"
#include "hal/poll.h"
#include "hal/sys.h"
#include "lib/hex.h"
#include "lib/klog.h"
#include "lib/le.h"
#include "node/node.h"
#include "node/p2p.h"
#include "update/quarantine.h"

#define IDX_MANIFEST 0xffffffffu

static uint64_t
now_ms(void)
{
    return hal_clock_ms();
}

/* The first 8 bytes of a hash or key, in hex, for log lines. */
static const char *
hex8(const uint8_t *h, char out[17])
{
    lib_hex_encode(h, 8, out);
    out[16] = '\0';
    return out;
}

static uint32_t
chunk_len(const struct upd_manifest *m, uint32_t i)
{
    uint64_t off = (uint64_t)i * m->chunk_size;

    return (uint32_t)(m->payload_size - off < m->chunk_size
                          ? m->payload_size - off
                          : m->chunk_size);
}

/* ---- sources and bans ------------------------------------------------ */

static int
src_of(struct p2p *p, const uint8_t fp[TRUST_FP_LEN])
{
    int free_i = -1;

    for (int i = 0; i < P2P_SOURCES; i++) {
        if (p->src[i].used && memcmp(p->src[i].fp, fp, TRUST_FP_LEN) == 0)
            return i;
        if (!p->src[i].used && free_i < 0)
            free_i = i;
    }
    if (free_i < 0)
        return -1; /* more keys than counted: not counted, not marked */
    memset(&p->src[free_i], 0, sizeof(p->src[0]));
    memcpy(p->src[free_i].fp, fp, TRUST_FP_LEN);
    p->src[free_i].used = 1;
    return free_i;
}

static int
banned(struct p2p *p, const uint8_t fp[TRUST_FP_LEN], const uint8_t hash[32])
{
    uint64_t now = now_ms();

    for (int i = 0; i < P2P_BANS; i++) {
        struct p2p_ban *b = &p->ban[i];

        if (b->until_ms == 0)
            continue;
        if (now >= b->until_ms) {
            b->until_ms = 0; /* expired */
            continue;
        }
        if (memcmp(b->fp, fp, TRUST_FP_LEN) == 0 &&
            memcmp(b->hash, hash, 32) == 0)
            return 1;
    }
    return 0;
}

static void
ban_add(struct p2p *p, const uint8_t fp[TRUST_FP_LEN], const uint8_t hash[32])
{
    struct p2p_ban *b = &p->ban[0];

    for (int i = 0; i < P2P_BANS; i++) {
        if (p->ban[i].until_ms == 0) {
            b = &p->ban[i];
            break;
        }
        if (p->ban[i].until_ms < b->until_ms)
            b = &p->ban[i]; /* full: the one expiring first goes */
    }
    memcpy(b->fp, fp, TRUST_FP_LEN);
    memcpy(b->hash, hash, 32);
    b->until_ms = now_ms() + (uint64_t)P2P_BAN_S * 1000;
}

static struct p2p_peer *
peer_of(struct p2p *p, uint32_t link)
{
    for (int i = 0; i < NET_LINKS; i++)
        if (p->peer[i].link == link)
            return &p->peer[i];
    return NULL;
}

static const struct p2p_ad *
peer_ad(const struct p2p_peer *pe, const uint8_t hash[32])
{
    for (int i = 0; i < pe->nads; i++)
        if (memcmp(pe->ad[i].hash, hash, 32) == 0)
            return &pe->ad[i];
    return NULL;
}

/* ---- announce ---------------------------------------------------------- */

static void
announce_to(struct node *node, uint32_t link)
{
    struct p2p *p = &node->p2p;
    struct p2p_ad ads[2];
    uint8_t b[P2P_ANNOUNCE_MAX];
    unsigned n = 0;

    for (int i = 0; i < 2; i++)
        if (p->held[i].valid)
            ads[n++] = p->held[i].ad;
    (void)net_send(&node->net, link, FRAME_P2P_ANNOUNCE, b,
                   (uint32_t)p2p_announce_encode(ads, n, b));
}

static void
announce_all(struct node *node)
{
    uint32_t ids[NET_LINKS];
    int k = net_link_ids(&node->net, ids, NET_LINKS);

    for (int i = 0; i < k; i++)
        announce_to(node, ids[i]);
    node->p2p.t_ann = now_ms();
}

static void
on_announce(struct node *node, uint32_t link, const uint8_t *fp,
            const uint8_t *b, uint32_t len)
{
    struct p2p *p = &node->p2p;
    struct p2p_peer *pe = peer_of(p, link), tmp;
    unsigned n;
    int fresh = pe == NULL;

    memset(&tmp, 0, sizeof(tmp));
    if (p2p_announce_decode(b, len, tmp.ad, &n) != 0)
        return; /* malformed: ignored whole */
    if (pe == NULL)
        pe = peer_of(p, 0);
    if (pe == NULL)
        return;
    tmp.link = link;
    memcpy(tmp.fp, fp, TRUST_FP_LEN);
    tmp.nads = (uint8_t)n;
    tmp.inflight = fresh ? 0 : pe->inflight;
    *pe = tmp;
    if (fresh)
        announce_to(node, link); /* a new peer learns ours at once */
}

/* ---- what this node holds -------------------------------------------- */

static void
cache_drop(struct p2p *p)
{
    for (int i = 0; i < P2P_CACHE; i++)
        p->cache[i].valid = 0;
}

/* The bundle in the node's good, ready or trial slot (the newest). */
static void
held_load(struct node *node)
{
    struct p2p *p = &node->p2p;
    struct p2p_held *h = &p->held[0];
    struct bootctl bc;
    struct upd_slot_hdr sh;
    uint8_t hb[UPD_SLOT_HDR_LEN], mh[32], *b = p->held_blob;
    const struct hal_flash *f;
    const char *why;
    int best = -1, s;

    h->valid = 0;
    cache_drop(p);
    if (node->ctl_rc != 0 || bootctl_load(&node->ctl, &bc) != 0)
        return;
    for (s = 0; s < 2; s++) {
        int st = bc.slot[s].state;

        if (st != SLOT_GOOD && st != SLOT_READY && st != SLOT_TRIAL)
            continue;
        if (best < 0 ||
            upd_version_cmp(&bc.slot[s].version, &bc.slot[best].version) > 0)
            best = s;
    }
    if (best < 0)
        return;
    f = node->upd.slot[best];
    if (hal_flash_read(f, 0, hb, sizeof(hb)) != 0 ||
        upd_slot_hdr_decode(hb, &sh, &why) != 0 ||
        sh.manifest_len != bc.slot[best].manifest_len ||
        sh.manifest_len > UPD_MANIFEST_MAX || sh.sigs_len > UPD_SLOT_SIGS_MAX ||
        hal_flash_read(f, UPD_SLOT_HDR, b + 8, sh.manifest_len) != 0 ||
        hal_flash_read(f, UPD_SLOT_SIGS_OFF, b + 8 + sh.manifest_len,
                       sh.sigs_len) != 0)
        return;
    crypto_sha256(b + 8, sh.manifest_len, mh);
    if (crypto_ct_diff(mh, bc.slot[best].manifest_hash, 32) != 0 ||
        upd_manifest_decode(b + 8, sh.manifest_len, &h->man, &why) != 0)
        return;
    if (upd_quar_check(node->upd.st, mh) != 0)
        return; /* quarantined (or the list unreadable): not served */
    lib_put32(b, sh.manifest_len);
    lib_put32(b + 4, sh.sigs_len);
    h->blob = b;
    h->blob_len = 8 + sh.manifest_len + sh.sigs_len;
    h->slot = best;
    h->po = sh.payload_off;
    h->reported = 0;
    memset(&h->ad, 0, sizeof(h->ad));
    memcpy(h->ad.hash, mh, 32);
    h->ad.v = h->man.version;
    h->ad.counter = h->man.counter;
    h->ad.size = h->man.payload_size;
    h->ad.chunk_size = h->man.chunk_size;
    h->ad.nchunks = h->man.nchunks;
    h->ad.have = h->man.nchunks;
    snprintf(h->ad.board, sizeof(h->ad.board), "%s", node->upd.board);
    h->valid = 1;
}

void
p2p_refresh(struct node *node)
{
    struct p2p *p = &node->p2p;
    int h1 = p->held[1].valid;

    held_load(node);
    if (h1 && upd_quar_check(node->upd.st, p->held[1].ad.hash) != 0)
        p->held[1].valid = 0;
    announce_all(node);
}

/* ---- serving ------------------------------------------------------------- */

static void
send_nak(struct node *node, uint32_t link, const uint8_t hash[32], uint32_t idx,
         int reason)
{
    uint8_t b[37];

    memcpy(b, hash, 32);
    lib_put32(b + 32, idx);
    b[36] = (uint8_t)reason;
    (void)net_send(&node->net, link, FRAME_P2P_NAK, b, sizeof(b));
}

static int
held_of(struct p2p *p, const uint8_t hash[32])
{
    for (int i = 0; i < 2; i++)
        if (p->held[i].valid && memcmp(p->held[i].ad.hash, hash, 32) == 0)
            return i;
    return -1;
}

static struct p2p_serve *
serve_of(struct p2p *p, uint32_t link, int make)
{
    struct p2p_serve *fr = NULL;

    for (int i = 0; i < NET_LINKS; i++) {
        if (p->serve[i].link == link)
            return &p->serve[i];
        if (p->serve[i].link == 0 && fr == NULL)
            fr = &p->serve[i];
    }
    if (!make || fr == NULL)
        return NULL;
    memset(fr, 0, sizeof(*fr));
    fr->link = link;
    return fr;
}

static unsigned
serve_queued(const struct p2p *p)
{
    unsigned n = 0;

    for (int i = 0; i < NET_LINKS; i++)
        if (p->serve[i].link != 0)
            for (int k = 0; k < P2P_SERVE_Q; k++)
                n += p->serve[i].q[k].kind != 0;
    return n;
}

static void
on_request(struct node *node, uint32_t link, unsigned type, const uint8_t *b,
           uint32_t len)
{
    struct p2p *p = &node->p2p;
    uint32_t idx;
    int hi, k;
    struct p2p_serve *s;
    char hx[17];

    if (len != 36)
        return;
    idx = lib_le32(b + 32);
    hi = held_of(p, b);
    if (hi < 0) {
        int q = upd_quar_check(node->upd.st, b);

        if (q != 0)
            klog(KLOG_INFO,
                 "p2p: refused to serve bundle %s to link %u: "
                 "quarantined\n",
                 hex8(b, hx), (unsigned)link);
        send_nak(node, link, b, type == FRAME_P2P_MAN_REQ ? IDX_MANIFEST : idx,
                 q != 0 ? P2P_NAK_QUARANTINED : P2P_NAK_NOT_HELD);
        return;
    }
    if (type == FRAME_P2P_CHUNK_REQ && idx >= p->held[hi].ad.have) {
        send_nak(node, link, b, idx, P2P_NAK_NOT_HELD);
        return;
    }
    if (type == FRAME_P2P_MAN_REQ && idx >= p->held[hi].blob_len) {
        send_nak(node, link, b, IDX_MANIFEST, P2P_NAK_NOT_HELD);
        return;
    }
    s = serve_of(p, link, 1);
    for (k = 0; s != NULL && k < P2P_SERVE_Q && s->q[k].kind != 0; k++)
        ;
    if (s == NULL || k == P2P_SERVE_Q || serve_queued(p) >= P2P_SERVE_TOTAL) {
        p->serve_busy++;
        send_nak(node, link, b, type == FRAME_P2P_MAN_REQ ? IDX_MANIFEST : idx,
                 P2P_NAK_BUSY);
        return;
    }
    s->q[k].kind = type == FRAME_P2P_MAN_REQ ? 1 : 2;
    memcpy(s->q[k].hash, b, 32);
    s->q[k].idx = type == FRAME_P2P_MAN_REQ ? 0 : idx;
    s->q[k].off = type == FRAME_P2P_MAN_REQ ? idx : 0;
}

/* Chunk idx of held bundle hi, read from flash and hashed against the
 * manifest (verify on read); NULL when it does not match (reported
 * once per bundle) or cannot be read. */
static struct p2p_cache *
cache_get(struct node *node, int hi, uint32_t idx)
{
    struct p2p *p = &node->p2p;
    struct p2p_held *h = &p->held[hi];
    struct p2p_cache *c;
    uint8_t mh[32];
    char hx[17];
    uint32_t len = chunk_len(&h->man, idx);

    for (int i = 0; i < P2P_CACHE; i++) {
        c = &p->cache[i];
        if (c->valid && c->idx == idx && memcmp(c->hash, h->ad.hash, 32) == 0)
            return c;
    }
    c = &p->cache[p->cache_next++ % P2P_CACHE];
    c->valid = 0;
    if (hal_flash_read(node->upd.slot[h->slot],
                       h->po + (uint64_t)idx * h->man.chunk_size, c->buf,
                       len) != 0)
        return NULL;
    crypto_sha256(c->buf, len, mh);
    if (crypto_ct_diff(mh, h->man.chunk_hash + (size_t)idx * 32, 32) != 0) {
        p->serve_corrupt++;
        if (!h->reported)
            klog(KLOG_WARN,
                 "p2p: slot %c chunk %" PRIu32 " of bundle %s no longer "
                 "matches its manifest on flash: not served ('update "
                 "verify-all' to check, '--fix' to repair)\n",
                 slot_name(h->slot), idx, hex8(h->ad.hash, hx));
        h->reported = 1;
        return NULL;
    }
    memcpy(c->hash, h->ad.hash, 32);
    c->idx = idx;
    c->len = len;
    c->held = hi;
    c->valid = 1;
    return c;
}

static void
serve_pop(struct p2p_serve *s)
{
    memmove(&s->q[0], &s->q[1], (P2P_SERVE_Q - 1) * sizeof(s->q[0]));
    memset(&s->q[P2P_SERVE_Q - 1], 0, sizeof(s->q[0]));
}

static void
serve_pump(struct node *node)
{
    struct p2p *p = &node->p2p;
    uint64_t now = now_ms();
    uint32_t bmax = node->net.set[NET_S_BYTES_PER_S] / 4 * 3,
             fmax = node->net.set[NET_S_FRAMES_PER_S] / 4 * 3;
    uint8_t *fr = p->fr;
#if KEEL_TEST_HOOKS
    /* Sim board only: a lying peer for tests/p2p.sh, which flips a byte
     * of every chunk after its own verify on read ("manifest": of every
     * manifest it serves instead). */
    const char *cv = hal_sys_param("KEEL_SIM_P2P_CORRUPT");
    int corrupt = cv == NULL ? 0 : strcmp(cv, "manifest") == 0 ? 1 : 2;
#else
    const int corrupt = 0;
#endif

    for (int i = 0; i < NET_LINKS; i++) {
        struct p2p_serve *s = &p->serve[i];
        unsigned sent = 0;

        if (s->link == 0)
            continue;
        if (!net_link_up(&node->net, s->link, NULL)) {
            memset(s, 0, sizeof(*s));
            continue;
        }
        if (now - s->t_win >= 1000) {
            s->t_win = now;
            s->win_bytes = 0;
            s->win_frames = 0;
        }
        /* bounded: at most 64 frames per link per call */
        while (s->q[0].kind != 0 && sent < 64) {
            struct p2p_serve_req *r = &s->q[0];
            /* by hash: a fetch that ends moves its bundle from held[1]
             * to held[0] under a queued request */
            int hi = held_of(p, r->hash);
            struct p2p_held *h = hi >= 0 ? &p->held[hi] : NULL;
            uint32_t total, n, hl = 40;
            const uint8_t *src;
            int rc;

            if (s->win_bytes + FRAME_HDR + FRAME_KEEP_MAX > bmax ||
                s->win_frames + 1 > fmax)
                break; /* paced: the rest in the next window */
            if (h == NULL || (r->kind == 2 && r->idx >= h->ad.have)) {
                send_nak(node, s->link, r->hash,
                         r->kind == 1 ? IDX_MANIFEST : r->idx,
                         P2P_NAK_NOT_HELD);
                serve_pop(s);
                continue;
            }
            memcpy(fr, h->ad.hash, 32);
            if (r->kind == 1) {
                total = h->blob_len;
                src = h->blob + r->off;
                lib_put32(fr + 32, total);
            } else {
                struct p2p_cache *c = cache_get(node, hi, r->idx);

                if (c == NULL) {
                    send_nak(node, s->link, h->ad.hash, r->idx,
                             P2P_NAK_CORRUPT);
                    serve_pop(s);
                    continue;
                }
                total = c->len;
                src = c->buf + r->off;
                lib_put32(fr + 32, r->idx);
            }
            lib_put32(fr + 36, r->off);
            n = total - r->off < P2P_PIECE ? total - r->off : P2P_PIECE;
            memcpy(fr + hl, src, n);
            if (corrupt == r->kind && r->off == 0 && n > 8)
                fr[hl + (r->kind == 1 ? 8 : 0)] ^= 0x5a; /* test hook */
            rc =
                net_send(&node->net, s->link,
                         r->kind == 1 ? FRAME_P2P_MAN_REP : FRAME_P2P_CHUNK_REP,
                         fr, hl + n);
            if (rc == -EAGAIN)
                break;
            if (rc != 0) {
                memset(s, 0, sizeof(*s));
                break;
            }
            sent++;
            s->win_bytes += FRAME_HDR + hl + n;
            s->win_frames++;
            r->off += n;
            if (r->off >= total) {
                if (r->kind == 2) {
                    p->served_chunks++;
                    p->served_bytes += total;
                }
                serve_pop(s);
            }
        }
    }
}

/* ---- fetching ------------------------------------------------------------ */

static void
peer_done(struct p2p *p, uint32_t link)
{
    struct p2p_peer *pe = peer_of(p, link);

    if (pe != NULL && pe->inflight > 0)
        pe->inflight--;
}

/* Every peer that announces chunk i of the bundle has failed it: 1. */
static int
all_sources_failed(struct p2p *p, const struct p2p_win *w)
{
    struct p2p_fetch *f = &p->f;
    int holders = 0, failed = 0;

    for (int i = 0; i < NET_LINKS; i++) {
        const struct p2p_peer *pe = &p->peer[i];
        const struct p2p_ad *a;
        int s;

        if (pe->link == 0 || (a = peer_ad(pe, f->hash)) == NULL ||
            a->have <= w->idx)
            continue;
        holders++;
        s = src_of(p, pe->fp);
        if (banned(p, pe->fp, f->hash) || (s >= 0 && (w->badmask & (1u << s))))
            failed++;
    }
    return holders > 0 && failed == holders;
}

static void
fetch_fail(struct node *node, int rc, const char *fmt, const char *a)
{
    struct p2p_fetch *f = &node->p2p.f;

    if (f->failed == 0) {
        f->failed = rc;
        snprintf(f->why, sizeof(f->why), fmt, a);
    }
}

static void
auto_quarantine(struct node *node, uint32_t idx)
{
    struct p2p_fetch *f = &node->p2p.f;
    char r[UPD_QUAR_REASON], hx[17];

    snprintf(r, sizeof(r),
             "automatic: chunk %" PRIu32 " failed its hash from every source",
             idx);
    if (upd_quar_add(node->upd.st, f->hash, r, 1, hal_clock_wall()) == 0)
        klog(KLOG_WARN, "p2p: bundle %s quarantined: %s\n", hex8(f->hash, hx),
             r);
    fetch_fail(node, -EBADMSG,
               "%s: the bundle is quarantined ('update quarantine list')", r);
}

static void
on_chunk(struct node *node, uint32_t link, const uint8_t *b, uint32_t len)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    struct p2p_win *w = NULL;
    uint32_t idx, off, n;
    uint8_t h[32];
    char hx[17], fx[17];

    if (!f->active || !f->chunks || len < 40 || memcmp(b, f->hash, 32) != 0)
        return;
    idx = lib_le32(b + 32);
    off = lib_le32(b + 36);
    n = len - 40;
    for (unsigned i = 0; i < f->nwin; i++)
        if (f->w[i].state == 1 && f->w[i].idx == idx && f->w[i].link == link)
            w = &f->w[i];
    if (w == NULL || off != w->got || n > w->len - w->got)
        return; /* late (timed out), or not what was asked: dropped */
    memcpy(f->buf[w - f->w] + off, b + 40, n);
    w->got += n;
    w->t = now_ms(); /* the request is alive */
    if (w->got < w->len)
        return;
    peer_done(p, link);
    crypto_sha256(f->buf[w - f->w], w->len, h);
    if (crypto_ct_diff(h, f->man.chunk_hash + (size_t)idx * 32, 32) == 0) {
        w->state = 2;
        p->chunks_ok++;
        f->bytes += w->len;
        f->t_progress = now_ms();
        if (w->src >= 0) {
            p->src[w->src].ok++;
            p->src[w->src].bytes += w->len;
        }
        return;
    }
    /* Source marking: counted, logged, asked of another. */
    p->chunks_bad++;
    p->verify_failed++;
    w->state = 0;
    if (w->src < 0)
        return;
    {
        struct p2p_source *s = &p->src[w->src];

        s->bad_hash++;
        s->bad++;
        w->badmask |= 1u << w->src;
        klog(KLOG_WARN,
             "p2p: chunk %" PRIu32 " of bundle %s from peer %s does not "
             "match the signed manifest (%u bad from it; dropped at %d): "
             "asked of another peer\n",
             idx, hex8(f->hash, hx), hex8(s->fp, fx), s->bad, P2P_BAD_MAX);
        if (s->bad >= P2P_BAD_MAX && !banned(p, s->fp, f->hash)) {
            ban_add(p, s->fp, f->hash);
            klog(KLOG_WARN,
                 "p2p: peer %s dropped for bundle %s for %d s after %d "
                 "bad chunks\n",
                 fx, hx, P2P_BAN_S, P2P_BAD_MAX);
        }
    }
    if (all_sources_failed(p, w))
        auto_quarantine(node, idx);
}

static void
on_manifest(struct node *node, uint32_t link, const uint8_t *b, uint32_t len)
{
    struct p2p_fetch *f = &node->p2p.f;
    uint32_t total, off, n;

    if (!f->active || f->chunks || len < 40 || link != f->man_link ||
        memcmp(b, f->hash, 32) != 0)
        return;
    total = lib_le32(b + 32);
    off = lib_le32(b + 36);
    n = len - 40;
    if (total < 8 || total > P2P_BLOB_MAX || off != f->blob_got ||
        n > total - off || (f->blob_len != 0 && total != f->blob_len))
        return;
    f->blob_len = total;
    memcpy(f->blob + off, b + 40, n);
    f->blob_got += n;
    f->t_man = now_ms();
}

static void
on_nak(struct node *node, uint32_t link, const uint8_t *b, uint32_t len)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    struct p2p_peer *pe = peer_of(p, link);
    uint32_t idx;

    if (!f->active || len != 37 || memcmp(b, f->hash, 32) != 0)
        return;
    idx = lib_le32(b + 32);
    if (idx == IDX_MANIFEST) {
        if (link == f->man_link)
            f->man_link = 0; /* asked of another */
        return;
    }
    for (unsigned i = 0; i < f->nwin; i++) {
        struct p2p_win *w = &f->w[i];

        if (w->state != 1 || w->idx != idx || w->link != link)
            continue;
        w->state = 0;
        peer_done(p, link);
        if (b[36] != P2P_NAK_BUSY && w->src >= 0)
            w->badmask |= 1u << w->src; /* not from this one again */
        if (b[36] == P2P_NAK_QUARANTINED && pe != NULL)
            pe->nads = 0; /* it will not serve this bundle */
    }
}

static void
on_frame(void *arg, uint32_t link, const uint8_t fp[TRUST_FP_LEN],
         unsigned type, const uint8_t *b, uint32_t len)
{
    struct node *node = arg;

    switch (type) {
    case FRAME_P2P_ANNOUNCE:
        on_announce(node, link, fp, b, len);
        break;
    case FRAME_P2P_MAN_REQ:
    case FRAME_P2P_CHUNK_REQ:
        on_request(node, link, type, b, len);
        break;
    case FRAME_P2P_MAN_REP:
        on_manifest(node, link, b, len);
        break;
    case FRAME_P2P_CHUNK_REP:
        on_chunk(node, link, b, len);
        break;
    case FRAME_P2P_NAK:
        on_nak(node, link, b, len);
        break;
    case FRAME_SYNC_C2S:
    case FRAME_SYNC_S2C: /* sync's own (sync/sync.h) */
        sync_link_frame(&node->sync, link,
                        type == FRAME_SYNC_S2C ? SYNC_LINK_S2C : SYNC_LINK_C2S,
                        b, len);
        break;
    default:
        break;
    }
}

/* A peer to ask for chunk w->idx: the one with the fewest requests
 * out, then the fewest bytes given in this fetch (the load spreads). */
static struct p2p_peer *
pick(struct p2p *p, const struct p2p_win *w)
{
    struct p2p_fetch *f = &p->f;
    struct p2p_peer *best = NULL;
    uint64_t best_score = UINT64_MAX;

    for (int i = 0; i < NET_LINKS; i++) {
        struct p2p_peer *pe = &p->peer[i];
        const struct p2p_ad *a;
        int s;
        uint64_t score;

        if (pe->link == 0 || pe->inflight >= P2P_PEER_INFLIGHT ||
            (a = peer_ad(pe, f->hash)) == NULL || a->have <= w->idx)
            continue;
        if (f->from_len > 0 && memcmp(pe->fp, f->from, f->from_len) != 0)
            continue;
        s = src_of(p, pe->fp);
        if (banned(p, pe->fp, f->hash) || (s >= 0 && (w->badmask & (1u << s))))
            continue;
        /* fewest requests out, then a peer still fetching before one
         * that holds it all (spare the origin), then fewest bytes */
        score = (uint64_t)pe->inflight << 56;
        score += a->have == a->nchunks ? UINT64_C(1) << 48 : 0;
        score += s >= 0 ? p->src[s].bytes : 0;
        if (score < best_score) {
            best = pe;
            best_score = score;
        }
    }
    return best;
}

static void
fetch_pump(struct node *node)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    uint64_t now = now_ms();

    if (!f->active || !f->chunks || f->failed)
        return;
    for (uint32_t i = f->next; i < f->next + f->nwin && i < f->man.nchunks;
         i++) {
        struct p2p_win *w = &f->w[i % f->nwin];
        struct p2p_peer *pe;
        uint8_t rq[36];

        if (w->state == 2 || (w->state == 1 && w->idx == i)) {
            if (w->state == 1 && (now - w->t > P2P_REQ_MS ||
                                  !net_link_up(&node->net, w->link, NULL))) {
                if (net_link_up(&node->net, w->link, NULL)) {
                    p->chunks_timeout++;
                    if (w->src >= 0)
                        p->src[w->src].timeouts++;
                }
                peer_done(p, w->link);
                w->state = 0;
            }
            if (w->state != 0)
                continue;
        }
        if (w->idx != i) {
            w->idx = i;
            w->badmask = 0;
        }
        w->len = chunk_len(&f->man, i);
        w->got = 0;
        pe = pick(p, w);
        if (pe == NULL)
            continue;
        memcpy(rq, f->hash, 32);
        lib_put32(rq + 32, i);
        if (net_send(&node->net, pe->link, FRAME_P2P_CHUNK_REQ, rq,
                     sizeof(rq)) != 0)
            continue;
        w->state = 1;
        w->link = pe->link;
        w->src = src_of(p, pe->fp);
        w->t = now;
        pe->inflight++;
    }
}

/* One turn of the event loop inside a fetch: 1 when Ctrl-C was typed. */
static int
wait_step(struct node *node)
{
    (void)hal_poll(NULL, &node->net.hw, 5);
    node_sync_tick(node); /* a fetch leaves the chain to sync */
    return node_poll(node);
}

/* The fetch's bundle is the one update_install() writes now: serve its
 * verified chunks too. */
static void
chunks_begin(struct node *node)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    struct p2p_held *h = &p->held[1];
    struct bootctl bc;
    uint32_t ml = lib_le32(f->blob);

    f->chunks = 1;
    f->t_progress = now_ms();
    held_load(node); /* the target slot is INSTALLING now */
    memset(h, 0, sizeof(*h));
    if (node->ctl_rc != 0 || bootctl_load(&node->ctl, &bc) != 0)
        return;
    for (int s = 0; s < 2; s++)
        if (bc.slot[s].state == SLOT_INSTALLING &&
            memcmp(bc.slot[s].manifest_hash, f->hash, 32) == 0) {
            h->slot = s;
            h->po = upd_slot_payload_off_in(node->upd.slot[s], ml);
            h->blob = f->blob;
            h->blob_len = f->blob_len;
            h->man = f->man;
            h->ad = f->ad;
            h->ad.have = 0;
            h->valid = 1;
        }
}

static int
src_read(void *arg, void *buf, size_t len)
{
    struct node *node = arg;
    struct p2p_fetch *f = &node->p2p.f;
    uint64_t hl = UPD_HDR_LEN + (uint64_t)f->blob_len - 8, off;
    uint32_t i, o, n;
    struct p2p_win *w;

    if (f->pos < UPD_HDR_LEN) {
        n = (uint32_t)(UPD_HDR_LEN - f->pos);
        n = n < len ? n : (uint32_t)len;
        memcpy(buf, f->hdr + f->pos, n);
        f->pos += n;
        return (int)n;
    }
    if (f->pos < hl) {
        n = (uint32_t)(hl - f->pos);
        n = n < len ? n : (uint32_t)len;
        memcpy(buf, f->blob + 8 + (f->pos - UPD_HDR_LEN), n);
        f->pos += n;
        return (int)n;
    }
    if (!f->chunks)
        chunks_begin(node);
    off = f->pos - hl;
    if (off >= f->man.payload_size)
        return 0;
    i = (uint32_t)(off / f->man.chunk_size);
    o = (uint32_t)(off % f->man.chunk_size);
    f->next = i;
    w = &f->w[i % f->nwin];
    /* bounded: every turn waits at most a few ms, and the fetch stops
     * after P2P_STALL_MS without a verified chunk */
    while (!(w->state == 2 && w->idx == i)) {
        fetch_pump(node);
        if (w->state == 2 && w->idx == i)
            break;
        if (f->failed)
            return f->failed;
        if (now_ms() - f->t_progress > P2P_STALL_MS) {
            fetch_fail(node, -ETIMEDOUT,
                       "no verified chunk from any peer for %s; the "
                       "verified chunks stay in the slot, 'update fetch' "
                       "resumes after them",
                       "20 s");
            return f->failed;
        }
        if (wait_step(node)) {
            fetch_fail(node, -ECANCELED, "%s", "cancelled (Ctrl-C)");
            return f->failed;
        }
    }
    n = w->len - o;
    n = n < len ? n : (uint32_t)len;
    memcpy(buf, f->buf[w - f->w] + o, n);
    f->pos += n;
    if (o + n == w->len) {
        w->state = 0;
        f->next = i + 1;
    }
    return (int)n;
}

static int
src_skip(void *arg, uint64_t n)
{
    struct node *node = arg;
    struct p2p_fetch *f = &node->p2p.f;

    if (!f->chunks)
        chunks_begin(node);
    f->pos += n;
    f->next = (uint32_t)(n / f->man.chunk_size);
    f->have = f->next;
    if (node->p2p.held[1].valid)
        node->p2p.held[1].ad.have = f->have;
    return 0;
}

struct fetch_prog {
    struct cmd_ctx *ctx;
    struct progress bar;
    int begun;
    uint64_t t_ann;
};

static int
fetch_progress(void *arg, const struct upd_progress *pr)
{
    struct node *node = arg;
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    uint64_t now = now_ms();

    f->written = pr->done;
    f->have = pr->done >= pr->total ? f->man.nchunks
                                    : (uint32_t)(pr->done / f->man.chunk_size);
    if (p->held[1].valid && p->held[1].ad.have != f->have) {
        p->held[1].ad.have = f->have;
        if (now - p->t_ann >= 500)
            announce_all(node);
    }
    return 0;
}

static int
progress_cb(void *arg, const struct upd_progress *pr)
{
    struct node *node = arg;
    struct fetch_prog *fp = node->p2p.prog;
    uint64_t now = now_ms();

    (void)fetch_progress(node, pr);
    if (fp == NULL || fp->ctx == NULL)
        return 0;
    if (!fp->begun) {
        progress_begin(&fp->bar, fp->ctx, "fetch", "bytes", pr->total,
                       node->con.interactive, node->p2p.f.t0);
        fp->begun = 1;
    }
    if (pr->done == pr->total)
        progress_end(&fp->bar, pr->done, now);
    else
        progress_update(&fp->bar, pr->done, now);
    return 0;
}

static int
ref_slot(struct node *node, struct bootctl *bc)
{
    int ref = -1;

    if (node->ctl_rc != 0 || bootctl_load(&node->ctl, bc) != 0)
        return -2;
    for (int s = 0; s < 2; s++) {
        int st = bc->slot[s].state;

        if (st != SLOT_GOOD && st != SLOT_READY && st != SLOT_TRIAL)
            continue;
        if (ref < 0 ||
            upd_version_cmp(&bc->slot[s].version, &bc->slot[ref].version) > 0)
            ref = s;
    }
    return ref;
}

int
p2p_best(struct node *node, struct p2p_ad *out)
{
    struct p2p *p = &node->p2p;
    struct bootctl bc;
    struct upd_floor fl;
    const struct p2p_ad *best = NULL;
    int ref = ref_slot(node, &bc);

    if (ref < -1)
        return -EIO;
    (void)upd_floor_load(&node->ctl, node->upd.st, &fl);
    if (fl.arb > bc.arb)
        bc.arb = fl.arb;
    for (int i = 0; i < NET_LINKS; i++) {
        const struct p2p_peer *pe = &p->peer[i];

        if (pe->link == 0)
            continue;
        for (int k = 0; k < pe->nads; k++) {
            const struct p2p_ad *a = &pe->ad[k];

            if (strcmp(a->board, node->upd.board) != 0 || a->have == 0 ||
                a->counter < bc.arb || banned(p, pe->fp, a->hash))
                continue;
            if (ref >= 0 && upd_version_cmp(&a->v, &bc.slot[ref].version) <= 0)
                continue;
            if (best != NULL && upd_version_cmp(&a->v, &best->v) <= 0)
                continue;
            if (upd_quar_check(node->upd.st, a->hash) != 0)
                continue;
            best = a;
        }
    }
    if (best == NULL)
        return -ENOENT;
    *out = *best;
    return 0;
}

/* The manifest with its signature blocks, from a peer that holds the
 * bundle: 0, or the fetch fails. */
static int
fetch_manifest(struct node *node)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    uint64_t t0 = now_ms();
    uint32_t tried = 0;

    f->man_link = 0;
    while (f->blob_len == 0 || f->blob_got < f->blob_len) {
        uint64_t now = now_ms();

        if (f->man_link != 0 && (!net_link_up(&node->net, f->man_link, NULL) ||
                                 now - f->t_man > P2P_REQ_MS))
            f->man_link = 0;
        if (f->man_link == 0) {
            struct p2p_peer *best = NULL;
            int holders = 0, dropped = 0;

            for (int i = 0; i < NET_LINKS; i++) {
                struct p2p_peer *pe = &p->peer[i];

                if (pe->link == 0 || peer_ad(pe, f->hash) == NULL ||
                    (f->from_len > 0 &&
                     memcmp(pe->fp, f->from, f->from_len) != 0))
                    continue;
                holders++;
                if (banned(p, pe->fp, f->hash)) {
                    dropped++;
                    continue;
                }
                /* round robin over the holders, by try */
                if (best == NULL || (tried % 2 == 1))
                    best = pe;
            }
            if (holders > 0 && dropped == holders) {
                fetch_fail(node, -EBADMSG, "%s",
                           "every peer that announces it was dropped for "
                           "it (a bad manifest or bad chunks)");
                return f->failed;
            }
            if (best != NULL) {
                uint8_t rq[36];

                memcpy(rq, f->hash, 32);
                lib_put32(rq + 32, 0);
                f->blob_len = f->blob_got = 0;
                if (net_send(&node->net, best->link, FRAME_P2P_MAN_REQ, rq,
                             sizeof(rq)) == 0) {
                    f->man_link = best->link;
                    f->t_man = now;
                    tried++;
                }
            }
        }
        if (now - t0 > P2P_STALL_MS) {
            fetch_fail(node, -ETIMEDOUT, "%s",
                       "no peer served the manifest within 20 s");
            return f->failed;
        }
        if (wait_step(node)) {
            fetch_fail(node, -ECANCELED, "%s", "cancelled (Ctrl-C)");
            return f->failed;
        }
    }
    return 0;
}

static int
find_ad(struct p2p *p, const uint8_t hash[32], struct p2p_ad *out)
{
    for (int i = 0; i < NET_LINKS; i++)
        for (int k = 0; p->peer[i].link != 0 && k < p->peer[i].nads; k++)
            if (memcmp(p->peer[i].ad[k].hash, hash, 32) == 0) {
                *out = p->peer[i].ad[k];
                return 1;
            }
    return 0;
}

int
p2p_fetch(struct node *node, const uint8_t *hash, const uint8_t *from,
          size_t from_len, struct cmd_ctx *ctx)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    struct update *u = &node->upd;
    struct upd_src src = {src_read, node, src_skip};
    struct upd_header hd;
    struct fetch_prog prog;
    const char *why;
    uint8_t mh[32];
    uint32_t ml, sl;
    char hx[17];
    int rc, found = 0;

    if (f->active)
        return -EBUSY;
    memset(f, 0, offsetof(struct p2p_fetch, blob));
    f->blob_len = f->blob_got = 0;
    memset(&f->man, 0, sizeof(f->man));
    f->pos = 0;
    f->next = f->have = 0;
    f->nwin = 0;
    memset(f->w, 0, sizeof(f->w));
    f->t0 = f->t_progress = now_ms();
    f->bytes = f->written = 0;
    f->failed = 0;
    f->why[0] = '\0';
    if (from_len > TRUST_FP_LEN)
        from_len = TRUST_FP_LEN;
    memcpy(f->from, from, from_len);
    f->from_len = from_len;
    for (int i = 0; i < P2P_SOURCES; i++)
        p->src[i].bad = 0;
    /* A peer that just linked announces within P2P_ANNOUNCE_MS: wait
     * that long (twice) for the bundle asked for. */
    for (uint64_t t0 = now_ms();;) {
        found = hash == NULL ? p2p_best(node, &f->ad) == 0
                             : find_ad(p, hash, &f->ad);
        if (found || now_ms() - t0 > 2 * P2P_ANNOUNCE_MS)
            break;
        if (wait_step(node))
            break;
    }
    if (!found && hash == NULL) {
        snprintf(f->why, sizeof(f->why),
                 "no linked peer announces a newer bundle for board "
                 "'%s' that this node would take ('update peers')",
                 u->board);
        return -ENOENT;
    }
    if (!found) {
        snprintf(f->why, sizeof(f->why),
                 "no linked peer announces bundle %s ('update peers')",
                 hex8(hash, hx));
        return -ENOENT;
    }
    memcpy(f->hash, f->ad.hash, 32);
    rc = upd_quar_check(u->st, f->hash);
    if (rc != 0) {
        snprintf(f->why, sizeof(f->why),
                 "bundle %s is quarantined on this node: not fetched "
                 "('update quarantine list')",
                 hex8(f->hash, hx));
        klog(KLOG_INFO, "p2p: refused to fetch: %s\n", f->why);
        return -EPERM;
    }
    f->active = 1;
    /* The manifest: bytes that do not hash to what the peer announced
     * mark that peer (dropped for this bundle) and are asked of another,
     * a few times at most. */
    for (int attempt = 0;; attempt++) {
        struct p2p_peer *pe;
        int bad;

        rc = fetch_manifest(node);
        if (rc != 0)
            break;
        ml = lib_le32(f->blob);
        sl = lib_le32(f->blob + 4);
        bad = (uint64_t)ml + sl + 8 != f->blob_len || ml > UPD_MANIFEST_MAX;
        if (!bad) {
            crypto_sha256(f->blob + 8, ml, mh);
            bad = crypto_ct_diff(mh, f->hash, 32) != 0;
        }
        if (!bad)
            break;
        p->refused_manifest++;
        pe = peer_of(p, f->man_link);
        if (pe != NULL) {
            char fx[17];

            ban_add(p, pe->fp, f->hash);
            klog(KLOG_WARN,
                 "p2p: peer %s served a manifest for bundle %s that does "
                 "not match its hash: dropped for this bundle\n",
                 hex8(pe->fp, fx), hex8(f->hash, hx));
        }
        if (pe == NULL || attempt >= 3) {
            rc = -EBADMSG;
            snprintf(f->why, sizeof(f->why),
                     "the manifest served for bundle %s does not match its "
                     "hash: refused, no chunk requested",
                     hex8(f->hash, hx));
            break;
        }
        f->blob_len = f->blob_got = 0;
    }
    if (rc == 0 && upd_manifest_decode(f->blob + 8, ml, &f->man, &why) != 0) {
        rc = -EBADMSG;
        snprintf(f->why, sizeof(f->why),
                 "the signed manifest of bundle %s is malformed (%s): "
                 "refused, no chunk requested",
                 hex8(f->hash, hx), why);
    }
    if (rc == 0 && (f->man.chunk_size > UPD_CHUNK_BUF ||
                    f->man.chunk_size < UPD_CHUNK_MIN)) {
        rc = -E2BIG;
        snprintf(f->why, sizeof(f->why),
                 "bundle %s has chunks of %u bytes, more than this device "
                 "takes (%u): refused, no chunk requested",
                 hex8(f->hash, hx), (unsigned)f->man.chunk_size, UPD_CHUNK_BUF);
    }
    if (rc != 0)
        klog(KLOG_WARN, "p2p: %s\n", f->why);
    if (rc != 0) {
        f->active = 0;
        p->fetches_failed++;
        return rc;
    }
    f->nwin = P2P_WIN_BYTES / f->man.chunk_size;
    if (f->nwin > P2P_WIN)
        f->nwin = P2P_WIN;
    for (unsigned i = 0; i < f->nwin; i++)
        f->buf[i] = p->arena + (size_t)i * f->man.chunk_size;
    hd.manifest_len = ml;
    hd.sigs_len = sl;
    hd.payload_len = f->man.payload_size;
    upd_header_encode(&hd, f->hdr);
    memset(&prog, 0, sizeof(prog));
    prog.ctx = ctx;
    p->prog = &prog;
    u->resume = 1;
    u->progress = progress_cb;
    u->progress_arg = node;
    klog(KLOG_INFO,
         "p2p: fetching bundle %s (%" PRIu32 ".%" PRIu32 ".%" PRIu32
         ", counter %" PRIu64 ", %" PRIu64 " bytes)\n",
         hex8(f->hash, hx), f->ad.v.major, f->ad.v.minor, f->ad.v.patch,
         f->ad.counter, f->ad.size);
    rc = update_install(u, &src);
    u->resume = 0;
    u->progress = NULL;
    p->prog = NULL;
    p->held[1].valid = 0;
    if (rc < 0) {
        if (!f->chunks) {
            p->refused_manifest++;
            snprintf(f->why, sizeof(f->why),
                     "%.190s; refused at the manifest, no chunk requested",
                     u->why);
        } else if (f->failed == 0)
            snprintf(f->why, sizeof(f->why), "%.200s", u->why);
        else {
            char w[sizeof(f->why)];

            snprintf(w, sizeof(w), "%s", f->why);
            snprintf(f->why, sizeof(f->why), "%.100s (%.50s)", w, u->why);
        }
        klog(KLOG_WARN, "p2p: fetch of bundle %s failed: %s\n",
             hex8(f->hash, hx), f->why);
        p->fetches_failed++;
    } else {
        p->fetches_ok++;
        klog(KLOG_INFO,
             "p2p: bundle %s fetched into slot %c (%" PRIu64
             " bytes from peers, %" PRIu32 " chunks resumed)\n",
             hex8(f->hash, hx), slot_name(rc), f->bytes, u->resumed);
    }
    f->active = 0;
    p2p_refresh(node);
    return rc;
}

/* ---- policy, tick, metrics ------------------------------------------------ */

static const char *const policy_names[] = {"off", "fetch-only",
                                           "fetch-and-install"};

const char *
p2p_policy_name(int pol)
{
    return pol >= 0 && pol <= P2P_FETCH_INSTALL ? policy_names[pol] : "?";
}

int
p2p_policy_set(struct node *node, const char *name)
{
    for (int i = 0; i <= P2P_FETCH_INSTALL; i++)
        if (strcmp(name, policy_names[i]) == 0) {
            int rc = node->upd.st != NULL
                         ? store_put(node->upd.st, P2P_KEY_POLICY, name,
                                     strlen(name))
                         : -EIO;

            if (rc == 0)
                node->p2p.policy = i;
            return rc;
        }
    return -EINVAL;
}

void
p2p_init(struct node *node)
{
    struct p2p *p = &node->p2p;
    char b[32];
    int n = node->upd.st != NULL
                ? store_get(node->upd.st, P2P_KEY_POLICY, b, sizeof(b) - 1)
                : -ENOENT;

    p->policy = P2P_FETCH_ONLY;
    if (n > 0) {
        b[n] = '\0';
        for (int i = 0; i <= P2P_FETCH_INSTALL; i++)
            if (strcmp(b, policy_names[i]) == 0)
                p->policy = i;
    }
    node->net.app.frame = on_frame;
    node->net.app.arg = node;
    held_load(node);
}

void
p2p_tick(struct node *node, int may_fetch)
{
    struct p2p *p = &node->p2p;
    uint64_t now = now_ms();

    if (node->net.app.frame == NULL)
        return;
    for (int i = 0; i < NET_LINKS; i++)
        if (p->peer[i].link != 0 &&
            !net_link_up(&node->net, p->peer[i].link, NULL))
            memset(&p->peer[i], 0, sizeof(p->peer[i]));
    serve_pump(node);
    fetch_pump(node);
    if (now - p->t_ann >= P2P_ANNOUNCE_MS) {
        if (!p->f.active && now - p->t_check >= 5 * P2P_ANNOUNCE_MS) {
            struct p2p_held h0 = p->held[0];

            /* boot control may have changed (an install, a rollback) */
            p->t_check = now;
            held_load(node);
            if (h0.valid != p->held[0].valid ||
                memcmp(h0.ad.hash, p->held[0].ad.hash, 32) != 0)
                cache_drop(p);
        }
        announce_all(node);
    }
    if (may_fetch && p->policy != P2P_OFF && !p->f.active &&
        node->store_rc == 0 && node->ctl_rc == 0) {
        struct p2p_ad ad;
        char hx[17];
        int rc;

        if (p2p_best(node, &ad) != 0)
            return;
        if (p->auto_tried && memcmp(p->auto_hash, ad.hash, 32) == 0)
            return; /* tried once since start: the operator decides */
        p->auto_tried = 1;
        memcpy(p->auto_hash, ad.hash, 32);
        klog(KLOG_INFO,
             "p2p: automatic fetch (%s) of %" PRIu32 ".%" PRIu32 ".%" PRIu32
             " (bundle %s)\n",
             p2p_policy_name(p->policy), ad.v.major, ad.v.minor, ad.v.patch,
             hex8(ad.hash, hx));
        rc = p2p_fetch(node, ad.hash, NULL, 0, NULL);
        if (rc >= 0 && p->policy == P2P_FETCH_INSTALL) {
            klog(KLOG_INFO,
                 "p2p: fetch-and-install: rebooting into slot %c for "
                 "its trial\n",
                 slot_name(rc));
            node->reboot = 1;
            node->stop = 1;
        }
    }
}

void
node_p2p_metrics(struct cmd_ctx *ctx, struct node *node)
{
    struct p2p *p = &node->p2p;

    cmd_printf(ctx, "# HELP keel_p2p_chunks_total Chunks fetched from peers, "
                    "by result.\n# TYPE keel_p2p_chunks_total counter\n");
    cmd_printf(ctx, "keel_p2p_chunks_total{result=\"ok\"} %" PRIu64 "\n",
               p->chunks_ok);
    cmd_printf(ctx, "keel_p2p_chunks_total{result=\"bad_hash\"} %" PRIu64 "\n",
               p->chunks_bad);
    cmd_printf(ctx, "keel_p2p_chunks_total{result=\"timeout\"} %" PRIu64 "\n",
               p->chunks_timeout);
    cmd_printf(ctx,
               "# HELP keel_p2p_verification_failed_total Chunks or "
               "manifests from peers that failed verification.\n"
               "# TYPE keel_p2p_verification_failed_total counter\n"
               "keel_p2p_verification_failed_total %" PRIu64 "\n",
               p->verify_failed + p->refused_manifest);
    cmd_printf(ctx, "# HELP keel_p2p_source_bytes_total Verified chunk bytes "
                    "fetched, by peer (fingerprint prefix).\n"
                    "# TYPE keel_p2p_source_bytes_total counter\n");
    for (int i = 0; i < P2P_SOURCES; i++) {
        char fx[17];

        if (!p->src[i].used)
            continue;
        cmd_printf(ctx,
                   "keel_p2p_source_bytes_total{peer=\"%s\"} %" PRIu64 "\n",
                   hex8(p->src[i].fp, fx), p->src[i].bytes);
    }
    cmd_printf(ctx,
               "# HELP keel_p2p_served_chunks_total Chunks served to peers."
               "\n# TYPE keel_p2p_served_chunks_total counter\n"
               "keel_p2p_served_chunks_total %" PRIu64 "\n"
               "# HELP keel_p2p_served_bytes_total Chunk bytes served.\n"
               "# TYPE keel_p2p_served_bytes_total counter\n"
               "keel_p2p_served_bytes_total %" PRIu64 "\n"
               "# HELP keel_p2p_serve_corrupt_total Chunks not served: "
               "their flash copy failed its hash.\n"
               "# TYPE keel_p2p_serve_corrupt_total counter\n"
               "keel_p2p_serve_corrupt_total %" PRIu64 "\n"
               "# HELP keel_p2p_serve_busy_total Requests refused busy.\n"
               "# TYPE keel_p2p_serve_busy_total counter\n"
               "keel_p2p_serve_busy_total %" PRIu64 "\n",
               p->served_chunks, p->served_bytes, p->serve_corrupt,
               p->serve_busy);
    cmd_printf(ctx,
               "# HELP keel_p2p_manifest_refused_total Fetches refused at "
               "the manifest (no chunk requested).\n"
               "# TYPE keel_p2p_manifest_refused_total counter\n"
               "keel_p2p_manifest_refused_total %" PRIu64 "\n"
               "# HELP keel_p2p_fetches_total Fetches by result.\n"
               "# TYPE keel_p2p_fetches_total counter\n"
               "keel_p2p_fetches_total{result=\"ok\"} %" PRIu64 "\n"
               "keel_p2p_fetches_total{result=\"failed\"} %" PRIu64 "\n",
               p->refused_manifest, p->fetches_ok, p->fetches_failed);
}
