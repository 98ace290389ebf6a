/*
 * arch/cc.h - lwIP's compiler and platform port for keel.
 *
 * Diagnostics and assertions go to src/net/lwip_port.c, which logs them
 * through the node; random numbers (TCP ISNs, ports) come from the HAL
 * rng.  Byte order is the compiler's.
 */
#ifndef KEEL_LWIP_ARCH_CC_H
#define KEEL_LWIP_ARCH_CC_H

#include <stdint.h>
#include <stdlib.h>

void keel_lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void keel_lwip_assert(const char *msg, const char *file, int line);
uint32_t keel_lwip_rand(void);

#define LWIP_PLATFORM_DIAG(x)                                                  \
    do {                                                                       \
        keel_lwip_diag x;                                                      \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x) keel_lwip_assert((x), __FILE__, __LINE__)
#define LWIP_RAND() keel_lwip_rand()

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BYTE_ORDER LITTLE_ENDIAN
#else
#define BYTE_ORDER BIG_ENDIAN
#endif

#endif
