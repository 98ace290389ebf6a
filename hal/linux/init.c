/*
 * hal/linux/init.c - stage 1 as a Linux system's /init (hal/init.h).
 *
 * The initramfs (docs/BOARDS.md) holds /init (keel-boot), /dev/console,
 * the kernel modules the board needs and two text files made by the
 * image build:
 *   /etc/keel/modules  one module path a line, in load order (a
 *                      module's dependencies before it)
 *   /etc/keel/kernel   one line: the kernel package, version, SHA-256
 * Modules are loaded with finit_module(2); one that is already there
 * (built in, or loaded) is fine, one that fails is reported and the
 * rest still load: the flash check below says whether what matters is
 * there.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "hal/init.h"
#include "keel_opts.h"

#define INIT_MODULES "/etc/keel/modules"
#define INIT_KERNEL "/etc/keel/kernel"
#define INIT_LIST_MAX 4096 /* bytes of the module list */

static char init_kernel[256];

int
hal_init_is_system(void)
{
    return getpid() == 1;
}

static void
sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int
mount_one(const char *src, const char *dir, const char *type,
          unsigned long flags, const char *opts)
{
    (void)mkdir(dir, 0755);
    if (mount(src, dir, type, flags, opts) == 0 || errno == EBUSY)
        return 0;
    return -errno;
}

/* The kernel starts /init with the console on 0, 1 and 2 when the
 * initramfs has /dev/console; otherwise (or if it could not open it)
 * they are closed, and are opened here once devtmpfs is mounted. */
static void
console_streams(void)
{
    int fd;

    if (fcntl(0, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0)
        return;
    fd = open("/dev/console", O_RDWR | O_NOCTTY);
    if (fd < 0)
        return;
    for (int i = 0; i < 3; i++)
        if (fd != i)
            dup2(fd, i);
    if (fd > 2)
        close(fd);
}

/* Read a small text file into buf (NUL-terminated).  Its length, or
 * < 0. */
static int
read_text(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), n = 0;

    if (fd < 0)
        return -errno;
    while ((size_t)n < cap - 1) {
        ssize_t r = read(fd, buf + n, cap - 1 - (size_t)n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (int)r;
    }
    close(fd);
    buf[n] = '\0';
    return n;
}

static int
load_module(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

    if (fd < 0)
        return -errno;
    if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
        rc = -errno;
    close(fd);
    return rc;
}

static unsigned
load_modules(void)
{
    static char list[INIT_LIST_MAX];
    unsigned count = 0;
    char *line, *next;

    if (read_text(INIT_MODULES, list, sizeof(list)) <= 0)
        return 0;
    for (line = list; line != NULL && *line != '\0'; line = next) {
        int rc;

        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        rc = load_module(line);
        if (rc == 0)
            count++;
        else
            fprintf(stderr, "keel-boot: module %s: %s\n", line, strerror(-rc));
    }
    return count;
}

/* Wait, at most ms, until path exists.  0 or -ENODEV. */
static int
wait_for(const char *path, unsigned ms)
{
    struct stat st;

    for (unsigned waited = 0;; waited += 10) {
        if (stat(path, &st) == 0)
            return 0;
        if (waited >= ms)
            return -ENODEV;
        sleep_ms(10);
    }
}

/* The console line's speed: kept by the tty when the node opens it. */
static void
console_speed(const char *path)
{
    int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct termios t;

    if (fd < 0)
        return;
    if (tcgetattr(fd, &t) == 0 && cfsetspeed(&t, HAL_LINUX_CONSOLE_SPEED) == 0)
        (void)tcsetattr(fd, TCSANOW, &t);
    close(fd);
}

/* Set IFF_UP on an interface.  0 or a negative errno. */
static int
link_up(const char *ifname)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

    if (s < 0)
        return -errno;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
        rc = -errno;
    } else if ((ifr.ifr_flags & IFF_UP) == 0) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
            rc = -errno;
    }
    close(s);
    return rc;
}

int
hal_init_system(struct hal_init *out, const char **why)
{
    static char netspec[32];
    char sysnet[64];
    int rc, n;

    memset(out, 0, sizeof(*out));
    *why = "";
    rc = mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    console_streams();
    if (rc != 0) {
        *why = "cannot mount devtmpfs on /dev";
        return rc;
    }
    if ((rc = mount_one("proc", "/proc", "proc",
                        MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) != 0 ||
        (rc = mount_one("sysfs", "/sys", "sysfs",
                        MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) != 0) {
        *why = "cannot mount /proc or /sys";
        return rc;
    }
    rc = mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
    if (rc != 0) {
        *why = "cannot mount a tmpfs on /run";
        return rc;
    }
    n = read_text(INIT_KERNEL, init_kernel, sizeof(init_kernel));
    while (n > 0 && init_kernel[n - 1] == '\n')
        init_kernel[--n] = '\0';
    if (n < 0)
        init_kernel[0] = '\0';
    out->kernel = init_kernel;
    out->modules = load_modules();
    out->flash = HAL_LINUX_FLASH_DEV;
    out->workdir = HAL_LINUX_WORKDIR;
    out->console = HAL_LINUX_CONSOLE;
    rc = wait_for(HAL_LINUX_FLASH_DEV, HAL_LINUX_DEV_WAIT_MS);
    if (rc != 0) {
        *why = "the flash device did not appear (no disk attached, or its "
               "driver did not load)";
        return rc;
    }
    console_speed(HAL_LINUX_CONSOLE);
    (void)link_up("lo");
    /* The interface comes with its driver; it is there by now or the
     * board has none (the node then runs without a network). */
    snprintf(sysnet, sizeof(sysnet), "/sys/class/net/%s", HAL_LINUX_NETIF);
    if (wait_for(sysnet, 1000) == 0 && link_up(HAL_LINUX_NETIF) == 0) {
        snprintf(netspec, sizeof(netspec), "packet:%s", HAL_LINUX_NETIF);
        out->net = netspec;
    } else {
        fprintf(stderr,
                "keel-boot: no network interface %s; the node runs "
                "without a network\n",
                HAL_LINUX_NETIF);
    }
    return 0;
}
