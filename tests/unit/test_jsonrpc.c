/* Unit tests for shared/util/jsonrpc: framer, messages, connection. */
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

#include "shared/util/jsonrpc.h"
#include "shared/util/poll.h"
#include "shared/util/stream.h"
#include "shared/util/util.h"

/* Feeds 'text' to a fresh framer in chunks of 'chunk' bytes and collects the values
 * into a JSON array.  Returns the framer's first error, or 0. */
static int
frame_all(const char *text, size_t len, size_t chunk, size_t max_size, json_t **values)
{
    struct jsonrpc_framer f;
    jsonrpc_framer_init(&f, max_size);
    json_t *array = json_array();
    int error = 0;
    for (size_t ofs = 0; ofs < len && !error;) {
        size_t n = MIN(chunk, len - ofs);
        size_t used = 0;
        while (used < n) {
            size_t consumed = 0;
            json_t *value = NULL;
            error = jsonrpc_framer_feed(&f, text + ofs + used, n - used, &consumed,
                                        &value, NULL);
            if (error) {
                break;
            }
            assert_true(consumed > 0 || n - used == 0);
            used += consumed;
            if (value) {
                json_array_append_new(array, value);
            } else {
                assert_int_equal(used, n);
            }
        }
        ofs += n;
    }
    jsonrpc_framer_destroy(&f);
    *values = array;
    return error;
}

static void
expect_values(const char *text, size_t chunk, const char *expected)
{
    json_t *values;
    assert_int_equal(frame_all(text, strlen(text), chunk, 0, &values), 0);
    json_t *want = json_loads(expected, 0, NULL);
    assert_non_null(want);
    if (!json_equal(values, want)) {
        char *got = json_dumps(values, JSON_COMPACT);
        fail_msg("chunk %zu: got %s, want %s", chunk, got, expected);
    }
    json_decref(want);
    json_decref(values);
}

static void
test_framer_single(void **state)
{
    (void)state;
    expect_values("{\"a\":1}", 1024, "[{\"a\":1}]");
}

static void
test_framer_several_per_chunk(void **state)
{
    (void)state;
    const char *text = "{\"a\":1}{\"b\":[2,{\"c\":3}]} \n\t{\"d\":{}}\r\n";
    const char *want = "[{\"a\":1},{\"b\":[2,{\"c\":3}]},{\"d\":{}}]";
    for (size_t chunk = 1; chunk <= strlen(text) + 1; chunk++) {
        expect_values(text, chunk, want);
    }
}

static void
test_framer_strings_with_brackets(void **state)
{
    (void)state;
    /* Braces, brackets and escaped quotes inside strings must not end the value. */
    const char *text =
        "{\"s\":\"}{][\",\"q\":\"a\\\"}\",\"b\":\"\\\\\",\"u\":\"\\u007d\"}"
        "{\"next\":\"\\\\\\\"]\"}";
    const char *want = "[{\"s\":\"}{][\",\"q\":\"a\\\"}\",\"b\":\"\\\\\",\"u\":\"}\"},"
                       "{\"next\":\"\\\\\\\"]\"}]";
    for (size_t chunk = 1; chunk <= strlen(text); chunk++) {
        expect_values(text, chunk, want);
    }
}

static void
test_framer_partial(void **state)
{
    (void)state;
    struct jsonrpc_framer f;
    jsonrpc_framer_init(&f, 0);
    const char *part1 = "{\"method\":\"echo\",\"par";
    const char *part2 = "ams\":[],\"id\":7}{\"x\"";
    size_t consumed;
    json_t *value = (json_t *)1;

    assert_int_equal(
        jsonrpc_framer_feed(&f, part1, strlen(part1), &consumed, &value, NULL), 0);
    assert_int_equal(consumed, strlen(part1));
    assert_null(value);
    assert_true(jsonrpc_framer_is_partial(&f));

    assert_int_equal(
        jsonrpc_framer_feed(&f, part2, strlen(part2), &consumed, &value, NULL), 0);
    assert_int_equal(consumed, strlen("ams\":[],\"id\":7}"));
    assert_non_null(value);
    assert_int_equal(json_integer_value(json_object_get(value, "id")), 7);
    json_decref(value);
    assert_false(jsonrpc_framer_is_partial(&f));

    const char *rest = part2 + consumed;
    assert_int_equal(jsonrpc_framer_feed(&f, rest, strlen(rest), &consumed, &value, NULL),
                     0);
    assert_null(value);
    assert_true(jsonrpc_framer_is_partial(&f));

    jsonrpc_framer_reset(&f);
    assert_false(jsonrpc_framer_is_partial(&f));
    jsonrpc_framer_destroy(&f);
    jsonrpc_framer_destroy(NULL);
}

