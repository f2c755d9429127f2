/* Fuzz target for the OVSDB data layer: types, datums, diffs, schemas, and
 * table-updates applied to a replica of the OVN SB schema.
 *
 * The input is JSON: one step object, or an array of steps run in order against one
 * replica.  A step is any of
 *   {"type": <type>, "datum": <value>, "diff": <value>}   parse, print, re-parse, diff
 *   {"schema": <database-schema>}                         parse a schema, build a replica
 *   {"update": <table-updates>}    {"update2": ...}       apply (format 1 / 2)
 *   {"replace": <table-updates>}   {"replace2": ...}      full resync (format 1 / 2)
 *   {"clear": true}                {"track_clear": true}
 * and the target aborts if an invariant breaks: a printed datum must parse back equal,
 * a failed apply must leave the replica unchanged, tracked rows must stay readable. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "dpu/ovsdb/schema.h"

#define SB_SCHEMA_PATH "/usr/share/ovn/ovn-sb.ovsschema"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ovsdb_schema *sb_schema;
static bool sb_schema_tried;

static void
free_sb_schema(void)
{
    ovsdb_schema_destroy(sb_schema);
    sb_schema = NULL;
}

static const struct ovsdb_schema *
get_sb_schema(void)
{
    if (!sb_schema_tried) {
        sb_schema_tried = true;
        const char *path = getenv("OVNIC_SB_SCHEMA");
        if (ovsdb_schema_from_file(path ? path : SB_SCHEMA_PATH, &sb_schema, NULL)) {
            fprintf(stderr, "fuzz_datum: cannot load the SB schema; replica steps off\n");
            sb_schema = NULL;
        }
        atexit(free_sb_schema);
    }
    return sb_schema;
}

static void
check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_datum: invariant broken: %s\n", what);
        abort();
    }
}

static void
run_datum_step(const json_t *step)
{
    struct ovsdb_type type;
    if (ovsdb_type_from_json(json_object_get(step, "type"), &type, NULL)) {
        return;
    }
    const json_t *value = json_object_get(step, "datum");
    struct ovsdb_datum datum;
    if (value && !ovsdb_datum_from_json(&datum, &type, value, NULL)) {
        check(!ovsdb_datum_check(&datum, &type, NULL), "parsed datum fits its type");
        json_t *printed = ovsdb_datum_to_json(&datum);
        struct ovsdb_datum again, copy;
        if (printed) {
            check(!ovsdb_datum_from_json(&again, &type, printed, NULL),
                  "printed datum parses back");
            check(ovsdb_datum_equals(&datum, &again), "printed datum parses back equal");
            check(ovsdb_datum_hash(&datum, 1) == ovsdb_datum_hash(&again, 1),
                  "equal datums hash equal");
            ovsdb_datum_destroy(&again);
            json_decref(printed);
        }
        if (!ovsdb_datum_clone(&copy, &datum)) {
            check(!ovsdb_datum_compare(&copy, &datum), "clone compares equal");
            ovsdb_datum_destroy(&copy);
        }
        (void)ovsdb_datum_get_string(&datum, NULL);
        (void)ovsdb_datum_map_get_string(&datum, "a", NULL);
        (void)ovsdb_datum_contains_string(&datum, "a");

        const json_t *diff = json_object_get(step, "diff");
        struct ovsdb_datum result;
        if (diff && !ovsdb_datum_apply_diff_json(&result, &datum, &type, diff, NULL)) {
            check(!ovsdb_datum_check(&result, &type, NULL), "diff result fits its type");
            ovsdb_datum_destroy(&result);
        }
        ovsdb_datum_destroy(&datum);
    }
    ovsdb_type_destroy(&type);
}

static void
run_schema_step(const json_t *json)
{
    struct ovsdb_schema *schema;
    if (!ovsdb_schema_from_json(json, &schema, NULL)) {
        struct ovsdb_replica *replica;
        if (!ovsdb_replica_create(schema, &replica)) {
            json_t *dump = ovsdb_replica_to_json(replica);
            check(!dump || json_object_size(dump) == schema->n_tables,
                  "every table printed");
            json_decref(dump);
            ovsdb_replica_destroy(replica);
        }
        ovsdb_schema_destroy(schema);
    }
}

/* Reads every tracked row, deleted ones included. */
static void
touch_tracked(const struct ovsdb_replica *replica)
{
    const struct ovsdb_schema *schema = ovsdb_replica_schema(replica);
    for (size_t i = 0; i < schema->n_tables; i++) {
        const struct ovsdb_table_schema *ts = schema->table_array[i];
        struct ovsdb_replica_table *t = ovsdb_replica_table(replica, ts->name);
        const struct ovsdb_row *row;
        OVSDB_TABLE_FOR_EACH_TRACKED (row, t) {
            json_t *json = ovsdb_row_to_json(row);
            json_decref(json);
            check(ovsdb_row_change(row) != OVSDB_ROW_UNCHANGED, "tracked row changed");
            for (size_t c = 0; c < ts->n_columns; c++) {
                (void)ovsdb_row_column_changed(row, c);
            }
        }
    }
}

static void
run_replica_step(struct ovsdb_replica *replica, const json_t *step)
{
    const json_t *updates;
    int error;

    if (json_is_true(json_object_get(step, "clear"))) {
        ovsdb_replica_clear(replica);
    }
    if (json_is_true(json_object_get(step, "track_clear"))) {
        ovsdb_replica_track_clear(replica);
    }

    static const struct {
        const char *name;
        enum ovsdb_update_format format;
        bool replace;
    } kinds[] = {
        {"update", OVSDB_UPDATE_V1, false},
        {"update2", OVSDB_UPDATE_V2, false},
        {"replace", OVSDB_UPDATE_V1, true},
        {"replace2", OVSDB_UPDATE_V2, true},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        updates = json_object_get(step, kinds[i].name);
        if (!updates) {
            continue;
        }
        json_t *before = ovsdb_replica_to_json(replica);
        bool had_changes = ovsdb_replica_has_changes(replica);
        struct ovnic_err err = {0};
        if (kinds[i].replace) {
            error = ovsdb_replica_replace(replica, kinds[i].format, updates, NULL, &err);
        } else {
            error = ovsdb_replica_apply(replica, kinds[i].format, updates, &err);
        }
        if (error) {
            check(err.code == error, "error recorded");
            json_t *after = ovsdb_replica_to_json(replica);
            check(!before || !after || json_equal(before, after),
                  "failed update leaves the replica unchanged");
            check(ovsdb_replica_has_changes(replica) == had_changes,
                  "failed update leaves tracking unchanged");
            json_decref(after);
        }
        json_decref(before);
        touch_tracked(replica);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *json = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!json) {
        return 0;
    }
    const struct ovsdb_schema *schema = get_sb_schema();
    struct ovsdb_replica *replica = NULL;
    if (schema && ovsdb_replica_create(schema, &replica)) {
        replica = NULL;
    }

    size_t n = json_is_array(json) ? json_array_size(json) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *step = json_is_array(json) ? json_array_get(json, i) : json;
        if (!json_is_object(step)) {
            continue;
        }
        if (json_object_get(step, "type")) {
            run_datum_step(step);
        }
        if (json_object_get(step, "schema")) {
            run_schema_step(json_object_get(step, "schema"));
        }
        if (replica) {
            run_replica_step(replica, step);
        }
    }
    ovsdb_replica_destroy(replica);
    json_decref(json);
    return 0;
}
