/*
 * tests/unit/test_update.c - bundles, keyrings, install, boot choice,
 * on a simulated flash:
 *  - the canonical encodings against golden vectors
 *    (tests/vectors/update/; `test_update --write-golden DIR` rewrites
 *    them, and CI fails when the code and the files disagree);
 *  - decoders refusing every truncation and non-canonical variant;
 *  - the attack suite: each bad bundle refused with its own reason,
 *    before the slot is touched where the bundle's head is at fault, and
 *    otherwise with the slot marked bad and the other slot untouched;
 *  - keel-boot's choice: trial counting, fallback, verification,
 *    anti-rollback, and power cuts while a good slot boots;
 *  - a power cut at every flash operation (three tear modes) of install,
 *    confirm, rollback, a keyring rotation and keel-boot's trial count;
 *    and of an install into slots that are block partitions (a disk:
 *    written in place over an older image, volatile until one sync),
 *    with the power failing again after every run so that nothing
 *    unsynced survives: a slot boot control calls READY must verify.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../hal/sim/flash_sim.h"
#include "boot/choose.h"
#include "hal/clock.h"
#include "lib/le.h"
#include "update/quarantine.h"
#include "update/update.h"
#include "ut.h"
#include "ut_src.h"
#include "ut_store.h"

#define ES 4096u
#define CTL_SIZE (2 * ES)
#define STORE_SIZE (8 * 16384u)
#define SLOT_SIZE (256 * 1024u)
#define DEV_SIZE (CTL_SIZE + STORE_SIZE + 2 * SLOT_SIZE)
#define CHUNK 16384u
#define ID_MARK_LEN_T 40 /* the identity marker section (identity.h) */
/* Offsets into a manifest and a signature block (docs/FORMAT.md). */
#define MAN_OFF_CREATED 30 /* inside the creation time */
#define SIG_OFF_DER 33     /* key id (32), length (1), then the DER */

static struct sim_flash dev;
static struct hal_flash pctl, pstore, pslot[2];
/* The same slots as block partitions of 512-byte sectors (a disk), and
 * as a disk whose sync does nothing (to show the power-cut rig catches
 * it); slots_in picks which the installer and keel-boot are given. */
static struct hal_flash pslot_blk[2], pslot_lie[2];
static struct hal_flash_ops lie_ops;
static enum { SLOTS_RAW, SLOTS_BLK, SLOTS_LIE } slots_in;

static const struct hal_flash *
slotp(int s)
{
    return slots_in == SLOTS_BLK   ? &pslot_blk[s]
           : slots_in == SLOTS_LIE ? &pslot_lie[s]
                                   : &pslot[s];
}

static int
lie_sync(const struct hal_flash *f)
{
    (void)f;
    return 0; /* acknowledged, nothing flushed */
}
static struct store st;
static struct ctl ctl;
static struct update upd;
static struct upd_work work;
static struct upd_audit audit;
static struct crypto_eckey keys[5]; /* 0-2 release, 3 stranger, 4 new */
static uint8_t spki[5][CRYPTO_SPKI_LEN], kid[5][32];

static const char *
vec_dir(void)
{
    const char *d = getenv("KEEL_VECTORS");

    return d != NULL ? d : "tests/vectors";
}

static void
make_keys(void)
{
    for (int i = 0; i < 5; i++) {
        char seed[40];

        snprintf(seed, sizeof(seed), "keel test release key %d", i);
        crypto_sha256(seed, strlen(seed), keys[i].priv);
        if (crypto_ec_from_priv(&keys[i]) != 0)
            abort();
        crypto_spki_encode(keys[i].pub, spki[i]);
        upd_key_id(spki[i], kid[i]);
    }
}

/* A keyring of the keys listed (indices), threshold k, version v. */
static int
keyring_of(uint8_t *out, size_t cap, const int *idx, int n, int k, uint32_t v)
{
    struct upd_keyring kr;

    memset(&kr, 0, sizeof(kr));
    kr.version = v;
    kr.threshold = (uint8_t)k;
    kr.nkeys = (uint8_t)n;
    for (int i = 0; i < n; i++)
        memcpy(kr.spki[i], spki[idx[i]], CRYPTO_SPKI_LEN);
    return upd_keyring_encode(&kr, out, cap);
}

/* ---- building bundles ---- */

struct spec {
    size_t payload;
    uint8_t fill;
    const char *boards[3];
    struct upd_version v;
    uint64_t counter;
    const uint8_t *keyring;
    uint32_t keyring_len;
    int signers[6];
    int nsigners;
};

static uint8_t bundle[300 * 1024];
static size_t blen;

static void
payload_byte(size_t i, uint8_t fill, uint8_t *b)
{
    *b = (uint8_t)(i * 31 + fill + (i >> 8));
}

/* Build a bundle into bundle[]; returns its manifest length. */
static int
build(const struct spec *s)
{
    static uint8_t pl[SLOT_SIZE], man[UPD_MANIFEST_MAX], hashes[64 * 32];
    struct upd_manifest m;
    struct upd_header h;
    uint8_t d[32];
    int ml;

    memset(&m, 0, sizeof(m));
    for (size_t i = 0; i < s->payload; i++)
        payload_byte(i, s->fill, &pl[i]);
    for (int i = 0; i < 3 && s->boards[i]; i++) {
        snprintf(m.boards[i], sizeof(m.boards[i]), "%s", s->boards[i]);
        m.nboards++;
    }
    m.version = s->v;
    m.counter = s->counter;
    m.created = 1790000000;
    m.payload_size = s->payload;
    m.chunk_size = CHUNK;
    m.nchunks = (uint32_t)((s->payload + CHUNK - 1) / CHUNK);
    for (uint32_t i = 0; i < m.nchunks; i++) {
        size_t off = (size_t)i * CHUNK;

        crypto_sha256(pl + off,
                      s->payload - off < CHUNK ? s->payload - off : CHUNK,
                      hashes + i * 32);
    }
    m.chunk_hash = hashes;
    m.keyring = s->keyring;
    m.keyring_len = s->keyring_len;
    ml = upd_manifest_encode(&m, man, sizeof(man));
    if (ml < 0)
        return ml;
    crypto_sha256(man, (size_t)ml, d);
    h.manifest_len = (uint32_t)ml;
    h.sigs_len = (uint32_t)s->nsigners * UPD_SIG_LEN;
    h.payload_len = s->payload;
    upd_header_encode(&h, bundle);
    memcpy(bundle + UPD_HDR_LEN, man, (size_t)ml);
    blen = UPD_HDR_LEN + (size_t)ml;
    for (int i = 0; i < s->nsigners; i++) {
        struct upd_sig sg;
        int k = s->signers[i];

        memcpy(sg.key_id, kid[k], 32);
        sg.len = (uint8_t)crypto_ec_sign(&keys[k], d, sg.der);
        upd_sig_encode(&sg, bundle + blen);
        blen += UPD_SIG_LEN;
    }
    memcpy(bundle + blen, pl, s->payload);
    blen += s->payload;
    return ml;
}

static struct spec
base_spec(void)
{
    struct spec s = {
        .payload = 100000,
        .fill = 1,
        .boards = {"sim", NULL, NULL},
        .v = {1, 0, 0},
        .counter = 1,
        .signers = {0, 1},
        .nsigners = 2,
    };
    return s;
}

/* Sign bundle[]'s manifest (ml bytes, altered in place after build())
 * again, by keys 0 and 1: a bundle the release keys did sign. */
static void
resign(int ml)
{
    uint8_t *t = bundle + UPD_HDR_LEN, d[32];
    struct upd_sig sg;

    crypto_sha256(t, (size_t)ml, d);
    for (int i = 0; i < 2; i++) {
        memcpy(sg.key_id, kid[i], 32);
        sg.len = (uint8_t)crypto_ec_sign(&keys[i], d, sg.der);
        upd_sig_encode(&sg, t + ml + i * UPD_SIG_LEN);
    }
}

/* ---- the device ---- */

static int cancel_after = -1, chunks_seen;

static int
prog_cb(void *arg, const struct upd_progress *p)
{
    (void)arg;
    (void)p;
    chunks_seen++;
    return cancel_after >= 0 && chunks_seen >= cancel_after;
}

static void
dev_new(void)
{
    static const struct sim_flash_geom g = {DEV_SIZE, ES, 16, 0xff};
    static const int rel[3] = {0, 1, 2};
    uint8_t kr[UPD_KEYRING_MAX];
    int n;

    sim_flash_open_mem(&dev, &g);
    sim_flash_partition(&dev, &pctl, "bootctl", 0, CTL_SIZE);
    sim_flash_partition(&dev, &pstore, "store", CTL_SIZE, STORE_SIZE);
    sim_flash_partition(&dev, &pslot[0], "slot_a", CTL_SIZE + STORE_SIZE,
                        SLOT_SIZE);
    sim_flash_partition(&dev, &pslot[1], "slot_b",
                        CTL_SIZE + STORE_SIZE + SLOT_SIZE, SLOT_SIZE);
    for (int i = 0; i < 2; i++) {
        if (sim_flash_block_partition(&dev, &pslot_blk[i], pslot[i].name,
                                      pslot[i].base, SLOT_SIZE, 512) != 0)
            abort();
        lie_ops = *pslot_blk[i].ops;
        lie_ops.sync = lie_sync;
        pslot_lie[i] = pslot_blk[i];
        pslot_lie[i].ops = &lie_ops;
    }
    store_mount(&st, &pstore);
    ctl_mount(&ctl, &pctl);
    n = keyring_of(kr, sizeof(kr), rel, 3, 2, 1);
    store_put(&st, UPD_KEY_KEYRING, kr, (size_t)n);
}

/* Power on: mount everything, set up the update context. */
static void
power_on(int running)
{
    sim_flash_power_on(&dev);
    store_mount(&st, &pstore);
    ctl_mount(&ctl, &pctl);
    memset(&upd, 0, sizeof(upd));
    upd.work = &work;
    upd.st = &st;
    upd.ctl = &ctl;
    upd.slot[0] = slotp(0);
    upd.slot[1] = slotp(1);
    upd.board = "sim";
    upd.running = running;
    upd.progress = prog_cb;
    upd.audit = &audit;
    memset(&audit, 0, sizeof(audit)); /* counters start with the node */
    cancel_after = -1;
    chunks_seen = 0;
}

static int
install(void)
{
    struct mem_src m = {bundle, blen, 0};
    struct upd_src src = {mem_read, &m};

    return update_install(&upd, &src);
}

static int
boot(int *trial)
{
    const struct hal_flash *sl[2] = {slotp(0), slotp(1)};

    return boot_choose(&ctl, sl, &work, trial, NULL, NULL);
}

/* Install base v1.0.0 into slot a and confirm it as if booted. */
static void
provision(void)
{
    struct spec s = base_spec();
    int trial;

    build(&s);
    power_on(-1);
    UT_CHECK_EQ(install(), 0);
    UT_CHECK_EQ(boot(&trial), 0);
    UT_CHECK_EQ(trial, 1);
    power_on(0);
    UT_CHECK_EQ(update_confirm(&upd), 0);
}

static uint8_t snap_slot[SLOT_SIZE];

/* ---- golden vectors ---- */

static int
golden_io(const char *name, uint8_t *buf, size_t len, int write)
{
    char path[512];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/update/%s", vec_dir(), name);
    f = fopen(path, write ? "wb" : "rb");
    if (f == NULL) {
        printf("  cannot open %s\n", path);
        return -1;
    }
    if (write) {
        n = fwrite(buf, 1, len, f);
        fclose(f);
        return n == len ? 0 : -1;
    }
    {
        static uint8_t b[300 * 1024];

        n = fread(b, 1, sizeof(b), f);
        fclose(f);
        if (n != len || memcmp(b, buf, len) != 0) {
            printf("  %s differs from what the code encodes (%zu vs %zu "
                   "bytes)\n",
                   path, n, len);
            return -1;
        }
    }
    return 0;
}

/* The golden file's bytes (up to cap); 0 when it holds exactly cap. */
static int
golden_read(const char *name, uint8_t *buf, size_t cap)
{
    char path[512];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/update/%s", vec_dir(), name);
    f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n == cap ? 0 : -1;
}

