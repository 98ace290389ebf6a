/* ymodem_pty - keel's YMODEM (src/console/ymodem.c) against another
 * program on a pseudo-terminal, lrzsz's sb and rb for a start.
 *
 *   ymodem_pty [OPTION]... recv OUT -- PROGRAM [ARG...]
 *   ymodem_pty [OPTION]... send IN -- PROGRAM [ARG...]
 *
 * PROGRAM runs with its standard input and output on the terminal's
 * slave side (its standard error is ours), as on a serial line; keel's
 * receiver or sender runs on the master side through ymodem_rx_run(),
 * ymodem_tx_run() or, with --pull, the struct ymodem_pull reader that
 * update_install() would use.  `recv` writes what arrives into OUT;
 * `send` sends IN.
 *
 * Options:
 *   -t SECONDS      the whole run is bounded (default 60): past it the
 *                   session is cancelled and PROGRAM killed (exit 124)
 *   --limit N       the receiver takes at most N bytes
 *   --refuse-at N   the receiver's sink refuses once the file passes N
 *                   bytes (-ENOSPC)
 *   --cancel-at N   the operator cancels (ymodem_rx_cancel) once N bytes
 *                   arrived
 *   --kill-at N     SIGTERM to PROGRAM once N bytes arrived (its own
 *                   abort; SIGINT may be ignored in a background job)
 *   --corrupt-from N  once N bytes arrived, flip a bit in every read
 *                   (every block fails its CRC from then on)
 *   --retries N     the receiver's or sender's tries per block
 *   --pull N        receive through struct ymodem_pull, N bytes a read
 *   --block 128     the sender's block size (default 1024)
 *   --name NAME     the name the sender announces (default: IN's)
 *   --fast          short timeouts (a 'C' every 300 ms for 4 s, 2 s a
 *                   block)
 *   -v              every event of the session on standard error
 *
 * Standard output gets one line:
 *   ymodem_pty: recv err=0 reason=done bytes=N name=NAME peer=0 why=...
 * (peer: PROGRAM's exit status, or 128+signal).  Exit status: 0 when
 * the session ended well and PROGRAM exited 0, 1 when either did not,
 * 124 on the time bound, 125 on a usage or system error.  Every process
 * is stopped by its id.  A host test tool, never shipped; the build
 * defines _GNU_SOURCE (posix_openpt). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "console/ymodem.h"

struct run {
    int master, slave;
    pid_t pid;
    int exited, status; /* the program ended (status as from waitpid) */
    uint64_t last_rx;   /* when bytes last came */
    uint64_t deadline, t0;
    int timed_out, verbose;
    FILE *out, *in;
    uint64_t got;
    uint64_t refuse_at, cancel_at, kill_at, corrupt_from;
    int cancelled, killed;
    struct ymodem_rx *rx;
};

static struct run R;

static void
die(const char *what)
{
    fprintf(stderr, "ymodem_pty: %s: %s\n", what, strerror(errno));
    if (R.pid > 0) {
        kill(R.pid, SIGKILL);
        waitpid(R.pid, NULL, 0);
    }
    exit(125);
}

static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the line: the terminal's master side ------------------------------ */

static int
io_read(void *arg, uint8_t *p, size_t cap, int timeout_ms)
{
    struct pollfd pf = {R.master, POLLIN, 0};
    ssize_t n;
    int r;

    (void)arg;
    r = poll(&pf, 1, timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -errno;
    if (r == 0) {
        /* We hold the slave side open (a serial line does not close,
         * and Linux may drop what a pty's slave wrote just before it
         * closed), so the program's end is seen here: once it has
         * exited and the line has been quiet for 500 ms, the line is
         * gone. */
        if (!R.exited && R.pid > 0 &&
            waitpid(R.pid, &R.status, WNOHANG) == R.pid)
            R.exited = 1;
        return R.exited && now_ms() - R.last_rx >= 500 ? -EPIPE : 0;
    }
    n = read(R.master, p, cap);
    if (n < 0)
        return errno == EIO ? -EPIPE : -errno; /* EIO: the slave closed */
    if (n > 0)
        R.last_rx = now_ms();
    if (n > 0 && R.corrupt_from != 0 && R.got >= R.corrupt_from)
        p[n / 2] ^= 0x40; /* a line hit in every read from then on */
    if (R.verbose > 1 && n > 0 && n <= 32) {
        fprintf(stderr, "ymodem_pty: %6.3f read",
                (double)(now_ms() - R.t0) / 1e3);
        for (ssize_t k = 0; k < n; k++)
            fprintf(stderr, " %02x", p[k]);
        fprintf(stderr, "\n");
    }
    return n == 0 ? -EPIPE : (int)n;
}

static int
io_write(void *arg, const uint8_t *p, size_t n)
{
    size_t off = 0;

    (void)arg;
    while (off < n) {
        ssize_t w = write(R.master, p + off, n - off);

        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return errno == EIO ? -EPIPE : -errno;
        }
        off += (size_t)w;
    }
    return (int)n;
}

