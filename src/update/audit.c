/*
 * update/audit.c - update events: counted, logged, kept in a ring (see
 * audit.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "update/audit.h"
#include "update/bootctl.h"

#define UPD_R_NAME(code, name) name,
static const char *const reason_names[] = {UPD_REASONS(UPD_R_NAME)};
#undef UPD_R_NAME

const char *
upd_reason_name(int reason)
{
    return reason >= 0 && reason < UPD_R_COUNT ? reason_names[reason]
                                               : "unknown";
}

static struct upd_event *
push(struct upd_audit *a, int kind)
{
    struct upd_event *e = &a->ring[a->nevents++ % UPD_AUDIT_RING];

    memset(e, 0, sizeof(*e));
    e->kind = (uint8_t)kind;
    e->time = hal_clock_wall();
    return e;
}

static void
log_event(struct upd_audit *a, const struct upd_event *e)
{
    char line[UPD_AUDIT_WHY + 80];

    if (a->log == NULL)
        return;
    upd_audit_text(e, line, sizeof(line));
    a->log(a->log_arg, line);
}

void
upd_audit_refused(struct upd_audit *a, int reason, const char *why)
{
    struct upd_event *e;

    if (a == NULL || !upd_reason_refusal(reason))
        return;
    a->refused[reason]++;
    e = push(a, UPD_EV_REFUSED);
    e->reason = (uint8_t)reason;
    snprintf(e->why, sizeof(e->why), "%s", why);
    log_event(a, e);
}

void
upd_audit_bootctl(struct upd_audit *a, const struct bootctl *before,
                  const struct bootctl *after)
{
    if (a == NULL)
        return;
    for (int s = 0; s < 2; s++) {
        const struct bc_slot *o = &before->slot[s], *n = &after->slot[s];
        struct upd_event *e;

        if (o->state == n->state || n->state > SLOT_BAD)
            continue;
        a->entered[s][n->state]++;
        e = push(a, UPD_EV_SLOT);
        e->slot = (uint8_t)s;
        e->from = o->state;
        e->to = n->state;
        e->reason = n->result;
        e->a = n->counter;
        log_event(a, e);
    }
    if (after->arb > before->arb) {
        struct upd_event *e = push(a, UPD_EV_COUNTER);

        a->counter_raises++;
        e->a = before->arb;
        e->b = after->arb;
        log_event(a, e);
    }
}

void
upd_audit_keyring(struct upd_audit *a, uint32_t from, uint32_t to)
{
    struct upd_event *e;

    if (a == NULL)
        return;
    a->keyring_rotations++;
    e = push(a, UPD_EV_KEYRING);
    e->a = from;
    e->b = to;
    log_event(a, e);
}

const struct upd_event *
upd_audit_event(const struct upd_audit *a, uint32_t i)
{
    if (i >= a->nevents || i >= UPD_AUDIT_RING)
        return NULL;
    return &a->ring[(a->nevents - 1 - i) % UPD_AUDIT_RING];
}

void
upd_audit_text(const struct upd_event *e, char *buf, size_t cap)
{
    switch (e->kind) {
    case UPD_EV_REFUSED:
        snprintf(buf, cap, "refused %s: %s", upd_reason_name(e->reason),
                 e->why);
        break;
    case UPD_EV_SLOT:
        snprintf(buf, cap, "slot %c: %s -> %s (%s, counter %" PRIu64 ")",
                 slot_name(e->slot), slot_state_name(e->from),
                 slot_state_name(e->to), upd_reason_name(e->reason), e->a);
        break;
    case UPD_EV_COUNTER:
        snprintf(buf, cap, "anti-rollback counter %" PRIu64 " -> %" PRIu64,
                 e->a, e->b);
        break;
    case UPD_EV_KEYRING:
        snprintf(buf, cap, "keyring version %" PRIu64 " -> %" PRIu64, e->a,
                 e->b);
        break;
    default:
        snprintf(buf, cap, "event %u", e->kind);
        break;
    }
}

/* ---- Prometheus text exposition ------------------------------------ */

struct out {
    void (*write)(void *arg, const char *line);
    void *arg;
};

static void emit(const struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
emit(const struct out *o, const char *fmt, ...)
{
    char line[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    o->write(o->arg, line);
}

static void
family(const struct out *o, const char *name, const char *type,
       const char *help)
{
    emit(o, "# HELP %s %s\n", name, help);
    emit(o, "# TYPE %s %s\n", name, type);
}

void
upd_audit_metrics(const struct upd_audit *a, const struct bootctl *bc,
                  void (*write)(void *arg, const char *line), void *arg)
{
    const struct out o = {write, arg};

    family(&o, "keel_update_rejected_total", "counter",
           "Bundles and signed keyrings refused or abandoned since the "
           "node started, by reason.");
    for (int r = UPD_R_FIRST_REFUSAL; r < UPD_R_COUNT; r++)
        if (upd_reason_refusal(r))
            emit(&o, "keel_update_rejected_total{reason=\"%s\"} %" PRIu32 "\n",
                 upd_reason_name(r), a->refused[r]);
    family(&o, "keel_update_slot_transitions_total", "counter",
           "Slot state changes made by this node since it started, by "
           "slot and the state entered.");
    for (int s = 0; s < 2; s++)
        for (int st = SLOT_INSTALLING; st <= SLOT_BAD; st++)
            emit(&o,
                 "keel_update_slot_transitions_total{slot=\"%c\","
                 "state=\"%s\"} %" PRIu32 "\n",
                 slot_name(s), slot_state_name(st), a->entered[s][st]);
    family(&o, "keel_update_antirollback_raises_total", "counter",
           "Rises of the anti-rollback counter since the node started.");
    emit(&o, "keel_update_antirollback_raises_total %" PRIu32 "\n",
         a->counter_raises);
    family(&o, "keel_update_keyring_rotations_total", "counter",
           "Keyring rotations since the node started.");
    emit(&o, "keel_update_keyring_rotations_total %" PRIu32 "\n",
         a->keyring_rotations);
    if (bc == NULL)
        return;
    family(&o, "keel_update_antirollback_floor", "gauge",
           "The anti-rollback counter in boot control.");
    emit(&o, "keel_update_antirollback_floor %" PRIu64 "\n", bc->arb);
    family(&o, "keel_update_slot_info", "gauge",
           "Each slot's state, version and last result (value 1).");
    for (int s = 0; s < 2; s++) {
        const struct bc_slot *x = &bc->slot[s];

        emit(&o,
             "keel_update_slot_info{slot=\"%c\",state=\"%s\",version=\"%" PRIu32
             ".%" PRIu32 ".%" PRIu32 "\",result=\"%s\"} 1\n",
             slot_name(s), slot_state_name(x->state), x->version.major,
             x->version.minor, x->version.patch, upd_reason_name(x->result));
    }
    family(&o, "keel_update_slot_tries", "gauge",
           "Trial boots left for each slot.");
    for (int s = 0; s < 2; s++)
        emit(&o, "keel_update_slot_tries{slot=\"%c\"} %u\n", slot_name(s),
             bc->slot[s].tries);
}
