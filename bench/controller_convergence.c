/* ovnic benchmark: how fast a chassis converges after N ports are bound to it.
 *
 * For each size N (default 1,000 and 10,000), and for each of two chassis, on a fresh
 * OVN central (NB + SB + ovn-northd, started with scripts/ovn-central.sh):
 *   - "ovnic-dpud": ovnic's DPU daemon, chassis hv-ovnic.  The ports are bound with N
 *     "port-add" requests on one connection to its control socket (representors are
 *     names only: ovnic-dpud has no packet pipeline yet, so its flows count as
 *     installed at once);
 *   - "ovn-controller": the real ovn-controller with ovsdb-server and ovs-vswitchd
 *     (userspace datapath, --enable-dummy), chassis hv-ovs.  N dummy interfaces are
 *     created on br-int beforehand (timed apart, untimed for convergence); the ports
 *     are bound with ONE Open_vSwitch transaction setting external_ids:iface-id on all
 *     of them.
 * The NB holds N logical switch ports (with addresses) on 4 logical switches, loaded
 * in one NB transaction, and ovn-northd's logical flows for them.  Measured:
 *   - bind + "ovn-nbctl --wait=hv sync": from the moment the bindings are requested
 *     until ovn-nbctl returns (the chassis acknowledged nb_cfg), and until the SB
 *     shows all N Port_Bindings claimed by the chassis with up=true;
 *   - incremental: one more port (created in the NB with --wait=sb beforehand) bound,
 *     then "ovn-nbctl --wait=hv sync";
 *   - "ovn-nbctl --wait=hv sync" with nothing to do (its fixed cost, for reference);
 *   - peak RSS (VmHWM) and CPU seconds (utime + stime) of the chassis process(es),
 *     over their whole life up to the end of the measurements.
 * Prints a table and a JSON line (only the JSON line with --format=json). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dpu/ovsdb/cs.h"
#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "shared/util/json.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/util.h"
#include "shared/util/uuid.h"

extern char **environ;

#define PROG "bench_controller_convergence"
#define N_SWITCHES 4
#define MAX_SIZES 4
#define CTL_CHUNK 500 /* port-add requests sent before reading their replies. */
#define RPC_TIMEOUT_MS 120000
#define STOP_TIMEOUT_MS 60000
#define SYSTEM_OVNIC 0
#define SYSTEM_PEER 1
#define N_SYSTEMS 2

static const char *const system_names[N_SYSTEMS] = {"ovnic-dpud", "ovn-controller"};
static const char *const chassis_names[N_SYSTEMS] = {"hv-ovnic", "hv-ovs"};

struct bench_opts {
    long sizes[MAX_SIZES];
    int n_sizes;
    int timeout_s; /* Per convergence wait, and for creating the OVS interfaces. */
    bool json_only;
};

enum result_status { RESULT_OK, RESULT_TIMEOUT, RESULT_ERROR };

struct result {
    long size;
    int system;
    enum result_status status;
    const char *what;      /* On timeout or error: the step. */
    double iface_create_s; /* ovn-controller only: creating the N OVS interfaces. */
    double idle_hv_ms;     /* ovn-nbctl --wait=hv sync with nothing to do. */
    double bind_s;         /* Until the bind requests were accepted. */
    double hv_s;           /* Bind + ovn-nbctl --wait=hv sync. */
    double up_s;           /* Bind until all N are claimed and up in the SB. */
    long claimed_at_hv;    /* Ports claimed by the chassis when ovn-nbctl returned. */
    long up_at_hv;         /* ... and with up=true. */
    long up_last;          /* On timeout: ports up when it struck. */
    long ifaces_ready;     /* ovn-controller: OVS interfaces with an OpenFlow port. */
    long dpud_recomputes;  /* ovnic-dpud: full recomputes, from its status. */
    long dpud_txns;        /* ovnic-dpud: SB transactions, from its status. */
    double incr_hv_ms;     /* One more port: bind + ovn-nbctl --wait=hv sync. */
    double incr_up_ms;
    double rss_mib; /* Chassis process (ovnic-dpud or ovn-controller). */
    double cpu_s;
    double vswitchd_rss_mib; /* ovn-controller only; < 0 otherwise. */
    double vswitchd_cpu_s;
};

/* One run directory: a central and one chassis. */
struct run {
    char dir[64];
    char nb_remote[PATH_MAX];
    char sb_remote[PATH_MAX];
    pid_t chassis_pid;   /* ovnic-dpud or ovn-controller. */
    pid_t vswitchd_pid;  /* Peer only. */
    pid_t confdb_pid;    /* Peer only: ovsdb-server of conf.db. */
    struct uuid *ifaces; /* Peer only: Interface uuids, N + 1. */
};

static char script[PATH_MAX + 64];
static char dpud_path[PATH_MAX + 64];
static int watch_fd = -1;

static double
now_s(void)
{
    return (double)time_msec() / 1000.0;
}

static void fail(const char *fmt, ...) OVNIC_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list args;

    fprintf(stderr, PROG ": ");
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
}

/* ---- Locating the programs ---- */

/* The build directory: $OVNIC_BUILD_DIR, else two levels above this program. */
static int
find_build_dir(char *buf, size_t size)
{
    const char *env = getenv("OVNIC_BUILD_DIR");
    char exe[PATH_MAX], *slash;
    ssize_t n;

    if (env && *env) {
        snprintf(buf, size, "%s", env);
        return 0;
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
    snprintf(buf, size, "%s", exe);
    return 0;
}

/* scripts/ovn-central.sh under $OVNIC_SOURCE_DIR, else under the source directory
 * recorded in the build tree's CMakeCache.txt; ovnic-dpud in the build tree. */
static int
find_programs(void)
{
    const char *env = getenv("OVNIC_SOURCE_DIR");
    char build[PATH_MAX], line[PATH_MAX + 64];
    FILE *f;

    if (find_build_dir(build, sizeof build)) {
        return -ENOENT;
    }
    snprintf(dpud_path, sizeof dpud_path, "%s/dpu/daemon/ovnic-dpud", build);
    if (access(dpud_path, X_OK)) {
        fail("%s not found (build the ovnic-dpud target)", dpud_path);
        return -ENOENT;
    }
    if (env && *env) {
        snprintf(script, sizeof script, "%s/scripts/ovn-central.sh", env);
        return access(script, X_OK) ? -ENOENT : 0;
    }
    snprintf(line, sizeof line, "%s/CMakeCache.txt", build);
    f = fopen(line, "r");
    if (!f) {
        return -ENOENT;
    }
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "ovnic_SOURCE_DIR:STATIC=", 24)) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(script, sizeof script, "%s/scripts/ovn-central.sh", line + 24);
            fclose(f);
            return access(script, X_OK) ? -ENOENT : 0;
        }
    }
    fclose(f);
    return -ENOENT;
}

