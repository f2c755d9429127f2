/* ovnic benchmark: initial synchronisation of a large OVN Southbound.
 *
 * Starts a standalone SB ovsdb-server in a temporary directory (through
 * scripts/ovn-central.sh), loads N Logical_Flow rows (default 100,000) in one
 * transaction, then measures, in the same run:
 *   - the peer: "ovsdb-client dump -f json" of the Logical_Flow table, from process
 *     start to exit;
 *   - ovnic: its OVSDB client session monitoring Logical_Flow, from creation (connect)
 *     to SYNCED, with the replica fully built;
 *   - the replica's memory per row: the heap in use (mallinfo2) and the resident set,
 *     before the session and after it has synced.
 * Each timing is the median of --repeat runs (default 3; fewer if the first ones
 * take more than 90 s).  Prints a small table, and a JSON line
 * (only the JSON line with --format json). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dpu/ovsdb/cs.h"
#include "dpu/ovsdb/replica.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/util.h"

#define SB_DB "OVN_Southbound"
#define SYNC_TIMEOUT_MS 120000
#define REPEAT_BUDGET_S 90.0 /* No further repetition starts past this. */

struct bench_opts {
    long rows;
    int repeat;
    bool json_only;
};

struct bench {
    char script[PATH_MAX * 2];
    char dir[64];
    char sock[PATH_MAX];
    char remote[PATH_MAX + 8];
    int watch_fd; /* Our end of the cleanup watcher's socket. */
};

struct bench_result {
    int runs; /* Repetitions done. */
    double load_s;
    double dump_s;
    double sync_s;
    double heap_per_row; /* < 0: not measurable (e.g. sanitizer build). */
    double rss_per_row;
};

static double
now_s(void)
{
    return (double)time_msec() / 1000.0;
}

static int
cmp_double(const void *a_, const void *b_)
{
    double a = *(const double *)a_, b = *(const double *)b_;

    return a < b ? -1 : a > b;
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* scripts/ovn-central.sh: under $OVNIC_SOURCE_DIR, else under the source directory
 * recorded in the build tree's CMakeCache.txt (this program is BUILD/bench/...). */
static int
find_script(struct bench *b)
{
    const char *env = getenv("OVNIC_SOURCE_DIR");
    char exe[PATH_MAX], line[PATH_MAX + 64], *slash;
    ssize_t n;
    FILE *f;

    if (env && *env) {
        snprintf(b->script, sizeof b->script, "%s/scripts/ovn-central.sh", env);
        return access(b->script, X_OK) ? -ENOENT : 0;
    }
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        return -ENOENT;
    }
    exe[n] = '\0';
    for (int i = 0; i < 2; i++) {
        slash = strrchr(exe, '/');
        if (!slash) {
            return -ENOENT;
        }
        *slash = '\0';
    }
    snprintf(line, sizeof line, "%s/CMakeCache.txt", exe);
    f = fopen(line, "r");
    if (!f) {
        return -ENOENT;
    }
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "ovnic_SOURCE_DIR:STATIC=", 24)) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(b->script, sizeof b->script, "%s/scripts/ovn-central.sh", line + 24);
            fclose(f);
            return access(b->script, X_OK) ? -ENOENT : 0;
        }
    }
    fclose(f);
    return -ENOENT;
}

/* A shell in its own session that stops the server and removes the directory when
 * this process goes away, however it ends. */
static void
watcher_start(struct bench *b)
{
    int fds[2];
    pid_t pid;

    b->watch_fd = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds)) {
        return;
    }
    pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);

        setsid();
        dup2(fds[1], STDIN_FILENO);
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        execl("/bin/sh", "sh", "-c",
              "while read -r _; do :; done; "
              "if [ -d \"$1\" ]; then \"$0\" stop \"$1\"; rm -rf \"$1\"; fi",
              b->script, b->dir, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return;
    }
    b->watch_fd = fds[0];
}

static int run_cmd(const char *fmt, ...) OVNIC_PRINTF(1, 2);

