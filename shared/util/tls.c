/* ovnic: TLS over OpenSSL 3 with mutual authentication. */
#include "shared/util/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "shared/util/log.h"

OVNIC_LOG_MODULE(tls);

#define TLS_ERROR_LEN 256

struct tls_context {
    SSL_CTX *ssl_ctx;
    enum tls_role role;
    char *peer_name; /* Required peer CN/DNS SAN, or NULL. */
};

struct tls_conn {
    SSL *ssl;
    BIO_METHOD *bio_method; /* Freed after 'ssl', which holds the BIO. */
    char *name;
    char *peer_cn;
    uint32_t want; /* POLLIN/POLLOUT awaited by the last -EAGAIN. */
    bool established;
    int fatal; /* Sticky negative errno once the connection failed. */
    char error[TLS_ERROR_LEN];
};

/* Appends the reasons left in this thread's OpenSSL error queue to 'buf' (holding a
 * string of 'size' bytes), and empties the queue. */
static void
tls_errors_drain__(char *buf, size_t size)
{
    unsigned long last = 0;
    unsigned long code;
    const char *data;
    int flags;

    while ((code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        if (code == last) {
            continue;
        }
        last = code;

        char tmp[128];
        const char *reason = ERR_reason_error_string(code);
        if (!reason) {
            ERR_error_string_n(code, tmp, sizeof tmp);
            reason = tmp;
        }
        size_t len = strlen(buf);
        if (len + 1 >= size) {
            continue;
        }
        bool has_data = (flags & ERR_TXT_STRING) && data && data[0];
        snprintf(buf + len, size - len, "%s%s%s%s", len ? "; " : "", reason,
                 has_data ? ": " : "", has_data ? data : "");
    }
}

/* Records in 'err' a failure to load 'what' from 'path', with the reason OpenSSL
 * gives. */
static int
tls_load_error__(struct ovnic_err *err, int code, const char *path, const char *what)
{
    char reason[TLS_ERROR_LEN] = "";
    tls_errors_drain__(reason, sizeof reason);
    return ovnic_err_set(err, code, "tls", what, "%s: %s", path,
                         reason[0] ? reason : "no usable PEM data");
}

/* Checks that 'path' names a readable file, so that a missing file is reported as
 * such rather than as an OpenSSL parse failure. */
static int
tls_file_check__(const char *path, const char *what, struct ovnic_err *err)
{
    if (!path || !path[0]) {
        return ovnic_err_set(err, -EINVAL, "tls", "TLS configuration incomplete",
                             "%s file not set", what);
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int error = -errno;
        return ovnic_err_set(err, error, "tls", "cannot read TLS file", "%s file %s",
                             what, path);
    }
    close(fd);
    return 0;
}

int
tls_context_create(const struct tls_config *config, enum tls_role role,
                   struct tls_context **ctxp, struct ovnic_err *err)
{
    int error;

    if (!config) {
        return ovnic_err_set(err, -EINVAL, "tls", "TLS configuration required", NULL);
    }
    if (config->peer_name && !config->peer_name[0]) {
        /* OpenSSL would take an empty name as "check no name". */
        return ovnic_err_set(err, -EINVAL, "tls", "TLS configuration incomplete",
                             "empty peer name");
    }
    error = tls_file_check__(config->ca_file, "CA", err);
    if (!error) {
        error = tls_file_check__(config->cert_file, "certificate", err);
    }
    if (!error) {
        error = tls_file_check__(config->key_file, "private key", err);
    }
    if (error) {
        return error;
    }

    struct tls_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        return ovnic_err_set(err, -ENOMEM, "tls", "out of memory", NULL);
    }
    ctx->role = role;
    if (config->peer_name) {
        ctx->peer_name = strdup(config->peer_name);
        if (!ctx->peer_name) {
            error = ovnic_err_set(err, -ENOMEM, "tls", "out of memory", NULL);
            goto err_free_ctx;
        }
    }

    ERR_clear_error();
    ctx->ssl_ctx =
        SSL_CTX_new(role == TLS_ROLE_SERVER ? TLS_server_method() : TLS_client_method());
    if (!ctx->ssl_ctx) {
        error = tls_load_error__(err, -ENOMEM, "SSL_CTX", "cannot create TLS context");
        goto err_free_ctx;
    }
    SSL_CTX *sc = ctx->ssl_ctx;
    if (!SSL_CTX_set_min_proto_version(sc, TLS1_2_VERSION)) {
        error = tls_load_error__(err, -EINVAL, "SSL_CTX", "cannot require TLS 1.2");
        goto err_free_ssl_ctx;
    }
    /* Renegotiation and resumption tickets would only add states to the non-blocking
     * machinery; no ovnic peer needs them.  A peer that closes without a close
     * notification is treated as a close: the protocols above delimit messages. */
    SSL_CTX_set_options(sc, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                                SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_num_tickets(sc, 0);
    SSL_CTX_set_mode(sc,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(sc, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);

    if (SSL_CTX_load_verify_file(sc, config->ca_file) != 1) {
        error = tls_load_error__(err, -EINVAL, config->ca_file, "cannot load CA");
        goto err_free_ssl_ctx;
    }
    if (role == TLS_ROLE_SERVER) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(config->ca_file);
        if (!names) {
            error = tls_load_error__(err, -EINVAL, config->ca_file, "cannot load CA");
            goto err_free_ssl_ctx;
        }
        SSL_CTX_set_client_CA_list(sc, names);
    }
    if (SSL_CTX_use_certificate_chain_file(sc, config->cert_file) != 1) {
        error =
            tls_load_error__(err, -EINVAL, config->cert_file, "cannot load certificate");
        goto err_free_ssl_ctx;
    }
    if (SSL_CTX_use_PrivateKey_file(sc, config->key_file, SSL_FILETYPE_PEM) != 1) {
        error =
            tls_load_error__(err, -EINVAL, config->key_file, "cannot load private key");
        goto err_free_ssl_ctx;
    }
    if (SSL_CTX_check_private_key(sc) != 1) {
        error = tls_load_error__(err, -EINVAL, config->key_file,
                                 "private key does not match certificate");
        goto err_free_ssl_ctx;
    }

    *ctxp = ctx;
    return 0;

err_free_ssl_ctx:
    SSL_CTX_free(ctx->ssl_ctx);
err_free_ctx:
    free(ctx->peer_name);
    free(ctx);
    ERR_clear_error();
    return error;
}

void
tls_context_destroy(struct tls_context *ctx)
{
    if (ctx) {
        SSL_CTX_free(ctx->ssl_ctx);
        free(ctx->peer_name);
        free(ctx);
    }
}

/* A socket BIO that sends with MSG_NOSIGNAL, so that writing to a connection the peer
 * has reset returns EPIPE instead of raising SIGPIPE. */
static int
tls_bio_fd__(BIO *bio)
{
    return (int)(intptr_t)BIO_get_data(bio);
}

static int
tls_bio_write__(BIO *bio, const char *buf, int len)
{
    BIO_clear_retry_flags(bio);
    for (;;) {
        ssize_t n = send(tls_bio_fd__(bio), buf, (size_t)len, MSG_NOSIGNAL);
        if (n >= 0) {
            return (int)n;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            BIO_set_retry_write(bio);
        }
        return -1;
    }
}

static int
tls_bio_read__(BIO *bio, char *buf, int len)
{
    BIO_clear_retry_flags(bio);
    for (;;) {
        ssize_t n = recv(tls_bio_fd__(bio), buf, (size_t)len, 0);
        if (n > 0) {
            return (int)n;
        }
        if (n == 0) {
            BIO_set_flags(bio, BIO_FLAGS_IN_EOF);
            return 0;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            BIO_set_retry_read(bio);
        }
        return -1;
    }
}

static long
tls_bio_ctrl__(BIO *bio, int cmd, long num OVNIC_UNUSED, void *ptr OVNIC_UNUSED)
{
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_EOF:
        return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0;
    default:
        return 0;
    }
}

