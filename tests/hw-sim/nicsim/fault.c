/* ovnic-nicsim: faults injected on demand (see fault.h). */
#include "tests/hw-sim/nicsim/fault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/json.h"

static const struct {
    int code;
    const char *name;
} errno_names[] = {
    {EPERM, "EPERM"},     {ENOENT, "ENOENT"},   {EIO, "EIO"},
    {E2BIG, "E2BIG"},     {EAGAIN, "EAGAIN"},   {ENOMEM, "ENOMEM"},
    {EACCES, "EACCES"},   {EBUSY, "EBUSY"},     {EEXIST, "EEXIST"},
    {ENODEV, "ENODEV"},   {EINVAL, "EINVAL"},   {ENOSPC, "ENOSPC"},
    {ERANGE, "ERANGE"},   {ENOTSUP, "ENOTSUP"}, {ETIMEDOUT, "ETIMEDOUT"},
    {EBADMSG, "EBADMSG"}, {EPROTO, "EPROTO"},   {ENOBUFS, "ENOBUFS"},
};

int
nicsim_errno_parse(const char *s, int *error)
{
    size_t i;
    char *end;
    long v;

    for (i = 0; i < ARRAY_SIZE(errno_names); i++) {
        if (!strcmp(s, errno_names[i].name)) {
            *error = -errno_names[i].code;
            return 0;
        }
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v < -4095 || v > 4095) {
        return -EINVAL;
    }
    *error = v < 0 ? (int)v : (int)-v;
    return 0;
}

const char *
nicsim_errno_name(int error)
{
    size_t i;

    error = error < 0 ? -error : error;
    for (i = 0; i < ARRAY_SIZE(errno_names); i++) {
        if (errno_names[i].code == error) {
            return errno_names[i].name;
        }
    }
    return NULL;
}

void
nicsim_faults_init(struct nicsim_faults *f)
{
    memset(f, 0, sizeof *f);
    f->flash_fail_at = -1;
}

int
nicsim_faults_insert_check(struct nicsim_faults *f)
{
    if (f->insert_fail_nth) {
        if (--f->insert_fail_nth == 0) {
            return f->insert_fail_errno;
        }
    }
    return f->table_full ? -ENOSPC : 0;
}

bool
nicsim_faults_uplink_drop(struct nicsim_faults *f)
{
    if (!f->uplink_drop_percent) {
        return false;
    }
    f->uplink_drop_acc += f->uplink_drop_percent;
    if (f->uplink_drop_acc >= 100) {
        f->uplink_drop_acc -= 100;
        f->uplink_dropped++;
        return true;
    }
    return false;
}

size_t
nicsim_faults_flash_write(struct nicsim_faults *f, size_t len, int *error,
                          bool *powerloss)
{
    uint64_t left;

    if (f->flash_fail_at < 0) {
        return len;
    }
    left = (uint64_t)f->flash_fail_at > f->flash_bytes
               ? (uint64_t)f->flash_fail_at - f->flash_bytes
               : 0;
    if (left >= len) {
        f->flash_bytes += len;
        return len;
    }
    *error = -EIO;
    *powerloss = f->flash_powerloss;
    f->flash_fail_at = -1;
    f->flash_powerloss = false;
    f->flash_bytes = 0;
    return (size_t)left;
}

static int
get_errno_member(const json_t *desc, int *error, struct ovnic_err *err)
{
    const json_t *v = json_object_get(desc, "errno");

    if (!v) {
        *error = -EIO;
        return 0;
    }
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);

        if (i != 0 && i >= -4095 && i <= 4095) {
            *error = i < 0 ? (int)i : (int)-i;
            return 0;
        }
    } else if (json_is_string(v) && !nicsim_errno_parse(json_string_value(v), error)) {
        return 0;
    }
    return ovnic_err_set(err, -EINVAL, "fault", "bad errno",
                         "expected a name such as \"ENOSPC\" or a number");
}

int
nicsim_faults_set_json(struct nicsim_faults *f, const json_t *desc, struct ovnic_err *err)
{
    const char *kind;
    int64_t n;
    int error;

    error = json_get_string(desc, "kind", &kind, err);
    if (error) {
        return error;
    }
    if (!strcmp(kind, "insert-fail")) {
        int code;

        error = json_get_int_range(desc, "nth", 1, INT32_MAX, &n, err);
        if (!error) {
            error = get_errno_member(desc, &code, err);
        }
        if (!error) {
            f->insert_fail_nth = (uint64_t)n;
            f->insert_fail_errno = code;
        }
    } else if (!strcmp(kind, "table-full")) {
        bool on = true;

        error = json_get_bool_opt(desc, "on", &on, err);
        if (!error) {
            f->table_full = on;
        }
    } else if (!strcmp(kind, "uplink-drop")) {
        error = json_get_int_range(desc, "percent", 0, 100, &n, err);
        if (!error) {
            f->uplink_drop_percent = (uint32_t)n;
            f->uplink_drop_acc = 0;
        }
    } else if (!strcmp(kind, "uplink-delay")) {
        error = json_get_int_range(desc, "ms", 0, 10000, &n, err);
        if (!error) {
            f->uplink_delay_ms = (uint32_t)n;
        }
    } else if (!strcmp(kind, "flash-fail") || !strcmp(kind, "flash-powerloss")) {
        error = json_get_int_range(desc, "byte", 0, INT64_MAX, &n, err);
        if (!error) {
            f->flash_fail_at = n;
            f->flash_powerloss = !strcmp(kind, "flash-powerloss");
            f->flash_bytes = 0;
        }
    } else {
        return ovnic_err_set(err, -EINVAL, "fault", "unknown fault kind", "'%s'", kind);
    }
    return error < 0 ? (error == -ERANGE ? -EINVAL : error) : 0;
}

json_t *
nicsim_faults_to_json(const struct nicsim_faults *f)
{
    json_t *obj = json_object();
    const char *name;

    if (!obj) {
        return NULL;
    }
    if (f->insert_fail_nth) {
        name = nicsim_errno_name(f->insert_fail_errno);
        json_object_set_new(
            obj, "insert-fail",
            json_pack("{s:I,s:o}", "nth", (json_int_t)f->insert_fail_nth, "errno",
                      name ? json_string(name) : json_integer(f->insert_fail_errno)));
    }
    json_object_set_new(obj, "table-full", json_boolean(f->table_full));
    json_object_set_new(obj, "uplink-drop-percent", json_integer(f->uplink_drop_percent));
    json_object_set_new(obj, "uplink-dropped",
                        json_integer((json_int_t)f->uplink_dropped));
    json_object_set_new(obj, "uplink-delay-ms", json_integer(f->uplink_delay_ms));
    if (f->flash_fail_at >= 0) {
        json_object_set_new(obj, f->flash_powerloss ? "flash-powerloss" : "flash-fail",
                            json_pack("{s:I,s:I}", "byte", (json_int_t)f->flash_fail_at,
                                      "written", (json_int_t)f->flash_bytes));
    }
    return obj;
}
