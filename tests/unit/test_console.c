/*
 * tests/unit/test_console.c - the line editor, the line reader and the
 * command table.  Output goes through a write callback into a buffer so
 * that every redraw and message can be compared byte for byte.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "console/cmd.h"
#include "console/line.h"
#include "ut.h"

#define LEN(s) (sizeof(s) - 1)

/* ---- output capture ------------------------------------------------- */

struct cap {
    char buf[16384];
    size_t len;
    int overflow;
};

static struct cap cap;

static void
cap_reset(void)
{
    cap.len = 0;
    cap.overflow = 0;
    cap.buf[0] = '\0';
}

static void
cap_write(void *arg, const char *s, size_t n)
{
    struct cap *c = arg;

    if (n > sizeof(c->buf) - 1 - c->len) {
        c->overflow = 1;
        n = sizeof(c->buf) - 1 - c->len;
    }
    memcpy(c->buf + c->len, s, n);
    c->len += n;
    c->buf[c->len] = '\0';
}

static int
cap_is(const char *want)
{
    if (cap.len == strlen(want) && memcmp(cap.buf, want, cap.len) == 0)
        return 1;
    printf("  output: \"");
    for (size_t i = 0; i < cap.len; i++) {
        unsigned char ch = (unsigned char)cap.buf[i];

        if (ch < 0x20 || ch >= 0x7f)
            printf("\\x%02x", ch);
        else
            putchar(ch);
    }
    printf("\"\n");
    return 0;
}

static int
cap_has(const char *s)
{
    return strstr(cap.buf, s) != NULL;
}

