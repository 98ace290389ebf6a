/*
 * sync/sync.h - following the Mochimo chain from peers it cannot trust
 * (docs/SYNC.md), over Mochimo's own protocol (sync/mpkt.h) on lwIP's
 * plain TCP.
 *
 * Serving: a listener on sync.port (2095; 0: off) answers HELLO, then
 * one of TF, HASH, GET_IPL or GET_TFILE from the node's chain, with the
 * reference node's limits and timeouts (HELLO within 1 s, the request
 * within 3 s of HELLO_ACK, a TF over 1,000 trailers closed unanswered).
 * At most SYNC_SERVE_MAX clients at once; more are reset.
 *
 * Syncing (`sync now`, and every sync.poll_s while following): ask each
 * seed's tip (its HELLO_ACK advertises it), fetch its proof segment (the
 * last SYNC_PROOF trailers by TF) and admit it only if the segment is
 * linked, ends exactly at the advertised block and hash, obeys the
 * rules and passes proof of work on every trailer.  Choose the heaviest
 * admitted chain (ties: the most distinct /24 networks serving it, then
 * the larger hash); download from the node's tip in TF ranges of at
 * most SYNC_RANGE trailers, each validated (rules and proof of work) and
 * appended by chain_extend() in atomic batches; the stored proof
 * segment is byte-compared at its own offset before its range is
 * taken; at the end the advertised block and weight must be reached.
 * A peer whose range fails is marked with its reason and not asked
 * again this run.
 *
 * The scan keeps SYNC_INFLIGHT requests out, the download
 * SYNC_DL_SLOTS ranges; every wait is bounded; nothing here blocks.
 * Memory: struct sync is part of the node's one allocation, about
 * 650 KiB (two range buffers of 160,000 bytes, a proof segment of 8,640
 * bytes for each of 32 candidates, four link staging buffers of 4 KiB).
 */
#ifndef SYNC_SYNC_H
#define SYNC_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "hal/file.h"
#include "sync/book.h"
#include "sync/mpkt.h"

#define SYNC_SERVE_MAX 4
#define SYNC_INFLIGHT 4     /* scan requests in flight at once */
#define SYNC_DL_SLOTS 2     /* download ranges in flight at once */
#define SYNC_CAND_MAX 32    /* peers asked in one sync */
#define SYNC_IPL_ASK 4      /* peers asked for their peer list per sync */
#define SYNC_FOUND_MS 1000  /* at most one FOUND checked a second */
#define SYNC_PROOF 54       /* trailers of a proof segment (Mochimo's NTFTX) */
#define SYNC_RANGE 1000     /* trailers per TF range */
#define SYNC_FORK_MAX 10000 /* deepest fork followed (sync_fork_max) */
#define SYNC_HELLO_MS 1000
#define SYNC_REQ_MS 3000
#define SYNC_CONNECT_MS 3000
#define SYNC_PACKET_MS 5000

/* Why a candidate or a download was refused (metrics labels; append
 * only). */
#define SYNC_REASONS(X)                                                        \
    X(SYNC_R_NONE, "none")                                                     \
    X(SYNC_R_NO_PROOF, "no_proof")                                             \
    X(SYNC_R_BAD_LINK, "bad_link")                                             \
    X(SYNC_R_TIP_MISMATCH, "tip_mismatch")                                     \
    X(SYNC_R_RULE, "rule")                                                     \
    X(SYNC_R_POW, "proof_of_work")                                             \
    X(SYNC_R_TAIL, "tail_mismatch")                                            \
    X(SYNC_R_WEIGHT_SHORT, "weight_short")                                     \
    X(SYNC_R_TIMEOUT, "timeout")                                               \
    X(SYNC_R_OVERSIZE, "oversize")                                             \
    X(SYNC_R_PROTOCOL, "protocol")                                             \
    X(SYNC_R_CONNECT, "connect_failed")                                        \
    X(SYNC_R_FORK, "fork_below_tip")                                           \
    X(SYNC_R_REMEMBERED, "remembered")                                         \
    X(SYNC_R_CLOSED, "closed")

