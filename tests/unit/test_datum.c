/* Unit tests for dpu/ovsdb/datum: parsing, checking, notation, diffs, accessors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/schema.h"

static json_t *
parse_json(const char *text)
{
    json_error_t jerr;
    json_t *json = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!json) {
        fail_msg("bad test JSON '%s': %s", text, jerr.text);
    }
    return json;
}

static void
type_parse(const char *text, struct ovsdb_type *type)
{
    json_t *json = parse_json(text);
    struct ovnic_err err = {0};
    int error = ovsdb_type_from_json(json, type, &err);
    json_decref(json);
    if (error) {
        fail_msg("type %s: %s (%s)", text, err.message, err.detail);
    }
}

/* Parses 'in' as a datum of type 'type_text'; returns the error and, on success,
 * the datum in '*datum'.  Leaves the error in '*err'. */
static int
datum_parse(const char *type_text, const char *in, struct ovsdb_datum *datum,
            struct ovnic_err *err)
{
    struct ovsdb_type type;
    type_parse(type_text, &type);
    json_t *json = parse_json(in);
    int error = ovsdb_datum_from_json(datum, &type, json, err);
    json_decref(json);
    ovsdb_type_destroy(&type);
    return error;
}

static void
assert_json_is(json_t *actual, const char *expected)
{
    json_t *want = parse_json(expected);
    if (!json_equal(actual, want)) {
        char *got = json_dumps(actual, JSON_ENCODE_ANY | JSON_COMPACT);
        char msg[512];
        snprintf(msg, sizeof msg, "got %s, want %s", got ? got : "NULL", expected);
        free(got);
        json_decref(want);
        json_decref(actual);
        fail_msg("%s", msg);
    }
    json_decref(want);
    json_decref(actual);
}

/* Parses 'in' and checks that it prints back as 'out' (compact JSON text). */
static void
check_round_trip(const char *type_text, const char *in, const char *out)
{
    struct ovsdb_datum datum;
    struct ovnic_err err = {0};
    int error = datum_parse(type_text, in, &datum, &err);
    if (error) {
        fail_msg("%s as %s: %s (%s)", in, type_text, err.message, err.detail);
    }
    json_t *json = ovsdb_datum_to_json(&datum);
    assert_non_null(json);
    char *text = json_dumps(json, JSON_ENCODE_ANY | JSON_COMPACT);
    assert_non_null(text);
    if (strcmp(text, out)) {
        fail_msg("%s as %s printed %s, want %s", in, type_text, text, out);
    }
    free(text);

    /* And the printed form parses back to an equal datum. */
    struct ovsdb_type type;
    struct ovsdb_datum again;
    type_parse(type_text, &type);
    assert_int_equal(ovsdb_datum_from_json(&again, &type, json, NULL), 0);
    assert_true(ovsdb_datum_equals(&datum, &again));
    assert_int_equal(ovsdb_datum_hash(&datum, 7), ovsdb_datum_hash(&again, 7));
    assert_int_equal(ovsdb_datum_check(&again, &type, NULL), 0);
    ovsdb_datum_destroy(&again);
    ovsdb_type_destroy(&type);
    json_decref(json);
    ovsdb_datum_destroy(&datum);
}

/* Checks that 'in' is rejected as a datum of 'type_text' with -EINVAL and a message
 * containing 'message'. */
static void
check_reject(const char *type_text, const char *in, const char *message)
{
    struct ovsdb_datum datum;
    struct ovnic_err err = {0};
    memset(&datum, 0xa5, sizeof datum);
    struct ovsdb_datum before = datum;
    int error = datum_parse(type_text, in, &datum, &err);
    if (error != -EINVAL) {
        if (!error) {
            ovsdb_datum_destroy(&datum);
        }
        fail_msg("%s as %s: got %d, want -EINVAL", in, type_text, error);
    }
    assert_memory_equal(&datum, &before, sizeof datum); /* Untouched on failure. */
    if (!err.message || !strstr(err.message, message)) {
        fail_msg("%s as %s: message '%s', want '%s'", in, type_text,
                 err.message ? err.message : "(none)", message);
    }
}