static void
test_golden(int write)
{
    static const int rel[3] = {0, 1, 2};
    uint8_t kr[UPD_KEYRING_MAX], bc[BOOTCTL_LEN];
    struct spec s = base_spec();
    struct bootctl b;
    int n;

    UT_CASE("golden vectors: keyring, bundle, boot control, slot header");
    n = keyring_of(kr, sizeof(kr), rel, 3, 2, 1);
    UT_CHECK(n > 0);
    s.payload = 20000;
    UT_CHECK(build(&s) > 0);
    memset(&b, 0, sizeof(b));
    b.primary = 0;
    b.tries_max = 3;
    b.arb = 7;
    b.slot[0] = (struct bc_slot){
        SLOT_GOOD, 0, UPD_R_CONFIRMED, {1, 2, 3}, 7, 20000, 340, {0}};
    b.slot[1] = (struct bc_slot){
        SLOT_TRIAL, 2, UPD_R_TRIAL_BOOT, {1, 3, 0}, 8, 30000, 372, {0}};
    memset(b.slot[0].manifest_hash, 0xa1, 32);
    memset(b.slot[1].manifest_hash, 0xb2, 32);
    bootctl_encode(&b, bc);
    UT_CHECK_EQ(golden_io("keyring-2of3.bin", kr, (size_t)n, write), 0);
    UT_CHECK_EQ(golden_io("bundle-2of3.kbn", bundle, blen, write), 0);
    UT_CHECK_EQ(golden_io("bootctl.bin", bc, BOOTCTL_LEN, write), 0);
    {
        /* the slot header install writes for the golden bundle */
        uint32_t ml = lib_le32(bundle + 12);
        struct upd_slot_hdr sh = {ml, (UPD_SLOT_HDR + ml + 4095) / 4096 * 4096,
                                  lib_le32(bundle + 16), 20000};
        uint8_t shb[UPD_SLOT_HDR_LEN];

        upd_slot_hdr_encode(&sh, shb);
        UT_CHECK_EQ(golden_io("slot-header.bin", shb, sizeof(shb), write), 0);
    }
    {
        /* and the golden bytes decode to the same values */
        struct upd_keyring k;
        struct upd_manifest m;
        struct bootctl d;
        const char *why;

        UT_CHECK_EQ(upd_keyring_decode(kr, (size_t)n, &k, &why), 0);
        UT_CHECK_EQ(k.threshold, 2);
        UT_CHECK_EQ(k.nkeys, 3);
        UT_CHECK_EQ(upd_manifest_decode(bundle + UPD_HDR_LEN,
                                        lib_le32(bundle + 12), &m, &why),
                    0);
        UT_CHECK_EQ(m.payload_size, 20000);
        UT_CHECK_EQ(m.nchunks, 2);
        UT_CHECK_EQ(bootctl_decode(bc, BOOTCTL_LEN, &d), 0);
        UT_CHECK_EQ(d.arb, 7);
        UT_CHECK_EQ(d.slot[1].state, SLOT_TRIAL);
        UT_CHECK_EQ(d.slot[1].tries, 2);
        UT_CHECK_EQ(d.slot[1].version.minor, 3);
        UT_CHECK_EQ(d.slot[1].counter, 8);
        UT_CHECK_EQ(d.slot[1].manifest_len, 372);
        UT_CHECK_EQ(d.slot[1].manifest_hash[31], 0xb2);
        UT_CHECK_EQ(d.slot[0].result, UPD_R_CONFIRMED);
        UT_CHECK_EQ(d.slot[1].result, UPD_R_TRIAL_BOOT);
    }
    UT_CASE("slot header: golden bytes decode; every variant refused");
    {
        uint8_t x[UPD_SLOT_HDR_LEN];
        struct upd_slot_hdr sh, sh2;
        const char *why;
        int accepted = 0;

        UT_CHECK_EQ(golden_read("slot-header.bin", x, sizeof(x)), 0);
        UT_CHECK_EQ(upd_slot_hdr_decode(x, &sh, &why), 0);
        UT_CHECK_EQ(sh.manifest_len, lib_le32(bundle + 12));
        UT_CHECK_EQ(sh.sigs_len, 2 * UPD_SIG_LEN);
        UT_CHECK_EQ(sh.payload_off, 8192);
        UT_CHECK_EQ(sh.payload_size, 20000);
        /* any one bit flipped: refused (CRC, reserved bytes) */
        for (int i = 0; i < UPD_SLOT_HDR_LEN * 8; i++) {
            x[i / 8] ^= (uint8_t)(1u << (i % 8));
            accepted += upd_slot_hdr_decode(x, &sh2, &why) == 0;
            x[i / 8] ^= (uint8_t)(1u << (i % 8));
        }
        UT_CHECK_EQ(accepted, 0);
        /* lengths out of range, even with a good CRC */
        sh2 = sh;
        sh2.sigs_len = UPD_SIG_LEN + 1;
        upd_slot_hdr_encode(&sh2, x);
        UT_CHECK_EQ(upd_slot_hdr_decode(x, &sh2, &why), -EBADMSG);
        sh2 = sh;
        sh2.sigs_len = (UPD_SIGS_MAX + 1) * UPD_SIG_LEN;
        upd_slot_hdr_encode(&sh2, x);
        UT_CHECK_EQ(upd_slot_hdr_decode(x, &sh2, &why), -EBADMSG);
        sh2 = sh;
        sh2.manifest_len = UPD_MANIFEST_MAX + 1;
        upd_slot_hdr_encode(&sh2, x);
        UT_CHECK_EQ(upd_slot_hdr_decode(x, &sh2, &why), -EBADMSG);
        /* a header of an older build: no signatures, still a header */
        sh2 = sh;
        sh2.sigs_len = 0;
        upd_slot_hdr_encode(&sh2, x);
        UT_CHECK_EQ(upd_slot_hdr_decode(x, &sh2, &why), 0);
        UT_CHECK_EQ(lib_le32(x + 12), 0);
    }
    UT_CASE("boot control: a result code beyond the table is refused");
    {
        uint8_t x[BOOTCTL_LEN];
        struct bootctl d;

        memcpy(x, bc, BOOTCTL_LEN);
        x[16 + 2] = UPD_R_COUNT;
        UT_CHECK_EQ(bootctl_decode(x, BOOTCTL_LEN, &d), -EBADMSG);
        x[16 + 2] = UPD_R_COUNT - 1;
        UT_CHECK_EQ(bootctl_decode(x, BOOTCTL_LEN, &d), 0);
    }
}

/* ---- decoders ---- */

static void
test_decoders(void)
{
    static const int rel[3] = {0, 1, 2};
    struct spec s = base_spec();
    struct upd_manifest m;
    struct upd_keyring k;
    struct upd_header h;
    const char *why;
    uint8_t kr[UPD_KEYRING_MAX], man[2048];
    int ml, kl, accepted = 0;

    UT_CASE("decoders refuse every truncation and trailing bytes");
    kl = keyring_of(kr, sizeof(kr), rel, 3, 2, 1);
    s.keyring = kr;
    s.keyring_len = (uint32_t)kl;
    ml = build(&s);
    memcpy(man, bundle + UPD_HDR_LEN, (size_t)ml);
    UT_CHECK_EQ(upd_manifest_decode(man, (size_t)ml, &m, &why), 0);
    UT_CHECK(m.keyring != NULL);
    for (int l = 0; l < ml; l++)
        accepted += upd_manifest_decode(man, (size_t)l, &m, &why) == 0;
    for (int l = 0; l < kl; l++)
        accepted += upd_keyring_decode(kr, (size_t)l, &k, &why) == 0;
    UT_CHECK_EQ(accepted, 0);
    man[ml] = 0;
    UT_CHECK_EQ(upd_manifest_decode(man, (size_t)ml + 1, &m, &why), -EBADMSG);
    UT_CHECK(strstr(why, "trailing") != NULL);

    UT_CASE("a checkpoint names its network (flag 0x04: keel's testnet)");
    {
        struct upd_manifest m2;
        uint8_t ck[UPD_CHECKPOINT_LEN], t[2048];
        int tl;

        memset(ck, 0x42, sizeof(ck));
        memset(&m2, 0, sizeof(m2));
        UT_CHECK_EQ(upd_manifest_decode(man, (size_t)ml, &m2, &why), 0);
        m2.keyring = NULL;
        m2.keyring_len = 0;
        m2.checkpoint = ck;
        m2.checkpoint_net = UPD_NET_TESTNET;
        tl = upd_manifest_encode(&m2, t, sizeof(t));
        UT_CHECK(tl > 0);
        UT_CHECK_EQ(t[5], 0x06);
        UT_CHECK_EQ(upd_manifest_decode(t, (size_t)tl, &m2, &why), 0);
        UT_CHECK_EQ(m2.checkpoint_net, UPD_NET_TESTNET);
        UT_CHECK(m2.checkpoint != NULL &&
                 memcmp(m2.checkpoint, ck, sizeof(ck)) == 0);
        m2.checkpoint_net = UPD_NET_MAINNET;
        tl = upd_manifest_encode(&m2, t, sizeof(t));
        UT_CHECK_EQ(t[5], 0x02);
        UT_CHECK_EQ(upd_manifest_decode(t, (size_t)tl, &m2, &why), 0);
        UT_CHECK_EQ(m2.checkpoint_net, UPD_NET_MAINNET);
        /* the network flag without a checkpoint is refused */
        m2.checkpoint = NULL;
        tl = upd_manifest_encode(&m2, t, sizeof(t));
        t[5] |= 0x04;
        UT_CHECK_EQ(upd_manifest_decode(t, (size_t)tl, &m2, &why), -EBADMSG);
    }

    UT_CASE("decoders refuse non-canonical manifests and keyrings");
    {
        uint8_t t[2048];

        /* boards out of order */
        struct spec s2 = base_spec();

        s2.boards[0] = "sim";
        s2.boards[1] = "qemu-x86_64";
        UT_CHECK(build(&s2) < 0); /* the encoder refuses it too */
        s2.boards[0] = "qemu-x86_64";
        s2.boards[1] = "sim";
        ml = build(&s2);
        memcpy(t, bundle + UPD_HDR_LEN, (size_t)ml);
        UT_CHECK_EQ(upd_manifest_decode(t, (size_t)ml, &m, &why), 0);
        /* swap the two names in place: same bytes, wrong order */
        {
            uint8_t b1[16], b2[16];

            memcpy(b1, t + 52, 12); /* len 11 + "qemu-x86_64" */
            memcpy(b2, t + 64, 4);  /* len 3 + "sim" */
            memcpy(t + 52, b2, 4);
            memcpy(t + 56, b1, 12);
        }
        UT_CHECK_EQ(upd_manifest_decode(t, (size_t)ml, &m, &why), -EBADMSG);
        UT_CHECK(strstr(why, "canonical") != NULL);
        ml = build(&s);
        memcpy(t, bundle + UPD_HDR_LEN, (size_t)ml);
        t[7] = 1; /* reserved */
        UT_CHECK_EQ(upd_manifest_decode(t, (size_t)ml, &m, &why), -EBADMSG);
        t[7] = 0;
        t[5] |= 0x80; /* unknown flag */
        UT_CHECK_EQ(upd_manifest_decode(t, (size_t)ml, &m, &why), -EBADMSG);
        t[5] &= 0x7f;
        lib_put32(t + 48, lib_le32(t + 48) + 1); /* chunk count off by one */
        UT_CHECK_EQ(upd_manifest_decode(t, (size_t)ml, &m, &why), -EBADMSG);
        lib_put32(t + 48, lib_le32(t + 48) - 1);
        lib_put32(t + 44, 12288); /* chunk size not a power of two */
        UT_CHECK_EQ(upd_manifest_decode(t, (size_t)ml, &m, &why), -EBADMSG);
        /* keyring: keys out of order, duplicated, threshold 0 */
        memcpy(t, kr, (size_t)kl);
        {
            uint8_t tmp[CRYPTO_SPKI_LEN];

            memcpy(tmp, t + 20, CRYPTO_SPKI_LEN);
            memcpy(t + 20, t + 20 + CRYPTO_SPKI_LEN, CRYPTO_SPKI_LEN);
            memcpy(t + 20 + CRYPTO_SPKI_LEN, tmp, CRYPTO_SPKI_LEN);
        }
        UT_CHECK_EQ(upd_keyring_decode(t, (size_t)kl, &k, &why), -EBADMSG);
        memcpy(t, kr, (size_t)kl);
        memcpy(t + 20 + CRYPTO_SPKI_LEN, t + 20, CRYPTO_SPKI_LEN);
        UT_CHECK_EQ(upd_keyring_decode(t, (size_t)kl, &k, &why), -EBADMSG);
        memcpy(t, kr, (size_t)kl);
        t[8] = 0;
        UT_CHECK_EQ(upd_keyring_decode(t, (size_t)kl, &k, &why), -EBADMSG);
        t[8] = 4; /* above the key count */
        UT_CHECK_EQ(upd_keyring_decode(t, (size_t)kl, &k, &why), -EBADMSG);
    }

    UT_CASE("manifest: security counter up to UPD_COUNTER_MAX, not above");
    {
        static const struct {
            uint64_t counter;
            int want;
        } cases[] = {
            {0, 0},
            {UPD_COUNTER_MAX - 1, 0},
            {UPD_COUNTER_MAX, 0},
            {UPD_COUNTER_MAX + 1, -E2BIG},
            {UINT64_MAX - 1, -E2BIG}, /* "--counter -2", wrapped */
            {UINT64_MAX, -E2BIG},
        };
        struct spec s3 = base_spec();
        uint8_t t[2048];

        s3.counter = UPD_COUNTER_MAX;
        ml = build(&s3);
        UT_CHECK(ml > 0);
        memcpy(t, bundle + UPD_HDR_LEN, (size_t)ml);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            int rc;

            lib_put64(t + 20, cases[i].counter);
            rc = upd_manifest_decode(t, (size_t)ml, &m, &why);
            UT_CHECK_EQ(rc, cases[i].want);
            if (rc == 0)
                UT_CHECK(m.counter == cases[i].counter);
            else
                UT_CHECK(strstr(why, "security counter above") != NULL);
        }
        s3.counter = UPD_COUNTER_MAX + 1;
        UT_CHECK_EQ(build(&s3), -EINVAL); /* the encoder refuses it too */
    }

    UT_CASE("header: checksum, oversized fields, garbage");
    {
        uint8_t hb[UPD_HDR_LEN];

        build(&s);
        memcpy(hb, bundle, UPD_HDR_LEN);
        UT_CHECK_EQ(upd_header_decode(hb, &h, &why), 0);
        hb[30] ^= 1;
        UT_CHECK_EQ(upd_header_decode(hb, &h, &why), -EBADMSG);
        h.manifest_len = UPD_MANIFEST_MAX + 1;
        h.sigs_len = 0;
        h.payload_len = 10;
        upd_header_encode(&h, hb);
        UT_CHECK_EQ(upd_header_decode(hb, &h, &why), -E2BIG);
        h.manifest_len = 100;
        h.sigs_len = (UPD_SIGS_MAX + 1) * UPD_SIG_LEN;
        upd_header_encode(&h, hb);
        UT_CHECK_EQ(upd_header_decode(hb, &h, &why), -E2BIG);
        h.sigs_len = 0;
        h.payload_len = UPD_PAYLOAD_MAX + 1;
        upd_header_encode(&h, hb);
        UT_CHECK_EQ(upd_header_decode(hb, &h, &why), -E2BIG);
        memset(hb, 0x5a, sizeof(hb));
        UT_CHECK_EQ(upd_header_decode(hb, &h, &why), -EBADMSG);
    }
}

