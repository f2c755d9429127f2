/* ovnic: a typed in-memory replica of an OVSDB database.
 *
 * Each table keeps its live rows in an hmap by uuid and its tracked rows in a list in
 * change order.  A row is one allocation: the row header, one datum per column, then
 * a bitmap of changed columns.
 *
 * Applying an update runs in two phases.  Staging parses and checks the whole update
 * against the schema and the current rows, building new rows (inserts) and new
 * datums (modifies) off to the side; nothing visible changes.  Commit then links the
 * new rows, swaps in the new datums and unlinks deleted rows; it cannot fail, as it
 * allocates nothing.  An error during staging frees what was staged and leaves the
 * replica as it was. */
#include "dpu/ovsdb/replica.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/ovsdb/datum.h"
#include "shared/util/hash.h"
#include "shared/util/hmap.h"
#include "shared/util/list.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(ovsdb_replica);

struct ovsdb_replica_table {
    struct ovsdb_replica *replica;
    const struct ovsdb_table_schema *schema;
    struct hmap rows;          /* Live rows ('struct ovsdb_row'), by uuid. */
    struct hmap staged;        /* Rows staged for insertion by the current update. */
    struct ovnic_list tracked; /* Tracked rows, in change order. */
    bool in_scope;             /* Replace: rows absent from the contents go away. */
};

struct ovsdb_replica {
    const struct ovsdb_schema *schema;
    struct ovsdb_replica_table *tables; /* Parallel to schema->table_array. */
    size_t n_tables;
};

struct ovsdb_row {
    struct hmap_node node;        /* In table's 'rows' (or 'staged'), by uuid. */
    struct ovnic_list track_node; /* In table's 'tracked' unless UNCHANGED. */
    struct ovsdb_replica_table *table;
    struct uuid uuid;
    uint8_t change;              /* enum ovsdb_row_change. */
    bool staged;                 /* Touched by the update being staged. */
    uint64_t *changed;           /* Bitmap of changed columns, after 'datums'. */
    struct ovsdb_datum datums[]; /* One per column, in schema order. */
};

/* ---- Rows ---- */

static uint32_t
row_hash__(const struct uuid *uuid)
{
    return hash_bytes(uuid->parts, sizeof uuid->parts, 0);
}

static size_t
bitmap_words__(size_t n_columns)
{
    return (n_columns + 63) / 64;
}

static struct ovsdb_row *
row_alloc__(struct ovsdb_replica_table *table, const struct uuid *uuid)
{
    size_t n = table->schema->n_columns;
    size_t words = bitmap_words__(n);
    struct ovsdb_row *row =
        calloc(1, sizeof *row + n * sizeof row->datums[0] + words * sizeof(uint64_t));
    if (!row) {
        return NULL;
    }
    row->table = table;
    row->uuid = *uuid;
    row->changed = (uint64_t *)(void *)&row->datums[n];
    ovnic_list_init(&row->track_node);
    for (size_t i = 0; i < n; i++) {
        ovsdb_datum_init_empty(&row->datums[i], &table->schema->columns[i].type);
    }
    return row;
}

static void
row_destroy__(struct ovsdb_row *row)
{
    if (!row) {
        return;
    }
    for (size_t i = 0; i < row->table->schema->n_columns; i++) {
        ovsdb_datum_destroy(&row->datums[i]);
    }
    free(row);
}

static void
bitmap_set__(uint64_t *bitmap, size_t idx)
{
    bitmap[idx / 64] |= UINT64_C(1) << (idx % 64);
}

static bool
bitmap_get__(const uint64_t *bitmap, size_t idx)
{
    return (bitmap[idx / 64] >> (idx % 64)) & 1;
}

static void
bitmap_set_all__(uint64_t *bitmap, size_t n)
{
    memset(bitmap, 0, bitmap_words__(n) * sizeof *bitmap);
    for (size_t i = 0; i < n; i++) {
        bitmap_set__(bitmap, i);
    }
}