static void
test_scalars(void **state)
{
    (void)state;
    check_round_trip("\"integer\"", "42", "42");
    check_round_trip("\"integer\"", "-9223372036854775808", "-9223372036854775808");
    check_round_trip("\"real\"", "1.5", "1.5");
    check_round_trip("\"real\"", "2.0", "2"); /* As ovsdb-server writes it. */
    check_round_trip("\"real\"", "7", "7");   /* Integers are reals too. */
    check_round_trip("\"real\"", "-0.0", "0");
    check_round_trip("\"boolean\"", "true", "true");
    check_round_trip("\"boolean\"", "false", "false");
    check_round_trip("\"string\"", "\"h\\u00e9llo\"", "\"h\xc3\xa9llo\"");
    check_round_trip("\"string\"", "\"\"", "\"\"");
    check_round_trip("\"uuid\"", "[\"uuid\", \"2BB629B1-ccbe-4cf9-b80b-8832518e095a\"]",
                     "[\"uuid\",\"2bb629b1-ccbe-4cf9-b80b-8832518e095a\"]");
    /* A scalar may also be written as a one-element set. */
    check_round_trip("\"integer\"", "[\"set\", [3]]", "3");
}

static void
test_sets(void **state)
{
    (void)state;
    const char *ints = "{\"key\": \"integer\", \"min\": 0, \"max\": \"unlimited\"}";
    check_round_trip(ints, "[\"set\", [3, 1, 2]]", "[\"set\",[1,2,3]]");
    check_round_trip(ints, "[\"set\", []]", "[\"set\",[]]");
    check_round_trip(ints, "[\"set\", [5]]", "5"); /* One element: the bare atom. */
    check_round_trip(ints, "5", "5");

    const char *opt = "{\"key\": \"string\", \"min\": 0}";
    check_round_trip(opt, "[\"set\", []]", "[\"set\",[]]");
    check_round_trip(opt, "\"x\"", "\"x\"");

    const char *strs = "{\"key\": \"string\", \"min\": 0, \"max\": \"unlimited\"}";
    check_round_trip(strs, "[\"set\", [\"b\", \"B\", \"a\", \"\"]]",
                     "[\"set\",[\"\",\"B\",\"a\",\"b\"]]");

    /* uuids sort by their text form, as ovsdb-server prints them. */
    const char *uuids = "{\"key\": \"uuid\", \"min\": 0, \"max\": \"unlimited\"}";
    check_round_trip(uuids,
                     "[\"set\", [[\"uuid\", \"ff4f5daf-9050-44a4-867d-8edd2ae554d9\"],"
                     " [\"uuid\", \"2bb629b1-ccbe-4cf9-b80b-8832518e095a\"],"
                     " [\"uuid\", \"2bb629b1-ccbe-4cf9-b80b-8832518e0959\"]]]",
                     "[\"set\",[[\"uuid\",\"2bb629b1-ccbe-4cf9-b80b-8832518e0959\"],"
                     "[\"uuid\",\"2bb629b1-ccbe-4cf9-b80b-8832518e095a\"],"
                     "[\"uuid\",\"ff4f5daf-9050-44a4-867d-8edd2ae554d9\"]]]");

    const char *bools = "{\"key\": \"boolean\", \"min\": 0, \"max\": 2}";
    check_round_trip(bools, "[\"set\", [true, false]]", "[\"set\",[false,true]]");
}

static void
test_maps(void **state)
{
    (void)state;
    const char *ss = "{\"key\": \"string\", \"value\": \"string\", \"min\": 0, "
                     "\"max\": \"unlimited\"}";
    check_round_trip(ss, "[\"map\", [[\"b\", \"2\"], [\"a\", \"1\"]]]",
                     "[\"map\",[[\"a\",\"1\"],[\"b\",\"2\"]]]");
    check_round_trip(ss, "[\"map\", []]", "[\"map\",[]]");
    /* A map of one pair stays a map. */
    check_round_trip(ss, "[\"map\", [[\"k\", \"v\"]]]", "[\"map\",[[\"k\",\"v\"]]]");
    /* Duplicate values are fine; duplicate keys are not. */
    check_round_trip(ss, "[\"map\", [[\"x\", \"v\"], [\"y\", \"v\"]]]",
                     "[\"map\",[[\"x\",\"v\"],[\"y\",\"v\"]]]");

    const char *ir = "{\"key\": \"integer\", \"value\": \"real\", \"min\": 0, "
                     "\"max\": \"unlimited\"}";
    check_round_trip(ir, "[\"map\", [[2, 1.0], [1, 2.5]]]", "[\"map\",[[1,2.5],[2,1]]]");

    const char *su =
        "{\"key\": \"string\", \"value\": {\"type\": \"uuid\", \"refTable\": "
        "\"T\", \"refType\": \"weak\"}, \"min\": 0, \"max\": \"unlimited\"}";
    check_round_trip(
        su,
        "[\"map\", [[\"p\", [\"uuid\", "
        "\"c8445d1e-5649-4d5c-ab1d-f61ef4916737\"]]]]",
        "[\"map\",[[\"p\",[\"uuid\",\"c8445d1e-5649-4d5c-ab1d-f61ef4916737\"]]]]");
}

