/*
 * hal/posix/clock.c - clock from clock_gettime(2), for every board that
 * runs on Linux (sim, QEMU, real boards).
 *
 * KEEL_SIM_CLOCK_OFFSET=SECONDS moves the wall clock (not the monotonic
 * one), so tests can step past a key's overlap window or set the clock
 * to "unset" (a large negative offset reads as 1970).
 */
#include <stdlib.h>
#include <time.h>

#include "hal/clock.h"

uint64_t
hal_clock_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t
hal_clock_wall(void)
{
    struct timespec ts;

    const char *off = getenv("KEEL_SIM_CLOCK_OFFSET");
    int64_t t;

    clock_gettime(CLOCK_REALTIME, &ts);
    t = (int64_t)ts.tv_sec;
    if (off != NULL)
        t += strtoll(off, NULL, 10);
    return t < 0 ? 0 : t;
}
