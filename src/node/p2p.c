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
#include "hal/rng.h"
#include "hal/sys.h"
#include "lib/hex.h"
#include "lib/klog.h"
#include "lib/le.h"
#include "node/node.h"
#include "node/p2p.h"
#include "update/quarantine.h"

#define IDX_MANIFEST 0xffffffffu

_Static_assert(TRUST_FP_LEN == sizeof(((struct p2p_ban_rec *)0)->fp),
               "p2p.bans holds whole fingerprints");

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

/* The drops on flash (p2p.bans), so a reboot does not give a peer that
 * sent bad chunks three more.  A failed write is logged: the drop holds
 * in RAM. */
static void
bans_save(struct node *node)
{
    struct p2p *p = &node->p2p;
    struct p2p_ban_rec r[P2P_BANS];
    uint8_t b[P2P_BANS_REC_MAX];
    unsigned n = 0;
    size_t len;

    for (int i = 0; i < P2P_BANS; i++) {
        if (p->ban[i].until_ms == 0)
            continue;
        memcpy(r[n].fp, p->ban[i].fp, 32);
        memcpy(r[n].hash, p->ban[i].hash, 32);
        r[n].until = p->ban[i].until_wall;
        n++;
    }
    len = p2p_bans_encode(r, n, b);
    if (node->upd.st == NULL ||
        store_put(node->upd.st, P2P_BANS_KEY, b, len) != 0)
        klog(KLOG_WARN, "p2p: the dropped peers could not be stored; they "
                        "are remembered until the next start\n");
}

/* At start: the drops that have not expired, by the wall clock; one
 * stored while the clock was unset, or seen from a clock that went
 * back, lasts its full time from now. */
static void
bans_load(struct node *node)
{
    struct p2p *p = &node->p2p;
    struct p2p_ban_rec r[P2P_BANS];
    uint8_t b[P2P_BANS_REC_MAX];
    int64_t now = hal_clock_wall();
    unsigned n;
    int len = node->upd.st != NULL
                  ? store_get(node->upd.st, P2P_BANS_KEY, b, sizeof(b))
                  : -ENOENT;

    if (len <= 0)
        return;
    if (p2p_bans_decode(b, (size_t)len, r, &n) != 0) {
        klog(KLOG_WARN,
             "p2p: %s is damaged: no peer is remembered as "
             "dropped\n",
             P2P_BANS_KEY);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        int64_t left = r[i].until - now;

        if (r[i].until != 0 && now >= UPD_CLOCK_SANE && left <= 0)
            continue; /* expired */
        if (r[i].until == 0 || now < UPD_CLOCK_SANE || left > P2P_BAN_S)
            left = P2P_BAN_S;
        memcpy(p->ban[i].fp, r[i].fp, 32);
        memcpy(p->ban[i].hash, r[i].hash, 32);
        p->ban[i].until_ms = now_ms() + (uint64_t)left * 1000;
        p->ban[i].until_wall = now >= UPD_CLOCK_SANE ? now + left : 0;
    }
}