/* ---- the attack suite ---- */

/* Refused before the slot (or anything) is touched: no flash operation
 * at all, and the reason names the problem. */
/* The refusal was counted under its reason and logged as the newest
 * event. */
static void
counted(int reason, uint32_t before)
{
    const struct upd_event *e = upd_audit_event(&audit, 0);

    if (upd.reason != reason)
        printf("  reason %s, expected %s\n", upd_reason_name(upd.reason),
               upd_reason_name(reason));
    UT_CHECK_EQ(upd.reason, reason);
    UT_CHECK_EQ(audit.refused[reason], before + 1);
    UT_CHECK(e != NULL && e->kind == UPD_EV_REFUSED && e->reason == reason &&
             strcmp(e->why, upd.why) == 0);
}

static void
refused_untouched(const char *what, int want_rc, const char *why_has,
                  int reason)
{
    uint64_t ops = sim_flash_ops(&dev);
    uint32_t before = audit.refused[reason];
    int rc = install();

    UT_CASE(what);
    if (rc != want_rc || strstr(upd.why, why_has) == NULL)
        printf("  got %d '%s'\n", rc, upd.why);
    UT_CHECK_EQ(rc, want_rc);
    UT_CHECK(strstr(upd.why, why_has) != NULL);
    UT_CHECK_EQ(sim_flash_ops(&dev), ops);
    counted(reason, before);
}

/* Refused after the slot was opened: target slot BAD, slot a (running,
 * good) byte for byte as before, boot still picks slot a. */
static void
refused_marked_bad(const char *what, int want_rc, const char *why_has,
                   int reason)
{
    uint32_t before = audit.refused[reason];
    struct bootctl bc;
    int rc, trial;

    memcpy(snap_slot, dev.map + pslot[0].base, SLOT_SIZE);
    rc = install();
    counted(reason, before);
    UT_CASE(what);
    if (rc != want_rc || strstr(upd.why, why_has) == NULL)
        printf("  got %d '%s'\n", rc, upd.why);
    UT_CHECK_EQ(rc, want_rc);
    UT_CHECK(strstr(upd.why, why_has) != NULL);
    UT_CHECK_EQ(bootctl_load(&ctl, &bc), 0);
    UT_CHECK_EQ(bc.slot[1].state, SLOT_BAD);
    UT_CHECK_EQ(bc.slot[1].result, reason);
    UT_CHECK(memcmp(snap_slot, dev.map + pslot[0].base, SLOT_SIZE) == 0);
    UT_CHECK_EQ(boot(&trial), 0);
    UT_CHECK_EQ(trial, 0);
}

static void
test_attacks(void)
{
    static const int rel[3] = {0, 1, 2}, rot[3] = {0, 1, 4};
    uint8_t kr2[UPD_KEYRING_MAX];
    struct spec s;
    int ml, kl;

    dev_new();
    provision();
    power_on(0);

    /* Each a signed bundle changed in one way, refused before the slot
     * is touched, with its error, words and reason. */
    {
        enum { NONE, MANIFEST_BYTE, SIGNATURE_BYTE };
        static const struct {
            const char *what;
            int tamper; /* a byte flipped after signing */
            int signer0, signer1, nsigners;
            const char *board; /* NULL: "sim" */
            uint64_t counter;  /* 0: base_spec()'s */
            struct upd_version v;
            int rc;
            const char *why;
            int reason;
        } attacks[] = {
            {"attack: flipped byte in the manifest",
             MANIFEST_BYTE,
             0,
             1,
             2,
             NULL,
             1,
             {1, 1, 0},
             -EPERM,
             "does not verify",
             UPD_R_BAD_SIGNATURE},
            {"attack: flipped byte in a signature",
             SIGNATURE_BYTE,
             0,
             1,
             2,
             NULL,
             1,
             {1, 1, 0},
             -EPERM,
             "does not verify",
             UPD_R_BAD_SIGNATURE},
            {"attack: a signature by an unknown key",
             NONE,
             3,
             1,
             2,
             NULL,
             1,
             {1, 1, 0},
             -EPERM,
             "others by keys not in the keyring",
             UPD_R_UNKNOWN_KEY},
            {"attack: k-1 valid signatures",
             NONE,
             0,
             1,
             1,
             NULL,
             1,
             {1, 1, 0},
             -EPERM,
             "needs 2 signatures by keyring keys, has 1",
             UPD_R_TOO_FEW_SIGNATURES},
            {"attack: one key signing twice",
             NONE,
             0,
             0,
             2,
             NULL,
             1,
             {1, 1, 0},
             -EPERM,
             "signed twice",
             UPD_R_DUPLICATE_KEY},
            {"attack: the wrong board",
             NONE,
             0,
             1,
             2,
             "qemu-x86_64",
             1,
             {1, 0, 0},
             -ENODEV,
             "for board",
             UPD_R_WRONG_BOARD},
            {"attack: counter below the anti-rollback counter",
             NONE,
             0,
             1,
             2,
             NULL,
             0,
             {1, 2, 0},
             -ESTALE,
             "below the anti-rollback counter",
             UPD_R_COUNTER_ROLLBACK},
            {"attack: version older than the running slot",
             NONE,
             0,
             1,
             2,
             NULL,
             1,
             {0, 9, 0},
             -ESTALE,
             "older than slot a",
             UPD_R_VERSION_DOWNGRADE},
        };

        for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
            s = base_spec();
            s.signers[0] = attacks[i].signer0;
            s.signers[1] = attacks[i].signer1;
            s.nsigners = attacks[i].nsigners;
            if (attacks[i].board != NULL)
                s.boards[0] = attacks[i].board;
            s.counter = attacks[i].counter;
            s.v = attacks[i].v;
            ml = build(&s);
            if (attacks[i].tamper == MANIFEST_BYTE)
                bundle[UPD_HDR_LEN + MAN_OFF_CREATED] ^= 0x01;
            else if (attacks[i].tamper == SIGNATURE_BYTE)
                bundle[UPD_HDR_LEN + ml + SIG_OFF_DER + 7] ^= 0x01;
            refused_untouched(attacks[i].what, attacks[i].rc, attacks[i].why,
                              attacks[i].reason);
        }
    }
    {
        static uint8_t garbage[4096];
        uint32_t x = 7;

        for (size_t i = 0; i < sizeof(garbage); i++)
            garbage[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
        memcpy(bundle, garbage, sizeof(garbage));
        blen = sizeof(garbage);
        refused_untouched("attack: garbage", -EINVAL, "not a keel bundle",
                          UPD_R_BAD_HEADER);
    }
    {
        struct upd_header h = {UPD_MANIFEST_MAX + 5, 0, 1000};

        upd_header_encode(&h, bundle);
        blen = 2000;
        refused_untouched("attack: oversized header fields", -E2BIG,
                          "manifest length", UPD_R_TOO_LARGE);
    }
    /* A non-canonical manifest, validly signed: boards swapped. */
    s = base_spec();
    s.boards[0] = "qemu-x86_64";
    s.boards[1] = "sim";
    s.v.minor = 3;
    ml = build(&s);
    {
        uint8_t *t = bundle + UPD_HDR_LEN, b1[12], b2[4];

        memcpy(b1, t + 52, 12);
        memcpy(b2, t + 64, 4);
        memcpy(t + 52, b2, 4);
        memcpy(t + 56, b1, 12);
        resign(ml);
    }
    refused_untouched("attack: a non-canonical manifest encoding", -EINVAL,
                      "canonical", UPD_R_BAD_MANIFEST);
    /* A signed security counter above the limit: it would max out the
     * anti-rollback counter for good. */
    s = base_spec();
    s.counter = UPD_COUNTER_MAX;
    s.v.minor = 3;
    ml = build(&s);
    lib_put64(bundle + UPD_HDR_LEN + 20, UPD_COUNTER_MAX + 1);
    resign(ml);
    refused_untouched("attack: a signed security counter above "
                      "UPD_COUNTER_MAX",
                      -E2BIG, "security counter above", UPD_R_TOO_LARGE);
    /* Truncated at each tenth of its length. */
    s = base_spec();
    s.v.minor = 4;
    build(&s);
    {
        size_t full = blen;
        int head = 0, body = 0;

        for (int t = 0; t < 10; t++) {
            size_t cut = full * (size_t)t / 10;
            uint64_t ops = sim_flash_ops(&dev);
            int rc;

            blen = cut;
            memcpy(snap_slot, dev.map + pslot[0].base, SLOT_SIZE);
            rc = install();
            if (rc != -EINVAL || strstr(upd.why, "truncated") == NULL)
                printf("  cut at %zu: %d '%s'\n", cut, rc, upd.why);
            head += sim_flash_ops(&dev) == ops;
            body += sim_flash_ops(&dev) != ops;
            UT_CHECK_EQ(rc, -EINVAL);
            UT_CHECK(memcmp(snap_slot, dev.map + pslot[0].base, SLOT_SIZE) ==
                     0);
        }
        UT_CASE("attack: truncated at each tenth (head and body)");
        UT_CHECK(head >= 1 && body >= 5);
        blen = full;
    }
    /* A flipped byte in chunk 3: nothing from it on is written. */
    bundle[blen - s.payload + 3 * CHUNK + 100] ^= 0x40;
    {
        static uint8_t before_b[SLOT_SIZE];
        struct bootctl bc;
        uint32_t po;

        memcpy(before_b, dev.map + pslot[1].base, SLOT_SIZE);
        refused_marked_bad("attack: flipped byte in the payload", -EBADMSG,
                           "chunk 3 of 7", UPD_R_CHUNK_HASH);
        bootctl_load(&ctl, &bc);
        po = (UPD_SLOT_HDR + bc.slot[1].manifest_len + 4095) / 4096 * 4096;
        UT_CHECK(memcmp(before_b + po + 3 * CHUNK,
                        dev.map + pslot[1].base + po + 3 * CHUNK,
                        SLOT_SIZE - po - 3 * CHUNK) == 0);
    }
    build(&s);
    cancel_after = 2;
    refused_marked_bad("install: cancelled (Ctrl-C) after 2 chunks", -ECANCELED,
                       "cancelled", UPD_R_CANCELLED);
    cancel_after = -1;

    /* Keyring rotation: to {0, 1, 4}, 2 of 3, version 2. */
    kl = keyring_of(kr2, sizeof(kr2), rot, 3, 2, 2);
    s = base_spec();
    s.v.minor = 5;
    s.keyring = kr2;
    s.keyring_len = (uint32_t)kl;
    s.signers[0] = 4;
    s.signers[1] = 3;
    s.nsigners = 2;
    build(&s);
    refused_untouched("attack: keyring rotation not signed by the current "
                      "threshold",
                      -EPERM, "needs 2 signatures by keyring keys",
                      UPD_R_UNKNOWN_KEY);
    s.signers[0] = 0;
    s.signers[1] = 2; /* current threshold met; the new keyring has 0 only */
    build(&s);
    refused_untouched("attack: keyring rotation without the new keyring's "
                      "threshold",
                      -EPERM, "new keyring's keys, has 1", UPD_R_BAD_ROTATION);
    kl = keyring_of(kr2, sizeof(kr2), rot, 3, 2, 1);
    s.signers[1] = 1;
    build(&s);
    refused_untouched("attack: keyring rotation to a version not above", -EPERM,
                      "not above", UPD_R_BAD_ROTATION);
    kl = keyring_of(kr2, sizeof(kr2), rot, 3, 2, 2);
    s.signers[0] = 0;
    s.signers[1] = 1;
    s.signers[2] = 4;
    s.nsigners = 3;
    build(&s);
    UT_CASE("keyring rotation signed by both thresholds is accepted");
    UT_CHECK_EQ(audit.keyring_rotations, 0);
    UT_CHECK_EQ(install(), 1);
    UT_CHECK_EQ(audit.keyring_rotations, 1);
    {
        /* logged before the slot is marked ready: version 1 -> 2 */
        const struct upd_event *e = upd_audit_event(&audit, 1);

        UT_CHECK(e != NULL && e->kind == UPD_EV_KEYRING && e->a == 1 &&
                 e->b == 2);
    }
    {
        struct upd_keyring k;

        UT_CHECK_EQ(update_keyring(&upd, &k), 0);
        UT_CHECK_EQ(k.version, 2);
        UT_CHECK(upd_keyring_find(&k, kid[2]) < 0);
    }
    /* key 2 is revoked now: 0 + 2 counts only once */
    s = base_spec();
    s.v.minor = 6;
    s.signers[0] = 0;
    s.signers[1] = 2;
    build(&s);
    refused_untouched("attack: a revoked key stops counting at once", -EPERM,
                      "has 1", UPD_R_UNKNOWN_KEY);
    s.signers[1] = 4;
    build(&s);
    UT_CASE("the new keyring's keys sign the next release");
    UT_CHECK_EQ(install(), 1);

    /* The slot's size: a payload that fills slot b to its last byte
     * installs, one byte more is refused before the slot is touched. */
    s = base_spec();
    s.v.minor = 7;
    s.signers[1] = 4;
    s.payload = SLOT_SIZE - 2 * ES; /* 16 chunks: a 568-byte manifest */
    ml = build(&s);
    s.payload = SLOT_SIZE - (UPD_SLOT_HDR + (size_t)ml + ES - 1) / ES * ES;
    s.payload++;
    UT_CHECK_EQ(build(&s), ml);
    refused_untouched("attack: a payload one byte over the slot", -E2BIG,
                      "does not fit slot b", UPD_R_TOO_LARGE);
    s.payload--;
    build(&s);
    UT_CASE("a payload that fills the slot to its last byte installs");
    UT_CHECK_EQ(install(), 1);
    (void)rel;
    sim_flash_close(&dev);
}

