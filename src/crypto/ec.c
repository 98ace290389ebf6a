/*
 * crypto/ec.c - HMAC, the DRBG, ECDSA P-256 and SPKI through BearSSL.
 */
#include <errno.h>
#include <string.h>

#include <bearssl_ec.h>
#include <bearssl_hmac.h>
#include <bearssl_rand.h>

#include "crypto/crypto.h"
#include "hal/rng.h"

_Static_assert(sizeof(br_hmac_drbg_context) <= sizeof(struct crypto_drbg),
               "struct crypto_drbg too small for br_hmac_drbg_context");

/* DER prefix of a P-256 SubjectPublicKeyInfo: SEQUENCE { SEQUENCE {
 * id-ecPublicKey, prime256v1 }, BIT STRING (0 unused bits) }. */
static const uint8_t spki_prefix[26] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
};

void
crypto_wipe(void *p, size_t len)
{
    volatile uint8_t *v = p;

    while (len--)
        *v++ = 0;
}

void
crypto_hmac_sha256(const void *key, size_t klen, const void *data, size_t len,
                   uint8_t out[CRYPTO_SHA256_LEN])
{
    br_hmac_key_context kc;
    br_hmac_context hc;

    br_hmac_key_init(&kc, &br_sha256_vtable, key, klen);
    br_hmac_init(&hc, &kc, 0);
    br_hmac_update(&hc, data, len);
    br_hmac_out(&hc, out);
    crypto_wipe(&kc, sizeof(kc));
    crypto_wipe(&hc, sizeof(hc));
}

int
crypto_drbg_instantiate(struct crypto_drbg *d, const void *seed, size_t slen,
                        const void *pers, size_t plen)
{
    uint8_t m[CRYPTO_DRBG_SEED_MAX + CRYPTO_DRBG_PERS_MAX];

    if (slen > CRYPTO_DRBG_SEED_MAX || plen > CRYPTO_DRBG_PERS_MAX)
        return -EINVAL;
    /* SP 800-90A 10.1.2.3: one update with entropy || nonce || pers. */
    memcpy(m, seed, slen);
    if (plen > 0)
        memcpy(m + slen, pers, plen);
    br_hmac_drbg_init((br_hmac_drbg_context *)d->opaque, &br_sha256_vtable, m,
                      slen + plen);
    crypto_wipe(m, sizeof(m));
    return 0;
}

int
crypto_drbg_init(struct crypto_drbg *d, const void *pers, size_t plen)
{
    uint8_t seed[48];
    int rc;

    if (plen > CRYPTO_DRBG_PERS_MAX)
        return -EINVAL;
    rc = hal_rng_fill(seed, sizeof(seed));
    if (rc == 0)
        rc = crypto_drbg_instantiate(d, seed, sizeof(seed), pers, plen);
    crypto_wipe(seed, sizeof(seed));
    return rc;
}

int
crypto_drbg_reseed(struct crypto_drbg *d)
{
    uint8_t seed[32];
    int rc = hal_rng_fill(seed, sizeof(seed));

    if (rc != 0)
        return rc;
    br_hmac_drbg_update((br_hmac_drbg_context *)d->opaque, seed, sizeof(seed));
    crypto_wipe(seed, sizeof(seed));
    return 0;
}

void
crypto_drbg_generate(struct crypto_drbg *d, void *out, size_t len)
{
    br_hmac_drbg_generate((br_hmac_drbg_context *)d->opaque, out, len);
}

int
crypto_ec_keygen(struct crypto_drbg *d, struct crypto_eckey *k)
{
    uint8_t kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
    br_ec_private_key sk;
    size_t n = br_ec_keygen((const br_prng_class **)d->opaque,
                            br_ec_get_default(), &sk, kbuf, BR_EC_secp256r1);
    int rc = -EIO;

    if (n == CRYPTO_EC_PRIV_LEN) {
        memcpy(k->priv, sk.x, CRYPTO_EC_PRIV_LEN);
        rc = crypto_ec_from_priv(k);
    }
    crypto_wipe(kbuf, sizeof(kbuf));
    return rc;
}

