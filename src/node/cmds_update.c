/*
 * node/cmds_update.c - the `update` commands: install, status, confirm,
 * recover, rollback, keyring, log, metrics.  (Setting updates up at
 * start is bringup.c's; confirming a healthy trial is jobs.c's.)
 *
 * `update install FILE` reads a host path on the sim board; YMODEM and
 * peers will feed update_install() the same way, through a upd_src.  A
 * FILE that cannot be opened (missing, a directory, a FIFO) never
 * reaches update_install(): it is the operator's slip, not a refused
 * bundle, and is neither logged nor counted as a refusal.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "hal/file.h"
#include "hal/sys.h"
#include "node/files.h"
#include "console/progress.h"
#include "node/node.h"
#include "lib/hex.h"
#include "lib/klog.h"
#include "update/quarantine.h"

static int
file_read(void *arg, void *buf, size_t len)
{
    return hal_file_read(arg, buf, len);
}

struct prog_ctx {
    struct cmd_ctx *ctx;
    struct node *node;
    uint64_t t0;
    struct progress bar;
    int begun;
};

/* Progress after each chunk; the node's timers run, and a Ctrl-C typed
 * on an interactive console cancels (node_poll()).  Script input (a
 * pipe) is not read here: its next lines are commands, and a SIGINT
 * there ends the process, which leaves the slot INSTALLING -- never
 * bootable, as after a power cut. */
static int
progress(void *arg, const struct upd_progress *p)
{
    struct prog_ctx *pc = arg;
    uint64_t now = hal_clock_ms();

    if (node_poll(pc->node))
        return 1;
    if (!pc->begun) {
        progress_begin(&pc->bar, pc->ctx, "install", "bytes", p->total,
                       pc->node->con.interactive, pc->t0);
        pc->begun = 1;
    }
    if (p->done == p->total)
        progress_end(&pc->bar, p->done, now);
    else
        progress_update(&pc->bar, p->done, now);
    return 0;
}

static int
need_update(struct cmd_ctx *ctx)
{
    struct node *node = ctx->node;

    if (node->ctl_rc == -EBADMSG) {
        cmd_err(ctx, "update: both boot-control copies are corrupt; nothing "
                     "is written over them (see 'status' and the recovery "
                     "steps in docs/RUNBOOK.md)");
        return -EIO;
    }
    if (node->store_rc != 0 || node->ctl_rc != 0) {
        cmd_err(ctx, "update: storage not mounted");
        return -EIO;
    }
    return 0;
}

/* A fetch from peers owns the inactive slot while it runs. */
static int
slot_free(struct cmd_ctx *ctx, const char *cmd)
{
    if (!p2p_fetching(ctx->node))
        return 0;
    cmd_err(ctx,
            "%s: a fetch from peers is writing the inactive slot; wait "
            "for it ('update fetch' shows it) or stop it ('update fetch "
            "--cancel'); no slot touched",
            cmd);
    return -EBUSY;
}

static int
h_install(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct hal_file f;
    struct upd_src src = {file_read, &f};
    struct prog_ctx pc = {ctx, node, hal_clock_ms(), {0}, 0};
    char why[HAL_FILE_PATH_MAX + 96];
    int rc = need_update(ctx);

    (void)argc;
    if (rc == 0)
        rc = slot_free(ctx, "update install");
    if (rc != 0)
        return rc;
    /* No size limit here: the bundle's header says how much is read,
     * and update_install() bounds that by the slot. */
    rc = node_file_open(&f, argv[0], NODE_FILE_ANY, "bundle", why, sizeof(why));
    if (rc != 0) {
        cmd_err(ctx, "update install: %s; no slot touched", why);
        return rc;
    }
    node->upd.progress = progress;
    node->upd.progress_arg = &pc;
    rc = update_install(&node->upd, &src);
    p2p_refresh(node);
    if (rc >= 0 && f.pos < f.size) {
        /* Bytes after the payload: the slot is fine, but say so. */
        cmd_printf(ctx,
                   "note: the file has %" PRIu64 " bytes after the "
                   "payload (ignored)\n",
                   f.size - f.pos);
    }
    hal_file_close(&f);
    node->upd.progress = NULL;
    if (rc < 0) {
        cmd_err(ctx, "update install: %s", node->upd.why);
        return rc;
    }
    {
        const struct upd_manifest *m = &node->upd.man;
        uint64_t ms = hal_clock_ms() - pc.t0;

        cmd_printf(ctx,
                   "installed %" PRIu32 ".%" PRIu32 ".%" PRIu32
                   " (counter %" PRIu64 ") into slot %c in %.2f s; "
                   "'reboot' to try it\n",
                   m->version.major, m->version.minor, m->version.patch,
                   m->counter, slot_name(rc), (double)ms / 1e3);
    }
    return 0;
}

static void
slot_json(struct cmd_ctx *ctx, const struct bc_slot *s)
{
    cmd_printf(ctx,
               "{\"state\":\"%s\",\"version\":\"%" PRIu32 ".%" PRIu32
               ".%" PRIu32 "\",\"counter\":%" PRIu64 ",\"tries\":%u,"
               "\"payload_size\":%" PRIu64 ",\"manifest\":\"",
               slot_state_name(s->state), s->version.major, s->version.minor,
               s->version.patch, s->counter, s->tries, s->payload_size);
    cmd_hex(ctx, s->manifest_hash, 32);
    cmd_printf(ctx, "\",\"result\":\"%s\"}", upd_reason_name(s->result));
}

