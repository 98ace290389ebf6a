/*
 * tests/bench/log_bench.c - the log ring's append cost (make bench):
 * records of a typical length (60 bytes of text, like "net: link 3 to
 * 10.77.0.2:7950 up ...") appended to a 1 MiB ring on the memory sim
 * flash, each programmed and synced as on a device, wrapping it four
 * times; then 2,000 on a file-backed sim flash (argv[1]), where each
 * append's sync reaches the disk as on the sim board.  Prints
 *   bench log.append_per_s            records a second (memory flash)
 *   bench log.append_file_per_s       records a second (file, synced)
 *   bench log.write_amplification     flash bytes programmed + erased per
 *                                     byte of text logged
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim/flash_sim.h"
#include "store/logring.h"

#define SIZE (1024u * 1024)
#define N 60000

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n appends; the seconds they took, or < 0. */
static double
appends(struct logring *lr, int n, uint64_t *text_bytes)
{
    char text[64];
    double t0 = now_s();

    for (int i = 0; i < n; i++) {
        snprintf(text, sizeof(text),
                 "net: link %5d to 10.77.0.2:7950 up (fingerprint %08x)", i,
                 (unsigned)i * 2654435761u);
        *text_bytes += strlen(text);
        if (logring_append(lr, LOG_INFO, 1767225600, text) != 0)
            return -1;
    }
    return now_s() - t0;
}

int
main(int argc, char **argv)
{
    static const struct sim_flash_geom g = {SIZE, 4096, 16, 0xff};
    static struct sim_flash dev;
    static struct logring lr;
    struct hal_flash part;
    uint64_t text_bytes = 0, file_bytes = 0;
    double t;

    sim_flash_open_mem(&dev, &g);
    sim_flash_partition(&dev, &part, "log", 0, SIZE);
    if (logring_mount(&lr, &part, 0) != 0 ||
        (t = appends(&lr, N, &text_bytes)) < 0)
        return 1;
    printf("bench log.append_per_s %.0f\n", N / t);
    printf("bench log.write_amplification %.2f\n",
           (double)(dev.stats.bytes_prog + dev.stats.bytes_erased) /
               (double)text_bytes);
    printf("bench log.erases %" PRIu64 "\n", lr.erases);
    sim_flash_close(&dev);
    if (argc > 1) {
        if (sim_flash_open(&dev, argv[1], &g, 1) != 0)
            return 1;
        sim_flash_partition(&dev, &part, "log", 0, SIZE);
        if (logring_mount(&lr, &part, 0) != 0 ||
            (t = appends(&lr, 2000, &file_bytes)) < 0)
            return 1;
        printf("bench log.append_file_per_s %.0f\n", 2000 / t);
        sim_flash_close(&dev);
    }
    return 0;
}
