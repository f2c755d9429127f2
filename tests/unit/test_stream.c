/* Unit tests for shared/util/stream: unix:, tcp: and ssl: streams and their
 * listeners, driven by plain poll(2) loops. */
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/util/pki.h"
#include "shared/util/stream.h"
#include "shared/util/tls.h"
#include "shared/util/util.h"

#define TIMEOUT_MS 30000

struct fixture {
    char dir[64];
    char *ca;
    char *server_cert;
    char *server_key;
    char *client_cert;
    char *client_key;
    struct tls_config server_tls;
    struct tls_config client_tls;
};

static char *
path_in(const struct fixture *f, const char *name)
{
    char *p;
    assert_true(asprintf(&p, "%s/%s", f->dir, name) > 0);
    return p;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int
group_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ovnic-stream-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    char *ca_key;
    if (asprintf(&f->ca, "%s/ca-cert.pem", f->dir) < 0 ||
        asprintf(&ca_key, "%s/ca-key.pem", f->dir) < 0 ||
        asprintf(&f->server_cert, "%s/server-cert.pem", f->dir) < 0 ||
        asprintf(&f->server_key, "%s/server-key.pem", f->dir) < 0 ||
        asprintf(&f->client_cert, "%s/client-cert.pem", f->dir) < 0 ||
        asprintf(&f->client_key, "%s/client-key.pem", f->dir) < 0) {
        return -1;
    }
    if (pki_ca_create("stream test CA", 2, f->ca, ca_key, NULL) ||
        pki_cert_issue(f->ca, ca_key, "server", 2, f->server_cert, f->server_key, NULL) ||
        pki_cert_issue(f->ca, ca_key, "client", 2, f->client_cert, f->client_key, NULL)) {
        free(ca_key);
        return -1;
    }
    free(ca_key);
    f->server_tls = (struct tls_config){f->ca, f->server_cert, f->server_key, NULL};
    f->client_tls = (struct tls_config){f->ca, f->client_cert, f->client_key, NULL};
    /* A write to a reset connection must give EPIPE, never kill the process. */
    signal(SIGPIPE, SIG_DFL);
    *state = f;
    return 0;
}

static int
group_teardown(void **state)
{
    struct fixture *f = *state;
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f->ca);
    free(f->server_cert);
    free(f->server_key);
    free(f->client_cert);
    free(f->client_key);
    free(f);
    return 0;
}

/* Waits until 'pstream' has a connection and accepts it. */
static struct stream *
accept_one(struct pstream *pstream)
{
    uint64_t deadline = time_msec() + TIMEOUT_MS;
    for (;;) {
        struct stream *s;
        int error = pstream_accept(pstream, &s);
        if (!error) {
            return s;
        }
        assert_int_equal(error, -EAGAIN);
        assert_true(time_msec() < deadline);
        struct pollfd pfd = {.fd = pstream_fd(pstream), .events = POLLIN};
        poll(&pfd, 1, 100);
    }
}

/* Drives stream_connect() on both streams until neither is in progress; returns
 * their outcomes. */
static void
connect_both(struct stream *a, struct stream *b, int *a_error, int *b_error)
{
    uint64_t deadline = time_msec() + TIMEOUT_MS;
    *a_error = *b_error = -EAGAIN;
    for (;;) {
        if (*a_error == -EAGAIN) {
            *a_error = stream_connect(a);
        }
        if (*b_error == -EAGAIN) {
            *b_error = stream_connect(b);
        }
        if (*a_error != -EAGAIN && *b_error != -EAGAIN) {
            return;
        }
        assert_true(time_msec() < deadline);
        struct pollfd pfds[2];
        nfds_t n = 0;
        if (*a_error == -EAGAIN) {
            pfds[n++] =
                (struct pollfd){stream_fd(a), (short)stream_poll_events(a, false)};
        }
        if (*b_error == -EAGAIN) {
            pfds[n++] =
                (struct pollfd){stream_fd(b), (short)stream_poll_events(b, false)};
        }
        poll(pfds, n, 100);
    }
}