/* ---- Cleanup watcher ----
 *
 * A shell in its own session, reading "pid N", "unpid N", "dir D" and "undir D" lines.
 * When this process goes away however it ends (its end of the pipe closes), it kills
 * the pids still listed, stops the centrals of the directories still listed and
 * removes them. */

static void
watcher_start(void)
{
    int fds[2];
    pid_t pid;

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
              "dirs=' '; pids=' '\n"
              "while read -r kind arg; do\n"
              "  case $kind in\n"
              "  pid) pids=\"$pids$arg \" ;;\n"
              "  unpid) pids=$(echo \"$pids\" | sed \"s| $arg | |\") ;;\n"
              "  dir) dirs=\"$dirs$arg \" ;;\n"
              "  undir) dirs=$(echo \"$dirs\" | sed \"s| $arg | |\") ;;\n"
              "  esac\n"
              "done\n"
              "for p in $pids; do kill -9 $p 2>/dev/null; done\n"
              "for d in $dirs; do\n"
              "  if [ -d \"$d\" ]; then \"$0\" stop \"$d\"; rm -rf \"$d\"; fi\n"
              "done",
              script, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return;
    }
    watch_fd = fds[0];
}

static void
watch(const char *kind, const char *arg)
{
    char line[PATH_MAX + 16];
    int len = snprintf(line, sizeof line, "%s %s\n", kind, arg);

    if (watch_fd >= 0 && len > 0 && (size_t)len < sizeof line) {
        if (send(watch_fd, line, (size_t)len, MSG_NOSIGNAL) != len) {
            fail("cleanup watcher: %s", strerror(errno));
        }
    }
}

static void
watch_pid(const char *kind, pid_t pid)
{
    char buf[32];

    snprintf(buf, sizeof buf, "%ld", (long)pid);
    watch(kind, buf);
}

/* ---- Processes ---- */

static int run_cmd(const char *fmt, ...) OVNIC_PRINTF(1, 2);

/* Runs a shell command; returns its exit status, or -1. */
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

/* Starts 'argv' with stdin/stdout/stderr on /dev/null; returns its pid, or -1. */
static pid_t
spawn_quiet(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int error;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    error = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return error ? -1 : pid;
}

static pid_t
read_pidfile(const char *path)
{
    long pid = -1;
    FILE *f = fopen(path, "r");

    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) {
            pid = -1;
        }
        fclose(f);
    }
    return pid > 0 ? (pid_t)pid : -1;
}

/* Waits until 'pid' (not our child) is gone; true if it is. */
static bool
pid_wait_gone(pid_t pid, int timeout_ms)
{
    uint64_t deadline = time_msec() + (uint64_t)timeout_ms;

    while (!kill(pid, 0) || errno != ESRCH) {
        if (time_msec() >= deadline) {
            return false;
        }
        usleep(20000);
    }
    return true;
}

/* Ends 'pid' with SIGTERM, then SIGKILL after 10 s. */
static void
pid_stop(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGTERM);
        if (!pid_wait_gone(*pid, 10000)) {
            kill(*pid, SIGKILL);
            pid_wait_gone(*pid, 5000);
        }
        watch_pid("unpid", *pid);
        *pid = -1;
    }
}

/* Peak RSS (MiB) and CPU seconds (user + system) of 'pid'.  -1 when unreadable. */
static void
proc_usage(pid_t pid, double *rss_mib, double *cpu_s)
{
    char path[64], line[512], *p;
    unsigned long utime, stime;
    FILE *f;

    *rss_mib = *cpu_s = -1;
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    f = fopen(path, "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            long kb;

            if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) {
                *rss_mib = (double)kb / 1024.0;
            }
        }
        fclose(f);
    }
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (f) {
        if (fgets(line, sizeof line, f) && (p = strrchr(line, ')')) &&
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                   &stime) == 2) {
            *cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
        }
        fclose(f);
    }
}

/* ---- A blocking JSON-RPC client (OVSDB servers, ovnic-dpud's control socket) ---- */

struct rpc {
    int fd;
    char *buf;
    size_t len, cap;
    struct json_framer framer;
};

static int
rpc_open(const char *path, struct rpc *rpc)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};

    memset(rpc, 0, sizeof *rpc);
    rpc->fd = -1;
    if (strlen(path) >= sizeof sun.sun_path) {
        return -ENAMETOOLONG;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    rpc->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rpc->fd < 0) {
        return -errno;
    }
    if (connect(rpc->fd, (struct sockaddr *)&sun, sizeof sun)) {
        int error = -errno;

        close(rpc->fd);
        rpc->fd = -1;
        return error;
    }
    json_framer_init(&rpc->framer);
    return 0;
}

static void
rpc_close(struct rpc *rpc)
{
    if (rpc->fd >= 0) {
        close(rpc->fd);
    }
    free(rpc->buf);
    memset(rpc, 0, sizeof *rpc);
    rpc->fd = -1;
}

/* Sends 'msg' (takes ownership). */
static int
rpc_send(struct rpc *rpc, json_t *msg)
{
    char *text = msg ? json_to_string(msg) : NULL;
    size_t len, off = 0;
    int error = 0;

    json_decref(msg);
    if (!text) {
        return -ENOMEM;
    }
    len = strlen(text);
    while (off < len) {
        ssize_t n = send(rpc->fd, text + off, len - off, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            error = -errno;
            break;
        }
        off += (size_t)n;
    }
    free(text);
    return error;
}

/* Receives the next reply (echo requests are answered).  Caller owns '*reply'. */
static int
rpc_recv(struct rpc *rpc, json_t **reply, int timeout_ms)
{
    uint64_t deadline = time_msec() + (uint64_t)timeout_ms;

    for (;;) {
        size_t used;
        json_t *msg;
        int error = rpc->len ? json_framer_parse(&rpc->framer, rpc->buf, rpc->len, &msg,
                                                 &used, NULL)
                             : -EAGAIN;

        if (!error) {
            const char *method = json_string_value(json_object_get(msg, "method"));

            memmove(rpc->buf, rpc->buf + used, rpc->len - used);
            rpc->len -= used;
            if (!method) {
                *reply = msg;
                return 0;
            }
            if (!strcmp(method, "echo")) {
                error = rpc_send(rpc, json_pack("{s:O, s:n, s:O}", "result",
                                                json_object_get(msg, "params"), "error",
                                                "id", json_object_get(msg, "id")));
            }
            json_decref(msg);
            if (error) {
                return error;
            }
            continue;
        }
        if (error != -EAGAIN) {
            return error;
        }
        if (rpc->cap - rpc->len < 65536) {
            char *b = realloc(rpc->buf, rpc->cap * 2 + 65536);

            if (!b) {
                return -ENOMEM;
            }
            rpc->buf = b;
            rpc->cap = rpc->cap * 2 + 65536;
        }
        for (;;) {
            uint64_t now = time_msec();
            struct pollfd pfd = {.fd = rpc->fd, .events = POLLIN};
            ssize_t n;

            if (now >= deadline) {
                return -ETIMEDOUT;
            }
            if (poll(&pfd, 1, (int)MIN(deadline - now, 1000)) <= 0) {
                continue;
            }
            n = recv(rpc->fd, rpc->buf + rpc->len, rpc->cap - rpc->len, 0);
            if (n > 0) {
                rpc->len += (size_t)n;
                break;
            }
            if (n == 0) {
                return -ECONNRESET;
            }
            if (errno != EINTR && errno != EAGAIN) {
                return -errno;
            }
        }
    }
}

