/* crypto/sha256.c - SHA-256 through BearSSL, and its known answers. */
#include <errno.h>
#include <string.h>

#include <bearssl_hash.h>

#include "crypto/crypto.h"
#include "keel_deps.h"

_Static_assert(sizeof(br_sha256_context) <= sizeof(struct crypto_sha256),
               "struct crypto_sha256 too small for br_sha256_context");

void
crypto_sha256_init(struct crypto_sha256 *c)
{
    br_sha256_init((br_sha256_context *)c->opaque);
}

void
crypto_sha256_update(struct crypto_sha256 *c, const void *data, size_t len)
{
    br_sha256_update((br_sha256_context *)c->opaque, data, len);
}

void
crypto_sha256_final(struct crypto_sha256 *c, uint8_t out[CRYPTO_SHA256_LEN])
{
    br_sha256_out((br_sha256_context *)c->opaque, out);
}

void
crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN])
{
    struct crypto_sha256 c;

    crypto_sha256_init(&c);
    crypto_sha256_update(&c, data, len);
    crypto_sha256_final(&c, out);
}

int
crypto_ct_diff(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t d = 0;

    for (size_t i = 0; i < len; i++)
        d |= x[i] ^ y[i];
    return d;
}

static int
unhex(const char *h, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned v = 0;

        for (int k = 0; k < 2; k++) {
            char ch = h[2 * i + k];

            v <<= 4;
            if (ch >= '0' && ch <= '9')
                v |= (unsigned)(ch - '0');
            else if (ch >= 'a' && ch <= 'f')
                v |= (unsigned)(ch - 'a' + 10);
            else
                return -EINVAL;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* FIPS 180-4 / NIST CSRC example values. */
static const struct {
    const char *name, *msg, *digest;
    unsigned repeat; /* feed msg this many times */
} sha256_kat[] = {
    {"sha256(\"\")", "",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 1},
    {"sha256(\"abc\")", "abc",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 1},
    {"sha256(448 bits)",
     "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", 1},
    {"sha256(1M x 'a')", "aaaaaaaaaa",
     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
     100000},
};

int
crypto_selftest(const char **what)
{
    for (size_t i = 0; i < sizeof(sha256_kat) / sizeof(sha256_kat[0]); i++) {
        struct crypto_sha256 c;
        uint8_t want[CRYPTO_SHA256_LEN], got[CRYPTO_SHA256_LEN];
        size_t n = strlen(sha256_kat[i].msg);

        if (unhex(sha256_kat[i].digest, want, sizeof(want)) != 0)
            goto fail;
        crypto_sha256_init(&c);
        for (unsigned r = 0; r < sha256_kat[i].repeat; r++)
            crypto_sha256_update(&c, sha256_kat[i].msg, n);
        crypto_sha256_final(&c, got);
        if (crypto_ct_diff(got, want, sizeof(got)) != 0)
            goto fail;
        continue;
    fail:
        *what = sha256_kat[i].name;
        return -EIO;
    }
    *what = "sha256 (4 FIPS 180-4 vectors)";
    return 0;
}

const char *
crypto_library_version(void)
{
    return KEEL_DEP_BEARSSL;
}
