/*
 * crypto/crypto.h - keel's only door to BearSSL.
 *
 * Every hash, signature and random number that decides trust goes
 * through this header (DESIGN.md §5); nothing else in src/ includes
 * bearssl.h.  Contexts are caller-allocated; nothing allocates.
 *
 * Provided: streaming SHA-256, HMAC-SHA256, an HMAC-DRBG seeded from the
 * HAL rng, ECDSA P-256 key generation, signing (deterministic nonces,
 * RFC 6979) and verification with DER signatures, public keys as SPKI
 * DER and PEM, private keys as PKCS#8 and SEC1 (RFC 5915) DER and PEM
 * in both directions, constant-time comparison and wiping of secrets.
 *
 * Parsers (crypto_pem_decode, crypto_ec_priv_decode, crypto_key_parse)
 * take input from outside: they bound every length, return -EINVAL
 * (malformed or truncated), -E2BIG (larger than any key keel accepts) or
 * -EPROTONOSUPPORT (a well-formed key keel does not use: another curve,
 * RSA, explicit parameters, encrypted), and set *why to a one-line
 * reason an operator can act on.
 */
#ifndef CRYPTO_CRYPTO_H
#define CRYPTO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32

/* Opaque to callers: BearSSL's br_sha256_context, or keel's own state
 * when the CPU has SHA instructions (hw set; see sha256.c). */
struct crypto_sha256 {
    _Alignas(8) uint8_t opaque[128];
    int hw;
};

/* SHA-256 in hardware (x86 SHA-NI, ARMv8 SHA2) where the CPU has it: 1
 * when it is in use.  crypto_sha256_use_hw(0) turns it off (tests compare both
 * paths; the start-up parameter KEEL_CRYPTO_NO_HW, hal_sys_param(), does the
 * same: in the environment on the sim board). */
int crypto_sha256_hw(void);
void crypto_sha256_use_hw(int on);

void crypto_sha256_init(struct crypto_sha256 *c);
void crypto_sha256_update(struct crypto_sha256 *c, const void *data,
                          size_t len);
void crypto_sha256_final(struct crypto_sha256 *c,
                         uint8_t out[CRYPTO_SHA256_LEN]);
void crypto_sha256(const void *data, size_t len,
                   uint8_t out[CRYPTO_SHA256_LEN]);

/* HMAC-SHA256 of data under key. */
void crypto_hmac_sha256(const void *key, size_t klen, const void *data,
                        size_t len, uint8_t out[CRYPTO_SHA256_LEN]);

/* HMAC-DRBG (SHA-256, SP 800-90A).  crypto_drbg_init() instantiates it
 * with 48 bytes from the HAL rng as entropy and nonce, plus the optional
 * personalisation string (at most CRYPTO_DRBG_PERS_MAX bytes); _reseed()
 * mixes in 32 more.  Returns 0, -EINVAL, or the rng's negative errno:
 * without entropy no secret may be made.  crypto_drbg_instantiate() takes
 * the seed from the caller: it exists for the known-answer tests. */
#define CRYPTO_DRBG_SEED_MAX 64
#define CRYPTO_DRBG_PERS_MAX 64
struct crypto_drbg {
    _Alignas(8) uint8_t opaque[160]; /* br_hmac_drbg_context, checked */
};
int crypto_drbg_init(struct crypto_drbg *d, const void *pers, size_t plen);
int crypto_drbg_instantiate(struct crypto_drbg *d, const void *seed,
                            size_t slen, const void *pers, size_t plen);
int crypto_drbg_reseed(struct crypto_drbg *d);
void crypto_drbg_generate(struct crypto_drbg *d, void *out, size_t len);

/* ECDSA P-256.  A private key is the 32-byte scalar; a public key the
 * 65-byte uncompressed point (04 || X || Y).  Signatures are ASN.1 DER,
 * at most CRYPTO_SIG_MAX bytes, over the SHA-256 of the message. */
#define CRYPTO_EC_PRIV_LEN 32
#define CRYPTO_EC_PUB_LEN 65
#define CRYPTO_SIG_MAX 72
#define CRYPTO_SPKI_LEN 91 /* DER SubjectPublicKeyInfo of a P-256 key */

struct crypto_eckey {
    uint8_t priv[CRYPTO_EC_PRIV_LEN];
    uint8_t pub[CRYPTO_EC_PUB_LEN];
};

/* Make a key from the DRBG.  Returns 0 or -EIO. */
int crypto_ec_keygen(struct crypto_drbg *d, struct crypto_eckey *k);
/* Derive pub from priv (import).  -EINVAL for a scalar out of range. */
int crypto_ec_from_priv(struct crypto_eckey *k);
/* Sign the SHA-256 digest h.  Returns the signature length or -EIO. */
int crypto_ec_sign(const struct crypto_eckey *k,
                   const uint8_t h[CRYPTO_SHA256_LEN],
                   uint8_t sig[CRYPTO_SIG_MAX]);
