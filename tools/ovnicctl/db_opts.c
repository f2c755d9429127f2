/* ovnicctl: options and session shared by the database commands (see db_opts.h). */
#include "db_opts.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/ovsdb/cs.h"
#include "ovnicctl.h"
#include "shared/util/err.h"
#include "shared/util/poll.h"
#include "shared/util/stream.h"
#include "shared/util/util.h"
#include "sig.h"

#define PROBE_INTERVAL_MS 10000

/* ---- Options ---- */

enum {
    OPT_DB = 256,
    OPT_DATABASE,
    OPT_FORMAT,
    OPT_TIMEOUT,
    OPT_CA_CERT,
    OPT_CERTIFICATE,
    OPT_PRIVATE_KEY,
    OPT_PEER_NAME,
    OPT_LEADER_ONLY,
    OPT_FLAG, /* OPT_FLAG + i: opts->flags[i]. */
};

static const struct option common_options[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"ca-cert", required_argument, NULL, OPT_CA_CERT},
    {"certificate", required_argument, NULL, OPT_CERTIFICATE},
    {"private-key", required_argument, NULL, OPT_PRIVATE_KEY},
    {"peer-name", required_argument, NULL, OPT_PEER_NAME},
    {"leader-only", no_argument, NULL, OPT_LEADER_ONLY},
};

/* Fills 'options' (room for 3 + ARRAY_SIZE(common_options) + OVNICCTL_DB_MAX_FLAGS)
 * with what 'opts' accepts; getopt_long() matches abbreviations against the set. */
static void
options_build(const struct ovnicctl_db_opts *opts, struct option *options)
{
    static const struct option db = {"db", required_argument, NULL, OPT_DB};
    static const struct option database = {"database", required_argument, NULL,
                                           OPT_DATABASE};
    size_t n = 0, i;

    options[n++] = db;
    if (opts->with_database) {
        options[n++] = database;
    }
    for (i = 0; i < ARRAY_SIZE(common_options); i++) {
        options[n++] = common_options[i];
    }
    for (i = 0; opts->flags && opts->flags[i].name; i++) {
        assert(i < OVNICCTL_DB_MAX_FLAGS);
        options[n++] =
            (struct option){opts->flags[i].name, no_argument, NULL, OPT_FLAG + (int)i};
    }
    options[n] = (struct option){NULL, 0, NULL, 0};
}

/* Checks the option values once every option is known. */
static int
opts_check(const struct ovnicctl_db_opts *opts)
{
    struct ovnic_err err = {0};
    bool ssl = false;

    if (!opts->db) {
        return ovnicctl_usage_error(opts->path, "--db=REMOTE is required");
    }
    if (stream_remote_list_check(opts->db, &ssl, &err)) {
        return ovnicctl_usage_error(opts->path,
                                    "--db: %s%s%s (use unix:PATH, tcp:IP:PORT or "
                                    "ssl:IP:PORT, comma-separated)",
                                    err.message ? err.message : "bad remote",
                                    err.detail[0] ? " " : "", err.detail);
    }
    if (ssl && (!opts->tls.ca_file || !opts->tls.cert_file || !opts->tls.key_file)) {
        return ovnicctl_usage_error(opts->path,
                                    "ssl: remotes need --ca-cert, --certificate and"
                                    " --private-key");
    }
    return -1;
}

