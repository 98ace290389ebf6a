/*
 * boot/main.c - keel-boot, stage 1 on the sim board.
 *
 *   keel-boot --flash FILE [--workdir DIR]
 *
 * Loop: open the flash, choose a slot (boot/choose.h: verify, count a
 * trial, fall back), unpack the slot's archive into DIR/slot-a or
 * DIR/slot-b (a slot whose archive does not unpack is marked bad,
 * boot_unpack, and the choice made again), close the flash, and run
 * DIR/slot-X/bin/keel with --flash FILE --rootfs DIR/slot-X, KEEL_SLOT=a|b
 * and KEEL_BOOT_SUPERVISED=1 in its environment.  Then:
 *   - exit status 100 (keel's `reboot`): choose again;
 *   - exit status 0 (`poweroff`): keel-boot exits 0;
 *   - any other status, or a crash: a failed boot.  A trial slot has
 *     already been charged a try, so choosing again falls back once its
 *     tries are spent; a good slot is restarted, at most
 *     BOOT_CRASHES_MAX times in a row.
 *
 * Boot control unreadable (both control-block copies corrupt, or a boot
 * control record that does not decode): degraded mode (boot/choose.h).
 * keel-boot writes nothing at all -- boot control stays as it is for
 * the operator, and the store (mounted read-only) and the slots are
 * seen through views that refuse writes -- and boots the slot that
 * verifies by its signatures against the store's keyring ("upd.keyring")
 * with the highest security counter, then version, never below the
 * store's floor ("upd.floor").  A slot that does not unpack, exits with
 * a status other than 0 and 100, or crashes is remembered in RAM and the
 * other verified slot is tried; none left: keel-boot stops.  No keyring
 * in the store: it does not boot.
 *
 * The node's environment:
 *   KEEL_SLOT=a|b           the slot it runs from
 *   KEEL_BOOT_SUPERVISED=1  reboot returns to keel-boot (exit status 100)
 *   KEEL_BOOT_DEGRADED=1    set only in degraded mode: boot control is
 *                           unreadable and was not written; the slot was
 *                           chosen by its signatures.  The node must not
 *                           write boot control either (no confirm, no
 *                           install) until an operator has looked.
 *
 * As the system's first program (hal/init.h: /init of a Linux board's
 * initramfs, PID 1) keel-boot takes no arguments: it brings the system
 * up (kernel file systems, drivers, the network interface), arms the
 * board's watchdog (hal/watchdog.h; every flash operation of stage 1
 * kicks it, and it is handed to the node armed, with
 * KEEL_WATCHDOG=1 in the node's environment), unpacks into the
 * board's RAM work directory and runs the node with --console (the
 * board's serial line) and KEEL_NET (its interface).  Every end of the
 * node is then a real restart through reboot(2): a `reboot` at once, a
 * failure after its log line is written (the next boot charges the
 * trial, as it does after a watchdog reset); `poweroff` powers off.  In
 * degraded mode, whose memory of failed slots is in RAM, failures are
 * handled in the same process as above.  Nothing to boot, or a system
 * that cannot start: the reason on the console, then power off.
 *
 * keel-boot links BearSSL (SHA-256, ECDSA) and the storage code only, and
 * reaches the OS only through hal/os.h: no shell (it runs as /init where
 * there is none), and every path it makes is checked against its buffer
 * (a --workdir too long for them is refused, never cut short).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "boot/choose.h"
#include "hal/board.h"
#include "hal/clock.h"
#include "hal/init.h"
#include "hal/os.h"
#include "hal/sys.h"
#include "hal/watchdog.h"
#include "keel_opts.h"
#include "lib/klog.h"
#include "store/logring.h"
#include "update/archive.h"
#include "update/update.h"

#define BOOT_CRASHES_MAX 5
/* Every path keel-boot makes fits this, WORKDIR/slot-X/bin/keel the
 * longest. */
#define BOOT_PATH_MAX 512

enum boot_part {
#define BOOT_PART_ENUM(name, off, size, use) BOOT_PART_##name,
    BOARD_PARTITIONS(BOOT_PART_ENUM)
#undef BOOT_PART_ENUM
        BOOT_PART_COUNT
};

static void
say(void *arg, const char *msg)
{
    (void)arg;
    klog(KLOG_INFO, "%s", msg);
}

