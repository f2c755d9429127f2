/* ovnicctl: "ovsdb monitor" and "ovsdb dump" (see ovsdb_cmd.h). */
#include "ovsdb_cmd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db_opts.h"
#include "dpu/ovsdb/cs.h"
#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "ovnicctl.h"
#include "shared/util/poll.h"
#include "shared/util/util.h"
#include "shared/util/uuid.h"

struct ovsdb_opts {
    struct ovnicctl_db_opts common; /* 'common.path': "ovsdb monitor" or "ovsdb dump". */
    bool no_initial;                /* monitor: skip the initial contents. */
    const char **tables;            /* NULL-terminated, or NULL for every table. */
};

/* One run of a command: the client session and what the command adds to it. */
struct ovsdb_run {
    struct ovnicctl_db_session session;
    const struct ovsdb_opts *opts;
    bool synced_once; /* monitor: the initial contents have been printed. */
    bool tables_checked;
};

/* ---- Values as text ---- */

static bool
string_needs_quotes(const char *s)
{
    const char *p;
    char *end;

    if (!*s || !strcmp(s, "true") || !strcmp(s, "false")) {
        return true;
    }
    for (p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || strchr("_.:/@+-", *p))) {
            return true;
        }
    }
    /* Something that would read back as a number. */
    errno = 0;
    strtod(s, &end);
    return !*end;
}

static int
atom_print(FILE *stream, const json_t *atom)
{
    if (json_is_string(atom)) {
        const char *s = json_string_value(atom);

        if (string_needs_quotes(s)) {
            return json_dumpf(atom, stream, JSON_ENCODE_ANY) ? -EIO : 0;
        }
        return fputs(s, stream) < 0 ? -EIO : 0;
    }
    if (json_is_array(atom) && json_array_size(atom) == 2 &&
        json_is_string(json_array_get(atom, 1))) {
        /* ["uuid", "..."] or ["named-uuid", "..."]. */
        return fputs(json_string_value(json_array_get(atom, 1)), stream) < 0 ? -EIO : 0;
    }
    return json_dumpf(atom, stream, JSON_ENCODE_ANY) ? -EIO : 0;
}

int
ovnicctl_datum_print(FILE *stream, const json_t *datum)
{
    const char *tag = json_string_value(json_array_get(datum, 0));
    const json_t *elem;
    size_t i;
    int error = 0;

    if (tag && !strcmp(tag, "set") && json_is_array(json_array_get(datum, 1))) {
        fputc('[', stream);
        json_array_foreach(json_array_get(datum, 1), i, elem)
        {
            if (i) {
                fputs(", ", stream);
            }
            error = error ? error : atom_print(stream, elem);
        }
        fputc(']', stream);
    } else if (tag && !strcmp(tag, "map") && json_is_array(json_array_get(datum, 1))) {
        fputc('{', stream);
        json_array_foreach(json_array_get(datum, 1), i, elem)
        {
            if (i) {
                fputs(", ", stream);
            }
            error = error ? error : atom_print(stream, json_array_get(elem, 0));
            fputc('=', stream);
            error = error ? error : atom_print(stream, json_array_get(elem, 1));
        }
        fputc('}', stream);
    } else {
        error = atom_print(stream, datum);
    }
    return error ? error : ferror(stream) ? -EIO : 0;
}

/* ---- Options ---- */

/* Parses the options of an ovsdb command.  On success, 'opts->tables' is allocated
 * (free()) when tables were named.  Returns -1 on success, or an exit status. */
static int
ovsdb_opts_parse(struct ovsdb_opts *opts, bool is_monitor, int argc, char *argv[])
{
    const struct ovnicctl_db_flag monitor_flags[] = {
        {"no-initial", &opts->no_initial},
        {NULL, NULL},
    };
    int status, i, n;

    opts->common.with_database = true;
    opts->common.with_args = true;
    opts->common.flags = is_monitor ? monitor_flags : NULL;
    status = ovnicctl_db_opts_parse(&opts->common, argc, argv);
    opts->common.flags = NULL;
    if (status >= 0) {
        return status;
    }
    n = argc - opts->common.first_arg;
    if (n > 0) {
        opts->tables = calloc((size_t)n + 1, sizeof *opts->tables);
        if (!opts->tables) {
            return ovnicctl_error("out of memory");
        }
        for (i = 0; i < n; i++) {
            opts->tables[i] = argv[opts->common.first_arg + i];
        }
    }
    return -1;
}