static void
event_json(struct cmd_ctx *ctx, const struct upd_event *e)
{
    static const char *const kind[] = {"", "refused", "slot", "counter",
                                       "keyring"};

    cmd_printf(ctx, "{\"time\":%lld,\"kind\":\"%s\"", (long long)e->time,
               e->kind <= UPD_EV_KEYRING ? kind[e->kind] : "unknown");
    switch (e->kind) {
    case UPD_EV_REFUSED:
        cmd_printf(ctx,
                   ",\"reason\":\"%s\",\"why\":", upd_reason_name(e->reason));
        cmd_json_str(ctx, e->why);
        break;
    case UPD_EV_SLOT:
        cmd_printf(ctx,
                   ",\"slot\":\"%c\",\"from\":\"%s\",\"to\":\"%s\","
                   "\"reason\":\"%s\",\"counter\":%" PRIu64,
                   slot_name(e->slot), slot_state_name(e->from),
                   slot_state_name(e->to), upd_reason_name(e->reason), e->a);
        break;
    default:
        cmd_printf(ctx, ",\"from\":%" PRIu64 ",\"to\":%" PRIu64, e->a, e->b);
        break;
    }
    cmd_printf(ctx, "}");
}

/* The newest refusal since the node started, or NULL. */
static const struct upd_event *
last_refusal(const struct node *node)
{
    const struct upd_event *e;

    for (uint32_t i = 0; (e = upd_audit_event(&node->upd_audit, i)) != NULL;
         i++)
        if (e->kind == UPD_EV_REFUSED)
            return e;
    return NULL;
}

/* `update status` with both boot-control copies corrupt: what is still
 * known (the running slot, the store's trust floor, the keyring) and
 * the way out. */
static int
status_no_bootctl(struct cmd_ctx *ctx)
{
    struct node *node = ctx->node;
    struct upd_floor f;
    struct upd_keyring k;
    int fr = upd_floor_load(NULL, &node->store, &f), kr;

    {
        struct ctl *saved = node->upd.ctl;

        node->upd.ctl = NULL;
        kr = update_keyring(&node->upd, &k);
        node->upd.ctl = saved;
    }
    if (ctx->json) {
        cmd_printf(ctx, "{\"bootctl\":\"corrupt\",\"running\":");
        if (node->upd.running >= 0)
            cmd_printf(ctx, "\"%c\"", slot_name(node->upd.running));
        else
            cmd_printf(ctx, "null");
        cmd_printf(ctx, ",\"anti_rollback\":");
        if (fr == 0)
            cmd_printf(ctx, "%" PRIu64, f.arb);
        else
            cmd_printf(ctx, "null");
        cmd_printf(ctx, ",\"keyring\":");
        if (kr == 0)
            cmd_printf(ctx, "{\"version\":%" PRIu32 "}", k.version);
        else
            cmd_printf(ctx, "null");
        cmd_printf(ctx, "}\n");
        return 0;
    }
    cmd_printf(ctx, "boot control:  CORRUPT (both copies); nothing is written "
                    "over it\n");
    cmd_printf(ctx, "running:       %s%s\n",
               node->upd.running < 0    ? "not under keel-boot"
               : node->upd.running == 0 ? "slot a"
                                        : "slot b",
               node->boot_degraded ? " (booted by its signatures)" : "");
    if (fr == 0)
        cmd_printf(ctx,
                   "anti-rollback: %" PRIu64 " (the store's trust floor)\n",
                   f.arb);
    else
        cmd_printf(ctx, "anti-rollback: unknown (the store's floor is "
                        "damaged too)\n");
    if (kr == 0)
        cmd_printf(ctx, "keyring:       version %" PRIu32 "\n", k.version);
    else
        cmd_printf(ctx, "keyring:       %s\n", node->upd.why);
    cmd_printf(ctx, "way out:       'update recover --force' rebuilds boot "
                    "control from the running slot (docs/RUNBOOK.md)\n");
    return 0;
}

static int
h_recover(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    uint8_t m[ID_MARK_LEN];
    int have_mark, rc;

    if (argc != 1 || strcmp(argv[0], "--force") != 0) {
        cmd_err(ctx, "update recover: rebuilds a corrupt boot control from "
                     "the running slot; say 'update recover --force'");
        return -EINVAL;
    }
    if (node->ctl_rc != -EBADMSG) {
        cmd_err(ctx, "update recover: boot control is %s; nothing to recover",
                node->ctl_rc == 0 ? "readable" : "not mounted");
        return -EINVAL;
    }
    if (node->store_rc != 0) {
        cmd_err(ctx, "update recover: the store is not mounted");
        return -EIO;
    }
    have_mark = identity_mark_encode(&node->id, m) == 0;
    rc = update_bootctl_rebuild(&node->upd, have_mark ? m : NULL, sizeof(m));
    if (rc != 0) {
        cmd_err(ctx, "update recover: %s; nothing written", node->upd.why);
        return rc;
    }
    node->ctl_rc = 0;
    node->degraded &= ~NODE_DEG_BOOTCTL;
    node->id.ctl = &node->ctl;
    cmd_printf(ctx,
               "update recover: boot control rebuilt: slot %c good and "
               "primary, the other slot %s; 'update status' shows it\n",
               slot_name(node->upd.running),
               "bad or empty (reinstall to have a fallback)");
    return 0;
}

