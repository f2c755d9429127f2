/* ovnic: an epoll-based event loop with one-shot timers.
 *
 * Registered fds live in an hmap keyed by fd.  Each registration gets a serial number,
 * carried with the fd in the epoll event data, so that an event still pending in the
 * current batch for an fd that a callback removed (or removed and added again) is
 * recognised as stale and dropped.  Timers sit in a binary min-heap ordered by
 * (deadline, start sequence). */
#include "shared/util/poll.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "shared/util/hash.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(poll);

_Static_assert(OVNIC_POLL_IN == EPOLLIN && OVNIC_POLL_OUT == EPOLLOUT &&
                   OVNIC_POLL_ERR == EPOLLERR && OVNIC_POLL_HUP == EPOLLHUP,
               "POLL_* bits must match EPOLL*");

#define POLL_EVENTS_MAX 64
#define POLL_WAKE_SERIAL 0u

struct poll_fd {
    struct hmap_node node; /* In 'fds' of struct poll_loop, hashed by fd. */
    int fd;
    uint32_t events; /* OVNIC_POLL_IN | OVNIC_POLL_OUT. */
    uint32_t serial; /* Never POLL_WAKE_SERIAL. */
    poll_fd_cb cb;
    void *aux;
};

struct poll_loop {
    int epfd;
    int wakefd;
    struct hmap fds;      /* struct poll_fd. */
    uint32_t next_serial; /* For the next struct poll_fd. */

    struct poll_timer **heap; /* Min-heap on (deadline_ms, seq). */
    size_t n_timers;
    size_t heap_cap;
    uint64_t next_seq;
};

static uint32_t
fd_hash__(int fd)
{
    return hash_add32(0, (uint32_t)fd);
}

static uint64_t
event_data__(int fd, uint32_t serial)
{
    return ((uint64_t)serial << 32) | (uint32_t)fd;
}

static struct poll_fd *
fd_find__(const struct poll_loop *loop, int fd)
{
    struct poll_fd *pfd;
    HMAP_FOR_EACH_WITH_HASH (pfd, node, fd_hash__(fd), &loop->fds) {
        if (pfd->fd == fd) {
            return pfd;
        }
    }
    return NULL;
}

int
poll_loop_create(struct poll_loop **loopp)
{
    struct poll_loop *loop = calloc(1, sizeof *loop);
    if (!loop) {
        return -ENOMEM;
    }
    int error;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        error = -errno;
        goto err_free_loop;
    }
    loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->wakefd < 0) {
        error = -errno;
        goto err_close_epfd;
    }
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.u64 = event_data__(loop->wakefd, POLL_WAKE_SERIAL);
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev)) {
        error = -errno;
        goto err_close_wakefd;
    }
    hmap_init(&loop->fds);
    loop->next_serial = POLL_WAKE_SERIAL + 1;
    *loopp = loop;
    return 0;

err_close_wakefd:
    close(loop->wakefd);
err_close_epfd:
    close(loop->epfd);
err_free_loop:
    free(loop);
    return error;
}

void
poll_loop_destroy(struct poll_loop *loop)
{
    if (!loop) {
        return;
    }
    for (size_t i = 0; i < loop->n_timers; i++) {
        loop->heap[i]->armed = false;
    }
    free(loop->heap);

    struct poll_fd *pfd, *next;
    HMAP_FOR_EACH_SAFE (pfd, next, node, &loop->fds) {
        hmap_remove(&loop->fds, &pfd->node);
        free(pfd);
    }
    hmap_destroy(&loop->fds);
    close(loop->wakefd);
    close(loop->epfd);
    free(loop);
}

