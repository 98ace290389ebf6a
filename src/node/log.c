/*
 * node/log.c - the persistent log at the console: every klog() line
 * (the "keel: ..." lines) goes to the log partition as well, at most
 * LOG_BURST at once and LOG_PER_S a second after that (a peer sending
 * garbage must not wear the flash: what is not kept is counted and
 * said); `log show`, `log clear`, `log stat` (docs/CONSOLE.md "Log").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build_id.h"
#include "hal/clock.h"
#include "hal/poll.h"
#include "hal/sys.h"
#include "lib/klog.h"
#include "node/node.h"

#define LOG_BURST 32
#define LOG_PER_S 4

static void
keep(struct node *node, int sev, const char *text)
{
    uint64_t now = hal_clock_ms();
    uint64_t add = (now - node->log_t_refill) * LOG_PER_S / 1000;

    if (add > 0) {
        node->log_tokens = node->log_tokens + add > LOG_BURST
                               ? LOG_BURST
                               : (uint32_t)(node->log_tokens + add);
        node->log_t_refill = now;
    }
    if (node->log_tokens == 0) {
        node->log_suppressed++;
        node->log_suppressed_total++;
        return;
    }
    if (node->log_suppressed > 0 && node->log_tokens >= 2) {
        char m[96];

        snprintf(m, sizeof(m),
                 "log: %" PRIu64 " lines were not kept (over %d a second)",
                 node->log_suppressed, LOG_PER_S);
        node->log_suppressed = 0;
        node->log_tokens--;
        (void)logring_append(&node->log, LOG_WARN, hal_clock_wall(), m);
    }
    node->log_tokens--;
    (void)logring_append(&node->log, sev, hal_clock_wall(), text);
}

static void
sink(void *arg, int sev, const char *text)
{
    struct node *node = arg;

    if (node->log_rc == 0)
        keep(node, sev, text);
}

void
node_log_init(struct node *node)
{
    const char *b = hal_sys_param("KEEL_LOG_BOOT");
    uint32_t boot = b != NULL ? (uint32_t)strtoul(b, NULL, 10) : 0;

    node->log_rc = logring_mount(&node->log, &node->part[NODE_PART_log], boot);
    node->log_tokens = LOG_BURST;
    node->log_t_refill = hal_clock_ms();
    if (node->log_rc != 0) {
        klog(KLOG_WARN, "log: the log partition is unusable: %s",
             strerror(-node->log_rc));
        return;
    }
    klog_sink(sink, node);
    klog(KLOG_INFO, "boot %u: keel %s (build %s, %s)", (unsigned)node->log.boot,
         KEEL_VERSION, KEEL_BUILD_ID,
         hal_sys_param("KEEL_BOOT_SUPERVISED") ? "under keel-boot"
                                               : "run directly");
    if (node->log.torn > 0)
        klog(KLOG_WARN,
             "log: %u damaged record%s found (a power cut while "
             "logging); the rest are kept",
             (unsigned)node->log.torn, node->log.torn == 1 ? "" : "s");
}

struct show {
    struct cmd_ctx *ctx;
    int64_t boot; /* -1: all */
    int level;
    int first;
    int64_t after; /* only records with a higher sequence number */
    uint32_t last; /* the last one shown */
};

static int
show_one(void *arg, const struct log_rec *r)
{
    struct show *s = arg;
    char t[32];

    if ((int64_t)r->seq <= s->after)
        return 0;
    s->last = r->seq;
    if ((s->boot >= 0 && r->boot != (uint32_t)s->boot) || r->sev > s->level)
        return 0;
    node_when(t, sizeof(t), r->time, "-");
    if (s->ctx->json) {
        cmd_printf(s->ctx,
                   "%s{\"seq\":%u,\"boot\":%u,\"time\":%u,\"level\":\"%s\","
                   "\"text\":",
                   s->first ? "" : ",", (unsigned)r->seq, (unsigned)r->boot,
                   (unsigned)r->time, logring_sev_name(r->sev));
        cmd_json_str(s->ctx, r->text);
        cmd_printf(s->ctx, "}");
    } else {
        cmd_printf(s->ctx, "%u %-5s %s %s\n", (unsigned)r->boot,
                   logring_sev_name(r->sev), t, r->text);
    }
    s->first = 0;
    return 0;
}

static int
need_log(struct cmd_ctx *ctx)
{
    struct node *node = ctx->node;

    if (node->log_rc == 0)
        return 0;
    cmd_err(ctx, "log: the log partition is unusable: %s",
            strerror(-node->log_rc));
    return node->log_rc;
}

