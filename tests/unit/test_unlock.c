/*
 * tests/unit/test_unlock.c - operator unlock (src/console/unlock.c): the
 * operator-key record (golden, every damaged byte, truncation, sealed
 * but inconsistent), the key list at its limits, and the challenge:
 * unprovisioned, right, wrong, used twice, expired, the backoff, idle.
 * The monotonic clock is this test's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../hal/sim/flash_sim.h"
#include "console/unlock.h"
#include "hal/clock.h"
#include "lib/crc32c.h"
#include "lib/le.h"
#include "ut.h"
#include "ut_golden.h"

static uint64_t now_ms = 1000;

uint64_t
hal_clock_ms(void)
{
    return now_ms;
}

int64_t
hal_clock_wall(void)
{
    return 1767225600;
}

static struct sim_flash dev;
static struct hal_flash part;
static struct store st;

static void
test_record(void)
{
    struct unlock_ops o, p;
    uint8_t b[UNLOCK_REC_MAX], c[UNLOCK_REC_MAX];
    size_t n;
    int bad = 0;

    UT_CASE("operator keys: golden record, round trip, damage refused");
    memset(&o, 0, sizeof(o));
    o.n = 2;
    for (int i = 0; i < CRYPTO_EC_PUB_LEN; i++) {
        o.pub[0][i] = (uint8_t)i;
        o.pub[1][i] = (uint8_t)(0xff - i);
    }
    o.pub[0][0] = o.pub[1][0] = 0x04;
    n = unlock_ops_encode(&o, b);
    ut_golden("operator-keys.bin", b, n);
    UT_CHECK_EQ(unlock_ops_decode(b, n, &p), 0);
    UT_CHECK(memcmp(&o, &p, sizeof(o)) == 0);
    for (size_t i = 0; i < n; i++) {
        memcpy(c, b, n);
        c[i] ^= 0x08;
        bad += unlock_ops_decode(c, n, &p) != -EBADMSG;
    }
    for (size_t k = 0; k < n; k++)
        bad += unlock_ops_decode(b, k, &p) != -EBADMSG;
    UT_CHECK_EQ(bad, 0);
    memcpy(c, b, n); /* the same key twice, sealed */
    memcpy(c + 8 + CRYPTO_EC_PUB_LEN, c + 8, CRYPTO_EC_PUB_LEN);
    lib_put32(c + n - 4, lib_crc32c(0, c, n - 4));
    UT_CHECK_EQ(unlock_ops_decode(c, n, &p), -EBADMSG);
    memcpy(c, b, n); /* a compressed point, sealed */
    c[8] = 0x02;
    lib_put32(c + n - 4, lib_crc32c(0, c, n - 4));
    UT_CHECK_EQ(unlock_ops_decode(c, n, &p), -EBADMSG);
}

