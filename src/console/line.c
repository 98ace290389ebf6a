/*
 * console/line.c - the line editor (terminal) and line reader (pipe).
 *
 * Redraws use three VT100 sequences only: "\b" to step left, "\x1b[K"
 * to erase to the end of the line and "\x1b[<n>D" to move left n
 * columns, which every serial terminal program understands.
 */
#include <stdio.h>
#include <string.h>

#include "console/line.h"

enum { ESC_NONE, ESC_SEEN, ESC_CSI, ESC_CSI_NUM };

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
    char seq[24];

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

/* Replace the whole line (history, completion) and redraw it. */
static void
set_line(struct line_ed *e, const char *s)
{
    move_left(e, e->cur);
    strncpy(e->buf, s, LINE_MAX_LEN);
    e->buf[LINE_MAX_LEN] = '\0';
    e->len = e->cur = strlen(e->buf);
    out(e, e->buf, e->len);
    outs(e, "\x1b[K");
}

void
line_ed_init(struct line_ed *e, const char *prompt, line_out_fn outfn,
             line_complete_fn complete, void *arg)
{
    memset(e, 0, sizeof(*e));
    e->prompt = prompt;
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

static void
insert(struct line_ed *e, const char *s, size_t n)
{
    if (e->len + n > LINE_MAX_LEN) {
        outs(e, "\a");
        return;
    }
    memmove(e->buf + e->cur + n, e->buf + e->cur, e->len - e->cur + 1);
    memcpy(e->buf + e->cur, s, n);
    e->len += n;
    out(e, e->buf + e->cur, n);
    e->cur += n;
    if (e->cur < e->len)
        redraw_tail(e);
}

static void
delete_at(struct line_ed *e, size_t at)
{
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

static void
hist_move(struct line_ed *e, int dir)
{
    int pos = e->hist_pos + dir;

    if (pos >= (int)e->hist_count || pos < -1)
        return;
    if (e->hist_pos == -1)
        memcpy(e->saved, e->buf, e->len + 1);
    e->hist_pos = pos;
    set_line(e, pos == -1 ? e->saved : hist_entry(e, (unsigned)pos));
}

static void
complete(struct line_ed *e)
{
    const char *first, *c;
    size_t word_len, common;
    unsigned n = 0;

    if (e->complete == NULL || memchr(e->buf, ' ', e->cur) != NULL)
        return; /* only the first word completes */
    word_len = e->cur;
    first = e->complete(e->arg, e->buf, word_len, 0);
    if (first == NULL) {
        outs(e, "\a");
        return;
    }
    common = strlen(first);
    while ((c = e->complete(e->arg, e->buf, word_len, ++n)) != NULL) {
        size_t k = 0;

        while (k < common && c[k] == first[k])
            k++;
        common = k;
    }
    if (n == 1) {
        insert(e, first + word_len, strlen(first) - word_len);
        insert(e, " ", 1);
        return;
    }
    outs(e, "\r\n");
    for (unsigned i = 0; i < n; i++) {
        outs(e, e->complete(e->arg, e->buf, word_len, i));
        outs(e, "  ");
    }
    outs(e, "\r\n");
    if (common > word_len) {
        char add[LINE_MAX_LEN + 1];
        size_t k = common - word_len;

        memcpy(add, first + word_len, k);
        /* Insert silently, then redraw prompt and line as a whole. */
        if (e->len + k <= LINE_MAX_LEN) {
            memmove(e->buf + e->cur + k, e->buf + e->cur, e->len - e->cur + 1);
            memcpy(e->buf + e->cur, add, k);
            e->len += k;
            e->cur += k;
        }
    }
    line_ed_redraw(e);
}

static enum line_event
finish(struct line_ed *e)
{
    outs(e, "\r\n");
    hist_add(e);
    e->hist_pos = -1;
    /* The finished line stays in buf until the next byte. */
    e->cur = 0;
    e->len = 0;
    return LINE_DONE;
}

static void
csi_final(struct line_ed *e, char c)
{
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
        move_left(e, e->cur);
        e->cur = 0;
        break;
    case 'F':
        out(e, e->buf + e->cur, e->len - e->cur);
        e->cur = e->len;
        break;
    case '~':
        if (e->esc_arg == '3')
            delete_fwd(e);
        else if (e->esc_arg == '1' || e->esc_arg == '7')
            csi_final(e, 'H');
        else if (e->esc_arg == '4' || e->esc_arg == '8')
            csi_final(e, 'F');
        break;
    default:
        break; /* unknown sequences are ignored */
    }
}

enum line_event
line_ed_feed(struct line_ed *e, uint8_t c)
{
    int was_cr = e->last_cr;

    /* A finished line is handed out once; start the next one clean. */
    if (e->len == 0 && e->cur == 0)
        e->buf[0] = '\0';
    e->last_cr = 0;

    if (e->esc != ESC_NONE) {
        if (e->esc == ESC_SEEN) {
            e->esc = (c == '[' || c == 'O') ? ESC_CSI : ESC_NONE;
        } else if (c >= '0' && c <= '9') {
            e->esc_arg = (char)c;
            e->esc = ESC_CSI_NUM;
        } else if (c >= 0x40 && c <= 0x7e) {
            if (e->esc == ESC_CSI_NUM || c != '~')
                csi_final(e, (char)c);
            e->esc = ESC_NONE;
            e->esc_arg = 0;
        } else if (c < 0x20 || c > 0x7e) {
            e->esc = ESC_NONE; /* malformed: drop it */
        }
        return LINE_NONE;
    }

    switch (c) {
    case '\r':
        e->last_cr = 1;
        return finish(e);
    case '\n':
        if (was_cr)
            return LINE_NONE;
        return finish(e);
    case 0x1b:
        e->esc = ESC_SEEN;
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
        delete_fwd(e);
        return LINE_NONE;
    case 0x7f:
    case 0x08:
        backspace(e);
        return LINE_NONE;
    case 0x01: /* Ctrl-A */
        csi_final(e, 'H');
        return LINE_NONE;
    case 0x05: /* Ctrl-E */
        csi_final(e, 'F');
        return LINE_NONE;
    case 0x15: /* Ctrl-U */
        move_left(e, e->cur);
        e->len = e->cur = 0;
        e->buf[0] = '\0';
        outs(e, "\x1b[K");
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
    enum line_event ev = r->overflow ? LINE_TOOLONG : LINE_DONE;

    r->buf[r->len] = '\0';
    r->len = 0;
    r->overflow = 0;
    r->cr = 0;
    return ev;
}

static void
rd_put(struct line_rd *r, char c)
{
    if (r->len < LINE_MAX_LEN)
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
    if (r->len == 0 && !r->overflow)
        return LINE_NONE;
    return rd_end(r);
}
