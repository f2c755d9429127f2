/* Fuzz target: the hostlink framer and decoders (shared/proto/hostlink).
 *
 * The input is a byte stream as a peer would send it.  It is framed in chunks whose
 * sizes derive from the input, as a session's connection frames it, and every framed
 * value goes to the decoder that would see it: a request or notification to
 * hostlink_msg_decode() for every protocol version (0, before negotiation,
 * included), a reply or error reply to hostlink_reply_decode() as the answer to every
 * request method.  What decodes must hold what the decoders promise: it encodes again
 * for the same version, and its encoding decodes and encodes to the same text.
 *
 * The same bytes then reach a real hostlink server (over a unix socket, one session
 * per input) as a host's stream: hello, the requests of the negotiated version, the
 * rate limit, and the answers and closes of protocol violations all run on the
 * input.  Whatever the bytes, the server must end up with no session left once the
 * peer has gone. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>
#include <unistd.h>

#include "shared/proto/hostlink.h"
#include "shared/proto/hostlink_server.h"
#include "shared/util/jsonrpc.h"
#include "tests/fuzz/frame_feed.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/stream.h"

#define MAX_MSG (256 << 10)

static char *
encode_text(const struct hostlink_msg *msg, unsigned int version)
{
    struct jsonrpc_msg *jmsg;
    json_t *json;
    char *text;

    if (hostlink_msg_encode(msg, version, &jmsg, NULL)) {
        abort(); /* A decoded message must encode again. */
    }
    json = jsonrpc_msg_to_json(jmsg);
    jsonrpc_msg_destroy(jmsg);
    if (!json) {
        abort();
    }
    text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    if (!text) {
        abort();
    }
    return text;
}

static void
check_round_trip(const struct hostlink_msg *msg, unsigned int version)
{
    struct jsonrpc_msg *jmsg;
    struct hostlink_msg again;
    char *first = encode_text(msg, version), *second;
    json_t *json = json_loads(first, JSON_REJECT_DUPLICATES, NULL);

    if (!json || jsonrpc_msg_from_json(json, &jmsg, NULL)) {
        abort();
    }
    json_decref(json);
    if (hostlink_msg_from_jsonrpc(jmsg, version, &again, NULL)) {
        abort();
    }
    jsonrpc_msg_destroy(jmsg);
    second = encode_text(&again, version);
    if (strcmp(first, second)) {
        abort();
    }
    hostlink_msg_clear(&again);
    free(first);
    free(second);
}

static void
check_reply(const struct jsonrpc_msg *jmsg)
{
    for (int m = 0; m < HOSTLINK_N_METHODS; m++) {
        struct hostlink_reply reply;
        struct ovnic_err err = {0};
        struct jsonrpc_msg *again;
        json_t *error;

        if (!hostlink_method_is_request(m)) {
            continue;
        }
        if (hostlink_reply_decode(m, jmsg, &reply, &err)) {
            if (!err.message) {
                abort();
            }
            continue;
        }
        if (reply.code) {
            error = hostlink_error_json(reply.code, reply.message);
            if (!error || strcmp(json_string_value(json_object_get(error, "error")),
                                 reply.message)) {
                abort();
            }
            json_decref(error);
        } else if (hostlink_reply_encode(m, reply.id, &reply.u.hello, reply.u.seq, &again,
                                         NULL)) {
            abort();
        } else {
            jsonrpc_msg_destroy(again);
        }
    }
}

static void
check_value(const json_t *json)
{
    struct jsonrpc_msg *jmsg;

    if (jsonrpc_msg_from_json(json, &jmsg, NULL)) {
        return;
    }
    if (jmsg->type == JSONRPC_REQUEST || jmsg->type == JSONRPC_NOTIFY) {
        for (unsigned int v = 0; v <= HOSTLINK_VERSION_MAX; v++) {
            struct hostlink_msg msg;
            struct ovnic_err err = {0};

            if (hostlink_msg_from_jsonrpc(jmsg, v, &msg, &err)) {
                if (!err.message || err.code >= 0) {
                    abort();
                }
                continue;
            }
            check_round_trip(&msg, v ? v : HOSTLINK_VERSION_MIN);
            hostlink_msg_clear(&msg);
        }
    } else {
        check_reply(jmsg);
    }
    jsonrpc_msg_destroy(jmsg);
}

