/*
 * sync/mpkt.h - Mochimo's peer packet (docs/SYNC.md "The wire"): a
 * 124-byte header, len payload bytes, CRC-16/XMODEM over both (little
 * endian), and the trailer 0xABCD.  One TCP connection carries one
 * request: HELLO, HELLO_ACK, the request, its answer.
 *
 * The encoder writes a header and seals a packet; the receiver is a
 * state machine fed with whatever bytes arrived, for a stream of
 * packets (a file answer is several).  It checks every length before
 * it is used: the header's len against the caller's limit for that
 * opcode, before a payload byte is taken; the payload goes to the
 * caller's sink as it arrives, and the packet counts only once its CRC,
 * network id and trailer are checked (the sink must treat what it got
 * of a packet as tentative until then).  No allocation, no I/O.
 */
#ifndef SYNC_MPKT_H
#define SYNC_MPKT_H

#include <stddef.h>
#include <stdint.h>

#define MPKT_HDR 124
#define MPKT_TAIL 4 /* CRC, trailer */
#define MPKT_LEN_MAX 65535u
#define MPKT_NET 1337u
#define MPKT_TRAILER 0xabcdu
#define MPKT_VERSION 5
#define MPKT_PORT 2095
#define MPKT_IPL_MAX 64  /* addresses in a SEND_IPL */
#define MPKT_TF_MAX 1000 /* trailers a TF may ask for */

enum mpkt_op {
    MOP_NULL = 0,
    MOP_HELLO = 1,
    MOP_HELLO_ACK = 2,
    MOP_TX = 3,
    MOP_FOUND = 4,
    MOP_GET_BLOCK = 5,
    MOP_GET_IPL = 6,
    MOP_SEND_FILE = 7,
    MOP_SEND_IPL = 8,
    MOP_BUSY = 9,
    MOP_NACK = 10,
    MOP_GET_TFILE = 11,
    MOP_BALANCE = 12,
    MOP_SEND_BAL = 13,
    MOP_RESOLVE = 14,
    MOP_GET_CBLOCK = 15,
    MOP_MBLOCK = 16,
    MOP_HASH = 17,
    MOP_TF = 18,
    MOP_IDENTIFY = 19,
};

struct mpkt {
    uint8_t version, cap;
    uint16_t net, id1, id2, op;
    uint64_t cblock;   /* the sender's tip */
    uint64_t blocknum; /* the request's argument */
    uint8_t cblockhash[32], pblockhash[32];
    uint8_t weight[32]; /* 256-bit little-endian */
    uint16_t len;
};

/* Write h's header into out[MPKT_HDR] (h->net as given). */
void mpkt_put_head(uint8_t out[MPKT_HDR], const struct mpkt *h);
/* Read a header from in[MPKT_HDR]. */
void mpkt_get_head(const uint8_t in[MPKT_HDR], struct mpkt *h);
/* A whole packet with payload p (h->len bytes) into out (MPKT_HDR +
 * h->len + MPKT_TAIL bytes); returns its length. */
size_t mpkt_encode(uint8_t *out, const struct mpkt *h, const uint8_t *p);
/* The CRC and trailer after header and payload (crc over both). */
void mpkt_put_tail(uint8_t out[MPKT_TAIL], uint16_t crc);

/* Why a stream of packets was refused (metrics labels; append only). */
#define MPKT_ERRORS(X)                                                         \
    X(MPKT_OK, "ok")                                                           \
    X(MPKT_E_NET, "network_id")                                                \
    X(MPKT_E_LEN, "oversize")                                                  \
    X(MPKT_E_CRC, "crc")                                                       \
    X(MPKT_E_TRAILER, "trailer")                                               \
    X(MPKT_E_REFUSED, "refused")

#define MPKT_E_ENUM(id, name) id,
enum mpkt_err { MPKT_ERRORS(MPKT_E_ENUM) MPKT_E_COUNT };
#undef MPKT_E_ENUM
const char *mpkt_err_name(int e);

struct mpkt_rx_ops {
    /* A header arrived: the most payload bytes to take for it (its len
     * above that refuses the stream: MPKT_E_LEN), or < 0 to refuse
     * (MPKT_E_REFUSED).  Required. */
    long (*head)(void *arg, const struct mpkt *h);
    /* Payload bytes, in order (tentative until end).  May be NULL: the
     * payload is checked and dropped.  Nonzero refuses the stream. */
    int (*body)(void *arg, const uint8_t *p, size_t n);
    /* The packet is whole and checked.  Nonzero stops the stream (the
     * caller has what it wanted; further bytes are not read). */
    int (*end)(void *arg, const struct mpkt *h);
    void *arg;
};

struct mpkt_rx {
    struct mpkt_rx_ops ops;
    struct mpkt h; /* the packet in progress */
    uint8_t hdr[MPKT_HDR];
    uint8_t tail[MPKT_TAIL];
    uint32_t pos;     /* bytes of the packet in progress taken */
    uint16_t crc;     /* over what was taken of header and payload */
    uint8_t err;      /* enum mpkt_err, once refused */
    uint8_t stopped;  /* end() asked to stop */
    uint64_t packets; /* whole packets taken */
    uint64_t bytes;   /* bytes taken */
};

void mpkt_rx_init(struct mpkt_rx *rx, const struct mpkt_rx_ops *ops);
/* Feed n bytes.  Returns how many were taken (fewer than n only when the
 * stream stopped or was refused), or -1 once refused (rx->err says why;
 * nothing more is taken). */
long mpkt_rx_feed(struct mpkt_rx *rx, const uint8_t *p, size_t n);

#endif
