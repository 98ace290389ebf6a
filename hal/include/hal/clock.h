/*
 * hal/clock.h - time.
 *
 * hal_clock_ms() is monotonic milliseconds since an arbitrary origin; it
 * never goes back and is what timeouts and rates use.  hal_clock_wall()
 * is seconds since the Unix epoch as the board believes it; it may be
 * unset (a board without an RTC boots in 1970) and may jump, so nothing
 * that decides trust uses it without a skew allowance.
 */
#ifndef HAL_CLOCK_H
#define HAL_CLOCK_H

#include <stdint.h>

uint64_t hal_clock_ms(void);
int64_t hal_clock_wall(void);

#endif
