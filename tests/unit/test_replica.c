/* Unit tests for dpu/ovsdb/replica: update formats 1 and 2, all-or-nothing, tracking,
 * full resyncs, and a check against a real ovsdb-server. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "dpu/ovsdb/schema.h"

#define SB_SCHEMA_PATH "/usr/share/ovn/ovn-sb.ovsschema"

#define CH1 "2bb629b1-ccbe-4cf9-b80b-8832518e095a"
#define CH2 "679d09cb-528b-4c6b-bc92-33f29a3059d8"
#define ENCAP1 "ff4f5daf-9050-44a4-867d-8edd2ae554d9"
#define CP1 "c8445d1e-5649-4d5c-ab1d-f61ef4916737"
#define LF1 "1b967406-d7f0-4093-a42e-995c5bb0ba8a"

/* Messages captured from a real ovsdb-server 3.1 (monitor_cond on OVN_Southbound,
 * after "ovn-sbctl chassis-add ch1 geneve 10.0.0.1" and a few "ovn-sbctl set"). */
static const char initial2[] =
    "{\"Chassis\": {\"" CH1 "\": {\"initial\": {\"_version\": [\"uuid\", "
    "\"45a0bce0-cf2f-481c-85c5-896e36ce90fa\"], \"encaps\": [\"uuid\", \"" ENCAP1 "\"], "
    "\"name\": \"ch1\", \"other_config\": [\"map\", [[\"a\", \"b\"], [\"c\", \"d\"]]], "
    "\"transport_zones\": \"tz1\"}}}, \"Encap\": {\"" ENCAP1 "\": {\"initial\": "
    "{\"_version\": [\"uuid\", \"1e866fb1-f0b8-4835-84ca-d94168fe632f\"], "
    "\"chassis_name\": \"ch1\", \"ip\": \"10.0.0.1\", \"options\": [\"map\", "
    "[[\"csum\", \"true\"]]], \"type\": \"geneve\"}}}}";
static const char modify2[] =
    "{\"Chassis\": {\"" CH1 "\": {\"modify\": {\"_version\": [\"uuid\", "
    "\"b4cc3268-bc22-4bf6-953d-e45de2ea5962\"], \"hostname\": \"h1\", \"other_config\": "
    "[\"map\", [[\"a\", \"z\"], [\"c\", \"d\"], [\"e\", \"f\"]]], \"transport_zones\": "
    "[\"set\", [\"tz1\", \"tz2\", \"tz3\"]]}}}}";
static const char insert_cp2[] =
    "{\"Chassis_Private\": {\"" CP1 "\": {\"insert\": {\"_version\": [\"uuid\", "
    "\"e0e5e433-ab29-4571-aefd-7bbcf37c0460\"], \"name\": \"ch1\"}}}}";
static const char modify_cp2[] =
    "{\"Chassis_Private\": {\"" CP1 "\": {\"modify\": {\"_version\": [\"uuid\", "
    "\"060cf178-4932-4c82-ad88-8d0d66cbdd9f\"], \"chassis\": [\"uuid\", \"" CH1 "\"]}}}}";
static const char clear_cp2[] =
    "{\"Chassis_Private\": {\"" CP1 "\": {\"modify\": {\"_version\": [\"uuid\", "
    "\"5e915484-2a24-472e-a0ea-c954d847b9b1\"], \"chassis\": [\"set\", []]}}}}";
static const char insert_lf2[] =
    "{\"Logical_Flow\": {\"" LF1 "\": {\"insert\": {\"_version\": [\"uuid\", "
    "\"ca57b415-ef65-452a-89f1-0f888c20b669\"], \"actions\": \"next;\", "
    "\"controller_meter\": \"m1\", \"match\": \"1\", \"pipeline\": \"ingress\", "
    "\"priority\": 5, \"table_id\": 3, \"tags\": [\"map\", [[\"a\", \"b\"]]]}}}}";
static const char modify_lf2[] =
    "{\"Logical_Flow\": {\"" LF1 "\": {\"modify\": {\"_version\": [\"uuid\", "
    "\"2545ef48-ae60-45a0-a994-11c6fb36694d\"], \"controller_meter\": \"m2\", "
    "\"priority\": 6}}}}";

/* The Chassis row as "ovsdb-client dump -f json" printed it after 'modify2'. */
static const char chassis_dump[] =
    "{\"caption\":\"Chassis table\",\"data\":[[[\"uuid\",\"" CH1 "\"],[\"uuid\",\"" ENCAP1
    "\"],[\"map\",[]],\"h1\",\"ch1\",0,[\"map\",[[\"a\",\"z\"],[\"e\",\"f\"]]],"
    "[\"set\",[\"tz2\",\"tz3\"]],[\"set\",[]]]],\"headings\":[\"_uuid\",\"encaps\","
    "\"external_ids\",\"hostname\",\"name\",\"nb_cfg\",\"other_config\","
    "\"transport_zones\",\"vtep_logical_switches\"]}";

static struct ovsdb_schema *sb_schema;

static json_t *
parse_json(const char *text)
{
    json_error_t jerr;
    json_t *json = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!json) {
        fail_msg("bad test JSON '%.80s': %s", text, jerr.text);
    }
    return json;
}

static char *
dump_sorted(const json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    assert_non_null(text);
    return text;
}

/* Checks (and frees) 'actual' against 'expected', printing both on a mismatch. */
static void
assert_json_equal(json_t *actual, json_t *expected)
{
    if (!json_equal(actual, expected)) {
        char *a = dump_sorted(actual);
        char *e = dump_sorted(expected);
        fprintf(stderr, "got:  %.3000s\nwant: %.3000s\n", a, e);
        free(a);
        free(e);
        json_decref(actual);
        fail_msg("JSON mismatch");
    }
    json_decref(actual);
}

static int
apply_text(struct ovsdb_replica *r, enum ovsdb_update_format format, const char *text,
           struct ovnic_err *err)
{
    json_t *json = parse_json(text);
    int error = ovsdb_replica_apply(r, format, json, err);
    json_decref(json);
    return error;
}

static void
apply_ok(struct ovsdb_replica *r, enum ovsdb_update_format format, const char *text)
{
    struct ovnic_err err = {0};
    if (apply_text(r, format, text, &err)) {
        char buf[512];
        fail_msg("apply %.80s: %s", text, ovnic_err_format(&err, buf, sizeof buf));
    }
}

static const struct ovsdb_row *
find(const struct ovsdb_replica *r, const char *table, const char *uuid_s)
{
    struct uuid uuid;
    assert_int_equal(uuid_from_string(uuid_s, &uuid), 0);
    struct ovsdb_replica_table *t = ovsdb_replica_table(r, table);
    assert_non_null(t);
    return ovsdb_replica_table_find(t, &uuid);
}

static size_t
column_index(const char *table, const char *column)
{
    const struct ovsdb_table_schema *t = ovsdb_schema_find_table(sb_schema, table);
    const struct ovsdb_column_schema *c = ovsdb_table_schema_find_column(t, column);
    assert_non_null(c);
    return c->index;
}

static size_t
count_tracked(const struct ovsdb_replica *r, const char *table)
{
    size_t n = 0;
    const struct ovsdb_row *row;
    OVSDB_TABLE_FOR_EACH_TRACKED (row, ovsdb_replica_table(r, table)) {
        n++;
    }
    return n;
}

static struct ovsdb_replica *
new_replica(void)
{
    struct ovsdb_replica *r = NULL;
    assert_int_equal(ovsdb_replica_create(sb_schema, &r), 0);
    assert_ptr_equal(ovsdb_replica_schema(r), sb_schema);
    return r;
}

/* Converts the output of "ovsdb-client dump -f json" (one object per table) into the
 * form of ovsdb_replica_to_json(). */
