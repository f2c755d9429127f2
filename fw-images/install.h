/* ovnic firmware images: the installer on the DPU, an A/B update with a trial boot,
 * a health check before the commit, and automatic rollback.
 *
 *   fw_install():  check the image (structure, digests, signatures against the trust
 *                  store, device family, anti-rollback) before writing anything;
 *                  write it to the inactive slot (body first, header last); read it
 *                  back and compare; switch the boot selection to that slot as the
 *                  pending (trial) slot with its boot counter at 0; optionally
 *                  reboot into it and run the health check, which commits (pass) or
 *                  rolls back (fail).
 *   fw_install_commit():   on a trial boot, health check, then commit or roll back.
 *   fw_install_rollback(): cancel a trial and boot the committed slot; with no trial,
 *                  go back to the other slot's image (checked as an install is).
 *
 * Power safety: the committed slot is never written, and the switch is one update of
 * the boot selection, which the device stores whole or not at all; a power cut at any
 * point leaves the device booting the committed image, or the new one only once it
 * was written, read back and switched to.  The boot firmware's boot counter rolls a
 * trial back by itself when the new image never commits (see flash.h).
 *
 * Anti-rollback: the committed minimum security version is that of the image in the
 * active slot.  An image below it is refused (-EPERM) unless 'force' is set; a forced
 * install is logged (warning) and reported in the result. */
#ifndef OVNIC_FW_INSTALL_H
#define OVNIC_FW_INSTALL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw-images/flash.h"
#include "fw-images/image.h"
#include "fw-images/trust.h"
#include "shared/util/err.h"

#define FW_INSTALL_CHUNK ((size_t)64 << 10)

/** Progress of a step: 'phase' is "verify", "write", "read-back", "switch",
 * "reboot", "health-check", "commit" or "rollback"; 'done' of 'total' units (bytes
 * for write and read-back, else 0 or 1). */
struct fw_install_progress {
    const char *phase;
    uint64_t done;
    uint64_t total;
    int slot;
};

typedef void fw_install_progress_cb(void *aux, const struct fw_install_progress *p);

/** Returns 0 if the running version is healthy, else a negative errno with 'err'
 * saying what is wrong. */
typedef int fw_health_check_cb(void *aux, struct ovnic_err *err);

struct fw_install_opts {
    const struct fw_trust *trust;     /* Required (borrowed). */
    const char *device;               /* Device family; NULL: ask the flash. */
    bool force;                       /* Install below the committed security version. */
    bool reboot;                      /* Reboot into the new slot after the switch. */
    fw_health_check_cb *health_check; /* After the reboot: commit or roll back.  NULL:
                                       * leave the trial for fw_install_commit(). */
    void *health_aux;
    fw_install_progress_cb *progress; /* May be NULL. */
    void *progress_aux;
    size_t chunk; /* Bytes per write; 0: FW_INSTALL_CHUNK. */
};

struct fw_install_result {
    int slot;       /* The slot written (or switched to), -1 if none. */
    bool has_image; /* 'hdr' is valid. */
    struct fw_image_header hdr;
    bool forced;                   /* Installed below the committed security version. */
    bool has_min_security;         /* The active slot held an image. */
    uint32_t min_security_version; /* The committed minimum at the start. */
    bool switched;                 /* The boot selection names the new slot as pending. */
    bool rebooted;
    bool health_checked;
    bool healthy;
    bool committed;
    bool rolled_back;
    char health_reason[OVNIC_ERR_DETAIL_LEN + 64]; /* Why the check failed. */
};

struct fw_slot_status {
    bool valid; /* Holds an image that parses (every digest checked). */
    char reason[OVNIC_ERR_DETAIL_LEN + 64]; /* Why not, if not. */
    struct fw_image_header hdr;
    uint64_t size;
    bool has_trust; /* 'trusted' was checked (a trust store was given). */
    bool trusted;
    char trust_reason[OVNIC_ERR_DETAIL_LEN + 64];
};

struct fw_install_status {
    struct fw_flash_boot boot;
    const char *state; /* "committed", "pending", "trial" or "reverting". */
    struct fw_slot_status slots[FW_FLASH_SLOTS];
    bool has_min_security;
    uint32_t min_security_version;
};

/** Reads the boot selection and both slots.  'trust' may be NULL (images are then
 * parsed but their signatures not checked).  Fills '*status'.  Returns 0 or the
 * errno of the flash. */
int fw_install_status_get(struct fw_flash *flash, const struct fw_trust *trust,
                          struct fw_install_status *status, struct ovnic_err *err);

/** Reads one slot (as fw_install_status_get() does for both) into '*status'.
 * Returns 0, -EINVAL (bad slot) or -ENOMEM. */
int fw_install_slot_status(struct fw_flash *flash, int slot, const struct fw_trust *trust,
                           struct fw_slot_status *status, struct ovnic_err *err);

/** Installs the 'len' bytes of 'image' (see above).  Fills '*result' (may be NULL).
 * Returns 0; before anything is written: -EBADMSG, -EFBIG, -EKEYREJECTED, -ENODEV
 * (incompatible device), -EPERM (downgrade, without 'force'), -EBUSY (a trial is in
 * progress), -ENOSPC (larger than a slot); afterwards: -EIO (the read-back differs),
 * -ECANCELED (the health check failed and the device was rolled back), or the errno of
 * the flash. */
int fw_install(struct fw_flash *flash, const void *image, size_t len,
               const struct fw_install_opts *opts, struct fw_install_result *result,
               struct ovnic_err *err);

/** Commits a trial: runs 'opts->health_check' (if set) on the trial boot (rebooting
 * into a pending slot first if 'opts->reboot'), then commits, or rolls back if it
 * fails.  Returns 0, -EALREADY (nothing to commit), -EAGAIN (the pending slot has not
 * booted yet), -ECANCELED (unhealthy: rolled back), or the errno of the flash. */
int fw_install_commit(struct fw_flash *flash, const struct fw_install_opts *opts,
                      struct fw_install_result *result, struct ovnic_err *err);

/** Rolls back: during a trial, cancels it and reboots into the committed slot; with
 * no trial, switches to the other slot's image as fw_install() would (the image is
 * checked, anti-rollback included), then reboots and health-checks as 'opts' says.
 * Returns 0, -ENOENT (no valid image in the other slot), the refusals of
 * fw_install(), or the errno of the flash. */
int fw_install_rollback(struct fw_flash *flash, const struct fw_install_opts *opts,
                        struct fw_install_result *result, struct ovnic_err *err);

#endif /* OVNIC_FW_INSTALL_H */
