/*
 * tests/damage/points.c - where to damage a populated sim flash image,
 * and how (a host test tool for tests/damage/campaign.sh).
 *
 *   damage-points list IMAGE [--random N] [--seed S]
 *   damage-points flip IMAGE OFFSET MASK
 *   damage-points restore PRISTINE IMAGE
 *
 * list mounts the image's store, chain log and control block with
 * keel's own code over a private (copy-on-write) mapping of the file, so
 * nothing a mount might write reaches the image, and prints
 *
 *   point OFFSET MASK PARTITION CLASS WHAT
 *   key NAME OFFSET LENGTH
 *
 * one point per byte to damage (absolute offset in the image, the XOR
 * mask to apply, the partition, a class the campaign samples by, and
 * what the byte is), and for every live store key the record holding
 * it.  The points are the boundaries of every structure (docs/FORMAT.md):
 *   ctl-hdr ctl-tag ctl-pay   each control-block copy: header fields,
 *                             each section's header, the fields of boot
 *                             control, the trust floor, the identity
 *                             marker, the first bytes after the payload;
 *   store-sec                 each store sector header in use;
 *   store-live store-del      records holding a live key, or a delete;
 *   store-mark                retire and fence records;
 *   store-new                 the newest record and its sector header;
 *   store-dead                every other record (the campaign samples);
 *   clog-first clog-ckpt      chain-log slots: the first, around the
 *   clog-end clog-new         checkpoint's resume slot, each batch's end
 *   clog-slot                 slot, the newest and the next one, others;
 *   slot-hdr slot-man         per update slot: header fields, manifest
 *   slot-pay                  fields, a byte of every payload chunk;
 *   random                    N offsets per partition (deterministic
 *                             for a seed): half in what is written,
 *                             half anywhere in the partition.
 * Each record or slot gets one point per header field and its first and
 * last payload bytes.  Masks cycle through single bits, 0xff and others.
 *
 * flip XORs one byte of IMAGE with MASK.  restore puts IMAGE back to
 * PRISTINE, copying only the 4 KiB blocks that differ (a campaign
 * restores a 128 MiB image hundreds of times).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../hal/sim/flash_sim.h"
#include "board.h"
#include "store/clog.h"
#include "store/ctl.h"
#include "lib/le.h"
#include "store/store.h"

enum part {
#define P_ENUM(name, off, size, use) P_##name,
    BOARD_PARTITIONS(P_ENUM)
#undef P_ENUM
        P_COUNT
};

static const struct {
    const char *name;
    uint64_t off, size;
} parts[] = {
#define P_ROW(n, o, s, use) {#n, o, s},
    BOARD_PARTITIONS(P_ROW)
#undef P_ROW
};

/* The manifest's offset in an update slot (docs/FORMAT.md, slot layout). */
#define SLOT_MANIFEST 4096

static struct sim_flash dev;
static struct hal_flash part[P_COUNT];
static struct store st;
static struct clog lg;
static struct ctl ctl;
static unsigned npoints;

static const uint8_t masks[] = {0x01, 0x80, 0xff, 0x10, 0x04, 0x40,
                                0x08, 0x20, 0x02, 0x5a, 0xa5, 0x0f};

