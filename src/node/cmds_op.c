/*
 * node/cmds_op.c - `unlock`, `lock` and the `op` commands: operator keys
 * and the console's lock (console/unlock.h, docs/CONSOLE.md "Operator
 * unlock").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hal/file.h"
#include "lib/hex.h"
#include "node/files.h"
#include "lib/klog.h"
#include "node/node.h"

#define OPERATORS_FILE "etc/keel/operators"

static void
op_fp(const uint8_t pub[CRYPTO_EC_PUB_LEN], uint8_t fp[CRYPTO_SHA256_LEN])
{
    identity_fingerprint(pub, fp);
}

/* Each PEM block of the image's operators file, parsed as a key. */
static void
seed_from_image(struct node *node)
{
    static char buf[UNLOCK_OPS_MAX * 400];
    char path[HAL_FILE_PATH_MAX], why[HAL_FILE_PATH_MAX + 96];
    const char *p, *end;
    int n, added = 0;

    if (node->rootfs == NULL)
        return;
    snprintf(path, sizeof(path), "%s/%s", node->rootfs, OPERATORS_FILE);
    n = node_file_load(path, buf, sizeof(buf) - 1, "operators file", why,
                       sizeof(why));
    if (n < 0)
        return; /* no file: an image without operators */
    buf[n] = '\0';
    for (p = strstr(buf, "-----BEGIN"); p != NULL;
         p = strstr(end, "-----BEGIN")) {
        struct crypto_eckey k;
        const char *kwhy = "";
        int priv = 0;

        /* the block with its END line's newline (the parser wants it) */
        end = strstr(p, "-----END");
        if (end == NULL || (end = strchr(end + 8, '\n')) == NULL)
            end = buf + n;
        else
            end++;
        if (crypto_key_parse(p, (size_t)(end - p), &k, &priv, &kwhy) != 0 ||
            priv) {
            klog(KLOG_WARN, "unlock: %s: a key is not usable: %s\n", path,
                 priv ? "a private key (give public keys)" : kwhy);
            memset(&k, 0, sizeof(k));
            continue;
        }
        added += unlock_op_add(&node->unlock, k.pub) == 0;
    }
    if (added > 0)
        klog(KLOG_INFO, "unlock: %d operator key%s from the image\n", added,
             added == 1 ? "" : "s");
}

void
node_unlock_init(struct node *node)
{
    unlock_init(&node->unlock, node->store_rc == 0 ? &node->store : NULL);
    if (node->unlock.ops.n == 0)
        seed_from_image(node);
}

int
node_priv(struct cmd_ctx *ctx, const char *path)
{
    struct node *node = ctx->node;

    if (unlock_allowed(&node->unlock))
        return 0;
    cmd_err(ctx,
            "%s: locked: this command changes the device; run 'unlock' and "
            "answer with an operator key's signature",
            path);
    return -EACCES;
}

int
node_unlock(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct unlock *u = &node->unlock;
    uint8_t fp[CRYPTO_SHA256_LEN], sig[CRYPTO_SIG_MAX + 1];
    uint32_t wait;
    int rc, len;

    if (u->ops.n == 0) {
        cmd_printf(ctx, "unprovisioned: no operator key, nothing is locked "
                        "('op add FILE' adds one)\n");
        return 0;
    }
    if (argc == 0) {
        if (node->id.state != IDENTITY_READY) {
            cmd_err(ctx, "unlock: the device has no identity to name in a "
                         "challenge");
            return -ENOKEY;
        }
        identity_fingerprint(node->id.cur.k.pub, fp);
        rc = unlock_challenge(u, fp, &wait);
        if (rc == -EAGAIN) {
            cmd_err(
                ctx, "unlock: %u wrong answer%s: the next challenge in %u s",
                (unsigned)u->wrong, u->wrong == 1 ? "" : "s", (unsigned)wait);
            klog(KLOG_WARN, "unlock: challenge refused during backoff\n");
            return rc;
        }
        if (rc != 0) {
            cmd_err(ctx, "unlock: %s", strerror(-rc));
            return rc;
        }
        cmd_printf(ctx,
                   "sign this line (no newline) with an operator key, e.g.\n"
                   "  printf '%%s' 'LINE' | openssl dgst -sha256 -sign op.pem "
                   "| xxd -p | tr -d '\\n'\n"
                   "then answer 'unlock SIGNATURE-HEX' within %u s:\n%s\n",
                   (unsigned)u->valid_s, u->challenge);
        return 0;
    }
    len = lib_hex_decode(argv[0], strlen(argv[0]), sig, sizeof(sig));
    if (len <= 0 || len > CRYPTO_SIG_MAX)
        len = 0;
    rc = unlock_answer(u, sig, (size_t)len);
    switch (rc) {
    case UNLOCK_OK:
        cmd_printf(ctx, "unlocked (until 'lock' or %u s without a command)\n",
                   (unsigned)u->idle_s);
        klog(KLOG_INFO, "unlock: console unlocked\n");
        return 0;
    case UNLOCK_NONE:
        cmd_err(ctx, "unlock: no challenge pending (each is used once): run "
                     "'unlock' for a new one");
        break;
    case UNLOCK_EXPIRED:
        cmd_err(ctx,
                "unlock: the challenge expired (%u s): run 'unlock' for "
                "a new one",
                (unsigned)u->valid_s);
        break;
    default:
        cmd_err(ctx,
                "unlock: %s: no operator key signed this challenge "
                "(wrong answer %u; the next challenge waits)",
                rc == UNLOCK_MALFORMED ? "not a DER signature in hex"
                                       : "wrong signature",
                (unsigned)u->wrong);
        break;
    }
    klog(KLOG_WARN, "unlock: refused: %s\n", unlock_result_name(rc));
    return -EACCES;
}