static void
test_framer_whitespace_only(void **state)
{
    (void)state;
    json_t *values;
    assert_int_equal(frame_all(" \n\r\t  ", 6, 2, 0, &values), 0);
    assert_int_equal(json_array_size(values), 0);
    json_decref(values);
}

static void
test_framer_too_large(void **state)
{
    (void)state;
    char text[200];
    snprintf(text, sizeof text, "{\"k\":\"%0100d\"}", 0);
    json_t *values;
    /* Whole value in one chunk, and split so that the limit trips while buffering. */
    assert_int_equal(frame_all(text, strlen(text), sizeof text, 64, &values), -EMSGSIZE);
    json_decref(values);
    assert_int_equal(frame_all(text, strlen(text), 10, 64, &values), -EMSGSIZE);
    json_decref(values);
    /* Exactly at the limit is fine. */
    assert_int_equal(frame_all(text, strlen(text), 7, strlen(text), &values), 0);
    assert_int_equal(json_array_size(values), 1);
    json_decref(values);

    struct ovnic_err err = {0};
    struct jsonrpc_framer f;
    jsonrpc_framer_init(&f, 8);
    size_t consumed;
    json_t *value;
    assert_int_equal(jsonrpc_framer_feed(&f, text, strlen(text), &consumed, &value, &err),
                     -EMSGSIZE);
    assert_int_equal(err.code, -EMSGSIZE);
    jsonrpc_framer_destroy(&f);
}

static void
expect_invalid(const char *text, const char *why)
{
    for (size_t chunk = 1; chunk <= strlen(text); chunk++) {
        json_t *values;
        int error = frame_all(text, strlen(text), chunk, 0, &values);
        json_decref(values);
        if (error != -EPROTO) {
            fail_msg("%s: '%s' in chunks of %zu gave %d", why, text, chunk, error);
        }
    }
}

static void
test_framer_invalid(void **state)
{
    (void)state;
    expect_invalid("[1,2]", "array");
    expect_invalid("\"str\"", "string");
    expect_invalid("42", "number");
    expect_invalid("garbage{}", "garbage");
    expect_invalid("{\"a\":}", "missing value");
    expect_invalid("{]", "mismatched bracket");
    expect_invalid("{\"a\":1,}", "trailing comma");
    expect_invalid("{\"a\":tru}", "bad literal");
    expect_invalid("{\"a\":\"\\q\"}", "bad escape");
    expect_invalid("{\"a\":\"\xff\"}", "invalid UTF-8");
    expect_invalid("{\"a\":\"\\u0000\"}", "NUL in string");
    expect_invalid("{\"a\":1}]", "stray bracket after a value");
    expect_invalid("{\"a\":99999999999999999999999}", "integer overflow");
    expect_invalid("{\"method\":\"status\",\"method\":\"exit\",\"params\":[],\"id\":1}",
                   "duplicate key");
    expect_invalid("{\"params\":[{\"a\":1,\"a\":2}]}", "nested duplicate key");

    /* A failed framer refuses input until reset, then works again. */
    struct ovnic_err err = {0};
    struct jsonrpc_framer f;
    jsonrpc_framer_init(&f, 0);
    size_t consumed;
    json_t *value;
    assert_int_equal(jsonrpc_framer_feed(&f, "{x}", 3, &consumed, &value, &err), -EPROTO);
    assert_int_equal(err.code, -EPROTO);
    assert_non_null(err.message);
    assert_int_equal(jsonrpc_framer_feed(&f, "{}", 2, &consumed, &value, NULL), -EPROTO);
    jsonrpc_framer_reset(&f);
    assert_int_equal(jsonrpc_framer_feed(&f, "{}", 2, &consumed, &value, NULL), 0);
    assert_int_equal(consumed, 2);
    assert_non_null(value);
    json_decref(value);
    jsonrpc_framer_destroy(&f);
}

