/*
 * node/cmds_chain.c - the `chain` commands: info, verify, import,
 * export, trim, checkpoint, reset.
 *
 * `chain verify` works in bounded steps (node/jobs.c): on an interactive
 * console it runs in the background, a step per pass of the main loop,
 * so every other command keeps answering; in a script it runs the same
 * steps to the end before the next line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "hal/file.h"
#include "node/files.h"
#include "console/progress.h"
#include "node/node.h"

/* An import looks at the console and the timers this often, and prints
 * its progress this often once it has run that long. */
#define CHAIN_IMPORT_POLL_MS 50
#define CHAIN_IMPORT_PROGRESS_MS 1000

static int
need_chain(struct cmd_ctx *ctx)
{
    struct node *node = ctx->node;

    if (node->chain_rc != 0) {
        cmd_err(ctx, "chain: not available (%s)",
                node->chain.why[0] ? node->chain.why
                                   : strerror(-node->chain_rc));
        return -EIO;
    }
    return 0;
}

static int
h_info(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct chain *c = &node->chain;
    char wh[65];
    struct trailer t;
    int rc = need_chain(ctx);

    (void)argc;
    (void)argv;
    if (rc != 0)
        return rc;
    chain_weight_hex(&c->w, wh);
    if (c->count > 0)
        trailer_decode(c->tip, &t);
    if (ctx->json) {
        cmd_printf(ctx, "{\"profile\":");
        if (c->pf)
            cmd_json_str(ctx, c->pf->name);
        else
            cmd_printf(ctx, "null");
        cmd_printf(ctx, ",\"checkpoint\":");
        if (c->from_checkpoint) {
            cmd_printf(ctx, "{\"bnum\":%" PRIu64 "}", c->origin);
        } else {
            cmd_printf(ctx, "null");
        }
        cmd_printf(ctx, ",\"count\":%" PRIu64, c->count);
        if (c->count > 0) {
            cmd_printf(ctx,
                       ",\"first\":%" PRIu64 ",\"tip\":%" PRIu64
                       ",\"tip_hash\":\"",
                       c->base, chain_tip_bnum(c));
            cmd_hex(ctx, t.bhash, 32);
            cmd_printf(ctx, "\",\"difficulty\":%u,\"next_difficulty\":%u",
                       t.difficulty & 0xff,
                       chain_next_difficulty(c->pf, &t) & 0xff);
        }
        cmd_printf(ctx, ",\"weight\":\"%s\"}\n", wh);
        return 0;
    }
    if (c->pf == NULL) {
        cmd_printf(ctx, "chain:      none yet ('chain import FILE', or "
                        "'chain checkpoint' first)\n");
        return 0;
    }
    cmd_printf(ctx, "profile:    %s\n", c->pf->name);
    if (c->from_checkpoint)
        cmd_printf(ctx,
                   "checkpoint: bnum %" PRIu64 " (history before it is "
                   "trusted, not stored)\n",
                   c->origin);
    else
        cmd_printf(ctx, "checkpoint: none (from genesis)\n");
    if (c->base > c->origin)
        cmd_printf(ctx,
                   "trimmed:    history before %" PRIu64
                   " dropped, its weight kept\n",
                   c->base);
    if (c->count == 0) {
        cmd_printf(ctx, "stored:     nothing yet\n");
        return 0;
    }
    cmd_printf(ctx,
               "stored:     %" PRIu64 " .. %" PRIu64 " (%" PRIu64
               " trailers)\ntip:        %" PRIu64 " ",
               c->base, chain_tip_bnum(c), c->count, chain_tip_bnum(c));
    cmd_hex(ctx, t.bhash, 32);
    cmd_printf(ctx, "\nweight:     %s\ndifficulty: %u (next %u)\n", wh,
               t.difficulty & 0xff, chain_next_difficulty(c->pf, &t) & 0xff);
    return 0;
}

/* ---- verify, in steps ---- */

