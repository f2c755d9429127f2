/* ovnic integration tests: shared support code (see ithelp.h). */
#include "ithelp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dpu/ovsdb/cs.h"
#include "dpu/ovsdb/replica.h"
#include "shared/util/poll.h"
#include "shared/util/util.h"

#define IT_MAX_DIRS 16
#define IT_MAX_PROCS 16
#define IT_DEFAULT_TIMEOUT_MS 120000

static char *it_dirs[IT_MAX_DIRS];
static pid_t it_procs[IT_MAX_PROCS];
static int it_watch_fd = -1;
static bool it_atexit_done;

/* The watcher: a shell in its own session reading "dir PATH" / "pid N" / "unpid N"
 * lines.  When the test process goes away for any reason its end of the socket
 * closes, and the watcher stops the daemons, kills the processes and removes the
 * directories that are still registered. */
static const char it_watch_script[] =
    "dirs=''; pids=''\n"
    "while read -r kind arg; do\n"
    "  case $kind in\n"
    "  dir) dirs=\"$dirs $arg\" ;;\n"
    "  undir) dirs=$(echo \" $dirs \" | sed \"s| $arg | |\") ;;\n"
    "  pid) pids=\"$pids $arg\" ;;\n"
    "  unpid) pids=$(echo \" $pids \" | sed \"s| $arg | |\") ;;\n"
    "  esac\n"
    "done\n"
    "for p in $pids; do kill -9 $p 2>/dev/null; done\n"
    "for d in $dirs; do\n"
    "  if [ -d \"$d\" ]; then \"$1\" stop \"$d\" >/dev/null 2>&1; rm -rf \"$d\"; fi\n"
    "done\n";

static void it_cleanup_all(void);

const char *
it_source_dir(void)
{
    static char dir[PATH_MAX];
    const char *env = getenv("OVNIC_SOURCE_DIR");
    const char *suffix = "/tests/integration/ithelp.c";
    const char *file = __FILE__;
    size_t len;

    if (env && *env) {
        return env;
    }
    if (!dir[0]) {
        len = strlen(file);
        if (len > strlen(suffix) && !strcmp(file + len - strlen(suffix), suffix)) {
            snprintf(dir, sizeof dir, "%.*s", (int)(len - strlen(suffix)), file);
        } else {
            snprintf(dir, sizeof dir, ".");
        }
    }
    return dir;
}

const char *
it_build_dir(void)
{
    const char *env = getenv("OVNIC_BUILD_DIR");

    return env && *env ? env : ".";
}

const char *
it_central_script(void)
{
    static char path[PATH_MAX];

    if (!path[0]) {
        snprintf(path, sizeof path, "%s/scripts/ovn-central.sh", it_source_dir());
    }
    return path;
}

static void
it_watch_send(const char *kind, const char *arg)
{
    char line[PATH_MAX + 16];
    int n;

    if (it_watch_fd < 0) {
        return;
    }
    n = snprintf(line, sizeof line, "%s %s\n", kind, arg);
    if (n > 0 && (size_t)n < sizeof line) {
        if (send(it_watch_fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
            fprintf(stderr, "ithelp: lost contact with the cleanup watcher\n");
        }
    }
}

/* Starts the watcher and the exit handler, once. */
static void
it_init(void)
{
    static bool done;
    int fds[2];
    pid_t pid;

    if (done) {
        return;
    }
    done = true;
    atexit(it_cleanup_all);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds)) {
        fprintf(stderr, "ithelp: socketpair: %s\n", strerror(errno));
        return;
    }
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "ithelp: fork: %s\n", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (!pid) {
        int devnull = open("/dev/null", O_WRONLY);

        setsid();
        dup2(fds[1], STDIN_FILENO);
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
        }
        execl("/bin/sh", "sh", "-c", it_watch_script, "sh", it_central_script(),
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    it_watch_fd = fds[0];
}

