/*
 * console/line.c - the line editor (terminal) and line reader (pipe).
 *
 * Redraws use three VT100 sequences only: "\b" to step left, "\x1b[K"
 * to erase to the end of the line and "\x1b[<n>D" to move left n
 * columns, which every serial terminal program understands.  The editor
 * never needs to know the terminal width: it only moves within the line
 * it drew itself.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "console/line.h"

/* Escape-sequence states (e->esc).  e->esc_arg holds the sequence's one
 * numeric parameter, 0 when there is none; we recognise no sequence with
 * a larger number, so anything above ESC_ARG_MAX marks the sequence as
 * one to swallow whole. */
enum {
    ESC_NONE,
    ESC_SEEN, /* ESC */
    ESC_CSI,  /* ESC [ or ESC O, then maybe digits */
    ESC_SKIP, /* a sequence we do not know: wait for its final byte */
};
#define ESC_ARG_MAX 99

static void
out(struct line_ed *e, const char *s, size_t n)
{
    if (n > 0)
        e->out(e->arg, s, n);
}

static void
outs(struct line_ed *e, const char *s)
{
    out(e, s, strlen(s));
}

static void
move_left(struct line_ed *e, size_t n)
{
    char seq[32];

    if (n == 0)
        return;
    snprintf(seq, sizeof(seq), "\x1b[%zuD", n);
    outs(e, seq);
}

/* Redraw from the cursor to the end, then put the cursor back. */
static void
redraw_tail(struct line_ed *e)
{
    out(e, e->buf + e->cur, e->len - e->cur);
    outs(e, "\x1b[K");
    move_left(e, e->len - e->cur);
}

/* Replace the whole line (history) and redraw it, cursor at the end. */
static void
set_line(struct line_ed *e, const char *s)
{
    size_t n = strnlen(s, LINE_MAX_LEN);

    move_left(e, e->cur);
    memcpy(e->buf, s, n);
    e->buf[n] = '\0';
    e->len = e->cur = n;
    out(e, e->buf, e->len);
    outs(e, "\x1b[K");
}

void
line_ed_init(struct line_ed *e, const char *prompt, line_out_fn outfn,
             line_complete_fn complete, void *arg)
{
    memset(e, 0, sizeof(*e));
    e->prompt = prompt != NULL ? prompt : "";
    e->out = outfn;
    e->complete = complete;
    e->arg = arg;
    e->hist_pos = -1;
}

void
line_ed_redraw(struct line_ed *e)
{
    outs(e, "\r");
    outs(e, e->prompt);
    out(e, e->buf, e->len);
    outs(e, "\x1b[K");
    move_left(e, e->len - e->cur);
}

/* Put n bytes into buf at the cursor without drawing; 0 or -ENOSPC. */
static int
put(struct line_ed *e, const char *s, size_t n)
{
    if (n > LINE_MAX_LEN - e->len)
        return -ENOSPC;
    memmove(e->buf + e->cur + n, e->buf + e->cur, e->len - e->cur + 1);
    memcpy(e->buf + e->cur, s, n);
    e->len += n;
    e->cur += n;
    return 0;
}

/* All or nothing: a full line refuses the whole insertion with BEL and
 * keeps what it has. */
static void
insert(struct line_ed *e, const char *s, size_t n)
{
    if (put(e, s, n) != 0) {
        outs(e, "\a");
        return;
    }
    out(e, e->buf + e->cur - n, n);
    if (e->cur < e->len)
        redraw_tail(e);
}

static void
delete_at(struct line_ed *e, size_t at)
{
    /* Moves the NUL too: buf stays a string at every step. */
    memmove(e->buf + at, e->buf + at + 1, e->len - at);
    e->len--;
}

static void
backspace(struct line_ed *e)
{
    if (e->cur == 0)
        return;
    e->cur--;
    delete_at(e, e->cur);
    outs(e, "\b");
    redraw_tail(e);
}

static void
delete_fwd(struct line_ed *e)
{
    if (e->cur == e->len)
        return;
    delete_at(e, e->cur);
    redraw_tail(e);
}

static void
go_home(struct line_ed *e)
{
    move_left(e, e->cur);
    e->cur = 0;
}

static void
go_end(struct line_ed *e)
{
    out(e, e->buf + e->cur, e->len - e->cur);
    e->cur = e->len;
}

static void
clear_line(struct line_ed *e)
{
    move_left(e, e->cur);
    e->len = e->cur = 0;
    e->buf[0] = '\0';
    outs(e, "\x1b[K");
}

