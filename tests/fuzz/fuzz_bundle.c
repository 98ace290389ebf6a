/*
 * tests/fuzz/fuzz_bundle.c - libFuzzer target: the decoders of a bundle
 * header, a manifest, signature blocks, a keyring, boot control and a
 * slot header, on arbitrary bytes (what arrives from a file, YMODEM, a
 * peer or a flash).  The first byte picks the decoder; nothing may crash
 * or read out of bounds, and whatever decodes must re-encode to the
 * same bytes (one encoding per value).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "update/bootctl.h"
#include "update/format.h"
#include "update/slot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[UPD_MANIFEST_MAX];
    const char *why;

    if (size < 1)
        return 0;
    switch (data[0] % 6) {
    case 0: {
        struct upd_header h;

        if (size - 1 >= UPD_HDR_LEN &&
            upd_header_decode(data + 1, &h, &why) == 0) {
            upd_header_encode(&h, out);
            if (memcmp(out, data + 1, UPD_HDR_LEN) != 0)
                abort();
        }
        break;
    }
    case 1: {
        struct upd_manifest m;

        if (upd_manifest_decode(data + 1, size - 1, &m, &why) == 0) {
            int n = upd_manifest_encode(&m, out, sizeof(out));

            if (n != (int)(size - 1) || memcmp(out, data + 1, size - 1))
                abort();
        }
        break;
    }
    case 2: {
        struct upd_keyring k;

        if (upd_keyring_decode(data + 1, size - 1, &k, &why) == 0) {
            int n = upd_keyring_encode(&k, out, sizeof(out));

            if (n != (int)(size - 1) || memcmp(out, data + 1, size - 1))
                abort();
        }
        break;
    }
    case 3: {
        struct upd_sig s[UPD_SIGS_MAX];

        (void)upd_sigs_decode(data + 1, size - 1, s, UPD_SIGS_MAX, &why);
        break;
    }
    case 4: {
        struct bootctl bc;

        if (bootctl_decode(data + 1, size - 1, &bc) == 0) {
            bootctl_encode(&bc, out);
            if (memcmp(out, data + 1, BOOTCTL_LEN) != 0)
                abort();
        }
        break;
    }
    default: {
        struct upd_slot_hdr sh;

        if (size - 1 >= UPD_SLOT_HDR_LEN &&
            upd_slot_hdr_decode(data + 1, &sh, &why) == 0) {
            upd_slot_hdr_encode(&sh, out);
            if (memcmp(out, data + 1, UPD_SLOT_HDR_LEN) != 0)
                abort();
        }
        break;
    }
    }
    return 0;
}
