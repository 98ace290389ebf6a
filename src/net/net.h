/*
 * net/net.h - the node's network: lwIP on a HAL link, and peer links.
 *
 * One struct net per node, inside the node's one allocation.  lwIP runs
 * with NO_SYS=1 in the node's thread: the event loop waits in
 * hal_poll() on the console and the link, then calls net_poll(), which
 * moves received frames into lwIP, runs its timers and the links' tick
 * (timeouts, keepalive, dials).  Nothing here blocks.
 *
 * Peer links (src/net/peer.c, docs/NET.md): TLS 1.2 over lwIP's
 * altcp_tls_mbedtls, ECDHE-ECDSA P-256 with AES-128-GCM or
 * ChaCha20-Poly1305, mutual authentication.  A peer counts only when the
 * SHA-256 of its certificate's SubjectPublicKeyInfo is on the trust list
 * (store key peer.trust), or follows from a trusted one by a rotation
 * statement in its certificate within the overlap window; anything else
 * is refused inside the handshake, before one frame byte is read.  Then
 * frames (net/frame.h) with hard limits, timeouts and rates.
 *
 * Everything returns 0 or a negative errno; refusals and closes carry a
 * reason (enum net_reason), counted for `metrics` and logged.
 */
#ifndef NET_NET_H
#define NET_NET_H

#include <stddef.h>
#include <stdint.h>

#include "hal/net.h"
#include "identity/identity.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "net/frame.h"
#include "net/trust.h"
#include "store/store.h"

/* Settings: store key "net.NAME" (decimal text), set by `net config
 * set`; default, least, most. */
#define NET_SETTINGS(X)                                                        \
    X(NET_S_PORT, "port", 7950, 1, 65535)                                      \
    X(NET_S_FRAME_MAX, "frame_max", 65536, 1024, 1048576)                      \
    X(NET_S_LINKS_IN, "links_in", 16, 0, 16)                                   \
    X(NET_S_LINKS_OUT, "links_out", 16, 0, 16)                                 \
    X(NET_S_HANDSHAKES, "handshakes", 8, 1, 16)                                \
    X(NET_S_CONN_PER_MIN, "conn_per_min", 30, 1, 6000)                         \
    X(NET_S_FRAMES_PER_S, "frames_per_s", 2000, 10, 1000000)                   \
    X(NET_S_BYTES_PER_S, "bytes_per_s", 8388608, 65536, 1073741824)            \
    X(NET_S_HS_MS, "handshake_ms", 10000, 500, 120000)                         \
    X(NET_S_FRAME_MS, "frame_ms", 10000, 500, 120000)                          \
    X(NET_S_IDLE_MS, "idle_ms", 30000, 1000, 600000)                           \
    X(NET_S_PING_MS, "ping_ms", 10000, 200, 300000)                            \
    X(NET_S_METRICS_PORT, "metrics_port", 0, 0, 65535)                         \
    X(NET_S_SYNC_PORT, "sync_port", 0, 0, 65535)                               \
    X(NET_S_SYNC_POLL_S, "sync_poll_s", 60, 0, 86400)                          \
    X(NET_S_SYNC_FORK_MAX, "sync_fork_max", 10000, 1, 1000000)

#define NET_S_ENUM(id, name, def, lo, hi) id,
enum net_setting { NET_SETTINGS(NET_S_ENUM) NET_S_COUNT };
#undef NET_S_ENUM

/* Why a link was refused or ended.  Append only (metrics labels). */
#define NET_REASONS(X)                                                         \
    X(NET_R_NONE, "none")                                                      \
    X(NET_R_UNTRUSTED, "untrusted")                                            \
    X(NET_R_RETIRED, "retired")                                                \
    X(NET_R_ROT_EXPIRED, "rotation_expired")                                   \
    X(NET_R_ROT_CLOCK, "rotation_clock_unset")                                 \
    X(NET_R_ROT_BAD, "rotation_invalid")                                       \
    X(NET_R_BAD_CERT, "bad_certificate")                                       \
    X(NET_R_TLS, "tls_failed")                                                 \
    X(NET_R_LINKS_FULL, "links_full")                                          \
    X(NET_R_HS_BUSY, "handshakes_busy")                                        \
    X(NET_R_CONN_RATE, "conn_rate")                                            \
    X(NET_R_MEMORY, "memory")                                                  \
    X(NET_R_HS_TIMEOUT, "handshake_timeout")                                   \
    X(NET_R_FRAME_TIMEOUT, "frame_timeout")                                    \
    X(NET_R_IDLE_TIMEOUT, "idle_timeout")                                      \
    X(NET_R_F_VERSION, "frame_version")                                        \
    X(NET_R_F_RESERVED, "frame_reserved")                                      \
    X(NET_R_F_TYPE, "unknown_type")                                            \
    X(NET_R_F_SIZE, "oversized")                                               \
    X(NET_R_RATE_FRAMES, "frame_rate")                                         \
    X(NET_R_RATE_BYTES, "byte_rate")                                           \
    X(NET_R_CLOSED, "closed_by_peer")                                          \
    X(NET_R_RESET, "reset")                                                    \
    X(NET_R_CONNECT, "connect_failed")                                         \
    X(NET_R_DROPPED, "dropped")                                                \
    X(NET_R_REKEY, "identity_changed")

