/*
 * lib/why.c - failures in words (see why.h).
 */
#include <stdio.h>
#include <string.h>

#include "lib/why.h"

#define WHY_MAX 256 /* longest message any module keeps */

int
lib_vwhy(char *why, size_t cap, int rc, const char *fmt, va_list ap)
{
    char tmp[WHY_MAX];

    if (cap == 0)
        return rc;
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    snprintf(why, cap, "%s", tmp);
    return rc;
}

int
lib_why(char *why, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    rc = lib_vwhy(why, cap, rc, fmt, ap);
    va_end(ap);
    return rc;
}