static void
ban_add(struct node *node, const uint8_t fp[TRUST_FP_LEN],
        const uint8_t hash[32])
{
    struct p2p *p = &node->p2p;
    struct p2p_ban *b = &p->ban[0];
    int64_t wall = hal_clock_wall();

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
    b->until_wall = wall >= UPD_CLOCK_SANE ? wall + P2P_BAN_S : 0;
    bans_save(node);
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

static void fetch_fail(struct node *node, int rc, const char *fmt,
                       const char *a);

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
    for (uint32_t i = 0; i < h->man.nchunks; i++)
        h->ad.bits[i / 8] |= (uint8_t)(1u << (i % 8));
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
    if (p->f.state == P2P_F_MAN || p->f.state == P2P_F_CHUNKS) {
        /* quarantined while it is fetched: it stops here, not at the
         * end's check */
        if (upd_quar_check(node->upd.st, p->f.hash) != 0)
            fetch_fail(node, -EPERM, "%s",
                       "the bundle was quarantined during the fetch");
    }
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
    struct p2p_req rq;
    uint32_t idx;
    int hi, k;
    struct p2p_serve *s;
    char hx[17];

    if (p2p_req_decode(b, len, &rq) != 0)
        return;
    b = rq.hash;
    idx = rq.idx;
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
    if (type == FRAME_P2P_CHUNK_REQ && !p2p_ad_has(&p->held[hi].ad, idx)) {
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
    uint32_t len = upd_chunk_len(&h->man, idx);

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
            if (h == NULL || (r->kind == 2 && !p2p_ad_has(&h->ad, r->idx))) {
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

int
p2p_fetching(const struct node *node)
{
    return node->p2p.f.state != P2P_F_IDLE;
}

static void
peer_done(struct p2p *p, uint32_t link)
{
    struct p2p_peer *pe = peer_of(p, link);

    if (pe != NULL && pe->inflight > 0)
        pe->inflight--;
}

/* A linked peer this fetch may ask (announces the bundle, not dropped
 * for it, matches --from): its announce, or NULL. */
static const struct p2p_ad *
usable(struct p2p *p, const struct p2p_peer *pe)
{
    struct p2p_fetch *f = &p->f;
    const struct p2p_ad *a;

    if (pe->link == 0 || (a = peer_ad(pe, f->hash)) == NULL ||
        a->nchunks != p->fu.man.nchunks)
        return NULL;
    if (f->from_len > 0 && memcmp(pe->fp, f->from, f->from_len) != 0)
        return NULL;
    if (banned(p, pe->fp, f->hash))
        return NULL;
    return a;
}

/* Every peer that announces chunk i of the bundle has failed it: 1. */
static int
all_sources_failed(struct p2p *p, uint32_t i)
{
    struct p2p_fetch *f = &p->f;
    int holders = 0, failed = 0;

    for (int k = 0; k < NET_LINKS; k++) {
        const struct p2p_peer *pe = &p->peer[k];
        const struct p2p_ad *a;
        int s;

        if (pe->link == 0 || (a = peer_ad(pe, f->hash)) == NULL ||
            !p2p_ad_has(a, i))
            continue;
        holders++;
        s = src_of(p, pe->fp);
        if (banned(p, pe->fp, f->hash) ||
            (s >= 0 && (f->badmask[i] & (1u << s))))
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

/* What this node serves of the bundle it fetches: the chunks in the
 * slot, verified (update_ra_put), as its bitmap. */
static void
held_fetch_sync(struct node *node, int force)
{
    struct p2p *p = &node->p2p;
    struct p2p_held *h = &p->held[1];
    uint64_t now = now_ms();

    if (!h->valid)
        return;
    memcpy(h->ad.bits, p->fu.ra.have, sizeof(h->ad.bits));
    h->ad.have = p->fu.ra.have_n;
    if (force || now - p->f.t_ann >= P2P_ANN_FAST_MS) {
        p->f.t_ann = now;
        announce_all(node);
    }
}

/* Chunk w->idx arrived whole: verified and written by update_ra_put(),
 * or its source marked. */
static void
chunk_done(struct node *node, struct p2p_win *w)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    uint32_t idx = w->idx;
    int rc;
    char hx[17], fx[17];

    w->state = 0;
    peer_done(p, w->link);
    rc = update_ra_put(&p->fu, idx, w->buf, w->len);
    if (rc == 0) {
        p->chunks_ok++;
        f->bytes += w->len;
        f->t_progress = now_ms();
        if (w->src >= 0) {
            p->src[w->src].ok++;
            p->src[w->src].bytes += w->len;
        }
        held_fetch_sync(node, 0);
        return;
    }
    if (rc != -EBADMSG) {
        fetch_fail(node, rc, "%s", p->fu.why);
        return;
    }
    /* Source marking: counted, logged, asked of another. */
    p->chunks_bad++;
    p->verify_failed++;
    if (w->src < 0)
        return;
    {
        struct p2p_source *s = &p->src[w->src];

        s->bad_hash++;
        s->bad++;
        f->badmask[idx] |= 1u << w->src;
        klog(KLOG_WARN,
             "p2p: chunk %" PRIu32 " of bundle %s from peer %s does not "
             "match the signed manifest, not written (%u bad from it; "
             "dropped at %d): asked of another peer\n",
             idx, hex8(f->hash, hx), hex8(s->fp, fx), s->bad, P2P_BAD_MAX);
        if (s->bad >= P2P_BAD_MAX && !banned(p, s->fp, f->hash)) {
            ban_add(node, s->fp, f->hash);
            klog(KLOG_WARN,
                 "p2p: peer %s dropped for bundle %s for %d s after %d "
                 "bad chunks\n",
                 fx, hx, P2P_BAN_S, P2P_BAD_MAX);
        }
    }
    if (all_sources_failed(p, idx))
        auto_quarantine(node, idx);
}

static void
on_chunk(struct node *node, uint32_t link, const uint8_t *b, uint32_t len)
{
    struct p2p_fetch *f = &node->p2p.f;
    struct p2p_piece pc;
    struct p2p_win *w = NULL;

    if (f->state != P2P_F_CHUNKS || p2p_piece_decode(b, len, &pc) != 0 ||
        memcmp(pc.hash, f->hash, 32) != 0)
        return;
    for (unsigned i = 0; i < f->nwin; i++)
        if (f->w[i].state == 1 && f->w[i].idx == pc.which &&
            f->w[i].link == link)
            w = &f->w[i];
    if (w == NULL || pc.off != w->got || pc.n > w->len - w->got)
        return; /* late (timed out), or not what was asked: dropped */
    memcpy(w->buf + pc.off, pc.data, pc.n);
    w->got += pc.n;
    w->t = now_ms(); /* the request is alive */
    if (w->got == w->len)
        chunk_done(node, w);
}

static void
on_manifest(struct node *node, uint32_t link, const uint8_t *b, uint32_t len)
{
    struct p2p_fetch *f = &node->p2p.f;
    struct p2p_piece pc;

    if (f->state != P2P_F_MAN || link != f->man_link ||
        p2p_piece_decode(b, len, &pc) != 0 || memcmp(pc.hash, f->hash, 32) != 0)
        return;
    if (pc.which < 8 || pc.which > P2P_BLOB_MAX || pc.off != f->blob_got ||
        pc.n > pc.which - pc.off ||
        (f->blob_len != 0 && pc.which != f->blob_len))
        return;
    f->blob_len = pc.which;
    memcpy(f->blob + pc.off, pc.data, pc.n);
    f->blob_got += pc.n;
    f->t_man = now_ms();
}

static void
on_nak(struct node *node, uint32_t link, const uint8_t *b, uint32_t len)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    struct p2p_peer *pe = peer_of(p, link);
    struct p2p_nak_msg m;

    if (f->state == P2P_F_IDLE || p2p_nak_decode(b, len, &m) != 0 ||
        memcmp(m.hash, f->hash, 32) != 0)
        return;
    if (m.idx == IDX_MANIFEST) {
        if (link == f->man_link)
            f->man_link = 0; /* asked of another */
        return;
    }
    for (unsigned i = 0; i < f->nwin; i++) {
        struct p2p_win *w = &f->w[i];

        if (w->state != 1 || w->idx != m.idx || w->link != link)
            continue;
        w->state = 0;
        peer_done(p, link);
        if (m.reason != P2P_NAK_BUSY && w->src >= 0)
            f->badmask[m.idx] |= 1u << w->src; /* not from this one again */
        if (m.reason == P2P_NAK_QUARANTINED && pe != NULL)
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

/* A peer to ask for chunk i: among those that hold it, have room and
 * have not failed it, the one with the fewest requests out, then one
 * still fetching before one that holds it all (spare the origin), then
 * the one that gave the fewest bytes (the load spreads). */
static struct p2p_peer *
pick(struct p2p *p, uint32_t i)
{
    struct p2p_fetch *f = &p->f;
    struct p2p_peer *best = NULL;
    uint64_t best_score = UINT64_MAX;

    for (int k = 0; k < NET_LINKS; k++) {
        struct p2p_peer *pe = &p->peer[k];
        const struct p2p_ad *a;
        int s;
        uint64_t score;

        if (pe->inflight >= P2P_PEER_INFLIGHT || (a = usable(p, pe)) == NULL ||
            !p2p_ad_has(a, i))
            continue;
        s = src_of(p, pe->fp);
        if (s >= 0 && (f->badmask[i] & (1u << s)))
            continue;
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

static int
in_flight(const struct p2p_fetch *f, uint32_t i)
{
    for (unsigned k = 0; k < f->nwin; k++)
        if (f->w[k].state == 1 && f->w[k].idx == i)
            return 1;
    return 0;
}

/* The next chunk to ask for and whom: rarest first (fewest linked
 * holders), ties from this fetch's random start onwards; 0, or -ENOENT
 * when no missing chunk has a peer with room. */
static int
choose(struct p2p *p, uint32_t *out, struct p2p_peer **pe_out)
{
    struct p2p_fetch *f = &p->f;
    uint32_t n = p->fu.man.nchunks;
    int best_cnt = 256;

    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = (f->start + k) % n;
        struct p2p_peer *pe;

        if (f->cnt[i] == 0 || f->cnt[i] >= best_cnt ||
            update_ra_has(&p->fu, i) || in_flight(f, i))
            continue;
        pe = pick(p, i);
        if (pe == NULL)
            continue;
        best_cnt = f->cnt[i];
        *out = i;
        *pe_out = pe;
        if (best_cnt == 1)
            break;
    }
    return best_cnt < 256 ? 0 : -ENOENT;
}

static void
chunks_pump(struct node *node)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    uint64_t now = now_ms();
    uint32_t n = p->fu.man.nchunks;
    int counted = 0;

    for (unsigned k = 0; k < f->nwin; k++) {
        struct p2p_win *w = &f->w[k];

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
    }
    for (unsigned k = 0; k < f->nwin; k++) {
        struct p2p_win *w = &f->w[k];
        struct p2p_peer *pe;
        uint32_t i;
        uint8_t rq[36];

        if (w->state != 0)
            continue;
        if (!counted) {
            /* linked holders per chunk, once a pump */
            memset(f->cnt, 0, n);
            for (int q = 0; q < NET_LINKS; q++) {
                const struct p2p_ad *a = usable(p, &p->peer[q]);

                for (uint32_t c = 0; a != NULL && c < n; c++)
                    if (p2p_ad_has(a, c) && f->cnt[c] < 255)
                        f->cnt[c]++;
            }
            counted = 1;
        }
        if (choose(p, &i, &pe) != 0)
            break;
        memcpy(rq, f->hash, 32);
        lib_put32(rq + 32, i);
        if (net_send(&node->net, pe->link, FRAME_P2P_CHUNK_REQ, rq,
                     sizeof(rq)) != 0)
            break;
        w->state = 1;
        w->idx = i;
        w->len = upd_chunk_len(&p->fu.man, i);
        w->got = 0;
        w->link = pe->link;
        w->src = src_of(p, pe->fp);
        w->t = now;
        pe->inflight++;
    }
}

/* update_ra_begin()'s source: the header, then the manifest and the
 * signature blocks as the peer served them. */
static int
man_read(void *arg, void *buf, size_t len)
{
    struct p2p_fetch *f = arg;
    uint32_t total = UPD_HDR_LEN + f->blob_len - 8, n;

    if (f->pos >= total)
        return 0;
    n = total - f->pos < len ? total - f->pos : (uint32_t)len;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t o = f->pos + k;

        ((uint8_t *)buf)[k] =
            o < UPD_HDR_LEN ? f->hdr[o] : f->blob[8 + (o - UPD_HDR_LEN)];
    }
    f->pos += n;
    return (int)n;
}

/* A slot holds this bundle whole already (good, ready or on trial): the
 * slot, or -1. */
static int
held_here(const struct bootctl *bc, const uint8_t hash[32])
{
    for (int s = 0; s < 2; s++) {
        int st = bc->slot[s].state;

        if ((st == SLOT_GOOD || st == SLOT_READY || st == SLOT_TRIAL) &&
            memcmp(bc->slot[s].manifest_hash, hash, 32) == 0)
            return s;
    }
    return -1;
}

/* The bundle failed on this node: a slot holding it was rolled back,
 * ran out of trial boots, or did not verify or unpack at boot.  An
 * automatic fetch of it again would reboot into the same failure once
 * per start (fetch-and-install: a loop); the operator may still fetch
 * it by its hash. */
static int
failed_here(const struct bootctl *bc, const uint8_t hash[32])
{
    for (int s = 0; s < 2; s++) {
        const struct bc_slot *x = &bc->slot[s];

        if (x->state == SLOT_BAD &&
            (x->result == UPD_R_ROLLED_BACK ||
             x->result == UPD_R_TRIAL_EXHAUSTED ||
             x->result == UPD_R_BOOT_VERIFY ||
             x->result == UPD_R_BOOT_UNPACK) &&
            memcmp(x->manifest_hash, hash, 32) == 0)
            return 1;
    }
    return 0;
}

int
p2p_best(struct node *node, struct p2p_ad *out)
{
    struct p2p *p = &node->p2p;
    struct bootctl bc;
    struct upd_floor fl;
    const struct p2p_ad *best = NULL;
    int ref = -1;

    if (node->ctl_rc != 0 || bootctl_load(&node->ctl, &bc) != 0)
        return -EIO;
    for (int s = 0; s < 2; s++) {
        int st = bc.slot[s].state;

        if (st != SLOT_GOOD && st != SLOT_READY && st != SLOT_TRIAL)
            continue;
        if (ref < 0 ||
            upd_version_cmp(&bc.slot[s].version, &bc.slot[ref].version) > 0)
            ref = s;
    }
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
            /* a peer's announce is not trusted for the version: what
             * a slot holds already is never fetched again */
            if (upd_quar_check(node->upd.st, a->hash) != 0 ||
                failed_here(&bc, a->hash) || held_here(&bc, a->hash) >= 0)
                continue;
            best = a;
        }
    }
    if (best == NULL)
        return -ENOENT;
    *out = *best;
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

/* The fetch is over with rc (the slot, or < 0 with f->why). */
static void
fetch_end(struct node *node, int rc)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    char hx[17];

    if (f->state == P2P_F_CHUNKS && rc < 0)
        update_ra_stop(&p->fu, f->failed == -ECANCELED ? UPD_R_CANCELLED
                                                       : UPD_R_TRUNCATED);
    for (unsigned k = 0; k < f->nwin; k++)
        if (f->w[k].state == 1)
            peer_done(p, f->w[k].link);
    memset(f->w, 0, sizeof(f->w));
    f->state = P2P_F_IDLE;
    f->result = rc;
    p->held[1].valid = 0;
    if (rc < 0) {
        klog(KLOG_WARN, "p2p: fetch of bundle %s failed: %s\n",
             hex8(f->hash, hx), f->why);
        p->fetches_failed++;
    } else {
        p->fetches_ok++;
        klog(KLOG_INFO,
             "p2p: bundle %s fetched into slot %c (%" PRIu64
             " bytes from peers, %" PRIu32 " chunks kept from before)\n",
             hex8(f->hash, hx), slot_name(rc), f->bytes, p->fu.ra.kept);
    }
    p2p_refresh(node);
    if (rc >= 0 && f->automatic && p->policy == P2P_FETCH_INSTALL) {
        klog(KLOG_INFO,
             "p2p: fetch-and-install: rebooting into slot %c for its "
             "trial\n",
             slot_name(rc));
        node->reboot = 1;
        node->stop = 1;
    }
}

/* Ask a holder for the manifest (round robin over the holders, by
 * try); when every holder was dropped for it, the fetch fails. */
static void
man_ask(struct node *node, uint64_t now)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    struct p2p_peer *can[NET_LINKS], *pe;
    int holders = 0, n = 0;
    uint8_t rq[36];

    for (int i = 0; i < NET_LINKS; i++) {
        pe = &p->peer[i];
        if (pe->link == 0 || peer_ad(pe, f->hash) == NULL ||
            (f->from_len > 0 && memcmp(pe->fp, f->from, f->from_len) != 0))
            continue;
        holders++;
        if (!banned(p, pe->fp, f->hash))
            can[n++] = pe;
    }
    if (holders > 0 && n == 0) {
        fetch_fail(node, -EBADMSG, "%s",
                   "every peer that announces it was dropped for it (a bad "
                   "manifest or bad chunks)");
        return;
    }
    if (n == 0)
        return;
    pe = can[f->man_tries % (uint32_t)n]; /* round robin, by try */
    memcpy(rq, f->hash, 32);
    lib_put32(rq + 32, 0);
    f->blob_len = f->blob_got = 0;
    if (net_send(&node->net, pe->link, FRAME_P2P_MAN_REQ, rq, sizeof(rq)) ==
        0) {
        f->man_link = pe->link;
        f->t_man = now;
        f->man_tries++;
    }
}

/* The manifest is here: check it is the one announced, then let
 * update_ra_begin() check it against the keyring and the device before
 * any chunk is asked. */
static void
man_done(struct node *node)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    struct update *u = &p->fu;
    struct upd_header hd;
    uint32_t ml = lib_le32(f->blob), sl = lib_le32(f->blob + 4);
    uint8_t mh[32];
    char hx[17];
    int rc;

    if ((uint64_t)ml + sl + 8 == f->blob_len && ml <= UPD_MANIFEST_MAX) {
        crypto_sha256(f->blob + 8, ml, mh);
        rc = crypto_ct_diff(mh, f->hash, 32) != 0;
    } else
        rc = 1;
    if (rc != 0) {
        struct p2p_peer *pe = peer_of(p, f->man_link);

        p->refused_manifest++;
        if (pe != NULL) {
            char fx[17];

            ban_add(node, pe->fp, f->hash);
            klog(KLOG_WARN,
                 "p2p: peer %s served a manifest for bundle %s that does "
                 "not match its hash: dropped for this bundle\n",
                 hex8(pe->fp, fx), hex8(f->hash, hx));
        }
        f->man_link = 0;
        f->blob_len = f->blob_got = 0;
        if (++f->man_bad > 3) {
            snprintf(f->why, sizeof(f->why),
                     "the manifest served for bundle %s does not match its "
                     "hash: refused, no chunk requested",
                     hex8(f->hash, hx));
            fetch_end(node, -EBADMSG);
        }
        return;
    }
    /* the fetch's own update, configured as the node's */
    {
        struct upd_work *w = &p->fwork;

        *u = node->upd;
        u->work = w;
        u->progress = NULL;
    }
    hd.manifest_len = ml;
    hd.sigs_len = sl;
    hd.payload_len = 0;
    {
        /* the payload length is the manifest's: read it from there */
        struct upd_manifest m;
        const char *why;

        if (upd_manifest_decode(f->blob + 8, ml, &m, &why) != 0) {
            p->refused_manifest++;
            snprintf(f->why, sizeof(f->why),
                     "the signed manifest of bundle %s is malformed (%s): "
                     "refused, no chunk requested",
                     hex8(f->hash, hx), why);
            fetch_end(node, -EBADMSG);
            return;
        }
        hd.payload_len = m.payload_size;
    }
    upd_header_encode(&hd, f->hdr);
    f->pos = 0;
    {
        struct upd_src src = {man_read, f};

        rc = update_ra_begin(u, &src);
    }
    if (rc < 0) {
        p->refused_manifest++;
        snprintf(f->why, sizeof(f->why),
                 "%.190s; refused at the manifest, no chunk requested", u->why);
        fetch_end(node, rc);
        return;
    }
    f->nwin = P2P_WIN_BYTES / u->man.chunk_size;
    if (f->nwin > P2P_WIN)
        f->nwin = P2P_WIN;
    memset(f->w, 0, sizeof(f->w));
    for (unsigned i = 0; i < f->nwin; i++)
        f->w[i].buf = p->arena + (size_t)i * u->man.chunk_size;
    memset(f->badmask, 0, sizeof(f->badmask));
    {
        uint32_t r = 0;

        (void)hal_rng_fill(&r, sizeof(r));
        f->start = u->man.nchunks ? r % u->man.nchunks : 0;
    }
    f->state = P2P_F_CHUNKS;
    f->t_progress = now_ms();
    /* serve what is verified of it from now on */
    {
        struct p2p_held *h = &p->held[1];

        memset(h, 0, sizeof(*h));
        h->slot = rc;
        h->po = u->ra.po;
        h->blob = f->blob;
        h->blob_len = f->blob_len;
        h->man = u->man;
        /* what the signed manifest says, not what a peer announced */
        memcpy(h->ad.hash, f->hash, 32);
        h->ad.v = u->man.version;
        h->ad.counter = u->man.counter;
        h->ad.size = u->man.payload_size;
        h->ad.chunk_size = u->man.chunk_size;
        h->ad.nchunks = u->man.nchunks;
        snprintf(h->ad.board, sizeof(h->ad.board), "%s", node->upd.board);
        h->valid = 1;
    }
    held_load(node); /* the target slot is INSTALLING now */
    klog(KLOG_INFO,
         "p2p: fetching bundle %s (%" PRIu32 ".%" PRIu32 ".%" PRIu32
         ", counter %" PRIu64 ", %" PRIu64 " bytes, %" PRIu32
         " chunks already in slot %c)\n",
         hex8(f->hash, hx), f->ad.v.major, f->ad.v.minor, f->ad.v.patch,
         f->ad.counter, f->ad.size, u->ra.kept, slot_name(rc));
    held_fetch_sync(node, 1);
}

