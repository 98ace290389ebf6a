/*
 * tools/keel-bundle.c - make, sign, inspect and verify keel update
 * bundles and keyrings on a host (docs/RUNBOOK.md shows the procedures,
 * docs/FORMAT.md the bytes).
 *
 *   keel-bundle archive OUT DEST=SRC...        slot payload (KAR1)
 *   keel-bundle create --payload F --board B[,B] --version X.Y.Z
 *               --counter N [--chunk BYTES] [--keyring NEW]
 *               [--created UNIX] [--checkpoint [NET:]BNUM:BHASH:WEIGHT]
 *               -o OUT                            unsigned bundle
 *   keel-bundle sign BUNDLE --key KEY.pem         add a signature
 *   keel-bundle digest BUNDLE [--manifest OUT]    SHA-256 to sign; or the
 *               manifest bytes for `openssl dgst -sha256 -sign`
 *   keel-bundle attach-signature BUNDLE SIG.der --key PUB.pem
 *   keel-bundle inspect BUNDLE [--json]
 *   keel-bundle verify BUNDLE --keyring FILE [--board B]
 *               (--board B: also that the payload fits B's update slots;
 *               create checks this for every board it names)
 *   keel-bundle keyring create --threshold K [--version N]
 *               [--expires UNIX] -o OUT KEY.pem...
 *   keel-bundle keyring add|revoke KEYRING KEY.pem -o OUT
 *   keel-bundle keyring show KEYRING
 *   keel-bundle keyring sign KEYRING|SIGNED --key KEY.pem -o OUT
 *               a signed keyring for `update keyring` (add one signature
 *               per call; the current and the new threshold must sign)
 *
 * Exit status 0 on success, 1 on a refusal (with one line saying why),
 * 2 on a usage error: a malformed command line, or an option's value
 * that is not a number in the option's range (docs/RUNBOOK.md lists the
 * ranges).  Numbers are decimal digits only: no sign, space, base prefix,
 * leading zero or trailing byte.  The tool shares src/update/format.c
 * with the device, so what it writes is what the device reads.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "crypto/crypto.h"
#include "lib/hex.h"
#include "lib/le.h"
#include "tools/boards.h"
#include "update/archive.h"
#include "update/format.h"
#include "update/slot.h"

static const char *prog = "keel-bundle";

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* One line on stderr; returns status. */
static int
say(int status, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    return status;
}

/* A refusal: exit status 1. */
static int
die(const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = say(1, fmt, ap);
    va_end(ap);
    return rc;
}

/* A usage error that one line can explain: exit status 2. */
static int
usage_error(const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = say(2, fmt, ap);
    va_end(ap);
    return rc;
}

static int
usage(void)
{
    fprintf(stderr,
            "usage: keel-bundle archive OUT DEST=SRC...\n"
            "       keel-bundle create --payload F --board B[,B...] "
            "--version X.Y.Z --counter N\n"
            "                   [--chunk BYTES] [--keyring NEW] [--created "
            "UNIX]\n"
            "                   [--checkpoint [NET:]BNUM:BHASH:WEIGHT] -o OUT\n"
            "       keel-bundle sign BUNDLE --key KEY.pem\n"
            "       keel-bundle digest BUNDLE [--manifest OUT]\n"
            "       keel-bundle attach-signature BUNDLE SIG.der --key "
            "PUB.pem\n"
            "       keel-bundle inspect BUNDLE [--json]\n"
            "       keel-bundle verify BUNDLE --keyring FILE [--board B]\n"
            "       keel-bundle keyring create --threshold K [--version N] "
            "[--expires UNIX] -o OUT KEY.pem...\n"
            "       keel-bundle keyring add|revoke KEYRING KEY.pem -o OUT\n"
            "       keel-bundle keyring show KEYRING\n"
            "       keel-bundle keyring sign KEYRING|SIGNED --key KEY.pem "
            "-o OUT\n");
    return 2;
}