#define SYNC_R_ENUM(id, name) id,
enum sync_reason { SYNC_REASONS(SYNC_R_ENUM) SYNC_R_COUNT };
#undef SYNC_R_ENUM
const char *sync_reason_name(int r);
/* A rule the chain code refused, as a sync reason. */
enum sync_reason sync_reason_of(enum chain_reason r);

enum sync_state {
    SYNC_IDLE,     /* nothing asked, or done */
    SYNC_SCAN,     /* asking tips and proof segments */
    SYNC_DOWNLOAD, /* fetching ranges of the chosen chain */
};

/* A peer that answered a scan. */
struct sync_cand {
    struct sync_seed at;
    uint64_t tip;          /* advertised block number */
    uint8_t bhash[32];     /* advertised tip hash */
    struct chain_weight w; /* advertised weight */
    uint8_t reason;        /* refused: enum sync_reason; 0: admitted */
    uint8_t admitted;
    uint8_t remembered; /* refused by the guard's memory, not asked */
    uint8_t seed;       /* a seed (else from the peer table) */
    uint8_t asked;      /* a request went out */
    uint8_t ipl_asked;  /* asked for its peer list */
    uint8_t learned;    /* addresses its peer list added */
    uint8_t on_link;    /* a keel node on a peer link (link; no address) */
    uint32_t link;
    uint8_t proof[SYNC_PROOF * TRAILER_LEN];
    uint64_t proof_first; /* bnum of proof's first trailer */
    uint32_t proof_n;     /* trailers in proof */
    uint64_t bytes;       /* fetched from it */
};

struct altcp_pcb;
struct sync;

/* Sync over keel's mutual-TLS peer links (docs/SYNC.md "Over peer
 * links"): the same packets, carried in link frames instead of a TCP
 * connection.  A frame's payload is a u16 session id (little-endian,
 * chosen by the client) and at most SYNC_LINK_MAX bytes of the Mochimo
 * byte stream; a frame with no bytes after the id ends the session.
 * The node wires the links in (sync_set_links); without them sync uses
 * plain TCP only. */
#define SYNC_LINK_MAX 4086 /* a frame: 4,088 bytes at most (net/frame.h) */
#define SYNC_LINK_C2S 0    /* client to server */
#define SYNC_LINK_S2C 1    /* server to client */
struct sync_link_ops {
    /* Send one frame (dir SYNC_LINK_*) on link: 0, -EAGAIN (no room
     * now: try again later), or another < 0 (the link is gone). */
    int (*send)(void *arg, uint32_t link, int dir, const uint8_t *p,
                uint32_t len);
    /* The links up: how many ids went into ids (at most max). */
    int (*ids)(void *arg, uint32_t *ids, int max);
    /* sync's share of a link each second: bytes and frames (a link
     * that carries more is ended by its receiver's rate checks). */
    void (*share)(void *arg, uint32_t *bytes, uint32_t *frames);
    void *arg;
};

/* One connection we serve. */
struct sync_served {
    struct sync *s;
    struct altcp_pcb *pcb;
    int state; /* 0 free, 1 wait HELLO, 2 wait request, 3 sending, 4 done */
    uint64_t t0;
    uint16_t id1, id2;
    uint8_t ip[4];   /* the client's address */
    uint8_t on_link; /* over a peer link (else TCP) */
    uint16_t sess;   /* the link session's id */
    uint32_t link;
    uint32_t lfill; /* bytes in lbuf after the session id, not sent */
    uint8_t lbuf[2 + SYNC_LINK_MAX];
    struct mpkt_rx rx;
    uint32_t found_len; /* FOUND payload bytes taken (into s->found) */
    /* a file answer: trailers [next, end) in packets of up to 64 KiB */
    uint64_t next, end;
    uint32_t pkt_left; /* payload bytes left in the current packet */
    uint16_t crc;
    uint8_t phase;    /* 0 a header is due, 1 payload, 2 the tail */
    uint8_t finished; /* the short packet that ends the file has begun */
    uint8_t t[TRAILER_LEN];
    uint32_t t_off; /* bytes of t written (TRAILER_LEN: read the next) */
    uint8_t out[MPKT_HDR + 64 * 4 + MPKT_TAIL]; /* a short answer */
};