/* Small send buffers make partial and refused writes frequent.  (A small receive
 * buffer would only stall TCP over loopback, whose MSS is larger than the window.) */
static void
shrink_buffers(struct stream *s)
{
    int size = 16384;
    assert_int_equal(setsockopt(stream_fd(s), SOL_SOCKET, SO_SNDBUF, &size, sizeof size),
                     0);
}

static uint32_t
lcg(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

/* Sends 'total' bytes from 'client' to 'server', which echoes them back, in chunks of
 * random sizes over sockets with small buffers, and checks that all of them come back
 * intact and in order.  Both streams must be connected. */
static void
echo_through(struct stream *client, struct stream *server, size_t total)
{
    enum { ECHO_BUF = 256 * 1024 };
    unsigned char *pattern = malloc(total);
    unsigned char *back = malloc(total);
    unsigned char *echo = malloc(ECHO_BUF);
    uint32_t seed = 42;
    size_t sent = 0, received = 0, echo_len = 0, send_len = 0;
    unsigned int partial_sends = 0, blocked_sends = 0;
    uint64_t deadline = time_msec() + TIMEOUT_MS;

    assert_non_null(pattern);
    assert_non_null(back);
    assert_non_null(echo);
    for (size_t i = 0; i < total; i++) {
        pattern[i] = (unsigned char)lcg(&seed);
    }
    shrink_buffers(client);
    shrink_buffers(server);

    while (received < total) {
        assert_true(time_msec() < deadline);

        /* Client: send what it can, then read back until nothing is left. */
        while (sent < total) {
            /* After -EAGAIN, the same bytes must be offered again (TLS has already
             * encrypted them). */
            if (!send_len) {
                size_t r = 1 + lcg(&seed) % 65536;
                send_len = MIN(total - sent, r);
            }
            ssize_t n = stream_send(client, pattern + sent, send_len);
            if (n == -EAGAIN) {
                blocked_sends++;
                break;
            }
            assert_true(n > 0);
            if ((size_t)n < send_len) {
                partial_sends++;
            }
            sent += (size_t)n;
            send_len = 0;
        }
        while (received < total) {
            size_t want = 1 + lcg(&seed) % 40000;
            ssize_t n = stream_recv(client, back + received, MIN(want, total - received));
            if (n == -EAGAIN) {
                break;
            }
            assert_true(n > 0);
            received += (size_t)n;
        }

        /* Server: read while there is room, echo what was read. */
        while (echo_len < ECHO_BUF) {
            size_t r = 1 + lcg(&seed) % 30000;
            size_t want = MIN(ECHO_BUF - echo_len, r);
            ssize_t n = stream_recv(server, echo + echo_len, want);
            if (n == -EAGAIN) {
                break;
            }
            assert_true(n > 0);
            echo_len += (size_t)n;
        }
        while (echo_len) {
            ssize_t n = stream_send(server, echo, echo_len);
            if (n == -EAGAIN) {
                break;
            }
            assert_true(n > 0);
            memmove(echo, echo + n, echo_len - (size_t)n);
            echo_len -= (size_t)n;
        }

        struct pollfd pfds[2] = {
            {stream_fd(client), (short)stream_poll_events(client, sent < total)},
            {stream_fd(server), (short)stream_poll_events(server, echo_len > 0)},
        };
        poll(pfds, 2, 100);
    }
    assert_memory_equal(pattern, back, total);
    /* The transfer did exercise partial and refused writes. */
    assert_true(partial_sends + blocked_sends > 0);
    assert_true(blocked_sends > 0);

    free(pattern);
    free(back);
    free(echo);
}

/* Waits for 'stream' to report the end of the connection; returns what recv gave. */
static ssize_t
recv_until_closed(struct stream *s)
{
    uint64_t deadline = time_msec() + TIMEOUT_MS;
    char buf[256];
    for (;;) {
        ssize_t n = stream_recv(s, buf, sizeof buf);
        if (n != -EAGAIN) {
            if (n <= 0) {
                return n;
            }
            continue;
        }
        assert_true(time_msec() < deadline);
        struct pollfd pfd = {stream_fd(s), (short)stream_poll_events(s, false)};
        poll(&pfd, 1, 100);
    }
}

/* Opens a listener on 'pname' and a stream to 'remote' (with "%u" replaced by the
 * listener's port), connects both, echoes 'total' bytes, and checks the names. */
static void
echo_test(const struct fixture *f, const char *pname, const char *remote_fmt,
          const char *accepted_prefix, size_t total, bool tls)
{
    struct ovnic_err err = {0};
    struct pstream *pstream;
    char remote[256];

    assert_int_equal(pstream_open(pname, tls ? &f->server_tls : NULL, &pstream, &err), 0);
    snprintf(remote, sizeof remote, remote_fmt, pstream_port(pstream));

    struct stream *client;
    assert_int_equal(stream_open(remote, tls ? &f->client_tls : NULL, &client, &err), 0);
    assert_string_equal(stream_name(client), remote);
    struct stream *server = accept_one(pstream);
    assert_true(!strncmp(stream_name(server), accepted_prefix, strlen(accepted_prefix)));

    int client_error, server_error;
    connect_both(client, server, &client_error, &server_error);
    assert_int_equal(client_error, 0);
    assert_int_equal(server_error, 0);
    if (tls) {
        assert_string_equal(stream_peer_name(client), "server");
        assert_string_equal(stream_peer_name(server), "client");
    } else {
        assert_null(stream_peer_name(client));
        assert_null(stream_peer_name(server));
    }

    echo_through(client, server, total);

    /* An orderly close reads as 0 on the other side. */
    stream_close(client);
    assert_int_equal(recv_until_closed(server), 0);
    stream_close(server);
    pstream_close(pstream);
}

static void
test_unix_echo(void **state)
{
    struct fixture *f = *state;
    char *path = path_in(f, "echo.sock");
    char pname[128], remote[128];
    snprintf(pname, sizeof pname, "punix:%s", path);
    snprintf(remote, sizeof remote, "unix:%s", path);

    echo_test(f, pname, remote, remote, 4 * 1024 * 1024, false);
    /* pstream_close() removed the socket file. */
    assert_int_equal(access(path, F_OK), -1);
    free(path);
}

static void
test_tcp_echo(void **state)
{
    echo_test(*state, "ptcp:0:127.0.0.1", "tcp:127.0.0.1:%u",
              "tcp:127.0.0.1:", 4 * 1024 * 1024, false);
}

static void
test_tcp6_echo(void **state)
{
    struct pstream *pstream;
    int error = pstream_open("ptcp:0:[::1]", NULL, &pstream, NULL);
    if (error == -EADDRNOTAVAIL || error == -EAFNOSUPPORT) {
        skip();
    }
    assert_int_equal(error, 0);
    pstream_close(pstream);
    echo_test(*state, "ptcp:0:[::1]", "tcp:[::1]:%u", "tcp:[::1]:", 512 * 1024, false);
}

static void
test_ssl_echo(void **state)
{
    echo_test(*state, "pssl:0:127.0.0.1", "ssl:127.0.0.1:%u",
              "ssl:127.0.0.1:", 2 * 1024 * 1024, true);
}

/* Connecting to a port or socket where nothing listens fails with ECONNREFUSED,
 * whether stream_open() or stream_connect() finds out. */
static int
open_and_connect(const char *remote)
{
    struct stream *s;
    int error = stream_open(remote, NULL, &s, NULL);
    if (error) {
        return error;
    }
    uint64_t deadline = time_msec() + TIMEOUT_MS;
    while ((error = stream_connect(s)) == -EAGAIN) {
        assert_true(time_msec() < deadline);
        struct pollfd pfd = {stream_fd(s), (short)stream_poll_events(s, false)};
        poll(&pfd, 1, 100);
    }
    /* The failure is sticky. */
    assert_int_equal(stream_connect(s), error);
    char byte = 0;
    assert_int_equal(stream_send(s, &byte, 1), error);
    stream_close(s);
    return error;
}

static void
test_refused(void **state)
{
    struct fixture *f = *state;

    /* A TCP socket bound but not listening refuses connections, and holding it keeps
     * its port from being reused meanwhile. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    char remote[128];
    snprintf(remote, sizeof remote, "tcp:127.0.0.1:%u", ntohs(sin.sin_port));
    assert_int_equal(open_and_connect(remote), -ECONNREFUSED);
    close(fd);

    /* Likewise a unix socket file with no listener behind it. */
    char *path = path_in(f, "refused.sock");
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    snprintf(remote, sizeof remote, "unix:%s", path);
    assert_int_equal(open_and_connect(remote), -ECONNREFUSED);
    close(fd);
    unlink(path);
    assert_int_equal(open_and_connect(remote), -ENOENT);
    free(path);
}

static void
test_malformed(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *name;
        int error;
    } active[] = {
        {"", -EINVAL},
        {"tcp", -EINVAL},
        {"tcp:", -EINVAL},
        {"tcp:127.0.0.1", -EINVAL},
        {"tcp:127.0.0.1:", -EINVAL},
        {"tcp:127.0.0.1:0", -EINVAL},
        {"tcp:127.0.0.1:65536", -EINVAL},
        {"tcp:127.0.0.1:12x", -EINVAL},
        {"tcp:127.0.0.1:-1", -EINVAL},
        {"tcp:127.0.0.1:6640:1", -EINVAL},
        {"tcp:127.0.0.256:6640", -EINVAL},
        {"tcp:localhost:6640", -EINVAL},
        {"tcp::6640", -EINVAL},
        {"tcp:::1:6640", -EINVAL},
        {"tcp:[::1:6640", -EINVAL},
        {"tcp:[::1]6640", -EINVAL},
        {"tcp:[127.0.0.1]:6640", -EINVAL},
        {"tcp:[]:6640", -EINVAL},
        {"ssl:127.0.0.1", -EINVAL},
        {"ssl:127.0.0.1:6640", -EINVAL}, /* No TLS configuration. */
        {"unix:", -EINVAL},
        {"udp:127.0.0.1:6640", -EAFNOSUPPORT},
        {"ptcp:6640", -EAFNOSUPPORT},
        {"TCP:127.0.0.1:6640", -EAFNOSUPPORT},
    };
    static const struct {
        const char *name;
        int error;
    } passive[] = {
        {"ptcp", -EINVAL},
        {"ptcp:", -EINVAL},
        {"ptcp:-1", -EINVAL},
        {"ptcp:65536", -EINVAL},
        {"ptcp:6640:", -EINVAL},
        {"ptcp:6640:1.2.3", -EINVAL},
        {"ptcp:6640:[::1", -EINVAL},
        {"ptcp:x:127.0.0.1", -EINVAL},
        {"pssl:0:127.0.0.1", -EINVAL}, /* No TLS configuration. */
        {"punix:", -EINVAL},
        {"tcp:127.0.0.1:6640", -EAFNOSUPPORT},
        {"pudp:6640", -EAFNOSUPPORT},
    };

    for (size_t i = 0; i < ARRAY_SIZE(active); i++) {
        struct ovnic_err err = {0};
        struct stream *s = (struct stream *)f; /* Must stay untouched. */
        assert_int_equal(stream_open(active[i].name, NULL, &s, &err), active[i].error);
        assert_ptr_equal(s, f);
        assert_int_equal(err.code, active[i].error);
        assert_non_null(err.message);
        if (active[i].name[0]) {
            assert_non_null(strstr(err.detail, active[i].name));
        }
        char buf[512];
        ovnic_err_format(&err, buf, sizeof buf);
        print_message("  %-24s -> %s\n", active[i].name, buf);
    }
    for (size_t i = 0; i < ARRAY_SIZE(passive); i++) {
        struct ovnic_err err = {0};
        struct pstream *p = (struct pstream *)f;
        assert_int_equal(pstream_open(passive[i].name, NULL, &p, &err), passive[i].error);
        assert_ptr_equal(p, f);
        assert_int_equal(err.code, passive[i].error);
        assert_non_null(err.message);
        assert_non_null(strstr(err.detail, passive[i].name));
    }
    /* NULL remote, NULL error pointer. */
    struct stream *s;
    assert_int_equal(stream_open(NULL, NULL, &s, NULL), -EINVAL);
}

