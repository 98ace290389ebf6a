/*
 * tools/board_row.h - one row of the board table in tools/boards.c.
 *
 * build/gen/tool_boards.inc includes a board/<name>/board.h and then this
 * file, once per board, inside the table's initializer.  It makes the row
 * from that board's macros and undefines them, so that the next board's
 * board.h can define its own.  No include guard: it is meant to be
 * included again for every board.
 */
{BOARD_NAME,
 BOARD_FLASH_SIZE,
 BOARD_FLASH_ERASE,
 BOARD_FLASH_PROG,
 {BOARD_PARTITIONS(TOOL_BOARD_PART)}},
#undef BOARD_NAME
#undef BOARD_FLASH_SIZE
#undef BOARD_FLASH_ERASE
#undef BOARD_FLASH_PROG
#undef BOARD_FLASH_ERASED
#undef BOARD_PARTITIONS
