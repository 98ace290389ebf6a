/*
 * tests/system/stub.c - a bin/keel that fails at start, for the system
 * tests' bundles (tests/system/lib.sh).  Built twice, static, for the
 * board's architecture:
 *   stub-crash (-DSTUB_CRASH)  dies of SIGABRT at once: keel-boot sees
 *                              a crash during the trial
 *   stub-hang  (-DSTUB_HANG)   never returns and never opens the
 *                              watchdog: the armed watchdog keel-boot
 *                              handed over resets the board
 * Never shipped.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int
main(void)
{
#if defined(STUB_HANG)
    fputs("stub: hanging (the watchdog should reset the board)\n", stderr);
    for (;;)
        pause();
#else
    fputs("stub: crashing at start\n", stderr);
    abort();
#endif
}