/* A signed keyring (KSK1) of keys idx, signed by signers. */
static size_t
skr_of(uint8_t *out, const int *idx, int n, int k, uint32_t v,
       const int *signers, int ns)
{
    uint8_t kr[UPD_KEYRING_MAX], h[32];
    int kl = keyring_of(kr, sizeof(kr), idx, n, k, v);

    memcpy(out, "KSK1", 4);
    lib_put32(out + 4, (uint32_t)kl);
    memcpy(out + 8, kr, (size_t)kl);
    crypto_sha256(kr, (size_t)kl, h);
    for (int i = 0; i < ns; i++) {
        struct upd_sig sg;

        memcpy(sg.key_id, kid[signers[i]], 32);
        sg.len = (uint8_t)crypto_ec_sign(&keys[signers[i]], h, sg.der);
        upd_sig_encode(&sg, out + 8 + kl + i * UPD_SIG_LEN);
    }
    return 8 + (size_t)kl + (size_t)ns * UPD_SIG_LEN;
}

static void
test_keyring_file(void)
{
    static const int rot[3] = {0, 1, 4}, both[3] = {0, 1, 4},
                     cur_only[2] = {0, 2}, new_only[2] = {4, 3};
    uint8_t f[UPD_SKR_MAX];
    struct upd_keyring k;
    size_t n;

    dev_new();
    power_on(-1);
    UT_CASE("signed keyring: refusals leave the keyring unchanged");
    n = skr_of(f, rot, 3, 2, 2, cur_only, 2);
    UT_CHECK_EQ(update_keyring_rotate(&upd, f, n), -EPERM);
    UT_CHECK(strstr(upd.why, "new keyring's keys, has 1") != NULL);
    n = skr_of(f, rot, 3, 2, 2, new_only, 2);
    UT_CHECK_EQ(update_keyring_rotate(&upd, f, n), -EPERM);
    UT_CHECK(strstr(upd.why, "needs 2 signatures") != NULL);
    n = skr_of(f, rot, 3, 2, 1, both, 3);
    UT_CHECK_EQ(update_keyring_rotate(&upd, f, n), -EPERM);
    UT_CHECK(strstr(upd.why, "not above") != NULL);
    n = skr_of(f, rot, 3, 2, 2, both, 3);
    f[20] ^= 1; /* inside the keyring: its signatures break */
    UT_CHECK(update_keyring_rotate(&upd, f, n) < 0);
    f[20] ^= 1;
    UT_CHECK_EQ(update_keyring_rotate(&upd, f, n - 1), -EINVAL);
    UT_CHECK_EQ(update_keyring(&upd, &k), 0);
    UT_CHECK_EQ(k.version, 1);
    UT_CASE("signed keyring: both thresholds rotate it");
    UT_CHECK_EQ(update_keyring_rotate(&upd, f, n), 0);
    UT_CHECK(upd_audit_event(&audit, 0) != NULL &&
             upd_audit_event(&audit, 0)->kind == UPD_EV_KEYRING &&
             upd_audit_event(&audit, 0)->a == 1 &&
             upd_audit_event(&audit, 0)->b == 2);
    UT_CHECK_EQ(update_keyring(&upd, &k), 0);
    UT_CHECK_EQ(k.version, 2);
    UT_CHECK(upd_keyring_find(&k, kid[4]) >= 0);
    UT_CHECK(upd_keyring_find(&k, kid[2]) < 0);
    sim_flash_close(&dev);

    dev_new();
    UT_CASE("keyring expiry: refused when expired or the clock is unset");
    {
        static const int rel[3] = {0, 1, 2};
        struct upd_keyring kr;
        uint8_t b[UPD_KEYRING_MAX];
        struct spec s = base_spec();
        const char *why;
        int kl;

        kl = keyring_of(b, sizeof(b), rel, 3, 2, 1);
        UT_CHECK_EQ(upd_keyring_decode(b, (size_t)kl, &kr, &why), 0);
        kr.expires = hal_clock_wall() + 30 * 86400; /* a month ahead */
        kl = upd_keyring_encode(&kr, b, sizeof(b));
        UT_CHECK_EQ(store_put(&st, UPD_KEY_KEYRING, b, (size_t)kl), 0);
        build(&s);
        power_on(-1);
        setenv("KEEL_SIM_CLOCK_OFFSET", "-2000000000", 1); /* 1970 */
        UT_CHECK_EQ(install(), -EPERM);
        UT_CHECK(strstr(upd.why, "clock is unset") != NULL);
        setenv("KEEL_SIM_CLOCK_OFFSET", "5184000", 1); /* 60 days on */
        UT_CHECK_EQ(install(), -EPERM);
        UT_CHECK(strstr(upd.why, "expired") != NULL);
        unsetenv("KEEL_SIM_CLOCK_OFFSET");
        UT_CHECK_EQ(install(), 0); /* today, before the expiry */
    }
    sim_flash_close(&dev);
}

/* ---- trust only rises (issue #11, findings 1-3) ---- */

static void
test_trust(void)
{
    static const int rot[3] = {0, 1, 4}, both[3] = {0, 1, 4},
                     rel[3] = {0, 1, 2};
    uint8_t f[UPD_SKR_MAX], kr1[UPD_KEYRING_MAX];
    struct upd_keyring k;
    struct upd_floor fl;
    struct spec s;
    struct bootctl bc;
    size_t n;
    int kl, trial;

    /* The image's keyring (version 1), as rootfs/etc/keel/keyring. */
    kl = keyring_of(kr1, sizeof(kr1), rel, 3, 2, 1);

    /* A fresh device takes the image's keyring and raises the floor. */
    dev_new();
    store_del(&st, UPD_KEY_KEYRING);
    power_on(-1);
    UT_CASE("trust: a fresh device seeds the image keyring and its floor");
    UT_CHECK_EQ(update_keyring_seed(&upd, kr1, (size_t)kl, "image"), 0);
    UT_CHECK_EQ(upd_floor_load(&ctl, &st, &fl), 0);
    UT_CHECK_EQ(fl.keyring_version, 1);
    provision();
    n = skr_of(f, rot, 3, 2, 2, both, 3);
    power_on(0);
    UT_CHECK_EQ(update_keyring_rotate(&upd, f, n), 0);
    UT_CHECK_EQ(upd_floor_load(&ctl, &st, &fl), 0);
    UT_CHECK_EQ(fl.keyring_version, 2);
    UT_CHECK_EQ(fl.arb, 1);

    /* A bundle that the revoked key 2 helps sign. */
    s = base_spec();
    s.v.minor = 1;
    s.signers[0] = 0;
    s.signers[1] = 2;

    UT_CASE("trust: a deleted keyring is not re-seeded from the image");
    UT_CHECK_EQ(store_del(&st, UPD_KEY_KEYRING), 0);
    power_on(0);
    UT_CHECK_EQ(update_keyring_seed(&upd, kr1, (size_t)kl, "image"), -EPERM);
    UT_CHECK_EQ(upd.reason, UPD_R_KEYRING_ROLLBACK);
    UT_CHECK_EQ(update_keyring(&upd, &k), -ENOKEY);
    UT_CHECK_EQ(upd.reason, UPD_R_KEYRING_ROLLBACK);
    build(&s);
    UT_CHECK(install() < 0);
    UT_CHECK_EQ(upd.reason, UPD_R_KEYRING_ROLLBACK);
    UT_CHECK_EQ(audit.refused[UPD_R_KEYRING_ROLLBACK], 1);

    UT_CASE("trust: an older keyring stored back is refused");
    UT_CHECK_EQ(store_put(&st, UPD_KEY_KEYRING, kr1, (size_t)kl), 0);
    power_on(0);
    UT_CHECK_EQ(update_keyring(&upd, &k), -EPERM);
    UT_CHECK(strstr(upd.why, "below version 2") != NULL);
    UT_CHECK(install() < 0);
    UT_CHECK_EQ(upd.reason, UPD_R_KEYRING_ROLLBACK);

    UT_CASE("trust: only the very keyring of the floor restores it");
    {
        static const int other[3] = {0, 1, 3};
        uint8_t g[UPD_SKR_MAX];
        size_t gn = skr_of(g, other, 3, 2, 2, both, 3);

        UT_CHECK_EQ(update_keyring_rotate(&upd, g, gn), -EPERM);
        UT_CHECK_EQ(upd.restored, 0);
    }
    UT_CHECK_EQ(update_keyring_rotate(&upd, f, n), 0);
    UT_CHECK_EQ(upd.restored, 1);
    UT_CHECK_EQ(update_keyring(&upd, &k), 0);
    UT_CHECK_EQ(k.version, 2);
    build(&s);
    UT_CHECK(install() < 0); /* key 2 still does not count */
    UT_CHECK_EQ(upd.reason, UPD_R_UNKNOWN_KEY);

    UT_CASE("trust: a corrupt newest keyring record never falls back");
    ut_store_damage(&dev, &pstore, &st, UPD_KEY_KEYRING, 8, 0x10);
    power_on(0);
    UT_CHECK(update_keyring(&upd, &k) < 0);
    UT_CHECK_EQ(upd.reason, UPD_R_KEYRING_ROLLBACK);
    UT_CHECK(install() < 0);
    UT_CHECK_EQ(upd.reason, UPD_R_KEYRING_ROLLBACK);
    UT_CHECK_EQ(update_keyring_rotate(&upd, f, n), 0);
    UT_CHECK_EQ(update_keyring(&upd, &k), 0);
    sim_flash_close(&dev);

    UT_CASE("trust: damage to the newest control copy keeps the confirm");
    dev_new();
    power_on(-1);
    provision(); /* slot a confirmed, counter 1 */
    sim_flash_corrupt(&dev, pctl.base + ctl.newest * ES + 20, 0x01);
    power_on(0);
    UT_CHECK_EQ(ctl.bad, 1);
    UT_CHECK_EQ(bootctl_load(&ctl, &bc), 0);
    UT_CHECK_EQ(bc.arb, 1);
    UT_CHECK_EQ(bc.slot[0].state, SLOT_GOOD);
    UT_CHECK_EQ(bc.primary, 0);
    UT_CHECK_EQ(boot(&trial), 0);
    UT_CHECK_EQ(trial, 0);
    s = base_spec();
    s.counter = 0;
    s.v.minor = 9;
    build(&s);
    UT_CHECK_EQ(install(), -ESTALE);

    UT_CASE("trust: both control copies corrupt are damage, not blank");
    power_on(0);
    UT_CHECK_EQ(update_floor_sync(&upd, &fl), 0); /* as the node starts */
    sim_flash_corrupt(&dev, pctl.base + 24, 0x02);
    sim_flash_corrupt(&dev, pctl.base + ES + 24, 0x02);
    power_on(0);
    UT_CHECK_EQ(ctl_mount(&ctl, &pctl), -EBADMSG);
    /* the store's mirror still knows the counter */
    UT_CHECK_EQ(upd_floor_load(NULL, &st, &fl), 0);
    UT_CHECK_EQ(fl.arb, 1);
    UT_CHECK_EQ(fl.keyring_version, 1);

    UT_CASE("trust: a floor copy left behind is brought up");
    sim_flash_close(&dev);
    dev_new();
    power_on(-1);
    provision();
    {
        uint8_t b[UPD_FLOOR_LEN];

        /* an older mirror (as after a cut between the writes) */
        memset(&fl, 0, sizeof(fl));
        upd_floor_encode(&fl, b);
        UT_CHECK_EQ(store_put(&st, UPD_KEY_FLOOR, b, sizeof(b)), 0);
        power_on(0);
        UT_CHECK_EQ(update_floor_sync(&upd, &fl), 0);
        UT_CHECK(fl.behind & UPD_FLOOR_SRC_STORE);
        UT_CHECK_EQ(upd_floor_load(&ctl, &st, &fl), 0);
        UT_CHECK_EQ(fl.behind, 0);
        UT_CHECK_EQ(fl.arb, 1);
    }
    sim_flash_close(&dev);
}

