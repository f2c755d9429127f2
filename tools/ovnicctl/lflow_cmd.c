/* ovnicctl: "lflow-check" (see lflow_cmd.h). */
#include "lflow_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/controller/lflow.h"
#include "dpu/controller/symtab.h"
#include "dpu/ovsdb/cs.h"
#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "shared/util/poll.h"
#include "shared/util/tls.h"
#include "shared/util/util.h"
#include "shared/util/uuid.h"
#include "sig.h"

#define LFLOW_CHECK_PATH "lflow-check"
#define LFLOW_CHECK_TIMEOUT_S 10.0
#define LFLOW_CHECK_PROBE_MS 10000

struct lflow_check_opts {
    const char *db;
    bool json;
    double timeout_s;
    bool leader_only;
    struct tls_config tls;
};

/* Counts of one pipeline stage. */
struct stage_count {
    const char *pipeline; /* Static. */
    int table_id;
    char stage[LFLOW_STAGE_LEN];
    uint64_t total;
    uint64_t parsed;
    uint64_t failed;
};

/* One row that failed. */
struct failure {
    struct lflow_error error;
    char *match;
    char *actions;
};

struct lflow_check {
    struct stage_count *stages;
    size_t n_stages;
    struct failure *failures;
    size_t n_failures;
    struct lflow_parse_stats stats;
};

enum {
    OPT_DB = 256,
    OPT_FORMAT,
    OPT_TIMEOUT,
    OPT_CA_CERT,
    OPT_CERTIFICATE,
    OPT_PRIVATE_KEY,
    OPT_PEER_NAME,
    OPT_LEADER_ONLY,
};

static const struct option lflow_check_long_options[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"ca-cert", required_argument, NULL, OPT_CA_CERT},
    {"certificate", required_argument, NULL, OPT_CERTIFICATE},
    {"private-key", required_argument, NULL, OPT_PRIVATE_KEY},
    {"peer-name", required_argument, NULL, OPT_PEER_NAME},
    {"leader-only", no_argument, NULL, OPT_LEADER_ONLY},
    {NULL, 0, NULL, 0},
};

/* Checks one remote of a comma-separated list; sets '*ssl' for ssl: ones. */
static bool
remote_is_valid(const char *item, size_t len, bool *ssl)
{
    char buf[1024];
    const char *colon;

    if (len >= sizeof buf) {
        return false;
    }
    memcpy(buf, item, len);
    buf[len] = '\0';
    if (!strncmp(buf, "unix:", 5)) {
        return buf[5] != '\0';
    }
    if (strncmp(buf, "tcp:", 4) && strncmp(buf, "ssl:", 4)) {
        return false;
    }
    *ssl |= buf[0] == 's';
    colon = strrchr(buf + 4, ':');
    if (!colon || colon == buf + 4 || !colon[1] ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
        return false;
    }
    long port = strtol(colon + 1, NULL, 10);
    return port >= 1 && port <= 65535;
}

