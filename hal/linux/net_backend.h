/*
 * hal/linux/net_backend.h - the Linux network backends a board's
 * hal_net_open() dispatches to (hal/net.h says what a backend does).
 *
 * Both fill a caller-allocated struct hal_net and allocate nothing; on
 * failure they return a negative errno, set *why to a sentence for the
 * operator and leave n->ops NULL and n->h -1.
 */
#ifndef HAL_LINUX_NET_BACKEND_H
#define HAL_LINUX_NET_BACKEND_H

#include "hal/net.h"

/* Longest simwire port name; the hub (src/tools/keel-wire.c) takes the
 * same: letters, digits, '.', '_' and '-'. */
#define HAL_SIMWIRE_PORT_MAX 32

/*
 * simwire: arg is "PATH[,port=NAME]", what follows "simwire:".  Connects
 * to keel-wire's socket at PATH and says hello as port NAME (default
 * "p<pid>").  arg must fit n->name (95 bytes with the default name
 * written out), which keeps PATH within a Unix socket's path limit.
 *
 * The MAC is 02:xx:xx:xx:xx:xx from a hash of NAME: stable across
 * restarts, locally administered, unicast.  dhcp_default is 0.
 *
 * The hub must be listening at open (-ENOENT, -ECONNREFUSED, -EAGAIN
 * otherwise; -EPIPE or -ECONNRESET when it closes the port before the
 * hello is sent: it is full, or the name is taken).  When it goes away
 * later the port is detached: recv returns 0, send drops (tx_dropped),
 * link() returns 0, n->h is -1 (hal_poll() then waits on the console
 * and its timeout only), and send, recv and link try to attach again,
 * at most once a second; each re-attach counts in st.reconnects.  A hub
 * that closes a port right after its hello looks the same.
 */
int hal_net_open_simwire(struct hal_net *n, const char *arg, const char **why);

/*
 * packet: ifname is what follows "packet:".  An AF_PACKET raw socket
 * bound to the interface, in promiscuous mode (lwIP's MAC is not the
 * interface's), non-blocking.  Frames the interface sends (our own
 * included, PACKET_OUTGOING) are skipped and counted in rx_dropped.
 * GRO is turned off on the interface for as long as the link is open
 * (restored on close; if it cannot be, one line on stderr says so) and
 * anything over HAL_NET_FRAME_MAX is dropped and counted all the same.
 *
 * The MAC is the interface's with the locally administered bit set,
 * the multicast bit cleared and the last byte's lowest bit flipped, so
 * it is never the kernel's.  dhcp_default is 1; link() is IFF_UP and
 * IFF_RUNNING.  Needs CAP_NET_RAW (-EPERM otherwise).
 */
int hal_net_open_packet(struct hal_net *n, const char *ifname,
                        const char **why);

#endif
