/*
 * tools/keel-flash.c - a board's flash image on a host: make the one a
 * factory writes to a device, see what is in one, and pack the
 * initramfs that boots it (docs/BOARDS.md gives the bytes).
 *
 *   keel-flash create --board B --bundle FILE.kbn --keyring FILE -o FLASH
 *   keel-flash inspect [--board B] FLASH
 *   keel-flash initramfs -o OUT ENTRY...
 *       ENTRY is dir:PATH, file:PATH=SRC, tree:PATH=SRCDIR (every
 *       regular file in SRCDIR, by name) or cdev:PATH=MAJOR:MINOR
 *
 * create makes what a device's first boot would leave after a factory
 * install, with the device's own code: an erased flash of the board's
 * size, the release keyring seeded into the store
 * (update_keyring_seed), the bundle verified and installed into slot a
 * (update_install), its first trial boot chosen (boot_choose, as
 * keel-boot does) and confirmed (update_confirm): slot a GOOD and
 * primary, the anti-rollback counter at the bundle's.  Nothing else is
 * written: the node makes its identity key at its first boot, so no
 * two devices flashed from one image share a key.  Only boards whose
 * flash is a disk (512-byte program unit, hal/linux/blk.h) are made
 * this way; the file appears only once complete.
 *
 * inspect reads through a flash backend that refuses every write: the
 * layout, boot control, each slot (header, version, counter, whether
 * its contents verify, the files of its archive), the store's keys, the
 * keyring and the log.  Without --board the board is the one whose
 * flash size the file has; boards of one geometry are told apart by the
 * board their slots name.
 *
 * initramfs writes a cpio archive in the kernel's "newc" format with
 * every owner root, every time 0 and parent directories made as
 * needed, so the same inputs give the same bytes.
 *
 * Exit status 0, 1 on a refusal (one line says why), 2 on a usage
 * error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/choose.h"
#include "linux/blk.h"
#include "store/ctl.h"
#include "store/logring.h"
#include "store/store.h"
#include "tools/boards.h"
#include "update/archive.h"
#include "update/audit.h"
#include "update/bootctl.h"
#include "update/floor.h"
#include "update/format.h"
#include "update/slot.h"
#include "update/update.h"

static const char *prog = "keel-flash";

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static int
usage(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: keel-flash create --board B --bundle FILE.kbn "
                    "--keyring FILE -o FLASH\n"
                    "       keel-flash inspect [--board B] FLASH\n"
                    "       keel-flash initramfs -o OUT ENTRY...\n"
                    "       (ENTRY: dir:PATH file:PATH=SRC tree:PATH=SRCDIR "
                    "cdev:PATH=MAJOR:MINOR)\n");
    return 2;
}

/* Everything the update code works with: large, so static. */
static struct store st;
static struct ctl ctl;
static struct upd_work work;
static struct update upd;
static struct logring lring;

/* The partition called name of a layout, or -1. */
static int
part_index(const struct tool_board *b, const char *name)
{
    for (int i = 0; i < b->nparts; i++)
        if (strcmp(b->part[i].name, name) == 0)
            return i;
    return -1;
}

/* ---- create ------------------------------------------------------------ */

static int
src_read(void *arg, void *buf, size_t len)
{
    FILE *f = arg;
    size_t n = fread(buf, 1, len, f);

    if (n == 0 && ferror(f))
        return -EIO;
    return (int)n;
}

static void
say_boot(void *arg, const char *msg)
{
    (void)arg;
    printf("keel-flash: first boot: %s\n", msg);
}

/* A file of size bytes, all 0xff (the erased flash), synced. */
static int
erased_file(const char *path, uint64_t size)
{
    static uint8_t ff[1u << 20];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0)
        return -errno;
    memset(ff, 0xff, sizeof(ff));
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < sizeof(ff) ? (size_t)(size - off) : sizeof(ff);
        ssize_t w = write(fd, ff, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -EIO;
        }
        off += (uint64_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0)
        return -EIO;
    return 0;
}

