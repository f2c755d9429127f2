/* Unit tests for shared/util/tls through ssl:/pssl: streams: mutual authentication,
 * rejected peers, peer names, peers that do not speak TLS, and a real ovsdb-server. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "shared/util/log.h"
#include "shared/util/pki.h"
#include "shared/util/stream.h"
#include "shared/util/tls.h"
#include "shared/util/util.h"

#define TIMEOUT_MS 20000

struct fixture {
    char dir[64];
    char *ca_a, *ca_b;
    char *server_a_cert, *server_a_key; /* CN "server", CA A. */
    char *client_a_cert, *client_a_key; /* CN "client", CA A. */
    char *server_b_cert, *server_b_key; /* CN "server", CA B. */
    char *client_b_cert, *client_b_key; /* CN "client", CA B. */
    char *log_path;
    pid_t ovsdb_pid; /* Running ovsdb-server, or 0. */
};

/* Set when ovsdb-server is not installed: the run then exits 77 (skipped) if
 * everything else passed. */
static bool ovsdb_missing;

static char *
path_in(const struct fixture *f, const char *name)
{
    char *p;
    if (asprintf(&p, "%s/%s", f->dir, name) < 0) {
        return NULL;
    }
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
issue(struct fixture *f, const char *ca, const char *ca_key, const char *cn,
      const char *prefix, char **cert, char **key)
{
    char name[64];
    snprintf(name, sizeof name, "%s-cert.pem", prefix);
    *cert = path_in(f, name);
    snprintf(name, sizeof name, "%s-key.pem", prefix);
    *key = path_in(f, name);
    return pki_cert_issue(ca, ca_key, cn, 2, *cert, *key, NULL);
}

static int
group_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ovnic-tls-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    char *ca_a_key = path_in(f, "ca-a-key.pem");
    char *ca_b_key = path_in(f, "ca-b-key.pem");
    f->ca_a = path_in(f, "ca-a-cert.pem");
    f->ca_b = path_in(f, "ca-b-cert.pem");
    f->log_path = path_in(f, "test.log");
    int error = pki_ca_create("CA A", 2, f->ca_a, ca_a_key, NULL);
    error = error ? error : pki_ca_create("CA B", 2, f->ca_b, ca_b_key, NULL);
    error = error ? error
                  : issue(f, f->ca_a, ca_a_key, "server", "server-a", &f->server_a_cert,
                          &f->server_a_key);
    error = error ? error
                  : issue(f, f->ca_a, ca_a_key, "client", "client-a", &f->client_a_cert,
                          &f->client_a_key);
    error = error ? error
                  : issue(f, f->ca_b, ca_b_key, "server", "server-b", &f->server_b_cert,
                          &f->server_b_key);
    error = error ? error
                  : issue(f, f->ca_b, ca_b_key, "client", "client-b", &f->client_b_cert,
                          &f->client_b_key);
    free(ca_a_key);
    free(ca_b_key);
    signal(SIGPIPE, SIG_DFL);
    return error ? -1 : 0;
}

static int
group_teardown(void **state)
{
    struct fixture *f = *state;
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f->ca_a);
    free(f->ca_b);
    free(f->server_a_cert);
    free(f->server_a_key);
    free(f->client_a_cert);
    free(f->client_a_key);
    free(f->server_b_cert);
    free(f->server_b_key);
    free(f->client_b_cert);
    free(f->client_b_key);
    free(f->log_path);
    free(f);
    return 0;
}

/* Log capture: messages go to 'f->log_path' until log_capture_end(), which returns
 * what was written (caller frees). */
static void
log_capture_start(const struct fixture *f)
{
    unlink(f->log_path);
    assert_int_equal(ovnic_log_open_file(f->log_path), 0);
}

static char *
log_capture_end(const struct fixture *f)
{
    ovnic_log_open_file(NULL);
    FILE *fp = fopen(f->log_path, "r");
    assert_non_null(fp);
    char *text = calloc(1, 65536);
    assert_non_null(text);
    size_t n = fread(text, 1, 65535, fp);
    text[n] = '\0';
    fclose(fp);
    fprintf(stderr, "%s", text);
    return text;
}

