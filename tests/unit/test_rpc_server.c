/* Unit tests for shared/util/rpc_server: a server on a punix: socket driven by a poll
 * loop, and raw unix-socket clients played by the test, which runs the loop while it
 * waits for their answers.  Timeouts are short in the settings.  The tests that need a
 * second uid fork a child that runs as nobody (they need root). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/util/json.h"
#include "shared/util/poll.h"
#include "shared/util/rpc_server.h"
#include "shared/util/util.h"

#define NOBODY 65534
#define BIG_REPLY 16384

struct deferred {
    uint64_t conn;
    json_t *id;
};

struct fixture {
    char dir[64];
    char path[128];
    struct poll_loop *loop;
    struct rpc_server *server;
    unsigned int n_calls;
    struct deferred deferred[16];
    size_t n_deferred;
    uint64_t last_conn;
    uint64_t order[128]; /* Connection of each request, in the order handled. */
    size_t n_order;
    unsigned int n_open, n_close;
    uint64_t last_open, last_close;
    enum rpc_server_close_reason last_reason;
};

/* The handler: "echo" answers with its params, "big" with a BIG_REPLY-byte string,
 * "defer" is answered later by the test, anything else is an error. */
static void
handle(void *aux, uint64_t conn, const struct rpc_server_request *req)
{
    struct fixture *f = aux;

    f->n_calls++;
    f->last_conn = conn;
    if (f->n_order < ARRAY_SIZE(f->order)) {
        f->order[f->n_order++] = conn;
    }
    if (!strcmp(req->method, "echo")) {
        rpc_server_reply(f->server, conn, req->id, json_deep_copy(req->params));
    } else if (!strcmp(req->method, "big")) {
        char *s = malloc(BIG_REPLY + 1);

        assert_non_null(s);
        memset(s, 'x', BIG_REPLY);
        s[BIG_REPLY] = '\0';
        rpc_server_reply(f->server, conn, req->id, json_string(s));
        free(s);
    } else if (!strcmp(req->method, "defer")) {
        assert_true(f->n_deferred < ARRAY_SIZE(f->deferred));
        f->deferred[f->n_deferred].conn = conn;
        f->deferred[f->n_deferred].id = json_deep_copy(req->id);
        f->n_deferred++;
    } else {
        rpc_server_reply_error(f->server, conn, req->id, -ENOSYS, "unknown method");
    }
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ovnic-rpc-server-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/s", f->dir);
    assert_int_equal(poll_loop_create(&f->loop), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    rpc_server_destroy(f->server);
    for (size_t i = 0; i < f->n_deferred; i++) {
        json_decref(f->deferred[i].id);
    }
    poll_loop_destroy(f->loop);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Settings with every limit and timeout off, to be turned on by each test. */
static struct rpc_server_settings
open_settings(void)
{
    struct rpc_server_settings s;

    rpc_server_settings_default(&s);
    s.name = "test server";
    s.max_conns = 64;
    s.reserved_conns = 0;
    s.max_conns_per_pid = 0;
    s.max_conns_per_uid = 0;
    s.max_pending = 0;
    s.backlog_max = 0;
    s.idle_timeout_ms = 0;
    s.request_timeout_ms = 0;
    s.stall_timeout_ms = 0;
    return s;
}

static void
start(struct fixture *f, const struct rpc_server_settings *s)
{
    char name[160];
    struct ovnic_err err = {0};

    snprintf(name, sizeof name, "punix:%s", f->path);
    assert_int_equal(
        rpc_server_create(f->loop, name, NULL, s, handle, f, &f->server, &err), 0);
    /* For the child that runs as another uid. */
    chmod(f->dir, 0755);
    chmod(f->path, 0777);
}

static void
run_for(struct fixture *f, int ms)
{
    uint64_t end = time_msec() + (uint64_t)ms;

    while (time_msec() < end) {
        poll_loop_run_once(f->loop, 5);
    }
}

static struct rpc_server_stats
stats(struct fixture *f)
{
    struct rpc_server_stats st;

    rpc_server_get_stats(f->server, &st);
    return st;
}

static int
cl_connect(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    return fd;
}

static void
cl_send(int fd, const char *text)
{
    size_t len = strlen(text);

    assert_int_equal(send(fd, text, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* A client's receive buffer. */
struct cl {
    int fd;
    char buf[1 << 16];
    size_t len;
    bool eof;
};

/* Runs the loop of 'f' (NULL: none, for a child) until 'c' has received a complete
 * JSON value (returned; caller owns) or EOF or 'ms' pass (NULL). */
static json_t *
cl_recv(struct fixture *f, struct cl *c, int ms)
{
    uint64_t end = time_msec() + (uint64_t)ms;

    for (;;) {
        json_t *json = NULL;
        size_t used;
        ssize_t n;

        if (c->len && !json_parse_prefix(c->buf, c->len, &json, &used, NULL)) {
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            return json;
        }
        if (c->eof || time_msec() >= end) {
            return NULL;
        }
        if (f) {
            poll_loop_run_once(f->loop, 2);
        } else {
            struct pollfd pfd = {.fd = c->fd, .events = POLLIN};

            poll(&pfd, 1, 10);
        }
        n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, MSG_DONTWAIT);
        if (n > 0) {
            c->len += (size_t)n;
        } else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            c->eof = true;
        }
    }
}

/* True if 'c' sees EOF within 'ms' (after any queued values, which are dropped). */
static bool
cl_wait_eof(struct fixture *f, struct cl *c, int ms)
{
    uint64_t end = time_msec() + (uint64_t)ms;

    while (time_msec() < end) {
        json_decref(cl_recv(f, c, 10));
        if (c->eof && !c->len) {
            return true;
        }
    }
    return false;
}

/* The code of error reply 'reply', checking that its text contains 'text'. */
static int
error_code(const json_t *reply, const char *text)
{
    const json_t *e = json_object_get(reply, "error");
    const char *msg = json_string_value(json_object_get(e, "error"));

    assert_non_null(msg);
    if (!strstr(msg, text)) {
        fail_msg("error '%s' lacks '%s'", msg, text);
    }
    return (int)json_integer_value(json_object_get(e, "code"));
}

static void
test_request_parse(void **state OVNIC_UNUSED)
{
    static const struct {
        const char *text;
        const char *error; /* NULL: valid. */
    } cases[] = {
        {"{\"method\":\"m\",\"params\":[],\"id\":1}", NULL},
        {"{\"method\":\"m\",\"params\":[{}],\"id\":\"x\"}", NULL},
        {"{\"method\":\"m\",\"params\":{},\"id\":1}", "\"params\" is not an array"},
        {"{\"method\":\"m\",\"id\":1}", "no \"params\""},
        {"{\"method\":\"m\",\"params\":[],\"id\":null}",
         "notifications are not accepted"},
        {"{\"method\":\"m\",\"params\":[]}", "no \"id\""},
        {"{\"method\":1,\"params\":[],\"id\":1}", "\"method\" is not a string"},
        {"{\"method\":\"\",\"params\":[],\"id\":1}", "empty"},
        {"{\"params\":[],\"id\":1}", "no \"method\""},
        {"{\"result\":1,\"error\":null,\"id\":1}", "a reply, not a request"},
        {"{\"method\":\"m\",\"params\":[],\"id\":1,\"x\":2}", "unexpected member"},
        {"{\"method\":\"m\",\"params\":[],\"id\":1,\"result\":2}", "no \"result\""},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct rpc_server_request req = {NULL, NULL, NULL};
        struct ovnic_err err = {0};
        json_t *json = json_loads(cases[i].text, 0, NULL);
        int error;

        assert_non_null(json);
        error = rpc_server_request_parse(json, &req, &err);
        if (!cases[i].error) {
            assert_int_equal(error, 0);
            assert_string_equal(req.method, "m");
        } else {
            char buf[256];

            assert_int_equal(error, -EINVAL);
            assert_null(req.method);
            ovnic_err_format(&err, buf, sizeof buf);
            if (!strstr(buf, cases[i].error)) {
                fail_msg("%s: '%s' lacks '%s'", cases[i].text, buf, cases[i].error);
            }
        }
        json_decref(json);
    }
}

/* Answers at once and later; a late answer for a connection that has gone is
 * dropped. */
static void
test_reply(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    struct cl c = {.fd = -1};
    json_t *r;

    start(f, &s);
    c.fd = cl_connect(f->path);
    cl_send(c.fd, "{\"method\":\"echo\",\"params\":[{\"a\":1}],\"id\":7}"
                  "{\"method\":\"defer\",\"params\":[],\"id\":\"d\"}");
    r = cl_recv(f, &c, 2000);
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(r, "result"), 0), "a")),
                     1);
    json_decref(r);
    run_for(f, 50);
    assert_int_equal(f->n_deferred, 1);
    assert_int_equal(rpc_server_reply(f->server, f->deferred[0].conn, f->deferred[0].id,
                                      json_string("later")),
                     0);
    r = cl_recv(f, &c, 2000);
    assert_string_equal(json_string_value(json_object_get(r, "result")), "later");
    assert_string_equal(json_string_value(json_object_get(r, "id")), "d");
    json_decref(r);

    close(c.fd);
    run_for(f, 50);
    assert_int_equal(
        rpc_server_reply(f->server, f->deferred[0].conn, f->deferred[0].id, json_null()),
        -ENOENT);
    assert_int_equal(stats(f).closed_peer, 1);
    assert_int_equal(stats(f).requests, 2);
    assert_int_equal(stats(f).conns, 0);
}

