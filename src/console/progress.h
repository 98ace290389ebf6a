/*
 * console/progress.h - progress of a long operation at the console.
 *
 * On a terminal: one line redrawn in place (a bar, bytes or items done
 * of the total, the rate and the time left), at most five times a
 * second, finished with a newline.  Elsewhere (a script, a pipe): a
 * plain line every PROGRESS_LINE_MS, and the last one at the end, so a
 * log of the session says how it went without flooding it.
 */
#ifndef CONSOLE_PROGRESS_H
#define CONSOLE_PROGRESS_H

#include <stdint.h>

#include "console/cmd.h"

#define PROGRESS_LINE_MS 3000
#define PROGRESS_DRAW_MS 200

struct progress {
    struct cmd_ctx *ctx;
    const char *what; /* "install", "chain import" */
    const char *unit; /* "bytes" (shown in MB) or a count's name */
    int terminal;
    uint64_t total, t0, last;
    int drawn;
};

void progress_begin(struct progress *p, struct cmd_ctx *ctx, const char *what,
                    const char *unit, uint64_t total, int terminal,
                    uint64_t now_ms);
void progress_update(struct progress *p, uint64_t done, uint64_t now_ms);
/* One plain line now, to ctx (a job in the background, asked how far
 * it is). */
void progress_line(struct progress *p, struct cmd_ctx *ctx, uint64_t done,
                   uint64_t now_ms);
/* The last line (done of total), and on a terminal the newline. */
void progress_end(struct progress *p, uint64_t done, uint64_t now_ms);

#endif
