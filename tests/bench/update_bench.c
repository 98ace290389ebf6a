/*
 * tests/bench/update_bench.c - install a signed bundle (64 KiB chunks,
 * 2-of-3 signatures) from a file, verification included, into a slot:
 *
 *   update_bench DIR
 *       a 64 MiB payload into a slot on an in-memory sim flash, then the
 *       slot checked alone.  Prints "bench update.install_64m.mb_per_s X"
 *       and "bench update.verify.mb_per_s X": keel's own work (hashing,
 *       checking, copying, programming), no disk.
 *   update_bench blk-prepare DIR MIB
 *       writes DIR/blk.kbn (a bundle of MIB MiB) and DIR/blk-payload (its
 *       payload, for a reference copy), and DIR/blk-flash.img: a flash
 *       file for the blk backend with boot control, a store holding the
 *       keyring, and a slot the bundle fits.
 *   update_bench blk-install DIR
 *       one install of DIR/blk.kbn into the slot of DIR/blk-flash.img
 *       through hal/linux/blk.c (the file is synced as on a disk).
 *       Prints "bench update.install_blk.s X" and ".mb_per_s X" (MB =
 *       1e6 bytes) and the backend's counts.  tests/bench/update_blk.sh
 *       runs it under /usr/bin/time -v for its RSS.
 *
 * The payload is generated chunk by chunk, never held whole: the
 * install's own memory is what an RSS figure of blk-install shows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../hal/sim/flash_sim.h"
#include "linux/blk.h"
#include "update/update.h"

#define ES 4096u
#define CTL_SIZE (2 * ES)
#define STORE_SIZE (8 * 16384u)
#define CHUNK 65536u
#define SIM_PAYLOAD (64u << 20)

static uint8_t chunk_buf[CHUNK];
static uint8_t man[UPD_MANIFEST_MAX], hashes[UPD_CHUNKS_MAX * 32];

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
file_read(void *arg, void *buf, size_t len)
{
    size_t n = fread(buf, 1, len, arg);

    return n == 0 && ferror((FILE *)arg) ? -EIO : (int)n;
}

/* The payload's bytes [off, off + len): a fixed pattern. */
static void
payload_at(uint64_t off, uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)((uint32_t)(off + i) * 2654435761u >> 24);
}

/* The three release keys (fixed) and their keyring, 2 of 3. */
static int
keys_make(struct crypto_eckey k[3], uint8_t *krb, size_t cap)
{
    struct upd_keyring kr;

    memset(&kr, 0, sizeof(kr));
    kr.version = 1;
    kr.threshold = 2;
    kr.nkeys = 3;
    for (int i = 0; i < 3; i++) {
        memset(k[i].priv, 0, 32);
        k[i].priv[31] = (uint8_t)(i + 1);
        k[i].priv[0] = 0x11;
        crypto_ec_from_priv(&k[i]);
        crypto_spki_encode(k[i].pub, kr.spki[i]);
    }
    return upd_keyring_encode(&kr, krb, cap);
}

/* Write DIR/NAME.kbn, a bundle of payload bytes signed by keys 0 and 1,
 * and DIR/NAME-payload; returns the manifest length or -1. */
static int
bundle_write(const char *dir, const char *name, uint32_t payload,
             struct crypto_eckey k[3])
{
    struct upd_manifest m;
    struct upd_header h;
    uint8_t hdr[UPD_HDR_LEN], d[32];
    char path[512];
    FILE *f, *fp;
    int ml;

    memset(&m, 0, sizeof(m));
    m.nboards = 1;
    strcpy(m.boards[0], "sim");
    m.version.major = 1;
    m.counter = 1;
    m.payload_size = payload;
    m.chunk_size = CHUNK;
    m.nchunks = (payload + CHUNK - 1) / CHUNK;
    if (m.nchunks > UPD_CHUNKS_MAX)
        return -1;
    for (uint32_t i = 0; i < m.nchunks; i++) {
        uint64_t off = (uint64_t)i * CHUNK;
        size_t n = payload - off < CHUNK ? (size_t)(payload - off) : CHUNK;

        payload_at(off, chunk_buf, n);
        crypto_sha256(chunk_buf, n, hashes + (size_t)i * 32);
    }
    m.chunk_hash = hashes;
    ml = upd_manifest_encode(&m, man, sizeof(man));
    if (ml < 0)
        return -1;
    crypto_sha256(man, (size_t)ml, d);
    h.manifest_len = (uint32_t)ml;
    h.sigs_len = 2 * UPD_SIG_LEN;
    h.payload_len = payload;
    upd_header_encode(&h, hdr);
    snprintf(path, sizeof(path), "%s/%s.kbn", dir, name);
    f = fopen(path, "wb");
    snprintf(path, sizeof(path), "%s/%s-payload", dir, name);
    fp = fopen(path, "wb");
    if (f == NULL || fp == NULL)
        return -1;
    fwrite(hdr, 1, sizeof(hdr), f);
    fwrite(man, 1, (size_t)ml, f);
    for (int i = 0; i < 2; i++) {
        struct upd_sig s;
        uint8_t b[UPD_SIG_LEN], spki[CRYPTO_SPKI_LEN];

        crypto_spki_encode(k[i].pub, spki);
        upd_key_id(spki, s.key_id);
        s.len = (uint8_t)crypto_ec_sign(&k[i], d, s.der);
        upd_sig_encode(&s, b);
        fwrite(b, 1, sizeof(b), f);
    }
    for (uint64_t off = 0; off < payload; off += CHUNK) {
        size_t n = payload - off < CHUNK ? (size_t)(payload - off) : CHUNK;

        payload_at(off, chunk_buf, n);
        fwrite(chunk_buf, 1, n, f);
        fwrite(chunk_buf, 1, n, fp);
    }
    if (fclose(f) != 0 || fclose(fp) != 0)
        return -1;
    return ml;
}

