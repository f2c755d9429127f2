/* ovnic trace differential test: running ovn-trace and parsing its minimal output
 * (see ovntrace.h). */
#include "ovntrace.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dpu/controller/lex.h"
#include "shared/util/util.h"

#define RUN_TIMEOUT_MS 60000
#define SERVER_CT_REPEAT 2000 /* --ct options a server starts with. */
#define SERVER_MAX_ARGS (SERVER_CT_REPEAT + 16)
#define MARK_DEFAULT_CT "default (use --ct to customize)"

/* ---- Processes ---- */

/* Runs 'argv' with stdin from /dev/null and stderr passed through; captures stdout
 * into '*out' (caller owns) if 'out' is nonnull.  Returns the exit status (0-255),
 * 128+N if killed by signal N, or -1 (could not run, or timed out and killed). */
static int
run_argv(char *const argv[], char **out, int timeout_ms)
{
    int fds[2];
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool timed_out = false;
    int status;
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC)) {
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (!pid) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) {
            dup2(null, 0);
        }
        dup2(fds[1], 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed =
            (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= timeout_ms) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int n = poll(&pfd, 1, (int)(timeout_ms - elapsed));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            continue;
        }
        if (cap - len < 4096) {
            size_t new_cap = cap ? cap * 2 : 8192;
            char *p = realloc(buf, new_cap);
            if (!p) {
                kill(pid, SIGKILL);
                timed_out = true;
                break;
            }
            buf = p;
            cap = new_cap;
        }
        ssize_t r = read(fds[0], buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        len += r;
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        continue;
    }
    if (timed_out) {
        free(buf);
        return -1;
    }
    if (out) {
        if (!buf) {
            buf = malloc(1);
            if (!buf) {
                return -1;
            }
        }
        buf[len] = '\0';
        *out = buf;
    } else {
        free(buf);
    }
    return WIFEXITED(status)     ? WEXITSTATUS(status)
           : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                 : -1;
}

/* A growable argv. */
struct args {
    char **v;
    size_t n, cap;
    bool failed;
};

static void args_add(struct args *a, const char *fmt, ...) OVNIC_PRINTF(2, 3);

static void
args_add(struct args *a, const char *fmt, ...)
{
    va_list ap;
    char *s;

    if (a->failed) {
        return;
    }
    if (a->n + 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        char **v = realloc(a->v, cap * sizeof *v);
        if (!v) {
            a->failed = true;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) {
        a->failed = true;
        s = NULL;
    }
    va_end(ap);
    if (s) {
        a->v[a->n++] = s;
        a->v[a->n] = NULL;
    }
}

/* Adds the words of 'extra' (space-separated options). */
static void
args_add_words(struct args *a, const char *extra)
{
    char *copy, *save = NULL;

    if (!extra || !*extra) {
        return;
    }
    copy = strdup(extra);
    if (!copy) {
        a->failed = true;
        return;
    }
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        args_add(a, "%s", w);
    }
    free(copy);
}

static void
args_free(struct args *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i]);
    }
    free(a->v);
}

int
ovntrace_run(const char *db, const char *extra, const struct ovntrace_opts *opts,
             const char *datapath, const char *microflow, char **output)
{
    struct args a = {0};
    char *out = NULL;
    int ret;

    args_add(&a, "ovn-trace");
    args_add(&a, "--db=%s", db);
    args_add_words(&a, extra);
    args_add(&a, "--minimal");
    if (opts && opts->ct) {
        for (int i = 0; i < OVNTRACE_CT_REPEAT; i++) {
            args_add(&a, "--ct=%s", opts->ct);
        }
    }
    if (opts && opts->lb_dst) {
        args_add(&a, "--lb-dst=%s", opts->lb_dst);
    }
    args_add(&a, "%s", datapath);
    args_add(&a, "%s", microflow);
    if (a.failed) {
        args_free(&a);
        return -ENOMEM;
    }
    ret = run_argv(a.v, &out, RUN_TIMEOUT_MS);
    args_free(&a);
    if (ret) {
        free(out);
        return -EIO;
    }
    *output = out;
    return 0;
}

/* ---- The daemon ---- */

struct ovntrace_server {
    char *db;
    char *extra;
    char *ct;
    char *pidfile;
    char *ctl;
    char *log;
    int fd; /* Connected to 'ctl', or -1. */
    unsigned int next_id;
    size_t n_traces;
    size_t n_restarts;
    size_t n_failed;
};

static int
server_connect(struct ovntrace_server *s)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = 30};

    if (strlen(s->ctl) >= sizeof sun.sun_path) {
        return -ENAMETOOLONG;
    }
    strcpy(sun.sun_path, s->ctl);
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        return -errno;
    }
    setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(s->fd, (struct sockaddr *)&sun, sizeof sun)) {
        int err = -errno;
        close(s->fd);
        s->fd = -1;
        return err;
    }
    return 0;
}

static pid_t
server_pid(const struct ovntrace_server *s)
{
    FILE *f = fopen(s->pidfile, "r");
    long pid = -1;

    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) {
            pid = -1;
        }
        fclose(f);
    }
    return pid > 0 ? (pid_t)pid : -1;
}

