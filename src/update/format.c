/*
 * update/format.c - canonical encoders and strict decoders for the
 * bundle header, manifest, signature blocks, keyring and slot header
 * (FORMAT.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/le.h"
#include "update/format.h"

static const char hdr_magic[8] = {'K', 'E', 'E', 'L', 'B', 'N', 'D', 'L'};
static const char man_magic[4] = {'K', 'M', 'F', '1'};
static const char kr_magic[4] = {'K', 'K', 'R', '1'};

/* The decoder's why string spells the limit out. */
_Static_assert(UPD_COUNTER_MAX == 4294967295u, "update the why string");

#define MAN_FIXED UPD_MANIFEST_MIN
#define KR_FIXED 20
#define F_KEYRING 0x01
#define F_CHECKPOINT 0x02
#define F_CK_TESTNET 0x04 /* the checkpoint is on keel's test network */

static int
bad(const char **why, const char *w)
{
    *why = w;
    return -EBADMSG;
}

/* ---- header --------------------------------------------------------- */

void
upd_header_encode(const struct upd_header *h, uint8_t out[UPD_HDR_LEN])
{
    memset(out, 0, UPD_HDR_LEN);
    memcpy(out, hdr_magic, 8);
    lib_put16(out + 8, 1);
    lib_put16(out + 10, UPD_HDR_LEN);
    lib_put32(out + 12, h->manifest_len);
    lib_put32(out + 16, h->sigs_len);
    lib_put64(out + 24, h->payload_len);
    lib_put32(out + 60, lib_crc32c(0, out, 60));
}

int
upd_header_decode(const uint8_t h[UPD_HDR_LEN], struct upd_header *out,
                  const char **why)
{
    *why = "";
    if (memcmp(h, hdr_magic, 8) != 0)
        return bad(why, "not a keel bundle (bad magic)");
    if (lib_crc32c(0, h, 60) != lib_le32(h + 60))
        return bad(why, "bundle header checksum mismatch");
    if (lib_le16(h + 8) != 1 || lib_le16(h + 10) != UPD_HDR_LEN)
        return bad(why, "unsupported bundle format version");
    if (lib_le32(h + 20) != 0 || !lib_bytes_zero(h + 32, 28))
        return bad(why, "bundle header reserved bytes not zero");
    out->manifest_len = lib_le32(h + 12);
    out->sigs_len = lib_le32(h + 16);
    out->payload_len = lib_le64(h + 24);
    if (out->manifest_len < MAN_FIXED || out->manifest_len > UPD_MANIFEST_MAX) {
        *why = "manifest length out of range";
        return -E2BIG;
    }
    if (out->sigs_len % UPD_SIG_LEN != 0 ||
        out->sigs_len / UPD_SIG_LEN > UPD_SIGS_MAX) {
        *why = "signature section length out of range";
        return -E2BIG;
    }
    if (out->payload_len == 0 || out->payload_len > UPD_PAYLOAD_MAX) {
        *why = "payload length out of range";
        return -E2BIG;
    }
    return 0;
}

/* ---- keyring -------------------------------------------------------- */

void
upd_key_id(const uint8_t spki[CRYPTO_SPKI_LEN], uint8_t id[32])
{
    crypto_sha256(spki, CRYPTO_SPKI_LEN, id);
}

int
upd_keyring_find(const struct upd_keyring *k, const uint8_t id[32])
{
    for (int i = 0; i < k->nkeys; i++)
        if (memcmp(k->id[i], id, 32) == 0)
            return i;
    return -ENOENT;
}

