/*
 * hal/rng.h - the board's entropy source.
 *
 * hal_rng_fill() fills buf with len bytes from the best source the board
 * has (getrandom on Linux, a TRNG on a microcontroller).  It blocks until
 * the source is seeded.  Returns 0, or a negative errno when no entropy
 * can be had; callers that need secrets must then stop, not fall back.
 */
#ifndef HAL_RNG_H
#define HAL_RNG_H

#include <stddef.h>

int hal_rng_fill(void *buf, size_t len);

#endif
