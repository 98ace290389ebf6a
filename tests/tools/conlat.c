/* conlat - the console's response time, idle and under load.
 *
 *   conlat -t TRIGGER [-s CMD]... [-g GO] [-e END] [-n COUNT] [-i MS]
 *          [-d MS] [-w SECONDS] [-T SECONDS] [-l LOG] -- PROGRAM [ARG...]
 *
 * Starts PROGRAM (keel) with pipes on its standard input and output, so
 * it runs in script mode: each line is echoed, run, and followed by the
 * `keel> ` prompt.  Then:
 *   1. waits for the first prompt, and runs each setup command CMD (-s,
 *      in order), each until the prompt that follows it;
 *   2. with -g, waits for the file GO to exist;
 *   3. the idle phase: sends `uptime` COUNT times (default 200), one
 *      every MS milliseconds (-i, default 20; at once if an answer took
 *      longer), and times each from the write to the next prompt
 *      (CLOCK_MONOTONIC); a phase ends early after -d MS (default
 *      10000);
 *   4. says "conlat: waiting for TRIGGER" and waits for that file;
 *   5. the load phase, as the idle one;
 *   6. with -e, says "conlat: load done" and waits for the file END (so
 *      that the load can finish before the program powers off);
 *   7. sends `poweroff`, closes the program's input, reads to its end
 *      and reaps it.
 * Every wait is bounded: a prompt by -w SECONDS (default 30), a file by
 * -T SECONDS (default 120), the program's exit by 10 s (then SIGKILL).
 *
 * Standard output: progress lines "conlat: ..." and one line per phase,
 *   conlat idle samples=N p50_ms=X p99_ms=X max_ms=X
 * (percentiles by nearest rank).  The program's output goes to LOG (-l),
 * its standard error is conlat's.  Exit status: 0 when both phases ran;
 * 124 when a wait timed out (the program is killed); 125 on a usage or
 * system error.  SIGTERM or SIGINT ends the program by its pid first.
 *
 * A host test tool for tests/bench/net.sh, never shipped. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROMPT "keel> "
#define PROMPT_LEN 6
#define SETUP_MAX 32
#define SAMPLES_MAX 10000

static pid_t child = -1;
static int to_child = -1, from_child = -1;
static FILE *transcript;
/* The tail of the output since the last command, for the prompt. */
static char tail[PROMPT_LEN];
static size_t tail_len;
static int child_eof;

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
stop_child(void)
{
    if (child <= 0)
        return;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = -1;
}

