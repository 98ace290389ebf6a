/*
 * tests/unit/test_simwire.c - keel-wire, the simwire hub
 * (src/tools/keel-wire.c), and the node's side of it
 * (hal/linux/net_simwire.c through hal_net_open()), end to end, with
 * hal_poll() (hal/posix/poll.c) doing every wait.
 *
 * The hub runs as a child: build/tools/keel-wire, or argv[1], or
 * $KEEL_WIRE.  Three ports a, b and c attach; the cases check
 * switching (flooding, learning), each fault and its undoing, the
 * control protocol's refusals, size checks, refused attaches, a hub
 * killed and restarted under attached ports, and a clean SIGTERM.
 * Every wait is bounded (at most 3 s); the hub is killed by its pid at
 * exit, and dies with this process if it crashes (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hal/net.h"
#include "hal/poll.h"
#include "ut.h"

#define WAIT_MS 3000  /* the longest any one wait may take */
#define QUIET_MS 200  /* "nothing arrives": nothing within this */
#define ETYPE_HI 0x88 /* 0x88b5: IEEE local experimental */
#define ETYPE_LO 0xb5

static const char *hub_bin;
static char dir[32], sock[64], ctlp[80], pidf[80];
static pid_t hub = -1;
static int ctl = -1;
static struct hal_net na, nb, nc;
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* ---- the hub ------------------------------------------------------------- */

static pid_t
spawn(const char *const *args)
{
    char *argv[16];
    int k = 0;
    pid_t pid;

    argv[k++] = (char *)hub_bin;
    for (; args != NULL && *args != NULL && k < 14; args++)
        argv[k++] = (char *)*args;
    argv[k++] = sock;
    argv[k] = NULL;
    pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execv(hub_bin, argv);
        _exit(127);
    }
    return pid;
}

static int
ctl_connect(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ctlp);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

/* Start the hub and wait until its control socket answers (the port
 * socket listens before it). */
static int
hub_start(const char *const *args)
{
    int64_t end = now_ms() + WAIT_MS;

    hub = spawn(args);
    if (hub < 0)
        return -1;
    while (now_ms() < end) {
        int st;

        if (waitpid(hub, &st, WNOHANG) == hub) {
            hub = -1;
            return -1;
        }
        ctl = ctl_connect();
        if (ctl >= 0)
            return 0;
        sleep_ms(20);
    }
    return -1;
}

/* Signal a child and reap it: its exit status, 128 + a signal, or -1
 * when it had to be killed after WAIT_MS. */
