/*
 * tests/unit/test_chain.c - the chain layer: nighthash's hashes against
 * known answers, peach against five real mainnet trailers, Trigg's
 * grammar, every v3 rule at its boundary, difficulty and weight.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md2.h>

#include "../../hal/sim/flash_sim.h"
#include "chain/chain.h"
#include "chain/gen.h"
#include "chain/peach.h"
#include "chain/trailer.h"
#include "crypto/crypto.h"
#include "lib/le.h"
#include "lib/hex.h"
#include "peach_ref.h"
#include "ut.h"
#include "ut_mem.h"

/* Hex of any even length into out (large enough: a test's own data). */
static void
unhex(const char *h, uint8_t *out)
{
    if (lib_hex_decode(h, strlen(h), out, strlen(h) / 2) < 0)
        abort();
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

    UT_CASE("SHA3-256 at the rate boundary (135..137 bytes)");
    {
        /* SHA3-256 of the bytes 0, 1, ..., n-1 for n = 135, 136, 137: the
         * message ends one byte before, on, and one byte after the
         * 136-byte rate. The answers were computed with Python's hashlib
         * and agree with `openssl dgst -sha3-256`; they are constants so
         * the test needs neither at run time. */
        static const char *const want[] = {
            "fded8fd9d6551c601eeb3b7c6bc5e5cfd8aad1d015b7e9aaa9c9b9475231d5e2",
            "cf3ccff92480a29160c2d38317c430e14749bfee1788106957dfe73f8c4930e5",
            "ce9d7dc90913ee5d92745019479a5352c6d6279bef18ed07dc0a83ee8084daca",
        };
        uint8_t m[137];

        for (int i = 0; i < 137; i++)
            m[i] = (uint8_t)i;
        for (int n = 135; n <= 137; n++) {
            crypto_sha3_256(m, (size_t)n, h);
            UT_CHECK(hash_is(h, want[n - 135]));
        }
    }

    UT_CASE("SHA-1, MD5 (RFC 3174, 1321: \"abc\")");
    crypto_sha1("abc", 3, h);
    UT_CHECK(hash_is(h, "a9993e364706816aba3e25717850c26c9cd0d89d"));
    crypto_md5("abc", 3, h);
    UT_CHECK(hash_is(h, "900150983cd24fb0d6963f7d28e17f72"));

    UT_CASE("MD2: the RFC 1319 test suite (A.5)");
    {
        static const struct {
            const char *msg, *md;
        } rfc[] = {
            {"", "8350e5a3e24c153df2275c9f80692773"},
            {"a", "32ec01ec4a6dac72c0ab96fb34c0b5d1"},
            {"abc", "da853b0d3f88d99b30283a69e6ded6bb"},
            {"message digest", "ab4f496bfb2a530b219ff33031fe06b0"},
            {"abcdefghijklmnopqrstuvwxyz", "4e8ddff3650292ab5a4108c3aa47940b"},
            {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
             "da33def2a42df13975352846c30338cd"},
            {"1234567890123456789012345678901234567890123456789012345678901234"
             "5678901234567890",
             "d5976f79d83d3a0dc9806c3c66f3efd8"},
        };

        for (size_t i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
            crypto_md2(rfc[i].msg, strlen(rfc[i].msg), h);
            UT_CHECK(hash_is(h, rfc[i].md));
        }
    }

    UT_CASE("MD2: keel's against mbedTLS's on random input, 0..1100 bytes");
    {
        /* every length up to 1,100 (the 36-byte tile rows and 1,060-byte
         * jumps of peach among them), random bytes, unaligned starts */
        static uint8_t buf[1104];
        uint32_t s = 1319;
        unsigned bad = 0;

        for (size_t n = 0; n <= 1100; n++) {
            uint8_t want[16];

            for (size_t i = 0; i < sizeof(buf); i++) {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                buf[i] = (uint8_t)(s >> 11);
            }
            crypto_md2(buf + n % 4, n, h);
            (void)mbedtls_md2_ret(buf + n % 4, n, want);
            bad += memcmp(h, want, 16) != 0;
        }
        UT_CHECK_EQ(bad, 0);
    }

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

/* ---- peach against the plain oracle (peach_ref.c) ---- */

static uint32_t prs = 18;

static uint32_t
prnd(void *arg)
{
    (void)arg;
    prs ^= prs << 13;
    prs ^= prs >> 17;
    prs ^= prs << 5;
    return prs;
}

static void
test_peach_oracle(void)
{
    unsigned bad = 0;

    UT_CASE("peach: 200 random trailers, F as the plain reference has it");
    for (int n = 0; n < 200; n++) {
        uint8_t t[160], fin[32], want[32];

        /* random everything, then a nonce that is two haiku so that
         * peach_check gets past the syntax check to F */
        for (int i = 0; i < 160; i++)
            t[i] = (uint8_t)(prnd(NULL) >> 9);
        trigg_generate(prnd, NULL, t + 92);
        trigg_generate(prnd, NULL, t + 108);
        t[56] = (uint8_t)(n % 3); /* hit or miss: F is written either way */
        (void)peach_check(t, fin);
        peach_ref_final(t, want);
        bad += memcmp(fin, want, 32) != 0;
    }
    UT_CHECK_EQ(bad, 0);
}

/* ---- rules ---- */

static uint32_t rs = 99;

static uint32_t
rnd(void *arg)
{
    (void)arg;
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return rs;
}

static void
rehash(uint8_t t[160])
{
    crypto_sha256(t, 128, t + 128);
}

/* A valid standard successor of p on testnet, gap seconds after it. */
static void
successor(const struct chain_profile *pf, const uint8_t p[160], uint32_t gap,
          uint8_t t[160])
{
    struct trailer pt, tt;

    trailer_decode(p, &pt);
    memset(&tt, 0, sizeof(tt));
    memcpy(tt.phash, pt.bhash, 32);
    tt.bnum = pt.bnum + 1;
    tt.mfee = 500;
    tt.tcount = 1;
    tt.time0 = pt.stime;
    tt.difficulty = chain_next_difficulty(pf, &pt);
    for (int i = 0; i < 32; i++)
        tt.mroot[i] = (uint8_t)rnd(NULL);
    tt.stime = tt.time0 + gap;
    trailer_encode(&tt, t);
    if (peach_mine(t, tt.difficulty & 0xff, 10000, rnd, NULL) != 0)
        abort();
    rehash(t);
}

static enum chain_reason
check(const struct chain_profile *pf, const uint8_t p[160],
      const uint8_t t[160], int pow)
{
    struct chain_opts o = {1900000000, pow};

    return chain_check(pf, p, t, &o);
}

/* Set a u32 field at off, re-hash, check. */
static enum chain_reason
with32(const struct chain_profile *pf, const uint8_t p[160],
       const uint8_t t0[160], int off, uint32_t v, int pow)
{
    uint8_t t[160];

    memcpy(t, t0, 160);
    lib_put32(t + off, v);
    rehash(t);
    return check(pf, p, t, pow);
}

static void
test_rules_v3(void)
{
    const struct chain_profile *pf = &chain_testnet;
    uint8_t g[160], t[160], u[160];
    struct trailer gt, tt;

    chain_genesis(pf, g);
    trailer_decode(g, &gt);
    successor(pf, g, 100, t);
    trailer_decode(t, &tt);

    UT_CASE("v3: a mined successor is valid; linkage and bnum");
    UT_CHECK_EQ(check(pf, g, t, 1), CHAIN_OK);
    memcpy(u, t, 160);
    u[TRAILER_PHASH + 5] ^= 1;
    rehash(u);
    UT_CHECK_EQ(check(pf, g, u, 0), CHAIN_R_PHASH);
    memcpy(u, t, 160);
    lib_put32(u + TRAILER_BNUM, 2);
    rehash(u);
    UT_CHECK_EQ(check(pf, g, u, 0), CHAIN_R_BNUM);

    /* One field of the mined successor set to a value: the verdict.
     * Values relative to the successor's own time0 or difficulty are
     * given as offsets from it (rel). */
    {
        enum { ABS, REL_TIME0, REL_DIFF };
        static const struct {
            const char *what;
            int off, rel;
            int64_t v;
            enum chain_reason want;
        } rules[] = {
            {"mfee at the minimum", TRAILER_MFEE, ABS, 500, CHAIN_OK},
            {"mfee below it", TRAILER_MFEE, ABS, 499, CHAIN_R_MFEE},
            {"tcount at the most", TRAILER_TCOUNT, ABS, 32768, CHAIN_OK},
            {"tcount above it", TRAILER_TCOUNT, ABS, 32769, CHAIN_R_TCOUNT},
            {"block time 238", TRAILER_STIME, REL_TIME0, 238, CHAIN_OK},
            {"block time 239", TRAILER_STIME, REL_TIME0, 239, CHAIN_R_TIME_GAP},
            {"stime == time0", TRAILER_STIME, REL_TIME0, 0, CHAIN_R_TIME_EQ},
            {"time0 not the parent's stime", TRAILER_TIME0, REL_TIME0, -1,
             CHAIN_R_TIME0},
            {"difficulty one above next", TRAILER_DIFFICULTY, REL_DIFF, 1,
             CHAIN_R_DIFF},
            {"difficulty's upper bytes", TRAILER_DIFFICULTY, REL_DIFF, 0x100,
             CHAIN_R_DIFF},
        };

        UT_CASE("v3: each field at and beyond its bound (table)");
        for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
            int64_t base = rules[i].rel == REL_TIME0  ? tt.time0
                           : rules[i].rel == REL_DIFF ? tt.difficulty
                                                      : 0;
            uint32_t v =
                (uint32_t)(rules[i].rel == REL_DIFF && rules[i].v == 0x100
                               ? (uint64_t)base | 0x100
                               : (uint64_t)(base + rules[i].v));
            enum chain_reason got = with32(pf, g, t, rules[i].off, v, 0);

            if (got != rules[i].want)
                printf("  %s: %s, want %s\n", rules[i].what,
                       chain_reason_str(got), chain_reason_str(rules[i].want));
            UT_CHECK_EQ(got, rules[i].want);
        }
    }

    UT_CASE("v3: stime at most now + 3");
    {
        struct chain_opts o = {(int64_t)tt.stime - 3, 0};

        UT_CHECK_EQ(chain_check(pf, g, t, &o), CHAIN_OK);
        o.now--;
        UT_CHECK_EQ(chain_check(pf, g, t, &o), CHAIN_R_FUTURE);
    }

    UT_CASE("v3: bhash, haiku syntax and proof of work");
    memcpy(u, t, 160);
    u[TRAILER_BHASH + 12] ^= 1;
    UT_CHECK_EQ(check(pf, g, u, 0), CHAIN_R_BHASH);
    memcpy(u, t, 160);
    u[TRAILER_NONCE] = 0; /* no frame starts with an empty token */
    rehash(u);
    UT_CHECK_EQ(check(pf, g, u, 1), CHAIN_R_POW_SYNTAX);
    UT_CHECK_EQ(check(pf, g, u, 0), CHAIN_OK);
    {
        /* a haiku that misses difficulty 8 (most do) */
        int missed = 0;

        memcpy(u, t, 160);
        lib_put32(u + TRAILER_DIFFICULTY, 8);
        for (int i = 0; i < 20 && !missed; i++) {
            trigg_generate(rnd, NULL, u + TRAILER_NONCE);
            trigg_generate(rnd, NULL, u + TRAILER_NONCE + 16);
            missed = peach_check(u, NULL) == PEACH_MISS;
        }
        UT_CHECK(missed);
    }

    UT_CASE("v3: pseudo-block gap is exactly 238; its fields are empty");
    {
        struct trailer ps = tt;

        ps.mfee = 0;
        ps.tcount = 0;
        memset(ps.nonce, 0, 32);
        ps.stime = ps.time0 + 238;
        trailer_encode(&ps, u);
        rehash(u);
        UT_CHECK_EQ(check(pf, g, u, 1), CHAIN_OK);
        UT_CHECK_EQ(with32(pf, g, u, TRAILER_STIME, ps.time0 + 237, 0),
                    CHAIN_R_PSEUDO_GAP);
        UT_CHECK_EQ(with32(pf, g, u, TRAILER_MFEE, 1, 0), CHAIN_R_NG_FIELDS);
        u[TRAILER_NONCE + 8] = 1;
        rehash(u);
        UT_CHECK_EQ(check(pf, g, u, 0), CHAIN_R_NG_FIELDS);
    }

    UT_CASE("v3: NG blocks copy time0, difficulty and stime");
    {
        struct trailer p = tt, ng;
        uint8_t pb[160];

        p.bnum = 255;
        trailer_encode(&p, pb);
        rehash(pb);
        trailer_decode(pb, &p);
        memset(&ng, 0, sizeof(ng));
        memcpy(ng.phash, p.bhash, 32);
        ng.bnum = 256;
        ng.time0 = p.time0;
        ng.difficulty = p.difficulty;
        ng.stime = p.stime;
        memset(ng.mroot, 7, 32); /* allowed from v3 on */
        trailer_encode(&ng, u);
        rehash(u);
        UT_CHECK_EQ(check(pf, pb, u, 1), CHAIN_OK);
        UT_CHECK_EQ(with32(pf, pb, u, TRAILER_STIME, p.stime + 1, 0),
                    CHAIN_R_NG_COPY);
        UT_CHECK_EQ(with32(pf, pb, u, TRAILER_DIFFICULTY, p.difficulty + 1, 0),
                    CHAIN_R_NG_COPY);
        UT_CHECK_EQ(with32(pf, pb, u, TRAILER_TCOUNT, 1, 0), CHAIN_R_NG_FIELDS);
    }
}

