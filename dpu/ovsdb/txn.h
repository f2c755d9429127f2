/* ovnic: a builder for the operations of an OVSDB "transact" request (RFC 7047
 * section 5.2), producing the JSON array that ovsdb_cs_transact() takes.
 *
 *     struct ovsdb_txn *txn;
 *     ovsdb_txn_create(&txn);
 *     json_t *row = json_pack("{s:s}", "name", "as1");
 *     ovsdb_txn_insert(txn, "Address_Set", row, "new_as");
 *     json_t *where = ovsdb_txn_where_uuid(&uuid);
 *     ovsdb_txn_mutate(txn, "Port_Group", where,
 *                      ovsdb_txn_mutation("ports", "insert",
 *                                         ovsdb_txn_named_uuid("new_as")));
 *     json_t *ops;
 *     int error = ovsdb_txn_take(txn, &ops);   // first error of any call, or 0
 *     ovsdb_txn_destroy(txn);
 *
 * Every function that takes a json_t takes ownership of it, on failure too, so calls
 * can be nested without leaking.  The builder validates what it can see locally
 * (names, operators, shapes); the server checks the rest against the schema.  A
 * failing call leaves the operations unchanged and is remembered: ovsdb_txn_take()
 * reports it, so a sequence of calls needs one check at the end. */
#ifndef OVNIC_OVSDB_TXN_H
#define OVNIC_OVSDB_TXN_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/util/uuid.h"

struct ovsdb_txn;

/** Creates an empty list of operations.  Caller owns '*txn'; free with
 * ovsdb_txn_destroy().  Returns 0 or -ENOMEM. */
int ovsdb_txn_create(struct ovsdb_txn **txn);

/** Frees 'txn' (may be NULL) and any operations not taken. */
void ovsdb_txn_destroy(struct ovsdb_txn *txn);

/** Appends {"op": "insert", "table", "row"[, "uuid-name"]}.  'row' is an object of
 * column values (taken).  'uuid_name' (may be NULL) names the new row for
 * ["named-uuid", name] references elsewhere in the transaction.  Returns 0, -EINVAL
 * (bad table name, 'row' not an object, bad uuid-name) or -ENOMEM. */
int ovsdb_txn_insert(struct ovsdb_txn *txn, const char *table, json_t *row,
                     const char *uuid_name);

/** Appends {"op": "update", "table", "where", "row"}.  'where' is an array of
 * clauses (taken; see ovsdb_txn_where_add()); 'row' an object (taken).  Returns 0,
 * -EINVAL or -ENOMEM. */
int ovsdb_txn_update(struct ovsdb_txn *txn, const char *table, json_t *where,
                     json_t *row);

/** Appends {"op": "mutate", "table", "where", "mutations"}.  'mutations' is an array
 * of [column, mutator, value] (taken; see ovsdb_txn_mutation()), or one mutation,
 * which is wrapped in an array.  Returns 0, -EINVAL or -ENOMEM. */
int ovsdb_txn_mutate(struct ovsdb_txn *txn, const char *table, json_t *where,
                     json_t *mutations);

/** Appends {"op": "delete", "table", "where"}.  Returns 0, -EINVAL or -ENOMEM. */
int ovsdb_txn_delete(struct ovsdb_txn *txn, const char *table, json_t *where);

/** Appends {"op": "select", "table", "where"[, "columns"]}.  'columns' is a
 * NULL-terminated list of names, or NULL for all columns.  Returns 0, -EINVAL or
 * -ENOMEM. */
int ovsdb_txn_select(struct ovsdb_txn *txn, const char *table, json_t *where,
                     const char *const *columns);

/** Appends {"op": "wait", "table", "where", "columns", "until", "rows"[, "timeout"]}:
 * waits until the rows matching 'where', projected on 'columns' (NULL-terminated,
 * required), are ('until_equal') or are not equal to 'rows' (an array of row
 * objects, taken).  'timeout_ms' < 0 means no timeout member.  Returns 0, -EINVAL or
 * -ENOMEM. */
int ovsdb_txn_wait(struct ovsdb_txn *txn, const char *table, json_t *where,
                   const char *const *columns, bool until_equal, json_t *rows,
                   int64_t timeout_ms);

/** Appends {"op": "comment", "comment"}.  Returns 0, -EINVAL (NULL) or -ENOMEM. */
int ovsdb_txn_comment(struct ovsdb_txn *txn, const char *comment);

/** Number of operations appended so far. */
size_t ovsdb_txn_n_ops(const struct ovsdb_txn *txn);

/** The operations so far.  Borrowed; valid until the next call on 'txn'. */
const json_t *ovsdb_txn_ops(const struct ovsdb_txn *txn);

/** Hands over the operations: on success '*ops' is the array (caller owns) and 'txn'
 * starts again empty.  Returns 0, or the first error of an earlier call (then '*ops'
 * is untouched and the error is cleared along with the operations). */
int ovsdb_txn_take(struct ovsdb_txn *txn, json_t **ops);

/* Clauses and values. */

/** An empty "where" array: matches every row.  NULL on allocation failure. */
json_t *ovsdb_txn_where_create(void);

/** Appends the clause [column, function, value] to 'where' (an array).  'function' is
 * one of <, <=, ==, !=, >=, >, includes, excludes.  Takes ownership of 'value'.
 * Returns 0, -EINVAL or -ENOMEM. */
int ovsdb_txn_where_add(json_t *where, const char *column, const char *function,
                        json_t *value);

/** [["_uuid", "==", ["uuid", "<uuid>"]]].  NULL on allocation failure. */
json_t *ovsdb_txn_where_uuid(const struct uuid *uuid);

/** The mutation [column, mutator, value]; 'mutator' is one of +=, -=, *=, /=, %=,
 * insert, delete.  Takes ownership of 'value'.  NULL on a bad argument or allocation
 * failure. */
json_t *ovsdb_txn_mutation(const char *column, const char *mutator, json_t *value);

/** ["uuid", "<uuid>"]. */
json_t *ovsdb_txn_uuid(const struct uuid *uuid);

/** ["named-uuid", name]: a reference to the row inserted with that uuid-name in the
 * same transaction.  NULL if 'name' is not a valid identifier. */
json_t *ovsdb_txn_named_uuid(const char *name);

/** ["set", elements] from an array of atoms (taken).  NULL if not an array. */
json_t *ovsdb_txn_set(json_t *elements);

/** ["map", pairs] from an array of [key, value] arrays (taken).  NULL if malformed. */
json_t *ovsdb_txn_map(json_t *pairs);

/** True if 's' is an OVSDB <id>: a letter or underscore, then letters, digits and
 * underscores. */
bool ovsdb_txn_is_id(const char *s);

#endif /* OVNIC_OVSDB_TXN_H */