static int
h_verify(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct chain *c = &node->chain;
    struct chain_job *j = &node->verify;
    int rc = need_chain(ctx);

    if (rc != 0)
        return rc;
    if (argc == 1 && strcmp(argv[0], "--pow") != 0) {
        cmd_err(ctx, "chain verify: usage: chain verify [--pow]");
        return -EINVAL;
    }
    if (j->active) {
        progress_line(&j->bar, ctx, j->next - c->base, hal_clock_ms());
        return 0;
    }
    if (c->count == 0) {
        cmd_printf(ctx, "chain verify: nothing stored\n");
        return 0;
    }
    memset(j, 0, sizeof(*j));
    j->pow = argc == 1;
    j->next = c->base + 1;
    j->end = chain_tip_bnum(c);
    j->w = c->base_w;
    j->t0 = hal_clock_ms();
    progress_begin(&j->bar, ctx, "chain verify", "trailers", c->count, 0,
                   j->t0);
    rc = chain_read(c, c->base, j->prev);
    if (rc != 0) {
        cmd_err(ctx, "chain verify: the base trailer is unreadable");
        return rc;
    }
    j->active = 1;
    if (node->con.interactive) {
        cmd_printf(ctx, "chain verify: started in the background; 'chain "
                        "verify' again shows how far it is\n");
        return 0;
    }
    while (!node_chain_verify_step(node, ctx))
        ;
    return j->bad ? -EBADMSG : 0;
}

/* ---- import, export ---- */

/*
 * The import reads the file through this callback, which is also where
 * a long import keeps the node alive: every CHAIN_IMPORT_POLL_MS it runs
 * the node's timers and looks for a Ctrl-C (node_poll()), and every
 * CHAIN_IMPORT_PROGRESS_MS it prints how far it is.
 *
 * Ctrl-C makes the next read fail, which ends chain_import() -- but
 * only while the stored chain is still exactly as it was before the
 * import (count, base and tip): a read fails harmlessly until the
 * import starts to commit, never after (a reorg's truncation, or a
 * batch appended).  A Ctrl-C that comes later is answered with a note,
 * and the import finishes.  So a cancelled import has committed
 * nothing, whatever chain_import() does inside.
 */
struct import_io {
    struct hal_file f;
    struct node *node;
    struct cmd_ctx *ctx;
    uint64_t t0, polled, printed;
    struct progress bar;  /* shown once the import has run a second */
    uint64_t count, base; /* the stored chain before the import */
    uint8_t tip[TRAILER_LEN];
    int cancelled; /* 1: Ctrl-C honoured; 2: Ctrl-C too late */
};

static int
chain_untouched(const struct import_io *io)
{
    const struct chain *c = &io->node->chain;

    return c->count == io->count && c->base == io->base &&
           (c->count == 0 || memcmp(c->tip, io->tip, TRAILER_LEN) == 0);
}

static int
import_read_at(void *arg, uint64_t off, void *buf, size_t len)
{
    struct import_io *io = arg;
    uint64_t now = hal_clock_ms();

    if (io->cancelled == 1)
        return -ECANCELED;
    if (now - io->polled >= CHAIN_IMPORT_POLL_MS) {
        io->polled = now;
        if (node_poll(io->node) && io->cancelled == 0) {
            if (chain_untouched(io)) {
                io->cancelled = 1;
                return -ECANCELED;
            }
            io->cancelled = 2;
            cmd_printf(io->ctx, "chain import: Ctrl-C: already committing; "
                                "finishing\n");
        }
    }
    if (now - io->t0 >= CHAIN_IMPORT_PROGRESS_MS) {
        if (io->printed == 0)
            progress_begin(&io->bar, io->ctx, "chain import", "trailers",
                           io->f.size / TRAILER_LEN, io->node->con.interactive,
                           io->t0);
        io->printed = 1;
        progress_update(&io->bar, off / TRAILER_LEN, now);
    }
    return hal_file_read_at(&io->f, off, buf, len) == 0 ? 0 : -EIO;
}

