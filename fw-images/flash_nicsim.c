/* ovnic firmware images: the flash of ovnic-nicsim, through its control socket
 * (methods flash_info, flash_read, flash_write, boot_set, flash_reboot, flash_confirm
 * and status of docs/ovnic-nicsim.md). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw-images/flash.h"
#include "fw-images/flash_class.h"
#include "fw-images/image.h"
#include "shared/util/json.h"
#include "shared/util/rpc_client.h"

#define OBJ "nicsim-flash"
#define NICSIM_MAX_IO ((size_t)256 << 10)
#define NICSIM_MAX_TRIES 3 /* The simulated boot firmware's (tests/hw-sim/nicsim). */

struct flash_nicsim {
    struct fw_flash up;
    struct rpc_client *rpc;
};

static struct flash_nicsim *
nicsim_cast(struct fw_flash *f)
{
    return CONTAINER_OF(f, struct flash_nicsim, up);
}

/* Calls 'method' with 'arg' (taken; NULL: none); stores its result (caller owns). */
static int
call(struct flash_nicsim *n, const char *method, json_t *arg, json_t **resultp,
     struct ovnic_err *err)
{
    json_t *reply = NULL;
    const json_t *error_obj, *result;
    int error;

    error =
        rpc_client_call(n->rpc, method, arg ? json_pack("[o]", arg) : NULL, &reply, err);
    if (error) {
        return error;
    }
    error_obj = json_object_get(reply, "error");
    if (error_obj && !json_is_null(error_obj)) {
        const char *text = NULL, *details = NULL;
        int64_t code = -EIO;

        json_get_string_opt(error_obj, "error", &text, NULL);
        json_get_string_opt(error_obj, "details", &details, NULL);
        json_get_int_opt(error_obj, "errno", &code, NULL);
        if (code >= 0 || code < -4095) {
            code = -EIO;
        }
        error = ovnic_err_set(err, (int)code, OBJ, "the simulated NIC refused",
                              "%s: %s%s%s", method, text ? text : "error",
                              details && *details ? ": " : "", details ? details : "");
        json_decref(reply);
        return error;
    }
    result = json_object_get(reply, "result");
    if (resultp) {
        *resultp = json_incref((json_t *)result);
    }
    json_decref(reply);
    return 0;
}

static int
nicsim_read(struct fw_flash *f, int slot, uint64_t offset, void *buf, size_t len,
            struct ovnic_err *err)
{
    struct flash_nicsim *n = nicsim_cast(f);
    const char *hex;
    json_t *result;
    int error;

    error = call(n, "flash_read",
                 json_pack("{s:s, s:I, s:I}", "slot", fw_flash_slot_name(slot), "offset",
                           (json_int_t)offset, "length", (json_int_t)len),
                 &result, err);
    if (error) {
        return error;
    }
    error = json_get_string(result, "data", &hex, err);
    if (!error && fw_hex_parse(hex, buf, len)) {
        error = ovnic_err_set(err, -EPROTO, OBJ, "malformed flash_read reply",
                              "expected %zu bytes of hex", len);
    }
    json_decref(result);
    return error;
}

static int
nicsim_write(struct fw_flash *f, int slot, uint64_t offset, const void *data, size_t len,
             struct ovnic_err *err)
{
    struct flash_nicsim *n = nicsim_cast(f);
    char *hex = malloc(2 * len + 1);
    int error;

    if (!hex) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    fw_hex_format(data, len, hex);
    error = call(n, "flash_write",
                 json_pack("{s:s, s:I, s:s}", "slot", fw_flash_slot_name(slot), "offset",
                           (json_int_t)offset, "data", hex),
                 NULL, err);
    free(hex);
    return error;
}

static int
slot_of(const json_t *result, const char *key, int *slot, struct ovnic_err *err)
{
    const char *s;
    int error = json_get_string(result, key, &s, err);

    if (error) {
        return error;
    }
    if (!strcmp(s, "a")) {
        *slot = 0;
    } else if (!strcmp(s, "b")) {
        *slot = 1;
    } else if (!strcmp(s, "-")) {
        *slot = -1;
    } else {
        return ovnic_err_set(err, -EPROTO, OBJ, "malformed boot selection", "%s '%s'",
                             key, s);
    }
    return 0;
}

