/*
 * hal/linux/watchdog.c - the Linux watchdog device (hal/watchdog.h):
 * HAL_LINUX_WATCHDOG (keel_opts.h), driven by the ioctls of
 * <linux/watchdog.h>.
 *
 * Closing the device without writing the magic 'V' first leaves the
 * timer running (the kernel says "watchdog did not stop!"): that is
 * what release does on purpose.  Nothing here ever writes 'V', so the
 * watchdog, once armed, is never stopped by keel.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/watchdog.h>

#include "hal/clock.h"
#include "hal/watchdog.h"
#include "keel_opts.h"

static int wd_fd = -1;
static uint64_t wd_last_ms;

int
hal_watchdog_open(unsigned timeout_s)
{
    int t = (int)timeout_s, status = 0;

    if (wd_fd >= 0)
        return -EBUSY;
    wd_fd = open(HAL_LINUX_WATCHDOG, O_WRONLY | O_CLOEXEC);
    if (wd_fd < 0)
        return errno == ENOENT ? -ENODEV : -errno;
    /* A device that keeps its own timeout still works: it is armed. */
    (void)ioctl(wd_fd, WDIOC_SETTIMEOUT, &t);
    (void)ioctl(wd_fd, WDIOC_KEEPALIVE, 0);
    wd_last_ms = hal_clock_ms();
    if (ioctl(wd_fd, WDIOC_GETBOOTSTATUS, &status) == 0 &&
        (status & WDIOF_CARDRESET) != 0)
        return HAL_WATCHDOG_FIRED;
    return 0;
}

void
hal_watchdog_kick(void)
{
    uint64_t now;

    if (wd_fd < 0)
        return;
    now = hal_clock_ms();
    if (now - wd_last_ms < 1000)
        return;
    wd_last_ms = now;
    (void)ioctl(wd_fd, WDIOC_KEEPALIVE, 0);
}

void
hal_watchdog_release(void)
{
    if (wd_fd < 0)
        return;
    (void)ioctl(wd_fd, WDIOC_KEEPALIVE, 0);
    close(wd_fd);
    wd_fd = -1;
}
