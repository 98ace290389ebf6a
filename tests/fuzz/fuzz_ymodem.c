/*
 * tests/fuzz/fuzz_ymodem.c - libFuzzer target: the YMODEM receiver
 * (src/console/ymodem.c) fed arbitrary bytes in arbitrary pieces, with
 * time passing between them.
 *
 * Input: one setup byte, then steps.  The setup byte picks the limit
 * (1 to 8 KiB), whether the sink refuses past some byte and whether the
 * operator cancels midway.  A step byte b < 0xe0 feeds the next
 * 1 + b % 64 bytes, b / 64 ms after the last step; b >= 0xe0 lets
 * (b & 0x1f) * 400 ms pass and ticks.  At the end time runs on until
 * the session is over.
 *
 * Checked: nothing crashes; the session ends within bounded time once
 * the input does (timeouts, retries and the drain are all bounded);
 * the sink gets 1 to 1024 bytes a call, never more in all than the
 * limit or the announced size, nothing after it refused, and only bytes
 * that a frame with a valid CRC carried on the wire (looked up in the
 * bytes actually fed); begin comes once, before any data; an answer is
 * one of C, ACK, NAK, ACK C or the cancel; a session that ends well
 * has taken exactly the announced size.  Seeds: sessions as lrzsz's sb
 * sends them (tests/fuzz/mkseed_ymodem.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console/ymodem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WIRE_MAX 65536

static uint8_t wire[WIRE_MAX]; /* every byte fed, in order */
static size_t wire_len;

static struct {
    uint64_t limit, refuse_at, got, size;
    int begins, refused;
} S;

/* p[0..n) is the start of the data of a CRC-valid frame on the wire */
static int
on_wire(const uint8_t *p, size_t n)
{
    for (size_t j = 0; j + 5 + 128 <= wire_len; j++) {
        size_t len;

        if (wire[j] == YMODEM_SOH)
            len = 128;
        else if (wire[j] == YMODEM_STX)
            len = 1024;
        else
            continue;
        if (j + 5 + len > wire_len || n > len ||
            (uint8_t)(wire[j + 1] + wire[j + 2]) != 0xff ||
            memcmp(wire + j + 3, p, n) != 0)
            continue;
        if (ymodem_crc16(0, wire + j + 3, len) ==
            (uint16_t)(wire[j + 3 + len] << 8 | wire[j + 4 + len]))
            return 1;
    }
    return 0;
}

static int
begin(void *arg, const char *name, uint64_t size)
{
    (void)arg;
    (void)name;
    if (S.begins++ > 0 || S.got > 0 ||
        (size != YMODEM_SIZE_UNKNOWN && size > S.limit))
        abort();
    S.size = size;
    return 0;
}

static int
data(void *arg, const uint8_t *p, size_t n)
{
    (void)arg;
    if (S.begins != 1 || S.refused || n == 0 || n > YMODEM_BLOCK1K ||
        S.got + n > S.limit ||
        (S.size != YMODEM_SIZE_UNKNOWN && S.got + n > S.size) || !on_wire(p, n))
        abort();
    if (S.refuse_at != 0 && S.got + n > S.refuse_at) {
        S.refused = 1;
        return -ENOSPC;
    }
    S.got += n;
    return 0;
}

static const struct ymodem_rx_ops ops = {begin, data, NULL, NULL};

/* Check and take the receiver's answer. */
static void
answer(struct ymodem_rx *rx, uint64_t now)
{
    const uint8_t *p;
    size_t k = ymodem_rx_out(rx, &p);

    if (k == 1 && p[0] != YMODEM_C && p[0] != YMODEM_ACK && p[0] != YMODEM_NAK)
        abort();
    if (k == 2 && (p[0] != YMODEM_ACK || p[1] != YMODEM_C))
        abort();
    if (k != 0 && k != 1 && k != 2 &&
        (k != YMODEM_CANCEL_LEN || p[0] != YMODEM_CAN || p[1] != YMODEM_CAN))
        abort();
    if (k > 0)
        ymodem_rx_sent(rx, now);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
    static struct ymodem_rx rx;
    uint64_t now = 1000;
    size_t off = 1;
    int cancel_at;

    if (size < 1)
        return 0;
    memset(&S, 0, sizeof(S));
    wire_len = 0;
    S.limit = 1 + (uint64_t)(d[0] & 0x0f) * 512;
    S.refuse_at = d[0] & 0x10 ? S.limit / 3 + 1 : 0;
    cancel_at = d[0] & 0x20 ? (int)(size / 2) : -1;
    ymodem_rx_init(&rx, &ops, S.limit, now);
    answer(&rx, now);
    while (off < size) {
        uint8_t b = d[off++];

        if ((int)off > cancel_at && cancel_at >= 0) {
            ymodem_rx_cancel(&rx, -EINTR, "fuzz", now);
            cancel_at = -1;
        } else if (b < 0xe0) {
            size_t n = 1 + b % 64;

            if (n > size - off)
                n = size - off;
            if (n == 0)
                break;
            now += b / 64;
            if (wire_len + n <= WIRE_MAX) {
                memcpy(wire + wire_len, d + off, n);
                wire_len += n;
            }
            ymodem_rx_feed(&rx, d + off, n, now);
            off += n;
        } else {
            now += (uint64_t)(b & 0x1f) * 400;
            ymodem_rx_tick(&rx, now);
        }
        answer(&rx, now);
    }
    /* Silence from here on: every session ends, and soon (the longest
     * path is the start's 60 s or 11 block timeouts, then the drain). */
    for (int i = 0; i < 400 && !ymodem_rx_done(&rx); i++) {
        now += ymodem_rx_wait(&rx, now);
        ymodem_rx_tick(&rx, now);
        answer(&rx, now);
    }
    if (!ymodem_rx_done(&rx) || rx.reason == YM_R_NONE ||
        (rx.err == 0) != (rx.reason == YM_R_DONE) || rx.got != S.got ||
        (rx.err == 0 && S.size != YMODEM_SIZE_UNKNOWN && S.got != S.size))
        abort();
    if (getenv("YMODEM_FUZZ_TRACE") != NULL) /* what a seed does */
        fprintf(stderr, "fuzz_ymodem: %s: %s\n", ymodem_reason_name(rx.reason),
                rx.why);
    return 0;
}
