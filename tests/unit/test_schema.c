/* Unit tests for dpu/ovsdb/schema: the OVN SB schema, _Server, malformed schemas. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/schema.h"

#define SB_SCHEMA_PATH "/usr/share/ovn/ovn-sb.ovsschema"

/* The _Server schema exactly as "ovsdb-client get-schema unix:SOCK _Server" prints it
 * for ovsdb-server 3.1. */
static const char server_schema[] =
    "{\"cksum\":\"3009684573 744\",\"name\":\"_Server\",\"tables\":{\"Database\":{"
    "\"columns\":{\"cid\":{\"type\":{\"key\":\"uuid\",\"min\":0}},\"connected\":{"
    "\"type\":\"boolean\"},\"index\":{\"type\":{\"key\":\"integer\",\"min\":0}},"
    "\"leader\":{\"type\":\"boolean\"},\"model\":{\"type\":{\"key\":{\"enum\":[\"set\","
    "[\"clustered\",\"relay\",\"standalone\"]],\"type\":\"string\"}}},\"name\":{\"type\":"
    "\"string\"},\"schema\":{\"type\":{\"key\":\"string\",\"min\":0}},\"sid\":{\"type\":"
    "{\"key\":\"uuid\",\"min\":0}}}}},\"version\":\"1.2.0\"}";

static json_t *
parse_json(const char *text)
{
    json_error_t jerr;
    json_t *json = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!json) {
        fail_msg("bad test JSON '%s': %s", text, jerr.text);
    }
    return json;
}

static const struct ovsdb_column_schema *
column(const struct ovsdb_schema *schema, const char *table, const char *name)
{
    const struct ovsdb_table_schema *t = ovsdb_schema_find_table(schema, table);
    if (!t) {
        fail_msg("no table %s", table);
    }
    const struct ovsdb_column_schema *c = ovsdb_table_schema_find_column(t, name);
    if (!c) {
        fail_msg("no column %s.%s", table, name);
    }
    assert_ptr_equal(&t->columns[c->index], c);
    return c;
}

