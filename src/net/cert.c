/*
 * net/cert.c - the node's TLS certificate and configurations, and the
 * gate that decides on a peer's certificate.
 *
 * The certificate is self-signed over the identity key (mbedTLS's
 * x509write): subject "CN=keel-" and the first 8 bytes of the
 * fingerprint in hex, serial = the identity's generation.  When the
 * identity has a rotation statement, the certificate carries it in a
 * private extension (OID 2.25.142753874647125567828295322356016314484,
 * not critical): the 206-byte statement, then u8 length and DER of the
 * old key's signature, then u8 length and DER of the new key's
 * (docs/FORMAT.md "Rotation extension").  Validity dates are fixed and
 * ignored: a key is trusted by its fingerprint, not by a date or an
 * issuer.
 *
 * lwIP's binding builds the configurations; keel then tightens them
 * through the mbedtls_ssl_config that is the first member of lwIP
 * 2.1.3's struct altcp_tls_config (apps/altcp_tls/altcp_tls_mbedtls.c,
 * pinned by scripts/deps.sha256): verification required both ways, the
 * two suites, P-256 only, TLS 1.2 only, and a 4 KiB maximum fragment
 * length asked of keel servers (openssl peers keep 16 KiB records).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hal/clock.h"
#include "hal/file.h"
#include "hal/rng.h"
#include "hal/sys.h"
#include "keel_opts.h"
#include "lib/hex.h"
#include "lib/le.h"
#include "lwip/altcp_tls.h"
#include "mbedtls/ecp.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "net/net.h"

/* Before this (2020-01-01) the wall clock is taken as unset. */
#define NET_CLOCK_SANE 1577836800

const uint8_t net_rot_oid[] = {0x69, 0x81, 0xd6, 0xe5, 0xb2, 0xdb, 0x8e,
                               0xa6, 0xfb, 0xd1, 0xc2, 0xf4, 0xb4, 0xdb,
                               0xed, 0xe2, 0xeb, 0x95, 0xf0, 0x74};
const size_t net_rot_oid_len = sizeof(net_rot_oid);

static const int net_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 0};
static const mbedtls_ecp_group_id net_curves[] = {MBEDTLS_ECP_DP_SECP256R1,
                                                  MBEDTLS_ECP_DP_NONE};

void
net_logf(struct net *n, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n->log != NULL)
        n->log(n->log_arg, msg);
}

static int
rng(void *arg, unsigned char *out, size_t len)
{
    (void)arg;
    return hal_rng_fill(out, len) == 0 ? 0 : -1;
}

int
net_save_trust(struct net *n)
{
    uint8_t rec[TRUST_REC_MAX];
    size_t len = trust_encode(&n->trust, rec);

    if (n->st == NULL)
        return -EROFS;
    return store_put(n->st, TRUST_KEY, rec, len);
}