/* Sends one request and reads its reply.  Returns the reply (caller owns) or NULL. */
static json_t *
server_call(struct ovntrace_server *s, const char *method, json_t *params)
{
    json_t *req = json_pack("{s:s, s:o, s:I}", "method", method, "params", params, "id",
                            (json_int_t)++s->next_id);
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    json_t *reply = NULL;

    json_decref(req);
    if (!text || s->fd < 0) {
        free(text);
        return NULL;
    }
    size_t n = strlen(text);
    for (size_t ofs = 0; ofs < n;) {
        ssize_t w = send(s->fd, text + ofs, n - ofs, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            free(text);
            return NULL;
        }
        ofs += w;
    }
    free(text);

    for (;;) {
        if (cap - len < 4096) {
            size_t new_cap = cap ? cap * 2 : 16384;
            char *p = realloc(buf, new_cap);
            if (!p) {
                break;
            }
            buf = p;
            cap = new_cap;
        }
        ssize_t r = recv(s->fd, buf + len, cap - len, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        len += r;
        json_error_t jerr;
        reply = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, &jerr);
        if (reply) {
            break;
        }
    }
    free(buf);
    return reply;
}

static void
server_stop(struct ovntrace_server *s)
{
    pid_t pid = server_pid(s);

    if (s->fd >= 0) {
        json_decref(server_call(s, "exit", json_array()));
        close(s->fd);
        s->fd = -1;
    }
    if (pid > 0) {
        for (int i = 0; i < 200 && !kill(pid, 0); i++) {
            usleep(10000);
        }
        if (!kill(pid, 0)) {
            kill(pid, SIGKILL);
        }
    }
    unlink(s->pidfile);
}

static int
server_start(struct ovntrace_server *s)
{
    struct args a = {0};
    int ret;

    args_add(&a, "ovn-trace");
    args_add(&a, "--db=%s", s->db);
    args_add_words(&a, s->extra);
    args_add(&a, "--detach");
    args_add(&a, "--no-chdir");
    args_add(&a, "--pidfile=%s", s->pidfile);
    args_add(&a, "--unixctl=%s", s->ctl);
    args_add(&a, "--log-file=%s", s->log);
    if (s->ct) {
        for (int i = 0; i < SERVER_CT_REPEAT; i++) {
            args_add(&a, "--ct=%s", s->ct);
        }
    }
    if (a.failed) {
        args_free(&a);
        return -ENOMEM;
    }
    /* With --detach the command returns once the daemon has read the database. */
    ret = run_argv(a.v, NULL, RUN_TIMEOUT_MS);
    args_free(&a);
    if (ret) {
        return -EIO;
    }
    ret = server_connect(s);
    if (ret) {
        server_stop(s);
        return -EIO;
    }
    return 0;
}

int
ovntrace_server_create(const char *db, const char *extra, const char *dir,
                       const char *name, const char *ct, struct ovntrace_server **serverp)
{
    struct ovntrace_server *s = calloc(1, sizeof *s);
    int ret;

    if (!s) {
        return -ENOMEM;
    }
    s->fd = -1;
    s->db = strdup(db);
    s->extra = extra ? strdup(extra) : NULL;
    s->ct = ct ? strdup(ct) : NULL;
    if (asprintf(&s->pidfile, "%s/%s.pid", dir, name) < 0) {
        s->pidfile = NULL;
    }
    if (asprintf(&s->ctl, "%s/%s.ctl", dir, name) < 0) {
        s->ctl = NULL;
    }
    if (asprintf(&s->log, "%s/%s.log", dir, name) < 0) {
        s->log = NULL;
    }
    if (!s->db || (extra && !s->extra) || (ct && !s->ct) || !s->pidfile || !s->ctl ||
        !s->log) {
        ovntrace_server_destroy(s);
        return -ENOMEM;
    }
    ret = server_start(s);
    if (ret) {
        ovntrace_server_destroy(s);
        return ret;
    }
    *serverp = s;
    return 0;
}

static int
server_trace__(struct ovntrace_server *s, const char *datapath, const char *microflow,
               char **output)
{
    json_t *reply =
        server_call(s, "trace", json_pack("[s, s, s]", "--minimal", datapath, microflow));
    const char *result = json_string_value(json_object_get(reply, "result"));
    int ret = -EIO;

    if (result) {
        *output = strdup(result);
        ret = *output ? 0 : -ENOMEM;
    } else if (reply) {
        /* An error reply, e.g. for a microflow that does not parse: report it as the
         * trace output, as the command line would print it. */
        const char *error = json_string_value(json_object_get(reply, "error"));
        *output = strdup(error ? error : "error");
        ret = *output ? 0 : -ENOMEM;
    }
    json_decref(reply);
    return ret;
}

int
ovntrace_server_trace(struct ovntrace_server *s, const char *datapath,
                      const char *microflow, char **output)
{
    int deaths = 0;

    for (int attempt = 0; attempt < 4; attempt++) {
        char *out = NULL;
        int ret = s->fd >= 0 ? server_trace__(s, datapath, microflow, &out) : -EIO;

        if (ret == -ENOMEM) {
            return ret;
        }
        if (!ret && !(s->ct && strstr(out, MARK_DEFAULT_CT))) {
            s->n_traces++;
            *output = out;
            return 0;
        }
        /* The daemon died on this packet, or its --ct queue ran dry: start it again.
         * Dying twice on one packet is ovn-trace failing on it. */
        deaths += ret != 0;
        free(out);
        server_stop(s);
        s->n_restarts++;
        ret = server_start(s);
        if (ret) {
            return ret;
        }
        if (deaths == 2) {
            s->n_failed++;
            return -ECANCELED;
        }
    }
    return -EIO;
}

size_t
ovntrace_server_n_traces(const struct ovntrace_server *s)
{
    return s->n_traces;
}

size_t
ovntrace_server_n_restarts(const struct ovntrace_server *s)
{
    return s->n_restarts;
}

size_t
ovntrace_server_n_failed(const struct ovntrace_server *s)
{
    return s->n_failed;
}

