/* ovnic-nicsim: the control socket (JSON-RPC; methods in docs/ovnic-nicsim.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/util/jsonrpc.h"
#include "offload/esw_wire.h"
#include "shared/util/json.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/rpc_server.h"
#include "tests/hw-sim/eswitch/eswitch.h"
#include "tests/hw-sim/nicsim/ctl_client.h"
#include "tests/hw-sim/nicsim/flash.h"
#include "tests/hw-sim/nicsim/nicsim.h"

OVNIC_LOG_MODULE(nicsim_ctl);

#define CTL_MAX_MSG ((size_t)16 << 20)
#define BULK_MAX 4096

typedef int (*ctl_method_fn)(struct nicsim *ns, const json_t *arg, json_t **result,
                             struct esw_error *error);

/* ---- Helpers. ----------------------------------------------------------------- */

static int
bad_arg(struct esw_error *error, const struct ovnic_err *err)
{
    return esw_error_set(error, err->code ? err->code : -EINVAL,
                         RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                         err->message ? err->message : "bad argument", "%s%s%s",
                         err->object, err->detail[0] ? ": " : "", err->detail);
}

static int
from_err(struct esw_error *error, int code, const struct ovnic_err *err)
{
    char buf[512];

    ovnic_err_format(err, buf, sizeof buf);
    return esw_error_set(error, code, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                         "request failed", "%s", buf);
}

/* Decodes the hex rule in member 'key' of 'arg'. */
static int
rule_decode(const json_t *arg, const char *key, struct esw_wire_rule **rulep,
            struct esw_error *error)
{
    struct ovnic_err err = {0};
    const char *hex;
    uint8_t *buf;
    size_t len;
    int rc;

    rc = json_get_string(arg, key, &hex, &err);
    if (rc) {
        return bad_arg(error, &err);
    }
    rc = nicsim_hex_decode(hex, &buf, &len);
    if (rc) {
        return esw_error_set(error, rc, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "rule is not hex", NULL);
    }
    rc = esw_wire_rule_decode(buf, len, rulep, error);
    free(buf);
    return rc;
}

static void
sleep_us(uint64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};

    if (us) {
        nanosleep(&ts, NULL);
    }
}

static json_t *
error_to_json(const struct esw_error *error)
{
    char details[OVNIC_ERR_DETAIL_LEN + 64];

    snprintf(details, sizeof details, "%s", error->err.detail);
    return json_pack("{s:s,s:s,s:i,s:i,s:i}", "error",
                     error->err.message ? error->err.message : "error", "details",
                     details, "errno", error->err.code ? error->err.code : -EIO, "type",
                     (int)error->type, "index", error->index);
}

/* ---- Rules. ------------------------------------------------------------------- */

static int
rule_insert(struct nicsim *ns, const struct esw_wire_rule *r, uint64_t *id,
            struct esw_error *error)
{
    int rc = nicsim_faults_insert_check(&ns->faults);

    if (rc) {
        return esw_error_set(
            error, rc, RTE_FLOW_ERROR_TYPE_HANDLE, -1,
            rc == -ENOSPC ? "table full (injected)" : "insert failed (injected)", NULL);
    }
    return eswitch_rule_add(ns->esw, &r->attr, r->items, r->actions, time_msec(), id,
                            error);
}

static int
m_validate(struct nicsim *ns, const json_t *arg, json_t **result, struct esw_error *error)
{
    struct esw_wire_rule *r;
    int rc;

    rc = rule_decode(arg, "rule", &r, error);
    if (!rc) {
        rc = eswitch_rule_validate(ns->esw, &r->attr, r->items, r->actions, error);
        esw_wire_rule_destroy(r);
    }
    if (!rc) {
        *result = json_object();
    }
    return rc;
}