static void
tighten(struct altcp_tls_config *conf, int server, void *ca)
{
    mbedtls_ssl_config *c = (mbedtls_ssl_config *)(void *)conf;

    mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ciphersuites(c, net_suites);
    mbedtls_ssl_conf_curves(c, net_curves);
    mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(c, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    if (server)
        mbedtls_ssl_conf_ca_chain(c, ca, NULL);
    else
        (void)mbedtls_ssl_conf_max_frag_len(c, MBEDTLS_SSL_MAX_FRAG_LEN_4096);
}

void
net_tls_release(struct net *n)
{
    if (n->srv_conf != NULL)
        altcp_tls_free_config(n->srv_conf);
    if (n->cli_conf != NULL)
        altcp_tls_free_config(n->cli_conf);
    if (n->own_crt != NULL) {
        mbedtls_x509_crt_free(n->own_crt);
        mbedtls_free(n->own_crt);
    }
    n->srv_conf = n->cli_conf = NULL;
    n->own_crt = NULL;
    n->cert_len = 0;
}

/* The rotation extension's value: statement, both signatures. */
static size_t
rot_ext(const struct identity *id, uint8_t *out, size_t cap)
{
    size_t len = ID_STMT_LEN + 2 + id->sig_old_len + id->sig_new_len;

    if (len > cap)
        return 0;
    memcpy(out, id->stmt, ID_STMT_LEN);
    out[ID_STMT_LEN] = id->sig_old_len;
    memcpy(out + ID_STMT_LEN + 1, id->sig_old, id->sig_old_len);
    out[ID_STMT_LEN + 1 + id->sig_old_len] = id->sig_new_len;
    memcpy(out + ID_STMT_LEN + 2 + id->sig_old_len, id->sig_new,
           id->sig_new_len);
    return len;
}

int
net_tls_configure(struct net *n)
{
    uint8_t key[CRYPTO_PRIV_DER_MAX], cbuf[sizeof(n->cert)], fp[ID_FP_LEN];
    uint8_t ext[ID_STMT_LEN + 2 + 2 * CRYPTO_SIG_MAX];
    char name[48], hex[17];
    mbedtls_pk_context pk;
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    int klen, clen, rc = -EIO;
    size_t elen;

    net_tls_release(n);
    if (n->id == NULL || n->id->state != IDENTITY_READY) {
        snprintf(n->why, sizeof(n->why),
                 "no identity: peer links need the node's key");
        return -ENOKEY;
    }
    klen = crypto_ec_priv_encode(&n->id->cur.k, 0, key, sizeof(key));
    if (klen <= 0)
        return -EIO;
    mbedtls_pk_init(&pk);
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    if (mbedtls_pk_parse_key(&pk, key, (size_t)klen, NULL, 0) != 0)
        goto out;
    identity_fingerprint(n->id->cur.k.pub, fp);
    lib_hex_encode(fp, 8, hex);
    snprintf(name, sizeof(name), "CN=keel-%s", hex);
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &pk);
    mbedtls_x509write_crt_set_issuer_key(&crt, &pk);
    if (mbedtls_mpi_lset(&serial, (mbedtls_mpi_sint)n->id->gen + 1) != 0 ||
        mbedtls_x509write_crt_set_serial(&crt, &serial) != 0 ||
        mbedtls_x509write_crt_set_subject_name(&crt, name) != 0 ||
        mbedtls_x509write_crt_set_issuer_name(&crt, name) != 0 ||
        mbedtls_x509write_crt_set_validity(&crt, "20200101000000",
                                           "20991231235959") != 0)
        goto out;
    if (n->id->has_stmt && (elen = rot_ext(n->id, ext, sizeof(ext))) > 0 &&
        mbedtls_x509write_crt_set_extension(&crt, (const char *)net_rot_oid,
                                            net_rot_oid_len, 0, ext, elen) != 0)
        goto out;
    clen = mbedtls_x509write_crt_der(&crt, cbuf, sizeof(cbuf), rng, NULL);
    if (clen <= 0)
        goto out;
    memcpy(n->cert, cbuf + sizeof(cbuf) - clen, (size_t)clen);
    n->cert_len = (size_t)clen;
#if KEEL_TEST_HOOKS
    /* The impersonation test: present another node's certificate (PEM)
     * with this node's key, which the handshake's signature exposes. */
    {
        const char *path = hal_sys_param("KEEL_SIM_NET_CERT");
        struct hal_file f;
        int got;

        if (path != NULL && hal_file_open(&f, path) == 0) {
            got = hal_file_read(&f, n->cert, sizeof(n->cert) - 1);
            hal_file_close(&f);
            if (got > 0) {
                n->cert[got] = '\0'; /* PEM is parsed with its NUL */
                n->cert_len = (size_t)got + (n->cert[0] == '-');
                net_logf(n, "net: test hook: presenting %s", path);
            }
        }
    }
#endif

    n->own_crt = mbedtls_calloc(1, sizeof(mbedtls_x509_crt));
    if (n->own_crt == NULL)
        goto nomem;
    mbedtls_x509_crt_init(n->own_crt);
    if (mbedtls_x509_crt_parse(n->own_crt, n->cert, n->cert_len) != 0)
        goto out;
    n->srv_conf = altcp_tls_create_config_server_privkey_cert(
        key, (size_t)klen, NULL, 0, n->cert, n->cert_len);
    n->cli_conf = altcp_tls_create_config_client_2wayauth(
        n->cert, n->cert_len, key, (size_t)klen, NULL, 0, n->cert, n->cert_len);
    if (n->srv_conf == NULL || n->cli_conf == NULL)
        goto nomem;
    tighten(n->srv_conf, 1, n->own_crt);
    tighten(n->cli_conf, 0, NULL);
    n->conf_gen = n->id->gen;
    rc = 0;
    goto out;
nomem:
    snprintf(n->why, sizeof(n->why), "TLS set-up: out of lwIP heap");
    rc = -ENOMEM;
out:
    if (rc != 0) {
        if (rc == -EIO)
            snprintf(n->why, sizeof(n->why),
                     "TLS set-up: the certificate could not be made");
        net_tls_release(n);
    }
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&pk);
    mbedtls_platform_zeroize(key, sizeof(key));
    return rc;
}