static json_t *
dump_to_replica_json(const char *text, size_t len)
{
    json_t *out = json_object();
    size_t pos = 0;
    while (pos < len) {
        while (pos < len && (text[pos] == '\n' || text[pos] == ' ')) {
            pos++;
        }
        if (pos == len) {
            break;
        }
        json_error_t jerr;
        json_t *table = json_loadb(text + pos, len - pos, JSON_DISABLE_EOF_CHECK, &jerr);
        if (!table) {
            fail_msg("bad dump output: %s", jerr.text);
        }
        pos += jerr.position;
        const char *caption = json_string_value(json_object_get(table, "caption"));
        assert_non_null(caption);
        const char *space = strchr(caption, ' ');
        assert_non_null(space);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(space - caption), caption);
        json_t *headings = json_object_get(table, "headings");
        json_t *rows = json_object();
        json_t *data = json_object_get(table, "data");
        for (size_t i = 0; i < json_array_size(data); i++) {
            json_t *data_row = json_array_get(data, i);
            json_t *row = json_object();
            const char *uuid = NULL;
            for (size_t j = 0; j < json_array_size(data_row); j++) {
                json_t *cell = json_array_get(data_row, j);
                const char *heading = json_string_value(json_array_get(headings, j));
                if (!strcmp(heading, "_uuid")) {
                    uuid = json_string_value(json_array_get(cell, 1));
                } else if (strcmp(heading, "_version")) {
                    json_object_set(row, heading, cell);
                }
            }
            assert_non_null(uuid);
            json_object_set_new(rows, uuid, row);
        }
        json_object_set_new(out, name, rows);
        json_decref(table);
    }
    return out;
}