static struct ovsdb_row *
find_row__(const struct hmap *rows, const struct uuid *uuid)
{
    struct ovsdb_row *row;
    HMAP_FOR_EACH_WITH_HASH (row, node, row_hash__(uuid), rows) {
        if (uuid_equals(&row->uuid, uuid)) {
            return row;
        }
    }
    return NULL;
}

/* ---- Tracking ---- */

static void
track_insert__(struct ovsdb_row *row)
{
    row->change = OVSDB_ROW_INSERTED;
    bitmap_set_all__(row->changed, row->table->schema->n_columns);
    ovnic_list_push_back(&row->table->tracked, &row->track_node);
}

static void
track_modify__(struct ovsdb_row *row, size_t idx)
{
    if (row->change == OVSDB_ROW_UNCHANGED) {
        row->change = OVSDB_ROW_MODIFIED;
        memset(row->changed, 0,
               bitmap_words__(row->table->schema->n_columns) * sizeof *row->changed);
        ovnic_list_push_back(&row->table->tracked, &row->track_node);
    }
    bitmap_set__(row->changed, idx);
}

/* 'row' has left its table's 'rows'.  A row that was inserted since the last
 * track_clear is forgotten at once (its net change is nothing); any other is kept,
 * readable, as DELETED until the next track_clear. */
static void
track_delete__(struct ovsdb_row *row)
{
    switch ((enum ovsdb_row_change)row->change) {
    case OVSDB_ROW_INSERTED:
        ovnic_list_remove(&row->track_node);
        row_destroy__(row);
        return;
    case OVSDB_ROW_UNCHANGED:
        ovnic_list_push_back(&row->table->tracked, &row->track_node);
        break;
    case OVSDB_ROW_MODIFIED:
    case OVSDB_ROW_DELETED:
        break;
    }
    row->change = OVSDB_ROW_DELETED;
    bitmap_set_all__(row->changed, row->table->schema->n_columns);
}

void
ovsdb_replica_track_clear(struct ovsdb_replica *replica)
{
    for (size_t i = 0; i < replica->n_tables; i++) {
        struct ovsdb_replica_table *t = &replica->tables[i];
        struct ovsdb_row *row, *next;
        LIST_FOR_EACH_SAFE (row, next, track_node, &t->tracked) {
            ovnic_list_remove(&row->track_node);
            if (row->change == OVSDB_ROW_DELETED) {
                row_destroy__(row);
            } else {
                row->change = OVSDB_ROW_UNCHANGED;
                memset(row->changed, 0,
                       bitmap_words__(t->schema->n_columns) * sizeof *row->changed);
            }
        }
    }
}

bool
ovsdb_replica_has_changes(const struct ovsdb_replica *replica)
{
    for (size_t i = 0; i < replica->n_tables; i++) {
        if (!ovnic_list_is_empty(&replica->tables[i].tracked)) {
            return true;
        }
    }
    return false;
}

/* ---- Creation ---- */

int
ovsdb_replica_create(const struct ovsdb_schema *schema, struct ovsdb_replica **replicap)
{
    struct ovsdb_replica *replica = calloc(1, sizeof *replica);
    if (!replica) {
        return -ENOMEM;
    }
    replica->tables =
        calloc(schema->n_tables ? schema->n_tables : 1, sizeof *replica->tables);
    if (!replica->tables) {
        free(replica);
        return -ENOMEM;
    }
    replica->schema = schema;
    replica->n_tables = schema->n_tables;
    for (size_t i = 0; i < schema->n_tables; i++) {
        struct ovsdb_replica_table *t = &replica->tables[i];
        t->replica = replica;
        t->schema = schema->table_array[i];
        hmap_init(&t->rows);
        hmap_init(&t->staged);
        ovnic_list_init(&t->tracked);
    }
    *replicap = replica;
    return 0;
}

void
ovsdb_replica_destroy(struct ovsdb_replica *replica)
{
    if (!replica) {
        return;
    }
    for (size_t i = 0; i < replica->n_tables; i++) {
        struct ovsdb_replica_table *t = &replica->tables[i];
        struct ovsdb_row *row, *next;
        LIST_FOR_EACH_SAFE (row, next, track_node, &t->tracked) {
            ovnic_list_remove(&row->track_node);
            if (row->change == OVSDB_ROW_DELETED) {
                row_destroy__(row);
            }
        }
        HMAP_FOR_EACH_SAFE (row, next, node, &t->rows) {
            hmap_remove(&t->rows, &row->node);
            row_destroy__(row);
        }
        hmap_destroy(&t->rows);
        hmap_destroy(&t->staged);
    }
    free(replica->tables);
    free(replica);
}

