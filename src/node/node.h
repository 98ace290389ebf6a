/*
 * node/node.h - the running node: its flash, console and command table.
 *
 * One instance, allocated once by main() at start (at most 1.3 MiB: peer
 * bundle distribution's window, chunk cache and manifests are about
 * 900 KiB of it, the store, the chain with its import buffer and the
 * update's chunk and manifest buffers most of the rest); handlers reach it through
 * cmd_ctx.node.  Nothing allocates after that.
 */
#ifndef NODE_NODE_H
#define NODE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "console/cmd.h"
#include "console/progress.h"
#include "console/unlock.h"
#include "hal/console.h"
#include "hal/flash.h"
#include "chain/chain.h"
#include "identity/identity.h"
#include "net/net.h"
#include "sync/sync.h"
#include "node/http.h"
#include "node/p2p.h"
#include "update/update.h"
#include "store/clog.h"
#include "store/ctl.h"
#include "store/logring.h"
#include "store/store.h"

enum node_part {
#define NODE_PART_ENUM(name, off, size, use) NODE_PART_##name,
    BOARD_PARTITIONS(NODE_PART_ENUM)
#undef NODE_PART_ENUM
        NODE_PART_COUNT
};

/* Why the node is DEGRADED (node.degraded bits); `status` lists them. */
#define NODE_DEGRADED(X)                                                       \
    X(NODE_DEG_BOOTCTL, "bootctl", "both boot-control copies are corrupt")     \
    X(NODE_DEG_FLOOR, "trust_floor",                                           \
      "a copy of the trust floor is damaged or was behind")                    \
    X(NODE_DEG_KEYRING, "keyring",                                             \
      "the device keyring is missing or below the trust floor")                \
    X(NODE_DEG_CHAIN, "chain", "stored chain trailers are unreadable or lost") \
    X(NODE_DEG_STORE, "store",                                                 \
      "a store sector header is damaged (its records are still read)")         \
    X(NODE_DEG_BOOT, "boot", "keel-boot booted without boot control")

#define NODE_DEG_ENUM(bit, name, text) bit##_SHIFT,
enum { NODE_DEGRADED(NODE_DEG_ENUM) NODE_DEG_COUNT };
#undef NODE_DEG_ENUM
#define NODE_DEG_BOOTCTL (1u << NODE_DEG_BOOTCTL_SHIFT)
#define NODE_DEG_FLOOR (1u << NODE_DEG_FLOOR_SHIFT)
#define NODE_DEG_KEYRING (1u << NODE_DEG_KEYRING_SHIFT)
#define NODE_DEG_CHAIN (1u << NODE_DEG_CHAIN_SHIFT)
#define NODE_DEG_STORE (1u << NODE_DEG_STORE_SHIFT)
#define NODE_DEG_BOOT (1u << NODE_DEG_BOOT_SHIFT)

struct node {
    struct hal_flash part[NODE_PART_COUNT];
    const char *flash_path;
    struct hal_console con;
    struct store store;
    struct clog clog;
    struct ctl ctl;
    int store_rc, clog_rc, ctl_rc; /* mount results; 0 = usable */
    struct identity id;
    struct identity_work id_work;
    struct chain chain;
    int chain_rc;
    struct chain_job {
        int active, pow;
        uint64_t next, end, t0;
        unsigned bad;
        struct progress bar; /* lines in a script; on demand at a terminal */
        uint8_t prev[TRAILER_LEN];
        struct chain_weight w;
    } verify;
    struct update upd;
    struct upd_work upd_work;   /* its buffers: a chunk, a manifest, keyrings */
    struct upd_audit upd_audit; /* update events since start */
    const char *rootfs;         /* the slot's unpacked files, or NULL */
    int confirm_done;           /* the automatic trial confirmation has run */
    int confirm_after_s; /* read at start: the tick must not hit the store */
    uint64_t start_ms;
    unsigned failures; /* commands that failed (script exit status) */
    int stop;          /* 1: power off after the current command */
    /* what an operator typed while a long command ran (node_poll):
     * read as the next input once it ends */
    char ahead[256];
    unsigned ahead_n;
    int stop_status;
    int reboot;
    struct net net;        /* the network and peer links (net/net.h) */
    struct unlock unlock;  /* operator unlock (console/unlock.h) */
    struct logring log;    /* the persistent log (store/logring.h) */
    struct node_http http; /* GET /metrics (node/http.h) */
    struct sync sync;      /* Mochimo peers (sync/sync.h) */
    int log_rc;            /* its mount result; 0 = usable */
    uint32_t log_tokens;   /* records that may go to flash now */
    uint64_t log_t_refill;
    uint64_t log_suppressed, log_suppressed_total;
    const char *net_spec;   /* --net or KEEL_NET, or NULL: no network */
    unsigned degraded;      /* NODE_DEG_* bits: damage found and reported */
    int boot_degraded;      /* keel-boot booted us without boot control */
    uint32_t damage_events; /* times damage was found since start */
    struct p2p p2p;         /* peer bundle distribution (node/p2p.h) */
};

/* Record damage (a NODE_DEG_* bit): counted, and `status` says DEGRADED. */
void node_degrade(struct node *node, unsigned bit);

/* 1 when key belongs to a module and the console must not change it. */
int node_store_key_internal(const char *key);

