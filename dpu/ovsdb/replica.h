/* ovnic: a typed in-memory replica of an OVSDB database.
 *
 * The replica is built from the database schema itself (see schema.h): every table
 * and column, with atoms, sets, maps and uuid references parsed and checked against
 * the column's type.  Rows are indexed by uuid.  It applies the table-updates of
 * RFC 7047 "update" notifications (format 1) and of OVS's "update2"/"update3"
 * extensions (format 2), all-or-nothing: an update that does not fit the schema, or
 * names a row that does not exist, is rejected whole and leaves the replica intact.
 *
 * Change tracking: every row inserted, modified (with the changed columns) or deleted
 * since the last ovsdb_replica_track_clear() is listed per table, for consumers such
 * as the incremental engine.  Deleted rows stay readable until then.  The list holds
 * the net change of each row object since the last clear, at the position of its
 * first change:
 *   - inserted, then modified: INSERTED (every column counts as changed);
 *   - modified several times: MODIFIED, with the union of the changed columns (a
 *     column changed back to its old value still counts as changed);
 *   - modified, then deleted: DELETED, holding the last values;
 *   - inserted, then deleted: not listed at all (and freed at once);
 *   - deleted, then inserted again with the same uuid: two entries, the old row
 *     DELETED and the new row INSERTED, in that order.
 * A modify that changes nothing (every value equal to the current one) is not
 * tracked. */
#ifndef OVNIC_OVSDB_REPLICA_H
#define OVNIC_OVSDB_REPLICA_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "dpu/ovsdb/schema.h"
#include "shared/util/err.h"
#include "shared/util/uuid.h"

struct ovsdb_replica;
struct ovsdb_replica_table;
struct ovsdb_row;

enum ovsdb_update_format {
    OVSDB_UPDATE_V1, /* RFC 7047 "update": {"old": ..., "new": ...}. */
    OVSDB_UPDATE_V2, /* "update2"/"update3": initial/insert/modify/delete. */
};

enum ovsdb_row_change {
    OVSDB_ROW_UNCHANGED,
    OVSDB_ROW_INSERTED,
    OVSDB_ROW_MODIFIED,
    OVSDB_ROW_DELETED,
};

/** Creates an empty replica of every table of 'schema' (borrowed: must outlive the
 * replica).  Caller owns '*replica'; free with ovsdb_replica_destroy().  Returns 0 or
 * -ENOMEM. */
int ovsdb_replica_create(const struct ovsdb_schema *schema,
                         struct ovsdb_replica **replica);

/** Frees 'replica' and all its rows (may be NULL). */
void ovsdb_replica_destroy(struct ovsdb_replica *replica);

const struct ovsdb_schema *ovsdb_replica_schema(const struct ovsdb_replica *replica);

/** Applies one <table-updates> object (borrowed) in 'format'.  All-or-nothing.
 * Returns 0, -EPROTO if it is not a well-formed table-updates object (not an object,
 * a table the schema lacks, a malformed row uuid, a row update without a known
 * operation), -EINVAL if a datum does not fit its column or names a column the table
 * lacks, -ENOENT if it modifies or deletes an unknown row, -EEXIST if it inserts a row
 * that exists, -ENOMEM; 'err' says where (object: the table; detail: the row uuid and
 * column).  The implicit columns "_uuid" and "_version" are accepted and ignored.
 *
 * Format 1: a row update without "old" inserts the row in "new", one without "new"
 * deletes the row, and one with both sets the columns in "new" to their values.
 * Format 2: "initial" and "insert" insert a row (columns left out take their default
 * values), "delete" deletes one, "modify" changes the columns it names: a column that
 * may hold more than one element (set or map) takes a diff (see
 * ovsdb_datum_apply_diff_json()), any other column its new value. */
int ovsdb_replica_apply(struct ovsdb_replica *replica, enum ovsdb_update_format format,
                        const json_t *table_updates, struct ovnic_err *err);

/** Replaces the replica's contents with the full contents in 'table_updates' (the
 * reply to a monitor request; borrowed), as a full resync does: rows it lacks are
 * deleted, others inserted or modified, each tracked; rows that are already identical
 * are not tracked.  Only tables named in 'tables' (NULL-terminated; NULL = all) and
 * tables present in 'table_updates' are replaced.  The contents may only insert rows
 * (format 1: "new" without "old"; format 2: "initial" or "insert"), else -EPROTO.
 * All-or-nothing; errors as ovsdb_replica_apply(), and -EINVAL if 'tables' names a
 * table the schema lacks. */
