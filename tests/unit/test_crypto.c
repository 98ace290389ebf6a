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
#include "lib/hex.h"
#include "ut.h"

/* Hex of any even length into out (large enough: a test's own data). */
static void
unhex(const char *h, uint8_t *out)
{
    if (lib_hex_decode(h, strlen(h), out, strlen(h) / 2) < 0)
        abort();
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

/* Run sh -c cmd in dir, quietly; 0 on success. */
static int
sh(const char *dir, const char *cmd)
{
    char full[1024];

    snprintf(full, sizeof(full), "cd %s && { %s; } >/dev/null 2>&1", dir, cmd);
    return system(full);
}

static long
read_in(const char *dir, const char *name, uint8_t *p, size_t cap)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return read_file(path, p, cap);
}

static int
write_in(const char *dir, const char *name, const void *p, size_t n)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return write_file(path, p, n);
}

/* Private keys in and out: every key openssl makes for prime256v1 is
 * read (SEC1 with its EC PARAMETERS block, PKCS#8, DER), every other
 * kind is refused with a reason, keel's exports read back in openssl,
 * and truncated, oversized and garbage input is refused. */
static void
test_keyfmt(void)
{
    static uint8_t buf[8192], der[CRYPTO_PRIV_DER_MAX];
    char dir[] = "/tmp/keel-ut-keyfmt-XXXXXX", pem[CRYPTO_PRIV_PEM_MAX];
    struct crypto_eckey k, k2;
    const char *why;
    int priv, n;
    long len;

    UT_CHECK(mkdtemp(dir) != NULL);
    UT_CASE("keys: openssl prime256v1 keys import (SEC1, PKCS#8, DER)");
    UT_CHECK_EQ(sh(dir, "openssl ecparam -name prime256v1 -genkey -out "
                        "sec1.pem && openssl pkey -in sec1.pem -out p8.pem && "
                        "openssl pkey -in sec1.pem -outform DER -out p8.der && "
                        "openssl ec -in sec1.pem -outform DER -out sec1.der && "
                        "openssl pkey -in sec1.pem -pubout -outform DER -out "
                        "pub.der && openssl pkey -in sec1.pem -pubout -out "
                        "pub.pem"),
                0);
    {
        static const char *const files[] = {"sec1.pem", "p8.pem", "p8.der",
                                            "sec1.der"};
        uint8_t spki[CRYPTO_SPKI_LEN], want[CRYPTO_SPKI_LEN];

        UT_CHECK_EQ(read_in(dir, "pub.der", want, sizeof(want)),
                    CRYPTO_SPKI_LEN);
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
            len = read_in(dir, files[i], buf, sizeof(buf));
            UT_CHECK(len > 0);
            UT_CHECK_EQ(crypto_key_parse(buf, (size_t)len, &k, &priv, &why), 0);
            UT_CHECK_EQ(priv, 1);
            crypto_spki_encode(k.pub, spki);
            UT_CHECK(memcmp(spki, want, sizeof(want)) == 0);
        }
        len = read_in(dir, "pub.pem", buf, sizeof(buf));
        UT_CHECK_EQ(crypto_key_parse(buf, (size_t)len, &k2, &priv, &why), 0);
        UT_CHECK_EQ(priv, 0);
        UT_CHECK(memcmp(k2.pub, k.pub, CRYPTO_EC_PUB_LEN) == 0);
    }

    UT_CASE("keys: keel's PKCS#8 and SEC1 exports read back in openssl");
    n = crypto_ec_priv_encode(&k, 1, der, sizeof(der));
    UT_CHECK(n > 100);
    UT_CHECK_EQ(crypto_ec_priv_encode(&k, 1, der, 20), -ENOBUFS);
    UT_CHECK(
        crypto_pem_encode(der, (size_t)n, "PRIVATE KEY", pem, sizeof(pem)) > 0);
    write_in(dir, "keel8.pem", pem, strlen(pem));
    n = crypto_ec_priv_encode(&k, 0, der, sizeof(der));
    UT_CHECK(n > 100);
    write_in(dir, "keel1.der", der, (size_t)n);
    UT_CHECK_EQ(sh(dir, "openssl pkey -in keel8.pem -pubout -outform DER "
                        "-out k8pub.der && cmp k8pub.der pub.der && "
                        "openssl ec -inform DER -in keel1.der -pubout "
                        "-outform DER -out k1pub.der && cmp k1pub.der "
                        "pub.der"),
                0);
    UT_CHECK_EQ(crypto_key_parse(pem, strlen(pem), &k2, &priv, &why), 0);
    UT_CHECK(memcmp(k2.priv, k.priv, CRYPTO_EC_PRIV_LEN) == 0);

    UT_CASE("keys: other curves and kinds are refused with a reason");
    {
        static const struct {
            const char *cmd, *file, *why;
            int rc;
        } bad[] = {
            {"openssl ecparam -name secp384r1 -genkey -out x.pem", "x.pem",
             "wrong curve secp384r1", -EPROTONOSUPPORT},
            {"openssl ecparam -name secp256k1 -genkey -out x.pem", "x.pem",
             "unsupported key", -EPROTONOSUPPORT},
            {"openssl ecparam -name prime256v1 -genkey -param_enc explicit "
             "-out x.pem",
             "x.pem", "explicit", -EINVAL},
            {"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 "
             "-out x.pem",
             "x.pem", "not an EC key", -EPROTONOSUPPORT},
            {"openssl genpkey -algorithm ed25519 -out x.pem", "x.pem", "",
             -EPROTONOSUPPORT},
            {"openssl pkey -in sec1.pem -aes128 -passout pass:x -out x.pem",
             "x.pem", "encrypted", -EPROTONOSUPPORT},
            {"openssl ecparam -name secp384r1 -genkey -noout | openssl pkey "
             "-pubout -out x.pem",
             "x.pem", "not a prime256v1 public key", -EINVAL},
            {"openssl req -x509 -key sec1.pem -subj /CN=k -out x.pem", "x.pem",
             "not a key", -EINVAL},
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            UT_CHECK_EQ(sh(dir, bad[i].cmd), 0);
            len = read_in(dir, bad[i].file, buf, sizeof(buf));
            n = crypto_key_parse(buf, (size_t)len, &k2, &priv, &why);
            if (n != bad[i].rc || strstr(why, bad[i].why) == NULL)
                printf("  key case %zu: rc %d why '%s'\n", i, n, why);
            UT_CHECK(n < 0);
            UT_CHECK(strstr(why, bad[i].why) != NULL);
            UT_CHECK(*why != '\0');
        }
    }

    UT_CASE("keys: every truncation of PEM and DER is refused");
    {
        int accepted = 0, silent = 0;

        len = read_in(dir, "p8.pem", buf, sizeof(buf));
        /* Dropping the final newline still leaves a whole PEM object. */
        for (long l = 0; l < len - 1; l++) {
            n = crypto_key_parse(buf, (size_t)l, &k2, &priv, &why);
            accepted += n == 0;
            silent += n < 0 && *why == '\0';
        }
        len = read_in(dir, "p8.der", buf, sizeof(buf));
        for (long l = 0; l < len; l++) {
            n = crypto_key_parse(buf, (size_t)l, &k2, &priv, &why);
            accepted += n == 0;
            silent += n < 0 && *why == '\0';
        }
        UT_CHECK_EQ(accepted, 0);
        UT_CHECK_EQ(silent, 0);
    }

    UT_CASE("keys: oversized, garbage, flipped and two-key input refused");
    {
        uint32_t x = 99;
        int accepted = 0;

        memset(buf, 'A', sizeof(buf));
        UT_CHECK_EQ(crypto_key_parse(buf, sizeof(buf), &k2, &priv, &why),
                    -E2BIG);
        for (int t = 0; t < 2000; t++) {
            size_t l = 1 + t % 300;

            for (size_t i = 0; i < l; i++) {
                x = x * 1103515245u + 12345u;
                buf[i] = (uint8_t)(x >> 16);
            }
            if (t & 1)
                buf[0] = 0x30;
            accepted += crypto_key_parse(buf, l, &k2, &priv, &why) == 0;
        }
        UT_CHECK_EQ(accepted, 0);
        /* a flipped bit inside the scalar's DER changes the key or breaks
         * the encoding; in the tag bytes it must break it */
        len = read_in(dir, "p8.der", buf, sizeof(buf));
        buf[0] ^= 0x01;
        UT_CHECK(crypto_key_parse(buf, (size_t)len, &k2, &priv, &why) < 0);
        buf[0] ^= 0x01;
        buf[len] = 0;
        UT_CHECK_EQ(crypto_key_parse(buf, (size_t)len + 1, &k2, &priv, &why),
                    -EINVAL);
        UT_CHECK(strstr(why, "trailing") != NULL);
        UT_CHECK_EQ(sh(dir, "cat p8.pem p8.pem > two.pem"), 0);
        len = read_in(dir, "two.pem", buf, sizeof(buf));
        UT_CHECK_EQ(crypto_key_parse(buf, (size_t)len, &k2, &priv, &why),
                    -EINVAL);
        UT_CHECK(strstr(why, "more than one") != NULL);
        /* a zero scalar in a well-formed SEC1 key */
        n = crypto_ec_priv_encode(&k, 0, der, sizeof(der));
        for (int i = 0; i < n - 32; i++)
            if (der[i] == 0x04 && der[i + 1] == 32) {
                memset(der + i + 2, 0, 32);
                break;
            }
        UT_CHECK_EQ(crypto_ec_priv_decode(der, (size_t)n, &k2, &why), -EINVAL);
        UT_CHECK(strstr(why, "out of range") != NULL);
    }
    {
        char cmd[300];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            printf("note: could not remove %s\n", dir);
    }
}