static void
test_framer_deep_nesting(void **state)
{
    (void)state;
    /* Deeper than jansson accepts: must fail cleanly, not crash. */
    size_t depth = 5000;
    char *text = malloc(depth * 2 + 16);
    size_t n = 0;
    n += (size_t)sprintf(text, "{\"a\":");
    for (size_t i = 0; i < depth; i++) {
        text[n++] = '[';
    }
    for (size_t i = 0; i < depth; i++) {
        text[n++] = ']';
    }
    text[n++] = '}';
    text[n] = '\0';
    json_t *values;
    assert_int_equal(frame_all(text, n, 100, 0, &values), -EPROTO);
    json_decref(values);
    free(text);
}

/* ---- Messages. ---- */

static int
parse(const char *text, struct jsonrpc_msg **msg)
{
    json_t *json = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(json);
    struct ovnic_err err = {0};
    int error = jsonrpc_msg_from_json(json, msg, &err);
    json_decref(json);
    if (error) {
        assert_int_equal(err.code, error);
    }
    return error;
}

static void
test_msg_parse_valid(void **state)
{
    (void)state;
    struct jsonrpc_msg *msg;

    assert_int_equal(parse("{\"method\":\"echo\",\"params\":[1],\"id\":\"x\"}", &msg), 0);
    assert_int_equal(msg->type, JSONRPC_REQUEST);
    assert_string_equal(msg->method, "echo");
    assert_int_equal(json_array_size(msg->params), 1);
    assert_string_equal(json_string_value(msg->id), "x");
    jsonrpc_msg_destroy(msg);

    assert_int_equal(parse("{\"method\":\"update3\",\"params\":[],\"id\":null}", &msg),
                     0);
    assert_int_equal(msg->type, JSONRPC_NOTIFY);
    assert_null(msg->id);
    jsonrpc_msg_destroy(msg);

    assert_int_equal(parse("{\"method\":\"update\",\"params\":[]}", &msg), 0);
    assert_int_equal(msg->type, JSONRPC_NOTIFY);
    jsonrpc_msg_destroy(msg);

    assert_int_equal(parse("{\"id\":3,\"result\":{\"a\":1},\"error\":null}", &msg), 0);
    assert_int_equal(msg->type, JSONRPC_REPLY);
    assert_int_equal(json_integer_value(msg->id), 3);
    assert_true(json_is_object(msg->result));
    assert_null(jsonrpc_msg_error_string(msg));
    assert_false(jsonrpc_msg_is_unknown_method(msg));
    jsonrpc_msg_destroy(msg);

    /* ovsdb-server omits "result" when it rejects an unknown method. */
    assert_int_equal(parse("{\"id\":1,\"error\":\"unknown method\"}", &msg), 0);
    assert_int_equal(msg->type, JSONRPC_ERROR);
    assert_string_equal(jsonrpc_msg_error_string(msg), "unknown method");
    assert_true(jsonrpc_msg_is_unknown_method(msg));
    jsonrpc_msg_destroy(msg);

    assert_int_equal(parse("{\"id\":7,\"result\":null,\"error\":{\"error\":\"unknown "
                           "database\",\"details\":\"x\"}}",
                           &msg),
                     0);
    assert_int_equal(msg->type, JSONRPC_ERROR);
    assert_string_equal(jsonrpc_msg_error_string(msg), "unknown database");
    assert_false(jsonrpc_msg_is_unknown_method(msg));
    jsonrpc_msg_destroy(msg);
}