static int
group_setup(void **state)
{
    (void)state;
    struct ovnic_err err = {0};
    if (ovsdb_schema_from_file(SB_SCHEMA_PATH, &sb_schema, &err)) {
        fprintf(stderr, "cannot load %s\n", SB_SCHEMA_PATH);
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    ovsdb_schema_destroy(sb_schema);
    return 0;
}

static void
test_empty(void **state)
{
    (void)state;
    struct ovsdb_replica *r = new_replica();
    json_t *json = ovsdb_replica_to_json(r);
    assert_int_equal(json_object_size(json), 34);
    assert_int_equal(json_object_size(json_object_get(json, "Port_Binding")), 0);
    json_decref(json);
    assert_false(ovsdb_replica_has_changes(r));
    assert_null(ovsdb_replica_table(r, "Nope"));
    struct ovsdb_replica_table *t = ovsdb_replica_table(r, "Chassis");
    assert_string_equal(ovsdb_replica_table_schema(t)->name, "Chassis");
    assert_int_equal(ovsdb_replica_table_count(t), 0);
    assert_null(ovsdb_replica_table_next(t, NULL));
    assert_null(ovsdb_replica_table_next_tracked(t, NULL));
    ovsdb_replica_destroy(r);
    ovsdb_replica_destroy(NULL);
}

static void
test_apply_v2(void **state)
{
    (void)state;
    struct ovsdb_replica *r = new_replica();
    apply_ok(r, OVSDB_UPDATE_V2, initial2);
    apply_ok(r, OVSDB_UPDATE_V2, modify2);

    /* The replica's Chassis table equals what ovsdb-client dumped. */
    json_t *dump = dump_to_replica_json(chassis_dump, strlen(chassis_dump));
    json_t *all = ovsdb_replica_to_json(r);
    assert_json_equal(json_incref(json_object_get(all, "Chassis")),
                      json_object_get(dump, "Chassis"));
    json_decref(all);
    json_decref(dump);

    const struct ovsdb_row *ch = find(r, "Chassis", CH1);
    assert_non_null(ch);
    assert_string_equal(ovsdb_datum_get_string(ovsdb_row_get(ch, "hostname"), NULL),
                        "h1");
    assert_string_equal(
        ovsdb_datum_map_get_string(ovsdb_row_get(ch, "other_config"), "a", NULL), "z");
    assert_null(ovsdb_row_get(ch, "nope"));
    const struct ovsdb_row *encap = find(r, "Encap", ENCAP1);
    assert_string_equal(ovsdb_datum_get_string(ovsdb_row_get(encap, "ip"), NULL),
                        "10.0.0.1");
    assert_true(uuid_equals(ovsdb_datum_get_uuid(ovsdb_row_get(ch, "encaps")),
                            ovsdb_row_uuid(encap)));

    apply_ok(r, OVSDB_UPDATE_V2, insert_cp2);
    const struct ovsdb_row *cp = find(r, "Chassis_Private", CP1);
    assert_non_null(cp);
    assert_true(ovsdb_datum_is_empty(ovsdb_row_get(cp, "chassis")));
    assert_int_equal(ovsdb_datum_get_int(ovsdb_row_get(cp, "nb_cfg"), -1), 0);
    apply_ok(r, OVSDB_UPDATE_V2, modify_cp2);
    assert_true(uuid_equals(ovsdb_datum_get_uuid(ovsdb_row_get(cp, "chassis")),
                            ovsdb_row_uuid(ch)));
    apply_ok(r, OVSDB_UPDATE_V2, clear_cp2);
    assert_true(ovsdb_datum_is_empty(ovsdb_row_get(cp, "chassis")));

    apply_ok(r, OVSDB_UPDATE_V2, insert_lf2);
    apply_ok(r, OVSDB_UPDATE_V2, modify_lf2);
    const struct ovsdb_row *lf = find(r, "Logical_Flow", LF1);
    json_t *want = parse_json(
        "{\"actions\": \"next;\", \"controller_meter\": \"m2\", \"external_ids\": "
        "[\"map\", []], \"logical_datapath\": [\"set\", []], \"logical_dp_group\": "
        "[\"set\", []], \"match\": \"1\", \"pipeline\": \"ingress\", \"priority\": 6, "
        "\"table_id\": 3, \"tags\": [\"map\", [[\"a\", \"b\"]]]}");
    assert_json_equal(ovsdb_row_to_json(lf), want);
    json_decref(want);
    assert_ptr_equal(ovsdb_row_table(lf),
                     ovsdb_schema_find_table(sb_schema, "Logical_Flow"));

    apply_ok(r, OVSDB_UPDATE_V2,
             "{\"Logical_Flow\": {\"" LF1 "\": {\"delete\": null}}, "
             "\"Chassis_Private\": {\"" CP1 "\": {\"delete\": null}}}");
    assert_null(find(r, "Logical_Flow", LF1));
    assert_null(find(r, "Chassis_Private", CP1));
    assert_int_equal(ovsdb_replica_table_count(ovsdb_replica_table(r, "Chassis")), 1);
    ovsdb_replica_destroy(r);
}

static void
test_apply_v1(void **state)
{
    (void)state;
    struct ovsdb_replica *r = new_replica();
    /* Format 1 as "monitor" sends it: full rows in "new"; for a modify, "old" holds the
     * old values of the changed columns and "new" the whole new row. */
    apply_ok(
        r, OVSDB_UPDATE_V1,
        "{\"Chassis\": {\"" CH1 "\": {\"new\": {\"encaps\": [\"uuid\", \"" ENCAP1
        "\"], \"external_ids\": [\"map\", []], \"hostname\": \"\", \"name\": \"ch1\", "
        "\"nb_cfg\": 0, \"other_config\": [\"map\", [[\"a\", \"b\"], [\"c\", \"d\"]]], "
        "\"transport_zones\": \"tz1\", \"vtep_logical_switches\": [\"set\", []]}}}, "
        "\"Encap\": {\"" ENCAP1 "\": {\"new\": {\"chassis_name\": \"ch1\", \"ip\": "
        "\"10.0.0.1\", \"options\": [\"map\", [[\"csum\", \"true\"]]], \"type\": "
        "\"geneve\"}}}}");
    ovsdb_replica_track_clear(r);
    apply_ok(
        r, OVSDB_UPDATE_V1,
        "{\"Chassis\": {\"" CH1 "\": {\"old\": {\"hostname\": \"\", \"other_config\": "
        "[\"map\", [[\"a\", \"b\"], [\"c\", \"d\"]]], \"transport_zones\": \"tz1\"}, "
        "\"new\": {\"encaps\": [\"uuid\", \"" ENCAP1 "\"], \"external_ids\": "
        "[\"map\", []], \"hostname\": \"h1\", \"name\": \"ch1\", \"nb_cfg\": 0, "
        "\"other_config\": [\"map\", [[\"a\", \"z\"], [\"e\", \"f\"]]], "
        "\"transport_zones\": [\"set\", [\"tz2\", \"tz3\"]], "
        "\"vtep_logical_switches\": [\"set\", []]}}}}");

    json_t *dump = dump_to_replica_json(chassis_dump, strlen(chassis_dump));
    json_t *all = ovsdb_replica_to_json(r);
    assert_json_equal(json_incref(json_object_get(all, "Chassis")),
                      json_object_get(dump, "Chassis"));
    json_decref(all);
    json_decref(dump);

    /* Only the columns whose value differs count as changed. */
    const struct ovsdb_row *ch = find(r, "Chassis", CH1);
    assert_int_equal(ovsdb_row_change(ch), OVSDB_ROW_MODIFIED);
    assert_true(ovsdb_row_column_changed(ch, column_index("Chassis", "hostname")));
    assert_true(ovsdb_row_column_changed(ch, column_index("Chassis", "other_config")));
    assert_true(ovsdb_row_column_changed(ch, column_index("Chassis", "transport_zones")));
    assert_false(ovsdb_row_column_changed(ch, column_index("Chassis", "name")));
    assert_false(ovsdb_row_column_changed(ch, column_index("Chassis", "encaps")));
    assert_false(ovsdb_row_column_changed(ch, 1000));
    assert_int_equal(count_tracked(r, "Chassis"), 1);
    assert_int_equal(count_tracked(r, "Encap"), 0);

    /* Format 1 modify with only some columns in "new". */
    apply_ok(r, OVSDB_UPDATE_V1,
             "{\"Encap\": {\"" ENCAP1 "\": {\"old\": {\"ip\": \"10.0.0.1\"}, \"new\": "
             "{\"ip\": \"10.0.0.9\"}}}}");
    assert_string_equal(
        ovsdb_datum_get_string(ovsdb_row_get(find(r, "Encap", ENCAP1), "ip"), NULL),
        "10.0.0.9");

    apply_ok(r, OVSDB_UPDATE_V1,
             "{\"Encap\": {\"" ENCAP1
             "\": {\"old\": {\"ip\": \"10.0.0.9\"}, \"new\": null}}}");
    assert_null(find(r, "Encap", ENCAP1));
    ovsdb_replica_destroy(r);
}

/* Applying 'text' fails with 'code' and a message containing 'message', and leaves
 * the replica's contents and tracking exactly as they were. */
static void
check_rejected(struct ovsdb_replica *r, enum ovsdb_update_format format, const char *text,
               int code, const char *message, const char *object)
{
    json_t *before = ovsdb_replica_to_json(r);
    size_t tracked_before = count_tracked(r, "Chassis") + count_tracked(r, "Encap") +
                            count_tracked(r, "Port_Binding");
    struct ovnic_err err = {0};
    int error = apply_text(r, format, text, &err);
    if (error != code) {
        json_decref(before);
        fail_msg("apply %.200s: got %d, want %d", text, error, code);
    }
    char buf[512];
    ovnic_err_format(&err, buf, sizeof buf);
    if (!strstr(buf, message)) {
        json_decref(before);
        fail_msg("apply %.200s: error '%s' lacks '%s'", text, buf, message);
    }
    if (object && strcmp(err.object, object)) {
        json_decref(before);
        fail_msg("apply %.300s: error '%s' names %s, want %s", text, buf, err.object,
                 object);
    }
    assert_json_equal(ovsdb_replica_to_json(r), before);
    json_decref(before);
    assert_int_equal(count_tracked(r, "Chassis") + count_tracked(r, "Encap") +
                         count_tracked(r, "Port_Binding"),
                     tracked_before);
}

static void
test_all_or_nothing(void **state)
{
    (void)state;
    struct ovsdb_replica *r = new_replica();
    apply_ok(r, OVSDB_UPDATE_V2, initial2);
    ovsdb_replica_track_clear(r);

    /* Each bad update also carries good changes before the bad one (jansson keeps
     * member order), which must not be applied either. */
    const char *good_prefix =
        "{\"Chassis\": {\"" CH1 "\": {\"modify\": {\"hostname\": "
        "\"changed\"}}}, \"Port_Binding\": {\"" CP1 "\": {\"insert\": "
        "{\"logical_port\": \"lp1\", \"tunnel_key\": 1}}}, ";
    const char *good_prefix_v1 =
        "{\"Chassis\": {\"" CH1 "\": {\"old\": {}, \"new\": {\"hostname\": "
        "\"changed\"}}}, \"Port_Binding\": {\"" CP1 "\": {\"new\": {\"logical_port\": "
        "\"lp1\", \"tunnel_key\": 1}}}, ";
    char text[2048];
#define BAD(FORMAT, TAIL, CODE, MESSAGE, OBJECT)                              \
    snprintf(text, sizeof text, "%s%s}",                                      \
             FORMAT == OVSDB_UPDATE_V1 ? good_prefix_v1 : good_prefix, TAIL); \
    check_rejected(r, FORMAT, text, CODE, MESSAGE, OBJECT)

    BAD(OVSDB_UPDATE_V2, "\"Nope\": {}", -EPROTO, "unknown table", "Nope");
    BAD(OVSDB_UPDATE_V2, "\"Encap\": []", -EPROTO, "table-update must be", "Encap");
    BAD(OVSDB_UPDATE_V2, "\"Encap\": {\"not-a-uuid\": {\"delete\": null}}", -EPROTO,
        "malformed row uuid", "Encap");
    BAD(OVSDB_UPDATE_V2, "\"Encap\": {\"" ENCAP1 "\": {\"modify\": {\"bogus\": 1}}}",
        -EINVAL, "unknown column", "Encap");
    BAD(OVSDB_UPDATE_V2, "\"Encap\": {\"" ENCAP1 "\": {\"modify\": {\"type\": \"gre\"}}}",
        -EINVAL, "value not in enum", "Encap");
    BAD(OVSDB_UPDATE_V2, "\"Encap\": {\"" ENCAP1 "\": {\"modify\": {\"ip\": 5}}}",
        -EINVAL, "column ip", "Encap");
    BAD(OVSDB_UPDATE_V2, "\"Encap\": {\"" CH2 "\": {\"modify\": {\"ip\": \"x\"}}}",
        -ENOENT, "modified row does not exist", "Encap");
    BAD(OVSDB_UPDATE_V2, "\"Encap\": {\"" CH2 "\": {\"delete\": null}}", -ENOENT,
        "deleted row does not exist", "Encap");
    BAD(OVSDB_UPDATE_V2, "\"Encap\": {\"" ENCAP1 "\": {\"insert\": {}}}", -EEXIST,
        "inserted row already exists", "Encap");
    BAD(OVSDB_UPDATE_V2, "\"Encap\": {\"" ENCAP1 "\": {\"initial\": {}}}", -EEXIST,
        "inserted row already exists", "Encap");
    BAD(OVSDB_UPDATE_V2, "\"Encap\": {\"" ENCAP1 "\": {\"upsert\": {}}}", -EPROTO,
        "unknown row update operation", "Encap");
    BAD(OVSDB_UPDATE_V2,
        "\"Encap\": {\"" ENCAP1 "\": {\"modify\": {}, \"delete\": null}}", -EPROTO,
        "exactly one member", "Encap");
    BAD(OVSDB_UPDATE_V2, "\"Encap\": {\"" ENCAP1 "\": {}}", -EPROTO, "exactly one member",
        "Encap");
    BAD(OVSDB_UPDATE_V2, "\"Encap\": {\"" ENCAP1 "\": 5}", -EPROTO,
        "row update must be a JSON object", "Encap");
    BAD(OVSDB_UPDATE_V2, "\"Encap\": {\"" ENCAP1 "\": {\"modify\": []}}", -EPROTO,
        "row must be a JSON object", "Encap");
    BAD(OVSDB_UPDATE_V2, "\"Encap\": {\"" CH2 "\": {\"insert\": 1}}", -EPROTO,
        "row must be a JSON object", "Encap");
    /* The same row twice (uuids are case-insensitive). */
    BAD(OVSDB_UPDATE_V2,
        "\"Encap\": {\"" ENCAP1
        "\": {\"modify\": {}}, \"FF4F5DAF-9050-44A4-867D-8EDD2AE554D9\":"
        " {\"delete\": null}}",
        -EPROTO, "twice", "Encap");
    BAD(OVSDB_UPDATE_V2,
        "\"Encap\": {\"" CH2
        "\": {\"insert\": {}}, \"679D09CB-528b-4c6b-bc92-33f29a3059d8\":"
        " {\"insert\": {}}}",
        -EPROTO, "twice", "Encap");
    /* Datums that break the column's type. */
    BAD(OVSDB_UPDATE_V2,
        "\"Logical_Flow\": {\"" LF1 "\": {\"insert\": {\"table_id\": 33}}}", -EINVAL,
        "integer out of range", "Logical_Flow");
    BAD(OVSDB_UPDATE_V2,
        "\"Chassis\": {\"" CH2 "\": {\"insert\": {\"encaps\": [\"set\", []]}}}", -EINVAL,
        "wrong number of elements", "Chassis");
    BAD(OVSDB_UPDATE_V2,
        "\"Chassis\": {\"" CH2 "\": {\"insert\": {\"other_config\": [\"map\", [[\"a\", "
        "\"1\"], [\"a\", \"2\"]]]}}}",
        -EINVAL, "duplicate key", "Chassis");
    BAD(OVSDB_UPDATE_V2,
        "\"Encap\": {\"" ENCAP1 "\": {\"modify\": {\"options\": [\"set\", []]}}}",
        -EINVAL, "expected [\"map\"", "Encap");
    BAD(OVSDB_UPDATE_V2,
        "\"Port_Binding\": {\"" CH2 "\": {\"insert\": {\"tag\": [\"set\", [1, 2]]}}}",
        -EINVAL, "wrong number of elements", "Port_Binding");
    /* Format 1. */
    BAD(OVSDB_UPDATE_V1, "\"Encap\": {\"" ENCAP1 "\": {}}", -EPROTO,
        "neither \"old\" nor \"new\"", "Encap");
    BAD(OVSDB_UPDATE_V1, "\"Encap\": {\"" ENCAP1 "\": {\"new\": 3}}", -EPROTO,
        "must be rows", "Encap");
    BAD(OVSDB_UPDATE_V1, "\"Encap\": {\"" ENCAP1 "\": {\"new\": {}}}", -EEXIST,
        "already exists", "Encap");
    BAD(OVSDB_UPDATE_V1, "\"Encap\": {\"" CH2 "\": {\"old\": {}}}", -ENOENT,
        "does not exist", "Encap");
    BAD(OVSDB_UPDATE_V1, "\"Encap\": {\"" CH2 "\": {\"old\": {}, \"new\": {}}}", -ENOENT,
        "does not exist", "Encap");
    BAD(OVSDB_UPDATE_V1,
        "\"Encap\": {\"" ENCAP1 "\": {\"old\": {}, \"new\": {\"options\": [\"map\", "
        "[[1, 2]]]}}}",
        -EINVAL, "expected a string", "Encap");
#undef BAD
    check_rejected(r, OVSDB_UPDATE_V2, "[]", -EPROTO, "table-updates must be", NULL);
    check_rejected(r, OVSDB_UPDATE_V2, "null", -EPROTO, "table-updates must be", NULL);
    check_rejected(r, (enum ovsdb_update_format)7, "{}", -EINVAL, "format", NULL);

    /* The detail names the row and column. */
    struct ovnic_err err = {0};
    assert_int_equal(apply_text(r, OVSDB_UPDATE_V2,
                                "{\"Encap\": {\"" ENCAP1 "\": {\"modify\": {\"type\": "
                                "\"gre\"}}}}",
                                &err),
                     -EINVAL);
    assert_non_null(strstr(err.detail, "row " ENCAP1 " column type"));

    /* A NULL 'err' is fine. */
    assert_int_equal(apply_text(r, OVSDB_UPDATE_V2, "{\"Nope\": {}}", NULL), -EPROTO);

    /* The good parts alone apply. */
    assert_false(ovsdb_replica_has_changes(r));
    snprintf(text, sizeof text, "%s\"Encap\": {}}", good_prefix_v1);
    apply_ok(r, OVSDB_UPDATE_V1, text);
    assert_int_equal(count_tracked(r, "Chassis"), 1);
    assert_int_equal(count_tracked(r, "Port_Binding"), 1);
    snprintf(text, sizeof text, "%s\"Encap\": {}}", good_prefix);
    ovsdb_replica_track_clear(r);
    assert_int_equal(apply_text(r, OVSDB_UPDATE_V2, text, NULL), -EEXIST);
    apply_ok(r, OVSDB_UPDATE_V2, "{\"Port_Binding\": {\"" CP1 "\": {\"delete\": null}}}");
    apply_ok(r, OVSDB_UPDATE_V2,
             "{\"Chassis\": {\"" CH1 "\": {\"modify\": {\"hostname\": \"\"}}}}");
    ovsdb_replica_track_clear(r);
    apply_ok(r, OVSDB_UPDATE_V2, text);
    assert_int_equal(count_tracked(r, "Chassis"), 1);
    assert_int_equal(count_tracked(r, "Port_Binding"), 1);
    ovsdb_replica_destroy(r);
}

static void
test_tracking(void **state)
{
    (void)state;
    struct ovsdb_replica *r = new_replica();
    size_t hostname = column_index("Chassis", "hostname");
    size_t name = column_index("Chassis", "name");

    apply_ok(r, OVSDB_UPDATE_V2, initial2);
    assert_true(ovsdb_replica_has_changes(r));
    const struct ovsdb_row *ch = find(r, "Chassis", CH1);
    assert_int_equal(ovsdb_row_change(ch), OVSDB_ROW_INSERTED);
    assert_true(ovsdb_row_column_changed(ch, name));
    assert_int_equal(count_tracked(r, "Chassis"), 1);
    assert_int_equal(count_tracked(r, "Encap"), 1);

    /* Inserted then modified: still INSERTED. */
    apply_ok(r, OVSDB_UPDATE_V2, modify2);
    assert_int_equal(ovsdb_row_change(ch), OVSDB_ROW_INSERTED);
    assert_int_equal(count_tracked(r, "Chassis"), 1);

    ovsdb_replica_track_clear(r);
    assert_false(ovsdb_replica_has_changes(r));
    assert_int_equal(ovsdb_row_change(ch), OVSDB_ROW_UNCHANGED);
    assert_false(ovsdb_row_column_changed(ch, name));
    assert_int_equal(count_tracked(r, "Chassis"), 0);

    /* Modified twice: MODIFIED with the union of the columns. */
    apply_ok(r, OVSDB_UPDATE_V2,
             "{\"Chassis\": {\"" CH1 "\": {\"modify\": {\"hostname\": \"h2\"}}}}");
    apply_ok(r, OVSDB_UPDATE_V2,
             "{\"Chassis\": {\"" CH1 "\": {\"modify\": {\"nb_cfg\": 4}}}}");
    assert_int_equal(ovsdb_row_change(ch), OVSDB_ROW_MODIFIED);
    assert_true(ovsdb_row_column_changed(ch, hostname));
    assert_true(ovsdb_row_column_changed(ch, column_index("Chassis", "nb_cfg")));
    assert_false(ovsdb_row_column_changed(ch, name));
    assert_int_equal(count_tracked(r, "Chassis"), 1);
    ovsdb_replica_track_clear(r);

    /* A modify that changes nothing is not tracked. */
    apply_ok(r, OVSDB_UPDATE_V2,
             "{\"Chassis\": {\"" CH1 "\": {\"modify\": {\"hostname\": \"h2\"}}}}");
    assert_false(ovsdb_replica_has_changes(r));

    /* Change order across rows; deleted rows stay readable until track_clear. */
    apply_ok(r, OVSDB_UPDATE_V2,
             "{\"Chassis\": {\"" CH2 "\": {\"insert\": {\"name\": \"ch2\", \"encaps\": "
             "[\"uuid\", \"" ENCAP1 "\"]}}}}");
    apply_ok(r, OVSDB_UPDATE_V2, "{\"Chassis\": {\"" CH1 "\": {\"delete\": null}}}");
    struct ovsdb_replica_table *t = ovsdb_replica_table(r, "Chassis");
    const struct ovsdb_row *first = ovsdb_replica_table_next_tracked(t, NULL);
    const struct ovsdb_row *second = ovsdb_replica_table_next_tracked(t, first);
    assert_non_null(second);
    assert_null(ovsdb_replica_table_next_tracked(t, second));
    assert_string_equal(ovsdb_datum_get_string(ovsdb_row_get(first, "name"), NULL),
                        "ch2");
    assert_int_equal(ovsdb_row_change(first), OVSDB_ROW_INSERTED);
    assert_ptr_equal(second, ch);
    assert_int_equal(ovsdb_row_change(ch), OVSDB_ROW_DELETED);
    assert_true(ovsdb_row_column_changed(ch, name));
    assert_string_equal(ovsdb_datum_get_string(ovsdb_row_get(ch, "hostname"), NULL),
                        "h2");
    assert_null(find(r, "Chassis", CH1));
    assert_int_equal(ovsdb_replica_table_count(t), 1);
    ovsdb_replica_track_clear(r);

    /* Inserted then deleted before track_clear: not reported at all. */
    apply_ok(r, OVSDB_UPDATE_V2, insert_cp2);
    apply_ok(r, OVSDB_UPDATE_V2,
             "{\"Chassis_Private\": {\"" CP1 "\": {\"delete\": null}}}");
    assert_int_equal(count_tracked(r, "Chassis_Private"), 0);
    assert_false(ovsdb_replica_has_changes(r));

    /* Modified then deleted: DELETED, in its first position. */
    apply_ok(r, OVSDB_UPDATE_V2,
             "{\"Chassis\": {\"" CH2 "\": {\"modify\": {\"hostname\": \"x\"}}}}");
    apply_ok(r, OVSDB_UPDATE_V2, "{\"Chassis\": {\"" CH2 "\": {\"delete\": null}}}");
    assert_int_equal(count_tracked(r, "Chassis"), 1);
    const struct ovsdb_row *gone = ovsdb_replica_table_next_tracked(t, NULL);
    assert_int_equal(ovsdb_row_change(gone), OVSDB_ROW_DELETED);
    assert_string_equal(ovsdb_datum_get_string(ovsdb_row_get(gone, "hostname"), NULL),
                        "x");

    /* Deleted then inserted again: the old row DELETED, then the new one INSERTED. */
    apply_ok(r, OVSDB_UPDATE_V2,
             "{\"Chassis\": {\"" CH2 "\": {\"insert\": {\"name\": \"ch2-again\", "
             "\"encaps\": [\"uuid\", \"" ENCAP1 "\"]}}}}");
    assert_int_equal(count_tracked(r, "Chassis"), 2);
    const struct ovsdb_row *again = ovsdb_replica_table_next_tracked(t, gone);
    assert_int_equal(ovsdb_row_change(again), OVSDB_ROW_INSERTED);
    assert_true(uuid_equals(ovsdb_row_uuid(again), ovsdb_row_uuid(gone)));
    assert_ptr_equal(find(r, "Chassis", CH2), again);

    /* Clear: every live row becomes a tracked deletion. */
    ovsdb_replica_track_clear(r);
    ovsdb_replica_clear(r);
    assert_int_equal(ovsdb_replica_table_count(t), 0);
    assert_int_equal(count_tracked(r, "Chassis"), 1);
    assert_int_equal(count_tracked(r, "Encap"), 1);
    ovsdb_replica_track_clear(r);
    assert_false(ovsdb_replica_has_changes(r));

    /* Deleted rows still tracked at destroy time are freed too. */
    apply_ok(r, OVSDB_UPDATE_V2, initial2);
    ovsdb_replica_track_clear(r);
    apply_ok(r, OVSDB_UPDATE_V2, "{\"Encap\": {\"" ENCAP1 "\": {\"delete\": null}}}");
    ovsdb_replica_destroy(r);
}

static void
test_iteration(void **state)
{
    (void)state;
    struct ovsdb_replica *r = new_replica();
    char text[8192];
    size_t len = (size_t)snprintf(text, sizeof text, "{\"Logical_Flow\": {");
    for (int i = 0; i < 50; i++) {
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "%s\"00000000-0000-4000-8000-%012d\": {\"insert\": "
                                "{\"priority\": %d, \"table_id\": %d}}",
                                i ? ", " : "", i, i, i % 33);
    }
    snprintf(text + len, sizeof text - len, "}}");
    apply_ok(r, OVSDB_UPDATE_V2, text);
    struct ovsdb_replica_table *t = ovsdb_replica_table(r, "Logical_Flow");
    assert_int_equal(ovsdb_replica_table_count(t), 50);
    int64_t sum = 0;
    size_t n = 0;
    const struct ovsdb_row *row;
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        sum += ovsdb_datum_get_int(ovsdb_row_get(row, "priority"), 0);
        n++;
    }
    assert_int_equal(n, 50);
    assert_int_equal(sum, 49 * 50 / 2);
    /* Tracked in the order of the update. */
    int i = 0;
    OVSDB_TABLE_FOR_EACH_TRACKED (row, t) {
        assert_int_equal(ovsdb_datum_get_int(ovsdb_row_get(row, "priority"), -1), i);
        i++;
    }
    size_t pidx = column_index("Logical_Flow", "priority");
    row = ovsdb_replica_table_next(t, NULL);
    assert_non_null(ovsdb_row_datum(row, pidx));
    assert_null(ovsdb_row_datum(row, 1000));
    ovsdb_replica_destroy(r);
}