static uint64_t
io_now(void *arg)
{
    (void)arg;
    return now_ms();
}

/* Between reads: the time bound, the operator's cancel, the sender's own
 * abort. */
static int
io_poll(void *arg)
{
    (void)arg;
    if (R.kill_at != 0 && R.got >= R.kill_at && !R.killed) {
        kill(R.pid, SIGTERM);
        R.killed = 1;
    }
    if (R.cancel_at != 0 && R.got >= R.cancel_at && !R.cancelled) {
        R.cancelled = 1;
        return -ECANCELED;
    }
    if (now_ms() >= R.deadline) {
        R.timed_out = 1;
        return -ETIMEDOUT;
    }
    return 0;
}

static const struct ymodem_io io = {io_read, io_write, io_now, io_poll, NULL};

/* ---- the file ------------------------------------------------------------ */

static int
rx_begin(void *arg, const char *name, uint64_t size)
{
    (void)arg;
    if (R.verbose)
        fprintf(stderr, "ymodem_pty: begin '%s', %llu bytes\n", name,
                (unsigned long long)size);
    return 0;
}

static int
rx_data(void *arg, const uint8_t *p, size_t n)
{
    (void)arg;
    if (R.refuse_at != 0 && R.got + n > R.refuse_at)
        return -ENOSPC;
    if (fwrite(p, 1, n, R.out) != n)
        return -EIO;
    R.got += n;
    return 0;
}

static void
event(void *arg, const char *msg)
{
    (void)arg;
    if (R.verbose)
        fprintf(stderr, "ymodem_pty: %6.3f %s\n",
                (double)(now_ms() - R.t0) / 1e3, msg);
}

static int
tx_read(void *arg, uint8_t *p, size_t n)
{
    size_t k = fread(p, 1, n, R.in);

    (void)arg;
    if (k == 0 && ferror(R.in))
        return -EIO;
    return (int)k;
}

/* ---- the program on the slave side -------------------------------------- */

static void
spawn(char **argv)
{
    const char *name;
    struct termios t;
    int slave;

    R.master = posix_openpt(O_RDWR | O_NOCTTY);
    if (R.master < 0 || grantpt(R.master) != 0 || unlockpt(R.master) != 0 ||
        (name = ptsname(R.master)) == NULL)
        die("posix_openpt");
    /* raw from the start: a serial line carries bytes, not lines */
    slave = open(name, O_RDWR | O_NOCTTY);
    if (slave < 0 || tcgetattr(slave, &t) != 0)
        die("open the pty's slave");
    cfmakeraw(&t);
    if (tcsetattr(slave, TCSANOW, &t) != 0)
        die("tcsetattr");
    R.pid = fork();
    if (R.pid < 0)
        die("fork");
    if (R.pid == 0) {
        int s;

        setsid();
        s = open(name, O_RDWR); /* the controlling terminal */
        if (s < 0)
            _exit(126);
        dup2(s, 0);
        dup2(s, 1);
        if (s > 2)
            close(s);
        close(slave);
        close(R.master);
        execvp(argv[0], argv);
        fprintf(stderr, "ymodem_pty: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    R.slave = slave; /* kept open: see io_poll */
}

/* Reap the program, reading (and dropping) what it still writes; one
 * that has not ended 3 s after the session is killed by its id.  Its
 * status as an exit code, 128+signal. */
static int
reap(void)
{
    uint64_t end = now_ms() + 3000;
    int status = R.status;

    while (!R.exited) {
        uint8_t junk[512];
        pid_t w = waitpid(R.pid, &status, WNOHANG);

        if (w == R.pid) {
            R.exited = 1;
            break;
        }
        if (w < 0)
            die("waitpid");
        if (now_ms() >= end) {
            fprintf(stderr,
                    "ymodem_pty: the program did not end; killing "
                    "pid %d\n",
                    (int)R.pid);
            kill(R.pid, SIGKILL);
            waitpid(R.pid, &status, 0);
            break;
        }
        (void)io_read(NULL, junk, sizeof(junk), 20);
    }
    R.pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: ymodem_pty [-t SECONDS] [--limit N] [--refuse-at N] "
            "[--cancel-at N]\n"
            "                  [--kill-at N] [--corrupt-from N] [--retries N] "
            "[--pull N]\n"
            "                  [--block 128] [--name NAME] [--fast] [-v]\n"
            "                  recv OUT|send IN -- PROGRAM [ARG...]\n");
    exit(125);
}

static uint64_t
num(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);

    if (*s < '0' || *s > '9' || *end != '\0')
        usage();
    return v;
}

static void
fast(struct ymodem_timing *t)
{
    t->c_ms = 300;
    t->start_ms = 4000;
    t->block_ms = 2000;
    t->drain_ms = 300;
    t->drain_max_ms = 2000;
}

