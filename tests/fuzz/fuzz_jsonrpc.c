/* Fuzz target: the JSON-RPC framer and message parser.
 *
 * The input is a byte stream as a server would send it.  It is fed to the framer in
 * chunks whose sizes are derived from the input itself, so that one input exercises
 * one particular way of splitting the stream; every complete value is parsed as a
 * message, and every message that parses must survive a round trip through its wire
 * form.
 *
 * The same bytes then arrive as a peer's stream over a real unix socket at a
 * connection (jsonrpc_open over an accepted stream): every request is answered, every
 * other message is answered with raw bytes, and the connection runs until the bytes
 * run out or break it, so the receive path, the output queue and the close paths run
 * on the input too. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "shared/util/jsonrpc.h"
#include "tests/fuzz/frame_feed.h"
#include "shared/util/stream.h"

/* Largest input given to the connection (well within a unix socket's buffer). */
#define CONN_MAX_INPUT (64u * 1024)

static void
check_message(const json_t *json)
{
    struct jsonrpc_msg *msg;
    if (jsonrpc_msg_from_json(json, &msg, NULL)) {
        return;
    }
    json_t *wire = jsonrpc_msg_to_json(msg);
    if (wire) {
        struct jsonrpc_msg *again;
        if (jsonrpc_msg_from_json(wire, &again, NULL)) {
            abort();
        }
        if (again->type != msg->type) {
            abort();
        }
        jsonrpc_msg_destroy(again);
        json_decref(wire);
    }
    (void)jsonrpc_msg_error_string(msg);
    (void)jsonrpc_msg_is_unknown_method(msg);
    jsonrpc_msg_destroy(msg);
}

static struct pstream *listener;
static char listener_path[64];

static void
listener_close(void)
{
    pstream_close(listener);
    listener = NULL;
}

/* The listening socket, made once per process; NULL if it cannot be made. */
static struct pstream *
listener_get(void)
{
    if (!listener) {
        char name[80];

        snprintf(listener_path, sizeof listener_path, "/tmp/ovnic-fuzz-jsonrpc-%ld.sock",
                 (long)getpid());
        snprintf(name, sizeof name, "punix:%s", listener_path);
        if (pstream_open(name, NULL, &listener, NULL)) {
            return NULL;
        }
        atexit(listener_close);
    }
    return listener;
}

/* Reads and drops what the server sent to 'client'. */
static void
client_drain(struct stream *client)
{
    char buf[4096];

    while (stream_recv(client, buf, sizeof buf) > 0) {
        continue;
    }
}

/* Receives every complete message on 'rpc' and answers it.  Returns 0 while the
 * connection is usable, else its error. */
static int
server_serve(struct jsonrpc *rpc)
{
    for (;;) {
        struct jsonrpc_msg *msg = NULL;
        int error = jsonrpc_recv(rpc, &msg, NULL);

        if (error) {
            return error == -EAGAIN ? 0 : error;
        }
        if (msg->type == JSONRPC_REQUEST) {
            error = jsonrpc_send(rpc, jsonrpc_msg_create_reply(json_object(), msg->id));
        } else {
            static const char raw[] = "{\"method\":\"echo\",\"params\":[],\"id\":0}";

            error = jsonrpc_send_raw(rpc, raw, sizeof raw - 1);
        }
        jsonrpc_msg_destroy(msg);
        if (!error) {
            error = jsonrpc_run(rpc);
        }
        if (error) {
            return error;
        }
    }
}

static void
check_connection(const uint8_t *data, size_t size, uint32_t *seed)
{
    struct pstream *p = listener_get();
    struct stream *client = NULL, *server = NULL;
    struct jsonrpc *rpc = NULL;
    size_t ofs = 0;
    char remote[80];
    int error;

    snprintf(remote, sizeof remote, "unix:%s", listener_path);
    if (!p || stream_open(remote, NULL, &client, NULL)) {
        return;
    }
    for (int i = 0; i < 100 && pstream_accept(p, &server) == -EAGAIN; i++) {
        usleep(100);
    }
    if (!server) {
        goto out;
    }
    /* jsonrpc_open() takes 'server', even on failure. */
    error = jsonrpc_open(server, 1 << 16, &rpc);
    server = NULL;
    if (error) {
        goto out;
    }
    size = size < CONN_MAX_INPUT ? size : CONN_MAX_INPUT;
    while (ofs < size) {
        size_t chunk = 1 + (fuzz_rand(seed) & 0x3ff);
        ssize_t n;

        chunk = chunk < size - ofs ? chunk : size - ofs;
        n = stream_send(client, data + ofs, chunk);
        if (n <= 0) {
            break;
        }
        ofs += (size_t)n;
        if (server_serve(rpc)) {
            break;
        }
        client_drain(client);
    }
    (void)jsonrpc_backlog(rpc);
    (void)jsonrpc_poll_events(rpc);
    (void)jsonrpc_has_input(rpc);
    (void)jsonrpc_name(rpc);
    /* The peer goes away: the connection must see the end (between messages or in
     * the middle of one) and report it. */
    stream_close(client);
    client = NULL;
    if (!server_serve(rpc)) {
        struct jsonrpc_msg *msg = NULL;

        if (!jsonrpc_recv(rpc, &msg, NULL)) {
            jsonrpc_msg_destroy(msg);
        }
    }
    (void)jsonrpc_status(rpc);
out:
    jsonrpc_close(rpc);
    stream_close(server);
    stream_close(client);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t seed = fuzz_seed(data, size, 0x9e3779b9u);

    fuzz_feed_frames(data, size, 1 << 20, 256, &seed, check_message);
    check_connection(data, size, &seed);
    return 0;
}
