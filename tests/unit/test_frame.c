/*
 * tests/unit/test_frame.c - peer-link frames (src/net/frame.c): the
 * golden encoding, whole frames from any split of the bytes, and each
 * refusal (a table) before a payload byte is taken.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/le.h"
#include "net/frame.h"
#include "ut.h"

static uint8_t pay[FRAME_MAX_DEFAULT];
static int writing;

/* header + "keel": the pinned encoding of a ping */
static size_t
ping(uint8_t *out)
{
    frame_encode(out, FRAME_PING, 4);
    memcpy(out + FRAME_HDR, "keel", 4);
    return FRAME_HDR + 4;
}

static void
test_golden(void)
{
    const char *d = getenv("KEEL_VECTORS");
    char path[512];
    uint8_t f[64], g[64];
    size_t n = ping(f), m = 0;
    FILE *fp;

    UT_CASE("golden: a ping frame's bytes");
    snprintf(path, sizeof(path), "%s/formats/frame-ping.bin",
             d != NULL ? d : "tests/vectors");
    fp = fopen(path, writing ? "wb" : "rb");
    UT_CHECK(fp != NULL);
    if (fp == NULL)
        return;
    if (writing)
        m = fwrite(f, 1, n, fp);
    else
        m = fread(g, 1, sizeof(g), fp);
    fclose(fp);
    UT_CHECK_EQ(m, n);
    UT_CHECK(writing || memcmp(f, g, n) == 0);
    UT_CHECK_EQ(frame_encode(f, 99, 0), -EINVAL);
}

/* Feed b in pieces of step bytes; count frames; 0 or the error. */
static int
feed_all(struct frame_rx *rx, const uint8_t *b, size_t n, size_t step,
         int *frames)
{
    size_t off = 0;

    *frames = 0;
    while (off < n) {
        size_t k = n - off < step ? n - off : step;
        int done, used = frame_rx_feed(rx, b + off, k, &done);

        if (used < 0)
            return used;
        if (done) {
            (*frames)++;
            if (rx->len != 4 || memcmp(rx->buf, "keel", 4) != 0 ||
                rx->type != FRAME_PING)
                return -EBADMSG;
        }
        off += (size_t)used;
    }
    return 0;
}

static void
test_splits(void)
{
    uint8_t b[3 * 12];
    size_t n = ping(b);
    struct frame_rx rx;
    int frames, ok = 1;

    UT_CASE("three frames arrive whole from every split of the bytes");
    ping(b + n);
    ping(b + 2 * n);
    for (size_t step = 1; step <= 3 * n; step++) {
        frame_rx_init(&rx, pay, FRAME_MAX_DEFAULT);
        ok &= feed_all(&rx, b, 3 * n, step, &frames) == 0 && frames == 3;
    }
    UT_CHECK(ok);

    UT_CASE("an empty payload is a frame; a partial header is not yet");
    {
        uint8_t h[FRAME_HDR];
        int done;

        frame_encode(h, FRAME_PONG, 0);
        frame_rx_init(&rx, pay, FRAME_MAX_DEFAULT);
        UT_CHECK_EQ(frame_rx_feed(&rx, h, 5, &done), 5);
        UT_CHECK_EQ(done, 0);
        UT_CHECK_EQ(frame_rx_feed(&rx, h + 5, 3, &done), 3);
        UT_CHECK_EQ(done, 1);
        UT_CHECK_EQ(rx.type, FRAME_PONG);
        UT_CHECK_EQ(rx.len, 0);
    }
}

