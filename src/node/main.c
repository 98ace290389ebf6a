/*
 * node/main.c - keel: start-up, the event loop, shutdown.
 *
 * One thread.  The loop waits on the console with a timeout taken from
 * lwIP's timers, feeds console bytes to the line editor (a terminal) or
 * the line reader (a pipe or file), and runs each complete line through
 * the command table.  In script mode the exit status says whether any
 * command failed; end of input powers off.  A script line that cannot
 * be run as sent (too long, a NUL byte) and script lines left unrun by
 * `reboot` or `poweroff` are failures too, each with its message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "build_id.h"
#include "console/line.h"
#include "hal/board.h"
#include "hal/clock.h"
#include "hal/poll.h"
#include "hal/sys.h"
#include "hal/watchdog.h"
#include "keel_opts.h"
#include "net/net.h"
#include "lib/klog.h"
#include "node/node.h"

/* How long a script's end is waited for after `reboot` or `poweroff`,
 * to count the lines that will not run: in all, and without input. */
#define SCRIPT_REST_MS 1000
#define SCRIPT_REST_IDLE_MS 200

/* Everything keel runs with: one allocation, made at start (STYLE rule
 * 1: nothing is allocated after it). */
struct keel {
    struct node node;
    struct line_ed ed;
    struct line_rd rd;
};
static struct keel *kp;
/* The script line that stopped keel (`reboot`, `poweroff`, ...). */
static char stop_line[48];

const char *
node_build_id(void)
{
    return KEEL_BUILD_ID;
}

static void
con_out(void *arg, const char *s, size_t n)
{
    (void)hal_console_write(arg, s, n);
}

static const char *
complete(void *arg, const char *prefix, size_t n, unsigned idx)
{
    (void)arg;
    return cmd_complete(node_cmds, prefix, n, idx);
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: keel --flash FILE [--console PATH] [--rootfs DIR] "
               "[--net SPEC]\n"
               "  --flash FILE     the board's flash image; created erased "
               "if missing\n"
               "  --console PATH   '-' (stdio, default), 'pty', or a "
               "tty path\n"
               "  --rootfs DIR     the image's files (keel-boot passes "
               "the slot's)\n"
               "  --net SPEC       the network link: simwire:PATH[,port=NAME] "
               "or packet:IFNAME\n"
               "                   (default: the KEEL_NET parameter; none: "
               "no network)\n");
}

static int
open_flash(const char *path)
{
    const char *why;
    int rc = hal_board_flash_open(path, kp->node.part, NODE_PART_COUNT, &why);

    if (rc != 0) {
        klog(KLOG_WARN, "cannot open flash '%s': %s%s%s\n", path, strerror(-rc),
             *why ? ": " : "", why);
        return rc;
    }
    kp->node.flash_path = path;
    return 0;
}

int
node_poll(struct node *n)
{
    char c[64];
    int got, cancel = 0;

    hal_watchdog_kick();
    net_poll(&n->net);
    node_http_tick(n);
    node_update_tick(n);
    p2p_tick(n, 0);
    if (!n->con.interactive)
        return 0; /* a script's next bytes are its next commands */
    while ((got = hal_console_read(&n->con, c, sizeof(c), 0)) > 0)
        for (int i = 0; i < got; i++) {
            if (c[i] == 3)
                cancel = 1;
            else if (n->ahead_n < sizeof(n->ahead))
                n->ahead[n->ahead_n++] = c[i];
        }
    return cancel;
}

void
node_sync_tick(struct node *n)
{
    if (n->chain_rc == 0)
        sync_tick(&n->sync, n->net.up, (uint16_t)n->net.set[NET_S_SYNC_PORT],
                  n->net.set[NET_S_SYNC_POLL_S],
                  n->net.set[NET_S_SYNC_FORK_MAX]);
}

static void
run_line(char *line, int echo)
{
    struct cmd_ctx ctx = {
        .write = con_out,
        .write_arg = &kp->node.con,
        .node = &kp->node,
        .priv = node_priv,
    };
    const char *p = line;

    if (echo) {
        con_out(&kp->node.con, line, strlen(line));
        con_out(&kp->node.con, "\n", 1);
    }
    while (*p == ' ' || *p == '\t')
        p++;
    /* The line is split in place by cmd_exec(): keep it for a message
     * should this command stop keel. */
    snprintf(stop_line, sizeof(stop_line), "%s", p);
    if (cmd_exec(node_cmds, &ctx, line) != 0)
        kp->node.failures++;
}

/* A script line refused by the reader: say which and why. */
static void
script_refused(enum line_event ev)
{
    char msg[96];

    if (ev == LINE_NUL)
        snprintf(msg, sizeof(msg),
                 "\nerror: line %lu contains a NUL byte; not run\n",
                 kp->rd.line);
    else
        snprintf(msg, sizeof(msg),
                 "\nerror: line %lu is longer than %d bytes; not run\n",
                 kp->rd.line, LINE_MAX_LEN);
    con_out(&kp->node.con, msg, strlen(msg));
    kp->node.failures++;
}

