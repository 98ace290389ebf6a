/*
 * tests/unit/test_book.c - what sync keeps about peers (sync/book.h):
 * the SEND_IPL parser, the peer table's policy (per-source bound, who
 * may be pushed out when it is full, pinklist backoff with and without
 * a wall clock, the pick order and its bound on never-answered peers),
 * and the records of the table, the guard's memory and the seeds:
 * round trips, damaged headers, entries that are not valid.
 */
#include <errno.h>
#include <string.h>

#include "lib/le.h"
#include "sync/book.h"
#include "ut.h"

static const uint8_t SRC_A[4] = {10, 0, 0, 1}, SRC_B[4] = {10, 0, 0, 2};

static void
ip_of(unsigned i, uint8_t ip[4])
{
    ip[0] = 10;
    ip[1] = 1;
    ip[2] = (uint8_t)(i >> 8);
    ip[3] = (uint8_t)i;
}

static void
test_ipl(void)
{
    uint8_t p[300], out[64][4];

    UT_CASE("SEND_IPL: usable addresses, each once");
    {
        const uint8_t in[] = {0,  1, 2,   3,   127, 0,   0,  1, 224, 0,
                              0,  1, 255, 255, 255, 255, 10, 2, 3,   4,
                              10, 2, 3,   4,   192, 168, 1,  9};
        int n = sync_ipl_parse(in, sizeof(in), out);

        UT_CHECK_EQ(n, 2);
        UT_CHECK(memcmp(out[0], "\x0a\x02\x03\x04", 4) == 0);
        UT_CHECK(memcmp(out[1], "\xc0\xa8\x01\x09", 4) == 0);
    }
    UT_CASE("SEND_IPL: empty, 64 addresses, and the refusals");
    memset(p, 0, sizeof(p));
    UT_CHECK_EQ(sync_ipl_parse(p, 0, out), 0);
    for (unsigned i = 0; i < 64; i++)
        ip_of(i + 1, p + 4 * i);
    UT_CHECK_EQ(sync_ipl_parse(p, 256, out), 64);
    UT_CHECK_EQ(sync_ipl_parse(p, 260, out), -EMSGSIZE);
    UT_CHECK_EQ(sync_ipl_parse(p, 255, out), -EINVAL);
    UT_CHECK_EQ(sync_ipl_parse(p, 3, out), -EINVAL);
}

static struct sync_book b; /* 6 KiB: not on the stack */

static void
test_learn(void)
{
    uint8_t ip[4];
    int i;

    UT_CASE("learn: known addresses come back, bad ones are refused");
    memset(&b, 0, sizeof(b));
    ip_of(1, ip);
    i = sync_book_learn(&b, ip, 2095, SYNC_SRC_IPL, SRC_A);
    UT_CHECK_EQ(i, 0);
    UT_CHECK_EQ(sync_book_learn(&b, ip, 2095, SYNC_SRC_IPL, SRC_B), 0);
    UT_CHECK_EQ(b.n, 1);
    UT_CHECK(memcmp(b.p[0].from, SRC_A, 4) == 0);
    UT_CHECK_EQ(sync_book_learn(&b, ip, 0, SYNC_SRC_IPL, SRC_A), -EINVAL);
    UT_CHECK_EQ(sync_book_learn(&b, (const uint8_t *)"\x7f\0\0\1", 2095,
                                SYNC_SRC_IPL, SRC_A),
                -EINVAL);

    UT_CASE("learn: one source's never-answered hearsay is bounded");
    memset(&b, 0, sizeof(b));
    for (unsigned k = 0; k < SYNC_FROM_MAX + 10; k++) {
        ip_of(k + 1, ip);
        i = sync_book_learn(&b, ip, 2095, SYNC_SRC_IPL, SRC_A);
        UT_CHECK(k < SYNC_FROM_MAX ? i >= 0 : i == -ENOSPC);
    }
    UT_CHECK_EQ(b.n, SYNC_FROM_MAX);
    /* once one answered, the source may name another */
    sync_book_answered(&b, 0, 1, 1000);
    ip_of(900, ip);
    UT_CHECK(sync_book_learn(&b, ip, 2095, SYNC_SRC_IPL, SRC_A) >= 0);
    /* another source is not held back */
    ip_of(901, ip);
    UT_CHECK(sync_book_learn(&b, ip, 2095, SYNC_SRC_IPL, SRC_B) >= 0);

    UT_CASE("learn: a full table keeps honest peers and untried hearsay");
    memset(&b, 0, sizeof(b));
    for (unsigned k = 0; k < SYNC_PEERS_MAX; k++) {
        uint8_t from[4] = {10, 9, (uint8_t)(k / 16), 1};

        ip_of(k + 1, ip);
        UT_CHECK_EQ(sync_book_learn(&b, ip, 2095, SYNC_SRC_IPL, from), (int)k);
        if (k < 200)
            sync_book_answered(&b, (int)k, 1, 1000);
    }
    ip_of(1000, ip);
    UT_CHECK_EQ(sync_book_learn(&b, ip, 2095, SYNC_SRC_IPL, SRC_B), -ENOSPC);
    /* a never-answered one that failed makes room */
    sync_book_failed(&b, 230, 5000, 0);
    i = sync_book_learn(&b, ip, 2095, SYNC_SRC_IPL, SRC_B);
    UT_CHECK_EQ(i, 230);
    UT_CHECK(memcmp(b.p[230].ip, ip, 4) == 0);
    UT_CHECK_EQ(b.p[230].fails, 0);
    /* an answered peer that lied makes room; honest ones never do */
    sync_book_lied(&b, 7);
    ip_of(1001, ip);
    UT_CHECK_EQ(sync_book_learn(&b, ip, 2095, SYNC_SRC_IPL, SRC_B), 7);
    for (unsigned k = 0; k < 200; k++)
        UT_CHECK(k == 7 || b.p[k].score > 0);
}

