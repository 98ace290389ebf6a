/*
 * tests/unit/test_console.c - line editor, line reader, tokenizer,
 * dispatcher and help.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "console/cmd.h"
#include "console/line.h"
#include "ut.h"

static char outbuf[8192];
static size_t outlen;

static void
capture(void *arg, const char *s, size_t n)
{
    (void)arg;
    if (outlen + n >= sizeof(outbuf))
        n = sizeof(outbuf) - 1 - outlen;
    memcpy(outbuf + outlen, s, n);
    outlen += n;
    outbuf[outlen] = '\0';
}

static void
out_reset(void)
{
    outlen = 0;
    outbuf[0] = '\0';
}

/* ---- editor ---- */

static const char *const words[] = {"help", "selftest", "store", "stop",
                                    "version"};

static const char *
complete(void *arg, const char *prefix, size_t n, unsigned idx)
{
    (void)arg;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strncmp(words[i], prefix, n) == 0 && idx-- == 0)
            return words[i];
    return NULL;
}

/* Feed a string; return the last event other than LINE_NONE. */
static enum line_event
feed(struct line_ed *e, const char *s, size_t n)
{
    enum line_event last = LINE_NONE;

    for (size_t i = 0; i < n; i++) {
        enum line_event ev = line_ed_feed(e, (uint8_t)s[i]);

        if (ev != LINE_NONE)
            last = ev;
    }
    return last;
}

#define FEED(e, lit) feed((e), (lit), sizeof(lit) - 1)

static const struct {
    const char *name;
    const char *input; /* bytes typed */
    size_t len;
    enum line_event ev;
    const char *line; /* buf after the event */
} ed_cases[] = {
#define C(n, in, ev, line)                                                     \
    {                                                                          \
        n, in, sizeof(in) - 1, ev, line                                        \
    }
    C("plain line, CR", "version\r", LINE_DONE, "version"),
    C("plain line, LF", "version\n", LINE_DONE, "version"),
    C("backspace (DEL and BS)", "verx\x7fsionz\b\r", LINE_DONE, "version"),
    C("backspace at start is harmless",
      "\x7f\x7f"
      "ab\r",
      LINE_DONE, "ab"),
    C("left then insert", "vrsion\x1b[D\x1b[D\x1b[D\x1b[D\x1b[De\r", LINE_DONE,
      "version"),
    C("home and end", "ersio\x1b[Hv\x1b[Fn\r", LINE_DONE, "version"),
    C("Ctrl-A, Ctrl-E",
      "b\x01"
      "a\x05"
      "c\r",
      LINE_DONE, "abc"),
    C("home/end as ESC [1~ / ESC [4~", "b\x1b[1~a\x1b[4~c\r", LINE_DONE, "abc"),
    C("delete key", "abxc\x1b[D\x1b[D\x1b[3~\r", LINE_DONE, "abc"),
    C("right moves back", "ac\x1b[D\x1b[D\x1b[Cb\r", LINE_DONE, "abc"),
    C("Ctrl-U clears", "garbage\x15ok\r", LINE_DONE, "ok"),
    C("unknown escapes ignored",
      "a\x1b[Zb\x1bOx"
      "c\x1b[99~\r",
      LINE_DONE, "abc"),
    C("control bytes ignored",
      "a\x02\x07"
      "b\r",
      LINE_DONE, "ab"),
    C("Ctrl-C abandons", "half\x03", LINE_CANCEL, ""),
    C("Ctrl-D on empty line", "\x04", LINE_EOF, ""),
    C("Ctrl-D mid-line deletes forward", "ab\x1b[D\x04\r", LINE_DONE, "a"),
    C("tab completes one match", "ver\t\r", LINE_DONE, "version "),
    C("tab extends the common prefix", "st\t\r", LINE_DONE, "sto"),
    C("tab with no match", "xyz\t\r", LINE_DONE, "xyz"),
    C("tab only completes the first word", "help ver\t\r", LINE_DONE,
      "help ver"),
#undef C
};