const struct ovsdb_schema *
ovsdb_replica_schema(const struct ovsdb_replica *replica)
{
    return replica->schema;
}

/* ---- Staging ---- */

enum stage_op_type {
    STAGE_INSERT,
    STAGE_MODIFY,
    STAGE_DELETE,
};

struct stage_change {
    size_t idx;
    struct ovsdb_datum datum;
};

struct stage_op {
    enum stage_op_type type;
    struct ovsdb_row *row; /* INSERT: new row, in table's 'staged'; else live row. */
    struct stage_change *changes; /* MODIFY only. */
    size_t n_changes;
};

struct stage {
    struct ovsdb_replica *replica;
    struct stage_op *ops;
    size_t n_ops;
    size_t allocated;
    bool replace; /* Contents of a full resync rather than changes. */
};

static struct stage_op *
stage_add__(struct stage *stage, enum stage_op_type type, struct ovsdb_row *row)
{
    if (stage->n_ops == stage->allocated) {
        size_t n = stage->allocated ? stage->allocated * 2 : 16;
        struct stage_op *ops = realloc(stage->ops, n * sizeof *ops);
        if (!ops) {
            return NULL;
        }
        stage->ops = ops;
        stage->allocated = n;
    }
    struct stage_op *op = &stage->ops[stage->n_ops++];
    memset(op, 0, sizeof *op);
    op->type = type;
    op->row = row;
    return op;
}

static void
stage_op_free_changes__(struct stage_op *op)
{
    for (size_t i = 0; i < op->n_changes; i++) {
        ovsdb_datum_destroy(&op->changes[i].datum);
    }
    free(op->changes);
    op->changes = NULL;
    op->n_changes = 0;
}

static void
clear_scope__(struct ovsdb_replica *replica)
{
    for (size_t i = 0; i < replica->n_tables; i++) {
        replica->tables[i].in_scope = false;
    }
}

/* Undoes everything staged: nothing visible had changed. */
static void
stage_abort__(struct stage *stage)
{
    for (size_t i = 0; i < stage->n_ops; i++) {
        struct stage_op *op = &stage->ops[i];
        if (op->type == STAGE_INSERT) {
            hmap_remove(&op->row->table->staged, &op->row->node);
            row_destroy__(op->row);
        } else {
            op->row->staged = false;
        }
        stage_op_free_changes__(op);
    }
    free(stage->ops);
    clear_scope__(stage->replica);
}

static void
stage_commit__(struct stage *stage)
{
    for (size_t i = 0; i < stage->n_ops; i++) {
        struct stage_op *op = &stage->ops[i];
        struct ovsdb_row *row = op->row;
        struct ovsdb_replica_table *t = row->table;
        row->staged = false;
        switch (op->type) {
        case STAGE_INSERT:
            hmap_remove(&t->staged, &row->node);
            hmap_insert(&t->rows, &row->node, row_hash__(&row->uuid));
            track_insert__(row);
            break;
        case STAGE_MODIFY:
            for (size_t j = 0; j < op->n_changes; j++) {
                struct stage_change *c = &op->changes[j];
                ovsdb_datum_swap(&row->datums[c->idx], &c->datum);
                ovsdb_datum_destroy(&c->datum);
                track_modify__(row, c->idx);
            }
            free(op->changes);
            break;
        case STAGE_DELETE:
            hmap_remove(&t->rows, &row->node);
            track_delete__(row);
            break;
        }
    }
    free(stage->ops);
    clear_scope__(stage->replica);
}

/* Records in 'err' a failure at row 'uuid' (and column 'column', if not NULL) of
 * table 't', with the cause in 'sub' (if not NULL). */