void
ovntrace_server_destroy(struct ovntrace_server *s)
{
    if (!s) {
        return;
    }
    if (s->pidfile) {
        server_stop(s);
    }
    free(s->db);
    free(s->extra);
    free(s->ct);
    free(s->pidfile);
    free(s->ctl);
    free(s->log);
    free(s);
}

/* ---- Verdicts ---- */

#define FV_NAME_LEN 24
#define FV_VALUE_LEN 40
#define FV_MAX 64

/* A field value while parsing. */
struct fv {
    char name[FV_NAME_LEN];
    char value[FV_VALUE_LEN]; /* Canonical hexadecimal. */
    bool explicit_;           /* Written by a statement of the trace. */
};

struct fv_set {
    struct fv f[FV_MAX];
    size_t n;
};

/* The state of one path through the tree. */
struct frame {
    struct fv_set fields; /* The input, then rewritten. */
    int ctrl_depth;       /* Controller blocks entered. */
    char via[64];         /* Their names, outermost first, '/'-joined. */
    bool ttl_expired;     /* "ip.ttl--" ran on a TTL of 0 or 1: see parser_decrement(). */
};

struct parser {
    struct frame stack[32];
    size_t depth;
    struct fv_set input;
    const char *lb_dst;
    struct ovntrace_verdict *v;
    bool nomem;
};

/* Header fields of the OVN language, as struct pkey names them. */
static const char *const header_fields[] = {
    "arp.op",   "arp.sha",   "arp.spa",    "arp.tha",    "arp.tpa",    "eth.dst",
    "eth.src",  "eth.type",  "icmp4.code", "icmp4.type", "icmp6.code", "icmp6.type",
    "ip.dscp",  "ip.ecn",    "ip.proto",   "ip.ttl",     "ip4.dst",    "ip4.src",
    "ip6.dst",  "ip6.label", "ip6.src",    "nd.sll",     "nd.target",  "nd.tll",
    "sctp.dst", "sctp.src",  "tcp.dst",    "tcp.flags",  "tcp.src",    "udp.dst",
    "udp.src",  "vlan.tci",
};

static const char *const ctrl_blocks[] = {
    "arp",   "nd_na",       "nd_ns",     "nd_na_router", "icmp4",  "icmp4_error",
    "icmp6", "icmp6_error", "tcp_reset", "sctp_abort",   "reject",
};

static const char *const ctrl_statements[] = {
    "put_dhcp_opts",
    "put_dhcpv6_opts",
    "put_nd_ra_opts",
};

static bool
in_list(const char *word, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(word, list[i])) {
            return true;
        }
    }
    return false;
}

static bool
is_header_field(const char *name)
{
    return in_list(name, header_fields, ARRAY_SIZE(header_fields));
}

/* The name under which a controller action is compared: ovn-trace shows reject { }
 * as the packet it builds, and the error/router variants under the base name. */
static const char *
ctrl_canonical_name(const char *name)
{
    if (!strcmp(name, "icmp4_error")) {
        return "icmp4";
    } else if (!strcmp(name, "icmp6_error")) {
        return "icmp6";
    } else if (!strcmp(name, "nd_na_router")) {
        return "nd_na";
    }
    return name;
}

static struct fv *
fv_find(struct fv_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++) {
        if (!strcmp(set->f[i].name, name)) {
            return &set->f[i];
        }
    }
    return NULL;
}

static const char *
fv_get(const struct fv_set *set, const char *name)
{
    struct fv *f = fv_find((struct fv_set *)set, name);
    return f ? f->value : "0x0";
}

static void
fv_set(struct fv_set *set, const char *name, const char *value, bool explicit_)
{
    struct fv *f = fv_find(set, name);

    if (!f) {
        if (set->n >= FV_MAX) {
            return;
        }
        f = &set->f[set->n++];
        snprintf(f->name, sizeof f->name, "%s", name);
        f->explicit_ = false;
    }
    snprintf(f->value, sizeof f->value, "%s", value);
    f->explicit_ |= explicit_;
}

static void
u128_hex(lex_u128 v, char *buf, size_t size)
{
    char digits[40];
    size_t n = 0, i;

    do {
        digits[n++] = "0123456789abcdef"[(unsigned)(v & 0xf)];
        v >>= 4;
    } while (v);
    if (size < n + 3) {
        snprintf(buf, size, "?");
        return;
    }
    buf[0] = '0';
    buf[1] = 'x';
    for (i = 0; i < n; i++) {
        buf[2 + i] = digits[n - 1 - i];
    }
    buf[2 + n] = '\0';
}

/* Canonical form of value text 'v' into 'buf': a number in hexadecimal; false if 'v'
 * is not one number. */
static bool
canonical_value(const char *v, char *buf, size_t size)
{
    struct lex_token tok, next;
    size_t end = lex_token_parse(&tok, v, 0);
    bool ok = false;

    lex_token_parse(&next, v, end);
    if (next.type == LEX_T_END && tok.type == LEX_T_INTEGER) {
        u128_hex(tok.value, buf, size);
        ok = true;
    }
    lex_token_destroy(&tok);
    lex_token_destroy(&next);
    return ok;
}

static char *
trim(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t') {
        s++;
    }
    n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