static int
h_status(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct bootctl bc;
    struct upd_keyring k;
    const struct upd_event *lr = last_refusal(node);
    int rc, kr;

    (void)argc;
    (void)argv;
    if (node->ctl_rc == -EBADMSG && node->store_rc == 0)
        return status_no_bootctl(ctx);
    rc = need_update(ctx);
    if (rc != 0)
        return rc;
    rc = bootctl_load(&node->ctl, &bc);
    if (rc != 0) {
        cmd_err(ctx, "update status: boot control unreadable");
        return rc;
    }
    kr = update_keyring(&node->upd, &k);
    if (ctx->json) {
        cmd_printf(ctx, "{\"running\":");
        if (node->upd.running >= 0)
            cmd_printf(ctx, "\"%c\"", slot_name(node->upd.running));
        else
            cmd_printf(ctx, "null");
        cmd_printf(ctx, ",\"primary\":");
        if (bc.primary != BOOTCTL_NONE)
            cmd_printf(ctx, "\"%c\"", slot_name(bc.primary));
        else
            cmd_printf(ctx, "null");
        cmd_printf(ctx,
                   ",\"anti_rollback\":%" PRIu64 ",\"tries_max\":%u,"
                   "\"slots\":{\"a\":",
                   bc.arb, bc.tries_max);
        slot_json(ctx, &bc.slot[0]);
        cmd_printf(ctx, ",\"b\":");
        slot_json(ctx, &bc.slot[1]);
        cmd_printf(ctx, "},\"keyring\":");
        if (kr == 0)
            cmd_printf(ctx,
                       "{\"version\":%" PRIu32 ",\"threshold\":%u,"
                       "\"keys\":%u,\"expires\":%lld}",
                       k.version, k.threshold, k.nkeys, (long long)k.expires);
        else
            cmd_printf(ctx, "null");
        cmd_printf(ctx, ",\"last_refusal\":");
        if (lr != NULL)
            event_json(ctx, lr);
        else
            cmd_printf(ctx, "null");
        cmd_printf(ctx, "}\n");
        return 0;
    }
    cmd_printf(ctx, "running:       %s\n",
               node->upd.running < 0    ? "not under keel-boot"
               : node->upd.running == 0 ? "slot a"
                                        : "slot b");
    cmd_printf(ctx, "anti-rollback: %" PRIu64 "\n", bc.arb);
    for (int s = 0; s < 2; s++) {
        const struct bc_slot *x = &bc.slot[s];

        cmd_printf(ctx, "slot %c:        %s", slot_name(s),
                   slot_state_name(x->state));
        if (x->state != SLOT_EMPTY)
            cmd_printf(ctx,
                       ", version %" PRIu32 ".%" PRIu32 ".%" PRIu32
                       ", counter %" PRIu64 ", %" PRIu64 " bytes",
                       x->version.major, x->version.minor, x->version.patch,
                       x->counter, x->payload_size);
        if (x->state == SLOT_READY || x->state == SLOT_TRIAL)
            cmd_printf(ctx, ", %u tries left", x->tries);
        if (bc.primary == s)
            cmd_printf(ctx, " (primary)");
        if (x->result != UPD_R_NONE)
            cmd_printf(ctx, "; last: %s", upd_reason_name(x->result));
        cmd_printf(ctx, "\n");
    }
    if (kr == 0)
        cmd_printf(ctx, "keyring:       version %" PRIu32 ", %u of %u keys%s\n",
                   k.version, k.threshold, k.nkeys,
                   k.expires ? ", expires" : "");
    else
        cmd_printf(ctx, "keyring:       %s\n", node->upd.why);
    if (lr != NULL)
        cmd_printf(ctx, "last refusal:  %s: %s\n", upd_reason_name(lr->reason),
                   lr->why);
    if (node->upd.running >= 0 &&
        bc.slot[node->upd.running].state == SLOT_TRIAL)
        cmd_printf(ctx,
                   "trial:         this slot is on trial; 'update "
                   "confirm' (or automatic after %d s of health)\n",
                   node->confirm_after_s);
    return 0;
}

static int
h_confirm(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    int rc = need_update(ctx);

    (void)argc;
    (void)argv;
    if (rc != 0)
        return rc;
    rc = update_confirm(&node->upd);
    if (rc != 0) {
        cmd_err(ctx, "update confirm: %s", node->upd.why);
        return rc;
    }
    cmd_printf(ctx, "confirmed: slot %c is good\n",
               slot_name(node->upd.running));
    return 0;
}

static int
h_rollback(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    int rc = need_update(ctx);

    (void)argc;
    (void)argv;
    if (rc != 0)
        return rc;
    rc = update_rollback(&node->upd);
    if (rc != 0) {
        cmd_err(ctx, "update rollback: %s", node->upd.why);
        return rc;
    }
    cmd_printf(ctx, "slot %c marked bad; rebooting into slot %c\n",
               slot_name(node->upd.running), slot_name(1 - node->upd.running));
    node->stop = 1;
    node->reboot = 1;
    return 0;
}

