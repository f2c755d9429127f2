/* ovnic: reconnect back-off: exponential delay with jitter, bounded. */
#include "shared/util/backoff.h"

#include "shared/util/hash.h"
#include "shared/util/util.h"

void
backoff_init(struct backoff *b, uint32_t min_ms, uint32_t max_ms)
{
    b->min_ms = min_ms;
    b->max_ms = MAX(min_ms, max_ms);
    b->cur_ms = 0;
    b->attempts = 0;
    /* Jitter only has to keep clients that failed together from retrying together, so
     * a seed from the clock and the object's address is enough. */
    b->seed = hash_finish(hash_add64(hash_add64(0, time_msec()), (uintptr_t)b));
    if (!b->seed) {
        b->seed = 0x9e3779b9u;
    }
}

/* xorshift32: never returns 0 from a non-zero state. */
static uint32_t
backoff_random__(struct backoff *b)
{
    uint32_t x = b->seed ? b->seed : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b->seed = x;
    return x;
}

uint32_t
backoff_next(struct backoff *b)
{
    if (b->attempts < UINT32_MAX) {
        b->attempts++;
    }
    uint32_t delay;
    uint32_t base = b->cur_ms;
    if (!base) {
        /* First failure: exactly min_ms; the next one starts doubling from there (from
         * 1 ms if min_ms is 0). */
        delay = b->min_ms;
        base = MAX(b->min_ms, 1);
    } else {
        base = MIN(base, b->max_ms);
        delay = base - backoff_random__(b) % (base / 4 + 1);
        delay = MAX(delay, b->min_ms);
    }
    uint64_t doubled = (uint64_t)base * 2;
    b->cur_ms = doubled > b->max_ms ? b->max_ms : (uint32_t)doubled;
    return delay;
}

void
backoff_reset(struct backoff *b)
{
    b->cur_ms = 0;
    b->attempts = 0;
}
