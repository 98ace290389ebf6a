/* ptyexpect - drive a program on a pseudo-terminal, as an operator at a
 * serial console would: wait for some text, type some keys, wait again.
 *
 *   ptyexpect [-t SECONDS] STEP... -- PROGRAM [ARG...]
 *
 * STEP is `-e TEXT` (wait until TEXT appears in the output after the
 * previous match), `-s KEYS` (type KEYS), or `-x COMMAND` (run COMMAND
 * with sh -c, its stdin and stdout on the terminal's other end, as a
 * terminal program runs `sz` to send a file; wait for it, bounded; its
 * exit status must be 0), or `-X COMMAND` (run COMMAND with sh -c, its
 * stdin /dev/null, and type what it prints, as an operator pastes what
 * a workstation tool made: nothing the program prints meanwhile is
 * taken from the transcript).  KEYS and TEXT take the
 * escapes \r \n \t \\ and \xHH, so `-s '\x03'` is Ctrl-C.  Each wait is
 * bounded by SECONDS (default 30).  Everything the program prints goes to
 * standard output, as a transcript.  After the last step ptyexpect reads
 * until the program closes the terminal (again bounded) and reaps it.
 *
 * `-T FILE` (before the steps) writes to FILE, as each wait is met, a
 * line "MS TEXT": milliseconds since the program was started, and the
 * text awaited -- how a benchmark times a boot from its console.
 *
 * Exit status: the program's own status when every step was met; 124 when
 * a wait timed out (the program is killed, the missing TEXT named on
 * standard error); 125 on a usage or system error.
 *
 * Written for tests that need a real terminal (raw mode, Ctrl-C as a byte)
 * where a pipe will not do.  It is a host test tool, never shipped.  The
 * build defines _GNU_SOURCE (for posix_openpt and friends). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define OUT_MAX (4u << 20) /* transcript kept for matching, bytes */

struct step {
    char kind; /* 'e', 's', 'x' or 'X' */
    char *text;
    size_t len;
};

static char *out;
static size_t out_len, out_mark;

static void
die(const char *what)
{
    fprintf(stderr, "ptyexpect: %s: %s\n", what, strerror(errno));
    exit(125);
}

/* Decode the escapes in place; returns the decoded length. */
static size_t
unescape(char *s)
{
    char *w = s;

    for (const char *r = s; *r != '\0'; r++) {
        if (*r != '\\' || r[1] == '\0') {
            *w++ = *r;
            continue;
        }
        r++;
        switch (*r) {
        case 'r':
            *w++ = '\r';
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'x': {
            char hex[3] = {0};

            if (r[1] == '\0' || r[2] == '\0') {
                fprintf(stderr, "ptyexpect: bad \\x escape\n");
                exit(125);
            }
            hex[0] = r[1];
            hex[1] = r[2];
            *w++ = (char)strtoul(hex, NULL, 16);
            r += 2;
            break;
        }
        default:
            *w++ = *r;
            break;
        }
    }
    *w = '\0'; /* -x hands the text to sh as a string */
    return (size_t)(w - s);
}

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Read what the program printed within `ms`; append it to the transcript
 * and echo it.  Returns 0 on data or timeout, -1 when the program closed
 * the terminal. */
static int
pump(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    char buf[4096];
    ssize_t n;
    int r = poll(&p, 1, ms);

    if (r < 0 && errno != EINTR)
        die("poll");
    if (r <= 0)
        return 0;
    n = read(fd, buf, sizeof(buf));
    if (n <= 0)
        return -1; /* EIO on Linux once the slave side is closed */
    fwrite(buf, 1, (size_t)n, stdout);
    fflush(stdout);
    if (out_len + (size_t)n > OUT_MAX) {
        /* Keep the newer half; a match never spans what was dropped
         * because waits are far shorter than OUT_MAX / 2. */
        size_t drop = out_len / 2;

        memmove(out, out + drop, out_len - drop);
        out_len -= drop;
        out_mark = out_mark > drop ? out_mark - drop : 0;
    }
    memcpy(out + out_len, buf, (size_t)n);
    out_len += (size_t)n;
    return 0;
}

