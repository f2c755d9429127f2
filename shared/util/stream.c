/* ovnic: non-blocking byte streams over unix:, tcp: and ssl: remotes. */
#include "shared/util/stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/tls.h"

OVNIC_LOG_MODULE(stream);

_Static_assert(OVNIC_POLL_IN == POLLIN && OVNIC_POLL_OUT == POLLOUT,
               "poll.h event bits must match poll(2)");

#define STREAM_LISTEN_BACKLOG 64

enum stream_kind {
    STREAM_UNIX,
    STREAM_TCP,
    STREAM_SSL,
};

/* A parsed remote or listener name. */
struct stream_addr {
    enum stream_kind kind;
    struct sockaddr_storage ss; /* STREAM_TCP, STREAM_SSL. */
    socklen_t ss_len;
    const char *path; /* STREAM_UNIX: points into the parsed name. */
};

enum stream_state {
    STREAM_CONNECTING,  /* connect() in progress. */
    STREAM_HANDSHAKING, /* TLS handshake in progress. */
    STREAM_CONNECTED,
    STREAM_FAILED,
};

struct stream {
    int fd;
    enum stream_state state;
    int error; /* Negative errno, in STREAM_FAILED. */
    char *name;
    struct tls_context *tls_ctx; /* ssl: remote, until the TLS connection exists. */
    struct tls_conn *tls;        /* ssl: and pssl: streams. */
};

struct pstream {
    int fd;
    enum stream_kind kind;
    char *name;
    char *unix_path; /* punix: socket file, removed on close. */
    uint16_t port;
    struct tls_context *tls_ctx; /* pssl: only. */
};

/* The longest part of a remote quoted in an error's detail; a longer one is cut and
 * marked with "...", so that the reason still fits. */
#define STREAM_NAME_QUOTE_MAX 96

static int stream_malformed__(struct ovnic_err *err, const char *remote, const char *fmt,
                              ...) OVNIC_PRINTF(3, 4);

static int
stream_malformed__(struct ovnic_err *err, const char *remote, const char *fmt, ...)
{
    char why[OVNIC_ERR_DETAIL_LEN];
    size_t len = strlen(remote);
    va_list args;

    va_start(args, fmt);
    vsnprintf(why, sizeof why, fmt, args);
    va_end(args);
    return ovnic_err_set(err, -EINVAL, "stream", "malformed remote", "'%.*s%s': %s",
                         (int)(len > STREAM_NAME_QUOTE_MAX ? STREAM_NAME_QUOTE_MAX : len),
                         remote, len > STREAM_NAME_QUOTE_MAX ? "..." : "", why);
}

/* Parses the decimal port in 's' (of 'len' bytes) of remote 'name'. */
static int
stream_port_parse__(const char *name, const char *s, size_t len, bool allow_zero,
                    uint16_t *port, struct ovnic_err *err)
{
    unsigned long value = 0;
    unsigned int min = allow_zero ? 0 : 1;

    if (!len) {
        return stream_malformed__(err, name, "missing port number after ':'");
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return stream_malformed__(err, name, "port '%.*s' is not a number",
                                      (int)(len > 16 ? 16 : len), s);
        }
        if (value <= 65535) {
            value = value * 10 + (unsigned long)(s[i] - '0');
        }
    }
    if (value > 65535 || value < min) {
        return stream_malformed__(err, name, "port %.*s is out of range (%u to 65535)",
                                  (int)(len > 16 ? 16 : len), s, min);
    }
    *port = (uint16_t)value;
    return 0;
}

/* Parses the numeric IPv4 address, or the IPv6 address in brackets, in 's' (of 'len'
 * bytes) into 'a'.  A passive name may also give IPv6 without brackets. */