/* ---- Running a session ---- */

static void
run_close(struct ovsdb_run *run)
{
    ovnicctl_db_session_close(&run->session);
}

static void
run_finish(struct ovsdb_run *run, int status)
{
    ovnicctl_db_session_finish(&run->session, status);
}

/* Once the schema is known: every named table must exist. */
static void
run_check_tables(struct ovnicctl_db_session *session)
{
    struct ovsdb_run *run = CONTAINER_OF(session, struct ovsdb_run, session);
    struct ovsdb_replica *replica = ovsdb_cs_replica(session->cs);
    const char **t;

    if (run->tables_checked || !replica) {
        return;
    }
    run->tables_checked = true;
    for (t = run->opts->tables; t && *t; t++) {
        if (!ovsdb_replica_table(replica, *t)) {
            ovnicctl_error("database %s has no table '%s'", run->opts->common.database,
                           *t);
            run_finish(run, OVNICCTL_EXIT_FAILURE);
            return;
        }
    }
}

/* Opens the session of 'run'.  Being asked to stop is the normal end of "monitor"
 * (status 0).  Returns -1 on success (close with run_close()), or an exit status. */
static int
run_open(struct ovsdb_run *run, const struct ovsdb_opts *opts, ovsdb_cs_change_cb cb)
{
    int status;

    memset(run, 0, sizeof *run);
    status = ovnicctl_db_session_open(&run->session, &opts->common, opts->tables,
                                      OVNICCTL_EXIT_OK);
    if (status >= 0) {
        return status;
    }
    run->opts = opts;
    run->session.check = run_check_tables;
    if (cb) {
        ovsdb_cs_set_change_cb(run->session.cs, cb, run);
    }
    return -1;
}

/* The tables to show: the named ones, or every table of the schema. */
static size_t
run_table_names(const struct ovsdb_run *run, const char ***names)
{
    const struct ovsdb_schema *schema =
        ovsdb_replica_schema(ovsdb_cs_replica(run->session.cs));
    size_t i, n = 0;

    if (run->opts->tables) {
        while (run->opts->tables[n]) {
            n++;
        }
        *names = calloc(n + 1, sizeof **names);
        for (i = 0; *names && i < n; i++) {
            (*names)[i] = run->opts->tables[i];
        }
    } else {
        n = schema->n_tables;
        *names = calloc(n + 1, sizeof **names);
        for (i = 0; *names && i < n; i++) {
            (*names)[i] = schema->table_array[i]->name;
        }
    }
    return *names ? n : 0;
}

/* ---- Rows as text or JSON ---- */

static const char *
change_name(enum ovsdb_row_change change, bool initial)
{
    switch (change) {
    case OVSDB_ROW_INSERTED:
        return initial ? "initial" : "insert";
    case OVSDB_ROW_MODIFIED:
        return "modify";
    case OVSDB_ROW_DELETED:
        return "delete";
    case OVSDB_ROW_UNCHANGED:
    default:
        return "unchanged";
    }
}

static int
column_name_cmp(const void *a_, const void *b_)
{
    const struct ovsdb_column_schema *const *a = a_;
    const struct ovsdb_column_schema *const *b = b_;

    return strcmp((*a)->name, (*b)->name);
}

/* The columns of 'ts' sorted by name, or NULL on allocation failure.  Caller frees. */
static const struct ovsdb_column_schema **
columns_sorted(const struct ovsdb_table_schema *ts)
{
    const struct ovsdb_column_schema **cols = calloc(ts->n_columns + 1, sizeof *cols);
    size_t i;

    for (i = 0; cols && i < ts->n_columns; i++) {
        cols[i] = &ts->columns[i];
    }
    if (cols) {
        qsort(cols, ts->n_columns, sizeof *cols, column_name_cmp);
    }
    return cols;
}

/* The columns of 'row' as a JSON object, in name order: the changed ones only if
 * 'changed_only'. */