/* `update keyring`: the device keyring, its keys by id. */
static int
keyring_show(struct cmd_ctx *ctx)
{
    struct upd_keyring k; /* 2 KiB: the console stack holds it */
    struct node *node = ctx->node;
    int rc = update_keyring(&node->upd, &k);

    if (rc != 0) {
        cmd_err(ctx, "update keyring: %s", node->upd.why);
        return rc;
    }
    if (ctx->json) {
        cmd_printf(ctx,
                   "{\"version\":%" PRIu32 ",\"threshold\":%u,"
                   "\"expires\":%lld,\"keys\":[",
                   k.version, k.threshold, (long long)k.expires);
        for (int i = 0; i < k.nkeys; i++) {
            cmd_printf(ctx, "%s\"", i ? "," : "");
            cmd_hex(ctx, k.id[i], 32);
            cmd_printf(ctx, "\"");
        }
        cmd_printf(ctx, "]}\n");
        return 0;
    }
    cmd_printf(ctx, "version:   %" PRIu32 "\n", k.version);
    cmd_printf(ctx, "threshold: %u of %u keys\n", k.threshold, k.nkeys);
    if (k.expires != 0)
        cmd_printf(ctx, "expires:   %lld (Unix seconds)\n",
                   (long long)k.expires);
    else
        cmd_printf(ctx, "expires:   never\n");
    for (int i = 0; i < k.nkeys; i++) {
        cmd_printf(ctx, "key %-2d     ", i + 1);
        cmd_hex(ctx, k.id[i], 32);
        cmd_printf(ctx, "\n");
    }
    return 0;
}

static int
h_keyring(struct cmd_ctx *ctx, int argc, char **argv)
{
    uint8_t buf[UPD_SKR_MAX];
    char why[HAL_FILE_PATH_MAX + 96];
    int n, rc = need_update(ctx);

    if (rc != 0)
        return rc;
    if (argc == 0)
        return keyring_show(ctx);
    if (ctx->json) {
        cmd_err(ctx, "update keyring: --json only shows the keyring");
        return -EINVAL;
    }
    if ((rc = cmd_priv(ctx, "update keyring")) != 0)
        return rc;
    if (strcmp(argv[0], "receive") == 0) /* a file so named: ./receive */
        return node_keyring_receive(ctx);
    n = node_file_load(argv[0], buf, sizeof(buf), "signed keyring", why,
                       sizeof(why));
    if (n < 0) {
        cmd_err(ctx, "update keyring: %s; the keyring is unchanged", why);
        return n;
    }
    return node_keyring_apply(ctx, "update keyring", buf, (size_t)n);
}

int
node_keyring_apply(struct cmd_ctx *ctx, const char *cmd, const uint8_t *buf,
                   size_t n)
{
    struct node *node = ctx->node;
    struct upd_keyring k;
    int rc = update_keyring_rotate(&node->upd, buf, n);

    if (rc != 0) {
        cmd_err(ctx, "%s: %s; the keyring is unchanged", cmd, node->upd.why);
        return rc;
    }
    rc = update_keyring(&node->upd, &k);
    if (rc == 0)
        cmd_printf(ctx, "keyring: %sversion %" PRIu32 ", %u of %u keys\n",
                   node->upd.restored ? "restored the trusted keyring, " : "",
                   k.version, k.threshold, k.nkeys);
    if (rc == 0 && node->upd.restored)
        node->degraded &= ~NODE_DEG_KEYRING;
    return rc;
}

/* `update log`: the events since start, oldest first. */
static int
h_log(struct cmd_ctx *ctx, int argc, char **argv)
{
    const struct node *node = ctx->node;
    const struct upd_audit *a = &node->upd_audit;
    uint32_t n = a->nevents < UPD_AUDIT_RING ? a->nevents : UPD_AUDIT_RING;

    (void)argc;
    (void)argv;
    if (ctx->json) {
        cmd_printf(ctx, "{\"events\":%" PRIu32 ",\"log\":[", a->nevents);
        for (uint32_t i = n; i-- > 0;) {
            event_json(ctx, upd_audit_event(a, i));
            if (i > 0)
                cmd_printf(ctx, ",");
        }
        cmd_printf(ctx, "]}\n");
        return 0;
    }
    if (a->nevents == 0)
        cmd_printf(ctx, "no update events since start\n");
    else if (a->nevents > n)
        cmd_printf(ctx, "(%" PRIu32 " older events not kept)\n",
                   a->nevents - n);
    for (uint32_t i = n; i-- > 0;) {
        const struct upd_event *e = upd_audit_event(a, i);
        char line[UPD_AUDIT_WHY + 80];

        upd_audit_text(e, line, sizeof(line));
        cmd_printf(ctx, "%lld  %s\n", (long long)e->time, line);
    }
    return 0;
}

static void
metrics_line(void *arg, const char *line)
{
    cmd_printf(arg, "%s", line);
}

/* `update metrics`: the counters as a Prometheus exporter will serve
 * them. */
void
node_update_metrics(struct cmd_ctx *ctx, struct node *node)
{
    struct bootctl bc;
    int have = node->ctl_rc == 0 && bootctl_load(&node->ctl, &bc) == 0;

    upd_audit_metrics(&node->upd_audit, have ? &bc : NULL, metrics_line, ctx);
}

static int
h_metrics(struct cmd_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    node_update_metrics(ctx, ctx->node);
    return 0;
}

/* ---- peer distribution (node/p2p.h) --------------------------------- */

static void
ver_str(char *out, size_t cap, const struct upd_version *v)
{
    snprintf(out, cap, "%" PRIu32 ".%" PRIu32 ".%" PRIu32, v->major, v->minor,
             v->patch);
}

static void fetch_line(struct cmd_ctx *ctx, struct node *node);