static void
test_editor(void)
{
    struct line_ed e;

    for (size_t i = 0; i < sizeof(ed_cases) / sizeof(ed_cases[0]); i++) {
        enum line_event ev;

        UT_CASE(ed_cases[i].name);
        line_ed_init(&e, "keel> ", capture, complete, NULL);
        out_reset();
        ev = feed(&e, ed_cases[i].input, ed_cases[i].len);
        UT_CHECK_EQ(ev, ed_cases[i].ev);
        UT_CHECK(strcmp(e.buf, ed_cases[i].line) == 0);
        if (strcmp(e.buf, ed_cases[i].line) != 0)
            printf("    got '%s'\n", e.buf);
    }

    UT_CASE("CR LF ends one line, not two");
    line_ed_init(&e, "keel> ", capture, complete, NULL);
    UT_CHECK_EQ(FEED(&e, "a\r"), LINE_DONE);
    UT_CHECK_EQ(line_ed_feed(&e, '\n'), LINE_NONE);
    UT_CHECK_EQ(line_ed_feed(&e, '\n'), LINE_DONE); /* an empty line */
    UT_CHECK(strcmp(e.buf, "") == 0);

    UT_CASE("echo of typing and Enter");
    line_ed_init(&e, "keel> ", capture, complete, NULL);
    out_reset();
    FEED(&e, "hi\r");
    UT_CHECK(strcmp(outbuf, "hi\r\n") == 0);
    out_reset();
    line_ed_redraw(&e);
    UT_CHECK(strncmp(outbuf, "\rkeel> ", 7) == 0);

    UT_CASE("tab with several matches lists them");
    line_ed_init(&e, "keel> ", capture, complete, NULL);
    out_reset();
    FEED(&e, "s\t");
    UT_CHECK(strstr(outbuf, "selftest  store  stop") != NULL);

    UT_CASE("overlong input is refused with BEL, buffer intact");
    {
        char big[LINE_MAX_LEN + 10];

        line_ed_init(&e, "keel> ", capture, NULL, NULL);
        memset(big, 'x', sizeof(big));
        out_reset();
        feed(&e, big, sizeof(big));
        UT_CHECK_EQ(e.len, LINE_MAX_LEN);
        UT_CHECK(strchr(outbuf, '\a') != NULL);
        UT_CHECK_EQ(line_ed_feed(&e, '\r'), LINE_DONE);
        UT_CHECK_EQ(strlen(e.buf), LINE_MAX_LEN);
    }

    UT_CASE("history: up, down, and back to the line being typed");
    line_ed_init(&e, "keel> ", capture, NULL, NULL);
    FEED(&e, "one\r");
    FEED(&e, "two\r");
    FEED(&e, "two\r"); /* a repeat is stored once */
    FEED(&e, "\r");    /* empty lines are not stored */
    UT_CHECK_EQ(e.hist_count, 2);
    FEED(&e, "new");
    FEED(&e, "\x1b[A");
    UT_CHECK(strcmp(e.buf, "two") == 0);
    FEED(&e, "\x1b[A");
    UT_CHECK(strcmp(e.buf, "one") == 0);
    FEED(&e, "\x1b[A"); /* past the oldest: stays */
    UT_CHECK(strcmp(e.buf, "one") == 0);
    FEED(&e, "\x1b[B\x1b[B");
    UT_CHECK(strcmp(e.buf, "new") == 0);
    FEED(&e, "\x1b[A!");
    UT_CHECK_EQ(FEED(&e, "\r"), LINE_DONE);
    UT_CHECK(strcmp(e.buf, "two!") == 0);

    UT_CASE("history keeps the last LINE_HISTORY lines");
    line_ed_init(&e, "keel> ", capture, NULL, NULL);
    for (int i = 0; i < LINE_HISTORY + 5; i++) {
        char l[16];

        snprintf(l, sizeof(l), "cmd%d\r", i);
        feed(&e, l, strlen(l));
    }
    UT_CHECK_EQ(e.hist_count, LINE_HISTORY);
    for (int i = 0; i < LINE_HISTORY + 3; i++)
        FEED(&e, "\x1b[A");
    {
        char want[16];

        snprintf(want, sizeof(want), "cmd%d", 5);
        UT_CHECK(strcmp(e.buf, want) == 0);
    }
}

