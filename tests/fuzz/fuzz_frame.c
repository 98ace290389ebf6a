/*
 * tests/fuzz/fuzz_frame.c - libFuzzer target: the peer-link frame
 * receiver (src/net/frame.c) fed arbitrary bytes in pieces whose sizes
 * the first byte chooses.  Nothing may crash or overrun the payload
 * buffer; every frame handed back has a known type and a length within
 * the limit; a refusal stays a refusal.  Seed: the golden ping
 * (tests/vectors/formats/frame-ping.bin).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "net/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[FRAME_KEEP_MAX]; /* what a link lends */
    struct frame_rx rx;
    size_t off = 1, step;

    if (size == 0)
        return 0;
    step = 1 + data[0] % 17;
    frame_rx_init(&rx, buf, FRAME_MAX_DEFAULT);
    while (off < size) {
        size_t k = size - off < step ? size - off : step;
        int done, used = frame_rx_feed(&rx, data + off, k, &done);

        if (used < 0) {
            if (rx.reason == FRAME_R_NONE ||
                frame_rx_feed(&rx, data, 1, &done) >= 0)
                abort();
            return 0;
        }
        if ((size_t)used > k || (used == 0 && !done))
            abort();
        if (done && (frame_type_name(rx.type) == NULL || rx.len > rx.max))
            abort();
        off += (size_t)used;
    }
    return 0;
}