/* `update peers`: who holds what, and the running fetch. */
static int
h_peers(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct p2p *p = &node->p2p;
    int n = 0;

    (void)argc;
    (void)argv;
    if (ctx->json)
        cmd_printf(ctx, "{\"policy\":\"%s\",\"peers\":[",
                   p2p_policy_name(p->policy));
    for (int i = 0; i < NET_LINKS; i++) {
        const struct p2p_peer *pe = &p->peer[i];
        char fx[2 * TRUST_FP_LEN + 1];

        if (pe->link == 0)
            continue;
        lib_hex_encode(pe->fp, TRUST_FP_LEN, fx);
        if (ctx->json) {
            cmd_printf(ctx,
                       "%s{\"link\":%" PRIu32 ",\"fingerprint\":\"%s\","
                       "\"bundles\":[",
                       n ? "," : "", pe->link, fx);
        } else {
            cmd_printf(ctx, "link %" PRIu32 "  %.16s  %s\n", pe->link, fx,
                       pe->nads ? "" : "(holds no bundle)");
        }
        for (int k = 0; k < pe->nads; k++) {
            const struct p2p_ad *a = &pe->ad[k];
            char v[40], hx[65];

            ver_str(v, sizeof(v), &a->v);
            lib_hex_encode(a->hash, 32, hx);
            if (ctx->json)
                cmd_printf(ctx,
                           "%s{\"manifest\":\"%s\",\"version\":\"%s\","
                           "\"counter\":%" PRIu64 ",\"board\":\"%s\","
                           "\"size\":%" PRIu64 ",\"chunks\":%" PRIu32
                           ",\"have\":%" PRIu32 "}",
                           k ? "," : "", hx, v, a->counter, a->board, a->size,
                           a->nchunks, a->have);
            else
                cmd_printf(
                    ctx,
                    "  %s  counter %" PRIu64 "  board %s  %" PRIu64
                    " bytes  chunks %" PRIu32 "/%" PRIu32 "  manifest %.16s\n",
                    v, a->counter, a->board, a->size, a->have, a->nchunks, hx);
        }
        if (ctx->json)
            cmd_printf(ctx, "]}");
        n++;
    }
    {
        /* peers dropped for a bundle (bad chunks), remembered on flash */
        uint64_t now = hal_clock_ms();
        int nb = 0;

        for (int i = 0; i < P2P_BANS; i++) {
            const struct p2p_ban *b = &p->ban[i];
            char fx[65], hx[65];

            if (b->until_ms == 0 || b->until_ms <= now)
                continue;
            lib_hex_encode(b->fp, 32, fx);
            lib_hex_encode(b->hash, 32, hx);
            if (ctx->json)
                cmd_printf(ctx,
                           "%s{\"peer\":\"%s\",\"manifest\":\"%s\","
                           "\"left_s\":%" PRIu64 "}",
                           nb ? "," : "],\"dropped\":[", fx, hx,
                           (b->until_ms - now) / 1000);
            else
                cmd_printf(ctx,
                           "dropped: peer %.16s for bundle %.16s (bad "
                           "chunks), %" PRIu64 " s left\n",
                           fx, hx, (b->until_ms - now) / 1000);
            nb++;
        }
        if (ctx->json && nb == 0)
            cmd_printf(ctx, "],\"dropped\":[");
    }
    if (ctx->json) {
        cmd_printf(ctx, "]");
        if (p2p_fetching(node))
            cmd_printf(ctx,
                       ",\"fetch\":{\"state\":%d,\"have\":%" PRIu32
                       ",\"chunks\":%" PRIu32 ",\"bytes\":%" PRIu64 "}",
                       p->f.state, p->fu.ra.have_n,
                       p->f.state == P2P_F_CHUNKS ? p->fu.man.nchunks : 0,
                       p->f.bytes);
        cmd_printf(ctx, "}\n");
    } else {
        if (n == 0)
            cmd_printf(ctx, "no linked peer has announced itself "
                            "('peer list' shows the links)\n");
        fetch_line(ctx, node);
    }
    return 0;
}

/* Where the running fetch stands: bytes, rate, sources, ETA. */
static void
fetch_line(struct cmd_ctx *ctx, struct node *node)
{
    struct p2p *p = &node->p2p;
    const struct p2p_fetch *f = &p->f;
    static const char *const st[] = {"idle", "waiting for an announce",
                                     "fetching the manifest",
                                     "fetching chunks"};
    uint64_t ms = hal_clock_ms() - f->t0, total = 0, done = 0;
    unsigned nsrc = 0;
    char hx[17];

    if (f->state == P2P_F_IDLE)
        return;
    if (f->state == P2P_F_CHUNKS) {
        total = p->fu.man.payload_size;
        done = (uint64_t)p->fu.ra.have_n * p->fu.man.chunk_size;
        done = done > total ? total : done;
    }
    for (int i = 0; i < NET_LINKS; i++)
        nsrc += p->peer[i].link != 0 && p->peer[i].inflight > 0;
    lib_hex_encode(f->hash, 8, hx);
    hx[16] = '\0';
    cmd_printf(ctx, "fetch %s: %s%s",
               f->any && f->state == P2P_F_WAIT ? "-" : hx, st[f->state],
               f->automatic ? " (automatic)" : "");
    if (f->state == P2P_F_CHUNKS) {
        double rate = ms ? (double)f->bytes / 1e3 / (double)ms : 0.0;

        cmd_printf(ctx,
                   ", %" PRIu64 " of %" PRIu64 " bytes (%" PRIu32
                   " kept from before), %.1f MB/s, %u sources",
                   done, total, p->fu.ra.kept, rate, nsrc);
        if (rate > 0)
            cmd_printf(ctx, ", about %.0f s left",
                       (double)(total - done) / 1e3 / rate / 1e3);
    }
    cmd_printf(ctx, "\n");
}