static void
test_msg_parse_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "[]",
        "\"x\"",
        "{}",
        "{\"method\":1,\"params\":[],\"id\":1}",
        "{\"method\":\"echo\",\"params\":{},\"id\":1}",
        "{\"method\":\"echo\",\"params\":\"x\",\"id\":1}",
        "{\"method\":\"echo\",\"id\":1}",
        "{\"method\":\"echo\",\"params\":[],\"id\":1,\"result\":1}",
        "{\"method\":\"echo\",\"params\":[],\"id\":1,\"error\":\"e\"}",
        "{\"method\":\"echo\",\"params\":[],\"id\":1,\"extra\":1}",
        "{\"result\":1}",
        "{\"result\":1,\"id\":null}",
        "{\"result\":1,\"error\":\"e\",\"id\":1}",
        "{\"error\":null,\"id\":1}",
        "{\"id\":1}",
        "{\"params\":[],\"result\":1,\"id\":1}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct jsonrpc_msg *msg = (struct jsonrpc_msg *)1;
        int error = parse(bad[i], &msg);
        if (error != -EPROTO) {
            fail_msg("'%s' gave %d", bad[i], error);
        }
        assert_ptr_equal(msg, (struct jsonrpc_msg *)1);
    }
}

static void
expect_json(json_t *json, const char *want)
{
    json_t *w = json_loads(want, 0, NULL);
    assert_non_null(w);
    if (!json_equal(json, w)) {
        char *got = json_dumps(json, JSON_COMPACT);
        fail_msg("got %s, want %s", got, want);
    }
    json_decref(w);
    json_decref(json);
}

static void
test_msg_build(void **state)
{
    (void)state;
    struct jsonrpc_msg *msg;

    msg =
        jsonrpc_msg_create_request("get_schema", json_pack("[s]", "db"), json_integer(4));
    expect_json(jsonrpc_msg_to_json(msg),
                "{\"method\":\"get_schema\",\"params\":[\"db\"],\"id\":4}");
    jsonrpc_msg_destroy(msg);

    msg = jsonrpc_msg_create_notify("update", json_array());
    expect_json(jsonrpc_msg_to_json(msg),
                "{\"method\":\"update\",\"params\":[],\"id\":null}");
    jsonrpc_msg_destroy(msg);

    json_t *id = json_string("e1");
    msg = jsonrpc_msg_create_reply(json_pack("[i]", 1), id);
    expect_json(jsonrpc_msg_to_json(msg),
                "{\"result\":[1],\"error\":null,\"id\":\"e1\"}");
    jsonrpc_msg_destroy(msg);

    msg = jsonrpc_msg_create_error(json_string("unknown method"), id);
    expect_json(jsonrpc_msg_to_json(msg),
                "{\"result\":null,\"error\":\"unknown method\",\"id\":\"e1\"}");
    assert_true(jsonrpc_msg_is_unknown_method(msg));
    jsonrpc_msg_destroy(msg);
    json_decref(id);

    /* Bad arguments are refused, and what was passed is still released. */
    assert_null(jsonrpc_msg_create_request("x", json_object(), json_integer(1)));
    assert_null(jsonrpc_msg_create_request("x", json_array(), json_null()));
    assert_null(jsonrpc_msg_create_notify(NULL, json_array()));
    json_t *one = json_integer(1);
    assert_null(jsonrpc_msg_create_error(json_null(), one));
    assert_null(jsonrpc_msg_create_reply(NULL, one));
    json_decref(one);
    jsonrpc_msg_destroy(NULL);

    assert_string_equal(jsonrpc_msg_type_to_string(JSONRPC_NOTIFY), "notification");
}

/* ---- Connection over a unix socket. ---- */

struct pair {
    char dir[64];
    char path[128];
    struct pstream *listener;
    struct jsonrpc *client;
    struct jsonrpc *server;
};

