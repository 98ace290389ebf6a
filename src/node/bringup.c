/*
 * node/bringup.c - the node's start: mount the storage, load the
 * identity, set up updates (the image's keyring, the trust floor), and
 * say what was found damaged.  Runs once, before the event loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/clock.h"
#include "hal/sys.h"
#include "node/files.h"
#include "lib/klog.h"
#include "lib/le.h"
#include "node/node.h"

#define KEY_CONFIRM_AFTER "update.confirm_after_s"
#define CONFIRM_AFTER_DEFAULT 60
#define CONFIRM_AFTER_MAX 86400

static void
id_log(void *arg, const char *msg)
{
    (void)arg;
    klog(KLOG_INFO, "%s\n", msg);
}

void
node_storage_mount(struct node *node)
{
    node->store_rc = store_mount(&node->store, &node->part[NODE_PART_store]);
    if (node->store_rc != 0)
        klog(KLOG_WARN,
             "store: mount failed: %s; store commands are "
             "unavailable (flash image damaged?)\n",
             strerror(-node->store_rc));
    node->clog_rc = node->store_rc != 0
                        ? node->store_rc
                        : clog_mount(&node->clog, &node->part[NODE_PART_chain],
                                     &node->store);
    if (node->clog_rc != 0 && node->store_rc == 0) {
        node_degrade(node, NODE_DEG_CHAIN);
        klog(KLOG_WARN,
             "chain log: mount failed: %s; the chain is "
             "unavailable\n",
             strerror(-node->clog_rc));
    }
    if (node->store_rc == 0 && node->store.bad_records > 0)
        klog(KLOG_WARN,
             "store: %u corrupt or torn records found and ignored "
             "at mount; 'store check' lists them\n",
             (unsigned)node->store.bad_records);
    if (node->store_rc == 0 && node->store.bad_headers > 0) {
        node_degrade(node, NODE_DEG_STORE);
        klog(KLOG_WARN,
             "store: %u sector header%s damaged; the records "
             "behind %s are read all the same, and compaction rewrites "
             "%s ('store check' lists %s)\n",
             (unsigned)node->store.bad_headers,
             node->store.bad_headers == 1 ? "" : "s",
             node->store.bad_headers == 1 ? "it" : "them",
             node->store.bad_headers == 1 ? "it" : "them",
             node->store.bad_headers == 1 ? "it" : "them");
    }
    node->ctl_rc = ctl_mount(&node->ctl, &node->part[NODE_PART_bootctl]);
    if (node->ctl_rc == 0 && node->ctl.bad > 0)
        klog(KLOG_WARN,
             "control block: %u corrupt copy ignored; the "
             "next write repairs it\n",
             (unsigned)node->ctl.bad);
    if (node->ctl_rc == -ENOENT)
        node->ctl_rc = 0; /* blank: nothing written yet */
    if (node->ctl_rc == -EBADMSG) {
        /* Both copies damaged: boot control, the trust floor and the
         * identity marker are unknown.  Never write over the evidence:
         * updates stay refused until an operator recovers. */
        node_degrade(node, NODE_DEG_BOOTCTL);
        klog(KLOG_WARN, "control block: both copies are corrupt; boot "
                        "control is unknown and is NOT rewritten (updates are "
                        "refused; see 'status' and docs/RUNBOOK.md)\n");
    } else if (node->ctl_rc != 0) {
        node_degrade(node, NODE_DEG_BOOTCTL);
        klog(KLOG_WARN, "control block: mount failed: %s\n",
             strerror(-node->ctl_rc));
    }
    node->chain_rc = node->clog_rc != 0
                         ? node->clog_rc
                         : chain_open(&node->chain, &node->clog, &node->store);
    sync_init(&node->sync, &node->chain,
              node->store_rc == 0 ? &node->store : NULL);
    if (node->chain_rc != 0 && node->clog_rc == 0) {
        node_degrade(node, NODE_DEG_CHAIN);
        klog(KLOG_INFO, "chain: %s\n", node->chain.why);
    } else if (node->chain_rc == 0 && node->chain.lost > 0) {
        node_degrade(node, NODE_DEG_CHAIN);
        klog(KLOG_WARN,
             "chain: the last %" PRIu64 " stored trailers were "
             "lost: the end of the chain log is damaged (the tip is now "
             "%" PRIu64 "; importing a tfile fetches them again)\n",
             node->chain.lost,
             node->chain.count > 0 ? chain_tip_bnum(&node->chain)
                                   : node->chain.base);
    } else if (node->chain_rc == 0 && node->chain.rebuilt) {
        klog(KLOG_INFO, "chain: the chain state was missing; computed "
                        "again from the stored trailers\n");
    } else if (node->chain_rc == 0 && node->chain.recomputed) {
        klog(KLOG_INFO, "chain: weight recomputed from the stored "
                        "trailers (a write was cut)\n");
    }
    if (node->clog_rc == 0 && node->clog.holes > 0) {
        node_degrade(node, NODE_DEG_CHAIN);
        klog(KLOG_WARN,
             "chain log: %u damaged slot%s amid valid ones kept as "
             "unreadable trailers ('store check' lists them; importing a "
             "good tfile rewrites them, 'chain trim' passes them)\n",
             (unsigned)node->clog.holes, node->clog.holes == 1 ? "" : "s");
    }
    node->id.log = id_log;
    node->id.work = &node->id_work;
    (void)identity_boot(&node->id, node->store_rc == 0 ? &node->store : NULL,
                        node->ctl_rc == 0 ? &node->ctl : NULL);
    if (node->id.state == IDENTITY_NONE)
        klog(KLOG_INFO, "identity: not available: %s\n", node->id.why);
}

