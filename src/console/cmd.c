/*
 * console/cmd.c - tokenizer, dispatcher, help and output helpers for the
 * command table.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "console/cmd.h"
#include "lib/hex.h"

#ifndef CMD_OUT_MAX
#define CMD_OUT_MAX 1024 /* bytes formatted by one cmd_printf call */
#endif

/* Longest command path we print ("store stat"); longer ones are cut. */
#define CMD_PATH_MAX 128

/*
 * One call formats into a stack buffer of CMD_OUT_MAX bytes, so the stack
 * cost is fixed.  Output that does not fit is cut after CMD_OUT_MAX - 1
 * bytes and marked "...[truncated]"; handlers print long tables row by
 * row, so this only ever cuts a runaway string.
 */
void
cmd_vprintf(struct cmd_ctx *ctx, const char *fmt, va_list ap)
{
    static const char more[] = "...[truncated]\n";
    char buf[CMD_OUT_MAX];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);

    if (n < 0)
        return;
    if ((size_t)n >= sizeof(buf)) {
        ctx->write(ctx->write_arg, buf, sizeof(buf) - 1);
        ctx->write(ctx->write_arg, more, sizeof(more) - 1);
        return;
    }
    ctx->write(ctx->write_arg, buf, (size_t)n);
}

void
cmd_printf(struct cmd_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cmd_vprintf(ctx, fmt, ap);
    va_end(ap);
}

void
cmd_err(struct cmd_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    ctx->write(ctx->write_arg, "error: ", 7);
    va_start(ap, fmt);
    cmd_vprintf(ctx, fmt, ap);
    va_end(ap);
    ctx->write(ctx->write_arg, "\n", 1);
}

void
cmd_hex(struct cmd_ctx *ctx, const uint8_t *p, size_t n)
{
    char buf[129];

    while (n > 0) {
        size_t k = n < 64 ? n : 64;

        lib_hex_encode(p, k, buf);
        ctx->write(ctx->write_arg, buf, 2 * k);
        p += k;
        n -= k;
    }
}

int
cmd_unhex(const char *h, uint8_t *out, size_t cap)
{
    return lib_hex_decode(h, strlen(h), out, cap);
}

int
cmd_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -EINVAL;
    for (; *s != '\0'; s++) {
        unsigned d = (unsigned)(*s - '0');

        if (d > 9)
            return -EINVAL;
        if (d > max || v > (max - d) / 10) {
            /* Above max; finish the scan so that "99x" is still not a
             * number rather than out of range. */
            while (*++s != '\0')
                if ((unsigned)(*s - '0') > 9)
                    return -EINVAL;
            return -ERANGE;
        }
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

void
cmd_json_str(struct cmd_ctx *ctx, const char *s)
{
    char buf[64];
    size_t n = 0;

    buf[n++] = '"';
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        /* Room for the longest escape (6) and the closing quote. */
        if (n > sizeof(buf) - 8) {
            ctx->write(ctx->write_arg, buf, n);
            n = 0;
        }
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c == '\n') {
            buf[n++] = '\\';
            buf[n++] = 'n';
        } else if (c == '\t') {
            buf[n++] = '\\';
            buf[n++] = 't';
        } else if (c < 0x20 || c == 0x7f) {
            /* DEL is legal JSON but unreadable on a terminal. */
            n += (size_t)snprintf(buf + n, 7, "\\u%04x", c);
        } else {
            buf[n++] = (char)c; /* UTF-8 passes through */
        }
    }
    buf[n++] = '"';
    ctx->write(ctx->write_arg, buf, n);
}

int
cmd_split(char *line, char **argv, int max)
{
    char *r = line, *w = line;
    int argc = 0;

    /* Words are unquoted in place: w trails r, so nothing is copied
     * over bytes not yet read. */
    for (;;) {
        char quote = 0;

        while (*r == ' ' || *r == '\t')
            r++;
        if (*r == '\0')
            return argc;
        if (argc >= max)
            return -E2BIG;
        argv[argc++] = w;
        while (*r != '\0' && (quote || (*r != ' ' && *r != '\t'))) {
            if (quote == 0 && (*r == '"' || *r == '\'')) {
                quote = *r++;
            } else if (quote != 0 && *r == quote) {
                quote = 0;
                r++;
            } else if (*r == '\\' && quote != '\'' && r[1] != '\0') {
                *w++ = r[1];
                r += 2;
            } else {
                *w++ = *r++; /* a backslash at the very end stays */
            }
        }
        if (quote != 0)
            return -EINVAL;
        if (*r != '\0')
            r++;
        *w++ = '\0';
    }
}

static const struct cmd *
find(const struct cmd *table, const char *name)
{
    for (; table != NULL && table->name != NULL; table++)
        if (strcmp(table->name, name) == 0)
            return table;
    return NULL;
}

/* Names and help lines of a table, the help column aligned. */
static void
list_table(struct cmd_ctx *ctx, const struct cmd *t, const char *indent)
{
    int w = 0;

    for (const struct cmd *c = t; c->name != NULL; c++)
        if ((int)strlen(c->name) > w)
            w = (int)strlen(c->name);
    for (const struct cmd *c = t; c->name != NULL; c++)
        cmd_printf(ctx, "%s%-*s  %s\n", indent, w, c->name,
                   c->help != NULL ? c->help : "");
}

/* "store stat" from the words that named the command. */
static void
path_of(char *buf, size_t cap, char **words, int n)
{
    size_t len = 0;

    buf[0] = '\0';
    for (int i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? " " : "",
                                words[i]);
}