/* `update fetch [--from PEER] [--background] [MANIFEST-HASH] | --cancel` */
static int
h_fetch(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct p2p *p = &node->p2p;
    uint8_t from[TRUST_FP_LEN], hash[32];
    size_t from_len = 0;
    int have_hash = 0, bg = 0, rc = need_update(ctx);
    uint64_t t0 = hal_clock_ms(), ms;

    if (rc != 0)
        return rc;
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]);

        if (strcmp(argv[i], "--cancel") == 0 && argc == 1) {
            if (p2p_fetch_cancel(node) != 0) {
                cmd_err(ctx, "update fetch --cancel: no fetch is running");
                return -ENOENT;
            }
            cmd_printf(ctx, "fetch cancelled: %s\n", p->f.why);
            return 0;
        } else if (strcmp(argv[i], "--background") == 0) {
            bg = 1;
        } else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
            l = strlen(argv[++i]);
            if (l < 4 || l % 2 != 0 || l > 2 * TRUST_FP_LEN ||
                lib_hex_decode(argv[i], l, from, sizeof(from)) < 0) {
                cmd_err(ctx,
                        "update fetch: --from wants a peer's fingerprint "
                        "(at least 4 hex digits, as 'update peers' "
                        "shows), got '%s'",
                        argv[i]);
                return -EINVAL;
            }
            from_len = l / 2;
        } else if (l == 64 && lib_hex_decode(argv[i], 64, hash, 32) == 32) {
            have_hash = 1;
        } else {
            cmd_err(ctx,
                    "update fetch: unexpected '%s' (usage: update fetch "
                    "[--from PEER] [--background] [MANIFEST-HASH] | "
                    "--cancel)",
                    argv[i]);
            return -EINVAL;
        }
    }
    if (bg) {
        rc = p2p_fetch_start(node, have_hash ? hash : NULL, from, from_len, 0);
        if (rc != 0) {
            cmd_err(ctx, "update fetch: %s", p->f.why);
            return rc;
        }
        cmd_printf(ctx, "fetch started in the background ('update peers' shows "
                        "it, 'update fetch' waits for it)\n");
        return 0;
    }
    if (p2p_fetching(node) && !have_hash && from_len == 0) {
        cmd_printf(ctx, "waiting for the running fetch (Ctrl-C stops it)\n");
        fetch_line(ctx, node);
    }
    rc = p2p_fetch(node, have_hash ? hash : NULL, from, from_len, ctx);
    if (rc < 0) {
        cmd_err(ctx, "update fetch: %s", p->f.why);
        return rc;
    }
    ms = hal_clock_ms() - t0;
    {
        const struct upd_manifest *m = &p->fu.man;

        cmd_printf(ctx,
                   "fetched %" PRIu32 ".%" PRIu32 ".%" PRIu32
                   " (counter %" PRIu64 ") into slot %c: %" PRIu64
                   " bytes from peers in %.1f s (%.1f MB/s), %" PRIu32
                   " chunks kept from before; 'reboot' to try it\n",
                   m->version.major, m->version.minor, m->version.patch,
                   m->counter, slot_name(rc), p->f.bytes, (double)ms / 1e3,
                   ms ? (double)p->f.bytes / 1e3 / (double)ms : 0.0,
                   p->fu.ra.kept);
        for (int i = 0; i < P2P_SOURCES; i++) {
            char fx[17];

            if (!p->src[i].used)
                continue;
            lib_hex_encode(p->src[i].fp, 8, fx);
            cmd_printf(ctx,
                       "  source %s: %" PRIu64 " bytes, %" PRIu64
                       " chunks ok, %" PRIu64 " bad, %" PRIu64
                       " timed out (since start)\n",
                       fx, p->src[i].bytes, p->src[i].ok, p->src[i].bad_hash,
                       p->src[i].timeouts);
        }
    }
    return 0;
}

static int
parse_hash(struct cmd_ctx *ctx, const char *cmd, const char *s, uint8_t h[32])
{
    if (strlen(s) != 64 || lib_hex_decode(s, 64, h, 32) != 32) {
        cmd_err(ctx,
                "%s: '%s' is not a manifest hash (64 hex digits, as "
                "'update peers' or 'update status --json' show)",
                cmd, s);
        return -EINVAL;
    }
    return 0;
}

