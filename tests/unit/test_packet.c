/*
 * tests/unit/test_packet.c - the AF_PACKET backend
 * (hal/linux/net_packet.c through hal_net_open()) on a veth pair.
 *
 *   test_packet IFA IFB [txoff]
 *
 * Runs inside a network namespace that tests/net_packet.sh makes: IFA
 * and IFB are the two ends of a veth pair, both up, MTU 2000 (so that
 * an oversized frame can be sent at all), IPv6 off (so the kernel sends
 * nothing of its own on IFA), IFB with 10.213.0.2/24.  "txoff" says the
 * script turned IFB's transmit checksumming off (ethtool -K IFB tx
 * off), which is when a kernel peer's UDP checksums are whole.
 *
 * The backend opens IFA; a raw socket on IFB is the far end of the
 * wire.  Checks: the MAC, promiscuous mode and GRO while open and after
 * close, frames both ways byte for byte, frames sent on IFA not read
 * back (PACKET_OUTGOING), oversized frames dropped and counted, the
 * link following the peer's state, and a kernel peer's checksums.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>

#include "hal/net.h"
#include "hal/poll.h"
#include "ut.h"

#define WAIT_MS 2000
#define QUIET_MS 200
#define ETYPE 0x88b5 /* IEEE local experimental */
#define PEER_IP "10.213.0.2"
#define NODE_IP "10.213.0.1"

static const char *ifa = "veth0", *ifb = "veth1";
static int txoff;
static int sfd = -1; /* for ioctls */
static int raw = -1; /* AF_PACKET on IFB */
static uint8_t mac_a[6], mac_b[6];

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
ifreq_do(const char *ifn, unsigned long req, struct ifreq *ifr)
{
    snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifn);
    return ioctl(sfd, req, ifr);
}

static int
hwaddr(const char *ifn, uint8_t mac[6])
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    if (ifreq_do(ifn, SIOCGIFHWADDR, &ifr) < 0)
        return -1;
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}

/* GRO on ifn: 0 or 1, or -1 when it cannot be read. */
static int
gro(const char *ifn, int set)
{
    struct ethtool_value ev = {.cmd = set >= 0 ? ETHTOOL_SGRO : ETHTOOL_GGRO,
                               .data = set > 0};
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_data = (void *)&ev;
    if (ifreq_do(ifn, SIOCETHTOOL, &ifr) < 0)
        return -1;
    return set >= 0 ? set : ev.data != 0;
}

static int
set_up(const char *ifn, int up)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    if (ifreq_do(ifn, SIOCGIFFLAGS, &ifr) < 0)
        return -1;
    if (up)
        ifr.ifr_flags |= IFF_UP;
    else
        ifr.ifr_flags &= ~IFF_UP;
    return ifreq_do(ifn, SIOCSIFFLAGS, &ifr);
}

/* The interface's promiscuity count, as `ip -d link` tells it. */
static int
promiscuity(const char *ifn)
{
    char cmd[96], line[512];
    int v = -1;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "ip -d link show dev %s", ifn);
    p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    while (fgets(line, sizeof(line), p) != NULL) {
        const char *s = strstr(line, "promiscuity ");

        if (s != NULL)
            v = atoi(s + 12);
    }
    pclose(p);
    return v;
}

static int
raw_open(const char *ifn)
{
    struct sockaddr_ll sll;
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)if_nametoindex(ifn);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
        return -1;
    return fd;
}

static size_t
mkframe(uint8_t *f, size_t len, const uint8_t dst[6], const uint8_t src[6],
        uint32_t tag)
{
    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(i * 7 + tag);
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = ETYPE >> 8;
    f[13] = ETYPE & 0xff;
    f[14] = (uint8_t)(tag >> 24);
    f[15] = (uint8_t)(tag >> 16);
    f[16] = (uint8_t)(tag >> 8);
    f[17] = (uint8_t)tag;
    return len;
}