static int
m_create(struct nicsim *ns, const json_t *arg, json_t **result, struct esw_error *error)
{
    struct esw_wire_rule *r;
    uint64_t id;
    int rc;

    rc = rule_decode(arg, "rule", &r, error);
    if (rc) {
        return rc;
    }
    rc = rule_insert(ns, r, &id, error);
    esw_wire_rule_destroy(r);
    sleep_us(eswitch_profile_insert_cost_us(&ns->profile, false, 1));
    if (!rc) {
        *result = json_pack("{s:I}", "id", (json_int_t)id);
    }
    return rc;
}

static int
m_create_bulk(struct nicsim *ns, const json_t *arg, json_t **result,
              struct esw_error *error)
{
    struct ovnic_err err = {0};
    const json_t *rules;
    json_t *results;
    size_t i, n;
    int rc;

    rc = json_get_array(arg, "rules", &rules, &err);
    if (rc) {
        return bad_arg(error, &err);
    }
    n = json_array_size(rules);
    if (n > BULK_MAX) {
        return esw_error_set(error, -E2BIG, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "too many rules in one batch", "%zu > %d", n, BULK_MAX);
    }
    results = json_array();
    for (i = 0; i < n; i++) {
        json_t *one = json_pack("{s:O}", "rule", json_array_get(rules, i));
        struct esw_error e;
        struct esw_wire_rule *r;
        uint64_t id;

        esw_error_clear(&e);
        rc = rule_decode(one, "rule", &r, &e);
        json_decref(one);
        if (!rc) {
            rc = rule_insert(ns, r, &id, &e);
            esw_wire_rule_destroy(r);
        }
        json_array_append_new(results, rc ? error_to_json(&e)
                                          : json_pack("{s:I}", "id", (json_int_t)id));
    }
    sleep_us(eswitch_profile_insert_cost_us(&ns->profile, true, n));
    *result = json_pack("{s:o}", "results", results);
    return 0;
}

static int
get_id(const json_t *arg, uint64_t *id, struct esw_error *error)
{
    struct ovnic_err err = {0};
    int64_t v;
    int rc = json_get_int_range(arg, "id", 1, INT64_MAX, &v, &err);

    if (rc) {
        return bad_arg(error, &err);
    }
    *id = (uint64_t)v;
    return 0;
}

static int
m_destroy(struct nicsim *ns, const json_t *arg, json_t **result, struct esw_error *error)
{
    uint64_t id;
    int rc = get_id(arg, &id, error);

    if (!rc) {
        rc = eswitch_rule_del(ns->esw, id, error);
    }
    if (!rc) {
        *result = json_object();
    }
    return rc;
}

static int
m_destroy_bulk(struct nicsim *ns, const json_t *arg, json_t **result,
               struct esw_error *error)
{
    struct ovnic_err err = {0};
    const json_t *ids;
    json_t *results;
    size_t i;
    int rc;

    rc = json_get_array(arg, "ids", &ids, &err);
    if (rc) {
        return bad_arg(error, &err);
    }
    results = json_array();
    for (i = 0; i < json_array_size(ids); i++) {
        const json_t *v = json_array_get(ids, i);

        rc = json_is_integer(v) && json_integer_value(v) > 0
                 ? eswitch_rule_del(ns->esw, (uint64_t)json_integer_value(v), NULL)
                 : -EINVAL;
        json_array_append_new(results, json_integer(rc));
    }
    *result = json_pack("{s:o}", "results", results);
    return 0;
}

static json_t *
stats_to_json(const struct esw_rule_stats *s)
{
    struct esw_wire_stats wire;
    char *hex;
    json_t *obj;

    esw_wire_stats_encode(s, &wire);
    hex = nicsim_hex_encode(&wire, sizeof wire);
    obj = json_pack("{s:b,s:I,s:I,s:b,s:I,s:b,s:s?}", "has_count", s->has_count,
                    "packets", (json_int_t)s->packets, "bytes", (json_int_t)s->bytes,
                    "has_age", s->has_age, "idle_sec", (json_int_t)s->idle_sec, "aged",
                    s->aged, "wire", hex);
    free(hex);
    return obj;
}

