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
#include "lib/le.h"
#include "net/frame.h"
#include "store/clog.h"
#include "store/ctl.h"
#include "store/store.h"
#include "sync/book.h"
#include "sync/mpkt.h"
#include "update/bootctl.h"
#include "update/audit.h"
#include "update/floor.h"
#include "update/p2pwire.h"
#include "update/update.h"
#include "update/quarantine.h"
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

/* Sync's records (sync/book.h): the peer table's half, the guard's
 * memory (a peer, a chain, a trailer), the seeds; a SEND_IPL and a
 * sync frame on a peer link (a session id, then a HELLO packet). */
static void
test_sync_bytes(void)
{
    static struct sync_book b, back;
    uint8_t rec[SYNC_PEERS_HDR + SYNC_PEERS_HALF * SYNC_PEER_REC];
    uint8_t bad[3 * SYNC_BAD_REC], seeds[SYNC_SEEDS_MAX * 6];
    uint8_t fr[FRAME_HDR + 2 + MPKT_HDR + MPKT_TAIL];
    struct sync_bad g[3], gb[SYNC_BAD_MAX];
    struct sync_seed sd[2] = {{{10, 78, 0, 1}, 2095}, {{192, 168, 1, 9}, 2096}};
    const uint8_t from[4] = {10, 78, 0, 61};
    struct mpkt h;
    size_t n;

    UT_CASE("golden: sync peer table, guard, seeds; a sync link frame");
    memset(&b, 0, sizeof(b));
    UT_CHECK_EQ(sync_book_learn(&b, (const uint8_t *)"\x0a\x4e\x00\x01", 2095,
                                SYNC_SRC_IPL, from),
                0);
    UT_CHECK_EQ(sync_book_learn(&b, (const uint8_t *)"\x0a\x4e\x00\x96", 2095,
                                SYNC_SRC_IPL, from),
                1);
    sync_book_answered(&b, 0, 1, 1790000000);
    sync_book_failed(&b, 1, 1790000100, 0);
    n = sync_book_encode(&b, 0, rec);
    UT_CHECK_EQ(n, SYNC_PEERS_HDR + 2 * SYNC_PEER_REC);
    ut_golden("sync-peers.bin", rec, n);
    memset(&back, 0, sizeof(back));
    UT_CHECK_EQ(sync_book_decode(&back, rec, n, NULL), 2);
    UT_CHECK(back.p[1].pink_until == 1790000100 + SYNC_PINK_S &&
             back.p[0].score == 2);

    memset(g, 0, sizeof(g));
    g[0].kind = SYNC_BAD_PEER;
    g[0].reason = 5; /* proof_of_work */
    memcpy(g[0].ip, "\x0a\x4e\x00\x16", 4);
    g[0].port = 2095;
    g[0].until = 1790086400;
    g[1].kind = SYNC_BAD_CHAIN;
    g[1].reason = 7; /* weight_short */
    memset(g[1].hash, 0x36, 32);
    g[1].weight[31] = 0x7f;
    g[1].until = INT64_MAX;
    g[2].kind = SYNC_BAD_RANGE;
    g[2].reason = 2; /* bad_link */
    memset(g[2].hash, 0xe5, 32);
    lib_put64(g[2].weight, 500);
    lib_put32(g[2].weight + 8, 1);
    g[2].until = 1790086400;
    for (int i = 0; i < 3; i++)
        sync_bad_encode1(&g[i], bad + i * SYNC_BAD_REC);
    ut_golden("sync-bad.bin", bad, sizeof(bad));
    UT_CHECK_EQ(sync_bad_decode(bad, sizeof(bad), gb, 16, NULL), 3);
    UT_CHECK(memcmp(&gb[2], &g[2], sizeof(g[2])) == 0);

    n = sync_seeds_encode(sd, 2, seeds);
    ut_golden("sync-seeds.bin", seeds, n);

    memset(&h, 0, sizeof(h));
    h.version = MPKT_VERSION;
    h.net = MPKT_NET;
    h.id1 = 0x1234;
    h.op = MOP_HELLO;
    UT_CHECK_EQ(frame_encode(fr, FRAME_SYNC_C2S, 2 + MPKT_HDR + MPKT_TAIL), 0);
    lib_put16(fr + FRAME_HDR, 0xbeef);
    UT_CHECK_EQ(mpkt_encode(fr + FRAME_HDR + 2, &h, NULL),
                MPKT_HDR + MPKT_TAIL);
    ut_golden("frame-sync-c2s.bin", fr, sizeof(fr));
}