static void
test_sb_schema(void **state)
{
    (void)state;
    struct ovsdb_schema *schema = NULL;
    struct ovnic_err err = {0};
    int error = ovsdb_schema_from_file(SB_SCHEMA_PATH, &schema, &err);
    if (error) {
        char buf[256];
        fail_msg("%s", ovnic_err_format(&err, buf, sizeof buf));
    }
    assert_string_equal(schema->name, "OVN_Southbound");
    assert_string_equal(schema->version, "20.27.0");
    assert_non_null(schema->cksum);

    /* Every table and column of the file is there, in the file's column order. */
    json_error_t jerr;
    json_t *file = json_load_file(SB_SCHEMA_PATH, 0, &jerr);
    assert_non_null(file);
    json_t *tables = json_object_get(file, "tables");
    assert_int_equal(schema->n_tables, json_object_size(tables));
    assert_int_equal(schema->n_tables, 34);
    assert_int_equal(hmap_count(&schema->tables), 34);
    for (void *it_table = json_object_iter(tables); it_table;
         it_table = json_object_iter_next(tables, it_table)) {
        const char *tname = json_object_iter_key(it_table);
        json_t *tjson = json_object_iter_value(it_table);
        const struct ovsdb_table_schema *t = ovsdb_schema_find_table(schema, tname);
        assert_non_null(t);
        assert_ptr_equal(schema->table_array[t->index], t);
        json_t *columns = json_object_get(tjson, "columns");
        assert_int_equal(t->n_columns, json_object_size(columns));
        size_t i = 0;
        for (void *it_col = json_object_iter(columns); it_col;
             it_col = json_object_iter_next(columns, it_col)) {
            const char *cname = json_object_iter_key(it_col);
            assert_string_equal(t->columns[i].name, cname);
            assert_int_equal(t->columns[i].index, i);
            i++;
        }
        assert_int_equal(t->is_root, json_is_true(json_object_get(tjson, "isRoot")));
    }
    json_decref(file);
    for (size_t i = 1; i < schema->n_tables; i++) {
        assert_true(
            strcmp(schema->table_array[i - 1]->name, schema->table_array[i]->name) < 0);
    }
    assert_null(ovsdb_schema_find_table(schema, "Nope"));

    const struct ovsdb_column_schema *c = column(schema, "Logical_Flow", "table_id");
    assert_int_equal(c->type.key.type, OVSDB_TYPE_INTEGER);
    assert_int_equal(c->type.key.min_integer, 0);
    assert_int_equal(c->type.key.max_integer, 32);
    assert_int_equal(c->type.n_min, 1);
    assert_int_equal(c->type.n_max, 1);
    assert_true(ovsdb_type_is_scalar(&c->type));

    c = column(schema, "Meter_Band", "rate");
    assert_int_equal(c->type.key.max_integer, 4294967295LL);

    c = column(schema, "Encap", "type");
    assert_int_equal(c->type.key.type, OVSDB_TYPE_STRING);
    assert_non_null(c->type.key.enum_);
    assert_int_equal(c->type.key.enum_->n, 3);
    assert_true(ovsdb_datum_contains_string(c->type.key.enum_, "geneve"));
    assert_true(ovsdb_datum_contains_string(c->type.key.enum_, "vxlan"));

    c = column(schema, "Meter_Band", "action");
    assert_int_equal(c->type.key.enum_->n, 1); /* "enum": "drop" */

    c = column(schema, "Port_Binding", "chassis");
    assert_int_equal(c->type.key.type, OVSDB_TYPE_UUID);
    assert_string_equal(c->type.key.ref_table, "Chassis");
    assert_false(c->type.key.ref_strong);
    assert_int_equal(c->type.n_min, 0);
    assert_int_equal(c->type.n_max, 1);
    assert_false(ovsdb_type_is_scalar(&c->type));

    c = column(schema, "Port_Binding", "gateway_chassis");
    assert_true(c->type.key.ref_strong);
    assert_int_equal(c->type.n_max, OVSDB_N_MAX_UNLIMITED);

    c = column(schema, "Port_Binding", "external_ids");
    assert_true(ovsdb_type_is_map(&c->type));
    assert_int_equal(c->type.key.type, OVSDB_TYPE_STRING);
    assert_int_equal(c->type.value.type, OVSDB_TYPE_STRING);
    assert_int_equal(c->type.n_min, 0);
    assert_int_equal(c->type.n_max, OVSDB_N_MAX_UNLIMITED);

    c = column(schema, "Chassis", "encaps");
    assert_int_equal(c->type.n_min, 1);
    assert_int_equal(c->type.n_max, OVSDB_N_MAX_UNLIMITED);

    c = column(schema, "RBAC_Role", "permissions");
    assert_int_equal(c->type.value.type, OVSDB_TYPE_UUID);
    assert_string_equal(c->type.value.ref_table, "RBAC_Permission");

    c = column(schema, "Connection", "is_connected");
    assert_true(c->ephemeral);
    assert_true(c->mutable_);

    c = column(schema, "Port_Binding", "up");
    assert_int_equal(c->type.key.type, OVSDB_TYPE_BOOLEAN);

    const struct ovsdb_table_schema *t = ovsdb_schema_find_table(schema, "SB_Global");
    assert_int_equal(t->max_rows, 1);
    assert_true(t->is_root);
    t = ovsdb_schema_find_table(schema, "Encap");
    assert_int_equal(t->max_rows, OVSDB_MAX_ROWS_UNLIMITED);
    assert_false(t->is_root);
    assert_null(ovsdb_table_schema_find_column(t, "_uuid"));

    ovsdb_schema_destroy(schema);
    ovsdb_schema_destroy(NULL);
}

static void
test_server_schema(void **state)
{
    (void)state;
    json_t *json = parse_json(server_schema);
    struct ovsdb_schema *schema = NULL;
    assert_int_equal(ovsdb_schema_from_json(json, &schema, NULL), 0);
    json_decref(json);
    assert_string_equal(schema->name, "_Server");
    assert_string_equal(schema->version, "1.2.0");
    assert_int_equal(schema->n_tables, 1);
    const struct ovsdb_table_schema *t = ovsdb_schema_find_table(schema, "Database");
    assert_non_null(t);
    static const char *const names[] = {"name",   "model", "connected", "leader",
                                        "schema", "cid",   "sid",       "index"};
    assert_int_equal(t->n_columns, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_non_null(ovsdb_table_schema_find_column(t, names[i]));
    }
    const struct ovsdb_column_schema *c = column(schema, "Database", "model");
    assert_int_equal(c->type.key.enum_->n, 3);
    c = column(schema, "Database", "cid");
    assert_int_equal(c->type.key.type, OVSDB_TYPE_UUID);
    assert_null(c->type.key.ref_table);
    assert_int_equal(c->type.n_min, 0);
    assert_int_equal(c->type.n_max, 1);
    c = column(schema, "Database", "index");
    assert_int_equal(c->type.key.type, OVSDB_TYPE_INTEGER);
    assert_int_equal(c->type.key.min_integer, INT64_MIN);
    c = column(schema, "Database", "connected");
    assert_int_equal(c->type.key.type, OVSDB_TYPE_BOOLEAN);
    ovsdb_schema_destroy(schema);
}

