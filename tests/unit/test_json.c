/* Unit tests for shared/util/json: getters, text, stream framing, OVSDB notations. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shared/util/json.h"

static json_t *
parse__(const char *text)
{
    json_t *json = NULL;
    struct ovnic_err err = {0};
    assert_int_equal(json_from_buffer(text, strlen(text), &json, &err), 0);
    assert_non_null(json);
    return json;
}

static void
assert_json_text__(const json_t *json, const char *expected)
{
    char *s = json_to_string_sorted(json);
    assert_non_null(s);
    assert_string_equal(s, expected);
    free(s);
}

/* ---- Getters. ----------------------------------------------------------------- */

static void
test_get_string(void **state)
{
    json_t *obj = parse__("{\"s\": \"abc\", \"n\": 5, \"z\": null}");
    struct ovnic_err err = {0};
    const char *s = "untouched";

    assert_int_equal(json_get_string(obj, "s", &s, &err), 0);
    assert_string_equal(s, "abc");
    assert_false(ovnic_err_is_set(&err));

    s = "untouched";
    assert_int_equal(json_get_string(obj, "missing", &s, &err), -EINVAL);
    assert_string_equal(s, "untouched");
    assert_int_equal(err.code, -EINVAL);
    assert_string_equal(err.object, "missing");
    assert_string_equal(err.message, "missing member");

    ovnic_err_clear(&err);
    assert_int_equal(json_get_string(obj, "n", &s, &err), -EINVAL);
    assert_string_equal(s, "untouched");
    assert_string_equal(err.object, "n");
    assert_string_equal(err.detail, "expected string, got integer");

    /* A null member is a wrong type for a required getter... */
    ovnic_err_clear(&err);
    assert_int_equal(json_get_string(obj, "z", &s, &err), -EINVAL);
    assert_string_equal(err.detail, "expected string, got null");

    /* ...and absent for an optional one. */
    assert_int_equal(json_get_string_opt(obj, "z", &s, NULL), 0);
    assert_int_equal(json_get_string_opt(obj, "missing", &s, NULL), 0);
    assert_string_equal(s, "untouched");
    assert_int_equal(json_get_string_opt(obj, "s", &s, NULL), 0);
    assert_string_equal(s, "abc");
    assert_int_equal(json_get_string_opt(obj, "n", &s, NULL), -EINVAL);

    /* Not an object at all. */
    json_t *array = json_array();
    ovnic_err_clear(&err);
    assert_int_equal(json_get_string(array, "s", &s, &err), -EINVAL);
    assert_string_equal(err.message, "not a JSON object");
    assert_string_equal(err.detail, "got array");
    assert_int_equal(json_get_string_opt(NULL, "s", &s, NULL), -EINVAL);
    json_decref(array);

    /* A string holding a NUL byte cannot come out as a C string. */
    json_object_set_new(obj, "nul", json_stringn_nocheck("a\0b", 3));
    assert_int_equal(json_get_string(obj, "nul", &s, NULL), -EINVAL);
    assert_string_equal(s, "abc");
    json_decref(obj);
}

