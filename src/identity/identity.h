/*
 * identity/identity.h - the node's identity key: made on first boot,
 * kept as two checksummed copies, checked every boot, repaired from the
 * good copy, rotated with an overlap window, never invented silently.
 *
 * On flash (docs/FORMAT.md "Identity", docs/IDENTITY.md for the why):
 *  - store keys sec.id.0 and sec.id.1 hold the same identity record
 *    (magic, generation, keys, rotation statement, SHA-256 of it all).
 *    Both are written in one group commit, so a cut leaves the old
 *    record or the new one in both; copy 1 is then written once more on
 *    its own so the two copies sit under different CRCs, and compaction
 *    keeps sec.* keys apart (store.h, STORE_SOLO_PREFIX);
 *  - the control block's CTL_TAG_ID section, the marker, records the
 *    generation and fingerprint of the newest identity made.  It lives
 *    in another partition, so when both copies are gone the marker
 *    still says an identity existed: the node enters IDENTITY_LOST and
 *    waits for an operator instead of making a new one.
 *
 * A rotation makes a new key and a statement (old and new public keys,
 * time, sequence number, end of the overlap window) signed by both keys,
 * and writes old + new + statement in one commit.  Until the window
 * ends both keys verify; then the old private key is wiped from flash
 * (the statement stays, for peers that follow the node late).
 *
 * Nothing allocates; struct identity is caller-owned and holds the
 * private keys in RAM for signing.  Functions return 0 or a negative
 * errno and leave a one-line reason in id->why.
 */
#ifndef IDENTITY_IDENTITY_H
#define IDENTITY_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "store/ctl.h"
#include "store/store.h"

#define ID_KEY_A "sec.id.0"
#define ID_KEY_B "sec.id.1"
#define ID_KEY_REPAIRS "id.repairs"    /* u32 LE: copies repaired, ever */
#define ID_KEY_WINDOW "id.window_days" /* decimal: default overlap window */
#define ID_WINDOW_DAYS_DEFAULT 14
#define ID_WINDOW_DAYS_MAX 3650

#define ID_STMT_LEN 206 /* rotation statement, docs/FORMAT.md */
#define ID_REC_LEN 614  /* identity record */
#define ID_FP_LEN CRYPTO_SHA256_LEN
#define ID_MARK_LEN 40 /* "KIM1", generation, fingerprint */

enum identity_state {
    IDENTITY_NONE,  /* not loaded (store unusable) */
    IDENTITY_READY, /* loaded and self-checked */
    IDENTITY_LOST,  /* existed, cannot be loaded: operator must act */
};

struct identity_key {
    struct crypto_eckey k;
    int64_t created; /* Unix seconds when made (0: clock unset) */
};

struct identity_work;

struct identity {
    struct store *st;
    struct ctl *ctl; /* NULL when the control block is unusable */
    enum identity_state state;
    uint32_t gen; /* generation: +1 per new, import or rotation */
    int rotating; /* old key still valid, until window_end */
    int has_stmt; /* a rotation statement exists */
    struct identity_key cur, old;
    int64_t window_end; /* Unix seconds; the old key retires then */
    uint8_t stmt[ID_STMT_LEN];
    uint8_t sig_old[CRYPTO_SIG_MAX], sig_new[CRYPTO_SIG_MAX];
    uint8_t sig_old_len, sig_new_len;
    uint32_t repairs;       /* copies repaired, persisted */
    uint32_t repaired_boot; /* copies repaired at this boot */
    char why[160];          /* reason for LOST, or the last error */
    void (*log)(void *arg, const char *msg); /* boot events, or NULL */
    void *log_arg;
    struct identity_work *work; /* the caller's, set before identity_boot */
};

/* Scratch for loading, committing and rotating: next and previous keys
 * pass through it, so it is wiped after each use.  Caller-allocated
 * (at most 5 KiB; keel keeps it beside the identity in struct node,
 * which is itself at most 1 KiB);
 * nothing in identity.c is static. */
struct identity_work {
    struct identity next, chk, copies[2];
    uint8_t rec[2][ID_REC_LEN], back[ID_REC_LEN];
};

/* Load the identity at boot, make it on a true first boot, repair a bad
 * copy, retire an old key whose window has passed.  0: READY; -ENOKEY:
 * LOST (id->why says why); other errors: the store failed (state NONE
 * or LOST). */
int identity_boot(struct identity *id, struct store *st, struct ctl *ctl);

/* Replace the identity (`id new --force`, `id import`): with k NULL a
 * new key is made, else k (a private key) is taken after a self-check.
 * Works from READY and from LOST. */
int identity_new(struct identity *id, const struct crypto_eckey *k);

/* Rotate to a new key with an overlap window of window_s seconds.
 * -EBUSY while a previous rotation's window is open. */
int identity_rotate(struct identity *id, int64_t window_s);

/* Retire the old key if its window has passed (called at boot and by
 * the console).  Returns 1 when it retired one, 0, or an error. */
int identity_tick(struct identity *id);

/* Sign a SHA-256 digest with the current key: DER length or error. */
int identity_sign(struct identity *id, const uint8_t h[CRYPTO_SHA256_LEN],
                  uint8_t sig[CRYPTO_SIG_MAX]);

/* Verify against the current key and, during a window, the old one.
 * Returns CRYPTO_VERIFIED with *which 0 (current) or 1 (old), or
 * -EBADMSG. */
int identity_verify(struct identity *id, const uint8_t h[CRYPTO_SHA256_LEN],
                    const uint8_t *sig, size_t len, int *which);

/* Fingerprint: SHA-256 of the public key's SPKI DER. */
void identity_fingerprint(const uint8_t pub[CRYPTO_EC_PUB_LEN],
                          uint8_t fp[ID_FP_LEN]);

/* The overlap window configured in the store (ID_KEY_WINDOW), in days. */
int identity_window_days(struct identity *id);

/* Check a rotation statement and its two signatures (what a peer does
 * to follow the node from old to new).  Fills the keys and times. */
int identity_stmt_check(const uint8_t stmt[ID_STMT_LEN], const uint8_t *sig_old,
                        size_t lo, const uint8_t *sig_new, size_t ln,
                        uint8_t old_pub[CRYPTO_EC_PUB_LEN],
                        uint8_t new_pub[CRYPTO_EC_PUB_LEN], uint32_t *seq);

/* Wipe the keys held in RAM. */
void identity_close(struct identity *id);

/* "ready", "lost" or "none". */
const char *identity_state_name(enum identity_state s);

/* The control block's identity marker for the loaded identity (for
 * rebuilding a lost control block): 0, or -ENOKEY when not READY. */
int identity_mark_encode(const struct identity *id, uint8_t m[ID_MARK_LEN]);

/* The record both store copies hold (docs/FORMAT.md "Identity record"):
 * encode fills r from id's keys, generation, times and statement;
 * decode checks a record as the loader trusts it (structure, hash, keys,
 * self-checks, the statement) and fills out's key fields: 0, or -EBADMSG
 * with *why set (out's secrets are wiped).  Untrusted input: every
 * length is checked (tests/fuzz/fuzz_identity.c). */
void identity_record_encode(const struct identity *id, uint8_t r[ID_REC_LEN]);
int identity_record_decode(const uint8_t *r, size_t len, struct identity *out,
                           const char **why);

#endif
