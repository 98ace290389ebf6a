/*
 * net/netif.c - lwIP's Ethernet interface over the HAL link, addresses
 * (static or DHCP), settings, and net_start()/net_poll().
 *
 * Frames in: net_poll() takes at most NET_RX_BURST frames per call from
 * the link into PBUF_POOL pbufs (a full pool drops the frame, counted by
 * lwIP), so a flood cannot hold the loop.  Frames out: linkoutput copies
 * the pbuf chain into one buffer and hands it to the HAL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/clock.h"
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "net/net.h"
#include "net/peer.h"
#include "netif/ethernet.h"

#define NET_RX_BURST 64

static const char *const setting_names[] = {
#define NET_S_NAME(id, name, def, lo, hi) name,
    NET_SETTINGS(NET_S_NAME)
#undef NET_S_NAME
};
static const uint32_t setting_def[] = {
#define NET_S_DEF(id, name, def, lo, hi) def,
    NET_SETTINGS(NET_S_DEF)
#undef NET_S_DEF
};
static const uint32_t setting_lo[] = {
#define NET_S_LO(id, name, def, lo, hi) lo,
    NET_SETTINGS(NET_S_LO)
#undef NET_S_LO
};
static const uint32_t setting_hi[] = {
#define NET_S_HI(id, name, def, lo, hi) hi,
    NET_SETTINGS(NET_S_HI)
#undef NET_S_HI
};

const char *
net_setting_name(int s)
{
    return s >= 0 && s < NET_S_COUNT ? setting_names[s] : NULL;
}

const char *
net_reason_name(int r)
{
#define NET_R_TEXT(id, name) name,
    static const char *const t[] = {NET_REASONS(NET_R_TEXT)};
#undef NET_R_TEXT

    return r >= 0 && r < NET_R_COUNT ? t[r] : "unknown";
}

/* A decimal in [lo, hi]: 0 or -EINVAL. */
static int
parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    uint64_t v = 0;

    if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > hi)
            return -EINVAL;
    }
    if (v < lo)
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

static void
settings_load(struct net *n)
{
    for (int i = 0; i < NET_S_COUNT; i++) {
        char key[STORE_KEY_MAX + 1], v[16];
        int len;

        n->set[i] = setting_def[i];
        snprintf(key, sizeof(key), "net.%s", setting_names[i]);
        len = n->st ? store_get(n->st, key, v, sizeof(v) - 1) : -ENOENT;
        if (len <= 0)
            continue;
        v[len] = '\0';
        if (parse_u32(v, setting_lo[i], setting_hi[i], &n->set[i]) != 0) {
            n->set[i] = setting_def[i];
            net_logf(n, "net: setting %s: '%s' is not valid; using %u", key, v,
                     (unsigned)setting_def[i]);
        }
    }
}

int
net_setting_set(struct net *n, const char *name, const char *value,
                const char **why)
{
    static char msg[96];
    char key[STORE_KEY_MAX + 1];
    uint32_t v;
    int rc;

    if (n->st == NULL) {
        *why = "the store is not mounted";
        return -EROFS;
    }
    for (int i = 0; i < NET_S_COUNT; i++) {
        if (strcmp(name, setting_names[i]) != 0)
            continue;
        snprintf(key, sizeof(key), "net.%s", name);
        if (value == NULL) {
            rc = store_del(n->st, key);
            if (rc == 0 || rc == -ENOENT)
                n->set[i] = setting_def[i];
            return rc == -ENOENT ? 0 : rc;
        }
        if (parse_u32(value, setting_lo[i], setting_hi[i], &v) != 0) {
            snprintf(msg, sizeof(msg), "%s takes a whole number from %u to %u",
                     name, (unsigned)setting_lo[i], (unsigned)setting_hi[i]);
            *why = msg;
            return -EINVAL;
        }
        rc = store_put(n->st, key, value, strlen(value));
        if (rc == 0)
            n->set[i] = v;
        return rc;
    }
    *why = "no such setting (see 'net config')";
    return -ENOENT;
}

static int
parse_ip4(const char *s, ip4_addr_t *a)
{
    return ip4addr_aton(s, a) ? 0 : -EINVAL;
}

int
net_addr_set(struct net *n, const char *ip, const char *mask, const char *gw,
             const char **why)
{
    ip4_addr_t a, m, g;
    struct store_entry e[3];
    int rc;

    if (n->st == NULL) {
        *why = "the store is not mounted";
        return -EROFS;
    }
    if (parse_ip4(ip, &a) != 0 || ip4_addr_isany_val(a)) {
        *why = "the address is not a dotted IPv4 address";
        return -EINVAL;
    }
    if (parse_ip4(mask, &m) != 0 || !ip4_addr_netmask_valid(m.addr)) {
        *why = "the mask is not a valid netmask";
        return -EINVAL;
    }
    if (gw != NULL && parse_ip4(gw, &g) != 0) {
        *why = "the gateway is not a dotted IPv4 address";
        return -EINVAL;
    }
    memset(e, 0, sizeof(e));
    e[0].key = "net.ip";
    e[0].val = ip;
    e[0].len = strlen(ip);
    e[1].key = "net.mask";
    e[1].val = mask;
    e[1].len = strlen(mask);
    e[2].key = "net.gw";
    e[2].val = gw ? gw : "";
    e[2].len = gw ? strlen(gw) : 0;
    e[2].del = gw == NULL;
    rc = store_commit(n->st, e, 3);
    if (rc == -ENOENT && gw == NULL) {
        e[2].del = 0; /* nothing to delete: commit the two */
        rc = store_commit(n->st, e, 2);
    }
    if (rc != 0)
        return rc;
    if (n->up) {
        if (n->dhcp)
            dhcp_release_and_stop(&n->nif);
        n->dhcp = 0;
        netif_set_addr(&n->nif, &a, &m, gw ? &g : IP4_ADDR_ANY4);
        if (strncmp(n->why, "no address", 10) == 0)
            n->why[0] = '\0';
    }
    return 0;
}

