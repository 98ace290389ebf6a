/*
 * hal/poll.h - the event loop's one wait: the console and the network.
 *
 * hal_poll() sleeps until console input is readable, a frame waits on
 * the network link, or timeout_ms passes (0: do not wait, < 0: no
 * limit).  It returns a mask of HAL_POLL_* bits (0 on timeout) or a
 * negative errno.  n may be NULL or closed (n->ops NULL).
 */
#ifndef HAL_POLL_H
#define HAL_POLL_H

#include "hal/console.h"
#include "hal/net.h"

#define HAL_POLL_CONSOLE 1u
#define HAL_POLL_NET 2u

int hal_poll(struct hal_console *c, struct hal_net *n, int timeout_ms);

#endif