static void point(enum part p, uint64_t off, const char *cls, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

static void
point(enum part p, uint64_t off, const char *cls, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    uint64_t abs = parts[p].off + off;

    if (off >= parts[p].size)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    printf("point 0x%08" PRIx64 " 0x%02x %s %s %s\n", abs,
           masks[(abs * 2654435761u >> 7) % sizeof(masks)], parts[p].name, cls,
           what);
    npoints++;
}

/* ---- the control block ---------------------------------------------- */

static void
ctl_points(void)
{
    const struct hal_flash *f = &part[P_bootctl];
    uint8_t b[CTL_HDR_SIZE + CTL_PAYLOAD_MAX];

    for (int i = 0; i < 2; i++) {
        uint64_t base = (uint64_t)i * f->erase_size;
        uint32_t len, off = 0;

        if (hal_flash_read(f, base, b, sizeof(b)) != 0)
            continue;
        point(P_bootctl, base + 0, "ctl-hdr", "copy%d.magic", i);
        point(P_bootctl, base + 4, "ctl-hdr", "copy%d.version", i);
        point(P_bootctl, base + 6, "ctl-hdr", "copy%d.length", i);
        point(P_bootctl, base + 8, "ctl-hdr", "copy%d.seq", i);
        point(P_bootctl, base + 12, "ctl-hdr", "copy%d.crc", i);
        len = lib_le16(b + 6);
        if (lib_le32(b) != 0x3142434bu || len > CTL_PAYLOAD_MAX)
            continue;
        /* the padding after the payload, and erased space further on */
        point(P_bootctl, base + CTL_HDR_SIZE + len, "ctl-pay",
              "copy%d.after_payload", i);
        point(P_bootctl, base + 2048, "ctl-pay", "copy%d.erased", i);
        while (off + CTL_SEC_HDR <= len) {
            const uint8_t *s = b + CTL_HDR_SIZE + off;
            uint32_t n = lib_le16(s + 2), at = CTL_HDR_SIZE + off;
            uint64_t q = base + at + CTL_SEC_HDR;

            point(P_bootctl, base + at, "ctl-tag", "copy%d.tag%u.tag", i, s[0]);
            point(P_bootctl, base + at + 2, "ctl-tag", "copy%d.tag%u.length", i,
                  s[0]);
            if (s[0] == 2) { /* boot control, KBC1 */
                static const struct {
                    uint32_t off;
                    const char *what;
                } kbc[] = {
                    {0, "magic"},
                    {4, "version"},
                    {5, "primary"},
                    {6, "tries"},
                    {8, "anti_rollback"},
                    {16, "a.state"},
                    {17, "a.tries"},
                    {18, "a.result"},
                    {20, "a.version"},
                    {32, "a.counter"},
                    {40, "a.payload_size"},
                    {48, "a.manifest_len"},
                    {56, "a.manifest_hash"},
                    {87, "a.manifest_hash_end"},
                    {88, "b.state"},
                    {89, "b.tries"},
                    {90, "b.result"},
                    {92, "b.version"},
                    {104, "b.counter"},
                    {112, "b.payload_size"},
                    {120, "b.manifest_len"},
                    {128, "b.manifest_hash"},
                    {159, "b.manifest_hash_end"},
                };
                for (size_t k = 0; k < sizeof(kbc) / sizeof(kbc[0]); k++)
                    if (kbc[k].off < n)
                        point(P_bootctl, q + kbc[k].off, "ctl-pay",
                              "copy%d.bootctl.%s", i, kbc[k].what);
            } else if (s[0] == 3) { /* trust floor, KTF1 */
                point(P_bootctl, q + 0, "ctl-pay", "copy%d.floor.magic", i);
                point(P_bootctl, q + 4, "ctl-pay",
                      "copy%d.floor.keyring_version", i);
                point(P_bootctl, q + 8, "ctl-pay", "copy%d.floor.anti_rollback",
                      i);
                point(P_bootctl, q + 16, "ctl-pay", "copy%d.floor.keyring_hash",
                      i);
                point(P_bootctl, q + 47, "ctl-pay",
                      "copy%d.floor.keyring_hash_end", i);
            } else {
                point(P_bootctl, q, "ctl-pay", "copy%d.tag%u.first", i, s[0]);
                if (n > 4)
                    point(P_bootctl, q + 4, "ctl-pay", "copy%d.tag%u.byte4", i,
                          s[0]);
                if (n > 1)
                    point(P_bootctl, q + n - 1, "ctl-pay", "copy%d.tag%u.last",
                          i, s[0]);
            }
            off += CTL_SEC_HDR + n;
        }
    }
}

/* ---- the record store ------------------------------------------------ */

/* The live key entries in the record at (sector, off), as "k1,k2". */
static int
rec_keys(uint32_t sec, uint32_t off, char *out, size_t cap)
{
    size_t n = 0;
    int found = 0;

    out[0] = '\0';
    for (uint32_t i = 0; i < st.nkeys; i++) {
        const struct store_key *k = &st.keys[i];

        if (k->sector != sec || k->rec_off != off)
            continue;
        found++;
        if (n + k->klen + 2 < cap) {
            if (n > 0)
                out[n++] = ',';
            memcpy(out + n, k->key, k->klen);
            n += k->klen;
            out[n] = '\0';
        }
    }
    return found;
}

/* 1 when the data record in b (payload length len) holds a delete. */
static int
rec_has_delete(const uint8_t *b, uint32_t len)
{
    for (uint32_t p = 16; p + 4 <= 16 + len;) {
        uint32_t klen = b[p], vlen = lib_le16(b + p + 2);

        if (b[p + 1] == 2)
            return 1;
        p += 4 + klen + vlen;
    }
    return 0;
}

static void
store_points(void)
{
    const struct hal_flash *f = &part[P_store];
    static uint8_t b[STORE_REC_MAX];
    uint32_t newest_seq = 0;
    uint64_t newest = UINT64_MAX;

    for (uint32_t sec = 0; sec < st.nsectors; sec++) {
        uint64_t so = (uint64_t)sec * st.sector_size;
        uint32_t off = st.hdr_size;

        if (!st.sec[sec].in_use)
            continue;
        point(P_store, so + 0, "store-sec", "sector%u.magic", sec);
        point(P_store, so + 8, "store-sec", "sector%u.block_seq", sec);
        point(P_store, so + 16, "store-sec", "sector%u.floor", sec);
        point(P_store, so + 28, "store-sec", "sector%u.crc", sec);
        while (off + 16 <= st.sector_size) {
            uint32_t len, total;
            int blank = 1;
            char keys[160];
            const char *cls;

            if (hal_flash_read(f, so + off, b, 16) != 0)
                return;
            for (int i = 0; i < 16; i++)
                blank &= b[i] == f->erased;
            len = lib_le32(b + 8);
            if (blank || lib_le16(b) != 0x524b || b[2] != 1 ||
                len > STORE_REC_MAX - 16 || off + 16 + len > st.sector_size) {
                off += f->prog_size;
                continue;
            }
            if (hal_flash_read(f, so + off + 16, b + 16, len) != 0)
                return;
            total = hal_flash_pad(f, 16 + len);
            if (rec_keys(sec, off, keys, sizeof(keys)) > 0)
                cls = "store-live";
            else if (b[3] == 1 && rec_has_delete(b, len))
                cls = "store-del";
            else if (b[3] != 1)
                cls = "store-mark";
            else
                cls = "store-dead";
            if (lib_le32(b + 4) >= newest_seq) {
                newest_seq = lib_le32(b + 4);
                newest = so + off;
            }
            point(P_store, so + off + 0, cls, "sector%u+%u.magic seq%u %s", sec,
                  off, lib_le32(b + 4), keys);
            point(P_store, so + off + 3, cls, "sector%u+%u.type seq%u %s", sec,
                  off, lib_le32(b + 4), keys);
            point(P_store, so + off + 4, cls, "sector%u+%u.seq seq%u %s", sec,
                  off, lib_le32(b + 4), keys);
            point(P_store, so + off + 8, cls, "sector%u+%u.length seq%u %s",
                  sec, off, lib_le32(b + 4), keys);
            point(P_store, so + off + 12, cls, "sector%u+%u.crc seq%u %s", sec,
                  off, lib_le32(b + 4), keys);
            point(P_store, so + off + 16, cls, "sector%u+%u.payload seq%u %s",
                  sec, off, lib_le32(b + 4), keys);
            point(P_store, so + off + 15 + len, cls,
                  "sector%u+%u.payload_end seq%u %s", sec, off, lib_le32(b + 4),
                  keys);
            off += total;
        }
    }
    if (newest != UINT64_MAX) {
        /* the newest record and its sector's header: the newest values
         * and deletes are there */
        uint64_t so = newest / st.sector_size * st.sector_size;

        point(P_store, so + 0, "store-new", "newest sector%u.magic",
              (unsigned)(so / st.sector_size));
        point(P_store, so + 16, "store-new", "newest sector%u.floor",
              (unsigned)(so / st.sector_size));
        point(P_store, newest + 4, "store-new", "newest record seq%u .seq",
              newest_seq);
        point(P_store, newest + 12, "store-new", "newest record seq%u .crc",
              newest_seq);
        point(P_store, newest + 16, "store-new", "newest record seq%u .payload",
              newest_seq);
    }
    for (uint32_t i = 0; i < st.nkeys; i++) {
        const struct store_key *k = &st.keys[i];
        uint64_t at = parts[P_store].off +
                      (uint64_t)k->sector * st.sector_size + k->rec_off;
        uint8_t h[16];

        if (hal_flash_read(f, (uint64_t)k->sector * st.sector_size + k->rec_off,
                           h, 16) != 0)
            continue;
        printf("key %.*s 0x%08" PRIx64 " %u\n", k->klen, k->key, at,
               (unsigned)hal_flash_pad(f, 16 + lib_le32(h + 8)));
    }
}

/* ---- the chain log ---------------------------------------------------- */

static int
slot_of_index(uint32_t index, uint32_t *slot)
{
    for (uint32_t i = lg.nruns; i-- > 0;) {
        const struct clog_run *r = &lg.runs[i];

        if (index >= r->index && index < r->index + r->count) {
            *slot = (r->slot + (index - r->index)) % lg.nslots;
            return 0;
        }
    }
    return -ENOENT;
}

static uint64_t
slot_off(uint32_t slot)
{
    return (uint64_t)(slot / lg.per_seg) * part[P_chain].erase_size +
           (uint64_t)(slot % lg.per_seg) * lg.slot_size;
}

static void
slot_points(uint32_t slot, const char *cls, const char *why)
{
    static const struct {
        uint32_t off;
        const char *what;
    } f[] = {
        {0, "phash"},   {32, "bnum"},   {56, "difficulty"}, {128, "bhash"},
        {159, "end"},   {160, "magic"}, {163, "type"},      {164, "wseq"},
        {168, "index"}, {172, "crc"},
    };
    uint64_t o = slot_off(slot);

    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        point(P_chain, o + f[i].off, cls, "slot%u.%s %s", slot, f[i].what, why);
}

static void
clog_points(void)
{
    uint8_t v[24 + CLOG_RUNS_MAX * 12], b[CLOG_SLOT_RAW];
    uint32_t slot, last = 0, resume = UINT32_MAX;
    int have_last = 0;
    int n = store_get(&st, CLOG_CKPT_KEY, v, sizeof(v));

    if (n >= 24)
        resume = lib_le32(v + 12);
    for (uint32_t i = lg.first; i < lg.end; i++) {
        char why[64];

        if (slot_of_index(i, &slot) != 0)
            continue;
        snprintf(why, sizeof(why), "index%u", i);
        if (hal_flash_read(&part[P_chain], slot_off(slot), b, sizeof(b)) != 0)
            continue;
        if (i == lg.first)
            slot_points(slot, "clog-first", why);
        else if (resume != UINT32_MAX &&
                 (slot + 1 == resume || slot == resume || slot == resume + 1))
            slot_points(slot, "clog-ckpt", why);
        else if (b[163] == 2 && i + 1 < lg.end)
            slot_points(slot, "clog-end", why);
        else if (i + 1 < lg.end)
            slot_points(slot, "clog-slot", why);
        last = slot;
        have_last = 1;
    }
    if (have_last) {
        slot_points(last, "clog-new", "the newest");
        slot_points((last + 1) % lg.nslots, "clog-new", "after the newest");
    }
    if (resume != UINT32_MAX && resume >= last + 1)
        slot_points(resume, "clog-ckpt", "resume slot");
}

/* ---- update slots ---------------------------------------------------- */

static void
uslot_points(enum part p)
{
    const struct hal_flash *f = &part[p];
    uint8_t h[32], m[64];
    uint32_t ml, po, chunk, nchunks;
    uint64_t size;

    if (hal_flash_read(f, 0, h, sizeof(h)) != 0 || memcmp(h, "KSLT", 4) != 0)
        return;
    ml = lib_le32(h + 4);
    po = lib_le32(h + 8);
    size = lib_le64(h + 16);
    static const struct {
        uint32_t off;
        const char *what;
    } hf[] = {{0, "magic"},        {4, "manifest_len"},  {8, "payload_off"},
              {12, "reserved"},    {16, "payload_size"}, {24, "crc"},
              {32, "after_header"}};
    for (size_t i = 0; i < sizeof(hf) / sizeof(hf[0]); i++)
        point(p, hf[i].off, "slot-hdr", "header.%s", hf[i].what);
    if (hal_flash_read(f, SLOT_MANIFEST, m, sizeof(m)) != 0)
        return;
    static const struct {
        uint32_t off;
        const char *what;
    } mf[] = {{0, "magic"},         {5, "flags"},       {6, "boards"},
              {8, "version"},       {20, "counter"},    {28, "created"},
              {36, "payload_size"}, {44, "chunk_size"}, {48, "chunks"},
              {52, "board_name"}};
    for (size_t i = 0; i < sizeof(mf) / sizeof(mf[0]); i++)
        point(p, SLOT_MANIFEST + mf[i].off, "slot-man", "manifest.%s",
              mf[i].what);
    point(p, SLOT_MANIFEST + ml - 1, "slot-man", "manifest.last");
    point(p, SLOT_MANIFEST + ml, "slot-man", "manifest.after");
    chunk = lib_le32(m + 44);
    nchunks = lib_le32(m + 48);
    if (chunk == 0 || nchunks > 4096)
        return;
    for (uint32_t i = 0; i < nchunks; i++) {
        uint64_t a = (uint64_t)i * chunk;
        uint64_t e = a + chunk < size ? a + chunk : size;

        point(p, po + a + (e - a) / 2, "slot-pay", "chunk%u.middle", i);
    }
    point(p, po, "slot-pay", "payload.first");
    point(p, po + size - 1, "slot-pay", "payload.last");
    point(p, po + size, "slot-pay", "payload.after");
}

/* ---- random offsets -------------------------------------------------- */

static uint32_t rng = 2463534242u;

static uint32_t
xs32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static uint64_t
rnd(uint64_t n)
{
    return ((uint64_t)xs32() << 32 | xs32()) % n;
}

/* Bytes of partition p that hold something (an upper bound of what was
 * written): half the random points land there. */
static uint64_t
written_extent(enum part p)
{
    uint8_t h[32];

    switch (p) {
    case P_bootctl:
        return part[p].size;
    case P_store: {
        uint64_t e = 0;

        for (uint32_t i = 0; i < st.nsectors; i++)
            if (st.sec[i].in_use)
                e = (uint64_t)(i + 1) * st.sector_size;
        return e;
    }
    case P_chain: {
        uint32_t slot;

        if (lg.end > lg.first && slot_of_index(lg.end - 1, &slot) == 0)
            return slot_off(slot) + lg.slot_size;
        return 0;
    }
    case P_slot_a:
    case P_slot_b:
        if (hal_flash_read(&part[p], 0, h, sizeof(h)) == 0 &&
            memcmp(h, "KSLT", 4) == 0)
            return lib_le32(h + 8) + lib_le64(h + 16);
        return 0;
    default:
        return 0;
    }
}

static void
random_points(unsigned n)
{
    for (int p = 0; p < P_COUNT; p++) {
        uint64_t ext = written_extent((enum part)p);

        for (unsigned i = 0; i < n; i++) {
            int in = ext > 0 && i % 2 == 0;
            uint64_t off = rnd(in ? ext : parts[p].size);

            point((enum part)p, off, "random", "%s", in ? "written" : "any");
        }
    }
}

/* ---- flip and restore ------------------------------------------------ */

static int
flip(const char *path, const char *offs, const char *masks_)
{
    uint64_t off = strtoull(offs, NULL, 0);
    unsigned mask = (unsigned)strtoul(masks_, NULL, 0);
    int fd = open(path, O_RDWR);
    uint8_t c;

    if (fd < 0 || off >= BOARD_FLASH_SIZE || mask == 0 || mask > 0xff ||
        pread(fd, &c, 1, (off_t)off) != 1) {
        fprintf(stderr, "damage-points: flip: bad image, offset or mask\n");
        return 2;
    }
    c ^= (uint8_t)mask;
    if (pwrite(fd, &c, 1, (off_t)off) != 1 || close(fd) != 0) {
        perror("damage-points: flip");
        return 1;
    }
    return 0;
}

static uint8_t *
map_file(const char *path, int writable)
{
    int fd = open(path, writable ? O_RDWR : O_RDONLY);
    struct stat sb;
    void *m;

    if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size != BOARD_FLASH_SIZE) {
        fprintf(stderr, "damage-points: %s: not a %u-byte image\n", path,
                (unsigned)BOARD_FLASH_SIZE);
        return NULL;
    }
    m = mmap(NULL, BOARD_FLASH_SIZE, PROT_READ | (writable ? PROT_WRITE : 0),
             writable ? MAP_SHARED : MAP_PRIVATE, fd, 0);
    close(fd);
    return m == MAP_FAILED ? NULL : m;
}