static int
run_cmd(const char *fmt, ...)
{
    char *cmd;
    va_list args;
    int status;

    va_start(args, fmt);
    status = vasprintf(&cmd, fmt, args);
    va_end(args);
    if (status < 0) {
        return -1;
    }
    fflush(stdout);
    status = system(cmd);
    free(cmd);
    return status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int
server_start(struct bench *b)
{
    char *cmd = NULL, out[256] = "";
    FILE *p;

    snprintf(b->dir, sizeof b->dir, "/tmp/ovnic-bench-XXXXXX");
    if (!mkdtemp(b->dir)) {
        fprintf(stderr, "bench_ovsdb_sync: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    watcher_start(b);
    if (asprintf(&cmd, "'%s' start-sb '%s'", b->script, b->dir) < 0) {
        return -1;
    }
    p = popen(cmd, "r");
    free(cmd);
    if (!p) {
        return -1;
    }
    if (!fgets(out, sizeof out, p)) {
        out[0] = '\0';
    }
    if (pclose(p) || strncmp(out, "tcp:", 4)) {
        fprintf(stderr, "bench_ovsdb_sync: starting the SB server failed\n");
        return -1;
    }
    snprintf(b->sock, sizeof b->sock, "%s/sb.sock", b->dir);
    snprintf(b->remote, sizeof b->remote, "unix:%s", b->sock);
    return 0;
}

static void
server_stop(struct bench *b)
{
    if (b->dir[0]) {
        run_cmd("'%s' stop '%s' && rm -rf '%s'", b->script, b->dir, b->dir);
        b->dir[0] = '\0';
    }
    if (b->watch_fd >= 0) {
        close(b->watch_fd);
        b->watch_fd = -1;
    }
}

/* ---- Loading the flows: one "transact" over a plain JSON-RPC connection ---- */

static json_t *
load_request(long rows)
{
    json_t *params = json_array();
    long i;

    json_array_append_new(params, json_string(SB_DB));
    json_array_append_new(params, json_pack("{s:s, s:s, s:s, s:{s:i, s:[s,[[s,s]]]}}",
                                            "op", "insert", "table", "Datapath_Binding",
                                            "uuid-name", "dp", "row", "tunnel_key", 1,
                                            "external_ids", "map", "name", "bench-ls"));
    for (i = 0; i < rows; i++) {
        char match[128], actions[64];

        snprintf(match, sizeof match,
                 "inport == \"lp%ld\" && ip4.dst == 10.%ld.%ld.0/24 && tcp.dst == %ld",
                 i % 1000, (i / 65536) % 256, (i / 256) % 256, 1 + i % 65535);
        snprintf(actions, sizeof actions, "reg0 = %ld; next;", i);
        json_array_append_new(
            params,
            json_pack("{s:s, s:s, s:{s:[s,s], s:s, s:I, s:I, s:s, s:s, s:[s,[[s,s]]]}}",
                      "op", "insert", "table", "Logical_Flow", "row", "logical_datapath",
                      "named-uuid", "dp", "pipeline", i % 2 ? "egress" : "ingress",
                      "table_id", (json_int_t)(i % 30), "priority",
                      (json_int_t)(i % 65536), "match", match, "actions", actions,
                      "external_ids", "map", "stage-name", "ls_in_bench"));
    }
    return json_pack("{s:s, s:o, s:i}", "method", "transact", "params", params, "id", 1);
}

static int
send_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads JSON-RPC messages until the reply with id 1, answering echo requests. */
static json_t *
recv_reply(int fd)
{
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);

    while (buf) {
        json_error_t jerr;
        json_t *msg;
        ssize_t n;

        msg = len ? json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, &jerr) : NULL;
        if (msg) {
            size_t used = (size_t)jerr.position;
            const char *method = json_string_value(json_object_get(msg, "method"));

            memmove(buf, buf + used, len - used);
            len -= used;
            if (json_integer_value(json_object_get(msg, "id")) == 1 && !method) {
                free(buf);
                return msg;
            }
            if (method && !strcmp(method, "echo")) {
                json_t *reply =
                    json_pack("{s:O, s:n, s:O}", "result", json_object_get(msg, "params"),
                              "error", "id", json_object_get(msg, "id"));
                char *text = json_dumps(reply, JSON_COMPACT);

                if (text) {
                    send_all(fd, text, strlen(text));
                }
                free(text);
                json_decref(reply);
            }
            json_decref(msg);
            continue;
        }
        if (len && json_error_code(&jerr) != json_error_premature_end_of_input) {
            fprintf(stderr, "bench_ovsdb_sync: bad reply: %s\n", jerr.text);
            break;
        }
        if (cap - len < 4096) {
            char *nbuf = realloc(buf, cap * 2);

            if (!nbuf) {
                break;
            }
            buf = nbuf;
            cap *= 2;
        }
        n = recv(fd, buf + len, cap - len, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            fprintf(stderr, "bench_ovsdb_sync: connection closed before the reply\n");
            break;
        }
        len += (size_t)n;
    }
    free(buf);
    return NULL;
}

static int
load_flows(const struct bench *b, long rows, double *load_s)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    json_t *req = load_request(rows), *reply = NULL, *result, *op;
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    double t0 = now_s();
    int fd = -1, error = -1;
    size_t i;

    json_decref(req);
    if (!text) {
        fprintf(stderr, "bench_ovsdb_sync: out of memory\n");
        return -1;
    }
    if (strlen(b->sock) >= sizeof sun.sun_path) {
        fprintf(stderr, "bench_ovsdb_sync: %s: path too long\n", b->sock);
        free(text);
        return -1;
    }
    memcpy(sun.sun_path, b->sock, strlen(b->sock) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) ||
        send_all(fd, text, strlen(text))) {
        fprintf(stderr, "bench_ovsdb_sync: %s: %s\n", b->sock, strerror(errno));
        goto out;
    }
    reply = recv_reply(fd);
    result = json_object_get(reply, "result");
    if (!json_is_array(result)) {
        fprintf(stderr, "bench_ovsdb_sync: transaction failed\n");
        goto out;
    }
    json_array_foreach(result, i, op)
    {
        if (json_object_get(op, "error")) {
            char *s = json_dumps(op, JSON_COMPACT);

            fprintf(stderr, "bench_ovsdb_sync: operation %zu failed: %s\n", i, s);
            free(s);
            goto out;
        }
    }
    *load_s = now_s() - t0;
    error = 0;
