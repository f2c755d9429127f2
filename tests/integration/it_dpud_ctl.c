/* ovnic integration: the limits of ovnic-dpud's control socket, against a real daemon
 * (datapath = none, no SB needed).
 *
 * - Idle connections and half-sent requests by the dozen do not lock out
 *   "ovnicctl dpud status": it still answers within 1 s.  Half-sent requests are
 *   answered with a timeout error.
 * - A client that sends up to 1,000,000 status requests and never reads the answers
 *   does not grow the daemon's memory past a bound: the daemon stops reading from it,
 *   and closes it once its output has been stuck for a while.
 * - Duplicate keys, and requests without params, with object params or a null id get
 *   error replies.
 * - A client refused because every slot is taken gets a clear error from ovnicctl. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ithelp.h"
#include "shared/util/util.h"

/* The daemon's limits (rpc_server.h defaults, docs/ovnic-dpud.md). */
#define MAX_CONNS 64
#define PER_PID 8
#define REQUEST_TIMEOUT_MS 10000
#define STALL_TIMEOUT_MS 10000

/* The bound on the daemon's memory growth under a client that never reads. */
#define RSS_BOUND_KB (64 * 1024)
#define FLOOD_REQUESTS 1000000

static char *dir;
static char ctl[100];
static pid_t dpud_pid;

static int
group_setup(void **state OVNIC_UNUSED)
{
    static char bin[512], sbarg[700], rundir[600], logarg[700];
    char *argv[] = {
        bin, "--system-id=hv-ctl", sbarg, "--encap-ip=192.0.2.5", rundir, logarg, NULL};
    uint64_t deadline;

    dir = it_tmpdir_create();
    if (!dir) {
        return -1;
    }
    snprintf(bin, sizeof bin, "%s/dpu/daemon/ovnic-dpud", it_build_dir());
    snprintf(sbarg, sizeof sbarg, "--sb-remote=unix:%s/no-sb.sock", dir);
    snprintf(rundir, sizeof rundir, "--rundir=%s", dir);
    snprintf(logarg, sizeof logarg, "--log-file=%s/ovnic-dpud.log", dir);
    snprintf(ctl, sizeof ctl, "%s/ovnic-dpud.ctl", dir);
    dpud_pid = it_spawn(argv, NULL);
    if (dpud_pid <= 0) {
        return -1;
    }
    deadline = time_msec() + 10000;
    while (access(ctl, F_OK) && time_msec() < deadline) {
        usleep(20 * 1000);
    }
    usleep(100 * 1000);
    /* Let other uids connect, so that the limits on unprivileged peers apply. */
    chmod(dir, 0755);
    chmod(ctl, 0777);
    return access(ctl, F_OK) ? -1 : 0;
}

static int
group_teardown(void **state OVNIC_UNUSED)
{
    if (dpud_pid > 0) {
        it_proc_stop(dpud_pid, IT_SIG_TERM, 10000);
    }
    it_tmpdir_remove(dir);
    free(dir);
    return 0;
}

/* Runs "ovnicctl dpud status --format=json"; returns the status (caller owns) or
 * NULL, with ovnicctl's exit status and combined output in '*rc' and '*out' (may be
 * NULL) and how long it took in '*ms'. */
static json_t *
status(int *rc, char **out, uint64_t *ms)
{
    uint64_t start = time_msec();
    char *text = NULL;
    json_t *j = NULL;
    int status = it_run(&text,
                        "%s/tools/ovnicctl/ovnicctl dpud status --format=json"
                        " --target=%s 2>&1",
                        it_build_dir(), ctl);

    if (ms) {
        *ms = time_msec() - start;
    }
    if (rc) {
        *rc = status;
    }
    if (!status && text) {
        j = json_loads(text, 0, NULL);
    }
    if (out) {
        *out = text;
    } else {
        free(text);
    }
    return j;
}