/* Cell values exactly as ovsdb-server 3.1 wrote them (captured from a real
 * "ovsdb-client dump -f json" and "monitor_cond" replies), fed through the parser and
 * printed back: the text must not change. */
static void
test_server_notation(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        const char *text;
    } cases[] = {
        {"{\"key\":\"real\",\"min\":0,\"max\":\"unlimited\"}",
         "[\"set\",[0,3.5e-07,0.1,2,1e+300]]"},
        {"{\"key\":\"integer\",\"value\":\"real\",\"min\":0,\"max\":\"unlimited\"}",
         "[\"map\",[[1,2.5],[2,1]]]"},
        {"\"real\"", "1"},
        {"{\"key\":{\"type\":\"uuid\",\"refTable\":\"Encap\"},\"min\":1,"
         "\"max\":\"unlimited\"}",
         "[\"uuid\",\"ff4f5daf-9050-44a4-867d-8edd2ae554d9\"]"},
        {"{\"key\":\"string\",\"value\":\"string\",\"min\":0,\"max\":\"unlimited\"}",
         "[\"map\",[]]"},
        {"{\"key\":\"string\",\"value\":\"string\",\"min\":0,\"max\":\"unlimited\"}",
         "[\"map\",[[\"a\",\"z\"],[\"e\",\"f\"]]]"},
        {"{\"key\":\"string\",\"min\":0,\"max\":\"unlimited\"}",
         "[\"set\",[\"tz2\",\"tz3\"]]"},
        {"{\"key\":\"string\",\"min\":0,\"max\":\"unlimited\"}", "[\"set\",[]]"},
        {"{\"key\":\"string\",\"min\":0,\"max\":\"unlimited\"}", "\"tz1\""},
        {"{\"key\":{\"type\":\"uuid\",\"refTable\":\"Chassis\",\"refType\":\"weak\"},"
         "\"min\":0}",
         "[\"set\",[]]"},
        {"{\"key\":{\"enum\":[\"set\",[\"clustered\",\"relay\",\"standalone\"]],"
         "\"type\":\"string\"}}",
         "\"standalone\""},
        {"\"integer\"", "0"},
        {"\"boolean\"", "true"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ovsdb_datum datum;
        struct ovnic_err err = {0};
        if (datum_parse(cases[i].type, cases[i].text, &datum, &err)) {
            fail_msg("%s: %s (%s)", cases[i].text, err.message, err.detail);
        }
        /* Same JSON values of the same JSON types (integer vs real) in the same
         * order: compare both as printed by one printer. */
        size_t flags = JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15);
        json_t *json = ovsdb_datum_to_json(&datum);
        json_t *server = parse_json(cases[i].text);
        char *text = json_dumps(json, flags);
        char *want = json_dumps(server, flags);
        assert_string_equal(text, want);
        free(text);
        free(want);
        json_decref(server);
        json_decref(json);
        ovsdb_datum_destroy(&datum);
    }
}

