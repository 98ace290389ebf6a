/*
 * tools/boards.c - the host tools' table of boards, made from each
 * board's own board.h (tools/boards.h).
 */
#include <errno.h>
#include <string.h>

#include "hal/flash.h"
#include "tools/boards.h"

static const struct {
    const char *name;
    uint64_t flash_size;
    uint32_t erase_size, prog_size;
    struct tool_part part[TOOL_PARTS_MAX];
} boards[] = {
#define TOOL_KIND_RECORDS HAL_FLASH_RAW
#define TOOL_KIND_IMAGE HAL_FLASH_BLOCK
#define TOOL_BOARD_PART(n, o, s, use) {#n, (o), (s), TOOL_KIND_##use},
#include "tool_boards.inc"
#undef TOOL_BOARD_PART
};

int
tool_board_at(unsigned idx, struct tool_board *b)
{
    uint64_t sa = 0, sb = 0;
    int n = 0;

    if (idx >= sizeof(boards) / sizeof(boards[0]))
        return -ENOENT;
    for (; n < TOOL_PARTS_MAX && boards[idx].part[n].name; n++) {
        if (strcmp(boards[idx].part[n].name, "slot_a") == 0)
            sa = boards[idx].part[n].size;
        else if (strcmp(boards[idx].part[n].name, "slot_b") == 0)
            sb = boards[idx].part[n].size;
    }
    if (sa == 0 || sb == 0)
        return -EINVAL;
    b->name = boards[idx].name;
    b->flash_size = boards[idx].flash_size;
    b->erase_size = boards[idx].erase_size;
    b->prog_size = boards[idx].prog_size;
    b->slot_size = sa < sb ? sa : sb;
    b->nparts = n;
    b->part = boards[idx].part;
    return 0;
}

int
tool_board_find(const char *name, struct tool_board *b)
{
    for (unsigned i = 0; i < sizeof(boards) / sizeof(boards[0]); i++)
        if (strcmp(boards[i].name, name) == 0)
            return tool_board_at(i, b);
    return -ENOENT;
}