/* Every update event is logged on the console's error stream. */
static void
log_event(void *arg, const char *line)
{
    (void)arg;
    klog(KLOG_INFO, "update: %s\n", line);
}

/* The image's keyring into the store on its first boot. */
static void
keyring_seed(struct node *node)
{
    uint8_t b[UPD_KEYRING_MAX];
    struct update *u = &node->upd;
    char path[HAL_FILE_PATH_MAX + 1], why[HAL_FILE_PATH_MAX + 96];
    int n, rc;

    snprintf(path, sizeof(path), "%s/etc/keel/keyring", node->rootfs);
    n = node_file_load(path, b, sizeof(b), "keyring", why, sizeof(why));
    if (n == -ENOENT)
        return;
    if (n < 0) {
        klog(KLOG_INFO, "update: the image's keyring not read: %s\n", why);
        return;
    }
    rc = update_keyring_seed(u, b, (size_t)n, path);
    if (rc != 0)
        klog(KLOG_WARN,
             "update: keyring from the image not "
             "stored: %s\n",
             u->why[0] ? u->why : strerror(-rc));
}

static int
node_confirm_after(struct node *node)
{
    char b[16];
    int n = node->store_rc == 0
                ? store_get(&node->store, KEY_CONFIRM_AFTER, b, sizeof(b) - 1)
                : -ENOENT;
    uint64_t v;

    if (n <= 0)
        return CONFIRM_AFTER_DEFAULT;
    b[n] = '\0';
    return cmd_parse_u64(b, CONFIRM_AFTER_MAX, &v) == 0 ? (int)v
                                                        : CONFIRM_AFTER_DEFAULT;
}

/* A device with no chain yet starts it at the checkpoint signed into
 * the running firmware's manifest, if there is one: history below it is
 * trusted with the firmware and never fetched (docs/SYNC.md). */
static void
chain_from_firmware(struct node *node)
{
    struct update *u = &node->upd;
    struct chain *c = &node->chain;
    uint8_t ck[UPD_CHECKPOINT_LEN], net;
    struct chain_weight w;
    int rc;

    if (node->chain_rc != 0 || c->pf != NULL || c->count > 0 ||
        u->running < 0 || u->st == NULL || node->ctl_rc != 0)
        return;
    rc = update_running_checkpoint(u, ck, &net);
    if (rc == -ENOENT)
        return;
    if (rc != 0) {
        klog(KLOG_WARN, "chain: the firmware's checkpoint is not used: %s\n",
             u->why);
        return;
    }
    for (int i = 0; i < 8; i++)
        w.w[i] = lib_le32(ck + 40 + 4 * i);
    rc = chain_set_checkpoint(
        c, net == UPD_NET_TESTNET ? &chain_testnet : &chain_mainnet,
        lib_le64(ck), ck + 8, &w);
    if (rc != 0) {
        klog(KLOG_WARN, "chain: the firmware's checkpoint: %s\n", c->why);
        return;
    }
    klog(KLOG_INFO,
         "chain: starting at the checkpoint signed into the running "
         "firmware: %s block %" PRIu64 "\n",
         c->pf->name, c->base);
}

void
node_update_init(struct node *node)
{
    const char *slot = hal_sys_param("KEEL_SLOT");
    struct update *u = &node->upd;

    u->work = &node->upd_work;
    u->st = node->store_rc == 0 ? &node->store : NULL;
    u->ctl = &node->ctl;
    u->slot[0] = &node->part[NODE_PART_slot_a];
    u->slot[1] = &node->part[NODE_PART_slot_b];
    u->board = hal_sys_board();
    u->audit = &node->upd_audit;
    node->upd_audit.log = log_event;
    node->confirm_after_s = node_confirm_after(node);
    u->running = slot == NULL             ? -1
                 : strcmp(slot, "a") == 0 ? 0
                 : strcmp(slot, "b") == 0 ? 1
                                          : -1;
    /* keel-boot could not read boot control and booted this slot by its
     * signatures (boot/main.c) */
    if (u->running >= 0 && hal_sys_param("KEEL_BOOT_DEGRADED") != NULL) {
        node->boot_degraded = 1;
        node_degrade(node, NODE_DEG_BOOT);
    }
    if (node->rootfs != NULL && u->st != NULL && node->ctl_rc == 0)
        keyring_seed(node);
    node_update_check_trust(node);
    chain_from_firmware(node);
}

void
node_update_check_trust(struct node *node)
{
    struct update *u = &node->upd;
    struct upd_keyring k;
    struct upd_floor f;
    int rc;

    if (node->ctl_rc != 0 || u->st == NULL)
        return;
    rc = update_floor_sync(u, &f);
    if (rc != 0 || f.behind != 0) {
        node_degrade(node, NODE_DEG_FLOOR);
        klog(KLOG_WARN,
             "update: trust floor: %s%s%s%s; the highest value "
             "counts (counter %" PRIu64 ", keyring version %" PRIu32 ")\n",
             f.damaged & UPD_FLOOR_SRC_CTL ? "control-block copy damaged " : "",
             f.damaged & UPD_FLOOR_SRC_BOOT ? "boot control damaged " : "",
             f.damaged & UPD_FLOOR_SRC_STORE ? "store mirror damaged " : "",
             f.behind ? "a copy was behind (brought up)" : "", f.arb,
             f.keyring_version);
    }
    if (update_keyring(u, &k) != 0 && u->reason == UPD_R_KEYRING_ROLLBACK) {
        node_degrade(node, NODE_DEG_KEYRING);
        klog(KLOG_INFO, "update: %s\n", u->why);
    }
}