static void
test_rules_mainnet_heights(void)
{
    const struct chain_profile *pf = &chain_mainnet;
    struct trailer p, t;
    uint8_t pb[160], tb[160];

    memset(&p, 0, sizeof(p));
    p.bnum = 0x20000; /* after the gap rule, before v3 */
    p.time0 = 1000000;
    p.stime = 1000300;
    p.difficulty = 20;
    trailer_encode(&p, pb);
    memset(&t, 0, sizeof(t));
    t.bnum = p.bnum + 1;
    t.mfee = 500;
    t.tcount = 3;
    t.time0 = p.stime;
    t.stime = t.time0 + 949;
    t.difficulty = chain_next_difficulty(pf, &p);
    trailer_encode(&t, tb);

    UT_CASE("mainnet before v3: 949 s gap, mroot rule, no bhash rule");
    UT_CHECK_EQ(check(pf, pb, tb, 0), CHAIN_OK);
    UT_CHECK_EQ(with32(pf, pb, tb, 124, t.time0 + 950, 0), CHAIN_R_TIME_GAP);
    {
        uint8_t u[160];

        memcpy(u, tb, 160);
        u[150] ^= 1; /* bhash is not checked before v3 */
        UT_CHECK_EQ(check(pf, pb, u, 0), CHAIN_OK);
    }

    UT_CASE("mainnet: the gap rule skips 0x..ff blocks up to 0x1b6ff");
    p.bnum = 0x150fe;
    trailer_encode(&p, pb);
    t.bnum = 0x150ff;
    t.stime = t.time0 + 5000;
    trailer_encode(&t, tb);
    UT_CHECK_EQ(check(pf, pb, tb, 0), CHAIN_OK);
    p.bnum = 0x1b7fe;
    trailer_encode(&p, pb);
    t.bnum = 0x1b7ff;
    trailer_encode(&t, tb);
    UT_CHECK_EQ(check(pf, pb, tb, 0), CHAIN_R_TIME_GAP);

    UT_CASE("mainnet: time0 link only above 0x4321");
    p.bnum = 0x4320;
    p.difficulty = 20;
    trailer_encode(&p, pb);
    t.bnum = 0x4321;
    t.time0 = p.stime - 50;
    t.stime = t.time0 + 300;
    t.difficulty = chain_next_difficulty(pf, &p);
    trailer_encode(&t, tb);
    UT_CHECK_EQ(check(pf, pb, tb, 0), CHAIN_OK);
    p.bnum = 0x4321;
    trailer_encode(&p, pb);
    t.bnum = 0x4322;
    t.difficulty = chain_next_difficulty(pf, &p);
    trailer_encode(&t, tb);
    UT_CHECK_EQ(check(pf, pb, tb, 0), CHAIN_R_TIME0);

    UT_CASE("mainnet: NG and pseudo-blocks before v3 have no mroot");
    p.bnum = 0x300ff;
    p.stime = p.time0 + 300;
    trailer_encode(&p, pb);
    memset(&t, 0, sizeof(t));
    t.bnum = 0x30100;
    t.time0 = p.time0;
    t.difficulty = p.difficulty;
    t.stime = p.stime;
    trailer_encode(&t, tb);
    UT_CHECK_EQ(check(pf, pb, tb, 0), CHAIN_OK);
    tb[70] = 1;
    UT_CHECK_EQ(check(pf, pb, tb, 0), CHAIN_R_NG_MROOT);

    UT_CASE("mainnet: block 0x52d3c passes without peach only by its bhash");
    p.bnum = 0x52d3b;
    trailer_encode(&p, pb);
    memset(&t, 0, sizeof(t));
    t.bnum = 0x52d3c;
    t.mfee = 500;
    t.tcount = 1;
    t.time0 = p.stime;
    t.stime = t.time0 + 300;
    t.difficulty = chain_next_difficulty(pf, &p);
    memcpy(t.bhash, pf->bad_pow_bhash, 32);
    trailer_encode(&t, tb);
    UT_CHECK_EQ(check(pf, pb, tb, 1), CHAIN_OK);
    tb[130] ^= 1;
    UT_CHECK_EQ(check(pf, pb, tb, 1), CHAIN_R_POW);
}