static int
m_query(struct nicsim *ns, const json_t *arg, json_t **result, struct esw_error *error)
{
    struct esw_rule_stats stats;
    struct ovnic_err err = {0};
    bool reset = false;
    uint64_t id;
    int rc = get_id(arg, &id, error);

    if (rc) {
        return rc;
    }
    if (json_get_bool_opt(arg, "reset", &reset, &err)) {
        return bad_arg(error, &err);
    }
    rc = eswitch_rule_query(ns->esw, id, time_msec(), reset, &stats, error);
    if (!rc) {
        *result = stats_to_json(&stats);
    }
    return rc;
}

static int
m_aged(struct nicsim *ns, const json_t *arg, json_t **result, struct esw_error *error)
{
    struct ovnic_err err = {0};
    int64_t max = 1024;
    uint64_t *ids;
    json_t *list;
    size_t i, n;

    if (json_get_int_opt(arg, "max", &max, &err) || max < 1 || max > 65536) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "bad max", "1 to 65536");
    }
    ids = malloc(sizeof *ids * (size_t)max);
    if (!ids) {
        return -ENOMEM;
    }
    n = eswitch_aged_get(ns->esw, time_msec(), ids, (size_t)max);
    list = json_array();
    for (i = 0; i < n; i++) {
        json_array_append_new(list, json_integer((json_int_t)ids[i]));
    }
    free(ids);
    *result = json_pack("{s:o}", "ids", list);
    return 0;
}

static int
m_flush(struct nicsim *ns, const json_t *arg, json_t **result, struct esw_error *error)
{
    size_t n = eswitch_rule_count(ns->esw);

    eswitch_flush(ns->esw);
    OLOG_INFO("flushed %zu rules", n);
    *result = json_pack("{s:I}", "removed", (json_int_t)n);
    return 0;
}

struct rules_ctx {
    struct eswitch *esw;
    json_t *list;
    uint64_t now;
};

static void
rules_cb(uint64_t id, void *aux)
{
    struct rules_ctx *ctx = aux;
    struct esw_rule_stats stats;
    json_t *obj;

    if (eswitch_rule_query(ctx->esw, id, ctx->now, false, &stats, NULL)) {
        return;
    }
    obj = stats_to_json(&stats);
    json_object_del(obj, "wire");
    json_object_set_new(obj, "id", json_integer((json_int_t)id));
    json_array_append_new(ctx->list, obj);
}

static int
m_rules(struct nicsim *ns, const json_t *arg, json_t **result, struct esw_error *error)
{
    struct rules_ctx ctx = {ns->esw, json_array(), time_msec()};

    eswitch_rule_foreach(ns->esw, rules_cb, &ctx);
    *result = json_pack("{s:I,s:o}", "count", (json_int_t)eswitch_rule_count(ns->esw),
                        "rules", ctx.list);
    return 0;
}

static int
m_meter_set(struct nicsim *ns, const json_t *arg, json_t **result,
            struct esw_error *error)
{
    struct ovnic_err err = {0};
    int64_t id, rate, burst;
    int rc;

    if (json_get_int_range(arg, "id", 0, UINT32_MAX, &id, &err) ||
        json_get_int_range(arg, "rate", 0, INT64_MAX, &rate, &err) ||
        json_get_int_range(arg, "burst", 0, INT64_MAX, &burst, &err)) {
        return bad_arg(error, &err);
    }
    rc = eswitch_meter_set(ns->esw, (uint32_t)id, (uint64_t)rate, (uint64_t)burst, error);
    if (!rc) {
        *result = json_object();
    }
    return rc;
}

/* ---- Device. ------------------------------------------------------------------ */

