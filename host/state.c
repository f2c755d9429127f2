/* ovnic-hostd: the record of VF attachments (see state.h). */
#include "host/state.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/util/json.h"
#include "shared/util/util.h"

const char *
host_attach_kind_name(enum host_attach_kind kind)
{
    return kind == HOST_ATTACH_VM ? "vm" : "netns";
}

void
host_state_init(struct host_state *st)
{
    memset(st, 0, sizeof *st);
}

void
host_state_clear(struct host_state *st)
{
    free(st->records);
    host_state_init(st);
}

struct host_attachment *
host_state_find(const struct host_state *st, const char *pf, unsigned int vf)
{
    size_t i;

    for (i = 0; i < st->n; i++) {
        if (st->records[i].vf == vf && !strcmp(st->records[i].pf, pf)) {
            return &st->records[i];
        }
    }
    return NULL;
}

static int
record_cmp(const void *a_, const void *b_)
{
    const struct host_attachment *a = a_, *b = b_;
    int c = strcmp(a->pf, b->pf);

    return c ? c : a->vf < b->vf ? -1 : a->vf > b->vf;
}

int
host_state_put(struct host_state *st, const struct host_attachment *a)
{
    struct host_attachment *old = host_state_find(st, a->pf, a->vf);

    if (old) {
        *old = *a;
        return 0;
    }
    if (st->n >= HOST_STATE_MAX_RECORDS) {
        return -EFBIG;
    }
    if (st->n == st->allocated) {
        size_t allocated = st->allocated ? 2 * st->allocated : 8;
        struct host_attachment *p = realloc(st->records, allocated * sizeof *p);

        if (!p) {
            return -ENOMEM;
        }
        st->records = p;
        st->allocated = allocated;
    }
    st->records[st->n++] = *a;
    qsort(st->records, st->n, sizeof *st->records, record_cmp);
    return 0;
}

bool
host_state_remove(struct host_state *st, const char *pf, unsigned int vf)
{
    struct host_attachment *a = host_state_find(st, pf, vf);
    size_t i;

    if (!a) {
        return false;
    }
    i = (size_t)(a - st->records);
    memmove(a, a + 1, (st->n - i - 1) * sizeof *a);
    st->n--;
    return true;
}

/* ---- Parsing. ------------------------------------------------------------------ */

/* Copies string member 'key' into 'buf'; 'required' says whether it may be absent.
 * 'check' validates it (may be NULL). */
static int
string_get(const json_t *obj, const char *key, bool required, char *buf, size_t size,
           bool (*check)(const char *), size_t index, struct ovnic_err *err)
{
    const char *s = NULL;
    int error;

    error = required ? json_get_string(obj, key, &s, err)
                     : json_get_string_opt(obj, key, &s, err);
    if (error) {
        return error;
    }
    if (!s) {
        buf[0] = '\0';
        return 0;
    }
    if (strlen(s) >= size) {
        return ovnic_err_set(err, -ERANGE, "attachments", "member too long",
                             "record %zu: '%s' longer than %zu bytes", index, key,
                             size - 1);
    }
    if (check && !check(s)) {
        return ovnic_err_set(err, -EINVAL, "attachments", "bad member value",
                             "record %zu: '%s' = '%.64s'", index, key, s);
    }
    memcpy(buf, s, strlen(s) + 1);
    return 0;
}

static bool
is_mac_or_empty(const char *s)
{
    unsigned int b[6];
    int n = 0;

    if (!s[0]) {
        return true;
    }
    return sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4],
                  &b[5], &n) == 6 &&
           n == 17 && s[n] == '\0';
}

static bool
is_ifname_or_empty(const char *s)
{
    return !strchr(s, '/') && !strpbrk(s, " \t\n:") && strcmp(s, ".") && strcmp(s, "..");
}

static bool
is_printable(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return false;
        }
    }
    return true;
}

static int
record_parse(const json_t *obj, size_t index, struct host_attachment *a,
             struct ovnic_err *err)
{
    char kind[8];
    int64_t v;
    int error;

