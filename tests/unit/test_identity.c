/*
 * tests/unit/test_identity.c - the identity key on a simulated flash:
 * first boot, reload, repair of one bad copy, "lost" when both are bad
 * or rolled back, rotation with its statement and window, replacement,
 * refusals that write nothing, and a power cut at every flash operation
 * of creation, rotation and repair (each in three tear modes).
 *
 * The wall clock is this file's: the test moves time past a window.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../hal/sim/flash_sim.h"
#include "hal/clock.h"
#include "identity/identity.h"
#include "ut.h"

/* ---- a clock the test controls ---- */

static int64_t wall = 1790000000;

uint64_t
hal_clock_ms(void)
{
    return (uint64_t)wall * 1000u;
}

int64_t
hal_clock_wall(void)
{
    return wall;
}

#define ES 4096u
#define STORE_SIZE (8 * 16384u)
#define CTL_SIZE (2 * ES)
#define DEV_SIZE (STORE_SIZE + CTL_SIZE)

static struct sim_flash dev;
static struct hal_flash pstore, pctl;
static struct store st;
static struct ctl ctl;
static struct identity id;
static struct identity_work idw;
static int quiet = 1;
static char lastlog[256];

static void
logf_(void *arg, const char *msg)
{
    (void)arg;
    snprintf(lastlog, sizeof(lastlog), "%s", msg);
    if (!quiet)
        printf("    log: %s\n", msg);
}

static void
dev_new(void)
{
    static const struct sim_flash_geom g = {DEV_SIZE, ES, 16, 0xff};

    sim_flash_open_mem(&dev, &g);
    sim_flash_partition(&dev, &pstore, "store", 0, STORE_SIZE);
    sim_flash_partition(&dev, &pctl, "ctl", STORE_SIZE, CTL_SIZE);
}

/* Power on: mount everything and run the identity's boot. */
static int
boot(void)
{
    int rc = store_mount(&st, &pstore), crc;

    if (rc != 0)
        return -1000 + rc;
    crc = ctl_mount(&ctl, &pctl);
    id.log = logf_;
    id.work = &idw;
    return identity_boot(&id, &st, crc == 0 || crc == -ENOENT ? &ctl : NULL);
}

/* A saved device state (sim_flash_save): bytes, then the touched map. */
#define STATE_LEN (DEV_SIZE + DEV_SIZE / 16 / 8)

/* Flip a bit in the stored value of key (its flash bytes). */
static int
corrupt_key(const char *key, uint32_t at)
{
    for (uint32_t i = 0; i < st.nkeys; i++) {
        struct store_key *k = &st.keys[i];

        if (k->klen == strlen(key) && memcmp(k->key, key, k->klen) == 0)
            return sim_flash_corrupt(&dev,
                                     pstore.base +
                                         (uint64_t)k->sector * st.sector_size +
                                         k->rec_off + k->val_off + at,
                                     0x10);
    }
    return -ENOENT;
}

static void
fp_of(uint8_t fp[ID_FP_LEN])
{
    identity_fingerprint(id.cur.k.pub, fp);
}