/* One reader event of the script's rest: 1 when it is a line that would
 * have run something (or been refused), 0 for blank and comment lines
 * and for no line at all. */
static int
rest_counts(enum line_event ev)
{
    const char *p = kp->rd.buf;

    if (ev == LINE_TOOLONG || ev == LINE_NUL)
        return 1;
    if (ev != LINE_DONE)
        return 0;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p != '\0' && *p != '#';
}

/* A script stopped by `reboot` or `poweroff` at buf[from]: count the
 * lines that will not run, those already read (buf[from..n)) and those
 * still coming, and consume them, so that a reboot under keel-boot
 * does not hand a random part of them to the next boot.  Waits at most
 * SCRIPT_REST_MS; *more is set when input was still open then. */
static unsigned long
script_rest(char *buf, size_t cap, int from, int n, int *more)
{
    uint64_t t0 = hal_clock_ms();
    unsigned long count = 0;

    *more = 0;
    for (;;) {
        uint64_t spent;

        for (int i = from; i < n; i++)
            count += (unsigned long)rest_counts(
                line_rd_feed(&kp->rd, (uint8_t)buf[i]));
        spent = hal_clock_ms() - t0;
        if (spent >= SCRIPT_REST_MS) {
            *more = 1;
            break;
        }
        from = 0;
        n = hal_console_read(&kp->node.con, buf, cap,
                             spent + SCRIPT_REST_IDLE_MS > SCRIPT_REST_MS
                                 ? (int)(SCRIPT_REST_MS - spent)
                                 : SCRIPT_REST_IDLE_MS);
        if (n < 0) {
            count += (unsigned long)rest_counts(line_rd_flush(&kp->rd));
            break;
        }
        if (n == 0) {
            *more = 1; /* open, but quiet */
            break;
        }
    }
    return count;
}

/* After a script line stopped keel with input left: report the lines
 * that will not run.  They make the script fail. */
static void
script_unrun(char *buf, size_t cap, int from, int n)
{
    int more;
    unsigned long left = script_rest(buf, cap, from, n, &more);
    char msg[160];

    if (left == 0)
        return;
    snprintf(msg, sizeof(msg),
             "error: %s%lu script line%s after '%s' %s not run\n",
             more ? "at least " : "", left, left == 1 ? "" : "s", stop_line,
             left == 1 && !more ? "was" : "were");
    con_out(&kp->node.con, msg, strlen(msg));
    kp->node.failures++;
}

static void
net_log(void *arg, const char *msg)
{
    (void)arg;
    klog(strstr(msg, "refused") || strstr(msg, "failed") ? KLOG_WARN
                                                         : KLOG_INFO,
         "%s", msg);
}

static void
prompt(void)
{
    con_out(&kp->node.con, "keel> ", 6);
}