static int
reap(pid_t pid, int sig)
{
    int64_t end = now_ms() + WAIT_MS;
    int st;

    if (pid <= 0)
        return -1;
    if (sig != 0)
        kill(pid, sig);
    while (now_ms() < end) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

static int
hub_stop(int sig)
{
    int rc;

    if (ctl >= 0)
        close(ctl);
    ctl = -1;
    rc = reap(hub, sig);
    hub = -1;
    return rc;
}

static void
cleanup(void)
{
    hub_stop(SIGKILL);
    unlink(sock);
    unlink(ctlp);
    unlink(pidf);
    rmdir(dir);
}

/* One control command: 0 for "ok ...", 1 for "error ...", -1 when no
 * reply line came. */
static int
ctl_cmd(const char *cmd, char *out, size_t cap)
{
    int64_t end = now_ms() + WAIT_MS;
    char line[2048];
    size_t len = 0;
    int k = snprintf(line, sizeof(line), "%s\n", cmd);

    out[0] = '\0';
    if (ctl < 0 || send(ctl, line, (size_t)k, MSG_NOSIGNAL) != k)
        return -1;
    while (len < cap - 1) {
        struct pollfd p = {.fd = ctl, .events = POLLIN};
        int64_t left = end - now_ms();

        if (left <= 0 || poll(&p, 1, (int)left) != 1 ||
            recv(ctl, out + len, 1, 0) != 1)
            break;
        if (out[len] == '\n') {
            out[len] = '\0';
            return strncmp(out, "ok", 2) == 0 ? 0 : 1;
        }
        len++;
    }
    out[len] = '\0';
    return -1;
}

static int
ctl_ok(const char *cmd)
{
    char out[512];
    int rc = ctl_cmd(cmd, out, sizeof(out));

    if (rc != 0)
        printf("    '%s' -> '%s'\n", cmd, out);
    return rc == 0;
}

/* A counter from "stats", or -1. */
static long long
stat_of(const char *name)
{
    char out[1024], key[64];
    const char *p;

    if (ctl_cmd("stats", out, sizeof(out)) != 0)
        return -1;
    snprintf(key, sizeof(key), " %s=", name);
    p = strstr(out, key);
    return p == NULL ? -1 : strtoll(p + strlen(key), NULL, 10);
}

/* Wait until the hub counts want attached ports; the nodes' link()
 * calls meanwhile are what makes detached ones try again. */
static int
wait_ports(long long want)
{
    int64_t end = now_ms() + WAIT_MS;

    while (now_ms() < end) {
        hal_net_link(&na);
        hal_net_link(&nb);
        hal_net_link(&nc);
        if (stat_of("ports") == want)
            return 1;
        sleep_ms(20);
    }
    return 0;
}

/* ---- frames -------------------------------------------------------------- */

static int
send_tag(struct hal_net *n, const uint8_t dst[6], uint32_t tag)
{
    uint8_t f[64];

    memset(f, 0x5a, sizeof(f));
    memcpy(f, dst, 6);
    memcpy(f + 6, n->mac, 6);
    f[12] = ETYPE_HI;
    f[13] = ETYPE_LO;
    f[14] = (uint8_t)(tag >> 24);
    f[15] = (uint8_t)(tag >> 16);
    f[16] = (uint8_t)(tag >> 8);
    f[17] = (uint8_t)tag;
    return hal_net_send(n, f, sizeof(f));
}

/* The tags of what n receives within ms, at most max of them. */
static int
got(struct hal_net *n, int ms, uint32_t *tags, int max)
{
    uint8_t f[HAL_NET_FRAME_MAX];
    int64_t end = now_ms() + ms;
    int k = 0;

    while (k < max) {
        int r = hal_net_recv(n, f, sizeof(f));
        int64_t left;

        if (r > 0) {
            if (r >= 18 && f[12] == ETYPE_HI && f[13] == ETYPE_LO)
                tags[k++] = (uint32_t)f[14] << 24 | (uint32_t)f[15] << 16 |
                            (uint32_t)f[16] << 8 | f[17];
            continue;
        }
        left = end - now_ms();
        if (r < 0 || left <= 0)
            break;
        hal_poll(NULL, n, (int)left);
    }
    return k;
}

static int
got1(struct hal_net *n, uint32_t tag)
{
    uint32_t t[2];

    return got(n, WAIT_MS, t, 1) == 1 && t[0] == tag;
}

static int
none(struct hal_net *n)
{
    uint32_t t[4];

    return got(n, QUIET_MS, t, 4) == 0;
}

static int
open_port(struct hal_net *n, const char *name)
{
    char spec[200];
    const char *why;

    snprintf(spec, sizeof(spec), "simwire:%s,port=%s", sock, name);
    return hal_net_open(n, spec, &why);
}

/* ---- cases --------------------------------------------------------------- */

static const struct hal_console_ops no_ops;

static void
test_poll(void)
{
    struct hal_console c = {.ops = &no_ops};
    int p[2];
    int64_t t0;
    char x;

    UT_CASE("poll: console input, hang-up as readable, timeout");
    UT_CHECK(pipe(p) == 0);
    c.h[0] = p[0];
    UT_CHECK_EQ(hal_poll(&c, NULL, 0), 0);
    t0 = now_ms();
    UT_CHECK_EQ(hal_poll(&c, &na, 100), 0); /* na closed: ignored */
    UT_CHECK(now_ms() - t0 >= 90);
    UT_CHECK_EQ(write(p[1], "x", 1), 1);
    UT_CHECK_EQ(hal_poll(&c, NULL, 1000), (int)HAL_POLL_CONSOLE);
    UT_CHECK_EQ(read(p[0], &x, 1), 1);
    close(p[1]);
    UT_CHECK_EQ(hal_poll(&c, NULL, 1000), (int)HAL_POLL_CONSOLE);
    close(p[0]);
}

static void
test_open_refusals(void)
{
    static const struct {
        const char *spec;
        int rc;
        const char *why; /* a word the reason holds */
    } cases[] = {
        {"bogus:x", -EINVAL, "simwire:PATH"},
        {"simwire:", -EINVAL, "path"},
        {"simwire:,port=a", -EINVAL, "path"},
        {"simwire:/nonexistent/w.sock,port=a", -ENOENT, "keel-wire"},
        {"simwire:/tmp/w.sock,port=", -EINVAL, "port name"},
        {"simwire:/tmp/w.sock,port=a/b", -EINVAL, "port name"},
        {"simwire:/tmp/w.sock,port=abcdefghijklmnopqrstuvwxyz0123456", -EINVAL,
         "port name"},
        {"simwire:/tmp/w.sock,colour=red", -EINVAL, "option"},
        {"simwire:/tmp/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx.sock,port=a",
         -ENAMETOOLONG, "too long"},
        {"packet:", -EINVAL, "interface"},
        {"packet:abcdefghijklmnop", -EINVAL, "interface"},
    };

    UT_CASE("open: bad specs refused with a reason, nothing left open");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hal_net n;
        const char *why = NULL;
        int rc = hal_net_open(&n, cases[i].spec, &why);

        if (rc != cases[i].rc || why == NULL ||
            strstr(why, cases[i].why) == NULL || n.ops != NULL || n.h != -1)
            printf("    %s: %d (%s)\n", cases[i].spec, rc, why ? why : "-");
        UT_CHECK_EQ(rc, cases[i].rc);
        UT_CHECK(why != NULL && strstr(why, cases[i].why) != NULL);
        UT_CHECK(n.ops == NULL && n.h == -1);
    }
}