static void
test_constraints(void **state)
{
    (void)state;
    const char *tk = "{\"key\": {\"type\": \"integer\", \"minInteger\": 0, "
                     "\"maxInteger\": 32}}";
    check_round_trip(tk, "0", "0");
    check_round_trip(tk, "32", "32");
    check_reject(tk, "33", "integer out of range");
    check_reject(tk, "-1", "integer out of range");
    check_reject(tk, "1.5", "expected an integer");
    check_reject(tk, "\"1\"", "expected an integer");

    const char *rk = "{\"key\": {\"type\": \"real\", \"minReal\": -1.5, \"maxReal\": 2}}";
    check_round_trip(rk, "-1.5", "-1.5");
    check_reject(rk, "2.0001", "real out of range");
    check_reject(rk, "true", "expected a real");

    const char *sk = "{\"key\": {\"type\": \"string\", \"minLength\": 1, "
                     "\"maxLength\": 3}}";
    check_round_trip(sk, "\"abc\"", "\"abc\"");
    check_round_trip(sk, "\"\\u00e9\\u00e9\\u00e9\"", "\"\xc3\xa9\xc3\xa9\xc3\xa9\"");
    check_reject(sk, "\"\"", "string length out of range");
    check_reject(sk, "\"abcd\"", "string length out of range");
    check_reject(sk, "\"a\\u0000b\"", "NUL");
    check_reject(sk, "5", "expected a string");

    const char *ek = "{\"key\": {\"type\": \"string\", \"enum\": [\"set\", [\"geneve\", "
                     "\"stt\", \"vxlan\"]]}}";
    check_round_trip(ek, "\"vxlan\"", "\"vxlan\"");
    check_reject(ek, "\"gre\"", "value not in enum");
    const char *ek1 = "{\"key\": {\"type\": \"string\", \"enum\": \"drop\"}}";
    check_round_trip(ek1, "\"drop\"", "\"drop\"");
    check_reject(ek1, "\"pass\"", "value not in enum");
    const char *eki = "{\"key\": {\"type\": \"integer\", \"enum\": [\"set\", [1, 3]]}, "
                      "\"min\": 0, \"max\": \"unlimited\"}";
    check_round_trip(eki, "[\"set\", [3, 1]]", "[\"set\",[1,3]]");
    check_reject(eki, "[\"set\", [1, 2]]", "value not in enum");

    check_reject("\"boolean\"", "0", "expected a boolean");

    const char *uk = "\"uuid\"";
    check_reject(uk, "\"2bb629b1-ccbe-4cf9-b80b-8832518e095a\"", "expected [\"uuid\"");
    check_reject(uk, "[\"uuid\", \"2bb629b1-ccbe-4cf9-b80b-8832518e095\"]",
                 "malformed uuid");
    check_reject(uk, "[\"uuid\", \"2bb629b1-ccbe-4cf9-b80b-8832518e095aa\"]",
                 "malformed uuid");
    check_reject(uk, "[\"uuid\", \"2bb629b1+ccbe-4cf9-b80b-8832518e095a\"]",
                 "malformed uuid");
    check_reject(uk, "[\"uuid\", \"2bb629b1-ccbe-4cf9-b80b-8832518e095g\"]",
                 "malformed uuid");
    check_reject(uk, "[\"named-uuid\", \"row1\"]", "named-uuid");
    check_reject(uk, "[\"uuid\", 5]", "expected [\"uuid\"");
    check_reject(uk, "[\"uuid\", \"2bb629b1-ccbe-4cf9-b80b-8832518e095a\", 1]",
                 "expected [\"uuid\"");

    /* Element counts. */
    check_reject("\"integer\"", "[\"set\", []]", "wrong number of elements");
    check_reject("\"integer\"", "[\"set\", [1, 2]]", "wrong number of elements");
    check_reject("{\"key\": \"integer\", \"min\": 1, \"max\": 2}", "[\"set\", [1, 2, 3]]",
                 "wrong number of elements");
    check_reject("{\"key\": \"integer\", \"min\": 1, \"max\": \"unlimited\"}",
                 "[\"set\", []]", "wrong number of elements");

    /* Duplicates. */
    const char *ints = "{\"key\": \"integer\", \"min\": 0, \"max\": \"unlimited\"}";
    check_reject(ints, "[\"set\", [1, 2, 1]]", "set contains a duplicate element");
    const char *reals = "{\"key\": \"real\", \"min\": 0, \"max\": \"unlimited\"}";
    check_reject(reals, "[\"set\", [0.0, -0.0]]", "duplicate");
    const char *ss = "{\"key\": \"string\", \"value\": \"string\", \"min\": 0, "
                     "\"max\": \"unlimited\"}";
    check_reject(ss, "[\"map\", [[\"a\", \"1\"], [\"a\", \"1\"]]]",
                 "map contains a duplicate key");
    check_reject(ss, "[\"map\", [[\"a\", \"1\"], [\"a\", \"2\"]]]",
                 "map contains a duplicate key");

    /* Notation. */
    check_reject(ss, "[\"set\", []]", "expected [\"map\"");
    check_reject(ss, "\"a\"", "expected [\"map\"");
    check_reject(ss, "[\"map\", [[\"a\"]]]", "pair");
    check_reject(ss, "[\"map\", [[\"a\", \"b\", \"c\"]]]", "pair");
    check_reject(ss, "[\"map\", {\"a\": \"b\"}]", "expected [\"map\"");
    check_reject(ss, "[\"map\", [[\"a\", 1]]]", "expected a string");
    check_reject(ints, "[\"set\", 1]", "expected [\"set\"");
    check_reject(ints, "[\"set\", [[\"set\", [1]]]]", "expected an integer");
    check_reject(ints, "null", "expected an integer");
    check_reject(ints, "{}", "expected an integer");
}