/* ---- reader ---- */

static void
test_reader(void)
{
    struct line_rd r;
    char big[LINE_MAX_LEN + 2];
    enum line_event ev = LINE_NONE;

    UT_CASE("reader: LF and CR LF end lines; the CR is dropped");
    line_rd_init(&r);
    for (const char *p = "ab\r\n"; *p; p++)
        ev = line_rd_feed(&r, (uint8_t)*p);
    UT_CHECK_EQ(ev, LINE_DONE);
    UT_CHECK(strcmp(r.buf, "ab") == 0);
    for (const char *p = "c\rd\n"; *p; p++)
        ev = line_rd_feed(&r, (uint8_t)*p);
    UT_CHECK(strcmp(r.buf, "c\rd") == 0);

    UT_CASE("reader: an exactly full line fits, CR LF included");
    line_rd_init(&r);
    memset(big, 'y', LINE_MAX_LEN);
    for (int i = 0; i < LINE_MAX_LEN; i++)
        line_rd_feed(&r, 'y');
    line_rd_feed(&r, '\r');
    UT_CHECK_EQ(line_rd_feed(&r, '\n'), LINE_DONE);
    UT_CHECK_EQ(strlen(r.buf), LINE_MAX_LEN);

    UT_CASE("reader: an overlong line is LINE_TOOLONG, the next is fine");
    for (int i = 0; i < LINE_MAX_LEN + 1; i++)
        line_rd_feed(&r, 'z');
    UT_CHECK_EQ(line_rd_feed(&r, '\n'), LINE_TOOLONG);
    line_rd_feed(&r, 'o');
    line_rd_feed(&r, 'k');
    UT_CHECK_EQ(line_rd_feed(&r, '\n'), LINE_DONE);
    UT_CHECK(strcmp(r.buf, "ok") == 0);

    UT_CASE("reader: flush returns a last line without LF");
    line_rd_init(&r);
    UT_CHECK_EQ(line_rd_flush(&r), LINE_NONE);
    line_rd_feed(&r, 'q');
    UT_CHECK_EQ(line_rd_flush(&r), LINE_DONE);
    UT_CHECK(strcmp(r.buf, "q") == 0);
    UT_CHECK_EQ(line_rd_flush(&r), LINE_NONE);
}

/* ---- tokenizer ---- */

static const struct {
    const char *in;
    int argc;
    const char *words[4];
} split_cases[] = {
    {"", 0, {NULL}},
    {"   \t ", 0, {NULL}},
    {"version", 1, {"version"}},
    {"  a  b\tc ", 3, {"a", "b", "c"}},
    {"id sign \"two words\"", 3, {"id", "sign", "two words"}},
    {"x 'it''s' y", 3, {"x", "its", "y"}},
    {"a\\ b c", 2, {"a b", "c"}},
    {"'no \\escape'", 1, {"no \\escape"}},
    {"\"a\\\"b\"", 1, {"a\"b"}},
    {"pre\"mid dle\"post", 1, {"premid dlepost"}},
    {"\"\"", 1, {""}},
    {"\"open", -EINVAL, {NULL}},
    {"'open", -EINVAL, {NULL}},
    {"a b c d e", -E2BIG, {NULL}},
};

static void
test_split(void)
{
    UT_CASE("cmd_split table");
    for (size_t i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
        char line[64], *argv[4];
        int n;

        snprintf(line, sizeof(line), "%s", split_cases[i].in);
        n = cmd_split(line, argv, 4);
        UT_CHECK_EQ(n, split_cases[i].argc);
        for (int k = 0; k < n && k < split_cases[i].argc; k++) {
            UT_CHECK(strcmp(argv[k], split_cases[i].words[k]) == 0);
            if (strcmp(argv[k], split_cases[i].words[k]) != 0)
                printf("    case %zu word %d: '%s'\n", i, k, argv[k]);
        }
    }
}

