/*
 * console/ymodem.c - the YMODEM receiver and sender (see ymodem.h), and
 * the loops that drive them over the caller's I/O.
 *
 * Both machines keep one deadline.  It runs from the moment the caller
 * says the last answer went out (ymodem_*_sent), not from when it was
 * made: a consumer may hold an ACK back while it works (struct
 * ymodem_pull), and that time is not the other side's silence.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "console/ymodem.h"
#include "lib/crc16.h"
#include "lib/why.h"

#define EVENT_MAX 160

static const char *const reason_names[] = {
#define YM_R_NAME(id, name) name,
    YMODEM_REASONS(YM_R_NAME)
#undef YM_R_NAME
};
static const char *const rx_state_names[] = {
#define YM_S_NAME(id, name) name,
    YMODEM_RX_STATES(YM_S_NAME)};
static const char *const tx_state_names[] = {YMODEM_TX_STATES(YM_S_NAME)
#undef YM_S_NAME
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *
ymodem_reason_name(int reason)
{
    return reason >= 0 && (size_t)reason < COUNT(reason_names)
               ? reason_names[reason]
               : "unknown";
}

const char *
ymodem_rx_state_name(int state)
{
    return state >= 0 && (size_t)state < COUNT(rx_state_names)
               ? rx_state_names[state]
               : "unknown";
}

const char *
ymodem_tx_state_name(int state)
{
    return state >= 0 && (size_t)state < COUNT(tx_state_names)
               ? tx_state_names[state]
               : "unknown";
}

uint16_t
ymodem_crc16(uint16_t crc, const uint8_t *p, size_t n)
{
    return lib_crc16(crc, p, n);
}

static void
timing_defaults(struct ymodem_timing *t)
{
    t->c_ms = YMODEM_C_MS;
    t->start_ms = YMODEM_START_MS;
    t->block_ms = YMODEM_BLOCK_MS;
    t->byte_ms = YMODEM_BYTE_MS;
    t->purge_ms = YMODEM_PURGE_MS;
    t->drain_ms = YMODEM_DRAIN_MS;
    t->drain_max_ms = YMODEM_DRAIN_MAX_MS;
    t->stale_ms = YMODEM_STALE_MS;
    t->retries = YMODEM_RETRIES;
}

/* A name as it may be printed: printable ASCII, the rest '?', cut to
 * fit. */
static void
printable(char *out, size_t cap, const char *in, size_t n)
{
    size_t i;

    for (i = 0; i < n && i + 1 < cap && in[i] != '\0'; i++)
        out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
    out[i] = '\0';
}

static void
cancel_bytes(uint8_t out[YMODEM_CANCEL_LEN])
{
    memset(out, YMODEM_CAN, YMODEM_CANCEL_LEN / 2);
    memset(out + YMODEM_CANCEL_LEN / 2, YMODEM_BS, YMODEM_CANCEL_LEN / 2);
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* CAN CAN among bytes the other side sent before it saw our answer
 * (stale bytes, otherwise dropped).  A receiver's bytes are all control
 * bytes, so any CAN CAN counts; a sender's may be a retransmitted block
 * whose data holds CAN CAN, so only a leading CAN CAN does (a sender
 * that aborts sends its CANs after the block it was sending). */
static int
stale_cancel(const uint8_t *p, size_t n, int anywhere)
{
    int can = 0;

    if (!anywhere)
        return n >= 2 && p[0] == YMODEM_CAN && p[1] == YMODEM_CAN;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == YMODEM_CAN && can)
            return 1;
        can = p[i] == YMODEM_CAN;
    }
    return 0;
}

/* ---- the receiver -------------------------------------------------------- */

