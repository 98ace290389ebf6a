/*
 * tests/unit/test_ymodem.c - YMODEM (src/console/ymodem.c): the receiver
 * against blocks made here (both sizes, every split of the bytes, CRC
 * errors, duplicates, wrong numbers, cancels from either side, a sink
 * that refuses, timeouts, limits, malformed block 0s), the sender
 * against a receiver made here, and the two machines against each other
 * over a simulated line that loses and corrupts, through the I/O loops
 * (ymodem_rx_run, ymodem_tx_run) and the pull side (struct ymodem_pull).
 * Time is simulated: nothing here sleeps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/ymodem.h"
#include "ut.h"

#define FILE_MAX (300u * 1024)

static const uint8_t CAN8BS8[YMODEM_CANCEL_LEN] = {
    0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18,
    0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08};
static const uint8_t ACK[1] = {YMODEM_ACK}, NAK[1] = {YMODEM_NAK},
                     C[1] = {YMODEM_C}, ACKC[2] = {YMODEM_ACK, YMODEM_C};

static uint32_t rnd_state = 12345;

static uint32_t
rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

static uint8_t src[FILE_MAX];

static void
fill_src(void)
{
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)rnd();
    /* control bytes inside the data, where a careless parser looks */
    memcpy(src + 5, "\x18\x18\x04\x01\x02\x06\x15", 7);
}

/* ---- a sink -------------------------------------------------------------- */

struct sink {
    uint8_t got[FILE_MAX];
    size_t n;
    unsigned calls, begins;
    char name[300];
    uint64_t size;
    uint64_t refuse_at; /* refuse the block that would pass this byte */
    int refuse_begin;
    unsigned events;
    char last_event[200];
};

static struct sink sk;

static int
sk_begin(void *arg, const char *name, uint64_t size)
{
    struct sink *s = arg;

    s->begins++;
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->size = size;
    return s->refuse_begin;
}

static int
sk_data(void *arg, const uint8_t *p, size_t n)
{
    struct sink *s = arg;

    if (n == 0 || n > YMODEM_BLOCK1K || s->n + n > sizeof(s->got))
        return -EOVERFLOW; /* never: checked below as a failure */
    if (s->refuse_at != 0 && s->n + n > s->refuse_at)
        return -ENOSPC;
    memcpy(s->got + s->n, p, n);
    s->n += n;
    s->calls++;
    return 0;
}

static void
sk_event(void *arg, const char *msg)
{
    struct sink *s = arg;

    s->events++;
    snprintf(s->last_event, sizeof(s->last_event), "%s", msg);
    if (getenv("YMODEM_TRACE") != NULL)
        printf("  event: %s\n", msg);
}

static const struct ymodem_rx_ops sk_ops = {sk_begin, sk_data, sk_event, &sk};

static void
sk_reset(void)
{
    memset(&sk, 0, sizeof(sk));
}

/* ---- blocks made here ---------------------------------------------------- */

/* A frame: number num, len (128/1024) data bytes from d (n of them, the
 * rest pad). */
static size_t
mkframe(uint8_t *out, uint8_t num, const uint8_t *d, size_t n, size_t len,
        uint8_t pad)
{
    uint16_t crc;

    out[0] = len == 128 ? YMODEM_SOH : YMODEM_STX;
    out[1] = num;
    out[2] = (uint8_t)~num;
    memcpy(out + 3, d, n);
    memset(out + 3 + n, pad, len - n);
    crc = ymodem_crc16(0, out + 3, len);
    out[3 + len] = (uint8_t)(crc >> 8);
    out[4 + len] = (uint8_t)crc;
    return len + 5;
}

/* Block 0 from raw bytes (the rest zero). */
static size_t
mkhdr_raw(uint8_t *out, const void *raw, size_t n, size_t len)
{
    return mkframe(out, 0, raw, n, len, 0);
}

static size_t
mkhdr(uint8_t *out, const char *name, const char *size)
{
    uint8_t b[1024] = {0};
    size_t n = strlen(name);

    memcpy(b, name, n);
    if (size != NULL)
        memcpy(b + n + 1, size, strlen(size));
    return mkhdr_raw(out, b, n + 2 + (size ? strlen(size) : 0), 128);
}

/* ---- driving the receiver ------------------------------------------------ */

static struct ymodem_rx rx;
static uint64_t now;

static void
rx_start(uint64_t limit)
{
    sk_reset();
    now = 1000;
    ymodem_rx_init(&rx, &sk_ops, limit, now);
}

/* The receiver's answer is exactly want[0..n): 1, then it is sent. */
static int
answer_is(const uint8_t *want, size_t n)
{
    const uint8_t *p;
    size_t k = ymodem_rx_out(&rx, &p);
    int ok = k == n && (n == 0 || memcmp(p, want, n) == 0);

    if (!ok) {
        printf("  answer:");
        for (size_t i = 0; i < k; i++)
            printf(" %02x", p[i]);
        printf(" (state %s, why '%s')\n", ymodem_rx_state_name(rx.state),
               rx.why);
    }
    if (k > 0)
        ymodem_rx_sent(&rx, now);
    return ok;
}

static void
feed(const uint8_t *p, size_t n)
{
    ymodem_rx_feed(&rx, p, n, now);
}

/* Let ms pass with nothing on the line. */
static void
quiet(uint64_t ms)
{
    uint64_t end = now + ms;

    while (now < end) {
        uint32_t w = ymodem_rx_wait(&rx, now);

        if (ymodem_rx_done(&rx))
            break;
        if (w == 0) {
            ymodem_rx_tick(&rx, now);
            if (ymodem_rx_out(&rx, &(const uint8_t *){NULL}) > 0)
                return; /* an answer: the caller looks at it */
            continue;
        }
        now = now + w < end ? now + w : end;
    }
    ymodem_rx_tick(&rx, now);
}

/* The session through its drain to done. */
static void
drain(void)
{
    for (int i = 0; i < 100 && !ymodem_rx_done(&rx); i++) {
        const uint8_t *p;

        if (ymodem_rx_out(&rx, &p) > 0)
            ymodem_rx_sent(&rx, now);
        now += ymodem_rx_wait(&rx, now);
        ymodem_rx_tick(&rx, now);
    }
}

/* A whole session's worth of sender bytes, cut where the receiver
 * answers: seg[i] is what the sender sends after the i-th answer. */
struct script {
    uint8_t b[8][1100 * 4];
    size_t n[8];
    int segs;
};

static void
seg_add(struct script *s, int i, const uint8_t *p, size_t n)
{
    memcpy(s->b[i] + s->n[i], p, n);
    s->n[i] += n;
    if (i + 1 > s->segs)
        s->segs = i + 1;
}

/* ---- cases --------------------------------------------------------------- */

static void
test_crc(void)
{
    UT_CASE("crc16: the CRC-16/XMODEM check value of '123456789'");
    UT_CHECK_EQ(ymodem_crc16(0, (const uint8_t *)"123456789", 9), 0x31c3);
    UT_CHECK_EQ(ymodem_crc16(ymodem_crc16(0, (const uint8_t *)"1234", 4),
                             (const uint8_t *)"56789", 5),
                0x31c3);
    UT_CHECK_EQ(ymodem_crc16(0, NULL, 0), 0);
    UT_CHECK(strcmp(ymodem_reason_name(YM_R_PEER_CANCEL), "peer_cancel") == 0);
    UT_CHECK(strcmp(ymodem_reason_name(99), "unknown") == 0);
    UT_CHECK(strcmp(ymodem_rx_state_name(YM_RX_END), "end") == 0);
    UT_CHECK(strcmp(ymodem_tx_state_name(YM_TX_WAIT_END), "wait_end") == 0);
}

/* One file, the way sb sends it: 'C', block 0, 'C', blocks, EOT NAK EOT
 * ACK, 'C', the empty block 0, ACK. */
static void
session(size_t size, size_t blk, int mixed)
{
    uint8_t f[1100], h[200];
    char sz[24];
    size_t off = 0;
    uint8_t num = 1;

    rx_start(FILE_MAX);
    UT_CHECK(answer_is(C, 1));
    snprintf(sz, sizeof(sz), "%zu 14573123 100644 0 1 %zu", size, size);
    feed(h, mkhdr(h, "bundle.kbn", sz));
    UT_CHECK(answer_is(ACKC, 2));
    UT_CHECK_EQ(sk.begins, 1);
    UT_CHECK(strcmp(sk.name, "bundle.kbn") == 0);
    UT_CHECK_EQ(sk.size, size);
    while (off < size) {
        size_t len = mixed && (num & 1) ? 128 : blk;
        size_t n = size - off < len ? size - off : len;

        feed(f, mkframe(f, num++, src + off, n, len, YMODEM_PAD));
        UT_CHECK(answer_is(ACK, 1));
        off += n;
    }
    feed((const uint8_t[]){YMODEM_EOT}, 1);
    UT_CHECK(answer_is(NAK, 1));
    feed((const uint8_t[]){YMODEM_EOT}, 1);
    UT_CHECK(answer_is(ACKC, 2));
    UT_CHECK_EQ(rx.state, YM_RX_END);
    feed(h, mkhdr_raw(h, "", 0, 128));
    UT_CHECK(answer_is(ACK, 1));
    UT_CHECK(ymodem_rx_done(&rx));
    UT_CHECK_EQ(rx.err, 0);
    UT_CHECK_EQ(rx.reason, YM_R_DONE);
    UT_CHECK_EQ(sk.n, size);
    UT_CHECK(memcmp(sk.got, src, size) == 0);
    UT_CHECK_EQ(rx.got, size);
    UT_CHECK(strstr(rx.why, "received 'bundle.kbn'") != NULL);
}