static void
test_replace(void **state)
{
    (void)state;
    struct ovsdb_replica *r = new_replica();
    apply_ok(r, OVSDB_UPDATE_V2, initial2);
    apply_ok(r, OVSDB_UPDATE_V2, insert_cp2);
    apply_ok(r, OVSDB_UPDATE_V2, insert_lf2);
    ovsdb_replica_track_clear(r);
    const struct ovsdb_row *ch = find(r, "Chassis", CH1);

    /* New contents: Chassis ch1 changed (hostname set; other_config and
     * transport_zones back to their defaults since they are left out), Encap
     * unchanged, Chassis_Private gone, a new Chassis ch2, Logical_Flow out of scope. */
    json_t *contents = parse_json(
        "{\"Chassis\": {\"" CH1 "\": {\"initial\": {\"encaps\": [\"uuid\", \"" ENCAP1
        "\"], "
        "\"name\": \"ch1\", \"hostname\": \"h1\"}}, \"" CH2
        "\": {\"initial\": {\"encaps\": "
        "[\"uuid\", \"" ENCAP1 "\"], \"name\": \"ch2\"}}}, \"Encap\": {\"" ENCAP1 "\": "
        "{\"initial\": {\"chassis_name\": \"ch1\", \"ip\": \"10.0.0.1\", \"options\": "
        "[\"map\", [[\"csum\", \"true\"]]], \"type\": \"geneve\"}}}}");
    static const char *const scope[] = {"Chassis", "Encap", "Chassis_Private", NULL};
    struct ovnic_err err = {0};
    assert_int_equal(ovsdb_replica_replace(r, OVSDB_UPDATE_V2, contents, scope, &err), 0);

    assert_ptr_equal(find(r, "Chassis", CH1), ch);
    assert_int_equal(ovsdb_row_change(ch), OVSDB_ROW_MODIFIED);
    assert_true(ovsdb_row_column_changed(ch, column_index("Chassis", "hostname")));
    assert_true(ovsdb_row_column_changed(ch, column_index("Chassis", "other_config")));
    assert_true(ovsdb_row_column_changed(ch, column_index("Chassis", "transport_zones")));
    assert_false(ovsdb_row_column_changed(ch, column_index("Chassis", "name")));
    assert_false(ovsdb_row_column_changed(ch, column_index("Chassis", "encaps")));
    assert_int_equal(ovsdb_row_change(find(r, "Chassis", CH2)), OVSDB_ROW_INSERTED);
    assert_int_equal(count_tracked(r, "Chassis"), 2);
    assert_int_equal(count_tracked(r, "Encap"), 0);
    assert_null(find(r, "Chassis_Private", CP1));
    assert_int_equal(count_tracked(r, "Chassis_Private"), 1);
    assert_non_null(find(r, "Logical_Flow", LF1));
    assert_int_equal(count_tracked(r, "Logical_Flow"), 0);

    /* Replacing with the same contents again changes nothing. */
    ovsdb_replica_track_clear(r);
    json_t *before = ovsdb_replica_to_json(r);
    assert_int_equal(ovsdb_replica_replace(r, OVSDB_UPDATE_V2, contents, scope, &err), 0);
    assert_false(ovsdb_replica_has_changes(r));
    assert_json_equal(ovsdb_replica_to_json(r), before);

    /* Errors leave everything as it was. */
    static const char *const bad_scope[] = {"Chassis", "Nope", NULL};
    ovnic_err_clear(&err);
    assert_int_equal(ovsdb_replica_replace(r, OVSDB_UPDATE_V2, contents, bad_scope, &err),
                     -EINVAL);
    json_t *bad = parse_json("{\"Chassis\": {\"" CH1 "\": {\"modify\": {}}}}");
    ovnic_err_clear(&err);
    assert_int_equal(ovsdb_replica_replace(r, OVSDB_UPDATE_V2, bad, NULL, &err), -EPROTO);
    assert_non_null(strstr(err.message, "only insert"));
    json_decref(bad);
    bad = parse_json("{\"Chassis\": {\"" CH1 "\": {\"old\": {}}}}");
    assert_int_equal(ovsdb_replica_replace(r, OVSDB_UPDATE_V1, bad, NULL, NULL), -EPROTO);
    json_decref(bad);
    bad = parse_json("{\"Chassis\": {\"" CH2 "\": {\"initial\": {\"nb_cfg\": \"x\"}}}}");
    assert_int_equal(ovsdb_replica_replace(r, OVSDB_UPDATE_V2, bad, NULL, NULL), -EINVAL);
    json_decref(bad);
    bad = parse_json("{\"Chassis\": {\"" CH1 "\": {\"initial\": {\"nb_cfg\": \"x\"}}}}");
    assert_int_equal(ovsdb_replica_replace(r, OVSDB_UPDATE_V2, bad, NULL, NULL), -EINVAL);
    json_decref(bad);
    assert_false(ovsdb_replica_has_changes(r));
    assert_json_equal(ovsdb_replica_to_json(r), before);

    /* NULL scope: every table; empty contents delete everything. */
    json_t *empty = parse_json("{}");
    assert_int_equal(ovsdb_replica_replace(r, OVSDB_UPDATE_V1, empty, NULL, NULL), 0);
    json_decref(empty);
    assert_null(find(r, "Logical_Flow", LF1));
    assert_int_equal(count_tracked(r, "Logical_Flow"), 1);
    assert_int_equal(count_tracked(r, "Chassis"), 2);

    /* Format 1 contents. */
    json_t *v1 =
        parse_json("{\"Encap\": {\"" ENCAP1 "\": {\"new\": {\"ip\": \"1.1.1.1\", "
                   "\"type\": \"vxlan\"}}}}");
    assert_int_equal(ovsdb_replica_replace(r, OVSDB_UPDATE_V1, v1, NULL, NULL), 0);
    json_decref(v1);
    assert_string_equal(
        ovsdb_datum_get_string(ovsdb_row_get(find(r, "Encap", ENCAP1), "type"), NULL),
        "vxlan");

    json_decref(before);
    json_decref(contents);
    ovsdb_replica_destroy(r);
}