static int
stream_host_parse__(const char *name, const char *s, size_t len, bool passive,
                    uint16_t port, struct stream_addr *a, struct ovnic_err *err)
{
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    bool bracketed = len >= 2 && s[0] == '[' && s[len - 1] == ']';
    const char *host = s;
    size_t host_len = len;

    if (bracketed) {
        s++;
        len -= 2;
    }
    if (!len) {
        return stream_malformed__(err, name, "missing address");
    }
    if (len >= sizeof buf) {
        goto bad;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';

    memset(&a->ss, 0, sizeof a->ss);
    if (!bracketed) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
        if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
            sin->sin_family = AF_INET;
            sin->sin_port = htons(port);
            a->ss_len = sizeof *sin;
            return 0;
        }
        if (!passive) {
            goto bad;
        }
    }

    /* getaddrinfo() parses scope IDs ("fe80::1%eth0"); AI_NUMERICHOST keeps it from
     * resolving names. */
    struct addrinfo hints = {
        .ai_family = AF_INET6,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_NUMERICHOST,
    };
    struct addrinfo *res = NULL;
    if (getaddrinfo(buf, NULL, &hints, &res) || !res || res->ai_addrlen > sizeof a->ss) {
        if (res) {
            freeaddrinfo(res);
        }
        goto bad;
    }
    memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
    a->ss_len = res->ai_addrlen;
    ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
    freeaddrinfo(res);
    return 0;

bad:
    /* Letters and no ':' (not IPv6): most likely a host name, which this layer does
     * not resolve.  Say so. */
    if (!bracketed && !memchr(s, ':', len)) {
        for (size_t i = 0; i < len; i++) {
            if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')) {
                return stream_malformed__(
                    err, name,
                    "'%.*s' is not an IP address (host names are not resolved: give a "
                    "numeric IPv4 or [IPv6] address)",
                    (int)(host_len > 64 ? 64 : host_len), host);
            }
        }
    }
    return stream_malformed__(err, name, "'%.*s' is not a numeric IPv4 or [IPv6] address",
                              (int)(host_len > 64 ? 64 : host_len), host);
}

/* Parses "HOST:PORT" (active) or "PORT[:HOST]" (passive) into 'a'. */
static int
stream_inet_parse__(const char *name, const char *rest, bool passive,
                    struct stream_addr *a, struct ovnic_err *err)
{
    const char *host;
    size_t host_len;
    uint16_t port;
    int error;

    if (passive) {
        const char *colon = strchr(rest, ':');
        size_t port_len = colon ? (size_t)(colon - rest) : strlen(rest);
        error = stream_port_parse__(name, rest, port_len, true, &port, err);
        if (error) {
            return error;
        }
        if (!colon) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
            memset(&a->ss, 0, sizeof a->ss);
            sin->sin_family = AF_INET;
            sin->sin_addr.s_addr = htonl(INADDR_ANY);
            sin->sin_port = htons(port);
            a->ss_len = sizeof *sin;
            return 0;
        }
        host = colon + 1;
        host_len = strlen(host);
    } else {
        const char *port_str;
        host = rest;
        if (!rest[0]) {
            return stream_malformed__(err, name, "missing IP:PORT");
        }
        if (rest[0] == '[') {
            const char *close = strchr(rest, ']');
            if (!close) {
                return stream_malformed__(err, name, "missing ']' after IPv6 address");
            }
            if (close[1] != ':') {
                return stream_malformed__(err, name, "missing ':PORT' after the address");
            }
            host_len = (size_t)(close + 1 - rest);
            port_str = close + 2;
        } else {
            const char *colon = strchr(rest, ':');
            if (!colon) {
                return stream_malformed__(err, name, "missing ':PORT' after the address");
            }
            if (strchr(colon + 1, ':')) {
                return stream_malformed__(err, name,
                                          "more than one ':' (an IPv6 address must be "
                                          "written in brackets, as [IPv6]:PORT)");
            }
            host_len = (size_t)(colon - rest);
            port_str = colon + 1;
        }
        error = stream_port_parse__(name, port_str, strlen(port_str), false, &port, err);
        if (error) {
            return error;
        }
    }
    return stream_host_parse__(name, host, host_len, passive, port, a, err);
}

