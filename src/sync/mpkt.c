/*
 * sync/mpkt.c - Mochimo's packet: encoder and the receiver's state
 * machine (mpkt.h).
 */
#include <string.h>

#include "lib/crc16.h"
#include "lib/le.h"
#include "sync/mpkt.h"

#define MPKT_E_NAME(id, name) name,
static const char *const err_names[] = {MPKT_ERRORS(MPKT_E_NAME)};
#undef MPKT_E_NAME

const char *
mpkt_err_name(int e)
{
    return e >= 0 && e < MPKT_E_COUNT ? err_names[e] : "unknown";
}

void
mpkt_put_head(uint8_t out[MPKT_HDR], const struct mpkt *h)
{
    out[0] = h->version;
    out[1] = h->cap;
    lib_put16(out + 2, h->net);
    lib_put16(out + 4, h->id1);
    lib_put16(out + 6, h->id2);
    lib_put16(out + 8, h->op);
    lib_put64(out + 10, h->cblock);
    lib_put64(out + 18, h->blocknum);
    memcpy(out + 26, h->cblockhash, 32);
    memcpy(out + 58, h->pblockhash, 32);
    memcpy(out + 90, h->weight, 32);
    lib_put16(out + 122, h->len);
}

void
mpkt_get_head(const uint8_t in[MPKT_HDR], struct mpkt *h)
{
    h->version = in[0];
    h->cap = in[1];
    h->net = lib_le16(in + 2);
    h->id1 = lib_le16(in + 4);
    h->id2 = lib_le16(in + 6);
    h->op = lib_le16(in + 8);
    h->cblock = lib_le64(in + 10);
    h->blocknum = lib_le64(in + 18);
    memcpy(h->cblockhash, in + 26, 32);
    memcpy(h->pblockhash, in + 58, 32);
    memcpy(h->weight, in + 90, 32);
    h->len = lib_le16(in + 122);
}

void
mpkt_put_tail(uint8_t out[MPKT_TAIL], uint16_t crc)
{
    lib_put16(out, crc);
    lib_put16(out + 2, MPKT_TRAILER);
}

size_t
mpkt_encode(uint8_t *out, const struct mpkt *h, const uint8_t *p)
{
    mpkt_put_head(out, h);
    if (h->len > 0)
        memcpy(out + MPKT_HDR, p, h->len);
    mpkt_put_tail(out + MPKT_HDR + h->len,
                  lib_crc16(0, out, MPKT_HDR + (size_t)h->len));
    return MPKT_HDR + (size_t)h->len + MPKT_TAIL;
}

void
mpkt_rx_init(struct mpkt_rx *rx, const struct mpkt_rx_ops *ops)
{
    memset(rx, 0, sizeof(*rx));
    rx->ops = *ops;
}

static long
refuse(struct mpkt_rx *rx, enum mpkt_err e)
{
    rx->err = (uint8_t)e;
    return -1;
}

long
mpkt_rx_feed(struct mpkt_rx *rx, const uint8_t *p, size_t n)
{
    size_t taken = 0;

    if (rx->err != MPKT_OK)
        return -1;
    while (taken < n && !rx->stopped) {
        size_t k;

        if (rx->pos < MPKT_HDR) { /* the header */
            k = MPKT_HDR - rx->pos;
            if (k > n - taken)
                k = n - taken;
            memcpy(rx->hdr + rx->pos, p + taken, k);
            rx->pos += (uint32_t)k;
            taken += k;
            if (rx->pos < MPKT_HDR)
                break;
            mpkt_get_head(rx->hdr, &rx->h);
            rx->crc = lib_crc16(0, rx->hdr, MPKT_HDR);
            if (rx->h.net != MPKT_NET)
                return refuse(rx, MPKT_E_NET);
            {
                long most = rx->ops.head(rx->ops.arg, &rx->h);

                if (most < 0)
                    return refuse(rx, MPKT_E_REFUSED);
                if (rx->h.len > (unsigned long)most)
                    return refuse(rx, MPKT_E_LEN);
            }
            continue;
        }
        if (rx->pos < MPKT_HDR + (uint32_t)rx->h.len) { /* the payload */
            k = MPKT_HDR + (size_t)rx->h.len - rx->pos;
            if (k > n - taken)
                k = n - taken;
            rx->crc = lib_crc16(rx->crc, p + taken, k);
            if (rx->ops.body != NULL && rx->ops.body(rx->ops.arg, p + taken, k))
                return refuse(rx, MPKT_E_REFUSED);
            rx->pos += (uint32_t)k;
            taken += k;
            continue;
        }
        /* CRC and trailer */
        k = MPKT_HDR + (size_t)rx->h.len + MPKT_TAIL - rx->pos;
        if (k > n - taken)
            k = n - taken;
        memcpy(rx->tail + (rx->pos - MPKT_HDR - rx->h.len), p + taken, k);
        rx->pos += (uint32_t)k;
        taken += k;
        if (rx->pos < MPKT_HDR + (uint32_t)rx->h.len + MPKT_TAIL)
            break;
        if (lib_le16(rx->tail) != rx->crc)
            return refuse(rx, MPKT_E_CRC);
        if (lib_le16(rx->tail + 2) != MPKT_TRAILER)
            return refuse(rx, MPKT_E_TRAILER);
        rx->pos = 0;
        rx->packets++;
        if (rx->ops.end != NULL && rx->ops.end(rx->ops.arg, &rx->h))
            rx->stopped = 1;
    }
    rx->bytes += taken;
    return (long)taken;
}