    memset(a, 0, sizeof *a);
    if (!json_is_object(obj)) {
        return ovnic_err_set(err, -EINVAL, "attachments", "record is not an object",
                             "record %zu", index);
    }
    if ((error = string_get(obj, "pf", true, a->pf, sizeof a->pf, sriov_pci_addr_is_valid,
                            index, err)) ||
        (error = string_get(obj, "vf_pci", true, a->vf_pci, sizeof a->vf_pci,
                            sriov_pci_addr_is_valid, index, err)) ||
        (error = string_get(obj, "kind", true, kind, sizeof kind, NULL, index, err)) ||
        (error = string_get(obj, "netns", false, a->netns, sizeof a->netns, is_printable,
                            index, err)) ||
        (error = string_get(obj, "ifname", false, a->ifname, sizeof a->ifname,
                            is_ifname_or_empty, index, err)) ||
        (error = string_get(obj, "host_ifname", false, a->host_ifname,
                            sizeof a->host_ifname, is_ifname_or_empty, index, err)) ||
        (error = string_get(obj, "host_driver", false, a->host_driver,
                            sizeof a->host_driver, is_ifname_or_empty, index, err)) ||
        (error = string_get(obj, "iface_id", false, a->iface_id, sizeof a->iface_id,
                            is_printable, index, err)) ||
        (error = string_get(obj, "mac", false, a->mac, sizeof a->mac, is_mac_or_empty,
                            index, err))) {
        return error;
    }
    if (!strcmp(kind, "netns")) {
        a->kind = HOST_ATTACH_NETNS;
        if (!a->netns[0] || !a->ifname[0]) {
            return ovnic_err_set(err, -EINVAL, "attachments",
                                 "a netns record needs 'netns' and 'ifname'",
                                 "record %zu", index);
        }
    } else if (!strcmp(kind, "vm")) {
        a->kind = HOST_ATTACH_VM;
    } else {
        return ovnic_err_set(err, -EINVAL, "attachments", "bad member value",
                             "record %zu: 'kind' = '%s' (netns or vm)", index, kind);
    }
    error = json_get_int_range(obj, "vf", 0, SRIOV_MAX_VFS - 1, &v, err);
    if (error) {
        return error;
    }
    a->vf = (unsigned int)v;
    v = -1;
    if (json_object_get(obj, "vlan") &&
        (error = json_get_int_range(obj, "vlan", -1, 4095, &v, err))) {
        return error;
    }
    a->vlan = (int)v;
    v = 0;
    if (json_object_get(obj, "since_ms") &&
        (error = json_get_int_range(obj, "since_ms", 0, INT64_MAX, &v, err))) {
        return error;
    }
    a->since_ms = (uint64_t)v;
    return 0;
}

int
host_state_parse(const char *buf, size_t len, struct host_state *st,
                 struct ovnic_err *err)
{
    const json_t *list = NULL;
    json_t *root = NULL;
    struct host_state tmp;
    int64_t version;
    size_t i;
    int error;

    if (len > HOST_STATE_MAX_BYTES) {
        return ovnic_err_set(err, -EFBIG, "attachments", "file too large",
                             "%zu bytes > %d", len, HOST_STATE_MAX_BYTES);
    }
    error = json_from_buffer(buf, len, &root, err);
    if (error) {
        return error;
    }
    host_state_init(&tmp);
    if (!json_is_object(root)) {
        error = ovnic_err_set(err, -EINVAL, "attachments", "not a JSON object", NULL);
        goto out;
    }
    error = json_get_int_range(root, "version", HOST_STATE_VERSION, HOST_STATE_VERSION,
                               &version, err);
    if (!error) {
        error = json_get_array(root, "attachments", &list, err);
    }
    if (error) {
        goto out;
    }
    if (json_array_size(list) > HOST_STATE_MAX_RECORDS) {
        error = ovnic_err_set(err, -EFBIG, "attachments", "too many records", "%zu > %d",
                              json_array_size(list), HOST_STATE_MAX_RECORDS);
        goto out;
    }
    for (i = 0; i < json_array_size(list); i++) {
        struct host_attachment a;

        error = record_parse(json_array_get(list, i), i, &a, err);
        if (error) {
            goto out;
        }
        if (host_state_find(&tmp, a.pf, a.vf)) {
            error = ovnic_err_set(err, -EINVAL, "attachments", "duplicate record",
                                  "record %zu: VF %u of %s", i, a.vf, a.pf);
            goto out;
        }
        error = host_state_put(&tmp, &a);
        if (error) {
            goto out;
        }
    }
    *st = tmp;
    host_state_init(&tmp);

out:
    host_state_clear(&tmp);
    json_decref(root);
    return error;
}

/* ---- Files. -------------------------------------------------------------------- */

