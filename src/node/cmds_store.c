/*
 * node/cmds_store.c - the `store` commands: stat, check, scrub, keys,
 * get, put, del.  (Mounting the storage at start is bringup.c's.)
 *
 * Keys whose names start with "sec." hold secrets (identity keys); the
 * console never shows or changes them.  Keys of the node's own modules
 * (NODE_INTERNAL_PREFIXES: trust state, chain, identity, ...) may be
 * read but never written or deleted from the console, except the few
 * settings listed in node_settings; and console keys may never take the
 * room the internal ones need (NODE_STORE_RESERVE_*).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "node/node.h"

#define SECRET_PREFIX "sec."

/* Prefixes of the keys modules keep (the next modules' included). */
static const char *const internal_prefixes[] = {
    "sec.", "upd.",  "chain.", "clog.", "id.",
    "net.", "peer.", "sync.",  "log.",  "op.",
};

/* Internal-looking keys that are settings an operator may change. */
static const char *const node_settings[] = {
    "id.window_days",
};

/* Room kept for internal keys: console keys stop short of it. */
#define NODE_STORE_RESERVE_KEYS 64
#define NODE_STORE_RESERVE_BYTES (256u * 1024)
#define NODE_STORE_REC_OVERHEAD 64 /* per record, a generous bound */

static int
need_store(struct cmd_ctx *ctx)
{
    struct node *node = ctx->node;

    if (node->store_rc != 0) {
        cmd_err(ctx, "store: not mounted (%s)", strerror(-node->store_rc));
        return -EIO;
    }
    return 0;
}

/* The store is mounted and key is not a secret: 0, or an error told. */
static int
public_key(struct cmd_ctx *ctx, const char *key)
{
    int rc = need_store(ctx);

    if (rc != 0)
        return rc;
    if (strncmp(key, SECRET_PREFIX, strlen(SECRET_PREFIX)) == 0) {
        cmd_err(ctx,
                "store: '%s' holds a secret and is not shown or "
                "changed from the console",
                key);
        return -EPERM;
    }
    return 0;
}

int
node_store_key_internal(const char *key)
{
    for (size_t i = 0; i < sizeof(node_settings) / sizeof(node_settings[0]);
         i++)
        if (strcmp(key, node_settings[i]) == 0)
            return 0;
    for (size_t i = 0;
         i < sizeof(internal_prefixes) / sizeof(internal_prefixes[0]); i++)
        if (strncmp(key, internal_prefixes[i], strlen(internal_prefixes[i])) ==
            0)
            return 1;
    return 0;
}

/* A key the console may write or delete: public and not internal. */
static int
console_key(struct cmd_ctx *ctx, const char *verb, const char *key)
{
    int rc = public_key(ctx, key);

    if (rc != 0)
        return rc;
    if (node_store_key_internal(key)) {
        cmd_err(ctx,
                "store %s: '%s' belongs to the node (trust state, chain, "
                "identity, ...) and is not changed from the console; use "
                "the module's own commands",
                verb, key);
        return -EPERM;
    }
    return 0;
}

/* Would writing key (len bytes) from the console eat into the room kept
 * for internal keys?  0, or -ENOSPC told. */
