/* Unit tests for dpu/ovsdb/txn: the JSON each builder call produces. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/ovsdb/txn.h"

static void
expect_json(const json_t *json, const char *want)
{
    json_t *w = json_loads(want, 0, NULL);
    assert_non_null(w);
    if (!json_equal((json_t *)json, w)) {
        char *got = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
        fail_msg("got %s, want %s", got ? got : "NULL", want);
    }
    json_decref(w);
}

static struct uuid
test_uuid(void)
{
    struct uuid u;
    assert_int_equal(uuid_from_string("0badc0de-0000-4000-8000-000000000001", &u), 0);
    return u;
}

static void
test_insert(void **state)
{
    (void)state;
    struct ovsdb_txn *txn;
    assert_int_equal(ovsdb_txn_create(&txn), 0);
    assert_int_equal(ovsdb_txn_insert(txn, "Address_Set",
                                      json_pack("{s:s, s:o}", "name", "as1", "addresses",
                                                ovsdb_txn_set(json_pack(
                                                    "[s,s]", "10.0.0.1", "10.0.0.2"))),
                                      "as1_row"),
                     0);
    assert_int_equal(ovsdb_txn_insert(txn, "Meter", json_object(), NULL), 0);
    assert_int_equal(ovsdb_txn_n_ops(txn), 2);
    expect_json(ovsdb_txn_ops(txn),
                "[{\"op\":\"insert\",\"table\":\"Address_Set\",\"uuid-name\":\"as1_row\","
                "\"row\":{\"name\":\"as1\",\"addresses\":[\"set\",[\"10.0.0.1\","
                "\"10.0.0.2\"]]}},"
                "{\"op\":\"insert\",\"table\":\"Meter\",\"row\":{}}]");
    json_t *ops;
    assert_int_equal(ovsdb_txn_take(txn, &ops), 0);
    assert_int_equal(json_array_size(ops), 2);
    assert_int_equal(ovsdb_txn_n_ops(txn), 0);
    json_decref(ops);
    ovsdb_txn_destroy(txn);
}

static void
test_update_mutate_delete(void **state)
{
    (void)state;
    struct uuid u = test_uuid();
    struct ovsdb_txn *txn;
    assert_int_equal(ovsdb_txn_create(&txn), 0);

    json_t *where = ovsdb_txn_where_create();
    assert_int_equal(ovsdb_txn_where_add(where, "name", "==", json_string("as1")), 0);
    assert_int_equal(
        ovsdb_txn_where_add(where, "addresses", "includes", json_string("10.0.0.1")), 0);
    assert_int_equal(ovsdb_txn_update(txn, "Address_Set", where,
                                      json_pack("{s:[s,[]]}", "addresses", "set")),
                     0);

    json_t *mutations = json_pack(
        "[o,o]", ovsdb_txn_mutation("ports", "insert", ovsdb_txn_named_uuid("new_port")),
        ovsdb_txn_mutation("external_ids", "delete",
                           ovsdb_txn_set(json_pack("[s]", "k"))));
    assert_int_equal(
        ovsdb_txn_mutate(txn, "Port_Group", ovsdb_txn_where_uuid(&u), mutations), 0);
    /* A single mutation is wrapped in an array. */
    assert_int_equal(
        ovsdb_txn_mutate(txn, "SB_Global", json_pack("[b]", 1),
                         ovsdb_txn_mutation("nb_cfg", "+=", json_integer(1))),
        0);
    assert_int_equal(ovsdb_txn_delete(txn, "Chassis", ovsdb_txn_where_uuid(&u)), 0);

    expect_json(ovsdb_txn_ops(txn),
                "[{\"op\":\"update\",\"table\":\"Address_Set\","
                "\"where\":[[\"name\",\"==\",\"as1\"],[\"addresses\",\"includes\","
                "\"10.0.0.1\"]],\"row\":{\"addresses\":[\"set\",[]]}},"
                "{\"op\":\"mutate\",\"table\":\"Port_Group\","
                "\"where\":[[\"_uuid\",\"==\",[\"uuid\","
                "\"0badc0de-0000-4000-8000-000000000001\"]]],"
                "\"mutations\":[[\"ports\",\"insert\",[\"named-uuid\",\"new_port\"]],"
                "[\"external_ids\",\"delete\",[\"set\",[\"k\"]]]]},"
                "{\"op\":\"mutate\",\"table\":\"SB_Global\",\"where\":[true],"
                "\"mutations\":[[\"nb_cfg\",\"+=\",1]]},"
                "{\"op\":\"delete\",\"table\":\"Chassis\","
                "\"where\":[[\"_uuid\",\"==\",[\"uuid\","
                "\"0badc0de-0000-4000-8000-000000000001\"]]]}]");
    ovsdb_txn_destroy(txn);
}

static void
test_wait_select_comment(void **state)
{
    (void)state;
    struct ovsdb_txn *txn;
    assert_int_equal(ovsdb_txn_create(&txn), 0);
    static const char *const cols[] = {"name", "nb_cfg", NULL};
    assert_int_equal(ovsdb_txn_wait(txn, "Chassis", ovsdb_txn_where_create(), cols, true,
                                    json_pack("[{s:s}]", "name", "hv1"), 0),
                     0);
    assert_int_equal(ovsdb_txn_wait(txn, "Chassis", ovsdb_txn_where_create(), cols, false,
                                    json_array(), -1),
                     0);
    assert_int_equal(ovsdb_txn_select(txn, "Chassis", ovsdb_txn_where_create(), cols), 0);
    assert_int_equal(ovsdb_txn_select(txn, "Encap", ovsdb_txn_where_create(), NULL), 0);
    assert_int_equal(ovsdb_txn_comment(txn, "ovnic: claim port p1"), 0);
    expect_json(ovsdb_txn_ops(txn),
                "[{\"op\":\"wait\",\"table\":\"Chassis\",\"where\":[],"
                "\"columns\":[\"name\",\"nb_cfg\"],\"until\":\"==\","
                "\"rows\":[{\"name\":\"hv1\"}],\"timeout\":0},"
                "{\"op\":\"wait\",\"table\":\"Chassis\",\"where\":[],"
                "\"columns\":[\"name\",\"nb_cfg\"],\"until\":\"!=\",\"rows\":[]},"
                "{\"op\":\"select\",\"table\":\"Chassis\",\"where\":[],"
                "\"columns\":[\"name\",\"nb_cfg\"]},"
                "{\"op\":\"select\",\"table\":\"Encap\",\"where\":[]},"
                "{\"op\":\"comment\",\"comment\":\"ovnic: claim port p1\"}]");
    ovsdb_txn_destroy(txn);
}

