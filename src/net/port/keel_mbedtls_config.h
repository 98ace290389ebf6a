/*
 * keel_mbedtls_config.h - keel's mbedTLS 2.28 configuration.
 *
 * mbedTLS does only what BearSSL cannot (DESIGN.md §5): TLS 1.2 on peer
 * links through lwIP's altcp_tls_mbedtls binding, and X.509 writing for
 * the node's self-signed certificate.  Every trust decision is BearSSL's.
 *
 * Deliberately absent: NET_C (lwIP carries the bytes), FS_IO (no file
 * access from the library), TIMING_C, platform entropy (entropy comes
 * from the HAL rng through mbedtls_hardware_poll(), see src/net/tls.c),
 * every cipher suite but ECDHE-ECDSA on P-256 with AES-128-GCM or
 * ChaCha20-Poly1305.
 *
 * Memory: PLATFORM_MEMORY lets keel (src/net/tls.c) and lwIP's binding
 * point mbedTLS's calloc/free at lwIP's static heap (MEM_SIZE in
 * lwipopts.h), so TLS memory is bounded and no malloc is ever called.
 */
#ifndef KEEL_MBEDTLS_CONFIG_H
#define KEEL_MBEDTLS_CONFIG_H

/* System support */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT

/* Randomness (seeds TLS only; keel's own DRBG is BearSSL's) */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_ENTROPY_FORCE_SHA256
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_HMAC_DRBG_C

/* Primitives */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
/* AES-NI and PCLMULQDQ for AES and GCM on x86_64 (checked at run time;
 * compiled to nothing on other architectures). */
#define MBEDTLS_AESNI_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_MD2_C /* test_chain checks keel's MD2 against it (#18) */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_ECDH_C

/* Encodings and X.509 */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C

/* TLS 1.2, ECDHE-ECDSA only */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_ENCRYPT_THEN_MAC
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
/* Records of 16 KiB, what openssl peers send and expect; keel clients
 * ask keel servers for 4 KiB fragments (RFC 6066), and after the
 * handshake both buffers shrink to what was negotiated.  Both lengths
 * must stay 16 KiB: with variable buffers, mbedTLS sizes a link that
 * negotiated nothing by the smaller of the two. */
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 16384
#define MBEDTLS_SSL_CIPHERSUITES                                               \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,                           \
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256

/* Diagnostics */
#define MBEDTLS_VERSION_C
#define MBEDTLS_ERROR_C

#include "mbedtls/check_config.h"

#endif
