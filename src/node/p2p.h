/*
 * node/p2p.h - peer bundle distribution (issue #17, docs/P2P.md): a
 * node announces the bundles it holds to its linked keel peers, serves
 * their signed manifests and chunks, and fetches a newer bundle from
 * several peers at once into update_install().
 *
 * Trust: peers are trusted to be who they are (mutual TLS, net.h), not
 * to serve good bytes.  A fetch asks for the manifest (with its
 * signature blocks) first; update_install() checks it against the
 * device keyring, the board, the version and the anti-rollback counter
 * before it asks the source for one payload byte, so no chunk is
 * requested for a bundle it refuses.  Each chunk is hashed against the
 * signed manifest when it arrives (a mismatch marks the peer that sent
 * it and the chunk is asked of another; three bad chunks drop that
 * peer for the bundle, remembered with expiry), and again by
 * update_install() before it is written: only verified bytes ever reach
 * the slot, in order.  A node serves the bundle in its good (or ready)
 * slot and the verified chunks of one it is fetching, re-hashing every
 * chunk it reads from flash before sending any of it.
 *
 * Frames (net/frame.h, docs/FORMAT.md "Peer bundle frames"):
 *   p2p_announce      u8 version 1, u8 count (<= 2), count entries of
 *                     hash(32) major minor patch (u32 each) counter(u64)
 *                     size(u64) chunk_size(u32) nchunks(u32) have(u32)
 *                     u8 board length, board
 *   p2p_manifest_req  hash(32) offset(u32)
 *   p2p_manifest      hash(32) total(u32) offset(u32) bytes: a piece of
 *                     u32 manifest_len, u32 sigs_len, manifest, sigs
 *   p2p_chunk_req     hash(32) index(u32)
 *   p2p_chunk         hash(32) index(u32) offset(u32) bytes
 *   p2p_nak           hash(32) index(u32, ~0: manifest) reason(u8)
 *
 * Flow control: a fetch keeps at most P2P_WIN chunks (and at most
 * P2P_WIN_BYTES) requested or assembled, at most P2P_PEER_INFLIGHT of
 * them at one peer; a server queues at most P2P_SERVE_Q requests per
 * link and P2P_SERVE_TOTAL overall (more are answered "busy"), and paces
 * what it sends on a link to 3/4 of the link limits (net.frames_per_s,
 * net.bytes_per_s) so the receiver's rate checks never end the link.
 *
 * Memory: struct p2p is about 900 KiB, inside the node's one
 * allocation; nothing else is allocated.
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
#define P2P_ANNOUNCE_MS 2000        /* announce at least this often */
#define P2P_BAN_S 3600              /* a dropped peer, for a bundle */
#define P2P_SOURCES 32              /* peers counted (by key) */
#define P2P_BANS 16
#define P2P_PIECE (FRAME_KEEP_MAX - 40) /* bytes of data per frame */
#define P2P_BLOB_MAX (8 + UPD_MANIFEST_MAX + UPD_SIGS_MAX * UPD_SIG_LEN)
#define P2P_KEY_POLICY "update.auto_fetch"

enum p2p_policy { P2P_OFF, P2P_FETCH_ONLY, P2P_FETCH_INSTALL };

enum p2p_nak {
    P2P_NAK_NOT_HELD = 1,
    P2P_NAK_QUARANTINED,
    P2P_NAK_CORRUPT,
    P2P_NAK_BUSY,
};

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
    uint64_t until_ms; /* 0: free */
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
    uint8_t state; /* 0 free, 1 requested, 2 verified */
    uint32_t idx, link, got, len;
    int src; /* source index, -1 */
    uint64_t t;
    uint32_t badmask; /* sources whose copy of this chunk failed */
};

struct p2p_fetch {
    int active, chunks; /* chunks: the installer asked for payload */
    uint8_t hash[32];
    struct p2p_ad ad;
    uint8_t from[TRUST_FP_LEN];
    size_t from_len; /* 0: any peer */
    uint8_t blob[P2P_BLOB_MAX];
    uint32_t blob_len, blob_got, man_link;
    uint64_t t_man;
    struct upd_manifest man;
    uint8_t hdr[UPD_HDR_LEN];
    uint64_t pos;  /* in the stream: header, manifest, sigs, payload */
    uint32_t next; /* the chunk the installer reads now */
    unsigned nwin;
    struct p2p_win w[P2P_WIN];
    uint8_t *buf[P2P_WIN];
    uint64_t t_progress, t0, bytes, written;
    uint32_t have; /* chunks in the slot, verified */
    int failed;    /* why the source stopped: < 0 */
    char why[240];
};

struct fetch_prog;
struct p2p {
    int policy;
    uint8_t fr[FRAME_KEEP_MAX]; /* a frame being served */
    struct fetch_prog *prog;    /* the progress line of the fetch */
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

/* Fetch a bundle: hash (NULL: the newest a peer announces that this
 * node would take), from peers whose fingerprint starts with from
 * (from_len bytes; 0: any).  Runs to the end (the event loop turns
 * meanwhile), printing progress to ctx (may be NULL).  Returns the slot
 * written, or a negative errno with node->p2p.f.why set. */
int p2p_fetch(struct node *node, const uint8_t *hash, const uint8_t *from,
              size_t from_len, struct cmd_ctx *ctx);

/* The best bundle a peer announces that this node would fetch: 0 with
 * *ad set, or -ENOENT. */
int p2p_best(struct node *node, struct p2p_ad *ad);

const char *p2p_policy_name(int p);
int p2p_policy_set(struct node *node, const char *name);

void node_p2p_metrics(struct cmd_ctx *ctx, struct node *node);

#endif