int
upd_keyring_encode(const struct upd_keyring *k, uint8_t *out, size_t cap)
{
    int order[UPD_KEYS_MAX];
    uint8_t ids[UPD_KEYS_MAX][32];
    size_t len = KR_FIXED + (size_t)k->nkeys * CRYPTO_SPKI_LEN;

    if (k->nkeys == 0 || k->nkeys > UPD_KEYS_MAX || k->threshold == 0 ||
        k->threshold > k->nkeys || k->version == 0 || k->expires < 0)
        return -EINVAL;
    if (len > cap)
        return -ENOBUFS;
    /* Sort by key id (insertion sort; at most 16 keys). */
    for (int i = 0; i < k->nkeys; i++) {
        int j = i;

        upd_key_id(k->spki[i], ids[i]);
        while (j > 0 && memcmp(ids[order[j - 1]], ids[i], 32) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (int i = 1; i < k->nkeys; i++)
        if (memcmp(ids[order[i - 1]], ids[order[i]], 32) == 0)
            return -EINVAL; /* the same key twice */
    memset(out, 0, KR_FIXED);
    memcpy(out, kr_magic, 4);
    lib_put32(out + 4, k->version);
    out[8] = k->threshold;
    out[9] = k->nkeys;
    lib_put64(out + 12, (uint64_t)k->expires);
    for (int i = 0; i < k->nkeys; i++)
        memcpy(out + KR_FIXED + (size_t)i * CRYPTO_SPKI_LEN, k->spki[order[i]],
               CRYPTO_SPKI_LEN);
    return (int)len;
}

int
upd_keyring_decode(const uint8_t *p, size_t len, struct upd_keyring *k,
                   const char **why)
{
    *why = "";
    if (len < KR_FIXED || memcmp(p, kr_magic, 4) != 0)
        return bad(why, "not a keyring (bad magic or too short)");
    k->version = lib_le32(p + 4);
    k->threshold = p[8];
    k->nkeys = p[9];
    k->expires = (int64_t)lib_le64(p + 12);
    if (k->nkeys == 0 || k->nkeys > UPD_KEYS_MAX) {
        *why = "keyring key count out of range";
        return -E2BIG;
    }
    if (len != KR_FIXED + (size_t)k->nkeys * CRYPTO_SPKI_LEN)
        return bad(why, "keyring length does not match its key count");
    if (k->version == 0 || k->threshold == 0 || k->threshold > k->nkeys ||
        p[10] != 0 || p[11] != 0 || k->expires < 0)
        return bad(why, "keyring version, threshold or reserved bytes "
                        "invalid");
    for (int i = 0; i < k->nkeys; i++) {
        const uint8_t *s = p + KR_FIXED + (size_t)i * CRYPTO_SPKI_LEN;
        uint8_t pub[CRYPTO_EC_PUB_LEN];

        if (crypto_spki_decode(s, CRYPTO_SPKI_LEN, pub) != 0)
            return bad(why, "keyring holds a key that is not P-256");
        memcpy(k->spki[i], s, CRYPTO_SPKI_LEN);
        upd_key_id(s, k->id[i]);
        if (i > 0 && memcmp(k->id[i - 1], k->id[i], 32) >= 0)
            return bad(why, "keyring keys not in canonical order (sorted "
                            "by id, no duplicates)");
    }
    return 0;
}

/* ---- manifest ------------------------------------------------------- */

static int
board_ok(const char *b, size_t n)
{
    if (n == 0 || n > UPD_BOARD_LEN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_'))
            return 0;
    }
    return 1;
}

static int
board_cmp(const char *a, const char *b)
{
    return strcmp(a, b);
}

int
upd_manifest_encode(const struct upd_manifest *m, uint8_t *out, size_t cap)
{
    size_t n = MAN_FIXED;
    uint64_t want;

    if (m->nboards == 0 || m->nboards > UPD_BOARDS_MAX ||
        m->chunk_size < UPD_CHUNK_MIN || m->chunk_size > UPD_CHUNK_MAX ||
        (m->chunk_size & (m->chunk_size - 1)) != 0 || m->payload_size == 0 ||
        m->payload_size > UPD_PAYLOAD_MAX || m->created < 0 ||
        m->counter > UPD_COUNTER_MAX)
        return -EINVAL;
    want = (m->payload_size + m->chunk_size - 1) / m->chunk_size;
    if (m->nchunks != want || want > UPD_CHUNKS_MAX)
        return -EINVAL;
    for (int i = 0; i < m->nboards; i++) {
        if (!board_ok(m->boards[i], strlen(m->boards[i])) ||
            (i > 0 && board_cmp(m->boards[i - 1], m->boards[i]) >= 0))
            return -EINVAL;
        n += 1 + strlen(m->boards[i]);
    }
    n += (size_t)m->nchunks * 32;
    if (m->keyring != NULL)
        n += 4 + m->keyring_len;
    if (m->checkpoint != NULL)
        n += UPD_CHECKPOINT_LEN;
    if (n > UPD_MANIFEST_MAX)
        return -EINVAL;
    if (n > cap)
        return -ENOBUFS;
    memset(out, 0, MAN_FIXED);
    memcpy(out, man_magic, 4);
    out[4] = 1;
    out[5] = (uint8_t)((m->keyring ? F_KEYRING : 0) |
                       (m->checkpoint ? F_CHECKPOINT : 0) |
                       (m->checkpoint && m->checkpoint_net == UPD_NET_TESTNET
                            ? F_CK_TESTNET
                            : 0));
    out[6] = m->nboards;
    lib_put32(out + 8, m->version.major);
    lib_put32(out + 12, m->version.minor);
    lib_put32(out + 16, m->version.patch);
    lib_put64(out + 20, m->counter);
    lib_put64(out + 28, (uint64_t)m->created);
    lib_put64(out + 36, m->payload_size);
    lib_put32(out + 44, m->chunk_size);
    lib_put32(out + 48, m->nchunks);
    n = MAN_FIXED;
    for (int i = 0; i < m->nboards; i++) {
        size_t l = strlen(m->boards[i]);

        out[n++] = (uint8_t)l;
        memcpy(out + n, m->boards[i], l);
        n += l;
    }
    memcpy(out + n, m->chunk_hash, (size_t)m->nchunks * 32);
    n += (size_t)m->nchunks * 32;
    if (m->keyring != NULL) {
        lib_put32(out + n, m->keyring_len);
        memcpy(out + n + 4, m->keyring, m->keyring_len);
        n += 4 + m->keyring_len;
    }
    if (m->checkpoint != NULL) {
        memcpy(out + n, m->checkpoint, UPD_CHECKPOINT_LEN);
        n += UPD_CHECKPOINT_LEN;
    }
    return (int)n;
}

int
upd_manifest_decode(const uint8_t *p, size_t len, struct upd_manifest *m,
                    const char **why)
{
    size_t n = MAN_FIXED;
    uint64_t want;
    uint8_t fl;

    *why = "";
    memset(m, 0, sizeof(*m));
    if (len > UPD_MANIFEST_MAX) {
        *why = "manifest too large";
        return -E2BIG;
    }
    if (len < MAN_FIXED || memcmp(p, man_magic, 4) != 0)
        return bad(why, "not a manifest (bad magic or too short)");
    fl = p[5];
    if (p[4] != 1)
        return bad(why, "unsupported manifest version");
    if ((fl & ~(F_KEYRING | F_CHECKPOINT | F_CK_TESTNET)) != 0 || p[7] != 0 ||
        ((fl & F_CK_TESTNET) && !(fl & F_CHECKPOINT)))
        return bad(why, "manifest has unknown flags or reserved bytes set");
    m->nboards = p[6];
    if (m->nboards == 0 || m->nboards > UPD_BOARDS_MAX)
        return bad(why, "manifest board count out of range");
    m->version.major = lib_le32(p + 8);
    m->version.minor = lib_le32(p + 12);
    m->version.patch = lib_le32(p + 16);
    m->counter = lib_le64(p + 20);
    m->created = (int64_t)lib_le64(p + 28);
    m->payload_size = lib_le64(p + 36);
    m->chunk_size = lib_le32(p + 44);
    m->nchunks = lib_le32(p + 48);
    if (m->created < 0)
        return bad(why, "manifest creation time negative");
    if (m->counter > UPD_COUNTER_MAX) {
        *why = "security counter above 4294967295 (UPD_COUNTER_MAX)";
        return -E2BIG;
    }
    if (m->chunk_size < UPD_CHUNK_MIN || m->chunk_size > UPD_CHUNK_MAX ||
        (m->chunk_size & (m->chunk_size - 1)) != 0)
        return bad(why, "chunk size not a power of two from 4 KiB to 1 MiB");
    if (m->payload_size == 0 || m->payload_size > UPD_PAYLOAD_MAX) {
        *why = "payload size out of range";
        return -E2BIG;
    }
    want = (m->payload_size + m->chunk_size - 1) / m->chunk_size;
    if (m->nchunks != want)
        return bad(why, "chunk count does not match payload and chunk size");
    if (want > UPD_CHUNKS_MAX) {
        *why = "too many chunks";
        return -E2BIG;
    }
    for (int i = 0; i < m->nboards; i++) {
        size_t l;

        if (n + 1 > len)
            return bad(why, "manifest truncated in the board list");
        l = p[n];
        if (n + 1 + l > len || !board_ok((const char *)p + n + 1, l))
            return bad(why, "bad board name (1-31 of a-z 0-9 - _)");
        memcpy(m->boards[i], p + n + 1, l);
        m->boards[i][l] = '\0';
        if (i > 0 && board_cmp(m->boards[i - 1], m->boards[i]) >= 0)
            return bad(why, "board names not in canonical order (sorted, "
                            "no duplicates)");
        n += 1 + l;
    }
    if ((uint64_t)len - n < (uint64_t)m->nchunks * 32)
        return bad(why, "manifest truncated in the chunk hashes");
    m->chunk_hash = p + n;
    n += (size_t)m->nchunks * 32;
    if (fl & F_KEYRING) {
        struct upd_keyring kr;
        const char *w;

        if (n + 4 > len)
            return bad(why, "manifest truncated before its keyring");
        m->keyring_len = lib_le32(p + n);
        if (m->keyring_len > UPD_KEYRING_MAX || n + 4 + m->keyring_len > len)
            return bad(why, "manifest keyring length out of range");
        m->keyring = p + n + 4;
        if (upd_keyring_decode(m->keyring, m->keyring_len, &kr, &w) != 0)
            return bad(why, "the manifest's new keyring is malformed");
        n += 4 + m->keyring_len;
    }
    if (fl & F_CHECKPOINT) {
        if (n + UPD_CHECKPOINT_LEN > len)
            return bad(why, "manifest truncated in its checkpoint");
        m->checkpoint = p + n;
        m->checkpoint_net =
            (fl & F_CK_TESTNET) ? UPD_NET_TESTNET : UPD_NET_MAINNET;
        n += UPD_CHECKPOINT_LEN;
    }
    if (n != len)
        return bad(why, "manifest has trailing bytes (not canonical)");
    return 0;
}

/* ---- signatures ----------------------------------------------------- */

void
upd_sig_encode(const struct upd_sig *s, uint8_t out[UPD_SIG_LEN])
{
    memset(out, 0, UPD_SIG_LEN);
    memcpy(out, s->key_id, 32);
    out[32] = s->len;
    memcpy(out + 33, s->der, s->len);
}

int
upd_sigs_decode(const uint8_t *p, size_t len, struct upd_sig *sigs, int cap,
                const char **why)
{
    int n = (int)(len / UPD_SIG_LEN);

    *why = "";
    if (len % UPD_SIG_LEN != 0)
        return bad(why, "signature section length not a multiple of 105");
    if (n > cap || n > UPD_SIGS_MAX) {
        *why = "too many signatures";
        return -E2BIG;
    }
    for (int i = 0; i < n; i++) {
        const uint8_t *b = p + (size_t)i * UPD_SIG_LEN;

        memcpy(sigs[i].key_id, b, 32);
        sigs[i].len = b[32];
        if (sigs[i].len < 8 || sigs[i].len > CRYPTO_SIG_MAX ||
            !lib_bytes_zero(b + 33 + sigs[i].len, CRYPTO_SIG_MAX - sigs[i].len))
            return bad(why, "malformed signature block");
        memcpy(sigs[i].der, b + 33, sigs[i].len);
    }
    return n;
}

int
upd_sigs_check(const struct upd_keyring *k, const uint8_t h[32],
               const struct upd_sig *sigs, int n, int *unknown, char *whybuf,
               size_t wcap)
{
    uint32_t seen = 0;
    int count = 0;

    *unknown = 0;
    for (int i = 0; i < n; i++) {
        int ki = upd_keyring_find(k, sigs[i].key_id);
        uint8_t pub[CRYPTO_EC_PUB_LEN];

        if (ki < 0) {
            (*unknown)++;
            continue;
        }
        if (seen & (1u << ki)) {
            snprintf(whybuf, wcap, "key %02x%02x%02x%02x signed twice",
                     sigs[i].key_id[0], sigs[i].key_id[1], sigs[i].key_id[2],
                     sigs[i].key_id[3]);
            return -EEXIST;
        }
        seen |= 1u << ki;
        if (crypto_spki_decode(k->spki[ki], CRYPTO_SPKI_LEN, pub) != 0 ||
            crypto_ec_verify(pub, h, sigs[i].der, sigs[i].len) !=
                CRYPTO_VERIFIED) {
            snprintf(whybuf, wcap,
                     "signature by key %02x%02x%02x%02x does not verify "
                     "(manifest or signature altered)",
                     sigs[i].key_id[0], sigs[i].key_id[1], sigs[i].key_id[2],
                     sigs[i].key_id[3]);
            return -EBADMSG;
        }
        count++;
    }
    return count;
}

int
upd_skr_decode(const uint8_t *p, size_t len, const uint8_t **kr,
               uint32_t *krlen, struct upd_sig *sigs, int cap, const char **why)
{
    struct upd_keyring k;
    uint32_t l;

    *why = "";
    if (len > UPD_SKR_MAX) {
        *why = "signed keyring too large";
        return -E2BIG;
    }
    if (len < 8 || memcmp(p, "KSK1", 4) != 0)
        return bad(why, "not a signed keyring (bad magic)");
    l = lib_le32(p + 4);
    if (l > len - 8 || l > UPD_KEYRING_MAX)
        return bad(why, "signed keyring truncated");
    if (upd_keyring_decode(p + 8, l, &k, why) != 0)
        return -EBADMSG;
    *kr = p + 8;
    *krlen = l;
    return upd_sigs_decode(p + 8 + l, len - 8 - l, sigs, cap, why);
}

int
upd_version_cmp(const struct upd_version *a, const struct upd_version *b)
{
    if (a->major != b->major)
        return a->major < b->major ? -1 : 1;
    if (a->minor != b->minor)
        return a->minor < b->minor ? -1 : 1;
    if (a->patch != b->patch)
        return a->patch < b->patch ? -1 : 1;
    return 0;
}

uint32_t
upd_chunk_len(const struct upd_manifest *m, uint32_t i)
{
    uint64_t off = (uint64_t)i * m->chunk_size;

    return (uint32_t)(m->payload_size - off < m->chunk_size
                          ? m->payload_size - off
                          : m->chunk_size);
}
