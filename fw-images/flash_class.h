/* ovnic firmware images: what an A/B flash backend provides (callers use flash.h). */
#ifndef OVNIC_FW_FLASH_CLASS_H
#define OVNIC_FW_FLASH_CLASS_H 1

#include "fw-images/flash.h"

struct fw_flash_class {
    const char *name;
    size_t max_io; /* Largest read or write in one call. */

    /* As the fw_flash_*() functions of flash.h, 'len' at most 'max_io'. */
    int (*read)(struct fw_flash *, int slot, uint64_t offset, void *buf, size_t len,
                struct ovnic_err *);
    int (*write)(struct fw_flash *, int slot, uint64_t offset, const void *data,
                 size_t len, struct ovnic_err *);
    int (*boot_get)(struct fw_flash *, struct fw_flash_boot *, struct ovnic_err *);
    int (*boot_set)(struct fw_flash *, int pending, struct ovnic_err *);
    int (*reboot)(struct fw_flash *, struct ovnic_err *);
    int (*confirm)(struct fw_flash *, struct ovnic_err *);
    /* May be NULL: the family is then unknown (-ENOTSUP). */
    int (*device_family)(struct fw_flash *, char *buf, size_t size, struct ovnic_err *);
    /* Frees the backend's state, 'flash' included. */
    void (*close)(struct fw_flash *);
};

/* Embedded first in each backend's own structure. */
struct fw_flash {
    const struct fw_flash_class *class;
    char name[128];
    uint64_t slot_size;
};

#endif /* OVNIC_FW_FLASH_CLASS_H */
