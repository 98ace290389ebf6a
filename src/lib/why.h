/*
 * lib/why.h - the one way a module puts a failure into words: format the
 * message into the module's `why` buffer and return the error code, so
 * `return fail(ctx, -EIO, "...")` reads as one step.  The format may
 * name the buffer itself (the text is built aside first).  Leaf
 * library: no dependencies.
 */
#ifndef LIB_WHY_H
#define LIB_WHY_H

#include <stdarg.h>
#include <stddef.h>

/* Format into why (cap bytes, truncated, always terminated); returns rc. */
int lib_why(char *why, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int lib_vwhy(char *why, size_t cap, int rc, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