int
main(int argc, char **argv)
{
    const char *flash = NULL, *console = NULL;
    char buf[256];

    hal_sys_init(argc, argv);
    kp = calloc(1, sizeof(*kp));
    if (kp == NULL) {
        klog(KLOG_WARN, "cannot allocate %zu bytes\n", sizeof(*kp));
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--flash") == 0 && i + 1 < argc) {
            flash = argv[++i];
        } else if (strcmp(argv[i], "--console") == 0 && i + 1 < argc) {
            console = argv[++i];
        } else if (strcmp(argv[i], "--rootfs") == 0 && i + 1 < argc) {
            kp->node.rootfs = argv[++i];
        } else if (strcmp(argv[i], "--net") == 0 && i + 1 < argc) {
            kp->node.net_spec = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            klog(KLOG_INFO, "unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (flash == NULL) {
        klog(KLOG_INFO, "--flash FILE is required\n");
        usage(stderr);
        return 2;
    }

    kp->node.start_ms = hal_clock_ms();
    /* keel-boot, as a board's /init, handed the watchdog over armed
     * (hal/watchdog.h); from here the event loop keeps it fed. */
    if (hal_sys_param("KEEL_WATCHDOG") != NULL) {
        int rc = hal_watchdog_open(KEEL_WATCHDOG_S);

        if (rc < 0)
            klog(KLOG_WARN, "watchdog: %s\n", strerror(-rc));
    }
    if (open_flash(flash) != 0)
        return 1;
    int rc = hal_console_open(&kp->node.con, console);
    if (rc != 0) {
        klog(KLOG_WARN, "cannot open console '%s': %s\n", console,
             strerror(-rc));
        return 1;
    }
    node_log_init(&kp->node);
    node_storage_mount(&kp->node);
    node_update_init(&kp->node);
    node_unlock_init(&kp->node);
    if (net_init() != 0) {
        klog(KLOG_WARN, "network stack failed to start\n");
        return 1;
    }
    if (kp->node.net_spec == NULL)
        kp->node.net_spec = hal_sys_param("KEEL_NET");
    kp->node.net.log = net_log;
    if (kp->node.net_spec != NULL && kp->node.net_spec[0] != '\0' &&
        net_start(&kp->node.net, kp->node.net_spec,
                  kp->node.store_rc == 0 ? &kp->node.store : NULL,
                  &kp->node.id) != 0)
        klog(KLOG_INFO, "network '%s': %s\n", kp->node.net_spec,
             kp->node.net.why);
    p2p_init(&kp->node);
    node_sync_links(&kp->node);
    if (strcmp(kp->node.con.path, "stdio") != 0)
        klog(KLOG_INFO, "console on %s\n", kp->node.con.path);

    snprintf(buf, sizeof(buf),
             "keel %s (board %s, arch %s, build %s)\n"
             "flash %s, %u MiB; type 'help' for commands\n",
             KEEL_VERSION, hal_sys_board(), hal_sys_arch(), node_build_id(),
             kp->node.flash_path, (unsigned)(BOARD_FLASH_SIZE >> 20));
    con_out(&kp->node.con, buf, strlen(buf));
    if (kp->node.unlock.ops.n == 0) {
        static const char unprov[] =
            "no operator key: this console is not locked ('op add FILE')\n";

        con_out(&kp->node.con, unprov, sizeof(unprov) - 1);
    }

    if (kp->node.con.interactive)
        line_ed_init(&kp->ed, "keel> ", con_out, complete, &kp->node.con);
    else
        line_rd_init(&kp->rd);
    if (kp->node.con.interactive)
        line_ed_redraw(&kp->ed);
    else
        prompt();

    while (!kp->node.stop) {
        int ready = hal_poll(&kp->node.con, &kp->node.net.hw,
                             kp->node.verify.active || kp->node.ahead_n > 0
                                 ? 0
                                 : net_next_timeout(100));
        int n;

        if (kp->node.ahead_n > 0) { /* typed during a long command */
            n = (int)kp->node.ahead_n;
            memcpy(buf, kp->node.ahead, (size_t)n);
            kp->node.ahead_n = 0;
        } else {
            n = ready > 0 && (ready & HAL_POLL_CONSOLE)
                    ? hal_console_read(&kp->node.con, buf, sizeof(buf), 0)
                    : 0;
        }
        hal_watchdog_kick();
        net_poll(&kp->node.net);
        node_http_tick(&kp->node);
        node_sync_tick(&kp->node);
        node_update_tick(&kp->node);
        p2p_tick(&kp->node, 1);
        if (kp->node.verify.active) {
            struct cmd_ctx vctx = {
                .write = con_out,
                .write_arg = &kp->node.con,
                .node = &kp->node,
            };

            if (node_chain_verify_step(&kp->node, &vctx) &&
                kp->node.con.interactive)
                line_ed_redraw(&kp->ed);
        }
        if (n == -EPIPE || n < 0) {
            /* End of input (or a console that failed): power off.  A
             * last line without a newline still runs, or is refused
             * like any other. */
            if (!kp->node.con.interactive) {
                enum line_event ev = line_rd_flush(&kp->rd);

                if (ev == LINE_DONE)
                    run_line(kp->rd.buf, 1);
                else if (ev == LINE_TOOLONG || ev == LINE_NUL)
                    script_refused(ev);
            }
            con_out(&kp->node.con, "\n", 1);
            break;
        }
        for (int i = 0; i < n && !kp->node.stop; i++) {
            enum line_event ev;

            if (kp->node.con.interactive) {
                ev = line_ed_feed(&kp->ed, (uint8_t)buf[i]);
                if (ev == LINE_DONE)
                    run_line(kp->ed.buf, 0);
                else if (ev == LINE_EOF)
                    kp->node.stop = 1;
                if (!kp->node.stop && (ev == LINE_DONE || ev == LINE_CANCEL))
                    line_ed_redraw(&kp->ed);
            } else {
                ev = line_rd_feed(&kp->rd, (uint8_t)buf[i]);
                if (ev == LINE_DONE)
                    run_line(kp->rd.buf, 1);
                else if (ev == LINE_TOOLONG || ev == LINE_NUL)
                    script_refused(ev);
                if (kp->node.stop)
                    script_unrun(buf, sizeof(buf), i + 1, n);
                else if (ev != LINE_NONE)
                    prompt();
            }
        }
    }

    int status = kp->node.stop ? kp->node.stop_status : 0;

    net_stop(&kp->node.net);
    if (kp->node.failures > 0 && status == 0)
        status = 1;
    hal_console_close(&kp->node.con);
    hal_board_flash_close();
    if (kp->node.reboot && !kp->node.con.interactive && kp->node.failures > 0) {
        /* A script that failed, then rebooted: exit with keel-boot's
         * reboot status rather than re-executing.  Under keel-boot the
         * reboot happens as asked (any other status would count as a
         * failed boot, and could roll back a healthy trial); run alone,
         * the caller sees a non-zero status instead of the clean exit
         * of a new session with nothing left to read (docs/CONSOLE.md). */
        hal_sys_poweroff(HAL_SYS_EXIT_REBOOT);
    }
    if (kp->node.reboot)
        hal_sys_reboot();
    hal_sys_poweroff(status);
}
