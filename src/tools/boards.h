/*
 * tools/boards.h - what the host tools know of the boards under board/:
 * each board's erase block and update slot size, taken from its own
 * board/<name>/board.h (BOARD_FLASH_ERASE, BOARD_PARTITIONS) when the
 * tool is built.  keel-bundle checks with it at the desk that a payload
 * fits the slots of the boards a bundle names.
 *
 * The Makefile lists every board/<name>/board.h into
 * build/gen/tool_boards.inc; a new board joins the table with its
 * folder, without a change here.
 */
#ifndef TOOLS_BOARDS_H
#define TOOLS_BOARDS_H

#include <stdint.h>

#define TOOL_PARTS_MAX 16 /* partitions per board; more fail to compile */

struct tool_part {
    const char *name; /* e.g. "slot_a" */
    uint64_t off, size;
    uint8_t kind; /* on a disk: enum hal_flash_kind (RECORDS: RAW) */
};

struct tool_board {
    const char *name;    /* BOARD_NAME */
    uint64_t flash_size; /* BOARD_FLASH_SIZE */
    uint32_t erase_size; /* bytes per erase block */
    uint32_t prog_size;  /* bytes per program unit */
    uint64_t slot_size;  /* bytes: the smaller of slot_a and slot_b */
    int nparts;
    const struct tool_part *part; /* the layout, in BOARD_PARTITIONS order */
};

/* Fill *b for the board called name.  0; -ENOENT when the tool was not
 * built with such a board; -EINVAL when its layout lacks slot_a or
 * slot_b (every board must have both, board/README.md). */
int tool_board_find(const char *name, struct tool_board *b);

/* The idx-th board of the table (0, 1, ...), as tool_board_find() fills
 * it; -ENOENT past the last. */
int tool_board_at(unsigned idx, struct tool_board *b);

#endif