int
net_dhcp_set(struct net *n)
{
    struct store_entry e[3];
    int rc;

    if (n->st == NULL)
        return -EROFS;
    memset(e, 0, sizeof(e));
    e[0].key = "net.ip";
    e[1].key = "net.mask";
    e[2].key = "net.gw";
    e[0].del = e[1].del = e[2].del = 1;
    rc = store_commit(n->st, e, 3);
    if (rc != 0 && rc != -ENOENT)
        return rc;
    /* some may be missing: delete one by one */
    for (int i = 0; rc == -ENOENT && i < 3; i++)
        (void)store_del(n->st, e[i].key);
    if (n->up && !n->dhcp) {
        netif_set_addr(&n->nif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
        n->dhcp = dhcp_start(&n->nif) == ERR_OK;
        if (strncmp(n->why, "no address", 10) == 0)
            n->why[0] = '\0';
    }
    return 0;
}

/* A stored address: 0 with *a set, or -ENOENT. */
static int
stored_ip(struct net *n, const char *key, ip4_addr_t *a)
{
    char v[20];
    int len = n->st ? store_get(n->st, key, v, sizeof(v) - 1) : -ENOENT;

    if (len <= 0)
        return -ENOENT;
    v[len] = '\0';
    return parse_ip4(v, a) == 0 ? 0 : -ENOENT;
}

static err_t
linkoutput(struct netif *nif, struct pbuf *p)
{
    struct net *n = nif->state;

    if (p->tot_len > sizeof(n->frame)) {
        n->hw.st.tx_dropped++;
        return ERR_OK;
    }
    pbuf_copy_partial(p, n->frame, p->tot_len, 0);
    return hal_net_send(&n->hw, n->frame, p->tot_len) == 0 ? ERR_OK : ERR_IF;
}

static err_t
nif_init(struct netif *nif)
{
    struct net *n = nif->state;

    nif->name[0] = 'k';
    nif->name[1] = 'w';
    nif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(nif->hwaddr, n->hw.mac, ETH_HWADDR_LEN);
    nif->mtu = HAL_NET_MTU;
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    nif->output = etharp_output;
    nif->linkoutput = linkoutput;
    return ERR_OK;
}

int
net_start(struct net *n, const char *spec, struct store *st,
          struct identity *id)
{
    const char *why = "";
    ip4_addr_t a, m, g;
    int rc;

    n->st = st;
    n->id = id;
    for (int i = 0; i < DIAL_MAX; i++)
        n->dial[i].link = -1;
    for (int i = 0; i < NET_LINKS; i++)
        n->link[i].net = n;
    settings_load(n);
    peer_load(n);
    rc = hal_net_open(&n->hw, spec, &why);
    if (rc != 0) {
        snprintf(n->why, sizeof(n->why), "%s", why);
        return rc;
    }
    if (netif_add(&n->nif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, n,
                  nif_init, ethernet_input) == NULL) {
        snprintf(n->why, sizeof(n->why), "lwIP refused the interface");
        hal_net_close(&n->hw);
        return -EIO;
    }
    netif_set_default(&n->nif);
    netif_set_up(&n->nif);
    if (hal_net_link(&n->hw))
        netif_set_link_up(&n->nif);
    n->up = 1;
    if (stored_ip(n, "net.ip", &a) == 0 && stored_ip(n, "net.mask", &m) == 0) {
        if (stored_ip(n, "net.gw", &g) != 0)
            ip4_addr_set_zero(&g);
        netif_set_addr(&n->nif, &a, &m, &g);
    } else if (n->hw.dhcp_default) {
        n->dhcp = dhcp_start(&n->nif) == ERR_OK;
    } else {
        snprintf(n->why, sizeof(n->why),
                 "no address: set one with 'net config ip ADDR/MASK' or "
                 "'net config dhcp'");
    }
    rc = net_tls_configure(n);
    if (rc == 0)
        rc = peer_listen(n);
    return rc;
}

void
net_poll(struct net *n)
{
    if (n != NULL && n->up) {
        int link = hal_net_link(&n->hw);

        if (link && !netif_is_link_up(&n->nif))
            netif_set_link_up(&n->nif);
        else if (!link && netif_is_link_up(&n->nif))
            netif_set_link_down(&n->nif);
        for (int i = 0; i < NET_RX_BURST; i++) {
            int len = hal_net_recv(&n->hw, n->frame, sizeof(n->frame));
            struct pbuf *p;

            if (len <= 0)
                break;
            p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
            if (p == NULL) {
                n->hw.st.rx_dropped++;
                continue;
            }
            pbuf_take(p, n->frame, (u16_t)len);
            if (n->nif.input(p, &n->nif) != ERR_OK)
                pbuf_free(p);
        }
    }
    netif_poll_all();
    sys_check_timeouts();
    if (n != NULL && n->up)
        peer_tick(n);
}

void
net_mem(size_t *used, size_t *max, size_t *avail)
{
    *used = lwip_stats.mem.used;
    *max = lwip_stats.mem.max;
    *avail = lwip_stats.mem.avail;
}