static void
assert_log_has(const struct fixture *f, const char *needle)
{
    char *text = log_capture_end(f);
    if (!strstr(text, needle)) {
        free(text);
        fail_msg("log lacks \"%s\"", needle);
    }
    free(text);
}

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

/* One side of a ping/pong exchange. */
struct side {
    struct stream *stream;
    const char *out; /* Message to send... */
    const char *in;  /* ...and the one to receive. */
    bool send_first;
    int step;    /* 0: connect, then send and receive in 'send_first' order. */
    size_t done; /* Bytes of the current message sent or received. */
    char buf[64];
    int result;    /* -EAGAIN while running, else the outcome. */
    char peer[64]; /* stream_peer_name() once connected. */
};

static void
side_init(struct side *s, struct stream *stream, const char *out, const char *in,
          bool send_first)
{
    memset(s, 0, sizeof *s);
    s->stream = stream;
    s->out = out;
    s->in = in;
    s->send_first = send_first;
    s->result = -EAGAIN;
}

static void
side_finish(struct side *s, int result)
{
    s->result = result;
    if (result) {
        /* The peer sees the connection close. */
        stream_close(s->stream);
        s->stream = NULL;
    }
}

static bool
side_is_sending(const struct side *s)
{
    return s->step == (s->send_first ? 1 : 2);
}

/* Advances 's' as far as it can go without waiting. */
static void
side_run(struct side *s)
{
    while (s->result == -EAGAIN) {
        if (s->step == 0) {
            int error = stream_connect(s->stream);
            if (error == -EAGAIN) {
                return;
            }
            if (error) {
                side_finish(s, error);
                return;
            }
            const char *peer = stream_peer_name(s->stream);
            snprintf(s->peer, sizeof s->peer, "%s", peer ? peer : "");
            s->step = 1;
        } else if (s->step == 3) {
            side_finish(s, 0);
        } else if (side_is_sending(s)) {
            size_t len = strlen(s->out);
            ssize_t n = stream_send(s->stream, s->out + s->done, len - s->done);
            if (n == -EAGAIN) {
                return;
            }
            if (n < 0) {
                side_finish(s, (int)n);
                return;
            }
            s->done += (size_t)n;
            if (s->done == len) {
                s->done = 0;
                s->step++;
            }
        } else {
            size_t len = strlen(s->in);
            ssize_t n = stream_recv(s->stream, s->buf + s->done, len - s->done);
            if (n == -EAGAIN) {
                return;
            }
            if (n <= 0) {
                side_finish(s, n ? (int)n : -ECONNRESET);
                return;
            }
            s->done += (size_t)n;
            if (s->done == len) {
                assert_memory_equal(s->buf, s->in, len);
                s->done = 0;
                s->step++;
            }
        }
    }
}

/* Runs a TLS server with 'server_cfg' and a client with 'client_cfg' through a
 * handshake and one message each way.  Returns each side's outcome (0 or a negative
 * errno) and, if connected, the peer name each side saw. */
static void
exchange(const struct tls_config *server_cfg, const struct tls_config *client_cfg,
         struct side *client, struct side *server)
{
    struct pstream *pstream;
    struct ovnic_err err = {0};
    char remote[64];

    assert_int_equal(pstream_open("pssl:0:127.0.0.1", server_cfg, &pstream, &err), 0);
    snprintf(remote, sizeof remote, "ssl:127.0.0.1:%u", pstream_port(pstream));
    struct stream *c;
    assert_int_equal(stream_open(remote, client_cfg, &c, &err), 0);
    struct stream *s = accept_one(pstream);
    side_init(client, c, "ping\n", "pong\n", true);
    side_init(server, s, "pong\n", "ping\n", false);

    uint64_t deadline = time_msec() + TIMEOUT_MS;
    while (client->result == -EAGAIN || server->result == -EAGAIN) {
        assert_true(time_msec() < deadline);
        side_run(client);
        side_run(server);

        struct pollfd pfds[2];
        nfds_t n = 0;
        struct side *sides[2] = {client, server};
        for (int i = 0; i < 2; i++) {
            if (sides[i]->result == -EAGAIN) {
                pfds[n++] =
                    (struct pollfd){stream_fd(sides[i]->stream),
                                    (short)stream_poll_events(sides[i]->stream,
                                                              side_is_sending(sides[i]))};
            }
        }
        if (n) {
            poll(pfds, n, 100);
        }
    }
    stream_close(client->stream);
    stream_close(server->stream);
    pstream_close(pstream);
}

