/*
 * node/cmds_xfer.c - files over the console line by YMODEM
 * (console/ymodem.h): `update receive` streams a bundle into
 * update_install() (the manifest is verified before a slot is touched,
 * each chunk before it is written; a refusal cancels the sender),
 * `id receive` and `update keyring receive` take a small file into a
 * bounded buffer, `chain receive` streams a tfile into the chain as it
 * arrives (chain_rx_*), and `log export` sends the log.
 *
 * During a transfer the line is 8-bit clean (hal_console_binary), no
 * log line reaches the console (klog_quiet; they still go to the log),
 * no prompt is drawn, and the node's timers and links keep running
 * (the poll callback) without reading the console.  The outcome is
 * printed after the line is given back.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console/ymodem.h"
#include "hal/clock.h"
#include "hal/sys.h"
#include "hal/watchdog.h"
#include "lib/klog.h"
#include "lib/why.h"
#include "node/node.h"

/* How long the line is left to go quiet after a transfer. */
#define XFER_QUIET_MS 500

static int
io_read(void *arg, uint8_t *p, size_t cap, int timeout_ms)
{
    struct node *node = arg;

    return hal_console_read(&node->con, p, cap, timeout_ms);
}

static int
io_write(void *arg, const uint8_t *p, size_t n)
{
    struct node *node = arg;

    return hal_console_write(&node->con, p, n);
}

static uint64_t
io_now(void *arg)
{
    (void)arg;
    return hal_clock_ms();
}

/* The node's timers and links, never the console. */
static int
io_poll(void *arg)
{
    struct node *node = arg;

    hal_watchdog_kick();
    net_poll(&node->net);
    node_update_tick(node);
    return 0;
}

static void
io_event(void *arg, const char *msg)
{
    (void)arg;
    klog(KLOG_DEBUG, "ymodem: %s", msg);
}

/* Sim board only (KEEL_TEST_HOOKS): KEEL_SIM_YMODEM_BLOCK_MS shortens
 * the per-block timeout, so a test of a stalled sender ends in seconds
 * rather than YMODEM_RETRIES x 10 s. */
static void
xfer_timing(struct ymodem_timing *tm)
{
#if KEEL_TEST_HOOKS
    const char *v = hal_sys_param("KEEL_SIM_YMODEM_BLOCK_MS");
    long ms = v != NULL ? strtol(v, NULL, 10) : 0;

    if (ms >= 100 && ms <= 60000)
        tm->block_ms = (uint32_t)ms;
#else
    (void)tm;
#endif
}

static void
line_take(struct node *node, struct ymodem_io *io)
{
    io->read = io_read;
    io->write = io_write;
    io->now_ms = io_now;
    io->poll = io_poll;
    io->arg = node;
    klog_quiet(1);
    (void)hal_console_binary(&node->con, 1);
}

/* Give the line back: first let it go quiet (what the sender still
 * sends is dropped, and its program has time to end and hand the port
 * back to the terminal, or the next lines would be lost to it), then
 * the console's mode and log lines. */
static void
line_give(struct node *node)
{
    uint64_t t0 = hal_clock_ms();
    uint8_t b[64];

    while (hal_clock_ms() - t0 < XFER_QUIET_MS &&
           hal_console_read(&node->con, b, sizeof(b), 50) >= 0)
        ;
    (void)hal_console_binary(&node->con, 0);
    klog_quiet(0);
}

/* ---- update receive ------------------------------------------------------ */

/* Block 0 arrived: the transfer's clock starts (not at the command,
 * which waits for the operator to start the sender). */
static int
rx_begin(void *arg, const char *name, uint64_t size)
{
    uint64_t *t0 = arg;

    (void)name;
    (void)size;
    *t0 = hal_clock_ms();
    return 0;
}

