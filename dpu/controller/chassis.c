/* ovnic: Chassis, Encap and Chassis_Private rows of this chassis (see chassis.h). */
#include "chassis.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "dpu/ovsdb/txn.h"
#include "shared/util/json.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(chassis);

/* Interface types ovnic's datapath can serve: it terminates Geneve itself. */
#define CHASSIS_IFACE_TYPES "geneve"

const struct ovsdb_row *
chassis_lookup(const struct ovsdb_replica *replica, const char *name)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Chassis");
    const struct ovsdb_row *row;

    if (!t) {
        return NULL;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        if (!strcmp(ovsdb_datum_get_string(ovsdb_row_get(row, "name"), ""), name)) {
            return row;
        }
    }
    return NULL;
}

const struct ovsdb_row *
chassis_private_lookup(const struct ovsdb_replica *replica, const char *name)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Chassis_Private");
    const struct ovsdb_row *row;

    if (!t) {
        return NULL;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        if (!strcmp(ovsdb_datum_get_string(ovsdb_row_get(row, "name"), ""), name)) {
            return row;
        }
    }
    return NULL;
}

json_t *
chassis_other_config(const struct chassis_config *config)
{
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
        " s:s, s:s}",
        "ct-no-masked-label", "true", "datapath-type", "", "iface-types",
        CHASSIS_IFACE_TYPES, "is-interconn", "false", "mac-binding-timestamp", "true",
        "ovn-bridge-mappings", config->bridge_mappings, "ovn-chassis-mac-mappings", "",
        "ovn-cms-options", config->cms_options, "ovn-ct-lb-related", "true",
        "ovn-enable-lflow-cache", "true", "ovn-limit-lflow-cache", "",
        "ovn-memlimit-lflow-cache-kb", "", "ovn-monitor-all",
        config->monitor_all ? "true" : "false", "ovn-trim-limit-lflow-cache", "",
        "ovn-trim-timeout-ms", "", "ovn-trim-wmark-perc-lflow-cache", "", "port-up-notif",
        "true");
}

/* The other_config map to write: the row's current map (if any) with our keys set.
 * Returns it as an OVSDB map value, or NULL on allocation failure; '*differs' says
 * whether it differs from the row's. */
static json_t *
other_config_value(const struct ovsdb_row *row, const struct chassis_config *config,
                   bool *differs)
{
    const struct ovsdb_datum *cur = row ? ovsdb_row_get(row, "other_config") : NULL;
    json_t *ours = chassis_other_config(config);
    json_t *merged = json_object();
    json_t *map = NULL;
    const char *key;
    json_t *value;

    *differs = false;
    if (!ours || !merged) {
        goto out;
    }
    for (uint32_t i = 0; cur && ovsdb_datum_is_map(cur) && i < cur->n; i++) {
        if (cur->key_type == OVSDB_TYPE_STRING && cur->value_type == OVSDB_TYPE_STRING) {
            json_object_set_new(merged, cur->keys[i].string,
                                json_string(cur->values[i].string));
        }
    }
    json_object_foreach(ours, key, value)
    {
        const char *old = ovsdb_datum_map_get_string(cur, key, NULL);

        if (!old || strcmp(old, json_string_value(value))) {
            *differs = true;
        }
        json_object_set(merged, key, value);
    }
    map = json_ovsdb_map(NULL);
    json_object_foreach(merged, key, value)
    {
        if (map && json_ovsdb_map_add(map, json_string(key), json_incref(value))) {
            json_decref(map);
            map = NULL;
        }
    }
out:
    json_decref(ours);
    json_decref(merged);
    return map;
}

static json_t *
encap_options(const struct chassis_config *config)
{
    return json_pack("[s, [[s, s]]]", "map", "csum",
                     config->encap_csum ? "true" : "false");
}

/* How the Encap rows of 'chassis' compare with the wanted ones. */
enum encap_state {
    ENCAP_CURRENT,   /* Nothing to do. */
    ENCAP_OPTIONS,   /* Same IPs; options or chassis_name differ: update in place. */
    ENCAP_DIFFERENT, /* Create new rows. */
};

static bool
encap_fields_match(const struct ovsdb_row *encap, const struct chassis_config *config)
{
    const struct ovsdb_datum *options = ovsdb_row_get(encap, "options");
    const char *csum = ovsdb_datum_map_get_string(options, "csum", NULL);

    return csum && !strcmp(csum, config->encap_csum ? "true" : "false") &&
           options->n == 1 &&
           !strcmp(ovsdb_datum_get_string(ovsdb_row_get(encap, "chassis_name"), ""),
                   config->name);
}

