/*
 * node/cmds_id.c - the `id` commands.  (`status` is health.c's.)
 *
 * Files named here are host paths on the sim board (later boards read
 * them from the console's transfer area), regular files only
 * (node/files.h).  Key files are read whole, up to CRYPTO_KEYFILE_MAX
 * bytes, signatures up to CRYPTO_SIG_MAX; files to sign or verify are
 * streamed through SHA-256, never held in RAM, up to ID_DATA_MAX bytes.
 * Files written (id export, id sign --out) are replaced whole or not at
 * all.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "console/line.h"
#include "hal/clock.h"
#include "hal/file.h"
#include "node/files.h"
#include "node/node.h"

/* The largest file `id sign` and `id verify` hash: a slot's worth, the
 * most a node ever needs to vouch for, and a bounded wait at the
 * console (about a second at SHA-256's speed on a small core). */
#ifndef ID_DATA_MAX
#define ID_DATA_MAX ((uint64_t)64 << 20)
#endif

/* Room for a path and a phrase about it (node/files.h). */
#define WHY_MAX (HAL_FILE_PATH_MAX + 96)

/* SHA-256 of a file, streamed; cmd names the command in messages. */
static int
hash_file(struct cmd_ctx *ctx, const char *cmd, const char *path, uint8_t h[32])
{
    struct crypto_sha256 c;
    struct hal_file f;
    uint8_t buf[4096];
    char why[WHY_MAX];
    int n;

    n = node_file_open(&f, path, ID_DATA_MAX, "file to sign or verify", why,
                       sizeof(why));
    if (n != 0) {
        cmd_err(ctx, "%s: %s", cmd, why);
        return n;
    }
    crypto_sha256_init(&c);
    while ((n = hal_file_read(&f, buf, sizeof(buf))) > 0)
        crypto_sha256_update(&c, buf, (size_t)n);
    hal_file_close(&f);
    if (n < 0) {
        cmd_err(ctx, "%s: reading '%s' failed: %s", cmd, path, strerror(-n));
        return n;
    }
    crypto_sha256_final(&c, h);
    return 0;
}

/* Read a small file whole (at most cap bytes; what names it in the
 * message).  Errors name the command; `id import` says it wrote
 * nothing. */
static int
read_small(struct cmd_ctx *ctx, const char *cmd, const char *path, uint8_t *buf,
           size_t cap, const char *what)
{
    char why[WHY_MAX];
    int n = node_file_load(path, buf, cap, what, why, sizeof(why));

    if (n < 0)
        cmd_err(ctx, "%s: %s%s", cmd, why,
                strcmp(cmd, "id import") == 0 ? "; nothing written" : "");
    return n;
}

static int
write_file(struct cmd_ctx *ctx, const char *cmd, const char *path,
           const void *p, size_t n)
{
    char why[WHY_MAX];
    int rc = node_file_save(path, p, n, why, sizeof(why));

    if (rc != 0)
        cmd_err(ctx, "%s: %s", cmd, why);
    return rc;
}

/* The identity is ready; otherwise say why and return an error. */
static int
need_id(struct cmd_ctx *ctx)
{
    struct node *node = ctx->node;

    if (node->id.state == IDENTITY_READY)
        return 0;
    if (node->id.state == IDENTITY_LOST)
        cmd_err(ctx,
                "identity lost: %s; 'id new --force' or 'id import "
                "FILE' makes a new one",
                node->id.why);
    else
        cmd_err(ctx, "no identity: %s",
                node->id.why[0] ? node->id.why : "store not mounted");
    return -ENOKEY;
}