static struct tls_config
cfg(const char *ca, const char *cert, const char *key, const char *peer_name)
{
    return (struct tls_config){ca, cert, key, peer_name};
}

static void
test_mutual_auth(void **state)
{
    struct fixture *f = *state;
    struct tls_config server = cfg(f->ca_a, f->server_a_cert, f->server_a_key, NULL);
    struct tls_config client = cfg(f->ca_a, f->client_a_cert, f->client_a_key, NULL);
    struct side c, s;

    exchange(&server, &client, &c, &s);
    assert_int_equal(c.result, 0);
    assert_int_equal(s.result, 0);
    assert_string_equal(c.peer, "server");
    assert_string_equal(s.peer, "client");
}

/* The server refuses a client whose certificate comes from another CA, and says why. */
static void
test_client_from_other_ca(void **state)
{
    struct fixture *f = *state;
    struct tls_config server = cfg(f->ca_a, f->server_a_cert, f->server_a_key, NULL);
    struct tls_config client = cfg(f->ca_a, f->client_b_cert, f->client_b_key, NULL);
    struct side c, s;

    log_capture_start(f);
    exchange(&server, &client, &c, &s);
    assert_int_equal(s.result, -EPROTO);
    assert_int_equal(c.result, -EPROTO);
    assert_log_has(f, "certificate verify failed");
}

/* The client refuses a server whose certificate comes from another CA. */
static void
test_server_from_other_ca(void **state)
{
    struct fixture *f = *state;
    struct tls_config server = cfg(f->ca_a, f->server_b_cert, f->server_b_key, NULL);
    struct tls_config client = cfg(f->ca_a, f->client_a_cert, f->client_a_key, NULL);
    struct side c, s;

    log_capture_start(f);
    exchange(&server, &client, &c, &s);
    assert_int_equal(c.result, -EPROTO);
    assert_int_equal(s.result, -EPROTO);
    assert_log_has(f, "unable to get local issuer certificate");
}

static void
test_peer_name(void **state)
{
    struct fixture *f = *state;
    struct side c, s;

    /* Matching names on both sides. */
    struct tls_config server = cfg(f->ca_a, f->server_a_cert, f->server_a_key, "client");
    struct tls_config client = cfg(f->ca_a, f->client_a_cert, f->client_a_key, "server");
    exchange(&server, &client, &c, &s);
    assert_int_equal(c.result, 0);
    assert_int_equal(s.result, 0);

    /* The client expects another server. */
    client.peer_name = "server2";
    log_capture_start(f);
    exchange(&server, &client, &c, &s);
    assert_int_equal(c.result, -EPROTO);
    assert_int_equal(s.result, -EPROTO);
    assert_log_has(f, "hostname mismatch");

    /* No prefix, suffix or case-insensitive tricks. */
    client.peer_name = "serv";
    exchange(&server, &client, &c, &s);
    assert_int_equal(c.result, -EPROTO);
    client.peer_name = "*.server";
    exchange(&server, &client, &c, &s);
    assert_int_equal(c.result, -EPROTO);

    /* The server expects another client. */
    client.peer_name = "server";
    server.peer_name = "someone-else";
    exchange(&server, &client, &c, &s);
    assert_int_equal(s.result, -EPROTO);
    assert_int_equal(c.result, -EPROTO);
}

/* A client that speaks plain TCP (JSON-RPC) to a TLS server fails cleanly on both
 * sides. */
