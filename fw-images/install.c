/* ovnic firmware images: the A/B installer (see install.h). */
#include "fw-images/install.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/log.h"

OVNIC_LOG_MODULE(fw_install);

#define OBJ "fw-install"

static void
progress(const struct fw_install_opts *o, const char *phase, uint64_t done,
         uint64_t total, int slot)
{
    if (o && o->progress) {
        struct fw_install_progress p = {phase, done, total, slot};

        o->progress(o->progress_aux, &p);
    }
}

static const char *
state_of(const struct fw_flash_boot *b)
{
    if (b->pending >= 0) {
        return b->booted == b->pending ? "trial" : "pending";
    }
    return b->booted == b->active ? "committed" : "reverting";
}

/* Reads the image that 'slot' holds, its size announced by its own header and
 * signature block.  On success stores it in '*datap' (caller owns; free()) and
 * '*image'.  Returns 0, -EBADMSG/-EFBIG (no valid image), or the errno of the flash. */
static int
slot_image_read(struct fw_flash *flash, int slot, uint8_t **datap, size_t *lenp,
                struct fw_image *image, struct ovnic_err *err)
{
    uint64_t slot_size = fw_flash_slot_size(flash);
    struct fw_image_header *hdr = NULL;
    uint8_t fixed[FW_IMAGE_FIXED_SIZE];
    uint8_t block[FW_SIG_BLOCK_HEADER_SIZE];
    uint8_t *buf = NULL;
    uint32_t header_size;
    uint64_t total;
    int error;

    error = fw_flash_read(flash, slot, 0, fixed, sizeof fixed, err);
    if (error) {
        return error;
    }
    error = fw_image_header_size(fixed, sizeof fixed, &header_size, err);
    if (error) {
        return error;
    }
    if (header_size > slot_size) {
        return ovnic_err_set(err, -EBADMSG, "fw-image", "truncated image",
                             "the header would end past the slot");
    }
    buf = malloc(header_size);
    hdr = malloc(sizeof *hdr);
    if (!buf || !hdr) {
        error = ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
        goto out;
    }
    error = fw_flash_read(flash, slot, 0, buf, header_size, err);
    if (!error) {
        error = fw_image_header_parse(buf, header_size, hdr, err);
    }
    if (error) {
        goto out;
    }
    if (hdr->payload_end + FW_SIG_BLOCK_HEADER_SIZE > slot_size) {
        error = ovnic_err_set(err, -EBADMSG, "fw-image", "truncated image",
                              "the payload would end past the slot");
        goto out;
    }
    error = fw_flash_read(flash, slot, hdr->payload_end, block, sizeof block, err);
    if (error) {
        goto out;
    }
    /* Count at 8..9 of the block; the parser checks the rest. */
    total = hdr->payload_end + FW_SIG_BLOCK_HEADER_SIZE +
            (uint64_t)((block[8] << 8 | block[9]) & 0xffff) * FW_SIG_ENTRY_SIZE;
    if (total > slot_size) {
        error = ovnic_err_set(err, -EBADMSG, "fw-image", "truncated image",
                              "the signature block would end past the slot");
        goto out;
    }
    free(buf);
    buf = malloc((size_t)total);
    if (!buf) {
        error = ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
        goto out;
    }
    error = fw_flash_read(flash, slot, 0, buf, (size_t)total, err);
    if (!error) {
        error = fw_image_parse(buf, (size_t)total, image, err);
    }
    if (!error) {
        *datap = buf;
        *lenp = (size_t)total;
        buf = NULL;
    }

out:
    free(buf);
    free(hdr);
    return error;
}

static void
slot_status(struct fw_flash *flash, int slot, const struct fw_trust *trust,
            struct fw_slot_status *s)
{
    struct fw_image *image = malloc(sizeof *image);
    struct ovnic_err err = {0};
    uint8_t *data = NULL;
    size_t len;