out:
    if (fd >= 0) {
        close(fd);
    }
    json_decref(reply);
    free(text);
    return error;
}

/* ---- Measurements ---- */

static double
peer_dump_once(const struct bench *b)
{
    double t0 = now_s();

    if (run_cmd("ovsdb-client dump -f json '%s' " SB_DB " Logical_Flow >/dev/null",
                b->remote)) {
        fprintf(stderr, "bench_ovsdb_sync: ovsdb-client dump failed\n");
        return -1;
    }
    return now_s() - t0;
}

static long
rss_bytes(void)
{
    long pages_total, pages_resident;
    FILE *f = fopen("/proc/self/statm", "r");
    int n;

    if (!f) {
        return -1;
    }
    n = fscanf(f, "%ld %ld", &pages_total, &pages_resident);
    fclose(f);
    return n == 2 ? pages_resident * sysconf(_SC_PAGESIZE) : -1;
}

static bool
is_synced(struct ovsdb_cs *cs)
{
    return ovsdb_cs_is_synced(cs);
}

/* One session from creation to SYNCED.  With 'heap'/'rss' nonnull, also measures
 * what the synced session holds. */
static double
ovnic_sync_once(const struct bench *b, long rows, double *heap, double *rss)
{
    static const char *const tables[] = {"Logical_Flow", NULL};
    struct ovsdb_cs_config cfg = {
        .remotes = b->remote,
        .database = SB_DB,
        .monitor_all = true,
    };
    struct poll_loop *loop = NULL;
    struct ovsdb_cs *cs = NULL;
    struct mallinfo2 mi0, mi1;
    long rss0, rss1;
    double t0, elapsed = -1;
    uint64_t deadline;

    malloc_trim(0);
    mi0 = mallinfo2();
    rss0 = rss_bytes();
    if (poll_loop_create(&loop)) {
        return -1;
    }
    t0 = now_s();
    if (ovsdb_cs_create(loop, &cfg, &cs, NULL) || ovsdb_cs_set_tables(cs, tables)) {
        fprintf(stderr, "bench_ovsdb_sync: cannot create the client session\n");
        goto out;
    }
    deadline = time_msec() + SYNC_TIMEOUT_MS;
    while (!is_synced(cs) && time_msec() < deadline) {
        poll_loop_run_once(loop, 100);
    }
    if (!is_synced(cs)) {
        fprintf(stderr, "bench_ovsdb_sync: the client did not sync\n");
        goto out;
    }
    elapsed = now_s() - t0;
    if (ovsdb_replica_table_count(
            ovsdb_replica_table(ovsdb_cs_replica(cs), "Logical_Flow")) != (size_t)rows) {
        fprintf(stderr, "bench_ovsdb_sync: the replica holds the wrong number of rows\n");
        elapsed = -1;
        goto out;
    }
    if (heap && rss) {
        /* What stays: the replica, once the change tracking is cleared. */
        ovsdb_replica_track_clear(ovsdb_cs_replica(cs));
        malloc_trim(0);
        mi1 = mallinfo2();
        rss1 = rss_bytes();
        *heap = mi1.uordblks > mi0.uordblks
                    ? (double)(mi1.uordblks - mi0.uordblks) / (double)rows
                    : -1;
        *rss = rss0 >= 0 && rss1 > rss0 ? (double)(rss1 - rss0) / (double)rows : -1;
    }
out:
    ovsdb_cs_destroy(cs);
    poll_loop_destroy(loop);
    return elapsed;
}