int
main(int argc, char **argv)
{
    static struct ymodem_rx rx;
    static struct ymodem_tx tx;
    static struct ymodem_pull pl;
    const struct ymodem_rx_ops rops = {rx_begin, rx_data, event, NULL};
    const struct ymodem_tx_ops tops = {tx_read, event, NULL};
    uint64_t limit = UINT64_MAX - 1, pull = 0, block = 1024, seconds = 60;
    uint64_t retries = 0;
    const char *mode = NULL, *path = NULL, *name = NULL;
    int i, err, peer, is_fast = 0, reason;
    const char *why;

    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *a = argv[i];

        if (strcmp(a, "-v") == 0)
            R.verbose = 1;
        else if (strcmp(a, "-vv") == 0)
            R.verbose = 2;
        else if (strcmp(a, "--fast") == 0)
            is_fast = 1;
        else if (i + 1 >= argc)
            break;
        else if (strcmp(a, "-t") == 0)
            seconds = num(argv[++i]);
        else if (strcmp(a, "--limit") == 0)
            limit = num(argv[++i]);
        else if (strcmp(a, "--refuse-at") == 0)
            R.refuse_at = num(argv[++i]);
        else if (strcmp(a, "--cancel-at") == 0)
            R.cancel_at = num(argv[++i]);
        else if (strcmp(a, "--kill-at") == 0)
            R.kill_at = num(argv[++i]);
        else if (strcmp(a, "--corrupt-from") == 0)
            R.corrupt_from = num(argv[++i]);
        else if (strcmp(a, "--retries") == 0)
            retries = num(argv[++i]);
        else if (strcmp(a, "--pull") == 0)
            pull = num(argv[++i]);
        else if (strcmp(a, "--block") == 0)
            block = num(argv[++i]);
        else if (strcmp(a, "--name") == 0)
            name = argv[++i];
        else if (mode == NULL &&
                 (strcmp(a, "recv") == 0 || strcmp(a, "send") == 0))
            mode = a, path = argv[++i];
        else
            usage();
    }
    if (mode == NULL || i + 1 >= argc || seconds == 0 ||
        (block != 128 && block != 1024) || pull > 65536)
        usage();
    signal(SIGPIPE, SIG_IGN);
    R.t0 = now_ms();
    R.deadline = R.t0 + seconds * 1000u;

    if (strcmp(mode, "recv") == 0) {
        if ((R.out = fopen(path, "wb")) == NULL)
            die(path);
        spawn(argv + i + 1);
        if (pull > 0) {
            static uint8_t buf[65536];
            int r;

            ymodem_pull_init(&pl, &io, &rops, limit);
            if (is_fast)
                fast(&pl.rx.tm);
            if (retries != 0)
                pl.rx.tm.retries = (uint32_t)retries;
            while ((r = ymodem_pull_read(&pl, buf, pull)) > 0) {
                R.got += (uint64_t)r;
                if (R.refuse_at != 0 && R.got > R.refuse_at) {
                    r = -ENOSPC;
                    break;
                }
                if (fwrite(buf, 1, (size_t)r, R.out) != (size_t)r) {
                    r = -EIO;
                    break;
                }
                if (io_poll(NULL) < 0) {
                    r = R.timed_out ? -ETIMEDOUT : -ECANCELED;
                    break;
                }
            }
            err = ymodem_pull_end(&pl, r < 0 ? r : 0,
                                  r < 0 ? "the reader stopped" : NULL);
            reason = pl.rx.reason;
            why = pl.rx.why;
            name = pl.rx.name;
        } else {
            ymodem_rx_init(&rx, &rops, limit, now_ms());
            if (is_fast)
                fast(&rx.tm);
            if (retries != 0)
                rx.tm.retries = (uint32_t)retries;
            err = ymodem_rx_run(&rx, &io);
            reason = rx.reason;
            why = rx.why;
            name = rx.name;
        }
        if (fclose(R.out) != 0)
            die(path);
    } else {
        struct stat st;

        if ((R.in = fopen(path, "rb")) == NULL || fstat(fileno(R.in), &st))
            die(path);
        if (name == NULL)
            name = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
        spawn(argv + i + 1);
        if (ymodem_tx_init(&tx, &tops, name, (uint64_t)st.st_size, now_ms()) ==
            0) {
            tx.block = (uint16_t)block;
            if (is_fast)
                fast(&tx.tm);
            if (retries != 0)
                tx.tm.retries = (uint32_t)retries;
            ymodem_tx_run(&tx, &io);
        }
        err = tx.err;
        reason = tx.reason;
        why = tx.why;
        R.got = tx.sent;
        fclose(R.in);
    }
    peer = reap();
    close(R.slave);
    close(R.master);
    printf("ymodem_pty: %s err=%d reason=%s bytes=%llu name=%s peer=%d "
           "why=%s\n",
           mode, err, ymodem_reason_name(reason), (unsigned long long)R.got,
           name, peer, why);
    if (R.timed_out)
        return 124;
    return err == 0 && peer == 0 ? 0 : 1;
}