/* ---- the slot ---- */

/* Rewrite slot s's header as a build that kept no signatures wrote it:
 * sigs_len 0, the blocks' bytes erased. */
static void
slot_hdr_unsigned(int s)
{
    uint8_t *p = dev.map + pslot[s].base;
    struct upd_slot_hdr sh;
    const char *why;

    UT_CHECK_EQ(upd_slot_hdr_decode(p, &sh, &why), 0);
    memset(p + UPD_SLOT_SIGS_OFF, 0xff, sh.sigs_len);
    sh.sigs_len = 0;
    upd_slot_hdr_encode(&sh, p);
}

static void
test_slot(void)
{
    struct spec s = base_spec();
    struct bootctl bc;
    struct upd_slot_hdr sh;
    const char *why;
    char w[120];
    int ml;

    dev_new();
    UT_CASE("install keeps the bundle's signature blocks in the slot");
    ml = build(&s);
    power_on(-1);
    UT_CHECK_EQ(install(), 0);
    UT_CHECK_EQ(upd_slot_hdr_decode(dev.map + pslot[0].base, &sh, &why), 0);
    UT_CHECK_EQ(sh.sigs_len, 2 * UPD_SIG_LEN);
    UT_CHECK_EQ(sh.manifest_len, ml);
    UT_CHECK(memcmp(dev.map + pslot[0].base + UPD_SLOT_SIGS_OFF,
                    bundle + UPD_HDR_LEN + ml, 2 * UPD_SIG_LEN) == 0);
    UT_CHECK(memcmp(dev.map + pslot[0].base + UPD_SLOT_HDR,
                    bundle + UPD_HDR_LEN, (size_t)ml) == 0);
    UT_CASE("slot verified on its own: signatures, board, floor, chunks");
    {
        static const int all3[3] = {0, 1, 2}, strangers[2] = {3, 4};
        uint8_t *slot = dev.map + pslot[0].base, kb[UPD_KEYRING_MAX];
        struct upd_slot_info info;
        struct upd_keyring k, other;
        uint32_t po = lib_le32(slot + 8);
        int n;

        memcpy(snap_slot, slot, SLOT_SIZE);
        UT_CHECK_EQ(update_keyring(&upd, &k), 0);
        memset(&info, 0, sizeof(info));
        UT_CHECK_EQ(update_slot_verify_signed(&pslot[0], &k, "sim", 1, &info,
                                              &work, w, sizeof(w)),
                    UPD_VERIFIED);
        UT_CHECK_EQ(info.counter, 1);
        UT_CHECK_EQ(info.version.major, 1);
        UT_CHECK_EQ(update_slot_verify_signed(&pslot[0], &k, "qemu-x86_64", 0,
                                              &info, &work, w, sizeof(w)),
                    -ENODEV);
        UT_CHECK_EQ(update_slot_verify_signed(&pslot[0], &k, "sim", 2, &info,
                                              &work, w, sizeof(w)),
                    -ESTALE);
        UT_CHECK(strstr(w, "below the anti-rollback floor 2") != NULL);
        /* keys the slot was not signed by; a threshold it does not meet */
        n = keyring_of(kb, sizeof(kb), strangers, 2, 1, 1);
        UT_CHECK_EQ(upd_keyring_decode(kb, (size_t)n, &other, &why), 0);
        UT_CHECK_EQ(update_slot_verify_signed(&pslot[0], &other, "sim", 0,
                                              &info, &work, w, sizeof(w)),
                    -EPERM);
        n = keyring_of(kb, sizeof(kb), all3, 3, 3, 1);
        UT_CHECK_EQ(upd_keyring_decode(kb, (size_t)n, &other, &why), 0);
        UT_CHECK_EQ(update_slot_verify_signed(&pslot[0], &other, "sim", 0,
                                              &info, &work, w, sizeof(w)),
                    -EPERM);
        UT_CHECK(strstr(w, "needs 3 signatures") != NULL);
        /* tampered: a signature byte, one signature short, a payload
         * byte, a manifest byte */
        slot[UPD_SLOT_SIGS_OFF + UPD_SIG_LEN + 40] ^= 0x01;
        UT_CHECK_EQ(update_slot_verify_signed(&pslot[0], &k, "sim", 0, &info,
                                              &work, w, sizeof(w)),
                    -EPERM);
        UT_CHECK(strstr(w, "does not verify") != NULL);
        memcpy(slot, snap_slot, SLOT_SIZE);
        UT_CHECK_EQ(upd_slot_hdr_decode(slot, &sh, &why), 0);
        sh.sigs_len = UPD_SIG_LEN;
        upd_slot_hdr_encode(&sh, slot);
        UT_CHECK_EQ(update_slot_verify_signed(&pslot[0], &k, "sim", 0, &info,
                                              &work, w, sizeof(w)),
                    -EPERM);
        UT_CHECK(strstr(w, "needs 2 signatures by keyring keys, has 1") !=
                 NULL);
        memcpy(slot, snap_slot, SLOT_SIZE);
        slot[po + 5 * CHUNK + 7] ^= 0x20;
        UT_CHECK_EQ(update_slot_verify_signed(&pslot[0], &k, "sim", 0, &info,
                                              &work, w, sizeof(w)),
                    -EBADMSG);
        UT_CHECK(strstr(w, "chunk 5 of 7") != NULL);
        memcpy(slot, snap_slot, SLOT_SIZE);
        slot[UPD_SLOT_HDR + 30] ^= 0x01; /* creation time */
        UT_CHECK_EQ(update_slot_verify_signed(&pslot[0], &k, "sim", 0, &info,
                                              &work, w, sizeof(w)),
                    -EPERM);
        memcpy(slot, snap_slot, SLOT_SIZE);
        UT_CHECK_EQ(update_slot_verify_signed(&pslot[0], &k, "sim", 0, &info,
                                              &work, w, sizeof(w)),
                    UPD_VERIFIED);
    }
    UT_CASE("a slot of an older build (no signatures kept) still verifies");
    bootctl_load(&ctl, &bc);
    UT_CHECK_EQ(update_slot_verify(&pslot[0], &bc.slot[0], &work, w, sizeof(w)),
                UPD_VERIFIED);
    slot_hdr_unsigned(0);
    UT_CHECK_EQ(update_slot_verify(&pslot[0], &bc.slot[0], &work, w, sizeof(w)),
                UPD_VERIFIED);
    {
        struct upd_slot_info info;
        struct upd_keyring k;

        UT_CHECK_EQ(update_keyring(&upd, &k), 0);
        UT_CHECK_EQ(update_slot_verify_signed(&pslot[0], &k, "sim", 0, &info,
                                              &work, w, sizeof(w)),
                    -ENODATA);
        UT_CHECK(strstr(w, "older build") != NULL);
    }
    UT_CASE("a slot header that does not decode fails verification");
    dev.map[pslot[0].base + 5] ^= 0x01;
    UT_CHECK_EQ(update_slot_verify(&pslot[0], &bc.slot[0], &work, w, sizeof(w)),
                -EBADMSG);
    UT_CHECK(strstr(w, "checksum") != NULL);
    sim_flash_close(&dev);
}

/* ---- keel-boot ---- */

static void
metrics_cat(void *arg, const char *line)
{
    char *m = arg;
    size_t n = strlen(m);

    snprintf(m + n, 16384 - n, "%s", line);
}

static void
test_boot(void)
{
    struct spec s;
    struct bootctl bc, before;
    int trial;

    dev_new();
    power_on(-1);
    UT_CASE("boot: nothing installed, nothing to boot");
    UT_CHECK_EQ(boot(&trial), -ENOENT);
    provision();

    UT_CASE("boot: a good slot boots with no count; power cuts never flip");
    {
        uint64_t ops = sim_flash_ops(&dev);
        uint8_t e1[BOOTCTL_LEN], e2[BOOTCTL_LEN];

        bootctl_load(&ctl, &before);
        for (int i = 0; i < 3; i++) {
            UT_CHECK_EQ(boot(&trial), 0);
            UT_CHECK_EQ(trial, 0);
        }
        bootctl_load(&ctl, &bc);
        bootctl_encode(&before, e1);
        bootctl_encode(&bc, e2);
        UT_CHECK(memcmp(e1, e2, BOOTCTL_LEN) == 0);
        UT_CHECK_EQ(sim_flash_ops(&dev), ops); /* not a single write */
    }

    UT_CASE("boot: a trial that never confirms falls back after 3 tries");
    s = base_spec();
    s.v.minor = 1;
    build(&s);
    power_on(0);
    UT_CHECK_EQ(install(), 1);
    bootctl_load(&ctl, &bc);
    UT_CHECK_EQ(bc.slot[1].result, UPD_R_INSTALLED);
    for (int i = 0; i < 3; i++) {
        UT_CHECK_EQ(boot(&trial), 1);
        UT_CHECK_EQ(trial, 1);
        bootctl_load(&ctl, &bc);
        UT_CHECK_EQ(bc.slot[1].result, UPD_R_TRIAL_BOOT);
    }
    UT_CHECK_EQ(boot(&trial), 0);
    UT_CHECK_EQ(trial, 0);
    bootctl_load(&ctl, &bc);
    UT_CHECK_EQ(bc.slot[1].state, SLOT_BAD);
    UT_CHECK_EQ(bc.slot[1].result, UPD_R_TRIAL_EXHAUSTED);
    UT_CHECK_EQ(bc.slot[0].state, SLOT_GOOD);

    UT_CASE("audit: an install logs its slot changes, in order");
    {
        /* installing, then ready; nothing refused */
        const struct upd_event *e0 = upd_audit_event(&audit, 0),
                               *e1 = upd_audit_event(&audit, 1);
        char line[200];

        UT_CHECK_EQ(audit.nevents, 2);
        UT_CHECK(e1 != NULL && e1->kind == UPD_EV_SLOT && e1->slot == 1 &&
                 e1->to == SLOT_INSTALLING && e1->reason == UPD_R_INSTALLING);
        UT_CHECK(e0 != NULL && e0->kind == UPD_EV_SLOT &&
                 e0->from == SLOT_INSTALLING && e0->to == SLOT_READY &&
                 e0->reason == UPD_R_INSTALLED);
        UT_CHECK_EQ(audit.entered[1][SLOT_READY], 1);
        upd_audit_text(e0, line, sizeof(line));
        UT_CHECK(strcmp(line, "slot b: installing -> ready (installed, "
                              "counter 1)") == 0);
        UT_CHECK(upd_audit_event(&audit, 2) == NULL);
    }

    UT_CASE("boot: a trial slot whose contents changed is never booted");
    s.v.minor = 2;
    build(&s);
    power_on(0);
    UT_CHECK_EQ(install(), 1);
    sim_flash_corrupt(&dev, pslot[1].base + 3 * 4096 + 5000, 0x01);
    UT_CHECK_EQ(boot(&trial), 0);
    bootctl_load(&ctl, &bc);
    UT_CHECK_EQ(bc.slot[1].state, SLOT_BAD);
    UT_CHECK_EQ(bc.slot[1].result, UPD_R_BOOT_VERIFY);

    UT_CASE("boot: confirm makes it good, raises the counter; rollback");
    s.v.minor = 3;
    s.counter = 5;
    build(&s);
    power_on(0);
    UT_CHECK_EQ(install(), 1);
    UT_CHECK_EQ(boot(&trial), 1);
    power_on(1);
    UT_CHECK_EQ(update_confirm(&upd), 0);
    bootctl_load(&ctl, &bc);
    UT_CHECK_EQ(bc.arb, 5);
    UT_CHECK_EQ(bc.primary, 1);
    UT_CHECK_EQ(bc.slot[1].result, UPD_R_CONFIRMED);
    UT_CASE("audit: a confirm logs the slot and the counter's rise");
    {
        const struct upd_event *e0 = upd_audit_event(&audit, 0),
                               *e1 = upd_audit_event(&audit, 1);

        UT_CHECK(e1 != NULL && e1->kind == UPD_EV_SLOT &&
                 e1->from == SLOT_TRIAL && e1->to == SLOT_GOOD &&
                 e1->reason == UPD_R_CONFIRMED);
        UT_CHECK(e0 != NULL && e0->kind == UPD_EV_COUNTER && e0->a == 1 &&
                 e0->b == 5);
        UT_CHECK_EQ(audit.counter_raises, 1);
    }
    UT_CHECK_EQ(bc.slot[0].state, SLOT_GOOD);
    /* slot a (counter 1) is below the counter now: no fallback there */
    UT_CHECK_EQ(update_rollback(&upd), -ENOENT);
    UT_CHECK_EQ(boot(&trial), 1);
    UT_CHECK_EQ(trial, 0);
    /* a same-counter release in slot a, confirmed, can be rolled back */
    s.v.minor = 4;
    build(&s);
    power_on(1);
    UT_CHECK_EQ(install(), 0);
    UT_CHECK_EQ(boot(&trial), 0);
    power_on(0);
    UT_CHECK_EQ(update_confirm(&upd), 0);
    UT_CHECK_EQ(update_rollback(&upd), 0);
    UT_CHECK_EQ(boot(&trial), 1);
    bootctl_load(&ctl, &bc);
    UT_CHECK_EQ(bc.slot[0].state, SLOT_BAD);
    UT_CHECK_EQ(bc.slot[0].result, UPD_R_ROLLED_BACK);

    UT_CASE("boot: a good slot that fails verification is not booted");
    sim_flash_corrupt(&dev, pslot[1].base + UPD_SLOT_HDR + 60, 0x02);
    UT_CHECK_EQ(boot(&trial), -ENOENT);
    bootctl_load(&ctl, &bc);
    UT_CHECK_EQ(bc.slot[1].result, UPD_R_BOOT_VERIFY);

    UT_CASE("audit: metrics in Prometheus text format, every reason named");
    {
        static char m[16384];
        size_t n = 0;

        memset(&audit, 0, sizeof(audit));
        audit.refused[UPD_R_BAD_SIGNATURE] = 3;
        upd_audit_metrics(&audit, &bc, metrics_cat, m);
        n = strlen(m);
        UT_CHECK(n > 0 && n < sizeof(m) - 1 && m[n - 1] == '\n');
        UT_CHECK(strstr(m, "# TYPE keel_update_rejected_total counter\n") !=
                 NULL);
        UT_CHECK(strstr(m, "\nkeel_update_rejected_total{reason=\""
                           "bad_signature\"} 3\n") != NULL);
        for (int r = UPD_R_FIRST_REFUSAL; r < UPD_R_COUNT; r++) {
            char want[80];

            snprintf(want, sizeof(want), "{reason=\"%s\"} ",
                     upd_reason_name(r));
            UT_CHECK((strstr(m, want) != NULL) == upd_reason_refusal(r));
        }
        /* keel-boot's outcome is no refusal */
        UT_CHECK(!upd_reason_refusal(UPD_R_BOOT_UNPACK));
        UT_CHECK(strcmp(upd_reason_name(UPD_R_BOOT_UNPACK), "boot_unpack") ==
                 0);
        UT_CHECK(strstr(m, "keel_update_slot_info{slot=\"b\",state=\"bad\","
                           "version=\"1.3.0\",result=\"boot_verify\"} 1\n") !=
                 NULL);
        /* every sample line: name, optional labels, a space, a number */
        for (char *l = m; *l != '\0'; l = strchr(l, '\n') + 1) {
            if (*l == '#')
                continue;
            UT_CHECK(strncmp(l, "keel_update_", 12) == 0);
            UT_CHECK(strchr(l, ' ') != NULL && strchr(l, ' ')[1] >= '0' &&
                     strchr(l, ' ')[1] <= '9');
        }
    }
    sim_flash_close(&dev);
}