static void
test_lifecycle(void)
{
    uint8_t fp1[32], fp[32], h[32], sig[CRYPTO_SIG_MAX];
    int n, which;

    dev_new();
    UT_CASE("first boot makes the identity; the next boot loads it");
    UT_CHECK_EQ(boot(), 0);
    UT_CHECK_EQ(id.state, IDENTITY_READY);
    UT_CHECK_EQ(id.gen, 1);
    UT_CHECK(id.cur.created == wall);
    fp_of(fp1);
    UT_CHECK_EQ(store_same_record(&st, ID_KEY_A, ID_KEY_B), 0);
    UT_CHECK_EQ(boot(), 0);
    fp_of(fp);
    UT_CHECK(memcmp(fp, fp1, 32) == 0);
    UT_CHECK_EQ(id.repaired_boot, 0);
    crypto_sha256("m", 1, h);
    n = identity_sign(&id, h, sig);
    UT_CHECK(n > 0);
    UT_CHECK_EQ(identity_verify(&id, h, sig, (size_t)n, &which),
                CRYPTO_VERIFIED);
    UT_CHECK_EQ(which, 0);

    UT_CASE("a flipped bit in one copy on flash is repaired and counted");
    UT_CHECK_EQ(corrupt_key(ID_KEY_A, 30), 0);
    UT_CHECK_EQ(boot(), 0);
    fp_of(fp);
    UT_CHECK(memcmp(fp, fp1, 32) == 0);
    UT_CHECK_EQ(id.repaired_boot, 1);
    UT_CHECK_EQ(id.repairs, 1);
    UT_CHECK_EQ(boot(), 0);
    UT_CHECK_EQ(id.repaired_boot, 0);
    UT_CHECK_EQ(id.repairs, 1);
    /* Copy 1's own record goes bad: it falls back to the copy written
     * with copy 0 in the same commit, identical, and is moved into a
     * record of its own again. */
    UT_CHECK_EQ(corrupt_key(ID_KEY_B, 200), 0);
    UT_CHECK_EQ(boot(), 0);
    UT_CHECK_EQ(id.repaired_boot, 0);
    fp_of(fp);
    UT_CHECK(memcmp(fp, fp1, 32) == 0);
    UT_CHECK_EQ(store_same_record(&st, ID_KEY_A, ID_KEY_B), 0);

    UT_CASE("a copy that goes bad after mount is repaired too");
    UT_CHECK_EQ(corrupt_key(ID_KEY_B, 5), 0);
    UT_CHECK_EQ(identity_boot(&id, &st, &ctl), 0);
    UT_CHECK_EQ(id.repaired_boot, 1);
    UT_CHECK_EQ(id.repairs, 2);
    UT_CHECK_EQ(boot(), 0);
    UT_CHECK_EQ(id.repaired_boot, 0);
    UT_CHECK_EQ(id.repairs, 2);

    UT_CASE("rotation: statement signed by both, both keys verify in window");
    n = identity_sign(&id, h, sig); /* by the old key */
    UT_CHECK_EQ(identity_rotate(&id, 14 * 86400), 0);
    UT_CHECK_EQ(id.gen, 2);
    UT_CHECK_EQ(id.rotating, 1);
    {
        uint8_t op[65], np[65];
        uint32_t seq;

        UT_CHECK_EQ(identity_stmt_check(id.stmt, id.sig_old, id.sig_old_len,
                                        id.sig_new, id.sig_new_len, op, np,
                                        &seq),
                    0);
        identity_fingerprint(op, fp);
        UT_CHECK(memcmp(fp, fp1, 32) == 0);
        UT_CHECK(memcmp(np, id.cur.k.pub, 65) == 0);
        UT_CHECK_EQ(seq, 2);
        /* a statement signed by one key only is refused */
        UT_CHECK(identity_stmt_check(id.stmt, id.sig_new, id.sig_new_len,
                                     id.sig_new, id.sig_new_len, op, np,
                                     &seq) != 0);
        id.stmt[40] ^= 1;
        UT_CHECK(identity_stmt_check(id.stmt, id.sig_old, id.sig_old_len,
                                     id.sig_new, id.sig_new_len, op, np,
                                     &seq) != 0);
        id.stmt[40] ^= 1;
    }
    UT_CHECK_EQ(identity_verify(&id, h, sig, (size_t)n, &which),
                CRYPTO_VERIFIED);
    UT_CHECK_EQ(which, 1);
    UT_CHECK_EQ(identity_rotate(&id, 86400), -EBUSY);
    UT_CHECK_EQ(boot(), 0);
    UT_CHECK_EQ(id.gen, 2);
    UT_CHECK_EQ(id.rotating, 1);
    UT_CHECK_EQ(identity_verify(&id, h, sig, (size_t)n, &which),
                CRYPTO_VERIFIED);

    UT_CASE("after the window the old key retires and no longer verifies");
    wall += 14 * 86400 + 1;
    UT_CHECK_EQ(boot(), 0);
    UT_CHECK_EQ(id.rotating, 0);
    UT_CHECK_EQ(id.has_stmt, 1);
    UT_CHECK_EQ(identity_verify(&id, h, sig, (size_t)n, &which), -EBADMSG);
    UT_CHECK_EQ(boot(), 0);
    UT_CHECK_EQ(id.rotating, 0);
    {
        uint8_t zero[32] = {0};

        UT_CHECK(memcmp(id.old.k.priv, zero, 32) == 0);
    }
    UT_CHECK_EQ(identity_rotate(&id, 86400), 0);
    UT_CHECK_EQ(id.gen, 3);

    UT_CASE("both copies bad: identity lost, nothing invented, sign refused");
    fp_of(fp1);
    UT_CHECK_EQ(corrupt_key(ID_KEY_A, 60), 0);
    UT_CHECK_EQ(corrupt_key(ID_KEY_B, 60), 0);
    {
        uint32_t seq0 = st.next_seq;

        UT_CHECK_EQ(identity_boot(&id, &st, &ctl), -ENOKEY);
        UT_CHECK_EQ(id.state, IDENTITY_LOST);
        UT_CHECK(strstr(id.why, "both copies are bad") != NULL);
        UT_CHECK_EQ(st.next_seq, seq0); /* hands off: nothing written */
    }
    UT_CHECK_EQ(identity_sign(&id, h, sig), -ENOKEY);
    UT_CHECK_EQ(boot(), -ENOKEY); /* and on every boot after */
    UT_CHECK_EQ(id.state, IDENTITY_LOST);

    UT_CASE("from lost, 'id new --force' makes generation marker + 1");
    UT_CHECK_EQ(identity_new(&id, NULL), 0);
    UT_CHECK_EQ(id.state, IDENTITY_READY);
    UT_CHECK_EQ(id.gen, 4);
    UT_CHECK_EQ(boot(), 0);
    UT_CHECK_EQ(id.gen, 4);

    UT_CASE("copies deleted but the marker remembers: lost");
    UT_CHECK_EQ(store_del(&st, ID_KEY_A), 0);
    UT_CHECK_EQ(store_del(&st, ID_KEY_B), 0);
    UT_CHECK_EQ(boot(), -ENOKEY);
    UT_CHECK(strstr(id.why, "control block records generation 4") != NULL);
    sim_flash_close(&dev);
}

