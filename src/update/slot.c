/*
 * update/slot.c - an update slot: header bytes, checks, state changes
 * (see slot.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "lib/crc32c.h"
#include "lib/le.h"
#include "update/audit.h"
#include "update/update.h"

static int
bad(const char **why, const char *w)
{
    *why = w;
    return -EBADMSG;
}

/* ---- slot layout ---------------------------------------------------- */

uint32_t
upd_slot_payload_off(uint32_t erase_size, uint32_t manifest_len)
{
    uint32_t a = erase_size > UPD_SLOT_HDR ? erase_size : UPD_SLOT_HDR;

    return (UPD_SLOT_HDR + manifest_len + a - 1) / a * a;
}

int
upd_slot_fits(uint64_t slot_size, uint32_t erase_size, uint32_t manifest_len,
              uint64_t payload_size)
{
    uint64_t po = upd_slot_payload_off(erase_size, manifest_len);

    return po <= slot_size && payload_size <= slot_size - po;
}

/* ---- slot header ---------------------------------------------------- */

static const char slot_magic[4] = {'K', 'S', 'L', 'T'};

void
upd_slot_hdr_encode(const struct upd_slot_hdr *h, uint8_t out[UPD_SLOT_HDR_LEN])
{
    memset(out, 0, UPD_SLOT_HDR_LEN);
    memcpy(out, slot_magic, 4);
    lib_put32(out + 4, h->manifest_len);
    lib_put32(out + 8, h->payload_off);
    lib_put32(out + 12, h->sigs_len);
    lib_put64(out + 16, h->payload_size);
    lib_put32(out + 24, lib_crc32c(0, out, 24));
}

int
upd_slot_hdr_decode(const uint8_t p[UPD_SLOT_HDR_LEN], struct upd_slot_hdr *h,
                    const char **why)
{
    *why = "";
    if (memcmp(p, slot_magic, 4) != 0)
        return bad(why, "no slot header (bad magic)");
    if (lib_crc32c(0, p, 24) != lib_le32(p + 24))
        return bad(why, "slot header checksum mismatch");
    if (!lib_bytes_zero(p + 28, 4))
        return bad(why, "slot header reserved bytes not zero");
    h->manifest_len = lib_le32(p + 4);
    h->payload_off = lib_le32(p + 8);
    h->sigs_len = lib_le32(p + 12);
    h->payload_size = lib_le64(p + 16);
    if (h->manifest_len < UPD_MANIFEST_MIN ||
        h->manifest_len > UPD_MANIFEST_MAX)
        return bad(why, "slot header: manifest length out of range");
    if (h->sigs_len % UPD_SIG_LEN != 0 || h->sigs_len > UPD_SLOT_SIGS_MAX)
        return bad(why, "slot header: signature length out of range");
    if (h->payload_size == 0 || h->payload_size > UPD_PAYLOAD_MAX)
        return bad(why, "slot header: payload size out of range");
    return 0;
}

uint32_t
upd_slot_payload_off_in(const struct hal_flash *f, uint32_t manifest_len)
{
    return upd_slot_payload_off(f->erase_size, manifest_len);
}

/* ---- slot check ----------------------------------------------------- */

_Static_assert(UPD_SLOT_SIGS_OFF + UPD_SLOT_SIGS_MAX <= UPD_SLOT_HDR,
               "the signature blocks fit the slot header's 4 KiB");

/* Read and decode the slot header; its lengths must fit the slot. */
static int
slot_hdr_read(const struct hal_flash *slot, struct upd_slot_hdr *sh, char *why,
              size_t wcap)
{
    uint8_t hdr[UPD_SLOT_HDR_LEN];
    const char *w;

    if (hal_flash_read(slot, 0, hdr, sizeof(hdr)) != 0) {
        snprintf(why, wcap, "slot header unreadable");
        return -EIO;
    }
    if (upd_slot_hdr_decode(hdr, sh, &w) != 0) {
        snprintf(why, wcap, "%s", w);
        return -EBADMSG;
    }
    if (sh->payload_off != upd_slot_payload_off_in(slot, sh->manifest_len) ||
        sh->payload_off > slot->size ||
        sh->payload_size > slot->size - sh->payload_off) {
        snprintf(why, wcap, "slot header lengths do not fit the slot");
        return -EBADMSG;
    }
    return 0;
}

/* Every chunk of the payload at po against the manifest's hashes. */
static int
slot_chunks_check(const struct hal_flash *slot, const struct upd_manifest *m,
                  uint32_t po, struct upd_work *w, char *why, size_t wcap)
{
    uint64_t off = 0;
    uint8_t h[32];

    for (uint32_t i = 0; i < m->nchunks; i++) {
        uint32_t len = upd_chunk_len(m, i);

        if (hal_flash_read(slot, po + off, w->chunk, len) != 0) {
            snprintf(why, wcap, "chunk %" PRIu32 " unreadable", i);
            return -EIO;
        }
        crypto_sha256(w->chunk, len, h);
        if (crypto_ct_diff(h, m->chunk_hash + (size_t)i * 32, 32) != 0) {
            snprintf(why, wcap,
                     "chunk %" PRIu32 " of %" PRIu32 " does not match its hash",
                     i, m->nchunks);
            return -EBADMSG;
        }
        off += len;
    }
    return 0;
}