#define NET_R_ENUM(id, name) id,
enum net_reason { NET_REASONS(NET_R_ENUM) NET_R_COUNT };
#undef NET_R_ENUM

#define NET_LINKS 32    /* links_in + links_out at their most */
#define NET_SOURCES 64  /* sources tracked for conn_per_min */
#define NET_REFUSALS 16 /* the last refusals kept for `peer refused` */

enum link_state {
    LINK_FREE,
    LINK_HANDSHAKE, /* TCP up (or connecting), TLS in progress */
    LINK_UP,        /* gated, TLS done: frames flow */
};

struct net;

struct peer_link {
    struct net *net;
    struct altcp_pcb *pcb; /* NULL once lwIP freed it */
    enum link_state state;
    uint8_t out;      /* 1: we dialed */
    uint8_t gated;    /* the peer's key passed the gate */
    uint8_t fp_known; /* fp holds the peer's fingerprint */
    uint8_t reason;   /* the gate's refusal, kept for the close */
    int dial;         /* index in the dial list, or -1 */
    uint8_t ip[4];
    uint16_t port;
    uint8_t fp[TRUST_FP_LEN];
    uint32_t id; /* link number since start, for `peer drop` */
    uint64_t t_start, t_up, t_rx, t_tx, t_frame, t_ping;
    uint32_t rtt_ms;
    uint8_t rtt_known, ping_out;
    uint64_t bytes_in, bytes_out, frames_in, frames_out;
    /* rates: counts in the current one-second window */
    uint64_t t_win;
    uint32_t win_frames, win_bytes;
    struct frame_rx rx;
    uint8_t rxbuf[FRAME_KEEP_MAX];
    /* `peer bench`: discard bytes left to send, then a ping to time */
    uint64_t bench_left, bench_total, bench_t0, bench_ping;
};

struct net_dial {
    uint64_t next_try;
    uint32_t backoff_ms;
    uint32_t attempts;
    int link; /* index in links, or -1 */
    uint8_t last_reason;
};

struct net_source {
    uint8_t ip[4];
    uint64_t t_win; /* start of its one-minute window */
    uint32_t count;
};

struct net_refusal {
    int64_t when; /* wall clock, 0: unset */
    uint8_t ip[4];
    uint8_t fp[TRUST_FP_LEN];
    uint8_t fp_known;
    uint8_t reason;
};

struct net_counters {
    uint64_t hs_ok, hs_failed;
    uint64_t refused[NET_R_COUNT]; /* links refused (never up), by reason */
    uint64_t closed[NET_R_COUNT];  /* links up that ended, by reason */
    uint64_t frames_in, frames_out, bytes_in, bytes_out;
    uint64_t parser_bytes;         /* fed to frame parsers, gated links */
    uint64_t parser_bytes_ungated; /* ... on links not gated: always 0 */
    uint64_t links_opened, links_closed, rotations_accepted;
};

/* What the node layers on the links: frames of the p2p types
 * (FRAME_P2P_*) are handed to frame() whole, after the link's rate
 * checks, with the link's id and the peer's fingerprint; it may answer
 * with net_send().  NULL: those frames are counted and dropped. */
struct net_app {
    void (*frame)(void *arg, uint32_t link, const uint8_t fp[TRUST_FP_LEN],
                  unsigned type, const uint8_t *p, uint32_t len);
    void *arg;
};

