/*
 * chain/peach.h - Mochimo's proofs of work: peach (from block 0x12852
 * on mainnet, every standard block on testnet) and Trigg before it.
 *
 * peach_check() recomputes one proof: two haiku syntax checks, a SHA-256
 * of the trailer, nine 1 KiB tiles and eight jumps through "nighthash",
 * then the final SHA-256 F, which must start with difficulty[0] zero
 * bits.  It needs about 3 KiB of stack and no heap (MD2 reads a 64 KiB
 * static table, crypto/md2.c): the reference node's 1 GiB map is a
 * mining cache, not part of the proof.
 *
 * Nighthash does IEEE-754 binary32 arithmetic on the data.  keel builds
 * with the default rounding (to nearest), no fast-math and no flush to
 * zero, and on x86 with SSE (no x87 excess precision); the mainnet
 * vectors in tests/ prove it on every arch.
 */
#ifndef CHAIN_PEACH_H
#define CHAIN_PEACH_H

#include <stddef.h>
#include <stdint.h>

#define PEACH_SYNTAX 1 /* a nonce half is not a haiku */
#define PEACH_MISS 2   /* the final hash misses the difficulty */

/* Check the peach proof of trailer t (160 bytes) against its own
 * difficulty[0].  0, PEACH_SYNTAX or PEACH_MISS; F (32 bytes) into fin
 * when fin is not NULL (also on a miss). */
int peach_check(const uint8_t t[160], uint8_t fin[32]);

/* Try nonces on trailer t (phash, bnum, ..., difficulty set) until one
 * meets diff or tries run out; on success the nonce is in t[92..123] and
 * 0 is returned, else -EAGAIN.  rnd supplies randomness. */
int peach_mine(uint8_t t[160], unsigned diff, uint64_t tries,
               uint32_t (*rnd)(void *), void *arg);

/* Recompute one mainnet proof (selftest): 0, or -EBADMSG with *what
 * set. */
int peach_selftest(const char **what);

/* Trigg (pre-peach) proof and the haiku grammar (chain/trigg.c). */
int trigg_check(const uint8_t t[160]);
/* 0 when the 16 bytes are a haiku in Trigg's grammar, else -EBADMSG. */
int trigg_syntax(const uint8_t half[16]);
/* 0 when hash has diff leading zero bits, else -EDOM. */
int trigg_eval(const uint8_t hash[32], unsigned diff);
size_t trigg_expand(const uint8_t half[16], char out[256]);
void trigg_generate(uint32_t (*rnd)(void *), void *arg, uint8_t out[16]);

#endif
