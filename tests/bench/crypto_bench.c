/*
 * tests/bench/crypto_bench.c - keel's crypto layer, built as the
 * firmware is (musl, -Os, the same BearSSL), measured: SHA-256
 * throughput, ECDSA P-256 signatures and verifications per second.
 *
 * Each figure runs for at least BENCH_MS milliseconds (default 1000, or
 * argv[1]) and a bounded number of rounds, and prints one line
 * "bench crypto.NAME VALUE".  tests/bench/crypto.sh runs `openssl
 * speed` beside it and prints the ratios.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "hal/clock.h"

static volatile uint8_t sink;

int
main(int argc, char **argv)
{
    static uint8_t buf[16384];
    uint64_t ms = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000, t0, t;
    struct crypto_drbg d;
    struct crypto_eckey k;
    uint8_t h[32], sig[CRYPTO_SIG_MAX];
    uint64_t n;
    int sl;

    memset(buf, 0xa5, sizeof(buf));
    /* SHA-256 over 16 KiB blocks, streaming (as bundle chunks are). */
    {
        struct crypto_sha256 c;

        crypto_sha256_init(&c);
        t0 = hal_clock_ms();
        for (n = 0; n < 1000000; n++) {
            crypto_sha256_update(&c, buf, sizeof(buf));
            if ((n & 63) == 63 && hal_clock_ms() - t0 >= ms)
                break;
        }
        crypto_sha256_final(&c, h);
        sink = h[0];
        t = hal_clock_ms() - t0;
        printf("bench crypto.sha256_mb_per_s %.1f\n",
               (double)(n + 1) * sizeof(buf) / 1e6 / ((double)t / 1e3));
    }

    if (crypto_drbg_init(&d, "bench", 5) != 0 || crypto_ec_keygen(&d, &k))
        return 1;
    crypto_sha256("bench", 5, h);
    t0 = hal_clock_ms();
    for (n = 0; n < 100000; n++) {
        h[0] = (uint8_t)n; /* a new digest each time: no caching */
        sl = crypto_ec_sign(&k, h, sig);
        if (sl < 0)
            return 1;
        if (hal_clock_ms() - t0 >= ms)
            break;
    }
    t = hal_clock_ms() - t0;
    printf("bench crypto.ecdsa_sign_per_s %.0f\n",
           (double)(n + 1) / ((double)t / 1e3));

    t0 = hal_clock_ms();
    for (n = 0; n < 100000; n++) {
        if (crypto_ec_verify(k.pub, h, sig, (size_t)sl) != CRYPTO_VERIFIED)
            return 1;
        if (hal_clock_ms() - t0 >= ms)
            break;
    }
    t = hal_clock_ms() - t0;
    printf("bench crypto.ecdsa_verify_per_s %.0f\n",
           (double)(n + 1) / ((double)t / 1e3));
    return 0;
}