static void
test_pinklist(void)
{
    uint8_t ip[4];

    UT_CASE("pinklist: backoff doubles from 60 s up to a day");
    memset(&b, 0, sizeof(b));
    ip_of(1, ip);
    (void)sync_book_learn(&b, ip, 2095, SYNC_SRC_IPL, SRC_A);
    sync_book_failed(&b, 0, 10000, 0);
    UT_CHECK_EQ(b.p[0].pink_until, 10000 + 60);
    UT_CHECK(sync_book_pinked(&b.p[0], 10059, 0));
    UT_CHECK(!sync_book_pinked(&b.p[0], 10060, 0));
    sync_book_failed(&b, 0, 20000, 0);
    UT_CHECK_EQ(b.p[0].pink_until, 20000 + 120);
    for (int k = 0; k < 40; k++)
        sync_book_failed(&b, 0, 30000, 0);
    UT_CHECK_EQ(b.p[0].pink_until, 30000 + SYNC_PINK_MAX_S);
    UT_CHECK_EQ(b.p[0].fails, 31);
    UT_CHECK(b.p[0].score >= SYNC_SCORE_MIN);
    sync_book_answered(&b, 0, 0, 40000);
    UT_CHECK(!sync_book_pinked(&b.p[0], 40000, 0));
    UT_CHECK_EQ(b.p[0].fails, 0);
    UT_CHECK_EQ(b.p[0].last_seen, 40000);

    UT_CASE("pinklist: without a wall clock, for this boot only");
    sync_book_failed(&b, 0, 0, 5000);
    UT_CHECK_EQ(b.p[0].pink_until, 0);
    UT_CHECK(sync_book_pinked(&b.p[0], 0, 5000 + 59999));
    UT_CHECK(!sync_book_pinked(&b.p[0], 0, 5000 + 60000));
}

static void
test_pick(void)
{
    uint8_t ip[4];
    int out[SYNC_PEERS_MAX];
    unsigned n, fresh = 0;

    UT_CASE("pick: answered first, by score; at most max_new untried");
    memset(&b, 0, sizeof(b));
    for (unsigned k = 0; k < 20; k++) {
        uint8_t from[4] = {10, 9, (uint8_t)k, 1};

        ip_of(k + 1, ip);
        (void)sync_book_learn(&b, ip, 2095, SYNC_SRC_IPL, from);
    }
    sync_book_answered(&b, 3, 1, 100); /* score 2 */
    sync_book_answered(&b, 5, 0, 100); /* score 1 */
    sync_book_answered(&b, 9, 1, 100);
    sync_book_answered(&b, 9, 1, 100); /* score 4 */
    sync_book_failed(&b, 11, 1000, 0); /* pinklisted */
    sync_book_answered(&b, 12, 1, 100);
    sync_book_lied(&b, 12); /* a liar: not asked */
    n = sync_book_pick(&b, 1000, 0, 10, 4, out);
    UT_CHECK_EQ(n, 7);
    UT_CHECK_EQ(out[0], 9);
    UT_CHECK_EQ(out[1], 3);
    UT_CHECK_EQ(out[2], 5);
    for (unsigned k = 0; k < n; k++) {
        UT_CHECK(out[k] != 11 && out[k] != 12);
        fresh += !(b.p[out[k]].flags & SYNC_PF_ANSWERED);
        for (unsigned j = 0; j < k; j++)
            UT_CHECK(out[j] != out[k]);
    }
    UT_CHECK_EQ(fresh, 4);
    n = sync_book_pick(&b, 1000, 0, 2, 4, out);
    UT_CHECK_EQ(n, 2);
    /* after the pinklist expires, 11 is back */
    n = sync_book_pick(&b, 1000 + SYNC_PINK_S, 0, 30, 30, out);
    UT_CHECK_EQ(n, 19);

    UT_CASE("good: what GET_IPL serves is peers that answered honestly");
    {
        uint8_t good[64][4];

        UT_CHECK_EQ(sync_book_good(&b, good, 64), 3);
        UT_CHECK_EQ(sync_book_good(&b, good, 1), 1);
    }
}

