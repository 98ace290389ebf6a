/*
 * boot/main.c - keel-boot, stage 1 on the sim board.
 *
 *   keel-boot --flash FILE [--workdir DIR]
 *
 * Loop: open the flash, choose a slot (boot/choose.h: verify, count a
 * trial, fall back), unpack the slot's archive into DIR/slot-a or
 * DIR/slot-b, close the flash, and run DIR/slot-X/bin/keel with
 * --flash FILE --rootfs DIR/slot-X, KEEL_SLOT=a|b and
 * KEEL_BOOT_SUPERVISED=1 in its environment.  Then:
 *   - exit status 100 (keel's `reboot`): choose again;
 *   - exit status 0 (`poweroff`): keel-boot exits 0;
 *   - any other status, or a crash: a failed boot.  A trial slot has
 *     already been charged a try, so choosing again falls back once its
 *     tries are spent; a good slot is restarted, at most
 *     BOOT_CRASHES_MAX times in a row.
 * keel-boot links BearSSL (for SHA-256) and the storage code only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "board.h"
#include "boot/choose.h"
#include "hal/board.h"
#include "hal/sys.h"
#include "store/le.h"
#include "update/archive.h"
#include "update/update.h"

#define BOOT_CRASHES_MAX 5

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

/* rm -rf of a directory keel-boot made (names it chose, no symlinks
 * followed: the archive cannot make any). */
static void
remove_tree(const char *dir)
{
    char cmd[700];

    snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "keel-boot: could not clear %s\n", dir);
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
    uint8_t hdr[32];
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
    s = boot_choose(&ctl, slots, trial, say, NULL);
    if (s < 0) {
        hal_board_flash_close();
        return s;
    }
    snprintf(dir, cap, "%s/slot-%c", workdir, slot_name(s));
    remove_tree(dir);
    if (mkdir(dir, 0700) != 0) {
        fprintf(stderr, "keel-boot: cannot create %s: %s\n", dir,
                strerror(errno));
        hal_board_flash_close();
        return -errno;
    }
    rc = hal_flash_read(slots[s], 0, hdr, sizeof(hdr));
    {
        struct slot_reader r = {slots[s], le32(hdr + 8)};
        struct kar_src src = {slot_read, &r,
                              (uint64_t)le32(hdr + 16) |
                                  (uint64_t)le32(hdr + 20) << 32};

        if (rc == 0)
            rc = kar_extract(&src, dir, &why);
        else
            why = "slot header unreadable";
    }
    hal_board_flash_close();
    if (rc < 0) {
        fprintf(stderr, "keel-boot: unpacking slot %c failed: %s\n",
                slot_name(s), why);
        return rc;
    }
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
    char wbuf[512], dir[600], prog[700];
    int crashes = 0;

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
        snprintf(wbuf, sizeof(wbuf), "%s.boot", flash);
        workdir = wbuf;
    }
    if (mkdir(workdir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "keel-boot: cannot create %s: %s\n", workdir,
                strerror(errno));
        return 1;
    }
    for (;;) {
        int trial = 0, s = prepare(flash, workdir, dir, sizeof(dir), &trial);
        int status;
        pid_t pid;

        if (s < 0) {
            fprintf(stderr, "keel-boot: nothing to boot (%s)\n",
                    s == -ENOENT ? "no bootable slot; install an image "
                                   "with 'keel --flash FILE' and 'update "
                                   "install'"
                                 : strerror(-s));
            return 1;
        }
        snprintf(prog, sizeof(prog), "%s/bin/keel", dir);
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
            perror("keel-boot: fork");
            return 1;
        }
        if (pid == 0) {
            char sl[2] = {slot_name(s), '\0'};

            setenv("KEEL_SLOT", sl, 1);
            setenv("KEEL_BOOT_SUPERVISED", "1", 1);
            execl(prog, prog, "--flash", flash, "--rootfs", dir, (char *)NULL);
            fprintf(stderr, "keel-boot: cannot run %s: %s\n", prog,
                    strerror(errno));
            _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
            if (errno != EINTR) {
                perror("keel-boot: waitpid");
                return 1;
            }
        if (WIFEXITED(status) && WEXITSTATUS(status) == HAL_SYS_EXIT_REBOOT) {
            crashes = 0;
            fprintf(stderr, "keel-boot: reboot\n");
            continue;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            return 0;
        if (WIFSIGNALED(status))
            fprintf(stderr, "keel-boot: slot %c died of signal %d%s\n",
                    slot_name(s), WTERMSIG(status),
                    trial ? " during its trial" : "");
        else
            fprintf(stderr, "keel-boot: slot %c exited with status %d%s\n",
                    slot_name(s), WEXITSTATUS(status),
                    trial ? " during its trial" : "");
        if (!trial && ++crashes >= BOOT_CRASHES_MAX) {
            fprintf(stderr, "keel-boot: %d failures in a row; stopping\n",
                    crashes);
            return 1;
        }
    }
}
