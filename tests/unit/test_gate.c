/*
 * tests/unit/test_gate.c - the peer-link gate (net_gate() in
 * src/net/cert.c), the decision every TLS handshake asks for: a trusted
 * key, an unknown one, a damaged certificate key, and a rotation
 * statement followed in its window, refused after it, with the clock
 * unset, tampered, for another key, from an untrusted key, and when the
 * trust list cannot be written.  The wall clock is this test's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../hal/sim/flash_sim.h"
#include "hal/clock.h"
#include "identity/identity.h"
#include "lib/le.h"
#include "net/net.h"
#include "ut.h"

static int64_t wall = 1767225600; /* 2026-01-01 */

int64_t
hal_clock_wall(void)
{
    return wall;
}

uint64_t
hal_clock_ms(void)
{
    return 0;
}

#define ES 4096u
#define STORE_SIZE (8 * 16384u)
#define CTL_SIZE (2 * ES)

/* One store and control block per simulated device. */
struct dev {
    struct sim_flash f;
    struct hal_flash part, pctl;
    struct store st;
    struct ctl ctl;
};

static void
dev_new(struct dev *d)
{
    static const struct sim_flash_geom g = {STORE_SIZE + CTL_SIZE, ES, 16,
                                            0xff};
    int rc;

    memset(d, 0, sizeof(*d));
    sim_flash_open_mem(&d->f, &g);
    sim_flash_partition(&d->f, &d->part, "store", 0, STORE_SIZE);
    sim_flash_partition(&d->f, &d->pctl, "ctl", STORE_SIZE, CTL_SIZE);
    UT_CHECK_EQ(store_mount(&d->st, &d->part), 0);
    rc = ctl_mount(&d->ctl, &d->pctl);
    UT_CHECK(rc == 0 || rc == -ENOENT);
}

static struct dev peer_dev, gate_dev;
static struct identity peer;
static struct identity_work peer_work;
static struct net gate;

/* The peer's rotation extension, as its certificate carries it. */
static size_t
rot_ext(const struct identity *id, uint8_t *out)
{
    memcpy(out, id->stmt, ID_STMT_LEN);
    out[ID_STMT_LEN] = id->sig_old_len;
    memcpy(out + ID_STMT_LEN + 1, id->sig_old, id->sig_old_len);
    out[ID_STMT_LEN + 1 + id->sig_old_len] = id->sig_new_len;
    memcpy(out + ID_STMT_LEN + 2 + id->sig_old_len, id->sig_new,
           id->sig_new_len);
    return ID_STMT_LEN + 2 + id->sig_old_len + id->sig_new_len;
}

static int
gate_key(const uint8_t pub[CRYPTO_EC_PUB_LEN], const uint8_t *ext, size_t elen,
         uint8_t fp[TRUST_FP_LEN])
{
    uint8_t spki[CRYPTO_SPKI_LEN];

    crypto_spki_encode(pub, spki);
    return net_gate(&gate, spki, sizeof(spki), ext, elen, fp);
}

/* A gate that trusts exactly the given key. */
static void
gate_reset(const uint8_t pub[CRYPTO_EC_PUB_LEN], struct store *st)
{
    uint8_t fp[TRUST_FP_LEN];

    memset(&gate, 0, sizeof(gate));
    gate.st = st;
    identity_fingerprint(pub, fp);
    UT_CHECK_EQ(trust_add(&gate.trust, fp, wall, 0), 0);
}