static void
pair_open(struct pair *p)
{
    snprintf(p->dir, sizeof p->dir, "/tmp/ovnic-jsonrpc-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    snprintf(p->path, sizeof p->path, "punix:%s/sock", p->dir);
    assert_int_equal(pstream_open(p->path, NULL, &p->listener, NULL), 0);

    struct stream *s;
    assert_int_equal(stream_open(p->path + 1, NULL, &s, NULL), 0);
    assert_int_equal(jsonrpc_open(s, 0, &p->client), 0);
    for (int i = 0; i < 1000; i++) {
        if (!pstream_accept(p->listener, &s)) {
            break;
        }
        usleep(1000);
    }
    assert_int_equal(jsonrpc_open(s, 0, &p->server), 0);
    for (int i = 0; i < 100 && !jsonrpc_is_connected(p->client); i++) {
        assert_int_equal(jsonrpc_run(p->client), 0);
    }
    for (int i = 0; i < 100 && !jsonrpc_is_connected(p->server); i++) {
        assert_int_equal(jsonrpc_run(p->server), 0);
    }
    assert_true(jsonrpc_is_connected(p->client));
    assert_true(jsonrpc_is_connected(p->server));
    assert_string_equal(jsonrpc_name(p->client), p->path + 1);
    assert_true(jsonrpc_fd(p->client) >= 0);
}

static void
pair_close(struct pair *p)
{
    jsonrpc_close(p->client);
    jsonrpc_close(p->server);
    pstream_close(p->listener);
    rmdir(p->dir);
}

/* Receives one message on 'rpc', running 'other' meanwhile so that it can flush. */
static int
recv_wait(struct jsonrpc *rpc, struct jsonrpc *other, struct jsonrpc_msg **msg)
{
    for (int i = 0; i < 100000; i++) {
        if (other) {
            jsonrpc_run(other);
        }
        int error = jsonrpc_recv(rpc, msg, NULL);
        if (error != -EAGAIN) {
            return error;
        }
        usleep(100);
    }
    return -ETIMEDOUT;
}

static void
test_connection_roundtrip(void **state)
{
    (void)state;
    struct pair p;
    pair_open(&p);

    /* Several messages in flight, one of them far larger than a socket buffer. */
    json_t *big = json_array();
    for (int i = 0; i < 50000; i++) {
        json_array_append_new(big, json_sprintf("element-%d", i));
    }
    assert_int_equal(
        jsonrpc_send(p.client, jsonrpc_msg_create_request("echo", json_pack("[s]", "hi"),
                                                          json_integer(1))),
        0);
    assert_int_equal(
        jsonrpc_send(p.client, jsonrpc_msg_create_notify("big", json_pack("[o]", big))),
        0);
    assert_true(jsonrpc_backlog(p.client) > 0);
    assert_true(jsonrpc_poll_events(p.client) & OVNIC_POLL_OUT);

    struct jsonrpc_msg *msg;
    assert_int_equal(recv_wait(p.server, p.client, &msg), 0);
    assert_int_equal(msg->type, JSONRPC_REQUEST);
    assert_string_equal(msg->method, "echo");
    assert_int_equal(jsonrpc_send(p.server, jsonrpc_msg_create_reply(
                                                json_incref(msg->params), msg->id)),
                     0);
    jsonrpc_msg_destroy(msg);

    assert_int_equal(recv_wait(p.server, p.client, &msg), 0);
    assert_int_equal(msg->type, JSONRPC_NOTIFY);
    assert_int_equal(json_array_size(json_array_get(msg->params, 0)), 50000);
    jsonrpc_msg_destroy(msg);
    assert_int_equal(jsonrpc_backlog(p.client), 0);

    assert_int_equal(recv_wait(p.client, NULL, &msg), 0);
    assert_int_equal(msg->type, JSONRPC_REPLY);
    assert_int_equal(json_integer_value(msg->id), 1);
    jsonrpc_msg_destroy(msg);
    assert_false(jsonrpc_has_input(p.client));
    assert_int_equal(jsonrpc_recv(p.client, &msg, NULL), -EAGAIN);

    /* Clean close between messages. */
    jsonrpc_close(p.server);
    p.server = NULL;
    struct ovnic_err err = {0};
    assert_int_equal(recv_wait(p.client, NULL, &msg), -EPIPE);
    assert_int_equal(jsonrpc_status(p.client), -EPIPE);
    assert_int_equal(jsonrpc_recv(p.client, &msg, &err), -EPIPE);
    assert_int_equal(jsonrpc_send(p.client, jsonrpc_msg_create_notify("x", json_array())),
                     -EPIPE);
    pair_close(&p);
}

static void
test_connection_truncated_and_garbage(void **state)
{
    (void)state;
    struct pair p;
    struct jsonrpc_msg *msg;

    /* Closed in the middle of a message. */
    pair_open(&p);
    const char *half = "{\"method\":\"update3\",\"params\":[\"x\"";
    assert_int_equal(jsonrpc_send_raw(p.server, half, strlen(half)), 0);
    jsonrpc_close(p.server);
    p.server = NULL;
    assert_int_equal(recv_wait(p.client, NULL, &msg), -EPROTO);
    pair_close(&p);

    /* Garbage. */
    pair_open(&p);
    const char *garbage = "{\"id\":1,\"result\":[]}\x01\x02 not json";
    assert_int_equal(jsonrpc_send_raw(p.server, garbage, strlen(garbage)), 0);
    assert_int_equal(recv_wait(p.client, NULL, &msg), 0);
    jsonrpc_msg_destroy(msg);
    struct ovnic_err err = {0};
    int error;
    while ((error = jsonrpc_recv(p.client, &msg, &err)) == -EAGAIN) {
        usleep(100);
    }
    assert_int_equal(error, -EPROTO);
    assert_int_equal(err.code, -EPROTO);
    assert_int_equal(jsonrpc_poll_events(p.client), 0);
    pair_close(&p);

    /* A well-formed JSON object that is not a JSON-RPC message. */
    pair_open(&p);
    const char *odd = "{\"hello\":\"world\"}";
    assert_int_equal(jsonrpc_send_raw(p.server, odd, strlen(odd)), 0);
    assert_int_equal(recv_wait(p.client, NULL, &msg), -EPROTO);
    pair_close(&p);
}

static void
test_connection_max_size(void **state)
{
    (void)state;
    struct pair p;
    pair_open(&p);
    jsonrpc_close(p.client);
    struct stream *s;
    assert_int_equal(stream_open(p.path + 1, NULL, &s, NULL), 0);
    assert_int_equal(jsonrpc_open(s, 128, &p.client), 0);
    /* The listener accepted the first connection already; accept the new one. */
    jsonrpc_close(p.server);
    for (int i = 0; i < 1000 && pstream_accept(p.listener, &s); i++) {
        usleep(1000);
    }
    assert_int_equal(jsonrpc_open(s, 0, &p.server), 0);
    json_t *params = json_pack("[s]", "0123456789012345678901234567890123456789"
                                      "0123456789012345678901234567890123456789"
                                      "0123456789012345678901234567890123456789");
    assert_int_equal(jsonrpc_send(p.server, jsonrpc_msg_create_notify("n", params)), 0);
    struct jsonrpc_msg *msg;
    assert_int_equal(recv_wait(p.client, p.server, &msg), -EMSGSIZE);
    pair_close(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framer_single),
        cmocka_unit_test(test_framer_several_per_chunk),
        cmocka_unit_test(test_framer_strings_with_brackets),
        cmocka_unit_test(test_framer_partial),
        cmocka_unit_test(test_framer_whitespace_only),
        cmocka_unit_test(test_framer_too_large),
        cmocka_unit_test(test_framer_invalid),
        cmocka_unit_test(test_framer_deep_nesting),
        cmocka_unit_test(test_msg_parse_valid),
        cmocka_unit_test(test_msg_parse_invalid),
        cmocka_unit_test(test_msg_build),
        cmocka_unit_test(test_connection_roundtrip),
        cmocka_unit_test(test_connection_truncated_and_garbage),
        cmocka_unit_test(test_connection_max_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
