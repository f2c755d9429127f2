/* Unit tests for shared/util/poll: fd registry, timers, wake-ups, and callbacks that
 * change the loop while it runs. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/util/poll.h"
#include "shared/util/util.h"

static void
make_pipe__(int fds[2])
{
    assert_int_equal(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
}

static void
make_readable__(int wfd)
{
    assert_int_equal(write(wfd, "x", 1), 1);
}

static void
sleep_ms__(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ---- fds. --------------------------------------------------------------------- */

struct fd_probe {
    int calls;
    int fd;
    uint32_t events;
};

static void
fd_probe_cb(struct poll_loop *loop, int fd, uint32_t events, void *aux)
{
    struct fd_probe *p = aux;
    p->calls++;
    p->fd = fd;
    p->events = events;
}

static void
test_create_destroy(void **state)
{
    struct poll_loop *loop = NULL;
    assert_int_equal(poll_loop_create(&loop), 0);
    assert_non_null(loop);
    /* Nothing registered, nothing armed: returns at once with no callbacks. */
    assert_int_equal(poll_loop_run_once(loop, 0), 0);
    poll_loop_destroy(loop);
    poll_loop_destroy(NULL);
}

static void
test_fd_registry_errors(void **state)
{
    struct poll_loop *loop;
    assert_int_equal(poll_loop_create(&loop), 0);
    int p[2];
    make_pipe__(p);
    struct fd_probe probe = {0};

    assert_int_equal(poll_loop_fd_add(loop, p[0], OVNIC_POLL_IN, fd_probe_cb, &probe), 0);
    assert_int_equal(poll_loop_fd_add(loop, p[0], OVNIC_POLL_IN, fd_probe_cb, &probe),
                     -EEXIST);
    assert_int_equal(poll_loop_fd_add(loop, -1, OVNIC_POLL_IN, fd_probe_cb, &probe),
                     -EBADF);

    /* An fd number that is not open. */
    int closed = dup(p[1]);
    assert_true(closed >= 0);
    close(closed);
    assert_int_equal(poll_loop_fd_add(loop, closed, OVNIC_POLL_IN, fd_probe_cb, &probe),
                     -EBADF);
    /* A regular file cannot be polled with epoll. */
    int file = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    assert_true(file >= 0);
    assert_int_equal(poll_loop_fd_add(loop, file, OVNIC_POLL_IN, fd_probe_cb, &probe),
                     -EPERM);
    close(file);

    assert_int_equal(poll_loop_fd_modify(loop, p[1], OVNIC_POLL_OUT), -ENOENT);
    assert_int_equal(poll_loop_fd_remove(loop, p[1]), -ENOENT);
    assert_int_equal(poll_loop_fd_remove(loop, p[0]), 0);
    assert_int_equal(poll_loop_fd_remove(loop, p[0]), -ENOENT);
    assert_int_equal(poll_loop_fd_modify(loop, p[0], OVNIC_POLL_IN), -ENOENT);

    /* Once removed it can be added again. */
    assert_int_equal(poll_loop_fd_add(loop, p[0], OVNIC_POLL_IN, fd_probe_cb, &probe), 0);
    /* Removing an fd that was closed first still forgets it. */
    close(p[0]);
    assert_int_equal(poll_loop_fd_remove(loop, p[0]), 0);
    assert_int_equal(probe.calls, 0);
    close(p[1]);
    poll_loop_destroy(loop);
}