static void
test_types(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        enum ovsdb_atomic_type key, value;
        uint32_t n_min, n_max;
    } cases[] = {
        {"\"real\"", OVSDB_TYPE_REAL, OVSDB_TYPE_VOID, 1, 1},
        {"{\"key\": \"string\"}", OVSDB_TYPE_STRING, OVSDB_TYPE_VOID, 1, 1},
        {"{\"key\": \"uuid\", \"min\": 0, \"max\": 7}", OVSDB_TYPE_UUID, OVSDB_TYPE_VOID,
         0, 7},
        {"{\"key\": \"integer\", \"value\": \"boolean\", \"max\": \"unlimited\"}",
         OVSDB_TYPE_INTEGER, OVSDB_TYPE_BOOLEAN, 1, OVSDB_N_MAX_UNLIMITED},
        {"{\"key\": {\"type\": \"real\", \"minReal\": 1, \"maxReal\": 2.5}, \"min\": 0}",
         OVSDB_TYPE_REAL, OVSDB_TYPE_VOID, 0, 1},
        {"{\"key\": \"integer\", \"max\": 99999999999}", OVSDB_TYPE_INTEGER,
         OVSDB_TYPE_VOID, 1, OVSDB_N_MAX_UNLIMITED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *json = parse_json(cases[i].json);
        struct ovsdb_type type;
        struct ovnic_err err = {0};
        if (ovsdb_type_from_json(json, &type, &err)) {
            fail_msg("%s: %s", cases[i].json, err.message);
        }
        assert_int_equal(type.key.type, cases[i].key);
        assert_int_equal(type.value.type, cases[i].value);
        assert_int_equal(type.n_min, cases[i].n_min);
        assert_int_equal(type.n_max, cases[i].n_max);
        ovsdb_type_destroy(&type);
        json_decref(json);
    }
    ovsdb_type_destroy(NULL);

    json_t *json = parse_json("{\"key\": {\"type\": \"real\", \"minReal\": 1, "
                              "\"maxReal\": 2.5}}");
    struct ovsdb_type type;
    assert_int_equal(ovsdb_type_from_json(json, &type, NULL), 0);
    assert_true(type.key.min_real == 1.0 && type.key.max_real == 2.5);
    ovsdb_type_destroy(&type);
    json_decref(json);

    json = parse_json("{\"key\": {\"type\": \"string\", \"minLength\": 2, "
                      "\"maxLength\": 9}}");
    assert_int_equal(ovsdb_type_from_json(json, &type, NULL), 0);
    assert_int_equal(type.key.min_length, 2);
    assert_int_equal(type.key.max_length, 9);
    ovsdb_type_destroy(&type);
    json_decref(json);
}

/* Wraps a column type into a one-table schema. */
static void
check_bad_type(const char *type_json, const char *message)
{
    char text[1024];
    snprintf(
        text, sizeof text,
        "{\"name\": \"D\", \"tables\": {\"T\": {\"columns\": {\"c\": {\"type\": %s}}}}}",
        type_json);
    json_t *json = parse_json(text);
    struct ovsdb_schema *schema = (struct ovsdb_schema *)(uintptr_t)0x1;
    struct ovnic_err err = {0};
    int error = ovsdb_schema_from_json(json, &schema, &err);
    json_decref(json);
    if (error != -EINVAL) {
        fail_msg("type %s: got %d, want -EINVAL", type_json, error);
    }
    assert_ptr_equal(schema, (struct ovsdb_schema *)(uintptr_t)0x1);
    if (!err.message || !strstr(err.message, message)) {
        fail_msg("type %s: message '%s', want '%s'", type_json,
                 err.message ? err.message : "(none)", message);
    }
    assert_string_equal(err.object, "T");
    assert_non_null(strstr(err.detail, "column c"));
}

static void
check_bad_schema(const char *text, const char *message)
{
    json_t *json = parse_json(text);
    struct ovsdb_schema *schema = NULL;
    struct ovnic_err err = {0};
    int error = ovsdb_schema_from_json(json, &schema, &err);
    json_decref(json);
    if (error != -EINVAL) {
        ovsdb_schema_destroy(schema);
        fail_msg("schema %s: got %d, want -EINVAL", text, error);
    }
    assert_null(schema);
    if (!err.message || !strstr(err.message, message)) {
        fail_msg("schema %s: message '%s', want '%s'", text,
                 err.message ? err.message : "(none)", message);
    }
}