static void
test_invalid_utf8(void **state)
{
    (void)state;
    struct ovsdb_type type;
    type_parse("\"string\"", &type);
    static const char *const bad[] = {
        "\xff",  "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
        "a\xc3", "\xe2\x82",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *json = json_string_nocheck(bad[i]);
        struct ovsdb_datum datum;
        struct ovnic_err err = {0};
        assert_int_equal(ovsdb_datum_from_json(&datum, &type, json, &err), -EINVAL);
        assert_non_null(strstr(err.message, "UTF-8"));
        json_decref(json);
    }
    json_t *json = json_string_nocheck("\xf0\x9f\x98\x80"); /* U+1F600 is fine. */
    struct ovsdb_datum datum;
    assert_int_equal(ovsdb_datum_from_json(&datum, &type, json, NULL), 0);
    ovsdb_datum_destroy(&datum);
    json_decref(json);
    ovsdb_type_destroy(&type);
}

/* Applies the update2 "modify" value 'diff' to 'old' and checks the result. */
static void
check_diff(const char *type_text, const char *old_text, const char *diff_text,
           const char *want)
{
    struct ovsdb_type type;
    struct ovsdb_datum old, result;
    struct ovnic_err err = {0};

    type_parse(type_text, &type);
    json_t *json = parse_json(old_text);
    assert_int_equal(ovsdb_datum_from_json(&old, &type, json, NULL), 0);
    json_decref(json);
    json = parse_json(diff_text);
    int error = ovsdb_datum_apply_diff_json(&result, &old, &type, json, &err);
    json_decref(json);
    if (!want) {
        assert_int_equal(error, -EINVAL);
        assert_non_null(err.message);
    } else {
        if (error) {
            fail_msg("diff %s on %s: %s (%s)", diff_text, old_text, err.message,
                     err.detail);
        }
        assert_json_is(ovsdb_datum_to_json(&result), want);
        assert_int_equal(ovsdb_datum_check(&result, &type, NULL), 0);
        ovsdb_datum_destroy(&result);
    }
    ovsdb_datum_destroy(&old);
    ovsdb_type_destroy(&type);
}

static void
test_diff(void **state)
{
    (void)state;
    const char *strs = "{\"key\": \"string\", \"min\": 0, \"max\": \"unlimited\"}";
    /* Captured from ovsdb-server: transport_zones tz1 -> {tz2, tz3}. */
    check_diff(strs, "\"tz1\"", "[\"set\", [\"tz1\", \"tz2\", \"tz3\"]]",
               "[\"set\", [\"tz2\", \"tz3\"]]");
    check_diff(strs, "[\"set\", []]", "\"a\"", "\"a\"");
    check_diff(strs, "\"a\"", "\"a\"", "[\"set\", []]");
    check_diff(strs, "[\"set\", [\"a\", \"c\"]]", "[\"set\", []]",
               "[\"set\", [\"a\", \"c\"]]");

    const char *ss = "{\"key\": \"string\", \"value\": \"string\", \"min\": 0, "
                     "\"max\": \"unlimited\"}";
    /* Captured: other_config {a=b, c=d} -> {a=z, e=f}. */
    check_diff(ss, "[\"map\", [[\"a\", \"b\"], [\"c\", \"d\"]]]",
               "[\"map\", [[\"a\", \"z\"], [\"c\", \"d\"], [\"e\", \"f\"]]]",
               "[\"map\", [[\"a\", \"z\"], [\"e\", \"f\"]]]");
    check_diff(ss, "[\"map\", []]", "[\"map\", [[\"k\", \"v\"]]]",
               "[\"map\", [[\"k\", \"v\"]]]");
    check_diff(ss, "[\"map\", [[\"k\", \"v\"]]]", "[\"map\", [[\"k\", \"v\"]]]",
               "[\"map\", []]");
    /* A diff is not a full value: a map diff must still be a map. */
    check_diff(ss, "[\"map\", []]", "[\"set\", []]", NULL);
    check_diff(ss, "[\"map\", []]", "[\"map\", [[\"k\", \"v\"], [\"k\", \"w\"]]]", NULL);

    /* Columns with at most one element take the new value. */
    const char *opt = "{\"key\": {\"type\": \"uuid\", \"refTable\": \"Chassis\", "
                      "\"refType\": \"weak\"}, \"min\": 0}";
    check_diff(opt, "[\"uuid\", \"2bb629b1-ccbe-4cf9-b80b-8832518e095a\"]",
               "[\"uuid\", \"679d09cb-528b-4c6b-bc92-33f29a3059d8\"]",
               "[\"uuid\", \"679d09cb-528b-4c6b-bc92-33f29a3059d8\"]");
    check_diff(opt, "[\"uuid\", \"2bb629b1-ccbe-4cf9-b80b-8832518e095a\"]",
               "[\"set\", []]", "[\"set\", []]");
    check_diff("\"integer\"", "5", "6", "6");
    check_diff("{\"key\": {\"type\": \"integer\", \"maxInteger\": 10}}", "5", "11", NULL);

    /* The result must fit the column. */
    const char *bounded = "{\"key\": \"integer\", \"min\": 1, \"max\": 2}";
    check_diff(bounded, "1", "1", NULL);
    check_diff(bounded, "[\"set\", [1, 2]]", "3", NULL);
    check_diff(bounded, "[\"set\", [1, 2]]", "[\"set\", [2, 3]]", "[\"set\", [1, 3]]");
    /* Diff elements are checked against the column's constraints. */
    check_diff("{\"key\": {\"type\": \"string\", \"enum\": [\"set\", [\"x\", \"y\"]]}, "
               "\"min\": 0, \"max\": 2}",
               "\"x\"", "\"z\"", NULL);
}

