/*
 * console/progress.c - progress lines (see progress.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "console/progress.h"

void
progress_begin(struct progress *p, struct cmd_ctx *ctx, const char *what,
               const char *unit, uint64_t total, int terminal, uint64_t now_ms)
{
    memset(p, 0, sizeof(*p));
    p->ctx = ctx;
    p->what = what;
    p->unit = unit;
    p->total = total;
    p->terminal = terminal;
    p->t0 = p->last = now_ms;
}

static void
draw(struct progress *p, uint64_t done, uint64_t now_ms, int final)
{
    uint64_t ms = now_ms - p->t0;
    int pct = p->total ? (int)(done * 100 / p->total) : 100;
    int bytes = strcmp(p->unit, "bytes") == 0;
    double rate = ms ? (double)done * 1000.0 / (double)ms : 0;
    char amount[64], speed[32], eta[24] = "";

    if (bytes) {
        snprintf(amount, sizeof(amount), "%" PRIu64 " of %" PRIu64 " bytes",
                 done, p->total);
        snprintf(speed, sizeof(speed), "%.1f MB/s", rate / 1e6);
    } else {
        snprintf(amount, sizeof(amount), "%" PRIu64 " of %" PRIu64 " %s", done,
                 p->total, p->unit);
        snprintf(speed, sizeof(speed), "%.0f/s", rate);
    }
    if (!final && rate > 0 && done < p->total)
        snprintf(eta, sizeof(eta), "  ETA %.0f s",
                 (double)(p->total - done) / rate);
    if (p->terminal) {
        char bar[21];
        int fill = pct / 5;

        for (int i = 0; i < 20; i++)
            bar[i] = i < fill ? '#' : '-';
        bar[20] = '\0';
        cmd_printf(p->ctx, "\r%s: [%s] %3d%%  %s  %s%s\033[K%s", p->what, bar,
                   pct, amount, speed, eta, final ? "\n" : "");
    } else {
        cmd_printf(p->ctx, "%s: %3d%%  %s  %s%s\n", p->what, pct, amount, speed,
                   eta);
    }
    p->drawn = 1;
}

void
progress_update(struct progress *p, uint64_t done, uint64_t now_ms)
{
    /* the first at once, so that the operator sees it has begun */
    if (p->drawn &&
        now_ms - p->last < (p->terminal ? PROGRESS_DRAW_MS : PROGRESS_LINE_MS))
        return;
    p->last = now_ms;
    draw(p, done, now_ms, 0);
}

void
progress_line(struct progress *p, struct cmd_ctx *ctx, uint64_t done,
              uint64_t now_ms)
{
    int terminal = p->terminal;

    p->ctx = ctx;
    p->terminal = 0;
    draw(p, done, now_ms, 0);
    p->terminal = terminal;
}

void
progress_end(struct progress *p, uint64_t done, uint64_t now_ms)
{
    draw(p, done, now_ms, 1);
}