static void
test_plain_client_to_tls_server(void **state)
{
    struct fixture *f = *state;
    struct tls_config server_cfg = cfg(f->ca_a, f->server_a_cert, f->server_a_key, NULL);
    struct pstream *pstream;
    char remote[64];

    assert_int_equal(pstream_open("pssl:0:127.0.0.1", &server_cfg, &pstream, NULL), 0);
    snprintf(remote, sizeof remote, "tcp:127.0.0.1:%u", pstream_port(pstream));
    struct stream *client;
    assert_int_equal(stream_open(remote, NULL, &client, NULL), 0);
    struct stream *server = accept_one(pstream);

    const char *msg = "{\"method\":\"list_dbs\",\"params\":[],\"id\":0}";
    uint64_t deadline = time_msec() + TIMEOUT_MS;
    int error;
    while ((error = stream_connect(client)) == -EAGAIN) {
        assert_true(time_msec() < deadline);
        usleep(1000);
    }
    assert_int_equal(error, 0);
    assert_int_equal(stream_send(client, msg, strlen(msg)), (ssize_t)strlen(msg));

    log_capture_start(f);
    while ((error = stream_connect(server)) == -EAGAIN) {
        assert_true(time_msec() < deadline);
        struct pollfd pfd = {stream_fd(server), (short)stream_poll_events(server, false)};
        poll(&pfd, 1, 100);
    }
    assert_int_equal(error, -EPROTO);
    assert_log_has(f, "TLS handshake failed");
    /* The failure sticks, and I/O reports it. */
    char buf[512];
    assert_int_equal(stream_recv(server, buf, sizeof buf), -EPROTO);
    assert_int_equal(stream_send(server, "x", 1), -EPROTO);
    stream_close(server);

    /* The client sees the connection end (perhaps after an alert record). */
    ssize_t n;
    while ((n = stream_recv(client, buf, sizeof buf)) != 0) {
        if (n == -ECONNRESET) {
            break;
        }
        assert_true(n > 0 || n == -EAGAIN);
        assert_true(time_msec() < deadline);
        struct pollfd pfd = {stream_fd(client), POLLIN, 0};
        poll(&pfd, 1, 100);
    }
    stream_close(client);
    pstream_close(pstream);
}

/* A TLS client facing a server that answers in plain text, or just hangs up, fails
 * cleanly. */
static void
tls_client_to_plain_server(const struct fixture *f, const char *reply, int expected)
{
    struct tls_config client_cfg = cfg(f->ca_a, f->client_a_cert, f->client_a_key, NULL);
    struct pstream *pstream;
    char remote[64];

    assert_int_equal(pstream_open("ptcp:0:127.0.0.1", NULL, &pstream, NULL), 0);
    snprintf(remote, sizeof remote, "ssl:127.0.0.1:%u", pstream_port(pstream));
    struct stream *client;
    assert_int_equal(stream_open(remote, &client_cfg, &client, NULL), 0);
    struct stream *server = accept_one(pstream);

    uint64_t deadline = time_msec() + TIMEOUT_MS;
    char hello[4096];
    ssize_t n;
    int error;
    /* Let the client send its ClientHello, and read it. */
    while ((n = stream_recv(server, hello, sizeof hello)) == -EAGAIN) {
        assert_int_equal(stream_connect(client), -EAGAIN);
        assert_true(time_msec() < deadline);
        usleep(1000);
    }
    assert_true(n > 0);
    assert_int_equal(hello[0], 22); /* A TLS handshake record. */
    if (reply) {
        assert_int_equal(stream_send(server, reply, strlen(reply)),
                         (ssize_t)strlen(reply));
    }
    stream_close(server);

    while ((error = stream_connect(client)) == -EAGAIN) {
        assert_true(time_msec() < deadline);
        struct pollfd pfd = {stream_fd(client), (short)stream_poll_events(client, false)};
        poll(&pfd, 1, 100);
    }
    assert_int_equal(error, expected);
    stream_close(client);
    pstream_close(pstream);
}

static void
test_tls_client_to_plain_server(void **state)
{
    tls_client_to_plain_server(*state, "HTTP/1.0 400 Bad Request\r\n\r\n", -EPROTO);
    tls_client_to_plain_server(*state, NULL, -ECONNRESET);
}

/* A raw OpenSSL client that presents no certificate, run in its own thread. */
struct certless_client {
    const char *ca;
    uint16_t port;
    int write_result;
    int read_result;
};

