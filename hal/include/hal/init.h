/*
 * hal/init.h - what stage 1 does first when it is the system's first
 * program (on Linux: PID 1, /init of the initramfs, with nothing
 * mounted and no shell): make the system usable for itself and for the
 * node, and say where the board's things are.
 *
 * hal_init_system() mounts the kernel's file systems and a RAM file
 * system for the unpacked slots, makes the console the standard
 * streams, loads the board's drivers (kernel modules listed in the
 * initramfs), brings the network interface up and waits, bounded, for
 * the flash device to appear.  Run as an ordinary program (the sim
 * board; a Linux board's keel-boot tried on a build machine) stage 1
 * calls none of it: hal_init_is_system() is 0.
 *
 * Backends: hal/linux/init.c (Linux boards), hal/sim/init.c (never the
 * system).  No malloc; the strings are static.
 */
#ifndef HAL_INIT_H
#define HAL_INIT_H

struct hal_init {
    const char *flash;   /* the flash device, e.g. "/dev/vda" */
    const char *workdir; /* a directory on a RAM file system */
    const char *console; /* the node's console, e.g. "/dev/ttyS0" */
    const char *net;     /* the node's network spec, or NULL: none */
    const char *kernel;  /* one line naming the kernel, or "" */
    unsigned modules;    /* kernel modules loaded */
};

/* 1 when this process is the system's first program, else 0. */
int hal_init_is_system(void);

/* Bring the system up (see above).  0 with *out filled; or a negative
 * errno with *why saying what is missing (no flash device: -ENODEV).
 * Problems that leave the system usable (a driver that does not load,
 * no network interface) are reported on the console and in *out
 * (net NULL), not returned. */
int hal_init_system(struct hal_init *out, const char **why);

#endif