static void
test_records(void)
{
    static struct sync_book c;
    uint8_t rec0[SYNC_PEERS_HDR + SYNC_PEERS_HALF * SYNC_PEER_REC];
    uint8_t rec1[sizeof(rec0)], ip[4];
    size_t n0, n1;
    unsigned skipped = 0;

    UT_CASE("peer table records: a full table in two halves, round trip");
    memset(&b, 0, sizeof(b));
    for (unsigned k = 0; k < SYNC_PEERS_MAX; k++) {
        uint8_t from[4] = {10, 9, (uint8_t)k, 1};

        ip_of(k + 1, ip);
        (void)sync_book_learn(&b, ip, (uint16_t)(2000 + k), SYNC_SRC_IPL, from);
        if (k % 3 == 0)
            sync_book_answered(&b, (int)k, 1, 1700000000 + k);
        if (k % 5 == 0)
            sync_book_failed(&b, (int)k, 1700000000, 0);
    }
    n0 = sync_book_encode(&b, 0, rec0);
    n1 = sync_book_encode(&b, 1, rec1);
    UT_CHECK_EQ(n0, sizeof(rec0));
    UT_CHECK_EQ(n1, sizeof(rec1));
    UT_CHECK(n0 <= 4096); /* a store value */
    memset(&c, 0, sizeof(c));
    UT_CHECK_EQ(sync_book_decode(&c, rec0, n0, &skipped), SYNC_PEERS_HALF);
    UT_CHECK_EQ(sync_book_decode(&c, rec1, n1, &skipped), SYNC_PEERS_HALF);
    UT_CHECK_EQ(skipped, 0);
    UT_CHECK_EQ(c.n, SYNC_PEERS_MAX);
    for (unsigned k = 0; k < SYNC_PEERS_MAX; k++) {
        UT_CHECK(memcmp(c.p[k].ip, b.p[k].ip, 4) == 0);
        UT_CHECK_EQ(c.p[k].port, b.p[k].port);
        UT_CHECK_EQ(c.p[k].score, b.p[k].score);
        UT_CHECK_EQ(c.p[k].flags, b.p[k].flags);
        UT_CHECK_EQ(c.p[k].fails, b.p[k].fails);
        UT_CHECK_EQ(c.p[k].last_seen, b.p[k].last_seen);
        UT_CHECK_EQ(c.p[k].pink_until, b.p[k].pink_until);
        UT_CHECK(memcmp(c.p[k].from, b.p[k].from, 4) == 0);
    }

    UT_CASE("peer table records: damage");
    memset(&c, 0, sizeof(c));
    UT_CHECK_EQ(sync_book_decode(&c, rec0, 3, NULL), -EBADMSG);
    UT_CHECK_EQ(sync_book_decode(&c, rec0, n0 - 1, NULL), -EBADMSG);
    rec0[0] = 2;
    UT_CHECK_EQ(sync_book_decode(&c, rec0, n0, NULL), -EBADMSG);
    rec0[0] = SYNC_PEERS_VERSION;
    lib_put16(rec0 + 2, SYNC_PEERS_HALF + 1);
    UT_CHECK_EQ(sync_book_decode(&c, rec0, n0, NULL), -EBADMSG);
    lib_put16(rec0 + 2, SYNC_PEERS_HALF);
    /* entries that are not valid are skipped, the rest taken */
    rec0[SYNC_PEERS_HDR + 4] = 0; /* port 0 */
    rec0[SYNC_PEERS_HDR + 5] = 0;
    rec0[SYNC_PEERS_HDR + SYNC_PEER_REC + 0] = 127;      /* loopback */
    rec0[SYNC_PEERS_HDR + 2 * SYNC_PEER_REC + 6] = 0x80; /* flag */
    rec0[SYNC_PEERS_HDR + 3 * SYNC_PEER_REC + 10] = 9;   /* source */
    memcpy(rec0 + SYNC_PEERS_HDR + 4 * SYNC_PEER_REC,
           rec0 + SYNC_PEERS_HDR + 5 * SYNC_PEER_REC, 6); /* a repeat */
    skipped = 0;
    UT_CHECK_EQ(sync_book_decode(&c, rec0, n0, &skipped), SYNC_PEERS_HALF - 5);
    UT_CHECK_EQ(skipped, 5);
    /* an empty table encodes to a header */
    memset(&c, 0, sizeof(c));
    UT_CHECK_EQ(sync_book_encode(&c, 1, rec1), SYNC_PEERS_HDR);
    UT_CHECK_EQ(sync_book_decode(&c, rec1, SYNC_PEERS_HDR, NULL), 0);
}