/* Read a whole small file into buf; 0 with *len, or a refusal. */
static int
load_file(const char *path, uint8_t *buf, size_t cap, const char *what,
          size_t *len)
{
    FILE *f = fopen(path, "rb");

    if (f == NULL)
        return die("%s %s: %s", what, path, strerror(errno));
    *len = fread(buf, 1, cap, f);
    if (ferror(f) || (*len == cap && fgetc(f) != EOF)) {
        fclose(f);
        return die("%s %s: unreadable or over %zu bytes", what, path, cap);
    }
    fclose(f);
    return 0;
}

static int inspect_image(const char *path, const struct tool_board *b);
static int ro_fd = -1; /* the image inspect_image() reads */

/* Install, first boot, confirm: what the device itself would do. */
static int
factory(const struct tool_board *b, struct hal_flash *part, const char *bundle,
        const uint8_t *kr, size_t krlen, const char *krpath)
{
    const struct hal_flash *slots[2];
    struct bootctl bc;
    FILE *f;
    int rc, trial = 0, s;
    int ib = part_index(b, "bootctl"), is = part_index(b, "store"),
        ia = part_index(b, "slot_a"), ib2 = part_index(b, "slot_b");

    if (ib < 0 || is < 0 || ia < 0 || ib2 < 0)
        return die("board %s lacks bootctl, store, slot_a or slot_b", b->name);
    slots[0] = &part[ia];
    slots[1] = &part[ib2];
    rc = store_mount(&st, &part[is]);
    if (rc != 0)
        return die("store: mount failed: %s", strerror(-rc));
    rc = ctl_mount(&ctl, &part[ib]);
    if (rc != 0 && rc != -ENOENT)
        return die("control block: mount failed: %s", strerror(-rc));
    upd = (struct update){
        .st = &st,
        .ctl = &ctl,
        .slot = {slots[0], slots[1]},
        .board = b->name,
        .running = -1,
        .work = &work,
    };
    rc = update_keyring_seed(&upd, kr, krlen, krpath);
    if (rc != 0)
        return die("keyring %s: %s", krpath,
                   upd.why[0] ? upd.why : strerror(-rc));
    f = fopen(bundle, "rb");
    if (f == NULL)
        return die("bundle %s: %s", bundle, strerror(errno));
    {
        const struct upd_src src = {src_read, f};

        s = update_install(&upd, &src);
    }
    fclose(f);
    if (s < 0)
        return die("bundle %s refused: %s", bundle, upd.why);
    if (s != 0)
        return die("the install went to slot %c, not a", slot_name(s));
    s = boot_choose(&ctl, slots, &work, &trial, say_boot, NULL);
    if (s != 0 || !trial)
        return die("the first boot did not choose slot a on trial (%d)", s);
    upd.running = 0;
    rc = update_confirm(&upd);
    if (rc != 0)
        return die("confirm: %s", upd.why);
    if (bootctl_load(&ctl, &bc) != 0 || bc.slot[0].state != SLOT_GOOD ||
        bc.primary != 0)
        return die("boot control does not read back as slot a good");
    printf("keel-flash: slot a: %" PRIu32 ".%" PRIu32 ".%" PRIu32
           " (counter %" PRIu64 ") installed, booted on trial, "
           "confirmed\n",
           bc.slot[0].version.major, bc.slot[0].version.minor,
           bc.slot[0].version.patch, bc.slot[0].counter);
    return 0;
}

