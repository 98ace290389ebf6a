/*
 * node/http.c - the metrics page over HTTP: `GET /metrics` on the port
 * the setting net.metrics_port names (0, the default: off), on lwIP's
 * plain TCP.  One client at a time (another is reset), a request of at
 * most HTTP_REQ_MAX bytes read within HTTP_TIMEOUT_S, the page rendered
 * into a fixed buffer, the connection closed after the answer.  Nothing
 * here changes the device; the page holds no secret.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/klog.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/tcp.h"
#include "node/http.h"
#include "node/node.h"

static void
page_out(void *arg, const char *s, size_t n)
{
    struct node_http *h = arg;

    if (h->page_len + n > sizeof(h->page))
        n = sizeof(h->page) - h->page_len;
    memcpy(h->page + h->page_len, s, n);
    h->page_len += n;
}

static void
client_end(struct node_http *h)
{
    struct altcp_pcb *c = h->client;

    if (c == NULL)
        return;
    h->client = NULL;
    net_pcb_close(c);
}

static void
pump(struct node_http *h)
{
    while (h->client != NULL && h->sent < h->page_len) {
        size_t k = altcp_sndbuf(h->client);

        if (k == 0)
            return;
        if (k > h->page_len - h->sent)
            k = h->page_len - h->sent;
        if (k > 0xffff)
            k = 0xffff;
        if (altcp_write(h->client, h->page + h->sent, (u16_t)k,
                        TCP_WRITE_FLAG_COPY) != ERR_OK)
            return;
        h->sent += k;
    }
    if (h->client != NULL) {
        altcp_output(h->client);
        if (h->sent >= h->page_len)
            client_end(h);
    }
}

/* The request is whole: render the answer. */
static void
answer(struct node_http *h)
{
    struct cmd_ctx ctx = {.write = page_out, .write_arg = h, .node = h->node};
    char head[160];
    size_t body;

    h->page_len = 0;
    if (strncmp(h->req, "GET /metrics ", 13) == 0 ||
        strncmp(h->req, "GET /metrics\r", 13) == 0) {
        /* the body first, after room for the head */
        h->page_len = sizeof(head);
        node_metrics(&ctx, 0, NULL);
        body = h->page_len - sizeof(head);
        snprintf(head, sizeof(head),
                 "HTTP/1.0 200 OK\r\nContent-Type: text/plain; "
                 "version=0.0.4\r\nContent-Length: %zu\r\n\r\n",
                 body);
        memmove(h->page + strlen(head), h->page + sizeof(head), body);
        memcpy(h->page, head, strlen(head));
        h->page_len = strlen(head) + body;
        h->served++;
    } else {
        static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Length: "
                                 "21\r\n\r\nonly GET /metrics is\n";
        memcpy(h->page, nf, sizeof(nf) - 1);
        h->page_len = sizeof(nf) - 1;
        h->refused++;
    }
    h->sent = 0;
    pump(h);
}

static err_t
cb_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct node_http *h = arg;

    (void)err;
    if (h == NULL || pcb != h->client) {
        if (p != NULL)
            pbuf_free(p);
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    if (p == NULL) {
        client_end(h);
        return ERR_OK;
    }
    if (h->page_len == 0) {
        size_t k = p->tot_len;

        if (h->req_len + k > HTTP_REQ_MAX)
            k = HTTP_REQ_MAX - h->req_len;
        pbuf_copy_partial(p, h->req + h->req_len, (u16_t)k, 0);
        h->req_len += k;
        h->req[h->req_len] = '\0';
    }
    altcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (h->page_len == 0 && strstr(h->req, "\r\n\r\n") != NULL)
        answer(h);
    else if (h->page_len == 0 && h->req_len >= HTTP_REQ_MAX)
        client_end(h); /* too long: no answer */
    return ERR_OK;
}

static err_t
cb_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    if (arg != NULL)
        pump(arg);
    return ERR_OK;
}

static err_t
cb_poll(void *arg, struct altcp_pcb *pcb)
{
    struct node_http *h = arg;

    (void)pcb;
    if (h != NULL && ++h->polls >= 2 * HTTP_TIMEOUT_S)
        client_end(h);
    return ERR_OK;
}

static void
cb_err(void *arg, err_t err)
{
    struct node_http *h = arg;

    (void)err;
    if (h != NULL)
        h->client = NULL;
}

static err_t
cb_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct node_http *h = arg;

    if (err != ERR_OK || pcb == NULL)
        return ERR_VAL;
    if (h->client != NULL) { /* one at a time */
        h->refused++;
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    h->client = pcb;
    h->req_len = 0;
    h->page_len = 0;
    h->sent = 0;
    h->polls = 0;
    altcp_arg(pcb, h);
    altcp_recv(pcb, cb_recv);
    altcp_sent(pcb, cb_sent);
    altcp_err(pcb, cb_err);
    altcp_poll(pcb, cb_poll, 1); /* every 0.5 s */
    return ERR_OK;
}

void
node_http_tick(struct node *node)
{
    struct node_http *h = &node->http;
    uint32_t want = node->net.up ? node->net.set[NET_S_METRICS_PORT] : 0;
    struct altcp_pcb *pcb, *lp;

    if (want == h->port)
        return;
    client_end(h);
    if (h->listener != NULL) {
        altcp_close(h->listener);
        h->listener = NULL;
    }
    h->port = want;
    h->node = node;
    if (want == 0)
        return;
    pcb = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
    if (pcb == NULL || altcp_bind(pcb, IP4_ADDR_ANY, (u16_t)want) != ERR_OK ||
        (lp = altcp_listen_with_backlog(pcb, 1)) == NULL) {
        if (pcb != NULL)
            altcp_close(pcb);
        klog(KLOG_WARN, "metrics: cannot listen on port %u", (unsigned)want);
        return;
    }
    altcp_arg(lp, h);
    altcp_accept(lp, cb_accept);
    h->listener = lp;
    klog(KLOG_INFO, "metrics: GET /metrics served on port %u", (unsigned)want);
}