static int
bench_run(struct bench *b, const struct bench_opts *opts, struct bench_result *r)
{
    double *dumps = calloc((size_t)opts->repeat, sizeof *dumps);
    double *syncs = calloc((size_t)opts->repeat, sizeof *syncs);
    int i, error = -1;
    double t0;

    if (!dumps || !syncs) {
        goto out;
    }
    if (load_flows(b, opts->rows, &r->load_s)) {
        goto out;
    }
    /* Alternate the two so that neither always runs on a warmer server.  On a slow
     * or busy machine, stop repeating once the time budget is spent. */
    t0 = now_s();
    for (i = 0; i < opts->repeat && (!i || now_s() - t0 < REPEAT_BUDGET_S); i++) {
        dumps[i] = peer_dump_once(b);
        syncs[i] = ovnic_sync_once(b, opts->rows, i ? NULL : &r->heap_per_row,
                                   i ? NULL : &r->rss_per_row);
        if (dumps[i] < 0 || syncs[i] < 0) {
            goto out;
        }
    }
    r->runs = i;
    r->dump_s = median(dumps, i);
    r->sync_s = median(syncs, i);
    error = 0;
out:
    free(dumps);
    free(syncs);
    return error;
}

static void
print_bytes(char *buf, size_t size, double v)
{
    if (v < 0) {
        snprintf(buf, size, "n/a");
    } else {
        snprintf(buf, size, "%.0f", v);
    }
}

static void
report(const struct bench_opts *opts, const struct bench_result *r)
{
    double ratio = r->sync_s / r->dump_s;
    char heap[32], rss[32];

    print_bytes(heap, sizeof heap, r->heap_per_row);
    print_bytes(rss, sizeof rss, r->rss_per_row);
    if (!opts->json_only) {
        printf("ovsdb_sync: %ld Logical_Flow rows, standalone SB, unix socket,"
               " median of %d run%s\n",
               opts->rows, r->runs, r->runs == 1 ? "" : "s");
        printf("  %-30s %12s %12s %8s\n", "", "ovnic", "peer", "ratio");
        printf("  %-30s %10.3f s %10.3f s %8.2f\n", "time to read Logical_Flow",
               r->sync_s, r->dump_s, ratio);
        printf("  %-30s %10s B %12s\n", "replica heap per row", heap, "");
        printf("  %-30s %10s B %12s\n", "replica RSS per row", rss, "");
        printf("  ovnic: client session from connect to SYNCED, replica built;"
               " peer: ovsdb-client dump -f json\n");
        printf("  ratio: ovnic / peer (lower is better); rows loaded in %.3f s,"
               " one transaction\n",
               r->load_s);
    }
    printf("{\"bench\":\"ovsdb_sync\",\"rows\":%ld,\"repeat\":%d,\"load_s\":%.3f,"
           "\"ovnic_sync_s\":%.3f,\"ovsdb_client_dump_s\":%.3f,\"ratio\":%.3f,"
           "\"replica_heap_bytes_per_row\":%s,\"replica_rss_bytes_per_row\":%s}\n",
           opts->rows, r->runs, r->load_s, r->sync_s, r->dump_s, ratio,
           r->heap_per_row < 0 ? "null" : heap, r->rss_per_row < 0 ? "null" : rss);
}

static void
usage(FILE *stream)
{
    fprintf(stream,
            "Usage: bench_ovsdb_sync [--rows=N] [--repeat=N] [--format=table|json]\n"
            "Measures ovnic's OVSDB client syncing N Logical_Flow rows (default 100000)\n"
            "against \"ovsdb-client dump\" of the same table, on a real SB server.\n");
}

static int
parse_args(int argc, char *argv[], struct bench_opts *opts)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;

        if (!strncmp(a, "--rows=", 7)) {
            opts->rows = strtol(a + 7, &end, 10);
            if (*end || opts->rows < 1 || opts->rows > 10000000) {
                return -1;
            }
        } else if (!strncmp(a, "--repeat=", 9)) {
            opts->repeat = (int)strtol(a + 9, &end, 10);
            if (*end || opts->repeat < 1 || opts->repeat > 100) {
                return -1;
            }
        } else if (!strcmp(a, "--format=json")) {
            opts->json_only = true;
        } else if (!strcmp(a, "--format=table")) {
            opts->json_only = false;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else {
            return -1;
        }
    }
    return 0;
}

int
main(int argc, char *argv[])
{
    struct bench_opts opts = {.rows = 100000, .repeat = 3};
    struct bench_result r = {0};
    struct bench b = {.watch_fd = -1};
    int status = 1;

    if (parse_args(argc, argv, &opts)) {
        usage(stderr);
        return 2;
    }
    ovnic_log_set_level(NULL, OVNIC_LOG_WARN);
    if (find_script(&b)) {
        fprintf(stderr, "bench_ovsdb_sync: cannot find scripts/ovn-central.sh"
                        " (set OVNIC_SOURCE_DIR)\n");
        return 1;
    }
    if (!server_start(&b) && !bench_run(&b, &opts, &r)) {
        report(&opts, &r);
        status = 0;
    }
    server_stop(&b);
    return status;
}
