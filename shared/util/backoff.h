/* ovnic: reconnect back-off: exponential delay with jitter, bounded.
 *
 *     struct backoff b;
 *     backoff_init(&b, 100, 8000);
 *     on failure:   delay = backoff_next(&b);    // 100, ~200, ~400 ... <= 8000 ms
 *     on success:   backoff_reset(&b);
 */
#ifndef OVNIC_UTIL_BACKOFF_H
#define OVNIC_UTIL_BACKOFF_H 1

#include <stdint.h>

struct backoff {
    uint32_t min_ms;
    uint32_t max_ms;
    uint32_t cur_ms;   /* Base of the next delay, 0 before the first failure. */
    uint32_t attempts; /* Failures since the last reset. */
    uint32_t seed;     /* Jitter state. */
};

/** Initialises 'b' with delays between 'min_ms' and 'max_ms' (min_ms <= max_ms). */
void backoff_init(struct backoff *b, uint32_t min_ms, uint32_t max_ms);

/** Records one failure and returns how long to wait before the next attempt: the first
 * is 'min_ms' exactly; each later one doubles, with up to 25% random jitter downward,
 * never below min_ms nor above max_ms. */
uint32_t backoff_next(struct backoff *b);

/** Records a success: the next failure starts again from min_ms. */
void backoff_reset(struct backoff *b);

#endif /* OVNIC_UTIL_BACKOFF_H */