/* ---- Against a real ovsdb-server ---- */

struct live {
    char dir[64];
    char sock[128];
    struct ovsdb_schema *server_schema;
};

static int run(const char *fmt, ...) OVNIC_PRINTF(1, 2);

static int
run(const char *fmt, ...)
{
    char cmd[2048];
    va_list args;
    va_start(args, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, args);
    va_end(args);
    int status = system(cmd);
    return status == 0 ? 0 : -1;
}

/* Runs a command and returns its standard output (caller frees). */
static char *capture(size_t *lenp, const char *fmt, ...) OVNIC_PRINTF(2, 3);

static char *
capture(size_t *lenp, const char *fmt, ...)
{
    char cmd[2048];
    va_list args;
    va_start(args, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, args);
    va_end(args);
    FILE *p = popen(cmd, "r");
    if (!p) {
        return NULL;
    }
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 1024) {
            cap *= 2;
            char *nbuf = realloc(buf, cap);
            if (!nbuf) {
                free(buf);
            }
            buf = nbuf;
        }
    }
    int status = pclose(p);
    if (!buf || status) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    if (lenp) {
        *lenp = len;
    }
    return buf;
}

static void
stop_server(struct live *live)
{
    char path[160];
    snprintf(path, sizeof path, "%s/pid", live->dir);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) {
            pid = 0;
        }
        fclose(f);
    }
    if (pid > 0) {
        kill((pid_t)pid, SIGTERM);
        for (int i = 0; i < 100 && !kill((pid_t)pid, 0); i++) {
            usleep(20 * 1000);
        }
    }
}