/* ---- dispatcher ---- */

static int last_argc, last_json, calls;
static char last_args[128];

static int
h_record(struct cmd_ctx *ctx, int argc, char **argv)
{
    calls++;
    last_argc = argc;
    last_json = ctx->json;
    last_args[0] = '\0';
    for (int i = 0; i < argc; i++) {
        strcat(last_args, argv[i]);
        strcat(last_args, "|");
    }
    return 0;
}

static int
h_fail(struct cmd_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cmd_err(ctx, "it broke");
    return -EIO;
}

static const struct cmd store_sub[] = {
    {"stat", 0, 0, CMD_JSON, "[--json]", "show usage", h_record, NULL},
    {"get", 1, 1, 0, "KEY", "read a key", h_record, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

static const struct cmd table[] = {
    {"echo", 0, 3, 0, "[WORD...]", "print words", h_record, NULL},
    {"need2", 2, 2, 0, "A B", "two arguments", h_record, NULL},
    {"info", 0, 0, CMD_JSON, "[--json]", "info", h_record, NULL},
    {"fail", 0, 0, 0, "", "always fails", h_fail, NULL},
    {"store", 0, 0, 0, "", "the record store", NULL, store_sub},
    {NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

static const struct {
    const char *line;
    int rc;
    int calls;        /* handler calls expected */
    int argc, json;   /* as the handler saw them */
    const char *args; /* "a|b|" */
    const char *out;  /* substring of the output, or NULL */
} exec_cases[] = {
    {"", 0, 0, 0, 0, "", NULL},
    {"   ", 0, 0, 0, 0, "", NULL},
    {"# a comment", 0, 0, 0, 0, "", NULL},
    {"echo", 0, 1, 0, 0, "", NULL},
    {"echo a b c", 0, 1, 3, 0, "a|b|c|", NULL},
    {"echo a b c d", -EINVAL, 0, 0, 0, "",
     "error: echo: too many arguments (usage: echo [WORD...]); "
     "see 'help echo'\n"},
    {"need2 x", -EINVAL, 0, 0, 0, "", "missing arguments"},
    {"need2 x y", 0, 1, 2, 0, "x|y|", NULL},
    {"info --json", 0, 1, 0, 1, "", NULL},
    {"echo --json", -EINVAL, 0, 0, 0, "", "echo: no --json output"},
    {"echo -- --json", 0, 1, 1, 0, "--json|", NULL},
    {"echo --help", 0, 0, 0, 0, "", "usage: echo [WORD...]\nprint words"},
    {"nosuch", -ENOENT, 0, 0, 0, "",
     "error: unknown command 'nosuch'; type 'help' for a list\n"},
    {"fail", -EIO, 0, 0, 0, "", "error: it broke\n"},
    {"store", -EINVAL, 0, 0, 0, "", "store: missing subcommand"},
    {"store nope", -EINVAL, 0, 0, 0, "", "unknown subcommand 'nope'"},
    {"store --help", 0, 0, 0, 0, "", "usage: store SUBCOMMAND"},
    {"store stat --json", 0, 1, 0, 1, "", NULL},
    {"store get k1", 0, 1, 1, 0, "k1|", NULL},
    {"store get", -EINVAL, 0, 0, 0, "",
     "store get: missing arguments (usage: store get KEY)"},
    {"echo \"unterminated", -EINVAL, 0, 0, 0, "", "unterminated quote"},
    {"echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", -EINVAL, 0, 0, 0, "",
     "too many words"},
};

static void
test_exec(void)
{
    struct cmd_ctx ctx = {.write = capture};
    int one_line = 1;

    UT_CASE("cmd_exec table");
    for (size_t i = 0; i < sizeof(exec_cases) / sizeof(exec_cases[0]); i++) {
        char line[128];
        int rc;

        snprintf(line, sizeof(line), "%s", exec_cases[i].line);
        calls = 0;
        last_argc = -1;
        last_json = -1;
        last_args[0] = '\0';
        out_reset();
        rc = cmd_exec(table, &ctx, line);
        UT_CHECK_EQ(rc, exec_cases[i].rc);
        UT_CHECK_EQ(calls, exec_cases[i].calls);
        if (exec_cases[i].calls) {
            UT_CHECK_EQ(last_argc, exec_cases[i].argc);
            UT_CHECK_EQ(last_json, exec_cases[i].json);
            UT_CHECK(strcmp(last_args, exec_cases[i].args) == 0);
        }
        if (exec_cases[i].out != NULL &&
            strstr(outbuf, exec_cases[i].out) == NULL) {
            UT_CHECK(!"expected output missing");
            printf("    case '%s': got '%s'\n", exec_cases[i].line, outbuf);
        }
        /* every dispatcher error is exactly one line */
        if (rc != 0 && rc != -EIO) {
            char *nl = strchr(outbuf, '\n');

            one_line &= nl != NULL && nl[1] == '\0' &&
                        strncmp(outbuf, "error: ", 7) == 0;
        }
        UT_CHECK_EQ(ctx.json, 0);
    }
    UT_CHECK(one_line);
}

static void
test_help(void)
{
    struct cmd_ctx ctx = {.write = capture};
    char a0[] = "store", a1[] = "stat", bad[] = "zzz";
    char *path[] = {a0, a1};

    UT_CASE("help lists every command with its help, aligned");
    out_reset();
    UT_CHECK_EQ(cmd_help(table, &ctx, 0, NULL), 0);
    UT_CHECK(strstr(outbuf, "echo   print words\n") != NULL);
    UT_CHECK(strstr(outbuf, "store  the record store\n") != NULL);

    UT_CASE("help for a command path");
    out_reset();
    UT_CHECK_EQ(cmd_help(table, &ctx, 2, path), 0);
    UT_CHECK(strcmp(outbuf, "usage: store stat [--json]\nshow usage\n") == 0);
    out_reset();
    UT_CHECK_EQ(cmd_help(table, &ctx, 1, path), 0);
    UT_CHECK(strstr(outbuf, "  stat  show usage\n") != NULL);
    UT_CHECK(strstr(outbuf, "  get   read a key\n") != NULL);

    UT_CASE("help for an unknown command");
    out_reset();
    path[1] = bad;
    UT_CHECK_EQ(cmd_help(table, &ctx, 1, &path[1]), -ENOENT);
    UT_CHECK(strstr(outbuf, "error: help: no command 'zzz'") != NULL);
    UT_CHECK_EQ(cmd_help(table, &ctx, 2, path), -ENOENT);

    UT_CASE("completion over top-level names");
    UT_CHECK(strcmp(cmd_complete(table, "ec", 2, 0), "echo") == 0);
    UT_CHECK(cmd_complete(table, "ec", 2, 1) == NULL);
    UT_CHECK(strcmp(cmd_complete(table, "", 0, 4), "store") == 0);
    UT_CHECK(cmd_complete(table, "x", 1, 0) == NULL);
}

static void
test_output(void)
{
    struct cmd_ctx ctx = {.write = capture};
    char big[3000];

    UT_CASE("JSON strings are escaped");
    out_reset();
    cmd_json_str(&ctx, "a\"b\\c\nd\te\x01");
    UT_CHECK(strcmp(outbuf, "\"a\\\"b\\\\c\\nd\\te\\u0001\"") == 0);
    out_reset();
    memset(big, 'j', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cmd_json_str(&ctx, big);
    UT_CHECK_EQ(outlen, sizeof(big) - 1 + 2);

    UT_CASE("printf output is bounded and says so");
    out_reset();
    cmd_printf(&ctx, "%s", big);
    UT_CHECK(outlen < 1100);
    UT_CHECK(strstr(outbuf, "[truncated]") != NULL);
    out_reset();
    cmd_err(&ctx, "bad %d", 7);
    UT_CHECK(strcmp(outbuf, "error: bad 7\n") == 0);
}

int
main(void)
{
    ut_suite = "console";
    test_editor();
    test_reader();
    test_split();
    test_exec();
    test_help();
    test_output();
    return ut_done();
}