/* One OVSDB "transact" on the server at unix socket 'path'; takes ownership of 'ops'.
 * On success '*result' (if nonnull) receives the result array (caller owns). */
static int
ovsdb_transact(const char *path, const char *db, json_t *ops, json_t **result)
{
    json_t *params = json_array(), *reply = NULL, *res, *op;
    struct rpc rpc;
    size_t i;
    int error;

    json_array_append_new(params, json_string(db));
    json_array_extend(params, ops);
    json_decref(ops);
    error = rpc_open(path, &rpc);
    if (!error) {
        error = rpc_send(&rpc, json_pack("{s:s, s:o, s:i}", "method", "transact",
                                         "params", params, "id", 1));
        params = NULL;
    }
    if (!error) {
        error = rpc_recv(&rpc, &reply, RPC_TIMEOUT_MS);
    }
    json_decref(params);
    rpc_close(&rpc);
    if (error) {
        fail("%s: transact: %s", path, strerror(-error));
        return error;
    }
    res = json_object_get(reply, "result");
    if (!json_is_array(res)) {
        fail("%s: transaction failed", path);
        json_decref(reply);
        return -EPROTO;
    }
    json_array_foreach(res, i, op)
    {
        if (json_object_get(op, "error")) {
            char *s = json_to_string(op);

            fail("%s: operation %zu failed: %s", path, i, s ? s : "?");
            free(s);
            json_decref(reply);
            return -EPROTO;
        }
    }
    if (result) {
        *result = json_incref(res);
    }
    json_decref(reply);
    return 0;
}

/* ---- The SB view: which ports are claimed by the chassis and up ---- */

struct sb_view {
    struct poll_loop *loop;
    struct ovsdb_cs *cs;
};

static int
sb_view_open(struct sb_view *v, const char *remote)
{
    static const char *const tables[] = {"Port_Binding", "Chassis", "Chassis_Private",
                                         NULL};
    struct ovsdb_cs_config cfg = {
        .remotes = remote,
        .database = "OVN_Southbound",
        .monitor_all = true,
    };

    memset(v, 0, sizeof *v);
    if (poll_loop_create(&v->loop) || ovsdb_cs_create(v->loop, &cfg, &v->cs, NULL) ||
        ovsdb_cs_set_tables(v->cs, tables)) {
        fail("cannot monitor the SB");
        return -1;
    }
    return 0;
}

static void
sb_view_close(struct sb_view *v)
{
    ovsdb_cs_destroy(v->cs);
    poll_loop_destroy(v->loop);
    memset(v, 0, sizeof *v);
}

static const struct ovsdb_row *
sb_find_by_name(const struct sb_view *v, const char *table, const char *name)
{
    const struct ovsdb_replica_table *t =
        ovsdb_replica_table(ovsdb_cs_replica(v->cs), table);
    const struct ovsdb_row *row;

    if (!t) {
        return NULL;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        const struct ovsdb_datum *d = ovsdb_row_get(row, "name");

        if (d && d->n == 1 && !strcmp(d->keys[0].string, name)) {
            return row;
        }
    }
    return NULL;
}

/* Counts the Port_Bindings whose chassis is 'chassis', and those of them with
 * up=true. */
static void
sb_count(const struct sb_view *v, const char *chassis, long *claimed, long *up)
{
    const struct ovsdb_replica_table *t =
        ovsdb_replica_table(ovsdb_cs_replica(v->cs), "Port_Binding");
    const struct ovsdb_row *ch = sb_find_by_name(v, "Chassis", chassis), *row;

    *claimed = *up = 0;
    if (!t || !ch) {
        return;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        const struct ovsdb_datum *c = ovsdb_row_get(row, "chassis");
        const struct ovsdb_datum *u = ovsdb_row_get(row, "up");

        if (c && c->n == 1 && uuid_equals(&c->keys[0].uuid, ovsdb_row_uuid(ch))) {
            ++*claimed;
            if (u && u->n == 1 && u->keys[0].boolean) {
                ++*up;
            }
        }
    }
}

static void
sb_view_run(struct sb_view *v, int timeout_ms)
{
    poll_loop_run_once(v->loop, timeout_ms);
}

/* Waits until the chassis's Chassis and Chassis_Private rows exist. */
static int
sb_wait_chassis(struct sb_view *v, const char *chassis, int timeout_ms)
{
    uint64_t deadline = time_msec() + (uint64_t)timeout_ms;

    while (time_msec() < deadline) {
        if (ovsdb_cs_is_synced(v->cs) && sb_find_by_name(v, "Chassis", chassis) &&
            sb_find_by_name(v, "Chassis_Private", chassis)) {
            return 0;
        }
        sb_view_run(v, 50);
    }
    fail("chassis %s did not register within %d s", chassis, timeout_ms / 1000);
    return -ETIMEDOUT;
}

/* ---- Convergence: "ovn-nbctl --wait=hv sync" and the SB, from 't0' ---- */

struct converge {
    double hv_s; /* < 0: ovn-nbctl did not return in time. */
    double up_s; /* < 0: not all up in time. */
    long claimed_at_hv, up_at_hv;
    long claimed, up; /* Last seen. */
};

/* Runs "ovn-nbctl --wait=hv sync" and follows the SB until it returned and 'want'
 * ports are claimed and up, or 'timeout_s' passed since the call.  Times count from
 * 't0'.  Returns 0,
 * -ETIMEDOUT, or another error. */
