/*
 * node/p2p.h - peer bundle distribution (issue #17, docs/P2P.md): a
 * node announces the bundles it holds to its linked keel peers (which
 * chunks, as a bitmap), serves their signed manifests and chunks, and
 * fetches a newer bundle from several peers at once, in any order.
 *
 * Trust: peers are trusted to be who they are (mutual TLS, net.h), not
 * to serve good bytes.  A fetch asks for the manifest (with its
 * signature blocks) first; update_ra_begin() checks it against the
 * device keyring, the board, the version and the anti-rollback counter
 * before any chunk is requested, so no chunk is asked for a bundle it
 * refuses.  Each chunk is hashed against the signed manifest by
 * update_ra_put() before it is written at its place in the inactive
 * slot: only verified bytes ever reach the slot.  A mismatch marks the
 * peer that sent it and the chunk is asked of another; three bad chunks
 * drop that peer for the bundle, remembered with expiry.  A node serves
 * the bundle in its good (or ready) slot and the verified chunks of one
 * it is fetching, re-hashing every chunk it reads from flash before
 * sending any of it.
 *
 * The fetch runs in the event loop (p2p_tick), not in a command: the
 * console stays free during an automatic fetch; `update fetch` starts
 * one and waits for it (p2p_fetch), or starts it in the background.
 * Chunks are chosen rarest first (fewest linked holders), ties from a
 * random start, so fetchers take different chunks from the origin and
 * the rest from each other.
 *
 * Frames (net/frame.h, docs/FORMAT.md "Peer bundle frames", the bytes
 * in update/p2pwire.h):
 *   p2p_announce      version 2: the bundles held, with a bitmap of the
 *                     chunks held when not all
 *   p2p_manifest_req  hash(32) offset(u32)
 *   p2p_manifest      hash(32) total(u32) offset(u32) bytes: a piece of
 *                     u32 manifest_len, u32 sigs_len, manifest, sigs
 *   p2p_chunk_req     hash(32) index(u32)
 *   p2p_chunk         hash(32) index(u32) offset(u32) bytes
 *   p2p_nak           hash(32) index(u32, ~0: manifest) reason(u8)
 *
 * Flow control: a fetch keeps at most P2P_WIN chunks (and at most
 * P2P_WIN_BYTES) requested, at most P2P_PEER_INFLIGHT of them at one
 * peer; a server queues at most P2P_SERVE_Q requests per link and
 * P2P_SERVE_TOTAL overall (more are answered "busy"), and paces what it
 * sends on a link to 3/4 of the link limits (net.frames_per_s,
 * net.bytes_per_s) so the receiver's rate checks never end the link.
 *
 * Memory: struct p2p is about 1.2 MiB, inside the node's one
 * allocation (the fetch's own struct update and work buffers among
 * it); nothing else is allocated.
 */
#ifndef NODE_P2P_H
#define NODE_P2P_H

#include <stddef.h>
#include <stdint.h>

#include "net/frame.h"
#include "net/net.h"
#include "update/format.h"
#include "update/p2pwire.h"
#include "update/update.h"

#define P2P_WIN 8                   /* chunks requested or held */
#define P2P_WIN_BYTES (512u * 1024) /* ... and their bytes at most */
#define P2P_PEER_INFLIGHT 2         /* requests at one peer */
#define P2P_SERVE_Q 4               /* queued requests per link */
#define P2P_SERVE_TOTAL 16          /* ... and overall */
#define P2P_CACHE 2                 /* chunks read and verified */
#define P2P_BAD_MAX 3               /* bad chunks before a drop */
#define P2P_REQ_MS 4000             /* a request unanswered: timeout */
#define P2P_STALL_MS 20000          /* no chunk at all: the fetch stops */
#define P2P_WAIT_MS 4000            /* for a peer's announce, at start */
#define P2P_ANN_FAST_MS 250         /* a fetcher's progress, at most */
#define P2P_ANNOUNCE_MS 2000        /* announce at least this often */
#define P2P_BAN_S 3600              /* a dropped peer, for a bundle */
#define P2P_SOURCES 32              /* peers counted (by key) */
#define P2P_BANS P2P_BANS_MAX       /* remembered, on flash (p2p.bans) */
#define P2P_PIECE P2P_PIECE_MAX     /* bytes of data per frame */
#define P2P_BLOB_MAX (8 + UPD_MANIFEST_MAX + UPD_SIGS_MAX * UPD_SIG_LEN)
#define P2P_KEY_POLICY "update.auto_fetch"

enum p2p_policy { P2P_OFF, P2P_FETCH_ONLY, P2P_FETCH_INSTALL };

struct p2p_peer {
    uint32_t link; /* 0: free */
    uint8_t fp[TRUST_FP_LEN];
    uint8_t nads, inflight;
    struct p2p_ad ad[2];
};

struct p2p_source {
    uint8_t fp[TRUST_FP_LEN];
    uint8_t used;
    uint8_t bad; /* bad chunks in the current fetch */
    uint64_t bytes, ok, bad_hash, timeouts;
};

struct p2p_ban {
    uint8_t fp[TRUST_FP_LEN], hash[32];
    uint64_t until_ms;  /* 0: free */
    int64_t until_wall; /* the same on the wall clock (0: unset) */
};

/* One bundle this node serves: 0 its slot's, 1 the one being fetched. */
struct p2p_held {
    int valid, slot;
    struct p2p_ad ad;
    const uint8_t *blob; /* u32 ml, u32 sl, manifest, sigs */
    uint32_t blob_len, po;
    struct upd_manifest man;
    int reported; /* a chunk read from flash did not match: logged */
};