struct net {
    struct hal_net hw;
    struct net_app app;
    struct netif nif;
    struct store *st;
    struct identity *id;
    void (*log)(void *arg, const char *msg);
    void *log_arg;
    int up;       /* the netif exists */
    int dhcp;     /* addresses from DHCP */
    char why[96]; /* why the network is not up */
    uint32_t set[NET_S_COUNT];
    struct trust_list trust;
    struct dial_list dials;
    struct net_dial dial[DIAL_MAX];
    struct peer_link link[NET_LINKS];
    uint32_t next_link_id;
    struct net_source src[NET_SOURCES];
    struct net_refusal refusals[NET_REFUSALS];
    unsigned refusal_next;
    struct net_counters c;
    /* TLS: the configurations are lwIP's (opaque), remade when the
     * identity's generation changes; the certificate is kept as DER for
     * `peer cert`. */
    struct altcp_tls_config *srv_conf, *cli_conf;
    void *own_crt; /* mbedtls_x509_crt: the server's CA slot */
    uint32_t conf_gen;
    uint8_t cert[1024];
    size_t cert_len;
    struct altcp_pcb *listener;
    uint64_t t_tick;
    uint8_t frame[HAL_NET_FRAME_MAX];
};

/* lwIP and mbedTLS at start (once, before anything else). */
int net_init(void);

/* Bring the network up on the link named by spec (hal/net.h) with the
 * settings, trust list and dial list from st, and the node's identity
 * for TLS.  *why says what failed; the node goes on without network. */
int net_start(struct net *n, const char *spec, struct store *st,
              struct identity *id);
/* The event loop's work: frames in, lwIP timers, the links' tick. */
void net_poll(struct net *n);
/* Milliseconds until net_poll() is next due, at most max_ms. */
int net_next_timeout(int max_ms);

/* A plain or TLS pcb: its callbacks cleared (nothing of ours is
 * called again), and closed (aborted when lwIP cannot close it now). */
struct altcp_pcb;
void net_pcb_detach(struct altcp_pcb *pcb);
void net_pcb_close(struct altcp_pcb *pcb);

/* Settings. */
const char *net_setting_name(int s);
int net_setting_set(struct net *n, const char *name, const char *value,
                    const char **why);
int net_addr_set(struct net *n, const char *ip, const char *mask,
                 const char *gw, const char **why);
int net_dhcp_set(struct net *n);
const char *net_reason_name(int r);

/* Trust list and dials (persisted before they take effect). */
int net_trust_add(struct net *n, const uint8_t fp[TRUST_FP_LEN]);
int net_trust_remove(struct net *n, const uint8_t fp[TRUST_FP_LEN]);
int net_dial_add(struct net *n, const struct dial_entry *d);
/* Drop a link (by id) or a dial with its link; -ENOENT. */
int net_drop(struct net *n, uint32_t link_id);
int net_dial_remove(struct net *n, const struct dial_entry *d);
/* Close every link (at poweroff and reboot), so peers need not wait
 * for their idle timeout. */
void net_stop(struct net *n);
/* Ping a link now. */
int net_ping(struct net *n, uint32_t link_id);
/* Send bytes of discard frames on a link, then time a ping. */
int net_bench(struct net *n, uint32_t link_id, uint64_t bytes);

/* Send one frame of type (len <= FRAME_KEEP_MAX) on link id, whole:
 * 0, -EAGAIN (its send buffer cannot take it now: try after the next
 * net_poll), -ENOENT / -ENOTCONN (no such link up), -EINVAL. */
int net_send(struct net *n, uint32_t link_id, unsigned type, const void *p,
             uint32_t len);
/* 1 when link id is up, with its peer's fingerprint in fp. */
int net_link_up(const struct net *n, uint32_t link_id,
                uint8_t fp[TRUST_FP_LEN]);

/* The ids of the links up (at most max): their count. */
int net_link_ids(const struct net *n, uint32_t *ids, int max);

/* lwIP's heap use now and at most, in bytes; links up. */
void net_mem(size_t *used, size_t *max, size_t *avail);
unsigned net_links_up(const struct net *n);

/* Self tests for the console's selftest command.  On return *what says
 * what was checked, or what failed. */
int net_selftest_udp(const char **what);
int net_selftest_tls(const char **what);

const char *net_lwip_version(void);
const char *net_mbedtls_version(void);

/* Internal: the TLS side (src/net/cert.c) for peer.c. */
int net_tls_configure(struct net *n);
void net_tls_release(struct net *n);
/* The gate: decide on a peer's certificate (leaf).  Returns NET_R_NONE
 * when it may link, else the refusal; fills fp. */
int net_gate(struct net *n, const uint8_t *spki, size_t spki_len,
             const uint8_t *ext, size_t ext_len, uint8_t fp[TRUST_FP_LEN]);
void net_logf(struct net *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int net_save_trust(struct net *n);

#endif
