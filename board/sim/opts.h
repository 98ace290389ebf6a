/*
 * board/sim/opts.h - the sim board's overrides of keel_opts.h (none: the
 * defaults are sized for it).  A board that needs other limits defines
 * them here, before keel_opts.h sets its defaults.
 */
#ifndef BOARD_SIM_OPTS_H
#define BOARD_SIM_OPTS_H

#endif