/* Counter "a.b" (or "a") of the control socket in status 's'. */
static int64_t
counter(const json_t *s, const char *a, const char *b)
{
    const json_t *c = json_object_get(json_object_get(s, "control_socket"), a);

    if (b) {
        c = json_object_get(c, b);
    }
    if (!json_is_integer(c)) {
        fail_msg("no control_socket counter %s%s%s", a, b ? "." : "", b ? b : "");
    }
    return json_integer_value(c);
}

/* Asserts that ovnicctl dpud status answers within 1 s; returns the status. */
static json_t *
status_fast(void)
{
    char *out = NULL;
    uint64_t ms;
    int rc;
    json_t *s = status(&rc, &out, &ms);

    if (!s || ms > 1000) {
        fail_msg("ovnicctl dpud status: exit %d after %" PRIu64 " ms: %s", rc, ms,
                 out ? out : "");
    }
    free(out);
    return s;
}

static int
cl_connect(void)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return -1;
    }
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", ctl);
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads one JSON value from 'fd' within 'ms'.  Caller owns; NULL on EOF or timeout. */
static json_t *
cl_read(int fd, int ms)
{
    char buf[65536];
    size_t len = 0;
    uint64_t end = time_msec() + (uint64_t)ms;

    while (len < sizeof buf && time_msec() < end) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        json_error_t jerr;
        json_t *j;
        ssize_t n;

        if (poll(&pfd, 1, 50) <= 0) {
            continue;
        }
        n = recv(fd, buf + len, sizeof buf - len, 0);
        if (n <= 0) {
            return NULL;
        }
        len += (size_t)n;
        j = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, &jerr);
        if (j) {
            return j;
        }
    }
    return NULL;
}

static bool
error_has(const json_t *reply, const char *text)
{
    const char *msg =
        json_string_value(json_object_get(json_object_get(reply, "error"), "error"));

    return msg && strstr(msg, text);
}

/* A child that connects 'n' times, as 'uid' (-1: unchanged), sends 'prefix' on each
 * connection (NULL: nothing), signals on 'ready' when done, then waits up to 'wait_ms'
 * for an answer on every connection, or for 'hold' to close.  It exits with the number
 * of connections that received an error containing 'expect' (NULL: 0). */
static pid_t
child_start(int n, int uid, const char *prefix, const char *expect, int wait_ms,
            int *readyp, int *holdp)
{
    int ready[2], hold[2];
    pid_t pid;

    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(hold), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (!pid) {
        int fds[64], got = 0;
        uint64_t end;
        char ch = 'C';

        close(ready[0]);
        close(hold[1]);
        if (uid >= 0 && (setgid((gid_t)uid) || setuid((uid_t)uid))) {
            _exit(255);
        }
        for (int i = 0; i < n && i < 64; i++) {
            fds[i] = cl_connect();
            if (fds[i] < 0) {
                _exit(254);
            }
            /* A refused connection may be closed (after its answer) before this
             * is written: EPIPE. */
            if (prefix && send(fds[i], prefix, strlen(prefix), MSG_NOSIGNAL) < 0 &&
                errno != EPIPE && errno != ECONNRESET) {
                _exit(253);
            }
        }
        if (write(ready[1], &ch, 1) != 1) {
            _exit(252);
        }
        end = time_msec() + (uint64_t)wait_ms;
        for (int i = 0; i < n && i < 64 && expect; i++) {
            uint64_t now = time_msec();
            json_t *r = now < end ? cl_read(fds[i], (int)(end - now)) : NULL;

            got += r && error_has(r, expect);
            json_decref(r);
        }
        if (!expect) {
            struct pollfd pfd = {.fd = hold[0], .events = POLLIN};

            poll(&pfd, 1, wait_ms);
        }
        _exit(got);
    }
    close(ready[1]);
    close(hold[0]);
    *readyp = ready[0];
    *holdp = hold[1];
    return pid;
}

static void
child_wait_ready(int ready)
{
    char ch;

    assert_int_equal(read(ready, &ch, 1), 1);
    close(ready);
}