int
node_lock(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;

    (void)argc;
    (void)argv;
    unlock_lock(&node->unlock);
    cmd_printf(ctx, node->unlock.ops.n ? "locked\n"
                                       : "unprovisioned: nothing to lock\n");
    return 0;
}

static int
h_op_list(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct unlock *u = &((struct node *)ctx->node)->unlock;
    uint8_t fp[CRYPTO_SHA256_LEN];

    (void)argc;
    (void)argv;
    if (ctx->json)
        cmd_printf(ctx, "{\"operators\":[");
    for (unsigned i = 0; i < u->ops.n; i++) {
        op_fp(u->ops.pub[i], fp);
        cmd_printf(ctx, ctx->json ? "%s\"" : "", i ? "," : "");
        cmd_hex(ctx, fp, sizeof(fp));
        cmd_printf(ctx, ctx->json ? "\"" : "\n");
    }
    if (ctx->json)
        cmd_printf(ctx, "],\"idle_s\":%u,\"valid_s\":%u}\n",
                   (unsigned)u->idle_s, (unsigned)u->valid_s);
    else if (u->ops.n == 0)
        cmd_printf(ctx, "(no operator key: unprovisioned)\n");
    return 0;
}

static int
h_op_add(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct unlock *u = &((struct node *)ctx->node)->unlock;
    uint8_t buf[CRYPTO_KEYFILE_MAX];
    char why[HAL_FILE_PATH_MAX + 96];
    struct crypto_eckey k;
    const char *kwhy = "";
    int n, priv = 0, rc;

    (void)argc;
    n = node_file_load(argv[0], buf, sizeof(buf), "key file", why, sizeof(why));
    if (n < 0) {
        cmd_err(ctx, "op add: %s", why);
        return n;
    }
    if (crypto_key_parse(buf, (size_t)n, &k, &priv, &kwhy) != 0) {
        cmd_err(ctx, "op add: '%s': %s", argv[0], kwhy);
        return -EINVAL;
    }
    memset(k.priv, 0, sizeof(k.priv));
    if (priv) {
        cmd_err(ctx,
                "op add: '%s' is a private key: give the operator's "
                "public key (openssl ec -pubout)",
                argv[0]);
        return -EINVAL;
    }
    rc = unlock_op_add(u, k.pub);
    if (rc != 0) {
        cmd_err(ctx, "op add: %s",
                rc == -EEXIST   ? "that key is already an operator key"
                : rc == -ENOSPC ? "8 operator keys already"
                                : strerror(-rc));
        return rc;
    }
    cmd_printf(ctx, "operator key added%s\n",
               u->ops.n == 1 ? "; the console is now locked" : "");
    if (u->ops.n == 1)
        unlock_lock(u);
    return 0;
}

