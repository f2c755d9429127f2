/* Fuzz target: the request path of the control sockets (shared/util/rpc_server).
 *
 * The input is a byte stream as a control client would send it.  It is framed in
 * chunks whose sizes derive from the input, as the server's connection frames it
 * (duplicate member names, bad JSON and overlong messages end the stream), and every
 * framed value is checked as a request.  A value that passes must hold what the
 * server promises its handlers: a nonempty "method" without NUL, an array "params", a
 * non-null "id", and nothing else. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/jsonrpc.h"
#include "shared/util/rpc_server.h"

#define MAX_MSG (64 << 10)

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

static void
check_request(const json_t *json)
{
    struct rpc_server_request req = {NULL, NULL, NULL};
    struct ovnic_err err = {0};

    if (rpc_server_request_parse(json, &req, &err)) {
        if (!err.message || req.method) {
            abort();
        }
        return;
    }
    if (!req.method || !*req.method || !json_is_array(req.params) || !req.id ||
        json_is_null(req.id) || json_object_size(json) != 3 ||
        strcmp(json_string_value(json_object_get(json, "method")), req.method) ||
        json_object_get(json, "params") != req.params ||
        json_object_get(json, "id") != req.id) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jsonrpc_framer framer;
    uint32_t seed = 0x85ebca6bu ^ (uint32_t)size;
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
        size_t chunk = r & 0x100 ? 1 + (r & 0x7) : 1 + (r & 0xff);
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
                check_request(value);
                json_decref(value);
            }
        }
        ofs += chunk;
    }
out:
    jsonrpc_framer_destroy(&framer);
    return 0;
}