static json_t *
row_columns_json(const struct ovsdb_row *row, bool changed_only)
{
    const struct ovsdb_table_schema *ts = ovsdb_row_table(row);
    const struct ovsdb_column_schema **cols = columns_sorted(ts);
    json_t *obj = json_object();
    size_t i;

    for (i = 0; cols && obj && i < ts->n_columns; i++) {
        const struct ovsdb_datum *datum;

        if (changed_only && !ovsdb_row_column_changed(row, cols[i]->index)) {
            continue;
        }
        datum = ovsdb_row_datum(row, cols[i]->index);
        if (datum) {
            json_object_set_new(obj, cols[i]->name, ovsdb_datum_to_json(datum));
        }
    }
    free(cols);
    return obj;
}

/* Writes " column=value" for the columns of 'row', in name order. */
static void
row_columns_print(FILE *stream, const struct ovsdb_row *row, bool changed_only)
{
    const struct ovsdb_table_schema *ts = ovsdb_row_table(row);
    const struct ovsdb_column_schema **cols = columns_sorted(ts);
    size_t i;

    for (i = 0; cols && i < ts->n_columns; i++) {
        const struct ovsdb_datum *datum;
        json_t *json;

        if (changed_only && !ovsdb_row_column_changed(row, cols[i]->index)) {
            continue;
        }
        datum = ovsdb_row_datum(row, cols[i]->index);
        json = datum ? ovsdb_datum_to_json(datum) : NULL;
        if (json) {
            fprintf(stream, " %s=", cols[i]->name);
            ovnicctl_datum_print(stream, json);
            json_decref(json);
        }
    }
    free(cols);
}