static void
test_sessions(void)
{
    static const struct {
        size_t size, blk;
        int mixed;
        const char *name;
    } t[] = {
        {0, 128, 0, "rx: an empty file (header, EOT, end)"},
        {1, 128, 0, "rx: one byte in a 128-byte block"},
        {128, 128, 0, "rx: exactly one 128-byte block, no padding"},
        {300, 128, 0, "rx: 128-byte blocks, the last padded and cut"},
        {5000, 1024, 0, "rx: 1024-byte blocks, the last padded and cut"},
        {4096, 1024, 0, "rx: exactly four 1024-byte blocks"},
        {70000, 1024, 0, "rx: 69 blocks, numbers past 64"},
        {9000, 1024, 1, "rx: 128 and 1024-byte blocks mixed"},
        {270000, 1024, 0, "rx: 264 blocks: block numbers wrap past 255"},
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        UT_CASE(t[i].name);
        session(t[i].size, t[i].blk, t[i].mixed);
    }
}

/* Every way of cutting the bytes: each segment fed in pieces of k. */
static void
test_splits(void)
{
    static struct script s;
    uint8_t h[200];
    const size_t size = 300;
    int bad = 0;

    memset(&s, 0, sizeof(s));
    seg_add(&s, 0, h, mkhdr(h, "a", "300"));
    for (int b = 0; b < 3; b++) {
        uint8_t f[200];
        size_t n = size - (size_t)b * 128 < 128 ? size - (size_t)b * 128 : 128;

        seg_add(&s, 1 + b, f,
                mkframe(f, (uint8_t)(b + 1), src + b * 128, n, 128, 0x1a));
    }
    seg_add(&s, 4, (const uint8_t[]){YMODEM_EOT}, 1);
    seg_add(&s, 5, (const uint8_t[]){YMODEM_EOT}, 1);
    seg_add(&s, 6, h, mkhdr_raw(h, "", 0, 128));
    UT_CASE("rx: a small file fed in pieces of every size, 1 to 133");
    for (size_t k = 1; k <= 133; k++) {
        static const uint8_t *want[] = {ACKC, ACK, ACK, ACK, NAK, ACKC, ACK};
        static const size_t wn[] = {2, 1, 1, 1, 1, 2, 1};

        rx_start(FILE_MAX);
        bad |= !answer_is(C, 1);
        for (int i = 0; i < s.segs; i++) {
            for (size_t off = 0; off < s.n[i]; off += k) {
                size_t m = s.n[i] - off < k ? s.n[i] - off : k;
                const uint8_t *p;

                /* nothing is answered before the segment is whole */
                bad |= ymodem_rx_out(&rx, &p) != 0;
                feed(s.b[i] + off, m);
                now += 3;
            }
            bad |= !answer_is(want[i], wn[i]);
        }
        bad |= !ymodem_rx_done(&rx) || rx.err != 0 || sk.n != size ||
               memcmp(sk.got, src, size) != 0;
        if (bad) {
            printf("  pieces of %zu bytes failed\n", k);
            break;
        }
    }
    UT_CHECK(!bad);
}

/* Into the data of a 128-byte session: header taken, ready for block 1. */
static void
rx_at_data(const char *size)
{
    uint8_t h[200];

    rx_start(FILE_MAX);
    UT_CHECK(answer_is(C, 1));
    feed(h, mkhdr(h, "f", size));
    UT_CHECK(answer_is(ACKC, 2));
}

static void
test_crc_error(void)
{
    uint8_t f[200];
    size_t n;

    UT_CASE("rx: a CRC error: nothing handed over, NAK once the line "
            "clears, the retransmission taken");
    rx_at_data("200");
    n = mkframe(f, 1, src, 128, 128, 0);
    f[50] ^= 0x01;
    feed(f, n);
    UT_CHECK(answer_is(NULL, 0)); /* not yet: the line must clear */
    UT_CHECK_EQ(sk.calls, 0);
    now += 100;
    feed((const uint8_t *)"xyz", 3); /* still noisy: the wait restarts */
    quiet(YMODEM_PURGE_MS - 1);
    UT_CHECK(answer_is(NULL, 0));
    quiet(1);
    UT_CHECK(answer_is(NAK, 1));
    UT_CHECK(strstr(sk.last_event, "NAK (1 of 10)") != NULL);
    feed(f, mkframe(f, 1, src, 128, 128, 0));
    UT_CHECK(answer_is(ACK, 1));
    UT_CHECK_EQ(sk.n, 128);
    UT_CHECK(memcmp(sk.got, src, 128) == 0);
    UT_CHECK_EQ(rx.errors, 1);

    UT_CASE("rx: a garbled block number (complement) is NAKed after the "
            "line clears");
    rx_at_data("200");
    n = mkframe(f, 1, src, 128, 128, 0);
    f[2] = 0x00;
    feed(f, n);
    quiet(YMODEM_PURGE_MS);
    UT_CHECK(answer_is(NAK, 1));
    UT_CHECK_EQ(sk.calls, 0);

    UT_CASE("rx: a short block: NAK after the byte timeout");
    rx_at_data("200");
    n = mkframe(f, 1, src, 128, 128, 0);
    feed(f, 60);
    quiet(YMODEM_BYTE_MS - 1);
    UT_CHECK(answer_is(NULL, 0));
    quiet(1);
    UT_CHECK(answer_is(NAK, 1));
    UT_CHECK(strstr(sk.last_event, "only 60 of 133 bytes") != NULL);
    feed(f, n);
    UT_CHECK(answer_is(ACK, 1));
    UT_CHECK_EQ(sk.n, 128);

    UT_CASE("rx: garbage where a block should start: NAK after the line "
            "clears");
    rx_at_data("200");
    feed((const uint8_t *)"hello", 5);
    quiet(YMODEM_PURGE_MS);
    UT_CHECK(answer_is(NAK, 1));
    UT_CHECK(strstr(sk.last_event, "the line cleared") != NULL);
}

