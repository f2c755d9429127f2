/* ovnic firmware images: the caller side of an A/B flash (see flash.h). */
#include "fw-images/flash.h"

#include <errno.h>

#include "fw-images/flash_class.h"

void
fw_flash_close(struct fw_flash *flash)
{
    if (flash) {
        flash->class->close(flash);
    }
}

const char *
fw_flash_name(const struct fw_flash *flash)
{
    return flash->name;
}

uint64_t
fw_flash_slot_size(const struct fw_flash *flash)
{
    return flash->slot_size;
}

const char *
fw_flash_slot_name(int slot)
{
    return slot == 0 ? "a" : slot == 1 ? "b" : "-";
}

static int
check_range(const struct fw_flash *flash, int slot, uint64_t offset, size_t len,
            struct ovnic_err *err)
{
    if (slot < 0 || slot >= FW_FLASH_SLOTS) {
        return ovnic_err_set(err, -EINVAL, "flash", "bad slot", "%d", slot);
    }
    if (offset > flash->slot_size || len > flash->slot_size - offset) {
        return ovnic_err_set(err, -EINVAL, "flash", "range outside the slot",
                             "offset %llu length %zu, slot size %llu",
                             (unsigned long long)offset, len,
                             (unsigned long long)flash->slot_size);
    }
    return 0;
}

int
fw_flash_read(struct fw_flash *flash, int slot, uint64_t offset, void *buf, size_t len,
              struct ovnic_err *err)
{
    uint8_t *p = buf;
    int error = check_range(flash, slot, offset, len, err);

    while (!error && len) {
        size_t n = len < flash->class->max_io ? len : flash->class->max_io;

        error = flash->class->read(flash, slot, offset, p, n, err);
        p += n;
        offset += n;
        len -= n;
    }
    return error;
}

int
fw_flash_write(struct fw_flash *flash, int slot, uint64_t offset, const void *data,
               size_t len, struct ovnic_err *err)
{
    const uint8_t *p = data;
    int error = check_range(flash, slot, offset, len, err);

    while (!error && len) {
        size_t n = len < flash->class->max_io ? len : flash->class->max_io;

        error = flash->class->write(flash, slot, offset, p, n, err);
        p += n;
        offset += n;
        len -= n;
    }
    return error;
}

int
fw_flash_boot_get(struct fw_flash *flash, struct fw_flash_boot *boot,
                  struct ovnic_err *err)
{
    return flash->class->boot_get(flash, boot, err);
}

int
fw_flash_boot_set(struct fw_flash *flash, int pending, struct ovnic_err *err)
{
    if (pending < -1 || pending >= FW_FLASH_SLOTS) {
        return ovnic_err_set(err, -EINVAL, "flash", "bad slot", "%d", pending);
    }
    return flash->class->boot_set(flash, pending, err);
}

int
fw_flash_reboot(struct fw_flash *flash, struct ovnic_err *err)
{
    return flash->class->reboot(flash, err);
}

int
fw_flash_confirm(struct fw_flash *flash, struct ovnic_err *err)
{
    return flash->class->confirm(flash, err);
}

int
fw_flash_device_family(struct fw_flash *flash, char *buf, size_t size,
                       struct ovnic_err *err)
{
    if (!flash->class->device_family) {
        return ovnic_err_set(err, -ENOTSUP, "flash", "device family unknown",
                             "the %s backend cannot tell it", flash->class->name);
    }
    return flash->class->device_family(flash, buf, size, err);
}
