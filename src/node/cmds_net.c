/*
 * node/cmds_net.c - the `net`, `peer` and `metrics` commands, and the
 * network line of `status` (docs/CONSOLE.md, docs/NET.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hal/clock.h"
#include "hal/poll.h"
#include "lib/hex.h"
#include "lwip/dhcp.h"
#include "lwip/ip4_addr.h"
#include "lwip/stats.h"
#include "node/files.h"
#include "node/node.h"

static struct net *
net_of(struct cmd_ctx *ctx)
{
    return &((struct node *)ctx->node)->net;
}

/* The network is up; otherwise say why. */
static int
need_net(struct cmd_ctx *ctx)
{
    struct net *n = net_of(ctx);

    if (n->up)
        return 0;
    cmd_err(ctx, "no network: %s",
            n->why[0] ? n->why
                      : "keel was started without --net (or KEEL_NET)");
    return -ENETDOWN;
}

static const char *
addr_src(const struct net *n)
{
    if (n->dhcp)
        return "dhcp";
    return ip4_addr_isany_val(*netif_ip4_addr(&n->nif)) ? "none" : "static";
}

/* ---- net status, net config --------------------------------------------- */

static int
h_net_status(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct net *n = net_of(ctx);
    const struct hal_net_stats *s = &n->hw.st;
    char ip[16], mask[16], gw[16];
    size_t used, max, avail;

    (void)argc;
    (void)argv;
    if (!n->up) {
        if (ctx->json) {
            cmd_printf(ctx, "{\"up\":false,\"reason\":");
            cmd_json_str(ctx, n->why[0] ? n->why : "no --net given");
            cmd_printf(ctx, "}\n");
            return 0;
        }
        return need_net(ctx);
    }
    ip4addr_ntoa_r(netif_ip4_addr(&n->nif), ip, sizeof(ip));
    ip4addr_ntoa_r(netif_ip4_netmask(&n->nif), mask, sizeof(mask));
    ip4addr_ntoa_r(netif_ip4_gw(&n->nif), gw, sizeof(gw));
    net_mem(&used, &max, &avail);
    if (ctx->json) {
        cmd_printf(ctx,
                   "{\"up\":true,\"backend\":\"%s\",\"name\":", n->hw.kind);
        cmd_json_str(ctx, n->hw.name);
        cmd_printf(ctx,
                   ",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"link\":%s,"
                   "\"address\":\"%s\",\"mask\":\"%s\",\"gateway\":\"%s\","
                   "\"source\":\"%s\",\"port\":%u,\"links_up\":%u,",
                   n->hw.mac[0], n->hw.mac[1], n->hw.mac[2], n->hw.mac[3],
                   n->hw.mac[4], n->hw.mac[5],
                   netif_is_link_up(&n->nif) ? "true" : "false", ip, mask, gw,
                   addr_src(n), (unsigned)n->set[NET_S_PORT], net_links_up(n));
        cmd_printf(ctx,
                   "\"rx_frames\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
                   ",\"tx_frames\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
                   ",\"rx_dropped\":%" PRIu64 ",\"tx_dropped\":%" PRIu64
                   ",\"heap_used\":%zu,\"heap_max\":%zu,\"heap_size\":%zu}\n",
                   s->rx_frames, s->rx_bytes, s->tx_frames, s->tx_bytes,
                   s->rx_dropped, s->tx_dropped, used, max, avail);
        return 0;
    }
    cmd_printf(ctx, "backend:  %s %s\n", n->hw.kind, n->hw.name);
    cmd_printf(ctx, "mac:      %02x:%02x:%02x:%02x:%02x:%02x\n", n->hw.mac[0],
               n->hw.mac[1], n->hw.mac[2], n->hw.mac[3], n->hw.mac[4],
               n->hw.mac[5]);
    cmd_printf(ctx, "link:     %s\n",
               netif_is_link_up(&n->nif) ? "up" : "down");
    cmd_printf(ctx, "address:  %s mask %s gateway %s (%s)\n", ip, mask, gw,
               addr_src(n));
    cmd_printf(ctx, "peers:    port %u, %u link%s up\n",
               (unsigned)n->set[NET_S_PORT], net_links_up(n),
               net_links_up(n) == 1 ? "" : "s");
    cmd_printf(ctx,
               "frames:   rx %" PRIu64 " (%" PRIu64 " B), tx %" PRIu64
               " (%" PRIu64 " B), dropped rx %" PRIu64 " tx %" PRIu64 "\n",
               s->rx_frames, s->rx_bytes, s->tx_frames, s->tx_bytes,
               s->rx_dropped, s->tx_dropped);
    cmd_printf(ctx, "heap:     %zu of %zu B in use, at most %zu\n", used, avail,
               max);
    if (n->why[0])
        cmd_printf(ctx, "note:     %s\n", n->why);
    return 0;
}

