/*
 * console/cmd.c - tokenizer, dispatcher, help and output helpers for the
 * command table.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "console/cmd.h"

#ifndef CMD_OUT_MAX
#define CMD_OUT_MAX 1024 /* bytes formatted by one cmd_printf call */
#endif

void
cmd_vprintf(struct cmd_ctx *ctx, const char *fmt, va_list ap)
{
    char buf[CMD_OUT_MAX];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);

    if (n < 0)
        return;
    if ((size_t)n >= sizeof(buf)) {
        /* Output is bounded per call; handlers print long tables row by
         * row, so this only ever cuts a runaway string. */
        static const char more[] = "...[truncated]\n";

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
cmd_json_str(struct cmd_ctx *ctx, const char *s)
{
    char buf[64];
    size_t n = 0;

    buf[n++] = '"';
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

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
            n += (size_t)snprintf(buf + n, 7, "\\u%04x", c);
        } else {
            buf[n++] = (char)c;
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

    for (;;) {
        char quote = 0;

        while (*r == ' ' || *r == '\t')
            r++;
        if (*r == '\0')
            return argc;
        if (argc == max)
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
                *w++ = *r++;
            }
        }
        if (quote != 0)
            return -EINVAL;
        /* r is at a separator or the end; w never passes r. */
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

static void
list_subs(struct cmd_ctx *ctx, const struct cmd *sub)
{
    size_t w = 0;

    for (const struct cmd *c = sub; c->name != NULL; c++)
        if (strlen(c->name) > w)
            w = strlen(c->name);
    for (const struct cmd *c = sub; c->name != NULL; c++)
        cmd_printf(ctx, "  %-*s  %s\n", (int)w, c->name, c->help);
}

/* Build "store stat" from the words that named the command. */
static void
path_of(char *buf, size_t cap, char **words, int n)
{
    size_t len = 0;

    buf[0] = '\0';
    for (int i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? " " : "",
                                words[i]);
}

int
cmd_exec(const struct cmd *table, struct cmd_ctx *ctx, char *line)
{
    char *argv[CMD_MAX_ARGS], path[80];
    const struct cmd *c = NULL, *t = table;
    int argc, depth = 0, help = 0, json = 0, n = 0, opts = 1;

    argc = cmd_split(line, argv, CMD_MAX_ARGS);
    if (argc == -E2BIG) {
        cmd_err(ctx, "too many words (at most %d); see 'help'", CMD_MAX_ARGS);
        return -EINVAL;
    }
    if (argc < 0) {
        cmd_err(ctx, "unterminated quote; see 'help'");
        return -EINVAL;
    }
    if (argc == 0 || argv[0][0] == '#')
        return 0;

    /* Walk subcommand tables as far as the words go. */
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
        /* A command that is only a group of subcommands. */
        int is_help = depth < argc && (strcmp(argv[depth], "--help") == 0 ||
                                       strcmp(argv[depth], "-h") == 0);

        if (is_help) {
            cmd_printf(ctx, "usage: %s SUBCOMMAND\n%s\n", path, c->help);
            list_subs(ctx, c->sub);
            return 0;
        }
        if (depth < argc)
            cmd_err(ctx, "%s: unknown subcommand '%s'; see 'help %s'", path,
                    argv[depth], path);
        else
            cmd_err(ctx, "%s: missing subcommand; see 'help %s'", path, path);
        return -EINVAL;
    }

    /* Global options; "--" ends them. */
    for (int i = depth; i < argc; i++) {
        if (opts && strcmp(argv[i], "--") == 0) {
            opts = 0;
        } else if (opts && strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (opts && (strcmp(argv[i], "--help") == 0 ||
                            strcmp(argv[i], "-h") == 0)) {
            help = 1;
        } else {
            argv[depth + n++] = argv[i];
        }
    }
    if (help) {
        cmd_printf(ctx, "usage: %s %s\n%s\n", path, c->usage, c->help);
        return 0;
    }
    if (json && !(c->flags & CMD_JSON)) {
        cmd_err(ctx, "%s: no --json output (usage: %s %s); see 'help %s'", path,
                path, c->usage, path);
        return -EINVAL;
    }
    if (n < c->min_args || n > c->max_args) {
        cmd_err(ctx, "%s: %s arguments (usage: %s%s%s); see 'help %s'", path,
                n < c->min_args ? "missing" : "too many", path,
                c->usage[0] ? " " : "", c->usage, path);
        return -EINVAL;
    }
    ctx->json = json;
    int rc = c->handler(ctx, n, argv + depth);
    ctx->json = 0;
    return rc;
}

int
cmd_help(const struct cmd *table, struct cmd_ctx *ctx, int argc, char **argv)
{
    const struct cmd *c = NULL, *t = table;
    char path[80];
    size_t w = 0;
    int depth;

    if (argc == 0) {
        for (c = table; c->name != NULL; c++)
            if (strlen(c->name) > w)
                w = strlen(c->name);
        for (c = table; c->name != NULL; c++)
            cmd_printf(ctx, "%-*s  %s\n", (int)w, c->name, c->help);
        cmd_printf(ctx, "'help COMMAND' shows how to use one; --json "
                        "where listed gives JSON\n");
        return 0;
    }
    for (depth = 0; depth < argc; depth++) {
        const struct cmd *next = find(t, argv[depth]);

        if (next == NULL) {
            path_of(path, sizeof(path), argv, depth + 1);
            cmd_err(ctx, "help: no command '%s'; type 'help' for a list", path);
            return -ENOENT;
        }
        c = next;
        if (c->sub == NULL && depth + 1 < argc) {
            path_of(path, sizeof(path), argv, argc);
            cmd_err(ctx, "help: no command '%s'; type 'help' for a list", path);
            return -ENOENT;
        }
        t = c->sub;
    }
    path_of(path, sizeof(path), argv, argc);
    if (c->handler == NULL)
        cmd_printf(ctx, "usage: %s SUBCOMMAND\n%s\n", path, c->help);
    else
        cmd_printf(ctx, "usage: %s%s%s\n%s\n", path, c->usage[0] ? " " : "",
                   c->usage, c->help);
    if (c->sub != NULL)
        list_subs(ctx, c->sub);
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