int ovsdb_replica_replace(struct ovsdb_replica *replica, enum ovsdb_update_format format,
                          const json_t *table_updates, const char *const *tables,
                          struct ovnic_err *err);

/** Removes every row of every table (tracked as deletions). */
void ovsdb_replica_clear(struct ovsdb_replica *replica);

/** The replica as JSON: {"Table": {"uuid": {"column": <datum in RFC 7047 notation>,
 * ...}, ...}, ...}, every table present (possibly empty), every column of every row
 * except "_uuid" and "_version".  Caller owns the result (json_decref()).  NULL only on
 * allocation failure. */
json_t *ovsdb_replica_to_json(const struct ovsdb_replica *replica);

/** Table 'name', or NULL if the schema has no such table.  Valid for the replica's
 * lifetime. */
struct ovsdb_replica_table *ovsdb_replica_table(const struct ovsdb_replica *replica,
                                                const char *name);
size_t ovsdb_replica_table_count(const struct ovsdb_replica_table *table);
const struct ovsdb_table_schema *
ovsdb_replica_table_schema(const struct ovsdb_replica_table *table);

/** Row 'uuid' of 'table', or NULL.  Valid until the next apply/replace/clear. */
const struct ovsdb_row *ovsdb_replica_table_find(const struct ovsdb_replica_table *table,
                                                 const struct uuid *uuid);

/** Iteration over the live rows of a table, in no particular order: 'row' is NULL to
 * start; returns NULL at the end.  The replica must not change during iteration. */
const struct ovsdb_row *ovsdb_replica_table_next(const struct ovsdb_replica_table *table,
                                                 const struct ovsdb_row *row);

/** Iteration over the tracked (changed) rows of a table since the last
 * ovsdb_replica_track_clear(), deleted ones included, in the order of the changes. */
const struct ovsdb_row *
ovsdb_replica_table_next_tracked(const struct ovsdb_replica_table *table,
                                 const struct ovsdb_row *row);

/** Loops over the live rows of 'TABLE' (const struct ovsdb_row *ROW). */
#define OVSDB_TABLE_FOR_EACH_ROW(ROW, TABLE)                           \
    for ((ROW) = ovsdb_replica_table_next(TABLE, NULL); (ROW) != NULL; \
         (ROW) = ovsdb_replica_table_next(TABLE, ROW))

/** Loops over the tracked rows of 'TABLE' in change order (deleted rows included). */
#define OVSDB_TABLE_FOR_EACH_TRACKED(ROW, TABLE)                               \
    for ((ROW) = ovsdb_replica_table_next_tracked(TABLE, NULL); (ROW) != NULL; \
         (ROW) = ovsdb_replica_table_next_tracked(TABLE, ROW))

/** Forgets all tracked changes and frees the deleted rows. */
void ovsdb_replica_track_clear(struct ovsdb_replica *replica);

/** True if any row changed since the last ovsdb_replica_track_clear(). */
bool ovsdb_replica_has_changes(const struct ovsdb_replica *replica);

const struct uuid *ovsdb_row_uuid(const struct ovsdb_row *row);
const struct ovsdb_table_schema *ovsdb_row_table(const struct ovsdb_row *row);
enum ovsdb_row_change ovsdb_row_change(const struct ovsdb_row *row);

/** For a tracked modified row: true if column 'idx' changed.  True for every column
 * of an inserted or deleted row, false for an unchanged one. */
bool ovsdb_row_column_changed(const struct ovsdb_row *row, size_t idx);

/** The datum of column 'idx' (borrowed, valid while the row is and until the next
 * apply/replace/clear), or NULL if 'idx' is out of range.  See datum.h for the
 * accessors. */
const struct ovsdb_datum *ovsdb_row_datum(const struct ovsdb_row *row, size_t idx);

/** The datum of column 'name', or NULL if there is no such column. */
const struct ovsdb_datum *ovsdb_row_get(const struct ovsdb_row *row, const char *name);

/** The row as a JSON object {"column": datum, ...}.  Caller owns the result. */
json_t *ovsdb_row_to_json(const struct ovsdb_row *row);

#endif /* OVNIC_OVSDB_REPLICA_H */