struct slot_reader {
    const struct hal_flash *f;
    uint64_t base;
};

static int
slot_read(void *arg, uint64_t off, void *buf, size_t len)
{
    struct slot_reader *r = arg;

    return hal_flash_read(r->f, r->base + off, buf, len);
}

static int path_fmt(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* snprintf that never cuts: 0, or -ENAMETOOLONG when it would. */
static int
path_fmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            buf[0] = '\0';
        return -ENAMETOOLONG;
    }
    return 0;
}

/* The archive's files go under an open directory, through the HAL. */
static int
sink_create(void *arg, const char *path, uint32_t mode)
{
    return hal_os_file_create(*(const int *)arg, path, mode);
}

static int
sink_write(void *arg, int h, const void *buf, size_t len)
{
    (void)arg;
    return hal_os_file_write(h, buf, len);
}

static int
sink_close(void *arg, int h)
{
    (void)arg;
    return hal_os_close(h);
}

/* Clear WORKDIR/slot-X, make it again and unpack the slot's archive into
 * it.  0, -EBADMSG when the archive is at fault, or another error when
 * the work directory is (*why says which). */
static int
unpack(const struct hal_flash *slot, int s, const char *workdir,
       const char *dir, struct upd_work *w, const char **why)
{
    char name[8] = "slot-a";
    uint8_t hdr[UPD_SLOT_HDR_LEN];
    struct upd_slot_hdr sh;
    int d, rc;

    name[5] = slot_name(s);
    *why = "";
    rc = hal_os_tree_remove(workdir, name);
    if (rc != 0) {
        *why = "cannot clear the slot's directory";
        return rc;
    }
    rc = hal_os_mkdir(dir);
    if (rc != 0) {
        *why = "cannot create the slot's directory";
        return rc;
    }
    if (hal_flash_read(slot, 0, hdr, sizeof(hdr)) != 0) {
        *why = "slot header unreadable";
        return -EIO;
    }
    if (upd_slot_hdr_decode(hdr, &sh, why) != 0)
        return -EBADMSG;
    d = hal_os_dir_open(dir);
    if (d < 0) {
        *why = "cannot open the slot's directory";
        return d;
    }
    {
        struct slot_reader r = {slot, sh.payload_off};
        const struct kar_src src = {slot_read, &r, sh.payload_size};
        const struct kar_sink dst = {sink_create, sink_write, sink_close, &d};

        rc = kar_extract(&src, &dst, w->chunk, sizeof(w->chunk), why);
    }
    hal_os_close(d);
    return rc < 0 ? rc : 0;
}

/* What one keel-boot run keeps between boots, in RAM only. */
struct boot {
    const char *flash, *workdir;
    int system;              /* the system's first program (hal/init.h) */
    struct hal_init sys;     /* then: the board's console, network, ... */
    char dir[BOOT_PATH_MAX]; /* WORKDIR/slot-X of the slot chosen */
    int trial;               /* it boots on trial */
    int degraded;            /* boot control unreadable: chosen by
                                signatures, nothing written */
    int failed[2];           /* degraded: slots that failed in this run */
    /* Everything keel-boot reads with, in the one allocation it makes
     * (at start): boot control, the store (degraded mode), the keyring,
     * a manifest and a chunk. */
    struct ctl ctl;
    struct store st;
    struct boot_trust trust;
    struct upd_work work;
    /* The log ring, while the flash is open (not in degraded mode: then
     * keel-boot writes nothing), and what happened to the last run,
     * logged by the next prepare(). */
    struct logring log;
    int log_ok;
    char pending[200];
};

/* klog()'s sink: keel-boot's decisions go to the log partition. */
static void
log_sink(void *arg, int sev, const char *text)
{
    struct boot *b = arg;

    char line[LOG_TEXT_MAX + 1];

    if (b->log_ok && !b->degraded) {
        snprintf(line, sizeof(line), "keel-boot: %s", text);
        (void)logring_append(&b->log, sev, hal_clock_wall(), line);
    }
}

/* Unpack slot s into b->dir; 0, -EBADMSG (the archive's fault: why
 * set), or another error (the work directory's: told here). */
