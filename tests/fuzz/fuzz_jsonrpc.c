/* Fuzz target: the JSON-RPC framer and message parser.
 *
 * The input is a byte stream as a server would send it.  It is fed to the framer in
 * chunks whose sizes are derived from the input itself, so that one input exercises
 * one particular way of splitting the stream; every complete value is parsed as a
 * message, and every message that parses must survive a round trip through its wire
 * form. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "shared/util/jsonrpc.h"

static uint32_t
next_rand(uint32_t *state)
{
    /* xorshift32 */
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t seed = 0x9e3779b9u ^ (uint32_t)size;
    for (size_t i = 0; i < size && i < 16; i++) {
        seed = seed * 31 + data[i];
    }
    if (!seed) {
        seed = 1;
    }

    struct jsonrpc_framer framer;
    jsonrpc_framer_init(&framer, 1 << 20);
    size_t ofs = 0;
    while (ofs < size) {
        uint32_t r = next_rand(&seed);
        size_t chunk = r & 0x100 ? 1 + (r & 0x7) : 1 + (r & 0xff);
        if (chunk > size - ofs) {
            chunk = size - ofs;
        }
        size_t used = 0;
        while (used < chunk) {
            size_t consumed;
            json_t *value;
            if (jsonrpc_framer_feed(&framer, data + ofs + used, chunk - used, &consumed,
                                    &value, NULL)) {
                goto out;
            }
            used += consumed;
            if (value) {
                check_message(value);
                json_decref(value);
            }
        }
        ofs += chunk;
    }
out:
    jsonrpc_framer_destroy(&framer);
    return 0;
}
