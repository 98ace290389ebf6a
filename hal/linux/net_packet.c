/*
 * hal/linux/net_packet.c - Ethernet frames on a Linux interface through
 * an AF_PACKET raw socket, for QEMU guests and boards.
 *
 * lwIP sits beside the kernel's own stack on the same interface with a
 * MAC of its own, which is what bites:
 *  - frames to lwIP's MAC are not the interface's, so a NIC filters
 *    them out unless the socket asks for promiscuous mode;
 *  - a packet socket also sees what the interface sends
 *    (sll_pkttype PACKET_OUTGOING): the kernel's own traffic and other
 *    sockets' frames (Linux leaves out the sending socket's own).  Fed
 *    to lwIP they would look like frames from the wire;
 *  - GRO merges received TCP segments into one buffer larger than any
 *    frame: turned off while the link is open, and anything over
 *    HAL_NET_FRAME_MAX that still arrives is dropped and counted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>

#include "linux/net_backend.h"

/* priv[] slots */
#define PK_GRO_RESTORE 0 /* 1: GRO was on and is to be turned back on */
#define PK_RECV_BURST 64 /* skipped frames in one recv call */

static void
pk_ifreq(struct hal_net *n, struct ifreq *ifr)
{
    memset(ifr, 0, sizeof(*ifr));
    memcpy(ifr->ifr_name, n->name, strlen(n->name) + 1); /* < IFNAMSIZ */
}

/* ETHTOOL_GGRO / ETHTOOL_SGRO: returns 0 or a negative errno. */
static int
pk_gro(struct hal_net *n, uint32_t cmd, uint32_t *val)
{
    struct ethtool_value ev = {.cmd = cmd, .data = *val};
    struct ifreq ifr;

    pk_ifreq(n, &ifr);
    ifr.ifr_data = (void *)&ev;
    if (ioctl((int)n->h, SIOCETHTOOL, &ifr) < 0)
        return -errno;
    *val = ev.data;
    return 0;
}

static void
pk_gro_off(struct hal_net *n)
{
    static int said;
    uint32_t v = 0;
    int rc = pk_gro(n, ETHTOOL_GGRO, &v);

    if (rc == 0 && v == 0)
        return;
    v = 0;
    if (rc == 0)
        rc = pk_gro(n, ETHTOOL_SGRO, &v);
    if (rc == 0) {
        n->priv[PK_GRO_RESTORE] = 1;
        return;
    }
    /* The link works without it: larger frames are dropped below. */
    if (!said) {
        said = 1;
        fprintf(stderr,
                "keel: packet: cannot turn GRO off on %s (%s); merged "
                "frames over %d bytes will be dropped\n",
                n->name, strerror(-rc), HAL_NET_FRAME_MAX);
    }
}

static int
pk_send(struct hal_net *n, const void *frame, size_t len)
{
    ssize_t r;

    if (len < ETH_HLEN)
        return -EINVAL;
    if (len > HAL_NET_FRAME_MAX)
        return -EMSGSIZE;
    r = send((int)n->h, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r == (ssize_t)len) {
        n->st.tx_frames++;
        n->st.tx_bytes += len;
        return 0;
    }
    /* A full queue, or an interface that is down: the wire did not
     * take it, as Ethernet does. */
    if (r >= 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ||
        errno == EINTR || errno == ENETDOWN || errno == ENXIO) {
        n->st.tx_dropped++;
        return 0;
    }
    return -errno;
}

static int
pk_recv(struct hal_net *n, void *frame, size_t cap)
{
    for (int i = 0; i < PK_RECV_BURST; i++) {
        struct sockaddr_ll from;
        socklen_t fl = sizeof(from);
        /* MSG_TRUNC: the frame's real length, so that an oversized one
         * is seen and dropped, never passed on cut short. */
        ssize_t r = recvfrom((int)n->h, frame, cap, MSG_DONTWAIT | MSG_TRUNC,
                             (struct sockaddr *)&from, &fl);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            /* ENETDOWN: the interface went down (reported once);
             * link() says so, and frames flow again when it is up. */
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENETDOWN)
                return 0;
            return -errno;
        }
        if (from.sll_pkttype == PACKET_OUTGOING) {
            n->st.rx_dropped++; /* what the interface sent */
            continue;
        }
        if (hal_net_rx_take(n, (size_t)r, cap))
            return (int)r;
    }
    return 0;
}

static int
pk_link(struct hal_net *n)
{
    struct ifreq ifr;
    int want = IFF_UP | IFF_RUNNING;

    pk_ifreq(n, &ifr);
    if (ioctl((int)n->h, SIOCGIFFLAGS, &ifr) < 0)
        return 0;
    return (ifr.ifr_flags & want) == want;
}

static void
pk_close(struct hal_net *n)
{
    if ((int)n->h < 0)
        return;
    if (n->priv[PK_GRO_RESTORE]) {
        uint32_t v = 1;

        pk_gro(n, ETHTOOL_SGRO, &v);
        n->priv[PK_GRO_RESTORE] = 0;
    }
    /* Closing the socket drops its promiscuous membership. */
    close((int)n->h);
    n->h = -1;
}

static const struct hal_net_ops pk_ops = {
    .send = pk_send,
    .recv = pk_recv,
    .link = pk_link,
    .close = pk_close,
};

static int
pk_fail(struct hal_net *n, int rc, const char **why, const char *msg)
{
    close((int)n->h);
    n->h = -1;
    *why = msg;
    return rc;
}

int
hal_net_open_packet(struct hal_net *n, const char *ifname, const char **why)
{
    size_t len = strlen(ifname);
    struct sockaddr_ll sll;
    struct packet_mreq mr;
    struct ifreq ifr;
    int fd, rc, ifindex;

    memset(n, 0, sizeof(*n));
    n->h = -1;
    *why = "";
    if (len == 0 || len >= IFNAMSIZ || memchr(ifname, '/', len) != NULL) {
        *why = "an interface name is 1 to 15 bytes: packet:IFNAME";
        return -EINVAL;
    }
    memcpy(n->name, ifname, len + 1);
    /* Protocol 0 until bound: nothing from other interfaces queues up
     * between socket() and bind(). */
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        *why = rc == -EPERM || rc == -EACCES
                   ? "AF_PACKET needs CAP_NET_RAW: run keel as root or "
                     "give it cap_net_raw"
                   : "cannot make an AF_PACKET socket";
        return rc;
    }
    n->h = fd;

    pk_ifreq(n, &ifr);
    if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
        return pk_fail(n, -errno, why, "no network interface of that name");
    ifindex = ifr.ifr_ifindex;
    pk_ifreq(n, &ifr);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
        return pk_fail(n, -errno, why, "cannot read the interface's MAC");
    if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
        return pk_fail(n, -EPROTONOSUPPORT, why, "not an Ethernet interface");
    memcpy(n->mac, ifr.ifr_hwaddr.sa_data, 6);

    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex;
    if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
        return pk_fail(n, -errno, why, "cannot bind to the interface");
    memset(&mr, 0, sizeof(mr));
    mr.mr_ifindex = ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
        return pk_fail(n, -errno, why,
                       "cannot put the interface in promiscuous mode");
    pk_gro_off(n);

    /* Never the kernel's MAC: locally administered, unicast, and one
     * bit away from the interface's. */
    n->mac[0] = (uint8_t)((n->mac[0] | 0x02) & ~0x01);
    n->mac[5] ^= 0x01;
    n->kind = "packet";
    n->dhcp_default = 1;
    n->ops = &pk_ops;
    return 0;
}
