/* Unit tests for shared/util/rpc_client: a blocking JSON-RPC client against a server
 * played by the test itself on a punix: listener.  The client blocks in each call, so
 * the server side writes its replies before the call and reads the requests after. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/util/json.h"
#include "shared/util/rpc_client.h"
#include "shared/util/stream.h"
#include "shared/util/util.h"

struct fixture {
    char dir[64];
    char remote[128];
    struct pstream *listener;
    struct stream *server; /* The accepted end. */
    struct rpc_client *client;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char name[160];

    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ovnic-rpc-client-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->remote, sizeof f->remote, "unix:%s/s", f->dir);
    snprintf(name, sizeof name, "p%s", f->remote);
    assert_int_equal(pstream_open(name, NULL, &f->listener, NULL), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    rpc_client_close(f->client);
    stream_close(f->server);
    pstream_close(f->listener);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Connects a client with 'timeout_ms' and accepts its connection. */
static void
connect_client(struct fixture *f, int timeout_ms)
{
    uint64_t deadline;
    int error;

    assert_int_equal(rpc_client_open(f->remote, timeout_ms, &f->client, NULL), 0);
    assert_true(rpc_client_is_connected(f->client));
    deadline = time_msec() + 10000;
    while ((error = pstream_accept(f->listener, &f->server)) == -EAGAIN) {
        struct pollfd pfd = {.fd = pstream_fd(f->listener), .events = POLLIN};

        assert_true(time_msec() < deadline);
        poll(&pfd, 1, 100);
    }
    assert_int_equal(error, 0);
}

static void
server_write(struct fixture *f, const char *text)
{
    size_t len = strlen(text);

    while (len) {
        ssize_t n = stream_send(f->server, text, len);

        assert_true(n > 0);
        text += n;
        len -= (size_t)n;
    }
}

/* Reads the next request the client sent. */
static json_t *
server_read(struct fixture *f)
{
    static char buf[65536];
    static size_t len;
    struct json_framer framer;
    json_t *msg;
    size_t used;

    json_framer_init(&framer);
    for (;;) {
        ssize_t n;

        if (len && !json_framer_parse(&framer, buf, len, &msg, &used, NULL)) {
            memmove(buf, buf + used, len - used);
            len -= used;
            return msg;
        }
        n = stream_recv(f->server, buf + len, sizeof buf - len);
        assert_true(n > 0);
        len += (size_t)n;
    }
}

static void
test_call_reply(void **state)
{
    struct fixture *f = *state;
    json_t *reply, *request;

    connect_client(f, 10000);
    /* A notification and a reply to another id come first: both are skipped. */
    server_write(f, "{\"method\":\"note\",\"params\":[],\"id\":null}"
                    "{\"id\":7,\"result\":1,\"error\":null}\n"
                    "{\"id\":1,\"result\":{\"x\":2},\"error\":null}"
                    "{\"id\":2,\"result\":null,\"error\":\"bad\"}");
    assert_int_equal(
        rpc_client_call(f->client, "get", json_pack("[s]", "a"), &reply, NULL), 0);
    assert_int_equal(json_integer_value(json_object_get(reply, "id")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(reply, "result"), "x")), 2);
    json_decref(reply);

    request = server_read(f);
    assert_string_equal(json_string_value(json_object_get(request, "method")), "get");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(request, "params"), 0)), "a");
    assert_int_equal(json_integer_value(json_object_get(request, "id")), 1);
    json_decref(request);

    /* NULL params travel as []; an error reply is still a reply. */
    assert_int_equal(rpc_client_call(f->client, "put", NULL, &reply, NULL), 0);
    assert_string_equal(json_string_value(json_object_get(reply, "error")), "bad");
    json_decref(reply);
    request = server_read(f);
    assert_true(json_is_array(json_object_get(request, "params")));
    assert_int_equal(json_array_size(json_object_get(request, "params")), 0);
    assert_int_equal(json_integer_value(json_object_get(request, "id")), 2);
    json_decref(request);
    assert_true(rpc_client_is_connected(f->client));
}