/* Parses a boot selection as flash_info and the boot methods return it. */
static int
boot_parse(const json_t *result, struct fw_flash_boot *boot, struct ovnic_err *err)
{
    struct fw_flash_boot b = {.max_tries = NICSIM_MAX_TRIES};
    int64_t tries;
    int error;

    error = slot_of(result, "active", &b.active, err);
    if (!error) {
        error = slot_of(result, "pending", &b.pending, err);
    }
    if (!error) {
        error = slot_of(result, "booted", &b.booted, err);
    }
    if (!error) {
        error = json_get_int_range(result, "tries", 0, 1000, &tries, err);
    }
    if (error) {
        return error == -ERANGE || error == -EINVAL ? -EPROTO : error;
    }
    if (b.active < 0 || b.booted < 0) {
        return ovnic_err_set(err, -EPROTO, OBJ, "malformed boot selection", NULL);
    }
    b.tries = (unsigned int)tries;
    *boot = b;
    return 0;
}

static int
nicsim_boot_get(struct fw_flash *f, struct fw_flash_boot *boot, struct ovnic_err *err)
{
    struct flash_nicsim *n = nicsim_cast(f);
    bool powered = true;
    json_t *result;
    int error;

    error = call(n, "flash_info", NULL, &result, err);
    if (error) {
        return error;
    }
    json_get_bool_opt(result, "powered", &powered, NULL);
    if (!powered) {
        json_decref(result);
        return ovnic_err_set(err, -ENODEV, OBJ, "no power", "the flash lost power");
    }
    error = boot_parse(result, boot, err);
    json_decref(result);
    return error;
}

static int
nicsim_boot_call(struct fw_flash *f, const char *method, json_t *arg,
                 struct ovnic_err *err)
{
    json_t *result = NULL;
    int error = call(nicsim_cast(f), method, arg, &result, err);

    json_decref(result);
    return error;
}

static int
nicsim_boot_set(struct fw_flash *f, int pending, struct ovnic_err *err)
{
    return nicsim_boot_call(
        f, "boot_set",
        json_pack("{s:o}", "pending",
                  pending < 0 ? json_null() : json_string(fw_flash_slot_name(pending))),
        err);
}

static int
nicsim_reboot(struct fw_flash *f, struct ovnic_err *err)
{
    return nicsim_boot_call(f, "flash_reboot", NULL, err);
}

static int
nicsim_confirm(struct fw_flash *f, struct ovnic_err *err)
{
    return nicsim_boot_call(f, "flash_confirm", NULL, err);
}

/* The simulated NIC of profile P is family OVNIC-SIM-P (upper case). */
static int
nicsim_device_family(struct fw_flash *f, char *buf, size_t size, struct ovnic_err *err)
{
    const char *profile;
    json_t *result;
    int error;

    error = call(nicsim_cast(f), "status", NULL, &result, err);
    if (error) {
        return error;
    }
    error = json_get_string(result, "profile", &profile, err);
    if (!error) {
        size_t i, n = (size_t)snprintf(buf, size, "OVNIC-SIM-%s", profile);

        for (i = strlen("OVNIC-SIM-"); i < n && i < size; i++) {
            buf[i] = (char)toupper((unsigned char)buf[i]);
        }
    }
    json_decref(result);
    return error;
}

static void
nicsim_close(struct fw_flash *f)
{
    struct flash_nicsim *n = nicsim_cast(f);

    rpc_client_close(n->rpc);
    free(n);
}

static const struct fw_flash_class nicsim_class = {
    .name = "nicsim",
    .max_io = NICSIM_MAX_IO,
    .read = nicsim_read,
    .write = nicsim_write,
    .boot_get = nicsim_boot_get,
    .boot_set = nicsim_boot_set,
    .reboot = nicsim_reboot,
    .confirm = nicsim_confirm,
    .device_family = nicsim_device_family,
    .close = nicsim_close,
};

int
fw_flash_nicsim_open(const char *socket, int timeout_ms, struct fw_flash **flashp,
                     struct ovnic_err *err)
{
    struct flash_nicsim *n = calloc(1, sizeof *n);
    char remote[4200];
    json_t *info;
    int64_t size;
    int error;

    if (!n) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    n->up.class = &nicsim_class;
    snprintf(n->up.name, sizeof n->up.name, "nicsim:%s", socket);
    snprintf(remote, sizeof remote, "unix:%s", socket);
    error = rpc_client_open(remote, timeout_ms, &n->rpc, err);
    if (error) {
        free(n);
        return error;
    }
    error = call(n, "flash_info", NULL, &info, err);
    if (!error) {
        error = json_get_int_range(info, "slot_size", 4096, INT64_MAX, &size, err);
        json_decref(info);
    }
    if (error) {
        nicsim_close(&n->up);
        return error;
    }
    n->up.slot_size = (uint64_t)size;
    *flashp = &n->up;
    return 0;
}
