/*
 * tests/unit/peach_ref.h - the plain peach the tests hold keel's to
 * (peach_ref.c).
 */
#ifndef TESTS_PEACH_REF_H
#define TESTS_PEACH_REF_H

#include <stdint.h>

/* The final hash F of trailer t (160 bytes), whatever the difficulty;
 * the nonce's haiku syntax is not checked. */
void peach_ref_final(const uint8_t t[160], uint8_t fin[32]);

#endif