static int
unpack_failed(int s)
{
    const struct hal_flash *sl[2] = {&pslot[0], &pslot[1]};

    return boot_unpack_failed(&ctl, sl, &work, s, "test", NULL, NULL);
}

static void
test_boot_unpack(void)
{
    struct spec s = base_spec();
    struct bootctl bc;
    uint64_t ops;
    int trial;

    dev_new();
    provision();
    UT_CASE("boot: a trial that does not unpack is bad (boot_unpack); the "
            "good slot boots");
    s.v.minor = 1;
    build(&s);
    power_on(0);
    UT_CHECK_EQ(install(), 1);
    UT_CHECK_EQ(boot(&trial), 1);
    UT_CHECK_EQ(trial, 1);
    UT_CHECK_EQ(unpack_failed(1), 0);
    bootctl_load(&ctl, &bc);
    UT_CHECK_EQ(bc.slot[1].state, SLOT_BAD);
    UT_CHECK_EQ(bc.slot[1].tries, 0);
    UT_CHECK_EQ(bc.slot[1].result, UPD_R_BOOT_UNPACK);
    UT_CHECK_EQ(boot(&trial), 0);
    UT_CHECK_EQ(trial, 0);

    UT_CASE("boot: the last good slot is not marked bad for not unpacking");
    ops = sim_flash_ops(&dev);
    UT_CHECK_EQ(unpack_failed(0), -ENOENT);
    UT_CHECK_EQ(sim_flash_ops(&dev), ops);
    bootctl_load(&ctl, &bc);
    UT_CHECK_EQ(bc.slot[0].state, SLOT_GOOD);

    UT_CASE("boot: a good slot that does not unpack falls back to the other "
            "good one");
    s.v.minor = 2;
    build(&s);
    power_on(0);
    UT_CHECK_EQ(install(), 1);
    UT_CHECK_EQ(boot(&trial), 1);
    power_on(1);
    UT_CHECK_EQ(update_confirm(&upd), 0);
    UT_CHECK_EQ(boot(&trial), 1); /* primary b, both good */
    UT_CHECK_EQ(unpack_failed(1), 0);
    bootctl_load(&ctl, &bc);
    UT_CHECK_EQ(bc.slot[1].state, SLOT_BAD);
    UT_CHECK_EQ(bc.slot[1].result, UPD_R_BOOT_UNPACK);
    UT_CHECK_EQ(bc.primary, 0);
    UT_CHECK_EQ(boot(&trial), 0);
    UT_CHECK_EQ(trial, 0);
    sim_flash_close(&dev);
}

/* ---- keel-boot with boot control unreadable ---- */

static void
ctl_destroy(void)
{
    sim_flash_corrupt(&dev, pctl.base + 20, 0x01);
    sim_flash_corrupt(&dev, pctl.base + ES + 20, 0x01);
}

/* Mount read-only, load the trust, choose (skip: slots failed). */
static int
degraded(const int skip[2], int *trust_rc)
{
    static struct store ro;
    static struct boot_trust t;
    const struct hal_flash *sl[2] = {&pslot[0], &pslot[1]};
    char why[160];

    UT_CHECK_EQ(store_mount_ro(&ro, &pstore), 0);
    *trust_rc = boot_trust_load(&ro, &t, why, sizeof(why));
    if (*trust_rc != 0)
        return *trust_rc;
    return boot_choose_degraded(sl, &work, &t, "sim", skip, NULL, NULL);
}

/* Set the store's mirror of the trust floor (the keyring hash goes
 * with the keyring stored at that version, when there is one). */
static void
put_floor(uint64_t arb, uint32_t kv)
{
    uint8_t fl[UPD_FLOOR_LEN], kr[UPD_KEYRING_MAX];
    struct upd_floor f;
    int n = store_get(&st, UPD_KEY_KEYRING, kr, sizeof(kr));

    memset(&f, 0, sizeof(f));
    f.arb = arb;
    f.keyring_version = kv;
    if (n > 0)
        crypto_sha256(kr, (size_t)n, f.keyring_hash);
    upd_floor_encode(&f, fl);
    UT_CHECK_EQ(store_put(&st, UPD_KEY_FLOOR, fl, sizeof(fl)), 0);
}

static void
test_degraded(void)
{
    static uint8_t ctl_before[CTL_SIZE], slot_before[SLOT_SIZE];
    static const int none[2] = {0, 0}, skip_b[2] = {0, 1}, both[2] = {1, 1};
    struct spec s = base_spec();
    struct bootctl bc;
    uint64_t ops;
    int trc;

    dev_new();
    provision(); /* slot a: 1.0.0, counter 1, good */
    s.v.minor = 1;
    build(&s);
    power_on(0);
    UT_CHECK_EQ(install(), 1); /* slot b: 1.1.0, counter 1, ready */
    ctl_destroy();
    memcpy(ctl_before, dev.map + pctl.base, CTL_SIZE);

    UT_CASE("degraded: both control-block copies corrupt is -EBADMSG");
    UT_CHECK_EQ(ctl_mount(&ctl, &pctl), -EBADMSG);
    UT_CHECK_EQ(bootctl_load(&ctl, &bc), 0); /* reads as blank: not used */

    UT_CASE("degraded: the slot that verifies by signatures boots; nothing "
            "is written");
    ops = sim_flash_ops(&dev);
    UT_CHECK_EQ(degraded(none, &trc), 1); /* same counter, higher version */
    UT_CHECK_EQ(trc, 0);
    UT_CHECK_EQ(degraded(skip_b, &trc), 0); /* b failed in this run */
    UT_CHECK_EQ(degraded(both, &trc), -ENOENT);
    UT_CHECK_EQ(sim_flash_ops(&dev), ops);
    UT_CHECK(memcmp(ctl_before, dev.map + pctl.base, CTL_SIZE) == 0);

    UT_CASE("degraded: a tampered slot is refused (payload, signature)");
    memcpy(slot_before, dev.map + pslot[1].base, SLOT_SIZE);
    dev.map[pslot[1].base + 8192 + 3 * CHUNK + 9] ^= 0x04;
    UT_CHECK_EQ(degraded(none, &trc), 0);
    dev.map[pslot[0].base + UPD_SLOT_SIGS_OFF + 50] ^= 0x01;
    UT_CHECK_EQ(degraded(none, &trc), -ENOENT);
    dev.map[pslot[0].base + UPD_SLOT_SIGS_OFF + 50] ^= 0x01;
    memcpy(dev.map + pslot[1].base, slot_before, SLOT_SIZE);
    UT_CHECK_EQ(degraded(none, &trc), 1);

    UT_CASE("degraded: a slot of an older build (no signatures) is refused");
    slot_hdr_unsigned(1);
    UT_CHECK_EQ(degraded(none, &trc), 0);
    memcpy(dev.map + pslot[1].base, slot_before, SLOT_SIZE);

    UT_CASE("degraded: the store's floors hold");
    put_floor(2, 0); /* both slots have counter 1 */
    UT_CHECK_EQ(degraded(none, &trc), -ENOENT);
    put_floor(1, 1);
    UT_CHECK_EQ(degraded(none, &trc), 1);
    put_floor(0, 2); /* the keyring (version 1) was rolled back */
    UT_CHECK_EQ(degraded(none, &trc), -EBADMSG);
    UT_CHECK_EQ(store_put(&st, UPD_KEY_FLOOR, "short", 5), 0);
    UT_CHECK_EQ(degraded(none, &trc), -EBADMSG);
    UT_CHECK_EQ(store_del(&st, UPD_KEY_FLOOR), 0);
    UT_CHECK_EQ(degraded(none, &trc), 1);

    UT_CASE("degraded: no keyring in the store, no boot");
    UT_CHECK_EQ(store_del(&st, UPD_KEY_KEYRING), 0);
    UT_CHECK_EQ(degraded(none, &trc), -ENOKEY);
    UT_CHECK(memcmp(ctl_before, dev.map + pctl.base, CTL_SIZE) == 0);
    sim_flash_close(&dev);

    UT_CASE("recover: boot control rebuilt from the running, signed slot");
    dev_new();
    provision(); /* slot a: 1.0.0, counter 1, good */
    s = base_spec();
    s.v.minor = 1;
    s.counter = 2;
    build(&s);
    power_on(0);
    UT_CHECK_EQ(install(), 1); /* slot b: ready, counter 2 */
    ctl_destroy();
    power_on(0);
    UT_CHECK_EQ(ctl_mount(&ctl, &pctl), -EBADMSG);
    {
        uint8_t mark[ID_MARK_LEN_T];
        uint8_t sec[ID_MARK_LEN_T + 8];

        memset(mark, 0x6d, sizeof(mark));
        upd.running = -1;
        UT_CHECK_EQ(update_bootctl_rebuild(&upd, mark, sizeof(mark)), -EINVAL);
        upd.running = 0;
        slot_hdr_unsigned(0); /* an older build's slot cannot be trusted */
        UT_CHECK_EQ(update_bootctl_rebuild(&upd, mark, sizeof(mark)), -EPERM);
        UT_CHECK_EQ(ctl_mount(&ctl, &pctl), -EBADMSG); /* nothing written */
        sim_flash_close(&dev);

        dev_new();
        provision();
        s = base_spec();
        s.v.minor = 1;
        s.counter = 2;
        build(&s);
        power_on(0);
        UT_CHECK_EQ(install(), 1);
        ctl_destroy();
        power_on(0);
        UT_CHECK_EQ(update_bootctl_rebuild(&upd, mark, sizeof(mark)), 0);
        UT_CHECK_EQ(ctl_mount(&ctl, &pctl), 0);
        UT_CHECK(ctl.valid[0] && ctl.valid[1]);
        UT_CHECK_EQ(bootctl_load(&ctl, &bc), 0);
        UT_CHECK_EQ(bc.primary, 0);
        UT_CHECK_EQ(bc.slot[0].state, SLOT_GOOD);
        UT_CHECK_EQ(bc.slot[0].result, UPD_R_RECOVERED);
        UT_CHECK_EQ(bc.slot[1].state, SLOT_BAD); /* a trial, maybe failed */
        UT_CHECK_EQ(bc.arb, 1);
        UT_CHECK_EQ(ctl_get(&ctl, CTL_TAG_ID, sec, sizeof(sec)), ID_MARK_LEN_T);
        UT_CHECK_EQ(sec[0], 0x6d);
        UT_CHECK_EQ(boot(&trc), 0); /* keel-boot: slot a, as good */
        UT_CHECK_EQ(trc, 0);
        s.v.minor = 2;
        build(&s);
        power_on(0);
        UT_CHECK_EQ(install(), 1); /* updates work again */
    }
    sim_flash_close(&dev);

    UT_CASE("degraded: the higher counter wins over the higher version");
    dev_new();
    s = base_spec();
    s.v.minor = 5; /* slot a: 1.5.0, counter 1 */
    build(&s);
    power_on(-1);
    UT_CHECK_EQ(install(), 0);
    bootctl_load(&ctl, &bc);
    bc.primary = 0; /* ready, not good: no version check against it */
    UT_CHECK_EQ(bootctl_save(&ctl, &bc), 0);
    s.v.minor = 0;
    s.counter = 2; /* slot b: 1.0.0, counter 2 */
    build(&s);
    power_on(-1);
    UT_CHECK_EQ(install(), 1);
    ctl_destroy();
    UT_CHECK_EQ(degraded(none, &trc), 1);
    sim_flash_close(&dev);
}