/* The node's files: main.c (the event loop), bringup.c (start: storage,
 * identity, updates), jobs.c (the confirm timer, chain verify in steps),
 * health.c (damage and `status`), cmds*.c (the command table and each
 * module's handlers), files.c (operator files).
 *
 * The command table (src/node/cmds.c) and its module rows. */
extern const struct cmd node_cmds[];
extern const struct cmd node_store_cmds[];
extern const struct cmd node_id_cmds[];
extern const struct cmd node_update_cmds[];
extern const struct cmd node_chain_cmds[];
extern const struct cmd node_net_cmds[];
extern const struct cmd node_op_cmds[];
extern const struct cmd node_log_cmds[];
extern const struct cmd node_sync_cmds[];
void node_sync_metrics(struct cmd_ctx *ctx, struct node *node);
/* Let sync use the peer links (frames sync_c2s, sync_s2c). */
void node_sync_links(struct node *node);
/* Mount the log partition and send every klog() line there too. */
void node_log_init(struct node *node);
void node_log_metrics(struct cmd_ctx *ctx, struct node *node);
void node_net_metrics(struct cmd_ctx *ctx, struct node *node);
/* YMODEM over the console (node/cmds_xfer.c). */
int node_update_receive(struct cmd_ctx *ctx, int argc, char **argv);
int node_id_receive(struct cmd_ctx *ctx, int argc, char **argv);
int node_log_export(struct cmd_ctx *ctx, int argc, char **argv);
int node_keyring_receive(struct cmd_ctx *ctx);
int node_chain_receive(struct cmd_ctx *ctx, int argc, char **argv);
/* What an import did, told the same way for `chain import` and `chain
 * receive` (what: where the bytes came from); -EBADMSG when the tfile
 * had an invalid trailer. */
struct chain_import_res;
int node_chain_report(struct cmd_ctx *ctx, const char *cmd, const char *what,
                      const struct chain_import_res *r, unsigned trims0,
                      uint64_t t0);
/* Rotate the keyring from a signed keyring file's bytes (`update
 * keyring`), and import a private key from a key file's bytes (`id
 * import`; buf is wiped): what the file and YMODEM commands share. */
int node_keyring_apply(struct cmd_ctx *ctx, const char *cmd, const uint8_t *buf,
                       size_t n);
int node_id_import_key(struct cmd_ctx *ctx, const char *cmd, const char *what,
                       uint8_t *buf, size_t n);
/* Send size bytes that read() gives as file name, by YMODEM: 0 or the
 * error (told). */
int node_ymodem_send(struct cmd_ctx *ctx, const char *cmd, const char *name,
                     uint64_t size,
                     int (*read)(void *arg, uint8_t *p, size_t n), void *arg);
/* Start or stop the HTTP metrics endpoint when net.metrics_port says. */
void node_http_tick(struct node *node);
/* `update metrics`' lines, for the page. */
void node_update_metrics(struct cmd_ctx *ctx, struct node *node);
int node_unlock(struct cmd_ctx *ctx, int argc, char **argv);
int node_lock(struct cmd_ctx *ctx, int argc, char **argv);
/* ctx->priv for the console: refuses while locked, saying how to unlock. */
int node_priv(struct cmd_ctx *ctx, const char *path);
/* Load operator keys; seed the first from the image when there are none. */
void node_unlock_init(struct node *node);
/* The console line of `status`, and its metrics. */
void node_unlock_status(struct cmd_ctx *ctx, struct node *node);
void node_unlock_metrics(struct cmd_ctx *ctx, struct node *node);
extern const struct cmd node_peer_cmds[];
int node_metrics(struct cmd_ctx *ctx, int argc, char **argv);
/* The network line of `status`. */
void node_net_status_line(struct cmd_ctx *ctx, struct node *node);
void node_net_status_json(struct cmd_ctx *ctx, struct node *node);
/* One step of a background `chain verify`; 1 when it finished. */
int node_chain_verify_step(struct node *node, struct cmd_ctx *ctx);
/* The update set-up after storage is mounted, and the main loop's tick
 * (automatic confirmation of a healthy trial). */
void node_update_init(struct node *node);
void node_update_tick(struct node *node);
/* Check the trust floor and the keyring against it; damage is reported
 * and marks the node DEGRADED (run at start). */
void node_update_check_trust(struct node *node);
int node_status(struct cmd_ctx *ctx, int argc, char **argv);
/* What the main loop does between lines (lwIP timers, the update tick),
 * for a command that runs long (install, chain import) to call between
 * its steps.  On an interactive console it also reads what was typed
 * meanwhile: 1 when that held a Ctrl-C (the command should stop), else
 * 0; the other bytes are kept (256 at most, more are dropped) and read
 * as the next input when the command ends, as a terminal's typeahead.
 * A script's input is not read: its next bytes are its next commands. */
int node_poll(struct node *node);
/* Sync's turn of the main loop (sync/sync.h); also run by a long
 * command that does not touch the chain (a peer fetch). */
void node_sync_tick(struct node *node);

/* Mount the store, the chain log and the control block, then load (or
 * on first boot make) the identity; reports problems on stderr and
 * leaves the *_rc fields and node->id.state set. */
void node_storage_mount(struct node *node);

const char *node_build_id(void);

/* A Unix time as "2026-11-30T10:00:00Z", or unset (a time of 0 or
 * less: the clock was unset) into out (health.c). */
void node_when(char *out, size_t cap, int64_t t, const char *unset);

#endif