static void
test_difficulty_weight(void)
{
    const struct chain_profile *pf = &chain_mainnet;
    struct trailer p;

    UT_CASE("next_difficulty: v3 thresholds 138/69 at their boundaries");
    memset(&p, 0, sizeof(p));
    p.bnum = 0xa0700;
    p.difficulty = 30;
    p.time0 = 1000;
    for (uint32_t s = 60; s < 150; s++) {
        uint32_t want = s > 138 ? 29 : s < 69 ? 31 : 30;

        p.stime = p.time0 + s;
        UT_CHECK_EQ(chain_next_difficulty(pf, &p), want);
    }
    p.stime = p.time0 - 1; /* negative block time: unchanged */
    UT_CHECK_EQ(chain_next_difficulty(pf, &p), 30);
    p.difficulty = 0;
    p.stime = p.time0 + 500;
    UT_CHECK_EQ(chain_next_difficulty(pf, &p), 0);
    p.difficulty = 255;
    p.stime = p.time0 + 1;
    UT_CHECK_EQ(chain_next_difficulty(pf, &p), 255);

    UT_CASE("next_difficulty: 284/143 with the stime hash, and 506/253");
    p.bnum = 0x4400;
    p.difficulty = 30;
    p.time0 = 1000;
    p.stime = p.time0 + 285;
    {
        uint32_t h = (p.stime >> 6) ^ p.stime;

        UT_CHECK_EQ(chain_next_difficulty(pf, &p), 30 - 1 - (h & 1));
    }
    p.bnum = 0x4600; /* past the hash window */
    UT_CHECK_EQ(chain_next_difficulty(pf, &p), 29);
    p.stime = p.time0 + 142;
    UT_CHECK_EQ(chain_next_difficulty(pf, &p), 31);
    p.bnum = 0x100;
    p.stime = p.time0 + 507;
    UT_CHECK_EQ(chain_next_difficulty(pf, &p), 29);
    p.stime = p.time0 + 252;
    UT_CHECK_EQ(chain_next_difficulty(pf, &p), 31);
    p.stime = p.time0 + 300;
    UT_CHECK_EQ(chain_next_difficulty(pf, &p), 30);

    UT_CASE("weight: 2^d per trailer, 0x..ff skipped, carries, compare");
    {
        struct chain_weight a = {{0}}, b = {{0}};
        uint8_t t[160];
        char hx[65];

        memset(t, 0, sizeof(t));
        t[56] = 31;
        chain_weight_add(&a, t);
        chain_weight_add(&a, t);
        UT_CHECK_EQ(a.w[0], 0);
        UT_CHECK_EQ(a.w[1], 1);
        t[32] = 0xff; /* bnum 255 */
        chain_weight_add(&a, t);
        UT_CHECK_EQ(a.w[1], 1);
        t[32] = 1;
        t[56] = 255;
        chain_weight_add(&b, t);
        UT_CHECK_EQ(b.w[7], 0x80000000u);
        UT_CHECK(chain_weight_cmp(&a, &b) < 0);
        UT_CHECK(chain_weight_cmp(&b, &a) > 0);
        chain_weight_hex(&a, hx);
        UT_CHECK(strcmp(hx + 48, "0000000100000000") == 0);
    }
}

/* ---- the chain on flash ---- */

#define ES 4096u
#define STORE_SIZE (8 * 16384u)
#define LOG_SIZE (512 * ES)
#define DEV_SIZE (STORE_SIZE + LOG_SIZE)

static struct sim_flash dev;
static struct hal_flash pstore, plog;
static struct store st;
static struct clog lg;
static struct chain ch;