/* `update quarantine HASH --reason TEXT | list | release HASH` */
static int
h_quarantine(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct upd_quar q;
    uint8_t h[32];
    char hx[65];
    int rc = need_update(ctx);

    if (rc != 0)
        return rc;
    if (strcmp(argv[0], "list") == 0) {
        rc = upd_quar_load(node->upd.st, &q);
        if (rc != 0) {
            cmd_err(ctx,
                    "update quarantine list: the list is damaged (%s): "
                    "nothing is fetched, served or installed until "
                    "'update quarantine release HASH' rewrites it",
                    strerror(-rc));
            return rc;
        }
        if (ctx->json)
            cmd_printf(ctx, "{\"quarantined\":[");
        for (unsigned i = 0; i < q.n; i++) {
            lib_hex_encode(q.e[i].hash, 32, hx);
            if (ctx->json) {
                cmd_printf(ctx,
                           "%s{\"manifest\":\"%s\",\"when\":%lld,"
                           "\"automatic\":%s,\"reason\":",
                           i ? "," : "", hx, (long long)q.e[i].when,
                           q.e[i].automatic ? "true" : "false");
                cmd_json_str(ctx, q.e[i].reason);
                cmd_printf(ctx, "}");
            } else {
                cmd_printf(ctx, "%s  %lld  %s%s\n", hx, (long long)q.e[i].when,
                           q.e[i].automatic ? "(automatic) " : "",
                           q.e[i].reason);
            }
        }
        if (ctx->json)
            cmd_printf(ctx, "]}\n");
        else if (q.n == 0)
            cmd_printf(ctx, "no bundle is quarantined\n");
        return 0;
    }
    rc = cmd_priv(ctx, "update quarantine");
    if (rc != 0)
        return rc;
    if (strcmp(argv[0], "release") == 0) {
        if (argc != 2)
            goto usage;
        rc = parse_hash(ctx, "update quarantine release", argv[1], h);
        if (rc != 0)
            return rc;
        rc = upd_quar_release(node->upd.st, h);
        if (rc == -ENOENT) {
            cmd_err(ctx,
                    "update quarantine release: %.16s... is not "
                    "quarantined",
                    argv[1]);
            return rc;
        }
        if (rc != 0) {
            cmd_err(ctx, "update quarantine release: store write failed: %s",
                    strerror(-rc));
            return rc;
        }
        klog(KLOG_INFO, "update: bundle %.16s released from quarantine\n",
             argv[1]);
        cmd_printf(ctx, "released %s from quarantine\n", argv[1]);
        p2p_refresh(node);
        return 0;
    }
    if (argc != 3 || strcmp(argv[1], "--reason") != 0 || argv[2][0] == '\0')
        goto usage;
    rc = parse_hash(ctx, "update quarantine", argv[0], h);
    if (rc != 0)
        return rc;
    rc = upd_quar_add(node->upd.st, h, argv[2], 0, hal_clock_wall());
    if (rc != 0) {
        cmd_err(ctx, "update quarantine: %s",
                rc == -ENOSPC ? "the list is full (16): release one first"
                              : strerror(-rc));
        return rc;
    }
    klog(KLOG_WARN, "update: bundle %.16s quarantined: %s\n", argv[0], argv[2]);
    cmd_printf(ctx,
               "quarantined %s: neither fetched, served nor installed on "
               "this node\n",
               argv[0]);
    p2p_refresh(node);
    return 0;
usage:
    cmd_err(ctx, "usage: update quarantine MANIFEST-HASH --reason TEXT | "
                 "list | release MANIFEST-HASH");
    return -EINVAL;
}

/* `update verify-all [--json] [--fix]`: both slots against boot control,
 * their signatures against the current keyring. */
static int
h_verify_all(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct bootctl bc;
    struct upd_keyring k;
    int fix = 0, bad = 0, kr, rc = need_update(ctx);
    int verdict[2] = {0, 0}; /* 0 empty, 1 good, 2 corrupt, 3 unsigned,
                                4 incomplete */
    char why[2][160];

    if (rc != 0)
        return rc;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--fix") == 0)
            fix = 1;
        else {
            cmd_err(ctx, "update verify-all: unexpected '%s'", argv[i]);
            return -EINVAL;
        }
    }
    if (fix && (rc = cmd_priv(ctx, "update verify-all")) != 0)
        return rc;
    rc = bootctl_load(&node->ctl, &bc);
    if (rc != 0) {
        cmd_err(ctx, "update verify-all: boot control unreadable");
        return rc;
    }
    kr = update_keyring(&node->upd, &k);
    for (int s = 0; s < 2; s++) {
        const struct bc_slot *b = &bc.slot[s];
        struct upd_slot_info info;
        char w[120];

        why[s][0] = '\0';
        if (b->state == SLOT_EMPTY)
            continue;
        if (b->state == SLOT_INSTALLING) {
            verdict[s] = 4;
            snprintf(why[s], sizeof(why[s]),
                     "being written (a fetch or install did not finish)");
            continue;
        }
        if (update_slot_verify(node->upd.slot[s], b, &node->upd_work, w,
                               sizeof(w)) != UPD_VERIFIED) {
            verdict[s] = 2;
            snprintf(why[s], sizeof(why[s]), "%s", w);
            klog(KLOG_WARN, "update: verify-all: slot %c is corrupt: %s\n",
                 slot_name(s), w);
            continue;
        }
        if (kr != 0 || update_slot_verify_signed(
                           node->upd.slot[s], &k, node->upd.board, 0, &info,
                           &node->upd_work, w, sizeof(w)) != UPD_VERIFIED) {
            verdict[s] = 3;
            snprintf(why[s], sizeof(why[s]), "%.150s",
                     kr != 0 ? node->upd.why : w);
            continue;
        }
        verdict[s] = 1;
    }
    {
        static const char *const vn[] = {"empty", "good", "corrupt", "unsigned",
                                         "incomplete"};

        if (ctx->json)
            cmd_printf(ctx, "{\"slots\":{");
        for (int s = 0; s < 2; s++) {
            bad += verdict[s] == 2 || verdict[s] == 3;
            if (ctx->json) {
                cmd_printf(ctx, "%s\"%c\":{\"state\":\"%s\",\"verdict\":\"%s\"",
                           s ? "," : "", slot_name(s),
                           slot_state_name(bc.slot[s].state), vn[verdict[s]]);
                if (verdict[s] != 0) {
                    cmd_printf(ctx, ",\"manifest\":\"");
                    cmd_hex(ctx, bc.slot[s].manifest_hash, 32);
                    cmd_printf(ctx, "\"");
                }
                if (why[s][0]) {
                    cmd_printf(ctx, ",\"why\":");
                    cmd_json_str(ctx, why[s]);
                }
                cmd_printf(ctx, "}");
            } else {
                cmd_printf(ctx, "slot %c: %-8s %s%s%s\n", slot_name(s),
                           slot_state_name(bc.slot[s].state), vn[verdict[s]],
                           why[s][0] ? ": " : "", why[s]);
            }
        }
        if (ctx->json)
            cmd_printf(ctx, "},\"fetching\":%s}\n",
                       p2p_fetching(node) ? "true" : "false");
    }
    if (!fix)
        return bad ? -EBADMSG : 0;
    for (int s = 0; s < 2; s++) {
        struct bootctl saved = bc;
        uint8_t h[32];

        if (verdict[s] != 2)
            continue;
        if (s == node->upd.running) {
            cmd_err(ctx,
                    "update verify-all --fix: slot %c is the running "
                    "slot: not touched (install a good bundle into "
                    "the other slot, then reboot)",
                    slot_name(s));
            continue;
        }
        memcpy(h, bc.slot[s].manifest_hash, 32);
        upd_slot_set(&bc, s, SLOT_BAD, UPD_R_READBACK);
        if (bc.primary == s)
            bc.primary = BOOTCTL_NONE;
        rc = bootctl_save(&node->ctl, &bc);
        if (rc != 0) {
            cmd_err(ctx, "update verify-all --fix: writing boot control "
                         "failed");
            return -EIO;
        }
        upd_audit_bootctl(&node->upd_audit, &saved, &bc);
        cmd_printf(ctx,
                   "slot %c marked bad; fetching its bundle again from "
                   "peers\n",
                   slot_name(s));
        p2p_refresh(node);
        rc = p2p_fetch(node, h, NULL, 0, ctx);
        if (rc < 0) {
            cmd_err(ctx, "update verify-all --fix: %s", node->p2p.f.why);
            return rc;
        }
        cmd_printf(ctx, "slot %c repaired from peers (%" PRIu64 " bytes)\n",
                   slot_name(rc), node->p2p.f.bytes);
        bad--;
    }
    return bad > 0 ? -EBADMSG : 0;
}

