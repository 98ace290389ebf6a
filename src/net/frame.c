/*
 * net/frame.c - peer-link frames (see frame.h).
 */
#include <errno.h>
#include <string.h>

#include "lib/le.h"
#include "net/frame.h"

const char *
frame_type_name(unsigned type)
{
    switch (type) {
#define FRAME_T_CASE(name, code, text, max, keep)                              \
    case code:                                                                 \
        return text;
        FRAME_TYPES(FRAME_T_CASE)
#undef FRAME_T_CASE
    }
    return NULL;
}

const char *
frame_reason_name(int reason)
{
#define FRAME_R_TEXT(name, text) text,
    static const char *const t[] = {FRAME_REASONS(FRAME_R_TEXT)};
#undef FRAME_R_TEXT

    return reason >= 0 && reason < FRAME_R_COUNT ? t[reason] : "unknown";
}

uint32_t
frame_type_max(unsigned type, uint32_t max)
{
    switch (type) {
#define FRAME_T_MAX(name, code, text, tmax, keep)                              \
    case code:                                                                 \
        return tmax != 0 && tmax < max ? tmax : max;
        FRAME_TYPES(FRAME_T_MAX)
#undef FRAME_T_MAX
    }
    return 0;
}

static int
type_keeps(unsigned type)
{
    switch (type) {
#define FRAME_T_KEEP(name, code, text, tmax, keep)                             \
    case code:                                                                 \
        return keep;
        FRAME_TYPES(FRAME_T_KEEP)
#undef FRAME_T_KEEP
    }
    return 0;
}

int
frame_encode(uint8_t out[FRAME_HDR], unsigned type, uint32_t len)
{
    if (frame_type_name(type) == NULL)
        return -EINVAL;
    out[0] = FRAME_VERSION;
    out[1] = (uint8_t)type;
    lib_put16(out + 2, 0);
    lib_put32(out + 4, len);
    return 0;
}

void
frame_rx_init(struct frame_rx *rx, uint8_t *buf, uint32_t max)
{
    memset(rx, 0, sizeof(*rx));
    rx->buf = buf;
    rx->max = max;
}

/* The header is complete: accept it or say why not. */
static int
header_check(struct frame_rx *rx)
{
    const uint8_t *h = rx->hdr;

    if (h[0] != FRAME_VERSION)
        rx->reason = FRAME_R_VERSION;
    else if (lib_le16(h + 2) != 0)
        rx->reason = FRAME_R_RESERVED;
    else if (frame_type_name(h[1]) == NULL)
        rx->reason = FRAME_R_TYPE;
    else if (lib_le32(h + 4) > frame_type_max(h[1], rx->max))
        rx->reason = FRAME_R_SIZE;
    if (rx->reason != FRAME_R_NONE)
        return rx->reason == FRAME_R_SIZE ? -EMSGSIZE : -EPROTO;
    rx->type = h[1];
    rx->len = lib_le32(h + 4);
    rx->keep = (uint8_t)type_keeps(h[1]);
    rx->in_payload = 1;
    rx->have = 0;
    return 0;
}

int
frame_rx_feed(struct frame_rx *rx, const uint8_t *p, size_t n, int *done)
{
    size_t used = 0;

    *done = 0;
    if (rx->reason != FRAME_R_NONE)
        return rx->reason == FRAME_R_SIZE ? -EMSGSIZE : -EPROTO;
    while (!*done) {
        if (!rx->in_payload) {
            size_t k = FRAME_HDR - rx->have;

            if (k > n - used)
                k = n - used;
            memcpy(rx->hdr + rx->have, p + used, k);
            rx->have += (uint32_t)k;
            used += k;
            if (rx->have < FRAME_HDR)
                break;
            {
                int rc = header_check(rx);

                if (rc != 0) {
                    rx->fed += used;
                    return rc;
                }
            }
        }
        {
            size_t k = rx->len - rx->have;

            if (k > n - used)
                k = n - used;
            if (rx->keep)
                memcpy(rx->buf + rx->have, p + used, k);
            rx->have += (uint32_t)k;
            used += k;
        }
        if (rx->have < rx->len)
            break;
        /* a whole frame: the next feed starts a new header */
        *done = 1;
        rx->in_payload = 0;
        rx->have = 0;
    }
    rx->fed += used;
    return (int)used;
}