/* One step of the running fetch, from p2p_tick(). */
static void
fetch_step(struct node *node)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    uint64_t now = now_ms();
    char hx[17];

    if (f->state == P2P_F_IDLE)
        return;
    if (f->failed) {
        fetch_end(node, f->failed);
        return;
    }
    switch (f->state) {
    case P2P_F_WAIT: {
        int found =
            f->any ? p2p_best(node, &f->ad) == 0 : find_ad(p, f->hash, &f->ad);

        if (found) {
            memcpy(f->hash, f->ad.hash, 32);
            if (upd_quar_check(node->upd.st, f->hash) != 0) {
                snprintf(f->why, sizeof(f->why),
                         "bundle %s is quarantined on this node: not "
                         "fetched ('update quarantine list')",
                         hex8(f->hash, hx));
                klog(KLOG_INFO, "p2p: refused to fetch: %s\n", f->why);
                fetch_end(node, -EPERM);
                return;
            }
            f->state = P2P_F_MAN;
            f->t_man = now;
            f->man_link = 0;
        } else if (now - f->t0 > P2P_WAIT_MS) {
            if (f->any)
                snprintf(f->why, sizeof(f->why),
                         "no linked peer announces a newer bundle for board "
                         "'%s' that this node would take ('update peers')",
                         node->upd.board);
            else
                snprintf(f->why, sizeof(f->why),
                         "no linked peer announces bundle %s ('update peers')",
                         hex8(f->hash, hx));
            fetch_end(node, -ENOENT);
        }
        return;
    }
    case P2P_F_MAN:
        if (f->blob_len != 0 && f->blob_got == f->blob_len) {
            man_done(node);
            return;
        }
        if (f->man_link != 0 && (!net_link_up(&node->net, f->man_link, NULL) ||
                                 now - f->t_man > P2P_REQ_MS))
            f->man_link = 0;
        if (f->man_link == 0)
            man_ask(node, now);
        if (!f->failed && now - f->t0 > P2P_WAIT_MS + P2P_STALL_MS)
            fetch_fail(node, -ETIMEDOUT, "%s",
                       "no peer served the manifest within 20 s");
        return;
    case P2P_F_CHUNKS:
        if (p->fu.ra.have_n == p->fu.man.nchunks) {
            int rc = update_ra_end(&p->fu);

            if (rc < 0)
                snprintf(f->why, sizeof(f->why), "%.200s", p->fu.why);
            fetch_end(node, rc);
            return;
        }
        if (!p->fu.ra.active) {
            fetch_fail(node, -EIO, "%.200s", p->fu.why);
            return;
        }
        chunks_pump(node);
        if (now - f->t_progress > P2P_STALL_MS)
            fetch_fail(node, -ETIMEDOUT,
                       "no verified chunk from any peer for %s; the "
                       "verified chunks stay in the slot, 'update fetch' "
                       "goes on after them",
                       "20 s");
        return;
    default:
        return;
    }
}