/* Parses 'name' as an active (unix:, tcp:, ssl:) or passive (punix:, ptcp:, pssl:)
 * remote into 'a', which may point into 'name'. */
static int
stream_addr_parse__(const char *name, bool passive, struct stream_addr *a,
                    struct ovnic_err *err)
{
    static const struct {
        const char *scheme;
        enum stream_kind kind;
    } schemes[] = {
        {"unix", STREAM_UNIX},
        {"tcp", STREAM_TCP},
        {"ssl", STREAM_SSL},
    };
    const char *expected = passive ? "punix:, ptcp: or pssl:" : "unix:, tcp: or ssl:";

    if (!name) {
        return ovnic_err_set(err, -EINVAL, "stream", "malformed remote",
                             "no remote given");
    }
    if (!name[0]) {
        return ovnic_err_set(err, -EINVAL, "stream", "malformed remote",
                             "empty remote (expected %s)", expected);
    }
    const char *colon = strchr(name, ':');
    if (!colon) {
        return stream_malformed__(err, name, "expected METHOD:ADDRESS, with METHOD %s",
                                  expected);
    }
    const char *scheme = name;
    size_t scheme_len = (size_t)(colon - name);
    size_t i = ARRAY_SIZE(schemes);
    if (!passive || (scheme_len >= 1 && scheme[0] == 'p')) {
        if (passive) {
            scheme++;
            scheme_len--;
        }
        for (i = 0; i < ARRAY_SIZE(schemes); i++) {
            if (strlen(schemes[i].scheme) == scheme_len &&
                !memcmp(schemes[i].scheme, scheme, scheme_len)) {
                break;
            }
        }
    }
    if (i == ARRAY_SIZE(schemes)) {
        size_t len = (size_t)(colon - name);
        return ovnic_err_set(
            err, -EAFNOSUPPORT, "stream",
            passive ? "unknown listener method" : "unknown remote method",
            "'%.*s%s': unknown method '%.*s' (expected %s)",
            (int)(strlen(name) > STREAM_NAME_QUOTE_MAX ? STREAM_NAME_QUOTE_MAX
                                                       : strlen(name)),
            name, strlen(name) > STREAM_NAME_QUOTE_MAX ? "..." : "",
            (int)(len > 16 ? 16 : len), name, expected);
    }

    memset(a, 0, sizeof *a);
    a->kind = schemes[i].kind;
    const char *rest = colon + 1;
    if (a->kind == STREAM_UNIX) {
        if (!rest[0]) {
            return stream_malformed__(err, name, "empty socket path");
        }
        if (strlen(rest) >= PATH_MAX) {
            return stream_malformed__(err, name, "socket path longer than %d bytes",
                                      PATH_MAX - 1);
        }
        a->path = rest;
        return 0;
    }
    return stream_inet_parse__(name, rest, passive, a, err);
}

int
stream_remote_check(const char *remote, struct ovnic_err *err)
{
    struct stream_addr a;

    return stream_addr_parse__(remote, false, &a, err);
}

int
stream_remote_list_check(const char *remotes, bool *has_ssl, struct ovnic_err *err)
{
    bool ssl = false;
    size_t n = 0;

    if (!remotes) {
        return ovnic_err_set(err, -EINVAL, "stream", "malformed remote",
                             "no remote given");
    }
    for (const char *p = remotes;; n++) {
        size_t len = strcspn(p, ",");
        const char *start = p, *end = p + len;
        char *item;
        int error;

        while (start < end && (*start == ' ' || *start == '\t')) {
            start++;
        }
        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }
        if (end == start) {
            return ovnic_err_set(err, -EINVAL, "stream", "malformed remote",
                                 "empty remote at position %zu of the list", n + 1);
        }
        item = strndup(start, (size_t)(end - start));
        if (!item) {
            return ovnic_err_set(err, -ENOMEM, "stream", "out of memory", NULL);
        }
        error = stream_remote_check(item, err);
        ssl |= !strncmp(item, "ssl:", 4);
        free(item);
        if (error) {
            return error;
        }
        p += len;
        if (!*p) {
            break;
        }
        p++;
    }
    if (has_ssl) {
        *has_ssl = ssl;
    }
    return 0;
}

