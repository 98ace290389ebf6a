/*
 * net/tls.c - mbedTLS set-up for peer links: entropy from the HAL, memory
 * from lwIP's heap, and the TLS self test.
 */
#include <errno.h>
#include <string.h>

#include "lwip/altcp_tls.h"
#include "lwip/init.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/entropy_poll.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#include "mbedtls/version.h"
#include "mbedtls/x509_crt.h"

#include "hal/rng.h"
#include "keel_deps.h"
#include "net/net.h"

/* mbedTLS's only entropy source (MBEDTLS_NO_PLATFORM_ENTROPY,
 * MBEDTLS_ENTROPY_HARDWARE_ALT): the board's rng through the HAL. */
int
mbedtls_hardware_poll(void *data, unsigned char *out, size_t len, size_t *olen)
{
    (void)data;
    if (hal_rng_fill(out, len) != 0) {
        *olen = 0;
        return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    }
    *olen = len;
    return 0;
}

/* lwIP's binding (apps/altcp_tls/altcp_tls_mbedtls_mem.c) points
 * mbedTLS's calloc/free at lwIP's heap, with its own block header, when a
 * TLS config is first made.  Install it before anything else allocates,
 * so every block is freed by the allocator that made it. */
void altcp_mbedtls_mem_init(void);

int
net_init(void)
{
    lwip_init();
    altcp_mbedtls_mem_init();
    return 0;
}

const char *
net_mbedtls_version(void)
{
    static char v[64];

    if (v[0] == '\0') {
        char lib[18];

        mbedtls_version_get_string(lib);
        snprintf(v, sizeof(v), "mbed TLS %s (Debian %s)", lib,
                 KEEL_DEP_MBEDTLS_DEB);
    }
    return v;
}

/* A fresh P-256 key, a self-signed certificate for it, and a server
 * configuration of lwIP's TLS binding built from both: everything a peer
 * link will need before the first byte is exchanged. */
int
net_selftest_tls(const char **what)
{
    static const char pers[] = "keel selftest";
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context key;
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    unsigned char kbuf[256], cbuf[1024];
    struct altcp_tls_config *conf;
    int klen, clen, rc = -EIO;

    mbedtls_entropy_init(&ent);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_pk_init(&key);
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);

    *what = "mbedtls: DRBG seeding from the HAL rng failed";
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent,
                              (const unsigned char *)pers,
                              sizeof(pers) - 1) != 0)
        goto out;
    *what = "mbedtls: P-256 key generation failed";
    if (mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) !=
            0 ||
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
                            mbedtls_ctr_drbg_random, &drbg) != 0)
        goto out;
    *what = "mbedtls: writing a self-signed certificate failed";
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &key);
    mbedtls_x509write_crt_set_issuer_key(&crt, &key);
    if (mbedtls_mpi_lset(&serial, 1) != 0 ||
        mbedtls_x509write_crt_set_serial(&crt, &serial) != 0 ||
        mbedtls_x509write_crt_set_subject_name(&crt, "CN=keel selftest") ||
        mbedtls_x509write_crt_set_issuer_name(&crt, "CN=keel selftest") ||
        mbedtls_x509write_crt_set_validity(&crt, "20260101000000",
                                           "20360101000000") != 0)
        goto out;
    clen = mbedtls_x509write_crt_der(&crt, cbuf, sizeof(cbuf),
                                     mbedtls_ctr_drbg_random, &drbg);
    klen = mbedtls_pk_write_key_der(&key, kbuf, sizeof(kbuf));
    if (clen <= 0 || klen <= 0)
        goto out;
    /* Both writers fill their buffers from the end. */
    *what = "mbedtls: lwIP altcp_tls refused the key and certificate";
    conf = altcp_tls_create_config_server_privkey_cert(
        kbuf + sizeof(kbuf) - klen, (size_t)klen, NULL, 0,
        cbuf + sizeof(cbuf) - clen, (size_t)clen);
    if (conf == NULL)
        goto out;
    altcp_tls_free_config(conf);
    *what = "mbedtls: TLS server config with a fresh P-256 key and "
            "self-signed certificate";
    rc = 0;
out:
    altcp_tls_free_entropy();
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&ent);
    mbedtls_platform_zeroize(kbuf, sizeof(kbuf));
    return rc;
}
