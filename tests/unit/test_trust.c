/*
 * tests/unit/test_trust.c - the peer trust list and dial list records
 * (src/net/trust.c): golden encodings, round trips, every refusal of a
 * damaged, truncated, oversized or inconsistent record, and the list
 * operations at their limits.  `test_trust --write-golden DIR` rewrites
 * the vectors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/le.h"
#include "net/trust.h"
#include "ut.h"
#include "ut_golden.h"

static void
two_keys(struct trust_list *t)
{
    uint8_t fp[TRUST_FP_LEN];

    memset(t, 0, sizeof(*t));
    for (int i = 0; i < TRUST_FP_LEN; i++)
        fp[i] = (uint8_t)i;
    UT_CHECK_EQ(trust_add(t, fp, 1767225600, 0), 0);
    fp[0] = 0xEE;
    UT_CHECK_EQ(trust_add(t, fp, 1767312000, TRUST_F_ROTATED), 0);
    t->e[0].retire_at = 1768435200;
}

/* Rewrite the CRC after a deliberate change, so the check behind it is
 * the one that must refuse. */
static void
reseal(uint8_t *b, size_t n)
{
    lib_put32(b + n - 4, lib_crc32c(0, b, n - 4));
}

static void
test_trust_list(void)
{
    struct trust_list t, u;
    uint8_t b[TRUST_REC_MAX], c[TRUST_REC_MAX];
    size_t n;
    int bad = 0;

    UT_CASE("trust list: golden encoding and round trip");
    two_keys(&t);
    n = trust_encode(&t, b);
    UT_CHECK_EQ(n, 8 + 2 * TRUST_ENTRY_LEN + 4);
    ut_golden("peer-trust.bin", b, n);
    UT_CHECK_EQ(trust_decode(b, n, &u), 0);
    UT_CHECK_EQ(u.n, 2);
    UT_CHECK(memcmp(&u, &t, sizeof(t)) == 0);
    UT_CHECK_EQ(trust_decode(b, 12, &u), -EBADMSG); /* empty needs n=0 */

    UT_CASE("trust list: every flipped byte is refused");
    for (size_t i = 0; i < n; i++) {
        memcpy(c, b, n);
        c[i] ^= 0x40;
        bad += trust_decode(c, n, &u) != -EBADMSG;
    }
    UT_CHECK_EQ(bad, 0);

    UT_CASE("trust list: truncated, oversized, garbage");
    for (size_t k = 0; k < n; k++)
        bad += trust_decode(b, k, &u) != -EBADMSG;
    UT_CHECK_EQ(bad, 0);
    memcpy(c, b, n);
    c[n] = 0;
    UT_CHECK_EQ(trust_decode(c, n + 1, &u), -EBADMSG);
    memset(c, 0xA5, sizeof(c));
    UT_CHECK_EQ(trust_decode(c, sizeof(c), &u), -EBADMSG);
    UT_CHECK_EQ(u.n, 0);

    UT_CASE("trust list: sealed but inconsistent records are refused");
    memcpy(c, b, n); /* a count over the maximum */
    lib_put16(c + 4, TRUST_MAX + 1);
    reseal(c, n);
    UT_CHECK_EQ(trust_decode(c, n, &u), -EBADMSG);
    memcpy(c, b, n); /* an unknown flag */
    c[8 + 48] = 0x80;
    reseal(c, n);
    UT_CHECK_EQ(trust_decode(c, n, &u), -EBADMSG);
    memcpy(c, b, n); /* padding that is not zero */
    c[8 + 55] = 1;
    reseal(c, n);
    UT_CHECK_EQ(trust_decode(c, n, &u), -EBADMSG);
    memcpy(c, b, n); /* the same key twice */
    memcpy(c + 8 + TRUST_ENTRY_LEN, c + 8, TRUST_FP_LEN);
    reseal(c, n);
    UT_CHECK_EQ(trust_decode(c, n, &u), -EBADMSG);
    memcpy(c, b, n); /* reserved header bytes */
    c[6] = 1;
    reseal(c, n);
    UT_CHECK_EQ(trust_decode(c, n, &u), -EBADMSG);

    UT_CASE("trust list: add, find, remove at the limits");
    {
        uint8_t fp[TRUST_FP_LEN] = {0};

        memset(&t, 0, sizeof(t));
        for (int i = 0; i < TRUST_MAX; i++) {
            fp[0] = (uint8_t)i;
            bad += trust_add(&t, fp, 0, 0) != 0;
        }
        UT_CHECK_EQ(bad, 0);
        fp[0] = 200;
        UT_CHECK_EQ(trust_add(&t, fp, 0, 0), -ENOSPC);
        fp[0] = 5;
        UT_CHECK_EQ(trust_add(&t, fp, 0, 0), -EEXIST);
        UT_CHECK_EQ(trust_find(&t, fp), 5);
        UT_CHECK_EQ(trust_remove(&t, fp), 0);
        UT_CHECK_EQ(trust_find(&t, fp), -1);
        UT_CHECK_EQ(trust_remove(&t, fp), -ENOENT);
        UT_CHECK_EQ(t.n, TRUST_MAX - 1);
        fp[0] = 6;
        UT_CHECK_EQ(trust_find(&t, fp), 5); /* moved up */
        n = trust_encode(&t, b);
        UT_CHECK_EQ(n, TRUST_REC_MAX - TRUST_ENTRY_LEN);
        UT_CHECK_EQ(trust_decode(b, n, &u), 0);
        UT_CHECK_EQ(u.n, TRUST_MAX - 1);
    }
}