    memset(s, 0, sizeof *s);
    if (!image) {
        snprintf(s->reason, sizeof s->reason, "out of memory");
        return;
    }
    if (slot_image_read(flash, slot, &data, &len, image, &err)) {
        ovnic_err_format(&err, s->reason, sizeof s->reason);
        free(image);
        return;
    }
    s->valid = true;
    s->hdr = image->hdr;
    s->size = len;
    if (trust) {
        struct fw_verify_result *r = malloc(sizeof *r);

        s->has_trust = true;
        ovnic_err_clear(&err);
        if (r && !fw_trust_verify(trust, image, NULL, r, &err)) {
            s->trusted = true;
        } else {
            ovnic_err_format(&err, s->trust_reason, sizeof s->trust_reason);
        }
        free(r);
    }
    free(data);
    free(image);
}

int
fw_install_slot_status(struct fw_flash *flash, int slot, const struct fw_trust *trust,
                       struct fw_slot_status *status, struct ovnic_err *err)
{
    struct fw_slot_status *s = malloc(sizeof *s);

    if (slot < 0 || slot >= FW_FLASH_SLOTS) {
        free(s);
        return ovnic_err_set(err, -EINVAL, OBJ, "bad slot", "%d", slot);
    }
    if (!s) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    slot_status(flash, slot, trust, s);
    *status = *s;
    free(s);
    return 0;
}

int
fw_install_status_get(struct fw_flash *flash, const struct fw_trust *trust,
                      struct fw_install_status *st, struct ovnic_err *err)
{
    struct fw_install_status *s = calloc(1, sizeof *s);
    int error;

    if (!s) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    error = fw_flash_boot_get(flash, &s->boot, err);
    if (error) {
        free(s);
        return error;
    }
    s->state = state_of(&s->boot);
    for (int i = 0; i < FW_FLASH_SLOTS; i++) {
        slot_status(flash, i, trust, &s->slots[i]);
    }
    if (s->slots[s->boot.active].valid) {
        s->has_min_security = true;
        s->min_security_version = s->slots[s->boot.active].hdr.security_version;
    }
    *st = *s;
    free(s);
    return 0;
}

/* The committed minimum security version: the active slot's image's. */
static int
committed_minimum(struct fw_flash *flash, const struct fw_flash_boot *boot, bool *has,
                  uint32_t *min, struct ovnic_err *err)
{
    struct fw_image *image = malloc(sizeof *image);
    struct ovnic_err ignore = {0};
    uint8_t *data;
    size_t len;
    int error;

    if (!image) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    *has = false;
    error = slot_image_read(flash, boot->active, &data, &len, image, &ignore);
    if (!error) {
        *has = true;
        *min = image->hdr.security_version;
        free(data);
    } else if (error != -EBADMSG && error != -EFBIG) {
        /* The flash failed: no minimum can be known, so nothing is installed. */
        free(image);
        return ovnic_err_set(err, error, OBJ, "cannot read the active slot", "%s",
                             ignore.message ? ignore.message : "");
    }
    free(image);
    return 0;
}

/* Every check that precedes a write.  Fills 'r'. */
static int
precheck(struct fw_flash *flash, const struct fw_flash_boot *boot, const void *data,
         size_t len, const struct fw_install_opts *o, struct fw_install_result *r,
         struct ovnic_err *err)
{
    struct fw_verify_policy policy = {0};
    struct fw_image *image = malloc(sizeof *image);
    char family[FW_IMAGE_STRING_SIZE + 16];
    bool has_min;
    uint32_t min = 0;
    int error;

