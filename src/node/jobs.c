/*
 * node/jobs.c - work the event loop does between console lines: the
 * automatic confirmation of a healthy trial, and `chain verify` in
 * bounded steps (CHAIN_VERIFY_STEP trailers, or CHAIN_VERIFY_STEP_POW
 * with proofs), so every command keeps answering.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "lib/klog.h"
#include "node/node.h"

#define CHAIN_VERIFY_STEP 4000
#define CHAIN_VERIFY_STEP_POW 16

void
node_update_tick(struct node *node)
{
    struct bootctl bc;
    uint64_t up;

    if (node->upd.running < 0 || node->confirm_done || node->store_rc != 0 ||
        node->ctl_rc != 0)
        return;
    up = (hal_clock_ms() - node->start_ms) / 1000;
    if (up < (uint64_t)node->confirm_after_s)
        return;
    node->confirm_done = 1;
    if (bootctl_load(&node->ctl, &bc) != 0 ||
        bc.slot[node->upd.running].state != SLOT_TRIAL)
        return;
    /* Health: storage mounted (checked above) and the identity ready. */
    if (node->id.state != IDENTITY_READY) {
        klog(KLOG_INFO,
             "update: not confirming slot %c: identity "
             "not ready\n",
             slot_name(node->upd.running));
        return;
    }
    if (update_confirm(&node->upd) == 0)
        klog(KLOG_INFO,
             "update: slot %c confirmed after %" PRIu64 " s of health\n",
             slot_name(node->upd.running), up);
    else
        klog(KLOG_WARN, "update: automatic confirm failed: %s\n",
             node->upd.why);
}

/* One step of the verify job; returns 1 when it has finished. */
int
node_chain_verify_step(struct node *node, struct cmd_ctx *ctx)
{
    struct chain_job *j = &node->verify;
    struct chain *c = &node->chain;
    unsigned step = j->pow ? CHAIN_VERIFY_STEP_POW : CHAIN_VERIFY_STEP;
    struct chain_opts o = {0, j->pow};
    uint8_t t[TRAILER_LEN];

    for (unsigned i = 0; i < step && j->next <= j->end; i++, j->next++) {
        enum chain_reason r;
        int rc = chain_read(c, j->next, t);

        if (rc != 0) {
            cmd_printf(ctx,
                       "chain verify: trailer %" PRIu64 " unreadable (%s)\n",
                       j->next, strerror(-rc));
            j->bad++;
            j->active = 0;
            return 1;
        }
        r = chain_check(c->pf, j->prev, t, &o);
        if (r != CHAIN_OK) {
            cmd_printf(ctx, "chain verify: trailer %" PRIu64 ": %s\n", j->next,
                       chain_reason_str(r));
            j->bad++;
            j->active = 0;
            return 1;
        }
        chain_weight_add(&j->w, t);
        memcpy(j->prev, t, TRAILER_LEN);
    }
    if (j->next <= j->end) {
        /* in a script, a line every few seconds; at a terminal the job
         * runs behind the prompt and 'chain verify' asks how far */
        if (!node->con.interactive) {
            j->bar.ctx = ctx;
            progress_update(&j->bar, j->next - c->base, hal_clock_ms());
        }
        return 0;
    }
    j->active = 0;
    if (chain_weight_cmp(&j->w, &c->w) != 0) {
        cmd_printf(ctx, "chain verify: the recorded weight differs from "
                        "the stored trailers'\n");
        j->bad++;
        return 1;
    }
    cmd_printf(ctx,
               "chain verify: %" PRIu64 " trailers valid%s, weight matches "
               "(%.1f s)\n",
               c->count, j->pow ? " with their proofs of work" : "",
               (double)(hal_clock_ms() - j->t0) / 1e3);
    return 1;
}
