/* ovnic-nicsim: firmware flash with two slots and boot selection (see flash.h). */
#include "tests/hw-sim/nicsim/flash.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/util/log.h"
#include "tests/hw-sim/nicsim/fault.h"

OVNIC_LOG_MODULE(nicsim_flash);

struct nicsim_flash {
    char *dir;
    size_t slot_size;
    int fds[NICSIM_FLASH_SLOTS];
    struct nicsim_flash_boot boot;
    bool powered;
    struct nicsim_faults *faults;
};

const char *
nicsim_flash_slot_name(int slot)
{
    return slot == 0 ? "a" : slot == 1 ? "b" : "-";
}

int
nicsim_flash_slot_parse(const char *s, int *slot)
{
    if (!strcmp(s, "a") || !strcmp(s, "0")) {
        *slot = 0;
    } else if (!strcmp(s, "b") || !strcmp(s, "1")) {
        *slot = 1;
    } else {
        return -EINVAL;
    }
    return 0;
}

/* Stores the boot selection: written to a temporary file, then renamed over DIR/boot,
 * so that it is replaced whole or not at all.  Its bytes count toward an armed flash
 * fault like those of any flash write: a fault that fires inside them leaves the
 * temporary file torn, DIR/boot as it was, and (for a power loss) the flash
 * unpowered. */
static int
boot_save(struct nicsim_flash *f)
{
    char path[PATH_MAX];
    char tmp[PATH_MAX];
    bool powerloss = false;
    size_t allowed;
    char text[128];
    int fault = 0;
    int len;
    int fd;

    snprintf(path, sizeof path, "%s/boot", f->dir);
    snprintf(tmp, sizeof tmp, "%s/boot.tmp~", f->dir);
    len = snprintf(text, sizeof text, "active=%s\npending=%s\ntries=%u\nbooted=%s\n",
                   nicsim_flash_slot_name(f->boot.active),
                   nicsim_flash_slot_name(f->boot.pending), f->boot.tries,
                   nicsim_flash_slot_name(f->boot.booted));
    allowed = (size_t)len;
    if (f->faults) {
        allowed = nicsim_faults_flash_write(f->faults, (size_t)len, &fault, &powerloss);
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -errno;
    }
    if (write(fd, text, allowed) != (ssize_t)allowed || fsync(fd) || close(fd)) {
        int error = errno ? -errno : -EIO;

        close(fd);
        unlink(tmp);
        return error;
    }
    if (fault) {
        if (powerloss) {
            f->powered = false;
            OLOG_WARN("injected power loss after %zu of %d bytes of the boot selection",
                      allowed, len);
        } else {
            OLOG_WARN("injected failure after %zu of %d bytes of the boot selection",
                      allowed, len);
        }
        return -EIO;
    }
    return rename(tmp, path) ? -errno : 0;
}

/* Loads DIR/boot; a missing file means a fresh flash that boots slot a. */
static int
boot_load(struct nicsim_flash *f, struct ovnic_err *err)
{
    char path[PATH_MAX];
    char line[128];
    FILE *file;

    f->boot.active = 0;
    f->boot.pending = -1;
    f->boot.booted = 0;
    f->boot.tries = 0;
    snprintf(path, sizeof path, "%s/boot", f->dir);
    file = fopen(path, "re");
    if (!file) {
        return errno == ENOENT ? boot_save(f) : -errno;
    }
    while (fgets(line, sizeof line, file)) {
        char key[16], value[16];
        int slot;

        if (sscanf(line, "%15[a-z]=%15s", key, value) != 2) {
            goto err_bad;
        }
        if (!strcmp(key, "tries")) {
            f->boot.tries = (unsigned int)strtoul(value, NULL, 10);
            continue;
        }
        if (!strcmp(value, "-")) {
            slot = -1;
        } else if (nicsim_flash_slot_parse(value, &slot)) {
            goto err_bad;
        }
        if (!strcmp(key, "active") && slot >= 0) {
            f->boot.active = slot;
        } else if (!strcmp(key, "pending")) {
            f->boot.pending = slot;
        } else if (!strcmp(key, "booted") && slot >= 0) {
            f->boot.booted = slot;
        } else {
            goto err_bad;
        }
    }
    fclose(file);
    return 0;

err_bad:
    fclose(file);
    return ovnic_err_set(err, -EINVAL, "flash", "malformed boot file", "%s", path);
}

int
nicsim_flash_open(const char *dir, size_t slot_size, struct nicsim_faults *faults,
                  struct nicsim_flash **flashp, struct ovnic_err *err)
{
    struct nicsim_flash *f;
    int error = 0;
    int i;

