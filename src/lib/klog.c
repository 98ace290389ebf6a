/*
 * lib/klog.c - event lines to stderr and the log sink (see klog.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/klog.h"

static const char *prog = "keel";
static void (*sink)(void *arg, int sev, const char *text);
static void *sink_arg;
static int quiet;

void
klog_quiet(int on)
{
    quiet = on;
}

void
klog_prog(const char *name)
{
    prog = name;
}

void
klog_sink(void (*fn)(void *arg, int sev, const char *text), void *arg)
{
    sink = fn;
    sink_arg = arg;
}

void
klog(int sev, const char *fmt, ...)
{
    char line[512];
    size_t n;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    if (!quiet)
        fprintf(stderr, "%s: %s\n", prog, line);
    if (sink != NULL)
        sink(sink_arg, sev, line);
}
