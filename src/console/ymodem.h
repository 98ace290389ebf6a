/*
 * console/ymodem.h - YMODEM on the console: a receiver and a sender,
 * each a state machine with no I/O and no allocation (issue #16).
 *
 * The protocol is Forsberg's "XMODEM/YMODEM Protocol Reference" (1988)
 * as lrzsz's sb/rb and U-Boot's loady speak it; docs/CONSOLE.md
 * "YMODEM" says what keel takes of it and why.  In short:
 *   - CRC-16/XMODEM only (the receiver asks with 'C'; no checksum mode,
 *     no YMODEM-g streaming);
 *   - 128-byte (SOH) and 1024-byte (STX) blocks, mixed at will;
 *   - block 0 carries "name NUL size ...": the size (decimal) bounds the
 *     data, so the last block's padding is dropped;
 *   - one file per session: the receiver takes the first file, and ends
 *     the batch after it (a second file is refused with CAN, the first
 *     stays received);
 *   - every failure ends the session with CAN x8 then BS x8, and the
 *     receiver then waits for the line to go quiet, so that what the
 *     sender still had in flight is not read as console commands.
 *
 * How a caller drives a machine (the same for both):
 *   1. init, then write what ymodem_*_out() holds (the receiver's first
 *      'C', for one) and call ymodem_*_sent() with the time it went;
 *   2. wait for bytes at most ymodem_*_wait() ms; feed what arrived
 *      (any pieces, at least one byte) with ymodem_*_feed(), or call
 *      ymodem_*_tick() when nothing came;
 *   3. after each call, write what ymodem_*_out() holds, then
 *      ymodem_*_sent(); repeat from 2 until ymodem_*_done().
 * Times are the caller's monotonic clock in ms.  A feed consumes every
 * byte given.  It produces at most one answer and hands over at most one
 * block: bytes after the one that made an answer were sent before the
 * other side could have seen it, so they are stale (a retransmission,
 * noise) and are dropped; only a CAN CAN among them still cancels (right
 * after the block, from a sender, whose data may hold CAN CAN; anywhere,
 * from a receiver).  So a feed never needs more than one block of the
 * caller's memory.  For the same reason the receiver leaves unanswered
 * a copy of the block it just ACKed that begins within YMODEM_STALE_MS
 * of that ACK (docs/CONSOLE.md "YMODEM").
 * Read what has arrived before calling tick: a tick after a pause of the
 * caller's own (a slow sink) could otherwise count as the line's
 * silence.  An answer left unsent when feed or tick is called is taken
 * as sent then.
 *
 * The line must be 8-bit clean both ways: no CR/LF translation (a tty
 * with OPOST|ONLCR would corrupt the sender's blocks), no XON/XOFF, and
 * nothing else may read it or write to it during the session (no
 * prompt, no Ctrl-C watcher, no log lines on the console).
 *
 * ymodem_rx_run(), ymodem_tx_run() and struct ymodem_pull do that loop
 * over the caller's I/O callbacks (struct ymodem_io); the pull side
 * serves a reader such as update_install()'s struct upd_src.
 *
 * Errors are negative errnos, each with a reason code and a sentence in
 * `why`: -ETIMEDOUT (no start, the other side went quiet), -EIO (a block
 * failed YMODEM_RETRIES times), -ECANCELED (CAN CAN from the other side,
 * or ymodem_*_cancel() without an error of its own), -EFBIG (over the
 * limit, or more than announced), -EPIPE (less than announced),
 * -EBADMSG (block 0 unreadable), -EPROTO (an XMODEM sender: no block 0),
 * -ENOENT (the batch held no file), or the error a callback returned.
 *
 * Memory: struct ymodem_rx and struct ymodem_tx are each about 1.4 KiB
 * (one block), caller-allocated; nothing is static.
 */
#ifndef CONSOLE_YMODEM_H
#define CONSOLE_YMODEM_H

#include "keel_opts.h"

#include <stddef.h>
#include <stdint.h>