static uint32_t
tag_of(const uint8_t *f, int len)
{
    if (len < 18 || f[12] != ETYPE >> 8 || f[13] != (ETYPE & 0xff))
        return 0;
    return (uint32_t)f[14] << 24 | (uint32_t)f[15] << 16 |
           (uint32_t)f[16] << 8 | f[17];
}

/* The next frame of ours (or, with etype, of that EtherType) the
 * backend reads within ms: its length, or 0. */
static int
net_wait(struct hal_net *n, uint8_t *f, size_t cap, int ms, int etype)
{
    int64_t end = now_ms() + ms;

    for (;;) {
        int r = hal_net_recv(n, f, cap);
        int64_t left;

        if (r > 0) {
            if (etype ? (f[12] << 8 | f[13]) == etype : tag_of(f, r) != 0)
                return r;
            continue;
        }
        left = end - now_ms();
        if (r < 0 || left <= 0)
            return 0;
        hal_poll(NULL, n, (int)left);
    }
}

/* The next tagged frame the raw socket on IFB reads within ms. */
static int
raw_wait(uint8_t *f, size_t cap, int ms)
{
    int64_t end = now_ms() + ms;

    for (;;) {
        struct pollfd p = {.fd = raw, .events = POLLIN};
        int64_t left = end - now_ms();
        ssize_t r;

        if (left <= 0 || poll(&p, 1, (int)left) != 1)
            return 0;
        r = recv(raw, f, cap, MSG_DONTWAIT);
        if (r > 0 && tag_of(f, (int)r) != 0)
            return (int)r;
    }
}

static int
link_is(struct hal_net *n, int want)
{
    int64_t end = now_ms() + WAIT_MS;

    while (now_ms() < end) {
        if (hal_net_link(n) == want)
            return 1;
        hal_poll(NULL, NULL, 20);
    }
    return 0;
}

static void
test_open(struct hal_net *n, int gro_was)
{
    struct hal_net bad;
    const char *why = NULL;
    uint8_t want[6];
    char spec[32];

    UT_CASE("open: a missing interface is refused with a reason");
    UT_CHECK_EQ(hal_net_open(&bad, "packet:nosuch0", &why), -ENODEV);
    UT_CHECK(why != NULL && strstr(why, "no network interface") != NULL);
    UT_CHECK(bad.ops == NULL && bad.h == -1);

    UT_CASE("open: kind, DHCP, a MAC of its own, promiscuous, GRO off");
    snprintf(spec, sizeof(spec), "packet:%s", ifa);
    UT_CHECK_EQ(hal_net_open(n, spec, &why), 0);
    if (n->ops == NULL) {
        printf("    open: %s\n", why);
        return;
    }
    UT_CHECK(strcmp(n->kind, "packet") == 0 && strcmp(n->name, ifa) == 0);
    UT_CHECK_EQ(n->dhcp_default, 1);
    memcpy(want, mac_a, 6);
    want[0] = (uint8_t)((want[0] | 0x02) & ~0x01);
    want[5] ^= 0x01;
    UT_CHECK(memcmp(n->mac, want, 6) == 0);
    UT_CHECK(memcmp(n->mac, mac_a, 6) != 0);
    UT_CHECK_EQ(promiscuity(ifa), 1);
    if (gro_was == 1)
        UT_CHECK_EQ(gro(ifa, -1), 0);
    else
        printf("    GRO could not be turned on before: not checked\n");
    UT_CHECK(link_is(n, 1));
}