/* Read a whole file (at most max bytes) into a malloc'd buffer. */
static uint8_t *
slurp(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b;
    size_t cap = 65536, n = 0;

    if (f == NULL)
        return NULL;
    b = malloc(cap);
    while (b != NULL) {
        size_t r;

        if (n == cap) {
            uint8_t *nb;

            if (cap >= max) {
                free(b);
                b = NULL;
                errno = EFBIG;
                break;
            }
            cap = cap * 2 > max ? max : cap * 2;
            nb = realloc(b, cap);
            if (nb == NULL) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
        }
        r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (b != NULL && n == max && fgetc(f) != EOF) {
        free(b);
        b = NULL;
        errno = EFBIG;
    }
    fclose(f);
    *len = n;
    return b;
}

static int
spit(const char *path, const void *p, size_t n)
{
    char tmp[4096];
    FILE *f;
    int ok;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (f == NULL)
        return -1;
    ok = fwrite(p, 1, n, f) == n;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

static int
load_key(const char *path, struct crypto_eckey *k, int need_priv)
{
    size_t n;
    uint8_t *b = slurp(path, CRYPTO_KEYFILE_MAX, &n);
    const char *why;
    int priv, rc;

    if (b == NULL)
        return die("cannot read key '%s': %s", path, strerror(errno));
    rc = crypto_key_parse(b, n, k, &priv, &why);
    crypto_wipe(b, n);
    free(b);
    if (rc != 0)
        return die("key '%s': %s", path, why);
    if (need_priv && !priv)
        return die("key '%s' is a public key; signing needs the private key",
                   path);
    return 0;
}

static void
hex(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", p[i]);
}

/* ---- a bundle in memory ---- */

struct bundle {
    uint8_t *buf;
    size_t len;
    struct upd_header h;
    const uint8_t *man, *sigs, *payload;
    struct upd_manifest m;
    struct upd_sig sig[UPD_SIGS_MAX];
    int nsig;
    uint8_t digest[32];
};

static int
bundle_load(const char *path, struct bundle *b)
{
    const char *why;
    int rc;

    b->buf = slurp(path, (size_t)UPD_PAYLOAD_MAX + 1024 * 1024, &b->len);
    if (b->buf == NULL)
        return die("cannot read '%s': %s", path, strerror(errno));
    if (b->len < UPD_HDR_LEN)
        return die("'%s': truncated (no header)", path);
    rc = upd_header_decode(b->buf, &b->h, &why);
    if (rc != 0)
        return die("'%s': %s", path, why);
    if ((uint64_t)b->len != UPD_HDR_LEN + (uint64_t)b->h.manifest_len +
                                b->h.sigs_len + b->h.payload_len)
        return die("'%s': length %zu does not match its header (truncated "
                   "or trailing bytes)",
                   path, b->len);
    b->man = b->buf + UPD_HDR_LEN;
    b->sigs = b->man + b->h.manifest_len;
    b->payload = b->sigs + b->h.sigs_len;
    rc = upd_manifest_decode(b->man, b->h.manifest_len, &b->m, &why);
    if (rc != 0)
        return die("'%s': manifest: %s", path, why);
    b->nsig =
        upd_sigs_decode(b->sigs, b->h.sigs_len, b->sig, UPD_SIGS_MAX, &why);
    if (b->nsig < 0)
        return die("'%s': signatures: %s", path, why);
    if (b->h.payload_len != b->m.payload_size)
        return die("'%s': header and manifest disagree on the payload size",
                   path);
    crypto_sha256(b->man, b->h.manifest_len, b->digest);
    return 0;
}

/* Write the bundle back with one more signature. */
static int
bundle_add_sig(const char *path, struct bundle *b, const struct upd_sig *s)
{
    uint8_t hdr[UPD_HDR_LEN], blk[UPD_SIG_LEN];
    struct upd_header h = b->h;
    uint8_t *out;
    size_t n;
    int rc;

    for (int i = 0; i < b->nsig; i++)
        if (memcmp(b->sig[i].key_id, s->key_id, 32) == 0)
            return die("'%s' already carries a signature by this key", path);
    if (b->nsig >= UPD_SIGS_MAX)
        return die("'%s' already carries %d signatures", path, UPD_SIGS_MAX);
    h.sigs_len += UPD_SIG_LEN;
    n = b->len + UPD_SIG_LEN;
    out = malloc(n);
    if (out == NULL)
        return die("out of memory");
    upd_header_encode(&h, hdr);
    upd_sig_encode(s, blk);
    memcpy(out, hdr, UPD_HDR_LEN);
    memcpy(out + UPD_HDR_LEN, b->man, b->h.manifest_len + b->h.sigs_len);
    memcpy(out + UPD_HDR_LEN + b->h.manifest_len + b->h.sigs_len, blk,
           UPD_SIG_LEN);
    memcpy(out + UPD_HDR_LEN + h.manifest_len + h.sigs_len, b->payload,
           b->h.payload_len);
    rc = spit(path, out, n);
    free(out);
    return rc == 0 ? 0 : die("cannot write '%s': %s", path, strerror(errno));
}

/* The desk check of a board's slots: a bundle with a manifest of
 * manifest_len bytes and a payload of payload_size bytes must fit the
 * update slots of board, as the device will check before it installs.
 * 0 when it fits, or when this tool was not built with the board (then a
 * note says the check did not happen); 1, told, when it cannot fit. */
static int
slot_check(const char *board, uint32_t manifest_len, uint64_t payload_size)
{
    struct tool_board b;
    uint64_t po;
    int rc = tool_board_find(board, &b);

    if (rc == -EINVAL)
        return die("board '%s' has no slot_a or slot_b in its board.h", board);
    if (rc != 0) {
        fprintf(stderr,
                "%s: note: board '%s' is not one this keel-bundle knows "
                "(board/*/board.h); its slot size is not checked\n",
                prog, board);
        return 0;
    }
    if (upd_slot_fits(b.slot_size, b.erase_size, manifest_len, payload_size))
        return 0;
    po = upd_slot_payload_off(b.erase_size, manifest_len);
    return die("a payload of %" PRIu64 " bytes does not fit board '%s': "
               "its update slots hold %" PRIu64 " bytes, of which %" PRIu64
               " go to the slot header and the %" PRIu32
               "-byte manifest, leaving %" PRIu64 " for the payload",
               payload_size, board, b.slot_size, po, manifest_len,
               po < b.slot_size ? b.slot_size - po : 0);
}

/* ---- commands ---- */

static int
cmd_archive(int argc, char **argv)
{
    uint8_t *out = NULL;
    size_t n = 8, cap = 0;
    int count = 0;

    if (argc < 2)
        return usage();
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        size_t dl, fl;
        uint8_t *data;
        struct stat stt;

        if (eq == NULL)
            return die("'%s': want DEST=SRC", argv[i]);
        dl = (size_t)(eq - argv[i]);
        if (!kar_path_ok(argv[i], dl))
            return die("'%.*s': not an allowed archive path", (int)dl, argv[i]);
        data = slurp(eq + 1, UPD_PAYLOAD_MAX, &fl);
        if (data == NULL || stat(eq + 1, &stt) != 0)
            return die("cannot read '%s': %s", eq + 1, strerror(errno));
        if (n + 12 + dl + fl > cap) {
            cap = (n + 12 + dl + fl) * 2;
            out = realloc(out, cap);
            if (out == NULL)
                return die("out of memory");
        }
        lib_put16(out + n, (uint16_t)dl);
        lib_put16(out + n + 2, (stt.st_mode & 0111) ? 0755 : 0644);
        lib_put32(out + n + 4, (uint32_t)fl);
        lib_put32(out + n + 8, (uint32_t)((uint64_t)fl >> 32));
        memcpy(out + n + 12, argv[i], dl);
        memcpy(out + n + 12 + dl, data, fl);
        n += 12 + dl + fl;
        free(data);
        count++;
    }
    if (count > KAR_FILES_MAX)
        return die("too many files (%d, at most %d)", count, KAR_FILES_MAX);
    memcpy(out, "KAR1", 4);
    lib_put32(out + 4, (uint32_t)count);
    if (spit(argv[0], out, n) != 0)
        return die("cannot write '%s': %s", argv[0], strerror(errno));
    free(out);
    printf("%s: %d files, %zu bytes\n", argv[0], count, n);
    return 0;
}

/* ---- numbers on the command line ---- */

/* Unix times: up to the last second of year 9999.  Larger values are no
 * date anyone means, and a keyring expiry near INT64_MAX would overflow
 * the device's expiry arithmetic (expiry + one day of skew). */
#define TIME_ARG_MAX INT64_C(253402300799)

/* The len bytes at s as a decimal number from min to max: ASCII digits
 * only (no sign, space, base prefix or trailing byte), at least one, no
 * leading zero unless the number is 0 (so "010" is never read as
 * octal), and no overflow.  0, or -EINVAL (not such a number) or -ERANGE
 * (outside [min, max]). */
static int
dec_parse(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || (s[0] == '0' && len > 1))
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

/* The value v of option opt as a number from min to max; otherwise say
 * what the option wants and return 2 (a usage error). */
static int
opt_num(const char *opt, const char *v, uint64_t min, uint64_t max,
        uint64_t *out)
{
    if (dec_parse(v, strlen(v), min, max, out) == 0)
        return 0;
    return usage_error("%s wants a decimal number from %" PRIu64 " to %" PRIu64
                       " (plain digits: no sign, space or leading zero), "
                       "got '%s'",
                       opt, min, max, v);
}

/* "X.Y.Z": three numbers from 0 to 2^32 - 1 (dec_parse's rules) joined by
 * single dots. */
static int
parse_version(const char *s, struct upd_version *v)
{
    uint32_t *part[3] = {&v->major, &v->minor, &v->patch};

    for (int i = 0; i < 3; i++) {
        const char *e = i < 2 ? strchr(s, '.') : s + strlen(s);
        uint64_t x;

        if (e == NULL || dec_parse(s, (size_t)(e - s), 0, UINT32_MAX, &x) != 0)
            return -EINVAL;
        *part[i] = (uint32_t)x;
        s = e + 1;
    }
    return 0;
}

/* "[NET:]BNUM:BHASH:WEIGHT" into the manifest's 72 bytes: bnum (u64 LE,
 * a decimal number by dec_parse's rules), the bhash as its bytes, the
 * weight as a 256-bit little-endian integer (the hex is the number, most
 * significant digit first, as `chain info` prints it); NET is mainnet
 * (the default) or testnet. */
static int
checkpoint_parse(const char *arg, uint8_t out[UPD_CHECKPOINT_LEN], uint8_t *net)
{
    const char *c1, *c2;

    *net = UPD_NET_MAINNET;
    if (strncmp(arg, "mainnet:", 8) == 0) {
        arg += 8;
    } else if (strncmp(arg, "testnet:", 8) == 0) {
        arg += 8;
        *net = UPD_NET_TESTNET;
    }
    c1 = strchr(arg, ':');
    c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    uint8_t w[32];
    uint64_t bnum;

    if (c1 == NULL || c2 == NULL ||
        dec_parse(arg, (size_t)(c1 - arg), 0, UINT64_MAX, &bnum) != 0 ||
        lib_hex_decode(c1 + 1, (size_t)(c2 - c1 - 1), out + 8, 32) != 32 ||
        lib_hex_decode(c2 + 1, strlen(c2 + 1), w, 32) != 32)
        return -1;
    lib_put64(out, bnum);
    for (int i = 0; i < 32; i++)
        out[40 + i] = w[31 - i];
    return 0;
}

/* The checkpoint as text or JSON; "none" or null when there is none. */
static void
checkpoint_print(const uint8_t *ck, uint8_t net, int json)
{
    const char *nn = net == UPD_NET_TESTNET ? "testnet" : "mainnet";

    if (ck == NULL) {
        printf(json ? "null" : "none");
        return;
    }
    printf(json ? "{\"bnum\":%" PRIu64 ",\"bhash\":\"" : "%" PRIu64 " ",
           lib_le64(ck));
    hex(stdout, ck + 8, 32);
    printf(json ? "\",\"weight\":\"" : " weight ");
    for (int i = 31; i >= 0; i--)
        printf("%02x", ck[40 + i]);
    if (json)
        printf("\",\"network\":\"%s\"}", nn);
    else
        printf(" (%s)", nn);
}

static int
cmd_create(int argc, char **argv)
{
    const char *payload = NULL, *boards = NULL, *ver = NULL, *out = NULL,
               *krf = NULL;
    uint64_t counter = 0, chunk = 65536, created = 0;
    int have_counter = 0, have_created = 0;
    const char *ckf = NULL;
    uint8_t ck[UPD_CHECKPOINT_LEN];
    struct upd_manifest m;
    uint8_t *pl, *kr = NULL, *man, hdr[UPD_HDR_LEN], *hashes;
    size_t pll, krl = 0;
    struct upd_header h;
    int ml;

    memset(&m, 0, sizeof(m));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;

        if (v == NULL)
            return usage();
        if (strcmp(a, "--payload") == 0)
            payload = v;
        else if (strcmp(a, "--board") == 0)
            boards = v;
        else if (strcmp(a, "--version") == 0)
            ver = v;
        else if (strcmp(a, "--counter") == 0) {
            rc = opt_num(a, v, 0, UPD_COUNTER_MAX, &counter);
            have_counter = 1;
        } else if (strcmp(a, "--chunk") == 0)
            rc = opt_num(a, v, UPD_CHUNK_MIN, UPD_CHUNK_MAX, &chunk);
        else if (strcmp(a, "--keyring") == 0)
            krf = v;
        else if (strcmp(a, "--created") == 0) {
            rc = opt_num(a, v, 0, TIME_ARG_MAX, &created);
            have_created = 1;
        } else if (strcmp(a, "--checkpoint") == 0)
            ckf = v;
        else if (strcmp(a, "-o") == 0)
            out = v;
        else
            return usage();
        if (rc != 0)
            return rc;
        i++;
    }
    if (payload == NULL || boards == NULL || ver == NULL || out == NULL ||
        !have_counter)
        return usage();
    if (parse_version(ver, &m.version) != 0)
        return usage_error("--version wants X.Y.Z, three decimal numbers "
                           "from 0 to %" PRIu32 " (plain digits: no sign, "
                           "space or leading zero), got '%s'",
                           UINT32_MAX, ver);
    if ((chunk & (chunk - 1)) != 0)
        return usage_error("--chunk wants a power of two from %u to %u, got "
                           "'%" PRIu64 "'",
                           UPD_CHUNK_MIN, UPD_CHUNK_MAX, chunk);
    {
        /* boards: comma-separated, stored sorted */
        char tmp[UPD_BOARDS_MAX * (UPD_BOARD_LEN_MAX + 1) + 8];
        char *save = NULL;

        snprintf(tmp, sizeof(tmp), "%s", boards);
        for (char *t = strtok_r(tmp, ",", &save); t != NULL;
             t = strtok_r(NULL, ",", &save)) {
            int j;

            if (m.nboards == UPD_BOARDS_MAX || strlen(t) > UPD_BOARD_LEN_MAX)
                return die("too many boards, or a name over %d characters",
                           UPD_BOARD_LEN_MAX);
            for (j = m.nboards; j > 0 && strcmp(m.boards[j - 1], t) > 0; j--)
                memcpy(m.boards[j], m.boards[j - 1], sizeof(m.boards[j]));
            snprintf(m.boards[j], sizeof(m.boards[j]), "%s", t);
            m.nboards++;
        }
    }
    pl = slurp(payload, UPD_PAYLOAD_MAX, &pll);
    if (pl == NULL)
        return die("cannot read payload '%s': %s", payload, strerror(errno));
    if (pll == 0)
        return die("payload '%s' is empty", payload);
    if (krf != NULL) {
        struct upd_keyring k;
        const char *why;

        kr = slurp(krf, UPD_KEYRING_MAX, &krl);
        if (kr == NULL)
            return die("cannot read keyring '%s'", krf);
        if (upd_keyring_decode(kr, krl, &k, &why) != 0)
            return die("keyring '%s': %s", krf, why);
        m.keyring = kr;
        m.keyring_len = (uint32_t)krl;
    }
    if (ckf != NULL) {
        if (checkpoint_parse(ckf, ck, &m.checkpoint_net) != 0)
            return usage_error("--checkpoint wants [NET:]BNUM:BHASH:WEIGHT "
                               "(NET mainnet or testnet, BNUM "
                               "a decimal number from 0 to %" PRIu64 ", "
                               "BHASH and WEIGHT 64 hex digits each, as "
                               "'chain info' prints them), got '%s'",
                               UINT64_MAX, ckf);
        m.checkpoint = ck;
    }
    m.counter = counter;
    m.created = have_created ? (int64_t)created : (int64_t)time(NULL);
    m.payload_size = pll;
    m.chunk_size = (uint32_t)chunk;
    m.nchunks = (uint32_t)((pll + chunk - 1) / chunk);
    if (m.nchunks > UPD_CHUNKS_MAX)
        return die("a %zu-byte payload is %" PRIu32 " chunks of %" PRIu64
                   ", more than %d: choose a larger --chunk",
                   pll, m.nchunks, chunk, UPD_CHUNKS_MAX);
    hashes = malloc((size_t)m.nchunks * 32);
    for (uint32_t i = 0; i < m.nchunks; i++) {
        size_t off = (size_t)i * chunk,
               l = pll - off < chunk ? pll - off : chunk;

        crypto_sha256(pl + off, l, hashes + (size_t)i * 32);
    }
    m.chunk_hash = hashes;
    man = malloc(UPD_MANIFEST_MAX);
    ml = upd_manifest_encode(&m, man, UPD_MANIFEST_MAX);
    if (ml < 0)
        return die("manifest cannot be encoded (%s)", strerror(-ml));
    for (int i = 0; i < m.nboards; i++)
        if (slot_check(m.boards[i], (uint32_t)ml, pll) != 0)
            return 1;
    h.manifest_len = (uint32_t)ml;
    h.sigs_len = 0;
    h.payload_len = pll;
    upd_header_encode(&h, hdr);
    {
        size_t n = UPD_HDR_LEN + (size_t)ml + pll;
        uint8_t *b = malloc(n);

        memcpy(b, hdr, UPD_HDR_LEN);
        memcpy(b + UPD_HDR_LEN, man, (size_t)ml);
        memcpy(b + UPD_HDR_LEN + ml, pl, pll);
        if (spit(out, b, n) != 0)
            return die("cannot write '%s': %s", out, strerror(errno));
        free(b);
    }
    printf("%s: unsigned bundle, %zu-byte payload in %" PRIu32
           " chunks; manifest sha256 ",
           out, pll, m.nchunks);
    {
        uint8_t d[32];

        crypto_sha256(man, (size_t)ml, d);
        hex(stdout, d, 32);
    }
    printf("\n");
    free(pl);
    free(kr);
    free(man);
    free(hashes);
    return 0;
}

