/* ovnic fuzz targets: feed an input to a JSON-RPC framer (shared/util/jsonrpc.h) in
 * pseudo-random chunks, as a stream delivers it, so that every split point of a
 * message is tried.  The chunks follow a generator seeded from the input, so a run
 * is reproducible. */
#ifndef OVNIC_FUZZ_FRAME_FEED_H
#define OVNIC_FUZZ_FRAME_FEED_H 1

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/** A nonzero generator state from the first bytes of 'data', 'size' and 'salt'. */
uint32_t fuzz_seed(const uint8_t *data, size_t size, uint32_t salt);

/** The next value of the generator (xorshift32). */
uint32_t fuzz_rand(uint32_t *state);

/** Frames 'data' with a framer of at most 'max_msg' bytes a message, in chunks of 1 to
 * 8 bytes or of 1 to 'max_chunk' bytes, and calls 'cb' with each JSON value framed
 * (borrowed for the call).  Stops at the first framing error. */
void fuzz_feed_frames(const uint8_t *data, size_t size, size_t max_msg, size_t max_chunk,
                      uint32_t *state, void (*cb)(const json_t *value));

#endif