/* Install DIR/NAME.kbn into slot a of the partitions given; seconds in
 * *secs.  0 or 1. */
static int
install(const char *dir, const char *name, struct store *st, struct ctl *ctl,
        const struct hal_flash *a, const struct hal_flash *b, double *secs)
{
    static struct update u;
    static struct upd_work work;
    char path[512];
    double t0;
    FILE *f;
    int rc;

    memset(&u, 0, sizeof(u));
    u.work = &work;
    u.st = st;
    u.ctl = ctl;
    u.slot[0] = a;
    u.slot[1] = b;
    u.board = "sim";
    u.running = -1; /* no slot runs: slot a is the target every time */
    snprintf(path, sizeof(path), "%s/%s.kbn", dir, name);
    f = fopen(path, "rb");
    if (f == NULL)
        return 1;
    {
        struct upd_src src = {file_read, f};

        t0 = now_s();
        rc = update_install(&u, &src);
        *secs = now_s() - t0;
    }
    fclose(f);
    if (rc != 0) {
        fprintf(stderr, "install failed: %s\n", u.why);
        return 1;
    }
    return 0;
}

/* The sim bench: the installer's own speed, in memory. */
static int
sim_bench(const char *dir)
{
    static const struct sim_flash_geom g = {
        CTL_SIZE + STORE_SIZE + SIM_PAYLOAD + (1u << 20) + ES, ES, 16, 0xff};
    static struct sim_flash dev;
    static struct hal_flash pctl, pstore, pa, pb;
    static struct store st;
    static struct ctl ctl;
    static struct upd_work work;
    struct crypto_eckey k[3];
    uint8_t krb[UPD_KEYRING_MAX];
    double t;
    int n, rc;

    if (sim_flash_open_mem(&dev, &g) != 0)
        return 1;
    sim_flash_partition(&dev, &pctl, "bootctl", 0, CTL_SIZE);
    sim_flash_partition(&dev, &pstore, "store", CTL_SIZE, STORE_SIZE);
    sim_flash_partition(&dev, &pa, "slot_a", CTL_SIZE + STORE_SIZE,
                        SIM_PAYLOAD + (1u << 20));
    sim_flash_partition(&dev, &pb, "slot_b", g.size - ES, ES);
    store_mount(&st, &pstore);
    ctl_mount(&ctl, &pctl);
    n = keys_make(k, krb, sizeof(krb));
    store_put(&st, UPD_KEY_KEYRING, krb, (size_t)n);
    if (bundle_write(dir, "bench", SIM_PAYLOAD, k) < 0)
        return 1;
    /* the reference copy of tests/bench/update.sh reads DIR/payload */
    {
        char from[512], to[512];

        snprintf(from, sizeof(from), "%s/bench-payload", dir);
        snprintf(to, sizeof(to), "%s/payload", dir);
        if (rename(from, to) != 0)
            return 1;
    }
    if (install(dir, "bench", &st, &ctl, &pa, &pb, &t) != 0)
        return 1;
    printf("bench update.install_64m.mb_per_s %.1f\n", SIM_PAYLOAD / 1e6 / t);
    printf("bench update.install_64m.s %.3f\n", t);
    {
        struct bootctl bc;
        char why[120];
        double t0;

        bootctl_load(&ctl, &bc);
        t0 = now_s();
        rc = update_slot_verify(&pa, &bc.slot[0], &work, why, sizeof(why));
        t = now_s() - t0;
        if (rc != UPD_VERIFIED) {
            fprintf(stderr, "verify failed: %s\n", why);
            return 1;
        }
    }
    printf("bench update.verify.mb_per_s %.1f\n", SIM_PAYLOAD / 1e6 / t);
    return 0;
}