int
p2p_fetch_start(struct node *node, const uint8_t *hash, const uint8_t *from,
                size_t from_len, int automatic)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    char hx[17];

    if (f->state != P2P_F_IDLE) {
        snprintf(f->why, sizeof(f->why), "%s",
                 "a fetch is running ('update fetch' waits for it, "
                 "'update fetch --cancel' stops it)");
        return -EBUSY;
    }
    if (hash != NULL && node->ctl_rc == 0) {
        struct bootctl bc;
        int s;

        if (bootctl_load(&node->ctl, &bc) == 0 &&
            (s = held_here(&bc, hash)) >= 0) {
            snprintf(f->why, sizeof(f->why),
                     "bundle %s is in slot %c already (%s): nothing to "
                     "fetch",
                     hex8(hash, hx), slot_name(s),
                     slot_state_name(bc.slot[s].state));
            return -EEXIST;
        }
    }
    if (hash != NULL && upd_quar_check(node->upd.st, hash) != 0) {
        snprintf(f->why, sizeof(f->why),
                 "bundle %s is quarantined on this node: not fetched "
                 "('update quarantine list')",
                 hex8(hash, hx));
        klog(KLOG_INFO, "p2p: refused to fetch: %s\n", f->why);
        return -EPERM;
    }
    f->state = P2P_F_WAIT;
    f->automatic = automatic;
    f->any = hash == NULL;
    if (hash != NULL)
        memcpy(f->hash, hash, 32);
    f->seq++;
    f->result = 0;
    f->blob_len = f->blob_got = f->man_link = f->man_tries = f->man_bad = 0;
    f->nwin = 0;
    memset(f->w, 0, sizeof(f->w));
    f->t0 = f->t_progress = now_ms();
    f->t_ann = 0;
    f->bytes = 0;
    f->failed = 0;
    f->why[0] = '\0';
    if (from_len > TRUST_FP_LEN)
        from_len = TRUST_FP_LEN;
    memcpy(f->from, from, from_len);
    f->from_len = from_len;
    for (int i = 0; i < P2P_SOURCES; i++)
        p->src[i].bad = 0;
    fetch_step(node); /* a peer already announced: ask at once */
    return 0;
}

