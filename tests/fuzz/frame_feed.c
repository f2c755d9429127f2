/* ovnic fuzz targets: chunked feeding of a JSON-RPC framer (frame_feed.h). */
#include "frame_feed.h"

#include "shared/util/jsonrpc.h"

uint32_t
fuzz_seed(const uint8_t *data, size_t size, uint32_t salt)
{
    uint32_t seed = salt ^ (uint32_t)size;

    for (size_t i = 0; i < size && i < 16; i++) {
        seed = seed * 31 + data[i];
    }
    return seed ? seed : 1;
}

uint32_t
fuzz_rand(uint32_t *state)
{
    uint32_t x = *state;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

void
fuzz_feed_frames(const uint8_t *data, size_t size, size_t max_msg, size_t max_chunk,
                 uint32_t *state, void (*cb)(const json_t *value))
{
    struct jsonrpc_framer framer;
    size_t ofs = 0;

    jsonrpc_framer_init(&framer, max_msg);
    while (ofs < size) {
        uint32_t r = fuzz_rand(state);
        size_t chunk = r & 0x100 ? 1 + (r & 0x7) : 1 + r % (max_chunk ? max_chunk : 1);
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
                cb(value);
                json_decref(value);
            }
        }
        ofs += chunk;
    }
out:
    jsonrpc_framer_destroy(&framer);
}
