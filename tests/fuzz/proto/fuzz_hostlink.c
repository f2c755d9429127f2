/* Fuzz target: the hostlink framer and decoders (shared/proto/hostlink).
 *
 * The input is a byte stream as a peer would send it.  It is framed in chunks whose
 * sizes derive from the input, as a session's connection frames it, and every framed
 * value goes to the decoder that would see it: a request or notification to
 * hostlink_msg_decode() for every protocol version (0, before negotiation,
 * included), a reply or error reply to hostlink_reply_decode() as the answer to every
 * request method.  What decodes must hold what the decoders promise: it encodes again
 * for the same version, and its encoding decodes and encodes to the same text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/proto/hostlink.h"
#include "shared/util/jsonrpc.h"

#define MAX_MSG (256 << 10)

static uint32_t
next_rand(uint32_t *state)
{
    uint32_t x = *state;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jsonrpc_framer framer;
    uint32_t seed = 0x9e3779b9u ^ (uint32_t)size;
    size_t ofs = 0;

    for (size_t i = 0; i < size && i < 16; i++) {
        seed = seed * 31 + data[i];
    }
    if (!seed) {
        seed = 1;
    }
    jsonrpc_framer_init(&framer, MAX_MSG);
    while (ofs < size) {
        uint32_t r = next_rand(&seed);
        size_t chunk = r & 0x100 ? 1 + (r & 0x7) : 1 + (r & 0xfff);
        size_t used = 0;

        if (chunk > size - ofs) {
            chunk = size - ofs;
        }
        while (used < chunk) {
            size_t consumed;
            json_t *value;

            if (jsonrpc_framer_feed(&framer, data + ofs + used, chunk - used, &consumed,
                                    &value, NULL)) {
                goto out;
            }
            used += consumed;
            if (value) {
                check_value(value);
                json_decref(value);
            }
        }
        ofs += chunk;
    }
out:
    jsonrpc_framer_destroy(&framer);
    return 0;
}