static void
it_dir_cleanup(const char *dir)
{
    char cmd[PATH_MAX * 3];

    if (access(dir, F_OK)) {
        return;
    }
    snprintf(cmd, sizeof cmd, "'%s' stop '%s' >/dev/null; rm -rf '%s'",
             it_central_script(), dir, dir);
    if (it_run_timeout(NULL, 60000, cmd)) {
        fprintf(stderr, "ithelp: cleaning up %s failed\n", dir);
    }
}

static void
it_cleanup_all(void)
{
    size_t i;

    if (it_atexit_done) {
        return;
    }
    it_atexit_done = true;
    for (i = 0; i < IT_MAX_PROCS; i++) {
        if (it_procs[i] > 0) {
            it_proc_stop(it_procs[i], IT_SIG_KILL, 5000);
        }
    }
    for (i = 0; i < IT_MAX_DIRS; i++) {
        if (it_dirs[i]) {
            it_dir_cleanup(it_dirs[i]);
            it_watch_send("undir", it_dirs[i]);
            free(it_dirs[i]);
            it_dirs[i] = NULL;
        }
    }
    if (it_watch_fd >= 0) {
        close(it_watch_fd);
        it_watch_fd = -1;
    }
}

char *
it_tmpdir_create(void)
{
    char template[] = "/tmp/ovnic-it-XXXXXX";
    size_t i;

    it_init();
    if (!mkdtemp(template)) {
        fprintf(stderr, "ithelp: mkdtemp: %s\n", strerror(errno));
        return NULL;
    }
    for (i = 0; i < IT_MAX_DIRS; i++) {
        if (!it_dirs[i]) {
            it_dirs[i] = strdup(template);
            if (!it_dirs[i]) {
                break;
            }
            it_watch_send("dir", template);
            return strdup(template);
        }
    }
    fprintf(stderr, "ithelp: too many temporary directories\n");
    rmdir(template);
    return NULL;
}

void
it_tmpdir_remove(const char *dir)
{
    size_t i;

    if (!dir) {
        return;
    }
    it_dir_cleanup(dir);
    for (i = 0; i < IT_MAX_DIRS; i++) {
        if (it_dirs[i] && !strcmp(it_dirs[i], dir)) {
            it_watch_send("undir", it_dirs[i]);
            free(it_dirs[i]);
            it_dirs[i] = NULL;
        }
    }
}

static int
it_wait_status(int status)
{
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

/* Waits for 'pid' until 'deadline' (time_msec()).  Returns its status as
 * it_wait_status(), or -2 on timeout, -1 on error. */
static int
it_waitpid_until(pid_t pid, uint64_t deadline)
{
    int status;

    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid) {
            return it_wait_status(status);
        }
        if (r < 0 && errno != EINTR) {
            return -1;
        }
        if (time_msec() >= deadline) {
            return -2;
        }
        usleep(5000);
    }
}

int
it_run_timeout(char **out, int timeout_ms, const char *cmd)
{
    uint64_t deadline =
        time_msec() + (timeout_ms > 0 ? timeout_ms : IT_DEFAULT_TIMEOUT_MS);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool timed_out = false;
    int fds[2] = {-1, -1};
    pid_t pid;
    int ret;

    if (!*cmd) {
        return 0;
    }
    if (out && pipe2(fds, O_CLOEXEC)) {
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        if (out) {
            close(fds[0]);
            close(fds[1]);
        }
        return -1;
    }
    if (!pid) {
        int devnull = open("/dev/null", O_RDONLY);

        setpgid(0, 0);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
        }
        if (out) {
            dup2(fds[1], STDOUT_FILENO);
        }
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    if (out) {
        close(fds[1]);
        for (;;) {
            struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
            uint64_t now = time_msec();
            ssize_t n;

            if (now >= deadline) {
                timed_out = true;
                break;
            }
            if (poll(&pfd, 1, (int)MIN(deadline - now, 1000)) <= 0) {
                continue;
            }
            if (cap - len < 4096) {
                char *nbuf;

                cap = cap ? cap * 2 : 8192;
                nbuf = realloc(buf, cap);
                if (!nbuf) {
                    timed_out = true;
                    break;
                }
                buf = nbuf;
            }
            n = read(fds[0], buf + len, cap - len - 1);
            if (n > 0) {
                len += (size_t)n;
            } else if (n == 0 || errno != EINTR) {
                break;
            }
        }
        close(fds[0]);
    }
    ret = timed_out ? -2 : it_waitpid_until(pid, deadline);
    if (ret == -2) {
        fprintf(stderr, "ithelp: command timed out, killing it: %s\n", cmd);
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
        free(buf);
        return -1;
    }
    if (out) {
        if (!buf) {
            buf = calloc(1, 1);
        } else {
            buf[len] = '\0';
        }
        *out = buf;
    }
    return ret;
}