static void
change_print(const struct ovsdb_run *run, const struct ovsdb_row *row, bool initial)
{
    enum ovsdb_row_change change = ovsdb_row_change(row);
    const char *table = ovsdb_row_table(row)->name;
    char uuid[UUID_LEN + 1];

    uuid_to_string(ovsdb_row_uuid(row), uuid);
    if (run->opts->common.format == OVNICCTL_FORMAT_JSON) {
        json_t *obj = json_object();

        json_object_set_new(obj, "change", json_string(change_name(change, initial)));
        json_object_set_new(obj, "table", json_string(table));
        json_object_set_new(obj, "uuid", json_string(uuid));
        json_object_set_new(obj, "row",
                            row_columns_json(row, change == OVSDB_ROW_MODIFIED));
        json_dumpf(obj, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(obj);
    } else {
        printf("%-7s %s %s", change_name(change, initial), table, uuid);
        if (change != OVSDB_ROW_DELETED) {
            row_columns_print(stdout, row, change == OVSDB_ROW_MODIFIED);
        }
        fputc('\n', stdout);
    }
}

/* ---- monitor ---- */

static void
monitor_changed(struct ovsdb_cs *cs, void *aux)
{
    struct ovsdb_run *run = aux;
    struct ovsdb_replica *replica = ovsdb_cs_replica(cs);
    const char **names;
    bool initial;
    size_t i, n;

    /* Changes accumulate while (re)synchronising and are shown once synced. */
    if (run->session.done || !replica || !ovsdb_cs_is_synced(cs)) {
        return;
    }
    run_check_tables(&run->session);
    if (run->session.done) {
        return;
    }
    initial = !run->synced_once;
    n = run_table_names(run, &names);
    for (i = 0; i < n; i++) {
        const struct ovsdb_replica_table *table = ovsdb_replica_table(replica, names[i]);
        const struct ovsdb_row *row;

        if (!table || (initial && run->opts->no_initial)) {
            continue;
        }
        OVSDB_TABLE_FOR_EACH_TRACKED (row, table) {
            if (ovsdb_row_change(row) != OVSDB_ROW_UNCHANGED) {
                change_print(run, row, initial);
            }
        }
    }
    free(names);
    ovsdb_replica_track_clear(replica);
    run->synced_once = true;
    if (fflush(stdout) || ferror(stdout)) {
        if (errno != EPIPE) {
            ovnicctl_error("writing output: %s", strerror(errno));
        }
        run_finish(run, OVNICCTL_EXIT_FAILURE);
    }
}

static void
on_stdout_closed(struct poll_loop *loop OVNIC_UNUSED, int fd OVNIC_UNUSED,
                 uint32_t events, void *aux)
{
    if (events & (OVNIC_POLL_ERR | OVNIC_POLL_HUP)) {
        run_finish(aux, OVNICCTL_EXIT_FAILURE);
    }
}

static int
ovsdb_monitor_run(int argc, char *argv[])
{
    struct ovsdb_opts opts = {.common.path = "ovsdb monitor"};
    struct ovsdb_run run;
    int status;

    status = ovsdb_opts_parse(&opts, true, argc, argv);
    if (status >= 0) {
        goto out;
    }
    status = run_open(&run, &opts, monitor_changed);
    if (status >= 0) {
        goto out;
    }
    if (ovnicctl_db_session_wait_synced(&run.session)) {
        /* Notice a reader that goes away (a closed pipe) without waiting for the
         * next change to write.  Files cannot be watched, and need not be. */
        bool watching =
            !poll_loop_fd_add(run.session.loop, STDOUT_FILENO, 0, on_stdout_closed, &run);

        /* The initial contents, if no change callback showed them yet. */
        monitor_changed(run.session.cs, &run);
        while (!run.session.done) {
            if (poll_loop_run_once(run.session.loop, -1) < 0) {
                ovnicctl_error("poll loop failed");
                run_finish(&run, OVNICCTL_EXIT_FAILURE);
            }
        }
        if (watching) {
            poll_loop_fd_remove(run.session.loop, STDOUT_FILENO);
        }
    }
    status = run.session.status;
    run_close(&run);
out:
    free(opts.tables);
    return status;
}

/* ---- dump ---- */

static int
row_uuid_cmp(const void *a_, const void *b_)
{
    const struct ovsdb_row *const *a = a_;
    const struct ovsdb_row *const *b = b_;

    return uuid_compare(ovsdb_row_uuid(*a), ovsdb_row_uuid(*b));
}

/* Rows of 'table' sorted by uuid, in '*rowsp' (caller frees).  Returns the count. */
static size_t
table_rows_sorted(const struct ovsdb_replica_table *table,
                  const struct ovsdb_row ***rowsp)
{
    size_t n = ovsdb_replica_table_count(table), i = 0;
    const struct ovsdb_row **rows = calloc(n ? n : 1, sizeof *rows);
    const struct ovsdb_row *row;

    *rowsp = rows;
    if (!rows) {
        return 0;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, table) {
        if (i < n) {
            rows[i++] = row;
        }
    }
    qsort(rows, i, sizeof *rows, row_uuid_cmp);
    return i;
}

static void
dump_table_text(const struct ovsdb_replica_table *table)
{
    const struct ovsdb_row **rows;
    size_t n = table_rows_sorted(table, &rows), i;
    char uuid[UUID_LEN + 1];

    printf("%s table (%zu row%s)\n", ovsdb_replica_table_schema(table)->name, n,
           n == 1 ? "" : "s");
    for (i = 0; i < n; i++) {
        printf("  %s", uuid_to_string(ovsdb_row_uuid(rows[i]), uuid));
        row_columns_print(stdout, rows[i], false);
        fputc('\n', stdout);
    }
    free(rows);
}

static void
dump_table_json(const struct ovsdb_replica_table *table, bool last)
{
    const struct ovsdb_row **rows;
    size_t n = table_rows_sorted(table, &rows), i;
    char uuid[UUID_LEN + 1];

    printf("\n  \"%s\": {", ovsdb_replica_table_schema(table)->name);
    for (i = 0; i < n; i++) {
        json_t *obj = row_columns_json(rows[i], false);

        printf("%s\n    \"%s\": ", i ? "," : "",
               uuid_to_string(ovsdb_row_uuid(rows[i]), uuid));
        json_dumpf(obj, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(obj);
    }
    printf("%s}%s", n ? "\n  " : "", last ? "\n" : ",");
    free(rows);
}

static int
dump_print(const struct ovsdb_run *run)
{
    struct ovsdb_replica *replica = ovsdb_cs_replica(run->session.cs);
    const char **names;
    size_t i, n;

    n = run_table_names(run, &names);
    if (!names) {
        return ovnicctl_error("out of memory");
    }
    if (run->opts->common.format == OVNICCTL_FORMAT_JSON) {
        /* One row per line: readable, and still a single JSON object. */
        printf("{");
        for (i = 0; i < n; i++) {
            dump_table_json(ovsdb_replica_table(replica, names[i]), i + 1 == n);
        }
        printf("}\n");
    } else {
        for (i = 0; i < n; i++) {
            dump_table_text(ovsdb_replica_table(replica, names[i]));
        }
    }
    free(names);
    if (fflush(stdout) || ferror(stdout)) {
        return errno == EPIPE ? OVNICCTL_EXIT_FAILURE
                              : ovnicctl_error("writing output: %s", strerror(errno));
    }
    return OVNICCTL_EXIT_OK;
}

static int
ovsdb_dump_run(int argc, char *argv[])
{
    struct ovsdb_opts opts = {.common.path = "ovsdb dump"};
    struct ovsdb_run run;
    int status;

    status = ovsdb_opts_parse(&opts, false, argc, argv);
    if (status >= 0) {
        goto out;
    }
    status = run_open(&run, &opts, NULL);
    if (status >= 0) {
        goto out;
    }
    status = ovnicctl_db_session_wait_synced(&run.session) ? dump_print(&run)
                                                           : run.session.status;
    run_close(&run);
out:
    free(opts.tables);
    return status;
}

/* ---- The command table ---- */

#define OVSDB_COMMON_OPTIONS                                                   \
    OVNICCTL_DB_HELP_DB                                                        \
    "  --database=NAME       database (default: " OVNICCTL_DB_DEFAULT_DATABASE \
    ")\n" OVNICCTL_DB_HELP_COMMON

static const struct ovnicctl_command ovsdb_monitor_command = {
    .name = "monitor",
    .summary = "print changes to tables as they happen",
    .help =
        "Usage: ovnicctl ovsdb monitor --db=REMOTE [OPTIONS] [TABLE...]\n"
        "\n"
        "Connects to REMOTE, monitors TABLEs (default: every table) and prints\n"
        "the current rows, then each change as it arrives, until interrupted\n"
        "(SIGINT, SIGTERM or SIGHUP end it with status 0).  Reconnects, and\n"
        "resumes, when the connection is lost.\n"
        "\n"
        "table format: one line per row change:\n"
        "  CHANGE TABLE UUID [COLUMN=VALUE...]\n"
        "where CHANGE is initial, insert, modify (changed columns only) or\n"
        "delete (no columns).\n"
        "json format: one object per line:\n"
        "  {\"change\": CHANGE, \"table\": T, \"uuid\": U, \"row\": {COLUMN: VALUE}}\n"
        "with VALUEs in RFC 7047 notation (\"row\" holds every column, except for\n"
        "modify: the changed columns with their new values).\n"
        "\n"
        "Options:\n" OVSDB_COMMON_OPTIONS
        "  --no-initial          do not print the rows present at the start\n"
        "\n"
        "Exit status: 0 when stopped by a signal, 1 on failure (not synchronised\n"
        "within the timeout, unknown table, output error or closed output pipe),\n"
        "2 on a usage error.\n",
    .run = ovsdb_monitor_run,
};

static const struct ovnicctl_command ovsdb_dump_command = {
    .name = "dump",
    .summary = "print the contents of tables once",
    .help = "Usage: ovnicctl ovsdb dump --db=REMOTE [OPTIONS] [TABLE...]\n"
            "\n"
            "Connects to REMOTE, synchronises TABLEs (default: every table) once and\n"
            "prints them.\n"
            "\n"
            "table format: per table a line 'TABLE table (N rows)', then one line per\n"
            "row: UUID COLUMN=VALUE...\n"
            "json format: {\"TABLE\": {\"UUID\": {\"COLUMN\": VALUE, ...}, ...}, ...}\n"
            "with VALUEs in RFC 7047 notation.\n"
            "\n"
            "Options:\n" OVSDB_COMMON_OPTIONS "\n"
            "Exit status: 0 on success, 1 on failure (not synchronised within the\n"
            "timeout, unknown table, output error), 2 on a usage error.\n",
    .run = ovsdb_dump_run,
};

static const struct ovnicctl_command *const ovsdb_subcommands[] = {
    &ovsdb_monitor_command,
    &ovsdb_dump_command,
    NULL,
};

const struct ovnicctl_command ovnicctl_ovsdb_command = {
    .name = "ovsdb",
    .summary = "read OVSDB databases (OVN Southbound) with ovnic's client",
    .help = "Usage: ovnicctl ovsdb COMMAND [OPTIONS] [TABLE...]\n"
            "\n"
            "Reads an OVSDB database through ovnic's own client session, the one\n"
            "ovnic-dpud uses for OVN's Southbound database.\n",
    .subcommands = ovsdb_subcommands,
};