static void
test_get_int(void **state)
{
    json_t *obj = parse__("{\"i\": -42, \"big\": 9223372036854775807, \"r\": 1.5,"
                          " \"r1\": 1.0, \"s\": \"7\"}");
    struct ovnic_err err = {0};
    int64_t v = 99;

    assert_int_equal(json_get_int(obj, "i", &v, &err), 0);
    assert_int_equal(v, -42);
    assert_int_equal(json_get_int(obj, "big", &v, &err), 0);
    assert_true(v == INT64_MAX);

    v = 99;
    assert_int_equal(json_get_int(obj, "r", &v, &err), -EINVAL);
    assert_string_equal(err.detail, "expected integer, got real");
    assert_int_equal(json_get_int(obj, "r1", &v, NULL), -EINVAL);
    assert_int_equal(json_get_int(obj, "s", &v, NULL), -EINVAL);
    assert_int_equal(json_get_int(obj, "nope", &v, NULL), -EINVAL);
    assert_int_equal(v, 99);

    assert_int_equal(json_get_int_opt(obj, "nope", &v, NULL), 0);
    assert_int_equal(v, 99);
    assert_int_equal(json_get_int_opt(obj, "i", &v, NULL), 0);
    assert_int_equal(v, -42);
    assert_int_equal(json_get_int_opt(obj, "s", &v, NULL), -EINVAL);

    v = 99;
    ovnic_err_clear(&err);
    assert_int_equal(json_get_int_range(obj, "i", 0, 100, &v, &err), -ERANGE);
    assert_int_equal(v, 99);
    assert_string_equal(err.object, "i");
    assert_string_equal(err.detail, "-42 not in [0, 100]");
    assert_int_equal(json_get_int_range(obj, "i", -42, -42, &v, NULL), 0);
    assert_int_equal(v, -42);
    assert_int_equal(json_get_int_range(obj, "s", 0, 10, &v, NULL), -EINVAL);
    assert_int_equal(json_get_int_range(obj, "nope", 0, 10, &v, NULL), -EINVAL);

    double d = 0;
    assert_int_equal(json_get_number(obj, "r", &d, NULL), 0);
    assert_true(d == 1.5);
    assert_int_equal(json_get_number(obj, "i", &d, NULL), 0);
    assert_true(d == -42.0);
    assert_int_equal(json_get_number(obj, "s", &d, NULL), -EINVAL);
    assert_int_equal(json_get_number(obj, "nope", &d, NULL), -EINVAL);
    assert_true(d == -42.0);
    json_decref(obj);
}

static void
test_get_bool_object_array(void **state)
{
    json_t *obj = parse__("{\"t\": true, \"f\": false, \"o\": {\"x\": 1}, \"a\": [1, 2],"
                          " \"n\": null, \"i\": 0}");
    struct ovnic_err err = {0};
    bool b = false;
    assert_int_equal(json_get_bool(obj, "t", &b, NULL), 0);
    assert_true(b);
    assert_int_equal(json_get_bool(obj, "f", &b, NULL), 0);
    assert_false(b);
    b = true;
    assert_int_equal(json_get_bool(obj, "i", &b, &err), -EINVAL);
    assert_string_equal(err.detail, "expected boolean, got integer");
    assert_true(b);
    assert_int_equal(json_get_bool_opt(obj, "n", &b, NULL), 0);
    assert_int_equal(json_get_bool_opt(obj, "zz", &b, NULL), 0);
    assert_true(b);
    assert_int_equal(json_get_bool_opt(obj, "f", &b, NULL), 0);
    assert_false(b);
    assert_int_equal(json_get_bool_opt(obj, "a", &b, NULL), -EINVAL);

    const json_t *v = NULL;
    assert_int_equal(json_get_object(obj, "o", &v, NULL), 0);
    assert_ptr_equal(v, json_object_get(obj, "o"));
    assert_int_equal(json_get_object(obj, "a", &v, NULL), -EINVAL);
    assert_int_equal(json_get_object(obj, "n", &v, NULL), -EINVAL);
    v = NULL;
    assert_int_equal(json_get_object_opt(obj, "n", &v, NULL), 0);
    assert_null(v);
    assert_int_equal(json_get_object_opt(obj, "a", &v, NULL), -EINVAL);

    assert_int_equal(json_get_array(obj, "a", &v, NULL), 0);
    assert_int_equal(json_array_size(v), 2);
    assert_int_equal(json_get_array(obj, "o", &v, NULL), -EINVAL);
    const json_t *w = NULL;
    assert_int_equal(json_get_array_opt(obj, "zz", &w, NULL), 0);
    assert_null(w);
    assert_int_equal(json_get_array_opt(obj, "a", &w, NULL), 0);
    assert_ptr_equal(w, v);
    assert_int_equal(json_get_array_opt(obj, "t", &w, NULL), -EINVAL);

    assert_int_equal(json_get(obj, "n", &v, NULL), 0);
    assert_true(json_is_null(v));
    assert_int_equal(json_get(obj, "zz", &v, &err), -EINVAL);

    /* The innermost (first) failure is kept. */
    ovnic_err_clear(&err);
    json_get_bool(obj, "o", &b, &err);
    json_get_array(obj, "zz", &v, &err);
    assert_string_equal(err.object, "o");
    json_decref(obj);
}

