/*
 * tests/fuzz/mkseed_ymodem.c - write seed inputs for fuzz_ymodem:
 * sessions as lrzsz's sb sends them, in fuzz_ymodem's step format
 * (tests/fuzz/fuzz_ymodem.c): 128-byte blocks; 1K blocks with a
 * 128-byte tail; and one with a bad CRC, a pause for the NAK, the
 * retransmission and a duplicate.  Usage: mkseed_ymodem DIR
 */
#include <stdio.h>
#include <string.h>

#include "console/ymodem.h"

static uint8_t out[16384];
static size_t n;

/* Bytes on the wire, as feed steps of at most 64. */
static void
wire(const uint8_t *p, size_t len)
{
    while (len > 0) {
        size_t k = len < 64 ? len : 64;

        out[n++] = (uint8_t)(k - 1 + 64); /* 1 ms after the last step */
        memcpy(out + n, p, k);
        n += k;
        p += k;
        len -= k;
    }
}

/* Time passing with nothing on the wire. */
static void
pause_ms(unsigned ms)
{
    for (; ms >= 400; ms -= 400)
        out[n++] = 0xe1;
}

static void
frame(uint8_t num, const uint8_t *d, size_t len, size_t blk, int bad)
{
    uint8_t f[YMODEM_FRAME_MAX];
    uint16_t crc;

    f[0] = blk == 128 ? YMODEM_SOH : YMODEM_STX;
    f[1] = num;
    f[2] = (uint8_t)~num;
    memcpy(f + 3, d, len);
    memset(f + 3 + len, YMODEM_PAD, blk - len);
    crc = ymodem_crc16(0, f + 3, blk);
    f[3 + blk] = (uint8_t)(crc >> 8);
    f[4 + blk] = (uint8_t)(crc ^ (bad ? 1 : 0));
    wire(f, blk + 5);
}

static void
header(const char *name, const char *size)
{
    uint8_t b[128] = {0};

    memcpy(b, name, strlen(name));
    memcpy(b + strlen(name) + 1, size, strlen(size));
    frame(0, b, 128, 128, 0);
}

static void
end(void)
{
    static const uint8_t eot[1] = {YMODEM_EOT};
    static const uint8_t none[128];

    wire(eot, 1);
    wire(eot, 1);
    frame(0, none, 128, 128, 0);
}

static int
save(const char *dir, const char *name)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(out, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        return 1;
    }
    n = 0;
    return 0;
}

int
main(int argc, char **argv)
{
    uint8_t d[3000];
    int rc = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: mkseed_ymodem DIR\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof(d); i++)
        d[i] = (uint8_t)(i * 7 + i / 5);

    out[n++] = 0x01; /* limit 513 */
    header("a.bin", "300 14573123 100644 0 1 300");
    frame(1, d, 128, 128, 0);
    frame(2, d + 128, 128, 128, 0);
    frame(3, d + 256, 44, 128, 0);
    end();
    rc |= save(argv[1], "sb-128");

    out[n++] = 0x05; /* limit 2561 */
    header("bundle.kbn", "2100");
    frame(1, d, 1024, 1024, 0);
    frame(2, d + 1024, 1024, 1024, 0);
    frame(3, d + 2048, 52, 128, 0);
    end();
    rc |= save(argv[1], "sb-1k");

    out[n++] = 0x01;
    header("r.bin", "200");
    frame(1, d, 128, 128, 1); /* bad CRC: NAK after the line clears */
    pause_ms(400);
    frame(1, d, 128, 128, 0);
    frame(1, d, 128, 128, 0); /* our ACK lost: again */
    frame(2, d + 128, 72, 128, 0);
    end();
    rc |= save(argv[1], "retry");
    return rc;
}