/* stream_remote_check() accepts what stream_open() can open, and names what is wrong
 * with the rest; stream_remote_list_check() does it for each remote of a list. */
static void
test_remote_check(void **state)
{
    (void)state;
    static const struct {
        const char *remote;
        int error;
        const char *why; /* In the error's detail; NULL: accepted. */
    } cases[] = {
        {"unix:/run/ovn/ovnsb_db.sock", 0, NULL},
        {"unix:relative.sock", 0, NULL},
        {"tcp:127.0.0.1:6642", 0, NULL},
        {"tcp:[::1]:6642", 0, NULL},
        {"tcp:[fe80::1%lo]:6642", 0, NULL},
        {"ssl:192.0.2.1:1", 0, NULL},
        {"ssl:[2001:db8::1]:65535", 0, NULL},
        {"tcp:1.2.3.4", -EINVAL, "missing ':PORT' after the address"},
        {"tcp:[::1]", -EINVAL, "missing ':PORT' after the address"},
        {"tcp:1.2.3.4:", -EINVAL, "missing port number after ':'"},
        {"tcp:1.2.3.4:99999", -EINVAL, "port 99999 is out of range (1 to 65535)"},
        {"tcp:1.2.3.4:65536", -EINVAL, "port 65536 is out of range (1 to 65535)"},
        {"tcp:1.2.3.4:0", -EINVAL, "port 0 is out of range (1 to 65535)"},
        {"tcp:1.2.3.4:123456789012345678901", -EINVAL, "is out of range"},
        {"tcp:1.2.3.4:66x", -EINVAL, "port '66x' is not a number"},
        {"tcp:1.2.3.4:-1", -EINVAL, "port '-1' is not a number"},
        {"tcp:localhost:6642", -EINVAL,
         "'localhost' is not an IP address (host names are not resolved"},
        {"ssl:ovn-sb.example.com:6642", -EINVAL, "'ovn-sb.example.com' is not an IP"},
        {"tcp:1.2.3:6642", -EINVAL, "'1.2.3' is not a numeric IPv4 or [IPv6] address"},
        {"tcp:[1.2.3.4]:6642", -EINVAL, "'[1.2.3.4]' is not a numeric IPv4"},
        {"tcp:::1:6642", -EINVAL, "an IPv6 address must be written in brackets"},
        {"tcp:[::1:6642", -EINVAL, "missing ']' after IPv6 address"},
        {"tcp::6642", -EINVAL, "missing address"},
        {"tcp:", -EINVAL, "missing IP:PORT"},
        {"unix:", -EINVAL, "empty socket path"},
        {"", -EINVAL, "empty remote"},
        {"1.2.3.4:6642", -EAFNOSUPPORT, "unknown method '1.2.3.4'"},
        {"localhost", -EINVAL, "expected METHOD:ADDRESS"},
        {"udp:1.2.3.4:6642", -EAFNOSUPPORT,
         "unknown method 'udp' (expected unix:, tcp: or ssl:)"},
        {"ptcp:6642", -EAFNOSUPPORT, "unknown method 'ptcp'"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ovnic_err err = {0};
        int error = stream_remote_check(cases[i].remote, &err);
        char buf[512];

        print_message("  %-32s -> %s\n", cases[i].remote,
                      error ? ovnic_err_format(&err, buf, sizeof buf) : "ok");
        assert_int_equal(error, cases[i].error);
        assert_int_equal(err.code, cases[i].error);
        if (cases[i].why) {
            if (!strstr(err.detail, cases[i].why)) {
                fail_msg("%s: detail '%s' lacks '%s'", cases[i].remote, err.detail,
                         cases[i].why);
            }
            if (cases[i].remote[0]) {
                assert_non_null(strstr(err.detail, cases[i].remote));
            }
        }

        /* The checker and stream_open() agree (ssl: opens only with TLS). */
        struct stream *s = NULL;
        struct ovnic_err open_err = {0};
        int open_error = stream_open(cases[i].remote, NULL, &s, &open_err);
        if (!error && !strncmp(cases[i].remote, "ssl:", 4)) {
            assert_int_equal(open_error, -EINVAL);
            assert_string_equal(open_err.message, "TLS configuration required");
        } else if (error) {
            assert_int_equal(open_error, error);
            assert_string_equal(open_err.detail, err.detail);
        } else {
            /* Accepted: it opens, or fails at the socket level, never as malformed. */
            assert_true(!open_error || open_err.message != err.message);
            assert_false(open_error == -EINVAL || open_error == -EAFNOSUPPORT);
        }
        stream_close(s);
    }

    /* A long remote is quoted cut, so that the reason still fits. */
    char long_remote[400];
    snprintf(long_remote, sizeof long_remote, "tcp:%0300d", 1);
    struct ovnic_err err = {0};
    assert_int_equal(stream_remote_check(long_remote, &err), -EINVAL);
    assert_non_null(strstr(err.detail, "...': missing ':PORT' after the address"));
    assert_int_equal(stream_remote_check(NULL, NULL), -EINVAL);
}

static void
test_remote_list_check(void **state)
{
    (void)state;
    static const struct {
        const char *remotes;
        int error;
        bool ssl;
        const char *why;
    } cases[] = {
        {"tcp:127.0.0.1:6642", 0, false, NULL},
        {"tcp:127.0.0.1:6642,tcp:127.0.0.2:6642,unix:/x", 0, false, NULL},
        {" tcp:127.0.0.1:6642 ,\tssl:127.0.0.2:6642 ", 0, true, NULL},
        {"ssl:[::1]:6642", 0, true, NULL},
        {"unix:/tmp/ssl:x", 0, false, NULL},
        {"", -EINVAL, false, "empty remote at position 1 of the list"},
        {" ", -EINVAL, false, "empty remote at position 1 of the list"},
        {"tcp:1.2.3.4:1,,tcp:1.2.3.5:1", -EINVAL, false,
         "empty remote at position 2 of the list"},
        {"tcp:1.2.3.4:1,", -EINVAL, false, "empty remote at position 2 of the list"},
        {"tcp:1.2.3.4:1,tcp:1.2.3.5", -EINVAL, false,
         "'tcp:1.2.3.5': missing ':PORT' after the address"},
        {"ssl:1.2.3.4:1,tcp:localhost:6642", -EINVAL, false,
         "'tcp:localhost:6642': 'localhost' is not an IP address"},
        {"tcp:1.2.3.4:1, udp:1.2.3.4:1", -EAFNOSUPPORT, false, "unknown method 'udp'"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ovnic_err err = {0};
        bool ssl = !cases[i].ssl;
        int error = stream_remote_list_check(cases[i].remotes, &ssl, &err);

        print_message("  %-48s -> %s\n", cases[i].remotes, error ? err.detail : "ok");
        assert_int_equal(error, cases[i].error);
        if (!error) {
            assert_int_equal(ssl, cases[i].ssl);
        } else if (!strstr(err.detail, cases[i].why)) {
            fail_msg("'%s': detail '%s' lacks '%s'", cases[i].remotes, err.detail,
                     cases[i].why);
        }
    }
    assert_int_equal(stream_remote_list_check(NULL, NULL, NULL), -EINVAL);
    assert_int_equal(stream_remote_list_check("tcp:1.2.3.4:5", NULL, NULL), 0);
}

static void
test_ports(void **state)
{
    (void)state;
    struct pstream *a, *b, *c;
    struct ovnic_err err = {0};

    assert_int_equal(pstream_open("ptcp:0:127.0.0.1", NULL, &a, NULL), 0);
    assert_int_equal(pstream_open("ptcp:0", NULL, &b, NULL), 0);
    assert_int_not_equal(pstream_port(a), 0);
    assert_int_not_equal(pstream_port(b), 0);
    assert_int_not_equal(pstream_port(a), pstream_port(b));

    /* The port in use cannot be taken again. */
    char name[64];
    snprintf(name, sizeof name, "ptcp:%u:127.0.0.1", pstream_port(a));
    assert_int_equal(pstream_open(name, NULL, &c, &err), -EADDRINUSE);
    assert_non_null(err.message);

    /* The wildcard listener takes connections to 127.0.0.1. */
    snprintf(name, sizeof name, "tcp:127.0.0.1:%u", pstream_port(b));
    struct stream *client;
    assert_int_equal(stream_open(name, NULL, &client, NULL), 0);
    struct stream *server = accept_one(b);
    int client_error, server_error;
    connect_both(client, server, &client_error, &server_error);
    assert_int_equal(client_error, 0);
    assert_int_equal(server_error, 0);
    struct stream *extra;
    assert_int_equal(pstream_accept(b, &extra), -EAGAIN);
    stream_close(client);
    stream_close(server);
    pstream_close(a);
    pstream_close(b);
}

/* Writing to a connection the peer has closed fails with EPIPE or ECONNRESET, and
 * does not raise SIGPIPE (which would end this test). */
static void
test_epipe(void **state)
{
    (void)state;
    struct pstream *p;
    assert_int_equal(pstream_open("ptcp:0:127.0.0.1", NULL, &p, NULL), 0);
    char name[64];
    snprintf(name, sizeof name, "tcp:127.0.0.1:%u", pstream_port(p));
    struct stream *client;
    assert_int_equal(stream_open(name, NULL, &client, NULL), 0);
    struct stream *server = accept_one(p);
    int client_error, server_error;
    connect_both(client, server, &client_error, &server_error);
    assert_int_equal(client_error, 0);
    stream_close(server);

    static char buf[65536];
    uint64_t deadline = time_msec() + TIMEOUT_MS;
    ssize_t n;
    while ((n = stream_send(client, buf, sizeof buf)) > 0 || n == -EAGAIN) {
        assert_true(time_msec() < deadline);
        usleep(1000);
    }
    assert_true(n == -EPIPE || n == -ECONNRESET);
    stream_close(client);
    pstream_close(p);
}

/* A path longer than sun_path still works, for listening and connecting. */
static void
test_unix_long_path(void **state)
{
    struct fixture *f = *state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", f->dir,
             "a-directory-name-long-enough-that-the-socket-path-exceeds-sun-path");
    assert_int_equal(mkdir(dir, 0700), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, "and-then-some-more-characters.sock");
    assert_true(strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path));

    char pname[700], remote[700];
    snprintf(pname, sizeof pname, "punix:%s", path);
    snprintf(remote, sizeof remote, "unix:%s", path);
    echo_test(f, pname, remote, remote, 64 * 1024, false);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(rmdir(dir), 0);
}

static void
test_unix_stale(void **state)
{
    struct fixture *f = *state;
    char *path = path_in(f, "stale.sock");
    char pname[128];
    snprintf(pname, sizeof pname, "punix:%s", path);

    /* A socket file left behind by a listener that is gone is replaced. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    close(fd);
    struct pstream *p, *q;
    assert_int_equal(pstream_open(pname, NULL, &p, NULL), 0);

    /* A live listener is not. */
    struct ovnic_err err = {0};
    assert_int_equal(pstream_open(pname, NULL, &q, &err), -EADDRINUSE);
    pstream_close(p);

    /* Nor is a file that is not a socket. */
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(pstream_open(pname, NULL, &q, NULL), -EADDRINUSE);
    assert_int_equal(access(path, F_OK), 0);
    unlink(path);
    free(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unix_echo),      cmocka_unit_test(test_tcp_echo),
        cmocka_unit_test(test_tcp6_echo),      cmocka_unit_test(test_ssl_echo),
        cmocka_unit_test(test_refused),        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_remote_check),   cmocka_unit_test(test_remote_list_check),
        cmocka_unit_test(test_ports),          cmocka_unit_test(test_epipe),
        cmocka_unit_test(test_unix_long_path), cmocka_unit_test(test_unix_stale),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