static struct mem
gen(const struct chaingen *g)
{
    struct mem m = {NULL, 0, 0};

    if (chaingen_run(g, mem_put, &m) != 0)
        abort();
    return m;
}

static void
dev_new(void)
{
    static const struct sim_flash_geom geo = {DEV_SIZE, ES, 16, 0xff};

    sim_flash_open_mem(&dev, &geo);
    sim_flash_partition(&dev, &pstore, "store", 0, STORE_SIZE);
    sim_flash_partition(&dev, &plog, "chain", STORE_SIZE, LOG_SIZE);
}

static int
mount(void)
{
    int rc = store_mount(&st, &pstore);

    if (rc == 0)
        rc = clog_mount(&lg, &plog, &st);
    if (rc == 0)
        rc = chain_open(&ch, &lg, &st);
    return rc;
}

/* Proofs are checked in full where the chain has a difficulty; at 0 a
 * proof is its haiku syntax (every hash meets difficulty 0). */
static const struct chain_opts now_opts = {1900000000, 1};

/* 1: the import tests run again through the streamed importer
 * (chain_rx_*, `chain receive`), fed in pieces of every size from 1 to
 * 1024 bytes as a YMODEM upload would be. */
static int streamed;

static int
import_stream(struct mem *m, const struct chain_opts *o,
              struct chain_import_res *r)
{
    static struct chain_rx rx;
    size_t off = 0, piece = 1;
    int rc = chain_rx_begin(&rx, &ch, m->len, o, r);

    while (rc == 0 && off < m->len) {
        size_t n = m->len - off < piece ? m->len - off : piece;

        rc = chain_rx_put(&rx, m->p + off, n);
        off += n;
        piece = piece % 1024 + 97;
    }
    if (rc < 0) {
        (void)chain_rx_end(&rx, 0);
        return rc;
    }
    return chain_rx_end(&rx, 1);
}

static int
import_with(struct mem *m, const struct chain_opts *o,
            struct chain_import_res *r)
{
    if (streamed)
        return import_stream(m, o, r);
    return chain_import(&ch, m->len, mem_read, m, o, r);
}

static int
import(struct mem *m, struct chain_import_res *r)
{
    return import_with(m, &now_opts, r);
}

/* Structure only: the power-cut runs re-import many times. */
static int
import_nopow(struct mem *m, struct chain_import_res *r)
{
    return import_with(m, &(struct chain_opts){1900000000, 0}, r);
}

/* Every stored trailer re-validates and the weight adds up. */
static int
stored_ok(void)
{
    uint8_t p[TRAILER_LEN], t[TRAILER_LEN];
    struct chain_weight w = ch.base_w;

    if (ch.count == 0)
        return 1;
    if (chain_read(&ch, ch.base, p) != 0)
        return 0;
    for (uint64_t b = ch.base + 1; b <= chain_tip_bnum(&ch); b++) {
        if (chain_read(&ch, b, t) != 0 ||
            chain_check(ch.pf, p, t, &(struct chain_opts){0, 0}) != CHAIN_OK)
            return 0;
        chain_weight_add(&w, t);
        memcpy(p, t, TRAILER_LEN);
    }
    return chain_weight_cmp(&w, &ch.w) == 0 &&
           memcmp(p, ch.tip, TRAILER_LEN) == 0;
}

static void
test_store_import(void)
{
    struct chaingen g = {10000, 0, 7, 11, 0, 0, 0, GEN_OK, 0};
    struct chain_import_res r;
    struct mem a, b;

    dev_new();
    UT_CHECK_EQ(mount(), 0);
    UT_CASE("import: a 10,000-block testnet chain, stored and re-validated");
    a = gen(&g);
    UT_CHECK_EQ(import(&a, &r), 0);
    UT_CHECK_EQ(r.appended, 10001);
    UT_CHECK_EQ(r.bad, CHAIN_OK);
    UT_CHECK(ch.pf == &chain_testnet);
    UT_CHECK_EQ(chain_tip_bnum(&ch), 10000);
    UT_CHECK(stored_ok());

    UT_CASE("export reproduces the bytes; the weight survives a remount");
    {
        uint8_t t[TRAILER_LEN];
        int same = 1;
        struct chain_weight w = ch.w;

        for (uint64_t k = 0; k <= 10000; k++)
            same &= chain_read(&ch, k, t) == 0 &&
                    memcmp(t, a.p + k * TRAILER_LEN, TRAILER_LEN) == 0;
        UT_CHECK(same);
        UT_CHECK_EQ(mount(), 0);
        UT_CHECK(chain_weight_cmp(&w, &ch.w) == 0);
        UT_CHECK_EQ(ch.recomputed, 0);
    }

    UT_CASE("import again: nothing to do; a lighter fork is refused");
    UT_CHECK_EQ(import(&a, &r), 0);
    UT_CHECK_EQ(r.appended, 0);
    UT_CHECK_EQ(r.fork, 10000);
    g.fork_at = 9500;
    g.fork_difficulty = 0;
    g.fork_seed = 5;
    g.blocks = 9900; /* same difficulty, shorter: lighter */
    b = gen(&g);
    UT_CHECK_EQ(import(&b, &r), 0);
    UT_CHECK_EQ(r.kept, 1);
    UT_CHECK_EQ(r.fork, 9499);
    UT_CHECK_EQ(chain_tip_bnum(&ch), 10000);

    UT_CASE("a heavier fork wins: truncate at the fork, append the branch");
    free(b.p);
    g.blocks = 9700;
    g.fork_difficulty = 3; /* 2^3 per block from the fork on */
    b = gen(&g);
    UT_CHECK_EQ(import(&b, &r), 0);
    UT_CHECK_EQ(r.replaced, 1);
    UT_CHECK_EQ(r.fork, 9499);
    UT_CHECK_EQ(chain_tip_bnum(&ch), 9700);
    UT_CHECK(stored_ok());
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK(stored_ok());
    free(b.p);

    UT_CASE("import: size not a multiple of 160, wrong genesis");
    {
        struct mem c = a;

        c.len -= 7;
        UT_CHECK_EQ(import(&c, &r), -EINVAL);
        UT_CHECK(strstr(ch.why, "not a multiple of 160") != NULL);
    }
    free(a.p);
    sim_flash_close(&dev);

    dev_new();
    UT_CHECK_EQ(mount(), 0);
    {
        struct mem c = {NULL, 0, 0};
        uint8_t junk[TRAILER_LEN];

        memset(junk, 1, sizeof(junk));
        mem_put(&c, junk);
        UT_CHECK_EQ(import(&c, &r), -EINVAL);
        UT_CHECK(strstr(ch.why, "genesis") != NULL);
        free(c.p);
    }
    sim_flash_close(&dev);
}