/* "stat, erase" for an error line; a cut list ends in "...". */
static void
sub_names(char *buf, size_t cap, const struct cmd *sub)
{
    size_t len = 0;

    buf[0] = '\0';
    for (; sub != NULL && sub->name != NULL; sub++) {
        int n =
            snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", sub->name);

        if (n < 0 || (size_t)n >= cap - len) {
            /* cap >= 4: there is room to mark the cut. */
            memcpy(buf + cap - 4, "...", 4);
            return;
        }
        len += (size_t)n;
    }
}

static const char *
usage_of(const struct cmd *c)
{
    if (c->handler == NULL)
        return "SUBCOMMAND";
    return c->usage != NULL ? c->usage : "";
}

static void
print_usage(struct cmd_ctx *ctx, const char *path, const struct cmd *c)
{
    const char *u = usage_of(c);

    cmd_printf(ctx, "usage: %s%s%s\n%s\n", path, *u ? " " : "", u,
               c->help != NULL ? c->help : "");
    if (c->sub != NULL)
        list_table(ctx, c->sub, "  ");
}

static int
is_help(const char *s)
{
    return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

/* Set ctx->json for the handler's call only: ctx outlives the line. */
static int
run(const struct cmd *c, struct cmd_ctx *ctx, int json, int argc, char **argv)
{
    int rc;

    ctx->json = json;
    rc = c->handler(ctx, argc, argv);
    ctx->json = 0;
    return rc;
}

int
cmd_exec(const struct cmd *table, struct cmd_ctx *ctx, char *line)
{
    char *argv[CMD_MAX_ARGS], path[CMD_PATH_MAX], names[CMD_PATH_MAX];
    const struct cmd *c = NULL, *t = table;
    int argc, depth = 0, help = 0, json = 0, n = 0, opts = 1;
    const char *p = line, *u;

    /* Comments are skipped before splitting: "# don't" is no error. */
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '#')
        return 0;
    argc = cmd_split(line, argv, CMD_MAX_ARGS);
    if (argc == -E2BIG) {
        cmd_err(ctx, "too many words (at most %d); see 'help'", CMD_MAX_ARGS);
        return -EINVAL;
    }
    if (argc < 0) {
        cmd_err(ctx, "unterminated quote; see 'help'");
        return -EINVAL;
    }

    /* Walk subcommand tables as far as the words name rows. */
    while (depth < argc) {
        const struct cmd *next = find(t, argv[depth]);

        if (next == NULL)
            break;
        c = next;
        depth++;
        if (c->sub == NULL)
            break;
        t = c->sub;
    }
    if (c == NULL) {
        cmd_err(ctx, "unknown command '%s'; type 'help' for a list", argv[0]);
        return -ENOENT;
    }
    path_of(path, sizeof(path), argv, depth);
    if (c->handler == NULL) {
        /* Only a group: the next word had to name a subcommand. */
        if (depth < argc && is_help(argv[depth])) {
            print_usage(ctx, path, c);
            return 0;
        }
        if (depth < argc) {
            cmd_err(ctx, "%s: unknown subcommand '%s'; see 'help %s'", path,
                    argv[depth], path);
            return -EINVAL;
        }
        /* The choices go into the one error line, so that the fix is on
         * screen without another command. */
        sub_names(names, sizeof(names), c->sub);
        cmd_err(ctx, "%s: missing subcommand; see 'help %s' (subcommands: %s)",
                path, path, names);
        return -EINVAL;
    }

    /* Global options, anywhere after the path; "--" ends them. */
    for (int i = depth; i < argc; i++) {
        if (opts && strcmp(argv[i], "--") == 0)
            opts = 0;
        else if (opts && strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (opts && is_help(argv[i]))
            help = 1;
        else
            argv[depth + n++] = argv[i];
    }
    if (help) {
        print_usage(ctx, path, c);
        return 0;
    }
    u = usage_of(c);
    if (json && !(c->flags & CMD_JSON)) {
        cmd_err(ctx, "%s: no --json output (usage: %s%s%s); see 'help %s'",
                path, path, *u ? " " : "", u, path);
        return -EINVAL;
    }
    if ((c->flags & CMD_PRIV) && cmd_priv(ctx, path) != 0)
        return -EACCES;
    if (n < c->min_args || n > c->max_args) {
        cmd_err(ctx, "%s: %s arguments (usage: %s%s%s); see 'help %s'", path,
                n < c->min_args ? "missing" : "too many", path, *u ? " " : "",
                u, path);
        return -EINVAL;
    }
    return run(c, ctx, json, n, argv + depth);
}

int
cmd_priv(struct cmd_ctx *ctx, const char *path)
{
    return ctx->priv != NULL ? ctx->priv(ctx, path) : 0;
}

int
cmd_help(const struct cmd *table, struct cmd_ctx *ctx, int argc, char **argv)
{
    const struct cmd *c = NULL, *t = table;
    char path[CMD_PATH_MAX];

    if (argc <= 0) {
        list_table(ctx, table, "");
        cmd_printf(ctx, "'help COMMAND' shows how to use one; --json "
                        "where listed gives JSON\n");
        return 0;
    }
    for (int depth = 0; depth < argc; depth++) {
        c = find(t, argv[depth]);
        if (c == NULL) {
            /* t is NULL past a command without subcommands. */
            path_of(path, sizeof(path), argv, argc);
            cmd_err(ctx, "help: no command '%s'; type 'help' for a list", path);
            return -ENOENT;
        }
        t = c->sub;
    }
    path_of(path, sizeof(path), argv, argc);
    print_usage(ctx, path, c);
    return 0;
}

const char *
cmd_complete(const struct cmd *table, const char *prefix, size_t n,
             unsigned idx)
{
    for (const struct cmd *c = table; c->name != NULL; c++)
        if (strncmp(c->name, prefix, n) == 0 && idx-- == 0)
            return c->name;
    return NULL;
}
