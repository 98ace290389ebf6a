/*
 * console/line.h - the line editor and the line reader.
 *
 * Both are byte-at-a-time state machines with no I/O of their own: the
 * caller feeds bytes as they arrive and writes what the editor asks it
 * to write through the out callback.  That keeps them testable and lets
 * the event loop stay single-threaded.  No allocation: the state lives
 * in the caller's struct (struct line_ed at most 5 KiB with its history,
 * struct line_rd at most 512 bytes).
 *
 * Editor (a terminal in raw mode): printable ASCII inserts at the cursor;
 * Backspace (0x7f or 0x08) and Delete (ESC [ 3 ~) remove; Left/Right
 * (ESC [ D / ESC [ C), Home/End (ESC [ H / ESC [ F, ESC [ 1 ~ / ESC [ 4 ~,
 * Ctrl-A / Ctrl-E) move; Up/Down (ESC [ A / ESC [ B) walk the history;
 * Ctrl-U clears the line; Tab completes the first word through the
 * complete callback (one match: inserted with a space; several: listed
 * and the common prefix inserted); Ctrl-C abandons the line; Ctrl-D on an
 * empty line is end of input; Enter (CR or LF; CR LF counts once) ends
 * the line.  Other control bytes and unknown escape sequences are
 * ignored.  A line longer than LINE_MAX is refused byte by byte (BEL).
 *
 * Reader (a pipe or file): bytes up to LF form a line; a CR before the LF
 * is dropped.  A line longer than LINE_MAX is reported as LINE_TOOLONG,
 * and one holding a NUL byte (which would cut it short as a C string) as
 * LINE_NUL, once its LF arrives or at end of input; their bytes are
 * discarded.  Lines are counted from 1, so each message can name one.
 */
#ifndef CONSOLE_LINE_H
#define CONSOLE_LINE_H

#include "keel_opts.h"

#include <stddef.h>
#include <stdint.h>

enum line_event {
    LINE_NONE = 0, /* nothing to do yet */
    LINE_DONE,     /* a line is ready in buf (NUL-terminated) */
    LINE_CANCEL,   /* Ctrl-C: the line was abandoned */
    LINE_EOF,      /* Ctrl-D on an empty line */
    LINE_TOOLONG,  /* reader only: an overlong line was discarded */
    LINE_NUL,      /* reader only: a line with a NUL byte was discarded */
};

typedef void (*line_out_fn)(void *arg, const char *s, size_t n);

/* Return the idx-th candidate (0, 1, ...) that starts with the prefix of
 * length n, or NULL when there are no more. */
typedef const char *(*line_complete_fn)(void *arg, const char *prefix, size_t n,
                                        unsigned idx);

struct line_ed {
    char buf[LINE_MAX_LEN + 1];
    size_t len, cur;
    char hist[LINE_HISTORY][LINE_MAX_LEN + 1];
    unsigned hist_count; /* lines stored, at most LINE_HISTORY */
    unsigned hist_head;  /* slot the next line goes to */
    int hist_pos;        /* -1: editing the new line; else steps back */
    char saved[LINE_MAX_LEN + 1]; /* the new line while browsing */
    int esc;                      /* escape-sequence state */
    char esc_arg;
    int last_cr;
    const char *prompt;
    line_out_fn out;
    line_complete_fn complete;
    void *arg;
};

void line_ed_init(struct line_ed *e, const char *prompt, line_out_fn out,
                  line_complete_fn complete, void *arg);
/* Write the prompt and the current line (after output from elsewhere). */
void line_ed_redraw(struct line_ed *e);
/* Feed one byte.  On LINE_DONE the line is in e->buf until the next
 * call; it has been echoed with CR LF and added to the history unless
 * empty or equal to the previous entry. */
enum line_event line_ed_feed(struct line_ed *e, uint8_t c);

struct line_rd {
    char buf[LINE_MAX_LEN + 1];
    size_t len;
    int overflow;       /* the line outgrew buf; report LINE_TOOLONG */
    int nul;            /* the line holds a NUL byte; report LINE_NUL */
    int cr;             /* a CR arrived and is held until we see what follows */
    unsigned long line; /* number of the line last ended, from 1 */
};

void line_rd_init(struct line_rd *r);
/* Feed one byte; on LINE_DONE the line is in r->buf until the next call.
 * At end of input call line_rd_flush(): a last line without LF returns
 * LINE_DONE (or LINE_TOOLONG, LINE_NUL), otherwise LINE_NONE.  After
 * any event but LINE_NONE, r->line is the number of the line it is
 * about. */
enum line_event line_rd_feed(struct line_rd *r, uint8_t c);
enum line_event line_rd_flush(struct line_rd *r);

#endif
