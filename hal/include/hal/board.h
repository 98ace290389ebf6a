/*
 * hal/board.h - what a board provides beyond the single interfaces: its
 * flash device, cut into the partitions of its layout.
 *
 * hal_board_flash_open() opens the board's flash device (on the sim board
 * the image file at path, created erased when missing; on hardware a
 * device path) and fills parts[0..count) in the order of the board's
 * BOARD_PARTITIONS.  Returns 0 or a negative errno; *why then says what
 * was wrong in words an operator can act on.  One device per process;
 * close it with hal_board_flash_close().
 */
#ifndef HAL_BOARD_H
#define HAL_BOARD_H

#include "hal/flash.h"

int hal_board_flash_open(const char *path, struct hal_flash *parts, int count,
                         const char **why);
void hal_board_flash_close(void);

#endif
