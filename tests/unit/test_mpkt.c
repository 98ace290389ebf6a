/*
 * tests/unit/test_mpkt.c - Mochimo's packet (sync/mpkt.h): the layout
 * byte by byte, the CRC check value, a stream of packets fed in every
 * piece size, and every refusal: wrong network, oversize for the
 * opcode (before a payload byte is taken), bad CRC, bad trailer, a
 * refused header; truncated input is simply incomplete.
 */
#include <string.h>

#include "lib/crc16.h"
#include "sync/mpkt.h"
#include "ut.h"

struct sink {
    long most;
    uint8_t body[70000];
    size_t body_len;
    unsigned packets, stop_after;
    struct mpkt last;
};

static long
s_head(void *arg, const struct mpkt *h)
{
    struct sink *k = arg;

    (void)h;
    return k->most;
}

static int
s_body(void *arg, const uint8_t *p, size_t n)
{
    struct sink *k = arg;

    memcpy(k->body + k->body_len, p, n);
    k->body_len += n;
    return 0;
}

static int
s_end(void *arg, const struct mpkt *h)
{
    struct sink *k = arg;

    k->last = *h;
    return ++k->packets == k->stop_after;
}

static void
rx_start(struct mpkt_rx *rx, struct sink *k, long most)
{
    struct mpkt_rx_ops ops = {s_head, s_body, s_end, k};

    memset(k, 0, sizeof(*k));
    k->most = most;
    mpkt_rx_init(rx, &ops);
}

static struct mpkt
hello(void)
{
    struct mpkt h;

    memset(&h, 0, sizeof(h));
    h.version = MPKT_VERSION;
    h.net = MPKT_NET;
    h.id1 = 0x1234;
    h.op = MOP_HELLO;
    h.cblock = 0x0102030405060708ull;
    h.blocknum = 42;
    for (int i = 0; i < 32; i++) {
        h.cblockhash[i] = (uint8_t)i;
        h.pblockhash[i] = (uint8_t)(0x80 + i);
        h.weight[i] = (uint8_t)(0x40 + i);
    }
    return h;
}

static void
test_layout(void)
{
    static uint8_t b[MPKT_HDR + 8 + MPKT_TAIL];
    struct mpkt h = hello(), g;
    uint8_t pay[8] = "payload";
    size_t n;

    UT_CASE("crc16: 'a' is 0x7c87 (the reference's), '123456789' 0x31c3");
    UT_CHECK_EQ(lib_crc16(0, "a", 1), 0x7c87);
    UT_CHECK_EQ(lib_crc16(0, "123456789", 9), 0x31c3);

    UT_CASE("layout: fields at their offsets, little-endian, trailer cd ab");
    h.len = 8;
    n = mpkt_encode(b, &h, pay);
    UT_CHECK_EQ(n, MPKT_HDR + 8 + MPKT_TAIL);
    UT_CHECK(b[0] == 5 && b[2] == 0x39 && b[3] == 0x05);
    UT_CHECK(b[4] == 0x34 && b[5] == 0x12 && b[8] == 1 && b[9] == 0);
    UT_CHECK(b[10] == 0x08 && b[17] == 0x01 && b[18] == 42);
    UT_CHECK(b[26] == 0 && b[58] == 0x80 && b[90] == 0x40);
    UT_CHECK(b[122] == 8 && b[123] == 0);
    UT_CHECK(memcmp(b + 124, "payload", 8) == 0);
    UT_CHECK_EQ(b[n - 2], 0xcd);
    UT_CHECK_EQ(b[n - 1], 0xab);
    UT_CHECK_EQ(b[n - 4] | b[n - 3] << 8, lib_crc16(0, b, MPKT_HDR + 8));
    mpkt_get_head(b, &g);
    UT_CHECK(g.cblock == h.cblock && g.blocknum == 42 && g.len == 8 &&
             memcmp(g.weight, h.weight, 32) == 0);
}