int
ovnicctl_db_opts_parse(struct ovnicctl_db_opts *opts, int argc, char *argv[])
{
    struct option options[3 + ARRAY_SIZE(common_options) + OVNICCTL_DB_MAX_FLAGS];
    int c;

    opts->database = OVNICCTL_DB_DEFAULT_DATABASE;
    opts->format = OVNICCTL_FORMAT_TABLE;
    opts->timeout_s = OVNICCTL_DB_DEFAULT_TIMEOUT_S;
    options_build(opts, options);
    opterr = 0;
    optind = 0; /* Full reinitialisation of glibc's getopt. */
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            opts->db = optarg;
            break;
        case OPT_DATABASE:
            if (!*optarg) {
                return ovnicctl_usage_error(opts->path, "--database needs a name");
            }
            opts->database = optarg;
            break;
        case OPT_FORMAT:
            if (ovnicctl_format_parse(opts->path, optarg, &opts->format) >= 0) {
                return OVNICCTL_EXIT_USAGE;
            }
            break;
        case OPT_TIMEOUT: {
            char *end;

            errno = 0;
            opts->timeout_s = strtod(optarg, &end);
            if (errno || end == optarg || *end || !isfinite(opts->timeout_s) ||
                opts->timeout_s < 0 || opts->timeout_s > 86400.0 * 365) {
                return ovnicctl_usage_error(opts->path,
                                            "--timeout needs a number of seconds >= 0,"
                                            " not '%s'",
                                            optarg);
            }
            break;
        }
        case OPT_CA_CERT:
            opts->tls.ca_file = optarg;
            break;
        case OPT_CERTIFICATE:
            opts->tls.cert_file = optarg;
            break;
        case OPT_PRIVATE_KEY:
            opts->tls.key_file = optarg;
            break;
        case OPT_PEER_NAME:
            opts->tls.peer_name = optarg;
            break;
        case OPT_LEADER_ONLY:
            opts->leader_only = true;
            break;
        case ':':
            return ovnicctl_usage_error(opts->path, "option '%s' needs a value",
                                        argv[optind - 1]);
        case '?':
            return ovnicctl_usage_error(opts->path, "unknown option '%s'",
                                        argv[optind - 1]);
        default:
            if (c >= OPT_FLAG && c < OPT_FLAG + OVNICCTL_DB_MAX_FLAGS) {
                *opts->flags[c - OPT_FLAG].value = true;
                break;
            }
            return ovnicctl_usage_error(opts->path, "unknown option '%s'",
                                        argv[optind - 1]);
        }
    }
    if (!opts->with_args && optind < argc) {
        return ovnicctl_usage_error(opts->path, "unexpected argument '%s'", argv[optind]);
    }
    opts->first_arg = optind;
    return opts_check(opts);
}

/* ---- Session ---- */

static void
session_on_signal(struct poll_loop *loop OVNIC_UNUSED, int fd,
                  uint32_t events OVNIC_UNUSED, void *aux)
{
    struct ovnicctl_db_session *s = aux;

    if (ovnicctl_signals_read(fd) > 0) {
        s->done = true;
        s->status = s->signal_status;
    }
}

void
ovnicctl_db_session_close(struct ovnicctl_db_session *s)
{
    ovsdb_cs_destroy(s->cs);
    if (s->sig_fd >= 0 && s->loop) {
        poll_loop_fd_remove(s->loop, s->sig_fd);
    }
    ovnicctl_signals_close(s->sig_fd);
    poll_loop_destroy(s->loop);
    memset(s, 0, sizeof *s);
    s->sig_fd = -1;
}