static void
test_bad_and_seeds(void)
{
    struct sync_bad in[3], out[SYNC_BAD_MAX];
    struct sync_seed s[3] = {{{10, 0, 0, 1}, 2095}, {{10, 0, 0, 2}, 1}},
                     so[SYNC_SEEDS_MAX];
    uint8_t rec[3 * SYNC_BAD_REC], sr[SYNC_SEEDS_MAX * 6];
    unsigned skipped = 0;

    UT_CASE("sync.bad: round trip of a peer, a chain and a range");
    memset(in, 0, sizeof(in));
    in[0].kind = SYNC_BAD_PEER;
    in[0].reason = 3;
    memcpy(in[0].ip, "\x0a\0\0\x07", 4);
    in[0].port = 2095;
    in[0].until = 1700086400;
    in[1].kind = SYNC_BAD_CHAIN;
    in[1].reason = 7;
    memset(in[1].hash, 0xab, 32);
    memset(in[1].weight, 0x11, 32);
    in[1].until = INT64_MAX;
    in[2].kind = SYNC_BAD_RANGE;
    in[2].reason = 2;
    memset(in[2].hash, 0x5a, 32);
    lib_put64(in[2].weight, 1000);
    lib_put32(in[2].weight + 8, 1000);
    in[2].until = 1700086400;
    for (int i = 0; i < 3; i++)
        sync_bad_encode1(&in[i], rec + i * SYNC_BAD_REC);
    UT_CHECK_EQ(sync_bad_decode(rec, sizeof(rec), out, 15, &skipped), 3);
    UT_CHECK_EQ(skipped, 0);
    for (int i = 0; i < 3; i++)
        UT_CHECK(memcmp(&out[i], &in[i], sizeof(in[i])) == 0);

    UT_CASE("sync.bad: entries that are not valid are skipped");
    rec[0] = 9;                 /* kind */
    rec[SYNC_BAD_REC + 1] = 15; /* reason out of range */
    skipped = 0;
    UT_CHECK_EQ(sync_bad_decode(rec, sizeof(rec), out, 15, &skipped), 1);
    UT_CHECK_EQ(skipped, 2);
    UT_CHECK_EQ(out[0].kind, SYNC_BAD_RANGE);
    skipped = 0;
    UT_CHECK_EQ(sync_bad_decode(rec, sizeof(rec) - 1, out, 15, &skipped), 0);
    UT_CHECK_EQ(skipped, 1);

    UT_CASE("sync.seeds: round trip; a port of 0 is skipped");
    UT_CHECK_EQ(sync_seeds_encode(s, 2, sr), 12);
    UT_CHECK_EQ(sync_seeds_decode(sr, 12, so), 2);
    UT_CHECK(memcmp(&so[1], &s[1], sizeof(s[1])) == 0);
    sr[4] = sr[5] = 0;
    UT_CHECK_EQ(sync_seeds_decode(sr, 12, so), 1);
    UT_CHECK_EQ(sync_seeds_decode(sr, 11, so), 0);
}

int
main(void)
{
    ut_suite = "book";
    test_ipl();
    test_learn();
    test_pinklist();
    test_pick();
    test_records();
    test_bad_and_seeds();
    return ut_done();
}