static int
h_show(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct identity *id = &node->id;
    uint8_t fp[ID_FP_LEN], ofp[ID_FP_LEN];
    char created[32], wend[32];
    const char *rot;

    (void)argc;
    (void)argv;
    if (id->state == IDENTITY_READY)
        (void)identity_tick(id);
    if (id->state != IDENTITY_READY) {
        if (ctx->json) {
            cmd_printf(ctx, "{\"state\":\"%s\",\"reason\":",
                       identity_state_name(id->state));
            cmd_json_str(ctx, id->why);
            cmd_printf(ctx, ",\"repairs\":%" PRIu32 "}\n", id->repairs);
        } else {
            cmd_printf(ctx, "state:       %s\nreason:      %s\n",
                       identity_state_name(id->state), id->why);
            if (id->state == IDENTITY_LOST)
                cmd_printf(ctx, "action:      peers are refused; 'id new "
                                "--force' or 'id import FILE'\n");
        }
        return id->state == IDENTITY_LOST ? -ENOKEY : -EIO;
    }
    identity_fingerprint(id->cur.k.pub, fp);
    if (id->has_stmt)
        identity_fingerprint(id->old.k.pub, ofp);
    node_when(created, sizeof(created), id->cur.created,
              "unknown (clock unset)");
    node_when(wend, sizeof(wend), id->window_end, "unknown (clock unset)");
    rot = id->rotating ? "overlap" : id->has_stmt ? "retired" : "none";
    if (ctx->json) {
        cmd_printf(ctx, "{\"state\":\"ready\",\"algorithm\":\"ECDSA P-256 "
                        "(prime256v1), SHA-256\",\"fingerprint\":\"");
        cmd_hex(ctx, fp, sizeof(fp));
        cmd_printf(ctx,
                   "\",\"generation\":%" PRIu32 ",\"created\":%lld,"
                   "\"rotation\":\"%s\"",
                   id->gen, (long long)id->cur.created, rot);
        if (id->has_stmt) {
            cmd_printf(ctx, ",\"old_fingerprint\":\"");
            cmd_hex(ctx, ofp, sizeof(ofp));
            cmd_printf(ctx, "\",\"window_end\":%lld",
                       (long long)id->window_end);
        }
        cmd_printf(ctx,
                   ",\"window_days\":%d,\"repairs\":%" PRIu32
                   ",\"repaired_this_boot\":%" PRIu32 "}\n",
                   identity_window_days(id), id->repairs, id->repaired_boot);
        return 0;
    }
    cmd_printf(ctx, "state:       ready\nalgorithm:   ECDSA P-256 "
                    "(prime256v1), SHA-256\nfingerprint: ");
    cmd_hex(ctx, fp, sizeof(fp));
    cmd_printf(ctx, "\ngeneration:  %" PRIu32 "\ncreated:     %s\n", id->gen,
               created);
    if (id->rotating) {
        cmd_printf(ctx,
                   "rotation:    overlap window open until %s; the old "
                   "key also verifies\nold key:     ",
                   wend);
        cmd_hex(ctx, ofp, sizeof(ofp));
        cmd_printf(ctx, "\n");
    } else if (id->has_stmt) {
        cmd_printf(ctx,
                   "rotation:    old key retired at %s\nold key:     ", wend);
        cmd_hex(ctx, ofp, sizeof(ofp));
        cmd_printf(ctx, "\n");
    } else {
        cmd_printf(ctx, "rotation:    none (window for the next: %d days)\n",
                   identity_window_days(id));
    }
    cmd_printf(ctx, "repairs:     %" PRIu32 " (this boot: %" PRIu32 ")\n",
               id->repairs, id->repaired_boot);
    return 0;
}

struct pem_src {
    const char *p;
    size_t left;
};

static int
pem_read(void *arg, uint8_t *out, size_t n)
{
    struct pem_src *s = arg;

    if (n > s->left)
        n = s->left;
    memcpy(out, s->p, n);
    s->p += n;
    s->left -= n;
    return (int)n;
}

static int
h_export(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    char pem[256];
    int n, rc = need_id(ctx);

    if (rc != 0)
        return rc;
    n = crypto_spki_pem(node->id.cur.k.pub, pem, sizeof(pem));
    if (n < 0) {
        cmd_err(ctx, "id export: %s", strerror(-n));
        return n;
    }
    if (argc == 1 && strcmp(argv[0], "--ymodem") == 0) {
        struct pem_src p = {pem, (size_t)n};

        return node_ymodem_send(ctx, "id export", "keel-id.pem", (uint64_t)n,
                                pem_read, &p);
    }
    if (argc == 1)
        return write_file(ctx, "id export", argv[0], pem, (size_t)n);
    cmd_printf(ctx, "%s", pem);
    return 0;
}

