/*
 * update/p2pwire.h - the announce of peer bundle distribution (issue
 * #17): what a node tells its peers it holds, as bytes (docs/FORMAT.md
 * "Peer bundle frames", p2p_announce).  Kept apart from node/p2p.c so
 * it can be fuzzed alone (tests/fuzz/fuzz_peer_records.c).
 *
 * Payload: u8 version 1, u8 count (<= 2), count entries of 73 + b
 * bytes: manifest hash (32), version major minor patch (u32 each),
 * counter (u64), payload size (u64), chunk size (u32), chunks (u32),
 * chunks held (u32), u8 board length b (1..31), the board (printable,
 * no spaces).  Little-endian.  Decode refuses anything else: chunk size
 * out of 4 KiB..1 MiB, more chunks than UPD_CHUNKS_MAX, more held than
 * chunks, a size beyond the chunks, trailing bytes.
 */
#ifndef UPDATE_P2PWIRE_H
#define UPDATE_P2PWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "update/format.h"

#define P2P_ANNOUNCE_MAX (2 + 2 * (73 + UPD_BOARD_LEN_MAX))

/* A bundle a node holds, as announced. */
struct p2p_ad {
    uint8_t hash[32];
    struct upd_version v;
    uint64_t counter, size;
    uint32_t chunk_size, nchunks, have;
    char board[UPD_BOARD_LEN_MAX + 1];
};

/* Encode n (<= 2) entries into out (P2P_ANNOUNCE_MAX bytes): the
 * length. */
size_t p2p_announce_encode(const struct p2p_ad *ads, unsigned n, uint8_t *out);
/* Decode into ads[2] and *n: 0, or -EBADMSG. */
int p2p_announce_decode(const uint8_t *p, size_t len, struct p2p_ad ads[2],
                        unsigned *n);

#endif