static void
test_timeout(void **state)
{
    struct fixture *f = *state;
    struct ovnic_err err = {0};
    uint64_t start;
    json_t *reply;

    connect_client(f, 200);
    start = time_msec();
    assert_int_equal(rpc_client_call(f->client, "slow", NULL, &reply, &err), -ETIMEDOUT);
    assert_true(time_msec() - start >= 200);
    assert_int_equal(err.code, -ETIMEDOUT);
    /* The connection stays; the late reply to request 1 is dropped. */
    assert_true(rpc_client_is_connected(f->client));
    server_write(f, "{\"id\":1,\"result\":\"late\",\"error\":null}"
                    "{\"id\":2,\"result\":\"on time\",\"error\":null}");
    assert_int_equal(rpc_client_call(f->client, "fast", NULL, &reply, NULL), 0);
    assert_string_equal(json_string_value(json_object_get(reply, "result")), "on time");
    json_decref(reply);
}

static void
test_garbage(void **state)
{
    struct fixture *f = *state;
    struct ovnic_err err = {0};
    json_t *reply = NULL;

    connect_client(f, 10000);
    server_write(f, "{\"id\":1,\"result\":tru}");
    assert_int_equal(rpc_client_call(f->client, "x", NULL, &reply, &err), -EPROTO);
    assert_null(reply);
    assert_true(ovnic_err_is_set(&err));
    assert_false(rpc_client_is_connected(f->client));
    assert_int_equal(rpc_client_call(f->client, "x", json_array(), &reply, NULL),
                     -ENOTCONN);
    assert_null(reply);
}

/* A reply with duplicate member names is malformed: which "result" would count? */
static void
test_duplicate_keys(void **state)
{
    struct fixture *f = *state;
    json_t *reply = NULL;

    connect_client(f, 10000);
    server_write(f, "{\"id\":1,\"result\":1,\"result\":2,\"error\":null}");
    assert_int_equal(rpc_client_call(f->client, "x", NULL, &reply, NULL), -EPROTO);
    assert_null(reply);
    assert_false(rpc_client_is_connected(f->client));
}

/* A server that refuses the connection answers with a null id, then closes it, maybe
 * before reading the request: that answer is the reply, even after -EPIPE. */
static void
test_refused(void **state)
{
    struct fixture *f = *state;
    json_t *reply = NULL;

    connect_client(f, 10000);
    server_write(f, "{\"id\":null,\"result\":null,"
                    "\"error\":{\"error\":\"too many connections\",\"code\":-16}}");
    stream_close(f->server);
    f->server = NULL;
    assert_int_equal(rpc_client_call(f->client, "x", NULL, &reply, NULL), 0);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(reply, "error"), "code")),
        -EBUSY);
    json_decref(reply);
}

static void
test_peer_close(void **state)
{
    struct fixture *f = *state;
    json_t *reply = NULL;

    connect_client(f, 10000);
    /* Part of a reply, then end of stream: the request still reaches the peer. */
    server_write(f, "{\"id\":1,");
    assert_int_equal(shutdown(stream_fd(f->server), SHUT_WR), 0);
    assert_int_equal(rpc_client_call(f->client, "x", NULL, &reply, NULL), -ECONNRESET);
    assert_null(reply);
    assert_false(rpc_client_is_connected(f->client));
}

static void
test_open_errors(void **state)
{
    struct fixture *f = *state;
    struct rpc_client *client = NULL;
    struct ovnic_err err = {0};
    char remote[160];

    snprintf(remote, sizeof remote, "unix:%s/missing", f->dir);
    assert_int_equal(rpc_client_open(remote, 1000, &client, &err), -ENOENT);
    assert_int_equal(err.code, -ENOENT);
    assert_null(client);
    assert_int_equal(rpc_client_open(f->remote, 0, &client, NULL), -EINVAL);
    assert_int_equal(rpc_client_open("bogus:x", 1000, &client, NULL), -EAFNOSUPPORT);
    assert_null(client);
    rpc_client_close(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_call_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