static int
h_sign(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    const char *in = NULL, *hexin = NULL, *out = NULL;
    uint8_t h[32], sig[CRYPTO_SIG_MAX];
    int n, rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--hex") == 0 && i + 1 < argc)
            hexin = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (argv[i][0] != '-' && in == NULL)
            in = argv[i];
        else {
            cmd_err(ctx,
                    "id sign: unexpected '%s' (usage: id sign FILE|--hex "
                    "HEX [--out SIG.der])",
                    argv[i]);
            return -EINVAL;
        }
    }
    if ((in == NULL) == (hexin == NULL)) {
        cmd_err(ctx, "id sign: give a FILE or --hex HEX (one of them)");
        return -EINVAL;
    }
    rc = need_id(ctx);
    if (rc != 0)
        return rc;
    if (in != NULL) {
        rc = hash_file(ctx, "id sign", in, h);
        if (rc != 0)
            return rc;
    } else {
        uint8_t data[LINE_MAX_LEN / 2];

        n = cmd_unhex(hexin, data, sizeof(data));
        if (n < 0) {
            cmd_err(ctx, "id sign: --hex takes an even number of hex digits");
            return -EINVAL;
        }
        crypto_sha256(data, (size_t)n, h);
    }
    n = identity_sign(&node->id, h, sig);
    if (n < 0) {
        cmd_err(ctx, "id sign: %s", node->id.why);
        return n;
    }
    if (out != NULL)
        return write_file(ctx, "id sign", out, sig, (size_t)n);
    cmd_hex(ctx, sig, (size_t)n);
    cmd_printf(ctx, "\n");
    return 0;
}

static int
h_verify(struct cmd_ctx *ctx, int argc, char **argv)
{
    uint8_t keybuf[CRYPTO_KEYFILE_MAX];
    struct node *node = ctx->node;
    const char *pos[2] = {NULL, NULL}, *keyfile = NULL, *why;
    int npos = 0, hexmode = 0, which = 0, n, rc;
    uint8_t h[32], sig[CRYPTO_SIG_MAX + 1];
    struct crypto_eckey k;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            keyfile = argv[++i];
        else if (strcmp(argv[i], "--hex") == 0)
            hexmode = 1;
        else if (argv[i][0] != '-' && npos < 2)
            pos[npos++] = argv[i];
        else {
            cmd_err(ctx,
                    "id verify: unexpected '%s' (usage: id verify "
                    "[--hex] DATA SIG [--key KEY.pem])",
                    argv[i]);
            return -EINVAL;
        }
    }
    if (npos != 2) {
        cmd_err(ctx, "id verify: needs DATA and SIG (files, or hex with "
                     "--hex)");
        return -EINVAL;
    }
    if (hexmode) {
        uint8_t data[LINE_MAX_LEN / 2];

        n = cmd_unhex(pos[0], data, sizeof(data));
        if (n < 0) {
            cmd_err(ctx, "id verify: DATA is not hex");
            return -EINVAL;
        }
        crypto_sha256(data, (size_t)n, h);
        n = cmd_unhex(pos[1], sig, sizeof(sig));
        if (n < 0) {
            cmd_err(ctx, "id verify: SIG is not hex (or longer than a "
                         "P-256 signature)");
            return -EINVAL;
        }
    } else {
        rc = hash_file(ctx, "id verify", pos[0], h);
        if (rc != 0)
            return rc;
        n = read_small(ctx, "id verify", pos[1], sig, sizeof(sig) - 1,
                       "signature");
        if (n < 0)
            return n;
    }
    if (keyfile != NULL) {
        int priv;

        rc = read_small(ctx, "id verify", keyfile, keybuf, sizeof(keybuf),
                        "key file");
        if (rc < 0)
            return rc;
        rc = crypto_key_parse(keybuf, (size_t)rc, &k, &priv, &why);
        crypto_wipe(keybuf, sizeof(keybuf));
        if (rc != 0) {
            cmd_err(ctx, "id verify: '%s': %s", keyfile, why);
            return rc;
        }
        crypto_wipe(k.priv, sizeof(k.priv));
        rc = crypto_ec_verify(k.pub, h, sig, (size_t)n);
    } else {
        rc = need_id(ctx);
        if (rc != 0)
            return rc;
        rc = identity_verify(&node->id, h, sig, (size_t)n, &which);
    }
    if (rc != CRYPTO_VERIFIED) {
        cmd_err(ctx, "id verify: signature does NOT verify%s",
                keyfile ? "" : " with this node's key(s)");
        return -EBADMSG;
    }
    cmd_printf(ctx, "verified: %s\n",
               keyfile      ? "with the given key"
               : which == 0 ? "with the current identity key"
                            : "with the old key (rotation window open)");
    return 0;
}

