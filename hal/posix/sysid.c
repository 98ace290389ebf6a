/*
 * hal/posix/sysid.c - the board's name and the architecture the program
 * was built for (hal/sys.h), the same on every board: the name comes
 * from the board's board.h, the architecture from the compiler.
 */
#include "board.h"
#include "hal/sys.h"

const char *
hal_sys_board(void)
{
    return BOARD_NAME;
}

const char *
hal_sys_arch(void)
{
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__aarch64__)
    return "aarch64";
#elif defined(__arm__)
    return "armhf";
#else
    return "unknown";
#endif
}
