/*
 * sync/proof.c - what sync decides about a peer from bytes alone, with
 * no network: the proof segment's checks (sync.h), reasons and names.
 * Kept apart from sync.c so the fuzz target reaches it without lwIP.
 */
#include <string.h>

#include "lib/le.h"
#include "sync/sync.h"

#define SYNC_R_NAME(id, name) name,
static const char *const reason_names[] = {SYNC_REASONS(SYNC_R_NAME)};
#undef SYNC_R_NAME

const char *
sync_reason_name(int r)
{
    return r >= 0 && r < SYNC_R_COUNT ? reason_names[r] : "unknown";
}

enum sync_reason
sync_reason_of(enum chain_reason r)
{
    switch (r) {
    case CHAIN_OK:
        return SYNC_R_NONE;
    case CHAIN_R_PHASH:
    case CHAIN_R_BNUM:
        return SYNC_R_BAD_LINK;
    case CHAIN_R_POW:
    case CHAIN_R_POW_SYNTAX:
        return SYNC_R_POW;
    default:
        return SYNC_R_RULE;
    }
}

static enum sync_reason
proof_check_pf(const struct chain_profile *pf, const struct sync_cand *k,
               uint64_t first, int64_t now, uint32_t *at)
{
    const uint8_t *p = k->proof;
    struct chain_opts o = {now, 1};

    if (lib_le64(p + 32) != first)
        return SYNC_R_BAD_LINK;
    for (uint32_t i = 1; i < k->proof_n; i++) {
        enum sync_reason r = sync_reason_of(chain_check(
            pf, p + (i - 1) * TRAILER_LEN, p + i * TRAILER_LEN, &o));

        *at = i;
        if (r != SYNC_R_NONE)
            return r;
    }
    *at = k->proof_n;
    p += (k->proof_n - 1) * TRAILER_LEN;
    if (lib_le64(p + 32) != k->tip || memcmp(p + 128, k->bhash, 32) != 0)
        return SYNC_R_TIP_MISMATCH;
    return SYNC_R_NONE;
}

/* Linked, ending exactly at the advertised tip, by the rules, every
 * proof of work checked.  A node with no chain yet does not know the
 * network: the segment must hold under one of the two. */
enum sync_reason
sync_proof_check(const struct chain_profile *pf, struct sync_cand *k,
                 uint32_t len, int64_t now)
{
    uint64_t first = k->tip + 1 >= SYNC_PROOF ? k->tip + 1 - SYNC_PROOF : 0;
    uint32_t at = 0, at2 = 0;
    enum sync_reason r;

    if (len % TRAILER_LEN != 0 || len / TRAILER_LEN != k->tip - first + 1)
        return SYNC_R_NO_PROOF;
    k->proof_n = len / TRAILER_LEN;
    k->proof_first = first;
    if (pf != NULL)
        return proof_check_pf(pf, k, first, now, &at);
    /* either network: the reason is the one of the network the
     * segment fits longest */
    r = proof_check_pf(&chain_mainnet, k, first, now, &at);
    if (r != SYNC_R_NONE) {
        enum sync_reason r2 =
            proof_check_pf(&chain_testnet, k, first, now, &at2);

        if (r2 == SYNC_R_NONE || at2 > at)
            r = r2;
    }
    return r;
}