static void
test_malformed(void **state)
{
    (void)state;
    check_bad_type("\"int\"", "unknown atomic type");
    check_bad_type("\"void\"", "unknown atomic type");
    check_bad_type("5", "type must be a string or object");
    check_bad_type("{}", "type lacks \"key\"");
    check_bad_type("{\"key\": \"string\", \"min\": 2}", "\"min\" must be 0 or 1");
    check_bad_type("{\"key\": \"string\", \"min\": -1}", "\"min\" must be 0 or 1");
    check_bad_type("{\"key\": \"string\", \"max\": 0}", "\"max\" must be");
    check_bad_type("{\"key\": \"string\", \"max\": \"lots\"}", "\"max\" must be");
    check_bad_type("{\"key\": \"string\", \"size\": 3}", "member not allowed in type");
    check_bad_type("{\"key\": {\"type\": \"string\", \"minInteger\": 3}}",
                   "member not allowed in base type");
    check_bad_type("{\"key\": {\"type\": \"integer\", \"refTable\": \"T\"}}",
                   "member not allowed in base type");
    check_bad_type("{\"key\": {\"type\": \"boolean\", \"minLength\": 1}}",
                   "member not allowed in base type");
    check_bad_type("{\"key\": {\"minInteger\": 3}}", "lacks a \"type\"");
    check_bad_type("{\"key\": {\"type\": \"integer\", \"minInteger\": 5, "
                   "\"maxInteger\": 4}}",
                   "minInteger exceeds maxInteger");
    check_bad_type("{\"key\": {\"type\": \"integer\", \"minInteger\": 1.5}}",
                   "integer bounds must be integers");
    check_bad_type("{\"key\": {\"type\": \"real\", \"minReal\": 5, \"maxReal\": 4}}",
                   "minReal exceeds maxReal");
    check_bad_type("{\"key\": {\"type\": \"real\", \"maxReal\": \"x\"}}",
                   "real bounds must be numbers");
    check_bad_type("{\"key\": {\"type\": \"string\", \"minLength\": 5, "
                   "\"maxLength\": 4}}",
                   "minLength exceeds maxLength");
    check_bad_type("{\"key\": {\"type\": \"string\", \"maxLength\": -1}}",
                   "bad string length constraint");
    check_bad_type("{\"key\": {\"type\": \"uuid\", \"refType\": \"weak\"}}",
                   "\"refType\" without \"refTable\"");
    check_bad_type("{\"key\": {\"type\": \"uuid\", \"refTable\": \"T\", "
                   "\"refType\": \"soft\"}}",
                   "\"refType\" must be");
    check_bad_type("{\"key\": {\"type\": \"uuid\", \"refTable\": 5}}",
                   "\"refTable\" must be a table name");
    check_bad_type("{\"key\": {\"type\": \"uuid\", \"refTable\": \"Missing\"}}",
                   "refTable names an unknown table");
    check_bad_type("{\"key\": {\"type\": \"string\", \"enum\": [\"set\", [1]]}}",
                   "bad \"enum\"");
    check_bad_type("{\"key\": {\"type\": \"string\", \"enum\": [\"set\", []]}}",
                   "bad \"enum\"");
    check_bad_type("{\"key\": {\"type\": \"string\", \"enum\": [\"set\", [\"a\", "
                   "\"a\"]]}}",
                   "bad \"enum\"");
    check_bad_type("{\"key\": \"string\", \"value\": \"nope\"}", "unknown atomic type");

    check_bad_schema("[]", "schema must be a JSON object");
    check_bad_schema("{\"tables\": {}}", "lacks a valid \"name\"");
    check_bad_schema("{\"name\": \"1abc\", \"tables\": {}}", "lacks a valid \"name\"");
    check_bad_schema("{\"name\": \"D\"}", "lacks a \"tables\" object");
    check_bad_schema("{\"name\": \"D\", \"version\": \"1.2\", \"tables\": {}}",
                     "\"version\" must be");
    check_bad_schema("{\"name\": \"D\", \"version\": \"1.2.x\", \"tables\": {}}",
                     "\"version\" must be");
    check_bad_schema("{\"name\": \"D\", \"cksum\": 5, \"tables\": {}}",
                     "\"cksum\" must be a string");
    check_bad_schema("{\"name\": \"D\", \"tables\": {\"T\": []}}",
                     "table schema must be an object");
    check_bad_schema("{\"name\": \"D\", \"tables\": {\"T-1\": {\"columns\": {}}}}",
                     "bad table name");
    check_bad_schema("{\"name\": \"D\", \"tables\": {\"T\": {}}}",
                     "lacks a \"columns\" object");
    check_bad_schema("{\"name\": \"D\", \"tables\": {\"T\": {\"columns\": {\"_x\": "
                     "{\"type\": \"string\"}}}}}",
                     "bad column name");
    check_bad_schema("{\"name\": \"D\", \"tables\": {\"T\": {\"columns\": {\"a b\": "
                     "{\"type\": \"string\"}}}}}",
                     "bad column name");
    check_bad_schema("{\"name\": \"D\", \"tables\": {\"T\": {\"columns\": {\"c\": 1}}}}",
                     "column schema must be an object");
    check_bad_schema("{\"name\": \"D\", \"tables\": {\"T\": {\"columns\": {\"c\": {}}}}}",
                     "column lacks \"type\"");
    check_bad_schema("{\"name\": \"D\", \"tables\": {\"T\": {\"columns\": {\"c\": "
                     "{\"type\": \"string\", \"mutable\": 1}}}}}",
                     "must be booleans");
    check_bad_schema("{\"name\": \"D\", \"tables\": {\"T\": {\"columns\": {}, "
                     "\"isRoot\": \"yes\"}}}",
                     "\"isRoot\" must be a boolean");
    check_bad_schema("{\"name\": \"D\", \"tables\": {\"T\": {\"columns\": {}, "
                     "\"maxRows\": 0}}}",
                     "\"maxRows\" must be a positive integer");
    check_bad_schema("{\"name\": \"D\", \"tables\": {\"T\": {\"columns\": {\"c\": "
                     "{\"type\": \"string\"}}, \"indexes\": [[\"d\"]]}}}",
                     "index names an unknown column");
    check_bad_schema("{\"name\": \"D\", \"tables\": {\"T\": {\"columns\": {}, "
                     "\"indexes\": {}}}}",
                     "\"indexes\" must be an array");
    check_bad_schema("{\"name\": \"D\", \"tables\": {\"T\": {\"columns\": {}, "
                     "\"indexes\": [[]]}}}",
                     "non-empty array");
}