/* Well-framed bad requests get error replies and the connection goes on. */
static void
test_bad_requests(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    struct cl c = {.fd = -1};
    json_t *r;

    start(f, &s);
    c.fd = cl_connect(f->path);
    cl_send(c.fd, "{\"method\":\"echo\",\"params\":{},\"id\":1}"
                  "{\"method\":\"echo\",\"id\":2}"
                  "{\"method\":\"echo\",\"params\":[],\"id\":null}"
                  "{\"method\":\"echo\",\"params\":[]}"
                  "{\"method\":\"echo\",\"params\":[],\"id\":5}");
    r = cl_recv(f, &c, 2000);
    assert_int_equal(error_code(r, "\"params\" is not an array"), -EINVAL);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
    json_decref(r);
    r = cl_recv(f, &c, 2000);
    assert_int_equal(error_code(r, "no \"params\""), -EINVAL);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 2);
    json_decref(r);
    r = cl_recv(f, &c, 2000);
    assert_int_equal(error_code(r, "\"id\" is null"), -EINVAL);
    assert_true(json_is_null(json_object_get(r, "id")));
    json_decref(r);
    r = cl_recv(f, &c, 2000);
    assert_int_equal(error_code(r, "no \"id\""), -EINVAL);
    json_decref(r);
    r = cl_recv(f, &c, 2000);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 5);
    assert_true(json_is_array(json_object_get(r, "result")));
    json_decref(r);
    assert_int_equal(f->n_calls, 1);
    assert_int_equal(stats(f).bad_requests, 4);
    assert_int_equal(stats(f).conns, 1);
    close(c.fd);
}