static void
fp_short(const uint8_t fp[TRUST_FP_LEN], char out[17])
{
    lib_hex_encode(fp, 8, out);
}

int
net_gate(struct net *n, const uint8_t *spki, size_t spki_len,
         const uint8_t *ext, size_t ext_len, uint8_t fp[TRUST_FP_LEN])
{
    uint8_t pub[CRYPTO_EC_PUB_LEN], old_pub[CRYPTO_EC_PUB_LEN],
        new_pub[CRYPTO_EC_PUB_LEN], old_fp[TRUST_FP_LEN];
    int64_t now = hal_clock_wall(), wend;
    char a[17], b[17];
    uint32_t seq;
    size_t lo, ln;
    int i;

    if (crypto_spki_decode(spki, spki_len, pub) != 0)
        return NET_R_BAD_CERT;
    identity_fingerprint(pub, fp);
    i = trust_find(&n->trust, fp);
    if (i >= 0) {
        int64_t r = n->trust.e[i].retire_at;

        /* A key retired by a rotation counts until the window ends; with
         * the clock unset the end cannot be told, and it is refused. */
        if (r != 0 && (now < NET_CLOCK_SANE || now >= r))
            return NET_R_RETIRED;
        return NET_R_NONE;
    }
    if (ext == NULL)
        return NET_R_UNTRUSTED;
    /* The rotation statement: both signatures, the new key is this
     * certificate's, the old key is trusted, the window is open. */
    if (ext_len < ID_STMT_LEN + 2)
        return NET_R_ROT_BAD;
    lo = ext[ID_STMT_LEN];
    if (ext_len < ID_STMT_LEN + 2 + lo)
        return NET_R_ROT_BAD;
    ln = ext[ID_STMT_LEN + 1 + lo];
    if (ext_len != ID_STMT_LEN + 2 + lo + ln ||
        identity_stmt_check(ext, ext + ID_STMT_LEN + 1, lo,
                            ext + ID_STMT_LEN + 2 + lo, ln, old_pub, new_pub,
                            &seq) != 0 ||
        memcmp(new_pub, pub, CRYPTO_EC_PUB_LEN) != 0)
        return NET_R_ROT_BAD;
    identity_fingerprint(old_pub, old_fp);
    i = trust_find(&n->trust, old_fp);
    if (i < 0)
        return NET_R_UNTRUSTED;
    if (n->trust.e[i].retire_at != 0 &&
        (now < NET_CLOCK_SANE || now >= n->trust.e[i].retire_at))
        return NET_R_RETIRED;
    wend = (int64_t)lib_le64(ext + 16);
    if (now < NET_CLOCK_SANE)
        return NET_R_ROT_CLOCK;
    if (now >= wend)
        return NET_R_ROT_EXPIRED;
    if (trust_add(&n->trust, fp, now, TRUST_F_ROTATED) != 0) {
        net_logf(n,
                 "net: trust: the list is full (%d keys); a rotation "
                 "was not followed",
                 TRUST_MAX);
        return NET_R_UNTRUSTED;
    }
    n->trust.e[i].retire_at = wend;
    if (net_save_trust(n) != 0) {
        /* Not kept: the change is undone rather than held in RAM only. */
        (void)trust_remove(&n->trust, fp);
        n->trust.e[i].retire_at = 0;
        return NET_R_UNTRUSTED;
    }
    n->c.rotations_accepted++;
    fp_short(fp, a);
    fp_short(old_fp, b);
    {
        time_t t = (time_t)wend;
        struct tm tm;
        char w[32] = "?";

        if (gmtime_r(&t, &tm) != NULL)
            strftime(w, sizeof(w), "%Y-%m-%dT%H:%M:%SZ", &tm);
        net_logf(n,
                 "net: trust: added %s... by the rotation statement of "
                 "trusted %s... (sequence %u); the old key alone is refused "
                 "from %s",
                 a, b, (unsigned)seq, w);
    }
    return NET_R_NONE;
}