    if (!image) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    if (!o || !o->trust) {
        error = ovnic_err_set(err, -EINVAL, OBJ, "no trust store given", NULL);
        goto out;
    }
    policy.device = o->device;
    if (!policy.device) {
        error = fw_flash_device_family(flash, family, sizeof family, err);
        if (error) {
            goto out;
        }
        policy.device = family;
    }
    error = committed_minimum(flash, boot, &has_min, &min, err);
    if (error) {
        goto out;
    }
    r->has_min_security = has_min;
    r->min_security_version = min;
    policy.check_security = has_min;
    policy.min_security_version = min;
    error = fw_image_check(data, len, o->trust, &policy, image, NULL, err);
    if (error == -EPERM && o->force) {
        policy.check_security = false;
        ovnic_err_clear(err);
        error = fw_image_check(data, len, o->trust, &policy, image, NULL, err);
        if (!error) {
            OLOG_WARN("forced install of '%s' with security version %" PRIu32
                      " below the committed minimum %" PRIu32,
                      image->hdr.name, image->hdr.security_version, min);
            r->forced = true;
        }
    }
    if (error) {
        goto out;
    }
    r->has_image = true;
    r->hdr = image->hdr;
    if (len > fw_flash_slot_size(flash)) {
        error = ovnic_err_set(err, -ENOSPC, OBJ, "image larger than a slot",
                              "%zu bytes, slots hold %" PRIu64, len,
                              fw_flash_slot_size(flash));
    }

out:
    free(image);
    return error;
}

/* Writes the image to 'slot': the body, then the header, so that a slot whose header
 * is whole was written to the end.  Then reads it back and compares. */
static int
write_and_verify(struct fw_flash *flash, int slot, const uint8_t *data, size_t len,
                 size_t header_size, const struct fw_install_opts *o,
                 struct ovnic_err *err)
{
    size_t chunk = o->chunk ? o->chunk : FW_INSTALL_CHUNK;
    uint8_t *buf = malloc(chunk);
    uint64_t done = 0;
    int error = 0;

    if (!buf) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    progress(o, "write", 0, len, slot);
    for (size_t off = header_size; !error && off < len; off += chunk) {
        size_t n = MIN(chunk, len - off);

        error = fw_flash_write(flash, slot, off, data + off, n, err);
        done += n;
        if (!error) {
            progress(o, "write", done, len, slot);
        }
    }
    if (!error) {
        error = fw_flash_write(flash, slot, 0, data, header_size, err);
        done += header_size;
        if (!error) {
            progress(o, "write", done, len, slot);
        }
    }
    progress(o, "read-back", 0, len, slot);
    for (size_t off = 0; !error && off < len; off += chunk) {
        size_t n = MIN(chunk, len - off);

        error = fw_flash_read(flash, slot, off, buf, n, err);
        if (!error && memcmp(buf, data + off, n)) {
            size_t i = 0;

            while (buf[i] == data[off + i]) {
                i++;
            }
            error = ovnic_err_set(err, -EIO, OBJ, "read-back differs from the image",
                                  "slot %s, first at offset %zu",
                                  fw_flash_slot_name(slot), off + i);
        }
        if (!error) {
            progress(o, "read-back", off + n, len, slot);
        }
    }
    free(buf);
    return error;
}

/* Cancels a trial and boots the committed slot. */
static int
roll_back(struct fw_flash *flash, const struct fw_install_opts *o,
          struct fw_install_result *r, struct ovnic_err *err)
{
    struct fw_flash_boot boot;
    int error;

    error = fw_flash_boot_get(flash, &boot, err);
    if (error) {
        return error;
    }
    progress(o, "rollback", 0, 1, boot.active);
    if (boot.pending >= 0) {
        error = fw_flash_boot_set(flash, -1, err);
    }
    if (!error && boot.booted != boot.active) {
        error = fw_flash_reboot(flash, err);
        r->rebooted = !error;
    }
    if (!error) {
        error = fw_flash_boot_get(flash, &boot, err);
    }
    if (!error && (boot.booted != boot.active || boot.pending >= 0)) {
        error = ovnic_err_set(err, -EIO, OBJ, "rollback did not take",
                              "booted %s, active %s", fw_flash_slot_name(boot.booted),
                              fw_flash_slot_name(boot.active));
    }
    if (!error) {
        r->rolled_back = true;
        OLOG_INFO("rolled back to slot %s", fw_flash_slot_name(boot.active));
        progress(o, "rollback", 1, 1, boot.active);
    }
    return error;
}