static int
wait_for(int fd, const struct step *s, long deadline)
{
    for (;;) {
        char *hit = memmem(out + out_mark, out_len - out_mark, s->text, s->len);
        long left = deadline - now_ms();

        if (hit != NULL) {
            out_mark = (size_t)(hit - out) + s->len;
            return 0;
        }
        if (left <= 0 || pump(fd, (int)(left < 100 ? left : 100)) < 0)
            return -1;
    }
}

/* Run cmd (sh -c, stdin /dev/null) and type its output into master.
 * Its exit status, or 124 when it outlived timeout_s. */
static int
run_typed(int master, const char *cmd, int timeout_s)
{
    long end = now_ms() + timeout_s * 1000L;
    char b[4096];
    size_t len = 0;
    int p[2], st = 0;
    pid_t x;

    if (pipe(p) != 0)
        die("pipe");
    x = fork();
    if (x < 0)
        die("fork");
    if (x == 0) {
        int nul = open("/dev/null", O_RDONLY);

        if (nul >= 0)
            dup2(nul, 0);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        close(master);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        die("sh");
    }
    close(p[1]);
    for (;;) {
        struct pollfd pf = {p[0], POLLIN, 0};
        ssize_t n;

        if (now_ms() >= end) {
            kill(x, SIGKILL);
            waitpid(x, NULL, 0);
            close(p[0]);
            return 124;
        }
        if (poll(&pf, 1, 100) <= 0)
            continue;
        n = read(p[0], b + len, sizeof(b) - len);
        if (n <= 0 || (len += (size_t)n) == sizeof(b))
            break;
    }
    close(p[0]);
    waitpid(x, &st, 0);
    if (len > 0 && write(master, b, len) != (ssize_t)len)
        die("write");
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run cmd (sh -c) with its stdin and stdout on pipes relayed to and
 * from the terminal's other end: a separate line, as a laptop's serial
 * port is (so its terminal settings never reach the program's).  Its
 * exit status, or 124 when it outlived timeout_s. */
static int
run_attached(int master, const char *cmd, int timeout_s)
{
    int in[2], outp[2], st = 0, open_out = 1;
    long end = now_ms() + timeout_s * 1000L;
    char b[4096];
    pid_t x;

    if (pipe(in) != 0 || pipe(outp) != 0)
        die("pipe");
    x = fork();
    if (x < 0)
        die("fork");
    if (x == 0) {
        dup2(in[0], 0);
        dup2(outp[1], 1);
        close(in[0]);
        close(in[1]);
        close(outp[0]);
        close(outp[1]);
        close(master);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        die("sh");
    }
    close(in[0]);
    close(outp[1]);
    signal(SIGPIPE, SIG_IGN);
    while (open_out) {
        struct pollfd pf[2] = {{master, POLLIN, 0}, {outp[0], POLLIN, 0}};
        ssize_t n;

        if (now_ms() >= end) {
            kill(x, SIGKILL);
            waitpid(x, NULL, 0);
            close(in[1]);
            close(outp[0]);
            return 124;
        }
        if (poll(pf, 2, 100) < 0)
            continue;
        if (pf[1].revents & (POLLIN | POLLHUP)) {
            n = read(outp[0], b, sizeof(b));
            if (n <= 0)
                open_out = 0;
            else if (write(master, b, (size_t)n) != n)
                die("write");
        }
        if (open_out && (pf[0].revents & POLLIN)) {
            /* A program that stopped reading is ending: its write
             * fails, and that is all. */
            n = read(master, b, sizeof(b));
            if (n > 0)
                (void)!write(in[1], b, (size_t)n);
        }
    }
    close(in[1]);
    close(outp[0]);
    while (waitpid(x, &st, WNOHANG) != x) {
        if (now_ms() >= end) {
            kill(x, SIGKILL);
            waitpid(x, NULL, 0);
            return 124;
        }
        usleep(10000);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int
main(int argc, char **argv)
{
    struct step *steps = calloc((size_t)argc, sizeof(*steps));
    int nsteps = 0, timeout_s = 30, i, master, status;
    struct winsize ws = {24, 80, 0, 0};
    FILE *times = NULL;
    pid_t pid;
    long deadline, t0;

    out = malloc(OUT_MAX);
    if (steps == NULL || out == NULL)
        die("malloc");
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            timeout_s = atoi(argv[++i]);
        } else if (strcmp(argv[i], "-T") == 0 && i + 1 < argc) {
            times = fopen(argv[++i], "w");
            if (times == NULL)
                die(argv[i]);
        } else if ((strcmp(argv[i], "-e") == 0 || strcmp(argv[i], "-s") == 0 ||
                    strcmp(argv[i], "-x") == 0 || strcmp(argv[i], "-X") == 0) &&
                   i + 1 < argc) {
            steps[nsteps].kind = argv[i][1];
            steps[nsteps].text = argv[++i];
            /* a command is shell text, not escaped keys */
            steps[nsteps].len = steps[nsteps].kind == 'X'
                                    ? strlen(steps[nsteps].text)
                                    : unescape(steps[nsteps].text);
            nsteps++;
        } else {
            break;
        }
    }
    if (i + 1 >= argc || strcmp(argv[i], "--") != 0 || timeout_s <= 0) {
        fprintf(stderr, "usage: ptyexpect [-t SECONDS] [-T FILE] [-e TEXT | "
                        "-s KEYS | -x COMMAND | -X COMMAND]... -- PROGRAM "
                        "[ARG...]\n");
        return 125;
    }

    master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
        die("posix_openpt");
    ioctl(master, TIOCSWINSZ, &ws);
    t0 = now_ms();
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        const char *name = ptsname(master);
        int slave;

        setsid();
        slave = name != NULL ? open(name, O_RDWR) : -1;
        if (slave < 0)
            die("open pty");
        ioctl(slave, TIOCSCTTY, 0);
        dup2(slave, 0);
        dup2(slave, 1);
        dup2(slave, 2);
        if (slave > 2)
            close(slave);
        close(master);
        execvp(argv[i + 1], argv + i + 1);
        die(argv[i + 1]);
    }

    for (int k = 0; k < nsteps; k++) {
        const struct step *s = &steps[k];

        if (s->kind == 's') {
            if (write(master, s->text, s->len) != (ssize_t)s->len)
                die("write");
            continue;
        }
        if (s->kind == 'X') {
            int rc = run_typed(master, s->text, timeout_s);

            if (rc != 0) {
                fprintf(stderr, "\nptyexpect: step %d: '%s' ended with %d\n",
                        k + 1, s->text, rc);
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return 124;
            }
            continue;
        }
        if (s->kind == 'x') {
            int rc = run_attached(master, s->text, timeout_s);

            if (rc == 124) {
                fprintf(stderr,
                        "\nptyexpect: step %d: '%s' did not end "
                        "within %d s\n",
                        k + 1, s->text, timeout_s);
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return 124;
            }
            if (rc != 0)
                fprintf(stderr, "\nptyexpect: step %d: '%s' ended with %d\n",
                        k + 1, s->text, rc);
            out_mark = out_len; /* what follows is after the transfer */
            continue;
        }
        if (wait_for(master, s, now_ms() + timeout_s * 1000L) != 0) {
            fprintf(stderr,
                    "\nptyexpect: step %d: no \"%.*s\" within %d s; "
                    "killing the program\n",
                    k + 1, (int)s->len, s->text, timeout_s);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return 124;
        }
        if (times != NULL) {
            fprintf(times, "%ld %.*s\n", now_ms() - t0, (int)s->len, s->text);
            fflush(times);
        }
    }
    if (times != NULL)
        fclose(times);
    /* Read until every holder of the terminal has closed it, then reap. */
    deadline = now_ms() + timeout_s * 1000L;
    while (now_ms() < deadline && pump(master, 100) == 0)
        ;
    while (waitpid(pid, &status, WNOHANG) != pid) {
        if (now_ms() >= deadline) {
            fprintf(stderr,
                    "\nptyexpect: the program did not end within %d s; "
                    "killing it\n",
                    timeout_s);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return 124;
        }
        usleep(10000);
    }
    close(master);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    fprintf(stderr, "\nptyexpect: the program died of signal %d\n",
            WTERMSIG(status));
    return 128 + WTERMSIG(status);
}