static int
converge_wait(struct sb_view *v, const struct run *r, const char *chassis, long want,
              double t0, int timeout_s, struct converge *c)
{
    char db[PATH_MAX + 8], tmo[32];
    char *argv[] = {"ovn-nbctl", db, tmo, "--wait=hv", "sync", NULL};
    double deadline = now_s() + timeout_s;
    long claimed = 0, up = 0;
    pid_t pid;

    c->hv_s = c->up_s = -1;
    c->claimed_at_hv = c->up_at_hv = -1;
    snprintf(db, sizeof db, "--db=%s", r->nb_remote);
    snprintf(tmo, sizeof tmo, "--timeout=%d", timeout_s + 5);
    pid = spawn_quiet(argv);
    if (pid < 0) {
        fail("cannot run ovn-nbctl");
        return -ECHILD;
    }
    while (now_s() < deadline && (pid > 0 || c->up_s < 0)) {
        int status;

        sb_view_run(v, 5);
        if (ovsdb_replica_has_changes(ovsdb_cs_replica(v->cs))) {
            ovsdb_replica_track_clear(ovsdb_cs_replica(v->cs));
            sb_count(v, chassis, &claimed, &up);
            if (up >= want && c->up_s < 0) {
                c->up_s = now_s() - t0;
            }
        }
        if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
            pid = -1;
            if (!WIFEXITED(status) || WEXITSTATUS(status)) {
                fail("ovn-nbctl --wait=hv sync failed");
                return -EIO;
            }
            c->hv_s = now_s() - t0;
            /* What the SB shows once the acknowledgement is in. */
            sb_view_run(v, 0);
            ovsdb_replica_track_clear(ovsdb_cs_replica(v->cs));
            sb_count(v, chassis, &claimed, &up);
            c->claimed_at_hv = claimed;
            c->up_at_hv = up;
            if (up >= want && c->up_s < 0) {
                c->up_s = c->hv_s;
            }
        }
    }
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    c->claimed = claimed;
    c->up = up;
    return c->hv_s >= 0 && c->up_s >= 0 ? 0 : -ETIMEDOUT;
}

/* ovn-nbctl --wait=hv sync with nothing to do; milliseconds, or -1. */
static double
idle_hv_ms(const struct run *r)
{
    double t0 = now_s();

    if (run_cmd("ovn-nbctl --db=%s --timeout=60 --wait=hv sync", r->nb_remote)) {
        return -1;
    }
    return (now_s() - t0) * 1000.0;
}

/* ---- The central and the NB topology ---- */

static int
central_start(struct run *r)
{
    char out[PATH_MAX];
    char *cmd = NULL;
    FILE *p;

    snprintf(r->dir, sizeof r->dir, "/tmp/ovnic-bconv-XXXXXX");
    if (!mkdtemp(r->dir)) {
        fail("mkdtemp: %s", strerror(errno));
        r->dir[0] = '\0';
        return -1;
    }
    watch("dir", r->dir);
    for (int i = 0; i < 2; i++) {
        if (asprintf(&cmd, "'%s' start-%s '%s'", script, i ? "sb" : "nb", r->dir) < 0) {
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
            fail("starting the %s database failed", i ? "SB" : "NB");
            return -1;
        }
    }
    if (run_cmd("'%s' start-northd '%s' >/dev/null", script, r->dir)) {
        fail("starting ovn-northd failed");
        return -1;
    }
    snprintf(r->nb_remote, sizeof r->nb_remote, "unix:%s/nb.sock", r->dir);
    snprintf(r->sb_remote, sizeof r->sb_remote, "unix:%s/sb.sock", r->dir);
    return 0;
}

static void
central_stop(struct run *r)
{
    if (r->dir[0]) {
        run_cmd("'%s' stop '%s' >/dev/null && rm -rf '%s'", script, r->dir, r->dir);
        watch("undir", r->dir);
        r->dir[0] = '\0';
    }
}

static void
port_name(char *buf, size_t size, long i)
{
    snprintf(buf, size, "lsp%ld", i);
}

/* The "MAC IP" address of port 'i' on switch 'i' % N_SWITCHES. */
static void
port_address(char *buf, size_t size, long i)
{
    long host = i / N_SWITCHES;

    snprintf(buf, size, "0a:00:%02lx:%02lx:%02lx:%02lx 10.%ld.%ld.%ld", i % N_SWITCHES,
             (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, i % N_SWITCHES, host / 250,
             host % 250 + 2);
}

static json_t *
lsp_insert(long i, const char *uuid_name)
{
    char name[32], addr[64];

    port_name(name, sizeof name, i);
    port_address(addr, sizeof addr, i);
    return json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "op", "insert", "table",
                     "Logical_Switch_Port", "uuid-name", uuid_name, "row", "name", name,
                     "addresses", addr);
}

static int
nb_sync_sb(const struct run *r)
{
    if (run_cmd("ovn-nbctl --db=%s --timeout=300 --wait=sb sync", r->nb_remote)) {
        fail("ovn-nbctl --wait=sb sync failed");
        return -1;
    }
    return 0;
}

/* N ports on N_SWITCHES switches, in one NB transaction, then --wait=sb. */
static int
nb_load(const struct run *r, long n)
{
    char path[PATH_MAX], uname[32];
    json_t *ops = json_array(), *ports[N_SWITCHES];

    for (int s = 0; s < N_SWITCHES; s++) {
        ports[s] = json_array();
    }
    for (long i = 0; i < n; i++) {
        snprintf(uname, sizeof uname, "p%ld", i);
        json_array_append_new(ops, lsp_insert(i, uname));
        json_array_append_new(ports[i % N_SWITCHES],
                              json_pack("[s,s]", "named-uuid", uname));
    }
    for (int s = 0; s < N_SWITCHES; s++) {
        char ls[16];

        snprintf(ls, sizeof ls, "ls%d", s);
        json_array_append_new(ops, json_pack("{s:s, s:s, s:{s:s, s:[s,o]}}", "op",
                                             "insert", "table", "Logical_Switch", "row",
                                             "name", ls, "ports", "set", ports[s]));
    }
    snprintf(path, sizeof path, "%s/nb.sock", r->dir);
    if (ovsdb_transact(path, "OVN_Northbound", ops, NULL)) {
        return -1;
    }
    return nb_sync_sb(r);
}

/* Port 'i' added to switch ls0, then --wait=sb. */
static int
nb_add_port(const struct run *r, long i)
{
    char path[PATH_MAX];
    json_t *ops = json_array();

    json_array_append_new(ops, lsp_insert(i, "p"));
    json_array_append_new(ops, json_pack("{s:s, s:s, s:[[s,s,s]], s:[[s,s,[s,[[s,s]]]]]}",
                                         "op", "mutate", "table", "Logical_Switch",
                                         "where", "name", "==", "ls0", "mutations",
                                         "ports", "insert", "set", "named-uuid", "p"));
    snprintf(path, sizeof path, "%s/nb.sock", r->dir);
    if (ovsdb_transact(path, "OVN_Northbound", ops, NULL)) {
        return -1;
    }
    return nb_sync_sb(r);
}

/* ---- ovnic-dpud ---- */

