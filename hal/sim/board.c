/* hal/sim/board.c - the sim board's flash: one file-backed sim device. */
#include <errno.h>

#include <string.h>

#include "board.h"
#include "hal/board.h"
#include "linux/blk.h"
#include "sim/flash_sim.h"

static struct sim_flash board_dev;
static struct blk_flash board_blk;
static int board_open; /* 1: sim device, 2: blk device */

/* What a layout row's use makes of a partition on a block device. */
#define BOARD_BLK_RECORDS HAL_FLASH_RAW
#define BOARD_BLK_IMAGE HAL_FLASH_BLOCK

static const struct {
    const char *name;
    uint64_t off, size;
    enum hal_flash_kind blk_kind;
} board_parts[] = {
#define BOARD_PART_ROW(n, o, s, use) {#n, o, s, BOARD_BLK_##use},
    BOARD_PARTITIONS(BOARD_PART_ROW)
#undef BOARD_PART_ROW
};

int
hal_board_flash_open(const char *path, struct hal_flash *parts, int count,
                     const char **why)
{
    static const struct sim_flash_geom geom = {
        .size = BOARD_FLASH_SIZE,
        .erase_size = BOARD_FLASH_ERASE,
        .prog_size = BOARD_FLASH_PROG,
        .erased = BOARD_FLASH_ERASED,
    };
    int rc;

    *why = "";
    if (board_open)
        return -EBUSY;
    if (count != (int)(sizeof(board_parts) / sizeof(board_parts[0]))) {
        *why = "the layout does not match the node's partition list";
        return -EINVAL;
    }
    /* "blk:PATH": the flash is a disk partition or a file written with
     * pwrite and fdatasync, 512-byte program unit (hal/linux/blk.h); the
     * slots are block partitions there, the rest raw.  On the sim flash
     * every partition is raw NOR. */
    int blk = strncmp(path, "blk:", 4) == 0;

    if (blk)
        rc = blk_flash_open(&board_blk, path + 4, BOARD_FLASH_SIZE,
                            BOARD_FLASH_ERASE, 1);
    else
        rc = sim_flash_open(&board_dev, path, &geom, 1);
    if (rc == -EINVAL)
        *why = blk ? "not a file or block device of at least 128 MiB"
                   : "not a flash image of this board (128 MiB)";
    if (rc != 0)
        return rc;
    for (int i = 0; i < count; i++) {
        rc = blk ? blk_flash_partition(&board_blk, &parts[i],
                                       board_parts[i].name, board_parts[i].off,
                                       board_parts[i].size,
                                       board_parts[i].blk_kind)
                 : sim_flash_partition(&board_dev, &parts[i],
                                       board_parts[i].name, board_parts[i].off,
                                       board_parts[i].size);
        if (rc != 0) {
            *why = "the board layout has a partition outside the device";
            board_open = blk ? 2 : 1;
            hal_board_flash_close();
            return rc;
        }
    }
    board_open = blk ? 2 : 1;
    return 0;
}

void
hal_board_flash_close(void)
{
    if (board_open == 1)
        sim_flash_close(&board_dev);
    else if (board_open == 2)
        blk_flash_close(&board_blk);
    board_open = 0;
}