static int
m_caps(struct nicsim *ns, const json_t *arg, json_t **result, struct esw_error *error)
{
    struct esw_wire_caps wire;
    struct esw_caps caps;
    char *hex;

    eswitch_profile_to_caps(&ns->profile, &caps);
    esw_wire_caps_encode(&caps, &wire);
    hex = nicsim_hex_encode(&wire, sizeof wire);
    *result = json_pack("{s:s,s:s?,s:i,s:i,s:i,s:i,s:i,s:i}", "device", caps.device,
                        "caps", hex, "max_rules", (int)caps.max_rules, "max_groups",
                        (int)caps.max_groups, "max_priorities", (int)caps.max_priorities,
                        "max_rules_per_group", (int)caps.max_rules_per_group, "max_items",
                        (int)caps.max_items, "max_actions", (int)caps.max_actions);
    free(hex);
    return 0;
}

static int
m_ports(struct nicsim *ns, const json_t *arg, json_t **result, struct esw_error *error)
{
    json_t *list = json_array();
    size_t i;

    for (i = 0; i < NICSIM_MAX_PORTS; i++) {
        if (ns->ports[i].active) {
            json_array_append_new(list, nicsim_port_to_json(ns, &ns->ports[i]));
        }
    }
    *result = json_pack("{s:o}", "ports", list);
    return 0;
}

static int
m_stats(struct nicsim *ns, const json_t *arg, json_t **result, struct esw_error *error)
{
    struct eswitch_stats s;

    eswitch_stats_get(ns->esw, &s);
    *result = json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "packets", (json_int_t)s.packets,
        "forwarded", (json_int_t)s.forwarded, "dropped", (json_int_t)s.dropped, "missed",
        (json_int_t)s.missed, "rules", (json_int_t)eswitch_rule_count(ns->esw),
        "rules_added", (json_int_t)s.rules_added, "rules_removed",
        (json_int_t)s.rules_removed, "add_failures", (json_int_t)s.add_failures,
        "connections", (json_int_t)s.connections, "polls", (json_int_t)ns->polls,
        "idle_sleeps", (json_int_t)ns->idle_sleeps);
    return 0;
}

static int
m_status(struct nicsim *ns, const json_t *arg, json_t **result, struct esw_error *error)
{
    *result = json_pack(
        "{s:s,s:i,s:I,s:s,s:i,s:i,s:s,s:s,s:s,s:b,s:I}", "version", NICSIM_VERSION, "pid",
        (int)getpid(), "uptime_ms", (json_int_t)(time_msec() - ns->start_ms), "profile",
        ns->profile.name, "numvfs", (int)nicsim_sysfs_numvfs(ns->sysfs), "total_vfs",
        (int)nicsim_sysfs_total_vfs(ns->sysfs), "sysfs_pf_dir",
        nicsim_sysfs_pf_dir(ns->sysfs), "memif_dir", ns->memif_dir, "name", ns->opts.name,
        "flash_powered", nicsim_flash_is_powered(ns->flash), "rules",
        (json_int_t)eswitch_rule_count(ns->esw));
    if (*result) {
        struct rpc_server_stats stats;

        rpc_server_get_stats(ns->ctl, &stats);
        json_object_set_new(*result, "control_socket", rpc_server_stats_to_json(&stats));
    }
    return 0;
}

static int
m_sriov_set(struct nicsim *ns, const json_t *arg, json_t **result,
            struct esw_error *error)
{
    struct ovnic_err err = {0};
    int64_t n;
    int rc;

    rc = json_get_int_range(arg, "numvfs", 0, UINT16_MAX, &n, &err);
    if (rc) {
        return bad_arg(error, &err);
    }
    rc = nicsim_sysfs_numvfs_set(ns->sysfs, (unsigned int)n, &err);
    if (rc) {
        return from_err(error, rc, &err);
    }
    *result = json_pack("{s:i}", "numvfs", (int)nicsim_sysfs_numvfs(ns->sysfs));
    return 0;
}

/* ---- Faults. ------------------------------------------------------------------ */