static void
test_broken_variants(void)
{
    static const struct {
        enum chaingen_break b;
        uint64_t at;
        unsigned diff;
    } cases[] = {
        {GEN_PHASH, 300, 0},   {GEN_BNUM, 300, 0},
        {GEN_MFEE, 300, 0},    {GEN_TCOUNT, 300, 0},
        {GEN_TIME_EQ, 300, 0}, {GEN_TIME_GAP, 300, 0},
        {GEN_TIME0, 300, 0},   {GEN_DIFF, 300, 0},
        {GEN_BHASH, 300, 0},   {GEN_POW_SYNTAX, 300, 0},
        {GEN_POW, 300, 4},     {GEN_NG_FIELDS, 256, 0},
        {GEN_NG_COPY, 256, 0}, {GEN_PSEUDO_GAP, 301, 0},
    };
    int wrong = 0;

    UT_CASE("every broken chaingen variant is refused at its block, with "
            "its reason, the valid prefix kept");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct chaingen g = {400, cases[i].diff, 7,          3, 0, 0,
                             0,   cases[i].b,    cases[i].at};
        struct chain_import_res r;
        struct mem m = gen(&g);

        dev_new();
        mount();
        if (import(&m, &r) != 0 || r.bad != chaingen_break_reason(cases[i].b) ||
            r.bad_bnum != cases[i].at ||
            chain_tip_bnum(&ch) != cases[i].at - 1 || !stored_ok()) {
            printf("  %s: rc reason %d (%s) at %llu, tip %llu\n",
                   chaingen_break_name(cases[i].b), r.bad,
                   chain_reason_str(r.bad), (unsigned long long)r.bad_bnum,
                   (unsigned long long)chain_tip_bnum(&ch));
            wrong++;
        }
        free(m.p);
        sim_flash_close(&dev);
    }
    UT_CHECK_EQ(wrong, 0);

    UT_CASE("a trailer from the future is refused by the device clock");
    {
        struct chaingen g = {50, 0, 0, 3, 0, 0, 0, GEN_OK, 0};
        struct mem m = gen(&g);
        struct chain_import_res r;
        struct trailer t;

        trailer_decode(m.p + 30 * TRAILER_LEN, &t);
        dev_new();
        mount();
        UT_CHECK_EQ(
            import_with(&m, &(struct chain_opts){(int64_t)t.stime - 4, 1}, &r),
            0);
        UT_CHECK_EQ(r.bad, CHAIN_R_FUTURE);
        UT_CHECK_EQ(r.bad_bnum, 30);
        UT_CHECK_EQ(chain_tip_bnum(&ch), 29);
        free(m.p);
        sim_flash_close(&dev);
    }
}

/* ---- mainnet-shaped chains (keel-chaingen --profile mainnet) ---- */

/* chaingen_run's out: check each trailer against the one before under a
 * profile's rules, proofs of work included, without keeping the chain
 * (660,000 trailers are 105 MB). */
struct ckr {
    const struct chain_profile *pf;
    uint8_t prev[TRAILER_LEN];
    uint64_t n, pows, pseudo_pre, ng_pre;
    enum chain_reason bad;
    uint64_t bad_bnum;
    struct chain_weight w;
    /* past v3, one standard block and one pseudo-block tampered with
     * (bhash; a haiku that misses, rehashed; a pseudo gap of 237,
     * rehashed): what the rules say of each (-1: not met yet) */
    int r_bhash, r_pow, r_gap;
    uint32_t rs;
};

static uint32_t
ckr_rnd(void *arg)
{
    uint32_t *s = arg;

    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Tamper with copies of t (bnum b, valid after prev) past v3. */
static void
ckr_tamper(struct ckr *k, uint64_t b, const uint8_t t[TRAILER_LEN])
{
    const struct chain_opts o = {1900000000, 1};
    uint8_t u[TRAILER_LEN];

    if (b < k->pf->v30 || (b & 0xff) == 0)
        return;
    memcpy(u, t, TRAILER_LEN);
    if (lib_le32(t + 48) != 0 && t[56] > 0 && k->r_pow < 0) {
        u[140] ^= 1;
        k->r_bhash = chain_check(k->pf, k->prev, u, &o);
        memcpy(u, t, TRAILER_LEN);
        for (int i = 0; i < 1000; i++) {
            trigg_generate(ckr_rnd, &k->rs, u + 92);
            trigg_generate(ckr_rnd, &k->rs, u + 108);
            if (peach_check(u, NULL) == PEACH_MISS)
                break;
        }
        crypto_sha256(u, 128, u + 128);
        k->r_pow = chain_check(k->pf, k->prev, u, &o);
    } else if (lib_le32(t + 48) == 0 && k->r_gap < 0) {
        lib_put32(u + 124, lib_le32(u + 124) - 1);
        crypto_sha256(u, 128, u + 128);
        k->r_gap = chain_check(k->pf, k->prev, u, &o);
    }
}

static int
ckr_put(void *arg, const uint8_t t[TRAILER_LEN])
{
    struct ckr *k = arg;
    uint64_t b = lib_le64(t + 32);

    if (k->n == 0) {
        uint8_t g[TRAILER_LEN];

        chain_genesis(k->pf, g);
        if (memcmp(g, t, TRAILER_LEN) != 0 && k->bad == CHAIN_OK) {
            k->bad = CHAIN_R_GENESIS;
            k->bad_bnum = 0;
        }
    } else if (k->bad == CHAIN_OK) {
        enum chain_reason r =
            chain_check(k->pf, k->prev, t, &(struct chain_opts){1900000000, 1});

        if (r != CHAIN_OK) {
            k->bad = r;
            k->bad_bnum = b;
        } else {
            ckr_tamper(k, b, t);
        }
        if (b >= k->pf->v30 && (b & 0xff) != 0 && lib_le32(t + 48) != 0 &&
            t[56] > 0)
            k->pows++; /* a peach check that decides (difficulty > 0) */
        if (b < k->pf->v30 && (b & 0xff) == 0)
            k->ng_pre++;
        else if (b < k->pf->v30 && lib_le32(t + 48) == 0 &&
                 lib_le32(t + 124) - lib_le32(t + 52) == 949)
            k->pseudo_pre++;
    }
    chain_weight_add(&k->w, t);
    memcpy(k->prev, t, TRAILER_LEN);
    k->n++;
    return 0;
}

static struct ckr
mint_check(uint64_t blocks, enum chaingen_break brk, uint64_t at)
{
    struct chaingen g = {blocks, 1, 25, 3, 0, 0, 0, brk, at, 1};
    struct ckr k;

    memset(&k, 0, sizeof(k));
    k.pf = &chain_mainnet;
    k.r_bhash = k.r_pow = k.r_gap = -1;
    k.rs = 77;
    if (chaingen_run(&g, ckr_put, &k) != 0)
        abort();
    return k;
}

static void
test_mainnet_shaped(void)
{
    const uint64_t v3 = chain_mainnet.v30;
    static const struct {
        enum chaingen_break b;
        uint64_t at;
        enum chain_reason want; /* CHAIN_OK: accepted as the rules say */
    } pre[] = {
        {GEN_PSEUDO_GAP, 1001, CHAIN_R_PSEUDO_GAP}, /* 949 s before v3 */
        {GEN_NG_COPY, 512, CHAIN_R_NG_COPY},
        {GEN_NG_FIELDS, 768, CHAIN_R_NG_FIELDS},
        {GEN_NG_MROOT, 0x4400, CHAIN_R_NG_MROOT},
        {GEN_NG_MROOT, 3001, CHAIN_R_NG_MROOT},
        {GEN_TIME0, 0x5001, CHAIN_R_TIME0},
        {GEN_TIME0, 0x4321, CHAIN_OK}, /* no time0 link up to 0x4321 */
        {GEN_DIFF, 0x9001, CHAIN_R_DIFF},
        {GEN_PHASH, 3000, CHAIN_R_PHASH},
        {GEN_BHASH, 2000, CHAIN_OK}, /* no bhash rule before v3 */
    };
    int wrong = 0;

    UT_CASE("mainnet-shaped chain: real genesis, pseudo and NG blocks to "
            "0xa0700, peach past it; valid under mainnet's rules, and past "
            "v3 a wrong bhash, a proof that misses and a pseudo gap of 237 "
            "refused");
    {
        struct ckr k = mint_check(v3 + 100, GEN_OK, 0);

        UT_CHECK_EQ(k.bad, CHAIN_OK);
        UT_CHECK_EQ(k.n, v3 + 101);
        UT_CHECK_EQ(k.ng_pre, v3 / 256 - 1);
        UT_CHECK_EQ(k.pseudo_pre, v3 - v3 / 256);
        UT_CHECK(k.pows >= 80); /* proofs at difficulty 1 past v3 */
        UT_CHECK_EQ(lib_le64(k.prev + 32), v3 + 100);
        /* weight: 1 a trailer below v3 but the 0x..ff ones, then 2^d */
        UT_CHECK(k.w.w[0] > v3 - v3 / 256 && k.w.w[0] < v3 - v3 / 256 + 300);
        UT_CHECK(k.w.w[1] == 0 && k.w.w[7] == 0);
        /* past v3 the rules bite: bhash, proof of work, the 238 s gap */
        UT_CHECK_EQ(k.r_bhash, CHAIN_R_BHASH);
        UT_CHECK_EQ(k.r_pow, CHAIN_R_POW);
        UT_CHECK_EQ(k.r_gap, CHAIN_R_PSEUDO_GAP);
        if (k.bad != CHAIN_OK)
            printf("  refused at %llu: %s\n", (unsigned long long)k.bad_bnum,
                   chain_reason_str(k.bad));
    }

    UT_CASE("mainnet-shaped chain: a broken trailer before v3 is refused "
            "with its reason (bhash and an early time0 are not rules "
            "there)");
    for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
        struct ckr k = mint_check(pre[i].at + 300, pre[i].b, pre[i].at);

        if (k.bad != pre[i].want ||
            (pre[i].want != CHAIN_OK && k.bad_bnum != pre[i].at)) {
            printf("  %s at %llu: %s at %llu\n", chaingen_break_name(pre[i].b),
                   (unsigned long long)pre[i].at, chain_reason_str(k.bad),
                   (unsigned long long)k.bad_bnum);
            wrong++;
        }
    }
    UT_CHECK_EQ(wrong, 0);
}

