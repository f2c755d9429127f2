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
#include "tests/fuzz/frame_feed.h"
#include "shared/util/rpc_server.h"

#define MAX_MSG (64 << 10)

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
    uint32_t seed = fuzz_seed(data, size, 0x85ebca6bu);

    fuzz_feed_frames(data, size, MAX_MSG, 256, &seed, check_request);
    return 0;
}