static void rx_event(struct ymodem_rx *rx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
rx_event(struct ymodem_rx *rx, const char *fmt, ...)
{
    char msg[EVENT_MAX];
    va_list ap;

    if (rx->ops.event == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rx->ops.event(rx->ops.arg, msg);
}

/* The number of the block in progress, counted from 1 past 255. */
static uint32_t
rx_blockno(const struct ymodem_rx *rx)
{
    return rx->state == YM_RX_START || rx->state == YM_RX_END ? 0
                                                              : rx->blocks + 1;
}

static void
rx_answer(struct ymodem_rx *rx, const uint8_t *b, size_t n)
{
    memcpy(rx->out, b, n);
    rx->out_len = (uint8_t)n;
    rx->armed = 0;
}

static void
rx_answer1(struct ymodem_rx *rx, uint8_t c)
{
    rx_answer(rx, &c, 1);
}

static void
rx_ack_c(struct ymodem_rx *rx)
{
    static const uint8_t ack_c[2] = {YMODEM_ACK, YMODEM_C};

    rx_answer(rx, ack_c, 2);
}

/* Start the deadline of what the receiver now waits for. */
static void
rx_arm(struct ymodem_rx *rx, uint64_t now)
{
    const struct ymodem_timing *t = &rx->tm;

    rx->armed = 1;
    if (rx->state == YM_RX_CANCEL)
        rx->deadline = min_u64(now + t->drain_ms, rx->since + t->drain_max_ms);
    else if (rx->purge)
        rx->deadline = min_u64(now + t->purge_ms, rx->since + t->block_ms);
    else if (rx->pos > 0)
        rx->deadline = now + t->byte_ms;
    else if (rx->state == YM_RX_START)
        rx->deadline = now + t->c_ms;
    else
        rx->deadline = now + t->block_ms;
}

static void
rx_finish(struct ymodem_rx *rx)
{
    rx->state = YM_RX_DONE;
    rx->armed = 1;
    rx_event(rx, "done: %s", rx->why);
}

/* End with a failure (or, err 0, a note) and cancel the sender: CAN x8
 * BS x8, then the drain. */
static void rx_fail(struct ymodem_rx *rx, int err, int reason, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

static void
rx_fail(struct ymodem_rx *rx, int err, int reason, const char *fmt, ...)
{
    uint8_t can[YMODEM_CANCEL_LEN];
    va_list ap;

    va_start(ap, fmt);
    rx->err = lib_vwhy(rx->why, sizeof(rx->why), err, fmt, ap);
    va_end(ap);
    rx->reason = (uint8_t)reason;
    rx->state = YM_RX_CANCEL;
    rx->purge = 0;
    rx->pos = 0;
    cancel_bytes(can);
    rx_answer(rx, can, sizeof(can));
    rx_event(rx, "cancel: %s; CAN to the sender", rx->why);
}

/* The other side cancelled: nothing to answer, only the drain. */
static void
rx_peer_cancel(struct ymodem_rx *rx, uint64_t now)
{
    rx->err =
        lib_why(rx->why, sizeof(rx->why), -ECANCELED,
                "the sender cancelled (CAN CAN) at byte %" PRIu64, rx->got);
    rx->reason = YM_R_PEER_CANCEL;
    rx->state = YM_RX_CANCEL;
    rx->purge = 0;
    rx->pos = 0;
    rx->out_len = 0;
    rx->since = now;
    rx_arm(rx, now);
    rx_event(rx, "cancel: %s", rx->why);
}

/* One failed try at the current block: NAK (or 'C' while a block 0 is
 * wanted) for another, or give up after tm.retries. */
static void
rx_retry(struct ymodem_rx *rx, int timeout, const char *what)
{
    uint32_t b = rx_blockno(rx);

    rx->errors++;
    if (rx->tries >= rx->tm.retries) {
        rx_fail(rx, timeout ? -ETIMEDOUT : -EIO,
                timeout ? YM_R_TIMEOUT : YM_R_RETRIES,
                "block %" PRIu32 " failed %u times (last: %s)", b,
                (unsigned)rx->tries + 1, what);
        return;
    }
    rx->tries++;
    if (rx->state == YM_RX_START || rx->state == YM_RX_END) {
        rx_answer1(rx, YMODEM_C);
        rx_event(rx, "block %" PRIu32 ": %s; 'C' (%u of %u)", b, what,
                 (unsigned)rx->tries, (unsigned)rx->tm.retries);
    } else {
        rx_answer1(rx, YMODEM_NAK);
        rx_event(rx, "block %" PRIu32 ": %s; NAK (%u of %u)", b, what,
                 (unsigned)rx->tries, (unsigned)rx->tm.retries);
    }
}

/* Discard until the line is quiet, then NAK (Forsberg: a receiver that
 * wants to NAK waits for the line to clear first). */
static void
rx_purge(struct ymodem_rx *rx, uint64_t now, const char *what)
{
    rx->purge = 1;
    rx->pos = 0;
    rx->since = now;
    rx_event(rx, "block %" PRIu32 ": %s; waiting for the line to clear",
             rx_blockno(rx), what);
}

void
ymodem_rx_init(struct ymodem_rx *rx, const struct ymodem_rx_ops *ops,
               uint64_t limit, uint64_t now_ms)
{
    memset(rx, 0, sizeof(*rx));
    rx->ops = *ops;
    timing_defaults(&rx->tm);
    rx->limit = limit;
    rx->size = YMODEM_SIZE_UNKNOWN;
    rx->state = YM_RX_START;
    rx->since = now_ms;
    rx->deadline = now_ms;
    rx_answer1(rx, YMODEM_C);
}

/* Block 0 while starting: the file's name and size. */
static void
rx_header(struct ymodem_rx *rx)
{
    const uint8_t *b = rx->buf, *nul = memchr(b, 0, rx->len);
    uint64_t size = YMODEM_SIZE_UNKNOWN;
    size_t i;
    int rc;

    if (b[0] == 0) {
        rx_answer1(rx, YMODEM_ACK);
        rx->err = lib_why(rx->why, sizeof(rx->why), -ENOENT,
                          "the sender sent no file (an empty batch)");
        rx->reason = YM_R_NO_FILE;
        rx_finish(rx);
        return;
    }
    if (nul == NULL) {
        rx_fail(rx, -EBADMSG, YM_R_HEADER,
                "block 0 holds no file name (no NUL in %u bytes)",
                (unsigned)rx->len);
        return;
    }
    printable(rx->name, sizeof(rx->name), (const char *)b, (size_t)(nul - b));
    i = (size_t)(nul - b) + 1;
    if (i < rx->len && b[i] != 0) {
        size_t start = i;

        size = 0;
        for (; i < rx->len && b[i] >= '0' && b[i] <= '9'; i++) {
            unsigned d = (unsigned)(b[i] - '0');

            if (size > (UINT64_MAX - 1 - d) / 10)
                break;
            size = size * 10 + d;
        }
        if (i == start || (i < rx->len && b[i] != ' ' && b[i] != 0)) {
            char tok[24];

            printable(tok, sizeof(tok), (const char *)b + start,
                      rx->len - start);
            rx_fail(rx, -EBADMSG, YM_R_HEADER,
                    "block 0 of '%s': its size '%s' is not a decimal number",
                    rx->name, tok);
            return;
        }
    }
    if (size != YMODEM_SIZE_UNKNOWN && size > rx->limit) {
        rx_fail(rx, -EFBIG, YM_R_TOO_BIG,
                "'%s' is %" PRIu64 " bytes; at most %" PRIu64 " are taken",
                rx->name, size, rx->limit);
        return;
    }
    rx->size = size;
    if (rx->ops.begin != NULL &&
        (rc = rx->ops.begin(rx->ops.arg, (const char *)b, size)) < 0) {
        rx_fail(rx, rc, YM_R_REFUSED, "'%s' was refused (%s)", rx->name,
                strerror(-rc));
        return;
    }
    rx->state = YM_RX_DATA;
    rx->next = 1;
    rx->tries = 0;
    rx_ack_c(rx);
    if (size == YMODEM_SIZE_UNKNOWN)
        rx_event(rx, "block 0: '%s', size not given; ACK, 'C' for the data",
                 rx->name);
    else
        rx_event(rx, "block 0: '%s', %" PRIu64 " bytes; ACK, 'C' for the data",
                 rx->name, size);
}

/* The block the receiver waits for: hand its bytes over, ACK. */
static void
rx_data(struct ymodem_rx *rx)
{
    size_t n = rx->len;
    int rc;

    if (rx->size != YMODEM_SIZE_UNKNOWN) {
        uint64_t left = rx->size - rx->got;

        if (left == 0) {
            rx_fail(rx, -EFBIG, YM_R_OVERRUN,
                    "the sender sent more than the %" PRIu64
                    " bytes it announced",
                    rx->size);
            return;
        }
        if (n > left)
            n = (size_t)left; /* the padding of the last block */
    } else if (n > rx->limit - rx->got) {
        rx_fail(rx, -EFBIG, YM_R_OVERRUN,
                "the sender sent more than the limit of %" PRIu64 " bytes",
                rx->limit);
        return;
    }
    rc = rx->ops.data(rx->ops.arg, rx->buf, n);
    if (rc < 0) {
        rx_fail(rx, rc, YM_R_REFUSED,
                "the data was refused at byte %" PRIu64 " (%s)", rx->got,
                strerror(-rc));
        return;
    }
    if (rx->state == YM_RX_EOT)
        rx_event(rx, "block %" PRIu32 " after an EOT: the EOT was noise",
                 rx->blocks + 1);
    rx->state = YM_RX_DATA;
    rx->got += n;
    rx->blocks++;
    rx->next++;
    rx->tries = 0;
    rx_answer1(rx, YMODEM_ACK);
}

/* A copy of what we just ACKed, begun at t, too soon after that ACK:
 * the other side sent it before it could have seen the ACK (it read a
 * stale byte as a NAK, or its timeout crossed our late ACK).  Answering
 * it too would put a second ACK in the other side's input, to be taken
 * for the answer to its next block: lrzsz's sb then runs a block ahead
 * and the session is lost.  A copy sent because the ACK was lost comes
 * after the other side's timeout, seconds later, and is answered; so is
 * one that follows our NAK, which asked for it. */
static int
rx_stale(const struct ymodem_rx *rx, uint64_t t)
{
    return rx->acked && t < rx->sent_at + rx->tm.stale_ms;
}

/* A whole frame arrived with a good header complement. */
static void
rx_frame(struct ymodem_rx *rx, uint64_t now)
{
    uint16_t crc = (uint16_t)(rx->hdr[2] << 8 | rx->hdr[3]);
    uint8_t num = rx->hdr[0];
    char what[64];

    rx->pos = 0;
    if (ymodem_crc16(0, rx->buf, rx->len) != crc) {
        rx_purge(rx, now, "CRC mismatch");
        return;
    }
    switch (rx->state) {
    case YM_RX_START:
        if (num == 0)
            rx_header(rx);
        else
            rx_fail(rx, -EPROTO, YM_R_XMODEM,
                    "the sender began with block %u, not block 0 (name and "
                    "size): that is XMODEM; send with YMODEM (sb, sz "
                    "--ymodem)",
                    (unsigned)num);
        return;
    case YM_RX_DATA:
    case YM_RX_EOT:
        if (num == rx->next) {
            rx_data(rx);
            return;
        }
        if (num == (uint8_t)(rx->next - 1)) {
            if (rx_stale(rx, rx->frame_t0)) {
                rx_event(rx,
                         "block %" PRIu32 " again, begun right after our "
                         "answer: sent before it was seen; dropped",
                         rx->blocks);
                return;
            }
            /* Our ACK was lost and the sender sent it again: ACK once
             * more, hand nothing over twice.  Bounded like any other
             * failure. */
            if (rx->tries >= rx->tm.retries) {
                rx_retry(rx, 0, "the previous block again");
                return;
            }
            rx->tries++;
            rx->errors++;
            if (rx->blocks == 0)
                rx_ack_c(rx); /* block 0 again: it waits for 'C' too */
            else
                rx_answer1(rx, YMODEM_ACK);
            rx_event(rx, "block %" PRIu32 " again (our ACK was lost); ACK",
                     rx->blocks);
            return;
        }
        snprintf(what, sizeof(what),
                 "block %u on the wire where %u was expected", (unsigned)num,
                 (unsigned)rx->next);
        rx_retry(rx, 0, what);
        return;
    case YM_RX_END:
        if (num != 0) {
            snprintf(what, sizeof(what), "block %u where block 0 was expected",
                     (unsigned)num);
            rx_retry(rx, 0, what);
            return;
        }
        if (rx->buf[0] == 0) {
            rx_answer1(rx, YMODEM_ACK);
            rx->err = lib_why(rx->why, sizeof(rx->why), 0,
                              "received '%s', %" PRIu64 " bytes in %" PRIu32
                              " blocks",
                              rx->name, rx->got, rx->blocks);
            rx->reason = YM_R_DONE;
            rx_finish(rx);
            return;
        }
        {
            char second[YMODEM_NAME_MAX];

            printable(second, sizeof(second), (const char *)rx->buf, rx->len);
            rx_fail(rx, 0, YM_R_DONE,
                    "received '%s', %" PRIu64 " bytes; a second file, "
                    "'%s', was refused (one file per session)",
                    rx->name, rx->got, second);
        }
        return;
    default:
        return;
    }
}

static void
rx_eot(struct ymodem_rx *rx, uint64_t now)
{
    switch (rx->state) {
    case YM_RX_DATA:
        rx->state = YM_RX_EOT;
        rx_answer1(rx, YMODEM_NAK);
        rx_event(rx, "EOT after %" PRIu64 " bytes: NAK once, to be sure",
                 rx->got);
        return;
    case YM_RX_EOT:
        if (rx->size != YMODEM_SIZE_UNKNOWN && rx->got < rx->size) {
            rx_fail(rx, -EPIPE, YM_R_SHORT,
                    "the sender ended '%s' at %" PRIu64 " of %" PRIu64 " bytes",
                    rx->name, rx->got, rx->size);
            return;
        }
        rx->state = YM_RX_END;
        rx->tries = 0;
        rx_ack_c(rx);
        rx_event(rx,
                 "EOT again: '%s' is complete, %" PRIu64
                 " bytes; ACK, 'C' for the end of the batch",
                 rx->name, rx->got);
        return;
    case YM_RX_END:
        if (rx_stale(rx, now)) {
            rx_event(rx, "EOT again, right after our answer: dropped");
            return;
        }
        /* our ACK of the EOT was lost */
        if (rx->tries >= rx->tm.retries) {
            rx_retry(rx, 0, "EOT again");
            return;
        }
        rx->tries++;
        rx->errors++;
        rx_ack_c(rx);
        rx_event(rx, "EOT again (our ACK was lost); ACK, 'C'");
        return;
    default:
        return; /* before block 0: noise */
    }
}

/* A byte where a frame may begin. */
static void
rx_lead(struct ymodem_rx *rx, uint8_t c, uint64_t now)
{
    switch (c) {
    case YMODEM_SOH:
    case YMODEM_STX:
        rx->len = c == YMODEM_SOH ? YMODEM_BLOCK : YMODEM_BLOCK1K;
        rx->pos = 1;
        rx->can = 0;
        rx->frame_t0 = now;
        return;
    case YMODEM_EOT:
        rx->can = 0;
        rx_eot(rx, now);
        return;
    case YMODEM_CAN:
        if (rx->can)
            rx_peer_cancel(rx, now);
        else
            rx->can = 1;
        return;
    default:
        rx->can = 0;
        /* Before block 0 the line may carry anything (the tail of the
         * command, a terminal's noise): the 'C's go on regardless. */
        if (rx->state != YM_RX_START) {
            char what[48];

            snprintf(what, sizeof(what), "0x%02x where a block should start",
                     (unsigned)c);
            rx_purge(rx, now, what);
        }
        return;
    }
}

/* A byte of the frame in progress. */
static void
rx_byte(struct ymodem_rx *rx, uint8_t c, uint64_t now)
{
    uint16_t pos = rx->pos++;

    if (pos < 3) {
        rx->hdr[pos - 1] = c;
        if (pos == 2 && (uint8_t)(rx->hdr[0] + rx->hdr[1]) != 0xff)
            rx_purge(rx, now, "block number garbled");
    } else if (pos < 3 + rx->len) {
        rx->buf[pos - 3] = c;
    } else {
        rx->hdr[2 + pos - 3 - rx->len] = c;
        if (pos == 3 + rx->len + 1)
            rx_frame(rx, now);
    }
}

void
ymodem_rx_sent(struct ymodem_rx *rx, uint64_t now_ms)
{
    if (rx->out_len == 0 && rx->armed)
        return; /* nothing was waiting to go */
    rx->acked = rx->out[0] == YMODEM_ACK;
    rx->out_len = 0;
    rx->sent_at = now_ms;
    if (rx->state == YM_RX_DONE)
        return;
    if (rx->state == YM_RX_CANCEL)
        rx->since = now_ms; /* the drain runs from the CANs */
    rx_arm(rx, now_ms);
}

/* An answer the caller did not say it wrote: taken as written now. */
static void
rx_catch_up(struct ymodem_rx *rx, uint64_t now)
{
    if (!rx->armed)
        ymodem_rx_sent(rx, now);
}

void
ymodem_rx_feed(struct ymodem_rx *rx, const uint8_t *p, size_t n,
               uint64_t now_ms)
{
    size_t i;

    rx_catch_up(rx, now_ms);
    if (rx->state == YM_RX_DONE || n == 0)
        return;
    if (rx->state == YM_RX_CANCEL) {
        rx_arm(rx, now_ms); /* not quiet yet */
        return;
    }
    if (rx->purge) {
        rx_arm(rx, now_ms); /* not quiet yet */
        return;
    }
    rx->idle = 0;
    for (i = 0; i < n; i++) {
        if (rx->pos == 0)
            rx_lead(rx, p[i], now_ms);
        else
            rx_byte(rx, p[i], now_ms);
        if (!rx->armed || rx->purge || rx->state == YM_RX_CANCEL ||
            rx->state == YM_RX_DONE)
            break;
    }
    /* An answer was made at p[i]: what follows is stale. */
    if (i < n && !rx->armed && !rx->purge && rx->state != YM_RX_CANCEL &&
        rx->state != YM_RX_DONE && stale_cancel(p + i + 1, n - i - 1, 0))
        rx_peer_cancel(rx, now_ms);
    /* A frame in progress, or the purge it fell into, runs from the
     * last byte; the wait for a block does not (noise must not put
     * off the next 'C' or NAK). */
    if (rx->armed && (rx->pos > 0 || rx->purge))
        rx_arm(rx, now_ms);
}

void
ymodem_rx_tick(struct ymodem_rx *rx, uint64_t now_ms)
{
    char what[64];

    rx_catch_up(rx, now_ms);
    if (rx->state == YM_RX_DONE || now_ms < rx->deadline)
        return;
    if (rx->state == YM_RX_CANCEL) {
        rx_finish(rx);
        return;
    }
    if (rx->purge) {
        rx->purge = 0;
        rx_retry(rx, 0, "the line cleared after an error");
        return;
    }
    if (rx->pos > 0) {
        snprintf(what, sizeof(what), "only %u of %u bytes came",
                 (unsigned)rx->pos, (unsigned)(rx->len + 5));
        rx->pos = 0;
        rx_retry(rx, 0, what);
        return;
    }
    switch (rx->state) {
    case YM_RX_START:
        if (now_ms - rx->since >= rx->tm.start_ms) {
            rx_fail(rx, -ETIMEDOUT, YM_R_NO_START,
                    "no YMODEM sender began within %u s",
                    (unsigned)(rx->tm.start_ms / 1000));
            return;
        }
        rx_answer1(rx, YMODEM_C);
        return;
    case YM_RX_END:
        if (++rx->idle >= 2) {
            /* The file is whole (its EOT was ACKed): a sender that never
             * ends the batch does not undo that.  (Two silent waits: one
             * 'C' may be lost.) */
            rx->err = lib_why(rx->why, sizeof(rx->why), 0,
                              "received '%s', %" PRIu64
                              " bytes (the sender did not end the batch)",
                              rx->name, rx->got);
            rx->reason = YM_R_DONE;
            rx_finish(rx);
            return;
        }
        break;
    default:
        break;
    }
    snprintf(what, sizeof(what), "nothing within %u s",
             (unsigned)(rx->tm.block_ms / 1000));
    rx_retry(rx, 1, what);
}

size_t
ymodem_rx_out(const struct ymodem_rx *rx, const uint8_t **p)
{
    *p = rx->out;
    return rx->out_len;
}

uint32_t
ymodem_rx_wait(const struct ymodem_rx *rx, uint64_t now_ms)
{
    uint64_t d;

    if (rx->state == YM_RX_DONE || !rx->armed || rx->deadline <= now_ms)
        return 0;
    d = rx->deadline - now_ms;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

void
ymodem_rx_cancel(struct ymodem_rx *rx, int err, const char *why,
                 uint64_t now_ms)
{
    (void)now_ms; /* the drain runs from when the CANs are written */
    if (rx->state == YM_RX_CANCEL || rx->state == YM_RX_DONE)
        return;
    rx_fail(rx, err < 0 ? err : -ECANCELED, YM_R_CANCEL, "%s",
            why != NULL ? why : "cancelled on this side");
}

int
ymodem_rx_done(const struct ymodem_rx *rx)
{
    return rx->state == YM_RX_DONE;
}

/* ---- the sender ---------------------------------------------------------- */

static void tx_event(struct ymodem_tx *tx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tx_event(struct ymodem_tx *tx, const char *fmt, ...)
{
    char msg[EVENT_MAX];
    va_list ap;

    if (tx->ops.event == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    tx->ops.event(tx->ops.arg, msg);
}

static void
tx_arm(struct ymodem_tx *tx, uint64_t now)
{
    const struct ymodem_timing *t = &tx->tm;

    tx->armed = 1;
    if (tx->state == YM_TX_START)
        tx->deadline = tx->since + t->start_ms;
    else if (tx->state == YM_TX_CANCEL)
        tx->deadline = min_u64(now + t->drain_ms, tx->since + t->drain_max_ms);
    else
        tx->deadline = now + t->block_ms;
}

static void
tx_emit(struct ymodem_tx *tx, const uint8_t *p, size_t n)
{
    tx->out = p;
    tx->out_len = (uint16_t)n;
    tx->armed = 0;
}

static void
tx_finish(struct ymodem_tx *tx)
{
    tx->state = YM_TX_DONE;
    tx->armed = 1;
    tx_event(tx, "done: %s", tx->why);
}

static void tx_fail(struct ymodem_tx *tx, int err, int reason, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

static void
tx_fail(struct ymodem_tx *tx, int err, int reason, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tx->err = lib_vwhy(tx->why, sizeof(tx->why), err, fmt, ap);
    va_end(ap);
    tx->reason = (uint8_t)reason;
    tx->state = YM_TX_CANCEL;
    cancel_bytes(tx->ctl);
    tx_emit(tx, tx->ctl, YMODEM_CANCEL_LEN);
    tx_event(tx, "cancel: %s; CAN to the receiver", tx->why);
}

static void
tx_peer_cancel(struct ymodem_tx *tx, uint64_t now)
{
    tx->err =
        lib_why(tx->why, sizeof(tx->why), -ECANCELED,
                "the receiver cancelled (CAN CAN) at byte %" PRIu64, tx->sent);
    tx->reason = YM_R_PEER_CANCEL;
    tx->state = YM_TX_CANCEL;
    tx->out_len = 0;
    tx->since = now;
    tx_arm(tx, now);
    tx_event(tx, "cancel: %s", tx->why);
}

/* Seal the frame in tx->frame: block num of len data bytes (the data
 * already at frame + 3, padded). */
static void
tx_seal(struct ymodem_tx *tx, uint8_t num, uint16_t len)
{
    uint16_t crc = ymodem_crc16(0, tx->frame + 3, len);

    tx->frame[0] = len == YMODEM_BLOCK ? YMODEM_SOH : YMODEM_STX;
    tx->frame[1] = num;
    tx->frame[2] = (uint8_t)~num;
    tx->frame[3 + len] = (uint8_t)(crc >> 8);
    tx->frame[3 + len + 1] = (uint8_t)crc;
    tx->num = num;
    tx->frame_len = (uint16_t)(len + 5);
}

int
ymodem_tx_init(struct ymodem_tx *tx, const struct ymodem_tx_ops *ops,
               const char *name, uint64_t size, uint64_t now_ms)
{
    size_t n = strlen(name);
    uint8_t *d = tx->frame + 3;
    int k;

    memset(tx, 0, sizeof(*tx));
    tx->ops = *ops;
    timing_defaults(&tx->tm);
    tx->block = YMODEM_BLOCK1K;
    tx->size = size;
    tx->since = now_ms;
    tx->state = YM_TX_START;
    printable(tx->name, sizeof(tx->name), name, n);
    tx_arm(tx, now_ms);
    if (n == 0 || n > 255) {
        tx->err = lib_why(tx->why, sizeof(tx->why), -EINVAL,
                          "a YMODEM file name is 1 to 255 bytes, not %zu", n);
        tx->reason = YM_R_HEADER;
        tx_finish(tx);
        return -EINVAL;
    }
    /* Block 0 is made now (name is the caller's only until we return):
     * "name NUL size mtime mode NUL", zero-filled, mtime 0 (unknown) and
     * mode 0 (not a Unix file) as the reference has them; a 1K block
     * only when that does not fit in 128 bytes. */
    memcpy(d, name, n);
    k = snprintf((char *)d + n + 1, YMODEM_BLOCK1K - n - 1, "%" PRIu64 " 0 0",
                 size);
    memset(d + n + 1 + k, 0, YMODEM_BLOCK1K - n - 1 - (size_t)k);
    tx_seal(tx, 0,
            n + 1 + (size_t)k + 1 <= YMODEM_BLOCK ? YMODEM_BLOCK
                                                  : YMODEM_BLOCK1K);
    return 0;
}

/* The next data block, or EOT after the last. */
static void
tx_next(struct ymodem_tx *tx)
{
    uint64_t left = tx->size - tx->sent;
    uint32_t chunk, got = 0;
    uint16_t len;

    tx->tries = 0;
    if (left == 0) {
        tx->state = YM_TX_EOT;
        tx->ctl[0] = YMODEM_EOT;
        tx_emit(tx, tx->ctl, 1);
        tx_event(tx, "'%s': all %" PRIu64 " bytes sent; EOT", tx->name,
                 tx->size);
        return;
    }
    if (left >= tx->block) {
        len = tx->block;
        chunk = len;
    } else {
        /* the last block: 128 bytes when that holds it, as lrzsz does */
        chunk = (uint32_t)left;
        len = left <= YMODEM_BLOCK ? YMODEM_BLOCK : tx->block;
    }
    while (got < chunk) {
        int r = tx->ops.read(tx->ops.arg, tx->frame + 3 + got, chunk - got);

        if (r < 0) {
            tx_fail(tx, r, YM_R_READ,
                    "reading '%s' at byte %" PRIu64 " failed (%s)", tx->name,
                    tx->sent + got, strerror(-r));
            return;
        }
        if (r == 0 || (uint32_t)r > chunk - got) {
            tx_fail(tx, r == 0 ? -EPIPE : -EIO, YM_R_SHORT,
                    "'%s' ended at byte %" PRIu64 " of the %" PRIu64
                    " announced",
                    tx->name, tx->sent + got, tx->size);
            return;
        }
        got += (uint32_t)r;
    }
    memset(tx->frame + 3 + chunk, YMODEM_PAD, len - chunk);
    tx->chunk = chunk;
    tx_seal(tx, (uint8_t)(tx->blocks + 1), len);
    tx->state = YM_TX_DATA;
    tx_emit(tx, tx->frame, tx->frame_len);
}

static const char *
tx_what(const struct ymodem_tx *tx, char *buf, size_t cap)
{
    if (tx->state == YM_TX_HEADER)
        return "block 0";
    if (tx->state == YM_TX_END)
        return "the end block";
    if (tx->state == YM_TX_EOT)
        return "EOT";
    snprintf(buf, cap, "block %" PRIu32, tx->blocks + 1);
    return buf;
}

/* The receiver did not take what is in flight: send it again, or give
 * up after tm.retries. */
static void
tx_resend(struct ymodem_tx *tx, int timeout, const char *what)
{
    char b[24];
    const char *w = tx_what(tx, b, sizeof(b));

    tx->errors++;
    if (tx->tries >= tx->tm.retries) {
        tx_fail(tx, timeout ? -ETIMEDOUT : -EIO,
                timeout ? YM_R_TIMEOUT : YM_R_RETRIES,
                "%s was not taken after %u tries (last: %s)", w,
                (unsigned)tx->tries + 1, what);
        return;
    }
    tx->tries++;
    if (tx->state == YM_TX_EOT)
        tx_emit(tx, tx->ctl, 1);
    else
        tx_emit(tx, tx->frame, tx->frame_len);
    tx_event(tx, "%s: %s; sent again (%u of %u)", w, what, (unsigned)tx->tries,
             (unsigned)tx->tm.retries);
}

/* The empty block 0 that ends the batch. */
static void
tx_end_block(struct ymodem_tx *tx)
{
    memset(tx->frame + 3, 0, YMODEM_BLOCK);
    tx_seal(tx, 0, YMODEM_BLOCK);
    tx->state = YM_TX_END;
    tx->tries = 0;
    tx_emit(tx, tx->frame, tx->frame_len);
    tx_event(tx, "'C': the empty block 0 ends the batch");
}

static void
tx_byte(struct ymodem_tx *tx, uint8_t c, uint64_t now)
{
    if (c == YMODEM_CAN) {
        if (tx->can)
            tx_peer_cancel(tx, now);
        tx->can = 1;
        return;
    }
    tx->can = 0;
    switch (tx->state) {
    case YM_TX_START:
        if (c == YMODEM_C) {
            tx->state = YM_TX_HEADER;
            tx->tries = 0;
            tx_emit(tx, tx->frame, tx->frame_len);
            tx_event(tx, "'C': block 0 for '%s', %" PRIu64 " bytes", tx->name,
                     tx->size);
        } else if (c == YMODEM_NAK) {
            tx->naks++;
        }
        return;
    case YM_TX_HEADER:
    case YM_TX_DATA:
    case YM_TX_END:
        if (c == YMODEM_ACK) {
            if (tx->state == YM_TX_HEADER) {
                tx->state = YM_TX_WAIT_C;
                tx->tries = 0;
                tx_arm(tx, now);
                tx_event(tx, "block 0 ACKed; waiting for 'C'");
            } else if (tx->state == YM_TX_DATA) {
                tx->sent += tx->chunk;
                tx->blocks++;
                tx_next(tx);
            } else {
                tx->err = lib_why(tx->why, sizeof(tx->why), 0,
                                  "sent '%s', %" PRIu64 " bytes in %" PRIu32
                                  " blocks",
                                  tx->name, tx->sent, tx->blocks);
                tx->reason = YM_R_DONE;
                tx_finish(tx);
            }
        } else if (c == YMODEM_NAK || c == YMODEM_C) {
            tx_resend(tx, 0, c == YMODEM_NAK ? "NAK" : "'C'");
        }
        return;
    case YM_TX_WAIT_C:
        if (c == YMODEM_C || c == YMODEM_NAK)
            tx_next(tx);
        return;
    case YM_TX_EOT:
        if (c == YMODEM_ACK) {
            tx->state = YM_TX_WAIT_END;
            tx->tries = 0;
            tx_arm(tx, now);
            tx_event(tx, "EOT ACKed: '%s' delivered; waiting for 'C'",
                     tx->name);
        } else if (c == YMODEM_NAK) {
            tx_resend(tx, 0, "NAK");
        } else if (c == YMODEM_C) {
            /* The receiver asks for the next block 0: it took the EOT,
             * and its ACK was lost. */
            tx_event(tx,
                     "'C' after the EOT: its ACK was lost; '%s' "
                     "delivered",
                     tx->name);
            tx_end_block(tx);
        }
        return;
    case YM_TX_WAIT_END:
        if (c == YMODEM_C || c == YMODEM_NAK)
            tx_end_block(tx);
        return;
    default:
        return;
    }
}

void
ymodem_tx_sent(struct ymodem_tx *tx, uint64_t now_ms)
{
    if (tx->out_len == 0 && tx->armed)
        return; /* nothing was waiting to go */
    tx->out_len = 0;
    if (tx->state == YM_TX_DONE)
        return;
    if (tx->state == YM_TX_CANCEL)
        tx->since = now_ms;
    tx_arm(tx, now_ms);
}

void
ymodem_tx_feed(struct ymodem_tx *tx, const uint8_t *p, size_t n,
               uint64_t now_ms)
{
    size_t i;

    if (!tx->armed)
        ymodem_tx_sent(tx, now_ms);
    if (tx->state == YM_TX_DONE || n == 0)
        return;
    if (tx->state == YM_TX_CANCEL) {
        tx_arm(tx, now_ms); /* not quiet yet */
        return;
    }
    for (i = 0; i < n; i++) {
        tx_byte(tx, p[i], now_ms);
        if (!tx->armed || tx->state == YM_TX_CANCEL || tx->state == YM_TX_DONE)
            break;
    }
    if (i < n && !tx->armed && tx->state != YM_TX_CANCEL &&
        stale_cancel(p + i + 1, n - i - 1, 1))
        tx_peer_cancel(tx, now_ms);
}

void
ymodem_tx_tick(struct ymodem_tx *tx, uint64_t now_ms)
{
    char what[48];

    if (!tx->armed)
        ymodem_tx_sent(tx, now_ms);
    if (tx->state == YM_TX_DONE || now_ms < tx->deadline)
        return;
    snprintf(what, sizeof(what), "no answer within %u s",
             (unsigned)(tx->tm.block_ms / 1000));
    switch (tx->state) {
    case YM_TX_START:
        tx_fail(tx, -ETIMEDOUT, YM_R_NO_START,
                "no YMODEM receiver asked for '%s' within %u s%s", tx->name,
                (unsigned)(tx->tm.start_ms / 1000),
                tx->naks > 0 ? " (it sent NAK: it wants checksums, and only "
                               "CRC-16 is spoken here)"
                             : "");
        return;
    case YM_TX_CANCEL:
        tx_finish(tx);
        return;
    case YM_TX_WAIT_C:
        /* The receiver drives: it sends 'C' again when it tires. */
        tx->errors++;
        if (tx->tries >= tx->tm.retries) {
            tx_fail(tx, -ETIMEDOUT, YM_R_TIMEOUT,
                    "no 'C' for the data of '%s' within %u tries", tx->name,
                    (unsigned)tx->tries + 1);
            return;
        }
        tx->tries++;
        tx_arm(tx, now_ms);
        return;
    case YM_TX_WAIT_END:
    case YM_TX_END:
        if (tx->state == YM_TX_END && tx->tries < tx->tm.retries) {
            tx_resend(tx, 1, what);
            return;
        }
        /* '%s' was whole at its EOT's ACK: the end of the batch is a
         * courtesy the receiver did not take. */
        tx->err = lib_why(tx->why, sizeof(tx->why), 0,
                          "sent '%s', %" PRIu64
                          " bytes (the receiver did not end the batch)",
                          tx->name, tx->sent);
        tx->reason = YM_R_DONE;
        tx_finish(tx);
        return;
    default:
        tx_resend(tx, 1, what);
        return;
    }
}

size_t
ymodem_tx_out(const struct ymodem_tx *tx, const uint8_t **p)
{
    *p = tx->out;
    return tx->out_len;
}

uint32_t
ymodem_tx_wait(const struct ymodem_tx *tx, uint64_t now_ms)
{
    uint64_t d;

    if (tx->state == YM_TX_DONE || !tx->armed || tx->deadline <= now_ms)
        return 0;
    d = tx->deadline - now_ms;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

void
ymodem_tx_cancel(struct ymodem_tx *tx, int err, const char *why,
                 uint64_t now_ms)
{
    (void)now_ms;
    if (tx->state == YM_TX_CANCEL || tx->state == YM_TX_DONE)
        return;
    if (tx->state == YM_TX_WAIT_END || tx->state == YM_TX_END) {
        /* The receiver has the whole file (its EOT was ACKed).  No CAN
         * now: rb, for one, deletes the file it just took when the
         * batch's end is cancelled. */
        tx->err = lib_why(tx->why, sizeof(tx->why), 0,
                          "sent '%s', %" PRIu64
                          " bytes (the end of the batch was cancelled)",
                          tx->name, tx->sent);
        tx->reason = YM_R_DONE;
        tx->out_len = 0;
        tx_finish(tx);
        return;
    }
    tx_fail(tx, err < 0 ? err : -ECANCELED, YM_R_CANCEL, "%s",
            why != NULL ? why : "cancelled on this side");
}

int
ymodem_tx_done(const struct ymodem_tx *tx)
{
    return tx->state == YM_TX_DONE;
}

/* ---- the loops over the caller's I/O ------------------------------------- */

/* The line failed: the session ends at once, nothing more can be said
 * to the other side.  In the drain after a cancel the session's end is
 * already decided (a sender that quits on our CANs may well close the
 * line): it stands. */
static void
rx_line(struct ymodem_rx *rx, int rc, const char *doing)
{
    if (rx->state == YM_RX_END) {
        /* the file was whole at its EOT */
        rx->err = lib_why(rx->why, sizeof(rx->why), 0,
                          "received '%s', %" PRIu64
                          " bytes (the line closed before the batch ended)",
                          rx->name, rx->got);
        rx->reason = YM_R_DONE;
    } else if (rx->state != YM_RX_CANCEL) {
        rx->err = lib_why(rx->why, sizeof(rx->why), rc,
                          "the line failed %s (%s)", doing, strerror(-rc));
        rx->reason = YM_R_LINE;
    }
    rx->out_len = 0;
    rx_finish(rx);
}

static void
tx_line(struct ymodem_tx *tx, int rc, const char *doing)
{
    if (tx->state == YM_TX_WAIT_END || tx->state == YM_TX_END) {
        /* the file was whole at its EOT's ACK */
        tx->err = lib_why(tx->why, sizeof(tx->why), 0,
                          "sent '%s', %" PRIu64
                          " bytes (the line closed before the batch ended)",
                          tx->name, tx->sent);
        tx->reason = YM_R_DONE;
    } else if (tx->state != YM_TX_CANCEL) {
        tx->err = lib_why(tx->why, sizeof(tx->why), rc,
                          "the line failed %s (%s)", doing, strerror(-rc));
        tx->reason = YM_R_LINE;
    }
    tx->out_len = 0;
    tx_finish(tx);
}

static int
io_write(const struct ymodem_io *io, const uint8_t *p, size_t n)
{
    int r = io->write(io->arg, p, n);

    if (r < 0)
        return r;
    return (size_t)r == n ? 0 : -EIO;
}

static int
io_wait(const struct ymodem_io *io, uint32_t wait)
{
    if (io->poll != NULL && wait > YMODEM_POLL_MS)
        wait = YMODEM_POLL_MS;
    return wait > INT32_MAX ? INT32_MAX : (int)wait;
}

/* One round of a receiver: write its answer, wait, feed or tick.  0, or
 * the line's error (the session is then over). */
static int
rx_step(struct ymodem_rx *rx, const struct ymodem_io *io)
{
    uint8_t in[256];
    const uint8_t *o;
    size_t k = ymodem_rx_out(rx, &o);
    int r;

    if (k > 0) {
        if ((r = io_write(io, o, k)) < 0) {
            rx_line(rx, r, "writing");
            return r;
        }
        ymodem_rx_sent(rx, io->now_ms(io->arg));
    }
    if (ymodem_rx_done(rx))
        return 0;
    /* poll's error cancels once; the drain after it still polls */
    if (io->poll != NULL && (r = io->poll(io->arg)) < 0 &&
        rx->state != YM_RX_CANCEL) {
        ymodem_rx_cancel(rx, r, NULL, io->now_ms(io->arg));
        return 0;
    }
    r = io->read(io->arg, in, sizeof(in),
                 io_wait(io, ymodem_rx_wait(rx, io->now_ms(io->arg))));
    if (r < 0) {
        rx_line(rx, r, "reading");
        return r;
    }
    if (r > 0)
        ymodem_rx_feed(rx, in, (size_t)r, io->now_ms(io->arg));
    else
        ymodem_rx_tick(rx, io->now_ms(io->arg));
    return 0;
}

/* Over, with its last answer (an ACK, CANs) written. */
static int
rx_over(const struct ymodem_rx *rx)
{
    return ymodem_rx_done(rx) && rx->out_len == 0;
}

int
ymodem_rx_run(struct ymodem_rx *rx, const struct ymodem_io *io)
{
    while (!rx_over(rx))
        if (rx_step(rx, io) < 0)
            break;
    return rx->err;
}

int
ymodem_tx_run(struct ymodem_tx *tx, const struct ymodem_io *io)
{
    uint8_t in[64];
    const uint8_t *o;
    size_t k;
    int r;

    while (!ymodem_tx_done(tx) || tx->out_len > 0) {
        if ((k = ymodem_tx_out(tx, &o)) > 0) {
            if ((r = io_write(io, o, k)) < 0) {
                tx_line(tx, r, "writing");
                break;
            }
            ymodem_tx_sent(tx, io->now_ms(io->arg));
        }
        if (ymodem_tx_done(tx))
            break;
        if (io->poll != NULL && (r = io->poll(io->arg)) < 0 &&
            tx->state != YM_TX_CANCEL) {
            ymodem_tx_cancel(tx, r, NULL, io->now_ms(io->arg));
            continue;
        }
        r = io->read(io->arg, in, sizeof(in),
                     io_wait(io, ymodem_tx_wait(tx, io->now_ms(io->arg))));
        if (r < 0) {
            tx_line(tx, r, "reading");
            break;
        }
        if (r > 0)
            ymodem_tx_feed(tx, in, (size_t)r, io->now_ms(io->arg));
        else
            ymodem_tx_tick(tx, io->now_ms(io->arg));
    }
    return tx->err;
}

/* ---- the pull side ------------------------------------------------------- */

static int
pull_begin(void *arg, const char *name, uint64_t size)
{
    struct ymodem_pull *pl = arg;

    return pl->user.begin != NULL ? pl->user.begin(pl->user.arg, name, size)
                                  : 0;
}

/* Hold the block (rx->buf stays put until the next feed, which comes
 * only once the consumer has read it all). */
static int
pull_data(void *arg, const uint8_t *p, size_t n)
{
    struct ymodem_pull *pl = arg;

    if (pl->discard) {
        pl->extra += n;
        return 0;
    }
    pl->p = p;
    pl->n = n;
    return 0;
}

static void
pull_event(void *arg, const char *msg)
{
    struct ymodem_pull *pl = arg;

    if (pl->user.event != NULL)
        pl->user.event(pl->user.arg, msg);
}

void
ymodem_pull_init(struct ymodem_pull *pl, const struct ymodem_io *io,
                 const struct ymodem_rx_ops *ops, uint64_t limit)
{
    struct ymodem_rx_ops own = {pull_begin, pull_data, pull_event, pl};

    memset(pl, 0, sizeof(*pl));
    pl->io = io;
    if (ops != NULL)
        pl->user = *ops;
    ymodem_rx_init(&pl->rx, &own, limit, io->now_ms(io->arg));
}

int
ymodem_pull_read(void *arg, void *buf, size_t len)
{
    struct ymodem_pull *pl = arg;
    size_t k;

    while (pl->n == 0) {
        /* A failing session reports at once; its CANs and drain are
         * ymodem_pull_end's. */
        if (pl->rx.state == YM_RX_CANCEL || pl->rx.state == YM_RX_DONE)
            return pl->rx.err;
        if (rx_step(&pl->rx, pl->io) < 0)
            return pl->rx.err;
    }
    k = len < pl->n ? len : pl->n;
    if (k > INT32_MAX)
        k = INT32_MAX;
    memcpy(buf, pl->p, k);
    pl->p += k;
    pl->n -= k;
    return (int)k;
}

int
ymodem_pull_end(struct ymodem_pull *pl, int err, const char *why)
{
    if (err < 0) {
        ymodem_rx_cancel(&pl->rx, err, why, pl->io->now_ms(pl->io->arg));
    } else {
        pl->extra += pl->n;
        pl->n = 0;
        pl->discard = 1;
    }
    while (!rx_over(&pl->rx))
        if (rx_step(&pl->rx, pl->io) < 0)
            break;
    return pl->rx.err;
}
