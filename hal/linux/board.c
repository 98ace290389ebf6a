/*
 * hal/linux/board.c - a Linux board's flash: a whole disk (or a file on
 * a build machine) as one blk device, cut into the board's layout
 * (hal/board.h, hal/linux/blk.h).
 *
 * path is the disk, e.g. HAL_LINUX_FLASH_DEV, or "blk:PATH" as on the
 * sim board.  A disk larger than BOARD_FLASH_SIZE is fine (the rest is
 * not used); a missing regular file is created erased, so that a build
 * machine can try the board's programs on an image file.
 */
#include <errno.h>
#include <string.h>

#include "board.h"
#include "hal/board.h"
#include "linux/blk.h"

static struct blk_flash board_blk;
static int board_open;

/* What a layout row's use makes of a partition (hal/linux/blk.h). */
#define BOARD_BLK_RECORDS HAL_FLASH_RAW
#define BOARD_BLK_IMAGE HAL_FLASH_BLOCK

static const struct {
    const char *name;
    uint64_t off, size;
    enum hal_flash_kind kind;
} board_parts[] = {
#define BOARD_PART_ROW(n, o, s, use) {#n, o, s, BOARD_BLK_##use},
    BOARD_PARTITIONS(BOARD_PART_ROW)
#undef BOARD_PART_ROW
};

int
hal_board_flash_open(const char *path, struct hal_flash *parts, int count,
                     const char **why)
{
    int rc;

    *why = "";
    if (board_open)
        return -EBUSY;
    if (count != (int)(sizeof(board_parts) / sizeof(board_parts[0]))) {
        *why = "the layout does not match the node's partition list";
        return -EINVAL;
    }
    if (strncmp(path, "blk:", 4) == 0)
        path += 4;
    rc = blk_flash_open(&board_blk, path, BOARD_FLASH_SIZE, BOARD_FLASH_ERASE,
                        1);
    if (rc == -EINVAL)
        *why = "not a disk or image file of at least this board's flash "
               "size";
    if (rc != 0)
        return rc;
    board_open = 1;
    for (int i = 0; i < count; i++) {
        rc = blk_flash_partition(&board_blk, &parts[i], board_parts[i].name,
                                 board_parts[i].off, board_parts[i].size,
                                 board_parts[i].kind);
        if (rc != 0) {
            *why = "the board layout has a partition outside the device";
            hal_board_flash_close();
            return rc;
        }
    }
    return 0;
}

void
hal_board_flash_close(void)
{
    if (board_open)
        blk_flash_close(&board_blk);
    board_open = 0;
}