static int
console_room(struct cmd_ctx *ctx, const char *key, size_t len)
{
    struct node *node = ctx->node;
    struct store_stat st;
    uint8_t probe[1];
    int exists = store_get(&node->store, key, probe, 0) != -ENOENT;
    uint64_t reserve;
    uint32_t console_keys;

    store_stat(&node->store, &st);
    {
        const char *k;
        size_t n;

        console_keys = 0;
        for (unsigned i = 0; store_key_at(&node->store, i, &k, &n) == 0; i++)
            console_keys += !node_store_key_internal(k);
    }
    reserve = st.capacity_bytes / 4 < NODE_STORE_RESERVE_BYTES
                  ? st.capacity_bytes / 4
                  : NODE_STORE_RESERVE_BYTES;
    if (!exists && console_keys + NODE_STORE_RESERVE_KEYS >= STORE_KEYS_MAX) {
        cmd_err(ctx,
                "store put %s: the console may keep at most %d keys (%d "
                "are kept for the node's own); delete one first",
                key, STORE_KEYS_MAX - NODE_STORE_RESERVE_KEYS,
                NODE_STORE_RESERVE_KEYS);
        return -ENOSPC;
    }
    if (st.live_bytes + strlen(key) + len + NODE_STORE_REC_OVERHEAD + reserve >
        st.capacity_bytes) {
        cmd_err(ctx,
                "store put %s: the store is full for console keys (%" PRIu64
                " bytes are kept for the node's own); delete keys first",
                key, reserve);
        return -ENOSPC;
    }
    return 0;
}

static const char *
errtext(int rc)
{
    switch (rc) {
    case -ENOENT:
        return "no such key";
    case -EBADMSG:
        return "its record is corrupt (counted; see 'store check')";
    case -ENOSPC:
        return "the store is full (delete keys to make room)";
    case -EINVAL:
        return "bad key or value (keys: 1-32 printable characters, "
               "no spaces; values: up to 4096 bytes)";
    case -EIO:
        return "flash I/O error";
    default:
        return strerror(-rc);
    }
}

static int
h_stat(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct store_stat st;
    int rc = need_store(ctx);

    (void)argc;
    (void)argv;
    if (rc != 0)
        return rc;
    store_stat(&node->store, &st);
    const struct clog *l = &node->clog;
    const struct ctl *c = &node->ctl;
    uint32_t lsegs = node->clog_rc == 0 ? l->nsegs : 0;
    int copies = (c->valid[0] != 0) + (c->valid[1] != 0);

    if (ctx->json) {
        cmd_printf(ctx,
                   "{\"store\":{\"sectors\":%" PRIu32
                   ",\"sector_size\":%" PRIu32 ",\"used\":%" PRIu32
                   ",\"free\":%" PRIu32 ",\"live_bytes\":%" PRIu64
                   ",\"dead_bytes\":%" PRIu64 ",\"capacity_bytes\":%" PRIu64
                   ",\"keys\":%" PRIu32 ",\"erase_min\":%" PRIu32
                   ",\"erase_max\":%" PRIu32 ",\"bad_records\":%" PRIu32
                   ",\"bad_headers\":%" PRIu32 ",\"compactions\":%" PRIu32
                   ",\"mount_ms\":%" PRIu64 "},",
                   st.sectors, st.sector_size, st.sectors_used, st.sectors_free,
                   st.live_bytes, st.dead_bytes, st.capacity_bytes, st.keys,
                   st.erase_min, st.erase_max, st.bad_records, st.bad_headers,
                   st.compactions, st.mount_ms);
        cmd_printf(ctx,
                   "\"chain\":{\"mounted\":%s,\"blocks\":%" PRIu32
                   ",\"slots\":%" PRIu32 ",\"first\":%" PRIu32
                   ",\"end\":%" PRIu32 ",\"runs\":%" PRIu32
                   ",\"scanned_at_mount\":%" PRIu32 ",\"bad\":%" PRIu32 "},",
                   node->clog_rc == 0 ? "true" : "false", lsegs,
                   node->clog_rc == 0 ? l->npages * l->per_page : 0, l->first,
                   l->end, l->nruns, l->scanned, l->bad);
        cmd_printf(ctx,
                   "\"bootctl\":{\"valid_copies\":%d,\"seq\":%" PRIu32
                   ",\"bad\":%" PRIu32 ",\"mirror_failed\":%" PRIu32 "}}\n",
                   copies, c->newest < 0 ? 0 : c->seq, c->bad,
                   c->mirror_failed);
        return 0;
    }
    cmd_printf(ctx,
               "store:   %" PRIu32 " sectors of %" PRIu32 " KiB, %" PRIu32
               " used, %" PRIu32 " free; %" PRIu32 " keys\n",
               st.sectors, st.sector_size / 1024, st.sectors_used,
               st.sectors_free, st.keys);
    cmd_printf(ctx,
               "         live %" PRIu64 " B, dead %" PRIu64
               " B, capacity %" PRIu64 " B; erases min %" PRIu32 " max %" PRIu32
               "\n",
               st.live_bytes, st.dead_bytes, st.capacity_bytes, st.erase_min,
               st.erase_max);
    cmd_printf(ctx,
               "         %" PRIu32 " bad records, %" PRIu32
               " damaged headers, %" PRIu32
               " compactions since mount, mounted in %" PRIu64 " ms\n",
               st.bad_records, st.bad_headers, st.compactions, st.mount_ms);
    if (node->clog_rc == 0)
        cmd_printf(ctx,
                   "chain:   %" PRIu32 " blocks, %" PRIu32
                   " slots; records %" PRIu32 "..%" PRIu32 " (%" PRIu32
                   "), %" PRIu32 " runs; mount read %" PRIu32 " slots; %" PRIu32
                   " bad\n",
                   l->nsegs, l->npages * l->per_page, l->first, l->end,
                   l->end - l->first, l->nruns, l->scanned, l->bad);
    else
        cmd_printf(ctx, "chain:   not mounted (%s)\n",
                   strerror(-node->clog_rc));
    cmd_printf(ctx,
               "bootctl: %d of 2 copies valid, sequence %" PRIu32 ", %" PRIu32
               " bad, %" PRIu32 " second-copy writes failed since start\n",
               copies, c->newest < 0 ? 0 : c->seq, c->bad, c->mirror_failed);
    return 0;
}