/* ---- the quarantine list's record (issue #17) ---- */

static void
test_quarantine(void)
{
    struct upd_quar q, back;
    uint8_t rec[UPD_QUAR_REC_MAX];
    size_t n;
    int accepted = 0;

    UT_CASE("quarantine list: round trip, every truncation and bad byte "
            "refused");
    memset(&q, 0, sizeof(q));
    q.n = 2;
    memset(q.e[0].hash, 0xab, 32);
    q.e[0].when = 1790000000;
    snprintf(q.e[0].reason, sizeof(q.e[0].reason), "suspected tampering");
    memset(q.e[1].hash, 0x01, 32);
    q.e[1].automatic = 1;
    n = upd_quar_encode(&q, rec);
    UT_CHECK_EQ(n, 6 + 2 * 42 + strlen("suspected tampering"));
    UT_CHECK_EQ(upd_quar_decode(rec, n, &back), 0);
    UT_CHECK_EQ(back.n, 2);
    UT_CHECK_EQ(back.e[0].when, 1790000000);
    UT_CHECK(strcmp(back.e[0].reason, "suspected tampering") == 0);
    UT_CHECK_EQ(back.e[1].automatic, 1);
    UT_CHECK_EQ(upd_quar_find(&back, q.e[1].hash), 1);
    for (size_t l = 0; l < n; l++)
        accepted += upd_quar_decode(rec, l, &back) == 0;
    UT_CHECK_EQ(accepted, 0);
    rec[n] = 0;
    UT_CHECK_EQ(upd_quar_decode(rec, n + 1, &back), -EBADMSG);
    rec[0] ^= 1; /* magic */
    UT_CHECK_EQ(upd_quar_decode(rec, n, &back), -EBADMSG);
    rec[0] ^= 1;
    rec[6 + 40] = 2; /* automatic is 0 or 1 */
    UT_CHECK_EQ(upd_quar_decode(rec, n, &back), -EBADMSG);
    rec[6 + 40] = 0;
    rec[6 + 42] = 0x07; /* a control byte in the reason */
    UT_CHECK_EQ(upd_quar_decode(rec, n, &back), -EBADMSG);
    rec[6 + 42] = 's';
    rec[4] = UPD_QUAR_MAX + 1; /* too many entries */
    UT_CHECK_EQ(upd_quar_decode(rec, n, &back), -EBADMSG);
    rec[4] = 2;
    UT_CHECK_EQ(upd_quar_decode(rec, n, &back), 0);

    UT_CASE("quarantine list: a quarantined bundle is refused at the "
            "manifest, the slot untouched; released, it installs");
    {
        struct spec s = base_spec();
        uint8_t h[32];
        struct bootctl bc0, bc1;

        dev_new();
        build(&s);
        crypto_sha256(bundle + UPD_HDR_LEN,
                      (size_t)lib_le32(bundle + 12) /* manifest length */, h);
        power_on(-1);
        UT_CHECK_EQ(upd_quar_add(&st, h, "test", 0, 0), 0);
        UT_CHECK_EQ(upd_quar_check(&st, h), 1);
        bootctl_load(&ctl, &bc0);
        UT_CHECK_EQ(install(), -EPERM);
        UT_CHECK_EQ(upd.reason, UPD_R_QUARANTINED);
        bootctl_load(&ctl, &bc1);
        UT_CHECK(memcmp(&bc0, &bc1, sizeof(bc0)) == 0);
        power_on(-1); /* across a reboot */
        UT_CHECK_EQ(install(), -EPERM);
        UT_CHECK_EQ(upd_quar_release(&st, h), 0);
        UT_CHECK_EQ(upd_quar_release(&st, h), -ENOENT);
        UT_CHECK_EQ(install(), 0);
        /* a damaged list fails closed */
        store_put(&st, UPD_QUAR_KEY, "junk", 4);
        UT_CHECK(upd_quar_check(&st, h) < 0);
        UT_CHECK_EQ(install(), -EPERM);
        UT_CHECK_EQ(upd_quar_release(&st, h), 0); /* rewrites it empty */
        UT_CHECK_EQ(upd_quar_check(&st, h), 0);
        sim_flash_close(&dev);
    }
}

/* ---- an install in any order (peer fetch, issue #17) ---- */

/* The bundle's header + manifest + signatures, as update_ra_begin()
 * reads them; the payload at *pay. */
static int
ra_begin(const uint8_t **pay)
{
    struct upd_header h;
    const char *why;
    struct mem_src m;
    struct upd_src src = {mem_read, &m};

    upd_header_decode(bundle, &h, &why);
    m.p = bundle;
    m.len = UPD_HDR_LEN + h.manifest_len + h.sigs_len;
    m.off = 0;
    *pay = bundle + m.len;
    return update_ra_begin(&upd, &src);
}

/* Chunk k of a scrambled order of n: a fixed permutation (stride
 * coprime with n). */
static uint32_t
ra_order(uint32_t k, uint32_t n)
{
    uint32_t stride = 7;

    while (n % stride == 0)
        stride += 2;
    return (k * stride + 3) % n;
}

/* Put every chunk not held, scrambled; returns the first error, and the
 * chunks put in *put. */
static int
ra_fill(const uint8_t *pay, uint32_t *put)
{
    static uint8_t cb[CHUNK];
    uint32_t n = upd.man.nchunks;

    *put = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = ra_order(k, n);
        uint64_t off = (uint64_t)i * CHUNK;
        uint32_t len = (uint32_t)(upd.man.payload_size - off < CHUNK
                                      ? upd.man.payload_size - off
                                      : CHUNK);
        int rc;

        if (update_ra_has(&upd, i))
            continue;
        memcpy(cb, pay + off, len);
        rc = update_ra_put(&upd, i, cb, len);
        if (rc != 0)
            return rc;
        (*put)++;
    }
    return 0;
}

/* Slot t verifies against boot control, which says READY. */
static int
ra_ready(int t)
{
    struct bootctl bc;
    char why[120];

    return bootctl_load(&ctl, &bc) == 0 && bc.slot[t].state == SLOT_READY &&
           update_slot_verify(slotp(t), &bc.slot[t], &work, why, sizeof(why)) ==
               UPD_VERIFIED;
}

static uint8_t rs_start[DEV_SIZE + DEV_SIZE / 16 / 8];

static void
test_ra(void)
{
    static const enum sim_flash_torn modes[3] = {SIM_TORN_NONE, SIM_TORN_PREFIX,
                                                 SIM_TORN_BITS};
    static uint8_t cb[CHUNK], before[CHUNK], after[CHUNK];
    struct spec s;
    const uint8_t *pay;
    uint64_t base, total[2];
    uint32_t put;
    long bad = 0, resumed = 0, runs = 0;
    int rc;

    UT_CASE("ra: chunks in any order, each verified before it is written; "
            "a tampered chunk is refused and nothing of it written");
    dev_new();
    provision();
    s = base_spec();
    s.v.minor = 1;
    s.counter = 2;
    s.payload = 200000; /* 13 chunks, the last short */
    build(&s);
    power_on(0);
    sim_flash_save(&dev, rs_start);
    UT_CHECK_EQ(ra_begin(&pay), 1);
    UT_CHECK_EQ(upd.ra.kept, 0);
    {
        /* chunk 5 with one byte changed: refused, its place untouched */
        uint32_t po = upd.ra.po;

        memcpy(cb, pay + 5 * CHUNK, CHUNK);
        cb[100] ^= 1;
        hal_flash_read(slotp(1), po + 5 * CHUNK, before, CHUNK);
        base = sim_flash_ops(&dev);
        UT_CHECK_EQ(update_ra_put(&upd, 5, cb, CHUNK), -EBADMSG);
        UT_CHECK_EQ(sim_flash_ops(&dev), base);
        hal_flash_read(slotp(1), po + 5 * CHUNK, after, CHUNK);
        UT_CHECK(memcmp(before, after, CHUNK) == 0);
        UT_CHECK(!update_ra_has(&upd, 5));
        /* not a chunk of it, or the wrong length */
        UT_CHECK_EQ(update_ra_put(&upd, 13, cb, CHUNK), -EINVAL);
        UT_CHECK_EQ(update_ra_put(&upd, 0, cb, CHUNK - 1), -EINVAL);
    }
    UT_CHECK_EQ(update_ra_end(&upd), -EINVAL); /* not complete */
    UT_CHECK_EQ(ra_fill(pay, &put), 0);
    UT_CHECK_EQ(put, 13);
    UT_CHECK_EQ(ra_fill(pay, &put), 0); /* all held: nothing more */
    UT_CHECK_EQ(put, 0);
    UT_CHECK_EQ(update_ra_end(&upd), 1);
    UT_CHECK(ra_ready(1));

    UT_CASE("ra: refused at the manifest (unknown key, older counter): the "
            "slot is not touched");
    {
        struct spec o = s;
        o.signers[0] = 3; /* a key not in the keyring, and one that is */
        o.signers[1] = 0;
        sim_flash_restore(&dev, rs_start);
        power_on(0);
        build(&o);
        base = sim_flash_ops(&dev);
        UT_CHECK_EQ(ra_begin(&pay), -EPERM);
        UT_CHECK_EQ(sim_flash_ops(&dev), base);
        UT_CHECK(!upd.ra.active);
        o = s;
        o.counter = 0;
        build(&o);
        UT_CHECK_EQ(ra_begin(&pay), -ESTALE);
        UT_CHECK_EQ(sim_flash_ops(&dev), base);
        build(&s);
    }

    /* Cut at every flash operation of a fetch in any order, three tear
     * modes, raw and block slots; the fetch again must end with slot b
     * verified, putting only the chunks it did not keep. */
    for (int blk = 0; blk < 2; blk++) {
        UT_CASE(blk ? "ra: a power cut at every flash operation of a fetch "
                      "into a block slot, then the fetch again"
                    : "ra: a power cut at every flash operation of a fetch "
                      "into a raw slot, then the fetch again");
        slots_in = blk ? SLOTS_BLK : SLOTS_RAW;
        sim_flash_restore(&dev, rs_start);
        power_on(0);
        upd.progress = NULL;
        base = sim_flash_ops(&dev);
        UT_CHECK_EQ(ra_begin(&pay), 1);
        UT_CHECK_EQ(ra_fill(pay, &put), 0);
        UT_CHECK_EQ(update_ra_end(&upd), 1);
        total[blk] = sim_flash_ops(&dev) - base;
        for (uint64_t c = 0; c < total[blk]; c++)
            for (int mi = 0; mi < 3; mi++) {
                uint32_t kept;

                sim_flash_restore(&dev, rs_start);
                power_on(0);
                upd.progress = NULL;
                base = sim_flash_ops(&dev);
                sim_flash_cut_after(&dev, base + c, modes[mi],
                                    (uint32_t)c * 11 + 5);
                if (ra_begin(&pay) == 1 && ra_fill(pay, &put) == 0)
                    (void)update_ra_end(&upd);
                sim_flash_power_off(&dev, modes[mi], (uint32_t)c * 3 + 1);
                power_on(0);
                upd.progress = NULL;
                rc = ra_begin(&pay);
                kept = upd.ra.kept;
                if (rc == 1 && ra_fill(pay, &put) == 0)
                    rc = update_ra_end(&upd);
                runs++;
                resumed += kept > 0;
                if (rc != 1 || !ra_ready(1) || kept + put != 13) {
                    if (bad++ < 5)
                        printf("  cut %llu mode %d: rc %d '%s', kept %u, "
                               "put %u\n",
                               (unsigned long long)c, mi, rc, upd.why,
                               (unsigned)kept, (unsigned)put);
                }
            }
    }
    printf("  %ld cut runs over %llu + %llu operations, %ld went on after "
           "verified chunks\n",
           runs, (unsigned long long)total[0], (unsigned long long)total[1],
           resumed);
    UT_CHECK_EQ(bad, 0);
    UT_CHECK(resumed > runs / 2);
    slots_in = SLOTS_RAW;

    UT_CASE("ra: a chunk damaged in the slot is fetched again, never kept; "
            "the others are kept");
    sim_flash_restore(&dev, rs_start);
    power_on(0);
    UT_CHECK_EQ(ra_begin(&pay), 1);
    UT_CHECK_EQ(ra_fill(pay, &put), 0);
    update_ra_stop(&upd, UPD_R_CANCELLED); /* as a fetch cancelled */
    {
        /* one bit of chunk 2 flips in the device's image */
        static uint8_t img[sizeof(rs_start)];

        sim_flash_save(&dev, img);
        img[CTL_SIZE + STORE_SIZE + SLOT_SIZE + upd.ra.po + 2 * CHUNK + 3] ^=
            0x10;
        sim_flash_restore(&dev, img);
    }
    power_on(0);
    UT_CHECK_EQ(ra_begin(&pay), 1);
    UT_CHECK_EQ(upd.ra.kept, 12);
    UT_CHECK(!update_ra_has(&upd, 2));
    UT_CHECK_EQ(ra_fill(pay, &put), 0);
    UT_CHECK_EQ(put, 1);
    UT_CHECK_EQ(update_ra_end(&upd), 1);
    UT_CHECK(ra_ready(1));

    UT_CASE("ra: boot control changed under the install ends it");
    sim_flash_restore(&dev, rs_start);
    power_on(0);
    UT_CHECK_EQ(ra_begin(&pay), 1);
    UT_CHECK_EQ(ra_fill(pay, &put), 0);
    {
        struct bootctl bc;

        bootctl_load(&ctl, &bc);
        upd_slot_set(&bc, 1, SLOT_BAD, UPD_R_READBACK);
        bootctl_save(&ctl, &bc);
    }
    UT_CHECK_EQ(update_ra_end(&upd), -ESTALE);
    UT_CHECK(!ra_ready(1));
    sim_flash_close(&dev);
}

