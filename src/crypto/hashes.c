/*
 * crypto/hashes.c - the other hashes peach's nighthash needs, each from
 * the library that has it (docs/CHAIN.md says why):
 *   SHA-1 and MD5   BearSSL
 *   MD2             keel's own (md2.c): mbedTLS's runs at half its speed
 *   BLAKE2b         libb2's reference code (Debian's libb2 source)
 *   SHA3, Keccak    keel's own (keccak.c)
 * None of these decides trust on its own: they are steps of a proof of
 * work whose final check is SHA-256.
 */
#include <errno.h>

#include <bearssl_hash.h>

#include "crypto/crypto.h"

/* libb2's reference BLAKE2b, built with SUFFIX=_ref by scripts/deps.sh */
int blake2b_ref(uint8_t *out, const void *in, const void *key, size_t outlen,
                size_t inlen, size_t keylen);

void
crypto_sha1(const void *data, size_t len, uint8_t out[20])
{
    br_sha1_context c;

    br_sha1_init(&c);
    br_sha1_update(&c, data, len);
    br_sha1_out(&c, out);
}

void
crypto_md5(const void *data, size_t len, uint8_t out[16])
{
    br_md5_context c;

    br_md5_init(&c);
    br_md5_update(&c, data, len);
    br_md5_out(&c, out);
}

int
crypto_blake2b_256(const void *key, size_t klen, const void *data, size_t len,
                   uint8_t out[CRYPTO_SHA256_LEN])
{
    return blake2b_ref(out, data, key, CRYPTO_SHA256_LEN, len, klen) == 0
               ? 0
               : -EINVAL;
}
