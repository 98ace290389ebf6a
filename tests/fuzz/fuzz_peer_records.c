/*
 * tests/fuzz/fuzz_peer_records.c - libFuzzer target: the trust list and
 * dial list decoders (src/net/trust.c), which read peer.trust and
 * peer.dial from the store, and the operator keys' (op.keys,
 * src/console/unlock.c), and the quarantine list's (upd.quarantine,
 * src/update/quarantine.c), and the peer bundle frames and records
 * (src/update/p2pwire.c: the announce, the stored drops, the request,
 * piece and nak frames).  The first byte picks the decoder (mod 9).  A
 * record that decodes must encode back to the same bytes (the frames:
 * give back exactly what they hold); nothing may crash or overrun.
 * Seeds: tests/fuzz/peerseeds.sh, the golden records behind their
 * selector byte.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console/unlock.h"
#include "net/trust.h"
#include "update/p2pwire.h"
#include "update/quarantine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[TRUST_REC_MAX + UPD_QUAR_REC_MAX + P2P_ANNOUNCE_MAX +
                       P2P_BANS_REC_MAX];

    if (size == 0)
        return 0;
    if (data[0] % 9 == 8) {
        struct p2p_nak_msg m;

        if (p2p_nak_decode(data + 1, size - 1, &m) == 0 &&
            (size - 1 != 37 || memcmp(m.hash, data + 1, 32) != 0 ||
             m.reason != data[37] || m.reason < P2P_NAK_NOT_HELD ||
             m.reason > P2P_NAK_BUSY))
            abort();
    } else if (data[0] % 9 == 7) {
        struct p2p_piece pc;

        if (p2p_piece_decode(data + 1, size - 1, &pc) == 0 &&
            (pc.n != size - 41 || pc.n > P2P_PIECE_MAX ||
             pc.data != data + 41 || memcmp(pc.hash, data + 1, 32) != 0))
            abort();
    } else if (data[0] % 9 == 6) {
        struct p2p_req r;

        if (p2p_req_decode(data + 1, size - 1, &r) == 0 &&
            (size - 1 != 36 || memcmp(r.hash, data + 1, 32) != 0 ||
             r.idx != ((uint32_t)data[33] | (uint32_t)data[34] << 8 |
                       (uint32_t)data[35] << 16 | (uint32_t)data[36] << 24)))
            abort();
    } else if (data[0] % 9 == 5) {
        struct p2p_ban_rec b[P2P_BANS_MAX];
        unsigned n;

        if (p2p_bans_decode(data + 1, size - 1, b, &n) == 0 &&
            (p2p_bans_encode(b, n, out) != size - 1 ||
             memcmp(out, data + 1, size - 1) != 0))
            abort();
    } else if (data[0] % 9 == 4) {
        struct p2p_ad ads[2];
        unsigned n;

        if (p2p_announce_decode(data + 1, size - 1, ads, &n) == 0) {
            for (unsigned i = 0; i < n; i++) {
                uint32_t pop = 0;

                for (uint32_t c = 0; c < UPD_CHUNKS_MAX; c++)
                    pop += (uint32_t)p2p_ad_has(&ads[i], c);
                if (pop != ads[i].have)
                    abort();
            }
            if (p2p_announce_encode(ads, n, out) != size - 1 ||
                memcmp(out, data + 1, size - 1) != 0)
                abort();
        }
    } else if (data[0] % 9 == 3) {
        struct upd_quar q;

        if (upd_quar_decode(data + 1, size - 1, &q) == 0 &&
            (upd_quar_encode(&q, out) != size - 1 ||
             memcmp(out, data + 1, size - 1) != 0))
            abort();
    } else if (data[0] % 9 == 2) {
        struct unlock_ops o;

        if (unlock_ops_decode(data + 1, size - 1, &o) == 0 &&
            (unlock_ops_encode(&o, out) != size - 1 ||
             memcmp(out, data + 1, size - 1) != 0))
            abort();
    } else if (data[0] % 9 == 1) {
        struct dial_list d;

        if (dial_decode(data + 1, size - 1, &d) == 0 &&
            (dial_encode(&d, out) != size - 1 ||
             memcmp(out, data + 1, size - 1) != 0))
            abort();
    } else {
        struct trust_list t;

        if (trust_decode(data + 1, size - 1, &t) == 0 &&
            (trust_encode(&t, out) != size - 1 ||
             memcmp(out, data + 1, size - 1) != 0))
            abort();
    }
    return 0;
}
