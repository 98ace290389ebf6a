/*
 * node/cmds.c - the console's command table and the core commands.
 *
 * Later issues add rows (store, id, chain, update) next to these; every
 * row's help line is what `help` shows, and docs/CONSOLE.md documents
 * each command in the same order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "chain/peach.h"
#include "crypto/crypto.h"
#include "hal/clock.h"
#include "hal/sys.h"
#include "net/net.h"
#include "node/node.h"

static int
cmd_help_h(struct cmd_ctx *ctx, int argc, char **argv)
{
    return cmd_help(node_cmds, ctx, argc, argv);
}

static int
cmd_version_h(struct cmd_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (ctx->json) {
        cmd_printf(ctx, "{\"keel\":");
        cmd_json_str(ctx, KEEL_VERSION);
        cmd_printf(ctx, ",\"build\":");
        cmd_json_str(ctx, node_build_id());
        cmd_printf(ctx, ",\"board\":");
        cmd_json_str(ctx, hal_sys_board());
        cmd_printf(ctx, ",\"arch\":");
        cmd_json_str(ctx, hal_sys_arch());
        cmd_printf(ctx, ",\"bearssl\":");
        cmd_json_str(ctx, crypto_library_version());
        cmd_printf(ctx, ",\"mbedtls\":");
        cmd_json_str(ctx, net_mbedtls_version());
        cmd_printf(ctx, ",\"lwip\":");
        cmd_json_str(ctx, net_lwip_version());
        cmd_printf(ctx, "}\n");
        return 0;
    }
    cmd_printf(ctx, "keel %s (build %s, board %s, arch %s)\n", KEEL_VERSION,
               node_build_id(), hal_sys_board(), hal_sys_arch());
    cmd_printf(ctx, "%s\n%s\n%s\n", crypto_library_version(),
               net_mbedtls_version(), net_lwip_version());
    return 0;
}

static const struct {
    const char *name;
    int (*run)(const char **what);
} selftests[] = {
    {"crypto", crypto_selftest},
    {"tls", net_selftest_tls},
    {"net", net_selftest_udp},
    {"peach", peach_selftest},
};

static int
cmd_selftest_h(struct cmd_ctx *ctx, int argc, char **argv)
{
    size_t n = sizeof(selftests) / sizeof(selftests[0]), failed = 0;

    (void)argc;
    (void)argv;
    if (ctx->json)
        cmd_printf(ctx, "{\"checks\":[");
    for (size_t i = 0; i < n; i++) {
        const char *what = "";
        int rc = selftests[i].run(&what);

        if (rc != 0)
            failed++;
        if (ctx->json) {
            cmd_printf(ctx,
                       "%s{\"name\":\"%s\",\"ok\":%s,\"detail\":", i ? "," : "",
                       selftests[i].name, rc == 0 ? "true" : "false");
            cmd_json_str(ctx, what);
            cmd_printf(ctx, "}");
        } else {
            cmd_printf(ctx, "selftest: %-6s %s: %s\n", selftests[i].name,
                       rc == 0 ? "ok" : "FAILED", what);
        }
    }
    if (ctx->json) {
        cmd_printf(ctx, "],\"ok\":%s}\n", failed ? "false" : "true");
    } else if (failed) {
        cmd_printf(ctx, "selftest: FAILED (%zu of %zu checks)\n", failed, n);
    } else {
        cmd_printf(ctx, "selftest: ok\n");
    }
    return failed ? -EIO : 0;
}

static int
cmd_uptime_h(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    uint64_t ms = hal_clock_ms() - node->start_ms, s = ms / 1000;

    (void)argc;
    (void)argv;
    if (ctx->json) {
        cmd_printf(ctx, "{\"uptime_ms\":%" PRIu64 "}\n", ms);
        return 0;
    }
    cmd_printf(ctx, "up %" PRIu64 "d %02u:%02u:%02u (%" PRIu64 ".%03u s)\n",
               s / 86400, (unsigned)(s / 3600 % 24), (unsigned)(s / 60 % 60),
               (unsigned)(s % 60), s, (unsigned)(ms % 1000));
    return 0;
}

static int
cmd_flash_h(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;

    (void)argc;
    (void)argv;
    if (ctx->json) {
        cmd_printf(ctx, "{\"path\":");
        cmd_json_str(ctx, node->flash_path);
        cmd_printf(ctx, ",\"partitions\":[");
    } else {
        cmd_printf(ctx, "%-8s %10s %10s %6s %5s\n", "name", "offset", "size",
                   "erase", "prog");
    }
    for (int i = 0; i < NODE_PART_COUNT; i++) {
        const struct hal_flash *p = &node->part[i];

        if (ctx->json)
            cmd_printf(ctx,
                       "%s{\"name\":\"%s\",\"offset\":%" PRIu64
                       ",\"size\":%" PRIu64 ",\"erase_size\":%" PRIu32
                       ",\"prog_size\":%" PRIu32 "}",
                       i ? "," : "", p->name, p->base, p->size, p->erase_size,
                       p->prog_size);
        else
            cmd_printf(ctx,
                       "%-8s 0x%08" PRIx64 " %10" PRIu64 " %6" PRIu32
                       " %5" PRIu32 "\n",
                       p->name, p->base, p->size, p->erase_size, p->prog_size);
    }
    if (ctx->json)
        cmd_printf(ctx, "]}\n");
    return 0;
}

static int
cmd_reboot_h(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;

    (void)argc;
    (void)argv;
    cmd_printf(ctx, "rebooting\n");
    node->stop = 1;
    node->reboot = 1;
    return 0;
}

static int
cmd_poweroff_h(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;

    (void)argc;
    (void)argv;
    cmd_printf(ctx, "powering off\n");
    node->stop = 1;
    node->stop_status = 0;
    return 0;
}

const struct cmd node_cmds[] = {
    {"help", 0, 4, 0, "[COMMAND [SUBCOMMAND]]",
     "list commands, or show how to use one", cmd_help_h, NULL},
    {"version", 0, 0, CMD_JSON, "[--json]",
     "keel's version and the BearSSL, mbedTLS and lwIP versions linked in",
     cmd_version_h, NULL},
    {"selftest", 0, 0, CMD_JSON, "[--json]",
     "check SHA-256 (BearSSL), a TLS set-up (mbedTLS) and UDP over lwIP",
     cmd_selftest_h, NULL},
    {"uptime", 0, 0, CMD_JSON, "[--json]", "time since keel started",
     cmd_uptime_h, NULL},
    {"flash", 0, 0, CMD_JSON, "[--json]", "the flash partitions of this board",
     cmd_flash_h, NULL},
    {"status", 0, 0, CMD_JSON, "[--json]",
     "health at a glance: store, identity, whether peers are allowed",
     node_status, NULL},
    {"id", 0, 0, 0, "",
     "the node's identity key: show, export, sign, "
     "verify, rotate, import, new",
     NULL, node_id_cmds},
    {"chain", 0, 0, 0, "",
     "the tfile: info, verify, import, export, trim, checkpoint", NULL,
     node_chain_cmds},
    {"update", 0, 0, 0, "",
     "signed bundles and A/B slots: install, status, confirm, rollback", NULL,
     node_update_cmds},
    {"store", 0, 0, 0, "", "the record store, chain log and control block",
     NULL, node_store_cmds},
    {"net", 0, 0, 0, "", "the network link: status, config", NULL,
     node_net_cmds},
    {"peer", 0, 0, 0, "",
     "links to keel nodes: trust, connect, list, drop, ping, refused, cert",
     NULL, node_peer_cmds},
    {"sync", 0, 0, 0, "",
     "follow the Mochimo chain from peers: status, peers, now, seeds", NULL,
     node_sync_cmds},
    {"metrics", 0, 0, 0, "", "counters and gauges in Prometheus text format",
     node_metrics, NULL},
    {"unlock", 0, 1, 0, "[SIGNATURE-HEX]",
     "get a challenge to sign with an operator key, or answer it", node_unlock,
     NULL},
    {"lock", 0, 0, 0, "", "lock the console again", node_lock, NULL},
    {"op", 0, 0, 0, "", "operator keys: list, add, remove, idle, valid", NULL,
     node_op_cmds},
    {"log", 0, 0, 0, "", "the persistent log: show, stat, clear", NULL,
     node_log_cmds},
    {"reboot", 0, 0, 0, "", "restart keel (through keel-boot when present)",
     cmd_reboot_h, NULL},
    {"poweroff", 0, 0, 0, "",
     "stop keel; in a script the exit status tells whether a command "
     "failed",
     cmd_poweroff_h, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};