#define YMODEM_SOH 0x01 /* a 128-byte block follows */
#define YMODEM_STX 0x02 /* a 1024-byte block follows */
#define YMODEM_EOT 0x04 /* end of the file */
#define YMODEM_ACK 0x06
#define YMODEM_NAK 0x15
#define YMODEM_CAN 0x18 /* two in a row cancel */
#define YMODEM_BS 0x08  /* erases the CANs on a terminal after a cancel */
#define YMODEM_C 0x43   /* 'C': the receiver asks for CRC-16 blocks */
#define YMODEM_PAD 0x1a /* CP/M EOF: the sender pads the last block */

#define YMODEM_BLOCK 128    /* SOH block */
#define YMODEM_BLOCK1K 1024 /* STX block */
/* header byte, number, its complement, 1024 data bytes, CRC-16 */
#define YMODEM_FRAME_MAX (3 + YMODEM_BLOCK1K + 2)
#define YMODEM_CANCEL_LEN 16 /* CAN x8, BS x8 */
#define YMODEM_SIZE_UNKNOWN UINT64_MAX
#define YMODEM_WHY_MAX 160

/* How a session ended (or YM_R_NONE while it runs). */
#define YMODEM_REASONS(X)                                                      \
    X(YM_R_NONE, "none")                                                       \
    X(YM_R_DONE, "done")                                                       \
    X(YM_R_NO_START, "no_start")                                               \
    X(YM_R_TIMEOUT, "timeout")                                                 \
    X(YM_R_RETRIES, "retries")                                                 \
    X(YM_R_PEER_CANCEL, "peer_cancel")                                         \
    X(YM_R_CANCEL, "cancelled")                                                \
    X(YM_R_REFUSED, "refused")                                                 \
    X(YM_R_TOO_BIG, "too_big")                                                 \
    X(YM_R_OVERRUN, "overrun")                                                 \
    X(YM_R_SHORT, "short")                                                     \
    X(YM_R_HEADER, "bad_header")                                               \
    X(YM_R_XMODEM, "no_header")                                                \
    X(YM_R_NO_FILE, "no_file")                                                 \
    X(YM_R_READ, "read_error")                                                 \
    X(YM_R_LINE, "line")

#define YM_R_ENUM(id, name) id,
enum ymodem_reason { YMODEM_REASONS(YM_R_ENUM) YM_R_COUNT };
#undef YM_R_ENUM

/* Receiver states:
 *   start   'C' sent every YMODEM_C_MS, waiting for block 0;
 *   data    block 0 taken, blocks of the file coming;
 *   eot     one EOT seen and NAKed, waiting for it again;
 *   end     the file is complete, 'C' sent for the batch's next block 0
 *           (the empty one ends it);
 *   cancel  CAN sent (or received), waiting for the line to go quiet;
 *   done    over: err, reason and why say how. */
#define YMODEM_RX_STATES(X)                                                    \
    X(YM_RX_START, "start")                                                    \
    X(YM_RX_DATA, "data")                                                      \
    X(YM_RX_EOT, "eot")                                                        \
    X(YM_RX_END, "end")                                                        \
    X(YM_RX_CANCEL, "cancel")                                                  \
    X(YM_RX_DONE, "done")

/* Sender states:
 *   start     waiting for the receiver's 'C';
 *   header    block 0 sent, waiting for its ACK;
 *   wait_c    block 0 ACKed, waiting for 'C' before the data;
 *   data      a data block sent, waiting for its ACK;
 *   eot       EOT sent, waiting for its ACK (a NAK asks for it again);
 *   wait_end  EOT ACKed, waiting for 'C' before the empty block 0;
 *   end       the empty block 0 sent, waiting for its ACK;
 *   cancel    CAN sent, waiting for the line to go quiet;
 *   done      over. */
#define YMODEM_TX_STATES(X)                                                    \
    X(YM_TX_START, "start")                                                    \
    X(YM_TX_HEADER, "header")                                                  \
    X(YM_TX_WAIT_C, "wait_c")                                                  \
    X(YM_TX_DATA, "data")                                                      \
    X(YM_TX_EOT, "eot")                                                        \
    X(YM_TX_WAIT_END, "wait_end")                                              \
    X(YM_TX_END, "end")                                                        \
    X(YM_TX_CANCEL, "cancel")                                                  \
    X(YM_TX_DONE, "done")

