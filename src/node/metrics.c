/*
 * node/metrics.c - the one `metrics` page: every subsystem's counters
 * and gauges in the Prometheus text format (0.0.4), each with HELP and
 * TYPE, counters ending in _total (docs/CONSOLE.md "metrics").
 */
#include <inttypes.h>
#include <stdio.h>

#include "hal/clock.h"
#include "node/node.h"

static void
head(struct cmd_ctx *ctx, const char *name, const char *type, const char *help)
{
    cmd_printf(ctx, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
store_metrics(struct cmd_ctx *ctx, struct node *node)
{
    struct store_stat s;

    head(ctx, "keel_store_mounted", "gauge",
         "The record store is mounted (1) or not (0).");
    cmd_printf(ctx, "keel_store_mounted %d\n", node->store_rc == 0);
    if (node->store_rc != 0)
        return;
    store_stat(&node->store, &s);
    head(ctx, "keel_store_keys", "gauge", "Live keys in the record store.");
    cmd_printf(ctx, "keel_store_keys %u\n", (unsigned)s.keys);
    head(ctx, "keel_store_bytes", "gauge",
         "Record store bytes: live, dead (superseded), capacity.");
    cmd_printf(ctx, "keel_store_bytes{kind=\"live\"} %" PRIu64 "\n",
               s.live_bytes);
    cmd_printf(ctx, "keel_store_bytes{kind=\"dead\"} %" PRIu64 "\n",
               s.dead_bytes);
    cmd_printf(ctx, "keel_store_bytes{kind=\"capacity\"} %" PRIu64 "\n",
               s.capacity_bytes);
    head(ctx, "keel_store_sectors", "gauge", "Record store sectors by use.");
    cmd_printf(ctx, "keel_store_sectors{kind=\"used\"} %u\n",
               (unsigned)s.sectors_used);
    cmd_printf(ctx, "keel_store_sectors{kind=\"free\"} %u\n",
               (unsigned)s.sectors_free);
    head(ctx, "keel_store_compactions_total", "counter",
         "Record store compactions since start.");
    cmd_printf(ctx, "keel_store_compactions_total %u\n",
               (unsigned)s.compactions);
    head(ctx, "keel_store_bad_records", "gauge",
         "Corrupt or torn records found since mount.");
    cmd_printf(ctx, "keel_store_bad_records %u\n", (unsigned)s.bad_records);
}

static void
chain_metrics(struct cmd_ctx *ctx, struct node *node)
{
    head(ctx, "keel_chain_trailers", "gauge", "Block trailers stored.");
    cmd_printf(ctx, "keel_chain_trailers %" PRIu64 "\n",
               node->chain_rc == 0 ? node->chain.count : 0);
    head(ctx, "keel_chain_base_bnum", "gauge",
         "Block number of the first trailer kept.");
    cmd_printf(ctx, "keel_chain_base_bnum %" PRIu64 "\n",
               node->chain_rc == 0 ? node->chain.base : 0);
    head(ctx, "keel_chain_lost_trailers", "gauge",
         "Trailers lost at a damaged end of the chain log.");
    cmd_printf(ctx, "keel_chain_lost_trailers %" PRIu64 "\n",
               node->chain_rc == 0 ? node->chain.lost : 0);
}

static void
identity_metrics(struct cmd_ctx *ctx, struct node *node)
{
    head(ctx, "keel_identity_ready", "gauge",
         "The identity key is loaded and self-checked (1) or not (0).");
    cmd_printf(ctx, "keel_identity_ready %d\n",
               node->id.state == IDENTITY_READY);
    head(ctx, "keel_identity_generation", "gauge",
         "Identity generation: one more per new key, import or rotation.");
    cmd_printf(ctx, "keel_identity_generation %u\n", (unsigned)node->id.gen);
    head(ctx, "keel_identity_repairs_total", "counter",
         "Identity copies repaired from the good one, over the device's "
         "life.");
    cmd_printf(ctx, "keel_identity_repairs_total %u\n",
               (unsigned)node->id.repairs);
}

int
node_metrics(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;

    (void)argc;
    (void)argv;
    head(ctx, "keel_up_seconds", "gauge", "Time since keel started.");
    cmd_printf(ctx, "keel_up_seconds %" PRIu64 "\n",
               (hal_clock_ms() - node->start_ms) / 1000);
    head(ctx, "keel_degraded", "gauge", "Damage found (1) or none (0).");
    cmd_printf(ctx, "keel_degraded %d\n", node->degraded != 0);
    store_metrics(ctx, node);
    chain_metrics(ctx, node);
    identity_metrics(ctx, node);
    node_update_metrics(ctx, node);
    node_p2p_metrics(ctx, node);
    node_unlock_metrics(ctx, node);
    node_log_metrics(ctx, node);
    node_net_metrics(ctx, node);
    node_sync_metrics(ctx, node);
    return 0;
}
