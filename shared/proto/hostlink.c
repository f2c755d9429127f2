/* ovnic: hostlink message schema and codec (see hostlink.h). */
#include "shared/proto/hostlink.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/json.h"
#include "shared/util/jsonrpc.h"
#include "shared/util/util.h"

/* ---- Versions and error codes. ------------------------------------------------ */

enum hostlink_error
hostlink_version_negotiate(unsigned int min_a, unsigned int max_a, unsigned int min_b,
                           unsigned int max_b, unsigned int *version)
{
    if (max_b < min_a) {
        return HOSTLINK_ERR_VERSION_TOO_OLD;
    }
    if (min_b > max_a) {
        return HOSTLINK_ERR_VERSION_TOO_NEW;
    }
    *version = MIN(max_a, max_b);
    return HOSTLINK_OK;
}

static const char *const error_names[] = {
    [HOSTLINK_OK] = "ok",
    [HOSTLINK_ERR_MALFORMED] = "malformed",
    [HOSTLINK_ERR_VERSION_TOO_OLD] = "version-too-old",
    [HOSTLINK_ERR_VERSION_TOO_NEW] = "version-too-new",
    [HOSTLINK_ERR_OUT_OF_ORDER] = "out-of-order",
    [HOSTLINK_ERR_UNKNOWN_METHOD] = "unknown-method",
    [HOSTLINK_ERR_UNAUTHORIZED] = "unauthorized",
    [HOSTLINK_ERR_NOT_OWNED] = "not-owned",
    [HOSTLINK_ERR_MAC_MISMATCH] = "mac-mismatch",
    [HOSTLINK_ERR_BOUND_ELSEWHERE] = "bound-elsewhere",
    [HOSTLINK_ERR_NOT_FOUND] = "not-found",
    [HOSTLINK_ERR_RATE_LIMITED] = "rate-limited",
    [HOSTLINK_ERR_BUSY] = "busy",
    [HOSTLINK_ERR_TIMEOUT] = "timeout",
    [HOSTLINK_ERR_UNSUPPORTED] = "unsupported",
    [HOSTLINK_ERR_LEASE_EXPIRED] = "lease-expired",
    [HOSTLINK_ERR_SUPERSEDED] = "superseded",
    [HOSTLINK_ERR_CLOSED] = "closed",
    [HOSTLINK_ERR_INTERNAL] = "internal",
};
_Static_assert(ARRAY_SIZE(error_names) == HOSTLINK_ERR_LAST + 1, "error names");

const char *
hostlink_error_name(int code)
{
    return code >= 0 && code <= HOSTLINK_ERR_LAST ? error_names[code] : "unknown";
}

int
hostlink_error_from_name(const char *name, int *code)
{
    for (int i = 0; i <= HOSTLINK_ERR_LAST; i++) {
        if (!strcmp(name, error_names[i])) {
            *code = i;
            return 0;
        }
    }
    return -EINVAL;
}

bool
hostlink_error_is_fatal(int code)
{
    switch (code) {
    case HOSTLINK_ERR_MALFORMED:
    case HOSTLINK_ERR_VERSION_TOO_OLD:
    case HOSTLINK_ERR_VERSION_TOO_NEW:
    case HOSTLINK_ERR_OUT_OF_ORDER:
    case HOSTLINK_ERR_UNKNOWN_METHOD:
    case HOSTLINK_ERR_UNAUTHORIZED:
    case HOSTLINK_ERR_BUSY:
    case HOSTLINK_ERR_TIMEOUT:
    case HOSTLINK_ERR_LEASE_EXPIRED:
    case HOSTLINK_ERR_SUPERSEDED:
    case HOSTLINK_ERR_CLOSED:
        return true;
    default:
        return false;
    }
}

int
hostlink_error_from_errno(int error)
{
    switch (error) {
    case -ENOSYS:
        return HOSTLINK_ERR_UNKNOWN_METHOD;
    case -EPROTO:
    case -EINVAL:
    case -ERANGE:
    case -EMSGSIZE:
        return HOSTLINK_ERR_MALFORMED;
    case -EBUSY:
        return HOSTLINK_ERR_BUSY;
    case -ETIMEDOUT:
        return HOSTLINK_ERR_TIMEOUT;
    default:
        return HOSTLINK_ERR_INTERNAL;
    }
}

/* ---- Transports. ------------------------------------------------------------- */

int
hostlink_check_transport(const char *remote, bool passive, bool allow_plain,
                         bool have_tls, bool *tls, struct ovnic_err *err)
{
    const char *ssl = passive ? "pssl:" : "ssl:";
    const char *unix_ = passive ? "punix:" : "unix:";
    const char *tcp = passive ? "ptcp:" : "tcp:";

    if (!remote) {
        return ovnic_err_set(err, -EINVAL, "hostlink", "no address given", NULL);
    }
    if (!strncmp(remote, ssl, strlen(ssl))) {
        if (!have_tls) {
            return ovnic_err_set(err, -EINVAL, "hostlink",
                                 "TLS needs a CA, a certificate and a key", "%s", remote);
        }
        *tls = true;
        return 0;
    }
    if (!strncmp(remote, unix_, strlen(unix_)) || !strncmp(remote, tcp, strlen(tcp))) {
        if (!allow_plain) {
            return ovnic_err_set(
                err, -EINVAL, "hostlink",
                "a plain transport (no TLS) must be asked for explicitly", "%s", remote);
        }
        *tls = false;
        return 0;
    }
    return ovnic_err_set(err, -EINVAL, "hostlink", "unknown transport",
                         "%s (expected %sIP:PORT%s)", remote, ssl,
                         passive ? "" : ", or with plain transports allowed unix:/tcp:");
}

/* ---- Field types. ------------------------------------------------------------- */

char *
hostlink_mac_format(const struct hostlink_mac *mac, char buf[HOSTLINK_MAC_LEN + 1])
{
    return util_mac_format(mac->b, buf);
}

char *
hostlink_pci_format(const struct hostlink_pci *pci, char buf[HOSTLINK_PCI_LEN + 1])
{
    snprintf(buf, HOSTLINK_PCI_LEN + 1, "%04x:%02x:%02x.%x", pci->domain, pci->bus,
             pci->slot & 0x1f, pci->func & 0x7);
    return buf;
}