/* Duplicate keys, bytes that are no JSON, an overlong message: an error reply with a
 * null id, then the connection is closed; the handler never sees them. */
static void
test_protocol_errors(void **state)
{
    static const struct {
        const char *text;
        const char *error;
        int code;
    } cases[] = {
        {"{\"method\":\"echo\",\"method\":\"exit\",\"params\":[],\"id\":1}", "duplicate",
         -EPROTO},
        {"{\"method\":\"echo\",\"params\":[],\"id\":1,\"params\":{}}", "duplicate",
         -EPROTO},
        {"{\"method\":\"echo\",\"params\":[{\"a\":1,\"a\":2}],\"id\":1}", "duplicate",
         -EPROTO},
        {"[1]", "not a JSON object", -EPROTO},
        {"{\"method\":nope}", "invalid JSON", -EPROTO},
    };
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();

    s.max_msg = 4096;
    start(f, &s);
    for (size_t i = 0; i <= ARRAY_SIZE(cases); i++) {
        struct cl c = {.fd = cl_connect(f->path)};
        json_t *r;

        if (i < ARRAY_SIZE(cases)) {
            cl_send(c.fd, cases[i].text);
        } else {
            char big[8192];

            memset(big, ' ', sizeof big - 1);
            big[0] = '{';
            big[sizeof big - 1] = '\0';
            cl_send(c.fd, big);
        }
        r = cl_recv(f, &c, 2000);
        assert_non_null(r);
        if (i < ARRAY_SIZE(cases)) {
            assert_int_equal(error_code(r, cases[i].error), cases[i].code);
        } else {
            assert_int_equal(error_code(r, "too long"), -EMSGSIZE);
        }
        assert_true(json_is_null(json_object_get(r, "id")));
        json_decref(r);
        assert_true(cl_wait_eof(f, &c, 2000));
        close(c.fd);
    }
    assert_int_equal(f->n_calls, 0);
    run_for(f, 20);
    assert_int_equal(stats(f).closed_protocol, ARRAY_SIZE(cases) + 1);
}