static void
test_duplicates(void)
{
    uint8_t f[2][200], h[200];
    size_t n0 = mkframe(f[0], 1, src, 128, 128, 0);
    size_t n1 = mkframe(f[1], 2, src + 128, 72, 128, 0x1a);

    UT_CASE("rx: a block sent again (our ACK lost) is ACKed, not handed "
            "over twice");
    rx_at_data("200");
    feed(f[0], n0);
    UT_CHECK(answer_is(ACK, 1));
    now += 10000; /* the sender's timeout */
    feed(f[0], n0);
    UT_CHECK(answer_is(ACK, 1));
    UT_CHECK_EQ(sk.calls, 1);
    feed(f[1], n1);
    UT_CHECK(answer_is(ACK, 1));
    UT_CHECK_EQ(sk.n, 200);
    UT_CHECK(memcmp(sk.got, src, 200) == 0);

    UT_CASE("rx: block 0 sent again is answered ACK 'C' again");
    rx_at_data("200");
    now += 10000;
    feed(h, mkhdr(h, "f", "200"));
    UT_CHECK(answer_is(ACKC, 2));
    UT_CHECK_EQ(sk.begins, 1);

    UT_CASE("rx: a copy begun right after our ACK (the sender took a stale "
            "byte for a NAK) is dropped unanswered; the next block is taken");
    rx_at_data("200");
    now += YMODEM_STALE_MS - 1;
    feed(h, mkhdr(h, "f", "200")); /* block 0 again, sb's way */
    UT_CHECK(answer_is(NULL, 0));
    feed(f[0], n0);
    UT_CHECK(answer_is(ACK, 1));
    now += 20;
    feed(f[0], n0);
    UT_CHECK(answer_is(NULL, 0));
    feed(f[1], n1);
    UT_CHECK(answer_is(ACK, 1));
    UT_CHECK_EQ(sk.n, 200);
    UT_CHECK(memcmp(sk.got, src, 200) == 0);
    UT_CHECK_EQ(sk.begins, 1);

    UT_CASE("rx: a copy right after our NAK is what the NAK asked for: the "
            "ACK lost before is given again");
    rx_at_data("200");
    feed(f[0], n0);
    UT_CHECK(answer_is(ACK, 1)); /* lost on the way */
    quiet(100000);
    UT_CHECK(answer_is(NAK, 1)); /* nothing came: NAK */
    now += 5;
    feed(f[0], n0); /* the sender answers the NAK with what it holds */
    UT_CHECK(answer_is(ACK, 1));
    feed(f[1], n1);
    UT_CHECK(answer_is(ACK, 1));
    UT_CHECK_EQ(sk.n, 200);

    UT_CASE("rx: a block and its retransmission in one read: one ACK, one "
            "hand-over (the rest is stale)");
    rx_at_data("200");
    {
        uint8_t two[400];

        memcpy(two, f[0], n0);
        memcpy(two + n0, f[0], n0);
        feed(two, 2 * n0);
        UT_CHECK(answer_is(ACK, 1));
        UT_CHECK_EQ(sk.calls, 1);
        UT_CHECK_EQ(rx.errors, 0); /* the copy was not even looked at */
        feed(f[1], n1);
        UT_CHECK(answer_is(ACK, 1));
        UT_CHECK_EQ(sk.n, 200);
    }

    UT_CASE("rx: a sender that does not wait for the ACK: the block after "
            "in the same read is dropped, taken when sent again");
    rx_at_data("200");
    {
        uint8_t two[400];

        memcpy(two, f[0], n0);
        memcpy(two + n0, f[1], n1);
        feed(two, n0 + n1);
        UT_CHECK(answer_is(ACK, 1));
        UT_CHECK_EQ(sk.calls, 1);
        feed(f[1], n1);
        UT_CHECK(answer_is(ACK, 1));
        UT_CHECK_EQ(sk.calls, 2);
        UT_CHECK(memcmp(sk.got, src, 200) == 0);
    }

    UT_CASE("rx: a block then CAN CAN in one read: the sender's cancel "
            "counts");
    rx_at_data("200");
    {
        uint8_t b[300];

        memcpy(b, f[0], n0);
        memcpy(b + n0, "\x18\x18\x18\x18", 4);
        feed(b, n0 + 4);
        UT_CHECK_EQ(rx.state, YM_RX_CANCEL);
        UT_CHECK(answer_is(NULL, 0));
        drain();
        UT_CHECK_EQ(rx.err, -ECANCELED);
        UT_CHECK_EQ(rx.reason, YM_R_PEER_CANCEL);
    }

    UT_CASE("rx: a wrong block number is NAKed; 11 in a row give up");
    rx_at_data("200");
    {
        uint8_t w[200];
        size_t wn = mkframe(w, 5, src, 128, 128, 0);

        for (int i = 1; i <= 10; i++) {
            feed(w, wn);
            UT_CHECK(answer_is(NAK, 1));
        }
        UT_CHECK(strstr(sk.last_event, "block 5 on the wire where 1 was "
                                       "expected; NAK (10 of 10)") != NULL);
        feed(w, wn);
        UT_CHECK(answer_is(CAN8BS8, sizeof(CAN8BS8)));
        drain();
        UT_CHECK_EQ(rx.err, -EIO);
        UT_CHECK_EQ(rx.reason, YM_R_RETRIES);
        UT_CHECK(strstr(rx.why, "block 1 failed 11 times") != NULL);
        UT_CHECK_EQ(sk.calls, 0);
    }
}

static void
test_cancels(void)
{
    uint8_t f[200];
    size_t n = mkframe(f, 1, src, 128, 128, 0);

    UT_CASE("rx: the sender's CAN CAN: no answer, the drain, then "
            "-ECANCELED");
    rx_at_data("1000");
    feed(f, n);
    UT_CHECK(answer_is(ACK, 1));
    feed((const uint8_t *)"\x18", 1);
    UT_CHECK_EQ(rx.state, YM_RX_DATA); /* one CAN is not a cancel */
    feed((const uint8_t *)"\x18", 1);
    UT_CHECK_EQ(rx.state, YM_RX_CANCEL);
    UT_CHECK(answer_is(NULL, 0));
    now += 500;
    feed((const uint8_t *)"\x18\x18\x08\x08", 4); /* the rest of its CANs */
    quiet(YMODEM_DRAIN_MS - 1);
    UT_CHECK(!ymodem_rx_done(&rx));
    quiet(1);
    UT_CHECK(ymodem_rx_done(&rx));
    UT_CHECK_EQ(rx.err, -ECANCELED);
    UT_CHECK_EQ(rx.reason, YM_R_PEER_CANCEL);
    UT_CHECK(strstr(rx.why, "at byte 128") != NULL);

    UT_CASE("rx: CAN then another byte is no cancel");
    rx_at_data("1000");
    feed((const uint8_t *)"\x18", 1);
    feed(f, n);
    UT_CHECK(answer_is(ACK, 1));

    UT_CASE("rx: the operator's cancel: CAN x8 BS x8, the drain, its "
            "error and words");
    rx_at_data("1000");
    feed(f, n);
    UT_CHECK(answer_is(ACK, 1));
    ymodem_rx_cancel(&rx, 0, NULL, now);
    UT_CHECK(answer_is(CAN8BS8, sizeof(CAN8BS8)));
    UT_CHECK(!ymodem_rx_done(&rx));
    feed(f, n); /* in flight: drained, not taken */
    UT_CHECK_EQ(sk.calls, 1);
    drain();
    UT_CHECK(ymodem_rx_done(&rx));
    UT_CHECK_EQ(rx.err, -ECANCELED);
    UT_CHECK_EQ(rx.reason, YM_R_CANCEL);
    UT_CHECK(strcmp(rx.why, "cancelled on this side") == 0);
    ymodem_rx_cancel(&rx, -EIO, "again", now); /* over: nothing changes */
    UT_CHECK_EQ(rx.err, -ECANCELED);

    UT_CASE("rx: a sender that never stops: the drain ends all the same");
    rx_at_data("1000");
    now += 30000;
    ymodem_rx_cancel(&rx, -EPERM, "the bundle was refused", now);
    now += 50; /* the CANs go out a little later */
    UT_CHECK(answer_is(CAN8BS8, sizeof(CAN8BS8)));
    for (int i = 0; i < 100 && !ymodem_rx_done(&rx); i++) {
        now += 100;
        feed(f, n);
        ymodem_rx_tick(&rx, now);
    }
    UT_CHECK(ymodem_rx_done(&rx));
    UT_CHECK(now - 31050 >= YMODEM_DRAIN_MAX_MS &&
             now - 31050 <= YMODEM_DRAIN_MAX_MS + 100);
    UT_CHECK_EQ(rx.err, -EPERM);
    UT_CHECK(strcmp(rx.why, "the bundle was refused") == 0);
}