static void
test_frames(struct hal_net *n)
{
    int other = raw_open(ifa); /* another sender on IFA */
    uint8_t f[2048], g[2048];
    struct hal_net_stats st;
    size_t len;
    int r;

    UT_CASE("tx: a frame from the backend reaches IFB byte for byte");
    len = mkframe(f, 100, mac_b, n->mac, 1);
    UT_CHECK_EQ(hal_net_send(n, f, len), 0);
    r = raw_wait(g, sizeof(g), WAIT_MS);
    UT_CHECK_EQ(r, (int)len);
    UT_CHECK(r == (int)len && memcmp(f, g, len) == 0);
    UT_CHECK_EQ(n->st.tx_frames, 1);
    UT_CHECK_EQ(n->st.tx_bytes, len);

    UT_CASE("rx: what IFA sends is not read back (PACKET_OUTGOING)");
    /* Linux leaves the sending socket out by itself; what the kernel or
     * another socket sends on IFA comes in as PACKET_OUTGOING, and lwIP
     * must not take it for a frame from the wire. */
    UT_CHECK_EQ(net_wait(n, g, sizeof(g), QUIET_MS, 0), 0);
    UT_CHECK_EQ(n->st.rx_frames, 0);
    len = mkframe(f, 120, mac_b, n->mac, 7);
    UT_CHECK(other >= 0 && send(other, f, len, 0) == (ssize_t)len);
    r = raw_wait(g, sizeof(g), WAIT_MS); /* it did go out */
    UT_CHECK(r == (int)len && tag_of(g, r) == 7);
    UT_CHECK_EQ(net_wait(n, g, sizeof(g), QUIET_MS, 0), 0);
    UT_CHECK_EQ(n->st.rx_dropped, 1);
    UT_CHECK_EQ(n->st.rx_frames, 0);

    UT_CASE("rx: a frame to lwIP's MAC (not the kernel's) arrives whole");
    len = mkframe(f, 300, n->mac, mac_b, 2);
    UT_CHECK_EQ(send(raw, f, len, 0), (ssize_t)len);
    r = net_wait(n, g, sizeof(g), WAIT_MS, 0);
    UT_CHECK_EQ(r, (int)len);
    UT_CHECK(r == (int)len && memcmp(f, g, len) == 0);
    UT_CHECK_EQ(n->st.rx_frames, 1);
    UT_CHECK_EQ(n->st.rx_bytes, len);

    UT_CASE("rx: oversized frames and frames over cap dropped, counted");
    st = n->st;
    len = mkframe(f, HAL_NET_FRAME_MAX + 86, n->mac, mac_b, 3);
    UT_CHECK_EQ(send(raw, f, len, 0), (ssize_t)len);
    len = mkframe(f, HAL_NET_FRAME_MAX, n->mac, mac_b, 4);
    UT_CHECK_EQ(send(raw, f, len, 0), (ssize_t)len);
    r = net_wait(n, g, sizeof(g), WAIT_MS, 0);
    UT_CHECK_EQ(r, HAL_NET_FRAME_MAX);
    UT_CHECK_EQ(tag_of(g, r), 4);
    UT_CHECK_EQ(n->st.rx_dropped, st.rx_dropped + 1);
    len = mkframe(f, 200, n->mac, mac_b, 5);
    UT_CHECK_EQ(send(raw, f, len, 0), (ssize_t)len);
    len = mkframe(f, 64, n->mac, mac_b, 6);
    UT_CHECK_EQ(send(raw, f, len, 0), (ssize_t)len);
    r = net_wait(n, g, 100, WAIT_MS, 0);
    UT_CHECK_EQ(r, 64);
    UT_CHECK_EQ(tag_of(g, r), 6);
    UT_CHECK_EQ(n->st.rx_dropped, st.rx_dropped + 2);
    UT_CHECK_EQ(hal_net_send(n, f, HAL_NET_FRAME_MAX + 1), -EMSGSIZE);
    if (other >= 0)
        close(other);
}

static uint32_t
csum_add(uint32_t s, const uint8_t *b, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)b[i] << 8 | b[i + 1];
    if (len & 1)
        s += (uint32_t)b[len - 1] << 8;
    return s;
}