static int
cmd_sign(int argc, char **argv)
{
    struct bundle b;
    struct crypto_eckey k;
    struct upd_sig s;
    uint8_t spki[CRYPTO_SPKI_LEN];
    int n;

    if (argc != 3 || strcmp(argv[1], "--key") != 0)
        return usage();
    if (bundle_load(argv[0], &b) != 0 || load_key(argv[2], &k, 1) != 0)
        return 1;
    n = crypto_ec_sign(&k, b.digest, s.der);
    crypto_spki_encode(k.pub, spki);
    crypto_wipe(&k, sizeof(k));
    if (n < 0)
        return die("signing failed");
    s.len = (uint8_t)n;
    upd_key_id(spki, s.key_id);
    if (bundle_add_sig(argv[0], &b, &s) != 0)
        return 1;
    printf("%s: signed by key ", argv[0]);
    hex(stdout, s.key_id, 4);
    printf(" (%d signatures)\n", b.nsig + 1);
    return 0;
}

static int
cmd_digest(int argc, char **argv)
{
    struct bundle b;

    if (argc != 1 && !(argc == 3 && strcmp(argv[1], "--manifest") == 0))
        return usage();
    if (bundle_load(argv[0], &b) != 0)
        return 1;
    if (argc == 3) {
        if (spit(argv[2], b.man, b.h.manifest_len) != 0)
            return die("cannot write '%s'", argv[2]);
        printf("%s: the %" PRIu32 " manifest bytes; sign them with "
               "'openssl dgst -sha256 -sign KEY -out SIG.der %s'\n",
               argv[2], b.h.manifest_len, argv[2]);
        return 0;
    }
    hex(stdout, b.digest, 32);
    printf("\n");
    return 0;
}