/* On a trial boot: health check, then commit or roll back. */
static int
check_and_commit(struct fw_flash *flash, const struct fw_install_opts *o,
                 struct fw_install_result *r, struct ovnic_err *err)
{
    struct fw_flash_boot boot;
    int error;

    error = fw_flash_boot_get(flash, &boot, err);
    if (error) {
        return error;
    }
    if (o && o->health_check) {
        struct ovnic_err herr = {0};

        progress(o, "health-check", 0, 1, boot.booted);
        r->health_checked = true;
        if (o->health_check(o->health_aux, &herr)) {
            char text[sizeof r->health_reason];
            int rb;

            ovnic_err_format(&herr, text, sizeof text);
            snprintf(r->health_reason, sizeof r->health_reason, "%s", text);
            OLOG_WARN("health check of slot %s failed: %s",
                      fw_flash_slot_name(boot.booted), text);
            rb = roll_back(flash, o, r, err);
            if (rb) {
                return rb;
            }
            return ovnic_err_set(err, -ECANCELED, OBJ, "health check failed, rolled back",
                                 "%s; slot %s boots again", text,
                                 fw_flash_slot_name(boot.active));
        }
        r->healthy = true;
        progress(o, "health-check", 1, 1, boot.booted);
    }
    progress(o, "commit", 0, 1, boot.booted);
    error = fw_flash_confirm(flash, err);
    if (!error) {
        r->committed = true;
        OLOG_INFO("committed slot %s", fw_flash_slot_name(boot.booted));
        progress(o, "commit", 1, 1, boot.booted);
    }
    return error;
}

/* Makes 'slot' pending, and with 'o->reboot' boots it and checks it. */
static int
switch_and_try(struct fw_flash *flash, int slot, const struct fw_install_opts *o,
               struct fw_install_result *r, struct ovnic_err *err)
{
    struct fw_flash_boot boot;
    int error;

    progress(o, "switch", 0, 1, slot);
    error = fw_flash_boot_set(flash, slot, err);
    if (error) {
        return error;
    }
    r->switched = true;
    progress(o, "switch", 1, 1, slot);
    if (!o->reboot) {
        return 0;
    }
    progress(o, "reboot", 0, 1, slot);
    error = fw_flash_reboot(flash, err);
    if (!error) {
        r->rebooted = true;
        error = fw_flash_boot_get(flash, &boot, err);
    }
    if (!error && boot.booted != slot) {
        error = ovnic_err_set(err, -EIO, OBJ, "the device did not boot the new slot",
                              "booted %s", fw_flash_slot_name(boot.booted));
    }
    if (error) {
        return error;
    }
    progress(o, "reboot", 1, 1, slot);
    return o->health_check ? check_and_commit(flash, o, r, err) : 0;
}

static void
result_init(struct fw_install_result *r)
{
    memset(r, 0, sizeof *r);
    r->slot = -1;
}

int
fw_install(struct fw_flash *flash, const void *data, size_t len,
           const struct fw_install_opts *o, struct fw_install_result *result,
           struct ovnic_err *err)
{
    struct fw_install_result *r = malloc(sizeof *r);
    struct fw_flash_boot boot;
    int error, slot;