/* Length of the field name at 's' ("ip4.dst"; a subscript "eth.dst[40]" included). */
static size_t
field_len(const char *s)
{
    size_t n = 0;

    while (s[n] && (s[n] == '.' || s[n] == '_' || (s[n] >= 'a' && s[n] <= 'z') ||
                    (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9'))) {
        n++;
    }
    if (n && s[n] == '[') {
        const char *close = strchr(s + n, ']');
        if (close) {
            n = close - s + 1;
        }
    }
    return n;
}

/* The word a block or call starts with ("ct_next" of "ct_next(ct_state=new)"). */
static void
first_word(const char *s, char *word, size_t size)
{
    size_t n = 0;

    while (s[n] && s[n] != '(' && s[n] != ' ' && s[n] != ':' && s[n] != '{' &&
           n + 1 < size) {
        word[n] = s[n];
        n++;
    }
    word[n] = '\0';
}

static int
field_cmp(const void *a_, const void *b_)
{
    const struct ovntrace_field *a = a_;
    const struct ovntrace_field *b = b_;
    return strcmp(a->name, b->name);
}

static int
str_cmp(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;
    return strcmp(*a, *b);
}

static int
output_cmp(const void *a_, const void *b_)
{
    const struct ovntrace_output *a = a_;
    const struct ovntrace_output *b = b_;
    int c = strcmp(a->port, b->port);
    if (!c) {
        c = (int)a->ctrl - (int)b->ctrl;
    }
    return c ? c : strcmp(a->via, b->via);
}

/* Appends a copy of 'name'='value' to the array '*fields'. */
static int
fields_add(struct ovntrace_field **fields, size_t *n, const char *name, const char *value)
{
    struct ovntrace_field *f = realloc(*fields, (*n + 1) * sizeof *f);

    if (!f) {
        return -ENOMEM;
    }
    *fields = f;
    f[*n].name = strdup(name);
    f[*n].value = strdup(value);
    if (!f[*n].name || !f[*n].value) {
        free(f[*n].name);
        free(f[*n].value);
        return -ENOMEM;
    }
    (*n)++;
    return 0;
}

static void
fields_free(struct ovntrace_field *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(fields[i].name);
        free(fields[i].value);
    }
    free(fields);
}

static const char *
input_get(const struct ovntrace_verdict *v, const char *name)
{
    for (size_t i = 0; i < v->n_input; i++) {
        if (!strcmp(v->input[i].name, name)) {
            return v->input[i].value;
        }
    }
    return "0x0";
}

/* reject builds a TCP reset for TCP, an SCTP abort for SCTP, else an ICMP
 * unreachable, as ovn-controller does; ovn-trace shows it under the name of what it
 * builds.  Neither the pipeline nor a controller action changes the protocol, so the
 * input's tells which. */
static const char *
reject_canonical_name(const struct ovntrace_verdict *v)
{
    const char *proto = input_get(v, "ip.proto");
    const char *type = input_get(v, "eth.type");
    if (!strcmp(proto, "0x6")) {
        return "tcp_reset";
    } else if (!strcmp(proto, "0x84")) {
        return "sctp_abort";
    } else if (!strcmp(type, "0x800")) {
        return "icmp4";
    } else if (!strcmp(type, "0x86dd")) {
        return "icmp6";
    }
    return "reject";
}

static int
verdict_add_ctrl(struct ovntrace_verdict *v, const char *name)
{
    char **c = realloc(v->ctrls, (v->n_ctrls + 1) * sizeof *c);

    if (!c) {
        return -ENOMEM;
    }
    v->ctrls = c;
    c[v->n_ctrls] = strdup(!strcmp(name, "reject") ? reject_canonical_name(v)
                                                   : ctrl_canonical_name(name));
    if (!c[v->n_ctrls]) {
        return -ENOMEM;
    }
    v->n_ctrls++;
    return 0;
}

static struct ovntrace_output *
verdict_add_output(struct ovntrace_verdict *v, const char *port, bool ctrl,
                   const char *via)
{
    struct ovntrace_output *o = realloc(v->outputs, (v->n_outputs + 1) * sizeof *o);

    if (!o) {
        return NULL;
    }
    v->outputs = o;
    o = &o[v->n_outputs];
    memset(o, 0, sizeof *o);
    o->port = strdup(port);
    o->via = strdup(via);
    if (!o->port || !o->via) {
        free(o->port);
        free(o->via);
        return NULL;
    }
    o->ctrl = ctrl;
    v->n_outputs++;
    return o;
}

static void
verdict_sort(struct ovntrace_verdict *v)
{
    if (v->n_input > 1) {
        qsort(v->input, v->n_input, sizeof *v->input, field_cmp);
    }
    for (size_t i = 0; i < v->n_outputs; i++) {
        if (v->outputs[i].n_fields > 1) {
            qsort(v->outputs[i].fields, v->outputs[i].n_fields,
                  sizeof *v->outputs[i].fields, field_cmp);
        }
    }
    if (v->n_outputs > 1) {
        qsort(v->outputs, v->n_outputs, sizeof *v->outputs, output_cmp);
    }
    if (v->n_ctrls > 1) {
        qsort(v->ctrls, v->n_ctrls, sizeof *v->ctrls, str_cmp);
    }
}

static void
parser_output(struct parser *p, const char *port)
{
    const struct frame *f = &p->stack[p->depth - 1];
    bool ctrl = f->ctrl_depth > 0;
    if (f->ttl_expired) {
        return;
    }
    struct ovntrace_output *o = verdict_add_output(p->v, port, ctrl, f->via);

    if (!o) {
        p->nomem = true;
        return;
    }
    o->partial = ctrl;
    for (size_t i = 0; i < f->fields.n; i++) {
        const struct fv *x = &f->fields.f[i];
        bool take = ctrl ? x->explicit_ : strcmp(x->value, fv_get(&p->input, x->name));
        if (take && fields_add(&o->fields, &o->n_fields, x->name, x->value)) {
            p->nomem = true;
            return;
        }
    }
}

/* "ip.ttl--": one less than the current value.  ovn-trace takes a TTL of 1 to 0 and
 * goes on; ip.ttl-- is OpenFlow's dec_ttl in OVN, which stops a packet whose TTL is 0
 * or 1 (it becomes a packet-in that ovn-controller discards), so the path ends
 * there: it delivers nothing. */
static void
parser_decrement(struct parser *p, const char *name)
{
    struct fv_set *set = &p->stack[p->depth - 1].fields;
    unsigned long long v = strtoull(fv_get(set, name), NULL, 16);
    char buf[FV_VALUE_LEN];

    if (!strcmp(name, "ip.ttl") && v <= 1) {
        p->stack[p->depth - 1].ttl_expired = true;
    }

    u128_hex((lex_u128)(v ? v - 1 : 0), buf, sizeof buf);
    fv_set(set, name, buf, true);
}

static void
parse_statement(struct parser *p, char *s)
{
    struct fv_set *set = &p->stack[p->depth - 1].fields;
    char word[64], value[FV_VALUE_LEN];
    size_t n;

    if (!*s || !strncmp(s, "/*", 2) || !strncmp(s, "***", 3)) {
        return;
    }
    if (!strncmp(s, "output(", 7)) {
        char *port = s + 7;
        size_t len = strlen(port);
        if (len && port[len - 1] == ')') {
            port[--len] = '\0';
        }
        if (len >= 2 && port[0] == '"' && port[len - 1] == '"') {
            port[len - 1] = '\0';
            port++;
        }
        parser_output(p, port);
        return;
    }
    n = field_len(s);
    if (n && !strcmp(s + n, "--")) {
        s[n] = '\0';
        if (is_header_field(s)) {
            parser_decrement(p, s);
        }
        return;
    }
    if (n && !strncmp(s + n, " = ", 3)) {
        s[n] = '\0';
        if (is_header_field(s) && canonical_value(trim(s + n + 3), value, sizeof value)) {
            fv_set(set, s, value, true);
        }
        return;
    }
    first_word(s, word, sizeof word);
    if (in_list(word, ctrl_statements, ARRAY_SIZE(ctrl_statements)) &&
        verdict_add_ctrl(p->v, word)) {
        p->nomem = true;
    }
}

/* The rewrite a conntrack block shows in its name: "ct_dnat(ip4.dst=10.0.0.5)". */
static void
apply_ct_nat(struct fv_set *set, const char *name)
{
    const char *open = strchr(name, '(');
    const char *eq = open ? strchr(open, '=') : NULL;
    const char *close = eq ? strchr(eq, ')') : NULL;
    char field[FV_NAME_LEN], text[64], value[FV_VALUE_LEN];

    if (!close || eq - open - 1 >= (long)sizeof field ||
        close - eq - 1 >= (long)sizeof text) {
        return;
    }
    snprintf(field, sizeof field, "%.*s", (int)(eq - open - 1), open + 1);
    snprintf(text, sizeof text, "%.*s", (int)(close - eq - 1), eq + 1);
    if (is_header_field(field) && canonical_value(text, value, sizeof value)) {
        fv_set(set, field, value, false);
    }
}

/* ct_lb/ct_lb_mark with --lb-dst: the destination ovn-trace rewrites to. */
static void
apply_lb_dst(struct fv_set *set, const char *lb_dst)
{
    char ip[64], value[FV_VALUE_LEN];
    const char *port = NULL;
    const char *eth_type = fv_get(set, "eth.type");
    bool ipv6 = lb_dst[0] == '[' || strchr(lb_dst, ':') != strrchr(lb_dst, ':');

    if (lb_dst[0] == '[') {
        const char *close = strchr(lb_dst, ']');
        if (!close || close - lb_dst - 1 >= (long)sizeof ip) {
            return;
        }
        snprintf(ip, sizeof ip, "%.*s", (int)(close - lb_dst - 1), lb_dst + 1);
        port = close[1] == ':' ? close + 2 : NULL;
    } else if (!ipv6 && strchr(lb_dst, ':')) {
        const char *colon = strchr(lb_dst, ':');
        snprintf(ip, sizeof ip, "%.*s", (int)(colon - lb_dst), lb_dst);
        port = colon + 1;
    } else {
        snprintf(ip, sizeof ip, "%s", lb_dst);
    }
    if (strcmp(eth_type, ipv6 ? "0x86dd" : "0x800") ||
        !canonical_value(ip, value, sizeof value)) {
        return;
    }
    fv_set(set, ipv6 ? "ip6.dst" : "ip4.dst", value, false);
    if (port && atoi(port) > 0) {
        const char *proto = fv_get(set, "ip.proto");
        const char *l4 = !strcmp(proto, "0x6")    ? "tcp.dst"
                         : !strcmp(proto, "0x11") ? "udp.dst"
                         : !strcmp(proto, "0x84") ? "sctp.dst"
                                                  : NULL;
        if (l4) {
            u128_hex((lex_u128)atoi(port), value, sizeof value);
            fv_set(set, l4, value, false);
        }
    }
}

static int
parse_block_open(struct parser *p, const char *name)
{
    char word[64];

    if (p->depth >= ARRAY_SIZE(p->stack)) {
        return -EINVAL;
    }
    struct frame *inner = &p->stack[p->depth];
    *inner = p->stack[p->depth - 1];
    p->depth++;
    first_word(name, word, sizeof word);
    if (in_list(word, ctrl_blocks, ARRAY_SIZE(ctrl_blocks))) {
        /* A new packet: what was written to the old one is no longer known to hold
         * (ovn-trace rebuilds TTL, protocol, ports, and swaps addresses for replies),
         * except the source MAC an ARP request keeps. */
        for (size_t i = 0; i < inner->fields.n; i++) {
            struct fv *f = &inner->fields.f[i];
            f->explicit_ &= !strcmp(word, "arp") && !strcmp(f->name, "eth.src");
        }
        inner->ctrl_depth++;
        if (verdict_add_ctrl(p->v, word)) {
            return -ENOMEM;
        }
        size_t len = strlen(inner->via);
        snprintf(inner->via + len, sizeof inner->via - len, "%s%s", len ? "/" : "",
                 p->v->ctrls[p->v->n_ctrls - 1]);
    } else if (!strcmp(word, "ct_lb") || !strcmp(word, "ct_lb_mark")) {
        if (p->lb_dst) {
            apply_lb_dst(&inner->fields, p->lb_dst);
        }
    } else if (!strncmp(word, "ct_", 3)) {
        apply_ct_nat(&inner->fields, name);
    }
    return 0;
}

/* OVS flow-format field names (as in ovn-trace's "# " line) to OVN names.  tp_*
 * and icmp_* depend on the protocol and are handled apart. */
static const char *const ovs_names[][2] = {
    {"dl_src", "eth.src"},   {"dl_dst", "eth.dst"},       {"vlan_tci", "vlan.tci"},
    {"nw_src", "ip4.src"},   {"nw_dst", "ip4.dst"},       {"ipv6_src", "ip6.src"},
    {"ipv6_dst", "ip6.dst"}, {"ipv6_label", "ip6.label"}, {"nw_ecn", "ip.ecn"},
    {"nw_ttl", "ip.ttl"},    {"nw_proto", "ip.proto"},    {"arp_spa", "arp.spa"},
    {"arp_tpa", "arp.tpa"},  {"arp_op", "arp.op"},        {"arp_sha", "arp.sha"},
    {"arp_tha", "arp.tha"},  {"nd_target", "nd.target"},  {"nd_sll", "nd.sll"},
    {"nd_tll", "nd.tll"},    {"tcp_flags", "tcp.flags"},
};

/* Protocol keywords of the flow format: EtherType and IP protocol. */
static const struct {
    const char *name;
    const char *eth_type;
    const char *proto;
    const char *l4;
} ovs_protos[] = {
    {"ip", "0x800", NULL, NULL},          {"ipv6", "0x86dd", NULL, NULL},
    {"arp", "0x806", NULL, NULL},         {"tcp", "0x800", "0x6", "tcp"},
    {"udp", "0x800", "0x11", "udp"},      {"sctp", "0x800", "0x84", "sctp"},
    {"icmp", "0x800", "0x1", "icmp4"},    {"tcp6", "0x86dd", "0x6", "tcp"},
    {"udp6", "0x86dd", "0x11", "udp"},    {"sctp6", "0x86dd", "0x84", "sctp"},
    {"icmp6", "0x86dd", "0x3a", "icmp6"},
};

/* Parses the flow line (after "# ") into 'set'. */
static void
parse_flow_line(const char *line, struct fv_set *set)
{
    char *copy = strdup(line), *save = NULL;
    const char *l4 = NULL;
    char value[FV_VALUE_LEN];

    if (!copy) {
        return;
    }
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        const char *name = NULL;

        if (!eq) {
            for (size_t i = 0; i < ARRAY_SIZE(ovs_protos); i++) {
                if (!strcmp(tok, ovs_protos[i].name)) {
                    fv_set(set, "eth.type", ovs_protos[i].eth_type, false);
                    if (ovs_protos[i].proto) {
                        fv_set(set, "ip.proto", ovs_protos[i].proto, false);
                    }
                    l4 = ovs_protos[i].l4;
                }
            }
            continue;
        }
        *eq = '\0';
        const char *v = eq + 1;
        char l4name[FV_NAME_LEN];
        if ((!strcmp(tok, "tp_src") || !strcmp(tok, "tp_dst")) && l4 &&
            strncmp(l4, "icmp", 4)) {
            snprintf(l4name, sizeof l4name, "%s.%s", l4, tok + 3);
            name = l4name;
        } else if ((!strcmp(tok, "icmp_type") || !strcmp(tok, "icmp_code")) && l4 &&
                   !strncmp(l4, "icmp", 4)) {
            snprintf(l4name, sizeof l4name, "%s.%s", l4, tok + 5);
            name = l4name;
        } else if (!strcmp(tok, "nw_tos")) {
            /* The DSCP is the upper 6 bits of the TOS byte. */
            u128_hex((lex_u128)(strtoul(v, NULL, 0) >> 2), value, sizeof value);
            fv_set(set, "ip.dscp", value, false);
            continue;
        } else {
            for (size_t i = 0; i < ARRAY_SIZE(ovs_names); i++) {
                if (!strcmp(tok, ovs_names[i][0])) {
                    name = ovs_names[i][1];
                }
            }
        }
        if (name && canonical_value(v, value, sizeof value)) {
            fv_set(set, name, value, false);
        }
    }
    free(copy);
}