static int live_teardown(void **state);

static int
live_setup(void **state)
{
    struct live *live = calloc(1, sizeof *live);
    snprintf(live->dir, sizeof live->dir, "/tmp/ovnic-replica-XXXXXX");
    if (!mkdtemp(live->dir)) {
        free(live);
        return -1;
    }
    snprintf(live->sock, sizeof live->sock, "%s/sb.sock", live->dir);
    *state = live;
    const char *d = live->dir;
    if (run("ovsdb-tool create %s/sb.db %s >/dev/null 2>&1", d, SB_SCHEMA_PATH) ||
        run("ovsdb-server %s/sb.db --detach --no-chdir --pidfile=%s/pid "
            "--log-file=%s/log --unixctl=%s/ctl --remote=punix:%s >/dev/null 2>&1",
            d, d, d, d, live->sock) ||
        run("ovn-sbctl --db=unix:%s init", live->sock) ||
        run("ovn-sbctl --db=unix:%s chassis-add ch1 geneve 10.0.0.1", live->sock)) {
        fprintf(stderr, "cannot start ovsdb-server (are ovn-central and openvswitch "
                        "installed?)\n");
        live_teardown(state);
        *state = NULL;
        return -1;
    }
    return 0;
}

static int
live_teardown(void **state)
{
    struct live *live = *state;
    if (live) {
        stop_server(live);
        run("rm -rf %s", live->dir);
        ovsdb_schema_destroy(live->server_schema);
        free(live);
    }
    return 0;
}