/* The blk flash of DIR: its layout for a payload of up to mib MiB. */
struct blk_rig {
    struct blk_flash dev;
    struct hal_flash pctl, pstore, pa, pb;
    struct store st;
    struct ctl ctl;
};

static int
blk_rig_open(struct blk_rig *r, const char *dir, uint32_t mib, int create)
{
    uint64_t slot = ((uint64_t)mib << 20) + (1u << 20);
    uint64_t size = CTL_SIZE + STORE_SIZE + slot + ES;
    char path[512];
    int rc;

    snprintf(path, sizeof(path), "%s/blk-flash.img", dir);
    rc = blk_flash_open(&r->dev, path, create ? size : 0, ES, create);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(-rc));
        return 1;
    }
    if (!create)
        slot = r->dev.size - CTL_SIZE - STORE_SIZE - ES;
    /* as the sim board on blk: boot control and the store raw, the
     * slots block partitions */
    rc = blk_flash_partition(&r->dev, &r->pctl, "bootctl", 0, CTL_SIZE,
                             HAL_FLASH_RAW);
    rc |= blk_flash_partition(&r->dev, &r->pstore, "store", CTL_SIZE,
                              STORE_SIZE, HAL_FLASH_RAW);
    rc |= blk_flash_partition(&r->dev, &r->pa, "slot_a", CTL_SIZE + STORE_SIZE,
                              slot, HAL_FLASH_BLOCK);
    rc |= blk_flash_partition(&r->dev, &r->pb, "slot_b", r->dev.size - ES, ES,
                              HAL_FLASH_BLOCK);
    if (rc == 0)
        rc = store_mount(&r->st, &r->pstore);
    if (rc == 0)
        rc = ctl_mount(&r->ctl, &r->pctl);
    if (rc != 0 && rc != -ENOENT) { /* -ENOENT: blank, nothing installed */
        fprintf(stderr, "%s: layout or mount failed\n", path);
        return 1;
    }
    return 0;
}

static int
blk_prepare(const char *dir, uint32_t mib)
{
    static struct blk_rig r;
    struct crypto_eckey k[3];
    uint8_t krb[UPD_KEYRING_MAX];
    char path[512];
    int n;

    snprintf(path, sizeof(path), "%s/blk-flash.img", dir);
    remove(path);
    if (mib == 0 || blk_rig_open(&r, dir, mib, 1) != 0)
        return 1;
    n = keys_make(k, krb, sizeof(krb));
    if (store_put(&r.st, UPD_KEY_KEYRING, krb, (size_t)n) != 0 ||
        bundle_write(dir, "blk", mib << 20, k) < 0)
        return 1;
    blk_flash_close(&r.dev);
    return 0;
}

static int
blk_install(const char *dir)
{
    static struct blk_rig r;
    struct upd_header h;
    uint8_t hdr[UPD_HDR_LEN];
    char path[512];
    const char *why;
    double t;
    FILE *f;

    snprintf(path, sizeof(path), "%s/blk.kbn", dir);
    f = fopen(path, "rb");
    if (f == NULL || fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) ||
        upd_header_decode(hdr, &h, &why) != 0) {
        fprintf(stderr, "%s: no bundle (run blk-prepare first)\n", path);
        return 1;
    }
    fclose(f);
    if (blk_rig_open(&r, dir, 0, 0) != 0)
        return 1;
    memset(&r.dev.stats, 0, sizeof(r.dev.stats));
    if (install(dir, "blk", &r.st, &r.ctl, &r.pa, &r.pb, &t) != 0)
        return 1;
    printf("bench update.install_blk.mb_per_s %.1f\n",
           (double)h.payload_len / 1e6 / t);
    printf("bench update.install_blk.s %.4f\n", t);
    printf("bench update.install_blk.payload_bytes %llu\n",
           (unsigned long long)h.payload_len);
    printf("# blk: %llu writes (%llu bytes), %llu programs (%llu bytes), "
           "%llu erases, %llu syncs\n",
           (unsigned long long)r.dev.stats.writes,
           (unsigned long long)r.dev.stats.bytes_written,
           (unsigned long long)r.dev.stats.progs,
           (unsigned long long)r.dev.stats.bytes_prog,
           (unsigned long long)r.dev.stats.erases,
           (unsigned long long)r.dev.stats.syncs);
    blk_flash_close(&r.dev);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 2)
        return sim_bench(argv[1]);
    if (argc == 4 && strcmp(argv[1], "blk-prepare") == 0)
        return blk_prepare(argv[2], (uint32_t)strtoul(argv[3], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "blk-install") == 0)
        return blk_install(argv[2]);
    fprintf(stderr, "usage: update_bench DIR | blk-prepare DIR MIB | "
                    "blk-install DIR\n");
    return 2;
}
