/*
 * tests/fuzz/mkseed_sync.c - the seed for fuzz_sync: a HELLO_ACK
 * advertising a minted testnet chain's tip, then the chain's last 54
 * trailers as one SEND_FILE packet, as an honest peer answers a proof
 * request.  Usage: mkseed_sync TFILE OUT (the first byte of OUT picks
 * the fuzzer's piece size).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/mpkt.h"
#include "sync/sync.h"

int
main(int argc, char **argv)
{
    static uint8_t tf[SYNC_PROOF * TRAILER_LEN * 40], out[20000];
    struct mpkt h;
    size_t n, o = 1;
    FILE *f;

    if (argc != 3 || (f = fopen(argv[1], "rb")) == NULL)
        return 2;
    n = fread(tf, 1, sizeof(tf), f) / TRAILER_LEN;
    fclose(f);
    if (n < SYNC_PROOF)
        return 2;
    memset(&h, 0, sizeof(h));
    h.version = MPKT_VERSION;
    h.net = MPKT_NET;
    h.op = MOP_HELLO_ACK;
    h.cblock = n - 1;
    memcpy(h.cblockhash, tf + (n - 1) * TRAILER_LEN + 128, 32);
    out[0] = 3;
    o += mpkt_encode(out + o, &h, NULL);
    h.op = MOP_SEND_FILE;
    h.len = SYNC_PROOF * TRAILER_LEN;
    o += mpkt_encode(out + o, &h, tf + (n - SYNC_PROOF) * TRAILER_LEN);
    if ((f = fopen(argv[2], "wb")) == NULL || fwrite(out, 1, o, f) != o)
        return 1;
    return fclose(f) != 0;
}