static int
cmd_create(int argc, char **argv)
{
    static uint8_t kr[UPD_KEYRING_MAX + 1];
    static struct blk_flash dev;
    struct hal_flash part[TOOL_PARTS_MAX];
    const char *board = NULL, *bundle = NULL, *keyring = NULL, *out = NULL;
    struct tool_board b;
    char tmp[4096];
    size_t krlen = 0;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (i + 1 >= argc)
            return usage("%s needs a value", argv[i]);
        if (strcmp(argv[i], "--board") == 0)
            board = argv[++i];
        else if (strcmp(argv[i], "--bundle") == 0)
            bundle = argv[++i];
        else if (strcmp(argv[i], "--keyring") == 0)
            keyring = argv[++i];
        else if (strcmp(argv[i], "-o") == 0)
            out = argv[++i];
        else
            return usage("create: unknown option %s", argv[i]);
    }
    if (board == NULL || bundle == NULL || keyring == NULL || out == NULL)
        return usage("create needs --board, --bundle, --keyring and -o");
    rc = tool_board_find(board, &b);
    if (rc != 0)
        return die("no board %s in this build (board/*/board.h)", board);
    if (b.prog_size != BLK_PROG_SIZE)
        return die("board %s's flash is not a disk (program unit %" PRIu32
                   " B, not %d): keel-flash makes disk images only",
                   board, b.prog_size, BLK_PROG_SIZE);
    rc = load_file(keyring, kr, sizeof(kr) - 1, "keyring", &krlen);
    if (rc != 0)
        return rc;
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", out) >= sizeof(tmp))
        return die("%s: path too long", out);
    rc = erased_file(tmp, b.flash_size);
    if (rc == 0)
        rc = blk_flash_open(&dev, tmp, b.flash_size, b.erase_size, 0);
    if (rc != 0) {
        unlink(tmp);
        return die("%s: %s", tmp, strerror(-rc));
    }
    for (int i = 0; i < b.nparts && rc == 0; i++)
        rc = blk_flash_partition(&dev, &part[i], b.part[i].name, b.part[i].off,
                                 b.part[i].size,
                                 (enum hal_flash_kind)b.part[i].kind);
    if (rc != 0)
        rc = die("board %s: a partition lies outside its flash", board);
    else
        rc = factory(&b, part, bundle, kr, krlen, keyring);
    blk_flash_close(&dev);
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, out) != 0) {
        rc = die("rename %s: %s", out, strerror(errno));
        unlink(tmp);
        return rc;
    }
    printf("keel-flash: wrote %s (%" PRIu64 " bytes)\n", out, b.flash_size);
    ro_fd = open(out, O_RDONLY | O_CLOEXEC);
    if (ro_fd < 0)
        return die("%s: %s", out, strerror(errno));
    rc = inspect_image(out, &b);
    close(ro_fd);
    ro_fd = -1;
    return rc;
}

/* ---- inspect: a flash that only reads ------------------------------------ */