int
node_update_receive(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    uint64_t t0 = hal_clock_ms();
    struct ymodem_rx_ops ops = {
        .begin = rx_begin, .event = io_event, .arg = &t0};
    struct ymodem_io io;
    struct ymodem_pull pl;
    struct upd_src src;
    int rc, rc2;

    (void)argc;
    (void)argv;
    if (node->store_rc != 0 || node->ctl_rc != 0) {
        cmd_err(ctx, "update receive: storage not mounted; nothing received");
        return -EIO;
    }
    if (p2p_fetching(node)) {
        cmd_err(ctx, "update receive: a fetch from peers is writing the "
                     "inactive slot; wait for it or stop it ('update "
                     "fetch --cancel'); nothing received");
        return -EBUSY;
    }
    cmd_printf(ctx, "update receive: start the YMODEM upload now (e.g. "
                    "'sb BUNDLE' or 'sz --ymodem BUNDLE'); Ctrl-X x5 "
                    "cancels\n");
    line_take(node, &io);
    ymodem_pull_init(&pl, &io, &ops, node->part[NODE_PART_slot_a].size);
    xfer_timing(&pl.rx.tm);
    src.read = ymodem_pull_read;
    src.arg = &pl;
    rc = update_install(&node->upd, &src);
    rc2 = ymodem_pull_end(&pl, rc < 0 ? rc : 0, rc < 0 ? node->upd.why : NULL);
    line_give(node);
    if (rc < 0) {
        klog(KLOG_WARN, "update receive: refused: %s", node->upd.why);
        cmd_err(ctx, "update receive: %s (%s)", node->upd.why,
                pl.rx.why[0] ? pl.rx.why : "the sender was cancelled");
        return rc;
    }
    if (rc2 < 0) {
        cmd_err(ctx,
                "update receive: installed, but the transfer ended "
                "badly: %s",
                pl.rx.why);
        return rc2;
    }
    {
        const struct upd_manifest *m = &node->upd.man;
        uint64_t ms = hal_clock_ms() - t0;

        cmd_printf(ctx,
                   "received %s (%" PRIu64 " bytes in %.1f s, %u errors "
                   "recovered) and installed %" PRIu32 ".%" PRIu32 ".%" PRIu32
                   " (counter %" PRIu64 ") into slot %c; 'reboot' to try it\n",
                   pl.rx.name, pl.rx.got, (double)ms / 1e3,
                   (unsigned)pl.rx.errors, m->version.major, m->version.minor,
                   m->version.patch, m->counter, rc == 0 ? 'a' : 'b');
    }
    klog(KLOG_INFO, "update receive: %s installed from the console",
         pl.rx.name);
    return 0;
}

/* ---- small files into a buffer --------------------------------------------- */

struct small {
    uint8_t *buf;
    size_t cap, len;
};

static int
small_data(void *arg, const uint8_t *p, size_t n)
{
    struct small *s = arg;

    if (s->len + n > s->cap)
        return -EFBIG;
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    return 0;
}

/* Receive one file of at most cap bytes into buf: its length, or an
 * error (told). */
static int
receive_small(struct cmd_ctx *ctx, const char *cmd, uint8_t *buf, size_t cap)
{
    struct node *node = ctx->node;
    struct small s = {buf, cap, 0};
    struct ymodem_rx_ops ops = {
        .data = small_data, .event = io_event, .arg = &s};
    struct ymodem_io io;
    struct ymodem_rx rx;
    int rc;

    cmd_printf(ctx, "%s: start the YMODEM upload now (at most %zu bytes)\n",
               cmd, cap);
    line_take(node, &io);
    ymodem_rx_init(&rx, &ops, cap, hal_clock_ms());
    xfer_timing(&rx.tm);
    rc = ymodem_rx_run(&rx, &io);
    line_give(node);
    if (rc < 0) {
        cmd_err(ctx, "%s: %s; nothing changed", cmd, rx.why);
        return rc;
    }
    return (int)s.len;
}

int
node_id_receive(struct cmd_ctx *ctx, int argc, char **argv)
{
    uint8_t buf[CRYPTO_KEYFILE_MAX];
    int n;

    (void)argc;
    (void)argv;
    n = receive_small(ctx, "id receive", buf, sizeof(buf));
    if (n < 0)
        return n;
    return node_id_import_key(ctx, "id receive", "the received file", buf,
                              (size_t)n);
}

int
node_keyring_receive(struct cmd_ctx *ctx)
{
    static uint8_t buf[UPD_SKR_MAX]; /* keel's one thread */
    int n = receive_small(ctx, "update keyring receive", buf, sizeof(buf));

    if (n < 0)
        return n;
    return node_keyring_apply(ctx, "update keyring receive", buf, (size_t)n);
}

