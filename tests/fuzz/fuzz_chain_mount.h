/*
 * tests/fuzz/fuzz_chain_mount.h - the small devices fuzz_chain_mount and
 * its seed tool (mkseed_chain) share, each a record store then a chain
 * log: NOR (five 16 KiB store sectors, sixteen 4 KiB chain-log blocks of
 * 23 slots, a 16-byte program unit) and NAND (five 16 KiB store blocks,
 * five chain-log blocks of eight 2 KiB pages, 11 slots a page: the
 * packed layout of issue #18).  An input is one selector byte (bit 0: NAND),
 * then the device's bytes from offset 0.
 */
#ifndef TESTS_FUZZ_FUZZ_CHAIN_MOUNT_H
#define TESTS_FUZZ_FUZZ_CHAIN_MOUNT_H

#define FCM_ERASE 4096u
#define FCM_STORE_SIZE (5 * 16384u)
#define FCM_CHAIN_SIZE (16 * FCM_ERASE)
#define FCM_DEV_SIZE (FCM_STORE_SIZE + FCM_CHAIN_SIZE)

#define FCM_NAND_ERASE 16384u
#define FCM_NAND_PROG 2048u
#define FCM_NAND_STORE_SIZE (5 * FCM_NAND_ERASE)
#define FCM_NAND_CHAIN_SIZE (5 * FCM_NAND_ERASE)
#define FCM_NAND_DEV_SIZE (FCM_NAND_STORE_SIZE + FCM_NAND_CHAIN_SIZE)

/* The longest input: the selector and the larger device. */
#define FCM_MAX_LEN (1 + FCM_NAND_DEV_SIZE)

/* Trailers after genesis in the seed's chain. */
#define CHAIN_SEED_BLOCKS 200

#endif
