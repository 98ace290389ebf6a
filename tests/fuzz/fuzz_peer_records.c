/*
 * tests/fuzz/fuzz_peer_records.c - libFuzzer target: the trust list and
 * dial list decoders (src/net/trust.c), which read peer.trust and
 * peer.dial from the store, and the operator keys' (op.keys,
 * src/console/unlock.c), and the quarantine list's (upd.quarantine,
 * src/update/quarantine.c), and the p2p announce (src/update/p2pwire.c).
 * The first byte picks the decoder (mod 5).  A
 * record that decodes must encode back to the same bytes; nothing may
 * crash or overrun.  Seeds: tests/vectors/formats/peer-*.bin behind
 * their selector byte.
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
    static uint8_t out[TRUST_REC_MAX + UPD_QUAR_REC_MAX];

    if (size == 0)
        return 0;
    if (data[0] % 5 == 4) {
        struct p2p_ad ads[2];
        unsigned n;

        if (p2p_announce_decode(data + 1, size - 1, ads, &n) == 0 &&
            (p2p_announce_encode(ads, n, out) != size - 1 ||
             memcmp(out, data + 1, size - 1) != 0))
            abort();
    } else if (data[0] % 5 == 3) {
        struct upd_quar q;

        if (upd_quar_decode(data + 1, size - 1, &q) == 0 &&
            (upd_quar_encode(&q, out) != size - 1 ||
             memcmp(out, data + 1, size - 1) != 0))
            abort();
    } else if (data[0] % 5 == 2) {
        struct unlock_ops o;

        if (unlock_ops_decode(data + 1, size - 1, &o) == 0 &&
            (unlock_ops_encode(&o, out) != size - 1 ||
             memcmp(out, data + 1, size - 1) != 0))
            abort();
    } else if (data[0] % 5 == 1) {
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