static int
tls_bio_create__(BIO *bio)
{
    BIO_set_init(bio, 1);
    return 1;
}

static BIO_METHOD *
tls_bio_method_create__(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "ovnic socket");
    if (m &&
        (!BIO_meth_set_write(m, tls_bio_write__) ||
         !BIO_meth_set_read(m, tls_bio_read__) || !BIO_meth_set_ctrl(m, tls_bio_ctrl__) ||
         !BIO_meth_set_create(m, tls_bio_create__))) {
        BIO_meth_free(m);
        m = NULL;
    }
    return m;
}

int
tls_conn_create(struct tls_context *ctx, int fd, const char *name,
                struct tls_conn **connp)
{
    int error = -ENOMEM;

    struct tls_conn *s = calloc(1, sizeof *s);
    if (!s) {
        return -ENOMEM;
    }
    s->name = strdup(name ? name : "");
    if (!s->name) {
        goto err_free_conn;
    }
    ERR_clear_error();
    s->bio_method = tls_bio_method_create__();
    if (!s->bio_method) {
        goto err_free_name;
    }
    s->ssl = SSL_new(ctx->ssl_ctx);
    if (!s->ssl) {
        goto err_free_method;
    }
    if (ctx->peer_name) {
        /* The CN counts as well as DNS SANs, and only exact names match. */
        SSL_set_hostflags(s->ssl, X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT |
                                      X509_CHECK_FLAG_NO_WILDCARDS);
        if (SSL_set1_host(s->ssl, ctx->peer_name) != 1) {
            error = -EINVAL;
            goto err_free_ssl;
        }
    }
    BIO *bio = BIO_new(s->bio_method);
    if (!bio) {
        goto err_free_ssl;
    }
    BIO_set_data(bio, (void *)(intptr_t)fd);
    SSL_set_bio(s->ssl, bio, bio); /* 's->ssl' owns 'bio' from here. */
    if (ctx->role == TLS_ROLE_SERVER) {
        SSL_set_accept_state(s->ssl);
    } else {
        SSL_set_connect_state(s->ssl);
    }

