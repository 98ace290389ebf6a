/*
 * sync/book.c - seeds, the peer table and the guard's memory: records
 * and policy (book.h).  No network, no store: the caller reads and
 * writes the records.
 */
#include <errno.h>
#include <string.h>

#include "lib/le.h"
#include "sync/book.h"

/* ---- seeds: 6 bytes each (IPv4, port little-endian) ---------------------- */

unsigned
sync_seeds_decode(const uint8_t *p, size_t n,
                  struct sync_seed out[SYNC_SEEDS_MAX])
{
    unsigned k = 0;

    if (n % 6 != 0)
        return 0;
    for (size_t i = 0; i + 6 <= n && k < SYNC_SEEDS_MAX; i += 6) {
        uint16_t port = lib_le16(p + i + 4);

        if (port == 0)
            continue;
        memcpy(out[k].ip, p + i, 4);
        out[k].port = port;
        k++;
    }
    return k;
}

size_t
sync_seeds_encode(const struct sync_seed *s, unsigned n,
                  uint8_t out[SYNC_SEEDS_MAX * 6])
{
    if (n > SYNC_SEEDS_MAX)
        n = SYNC_SEEDS_MAX;
    for (unsigned i = 0; i < n; i++) {
        memcpy(out + 6 * i, s[i].ip, 4);
        lib_put16(out + 6 * i + 4, s[i].port);
    }
    return 6 * (size_t)n;
}

/* ---- the guard's memory: SYNC_BAD_REC bytes each ------------------------- */

unsigned
sync_bad_decode(const uint8_t *p, size_t n, struct sync_bad out[SYNC_BAD_MAX],
                unsigned reason_count, unsigned *skipped)
{
    unsigned k = 0;

    if (n % SYNC_BAD_REC != 0) {
        if (skipped != NULL)
            (*skipped)++;
        return 0;
    }
    for (size_t i = 0; i + SYNC_BAD_REC <= n && k < SYNC_BAD_MAX;
         i += SYNC_BAD_REC) {
        const uint8_t *q = p + i;
        struct sync_bad *b = &out[k];

        if (q[0] < SYNC_BAD_PEER || q[0] > SYNC_BAD_RANGE ||
            q[1] >= reason_count || q[1] == 0) {
            if (skipped != NULL)
                (*skipped)++;
            continue;
        }
        memset(b, 0, sizeof(*b));
        b->kind = q[0];
        b->reason = q[1];
        memcpy(b->ip, q + 2, 4);
        b->port = lib_le16(q + 6);
        b->until = (int64_t)lib_le64(q + 8);
        memcpy(b->hash, q + 16, 32);
        memcpy(b->weight, q + 48, 32);
        k++;
    }
    return k;
}

void
sync_bad_encode1(const struct sync_bad *b, uint8_t out[SYNC_BAD_REC])
{
    out[0] = b->kind;
    out[1] = b->reason;
    memcpy(out + 2, b->ip, 4);
    lib_put16(out + 6, b->port);
    lib_put64(out + 8, (uint64_t)b->until);
    memcpy(out + 16, b->hash, 32);
    memcpy(out + 48, b->weight, 32);
}

/* ---- the peer table's records -------------------------------------------
 *
 * Header: u8 version (1), u8 half (0 or 1), u16 entries; then per entry
 * (24 bytes): ip[4], u16 port, u8 flags, u8 fails, i16 score, u8 src,
 * u8 0, from[4], u32 last_seen, u32 pink_until. */

size_t
sync_book_encode(const struct sync_book *b, int h, uint8_t *out)
{
    size_t n = SYNC_PEERS_HDR;
    unsigned count = 0;

    for (unsigned i = (unsigned)h * SYNC_PEERS_HALF;
         i < b->n && i < ((unsigned)h + 1) * SYNC_PEERS_HALF; i++) {
        const struct sync_peer *e = &b->p[i];
        uint8_t *q = out + n;

        if (e->port == 0)
            continue;
        memcpy(q, e->ip, 4);
        lib_put16(q + 4, e->port);
        q[6] = e->flags;
        q[7] = e->fails;
        lib_put16(q + 8, (uint16_t)e->score);
        q[10] = e->src;
        q[11] = 0;
        memcpy(q + 12, e->from, 4);
        lib_put32(q + 16, e->last_seen);
        lib_put32(q + 20, e->pink_until);
        n += SYNC_PEER_REC;
        count++;
    }
    out[0] = SYNC_PEERS_VERSION;
    out[1] = (uint8_t)h;
    lib_put16(out + 2, (uint16_t)count);
    return n;
}