/* Peer distribution's records (update/quarantine.h, update/p2pwire.h):
 * a quarantine list of two, an announce of one bundle. */
static void
test_p2p_bytes(void)
{
    static struct upd_quar q, qb;
    uint8_t rec[UPD_QUAR_REC_MAX], ann[P2P_ANNOUNCE_MAX];
    struct p2p_ad ad, adb[2];
    unsigned nb;
    size_t n;

    UT_CASE("golden: quarantine list, a p2p announce, the stored drops");
    memset(&q, 0, sizeof(q));
    q.n = 2;
    memset(q.e[0].hash, 0xa1, 32);
    q.e[0].when = 1790000000;
    snprintf(q.e[0].reason, sizeof(q.e[0].reason), "bad release");
    memset(q.e[1].hash, 0xb2, 32);
    q.e[1].when = 0;
    q.e[1].automatic = 1;
    snprintf(q.e[1].reason, sizeof(q.e[1].reason), "every source failed");
    n = upd_quar_encode(&q, rec);
    ut_golden("upd-quarantine.bin", rec, n);
    UT_CHECK_EQ(upd_quar_decode(rec, n, &qb), 0);
    UT_CHECK(qb.n == 2 && qb.e[1].automatic == 1 &&
             strcmp(qb.e[0].reason, "bad release") == 0);

    memset(&ad, 0, sizeof(ad));
    memset(ad.hash, 0xc3, 32);
    ad.v.major = 0;
    ad.v.minor = 3;
    ad.v.patch = 1;
    ad.counter = 2;
    ad.size = 32u << 20;
    ad.chunk_size = 65536;
    ad.nchunks = 512;
    ad.have = 100; /* chunks 0, 5, 10, ... 495: held out of order */
    for (uint32_t i = 0; i < 500; i += 5)
        ad.bits[i / 8] |= (uint8_t)(1u << (i % 8));
    snprintf(ad.board, sizeof(ad.board), "sim");
    n = p2p_announce_encode(&ad, 1, ann);
    ut_golden("p2p-announce.bin", ann, n);
    UT_CHECK_EQ(p2p_announce_decode(ann, n, adb, &nb), 0);
    UT_CHECK(nb == 1 && adb[0].have == 100 && adb[0].nchunks == 512);
    UT_CHECK(p2p_ad_has(&adb[0], 495) && !p2p_ad_has(&adb[0], 496) &&
             !p2p_ad_has(&adb[0], 500));

    {
        /* two peers dropped, one while the clock was unset */
        struct p2p_ban_rec br[2], bb[P2P_BANS_MAX];
        uint8_t rb[P2P_BANS_REC_MAX];
        unsigned bn;

        memset(br, 0, sizeof(br));
        memset(br[0].fp, 0xd4, 32);
        memset(br[0].hash, 0xc3, 32);
        br[0].until = 1790003600;
        memset(br[1].fp, 0xe5, 32);
        memset(br[1].hash, 0xc3, 32);
        n = p2p_bans_encode(br, 2, rb);
        ut_golden("p2p-bans.bin", rb, n);
        UT_CHECK_EQ(p2p_bans_decode(rb, n, bb, &bn), 0);
        UT_CHECK(bn == 2 && bb[0].until == 1790003600 && bb[1].until == 0);
        UT_CHECK_EQ(p2p_bans_decode(rb, n - 1, bb, &bn), -EBADMSG);
    }
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
_Static_assert(sizeof(struct update) <= 2 * 1024, "update.h: 2 KiB");

/* The peer bundle decoders with truncated, oversized and garbage
 * input: refused, nothing read past the length. */
static void
test_p2p_refusals(void)
{
    static uint8_t b[FRAME_KEEP_MAX + 64];
    struct p2p_ad ad, adb[2];
    struct p2p_req rq;
    struct p2p_piece pc;
    struct p2p_nak_msg nk;
    struct p2p_ban_rec br[P2P_BANS_MAX];
    uint8_t ann[P2P_ANNOUNCE_MAX];
    unsigned nb;
    size_t n;

    UT_CASE("p2p decoders: truncated, oversized and garbage input refused");
    memset(b, 0x5a, sizeof(b));
    UT_CHECK_EQ(p2p_req_decode(b, 35, &rq), -EBADMSG);
    UT_CHECK_EQ(p2p_req_decode(b, 37, &rq), -EBADMSG);
    UT_CHECK_EQ(p2p_req_decode(b, 36, &rq), 0);
    UT_CHECK_EQ(p2p_piece_decode(b, 39, &pc), -EBADMSG);
    UT_CHECK_EQ(p2p_piece_decode(b, 40 + P2P_PIECE_MAX + 1, &pc), -EBADMSG);
    UT_CHECK_EQ(p2p_piece_decode(b, 40 + P2P_PIECE_MAX, &pc), 0);
    UT_CHECK(pc.n == P2P_PIECE_MAX && pc.data == b + 40);
    UT_CHECK_EQ(p2p_nak_decode(b, 36, &nk), -EBADMSG);
    UT_CHECK_EQ(p2p_nak_decode(b, 38, &nk), -EBADMSG);
    b[36] = 0;
    UT_CHECK_EQ(p2p_nak_decode(b, 37, &nk), -EBADMSG); /* no reason 0 */
    b[36] = P2P_NAK_BUSY + 1;
    UT_CHECK_EQ(p2p_nak_decode(b, 37, &nk), -EBADMSG);
    b[36] = P2P_NAK_CORRUPT;
    UT_CHECK_EQ(p2p_nak_decode(b, 37, &nk), 0);
    UT_CHECK_EQ(p2p_bans_decode(b, sizeof(b), br, &nb), -EBADMSG);

    /* an announce of 10 chunks, 3 held: every cut of it is refused, and
     * so is a bitmap whose count or extent is wrong */
    memset(&ad, 0, sizeof(ad));
    memset(ad.hash, 0x11, 32);
    ad.size = 10 * 4096 - 7;
    ad.chunk_size = 4096;
    ad.nchunks = 10;
    ad.have = 3;
    ad.bits[0] = 0x25; /* 0, 2, 5 */
    snprintf(ad.board, sizeof(ad.board), "sim");
    n = p2p_announce_encode(&ad, 1, ann);
    UT_CHECK_EQ(n, 2 + 73 + 3 + 2);
    for (size_t k = 0; k < n; k++)
        UT_CHECK_EQ(p2p_announce_decode(ann, k, adb, &nb), -EBADMSG);
    memcpy(b, ann, n);
    b[n] = 0;
    UT_CHECK_EQ(p2p_announce_decode(b, n + 1, adb, &nb), -EBADMSG);
    UT_CHECK_EQ(p2p_announce_decode(ann, n, adb, &nb), 0);
    ann[n - 1] = 0x04; /* chunk 10 of 10: past the end */
    UT_CHECK_EQ(p2p_announce_decode(ann, n, adb, &nb), -EBADMSG);
    ann[n - 1] = 0;
    ann[n - 2] = 0x27; /* four held, three said */
    UT_CHECK_EQ(p2p_announce_decode(ann, n, adb, &nb), -EBADMSG);
    ann[0] = 1; /* version 1 */
    ann[n - 2] = 0x25;
    UT_CHECK_EQ(p2p_announce_decode(ann, n, adb, &nb), -EBADMSG);
    for (int g = 0; g < 256; g++) {
        /* garbage: whatever decodes must say what it holds truly */
        for (size_t k = 0; k < sizeof(ann); k++)
            ann[k] = (uint8_t)(k * 131 + (size_t)g * 17 + (k >> 3));
        ann[0] = P2P_ANNOUNCE_V;
        ann[1] = 1;
        if (p2p_announce_decode(ann, 2 + 73 + 8, adb, &nb) == 0)
            UT_CHECK(adb[0].have <= adb[0].nchunks);
    }
}

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
    test_sync_bytes();
    test_p2p_bytes();
    test_p2p_refusals();
    return ut_done();
}