static int
cmd_attach(int argc, char **argv)
{
    struct bundle b;
    struct crypto_eckey k;
    struct upd_sig s;
    uint8_t spki[CRYPTO_SPKI_LEN], *sig;
    size_t sl;

    if (argc != 4 || strcmp(argv[2], "--key") != 0)
        return usage();
    if (bundle_load(argv[0], &b) != 0 || load_key(argv[3], &k, 0) != 0)
        return 1;
    sig = slurp(argv[1], CRYPTO_SIG_MAX, &sl);
    if (sig == NULL)
        return die("cannot read signature '%s': %s", argv[1],
                   errno == EFBIG ? "larger than a P-256 DER signature"
                                  : strerror(errno));
    if (crypto_ec_verify(k.pub, b.digest, sig, sl) != CRYPTO_VERIFIED)
        return die("signature '%s' does not verify over this bundle's "
                   "manifest with key '%s'; not attached",
                   argv[1], argv[3]);
    crypto_spki_encode(k.pub, spki);
    upd_key_id(spki, s.key_id);
    s.len = (uint8_t)sl;
    memcpy(s.der, sig, sl);
    free(sig);
    if (bundle_add_sig(argv[0], &b, &s) != 0)
        return 1;
    printf("%s: signature by key ", argv[0]);
    hex(stdout, s.key_id, 4);
    printf(" attached (%d signatures)\n", b.nsig + 1);
    return 0;
}