static void
test_type_name(void **state)
{
    assert_string_equal(json_type_name(NULL), "absent");
    json_t *vals[] = {json_object(),  json_array(), json_string("x"), json_integer(1),
                      json_real(1.5), json_true(),  json_false(),     json_null()};
    const char *names[] = {"object", "array",   "string",  "integer",
                           "real",   "boolean", "boolean", "null"};
    for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
        assert_string_equal(json_type_name(vals[i]), names[i]);
        json_decref(vals[i]);
    }
}

/* ---- Text. -------------------------------------------------------------------- */

static void
test_to_string(void **state)
{
    json_t *obj = parse__("{ \"b\" : [ true , null, 1.5, \"x\\\"y\" ] , \"a\" : 1 }");
    char *s = json_to_string(obj);
    assert_string_equal(s, "{\"b\":[true,null,1.5,\"x\\\"y\"],\"a\":1}");
    free(s);
    s = json_to_string_sorted(obj);
    assert_string_equal(s, "{\"a\":1,\"b\":[true,null,1.5,\"x\\\"y\"]}");
    free(s);
    json_decref(obj);

    json_t *str = json_string("scalar");
    s = json_to_string(str);
    assert_string_equal(s, "\"scalar\"");
    free(s);
    json_decref(str);

    assert_null(json_to_string(NULL));

    /* Larger than the initial buffer. */
    json_t *array = json_array();
    for (int i = 0; i < 1000; i++) {
        json_array_append_new(array, json_integer(i));
    }
    s = json_to_string(array);
    assert_non_null(s);
    assert_int_equal(strncmp(s, "[0,1,2,", 7), 0);
    assert_non_null(strstr(s, ",998,999]"));
    json_t *back = NULL;
    assert_int_equal(json_from_buffer(s, strlen(s), &back, NULL), 0);
    assert_true(json_equal(array, back));
    json_decref(back);
    free(s);
    json_decref(array);
}

static void
test_from_buffer(void **state)
{
    json_t *json = NULL;
    struct ovnic_err err = {0};

    assert_int_equal(json_from_buffer(" 42 ", 4, &json, &err), 0);
    assert_int_equal(json_integer_value(json), 42);
    json_decref(json);

    /* Only 'len' bytes are read. */
    json = NULL;
    assert_int_equal(json_from_buffer("[1][2]", 3, &json, &err), 0);
    assert_json_text__(json, "[1]");
    json_decref(json);

    json_t *sentinel = json_null();
    json = sentinel;
    assert_int_equal(json_from_buffer("{\"a\": 1,\n \"b\": }", 16, &json, &err), -EINVAL);
    assert_ptr_equal(json, sentinel);
    assert_int_equal(err.code, -EINVAL);
    assert_string_equal(err.message, "malformed JSON");
    assert_non_null(strstr(err.detail, "line 2, column"));

    const char *bad[] = {"", "   ", "[1][2]", "{\"a\":1", "[1,]", "nul", "\"\\u0000\"",
                         "{\"a\" 1}", "[\"\xff\"]", "01",
                         /* Duplicate member names, at any depth. */
                         "{\"a\":1,\"a\":2}", "[{\"b\":{\"a\":1,\"a\":1}}]"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        ovnic_err_clear(&err);
        assert_int_equal(json_from_buffer(bad[i], strlen(bad[i]), &json, &err), -EINVAL);
        assert_ptr_equal(json, sentinel);
        assert_true(ovnic_err_is_set(&err));
    }
    /* An embedded NUL byte in the buffer. */
    assert_int_equal(json_from_buffer("[1]\0", 4, &json, NULL), -EINVAL);
    assert_ptr_equal(json, sentinel);
}

