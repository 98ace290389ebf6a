/*
 * update/p2pwire.c - the bytes of the peer bundle frames (p2pwire.h).
 */
#include <errno.h>
#include <string.h>

#include "lib/le.h"
#include "update/p2pwire.h"

static uint32_t
bits_len(uint32_t nchunks)
{
    return (nchunks + 7) / 8;
}

/* The bitmap goes on the wire only for a bundle held in part. */
static int
partial(const struct p2p_ad *a)
{
    return a->have > 0 && a->have < a->nchunks;
}

static size_t
ad_encode(const struct p2p_ad *a, uint8_t *o)
{
    size_t bl = strlen(a->board);

    memcpy(o, a->hash, 32);
    lib_put32(o + 32, a->v.major);
    lib_put32(o + 36, a->v.minor);
    lib_put32(o + 40, a->v.patch);
    lib_put64(o + 44, a->counter);
    lib_put64(o + 52, a->size);
    lib_put32(o + 60, a->chunk_size);
    lib_put32(o + 64, a->nchunks);
    lib_put32(o + 68, a->have);
    o[72] = (uint8_t)bl;
    memcpy(o + 73, a->board, bl);
    if (!partial(a))
        return 73 + bl;
    memcpy(o + 73 + bl, a->bits, bits_len(a->nchunks));
    return 73 + bl + bits_len(a->nchunks);
}

/* Decode one entry at p (n bytes left): its length, or -EBADMSG. */
static int
ad_decode(const uint8_t *p, size_t n, struct p2p_ad *a)
{
    size_t bl;

    if (n < 73)
        return -EBADMSG;
    bl = p[72];
    if (bl == 0 || bl > UPD_BOARD_LEN_MAX || n - 73 < bl)
        return -EBADMSG;
    memset(a, 0, sizeof(*a));
    memcpy(a->hash, p, 32);
    a->v.major = lib_le32(p + 32);
    a->v.minor = lib_le32(p + 36);
    a->v.patch = lib_le32(p + 40);
    a->counter = lib_le64(p + 44);
    a->size = lib_le64(p + 52);
    a->chunk_size = lib_le32(p + 60);
    a->nchunks = lib_le32(p + 64);
    a->have = lib_le32(p + 68);
    memcpy(a->board, p + 73, bl);
    for (size_t i = 0; i < bl; i++)
        if (a->board[i] <= 0x20 || a->board[i] > 0x7e)
            return -EBADMSG;
    if (a->chunk_size < UPD_CHUNK_MIN || a->chunk_size > UPD_CHUNK_MAX ||
        a->nchunks > UPD_CHUNKS_MAX || a->have > a->nchunks ||
        a->size > (uint64_t)a->nchunks * a->chunk_size)
        return -EBADMSG;
    if (!partial(a)) {
        /* none, or all */
        for (uint32_t i = 0; a->have != 0 && i < a->nchunks; i++)
            a->bits[i / 8] |= (uint8_t)(1u << (i % 8));
        return (int)(73 + bl);
    }
    {
        uint32_t bn = bits_len(a->nchunks), pop = 0;

        if (n - 73 - bl < bn)
            return -EBADMSG;
        memcpy(a->bits, p + 73 + bl, bn);
        for (uint32_t i = 0; i < bn * 8; i++) {
            int b = (a->bits[i / 8] >> (i % 8)) & 1;

            if (b && i >= a->nchunks)
                return -EBADMSG; /* a chunk past the end */
            pop += (uint32_t)b;
        }
        if (pop != a->have)
            return -EBADMSG;
        return (int)(73 + bl + bn);
    }
}

size_t
p2p_announce_encode(const struct p2p_ad *ads, unsigned n, uint8_t *out)
{
    size_t len = 2;

    out[0] = P2P_ANNOUNCE_V;
    out[1] = 0;
    for (unsigned i = 0; i < n && i < 2; i++) {
        len += ad_encode(&ads[i], out + len);
        out[1]++;
    }
    return len;
}

int
p2p_announce_decode(const uint8_t *p, size_t len, struct p2p_ad ads[2],
                    unsigned *n)
{
    size_t off = 2;

    *n = 0;
    if (len < 2 || p[0] != P2P_ANNOUNCE_V || p[1] > 2)
        return -EBADMSG;
    for (unsigned i = 0; i < p[1]; i++) {
        int r = ad_decode(p + off, len - off, &ads[i]);

        if (r < 0)
            return -EBADMSG;
        off += (size_t)r;
    }
    if (off != len)
        return -EBADMSG;
    *n = p[1];
    return 0;
}

int
p2p_req_decode(const uint8_t *p, size_t len, struct p2p_req *r)
{
    if (len != 36)
        return -EBADMSG;
    memcpy(r->hash, p, 32);
    r->idx = lib_le32(p + 32);
    return 0;
}

int
p2p_piece_decode(const uint8_t *p, size_t len, struct p2p_piece *pc)
{
    if (len < 40 || len > 40 + P2P_PIECE_MAX)
        return -EBADMSG;
    memcpy(pc->hash, p, 32);
    pc->which = lib_le32(p + 32);
    pc->off = lib_le32(p + 36);
    pc->data = p + 40;
    pc->n = (uint32_t)(len - 40);
    return 0;
}

int
p2p_nak_decode(const uint8_t *p, size_t len, struct p2p_nak_msg *m)
{
    if (len != 37 || p[36] < P2P_NAK_NOT_HELD || p[36] > P2P_NAK_BUSY)
        return -EBADMSG;
    memcpy(m->hash, p, 32);
    m->idx = lib_le32(p + 32);
    m->reason = p[36];
    return 0;
}

size_t
p2p_bans_encode(const struct p2p_ban_rec *b, unsigned n, uint8_t *out)
{
    size_t len = 2;

    out[0] = 1;
    out[1] = 0;
    for (unsigned i = 0; i < n && i < P2P_BANS_MAX; i++) {
        memcpy(out + len, b[i].fp, 32);
        memcpy(out + len + 32, b[i].hash, 32);
        lib_put64(out + len + 64, (uint64_t)b[i].until);
        len += 72;
        out[1]++;
    }
    return len;
}

int
p2p_bans_decode(const uint8_t *p, size_t len,
                struct p2p_ban_rec b[P2P_BANS_MAX], unsigned *n)
{
    *n = 0;
    if (len < 2 || p[0] != 1 || p[1] > P2P_BANS_MAX ||
        len != 2 + (size_t)p[1] * 72)
        return -EBADMSG;
    for (unsigned i = 0; i < p[1]; i++) {
        const uint8_t *e = p + 2 + (size_t)i * 72;

        memcpy(b[i].fp, e, 32);
        memcpy(b[i].hash, e + 32, 32);
        b[i].until = (int64_t)lib_le64(e + 64);
    }
    *n = p[1];
    return 0;
}