/* ---- chain receive -------------------------------------------------------- */

/* A tfile is taken as it arrives (chain_rx_*): c->io is the only
 * buffer, whatever its size; the chain log's capacity bounds it. */
#define CHAIN_RECEIVE_MAX ((uint64_t)1 << 32)

/* data() asks the sender to stop: the rest of the file is not needed
 * (an invalid trailer, another chain); the outcome is the import's. */
#define CHAIN_RX_ENOUGH (-EALREADY)

struct chain_sink {
    struct chain_rx rx;
    struct chain_import_res r;
    struct chain_opts o;
    struct chain *c;
    uint64_t t0;
    int begun; /* chain_rx_begin() took the size */
    int err;   /* the importer's own error, why in c->why */
};

static int
chain_begin(void *arg, const char *name, uint64_t size)
{
    struct chain_sink *s = arg;

    (void)name;
    s->t0 = hal_clock_ms();
    if (size == YMODEM_SIZE_UNKNOWN) {
        s->err = lib_why(s->c->why, sizeof(s->c->why), -EINVAL,
                         "the sender did not announce the file's size "
                         "(a tfile is checked against it)");
        return s->err;
    }
    s->err = chain_rx_begin(&s->rx, s->c, size, &s->o, &s->r);
    s->begun = s->err == 0;
    return s->err;
}

static int
chain_data(void *arg, const uint8_t *p, size_t n)
{
    struct chain_sink *s = arg;
    int rc = chain_rx_put(&s->rx, p, n);

    if (rc == 1)
        return CHAIN_RX_ENOUGH;
    if (rc < 0)
        s->err = rc;
    return rc;
}

int
node_chain_receive(struct cmd_ctx *ctx, int argc, char **argv)
{
    static struct chain_sink s; /* keel's one thread; c->io holds the data */
    struct node *node = ctx->node;
    struct ymodem_rx_ops ops = {
        .begin = chain_begin, .data = chain_data, .event = io_event, .arg = &s};
    struct ymodem_io io;
    struct ymodem_rx rx;
    unsigned trims0;
    int rc, erc;

    (void)argc;
    (void)argv;
    if (node->chain_rc != 0) {
        cmd_err(ctx, "chain receive: the chain is not available (%s)",
                node->chain.why);
        return -EIO;
    }
    if (node->verify.active) {
        cmd_err(ctx, "chain receive: a verify is running; wait for it");
        return -EBUSY;
    }
    if (node->sync.rx_open) {
        cmd_err(ctx, "chain receive: a sync is storing trailers; wait for it "
                     "('sync status')");
        return -EBUSY;
    }
    memset(&s, 0, sizeof(s));
    s.c = &node->chain;
    s.o = (struct chain_opts){hal_clock_wall(), 1};
    s.t0 = hal_clock_ms();
    trims0 = s.c->auto_trims;
    cmd_printf(ctx, "chain receive: start the YMODEM upload of a tfile.dat "
                    "now (e.g. 'sb tfile.dat'); Ctrl-X x5 cancels\n");
    line_take(node, &io);
    ymodem_rx_init(&rx, &ops, CHAIN_RECEIVE_MAX, hal_clock_ms());
    xfer_timing(&rx.tm);
    rc = ymodem_rx_run(&rx, &io);
    line_give(node);
    if (!s.begun) {
        cmd_err(ctx, "chain receive: %s; nothing committed",
                s.err != 0 ? s.c->why : rx.why);
        return s.err != 0 ? s.err : rc;
    }
    if (rc < 0 && rc != CHAIN_RX_ENOUGH) {
        (void)chain_rx_end(&s.rx, 0);
        if (s.err != 0)
            cmd_err(ctx, "chain receive: %s", s.c->why);
        else
            cmd_err(ctx, "chain receive: the transfer failed: %s", rx.why);
        if (s.r.appended > 0)
            cmd_err(ctx,
                    "chain receive: %" PRIu64 " trailers after the tip were "
                    "committed before it ended (each batch valid)",
                    s.r.appended);
        else
            cmd_err(ctx, "chain receive: nothing committed");
        klog(KLOG_WARN, "chain receive: ended: %s",
             s.err != 0 ? s.c->why : rx.why);
        return s.err != 0 ? s.err : rc;
    }
    erc = chain_rx_end(&s.rx, 1);
    if (erc < 0) {
        cmd_err(ctx, "chain receive: %s; %s", s.c->why,
                s.r.appended > 0 ? "the valid trailers before it stay"
                                 : "nothing committed");
        return erc;
    }
    klog(KLOG_INFO,
         "chain receive: %s: %" PRIu64 " trailers, %" PRIu64 " committed%s",
         rx.name, s.r.records, s.r.appended, s.r.replaced ? " (a reorg)" : "");
    return node_chain_report(ctx, "chain receive", "upload", &s.r, trims0,
                             s.t0);
}