static void
test_framer_stream(void **state)
{
    const char *stream = " {\"id\": 1, \"s\": \"}{\\\"[\"}\r\n[1, [2, {\"x\": \"\\\\\"}]]"
                         "\t{\"method\":\"echo\",\"params\":[]}";
    const char *expected[] = {"{\"id\":1,\"s\":\"}{\\\"[\"}", "[1,[2,{\"x\":\"\\\\\"}]]",
                              "{\"method\":\"echo\",\"params\":[]}"};
    size_t total = strlen(stream);

    /* Fed one byte at a time, as a slow peer would. */
    struct json_framer framer;
    json_framer_init(&framer);
    size_t start = 0, avail = 0, found = 0;
    while (avail < total) {
        avail++;
        for (;;) {
            json_t *msg = NULL;
            size_t n = 12345;
            int error =
                json_framer_parse(&framer, stream + start, avail - start, &msg, &n, NULL);
            if (error == -EAGAIN) {
                assert_null(msg);
                assert_int_equal(n, 12345);
                break;
            }
            assert_int_equal(error, 0);
            assert_true(found < ARRAY_SIZE(expected));
            assert_json_text__(msg, expected[found]);
            json_decref(msg);
            found++;
            start += n;
        }
    }
    assert_int_equal(found, ARRAY_SIZE(expected));
    assert_int_equal(start, total);

    /* All at once, with the stateless variant. */
    start = 0;
    for (size_t i = 0; i < ARRAY_SIZE(expected); i++) {
        json_t *msg;
        size_t n;
        assert_int_equal(json_parse_prefix(stream + start, total - start, &msg, &n, NULL),
                         0);
        assert_json_text__(msg, expected[i]);
        json_decref(msg);
        start += n;
    }
    json_t *msg;
    size_t n;
    assert_int_equal(json_parse_prefix(stream + start, total - start, &msg, &n, NULL),
                     -EAGAIN);
    assert_int_equal(json_parse_prefix("", 0, &msg, &n, NULL), -EAGAIN);
    assert_int_equal(json_parse_prefix(" \n\t", 3, &msg, &n, NULL), -EAGAIN);
    assert_int_equal(json_parse_prefix("{\"a\": \"}", 8, &msg, &n, NULL), -EAGAIN);
    assert_int_equal(json_parse_prefix("[\"\\", 3, &msg, &n, NULL), -EAGAIN);
}