static void
test_attach(void)
{
    struct hal_net z;
    uint8_t zmac[6];
    char out[512];

    UT_CASE("attach: three ports, their MACs, the hub's port list");
    UT_CHECK_EQ(open_port(&na, "a"), 0);
    UT_CHECK_EQ(open_port(&nb, "b"), 0);
    UT_CHECK_EQ(open_port(&nc, "c"), 0);
    UT_CHECK(na.ops != NULL && strcmp(na.kind, "simwire") == 0);
    UT_CHECK(na.dhcp_default == 0 && (int)na.h >= 0);
    UT_CHECK(strstr(na.name, ",port=a") != NULL);
    UT_CHECK(na.mac[0] == 0x02 && nb.mac[0] == 0x02);
    UT_CHECK(memcmp(na.mac, nb.mac, 6) != 0);
    UT_CHECK(memcmp(nb.mac, nc.mac, 6) != 0);
    UT_CHECK(hal_net_link(&na) == 1);
    UT_CHECK(wait_ports(3));
    UT_CHECK_EQ(ctl_cmd("ports", out, sizeof(out)), 0);
    UT_CHECK(strcmp(out, "ok 3 a=- b=- c=-") == 0);

    /* the MAC follows the name: the same after a restart */
    UT_CHECK_EQ(open_port(&z, "zz"), 0);
    memcpy(zmac, z.mac, 6);
    hal_net_close(&z);
    UT_CHECK(wait_ports(3)); /* else the hub has no room for it yet */
    UT_CHECK_EQ(open_port(&z, "zz"), 0);
    UT_CHECK(memcmp(zmac, z.mac, 6) == 0);
    UT_CHECK(memcmp(zmac, na.mac, 6) != 0);
    hal_net_close(&z);
    UT_CHECK(wait_ports(3));
}