static void *
certless_client_main(void *aux)
{
    struct certless_client *cc = aux;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_file(ctx, cc->ca);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons(cc->port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    SSL *ssl = NULL;
    cc->write_result = cc->read_result = -1;
    if (!connect(fd, (struct sockaddr *)&sin, sizeof sin)) {
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_connect(ssl) == 1) {
            cc->write_result = SSL_write(ssl, "ping\n", 5);
            char buf[16];
            cc->read_result = SSL_read(ssl, buf, sizeof buf);
        }
    }
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return NULL;
}

static void
test_client_without_certificate(void **state)
{
    struct fixture *f = *state;
    struct tls_config server_cfg = cfg(f->ca_a, f->server_a_cert, f->server_a_key, NULL);
    struct pstream *pstream;

    assert_int_equal(pstream_open("pssl:0:127.0.0.1", &server_cfg, &pstream, NULL), 0);
    struct certless_client cc = {.ca = f->ca_a, .port = pstream_port(pstream)};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, certless_client_main, &cc), 0);
    struct stream *server = accept_one(pstream);

    log_capture_start(f);
    uint64_t deadline = time_msec() + TIMEOUT_MS;
    int error;
    while ((error = stream_connect(server)) == -EAGAIN) {
        assert_true(time_msec() < deadline);
        struct pollfd pfd = {stream_fd(server), (short)stream_poll_events(server, false)};
        poll(&pfd, 1, 100);
    }
    stream_close(server);
    pthread_join(thread, NULL);
    assert_int_equal(error, -EPROTO);
    assert_log_has(f, "peer did not return a certificate");
    /* The client got nothing back. */
    assert_true(cc.read_result <= 0);
    pstream_close(pstream);
}

