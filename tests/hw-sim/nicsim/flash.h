/* ovnic-nicsim: the NIC's firmware flash, two slots "a" and "b" plus the boot
 * selection, kept in files so that they survive a restart of ovnic-nicsim.
 *
 * Directory layout:
 *   DIR/slot-a.bin, DIR/slot-b.bin   each exactly 'slot_size' bytes; erased = 0xff
 *   DIR/boot                         "active=a\npending=-\ntries=0\nbooted=a\n"
 *
 * Boot selection works as an A/B installer expects:
 *   - 'active' is the slot that boots normally;
 *   - 'pending' ('-' for none) is a slot to try on the next boot (set with
 *     nicsim_flash_boot_set());
 *   - nicsim_flash_reboot() boots 'pending' if set, counting 'tries'; after
 *     NICSIM_FLASH_MAX_TRIES boots without nicsim_flash_confirm() it falls back to
 *     'active' and clears 'pending';
 *   - nicsim_flash_confirm() makes the booted slot 'active' and clears 'pending'.
 * The boot file is replaced atomically, so a power loss never tears it.
 *
 * Faults (see fault.h): a write can store only part of its bytes and fail with -EIO,
 * and a power loss leaves the flash unpowered (every call fails with -ENODEV) until
 * nicsim_flash_power_cycle(), which reloads the boot selection from DIR/boot and
 * reboots.  The bytes of the boot file count toward an armed fault as those of any
 * write: a fault inside them leaves the boot selection as it was (the file is only
 * replaced once written whole). */
#ifndef OVNIC_NICSIM_FLASH_H
#define OVNIC_NICSIM_FLASH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/util/err.h"

struct nicsim_faults;
struct nicsim_flash;

#define NICSIM_FLASH_SLOTS 2
#define NICSIM_FLASH_MAX_TRIES 3
#define NICSIM_FLASH_MAX_IO ((size_t)1 << 20) /* Largest single read or write. */

struct nicsim_flash_boot {
    int active;  /* 0 (a) or 1 (b). */
    int pending; /* -1: none. */
    int booted;  /* The slot running now. */
    unsigned int tries;
};

/** Opens (creating if needed) the flash in 'dir' with slots of 'slot_size' bytes
 * (4 KiB .. 1 GiB).  An existing slot file of another size is -EINVAL.  'faults' is
 * borrowed (may be NULL) and must outlive the flash.  Caller owns '*flashp'; free with
 * nicsim_flash_close().  Returns 0, -EINVAL, or a negative errno from the file
 * system. */
int nicsim_flash_open(const char *dir, size_t slot_size, struct nicsim_faults *faults,
                      struct nicsim_flash **flashp, struct ovnic_err *err);

void nicsim_flash_close(struct nicsim_flash *flash);

size_t nicsim_flash_slot_size(const struct nicsim_flash *flash);

/** True while the flash is powered (false after a power-loss fault). */
bool nicsim_flash_is_powered(const struct nicsim_flash *flash);

/** Parses "a"/"b" (or "0"/"1") into a slot index.  Returns 0 or -EINVAL. */
int nicsim_flash_slot_parse(const char *s, int *slot);

/** The name of slot 'slot': "a" or "b". */
const char *nicsim_flash_slot_name(int slot);

/** Reads 'len' bytes at 'offset' of 'slot' into 'buf'.  Returns 0, -EINVAL (bad slot,
 * range beyond the slot, 'len' over NICSIM_FLASH_MAX_IO), -ENODEV (no power), or
 * -EIO. */
int nicsim_flash_read(struct nicsim_flash *flash, int slot, uint64_t offset, void *buf,
                      size_t len, struct ovnic_err *err);

/** Writes 'len' bytes at 'offset' of 'slot'.  Returns 0, -EINVAL, -ENODEV, or -EIO
 * (including an injected failure, after storing the bytes before the failure
 * point). */
int nicsim_flash_write(struct nicsim_flash *flash, int slot, uint64_t offset,
                       const void *data, size_t len, struct ovnic_err *err);

/** Erases 'slot' (every byte 0xff).  Returns 0, -EINVAL, -ENODEV or -EIO. */
int nicsim_flash_erase(struct nicsim_flash *flash, int slot, struct ovnic_err *err);

/** The boot selection.  Returns 0 or -ENODEV. */
int nicsim_flash_boot_get(const struct nicsim_flash *flash,
                          struct nicsim_flash_boot *boot);

/** Sets the slot to try on the next boot ('slot' -1 cancels).  Returns 0, -EINVAL,
 * -ENODEV or -EIO. */
int nicsim_flash_boot_set(struct nicsim_flash *flash, int pending, struct ovnic_err *err);

/** Simulates a reboot of the NIC firmware (see above).  Returns 0, -ENODEV or
 * -EIO. */
int nicsim_flash_reboot(struct nicsim_flash *flash, struct ovnic_err *err);

/** Confirms the booted slot.  Returns 0, -ENODEV or -EIO. */
int nicsim_flash_confirm(struct nicsim_flash *flash, struct ovnic_err *err);

/** Restores power after a power loss, reloads the boot selection from its file, then
 * reboots.  Returns 0, -EINVAL (a malformed boot file) or -EIO. */
int nicsim_flash_power_cycle(struct nicsim_flash *flash, struct ovnic_err *err);

#endif /* OVNIC_NICSIM_FLASH_H */