static json_t *
faults_json(const struct nicsim *ns)
{
    json_t *obj = nicsim_faults_to_json(&ns->faults);
    json_t *down = json_array();
    size_t i;

    for (i = 0; i < NICSIM_MAX_PORTS; i++) {
        if (ns->ports[i].active && ns->ports[i].link_down) {
            json_array_append_new(down, json_string(ns->ports[i].name));
        }
    }
    json_object_set_new(obj, "links-down", down);
    return obj;
}

static int
m_fault_set(struct nicsim *ns, const json_t *arg, json_t **result,
            struct esw_error *error)
{
    struct ovnic_err err = {0};
    const char *kind = "";
    int rc;

    json_get_string_opt(arg, "kind", &kind, NULL);
    if (!strcmp(kind, "link")) {
        const char *name;
        struct nicsim_port *p;
        bool up = false;

        if (json_get_string(arg, "port", &name, &err) ||
            json_get_bool_opt(arg, "up", &up, &err)) {
            return bad_arg(error, &err);
        }
        p = nicsim_port_find(ns, name);
        if (!p) {
            return esw_error_set(error, -ENODEV, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                                 "no such port", "%s", name);
        }
        nicsim_port_set_link(ns, p->id, up);
        OLOG_INFO("fault: link of %s %s", p->name, up ? "up" : "down");
    } else {
        rc = nicsim_faults_set_json(&ns->faults, arg, &err);
        if (rc) {
            return bad_arg(error, &err);
        }
        OLOG_INFO("fault: %s armed", kind);
    }
    *result = faults_json(ns);
    return 0;
}

static int
m_fault_clear(struct nicsim *ns, const json_t *arg, json_t **result,
              struct esw_error *error)
{
    size_t i;

    nicsim_faults_init(&ns->faults);
    for (i = 0; i < NICSIM_MAX_PORTS; i++) {
        if (ns->ports[i].active && ns->ports[i].link_down) {
            nicsim_port_set_link(ns, (uint16_t)i, true);
        }
    }
    *result = faults_json(ns);
    return 0;
}

static int
m_fault_list(struct nicsim *ns, const json_t *arg, json_t **result,
             struct esw_error *error)
{
    *result = faults_json(ns);
    return 0;
}

/* ---- Flash. ------------------------------------------------------------------- */

static int
get_slot(const json_t *arg, const char *key, bool allow_none, int *slot,
         struct esw_error *error)
{
    const json_t *v = json_object_get(arg, key);

    if (allow_none && (!v || json_is_null(v))) {
        *slot = -1;
        return 0;
    }
    if (!json_is_string(v) || nicsim_flash_slot_parse(json_string_value(v), slot)) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "bad slot", "member '%s': \"a\" or \"b\"", key);
    }
    return 0;
}

static json_t *
boot_json(const struct nicsim *ns)
{
    struct nicsim_flash_boot boot;

    if (nicsim_flash_boot_get(ns->flash, &boot)) {
        return json_pack("{s:b}", "powered", false);
    }
    return json_pack("{s:b,s:s,s:s,s:s,s:i,s:I}", "powered", true, "active",
                     nicsim_flash_slot_name(boot.active), "pending",
                     nicsim_flash_slot_name(boot.pending), "booted",
                     nicsim_flash_slot_name(boot.booted), "tries", (int)boot.tries,
                     "slot_size", (json_int_t)nicsim_flash_slot_size(ns->flash));
}

static int
m_flash_info(struct nicsim *ns, const json_t *arg, json_t **result,
             struct esw_error *error)
{
    *result = boot_json(ns);
    return 0;
}

static int
get_range(const json_t *arg, int64_t *offset, int64_t *length, struct esw_error *error)
{
    struct ovnic_err err = {0};

    if (json_get_int_range(arg, "offset", 0, INT64_MAX, offset, &err) ||
        (length &&
         json_get_int_range(arg, "length", 0, NICSIM_FLASH_MAX_IO, length, &err))) {
        return bad_arg(error, &err);
    }
    return 0;
}