static void
test_config_errors(void **state)
{
    struct fixture *f = *state;
    char *missing = path_in(f, "missing.pem");
    struct stream *s;
    struct pstream *p;
    struct {
        struct tls_config cfg;
        int error;
        const char *message;
    } cases[] = {
        {cfg(missing, f->client_a_cert, f->client_a_key, NULL), -ENOENT,
         "cannot read TLS file"},
        {cfg(f->ca_a, missing, f->client_a_key, NULL), -ENOENT, "cannot read TLS file"},
        {cfg(f->ca_a, f->client_a_cert, missing, NULL), -ENOENT, "cannot read TLS file"},
        {cfg(NULL, f->client_a_cert, f->client_a_key, NULL), -EINVAL,
         "TLS configuration incomplete"},
        {cfg(f->ca_a, f->client_a_cert, NULL, NULL), -EINVAL,
         "TLS configuration incomplete"},
        /* A key file holding no key. */
        {cfg(f->ca_a, f->client_a_cert, f->client_a_cert, NULL), -EINVAL,
         "cannot load private key"},
        /* A certificate file holding no certificate. */
        {cfg(f->ca_a, f->client_a_key, f->client_a_key, NULL), -EINVAL,
         "cannot load certificate"},
        /* Another certificate's key. */
        {cfg(f->ca_a, f->client_a_cert, f->server_a_key, NULL), -EINVAL,
         "cannot load private key"},
        /* An empty peer name would check nothing. */
        {cfg(f->ca_a, f->client_a_cert, f->client_a_key, ""), -EINVAL,
         "TLS configuration incomplete"},
        /* A CA file holding no certificate. */
        {cfg(f->client_a_key, f->client_a_cert, f->client_a_key, NULL), -EINVAL,
         "cannot load CA"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ovnic_err err = {0};
        char buf[512];
        assert_int_equal(stream_open("ssl:127.0.0.1:6640", &cases[i].cfg, &s, &err),
                         cases[i].error);
        print_message("  %s\n", ovnic_err_format(&err, buf, sizeof buf));
        assert_string_equal(err.message, cases[i].message);
        ovnic_err_clear(&err);
        assert_int_equal(pstream_open("pssl:0:127.0.0.1", &cases[i].cfg, &p, &err),
                         cases[i].error);
        assert_string_equal(err.message, cases[i].message);
    }
    /* Contexts can also be made directly, for either role. */
    struct tls_context *ctx;
    struct tls_config ok = cfg(f->ca_a, f->client_a_cert, f->client_a_key, "x");
    assert_int_equal(tls_context_create(&ok, TLS_ROLE_SERVER, &ctx, NULL), 0);
    tls_context_destroy(ctx);
    assert_int_equal(tls_context_create(NULL, TLS_ROLE_CLIENT, &ctx, NULL), -EINVAL);
    tls_context_destroy(NULL);
    tls_conn_destroy(NULL);
    free(missing);
}

/* Drives the handshakes of 'a' and 'b' until neither is in progress. */
static void
conn_handshake_both(struct tls_conn *a, struct tls_conn *b, int fds[2], int *a_error,
                    int *b_error)
{
    uint64_t deadline = time_msec() + TIMEOUT_MS;
    *a_error = *b_error = -EAGAIN;
    while (*a_error == -EAGAIN || *b_error == -EAGAIN) {
        assert_true(time_msec() < deadline);
        if (*a_error == -EAGAIN) {
            *a_error = tls_conn_handshake(a);
        }
        if (*b_error == -EAGAIN) {
            *b_error = tls_conn_handshake(b);
        }
        struct pollfd pfds[2] = {
            {fds[0], (short)(*a_error == -EAGAIN ? tls_conn_want(a) : 0), 0},
            {fds[1], (short)(*b_error == -EAGAIN ? tls_conn_want(b) : 0), 0},
        };
        poll(pfds, 2, 100);
    }
}

/* The TLS layer on its own, over a socketpair. */
static void
test_conn_api(void **state)
{
    struct fixture *f = *state;
    struct tls_config server_cfg = cfg(f->ca_a, f->server_a_cert, f->server_a_key, NULL);
    struct tls_config client_cfg = cfg(f->ca_a, f->client_a_cert, f->client_a_key, NULL);
    struct tls_config stranger_cfg =
        cfg(f->ca_a, f->client_b_cert, f->client_b_key, NULL);
    struct tls_context *server_ctx, *client_ctx, *stranger_ctx;
    assert_int_equal(tls_context_create(&server_cfg, TLS_ROLE_SERVER, &server_ctx, NULL),
                     0);
    assert_int_equal(tls_context_create(&client_cfg, TLS_ROLE_CLIENT, &client_ctx, NULL),
                     0);
    assert_int_equal(
        tls_context_create(&stranger_cfg, TLS_ROLE_CLIENT, &stranger_ctx, NULL), 0);

    /* Success; the contexts may go away before their connections. */
    int fds[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    struct tls_conn *server, *client;
    assert_int_equal(tls_conn_create(server_ctx, fds[0], "server side", &server), 0);
    assert_int_equal(tls_conn_create(client_ctx, fds[1], "client side", &client), 0);
    tls_context_destroy(client_ctx);
    assert_false(tls_conn_is_established(client));
    assert_null(tls_conn_peer_cn(client));
    int server_error, client_error;
    conn_handshake_both(server, client, fds, &server_error, &client_error);
    assert_int_equal(server_error, 0);
    assert_int_equal(client_error, 0);
    assert_true(tls_conn_is_established(server));
    assert_string_equal(tls_conn_peer_cn(server), "client");
    assert_string_equal(tls_conn_peer_cn(client), "server");
    assert_string_equal(tls_conn_error(client), "");
    assert_int_equal(tls_conn_send(client, "hi", 2), 2);
    char buf[8];
    ssize_t n;
    while ((n = tls_conn_recv(server, buf, sizeof buf)) == -EAGAIN) {
        struct pollfd pfd = {fds[0], (short)tls_conn_want(server), 0};
        poll(&pfd, 1, 100);
    }
    assert_int_equal(n, 2);
    assert_memory_equal(buf, "hi", 2);
    /* An orderly close reads as 0. */
    tls_conn_destroy(client);
    while ((n = tls_conn_recv(server, buf, sizeof buf)) == -EAGAIN) {
        struct pollfd pfd = {fds[0], (short)tls_conn_want(server), 0};
        poll(&pfd, 1, 100);
    }
    assert_int_equal(n, 0);
    tls_conn_destroy(server);
    close(fds[0]);
    close(fds[1]);

    /* Failure, with the reason kept. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    assert_int_equal(tls_conn_create(server_ctx, fds[0], "server side", &server), 0);
    assert_int_equal(tls_conn_create(stranger_ctx, fds[1], "stranger", &client), 0);
    conn_handshake_both(server, client, fds, &server_error, &client_error);
    assert_int_equal(server_error, -EPROTO);
    assert_non_null(strstr(tls_conn_error(server), "certificate verify failed"));
    assert_false(tls_conn_is_established(server));
    assert_int_equal(tls_conn_handshake(server), -EPROTO);
    assert_int_equal(tls_conn_send(server, "x", 1), -EPROTO);
    tls_conn_destroy(server);
    tls_conn_destroy(client);
    close(fds[0]);
    close(fds[1]);

    tls_context_destroy(server_ctx);
    tls_context_destroy(stranger_ctx);
}

/* Finds an executable: 'preferred' if it exists, else 'name' on $PATH.  Returns a
 * string to free, or NULL. */
static char *
find_program(const char *preferred, const char *name)
{
    if (!access(preferred, X_OK)) {
        return strdup(preferred);
    }
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin");
    char *save = NULL;
    char *found = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        char *candidate;
        if (asprintf(&candidate, "%s/%s", dir, name) < 0) {
            break;
        }
        if (!access(candidate, X_OK)) {
            found = candidate;
        } else {
            free(candidate);
        }
    }
    free(copy);
    return found;
}

/* Runs 'argv' with output discarded; returns its exit status, or -1. */
static int
run(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, STDOUT_FILENO);
        dup2(devnull, STDERR_FILENO);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        return -1;
    }
    return WEXITSTATUS(status);
}

