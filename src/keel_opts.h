/*
 * keel_opts.h - every build-time limit of keel, in one place (lwIP's
 * opt.h habit): each a default under #ifndef, overridden by the board's
 * board/<name>/opts.h, which is read first.  Every module header takes
 * its limits from here, and every build rule (node, keel-boot, unit
 * tests, fuzzers, benchmarks, host tools) sees the same board include
 * path, so one board never builds two struct layouts.
 *
 * Changing a limit changes struct sizes and what a device accepts;
 * limits that shape on-flash formats say so.
 */
#ifndef KEEL_OPTS_H
#define KEEL_OPTS_H

#include "opts.h" /* board/<name>/opts.h: the board's overrides */

/* ---- test hooks ---- */
/* 1: start-up parameters may make the node misbehave for tests (the sim
 * board only; docs/NET.md "Test hooks").  Never on a device board. */
#ifndef KEEL_TEST_HOOKS
#define KEEL_TEST_HOOKS 0
#endif

/* ---- the watchdog (hal/watchdog.h) ---- */
#ifndef KEEL_WATCHDOG_S
#define KEEL_WATCHDOG_S 30 /* seconds without a kick before a reset */
#endif

/* ---- Linux boards: where keel-boot, as /init, finds things ---- */
#ifndef HAL_LINUX_FLASH_DEV
#define HAL_LINUX_FLASH_DEV "/dev/vda" /* the disk that is the flash */
#endif
#ifndef HAL_LINUX_CONSOLE
#define HAL_LINUX_CONSOLE "/dev/ttyS0" /* the node's console line */
#endif
#ifndef HAL_LINUX_CONSOLE_SPEED
#define HAL_LINUX_CONSOLE_SPEED B115200 /* its bit rate (termios) */
#endif
#ifndef HAL_LINUX_NETIF
#define HAL_LINUX_NETIF "eth0" /* the node's Ethernet (packet backend) */
#endif
#ifndef HAL_LINUX_WATCHDOG
#define HAL_LINUX_WATCHDOG "/dev/watchdog0"
#endif
#ifndef HAL_LINUX_WORKDIR
#define HAL_LINUX_WORKDIR "/run/keel" /* unpacked slots, on a tmpfs */
#endif
#ifndef HAL_LINUX_DEV_WAIT_MS
#define HAL_LINUX_DEV_WAIT_MS 10000 /* for the flash device to appear */
#endif

/* ---- record store (store/store.h) ---- */
#ifndef STORE_KEYS_MAX
#define STORE_KEYS_MAX 256 /* distinct live keys */
#endif
#ifndef STORE_SECTORS_MAX
#define STORE_SECTORS_MAX 512 /* sectors a partition may have */
#endif
#ifndef STORE_FENCES_MAX
#define STORE_FENCES_MAX 64 /* fences remembered; more abandon the head */
#endif

/* ---- chain log (store/clog.h) ---- */
#ifndef CLOG_RUNS_MAX
#define CLOG_RUNS_MAX 128 /* runs in the map (and the checkpoint record) */
#endif
#ifndef CLOG_CKPT_EVERY
#define CLOG_CKPT_EVERY 4096 /* slots between checkpoints */
#endif

/* ---- control block (store/ctl.h) ---- */
#ifndef CTL_PAYLOAD_MAX
#define CTL_PAYLOAD_MAX 1024 /* bytes of sections in a copy */
#endif

/* ---- updates (update/slot.h) ---- */
#ifndef UPD_CHUNK_BUF
#define UPD_CHUNK_BUF (128u * 1024) /* largest chunk this device takes */
#endif

/* ---- console (console/line.h, console/cmd.h) ---- */
#ifndef LINE_MAX_LEN
#define LINE_MAX_LEN 256 /* bytes in a line, without the NUL */
#endif
#ifndef LINE_HISTORY
#define LINE_HISTORY 16 /* lines kept for Up/Down */
#endif
#ifndef CMD_MAX_ARGS
#define CMD_MAX_ARGS 16 /* words in a command line */
#endif

/* ---- YMODEM on the console (console/ymodem.h) ---- */
#ifndef YMODEM_C_MS
#define YMODEM_C_MS 3000 /* receiver: a 'C' this often before the start */
#endif
#ifndef YMODEM_START_MS
#define YMODEM_START_MS 60000 /* no start within this ends a session */
#endif
#ifndef YMODEM_BLOCK_MS
#define YMODEM_BLOCK_MS 10000 /* a block, or its answer, within this */
#endif
#ifndef YMODEM_BYTE_MS
#define YMODEM_BYTE_MS 1000 /* between two bytes of one block */
#endif
#ifndef YMODEM_PURGE_MS
#define YMODEM_PURGE_MS 200 /* quiet wanted before a NAK after garbage */
#endif
#ifndef YMODEM_DRAIN_MS
#define YMODEM_DRAIN_MS 1000 /* quiet wanted after a cancel */
#endif
#ifndef YMODEM_DRAIN_MAX_MS
#define YMODEM_DRAIN_MAX_MS 5000 /* a cancel ends within this all the same */
#endif
#ifndef YMODEM_STALE_MS
#define YMODEM_STALE_MS 500 /* a copy this soon after our answer is stale */
#endif
#ifndef YMODEM_RETRIES
#define YMODEM_RETRIES 10 /* failed tries of one block before giving up */
#endif
#ifndef YMODEM_NAME_MAX
#define YMODEM_NAME_MAX 64 /* bytes of a file name kept for messages */
#endif

#endif