/* Returns -1 on success, or an exit status. */
static int
lflow_check_opts_parse(struct lflow_check_opts *opts, int argc, char *argv[])
{
    int c;

    opts->timeout_s = LFLOW_CHECK_TIMEOUT_S;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":", lflow_check_long_options, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            opts->db = optarg;
            break;
        case OPT_FORMAT:
            if (!strcmp(optarg, "json") || !strcmp(optarg, "table")) {
                opts->json = !strcmp(optarg, "json");
            } else {
                return ovnicctl_usage_error(
                    LFLOW_CHECK_PATH, "unknown format '%s' (use table or json)", optarg);
            }
            break;
        case OPT_TIMEOUT: {
            char *end;
            errno = 0;
            opts->timeout_s = strtod(optarg, &end);
            if (errno || end == optarg || *end || !isfinite(opts->timeout_s) ||
                opts->timeout_s < 0 || opts->timeout_s > 86400.0 * 365) {
                return ovnicctl_usage_error(LFLOW_CHECK_PATH,
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
            return ovnicctl_usage_error(LFLOW_CHECK_PATH, "option '%s' needs a value",
                                        argv[optind - 1]);
        case '?':
        default:
            return ovnicctl_usage_error(LFLOW_CHECK_PATH, "unknown option '%s'",
                                        argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return ovnicctl_usage_error(LFLOW_CHECK_PATH, "unexpected argument '%s'",
                                    argv[optind]);
    }
    if (!opts->db) {
        return ovnicctl_usage_error(LFLOW_CHECK_PATH, "--db=REMOTE is required");
    }
    bool ssl = false;
    for (const char *p = opts->db;;) {
        size_t len = strcspn(p, ",");
        if (!remote_is_valid(p, len, &ssl)) {
            return ovnicctl_usage_error(LFLOW_CHECK_PATH,
                                        "bad remote '%.*s' (use unix:PATH, tcp:IP:PORT"
                                        " or ssl:IP:PORT)",
                                        (int)len, p);
        }
        if (!p[len]) {
            break;
        }
        p += len + 1;
    }
    if (ssl && (!opts->tls.ca_file || !opts->tls.cert_file || !opts->tls.key_file)) {
        return ovnicctl_usage_error(LFLOW_CHECK_PATH,
                                    "ssl: remotes need --ca-cert, --certificate and"
                                    " --private-key");
    }
    return -1;
}

/* ---- Synchronising ---- */

struct sync_run {
    struct poll_loop *loop;
    struct ovsdb_cs *cs;
    int sig_fd;
    bool interrupted;
};

static void
sync_on_signal(struct poll_loop *loop OVNIC_UNUSED, int fd, uint32_t events OVNIC_UNUSED,
               void *aux)
{
    struct sync_run *run = aux;

    if (ovnicctl_signals_read(fd) > 0) {
        run->interrupted = true;
    }
}

static void
sync_close(struct sync_run *run)
{
    ovsdb_cs_destroy(run->cs);
    if (run->sig_fd >= 0 && run->loop) {
        poll_loop_fd_remove(run->loop, run->sig_fd);
    }
    ovnicctl_signals_close(run->sig_fd);
    poll_loop_destroy(run->loop);
}

/* Connects and waits until the SB tables the parser needs are synchronised.
 * Returns -1 when synchronised, else an exit status (after closing 'run'). */
static int
sync_open(struct sync_run *run, const struct lflow_check_opts *opts)
{
    static const char *const tables[] = {"Logical_Flow",     "Logical_DP_Group",
                                         "Datapath_Binding", "Address_Set",
                                         "Port_Group",       NULL};
    struct ovsdb_cs_config cfg = {
        .remotes = opts->db,
        .database = "OVN_Southbound",
        .tls = opts->tls.ca_file ? &opts->tls : NULL,
        .probe_interval_ms = LFLOW_CHECK_PROBE_MS,
        .leader_only = opts->leader_only,
        .monitor_all = true,
    };
    struct ovnic_err err = {0};
    char buf[512];
    int error;

    memset(run, 0, sizeof *run);
    run->sig_fd = -1;
    error = poll_loop_create(&run->loop);
    if (error) {
        return ovnicctl_error("cannot create a poll loop: %s", strerror(-error));
    }
    run->sig_fd = ovnicctl_signals_open();
    if (run->sig_fd < 0 ||
        poll_loop_fd_add(run->loop, run->sig_fd, OVNIC_POLL_IN, sync_on_signal, run)) {
        sync_close(run);
        return ovnicctl_error("cannot watch signals");
    }
    error = ovsdb_cs_create(run->loop, &cfg, &run->cs, &err);
    if (error) {
        sync_close(run);
        return ovnicctl_error("%s: %s", opts->db,
                              ovnic_err_is_set(&err)
                                  ? ovnic_err_format(&err, buf, sizeof buf)
                                  : strerror(-error));
    }
    error = ovsdb_cs_set_tables(run->cs, tables);
    if (error) {
        sync_close(run);
        return ovnicctl_error("%s", strerror(-error));
    }

    uint64_t deadline = opts->timeout_s > 0
                            ? time_msec() + (uint64_t)(opts->timeout_s * 1000.0)
                            : UINT64_MAX;
    while (!ovsdb_cs_is_synced(run->cs)) {
        uint64_t now = time_msec();
        if (run->interrupted) {
            sync_close(run);
            return OVNICCTL_EXIT_FAILURE;
        }
        if (now >= deadline) {
            struct ovsdb_cs_stats stats;
            ovsdb_cs_get_stats(run->cs, &stats);
            ovnicctl_error("%s: not synchronised within %gs (state %s%s)", opts->db,
                           opts->timeout_s,
                           ovsdb_cs_state_to_string(ovsdb_cs_state(run->cs)),
                           stats.errors ? ", connections failed" : "");
            sync_close(run);
            return OVNICCTL_EXIT_FAILURE;
        }
        int wait_ms = deadline == UINT64_MAX ? 1000 : (int)MIN(deadline - now, 1000);
        if (poll_loop_run_once(run->loop, wait_ms) < 0) {
            sync_close(run);
            return ovnicctl_error("poll loop failed");
        }
    }
    return -1;
}

/* ---- Checking ---- */

static struct stage_count *
stage_find(struct lflow_check *check, const char *pipeline, int table_id,
           const char *stage)
{
    for (size_t i = 0; i < check->n_stages; i++) {
        struct stage_count *s = &check->stages[i];
        if (!strcmp(s->pipeline, pipeline) && s->table_id == table_id &&
            !strcmp(s->stage, stage)) {
            return s;
        }
    }
    struct stage_count *s =
        realloc(check->stages, (check->n_stages + 1) * sizeof *check->stages);
    if (!s) {
        return NULL;
    }
    check->stages = s;
    s = &s[check->n_stages++];
    memset(s, 0, sizeof *s);
    s->pipeline = pipeline;
    s->table_id = table_id;
    snprintf(s->stage, sizeof s->stage, "%s", stage);
    return s;
}

static int
stage_cmp(const void *a_, const void *b_)
{
    const struct stage_count *a = a_;
    const struct stage_count *b = b_;
    int c = strcmp(a->pipeline, b->pipeline);

    if (c) {
        /* Ingress first. */
        return -c;
    }
    c = strncmp(a->stage, b->stage, 3);
    if (c) {
        return c;
    }
    if (a->table_id != b->table_id) {
        return a->table_id < b->table_id ? -1 : 1;
    }
    return strcmp(a->stage, b->stage);
}

static int
failure_cmp(const void *a_, const void *b_)
{
    const struct failure *a = a_;
    const struct failure *b = b_;
    return uuid_compare(&a->error.uuid, &b->error.uuid);
}

static void
check_destroy(struct lflow_check *check)
{
    for (size_t i = 0; i < check->n_failures; i++) {
        free(check->failures[i].match);
        free(check->failures[i].actions);
    }
    free(check->failures);
    free(check->stages);
}

/* Parses every Logical_Flow row of 'replica'.  Returns 0 or -ENOMEM. */
static int
check_run(struct lflow_check *check, const struct symtab *symtab,
          const struct ovsdb_replica *replica)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Logical_Flow");
    const struct ovsdb_row *row;

    if (!t) {
        return -ENOENT;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        struct lflow_parsed *parsed = NULL;
        struct lflow_error error;
        int rc = lflow_parse_row(symtab, replica, row, &parsed, &error, &check->stats);
        lflow_parsed_destroy(parsed);

        const char *pipeline =
            ovsdb_datum_get_string(ovsdb_row_get(row, "pipeline"), "ingress");
        struct stage_count *s =
            stage_find(check, !strcmp(pipeline, "egress") ? "egress" : "ingress",
                       (int)ovsdb_datum_get_int(ovsdb_row_get(row, "table_id"), 0),
                       ovsdb_datum_map_get_string(ovsdb_row_get(row, "external_ids"),
                                                  "stage-name", ""));
        if (!s) {
            return -ENOMEM;
        }
        s->total++;
        if (!rc) {
            s->parsed++;
            continue;
        }
        s->failed++;
        struct failure *f = realloc(check->failures, (check->n_failures + 1) * sizeof *f);
        if (!f) {
            return -ENOMEM;
        }
        check->failures = f;
        f = &f[check->n_failures++];
        f->error = error;
        f->match = strdup(ovsdb_datum_get_string(ovsdb_row_get(row, "match"), ""));
        f->actions = strdup(ovsdb_datum_get_string(ovsdb_row_get(row, "actions"), ""));
        if (!f->match || !f->actions) {
            return -ENOMEM;
        }
    }
    if (check->n_stages) {
        qsort(check->stages, check->n_stages, sizeof *check->stages, stage_cmp);
    }
    if (check->n_failures) {
        qsort(check->failures, check->n_failures, sizeof *check->failures, failure_cmp);
    }
    return 0;
}

static void
print_table(const struct lflow_check *check)
{
    char reason[OVNIC_ERR_DETAIL_LEN + 64];
    char uuid[UUID_LEN + 1];

    printf("%-8s %5s  %-32s %7s %7s %7s\n", "PIPELINE", "TABLE", "STAGE", "TOTAL",
           "PARSED", "FAILED");
    for (size_t i = 0; i < check->n_stages; i++) {
        const struct stage_count *s = &check->stages[i];
        printf("%-8s %5d  %-32s %7llu %7llu %7llu\n", s->pipeline, s->table_id,
               s->stage[0] ? s->stage : "-", (unsigned long long)s->total,
               (unsigned long long)s->parsed, (unsigned long long)s->failed);
    }
    printf("total %llu, parsed %llu, failed %llu\n",
           (unsigned long long)(check->stats.parsed + check->stats.failed),
           (unsigned long long)check->stats.parsed,
           (unsigned long long)check->stats.failed);
    for (size_t i = 0; i < check->n_failures; i++) {
        const struct failure *f = &check->failures[i];
        printf("\nFAILED %s %s table %d (%s), %s: %s\n  match:   %s\n  actions: %s\n",
               uuid_to_string(&f->error.uuid, uuid), f->error.pipeline, f->error.table_id,
               f->error.stage[0] ? f->error.stage : "-", f->error.part,
               lflow_error_reason(&f->error, reason, sizeof reason), f->match,
               f->actions);
    }
}

static json_t *
check_to_json(const struct lflow_check *check)
{
    char reason[OVNIC_ERR_DETAIL_LEN + 64];
    char uuid[UUID_LEN + 1];
    json_t *stages = json_array();
    json_t *failures = json_array();

    for (size_t i = 0; i < check->n_stages; i++) {
        const struct stage_count *s = &check->stages[i];
        json_array_append_new(
            stages,
            json_pack("{s:s, s:i, s:s, s:I, s:I, s:I}", "pipeline", s->pipeline, "table",
                      s->table_id, "stage", s->stage, "total", (json_int_t)s->total,
                      "parsed", (json_int_t)s->parsed, "failed", (json_int_t)s->failed));
    }
    for (size_t i = 0; i < check->n_failures; i++) {
        const struct failure *f = &check->failures[i];
        json_array_append_new(
            failures,
            json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "uuid",
                      uuid_to_string(&f->error.uuid, uuid), "pipeline", f->error.pipeline,
                      "table", f->error.table_id, "stage", f->error.stage, "part",
                      f->error.part, "match", f->match, "actions", f->actions, "reason",
                      lflow_error_reason(&f->error, reason, sizeof reason)));
    }
    return json_pack("{s:I, s:I, s:I, s:o, s:o}", "total",
                     (json_int_t)(check->stats.parsed + check->stats.failed), "parsed",
                     (json_int_t)check->stats.parsed, "failed",
                     (json_int_t)check->stats.failed, "stages", stages, "failures",
                     failures);
}

static int
lflow_check_run(int argc, char *argv[])
{
    struct lflow_check_opts opts = {0};
    struct lflow_check check = {0};
    struct symtab *symtab = NULL;
    struct sync_run run;
    int status = lflow_check_opts_parse(&opts, argc, argv);

    if (status >= 0) {
        return status;
    }
    status = sync_open(&run, &opts);
    if (status >= 0) {
        return status;
    }
    int error = symtab_create(&symtab);
    if (!error) {
        error = check_run(&check, symtab, ovsdb_cs_replica(run.cs));
    }
    if (error) {
        status = ovnicctl_error("checking logical flows: %s", strerror(-error));
    } else if (opts.json) {
        json_t *json = check_to_json(&check);
        if (!json || json_dumpf(json, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) {
            status = ovnicctl_error("writing output failed");
        } else {
            fputc('\n', stdout);
        }
        json_decref(json);
    } else {
        print_table(&check);
    }
    if (status < 0) {
        status = check.stats.failed ? OVNICCTL_EXIT_FAILURE : OVNICCTL_EXIT_OK;
    }
    if (fflush(stdout) || ferror(stdout)) {
        status = OVNICCTL_EXIT_FAILURE;
    }
    check_destroy(&check);
    symtab_destroy(symtab);
    sync_close(&run);
    return status;
}

const struct ovnicctl_command ovnicctl_lflow_check_command = {
    .name = "lflow-check",
    .summary = "parse every SB logical flow with ovnic's parsers",
    .help =
        "Usage: ovnicctl lflow-check --db=REMOTE [OPTIONS]\n"
        "\n"
        "Synchronises the Logical_Flow, Logical_DP_Group, Datapath_Binding,\n"
        "Address_Set and Port_Group tables of an OVN Southbound database, parses\n"
        "the match and actions of every logical flow as ovnic-dpud would, and\n"
        "prints how many flows of each pipeline stage parsed, then each flow that\n"
        "did not (uuid, stage, match, actions, reason).\n"
        "\n"
        "table format: one line per stage: PIPELINE TABLE STAGE TOTAL PARSED FAILED,\n"
        "a total line, then one paragraph per failed flow.\n"
        "json format: {\"total\": N, \"parsed\": N, \"failed\": N, \"stages\": "
        "[{\"pipeline\",\n"
        "\"table\", \"stage\", \"total\", \"parsed\", \"failed\"}...], \"failures\": "
        "[{\"uuid\",\n"
        "\"pipeline\", \"table\", \"stage\", \"part\", \"match\", \"actions\", "
        "\"reason\"}...]}\n"
        "\n"
        "Options:\n"
        "  --db=REMOTE           server(s): unix:PATH, tcp:IP:PORT or ssl:IP:PORT, or a\n"
        "                        comma-separated list of cluster members (required)\n"
        "  --format=table|json   output format (default: table)\n"
        "  --timeout=SECS        give up if not synchronised within SECS (default: 10;\n"
        "                        0: wait forever)\n"
        "  --leader-only         only accept a cluster's leader (default: any member)\n"
        "  --ca-cert=FILE        CA certificate to verify the server (ssl:)\n"
        "  --certificate=FILE    client certificate (ssl:)\n"
        "  --private-key=FILE    private key of the client certificate (ssl:)\n"
        "  --peer-name=NAME      require the server certificate's CN or DNS name NAME\n"
        "  -h, --help            show this help\n"
        "\n"
        "Exit status: 0 if every flow parsed, 1 if any failed (or on failure to\n"
        "synchronise or write), 2 on a usage error.\n",
    .run = lflow_check_run,
};