static void
test_rollback_and_refusals(void)
{
    static uint8_t s1[STATE_LEN];
    struct crypto_eckey k;

    dev_new();
    UT_CASE("store rolled back to an older identity: lost");
    UT_CHECK_EQ(boot(), 0);
    sim_flash_save(&dev, s1);
    UT_CHECK_EQ(identity_rotate(&id, 86400), 0);
    /* the store as it was, the control block as it is now */
    memcpy(dev.map, s1, STORE_SIZE);
    memcpy(dev.touched, s1 + DEV_SIZE, STORE_SIZE / 16 / 8);
    UT_CHECK_EQ(boot(), -ENOKEY);
    UT_CHECK(strstr(id.why, "rolled back") != NULL);
    sim_flash_close(&dev);

    dev_new();
    UT_CASE("control block destroyed and no copy: lost, not invented");
    sim_flash_corrupt(&dev, STORE_SIZE, 0x01);
    sim_flash_corrupt(&dev, STORE_SIZE + ES, 0x01);
    UT_CHECK_EQ(boot(), -ENOKEY);
    UT_CHECK(strstr(id.why, "cannot say") != NULL);
    UT_CHECK_EQ(store_same_record(&st, ID_KEY_A, ID_KEY_B), -ENOENT);
    sim_flash_close(&dev);

    dev_new();
    UT_CASE("import of a bad key is refused and writes nothing");
    UT_CHECK_EQ(boot(), 0);
    {
        uint32_t seq0 = st.next_seq, gen0 = id.gen;

        memset(&k, 0, sizeof(k));
        k.priv[31] = 7; /* valid scalar, wrong public half */
        memset(k.pub, 0x04, sizeof(k.pub));
        UT_CHECK_EQ(identity_new(&id, &k), -EINVAL);
        UT_CHECK(strstr(id.why, "self-check") != NULL);
        UT_CHECK_EQ(st.next_seq, seq0);
        UT_CHECK_EQ(id.gen, gen0);
        UT_CHECK_EQ(id.state, IDENTITY_READY);
        UT_CHECK_EQ(crypto_ec_from_priv(&k), 0);
        UT_CHECK_EQ(identity_new(&id, &k), 0);
        UT_CHECK_EQ(id.gen, gen0 + 1);
        UT_CHECK(memcmp(id.cur.k.pub, k.pub, 65) == 0);
    }

    UT_CASE("rotation with the clock unset is refused");
    {
        int64_t w = wall;

        wall = 0;
        UT_CHECK_EQ(identity_rotate(&id, 86400), -EINVAL);
        UT_CHECK(strstr(id.why, "clock is unset") != NULL);
        wall = w;
    }

    UT_CASE("a failed write is reported and keeps the old identity");
    {
        uint8_t fp0[32], fp[32];

        fp_of(fp0);
        sim_flash_cut_after(&dev, sim_flash_ops(&dev), SIM_TORN_NONE, 1);
        UT_CHECK(identity_rotate(&id, 86400) != 0);
        UT_CHECK(strstr(id.why, "store: writing the identity failed") != NULL);
        UT_CHECK_EQ(id.state, IDENTITY_READY);
        fp_of(fp);
        UT_CHECK(memcmp(fp, fp0, 32) == 0);
        sim_flash_power_on(&dev);
        UT_CHECK_EQ(boot(), 0);
        fp_of(fp);
        UT_CHECK(memcmp(fp, fp0, 32) == 0);
        UT_CHECK_EQ(id.rotating, 0);
    }
    sim_flash_close(&dev);
}

