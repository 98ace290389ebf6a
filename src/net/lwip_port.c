/*
 * net/lwip_port.c - what lwIP asks of its platform when NO_SYS=1, and the
 * loopback self test.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"

#include "hal/clock.h"
#include "hal/rng.h"
#include "keel_deps.h"
#include "net/net.h"

u32_t
sys_now(void)
{
    return (u32_t)hal_clock_ms();
}

void
keel_lwip_diag(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

_Noreturn void
keel_lwip_assert(const char *msg, const char *file, int line)
{
    fprintf(stderr, "lwip assertion failed: %s at %s:%d\n", msg, file, line);
    abort();
}

uint32_t
keel_lwip_rand(void)
{
    uint32_t r = 0;

    /* TCP initial sequence numbers and ephemeral ports; the HAL rng does
     * not fail once seeded, and a zero here is harmless. */
    (void)hal_rng_fill(&r, sizeof(r));
    return r;
}

int
net_next_timeout(int max_ms)
{
    u32_t t = sys_timeouts_sleeptime();

    return t == SYS_TIMEOUTS_SLEEPTIME_INFINITE || t > (u32_t)max_ms ? max_ms
                                                                     : (int)t;
}

const char *
net_lwip_version(void)
{
    return "lwIP " LWIP_VERSION_STRING " (Debian " KEEL_DEP_LWIP_DEB ")";
}

struct udp_probe {
    int got;
    char buf[32];
};

static void
udp_probe_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
               const ip_addr_t *addr, u16_t port)
{
    struct udp_probe *probe = arg;

    (void)pcb;
    (void)addr;
    (void)port;
    if (p->tot_len < sizeof(probe->buf)) {
        pbuf_copy_partial(p, probe->buf, p->tot_len, 0);
        probe->buf[p->tot_len] = '\0';
        probe->got++;
    }
    pbuf_free(p);
}

int
net_selftest_udp(const char **what)
{
    static const char msg[] = "keel loopback probe";
    struct udp_probe probe = {0};
    struct udp_pcb *pcb;
    struct pbuf *p;
    ip_addr_t lo;
    int rc = -EIO;

    IP_ADDR4(&lo, 127, 0, 0, 1);
    *what = "lwip: udp_new failed (pool exhausted)";
    pcb = udp_new();
    if (pcb == NULL)
        return -ENOMEM;
    *what = "lwip: bind 127.0.0.1 failed";
    if (udp_bind(pcb, &lo, 0) != ERR_OK)
        goto out;
    udp_recv(pcb, udp_probe_recv, &probe);
    *what = "lwip: pbuf_alloc failed";
    p = pbuf_alloc(PBUF_TRANSPORT, sizeof(msg) - 1, PBUF_RAM);
    if (p == NULL)
        goto out;
    memcpy(p->payload, msg, sizeof(msg) - 1);
    *what = "lwip: udp_sendto 127.0.0.1 failed";
    if (udp_sendto(pcb, p, &lo, pcb->local_port) != ERR_OK) {
        pbuf_free(p);
        goto out;
    }
    pbuf_free(p);
    /* The loopback netif queues the datagram; polling delivers it. */
    for (int i = 0; i < 4 && probe.got == 0; i++)
        netif_poll_all();
    *what = "lwip: datagram to self did not arrive intact";
    if (probe.got != 1 || strcmp(probe.buf, msg) != 0)
        goto out;
    *what = "lwip: one UDP datagram to self over the loopback netif";
    rc = 0;
out:
    udp_remove(pcb);
    return rc;
}