/* Fills '*sun' and '*sun_len' to name 'path'.  A path too long for sun_path is
 * reached through "/proc/self/fd/N/BASENAME", where N is an fd on its directory that
 * is returned in '*dirfd' and must stay open until the address has been used, then
 * be closed; otherwise '*dirfd' is -1. */
static int
stream_unix_addr__(const char *path, struct sockaddr_un *sun, socklen_t *sun_len,
                   int *dirfd)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    *dirfd = -1;

    size_t len = strlen(path);
    if (len < sizeof sun->sun_path) {
        memcpy(sun->sun_path, path, len + 1);
        *sun_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
        return 0;
    }

    char *dir_copy = strdup(path);
    char *base_copy = strdup(path);
    int error = 0;
    if (!dir_copy || !base_copy) {
        error = -ENOMEM;
        goto out;
    }
    const char *dir = dirname(dir_copy);
    const char *base = basename(base_copy);
    int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        error = -errno;
        goto out;
    }
    int n =
        snprintf(sun->sun_path, sizeof sun->sun_path, "/proc/self/fd/%d/%s", fd, base);
    if (n < 0 || (size_t)n >= sizeof sun->sun_path) {
        close(fd);
        error = -ENAMETOOLONG;
        goto out;
    }
    *sun_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
    *dirfd = fd;

out:
    free(dir_copy);
    free(base_copy);
    return error;
}

/* Connects 'fd' to the unix socket at 'path', or binds it there if 'bind_' is set. */
static int
stream_unix_op__(int fd, const char *path, bool bind_)
{
    struct sockaddr_un sun;
    socklen_t sun_len = 0;
    int dirfd;
    int error = stream_unix_addr__(path, &sun, &sun_len, &dirfd);
    if (error) {
        return error;
    }
    int ret;
    if (bind_) {
        ret = bind(fd, (struct sockaddr *)&sun, sun_len);
    } else {
        do {
            ret = connect(fd, (struct sockaddr *)&sun, sun_len);
        } while (ret < 0 && errno == EINTR);
    }
    error = ret < 0 ? -errno : 0;
    if (dirfd >= 0) {
        close(dirfd);
    }
    return error;
}

static void
stream_nodelay_set__(int fd)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(5, 5);
    int on = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) < 0) {
        OLOG_WARN_RL(&rl, "setting TCP_NODELAY failed: %s", strerror(errno));
    }
}

/* Formats 'ss' as "SCHEME:IP:PORT" (IPv6 in brackets) into a new string. */
static char *
stream_inet_name__(const char *scheme, const struct sockaddr_storage *ss)
{
    char host[INET6_ADDRSTRLEN] = "?";
    char *name = NULL;
    uint16_t port = 0;

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
        port = ntohs(sin->sin_port);
        if (asprintf(&name, "%s:%s:%u", scheme, host, port) < 0) {
            name = NULL;
        }
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
        port = ntohs(sin6->sin6_port);
        if (asprintf(&name, "%s:[%s]:%u", scheme, host, port) < 0) {
            name = NULL;
        }
    }
    return name;
}

static int
stream_create__(int fd, enum stream_state state, const char *name,
                struct stream **streamp)
{
    struct stream *s = calloc(1, sizeof *s);
    if (!s) {
        return -ENOMEM;
    }
    s->name = strdup(name);
    if (!s->name) {
        free(s);
        return -ENOMEM;
    }
    s->fd = fd;
    s->state = state;
    *streamp = s;
    return 0;
}

int
stream_open(const char *remote, const struct tls_config *tls, struct stream **streamp,
            struct ovnic_err *err)
{
    struct stream_addr a;
    struct tls_context *tls_ctx = NULL;
    int error;
    int fd;