static void
test_switching(void)
{
    static const uint8_t unknown[6] = {0x02, 0, 0, 0, 0, 0x99};
    char out[512], want[512];
    uint32_t t[4];

    UT_CASE("switch: broadcast reaches the two others, never the sender");
    UT_CHECK_EQ(send_tag(&na, bcast, 1), 0);
    UT_CHECK(got1(&nb, 1));
    UT_CHECK(got1(&nc, 1));
    UT_CHECK(none(&na));
    UT_CHECK_EQ(na.st.tx_frames, 1);
    UT_CHECK_EQ(nb.st.rx_frames, 1);

    UT_CASE("switch: unicast after learning reaches only its target");
    UT_CHECK_EQ(send_tag(&nb, na.mac, 2), 0);
    UT_CHECK(got1(&na, 2));
    UT_CHECK(none(&nc));
    UT_CHECK_EQ(send_tag(&na, nb.mac, 3), 0);
    UT_CHECK(got1(&nb, 3));
    UT_CHECK(none(&nc));

    UT_CASE("switch: unknown unicast floods; the port list has the MACs");
    UT_CHECK_EQ(send_tag(&nc, unknown, 4), 0);
    UT_CHECK(got1(&na, 4));
    UT_CHECK(got1(&nb, 4));
    UT_CHECK_EQ(got(&nc, QUIET_MS, t, 4), 0);
    UT_CHECK_EQ(ctl_cmd("ports", out, sizeof(out)), 0);
    snprintf(want, sizeof(want),
             "ok 3 a=%02x:%02x:%02x:%02x:%02x:%02x "
             "b=%02x:%02x:%02x:%02x:%02x:%02x "
             "c=%02x:%02x:%02x:%02x:%02x:%02x",
             na.mac[0], na.mac[1], na.mac[2], na.mac[3], na.mac[4], na.mac[5],
             nb.mac[0], nb.mac[1], nb.mac[2], nb.mac[3], nb.mac[4], nb.mac[5],
             nc.mac[0], nc.mac[1], nc.mac[2], nc.mac[3], nc.mac[4], nc.mac[5]);
    UT_CHECK(strcmp(out, want) == 0);
    if (strcmp(out, want) != 0)
        printf("    ports: '%s'\n    want:  '%s'\n", out, want);
}

static void
test_drop(void)
{
    long long d0 = stat_of("dropped_fault");

    UT_CASE("fault: drop 100 drops everything, clear restores");
    UT_CHECK(ctl_ok("drop 100"));
    UT_CHECK_EQ(send_tag(&na, bcast, 10), 0);
    UT_CHECK(none(&nb));
    UT_CHECK(none(&nc));
    UT_CHECK_EQ(stat_of("dropped_fault"), d0 + 2);
    UT_CHECK(ctl_ok("clear"));
    UT_CHECK_EQ(send_tag(&na, bcast, 11), 0);
    UT_CHECK(got1(&nb, 11));
    UT_CHECK(got1(&nc, 11));
}