/* ---- known answers from tests/vectors/ (sources in its README) ---- */

static const char *
vec_dir(void)
{
    const char *d = getenv("KEEL_VECTORS");

    return d != NULL ? d : "tests/vectors";
}

/* Hex of any length into out (cap bytes), trailing white space ignored;
 * returns the byte count or -1. */
static long
unhex_n(const char *h, uint8_t *out, size_t cap)
{
    size_t n = strlen(h);

    while (n > 0 && (h[n - 1] == '\n' || h[n - 1] == '\r' || h[n - 1] == ' '))
        n--;
    return lib_hex_decode(h, n, out, cap);
}

/* The value of "Name = value" when line starts with name, else NULL. */
static const char *
field(const char *line, const char *name)
{
    size_t n = strlen(name);

    if (strncmp(line, name, n) != 0 || strncmp(line + n, " = ", 3) != 0)
        return NULL;
    return line + n + 3;
}

static FILE *
vec_open(const char *name)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", vec_dir(), name);
    f = fopen(path, "r");
    if (f == NULL)
        printf("  cannot open %s\n", path);
    return f;
}

static void
test_vectors(void)
{
    static char line[70000];
    static uint8_t msg[33000], a[256], b[256];
    FILE *f;
    long mlen = -1, len = 0;
    int cases, bad;

    UT_CASE("SHA-256: NIST CAVP SHAVS ShortMsg (65 messages)");
    f = vec_open("sha256-shortmsg.rsp");
    UT_CHECK(f != NULL);
    cases = bad = 0;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        const char *v;

        if ((v = field(line, "Len")) != NULL)
            len = atol(v) / 8;
        else if ((v = field(line, "Msg")) != NULL)
            mlen = unhex_n(v, msg, sizeof(msg));
        else if ((v = field(line, "MD")) != NULL) {
            uint8_t h[32];

            unhex_n(v, a, sizeof(a));
            crypto_sha256(msg, (size_t)len, h);
            bad += mlen < len || memcmp(h, a, 32) != 0;
            cases++;
        }
    }
    if (f != NULL)
        fclose(f);
    UT_CHECK_EQ(cases, 65);
    UT_CHECK_EQ(bad, 0);

    UT_CASE("SHA-256: NIST CAVP SHAVS Monte Carlo (100 checkpoints)");
    f = vec_open("sha256-monte.rsp");
    UT_CHECK(f != NULL);
    cases = bad = 0;
    {
        uint8_t md[3][32], seed[32];

        while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
            const char *v;

            if ((v = field(line, "Seed")) != NULL) {
                unhex_n(v, seed, sizeof(seed));
            } else if ((v = field(line, "MD")) != NULL) {
                for (int i = 0; i < 3; i++)
                    memcpy(md[i], seed, 32);
                for (int i = 3; i < 1003; i++) {
                    struct crypto_sha256 c;
                    uint8_t h[32];

                    crypto_sha256_init(&c);
                    for (int j = 0; j < 3; j++)
                        crypto_sha256_update(&c, md[j], 32);
                    crypto_sha256_final(&c, h);
                    memmove(md[0], md[1], 64);
                    memcpy(md[2], h, 32);
                }
                memcpy(seed, md[2], 32);
                unhex_n(v, a, sizeof(a));
                bad += memcmp(seed, a, 32) != 0;
                cases++;
            }
        }
    }
    if (f != NULL)
        fclose(f);
    UT_CHECK_EQ(cases, 100);
    UT_CHECK_EQ(bad, 0);

    UT_CASE("HMAC-SHA256: RFC 4231 (6 full-length cases)");
    f = vec_open("hmac-sha256-rfc4231.txt");
    UT_CHECK(f != NULL);
    cases = bad = 0;
    {
        long klen = 0;

        while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
            const char *v;

            if ((v = field(line, "Key")) != NULL)
                klen = unhex_n(v, b, sizeof(b));
            else if ((v = field(line, "Msg")) != NULL)
                mlen = unhex_n(v, msg, sizeof(msg));
            else if ((v = field(line, "MD")) != NULL) {
                uint8_t h[32];

                unhex_n(v, a, sizeof(a));
                crypto_hmac_sha256(b, (size_t)klen, msg, (size_t)mlen, h);
                bad += klen < 0 || mlen < 0 || memcmp(h, a, 32) != 0;
                cases++;
            }
        }
    }
    if (f != NULL)
        fclose(f);
    UT_CHECK_EQ(cases, 6);
    UT_CHECK_EQ(bad, 0);

    UT_CASE("HMAC-DRBG: NIST CAVP HMAC_DRBG SHA-256 no reseed (30 cases)");
    f = vec_open("hmac-drbg-sha256.txt");
    UT_CHECK(f != NULL);
    cases = bad = 0;
    {
        uint8_t seed[64], pers[64];
        long slen = 0, plen = 0;

        while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
            const char *v;

            if ((v = field(line, "Seed")) != NULL)
                slen = unhex_n(v, seed, sizeof(seed));
            else if ((v = field(line, "Pers")) != NULL)
                plen = unhex_n(v, pers, sizeof(pers));
            else if ((v = field(line, "Output")) != NULL) {
                struct crypto_drbg d;
                long olen = unhex_n(v, a, sizeof(a));

                bad += crypto_drbg_instantiate(&d, seed, (size_t)slen, pers,
                                               (size_t)plen) != 0;
                crypto_drbg_generate(&d, b, (size_t)olen);
                crypto_drbg_generate(&d, b, (size_t)olen);
                bad += olen != 128 || memcmp(a, b, 128) != 0;
                cases++;
            }
        }
    }
    if (f != NULL)
        fclose(f);
    UT_CHECK_EQ(cases, 30);
    UT_CHECK_EQ(bad, 0);

    UT_CASE("ECDSA P-256: NIST CAVP FIPS 186-3 SigVer [P-256,SHA-256]");
    f = vec_open("ecdsa-p256-sha256-sigver.rsp");
    UT_CHECK(f != NULL);
    cases = bad = 0;
    {
        uint8_t pub[CRYPTO_EC_PUB_LEN], r[32], sv[32];
        int in_section = 0, npass = 0;

        while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
            const char *v;

            if (line[0] == '[')
                in_section = strncmp(line, "[P-256,SHA-256]", 15) == 0;
            if (!in_section)
                continue;
            if ((v = field(line, "Msg")) != NULL)
                mlen = unhex_n(v, msg, sizeof(msg));
            else if ((v = field(line, "Qx")) != NULL)
                pub[0] = 4, unhex_n(v, pub + 1, 32);
            else if ((v = field(line, "Qy")) != NULL)
                unhex_n(v, pub + 33, 32);
            else if ((v = field(line, "R")) != NULL)
                unhex_n(v, r, 32);
            else if ((v = field(line, "S")) != NULL)
                unhex_n(v, sv, 32);
            else if ((v = field(line, "Result")) != NULL) {
                uint8_t h[32], der[CRYPTO_SIG_MAX];
                int want = v[0] == 'P', got;
                size_t dl = 0;

                /* DER SEQUENCE of two INTEGERs, minimally encoded. */
                der[dl++] = 0x30;
                der[dl++] = 0;
                for (int i = 0; i < 2; i++) {
                    const uint8_t *x = i ? sv : r;
                    int z = 0;

                    while (z < 31 && x[z] == 0)
                        z++;
                    der[dl++] = 0x02;
                    der[dl++] = (uint8_t)(32 - z + (x[z] >= 0x80));
                    if (x[z] >= 0x80)
                        der[dl++] = 0;
                    memcpy(der + dl, x + z, (size_t)(32 - z));
                    dl += (size_t)(32 - z);
                }
                der[1] = (uint8_t)(dl - 2);
                crypto_sha256(msg, (size_t)mlen, h);
                got = crypto_ec_verify(pub, h, der, dl) == CRYPTO_VERIFIED;
                bad += got != want;
                npass += want;
                cases++;
            }
        }
        if (f != NULL)
            fclose(f);
        UT_CHECK_EQ(cases, 15);
        UT_CHECK(npass > 0 && npass < cases);
        UT_CHECK_EQ(bad, 0);
    }
}