    error = stream_addr_parse__(remote, false, &a, err);
    if (error) {
        return error;
    }
    if (a.kind == STREAM_SSL) {
        if (!tls) {
            return ovnic_err_set(err, -EINVAL, "stream", "TLS configuration required",
                                 "'%s'", remote);
        }
        error = tls_context_create(tls, TLS_ROLE_CLIENT, &tls_ctx, err);
        if (error) {
            return error;
        }
    }

    int family = a.kind == STREAM_UNIX ? AF_UNIX : a.ss.ss_family;
    fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error =
            ovnic_err_set(err, -errno, "stream", "cannot create socket", "'%s'", remote);
        goto err_free_tls;
    }

    enum stream_state state = STREAM_CONNECTED;
    if (a.kind == STREAM_UNIX) {
        error = stream_unix_op__(fd, a.path, false);
        if (error == -EAGAIN) {
            /* The listener's backlog is full: the connection was not queued. */
            error = -ECONNREFUSED;
        }
    } else {
        stream_nodelay_set__(fd);
        int ret;
        do {
            ret = connect(fd, (struct sockaddr *)&a.ss, a.ss_len);
        } while (ret < 0 && errno == EINTR);
        if (ret < 0) {
            error = errno == EINPROGRESS ? 0 : -errno;
            state = STREAM_CONNECTING;
        }
    }
    if (error) {
        ovnic_err_set(err, error, "stream", "cannot connect", "'%s'", remote);
        goto err_close;
    }
    if (state == STREAM_CONNECTED && tls_ctx) {
        /* The TLS connection is set up by stream_connect(). */
        state = STREAM_CONNECTING;
    }

    struct stream *s;
    error = stream_create__(fd, state, remote, &s);
    if (error) {
        ovnic_err_set(err, error, "stream", "out of memory", NULL);
        goto err_close;
    }
    s->tls_ctx = tls_ctx;
    *streamp = s;
    return 0;

err_close:
    close(fd);
err_free_tls:
    tls_context_destroy(tls_ctx);
    return error;
}

static int
stream_fail__(struct stream *s, int error)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 20);

    OLOG_DBG_RL(&rl, "%s: connection failed: %s", s->name, strerror(-error));
    s->state = STREAM_FAILED;
    s->error = error;
    return error;
}

/* Returns 0 once the non-blocking connect() of 's' has succeeded, -EAGAIN while it is
 * in progress, or the failure. */
static int
stream_connect_tcp__(struct stream *s)
{
    struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};
    int n;

    do {
        n = poll(&pfd, 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return -errno;
    }
    if (!n) {
        return -EAGAIN;
    }
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0) {
        return -errno;
    }
    return -so_error;
}

int
stream_connect(struct stream *s)
{
    int error;

    switch (s->state) {
    case STREAM_CONNECTING:
        error = stream_connect_tcp__(s);
        if (error == -EAGAIN) {
            return error;
        }
        if (error) {
            return stream_fail__(s, error);
        }
        if (!s->tls_ctx) {
            s->state = STREAM_CONNECTED;
            return 0;
        }
        error = tls_conn_create(s->tls_ctx, s->fd, s->name, &s->tls);
        if (error) {
            return stream_fail__(s, error);
        }
        tls_context_destroy(s->tls_ctx);
        s->tls_ctx = NULL;
        s->state = STREAM_HANDSHAKING;
        /* fall through */
    case STREAM_HANDSHAKING:
        error = tls_conn_handshake(s->tls);
        if (error == -EAGAIN) {
            return error;
        }
        if (error) {
            return stream_fail__(s, error);
        }
        s->state = STREAM_CONNECTED;
        return 0;
    case STREAM_CONNECTED:
        return 0;
    case STREAM_FAILED:
    default:
        return s->error;
    }
}