static int
h_net_config(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct net *n = net_of(ctx);
    const char *why = "";
    int rc;

    if (argc == 0) {
        char key[STORE_KEY_MAX + 1];

        cmd_printf(ctx, "addresses: %s\n",
                   n->up ? addr_src(n) : "(network not up)");
        for (int i = 0; i < NET_S_COUNT; i++) {
            snprintf(key, sizeof(key), "net.%s", net_setting_name(i));
            cmd_printf(ctx, "%-13s %u\n", net_setting_name(i),
                       (unsigned)n->set[i]);
        }
        return 0;
    }
    if (strcmp(argv[0], "ip") == 0 && (argc == 3 || argc == 4)) {
        rc =
            net_addr_set(n, argv[1], argv[2], argc == 4 ? argv[3] : NULL, &why);
    } else if (strcmp(argv[0], "dhcp") == 0 && argc == 1) {
        rc = net_dhcp_set(n);
        why = "";
    } else if (strcmp(argv[0], "set") == 0 && argc == 3) {
        rc = net_setting_set(n, argv[1], argv[2], &why);
    } else if (strcmp(argv[0], "unset") == 0 && argc == 2) {
        rc = net_setting_set(n, argv[1], NULL, &why);
    } else {
        cmd_err(ctx, "net config: use 'ip ADDR MASK [GATEWAY]', 'dhcp', "
                     "'set NAME VALUE' or 'unset NAME'");
        return -EINVAL;
    }
    if (rc != 0) {
        cmd_err(ctx, "net config: %s%s%s", why, *why ? ": " : "",
                strerror(-rc));
        return rc;
    }
    cmd_printf(ctx, "saved%s\n",
               strcmp(argv[0], "set") == 0 || strcmp(argv[0], "unset") == 0
                   ? " (port: from the next start; the rest: new links)"
                   : "");
    return 0;
}