static int
ip_usable(const uint8_t ip[4])
{
    /* 0/8, loopback, multicast and reserved (224/3, broadcast) */
    return ip[0] != 0 && ip[0] != 127 && ip[0] < 224;
}

int
sync_book_decode(struct sync_book *b, const uint8_t *p, size_t n,
                 unsigned *skipped)
{
    unsigned count, taken = 0;

    if (n < SYNC_PEERS_HDR || p[0] != SYNC_PEERS_VERSION || p[1] > 1)
        return -EBADMSG;
    count = lib_le16(p + 2);
    if (count > SYNC_PEERS_HALF ||
        n != SYNC_PEERS_HDR + (size_t)count * SYNC_PEER_REC)
        return -EBADMSG;
    for (unsigned i = 0; i < count; i++) {
        const uint8_t *q = p + SYNC_PEERS_HDR + (size_t)i * SYNC_PEER_REC;
        struct sync_peer e;

        memset(&e, 0, sizeof(e));
        memcpy(e.ip, q, 4);
        e.port = lib_le16(q + 4);
        e.flags = q[6];
        e.fails = q[7];
        e.score = (int16_t)lib_le16(q + 8);
        e.src = q[10];
        memcpy(e.from, q + 12, 4);
        e.last_seen = lib_le32(q + 16);
        e.pink_until = lib_le32(q + 20);
        if (e.port == 0 || !ip_usable(e.ip) ||
            (e.flags & ~SYNC_PF_ANSWERED) != 0 || q[11] != 0 ||
            e.src < SYNC_SRC_IPL || e.src > SYNC_SRC_FOUND ||
            e.score > SYNC_SCORE_MAX || e.score < SYNC_SCORE_MIN ||
            e.fails > 31 || b->n >= SYNC_PEERS_MAX ||
            sync_book_find(b, e.ip, e.port) >= 0) {
            if (skipped != NULL)
                (*skipped)++;
            continue;
        }
        b->p[b->n++] = e;
        taken++;
    }
    return (int)taken;
}

/* ---- SEND_IPL ------------------------------------------------------------ */

int
sync_ipl_parse(const uint8_t *p, size_t n, uint8_t out[64][4])
{
    int k = 0;

    if (n > 64 * 4)
        return -EMSGSIZE;
    if (n % 4 != 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i += 4) {
        int seen = 0;

        if (!ip_usable(p + i))
            continue;
        for (int j = 0; j < k && !seen; j++)
            seen = memcmp(out[j], p + i, 4) == 0;
        if (seen)
            continue;
        memcpy(out[k++], p + i, 4);
    }
    return k;
}

/* ---- the table ------------------------------------------------------------ */

int
sync_book_find(const struct sync_book *b, const uint8_t ip[4], uint16_t port)
{
    for (unsigned i = 0; i < b->n; i++)
        if (b->p[i].port == port && memcmp(b->p[i].ip, ip, 4) == 0)
            return (int)i;
    return -1;
}

/* Worth less: a never-answered entry before an answered one, then the
 * lower score, then more failures. */
static int
worse(const struct sync_peer *a, const struct sync_peer *b)
{
    int aa = a->flags & SYNC_PF_ANSWERED, ba = b->flags & SYNC_PF_ANSWERED;

    if (aa != ba)
        return !aa;
    if (a->score != b->score)
        return a->score < b->score;
    return a->fails > b->fails;
}

int
sync_book_learn(struct sync_book *b, const uint8_t ip[4], uint16_t port,
                uint8_t src, const uint8_t from[4])
{
    int i = sync_book_find(b, ip, port), pick = -1;
    struct sync_peer *e;

    if (i >= 0)
        return i;
    if (port == 0 || !ip_usable(ip))
        return -EINVAL;
    if (from != NULL) { /* one source's untried hearsay is bounded */
        unsigned same = 0;

        for (unsigned j = 0; j < b->n; j++)
            same += b->p[j].port != 0 && !(b->p[j].flags & SYNC_PF_ANSWERED) &&
                    memcmp(b->p[j].from, from, 4) == 0;
        if (same >= SYNC_FROM_MAX)
            return -ENOSPC;
    }
    for (unsigned j = 0; j < b->n && pick < 0; j++)
        if (b->p[j].port == 0)
            pick = (int)j;
    if (pick < 0 && b->n < SYNC_PEERS_MAX)
        pick = (int)b->n++;
    if (pick < 0) {
        /* full: replace the worst entry known to be bad (a score below
         * zero, or never answered and failed); a peer that answered
         * honestly, or hearsay not tried yet, stays */
        for (unsigned j = 0; j < b->n; j++) {
            const struct sync_peer *x = &b->p[j];

            if (!(x->score < 0 ||
                  (!(x->flags & SYNC_PF_ANSWERED) && x->fails > 0)))
                continue;
            if (pick < 0 || x->score < b->p[pick].score ||
                (x->score == b->p[pick].score && x->fails > b->p[pick].fails))
                pick = (int)j;
        }
        if (pick < 0)
            return -ENOSPC;
    }
    e = &b->p[pick];
    memset(e, 0, sizeof(*e));
    memcpy(e->ip, ip, 4);
    e->port = port;
    e->src = src;
    if (from != NULL)
        memcpy(e->from, from, 4);
    b->dirty = 1;
    return pick;
}