static void
test_lenient(void **state)
{
    (void)state;
    /* Unknown members of database, table and column objects are ignored; indexes
     * and the implicit columns in them are accepted. */
    json_t *json = parse_json(
        "{\"name\": \"D\", \"future\": 1, \"tables\": {\"T\": {\"columns\": {\"c\": "
        "{\"type\": \"string\", \"mutable\": false, \"ephemeral\": true, \"doc\": "
        "\"x\"}}, "
        "\"indexes\": [[\"c\"], [\"c\", \"_uuid\"]], \"isRoot\": true, \"maxRows\": 5, "
        "\"extra\": []}, \"E\": {\"columns\": {}}}}");
    struct ovsdb_schema *schema = NULL;
    assert_int_equal(ovsdb_schema_from_json(json, &schema, NULL), 0);
    json_decref(json);
    assert_null(schema->version);
    assert_null(schema->cksum);
    assert_int_equal(schema->n_tables, 2);
    assert_string_equal(schema->table_array[0]->name, "E");
    assert_int_equal(schema->table_array[0]->n_columns, 0);
    const struct ovsdb_column_schema *c = column(schema, "T", "c");
    assert_false(c->mutable_);
    assert_true(c->ephemeral);
    const struct ovsdb_table_schema *t = ovsdb_schema_find_table(schema, "T");
    assert_int_equal(t->max_rows, 5);
    assert_true(t->is_root);
    ovsdb_schema_destroy(schema);
}

static void
test_file_errors(void **state)
{
    (void)state;
    struct ovsdb_schema *schema = NULL;
    struct ovnic_err err = {0};
    assert_int_equal(ovsdb_schema_from_file("/nonexistent/x.ovsschema", &schema, &err),
                     -ENOENT);
    assert_null(schema);

    char path[] = "/tmp/ovnic-schema-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("{\"name\": \"D\", \"tables\": ", f);
    fclose(f);
    ovnic_err_clear(&err);
    assert_int_equal(ovsdb_schema_from_file(path, &schema, &err), -EINVAL);
    assert_non_null(strstr(err.message, "not valid JSON"));
    unlink(path);
    assert_null(schema);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sb_schema), cmocka_unit_test(test_server_schema),
        cmocka_unit_test(test_types),     cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_lenient),   cmocka_unit_test(test_file_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
