/* ovnic firmware images: the A/B flash an installer writes, as its callers see it.
 *
 * A flash has two slots (0 "a", 1 "b") of the same size and a boot selection kept by
 * the device's boot firmware:
 *   - 'active' boots normally;
 *   - 'pending' (-1: none) is the slot to try on the next boot (the trial flag);
 *   - each boot of the pending slot counts in 'tries' (the boot counter); after
 *     'max_tries' boots without a confirmation the device boots 'active' again and
 *     clears 'pending' (an automatic rollback);
 *   - confirming makes the booted slot 'active' (a commit).
 *
 * Backends (flash_class.h): fw_flash_nicsim_open() drives the flash of ovnic-nicsim
 * through its control socket; tests wrap nicsim's flash API directly. */
#ifndef OVNIC_FW_FLASH_H
#define OVNIC_FW_FLASH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/util/err.h"

#define FW_FLASH_SLOTS 2

struct fw_flash;

struct fw_flash_boot {
    int active;  /* 0 or 1. */
    int pending; /* -1: none. */
    int booted;  /* The slot running now. */
    unsigned int tries;
    unsigned int max_tries; /* 0 if the backend does not know. */
};

/** Opens the flash of the ovnic-nicsim whose control socket is 'socket', each call
 * waiting up to 'timeout_ms'.  Caller owns '*flashp'; free with fw_flash_close().
 * Returns 0 or the negative errno of the connection (-ENOENT, -ECONNREFUSED...). */
int fw_flash_nicsim_open(const char *socket, int timeout_ms, struct fw_flash **flashp,
                         struct ovnic_err *err);

/** Closes 'flash' (may be NULL). */
void fw_flash_close(struct fw_flash *flash);

/** A description such as "nicsim:/run/nicsim.ctl".  Valid while 'flash' is. */
const char *fw_flash_name(const struct fw_flash *flash);

/** The size of each slot, in bytes. */
uint64_t fw_flash_slot_size(const struct fw_flash *flash);

/** "a", "b", or "-" for another value. */
const char *fw_flash_slot_name(int slot);

/** Reads 'len' bytes at 'offset' of 'slot' (in as many calls as the backend needs).
 * Returns 0, -EINVAL (outside the slot), -ENODEV (no power), -EIO, or a transport
 * errno. */
int fw_flash_read(struct fw_flash *flash, int slot, uint64_t offset, void *buf,
                  size_t len, struct ovnic_err *err);

/** Writes 'len' bytes at 'offset' of 'slot'.  Returns as fw_flash_read(); after a
 * failure, any prefix of the bytes may have been stored. */
int fw_flash_write(struct fw_flash *flash, int slot, uint64_t offset, const void *data,
                   size_t len, struct ovnic_err *err);

/** The boot selection.  Returns 0, -ENODEV or a transport errno. */
int fw_flash_boot_get(struct fw_flash *flash, struct fw_flash_boot *boot,
                      struct ovnic_err *err);

/** Sets the slot to try on the next boot (-1 cancels), with the boot counter at 0.
 * Returns 0, -EINVAL, -ENODEV, -EIO or a transport errno. */
int fw_flash_boot_set(struct fw_flash *flash, int pending, struct ovnic_err *err);

/** Reboots the device into the slot its boot selection names.  Returns as
 * fw_flash_boot_set(). */
int fw_flash_reboot(struct fw_flash *flash, struct ovnic_err *err);

/** Makes the booted slot active.  Returns as fw_flash_boot_set(). */
int fw_flash_confirm(struct fw_flash *flash, struct ovnic_err *err);

/** The device family (PSID-like) of the device, into 'buf'.  Returns 0, -ENOTSUP (the
 * backend cannot tell), or a transport errno. */
int fw_flash_device_family(struct fw_flash *flash, char *buf, size_t size,
                           struct ovnic_err *err);

#endif /* OVNIC_FW_FLASH_H */