    if (slot_size < 4096 || slot_size > ((size_t)1 << 30)) {
        return ovnic_err_set(err, -EINVAL, "flash", "bad slot size",
                             "%zu: must be 4 KiB to 1 GiB", slot_size);
    }
    if (mkdir(dir, 0755) && errno != EEXIST) {
        return ovnic_err_set(err, -errno, "flash", "cannot create directory", "%s", dir);
    }
    f = calloc(1, sizeof *f);
    if (!f) {
        return -ENOMEM;
    }
    f->dir = strdup(dir);
    if (!f->dir) {
        free(f);
        return -ENOMEM;
    }
    f->slot_size = slot_size;
    f->faults = faults;
    f->powered = true;
    for (i = 0; i < NICSIM_FLASH_SLOTS; i++) {
        f->fds[i] = -1;
    }
    for (i = 0; i < NICSIM_FLASH_SLOTS; i++) {
        char path[PATH_MAX];
        struct stat st;

        snprintf(path, sizeof path, "%s/slot-%s.bin", dir, nicsim_flash_slot_name(i));
        f->fds[i] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (f->fds[i] < 0 || fstat(f->fds[i], &st)) {
            error = ovnic_err_set(err, -errno, "flash", "cannot open slot", "%s", path);
            goto err_close;
        }
        if (st.st_size == 0) {
            f->powered = true;
            error = nicsim_flash_erase(f, i, err);
            if (error) {
                goto err_close;
            }
        } else if ((size_t)st.st_size != slot_size) {
            error = ovnic_err_set(err, -EINVAL, "flash", "slot file of another size",
                                  "%s: %lld bytes, expected %zu", path,
                                  (long long)st.st_size, slot_size);
            goto err_close;
        }
    }
    error = boot_load(f, err);
    if (error) {
        goto err_close;
    }
    *flashp = f;
    return 0;

err_close:
    nicsim_flash_close(f);
    return error;
}

void
nicsim_flash_close(struct nicsim_flash *f)
{
    int i;

    if (!f) {
        return;
    }
    for (i = 0; i < NICSIM_FLASH_SLOTS; i++) {
        if (f->fds[i] >= 0) {
            close(f->fds[i]);
        }
    }
    free(f->dir);
    free(f);
}

size_t
nicsim_flash_slot_size(const struct nicsim_flash *f)
{
    return f->slot_size;
}

bool
nicsim_flash_is_powered(const struct nicsim_flash *f)
{
    return f->powered;
}

static int
check_io(const struct nicsim_flash *f, int slot, uint64_t offset, size_t len,
         struct ovnic_err *err)
{
    if (!f->powered) {
        return ovnic_err_set(err, -ENODEV, "flash", "no power",
                             "power was lost; power-cycle the flash");
    }
    if (slot < 0 || slot >= NICSIM_FLASH_SLOTS) {
        return ovnic_err_set(err, -EINVAL, "flash", "bad slot", "%d", slot);
    }
    if (len > NICSIM_FLASH_MAX_IO || offset > f->slot_size ||
        len > f->slot_size - offset) {
        return ovnic_err_set(err, -EINVAL, "flash", "range outside the slot",
                             "offset %llu length %zu, slot size %zu",
                             (unsigned long long)offset, len, f->slot_size);
    }
    return 0;
}

static int
pwrite_all(int fd, const void *data, size_t len, uint64_t offset)
{
    const uint8_t *p = data;

    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)offset);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