static void
test_values(void **state)
{
    (void)state;
    struct uuid u = test_uuid();
    json_t *j = ovsdb_txn_uuid(&u);
    expect_json(j, "[\"uuid\",\"0badc0de-0000-4000-8000-000000000001\"]");
    json_decref(j);
    j = ovsdb_txn_map(json_pack("[[s,s],[s,i]]", "a", "b", "c", 1));
    expect_json(j, "[\"map\",[[\"a\",\"b\"],[\"c\",1]]]");
    json_decref(j);
    j = ovsdb_txn_named_uuid("row_1");
    expect_json(j, "[\"named-uuid\",\"row_1\"]");
    json_decref(j);

    assert_null(ovsdb_txn_named_uuid("1bad"));
    assert_null(ovsdb_txn_named_uuid("has-dash"));
    assert_null(ovsdb_txn_map(json_pack("[[s]]", "a")));
    assert_null(ovsdb_txn_map(json_object()));
    assert_null(ovsdb_txn_set(json_string("x")));
    assert_null(ovsdb_txn_mutation("c", "=", json_integer(1)));
    assert_null(ovsdb_txn_mutation("", "+=", json_integer(1)));

    assert_true(ovsdb_txn_is_id("_a1"));
    assert_false(ovsdb_txn_is_id(""));
    assert_false(ovsdb_txn_is_id(NULL));

    json_t *where = ovsdb_txn_where_create();
    assert_int_equal(ovsdb_txn_where_add(where, "c", "~=", json_integer(1)), -EINVAL);
    assert_int_equal(ovsdb_txn_where_add(where, NULL, "==", json_integer(1)), -EINVAL);
    assert_int_equal(ovsdb_txn_where_add(where, "c", "==", NULL), -EINVAL);
    assert_int_equal(json_array_size(where), 0);
    json_decref(where);
}

static void
test_errors_are_sticky(void **state)
{
    (void)state;
    struct ovsdb_txn *txn;
    assert_int_equal(ovsdb_txn_create(&txn), 0);

    assert_int_equal(ovsdb_txn_insert(txn, "Bad Table", json_object(), NULL), -EINVAL);
    assert_int_equal(ovsdb_txn_insert(txn, "T", json_array(), NULL), -EINVAL);
    assert_int_equal(ovsdb_txn_insert(txn, "T", json_object(), "bad name"), -EINVAL);
    assert_int_equal(ovsdb_txn_update(txn, "T", json_object(), json_object()), -EINVAL);
    assert_int_equal(
        ovsdb_txn_update(txn, "T", json_pack("[[s,s,i]]", "c", "=~", 1), json_object()),
        -EINVAL);
    assert_int_equal(
        ovsdb_txn_mutate(txn, "T", json_array(), json_pack("[[s,s,i]]", "c", "==", 1)),
        -EINVAL);
    assert_int_equal(ovsdb_txn_delete(txn, "T", NULL), -EINVAL);
    assert_int_equal(ovsdb_txn_delete(txn, "T", json_pack("[i]", 3)), -EINVAL);
    static const char *const bad_cols[] = {"ok", "not ok", NULL};
    assert_int_equal(ovsdb_txn_select(txn, "T", json_array(), bad_cols), -EINVAL);
    assert_int_equal(ovsdb_txn_wait(txn, "T", json_array(), NULL, true, json_array(), 0),
                     -EINVAL);
    assert_int_equal(
        ovsdb_txn_wait(txn, "T", json_array(), bad_cols, true, json_array(), 0), -EINVAL);
    static const char *const cols[] = {"ok", NULL};
    assert_int_equal(
        ovsdb_txn_wait(txn, "T", json_array(), cols, true, json_pack("[i]", 1), 0),
        -EINVAL);
    assert_int_equal(ovsdb_txn_comment(txn, NULL), -EINVAL);
    assert_int_equal(ovsdb_txn_n_ops(txn), 0);

    /* A good call after a bad one still appends, but the transaction is refused. */
    assert_int_equal(ovsdb_txn_comment(txn, "fine"), 0);
    assert_int_equal(ovsdb_txn_n_ops(txn), 1);
    json_t *ops = NULL;
    assert_int_equal(ovsdb_txn_take(txn, &ops), -EINVAL);
    assert_null(ops);

    /* The error is cleared with the operations. */
    assert_int_equal(ovsdb_txn_comment(txn, "again"), 0);
    assert_int_equal(ovsdb_txn_take(txn, &ops), 0);
    expect_json(ops, "[{\"op\":\"comment\",\"comment\":\"again\"}]");
    json_decref(ops);
    ovsdb_txn_destroy(txn);
    ovsdb_txn_destroy(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert),
        cmocka_unit_test(test_update_mutate_delete),
        cmocka_unit_test(test_wait_select_comment),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors_are_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