ssize_t
stream_recv(struct stream *s, void *buf, size_t n)
{
    if (s->state != STREAM_CONNECTED) {
        int error = stream_connect(s);
        if (error) {
            return error;
        }
    }
    if (s->tls) {
        return tls_conn_recv(s->tls, buf, n);
    }
    for (;;) {
        ssize_t ret = recv(s->fd, buf, n, 0);
        if (ret >= 0) {
            return ret;
        }
        if (errno != EINTR) {
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        }
    }
}

ssize_t
stream_send(struct stream *s, const void *buf, size_t n)
{
    if (s->state != STREAM_CONNECTED) {
        int error = stream_connect(s);
        if (error) {
            return error;
        }
    }
    if (s->tls) {
        return tls_conn_send(s->tls, buf, n);
    }
    for (;;) {
        ssize_t ret = send(s->fd, buf, n, MSG_NOSIGNAL);
        if (ret >= 0) {
            return ret;
        }
        if (errno != EINTR) {
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        }
    }
}

int
stream_fd(const struct stream *s)
{
    return s->fd;
}

uint32_t
stream_poll_events(const struct stream *s, bool want_send)
{
    uint32_t events;

    switch (s->state) {
    case STREAM_CONNECTING:
        return OVNIC_POLL_OUT;
    case STREAM_HANDSHAKING:
        events = tls_conn_want(s->tls);
        /* Before the first step, wake at once to take it. */
        return events ? events : OVNIC_POLL_IN | OVNIC_POLL_OUT;
    case STREAM_CONNECTED:
        events = OVNIC_POLL_IN | (want_send ? OVNIC_POLL_OUT : 0);
        if (s->tls) {
            events |= tls_conn_want(s->tls);
        }
        return events;
    case STREAM_FAILED:
    default:
        /* Wake at once so that the caller sees the failure. */
        return OVNIC_POLL_IN | OVNIC_POLL_OUT;
    }
}

const char *
stream_name(const struct stream *s)
{
    return s->name;
}

const char *
stream_peer_name(const struct stream *s)
{
    return s->tls ? tls_conn_peer_cn(s->tls) : NULL;
}

void
stream_close(struct stream *s)
{
    if (!s) {
        return;
    }
    tls_conn_destroy(s->tls);
    tls_context_destroy(s->tls_ctx);
    if (s->fd >= 0) {
        close(s->fd);
    }
    free(s->name);
    free(s);
}

/* Binds 'fd' to the unix socket 'path', replacing a stale socket file left by a
 * listener that no longer runs. */
static int
pstream_unix_bind__(int fd, const char *path)
{
    int error = stream_unix_op__(fd, path, true);
    if (error != -EADDRINUSE) {
        return error;
    }

    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        return error;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe < 0) {
        return -errno;
    }
    int probe_error = stream_unix_op__(probe, path, false);
    close(probe);
    if (probe_error != -ECONNREFUSED) {
        /* Someone listens there (or it cannot be told): leave it alone. */
        return error;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        return -errno;
    }
    return stream_unix_op__(fd, path, true);
}

int
pstream_open(const char *name, const struct tls_config *tls, struct pstream **pstreamp,
             struct ovnic_err *err)
{
    struct stream_addr a;
    int error;

    error = stream_addr_parse__(name, true, &a, err);
    if (error) {
        return error;
    }

    struct pstream *p = calloc(1, sizeof *p);
    if (!p) {
        return ovnic_err_set(err, -ENOMEM, "stream", "out of memory", NULL);
    }
    p->fd = -1;
    p->kind = a.kind;
    p->name = strdup(name);
    if (!p->name) {
        error = ovnic_err_set(err, -ENOMEM, "stream", "out of memory", NULL);
        goto err_free;
    }
    if (a.kind == STREAM_SSL) {
        if (!tls) {
            error = ovnic_err_set(err, -EINVAL, "stream", "TLS configuration required",
                                  "'%s'", name);
            goto err_free;
        }
        error = tls_context_create(tls, TLS_ROLE_SERVER, &p->tls_ctx, err);
        if (error) {
            goto err_free;
        }
    }