#define YM_S_ENUM(id, name) id,
enum ymodem_rx_state { YMODEM_RX_STATES(YM_S_ENUM) };
enum ymodem_tx_state { YMODEM_TX_STATES(YM_S_ENUM) };
#undef YM_S_ENUM

/* "done", "peer_cancel", ...; "unknown" out of range. */
const char *ymodem_reason_name(int reason);
const char *ymodem_rx_state_name(int state);
const char *ymodem_tx_state_name(int state);

/* CRC-16/XMODEM (polynomial 0x1021, initial 0, no reflection): pass 0
 * to start, the previous result to continue. */
uint16_t ymodem_crc16(uint16_t crc, const uint8_t *p, size_t n);

/* Timeouts and retries, from keel_opts.h at init; a caller may change
 * them before the first feed (tests do). */
struct ymodem_timing {
    uint32_t c_ms;         /* YMODEM_C_MS */
    uint32_t start_ms;     /* YMODEM_START_MS */
    uint32_t block_ms;     /* YMODEM_BLOCK_MS */
    uint32_t byte_ms;      /* YMODEM_BYTE_MS */
    uint32_t purge_ms;     /* YMODEM_PURGE_MS */
    uint32_t drain_ms;     /* YMODEM_DRAIN_MS */
    uint32_t drain_max_ms; /* YMODEM_DRAIN_MAX_MS */
    uint32_t stale_ms;     /* YMODEM_STALE_MS */
    uint32_t retries;      /* YMODEM_RETRIES */
};

/* ---- the receiver -------------------------------------------------------- */

struct ymodem_rx_ops {
    /* Block 0 arrived: name is the file name as sent (NUL-terminated,
     * any bytes: rx->name holds a printable copy), size the announced
     * length or YMODEM_SIZE_UNKNOWN (never above the limit).  0 to take
     * the file, a negative errno to refuse it (the sender is cancelled,
     * and the error is the session's).  May be NULL. */
    int (*begin)(void *arg, const char *name, uint64_t size);
    /* The next n bytes of the file (1 <= n <= 1024, the padding of the
     * last block already dropped when the size is known), each byte
     * once, in order, from blocks whose CRC matched.  p is valid until
     * the next feed, tick or cancel.  0 to go on; a negative errno
     * refuses: the sender is cancelled and the error is the session's.
     * The ACK goes out only after this returns, so a slow sink is the
     * sender's flow control. */
    int (*data)(void *arg, const uint8_t *p, size_t n);
    /* Each state change and each error, in words ("block 7: CRC
     * mismatch; NAK (2 of 10)").  For a log, never for the console
     * during the session.  May be NULL. */
    void (*event)(void *arg, const char *msg);
    void *arg;
};

struct ymodem_rx {
    struct ymodem_rx_ops ops;
    struct ymodem_timing tm;
    uint64_t limit;             /* most bytes taken */
    uint8_t state;              /* enum ymodem_rx_state */
    uint8_t reason;             /* enum ymodem_reason, once done */
    int err;                    /* 0, or the negative errno of the failure */
    char why[YMODEM_WHY_MAX];   /* the end, in words ("" while running) */
    char name[YMODEM_NAME_MAX]; /* printable copy of the file's name */
    uint64_t size;              /* announced, or YMODEM_SIZE_UNKNOWN */
    uint64_t got;               /* bytes handed to the data callback */
    uint32_t blocks;            /* data blocks taken */
    uint32_t errors;            /* NAKs and timeouts in the whole session */
    /* internal */
    uint8_t next;  /* block number expected */
    uint8_t tries; /* failures on the current block */
    uint8_t can;   /* one CAN seen where a block may start */
    uint8_t purge; /* discarding until the line is quiet */
    uint8_t acked; /* the last answer was an ACK */
    uint8_t idle;  /* silent waits for the batch's end */
    uint8_t armed; /* the deadline runs (the answer went out) */
    uint8_t out_len;
    uint16_t pos;      /* bytes of the frame in progress */
    uint16_t len;      /* its data length: 128 or 1024 */
    uint8_t hdr[4];    /* its number, complement, CRC */
    uint64_t deadline; /* when tick has something to do */
    uint64_t since;    /* start of the start wait, purge or drain */
    uint64_t sent_at;  /* when the last answer went out */
    uint64_t frame_t0; /* when the frame in progress began */
    uint8_t out[YMODEM_CANCEL_LEN];
    uint8_t buf[YMODEM_BLOCK1K];
};

