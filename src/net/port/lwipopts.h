/*
 * lwipopts.h - keel's lwIP 2.1.3 options.
 *
 * One thread, no OS (NO_SYS=1): the node's event loop polls the netifs
 * and calls sys_check_timeouts().  Memory comes from lwIP's own static
 * heap and pools, sized here; nothing is taken from malloc.  mbedTLS
 * allocates from the same heap (src/net/tls.c).  Every option
 * has a default under #ifndef so a board can override it from its
 * board.mk (-D) without editing this file.
 */
#ifndef KEEL_LWIPOPTS_H
#define KEEL_LWIPOPTS_H

#define NO_SYS 1
#define LWIP_TIMERS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0

#ifndef MEM_ALIGNMENT
#define MEM_ALIGNMENT 8
#endif
#ifndef MEM_SIZE
/* Packets and mbedTLS state: 16 links up take about 20 KiB each
 * (docs/BENCH.md, net.ram_per_link_bytes). */
#define MEM_SIZE (768 * 1024)
#endif
#ifndef PBUF_POOL_SIZE
#define PBUF_POOL_SIZE 64
#endif
#ifndef MEMP_NUM_TCP_PCB
#define MEMP_NUM_TCP_PCB 48 /* 32 links, closing ones, slack */
#endif
#ifndef MEMP_NUM_TCP_PCB_LISTEN
#define MEMP_NUM_TCP_PCB_LISTEN 4
#endif
#ifndef MEMP_NUM_UDP_PCB
#define MEMP_NUM_UDP_PCB 4
#endif
#ifndef MEMP_NUM_ALTCP_PCB
#define MEMP_NUM_ALTCP_PCB (2 * MEMP_NUM_TCP_PCB + 4) /* TLS + TCP */
#endif

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define DHCP_DOES_ARP_CHECK 0
#define LWIP_DNS 0
#define LWIP_IGMP 0

#define LWIP_HAVE_LOOPIF 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_LOOPBACK_MAX_PBUFS 8

#ifndef TCP_MSS
#define TCP_MSS 1460
#endif
/* 24 MSS: bulk on a link doubled from 12 (docs/BENCH.md); 40 gave no
 * more. */
#ifndef TCP_WND
#define TCP_WND (24 * TCP_MSS)
#endif
#ifndef TCP_SND_BUF
#define TCP_SND_BUF (24 * TCP_MSS)
#endif
#ifndef MEMP_NUM_TCP_SEG
#define MEMP_NUM_TCP_SEG 256
#endif
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define LWIP_TCP_KEEPALIVE 0

#define LWIP_ALTCP 1
#define LWIP_ALTCP_TLS 1
#define LWIP_ALTCP_TLS_MBEDTLS 1

/* Counters for `net status` and the leak checks of the tests: the
 * heap's use and high-water mark, pools, TCP. */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define MEM_STATS 1
#define MEMP_STATS 1
#define TCP_STATS 1
#define LINK_STATS 1
#define ETHARP_STATS 0
#define IP_STATS 0
#define IPFRAG_STATS 0
#define ICMP_STATS 0
#define UDP_STATS 0
#define SYS_STATS 0
#define LWIP_NETIF_STATUS_CALLBACK 0

#endif