static void
score_add(struct sync_peer *e, int d)
{
    int v = e->score + d;

    e->score = (int16_t)(v > SYNC_SCORE_MAX   ? SYNC_SCORE_MAX
                         : v < SYNC_SCORE_MIN ? SYNC_SCORE_MIN
                                              : v);
}

void
sync_book_answered(struct sync_book *b, int i, int admitted, int64_t wall)
{
    struct sync_peer *e;

    if (i < 0 || (unsigned)i >= b->n || b->p[i].port == 0)
        return;
    e = &b->p[i];
    if (!(e->flags & SYNC_PF_ANSWERED) || e->fails != 0 || e->pink_until != 0)
        b->dirty = 1;
    else
        b->soft_dirty = 1;
    e->flags |= SYNC_PF_ANSWERED;
    e->fails = 0;
    e->pink_until = 0;
    e->pink_mono = 0;
    e->last_seen = wall > 0 ? (uint32_t)wall : e->last_seen;
    score_add(e, admitted ? 2 : 1);
}

void
sync_book_failed(struct sync_book *b, int i, int64_t wall, uint64_t mono)
{
    struct sync_peer *e;
    uint64_t hold;

    if (i < 0 || (unsigned)i >= b->n || b->p[i].port == 0)
        return;
    e = &b->p[i];
    if (e->fails < 31)
        e->fails++;
    score_add(e, -1);
    hold = (uint64_t)SYNC_PINK_S << (e->fails - 1 < 16 ? e->fails - 1 : 16);
    if (hold > SYNC_PINK_MAX_S)
        hold = SYNC_PINK_MAX_S;
    if (wall > 0) {
        e->pink_until = (uint32_t)(wall + (int64_t)hold);
        e->pink_mono = 0;
    } else {
        e->pink_until = 0;
        e->pink_mono = mono + hold * 1000;
    }
    b->dirty = 1;
}

void
sync_book_lied(struct sync_book *b, int i)
{
    if (i < 0 || (unsigned)i >= b->n || b->p[i].port == 0)
        return;
    score_add(&b->p[i], SYNC_SCORE_LIE);
    b->dirty = 1;
}

int
sync_book_pinked(const struct sync_peer *p, int64_t wall, uint64_t mono)
{
    if (p->pink_until != 0 && wall > 0 && (int64_t)p->pink_until > wall)
        return 1;
    return p->pink_mono != 0 && p->pink_mono > mono;
}

unsigned
sync_book_pick(const struct sync_book *b, int64_t wall, uint64_t mono,
               unsigned max, unsigned max_new, int out[])
{
    unsigned k = 0, fresh = 0;

    /* selection by rounds: the best entry not yet taken, each time */
    while (k < max) {
        int best = -1;

        for (unsigned i = 0; i < b->n; i++) {
            const struct sync_peer *e = &b->p[i];
            int taken = 0;

            if (e->port == 0 || e->score <= SYNC_SCORE_LIE / 2 ||
                sync_book_pinked(e, wall, mono))
                continue;
            if (!(e->flags & SYNC_PF_ANSWERED) && fresh >= max_new)
                continue;
            for (unsigned j = 0; j < k && !taken; j++)
                taken = out[j] == (int)i;
            if (taken)
                continue;
            if (best < 0 || worse(&b->p[best], e))
                best = (int)i;
        }
        if (best < 0)
            break;
        if (!(b->p[best].flags & SYNC_PF_ANSWERED))
            fresh++;
        out[k++] = best;
    }
    return k;
}

unsigned
sync_book_good(const struct sync_book *b, uint8_t out[][4], unsigned max)
{
    unsigned k = 0;

    for (unsigned i = 0; i < b->n && k < max; i++)
        if (b->p[i].port != 0 && (b->p[i].flags & SYNC_PF_ANSWERED) &&
            b->p[i].score > 0)
            memcpy(out[k++], b->p[i].ip, 4);
    return k;
}