static void
on_signal(int sig)
{
    struct timespec ts = {0, 10 * 1000 * 1000};

    if (child > 0) {
        kill(child, SIGTERM);
        for (int i = 0; i < 100; i++) {
            if (waitpid(child, NULL, WNOHANG) == child)
                _exit(128 + sig);
            nanosleep(&ts, NULL);
        }
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    _exit(128 + sig);
}

static void
fail(int status, const char *fmt, const char *arg)
{
    fprintf(stderr, "conlat: ");
    fprintf(stderr, fmt, arg);
    if (status == 125 && errno != 0)
        fprintf(stderr, ": %s", strerror(errno));
    fprintf(stderr, "\n");
    stop_child();
    exit(status);
}

/* Read what the program wrote, waiting at most wait_ms.  Returns 1 when
 * the prompt has been seen since the last reset, else 0. */
static int
pump(int wait_ms)
{
    struct pollfd p = {from_child, POLLIN, 0};
    char buf[4096];
    ssize_t got;
    int found = 0;

    if (child_eof) {
        if (wait_ms > 0)
            poll(NULL, 0, wait_ms);
        return 0;
    }
    if (poll(&p, 1, wait_ms < 0 ? 0 : wait_ms) <= 0)
        return 0;
    got = read(from_child, buf, sizeof(buf));
    if (got <= 0) {
        child_eof = 1;
        return 0;
    }
    if (transcript != NULL)
        fwrite(buf, 1, (size_t)got, transcript);
    /* Match across reads: the kept tail, then this chunk. */
    for (ssize_t i = 0; i < got; i++) {
        if (tail_len == PROMPT_LEN) {
            memmove(tail, tail + 1, PROMPT_LEN - 1);
            tail_len--;
        }
        tail[tail_len++] = buf[i];
        if (tail_len == PROMPT_LEN && memcmp(tail, PROMPT, PROMPT_LEN) == 0)
            found = 1;
    }
    return found;
}

static void
send_line(const char *line)
{
    size_t len = strlen(line);
    char buf[1024];

    if (len + 2 > sizeof(buf))
        fail(125, "command too long: %s", line);
    memcpy(buf, line, len);
    buf[len++] = '\n';
    tail_len = 0;
    if (write(to_child, buf, len) != (ssize_t)len)
        fail(125, "cannot write '%s' to the program", line);
}

/* Until the prompt, bounded; returns the time it was seen. */
static double
wait_prompt(double limit_ms, const char *what)
{
    double deadline = now_ms() + limit_ms;

    for (;;) {
        double left = deadline - now_ms();

        if (left <= 0)
            fail(124, "no prompt after '%s' in time", what);
        if (child_eof)
            fail(124, "the program ended before the prompt after '%s'", what);
        if (pump(left > 100 ? 100 : (int)left + 1))
            return now_ms();
    }
}

static void
wait_file(const char *path, double limit_ms)
{
    double deadline = now_ms() + limit_ms;
    struct stat st;

    while (stat(path, &st) != 0) {
        if (now_ms() > deadline)
            fail(124, "%s did not appear in time", path);
        pump(10); /* keep the program's output flowing */
    }
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least p of them at or
 * below it. */
static double
rank(const double *s, int n, double p)
{
    int k = (int)(p * n);

    if (k < p * n)
        k++;

    return s[k < 1 ? 0 : k > n ? n - 1 : k - 1];
}

static void
phase(const char *name, int count, double every_ms, double max_ms,
      double prompt_ms)
{
    static double s[SAMPLES_MAX];
    double t0 = now_ms(), next = t0;
    int n = 0;

    while (n < count && now_ms() - t0 < max_ms) {
        double sent, done;

        while (now_ms() < next)
            pump((int)(next - now_ms()) + 1);
        sent = now_ms();
        send_line("uptime");
        done = wait_prompt(prompt_ms, "uptime");
        s[n++] = done - sent;
        next = sent + every_ms;
    }
    qsort(s, (size_t)n, sizeof(s[0]), cmp_double);
    printf("conlat %s samples=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
           "seconds=%.1f\n",
           name, n, n ? rank(s, n, 0.5) : 0.0, n ? rank(s, n, 0.99) : 0.0,
           n ? s[n - 1] : 0.0, (now_ms() - t0) / 1e3);
    fflush(stdout);
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: conlat -t TRIGGER [-s CMD]... [-g GO] [-e END] "
            "[-n COUNT] [-i MS]\n"
            "              [-d MS] [-w SECONDS] [-T SECONDS] [-l LOG] -- "
            "PROGRAM [ARG...]\n");
    exit(125);
}

int
main(int argc, char **argv)
{
    const char *setup[SETUP_MAX], *trigger = NULL, *go = NULL, *end = NULL;
    const char *logpath = NULL;
    int nsetup = 0, count = 200, opt, in[2], out[2], status;
    double every = 20, max_ms = 10000, prompt_ms = 30000, file_ms = 120000;
    struct sigaction sa;

    while ((opt = getopt(argc, argv, "t:s:g:e:n:i:d:w:T:l:")) != -1) {
        switch (opt) {
        case 't':
            trigger = optarg;
            break;
        case 's':
            if (nsetup == SETUP_MAX)
                usage();
            setup[nsetup++] = optarg;
            break;
        case 'g':
            go = optarg;
            break;
        case 'e':
            end = optarg;
            break;
        case 'n':
            count = atoi(optarg);
            break;
        case 'i':
            every = atof(optarg);
            break;
        case 'd':
            max_ms = atof(optarg);
            break;
        case 'w':
            prompt_ms = atof(optarg) * 1e3;
            break;
        case 'T':
            file_ms = atof(optarg) * 1e3;
            break;
        case 'l':
            logpath = optarg;
            break;
        default:
            usage();
        }
    }
    if (trigger == NULL || optind >= argc || count < 1 || count > SAMPLES_MAX ||
        every < 0 || max_ms <= 0 || prompt_ms <= 0 || file_ms <= 0)
        usage();
    if (logpath != NULL && (transcript = fopen(logpath, "w")) == NULL)
        fail(125, "cannot open %s", logpath);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        fail(125, "%s", "pipe");
    child = fork();
    if (child < 0)
        fail(125, "%s", "fork");
    if (child == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "conlat: cannot run %s: %s\n", argv[optind],
                strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_child = in[1];
    from_child = out[0];

    wait_prompt(prompt_ms, "start");
    for (int i = 0; i < nsetup; i++) {
        send_line(setup[i]);
        wait_prompt(prompt_ms, setup[i]);
    }
    printf("conlat: setup done\n");
    fflush(stdout);
    if (go != NULL)
        wait_file(go, file_ms);
    phase("idle", count, every, max_ms, prompt_ms);
    printf("conlat: waiting for %s\n", trigger);
    fflush(stdout);
    wait_file(trigger, file_ms);
    phase("load", count, every, max_ms, prompt_ms);
    if (end != NULL) {
        printf("conlat: load done\n");
        fflush(stdout);
        wait_file(end, file_ms);
    }

    send_line("poweroff");
    close(to_child);
    to_child = -1;
    for (double t_end = now_ms() + 10000; !child_eof && now_ms() < t_end;)
        pump(100);
    for (int i = 0; i < 100; i++) {
        if (waitpid(child, &status, WNOHANG) == child) {
            child = -1;
            break;
        }
        poll(NULL, 0, 100);
    }
    if (child > 0) {
        fprintf(stderr, "conlat: the program did not end; killed\n");
        stop_child();
        return 124;
    }
    if (transcript != NULL)
        fclose(transcript);
    printf("conlat: program exited with status %d\n",
           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