/* A TCP port on 127.0.0.1 that was free a moment ago. */
static uint16_t
free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

static pid_t
pidfile_read(const char *path)
{
    FILE *fp = fopen(path, "r");
    long pid = 0;
    if (fp) {
        if (fscanf(fp, "%ld", &pid) != 1) {
            pid = 0;
        }
        fclose(fp);
    }
    return (pid_t)pid;
}

static void
ovsdb_server_stop(struct fixture *f, const char *pidfile)
{
    if (f->ovsdb_pid <= 0) {
        return;
    }
    /* The server runs in the foreground as our child: the pidfile names it. */
    pid_t pid = pidfile ? pidfile_read(pidfile) : 0;
    if (pid > 0) {
        assert_int_equal(pid, f->ovsdb_pid);
    }
    kill(f->ovsdb_pid, SIGTERM);
    int status;
    pid_t r = waitpid(f->ovsdb_pid, &status, 0);
    f->ovsdb_pid = 0;
    assert_true(r > 0);
    assert_true(WIFSIGNALED(status) || WIFEXITED(status));
}

static int
ovsdb_teardown(void **state)
{
    struct fixture *f = *state;
    if (f->ovsdb_pid > 0) {
        kill(f->ovsdb_pid, SIGKILL);
        waitpid(f->ovsdb_pid, NULL, 0);
        f->ovsdb_pid = 0;
    }
    return 0;
}

/* Connects an ssl: stream to a real ovsdb-server serving the OVN Southbound schema
 * over pssl:, with certificates from pki, and asks it for its databases. */
