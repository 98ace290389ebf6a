/*
 * update/bootctl.c - the boot control record in the control block.
 */
#include <errno.h>
#include <string.h>

#include "lib/le.h"
#include "update/audit.h"
#include "update/bootctl.h"
#include "update/floor.h"

static const char bc_magic[4] = {'K', 'B', 'C', '1'};

#define BC_SLOT0 16
#define BC_SLOT_LEN 72

const char *
slot_state_name(int state)
{
    static const char *const n[] = {"empty", "installing", "ready",
                                    "trial", "good",       "bad"};

    return state >= 0 && state <= SLOT_BAD ? n[state] : "unknown";
}

char
slot_name(int s)
{
    return s == 0 ? 'a' : 'b';
}

void
bootctl_encode(const struct bootctl *bc, uint8_t out[BOOTCTL_LEN])
{
    memset(out, 0, BOOTCTL_LEN);
    memcpy(out, bc_magic, 4);
    out[4] = 1;
    out[5] = bc->primary;
    out[6] = bc->tries_max;
    lib_put64(out + 8, bc->arb);
    for (int i = 0; i < 2; i++) {
        const struct bc_slot *s = &bc->slot[i];
        uint8_t *p = out + BC_SLOT0 + i * BC_SLOT_LEN;

        p[0] = s->state;
        p[1] = s->tries;
        p[2] = s->result;
        lib_put32(p + 4, s->version.major);
        lib_put32(p + 8, s->version.minor);
        lib_put32(p + 12, s->version.patch);
        lib_put64(p + 16, s->counter);
        lib_put64(p + 24, s->payload_size);
        lib_put32(p + 32, s->manifest_len);
        memcpy(p + 40, s->manifest_hash, 32);
    }
}

int
bootctl_decode(const uint8_t *p, size_t len, struct bootctl *bc)
{
    if (len != BOOTCTL_LEN || memcmp(p, bc_magic, 4) != 0 || p[4] != 1 ||
        (p[5] > 1 && p[5] != BOOTCTL_NONE) || p[6] == 0 ||
        p[6] > BOOTCTL_TRIES_MAX || p[7] != 0)
        return -EBADMSG;
    bc->primary = p[5];
    bc->tries_max = p[6];
    bc->arb = lib_le64(p + 8);
    for (int i = 0; i < 2; i++) {
        struct bc_slot *s = &bc->slot[i];
        const uint8_t *q = p + BC_SLOT0 + i * BC_SLOT_LEN;

        if (q[0] > SLOT_BAD || q[1] > BOOTCTL_TRIES_MAX ||
            q[2] >= UPD_R_COUNT || q[3] != 0 || lib_le32(q + 36) != 0)
            return -EBADMSG; /* one encoding per record */
        s->state = q[0];
        s->tries = q[1];
        s->result = q[2];
        s->version.major = lib_le32(q + 4);
        s->version.minor = lib_le32(q + 8);
        s->version.patch = lib_le32(q + 12);
        s->counter = lib_le64(q + 16);
        s->payload_size = lib_le64(q + 24);
        s->manifest_len = lib_le32(q + 32);
        memcpy(s->manifest_hash, q + 40, 32);
    }
    return 0;
}

int
bootctl_load(struct ctl *c, struct bootctl *bc)
{
    uint8_t b[BOOTCTL_LEN];
    struct upd_floor f;
    int n = ctl_get(c, CTL_TAG_BOOT, b, sizeof(b));

    if (n == -ENOENT) {
        memset(bc, 0, sizeof(*bc));
        bc->primary = BOOTCTL_NONE;
        bc->tries_max = BOOTCTL_TRIES_DEFAULT;
    } else if (n < 0) {
        return n == -ENOBUFS ? -EBADMSG : n;
    } else if (bootctl_decode(b, (size_t)n, bc) != 0) {
        return -EBADMSG;
    }
    /* The counter never goes below the trust floor kept beside it. */
    n = ctl_get(c, CTL_TAG_TRUST, b, sizeof(b));
    if (n >= 0 && upd_floor_decode(b, (size_t)n, &f) == 0 && f.arb > bc->arb)
        bc->arb = f.arb;
    return 0;
}

int
bootctl_save(struct ctl *c, const struct bootctl *bc)
{
    uint8_t b[BOOTCTL_LEN], back[BOOTCTL_LEN];
    int rc;

    bootctl_encode(bc, b);
    rc = ctl_put(c, CTL_TAG_BOOT, b, sizeof(b));
    if (rc != 0)
        return rc;
    /* Read back what the flash now says, as the next boot will. */
    rc = ctl_mount(c, c->f);
    if (rc != 0)
        return rc == -ENOENT ? -EIO : rc;
    rc = ctl_get(c, CTL_TAG_BOOT, back, sizeof(back));
    if (rc != BOOTCTL_LEN || memcmp(back, b, BOOTCTL_LEN) != 0)
        return -EIO;
    return 0;
}

int
bootctl_bootable(const struct bootctl *bc, int s)
{
    const struct bc_slot *x = &bc->slot[s];

    return (x->state == SLOT_GOOD || x->state == SLOT_READY ||
            x->state == SLOT_TRIAL) &&
           x->counter >= bc->arb;
}