/* Connects, sends a request and returns the reply, or NULL. */
static json_t *
call_once(struct fixture *f, int *fdp)
{
    struct cl c = {.fd = cl_connect(f->path)};
    json_t *r;

    cl_send(c.fd, "{\"method\":\"echo\",\"params\":[],\"id\":42}");
    r = cl_recv(f, &c, 2000);
    if (fdp) {
        *fdp = c.fd;
    } else {
        close(c.fd);
    }
    return r;
}

/* 'max_conns' open: the next client is refused with an error reply that answers the
 * request it had sent, then EOF; a slot that frees up is usable again. */
static void
test_max_conns(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    int fds[4];
    json_t *r;

    s.max_conns = 4;
    start(f, &s);
    for (int i = 0; i < 4; i++) {
        r = call_once(f, &fds[i]);
        assert_true(json_is_array(json_object_get(r, "result")));
        json_decref(r);
    }
    r = call_once(f, NULL);
    assert_non_null(r);
    assert_int_equal(error_code(r, "too many connections"), -EBUSY);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 42);
    json_decref(r);
    assert_int_equal(stats(f).refused_full, 1);
    close(fds[0]);
    run_for(f, 20);
    r = call_once(f, &fds[0]);
    assert_true(json_is_array(json_object_get(r, "result")));
    json_decref(r);
    for (int i = 0; i < 4; i++) {
        close(fds[i]);
    }
}

/* One process gets at most 'max_conns_per_pid'. */
static void
test_per_pid(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    int fds[2];
    json_t *r;

    s.max_conns_per_pid = 2;
    start(f, &s);
    for (int i = 0; i < 2; i++) {
        json_decref(call_once(f, &fds[i]));
    }
    r = call_once(f, NULL);
    assert_int_equal(error_code(r, "from process"), -EBUSY);
    json_decref(r);
    assert_int_equal(stats(f).refused_peer, 1);
    close(fds[0]);
    close(fds[1]);
}

/* A child running as nobody opens 'n' connections, sending a request on each, and
 * writes one byte per connection to 'out': 'A' if answered, 'R' if refused, 'X'
 * otherwise; then holds them until 'in' closes. */