/* ---- power cuts ---- */

enum pc_op { PC_CREATE, PC_ROTATE, PC_REPAIR };

/* Run op with a cut after k flash operations (UINT64_MAX: none), then
 * power on and boot.  Returns the violations found; *ops gets the
 * operation count of the run. */
static int
pc_run(enum pc_op op, const uint8_t *start, uint64_t k, uint64_t k2,
       enum sim_flash_torn mode, uint64_t *ops, const uint8_t fp_before[32])
{
    uint8_t fp_run[32], fp[32];
    int done = 0, v = 0;
    uint64_t base;

    sim_flash_restore(&dev, start);
    if (op != PC_CREATE)
        UT_CHECK_EQ(boot(), 0);
    base = sim_flash_ops(&dev);
    if (k != UINT64_MAX)
        sim_flash_cut_after(&dev, base + k, mode, (uint32_t)k * 7 + 1);
    if (op == PC_CREATE || op == PC_REPAIR) {
        if (op == PC_REPAIR)
            UT_CHECK_EQ(corrupt_key(ID_KEY_A, 100), 0);
        done = boot() == 0 && id.state == IDENTITY_READY;
    } else {
        done = identity_rotate(&id, 86400) == 0;
    }
    if (done)
        fp_of(fp_run);
    *ops = sim_flash_ops(&dev) - base;
    if (k != UINT64_MAX && k < *ops && !dev.dead) {
        printf("  cut %llu: the cut never hit\n", (unsigned long long)k);
        v++;
    }
    sim_flash_power_on(&dev);
    if (k2 != UINT64_MAX) {
        /* the boot that recovers is cut too */
        sim_flash_cut_after(&dev, sim_flash_ops(&dev) + k2, mode,
                            (uint32_t)k2 + 3);
        (void)boot();
        sim_flash_power_on(&dev);
    }