int
nicsim_flash_read(struct nicsim_flash *f, int slot, uint64_t offset, void *buf,
                  size_t len, struct ovnic_err *err)
{
    uint8_t *p = buf;
    int error;

    error = check_io(f, slot, offset, len, err);
    if (error) {
        return error;
    }
    while (len) {
        ssize_t n = pread(f->fds[slot], p, len, (off_t)offset);

        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return ovnic_err_set(err, -EIO, "flash", "read failed", "slot %s",
                                 nicsim_flash_slot_name(slot));
        }
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

int
nicsim_flash_write(struct nicsim_flash *f, int slot, uint64_t offset, const void *data,
                   size_t len, struct ovnic_err *err)
{
    size_t allowed = len;
    bool powerloss = false;
    int fault = 0;
    int error;

    error = check_io(f, slot, offset, len, err);
    if (error) {
        return error;
    }
    if (f->faults) {
        allowed = nicsim_faults_flash_write(f->faults, len, &fault, &powerloss);
    }
    error = pwrite_all(f->fds[slot], data, allowed, offset);
    if (error) {
        return ovnic_err_set(err, -EIO, "flash", "write failed", "slot %s: %s",
                             nicsim_flash_slot_name(slot), strerror(-error));
    }
    if (fault) {
        if (powerloss) {
            f->powered = false;
            OLOG_WARN("injected power loss after %zu of %zu bytes at slot %s offset %llu",
                      allowed, len, nicsim_flash_slot_name(slot),
                      (unsigned long long)offset);
            return ovnic_err_set(err, -EIO, "flash", "power lost during write",
                                 "%zu of %zu bytes stored", allowed, len);
        }
        OLOG_WARN("injected write failure after %zu of %zu bytes", allowed, len);
        return ovnic_err_set(err, -EIO, "flash", "write failed (injected)",
                             "%zu of %zu bytes stored", allowed, len);
    }
    return 0;
}

int
nicsim_flash_erase(struct nicsim_flash *f, int slot, struct ovnic_err *err)
{
    uint8_t block[65536];
    uint64_t offset;
    int error;

    error = check_io(f, slot, 0, 0, err);
    if (error) {
        return error;
    }
    memset(block, 0xff, sizeof block);
    for (offset = 0; offset < f->slot_size; offset += sizeof block) {
        size_t n = MIN(sizeof block, f->slot_size - offset);

        error = pwrite_all(f->fds[slot], block, n, offset);
        if (error) {
            return ovnic_err_set(err, -EIO, "flash", "erase failed", "slot %s: %s",
                                 nicsim_flash_slot_name(slot), strerror(-error));
        }
    }
    return 0;
}

int
nicsim_flash_boot_get(const struct nicsim_flash *f, struct nicsim_flash_boot *boot)
{
    if (!f->powered) {
        return -ENODEV;
    }
    *boot = f->boot;
    return 0;
}

static int
boot_commit(struct nicsim_flash *f, const struct nicsim_flash_boot *next,
            struct ovnic_err *err)
{
    struct nicsim_flash_boot old = f->boot;
    int error;

    f->boot = *next;
    error = boot_save(f);
    if (error) {
        f->boot = old;
        if (!f->powered) {
            return ovnic_err_set(err, -EIO, "flash",
                                 "power lost while storing the boot selection", NULL);
        }
        return ovnic_err_set(err, -EIO, "flash", "cannot store the boot selection", "%s",
                             strerror(-error));
    }
    return 0;
}

int
nicsim_flash_boot_set(struct nicsim_flash *f, int pending, struct ovnic_err *err)
{
    struct nicsim_flash_boot next = f->boot;

    if (!f->powered) {
        return ovnic_err_set(err, -ENODEV, "flash", "no power", NULL);
    }
    if (pending < -1 || pending >= NICSIM_FLASH_SLOTS) {
        return ovnic_err_set(err, -EINVAL, "flash", "bad slot", "%d", pending);
    }
    next.pending = pending;
    next.tries = 0;
    return boot_commit(f, &next, err);
}

int
nicsim_flash_reboot(struct nicsim_flash *f, struct ovnic_err *err)
{
    struct nicsim_flash_boot next = f->boot;

    if (!f->powered) {
        return ovnic_err_set(err, -ENODEV, "flash", "no power", NULL);
    }
    if (next.pending >= 0 && next.tries < NICSIM_FLASH_MAX_TRIES) {
        next.tries++;
        next.booted = next.pending;
    } else {
        if (next.pending >= 0) {
            OLOG_WARN("slot %s not confirmed after %u boots: back to slot %s",
                      nicsim_flash_slot_name(next.pending), next.tries,
                      nicsim_flash_slot_name(next.active));
        }
        next.pending = -1;
        next.tries = 0;
        next.booted = next.active;
    }
    return boot_commit(f, &next, err);
}

int
nicsim_flash_confirm(struct nicsim_flash *f, struct ovnic_err *err)
{
    struct nicsim_flash_boot next = f->boot;

    if (!f->powered) {
        return ovnic_err_set(err, -ENODEV, "flash", "no power", NULL);
    }
    next.active = next.booted;
    next.pending = -1;
    next.tries = 0;
    return boot_commit(f, &next, err);
}

int
nicsim_flash_power_cycle(struct nicsim_flash *f, struct ovnic_err *err)
{
    int error;

    /* What was in RAM is gone: the boot selection comes back from DIR/boot. */
    f->powered = true;
    error = boot_load(f, err);
    return error ? error : nicsim_flash_reboot(f, err);
}