static void
test_partition(void)
{
    long long d0 = stat_of("dropped_partition");
    char out[512];

    UT_CASE("fault: partition a,b c separates c; heal rejoins");
    UT_CHECK(ctl_ok("partition a,b c"));
    UT_CHECK_EQ(send_tag(&na, bcast, 20), 0);
    UT_CHECK(got1(&nb, 20));
    UT_CHECK(none(&nc));
    UT_CHECK_EQ(send_tag(&nc, bcast, 21), 0);
    UT_CHECK(none(&na));
    UT_CHECK(none(&nb));
    UT_CHECK_EQ(send_tag(&nc, na.mac, 22), 0); /* known unicast too */
    UT_CHECK(none(&na));
    UT_CHECK_EQ(stat_of("dropped_partition"), d0 + 4);

    /* a refused partition leaves the one in force */
    UT_CHECK_EQ(ctl_cmd("partition a,b a", out, sizeof(out)), 1);
    UT_CHECK(strstr(out, "named twice") != NULL);
    UT_CHECK_EQ(ctl_cmd("faults", out, sizeof(out)), 0);
    UT_CHECK(strstr(out, "partition=a,b c") != NULL);

    UT_CASE("fault: ports named in no group are one group together");
    UT_CHECK(ctl_ok("partition a"));
    UT_CHECK_EQ(send_tag(&nb, bcast, 23), 0);
    UT_CHECK(got1(&nc, 23));
    UT_CHECK(none(&na));

    UT_CHECK(ctl_ok("heal"));
    UT_CHECK_EQ(send_tag(&nc, bcast, 24), 0);
    UT_CHECK(got1(&na, 24));
    UT_CHECK(got1(&nb, 24));
}

static void
test_dup(void)
{
    uint32_t t[4];

    UT_CASE("fault: dup 100 sends every frame twice");
    UT_CHECK(ctl_ok("dup 100"));
    UT_CHECK_EQ(send_tag(&na, nb.mac, 30), 0);
    UT_CHECK_EQ(got(&nb, 500, t, 4), 2);
    UT_CHECK(t[0] == 30 && t[1] == 30);
    UT_CHECK(none(&nc));
    UT_CHECK(ctl_ok("clear"));
    UT_CHECK_EQ(send_tag(&na, nb.mac, 31), 0);
    UT_CHECK_EQ(got(&nb, 500, t, 4), 1);
}

static void
test_delay(void)
{
    int64_t t0;
    long long d0;
    uint32_t t[2];

    UT_CASE("fault: delay 200 holds frames back 200 ms");
    UT_CHECK(ctl_ok("delay 200"));
    t0 = now_ms();
    UT_CHECK_EQ(send_tag(&na, nb.mac, 40), 0);
    UT_CHECK_EQ(got(&nb, 100, t, 1), 0);
    UT_CHECK(got1(&nb, 40));
    UT_CHECK(now_ms() - t0 >= 150);
    UT_CHECK(ctl_ok("clear"));
    d0 = stat_of("delayed");
    UT_CHECK_EQ(send_tag(&na, nb.mac, 41), 0);
    UT_CHECK(got1(&nb, 41));
    UT_CHECK_EQ(stat_of("delayed"), d0);
}

static void
test_reorder(void)
{
    uint32_t t[4];
    int64_t t0;

    UT_CASE("fault: reorder 100 swaps each pair; a lone frame waits 1 s");
    UT_CHECK(ctl_ok("reorder 100"));
    UT_CHECK_EQ(send_tag(&na, nb.mac, 50), 0);
    UT_CHECK_EQ(send_tag(&na, nb.mac, 51), 0);
    UT_CHECK_EQ(got(&nb, 1000, t, 2), 2);
    UT_CHECK(t[0] == 51 && t[1] == 50);
    t0 = now_ms();
    UT_CHECK_EQ(send_tag(&na, nb.mac, 52), 0);
    UT_CHECK_EQ(got(&nb, 500, t, 1), 0);
    UT_CHECK(got1(&nb, 52));
    UT_CHECK(now_ms() - t0 >= 900);
    UT_CHECK(ctl_ok("clear"));
    UT_CHECK_EQ(send_tag(&na, nb.mac, 53), 0);
    UT_CHECK_EQ(send_tag(&na, nb.mac, 54), 0);
    UT_CHECK_EQ(got(&nb, 1000, t, 2), 2);
    UT_CHECK(t[0] == 53 && t[1] == 54);
}

