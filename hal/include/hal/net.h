/*
 * hal/net.h - an Ethernet link for lwIP.
 *
 * A backend moves whole Ethernet frames (no FCS, at most
 * HAL_NET_FRAME_MAX bytes) between the wire and keel's netif glue in
 * src/net/netif.c.  One file per backend, chosen by the board:
 *  - simwire (hal/linux/net_simwire.c): a port on keel-wire, the
 *    user-space Ethernet hub (src/tools/keel-wire.c), over a Unix
 *    SOCK_SEQPACKET socket: one message is one frame.  Spec
 *    "simwire:PATH[,port=NAME]"; NAME (default "p<pid>") is what the
 *    hub's faults and partitions refer to, and the MAC derives from it.
 *  - packet (hal/linux/net_packet.c): AF_PACKET on a named Linux
 *    interface, "packet:IFNAME", for QEMU and boards.
 *
 * The board's hal_net_open() picks the backend by the spec's prefix.
 * Nothing here blocks: recv returns 0 when no frame is queued, and
 * n->h is a handle the event loop waits on (hal/poll.h).  Every call
 * returns 0 / a count, or a negative errno.
 */
#ifndef HAL_NET_H
#define HAL_NET_H

#include <stddef.h>
#include <stdint.h>

#define HAL_NET_MTU 1500
#define HAL_NET_FRAME_MAX (HAL_NET_MTU + 14) /* Ethernet header, no VLAN */

struct hal_net;

struct hal_net_ops {
    /* Send one frame.  Returns 0 or a negative errno; a frame the wire
     * cannot take now is dropped (counted in tx_dropped) and 0 is
     * returned: Ethernet is lossy and TCP retransmits. */
    int (*send)(struct hal_net *n, const void *frame, size_t len);
    /* Receive one frame without waiting.  Returns its length, 0 when no
     * frame is queued, or a negative errno.  Frames over cap or
     * HAL_NET_FRAME_MAX are dropped and counted (rx_dropped). */
    int (*recv)(struct hal_net *n, void *frame, size_t cap);
    /* 1 when the link is up (the hub attached, the interface running). */
    int (*link)(struct hal_net *n);
    void (*close)(struct hal_net *n);
};

struct hal_net_stats {
    uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
    uint64_t rx_dropped; /* too large, truncated or our own echo */
    uint64_t tx_dropped; /* the wire would not take them */
    uint64_t reconnects; /* simwire: times the hub was re-attached */
};

struct hal_net {
    const struct hal_net_ops *ops; /* NULL: no network */
    const char *kind;              /* "simwire", "packet" */
    char name[96];                 /* the socket path and port, or ifname */
    uint8_t mac[6];                /* what lwIP's netif uses */
    int dhcp_default;              /* 1: DHCP unless addresses are set */
    intptr_t h;                    /* a pollable fd, or -1 */
    intptr_t priv[4];              /* the backend's own */
    struct hal_net_stats st;
};

/* Open the link named by spec ("simwire:PATH[,port=NAME]" or
 * "packet:IFNAME").  On failure *why says what went wrong (for the
 * operator) and n->ops stays NULL. */
int hal_net_open(struct hal_net *n, const char *spec, const char **why);

/* For a backend: a frame of len bytes arrived for a buffer of cap.  1:
 * hand it over (counted as received); 0: drop it (too short for an
 * Ethernet header, or too long; counted as dropped). */
static inline int
hal_net_rx_take(struct hal_net *n, size_t len, size_t cap)
{
    if (len > cap || len > HAL_NET_FRAME_MAX || len < 14) {
        n->st.rx_dropped++;
        return 0;
    }
    n->st.rx_frames++;
    n->st.rx_bytes += len;
    return 1;
}

static inline int
hal_net_send(struct hal_net *n, const void *frame, size_t len)
{
    return n->ops->send(n, frame, len);
}

static inline int
hal_net_recv(struct hal_net *n, void *frame, size_t cap)
{
    return n->ops->recv(n, frame, cap);
}

static inline int
hal_net_link(struct hal_net *n)
{
    return n->ops != NULL && n->ops->link(n);
}

static inline void
hal_net_close(struct hal_net *n)
{
    if (n->ops != NULL)
        n->ops->close(n);
    n->ops = NULL;
}

#endif
