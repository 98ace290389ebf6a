/*
 * tests/fuzz/fuzz_identity.c - libFuzzer target: the identity record
 * decoder (identity_record_decode) on arbitrary bytes, as the loader
 * meets them in a damaged or hostile store.  Nothing may crash or read
 * out of bounds; a record that decodes must encode back to the same
 * bytes (one encoding per record) and hold a key pair that matches.
 * Seeds: the golden record (tests/vectors/formats/identity-record.bin).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct identity id;
    uint8_t back[ID_REC_LEN];
    const char *why = NULL;

    if (identity_record_decode(data, size, &id, &why) != 0) {
        if (why == NULL)
            abort(); /* every refusal says why */
        return 0;
    }
    if (size != ID_REC_LEN)
        abort();
    identity_record_encode(&id, back);
    if (memcmp(back, data, ID_REC_LEN) != 0)
        abort();
    return 0;
}