static void
test_dials(void)
{
    static const struct {
        const char *s;
        int rc;
        uint8_t ip[4];
        uint16_t port;
    } cases[] = {
        {"10.0.0.1", 0, {10, 0, 0, 1}, 7950},
        {"10.0.0.1:2095", 0, {10, 0, 0, 1}, 2095},
        {"255.255.255.255:65535", 0, {255, 255, 255, 255}, 65535},
        {"10.0.0.1:0", -EINVAL, {0}, 0},
        {"10.0.0.1:65536", -EINVAL, {0}, 0},
        {"10.0.0", -EINVAL, {0}, 0},
        {"10.0.0.256", -EINVAL, {0}, 0},
        {"10.0.0.01", -EINVAL, {0}, 0},
        {"10.0.0.1:", -EINVAL, {0}, 0},
        {"10.0.0.1 ", -EINVAL, {0}, 0},
        {"host.example", -EINVAL, {0}, 0},
        {"", -EINVAL, {0}, 0},
        {"1.2.3.4:99999999999999999999", -EINVAL, {0}, 0},
    };
    struct dial_list d, e;
    struct dial_entry x;
    uint8_t b[DIAL_REC_MAX], c[DIAL_REC_MAX];
    size_t n;
    int bad = 0;

    UT_CASE("dial: addresses parsed from a table");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = dial_parse(cases[i].s, 7950, &x);

        if (rc != cases[i].rc ||
            (rc == 0 &&
             (memcmp(x.ip, cases[i].ip, 4) != 0 || x.port != cases[i].port))) {
            printf("  '%s': %d\n", cases[i].s, rc);
            bad++;
        }
    }
    UT_CHECK_EQ(bad, 0);

    UT_CASE("dial list: golden encoding, round trip, damage refused");
    memset(&d, 0, sizeof(d));
    UT_CHECK_EQ(dial_parse("10.9.0.2:7950", 0, &d.e[0]), 0);
    UT_CHECK_EQ(dial_parse("10.9.0.3:7951", 0, &d.e[1]), 0);
    d.n = 2;
    n = dial_encode(&d, b);
    ut_golden("peer-dial.bin", b, n);
    UT_CHECK_EQ(dial_decode(b, n, &e), 0);
    UT_CHECK_EQ(e.n, 2);
    UT_CHECK_EQ(dial_find(&e, d.e[1].ip, 7951), 1);
    for (size_t i = 0; i < n; i++) {
        memcpy(c, b, n);
        c[i] ^= 1;
        bad += dial_decode(c, n, &e) != -EBADMSG;
    }
    for (size_t k = 0; k < n; k++)
        bad += dial_decode(b, k, &e) != -EBADMSG;
    UT_CHECK_EQ(bad, 0);
    memcpy(c, b, n); /* the same address twice */
    memcpy(c + 16, c + 8, 8);
    reseal(c, n);
    UT_CHECK_EQ(dial_decode(c, n, &e), -EBADMSG);
    memcpy(c, b, n); /* port 0 */
    lib_put16(c + 12, 0);
    reseal(c, n);
    UT_CHECK_EQ(dial_decode(c, n, &e), -EBADMSG);
}

int
main(int argc, char **argv)
{
    ut_suite = "trust";
    ut_golden_init(argc, argv);
    test_trust_list();
    test_dials();
    return ut_done();
}