static void
test_parsed_diff(void **state)
{
    (void)state;
    struct ovsdb_type type, itype;
    struct ovsdb_datum old, diff, result, other;

    type_parse("{\"key\": \"integer\", \"min\": 0, \"max\": \"unlimited\"}", &type);
    json_t *json = parse_json("[\"set\", [1, 2, 3]]");
    assert_int_equal(ovsdb_datum_from_json(&old, &type, json, NULL), 0);
    json_decref(json);
    json = parse_json("[\"set\", [0, 2, 4]]");
    assert_int_equal(ovsdb_datum_from_json(&diff, &type, json, NULL), 0);
    json_decref(json);
    assert_int_equal(ovsdb_datum_apply_diff(&result, &old, &diff, &type, NULL), 0);
    assert_json_is(ovsdb_datum_to_json(&result), "[\"set\", [0, 1, 3, 4]]");

    /* Mismatched types are refused. */
    type_parse("{\"key\": \"string\", \"min\": 0, \"max\": \"unlimited\"}", &itype);
    json = parse_json("\"a\"");
    assert_int_equal(ovsdb_datum_from_json(&other, &itype, json, NULL), 0);
    json_decref(json);
    assert_int_equal(ovsdb_datum_apply_diff(&result, &old, &other, &type, NULL), -EINVAL);
    assert_int_not_equal(ovsdb_datum_compare(&old, &other), 0);
    assert_false(ovsdb_datum_equals(&old, &other));
    assert_int_equal(ovsdb_datum_check(&other, &type, NULL), -EINVAL);

    ovsdb_datum_destroy(&result);
    ovsdb_datum_destroy(&other);
    ovsdb_datum_destroy(&old);
    ovsdb_datum_destroy(&diff);
    ovsdb_type_destroy(&type);
    ovsdb_type_destroy(&itype);
}

static void
test_compare_clone(void **state)
{
    (void)state;
    const char *ss = "{\"key\": \"string\", \"value\": \"string\", \"min\": 0, "
                     "\"max\": \"unlimited\"}";
    struct ovsdb_datum a, b, c, d;
    assert_int_equal(
        datum_parse(ss, "[\"map\", [[\"a\", \"1\"], [\"b\", \"2\"]]]", &a, NULL), 0);
    assert_int_equal(
        datum_parse(ss, "[\"map\", [[\"b\", \"2\"], [\"a\", \"1\"]]]", &b, NULL), 0);
    assert_int_equal(
        datum_parse(ss, "[\"map\", [[\"a\", \"1\"], [\"b\", \"3\"]]]", &c, NULL), 0);
    assert_true(ovsdb_datum_equals(&a, &b));
    assert_int_equal(ovsdb_datum_compare(&a, &b), 0);
    assert_int_equal(ovsdb_datum_hash(&a, 0), ovsdb_datum_hash(&b, 0));
    assert_false(ovsdb_datum_equals(&a, &c));
    assert_true(ovsdb_datum_compare(&a, &c) < 0);
    assert_true(ovsdb_datum_compare(&c, &a) > 0);

    assert_int_equal(ovsdb_datum_clone(&d, &c), 0);
    assert_true(ovsdb_datum_equals(&d, &c));
    assert_ptr_not_equal(d.keys[0].string, c.keys[0].string);
    ovsdb_datum_swap(&a, &d);
    assert_true(ovsdb_datum_equals(&a, &c));
    assert_true(ovsdb_datum_equals(&d, &b));

    /* A shorter prefix sorts first. */
    struct ovsdb_datum e;
    assert_int_equal(datum_parse(ss, "[\"map\", [[\"a\", \"1\"]]]", &e, NULL), 0);
    assert_true(ovsdb_datum_compare(&e, &b) < 0);

    ovsdb_datum_destroy(&a);
    ovsdb_datum_destroy(&b);
    ovsdb_datum_destroy(&c);
    ovsdb_datum_destroy(&d);
    ovsdb_datum_destroy(&e);
    ovsdb_datum_destroy(NULL);
}