static int
m_flash_read(struct nicsim *ns, const json_t *arg, json_t **result,
             struct esw_error *error)
{
    struct ovnic_err err = {0};
    int64_t offset, length;
    uint8_t *buf;
    char *hex;
    int slot;
    int rc;

    rc = get_slot(arg, "slot", false, &slot, error);
    if (!rc) {
        rc = get_range(arg, &offset, &length, error);
    }
    if (rc) {
        return rc;
    }
    buf = malloc(length ? (size_t)length : 1);
    if (!buf) {
        return -ENOMEM;
    }
    rc = nicsim_flash_read(ns->flash, slot, (uint64_t)offset, buf, (size_t)length, &err);
    if (rc) {
        free(buf);
        return from_err(error, rc, &err);
    }
    hex = nicsim_hex_encode(buf, (size_t)length);
    free(buf);
    *result = json_pack("{s:s?}", "data", hex);
    free(hex);
    return 0;
}

static int
m_flash_write(struct nicsim *ns, const json_t *arg, json_t **result,
              struct esw_error *error)
{
    struct ovnic_err err = {0};
    const char *hex;
    int64_t offset;
    uint8_t *buf;
    size_t len;
    int slot;
    int rc;

    rc = get_slot(arg, "slot", false, &slot, error);
    if (!rc) {
        rc = get_range(arg, &offset, NULL, error);
    }
    if (rc) {
        return rc;
    }
    if (json_get_string(arg, "data", &hex, &err)) {
        return bad_arg(error, &err);
    }
    if (nicsim_hex_decode(hex, &buf, &len)) {
        return esw_error_set(error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                             "data is not hex", NULL);
    }
    rc = nicsim_flash_write(ns->flash, slot, (uint64_t)offset, buf, len, &err);
    free(buf);
    if (rc) {
        return from_err(error, rc, &err);
    }
    *result = json_pack("{s:I}", "written", (json_int_t)len);
    return 0;
}

static int
m_flash_erase(struct nicsim *ns, const json_t *arg, json_t **result,
              struct esw_error *error)
{
    struct ovnic_err err = {0};
    int slot;
    int rc = get_slot(arg, "slot", false, &slot, error);

    if (rc) {
        return rc;
    }
    rc = nicsim_flash_erase(ns->flash, slot, &err);
    if (rc) {
        return from_err(error, rc, &err);
    }
    *result = boot_json(ns);
    return 0;
}

static int
m_boot_set(struct nicsim *ns, const json_t *arg, json_t **result, struct esw_error *error)
{
    struct ovnic_err err = {0};
    int slot;
    int rc = get_slot(arg, "pending", true, &slot, error);

    if (rc) {
        return rc;
    }
    rc = nicsim_flash_boot_set(ns->flash, slot, &err);
    if (rc) {
        return from_err(error, rc, &err);
    }
    *result = boot_json(ns);
    return 0;
}

static int
m_flash_reboot(struct nicsim *ns, const json_t *arg, json_t **result,
               struct esw_error *error)
{
    struct ovnic_err err = {0};
    int rc = nicsim_flash_reboot(ns->flash, &err);

    if (rc) {
        return from_err(error, rc, &err);
    }
    *result = boot_json(ns);
    return 0;
}

static int
m_flash_confirm(struct nicsim *ns, const json_t *arg, json_t **result,
                struct esw_error *error)
{
    struct ovnic_err err = {0};
    int rc = nicsim_flash_confirm(ns->flash, &err);

    if (rc) {
        return from_err(error, rc, &err);
    }
    *result = boot_json(ns);
    return 0;
}

static int
m_flash_power_cycle(struct nicsim *ns, const json_t *arg, json_t **result,
                    struct esw_error *error)
{
    struct ovnic_err err = {0};
    int rc = nicsim_flash_power_cycle(ns->flash, &err);

    if (rc) {
        return from_err(error, rc, &err);
    }
    *result = boot_json(ns);
    return 0;
}