static pid_t
spawn_nobody(struct fixture *f, int n, int *outp, int *inp)
{
    int out[2], in[2];
    pid_t pid;

    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(in), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (!pid) {
        static const char req[] = "{\"method\":\"echo\",\"params\":[],\"id\":1}";
        int fds[16];
        char ch;

        close(out[0]);
        close(in[1]);
        if (setgid(NOBODY) || setuid(NOBODY)) {
            _exit(1);
        }
        for (int i = 0; i < n && i < 16; i++) {
            struct cl c = {.fd = cl_connect(f->path)};
            json_t *r;
            char res = 'X';

            /* The server runs meanwhile: it may refuse and close the connection
             * before this request is written (EPIPE), after answering it. */
            if (send(c.fd, req, strlen(req), MSG_NOSIGNAL) < 0 && errno != EPIPE) {
                _exit(1);
            }
            r = cl_recv(NULL, &c, 5000);
            if (r && json_object_get(r, "result") &&
                !json_is_null(json_object_get(r, "result"))) {
                res = 'A';
            } else if (r && json_integer_value(json_object_get(
                                json_object_get(r, "error"), "code")) == -EBUSY) {
                res = 'R';
            }
            json_decref(r);
            fds[i] = c.fd;
            if (write(out[1], &res, 1) != 1) {
                _exit(1);
            }
        }
        while (read(in[0], &ch, 1) > 0) {
            continue;
        }
        for (int i = 0; i < n && i < 16; i++) {
            close(fds[i]);
        }
        _exit(0);
    }
    close(out[1]);
    close(in[0]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    *outp = out[0];
    *inp = in[1];
    return pid;
}

/* Runs the loop until 'n' results arrive on 'fd'; returns them as a string. */
static char *
child_results(struct fixture *f, int fd, int n)
{
    char *res = calloc(1, (size_t)n + 1);
    uint64_t end = time_msec() + 10000;
    int got = 0;

    while (got < n && time_msec() < end) {
        ssize_t k;

        poll_loop_run_once(f->loop, 5);
        k = read(fd, res + got, (size_t)(n - got));
        if (k > 0) {
            got += (int)k;
        }
    }
    return res;
}

static void
child_stop(struct fixture *f, pid_t pid, int out, int in)
{
    int status;

    close(in);
    close(out);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        poll_loop_run_once(f->loop, 5);
    }
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The last 'reserved_conns' slots are for root (and the server's uid): an
 * unprivileged peer cannot take them; root still gets in. */
static void
test_reserved(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    int out, in, fds[2];
    char *res;
    pid_t pid;
    json_t *r;

    if (geteuid()) {
        skip();
    }
    s.max_conns = 5;
    s.reserved_conns = 2;
    start(f, &s);
    pid = spawn_nobody(f, 4, &out, &in);
    res = child_results(f, out, 4);
    assert_string_equal(res, "AAAR");
    free(res);
    assert_int_equal(stats(f).refused_reserved, 1);
    for (int i = 0; i < 2; i++) {
        r = call_once(f, &fds[i]);
        assert_true(json_is_array(json_object_get(r, "result")));
        json_decref(r);
    }
    r = call_once(f, NULL);
    assert_int_equal(error_code(r, "too many connections"), -EBUSY);
    json_decref(r);
    assert_int_equal(stats(f).refused_full, 1);
    child_stop(f, pid, out, in);
    close(fds[0]);
    close(fds[1]);
}

/* An unprivileged uid gets at most 'max_conns_per_uid'. */
static void
test_per_uid(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    int out, in;
    char *res;
    pid_t pid;

    if (geteuid()) {
        skip();
    }
    s.max_conns_per_uid = 2;
    start(f, &s);
    pid = spawn_nobody(f, 3, &out, &in);
    res = child_results(f, out, 3);
    assert_string_equal(res, "AAR");
    free(res);
    assert_int_equal(stats(f).refused_peer, 1);
    child_stop(f, pid, out, in);
}

/* Idle connections are closed; one awaiting an answer is not idle. */
static void
test_idle_timeout(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    struct cl idle = {.fd = -1}, waiting = {.fd = -1};

    s.idle_timeout_ms = 100;
    start(f, &s);
    idle.fd = cl_connect(f->path);
    waiting.fd = cl_connect(f->path);
    cl_send(waiting.fd, "{\"method\":\"defer\",\"params\":[],\"id\":1}");
    assert_true(cl_wait_eof(f, &idle, 2000));
    run_for(f, 300);
    assert_int_equal(stats(f).closed_idle, 1);
    assert_int_equal(stats(f).conns, 1);
    rpc_server_reply(f->server, f->deferred[0].conn, f->deferred[0].id, NULL);
    assert_true(cl_wait_eof(f, &waiting, 2000));
    assert_int_equal(stats(f).closed_idle, 2);
    close(idle.fd);
    close(waiting.fd);
}

/* A request that does not complete in time gets an error, then EOF. */
static void
test_request_timeout(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    struct cl c = {.fd = -1};
    json_t *r;

    s.request_timeout_ms = 100;
    start(f, &s);
    c.fd = cl_connect(f->path);
    cl_send(c.fd, "{\"method\":\"echo\",\"params\":[],\"id\":1}{\"method\":\"ec");
    r = cl_recv(f, &c, 2000);
    assert_true(json_is_array(json_object_get(r, "result")));
    json_decref(r);
    r = cl_recv(f, &c, 2000);
    assert_non_null(r);
    assert_int_equal(error_code(r, "request incomplete"), -ETIMEDOUT);
    json_decref(r);
    assert_true(cl_wait_eof(f, &c, 2000));
    run_for(f, 20);
    assert_int_equal(stats(f).closed_request_timeout, 1);
    close(c.fd);
}

/* Sends as many "big" requests as the socket takes without blocking. */
static int
flood(int fd, int max)
{
    static const char req[] = "{\"method\":\"big\",\"params\":[],\"id\":1}";
    int n = 0;

    while (n < max) {
        ssize_t k = send(fd, req, sizeof req - 1, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (k != (ssize_t)(sizeof req - 1)) {
            assert_true(k < 0);
            break;
        }
        n++;
    }
    return n;
}

/* A client that does not read: the server stops reading past the output cap, so its
 * memory stays bounded; it resumes once the client reads. */
static void
test_backlog_pause(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    struct cl c = {.fd = -1};
    struct rpc_server_stats st;
    int sent = 0, got = 0;

    s.backlog_max = 64 * 1024;
    start(f, &s);
    c.fd = cl_connect(f->path);
    for (int round = 0; round < 50; round++) {
        sent += flood(c.fd, 2000 - sent);
        run_for(f, 10);
    }
    st = stats(f);
    assert_int_equal(st.paused_conns, 1);
    assert_true(st.pauses >= 1);
    assert_true(st.backlog >= s.backlog_max);
    assert_true(st.backlog < s.backlog_max + 2 * BIG_REPLY);
    assert_true(f->n_calls < (unsigned int)sent);
    assert_true(f->n_calls < 100);

    /* Reading drains the output and the server resumes. */
    while (got < sent) {
        json_t *r = cl_recv(f, &c, 5000);

        assert_non_null(r);
        json_decref(r);
        got++;
        if (sent < 2000) {
            sent += flood(c.fd, 2000 - sent);
        }
    }
    assert_int_equal(f->n_calls, sent);
    assert_int_equal(stats(f).paused_conns, 0);
    assert_int_equal(stats(f).closed_stalled, 0);
    close(c.fd);
}

/* Paused with output stuck past 'stall_timeout_ms': closed. */
static void
test_stall_timeout(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    struct cl c = {.fd = -1};

    s.backlog_max = 64 * 1024;
    s.stall_timeout_ms = 200;
    start(f, &s);
    c.fd = cl_connect(f->path);
    for (int round = 0; round < 10; round++) {
        flood(c.fd, 2000);
        run_for(f, 10);
    }
    assert_int_equal(stats(f).paused_conns, 1);
    run_for(f, 500);
    assert_int_equal(stats(f).closed_stalled, 1);
    assert_int_equal(stats(f).conns, 0);
    assert_true(cl_wait_eof(f, &c, 5000));
    close(c.fd);
}

/* At most 'max_pending' requests await an answer before reading pauses. */
static void
test_max_pending(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    struct cl c = {.fd = -1};
    json_t *r;

    s.max_pending = 2;
    start(f, &s);
    c.fd = cl_connect(f->path);
    for (int i = 0; i < 5; i++) {
        cl_send(c.fd, "{\"method\":\"defer\",\"params\":[],\"id\":1}");
    }
    run_for(f, 50);
    assert_int_equal(f->n_deferred, 2);
    assert_int_equal(stats(f).paused_conns, 1);
    rpc_server_reply(f->server, f->deferred[0].conn, f->deferred[0].id, NULL);
    run_for(f, 50);
    assert_int_equal(f->n_deferred, 3);
    r = cl_recv(f, &c, 2000);
    assert_non_null(r);
    json_decref(r);
    close(c.fd);
}

/* A client that half-closes after its requests still gets every answer. */
static void
test_half_close(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    struct cl c = {.fd = -1};
    int n = 0;

    start(f, &s);
    c.fd = cl_connect(f->path);
    for (int i = 0; i < 20; i++) {
        cl_send(c.fd, "{\"method\":\"big\",\"params\":[],\"id\":1}");
    }
    shutdown(c.fd, SHUT_WR);
    for (json_t *r; (r = cl_recv(f, &c, 2000)); n++) {
        json_decref(r);
    }
    assert_int_equal(n, 20);
    assert_true(cl_wait_eof(f, &c, 2000));
    close(c.fd);
}

static void
hook_open(void *aux, uint64_t conn)
{
    struct fixture *f = aux;

    f->n_open++;
    f->last_open = conn;
}

static void
hook_close(void *aux, uint64_t conn, enum rpc_server_close_reason reason)
{
    struct fixture *f = aux;

    /* Called once the connection is gone: answers to it are dropped. */
    assert_int_equal(rpc_server_reply(f->server, conn, json_null(), NULL), -ENOENT);
    assert_null(rpc_server_conn_name(f->server, conn));
    f->n_close++;
    f->last_close = conn;
    f->last_reason = reason;
}

static const struct rpc_server_hooks test_hooks = {hook_open, hook_close};

/* The hooks follow each connection; the owner closes one after its output. */
static void
test_hooks_and_close(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    struct cl a = {.fd = -1}, b = {.fd = -1};
    json_t *r;

    start(f, &s);
    rpc_server_set_hooks(f->server, &test_hooks);
    assert_int_equal(rpc_server_port(f->server), 0);
    a.fd = cl_connect(f->path);
    cl_send(a.fd, "{\"method\":\"echo\",\"params\":[],\"id\":1}");
    json_decref(cl_recv(f, &a, 2000));
    assert_int_equal(f->n_open, 1);
    assert_non_null(rpc_server_conn_name(f->server, f->last_open));
    assert_null(rpc_server_conn_peer_name(f->server, f->last_open)); /* Not TLS. */
    close(a.fd);
    run_for(f, 50);
    assert_int_equal(f->n_close, 1);
    assert_int_equal(f->last_close, f->last_open);
    assert_int_equal(f->last_reason, RPC_SERVER_CLOSE_PEER);

    /* rpc_server_close(): the answer queued first still arrives, then EOF. */
    b.fd = cl_connect(f->path);
    cl_send(b.fd, "{\"method\":\"defer\",\"params\":[],\"id\":2}");
    run_for(f, 50);
    assert_int_equal(f->n_deferred, 1);
    assert_int_equal(rpc_server_reply(f->server, f->deferred[0].conn, f->deferred[0].id,
                                      json_string("last words")),
                     0);
    assert_int_equal(rpc_server_close(f->server, f->deferred[0].conn), 0);
    r = cl_recv(f, &b, 2000);
    assert_string_equal(json_string_value(json_object_get(r, "result")), "last words");
    json_decref(r);
    assert_true(cl_wait_eof(f, &b, 2000));
    close(b.fd);
    assert_int_equal(f->n_close, 2);
    assert_int_equal(f->last_reason, RPC_SERVER_CLOSE_OWNER);
    assert_int_equal(stats(f).closed_owner, 1);
    assert_int_equal(rpc_server_close(f->server, f->deferred[0].conn), -ENOENT);
    assert_string_equal(rpc_server_close_reason_to_string(RPC_SERVER_CLOSE_OWNER),
                        "closed by the server");

    /* rpc_server_destroy() reports nothing. */
    a.fd = cl_connect(f->path);
    run_for(f, 50);
    assert_int_equal(f->n_open, 3);
    rpc_server_destroy(f->server);
    f->server = NULL;
    assert_int_equal(f->n_close, 2);
    close(a.fd);
}

static int
map_code(int error)
{
    return error == -EINVAL ? 1000 : 1001;
}

/* With 'close_on_bad_request', a bad request ends its connection; 'error_code'
 * chooses the codes of the server's own errors, not of the handler's. */
static void
test_close_on_bad_request(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    struct cl c = {.fd = -1};
    json_t *r;

    s.close_on_bad_request = true;
    s.error_code = map_code;
    start(f, &s);
    rpc_server_set_hooks(f->server, &test_hooks);
    c.fd = cl_connect(f->path);
    cl_send(c.fd, "{\"method\":\"nosuch\",\"params\":[],\"id\":1}"
                  "{\"method\":\"echo\",\"params\":{},\"id\":2}"
                  "{\"method\":\"echo\",\"params\":[],\"id\":3}");
    r = cl_recv(f, &c, 2000);
    assert_int_equal(error_code(r, "unknown method"), -ENOSYS);
    json_decref(r);
    r = cl_recv(f, &c, 2000);
    assert_int_equal(error_code(r, "\"params\" is not an array"), 1000);
    json_decref(r);
    /* The request after the bad one is not read. */
    assert_true(cl_wait_eof(f, &c, 2000));
    close(c.fd);
    assert_int_equal(f->n_calls, 1);
    assert_int_equal(f->last_reason, RPC_SERVER_CLOSE_PROTOCOL);

    /* A framing error gets the mapped code too. */
    c = (struct cl){.fd = cl_connect(f->path)};
    cl_send(c.fd, "{\"method\":nope}");
    r = cl_recv(f, &c, 2000);
    assert_int_equal(error_code(r, "invalid JSON"), 1001);
    json_decref(r);
    assert_true(cl_wait_eof(f, &c, 2000));
    close(c.fd);
}

/* With 'max_batch', a connection whose requests are all waiting does not keep the
 * others waiting behind them. */
static void
test_max_batch(void **state)
{
    struct fixture *f = *state;
    struct rpc_server_settings s = open_settings();
    struct cl a = {.fd = -1}, b = {.fd = -1};
    char text[50 * 64] = "";
    uint64_t conn_b;
    size_t pos_b = SIZE_MAX;

    s.max_batch = 2;
    start(f, &s);
    rpc_server_set_hooks(f->server, &test_hooks);
    a.fd = cl_connect(f->path);
    b.fd = cl_connect(f->path);
    run_for(f, 50);
    conn_b = f->last_open;
    for (int i = 0; i < 50; i++) {
        snprintf(text + strlen(text), sizeof text - strlen(text),
                 "{\"method\":\"echo\",\"params\":[],\"id\":%d}", i);
    }
    cl_send(a.fd, text);
    cl_send(b.fd, "{\"method\":\"echo\",\"params\":[],\"id\":99}");
    run_for(f, 200);
    assert_int_equal(f->n_calls, 51);
    for (size_t i = 0; i < f->n_order; i++) {
        if (f->order[i] == conn_b) {
            pos_b = i;
        }
    }
    print_message("the other connection's request came %zu of 51\n", pos_b + 1);
    assert_true(pos_b <= 2);
    close(a.fd);
    close(b.fd);
}

static void
test_stats_json(void **state OVNIC_UNUSED)
{
    struct rpc_server_stats st = {.accepted = 3, .refused_reserved = 2, .closed_idle = 1};
    json_t *j = rpc_server_stats_to_json(&st);

    assert_int_equal(json_integer_value(json_object_get(j, "accepted")), 3);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "refused"), "reserved")),
        2);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "closed"), "idle")), 1);
    json_decref(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_parse),
        cmocka_unit_test(test_stats_json),
        cmocka_unit_test_setup_teardown(test_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_conns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_pid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_uid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backlog_pause, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stall_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hooks_and_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_on_bad_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_batch, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