static int
hex_digit__(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Parses 'n' hex digits at 's'; -1 if one is not. */
static long
hex_run__(const char *s, size_t n)
{
    long v = 0;

    for (size_t i = 0; i < n; i++) {
        int d = hex_digit__(s[i]);

        if (d < 0) {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

int
hostlink_mac_parse(const char *s, struct hostlink_mac *mac)
{
    return util_mac_parse(s, mac->b);
}

int
hostlink_pci_parse(const char *s, struct hostlink_pci *pci)
{
    long domain, bus, slot, func;

    if (strlen(s) != HOSTLINK_PCI_LEN || s[4] != ':' || s[7] != ':' || s[10] != '.') {
        return -EINVAL;
    }
    domain = hex_run__(s, 4);
    bus = hex_run__(s + 5, 2);
    slot = hex_run__(s + 8, 2);
    func = hex_run__(s + 11, 1);
    if (domain < 0 || bus < 0 || slot < 0 || slot > 0x1f || func < 0 || func > 7) {
        return -EINVAL;
    }
    *pci = (struct hostlink_pci){(uint16_t)domain, (uint8_t)bus, (uint8_t)slot,
                                 (uint8_t)func};
    return 0;
}

bool
hostlink_mac_is_zero(const struct hostlink_mac *mac)
{
    static const struct hostlink_mac zero;

    return !memcmp(mac, &zero, sizeof *mac);
}

bool
hostlink_mac_is_multicast(const struct hostlink_mac *mac)
{
    return mac->b[0] & 1;
}

static uint32_t
pci_key__(const struct hostlink_pci *pci)
{
    return (uint32_t)pci->domain << 16 | (uint32_t)pci->bus << 8 |
           (uint32_t)(pci->slot & 0x1f) << 3 | (pci->func & 7);
}

static uint64_t
mac_key__(const struct hostlink_mac *mac)
{
    uint64_t k = 0;

    for (size_t i = 0; i < 6; i++) {
        k = k << 8 | mac->b[i];
    }
    return k;
}

/* ---- Methods. ----------------------------------------------------------------- */

struct method_info {
    const char *name;
    unsigned int since;
    bool request;
};

static const struct method_info methods[HOSTLINK_N_METHODS] = {
    [HOSTLINK_HELLO] = {"hello", 1, true},
    [HOSTLINK_KEEPALIVE] = {"keepalive", 1, true},
    [HOSTLINK_INVENTORY] = {"inventory", 1, true},
    [HOSTLINK_VF_STATUS] = {"vf-status", 1, true},
    [HOSTLINK_ATTACH_REQUEST] = {"attach-request", 1, true},
    [HOSTLINK_DETACH_REQUEST] = {"detach-request", 1, true},
    [HOSTLINK_RESYNC] = {"resync", 1, true},
    [HOSTLINK_PLUG_RESULT] = {"plug-result", 1, false},
    [HOSTLINK_BYE] = {"bye", 1, false},
};

const char *
hostlink_method_name(enum hostlink_method method)
{
    return method < HOSTLINK_N_METHODS ? methods[method].name : "unknown";
}

int
hostlink_method_from_name(const char *name, enum hostlink_method *method)
{
    for (size_t i = 0; i < HOSTLINK_N_METHODS; i++) {
        if (!strcmp(name, methods[i].name)) {
            *method = (enum hostlink_method)i;
            return 0;
        }
    }
    return -ENOSYS;
}

bool
hostlink_method_is_request(enum hostlink_method method)
{
    return method < HOSTLINK_N_METHODS && methods[method].request;
}

unsigned int
hostlink_method_since(enum hostlink_method method)
{
    return method < HOSTLINK_N_METHODS ? methods[method].since : UINT32_MAX;
}

/* ---- Memory. ------------------------------------------------------------------ */

void
hostlink_inventory_clear(struct hostlink_inventory *inv)
{
    if (!inv) {
        return;
    }
    for (size_t i = 0; i < inv->n_pfs; i++) {
        free(inv->pfs[i].vfs);
    }
    free(inv->pfs);
    inv->pfs = NULL;
    inv->n_pfs = 0;
}

void
hostlink_resync_clear(struct hostlink_resync *resync)
{
    if (!resync) {
        return;
    }
    hostlink_inventory_clear(&resync->inventory);
    free(resync->attachments);
    resync->attachments = NULL;
    resync->n_attachments = 0;
}

void
hostlink_msg_clear(struct hostlink_msg *msg)
{
    if (!msg) {
        return;
    }
    if (msg->method == HOSTLINK_INVENTORY) {
        hostlink_inventory_clear(&msg->u.inventory);
    } else if (msg->method == HOSTLINK_RESYNC) {
        hostlink_resync_clear(&msg->u.resync);
    }
    memset(&msg->u, 0, sizeof msg->u);
}

int
hostlink_inventory_alloc(struct hostlink_inventory *inv, size_t n_pfs)
{
    struct hostlink_pf *pfs;

    if (n_pfs > HOSTLINK_MAX_PFS) {
        return -EMSGSIZE;
    }
    pfs = calloc(n_pfs ? n_pfs : 1, sizeof *pfs);
    if (!pfs) {
        return -ENOMEM;
    }
    hostlink_inventory_clear(inv);
    inv->pfs = pfs;
    inv->n_pfs = n_pfs;
    return 0;
}

int
hostlink_pf_alloc_vfs(struct hostlink_pf *pf, size_t n)
{
    struct hostlink_vf *vfs;

    if (n > HOSTLINK_MAX_VFS_PER_PF) {
        return -EMSGSIZE;
    }
    vfs = calloc(n ? n : 1, sizeof *vfs);
    if (!vfs) {
        return -ENOMEM;
    }
    free(pf->vfs);
    pf->vfs = vfs;
    pf->n_vfs = n;
    pf->vf_count = (uint16_t)n;
    return 0;
}

int
hostlink_resync_alloc_attachments(struct hostlink_resync *resync, size_t n)
{
    struct hostlink_attach *a;

    if (n > HOSTLINK_MAX_VFS) {
        return -EMSGSIZE;
    }
    a = calloc(n ? n : 1, sizeof *a);
    if (!a) {
        return -ENOMEM;
    }
    free(resync->attachments);
    resync->attachments = a;
    resync->n_attachments = n;
    return 0;
}

static int
inventory_clone__(const struct hostlink_inventory *src, struct hostlink_inventory *dst)
{
    struct hostlink_inventory inv = {0};

    if (hostlink_inventory_alloc(&inv, src->n_pfs)) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < src->n_pfs; i++) {
        inv.pfs[i] = src->pfs[i];
        inv.pfs[i].vfs = NULL;
        inv.pfs[i].n_vfs = 0;
        if (hostlink_pf_alloc_vfs(&inv.pfs[i], src->pfs[i].n_vfs)) {
            hostlink_inventory_clear(&inv);
            return -ENOMEM;
        }
        inv.pfs[i].vf_count = src->pfs[i].vf_count;
        memcpy(inv.pfs[i].vfs, src->pfs[i].vfs,
               src->pfs[i].n_vfs * sizeof *src->pfs[i].vfs);
    }
    *dst = inv;
    return 0;
}

int
hostlink_msg_clone(const struct hostlink_msg *src, struct hostlink_msg *dst)
{
    struct hostlink_msg m = *src;

    if (src->method == HOSTLINK_INVENTORY) {
        if (inventory_clone__(&src->u.inventory, &m.u.inventory)) {
            return -ENOMEM;
        }
    } else if (src->method == HOSTLINK_RESYNC) {
        const struct hostlink_resync *r = &src->u.resync;

        memset(&m.u.resync, 0, sizeof m.u.resync);
        if (inventory_clone__(&r->inventory, &m.u.resync.inventory)) {
            return -ENOMEM;
        }
        if (hostlink_resync_alloc_attachments(&m.u.resync, r->n_attachments)) {
            hostlink_resync_clear(&m.u.resync);
            return -ENOMEM;
        }
        memcpy(m.u.resync.attachments, r->attachments,
               r->n_attachments * sizeof *r->attachments);
    }
    *dst = m;
    return 0;
}

/* ---- Decoding context. -------------------------------------------------------- */

/* Where the decoder is ("inventory.pfs[0].vfs[3].mac"), for error messages. */
struct dctx {
    struct ovnic_err *err;
    unsigned int version;
    size_t len;
    char path[160];
};

static size_t OVNIC_PRINTF(2, 3) path_push(struct dctx *c, const char *fmt, ...)
{
    size_t old = c->len;
    va_list args;

    if (c->len < sizeof c->path - 1) {
        va_start(args, fmt);
        vsnprintf(c->path + c->len, sizeof c->path - c->len, fmt, args);
        va_end(args);
        c->len += strlen(c->path + c->len);
    }
    return old;
}

static size_t
path_push_key(struct dctx *c, const char *key)
{
    return path_push(c, "%s%s", c->len ? "." : "", key);
}

static void
path_pop(struct dctx *c, size_t old)
{
    c->len = old;
    c->path[old] = '\0';
}

static int OVNIC_PRINTF(4, 5)
    fail(struct dctx *c, int code, const char *message, const char *fmt, ...)
{
    char detail[OVNIC_ERR_DETAIL_LEN];
    va_list args;

    detail[0] = '\0';
    if (fmt) {
        va_start(args, fmt);
        vsnprintf(detail, sizeof detail, fmt, args);
        va_end(args);
    }
    return ovnic_err_set(c->err, code, "hostlink", message, "%s%s%s", c->path,
                         detail[0] ? ": " : "", detail);
}

/* A string from the peer, shortened and made printable, for an error message. */
static const char *
quote__(const char *s, size_t len, char *buf, size_t size)
{
    size_t n = 0;

    for (size_t i = 0; i < len && n + 4 < size; i++) {
        unsigned char ch = (unsigned char)s[i];

        buf[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    if (len && n < len && n + 4 <= size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

/* ---- Member getters: 0 (present and valid), 1 (absent and optional), or a
 * negative errno. */

enum {
    REQUIRED = 1 << 0,
    ALLOW_EMPTY = 1 << 1, /* Strings. */
    UNICAST = 1 << 2,     /* MACs: not multicast. */
    NONZERO = 1 << 3,     /* MACs: not all zero. */
};

/* Checks that 'obj' is an object whose members all appear in 'keys' (NULL
 * terminated) or in 'keys2' (may be NULL). */
static int
check_object(struct dctx *c, const json_t *obj, const char *const *keys,
             const char *const *keys2)
{
    const char *key;
    json_t *value;

    if (!json_is_object(obj)) {
        return fail(c, -EPROTO, "not an object", "%s", json_type_name(obj));
    }
    json_object_foreach((json_t *)obj, key, value)
    {
        const char *const *k;
        bool found = false;

        for (k = keys; *k && !found; k++) {
            found = !strcmp(key, *k);
        }
        for (k = keys2; k && *k && !found; k++) {
            found = !strcmp(key, *k);
        }
        if (!found) {
            char q[48];

            return fail(c, -EPROTO, "unknown member", "\"%s\"",
                        quote__(key, strlen(key), q, sizeof q));
        }
    }
    return 0;
}

static int
get_member(struct dctx *c, const json_t *obj, const char *key, int flags,
           const json_t **out)
{
    const json_t *v = json_object_get(obj, key);

    if (!v) {
        if (flags & REQUIRED) {
            size_t old = path_push_key(c, key);
            int error = fail(c, -EPROTO, "missing member", NULL);

            path_pop(c, old);
            return error;
        }
        return 1;
    }
    *out = v;
    return 0;
}

static int
get_uint(struct dctx *c, const json_t *obj, const char *key, uint64_t min, uint64_t max,
         int flags, uint64_t *out)
{
    const json_t *v = NULL;
    int error = get_member(c, obj, key, flags, &v);
    size_t old;

    if (error) {
        return error;
    }
    old = path_push_key(c, key);
    if (!json_is_integer(v)) {
        error = fail(c, -EPROTO, "not an integer", "%s", json_type_name(v));
    } else if (json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) < min ||
               (uint64_t)json_integer_value(v) > max) {
        error = fail(c, -ERANGE, "out of range", "%lld, not %llu to %llu",
                     (long long)json_integer_value(v), (unsigned long long)min,
                     (unsigned long long)max);
    } else {
        *out = (uint64_t)json_integer_value(v);
    }
    path_pop(c, old);
    return error;
}

static int
get_bool(struct dctx *c, const json_t *obj, const char *key, int flags, bool *out)
{
    const json_t *v = NULL;
    int error = get_member(c, obj, key, flags, &v);
    size_t old;

    if (error) {
        return error;
    }
    old = path_push_key(c, key);
    if (!json_is_boolean(v)) {
        error = fail(c, -EPROTO, "not a boolean", "%s", json_type_name(v));
    } else {
        *out = json_is_true(v);
    }
    path_pop(c, old);
    return error;
}

typedef bool (*charset_fn)(unsigned char ch);

static bool
cs_printable(unsigned char ch)
{
    return ch >= 0x20 && ch < 0x7f;
}

static bool
cs_name(unsigned char ch)
{
    return isalnum(ch) || (ch && strchr("._-:@", ch));
}

static bool
cs_word(unsigned char ch)
{
    return isalnum(ch) || (ch && strchr("_.-", ch));
}

static bool
cs_target(unsigned char ch)
{
    return isalnum(ch) || (ch && strchr("._-:@+", ch));
}

static bool
cs_iface_id(unsigned char ch)
{
    return isalnum(ch) || (ch && strchr("-_.:@/+=", ch));
}

static bool
cs_netdev(unsigned char ch)
{
    return ch > 0x20 && ch < 0x7f && ch != '/' && ch != ':';
}

/* A string of 'max' bytes at most, of characters 'cs', into 'out' (max + 1 bytes). */
static int
get_string(struct dctx *c, const json_t *obj, const char *key, size_t max, charset_fn cs,
           int flags, char *out)
{
    const json_t *v = NULL;
    int error = get_member(c, obj, key, flags, &v);
    size_t old, len;
    const char *s;

    if (error) {
        return error;
    }
    old = path_push_key(c, key);
    if (!json_is_string(v)) {
        error = fail(c, -EPROTO, "not a string", "%s", json_type_name(v));
        goto out;
    }
    s = json_string_value(v);
    len = json_string_length(v);
    if (len > max) {
        error = fail(c, -EMSGSIZE, "string too long", "%zu bytes, at most %zu", len, max);
        goto out;
    }
    if (!len && !(flags & ALLOW_EMPTY)) {
        error = fail(c, -EINVAL, "empty string", NULL);
        goto out;
    }
    for (size_t i = 0; i < len; i++) {
        if (!cs((unsigned char)s[i])) {
            char q[48];

            error =
                fail(c, -EINVAL, "character not allowed", "byte 0x%02x at %zu of \"%s\"",
                     (unsigned char)s[i], i, quote__(s, len, q, sizeof q));
            goto out;
        }
    }
    memcpy(out, s, len);
    out[len] = '\0';
out:
    path_pop(c, old);
    return error;
}

static int
get_mac(struct dctx *c, const json_t *obj, const char *key, int flags,
        struct hostlink_mac *out)
{
    char text[HOSTLINK_MAC_LEN + 1];
    struct hostlink_mac mac;
    int error =
        get_string(c, obj, key, HOSTLINK_MAC_LEN, cs_printable, flags & REQUIRED, text);
    size_t old;

    if (error) {
        return error;
    }
    old = path_push_key(c, key);
    if (hostlink_mac_parse(text, &mac)) {
        error = fail(c, -EINVAL, "not a MAC address", "\"%s\"", text);
    } else if ((flags & UNICAST) && hostlink_mac_is_multicast(&mac)) {
        error = fail(c, -EINVAL, "not a unicast MAC address", "%s", text);
    } else if ((flags & NONZERO) && hostlink_mac_is_zero(&mac)) {
        error = fail(c, -EINVAL, "MAC address is zero", NULL);
    } else {
        *out = mac;
    }
    path_pop(c, old);
    return error;
}

static int
get_pci(struct dctx *c, const json_t *obj, const char *key, int flags,
        struct hostlink_pci *out)
{
    char text[HOSTLINK_PCI_LEN + 1];
    struct hostlink_pci pci;
    int error =
        get_string(c, obj, key, HOSTLINK_PCI_LEN, cs_printable, flags & REQUIRED, text);
    size_t old;

    if (error) {
        return error;
    }
    old = path_push_key(c, key);
    if (hostlink_pci_parse(text, &pci)) {
        error = fail(c, -EINVAL, "not a PCI address (DDDD:BB:SS.F)", "\"%s\"", text);
    } else {
        *out = pci;
    }
    path_pop(c, old);
    return error;
}

/* One of 'n' names, as its index. */
static int
get_enum(struct dctx *c, const json_t *obj, const char *key, const char *const *names,
         size_t n, int flags, int *out)
{
    char text[32];
    int error = get_string(c, obj, key, sizeof text - 1, cs_printable, flags, text);
    size_t old;

    if (error) {
        return error;
    }
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(text, names[i])) {
            *out = (int)i;
            return 0;
        }
    }
    old = path_push_key(c, key);
    error = fail(c, -EINVAL, "not an allowed value", "\"%s\"", text);
    path_pop(c, old);
    return error;
}

static int
get_array(struct dctx *c, const json_t *obj, const char *key, size_t max, int flags,
          const json_t **out)
{
    const json_t *v = NULL;
    int error = get_member(c, obj, key, flags, &v);
    size_t old;

    if (error) {
        return error;
    }
    old = path_push_key(c, key);
    if (!json_is_array(v)) {
        error = fail(c, -EPROTO, "not an array", "%s", json_type_name(v));
    } else if (json_array_size(v) > max) {
        error = fail(c, -EMSGSIZE, "too many elements", "%zu, at most %zu",
                     json_array_size(v), max);
    } else {
        *out = v;
    }
    path_pop(c, old);
    return error;
}

#define CHECK(EXPR)           \
    do {                      \
        int error__ = (EXPR); \
        if (error__ < 0) {    \
            return error__;   \
        }                     \
    } while (0)

/* ---- Decoders of each message's object. --------------------------------------- */

static const char *const link_names[] = {"unknown", "up", "down"};
static const char *const attach_names[] = {"none", "vm", "netns"};
static const char *const plug_names[] = {"plugged", "unplugged", "refused"};

static int
dec_hello(struct dctx *c, const json_t *o, struct hostlink_hello *h)
{
    static const char *const keys[] = {"min-version", "max-version", "name", "software",
                                       NULL};
    uint64_t min, max;

    CHECK(check_object(c, o, keys, NULL));
    CHECK(get_uint(c, o, "min-version", 1, HOSTLINK_VERSION_WIRE_MAX, REQUIRED, &min));
    CHECK(get_uint(c, o, "max-version", 1, HOSTLINK_VERSION_WIRE_MAX, REQUIRED, &max));
    if (min > max) {
        return fail(c, -EINVAL, "min-version above max-version", "%llu > %llu",
                    (unsigned long long)min, (unsigned long long)max);
    }
    h->min_version = (unsigned int)min;
    h->max_version = (unsigned int)max;
    CHECK(get_string(c, o, "name", HOSTLINK_NAME_MAX, cs_name, REQUIRED, h->name));
    CHECK(get_string(c, o, "software", HOSTLINK_SOFTWARE_MAX, cs_printable, REQUIRED,
                     h->software));
    return 0;
}

static int
dec_keepalive(struct dctx *c, const json_t *o, struct hostlink_keepalive *k)
{
    static const char *const keys[] = {"seq", NULL};

    CHECK(check_object(c, o, keys, NULL));
    CHECK(get_uint(c, o, "seq", 0, HOSTLINK_ID_MAX, REQUIRED, &k->seq));
    return 0;
}

static int
dec_vf_settings(struct dctx *c, const json_t *o, struct hostlink_vf_settings *s)
{
    static const char *const keys[] = {"vlan",        "qos",         "trust", "spoofchk",
                                       "min-tx-rate", "max-tx-rate", NULL};
    uint64_t vlan, qos, min_rate, max_rate;

    CHECK(check_object(c, o, keys, NULL));
    CHECK(get_uint(c, o, "vlan", 0, 4095, REQUIRED, &vlan));
    CHECK(get_uint(c, o, "qos", 0, 7, REQUIRED, &qos));
    CHECK(get_bool(c, o, "trust", REQUIRED, &s->trust));
    CHECK(get_bool(c, o, "spoofchk", REQUIRED, &s->spoofchk));
    CHECK(get_uint(c, o, "min-tx-rate", 0, HOSTLINK_RATE_MAX_MBPS, REQUIRED, &min_rate));
    CHECK(get_uint(c, o, "max-tx-rate", 0, HOSTLINK_RATE_MAX_MBPS, REQUIRED, &max_rate));
    if (max_rate && min_rate > max_rate) {
        return fail(c, -EINVAL, "min-tx-rate above max-tx-rate", "%llu > %llu",
                    (unsigned long long)min_rate, (unsigned long long)max_rate);
    }
    s->vlan = (uint16_t)vlan;
    s->qos = (uint8_t)qos;
    s->min_tx_rate = (uint32_t)min_rate;
    s->max_tx_rate = (uint32_t)max_rate;
    return 0;
}

static int
dec_vf(struct dctx *c, const json_t *o, struct hostlink_vf *vf)
{
    static const char *const keys[] = {
        "num",    "pci",         "netdev",        "mac",      "link",
        "driver", "attached-to", "attached-name", "iface-id", NULL};
    static const char *const keys_v2[] = {"settings", NULL};
    const json_t *settings = NULL;
    uint64_t num;
    int link, attached, error;

    CHECK(check_object(c, o, keys, c->version >= 2 ? keys_v2 : NULL));
    CHECK(get_uint(c, o, "num", 0, HOSTLINK_MAX_VFS_PER_PF - 1, REQUIRED, &num));
    vf->num = (uint16_t)num;
    CHECK(get_pci(c, o, "pci", REQUIRED, &vf->pci));
    CHECK(get_string(c, o, "netdev", HOSTLINK_NETDEV_MAX, cs_netdev, 0, vf->netdev));
    if (!strcmp(vf->netdev, ".") || !strcmp(vf->netdev, "..")) {
        size_t old = path_push_key(c, "netdev");

        error = fail(c, -EINVAL, "not an interface name", "\"%s\"", vf->netdev);
        path_pop(c, old);
        return error;
    }
    CHECK(get_mac(c, o, "mac", REQUIRED | UNICAST, &vf->mac));
    CHECK(get_enum(c, o, "link", link_names, ARRAY_SIZE(link_names), REQUIRED, &link));
    vf->link = (enum hostlink_link)link;
    CHECK(get_string(c, o, "driver", HOSTLINK_DRIVER_MAX, cs_word, 0, vf->driver));
    CHECK(get_enum(c, o, "attached-to", attach_names, ARRAY_SIZE(attach_names), REQUIRED,
                   &attached));
    vf->attached_to = (enum hostlink_attach_kind)attached;
    error = get_string(c, o, "attached-name", HOSTLINK_TARGET_MAX, cs_target, 0,
                       vf->attached_name);
    CHECK(error);
    if (vf->attached_to == HOSTLINK_ATTACH_NONE && !error) {
        size_t old = path_push_key(c, "attached-name");

        error = fail(c, -EINVAL, "attached-name with attached-to \"none\"", NULL);
        path_pop(c, old);
        return error;
    }
    if (vf->attached_to != HOSTLINK_ATTACH_NONE && error) {
        size_t old = path_push_key(c, "attached-name");

        error = fail(c, -EPROTO, "missing member", "required when attached-to is \"%s\"",
                     attach_names[vf->attached_to]);
        path_pop(c, old);
        return error;
    }
    CHECK(get_string(c, o, "iface-id", HOSTLINK_IFACE_ID_MAX, cs_iface_id, 0,
                     vf->iface_id));
    if (c->version >= 2) {
        error = get_member(c, o, "settings", 0, &settings);
        CHECK(error);
        if (!error) {
            size_t old = path_push_key(c, "settings");

            error = dec_vf_settings(c, settings, &vf->settings);
            path_pop(c, old);
            CHECK(error);
            vf->has_settings = true;
        }
    }
    return 0;
}

static int
dec_pf(struct dctx *c, const json_t *o, struct hostlink_pf *pf)
{
    static const char *const keys[] = {"pci",      "mac", "netdev", "serial",
                                       "vf-count", "vfs", NULL};
    uint8_t seen[HOSTLINK_MAX_VFS_PER_PF / 8] = {0};
    const json_t *vfs = NULL;
    uint64_t count;
    int error;

    CHECK(check_object(c, o, keys, NULL));
    CHECK(get_pci(c, o, "pci", REQUIRED, &pf->pci));
    CHECK(get_mac(c, o, "mac", REQUIRED | UNICAST | NONZERO, &pf->mac));
    CHECK(get_string(c, o, "netdev", HOSTLINK_NETDEV_MAX, cs_netdev, 0, pf->netdev));
    if (!strcmp(pf->netdev, ".") || !strcmp(pf->netdev, "..")) {
        size_t old = path_push_key(c, "netdev");

        error = fail(c, -EINVAL, "not an interface name", "\"%s\"", pf->netdev);
        path_pop(c, old);
        return error;
    }
    CHECK(get_string(c, o, "serial", HOSTLINK_SERIAL_MAX, cs_word, 0, pf->serial));
    CHECK(get_uint(c, o, "vf-count", 0, HOSTLINK_MAX_VFS_PER_PF, REQUIRED, &count));
    pf->vf_count = (uint16_t)count;
    CHECK(get_array(c, o, "vfs", HOSTLINK_MAX_VFS_PER_PF, REQUIRED, &vfs));
    if (json_array_size(vfs) != count) {
        size_t old = path_push_key(c, "vfs");

        error = fail(c, -EINVAL, "not one entry per VF", "%zu entries, vf-count %llu",
                     json_array_size(vfs), (unsigned long long)count);
        path_pop(c, old);
        return error;
    }
    pf->vfs = calloc(count ? count : 1, sizeof *pf->vfs);
    if (!pf->vfs) {
        return fail(c, -ENOMEM, "out of memory", NULL);
    }
    pf->n_vfs = count;
    for (size_t i = 0; i < count; i++) {
        size_t old = path_push(c, ".vfs[%zu]", i);
        struct hostlink_vf *vf = &pf->vfs[i];

        error = dec_vf(c, json_array_get(vfs, i), vf);
        if (!error && vf->num >= count) {
            error = fail(c, -EINVAL, "VF number not below vf-count", "%u, vf-count %llu",
                         vf->num, (unsigned long long)count);
        }
        if (!error && (seen[vf->num / 8] & (1u << (vf->num % 8)))) {
            error = fail(c, -EINVAL, "duplicate VF number", "%u", vf->num);
        }
        path_pop(c, old);
        if (error) {
            return error;
        }
        seen[vf->num / 8] |= (uint8_t)(1u << (vf->num % 8));
    }
    return 0;
}

static int
cmp_u64__(const void *a_, const void *b_)
{
    const uint64_t *a = a_, *b = b_;

    return *a < *b ? -1 : *a > *b;
}

/* True if two of the 'n' values at 'v' are equal (sorts 'v'). */
static bool
has_duplicate__(uint64_t *v, size_t n, uint64_t *dup)
{
    qsort(v, n, sizeof *v, cmp_u64__);
    for (size_t i = 1; i < n; i++) {
        if (v[i] == v[i - 1]) {
            *dup = v[i];
            return true;
        }
    }
    return false;
}

static int
dec_inventory(struct dctx *c, const json_t *o, struct hostlink_inventory *inv)
{
    static const char *const keys[] = {"pfs", NULL};
    const json_t *pfs = NULL;
    uint64_t *keys_pci = NULL, *keys_mac = NULL, dup;
    size_t n_pci = 0;
    int error;

    CHECK(check_object(c, o, keys, NULL));
    CHECK(get_array(c, o, "pfs", HOSTLINK_MAX_PFS, REQUIRED, &pfs));
    inv->n_pfs = json_array_size(pfs);
    inv->pfs = calloc(inv->n_pfs ? inv->n_pfs : 1, sizeof *inv->pfs);
    if (!inv->pfs) {
        inv->n_pfs = 0;
        return fail(c, -ENOMEM, "out of memory", NULL);
    }
    for (size_t i = 0; i < inv->n_pfs; i++) {
        size_t old = path_push(c, ".pfs[%zu]", i);

        error = dec_pf(c, json_array_get(pfs, i), &inv->pfs[i]);
        path_pop(c, old);
        if (error) {
            return error;
        }
        n_pci += 1 + inv->pfs[i].n_vfs;
    }

    /* Every PCI address once; every PF MAC once. */
    keys_pci = malloc((n_pci ? n_pci : 1) * sizeof *keys_pci);
    keys_mac = malloc((inv->n_pfs ? inv->n_pfs : 1) * sizeof *keys_mac);
    if (!keys_pci || !keys_mac) {
        error = fail(c, -ENOMEM, "out of memory", NULL);
        goto out;
    }
    n_pci = 0;
    for (size_t i = 0; i < inv->n_pfs; i++) {
        const struct hostlink_pf *pf = &inv->pfs[i];

        keys_mac[i] = mac_key__(&pf->mac);
        keys_pci[n_pci++] = pci_key__(&pf->pci);
        for (size_t j = 0; j < pf->n_vfs; j++) {
            keys_pci[n_pci++] = pci_key__(&pf->vfs[j].pci);
        }
    }
    error = 0;
    if (has_duplicate__(keys_pci, n_pci, &dup)) {
        struct hostlink_pci pci = {(uint16_t)(dup >> 16), (uint8_t)(dup >> 8),
                                   (uint8_t)((dup >> 3) & 0x1f), (uint8_t)(dup & 7)};
        char text[HOSTLINK_PCI_LEN + 1];
        size_t old = path_push_key(c, "pfs");

        error = fail(c, -EINVAL, "duplicate PCI address", "%s",
                     hostlink_pci_format(&pci, text));
        path_pop(c, old);
    } else if (has_duplicate__(keys_mac, inv->n_pfs, &dup)) {
        size_t old = path_push_key(c, "pfs");

        struct hostlink_mac mac;
        char text[HOSTLINK_MAC_LEN + 1];

        for (size_t i = 0; i < 6; i++) {
            mac.b[i] = (uint8_t)(dup >> (40 - 8 * i));
        }
        error = fail(c, -EINVAL, "duplicate PF MAC address", "%s",
                     hostlink_mac_format(&mac, text));
        path_pop(c, old);
    }
out:
    free(keys_pci);
    free(keys_mac);
    return error;
}

static int
dec_vf_status(struct dctx *c, const json_t *o, struct hostlink_vf_status *vs)
{
    static const char *const keys[] = {"pf-mac", "vf", NULL};
    const json_t *vf = NULL;
    size_t old;
    int error;

    CHECK(check_object(c, o, keys, NULL));
    CHECK(get_mac(c, o, "pf-mac", REQUIRED | UNICAST | NONZERO, &vs->pf_mac));
    CHECK(get_member(c, o, "vf", REQUIRED, &vf));
    old = path_push_key(c, "vf");
    error = dec_vf(c, vf, &vs->vf);
    path_pop(c, old);
    return error;
}

static int
dec_attach(struct dctx *c, const json_t *o, struct hostlink_attach *a)
{
    static const char *const keys[] = {"pf-mac", "vf-num", "iface-id", "mac", NULL};
    uint64_t vf;

    CHECK(check_object(c, o, keys, NULL));
    CHECK(get_mac(c, o, "pf-mac", REQUIRED | UNICAST | NONZERO, &a->pf_mac));
    CHECK(get_uint(c, o, "vf-num", 0, HOSTLINK_MAX_VFS_PER_PF - 1, REQUIRED, &vf));
    a->vf_num = (uint16_t)vf;
    CHECK(get_string(c, o, "iface-id", HOSTLINK_IFACE_ID_MAX, cs_iface_id, REQUIRED,
                     a->iface_id));
    CHECK(get_mac(c, o, "mac", REQUIRED | UNICAST | NONZERO, &a->mac));
    return 0;
}

static int
dec_detach(struct dctx *c, const json_t *o, struct hostlink_detach *d)
{
    static const char *const keys[] = {"iface-id", NULL};

    CHECK(check_object(c, o, keys, NULL));
    CHECK(get_string(c, o, "iface-id", HOSTLINK_IFACE_ID_MAX, cs_iface_id, REQUIRED,
                     d->iface_id));
    return 0;
}

static int
cmp_attach_iface__(const void *a_, const void *b_)
{
    const struct hostlink_attach *const *a = a_, *const *b = b_;

    return strcmp((*a)->iface_id, (*b)->iface_id);
}

static int
dec_resync(struct dctx *c, const json_t *o, struct hostlink_resync *r)
{
    static const char *const keys[] = {"inventory", "attachments", NULL};
    const struct hostlink_attach **sorted = NULL;
    const json_t *inv = NULL, *atts = NULL;
    uint64_t *vf_keys = NULL, dup;
    size_t old, n;
    int error;

    CHECK(check_object(c, o, keys, NULL));
    CHECK(get_member(c, o, "inventory", REQUIRED, &inv));
    old = path_push_key(c, "inventory");
    error = dec_inventory(c, inv, &r->inventory);
    path_pop(c, old);
    CHECK(error);
    CHECK(get_array(c, o, "attachments", HOSTLINK_MAX_VFS, REQUIRED, &atts));
    n = json_array_size(atts);
    r->attachments = calloc(n ? n : 1, sizeof *r->attachments);
    if (!r->attachments) {
        return fail(c, -ENOMEM, "out of memory", NULL);
    }
    r->n_attachments = n;
    for (size_t i = 0; i < n; i++) {
        old = path_push(c, ".attachments[%zu]", i);
        error = dec_attach(c, json_array_get(atts, i), &r->attachments[i]);
        path_pop(c, old);
        CHECK(error);
    }

    /* Each iface-id once, each VF once. */
    sorted = malloc((n ? n : 1) * sizeof *sorted);
    vf_keys = malloc((n ? n : 1) * sizeof *vf_keys);
    if (!sorted || !vf_keys) {
        error = fail(c, -ENOMEM, "out of memory", NULL);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        sorted[i] = &r->attachments[i];
        vf_keys[i] =
            mac_key__(&r->attachments[i].pf_mac) << 16 | r->attachments[i].vf_num;
    }
    qsort(sorted, n, sizeof *sorted, cmp_attach_iface__);
    old = path_push_key(c, "attachments");
    for (size_t i = 1; i < n && !error; i++) {
        if (!strcmp(sorted[i]->iface_id, sorted[i - 1]->iface_id)) {
            error = fail(c, -EINVAL, "duplicate iface-id", "%s", sorted[i]->iface_id);
        }
    }
    if (!error && has_duplicate__(vf_keys, n, &dup)) {
        error = fail(c, -EINVAL, "two attachments of one VF", "PF %012llx VF %u",
                     (unsigned long long)(dup >> 16), (unsigned int)(dup & 0xffff));
    }
    path_pop(c, old);
out:
    free(sorted);
    free(vf_keys);
    return error;
}

static int
dec_plug_result(struct dctx *c, const json_t *o, struct hostlink_plug_result *p)
{
    static const char *const keys[] = {"iface-id", "pf-mac", "vf-num", "state",
                                       "code",     "error",  NULL};
    uint64_t vf, code = 0;
    int state, error;

    CHECK(check_object(c, o, keys, NULL));
    CHECK(get_string(c, o, "iface-id", HOSTLINK_IFACE_ID_MAX, cs_iface_id, REQUIRED,
                     p->iface_id));
    CHECK(get_mac(c, o, "pf-mac", REQUIRED | UNICAST | NONZERO, &p->pf_mac));
    CHECK(get_uint(c, o, "vf-num", 0, HOSTLINK_MAX_VFS_PER_PF - 1, REQUIRED, &vf));
    p->vf_num = (uint16_t)vf;
    CHECK(get_enum(c, o, "state", plug_names, ARRAY_SIZE(plug_names), REQUIRED, &state));
    p->state = (enum hostlink_plug_state)state;
    if (p->state == HOSTLINK_REFUSED) {
        CHECK(get_uint(c, o, "code", 1, HOSTLINK_ERR_WIRE_MAX, REQUIRED, &code));
        CHECK(get_string(c, o, "error", HOSTLINK_MESSAGE_MAX, cs_printable, ALLOW_EMPTY,
                         p->message));
    } else if (json_object_get(o, "code") || json_object_get(o, "error")) {
        size_t old = path_push_key(c, json_object_get(o, "code") ? "code" : "error");

        error = fail(c, -EINVAL, "only a refusal has a code or error", NULL);
        path_pop(c, old);
        return error;
    }
    p->code = (int)code;
    return 0;
}

static int
dec_bye(struct dctx *c, const json_t *o, struct hostlink_bye *b)
{
    static const char *const keys[] = {"code", "error", NULL};
    uint64_t code;

    CHECK(check_object(c, o, keys, NULL));
    CHECK(get_uint(c, o, "code", 1, HOSTLINK_ERR_WIRE_MAX, REQUIRED, &code));
    b->code = (int)code;
    CHECK(get_string(c, o, "error", HOSTLINK_MESSAGE_MAX, cs_printable, ALLOW_EMPTY,
                     b->message));
    return 0;
}

static int
dec_body(struct dctx *c, enum hostlink_method method, const json_t *o,
         struct hostlink_msg *m)
{
    switch (method) {
    case HOSTLINK_HELLO:
        return dec_hello(c, o, &m->u.hello);
    case HOSTLINK_KEEPALIVE:
        return dec_keepalive(c, o, &m->u.keepalive);
    case HOSTLINK_INVENTORY:
        return dec_inventory(c, o, &m->u.inventory);
    case HOSTLINK_VF_STATUS:
        return dec_vf_status(c, o, &m->u.vf_status);
    case HOSTLINK_ATTACH_REQUEST:
        return dec_attach(c, o, &m->u.attach);
    case HOSTLINK_DETACH_REQUEST:
        return dec_detach(c, o, &m->u.detach);
    case HOSTLINK_RESYNC:
        return dec_resync(c, o, &m->u.resync);
    case HOSTLINK_PLUG_RESULT:
        return dec_plug_result(c, o, &m->u.plug_result);
    case HOSTLINK_BYE:
        return dec_bye(c, o, &m->u.bye);
    case HOSTLINK_N_METHODS:
        break;
    }
    return fail(c, -ENOSYS, "unknown method", NULL);
}

/* A request id: an integer, 0 to HOSTLINK_ID_MAX. */
static int
dec_id(struct dctx *c, const json_t *id, uint64_t *out)
{
    size_t old = path_push_key(c, "id");
    int error = 0;

    if (!json_is_integer(id)) {
        error =
            fail(c, -EPROTO, "request id is not an integer", "%s", json_type_name(id));
    } else if (json_integer_value(id) < 0 ||
               (uint64_t)json_integer_value(id) > HOSTLINK_ID_MAX) {
        error = fail(c, -ERANGE, "request id out of range", "%lld",
                     (long long)json_integer_value(id));
    } else {
        *out = (uint64_t)json_integer_value(id);
    }
    path_pop(c, old);
    return error;
}

int
hostlink_msg_decode(const char *method, const json_t *params, const json_t *id,
                    unsigned int version, struct hostlink_msg *msg, struct ovnic_err *err)
{
    struct dctx c = {.err = err, .version = version};
    struct hostlink_msg m = {0};
    enum hostlink_method mid;
    bool has_id = id && !json_is_null(id);
    char q[48];
    int error;

    if (!method || hostlink_method_from_name(method, &mid)) {
        return fail(&c, -ENOSYS, "unknown method", "\"%s\"",
                    method ? quote__(method, strlen(method), q, sizeof q) : "");
    }
    path_push(&c, "%s", method);
    if (version > HOSTLINK_VERSION_MAX) {
        return fail(&c, -EINVAL, "protocol version not spoken here", "%u", version);
    }
    if (version ? methods[mid].since > version : mid != HOSTLINK_HELLO) {
        return fail(&c, -ENOSYS, "method not in this protocol version", "version %u",
                    version);
    }
    m.method = mid;
    if (methods[mid].request) {
        if (!has_id) {
            return fail(&c, -EPROTO, "a request needs an id", NULL);
        }
        CHECK(dec_id(&c, id, &m.id));
    } else if (has_id) {
        return fail(&c, -EPROTO, "sent by the DPU as a notification, not a request",
                    NULL);
    }
    if (!json_is_array(params) || json_array_size(params) != 1) {
        return fail(&c, -EPROTO, "params must be an array of one object", "%s of %zu",
                    json_type_name(params), json_array_size(params));
    }
    error = dec_body(&c, mid, json_array_get(params, 0), &m);
    if (error) {
        hostlink_msg_clear(&m);
        return error;
    }
    *msg = m;
    return 0;
}

int
hostlink_msg_from_jsonrpc(const struct jsonrpc_msg *jmsg, unsigned int version,
                          struct hostlink_msg *msg, struct ovnic_err *err)
{
    if (jmsg->type != JSONRPC_REQUEST && jmsg->type != JSONRPC_NOTIFY) {
        return ovnic_err_set(err, -EPROTO, "hostlink", "not a request or notification",
                             "%s", jsonrpc_msg_type_to_string(jmsg->type));
    }
    return hostlink_msg_decode(jmsg->method, jmsg->params, jmsg->id, version, msg, err);
}

/* ---- Encoders. ---------------------------------------------------------------- */

/* Builders that keep going after a failure and report it once, at the end. */
struct ectx {
    bool failed;
};

static json_t *
e_take(struct ectx *e, json_t *v)
{
    if (!v) {
        e->failed = true;
    }
    return v;
}

static void
e_set(struct ectx *e, json_t *o, const char *key, json_t *v)
{
    if (!v || !o || json_object_set_new(o, key, v)) {
        e->failed = true;
    }
}

static void
e_str(struct ectx *e, json_t *o, const char *key, const char *s)
{
    e_set(e, o, key, json_stringn_nocheck(s, strlen(s)));
}

static void
e_str_opt(struct ectx *e, json_t *o, const char *key, const char *s)
{
    if (s[0]) {
        e_str(e, o, key, s);
    }
}

static void
e_int(struct ectx *e, json_t *o, const char *key, uint64_t v)
{
    e_set(e, o, key, json_integer((json_int_t)MIN(v, (uint64_t)INT64_MAX)));
}

static void
e_mac(struct ectx *e, json_t *o, const char *key, const struct hostlink_mac *mac)
{
    char text[HOSTLINK_MAC_LEN + 1];

    e_str(e, o, key, hostlink_mac_format(mac, text));
}

static void
e_pci(struct ectx *e, json_t *o, const char *key, const struct hostlink_pci *pci)
{
    char text[HOSTLINK_PCI_LEN + 1];

    e_str(e, o, key, hostlink_pci_format(pci, text));
}

static const char *
enum_name__(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : "invalid";
}

static json_t *
enc_hello(struct ectx *e, const struct hostlink_hello *h)
{
    json_t *o = e_take(e, json_object());

    e_int(e, o, "min-version", h->min_version);
    e_int(e, o, "max-version", h->max_version);
    e_str(e, o, "name", h->name);
    e_str(e, o, "software", h->software);
    return o;
}

static json_t *
enc_vf(struct ectx *e, const struct hostlink_vf *vf, unsigned int version)
{
    json_t *o = e_take(e, json_object());

    e_int(e, o, "num", vf->num);
    e_pci(e, o, "pci", &vf->pci);
    e_str_opt(e, o, "netdev", vf->netdev);
    e_mac(e, o, "mac", &vf->mac);
    e_str(e, o, "link", enum_name__(link_names, ARRAY_SIZE(link_names), vf->link));
    e_str_opt(e, o, "driver", vf->driver);
    e_str(e, o, "attached-to",
          enum_name__(attach_names, ARRAY_SIZE(attach_names), vf->attached_to));
    if (vf->attached_to != HOSTLINK_ATTACH_NONE || vf->attached_name[0]) {
        e_str(e, o, "attached-name", vf->attached_name);
    }
    e_str_opt(e, o, "iface-id", vf->iface_id);
    if (version >= 2 && vf->has_settings) {
        const struct hostlink_vf_settings *s = &vf->settings;
        json_t *so = e_take(e, json_object());

        e_int(e, so, "vlan", s->vlan);
        e_int(e, so, "qos", s->qos);
        e_set(e, so, "trust", json_boolean(s->trust));
        e_set(e, so, "spoofchk", json_boolean(s->spoofchk));
        e_int(e, so, "min-tx-rate", s->min_tx_rate);
        e_int(e, so, "max-tx-rate", s->max_tx_rate);
        e_set(e, o, "settings", so);
    }
    return o;
}

static json_t *
enc_inventory(struct ectx *e, const struct hostlink_inventory *inv, unsigned int version)
{
    json_t *o = e_take(e, json_object());
    json_t *pfs = e_take(e, json_array());

    for (size_t i = 0; i < inv->n_pfs && !e->failed; i++) {
        const struct hostlink_pf *pf = &inv->pfs[i];
        json_t *po = e_take(e, json_object());
        json_t *vfs = e_take(e, json_array());

        e_pci(e, po, "pci", &pf->pci);
        e_mac(e, po, "mac", &pf->mac);
        e_str_opt(e, po, "netdev", pf->netdev);
        e_str_opt(e, po, "serial", pf->serial);
        e_int(e, po, "vf-count", pf->vf_count);
        for (size_t j = 0; j < pf->n_vfs && vfs; j++) {
            if (json_array_append_new(vfs, enc_vf(e, &pf->vfs[j], version))) {
                e->failed = true;
            }
        }
        e_set(e, po, "vfs", vfs);
        if (!po || json_array_append_new(pfs, po)) {
            e->failed = true;
        }
    }
    e_set(e, o, "pfs", pfs);
    return o;
}

static json_t *
enc_attach(struct ectx *e, const struct hostlink_attach *a)
{
    json_t *o = e_take(e, json_object());

    e_mac(e, o, "pf-mac", &a->pf_mac);
    e_int(e, o, "vf-num", a->vf_num);
    e_str(e, o, "iface-id", a->iface_id);
    e_mac(e, o, "mac", &a->mac);
    return o;
}

static json_t *
enc_body(struct ectx *e, const struct hostlink_msg *m, unsigned int version)
{
    json_t *o;

    switch (m->method) {
    case HOSTLINK_HELLO:
        return enc_hello(e, &m->u.hello);
    case HOSTLINK_KEEPALIVE:
        o = e_take(e, json_object());
        e_int(e, o, "seq", m->u.keepalive.seq);
        return o;
    case HOSTLINK_INVENTORY:
        return enc_inventory(e, &m->u.inventory, version);
    case HOSTLINK_VF_STATUS:
        o = e_take(e, json_object());
        e_mac(e, o, "pf-mac", &m->u.vf_status.pf_mac);
        e_set(e, o, "vf", enc_vf(e, &m->u.vf_status.vf, version));
        return o;
    case HOSTLINK_ATTACH_REQUEST:
        return enc_attach(e, &m->u.attach);
    case HOSTLINK_DETACH_REQUEST:
        o = e_take(e, json_object());
        e_str(e, o, "iface-id", m->u.detach.iface_id);
        return o;
    case HOSTLINK_RESYNC: {
        const struct hostlink_resync *r = &m->u.resync;
        json_t *atts = e_take(e, json_array());

        o = e_take(e, json_object());
        e_set(e, o, "inventory", enc_inventory(e, &r->inventory, version));
        for (size_t i = 0; i < r->n_attachments && atts; i++) {
            if (json_array_append_new(atts, enc_attach(e, &r->attachments[i]))) {
                e->failed = true;
            }
        }
        e_set(e, o, "attachments", atts);
        return o;
    }
    case HOSTLINK_PLUG_RESULT: {
        const struct hostlink_plug_result *p = &m->u.plug_result;

        o = e_take(e, json_object());
        e_str(e, o, "iface-id", p->iface_id);
        e_mac(e, o, "pf-mac", &p->pf_mac);
        e_int(e, o, "vf-num", p->vf_num);
        e_str(e, o, "state", enum_name__(plug_names, ARRAY_SIZE(plug_names), p->state));
        if (p->state == HOSTLINK_REFUSED || p->code) {
            e_int(e, o, "code", p->code < 0 ? UINT64_MAX : (uint64_t)p->code);
        }
        if (p->state == HOSTLINK_REFUSED || p->message[0]) {
            e_str(e, o, "error", p->message);
        }
        return o;
    }
    case HOSTLINK_BYE:
        o = e_take(e, json_object());
        e_int(e, o, "code", m->u.bye.code < 0 ? UINT64_MAX : (uint64_t)m->u.bye.code);
        e_str(e, o, "error", m->u.bye.message);
        return o;
    case HOSTLINK_N_METHODS:
        break;
    }
    e->failed = true;
    return NULL;
}

int
hostlink_msg_to_params(const struct hostlink_msg *msg, unsigned int version,
                       json_t **paramsp, struct ovnic_err *err)
{
    struct ectx e = {false};
    struct hostlink_msg check;
    json_t *params, *id = NULL;
    int error;

    if (msg->method >= HOSTLINK_N_METHODS) {
        return ovnic_err_set(err, -ENOSYS, "hostlink", "unknown method", "%d",
                             (int)msg->method);
    }
    params = json_array();
    if (!params || json_array_append_new(params, enc_body(&e, msg, version)) ||
        e.failed) {
        json_decref(params);
        return ovnic_err_set(err, -ENOMEM, "hostlink", "out of memory", NULL);
    }
    /* What the peer will check, checked here first. */
    if (methods[msg->method].request) {
        id = json_integer((json_int_t)MIN(msg->id, (uint64_t)INT64_MAX));
        if (!id) {
            json_decref(params);
            return ovnic_err_set(err, -ENOMEM, "hostlink", "out of memory", NULL);
        }
    }
    error = hostlink_msg_decode(methods[msg->method].name, params, id,
                                msg->method == HOSTLINK_HELLO ? 0 : version, &check, err);
    json_decref(id);
    if (error) {
        json_decref(params);
        return error;
    }
    hostlink_msg_clear(&check);
    *paramsp = params;
    return 0;
}

int
hostlink_msg_encode(const struct hostlink_msg *msg, unsigned int version,
                    struct jsonrpc_msg **jmsgp, struct ovnic_err *err)
{
    struct jsonrpc_msg *jmsg;
    json_t *params;
    int error = hostlink_msg_to_params(msg, version, &params, err);

    if (error) {
        return error;
    }
    jmsg = methods[msg->method].request
               ? jsonrpc_msg_create_request(methods[msg->method].name, params,
                                            json_integer((json_int_t)msg->id))
               : jsonrpc_msg_create_notify(methods[msg->method].name, params);
    if (!jmsg) {
        return ovnic_err_set(err, -ENOMEM, "hostlink", "out of memory", NULL);
    }
    *jmsgp = jmsg;
    return 0;
}

/* ---- Replies. ----------------------------------------------------------------- */

static int
dec_hello_reply(struct dctx *c, const json_t *o, struct hostlink_hello_reply *r)
{
    static const char *const keys[] = {"min-version",  "max-version", "name",
                                       "software",     "version",     "lease-ms",
                                       "keepalive-ms", NULL};
    uint64_t min, max, version, lease, keepalive;

    CHECK(check_object(c, o, keys, NULL));
    CHECK(get_uint(c, o, "min-version", 1, HOSTLINK_VERSION_WIRE_MAX, REQUIRED, &min));
    CHECK(get_uint(c, o, "max-version", 1, HOSTLINK_VERSION_WIRE_MAX, REQUIRED, &max));
    if (min > max) {
        return fail(c, -EINVAL, "min-version above max-version", "%llu > %llu",
                    (unsigned long long)min, (unsigned long long)max);
    }
    CHECK(get_uint(c, o, "version", min, max, REQUIRED, &version));
    CHECK(get_string(c, o, "name", HOSTLINK_NAME_MAX, cs_name, REQUIRED, r->hello.name));
    CHECK(get_string(c, o, "software", HOSTLINK_SOFTWARE_MAX, cs_printable, REQUIRED,
                     r->hello.software));
    CHECK(get_uint(c, o, "lease-ms", HOSTLINK_LEASE_MIN_MS, HOSTLINK_LEASE_MAX_MS,
                   REQUIRED, &lease));
    CHECK(get_uint(c, o, "keepalive-ms", HOSTLINK_LEASE_MIN_MS, lease, REQUIRED,
                   &keepalive));
    r->hello.min_version = (unsigned int)min;
    r->hello.max_version = (unsigned int)max;
    r->version = (unsigned int)version;
    r->lease_ms = (uint32_t)lease;
    r->keepalive_ms = (uint32_t)keepalive;
    return 0;
}

static int
dec_error(struct dctx *c, const json_t *o, struct hostlink_reply *r)
{
    static const char *const keys[] = {"error", "code", NULL};
    uint64_t code;

    CHECK(check_object(c, o, keys, NULL));
    CHECK(get_uint(c, o, "code", 1, HOSTLINK_ERR_WIRE_MAX, REQUIRED, &code));
    CHECK(get_string(c, o, "error", HOSTLINK_MESSAGE_MAX, cs_printable,
                     REQUIRED | ALLOW_EMPTY, r->message));
    r->code = (int)code;
    return 0;
}

int
hostlink_reply_decode(enum hostlink_method method, const struct jsonrpc_msg *jmsg,
                      struct hostlink_reply *reply, struct ovnic_err *err)
{
    struct dctx c = {.err = err};
    struct hostlink_reply r;
    int error;

    memset(&r, 0, sizeof r);
    if (method >= HOSTLINK_N_METHODS || !methods[method].request) {
        return ovnic_err_set(err, -EINVAL, "hostlink", "not a request method", "%d",
                             (int)method);
    }
    path_push(&c, "%s reply", methods[method].name);
    if (jmsg->type == JSONRPC_ERROR) {
        if (json_is_null(jmsg->id)) {
            r.id = UINT64_MAX;
        } else {
            CHECK(dec_id(&c, jmsg->id, &r.id));
        }
        path_push(&c, ".error");
        CHECK(dec_error(&c, jmsg->error, &r));
    } else if (jmsg->type == JSONRPC_REPLY) {
        CHECK(dec_id(&c, jmsg->id, &r.id));
        path_push(&c, ".result");
        if (method == HOSTLINK_HELLO) {
            error = dec_hello_reply(&c, jmsg->result, &r.u.hello);
        } else if (method == HOSTLINK_KEEPALIVE) {
            struct hostlink_keepalive k;

            error = dec_keepalive(&c, jmsg->result, &k);
            r.u.seq = k.seq;
        } else {
            static const char *const none[] = {NULL};

            error = check_object(&c, jmsg->result, none, NULL);
        }
        CHECK(error);
    } else {
        return fail(&c, -EPROTO, "not a reply", "a %s",
                    jsonrpc_msg_type_to_string(jmsg->type));
    }
    *reply = r;
    return 0;
}

json_t *
hostlink_reply_result(enum hostlink_method method,
                      const struct hostlink_hello_reply *hello, uint64_t seq)
{
    struct ectx e = {false};
    json_t *o = e_take(&e, json_object());

    if (method == HOSTLINK_HELLO) {
        json_decref(o);
        o = enc_hello(&e, &hello->hello);
        e_int(&e, o, "version", hello->version);
        e_int(&e, o, "lease-ms", hello->lease_ms);
        e_int(&e, o, "keepalive-ms", hello->keepalive_ms);
    } else if (method == HOSTLINK_KEEPALIVE) {
        e_int(&e, o, "seq", seq);
    }
    if (e.failed) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int
hostlink_reply_encode(enum hostlink_method method, uint64_t id,
                      const struct hostlink_hello_reply *hello, uint64_t seq,
                      struct jsonrpc_msg **jmsgp, struct ovnic_err *err)
{
    struct hostlink_reply check;
    struct jsonrpc_msg *jmsg;
    json_t *result, *jid;
    int error;

    if (method >= HOSTLINK_N_METHODS || !methods[method].request ||
        (method == HOSTLINK_HELLO && !hello)) {
        return ovnic_err_set(err, -EINVAL, "hostlink", "no reply for this method", "%d",
                             (int)method);
    }
    result = hostlink_reply_result(method, hello, seq);
    jid = json_integer((json_int_t)MIN(id, (uint64_t)INT64_MAX));
    jmsg = result && jid ? jsonrpc_msg_create_reply(result, jid) : NULL;
    if (!jmsg && result && jid) {
        result = NULL; /* Taken by jsonrpc_msg_create_reply(). */
    }
    json_decref(jid);
    if (!jmsg) {
        json_decref(result);
        return ovnic_err_set(err, -ENOMEM, "hostlink", "out of memory", NULL);
    }
    error = hostlink_reply_decode(method, jmsg, &check, err);
    if (error) {
        jsonrpc_msg_destroy(jmsg);
        return error;
    }
    *jmsgp = jmsg;
    return 0;
}

json_t *
hostlink_error_json(int code, const char *message)
{
    char text[HOSTLINK_MESSAGE_MAX + 1];
    size_t n = 0;

    if (code < 1 || code > HOSTLINK_ERR_WIRE_MAX) {
        return NULL;
    }
    if (!message) {
        message = hostlink_error_name(code);
    }
    for (; message[n] && n < HOSTLINK_MESSAGE_MAX; n++) {
        unsigned char ch = (unsigned char)message[n];

        text[n] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    text[n] = '\0';
    return json_pack("{s:s, s:i}", "error", text, "code", code);
}