static int
restore(const char *pristine, const char *path)
{
    uint8_t *a = map_file(pristine, 0), *b = map_file(path, 1);
    unsigned n = 0;

    if (a == NULL || b == NULL)
        return 2;
    for (uint64_t o = 0; o < BOARD_FLASH_SIZE; o += 4096)
        if (memcmp(a + o, b + o, 4096) != 0) {
            memcpy(b + o, a + o, 4096);
            n++;
        }
    if (msync(b, BOARD_FLASH_SIZE, MS_SYNC) != 0) {
        perror("damage-points: restore");
        return 1;
    }
    printf("%u blocks restored\n", n);
    return 0;
}

/* ---- list ---------------------------------------------------------- */

static int
list(const char *path, unsigned nrandom)
{
    static const struct sim_flash_geom g = {BOARD_FLASH_SIZE, BOARD_FLASH_ERASE,
                                            BOARD_FLASH_PROG,
                                            BOARD_FLASH_ERASED};
    uint8_t *m = map_file(path, 0);
    int rc;

    /* A memory device whose bytes are a private mapping of the image:
     * whatever a mount writes stays in this process. */
    if (m == NULL || sim_flash_open_mem(&dev, &g) != 0)
        return 2;
    munmap(dev.map, BOARD_FLASH_SIZE);
    dev.map = m;
    memset(dev.touched, 0xff, BOARD_FLASH_SIZE / BOARD_FLASH_PROG / 8);
    for (int i = 0; i < P_COUNT; i++)
        if (sim_flash_partition(&dev, &part[i], parts[i].name, parts[i].off,
                                parts[i].size) != 0)
            return 2;
    rc = ctl_mount(&ctl, &part[P_bootctl]);
    if (rc != 0)
        fprintf(stderr, "damage-points: control block: %s\n", strerror(-rc));
    ctl_points();
    rc = store_mount(&st, &part[P_store]);
    if (rc != 0) {
        fprintf(stderr, "damage-points: store: %s\n", strerror(-rc));
        return 1;
    }
    store_points();
    rc = clog_mount(&lg, &part[P_chain], &st);
    if (rc != 0)
        fprintf(stderr, "damage-points: chain log: %s\n", strerror(-rc));
    else
        clog_points();
    uslot_points(P_slot_a);
    uslot_points(P_slot_b);
    random_points(nrandom);
    fprintf(stderr, "damage-points: %u points\n", npoints);
    return 0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: damage-points list IMAGE [--random N] [--seed S]\n"
                    "       damage-points flip IMAGE OFFSET MASK\n"
                    "       damage-points restore PRISTINE IMAGE\n");
}

int
main(int argc, char **argv)
{
    unsigned nrandom = 0;

    if (argc == 5 && strcmp(argv[1], "flip") == 0)
        return flip(argv[2], argv[3], argv[4]);
    if (argc == 4 && strcmp(argv[1], "restore") == 0)
        return restore(argv[2], argv[3]);
    if (argc < 3 || strcmp(argv[1], "list") != 0) {
        usage();
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--random") == 0 && i + 1 < argc) {
            nrandom = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            rng = (uint32_t)strtoul(argv[++i], NULL, 10) | 1u;
        } else {
            usage();
            return 2;
        }
    }
    return list(argv[2], nrandom);
}