static int
h_import(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct import_io io;
    struct node *node = ctx->node;
    struct chain *c = &node->chain;
    struct chain_import_res r;
    struct chain_opts o = {0, 1};
    char why[HAL_FILE_PATH_MAX + 96];
    unsigned trims0;
    int rc = need_chain(ctx);

    (void)argc;
    if (rc != 0)
        return rc;
    if (node->verify.active) {
        cmd_err(ctx, "chain import: a verify is running; wait for it");
        return -EBUSY;
    }
    if (node->sync.rx_open) {
        cmd_err(ctx, "chain import: a sync is storing trailers; wait for it "
                     "('sync status')");
        return -EBUSY;
    }
    memset(&io, 0, sizeof(io));
    rc = node_file_open(&io.f, argv[0], NODE_FILE_ANY, "tfile", why,
                        sizeof(why));
    if (rc != 0) {
        cmd_err(ctx, "chain import: %s; nothing committed", why);
        return rc;
    }
    io.node = node;
    io.ctx = ctx;
    io.t0 = io.polled = hal_clock_ms();
    io.printed = 0;
    io.count = c->count;
    io.base = c->base;
    memcpy(io.tip, c->tip, TRAILER_LEN);
    o.now = hal_clock_wall();
    trims0 = c->auto_trims;
    rc = chain_import(c, io.f.size, import_read_at, &io, &o, &r);
    hal_file_close(&io.f);
    if (io.printed)
        progress_end(&io.bar, r.records, hal_clock_ms());
    if (io.cancelled == 1) {
        cmd_err(ctx, "chain import: cancelled (Ctrl-C); nothing committed");
        return -ECANCELED;
    }
    if (rc != 0) {
        cmd_err(ctx, "chain import: %s; nothing committed", c->why);
        return rc;
    }
    return node_chain_report(ctx, "chain import", "file", &r, trims0, io.t0);
}

int
node_chain_report(struct cmd_ctx *ctx, const char *cmd, const char *what,
                  const struct chain_import_res *r, unsigned trims0,
                  uint64_t t0)
{
    struct node *node = ctx->node;
    struct chain *c = &node->chain;

    if (r->bad != CHAIN_OK)
        cmd_printf(ctx, "%s: trailer %" PRIu64 " is invalid: %s\n", cmd,
                   r->bad_bnum, chain_reason_str(r->bad));
    if (r->damaged > 0)
        cmd_printf(ctx, "%s: %u stored trailer%s unreadable%s%s%s\n", cmd,
                   r->damaged, r->damaged == 1 ? " was" : "s were",
                   r->replaced ? "; rewritten from the " : "",
                   r->replaced ? what : "",
                   r->replaced ? ""
                               : "; not rewritten (the branch is lighter, "
                                 "or it is the base: 'chain trim' past it)");
    if (c->auto_trims != trims0)
        cmd_printf(ctx,
                   "%s: the log was full: history before %" PRIu64
                   " was dropped to make room\n",
                   cmd, c->base);
    if (c->state_stale)
        cmd_printf(ctx,
                   "%s: warning: the chain state could not be saved "
                   "(store full?); the trailers are committed and the "
                   "state is computed again at the next start\n",
                   cmd);
    if (r->kept && r->appended == 0)
        cmd_printf(ctx,
                   "%s: %" PRIu64 " trailers read; the stored chain is as "
                   "heavy or heavier (common up to %" PRIu64 "), kept\n",
                   cmd, r->records, r->fork);
    else
        cmd_printf(ctx,
                   "%s: %" PRIu64 " trailers read, %" PRIu64
                   " committed%s; tip %" PRIu64 " (%.2f s)\n",
                   cmd, r->records, r->appended,
                   r->replaced ? " (a heavier fork replaced the stored one)"
                               : "",
                   c->count > 0 ? chain_tip_bnum(c) : 0,
                   (double)(hal_clock_ms() - t0) / 1e3);
    if (r->bad != CHAIN_OK) {
        /* Not "nothing past bnum - 1": at trailer 0 (a genesis
         * mismatch) that would be 2^64-1. */
        if (r->appended == 0)
            cmd_err(ctx,
                    "%s: stopped at trailer %" PRIu64 " (%s); nothing "
                    "committed",
                    cmd, r->bad_bnum, chain_reason_str(r->bad));
        else
            cmd_err(ctx,
                    "%s: stopped at trailer %" PRIu64 " (%s); nothing past "
                    "%" PRIu64 " committed",
                    cmd, r->bad_bnum, chain_reason_str(r->bad),
                    r->bad_bnum - 1);
        return -EBADMSG;
    }
    return 0;
}