    if (boot() != 0 || id.state != IDENTITY_READY) {
        printf("  cut %llu/%llu (%d): not ready after power-on: %s "
               "(refused %llu)\n",
               (unsigned long long)k, (unsigned long long)k2, mode, id.why,
               (unsigned long long)dev.stats.refused);
        return 1;
    }
    fp_of(fp);
    if (done && memcmp(fp, fp_run, 32) != 0) {
        printf("  cut %llu: reported done, but another key loaded\n",
               (unsigned long long)k);
        v++;
    }
    if (op == PC_ROTATE) {
        /* all or nothing: the old identity alone, or new + statement */
        int old = memcmp(fp, fp_before, 32) == 0 && id.gen == 1 && !id.has_stmt;
        int rotated = id.gen == 2 && id.rotating && id.has_stmt;

        if (!old && !rotated) {
            printf("  cut %llu: rotation half done (gen %u)\n",
                   (unsigned long long)k, (unsigned)id.gen);
            v++;
        }
    }
    if (op == PC_REPAIR && memcmp(fp, fp_before, 32) != 0) {
        printf("  cut %llu: repair changed the key\n", (unsigned long long)k);
        v++;
    }
    /* and one more boot finds both copies whole, nothing to repair */
    if (boot() != 0 || id.repaired_boot != 0) {
        printf("  cut %llu: second boot still repairing\n",
               (unsigned long long)k);
        v++;
    }
    return v;
}

static void
test_powercut(void)
{
    static uint8_t blank[STATE_LEN], made[STATE_LEN];
    static const char *const names[] = {"creation", "rotation", "repair"};
    uint8_t fp0[32];

    dev_new();
    UT_CHECK_EQ(sim_flash_state_size(&dev), STATE_LEN);
    sim_flash_save(&dev, blank);
    UT_CHECK_EQ(boot(), 0);
    fp_of(fp0);
    sim_flash_save(&dev, made);
    for (int op = PC_CREATE; op <= PC_REPAIR; op++) {
        char title[96];
        uint64_t total = 0, ops, points = 0;
        int viol = 0;

        snprintf(title, sizeof(title),
                 "power cut at every flash operation of %s (3 tear modes, "
                 "double cuts)",
                 names[op]);
        UT_CASE(title);
        viol += pc_run((enum pc_op)op, op == PC_CREATE ? blank : made,
                       UINT64_MAX, UINT64_MAX, SIM_TORN_NONE, &total, fp0);
        UT_CHECK(total > 3);
        /* every first cut, alone and with a second cut at each of the
         * first six operations of the boot after it */
        for (uint64_t k = 0; k <= total; k++)
            for (int m = SIM_TORN_NONE; m <= SIM_TORN_BITS; m++)
                for (uint64_t k2 = 0; k2 <= 6; k2++) {
                    viol +=
                        pc_run((enum pc_op)op, op == PC_CREATE ? blank : made,
                               k, k2 == 6 ? UINT64_MAX : k2,
                               (enum sim_flash_torn)m, &ops, fp0);
                    points++;
                }
        printf("  %s: %llu flash operations, %llu cut points, %d "
               "violations\n",
               names[op], (unsigned long long)total, (unsigned long long)points,
               viol);
        UT_CHECK_EQ(viol, 0);
    }
    sim_flash_close(&dev);
}

int
main(int argc, char **argv)
{
    ut_suite = "identity";
    quiet = !(argc > 1 && strcmp(argv[1], "-v") == 0);
    test_lifecycle();
    test_rollback_and_refusals();
    test_powercut();
    return ut_done();
}
