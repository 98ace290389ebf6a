/*
 * net/trust.h - the peer trust list and the dial list, as records.
 *
 * The trust list holds the SPKI SHA-256 fingerprints of the keel nodes
 * this node links with (docs/FORMAT.md "Peer trust list", store key
 * peer.trust).  An entry added because a trusted node rotated its key
 * names nothing else; the old entry it came from gets a retirement time
 * (the end of the rotation's overlap window): after it, that key alone
 * is refused.  The dial list (peer.dial) holds the addresses the node
 * keeps links to (`peer connect`).
 *
 * Pure codecs: no I/O, no allocation.  Decoders take untrusted bytes and
 * check every length and the CRC-32C; they return 0 or -EBADMSG.
 */
#ifndef NET_TRUST_H
#define NET_TRUST_H

#include <stddef.h>
#include <stdint.h>

#define TRUST_KEY "peer.trust"
#define TRUST_MAX 64
#define TRUST_FP_LEN 32
#define TRUST_ENTRY_LEN 56
#define TRUST_REC_MAX (8 + TRUST_MAX * TRUST_ENTRY_LEN + 4)

#define TRUST_F_ROTATED 1u /* added through a rotation statement */

struct trust_entry {
    uint8_t fp[TRUST_FP_LEN];
    int64_t added;     /* Unix seconds (0: clock unset) */
    int64_t retire_at; /* 0, or when this key alone stops counting */
    uint8_t flags;     /* TRUST_F_* */
};

struct trust_list {
    unsigned n;
    struct trust_entry e[TRUST_MAX];
};

int trust_decode(const uint8_t *b, size_t len, struct trust_list *t);
/* The record's length (at most TRUST_REC_MAX). */
size_t trust_encode(const struct trust_list *t, uint8_t out[TRUST_REC_MAX]);
/* The entry's index, or -1. */
int trust_find(const struct trust_list *t, const uint8_t fp[TRUST_FP_LEN]);
/* 0, -EEXIST (already there; its fields are left), -ENOSPC. */
int trust_add(struct trust_list *t, const uint8_t fp[TRUST_FP_LEN], int64_t now,
              uint8_t flags);
/* 0 or -ENOENT. */
int trust_remove(struct trust_list *t, const uint8_t fp[TRUST_FP_LEN]);

#define DIAL_KEY "peer.dial"
#define DIAL_MAX 16
#define DIAL_REC_MAX (8 + DIAL_MAX * 8 + 4)

struct dial_entry {
    uint8_t ip[4]; /* IPv4, network order */
    uint16_t port;
};

struct dial_list {
    unsigned n;
    struct dial_entry e[DIAL_MAX];
};

int dial_decode(const uint8_t *b, size_t len, struct dial_list *d);
size_t dial_encode(const struct dial_list *d, uint8_t out[DIAL_REC_MAX]);
int dial_find(const struct dial_list *d, const uint8_t ip[4], uint16_t port);

/* "HOST[:PORT]" with HOST a dotted IPv4 address: 0 or -EINVAL. */
int dial_parse(const char *s, uint16_t default_port, struct dial_entry *out);

#endif