/* The stored trailers, in order, for YMODEM. */
struct tf_src {
    struct chain *c;
    uint64_t next;
    uint8_t t[TRAILER_LEN];
    size_t off;
};

static int
tf_read(void *arg, uint8_t *p, size_t n)
{
    struct tf_src *s = arg;
    size_t got = 0;
    int rc;

    while (got < n) {
        size_t k;

        if (s->off == TRAILER_LEN) {
            if (s->next > chain_tip_bnum(s->c))
                break;
            rc = chain_read(s->c, s->next++, s->t);
            if (rc != 0)
                return rc;
            s->off = 0;
        }
        k = TRAILER_LEN - s->off;
        if (k > n - got)
            k = n - got;
        memcpy(p + got, s->t + s->off, k);
        s->off += k;
        got += k;
    }
    return (int)got;
}

static int
h_export(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct chain *c = &node->chain;
    struct hal_file_new w;
    uint8_t t[TRAILER_LEN];
    char why[HAL_FILE_PATH_MAX + 96];
    int rc = need_chain(ctx);

    (void)argc;
    if (rc != 0)
        return rc;
    if (c->count == 0) {
        cmd_err(ctx, "chain export: nothing stored");
        return -ENOENT;
    }
    if (strcmp(argv[0], "--ymodem") == 0) {
        struct tf_src s = {c, c->base, {0}, TRAILER_LEN};

        return node_ymodem_send(ctx, "chain export", "tfile.dat",
                                c->count * TRAILER_LEN, tf_read, &s);
    }
    rc = node_file_create(&w, argv[0], why, sizeof(why));
    if (rc != 0) {
        cmd_err(ctx, "chain export: %s", why);
        return rc;
    }
    for (uint64_t b = c->base; b <= chain_tip_bnum(c) && rc == 0; b++) {
        rc = chain_read(c, b, t);
        if (rc != 0) {
            hal_file_abort(&w);
            cmd_err(ctx,
                    "chain export: trailer %" PRIu64 " unreadable: %s; "
                    "'%s' not written",
                    b, strerror(-rc), argv[0]);
            return rc;
        }
        rc = hal_file_write(&w, t, TRAILER_LEN);
    }
    if (rc != 0)
        hal_file_abort(&w);
    else
        rc = hal_file_commit(&w);
    if (rc != 0) {
        cmd_err(ctx, "chain export: cannot write '%s': %s", argv[0],
                strerror(-rc));
        return rc;
    }
    cmd_printf(ctx,
               "chain export: %" PRIu64 " trailers (%" PRIu64 " .. %" PRIu64
               ") to %s%s\n",
               c->count, c->base, chain_tip_bnum(c), argv[0],
               c->base > 0 ? "; the file starts at the base, not at genesis"
                           : "");
    return 0;
}

static int
h_trim(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct chain *c = &node->chain;
    uint64_t b;
    int rc = need_chain(ctx);

    (void)argc;
    if (rc != 0)
        return rc;
    if (node->verify.active) {
        cmd_err(ctx, "chain trim: a verify is running; wait for it");
        return -EBUSY;
    }
    if (cmd_parse_u64(argv[0], UINT64_MAX, &b) != 0) {
        cmd_err(ctx, "chain trim: '%s' is not a block number", argv[0]);
        return -EINVAL;
    }
    rc = chain_trim(c, b);
    if (rc != 0) {
        cmd_err(ctx, "chain trim: %s", c->why);
        return rc;
    }
    cmd_printf(ctx, "chain trim: keeping %" PRIu64 " .. %" PRIu64 "\n", c->base,
               chain_tip_bnum(c));
    return 0;
}

