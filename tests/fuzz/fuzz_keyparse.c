/*
 * tests/fuzz/fuzz_keyparse.c - libFuzzer target: crypto_key_parse() on
 * arbitrary bytes (the path `id import` and `id verify --key` take for
 * operator files): PEM armour, base64, PKCS#8, SEC1 and SPKI DER.
 * Nothing may crash or read out of bounds; whatever parses must be a
 * key whose public half matches its private half.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct crypto_eckey k, k2;
    const char *why = NULL;
    int priv = 0;

    if (crypto_key_parse(data, size, &k, &priv, &why) == 0) {
        if (priv) {
            memcpy(k2.priv, k.priv, sizeof(k.priv));
            if (crypto_ec_from_priv(&k2) != 0 ||
                memcmp(k2.pub, k.pub, sizeof(k.pub)) != 0)
                abort();
        }
    } else if (why == NULL || why[0] == '\0') {
        abort(); /* every refusal names its reason */
    }
    return 0;
}