/* `update auto-fetch [off|fetch-only|fetch-and-install]` */
static int
h_auto_fetch(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    int rc;

    if (argc == 0) {
        cmd_printf(ctx, "update.auto_fetch: %s\n",
                   p2p_policy_name(node->p2p.policy));
        return 0;
    }
    if ((rc = cmd_priv(ctx, "update auto-fetch")) != 0)
        return rc;
    rc = p2p_policy_set(node, argv[0]);
    if (rc == -EINVAL)
        cmd_err(ctx,
                "update auto-fetch: '%s' is not off, fetch-only or "
                "fetch-and-install",
                argv[0]);
    else if (rc != 0)
        cmd_err(ctx, "update auto-fetch: store write failed: %s",
                strerror(-rc));
    else
        cmd_printf(ctx, "update.auto_fetch: %s\n", argv[0]);
    return rc;
}

const struct cmd node_update_cmds[] = {
    {"install", 1, 1, CMD_PRIV, "FILE",
     "verify a signed bundle, then write it to the inactive slot", h_install,
     NULL},
    {"receive", 0, 0, CMD_PRIV, "",
     "install a bundle sent over the console by YMODEM (sb, sz --ymodem)",
     node_update_receive, NULL},
    {"status", 0, 0, CMD_JSON, "[--json]",
     "slots, their states and versions, anti-rollback counter, keyring",
     h_status, NULL},
    {"confirm", 0, 0, CMD_PRIV, "", "the running trial slot is good", h_confirm,
     NULL},
    {"recover", 0, 1, CMD_PRIV, "--force",
     "rebuild a corrupt boot control from the running slot", h_recover, NULL},
    {"rollback", 0, 0, CMD_PRIV, "", "mark the running slot bad and reboot",
     h_rollback, NULL},
    {"keyring", 0, 1, CMD_JSON, "[--json] [SIGNED-KEYRING|receive]",
     "show the release keyring, or rotate it (a file signed by the "
     "current and the new threshold)",
     h_keyring, NULL},
    {"log", 0, 0, CMD_JSON, "[--json]",
     "update events since start: refusals, slot changes, counter", h_log, NULL},
    {"metrics", 0, 0, 0, "", "update counters in Prometheus text format",
     h_metrics, NULL},
    {"peers", 0, 0, CMD_JSON, "[--json]",
     "linked peers and the bundles they announce", h_peers, NULL},
    {"fetch", 0, 4, CMD_PRIV,
     "[--from PEER] [--background] [MANIFEST-HASH] | --cancel",
     "fetch the newest bundle peers announce (or that one), verified chunk "
     "by chunk, into the inactive slot; without --background, wait for it",
     h_fetch, NULL},
    {"quarantine", 1, 3, CMD_JSON,
     "MANIFEST-HASH --reason TEXT | list [--json] | release MANIFEST-HASH",
     "block a bundle: neither fetched, served nor installed (persisted)",
     h_quarantine, NULL},
    {"verify-all", 0, 1, CMD_JSON, "[--json] [--fix]",
     "re-hash both slots against their manifests and the keyring; --fix "
     "marks a corrupt inactive slot bad and fetches it again",
     h_verify_all, NULL},
    {"auto-fetch", 0, 1, 0, "[off|fetch-only|fetch-and-install]",
     "show or set update.auto_fetch (default fetch-only)", h_auto_fetch, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};