static void
test_refusals(void)
{
    uint8_t f[1100], h[1100];

    UT_CASE("rx: the sink refuses mid-file: no ACK, CAN x8 BS x8, the "
            "sink's error");
    rx_at_data("5000");
    sk.refuse_at = 2500;
    for (int b = 0; b < 2; b++) {
        feed(f, mkframe(f, (uint8_t)(b + 1), src + b * 1024, 1024, 1024, 0));
        UT_CHECK(answer_is(ACK, 1));
    }
    feed(f, mkframe(f, 3, src + 2048, 1024, 1024, 0));
    UT_CHECK(answer_is(CAN8BS8, sizeof(CAN8BS8)));
    drain();
    UT_CHECK_EQ(rx.err, -ENOSPC);
    UT_CHECK_EQ(rx.reason, YM_R_REFUSED);
    UT_CHECK(strstr(rx.why, "refused at byte 2048") != NULL);
    UT_CHECK_EQ(sk.n, 2048);

    UT_CASE("rx: begin refuses the file: CAN, its error, no data");
    rx_start(FILE_MAX);
    UT_CHECK(answer_is(C, 1));
    sk.refuse_begin = -EACCES;
    feed(h, mkhdr(h, "f", "10"));
    UT_CHECK(answer_is(CAN8BS8, sizeof(CAN8BS8)));
    drain();
    UT_CHECK_EQ(rx.err, -EACCES);
    UT_CHECK_EQ(rx.reason, YM_R_REFUSED);

    {
        static const struct {
            const char *name;
            uint8_t raw[64];
            size_t n, len;
            uint64_t limit;
            int err, reason;
            const char *why;
        } t[] = {
            {"rx: block 0 announcing more than the limit is refused",
             "big.kbn\0"
             "1001",
             13, 128, 1000, -EFBIG, YM_R_TOO_BIG,
             "'big.kbn' is 1001 bytes; at most 1000 are taken"},
            {"rx: a size of 2^64 is refused as malformed",
             "x\0"
             "18446744073709551616",
             22, 128, FILE_MAX, -EBADMSG, YM_R_HEADER, "not a decimal number"},
            {"rx: a size that is not decimal is refused",
             "x\0"
             "12a4",
             6, 128, FILE_MAX, -EBADMSG, YM_R_HEADER, "its size '12a4' is not"},
            {"rx: a size with a sign is refused",
             "x\0"
             "-1",
             4, 128, FILE_MAX, -EBADMSG, YM_R_HEADER, "its size '-1'"},
            {"rx: block 0 without a NUL after the name is refused", "", 0, 128,
             FILE_MAX, -EBADMSG, YM_R_HEADER, "no NUL"},
            {"rx: an empty batch (first block 0 empty) is -ENOENT", "", 1, 128,
             FILE_MAX, -ENOENT, YM_R_NO_FILE, "no file"},
        };

        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
            uint8_t raw[1024];

            UT_CASE(t[i].name);
            rx_start(t[i].limit);
            UT_CHECK(answer_is(C, 1));
            if (t[i].n == 0) {
                memset(raw, 'a', sizeof(raw)); /* no NUL anywhere */
                feed(h, mkframe(h, 0, raw, 128, 128, 0));
            } else {
                feed(h, mkhdr_raw(h, t[i].raw, t[i].n, t[i].len));
            }
            if (t[i].err == -ENOENT)
                UT_CHECK(answer_is(ACK, 1));
            else
                UT_CHECK(answer_is(CAN8BS8, sizeof(CAN8BS8)));
            drain();
            UT_CHECK_EQ(rx.err, t[i].err);
            UT_CHECK_EQ(rx.reason, t[i].reason);
            UT_CHECK(strstr(rx.why, t[i].why) != NULL);
            UT_CHECK_EQ(sk.begins, 0);
            if (strstr(rx.why, t[i].why) == NULL)
                printf("  why: %s\n", rx.why);
        }
    }

    UT_CASE("rx: a 1K block 0 with a long name and fields after the size");
    {
        uint8_t raw[1024] = {0};

        memset(raw, 'n', 200);
        memcpy(raw + 201, "7 14573123 100644 0 1 7", 23);
        raw[1022] = 0x55; /* IMP/KMD bytes at the end: ignored */
        rx_start(FILE_MAX);
        UT_CHECK(answer_is(C, 1));
        feed(h, mkhdr_raw(h, raw, 1024, 1024));
        UT_CHECK(answer_is(ACKC, 2));
        UT_CHECK_EQ(sk.size, 7);
        UT_CHECK_EQ(strlen(sk.name), 200);
        UT_CHECK_EQ(strlen(rx.name), YMODEM_NAME_MAX - 1);
    }

    UT_CASE("rx: a name with control bytes is kept printable for messages");
    rx_start(FILE_MAX);
    UT_CHECK(answer_is(C, 1));
    feed(h, mkhdr(h, "a\x1b[2Jb", "1"));
    UT_CHECK(answer_is(ACKC, 2));
    UT_CHECK(strcmp(rx.name, "a?[2Jb") == 0);
    UT_CHECK(strcmp(sk.name, "a\x1b[2Jb") == 0);

    UT_CASE("rx: no size in block 0: whole blocks, up to the limit");
    rx_start(300);
    UT_CHECK(answer_is(C, 1));
    feed(h, mkhdr(h, "nosize", NULL));
    UT_CHECK(answer_is(ACKC, 2));
    UT_CHECK(sk.size == YMODEM_SIZE_UNKNOWN);
    feed(f, mkframe(f, 1, src, 128, 128, 0));
    UT_CHECK(answer_is(ACK, 1));
    feed(f, mkframe(f, 2, src + 128, 128, 128, 0));
    UT_CHECK(answer_is(ACK, 1));
    feed(f, mkframe(f, 3, src + 256, 128, 128, 0)); /* 384 > 300 */
    UT_CHECK(answer_is(CAN8BS8, sizeof(CAN8BS8)));
    drain();
    UT_CHECK_EQ(rx.err, -EFBIG);
    UT_CHECK_EQ(rx.reason, YM_R_OVERRUN);
    UT_CHECK_EQ(sk.n, 256);

    UT_CASE("rx: a sender sending past its announced size is stopped");
    rx_at_data("128");
    feed(f, mkframe(f, 1, src, 128, 128, 0));
    UT_CHECK(answer_is(ACK, 1));
    feed(f, mkframe(f, 2, src, 128, 128, 0));
    UT_CHECK(answer_is(CAN8BS8, sizeof(CAN8BS8)));
    drain();
    UT_CHECK_EQ(rx.err, -EFBIG);
    UT_CHECK_EQ(rx.reason, YM_R_OVERRUN);
    UT_CHECK(strstr(rx.why, "more than the 128 bytes it announced") != NULL);
    UT_CHECK_EQ(sk.n, 128);

    UT_CASE("rx: an EOT before the announced size: -EPIPE");
    rx_at_data("300");
    feed(f, mkframe(f, 1, src, 128, 128, 0));
    UT_CHECK(answer_is(ACK, 1));
    feed((const uint8_t[]){YMODEM_EOT}, 1);
    UT_CHECK(answer_is(NAK, 1));
    feed((const uint8_t[]){YMODEM_EOT}, 1);
    UT_CHECK(answer_is(CAN8BS8, sizeof(CAN8BS8)));
    drain();
    UT_CHECK_EQ(rx.err, -EPIPE);
    UT_CHECK_EQ(rx.reason, YM_R_SHORT);
    UT_CHECK(strstr(rx.why, "at 128 of 300 bytes") != NULL);

    UT_CASE("rx: one EOT, then a block: the EOT was noise");
    rx_at_data("200");
    feed((const uint8_t[]){YMODEM_EOT}, 1);
    UT_CHECK(answer_is(NAK, 1));
    feed(f, mkframe(f, 1, src, 128, 128, 0));
    UT_CHECK(answer_is(ACK, 1));
    UT_CHECK_EQ(rx.state, YM_RX_DATA);

    UT_CASE("rx: an XMODEM sender (block 1 first) is told to use YMODEM");
    rx_start(FILE_MAX);
    UT_CHECK(answer_is(C, 1));
    feed(f, mkframe(f, 1, src, 128, 128, 0));
    UT_CHECK(answer_is(CAN8BS8, sizeof(CAN8BS8)));
    drain();
    UT_CHECK_EQ(rx.err, -EPROTO);
    UT_CHECK_EQ(rx.reason, YM_R_XMODEM);
    UT_CHECK(strstr(rx.why, "YMODEM (sb") != NULL);

    UT_CASE("rx: a second file is refused with CAN; the first stays "
            "received (err 0)");
    rx_at_data("5");
    feed(f, mkframe(f, 1, src, 5, 128, 0x1a));
    UT_CHECK(answer_is(ACK, 1));
    feed((const uint8_t[]){YMODEM_EOT}, 1);
    UT_CHECK(answer_is(NAK, 1));
    feed((const uint8_t[]){YMODEM_EOT}, 1);
    UT_CHECK(answer_is(ACKC, 2));
    feed(h, mkhdr(h, "second", "10"));
    UT_CHECK(answer_is(CAN8BS8, sizeof(CAN8BS8)));
    drain();
    UT_CHECK_EQ(rx.err, 0);
    UT_CHECK_EQ(rx.reason, YM_R_DONE);
    UT_CHECK(strstr(rx.why, "'second', was refused (one file per session)") !=
             NULL);
    UT_CHECK_EQ(sk.n, 5);
    UT_CHECK_EQ(sk.begins, 1);
}