static const char *
hist_entry(const struct line_ed *e, unsigned back)
{
    unsigned slot = (e->hist_head + LINE_HISTORY - 1 - back) % LINE_HISTORY;

    return e->hist[slot];
}

static void
hist_add(struct line_ed *e)
{
    if (e->len == 0)
        return;
    if (e->hist_count > 0 && strcmp(hist_entry(e, 0), e->buf) == 0)
        return;
    memcpy(e->hist[e->hist_head], e->buf, e->len + 1);
    e->hist_head = (e->hist_head + 1) % LINE_HISTORY;
    if (e->hist_count < LINE_HISTORY)
        e->hist_count++;
}

/* dir +1 is Up (older), -1 is Down (newer).  Position -1 is the line
 * being typed, kept in saved while the history is on screen; edits to a
 * recalled entry last until the next Up/Down, as in most shells. */
static void
hist_move(struct line_ed *e, int dir)
{
    int pos = e->hist_pos + dir;

    if (pos < -1 || pos >= (int)e->hist_count)
        return;
    if (e->hist_pos == -1)
        memcpy(e->saved, e->buf, e->len + 1);
    e->hist_pos = pos;
    set_line(e, pos == -1 ? e->saved : hist_entry(e, (unsigned)pos));
}

static void
complete(struct line_ed *e)
{
    const char *first, *cand, *word;
    size_t start = 0, n, common;
    unsigned count;

    if (e->complete == NULL)
        return;
    /* Only the command name completes: the cursor must sit at the end
     * of the first word. */
    while (start < e->cur && e->buf[start] == ' ')
        start++;
    if (memchr(e->buf + start, ' ', e->cur - start) != NULL ||
        (e->cur < e->len && e->buf[e->cur] != ' '))
        return;
    word = e->buf + start;
    n = e->cur - start;
    first = e->complete(e->arg, word, n, 0);
    if (first == NULL) {
        outs(e, "\a");
        return;
    }
    common = strlen(first);
    for (count = 1; (cand = e->complete(e->arg, word, n, count)) != NULL;
         count++) {
        size_t k = 0;

        while (k < common && cand[k] == first[k])
            k++;
        common = k;
    }
    if (count == 1) {
        insert(e, first + n, strlen(first) - n);
        insert(e, " ", 1);
        return;
    }
    outs(e, "\r\n");
    for (unsigned i = 0; i < count; i++) {
        cand = e->complete(e->arg, word, n, i);
        if (cand == NULL)
            break; /* the callback changed its mind; list what is left */
        outs(e, cand);
        outs(e, "  ");
    }
    outs(e, "\r\n");
    /* The list scrolled the line away: insert quietly and draw anew.
     * first points into the callback's storage, never into buf. */
    if (common > n && put(e, first + n, common - n) != 0)
        outs(e, "\a");
    line_ed_redraw(e);
}

static enum line_event
finish(struct line_ed *e)
{
    outs(e, "\r\n");
    hist_add(e);
    e->hist_pos = -1;
    /* The line stays readable in buf until the next byte is fed. */
    e->cur = 0;
    e->len = 0;
    return LINE_DONE;
}

static void
esc_final(struct line_ed *e, char c, int arg)
{
    if (c == '~') {
        if (arg == 3)
            delete_fwd(e);
        else if (arg == 1 || arg == 7)
            go_home(e);
        else if (arg == 4 || arg == 8)
            go_end(e);
        return;
    }
    if (arg != 0)
        return; /* e.g. ESC [ 2 D: not something a key sends */
    switch (c) {
    case 'A':
        hist_move(e, +1);
        break;
    case 'B':
        hist_move(e, -1);
        break;
    case 'C':
        if (e->cur < e->len) {
            out(e, e->buf + e->cur, 1);
            e->cur++;
        }
        break;
    case 'D':
        if (e->cur > 0) {
            e->cur--;
            outs(e, "\b");
        }
        break;
    case 'H':
        go_home(e);
        break;
    case 'F':
        go_end(e);
        break;
    default:
        break; /* unknown sequences are ignored */
    }
}

/* Returns 1 when c was taken by an escape sequence, 0 when it is to be
 * handled as an ordinary byte.  A control byte in the middle of a
 * sequence ends the sequence and then counts on its own, so that a
 * stray ESC cannot swallow Enter or Ctrl-C. */