static int
dpud_start(struct run *r)
{
    char pidfile[PATH_MAX];

    if (run_cmd(
            "'%s' --system-id=%s --sb-remote=%s --encap-ip=192.0.2.10 --rundir=%s/dpud"
            " --log-file=%s/dpud.log --log=warn --detach",
            dpud_path, chassis_names[SYSTEM_OVNIC], r->sb_remote, r->dir, r->dir)) {
        fail("starting ovnic-dpud failed (see %s/dpud.log)", r->dir);
        return -1;
    }
    snprintf(pidfile, sizeof pidfile, "%s/dpud/ovnic-dpud.pid", r->dir);
    r->chassis_pid = read_pidfile(pidfile);
    if (r->chassis_pid < 0) {
        fail("%s: no pid", pidfile);
        return -1;
    }
    watch_pid("pid", r->chassis_pid);
    return 0;
}

/* port-add repI --iface-id=lspI for 'first' <= i < 'last', on one connection, in
 * chunks of CTL_CHUNK requests. */
static int
dpud_port_add(const struct run *r, long first, long last)
{
    char path[PATH_MAX];
    struct rpc rpc;
    int error;

    snprintf(path, sizeof path, "%s/dpud/ovnic-dpud.ctl", r->dir);
    error = rpc_open(path, &rpc);
    for (long i = first; !error && i < last; i += CTL_CHUNK) {
        long end = MIN(last, i + CTL_CHUNK);

        for (long j = i; !error && j < end; j++) {
            char rep[32], lsp[32];

            snprintf(rep, sizeof rep, "rep%ld", j);
            port_name(lsp, sizeof lsp, j);
            error = rpc_send(&rpc, json_pack("{s:s, s:[{s:s, s:s}], s:I}", "method",
                                             "port-add", "params", "representor", rep,
                                             "iface_id", lsp, "id", (json_int_t)j));
        }
        for (long j = i; !error && j < end; j++) {
            json_t *reply = NULL, *e;

            error = rpc_recv(&rpc, &reply, RPC_TIMEOUT_MS);
            e = json_object_get(reply, "error");
            if (!error && e && !json_is_null(e)) {
                char *s = json_to_string(e);

                fail("port-add: %s", s ? s : "error");
                free(s);
                error = -EPROTO;
            }
            json_decref(reply);
        }
    }
    rpc_close(&rpc);
    if (error) {
        fail("port-add over %s: %s", path, strerror(-error));
    }
    return error;
}

/* ovnic-dpud's "status" counters: full recomputes and SB transactions so far. */
static void
dpud_counters(const struct run *r, long *recomputes, long *txns)
{
    char path[PATH_MAX];
    json_t *reply = NULL, *counters;
    struct rpc rpc;

    snprintf(path, sizeof path, "%s/dpud/ovnic-dpud.ctl", r->dir);
    if (!rpc_open(path, &rpc) &&
        !rpc_send(&rpc,
                  json_pack("{s:s, s:[], s:i}", "method", "status", "params", "id", 1)) &&
        !rpc_recv(&rpc, &reply, RPC_TIMEOUT_MS)) {
        counters = json_object_get(json_object_get(reply, "result"), "counters");
        *recomputes =
            (long)json_integer_value(json_object_get(counters, "full_recomputes"));
        *txns = (long)json_integer_value(json_object_get(counters, "txns"));
    }
    json_decref(reply);
    rpc_close(&rpc);
}

/* "exit" over the control socket (releases the ports, deletes the chassis rows). */
static void
dpud_stop(struct run *r)
{
    char path[PATH_MAX];
    json_t *reply = NULL;
    struct rpc rpc;

    if (r->chassis_pid <= 0) {
        return;
    }
    snprintf(path, sizeof path, "%s/dpud/ovnic-dpud.ctl", r->dir);
    if (rpc_open(path, &rpc) ||
        rpc_send(&rpc,
                 json_pack("{s:s, s:[], s:i}", "method", "exit", "params", "id", 1)) ||
        rpc_recv(&rpc, &reply, STOP_TIMEOUT_MS) ||
        !pid_wait_gone(r->chassis_pid, STOP_TIMEOUT_MS)) {
        fail("ovnic-dpud did not exit cleanly; killing it");
    }
    json_decref(reply);
    rpc_close(&rpc);
    pid_stop(&r->chassis_pid);
}

/* ---- ovn-controller with ovsdb-server and ovs-vswitchd ---- */

static int
peer_start_ovs(struct run *r)
{
    char pidfile[PATH_MAX];
    const char *d = r->dir;

    if (run_cmd("ovsdb-tool create %s/conf.db /usr/share/openvswitch/vswitch.ovsschema"
                " && ovsdb-server %s/conf.db --detach --no-chdir --pidfile=%s/conf.pid"
                " --log-file=%s/conf.log --unixctl=%s/conf.ctl --remote=punix:%s/db.sock"
                " -vconsole:off 2>/dev/null",
                d, d, d, d, d, d)) {
        fail("starting ovsdb-server for conf.db failed");
        return -1;
    }
    snprintf(pidfile, sizeof pidfile, "%s/conf.pid", d);
    r->confdb_pid = read_pidfile(pidfile);
    if (r->confdb_pid > 0) {
        watch_pid("pid", r->confdb_pid);
    }
    if (run_cmd("ovs-vsctl --db=unix:%s/db.sock --no-wait init"
                " -- set Open_vSwitch . external_ids:system-id=%s"
                " external_ids:ovn-remote=%s external_ids:ovn-encap-type=geneve"
                " external_ids:ovn-encap-ip=192.0.2.20"
                " external_ids:ovn-bridge-datapath-type=netdev"
                " -- add-br br-int -- set Bridge br-int datapath_type=netdev"
                " fail-mode=secure",
                d, chassis_names[SYSTEM_PEER], r->sb_remote) ||
        run_cmd("OVS_RUNDIR=%s ovs-vswitchd unix:%s/db.sock --enable-dummy "
                "--disable-system --detach"
                " --no-chdir --pidfile=%s/vswitchd.pid --log-file=%s/vswitchd.log"
                " --unixctl=%s/vswitchd.ctl -vconsole:off 2>/dev/null",
                d, d, d, d, d)) {
        fail("starting ovs-vswitchd failed");
        return -1;
    }
    snprintf(pidfile, sizeof pidfile, "%s/vswitchd.pid", d);
    r->vswitchd_pid = read_pidfile(pidfile);
    if (r->vswitchd_pid > 0) {
        watch_pid("pid", r->vswitchd_pid);
    }
    return r->confdb_pid > 0 && r->vswitchd_pid > 0 ? 0 : -1;
}

/* Creates n dummy interfaces vif0..vif(n-1) on br-int in one transaction and waits
 * until ovs-vswitchd gave each an OpenFlow port.  Returns 0, -ETIMEDOUT or -1. */