/* Start a receiver that takes at most limit bytes: a block 0 announcing
 * more is refused, a sender sending more (size unknown) is stopped.  The
 * first 'C' is waiting in ymodem_rx_out().  ops is copied; ops->data is
 * required. */
void ymodem_rx_init(struct ymodem_rx *rx, const struct ymodem_rx_ops *ops,
                    uint64_t limit, uint64_t now_ms);
/* Bytes that arrived (n > 0). */
void ymodem_rx_feed(struct ymodem_rx *rx, const uint8_t *p, size_t n,
                    uint64_t now_ms);
/* Nothing arrived: run the timeouts. */
void ymodem_rx_tick(struct ymodem_rx *rx, uint64_t now_ms);
/* The answer to write now: its length (0: none) and *p. */
size_t ymodem_rx_out(const struct ymodem_rx *rx, const uint8_t **p);
/* The answer was written at now_ms: the wait for the sender starts. */
void ymodem_rx_sent(struct ymodem_rx *rx, uint64_t now_ms);
/* How long to wait for bytes before calling tick: ms from now_ms (0
 * while an answer waits to be written or once done). */
uint32_t ymodem_rx_wait(const struct ymodem_rx *rx, uint64_t now_ms);
/* Cancel from this side (the operator, a consumer that failed, a node
 * shutting down): CAN x8 BS x8 to write, then the drain.  err is the
 * session's error (0: -ECANCELED), why the words for it (NULL: "cancelled
 * on this side").  Nothing happens once the session is over. */
void ymodem_rx_cancel(struct ymodem_rx *rx, int err, const char *why,
                      uint64_t now_ms);
/* 1 once over (rx->err, rx->reason, rx->why), else 0. */
int ymodem_rx_done(const struct ymodem_rx *rx);

/* ---- the sender ---------------------------------------------------------- */

struct ymodem_tx_ops {
    /* Read up to n bytes of the file: the count (> 0), 0 at its end, or
     * a negative errno (the receiver is cancelled; the error is the
     * session's).  Called once per block, in order; a file that ends
     * before the announced size is an error (-EPIPE). */
    int (*read)(void *arg, uint8_t *p, size_t n);
    void (*event)(void *arg, const char *msg); /* as for the receiver */
    void *arg;
};

struct ymodem_tx {
    struct ymodem_tx_ops ops;
    struct ymodem_timing tm;
    uint16_t block; /* data block size: 1024 (default) or 128 */
    uint8_t state;  /* enum ymodem_tx_state */
    uint8_t reason; /* enum ymodem_reason, once done */
    int err;
    char why[YMODEM_WHY_MAX];
    char name[YMODEM_NAME_MAX]; /* printable copy, for messages */
    uint64_t size;              /* announced */
    uint64_t sent;              /* file bytes ACKed */
    uint32_t blocks;            /* data blocks ACKed */
    uint32_t errors;            /* NAKs and timeouts in the whole session */
    /* internal */
    uint8_t num; /* number of the block in frame[] */
    uint8_t tries;
    uint8_t can;
    uint8_t armed;
    uint8_t naks;       /* NAKs seen at the start (checksum asked) */
    uint16_t frame_len; /* bytes in frame[] (the block in flight) */
    uint16_t out_len;   /* bytes of out to write (frame[] or ctl[]) */
    const uint8_t *out;
    uint32_t chunk; /* file bytes in the block in flight */
    uint64_t deadline, since;
    uint8_t ctl[YMODEM_CANCEL_LEN];
    uint8_t frame[YMODEM_FRAME_MAX];
};

/* Start a sender for one file: name (1 to 255 bytes, no '\0' inside;
 * the receiver's name for it) of size bytes, read through ops (copied;
 * ops->read required).  0, or -EINVAL for a name that does not fit, and
 * then the sender is done already with the reason in why. */