static void
test_refusals(void)
{
    static const struct {
        const char *what;
        int off;      /* header byte set, or the length: -1 of a discard
                  * frame, -2 of a ping */
        uint32_t v;   /* its value */
        uint32_t max; /* the link's limit */
        int rc;
        int reason;
    } cases[] = {
        {"version 2", 0, 2, FRAME_MAX_DEFAULT, -EPROTO, FRAME_R_VERSION},
        {"version 0", 0, 0, FRAME_MAX_DEFAULT, -EPROTO, FRAME_R_VERSION},
        {"reserved byte 2", 2, 1, FRAME_MAX_DEFAULT, -EPROTO, FRAME_R_RESERVED},
        {"reserved byte 3", 3, 0x80, FRAME_MAX_DEFAULT, -EPROTO,
         FRAME_R_RESERVED},
        {"unknown type 0", 1, 0, FRAME_MAX_DEFAULT, -EPROTO, FRAME_R_TYPE},
        {"unknown type 200", 1, 200, FRAME_MAX_DEFAULT, -EPROTO, FRAME_R_TYPE},
        {"one byte over the limit", -1, 1025, 1024, -EMSGSIZE, FRAME_R_SIZE},
        {"a length of 2^32-1", -1, 0xffffffffu, FRAME_MAX_DEFAULT, -EMSGSIZE,
         FRAME_R_SIZE},
        {"exactly the limit", -1, 1024, 1024, 8, FRAME_R_NONE},
        {"a ping over its own limit", -2, 65, FRAME_MAX_DEFAULT, -EMSGSIZE,
         FRAME_R_SIZE},
        {"a ping at its own limit", -2, 64, FRAME_MAX_DEFAULT, 8, FRAME_R_NONE},
    };

    UT_CASE("refusals: each header fault ends the link with its reason");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct frame_rx rx;
        uint8_t h[FRAME_HDR];
        int done, rc;

        frame_encode(h, cases[i].off == -1 ? FRAME_DISCARD : FRAME_PING, 0);
        if (cases[i].off < 0)
            lib_put32(h + 4, cases[i].v);
        else
            h[cases[i].off] = (uint8_t)cases[i].v;
        frame_rx_init(&rx, pay, cases[i].max);
        rc = frame_rx_feed(&rx, h, sizeof(h), &done);
        if (rc != cases[i].rc || rx.reason != cases[i].reason)
            printf("  %s: %d, reason %s\n", cases[i].what, rc,
                   frame_reason_name(rx.reason));
        UT_CHECK_EQ(rc, cases[i].rc);
        UT_CHECK_EQ(rx.reason, cases[i].reason);
        UT_CHECK_EQ(done, 0);
        if (cases[i].rc < 0) /* nothing more once refused */
            UT_CHECK_EQ(frame_rx_feed(&rx, h, 1, &done), cases[i].rc);
    }
    UT_CHECK(strcmp(frame_reason_name(FRAME_R_SIZE), "oversized") == 0);
    UT_CHECK(strcmp(frame_type_name(FRAME_PING), "ping") == 0);
    UT_CHECK(frame_type_name(77) == NULL);
}

static void
test_discard(void)
{
    uint8_t b[FRAME_HDR + 3000], keep[FRAME_KEEP_MAX] = {0};
    struct frame_rx rx;
    size_t off = 0;
    int frames = 0, done;

    UT_CASE("a discard frame is counted and skipped, never copied");
    frame_encode(b, FRAME_DISCARD, 3000);
    memset(b + FRAME_HDR, 0xAB, 3000);
    frame_rx_init(&rx, keep, FRAME_MAX_DEFAULT);
    while (off < sizeof(b)) {
        size_t k = sizeof(b) - off < 700 ? sizeof(b) - off : 700;
        int used = frame_rx_feed(&rx, b + off, k, &done);

        UT_CHECK(used > 0);
        if (used <= 0)
            break;
        frames += done;
        off += (size_t)used;
    }
    UT_CHECK_EQ(frames, 1);
    UT_CHECK_EQ(rx.type, FRAME_DISCARD);
    UT_CHECK_EQ(rx.len, 3000);
    UT_CHECK_EQ(keep[0], 0);
    UT_CHECK_EQ(rx.fed, sizeof(b));
    UT_CHECK_EQ(frame_type_max(FRAME_DISCARD, 1000), 1000);
    UT_CHECK_EQ(frame_type_max(FRAME_PING, 1000), 64);
    UT_CHECK_EQ(frame_type_max(99, 1000), 0);
}

int
main(int argc, char **argv)
{
    ut_suite = "frame";
    if (argc == 3 && strcmp(argv[1], "--write-golden") == 0) {
        setenv("KEEL_VECTORS", argv[2], 1);
        writing = 1;
    }
    test_golden();
    test_splits();
    test_refusals();
    test_discard();
    return ut_done();
}
