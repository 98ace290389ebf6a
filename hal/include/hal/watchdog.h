/*
 * hal/watchdog.h - the board's hardware watchdog: a timer that resets
 * the board unless it is kicked in time.
 *
 * keel-boot arms it before it chooses a slot and hands it over armed:
 * hal_watchdog_release() closes it without stopping it, so a node that
 * hangs before it opens the watchdog itself is reset all the same.  The
 * node opens it at start and kicks it from its event loop and from
 * every long command's poll; a node that stops running its loop is
 * reset after the timeout.  A reset during a trial boot is a failed
 * trial: keel-boot charged the try when it chose the slot.
 *
 * One user per process, no malloc.  On a board without one (the sim
 * board) open returns -ENODEV and kick and release do nothing.
 * Backends: hal/linux/watchdog.c (/dev/watchdog0), hal/sim/watchdog.c.
 */
#ifndef HAL_WATCHDOG_H
#define HAL_WATCHDOG_H

/* What hal_watchdog_open() found about the previous reset. */
#define HAL_WATCHDOG_FIRED 1 /* the watchdog reset the board */

/* Open and arm the watchdog with a timeout of timeout_s seconds (the
 * device may round it).  Returns HAL_WATCHDOG_FIRED when the board's
 * last reset was the watchdog's, 0 otherwise, or a negative errno:
 * -ENODEV when the board has none, -EBUSY when another process holds
 * it. */
int hal_watchdog_open(unsigned timeout_s);

/* Restart the timer.  Cheap: writes to the device at most once a
 * second, so it may be called from any loop. */
void hal_watchdog_kick(void);

/* Close it without stopping it (the next program takes it over, or the
 * board resets).  Kicks once first. */
void hal_watchdog_release(void);

#endif
