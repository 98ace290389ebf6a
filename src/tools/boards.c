/*
 * tools/boards.c - the host tools' table of boards, made from each
 * board's own board.h (tools/boards.h).
 */
#include <errno.h>
#include <string.h>

#include "tools/boards.h"

#define PARTS_MAX 16 /* partitions per board; more fail to compile */

struct part {
    const char *name;
    uint64_t off, size;
};

static const struct {
    const char *name;
    uint32_t erase_size;
    struct part part[PARTS_MAX];
} boards[] = {
#define TOOL_BOARD_PART(n, o, s, use) {#n, (o), (s)},
#include "tool_boards.inc"
#undef TOOL_BOARD_PART
};

int
tool_board_find(const char *name, struct tool_board *b)
{
    for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++) {
        uint64_t sa = 0, sb = 0;

        if (strcmp(boards[i].name, name) != 0)
            continue;
        for (int j = 0; j < PARTS_MAX && boards[i].part[j].name; j++) {
            if (strcmp(boards[i].part[j].name, "slot_a") == 0)
                sa = boards[i].part[j].size;
            else if (strcmp(boards[i].part[j].name, "slot_b") == 0)
                sb = boards[i].part[j].size;
        }
        if (sa == 0 || sb == 0)
            return -EINVAL;
        b->name = boards[i].name;
        b->erase_size = boards[i].erase_size;
        b->slot_size = sa < sb ? sa : sb;
        return 0;
    }
    return -ENOENT;
}