static int
ro_read(const struct hal_flash *f, uint64_t off, void *buf, size_t len)
{
    uint8_t *p = buf;

    off += f->base;
    while (len > 0) {
        ssize_t n = pread(ro_fd, p, len, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static const struct hal_flash_ops ro_ops = {
    .read = ro_read,
    .prog = hal_flash_refuse_prog,
    .erase = hal_flash_refuse_erase,
    .sync = hal_flash_no_sync,
    .write = hal_flash_refuse_prog,
};

static void
ro_parts(const struct tool_board *b, struct hal_flash *part)
{
    for (int i = 0; i < b->nparts; i++)
        part[i] = (struct hal_flash){
            .ops = &ro_ops,
            .name = b->part[i].name,
            .base = b->part[i].off,
            .size = b->part[i].size,
            .erase_size = b->erase_size,
            .prog_size = b->prog_size,
            .erased = 0xff,
            .kind = b->part[i].kind,
        };
}

/* The boards a slot's manifest names, into *m; 0 or < 0. */
static int
slot_manifest(const struct hal_flash *slot, struct upd_manifest *m,
              struct upd_slot_hdr *sh)
{
    uint8_t hdr[UPD_SLOT_HDR_LEN];
    const char *why;

    if (hal_flash_read(slot, 0, hdr, sizeof(hdr)) != 0 ||
        upd_slot_hdr_decode(hdr, sh, &why) != 0 ||
        sh->manifest_len > sizeof(work.man) ||
        hal_flash_read(slot, UPD_SLOT_HDR, work.man, sh->manifest_len) != 0)
        return -EBADMSG;
    return upd_manifest_decode(work.man, sh->manifest_len, m, &why);
}

/* A file of the same size as board b's flash: one whose slots name it,
 * else the first of that size.  0 with *b, or a refusal. */
static int
guess_board(uint64_t size, struct tool_board *b)
{
    struct tool_board c, first = {0};
    struct hal_flash part[TOOL_PARTS_MAX];
    int found = 0;

    for (unsigned i = 0; tool_board_at(i, &c) != -ENOENT; i++) {
        if (c.name == NULL || c.flash_size != size)
            continue;
        if (!found++)
            first = c;
        ro_parts(&c, part);
        for (int s = 0; s < 2; s++) {
            int k = part_index(&c, s == 0 ? "slot_a" : "slot_b");
            struct upd_manifest m;
            struct upd_slot_hdr sh;

            if (k < 0 || slot_manifest(&part[k], &m, &sh) != 0)
                continue;
            for (int j = 0; j < m.nboards; j++)
                if (strcmp(m.boards[j], c.name) == 0) {
                    *b = c;
                    return 0;
                }
        }
    }
    if (!found)
        return die("no board's flash is %" PRIu64 " bytes; name one with "
                   "--board",
                   size);
    *b = first;
    return 0;
}

/* The archive's files, listed instead of made. */
struct lister {
    char names[KAR_FILES_MAX][KAR_PATH_MAX + 1];
    uint32_t mode[KAR_FILES_MAX];
    uint64_t size[KAR_FILES_MAX];
    int n;
};
static struct lister lst;

static int
list_create(void *arg, const char *path, uint32_t mode)
{
    struct lister *l = arg;

    if (l->n >= KAR_FILES_MAX)
        return -ENOSPC;
    snprintf(l->names[l->n], sizeof(l->names[0]), "%s", path);
    l->mode[l->n] = mode;
    l->size[l->n] = 0;
    return l->n++;
}

static int
list_write(void *arg, int h, const void *buf, size_t len)
{
    struct lister *l = arg;

    (void)buf;
    l->size[h] += len;
    return 0;
}

static int
list_close(void *arg, int h)
{
    (void)arg;
    (void)h;
    return 0;
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

static void
show_slot(const struct hal_flash *slot, int s, const struct bootctl *bc,
          int bc_ok)
{
    const struct bc_slot *bs = &bc->slot[s];
    struct upd_manifest m;
    struct upd_slot_hdr sh;
    char why[160];
    int rc;

    printf("slot %c:    ", slot_name(s));
    if (bc_ok)
        printf("%s (%s)", slot_state_name(bs->state),
               upd_reason_name(bs->result));
    else
        printf("state unknown (no boot control)");
    if (slot_manifest(slot, &m, &sh) != 0) {
        printf(", no image header\n");
        return;
    }
    printf(", %" PRIu32 ".%" PRIu32 ".%" PRIu32 ", counter %" PRIu64
           ", payload %" PRIu64 " B, board%s",
           m.version.major, m.version.minor, m.version.patch, m.counter,
           m.payload_size, m.nboards == 1 ? "" : "s");
    for (int j = 0; j < m.nboards; j++)
        printf("%s%s", j ? "," : " ", m.boards[j]);
    printf("\n");
    if (!bc_ok || bs->state == SLOT_EMPTY || bs->state == SLOT_INSTALLING)
        return;
    rc = update_slot_verify(slot, bs, &work, why, sizeof(why));
    if (rc != UPD_VERIFIED) {
        printf("           contents do NOT verify: %s\n", why);
        return;
    }
    printf("           contents verify against boot control (manifest "
           "sha256 ");
    for (int i = 0; i < 8; i++)
        printf("%02x", bs->manifest_hash[i]);
    printf("...)\n");
    {
        struct slot_reader r = {slot, sh.payload_off};
        const struct kar_src src = {slot_read, &r, sh.payload_size};
        const struct kar_sink dst = {list_create, list_write, list_close, &lst};
        const char *w;

        lst.n = 0;
        rc = kar_extract(&src, &dst, work.chunk, sizeof(work.chunk), &w);
        if (rc < 0) {
            printf("           archive does not unpack: %s\n", w);
            return;
        }
        for (int i = 0; i < lst.n; i++)
            printf("           %04o %10" PRIu64 "  %s\n", (unsigned)lst.mode[i],
                   lst.size[i], lst.names[i]);
    }
}

static int
count_rec(void *arg, const struct log_rec *r)
{
    (void)r;
    (*(unsigned *)arg)++;
    return 0;
}

static int
inspect_image(const char *path, const struct tool_board *b)
{
    struct hal_flash part[TOOL_PARTS_MAX];
    struct bootctl bc;
    struct upd_floor fl;
    int rc, bc_ok = 0;
    int ib = part_index(b, "bootctl"), is = part_index(b, "store"),
        il = part_index(b, "log");

    ro_parts(b, part);
    printf("image:     %s\n", path);
    printf("board:     %s: %" PRIu64 " MiB flash, %" PRIu32
           " B erase blocks, %" PRIu32 " B program unit\n",
           b->name, b->flash_size >> 20, b->erase_size, b->prog_size);
    printf("layout:    %-8s %-10s %-10s %s\n", "name", "offset", "size",
           "kind");
    for (int i = 0; i < b->nparts; i++)
        printf("           %-8s 0x%08" PRIx64 " 0x%08" PRIx64 " %s\n",
               b->part[i].name, b->part[i].off, b->part[i].size,
               b->part[i].kind == HAL_FLASH_BLOCK ? "image (block)"
                                                  : "records (raw)");
    rc = ib < 0 ? -ENOENT : ctl_mount(&ctl, &part[ib]);
    if (rc == 0 || rc == -ENOENT)
        rc = bootctl_load(&ctl, &bc);
    if (rc == 0) {
        bc_ok = 1;
        printf("bootctl:   primary %c, %u tries per update, anti-rollback "
               "counter %" PRIu64 "%s\n",
               bc.primary == BOOTCTL_NONE ? '-' : slot_name(bc.primary),
               bc.tries_max, bc.arb, ctl.bad ? " (one copy corrupt)" : "");
    } else {
        printf("bootctl:   unreadable: %s\n",
               rc == -EBADMSG ? "both copies corrupt" : strerror(-rc));
    }
    for (int s = 0; s < 2; s++) {
        int k = part_index(b, s == 0 ? "slot_a" : "slot_b");

        if (k >= 0)
            show_slot(&part[k], s, &bc, bc_ok);
    }
    rc = is < 0 ? -ENOENT : store_mount_ro(&st, &part[is]);
    if (rc != 0) {
        printf("store:     unreadable: %s\n", strerror(-rc));
    } else {
        const char *key;
        size_t len;
        struct upd_keyring k;
        uint8_t kb[UPD_KEYRING_MAX];
        const char *why;
        int n;

        printf("store:     %" PRIu32 " keys, %" PRIu32 " bad records\n",
               st.nkeys, st.bad_records);
        for (unsigned i = 0; store_key_at(&st, i, &key, &len) == 0; i++)
            printf("           %-24s %zu B\n", key, len);
        n = store_get(&st, UPD_KEY_KEYRING, kb, sizeof(kb));
        if (n > 0 && upd_keyring_decode(kb, (size_t)n, &k, &why) == 0) {
            printf("keyring:   version %" PRIu32 ", %u of %d keys\n", k.version,
                   k.threshold, k.nkeys);
            for (int i = 0; i < k.nkeys; i++) {
                printf("           key ");
                for (int j = 0; j < 32; j++)
                    printf("%02x", k.id[i][j]);
                printf("\n");
            }
        } else {
            printf("keyring:   none in the store\n");
        }
        if (upd_floor_load(ib < 0 ? NULL : &ctl, &st, &fl) == 0)
            printf("floor:     counter %" PRIu64 ", keyring version %" PRIu32
                   "\n",
                   fl.arb, fl.keyring_version);
    }
    if (il >= 0 && logring_mount(&lring, &part[il], 0) == 0) {
        unsigned recs = 0;

        (void)logring_walk(&lring, count_rec, &recs);
        printf("log:       %u records, last boot %" PRIu32 "\n", recs,
               lring.last_boot);
    } else {
        printf("log:       unreadable\n");
    }
    return 0;
}

static int
cmd_inspect(int argc, char **argv)
{
    const char *board = NULL, *path = NULL;
    struct tool_board b;
    struct stat sb;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--board") == 0 && i + 1 < argc)
            board = argv[++i];
        else if (argv[i][0] == '-' || path != NULL)
            return usage("inspect: unexpected %s", argv[i]);
        else
            path = argv[i];
    }
    if (path == NULL)
        return usage("inspect needs a flash image");
    ro_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (ro_fd < 0 || fstat(ro_fd, &sb) != 0)
        return die("%s: %s", path, strerror(errno));
    if (board != NULL) {
        if (tool_board_find(board, &b) != 0)
            return die("no board %s in this build", board);
    } else if ((rc = guess_board((uint64_t)sb.st_size, &b)) != 0) {
        return rc;
    }
    if ((uint64_t)sb.st_size < b.flash_size)
        return die("%s: %lld bytes, smaller than %s's flash (%" PRIu64 ")",
                   path, (long long)sb.st_size, b.name, b.flash_size);
    rc = inspect_image(path, &b);
    close(ro_fd);
    ro_fd = -1;
    return rc;
}

/* ---- initramfs: cpio "newc" ---------------------------------------------- */

#define CPIO_DIRS_MAX 128

static FILE *cpio;
static uint32_t cpio_ino = 1;
static uint64_t cpio_off;
static char cpio_dirs[CPIO_DIRS_MAX][256];
static int cpio_ndirs;

static void
cpio_pad(void)
{
    while (cpio_off % 4 != 0) {
        fputc(0, cpio);
        cpio_off++;
    }
}

/* One entry's header and name (name without the leading '/'). */
static void
cpio_hdr(const char *name, uint32_t mode, uint64_t size, uint32_t rmaj,
         uint32_t rmin)
{
    size_t nl = strlen(name) + 1;

    cpio_off += (uint64_t)fprintf(
        cpio,
        "070701%08" PRIX32 "%08" PRIX32 "%08X%08X%08X%08X%08" PRIX32
        "%08X%08X%08" PRIX32 "%08" PRIX32 "%08zX%08X",
        cpio_ino++, mode, 0, 0, (mode & S_IFMT) == S_IFDIR ? 2 : 1, 0,
        (uint32_t)size, 0, 0, rmaj, rmin, nl, 0);
    fwrite(name, 1, nl, cpio);
    cpio_off += nl;
    cpio_pad();
}

/* Paths inside the archive: absolute, plain components. */
static int
cpio_path_ok(const char *p)
{
    if (p[0] != '/' || strlen(p) >= sizeof(cpio_dirs[0]) || strstr(p, "//") ||
        strstr(p, "/./") || strstr(p, "/../"))
        return 0;
    return 1;
}

/* Make the directory p (absolute) and its parents, once each. */
static void
cpio_dir(const char *p)
{
    char buf[256];
    const char *slash = strrchr(p, '/');

    if (p[0] == '\0' || strcmp(p, "/") == 0)
        return;
    for (int i = 0; i < cpio_ndirs; i++)
        if (strcmp(cpio_dirs[i], p) == 0)
            return;
    if (slash != NULL && slash != p) {
        memcpy(buf, p, (size_t)(slash - p));
        buf[slash - p] = '\0';
        cpio_dir(buf);
    }
    if (cpio_ndirs < CPIO_DIRS_MAX)
        snprintf(cpio_dirs[cpio_ndirs++], sizeof(cpio_dirs[0]), "%s", p);
    cpio_hdr(p + 1, S_IFDIR | 0755, 0, 0, 0);
}

static void
cpio_parent(const char *p)
{
    char buf[256];
    const char *slash = strrchr(p, '/');

    if (slash == NULL || slash == p)
        return;
    memcpy(buf, p, (size_t)(slash - p));
    buf[slash - p] = '\0';
    cpio_dir(buf);
}

static int
cpio_file(const char *dst, const char *src)
{
    static uint8_t buf[1u << 16];
    struct stat sb;
    FILE *in = fopen(src, "rb");
    size_t n;

    if (in == NULL || fstat(fileno(in), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (in != NULL)
            fclose(in);
        return die("%s: not a readable regular file", src);
    }
    if ((uint64_t)sb.st_size > UINT32_MAX) {
        fclose(in);
        return die("%s: over 4 GiB", src);
    }
    cpio_parent(dst);
    cpio_hdr(dst + 1, S_IFREG | ((sb.st_mode & 0111) ? 0755 : 0644),
             (uint64_t)sb.st_size, 0, 0);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
        fwrite(buf, 1, n, cpio);
        cpio_off += n;
    }
    fclose(in);
    cpio_pad();
    return 0;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cpio_tree(const char *dst, const char *srcdir)
{
    static char names[512][256];
    char *sorted[512], d[512], s[512];
    DIR *dir = opendir(srcdir);
    struct dirent *e;
    int n = 0, rc = 0;

    if (dir == NULL)
        return die("%s: %s", srcdir, strerror(errno));
    while ((e = readdir(dir)) != NULL && n < 512) {
        struct stat sb;

        snprintf(s, sizeof(s), "%s/%s", srcdir, e->d_name);
        if (stat(s, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        snprintf(names[n], sizeof(names[0]), "%s", e->d_name);
        sorted[n] = names[n];
        n++;
    }
    closedir(dir);
    qsort(sorted, (size_t)n, sizeof(sorted[0]), name_cmp);
    cpio_dir(dst);
    for (int i = 0; i < n && rc == 0; i++) {
        snprintf(d, sizeof(d), "%s/%s", dst, sorted[i]);
        snprintf(s, sizeof(s), "%s/%s", srcdir, sorted[i]);
        rc = cpio_path_ok(d) ? cpio_file(d, s) : die("%s: bad path", d);
    }
    return rc;
}

static int
cpio_entry(char *arg)
{
    char *eq = strchr(arg, '=');
    char *path = strchr(arg, ':');

    if (path == NULL)
        return usage("initramfs: entry %s has no kind", arg);
    *path++ = '\0';
    if (eq != NULL)
        *eq++ = '\0';
    if (!cpio_path_ok(path))
        return usage("initramfs: %s is not an absolute plain path", path);
    if (strcmp(arg, "dir") == 0 && eq == NULL) {
        cpio_dir(path);
        return 0;
    }
    if (strcmp(arg, "file") == 0 && eq != NULL)
        return cpio_file(path, eq);
    if (strcmp(arg, "tree") == 0 && eq != NULL)
        return cpio_tree(path, eq);
    if (strcmp(arg, "cdev") == 0 && eq != NULL) {
        unsigned maj, min;
        char end;

        if (sscanf(eq, "%u:%u%c", &maj, &min, &end) != 2)
            return usage("initramfs: cdev wants MAJOR:MINOR, not %s", eq);
        cpio_parent(path);
        cpio_hdr(path + 1, S_IFCHR | 0600, 0, maj, min);
        return 0;
    }
    return usage("initramfs: bad entry %s:%s", arg, path);
}

static int
cmd_initramfs(int argc, char **argv)
{
    const char *out = NULL;
    char tmp[4096];
    int rc = 0, first = 0;

    if (argc >= 2 && strcmp(argv[0], "-o") == 0) {
        out = argv[1];
        first = 2;
    }
    if (out == NULL || first >= argc)
        return usage("initramfs needs -o OUT and entries");
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", out) >= sizeof(tmp))
        return die("%s: path too long", out);
    cpio = fopen(tmp, "wb");
    if (cpio == NULL)
        return die("%s: %s", tmp, strerror(errno));
    for (int i = first; i < argc && rc == 0; i++)
        rc = cpio_entry(argv[i]);
    if (rc == 0) {
        cpio_hdr("TRAILER!!!", 0, 0, 0, 0);
        while (cpio_off % 512 != 0) {
            fputc(0, cpio);
            cpio_off++;
        }
    }
    if (fclose(cpio) != 0 && rc == 0)
        rc = die("%s: write failed", tmp);
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, out) != 0)
        return die("rename %s: %s", out, strerror(errno));
    printf("keel-flash: wrote %s (%" PRIu64 " bytes, %" PRIu32 " entries)\n",
           out, cpio_off, cpio_ino - 2);
    return 0;
}

int
main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        return usage("a command is needed");
    if (strcmp(argv[1], "create") == 0)
        return cmd_create(argc - 2, argv + 2);
    if (strcmp(argv[1], "inspect") == 0)
        return cmd_inspect(argc - 2, argv + 2);
    if (strcmp(argv[1], "initramfs") == 0)
        return cmd_initramfs(argc - 2, argv + 2);
    if (strcmp(argv[1], "--help") == 0) {
        usage("make and inspect flash images");
        return 0;
    }
    return usage("unknown command %s", argv[1]);
}