static int
cmd_inspect(int argc, char **argv)
{
    struct bundle b;
    int json = argc == 2 && strcmp(argv[1], "--json") == 0;

    if (argc != 1 && !json)
        return usage();
    if (bundle_load(argv[0], &b) != 0)
        return 1;
    if (json) {
        printf("{\"format\":1,\"boards\":[");
        for (int i = 0; i < b.m.nboards; i++)
            printf("%s\"%s\"", i ? "," : "", b.m.boards[i]);
        printf("],\"version\":\"%" PRIu32 ".%" PRIu32 ".%" PRIu32
               "\",\"counter\":%" PRIu64 ",\"created\":%lld,"
               "\"payload_size\":%" PRIu64 ",\"chunk_size\":%" PRIu32
               ",\"chunks\":%" PRIu32 ",\"manifest_sha256\":\"",
               b.m.version.major, b.m.version.minor, b.m.version.patch,
               b.m.counter, (long long)b.m.created, b.m.payload_size,
               b.m.chunk_size, b.m.nchunks);
        hex(stdout, b.digest, 32);
        printf("\",\"keyring\":%s,\"checkpoint\":",
               b.m.keyring ? "true" : "false");
        checkpoint_print(b.m.checkpoint, b.m.checkpoint_net, 1);
        printf(",\"signatures\":[");
        for (int i = 0; i < b.nsig; i++) {
            printf("%s\"", i ? "," : "");
            hex(stdout, b.sig[i].key_id, 32);
            printf("\"");
        }
        printf("]}\n");
        return 0;
    }
    printf("boards:      ");
    for (int i = 0; i < b.m.nboards; i++)
        printf("%s%s", i ? ", " : "", b.m.boards[i]);
    printf(
        "\nversion:     %" PRIu32 ".%" PRIu32 ".%" PRIu32
        "\ncounter:     %" PRIu64 "\ncreated:     %lld\npayload:     "
        "%" PRIu64 " bytes, %" PRIu32 " chunks of %" PRIu32 "\nmanifest:    ",
        b.m.version.major, b.m.version.minor, b.m.version.patch, b.m.counter,
        (long long)b.m.created, b.m.payload_size, b.m.nchunks, b.m.chunk_size);
    hex(stdout, b.digest, 32);
    printf("\nkeyring:     %s\ncheckpoint:  ",
           b.m.keyring ? "carries a new keyring" : "none");
    checkpoint_print(b.m.checkpoint, b.m.checkpoint_net, 0);
    printf("\nsignatures:  %d\n", b.nsig);
    for (int i = 0; i < b.nsig; i++) {
        printf("  key ");
        hex(stdout, b.sig[i].key_id, 32);
        printf("\n");
    }
    return 0;
}