static int
place(struct boot *b, const struct hal_flash *slot, int s, const char **why)
{
    int rc = path_fmt(b->dir, sizeof(b->dir), "%s/slot-%c", b->workdir,
                      slot_name(s));

    if (rc == 0)
        rc = unpack(slot, s, b->workdir, b->dir, &b->work, why);
    else
        *why = "path too long";
    if (rc != 0 && rc != -EBADMSG)
        klog(KLOG_WARN, "cannot unpack slot %c into %s: %s: %s\n", slot_name(s),
             b->dir, *why, strerror(-rc));
    return rc;
}

/* Boot control as usual: choose (counting a trial), unpack; a slot that
 * does not unpack is marked bad and the choice made again. */
static int
choose_normal(struct boot *b, struct ctl *ctl, const struct hal_flash *slots[2])
{
    const char *why;
    int s = -ENOENT, rc;

    for (int round = 0; round < 3; round++) {
        s = boot_choose(ctl, slots, &b->work, &b->trial, say, NULL);
        if (s < 0)
            break;
        rc = place(b, slots[s], s, &why);
        if (rc == 0)
            break;
        if (rc != -EBADMSG)
            return rc; /* the work directory, not the slot: nothing marked */
        rc = boot_unpack_failed(ctl, slots, &b->work, s, why, say, NULL);
        s = rc != 0 ? rc : -ENOENT;
    }
    return s;
}

/* A partition seen read-only: what is chosen in degraded mode cannot
 * write, whatever the code below it tries. */
static int
ro_read(const struct hal_flash *f, uint64_t off, void *buf, size_t len)
{
    return hal_flash_read(f->dev, off, buf, len);
}

static const struct hal_flash_ops ro_ops = {
    .read = ro_read,
    .prog = hal_flash_refuse_prog,
    .erase = hal_flash_refuse_erase,
    .sync = hal_flash_no_sync,
    .write = hal_flash_refuse_prog, /* a block partition's write */
};

static void
ro_view(struct hal_flash *v, const struct hal_flash *under)
{
    *v = *under;
    v->ops = &ro_ops;
    v->dev = (void *)under;
}

/* Boot control unreadable: choose by signatures against the store's
 * keyring (boot/choose.h), writing nothing; a slot that does not
 * unpack is skipped for the rest of this run. */
static int
choose_degraded(struct boot *b, const struct hal_flash *part)
{
    struct store *st = &b->st;
    struct boot_trust *trust = &b->trust;
    struct hal_flash ro_store, ro_slot[2];
    const struct hal_flash *slots[2] = {&ro_slot[0], &ro_slot[1]};
    char why[160];
    int rc;

    b->degraded = 1;
    say(NULL, "boot control unreadable (both copies corrupt, or its record "
              "does not decode); leaving it as it is and choosing a slot by "
              "its signatures (degraded mode)");
    ro_view(&ro_store, &part[BOOT_PART_store]);
    ro_view(&ro_slot[0], &part[BOOT_PART_slot_a]);
    ro_view(&ro_slot[1], &part[BOOT_PART_slot_b]);
    rc = store_mount_ro(st, &ro_store);
    if (rc == 0)
        rc = boot_trust_load(st, trust, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "store unreadable: %s", strerror(-rc));
    if (rc == -ENOKEY) {
        say(NULL, "boot control corrupt and no keyring to verify a slot "
                  "with: not booting");
        return -ENOKEY;
    }
    if (rc != 0) {
        klog(KLOG_WARN,
             "boot control corrupt and the store cannot vouch "
             "for a slot (%s): not booting\n",
             why);
        return -EPERM;
    }
    for (;;) {
        const char *w;
        int s = boot_choose_degraded(slots, &b->work, trust, hal_sys_board(),
                                     b->failed, say, NULL);

        if (s < 0)
            return s;
        klog(KLOG_INFO,
             "slot %c (degraded: verified by its "
             "signatures; boot control not written)\n",
             slot_name(s));
        rc = place(b, slots[s], s, &w);
        if (rc != -EBADMSG)
            return rc == 0 ? s : rc;
        klog(KLOG_INFO,
             "slot %c: archive does not unpack (%s); skipping "
             "it in this run\n",
             slot_name(s), w);
        b->failed[s] = 1;
    }
}

/* A partition whose every operation kicks the watchdog first:
 * verifying and unpacking a large slot may take longer than its
 * timeout (a no-op on a board without one). */
