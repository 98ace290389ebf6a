/*
 * hal/net.h - an Ethernet link for lwIP.
 *
 * The seam for the networking issue: a backend moves whole Ethernet
 * frames (no FCS) between the wire and keel's lwIP netif glue in
 * src/net/.  Planned backends: simwire (a userspace hub over a Unix
 * socket), tap (a TAP device inside a network namespace), packet
 * (AF_PACKET, in QEMU and on boards).  None is built yet; the node runs
 * lwIP on its loopback interface only.
 */
#ifndef HAL_NET_H
#define HAL_NET_H

#include <stddef.h>
#include <stdint.h>

#define HAL_NET_MTU 1500
#define HAL_NET_FRAME_MAX (HAL_NET_MTU + 18)

struct hal_net;

struct hal_net_ops {
    /* Send one frame.  Returns 0 or a negative errno (-EAGAIN: drop). */
    int (*send)(struct hal_net *n, const void *frame, size_t len);
    /* Receive one frame without waiting.  Returns its length, 0 when no
     * frame is queued, or a negative errno. */
    int (*recv)(struct hal_net *n, void *frame, size_t cap);
    void (*close)(struct hal_net *n);
};

struct hal_net {
    const struct hal_net_ops *ops;
    uint8_t mac[6];
    intptr_t h; /* the backend's own handle */
};

#endif