static int
load_keyring(const char *path, struct upd_keyring *k)
{
    size_t n;
    uint8_t *b = slurp(path, UPD_KEYRING_MAX, &n);
    const char *why;
    int rc;

    if (b == NULL)
        return die("cannot read keyring '%s': %s", path, strerror(errno));
    rc = upd_keyring_decode(b, n, k, &why);
    free(b);
    return rc == 0 ? 0 : die("keyring '%s': %s", path, why);
}

static int
cmd_verify(int argc, char **argv)
{
    struct bundle b;
    struct upd_keyring k;
    const char *board = NULL;
    char why[160];
    int unknown, cnt;

    if (argc == 5 && strcmp(argv[3], "--board") == 0)
        board = argv[4];
    else if (argc != 3)
        return usage();
    if (strcmp(argv[1], "--keyring") != 0)
        return usage();
    if (bundle_load(argv[0], &b) != 0 || load_keyring(argv[2], &k) != 0)
        return 1;
    cnt =
        upd_sigs_check(&k, b.digest, b.sig, b.nsig, &unknown, why, sizeof(why));
    if (cnt < 0)
        return die("%s", why);
    if (cnt < k.threshold)
        return die("needs %u signatures by keyring keys, has %d", k.threshold,
                   cnt);
    if (b.m.keyring != NULL) {
        struct upd_keyring nk;
        const char *w;

        if (upd_keyring_decode(b.m.keyring, b.m.keyring_len, &nk, &w) != 0)
            return die("new keyring: %s", w);
        if (nk.version <= k.version)
            return die("new keyring version %" PRIu32 " not above %" PRIu32,
                       nk.version, k.version);
        cnt = upd_sigs_check(&nk, b.digest, b.sig, b.nsig, &unknown, why,
                             sizeof(why));
        if (cnt < 0 || cnt < nk.threshold)
            return die("new keyring needs %u of its own signatures",
                       nk.threshold);
    }
    if (board != NULL) {
        int fits = 0;

        for (int i = 0; i < b.m.nboards; i++)
            fits |= strcmp(b.m.boards[i], board) == 0;
        if (!fits)
            return die("not for board '%s'", board);
        if (slot_check(board, b.h.manifest_len, b.m.payload_size) != 0)
            return 1;
    }
    for (uint32_t i = 0; i < b.m.nchunks; i++) {
        uint64_t off = (uint64_t)i * b.m.chunk_size;
        size_t l = upd_chunk_len(&b.m, i);
        uint8_t h[32];

        crypto_sha256(b.payload + off, l, h);
        if (memcmp(h, b.m.chunk_hash + (size_t)i * 32, 32) != 0)
            return die("chunk %" PRIu32 " does not match the manifest", i);
    }
    printf("%s: verified (%d of %u required signatures, %" PRIu32 " chunks)\n",
           argv[0], cnt, k.threshold, b.m.nchunks);
    return 0;
}

