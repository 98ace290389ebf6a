/*
 * tests/fuzz/fuzz_sync_book.c - libFuzzer target: what sync reads back
 * from flash and from a peer's list (src/sync/book.c).  The first byte
 * picks the decoder (mod 4): 0 a half of the peer table (sync.peers.N),
 * 1 the guard's memory (sync.bad), 2 the seeds (sync.seeds), 3 a
 * SEND_IPL payload.  A record that decodes with nothing skipped must
 * encode back to the same bytes; the table built from the input is then
 * driven through learn, answer, fail and pick with addresses taken from
 * the input, and its bounds must hold: at most SYNC_PEERS_MAX entries,
 * no address twice, a pick never repeats an entry nor exceeds its
 * bound of never-answered peers.  Seeds: tests/fuzz/bookseeds.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync/book.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sync_book b;

static void
check_table(void)
{
    int pick[SYNC_PEERS_MAX];
    unsigned n, fresh = 0;

    if (b.n > SYNC_PEERS_MAX)
        abort();
    for (unsigned i = 0; i < b.n; i++)
        for (unsigned j = 0; j < i; j++)
            if (b.p[i].port != 0 && b.p[i].port == b.p[j].port &&
                memcmp(b.p[i].ip, b.p[j].ip, 4) == 0)
                abort();
    n = sync_book_pick(&b, 1700000000, 0, 32, 8, pick);
    if (n > 32)
        abort();
    for (unsigned i = 0; i < n; i++) {
        if (pick[i] < 0 || (unsigned)pick[i] >= b.n || b.p[pick[i]].port == 0)
            abort();
        fresh += !(b.p[pick[i]].flags & SYNC_PF_ANSWERED);
        for (unsigned j = 0; j < i; j++)
            if (pick[j] == pick[i])
                abort();
    }
    if (fresh > 8)
        abort();
}

/* Drive the table with what the input holds, 8 bytes a step. */
static void
drive(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 8 <= n; i += 8) {
        const uint8_t *q = p + i;
        uint16_t port = (uint16_t)(q[4] | q[5] << 8);
        int k = sync_book_learn(&b, q, port, SYNC_SRC_IPL, q + 4);

        if (k < 0)
            continue;
        switch (q[6] % 4) {
        case 0:
            sync_book_answered(&b, k, q[7] & 1, 1700000000);
            break;
        case 1:
            sync_book_failed(&b, k, (q[7] & 1) ? 1700000000 : 0, 5000);
            break;
        case 2:
            sync_book_lied(&b, k);
            break;
        default:
            break;
        }
    }
    check_table();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[SYNC_PEERS_HDR + SYNC_PEERS_HALF * SYNC_PEER_REC];
    const uint8_t *p = data + 1;
    size_t n = size - 1;

    if (size == 0)
        return 0;
    memset(&b, 0, sizeof(b));
    switch (data[0] % 4) {
    case 0: {
        unsigned skipped = 0;
        int got = sync_book_decode(&b, p, n, &skipped);

        if (got >= 0 && skipped == 0) {
            size_t m = sync_book_encode(&b, 0, out);

            /* byte 1 names the half; the rest must come back */
            if (m != n || memcmp(out + 2, p + 2, m - 2) != 0 || out[0] != p[0])
                abort();
        }
        drive(p, n);
        break;
    }
    case 1: {
        struct sync_bad bad[SYNC_BAD_MAX];
        unsigned skipped = 0, k;

        k = sync_bad_decode(p, n, bad, 15, &skipped);
        if (k > SYNC_BAD_MAX)
            abort();
        if (skipped == 0 && n <= SYNC_BAD_MAX * SYNC_BAD_REC) {
            if (k * SYNC_BAD_REC != n)
                abort();
            for (unsigned i = 0; i < k; i++) {
                sync_bad_encode1(&bad[i], out);
                if (memcmp(out, p + i * SYNC_BAD_REC, SYNC_BAD_REC) != 0)
                    abort();
            }
        }
        break;
    }
    case 2: {
        struct sync_seed s[SYNC_SEEDS_MAX];
        unsigned k = sync_seeds_decode(p, n, s);

        if (k > SYNC_SEEDS_MAX)
            abort();
        if (n % 6 == 0 && n <= SYNC_SEEDS_MAX * 6 && k * 6 == n &&
            (sync_seeds_encode(s, k, out) != n || memcmp(out, p, n) != 0))
            abort();
        break;
    }
    default: {
        uint8_t ip[64][4];
        int k = sync_ipl_parse(p, n, ip);

        if (k > 64 || (k >= 0 && (n > 256 || n % 4 != 0)) ||
            (k < 0 && n <= 256 && n % 4 == 0))
            abort();
        for (int i = 0; i < k; i++) {
            if (ip[i][0] == 0 || ip[i][0] == 127 || ip[i][0] >= 224)
                abort();
            for (int j = 0; j < i; j++)
                if (memcmp(ip[i], ip[j], 4) == 0)
                    abort();
            (void)sync_book_learn(&b, ip[i], 2095, SYNC_SRC_IPL, data);
        }
        check_table();
        break;
    }
    }
    return 0;
}