static int
h_checkpoint(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    const struct chain_profile *pf;
    struct chain_weight w;
    uint8_t bh[32], wb[32];
    uint64_t b;
    int rc = need_chain(ctx);

    (void)argc;
    if (rc != 0)
        return rc;
    pf = chain_profile_find(argv[0]);
    if (pf == NULL || cmd_parse_u64(argv[1], UINT64_MAX, &b) != 0 ||
        cmd_unhex(argv[2], bh, 32) != 32 || cmd_unhex(argv[3], wb, 32) != 32) {
        cmd_err(ctx, "chain checkpoint: usage: chain checkpoint "
                     "mainnet|testnet BNUM BHASH(64 hex) WEIGHT(64 hex)");
        return -EINVAL;
    }
    for (int i = 0; i < 8; i++)
        w.w[i] = (uint32_t)wb[31 - 4 * i] | (uint32_t)wb[30 - 4 * i] << 8 |
                 (uint32_t)wb[29 - 4 * i] << 16 |
                 (uint32_t)wb[28 - 4 * i] << 24;
    rc = chain_set_checkpoint(&node->chain, pf, b, bh, &w);
    if (rc != 0) {
        cmd_err(ctx, "chain checkpoint: %s", node->chain.why);
        return rc;
    }
    cmd_printf(ctx,
               "chain checkpoint: %s from bnum %" PRIu64
               "; import a tfile that reaches it\n",
               pf->name, b);
    return 0;
}

static int
h_reset(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    int rc;

    if (argc != 1 || strcmp(argv[0], "--force") != 0) {
        cmd_err(ctx, "chain reset: drops the whole stored chain; say "
                     "'chain reset --force'");
        return -EINVAL;
    }
    if (node->clog_rc != 0) {
        cmd_err(ctx, "chain reset: the chain log is not mounted (%s)",
                strerror(-node->clog_rc));
        return -EIO;
    }
    if (node->verify.active) {
        cmd_err(ctx, "chain reset: a verify is running; wait for it");
        return -EBUSY;
    }
    node->chain.log = &node->clog;
    node->chain.st = &node->store;
    rc = chain_reset(&node->chain);
    if (rc != 0) {
        cmd_err(ctx, "chain reset: %s", node->chain.why);
        return rc;
    }
    node->chain_rc = 0;
    node->degraded &= ~NODE_DEG_CHAIN;
    cmd_printf(ctx, "chain reset: no chain stored; import a tfile or set a "
                    "checkpoint\n");
    return 0;
}

const struct cmd node_chain_cmds[] = {
    {"info", 0, 0, CMD_JSON, "[--json]",
     "profile, checkpoint, stored range, tip, weight, difficulty", h_info,
     NULL},
    {"verify", 0, 1, 0, "[--pow]",
     "revalidate what is stored (with proofs of work: --pow), in steps",
     h_verify, NULL},
    {"import", 1, 1, CMD_PRIV, "FILE",
     "validate a tfile.dat and take it if it is heavier", h_import, NULL},
    {"receive", 0, 0, CMD_PRIV, "",
     "take a tfile.dat sent over the console by YMODEM, as 'import' does",
     node_chain_receive, NULL},
    {"export", 1, 1, 0, "FILE|--ymodem",
     "write the stored chain as a tfile.dat, or send it by YMODEM", h_export,
     NULL},
    {"trim", 1, 1, CMD_PRIV, "BNUM", "keep only history from BNUM on", h_trim,
     NULL},
    {"checkpoint", 4, 4, CMD_PRIV, "PROFILE BNUM BHASH WEIGHT",
     "start an empty device at a trusted checkpoint", h_checkpoint, NULL},
    {"reset", 0, 1, CMD_PRIV, "--force",
     "drop the stored chain (a wrong network, a state beyond repair)", h_reset,
     NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};
