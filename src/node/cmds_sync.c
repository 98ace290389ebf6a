/*
 * node/cmds_sync.c - `sync`: following the Mochimo chain from peers
 * (sync/sync.h, docs/SYNC.md), and its metrics.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "hal/clock.h"
#include "lib/hex.h"
#include "lib/le.h"
#include "net/frame.h"
#include "node/node.h"

static const char *const state_names[] = {"idle", "scanning", "downloading"};

static int
h_status(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct sync *s = &node->sync;
    struct chain *c = &node->chain;
    uint64_t tip = c->count > 0 ? chain_tip_bnum(c) : 0;
    uint64_t now = hal_clock_ms();
    double secs =
        (double)((s->state != SYNC_IDLE ? now : s->t_end) - s->t_start) / 1e3;
    double rate = secs > 0 ? (double)s->got_trailers / secs : 0;

    (void)argc;
    (void)argv;
    if (ctx->json) {
        cmd_printf(ctx,
                   "{\"state\":\"%s\",\"tip\":%" PRIu64 ",\"stored\":%" PRIu64
                   ",\"target\":%" PRIu64 ",\"peers\":%u,\"seeds\":%u,"
                   "\"fetched\":%" PRIu64 ",\"rate\":%.0f,\"serving\":%u,"
                   "\"seconds\":%.3f,\"bytes_in\":%" PRIu64
                   ",\"proof_checks\":%" PRIu64 ",\"proof_ms\":%" PRIu64
                   ",\"state_bytes\":%zu,\"known_peers\":%u,\"last\":",
                   state_names[s->state], tip, c->count,
                   s->chosen >= 0 ? s->target : 0, s->ncand, s->nseeds,
                   s->got_trailers, rate, (unsigned)s->port, secs, s->got_bytes,
                   s->proof_checks, s->proof_ms, sizeof(*s), s->book.n);
        cmd_json_str(ctx, s->why);
        cmd_printf(ctx, "}\n");
        return 0;
    }
    cmd_printf(ctx, "state:    %s\n", state_names[s->state]);
    if (c->count > 0)
        cmd_printf(ctx, "tip:      %" PRIu64 " (%" PRIu64 " stored)\n", tip,
                   c->count);
    else
        cmd_printf(ctx, "tip:      none yet\n");
    if (s->state == SYNC_DOWNLOAD) {
        uint64_t left = s->target > tip ? s->target - tip : 0;
        uint64_t from = s->target - (left + s->got_trailers);
        struct progress bar;

        cmd_printf(ctx, "target:   %" PRIu64 " from %u peer%s\n", s->target,
                   s->ncand, s->ncand == 1 ? "" : "s");
        progress_begin(&bar, ctx, "sync", "trailers", s->target - from, 0,
                       s->t_start);
        progress_line(&bar, ctx, s->got_trailers, now);
    } else if (s->state == SYNC_SCAN) {
        cmd_printf(ctx, "scanning: %u of %u peers asked (%u at once)\n",
                   s->scan_i, s->ncand, (unsigned)SYNC_INFLIGHT);
    }
    cmd_printf(ctx, "seeds:    %u%s\n", s->nseeds,
               s->nseeds == 0 ? " ('sync seeds add A.B.C.D[:PORT]')" : "");
    {
        unsigned known = 0, answered = 0, pinked = 0;

        for (unsigned i = 0; i < s->book.n; i++) {
            const struct sync_peer *e = &s->book.p[i];

            if (e->port == 0)
                continue;
            known++;
            answered += (e->flags & SYNC_PF_ANSWERED) != 0;
            pinked += sync_book_pinked(e, hal_clock_wall(), hal_clock_ms());
        }
        cmd_printf(ctx,
                   "peers:    %u known (%u answered, %u pinklisted; at most "
                   "%u)\n",
                   known, answered, pinked, (unsigned)SYNC_PEERS_MAX);
    }
    cmd_printf(ctx, "serving:  %s",
               s->port ? ""
                       : "off (net config set "
                         "sync_port 2095)\n");
    if (s->port)
        cmd_printf(ctx, "port %u\n", (unsigned)s->port);
    if (s->why[0])
        cmd_printf(ctx, "last:     %s (%.1f s)\n", s->why, secs);
    return 0;
}

static void
table_json(struct cmd_ctx *ctx, const struct sync *s, int64_t wall,
           uint64_t mono)
{
    unsigned shown = 0;

    for (unsigned i = 0; i < s->book.n; i++) {
        const struct sync_peer *e = &s->book.p[i];

        if (e->port == 0)
            continue;
        cmd_printf(ctx,
                   "%s{\"ip\":\"%u.%u.%u.%u\",\"port\":%u,\"score\":%d,"
                   "\"answered\":%s,\"fails\":%u,\"last_seen\":%u,"
                   "\"pinklisted\":%s,\"pink_until\":%u,\"source\":\"%s\","
                   "\"from\":\"%u.%u.%u.%u\"}",
                   shown++ ? "," : "", e->ip[0], e->ip[1], e->ip[2], e->ip[3],
                   (unsigned)e->port, e->score,
                   (e->flags & SYNC_PF_ANSWERED) ? "true" : "false",
                   (unsigned)e->fails, (unsigned)e->last_seen,
                   sync_book_pinked(e, wall, mono) ? "true" : "false",
                   (unsigned)e->pink_until,
                   e->src == SYNC_SRC_FOUND ? "found" : "peer_list", e->from[0],
                   e->from[1], e->from[2], e->from[3]);
    }
}

static void
table_text(struct cmd_ctx *ctx, const struct sync *s, int64_t wall,
           uint64_t mono)
{
    unsigned known = 0;

    for (unsigned i = 0; i < s->book.n; i++)
        known += s->book.p[i].port != 0;
    cmd_printf(ctx, "peer table: %u known (at most %u)%s\n", known,
               (unsigned)SYNC_PEERS_MAX,
               known ? "" : "; filled from the peer lists of proved peers");
    for (unsigned i = 0; i < s->book.n; i++) {
        const struct sync_peer *e = &s->book.p[i];
        char seen[40], pink[40];

        if (e->port == 0)
            continue;
        if (!(e->flags & SYNC_PF_ANSWERED))
            snprintf(seen, sizeof(seen), "never answered");
        else if (wall > 0 && e->last_seen > 0)
            snprintf(seen, sizeof(seen), "answered %" PRId64 " s ago",
                     wall - (int64_t)e->last_seen);
        else
            snprintf(seen, sizeof(seen), "answered");
        pink[0] = '\0';
        if (sync_book_pinked(e, wall, mono))
            snprintf(pink, sizeof(pink), "  pinklisted %" PRId64 " s",
                     e->pink_until ? (int64_t)e->pink_until - wall
                                   : (int64_t)((e->pink_mono - mono) / 1000));
        cmd_printf(ctx, "  %u.%u.%u.%u:%u  score %d  %s%s  (%s %u.%u.%u.%u)\n",
                   e->ip[0], e->ip[1], e->ip[2], e->ip[3], (unsigned)e->port,
                   e->score, seen, pink,
                   e->src == SYNC_SRC_FOUND ? "pushed a block:"
                                            : "from the list of",
                   e->from[0], e->from[1], e->from[2], e->from[3]);
    }
}

static int
h_peers(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct sync *s = &node->sync;
    int64_t wall = hal_clock_wall();
    uint64_t mono = hal_clock_ms();

    (void)argc;
    (void)argv;
    if (ctx->json)
        cmd_printf(ctx, "{\"scan\":[");
    for (unsigned i = 0; i < s->ncand; i++) {
        const struct sync_cand *k = &s->cand[i];
        char w[65], h[65];

        chain_weight_hex(&k->w, w);
        lib_hex_encode(k->bhash, 32, h);
        if (ctx->json) {
            cmd_printf(ctx,
                       "%s{\"ip\":\"%u.%u.%u.%u\",\"port\":%u,\"tip\":%" PRIu64
                       ",\"hash\":\"%s\",\"weight\":\"%s\",\"admitted\":%s,"
                       "\"reason\":\"%s\",\"bytes\":%" PRIu64
                       ",\"seed\":%s,\"asked\":%s,\"learned\":%u,"
                       "\"link\":%" PRId64 "}",
                       i ? "," : "", k->at.ip[0], k->at.ip[1], k->at.ip[2],
                       k->at.ip[3], (unsigned)k->at.port, k->tip, h, w,
                       k->admitted ? "true" : "false",
                       sync_reason_name(k->reason), k->bytes,
                       k->seed ? "true" : "false", k->asked ? "true" : "false",
                       (unsigned)k->learned,
                       k->on_link ? (int64_t)k->link : (int64_t)-1);
            continue;
        }
        if (k->on_link)
            cmd_printf(ctx, "link %" PRIu32, k->link);
        else
            cmd_printf(ctx, "%u.%u.%u.%u:%u", k->at.ip[0], k->at.ip[1],
                       k->at.ip[2], k->at.ip[3], (unsigned)k->at.port);
        cmd_printf(ctx,
                   "  %s  tip %" PRIu64 "  %.16s  %s%s  %" PRIu64 " bytes\n",
                   k->seed      ? "seed"
                   : k->on_link ? "link"
                                : "peer",
                   k->tip, h, k->remembered ? "remembered:" : "",
                   !k->asked && !k->remembered ? "not asked"
                   : k->admitted               ? "admitted"
                                               : sync_reason_name(k->reason),
                   k->bytes);
    }
    if (ctx->json) {
        cmd_printf(ctx, "],\"table\":[");
        table_json(ctx, s, wall, mono);
        cmd_printf(ctx, "]}\n");
        return 0;
    }
    if (s->ncand == 0)
        cmd_printf(ctx, "(no peer asked yet: 'sync now')\n");
    table_text(ctx, s, wall, mono);
    return 0;
}

static int
h_now(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    int rc;

    (void)argc;
    (void)argv;
    if (!node->net.up) {
        cmd_err(ctx, "sync now: the network is not up ('net status')");
        return -ENETDOWN;
    }
    rc = sync_start(&node->sync);
    if (rc == -EBUSY)
        cmd_printf(ctx, "sync now: already running ('sync status')\n");
    else if (rc == -ENOENT)
        cmd_err(ctx, "sync now: no seeds and no peer to ask ('sync seeds "
                     "add A.B.C.D[:PORT]')");
    else
        cmd_printf(ctx,
                   "sync now: asking %u peer%s (%u seed%s); 'sync status' "
                   "shows progress\n",
                   node->sync.ncand, node->sync.ncand == 1 ? "" : "s",
                   node->sync.nseeds, node->sync.nseeds == 1 ? "" : "s");
    return rc == -EBUSY ? 0 : rc;
}

static int
seed_arg(struct cmd_ctx *ctx, const char *cmd, const char *arg,
         struct sync_seed *x)
{
    if (sync_seed_parse(arg, x) != 0) {
        cmd_err(ctx, "%s: '%s' is not A.B.C.D[:PORT]", cmd, arg);
        return -EINVAL;
    }
    return 0;
}

static int
h_seeds_add(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct sync_seed x;
    int rc = seed_arg(ctx, "sync seeds add", argv[0], &x);

    (void)argc;
    if (rc != 0)
        return rc;
    if (node->store_rc != 0) {
        cmd_err(ctx, "sync seeds add: the store is not mounted");
        return -EIO;
    }
    rc = sync_seed_add(&node->sync, &x);
    if (rc == -EEXIST)
        cmd_printf(ctx, "sync seeds add: %s is already a seed\n", argv[0]);
    else if (rc == -ENOSPC)
        cmd_err(ctx, "sync seeds add: %d seeds already (the most)",
                SYNC_SEEDS_MAX);
    else if (rc != 0)
        cmd_err(ctx, "sync seeds add: cannot save: %s", strerror(-rc));
    return rc == -EEXIST ? 0 : rc;
}

static int
h_seeds_remove(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct sync_seed x;
    int rc = seed_arg(ctx, "sync seeds remove", argv[0], &x);

    (void)argc;
    if (rc != 0)
        return rc;
    rc = sync_seed_remove(&node->sync, &x);
    if (rc == -ENOENT)
        cmd_err(ctx, "sync seeds remove: %s is not a seed", argv[0]);
    else if (rc != 0)
        cmd_err(ctx, "sync seeds remove: cannot save: %s", strerror(-rc));
    return rc;
}

static int
h_seeds_list(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct sync *s = &node->sync;

    (void)argc;
    (void)argv;
    for (unsigned i = 0; i < s->nseeds; i++)
        cmd_printf(ctx, "%u.%u.%u.%u:%u\n", s->seeds[i].ip[0],
                   s->seeds[i].ip[1], s->seeds[i].ip[2], s->seeds[i].ip[3],
                   (unsigned)s->seeds[i].port);
    if (s->nseeds == 0)
        cmd_printf(ctx, "(no seeds)\n");
    return 0;
}

static int
h_push(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct sync_seed x;
    int rc = seed_arg(ctx, "sync push", argv[0], &x);

    (void)argc;
    if (rc != 0)
        return rc;
    if (!node->net.up) {
        cmd_err(ctx, "sync push: the network is not up ('net status')");
        return -ENETDOWN;
    }
    rc = sync_push(&node->sync, &x);
    if (rc == -EBUSY)
        cmd_err(ctx, "sync push: a push or a download is running; try again");
    else if (rc == -ENOENT)
        cmd_err(ctx, "sync push: the chain is shorter than %d trailers",
                SYNC_PROOF);
    else if (rc != 0)
        cmd_err(ctx, "sync push: cannot read the chain: %s", strerror(-rc));
    else
        cmd_printf(ctx,
                   "sync push: sending the last %d trailers to %s (FOUND); "
                   "the log says how it went\n",
                   SYNC_PROOF, argv[0]);
    return rc;
}

static int
h_bad(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct sync *s = &node->sync;
    int64_t now = hal_clock_wall();
    unsigned shown = 0;

    (void)argc;
    (void)argv;
    for (unsigned i = 0; i < s->nbad; i++) {
        const struct sync_bad *b = &s->bad[i];
        char h[65], until[40];

        if (b->kind == 0 || (now > 0 && b->until <= now))
            continue;
        if (b->until == INT64_MAX)
            snprintf(until, sizeof(until), "until forgotten (clock unset)");
        else
            snprintf(until, sizeof(until), "for %" PRId64 " s more",
                     b->until - (now > 0 ? now : 0));
        if (b->kind == SYNC_BAD_PEER) {
            cmd_printf(ctx, "peer  %u.%u.%u.%u:%u  %s  %s\n", b->ip[0],
                       b->ip[1], b->ip[2], b->ip[3], (unsigned)b->port,
                       sync_reason_name(b->reason), until);
        } else if (b->kind == SYNC_BAD_RANGE) {
            lib_hex_encode(b->hash, 32, h);
            cmd_printf(ctx, "trailer %" PRIu64 "  %.16s  %s  %s\n",
                       lib_le64(b->weight), h, sync_reason_name(b->reason),
                       until);
        } else {
            lib_hex_encode(b->hash, 32, h);
            cmd_printf(ctx, "chain %.16s  %s  %s\n", h,
                       sync_reason_name(b->reason), until);
        }
        shown++;
    }
    if (shown == 0)
        cmd_printf(ctx, "(nothing remembered)\n");
    return 0;
}

static int
h_forget(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;

    (void)argc;
    (void)argv;
    sync_forget(&node->sync);
    cmd_printf(ctx, "sync forget: the guard remembers nothing now\n");
    return 0;
}

static const struct cmd seeds_cmds[] = {
    {"add", 1, 1, CMD_PRIV, "A.B.C.D[:PORT]",
     "a Mochimo peer to ask (port 2095 unless given)", h_seeds_add, NULL},
    {"remove", 1, 1, CMD_PRIV, "A.B.C.D[:PORT]", "forget a seed",
     h_seeds_remove, NULL},
    {"list", 0, 0, 0, "", "the seeds", h_seeds_list, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

const struct cmd node_sync_cmds[] = {
    {"status", 0, 0, CMD_JSON, "[--json]",
     "state, tip, target, progress while downloading, the last outcome",
     h_status, NULL},
    {"peers", 0, 0, CMD_JSON, "[--json]",
     "the peers of the last scan (tip, hash, admitted or why not, bytes) "
     "and the peer table (score, last answer, pinklist)",
     h_peers, NULL},
    {"now", 0, 0, 0, "", "ask the seeds and follow the heaviest proved chain",
     h_now, NULL},
    {"seeds", 0, 0, 0, "", "Mochimo peers to ask: add, remove, list", NULL,
     seeds_cmds},
    {"push", 1, 1, CMD_PRIV, "A.B.C.D[:PORT]",
     "tell a Mochimo peer this node's tip (FOUND with the last 54 trailers)",
     h_push, NULL},
    {"bad", 0, 0, 0, "",
     "what the guard remembers (peers that lied, refuted chains) and until "
     "when",
     h_bad, NULL},
    {"forget", 0, 0, CMD_PRIV, "", "forget what the guard remembers", h_forget,
     NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

/* ---- sync over the node's peer links ---------------------------------- */