static int
peer_create_ifaces(struct run *r, long n, int timeout_s, double *elapsed, long *n_ready)
{
    char path[PATH_MAX], name[32], iu[32], pu[32];
    json_t *ops = json_array(), *ports = json_array(), *result = NULL;
    double t0 = now_s();

    if (n < 1 || n > 1000000) {
        json_decref(ops);
        json_decref(ports);
        return -1;
    }
    snprintf(path, sizeof path, "%s/db.sock", r->dir);
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof name, "vif%ld", i);
        snprintf(iu, sizeof iu, "i%ld", i);
        snprintf(pu, sizeof pu, "p%ld", i);
        json_array_append_new(ops, json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "op",
                                             "insert", "table", "Interface", "uuid-name",
                                             iu, "row", "name", name, "type", "dummy"));
        json_array_append_new(ops,
                              json_pack("{s:s, s:s, s:s, s:{s:s, s:[s,s]}}", "op",
                                        "insert", "table", "Port", "uuid-name", pu, "row",
                                        "name", name, "interfaces", "named-uuid", iu));
        json_array_append_new(ports, json_pack("[s,s]", "named-uuid", pu));
    }
    json_array_append_new(ops, json_pack("{s:s, s:s, s:[[s,s,s]], s:[[s,s,[s,o]]]}", "op",
                                         "mutate", "table", "Bridge", "where", "name",
                                         "==", "br-int", "mutations", "ports", "insert",
                                         "set", ports));
    if (ovsdb_transact(path, "Open_vSwitch", ops, &result)) {
        return -1;
    }
    r->ifaces = calloc((size_t)n, sizeof *r->ifaces);
    for (long i = 0; r->ifaces && i < n; i++) {
        const char *u = json_string_value(json_array_get(
            json_object_get(json_array_get(result, (size_t)(2 * i)), "uuid"), 1));

        if (!u || uuid_from_string(u, &r->ifaces[i])) {
            fail("unexpected insert result");
            json_decref(result);
            return -1;
        }
    }
    json_decref(result);
    if (!r->ifaces) {
        return -1;
    }
    /* Until every interface has an OpenFlow port. */
    while (now_s() - t0 < timeout_s) {
        json_t *res = NULL, *rows;
        long ready = 0;
        size_t k;
        json_t *row;

        usleep(200000);
        if (ovsdb_transact(path, "Open_vSwitch",
                           json_pack("[{s:s, s:s, s:[], s:[s]}]", "op", "select", "table",
                                     "Interface", "where", "columns", "ofport"),
                           &res)) {
            return -1;
        }
        rows = json_object_get(json_array_get(res, 0), "rows");
        json_array_foreach(rows, k, row)
        {
            json_t *of = json_object_get(row, "ofport");

            ready += json_is_integer(of) && json_integer_value(of) > 0;
        }
        json_decref(res);
        *n_ready = ready > 0 ? ready - 1 : 0; /* Without br-int's own interface. */
        if (ready >= n + 1) {
            *elapsed = now_s() - t0;
            return 0;
        }
    }
    return -ETIMEDOUT;
}

static int
peer_start_controller(struct run *r)
{
    char pidfile[PATH_MAX];

    if (run_cmd("OVN_RUNDIR=%s OVS_RUNDIR=%s ovn-controller unix:%s/db.sock --detach"
                " --no-chdir --pidfile=%s/ovn-controller.pid"
                " --log-file=%s/ovn-controller.log -vconsole:off 2>/dev/null",
                r->dir, r->dir, r->dir, r->dir, r->dir)) {
        fail("starting ovn-controller failed");
        return -1;
    }
    snprintf(pidfile, sizeof pidfile, "%s/ovn-controller.pid", r->dir);
    r->chassis_pid = read_pidfile(pidfile);
    if (r->chassis_pid < 0) {
        return -1;
    }
    watch_pid("pid", r->chassis_pid);
    return 0;
}

/* Sets external_ids:iface-id=lspI on interfaces 'first' <= i < 'last', in one
 * transaction. */
static int
peer_bind(const struct run *r, long first, long last)
{
    char path[PATH_MAX], lsp[32], u[UUID_LEN + 1];
    json_t *ops = json_array();

    for (long i = first; i < last; i++) {
        port_name(lsp, sizeof lsp, i);
        uuid_to_string(&r->ifaces[i], u);
        json_array_append_new(
            ops, json_pack("{s:s, s:s, s:[[s,s,[s,s]]], s:{s:[s,[[s,s]]]}}", "op",
                           "update", "table", "Interface", "where", "_uuid", "==", "uuid",
                           u, "row", "external_ids", "map", "iface-id", lsp));
    }
    snprintf(path, sizeof path, "%s/db.sock", r->dir);
    return ovsdb_transact(path, "Open_vSwitch", ops, NULL);
}

static void
peer_stop(struct run *r)
{
    if (r->chassis_pid > 0) {
        if (run_cmd(
                "ovs-appctl --timeout=%d -t %s/ovn-controller.%ld.ctl exit >/dev/null",
                STOP_TIMEOUT_MS / 1000, r->dir, (long)r->chassis_pid) ||
            !pid_wait_gone(r->chassis_pid, STOP_TIMEOUT_MS)) {
            fail("ovn-controller did not exit cleanly; killing it");
        }
        pid_stop(&r->chassis_pid);
    }
    pid_stop(&r->vswitchd_pid);
    pid_stop(&r->confdb_pid);
    free(r->ifaces);
    r->ifaces = NULL;
}

/* ---- One (size, system) measurement ---- */

static int
bind_ports(struct run *r, int system, long first, long last)
{
    return system == SYSTEM_OVNIC ? dpud_port_add(r, first, last)
                                  : peer_bind(r, first, last);
}