/* A log far smaller than the chain, and many mounts (runs): appends keep
 * working by trimming the oldest history, the weight kept whole. */
static void
test_chain_full(void)
{
    struct chaingen g = {3000, 0, 7, 13, 0, 0, 0, GEN_OK, 0};
    struct mem a = gen(&g);
    struct chain_weight full = {{0}};
    static const struct sim_flash_geom geo = {STORE_SIZE + 16 * ES, ES, 16,
                                              0xff};
    int bad = 0;

    for (size_t i = 0; i < a.len; i += TRAILER_LEN)
        chain_weight_add(&full, a.p + i);
    UT_CASE("full log and full run map: oldest history trimmed, weight kept");
    sim_flash_open_mem(&dev, &geo);
    sim_flash_partition(&dev, &pstore, "store", 0, STORE_SIZE);
    sim_flash_partition(&dev, &plog, "chain", STORE_SIZE, 16 * ES);
    /* (an import picks the network from the genesis; set it here) */
    /* one trailer per mount: every mount starts a new run */
    for (uint64_t b = 0; b <= 3000 && !bad; b++) {
        enum chain_reason r;
        uint64_t bb;

        if (b % 10 == 0) {
            bad += mount() != 0;
            if (ch.pf == NULL)
                ch.pf = &chain_testnet;
        }
        bad += chain_extend(&ch, a.p + b * TRAILER_LEN, 1,
                            &(struct chain_opts){0, 0}, &r, &bb) != 1;
    }
    UT_CHECK_EQ(bad, 0);
    UT_CHECK_EQ(chain_tip_bnum(&ch), 3000);
    UT_CHECK(ch.base > 0);
    UT_CHECK(ch.auto_trims > 0);
    UT_CHECK(chain_weight_cmp(&ch.w, &full) == 0);
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK(chain_weight_cmp(&ch.w, &full) == 0);
    UT_CHECK(stored_ok());
    free(a.p);
    sim_flash_close(&dev);
}

/* Flip a byte of the chain-log slot holding record index. */
static void
damage_record(uint32_t index)
{
    uint64_t off;

    if (clog_locate(&lg, index, &off) == 0)
        sim_flash_corrupt(&dev, plog.base + off + 40, 0x08);
    else
        UT_CHECK(!"record not stored");
}

static int
cancel_now(void *arg, uint64_t done, uint64_t total)
{
    (void)arg;
    (void)done;
    (void)total;
    return 1;
}

