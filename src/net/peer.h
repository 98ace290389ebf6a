/*
 * net/peer.h - what netif.c and the console need of the peer links
 * (src/net/peer.c); the links themselves are described in net.h.
 */
#ifndef NET_PEER_H
#define NET_PEER_H

#include "net/net.h"

/* The trust and dial lists from the store (damaged records are reported
 * and read as empty; they are not rewritten until changed). */
void peer_load(struct net *n);
/* Listen for links on the port setting. */
int peer_listen(struct net *n);
/* Timeouts, keepalive, rates' windows, dials, `peer bench`. */
void peer_tick(struct net *n);

#endif