static int
row_err__(struct ovnic_err *err, int code, const struct ovsdb_replica_table *t,
          const struct uuid *uuid, const char *column, const char *message,
          const struct ovnic_err *sub)
{
    char buf[UUID_LEN + 1];
    bool has_sub = sub && sub->code;
    return ovnic_err_set(
        err, code, t->schema->name, has_sub && sub->message ? sub->message : message,
        "row %s%s%s%s%s", uuid ? uuid_to_string(uuid, buf) : "?",
        column ? " column " : "", column ? column : "",
        has_sub && sub->detail[0] ? ": " : "", has_sub ? sub->detail : "");
}

static bool
is_implicit_column__(const char *name)
{
    return !strcmp(name, "_uuid") || !strcmp(name, "_version");
}

/* Finds column 'name' of 't' for row 'uuid'.  Returns 0, 1 for an implicit column
 * (to be skipped), or -EINVAL. */
static int
lookup_column__(const struct ovsdb_replica_table *t, const struct uuid *uuid,
                const char *name, const struct ovsdb_column_schema **column,
                struct ovnic_err *err)
{
    if (is_implicit_column__(name)) {
        return 1;
    }
    *column = ovsdb_table_schema_find_column(t->schema, name);
    if (!*column) {
        return row_err__(err, -EINVAL, t, uuid, name, "unknown column", NULL);
    }
    return 0;
}

/* Builds a new row 'uuid' of 't' from the <row> 'json': every column it names is
 * parsed, the others take their default value. */
static int
row_from_json__(struct ovsdb_replica_table *t, const struct uuid *uuid,
                const json_t *json, struct ovsdb_row **rowp, struct ovnic_err *err)
{
    const struct ovsdb_table_schema *ts = t->schema;
    int error;

    if (!json_is_object(json)) {
        return row_err__(err, -EPROTO, t, uuid, NULL, "row must be a JSON object", NULL);
    }
    struct ovsdb_row *row = row_alloc__(t, uuid);
    if (!row) {
        return -ENOMEM;
    }
    /* 'changed' marks the columns given so far. */
    for (void *it = json_object_iter((json_t *)json); it;
         it = json_object_iter_next((json_t *)json, it)) {
        const char *name = json_object_iter_key(it);
        const json_t *value = json_object_iter_value(it);
        const struct ovsdb_column_schema *column;
        error = lookup_column__(t, uuid, name, &column, err);
        if (error > 0) {
            continue;
        } else if (error) {
            goto err_free_row;
        }
        struct ovnic_err sub = {0};
        struct ovsdb_datum *d = &row->datums[column->index];
        ovsdb_datum_destroy(d);
        error = ovsdb_datum_from_json(d, &column->type, value, &sub);
        if (error) {
            ovsdb_datum_init_empty(d, &column->type);
            row_err__(err, error, t, uuid, name, "bad datum", &sub);
            goto err_free_row;
        }
        bitmap_set__(row->changed, column->index);
    }
    for (size_t i = 0; i < ts->n_columns; i++) {
        if (!bitmap_get__(row->changed, i)) {
            error = ovsdb_datum_init_default(&row->datums[i], &ts->columns[i].type);
            if (error) {
                goto err_free_row;
            }
        }
    }
    memset(row->changed, 0, bitmap_words__(ts->n_columns) * sizeof *row->changed);
    *rowp = row;
    return 0;

err_free_row:
    row_destroy__(row);
    return error;
}

static int
stage_insert__(struct stage *stage, struct ovsdb_replica_table *t,
               const struct uuid *uuid, const json_t *json, struct ovnic_err *err)
{
    if (find_row__(&t->staged, uuid)) {
        return row_err__(err, -EPROTO, t, uuid, NULL, "row appears twice in the update",
                         NULL);
    }
    struct ovsdb_row *row;
    int error = row_from_json__(t, uuid, json, &row, err);
    if (error) {
        return error;
    }
    if (!stage_add__(stage, STAGE_INSERT, row)) {
        row_destroy__(row);
        return -ENOMEM;
    }
    row->staged = true;
    hmap_insert(&t->staged, &row->node, row_hash__(uuid));
    return 0;
}