/* 40 frames a -> b at drop 50 from seed N: which arrived, as bits. */
static uint64_t
drop_pattern(const char *seed)
{
    uint32_t t[40];
    uint64_t bits = 0;
    int64_t end = now_ms() + WAIT_MS;
    long long f0;
    int k;

    if (!ctl_ok(seed) || !ctl_ok("drop 50"))
        return 0;
    f0 = stat_of("forwarded") + stat_of("dropped_fault");
    for (uint32_t i = 0; i < 40; i++)
        send_tag(&na, nb.mac, 100 + i);
    /* Every frame has been through the hub, then take what came. */
    while (stat_of("forwarded") + stat_of("dropped_fault") < f0 + 40 &&
           now_ms() < end)
        sleep_ms(10);
    k = got(&nb, QUIET_MS, t, 40);
    for (int i = 0; i < k; i++)
        if (t[i] >= 100 && t[i] < 140)
            bits |= 1ull << (t[i] - 100);
    ctl_ok("clear");
    return bits;
}

static void
test_seed(void)
{
    uint64_t p1 = drop_pattern("seed 7"), p2 = drop_pattern("seed 7");
    uint64_t p3 = drop_pattern("seed 8");
    int n = __builtin_popcountll(p1);

    UT_CASE("fault: drop 50 with a seed repeats exactly; another differs");
    UT_CHECK(p1 == p2);
    UT_CHECK(p1 != p3);
    UT_CHECK(n >= 8 && n <= 32);
    if (p1 != p2 || n < 8 || n > 32)
        printf("    patterns %llx %llx %llx\n", (unsigned long long)p1,
               (unsigned long long)p2, (unsigned long long)p3);
}

static void
test_control(void)
{
    static const struct {
        const char *cmd;
        int rc;
        const char *reply;
    } cases[] = {
        {"drop 12.5", 0, "ok drop 12.5"},
        {"dup 0", 0, "ok dup 0"},
        {"delay 60000", 0, "ok delay 60000 ms"},
        {"seed 18446744073709551615", 0, "ok seed 18446744073709551615"},
        {"faults", 0,
         "ok drop=12.5 dup=0 reorder=0 delay=60000 "
         "seed=18446744073709551615 partition=none"},
        {"drop 100.5", 1, "error drop takes"},
        {"drop -1", 1, "error drop takes"},
        {"drop 1e2", 1, "error drop takes"},
        {"drop .5", 1, "error drop takes"},
        {"drop", 1, "error drop takes"},
        {"reorder 5 5", 1, "error reorder takes"},
        {"delay 60001", 1, "error delay takes"},
        {"delay 0x10", 1, "error delay takes"},
        {"seed 18446744073709551616", 1, "error seed takes"},
        {"partition", 1, "error partition needs"},
        {"partition a,,b", 1, "error partition: '' is not"},
        {"partition a b,", 1, "error partition: '' is not"},
        {"stats now", 1, "error stats takes no arguments"},
        {"nosuch", 1, "error unknown command 'nosuch'"},
        {"clear", 0, "ok clear"},
        {"faults", 0,
         "ok drop=0 dup=0 reorder=0 delay=0 "
         "seed=18446744073709551615 partition=none"},
    };
    char out[512], longline[1300];

    UT_CASE("control: each command's reply; refusals change nothing");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = ctl_cmd(cases[i].cmd, out, sizeof(out));

        if (rc != cases[i].rc ||
            strncmp(out, cases[i].reply, strlen(cases[i].reply)) != 0)
            printf("    '%s' -> '%s'\n", cases[i].cmd, out);
        UT_CHECK_EQ(rc, cases[i].rc);
        UT_CHECK(strncmp(out, cases[i].reply, strlen(cases[i].reply)) == 0);
    }
    /* An overlong line is refused once, and the next line runs. */
    memset(longline, 'x', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    UT_CHECK_EQ(ctl_cmd(longline, out, sizeof(out)), 1);
    UT_CHECK(strstr(out, "longer than") != NULL);
    UT_CHECK(ctl_ok("seed 1"));
}

