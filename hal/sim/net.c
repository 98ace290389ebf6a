/*
 * hal/sim/net.c - the sim board's hal_net_open(): keel-wire's simwire
 * ports for tests of many nodes on one machine, AF_PACKET for a real or
 * virtual interface (hal/linux/net_backend.h).
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
    if (strncmp(spec, "simwire:", 8) == 0)
        return hal_net_open_simwire(n, spec + 8, why);
    if (strncmp(spec, "packet:", 7) == 0)
        return hal_net_open_packet(n, spec + 7, why);
    *why = "unknown network: use simwire:PATH[,port=NAME] or packet:IFNAME";
    return -EINVAL;
}