static void
test_defaults(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        const char *want;
    } cases[] = {
        {"\"integer\"", "0"},
        {"\"real\"", "0"},
        {"\"boolean\"", "false"},
        {"\"string\"", "\"\""},
        {"\"uuid\"", "[\"uuid\", \"00000000-0000-0000-0000-000000000000\"]"},
        {"{\"key\": \"string\", \"min\": 0}", "[\"set\", []]"},
        {"{\"key\": \"string\", \"value\": \"integer\", \"min\": 0, \"max\": 5}",
         "[\"map\", []]"},
        {"{\"key\": \"string\", \"value\": \"integer\"}", "[\"map\", [[\"\", 0]]]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ovsdb_type type;
        struct ovsdb_datum datum;
        type_parse(cases[i].type, &type);
        assert_int_equal(ovsdb_datum_init_default(&datum, &type), 0);
        assert_json_is(ovsdb_datum_to_json(&datum), cases[i].want);
        ovsdb_datum_destroy(&datum);
        ovsdb_datum_init_empty(&datum, &type);
        assert_true(ovsdb_datum_is_empty(&datum));
        assert_int_equal(datum.key_type, type.key.type);
        ovsdb_datum_destroy(&datum);
        ovsdb_type_destroy(&type);
    }
}

static void
test_accessors(void **state)
{
    (void)state;
    struct ovsdb_datum s, i, r, b, u, m, mi, empty, set;

    assert_int_equal(datum_parse("\"string\"", "\"ch1\"", &s, NULL), 0);
    assert_int_equal(datum_parse("\"integer\"", "-7", &i, NULL), 0);
    assert_int_equal(datum_parse("\"real\"", "2.5", &r, NULL), 0);
    assert_int_equal(datum_parse("\"boolean\"", "true", &b, NULL), 0);
    assert_int_equal(datum_parse("\"uuid\"",
                                 "[\"uuid\", \"2bb629b1-ccbe-4cf9-b80b-8832518e095a\"]",
                                 &u, NULL),
                     0);
    assert_int_equal(
        datum_parse("{\"key\": \"string\", \"value\": \"string\", \"min\": 0, "
                    "\"max\": \"unlimited\"}",
                    "[\"map\", [[\"csum\", \"true\"], [\"dst_port\", "
                    "\"6081\"]]]",
                    &m, NULL),
        0);
    assert_int_equal(
        datum_parse("{\"key\": \"string\", \"value\": \"integer\", \"min\": 0, "
                    "\"max\": \"unlimited\"}",
                    "[\"map\", [[\"n\", 5]]]", &mi, NULL),
        0);
    assert_int_equal(
        datum_parse("{\"key\": \"string\", \"min\": 0}", "[\"set\", []]", &empty, NULL),
        0);
    assert_int_equal(datum_parse("{\"key\": \"string\", \"min\": 0, \"max\": "
                                 "\"unlimited\"}",
                                 "[\"set\", [\"a\", \"c\", \"b\"]]", &set, NULL),
                     0);

    assert_string_equal(ovsdb_datum_get_string(&s, NULL), "ch1");
    assert_null(ovsdb_datum_get_string(&i, NULL));
    assert_string_equal(ovsdb_datum_get_string(&empty, "dflt"), "dflt");
    assert_string_equal(ovsdb_datum_get_string(NULL, "dflt"), "dflt");
    assert_int_equal(ovsdb_datum_get_int(&i, 0), -7);
    assert_int_equal(ovsdb_datum_get_int(&s, 99), 99);
    assert_true(ovsdb_datum_get_real(&r, 0) == 2.5);
    assert_true(ovsdb_datum_get_real(&i, 0) == -7.0);
    assert_true(ovsdb_datum_get_real(&s, 1.25) == 1.25);
    assert_true(ovsdb_datum_get_bool(&b, false));
    assert_false(ovsdb_datum_get_bool(&empty, false));
    assert_true(ovsdb_datum_get_bool(&i, true));
    struct uuid want;
    assert_int_equal(uuid_from_string("2bb629b1-ccbe-4cf9-b80b-8832518e095a", &want), 0);
    assert_true(uuid_equals(ovsdb_datum_get_uuid(&u), &want));
    assert_null(ovsdb_datum_get_uuid(&s));
    assert_true(ovsdb_datum_contains_uuid(&u, &want));
    assert_false(ovsdb_datum_contains_uuid(&s, &want));

    assert_string_equal(ovsdb_datum_map_get_string(&m, "dst_port", NULL), "6081");
    assert_string_equal(ovsdb_datum_map_get_string(&m, "csum", NULL), "true");
    assert_null(ovsdb_datum_map_get_string(&m, "nope", NULL));
    assert_string_equal(ovsdb_datum_map_get_string(&m, "nope", "d"), "d");
    assert_null(ovsdb_datum_map_get_string(&s, "ch1", NULL)); /* Not a map. */
    assert_null(ovsdb_datum_map_get_string(&mi, "n", NULL));  /* Not string values. */
    assert_int_equal(ovsdb_datum_map_get_int(&mi, "n", 0), 5);
    assert_int_equal(ovsdb_datum_map_get_int(&mi, "x", -1), -1);
    assert_non_null(ovsdb_datum_map_get(&mi, "n"));
    assert_true(ovsdb_datum_is_map(&m));
    assert_false(ovsdb_datum_is_map(&set));

    assert_true(ovsdb_datum_contains_string(&set, "b"));
    assert_false(ovsdb_datum_contains_string(&set, "d"));
    assert_false(ovsdb_datum_contains_string(&empty, "a"));
    assert_true(ovsdb_datum_contains_string(&m, "csum"));
    union ovsdb_atom key = {.string = (char *)"c"};
    assert_int_equal(ovsdb_datum_find_key(&set, &key), 2);

    struct ovsdb_datum *all[] = {&s, &i, &r, &b, &u, &m, &mi, &empty, &set};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        ovsdb_datum_destroy(all[k]);
    }
}