static void
measure(long n, int system, int timeout_s, struct result *res)
{
    const char *chassis = chassis_names[system];
    struct run r = {.chassis_pid = -1, .vswitchd_pid = -1, .confdb_pid = -1};
    struct sb_view v = {0};
    struct converge c;
    double t0;
    int error;

    memset(res, 0, sizeof *res);
    res->size = n;
    res->system = system;
    res->status = RESULT_ERROR;
    res->iface_create_s = res->vswitchd_rss_mib = res->vswitchd_cpu_s = -1;
    res->bind_s = res->hv_s = res->up_s = res->incr_hv_ms = res->incr_up_ms = -1;
    res->rss_mib = res->cpu_s = res->idle_hv_ms = -1;
    res->claimed_at_hv = res->up_at_hv = res->up_last = res->ifaces_ready = -1;
    res->dpud_recomputes = res->dpud_txns = -1;

    res->what = "central";
    if (central_start(&r) || (res->what = "NB load", nb_load(&r, n)) ||
        (res->what = "SB monitor", sb_view_open(&v, r.sb_remote))) {
        goto out;
    }
    res->what = "chassis start";
    if (system == SYSTEM_OVNIC) {
        if (dpud_start(&r)) {
            goto out;
        }
    } else {
        if (peer_start_ovs(&r)) {
            goto out;
        }
        res->what = "creating the OVS interfaces";
        error = peer_create_ifaces(&r, n + 1, timeout_s, &res->iface_create_s,
                                   &res->ifaces_ready);
        if (error) {
            res->status = error == -ETIMEDOUT ? RESULT_TIMEOUT : RESULT_ERROR;
            goto out;
        }
        res->what = "chassis start";
        if (peer_start_controller(&r)) {
            goto out;
        }
    }
    if (sb_wait_chassis(&v, chassis, 30000)) {
        goto out;
    }
    /* Settle (the chassis's first full run), then the fixed cost of --wait=hv. */
    if (idle_hv_ms(&r) < 0) {
        goto out;
    }
    res->idle_hv_ms = idle_hv_ms(&r);

    /* All N at once. */
    res->what = "bind";
    t0 = now_s();
    if (bind_ports(&r, system, 0, n)) {
        goto out;
    }
    res->bind_s = now_s() - t0;
    res->what = "convergence";
    error = converge_wait(&v, &r, chassis, n, t0, timeout_s, &c);
    res->hv_s = c.hv_s;
    res->up_s = c.up_s;
    res->claimed_at_hv = c.claimed_at_hv;
    res->up_at_hv = c.up_at_hv;
    res->up_last = c.up;
    if (error) {
        res->status = error == -ETIMEDOUT ? RESULT_TIMEOUT : RESULT_ERROR;
        goto usage;
    }

    /* One more. */
    res->what = "incremental";
    if (nb_add_port(&r, n)) {
        goto usage;
    }
    t0 = now_s();
    if (bind_ports(&r, system, n, n + 1)) {
        goto usage;
    }
    error = converge_wait(&v, &r, chassis, n + 1, t0, timeout_s, &c);
    if (error) {
        res->status = error == -ETIMEDOUT ? RESULT_TIMEOUT : RESULT_ERROR;
        goto usage;
    }
    res->incr_hv_ms = c.hv_s * 1000.0;
    res->incr_up_ms = c.up_s * 1000.0;
    res->status = RESULT_OK;
    res->what = NULL;

usage:
    proc_usage(r.chassis_pid, &res->rss_mib, &res->cpu_s);
    if (system == SYSTEM_OVNIC) {
        dpud_counters(&r, &res->dpud_recomputes, &res->dpud_txns);
    }
    if (system == SYSTEM_PEER) {
        proc_usage(r.vswitchd_pid, &res->vswitchd_rss_mib, &res->vswitchd_cpu_s);
    }
out:
    if (res->status != RESULT_OK && res->what) {
        fail("%s, %ld ports: %s: %s", system_names[system], n, res->what,
             res->status == RESULT_TIMEOUT ? "timeout" : "failed");
    }
    sb_view_close(&v);
    if (system == SYSTEM_OVNIC) {
        dpud_stop(&r);
    } else {
        peer_stop(&r);
    }
    central_stop(&r);
}

/* ---- Report ---- */

static const char *
fmt_num(char *buf, size_t size, double v, const char *fmt)
{
    if (v < 0) {
        snprintf(buf, size, "-");
    } else {
        snprintf(buf, size, fmt, v);
    }
    return buf;
}

static const char *
fmt_ratio(char *buf, size_t size, double a, double b)
{
    return a < 0 || b <= 0 ? snprintf(buf, size, "-"),
           buf             : fmt_num(buf, size, a / b, "%.2f");
}

static json_t *
jnum(double v, double scale)
{
    return v < 0 ? json_null() : json_real((double)(long long)(v * scale + 0.5) / scale);
}

static const char *
status_name(const struct result *r)
{
    return r->status == RESULT_OK        ? "ok"
           : r->status == RESULT_TIMEOUT ? "timeout"
                                         : "error";
}

