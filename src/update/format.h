/*
 * update/format.h - the bytes of an update: bundle header, manifest,
 * signature blocks, keyring and slot header, each with one canonical
 * encoding.
 *
 * A bundle is   header (64) | manifest (M) | signatures (S) | payload (P)
 * The manifest is what release keys sign (ECDSA P-256 over its SHA-256);
 * the header only frames it and is re-checked against it.  Every decoder
 * here accepts exactly the bytes its encoder produces for some value and
 * refuses every other input (sorted fields, no spare bytes, no unknown
 * flags, lengths that add up), so signer and verifier cannot drift: the
 * golden vectors in tests/vectors/update/ pin the encodings in CI.
 * docs/FORMAT.md gives every byte.
 *
 * Decoders take untrusted input: every length is checked against its
 * buffer before use; failures return -EBADMSG (malformed or not
 * canonical) or -E2BIG (beyond a limit below) and set *why.
 */
#ifndef UPDATE_FORMAT_H
#define UPDATE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define UPD_HDR_LEN 64
#define UPD_MANIFEST_MAX 65536 /* bytes */
#define UPD_MANIFEST_MIN 52    /* its fixed fields */
#define UPD_BOARDS_MAX 8
#define UPD_BOARD_LEN_MAX 31
#define UPD_CHUNK_MIN 4096
#define UPD_CHUNK_MAX (1u << 20)
#define UPD_CHUNKS_MAX 1536          /* 96 MiB at 64 KiB chunks */
#define UPD_PAYLOAD_MAX (1ull << 30) /* before the slot's own limit */
#define UPD_SIG_LEN 105              /* key id, length, DER padded */
#define UPD_SIGS_MAX 16
#define UPD_KEYS_MAX 16
#define UPD_KEYRING_MAX (20 + UPD_KEYS_MAX * CRYPTO_SPKI_LEN)
#define UPD_CHECKPOINT_LEN 72 /* bnum u64, bhash, weight (chain issue) */

/* The highest security counter a manifest may carry.  A confirmed slot
 * raises the anti-rollback counter to its own counter, and nothing below
 * that installs again: a release signed with 2^64 - 1 (a negative number
 * wrapped by a tool, say) would be the last one a device ever takes.
 * Counters count security releases one at a time, so 2^32 - 1 is far
 * more than any product needs, and every value up to it is exact in a
 * u32, in JSON (a double) and in shell arithmetic.  Decoders refuse a
 * larger counter with -E2BIG, encoders with -EINVAL (docs/FORMAT.md). */
#define UPD_COUNTER_MAX UINT64_C(0xffffffff)

struct upd_header {
    uint32_t manifest_len, sigs_len;
    uint64_t payload_len;
};

struct upd_version {
    uint32_t major, minor, patch;
};

struct upd_keyring {
    uint32_t version;
    uint8_t threshold, nkeys;
    int64_t expires; /* Unix seconds; 0 = never */
    uint8_t spki[UPD_KEYS_MAX][CRYPTO_SPKI_LEN];
    uint8_t id[UPD_KEYS_MAX][32]; /* SHA-256 of each SPKI (derived) */
};

/* A decoded manifest points into the caller's buffer for the variable
 * parts (chunk hashes, keyring bytes, checkpoint). */
struct upd_manifest {
    uint8_t nboards;
    char boards[UPD_BOARDS_MAX][UPD_BOARD_LEN_MAX + 1];
    struct upd_version version;
    uint64_t counter;
    int64_t created;
    uint64_t payload_size;
    uint32_t chunk_size, nchunks;
    const uint8_t *chunk_hash; /* nchunks x 32 */
    const uint8_t *keyring;    /* NULL or keyring_len bytes */
    uint32_t keyring_len;
    const uint8_t *checkpoint; /* NULL or UPD_CHECKPOINT_LEN bytes */
    uint8_t checkpoint_net;    /* its network: UPD_NET_MAINNET or
                                  UPD_NET_TESTNET (keel's own) */
};
#define UPD_NET_MAINNET 0
#define UPD_NET_TESTNET 1

struct upd_sig {
    uint8_t key_id[32];
    uint8_t len;
    uint8_t der[CRYPTO_SIG_MAX];
};

int upd_header_decode(const uint8_t h[UPD_HDR_LEN], struct upd_header *out,
                      const char **why);
void upd_header_encode(const struct upd_header *h, uint8_t out[UPD_HDR_LEN]);

/* Manifest: encode returns its length, or -ENOBUFS / -EINVAL. */
int upd_manifest_encode(const struct upd_manifest *m, uint8_t *out, size_t cap);
/* The length of chunk i (< m->nchunks): the chunk size, the last one
 * what is left of the payload. */
uint32_t upd_chunk_len(const struct upd_manifest *m, uint32_t i);
int upd_manifest_decode(const uint8_t *p, size_t len, struct upd_manifest *m,
                        const char **why);

/* Keyring: canonical encoding sorts keys by id. */
int upd_keyring_encode(const struct upd_keyring *k, uint8_t *out, size_t cap);
int upd_keyring_decode(const uint8_t *p, size_t len, struct upd_keyring *k,
                       const char **why);
/* Index of key id in k, or -ENOENT. */
int upd_keyring_find(const struct upd_keyring *k, const uint8_t id[32]);

/* Signature blocks: the section is n x UPD_SIG_LEN bytes, n >= 0. */
int upd_sigs_decode(const uint8_t *p, size_t len, struct upd_sig *sigs, int cap,
                    const char **why);
void upd_sig_encode(const struct upd_sig *s, uint8_t out[UPD_SIG_LEN]);

/* A signed keyring, for rotating the device keyring without an image:
 * "KSK1", u32 keyring length L, the keyring (canonical), then signature
 * blocks over SHA-256 of the keyring bytes.  Decode points *kr into p
 * and fills sigs; returns the signature count or < 0. */
#define UPD_SKR_MAX (8 + UPD_KEYRING_MAX + UPD_SIGS_MAX * UPD_SIG_LEN)
int upd_skr_decode(const uint8_t *p, size_t len, const uint8_t **kr,
                   uint32_t *krlen, struct upd_sig *sigs, int cap,
                   const char **why);

/* Semantic version order: <0, 0, >0. */
int upd_version_cmp(const struct upd_version *a, const struct upd_version *b);

/* The key id of an SPKI: its SHA-256. */
void upd_key_id(const uint8_t spki[CRYPTO_SPKI_LEN], uint8_t id[32]);

/* Count the signatures over manifest digest h by keys of k.  Returns
 * that count (>= 0), with *unknown set to the signatures by keys not in
 * k (they do not count: a bundle may carry signatures for the next
 * keyring); or -EEXIST when a key of k signed twice, -EBADMSG when its
 * signature does not verify, naming the key (first 8 hex digits of its
 * id) in whybuf. */
int upd_sigs_check(const struct upd_keyring *k, const uint8_t h[32],
                   const struct upd_sig *sigs, int n, int *unknown,
                   char *whybuf, size_t wcap);

#endif