struct rpc {
    int fd;
    char *buf;
    size_t len;
    size_t cap;
};

static void
rpc_connect(struct rpc *rpc, const char *path)
{
    memset(rpc, 0, sizeof *rpc);
    rpc->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(rpc->fd >= 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    assert_int_equal(connect(rpc->fd, (struct sockaddr *)&sun, sizeof sun), 0);
}

static void
rpc_close(struct rpc *rpc)
{
    close(rpc->fd);
    free(rpc->buf);
}

static void
rpc_send(struct rpc *rpc, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    size_t len = strlen(text);
    assert_int_equal(write(rpc->fd, text, len), (ssize_t)len);
    free(text);
}

/* Receives one message (caller decrefs), waiting up to 10 s. */
static json_t *
rpc_recv(struct rpc *rpc)
{
    for (;;) {
        size_t skip = 0;
        while (skip < rpc->len && (rpc->buf[skip] == ' ' || rpc->buf[skip] == '\n')) {
            skip++;
        }
        if (skip < rpc->len) {
            json_error_t jerr;
            json_t *msg = json_loadb(rpc->buf + skip, rpc->len - skip,
                                     JSON_DISABLE_EOF_CHECK, &jerr);
            if (msg) {
                size_t used = skip + jerr.position;
                memmove(rpc->buf, rpc->buf + used, rpc->len - used);
                rpc->len -= used;
                return msg;
            }
            if (json_error_code(&jerr) != json_error_premature_end_of_input) {
                fail_msg("bad JSON from ovsdb-server: %s", jerr.text);
            }
        }
        struct pollfd pfd = {.fd = rpc->fd, .events = POLLIN};
        assert_int_equal(poll(&pfd, 1, 10000), 1);
        if (rpc->cap - rpc->len < 65536) {
            rpc->cap = rpc->cap * 2 + 65536;
            rpc->buf = realloc(rpc->buf, rpc->cap);
            assert_non_null(rpc->buf);
        }
        ssize_t n = read(rpc->fd, rpc->buf + rpc->len, rpc->cap - rpc->len);
        assert_true(n > 0);
        rpc->len += (size_t)n;
    }
}

/* Sends request 'method' with 'params' (taken) and returns its "result", applying to
 * 'r' (in 'format') every update notification received before the reply. */
static json_t *
rpc_transact(struct rpc *rpc, const char *method, json_t *params, struct ovsdb_replica *r,
             enum ovsdb_update_format format)
{
    static int next_id = 1;
    int id = next_id++;
    rpc_send(rpc, json_pack("{sssosi}", "method", method, "params", params, "id", id));
    for (;;) {
        json_t *msg = rpc_recv(rpc);
        json_t *mid = json_object_get(msg, "id");
        const char *m = json_string_value(json_object_get(msg, "method"));
        if (json_is_integer(mid) && json_integer_value(mid) == id) {
            json_t *result = json_incref(json_object_get(msg, "result"));
            if (!result) {
                char *text = dump_sorted(msg);
                fprintf(stderr, "error reply: %s\n", text);
                free(text);
            }
            json_decref(msg);
            assert_non_null(result);
            return result;
        } else if (m && (!strcmp(m, "update") || !strcmp(m, "update2"))) {
            assert_int_equal(!strcmp(m, "update2"), format == OVSDB_UPDATE_V2);
            struct ovnic_err err = {0};
            int error = ovsdb_replica_apply(
                r, format, json_array_get(json_object_get(msg, "params"), 1), &err);
            if (error) {
                char buf[512];
                fail_msg("%s: %s", m, ovnic_err_format(&err, buf, sizeof buf));
            }
        } else if (m && !strcmp(m, "echo") && mid && !json_is_null(mid)) {
            rpc_send(rpc, json_pack("{sOsOsn}", "id", mid, "result",
                                    json_object_get(msg, "params"), "error"));
        }
        json_decref(msg);
    }
}

/* Processes every pending notification on 'rpc'. */
static void
rpc_sync(struct rpc *rpc, struct ovsdb_replica *r, enum ovsdb_update_format format)
{
    json_decref(rpc_transact(rpc, "echo", json_pack("[s]", "sync"), r, format));
}

static json_t *
dump_database(const char *sock, const char *db)
{
    size_t len;
    char *text = capture(&len, "ovsdb-client dump -f json unix:%s %s", sock, db);
    assert_non_null(text);
    json_t *json = dump_to_replica_json(text, len);
    free(text);
    return json;
}

static void
check_against_dump(struct live *live, struct ovsdb_replica *r2, struct ovsdb_replica *r1)
{
    json_t *dump = dump_database(live->sock, "OVN_Southbound");
    assert_json_equal(ovsdb_replica_to_json(r2), dump);
    assert_json_equal(ovsdb_replica_to_json(r1), dump);
    json_decref(dump);
}

static char *
sbctl(struct live *live, const char *args)
{
    char *out = capture(NULL, "ovn-sbctl --db=unix:%s %s", live->sock, args);
    if (!out) {
        fail_msg("ovn-sbctl %s failed", args);
    }
    char *nl = strchr(out, '\n');
    if (nl) {
        *nl = '\0';
    }
    return out;
}

static const struct ovsdb_row *
tracked_row(struct ovsdb_replica *r, const char *table, size_t nth)
{
    const struct ovsdb_row *row;
    OVSDB_TABLE_FOR_EACH_TRACKED (row, ovsdb_replica_table(r, table)) {
        if (!nth--) {
            return row;
        }
    }
    return NULL;
}

static void
test_live_server(void **state)
{
    struct live *live = *state;
    struct ovsdb_replica *r2 = new_replica(), *r1 = new_replica();
    struct rpc a, b;
    rpc_connect(&a, live->sock);
    rpc_connect(&b, live->sock);

    /* A monitors every table and column with monitor_cond (format 2), B with the
     * RFC 7047 monitor (format 1). */
    json_t *reqs2 = json_object(), *reqs1 = json_object();
    for (size_t i = 0; i < sb_schema->n_tables; i++) {
        const char *name = sb_schema->table_array[i]->name;
        json_object_set_new(reqs2, name, json_pack("[{}]"));
        json_object_set_new(reqs1, name, json_object());
    }
    json_t *initial = rpc_transact(&a, "monitor_cond",
                                   json_pack("[sso]", "OVN_Southbound", "m2", reqs2), r2,
                                   OVSDB_UPDATE_V2);
    struct ovnic_err err = {0};
    assert_int_equal(ovsdb_replica_replace(r2, OVSDB_UPDATE_V2, initial, NULL, &err), 0);
    json_decref(initial);
    initial =
        rpc_transact(&b, "monitor", json_pack("[sso]", "OVN_Southbound", "m1", reqs1), r1,
                     OVSDB_UPDATE_V1);
    assert_int_equal(ovsdb_replica_apply(r1, OVSDB_UPDATE_V1, initial, &err), 0);
    json_decref(initial);
    check_against_dump(live, r2, r1);
    assert_int_equal(ovsdb_replica_table_count(ovsdb_replica_table(r2, "Chassis")), 1);
    assert_int_equal(ovsdb_replica_table_count(ovsdb_replica_table(r2, "SB_Global")), 1);
    ovsdb_replica_track_clear(r2);
    ovsdb_replica_track_clear(r1);

    /* Sets, maps, optional and scalar columns change; compare after each step. */
    free(sbctl(live, "set chassis ch1 hostname=h1 other_config:a=b other_config:c=d "
                     "transport_zones=tz1"));
    rpc_sync(&a, r2, OVSDB_UPDATE_V2);
    rpc_sync(&b, r1, OVSDB_UPDATE_V1);
    check_against_dump(live, r2, r1);

    ovsdb_replica_track_clear(r2);
    ovsdb_replica_track_clear(r1);
    free(sbctl(live, "set chassis ch1 other_config:a=z other_config:e=f "
                     "transport_zones=tz2,tz3 -- remove chassis ch1 other_config c"));
    rpc_sync(&a, r2, OVSDB_UPDATE_V2);
    rpc_sync(&b, r1, OVSDB_UPDATE_V1);
    check_against_dump(live, r2, r1);
    struct ovsdb_replica *both[] = {r2, r1};
    for (size_t i = 0; i < 2; i++) {
        const struct ovsdb_row *ch = tracked_row(both[i], "Chassis", 0);
        assert_non_null(ch);
        assert_null(tracked_row(both[i], "Chassis", 1));
        assert_int_equal(ovsdb_row_change(ch), OVSDB_ROW_MODIFIED);
        assert_true(
            ovsdb_row_column_changed(ch, column_index("Chassis", "other_config")));
        assert_true(
            ovsdb_row_column_changed(ch, column_index("Chassis", "transport_zones")));
        assert_false(ovsdb_row_column_changed(ch, column_index("Chassis", "hostname")));
        assert_false(ovsdb_row_column_changed(ch, column_index("Chassis", "name")));
    }

    free(sbctl(live, "chassis-add ch2 vxlan 10.0.0.2"));
    char *ch1 = sbctl(live, "--bare --columns=_uuid find chassis name=ch1");
    char *ch2 = sbctl(live, "--bare --columns=_uuid find chassis name=ch2");
    char args[1024];
    char *dp = sbctl(live, "create datapath_binding tunnel_key=5 external_ids:name=ls1");
    snprintf(args, sizeof args,
             "create port_binding logical_port=lp1 datapath=%s tunnel_key=1 "
             "'mac=\"00:00:00:00:00:01 10.0.0.5\"' options:foo=bar tag=7 up=true "
             "chassis=%s",
             dp, ch1);
    char *pb = sbctl(live, args);
    free(sbctl(live, "create chassis_private name=ch1"));
    snprintf(args, sizeof args, "set chassis_private ch1 chassis=%s", ch1);
    free(sbctl(live, args));
    rpc_sync(&a, r2, OVSDB_UPDATE_V2);
    rpc_sync(&b, r1, OVSDB_UPDATE_V1);
    check_against_dump(live, r2, r1);

    ovsdb_replica_track_clear(r2);
    ovsdb_replica_track_clear(r1);
    snprintf(args, sizeof args,
             "set chassis_private ch1 chassis=%s -- set port_binding %s chassis=%s "
             "up=false -- clear port_binding %s tag -- set port_binding %s "
             "'mac=[\"00:00:00:00:00:02\", \"00:00:00:00:00:03\"]'",
             ch2, pb, ch2, pb, pb);
    free(sbctl(live, args));
    rpc_sync(&a, r2, OVSDB_UPDATE_V2);
    rpc_sync(&b, r1, OVSDB_UPDATE_V1);
    check_against_dump(live, r2, r1);

    snprintf(args, sizeof args, "clear chassis_private ch1 chassis");
    free(sbctl(live, args));
    /* Deleting ch2 removes its Encap too and clears the weak reference in lp1. */
    ovsdb_replica_track_clear(r2);
    ovsdb_replica_track_clear(r1);
    free(sbctl(live, "chassis-del ch2"));
    rpc_sync(&a, r2, OVSDB_UPDATE_V2);
    rpc_sync(&b, r1, OVSDB_UPDATE_V1);
    check_against_dump(live, r2, r1);
    for (size_t i = 0; i < 2; i++) {
        const struct ovsdb_row *gone = tracked_row(both[i], "Chassis", 0);
        assert_non_null(gone);
        assert_int_equal(ovsdb_row_change(gone), OVSDB_ROW_DELETED);
        assert_string_equal(ovsdb_datum_get_string(ovsdb_row_get(gone, "name"), NULL),
                            "ch2");
        assert_int_equal(ovsdb_row_change(tracked_row(both[i], "Encap", 0)),
                         OVSDB_ROW_DELETED);
        const struct ovsdb_row *lp = tracked_row(both[i], "Port_Binding", 0);
        assert_non_null(lp);
        assert_int_equal(ovsdb_row_change(lp), OVSDB_ROW_MODIFIED);
        assert_true(ovsdb_datum_is_empty(ovsdb_row_get(lp, "chassis")));
    }

    snprintf(args, sizeof args, "destroy port_binding %s", pb);
    free(sbctl(live, args));
    rpc_sync(&a, r2, OVSDB_UPDATE_V2);
    rpc_sync(&b, r1, OVSDB_UPDATE_V1);
    check_against_dump(live, r2, r1);
    assert_int_equal(ovsdb_replica_table_count(ovsdb_replica_table(r2, "Port_Binding")),
                     0);

    free(ch1);
    free(ch2);
    free(dp);
    free(pb);
    rpc_close(&a);
    rpc_close(&b);
    ovsdb_replica_destroy(r2);
    ovsdb_replica_destroy(r1);
}

/* The _Server database: its schema fetched from the server, its rows monitored. */
static void
test_live_server_db(void **state)
{
    struct live *live = *state;
    char *text = capture(NULL, "ovsdb-client get-schema unix:%s _Server", live->sock);
    assert_non_null(text);
    json_t *json = parse_json(text);
    free(text);
    struct ovnic_err err = {0};
    assert_int_equal(ovsdb_schema_from_json(json, &live->server_schema, &err), 0);
    json_decref(json);
    const struct ovsdb_table_schema *db =
        ovsdb_schema_find_table(live->server_schema, "Database");
    assert_non_null(db);
    static const char *const columns[] = {"name",   "model", "connected", "leader",
                                          "schema", "cid",   "sid",       "index"};
    for (size_t i = 0; i < ARRAY_SIZE(columns); i++) {
        assert_non_null(ovsdb_table_schema_find_column(db, columns[i]));
    }

    struct ovsdb_replica *r = NULL;
    assert_int_equal(ovsdb_replica_create(live->server_schema, &r), 0);
    struct rpc a;
    rpc_connect(&a, live->sock);
    json_t *initial = rpc_transact(&a, "monitor_cond",
                                   json_pack("[ss{s[{}]}]", "_Server", "s", "Database"),
                                   r, OVSDB_UPDATE_V2);
    assert_int_equal(ovsdb_replica_replace(r, OVSDB_UPDATE_V2, initial, NULL, &err), 0);
    json_decref(initial);
    json_t *dump = dump_database(live->sock, "_Server");
    assert_json_equal(ovsdb_replica_to_json(r), dump);
    json_decref(dump);

    const struct ovsdb_row *row;
    bool found = false;
    OVSDB_TABLE_FOR_EACH_ROW (row, ovsdb_replica_table(r, "Database")) {
        if (!strcmp(ovsdb_datum_get_string(ovsdb_row_get(row, "name"), ""),
                    "OVN_Southbound")) {
            found = true;
            assert_string_equal(ovsdb_datum_get_string(ovsdb_row_get(row, "model"), ""),
                                "standalone");
            assert_true(ovsdb_datum_get_bool(ovsdb_row_get(row, "connected"), false));
        }
    }
    assert_true(found);
    rpc_close(&a);
    ovsdb_replica_destroy(r);
}

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_apply_v2),
        cmocka_unit_test(test_apply_v1),
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_tracking),
        cmocka_unit_test(test_iteration),
        cmocka_unit_test(test_replace),
        cmocka_unit_test_setup_teardown(test_live_server, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_live_server_db, live_setup, live_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
