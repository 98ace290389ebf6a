/*
 * hal/linux/net.c - a Linux board's hal_net_open(): AF_PACKET on one of
 * its interfaces (hal/linux/net_backend.h); keel-boot passes
 * "packet:" HAL_LINUX_NETIF in KEEL_NET.
 */
#include <errno.h>
#include <string.h>

#include "hal/net.h"
#include "linux/net_backend.h"

int
hal_net_open(struct hal_net *n, const char *spec, const char **why)
{
    memset(n, 0, sizeof(*n));
    n->h = -1;
    if (strncmp(spec, "packet:", 7) == 0)
        return hal_net_open_packet(n, spec + 7, why);
    *why = "unknown network: this board has packet:IFNAME";
    return -EINVAL;
}