    *connp = s;
    return 0;

err_free_ssl:
    SSL_free(s->ssl);
err_free_method:
    BIO_meth_free(s->bio_method);
err_free_name:
    free(s->name);
err_free_conn:
    free(s);
    ERR_clear_error();
    return error;
}

/* Records the peer certificate's CN, if it has one that is a plain string. */
static void
tls_conn_peer_cn_take__(struct tls_conn *s)
{
    X509 *cert = SSL_get0_peer_certificate(s->ssl);
    if (!cert) {
        return;
    }
    X509_NAME *subject = X509_get_subject_name(cert);
    int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (idx < 0) {
        return;
    }
    ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    unsigned char *utf8 = NULL;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len >= 0 && !memchr(utf8, '\0', (size_t)len)) {
        s->peer_cn = strndup((const char *)utf8, (size_t)len);
    }
    OPENSSL_free(utf8);
}

/* Converts the outcome 'ret' of an SSL call named 'op' into 0 (end of stream),
 * -EAGAIN, or a sticky negative errno, logging why the connection failed. */
static int
tls_conn_result__(struct tls_conn *s, int ret, int saved_errno, const char *op)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 20);
    int error;

    switch (SSL_get_error(s->ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        s->want = POLLIN;
        return -EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        s->want = POLLOUT;
        return -EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        s->want = 0;
        if (s->established) {
            return 0;
        }
        error = -ECONNRESET;
        snprintf(s->error, sizeof s->error, "connection closed by peer");
        break;
    case SSL_ERROR_SYSCALL:
        error = saved_errno > 0 ? -saved_errno : -ECONNRESET;
        snprintf(s->error, sizeof s->error, "%s", strerror(-error));
        tls_errors_drain__(s->error, sizeof s->error);
        break;
    case SSL_ERROR_SSL:
    default:
        error = -EPROTO;
        s->error[0] = '\0';
        tls_errors_drain__(s->error, sizeof s->error);
        long verify = SSL_get_verify_result(s->ssl);
        if (verify != X509_V_OK) {
            size_t len = strlen(s->error);
            snprintf(s->error + len, sizeof s->error - len, "%s(%s)", len ? " " : "",
                     X509_verify_cert_error_string(verify));
        }
        if (!s->error[0]) {
            snprintf(s->error, sizeof s->error, "TLS protocol error");
        }
        break;
    }

    s->want = 0;
    s->fatal = error;
    ERR_clear_error();
    if (error == -EPROTO) {
        OLOG_WARN_RL(&rl, "%s: %s failed: %s", s->name, op, s->error);
    } else {
        OLOG_INFO_RL(&rl, "%s: %s failed: %s", s->name, op, s->error);
    }
    return error;
}

