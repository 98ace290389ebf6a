/*
 * board/qemu-aarch64/board.h - QEMU's aarch64 virt machine (cortex-a53)
 * with a virtio disk as its flash: the first 256 MiB of /dev/vda, 4 KiB
 * erase blocks (emulated by the blk backend), 512-byte program unit (one
 * disk sector).  docs/BOARDS.md gives the image byte by byte.
 *
 * BOARD_PARTITIONS lists the flash layout as X-macro rows
 * P(name, offset, size, use), offsets and sizes in bytes, erase-aligned;
 * use is RECORDS (program-once structures: a RAW partition) or IMAGE (an
 * update slot: a BLOCK partition, written in place), hal/linux/blk.h.
 */
#ifndef BOARD_QEMU_AARCH64_BOARD_H
#define BOARD_QEMU_AARCH64_BOARD_H

#define BOARD_NAME "qemu-aarch64"

#define BOARD_FLASH_SIZE (256u * 1024 * 1024)
#define BOARD_FLASH_ERASE 4096u
#define BOARD_FLASH_PROG 512u
#define BOARD_FLASH_ERASED 0xff

/* bootctl: two erase blocks, one per copy of boot control.
 * store:   record store (keys, config, counters), ~2 MiB.
 * log:     the log ring, 1 MiB.
 * chain:   the tfile, 29 MiB (about 190,000 trailers).
 * slot_a, slot_b: update slots, 112 MiB each (a 64 MiB image fits with
 *          room to grow). */
#define BOARD_PARTITIONS(P)                                                    \
    P(bootctl, 0x0000000, 0x0002000, RECORDS)                                  \
    P(store, 0x0002000, 0x01fe000, RECORDS)                                    \
    P(log, 0x0200000, 0x0100000, RECORDS)                                      \
    P(chain, 0x0300000, 0x1d00000, RECORDS)                                    \
    P(slot_a, 0x2000000, 0x7000000, IMAGE)                                     \
    P(slot_b, 0x9000000, 0x7000000, IMAGE)

#endif
