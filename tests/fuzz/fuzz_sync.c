/*
 * tests/fuzz/fuzz_sync.c - libFuzzer target: what a Mochimo peer can
 * send keel's sync client.  The input is a reply stream (packets as the
 * wire carries them) fed to the packet receiver in pieces whose sizes
 * the first byte picks, with the client's policy: a HELLO_ACK without
 * payload, then SEND_FILE packets never holding more than a proof
 * segment.  What arrives whole is then checked as a proof segment for
 * the tip the HELLO_ACK advertised (sync_proof_check, proof of work
 * included), under either network.  Nothing may crash, overrun the
 * buffer, admit a segment that does not end at the advertised tip, or
 * take bytes after a refusal.  Seed: a valid stream (mkseed_sync).
 */
#include <stdlib.h>
#include <string.h>

#include "sync/mpkt.h"
#include "sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct st {
    struct sync_cand k;
    uint32_t len;
    int acked, done;
};

static long
head(void *arg, const struct mpkt *h)
{
    struct st *s = arg;

    if (!s->acked)
        return h->op == MOP_HELLO_ACK ? 0 : -1;
    if (h->op != MOP_SEND_FILE)
        return -1;
    return (long)(sizeof(s->k.proof) - s->len);
}

static int
body(void *arg, const uint8_t *p, size_t n)
{
    struct st *s = arg;

    if (s->len + n > sizeof(s->k.proof))
        abort(); /* head() bounded it */
    memcpy(s->k.proof + s->len, p, n);
    s->len += (uint32_t)n;
    return 0;
}

static int
end(void *arg, const struct mpkt *h)
{
    struct st *s = arg;

    if (!s->acked) {
        s->acked = 1;
        s->k.tip = h->cblock;
        memcpy(s->k.bhash, h->cblockhash, 32);
        return 0;
    }
    if (h->len < MPKT_LEN_MAX) {
        s->done = 1;
        return 1;
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct st s;
    struct mpkt_rx rx;
    struct mpkt_rx_ops ops = {head, body, end, &s};
    size_t off = 1, step;

    if (size == 0)
        return 0;
    memset(&s, 0, sizeof(s));
    step = 1 + (size_t)data[0] * 7;
    mpkt_rx_init(&rx, &ops);
    while (off < size) {
        size_t k = size - off < step ? size - off : step;
        long used = mpkt_rx_feed(&rx, data + off, k);

        if (used < 0) {
            if (rx.err == MPKT_OK || mpkt_rx_feed(&rx, data, 1) != -1)
                abort();
            return 0;
        }
        if ((size_t)used > k || ((size_t)used < k && !rx.stopped))
            abort();
        if (rx.stopped)
            break;
        off += (size_t)used;
    }
    if (s.done &&
        sync_proof_check(NULL, &s.k, s.len, 1900000000) == SYNC_R_NONE) {
        const uint8_t *t = s.k.proof + (s.k.proof_n - 1) * TRAILER_LEN;

        if (s.k.proof_n == 0 || memcmp(t + 128, s.k.bhash, 32) != 0)
            abort(); /* admitted, yet not ending at the advertised tip */
    }
    return 0;
}