static int
kick_read(const struct hal_flash *f, uint64_t off, void *buf, size_t len)
{
    hal_watchdog_kick();
    return hal_flash_read(f->dev, off, buf, len);
}

static int
kick_prog(const struct hal_flash *f, uint64_t off, const void *buf, size_t len)
{
    hal_watchdog_kick();
    return hal_flash_prog(f->dev, off, buf, len);
}

static int
kick_erase(const struct hal_flash *f, uint64_t off, uint64_t len)
{
    hal_watchdog_kick();
    return hal_flash_erase(f->dev, off, len);
}

static int
kick_sync(const struct hal_flash *f)
{
    hal_watchdog_kick();
    return hal_flash_sync(f->dev);
}

static int
kick_write(const struct hal_flash *f, uint64_t off, const void *buf, size_t len)
{
    hal_watchdog_kick();
    return hal_flash_write(f->dev, off, buf, len);
}

static const struct hal_flash_ops kick_ops = {
    .read = kick_read,
    .prog = kick_prog,
    .erase = kick_erase,
    .sync = kick_sync,
    .write = kick_write,
};

/* Open the flash, choose a slot and unpack it; returns the slot or < 0
 * (told here or by the choice). */
static int
prepare(struct boot *b)
{
    struct hal_flash raw[BOOT_PART_COUNT], part[BOOT_PART_COUNT];
    struct ctl *ctl = &b->ctl;
    const struct hal_flash *slots[2];
    struct bootctl bc;
    const char *why;
    int rc, s;

    b->trial = 0;
    b->degraded = 0;
    rc = hal_board_flash_open(b->flash, raw, BOOT_PART_COUNT, &why);
    if (rc != 0) {
        klog(KLOG_WARN, "cannot open flash '%s': %s%s%s\n", b->flash,
             strerror(-rc), *why ? ": " : "", why);
        return rc;
    }
    for (int i = 0; i < BOOT_PART_COUNT; i++) {
        part[i] = raw[i];
        part[i].ops = &kick_ops;
        part[i].dev = &raw[i];
    }
    b->log_ok = logring_mount(&b->log, &part[BOOT_PART_log], 0) == 0;
    if (b->pending[0] != '\0')
        log_sink(b, LOG_WARN, b->pending);
    b->pending[0] = '\0';
    slots[0] = &part[BOOT_PART_slot_a];
    slots[1] = &part[BOOT_PART_slot_b];
    rc = ctl_mount(ctl, &part[BOOT_PART_bootctl]);
    if (rc == 0 || rc == -ENOENT)
        rc = bootctl_load(ctl, &bc); /* blank: a blank record */
    if (rc == -EBADMSG)
        s = choose_degraded(b, part);
    else if (rc != 0) {
        klog(KLOG_WARN, "control block unreadable: %s\n", strerror(-rc));
        s = -EIO;
    } else
        s = choose_normal(b, ctl, slots);
    if (s >= 0)
        klog(KLOG_INFO, "boot %u: starting slot %c%s", (unsigned)b->log.boot,
             slot_name(s),
             b->trial      ? " on trial"
             : b->degraded ? " (degraded: boot control lost)"
                           : "");
    b->log_ok = 0;
    hal_board_flash_close();
    return s;
}

/* Write the last run's end to the log now (prepare() does it on the
 * next choice; a restart of the system comes first). */
static void
log_pending(struct boot *b)
{
    struct hal_flash part[BOOT_PART_COUNT];
    const char *why;

    if (b->pending[0] == '\0' ||
        hal_board_flash_open(b->flash, part, BOOT_PART_COUNT, &why) != 0)
        return;
    b->log_ok = logring_mount(&b->log, &part[BOOT_PART_log], b->log.boot) == 0;
    log_sink(b, LOG_WARN, b->pending);
    b->pending[0] = '\0';
    b->log_ok = 0;
    hal_board_flash_close();
}

/* The system's first program cannot exit: it stops the machine. */
static _Noreturn void
system_stop(void)
{
    klog(KLOG_WARN, "powering off\n");
    hal_sys_poweroff(1);
}

/* As the system's first program: bring the system up and take the
 * board's watchdog.  Returns only when the system is usable. */