/* Copies the non-zero fields of 'set' into the verdict's input. */
static int
verdict_set_input(struct ovntrace_verdict *v, const struct fv_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->f[i].value, "0x0") &&
            fields_add(&v->input, &v->n_input, set->f[i].name, set->f[i].value)) {
            return -ENOMEM;
        }
    }
    return 0;
}

int
ovntrace_verdict_parse(const char *text, const char *lb_dst,
                       struct ovntrace_verdict *verdict)
{
    struct ovntrace_verdict v = {0};
    struct parser *p = calloc(1, sizeof *p);
    char *copy = strdup(text), *save = NULL;
    bool first = true;
    int ret = 0;

    if (!p || !copy) {
        ret = -ENOMEM;
        goto out;
    }
    p->v = &v;
    p->lb_dst = lb_dst;
    p->depth = 1;
    for (char *line = strtok_r(copy, "\n", &save); line && !ret && !p->nomem;
         line = strtok_r(NULL, "\n", &save)) {
        char *s = trim(line);
        size_t len = strlen(s);

        if (first) {
            first = false;
            if (strncmp(s, "# ", 2)) {
                ret = -EINVAL;
                break;
            }
            parse_flow_line(s + 2, &p->input);
            p->stack[0].fields = p->input;
            ret = verdict_set_input(&v, &p->input);
            continue;
        }
        if (!len || s[0] == '#') {
            continue;
        }
        if (!strcmp(s, "};") || !strcmp(s, "}")) {
            if (p->depth <= 1) {
                ret = -EINVAL;
                break;
            }
            p->depth--;
            continue;
        }
        if (len >= 2 && s[len - 1] == '{' && s[len - 2] == ' ') {
            s[len - 2] = '\0';
            ret = parse_block_open(p, trim(s));
            continue;
        }
        if (s[len - 1] == ';') {
            s[--len] = '\0';
        }
        parse_statement(p, trim(s));
    }
    if (!ret && (first || p->depth != 1)) {
        ret = -EINVAL;
    }
    if (!ret && p->nomem) {
        ret = -ENOMEM;
    }

out:
    free(copy);
    free(p);
    if (ret) {
        ovntrace_verdict_destroy(&v);
        return ret;
    }
    verdict_sort(&v);
    *verdict = v;
    return 0;
}