/* Issue #11: damage and a full store never wedge the chain. */
static void
test_chain_damage(void)
{
    struct chaingen g = {2000, 0, 7, 23, 0, 0, 0, GEN_OK, 0};
    struct chain_import_res r;
    struct mem a = gen(&g);
    struct chain_weight w;
    uint8_t t[TRAILER_LEN];

    dev_new();
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK_EQ(import_nopow(&a, &r), 0);
    w = ch.w;

    UT_CASE("damage: a bad slot amid valid ones is a hole, not the end");
    /* after the checkpoint: the mount replays it */
    damage_record(1500);
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK_EQ(chain_tip_bnum(&ch), 2000);
    UT_CHECK_EQ(lg.holes, 1);
    UT_CHECK(chain_weight_cmp(&ch.w, &w) == 0);
    UT_CHECK_EQ(chain_read(&ch, 1500, t), -EBADMSG);
    UT_CHECK_EQ(chain_read(&ch, 1501, t), 0);

    UT_CASE("damage: importing the good file again rewrites the hole");
    UT_CHECK_EQ(import_nopow(&a, &r), 0);
    UT_CHECK_EQ(r.damaged, 1);
    UT_CHECK_EQ(r.replaced, 1);
    UT_CHECK_EQ(r.fork, 1499);
    UT_CHECK(stored_ok());
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK(stored_ok());
    UT_CHECK(chain_weight_cmp(&ch.w, &w) == 0);

    UT_CASE("damage: an unreadable trailer can be trimmed past");
    damage_record(700);
    UT_CHECK_EQ(chain_read(&ch, 700, t), -EBADMSG);
    UT_CHECK_EQ(chain_trim(&ch, 800), 0);
    UT_CHECK_EQ(ch.base, 800);
    UT_CHECK(chain_weight_cmp(&ch.w, &w) == 0);
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK(stored_ok());
    UT_CHECK_EQ(chain_tip_bnum(&ch), 2000);
    sim_flash_close(&dev);

    UT_CASE("damage: a bad end of the log loses trailers, and says so");
    dev_new();
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK_EQ(import_nopow(&a, &r), 0);
    damage_record(2000); /* the last batch's end mark */
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK(ch.lost > 0);
    UT_CHECK_EQ(chain_tip_bnum(&ch) + ch.lost, 2000);
    UT_CHECK(stored_ok());
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK(ch.lost > 0); /* every open says so until the chain is written */
    UT_CHECK_EQ(import_nopow(&a, &r), 0);
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK_EQ(ch.lost, 0);
    UT_CHECK_EQ(chain_tip_bnum(&ch), 2000);
    UT_CHECK(chain_weight_cmp(&ch.w, &w) == 0);
    sim_flash_close(&dev);

    UT_CASE("full store: an import commits, says so, and the state follows");
    dev_new();
    UT_CHECK_EQ(mount(), 0);
    {
        static uint8_t v[STORE_VAL_MAX];
        char key[32];
        int i = 0;

        memset(v, 0x5a, sizeof(v));
        while (i < 10000) {
            snprintf(key, sizeof(key), "fill.%d", i++);
            if (store_put(&st, key, v, sizeof(v)) != 0)
                break;
        }
        while (i < 20000) {
            snprintf(key, sizeof(key), "tiny.%d", i++);
            if (store_put(&st, key, "x", 1) != 0)
                break;
        }
    }
    UT_CHECK_EQ(import_nopow(&a, &r), 0);
    UT_CHECK_EQ(r.appended, 2001);
    UT_CHECK_EQ(ch.state_stale, 1);
    UT_CHECK_EQ(mount(), 0); /* no state on flash: computed again */
    UT_CHECK_EQ(ch.rebuilt, 1);
    UT_CHECK_EQ(chain_tip_bnum(&ch), 2000);
    UT_CHECK(chain_weight_cmp(&ch.w, &w) == 0);
    UT_CHECK(stored_ok());
    UT_CHECK_EQ(ch.auto_trims, 0); /* a full store is not a full log */

    UT_CASE("chain reset drops the chain; a new one imports");
    for (unsigned i = 0;;) {
        char k[STORE_KEY_MAX + 1];
        const char *key;
        size_t len;

        if (store_key_at(&st, i, &key, &len) != 0)
            break;
        if (strncmp(key, "fill.", 5) != 0 && strncmp(key, "tiny.", 5) != 0) {
            i++;
            continue;
        }
        snprintf(k, sizeof(k), "%s", key);
        UT_CHECK_EQ(store_del(&st, k), 0); /* renumbers: same i again */
    }
    UT_CHECK_EQ(chain_reset(&ch), 0);
    UT_CHECK(ch.pf == NULL);
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK(ch.pf == NULL);
    UT_CHECK_EQ(ch.count, 0);

    UT_CASE("a cancelled first import leaves no network chosen");
    if (streamed) {
        /* a stream cut short before its first batch is complete */
        static struct chain_rx rx;

        UT_CHECK_EQ(chain_rx_begin(&rx, &ch, a.len, &now_opts, &r), 0);
        UT_CHECK_EQ(chain_rx_put(&rx, a.p, 100 * TRAILER_LEN), 0);
        UT_CHECK_EQ(chain_rx_end(&rx, 0), -ECANCELED);
        UT_CHECK(ch.pf == NULL);
        UT_CHECK_EQ(ch.count, 0);
        ch.progress = NULL;
    }
    ch.progress = streamed ? NULL : cancel_now;
    if (!streamed) {
        UT_CHECK_EQ(import_nopow(&a, &r), -ECANCELED);
        UT_CHECK(ch.pf == NULL);
        UT_CHECK_EQ(ch.count, 0);
    }
    ch.progress = NULL;
    UT_CHECK_EQ(import_nopow(&a, &r), 0);
    UT_CHECK_EQ(chain_tip_bnum(&ch), 2000);
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK(stored_ok());
    free(a.p);
    sim_flash_close(&dev);
}

static void
test_chain_powercut(void)
{
    struct chaingen g = {1200, 0, 7, 21, 0, 0, 0, GEN_OK, 0};
    struct mem a = gen(&g), b, c2;
    static uint8_t snap[DEV_SIZE + DEV_SIZE / 16 / 8];
    uint64_t total = 0, points = 0;
    int viol = 0;

    g.fork_at = 1000;
    g.fork_difficulty = 2;
    g.fork_seed = 9;
    b = gen(&g);
    g.fork_at = 300;
    g.fork_difficulty = 1;
    g.fork_seed = 13;
    c2 = gen(&g);
    /* start: the first 800 blocks stored */
    dev_new();
    mount();
    {
        struct mem head = a;
        struct chain_import_res r;

        head.len = 801 * TRAILER_LEN;
        UT_CHECK_EQ(import(&head, &r), 0);
    }
    UT_CHECK_EQ(sim_flash_state_size(&dev), sizeof(snap));
    sim_flash_save(&dev, snap);

    UT_CASE("power cut at every flash operation of an append and a reorg");
    for (int phase = 0; phase < 3; phase++) {
        struct chain_weight before;

        for (uint64_t k = 0;; k++) {
            struct chain_import_res r;
            uint64_t base, ops;
            int m;

            sim_flash_restore(&dev, snap);
            mount();
            if (phase >= 1) {
                struct chain_import_res r0;

                import_nopow(&a, &r0); /* to 1200 */
            }
            before = ch.w;
            base = sim_flash_ops(&dev);
            sim_flash_cut_after(&dev, base + k, (enum sim_flash_torn)(k % 3),
                                (uint32_t)k + 1);
            /* phase 2: a fork at 300, 900 trailers long (more than one
             * batch of CHAIN_BATCH): never a lighter chain after a cut */
            import_nopow(phase == 0 ? &a : phase == 1 ? &b : &c2, &r);
            ops = sim_flash_ops(&dev) - base;
            sim_flash_power_on(&dev);
            m = mount();
            points++;
            if (m != 0 || !stored_ok() || chain_tip_bnum(&ch) < 800 ||
                chain_weight_cmp(&ch.w, &before) < 0 ||
                ch.lost != 0) { /* a cut never looks like damage */
                printf("  phase %d cut %llu: mount %d, tip %llu, %s\n", phase,
                       (unsigned long long)k, m,
                       (unsigned long long)chain_tip_bnum(&ch), ch.why);
                viol++;
            }
            if (!dev.dead && k >= ops) {
                total += ops;
                break;
            }
        }
    }
    printf("  append and reorg: %llu flash operations, %llu cut points, %d "
           "violations\n",
           (unsigned long long)total, (unsigned long long)points, viol);
    UT_CHECK_EQ(viol, 0);
    free(a.p);
    free(b.p);
    free(c2.p);
    sim_flash_close(&dev);
}

