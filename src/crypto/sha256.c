/* crypto/sha256.c - SHA-256 through BearSSL, and its known answers. */
#include <errno.h>
#include <string.h>

#include <bearssl_hash.h>

#include "crypto/crypto.h"
#include "lib/hex.h"
#include "crypto/sha256_hw.h"
#include "hal/sys.h"
#include "keel_deps.h"

_Static_assert(sizeof(br_sha256_context) <=
                   sizeof(((struct crypto_sha256 *)0)->opaque),
               "struct crypto_sha256 too small for br_sha256_context");

/* keel's own streaming state around the hardware compression. */
struct hw_state {
    uint32_t h[8];
    uint64_t count;
    uint8_t buf[64];
};
_Static_assert(sizeof(struct hw_state) <=
                   sizeof(((struct crypto_sha256 *)0)->opaque),
               "struct crypto_sha256 too small for the hardware state");

static int hw_mode = -1; /* -1: not decided yet */

int
crypto_sha256_hw(void)
{
    if (hw_mode < 0)
        hw_mode =
            hal_sys_param("KEEL_CRYPTO_NO_HW") == NULL && sha256_hw_available();
    return hw_mode;
}

void
crypto_sha256_use_hw(int on)
{
    hw_mode = on && sha256_hw_available();
}

void
crypto_sha256_init(struct crypto_sha256 *c)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                   0xa54ff53a, 0x510e527f, 0x9b05688c,
                                   0x1f83d9ab, 0x5be0cd19};

    c->hw = crypto_sha256_hw();
    if (c->hw) {
        struct hw_state *s = (struct hw_state *)c->opaque;

        memcpy(s->h, iv, sizeof(iv));
        s->count = 0;
        return;
    }
    br_sha256_init((br_sha256_context *)c->opaque);
}

void
crypto_sha256_update(struct crypto_sha256 *c, const void *data, size_t len)
{
    struct hw_state *s = (struct hw_state *)c->opaque;
    const uint8_t *p = data;
    size_t fill;

    if (!c->hw) {
        br_sha256_update((br_sha256_context *)c->opaque, data, len);
        return;
    }
    fill = (size_t)(s->count & 63);
    s->count += len;
    if (fill > 0) {
        size_t n = 64 - fill < len ? 64 - fill : len;

        memcpy(s->buf + fill, p, n);
        p += n;
        len -= n;
        if (fill + n < 64)
            return;
        sha256_hw_blocks(s->h, s->buf, 1);
    }
    if (len >= 64) {
        sha256_hw_blocks(s->h, p, len / 64);
        p += len / 64 * 64;
        len %= 64;
    }
    memcpy(s->buf, p, len);
}

void
crypto_sha256_final(struct crypto_sha256 *c, uint8_t out[CRYPTO_SHA256_LEN])
{
    struct hw_state *s = (struct hw_state *)c->opaque;
    uint8_t pad[72];
    uint64_t bits;
    size_t fill, n;

    if (!c->hw) {
        br_sha256_out((br_sha256_context *)c->opaque, out);
        return;
    }
    bits = s->count * 8;
    fill = (size_t)(s->count & 63);
    n = (fill < 56 ? 56 : 120) - fill;
    memset(pad, 0, sizeof(pad));
    pad[0] = 0x80;
    for (int i = 0; i < 8; i++)
        pad[n + i] = (uint8_t)(bits >> (56 - 8 * i));
    crypto_sha256_update(c, pad, n + 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
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

        if (lib_hex_decode(sha256_kat[i].digest, 2 * sizeof(want), want,
                           sizeof(want)) != (int)sizeof(want))
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
#if defined(__x86_64__)
    *what = crypto_sha256_hw() ? "sha256 (4 FIPS 180-4 vectors, SHA-NI)"
                               : "sha256 (4 FIPS 180-4 vectors, portable)";
#elif defined(__aarch64__)
    *what = crypto_sha256_hw() ? "sha256 (4 FIPS 180-4 vectors, ARMv8 SHA2)"
                               : "sha256 (4 FIPS 180-4 vectors, portable)";
#else
    *what = "sha256 (4 FIPS 180-4 vectors, portable)";
#endif
    return 0;
}

const char *
crypto_library_version(void)
{
    return KEEL_DEP_BEARSSL;
}