int ymodem_tx_init(struct ymodem_tx *tx, const struct ymodem_tx_ops *ops,
                   const char *name, uint64_t size, uint64_t now_ms);
/* feed, tick, out, sent, wait and done as for the receiver. */
void ymodem_tx_feed(struct ymodem_tx *tx, const uint8_t *p, size_t n,
                    uint64_t now_ms);
void ymodem_tx_tick(struct ymodem_tx *tx, uint64_t now_ms);
size_t ymodem_tx_out(const struct ymodem_tx *tx, const uint8_t **p);
void ymodem_tx_sent(struct ymodem_tx *tx, uint64_t now_ms);
uint32_t ymodem_tx_wait(const struct ymodem_tx *tx, uint64_t now_ms);
/* As for the receiver, except once the receiver has ACKed the EOT: the
 * file is delivered, the session ends well (a note in why) and no CAN
 * is sent (rb deletes a file whose batch end is cancelled). */
void ymodem_tx_cancel(struct ymodem_tx *tx, int err, const char *why,
                      uint64_t now_ms);
int ymodem_tx_done(const struct ymodem_tx *tx);

/* ---- driving a machine over the caller's I/O ----------------------------- */

struct ymodem_io {
    /* Wait at most timeout_ms for bytes and read up to cap: the count,
     * 0 when nothing came in time, or a negative errno when the line is
     * gone (-EPIPE).  hal_console_read() is one. */
    int (*read)(void *arg, uint8_t *p, size_t cap, int timeout_ms);
    /* Write all n bytes: n, or a negative errno. */
    int (*write)(void *arg, const uint8_t *p, size_t n);
    /* The monotonic clock, ms (hal_clock_ms). */
    uint64_t (*now_ms)(void *arg);
    /* Called between reads, at least every YMODEM_POLL_MS: the caller's
     * timers may run here (never anything that reads or writes the
     * line).  A negative errno cancels the session with that error.  May
     * be NULL. */
    int (*poll)(void *arg);
    void *arg;
};

#define YMODEM_POLL_MS 100

/* Run a machine to its end: the session's error (0 when done well).  A
 * line that fails ends it at once (reason "line"). */
int ymodem_rx_run(struct ymodem_rx *rx, const struct ymodem_io *io);
int ymodem_tx_run(struct ymodem_tx *tx, const struct ymodem_io *io);

/* A receiver for a consumer that pulls (update_install()'s upd_src):
 *
 *   struct ymodem_pull pl;
 *   ymodem_pull_init(&pl, &io, NULL, limit);
 *   struct upd_src src = {ymodem_pull_read, &pl};
 *   rc = update_install(u, &src);
 *   rc2 = ymodem_pull_end(&pl, rc < 0 ? rc : 0, rc < 0 ? u->why : NULL);
 *
 * A block's ACK goes out only when the consumer asks for more than it
 * holds, so the consumer's pace (erasing, programming) is the sender's
 * flow control, and no more than one block is ever held. */
struct ymodem_pull {
    struct ymodem_rx rx;
    const struct ymodem_io *io;
    struct ymodem_rx_ops user; /* the caller's begin and event */
    const uint8_t *p;          /* bytes handed over, not yet read */
    size_t n;
    int discard;    /* after ymodem_pull_end: count, drop */
    uint64_t extra; /* bytes the consumer never read */
};

/* ops: begin and event as for the receiver (data is the pull's own);
 * may be NULL. */
void ymodem_pull_init(struct ymodem_pull *pl, const struct ymodem_io *io,
                      const struct ymodem_rx_ops *ops, uint64_t limit);
/* struct upd_src's read (arg is the struct ymodem_pull): up to len bytes
 * of the file, 0 at its end, or the session's negative errno (pl->rx.why
 * says why). */
int ymodem_pull_read(void *arg, void *buf, size_t len);
/* The consumer is through.  err 0: the session is run to its end, and
 * what the consumer did not read is dropped and counted in pl->extra;
 * err < 0 (why: the consumer's words, may be NULL): the sender is
 * cancelled with it.  Returns the session's error. */
int ymodem_pull_end(struct ymodem_pull *pl, int err, const char *why);

#endif