/* ---- log export ----------------------------------------------------------- */

/* The log as text, rendered record by record as the sender asks. */
struct log_src {
    struct node *node;
    uint32_t want;  /* the next record to render (its index in the walk) */
    uint32_t index; /* during a walk */
    char line[LOG_TEXT_MAX + 64];
    size_t len, off;
    int end;
};

static int
log_pick(void *arg, const struct log_rec *r)
{
    struct log_src *s = arg;
    char t[32];

    if (s->index++ != s->want)
        return 0;
    node_when(t, sizeof(t), r->time, "-");
    s->len = (size_t)snprintf(s->line, sizeof(s->line), "%u %u %s %s %s\n",
                              (unsigned)r->seq, (unsigned)r->boot,
                              logring_sev_name(r->sev), t, r->text);
    if (s->len >= sizeof(s->line))
        s->len = sizeof(s->line) - 1;
    return 1;
}

static int
log_read(void *arg, uint8_t *p, size_t n)
{
    struct log_src *s = arg;
    size_t got = 0;

    while (got < n && !s->end) {
        if (s->off == s->len) {
            s->index = 0;
            s->len = s->off = 0;
            (void)logring_walk(&s->node->log, log_pick, s);
            if (s->len == 0) {
                s->end = 1;
                break;
            }
            s->want++;
        }
        {
            size_t k = s->len - s->off;

            if (k > n - got)
                k = n - got;
            memcpy(p + got, s->line + s->off, k);
            s->off += k;
            got += k;
        }
    }
    return (int)got;
}

/* The exported size: the same rendering, counted. */
static uint64_t
log_size(struct node *node)
{
    struct log_src s = {.node = node};
    uint8_t b[512];
    uint64_t total = 0;
    int n;

    while ((n = log_read(&s, b, sizeof(b))) > 0)
        total += (uint64_t)n;
    return total;
}

int
node_ymodem_send(struct cmd_ctx *ctx, const char *cmd, const char *name,
                 uint64_t size, int (*read)(void *arg, uint8_t *p, size_t n),
                 void *arg)
{
    struct node *node = ctx->node;
    struct ymodem_tx_ops ops = {.read = read, .event = io_event, .arg = arg};
    struct ymodem_io io;
    struct ymodem_tx tx;
    int rc;

    cmd_printf(ctx,
               "%s: start the YMODEM download now (e.g. 'rb'); %" PRIu64
               " bytes as %s\n",
               cmd, size, name);
    line_take(node, &io);
    rc = ymodem_tx_init(&tx, &ops, name, size, hal_clock_ms());
    if (rc == 0)
        rc = ymodem_tx_run(&tx, &io);
    line_give(node);
    if (rc < 0) {
        cmd_err(ctx, "%s: %s", cmd, tx.why);
        return rc;
    }
    cmd_printf(ctx, "sent %s: %" PRIu64 " bytes\n", name, tx.sent);
    return 0;
}

int
node_log_export(struct cmd_ctx *ctx, int argc, char **argv)
{
    struct node *node = ctx->node;
    struct log_src s = {.node = node};

    (void)argc;
    (void)argv;
    if (node->log_rc != 0) {
        cmd_err(ctx, "log export: the log partition is unusable");
        return node->log_rc;
    }
    return node_ymodem_send(ctx, "log export", "keel.log", log_size(node),
                            log_read, &s);
}
