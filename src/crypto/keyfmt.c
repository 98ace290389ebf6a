/*
 * crypto/keyfmt.c - keys in and out: PEM armour, PKCS#8 and SEC1
 * (RFC 5915) private keys, through BearSSL's decoders and encoders.
 *
 * Everything here parses input from outside (files an operator hands
 * to `id import`, keys fed to `id verify`), so every length is checked
 * against the buffer before use and every failure names its reason.
 */
#include <errno.h>
#include <string.h>

#include <bearssl_ec.h>
#include <bearssl_pem.h>
#include <bearssl_x509.h>

#include "crypto/crypto.h"

/* ---- PEM ------------------------------------------------------------ */

struct pem_sink {
    uint8_t *buf;
    size_t cap, len;
    int overflow;
};

static void
pem_append(void *arg, const void *data, size_t len)
{
    struct pem_sink *s = arg;

    if (len > s->cap - s->len) {
        s->overflow = 1;
        return;
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
}

int
crypto_pem_decode(const char *text, size_t len, char *label, size_t lcap,
                  uint8_t *der, size_t cap, const char **why)
{
    br_pem_decoder_context pc;
    struct pem_sink sink = {der, cap, 0, 0};
    int in_obj = 0, found = 0, skip = 0;
    size_t off = 0;
    static const char *const skipped[] = {"EC PARAMETERS"};

    *why = "";
    br_pem_decoder_init(&pc);
    while (off < len) {
        size_t n = br_pem_decoder_push(&pc, text + off, len - off);
        int ev;

        off += n;
        ev = br_pem_decoder_event(&pc);
        if (ev == 0) {
            if (n == 0)
                break;
            continue;
        }
        if (ev == BR_PEM_ERROR) {
            *why = "malformed PEM (bad base64 or armour)";
            return -EINVAL;
        }
        if (ev == BR_PEM_BEGIN_OBJ) {
            const char *name = br_pem_decoder_name(&pc);

            in_obj = 1;
            skip = 0;
            for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
                if (strcmp(name, skipped[i]) == 0)
                    skip = 1;
            if (!skip && found) {
                *why = "more than one key in the PEM text";
                return -EINVAL;
            }
            if (!skip) {
                if (strlen(name) + 1 > lcap) {
                    *why = "PEM label too long";
                    return -EINVAL;
                }
                memcpy(label, name, strlen(name) + 1);
                sink.len = 0;
                br_pem_decoder_setdest(&pc, pem_append, &sink);
            } else {
                br_pem_decoder_setdest(&pc, NULL, NULL);
            }
        } else if (ev == BR_PEM_END_OBJ) {
            if (!in_obj) {
                *why = "malformed PEM (END without BEGIN)";
                return -EINVAL;
            }
            in_obj = 0;
            if (!skip)
                found = 1;
        }
    }
    if (sink.overflow) {
        *why = "PEM object larger than any key keel accepts";
        return -E2BIG;
    }
    if (in_obj) {
        *why = "truncated PEM (no END line)";
        return -EINVAL;
    }
    if (!found) {
        *why = "no PEM object found";
        return -EINVAL;
    }
    if (sink.len == 0) {
        *why = "empty PEM object";
        return -EINVAL;
    }
    return (int)sink.len;
}

int
crypto_pem_encode(const uint8_t *der, size_t len, const char *label, char *out,
                  size_t cap)
{
    size_t need = br_pem_encode(NULL, der, len, label, BR_PEM_LINE64);

    if (need + 1 > cap)
        return -ENOBUFS;
    return (int)br_pem_encode(out, der, len, label, BR_PEM_LINE64);
}

/* ---- private keys --------------------------------------------------- */

/* Length of the DER element at der (tag and length octets included), or
 * 0 when the header is malformed or runs past len. */
static size_t
der_elem_len(const uint8_t *der, size_t len)
{
    size_t hl = 2, n;

    if (len < 2)
        return 0;
    n = der[1];
    if (n & 0x80) {
        size_t k = n & 0x7f;

        if (k == 0 || k > 2 || len < 2 + k)
            return 0;
        n = 0;
        for (size_t i = 0; i < k; i++)
            n = n << 8 | der[2 + i];
        hl += k;
    }
    return n > len - hl ? 0 : hl + n;
}

static const char *
wrong_curve(int curve)
{
    switch (curve) {
    case BR_EC_secp384r1:
        return "wrong curve secp384r1 (keel needs prime256v1)";
    case BR_EC_secp521r1:
        return "wrong curve secp521r1 (keel needs prime256v1)";
    case BR_EC_curve25519:
        return "wrong curve X25519 (keel needs prime256v1)";
    default:
        return "wrong curve (keel needs prime256v1)";
    }
}

int
crypto_ec_priv_decode(const uint8_t *der, size_t len, struct crypto_eckey *k,
                      const char **why)
{
    br_skey_decoder_context dc; /* 2 KiB of stack; wiped before return */
    const br_ec_private_key *sk;
    int rc = -EINVAL, err;

    *why = "";
    if (len > CRYPTO_PRIV_DER_MAX) {
        *why = "private key DER too large";
        return -E2BIG;
    }
    if (len == 0 || der[0] != 0x30 || der_elem_len(der, len) != len) {
        *why = der_elem_len(der, len) == 0 ? "truncated or malformed DER"
                                           : "trailing bytes after the key";
        return -EINVAL;
    }
    br_skey_decoder_init(&dc);
    br_skey_decoder_push(&dc, der, len);
    err = br_skey_decoder_last_error(&dc);
    if (err == BR_ERR_X509_UNSUPPORTED) {
        *why = "unsupported key (explicit curve parameters or unknown "
               "curve; keel needs a named prime256v1 key)";
        rc = -EPROTONOSUPPORT;
        goto out;
    }
    if (err != 0) {
        *why = "not a PKCS#8 or SEC1 private key of a named curve "
               "(malformed, or explicit curve parameters)";
        goto out;
    }
    if (br_skey_decoder_key_type(&dc) != BR_KEYTYPE_EC) {
        *why = "not an EC key (keel needs ECDSA prime256v1)";
        rc = -EPROTONOSUPPORT;
        goto out;
    }
    sk = br_skey_decoder_get_ec(&dc);
    if (sk->curve != BR_EC_secp256r1) {
        *why = wrong_curve(sk->curve);
        rc = -EPROTONOSUPPORT;
        goto out;
    }
    if (sk->xlen == 0 || sk->xlen > CRYPTO_EC_PRIV_LEN) {
        *why = "private scalar has the wrong length";
        goto out;
    }
    memset(k->priv, 0, sizeof(k->priv));
    memcpy(k->priv + CRYPTO_EC_PRIV_LEN - sk->xlen, sk->x, sk->xlen);
    rc = crypto_ec_from_priv(k);
    if (rc != 0)
        *why = "private scalar out of range (zero or not below the group "
               "order)";
out:
    crypto_wipe(&dc, sizeof(dc));
    if (rc != 0)
        crypto_wipe(k, sizeof(*k));
    return rc;
}

int
crypto_ec_priv_encode(const struct crypto_eckey *k, int pkcs8, uint8_t *der,
                      size_t cap)
{
    br_ec_private_key sk = {BR_EC_secp256r1, (unsigned char *)k->priv,
                            CRYPTO_EC_PRIV_LEN};
    br_ec_public_key pk = {BR_EC_secp256r1, (unsigned char *)k->pub,
                           CRYPTO_EC_PUB_LEN};
    size_t n = pkcs8 ? br_encode_ec_pkcs8_der(NULL, &sk, &pk)
                     : br_encode_ec_raw_der(NULL, &sk, &pk);

    if (n == 0)
        return -EINVAL;
    if (n > cap)
        return -ENOBUFS;
    n = pkcs8 ? br_encode_ec_pkcs8_der(der, &sk, &pk)
              : br_encode_ec_raw_der(der, &sk, &pk);
    return (int)n;
}

/* ---- any key, from PEM or DER --------------------------------------- */

int
crypto_key_parse(const void *data, size_t len, struct crypto_eckey *k,
                 int *is_private, const char **why)
{
    uint8_t der[CRYPTO_PRIV_DER_MAX]; /* on the stack; wiped before return */
    char label[40];
    const uint8_t *p = data;
    int n, rc;

    *why = "";
    *is_private = 0;
    if (len > CRYPTO_KEYFILE_MAX) {
        *why = "key file larger than any key keel accepts";
        return -E2BIG;
    }
    if (len > 0 && p[0] == 0x30) {
        /* DER: a public key is exactly an SPKI, else a private key. */
        if (crypto_spki_decode(p, len, k->pub) == 0)
            return 0;
        *is_private = 1;
        return crypto_ec_priv_decode(p, len, k, why);
    }
    n = crypto_pem_decode(data, len, label, sizeof(label), der, sizeof(der),
                          why);
    if (n < 0) {
        crypto_wipe(der, sizeof(der));
        return n;
    }
    if (strcmp(label, "PUBLIC KEY") == 0) {
        rc = crypto_spki_decode(der, (size_t)n, k->pub);
        if (rc != 0)
            *why = "not a prime256v1 public key";
    } else if (strcmp(label, "PRIVATE KEY") == 0 ||
               strcmp(label, "EC PRIVATE KEY") == 0) {
        *is_private = 1;
        rc = crypto_ec_priv_decode(der, (size_t)n, k, why);
    } else if (strcmp(label, "ENCRYPTED PRIVATE KEY") == 0) {
        *why = "encrypted private key: decrypt it first (openssl pkey)";
        rc = -EPROTONOSUPPORT;
    } else {
        *why = "PEM object is not a key (expected PRIVATE KEY, EC PRIVATE "
               "KEY or PUBLIC KEY)";
        rc = -EINVAL;
    }
    crypto_wipe(der, sizeof(der));
    return rc;
}