/* ---- power cuts ---- */

enum pc_op {
    PC_INSTALL,
    PC_CONFIRM,
    PC_ROLLBACK,
    PC_ROTATE,
    PC_TRIAL,
    PC_SKR,
    PC_INSTALL_BLK,
    PC_COUNT
};

static const char *const pc_names[] = {
    "install",
    "confirm",
    "rollback",
    "keyring rotation",
    "keel-boot trial count",
    "keyring rotation by signed keyring file",
    "install into block slots over an older image"};

/* The device as each op starts (sim_flash_save). */
static uint8_t start[PC_COUNT][DEV_SIZE + DEV_SIZE / 16 / 8];

/* The bundle each op installs (built once per op). */
static uint8_t pc_bundle[PC_COUNT][300 * 1024];
static size_t pc_blen[PC_COUNT];

/* One cut run; returns violations. */
static int
pc_run(enum pc_op op, uint64_t k, enum sim_flash_torn mode, uint64_t *ops)
{
    struct bootctl bc;
    uint64_t base;
    int rc = -1, trial, s, v = 0, running;
    char why[120];

    sim_flash_restore(&dev, start[op]);
    running = op == PC_INSTALL || op == PC_ROTATE || op == PC_SKR ||
                      op == PC_INSTALL_BLK
                  ? 0
                  : 1;
    if (op == PC_INSTALL_BLK)
        slots_in = slots_in == SLOTS_LIE ? SLOTS_LIE : SLOTS_BLK;
    else
        slots_in = SLOTS_RAW;
    power_on(op == PC_TRIAL ? -1 : running);
    memcpy(bundle, pc_bundle[op], pc_blen[op]);
    blen = pc_blen[op];
    base = sim_flash_ops(&dev);
    if (k != UINT64_MAX)
        sim_flash_cut_after(&dev, base + k, mode, (uint32_t)k * 13 + 7);
    switch (op) {
    case PC_INSTALL:
    case PC_ROTATE:
    case PC_INSTALL_BLK:
        rc = install();
        break;
    case PC_CONFIRM:
        rc = update_confirm(&upd);
        break;
    case PC_ROLLBACK:
        rc = update_rollback(&upd);
        break;
    case PC_TRIAL:
        rc = boot(&trial);
        break;
    case PC_SKR:
        rc = update_keyring_rotate(&upd, bundle, blen);
        break;
    default:
        break;
    }
    *ops = sim_flash_ops(&dev) - base;
    /* The power fails (again): what was not synced is resolved the same
     * way as at the cut.  Then a slot called READY must verify, before
     * keel-boot's own check could quietly fall back from it. */
    sim_flash_power_off(&dev, mode, (uint32_t)k * 7 + 3);
    power_on(-1);
    if (bootctl_load(&ctl, &bc) == 0)
        for (int x = 0; x < 2; x++)
            if (bc.slot[x].state == SLOT_READY &&
                update_slot_verify(slotp(x), &bc.slot[x], &work, why,
                                   sizeof(why)) != UPD_VERIFIED) {
                printf("  %s cut %llu/%d: slot %d is READY but does not "
                       "verify (%s)\n",
                       pc_names[op], (unsigned long long)k, mode, x, why);
                v++;
            }
    s = boot(&trial);
    if (s < 0) {
        printf("  %s cut %llu/%d: nothing boots\n", pc_names[op],
               (unsigned long long)k, mode);
        return 1;
    }
    bootctl_load(&ctl, &bc);
    if (update_slot_verify(slotp(s), &bc.slot[s], &work, why, sizeof(why)) !=
            UPD_VERIFIED ||
        bc.slot[s].counter < bc.arb) {
        printf("  %s cut %llu: boots slot %d that does not verify (%s)\n",
               pc_names[op], (unsigned long long)k, s, why);
        v++;
    }
    switch (op) {
    case PC_INSTALL:
    case PC_ROTATE:
    case PC_INSTALL_BLK:
        /* a finished install is tried; otherwise the good slot a boots */
        if ((rc == 1 && (s != 1 || !trial)) || (rc != 1 && s == 1 && !trial))
            v++, printf("  %s cut %llu: rc %d, booted %d trial %d\n",
                        pc_names[op], (unsigned long long)k, rc, s, trial);
        if (op == PC_ROTATE && rc == 1) {
            struct upd_keyring kk;

            if (update_keyring(&upd, &kk) != 0 || kk.version != 2)
                v++, printf("  rotation cut %llu: keyring not rotated\n",
                            (unsigned long long)k);
        }
        break;
    case PC_CONFIRM:
        /* a confirmed update is never lost */
        if (rc == 0 &&
            (bc.slot[1].state != SLOT_GOOD || bc.arb != 2 || s != 1 || trial))
            v++, printf("  confirm cut %llu: reported, but slot b is %s\n",
                        (unsigned long long)k,
                        slot_state_name(bc.slot[1].state));
        break;
    case PC_ROLLBACK:
        if (rc == 0 && s != 0)
            v++, printf("  rollback cut %llu: reported, but slot %d boots\n",
                        (unsigned long long)k, s);
        break;
    case PC_SKR: {
        struct upd_keyring kk;

        if (update_keyring(&upd, &kk) != 0 ||
            (kk.version != 1 && kk.version != 2) ||
            (rc == 0 && kk.version != 2))
            v++, printf("  keyring file cut %llu: rc %d, keyring %s\n",
                        (unsigned long long)k, rc, upd.why);
        break;
    }
    case PC_TRIAL:
        /* slot b was on trial with 1 try: it boots once at most more */
        if (s == 1 && trial && rc == 1)
            v++, printf("  trial cut %llu: a spent trial booted again\n",
                        (unsigned long long)k);
        break;
    default:
        break;
    }
    return v;
}

static void
test_powercut(void)
{
    static const int rot[3] = {0, 1, 4};
    uint8_t kr2[UPD_KEYRING_MAX];
    struct spec s;
    int trial, kl;

    /* start[INSTALL]: slot a good, running; bundle 1.1.0 counter 2. */
    dev_new();
    provision();
    UT_CHECK_EQ(sim_flash_state_size(&dev), sizeof(start[0]));
    sim_flash_save(&dev, start[PC_INSTALL]);
    s = base_spec();
    s.v.minor = 1;
    s.counter = 2;
    build(&s);
    memcpy(pc_bundle[PC_INSTALL], bundle, blen);
    pc_blen[PC_INSTALL] = blen;
    /* start[ROTATE]: as install, the bundle carries keyring v2. */
    sim_flash_save(&dev, start[PC_ROTATE]);
    kl = keyring_of(kr2, sizeof(kr2), rot, 3, 2, 2);
    s.keyring = kr2;
    s.keyring_len = (uint32_t)kl;
    s.signers[2] = 4;
    s.nsigners = 3;
    build(&s);
    memcpy(pc_bundle[PC_ROTATE], bundle, blen);
    pc_blen[PC_ROTATE] = blen;
    /* start[CONFIRM]: 1.1.0 in slot b, booted on trial, running. */
    memcpy(bundle, pc_bundle[PC_INSTALL], pc_blen[PC_INSTALL]);
    blen = pc_blen[PC_INSTALL];
    power_on(0);
    UT_CHECK_EQ(install(), 1);
    UT_CHECK_EQ(boot(&trial), 1);
    sim_flash_save(&dev, start[PC_CONFIRM]);
    /* start[TRIAL]: slot b on trial with one try left. */
    UT_CHECK_EQ(boot(&trial), 1);
    sim_flash_save(&dev, start[PC_TRIAL]);
    /* start[ROLLBACK]: both slots good at counter 1, b running. */
    sim_flash_close(&dev);
    dev_new();
    provision();
    s = base_spec();
    s.v.minor = 1;
    build(&s);
    power_on(0);
    UT_CHECK_EQ(install(), 1);
    UT_CHECK_EQ(boot(&trial), 1);
    power_on(1);
    UT_CHECK_EQ(update_confirm(&upd), 0);
    sim_flash_save(&dev, start[PC_ROLLBACK]);

    /* start[SKR]: slot a good; a signed keyring v2 by 0, 1 and 4. */
    sim_flash_save(&dev, start[PC_SKR]);
    {
        static const int both[3] = {0, 1, 4};

        pc_blen[PC_SKR] = skr_of(pc_bundle[PC_SKR], rot, 3, 2, 2, both, 3);
    }

    /* start[INSTALL_BLK]: the slots are block partitions; slot a good,
     * running; slot b holds 1.0.1, tried and rolled back (BAD); the
     * bundle, 1.1.0 counter 2, is longer than it. */
    UT_CASE("block slots: an install writes each piece once in place and "
            "syncs once");
    sim_flash_close(&dev);
    slots_in = SLOTS_BLK;
    dev_new();
    provision();
    s = base_spec();
    s.v.patch = 1;
    s.fill = 3;
    build(&s);
    power_on(0);
    {
        struct sim_flash_stats before = dev.stats;

        UT_CHECK_EQ(install(), 1);
        UT_CHECK_EQ(dev.stats.syncs - before.syncs, 1);
        /* 7 chunks, the manifest, the slot header */
        UT_CHECK_EQ(dev.stats.writes - before.writes, 7 + 2);
        UT_CHECK_EQ(dev.npend, 0);
    }
    UT_CHECK_EQ(boot(&trial), 1);
    UT_CHECK_EQ(trial, 1);
    power_on(1);
    UT_CHECK_EQ(update_rollback(&upd), 0);
    sim_flash_save(&dev, start[PC_INSTALL_BLK]);
    s = base_spec();
    s.v.minor = 1;
    s.counter = 2;
    s.payload = 150000;
    s.fill = 9;
    build(&s);
    memcpy(pc_bundle[PC_INSTALL_BLK], bundle, blen);
    pc_blen[PC_INSTALL_BLK] = blen;
    for (int op = PC_INSTALL; op < PC_COUNT; op++) {
        char title[120];
        uint64_t total = 0, ops, points = 0;
        int viol = 0;

        snprintf(title, sizeof(title),
                 "power cut at every flash operation of %s (3 tear modes)",
                 pc_names[op]);
        UT_CASE(title);
        viol += pc_run((enum pc_op)op, UINT64_MAX, SIM_TORN_NONE, &total);
        UT_CHECK(total >= 2);
        for (uint64_t k = 0; k <= total; k++)
            for (int m = SIM_TORN_NONE; m <= SIM_TORN_BITS; m++) {
                viol += pc_run((enum pc_op)op, k, (enum sim_flash_torn)m, &ops);
                points++;
            }
        printf("  %s: %llu flash operations, %llu cut points, %d "
               "violations\n",
               pc_names[op], (unsigned long long)total,
               (unsigned long long)points, viol);
        UT_CHECK_EQ(viol, 0);
    }

    UT_CASE("the rig catches a disk whose sync does nothing (the "
            "violations printed here are expected)");
    {
        uint64_t ops;

        slots_in = SLOTS_LIE;
        UT_CHECK(pc_run(PC_INSTALL_BLK, UINT64_MAX, SIM_TORN_NONE, &ops) > 0);
        slots_in = SLOTS_RAW;
    }
    sim_flash_close(&dev);
}

int
main(int argc, char **argv)
{
    ut_suite = "update";
    make_keys();
    if (argc == 3 && strcmp(argv[1], "--write-golden") == 0) {
        setenv("KEEL_VECTORS", argv[2], 1);
        test_golden(1);
        return ut_done();
    }
    test_golden(0);
    test_decoders();
    test_attacks();
    test_keyring_file();
    test_trust();
    test_slot();
    test_boot();
    test_boot_unpack();
    test_degraded();
    test_powercut();
    test_ra();
    test_quarantine();
    return ut_done();
}