static void
test_atoms(void **state)
{
    (void)state;
    enum ovsdb_atomic_type t;
    assert_int_equal(ovsdb_atomic_type_from_string("uuid", &t), 0);
    assert_int_equal(t, OVSDB_TYPE_UUID);
    assert_int_equal(ovsdb_atomic_type_from_string("void", &t), -EINVAL);
    assert_int_equal(ovsdb_atomic_type_from_string("int", &t), -EINVAL);
    assert_string_equal(ovsdb_atomic_type_to_string(OVSDB_TYPE_REAL), "real");

    struct ovsdb_base_type base;
    memset(&base, 0, sizeof base);
    base.type = OVSDB_TYPE_STRING;
    base.max_length = 2;
    union ovsdb_atom atom;
    json_t *json = json_string("ab");
    assert_int_equal(ovsdb_atom_from_json(&atom, &base, json, NULL), 0);
    union ovsdb_atom copy;
    assert_int_equal(ovsdb_atom_clone(&copy, &atom, OVSDB_TYPE_STRING), 0);
    assert_true(ovsdb_atom_equals(&atom, &copy, OVSDB_TYPE_STRING));
    assert_int_equal(ovsdb_atom_hash(&atom, OVSDB_TYPE_STRING, 3),
                     ovsdb_atom_hash(&copy, OVSDB_TYPE_STRING, 3));
    ovsdb_atom_destroy(&copy, OVSDB_TYPE_STRING);
    ovsdb_atom_destroy(&atom, OVSDB_TYPE_STRING);
    json_decref(json);
    json = json_string("abc");
    struct ovnic_err err = {0};
    assert_int_equal(ovsdb_atom_from_json(&atom, &base, json, &err), -EINVAL);
    assert_string_equal(err.message, "string length out of range");
    json_decref(json);

    union ovsdb_atom r1 = {.real = 0.0}, r2 = {.real = -0.0};
    assert_true(ovsdb_atom_equals(&r1, &r2, OVSDB_TYPE_REAL));
    assert_int_equal(ovsdb_atom_hash(&r1, OVSDB_TYPE_REAL, 0),
                     ovsdb_atom_hash(&r2, OVSDB_TYPE_REAL, 0));
    union ovsdb_atom big = {.real = 1e300};
    json = ovsdb_atom_to_json(&big, OVSDB_TYPE_REAL);
    assert_true(json_is_real(json));
    json_decref(json);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),       cmocka_unit_test(test_sets),
        cmocka_unit_test(test_maps),          cmocka_unit_test(test_server_notation),
        cmocka_unit_test(test_constraints),   cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_diff),          cmocka_unit_test(test_parsed_diff),
        cmocka_unit_test(test_compare_clone), cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_accessors),     cmocka_unit_test(test_atoms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