/* Stages a modification of live row 'row' by <row> 'json': with 'diff', columns whose
 * modify carries a diff (update2) have it applied; otherwise each column holds its new
 * value.  With 'full', the columns that 'json' omits return to their default value
 * (full contents of a resync). */
static int
stage_modify__(struct stage *stage, struct ovsdb_row *row, const json_t *json, bool diff,
               bool full, struct ovnic_err *err)
{
    struct ovsdb_replica_table *t = row->table;
    const struct ovsdb_table_schema *ts = t->schema;
    struct stage_op op;
    uint64_t given[8];
    uint64_t *givenp = given;
    int error = 0;

    if (!json_is_object(json)) {
        return row_err__(err, -EPROTO, t, &row->uuid, NULL, "row must be a JSON object",
                         NULL);
    }
    memset(&op, 0, sizeof op);
    op.type = STAGE_MODIFY;
    op.row = row;
    size_t max_changes =
        full ? ts->n_columns : MIN(json_object_size(json), ts->n_columns);
    if (max_changes) {
        op.changes = calloc(max_changes, sizeof *op.changes);
        if (!op.changes) {
            return -ENOMEM;
        }
    }
    size_t words = bitmap_words__(ts->n_columns);
    if (words > ARRAY_SIZE(given)) {
        givenp = calloc(words, sizeof *givenp);
        if (!givenp) {
            free(op.changes);
            return -ENOMEM;
        }
    } else {
        memset(given, 0, sizeof given);
    }

    for (void *it = json_object_iter((json_t *)json); it;
         it = json_object_iter_next((json_t *)json, it)) {
        const char *name = json_object_iter_key(it);
        const json_t *value = json_object_iter_value(it);
        const struct ovsdb_column_schema *column;
        error = lookup_column__(t, &row->uuid, name, &column, err);
        if (error > 0) {
            continue;
        } else if (error) {
            goto err_free;
        }
        if (bitmap_get__(givenp, column->index)) {
            continue; /* Cannot happen with jansson objects; be safe anyway. */
        }
        bitmap_set__(givenp, column->index);

        struct ovnic_err sub = {0};
        struct ovsdb_datum d;
        const struct ovsdb_datum *old = &row->datums[column->index];
        if (diff) {
            error = ovsdb_datum_apply_diff_json(&d, old, &column->type, value, &sub);
        } else {
            error = ovsdb_datum_from_json(&d, &column->type, value, &sub);
        }
        if (error) {
            row_err__(err, error, t, &row->uuid, name, "bad datum", &sub);
            goto err_free;
        }
        if (ovsdb_datum_equals(&d, old)) {
            ovsdb_datum_destroy(&d);
            continue;
        }
        op.changes[op.n_changes].idx = column->index;
        op.changes[op.n_changes].datum = d;
        op.n_changes++;
    }
    if (full) {
        for (size_t i = 0; i < ts->n_columns; i++) {
            if (bitmap_get__(givenp, i)) {
                continue;
            }
            struct ovsdb_datum d;
            error = ovsdb_datum_init_default(&d, &ts->columns[i].type);
            if (error) {
                goto err_free;
            }
            if (ovsdb_datum_equals(&d, &row->datums[i])) {
                ovsdb_datum_destroy(&d);
                continue;
            }
            op.changes[op.n_changes].idx = i;
            op.changes[op.n_changes].datum = d;
            op.n_changes++;
        }
    }
    if (givenp != given) {
        free(givenp);
    }
    /* Staged even without a change: it marks the row as seen (a resync keeps it). */
    struct stage_op *slot = stage_add__(stage, STAGE_MODIFY, row);
    if (!slot) {
        stage_op_free_changes__(&op);
        return -ENOMEM;
    }
    *slot = op;
    row->staged = true;
    return 0;

err_free:
    if (givenp != given) {
        free(givenp);
    }
    stage_op_free_changes__(&op);
    return error;
}

static int
stage_delete__(struct stage *stage, struct ovsdb_row *row)
{
    if (!stage_add__(stage, STAGE_DELETE, row)) {
        return -ENOMEM;
    }
    row->staged = true;
    return 0;
}

