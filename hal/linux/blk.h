/*
 * hal/linux/blk.h - flash on a regular file or a raw block device (a disk
 * partition), for boards whose "flash" is a disk (eMMC, SD, virtio).
 *
 * Each partition is handed out as one of the two kinds of hal/flash.h:
 *  - HAL_FLASH_RAW, for the record store, chain log, log ring and boot
 *    control: erase is emulated by writing the erased value (0xff), and
 *    every program and erase is followed by fdatasync before it returns,
 *    so a completed operation is durable.  The program-once rule cannot
 *    be checked cheaply here; the code above keeps it (the sim flash
 *    proves that).
 *  - HAL_FLASH_BLOCK, for the update slots: write() is one pwrite at the
 *    offset, nothing erased and nothing synced (writeback of it is
 *    started with sync_file_range, so it overlaps the caller's work);
 *    sync() is one fdatasync, the only thing that makes it durable.
 *    An image costs its own bytes once and one sync, instead of twice
 *    its bytes and a sync per erase block and per program.
 * The program and write unit is BLK_PROG_SIZE (512) so that no record
 * ever straddles a disk sector: a sector write is the unit a disk
 * completes or not.  Caller-allocated; no malloc.
 */
#ifndef HAL_LINUX_BLK_H
#define HAL_LINUX_BLK_H

#include <stdint.h>

#include "hal/flash.h"

#define BLK_PROG_SIZE 512

struct blk_flash {
    int fd;
    uint64_t size;
    uint32_t erase_size;
    struct {
        uint64_t progs, erases, bytes_prog, syncs;
        uint64_t writes, bytes_written; /* BLOCK partitions */
    } stats;
};

/* Open path as a device of size bytes (0: the file's or block device's
 * size, rounded down to erase_size).  A missing regular file is created
 * at size bytes of 0xff when create is set.  erase_size must be a power
 * of two and a multiple of BLK_PROG_SIZE.  Returns 0 or a negative errno
 * (-EINVAL for a bad geometry or a device smaller than size). */
int blk_flash_open(struct blk_flash *d, const char *path, uint64_t size,
                   uint32_t erase_size, int create);
/* Fill *part as the window [base, base + size) of d named name, of kind
 * HAL_FLASH_RAW or HAL_FLASH_BLOCK.  base and size must be multiples of
 * the erase size and inside the device.  Returns 0 or -EINVAL. */
int blk_flash_partition(struct blk_flash *d, struct hal_flash *part,
                        const char *name, uint64_t base, uint64_t size,
                        enum hal_flash_kind kind);
void blk_flash_close(struct blk_flash *d);

#endif