/* One connection of the client: one request and its answer. */
enum sync_job {
    SYNC_JOB_PROOF = 1,
    SYNC_JOB_IPL,
    SYNC_JOB_RANGE,
    SYNC_JOB_FOUND
};
struct sync_conn {
    struct sync *s;
    struct altcp_pcb *pcb;
    int cstate;      /* 0 none, 1 connecting, 2 HELLO sent, 3 request sent */
    int busy;        /* a job is out (until its outcome is handled) */
    uint8_t on_link; /* over a peer link (else TCP) */
    uint16_t sess;   /* the link session's id */
    uint32_t link;
    enum sync_job job;
    unsigned k; /* the candidate asked */
    uint64_t t_req;
    uint16_t id1, id2;
    struct mpkt_rx crx;
    struct mpkt req; /* the request to send after HELLO_ACK */
    int (*req_from_ack)(struct sync_conn *c); /* fills req in from ack */
    struct mpkt ack; /* the peer's HELLO_ACK (its advertised tip) */
    int ack_ok;
    uint8_t *file; /* the answer's bytes so far (range or proof) */
    uint32_t file_cap, file_len;
    int file_done;
    int pending; /* the outcome not yet handled */
    enum sync_reason fail;
    uint8_t ipl[MPKT_IPL_MAX * 4]; /* a SEND_IPL answer */
};

struct sync {
    struct chain *c;
    struct store *st;
    uint16_t port; /* serving on; 0: not */
    struct altcp_pcb *listener;
    struct sync_served served[SYNC_SERVE_MAX];
    struct sync_seed seeds[SYNC_SEEDS_MAX];
    unsigned nseeds;
    struct sync_book book;      /* the peer table (book.h) */
    struct sync_link_ops links; /* peer links (send NULL: none) */
    struct sync_pace {          /* what was sent on a link this second */
        uint32_t link, bytes, frames;
        uint64_t t;
    } pace[SYNC_SERVE_MAX];
    uint64_t link_sessions; /* served over links */
    uint64_t book_saved;    /* when it was last written (monotonic ms) */
    /* the client */
    enum sync_state state;
    struct sync_conn conn[SYNC_INFLIGHT]; /* the download: conn[0..1] */
    uint64_t t_start, t_end;
    unsigned scan_i; /* the next candidate to ask for its proof */
    unsigned fresh;  /* never-answered peers asked this run */
    unsigned ipl_n;  /* peer lists asked this run */
    /* the download: SYNC_DL_SLOTS ranges in flight (slot i on conn[i]),
     * fed to the chain in order */
    struct sync_dl {
        uint64_t first; /* the range: its first bnum, its count */
        uint32_t count;
        uint32_t got; /* trailers it brought */
        unsigned k;   /* the candidate asked */
        uint8_t busy; /* asked, not fed yet */
        uint8_t done; /* arrived, waiting for its turn */
        uint8_t need; /* not asked yet: every member has a range out */
    } dl[SYNC_DL_SLOTS];
    uint64_t dl_next;     /* the first trailer not asked yet */
    unsigned dl_fed;      /* the slot fed last */
    int dl_phase;         /* 0 finding the fork, 1 streaming */
    uint64_t fork_lo;     /* the fork search: common (once known) */
    uint64_t fork_hi;     /* differs (tip + 1: none known yet) */
    int probe_lo_known;   /* fork_lo was found common */
    uint64_t stream_next; /* the next trailer the stream wants */
    int rx_open;          /* rx holds an import in progress */
    struct chain_rx rx;   /* the download, into the chain (chain.h) */
    struct chain_import_res res;
    unsigned cur; /* candidate downloading from */
    struct sync_cand cand[SYNC_CAND_MAX];
    unsigned ncand;
    int chosen;      /* index in cand, or -1 */
    uint64_t target; /* the chosen tip */
    uint64_t got_trailers, got_bytes;
    char why[160]; /* the last outcome, in words */
    uint8_t range[SYNC_DL_SLOTS][SYNC_RANGE * TRAILER_LEN];
    struct sync_bad bad[SYNC_BAD_MAX];
    unsigned nbad;
    int bad_dirty;    /* bad differs from the store */
    uint64_t skipped; /* peers not asked: remembered */
    /* FOUND pushes: one checked at a time, at most one a second */
    struct sync_cand found_k; /* the pusher's claim and segment */
    struct sync_served *found_owner;
    uint64_t found_t;
    int kick; /* a proved push: sync now */
    /* this node's own push: FOUND with its last SYNC_PROOF trailers */
    uint8_t push[MPKT_HDR + SYNC_PROOF * TRAILER_LEN + MPKT_TAIL];
    struct sync_seed push_to;
    int push_busy;
    enum sync_reason push_result; /* the last push's outcome */
    uint64_t pushes;
    uint64_t found_ok, found_refused, found_dropped;
    /* sim tests only (KEEL_TEST_HOOKS): a lying peer (sync.c) */
    int lie, lie_file, vanished, grown;
    uint8_t lie_ipl_base;
    struct hal_file lie_f;
    uint64_t lie_n;
    struct chain_weight lie_w;
    /* counters for metrics */
    uint64_t refused[SYNC_R_COUNT];
    uint64_t served_req[20];
    uint64_t served_bytes, serve_busy, trailers_fetched;
    uint64_t syncs_ok, syncs_failed;
    uint64_t proof_ms, proof_checks; /* time checking proof segments */
    uint64_t learned, ipl_refused;   /* peer-list addresses taken, lists
                                        refused */
    uint64_t ranges_remembered;      /* ranges refused: a trailer in them
                                        failed before */
    uint64_t bytes_by[SYNC_R_COUNT]; /* fetched, by the peer's outcome
                                        (0: used) */
    uint32_t fork_max;               /* setting sync_fork_max */
    uint64_t runs;                   /* syncs started */
};