/* Stages one <row-update> (format 1) or <row-update2> (format 2) for row 'uuid'. */
static int
stage_row_update__(struct stage *stage, struct ovsdb_replica_table *t,
                   enum ovsdb_update_format format, const struct uuid *uuid,
                   const json_t *ru, struct ovnic_err *err)
{
    struct ovsdb_row *row = find_row__(&t->rows, uuid);
    if (row && row->staged) {
        return row_err__(err, -EPROTO, t, uuid, NULL, "row appears twice in the update",
                         NULL);
    }
    if (!json_is_object(ru)) {
        return row_err__(err, -EPROTO, t, uuid, NULL, "row update must be a JSON object",
                         NULL);
    }

    const json_t *new_json = NULL;
    enum stage_op_type type;
    if (format == OVSDB_UPDATE_V1) {
        const json_t *old_json = json_object_get(ru, "old");
        new_json = json_object_get(ru, "new");
        old_json = json_is_null(old_json) ? NULL : old_json;
        new_json = json_is_null(new_json) ? NULL : new_json;
        if ((old_json && !json_is_object(old_json)) ||
            (new_json && !json_is_object(new_json))) {
            return row_err__(err, -EPROTO, t, uuid, NULL,
                             "\"old\" and \"new\" must be rows", NULL);
        }
        if (!old_json && !new_json) {
            return row_err__(err, -EPROTO, t, uuid, NULL,
                             "row update has neither \"old\" nor \"new\"", NULL);
        }
        type = !old_json ? STAGE_INSERT : !new_json ? STAGE_DELETE : STAGE_MODIFY;
    } else {
        if (json_object_size(ru) != 1) {
            return row_err__(err, -EPROTO, t, uuid, NULL,
                             "row update must have exactly one member", NULL);
        }
        const char *op = json_object_iter_key(json_object_iter((json_t *)ru));
        new_json = json_object_iter_value(json_object_iter((json_t *)ru));
        if (!strcmp(op, "initial") || !strcmp(op, "insert")) {
            type = STAGE_INSERT;
        } else if (!strcmp(op, "modify")) {
            type = STAGE_MODIFY;
        } else if (!strcmp(op, "delete")) {
            type = STAGE_DELETE;
        } else {
            char buf[48];
            snprintf(buf, sizeof buf, "%.40s", op);
            struct ovnic_err sub = {.code = -EPROTO};
            snprintf(sub.detail, sizeof sub.detail, "\"%s\"", buf);
            return row_err__(err, -EPROTO, t, uuid, NULL, "unknown row update operation",
                             &sub);
        }
    }

    if (stage->replace) {
        if (type != STAGE_INSERT) {
            return row_err__(err, -EPROTO, t, uuid, NULL,
                             "full contents may only insert rows", NULL);
        }
        if (row) {
            return stage_modify__(stage, row, new_json, false, true, err);
        }
        return stage_insert__(stage, t, uuid, new_json, err);
    }

    switch (type) {
    case STAGE_INSERT:
        if (row) {
            return row_err__(err, -EEXIST, t, uuid, NULL, "inserted row already exists",
                             NULL);
        }
        return stage_insert__(stage, t, uuid, new_json, err);
    case STAGE_MODIFY:
        if (!row) {
            return row_err__(err, -ENOENT, t, uuid, NULL, "modified row does not exist",
                             NULL);
        }
        return stage_modify__(stage, row, new_json, format == OVSDB_UPDATE_V2, false,
                              err);
    case STAGE_DELETE:
        if (!row) {
            return row_err__(err, -ENOENT, t, uuid, NULL, "deleted row does not exist",
                             NULL);
        }
        return stage_delete__(stage, row);
    }
    return -EPROTO;
}

static struct ovsdb_replica_table *
find_table__(const struct ovsdb_replica *replica, const char *name)
{
    const struct ovsdb_table_schema *ts = ovsdb_schema_find_table(replica->schema, name);
    return ts ? &replica->tables[ts->index] : NULL;
}