static int
h_rotate(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    long days = identity_window_days(&node->id);
    int rc;

    if (argc == 2 && strcmp(argv[0], "--window") == 0) {
        uint64_t v;

        if (cmd_parse_u64(argv[1], ID_WINDOW_DAYS_MAX, &v) != 0) {
            cmd_err(ctx, "id rotate: --window takes days, 0 to %d",
                    ID_WINDOW_DAYS_MAX);
            return -EINVAL;
        }
        days = (long)v;
    } else if (argc != 0) {
        cmd_err(ctx, "id rotate: usage: id rotate [--window DAYS]");
        return -EINVAL;
    }
    rc = need_id(ctx);
    if (rc != 0)
        return rc;
    rc = identity_rotate(&node->id, (int64_t)days * 86400);
    if (rc != 0) {
        cmd_err(ctx, "id rotate: %s; the identity is unchanged", node->id.why);
        return rc;
    }
    cmd_printf(ctx,
               "rotated: generation %" PRIu32 "; old key verifies for "
               "%ld more days\n",
               node->id.gen, days);
    return 0;
}

int
node_id_import_key(struct cmd_ctx *ctx, const char *cmd, const char *what,
                   uint8_t *buf, size_t n)
{
    struct node *node = ctx->node;
    struct crypto_eckey k;
    const char *why;
    int priv, rc;

    rc = crypto_key_parse(buf, n, &k, &priv, &why);
    crypto_wipe(buf, n);
    if (rc == 0 && !priv) {
        rc = -EINVAL;
        why = "a public key: import needs the private key";
    }
    if (rc != 0) {
        cmd_err(ctx, "%s: '%s': %s; nothing written", cmd, what, why);
        return rc;
    }
    if (node->store_rc != 0) {
        crypto_wipe(&k, sizeof(k));
        cmd_err(ctx, "%s: store not mounted; nothing written", cmd);
        return -EIO;
    }
    rc = identity_new(&node->id, &k);
    crypto_wipe(&k, sizeof(k));
    if (rc != 0) {
        cmd_err(ctx, "%s: %s", cmd, node->id.why);
        return rc;
    }
    cmd_printf(ctx, "imported: generation %" PRIu32 "\n", node->id.gen);
    return 0;
}

static int
h_import(struct cmd_ctx *ctx, int argc, char **argv)
{
    uint8_t buf[CRYPTO_KEYFILE_MAX];
    int n;

    (void)argc;
    n = read_small(ctx, "id import", argv[0], buf, sizeof(buf), "key file");
    if (n < 0)
        return n;
    return node_id_import_key(ctx, "id import", argv[0], buf, (size_t)n);
}

static int
h_new(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    int rc;

    if (argc != 1 || strcmp(argv[0], "--force") != 0) {
        cmd_err(ctx, "id new: replacing the identity cannot be undone; "
                     "type 'id new --force'");
        return -EINVAL;
    }
    if (node->store_rc != 0) {
        cmd_err(ctx, "id new: store not mounted; nothing written");
        return -EIO;
    }
    rc = identity_new(&node->id, NULL);
    if (rc != 0) {
        cmd_err(ctx, "id new: %s", node->id.why);
        return rc;
    }
    cmd_printf(ctx, "new identity: generation %" PRIu32 "\n", node->id.gen);
    return 0;
}

const struct cmd node_id_cmds[] = {
    {"show", 0, 0, CMD_JSON, "[--json]",
     "fingerprint, algorithm, creation time, rotation state and window", h_show,
     NULL},
    {"export", 0, 1, 0, "[FILE|--ymodem]",
     "the public key as PEM (SPKI): shown, to a file, or sent by YMODEM",
     h_export, NULL},
    {"sign", 1, 4, 0, "FILE|--hex HEX [--out SIG.der]",
     "sign SHA-256 of the data; DER signature as hex or to a file", h_sign,
     NULL},
    {"verify", 2, 5, 0, "[--hex] DATA SIG [--key KEY.pem]",
     "verify a DER signature with this node's keys or a given key", h_verify,
     NULL},
    {"rotate", 0, 2, CMD_PRIV, "[--window DAYS]",
     "new key, statement signed by both; old key verifies during the window",
     h_rotate, NULL},
    {"import", 1, 1, CMD_PRIV, "FILE",
     "replace the identity with a PEM/DER private key (prime256v1)", h_import,
     NULL},
    {"receive", 0, 0, CMD_PRIV, "",
     "import a private key sent over the console by YMODEM", node_id_receive,
     NULL},
    {"new", 0, 1, CMD_PRIV, "--force", "replace the identity with a new key",
     h_new, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};
