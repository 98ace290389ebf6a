/*
 * console/unlock.h - operator unlock: commands that change the device
 * run only after the operator proves possession of an operator key.
 *
 * `unlock` issues a challenge, one line of text the operator signs on a
 * workstation (ECDSA P-256 over its SHA-256, DER, as `openssl dgst
 * -sha256 -sign op.pem` makes), and `unlock SIGHEX` answers it:
 *
 *   keel-unlock-v1 device=<fingerprint hex> nonce=<16 random bytes hex>
 *   time=<device wall clock> valid=<seconds>
 *
 * (one line, single spaces, no newline signed).  A challenge is used
 * once: any answer consumes it, right or wrong; it expires after
 * `valid` seconds (monotonic clock).  Wrong answers are counted and
 * each doubles a wait before the next challenge (1 s to 5 min); a right
 * one unlocks until `lock` or until no command ran for the idle time.
 *
 * Operator keys (at most UNLOCK_OPS_MAX) are a record in the store,
 * `op.keys` (docs/FORMAT.md "Operator keys"); a device with none is
 * unprovisioned: nothing is locked, and the banner and `status` say so.
 * The signature check is BearSSL's (crypto_ec_verify).  No I/O here but
 * the store record; the clock and randomness come from the HAL.
 */
#ifndef CONSOLE_UNLOCK_H
#define CONSOLE_UNLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "store/store.h"

#define UNLOCK_KEY "op.keys"
#define UNLOCK_IDLE_KEY "op.idle_s"
#define UNLOCK_VALID_KEY "op.valid_s"
#define UNLOCK_OPS_MAX 8
#define UNLOCK_REC_MAX (8 + UNLOCK_OPS_MAX * CRYPTO_EC_PUB_LEN + 4)
#define UNLOCK_IDLE_S 600
#define UNLOCK_VALID_S 300
#define UNLOCK_BACKOFF_MAX_S 300
#define UNLOCK_CHALLENGE_MAX 192

struct unlock_ops {
    unsigned n;
    uint8_t pub[UNLOCK_OPS_MAX][CRYPTO_EC_PUB_LEN];
};

/* The outcome of an answer, counted for `metrics`. */
#define UNLOCK_RESULTS(X)                                                      \
    X(UNLOCK_OK, "ok")                                                         \
    X(UNLOCK_WRONG, "wrong")                                                   \
    X(UNLOCK_EXPIRED, "expired")                                               \
    X(UNLOCK_NONE, "no_challenge")                                             \
    X(UNLOCK_BLOCKED, "backoff")                                               \
    X(UNLOCK_MALFORMED, "malformed")

#define UNLOCK_R_ENUM(id, name) id,
enum unlock_result { UNLOCK_RESULTS(UNLOCK_R_ENUM) UNLOCK_R_COUNT };
#undef UNLOCK_R_ENUM

struct unlock {
    struct store *st;
    struct unlock_ops ops;
    int unlocked;
    uint64_t last_ms; /* last command while unlocked */
    uint32_t idle_s, valid_s;
    /* the pending challenge */
    int pending;
    uint64_t issued_ms;
    char challenge[UNLOCK_CHALLENGE_MAX];
    /* wrong answers since the last right one, and the wait they cost */
    uint32_t wrong;
    uint64_t blocked_until_ms;
    uint64_t count[UNLOCK_R_COUNT];
};

/* Load keys and settings from the store (st may be NULL: nothing is
 * stored, the device is unprovisioned). */
void unlock_init(struct unlock *u, struct store *st);
const char *unlock_result_name(int r);

/* 1 when commands that change the device may run now (provisioned and
 * unlocked within the idle time, or unprovisioned).  Touches the idle
 * timer when it says yes. */
int unlock_allowed(struct unlock *u);

/* A new challenge into u->challenge: 0, or -EAGAIN while wrong answers'
 * backoff lasts (*wait_s says how long), -ENOKEY unprovisioned, or the
 * rng's error. */
int unlock_challenge(struct unlock *u, const uint8_t fp[CRYPTO_SHA256_LEN],
                     uint32_t *wait_s);
/* Answer the pending challenge with a DER signature: an enum
 * unlock_result (UNLOCK_OK unlocks). */
int unlock_answer(struct unlock *u, const uint8_t *sig, size_t len);
void unlock_lock(struct unlock *u);

/* Operator keys: add (written first; -EEXIST, -ENOSPC), remove (-ENOENT;
 * -EPERM for the last key: a provisioned device stays provisioned). */
int unlock_op_add(struct unlock *u, const uint8_t pub[CRYPTO_EC_PUB_LEN]);
int unlock_op_remove(struct unlock *u, const uint8_t fp[CRYPTO_SHA256_LEN]);

/* The record: decode checks everything (-EBADMSG); encode returns its
 * length. */
int unlock_ops_decode(const uint8_t *b, size_t len, struct unlock_ops *o);
size_t unlock_ops_encode(const struct unlock_ops *o,
                         uint8_t out[UNLOCK_REC_MAX]);

#endif