int
ovnicctl_db_session_open(struct ovnicctl_db_session *s,
                         const struct ovnicctl_db_opts *opts, const char *const *tables,
                         int signal_status)
{
    struct ovsdb_cs_config cfg = {
        .remotes = opts->db,
        .database = opts->database,
        .tls = opts->tls.ca_file ? &opts->tls : NULL,
        .probe_interval_ms = PROBE_INTERVAL_MS,
        .leader_only = opts->leader_only,
        .monitor_all = true,
    };
    struct ovnic_err err = {0};
    char buf[512];
    int error;

    memset(s, 0, sizeof *s);
    s->opts = opts;
    s->sig_fd = -1;
    s->signal_status = signal_status;
    error = poll_loop_create(&s->loop);
    if (error) {
        return ovnicctl_error("cannot create a poll loop: %s", strerror(-error));
    }
    s->sig_fd = ovnicctl_signals_open();
    if (s->sig_fd < 0) {
        error = s->sig_fd;
        ovnicctl_db_session_close(s);
        return ovnicctl_error("cannot watch signals: %s", strerror(-error));
    }
    error = poll_loop_fd_add(s->loop, s->sig_fd, OVNIC_POLL_IN, session_on_signal, s);
    if (error) {
        ovnicctl_db_session_close(s);
        return ovnicctl_error("cannot watch signals: %s", strerror(-error));
    }
    error = ovsdb_cs_create(s->loop, &cfg, &s->cs, &err);
    if (error) {
        ovnicctl_db_session_close(s);
        if (error == -EINVAL) {
            return ovnicctl_usage_error(opts->path, "%s",
                                        ovnic_err_is_set(&err)
                                            ? ovnic_err_format(&err, buf, sizeof buf)
                                            : "invalid configuration");
        }
        return ovnicctl_error("%s: %s", opts->db,
                              ovnic_err_is_set(&err)
                                  ? ovnic_err_format(&err, buf, sizeof buf)
                                  : strerror(-error));
    }
    if (tables) {
        error = ovsdb_cs_set_tables(s->cs, tables);
        if (error) {
            ovnicctl_db_session_close(s);
            return ovnicctl_error("%s", strerror(-error));
        }
    }
    return -1;
}

void
ovnicctl_db_session_finish(struct ovnicctl_db_session *s, int status)
{
    if (!s->done) {
        s->done = true;
        s->status = status;
    }
}

/* Says why 's' is not synchronised once its time is up. */
static void
session_report_timeout(const struct ovnicctl_db_session *s)
{
    const struct ovnicctl_db_opts *opts = s->opts;
    enum ovsdb_cs_state state = ovsdb_cs_state(s->cs);
    struct ovsdb_cs_stats stats;

    ovsdb_cs_get_stats(s->cs, &stats);
    if (stats.errors) {
        ovnicctl_error("%s: not synchronised within %gs: %llu failed connection%s"
                       " (TLS or protocol errors; see the log above)",
                       opts->db, opts->timeout_s, (unsigned long long)stats.errors,
                       stats.errors == 1 ? "" : "s");
    } else if (!stats.connects) {
        ovnicctl_error("%s: could not connect within %gs (state %s)", opts->db,
                       opts->timeout_s, ovsdb_cs_state_to_string(state));
    } else if (!ovsdb_cs_replica(s->cs)) {
        ovnicctl_error("%s: no schema for database %s within %gs (does the server"
                       " have it?)",
                       opts->db, opts->database, opts->timeout_s);
    } else {
        ovnicctl_error("%s: not synchronised within %gs (state %s)", opts->db,
                       opts->timeout_s, ovsdb_cs_state_to_string(state));
    }
}

bool
ovnicctl_db_session_wait_synced(struct ovnicctl_db_session *s)
{
    uint64_t deadline = s->opts->timeout_s > 0
                            ? time_msec() + (uint64_t)(s->opts->timeout_s * 1000.0)
                            : UINT64_MAX;

    for (;;) {
        uint64_t now;
        int wait_ms;

        if (s->check) {
            s->check(s);
        }
        if (s->done) {
            return false;
        }
        if (ovsdb_cs_is_synced(s->cs)) {
            return true;
        }
        now = time_msec();
        if (now >= deadline) {
            session_report_timeout(s);
            ovnicctl_db_session_finish(s, OVNICCTL_EXIT_FAILURE);
            return false;
        }
        wait_ms = deadline == UINT64_MAX ? 1000 : (int)MIN(deadline - now, 1000);
        if (poll_loop_run_once(s->loop, wait_ms) < 0) {
            ovnicctl_error("poll loop failed");
            ovnicctl_db_session_finish(s, OVNICCTL_EXIT_FAILURE);
            return false;
        }
    }
}
