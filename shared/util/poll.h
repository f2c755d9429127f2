/* ovnic: an epoll-based event loop with one-shot timers.
 *
 * Single-threaded: every call on a loop, and every callback, runs in the thread that
 * calls poll_loop_run_once().  Callbacks may add/remove fds and start/stop timers,
 * including their own.
 *
 *     struct poll_loop *loop;
 *     poll_loop_create(&loop);
 *     poll_loop_fd_add(loop, fd, OVNIC_POLL_IN, on_readable, ctx);
 *     poll_timer_start(loop, &ctx->timer, 1000, on_timer, ctx);
 *     while (!done) {
 *         poll_loop_run_once(loop, -1);
 *     }
 */
#ifndef OVNIC_UTIL_POLL_H
#define OVNIC_UTIL_POLL_H 1

#include <stdbool.h>
#include <stdint.h>

#include "shared/util/hmap.h"

struct poll_loop;
struct poll_timer;

/** Event bits, same values as EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP. */
#define OVNIC_POLL_IN 0x001u
#define OVNIC_POLL_OUT 0x004u
#define OVNIC_POLL_ERR 0x008u
#define OVNIC_POLL_HUP 0x010u

typedef void (*poll_fd_cb)(struct poll_loop *loop, int fd, uint32_t events, void *aux);
typedef void (*poll_timer_cb)(struct poll_loop *loop, struct poll_timer *timer,
                              void *aux);

/** A timer, embedded in its owner.  Zero-initialise it (or poll_timer_init()) before
 * first use. */
struct poll_timer {
    uint64_t deadline_ms; /* Monotonic (time_msec()). */
    poll_timer_cb cb;
    void *aux;
    bool armed;
    size_t heap_idx; /* Index in the loop's timer heap, while armed. */
    uint64_t seq;    /* Start order: ties on 'deadline_ms' fire in start order,
                      * and a timer started from a timer callback waits for the
                      * next poll_loop_run_once() even if already due. */
};

/** Creates an empty loop.  Caller owns '*loop'; free with poll_loop_destroy().
 * Returns 0, or a negative errno from epoll_create1(). */
int poll_loop_create(struct poll_loop **loop);

/** Destroys 'loop' (may be NULL).  Does not close registered fds; disarms timers. */
void poll_loop_destroy(struct poll_loop *loop);

/** Watches 'fd' for 'events' (OVNIC_POLL_IN|OVNIC_POLL_OUT).
 * OVNIC_POLL_ERR/OVNIC_POLL_HUP are always reported.  Returns 0, -EEXIST if 'fd' is
 * already watched, or another negative errno. */
int poll_loop_fd_add(struct poll_loop *loop, int fd, uint32_t events, poll_fd_cb cb,
                     void *aux);

/** Changes the events watched on 'fd'.  Returns 0, -ENOENT if not watched. */
int poll_loop_fd_modify(struct poll_loop *loop, int fd, uint32_t events);

/** Stops watching 'fd' (call before closing it).  Returns 0 or -ENOENT. */
int poll_loop_fd_remove(struct poll_loop *loop, int fd);

void poll_timer_init(struct poll_timer *timer);

/** Arms 'timer' to fire once, 'delay_ms' from now (re-arms it if already armed). */
void poll_timer_start(struct poll_loop *loop, struct poll_timer *timer, uint64_t delay_ms,
                      poll_timer_cb cb, void *aux);

/** Disarms 'timer' if armed. */
void poll_timer_stop(struct poll_loop *loop, struct poll_timer *timer);

static inline bool
poll_timer_is_armed(const struct poll_timer *timer)
{
    return timer->armed;
}

/** Makes the next (or current) poll_loop_run_once() return without blocking. */
void poll_loop_wake(struct poll_loop *loop);

/** Waits up to 'timeout_ms' (-1: until something happens) for fd events or timer
 * expiry, and runs the callbacks of what happened.  Returns the number of callbacks
 * run (>= 0), or a negative errno on failure of epoll_wait() other than EINTR. */
int poll_loop_run_once(struct poll_loop *loop, int timeout_ms);

#endif /* OVNIC_UTIL_POLL_H */