/* ---- The server stage. --------------------------------------------------------- */

/* Largest input given to the session (within a unix socket's buffer). */
#define SESSION_MAX_INPUT (64u * 1024)

static struct poll_loop *loop;
static struct hostlink_server *server;
static char server_path[64];

/* Answers as a DPU would: refusals for some, success for others. */
static void
on_request(void *aux OVNIC_UNUSED, uint64_t session, const struct hostlink_msg *msg)
{
    int code = HOSTLINK_OK;

    if (msg->method == HOSTLINK_ATTACH_REQUEST) {
        struct hostlink_msg plug = {.method = HOSTLINK_PLUG_RESULT};

        plug.u.plug_result.pf_mac = msg->u.attach.pf_mac;
        plug.u.plug_result.vf_num = msg->u.attach.vf_num;
        memcpy(plug.u.plug_result.iface_id, msg->u.attach.iface_id,
               sizeof plug.u.plug_result.iface_id);
        plug.u.plug_result.state = HOSTLINK_PLUGGED;
        if (hostlink_server_notify(server, session, &plug, NULL)) {
            abort(); /* A valid request gives a valid notification. */
        }
    } else if (msg->method == HOSTLINK_DETACH_REQUEST) {
        code = HOSTLINK_ERR_NOT_FOUND;
    }
    hostlink_server_reply(server, session, msg->id, code, NULL);
}

static void
server_close(void)
{
    hostlink_server_destroy(server);
    poll_loop_destroy(loop);
    unlink(server_path);
}

static bool
server_get(void)
{
    static const struct hostlink_server_ops ops = {NULL, NULL, on_request};
    struct hostlink_server_config c;
    char name[80];

    if (server) {
        return true;
    }
    snprintf(server_path, sizeof server_path, "/tmp/ovnic-fuzz-hostlink-%ld.sock",
             (long)getpid());
    snprintf(name, sizeof name, "punix:%s", server_path);
    hostlink_server_config_default(&c);
    c.listen = name;
    c.allow_plain = true;
    c.name = "fuzz-dpu";
    c.software = "fuzz";
    c.max_msg = 1 << 16;
    unlink(server_path);
    /* A peer's misdeeds are logged (rate-limited): not wanted here. */
    ovnic_log_set_level(NULL, OVNIC_LOG_OFF);
    if (poll_loop_create(&loop)) {
        return false;
    }
    if (hostlink_server_create(loop, &c, &ops, NULL, &server, NULL)) {
        poll_loop_destroy(loop);
        loop = NULL;
        return false;
    }
    atexit(server_close);
    return true;
}

static void
client_drain(struct stream *client)
{
    char buf[4096];

    while (stream_recv(client, buf, sizeof buf) > 0) {
        continue;
    }
}

static void
check_session(const uint8_t *data, size_t size, uint32_t *seed)
{
    struct hostlink_server_stats st;
    struct stream *client = NULL;
    size_t ofs = 0;
    char remote[80];
    int i, turns = 0;

    snprintf(remote, sizeof remote, "unix:%s", server_path);
    if (!server_get() || stream_open(remote, NULL, &client, NULL)) {
        return;
    }
    size = size < SESSION_MAX_INPUT ? size : SESSION_MAX_INPUT;
    while (ofs < size && turns++ < 10000) {
        size_t chunk = 1 + (fuzz_rand(seed) & 0x3ff);
        ssize_t n;

        chunk = chunk < size - ofs ? chunk : size - ofs;
        n = stream_send(client, data + ofs, chunk);
        if (n <= 0 && n != -EAGAIN) {
            break;
        }
        ofs += n > 0 ? (size_t)n : 0;
        poll_loop_run_once(loop, 0);
        client_drain(client);
    }
    for (i = 0; i < 4; i++) {
        poll_loop_run_once(loop, 0);
        client_drain(client);
    }
    /* The peer goes: its session must go too. */
    stream_close(client);
    hostlink_server_get_stats(server, &st);
    for (i = 0; i < 1000 && st.connections; i++) {
        poll_loop_run_once(loop, 1);
        hostlink_server_get_stats(server, &st);
    }
    if (st.connections || st.sessions) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t seed = fuzz_seed(data, size, 0x9e3779b9u);

    fuzz_feed_frames(data, size, MAX_MSG, 4096, &seed, check_value);
    check_session(data, size, &seed);
    return 0;
}