static void
test_framer_errors(void **state)
{
    json_t *sentinel = json_null();
    json_t *msg = sentinel;
    size_t n = 7;
    struct ovnic_err err = {0};
    const char *bad[] = {"42",    "\"str\"",  "true", "  x{}",         "{]",
                         "[1 2]", "{\"a\":}", "}",    "[\"\xc3\x28\"]"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        ovnic_err_clear(&err);
        assert_int_equal(json_parse_prefix(bad[i], strlen(bad[i]), &msg, &n, &err),
                         -EINVAL);
        assert_ptr_equal(msg, sentinel);
        assert_int_equal(n, 7);
        assert_int_equal(err.code, -EINVAL);
    }

    /* Deeper nesting than the parser accepts is an error, not a crash. */
    size_t depth = 100000;
    char *deep = malloc(2 * depth);
    assert_non_null(deep);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    assert_int_equal(json_parse_prefix(deep, 2 * depth, &msg, &n, NULL), -EINVAL);
    assert_ptr_equal(msg, sentinel);

    /* A framer given a shorter buffer than last time starts over. */
    struct json_framer framer;
    json_framer_init(&framer);
    assert_int_equal(json_framer_parse(&framer, deep, depth, &msg, &n, NULL), -EAGAIN);
    assert_int_equal(json_framer_parse(&framer, "[1]", 3, &msg, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_json_text__(msg, "[1]");
    json_decref(msg);
    free(deep);
}

/* ---- OVSDB notations. --------------------------------------------------------- */

static void
test_ovsdb_uuid(void **state)
{
    struct uuid u, back;
    assert_int_equal(uuid_from_string("0123abcd-4567-89ef-0123-456789abcdef", &u), 0);
    json_t *json = json_ovsdb_uuid(&u);
    assert_json_text__(json, "[\"uuid\",\"0123abcd-4567-89ef-0123-456789abcdef\"]");
    assert_int_equal(json_ovsdb_uuid_parse(json, &back, NULL), 0);
    assert_true(uuid_equals(&u, &back));
    json_decref(json);

    json = parse__("[\"uuid\", \"0123ABCD-4567-89EF-0123-456789ABCDEF\"]");
    assert_int_equal(json_ovsdb_uuid_parse(json, &back, NULL), 0);
    assert_true(uuid_equals(&u, &back));
    json_decref(json);

    const char *bad[] = {"[\"uuid\", \"0123abcd-4567-89ef-0123-456789abcde\"]",
                         "[\"uuid\", \"0123abcd-4567-89ef-0123-456789abcdef\", 1]",
                         "[\"named-uuid\", \"row\"]",
                         "[\"uuid\", 5]",
                         "[\"uuid\"]",
                         "\"0123abcd-4567-89ef-0123-456789abcdef\"",
                         "{\"uuid\": \"0123abcd-4567-89ef-0123-456789abcdef\"}"};
    struct uuid untouched;
    uuid_zero(&untouched);
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct ovnic_err err = {0};
        struct uuid out = untouched;
        json = parse__(bad[i]);
        assert_int_equal(json_ovsdb_uuid_parse(json, &out, &err), -EINVAL);
        assert_true(uuid_is_zero(&out));
        assert_string_equal(err.object, "uuid");
        json_decref(json);
    }
    struct uuid out = untouched;
    assert_int_equal(json_ovsdb_uuid_parse(NULL, &out, NULL), -EINVAL);
}

static void
test_ovsdb_named_uuid(void **state)
{
    json_t *json = json_ovsdb_named_uuid("new_row1");
    assert_json_text__(json, "[\"named-uuid\",\"new_row1\"]");
    const char *name = NULL;
    assert_int_equal(json_ovsdb_named_uuid_parse(json, &name, NULL), 0);
    assert_string_equal(name, "new_row1");
    struct uuid u;
    uuid_zero(&u);
    struct ovnic_err err = {0};
    assert_int_equal(json_ovsdb_named_uuid_to_uuid(json, &u, &err), -EINVAL);
    assert_string_equal(err.message, "name does not encode a UUID");
    assert_true(uuid_is_zero(&u));
    json_decref(json);

    const char *bad_ids[] = {"", "1abc", "a-b", "a b", "row\n", "é"};
    for (size_t i = 0; i < ARRAY_SIZE(bad_ids); i++) {
        assert_null(json_ovsdb_named_uuid(bad_ids[i]));
        json = json_pack("[ss]", "named-uuid", bad_ids[i]);
        name = "untouched";
        assert_int_equal(json_ovsdb_named_uuid_parse(json, &name, NULL), -EINVAL);
        assert_string_equal(name, "untouched");
        json_decref(json);
    }
    json = parse__("[\"uuid\", \"abc\"]");
    assert_int_equal(json_ovsdb_named_uuid_parse(json, &name, NULL), -EINVAL);
    json_decref(json);

    /* Names derived from UUIDs round-trip. */
    for (int i = 0; i < 100; i++) {
        struct uuid orig, back;
        uuid_generate(&orig);
        char buf[JSON_OVSDB_UUID_NAME_LEN + 1];
        json_ovsdb_uuid_to_name(&orig, buf);
        assert_int_equal(strlen(buf), JSON_OVSDB_UUID_NAME_LEN);
        assert_null(strchr(buf, '-'));
        json = json_ovsdb_named_uuid_from_uuid(&orig);
        assert_non_null(json);
        assert_int_equal(json_ovsdb_named_uuid_parse(json, &name, NULL), 0);
        assert_string_equal(name, buf);
        assert_int_equal(json_ovsdb_named_uuid_to_uuid(json, &back, NULL), 0);
        assert_true(uuid_equals(&orig, &back));
        json_decref(json);
    }
    char buf[JSON_OVSDB_UUID_NAME_LEN + 1];
    assert_int_equal(uuid_from_string("00000000-1111-2222-3333-444444444444", &u), 0);
    assert_string_equal(json_ovsdb_uuid_to_name(&u, buf),
                        "row_00000000_1111_2222_3333_444444444444");

    /* Right length and prefix, but not a UUID. */
    json = json_ovsdb_named_uuid("row_0000000g_1111_2222_3333_444444444444");
    assert_int_equal(json_ovsdb_named_uuid_to_uuid(json, &u, NULL), -EINVAL);
    json_decref(json);
    json = json_ovsdb_named_uuid("row_000000001_111_2222_3333_444444444444");
    assert_int_equal(json_ovsdb_named_uuid_to_uuid(json, &u, NULL), -EINVAL);
    json_decref(json);
}

static void
test_ovsdb_set_map(void **state)
{
    json_t *set = json_ovsdb_set(NULL);
    assert_json_text__(set, "[\"set\",[]]");
    assert_int_equal(json_ovsdb_set_size(set), 0);
    assert_null(json_ovsdb_set_get(set, 0));
    assert_int_equal(json_ovsdb_set_add(set, json_string("a")), 0);
    assert_int_equal(json_ovsdb_set_add(set, json_integer(2)), 0);
    assert_json_text__(set, "[\"set\",[\"a\",2]]");
    assert_int_equal(json_ovsdb_set_size(set), 2);
    assert_string_equal(json_string_value(json_ovsdb_set_get(set, 0)), "a");
    assert_int_equal(json_integer_value(json_ovsdb_set_get(set, 1)), 2);
    assert_null(json_ovsdb_set_get(set, 2));

    const json_t *elems, *single;
    assert_int_equal(json_ovsdb_set_parse(set, &elems, &single, NULL), 0);
    assert_ptr_equal(elems, json_array_get(set, 1));
    assert_null(single);

    json_t *map = json_ovsdb_map(NULL);
    assert_int_equal(json_ovsdb_map_add(map, json_string("k1"), json_string("v1")), 0);
    assert_int_equal(json_ovsdb_map_add(map, json_string("k2"), json_integer(3)), 0);
    assert_json_text__(map, "[\"map\",[[\"k1\",\"v1\"],[\"k2\",3]]]");
    const json_t *pairs = NULL;
    assert_int_equal(json_ovsdb_map_parse(map, &pairs, NULL), 0);
    assert_int_equal(json_array_size(pairs), 2);

    /* Adding to the wrong kind releases what was given (checked by LeakSanitizer). */
    assert_int_equal(json_ovsdb_set_add(map, json_string("x")), -EINVAL);
    assert_int_equal(json_ovsdb_map_add(set, json_string("k"), json_string("v")),
                     -EINVAL);
    assert_int_equal(json_ovsdb_set_add(NULL, json_string("x")), -EINVAL);

    /* A map is not a set datum. */
    struct ovnic_err err = {0};
    assert_int_equal(json_ovsdb_set_parse(map, &elems, &single, &err), -EINVAL);
    assert_string_equal(err.object, "set");
    assert_int_equal(json_ovsdb_set_size(map), 0);
    assert_null(json_ovsdb_set_get(map, 0));
    assert_int_equal(json_ovsdb_map_parse(set, &pairs, NULL), -EINVAL);
    json_decref(set);
    json_decref(map);

    /* Constructors take ownership of what they are given. */
    json_t *elements = parse__("[1, 2, 3]");
    set = json_ovsdb_set(elements);
    assert_json_text__(set, "[\"set\",[1,2,3]]");
    json_decref(set);
    assert_null(json_ovsdb_set(json_string("not an array")));
    assert_null(json_ovsdb_map(json_object()));
    map = json_ovsdb_map(parse__("[[\"a\", \"b\"]]"));
    assert_json_text__(map, "[\"map\",[[\"a\",\"b\"]]]");
    json_decref(map);

    /* Bare atoms are one-element sets. */
    const char *atoms[] = {"\"s\"",
                           "5",
                           "1.5",
                           "true",
                           "false",
                           "[\"uuid\", \"0123abcd-4567-89ef-0123-456789abcdef\"]",
                           "[\"named-uuid\", \"x\"]"};
    for (size_t i = 0; i < ARRAY_SIZE(atoms); i++) {
        json_t *atom = parse__(atoms[i]);
        assert_int_equal(json_ovsdb_set_parse(atom, &elems, &single, NULL), 0);
        assert_null(elems);
        assert_ptr_equal(single, atom);
        assert_int_equal(json_ovsdb_set_size(atom), 1);
        assert_ptr_equal(json_ovsdb_set_get(atom, 0), atom);
        assert_null(json_ovsdb_set_get(atom, 1));
        json_decref(atom);
    }
    const char *not_sets[] = {"null",         "{}",        "[1, 2]",
                              "[\"set\", 5]", "[\"set\"]", "[\"map\", []]",
                              "[\"uuid\", 5]"};
    for (size_t i = 0; i < ARRAY_SIZE(not_sets); i++) {
        json_t *json = parse__(not_sets[i]);
        assert_int_equal(json_ovsdb_set_parse(json, &elems, &single, NULL), -EINVAL);
        assert_int_equal(json_ovsdb_set_size(json), 0);
        json_decref(json);
    }
    assert_int_equal(json_ovsdb_set_parse(NULL, &elems, &single, NULL), -EINVAL);

    const char *not_maps[] = {"[\"map\", [[1]]]", "[\"map\", [1, 2]]",
                              "[\"map\", {}]",    "[\"map\", [[1, 2, 3]]]",
                              "[\"set\", []]",    "{}"};
    for (size_t i = 0; i < ARRAY_SIZE(not_maps); i++) {
        json_t *json = parse__(not_maps[i]);
        pairs = NULL;
        assert_int_equal(json_ovsdb_map_parse(json, &pairs, NULL), -EINVAL);
        assert_null(pairs);
        json_decref(json);
    }
}

static bool
equal__(const char *a, const char *b)
{
    json_t *ja = parse__(a);
    json_t *jb = parse__(b);
    bool eq = json_ovsdb_datum_equal(ja, jb);
    assert_true(eq == json_ovsdb_datum_equal(jb, ja));
    json_decref(ja);
    json_decref(jb);
    return eq;
}

static void
test_ovsdb_datum_equal(void **state)
{
    /* Sets and maps are unordered. */
    assert_true(equal__("[\"set\", [1, 2, 3]]", "[\"set\", [3, 1, 2]]"));
    assert_true(equal__("[\"map\", [[\"a\", 1], [\"b\", 2]]]",
                        "[\"map\", [[\"b\", 2], [\"a\", 1]]]"));
    assert_false(equal__("[\"map\", [[\"a\", 1], [\"b\", 2]]]",
                         "[\"map\", [[\"a\", 2], [\"b\", 1]]]"));
    assert_false(equal__("[\"set\", [1, 2, 3]]", "[\"set\", [1, 2]]"));
    assert_false(equal__("[\"set\", [1, 1, 2]]", "[\"set\", [1, 2, 2]]"));
    assert_true(equal__("[\"set\", [1, 1, 2]]", "[\"set\", [1, 2, 1]]"));
    assert_false(equal__("[\"set\", []]", "[\"map\", []]"));
    assert_true(equal__("[\"set\", []]", "[\"set\", []]"));

    /* A one-element set is its element; a longer one is not. */
    assert_true(equal__("[\"set\", [\"x\"]]", "\"x\""));
    assert_true(
        equal__("[\"set\", [[\"uuid\", \"0123abcd-4567-89ef-0123-456789abcdef\"]]]",
                "[\"uuid\", \"0123ABCD-4567-89ef-0123-456789abcdef\"]"));
    assert_false(equal__("[\"set\", [\"x\", \"x\"]]", "\"x\""));
    assert_false(equal__("[\"set\", []]", "\"\""));

    /* Arrays that are not sets or maps keep their order. */
    assert_false(equal__("[1, 2]", "[2, 1]"));
    assert_true(equal__("[1, 2]", "[1, 2.0]"));

    /* Numbers, strings and literals. */
    assert_true(equal__("1", "1.0"));
    assert_true(equal__("-0.0", "0"));
    assert_false(equal__("1", "1.5"));
    assert_true(equal__("0.1", "0.1"));
    assert_false(equal__("1", "\"1\""));
    assert_false(equal__("true", "false"));
    assert_false(equal__("null", "false"));
    assert_false(equal__("\"a\\\"b\"", "\"a\\\\b\""));
    assert_false(equal__("\"a\"", "\"A\""));

    /* Only ["uuid", ...] values ignore case, not map pairs that look like one. */
    assert_false(
        equal__("[\"map\", [[\"uuid\", \"0123abcd-4567-89ef-0123-456789abcdef\"]]]",
                "[\"map\", [[\"uuid\", \"0123ABCD-4567-89ef-0123-456789abcdef\"]]]"));
    assert_false(equal__("[\"named-uuid\", \"a\"]", "[\"named-uuid\", \"A\"]"));

    /* Objects compare by key, recursively, as in a table dump. */
    assert_true(equal__("{\"rows\": {\"r1\": {\"tags\": [\"set\", [\"b\", \"a\"]],"
                        " \"ext\": [\"map\", [[\"k\", \"v\"], [\"j\", \"w\"]]]}}}",
                        "{\"rows\": {\"r1\": {\"ext\": [\"map\", [[\"j\", \"w\"], [\"k\","
                        " \"v\"]]], \"tags\": [\"set\", [\"a\", \"b\"]]}}}"));
    assert_false(equal__("{\"a\": 1}", "{\"a\": 1, \"b\": 2}"));
    assert_false(equal__("{\"a\": 1}", "{\"b\": 1}"));
    assert_true(equal__("{}", "{}"));

    /* A set of sets of maps, in any order. */
    assert_true(equal__("[\"set\", [[\"map\", [[1, 2], [3, 4]]], [\"map\", [[5, 6]]]]]",
                        "[\"set\", [[\"map\", [[5, 6]]], [\"map\", [[3, 4], [1, 2]]]]]"));

    json_t *x = json_integer(1);
    assert_true(json_ovsdb_datum_equal(NULL, NULL));
    assert_false(json_ovsdb_datum_equal(x, NULL));
    assert_false(json_ovsdb_datum_equal(NULL, x));
    assert_true(json_ovsdb_datum_equal(x, x));
    json_decref(x);
}

static void
test_ovsdb_canonical(void **state)
{
    json_t *json =
        parse__("{\"z\": [\"set\", [3, 1.0, \"a\\n\"]], \"a\": [\"map\", [[\"y\","
                " 2.5], [\"x\", null]]], \"u\": [\"uuid\","
                " \"0123ABCD-4567-89EF-0123-456789ABCDEF\"], \"s\": [\"set\","
                " [false]]}");
    char *s = json_ovsdb_canonical(json);
    assert_string_equal(s, "{\"a\":[\"map\",[[\"x\",null],[\"y\",2.5]]],\"s\":false,"
                           "\"u\":[\"uuid\",\"0123abcd-4567-89ef-0123-456789abcdef\"],"
                           "\"z\":[\"set\",[\"a\\u000a\",1,3]]}");
    free(s);
    json_decref(json);

    s = json_ovsdb_canonical(NULL);
    assert_string_equal(s, "");
    free(s);

    /* Strings with NUL bytes are kept whole. */
    json_t *a = json_stringn("a\0b", 3);
    json_t *b = json_stringn("a\0c", 3);
    assert_false(json_ovsdb_datum_equal(a, b));
    s = json_ovsdb_canonical(a);
    assert_string_equal(s, "\"a\\u0000b\"");
    free(s);
    json_decref(a);
    json_decref(b);

    /* A large set, shuffled, still compares equal. */
    json_t *s1 = json_ovsdb_set(NULL);
    json_t *s2 = json_ovsdb_set(NULL);
    for (int i = 0; i < 5000; i++) {
        char addr[32];
        snprintf(addr, sizeof addr, "10.0.%d.%d", i / 256, i % 256);
        json_ovsdb_set_add(s1, json_string(addr));
        snprintf(addr, sizeof addr, "10.0.%d.%d", (4999 - i) / 256, (4999 - i) % 256);
        json_ovsdb_set_add(s2, json_string(addr));
    }
    assert_true(json_ovsdb_datum_equal(s1, s2));
    json_ovsdb_set_add(s2, json_string("10.0.0.0"));
    assert_false(json_ovsdb_datum_equal(s1, s2));
    json_decref(s1);
    json_decref(s2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_string),
        cmocka_unit_test(test_get_int),
        cmocka_unit_test(test_get_bool_object_array),
        cmocka_unit_test(test_type_name),
        cmocka_unit_test(test_to_string),
        cmocka_unit_test(test_from_buffer),
        cmocka_unit_test(test_framer_stream),
        cmocka_unit_test(test_framer_errors),
        cmocka_unit_test(test_ovsdb_uuid),
        cmocka_unit_test(test_ovsdb_named_uuid),
        cmocka_unit_test(test_ovsdb_set_map),
        cmocka_unit_test(test_ovsdb_datum_equal),
        cmocka_unit_test(test_ovsdb_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
