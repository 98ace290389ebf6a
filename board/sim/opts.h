/*
 * board/sim/opts.h - the sim board's overrides of keel_opts.h (the
 * limits' defaults are sized for it; only the test hooks are on).  A board that needs other limits defines
 * them here, before keel_opts.h sets its defaults.
 */
#ifndef BOARD_SIM_OPTS_H
#define BOARD_SIM_OPTS_H

/* The sim board runs the tests: their misbehaviour hooks are built in
 * (KEEL_SIM_NET_CERT, docs/NET.md). */
#define KEEL_TEST_HOOKS 1

#endif
