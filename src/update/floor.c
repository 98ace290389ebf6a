/*
 * update/floor.c - the trust floor (see floor.h).
 */
#include <errno.h>
#include <string.h>

#include "lib/le.h"
#include "update/bootctl.h"
#include "update/floor.h"

static const char floor_magic[4] = {'K', 'T', 'F', '1'};

void
upd_floor_encode(const struct upd_floor *f, uint8_t out[UPD_FLOOR_LEN])
{
    memcpy(out, floor_magic, 4);
    lib_put32(out + 4, f->keyring_version);
    lib_put64(out + 8, f->arb);
    memcpy(out + 16, f->keyring_hash, 32);
}

int
upd_floor_decode(const uint8_t *p, size_t len, struct upd_floor *f)
{
    if (len != UPD_FLOOR_LEN || memcmp(p, floor_magic, 4) != 0)
        return -EBADMSG;
    f->keyring_version = lib_le32(p + 4);
    f->arb = lib_le64(p + 8);
    memcpy(f->keyring_hash, p + 16, 32);
    return 0;
}

/* Fold source g into f: each field to its maximum; the keyring hash
 * goes with the highest version. */
static void
fold(struct upd_floor *f, const struct upd_floor *g, unsigned src)
{
    /* boot control carries no keyring: compare its counter only */
    int kr = src != UPD_FLOOR_SRC_BOOT && !(f->from == UPD_FLOOR_SRC_BOOT);

    if (f->from != 0 &&
        (g->arb < f->arb || (kr && g->keyring_version < f->keyring_version)))
        f->behind |= src;
    if (f->from != 0 &&
        (g->arb > f->arb || (kr && g->keyring_version > f->keyring_version)))
        f->behind |= f->from;
    if (g->arb > f->arb)
        f->arb = g->arb;
    if (g->keyring_version > f->keyring_version) {
        f->keyring_version = g->keyring_version;
        memcpy(f->keyring_hash, g->keyring_hash, 32);
    }
    f->from |= src;
}

int
upd_floor_load(struct ctl *ctl, struct store *st, struct upd_floor *f)
{
    uint8_t b[UPD_FLOOR_LEN + 1];
    struct upd_floor g;
    int n;

    memset(f, 0, sizeof(*f));
    if (ctl != NULL && ctl->f != NULL && ctl->newest >= 0) {
        uint8_t kb[BOOTCTL_LEN + 1];
        struct bootctl bc;

        n = ctl_get(ctl, CTL_TAG_TRUST, b, sizeof(b));
        if (n >= 0 && upd_floor_decode(b, (size_t)n, &g) == 0)
            fold(f, &g, UPD_FLOOR_SRC_CTL);
        else if (n != -ENOENT)
            f->damaged |= UPD_FLOOR_SRC_CTL;
        /* boot control's own counter, as stored */
        n = ctl_get(ctl, CTL_TAG_BOOT, kb, sizeof(kb));
        if (n >= 0 && bootctl_decode(kb, (size_t)n, &bc) == 0) {
            memset(&g, 0, sizeof(g));
            g.arb = bc.arb;
            fold(f, &g, UPD_FLOOR_SRC_BOOT);
        } else if (n != -ENOENT) {
            f->damaged |= UPD_FLOOR_SRC_BOOT;
        }
    }
    if (st != NULL) {
        n = store_get(st, UPD_KEY_FLOOR, b, sizeof(b));
        if (n >= 0 && upd_floor_decode(b, (size_t)n, &g) == 0)
            fold(f, &g, UPD_FLOOR_SRC_STORE);
        else if (n != -ENOENT)
            f->damaged |= UPD_FLOOR_SRC_STORE;
    }
    return f->damaged ? -EBADMSG : 0;
}

int
upd_floor_raise(struct ctl *ctl, struct store *st, const struct upd_floor *f)
{
    struct upd_floor cur;
    uint8_t b[UPD_FLOOR_LEN], back[UPD_FLOOR_LEN + 1];
    int rc = 0, n;

    (void)upd_floor_load(ctl, st, &cur);
    if (f->arb > cur.arb)
        cur.arb = f->arb;
    if (f->keyring_version > cur.keyring_version) {
        cur.keyring_version = f->keyring_version;
        memcpy(cur.keyring_hash, f->keyring_hash, 32);
    }
    upd_floor_encode(&cur, b);
    if (ctl != NULL && ctl->f != NULL) {
        n = ctl_get(ctl, CTL_TAG_TRUST, back, sizeof(back));
        if (n != UPD_FLOOR_LEN || memcmp(back, b, UPD_FLOOR_LEN) != 0)
            rc = ctl_put(ctl, CTL_TAG_TRUST, b, sizeof(b));
        if (rc != 0)
            return rc;
    }
    if (st != NULL) {
        n = store_get(st, UPD_KEY_FLOOR, back, sizeof(back));
        if (n != UPD_FLOOR_LEN || memcmp(back, b, UPD_FLOOR_LEN) != 0)
            rc = store_put(st, UPD_KEY_FLOOR, b, sizeof(b));
    }
    return rc;
}
