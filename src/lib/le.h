/* lib/le.h - explicit little-endian loads and stores (no struct casts),
 * and the all-zero check the codecs use on reserved bytes.  Leaf
 * library: every module reads integers through these, none of them
 * depends on anything. */
#ifndef LIB_LE_H
#define LIB_LE_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t
lib_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
lib_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline void
lib_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void
lib_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint64_t
lib_le64(const uint8_t *p)
{
    return (uint64_t)lib_le32(p) | (uint64_t)lib_le32(p + 4) << 32;
}

static inline void
lib_put64(uint8_t *p, uint64_t v)
{
    lib_put32(p, (uint32_t)v);
    lib_put32(p + 4, (uint32_t)(v >> 32));
}

/* 1 when all n bytes are zero.  Runs in time independent of the data, so
 * it may look at key material. */
static inline int
lib_bytes_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;

    while (n--)
        acc |= *p++;
    return acc == 0;
}

#endif