/* The order n of P-256, big-endian. */
static const uint8_t p256_n[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
    0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

/* 1 when 0 < x < n.  No early exit: x is a secret. */
static int
scalar_ok(const uint8_t x[32])
{
    uint32_t lt = 0, gt = 0, nz = 0;

    for (int i = 0; i < 32; i++) {
        uint32_t a = x[i], b = p256_n[i];
        uint32_t undecided = ~(lt | gt) & 1;

        lt |= undecided & ((a - b) >> 31);
        gt |= undecided & ((b - a) >> 31);
        nz |= a;
    }
    return (int)(lt & (nz != 0));
}

int
crypto_ec_from_priv(struct crypto_eckey *k)
{
    /* BearSSL derives a point from any scalar; refuse 0 and >= n. */
    if (!scalar_ok(k->priv))
        return -EINVAL;
    br_ec_private_key sk = {BR_EC_secp256r1, k->priv, CRYPTO_EC_PRIV_LEN};
    uint8_t pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
    br_ec_public_key pk;
    size_t n = br_ec_compute_pub(br_ec_get_default(), &pk, pbuf, &sk);

    if (n != CRYPTO_EC_PUB_LEN)
        return -EINVAL; /* zero or not below the group order */
    memcpy(k->pub, pk.q, CRYPTO_EC_PUB_LEN);
    return 0;
}

int
crypto_ec_sign(const struct crypto_eckey *k, const uint8_t h[CRYPTO_SHA256_LEN],
               uint8_t sig[CRYPTO_SIG_MAX])
{
    br_ec_private_key sk = {BR_EC_secp256r1, (unsigned char *)k->priv,
                            CRYPTO_EC_PRIV_LEN};
    size_t n = br_ecdsa_i31_sign_asn1(br_ec_get_default(), &br_sha256_vtable, h,
                                      &sk, sig);

    return n == 0 ? -EIO : (int)n;
}

/* One DER INTEGER at p (of at most left bytes), positive, minimally
 * encoded and at most 33 bytes; returns its total length or 0. */
static size_t
der_uint(const uint8_t *p, size_t left)
{
    size_t l;

    if (left < 3 || p[0] != 0x02)
        return 0;
    l = p[1];
    if (l == 0 || l > 33 || l + 2 > left || (p[2] & 0x80) ||
        (l > 1 && p[2] == 0 && !(p[3] & 0x80)))
        return 0;
    return l + 2;
}

/* Strict DER: SEQUENCE { INTEGER r, INTEGER s } and nothing else.
 * BearSSL tolerates non-minimal integers; keel accepts one encoding per
 * signature so a signature cannot be re-encoded into a second valid
 * form. */
static int
sig_der_ok(const uint8_t *sig, size_t len)
{
    size_t a, b;

    if (len < 8 || sig[0] != 0x30 || sig[1] & 0x80 || (size_t)sig[1] + 2 != len)
        return 0;
    a = der_uint(sig + 2, len - 2);
    if (a == 0)
        return 0;
    b = der_uint(sig + 2 + a, len - 2 - a);
    return b != 0 && 2 + a + b == len;
}

int
crypto_ec_verify(const uint8_t pub[CRYPTO_EC_PUB_LEN],
                 const uint8_t h[CRYPTO_SHA256_LEN], const uint8_t *sig,
                 size_t siglen)
{
    br_ec_public_key pk = {BR_EC_secp256r1, (unsigned char *)pub,
                           CRYPTO_EC_PUB_LEN};

    if (pub[0] != 0x04)
        return -EINVAL;
    if (siglen > CRYPTO_SIG_MAX || !sig_der_ok(sig, siglen))
        return -EBADMSG;
    return br_ecdsa_i31_vrfy_asn1(br_ec_get_default(), h, CRYPTO_SHA256_LEN,
                                  &pk, sig, siglen) == 1
               ? CRYPTO_VERIFIED
               : -EBADMSG;
}

void
crypto_spki_encode(const uint8_t pub[CRYPTO_EC_PUB_LEN],
                   uint8_t der[CRYPTO_SPKI_LEN])
{
    memcpy(der, spki_prefix, sizeof(spki_prefix));
    memcpy(der + sizeof(spki_prefix), pub, CRYPTO_EC_PUB_LEN);
}

int
crypto_spki_decode(const uint8_t *der, size_t len,
                   uint8_t pub[CRYPTO_EC_PUB_LEN])
{
    if (len != CRYPTO_SPKI_LEN ||
        memcmp(der, spki_prefix, sizeof(spki_prefix)) != 0 ||
        der[sizeof(spki_prefix)] != 0x04)
        return -EINVAL;
    memcpy(pub, der + sizeof(spki_prefix), CRYPTO_EC_PUB_LEN);
    return 0;
}

int
crypto_spki_pem(const uint8_t pub[CRYPTO_EC_PUB_LEN], char *out, size_t cap)
{
    uint8_t der[CRYPTO_SPKI_LEN];

    crypto_spki_encode(pub, der);
    return crypto_pem_encode(der, sizeof(der), "PUBLIC KEY", out, cap);
}
