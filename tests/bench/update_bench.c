/*
 * tests/bench/update_bench.c - install a bundle with a 64 MiB payload
 * (64 KiB chunks, 2-of-3 signatures) into a slot on the sim flash, from
 * a file, verification included; then verify the slot alone.
 *
 *   update_bench DIR   (DIR: scratch space for the 64 MiB payload and
 *                       the bundle; tests/bench/update.sh passes one)
 *
 * Prints "bench update.install_64m.mb_per_s X" and
 * "bench update.verify.mb_per_s X".  The sim flash is in memory, so the
 * figures are keel's own work: hashing, checking, copying, programming.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../hal/sim/flash_sim.h"
#include "hal/clock.h"
#include "update/update.h"

#define ES 4096u
#define CTL_SIZE (2 * ES)
#define STORE_SIZE (8 * 16384u)
#define PAYLOAD (64u << 20)
#define SLOT_SIZE (PAYLOAD + (1u << 20))
#define CHUNK 65536u

static int
file_read(void *arg, void *buf, size_t len)
{
    size_t n = fread(buf, 1, len, arg);

    return n == 0 && ferror((FILE *)arg) ? -EIO : (int)n;
}

int
main(int argc, char **argv)
{
    static const struct sim_flash_geom g = {
        CTL_SIZE + STORE_SIZE + SLOT_SIZE + ES, ES, 16, 0xff};
    static struct sim_flash dev;
    static struct hal_flash pctl, pstore, pa, pb;
    static struct store st;
    static struct ctl ctl;
    static struct update u;
    static struct upd_work work;
    static uint8_t man[UPD_MANIFEST_MAX], hashes[(PAYLOAD / CHUNK) * 32];
    struct crypto_eckey k[3];
    struct upd_keyring kr;
    struct upd_manifest m;
    struct upd_header h;
    char path[512];
    uint8_t *pl, hdr[UPD_HDR_LEN], d[32], krb[UPD_KEYRING_MAX];
    uint64_t t0, t;
    int ml, n, rc;
    FILE *f;

    if (argc != 2)
        return 2;
    if (sim_flash_open_mem(&dev, &g) != 0)
        return 1;
    sim_flash_partition(&dev, &pctl, "bootctl", 0, CTL_SIZE);
    sim_flash_partition(&dev, &pstore, "store", CTL_SIZE, STORE_SIZE);
    sim_flash_partition(&dev, &pa, "slot_a", CTL_SIZE + STORE_SIZE, SLOT_SIZE);
    sim_flash_partition(&dev, &pb, "slot_b", CTL_SIZE + STORE_SIZE + SLOT_SIZE,
                        ES);
    store_mount(&st, &pstore);
    ctl_mount(&ctl, &pctl);

    /* Keys, keyring, payload, bundle. */
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
    n = upd_keyring_encode(&kr, krb, sizeof(krb));
    store_put(&st, UPD_KEY_KEYRING, krb, (size_t)n);
    pl = malloc(PAYLOAD);
    for (uint32_t i = 0; i < PAYLOAD; i++)
        pl[i] = (uint8_t)(i * 2654435761u >> 24);
    memset(&m, 0, sizeof(m));
    m.nboards = 1;
    strcpy(m.boards[0], "sim");
    m.version.major = 1;
    m.counter = 1;
    m.payload_size = PAYLOAD;
    m.chunk_size = CHUNK;
    m.nchunks = PAYLOAD / CHUNK;
    for (uint32_t i = 0; i < m.nchunks; i++)
        crypto_sha256(pl + (size_t)i * CHUNK, CHUNK, hashes + i * 32);
    m.chunk_hash = hashes;
    ml = upd_manifest_encode(&m, man, sizeof(man));
    crypto_sha256(man, (size_t)ml, d);
    h.manifest_len = (uint32_t)ml;
    h.sigs_len = 2 * UPD_SIG_LEN;
    h.payload_len = PAYLOAD;
    upd_header_encode(&h, hdr);
    snprintf(path, sizeof(path), "%s/bench.kbn", argv[1]);
    f = fopen(path, "wb");
    if (f == NULL)
        return 1;
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
    fwrite(pl, 1, PAYLOAD, f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/payload", argv[1]);
    f = fopen(path, "wb");
    fwrite(pl, 1, PAYLOAD, f);
    fclose(f);
    free(pl);

    /* Install from the file (page cache warm, as for cp). */
    u.work = &work;
    u.st = &st;
    u.ctl = &ctl;
    u.slot[0] = &pa;
    u.slot[1] = &pb;
    u.board = "sim";
    u.running = -1;
    snprintf(path, sizeof(path), "%s/bench.kbn", argv[1]);
    f = fopen(path, "rb");
    {
        struct upd_src src = {file_read, f};

        t0 = hal_clock_ms();
        rc = update_install(&u, &src);
        t = hal_clock_ms() - t0;
    }
    fclose(f);
    if (rc != 0) {
        fprintf(stderr, "install failed: %s\n", u.why);
        return 1;
    }
    printf("bench update.install_64m.mb_per_s %.1f\n",
           (double)PAYLOAD / 1e3 / (double)(t ? t : 1));
    printf("bench update.install_64m.s %.3f\n", (double)t / 1e3);
    {
        struct bootctl bc;
        char why[120];

        bootctl_load(&ctl, &bc);
        t0 = hal_clock_ms();
        rc = update_slot_verify(&pa, &bc.slot[0], &work, why, sizeof(why));
        t = hal_clock_ms() - t0;
        if (rc != UPD_VERIFIED) {
            fprintf(stderr, "verify failed: %s\n", why);
            return 1;
        }
    }
    printf("bench update.verify.mb_per_s %.1f\n",
           (double)PAYLOAD / 1e3 / (double)(t ? t : 1));
    return 0;
}