static void
test_timeouts(void)
{
    uint8_t f[200];
    int cs = 0;

    UT_CASE("rx: no sender: 'C' every 3 s, then -ETIMEDOUT after 60 s");
    rx_start(FILE_MAX);
    UT_CHECK(answer_is(C, 1));
    for (int i = 0; i < 100 && rx.state == YM_RX_START; i++) {
        const uint8_t *p;
        uint64_t t0 = now;

        quiet(100000);
        if (ymodem_rx_out(&rx, &p) == 1 && p[0] == YMODEM_C) {
            UT_CHECK_EQ(now - t0, YMODEM_C_MS);
            cs++;
        }
        if (rx.state == YM_RX_START)
            UT_CHECK(answer_is(C, 1));
    }
    UT_CHECK_EQ(cs, YMODEM_START_MS / YMODEM_C_MS - 1);
    UT_CHECK(answer_is(CAN8BS8, sizeof(CAN8BS8)));
    drain();
    UT_CHECK_EQ(rx.err, -ETIMEDOUT);
    UT_CHECK_EQ(rx.reason, YM_R_NO_START);

    UT_CASE("rx: noise before block 0 does not put off the 'C's");
    rx_start(FILE_MAX);
    UT_CHECK(answer_is(C, 1));
    for (int i = 0; i < 5; i++) {
        now += 1000;
        feed((const uint8_t *)"\r\n", 2);
    }
    ymodem_rx_tick(&rx, now);
    UT_CHECK(answer_is(C, 1));

    UT_CASE("rx: the sender goes quiet mid-file: NAK every 10 s, then "
            "-ETIMEDOUT");
    rx_at_data("1000");
    feed(f, mkframe(f, 1, src, 128, 128, 0));
    UT_CHECK(answer_is(ACK, 1));
    for (int i = 1; i <= 10; i++) {
        uint64_t t0 = now;

        quiet(100000);
        UT_CHECK_EQ(now - t0, YMODEM_BLOCK_MS);
        UT_CHECK(answer_is(NAK, 1));
    }
    quiet(100000);
    UT_CHECK(answer_is(CAN8BS8, sizeof(CAN8BS8)));
    drain();
    UT_CHECK_EQ(rx.err, -ETIMEDOUT);
    UT_CHECK_EQ(rx.reason, YM_R_TIMEOUT);
    UT_CHECK(strstr(rx.why, "block 2 failed 11 times (last: nothing within "
                            "10 s)") != NULL);

    UT_CASE("rx: the deadline runs from when the answer was written");
    rx_at_data("1000");
    feed(f, mkframe(f, 1, src, 128, 128, 0));
    now += 60000; /* a slow consumer holds the ACK back */
    UT_CHECK_EQ(ymodem_rx_wait(&rx, now), 0);
    UT_CHECK(answer_is(ACK, 1));
    UT_CHECK_EQ(ymodem_rx_wait(&rx, now), YMODEM_BLOCK_MS);

    UT_CASE("rx: waiting for the batch's end, an EOT again (our ACK lost) "
            "restarts the wait");
    rx_at_data("5");
    feed(f, mkframe(f, 1, src, 5, 128, 0x1a));
    UT_CHECK(answer_is(ACK, 1));
    feed((const uint8_t[]){YMODEM_EOT}, 1);
    UT_CHECK(answer_is(NAK, 1));
    feed((const uint8_t[]){YMODEM_EOT}, 1);
    UT_CHECK(answer_is(ACKC, 2));
    quiet(100000);
    UT_CHECK(answer_is(C, 1));
    now += 1000;
    feed((const uint8_t[]){YMODEM_EOT}, 1);
    UT_CHECK(answer_is(ACKC, 2));
    quiet(100000);
    UT_CHECK(answer_is(C, 1));
    UT_CHECK(!ymodem_rx_done(&rx));
    feed(f, mkhdr_raw(f, "", 0, 128));
    UT_CHECK(answer_is(ACK, 1));
    UT_CHECK(ymodem_rx_done(&rx) && rx.err == 0);

    UT_CASE("rx: a sender that never ends the batch: done after two 'C's");
    rx_at_data("5");
    feed(f, mkframe(f, 1, src, 5, 128, 0x1a));
    UT_CHECK(answer_is(ACK, 1));
    feed((const uint8_t[]){YMODEM_EOT}, 1);
    UT_CHECK(answer_is(NAK, 1));
    feed((const uint8_t[]){YMODEM_EOT}, 1);
    UT_CHECK(answer_is(ACKC, 2));
    quiet(100000);
    UT_CHECK(answer_is(C, 1));
    quiet(100000);
    UT_CHECK(ymodem_rx_done(&rx));
    UT_CHECK_EQ(rx.err, 0);
    UT_CHECK(strstr(rx.why, "did not end the batch") != NULL);
}

/* ---- the sender against a receiver made here ----------------------------- */

static struct ymodem_tx tx;
static size_t rd_pos, rd_len;
static int rd_err;

static int
rd(void *arg, uint8_t *p, size_t n)
{
    size_t k;

    (void)arg;
    if (rd_err != 0 && rd_pos >= 1024)
        return rd_err;
    k = rd_len - rd_pos < n ? rd_len - rd_pos : n;
    if (k > 300)
        k = 300; /* short reads: the sender asks again */
    memcpy(p, src + rd_pos, k);
    rd_pos += k;
    return (int)k;
}

static const struct ymodem_tx_ops rd_ops = {rd, sk_event, &sk};

static void
tx_start(size_t size, size_t have)
{
    sk_reset();
    rd_pos = 0;
    rd_len = have;
    rd_err = 0;
    now = 1000;
    UT_CHECK_EQ(ymodem_tx_init(&tx, &rd_ops, "out.bin", size, now), 0);
}

/* What the sender sends now: a frame's number and data length, EOT (-1),
 * CAN (-2), or nothing (-3); the frame's data into d. */
static int
tx_frame(uint8_t *d, size_t *len)
{
    const uint8_t *p;
    size_t k = ymodem_tx_out(&tx, &p);

    *len = 0;
    if (k == 0)
        return -3;
    ymodem_tx_sent(&tx, now);
    if (k == 1 && p[0] == YMODEM_EOT)
        return -1;
    if (k == YMODEM_CANCEL_LEN && memcmp(p, CAN8BS8, k) == 0)
        return -2;
    if ((k != 133 && k != 1029) || (p[0] != YMODEM_SOH && p[0] != YMODEM_STX))
        return -4;
    *len = k - 5;
    if ((uint8_t)(p[1] + p[2]) != 0xff ||
        ymodem_crc16(0, p + 3, *len) != (uint16_t)(p[k - 2] << 8 | p[k - 1]))
        return -5;
    memcpy(d, p + 3, *len);
    return p[1];
}

static void
txfeed(uint8_t c)
{
    ymodem_tx_feed(&tx, &c, 1, now);
}

