/*
 * net/net.h - lwIP and TLS for the node.
 *
 * net_init() runs once at start-up: it brings up lwIP (NO_SYS, loopback
 * netif only until the networking issue adds the HAL net backends) and
 * points mbedTLS's allocator at lwIP's static heap.  net_poll() is called from the
 * event loop: it delivers queued loopback packets and runs lwIP's timers.
 * Everything returns 0 or a negative errno.
 */
#ifndef NET_NET_H
#define NET_NET_H

#include <stddef.h>

int net_init(void);
void net_poll(void);
/* Milliseconds until lwIP next wants net_poll(), at most max_ms. */
int net_next_timeout(int max_ms);

/* Self tests for the console's selftest command.  On return *what says
 * what was checked, or what failed. */
int net_selftest_udp(const char **what);
int net_selftest_tls(const char **what);

const char *net_lwip_version(void);
const char *net_mbedtls_version(void);

#endif