int
poll_loop_fd_add(struct poll_loop *loop, int fd, uint32_t events, poll_fd_cb cb,
                 void *aux)
{
    if (fd < 0) {
        return -EBADF;
    }
    if (fd_find__(loop, fd)) {
        return -EEXIST;
    }
    struct poll_fd *pfd = calloc(1, sizeof *pfd);
    if (!pfd) {
        return -ENOMEM;
    }
    pfd->fd = fd;
    pfd->events = events & (OVNIC_POLL_IN | OVNIC_POLL_OUT);
    pfd->serial = loop->next_serial++;
    if (loop->next_serial == POLL_WAKE_SERIAL) {
        loop->next_serial++;
    }
    pfd->cb = cb;
    pfd->aux = aux;

    struct epoll_event ev = {.events = pfd->events};
    ev.data.u64 = event_data__(fd, pfd->serial);
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev)) {
        int error = -errno;
        free(pfd);
        return error;
    }
    hmap_insert(&loop->fds, &pfd->node, fd_hash__(fd));
    return 0;
}

int
poll_loop_fd_modify(struct poll_loop *loop, int fd, uint32_t events)
{
    struct poll_fd *pfd = fd_find__(loop, fd);
    if (!pfd) {
        return -ENOENT;
    }
    events &= OVNIC_POLL_IN | OVNIC_POLL_OUT;
    struct epoll_event ev = {.events = events};
    ev.data.u64 = event_data__(fd, pfd->serial);
    if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev)) {
        return -errno;
    }
    pfd->events = events;
    return 0;
}

int
poll_loop_fd_remove(struct poll_loop *loop, int fd)
{
    struct poll_fd *pfd = fd_find__(loop, fd);
    if (!pfd) {
        return -ENOENT;
    }
    /* Fails only if 'fd' was already closed, which removed it from the epoll set. */
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    hmap_remove(&loop->fds, &pfd->node);
    free(pfd);
    return 0;
}

/* ---- Timers. ------------------------------------------------------------------ */

static bool
timer_before__(const struct poll_timer *a, const struct poll_timer *b)
{
    return a->deadline_ms < b->deadline_ms ||
           (a->deadline_ms == b->deadline_ms && a->seq < b->seq);
}

static void
heap_set__(struct poll_loop *loop, size_t idx, struct poll_timer *timer)
{
    loop->heap[idx] = timer;
    timer->heap_idx = idx;
}

static void
heap_sift_up__(struct poll_loop *loop, size_t idx)
{
    struct poll_timer *timer = loop->heap[idx];
    while (idx > 0) {
        size_t parent = (idx - 1) / 2;
        if (!timer_before__(timer, loop->heap[parent])) {
            break;
        }
        heap_set__(loop, idx, loop->heap[parent]);
        idx = parent;
    }
    heap_set__(loop, idx, timer);
}

static void
heap_sift_down__(struct poll_loop *loop, size_t idx)
{
    struct poll_timer *timer = loop->heap[idx];
    for (;;) {
        size_t child = 2 * idx + 1;
        if (child >= loop->n_timers) {
            break;
        }
        if (child + 1 < loop->n_timers &&
            timer_before__(loop->heap[child + 1], loop->heap[child])) {
            child++;
        }
        if (!timer_before__(loop->heap[child], timer)) {
            break;
        }
        heap_set__(loop, idx, loop->heap[child]);
        idx = child;
    }
    heap_set__(loop, idx, timer);
}

static void
heap_remove__(struct poll_loop *loop, struct poll_timer *timer)
{
    size_t idx = timer->heap_idx;
    assert(idx < loop->n_timers && loop->heap[idx] == timer);
    struct poll_timer *last = loop->heap[--loop->n_timers];
    if (last != timer) {
        heap_set__(loop, idx, last);
        heap_sift_up__(loop, idx);
        heap_sift_down__(loop, last->heap_idx);
    }
    timer->armed = false;
}

void
poll_timer_init(struct poll_timer *timer)
{
    memset(timer, 0, sizeof *timer);
}