static enum encap_state
encap_compare(const struct ovsdb_replica *replica, const struct ovsdb_row *chassis,
              const struct chassis_config *config)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Encap");
    const struct ovsdb_datum *encaps = ovsdb_row_get(chassis, "encaps");
    enum encap_state state = ENCAP_CURRENT;
    size_t found = 0;

    if (!t || !encaps || encaps->n != config->n_encap_ips) {
        return ENCAP_DIFFERENT;
    }
    for (uint32_t i = 0; i < encaps->n; i++) {
        const struct ovsdb_row *e = ovsdb_replica_table_find(t, &encaps->keys[i].uuid);
        const char *ip;

        if (!e ||
            strcmp(ovsdb_datum_get_string(ovsdb_row_get(e, "type"), ""), "geneve")) {
            return ENCAP_DIFFERENT;
        }
        ip = ovsdb_datum_get_string(ovsdb_row_get(e, "ip"), "");
        for (size_t j = 0; j < config->n_encap_ips; j++) {
            if (!strcmp(ip, config->encap_ips[j])) {
                found++;
                break;
            }
        }
        if (!encap_fields_match(e, config)) {
            state = ENCAP_OPTIONS;
        }
    }
    return found == config->n_encap_ips ? state : ENCAP_DIFFERENT;
}

bool
chassis_is_current(const struct ovsdb_replica *replica,
                   const struct chassis_config *config)
{
    const struct ovsdb_row *ch = chassis_lookup(replica, config->name);
    const struct ovsdb_row *cp = chassis_private_lookup(replica, config->name);
    const struct uuid *cp_chassis;
    json_t *oc;
    bool differs;

    if (!ch || !cp) {
        return false;
    }
    cp_chassis = ovsdb_datum_get_uuid(ovsdb_row_get(cp, "chassis"));
    if (!cp_chassis || !uuid_equals(cp_chassis, ovsdb_row_uuid(ch)) ||
        strcmp(ovsdb_datum_get_string(ovsdb_row_get(ch, "hostname"), ""),
               config->hostname) ||
        encap_compare(replica, ch, config) != ENCAP_CURRENT) {
        return false;
    }
    oc = other_config_value(ch, config, &differs);
    json_decref(oc);
    return oc && !differs;
}

/* Appends the insertion of the wanted Encap rows, named "encap<i>", and returns the
 * set of references to them (caller owns), or NULL on allocation failure. */
static json_t *
encaps_insert(struct ovsdb_txn *txn, const struct chassis_config *config)
{
    json_t *set = json_ovsdb_set(NULL);

    for (size_t i = 0; set && i < config->n_encap_ips; i++) {
        char name[32];
        json_t *row;

        snprintf(name, sizeof name, "encap%zu", i);
        row = json_pack("{s:s, s:s, s:s, s:o}", "type", "geneve", "ip",
                        config->encap_ips[i], "chassis_name", config->name, "options",
                        encap_options(config));
        if (!row || ovsdb_txn_insert(txn, "Encap", row, name) ||
            json_ovsdb_set_add(set, ovsdb_txn_named_uuid(name))) {
            json_decref(set);
            return NULL;
        }
    }
    return set;
}

static int
encaps_update_options(const struct ovsdb_replica *replica, const struct ovsdb_row *ch,
                      const struct chassis_config *config, struct ovsdb_txn *txn)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Encap");
    const struct ovsdb_datum *encaps = ovsdb_row_get(ch, "encaps");

    for (uint32_t i = 0; i < encaps->n; i++) {
        const struct ovsdb_row *e = ovsdb_replica_table_find(t, &encaps->keys[i].uuid);

        if (e && !encap_fields_match(e, config)) {
            int error =
                ovsdb_txn_update(txn, "Encap", ovsdb_txn_where_uuid(ovsdb_row_uuid(e)),
                                 json_pack("{s:o, s:s}", "options", encap_options(config),
                                           "chassis_name", config->name));
            if (error) {
                return error;
            }
        }
    }
    return 0;
}