/* ---- Dispatch. ---------------------------------------------------------------- */

static const struct {
    const char *name;
    ctl_method_fn fn;
} methods[] = {
    {"validate", m_validate},
    {"create", m_create},
    {"create_bulk", m_create_bulk},
    {"destroy", m_destroy},
    {"destroy_bulk", m_destroy_bulk},
    {"query", m_query},
    {"aged", m_aged},
    {"flush", m_flush},
    {"rules", m_rules},
    {"meter_set", m_meter_set},
    {"caps", m_caps},
    {"ports", m_ports},
    {"stats", m_stats},
    {"status", m_status},
    {"sriov_set", m_sriov_set},
    {"fault_set", m_fault_set},
    {"fault_clear", m_fault_clear},
    {"fault_list", m_fault_list},
    {"flash_info", m_flash_info},
    {"flash_read", m_flash_read},
    {"flash_write", m_flash_write},
    {"flash_erase", m_flash_erase},
    {"boot_set", m_boot_set},
    {"flash_reboot", m_flash_reboot},
    {"flash_confirm", m_flash_confirm},
    {"flash_power_cycle", m_flash_power_cycle},
};

static struct jsonrpc_msg *
handle_request(struct nicsim *ns, const struct rpc_server_request *req)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(30, 10);
    const json_t *arg = json_array_get(req->params, 0);
    json_t *empty = NULL;
    struct esw_error error;
    json_t *result = NULL;
    size_t i;
    int rc = -ENOSYS;

    esw_error_clear(&error);
    if (!arg) {
        arg = empty = json_object();
    }
    if (!json_is_object(arg)) {
        rc = esw_error_set(&error, -EINVAL, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                           "params must be [] or [{...}]", NULL);
    } else {
        for (i = 0; i < ARRAY_SIZE(methods); i++) {
            if (!strcmp(methods[i].name, req->method)) {
                rc = methods[i].fn(ns, arg, &result, &error);
                break;
            }
        }
        if (i == ARRAY_SIZE(methods)) {
            rc = esw_error_set(&error, -ENOSYS, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                               "unknown method", "%s", req->method);
        }
    }
    json_decref(empty);
    if (rc) {
        char text[512];

        if (!error.err.code) {
            esw_error_set(&error, rc, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, -1,
                          "request failed", NULL);
        }
        OLOG_DBG_RL(&rl, "%s: %s", req->method,
                    esw_error_format(&error, text, sizeof text));
        json_decref(result);
        return jsonrpc_msg_create_error(error_to_json(&error), req->id);
    }
    if (!result) {
        result = json_object();
    }
    return jsonrpc_msg_create_reply(result, req->id);
}

/* Every request is answered at once. */
static void
request_cb(void *aux, uint64_t conn, const struct rpc_server_request *req)
{
    struct nicsim *ns = aux;

    rpc_server_send(ns->ctl, conn, handle_request(ns, req));
}

int
nicsim_ctl_open(struct nicsim *ns, struct ovnic_err *err)
{
    struct rpc_server_settings settings;
    char name[PATH_MAX + 8];

    rpc_server_settings_default(&settings);
    settings.name = "nicsim control socket";
    settings.max_msg = CTL_MAX_MSG;
    /* ovnic-dpud's eSwitch backend keeps one connection open for as long as it runs,
     * and may leave it quiet for any time: no idle timeout. */
    settings.idle_timeout_ms = 0;
    /* A batch of rules comes as one message of up to CTL_MAX_MSG, whose answer may be
     * as large. */
    settings.backlog_max = CTL_MAX_MSG;
    snprintf(name, sizeof name, "punix:%s", ns->ctl_path);
    unlink(ns->ctl_path);
    return rpc_server_create(ns->loop, name, NULL, &settings, request_cb, ns, &ns->ctl,
                             err);
}

void
nicsim_ctl_close(struct nicsim *ns)
{
    rpc_server_destroy(ns->ctl);
    ns->ctl = NULL;
}