/* Reads a pkey_format() text ("eth.src=0a:00:00:00:00:01 ip4.dst=10.0.0.1 ...") into
 * 'set', keeping header fields only. */
static void
parse_key_text(const char *text, struct fv_set *set)
{
    char *copy = strdup(text ? text : ""), *save = NULL;
    char value[FV_VALUE_LEN];

    if (!copy) {
        return;
    }
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            continue;
        }
        *eq = '\0';
        if (is_header_field(tok) && canonical_value(eq + 1, value, sizeof value)) {
            fv_set(set, tok, value, false);
        }
    }
    free(copy);
}

/* ovnic's controller actions that ovn-trace shows (packet builders, reply options). */
static bool
is_shown_ctrl(const char *name)
{
    return in_list(name, ctrl_blocks, ARRAY_SIZE(ctrl_blocks)) ||
           in_list(name, ctrl_statements, ARRAY_SIZE(ctrl_statements));
}

/* 'built_by' of ovnicctl's JSON ("reject", "arp/icmp4_error") as the verdict names
 * it: each action under its canonical name, reject by what it builds. */
static int
via_canonical(const struct ovntrace_verdict *v, const char *built_by, char *via,
              size_t size)
{
    char name[64];
    size_t len = 0;
    via[0] = '\0';
    while (*built_by) {
        size_t n = strcspn(built_by, "/");
        if (n >= sizeof name) {
            return -EINVAL;
        }
        memcpy(name, built_by, n);
        name[n] = '\0';
        const char *c = !strcmp(name, "reject") ? reject_canonical_name(v)
                                                : ctrl_canonical_name(name);
        int k = snprintf(via + len, size - len, "%s%s", len ? "/" : "", c);
        if (k < 0 || (size_t)k >= size - len) {
            return -EINVAL;
        }
        len += (size_t)k;
        built_by += n + (built_by[n] == '/');
    }
    return 0;
}

