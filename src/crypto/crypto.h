/*
 * crypto/crypto.h - keel's only door to BearSSL.
 *
 * Every hash, signature and random number that decides trust goes
 * through this header (DESIGN.md §5); nothing else in src/ includes
 * bearssl.h.  Contexts are caller-allocated; nothing allocates.
 *
 * This is the Foundation's slice: streaming SHA-256 and its known-answer
 * self test.  The identity issue adds HMAC, the DRBG, ECDSA and keys.
 */
#ifndef CRYPTO_CRYPTO_H
#define CRYPTO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32

/* Opaque to callers, sized for BearSSL's br_sha256_context (checked by a
 * static assertion in sha256.c). */
struct crypto_sha256 {
    _Alignas(8) uint8_t opaque[128];
};

void crypto_sha256_init(struct crypto_sha256 *c);
void crypto_sha256_update(struct crypto_sha256 *c, const void *data,
                          size_t len);
void crypto_sha256_final(struct crypto_sha256 *c,
                         uint8_t out[CRYPTO_SHA256_LEN]);
void crypto_sha256(const void *data, size_t len,
                   uint8_t out[CRYPTO_SHA256_LEN]);

/* Constant-time comparison: 0 when equal, nonzero otherwise. */
int crypto_ct_diff(const void *a, const void *b, size_t len);

/* SHA-256 known answers (FIPS 180-4 examples: "", "abc", the 448-bit
 * two-block message, and a million 'a's through the streaming path).
 * Returns 0 or -EIO; on failure *what names the vector. */
int crypto_selftest(const char **what);

/* Human-readable name and version of the library behind this layer. */
const char *crypto_library_version(void);

#endif