static int
count_of(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* ---- editor --------------------------------------------------------- */

static const char *const words[] = {"help",    "hello", "version",
                                    "verbose", "store", NULL};

static const char *
word_complete(void *arg, const char *prefix, size_t n, unsigned idx)
{
    (void)arg;
    for (const char *const *w = words; *w != NULL; w++)
        if (strncmp(*w, prefix, n) == 0 && idx-- == 0)
            return *w;
    return NULL;
}

struct feed_result {
    enum line_event last;        /* last event other than LINE_NONE */
    int events;                  /* how many events other than LINE_NONE */
    int done;                    /* how many LINE_DONE */
    char line[LINE_MAX_LEN + 1]; /* buf at the last LINE_DONE */
};

static void
ed_feed(struct line_ed *e, const char *s, size_t n, struct feed_result *r)
{
    memset(r, 0, sizeof(*r));
    for (size_t i = 0; i < n; i++) {
        enum line_event ev = line_ed_feed(e, (uint8_t)s[i]);

        if (ev == LINE_NONE)
            continue;
        r->last = ev;
        r->events++;
        if (ev == LINE_DONE) {
            r->done++;
            snprintf(r->line, sizeof(r->line), "%s", e->buf);
        }
    }
}

static void
ed_new(struct line_ed *e, int with_complete)
{
    line_ed_init(e, "> ", cap_write, with_complete ? word_complete : NULL,
                 &cap);
    cap_reset();
}

struct ed_case {
    const char *name;
    const char *in;
    size_t in_len;
    enum line_event last; /* last event of the feed */
    int events;           /* events other than LINE_NONE */
    const char *line;     /* LINE_DONE: the line; otherwise buf now */
    int cur;              /* cursor afterwards, -1: do not check */
    const char *out;      /* exact output, NULL: do not check */
};

#define IN(s) s, LEN(s)

static const struct ed_case ed_cases[] = {
    {"type", IN("abc"), LINE_NONE, 0, "abc", 3, "abc"},
    {"enter CR", IN("abc\r"), LINE_DONE, 1, "abc", 0, "abc\r\n"},
    {"enter LF", IN("abc\n"), LINE_DONE, 1, "abc", 0, "abc\r\n"},
    {"CR LF counts once", IN("ab\r\n"), LINE_DONE, 1, "ab", 0, "ab\r\n"},
    {"two CR LF lines", IN("a\r\nb\r\n"), LINE_DONE, 2, "b", 0, "a\r\nb\r\n"},
    {"CR CR is two lines", IN("\r\r"), LINE_DONE, 2, "", 0, "\r\n\r\n"},
    {"LF LF is two lines", IN("\n\n"), LINE_DONE, 2, "", 0, "\r\n\r\n"},
    {"LF CR is two lines", IN("\n\r"), LINE_DONE, 2, "", 0, "\r\n\r\n"},
    {"backspace DEL", IN("abc\x7f"), LINE_NONE, 0, "ab", 2, "abc\b\x1b[K"},
    {"backspace ^H", IN("abc\x08"), LINE_NONE, 0, "ab", 2, "abc\b\x1b[K"},
    {"backspace at start", IN("\x7f"), LINE_NONE, 0, "", 0, ""},
    {"backspace in middle", IN("abc\x1b[D\x7f"), LINE_NONE, 0, "ac", 1,
     "abc\b\bc\x1b[K\x1b[1D"},
    {"left and insert", IN("ac\x1b[Db"), LINE_NONE, 0, "abc", 2,
     "ac\bbc\x1b[K\x1b[1D"},
    {"left at start", IN("\x1b[Da"), LINE_NONE, 0, "a", 1, "a"},
    {"ctrl-a and insert", IN("bc\001a"), LINE_NONE, 0, "abc", 1,
     "bc\x1b[2Dabc\x1b[K\x1b[2D"},
    {"home CSI H", IN("abc\x1b[H"), LINE_NONE, 0, "abc", 0, "abc\x1b[3D"},
    {"home CSI 1~", IN("abc\x1b[1~"), LINE_NONE, 0, "abc", 0, NULL},
    {"home CSI 7~", IN("abc\x1b[7~"), LINE_NONE, 0, "abc", 0, NULL},
    {"home SS3 H", IN("abc\x1bOH"), LINE_NONE, 0, "abc", 0, NULL},
    {"end ctrl-e", IN("abc\x01\x05"), LINE_NONE, 0, "abc", 3, "abc\x1b[3Dabc"},
    {"end CSI F", IN("abc\x01\x1b[F"), LINE_NONE, 0, "abc", 3, NULL},
    {"end CSI 4~", IN("abc\x01\x1b[4~"), LINE_NONE, 0, "abc", 3, NULL},
    {"right", IN("ab\x1b[D\x1b[D\x1b[C"), LINE_NONE, 0, "ab", 1, "ab\b\ba"},
    {"right at end", IN("a\x1b[C"), LINE_NONE, 0, "a", 1, "a"},
    {"SS3 arrows", IN("ac\x1bODb"), LINE_NONE, 0, "abc", 2, NULL},
    {"delete key", IN("abc\x1b[D\x1b[D\x1b[3~"), LINE_NONE, 0, "ac", 1,
     "abc\b\bc\x1b[K\x1b[1D"},
    {"delete at end", IN("abc\x1b[3~"), LINE_NONE, 0, "abc", 3, "abc"},
    {"ctrl-u", IN("abc\x15"), LINE_NONE, 0, "", 0, "abc\x1b[3D\x1b[K"},
    {"ctrl-u then type", IN("abc\x15x\r"), LINE_DONE, 1, "x", 0, NULL},
    {"ctrl-c", IN("abc\x03"), LINE_CANCEL, 1, "", 0, "abc^C\r\n"},
    {"ctrl-c then line", IN("abc\003d\r"), LINE_DONE, 2, "d", 0,
     "abc^C\r\nd\r\n"},
    {"ctrl-d on empty", IN("\x04"), LINE_EOF, 1, "", 0, NULL},
    {"ctrl-d after clear", IN("ab\x7f\x7f\x04"), LINE_EOF, 1, "", 0, NULL},
    {"ctrl-d at end of text", IN("ab\x04"), LINE_NONE, 0, "ab", 2, "ab"},
    {"ctrl-d deletes under cursor", IN("ab\x01\x04"), LINE_NONE, 0, "b", 0,
     NULL},
    {"unknown CSI letter", IN("a\x1b[Zb"), LINE_NONE, 0, "ab", 2, "ab"},
    {"CSI with modifiers", IN("a\x1b[1;5Cb"), LINE_NONE, 0, "ab", 2, "ab"},
    {"F11 is not delete", IN("ab\x1b[D\x1b[23~"), LINE_NONE, 0, "ab", 1,
     "ab\b"},
    {"F5 ignored", IN("a\x1b[15~"), LINE_NONE, 0, "a", 1, "a"},
    {"CSI with count ignored", IN("ab\x1b[2D"), LINE_NONE, 0, "ab", 2, "ab"},
    {"bracketed paste marks", IN("\x1b[200~xy\x1b[201~"), LINE_NONE, 0, "xy", 2,
     "xy"},
    {"alt-key dropped", IN("a\x1bxb"), LINE_NONE, 0, "ab", 2, "ab"},
    {"ESC ESC restarts", IN("a\x1b\x1b[Db"), LINE_NONE, 0, "ba", 1, NULL},
    {"ESC then Enter", IN("ab\x1b\r"), LINE_DONE, 1, "ab", 0, NULL},
    {"ESC [ then ctrl-c", IN("ab\x1b[\x03"), LINE_CANCEL, 1, "", 0, NULL},
    {"other controls ignored", IN("a\002\006\013\016\020\037b"), LINE_NONE, 0,
     "ab", 2, "ab"},
    {"high bytes ignored", IN("a\303\251b"), LINE_NONE, 0, "ab", 2, "ab"},
    {"NUL ignored", "a\0b", 3, LINE_NONE, 0, "ab", 2, "ab"},
    {"tab without callback", IN("st\t"), LINE_NONE, 0, "st", 2, "st"},
};

static void
test_editor_table(void)
{
    for (size_t i = 0; i < sizeof(ed_cases) / sizeof(ed_cases[0]); i++) {
        const struct ed_case *c = &ed_cases[i];
        struct line_ed e;
        struct feed_result r;

        UT_CASE(c->name);
        ed_new(&e, 0);
        ed_feed(&e, c->in, c->in_len, &r);
        UT_CHECK_EQ(r.last, c->last);
        UT_CHECK_EQ(r.events, c->events);
        if (c->last == LINE_DONE) {
            UT_CHECK(strcmp(r.line, c->line) == 0);
            UT_CHECK_EQ(e.len, 0);
        } else {
            UT_CHECK_EQ(e.len, strlen(c->line));
            UT_CHECK(strcmp(e.buf, c->line) == 0);
        }
        if (c->cur >= 0)
            UT_CHECK_EQ(e.cur, c->cur);
        if (c->out != NULL)
            UT_CHECK(cap_is(c->out));
    }
}

static void
test_editor_overlong(void)
{
    struct line_ed e;
    struct feed_result r;
    char full[LINE_MAX_LEN];

    UT_CASE("overlong line refused with BEL, buffer intact");
    memset(full, 'x', sizeof(full));
    ed_new(&e, 0);
    ed_feed(&e, full, sizeof(full), &r);
    UT_CHECK_EQ(e.len, LINE_MAX_LEN);
    UT_CHECK(!cap_has("\a"));
    cap_reset();
    ed_feed(&e, "yz", 2, &r);
    UT_CHECK(cap_is("\a\a"));
    UT_CHECK_EQ(e.len, LINE_MAX_LEN);
    UT_CHECK_EQ(e.cur, LINE_MAX_LEN);
    UT_CHECK(memcmp(e.buf, full, sizeof(full)) == 0);
    UT_CHECK_EQ(e.buf[LINE_MAX_LEN], '\0');
    /* Room again after a backspace, and the line still ends normally. */
    ed_feed(&e, "\x7fy\r", 3, &r);
    UT_CHECK_EQ(r.done, 1);
    UT_CHECK_EQ(strlen(r.line), LINE_MAX_LEN);
    UT_CHECK_EQ(r.line[LINE_MAX_LEN - 1], 'y');
    UT_CHECK(memcmp(r.line, full, LINE_MAX_LEN - 1) == 0);

    UT_CASE("insert in the middle of a full line refused");
    ed_new(&e, 0);
    ed_feed(&e, full, sizeof(full), &r);
    ed_feed(&e, "\x01", 1, &r);
    cap_reset();
    ed_feed(&e, "y", 1, &r);
    UT_CHECK(cap_is("\a"));
    UT_CHECK_EQ(e.cur, 0);
    UT_CHECK(memcmp(e.buf, full, sizeof(full)) == 0);
}

static void
test_editor_redraw(void)
{
    struct line_ed e;
    struct feed_result r;

    UT_CASE("redraw: prompt, line, cursor put back");
    ed_new(&e, 0);
    ed_feed(&e, IN("ab\x1b[D"), &r);
    cap_reset();
    line_ed_redraw(&e);
    UT_CHECK(cap_is("\r> ab\x1b[K\x1b[1D"));

    UT_CASE("redraw after a finished line shows an empty prompt");
    ed_new(&e, 0);
    ed_feed(&e, IN("ab\r"), &r);
    cap_reset();
    line_ed_redraw(&e);
    UT_CHECK(cap_is("\r> \x1b[K"));

    UT_CASE("finished line stays in buf until the next byte");
    ed_new(&e, 0);
    ed_feed(&e, IN("ab\r"), &r);
    UT_CHECK(strcmp(e.buf, "ab") == 0);
    ed_feed(&e, IN("c"), &r);
    UT_CHECK(strcmp(e.buf, "c") == 0);
}

/* Feed s and check the line shown; cur is always at the end after a
 * history move. */
static int
hist_step(struct line_ed *e, const char *s, const char *want)
{
    struct feed_result r;

    ed_feed(e, s, strlen(s), &r);
    if (strcmp(e->buf, want) != 0 || e->len != strlen(want) ||
        e->cur != e->len) {
        printf("  after %zu bytes: buf \"%s\", want \"%s\"\n", strlen(s),
               e->buf, want);
        return 0;
    }
    return 1;
}

#define UP "\x1b[A"
#define DOWN "\x1b[B"

static void
test_editor_history(void)
{
    struct line_ed e;
    struct feed_result r;
    char line[16];

    UT_CASE("history up/down and the saved line");
    ed_new(&e, 0);
    ed_feed(&e, IN("one\rtwo\rtwo\r\r"), &r);
    UT_CHECK_EQ(r.done, 4);
    UT_CHECK_EQ(e.hist_count, 2); /* duplicate and empty not stored */
    UT_CHECK(hist_step(&e, "th", "th"));
    cap_reset();
    UT_CHECK(hist_step(&e, UP, "two"));
    UT_CHECK(cap_is("\x1b[2Dtwo\x1b[K"));
    UT_CHECK(hist_step(&e, UP, "one"));
    UT_CHECK(hist_step(&e, UP, "one")); /* nothing older */
    UT_CHECK(hist_step(&e, DOWN, "two"));
    UT_CHECK(hist_step(&e, DOWN, "th")); /* back to the saved line */
    cap_reset();
    UT_CHECK(hist_step(&e, DOWN, "th")); /* nothing newer */
    UT_CHECK(cap_is(""));
    ed_feed(&e, IN("\r"), &r);
    UT_CHECK_EQ(r.done, 1);
    UT_CHECK(strcmp(r.line, "th") == 0);
    UT_CHECK(hist_step(&e, UP, "th"));
    UT_CHECK(hist_step(&e, UP, "two"));
    UT_CHECK(hist_step(&e, UP, "one"));

    UT_CASE("history: SS3 arrows, recalled line edited and entered");
    ed_new(&e, 0);
    ed_feed(&e, IN("abc\r"), &r);
    ed_feed(&e, IN("\033OAd\r"), &r);
    UT_CHECK_EQ(r.done, 1);
    UT_CHECK(strcmp(r.line, "abcd") == 0);
    UT_CHECK(hist_step(&e, UP, "abcd"));
    UT_CHECK(hist_step(&e, UP, "abc"));
    UT_CHECK(hist_step(&e, "\x1bOB", "abcd"));

    UT_CASE("history: down with nothing browsed does nothing");
    ed_new(&e, 0);
    ed_feed(&e, IN("one\r"), &r);
    cap_reset();
    UT_CHECK(hist_step(&e, "x" DOWN, "x"));
    UT_CHECK(cap_is("x"));

    UT_CASE("history: ctrl-c ends browsing");
    ed_new(&e, 0);
    ed_feed(&e, IN("one\r" UP "\x03"), &r);
    UT_CHECK_EQ(r.last, LINE_CANCEL);
    UT_CHECK(hist_step(&e, DOWN, ""));
    UT_CHECK(hist_step(&e, UP, "one"));

    UT_CASE("history ring keeps the newest LINE_HISTORY lines");
    ed_new(&e, 0);
    for (int i = 0; i < LINE_HISTORY + 2; i++) {
        snprintf(line, sizeof(line), "c%d\r", i);
        ed_feed(&e, line, strlen(line), &r);
    }
    UT_CHECK_EQ(e.hist_count, LINE_HISTORY);
    snprintf(line, sizeof(line), "c%d", LINE_HISTORY + 1);
    UT_CHECK(hist_step(&e, UP, line));
    for (int i = 1; i < LINE_HISTORY; i++)
        ed_feed(&e, IN(UP), &r);
    UT_CHECK(hist_step(&e, "", "c2"));
    UT_CHECK(hist_step(&e, UP, "c2"));
}

static void
test_editor_complete(void)
{
    struct line_ed e;
    struct feed_result r;

    UT_CASE("tab: one match inserts the rest and a space");
    ed_new(&e, 1);
    ed_feed(&e, IN("st\t"), &r);
    UT_CHECK(strcmp(e.buf, "store ") == 0);
    UT_CHECK_EQ(e.cur, 6);
    UT_CHECK(cap_is("store "));

    UT_CASE("tab: one match, word already whole");
    ed_new(&e, 1);
    ed_feed(&e, IN("store\t"), &r);
    UT_CHECK(strcmp(e.buf, "store ") == 0);

    UT_CASE("tab: several matches listed, common prefix inserted");
    ed_new(&e, 1);
    ed_feed(&e, IN("he\t"), &r);
    UT_CHECK(strcmp(e.buf, "hel") == 0);
    UT_CHECK_EQ(e.cur, 3);
    UT_CHECK(cap_is("he\r\nhelp  hello  \r\n\r> hel\x1b[K"));

    UT_CASE("tab: several matches, nothing in common to add");
    ed_new(&e, 1);
    ed_feed(&e, IN("ver\t"), &r);
    UT_CHECK(strcmp(e.buf, "ver") == 0);
    UT_CHECK(cap_is("ver\r\nversion  verbose  \r\n\r> ver\x1b[K"));

    UT_CASE("tab: on an empty line lists everything");
    ed_new(&e, 1);
    ed_feed(&e, IN("\t"), &r);
    UT_CHECK(strcmp(e.buf, "") == 0);
    UT_CHECK(cap_is("\r\nhelp  hello  version  verbose  store  \r\n"
                    "\r> \x1b[K"));

    UT_CASE("tab: no match rings the bell");
    ed_new(&e, 1);
    ed_feed(&e, IN("xy\t"), &r);
    UT_CHECK(strcmp(e.buf, "xy") == 0);
    UT_CHECK(cap_is("xy\a"));

    UT_CASE("tab: second word is not completed");
    ed_new(&e, 1);
    ed_feed(&e, IN("help st\t"), &r);
    UT_CHECK(strcmp(e.buf, "help st") == 0);
    UT_CHECK(cap_is("help st"));

    UT_CASE("tab: leading blanks, then the name completes");
    ed_new(&e, 1);
    ed_feed(&e, IN("  st\t"), &r);
    UT_CHECK(strcmp(e.buf, "  store ") == 0);

    UT_CASE("tab: cursor inside a word does nothing");
    ed_new(&e, 1);
    ed_feed(&e, IN("sto\x1b[D\t"), &r);
    UT_CHECK(strcmp(e.buf, "sto") == 0);
    UT_CHECK_EQ(e.cur, 2);

    UT_CASE("tab: completion before the arguments");
    ed_new(&e, 1);
    ed_feed(&e, IN("st x\x1b[D\x1b[D\t"), &r);
    UT_CHECK(strcmp(e.buf, "store  x") == 0);
    UT_CHECK_EQ(e.cur, 6);

    UT_CASE("tab: completed line is entered");
    ed_new(&e, 1);
    ed_feed(&e, IN("vers\t\r"), &r);
    UT_CHECK_EQ(r.done, 1);
    UT_CHECK(strcmp(r.line, "version ") == 0);
}

/* ---- reader ----------------------------------------------------------- */

struct rd_case {
    const char *name;
    const char *in;
    size_t in_len;
    int flush;            /* call line_rd_flush() afterwards */
    enum line_event last; /* last event other than LINE_NONE */
    int events;
    const char *line; /* r->buf at the last LINE_DONE */
};

static const struct rd_case rd_cases[] = {
    {"LF", IN("abc\n"), 0, LINE_DONE, 1, "abc"},
    {"CR LF", IN("abc\r\n"), 0, LINE_DONE, 1, "abc"},
    {"lone CR is data", IN("a\rb\n"), 0, LINE_DONE, 1, "a\rb"},
    {"CR CR LF keeps one CR", IN("a\r\r\n"), 0, LINE_DONE, 1, "a\r"},
    {"empty line", IN("\n"), 0, LINE_DONE, 1, ""},
    {"no LF yet", IN("abc"), 0, LINE_NONE, 0, NULL},
    {"two lines", IN("a\nbc\n"), 0, LINE_DONE, 2, "bc"},
    {"flush last line", IN("last"), 1, LINE_DONE, 1, "last"},
    {"flush last line with CR", IN("last\r"), 1, LINE_DONE, 1, "last"},
    {"flush after LF", IN("abc\n"), 1, LINE_DONE, 1, "abc"},
    {"flush on nothing", IN(""), 1, LINE_NONE, 0, NULL},
    {"flush lone CR", IN("\r"), 1, LINE_NONE, 0, NULL},
    /* A NUL would cut the line short as a string: the line is refused. */
    {"NUL in a line", IN("ver\0sion\n"), 0, LINE_NUL, 1, NULL},
    {"NUL as the line", IN("\0\n"), 0, LINE_NUL, 1, NULL},
    {"NUL, then a good line", IN("a\0b\nok\n"), 0, LINE_DONE, 2, "ok"},
    {"good line, then NUL", IN("ok\nx\0\n"), 0, LINE_NUL, 2, NULL},
    {"NUL in the last line at flush", IN("ok\nx\0y"), 1, LINE_NUL, 2, NULL},
    {"lone NUL at flush", IN("\0"), 1, LINE_NUL, 1, NULL},
    {"NUL before CR LF", IN("x\0\r\n"), 0, LINE_NUL, 1, NULL},
};

static int
rd_feed(struct line_rd *r, const char *s, size_t n, int flush,
        enum line_event *last, char *line, size_t cap_len)
{
    int events = 0;

    *last = LINE_NONE;
    for (size_t i = 0; i <= n; i++) {
        enum line_event ev;

        if (i < n)
            ev = line_rd_feed(r, (uint8_t)s[i]);
        else if (flush)
            ev = line_rd_flush(r);
        else
            break;
        if (ev == LINE_NONE)
            continue;
        *last = ev;
        events++;
        if (ev == LINE_DONE)
            snprintf(line, cap_len, "%s", r->buf);
    }
    return events;
}

static void
test_reader(void)
{
    struct line_rd r;
    enum line_event last;
    char line[LINE_MAX_LEN + 1], big[LINE_MAX_LEN + 3];
    int n;

    for (size_t i = 0; i < sizeof(rd_cases) / sizeof(rd_cases[0]); i++) {
        const struct rd_case *c = &rd_cases[i];

        UT_CASE(c->name);
        line_rd_init(&r);
        line[0] = '\0';
        n = rd_feed(&r, c->in, c->in_len, c->flush, &last, line, sizeof(line));
        UT_CHECK_EQ(last, c->last);
        UT_CHECK_EQ(n, c->events);
        /* Every line ended is one event, and numbered. */
        UT_CHECK_EQ(r.line, c->events);
        if (c->line != NULL)
            UT_CHECK(strcmp(line, c->line) == 0);
        if (last == LINE_NUL || last == LINE_TOOLONG)
            UT_CHECK_EQ(r.buf[0], '\0'); /* nothing of it to run */
    }

    UT_CASE("reader: flush twice gives one line");
    line_rd_init(&r);
    rd_feed(&r, IN("x"), 0, &last, line, sizeof(line));
    UT_CHECK_EQ(line_rd_flush(&r), LINE_DONE);
    UT_CHECK_EQ(line_rd_flush(&r), LINE_NONE);

    UT_CASE("reader: a line of exactly LINE_MAX_LEN bytes");
    memset(big, 'x', LINE_MAX_LEN);
    big[LINE_MAX_LEN] = '\r';
    big[LINE_MAX_LEN + 1] = '\n';
    line_rd_init(&r);
    n = rd_feed(&r, big, LINE_MAX_LEN + 2, 0, &last, line, sizeof(line));
    UT_CHECK_EQ(n, 1);
    UT_CHECK_EQ(last, LINE_DONE);
    UT_CHECK_EQ(strlen(line), LINE_MAX_LEN);

    UT_CASE("reader: overlong line, then the next line is fine");
    memset(big, 'x', LINE_MAX_LEN + 1);
    big[LINE_MAX_LEN + 1] = '\n';
    line_rd_init(&r);
    n = rd_feed(&r, big, LINE_MAX_LEN + 1, 0, &last, line, sizeof(line));
    UT_CHECK_EQ(n, 0); /* reported only once its LF arrives */
    n = rd_feed(&r, "\n", 1, 0, &last, line, sizeof(line));
    UT_CHECK_EQ(n, 1);
    UT_CHECK_EQ(last, LINE_TOOLONG);
    n = rd_feed(&r, IN("ok\n"), 0, &last, line, sizeof(line));
    UT_CHECK_EQ(n, 1);
    UT_CHECK_EQ(last, LINE_DONE);
    UT_CHECK(strcmp(line, "ok") == 0);

    UT_CASE("reader: overlong last line at flush");
    line_rd_init(&r);
    n = rd_feed(&r, big, LINE_MAX_LEN + 1, 1, &last, line, sizeof(line));
    UT_CHECK_EQ(n, 1);
    UT_CHECK_EQ(last, LINE_TOOLONG);
    UT_CHECK_EQ(r.line, 1);
    UT_CHECK_EQ(line_rd_flush(&r), LINE_NONE);

    UT_CASE("reader: an overlong line with a NUL is reported as NUL");
    line_rd_init(&r);
    big[3] = '\0';
    n = rd_feed(&r, big, LINE_MAX_LEN + 2, 0, &last, line, sizeof(line));
    UT_CHECK_EQ(n, 1);
    UT_CHECK_EQ(last, LINE_NUL);
    n = rd_feed(&r, IN("ok\n"), 0, &last, line, sizeof(line));
    UT_CHECK_EQ(last, LINE_DONE);
    UT_CHECK(strcmp(line, "ok") == 0);
    UT_CHECK_EQ(r.line, 2);

    UT_CASE("reader: line numbers count blank and refused lines");
    line_rd_init(&r);
    n = rd_feed(&r, IN("\n# c\n\0\nfour\n"), 0, &last, line, sizeof(line));
    UT_CHECK_EQ(n, 4);
    UT_CHECK_EQ(r.line, 4);
    UT_CHECK(strcmp(line, "four") == 0);
}

/* ---- cmd_parse_u64 ---------------------------------------------------- */

struct u64_case {
    const char *in;
    uint64_t max;
    int rc;
    uint64_t out;
};

static const struct u64_case u64_cases[] = {
    {"0", UINT64_MAX, 0, 0},
    {"42", UINT64_MAX, 0, 42},
    {"010", UINT64_MAX, 0, 10}, /* decimal, not octal */
    {"18446744073709551615", UINT64_MAX, 0, UINT64_MAX},
    {"18446744073709551616", UINT64_MAX, -ERANGE, 0},
    {"99999999999999999999999", UINT64_MAX, -ERANGE, 0},
    {"-1", UINT64_MAX, -EINVAL, 0}, /* strtoull: 2^64-1 */
    {"-0", UINT64_MAX, -EINVAL, 0},
    {"+1", UINT64_MAX, -EINVAL, 0},
    {" 1", UINT64_MAX, -EINVAL, 0},
    {"1 ", UINT64_MAX, -EINVAL, 0},
    {"", UINT64_MAX, -EINVAL, 0},
    {"0x10", UINT64_MAX, -EINVAL, 0},
    {"1e3", UINT64_MAX, -EINVAL, 0},
    {"12a", UINT64_MAX, -EINVAL, 0},
    {"3650", 3650, 0, 3650},
    {"3651", 3650, -ERANGE, 0},
    {"99999999999999999999x", 3650, -EINVAL, 0}, /* not a number first */
    {"0", 0, 0, 0},
    {"1", 0, -ERANGE, 0},
    {"7", 5, -ERANGE, 0},
    {"5", 5, 0, 5},
};

static void
test_parse_u64(void)
{
    for (size_t i = 0; i < sizeof(u64_cases) / sizeof(u64_cases[0]); i++) {
        const struct u64_case *c = &u64_cases[i];
        static char name[64]; /* UT_CASE keeps the pointer */
        uint64_t v = 12345;

        snprintf(name, sizeof(name), "parse_u64: '%s' (max %llu)", c->in,
                 (unsigned long long)c->max);
        UT_CASE(name);
        UT_CHECK_EQ(cmd_parse_u64(c->in, c->max, &v), c->rc);
        if (c->rc == 0)
            UT_CHECK(v == c->out);
        else
            UT_CHECK(v == 12345); /* untouched on error */
    }
}

/* ---- cmd_split -------------------------------------------------------- */

struct split_case {
    const char *name;
    const char *in;
    int max;
    int rc;
    const char *want[6];
};

static const struct split_case split_cases[] = {
    {"split: words", "a bc d", 8, 3, {"a", "bc", "d"}},
    {"split: blanks and tabs", "  a\t b  \t", 8, 2, {"a", "b"}},
    {"split: empty", "", 8, 0, {NULL}},
    {"split: blank", " \t ", 8, 0, {NULL}},
    {"split: double quotes", "\"a b\" c", 8, 2, {"a b", "c"}},
    {"split: single quotes", "'a b'", 8, 1, {"a b"}},
    {"split: quotes inside a word", "x\"y z\"w", 8, 1, {"xy zw"}},
    {"split: empty quotes are a word", "a \"\" ''", 8, 3, {"a", "", ""}},
    {"split: backslash space", "a\\ b c", 8, 2, {"a b", "c"}},
    {"split: backslash quote", "\\\"a", 8, 1, {"\"a"}},
    {"split: backslash in double quotes", "\"a\\\"b\"", 8, 1, {"a\"b"}},
    {"split: backslash in single quotes", "'a\\b'", 8, 1, {"a\\b"}},
    {"split: other quote inside",
     "\"it's\" 'say \"hi\"'",
     8,
     2,
     {"it's", "say \"hi\""}},
    {"split: trailing backslash kept", "a\\", 8, 1, {"a\\"}},
    {"split: exactly max words", "a b", 2, 2, {"a", "b"}},
    {"split: too many words", "a b c", 2, -E2BIG, {NULL}},
    {"split: max 0 with a word", "a", 0, -E2BIG, {NULL}},
    {"split: max 0 blank", "  ", 0, 0, {NULL}},
    {"split: unterminated double", "a \"b c", 8, -EINVAL, {NULL}},
    {"split: unterminated single", "'", 8, -EINVAL, {NULL}},
};

static void
test_split(void)
{
    for (size_t i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
        const struct split_case *c = &split_cases[i];
        char line[64], *argv[8];
        int rc;

        UT_CASE(c->name);
        snprintf(line, sizeof(line), "%s", c->in);
        rc = cmd_split(line, argv, c->max);
        UT_CHECK_EQ(rc, c->rc);
        for (int k = 0; k < rc && k < 6; k++)
            UT_CHECK(c->want[k] != NULL && strcmp(argv[k], c->want[k]) == 0);
    }
}

/* ---- cmd_exec --------------------------------------------------------- */

static struct {
    int calls, argc, json;
    char args[128]; /* argv joined with '|' */
} seen;

static int
h_record(struct cmd_ctx *ctx, int argc, char **argv)
{
    size_t n = 0;

    seen.calls++;
    seen.argc = argc;
    seen.json = ctx->json;
    seen.args[0] = '\0';
    for (int i = 0; i < argc && n < sizeof(seen.args); i++)
        n += (size_t)snprintf(seen.args + n, sizeof(seen.args) - n, "%s%s",
                              i ? "|" : "", argv[i]);
    return 0;
}

static int
h_fail(struct cmd_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    seen.calls++;
    cmd_err(ctx, "it broke: %d", 42);
    return -EIO;
}

static const struct cmd t_store[] = {
    {"stat", 0, 0, CMD_JSON, "[--json]", "show statistics", h_record, NULL},
    {"erase", 1, 1, 0, "PART", "erase a partition", h_record, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

static const struct cmd t_cmds[] = {
    {"version", 0, 0, 0, "", "print the version", h_record, NULL},
    {"echo", 1, 3, CMD_JSON, "[--json] WORD...", "print words", h_record, NULL},
    {"store", 0, 0, 0, NULL, "the record store", NULL, t_store},
    {"fail", 0, 0, 0, "", "always fails", h_fail, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

struct exec_case {
    const char *name;
    const char *line;
    int rc;
    int calls; /* handler calls expected (0 or 1) */
    const char *args;
    int json;
    const char *out;  /* exact output; NULL: see need */
    const char *need; /* output must contain this */
};

#define TOO_MANY_WORDS "a a a a a a a a a a a a a a a a a"

static const struct exec_case exec_cases[] = {
    {"exec: no arguments", "version", 0, 1, "", 0, "", NULL},
    {"exec: too many arguments", "version extra", -EINVAL, 0, NULL, 0,
     "error: version: too many arguments (usage: version); "
     "see 'help version'\n",
     NULL},
    {"exec: missing arguments", "echo", -EINVAL, 0, NULL, 0,
     "error: echo: missing arguments (usage: echo [--json] WORD...); "
     "see 'help echo'\n",
     NULL},
    {"exec: max arguments", "echo a b c", 0, 1, "a|b|c", 0, "", NULL},
    {"exec: over max arguments", "echo a b c d", -EINVAL, 0, NULL, 0, NULL,
     "error: echo: too many arguments"},
    {"exec: quoted argument", "echo \"a b\" 'c'", 0, 1, "a b|c", 0, "", NULL},
    {"exec: --json accepted", "echo --json a", 0, 1, "a", 1, "", NULL},
    {"exec: --json after the args", "echo a --json", 0, 1, "a", 1, "", NULL},
    {"exec: --json does not count", "echo --json a b c", 0, 1, "a|b|c", 1, "",
     NULL},
    {"exec: --json alone is no argument", "echo --json", -EINVAL, 0, NULL, 0,
     NULL, "error: echo: missing arguments"},
    {"exec: after -- not a flag", "echo -- --json -h", 0, 1, "--json|-h", 0, "",
     NULL},
    {"exec: --json refused", "version --json", -EINVAL, 0, NULL, 0,
     "error: version: no --json output (usage: version); "
     "see 'help version'\n",
     NULL},
    {"exec: --help", "version --help", 0, 0, NULL, 0,
     "usage: version\nprint the version\n", NULL},
    {"exec: -h beats a bad count", "echo -h", 0, 0, NULL, 0,
     "usage: echo [--json] WORD...\nprint words\n", NULL},
    {"exec: --help on a subcommand", "store stat --help", 0, 0, NULL, 0,
     "usage: store stat [--json]\nshow statistics\n", NULL},
    {"exec: --help on a group", "store --help", 0, 0, NULL, 0,
     "usage: store SUBCOMMAND\nthe record store\n"
     "  stat   show statistics\n"
     "  erase  erase a partition\n",
     NULL},
    {"exec: subcommand", "store stat", 0, 1, "", 0, "", NULL},
    {"exec: subcommand --json", "store stat --json", 0, 1, "", 1, "", NULL},
    {"exec: subcommand argument", "store erase boot", 0, 1, "boot", 0, "",
     NULL},
    {"exec: subcommand count", "store erase", -EINVAL, 0, NULL, 0,
     "error: store erase: missing arguments (usage: store erase PART); "
     "see 'help store erase'\n",
     NULL},
    {"exec: subcommand --json refused", "store erase --json x", -EINVAL, 0,
     NULL, 0, NULL, "error: store erase: no --json output"},
    {"exec: missing subcommand", "store", -EINVAL, 0, NULL, 0,
     "error: store: missing subcommand; see 'help store' "
     "(subcommands: stat, erase)\n",
     NULL},
    {"exec: unknown subcommand", "store bogus", -EINVAL, 0, NULL, 0,
     "error: store: unknown subcommand 'bogus'; see 'help store'\n", NULL},
    {"exec: unknown command", "nosuch", -ENOENT, 0, NULL, 0,
     "error: unknown command 'nosuch'; type 'help' for a list\n", NULL},
    {"exec: unknown command with args", "nosuch a b", -ENOENT, 0, NULL, 0,
     "error: unknown command 'nosuch'; type 'help' for a list\n", NULL},
    {"exec: subcommand name alone is unknown", "stat", -ENOENT, 0, NULL, 0,
     NULL, "'stat'"},
    {"exec: empty line", "", 0, 0, NULL, 0, "", NULL},
    {"exec: blank line", " \t ", 0, 0, NULL, 0, "", NULL},
    {"exec: comment", "# a comment", 0, 0, NULL, 0, "", NULL},
    {"exec: comment with a quote", "  # don't run", 0, 0, NULL, 0, "", NULL},
    {"exec: unterminated quote", "echo 'oops", -EINVAL, 0, NULL, 0,
     "error: unterminated quote; see 'help'\n", NULL},
    {"exec: too many words", "echo " TOO_MANY_WORDS, -EINVAL, 0, NULL, 0, NULL,
     "error: too many words (at most 16)"},
    {"exec: handler error passes through", "fail", -EIO, 1, NULL, 0,
     "error: it broke: 42\n", NULL},
};

static struct cmd_ctx
new_ctx(void)
{
    struct cmd_ctx ctx = {.write = cap_write, .write_arg = &cap};

    cap_reset();
    memset(&seen, 0, sizeof(seen));
    return ctx;
}

static void
test_exec(void)
{
    for (size_t i = 0; i < sizeof(exec_cases) / sizeof(exec_cases[0]); i++) {
        const struct exec_case *c = &exec_cases[i];
        struct cmd_ctx ctx = new_ctx();
        char line[128];
        int rc;

        UT_CASE(c->name);
        snprintf(line, sizeof(line), "%s", c->line);
        rc = cmd_exec(t_cmds, &ctx, line);
        UT_CHECK_EQ(rc, c->rc);
        UT_CHECK_EQ(seen.calls, c->calls);
        if (c->args != NULL)
            UT_CHECK(strcmp(seen.args, c->args) == 0);
        UT_CHECK_EQ(seen.json, c->json);
        UT_CHECK_EQ(ctx.json, 0); /* only set for the handler's call */
        if (c->out != NULL)
            UT_CHECK(cap_is(c->out));
        if (c->need != NULL)
            UT_CHECK(cap_has(c->need));
        if (rc < 0) {
            /* Every error is exactly one "error:" line, first, and the
             * dispatcher's own errors point to help. */
            UT_CHECK(strncmp(cap.buf, "error: ", 7) == 0);
            UT_CHECK_EQ(count_of(cap.buf, "error:"), 1);
            if (c->calls == 0) {
                const char *nl = strchr(cap.buf, '\n');

                UT_CHECK(nl != NULL);
                UT_CHECK(strstr(cap.buf, "help") != NULL &&
                         strstr(cap.buf, "help") < nl);
            }
        } else {
            UT_CHECK(!cap_has("error"));
        }
    }
}

/* A group whose subcommand names do not fit in one error line. */
#define LONG_SUB(n)                                                            \
    {                                                                          \
        "subcommand-" #n "-long-name", 0, 0, 0, "", "x", h_record, NULL        \
    }

static const struct cmd t_many[] = {
    LONG_SUB(0),
    LONG_SUB(1),
    LONG_SUB(2),
    LONG_SUB(3),
    LONG_SUB(4),
    LONG_SUB(5),
    LONG_SUB(6),
    LONG_SUB(7),
    LONG_SUB(8),
    LONG_SUB(9),
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

static const struct cmd t_group[] = {
    {"many", 0, 0, 0, NULL, "a big group", NULL, t_many},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

static void
test_exec_long_list(void)
{
    static const char want[] = "error: many: missing subcommand; see "
                               "'help many' (subcommands: "
                               "subcommand-0-long-name, ";
    struct cmd_ctx ctx = new_ctx();
    char line[] = "many";

    UT_CASE("exec: long subcommand list is cut, still one line");
    UT_CHECK_EQ(cmd_exec(t_group, &ctx, line), -EINVAL);
    UT_CHECK(strncmp(cap.buf, want, LEN(want)) == 0);
    UT_CHECK(cap_has("...)\n"));
    UT_CHECK(!cap_has("subcommand-9"));
    UT_CHECK_EQ(count_of(cap.buf, "\n"), 1);
}

/* ---- cmd_help, cmd_complete ------------------------------------------- */

struct help_case {
    const char *name;
    const char *path; /* words after "help", split */
    int rc;
    const char *out; /* exact, or NULL with need */
    const char *need;
};

static const struct help_case help_cases[] = {
    {"help: all commands, aligned", "", 0,
     "version  print the version\n"
     "echo     print words\n"
     "store    the record store\n"
     "fail     always fails\n"
     "'help COMMAND' shows how to use one; --json where listed gives "
     "JSON\n",
     NULL},
    {"help: one command", "version", 0, "usage: version\nprint the version\n",
     NULL},
    {"help: usage with arguments", "echo", 0,
     "usage: echo [--json] WORD...\nprint words\n", NULL},
    {"help: a group lists its subcommands", "store", 0,
     "usage: store SUBCOMMAND\nthe record store\n"
     "  stat   show statistics\n"
     "  erase  erase a partition\n",
     NULL},
    {"help: a subcommand", "store erase", 0,
     "usage: store erase PART\nerase a partition\n", NULL},
    {"help: unknown command", "nosuch", -ENOENT,
     "error: help: no command 'nosuch'; type 'help' for a list\n", NULL},
    {"help: unknown subcommand", "store nosuch", -ENOENT, NULL,
     "'store nosuch'"},
    {"help: words past a leaf", "version extra", -ENOENT, NULL,
     "'version extra'"},
};

static void
test_help(void)
{
    for (size_t i = 0; i < sizeof(help_cases) / sizeof(help_cases[0]); i++) {
        const struct help_case *c = &help_cases[i];
        struct cmd_ctx ctx = new_ctx();
        char line[64], *argv[8];
        int argc, rc;

        UT_CASE(c->name);
        snprintf(line, sizeof(line), "%s", c->path);
        argc = cmd_split(line, argv, 8);
        UT_CHECK(argc >= 0);
        rc = cmd_help(t_cmds, &ctx, argc, argv);
        UT_CHECK_EQ(rc, c->rc);
        if (c->out != NULL)
            UT_CHECK(cap_is(c->out));
        if (c->need != NULL)
            UT_CHECK(cap_has(c->need));
        if (rc < 0)
            UT_CHECK_EQ(count_of(cap.buf, "error:"), 1);
    }
}

/* The editor's arg serves both callbacks; here it is the table, and
 * the editor's output goes to the global capture. */
static void
cap_write_global(void *arg, const char *s, size_t n)
{
    (void)arg;
    cap_write(&cap, s, n);
}

static const char *
table_complete(void *arg, const char *prefix, size_t n, unsigned idx)
{
    return cmd_complete(arg, prefix, n, idx);
}

static void
test_complete(void)
{
    struct line_ed e;
    struct feed_result r;

    UT_CASE("cmd_complete: prefixes");
    UT_CHECK(strcmp(cmd_complete(t_cmds, "e", 1, 0), "echo") == 0);
    UT_CHECK(cmd_complete(t_cmds, "e", 1, 1) == NULL);
    UT_CHECK(strcmp(cmd_complete(t_cmds, "", 0, 3), "fail") == 0);
    UT_CHECK(cmd_complete(t_cmds, "", 0, 4) == NULL);
    UT_CHECK(cmd_complete(t_cmds, "stat", 4, 0) == NULL); /* top only */
    UT_CHECK(cmd_complete(t_cmds, "versionx", 8, 0) == NULL);
    /* Only n bytes of the prefix count. */
    UT_CHECK(strcmp(cmd_complete(t_cmds, "vxyz", 1, 0), "version") == 0);

    UT_CASE("editor + cmd_complete: tab, enter, exec");
    line_ed_init(&e, "> ", cap_write_global, table_complete, (void *)t_cmds);
    cap_reset();
    ed_feed(&e, IN("ec\t"), &r);
    UT_CHECK(strcmp(e.buf, "echo ") == 0);
    UT_CHECK(cap_is("echo "));
    ed_feed(&e, IN("--json hi\r"), &r);
    UT_CHECK_EQ(r.done, 1);
    {
        struct cmd_ctx ctx = new_ctx();
        char line[LINE_MAX_LEN + 1];

        memcpy(line, r.line, sizeof(line));
        UT_CHECK_EQ(cmd_exec(t_cmds, &ctx, line), 0);
        UT_CHECK_EQ(seen.calls, 1);
        UT_CHECK_EQ(seen.json, 1);
        UT_CHECK(strcmp(seen.args, "hi") == 0);
    }
}

/* ---- output helpers --------------------------------------------------- */

struct json_case {
    const char *name;
    const char *in;
    const char *out;
};

static const struct json_case json_cases[] = {
    {"json: plain", "abc", "\"abc\""},
    {"json: empty", "", "\"\""},
    {"json: quote and backslash", "a\"b\\c", "\"a\\\"b\\\\c\""},
    {"json: newline and tab", "\n\t", "\"\\n\\t\""},
    {"json: other controls", "\x01\x1f\r", "\"\\u0001\\u001f\\u000d\""},
    {"json: DEL", "\x7f", "\"\\u007f\""},
    {"json: UTF-8 passes", "caf\xc3\xa9", "\"caf\xc3\xa9\""},
};

static void
test_output(void)
{
    char in[301], want[2000];
    size_t n = 0;

    for (size_t i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]); i++) {
        struct cmd_ctx ctx = new_ctx();

        UT_CASE(json_cases[i].name);
        cmd_json_str(&ctx, json_cases[i].in);
        UT_CHECK(cap_is(json_cases[i].out));
    }

    UT_CASE("json: long string crosses the internal buffer");
    {
        struct cmd_ctx ctx = new_ctx();

        want[n++] = '"';
        for (int i = 0; i < 300; i++) {
            in[i] = (char)(i % 3 == 0 ? '\x02' : i % 3 == 1 ? '"' : 'x');
            n += (size_t)snprintf(want + n, sizeof(want) - n, "%s",
                                  i % 3 == 0   ? "\\u0002"
                                  : i % 3 == 1 ? "\\\""
                                               : "x");
        }
        in[300] = '\0';
        want[n++] = '"';
        want[n] = '\0';
        cmd_json_str(&ctx, in);
        UT_CHECK(cap_is(want));
    }

    UT_CASE("printf and err");
    {
        struct cmd_ctx ctx = new_ctx();

        cmd_printf(&ctx, "%s=%d\n", "x", 5);
        cmd_err(&ctx, "bad %s", "thing");
        UT_CHECK(cap_is("x=5\nerror: bad thing\n"));
    }

    UT_CASE("printf: long output is cut and marked");
    {
        struct cmd_ctx ctx = new_ctx();
        static char big[3000];

        memset(big, 'y', sizeof(big) - 1);
        cmd_printf(&ctx, "%s", big);
        UT_CHECK(!cap.overflow);
        UT_CHECK(cap.len < sizeof(big) - 1);
        UT_CHECK(cap.len > 1000);
        UT_CHECK(cap.buf[0] == 'y');
        UT_CHECK(strcmp(cap.buf + cap.len - LEN("...[truncated]\n"),
                        "...[truncated]\n") == 0);
    }

    UT_CASE("printf: output that just fits is whole");
    {
        struct cmd_ctx ctx = new_ctx();
        static char fit[1024];

        memset(fit, 'z', sizeof(fit) - 1);
        cmd_printf(&ctx, "%s", fit);
        UT_CHECK_EQ(cap.len, sizeof(fit) - 1);
        UT_CHECK(!cap_has("truncated"));
    }
}

int
main(void)
{
    ut_suite = "console";
    test_editor_table();
    test_editor_overlong();
    test_editor_redraw();
    test_editor_history();
    test_editor_complete();
    test_reader();
    test_parse_u64();
    test_split();
    test_exec();
    test_exec_long_list();
    test_help();
    test_complete();
    test_output();
    return ut_done();
}