int
it_run(char **out, const char *fmt, ...)
{
    char *cmd;
    va_list args;
    int ret;

    va_start(args, fmt);
    ret = vasprintf(&cmd, fmt, args);
    va_end(args);
    if (ret < 0) {
        return -1;
    }
    ret = it_run_timeout(out, 0, cmd);
    free(cmd);
    return ret;
}

char *
it_central(const char *fmt, ...)
{
    char *args, *out = NULL;
    va_list ap;
    size_t len;
    int ret;

    it_init();
    va_start(ap, fmt);
    ret = vasprintf(&args, fmt, ap);
    va_end(ap);
    if (ret < 0) {
        return NULL;
    }
    ret = it_run(&out, "'%s' %s", it_central_script(), args);
    if (ret) {
        fprintf(stderr, "ithelp: ovn-central.sh %s: exit status %d\n", args, ret);
        free(args);
        free(out);
        return NULL;
    }
    free(args);
    len = strlen(out);
    while (len && (out[len - 1] == '\n' || out[len - 1] == '\r')) {
        out[--len] = '\0';
    }
    return out;
}

char *
it_sbctl(const char *db, const char *fmt, ...)
{
    char *args, *out = NULL;
    va_list ap;
    int ret;

    va_start(ap, fmt);
    ret = vasprintf(&args, fmt, ap);
    va_end(ap);
    if (ret < 0) {
        return NULL;
    }
    ret = it_run(&out, "ovn-sbctl --timeout=30 --db='%s' %s", db, args);
    if (ret) {
        fprintf(stderr, "ithelp: ovn-sbctl %.200s...: exit status %d\n", args, ret);
        free(out);
        out = NULL;
    }
    free(args);
    return out;
}

