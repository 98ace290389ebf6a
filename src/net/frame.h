/*
 * net/frame.h - the frames of keel's peer links (issue #13): every
 * message between keel nodes is one frame, a fixed header and a payload.
 *
 * Header (docs/FORMAT.md "Peer frame"), 8 bytes, little-endian:
 *   u8 version (FRAME_VERSION), u8 type (enum frame_type), u16 reserved
 *   (0), u32 payload length; then the payload.
 *
 * The receiver is a byte-at-a-time state machine with no I/O and no
 * allocation: the link feeds it what arrives, in any pieces, and it
 * hands back whole frames.  It refuses, before reading one payload byte,
 * a header with another version, nonzero reserved bytes, an unknown
 * type, or a length over the link's limit (FRAME_MAX_DEFAULT unless the
 * store sets another); a refusal ends the link, with its reason.
 * Memory: struct frame_rx is 40 bytes plus the payload buffer the
 * caller lends (max bytes).
 */
#ifndef NET_FRAME_H
#define NET_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HDR 8
#define FRAME_VERSION 1
#define FRAME_MAX_DEFAULT (64u * 1024) /* payload bytes */

/* Frame types: append only (they are on the wire).  Each has its own
 * payload limit (0: the link's limit) and says whether the receiver
 * keeps its payload (1: handed over whole in the link's buffer, which
 * holds FRAME_KEEP_MAX bytes) or counts and skips it (0: "discard",
 * what `peer bench` sends to measure a link).
 *   ping: u64 sender's clock (ms), echoed by pong, up to 64 bytes.
 *   p2p_*: peer bundle distribution (issue #17, node/p2p.h and
 *   docs/FORMAT.md "Peer bundle frames"): what a node holds, the signed
 *   manifest and the chunks of a bundle, in pieces of at most
 *   FRAME_KEEP_MAX bytes.
 *   sync_*: Mochimo's sync requests between keel nodes (issue #14,
 *   sync/sync.h "Over peer links"): a u16 session id and the byte
 *   stream a TCP connection would carry, client to server and back. */
#define FRAME_TYPES(X)                                                         \
    X(FRAME_PING, 1, "ping", 64, 1)                                            \
    X(FRAME_PONG, 2, "pong", 64, 1)                                            \
    X(FRAME_DISCARD, 3, "discard", 0, 0)                                       \
    X(FRAME_P2P_ANNOUNCE, 4, "p2p_announce", 512, 1)                           \
    X(FRAME_P2P_MAN_REQ, 5, "p2p_manifest_req", 36, 1)                         \
    X(FRAME_P2P_MAN_REP, 6, "p2p_manifest", FRAME_KEEP_MAX, 1)                 \
    X(FRAME_P2P_CHUNK_REQ, 7, "p2p_chunk_req", 36, 1)                          \
    X(FRAME_P2P_CHUNK_REP, 8, "p2p_chunk", FRAME_KEEP_MAX, 1)                  \
    X(FRAME_P2P_NAK, 9, "p2p_nak", 37, 1)                                      \
    X(FRAME_SYNC_C2S, 10, "sync_c2s", FRAME_KEEP_MAX, 1)                       \
    X(FRAME_SYNC_S2C, 11, "sync_s2c", FRAME_KEEP_MAX, 1)

/* The largest payload of a type that is kept (a piece of a chunk): a
 * whole frame fits one TLS record (max_frag_len 4096, net/cert.c). */
#define FRAME_KEEP_MAX (4096 - FRAME_HDR)

#define FRAME_T_ENUM(name, code, text, max, keep) name = code,
enum frame_type { FRAME_TYPES(FRAME_T_ENUM) };
#undef FRAME_T_ENUM

/* Why a frame was refused: counted per reason by the link. */
#define FRAME_REASONS(X)                                                       \
    X(FRAME_R_NONE, "none")                                                    \
    X(FRAME_R_VERSION, "version")                                              \
    X(FRAME_R_RESERVED, "reserved")                                            \
    X(FRAME_R_TYPE, "unknown_type")                                            \
    X(FRAME_R_SIZE, "oversized")

#define FRAME_R_ENUM(name, text) name,
enum frame_reason { FRAME_REASONS(FRAME_R_ENUM) FRAME_R_COUNT };
#undef FRAME_R_ENUM

/* "ping", ...; NULL for a type keel does not know. */
const char *frame_type_name(unsigned type);
/* "oversized", ...; "unknown" out of range. */
const char *frame_reason_name(int reason);

/* Write the header of a frame of type with len payload bytes into out.
 * 0, or -EINVAL (unknown type). */
int frame_encode(uint8_t out[FRAME_HDR], unsigned type, uint32_t len);

struct frame_rx {
    uint8_t *buf; /* the caller's payload buffer */
    uint32_t max; /* the link's limit (<= the buffer's size) */
    uint8_t hdr[FRAME_HDR];
    uint32_t have;      /* bytes of the header, then of the payload */
    uint32_t len;       /* payload length of the frame in progress */
    uint8_t type;       /* its type */
    uint8_t in_payload; /* 1: the header is complete and accepted */
    uint8_t reason;     /* enum frame_reason of the refusal */
    uint8_t keep;       /* the payload is copied into buf */
    uint64_t fed;       /* bytes fed, ever: what the parser has seen */
};

/* Take payloads of at most max bytes (the link's limit); kept payloads
 * go into buf, which holds FRAME_KEEP_MAX bytes. */
void frame_rx_init(struct frame_rx *rx, uint8_t *buf, uint32_t max);

/* A type's payload limit under a link limit of max; 0 for an unknown
 * type. */
uint32_t frame_type_max(unsigned type, uint32_t max);

/* Feed n bytes.  Returns how many were consumed (stopping right after a
 * complete frame, so the caller handles it before feeding the rest),
 * with *done set when rx->type, rx->len and rx->buf hold one; or
 * -EPROTO / -EMSGSIZE with rx->reason set: the link must end (nothing
 * more is accepted after a refusal). */
int frame_rx_feed(struct frame_rx *rx, const uint8_t *p, size_t n, int *done);

#endif