/* Hardware and portable SHA-256 agree for every length 0..300 and any
 * split of the input into updates. */
static void
test_sha_paths(void)
{
    uint8_t msg[300], a[32], b[32];
    uint32_t x = 5;
    int differ = 0;

    UT_CASE("SHA-256: hardware and BearSSL agree on every length and split");
    if (!crypto_sha256_hw()) {
        UT_SKIP("no SHA instructions on this CPU: portable path only");
        return;
    }
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7 + 1);
    for (size_t len = 0; len <= sizeof(msg); len++) {
        for (int hw = 0; hw < 2; hw++) {
            struct crypto_sha256 c;
            size_t off = 0;

            crypto_sha256_use_hw(hw);
            crypto_sha256_init(&c);
            while (off < len) {
                size_t n;

                x = x * 1103515245u + 12345u;
                n = (x >> 16) % 70;
                if (n > len - off)
                    n = len - off;
                crypto_sha256_update(&c, msg + off, n);
                off += n;
            }
            crypto_sha256_final(&c, hw ? a : b);
        }
        differ += memcmp(a, b, 32) != 0;
    }
    crypto_sha256_use_hw(1);
    UT_CHECK_EQ(differ, 0);
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

    UT_CASE("ECDSA: malformed and out-of-range signatures are refused");
    {
        /* Rebuild sig as r, s with tweaks: a non-minimal INTEGER, r or s
         * of zero, r = n, a trailing byte, a wrong outer length. */
        static const uint8_t n_be[32] = {
            0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
            0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
        uint8_t r[33], sv[33], t[CRYPTO_SIG_MAX + 4];
        size_t rl = sig[3], sl = sig[5 + rl], tl;

        memcpy(r, sig + 4, rl);
        memcpy(sv, sig + 6 + rl, sl);
        /* r with one extra leading zero byte */
        tl = 0;
        t[tl++] = 0x30;
        t[tl++] = (uint8_t)(rl + sl + 5);
        t[tl++] = 0x02;
        t[tl++] = (uint8_t)(rl + 1);
        t[tl++] = 0;
        memcpy(t + tl, r, rl);
        tl += rl;
        t[tl++] = 0x02;
        t[tl++] = (uint8_t)sl;
        memcpy(t + tl, sv, sl);
        tl += sl;
        UT_CHECK_EQ(crypto_ec_verify(k.pub, h, t, tl), -EBADMSG);
        /* trailing byte after a valid signature */
        memcpy(t, sig, (size_t)n);
        t[n] = 0;
        UT_CHECK_EQ(crypto_ec_verify(k.pub, h, t, (size_t)n + 1), -EBADMSG);
        /* r = 0, s = 0 */
        {
            const uint8_t z[] = {0x30, 0x06, 0x02, 0x01,
                                 0x00, 0x02, 0x01, 0x01};
            const uint8_t z2[] = {0x30, 0x06, 0x02, 0x01,
                                  0x01, 0x02, 0x01, 0x00};

            UT_CHECK_EQ(crypto_ec_verify(k.pub, h, z, sizeof(z)), -EBADMSG);
            UT_CHECK_EQ(crypto_ec_verify(k.pub, h, z2, sizeof(z2)), -EBADMSG);
        }
        /* r = n (r mod n would be 0) */
        tl = 0;
        t[tl++] = 0x30;
        t[tl++] = (uint8_t)(33 + 2 + sl + 2);
        t[tl++] = 0x02;
        t[tl++] = 33;
        t[tl++] = 0;
        memcpy(t + tl, n_be, 32);
        tl += 32;
        t[tl++] = 0x02;
        t[tl++] = (uint8_t)sl;
        memcpy(t + tl, sv, sl);
        tl += sl;
        UT_CHECK_EQ(crypto_ec_verify(k.pub, h, t, tl), -EBADMSG);
        /* outer length one too long */
        memcpy(t, sig, (size_t)n);
        t[1]++;
        UT_CHECK_EQ(crypto_ec_verify(k.pub, h, t, (size_t)n), -EBADMSG);
    }

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
    test_keyfmt();
    test_vectors();
    if (crypto_sha256_hw()) {
        /* again through BearSSL's portable code, and the two compared */
        printf("  (SHA-256 vectors above ran on SHA-NI; again on BearSSL)\n");
        crypto_sha256_use_hw(0);
        test_vectors();
        crypto_sha256_use_hw(1);
    }
    test_sha_paths();
    return ut_done();
}