static void
test_tx(void)
{
    uint8_t d[1024];
    size_t len;

    UT_CASE("tx: block 0 on 'C' ('name NUL size 0 0'), 1K blocks, the last "
            "in 128, EOT again on NAK, the empty block 0");
    tx_start(2100, 2100);
    UT_CHECK_EQ(tx_frame(d, &len), -3); /* waits for 'C' */
    txfeed(YMODEM_NAK);                 /* a checksum receiver: ignored */
    UT_CHECK_EQ(tx_frame(d, &len), -3);
    txfeed(YMODEM_C);
    UT_CHECK_EQ(tx_frame(d, &len), 0);
    UT_CHECK_EQ(len, 128);
    UT_CHECK(memcmp(d,
                    "out.bin\0"
                    "2100 0 0\0",
                    17) == 0);
    txfeed(YMODEM_ACK);
    UT_CHECK_EQ(tx_frame(d, &len), -3);
    txfeed(YMODEM_C);
    UT_CHECK_EQ(tx_frame(d, &len), 1);
    UT_CHECK_EQ(len, 1024);
    UT_CHECK(memcmp(d, src, 1024) == 0);
    txfeed(YMODEM_NAK);
    UT_CHECK_EQ(tx_frame(d, &len), 1); /* again */
    txfeed(YMODEM_ACK);
    UT_CHECK_EQ(tx_frame(d, &len), 2);
    UT_CHECK(memcmp(d, src + 1024, 1024) == 0);
    txfeed(YMODEM_ACK);
    UT_CHECK_EQ(tx_frame(d, &len), 3);
    UT_CHECK_EQ(len, 128);
    UT_CHECK(memcmp(d, src + 2048, 52) == 0 && d[52] == YMODEM_PAD &&
             d[127] == YMODEM_PAD);
    txfeed(YMODEM_ACK);
    UT_CHECK_EQ(tx_frame(d, &len), -1);
    txfeed(YMODEM_NAK);
    UT_CHECK_EQ(tx_frame(d, &len), -1);
    txfeed(YMODEM_ACK);
    UT_CHECK_EQ(tx_frame(d, &len), -3);
    txfeed(YMODEM_C);
    UT_CHECK_EQ(tx_frame(d, &len), 0);
    UT_CHECK(d[0] == 0 && d[127] == 0);
    txfeed(YMODEM_ACK);
    UT_CHECK(ymodem_tx_done(&tx));
    UT_CHECK_EQ(tx.err, 0);
    UT_CHECK_EQ(tx.sent, 2100);
    UT_CHECK(strcmp(tx.why, "sent 'out.bin', 2100 bytes in 3 blocks") == 0);

    UT_CASE("tx: 128-byte blocks when asked");
    tx_start(300, 300);
    tx.block = 128;
    txfeed(YMODEM_C);
    UT_CHECK_EQ(tx_frame(d, &len), 0);
    txfeed(YMODEM_ACK);
    txfeed(YMODEM_C);
    UT_CHECK_EQ(tx_frame(d, &len), 1);
    UT_CHECK_EQ(len, 128);

    UT_CASE("tx: the ACK of block 0 and its 'C' in one read");
    tx_start(10, 10);
    txfeed(YMODEM_C);
    UT_CHECK_EQ(tx_frame(d, &len), 0);
    ymodem_tx_feed(&tx, ACKC, 2, now);
    UT_CHECK_EQ(tx_frame(d, &len), 1);
    UT_CHECK(memcmp(d, src, 10) == 0);

    UT_CASE("tx: stale answers in one read do not send a block twice");
    tx_start(10, 10);
    ymodem_tx_feed(&tx, (const uint8_t *)"CCC", 3, now);
    UT_CHECK_EQ(tx_frame(d, &len), 0);
    UT_CHECK_EQ(tx_frame(d, &len), -3);

    UT_CASE("tx: the receiver's CAN CAN: -ECANCELED, nothing sent");
    tx_start(3000, 3000);
    txfeed(YMODEM_C);
    tx_frame(d, &len);
    ymodem_tx_feed(&tx, ACKC, 2, now);
    tx_frame(d, &len);
    ymodem_tx_feed(&tx, (const uint8_t *)"\x18\x18\x18", 3, now);
    UT_CHECK_EQ(tx.state, YM_TX_CANCEL);
    UT_CHECK_EQ(tx_frame(d, &len), -3);
    for (int i = 0; i < 10 && !ymodem_tx_done(&tx); i++) {
        now += ymodem_tx_wait(&tx, now);
        ymodem_tx_tick(&tx, now);
    }
    UT_CHECK(ymodem_tx_done(&tx));
    UT_CHECK_EQ(tx.err, -ECANCELED);
    UT_CHECK_EQ(tx.reason, YM_R_PEER_CANCEL);

    UT_CASE("tx: a read error cancels the receiver with it");
    tx_start(3000, 3000);
    rd_err = -EIO;
    txfeed(YMODEM_C);
    tx_frame(d, &len);
    ymodem_tx_feed(&tx, ACKC, 2, now);
    UT_CHECK_EQ(tx_frame(d, &len), 1);
    txfeed(YMODEM_ACK);
    UT_CHECK_EQ(tx_frame(d, &len), -2);
    UT_CHECK_EQ(tx.err, -EIO);
    UT_CHECK_EQ(tx.reason, YM_R_READ);

    UT_CASE("tx: a file shorter than announced: -EPIPE, CAN");
    tx_start(3000, 1500);
    txfeed(YMODEM_C);
    tx_frame(d, &len);
    ymodem_tx_feed(&tx, ACKC, 2, now);
    UT_CHECK_EQ(tx_frame(d, &len), 1);
    txfeed(YMODEM_ACK);
    UT_CHECK_EQ(tx_frame(d, &len), -2);
    UT_CHECK_EQ(tx.err, -EPIPE);
    UT_CHECK_EQ(tx.reason, YM_R_SHORT);
    UT_CHECK(strstr(tx.why, "ended at byte 1500 of the 3000") != NULL);

    UT_CASE("tx: no receiver: -ETIMEDOUT after 60 s; a NAK-only receiver "
            "is named");
    tx_start(10, 10);
    txfeed(YMODEM_NAK);
    UT_CHECK_EQ(ymodem_tx_wait(&tx, now), YMODEM_START_MS);
    now += YMODEM_START_MS;
    ymodem_tx_tick(&tx, now);
    UT_CHECK_EQ(tx_frame(d, &len), -2);
    UT_CHECK_EQ(tx.err, -ETIMEDOUT);
    UT_CHECK_EQ(tx.reason, YM_R_NO_START);
    UT_CHECK(strstr(tx.why, "wants checksums") != NULL);

    UT_CASE("tx: a receiver that NAKs everything: 11 tries, then -EIO");
    tx_start(10, 10);
    txfeed(YMODEM_C);
    tx_frame(d, &len);
    ymodem_tx_feed(&tx, ACKC, 2, now);
    UT_CHECK_EQ(tx_frame(d, &len), 1);
    for (int i = 0; i < 10; i++) {
        txfeed(YMODEM_NAK);
        UT_CHECK_EQ(tx_frame(d, &len), 1);
    }
    txfeed(YMODEM_NAK);
    UT_CHECK_EQ(tx_frame(d, &len), -2);
    UT_CHECK_EQ(tx.err, -EIO);
    UT_CHECK_EQ(tx.reason, YM_R_RETRIES);

    UT_CASE("tx: a receiver gone quiet: resent every 10 s, then "
            "-ETIMEDOUT");
    tx_start(10, 10);
    txfeed(YMODEM_C);
    tx_frame(d, &len);
    for (int i = 0; i < 10; i++) {
        UT_CHECK_EQ(ymodem_tx_wait(&tx, now), YMODEM_BLOCK_MS);
        now += YMODEM_BLOCK_MS;
        ymodem_tx_tick(&tx, now);
        UT_CHECK_EQ(tx_frame(d, &len), 0);
    }
    now += YMODEM_BLOCK_MS;
    ymodem_tx_tick(&tx, now);
    UT_CHECK_EQ(tx_frame(d, &len), -2);
    UT_CHECK_EQ(tx.err, -ETIMEDOUT);

    UT_CASE("tx: the operator's cancel: CAN x8 BS x8, its error");
    tx_start(10, 10);
    txfeed(YMODEM_C);
    tx_frame(d, &len);
    ymodem_tx_cancel(&tx, -EINTR, "stopped", now);
    UT_CHECK_EQ(tx_frame(d, &len), -2);
    for (int i = 0; i < 10 && !ymodem_tx_done(&tx); i++) {
        now += ymodem_tx_wait(&tx, now);
        ymodem_tx_tick(&tx, now);
    }
    UT_CHECK_EQ(tx.err, -EINTR);
    UT_CHECK_EQ(tx.reason, YM_R_CANCEL);

    UT_CASE("tx: 'C' where the EOT's ACK was awaited: the ACK was lost, the "
            "batch ends");
    tx_start(10, 10);
    txfeed(YMODEM_C);
    tx_frame(d, &len);
    ymodem_tx_feed(&tx, ACKC, 2, now);
    UT_CHECK_EQ(tx_frame(d, &len), 1);
    txfeed(YMODEM_ACK);
    UT_CHECK_EQ(tx_frame(d, &len), -1);
    txfeed(YMODEM_C);
    UT_CHECK_EQ(tx_frame(d, &len), 0);
    UT_CHECK_EQ(d[0], 0);
    txfeed(YMODEM_ACK);
    UT_CHECK(ymodem_tx_done(&tx) && tx.err == 0);

    UT_CASE("tx: a cancel once the EOT is ACKed: delivered, no CAN");
    tx_start(10, 10);
    txfeed(YMODEM_C);
    tx_frame(d, &len);
    ymodem_tx_feed(&tx, ACKC, 2, now);
    UT_CHECK_EQ(tx_frame(d, &len), 1);
    txfeed(YMODEM_ACK);
    UT_CHECK_EQ(tx_frame(d, &len), -1);
    txfeed(YMODEM_ACK);
    ymodem_tx_cancel(&tx, -EINTR, NULL, now);
    UT_CHECK_EQ(tx_frame(d, &len), -3);
    UT_CHECK(ymodem_tx_done(&tx));
    UT_CHECK_EQ(tx.err, 0);
    UT_CHECK(strstr(tx.why, "the end of the batch was cancelled") != NULL);

    UT_CASE("tx: a name too long or empty is refused at init");
    {
        char name[300];

        memset(name, 'n', 256);
        name[256] = 0;
        UT_CHECK_EQ(ymodem_tx_init(&tx, &rd_ops, name, 1, now), -EINVAL);
        UT_CHECK(ymodem_tx_done(&tx));
        UT_CHECK_EQ(ymodem_tx_init(&tx, &rd_ops, "", 1, now), -EINVAL);
        name[255] = 0; /* 255: a 1K block 0 */
        UT_CHECK_EQ(ymodem_tx_init(&tx, &rd_ops, name, 1, now), 0);
        txfeed(YMODEM_C);
        UT_CHECK_EQ(tx_frame(d, &len), 0);
        UT_CHECK_EQ(len, 1024);
    }
}

/* ---- the two machines over a simulated line ------------------------------ */

/* A line between a sender and a receiver with faults: each direction
 * corrupts one byte of a write with probability 1/corrupt, loses a
 * whole write with 1/lose (0: never), and delivers what it carries in
 * pieces of random size.  An answer (ACK, NAK, C, CAN) is corrupted
 * into a byte that means nothing unless `any`: one turned into another
 * (NAK into ACK) is XMODEM's known blind spot, a loss of sync that only
 * the give-up can end. */
struct line {
    int corrupt, lose, any;
    unsigned drop_answer, answers; /* lose the receiver's n-th write */
    uint8_t to_rx[4096], to_tx[64];
    size_t n_rx, n_tx;
    unsigned faults;
};

static void
carry(struct line *l, uint8_t *q, size_t *qn, size_t cap, const uint8_t *p,
      size_t n)
{
    if (l->lose && rnd() % (unsigned)l->lose == 0) {
        l->faults++;
        return;
    }
    if (q == l->to_tx && ++l->answers == l->drop_answer) {
        l->faults++;
        return;
    }
    if (*qn + n > cap)
        n = cap - *qn; /* an overrun loses the tail */
    memcpy(q + *qn, p, n);
    if (l->corrupt && n > 0 && rnd() % (unsigned)l->corrupt == 0) {
        q[*qn + rnd() % n] ^=
            q == l->to_tx && !l->any ? 0x80 : (uint8_t)(1 + rnd() % 255);
        l->faults++;
    }
    *qn += n;
}

static size_t
take(uint8_t *q, size_t *qn, uint8_t *out)
{
    size_t k = 1 + rnd() % (*qn < 700 ? *qn : 700);

    memcpy(out, q, k);
    memmove(q, q + k, *qn - k);
    *qn -= k;
    return k;
}

