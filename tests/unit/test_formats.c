/*
 * tests/unit/test_formats.c - every persisted format pinned by a golden
 * vector (STYLE rule 9): the record store's sector header and records,
 * chain-log slots, a control-block copy with its three sections, the
 * trust floor, the chain state and the identity record.  The bytes come
 * from the code through its ordinary API on a deterministic in-memory
 * flash; `test_formats --write-golden DIR` rewrites the files in
 * DIR/formats/, and the test fails when the code and the files disagree,
 * so an encoding cannot drift silently.  docs/FORMAT.md gives every
 * byte; the decoders are also run on the pinned bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../hal/sim/flash_sim.h"
#include "chain/chain.h"
#include "chain/gen.h"
#include "identity/identity.h"
#include "store/clog.h"
#include "store/ctl.h"
#include "store/store.h"
#include "update/bootctl.h"
#include "update/audit.h"
#include "update/floor.h"
#include "update/slot.h"
#include "ut.h"
#include "ut_golden.h"
#include "ut_mem.h"

#define ES 4096u
#define STORE_SIZE (8 * 16384u)
#define LOG_SIZE (8 * ES)
#define CTL_SIZE (2 * ES)
#define DEV_SIZE (STORE_SIZE + LOG_SIZE + CTL_SIZE)

static struct sim_flash dev;
static struct hal_flash pstore, plog, pctl;
static struct store st;
static struct clog lg;
static struct ctl ctl;
static struct chain ch;

static void
dev_new(void)
{
    static const struct sim_flash_geom g = {DEV_SIZE, ES, 16, 0xff};

    sim_flash_open_mem(&dev, &g);
    sim_flash_partition(&dev, &pstore, "store", 0, STORE_SIZE);
    sim_flash_partition(&dev, &plog, "chain", STORE_SIZE, LOG_SIZE);
    sim_flash_partition(&dev, &pctl, "bootctl", STORE_SIZE + LOG_SIZE,
                        CTL_SIZE);
    store_mount(&st, &pstore);
    clog_mount(&lg, &plog, &st);
    ctl_mount(&ctl, &pctl);
}

static void
test_store_bytes(void)
{
    static uint8_t b[16384];
    struct store_entry e[2] = {
        {"cfg.a", "1", 1, 0},
        {"cfg.b", "two", 3, 0},
    };

    UT_CASE("golden: store sector header, put, group commit, delete");
    dev_new();
    UT_CHECK_EQ(store_put(&st, "hello", "world", 5), 0);
    UT_CHECK_EQ(store_commit(&st, e, 2), 0);
    UT_CHECK_EQ(store_del(&st, "hello"), 0);
    UT_CHECK(st.head >= 0);
    UT_CHECK_EQ(hal_flash_read(&pstore, 0, b, st.sec[st.head].used), 0);
    ut_golden("store-sector.bin", b, st.sec[st.head].used);
    /* and the bytes mount back to the same keys */
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK_EQ(store_get(&st, "hello", b, sizeof(b)), -ENOENT);
    UT_CHECK_EQ(store_get(&st, "cfg.b", b, sizeof(b)), 3);
    sim_flash_close(&dev);
}

static void
test_clog_bytes(void)
{
    static uint8_t recs[4 * CLOG_REC], b[ES];
    uint8_t ck[24 + CLOG_RUNS_MAX * 12];
    int n;

    UT_CASE("golden: chain-log slots (a batch, a truncation) and checkpoint");
    dev_new();
    for (size_t i = 0; i < sizeof(recs); i++)
        recs[i] = (uint8_t)(i * 13 + 1);
    UT_CHECK_EQ(clog_append(&lg, recs, 3), 0);
    UT_CHECK_EQ(clog_append(&lg, recs + 3 * CLOG_REC, 1), 0);
    UT_CHECK_EQ(clog_truncate(&lg, 2), 0);
    UT_CHECK_EQ(clog_checkpoint(&lg), 0);
    UT_CHECK_EQ(hal_flash_read(&plog, 0, b, 5 * lg.page_size), 0);
    ut_golden("clog-slots.bin", b, 5 * lg.page_size);
    n = store_get(&st, CLOG_CKPT_KEY, ck, sizeof(ck));
    UT_CHECK(n > 0);
    ut_golden("clog-checkpoint.bin", ck, n > 0 ? (size_t)n : 0);
    UT_CHECK_EQ(clog_mount(&lg, &plog, &st), 0);
    UT_CHECK_EQ(lg.end, 2);
    sim_flash_close(&dev);
}

