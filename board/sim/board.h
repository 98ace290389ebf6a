/*
 * board/sim/board.h - the sim board: a host process with a 128 MiB
 * NOR-like flash in a file (4 KiB erase blocks, 16-byte program unit).
 *
 * BOARD_PARTITIONS lists the flash layout as X-macro rows
 * P(name, offset, size, use), offsets and sizes in bytes, erase-aligned.
 * use is RECORDS (program-once structures, raw flash rules on every
 * backend) or IMAGE (an update slot: on a block device it is written in
 * place and synced once, hal/flash.h HAL_FLASH_BLOCK).
 */
#ifndef BOARD_SIM_BOARD_H
#define BOARD_SIM_BOARD_H

#define BOARD_NAME "sim"

#define BOARD_FLASH_SIZE (128u * 1024 * 1024)
#define BOARD_FLASH_ERASE 4096u
#define BOARD_FLASH_PROG 16u
#define BOARD_FLASH_ERASED 0xff

/* bootctl: two erase blocks, one per copy of boot control.
 * store:   record store (keys, config, counters), ~2 MiB.
 * log:     the log ring, 1 MiB.
 * chain:   the tfile, 29 MiB (176-byte slots: about 172,000 trailers).
 * slot_a, slot_b: update slots, 48 MiB each. */
#define BOARD_PARTITIONS(P)                                                    \
    P(bootctl, 0x0000000, 0x0002000, RECORDS)                                  \
    P(store, 0x0002000, 0x01fe000, RECORDS)                                    \
    P(log, 0x0200000, 0x0100000, RECORDS)                                      \
    P(chain, 0x0300000, 0x1d00000, RECORDS)                                    \
    P(slot_a, 0x2000000, 0x3000000, IMAGE)                                     \
    P(slot_b, 0x5000000, 0x3000000, IMAGE)

#endif