/* Run both until both are done (or time runs out): 0 when both are. */
static int
lockstep(struct ymodem_tx *t, struct ymodem_rx *r, struct line *l,
         uint64_t limit_ms)
{
    uint64_t end = now + limit_ms;
    uint8_t buf[1100];

    while (now < end) {
        const uint8_t *p;
        size_t k;
        uint32_t w;

        if ((k = ymodem_tx_out(t, &p)) > 0) {
            carry(l, l->to_rx, &l->n_rx, sizeof(l->to_rx), p, k);
            ymodem_tx_sent(t, now);
        }
        if ((k = ymodem_rx_out(r, &p)) > 0) {
            carry(l, l->to_tx, &l->n_tx, sizeof(l->to_tx), p, k);
            ymodem_rx_sent(r, now);
        }
        if (ymodem_tx_done(t) && ymodem_rx_done(r))
            return 0;
        now += 1 + rnd() % 3;
        if (l->n_rx > 0) {
            k = take(l->to_rx, &l->n_rx, buf);
            ymodem_rx_feed(r, buf, k, now);
            continue;
        }
        if (l->n_tx > 0) {
            k = take(l->to_tx, &l->n_tx, buf);
            ymodem_tx_feed(t, buf, k, now);
            continue;
        }
        w = ymodem_rx_wait(r, now);
        if (!ymodem_tx_done(t) && ymodem_tx_wait(t, now) < w)
            w = ymodem_tx_wait(t, now);
        if (ymodem_rx_done(r))
            w = ymodem_tx_wait(t, now);
        now += w;
        ymodem_rx_tick(r, now);
        ymodem_tx_tick(t, now);
    }
    return -ETIMEDOUT;
}

static void
test_loopback(void)
{
    static const size_t sizes[] = {0,    1,    127,  128,   129,   1023,
                                   1024, 1025, 5000, 65536, 100003};
    struct line l;

    for (int blk = 0; blk < 2; blk++) {
        int bad = 0;

        UT_CASE(blk ? "loopback: tx to rx, 128-byte blocks, sizes 0 to 100003"
                    : "loopback: tx to rx, 1K blocks, sizes 0 to 100003");
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            memset(&l, 0, sizeof(l));
            rx_start(FILE_MAX);
            rd_pos = 0;
            rd_len = sizes[i];
            rd_err = 0;
            ymodem_tx_init(&tx, &rd_ops, "loop.bin", sizes[i], now);
            if (blk)
                tx.block = 128;
            if (lockstep(&tx, &rx, &l, 600000) != 0 || rx.err != 0 ||
                tx.err != 0 || sk.n != sizes[i] ||
                memcmp(sk.got, src, sizes[i]) != 0 ||
                strcmp(sk.name, "loop.bin") != 0 || sk.size != sizes[i] ||
                rx.errors != 0 || tx.errors != 1 /* the EOT NAK */) {
                printf("  size %zu: rx '%s' (%d), tx '%s' (%d), got %zu, "
                       "errors %u/%u\n",
                       sizes[i], rx.why, rx.err, tx.why, tx.err, sk.n,
                       rx.errors, tx.errors);
                bad = 1;
            }
        }
        UT_CHECK(!bad);
    }

    UT_CASE("loopback: the ACK of block 3 lost: the sender's timeout sends "
            "it again, the receiver ACKs the copy and takes it once");
    memset(&l, 0, sizeof(l));
    l.drop_answer = 5; /* 'C', ACK C, ACK 1, ACK 2, ACK 3 */
    rx_start(FILE_MAX);
    rd_pos = 0;
    rd_len = 5000;
    ymodem_tx_init(&tx, &rd_ops, "lost", rd_len, now);
    UT_CHECK_EQ(lockstep(&tx, &rx, &l, 600000), 0);
    UT_CHECK_EQ(rx.err, 0);
    UT_CHECK_EQ(tx.err, 0);
    UT_CHECK_EQ(sk.n, 5000);
    UT_CHECK(memcmp(sk.got, src, 5000) == 0);
    UT_CHECK_EQ(rx.errors, 1); /* the copy */
    UT_CHECK_EQ(tx.errors, 2); /* its timeout, the EOT's NAK */
    UT_CHECK_EQ(l.faults, 1);

    UT_CASE("loopback: a noisy line (corrupted and lost writes both ways): "
            "the file arrives whole, each time");
    {
        int bad = 0;
        unsigned faults = 0;

        for (int run = 0; run < 30; run++) {
            memset(&l, 0, sizeof(l));
            l.corrupt = 20;
            l.lose = 30;
            rx_start(FILE_MAX);
            rd_pos = 0;
            rd_len = 20000 + (size_t)run * 517;
            rd_err = 0;
            ymodem_tx_init(&tx, &rd_ops, "noisy", rd_len, now);
            if (lockstep(&tx, &rx, &l, 3600000) != 0 || rx.err != 0 ||
                sk.n != rd_len || memcmp(sk.got, src, rd_len) != 0) {
                printf("  run %d: rx '%s', tx '%s', got %zu of %zu\n", run,
                       rx.why, tx.why, sk.n, rd_len);
                bad = 1;
            }
            faults += l.faults;
        }
        UT_CHECK(!bad);
        UT_CHECK(faults > 50); /* the line did misbehave */
    }

    UT_CASE("loopback: a line too bad to use ends both sides cleanly, and "
            "nothing bad is handed over");
    {
        int bad = 0;

        for (int run = 0; run < 20; run++) {
            memset(&l, 0, sizeof(l));
            l.corrupt = 2;
            l.lose = 2;
            l.any = 1;
            rx_start(FILE_MAX);
            rd_pos = 0;
            rd_len = 50000;
            ymodem_tx_init(&tx, &rd_ops, "bad", rd_len, now);
            if (lockstep(&tx, &rx, &l, 7200000) != 0 ||
                memcmp(sk.got, src, sk.n) != 0 ||
                (rx.err == 0 && sk.n != rd_len)) {
                printf("  run %d: rx '%s', tx '%s'\n", run, rx.why, tx.why);
                bad = 1;
            }
        }
        UT_CHECK(!bad);
    }
}

/* ---- the I/O loops and the pull side, over the line ---------------------- */

/* struct ymodem_io for a receiver whose sender (tx) is simulated inside
 * the callbacks, or the other way round. */
struct sim {
    struct ymodem_tx *peer_tx;
    struct ymodem_rx *peer_rx;
    struct line l;
    int polls, poll_err_at;
    int write_err;
};

static void
sim_collect(struct sim *s)
{
    const uint8_t *p;
    size_t k;

    if (s->peer_tx != NULL && (k = ymodem_tx_out(s->peer_tx, &p)) > 0) {
        carry(&s->l, s->l.to_rx, &s->l.n_rx, sizeof(s->l.to_rx), p, k);
        ymodem_tx_sent(s->peer_tx, now);
    }
    if (s->peer_rx != NULL && (k = ymodem_rx_out(s->peer_rx, &p)) > 0) {
        carry(&s->l, s->l.to_tx, &s->l.n_tx, sizeof(s->l.to_tx), p, k);
        ymodem_rx_sent(s->peer_rx, now);
    }
}

static int
sim_read(void *arg, uint8_t *p, size_t cap, int timeout_ms)
{
    struct sim *s = arg;
    uint64_t end = now + (uint64_t)timeout_ms;
    uint8_t *q = s->peer_tx ? s->l.to_rx : s->l.to_tx;
    size_t *qn = s->peer_tx ? &s->l.n_rx : &s->l.n_tx;

    for (;;) {
        uint32_t w;

        sim_collect(s);
        if (*qn > 0) {
            uint8_t tmp[1100];
            size_t k = take(q, qn, tmp);

            if (k > cap) { /* put back what does not fit */
                memmove(q + (k - cap), q, *qn);
                memcpy(q, tmp + cap, k - cap);
                *qn += k - cap;
                k = cap;
            }
            memcpy(p, tmp, k);
            now += 1;
            return (int)k;
        }
        w = s->peer_tx ? ymodem_tx_wait(s->peer_tx, now)
                       : ymodem_rx_wait(s->peer_rx, now);
        if ((s->peer_tx ? ymodem_tx_done(s->peer_tx)
                        : ymodem_rx_done(s->peer_rx)) ||
            now + w > end) {
            now = end;
            return 0;
        }
        now += w;
        if (s->peer_tx)
            ymodem_tx_tick(s->peer_tx, now);
        else
            ymodem_rx_tick(s->peer_rx, now);
    }
}

static int
sim_write(void *arg, const uint8_t *p, size_t n)
{
    struct sim *s = arg;

    if (s->write_err)
        return s->write_err;
    if (s->peer_tx != NULL) {
        carry(&s->l, s->l.to_tx, &s->l.n_tx, sizeof(s->l.to_tx), p, n);
        while (s->l.n_tx > 0) {
            uint8_t tmp[1100];
            size_t k = take(s->l.to_tx, &s->l.n_tx, tmp);

            ymodem_tx_feed(s->peer_tx, tmp, k, now);
        }
    } else {
        carry(&s->l, s->l.to_rx, &s->l.n_rx, sizeof(s->l.to_rx), p, n);
        while (s->l.n_rx > 0) {
            uint8_t tmp[1100];
            size_t k = take(s->l.to_rx, &s->l.n_rx, tmp);

            ymodem_rx_feed(s->peer_rx, tmp, k, now);
        }
    }
    sim_collect(s);
    return (int)n;
}