    int family = a.kind == STREAM_UNIX ? AF_UNIX : a.ss.ss_family;
    p->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0) {
        error =
            ovnic_err_set(err, -errno, "stream", "cannot create socket", "'%s'", name);
        goto err_free;
    }

    if (a.kind == STREAM_UNIX) {
        error = pstream_unix_bind__(p->fd, a.path);
        if (error) {
            ovnic_err_set(err, error, "stream", "cannot bind", "'%s'", name);
            goto err_free;
        }
        p->unix_path = strdup(a.path);
        if (!p->unix_path) {
            unlink(a.path);
            error = ovnic_err_set(err, -ENOMEM, "stream", "out of memory", NULL);
            goto err_free;
        }
    } else {
        int on = 1;
        if (setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
            bind(p->fd, (struct sockaddr *)&a.ss, a.ss_len) < 0) {
            error = ovnic_err_set(err, -errno, "stream", "cannot bind", "'%s'", name);
            goto err_free;
        }
        struct sockaddr_storage bound;
        socklen_t len = sizeof bound;
        if (getsockname(p->fd, (struct sockaddr *)&bound, &len) < 0) {
            error = ovnic_err_set(err, -errno, "stream", "cannot get bound port", "'%s'",
                                  name);
            goto err_free;
        }
        p->port = ntohs(bound.ss_family == AF_INET
                            ? ((struct sockaddr_in *)&bound)->sin_port
                            : ((struct sockaddr_in6 *)&bound)->sin6_port);
    }

    if (listen(p->fd, STREAM_LISTEN_BACKLOG) < 0) {
        error = ovnic_err_set(err, -errno, "stream", "cannot listen", "'%s'", name);
        goto err_free;
    }
    OLOG_DBG("%s: listening", name);
    *pstreamp = p;
    return 0;

err_free:
    pstream_close(p);
    return error;
}

int
pstream_accept(struct pstream *p, struct stream **streamp)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 20);
    struct sockaddr_storage ss;
    socklen_t ss_len;
    int error;
    int fd;

    do {
        ss_len = sizeof ss;
        fd =
            accept4(p->fd, (struct sockaddr *)&ss, &ss_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        error = errno == EWOULDBLOCK ? -EAGAIN : -errno;
        if (error != -EAGAIN) {
            OLOG_WARN_RL(&rl, "%s: accept failed: %s", p->name, strerror(-error));
        }
        return error;
    }

    char *name;
    if (p->kind == STREAM_UNIX) {
        if (asprintf(&name, "unix:%s", p->unix_path) < 0) {
            name = NULL;
        }
    } else {
        stream_nodelay_set__(fd);
        name = stream_inet_name__(p->kind == STREAM_SSL ? "ssl" : "tcp", &ss);
    }
    if (!name) {
        error = -ENOMEM;
        goto err_close;
    }

    struct stream *s;
    error =
        stream_create__(fd, p->tls_ctx ? STREAM_HANDSHAKING : STREAM_CONNECTED, name, &s);
    free(name);
    if (error) {
        goto err_close;
    }
    if (p->tls_ctx) {
        error = tls_conn_create(p->tls_ctx, fd, s->name, &s->tls);
        if (error) {
            s->fd = -1;
            stream_close(s);
            goto err_close;
        }
    }
    *streamp = s;
    return 0;

err_close:
    close(fd);
    return error;
}

int
pstream_fd(const struct pstream *p)
{
    return p->fd;
}

uint16_t
pstream_port(const struct pstream *p)
{
    return p->port;
}

void
pstream_close(struct pstream *p)
{
    if (!p) {
        return;
    }
    if (p->fd >= 0) {
        close(p->fd);
    }
    if (p->unix_path) {
        unlink(p->unix_path);
    }
    tls_context_destroy(p->tls_ctx);
    free(p->unix_path);
    free(p->name);
    free(p);
}