static int
write_keyring(const char *path, const struct upd_keyring *k)
{
    uint8_t b[UPD_KEYRING_MAX];
    int n = upd_keyring_encode(k, b, sizeof(b));

    if (n < 0)
        return die("keyring cannot be encoded (threshold 1..%u, distinct "
                   "keys, version >= 1)",
                   k->nkeys);
    if (spit(path, b, (size_t)n) != 0)
        return die("cannot write '%s': %s", path, strerror(errno));
    printf("%s: keyring version %" PRIu32 ", %u of %u keys\n", path, k->version,
           k->threshold, k->nkeys);
    return 0;
}

static int
cmd_keyring(int argc, char **argv)
{
    struct upd_keyring k;
    struct crypto_eckey key;

    memset(&k, 0, sizeof(k));
    if (argc < 2)
        return usage();
    if (strcmp(argv[0], "create") == 0) {
        const char *out = NULL;
        uint64_t x;

        k.version = 1;
        for (int i = 1; i < argc; i++) {
            const char *a = argv[i];
            int rc;

            if (strcmp(a, "--threshold") == 0 && i + 1 < argc) {
                rc = opt_num(a, argv[++i], 1, UPD_KEYS_MAX, &x);
                if (rc != 0)
                    return rc;
                k.threshold = (uint8_t)x;
            } else if (strcmp(a, "--version") == 0 && i + 1 < argc) {
                rc = opt_num(a, argv[++i], 1, UINT32_MAX, &x);
                if (rc != 0)
                    return rc;
                k.version = (uint32_t)x;
            } else if (strcmp(a, "--expires") == 0 && i + 1 < argc) {
                rc = opt_num(a, argv[++i], 0, TIME_ARG_MAX, &x);
                if (rc != 0)
                    return rc;
                k.expires = (int64_t)x;
            } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
                out = argv[++i];
            else {
                if (k.nkeys == UPD_KEYS_MAX)
                    return die("at most %d keys", UPD_KEYS_MAX);
                if (load_key(argv[i], &key, 0) != 0)
                    return 1;
                crypto_spki_encode(key.pub, k.spki[k.nkeys++]);
                crypto_wipe(&key, sizeof(key));
            }
        }
        if (out == NULL || k.nkeys == 0)
            return usage();
        return write_keyring(out, &k);
    }
    if (strcmp(argv[0], "show") == 0) {
        if (load_keyring(argv[1], &k) != 0)
            return 1;
        printf("version:   %" PRIu32 "\nthreshold: %u of %u\nexpires:   "
               "%lld\n",
               k.version, k.threshold, k.nkeys, (long long)k.expires);
        for (int i = 0; i < k.nkeys; i++) {
            printf("key:       ");
            hex(stdout, k.id[i], 32);
            printf("\n");
        }
        return 0;
    }
    if ((strcmp(argv[0], "add") == 0 || strcmp(argv[0], "revoke") == 0) &&
        argc == 5 && strcmp(argv[3], "-o") == 0) {
        uint8_t spki[CRYPTO_SPKI_LEN], id[32];
        int at;

        if (load_keyring(argv[1], &k) != 0 || load_key(argv[2], &key, 0) != 0)
            return 1;
        crypto_spki_encode(key.pub, spki);
        crypto_wipe(&key, sizeof(key));
        upd_key_id(spki, id);
        at = upd_keyring_find(&k, id);
        if (argv[0][0] == 'a') {
            if (at >= 0)
                return die("the key is already in the keyring");
            if (k.nkeys == UPD_KEYS_MAX)
                return die("the keyring is full (%d keys)", UPD_KEYS_MAX);
            memcpy(k.spki[k.nkeys++], spki, CRYPTO_SPKI_LEN);
        } else {
            if (at < 0)
                return die("the key is not in the keyring");
            if (k.nkeys == 1)
                return die("cannot revoke the last key");
            for (int i = at; i + 1 < k.nkeys; i++)
                memcpy(k.spki[i], k.spki[i + 1], CRYPTO_SPKI_LEN);
            k.nkeys--;
            if (k.threshold > k.nkeys)
                k.threshold = k.nkeys;
        }
        k.version++;
        return write_keyring(argv[4], &k);
    }
    if (strcmp(argv[0], "sign") == 0 && argc == 6 &&
        strcmp(argv[2], "--key") == 0 && strcmp(argv[4], "-o") == 0) {
        /* Sign a keyring (KKR1) or add a signature to a signed one
         * (KSK1): for `update keyring FILE` on a device. */
        size_t n;
        uint8_t *in = slurp(argv[1], UPD_SKR_MAX, &n), *out;
        const uint8_t *kr;
        uint32_t krl;
        struct upd_sig sg[UPD_SIGS_MAX], s;
        uint8_t spki[CRYPTO_SPKI_LEN], h[32];
        const char *why;
        int ns = 0, sl;

        if (in == NULL)
            return die("cannot read '%s': %s", argv[1], strerror(errno));
        if (n >= 4 && memcmp(in, "KKR1", 4) == 0) {
            if (upd_keyring_decode(in, n, &k, &why) != 0)
                return die("'%s': %s", argv[1], why);
            kr = in;
            krl = (uint32_t)n;
        } else {
            ns = upd_skr_decode(in, n, &kr, &krl, sg, UPD_SIGS_MAX, &why);
            if (ns < 0)
                return die("'%s': %s", argv[1], why);
        }
        if (load_key(argv[3], &key, 1) != 0)
            return 1;
        crypto_spki_encode(key.pub, spki);
        upd_key_id(spki, s.key_id);
        for (int i = 0; i < ns; i++)
            if (memcmp(sg[i].key_id, s.key_id, 32) == 0)
                return die("'%s' already carries a signature by this key",
                           argv[1]);
        if (ns == UPD_SIGS_MAX)
            return die("'%s' already carries %d signatures", argv[1], ns);
        crypto_sha256(kr, krl, h);
        sl = crypto_ec_sign(&key, h, s.der);
        crypto_wipe(&key, sizeof(key));
        if (sl < 0)
            return die("signing failed");
        s.len = (uint8_t)sl;
        sg[ns++] = s;
        out = malloc(8 + krl + (size_t)ns * UPD_SIG_LEN);
        memcpy(out, "KSK1", 4);
        lib_put32(out + 4, krl);
        memcpy(out + 8, kr, krl);
        for (int i = 0; i < ns; i++)
            upd_sig_encode(&sg[i], out + 8 + krl + (size_t)i * UPD_SIG_LEN);
        if (spit(argv[5], out, 8 + krl + (size_t)ns * UPD_SIG_LEN) != 0)
            return die("cannot write '%s': %s", argv[5], strerror(errno));
        printf("%s: signed keyring, %d signatures\n", argv[5], ns);
        free(out);
        free(in);
        return 0;
    }
    return usage();
}

int
main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "archive") == 0)
        return cmd_archive(argc - 2, argv + 2);
    if (strcmp(argv[1], "create") == 0)
        return cmd_create(argc - 2, argv + 2);
    if (strcmp(argv[1], "sign") == 0)
        return cmd_sign(argc - 2, argv + 2);
    if (strcmp(argv[1], "digest") == 0)
        return cmd_digest(argc - 2, argv + 2);
    if (strcmp(argv[1], "attach-signature") == 0)
        return cmd_attach(argc - 2, argv + 2);
    if (strcmp(argv[1], "inspect") == 0)
        return cmd_inspect(argc - 2, argv + 2);
    if (strcmp(argv[1], "verify") == 0)
        return cmd_verify(argc - 2, argv + 2);
    if (strcmp(argv[1], "keyring") == 0)
        return cmd_keyring(argc - 2, argv + 2);
    return usage();
}