static uint64_t
sim_now(void *arg)
{
    (void)arg;
    return now;
}

static int
sim_poll(void *arg)
{
    struct sim *s = arg;

    s->polls++;
    return s->poll_err_at && s->polls >= s->poll_err_at ? -EINTR : 0;
}

/* The receiver is over: let the sender's time run out too (its last
 * answer may have been lost on the way; it then gives up the batch's
 * end on its own, the file delivered). */
static int
peer_over(struct ymodem_tx *t)
{
    const uint8_t *p;

    for (int i = 0; i < 100 && !ymodem_tx_done(t); i++) {
        if (ymodem_tx_out(t, &p) > 0)
            ymodem_tx_sent(t, now); /* into the void */
        now += ymodem_tx_wait(t, now);
        ymodem_tx_tick(t, now);
    }
    return ymodem_tx_done(t) && t->err == 0;
}

static void
test_io(void)
{
    static struct sim s;
    static struct ymodem_tx peer;
    struct ymodem_io io = {sim_read, sim_write, sim_now, sim_poll, &s};

    UT_CASE("rx_run: a file over the I/O callbacks, a noisy line");
    memset(&s, 0, sizeof(s));
    s.l.corrupt = 20;
    s.peer_tx = &peer;
    rx_start(FILE_MAX);
    rd_pos = 0;
    rd_len = 33333;
    ymodem_tx_init(&peer, &rd_ops, "run.bin", rd_len, now);
    UT_CHECK_EQ(ymodem_rx_run(&rx, &io), 0);
    UT_CHECK(peer_over(&peer));
    UT_CHECK_EQ(sk.n, 33333);
    UT_CHECK(memcmp(sk.got, src, 33333) == 0);
    UT_CHECK(s.polls > 0);

    UT_CASE("rx_run: poll's error cancels the sender with it");
    memset(&s, 0, sizeof(s));
    s.peer_tx = &peer;
    s.poll_err_at = 20;
    rx_start(FILE_MAX);
    rd_pos = 0;
    rd_len = 100000;
    ymodem_tx_init(&peer, &rd_ops, "run.bin", rd_len, now);
    UT_CHECK_EQ(ymodem_rx_run(&rx, &io), -EINTR);
    UT_CHECK_EQ(rx.reason, YM_R_CANCEL);
    UT_CHECK(ymodem_tx_done(&peer) || peer.state == YM_TX_CANCEL);
    UT_CHECK_EQ(peer.reason, YM_R_PEER_CANCEL);

    UT_CASE("rx_run: a line that fails ends the session at once");
    memset(&s, 0, sizeof(s));
    s.peer_tx = &peer;
    s.write_err = -EIO;
    rx_start(FILE_MAX);
    ymodem_tx_init(&peer, &rd_ops, "run.bin", 10, now);
    UT_CHECK_EQ(ymodem_rx_run(&rx, &io), -EIO);
    UT_CHECK_EQ(rx.reason, YM_R_LINE);

    UT_CASE("tx_run: a file over the I/O callbacks, a noisy line");
    memset(&s, 0, sizeof(s));
    s.l.corrupt = 20;
    s.peer_rx = &rx;
    rx_start(FILE_MAX);
    rd_pos = 0;
    rd_len = 44444;
    ymodem_tx_init(&tx, &rd_ops, "txrun.bin", rd_len, now);
    sim_collect(&s); /* the receiver's first 'C' */
    UT_CHECK_EQ(ymodem_tx_run(&tx, &io), 0);
    UT_CHECK(ymodem_rx_done(&rx) && rx.err == 0);
    UT_CHECK_EQ(sk.n, 44444);
    UT_CHECK(memcmp(sk.got, src, 44444) == 0);
}

static void
test_pull(void)
{
    static struct sim s;
    static struct ymodem_tx peer;
    static struct ymodem_pull pl;
    static uint8_t got[FILE_MAX];
    struct ymodem_io io = {sim_read, sim_write, sim_now, NULL, &s};
    size_t n = 0;
    int r;

    UT_CASE("pull: a reader takes the file in pieces of any size, then 0");
    memset(&s, 0, sizeof(s));
    s.l.corrupt = 30;
    s.peer_tx = &peer;
    sk_reset();
    now = 1000;
    rd_pos = 0;
    rd_len = 77777;
    ymodem_pull_init(&pl, &io, &sk_ops, FILE_MAX);
    ymodem_tx_init(&peer, &rd_ops, "pull.kbn", rd_len, now);
    while ((r = ymodem_pull_read(&pl, got + n, 1 + rnd() % 3000)) > 0)
        n += (size_t)r;
    UT_CHECK_EQ(r, 0);
    UT_CHECK_EQ(n, 77777);
    UT_CHECK(memcmp(got, src, n) == 0);
    UT_CHECK_EQ(sk.begins, 1); /* the caller's begin was called */
    UT_CHECK_EQ(ymodem_pull_end(&pl, 0, NULL), 0);
    UT_CHECK_EQ(pl.extra, 0);
    UT_CHECK(peer_over(&peer));

    UT_CASE("pull: the ACK waits for the reader: the sender never runs "
            "ahead by more than a block");
    memset(&s, 0, sizeof(s));
    s.peer_tx = &peer;
    now = 1000;
    rd_pos = 0;
    rd_len = 10000;
    ymodem_pull_init(&pl, &io, NULL, FILE_MAX);
    ymodem_tx_init(&peer, &rd_ops, "slow", rd_len, now);
    n = 0;
    while ((r = ymodem_pull_read(&pl, got + n, 100)) > 0) {
        n += (size_t)r;
        UT_CHECK(peer.sent <= n + 1024);
        now += 20000; /* the reader is slow: no timeout comes of it */
    }
    UT_CHECK_EQ(r, 0);
    UT_CHECK_EQ(n, 10000);
    UT_CHECK_EQ(peer.errors, 1); /* the EOT NAK, nothing else */
    ymodem_pull_end(&pl, 0, NULL);

    UT_CASE("pull: a reader that stops early: the rest is received, "
            "dropped and counted");
    memset(&s, 0, sizeof(s));
    s.peer_tx = &peer;
    rd_pos = 0;
    rd_len = 9000;
    ymodem_pull_init(&pl, &io, NULL, FILE_MAX);
    ymodem_tx_init(&peer, &rd_ops, "tail", rd_len, now);
    UT_CHECK_EQ(ymodem_pull_read(&pl, got, 3000), 1024);
    UT_CHECK_EQ(ymodem_pull_read(&pl, got, 1000), 1000);
    UT_CHECK_EQ(ymodem_pull_end(&pl, 0, NULL), 0);
    UT_CHECK_EQ(pl.extra, 9000 - 2024);
    UT_CHECK(peer_over(&peer));

    UT_CASE("pull: a reader that fails cancels the sender with its words");
    memset(&s, 0, sizeof(s));
    s.peer_tx = &peer;
    rd_pos = 0;
    rd_len = 9000;
    ymodem_pull_init(&pl, &io, NULL, FILE_MAX);
    ymodem_tx_init(&peer, &rd_ops, "bad", rd_len, now);
    UT_CHECK_EQ(ymodem_pull_read(&pl, got, 3000), 1024);
    UT_CHECK_EQ(ymodem_pull_end(&pl, -EPERM, "signatures: 1 of 2"), -EPERM);
    UT_CHECK(strcmp(pl.rx.why, "signatures: 1 of 2") == 0);
    UT_CHECK_EQ(peer.reason, YM_R_PEER_CANCEL);

    UT_CASE("pull: a refused session reports at once, ends through "
            "pull_end");
    memset(&s, 0, sizeof(s));
    s.peer_tx = &peer;
    rd_pos = 0;
    rd_len = 9000;
    ymodem_pull_init(&pl, &io, NULL, 5000);
    ymodem_tx_init(&peer, &rd_ops, "big", rd_len, now);
    UT_CHECK_EQ(ymodem_pull_read(&pl, got, 3000), -EFBIG);
    UT_CHECK_EQ(pl.rx.state, YM_RX_CANCEL);
    UT_CHECK_EQ(ymodem_pull_end(&pl, -EFBIG, "ignored"), -EFBIG);
    UT_CHECK(ymodem_rx_done(&pl.rx));
    UT_CHECK(strstr(pl.rx.why, "9000 bytes; at most 5000") != NULL);
    UT_CHECK_EQ(peer.reason, YM_R_PEER_CANCEL);
}

int
main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    ut_suite = "ymodem";
    if (getenv("YMODEM_SEED") != NULL) /* the random cases, otherwise */
        rnd_state = (uint32_t)strtoul(getenv("YMODEM_SEED"), NULL, 10);
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines out before a sanitizer stop */
    fill_src();
    test_crc();
    test_sessions();
    test_splits();
    test_crc_error();
    test_duplicates();
    test_cancels();
    test_refusals();
    test_timeouts();
    test_tx();
    test_loopback();
    test_io();
    test_pull();
    return ut_done();
}
