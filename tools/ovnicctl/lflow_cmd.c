/* ovnicctl: "lflow-check" (see lflow_cmd.h). */
#include "lflow_cmd.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_opts.h"
#include "dpu/controller/lflow.h"
#include "dpu/controller/symtab.h"
#include "dpu/ovsdb/cs.h"
#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "shared/util/util.h"
#include "shared/util/uuid.h"

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
    /* The SB tables the parser needs. */
    static const char *const tables[] = {"Logical_Flow",     "Logical_DP_Group",
                                         "Datapath_Binding", "Address_Set",
                                         "Port_Group",       NULL};
    struct ovnicctl_db_opts opts = {.path = "lflow-check"};
    struct lflow_check check = {0};
    struct symtab *symtab = NULL;
    struct ovnicctl_db_session session;
    int status = ovnicctl_db_opts_parse(&opts, argc, argv);

    if (status >= 0) {
        return status;
    }
    status = ovnicctl_db_session_open(&session, &opts, tables, OVNICCTL_EXIT_FAILURE);
    if (status >= 0) {
        return status;
    }
    if (!ovnicctl_db_session_wait_synced(&session)) {
        status = session.status;
        ovnicctl_db_session_close(&session);
        return status;
    }
    int error = symtab_create(&symtab);
    if (!error) {
        error = check_run(&check, symtab, ovsdb_cs_replica(session.cs));
    }
    if (error) {
        status = ovnicctl_error("checking logical flows: %s", strerror(-error));
    } else if (opts.format == OVNICCTL_FORMAT_JSON) {
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
    ovnicctl_db_session_close(&session);
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
        "Options:\n" OVNICCTL_DB_HELP_DB OVNICCTL_DB_HELP_COMMON "\n"
        "Exit status: 0 if every flow parsed, 1 if any failed (or on failure to\n"
        "synchronise or write), 2 on a usage error.\n",
    .run = lflow_check_run,
};