static uint16_t
csum_fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static void
test_kernel_peer(struct hal_net *n)
{
    struct arpreq ar;
    struct sockaddr_in *pa = (struct sockaddr_in *)&ar.arp_pa, to;
    uint8_t f[2048], pseudo[12];
    int u, r, ihl, ulen;

    UT_CASE("kernel peer: its UDP checksum is whole with tx off");
    if (!txoff) {
        UT_SKIP("ethtool is not installed: IFB's tx checksumming is on");
        return;
    }
    /* The kernel on IFB sends to NODE_IP at lwIP's MAC. */
    memset(&ar, 0, sizeof(ar));
    pa->sin_family = AF_INET;
    inet_pton(AF_INET, NODE_IP, &pa->sin_addr);
    ar.arp_ha.sa_family = ARPHRD_ETHER;
    memcpy(ar.arp_ha.sa_data, n->mac, 6);
    ar.arp_flags = ATF_PERM | ATF_COM;
    snprintf(ar.arp_dev, sizeof(ar.arp_dev), "%s", ifb);
    UT_CHECK(ioctl(sfd, SIOCSARP, &ar) == 0);
    u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    inet_pton(AF_INET, NODE_IP, &to.sin_addr);
    UT_CHECK(u >= 0 && sendto(u, "keel checksum probe", 19, 0,
                              (struct sockaddr *)&to, sizeof(to)) == 19);
    if (u >= 0)
        close(u);
    r = net_wait(n, f, sizeof(f), WAIT_MS, 0x0800);
    UT_CHECK(r >= 14 + 20 + 8 + 19);
    if (r < 14 + 20 + 8 + 19)
        return;
    ihl = (f[14] & 0x0f) * 4;
    UT_CHECK(f[14 + 9] == 17 && ihl >= 20);
    UT_CHECK_EQ(csum_fold(csum_add(0, f + 14, (size_t)ihl)), 0xffff);
    ulen = f[14 + ihl + 4] << 8 | f[14 + ihl + 5];
    UT_CHECK(ulen == 8 + 19 && 14 + ihl + ulen <= r);
    memcpy(pseudo, f + 14 + 12, 8); /* source and destination */
    pseudo[8] = 0;
    pseudo[9] = 17;
    pseudo[10] = (uint8_t)(ulen >> 8);
    pseudo[11] = (uint8_t)ulen;
    UT_CHECK_EQ(csum_fold(csum_add(csum_add(0, pseudo, 12), f + 14 + ihl,
                                   (size_t)ulen)),
                0xffff);
}

static void
test_link(struct hal_net *n)
{
    UT_CASE("link: follows the peer going down and up");
    UT_CHECK(set_up(ifb, 0) == 0);
    UT_CHECK(link_is(n, 0));
    UT_CHECK(set_up(ifb, 1) == 0);
    UT_CHECK(link_is(n, 1));
}

int
main(int argc, char **argv)
{
    struct hal_net n;
    int gro_was;

    ut_suite = "packet";
    if (argc > 2) {
        ifa = argv[1];
        ifb = argv[2];
    }
    txoff = argc > 3 && strcmp(argv[3], "txoff") == 0;
    n.h = -1;
    n.ops = NULL;
    sfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    raw = raw_open(ifb);
    UT_CASE("setup: a veth pair, a raw socket on its far end");
    UT_CHECK(sfd >= 0 && raw >= 0);
    UT_CHECK(hwaddr(ifa, mac_a) == 0 && hwaddr(ifb, mac_b) == 0);
    if (sfd < 0 || raw < 0)
        return ut_done();
    /* GRO on first, so that turning it off is seen */
    gro_was = gro(ifa, 1) == 1 ? gro(ifa, -1) : -1;

    test_open(&n, gro_was);
    if (n.ops != NULL) {
        test_frames(&n);
        test_kernel_peer(&n);
        test_link(&n);
        UT_CASE("close: promiscuous mode and GRO as they were");
        hal_net_close(&n);
        UT_CHECK_EQ(promiscuity(ifa), 0);
        if (gro_was >= 0)
            UT_CHECK_EQ(gro(ifa, -1), gro_was);
    }
    close(raw);
    close(sfd);
    return ut_done();
}