static void
test_challenge(void)
{
    static const struct sim_flash_geom g = {8 * 16384u, 4096, 16, 0xff};
    struct crypto_drbg d;
    struct crypto_eckey op, other;
    struct unlock u;
    uint8_t fp[CRYPTO_SHA256_LEN] = {1, 2, 3}, h[CRYPTO_SHA256_LEN],
            sig[CRYPTO_SIG_MAX], old[CRYPTO_SIG_MAX];
    uint32_t wait;
    int len, olen;

    sim_flash_open_mem(&dev, &g);
    sim_flash_partition(&dev, &part, "store", 0, 8 * 16384u);
    UT_CHECK_EQ(store_mount(&st, &part), 0);
    UT_CHECK_EQ(crypto_drbg_init(&d, NULL, 0), 0);
    UT_CHECK_EQ(crypto_ec_keygen(&d, &op), 0);
    UT_CHECK_EQ(crypto_ec_keygen(&d, &other), 0);

    UT_CASE("unprovisioned: allowed, no challenge");
    unlock_init(&u, &st);
    UT_CHECK_EQ(unlock_allowed(&u), 1);
    UT_CHECK_EQ(unlock_challenge(&u, fp, &wait), -ENOKEY);

    UT_CASE("an operator key locks; its signature unlocks, once");
    UT_CHECK_EQ(unlock_op_add(&u, op.pub), 0);
    UT_CHECK_EQ(unlock_op_add(&u, op.pub), -EEXIST);
    UT_CHECK_EQ(unlock_allowed(&u), 0);
    UT_CHECK_EQ(unlock_challenge(&u, fp, &wait), 0);
    UT_CHECK(strncmp(u.challenge, "keel-unlock-v1 device=010203", 28) == 0);
    crypto_sha256(u.challenge, strlen(u.challenge), h);
    olen = len = crypto_ec_sign(&op, h, sig);
    memcpy(old, sig, (size_t)len);
    UT_CHECK_EQ(unlock_answer(&u, sig, (size_t)len), UNLOCK_OK);
    UT_CHECK_EQ(unlock_allowed(&u), 1);
    UT_CHECK_EQ(unlock_answer(&u, sig, (size_t)len), UNLOCK_NONE);

    UT_CASE("idle: locked again after idle_s without a command");
    now_ms += (uint64_t)u.idle_s * 1000 - 1;
    UT_CHECK_EQ(unlock_allowed(&u), 1); /* touches the timer */
    now_ms += (uint64_t)u.idle_s * 1000;
    UT_CHECK_EQ(unlock_allowed(&u), 0);

    UT_CASE("wrong answers: refused, the wait doubles, a right one resets");
    UT_CHECK_EQ(unlock_challenge(&u, fp, &wait), 0);
    crypto_sha256(u.challenge, strlen(u.challenge), h);
    len = crypto_ec_sign(&other, h, sig);
    UT_CHECK_EQ(unlock_answer(&u, sig, (size_t)len), UNLOCK_WRONG);
    UT_CHECK_EQ(unlock_challenge(&u, fp, &wait), -EAGAIN);
    UT_CHECK_EQ(wait, 1);
    now_ms += 1000;
    UT_CHECK_EQ(unlock_challenge(&u, fp, &wait), 0);
    UT_CHECK_EQ(unlock_answer(&u, old, (size_t)olen),
                UNLOCK_WRONG); /* replay */
    UT_CHECK_EQ(unlock_challenge(&u, fp, &wait), -EAGAIN);
    UT_CHECK_EQ(wait, 2);
    now_ms += 2000;
    UT_CHECK_EQ(unlock_challenge(&u, fp, &wait), 0);
    UT_CHECK_EQ(unlock_answer(&u, sig, 0), UNLOCK_MALFORMED);
    UT_CHECK_EQ(u.wrong, 3);
    now_ms += 4000;
    UT_CHECK_EQ(unlock_challenge(&u, fp, &wait), 0);
    crypto_sha256(u.challenge, strlen(u.challenge), h);
    len = crypto_ec_sign(&op, h, sig);
    UT_CHECK_EQ(unlock_answer(&u, sig, (size_t)len), UNLOCK_OK);
    UT_CHECK_EQ(u.wrong, 0);

    UT_CASE("expired: an answer after valid_s is refused");
    unlock_lock(&u);
    UT_CHECK_EQ(unlock_challenge(&u, fp, &wait), 0);
    crypto_sha256(u.challenge, strlen(u.challenge), h);
    len = crypto_ec_sign(&op, h, sig);
    now_ms += (uint64_t)u.valid_s * 1000;
    UT_CHECK_EQ(unlock_answer(&u, sig, (size_t)len), UNLOCK_EXPIRED);
    UT_CHECK_EQ(unlock_allowed(&u), 0);

    UT_CASE("keys are kept; the last one stays; damage keeps it locked");
    {
        struct unlock v;
        uint8_t ofp[CRYPTO_SHA256_LEN], spki[CRYPTO_SPKI_LEN];

        unlock_init(&v, &st);
        UT_CHECK_EQ(v.ops.n, 1);
        crypto_spki_encode(op.pub, spki);
        crypto_sha256(spki, sizeof(spki), ofp);
        UT_CHECK_EQ(unlock_op_remove(&v, ofp), -EPERM);
        UT_CHECK_EQ(unlock_op_add(&v, other.pub), 0);
        UT_CHECK_EQ(unlock_op_remove(&v, ofp), 0);
        UT_CHECK_EQ(unlock_op_remove(&v, ofp), -ENOENT);
        UT_CHECK_EQ(store_put(&st, UNLOCK_KEY, "junk", 4), 0);
        unlock_init(&v, &st);
        UT_CHECK_EQ(v.ops.n, 1); /* damaged: locked, not unprovisioned */
        UT_CHECK_EQ(unlock_allowed(&v), 0);
    }
    sim_flash_close(&dev);
}

int
main(int argc, char **argv)
{
    ut_suite = "unlock";
    ut_golden_init(argc, argv);
    test_record();
    test_challenge();
    return ut_done();
}