int
main(void)
{
    uint8_t old_pub[CRYPTO_EC_PUB_LEN], new_pub[CRYPTO_EC_PUB_LEN];
    uint8_t old_fp[TRUST_FP_LEN], new_fp[TRUST_FP_LEN], fp[TRUST_FP_LEN];
    uint8_t ext[ID_STMT_LEN + 2 + 2 * CRYPTO_SIG_MAX], bad[sizeof(ext)];
    uint8_t rec[TRUST_REC_MAX];
    struct trust_list kept;
    int64_t wend;
    size_t elen;
    int n, i;

    ut_suite = "gate";
    dev_new(&peer_dev);
    dev_new(&gate_dev);
    peer.work = &peer_work;
    UT_CHECK_EQ(identity_boot(&peer, &peer_dev.st, &peer_dev.ctl), 0);
    memcpy(old_pub, peer.cur.k.pub, sizeof(old_pub));
    identity_fingerprint(old_pub, old_fp);

    UT_CASE("a trusted key passes; an unknown one and a bad key do not");
    gate_reset(old_pub, &gate_dev.st);
    UT_CHECK_EQ(gate_key(old_pub, NULL, 0, fp), NET_R_NONE);
    UT_CHECK(memcmp(fp, old_fp, sizeof(fp)) == 0);
    {
        struct identity other;
        struct identity_work ow;
        struct dev od;

        dev_new(&od);
        memset(&other, 0, sizeof(other));
        other.work = &ow;
        UT_CHECK_EQ(identity_boot(&other, &od.st, &od.ctl), 0);
        UT_CHECK_EQ(gate_key(other.cur.k.pub, NULL, 0, fp), NET_R_UNTRUSTED);
        identity_close(&other);
        sim_flash_close(&od.f);
    }
    {
        uint8_t spki[CRYPTO_SPKI_LEN];

        crypto_spki_encode(old_pub, spki);
        spki[30] ^= 1; /* another point: not the trusted key */
        UT_CHECK(net_gate(&gate, spki, sizeof(spki), NULL, 0, fp) !=
                 NET_R_NONE);
        spki[30] ^= 1;
        spki[0] ^= 1; /* not an SPKI at all */
        UT_CHECK_EQ(net_gate(&gate, spki, sizeof(spki), NULL, 0, fp),
                    NET_R_BAD_CERT);
        UT_CHECK_EQ(net_gate(&gate, spki, 20, NULL, 0, fp), NET_R_BAD_CERT);
    }

    /* The peer rotates with a one-day window. */
    UT_CHECK_EQ(identity_rotate(&peer, 86400), 0);
    memcpy(new_pub, peer.cur.k.pub, sizeof(new_pub));
    identity_fingerprint(new_pub, new_fp);
    elen = rot_ext(&peer, ext);
    wend = (int64_t)lib_le64(peer.stmt + 16);
    UT_CHECK(wend > wall);

    UT_CASE("rotation after the window, with the clock unset, tampered");
    gate_reset(old_pub, &gate_dev.st);
    wall = wend;
    UT_CHECK_EQ(gate_key(new_pub, ext, elen, fp), NET_R_ROT_EXPIRED);
    wall = 0;
    UT_CHECK_EQ(gate_key(new_pub, ext, elen, fp), NET_R_ROT_CLOCK);
    wall = wend - 3600;
    n = 0;
    for (size_t k = 0; k < elen; k++) {
        memcpy(bad, ext, elen);
        bad[k] ^= 0x01;
        n += gate_key(new_pub, bad, elen, fp) == NET_R_NONE;
    }
    UT_CHECK_EQ(n, 0); /* no flipped byte is ever accepted */
    UT_CHECK_EQ(gate_key(new_pub, ext, elen - 1, fp), NET_R_ROT_BAD);
    UT_CHECK_EQ(gate_key(new_pub, ext, ID_STMT_LEN + 1, fp), NET_R_ROT_BAD);
    UT_CHECK_EQ(gate.trust.n, 1);
    UT_CHECK_EQ(gate.trust.e[0].retire_at, 0);

    UT_CASE("a statement for another key, or from an untrusted key");
    {
        struct identity other;
        struct identity_work ow;
        struct dev od;

        dev_new(&od);
        memset(&other, 0, sizeof(other));
        other.work = &ow;
        UT_CHECK_EQ(identity_boot(&other, &od.st, &od.ctl), 0);
        UT_CHECK_EQ(gate_key(other.cur.k.pub, ext, elen, fp), NET_R_ROT_BAD);
        gate_reset(other.cur.k.pub, &gate_dev.st);
        UT_CHECK_EQ(gate_key(new_pub, ext, elen, fp), NET_R_UNTRUSTED);
        identity_close(&other);
        sim_flash_close(&od.f);
    }

    UT_CASE("a trust list that cannot be written: not followed, unchanged");
    gate_reset(old_pub, NULL);
    UT_CHECK_EQ(gate_key(new_pub, ext, elen, fp), NET_R_UNTRUSTED);
    UT_CHECK_EQ(gate.trust.n, 1);
    UT_CHECK_EQ(gate.trust.e[0].retire_at, 0);

    UT_CASE("rotation in the window: followed, written, old key retires");
    gate_reset(old_pub, &gate_dev.st);
    UT_CHECK_EQ(gate_key(new_pub, ext, elen, fp), NET_R_NONE);
    UT_CHECK(memcmp(fp, new_fp, sizeof(fp)) == 0);
    UT_CHECK_EQ(gate.c.rotations_accepted, 1);
    i = trust_find(&gate.trust, new_fp);
    UT_CHECK(i >= 0 && (gate.trust.e[i].flags & TRUST_F_ROTATED));
    i = trust_find(&gate.trust, old_fp);
    UT_CHECK(i >= 0 && gate.trust.e[i].retire_at == wend);
    n = store_get(&gate_dev.st, TRUST_KEY, rec, sizeof(rec));
    UT_CHECK(n > 0 && trust_decode(rec, (size_t)n, &kept) == 0 && kept.n == 2);
    /* the new key now passes on its own; the old one until the end */
    UT_CHECK_EQ(gate_key(new_pub, NULL, 0, fp), NET_R_NONE);
    UT_CHECK_EQ(gate_key(old_pub, NULL, 0, fp), NET_R_NONE);
    wall = wend;
    UT_CHECK_EQ(gate_key(old_pub, NULL, 0, fp), NET_R_RETIRED);
    UT_CHECK_EQ(gate_key(new_pub, NULL, 0, fp), NET_R_NONE);
    wall = 0; /* clock unset: a retiring key cannot be judged */
    UT_CHECK_EQ(gate_key(old_pub, NULL, 0, fp), NET_R_RETIRED);
    UT_CHECK_EQ(gate_key(new_pub, NULL, 0, fp), NET_R_NONE);

    identity_close(&peer);
    sim_flash_close(&peer_dev.f);
    sim_flash_close(&gate_dev.f);
    return ut_done();
}