int
update_slot_verify(const struct hal_flash *slot, const struct bc_slot *bs,
                   struct upd_work *wk, char *why, size_t wcap)
{
    struct upd_slot_hdr sh;
    struct upd_manifest m;
    const char *w;
    uint8_t h[32];
    int rc;

    rc = slot_hdr_read(slot, &sh, why, wcap);
    if (rc != 0)
        return rc;
    if (sh.manifest_len != bs->manifest_len ||
        sh.payload_size != bs->payload_size) {
        snprintf(why, wcap, "slot header does not match boot control");
        return -EBADMSG;
    }
    if (hal_flash_read(slot, UPD_SLOT_HDR, wk->man, sh.manifest_len) != 0) {
        snprintf(why, wcap, "manifest unreadable");
        return -EIO;
    }
    crypto_sha256(wk->man, sh.manifest_len, h);
    if (crypto_ct_diff(h, bs->manifest_hash, 32) != 0) {
        snprintf(why, wcap, "manifest hash differs from boot control");
        return -EBADMSG;
    }
    if (upd_manifest_decode(wk->man, sh.manifest_len, &m, &w) != 0 ||
        m.payload_size != bs->payload_size || m.chunk_size > UPD_CHUNK_BUF) {
        snprintf(why, wcap, "manifest in slot invalid: %s", w);
        return -EBADMSG;
    }
    rc = slot_chunks_check(slot, &m, sh.payload_off, wk, why, wcap);
    return rc == 0 ? UPD_VERIFIED : rc;
}

int
update_slot_verify_signed(const struct hal_flash *slot,
                          const struct upd_keyring *k, const char *board,
                          uint64_t floor, struct upd_slot_info *info,
                          struct upd_work *wk, char *why, size_t wcap)
{
    struct upd_slot_hdr sh;
    struct upd_manifest m;
    const char *w;
    char wb[120];
    uint8_t h[32];
    int rc, n, cnt, unknown, fits = 0;

    rc = slot_hdr_read(slot, &sh, why, wcap);
    if (rc != 0)
        return rc;
    if (hal_flash_read(slot, UPD_SLOT_HDR, wk->man, sh.manifest_len) != 0) {
        snprintf(why, wcap, "manifest unreadable");
        return -EIO;
    }
    if (upd_manifest_decode(wk->man, sh.manifest_len, &m, &w) != 0 ||
        m.payload_size != sh.payload_size || m.chunk_size > UPD_CHUNK_BUF) {
        snprintf(why, wcap, "manifest in slot invalid%s%s", *w ? ": " : "", w);
        return -EBADMSG;
    }
    if (sh.sigs_len == 0) {
        snprintf(why, wcap,
                 "no signatures kept in the slot (written by an older "
                 "build)");
        return -ENODATA;
    }
    if (hal_flash_read(slot, UPD_SLOT_SIGS_OFF, wk->sigraw, sh.sigs_len) != 0) {
        snprintf(why, wcap, "signature blocks unreadable");
        return -EIO;
    }
    n = upd_sigs_decode(wk->sigraw, sh.sigs_len, wk->sigs, UPD_SIGS_MAX, &w);
    if (n < 0) {
        snprintf(why, wcap, "signature blocks: %s", w);
        return -EPERM;
    }
    crypto_sha256(wk->man, sh.manifest_len, h);
    cnt = upd_sigs_check(k, h, wk->sigs, n, &unknown, wb, sizeof(wb));
    if (cnt < 0) {
        snprintf(why, wcap, "%s", wb);
        return -EPERM;
    }
    if (k->threshold == 0 || cnt < k->threshold) {
        snprintf(why, wcap,
                 "needs %u signatures by keyring keys, has %d (keyring "
                 "version %" PRIu32 ")",
                 k->threshold, cnt, k->version);
        return -EPERM;
    }
    for (int i = 0; i < m.nboards; i++)
        fits |= strcmp(m.boards[i], board) == 0;
    if (!fits) {
        snprintf(why, wcap, "slot is for board '%s'%s, this is '%s'",
                 m.boards[0], m.nboards > 1 ? " (and others)" : "", board);
        return -ENODEV;
    }
    if (m.counter < floor) {
        snprintf(why, wcap,
                 "security counter %" PRIu64
                 " is below the anti-rollback floor %" PRIu64,
                 m.counter, floor);
        return -ESTALE;
    }
    rc = slot_chunks_check(slot, &m, sh.payload_off, wk, why, wcap);
    if (rc != 0)
        return rc;
    info->version = m.version;
    info->counter = m.counter;
    info->payload_size = m.payload_size;
    info->manifest_len = sh.manifest_len;
    memcpy(info->manifest_hash, h, 32);
    /* Every condition once more: one skipped branch is not a verdict. */
    if (cnt >= k->threshold && k->threshold > 0 && fits && m.counter >= floor &&
        rc == 0)
        return UPD_VERIFIED;
    snprintf(why, wcap, "verification inconsistent");
    return -EPERM;
}

void
upd_slot_set(struct bootctl *bc, int s, enum slot_state state, int reason)
{
    struct bc_slot *x = &bc->slot[s];

    x->state = (uint8_t)state;
    x->result = (uint8_t)reason;
    if (state == SLOT_READY)
        x->tries = bc->tries_max;
    else if (state == SLOT_TRIAL)
        x->tries = x->tries > 0 ? (uint8_t)(x->tries - 1) : 0;
    else
        x->tries = 0;
}