    if (!r) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    result_init(r);
    progress(o, "verify", 0, 1, -1);
    error = fw_flash_boot_get(flash, &boot, err);
    if (error) {
        goto out;
    }
    if (strcmp(state_of(&boot), "committed")) {
        error = ovnic_err_set(err, -EBUSY, OBJ, "an update is in progress",
                              "state %s (slot %s pending): commit or roll it back first",
                              state_of(&boot), fw_flash_slot_name(boot.pending));
        goto out;
    }
    error = precheck(flash, &boot, data, len, o, r, err);
    if (error) {
        goto out;
    }
    progress(o, "verify", 1, 1, -1);
    slot = 1 - boot.active;
    r->slot = slot;
    OLOG_INFO("installing '%s' (security version %" PRIu32 ") into slot %s", r->hdr.name,
              r->hdr.security_version, fw_flash_slot_name(slot));
    error = write_and_verify(flash, slot, data, len, r->hdr.header_size, o, err);
    if (!error) {
        error = switch_and_try(flash, slot, o, r, err);
    }

out:
    if (result) {
        *result = *r;
    }
    free(r);
    return error;
}

int
fw_install_commit(struct fw_flash *flash, const struct fw_install_opts *o,
                  struct fw_install_result *result, struct ovnic_err *err)
{
    struct fw_install_result *r = malloc(sizeof *r);
    struct fw_flash_boot boot;
    int error;

    if (!r) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    result_init(r);
    error = fw_flash_boot_get(flash, &boot, err);
    if (error) {
        goto out;
    }
    r->slot = boot.pending;
    if (boot.pending < 0) {
        error = ovnic_err_set(err, -EALREADY, OBJ, "nothing to commit",
                              "slot %s is committed and no update is pending",
                              fw_flash_slot_name(boot.active));
        goto out;
    }
    if (boot.booted != boot.pending) {
        if (!o || !o->reboot) {
            error = ovnic_err_set(err, -EAGAIN, OBJ, "the pending slot has not booted",
                                  "reboot into slot %s first",
                                  fw_flash_slot_name(boot.pending));
            goto out;
        }
        progress(o, "reboot", 0, 1, boot.pending);
        error = fw_flash_reboot(flash, err);
        if (!error) {
            r->rebooted = true;
            error = fw_flash_boot_get(flash, &boot, err);
        }
        if (!error && boot.booted != r->slot) {
            error = ovnic_err_set(err, -EIO, OBJ, "the device did not boot the new slot",
                                  "booted %s", fw_flash_slot_name(boot.booted));
        }
        if (error) {
            goto out;
        }
        progress(o, "reboot", 1, 1, boot.pending);
    }
    error = check_and_commit(flash, o, r, err);

out:
    if (result) {
        *result = *r;
    }
    free(r);
    return error;
}

int
fw_install_rollback(struct fw_flash *flash, const struct fw_install_opts *o,
                    struct fw_install_result *result, struct ovnic_err *err)
{
    struct fw_install_result *r = malloc(sizeof *r);
    struct fw_image *image = malloc(sizeof *image);
    struct fw_flash_boot boot;
    uint8_t *data = NULL;
    size_t len;
    int error;

    if (!r || !image) {
        free(r);
        free(image);
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    result_init(r);
    error = fw_flash_boot_get(flash, &boot, err);
    if (error) {
        goto out;
    }
    if (strcmp(state_of(&boot), "committed")) {
        r->slot = boot.active;
        error = roll_back(flash, o, r, err);
        goto out;
    }
    /* Back to the other slot's image, checked as any install. */
    r->slot = 1 - boot.active;
    error = slot_image_read(flash, r->slot, &data, &len, image, err);
    if (error) {
        char text[256];

        ovnic_err_format(err, text, sizeof text);
        ovnic_err_clear(err);
        error = ovnic_err_set(err, -ENOENT, OBJ, "no image to roll back to",
                              "slot %s: %s", fw_flash_slot_name(r->slot), text);
        goto out;
    }
    error = precheck(flash, &boot, data, len, o, r, err);
    if (!error) {
        error = switch_and_try(flash, r->slot, o, r, err);
    }

out:
    if (result) {
        *result = *r;
    }
    free(data);
    free(image);
    free(r);
    return error;
}