static int
raw_attach(const char *hello)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        send(fd, hello, strlen(hello), MSG_NOSIGNAL) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* 1 when the hub closes fd within WAIT_MS. */
static int
closed_by_hub(int fd)
{
    int64_t end = now_ms() + WAIT_MS;
    char b[2048];

    while (now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;

        if (poll(&p, 1, 100) != 1)
            continue;
        r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN))
            return 1;
    }
    return 0;
}

/* 1 when link() goes 0 within WAIT_MS. */
static int
link_drops(struct hal_net *n)
{
    int64_t end = now_ms() + WAIT_MS;

    while (now_ms() < end) {
        if (!hal_net_link(n))
            return 1;
        sleep_ms(20);
    }
    return 0;
}

static void
test_sizes_and_refusals(void)
{
    uint8_t big[1600], small[10];
    long long s0 = stat_of("dropped_size"), in0 = stat_of("in");
    long long r0 = stat_of("refused");
    struct hal_net e;
    int raw, bad, rc;

    UT_CASE("hub: undersized and oversized messages dropped and counted");
    raw = raw_attach("KWIRE1 raw");
    UT_CHECK(raw >= 0);
    UT_CHECK(wait_ports(4));
    memset(big, 0xff, sizeof(big));
    memset(small, 0xff, sizeof(small));
    UT_CHECK_EQ(send(raw, small, sizeof(small), 0), (ssize_t)sizeof(small));
    UT_CHECK_EQ(send(raw, big, sizeof(big), 0), (ssize_t)sizeof(big));
    UT_CHECK_EQ(send(raw, big, HAL_NET_FRAME_MAX + 1, 0),
                (ssize_t)HAL_NET_FRAME_MAX + 1);
    big[12] = ETYPE_HI;
    big[13] = ETYPE_LO;
    big[14] = big[15] = big[16] = 0;
    big[17] = 60;
    /* the largest frame passes, and the hub went on after the others */
    UT_CHECK_EQ(send(raw, big, HAL_NET_FRAME_MAX, 0),
                (ssize_t)HAL_NET_FRAME_MAX);
    UT_CHECK(got1(&na, 60));
    UT_CHECK_EQ(stat_of("dropped_size"), s0 + 3);
    UT_CHECK_EQ(stat_of("in"), in0 + 4);
    UT_CHECK(got1(&nb, 60));
    UT_CHECK(got1(&nc, 60));
    UT_CHECK_EQ(hal_net_send(&na, big, HAL_NET_FRAME_MAX + 1), -EMSGSIZE);
    UT_CHECK_EQ(hal_net_send(&na, big, 13), -EINVAL);

    UT_CASE("hub: over --max-ports, a bad hello, a taken name: refused");
    /* The hub takes the connection and closes it: before the hello
     * (open fails) or after (the link drops). */
    rc = open_port(&e, "e");
    UT_CHECK(rc == 0 || rc == -EPIPE || rc == -ECONNRESET);
    UT_CHECK(rc != 0 || link_drops(&e));
    hal_net_close(&e);
    UT_CHECK(stat_of("refused") >= r0 + 1);
    close(raw);
    UT_CHECK(wait_ports(3));
    r0 = stat_of("refused");
    bad = raw_attach("HELLO a");
    UT_CHECK(bad >= 0 && closed_by_hub(bad));
    if (bad >= 0)
        close(bad);
    bad = raw_attach("KWIRE1 b");
    UT_CHECK(bad >= 0 && closed_by_hub(bad));
    if (bad >= 0)
        close(bad);
    UT_CHECK_EQ(stat_of("refused"), r0 + 2);
    UT_CHECK_EQ(stat_of("ports"), 3);
}