static int
h_op_remove(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct unlock *u = &((struct node *)ctx->node)->unlock;
    uint8_t fp[CRYPTO_SHA256_LEN];
    int rc;

    (void)argc;
    if (strlen(argv[0]) != 2 * sizeof(fp) ||
        lib_hex_decode(argv[0], strlen(argv[0]), fp, sizeof(fp)) !=
            (int)sizeof(fp)) {
        cmd_err(ctx, "op remove: give a fingerprint from 'op list'");
        return -EINVAL;
    }
    rc = unlock_op_remove(u, fp);
    if (rc != 0) {
        cmd_err(ctx, "op remove: %s",
                rc == -ENOENT  ? "no such operator key"
                : rc == -EPERM ? "the last operator key stays (a device "
                                 "once provisioned stays so)"
                               : strerror(-rc));
        return rc;
    }
    cmd_printf(ctx, "removed\n");
    return 0;
}

static int
set_s(struct cmd_ctx *ctx, const char *key, const char *v, uint64_t max,
      uint32_t *out)
{
    struct node *node = ctx->node;
    uint64_t x;
    int rc;

    if (cmd_parse_u64(v, max, &x) != 0 || x == 0) {
        cmd_err(ctx, "op: SECONDS is a whole number from 1 to %" PRIu64, max);
        return -EINVAL;
    }
    if (node->store_rc != 0)
        return -EROFS;
    rc = store_put(&node->store, key, v, strlen(v));
    if (rc != 0) {
        cmd_err(ctx, "op: %s", strerror(-rc));
        return rc;
    }
    *out = (uint32_t)x;
    cmd_printf(ctx, "saved\n");
    return 0;
}

static int
h_op_idle(struct cmd_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    return set_s(ctx, UNLOCK_IDLE_KEY, argv[0], 86400,
                 &((struct node *)ctx->node)->unlock.idle_s);
}

static int
h_op_valid(struct cmd_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    return set_s(ctx, UNLOCK_VALID_KEY, argv[0], 3600,
                 &((struct node *)ctx->node)->unlock.valid_s);
}

const struct cmd node_op_cmds[] = {
    {"list", 0, 0, CMD_JSON, "[--json]", "the operator keys' fingerprints",
     h_op_list, NULL},
    {"add", 1, 1, CMD_PRIV, "KEYFILE",
     "add an operator public key (the first one locks the console)", h_op_add,
     NULL},
    {"remove", 1, 1, CMD_PRIV, "FINGERPRINT",
     "remove an operator key (not the last)", h_op_remove, NULL},
    {"idle", 1, 1, CMD_PRIV, "SECONDS",
     "lock again after this long without a command (600)", h_op_idle, NULL},
    {"valid", 1, 1, CMD_PRIV, "SECONDS",
     "how long a challenge can be answered (300)", h_op_valid, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

void
node_unlock_status(struct cmd_ctx *ctx, struct node *node)
{
    struct unlock *u = &node->unlock;

    if (ctx->json) {
        cmd_printf(ctx, ",\"console\":\"%s\"",
                   u->ops.n == 0 ? "unprovisioned"
                   : u->unlocked ? "unlocked"
                                 : "locked");
        return;
    }
    if (u->ops.n == 0)
        cmd_printf(ctx, "console:  unprovisioned: no operator key, nothing "
                        "is locked\n");
    else
        cmd_printf(ctx, "console:  %s (%u operator key%s, %u wrong answer%s)\n",
                   u->unlocked ? "unlocked" : "locked", (unsigned)u->ops.n,
                   u->ops.n == 1 ? "" : "s", (unsigned)u->wrong,
                   u->wrong == 1 ? "" : "s");
}

void
node_unlock_metrics(struct cmd_ctx *ctx, struct node *node)
{
    struct unlock *u = &node->unlock;

    cmd_printf(ctx, "# HELP keel_console_unlock_total Answers to unlock "
                    "challenges, by result.\n"
                    "# TYPE keel_console_unlock_total counter\n");
    for (int r = 0; r < UNLOCK_R_COUNT; r++)
        cmd_printf(ctx,
                   "keel_console_unlock_total{result=\"%s\"} %" PRIu64 "\n",
                   unlock_result_name(r), u->count[r]);
    cmd_printf(ctx, "# HELP keel_console_operator_keys Operator keys "
                    "(0: unprovisioned).\n"
                    "# TYPE keel_console_operator_keys gauge\n");
    cmd_printf(ctx, "keel_console_operator_keys %u\n", (unsigned)u->ops.n);
}