int
chassis_run(const struct ovsdb_replica *replica, const struct chassis_config *config,
            int64_t nb_cfg, int64_t nb_cfg_ts, struct ovsdb_txn *txn, bool *wrote,
            const char **what)
{
    const struct ovsdb_row *ch, *cp;
    size_t n_ops = ovsdb_txn_n_ops(txn);
    json_t *chassis_ref;
    json_t *oc;
    bool differs;
    int error = 0;

    *wrote = false;
    *what = "updating";
    if (!ovsdb_replica_table(replica, "Chassis") ||
        !ovsdb_replica_table(replica, "Chassis_Private") ||
        !ovsdb_replica_table(replica, "Encap")) {
        return -ENOENT;
    }
    ch = chassis_lookup(replica, config->name);
    cp = chassis_private_lookup(replica, config->name);

    oc = other_config_value(ch, config, &differs);
    if (!oc) {
        return -ENOMEM;
    }
    if (!ch) {
        json_t *encaps = encaps_insert(txn, config);
        json_t *row =
            encaps ? json_pack("{s:s, s:s, s:o, s:o}", "name", config->name, "hostname",
                               config->hostname, "encaps", encaps, "other_config", oc)
                   : NULL;

        oc = NULL;
        if (!row) {
            json_decref(encaps);
            return -ENOMEM;
        }
        error = ovsdb_txn_insert(txn, "Chassis", row, "chassis");
        chassis_ref = ovsdb_txn_named_uuid("chassis");
        *what = "registering";
    } else {
        json_t *update = json_object();
        enum encap_state es = encap_compare(replica, ch, config);

        if (!update) {
            json_decref(oc);
            return -ENOMEM;
        }
        if (differs) {
            json_object_set_new(update, "other_config", oc);
            oc = NULL;
        }
        if (strcmp(ovsdb_datum_get_string(ovsdb_row_get(ch, "hostname"), ""),
                   config->hostname)) {
            json_object_set_new(update, "hostname", json_string(config->hostname));
        }
        if (es == ENCAP_DIFFERENT) {
            json_t *encaps = encaps_insert(txn, config);

            if (!encaps) {
                error = -ENOMEM;
            } else {
                json_object_set_new(update, "encaps", encaps);
            }
        } else if (es == ENCAP_OPTIONS) {
            error = encaps_update_options(replica, ch, config, txn);
        }
        if (!error && json_object_size(update)) {
            error = ovsdb_txn_update(txn, "Chassis",
                                     ovsdb_txn_where_uuid(ovsdb_row_uuid(ch)), update);
        } else {
            json_decref(update);
        }
        chassis_ref = ovsdb_txn_uuid(ovsdb_row_uuid(ch));
    }
    json_decref(oc);
    if (error || !chassis_ref) {
        json_decref(chassis_ref);
        return error ? error : -ENOMEM;
    }

    if (!cp) {
        json_t *row =
            json_pack("{s:s, s:O}", "name", config->name, "chassis", chassis_ref);

        if (row && nb_cfg) {
            json_object_set_new(row, "nb_cfg", json_integer(nb_cfg));
            json_object_set_new(row, "nb_cfg_timestamp", json_integer(nb_cfg_ts));
        }
        error = row ? ovsdb_txn_insert(txn, "Chassis_Private", row, NULL) : -ENOMEM;
    } else {
        const struct uuid *cur = ovsdb_datum_get_uuid(ovsdb_row_get(cp, "chassis"));

        if (!ch || !cur || !uuid_equals(cur, ovsdb_row_uuid(ch))) {
            error = ovsdb_txn_update(txn, "Chassis_Private",
                                     ovsdb_txn_where_uuid(ovsdb_row_uuid(cp)),
                                     json_pack("{s:O}", "chassis", chassis_ref));
        }
    }
    json_decref(chassis_ref);
    *wrote = ovsdb_txn_n_ops(txn) != n_ops;
    if (*wrote) {
        OLOG_DBG("%s chassis '%s'", *what, config->name);
    }
    return error;
}

int
chassis_cleanup(const struct ovsdb_replica *replica, const char *name,
                struct ovsdb_txn *txn, bool *wrote)
{
    const struct ovsdb_row *ch = chassis_lookup(replica, name);
    const struct ovsdb_row *cp = chassis_private_lookup(replica, name);
    int error = 0;

    *wrote = false;
    if (cp) {
        error = ovsdb_txn_delete(txn, "Chassis_Private",
                                 ovsdb_txn_where_uuid(ovsdb_row_uuid(cp)));
        *wrote = true;
    }
    if (!error && ch) {
        error =
            ovsdb_txn_delete(txn, "Chassis", ovsdb_txn_where_uuid(ovsdb_row_uuid(ch)));
        *wrote = true;
    }
    return error;
}