/* What only the streamed importer does (chain.h, chain_rx_*). */
static void
test_stream_only(void)
{
    static struct chain_rx rx;
    struct chaingen g = {2000, 0, 7, 31, 0, 0, 0, GEN_OK, 0};
    struct chain_import_res r;
    struct chain_weight w;
    struct mem a = gen(&g), b;

    UT_CASE("stream: cut short after the tip keeps the whole batches it "
            "delivered, each valid");
    dev_new();
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK_EQ(chain_rx_begin(&rx, &ch, a.len, &now_opts, &r), 0);
    UT_CHECK_EQ(chain_rx_put(&rx, a.p, 1200 * TRAILER_LEN), 0);
    UT_CHECK_EQ(chain_rx_end(&rx, 0), -ECANCELED);
    UT_CHECK_EQ(r.appended, 2 * CHAIN_BATCH);
    UT_CHECK_EQ(chain_tip_bnum(&ch), 2 * CHAIN_BATCH - 1);
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK(stored_ok());

    UT_CASE("stream: more bytes than announced, or fewer, are refused");
    UT_CHECK_EQ(chain_rx_begin(&rx, &ch, 10 * TRAILER_LEN, &now_opts, &r), 0);
    UT_CHECK_EQ(chain_rx_put(&rx, a.p, 11 * TRAILER_LEN), -EFBIG);
    UT_CHECK(strstr(ch.why, "announced") != NULL);
    (void)chain_rx_end(&rx, 0);
    UT_CHECK_EQ(chain_rx_begin(&rx, &ch, a.len, &now_opts, &r), 0);
    UT_CHECK_EQ(chain_rx_put(&rx, a.p, a.len - TRAILER_LEN), 0);
    UT_CHECK_EQ(chain_rx_end(&rx, 1), -EPIPE);
    UT_CHECK_EQ(chain_rx_begin(&rx, &ch, 7, &now_opts, &r), -EINVAL);
    UT_CHECK_EQ(chain_rx_begin(&rx, &ch, 0, &now_opts, &r), -EINVAL);
    UT_CHECK_EQ(import(&a, &r), 0);
    UT_CHECK_EQ(chain_tip_bnum(&ch), 2000);
    w = ch.w;

    UT_CASE("stream: another chain's genesis ends it at once, nothing "
            "written");
    {
        struct chaingen g2 = {600, 0, 7, 99, 0, 0, 0, GEN_OK, 0};
        struct mem o = gen(&g2);
        uint64_t ops = sim_flash_ops(&dev);

        o.p[40] ^= 1; /* not this network's genesis */
        UT_CHECK_EQ(chain_rx_begin(&rx, &ch, o.len, &now_opts, &r), 0);
        UT_CHECK_EQ(chain_rx_put(&rx, o.p, 1024), 1);
        UT_CHECK_EQ(chain_rx_end(&rx, 1), 0);
        UT_CHECK_EQ(r.bad, CHAIN_R_GENESIS);
        UT_CHECK_EQ(r.kept, 0);
        UT_CHECK_EQ(r.appended, 0);
        UT_CHECK_EQ(sim_flash_ops(&dev), ops);
        free(o.p);
    }

    UT_CASE("stream: a heavier branch with an invalid trailer commits "
            "nothing (a file import would keep its valid part)");
    g.fork_at = 1500;
    g.fork_difficulty = 3;
    g.fork_seed = 5;
    g.brk = GEN_PHASH;
    g.brk_at = 1900;
    b = gen(&g);
    UT_CHECK_EQ(import(&b, &r), 0);
    UT_CHECK_EQ(r.bad, CHAIN_R_PHASH);
    UT_CHECK_EQ(r.bad_bnum, 1900);
    UT_CHECK_EQ(r.appended, 0);
    UT_CHECK_EQ(r.replaced, 0);
    UT_CHECK_EQ(chain_tip_bnum(&ch), 2000);
    UT_CHECK(chain_weight_cmp(&ch.w, &w) == 0);
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK(stored_ok());
    UT_CHECK(chain_weight_cmp(&ch.w, &w) == 0);

    UT_CASE("stream: a heavier branch cut short is abandoned whole");
    free(b.p);
    g.brk = GEN_OK;
    g.brk_at = 0;
    b = gen(&g);
    UT_CHECK_EQ(chain_rx_begin(&rx, &ch, b.len, &now_opts, &r), 0);
    UT_CHECK_EQ(chain_rx_put(&rx, b.p, b.len - TRAILER_LEN), 0);
    UT_CHECK_EQ(chain_rx_end(&rx, 0), -ECANCELED);
    UT_CHECK_EQ(chain_tip_bnum(&ch), 2000);
    UT_CHECK_EQ(mount(), 0);
    UT_CHECK(chain_weight_cmp(&ch.w, &w) == 0);
    UT_CHECK(stored_ok());
    UT_CHECK_EQ(import(&b, &r), 0);
    UT_CHECK_EQ(r.replaced, 1);
    UT_CHECK_EQ(r.fork, 1499);
    UT_CHECK(chain_weight_cmp(&ch.w, &w) > 0);
    free(b.p);
    free(a.p);
    sim_flash_close(&dev);

    UT_CASE("stream: a branch the log cannot hold beside the stored one is "
            "refused, no history trimmed");
    {
        static const struct sim_flash_geom geo = {STORE_SIZE + 16 * ES, ES, 16,
                                                  0xff};
        uint64_t base;
        uint32_t room;

        sim_flash_open_mem(&dev, &geo);
        sim_flash_partition(&dev, &pstore, "store", 0, STORE_SIZE);
        sim_flash_partition(&dev, &plog, "chain", STORE_SIZE, 16 * ES);
        UT_CHECK_EQ(mount(), 0);
        g = (struct chaingen){200, 0, 7, 41, 0, 0, 0, GEN_OK, 0};
        a = gen(&g);
        UT_CHECK_EQ(import(&a, &r), 0);
        UT_CHECK_EQ(chain_tip_bnum(&ch), 200);
        room = clog_room(&lg);
        base = ch.base;
        w = ch.w;
        g.blocks = 200 + room + 100;
        g.fork_at = 150;
        g.fork_difficulty = 2;
        g.fork_seed = 3;
        b = gen(&g);
        UT_CHECK_EQ(import(&b, &r), -ENOSPC);
        UT_CHECK(strstr(ch.why, "cannot hold") != NULL);
        UT_CHECK_EQ(ch.base, base);
        UT_CHECK_EQ(chain_tip_bnum(&ch), 200);
        UT_CHECK_EQ(mount(), 0);
        UT_CHECK(chain_weight_cmp(&ch.w, &w) == 0);
        free(a.p);
        free(b.p);
        sim_flash_close(&dev);
    }
}

int
main(void)
{
    ut_suite = "chain";
    test_hashes();
    test_peach_vectors();
    test_peach_oracle();
    test_rules_v3();
    test_rules_mainnet_heights();
    test_difficulty_weight();
    test_store_import();
    test_broken_variants();
    test_mainnet_shaped();
    test_chain_full();
    test_chain_damage();
    test_chain_powercut();
    /* the same again, streamed */
    /* (one suite for tests/run.sh; a failure's case name is the same
     * in both runs, and this line says which run it came from) */
    printf("  the import tests again, streamed (chain_rx_*):\n");
    streamed = 1;
    test_store_import();
    test_broken_variants();
    test_chain_damage();
    test_chain_powercut();
    test_stream_only();
    return ut_done();
}