static int
child_finish(pid_t pid, int hold)
{
    int status;

    close(hold);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* 64 idle connections from one process, then 64 half-sent requests from 8 processes
 * of 8 unprivileged uids: ovnicctl dpud status still answers within 1 s; the
 * half-sent requests get a timeout error. */
static void
test_lockout(void **state OVNIC_UNUSED)
{
    int fds[MAX_CONNS], ready[8], hold[8], timeouts = 0;
    pid_t pids[8];
    json_t *s;

    if (geteuid()) {
        skip();
    }
    for (int i = 0; i < MAX_CONNS; i++) {
        fds[i] = cl_connect();
        assert_true(fds[i] >= 0);
    }
    usleep(200 * 1000);
    s = status_fast();
    assert_true(counter(s, "refused", "peer") >= MAX_CONNS - PER_PID);
    json_decref(s);
    for (int i = 0; i < MAX_CONNS; i++) {
        close(fds[i]);
    }
    usleep(200 * 1000);

    for (int i = 0; i < 8; i++) {
        pids[i] =
            child_start(8, 60001 + i, "{\"method\":\"status\",\"params\":[", "incomplete",
                        REQUEST_TIMEOUT_MS + 5000, &ready[i], &hold[i]);
    }
    for (int i = 0; i < 8; i++) {
        child_wait_ready(ready[i]);
    }
    usleep(200 * 1000);
    s = status_fast();
    assert_true(counter(s, "refused", "reserved") >= 1);
    json_decref(s);
    for (int i = 0; i < 8; i++) {
        timeouts += child_finish(pids[i], hold[i]);
    }
    s = status_fast();
    assert_int_equal(counter(s, "closed", "request_timeout"), timeouts);
    assert_true(timeouts >= MAX_CONNS - 8 - 8); /* All but the reserve, and margin. */
    json_decref(s);
}

/* Every slot taken by root's processes: the refused ovnicctl says so clearly. */
static void
test_refused(void **state OVNIC_UNUSED)
{
    int ready[8], hold[8], rc;
    char *out = NULL;
    pid_t pids[8];
    json_t *s;

    if (geteuid()) {
        skip();
    }
    for (int i = 0; i < 8; i++) {
        pids[i] = child_start(PER_PID, -1, NULL, NULL, 20000, &ready[i], &hold[i]);
    }
    for (int i = 0; i < 8; i++) {
        child_wait_ready(ready[i]);
    }
    usleep(200 * 1000);
    s = status(&rc, &out, NULL);
    assert_null(s);
    assert_int_not_equal(rc, 0);
    if (!strstr(out, "refused the connection: too many connections: 64 open")) {
        fail_msg("ovnicctl dpud status, refused: exit %d: %s", rc, out);
    }
    free(out);
    for (int i = 0; i < 8; i++) {
        child_finish(pids[i], hold[i]);
    }
    usleep(200 * 1000);
    s = status_fast();
    assert_true(counter(s, "refused", "full") >= 1);
    json_decref(s);
}

/* Error replies for requests that are not well-formed; duplicate keys do not run
 * the second method. */
static void
test_bad_requests(void **state OVNIC_UNUSED)
{
    static const struct {
        const char *text;
        const char *error;
    } cases[] = {
        {"{\"method\":\"status\",\"method\":\"exit\",\"params\":[],\"id\":1}",
         "duplicate object key"},
        {"{\"method\":\"status\",\"params\":{},\"id\":1}", "\"params\" is not an array"},
        {"{\"method\":\"status\",\"id\":1}", "no \"params\""},
        {"{\"method\":\"status\",\"params\":[],\"id\":null}", "\"id\" is null"},
        {"{\"method\":\"status\",\"params\":[]}", "no \"id\""},
        {"{\"method\":\"status\",\"params\":[{\"a\":1,\"a\":2}],\"id\":1}",
         "duplicate object key"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int fd = cl_connect();
        json_t *r;

        assert_true(fd >= 0);
        assert_int_equal(send(fd, cases[i].text, strlen(cases[i].text), MSG_NOSIGNAL),
                         (ssize_t)strlen(cases[i].text));
        r = cl_read(fd, 2000);
        if (!r || !error_has(r, cases[i].error)) {
            char *got = r ? json_dumps(r, JSON_COMPACT) : NULL;

            fail_msg("%s: got %s, want an error with '%s'", cases[i].text,
                     got ? got : "no reply", cases[i].error);
        }
        json_decref(r);
        close(fd);
    }
    /* Still running: "exit" was not performed. */
    json_decref(status_fast());
}

static long
rss_kb(pid_t pid)
{
    char path[64], *text, *p;
    long kb = -1;

    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    text = it_file_read(path);
    p = text ? strstr(text, "VmRSS:") : NULL;
    if (p) {
        kb = strtol(p + 6, NULL, 10);
    }
    free(text);
    return kb;
}

/* Up to FLOOD_REQUESTS status requests pipelined on one connection that never reads:
 * the daemon's RSS stays within RSS_BOUND_KB of its start, the connection is paused,
 * then closed as stalled. */
static void
test_no_reader(void **state OVNIC_UNUSED)
{
    static const char req[] = "{\"method\":\"status\",\"params\":[],\"id\":1}";
    const size_t req_len = sizeof req - 1;
    static char chunk[1024 * (sizeof req - 1)];
    size_t chunk_n = 1024, chunk_len = sizeof chunk, ofs = 0;
    uint64_t last_progress, deadline;
    long rss0, rss1, rss_max;
    size_t sent_bytes = 0;
    int fd = cl_connect();
    json_t *s;

    assert_true(fd >= 0);
    for (size_t i = 0; i < chunk_n; i++) {
        memcpy(chunk + i * req_len, req, req_len);
    }
    rss0 = rss_max = rss_kb(dpud_pid);
    assert_true(rss0 > 0);
    last_progress = time_msec();
    while (sent_bytes < FLOOD_REQUESTS * req_len && time_msec() - last_progress < 2000) {
        size_t want = MIN(chunk_len - ofs, FLOOD_REQUESTS * req_len - sent_bytes);
        ssize_t n = send(fd, chunk + ofs, want, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n > 0) {
            sent_bytes += (size_t)n;
            ofs = (ofs + (size_t)n) % chunk_len;
            last_progress = time_msec();
        } else {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};

            assert_true(n < 0 && errno == EAGAIN);
            poll(&pfd, 1, 100);
            rss_max = MAX(rss_max, rss_kb(dpud_pid));
        }
    }
    rss1 = rss_kb(dpud_pid);
    rss_max = MAX(rss_max, rss1);
    fprintf(stderr,
            "no-reader client: %zu of %d requests sent; ovnic-dpud VmRSS %ld kB at start,"
            " %ld kB after (peak %ld kB, +%ld kB)\n",
            sent_bytes / req_len, FLOOD_REQUESTS, rss0, rss1, rss_max, rss_max - rss0);
    if (rss_max - rss0 > RSS_BOUND_KB) {
        fail_msg("ovnic-dpud grew by %ld kB (bound %d kB)", rss_max - rss0, RSS_BOUND_KB);
    }
    assert_true(sent_bytes < FLOOD_REQUESTS * req_len);

    s = status_fast();
    assert_int_equal(counter(s, "paused", NULL), 1);
    json_decref(s);

    /* Output stuck past the stall timeout: the daemon closes the connection. */
    deadline = time_msec() + STALL_TIMEOUT_MS + 10000;
    for (;;) {
        s = status_fast();
        if (counter(s, "closed", "stalled") == 1) {
            assert_int_equal(counter(s, "paused", NULL), 0);
            json_decref(s);
            break;
        }
        json_decref(s);
        assert_true(time_msec() < deadline);
        usleep(500 * 1000);
    }
    close(fd);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_lockout),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_no_reader),
    };

    /* OVNIC_IT_FILTER=test_no_reader runs one test, e.g. to measure a daemon built
     * elsewhere (OVNIC_BUILD_DIR). */
    if (getenv("OVNIC_IT_FILTER")) {
        cmocka_set_test_filter(getenv("OVNIC_IT_FILTER"));
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