pid_t
it_spawn(char *const argv[], const char *out_path)
{
    char buf[32];
    size_t i;
    pid_t pid;

    it_init();
    for (i = 0; i < IT_MAX_PROCS && it_procs[i] > 0; i++) {
        continue;
    }
    if (i == IT_MAX_PROCS) {
        fprintf(stderr, "ithelp: too many processes\n");
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (!pid) {
        int devnull = open("/dev/null", O_RDONLY);

        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
        }
        if (out_path) {
            int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

            if (fd < 0) {
                _exit(126);
            }
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    it_procs[i] = pid;
    snprintf(buf, sizeof buf, "%ld", (long)pid);
    it_watch_send("pid", buf);
    return pid;
}

static int
it_signal_number(enum it_signal sig)
{
    switch (sig) {
    case IT_SIG_TERM:
        return SIGTERM;
    case IT_SIG_KILL:
        return SIGKILL;
    case IT_SIG_INT:
        return SIGINT;
    case IT_SIG_NONE:
    default:
        return 0;
    }
}

int
it_proc_kill(pid_t pid, enum it_signal sig)
{
    int signo = it_signal_number(sig);

    if (pid <= 0) {
        return -1;
    }
    return kill(pid, signo) ? -1 : 0;
}

int
it_proc_stop(pid_t pid, enum it_signal sig, int timeout_ms)
{
    char buf[32];
    size_t i;
    int ret;

    if (sig != IT_SIG_NONE) {
        it_proc_kill(pid, sig);
    }
    ret = it_waitpid_until(pid, time_msec() + (uint64_t)timeout_ms);
    if (ret == -2) {
        kill(pid, SIGKILL);
        ret = it_waitpid_until(pid, time_msec() + 5000);
        if (ret >= 0) {
            ret = 128 + SIGKILL;
        }
    }
    for (i = 0; i < IT_MAX_PROCS; i++) {
        if (it_procs[i] == pid) {
            it_procs[i] = 0;
            snprintf(buf, sizeof buf, "%ld", (long)pid);
            it_watch_send("unpid", buf);
        }
    }
    return ret;
}

pid_t
it_pidfile_read(const char *path)
{
    char *text = it_file_read(path);
    long pid;

    if (!text) {
        return -1;
    }
    pid = strtol(text, NULL, 10);
    free(text);
    return pid > 0 ? (pid_t)pid : -1;
}

char *
it_file_read(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (!f) {
        return NULL;
    }
    for (;;) {
        if (cap - len < 4096) {
            char *nbuf;

            cap = cap ? cap * 2 : 8192;
            nbuf = realloc(buf, cap);
            if (!nbuf) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nbuf;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            break;
        }
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

bool
it_loop_until(struct poll_loop *loop, bool (*pred)(void *aux), void *aux, int timeout_ms)
{
    uint64_t deadline = time_msec() + (uint64_t)timeout_ms;

    while (!pred(aux)) {
        uint64_t now = time_msec();

        if (now >= deadline) {
            return false;
        }
        if (poll_loop_run_once(loop, (int)MIN(deadline - now, 50)) < 0) {
            usleep(1000);
        }
    }
    return true;
}

static bool
it_false(void *aux OVNIC_UNUSED)
{
    return false;
}

void
it_loop_run_for(struct poll_loop *loop, int ms)
{
    it_loop_until(loop, it_false, NULL, ms);
}

bool
it_cs_is_synced(void *aux)
{
    return ovsdb_cs_is_synced(aux);
}

int
it_fixture_setup(void **state)
{
    struct it_fixture *fx = calloc(1, sizeof *fx);

    if (!fx || poll_loop_create(&fx->loop)) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

int
it_fixture_teardown(void **state)
{
    struct it_fixture *fx = *state;

    ovsdb_cs_destroy(fx->cs);
    poll_loop_destroy(fx->loop);
    free(fx);
    return 0;
}

struct ovsdb_cs_config
it_cs_config(const char *remotes, const char *database)
{
    return (struct ovsdb_cs_config){
        .remotes = remotes,
        .database = database,
        .probe_interval_ms = 5000,
        .backoff_min_ms = 50,
        .backoff_max_ms = 500,
        .monitor_all = true,
    };
}

int
it_fixture_client_create(struct it_fixture *fx, const struct ovsdb_cs_config *cfg)
{
    struct ovnic_err err = {0};
    char msg[512];
    int error = ovsdb_cs_create(fx->loop, cfg, &fx->cs, &err);

    if (error) {
        fprintf(stderr, "ithelp: ovsdb_cs_create(%s): %s\n", cfg->remotes,
                ovnic_err_is_set(&err) ? ovnic_err_format(&err, msg, sizeof msg)
                                       : strerror(-error));
    }
    return error;
}

int
it_fixture_client_start(struct it_fixture *fx, const struct ovsdb_cs_config *cfg,
                        int timeout_ms)
{
    int error = it_fixture_client_create(fx, cfg);

    if (error) {
        return error;
    }
    if (!it_loop_until(fx->loop, it_cs_is_synced, fx->cs, timeout_ms)) {
        fprintf(stderr, "ithelp: client of %s not synchronised within %d ms\n",
                cfg->remotes, timeout_ms);
        return -ETIMEDOUT;
    }
    return 0;
}

json_t *
it_dump(const char *remote, const char *database, const char *opts)
{
    json_t *db = NULL;
    char *out = NULL, *line, *save = NULL;
    int ret;

    ret = it_run(&out, "ovsdb-client --timeout=30 %s dump -f json '%s' '%s'",
                 opts ? opts : "", remote, database);
    if (ret) {
        fprintf(stderr, "ithelp: ovsdb-client dump %s: exit status %d\n", remote, ret);
        goto out;
    }
    db = json_object();
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *t = json_loads(line, 0, &jerr);
        json_t *headings, *data, *rows, *row;
        const char *caption;
        size_t i, j, uuid_col = SIZE_MAX;
        char *name;

        if (!t) {
            fprintf(stderr, "ithelp: dump: bad JSON: %s\n", jerr.text);
            goto err;
        }
        caption = json_string_value(json_object_get(t, "caption"));
        headings = json_object_get(t, "headings");
        data = json_object_get(t, "data");
        if (!caption || !json_is_array(headings) || !json_is_array(data) ||
            !strstr(caption, " table")) {
            fprintf(stderr, "ithelp: dump: unexpected table object\n");
            json_decref(t);
            goto err;
        }
        name = strndup(caption, (size_t)(strstr(caption, " table") - caption));
        for (i = 0; i < json_array_size(headings); i++) {
            if (!strcmp(json_string_value(json_array_get(headings, i)) ?: "", "_uuid")) {
                uuid_col = i;
            }
        }
        rows = json_object();
        json_object_set_new(db, name, rows);
        free(name);
        json_array_foreach(data, i, row)
        {
            const json_t *uuid = json_array_get(row, uuid_col);
            json_t *obj = json_object();

            for (j = 0; j < json_array_size(headings); j++) {
                const char *col = json_string_value(json_array_get(headings, j));

                if (col && strcmp(col, "_uuid") && strcmp(col, "_version")) {
                    json_object_set(obj, col, json_array_get(row, j));
                }
            }
            if (!json_is_array(uuid) || !json_string_value(json_array_get(uuid, 1))) {
                fprintf(stderr, "ithelp: dump: row without _uuid\n");
                json_decref(obj);
                json_decref(t);
                goto err;
            }
            json_object_set_new(rows, json_string_value(json_array_get(uuid, 1)), obj);
        }
        json_decref(t);
    }
    goto out;

err:
    json_decref(db);
    db = NULL;
out:
    free(out);
    return db;
}

/* Datum normalisation: every datum becomes ["set", [atoms...]] or
 * ["map", [[k, v]...]] with elements sorted by their compact JSON text, and reals of
 * integral value written as integers. */
static json_t *
it_atom_normalize(const json_t *atom)
{
    if (json_is_real(atom)) {
        double d = json_real_value(atom);

        if (d == (double)(json_int_t)d) {
            return json_integer((json_int_t)d);
        }
    }
    return json_deep_copy(atom);
}

static int
it_json_text_cmp(const void *a_, const void *b_)
{
    const json_t *const *a = a_;
    const json_t *const *b = b_;
    char *sa = json_dumps(*a, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char *sb = json_dumps(*b, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    int r = strcmp(sa ? sa : "", sb ? sb : "");

    free(sa);
    free(sb);
    return r;
}

static json_t *
it_sorted_array(const char *tag, json_t *elems)
{
    size_t n = json_array_size(elems), i;
    json_t **v = calloc(n ? n : 1, sizeof *v);
    json_t *sorted = json_array();

    for (i = 0; i < n; i++) {
        v[i] = json_array_get(elems, i);
    }
    qsort(v, n, sizeof *v, it_json_text_cmp);
    for (i = 0; i < n; i++) {
        json_array_append(sorted, v[i]);
    }
    free(v);
    json_decref(elems);
    return json_pack("[so]", tag, sorted);
}

static json_t *
it_datum_normalize(const json_t *datum)
{
    const char *tag = json_string_value(json_array_get(datum, 0));
    json_t *elems = json_array();
    const json_t *e;
    size_t i;

    if (json_is_array(datum) && json_array_size(datum) == 2 && tag &&
        !strcmp(tag, "set")) {
        json_array_foreach(json_array_get(datum, 1), i, e)
        {
            json_array_append_new(elems, it_atom_normalize(e));
        }
        return it_sorted_array("set", elems);
    }
    if (json_is_array(datum) && json_array_size(datum) == 2 && tag &&
        !strcmp(tag, "map")) {
        json_array_foreach(json_array_get(datum, 1), i, e)
        {
            json_array_append_new(
                elems, json_pack("[oo]", it_atom_normalize(json_array_get(e, 0)),
                                 it_atom_normalize(json_array_get(e, 1))));
        }
        return it_sorted_array("map", elems);
    }
    json_array_append_new(elems, it_atom_normalize(datum));
    return it_sorted_array("set", elems);
}

static bool
it_datum_equal(const json_t *a, const json_t *b)
{
    json_t *na = it_datum_normalize(a);
    json_t *nb = it_datum_normalize(b);
    bool eq = json_equal(na, nb);

    json_decref(na);
    json_decref(nb);
    return eq;
}

static void
it_print_datum(const char *label, const json_t *datum)
{
    char *s = datum ? json_dumps(datum, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

    fprintf(stderr, "    %s: %s\n", label, s ? s : "(absent)");
    free(s);
}

static bool
it_row_equal(const char *what, const char *table, const char *uuid, const json_t *ra,
             const json_t *rb)
{
    const char *col;
    json_t *va;

    json_object_foreach((json_t *)ra, col, va)
    {
        const json_t *vb = json_object_get(rb, col);

        if (!vb || !it_datum_equal(va, vb)) {
            fprintf(stderr, "%s%s%s row %s column %s differs:\n", what ? what : "",
                    what ? ": " : "", table, uuid, col);
            it_print_datum("first ", va);
            it_print_datum("second", vb);
            return false;
        }
    }
    json_object_foreach((json_t *)rb, col, va)
    {
        if (!json_object_get(ra, col)) {
            fprintf(stderr, "%s%s%s row %s: column %s only in the second\n",
                    what ? what : "", what ? ": " : "", table, uuid, col);
            return false;
        }
    }
    return true;
}

bool
it_db_equal(const json_t *a, const json_t *b, const char *what)
{
    const char *pre = what ? what : "";
    const char *sep = what ? ": " : "";
    const char *table, *uuid;
    json_t *ta, *ra;

    if (!json_is_object(a) || !json_is_object(b)) {
        fprintf(stderr, "%s%snot a database object\n", pre, sep);
        return false;
    }
    json_object_foreach((json_t *)a, table, ta)
    {
        const json_t *tb = json_object_get(b, table);

        if (!tb) {
            fprintf(stderr, "%s%stable %s only in the first\n", pre, sep, table);
            return false;
        }
        json_object_foreach(ta, uuid, ra)
        {
            const json_t *rb = json_object_get(tb, uuid);

            if (!rb) {
                char *s = json_dumps(ra, JSON_COMPACT);

                fprintf(stderr, "%s%s%s row %s only in the first: %s\n", pre, sep, table,
                        uuid, s ? s : "");
                free(s);
                return false;
            }
            if (!it_row_equal(what, table, uuid, ra, rb)) {
                return false;
            }
        }
        json_object_foreach((json_t *)tb, uuid, ra)
        {
            if (!json_object_get(ta, uuid)) {
                char *s = json_dumps(ra, JSON_COMPACT);

                fprintf(stderr, "%s%s%s row %s only in the second: %s\n", pre, sep, table,
                        uuid, s ? s : "");
                free(s);
                return false;
            }
        }
    }
    json_object_foreach((json_t *)b, table, ta)
    {
        if (!json_object_get(a, table)) {
            fprintf(stderr, "%s%stable %s only in the second\n", pre, sep, table);
            return false;
        }
    }
    return true;
}

bool
it_db_same(const json_t *a, const json_t *b)
{
    const char *table, *uuid, *col;
    json_t *ta, *ra, *va;

    if (json_object_size(a) != json_object_size(b)) {
        return false;
    }
    json_object_foreach((json_t *)a, table, ta)
    {
        const json_t *tb = json_object_get(b, table);

        if (!tb || json_object_size(ta) != json_object_size(tb)) {
            return false;
        }
        json_object_foreach(ta, uuid, ra)
        {
            const json_t *rb = json_object_get(tb, uuid);

            if (!rb || json_object_size(ra) != json_object_size(rb)) {
                return false;
            }
            json_object_foreach(ra, col, va)
            {
                const json_t *vb = json_object_get(rb, col);

                if (!vb || !it_datum_equal(va, vb)) {
                    return false;
                }
            }
        }
    }
    return true;
}

struct it_replica_wait {
    struct ovsdb_cs *cs;
    const json_t *expected;
};

static bool
it_replica_matches(void *aux)
{
    struct it_replica_wait *w = aux;
    struct ovsdb_replica *replica = ovsdb_cs_replica(w->cs);
    json_t *have;
    bool eq;

    if (!replica || !ovsdb_cs_is_synced(w->cs)) {
        return false;
    }
    have = ovsdb_replica_to_json(replica);
    eq = have && it_db_same(have, w->expected);
    json_decref(have);
    return eq;
}

bool
it_wait_replica_equals(struct poll_loop *loop, struct ovsdb_cs *cs,
                       const json_t *expected, int timeout_ms)
{
    struct it_replica_wait w = {.cs = cs, .expected = expected};
    struct ovsdb_replica *replica;
    json_t *have;

    if (it_loop_until(loop, it_replica_matches, &w, timeout_ms)) {
        return true;
    }
    fprintf(stderr, "ithelp: replica (state %s) does not match the server:\n",
            ovsdb_cs_state_to_string(ovsdb_cs_state(cs)));
    replica = ovsdb_cs_replica(cs);
    have = replica ? ovsdb_replica_to_json(replica) : NULL;
    if (have) {
        it_db_equal(have, expected, "replica vs server");
    }
    json_decref(have);
    return false;
}

json_t *
it_wait_replica_matches_server(struct poll_loop *loop, struct ovsdb_cs *cs,
                               const char *remote, const char *opts, int timeout_ms)
{
    uint64_t deadline = time_msec() + (uint64_t)timeout_ms;
    const char *database = "OVN_Southbound";

    for (;;) {
        struct it_replica_wait w = {.cs = cs};
        uint64_t now = time_msec();
        json_t *dump = it_dump(remote, database, opts);

        if (!dump) {
            return NULL;
        }
        w.expected = dump;
        if (it_loop_until(loop, it_replica_matches, &w,
                          (int)MIN(1000, deadline > now ? deadline - now : 0))) {
            return dump;
        }
        if (time_msec() >= deadline) {
            struct ovsdb_replica *replica = ovsdb_cs_replica(cs);
            json_t *have = replica ? ovsdb_replica_to_json(replica) : NULL;

            fprintf(stderr, "ithelp: replica (state %s) does not match %s:\n",
                    ovsdb_cs_state_to_string(ovsdb_cs_state(cs)), remote);
            if (have) {
                it_db_equal(have, dump, "replica vs server");
            }
            json_decref(have);
            json_decref(dump);
            return NULL;
        }
        json_decref(dump);
    }
}

const json_t *
it_db_get(const json_t *db, const char *table, const char *uuid, const char *column)
{
    return json_object_get(json_object_get(json_object_get(db, table), uuid), column);
}

size_t
it_db_count(const json_t *db, const char *table)
{
    return json_object_size(json_object_get(db, table));
}