static void
test_stream(void)
{
    static uint8_t s[3 * (MPKT_HDR + 1000 + MPKT_TAIL)];
    static struct sink k;
    struct mpkt_rx rx;
    struct mpkt h = hello();
    size_t n = 0;
    int bad = 0;

    h.op = MOP_SEND_FILE;
    for (int i = 0; i < 3; i++) {
        uint8_t pay[1000];

        memset(pay, 'a' + i, sizeof(pay));
        h.len = (uint16_t)(i == 2 ? 300 : 1000);
        n += mpkt_encode(s + n, &h, pay);
    }
    UT_CASE("stream: three packets in every piece size from 1 to 1,500");
    for (size_t piece = 1; piece <= 1500; piece += piece < 20 ? 1 : 37) {
        rx_start(&rx, &k, 1000);
        for (size_t off = 0; off < n; off += piece) {
            size_t m = n - off < piece ? n - off : piece;

            if (mpkt_rx_feed(&rx, s + off, m) != (long)m)
                bad++;
        }
        if (k.packets != 3 || k.body_len != 2300 || k.body[0] != 'a' ||
            k.body[2299] != 'c' || rx.pos != 0)
            bad++;
    }
    UT_CHECK_EQ(bad, 0);

    UT_CASE("stream: end() stopping takes nothing after that packet");
    rx_start(&rx, &k, 1000);
    k.stop_after = 1;
    UT_CHECK_EQ(mpkt_rx_feed(&rx, s, n), (long)(MPKT_HDR + 1000 + MPKT_TAIL));
    UT_CHECK_EQ(k.packets, 1);

    UT_CASE("truncated: a cut stream is incomplete, never a packet");
    rx_start(&rx, &k, 1000);
    UT_CHECK_EQ(mpkt_rx_feed(&rx, s, MPKT_HDR + 999 + 3), MPKT_HDR + 999 + 3);
    UT_CHECK_EQ(k.packets, 0);
    UT_CHECK_EQ(rx.err, MPKT_OK);
}

static void
test_refusals(void)
{
    static uint8_t b[MPKT_HDR + 2000 + MPKT_TAIL];
    static struct sink k;
    struct mpkt_rx rx;
    struct mpkt h = hello();
    uint8_t pay[2000];
    size_t n;

    memset(pay, 7, sizeof(pay));
    UT_CASE("oversize: a len above the opcode's limit is refused before its "
            "payload");
    h.len = 2000;
    n = mpkt_encode(b, &h, pay);
    rx_start(&rx, &k, 1999);
    UT_CHECK_EQ(mpkt_rx_feed(&rx, b, n), -1);
    UT_CHECK_EQ(rx.err, MPKT_E_LEN);
    UT_CHECK_EQ(k.body_len, 0);
    UT_CHECK_EQ(mpkt_rx_feed(&rx, b, 1), -1); /* stays refused */

    UT_CASE("network id, CRC, trailer, a refused header");
    h.len = 10;
    n = mpkt_encode(b, &h, pay);
    b[2] ^= 1;
    rx_start(&rx, &k, 100);
    UT_CHECK_EQ(mpkt_rx_feed(&rx, b, n), -1);
    UT_CHECK_EQ(rx.err, MPKT_E_NET);
    n = mpkt_encode(b, &h, pay);
    b[MPKT_HDR + 3] ^= 1; /* payload */
    rx_start(&rx, &k, 100);
    UT_CHECK_EQ(mpkt_rx_feed(&rx, b, n), -1);
    UT_CHECK_EQ(rx.err, MPKT_E_CRC);
    UT_CHECK_EQ(k.packets, 0);
    n = mpkt_encode(b, &h, pay);
    b[n - 1] = 0;
    rx_start(&rx, &k, 100);
    UT_CHECK_EQ(mpkt_rx_feed(&rx, b, n), -1);
    UT_CHECK_EQ(rx.err, MPKT_E_TRAILER);
    n = mpkt_encode(b, &h, pay);
    rx_start(&rx, &k, -1);
    UT_CHECK_EQ(mpkt_rx_feed(&rx, b, n), -1);
    UT_CHECK_EQ(rx.err, MPKT_E_REFUSED);
    UT_CHECK(strcmp(mpkt_err_name(MPKT_E_CRC), "crc") == 0);
    UT_CHECK(strcmp(mpkt_err_name(99), "unknown") == 0);

    UT_CASE("garbage: random bytes never make a packet");
    {
        uint32_t x = 12345;
        int made = 0;

        for (int round = 0; round < 200; round++) {
            rx_start(&rx, &k, 65535);
            for (size_t i = 0; i < sizeof(b); i++) {
                x = x * 1103515245u + 12345u;
                b[i] = (uint8_t)(x >> 16);
            }
            (void)mpkt_rx_feed(&rx, b, sizeof(b));
            made += (int)k.packets;
        }
        UT_CHECK_EQ(made, 0);
    }
}

int
main(void)
{
    ut_suite = "mpkt";
    test_layout();
    test_stream();
    test_refusals();
    return ut_done();
}