static int
link_send(void *arg, uint32_t link, int dir, const uint8_t *p, uint32_t len)
{
    struct node *node = arg;

    return net_send(&node->net, link,
                    dir == SYNC_LINK_S2C ? FRAME_SYNC_S2C : FRAME_SYNC_C2S, p,
                    len);
}

static int
link_ids(void *arg, uint32_t *ids, int max)
{
    struct node *node = arg;

    return net_link_ids(&node->net, ids, max);
}

/* A quarter of what a link may carry (peer distribution paces itself
 * to three quarters, docs/P2P.md). */
static void
link_share(void *arg, uint32_t *bytes, uint32_t *frames)
{
    struct node *node = arg;

    *bytes = node->net.set[NET_S_BYTES_PER_S] / 4;
    *frames = node->net.set[NET_S_FRAMES_PER_S] / 4;
}

void
node_sync_links(struct node *node)
{
    struct sync_link_ops ops = {
        .send = link_send, .ids = link_ids, .share = link_share, .arg = node};

    sync_set_links(&node->sync, &ops);
}

void
node_sync_metrics(struct cmd_ctx *ctx, struct node *node)
{
    const struct sync *s = &node->sync;

    cmd_printf(ctx, "# HELP keel_sync_refused_total Mochimo peers refused "
                    "during sync, by reason.\n"
                    "# TYPE keel_sync_refused_total counter\n");
    for (int r = 1; r < SYNC_R_COUNT; r++)
        cmd_printf(ctx, "keel_sync_refused_total{reason=\"%s\"} %" PRIu64 "\n",
                   sync_reason_name(r), s->refused[r]);
    cmd_printf(ctx,
               "# HELP keel_sync_fetched_bytes_total Bytes fetched "
               "from Mochimo peers, by what became of the peer.\n"
               "# TYPE keel_sync_fetched_bytes_total counter\n"
               "keel_sync_fetched_bytes_total{outcome=\"used\"} %" PRIu64 "\n",
               s->bytes_by[0]);
    for (int r = 1; r < SYNC_R_COUNT; r++)
        cmd_printf(
            ctx, "keel_sync_fetched_bytes_total{outcome=\"%s\"} %" PRIu64 "\n",
            sync_reason_name(r), s->bytes_by[r]);
    cmd_printf(ctx,
               "# HELP keel_sync_trailers_fetched_total Trailers fetched "
               "from Mochimo peers and stored.\n"
               "# TYPE keel_sync_trailers_fetched_total counter\n"
               "keel_sync_trailers_fetched_total %" PRIu64 "\n",
               s->trailers_fetched);
    cmd_printf(ctx,
               "# HELP keel_sync_runs_total Sync runs, by outcome.\n"
               "# TYPE keel_sync_runs_total counter\n"
               "keel_sync_runs_total{result=\"ok\"} %" PRIu64 "\n"
               "keel_sync_runs_total{result=\"failed\"} %" PRIu64 "\n",
               s->syncs_ok, s->syncs_failed);
    cmd_printf(ctx,
               "# HELP keel_sync_remembered_skips_total Peers not asked, or "
               "chains not fetched, because the guard remembers them.\n"
               "# TYPE keel_sync_remembered_skips_total counter\n"
               "keel_sync_remembered_skips_total %" PRIu64 "\n",
               s->skipped);
    cmd_printf(ctx,
               "# HELP keel_sync_peers_learned_total Addresses taken into "
               "the peer table from peer lists.\n"
               "# TYPE keel_sync_peers_learned_total counter\n"
               "keel_sync_peers_learned_total %" PRIu64 "\n"
               "# HELP keel_sync_peer_lists_refused_total Peer lists "
               "refused (malformed, oversized, or the request failed).\n"
               "# TYPE keel_sync_peer_lists_refused_total counter\n"
               "keel_sync_peer_lists_refused_total %" PRIu64 "\n",
               s->learned, s->ipl_refused);
    cmd_printf(ctx,
               "# HELP keel_sync_found_total FOUND pushes, by outcome.\n"
               "# TYPE keel_sync_found_total counter\n"
               "keel_sync_found_total{result=\"proved\"} %" PRIu64 "\n"
               "keel_sync_found_total{result=\"refused\"} %" PRIu64 "\n"
               "keel_sync_found_total{result=\"dropped\"} %" PRIu64 "\n",
               s->found_ok, s->found_refused, s->found_dropped);
    cmd_printf(ctx,
               "# HELP keel_sync_ranges_remembered_total Ranges refused "
               "unchecked: a trailer in them failed before.\n"
               "# TYPE keel_sync_ranges_remembered_total counter\n"
               "keel_sync_ranges_remembered_total %" PRIu64 "\n",
               s->ranges_remembered);
    {
        static const struct {
            unsigned op;
            const char *name;
        } ops[] = {{MOP_TF, "tf"},
                   {MOP_HASH, "hash"},
                   {MOP_GET_IPL, "get_ipl"},
                   {MOP_GET_TFILE, "get_tfile"},
                   {MOP_FOUND, "found"}};

        cmd_printf(ctx, "# HELP keel_sync_served_requests_total Requests "
                        "of Mochimo peers and linked nodes served, by "
                        "opcode.\n"
                        "# TYPE keel_sync_served_requests_total counter\n");
        for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
            cmd_printf(
                ctx, "keel_sync_served_requests_total{op=\"%s\"} %" PRIu64 "\n",
                ops[i].name, s->served_req[ops[i].op]);
        cmd_printf(ctx,
                   "# HELP keel_sync_serve_busy_total Clients turned away: "
                   "every serving slot was taken.\n"
                   "# TYPE keel_sync_serve_busy_total counter\n"
                   "keel_sync_serve_busy_total %" PRIu64 "\n",
                   s->serve_busy);
    }
    cmd_printf(ctx,
               "# HELP keel_sync_link_sessions_total Sync sessions served "
               "to keel nodes over peer links.\n"
               "# TYPE keel_sync_link_sessions_total counter\n"
               "keel_sync_link_sessions_total %" PRIu64 "\n",
               s->link_sessions);
    cmd_printf(ctx,
               "# HELP keel_sync_served_bytes_total Bytes served to "
               "Mochimo peers.\n"
               "# TYPE keel_sync_served_bytes_total counter\n"
               "keel_sync_served_bytes_total %" PRIu64 "\n",
               s->served_bytes);
}