int
host_state_load(const char *dir, struct host_state *st, struct ovnic_err *err)
{
    char path[PATH_MAX];
    char *buf = NULL;
    size_t len = 0;
    int error = 0;
    int fd = -1;

    if (snprintf(path, sizeof path, "%s/" HOST_STATE_FILE, dir) >= (int)sizeof path) {
        return ovnic_err_set(err, -ENAMETOOLONG, "attachments", "path too long", NULL);
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return 0;
        }
        error = -errno;
        return ovnic_err_set(err, error, "attachments", "cannot open", "%s", path);
    }
    buf = malloc(HOST_STATE_MAX_BYTES + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, HOST_STATE_MAX_BYTES + 1 - len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            error = ovnic_err_set(err, -errno, "attachments", "cannot read", "%s", path);
            break;
        }
        if (n == 0 || (len += (size_t)n) > HOST_STATE_MAX_BYTES) {
            break;
        }
    }
    close(fd);
    if (!error) {
        error = host_state_parse(buf, len, st, err);
        if (error) {
            /* Say which file it was. */
            size_t used = strlen(err ? err->detail : "");

            if (err && used + 4 < sizeof err->detail) {
                size_t room = sizeof err->detail - used - 4;
                size_t plen = strlen(path);

                memcpy(err->detail + used, " in ", 4);
                memcpy(err->detail + used + 4, path, MIN(plen, room - 1));
                err->detail[used + 4 + MIN(plen, room - 1)] = '\0';
            }
        }
    }
    free(buf);
    return error;
}

static json_t *
record_to_json(const struct host_attachment *a)
{
    json_t *obj =
        json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:I}", "pf", a->pf, "vf",
                  (json_int_t)a->vf, "vf_pci", a->vf_pci, "kind",
                  host_attach_kind_name(a->kind), "iface_id", a->iface_id, "mac", a->mac,
                  "vlan", (json_int_t)a->vlan, "since_ms", (json_int_t)a->since_ms);

    if (!obj) {
        return NULL;
    }
    if (a->host_ifname[0]) {
        json_object_set_new(obj, "host_ifname", json_string(a->host_ifname));
    }
    if (a->kind == HOST_ATTACH_NETNS) {
        json_object_set_new(obj, "netns", json_string(a->netns));
        json_object_set_new(obj, "ifname", json_string(a->ifname));
    } else if (a->host_driver[0]) {
        json_object_set_new(obj, "host_driver", json_string(a->host_driver));
    }
    return obj;
}

static int
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int
host_state_save(const char *dir, const struct host_state *st, struct ovnic_err *err)
{
    char path[PATH_MAX];
    char tmp[PATH_MAX];
    json_t *root, *list;
    char *text = NULL;
    int error;
    size_t i;
    int fd = -1;

    if (snprintf(path, sizeof path, "%s/" HOST_STATE_FILE, dir) >= (int)sizeof path ||
        snprintf(tmp, sizeof tmp, "%s/." HOST_STATE_FILE ".tmp", dir) >=
            (int)sizeof tmp) {
        return ovnic_err_set(err, -ENAMETOOLONG, "attachments", "path too long", NULL);
    }
    error = util_mkdir_p(dir);
    if (error) {
        return ovnic_err_set(err, error, "attachments",
                             "cannot create the state directory", "%s", dir);
    }
    list = json_array();
    root = json_pack("{s:i, s:o}", "version", HOST_STATE_VERSION, "attachments", list);
    if (!root) {
        return -ENOMEM;
    }
    for (i = 0; i < st->n; i++) {
        if (json_array_append_new(list, record_to_json(&st->records[i]))) {
            json_decref(root);
            return -ENOMEM;
        }
    }
    text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    if (!text) {
        return -ENOMEM;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error = ovnic_err_set(err, -errno, "attachments", "cannot create", "%s", tmp);
        goto out;
    }
    error = write_all(fd, text, strlen(text));
    if (!error) {
        error = write_all(fd, "\n", 1);
    }
    if (!error && fsync(fd)) {
        error = -errno;
    }
    if (close(fd) && !error) {
        error = -errno;
    }
    if (!error && rename(tmp, path)) {
        error = -errno;
    }
    if (error) {
        unlink(tmp);
        ovnic_err_set(err, error, "attachments", "cannot write", "%s", path);
        goto out;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }

out:
    free(text);
    return error;
}

int
host_state_lock(const char *dir, int *fdp, struct ovnic_err *err)
{
    char path[PATH_MAX];
    int error;
    int fd = -1;

    if (snprintf(path, sizeof path, "%s/lock", dir) >= (int)sizeof path) {
        return ovnic_err_set(err, -ENAMETOOLONG, "attachments", "path too long", NULL);
    }
    error = util_mkdir_p(dir);
    if (error) {
        return ovnic_err_set(err, error, "attachments",
                             "cannot create the state directory", "%s", dir);
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return ovnic_err_set(err, -errno, "attachments", "cannot open the lock", "%s",
                             path);
    }
    while (flock(fd, LOCK_EX)) {
        if (errno != EINTR) {
            error = -errno;
            close(fd);
            return ovnic_err_set(err, error, "attachments", "cannot lock", "%s", path);
        }
    }
    *fdp = fd;
    return 0;
}

void
host_state_unlock(int fd)
{
    if (fd >= 0) {
        close(fd);
    }
}
