/*
 * tests/unit/test_crypto.c - the crypto layer: known answers (FIPS 180-4
 * SHA-256 examples, RFC 4231 HMAC-SHA256 test cases 1 and 2), ECDSA
 * P-256 sign/verify with tampering, SPKI, and interop with the openssl
 * command line in both directions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "ut.h"

static void
unhex(const char *h, uint8_t *out)
{
    for (size_t i = 0; h[2 * i]; i++) {
        unsigned v;

        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static int
write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(p, 1, n, f) == n;

    if (f != NULL)
        ok &= fclose(f) == 0;
    return ok ? 0 : -1;
}

static long
read_file(const char *path, uint8_t *p, size_t cap)
{
    FILE *f = fopen(path, "rb");
    long n;

    if (f == NULL)
        return -1;
    n = (long)fread(p, 1, cap, f);
    fclose(f);
    return n;
}

int
main(void)
{
    static const char msg[] = "keel interop message";
    uint8_t h[32], want[32], sig[CRYPTO_SIG_MAX], sig2[CRYPTO_SIG_MAX];
    struct crypto_drbg d;
    struct crypto_eckey k, k2;
    const char *what;
    char dir[] = "/tmp/keel-ut-crypto-XXXXXX", cmd[512], path[256];
    int n;

    ut_suite = "crypto";
    UT_CASE("SHA-256 known answers (FIPS 180-4 examples)");
    UT_CHECK_EQ(crypto_selftest(&what), 0);

    UT_CASE("HMAC-SHA256, RFC 4231 test cases 1 and 2");
    {
        uint8_t key[20];

        memset(key, 0x0b, sizeof(key));
        crypto_hmac_sha256(key, 20, "Hi There", 8, h);
        unhex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32"
              "cff7",
              want);
        UT_CHECK(memcmp(h, want, 32) == 0);
        crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, h);
        unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec"
              "3843",
              want);
        UT_CHECK(memcmp(h, want, 32) == 0);
    }

    UT_CASE("DRBG: seeded from the rng, two instances differ");
    {
        struct crypto_drbg d2;
        uint8_t a[32], b[32];

        UT_CHECK_EQ(crypto_drbg_init(&d, "keel", 4), 0);
        UT_CHECK_EQ(crypto_drbg_init(&d2, "keel", 4), 0);
        crypto_drbg_generate(&d, a, sizeof(a));
        crypto_drbg_generate(&d2, b, sizeof(b));
        UT_CHECK(memcmp(a, b, 32) != 0);
        UT_CHECK_EQ(crypto_drbg_reseed(&d), 0);
    }

    UT_CASE("ECDSA P-256: sign, verify, tampering refused");
    UT_CHECK_EQ(crypto_ec_keygen(&d, &k), 0);
    UT_CHECK_EQ(k.pub[0], 0x04);
    crypto_sha256(msg, sizeof(msg) - 1, h);
    n = crypto_ec_sign(&k, h, sig);
    UT_CHECK(n > 8 && n <= CRYPTO_SIG_MAX);
    UT_CHECK_EQ(crypto_ec_verify(k.pub, h, sig, (size_t)n), CRYPTO_VERIFIED);
    h[5] ^= 1;
    UT_CHECK_EQ(crypto_ec_verify(k.pub, h, sig, (size_t)n), -EBADMSG);
    h[5] ^= 1;
    sig[n - 3] ^= 0x40;
    UT_CHECK_EQ(crypto_ec_verify(k.pub, h, sig, (size_t)n), -EBADMSG);
    sig[n - 3] ^= 0x40;
    UT_CHECK_EQ(crypto_ec_verify(k.pub, h, sig, (size_t)n - 1), -EBADMSG);
    UT_CHECK_EQ(crypto_ec_verify(k.pub, h, sig, 0), -EBADMSG);
    UT_CHECK_EQ(crypto_ec_keygen(&d, &k2), 0);
    UT_CHECK_EQ(crypto_ec_verify(k2.pub, h, sig, (size_t)n), -EBADMSG);

    UT_CASE("ECDSA: deterministic nonces (same key and digest, same sig)");
    UT_CHECK_EQ(crypto_ec_sign(&k, h, sig2), n);
    UT_CHECK(memcmp(sig, sig2, (size_t)n) == 0);

    UT_CASE("ECDSA: bad keys are refused");
    {
        struct crypto_eckey bad;
        uint8_t pub[CRYPTO_EC_PUB_LEN];

        memset(bad.priv, 0, sizeof(bad.priv));
        UT_CHECK_EQ(crypto_ec_from_priv(&bad), -EINVAL);
        memset(bad.priv, 0xff, sizeof(bad.priv)); /* above the order */
        UT_CHECK_EQ(crypto_ec_from_priv(&bad), -EINVAL);
        /* n itself is refused, n - 1 is the largest valid key */
        unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc63"
              "2551",
              bad.priv);
        UT_CHECK_EQ(crypto_ec_from_priv(&bad), -EINVAL);
        bad.priv[31] = 0x50;
        UT_CHECK_EQ(crypto_ec_from_priv(&bad), 0);
        memset(bad.priv, 0, sizeof(bad.priv));
        bad.priv[31] = 1;
        UT_CHECK_EQ(crypto_ec_from_priv(&bad), 0);
        memcpy(pub, k.pub, sizeof(pub));
        pub[0] = 0x02;
        UT_CHECK_EQ(crypto_ec_verify(pub, h, sig, (size_t)n), -EINVAL);
        memcpy(bad.priv, k.priv, 32);
        UT_CHECK_EQ(crypto_ec_from_priv(&bad), 0);
        UT_CHECK(memcmp(bad.pub, k.pub, CRYPTO_EC_PUB_LEN) == 0);
    }

    UT_CASE("SPKI: encode, decode, refuse anything else");
    {
        uint8_t der[CRYPTO_SPKI_LEN], pub[CRYPTO_EC_PUB_LEN];

        crypto_spki_encode(k.pub, der);
        UT_CHECK_EQ(crypto_spki_decode(der, sizeof(der), pub), 0);
        UT_CHECK(memcmp(pub, k.pub, sizeof(pub)) == 0);
        UT_CHECK_EQ(crypto_spki_decode(der, sizeof(der) - 1, pub), -EINVAL);
        der[20] ^= 1; /* another curve OID */
        UT_CHECK_EQ(crypto_spki_decode(der, sizeof(der), pub), -EINVAL);
    }

    UT_CASE("interop: openssl verifies a keel signature");
    UT_CHECK(mkdtemp(dir) != NULL);
    {
        char pem[256];

        UT_CHECK(crypto_spki_pem(k.pub, pem, sizeof(pem)) > 0);
        UT_CHECK_EQ(crypto_spki_pem(k.pub, pem, 100), -ENOBUFS);
        snprintf(path, sizeof(path), "%s/pub.pem", dir);
        write_file(path, pem, strlen(pem));
        snprintf(path, sizeof(path), "%s/msg", dir);
        write_file(path, msg, sizeof(msg) - 1);
        snprintf(path, sizeof(path), "%s/sig.der", dir);
        write_file(path, sig, (size_t)n);
        snprintf(cmd, sizeof(cmd),
                 "cd %s && openssl pkey -pubin -in pub.pem -noout && "
                 "openssl dgst -sha256 -verify pub.pem -signature sig.der "
                 "msg >/dev/null",
                 dir);
        UT_CHECK_EQ(system(cmd), 0);
        /* and refuses a tampered one */
        sig[n - 2] ^= 1;
        write_file(path, sig, (size_t)n);
        UT_CHECK(system(cmd) != 0);
        sig[n - 2] ^= 1;
    }

    UT_CASE("interop: keel verifies an openssl key's signature");
    {
        uint8_t der[200], osig[CRYPTO_SIG_MAX + 8], pub[CRYPTO_EC_PUB_LEN];
        long dl, sl;

        snprintf(cmd, sizeof(cmd),
                 "cd %s && openssl ecparam -name prime256v1 -genkey -noout "
                 "-out k.pem 2>/dev/null && openssl pkey -in k.pem -pubout "
                 "-outform DER -out pub.der && openssl dgst -sha256 -sign "
                 "k.pem -out osig.der msg",
                 dir);
        UT_CHECK_EQ(system(cmd), 0);
        snprintf(path, sizeof(path), "%s/pub.der", dir);
        dl = read_file(path, der, sizeof(der));
        snprintf(path, sizeof(path), "%s/osig.der", dir);
        sl = read_file(path, osig, sizeof(osig));
        UT_CHECK_EQ(crypto_spki_decode(der, (size_t)dl, pub), 0);
        UT_CHECK_EQ(crypto_ec_verify(pub, h, osig, (size_t)sl),
                    CRYPTO_VERIFIED);
        osig[sl - 1] ^= 1;
        UT_CHECK_EQ(crypto_ec_verify(pub, h, osig, (size_t)sl), -EBADMSG);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", dir);
    return ut_done();
}
