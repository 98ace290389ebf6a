/*
 * node/http.h - the metrics page over HTTP (node/http.c): its state,
 * part of the node's one allocation.
 */
#ifndef NODE_HTTP_H
#define NODE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_REQ_MAX 1024
#define HTTP_TIMEOUT_S 5
#define HTTP_PAGE_MAX (48 * 1024)

struct altcp_pcb;
struct node;

struct node_http {
    struct node *node;
    struct altcp_pcb *listener, *client;
    uint32_t port; /* listening on, 0: off */
    char req[HTTP_REQ_MAX + 1];
    size_t req_len;
    char page[HTTP_PAGE_MAX];
    size_t page_len, sent;
    int polls;
    uint64_t served, refused;
};

#endif