int
p2p_fetch_cancel(struct node *node)
{
    struct p2p_fetch *f = &node->p2p.f;

    if (f->state == P2P_F_IDLE)
        return -ENOENT;
    fetch_fail(node, -ECANCELED, "%s", "cancelled");
    fetch_step(node);
    return 0;
}

int
p2p_fetch(struct node *node, const uint8_t *hash, const uint8_t *from,
          size_t from_len, struct cmd_ctx *ctx)
{
    struct p2p *p = &node->p2p;
    struct p2p_fetch *f = &p->f;
    struct progress bar;
    int begun = 0, rc = 0;
    uint32_t seq;

    if (f->state == P2P_F_IDLE || hash != NULL || from_len > 0)
        rc = p2p_fetch_start(node, hash, from, from_len, 0);
    if (rc != 0)
        return rc;
    seq = f->seq;
    /* bounded: the fetch ends by itself (P2P_STALL_MS without a chunk) */
    while (f->state != P2P_F_IDLE && f->seq == seq) {
        uint64_t now;

        (void)hal_poll(NULL, &node->net.hw, 5);
        node_sync_tick(node); /* a fetch leaves the chain to sync */
        if (node_poll(node))
            (void)p2p_fetch_cancel(node);
        now = now_ms();
        if (ctx != NULL && f->state == P2P_F_CHUNKS) {
            uint64_t done = (uint64_t)p->fu.ra.have_n * p->fu.man.chunk_size;

            if (done > p->fu.man.payload_size)
                done = p->fu.man.payload_size;
            if (!begun) {
                progress_begin(&bar, ctx, "fetch", "bytes",
                               p->fu.man.payload_size, node->con.interactive,
                               f->t0);
                begun = 1;
            }
            progress_update(&bar, done, now);
        }
    }
    if (begun && f->result >= 0)
        progress_end(&bar, p->fu.man.payload_size, now_ms());
    return f->result;
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
    bans_load(node);
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
    fetch_step(node);
    if (now - p->t_ann >= P2P_ANNOUNCE_MS) {
        if (p->f.state == P2P_F_IDLE &&
            now - p->t_check >= 5 * P2P_ANNOUNCE_MS) {
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
    if (may_fetch && p->policy != P2P_OFF && p->f.state == P2P_F_IDLE &&
        node->store_rc == 0 && node->ctl_rc == 0) {
        struct p2p_ad ad;
        char hx[17];

        if (p2p_best(node, &ad) != 0)
            return;
        if (p->auto_tried && memcmp(p->auto_hash, ad.hash, 32) == 0)
            return; /* tried once since start: the operator decides */
        p->auto_tried = 1;
        memcpy(p->auto_hash, ad.hash, 32);
        klog(KLOG_INFO,
             "p2p: automatic fetch (%s) of %" PRIu32 ".%" PRIu32 ".%" PRIu32
             " (bundle %s), in the background\n",
             p2p_policy_name(p->policy), ad.v.major, ad.v.minor, ad.v.patch,
             hex8(ad.hash, hx));
        (void)p2p_fetch_start(node, ad.hash, NULL, 0, 1);
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