static void
report_bad(void *arg, uint32_t sector, uint32_t off)
{
    if (off == 0)
        cmd_printf(arg, "bad: store sector %" PRIu32 " header damaged\n",
                   sector);
    else
        cmd_printf(arg, "bad: store sector %" PRIu32 " offset %" PRIu32 "\n",
                   sector, off);
}

static int
h_check(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    uint8_t rec[CLOG_REC], buf[CTL_PAYLOAD_MAX];
    int bad, rc = need_store(ctx);
    uint32_t chain_bad = 0;

    (void)argc;
    (void)argv;
    if (rc != 0)
        return rc;
    bad = store_check(&node->store, report_bad, ctx);
    if (bad < 0) {
        cmd_err(ctx, "store check: %s", errtext(bad));
        return bad;
    }
    if (node->clog_rc == 0) {
        for (uint32_t i = node->clog.first; i < node->clog.end; i++) {
            rc = clog_read(&node->clog, i, rec);
            if (rc != 0) {
                chain_bad++;
                cmd_printf(ctx, "bad: chain record %" PRIu32 ": %s\n", i,
                           errtext(rc));
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (!node->ctl.valid[i] && node->ctl.newest >= 0)
            cmd_printf(ctx,
                       "note: bootctl copy %d is not valid (the "
                       "next write repairs it)\n",
                       i);
    if (node->ctl.newest >= 0 && ctl_read(&node->ctl, buf, sizeof(buf)) < 0) {
        cmd_printf(ctx, "bad: bootctl newest copy no longer verifies\n");
        bad++;
    }
    if (chain_bad > 0)
        node_degrade(node, NODE_DEG_CHAIN);
    cmd_printf(ctx,
               "store check: %d bad store records, %" PRIu32
               " bad chain records\n",
               bad, chain_bad);
    if (bad > 0)
        cmd_printf(ctx,
                   "note: a bad store record may be damage a repair already "
                   "replaced (the identity repairs its copies) or the newest "
                   "value of a key that now reads its older one; 'store "
                   "scrub' compacts the damaged records away for good\n");
    return bad == 0 && chain_bad == 0 ? 0 : -EBADMSG;
}

static int
h_scrub(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    int rc = need_store(ctx);

    (void)argc;
    (void)argv;
    if (rc != 0)
        return rc;
    rc = store_scrub(&node->store);
    if (rc < 0) {
        cmd_err(ctx, "store scrub: %s", errtext(rc));
        return rc;
    }
    cmd_printf(ctx,
               "store scrub: %d sector%s compacted; damaged records "
               "are gone\n",
               rc, rc == 1 ? "" : "s");
    return 0;
}

static int
h_keys(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    const char *key;
    size_t len;
    int rc = need_store(ctx);

    (void)argc;
    (void)argv;
    if (rc != 0)
        return rc;
    if (ctx->json)
        cmd_printf(ctx, "{\"keys\":[");
    for (unsigned i = 0; store_key_at(&node->store, i, &key, &len) == 0; i++) {
        if (ctx->json) {
            cmd_printf(ctx, "%s{\"key\":", i ? "," : "");
            cmd_json_str(ctx, key);
            cmd_printf(ctx, ",\"len\":%zu}", len);
        } else {
            cmd_printf(ctx, "%-32s %5zu\n", key, len);
        }
    }
    if (ctx->json)
        cmd_printf(ctx, "]}\n");
    return 0;
}

static int
h_get(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    uint8_t v[STORE_VAL_MAX];
    int printable = 1, n, rc = public_key(ctx, argv[0]);

    (void)argc;
    if (rc != 0)
        return rc;
    n = store_get(&node->store, argv[0], v, sizeof(v));
    if (n < 0) {
        cmd_err(ctx, "store get %s: %s", argv[0], errtext(n));
        return n;
    }
    for (int i = 0; i < n; i++)
        printable &= v[i] >= 0x20 && v[i] < 0x7f;
    if (printable) {
        cmd_printf(ctx, "%.*s\n", n, (const char *)v);
        return 0;
    }
    cmd_printf(ctx, "hex:");
    for (int i = 0; i < n; i++)
        cmd_printf(ctx, "%02x", v[i]);
    cmd_printf(ctx, "\n");
    return 0;
}

static int
h_put(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    int rc = console_key(ctx, "put", argv[0]);

    (void)argc;
    if (rc == 0)
        rc = console_room(ctx, argv[0], strlen(argv[1]));
    if (rc != 0)
        return rc;
    rc = store_put(&node->store, argv[0], argv[1], strlen(argv[1]));
    if (rc != 0)
        cmd_err(ctx, "store put %s: %s", argv[0], errtext(rc));
    return rc;
}

static int
h_del(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    int rc = console_key(ctx, "del", argv[0]);

    (void)argc;
    if (rc != 0)
        return rc;
    rc = store_del(&node->store, argv[0]);
    if (rc != 0)
        cmd_err(ctx, "store del %s: %s", argv[0], errtext(rc));
    return rc;
}

const struct cmd node_store_cmds[] = {
    {"stat", 0, 0, CMD_JSON, "[--json]",
     "per partition: blocks used/free, live and dead bytes, erase counts, "
     "records, mount time",
     h_stat, NULL},
    {"check", 0, 0, 0, "",
     "read and verify every record; lists bad ones, fails if any", h_check,
     NULL},
    {"scrub", 0, 0, CMD_PRIV, "",
     "compact away damaged records (after 'store check' and any repair)",
     h_scrub, NULL},
    {"keys", 0, 0, CMD_JSON, "[--json]", "list keys and value lengths", h_keys,
     NULL},
    {"get", 1, 1, 0, "KEY", "show a key's value (text, or hex:...)", h_get,
     NULL},
    {"put", 2, 2, CMD_PRIV, "KEY VALUE", "set a key to a text value (atomic)",
     h_put, NULL},
    {"del", 1, 1, CMD_PRIV, "KEY", "delete a key", h_del, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};