const struct cmd node_net_cmds[] = {
    {"status", 0, 0, CMD_JSON, "[--json]",
     "backend, MAC, link, address, counters, lwIP heap", h_net_status, NULL},
    {"config", 0, 4, 0,
     "[ip ADDR MASK [GW] | dhcp | set NAME VALUE | unset NAME]",
     "show or change addresses and link limits (kept in the store)",
     h_net_config, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

/* ---- peer trust ------------------------------------------------------------ */

/* A fingerprint as 64 hex digits, or the key in a PEM/DER file. */
static int
fp_arg(struct cmd_ctx *ctx, const char *cmd, const char *arg,
       uint8_t fp[TRUST_FP_LEN])
{
    uint8_t buf[CRYPTO_KEYFILE_MAX];
    struct crypto_eckey k;
    char why[HAL_FILE_PATH_MAX + 96];
    const char *kwhy = "";
    int priv = 0, n;

    if (strlen(arg) == 2 * TRUST_FP_LEN &&
        lib_hex_decode(arg, 2 * TRUST_FP_LEN, fp, TRUST_FP_LEN) == TRUST_FP_LEN)
        return 0;
    if (strlen(arg) == 2 * TRUST_FP_LEN) {
        cmd_err(ctx, "%s: '%s' is not a fingerprint (64 hex digits)", cmd, arg);
        return -EINVAL;
    }
    n = node_file_load(arg, buf, sizeof(buf), "key file", why, sizeof(why));
    if (n < 0) {
        cmd_err(ctx, "%s: not 64 hex digits, and %s", cmd, why);
        return n;
    }
    if (crypto_key_parse(buf, (size_t)n, &k, &priv, &kwhy) != 0) {
        cmd_err(ctx, "%s: '%s': %s", cmd, arg, kwhy);
        return -EINVAL;
    }
    identity_fingerprint(k.pub, fp);
    memset(&k, 0, sizeof(k));
    return 0;
}

static int
h_trust_add(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct net *n = net_of(ctx);
    uint8_t fp[TRUST_FP_LEN];
    int rc;

    (void)argc;
    if ((rc = fp_arg(ctx, "peer trust add", argv[0], fp)) != 0)
        return rc;
    rc = net_trust_add(n, fp);
    if (rc == -EEXIST) {
        cmd_printf(ctx, "already trusted\n");
        return 0;
    }
    if (rc != 0) {
        cmd_err(ctx, "peer trust add: %s",
                rc == -ENOSPC ? "the trust list is full (64 keys)"
                              : strerror(-rc));
        return rc;
    }
    cmd_printf(ctx, "trusted ");
    cmd_hex(ctx, fp, TRUST_FP_LEN);
    cmd_printf(ctx, "\n");
    return 0;
}

static int
h_trust_remove(struct cmd_ctx *ctx, int argc, char **argv)
{
    uint8_t fp[TRUST_FP_LEN];
    int rc;

    (void)argc;
    if ((rc = fp_arg(ctx, "peer trust remove", argv[0], fp)) != 0)
        return rc;
    rc = net_trust_remove(net_of(ctx), fp);
    if (rc != 0) {
        cmd_err(ctx, "peer trust remove: %s",
                rc == -ENOENT ? "not on the trust list" : strerror(-rc));
        return rc;
    }
    cmd_printf(ctx, "removed; its links are closed\n");
    return 0;
}

static int
h_trust_list(struct cmd_ctx *ctx, int argc, char **argv)
{
    const struct trust_list *t = &net_of(ctx)->trust;
    char a[32], r[32];

    (void)argc;
    (void)argv;
    if (ctx->json)
        cmd_printf(ctx, "{\"trusted\":[");
    for (unsigned i = 0; i < t->n; i++) {
        const struct trust_entry *e = &t->e[i];

        node_when(a, sizeof(a), e->added, "-");
        node_when(r, sizeof(r), e->retire_at, "-");
        if (ctx->json) {
            cmd_printf(ctx, "%s{\"fingerprint\":\"", i ? "," : "");
            cmd_hex(ctx, e->fp, TRUST_FP_LEN);
            cmd_printf(ctx,
                       "\",\"added\":%" PRId64 ",\"retire_at\":%" PRId64
                       ",\"via_rotation\":%s}",
                       e->added, e->retire_at,
                       e->flags & TRUST_F_ROTATED ? "true" : "false");
        } else {
            cmd_hex(ctx, e->fp, TRUST_FP_LEN);
            cmd_printf(ctx, "  added %s%s%s%s\n", a,
                       e->flags & TRUST_F_ROTATED ? " by rotation" : "",
                       e->retire_at ? ", retired from " : "",
                       e->retire_at ? r : "");
        }
    }
    if (ctx->json)
        cmd_printf(ctx, "]}\n");
    else if (t->n == 0)
        cmd_printf(ctx, "(no trusted peers)\n");
    return 0;
}

static const struct cmd trust_cmds[] = {
    {"add", 1, 1, CMD_PRIV, "FINGERPRINT|KEYFILE",
     "trust a peer key: 64 hex digits (from its 'id show') or its PEM",
     h_trust_add, NULL},
    {"remove", 1, 1, CMD_PRIV, "FINGERPRINT|KEYFILE",
     "stop trusting a key; its links close", h_trust_remove, NULL},
    {"list", 0, 0, CMD_JSON, "[--json]", "the trusted keys", h_trust_list,
     NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

/* ---- peer links -------------------------------------------------------------- */

static const char *
state_name(const struct peer_link *l)
{
    return l->state == LINK_UP ? "up" : "handshake";
}

static int
h_connect(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct net *n = net_of(ctx);
    struct dial_entry d;
    int rc;

    (void)argc;
    if ((rc = need_net(ctx)) != 0)
        return rc;
    if (dial_parse(argv[0], (uint16_t)n->set[NET_S_PORT], &d) != 0) {
        cmd_err(ctx, "peer connect: '%s' is not IPv4[:PORT]", argv[0]);
        return -EINVAL;
    }
    rc = net_dial_add(n, &d);
    if (rc == -EEXIST) {
        cmd_printf(ctx, "already dialed\n");
        return 0;
    }
    if (rc != 0) {
        cmd_err(ctx, "peer connect: %s",
                rc == -ENOSPC ? "16 addresses are dialed already"
                              : strerror(-rc));
        return rc;
    }
    cmd_printf(ctx,
               "dialing %s (kept across restarts; 'peer drop %s' "
               "stops)\n",
               argv[0], argv[0]);
    return 0;
}

static int
h_list(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct net *n = net_of(ctx);
    uint64_t now = hal_clock_ms();
    int first = 1;

    (void)argc;
    (void)argv;
    if (ctx->json)
        cmd_printf(ctx, "{\"links\":[");
    else
        cmd_printf(ctx, "%-4s %-21s %-3s %-9s %8s %10s %10s %7s  %s\n", "id",
                   "address", "dir", "state", "since_s", "bytes_in",
                   "bytes_out", "rtt_ms", "fingerprint");
    for (int i = 0; i < NET_LINKS; i++) {
        const struct peer_link *l = &n->link[i];
        char a[32];

        if (l->state == LINK_FREE)
            continue;
        snprintf(a, sizeof(a), "%u.%u.%u.%u:%u", l->ip[0], l->ip[1], l->ip[2],
                 l->ip[3], (unsigned)l->port);
        if (ctx->json) {
            cmd_printf(ctx,
                       "%s{\"id\":%u,\"address\":\"%s\",\"direction\":\"%s\","
                       "\"state\":\"%s\",\"since_ms\":%" PRIu64
                       ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64
                       ",\"frames_in\":%" PRIu64 ",\"frames_out\":%" PRIu64
                       ",\"rtt_ms\":",
                       first ? "" : ",", (unsigned)l->id, a,
                       l->out ? "out" : "in", state_name(l),
                       now - (l->state == LINK_UP ? l->t_up : l->t_start),
                       l->bytes_in, l->bytes_out, l->frames_in, l->frames_out);
            if (l->rtt_known)
                cmd_printf(ctx, "%u", (unsigned)l->rtt_ms);
            else
                cmd_printf(ctx, "null");
            cmd_printf(ctx, ",\"handshake_ms\":");
            if (l->state == LINK_UP)
                cmd_printf(ctx, "%" PRIu64, l->t_up - l->t_start);
            else
                cmd_printf(ctx, "null");
            cmd_printf(ctx, ",\"fingerprint\":");
            if (l->fp_known) {
                cmd_printf(ctx, "\"");
                cmd_hex(ctx, l->fp, TRUST_FP_LEN);
                cmd_printf(ctx, "\"}");
            } else {
                cmd_printf(ctx, "null}");
            }
        } else {
            char rtt[16];

            if (l->rtt_known)
                snprintf(rtt, sizeof(rtt), "%u", (unsigned)l->rtt_ms);
            else
                snprintf(rtt, sizeof(rtt), "-");
            cmd_printf(ctx,
                       "%-4u %-21s %-3s %-9s %8" PRIu64 " %10" PRIu64
                       " %10" PRIu64 " %7s  ",
                       (unsigned)l->id, a, l->out ? "out" : "in", state_name(l),
                       (now - (l->state == LINK_UP ? l->t_up : l->t_start)) /
                           1000,
                       l->bytes_in, l->bytes_out, rtt);
            if (l->fp_known)
                cmd_hex(ctx, l->fp, 8);
            else
                cmd_printf(ctx, "-");
            cmd_printf(ctx, "\n");
        }
        first = 0;
    }
    if (ctx->json)
        cmd_printf(ctx, "],\"dials\":[");
    for (unsigned d = 0; d < n->dials.n; d++) {
        const struct dial_entry *e = &n->dials.e[d];
        const struct net_dial *nd = &n->dial[d];

        if (ctx->json) {
            cmd_printf(ctx,
                       "%s{\"address\":\"%u.%u.%u.%u:%u\",\"link\":%s,"
                       "\"attempts\":%u,\"last_error\":\"%s\"}",
                       d ? "," : "", e->ip[0], e->ip[1], e->ip[2], e->ip[3],
                       (unsigned)e->port, nd->link >= 0 ? "true" : "false",
                       (unsigned)nd->attempts,
                       net_reason_name(nd->last_reason));
        } else if (nd->link < 0) {
            uint64_t wait = nd->next_try > now ? nd->next_try - now : 0;

            cmd_printf(ctx,
                       "dial %u.%u.%u.%u:%u: no link, last error %s, next "
                       "try in %" PRIu64 " ms\n",
                       e->ip[0], e->ip[1], e->ip[2], e->ip[3],
                       (unsigned)e->port, net_reason_name(nd->last_reason),
                       wait);
        }
    }
    if (ctx->json)
        cmd_printf(ctx, "]}\n");
    return 0;
}

static int
link_id(struct cmd_ctx *ctx, const char *cmd, const char *arg, uint32_t *id)
{
    uint64_t v;

    if (cmd_parse_u64(arg, UINT32_MAX, &v) != 0) {
        cmd_err(ctx, "%s: '%s' is not a link id (see 'peer list')", cmd, arg);
        return -EINVAL;
    }
    *id = (uint32_t)v;
    return 0;
}

static int
h_drop(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct net *n = net_of(ctx);
    struct dial_entry d;
    uint32_t id;
    int rc;

    (void)argc;
    if (strchr(argv[0], '.') != NULL) {
        if (dial_parse(argv[0], (uint16_t)n->set[NET_S_PORT], &d) != 0) {
            cmd_err(ctx, "peer drop: '%s' is not IPv4[:PORT]", argv[0]);
            return -EINVAL;
        }
        rc = net_dial_remove(n, &d);
    } else {
        if ((rc = link_id(ctx, "peer drop", argv[0], &id)) != 0)
            return rc;
        rc = net_drop(n, id);
    }
    if (rc != 0) {
        cmd_err(ctx, "peer drop: %s",
                rc == -ENOENT ? "no such link or dial" : strerror(-rc));
        return rc;
    }
    cmd_printf(ctx, "dropped\n");
    return 0;
}

/* Wait for a link's pong (or bench), running the loop: 1 done, 0 not. */
static int
wait_link(struct cmd_ctx *ctx, uint32_t id, uint64_t ms, int bench)
{
    struct node *node = ctx->node;
    uint64_t t0 = hal_clock_ms();

    while (hal_clock_ms() - t0 < ms) {
        const struct peer_link *l = NULL;

        for (int i = 0; i < NET_LINKS; i++)
            if (node->net.link[i].state == LINK_UP &&
                node->net.link[i].id == id)
                l = &node->net.link[i];
        if (l == NULL)
            return 0;
        if (bench ? l->bench_ping > 1 : !l->ping_out)
            return 1;
        if (node_poll(node))
            return 0;
        /* wait for the link rather than spin */
        {
            int ready =
                hal_poll(&node->con, &node->net.hw, net_next_timeout(10));
            (void)ready;
        }
    }
    return 0;
}

static const struct peer_link *
find_link(struct net *n, uint32_t id)
{
    for (int i = 0; i < NET_LINKS; i++)
        if (n->link[i].state != LINK_FREE && n->link[i].id == id)
            return &n->link[i];
    return NULL;
}

static int
h_ping(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct net *n = net_of(ctx);
    uint32_t id;
    int rc;

    (void)argc;
    if ((rc = link_id(ctx, "peer ping", argv[0], &id)) != 0)
        return rc;
    rc = net_ping(n, id);
    if (rc != 0) {
        cmd_err(ctx, "peer ping: %s",
                rc == -ENOENT     ? "no such link"
                : rc == -ENOTCONN ? "the link is not up"
                                  : "the link's send buffer is full");
        return rc;
    }
    if (!wait_link(ctx, id, 5000, 0)) {
        cmd_err(ctx, "peer ping: no answer within 5 s");
        return -ETIMEDOUT;
    }
    cmd_printf(ctx, "pong from link %u: %u ms\n", (unsigned)id,
               (unsigned)find_link(n, id)->rtt_ms);
    return 0;
}

static int
h_bench(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct net *n = net_of(ctx);
    const struct peer_link *l;
    uint64_t bytes, ms;
    uint32_t id;
    int rc;

    (void)argc;
    if ((rc = link_id(ctx, "peer bench", argv[0], &id)) != 0)
        return rc;
    if (cmd_parse_u64(argv[1], (uint64_t)1 << 34, &bytes) != 0 || bytes == 0) {
        cmd_err(ctx, "peer bench: BYTES is a count from 1 to 2^34");
        return -EINVAL;
    }
    rc = net_bench(n, id, bytes);
    if (rc != 0) {
        cmd_err(ctx, "peer bench: %s",
                rc == -ENOENT ? "no such link" : strerror(-rc));
        return rc;
    }
    if (!wait_link(ctx, id, 600000, 1)) {
        cmd_err(ctx, "peer bench: the link ended or the run was cancelled");
        return -EIO;
    }
    l = find_link(n, id);
    ms = l->bench_ping - 2;
    cmd_printf(ctx, "bench: %" PRIu64 " bytes in %" PRIu64 " ms: %.1f MB/s\n",
               bytes, ms, ms ? (double)bytes / 1e3 / (double)ms : 0.0);
    ((struct peer_link *)l)->bench_ping = 0;
    ((struct peer_link *)l)->bench_total = 0;
    return 0;
}

static int
h_refused(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct net *n = net_of(ctx);
    int first = 1;

    (void)argc;
    (void)argv;
    if (ctx->json)
        cmd_printf(ctx, "{\"refused\":[");
    for (unsigned k = 0; k < NET_REFUSALS; k++) {
        const struct net_refusal *r =
            &n->refusals[(n->refusal_next + k) % NET_REFUSALS];
        char w[32];

        if (r->reason == NET_R_NONE)
            continue;
        node_when(w, sizeof(w), r->when, "-");
        if (ctx->json) {
            cmd_printf(ctx,
                       "%s{\"when\":%" PRId64 ",\"address\":\"%u.%u.%u.%u\","
                       "\"reason\":\"%s\",\"fingerprint\":",
                       first ? "" : ",", r->when, r->ip[0], r->ip[1], r->ip[2],
                       r->ip[3], net_reason_name(r->reason));
            if (r->fp_known) {
                cmd_printf(ctx, "\"");
                cmd_hex(ctx, r->fp, TRUST_FP_LEN);
                cmd_printf(ctx, "\"}");
            } else {
                cmd_printf(ctx, "null}");
            }
        } else {
            cmd_printf(ctx, "%s %u.%u.%u.%u %-20s ", w, r->ip[0], r->ip[1],
                       r->ip[2], r->ip[3], net_reason_name(r->reason));
            if (r->fp_known)
                cmd_hex(ctx, r->fp, TRUST_FP_LEN);
            else
                cmd_printf(ctx, "-");
            cmd_printf(ctx, "\n");
        }
        first = 0;
    }
    if (ctx->json)
        cmd_printf(ctx, "]}\n");
    else if (first)
        cmd_printf(ctx, "(no refusals since start)\n");
    return 0;
}

static int
h_cert(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct net *n = net_of(ctx);
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char pem[1600], why[HAL_FILE_PATH_MAX + 96];
    size_t o = 0;

    if (n->cert_len == 0) {
        cmd_err(ctx, "peer cert: no certificate: %s",
                n->why[0] ? n->why : "the network is not up");
        return -ENOKEY;
    }
    o += (size_t)snprintf(pem, sizeof(pem), "-----BEGIN CERTIFICATE-----\n");
    for (size_t i = 0, col = 0; i < n->cert_len; i += 3) {
        uint32_t v = (uint32_t)n->cert[i] << 16;
        size_t k = n->cert_len - i;

        if (k > 1)
            v |= (uint32_t)n->cert[i + 1] << 8;
        if (k > 2)
            v |= n->cert[i + 2];
        pem[o++] = b64[v >> 18 & 63];
        pem[o++] = b64[v >> 12 & 63];
        pem[o++] = k > 1 ? b64[v >> 6 & 63] : '=';
        pem[o++] = k > 2 ? b64[v & 63] : '=';
        if ((col += 4) == 64 || i + 3 >= n->cert_len) {
            pem[o++] = '\n';
            col = 0;
        }
    }
    o += (size_t)snprintf(pem + o, sizeof(pem) - o,
                          "-----END CERTIFICATE-----\n");
    if (argc == 0) {
        cmd_printf(ctx, "%s", pem);
        return 0;
    }
    if (node_file_save(argv[0], pem, o, why, sizeof(why)) != 0) {
        cmd_err(ctx, "peer cert: %s", why);
        return -EIO;
    }
    cmd_printf(ctx, "wrote %s\n", argv[0]);
    return 0;
}

const struct cmd node_peer_cmds[] = {
    {"trust", 0, 0, 0, "", "the trust list: add, remove, list", NULL,
     trust_cmds},
    {"connect", 1, 1, 0, "HOST[:PORT]",
     "keep a link to a keel node (reconnects with backoff)", h_connect, NULL},
    {"list", 0, 0, CMD_JSON, "[--json]",
     "links: address, direction, state, since, bytes, round trip", h_list,
     NULL},
    {"drop", 1, 1, 0, "ID|HOST[:PORT]",
     "close a link, or stop dialing an address", h_drop, NULL},
    {"ping", 1, 1, 0, "ID", "time a ping on a link", h_ping, NULL},
    {"refused", 0, 0, CMD_JSON, "[--json]",
     "the last 16 refusals: when, address, reason, fingerprint", h_refused,
     NULL},
    {"cert", 0, 1, 0, "[FILE]", "this node's TLS certificate (PEM)", h_cert,
     NULL},
    {"bench", 2, 2, 0, "ID BYTES",
     "send BYTES of discard frames on a link and time them", h_bench, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

/* ---- metrics ------------------------------------------------------------------ */

/* The network's part of the `metrics` page (node/metrics.c). */
void
node_net_metrics(struct cmd_ctx *ctx, struct node *node)
{
    struct net *n = &node->net;
    size_t used, max, avail;

    cmd_printf(ctx, "# HELP keel_peer_handshakes_total TLS handshakes of peer "
                    "links, by result.\n"
                    "# TYPE keel_peer_handshakes_total counter\n");
    cmd_printf(ctx, "keel_peer_handshakes_total{result=\"ok\"} %" PRIu64 "\n",
               n->c.hs_ok);
    cmd_printf(ctx,
               "keel_peer_handshakes_total{result=\"failed\"} %" PRIu64 "\n",
               n->c.hs_failed);
    cmd_printf(ctx, "# HELP keel_peer_refused_total Links refused before they "
                    "were up, by reason.\n"
                    "# TYPE keel_peer_refused_total counter\n");
    for (int r = 1; r < NET_R_COUNT; r++)
        cmd_printf(ctx, "keel_peer_refused_total{reason=\"%s\"} %" PRIu64 "\n",
                   net_reason_name(r), n->c.refused[r]);
    cmd_printf(ctx, "# HELP keel_peer_closed_total Links that were up and "
                    "ended, by reason.\n"
                    "# TYPE keel_peer_closed_total counter\n");
    for (int r = 1; r < NET_R_COUNT; r++)
        cmd_printf(ctx, "keel_peer_closed_total{reason=\"%s\"} %" PRIu64 "\n",
                   net_reason_name(r), n->c.closed[r]);
    cmd_printf(ctx, "# HELP keel_peer_frames_total Frames on peer links.\n"
                    "# TYPE keel_peer_frames_total counter\n");
    cmd_printf(ctx, "keel_peer_frames_total{dir=\"in\"} %" PRIu64 "\n",
               n->c.frames_in);
    cmd_printf(ctx, "keel_peer_frames_total{dir=\"out\"} %" PRIu64 "\n",
               n->c.frames_out);
    cmd_printf(ctx, "# HELP keel_peer_bytes_total Payload bytes (inside TLS) "
                    "on peer links.\n"
                    "# TYPE keel_peer_bytes_total counter\n");
    cmd_printf(ctx, "keel_peer_bytes_total{dir=\"in\"} %" PRIu64 "\n",
               n->c.bytes_in);
    cmd_printf(ctx, "keel_peer_bytes_total{dir=\"out\"} %" PRIu64 "\n",
               n->c.bytes_out);
    cmd_printf(ctx,
               "# HELP keel_peer_parser_bytes_total Bytes given to the frame "
               "parser, by whether the link had passed the gate.\n"
               "# TYPE keel_peer_parser_bytes_total counter\n");
    cmd_printf(ctx, "keel_peer_parser_bytes_total{gated=\"yes\"} %" PRIu64 "\n",
               n->c.parser_bytes);
    cmd_printf(ctx, "keel_peer_parser_bytes_total{gated=\"no\"} %" PRIu64 "\n",
               n->c.parser_bytes_ungated);
    cmd_printf(ctx, "# HELP keel_peer_links Peer links up.\n"
                    "# TYPE keel_peer_links gauge\n");
    cmd_printf(ctx, "keel_peer_links %u\n", net_links_up(n));
    cmd_printf(ctx, "# HELP keel_peer_rotations_total Peer keys trusted "
                    "through a rotation statement.\n"
                    "# TYPE keel_peer_rotations_total counter\n");
    cmd_printf(ctx, "keel_peer_rotations_total %" PRIu64 "\n",
               n->c.rotations_accepted);
    net_mem(&used, &max, &avail);
    cmd_printf(ctx, "# HELP keel_net_heap_bytes lwIP's heap (TLS state and "
                    "packets).\n"
                    "# TYPE keel_net_heap_bytes gauge\n");
    cmd_printf(ctx, "keel_net_heap_bytes{kind=\"used\"} %zu\n", used);
    cmd_printf(ctx, "keel_net_heap_bytes{kind=\"max\"} %zu\n", max);
    cmd_printf(ctx, "keel_net_heap_bytes{kind=\"size\"} %zu\n", avail);
    cmd_printf(ctx, "# HELP keel_net_pbuf_pool_used PBUF_POOL buffers in "
                    "use.\n"
                    "# TYPE keel_net_pbuf_pool_used gauge\n");
    cmd_printf(ctx, "keel_net_pbuf_pool_used %u\n",
               (unsigned)lwip_stats.memp[MEMP_PBUF_POOL]->used);
    cmd_printf(ctx, "# HELP keel_net_tcp_pcbs_used TCP connections held by "
                    "lwIP.\n"
                    "# TYPE keel_net_tcp_pcbs_used gauge\n");
    cmd_printf(ctx, "keel_net_tcp_pcbs_used %u\n",
               (unsigned)lwip_stats.memp[MEMP_TCP_PCB]->used);
    cmd_printf(ctx, "# HELP keel_net_frames_total Ethernet frames on the "
                    "link.\n"
                    "# TYPE keel_net_frames_total counter\n");
    cmd_printf(ctx, "keel_net_frames_total{dir=\"rx\"} %" PRIu64 "\n",
               n->hw.st.rx_frames);
    cmd_printf(ctx, "keel_net_frames_total{dir=\"tx\"} %" PRIu64 "\n",
               n->hw.st.tx_frames);
    cmd_printf(ctx, "# HELP keel_net_frames_dropped_total Ethernet frames "
                    "dropped (too large, or the wire would not take them).\n"
                    "# TYPE keel_net_frames_dropped_total counter\n");
    cmd_printf(ctx, "keel_net_frames_dropped_total{dir=\"rx\"} %" PRIu64 "\n",
               n->hw.st.rx_dropped);
    cmd_printf(ctx, "keel_net_frames_dropped_total{dir=\"tx\"} %" PRIu64 "\n",
               n->hw.st.tx_dropped);
}

/* ---- status -------------------------------------------------------------------- */

void
node_net_status_line(struct cmd_ctx *ctx, struct node *node)
{
    struct net *n = &node->net;
    char ip[16];

    if (!n->up) {
        cmd_printf(ctx, "network:  none%s%s\n", n->why[0] ? ": " : "", n->why);
        return;
    }
    ip4addr_ntoa_r(netif_ip4_addr(&n->nif), ip, sizeof(ip));
    cmd_printf(ctx, "network:  %s %s, %s (%s), link %s, %u peer link%s up\n",
               n->hw.kind, n->hw.name, ip, addr_src(n),
               netif_is_link_up(&n->nif) ? "up" : "down", net_links_up(n),
               net_links_up(n) == 1 ? "" : "s");
}

void
node_net_status_json(struct cmd_ctx *ctx, struct node *node)
{
    struct net *n = &node->net;
    char ip[16];

    if (!n->up) {
        cmd_printf(ctx, ",\"network\":{\"up\":false}");
        return;
    }
    ip4addr_ntoa_r(netif_ip4_addr(&n->nif), ip, sizeof(ip));
    cmd_printf(ctx,
               ",\"network\":{\"up\":true,\"backend\":\"%s\",\"address\":"
               "\"%s\",\"link\":%s,\"links_up\":%u}",
               n->hw.kind, ip, netif_is_link_up(&n->nif) ? "true" : "false",
               net_links_up(n));
}