static void
test_fd_events(void **state)
{
    struct poll_loop *loop;
    assert_int_equal(poll_loop_create(&loop), 0);
    int p[2];
    make_pipe__(p);
    struct fd_probe rd = {0}, wr = {0};

    assert_int_equal(poll_loop_fd_add(loop, p[0], OVNIC_POLL_IN, fd_probe_cb, &rd), 0);
    assert_int_equal(poll_loop_fd_add(loop, p[1], OVNIC_POLL_OUT, fd_probe_cb, &wr), 0);

    /* The write end is writable; the read end is empty. */
    assert_int_equal(poll_loop_run_once(loop, 0), 1);
    assert_int_equal(wr.calls, 1);
    assert_int_equal(wr.fd, p[1]);
    assert_int_equal(wr.events, OVNIC_POLL_OUT);
    assert_int_equal(rd.calls, 0);

    /* Stop watching OVNIC_POLL_OUT: no more calls for it. */
    assert_int_equal(poll_loop_fd_modify(loop, p[1], 0), 0);
    assert_int_equal(poll_loop_run_once(loop, 0), 0);
    assert_int_equal(wr.calls, 1);

    make_readable__(p[1]);
    assert_int_equal(poll_loop_run_once(loop, 1000), 1);
    assert_int_equal(rd.calls, 1);
    assert_int_equal(rd.fd, p[0]);
    assert_int_equal(rd.events, OVNIC_POLL_IN);

    /* Level-triggered: still readable until drained. */
    assert_int_equal(poll_loop_run_once(loop, 0), 1);
    assert_int_equal(rd.calls, 2);
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    assert_int_equal(poll_loop_run_once(loop, 0), 0);

    /* Both directions at once. */
    assert_int_equal(poll_loop_fd_modify(loop, p[1], OVNIC_POLL_OUT | OVNIC_POLL_IN), 0);
    make_readable__(p[1]);
    assert_int_equal(poll_loop_run_once(loop, 0), 2);
    assert_int_equal(rd.calls, 3);
    assert_int_equal(wr.calls, 2);
    assert_int_equal(read(p[0], &c, 1), 1);

    /* Closing the write end: the read end sees a hang-up, even if only OVNIC_POLL_OUT is
     * watched on it. */
    assert_int_equal(poll_loop_fd_remove(loop, p[1]), 0);
    close(p[1]);
    assert_int_equal(poll_loop_fd_modify(loop, p[0], OVNIC_POLL_OUT), 0);
    assert_int_equal(poll_loop_run_once(loop, 1000), 1);
    assert_int_equal(rd.calls, 4);
    assert_true(rd.events & OVNIC_POLL_HUP);
    assert_false(rd.events & OVNIC_POLL_IN);

    assert_int_equal(poll_loop_fd_remove(loop, p[0]), 0);
    close(p[0]);
    poll_loop_destroy(loop);
}

/* Several readable pipes; every callback removes and closes all the others, so only
 * one callback may run even though epoll reported all of them in one batch. */
struct victim_set {
    int rfds[4];
    int wfds[4];
    int calls;
};

static void
remove_others_cb(struct poll_loop *loop, int fd, uint32_t events, void *aux)
{
    struct victim_set *vs = aux;
    vs->calls++;
    for (int i = 0; i < 4; i++) {
        if (vs->rfds[i] >= 0) {
            assert_int_equal(poll_loop_fd_remove(loop, vs->rfds[i]), 0);
            close(vs->rfds[i]);
            close(vs->wfds[i]);
            vs->rfds[i] = vs->wfds[i] = -1;
        }
    }
}

static void
test_remove_pending_fd(void **state)
{
    struct poll_loop *loop;
    assert_int_equal(poll_loop_create(&loop), 0);
    struct victim_set vs = {.calls = 0};
    for (int i = 0; i < 4; i++) {
        int p[2];
        make_pipe__(p);
        vs.rfds[i] = p[0];
        vs.wfds[i] = p[1];
        make_readable__(p[1]);
        assert_int_equal(
            poll_loop_fd_add(loop, p[0], OVNIC_POLL_IN, remove_others_cb, &vs), 0);
    }
    assert_int_equal(poll_loop_run_once(loop, 1000), 1);
    assert_int_equal(vs.calls, 1);
    assert_int_equal(poll_loop_run_once(loop, 0), 0);
    poll_loop_destroy(loop);
}

/* Removes the other fd and registers the same fd number again with another callback:
 * the event already pending for the old registration must not reach the new one. */
struct readd_ctx {
    int fds[2];
    struct fd_probe fresh;
    int calls;
};

static void
readd_other_cb(struct poll_loop *loop, int fd, uint32_t events, void *aux)
{
    struct readd_ctx *ctx = aux;
    ctx->calls++;
    int other = fd == ctx->fds[0] ? ctx->fds[1] : ctx->fds[0];
    assert_int_equal(poll_loop_fd_remove(loop, other), 0);
    assert_int_equal(
        poll_loop_fd_add(loop, other, OVNIC_POLL_IN, fd_probe_cb, &ctx->fresh), 0);
    assert_int_equal(poll_loop_fd_remove(loop, fd), 0);
}