static void
system_start(struct boot *b)
{
    const char *why;
    int rc;

    /* The first line: where a boot's time from /init is counted. */
    klog(KLOG_INFO, "keel %s stage 1, the system's init\n", KEEL_VERSION);
    rc = hal_init_system(&b->sys, &why);
    if (b->sys.kernel != NULL && b->sys.kernel[0] != '\0')
        klog(KLOG_INFO, "kernel %s\n", b->sys.kernel);
    if (rc != 0) {
        klog(KLOG_WARN, "cannot start the system: %s: %s\n", why,
             strerror(-rc));
        system_stop();
    }
    klog(KLOG_INFO, "%u kernel modules loaded; flash %s\n", b->sys.modules,
         b->sys.flash);
    b->flash = b->sys.flash;
    b->workdir = b->sys.workdir;
    rc = hal_watchdog_open(KEEL_WATCHDOG_S);
    if (rc == HAL_WATCHDOG_FIRED)
        snprintf(b->pending, sizeof(b->pending),
                 "the last boot ended in a watchdog reset");
    else if (rc < 0)
        klog(KLOG_INFO, "no watchdog (%s)\n", strerror(-rc));
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: keel-boot --flash FILE [--workdir DIR] [--net SPEC]\n"
               "  --flash FILE    the board's flash image\n"
               "  --workdir DIR   where slots are unpacked (default: "
               "FILE.boot)\n"
               "  --net SPEC      the node's network (KEEL_NET, as keel's "
               "--net)\n");
}

/* keel-boot run by hand (or by a test): the flash and work directory
 * from the arguments.  0, or the exit status of a usage error. */
static int
args(int argc, char **argv, const char **flash, const char **workdir,
     const char **net, char *wbuf, size_t wcap)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--flash") == 0 && i + 1 < argc)
            *flash = argv[++i];
        else if (strcmp(argv[i], "--workdir") == 0 && i + 1 < argc)
            *workdir = argv[++i];
        else if (strcmp(argv[i], "--net") == 0 && i + 1 < argc &&
                 strlen(argv[i + 1]) < 140)
            *net = argv[++i];
        else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return -1;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (*flash == NULL) {
        usage(stderr);
        return 2;
    }
    if (*workdir == NULL) {
        if (path_fmt(wbuf, wcap, "%s.boot", *flash) != 0) {
            klog(KLOG_INFO,
                 "the flash path is too long for the default "
                 "work directory FILE.boot; give a shorter --workdir\n");
            return 2;
        }
        *workdir = wbuf;
    }
    return 0;
}

/* Run the chosen slot's keel and wait for its end. */
static int
run_node(struct boot *b, int s, char *prog, struct hal_os_exit *ex)
{
    char slot_env[] = "KEEL_SLOT=a", sup_env[] = "KEEL_BOOT_SUPERVISED=1",
         deg_env[] = "KEEL_BOOT_DEGRADED=1", wd_env[] = "KEEL_WATCHDOG=1",
         boot_env[32], net_env[160];
    char *env[8] = {slot_env, sup_env, boot_env};
    char *args[8] = {prog, (char *)"--flash", (char *)b->flash,
                     (char *)"--rootfs", b->dir};
    int ne = 3, na = 5, rc;

    slot_env[sizeof(slot_env) - 2] = slot_name(s);
    snprintf(boot_env, sizeof(boot_env), "KEEL_LOG_BOOT=%u",
             (unsigned)b->log.boot);
    if (b->degraded)
        env[ne++] = deg_env;
    if (b->system) {
        args[na++] = (char *)"--console";
        args[na++] = (char *)b->sys.console;
        env[ne++] = wd_env;
    }
    if (b->sys.net != NULL) {
        /* the board's interface, or --net by hand */
        snprintf(net_env, sizeof(net_env), "KEEL_NET=%s", b->sys.net);
        env[ne++] = net_env;
    }
    env[ne] = NULL;
    args[na] = NULL;
    if (path_fmt(prog, BOOT_PATH_MAX, "%s/bin/keel", b->dir) != 0)
        return -ENAMETOOLONG; /* checked at start: cannot happen */
    /* The node takes the watchdog over, armed (hal/watchdog.h). */
    hal_watchdog_release();
    rc = hal_os_run(prog, args, env, ex);
    if (b->system)
        (void)hal_watchdog_open(KEEL_WATCHDOG_S);
    return rc;
}

