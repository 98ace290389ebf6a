/*
 * console/cmd.h - console commands as one table.
 *
 * Every command is a row: name, argument counts, flags, usage, help and a
 * handler, U-Boot / Zephyr-shell style.  A row may instead carry a table
 * of subcommands ("store stat", "id show"); the dispatcher walks it.
 * Global options are parsed here once: "--json" (allowed where the row
 * has CMD_JSON) sets ctx->json and is removed from argv; "--help" or "-h"
 * anywhere prints the row's usage and help.  Everything else is the
 * handler's.
 *
 * Return values: handlers return 0 or a negative errno, and print their
 * own message for errors the user can fix through cmd_err().  The
 * dispatcher's own errors (unknown command, wrong argument count,
 * --json where not supported, unterminated quote, too many words) print
 * one line that names the problem and points to help, and return
 * -EINVAL (unknown: -ENOENT).
 */
#ifndef CONSOLE_CMD_H
#define CONSOLE_CMD_H

#include "keel_opts.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct cmd_ctx;

typedef int (*cmd_handler_fn)(struct cmd_ctx *ctx, int argc, char **argv);

enum cmd_flags {
    CMD_JSON = 1 << 0, /* accepts --json */
    CMD_PRIV = 1 << 1, /* changes the device: needs an unlocked console */
};

struct cmd {
    const char *name;
    unsigned char min_args, max_args; /* words after the name, sans flags */
    unsigned flags;
    const char *usage; /* arguments, e.g. "[--json] FILE" */
    const char *help;  /* one line */
    cmd_handler_fn handler;
    const struct cmd *sub; /* subcommand table, or NULL */
};

/* Tables end with a row whose name is NULL. */

typedef void (*cmd_write_fn)(void *arg, const char *s, size_t n);

struct cmd_ctx {
    cmd_write_fn write;
    void *write_arg;
    int json;   /* --json was given */
    void *node; /* the node's state, for handlers */
    /* Asked before a CMD_PRIV row runs (and by cmd_priv()): 0 to go on,
     * or a negative errno after saying why.  NULL: nothing is locked. */
    int (*priv)(struct cmd_ctx *ctx, const char *path);
};

/* For a handler that changes the device only with some arguments: 0, or
 * the refusal ctx->priv printed. */
int cmd_priv(struct cmd_ctx *ctx, const char *path);

/* Split line in place into at most max words.  Words are separated by
 * spaces or tabs; "double" and 'single' quotes group, backslash escapes
 * the next byte outside single quotes.  Returns the count, -E2BIG when
 * there are more than max words, -EINVAL on an unterminated quote. */
int cmd_split(char *line, char **argv, int max);

/* Split and run one line against table.  An empty or blank line (or one
 * starting with '#') is 0 and runs nothing. */
int cmd_exec(const struct cmd *table, struct cmd_ctx *ctx, char *line);

/* Print help for the whole table (argc 0) or for the command path given
 * ("help store stat"). */
int cmd_help(const struct cmd *table, struct cmd_ctx *ctx, int argc,
             char **argv);

/* idx-th top-level command name that starts with prefix[0..n), or NULL. */
const char *cmd_complete(const struct cmd *table, const char *prefix, size_t n,
                         unsigned idx);

/* Output helpers: printf to the console; cmd_err() prefixes "error: ". */
void cmd_printf(struct cmd_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cmd_vprintf(struct cmd_ctx *ctx, const char *fmt, va_list ap);
void cmd_err(struct cmd_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print n bytes as lowercase hex. */
void cmd_hex(struct cmd_ctx *ctx, const uint8_t *p, size_t n);
/* Parse a hex argument into out (at most cap bytes): the byte count, or
 * -EINVAL (odd length, not hex, too long). */
int cmd_unhex(const char *h, uint8_t *out, size_t cap);
/* Parse a numeric argument strictly: decimal digits only, from 0 to max
 * (no sign, no spaces, no 0x, nothing after).  0 with *out set, -EINVAL
 * when s is not such a number, -ERANGE when it is above max.  Every
 * numeric console argument goes through here: strtoull() would take
 * "-1" as 2^64-1 and "010" as 8. */
int cmd_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Write s as a JSON string literal, quotes included. */
void cmd_json_str(struct cmd_ctx *ctx, const char *s);

#endif