static void
test_hub_restart(void)
{
    const char *args[] = {"--max-ports", "4", "--pidfile", pidf, NULL};
    int64_t t0;
    uint64_t dropped;

    UT_CASE("node: a killed hub takes the link down; nothing spins");
    UT_CHECK(hub_stop(SIGKILL) == 128 + SIGKILL);
    UT_CHECK(link_drops(&na));
    UT_CHECK(link_drops(&nb));
    UT_CHECK_EQ((int)na.h, -1);
    dropped = na.st.tx_dropped;
    UT_CHECK_EQ(send_tag(&na, bcast, 70), 0);
    UT_CHECK_EQ(na.st.tx_dropped, dropped + 1);
    t0 = now_ms();
    UT_CHECK_EQ(hal_poll(NULL, &na, 200), 0);
    UT_CHECK(now_ms() - t0 >= 150);

    UT_CASE("node: a restarted hub is attached again, counted");
    UT_CHECK_EQ(hub_start(args), 0); /* over the stale socket file */
    UT_CHECK(wait_ports(3));
    UT_CHECK(hal_net_link(&na) == 1 && hal_net_link(&nb) == 1);
    UT_CHECK_EQ(na.st.reconnects, 1);
    UT_CHECK_EQ(nb.st.reconnects, 1);
    UT_CHECK_EQ(send_tag(&na, bcast, 71), 0);
    UT_CHECK(got1(&nb, 71));
    UT_CHECK(got1(&nc, 71));
}

static void
test_second_hub(void)
{
    const char *args[] = {NULL};
    pid_t p;

    UT_CASE("hub: a second hub on a live socket refuses to start");
    p = spawn(args);
    UT_CHECK(p > 0);
    UT_CHECK_EQ(reap(p, 0), 1);
    UT_CHECK_EQ(stat_of("ports"), 3);
}

static void
test_sigterm(void)
{
    struct stat st;
    FILE *f = fopen(pidf, "r");
    long pid = 0;

    UT_CASE("hub: SIGTERM ends it cleanly, its files removed");
    UT_CHECK(f != NULL && fscanf(f, "%ld", &pid) == 1);
    if (f != NULL)
        fclose(f);
    UT_CHECK_EQ(pid, hub);
    UT_CHECK_EQ(hub_stop(SIGTERM), 0);
    UT_CHECK(stat(sock, &st) < 0 && errno == ENOENT);
    UT_CHECK(stat(ctlp, &st) < 0 && errno == ENOENT);
    UT_CHECK(stat(pidf, &st) < 0 && errno == ENOENT);
    UT_CHECK(link_drops(&na));
}

int
main(int argc, char **argv)
{
    const char *args[] = {"--max-ports", "4", "--pidfile", pidf, NULL};

    ut_suite = "simwire";
    hub_bin = argc > 1 ? argv[1] : getenv("KEEL_WIRE");
    if (hub_bin == NULL)
        hub_bin = "build/tools/keel-wire";
    snprintf(dir, sizeof(dir), "/tmp/keel-simwire-XXXXXX");
    if (access(hub_bin, X_OK) != 0 || mkdtemp(dir) == NULL) {
        UT_CASE("the hub is built (make build/tools/keel-wire)");
        printf("    %s: not there, or no temporary directory\n", hub_bin);
        UT_CHECK(0);
        return ut_done();
    }
    snprintf(sock, sizeof(sock), "%s/w.sock", dir);
    snprintf(ctlp, sizeof(ctlp), "%s.ctl", sock);
    snprintf(pidf, sizeof(pidf), "%s/hub.pid", dir);
    atexit(cleanup);
    na.h = nb.h = nc.h = -1;

    test_poll();
    test_open_refusals();
    UT_CASE("hub: starts and answers on its control socket");
    UT_CHECK_EQ(hub_start(args), 0);
    if (hub < 0)
        return ut_done();
    test_attach();
    test_switching();
    test_drop();
    test_partition();
    test_dup();
    test_delay();
    test_reorder();
    test_seed();
    test_control();
    test_sizes_and_refusals();
    test_hub_restart();
    test_second_hub();
    test_sigterm();
    hal_net_close(&na);
    hal_net_close(&nb);
    hal_net_close(&nc);
    return ut_done();
}