int
tls_conn_handshake(struct tls_conn *s)
{
    if (s->established) {
        return 0;
    }
    if (s->fatal) {
        return s->fatal;
    }
    ERR_clear_error();
    errno = 0;
    int ret = SSL_do_handshake(s->ssl);
    int saved_errno = errno;
    if (ret == 1) {
        s->established = true;
        s->want = 0;
        tls_conn_peer_cn_take__(s);
        OLOG_DBG("%s: TLS established (%s, %s), peer \"%s\"", s->name,
                 SSL_get_version(s->ssl), SSL_get_cipher_name(s->ssl),
                 s->peer_cn ? s->peer_cn : "");
        return 0;
    }
    return tls_conn_result__(s, ret, saved_errno, "TLS handshake");
}

ssize_t
tls_conn_recv(struct tls_conn *s, void *buf, size_t n)
{
    int error = tls_conn_handshake(s);
    if (error) {
        return error;
    }
    if (!n) {
        return 0;
    }
    ERR_clear_error();
    errno = 0;
    int ret = SSL_read(s->ssl, buf, (int)MIN(n, (size_t)INT_MAX));
    int saved_errno = errno;
    if (ret > 0) {
        s->want = 0;
        return ret;
    }
    return tls_conn_result__(s, ret, saved_errno, "TLS receive");
}

ssize_t
tls_conn_send(struct tls_conn *s, const void *buf, size_t n)
{
    int error = tls_conn_handshake(s);
    if (error) {
        return error;
    }
    if (!n) {
        return 0;
    }
    ERR_clear_error();
    errno = 0;
    int ret = SSL_write(s->ssl, buf, (int)MIN(n, (size_t)INT_MAX));
    int saved_errno = errno;
    if (ret > 0) {
        s->want = 0;
        return ret;
    }
    error = tls_conn_result__(s, ret, saved_errno, "TLS send");
    /* The peer closing is an error for a sender. */
    return error ? error : -EPIPE;
}

uint32_t
tls_conn_want(const struct tls_conn *s)
{
    return s->want;
}

bool
tls_conn_is_established(const struct tls_conn *s)
{
    return s->established;
}

const char *
tls_conn_peer_cn(const struct tls_conn *s)
{
    return s->established ? s->peer_cn : NULL;
}

const char *
tls_conn_error(const struct tls_conn *s)
{
    return s->error;
}

void
tls_conn_destroy(struct tls_conn *s)
{
    if (!s) {
        return;
    }
    if (s->established && !s->fatal) {
        ERR_clear_error();
        SSL_shutdown(s->ssl);
        ERR_clear_error();
    }
    SSL_free(s->ssl);
    BIO_meth_free(s->bio_method);
    free(s->peer_cn);
    free(s->name);
    free(s);
}