/* The packed layout (issue #18): on a device whose program unit holds
 * 11 slots, a batch of 13 takes two pages (slot version 2), a single
 * record a page of its own (version 1), a truncation another; the
 * checkpoint is version 2 (runs with slots a page and batch length). */
static void
test_clog_packed_bytes(void)
{
    static const struct sim_flash_geom g = {9 * 16384u, 16384, 2048, 0xff};
    static uint8_t recs[14 * CLOG_REC], b[4 * 2048];
    uint8_t ck[24 + CLOG_RUNS_MAX * 20];
    int n;

    UT_CASE("golden: packed chain-log pages (NAND) and checkpoint v2");
    sim_flash_open_mem(&dev, &g);
    sim_flash_partition(&dev, &pstore, "store", 0, 5 * 16384u);
    sim_flash_partition(&dev, &plog, "chain", 5 * 16384u, 4 * 16384u);
    UT_CHECK_EQ(store_mount(&st, &pstore), 0);
    UT_CHECK_EQ(clog_mount(&lg, &plog, &st), 0);
    for (size_t i = 0; i < sizeof(recs); i++)
        recs[i] = (uint8_t)(i * 7 + 3);
    UT_CHECK_EQ(clog_append(&lg, recs, 13), 0);
    UT_CHECK_EQ(clog_append(&lg, recs + 13 * CLOG_REC, 1), 0);
    UT_CHECK_EQ(clog_truncate(&lg, 12), 0);
    UT_CHECK_EQ(clog_checkpoint(&lg), 0);
    UT_CHECK_EQ(hal_flash_read(&plog, 0, b, sizeof(b)), 0);
    ut_golden("clog-packed.bin", b, sizeof(b));
    n = store_get(&st, CLOG_CKPT_KEY, ck, sizeof(ck));
    UT_CHECK(n > 0);
    ut_golden("clog-checkpoint-v2.bin", ck, n > 0 ? (size_t)n : 0);
    UT_CHECK_EQ(clog_mount(&lg, &plog, &st), 0);
    UT_CHECK_EQ(lg.end, 12);
    sim_flash_close(&dev);
}

static void
test_ctl_bytes(void)
{
    static uint8_t b[ES];
    struct bootctl bc;
    struct upd_floor f, g;
    uint8_t fb[UPD_FLOOR_LEN], mark[40];

    UT_CASE("golden: control-block copy with marker, boot control, floor");
    dev_new();
    memset(mark, 0, sizeof(mark));
    memcpy(mark, "KIM1", 4);
    mark[4] = 3;
    memset(mark + 8, 0xab, 32);
    UT_CHECK_EQ(ctl_put(&ctl, CTL_TAG_ID, mark, sizeof(mark)), 0);
    memset(&bc, 0, sizeof(bc));
    bc.primary = 0;
    bc.tries_max = 3;
    bc.arb = 7;
    bc.slot[0].state = SLOT_GOOD;
    bc.slot[0].version = (struct upd_version){1, 2, 3};
    bc.slot[0].counter = 7;
    bc.slot[0].payload_size = 123456;
    bc.slot[0].manifest_len = 777;
    memset(bc.slot[0].manifest_hash, 0x5c, 32);
    UT_CHECK_EQ(bootctl_save(&ctl, &bc), 0);
    memset(&f, 0, sizeof(f));
    f.arb = 7;
    f.keyring_version = 2;
    memset(f.keyring_hash, 0x11, 32);
    UT_CHECK_EQ(upd_floor_raise(&ctl, NULL, &f), 0);
    UT_CHECK_EQ(hal_flash_read(&pctl, 0, b, 16 + 44 + 164 + 52), 0);
    ut_golden("ctl-copy0.bin", b, 16 + 44 + 164 + 52);
    UT_CHECK_EQ(hal_flash_read(&pctl, ES, b, 16 + 44 + 164 + 52), 0);
    ut_golden("ctl-copy1.bin", b, 16 + 44 + 164 + 52);

    UT_CASE("golden: the trust floor decodes to what was raised");
    upd_floor_encode(&f, fb);
    ut_golden("trust-floor.bin", fb, sizeof(fb));
    UT_CHECK_EQ(upd_floor_decode(fb, sizeof(fb), &g), 0);
    UT_CHECK(g.arb == 7 && g.keyring_version == 2 &&
             memcmp(g.keyring_hash, f.keyring_hash, 32) == 0);
    fb[0] ^= 1;
    UT_CHECK_EQ(upd_floor_decode(fb, sizeof(fb), &g), -EBADMSG);
    UT_CHECK_EQ(upd_floor_decode(fb, sizeof(fb) - 1, &g), -EBADMSG);
    sim_flash_close(&dev);
}