void
poll_timer_start(struct poll_loop *loop, struct poll_timer *timer, uint64_t delay_ms,
                 poll_timer_cb cb, void *aux)
{
    if (timer->armed) {
        heap_remove__(loop, timer);
    }
    if (loop->n_timers == loop->heap_cap) {
        size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
        struct poll_timer **heap = realloc(loop->heap, cap * sizeof *heap);
        if (!heap) {
            /* A timer that silently never fires would hang its owner forever. */
            OLOG_ERR("out of memory for %zu timers", cap);
            abort();
        }
        loop->heap = heap;
        loop->heap_cap = cap;
    }
    uint64_t now = time_msec();
    timer->deadline_ms = delay_ms > UINT64_MAX - now ? UINT64_MAX : now + delay_ms;
    timer->cb = cb;
    timer->aux = aux;
    timer->seq = loop->next_seq++;
    timer->armed = true;
    heap_set__(loop, loop->n_timers++, timer);
    heap_sift_up__(loop, timer->heap_idx);
}

void
poll_timer_stop(struct poll_loop *loop, struct poll_timer *timer)
{
    if (timer->armed) {
        heap_remove__(loop, timer);
    }
}

/* ---- Running. ----------------------------------------------------------------- */

void
poll_loop_wake(struct poll_loop *loop)
{
    uint64_t one = 1;
    /* Fails only when the counter is saturated, which leaves it readable anyway. */
    ssize_t n OVNIC_UNUSED = write(loop->wakefd, &one, sizeof one);
}

static void
wake_drain__(struct poll_loop *loop)
{
    uint64_t count;
    ssize_t n OVNIC_UNUSED = read(loop->wakefd, &count, sizeof count);
}

/* Milliseconds to wait for epoll_wait(), given the caller's 'timeout_ms' and the
 * earliest timer. */
static int
wait_ms__(const struct poll_loop *loop, int timeout_ms)
{
    if (timeout_ms < 0) {
        timeout_ms = -1;
    }
    if (!loop->n_timers) {
        return timeout_ms;
    }
    uint64_t now = time_msec();
    uint64_t deadline = loop->heap[0]->deadline_ms;
    uint64_t until = deadline > now ? deadline - now : 0;
    if (until > INT_MAX) {
        until = INT_MAX;
    }
    return timeout_ms < 0 || (uint64_t)timeout_ms > until ? (int)until : timeout_ms;
}

static int
run_fd_events__(struct poll_loop *loop, const struct epoll_event *events, int n)
{
    int count = 0;
    for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)events[i].data.u64;
        uint32_t serial = (uint32_t)(events[i].data.u64 >> 32);
        if (serial == POLL_WAKE_SERIAL) {
            wake_drain__(loop);
            continue;
        }
        /* An earlier callback of this batch may have removed, re-added or modified
         * the fd: look it up again and drop what no longer applies. */
        struct poll_fd *pfd = fd_find__(loop, fd);
        if (!pfd || pfd->serial != serial) {
            continue;
        }
        uint32_t what =
            events[i].events & (pfd->events | OVNIC_POLL_ERR | OVNIC_POLL_HUP);
        if (!what) {
            continue;
        }
        pfd->cb(loop, fd, what, pfd->aux);
        count++;
    }
    return count;
}

static int
run_timers__(struct poll_loop *loop)
{
    int count = 0;
    uint64_t now = time_msec();
    uint64_t seq_limit = loop->next_seq;
    while (loop->n_timers) {
        struct poll_timer *timer = loop->heap[0];
        if (timer->deadline_ms > now || timer->seq >= seq_limit) {
            break;
        }
        heap_remove__(loop, timer);
        timer->cb(loop, timer, timer->aux);
        count++;
    }
    return count;
}

int
poll_loop_run_once(struct poll_loop *loop, int timeout_ms)
{
    struct epoll_event events[POLL_EVENTS_MAX];
    int n = epoll_wait(loop->epfd, events, POLL_EVENTS_MAX, wait_ms__(loop, timeout_ms));
    if (n < 0) {
        if (errno != EINTR) {
            return -errno;
        }
        n = 0;
    }
    int count = run_fd_events__(loop, events, n);
    return count + run_timers__(loop);
}