static int
stage_table_updates__(struct stage *stage, enum ovsdb_update_format format,
                      const json_t *table_updates, struct ovnic_err *err)
{
    if (format != OVSDB_UPDATE_V1 && format != OVSDB_UPDATE_V2) {
        return ovnic_err_set(err, -EINVAL, NULL, "unknown update format", NULL);
    }
    if (!json_is_object(table_updates)) {
        return ovnic_err_set(err, -EPROTO, NULL, "table-updates must be a JSON object",
                             NULL);
    }
    for (void *it_table = json_object_iter((json_t *)table_updates); it_table;
         it_table = json_object_iter_next((json_t *)table_updates, it_table)) {
        const char *table_name = json_object_iter_key(it_table);
        const json_t *tu = json_object_iter_value(it_table);
        struct ovsdb_replica_table *t = find_table__(stage->replica, table_name);
        if (!t) {
            return ovnic_err_set(err, -EPROTO, table_name, "unknown table", NULL);
        }
        if (!json_is_object(tu)) {
            return ovnic_err_set(err, -EPROTO, table_name,
                                 "table-update must be a JSON object", NULL);
        }
        if (stage->replace) {
            t->in_scope = true;
        }
        for (void *it_uuid = json_object_iter((json_t *)tu); it_uuid;
             it_uuid = json_object_iter_next((json_t *)tu, it_uuid)) {
            const char *uuid_str = json_object_iter_key(it_uuid);
            const json_t *ru = json_object_iter_value(it_uuid);
            struct uuid uuid;
            if (uuid_from_string(uuid_str, &uuid)) {
                return ovnic_err_set(err, -EPROTO, table_name, "malformed row uuid",
                                     "\"%.40s\"", uuid_str);
            }
            int error = stage_row_update__(stage, t, format, &uuid, ru, err);
            if (error) {
                return error;
            }
        }
    }
    return 0;
}

static void
log_failure__(const char *what, const struct ovnic_err *err)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(5, 10);
    char buf[512];
    OLOG_DBG_RL(&rl, "%s rejected: %s", what, ovnic_err_format(err, buf, sizeof buf));
}

int
ovsdb_replica_apply(struct ovsdb_replica *replica, enum ovsdb_update_format format,
                    const json_t *table_updates, struct ovnic_err *err)
{
    struct stage stage = {.replica = replica};
    struct ovnic_err local = {0};
    struct ovnic_err *e = err ? err : &local;

    int error = stage_table_updates__(&stage, format, table_updates, e);
    if (error) {
        stage_abort__(&stage);
        log_failure__("update", e);
        return error;
    }
    stage_commit__(&stage);
    return 0;
}

int
ovsdb_replica_replace(struct ovsdb_replica *replica, enum ovsdb_update_format format,
                      const json_t *table_updates, const char *const *tables,
                      struct ovnic_err *err)
{
    struct stage stage = {.replica = replica, .replace = true};
    struct ovnic_err local = {0};
    struct ovnic_err *e = err ? err : &local;
    int error;

    if (tables) {
        for (const char *const *name = tables; *name; name++) {
            struct ovsdb_replica_table *t = find_table__(replica, *name);
            if (!t) {
                error = ovnic_err_set(e, -EINVAL, *name, "unknown table", NULL);
                goto err_abort;
            }
            t->in_scope = true;
        }
    } else {
        for (size_t i = 0; i < replica->n_tables; i++) {
            replica->tables[i].in_scope = true;
        }
    }
    error = stage_table_updates__(&stage, format, table_updates, e);
    if (error) {
        goto err_abort;
    }
    for (size_t i = 0; i < replica->n_tables; i++) {
        struct ovsdb_replica_table *t = &replica->tables[i];
        struct ovsdb_row *row;
        if (!t->in_scope) {
            continue;
        }
        HMAP_FOR_EACH (row, node, &t->rows) {
            if (!row->staged && (error = stage_delete__(&stage, row))) {
                goto err_abort;
            }
        }
    }
    stage_commit__(&stage);
    return 0;

err_abort:
    stage_abort__(&stage);
    log_failure__("full contents", e);
    return error;
}