static void
test_chain_state_bytes(void)
{
    struct chaingen g = {40, 0, 7, 3, 0, 0, 0, GEN_OK, 0};
    struct chain_import_res r;
    struct mem m = {NULL, 0, 0};
    uint8_t s[CHAIN_STATE_LEN + 1];

    UT_CASE("golden: the chain state after a 41-trailer testnet import");
    dev_new();
    UT_CHECK_EQ(chaingen_run(&g, mem_put, &m), 0);
    UT_CHECK_EQ(chain_open(&ch, &lg, &st), 0);
    UT_CHECK_EQ(chain_import(&ch, m.len, mem_read, &m,
                             &(struct chain_opts){1900000000, 1}, &r),
                0);
    UT_CHECK_EQ(store_get(&st, CHAIN_STATE_KEY, s, sizeof(s)), CHAIN_STATE_LEN);
    ut_golden("chain-state.bin", s, CHAIN_STATE_LEN);
    free(m.p);
    sim_flash_close(&dev);
}

static void
test_identity_bytes(void)
{
    static struct identity id, back;
    uint8_t r[ID_REC_LEN];
    const char *why;

    UT_CASE("golden: the identity record, with and without a statement");
    memset(&id, 0, sizeof(id));
    crypto_sha256("keel golden identity", 20, id.cur.k.priv);
    UT_CHECK_EQ(crypto_ec_from_priv(&id.cur.k), 0);
    id.cur.created = 1790000000;
    id.gen = 1;
    identity_record_encode(&id, r);
    ut_golden("identity-record.bin", r, sizeof(r));
    UT_CHECK_EQ(identity_record_decode(r, sizeof(r), &back, &why), 0);
    UT_CHECK(back.gen == 1 && back.cur.created == 1790000000 &&
             memcmp(back.cur.k.pub, id.cur.k.pub, CRYPTO_EC_PUB_LEN) == 0);
    r[8] ^= 1; /* the generation: the checksum no longer matches */
    UT_CHECK_EQ(identity_record_decode(r, sizeof(r), &back, &why), -EBADMSG);
    UT_CHECK_EQ(identity_record_decode(r, sizeof(r) - 1, &back, &why),
                -EBADMSG);
}

/* The context sizes the module headers state hold (a header that says
 * "at most N" must stay true as the structs change). */
_Static_assert(sizeof(struct store) <= 36 * 1024, "store.h: 36 KiB");
_Static_assert(sizeof(struct clog) <= 7 * 1024, "clog.h: 7 KiB");
_Static_assert(sizeof(struct ctl) <= 1229, "ctl.h: 1.2 KiB");
_Static_assert(sizeof(struct chain) <= 81 * 1024, "chain.h: 81 KiB");
_Static_assert(sizeof(struct identity) <= 1024, "identity.h: 1 KiB");
_Static_assert(sizeof(struct identity_work) <= 5 * 1024, "identity.h: 5 KiB");
_Static_assert(sizeof(struct upd_work) <= 201 * 1024, "slot.h: 201 KiB");
_Static_assert(sizeof(struct upd_audit) <= 5 * 1024, "audit.h: 5 KiB");

int
main(int argc, char **argv)
{
    ut_suite = "formats";
    ut_golden_init(argc, argv);
    test_store_bytes();
    test_clog_bytes();
    test_clog_packed_bytes();
    test_ctl_bytes();
    test_chain_state_bytes();
    test_identity_bytes();
    return ut_done();
}