static void
test_readd_pending_fd(void **state)
{
    struct poll_loop *loop;
    assert_int_equal(poll_loop_create(&loop), 0);
    struct readd_ctx ctx = {.calls = 0};
    int a[2], b[2];
    make_pipe__(a);
    make_pipe__(b);
    ctx.fds[0] = a[0];
    ctx.fds[1] = b[0];
    make_readable__(a[1]);
    make_readable__(b[1]);
    assert_int_equal(poll_loop_fd_add(loop, a[0], OVNIC_POLL_IN, readd_other_cb, &ctx),
                     0);
    assert_int_equal(poll_loop_fd_add(loop, b[0], OVNIC_POLL_IN, readd_other_cb, &ctx),
                     0);

    assert_int_equal(poll_loop_run_once(loop, 1000), 1);
    assert_int_equal(ctx.calls, 1);
    assert_int_equal(ctx.fresh.calls, 0);

    /* The new registration gets its own events from the next round. */
    assert_int_equal(poll_loop_run_once(loop, 1000), 1);
    assert_int_equal(ctx.fresh.calls, 1);
    assert_int_equal(ctx.fresh.events, OVNIC_POLL_IN);

    poll_loop_destroy(loop);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

/* A callback that removes its own fd, and registers a new one. */
struct self_ctx {
    int rfd, wfd;
    int new_rfd, new_wfd;
    struct fd_probe added;
    int calls;
};

static void
self_remove_cb(struct poll_loop *loop, int fd, uint32_t events, void *aux)
{
    struct self_ctx *ctx = aux;
    ctx->calls++;
    assert_int_equal(poll_loop_fd_remove(loop, fd), 0);
    close(ctx->rfd);
    close(ctx->wfd);
    assert_int_equal(
        poll_loop_fd_add(loop, ctx->new_rfd, OVNIC_POLL_IN, fd_probe_cb, &ctx->added), 0);
}

static void
test_self_remove_and_add(void **state)
{
    struct poll_loop *loop;
    assert_int_equal(poll_loop_create(&loop), 0);
    struct self_ctx ctx = {.calls = 0};
    int p[2], q[2];
    make_pipe__(p);
    make_pipe__(q);
    ctx.rfd = p[0];
    ctx.wfd = p[1];
    ctx.new_rfd = q[0];
    ctx.new_wfd = q[1];
    make_readable__(p[1]);
    make_readable__(q[1]);
    assert_int_equal(poll_loop_fd_add(loop, p[0], OVNIC_POLL_IN, self_remove_cb, &ctx),
                     0);

    assert_int_equal(poll_loop_run_once(loop, 1000), 1);
    assert_int_equal(ctx.calls, 1);
    assert_int_equal(poll_loop_run_once(loop, 1000), 1);
    assert_int_equal(ctx.calls, 1);
    assert_int_equal(ctx.added.calls, 1);
    assert_int_equal(ctx.added.fd, q[0]);

    assert_int_equal(poll_loop_fd_remove(loop, q[0]), 0);
    close(q[0]);
    close(q[1]);
    poll_loop_destroy(loop);
}

/* Many fds at once, more than one epoll batch. */
static void
drain_cb(struct poll_loop *loop, int fd, uint32_t events, void *aux)
{
    int *calls = aux;
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
    (*calls)++;
}

static void
test_many_fds(void **state)
{
    enum { N = 200 };
    struct poll_loop *loop;
    assert_int_equal(poll_loop_create(&loop), 0);
    int p[N][2];
    int calls[N];
    memset(calls, 0, sizeof calls);
    for (int i = 0; i < N; i++) {
        make_pipe__(p[i]);
        assert_int_equal(
            poll_loop_fd_add(loop, p[i][0], OVNIC_POLL_IN, drain_cb, &calls[i]), 0);
        make_readable__(p[i][1]);
    }
    int total = 0, rounds = 0;
    while (total < N) {
        int n = poll_loop_run_once(loop, 1000);
        assert_true(n > 0);
        total += n;
        rounds++;
    }
    assert_int_equal(total, N);
    assert_true(rounds > 1);
    assert_int_equal(poll_loop_run_once(loop, 0), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(calls[i], 1);
        assert_int_equal(poll_loop_fd_remove(loop, p[i][0]), 0);
        close(p[i][0]);
        close(p[i][1]);
    }
    poll_loop_destroy(loop);
}

/* ---- Timers. ------------------------------------------------------------------ */

struct timer_log {
    int order[64];
    int n;
};

struct tagged_timer {
    struct poll_timer timer;
    struct timer_log *log;
    int tag;
};

static void
log_timer_cb(struct poll_loop *loop, struct poll_timer *timer, void *aux)
{
    struct tagged_timer *t = CONTAINER_OF(timer, struct tagged_timer, timer);
    assert_ptr_equal(aux, t);
    assert_false(poll_timer_is_armed(timer));
    assert_true(t->log->n < 64);
    t->log->order[t->log->n++] = t->tag;
}

static void
run_until__(struct poll_loop *loop, const struct timer_log *log, int n)
{
    uint64_t start = time_msec();
    while (log->n < n) {
        assert_true(poll_loop_run_once(loop, 1000) >= 0);
        assert_true(time_msec() - start < 5000);
    }
}

static void
test_timer_order(void **state)
{
    struct poll_loop *loop;
    assert_int_equal(poll_loop_create(&loop), 0);
    struct timer_log log = {.n = 0};
    const uint64_t delays[] = {30, 10, 0, 20, 10, 0};
    const int expected[] = {2, 5, 1, 4, 3, 0};
    struct tagged_timer t[ARRAY_SIZE(delays)];
    for (size_t i = 0; i < ARRAY_SIZE(delays); i++) {
        t[i].log = &log;
        t[i].tag = (int)i;
        poll_timer_init(&t[i].timer);
        assert_false(poll_timer_is_armed(&t[i].timer));
        poll_timer_start(loop, &t[i].timer, delays[i], log_timer_cb, &t[i]);
        assert_true(poll_timer_is_armed(&t[i].timer));
    }
    run_until__(loop, &log, ARRAY_SIZE(delays));
    assert_int_equal(log.n, ARRAY_SIZE(delays));
    for (size_t i = 0; i < ARRAY_SIZE(expected); i++) {
        assert_int_equal(log.order[i], expected[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(delays); i++) {
        assert_false(poll_timer_is_armed(&t[i].timer));
    }
    /* Nothing left to fire. */
    assert_int_equal(poll_loop_run_once(loop, 0), 0);
    poll_loop_destroy(loop);
}

static void
test_timer_wait_and_timeout(void **state)
{
    struct poll_loop *loop;
    assert_int_equal(poll_loop_create(&loop), 0);
    struct timer_log log = {.n = 0};
    struct tagged_timer t = {.log = &log, .tag = 7};
    poll_timer_init(&t.timer);

    /* The wait ends with the earliest timer even with an infinite timeout. */
    uint64_t start = time_msec();
    poll_timer_start(loop, &t.timer, 40, log_timer_cb, &t);
    assert_true(t.timer.deadline_ms >= start + 40);
    int n = 0;
    while (!n) {
        n = poll_loop_run_once(loop, -1);
        assert_true(time_msec() - start < 5000);
    }
    assert_int_equal(n, 1);
    assert_true(time_msec() >= start + 40);
    assert_int_equal(log.n, 1);

    /* A caller timeout shorter than the timer: return without firing it. */
    poll_timer_start(loop, &t.timer, 10000, log_timer_cb, &t);
    start = time_msec();
    assert_int_equal(poll_loop_run_once(loop, 20), 0);
    assert_true(time_msec() >= start + 15);
    assert_true(poll_timer_is_armed(&t.timer));
    assert_int_equal(log.n, 1);

    /* Destroying the loop disarms its timers. */
    poll_loop_destroy(loop);
    assert_false(poll_timer_is_armed(&t.timer));
}

static void
test_timer_stop_restart(void **state)
{
    struct poll_loop *loop;
    assert_int_equal(poll_loop_create(&loop), 0);
    struct timer_log log = {.n = 0};
    struct tagged_timer t[3];
    for (int i = 0; i < 3; i++) {
        t[i].log = &log;
        t[i].tag = i;
        poll_timer_init(&t[i].timer);
        poll_timer_start(loop, &t[i].timer, 0, log_timer_cb, &t[i]);
    }
    /* Stop one, re-arm another for later, and stop an unarmed timer. */
    poll_timer_stop(loop, &t[1].timer);
    assert_false(poll_timer_is_armed(&t[1].timer));
    poll_timer_stop(loop, &t[1].timer);
    poll_timer_start(loop, &t[0].timer, 30, log_timer_cb, &t[0]);
    assert_true(poll_timer_is_armed(&t[0].timer));

    assert_int_equal(poll_loop_run_once(loop, 0), 1);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.order[0], 2);
    run_until__(loop, &log, 2);
    assert_int_equal(log.order[1], 0);
    assert_int_equal(poll_loop_run_once(loop, 0), 0);
    assert_int_equal(log.n, 2);

    /* A zero-initialised timer works without poll_timer_init(). */
    struct tagged_timer z;
    memset(&z, 0, sizeof z);
    z.log = &log;
    z.tag = 9;
    poll_timer_stop(loop, &z.timer);
    poll_timer_start(loop, &z.timer, 0, log_timer_cb, &z);
    assert_int_equal(poll_loop_run_once(loop, 0), 1);
    assert_int_equal(log.order[2], 9);
    poll_loop_destroy(loop);
}

/* Timer callbacks that change other timers of the same round. */
struct meddler {
    struct poll_timer timer;
    struct poll_timer *victim;  /* Stopped by the callback. */
    struct poll_timer *delayed; /* Re-armed 10 s later by the callback. */
    struct tagged_timer *spawn; /* Started with delay 0 by the callback. */
    int calls;
    int rearms; /* Times to re-arm itself with delay 0. */
};

static void
meddler_cb(struct poll_loop *loop, struct poll_timer *timer, void *aux)
{
    struct meddler *m = aux;
    m->calls++;
    if (m->victim) {
        poll_timer_stop(loop, m->victim);
    }
    if (m->delayed) {
        poll_timer_start(loop, m->delayed, 10000, log_timer_cb,
                         CONTAINER_OF(m->delayed, struct tagged_timer, timer));
    }
    if (m->spawn) {
        poll_timer_start(loop, &m->spawn->timer, 0, log_timer_cb, m->spawn);
    }
    if (m->rearms > 0) {
        m->rearms--;
        poll_timer_start(loop, timer, 0, meddler_cb, m);
    }
}

static void
test_timer_callbacks_meddle(void **state)
{
    struct poll_loop *loop;
    assert_int_equal(poll_loop_create(&loop), 0);
    struct timer_log log = {.n = 0};
    struct tagged_timer victim = {.log = &log, .tag = 1};
    struct tagged_timer delayed = {.log = &log, .tag = 2};
    struct tagged_timer spawn = {.log = &log, .tag = 3};
    struct meddler m = {
        .victim = &victim.timer, .delayed = &delayed.timer, .spawn = &spawn, .rearms = 3};
    poll_timer_init(&victim.timer);
    poll_timer_init(&delayed.timer);
    poll_timer_init(&spawn.timer);
    poll_timer_init(&m.timer);

    /* All due now; the meddler was started first so it fires first. */
    poll_timer_start(loop, &m.timer, 0, meddler_cb, &m);
    poll_timer_start(loop, &victim.timer, 0, log_timer_cb, &victim);
    poll_timer_start(loop, &delayed.timer, 0, log_timer_cb, &delayed);
    sleep_ms__(2);

    /* Round 1: only the meddler runs; what it stopped or pushed back does not fire,
     * and what it (re)started waits for the next round. */
    assert_int_equal(poll_loop_run_once(loop, 0), 1);
    assert_int_equal(m.calls, 1);
    assert_int_equal(log.n, 0);
    assert_false(poll_timer_is_armed(&victim.timer));
    assert_true(poll_timer_is_armed(&delayed.timer));
    assert_true(poll_timer_is_armed(&spawn.timer));
    assert_true(poll_timer_is_armed(&m.timer));

    /* Round 2: 'spawn', then the re-armed meddler. */
    m.victim = NULL;
    m.delayed = NULL;
    m.spawn = NULL;
    assert_int_equal(poll_loop_run_once(loop, 1000), 2);
    assert_int_equal(m.calls, 2);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.order[0], 3);

    /* A timer that keeps re-arming itself runs once per round, never in a loop. */
    assert_int_equal(poll_loop_run_once(loop, 1000), 1);
    assert_int_equal(m.calls, 3);
    assert_int_equal(poll_loop_run_once(loop, 1000), 1);
    assert_int_equal(m.calls, 4);
    assert_false(poll_timer_is_armed(&m.timer));
    assert_int_equal(poll_loop_run_once(loop, 0), 0);

    assert_true(poll_timer_is_armed(&delayed.timer));
    poll_timer_stop(loop, &delayed.timer);
    poll_loop_destroy(loop);
}

/* Random starts, restarts and stops on many timers keep the heap consistent: every
 * armed timer fires once, in deadline order, and stopped ones never. */
struct heap_timer {
    struct poll_timer timer;
    int fired;
    uint64_t fired_deadline;
};

static uint64_t last_deadline;
static int fired_total;

static void
heap_timer_cb(struct poll_loop *loop, struct poll_timer *timer, void *aux)
{
    struct heap_timer *h = aux;
    assert_true(timer->deadline_ms >= last_deadline);
    last_deadline = timer->deadline_ms;
    h->fired++;
    fired_total++;
}

static void
test_timer_heap_stress(void **state)
{
    enum { N = 1000 };
    struct poll_loop *loop;
    assert_int_equal(poll_loop_create(&loop), 0);
    struct heap_timer *h = calloc(N, sizeof *h);
    assert_non_null(h);
    unsigned int seed = 12345;
    for (int round = 0; round < 3 * N; round++) {
        struct heap_timer *x = &h[rand_r(&seed) % N];
        if (rand_r(&seed) % 4 == 0) {
            poll_timer_stop(loop, &x->timer);
        } else {
            poll_timer_start(loop, &x->timer, rand_r(&seed) % 40, heap_timer_cb, x);
        }
    }
    int armed = 0;
    for (int i = 0; i < N; i++) {
        armed += poll_timer_is_armed(&h[i].timer);
    }
    assert_true(armed > N / 2);

    last_deadline = 0;
    fired_total = 0;
    uint64_t start = time_msec();
    while (fired_total < armed) {
        assert_true(poll_loop_run_once(loop, 1000) >= 0);
        assert_true(time_msec() - start < 5000);
    }
    assert_int_equal(fired_total, armed);
    for (int i = 0; i < N; i++) {
        assert_true(h[i].fired <= 1);
        assert_false(poll_timer_is_armed(&h[i].timer));
    }
    assert_int_equal(poll_loop_run_once(loop, 0), 0);
    free(h);
    poll_loop_destroy(loop);
}

/* ---- Wake-ups. ---------------------------------------------------------------- */

static void
test_wake_same_thread(void **state)
{
    struct poll_loop *loop;
    assert_int_equal(poll_loop_create(&loop), 0);
    poll_loop_wake(loop);
    poll_loop_wake(loop);
    uint64_t start = time_msec();
    /* Returns at once with no callbacks, and the wake-up is used up. */
    assert_int_equal(poll_loop_run_once(loop, 5000), 0);
    assert_true(time_msec() - start < 2000);
    start = time_msec();
    assert_int_equal(poll_loop_run_once(loop, 30), 0);
    assert_true(time_msec() - start >= 25);
    poll_loop_destroy(loop);
}

static void *
waker_main(void *loop)
{
    sleep_ms__(30);
    poll_loop_wake(loop);
    return NULL;
}

static void
test_wake_other_thread(void **state)
{
    struct poll_loop *loop;
    assert_int_equal(poll_loop_create(&loop), 0);
    pthread_t thread;
    uint64_t start = time_msec();
    assert_int_equal(pthread_create(&thread, NULL, waker_main, loop), 0);
    assert_int_equal(poll_loop_run_once(loop, -1), 0);
    assert_true(time_msec() - start < 4000);
    pthread_join(thread, NULL);
    poll_loop_destroy(loop);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_destroy),
        cmocka_unit_test(test_fd_registry_errors),
        cmocka_unit_test(test_fd_events),
        cmocka_unit_test(test_remove_pending_fd),
        cmocka_unit_test(test_readd_pending_fd),
        cmocka_unit_test(test_self_remove_and_add),
        cmocka_unit_test(test_many_fds),
        cmocka_unit_test(test_timer_order),
        cmocka_unit_test(test_timer_wait_and_timeout),
        cmocka_unit_test(test_timer_stop_restart),
        cmocka_unit_test(test_timer_callbacks_meddle),
        cmocka_unit_test(test_timer_heap_stress),
        cmocka_unit_test(test_wake_same_thread),
        cmocka_unit_test(test_wake_other_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
