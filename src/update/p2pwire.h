/*
 * update/p2pwire.h - the bytes of peer bundle distribution (issue #17,
 * docs/FORMAT.md "Peer bundle frames"): the announce (what a node tells
 * its peers it holds) and the decoders of the request, piece and nak
 * frames.  Kept apart from node/p2p.c so they can be fuzzed alone
 * (tests/fuzz/fuzz_peer_records.c).
 *
 * Announce payload: u8 version 2, u8 count (<= 2), count entries of
 * 73 + b (+ m) bytes: manifest hash (32), version major minor patch
 * (u32 each), counter (u64), payload size (u64), chunk size (u32),
 * chunks n (u32), chunks held h (u32), u8 board length b (1..31), the
 * board (printable, no spaces); then, only when 0 < h < n, the chunks
 * held as a bitmap of m = (n + 7) / 8 bytes (chunk i: bit i % 8 of byte
 * i / 8).  Little-endian.  Decode refuses anything else: chunk size out
 * of 4 KiB..1 MiB, more chunks than UPD_CHUNKS_MAX, more held than
 * chunks, a size beyond the chunks, a bitmap whose count is not h or
 * that names a chunk past n, trailing bytes.  (Version 1 carried a
 * count of leading chunks and no bitmap; it is refused.)
 */
#ifndef UPDATE_P2PWIRE_H
#define UPDATE_P2PWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "update/format.h"

#define P2P_ANNOUNCE_V 2
#define P2P_BITS ((UPD_CHUNKS_MAX + 7) / 8)
#define P2P_ANNOUNCE_MAX (2 + 2 * (73 + UPD_BOARD_LEN_MAX + P2P_BITS))
#define P2P_PIECE_MAX 4048 /* data bytes in one piece frame */

enum p2p_nak {
    P2P_NAK_NOT_HELD = 1,
    P2P_NAK_QUARANTINED,
    P2P_NAK_CORRUPT,
    P2P_NAK_BUSY,
};

/* A bundle a node holds, as announced. */
struct p2p_ad {
    uint8_t hash[32];
    struct upd_version v;
    uint64_t counter, size;
    uint32_t chunk_size, nchunks, have;
    uint8_t bits[P2P_BITS]; /* chunk i held: p2p_ad_has() */
    char board[UPD_BOARD_LEN_MAX + 1];
};

static inline int
p2p_ad_has(const struct p2p_ad *a, uint32_t i)
{
    return i < a->nchunks && ((a->bits[i / 8] >> (i % 8)) & 1);
}

/* p2p_manifest_req and p2p_chunk_req: hash(32) index(u32). */
struct p2p_req {
    uint8_t hash[32];
    uint32_t idx;
};

/* p2p_manifest and p2p_chunk: hash(32), u32 which (the manifest's
 * total length, or the chunk's index), u32 offset, then 0..4048 data
 * bytes (data points into the frame). */
struct p2p_piece {
    uint8_t hash[32];
    uint32_t which, off, n;
    const uint8_t *data;
};

/* p2p_nak: hash(32), index(u32, ~0 the manifest), reason(u8, enum
 * p2p_nak). */
struct p2p_nak_msg {
    uint8_t hash[32];
    uint32_t idx;
    uint8_t reason;
};

/* Encode n (<= 2) entries into out (P2P_ANNOUNCE_MAX bytes): the
 * length. */
size_t p2p_announce_encode(const struct p2p_ad *ads, unsigned n, uint8_t *out);
/* Decode into ads[2] and *n: 0, or -EBADMSG. */
int p2p_announce_decode(const uint8_t *p, size_t len, struct p2p_ad ads[2],
                        unsigned *n);

/* p2p.bans in the store: peers dropped for a bundle after bad chunks,
 * kept across reboots.  u8 version 1, u8 count (<= P2P_BANS_MAX), count
 * entries of 72 bytes: the peer's key fingerprint (32), the manifest
 * hash (32), until (i64, seconds since 1970; 0: the clock was unset,
 * the drop lasts its full time from the next start).  Decode refuses
 * another version, a count over the maximum, a length that is not the
 * count's. */
#define P2P_BANS_MAX 16
#define P2P_BANS_REC_MAX (2 + P2P_BANS_MAX * 72)
#define P2P_BANS_KEY "p2p.bans"

struct p2p_ban_rec {
    uint8_t fp[32], hash[32];
    int64_t until;
};

size_t p2p_bans_encode(const struct p2p_ban_rec *b, unsigned n, uint8_t *out);
int p2p_bans_decode(const uint8_t *p, size_t len,
                    struct p2p_ban_rec b[P2P_BANS_MAX], unsigned *n);

/* The other frames' payloads: 0, or -EBADMSG (a wrong length, a piece
 * over P2P_PIECE_MAX, a reason out of range).  What the numbers mean
 * against the bundle (an index, an offset) the receiver checks. */
int p2p_req_decode(const uint8_t *p, size_t len, struct p2p_req *r);
int p2p_piece_decode(const uint8_t *p, size_t len, struct p2p_piece *pc);
int p2p_nak_decode(const uint8_t *p, size_t len, struct p2p_nak_msg *m);

#endif
