/*
 * node/health.c - the node's health: the damage found since start
 * (node_degrade) and the `status` command that reports it with the
 * identity and the peers' verdict.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <string.h>

#include "hal/clock.h"
#include "node/node.h"

#define NODE_DEG_NAME(bit, name, text) {name, text},
static const struct {
    const char *name, *text;
} deg_names[] = {NODE_DEGRADED(NODE_DEG_NAME)};
#undef NODE_DEG_NAME

void
node_degrade(struct node *node, unsigned bit)
{
    node->degraded |= bit;
    node->damage_events++;
}

int
node_status(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct identity *id = &node->id;
    uint8_t fp[ID_FP_LEN];
    uint64_t up = (hal_clock_ms() - node->start_ms) / 1000;
    int bad = node->store_rc != 0 || id->state != IDENTITY_READY ||
              node->degraded != 0;

    (void)argc;
    (void)argv;
    if (id->state == IDENTITY_READY)
        identity_fingerprint(id->cur.k.pub, fp);
    if (ctx->json) {
        int first = 1;

        cmd_printf(ctx,
                   "{\"health\":\"%s\",\"uptime_s\":%" PRIu64
                   ",\"store\":\"%s\",\"damage\":[",
                   bad ? "degraded" : "ok", up,
                   node->store_rc == 0 ? "mounted" : "unavailable");
        for (int i = 0; i < NODE_DEG_COUNT; i++)
            if (node->degraded & (1u << i)) {
                cmd_printf(ctx, "%s\"%s\"", first ? "" : ",",
                           deg_names[i].name);
                first = 0;
            }
        cmd_printf(ctx, "],\"identity\":{\"state\":\"%s\"",
                   identity_state_name(id->state));
        if (id->state == IDENTITY_READY) {
            cmd_printf(ctx, ",\"fingerprint\":\"");
            cmd_hex(ctx, fp, sizeof(fp));
            cmd_printf(ctx, "\",\"generation\":%" PRIu32 "", id->gen);
        } else {
            cmd_printf(ctx, ",\"reason\":");
            cmd_json_str(ctx, id->why);
        }
        cmd_printf(ctx, "},\"peers\":\"%s\"",
                   id->state == IDENTITY_READY ? "allowed" : "refused");
        node_net_status_json(ctx, node);
        node_unlock_status(ctx, node);
        cmd_printf(ctx, "}\n");
        return 0;
    }
    cmd_printf(ctx, "health:   %s\nuptime:   %" PRIu64 " s\nstore:    %s\n",
               bad ? "DEGRADED" : "ok", up,
               node->store_rc == 0 ? "mounted" : "unavailable");
    for (int i = 0; i < NODE_DEG_COUNT; i++)
        if (node->degraded & (1u << i))
            cmd_printf(ctx, "damage:   %s: %s\n", deg_names[i].name,
                       deg_names[i].text);
    if (id->state == IDENTITY_READY) {
        cmd_printf(ctx, "identity: ready, generation %" PRIu32 ", ", id->gen);
        cmd_hex(ctx, fp, 8);
        cmd_printf(ctx, "...%s\n",
                   id->rotating ? " (rotation window open)" : "");
    } else {
        cmd_printf(ctx, "identity: %s: %s\n",
                   id->state == IDENTITY_LOST ? "LOST" : "none", id->why);
    }
    cmd_printf(ctx, "peers:    %s\n",
               id->state == IDENTITY_READY ? "allowed"
                                           : "refused (no usable identity)");
    node_net_status_line(ctx, node);
    node_unlock_status(ctx, node);
    return 0;
}

void
node_when(char *out, size_t cap, int64_t t, const char *unset)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
        snprintf(out, cap, "%s", unset);
    else
        strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