static int
h_show(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct show s = {ctx, -1, LOG_DEBUG, 1, -1, 0};
    int rc, follow = 0;

    if ((rc = need_log(ctx)) != 0)
        return rc;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--boot") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);

            if (*end != '\0' || argv[i][0] == '\0') {
                cmd_err(ctx, "log show: --boot takes a number (N, or -K "
                             "for K boots back, 0 for this one)");
                return -EINVAL;
            }
            s.boot = v > 0 ? v : (int64_t)node->log.boot + v;
        } else if (strcmp(argv[i], "--follow") == 0) {
            follow = 1;
        } else if (strcmp(argv[i], "--level") == 0 && i + 1 < argc) {
            i++;
            s.level = -1;
            for (int l = LOG_ERR; l <= LOG_DEBUG; l++)
                if (strcmp(argv[i], logring_sev_name(l)) == 0)
                    s.level = l;
            if (s.level < 0) {
                cmd_err(ctx, "log show: --level is err, warn, info or debug");
                return -EINVAL;
            }
        } else {
            cmd_err(ctx,
                    "log show: unknown argument '%s' (usage: log show "
                    "[--boot N] [--level L] [--json])",
                    argv[i]);
            return -EINVAL;
        }
    }
    if (follow && (ctx->json || !node->con.interactive)) {
        cmd_err(ctx, "log show: --follow is for a terminal (Ctrl-C ends it), "
                     "without --json");
        return -EINVAL;
    }
    if (ctx->json)
        cmd_printf(ctx, "{\"records\":[");
    rc = logring_walk(&node->log, show_one, &s);
    if (ctx->json)
        cmd_printf(ctx, "]}\n");
    /* --follow: new records as they come, until Ctrl-C; the node's
     * timers and links go on meanwhile. */
    while (follow && rc >= 0) {
        uint64_t t0 = hal_clock_ms();

        while (hal_clock_ms() - t0 < 200) {
            (void)hal_poll(&node->con, &node->net.hw, 20);
            if (node_poll(node))
                return 0;
        }
        s.after = s.last;
        rc = logring_walk(&node->log, show_one, &s);
    }
    if (rc < 0) {
        cmd_err(ctx, "log show: reading the log failed: %s", strerror(-rc));
        return rc;
    }
    return 0;
}

static int
h_clear(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    int rc;

    (void)argc;
    (void)argv;
    if ((rc = need_log(ctx)) != 0)
        return rc;
    rc = logring_clear(&node->log);
    if (rc != 0) {
        cmd_err(ctx, "log clear: %s", strerror(-rc));
        return rc;
    }
    klog(KLOG_INFO, "log: cleared from the console");
    cmd_printf(ctx, "cleared\n");
    return 0;
}

static int
h_stat(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct logring *l = &node->log;
    int rc;

    (void)argc;
    (void)argv;
    if ((rc = need_log(ctx)) != 0)
        return rc;
    cmd_printf(ctx,
               "boot %u, next record %u, %u sectors of %u B, "
               "%" PRIu64 " appended (%" PRIu64 " B), %" PRIu64
               " erases, %" PRIu64 " not kept (rate), %u damaged at mount\n",
               (unsigned)l->boot, (unsigned)l->next_seq, (unsigned)l->nsec,
               (unsigned)l->sector_size, l->appends, l->bytes, l->erases,
               node->log_suppressed_total, (unsigned)l->torn);
    return 0;
}

const struct cmd node_log_cmds[] = {
    {"show", 0, 5, CMD_JSON, "[--boot N] [--level L] [--follow] [--json]",
     "the log, oldest first (N: a boot, 0 this one, -1 the one before)", h_show,
     NULL},
    {"stat", 0, 0, 0, "", "the log ring's use", h_stat, NULL},
    {"export", 0, 0, 0, "", "send the log over the console by YMODEM (rb)",
     node_log_export, NULL},
    {"clear", 0, 0, CMD_PRIV, "", "erase the log", h_clear, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

void
node_log_metrics(struct cmd_ctx *ctx, struct node *node)
{
    cmd_printf(ctx, "# HELP keel_log_records_total Log records written to "
                    "flash.\n"
                    "# TYPE keel_log_records_total counter\n");
    cmd_printf(ctx, "keel_log_records_total %" PRIu64 "\n", node->log.appends);
    cmd_printf(ctx, "# HELP keel_log_dropped_total Log lines not kept "
                    "(rate limit).\n"
                    "# TYPE keel_log_dropped_total counter\n");
    cmd_printf(ctx, "keel_log_dropped_total %" PRIu64 "\n",
               node->log_suppressed_total);
}