/* Verify: returns CRYPTO_VERIFIED (a distinct value, not 0) when the
 * signature is good, -EBADMSG otherwise, -EINVAL for a bad public key. */
#define CRYPTO_VERIFIED 0x5a17
int crypto_ec_verify(const uint8_t pub[CRYPTO_EC_PUB_LEN],
                     const uint8_t h[CRYPTO_SHA256_LEN], const uint8_t *sig,
                     size_t siglen);

/* SubjectPublicKeyInfo DER of a P-256 public key (CRYPTO_SPKI_LEN bytes),
 * and its parse: -EINVAL unless der is exactly a P-256 SPKI. */
void crypto_spki_encode(const uint8_t pub[CRYPTO_EC_PUB_LEN],
                        uint8_t der[CRYPTO_SPKI_LEN]);
int crypto_spki_decode(const uint8_t *der, size_t len,
                       uint8_t pub[CRYPTO_EC_PUB_LEN]);
/* PEM ("PUBLIC KEY") of the SPKI into out; returns the length written
 * (NUL-terminated) or -ENOBUFS. */
int crypto_spki_pem(const uint8_t pub[CRYPTO_EC_PUB_LEN], char *out,
                    size_t cap);

/* PEM.  crypto_pem_decode() returns the DER length of the one object in
 * text (EC PARAMETERS blocks, as `openssl ecparam -genkey` writes them,
 * are skipped) and its label; more than one key is an error.
 * crypto_pem_encode() writes 64-column PEM, NUL-terminated, and returns
 * its length or -ENOBUFS. */
int crypto_pem_decode(const char *text, size_t len, char *label, size_t lcap,
                      uint8_t *der, size_t cap, const char **why);
int crypto_pem_encode(const uint8_t *der, size_t len, const char *label,
                      char *out, size_t cap);

/* Private keys.  Decode accepts PKCS#8 (unencrypted) and SEC1 DER of a
 * named prime256v1 key, checks the scalar's range and derives pub.
 * Encode writes PKCS#8 (pkcs8 = 1) or SEC1 with the public key included;
 * returns the length, or -ENOBUFS. */
#define CRYPTO_PRIV_DER_MAX 2048 /* room to recognise and refuse RSA keys */
#define CRYPTO_KEYFILE_MAX 4096  /* largest key file read */
#define CRYPTO_PRIV_PEM_MAX 320  /* PKCS#8 PEM of a P-256 key */
int crypto_ec_priv_decode(const uint8_t *der, size_t len,
                          struct crypto_eckey *k, const char **why);
int crypto_ec_priv_encode(const struct crypto_eckey *k, int pkcs8, uint8_t *der,
                          size_t cap);

/* Any key from a file's bytes: PEM (PUBLIC KEY, PRIVATE KEY, EC PRIVATE
 * KEY) or DER (SPKI, PKCS#8, SEC1).  Fills k->pub, and k->priv when
 * *is_private is set. */
int crypto_key_parse(const void *data, size_t len, struct crypto_eckey *k,
                     int *is_private, const char **why);

/* The hashes of peach's nighthash (src/chain/peach.c).  Output sizes:
 * SHA-1 20, MD5 16, MD2 16, the rest 32.  BLAKE2b-256 takes a key of up
 * to 64 bytes (returns 0, or -EINVAL beyond that); SHA3-256 is FIPS 202;
 * Keccak-256 is the original padding (as Ethereum uses). */
void crypto_sha1(const void *data, size_t len, uint8_t out[20]);
void crypto_md5(const void *data, size_t len, uint8_t out[16]);
void crypto_md2(const void *data, size_t len, uint8_t out[16]);
int crypto_blake2b_256(const void *key, size_t klen, const void *data,
                       size_t len, uint8_t out[CRYPTO_SHA256_LEN]);
void crypto_sha3_256(const void *data, size_t len,
                     uint8_t out[CRYPTO_SHA256_LEN]);
void crypto_keccak_256(const void *data, size_t len,
                       uint8_t out[CRYPTO_SHA256_LEN]);

/* Wipe a secret in a way the compiler cannot drop. */
void crypto_wipe(void *p, size_t len);

/* Constant-time comparison: 0 when equal, nonzero otherwise. */
int crypto_ct_diff(const void *a, const void *b, size_t len);

/* SHA-256 known answers (FIPS 180-4 examples: "", "abc", the 448-bit
 * two-block message, and a million 'a's through the streaming path).
 * Returns 0 or -EIO; on failure *what names the vector. */
int crypto_selftest(const char **what);

/* Human-readable name and version of the library behind this layer. */
const char *crypto_library_version(void);

#endif