static void
test_ovsdb_server(void **state)
{
    struct fixture *f = *state;
    const char *schema = "/usr/share/ovn/ovn-sb.ovsschema";
    char *server_bin = find_program("/usr/sbin/ovsdb-server", "ovsdb-server");
    char *tool_bin = find_program("/usr/bin/ovsdb-tool", "ovsdb-tool");
    if (!server_bin || !tool_bin || access(schema, R_OK)) {
        free(server_bin);
        free(tool_bin);
        ovsdb_missing = true;
        skip();
    }

    char *db = path_in(f, "sb.db");
    char *pidfile = path_in(f, "ovsdb-server.pid");
    char *ctl = path_in(f, "ovsdb-server.ctl");
    char *log = path_in(f, "ovsdb-server.log");
    char *args[8];
    uint16_t port = free_port();
    for (int i = 0; i < 8; i++) {
        args[i] = NULL;
    }
    assert_true(asprintf(&args[0], "--pidfile=%s", pidfile) > 0);
    assert_true(asprintf(&args[1], "--unixctl=%s", ctl) > 0);
    assert_true(asprintf(&args[2], "--log-file=%s", log) > 0);
    assert_true(asprintf(&args[3], "--remote=pssl:%u:127.0.0.1", port) > 0);
    assert_true(asprintf(&args[4], "--private-key=%s", f->server_a_key) > 0);
    assert_true(asprintf(&args[5], "--certificate=%s", f->server_a_cert) > 0);
    assert_true(asprintf(&args[6], "--ca-cert=%s", f->ca_a) > 0);

    char *create[] = {tool_bin, "create", db, (char *)schema, NULL};
    assert_int_equal(run(create), 0);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, STDOUT_FILENO);
        dup2(devnull, STDERR_FILENO);
        execl(server_bin, "ovsdb-server", db, "--no-chdir", args[0], args[1], args[2],
              args[3], args[4], args[5], args[6], (char *)NULL);
        _exit(127);
    }
    f->ovsdb_pid = pid;

    /* Connect, retrying while the server starts up.  The client checks that the
     * server's certificate names "server". */
    struct tls_config client_cfg =
        cfg(f->ca_a, f->client_a_cert, f->client_a_key, "server");
    char remote[64];
    snprintf(remote, sizeof remote, "ssl:127.0.0.1:%u", port);
    uint64_t deadline = time_msec() + TIMEOUT_MS;
    struct stream *s = NULL;
    for (;;) {
        assert_true(time_msec() < deadline);
        assert_int_equal(waitpid(pid, NULL, WNOHANG), 0); /* Still running. */
        struct ovnic_err err = {0};
        int error = stream_open(remote, &client_cfg, &s, &err);
        if (!error) {
            while ((error = stream_connect(s)) == -EAGAIN) {
                assert_true(time_msec() < deadline);
                struct pollfd pfd = {stream_fd(s), (short)stream_poll_events(s, false)};
                poll(&pfd, 1, 100);
            }
        }
        if (!error) {
            break;
        }
        if (s) {
            stream_close(s);
            s = NULL;
        }
        assert_int_equal(error, -ECONNREFUSED);
        usleep(50 * 1000);
    }
    assert_string_equal(stream_peer_name(s), "server");

    const char *request = "{\"method\":\"list_dbs\",\"params\":[],\"id\":0}";
    size_t sent = 0;
    char reply[4096];
    size_t got = 0;
    while (!memchr(reply, '}', got)) {
        assert_true(time_msec() < deadline);
        if (sent < strlen(request)) {
            ssize_t n = stream_send(s, request + sent, strlen(request) - sent);
            assert_true(n > 0 || n == -EAGAIN);
            sent += n > 0 ? (size_t)n : 0;
        }
        ssize_t n = stream_recv(s, reply + got, sizeof reply - 1 - got);
        if (n == -EAGAIN) {
            struct pollfd pfd = {stream_fd(s),
                                 (short)stream_poll_events(s, sent < strlen(request))};
            poll(&pfd, 1, 100);
            continue;
        }
        assert_true(n > 0);
        got += (size_t)n;
    }
    reply[got] = '\0';
    print_message("  ovsdb-server replied: %s\n", reply);
    assert_non_null(strstr(reply, "\"OVN_Southbound\""));
    assert_non_null(strstr(reply, "\"id\":0"));
    stream_close(s);

    ovsdb_server_stop(f, pidfile);

    for (int i = 0; i < 8; i++) {
        free(args[i]);
    }
    free(db);
    free(pidfile);
    free(ctl);
    free(log);
    free(server_bin);
    free(tool_bin);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutual_auth),
        cmocka_unit_test(test_client_from_other_ca),
        cmocka_unit_test(test_server_from_other_ca),
        cmocka_unit_test(test_peer_name),
        cmocka_unit_test(test_plain_client_to_tls_server),
        cmocka_unit_test(test_tls_client_to_plain_server),
        cmocka_unit_test(test_client_without_certificate),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_conn_api),
        cmocka_unit_test_teardown(test_ovsdb_server, ovsdb_teardown),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    return !failed && ovsdb_missing ? 77 : failed;
}