int
main(int argc, char **argv)
{
    const char *flash = NULL, *workdir = NULL;
    struct boot *b;
    char wbuf[BOOT_PATH_MAX], prog[BOOT_PATH_MAX];
    int crashes = 0, rc;

    klog_prog("keel-boot");
    /* The one allocation: keel-boot's whole context, made at start. */
    b = calloc(1, sizeof(*b));
    if (b == NULL) {
        klog(KLOG_WARN, "cannot allocate %zu bytes\n", sizeof(*b));
        return 1;
    }
    b->system = hal_init_is_system();
    if (b->system) {
        /* The kernel's command line, not an operator's: ignored. */
        system_start(b);
        flash = b->flash;
        workdir = b->workdir;
    } else {
        rc =
            args(argc, argv, &flash, &workdir, &b->sys.net, wbuf, sizeof(wbuf));
        if (rc != 0)
            return rc < 0 ? 0 : rc;
    }
    /* The longest path made from it must fit, before anything is done. */
    if (path_fmt(prog, sizeof(prog), "%s/slot-a/bin/keel", workdir) != 0) {
        klog(KLOG_INFO,
             "--workdir is too long (%zu bytes; at most %zu): "
             "choose a shorter directory\n",
             strlen(workdir), sizeof(prog) - 1 - strlen("/slot-a/bin/keel"));
        return 2;
    }
    rc = hal_os_mkdir(workdir);
    if (rc != 0) {
        klog(KLOG_WARN, "cannot create %s: %s\n", workdir, strerror(-rc));
        if (b->system)
            system_stop();
        return 1;
    }
    b->flash = flash;
    klog_sink(log_sink, b);
    b->workdir = workdir;
    for (;;) {
        int s = prepare(b);
        struct hal_os_exit ex;

        if (s < 0) {
            klog(KLOG_WARN, "nothing to boot (%s)\n",
                 s == -ENOENT && b->degraded
                     ? "boot control is corrupt and no slot verifies "
                       "against the store's keyring, or each failed in "
                       "this run; see docs/RUNBOOK.md"
                 : s == -ENOENT ? "no bootable slot; install an image "
                                  "with 'keel --flash FILE' and 'update "
                                  "install'"
                 : s == -ENOKEY ? "boot control corrupt and no keyring "
                                  "to verify a slot with"
                                : strerror(-s));
            if (b->system)
                system_stop();
            return 1;
        }
        rc = run_node(b, s, prog, &ex);
        if (rc != 0) {
            klog(KLOG_WARN, "cannot start %s: %s\n", prog, strerror(-rc));
            if (b->system)
                system_stop();
            return 1;
        }
        if (ex.signal == 0 && ex.status == HAL_SYS_EXIT_REBOOT) {
            crashes = 0;
            klog(KLOG_INFO, "reboot\n");
            if (b->system)
                hal_sys_reboot();
            continue;
        }
        if (ex.signal == 0 && ex.status == 0) {
            if (b->system)
                hal_sys_poweroff(0);
            return 0;
        }
        if (ex.signal != 0)
            snprintf(b->pending, sizeof(b->pending),
                     "boot %u: slot %c died of signal %d%s",
                     (unsigned)b->log.boot, slot_name(s), ex.signal,
                     b->trial ? " during its trial" : "");
        else
            snprintf(b->pending, sizeof(b->pending),
                     "boot %u: slot %c exited with status %d%s",
                     (unsigned)b->log.boot, slot_name(s), ex.status,
                     b->trial ? " during its trial" : "");
        klog(KLOG_WARN, "%s", b->pending);
        if (b->degraded) {
            /* No trial to count: remember it for this run and try the
             * other verified slot. */
            b->failed[s] = 1;
            continue;
        }
        if (b->system) {
            /* A clean start for the next try; its choice charges the
             * trial, as after a watchdog reset. */
            log_pending(b);
            klog(KLOG_INFO, "rebooting\n");
            hal_sys_reboot();
        }
        if (!b->trial && ++crashes >= BOOT_CRASHES_MAX) {
            klog(KLOG_WARN, "%d failures in a row; stopping\n", crashes);
            return 1;
        }
    }
}