static int
esc_feed(struct line_ed *e, uint8_t c)
{
    if (c == 0x1b) {
        e->esc = ESC_SEEN;
        e->esc_arg = 0;
        return 1;
    }
    if (c < 0x20 || c == 0x7f) {
        e->esc = ESC_NONE;
        return 0;
    }
    if (c > 0x7f) {
        e->esc = ESC_NONE; /* not part of any sequence we know */
        return 1;
    }
    switch (e->esc) {
    case ESC_SEEN:
        /* ESC [ is CSI; ESC O (SS3) is what some terminals send for the
         * arrows and Home/End in application mode.  Anything else is an
         * Alt-key chord: drop it. */
        e->esc = (c == '[' || c == 'O') ? ESC_CSI : ESC_NONE;
        e->esc_arg = 0;
        return 1;
    case ESC_CSI:
        if (c >= '0' && c <= '9') {
            int v = e->esc_arg * 10 + (c - '0');

            if (v > ESC_ARG_MAX)
                e->esc = ESC_SKIP;
            else
                e->esc_arg = (char)v;
            return 1;
        }
        if (c >= 0x40) {
            e->esc = ESC_NONE;
            esc_final(e, (char)c, e->esc_arg);
            return 1;
        }
        e->esc = ESC_SKIP; /* ';', '?' and the like: modifiers */
        return 1;
    default: /* ESC_SKIP */
        if (c >= 0x40)
            e->esc = ESC_NONE;
        return 1;
    }
}

enum line_event
line_ed_feed(struct line_ed *e, uint8_t c)
{
    int was_cr = e->last_cr;

    /* A finished line was handed out by the previous call; drop it. */
    if (e->len == 0)
        e->buf[0] = '\0';
    e->last_cr = 0;

    if (e->esc != ESC_NONE && esc_feed(e, c))
        return LINE_NONE;

    switch (c) {
    case '\r':
        e->last_cr = 1;
        return finish(e);
    case '\n':
        if (was_cr)
            return LINE_NONE; /* the LF of a CR LF */
        return finish(e);
    case 0x1b:
        (void)esc_feed(e, c);
        return LINE_NONE;
    case 0x03: /* Ctrl-C */
        outs(e, "^C\r\n");
        e->len = e->cur = 0;
        e->buf[0] = '\0';
        e->hist_pos = -1;
        return LINE_CANCEL;
    case 0x04: /* Ctrl-D */
        if (e->len == 0) {
            outs(e, "\r\n");
            return LINE_EOF;
        }
        /* On a non-empty line it deletes under the cursor, as in
         * readline; it must never end input by surprise. */
        delete_fwd(e);
        return LINE_NONE;
    case 0x7f:
    case 0x08:
        backspace(e);
        return LINE_NONE;
    case 0x01: /* Ctrl-A */
        go_home(e);
        return LINE_NONE;
    case 0x05: /* Ctrl-E */
        go_end(e);
        return LINE_NONE;
    case 0x15: /* Ctrl-U */
        clear_line(e);
        return LINE_NONE;
    case '\t':
        complete(e);
        return LINE_NONE;
    default:
        if (c >= 0x20 && c < 0x7f) {
            char ch = (char)c;

            insert(e, &ch, 1);
        }
        return LINE_NONE;
    }
}

void
line_rd_init(struct line_rd *r)
{
    memset(r, 0, sizeof(*r));
}

static enum line_event
rd_end(struct line_rd *r)
{
    enum line_event ev = r->nul        ? LINE_NUL
                         : r->overflow ? LINE_TOOLONG
                                       : LINE_DONE;

    r->buf[ev == LINE_DONE ? r->len : 0] = '\0';
    r->len = 0;
    r->overflow = 0;
    r->nul = 0;
    r->cr = 0;
    r->line++;
    return ev;
}

static void
rd_put(struct line_rd *r, char c)
{
    /* A NUL would end the line early as a string: the command run
     * would not be the line sent.  The line is refused instead. */
    if (c == '\0')
        r->nul = 1;
    else if (r->len < LINE_MAX_LEN)
        r->buf[r->len++] = c;
    else
        r->overflow = 1;
}

enum line_event
line_rd_feed(struct line_rd *r, uint8_t c)
{
    if (c == '\n')
        return rd_end(r); /* a held CR is dropped */
    if (r->cr)
        rd_put(r, '\r'); /* a CR not followed by LF is data */
    r->cr = c == '\r';
    if (!r->cr)
        rd_put(r, (char)c);
    return LINE_NONE;
}

enum line_event
line_rd_flush(struct line_rd *r)
{
    /* A CR held at end of input ends the line like CR LF would. */
    if (r->len == 0 && !r->overflow && !r->nul) {
        r->cr = 0;
        return LINE_NONE;
    }
    return rd_end(r);
}
