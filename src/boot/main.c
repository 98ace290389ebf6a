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
 * keel-boot links BearSSL (for SHA-256) and the storage code only, and
 * reaches the OS only through hal/os.h: no shell (it runs as /init where
 * there is none), and every path it makes is checked against its buffer
 * (a --workdir too long for them is refused, never cut short).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "boot/choose.h"
#include "hal/board.h"
#include "hal/os.h"
#include "hal/sys.h"
#include "update/archive.h"
#include "update/update.h"

#define BOOT_CRASHES_MAX 5
/* Every path keel-boot makes fits this, WORKDIR/slot-X/bin/keel the
 * longest. */
#define BOOT_PATH_MAX 512

enum boot_part {
#define BOOT_PART_ENUM(name, off, size) BOOT_PART_##name,
    BOARD_PARTITIONS(BOOT_PART_ENUM)
#undef BOOT_PART_ENUM
        BOOT_PART_COUNT
};

static void
say(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "keel-boot: %s\n", msg);
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
       const char *dir, const char **why)
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

        rc = kar_extract(&src, &dst, why);
    }
    hal_os_close(d);
    return rc < 0 ? rc : 0;
}

/* Choose and unpack; returns the slot or < 0. */
static int
prepare(const char *flash, const char *workdir, char *dir, size_t cap,
        int *trial)
{
    struct hal_flash part[BOOT_PART_COUNT];
    static struct ctl ctl;
    const struct hal_flash *slots[2];
    const char *why;
    int rc, s;

    rc = hal_board_flash_open(flash, part, BOOT_PART_COUNT, &why);
    if (rc != 0) {
        fprintf(stderr, "keel-boot: cannot open flash '%s': %s%s%s\n", flash,
                strerror(-rc), *why ? ": " : "", why);
        return rc;
    }
    slots[0] = &part[BOOT_PART_slot_a];
    slots[1] = &part[BOOT_PART_slot_b];
    rc = ctl_mount(&ctl, &part[BOOT_PART_bootctl]);
    if (rc != 0 && rc != -ENOENT) {
        say(NULL, "control block unreadable");
        hal_board_flash_close();
        return -EIO;
    }
    /* Each failed unpack marks a slot bad or ends the loop. */
    for (int round = 0; round < 3; round++) {
        s = boot_choose(&ctl, slots, trial, say, NULL);
        if (s < 0)
            break;
        rc = path_fmt(dir, cap, "%s/slot-%c", workdir, slot_name(s));
        if (rc == 0)
            rc = unpack(slots[s], s, workdir, dir, &why);
        else
            why = "path too long";
        if (rc == 0)
            break;
        if (rc != -EBADMSG) {
            /* The work directory, not the slot: nothing is marked. */
            fprintf(stderr,
                    "keel-boot: cannot unpack slot %c into %s: %s: %s\n",
                    slot_name(s), dir, why, strerror(-rc));
            s = rc;
            break;
        }
        rc = boot_unpack_failed(&ctl, slots, s, why, say, NULL);
        s = rc != 0 ? rc : -ENOENT;
    }
    hal_board_flash_close();
    return s;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: keel-boot --flash FILE [--workdir DIR]\n"
               "  --flash FILE    the board's flash image\n"
               "  --workdir DIR   where slots are unpacked (default: "
               "FILE.boot)\n");
}

int
main(int argc, char **argv)
{
    const char *flash = NULL, *workdir = NULL;
    char wbuf[BOOT_PATH_MAX], dir[BOOT_PATH_MAX], prog[BOOT_PATH_MAX];
    int crashes = 0, rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--flash") == 0 && i + 1 < argc)
            flash = argv[++i];
        else if (strcmp(argv[i], "--workdir") == 0 && i + 1 < argc)
            workdir = argv[++i];
        else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (flash == NULL) {
        usage(stderr);
        return 2;
    }
    if (workdir == NULL) {
        if (path_fmt(wbuf, sizeof(wbuf), "%s.boot", flash) != 0) {
            fprintf(stderr,
                    "keel-boot: the flash path is too long for the default "
                    "work directory FILE.boot; give a shorter --workdir\n");
            return 2;
        }
        workdir = wbuf;
    }
    /* The longest path made from it must fit, before anything is done. */
    if (path_fmt(prog, sizeof(prog), "%s/slot-a/bin/keel", workdir) != 0) {
        fprintf(stderr,
                "keel-boot: --workdir is too long (%zu bytes; at most %zu): "
                "choose a shorter directory\n",
                strlen(workdir), sizeof(prog) - 1 - strlen("/slot-a/bin/keel"));
        return 2;
    }
    rc = hal_os_mkdir(workdir);
    if (rc != 0) {
        fprintf(stderr, "keel-boot: cannot create %s: %s\n", workdir,
                strerror(-rc));
        return 1;
    }
    for (;;) {
        int trial = 0, s = prepare(flash, workdir, dir, sizeof(dir), &trial);
        char slot_env[] = "KEEL_SLOT=a", sup_env[] = "KEEL_BOOT_SUPERVISED=1";
        char *env[] = {slot_env, sup_env, NULL};
        struct hal_os_exit ex;

        if (s < 0) {
            fprintf(stderr, "keel-boot: nothing to boot (%s)\n",
                    s == -ENOENT ? "no bootable slot; install an image "
                                   "with 'keel --flash FILE' and 'update "
                                   "install'"
                                 : strerror(-s));
            return 1;
        }
        slot_env[sizeof(slot_env) - 2] = slot_name(s);
        if (path_fmt(prog, sizeof(prog), "%s/bin/keel", dir) != 0)
            return 1; /* checked above: cannot happen */
        {
            char *args[] = {prog,          (char *)"--flash",
                            (char *)flash, (char *)"--rootfs",
                            dir,           NULL};

            rc = hal_os_run(prog, args, env, &ex);
        }
        if (rc != 0) {
            fprintf(stderr, "keel-boot: cannot start %s: %s\n", prog,
                    strerror(-rc));
            return 1;
        }
        if (ex.signal == 0 && ex.status == HAL_SYS_EXIT_REBOOT) {
            crashes = 0;
            fprintf(stderr, "keel-boot: reboot\n");
            continue;
        }
        if (ex.signal == 0 && ex.status == 0)
            return 0;
        if (ex.signal != 0)
            fprintf(stderr, "keel-boot: slot %c died of signal %d%s\n",
                    slot_name(s), ex.signal, trial ? " during its trial" : "");
        else
            fprintf(stderr, "keel-boot: slot %c exited with status %d%s\n",
                    slot_name(s), ex.status, trial ? " during its trial" : "");
        if (!trial && ++crashes >= BOOT_CRASHES_MAX) {
            fprintf(stderr, "keel-boot: %d failures in a row; stopping\n",
                    crashes);
            return 1;
        }
    }
}
