/*
 * update/audit.h - why an update was refused, counted per reason; what
 * changed in boot control, logged.
 *
 * Every refusal of a bundle or a signed keyring, every slot state change
 * and every rise of the anti-rollback counter becomes an event: it is
 * logged (one line, through the log callback), counted, and kept in a
 * ring of the last UPD_AUDIT_RING events.  Counters live in RAM and
 * count since the node started, as Prometheus counters do; refusals are
 * never written to flash (a refused bundle writes nothing, and a peer
 * that sends garbage must not wear the flash).  What must survive a
 * reboot is each slot's last result, kept in boot control (bc_slot's
 * result, one of the codes below), so `update status` can say why a slot
 * is what it is, keel-boot's decisions included.
 *
 * The reason codes are stored on flash: never renumber them, only add.
 * docs/FORMAT.md lists them; docs/CONSOLE.md gives the metric names.
 */
#ifndef UPDATE_AUDIT_H
#define UPDATE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "update/bootctl.h"

/* code, name: outcomes first (1..7), then the refusals (8..28), then
 * outcomes added later (29..30), then refusals again (31..): append
 * only (docs/FORMAT.md lists them). */
#define UPD_REASONS(X)                                                         \
    X(UPD_R_NONE, "none")                                                      \
    X(UPD_R_INSTALLING, "installing")                                          \
    X(UPD_R_INSTALLED, "installed")                                            \
    X(UPD_R_TRIAL_BOOT, "trial_boot")                                          \
    X(UPD_R_CONFIRMED, "confirmed")                                            \
    X(UPD_R_ROLLED_BACK, "rolled_back")                                        \
    X(UPD_R_TRIAL_EXHAUSTED, "trial_exhausted")                                \
    X(UPD_R_BOOT_VERIFY, "boot_verify")                                        \
    X(UPD_R_TRUNCATED, "truncated")                                            \
    X(UPD_R_BAD_HEADER, "bad_header")                                          \
    X(UPD_R_BAD_MANIFEST, "bad_manifest")                                      \
    X(UPD_R_BAD_SIGNATURE, "bad_signature")                                    \
    X(UPD_R_UNKNOWN_KEY, "unknown_key")                                        \
    X(UPD_R_DUPLICATE_KEY, "duplicate_key")                                    \
    X(UPD_R_TOO_FEW_SIGNATURES, "too_few_signatures")                          \
    X(UPD_R_NO_KEYRING, "no_keyring")                                          \
    X(UPD_R_KEYRING_EXPIRED, "keyring_expired")                                \
    X(UPD_R_CLOCK_UNSET, "clock_unset")                                        \
    X(UPD_R_BAD_ROTATION, "bad_rotation")                                      \
    X(UPD_R_WRONG_BOARD, "wrong_board")                                        \
    X(UPD_R_COUNTER_ROLLBACK, "counter_rollback")                              \
    X(UPD_R_VERSION_DOWNGRADE, "version_downgrade")                            \
    X(UPD_R_TRIAL_PENDING, "trial_pending")                                    \
    X(UPD_R_TOO_LARGE, "too_large")                                            \
    X(UPD_R_CHUNK_HASH, "chunk_hash")                                          \
    X(UPD_R_READBACK, "readback")                                              \
    X(UPD_R_CANCELLED, "cancelled")                                            \
    X(UPD_R_FLASH_ERROR, "flash_error")                                        \
    X(UPD_R_KEYRING_ROLLBACK, "keyring_rollback")                              \
    X(UPD_R_BOOT_UNPACK, "boot_unpack")                                        \
    X(UPD_R_RECOVERED, "recovered")                                            \
    X(UPD_R_QUARANTINED, "quarantined")

#define UPD_R_ENUM(code, name) code,
enum upd_reason { UPD_REASONS(UPD_R_ENUM) UPD_R_COUNT };
#undef UPD_R_ENUM

#define UPD_R_FIRST_REFUSAL UPD_R_TRUNCATED

/* A refusal (counted, and a label of keel_update_rejected_total), not an
 * outcome: from UPD_R_FIRST_REFUSAL on, except the outcomes appended
 * after the refusals. */
static inline int
upd_reason_refusal(int reason)
{
    return reason >= UPD_R_FIRST_REFUSAL && reason < UPD_R_COUNT &&
           reason != UPD_R_BOOT_UNPACK && reason != UPD_R_RECOVERED;
}

/* "bad_signature", ...; "unknown" for a code out of range. */
const char *upd_reason_name(int reason);

enum upd_event_kind {
    UPD_EV_REFUSED = 1, /* reason, why */
    UPD_EV_SLOT,        /* slot, from -> to state, reason */
    UPD_EV_COUNTER,     /* anti-rollback counter a -> b */
    UPD_EV_KEYRING,     /* keyring version a -> b */
};

#define UPD_AUDIT_RING 32
#define UPD_AUDIT_WHY 120

struct upd_event {
    int64_t time; /* wall clock, seconds */
    uint8_t kind, slot, from, to, reason;
    uint64_t a, b;
    char why[UPD_AUDIT_WHY];
};

struct upd_audit {
    uint32_t refused[UPD_R_COUNT];     /* per reason */
    uint32_t entered[2][SLOT_BAD + 1]; /* per slot, per state entered */
    uint32_t counter_raises, keyring_rotations;
    uint32_t nevents; /* ever; the ring holds the last UPD_AUDIT_RING */
    struct upd_event ring[UPD_AUDIT_RING];
    void (*log)(void *arg, const char *line); /* may be NULL */
    void *log_arg;
};

void upd_audit_refused(struct upd_audit *a, int reason, const char *why);
/* The events between two boot control records: slot states entered (with
 * each slot's result as the reason) and a rise of the counter. */
void upd_audit_bootctl(struct upd_audit *a, const struct bootctl *before,
                       const struct bootctl *after);
void upd_audit_keyring(struct upd_audit *a, uint32_t from, uint32_t to);

/* The i-th newest event (0 = newest), or NULL. */
const struct upd_event *upd_audit_event(const struct upd_audit *a, uint32_t i);
/* One line, no newline: "refused bad_signature: ...". */
void upd_audit_text(const struct upd_event *e, char *buf, size_t cap);

/* The counters in Prometheus' text exposition format, one write per
 * line; bc (may be NULL) adds the gauges of boot control. */
void upd_audit_metrics(const struct upd_audit *a, const struct bootctl *bc,
                       void (*write)(void *arg, const char *line), void *arg);

#endif