void
ovsdb_replica_clear(struct ovsdb_replica *replica)
{
    for (size_t i = 0; i < replica->n_tables; i++) {
        struct ovsdb_replica_table *t = &replica->tables[i];
        struct ovsdb_row *row, *next;
        HMAP_FOR_EACH_SAFE (row, next, node, &t->rows) {
            hmap_remove(&t->rows, &row->node);
            track_delete__(row);
        }
    }
}

/* ---- Output ---- */

json_t *
ovsdb_row_to_json(const struct ovsdb_row *row)
{
    const struct ovsdb_table_schema *ts = row->table->schema;
    json_t *json = json_object();
    if (!json) {
        return NULL;
    }
    for (size_t i = 0; i < ts->n_columns; i++) {
        if (json_object_set_new_nocheck(json, ts->columns[i].name,
                                        ovsdb_datum_to_json(&row->datums[i]))) {
            json_decref(json);
            return NULL;
        }
    }
    return json;
}

json_t *
ovsdb_replica_to_json(const struct ovsdb_replica *replica)
{
    json_t *json = json_object();
    if (!json) {
        return NULL;
    }
    for (size_t i = 0; i < replica->n_tables; i++) {
        const struct ovsdb_replica_table *t = &replica->tables[i];
        json_t *rows = json_object();
        if (json_object_set_new_nocheck(json, t->schema->name, rows)) {
            goto err_free_json;
        }
        const struct ovsdb_row *row;
        HMAP_FOR_EACH (row, node, &t->rows) {
            char buf[UUID_LEN + 1];
            if (json_object_set_new_nocheck(rows, uuid_to_string(&row->uuid, buf),
                                            ovsdb_row_to_json(row))) {
                goto err_free_json;
            }
        }
    }
    return json;

err_free_json:
    json_decref(json);
    return NULL;
}

/* ---- Access ---- */

struct ovsdb_replica_table *
ovsdb_replica_table(const struct ovsdb_replica *replica, const char *name)
{
    return find_table__(replica, name);
}

size_t
ovsdb_replica_table_count(const struct ovsdb_replica_table *table)
{
    return hmap_count(&table->rows);
}

const struct ovsdb_table_schema *
ovsdb_replica_table_schema(const struct ovsdb_replica_table *table)
{
    return table->schema;
}

const struct ovsdb_row *
ovsdb_replica_table_find(const struct ovsdb_replica_table *table, const struct uuid *uuid)
{
    return find_row__(&table->rows, uuid);
}

const struct ovsdb_row *
ovsdb_replica_table_next(const struct ovsdb_replica_table *table,
                         const struct ovsdb_row *row)
{
    struct hmap_node *node =
        row ? hmap_next(&table->rows, &row->node) : hmap_first(&table->rows);
    return node ? CONTAINER_OF(node, struct ovsdb_row, node) : NULL;
}

const struct ovsdb_row *
ovsdb_replica_table_next_tracked(const struct ovsdb_replica_table *table,
                                 const struct ovsdb_row *row)
{
    const struct ovnic_list *next = row ? row->track_node.next : table->tracked.next;
    return next == &table->tracked ? NULL
                                   : CONTAINER_OF(next, struct ovsdb_row, track_node);
}

const struct uuid *
ovsdb_row_uuid(const struct ovsdb_row *row)
{
    return &row->uuid;
}

const struct ovsdb_table_schema *
ovsdb_row_table(const struct ovsdb_row *row)
{
    return row->table->schema;
}

enum ovsdb_row_change
ovsdb_row_change(const struct ovsdb_row *row)
{
    return (enum ovsdb_row_change)row->change;
}

bool
ovsdb_row_column_changed(const struct ovsdb_row *row, size_t idx)
{
    return idx < row->table->schema->n_columns && bitmap_get__(row->changed, idx);
}

const struct ovsdb_datum *
ovsdb_row_datum(const struct ovsdb_row *row, size_t idx)
{
    return idx < row->table->schema->n_columns ? &row->datums[idx] : NULL;
}

const struct ovsdb_datum *
ovsdb_row_get(const struct ovsdb_row *row, const char *name)
{
    const struct ovsdb_column_schema *c =
        ovsdb_table_schema_find_column(row->table->schema, name);
    return c ? &row->datums[c->index] : NULL;
}