/* Attach to the chain and the store (seeds); called once. */
void sync_init(struct sync *s, struct chain *c, struct store *st);
/* Keep the listener on port (0: off) and run timeouts and the state
 * machine; called from the event loop.  up: the network is up.  Once a
 * sync has run, another starts every poll_s seconds (0: never): the
 * node follows the chain.  fork_max: the deepest fork followed. */
void sync_tick(struct sync *s, int up, uint16_t port, uint32_t poll_s,
               uint32_t fork_max);
/* The peer links sync may use (the node's; NULL: none). */
void sync_set_links(struct sync *s, const struct sync_link_ops *ops);
/* A sync frame that arrived on link (dir SYNC_LINK_*), payload p. */
void sync_link_frame(struct sync *s, uint32_t link, int dir, const uint8_t *p,
                     uint32_t len);
/* Start a sync now (scan the seeds, the peer table and the keel nodes
 * on peer links); -EBUSY when one runs, -ENOENT with nobody to ask. */
int sync_start(struct sync *s);
/* Push this node's tip to a Mochimo peer (FOUND with the last
 * SYNC_PROOF trailers), as a node that found or accepted a block does.
 * -EBUSY while a push or a download runs, -ENOENT with too short a
 * chain. */
int sync_push(struct sync *s, const struct sync_seed *to);
/* Forget what the guard remembers (store record sync.bad). */
void sync_forget(struct sync *s);
/* Seeds: parse "A.B.C.D[:PORT]", add/remove, saved to the store. */
int sync_seed_parse(const char *text, struct sync_seed *out);
int sync_seed_add(struct sync *s, const struct sync_seed *seed);
int sync_seed_remove(struct sync *s, const struct sync_seed *seed);
/* Check k's proof segment (len bytes in k->proof, as received) against
 * its advertised tip k->tip and k->bhash: the right number of trailers,
 * from tip - SYNC_PROOF + 1, linked, by pf's rules (pf NULL: a node
 * with no chain yet: either network), every proof of work; sets
 * k->proof_first and k->proof_n.  SYNC_R_NONE when it holds
 * (sync/proof.c). */
enum sync_reason sync_proof_check(const struct chain_profile *pf,
                                  struct sync_cand *k, uint32_t len,
                                  int64_t now);
/* The chain's weight as 32 little-endian bytes, and back. */
void sync_weight_bytes(const struct chain_weight *w, uint8_t out[32]);
void sync_weight_from(const uint8_t in[32], struct chain_weight *w);

#endif