struct p2p_serve_req {
    uint8_t kind; /* 0 free, 1 manifest, 2 chunk */
    uint8_t hash[32];
    uint32_t idx, off;
};

struct p2p_serve {
    uint32_t link; /* 0: free */
    struct p2p_serve_req q[P2P_SERVE_Q];
    uint64_t t_win;
    uint32_t win_bytes, win_frames;
};

struct p2p_cache {
    int valid, held;
    uint8_t hash[32];
    uint32_t idx, len;
    uint8_t buf[UPD_CHUNK_BUF];
};

struct p2p_win {
    uint8_t state; /* 0 free, 1 requested */
    uint32_t idx, link, got, len;
    int src; /* source index, -1 */
    uint64_t t;
    uint8_t *buf; /* P2P_WIN_BYTES / P2P_WIN of the arena */
};

enum p2p_fstate {
    P2P_F_IDLE,   /* no fetch */
    P2P_F_WAIT,   /* for a peer to announce the bundle */
    P2P_F_MAN,    /* the manifest and its signatures */
    P2P_F_CHUNKS, /* the slot is INSTALLING: chunks in any order */
};

struct p2p_fetch {
    int state;     /* enum p2p_fstate */
    int automatic; /* started by update.auto_fetch */
    int any;       /* no hash given: the best a peer announces */
    int result;    /* of the last fetch: the slot, or < 0 */
    uint32_t seq;  /* fetches started (a waiter's ticket) */
    uint8_t hash[32];
    struct p2p_ad ad;
    uint8_t from[TRUST_FP_LEN];
    size_t from_len; /* 0: any peer */
    uint8_t blob[P2P_BLOB_MAX];
    uint32_t blob_len, blob_got, man_link, man_tries, man_bad;
    uint64_t t_man;
    uint8_t hdr[UPD_HDR_LEN];
    uint32_t pos;   /* in hdr + blob, while update_ra_begin() reads */
    uint32_t start; /* ties of rarest first go from here */
    unsigned nwin;
    struct p2p_win w[P2P_WIN];
    uint32_t badmask[UPD_CHUNKS_MAX]; /* sources whose copy failed */
    uint8_t cnt[UPD_CHUNKS_MAX];      /* linked holders, per pump */
    uint64_t t_progress, t0, t_ann, bytes;
    int failed; /* why the fetch stops: < 0 */
    char why[240];
};

struct p2p {
    int policy;
    uint8_t fr[FRAME_KEEP_MAX]; /* a frame being served */
    uint64_t t_ann, t_check;
    struct p2p_peer peer[NET_LINKS];
    struct p2p_source src[P2P_SOURCES];
    struct p2p_ban ban[P2P_BANS];
    struct p2p_held held[2];
    uint8_t held_blob[P2P_BLOB_MAX];
    struct p2p_serve serve[NET_LINKS];
    struct p2p_cache cache[P2P_CACHE];
    unsigned cache_next;
    struct p2p_fetch f;
    struct update fu;      /* the fetch's install (update_ra_*) */
    struct upd_work fwork; /* and its buffers */
    uint8_t arena[P2P_WIN_BYTES];
    int auto_tried; /* the hash below was tried by auto fetch */
    uint8_t auto_hash[32];
    /* counters since start */
    uint64_t chunks_ok, chunks_bad, chunks_timeout, verify_failed;
    uint64_t served_chunks, served_bytes, serve_corrupt, serve_busy;
    uint64_t refused_manifest, fetches_ok, fetches_failed;
};

struct node;
struct cmd_ctx;

/* At start, after the update set-up and the network: hook the frames,
 * read the policy, load the slot's bundle. */
void p2p_init(struct node *node);
/* The main loop's work: announce, serve, fetch requests, timeouts; and
 * (may_fetch, from the main loop only) start an automatic fetch. */
void p2p_tick(struct node *node, int may_fetch);
/* Boot control or the quarantine changed: reload what is served and
 * announce it. */
void p2p_refresh(struct node *node);

/* Start a fetch of a bundle: hash (NULL: the newest a peer announces
 * that this node would take), from peers whose fingerprint starts with
 * from (from_len bytes; 0: any).  It runs in p2p_tick().  0, or -EBUSY
 * (one is running), -EEXIST (a slot holds it already, good, ready or on
 * trial), -EPERM (quarantined) with node->p2p.f.why set.  The newest
 * bundle (hash NULL) is never one a slot holds already or that failed
 * on this node (rolled back, out of trials, refused at boot). */
int p2p_fetch_start(struct node *node, const uint8_t *hash, const uint8_t *from,
                    size_t from_len, int automatic);
/* Stop the running fetch (its verified chunks stay in the slot, for
 * the next fetch of the same bundle): 0, or -ENOENT. */
int p2p_fetch_cancel(struct node *node);
/* Start a fetch (or join the one running, when hash is NULL and from_len
 * 0) and wait for its end, the event loop turning, printing progress to
 * ctx (may be NULL); Ctrl-C cancels it.  Returns the slot written, or a
 * negative errno with node->p2p.f.why set. */
int p2p_fetch(struct node *node, const uint8_t *hash, const uint8_t *from,
              size_t from_len, struct cmd_ctx *ctx);
/* A fetch is running (it owns the inactive slot): 1. */
int p2p_fetching(const struct node *node);

/* The best bundle a peer announces that this node would fetch: 0 with
 * *ad set, or -ENOENT. */
int p2p_best(struct node *node, struct p2p_ad *ad);

const char *p2p_policy_name(int p);
int p2p_policy_set(struct node *node, const char *name);

void node_p2p_metrics(struct cmd_ctx *ctx, struct node *node);

#endif