int
ovntrace_verdict_from_json(const json_t *json, struct ovntrace_verdict *verdict)
{
    struct ovntrace_verdict v = {0};
    struct fv_set *input = calloc(1, sizeof *input);
    struct fv_set *out = calloc(1, sizeof *out);
    const json_t *outputs = json_object_get(json, "outputs");
    const json_t *ctrls = json_object_get(json, "controller");
    const char *input_text = json_string_value(json_object_get(json, "input"));
    const json_t *o;
    size_t i;
    int ret = 0;

    if (!input || !out) {
        ret = -ENOMEM;
        goto out;
    }
    if (!input_text || (outputs && !json_is_array(outputs)) ||
        (ctrls && !json_is_array(ctrls))) {
        ret = -EINVAL;
        goto out;
    }
    parse_key_text(input_text, input);
    ret = verdict_set_input(&v, input);
    json_array_foreach(outputs, i, o)
    {
        const char *port = json_string_value(json_object_get(o, "port"));
        const char *key = json_string_value(json_object_get(o, "key"));
        bool ctrl = json_is_true(json_object_get(o, "from_controller"));
        struct ovntrace_output *x;

        if (ret) {
            break;
        }
        if (!port || !key) {
            ret = -EINVAL;
            break;
        }
        const char *built_by = json_string_value(json_object_get(o, "built_by"));
        char via[64] = "";
        ret = via_canonical(&v, built_by ? built_by : "", via, sizeof via);
        if (ret) {
            break;
        }
        x = verdict_add_output(&v, port, ctrl, via);
        if (!x) {
            ret = -ENOMEM;
            break;
        }
        memset(out, 0, sizeof *out);
        parse_key_text(key, out);
        /* Every header field, so that a field the key omits (zero) is compared too. */
        for (size_t k = 0; k < ARRAY_SIZE(header_fields) && !ret; k++) {
            const char *name = header_fields[k];
            const char *now = fv_get(out, name);
            if ((ctrl && strcmp(now, "0x0")) ||
                (!ctrl && strcmp(now, fv_get(input, name)))) {
                ret = fields_add(&x->fields, &x->n_fields, name, now);
            }
        }
    }
    json_array_foreach(ctrls, i, o)
    {
        const char *name = json_string_value(json_object_get(o, "action"));
        if (ret) {
            break;
        }
        if (!name) {
            ret = -EINVAL;
            break;
        }
        if (is_shown_ctrl(name)) {
            ret = verdict_add_ctrl(&v, name);
        }
    }

out:
    free(input);
    free(out);
    if (ret) {
        ovntrace_verdict_destroy(&v);
        return ret;
    }
    verdict_sort(&v);
    *verdict = v;
    return 0;
}