static void
report(const struct bench_opts *opts, const struct result *res, int n_res)
{
    json_t *list = json_array();
    char *text;

    if (!opts->json_only) {
        printf("controller_convergence: N logical switch ports on %d logical switches"
               " bound to one chassis; fresh central (NB, SB, ovn-northd) per row\n",
               N_SWITCHES);
        printf("NOTE ovnic-dpud: control plane only; packet pipeline not built yet"
               " (flows counted installed at once).\n"
               "     ovn-controller translates the logical flows and installs them in"
               " ovs-vswitchd (userspace datapath).\n");
        printf("%-6s %-15s %8s %8s %8s %9s %9s %9s %8s %16s\n", "size", "system",
               "bind (s)", "hv (s)", "up (s)", "incr (ms)", "idle (ms)", "RSS (MiB)",
               "CPU (s)", "vswitchd MiB/CPU");
    }
    for (int i = 0; i < n_res; i++) {
        const struct result *r = &res[i];
        char a[32], b[32], c[32], d[32], e[32], f[32], g[32], h[32];

        if (r->vswitchd_rss_mib < 0) {
            snprintf(h, sizeof h, "-");
        } else {
            snprintf(h, sizeof h, "%.1f/%.2f", r->vswitchd_rss_mib, r->vswitchd_cpu_s);
        }
        if (!opts->json_only && r->status == RESULT_OK) {
            printf("%-6ld %-15s %8s %8s %8s %9s %9s %9s %8s %16s\n", r->size,
                   system_names[r->system], fmt_num(g, sizeof g, r->bind_s, "%.3f"),
                   fmt_num(a, sizeof a, r->hv_s, "%.3f"),
                   fmt_num(b, sizeof b, r->up_s, "%.3f"),
                   fmt_num(c, sizeof c, r->incr_hv_ms, "%.0f"),
                   fmt_num(d, sizeof d, r->idle_hv_ms, "%.0f"),
                   fmt_num(e, sizeof e, r->rss_mib, "%.1f"),
                   fmt_num(f, sizeof f, r->cpu_s, "%.2f"), h);
        } else if (!opts->json_only) {
            printf("%-6ld %-15s %s: %s (limit %d s)", r->size, system_names[r->system],
                   status_name(r), r->what ? r->what : "?", opts->timeout_s);
            if (r->ifaces_ready >= 0 && r->iface_create_s < 0) {
                printf("; %ld of %ld interfaces had an OpenFlow port", r->ifaces_ready,
                       r->size + 1);
            }
            if (r->up_last >= 0) {
                printf("; %ld of %ld up", r->up_last, r->size);
            }
            if (r->rss_mib >= 0) {
                printf("; so far RSS %.1f MiB, CPU %.2f s, vswitchd %s", r->rss_mib,
                       r->cpu_s, h);
            }
            printf("\n");
        }
        json_array_append_new(
            list,
            json_pack("{s:I, s:s, s:s, s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:I, s:I,"
                      " s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                      "size", (json_int_t)r->size, "system", system_names[r->system],
                      "status", status_name(r), "bind_s", jnum(r->bind_s, 1000),
                      "ifaces_ready", (json_int_t)r->ifaces_ready, "dpud_full_recomputes",
                      (json_int_t)r->dpud_recomputes, "dpud_sb_txns",
                      (json_int_t)r->dpud_txns, "iface_create_s",
                      jnum(r->iface_create_s, 1000), "hv_s", jnum(r->hv_s, 1000), "up_s",
                      jnum(r->up_s, 1000), "claimed_at_hv", (json_int_t)r->claimed_at_hv,
                      "up_at_hv", (json_int_t)r->up_at_hv, "incr_hv_ms",
                      jnum(r->incr_hv_ms, 10), "incr_up_ms", jnum(r->incr_up_ms, 10),
                      "idle_hv_ms", jnum(r->idle_hv_ms, 10), "rss_mib",
                      jnum(r->rss_mib, 10), "cpu_s", jnum(r->cpu_s, 100),
                      "vswitchd_rss_mib", jnum(r->vswitchd_rss_mib, 10), "vswitchd_cpu_s",
                      jnum(r->vswitchd_cpu_s, 100)));
    }
    if (!opts->json_only) {
        for (int i = 0; i < n_res; i++) {
            const struct result *o = &res[i], *p = NULL;
            char a[32], b[32], c[32], d[32];

            for (int j = 0; j < n_res; j++) {
                if (res[j].size == o->size && res[j].system == SYSTEM_PEER) {
                    p = &res[j];
                }
            }
            if (o->system != SYSTEM_OVNIC || !p) {
                continue;
            }
            printf("ratio ovnic-dpud/ovn-controller, %ld ports: hv %s, incr %s,"
                   " RSS %s, CPU %s (lower is better)\n",
                   o->size, fmt_ratio(a, sizeof a, o->hv_s, p->hv_s),
                   fmt_ratio(b, sizeof b, o->incr_hv_ms, p->incr_hv_ms),
                   fmt_ratio(c, sizeof c, o->rss_mib, p->rss_mib),
                   fmt_ratio(d, sizeof d, o->cpu_s, p->cpu_s));
        }
        for (int i = 0; i < n_res; i++) {
            if (res[i].status == RESULT_OK && res[i].up_at_hv >= 0 &&
                res[i].up_at_hv < res[i].size) {
                printf("note: %s, %ld ports: ovn-nbctl --wait=hv returned with %ld"
                       " claimed, %ld up\n",
                       system_names[res[i].system], res[i].size, res[i].claimed_at_hv,
                       res[i].up_at_hv);
            }
            if (res[i].dpud_recomputes >= 0) {
                printf("note: %s, %ld ports: %ld full recomputes, %ld SB transactions\n",
                       system_names[res[i].system], res[i].size, res[i].dpud_recomputes,
                       res[i].dpud_txns);
            }
            if (res[i].iface_create_s >= 0) {
                printf("note: %s, %ld ports: ovs-vswitchd created the %ld dummy"
                       " interfaces in %.1f s (before, untimed)\n",
                       system_names[res[i].system], res[i].size, res[i].size + 1,
                       res[i].iface_create_s);
            }
        }
        printf("bind: until the chassis accepted the N bindings; hv: bind N + ovn-nbctl "
               "--wait=hv sync (s); up: bind until all N claimed"
               " with up=true in the SB; incr: one more port, bind + --wait=hv;\n"
               "idle: ovn-nbctl --wait=hv sync alone; RSS: peak (VmHWM); CPU: user+system"
               " over the process's life\n");
    }
    text = json_dumps(list, JSON_COMPACT | JSON_REAL_PRECISION(6));
    printf("{\"bench\":\"controller_convergence\",\"note\":\"ovnic-dpud: control plane"
           " only; packet pipeline not built yet (flows counted installed at once)\","
           "\"results\":%s}\n",
           text ? text : "[]");
    free(text);
    json_decref(list);
}

/* ---- Main ---- */

static void
usage(FILE *stream)
{
    fprintf(stream,
            "Usage: " PROG " [--sizes=N[,N...]] [--quick] [--timeout=S]"
            " [--format=table|json]\n"
            "Binds N logical switch ports (default sizes 1000,10000; --quick: 1000) to\n"
            "ovnic-dpud and to a real ovn-controller (with ovs-vswitchd, userspace\n"
            "datapath), each on a fresh OVN central, and times ovn-nbctl --wait=hv.\n"
            "--timeout: limit in seconds per convergence wait and for creating the OVS\n"
            "interfaces (default 600); past it the row reads \"timeout\".\n");
}

static int
parse_args(int argc, char *argv[], struct bench_opts *opts)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;

        if (!strncmp(a, "--sizes=", 8)) {
            const char *p = a + 8;

            opts->n_sizes = 0;
            do {
                long v = strtol(p, &end, 10);

                if (end == p || v < 1 || v > 100000 || opts->n_sizes >= MAX_SIZES ||
                    (*end && *end != ',')) {
                    return -1;
                }
                opts->sizes[opts->n_sizes++] = v;
                p = *end ? end + 1 : end;
            } while (*p);
        } else if (!strcmp(a, "--quick")) {
            opts->sizes[0] = 1000;
            opts->n_sizes = 1;
        } else if (!strncmp(a, "--timeout=", 10)) {
            opts->timeout_s = (int)strtol(a + 10, &end, 10);
            if (*end || opts->timeout_s < 1 || opts->timeout_s > 3600) {
                return -1;
            }
        } else if (!strcmp(a, "--format") && i + 1 < argc &&
                   (!strcmp(argv[i + 1], "json") || !strcmp(argv[i + 1], "table"))) {
            opts->json_only = !strcmp(argv[++i], "json");
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
    struct bench_opts opts = {.sizes = {1000, 10000}, .n_sizes = 2, .timeout_s = 600};
    struct result res[MAX_SIZES * N_SYSTEMS];
    int n_res = 0;

    if (parse_args(argc, argv, &opts)) {
        usage(stderr);
        return 2;
    }
    ovnic_log_set_level(NULL, OVNIC_LOG_WARN);
    if (geteuid() != 0) {
        fail("needs root (ovs-vswitchd, ovn-controller); skipped");
        return 77;
    }
    if (find_programs()) {
        fail("cannot find scripts/ovn-central.sh or ovnic-dpud"
             " (set OVNIC_SOURCE_DIR and OVNIC_BUILD_DIR)");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    watcher_start();
    for (int s = 0; s < opts.n_sizes; s++) {
        for (int sys = 0; sys < N_SYSTEMS; sys++) {
            if (!opts.json_only) {
                fprintf(stderr, PROG ": %s, %ld ports...\n", system_names[sys],
                        opts.sizes[s]);
            }
            measure(opts.sizes[s], sys, opts.timeout_s, &res[n_res++]);
        }
    }
    report(&opts, res, n_res);
    if (watch_fd >= 0) {
        close(watch_fd);
    }
    for (int i = 0; i < n_res; i++) {
        if (res[i].status == RESULT_ERROR) {
            return 1;
        }
    }
    return 0;
}
