/*
 * tests/fuzz/fuzz_chain_mount.h - the small device fuzz_chain_mount and
 * its seed tool (mkseed_chain) share: a record store of five 16 KiB
 * sectors, then a chain log of sixteen 4 KiB erase blocks (368 slots),
 * on 16-byte NOR.  An input is the device's bytes from offset 0.
 */
#ifndef TESTS_FUZZ_FUZZ_CHAIN_MOUNT_H
#define TESTS_FUZZ_FUZZ_CHAIN_MOUNT_H

#define FCM_ERASE 4096u
#define FCM_STORE_SIZE (5 * 16384u)
#define FCM_CHAIN_SIZE (16 * FCM_ERASE)
#define FCM_DEV_SIZE (FCM_STORE_SIZE + FCM_CHAIN_SIZE)

/* Trailers after genesis in the seed's chain. */
#define CHAIN_SEED_BLOCKS 200

#endif