static const char *
fields_get(const struct ovntrace_field *fields, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(fields[i].name, name)) {
            return fields[i].value;
        }
    }
    return "0x0";
}

static bool
fields_equal(const struct ovntrace_field *a, size_t n_a, const struct ovntrace_field *b,
             size_t n_b)
{
    if (n_a != n_b) {
        return false;
    }
    for (size_t i = 0; i < n_a; i++) {
        if (strcmp(a[i].name, b[i].name) || strcmp(a[i].value, b[i].value)) {
            return false;
        }
    }
    return true;
}

/* Whether 'x' (of the oracle) and 'y' describe the same delivery. */
static bool
output_match(const struct ovntrace_output *x, const struct ovntrace_output *y)
{
    if (strcmp(x->port, y->port) || x->ctrl != y->ctrl || strcmp(x->via, y->via)) {
        return false;
    }
    if (!x->partial && !y->partial) {
        return fields_equal(x->fields, x->n_fields, y->fields, y->n_fields);
    }
    const struct ovntrace_output *part = x->partial ? x : y;
    const struct ovntrace_output *full = x->partial ? y : x;
    for (size_t i = 0; i < part->n_fields; i++) {
        if (strcmp(part->fields[i].value,
                   fields_get(full->fields, full->n_fields, part->fields[i].name))) {
            return false;
        }
    }
    return true;
}

/* Whether 'a' and 'b' agree ('subset' false) or 'b' holds everything 'a' holds and
 * perhaps more ('subset' true). */
static bool
verdict_compare(const struct ovntrace_verdict *a, const struct ovntrace_verdict *b,
                bool subset)
{
    bool ok = true;

    if (!fields_equal(a->input, a->n_input, b->input, b->n_input) ||
        (!subset && (a->n_ctrls != b->n_ctrls || a->n_outputs != b->n_outputs))) {
        return false;
    }
    /* Both lists are sorted: walk 'b' once for the names of 'a'. */
    size_t k = 0;
    for (size_t i = 0; i < a->n_ctrls; i++) {
        while (k < b->n_ctrls && strcmp(a->ctrls[i], b->ctrls[k]) > 0 && subset) {
            k++;
        }
        if (k >= b->n_ctrls || strcmp(a->ctrls[i], b->ctrls[k])) {
            return false;
        }
        k++;
    }
    bool *used = calloc(b->n_outputs ? b->n_outputs : 1, sizeof *used);
    if (!used) {
        return false;
    }
    for (size_t i = 0; i < a->n_outputs && ok; i++) {
        ok = false;
        for (size_t j = 0; j < b->n_outputs; j++) {
            if (!used[j] && output_match(&a->outputs[i], &b->outputs[j])) {
                used[j] = true;
                ok = true;
                break;
            }
        }
    }
    free(used);
    return ok;
}

bool
ovntrace_verdict_equal(const struct ovntrace_verdict *a, const struct ovntrace_verdict *b)
{
    return verdict_compare(a, b, false);
}

bool
ovntrace_verdict_is_part_of(const struct ovntrace_verdict *part,
                            const struct ovntrace_verdict *whole)
{
    return verdict_compare(part, whole, true);
}

/* Appends to the string '*s' (length '*len'). */
static bool
append(char **s, size_t *len, const char *text)
{
    size_t n = strlen(text);
    char *p = realloc(*s, *len + n + 1);

    if (!p) {
        return false;
    }
    memcpy(p + *len, text, n + 1);
    *s = p;
    *len += n;
    return true;
}

static bool
append_fields(char **s, size_t *len, const struct ovntrace_field *f, size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        ok = append(s, len, " ") && append(s, len, f[i].name) && append(s, len, "=") &&
             append(s, len, f[i].value);
    }
    return ok;
}

char *
ovntrace_verdict_format(const struct ovntrace_verdict *v)
{
    char *s = NULL;
    size_t len = 0;
    bool ok = append(&s, &len, "input") && append_fields(&s, &len, v->input, v->n_input);

    for (size_t i = 0; i < v->n_outputs && ok; i++) {
        const struct ovntrace_output *o = &v->outputs[i];
        ok = append(&s, &len, "\noutput ") && append(&s, &len, o->port) &&
             append(&s, &len, o->ctrl ? " ctrl=" : "") && append(&s, &len, o->via) &&
             append_fields(&s, &len, o->fields, o->n_fields);
    }
    if (ok && !v->n_outputs) {
        ok = append(&s, &len, "\ndrop");
    }
    for (size_t i = 0; i < v->n_ctrls && ok; i++) {
        ok = append(&s, &len, "\nctrl ") && append(&s, &len, v->ctrls[i]);
    }
    if (!ok) {
        free(s);
        return NULL;
    }
    return s;
}

void
ovntrace_verdict_destroy(struct ovntrace_verdict *v)
{
    if (!v) {
        return;
    }
    fields_free(v->input, v->n_input);
    for (size_t i = 0; i < v->n_outputs; i++) {
        free(v->outputs[i].port);
        free(v->outputs[i].via);
        fields_free(v->outputs[i].fields, v->outputs[i].n_fields);
    }
    free(v->outputs);
    for (size_t i = 0; i < v->n_ctrls; i++) {
        free(v->ctrls[i]);
    }
    free(v->ctrls);
    memset(v, 0, sizeof *v);
}
