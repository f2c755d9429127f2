/* ovnic: a builder for the operations of an OVSDB "transact" request. */
#include "dpu/ovsdb/txn.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct ovsdb_txn {
    json_t *ops;
    int error; /* First failure since the last ovsdb_txn_take(), or 0. */
};

int
ovsdb_txn_create(struct ovsdb_txn **txnp)
{
    struct ovsdb_txn *txn = calloc(1, sizeof *txn);
    if (!txn) {
        return -ENOMEM;
    }
    txn->ops = json_array();
    if (!txn->ops) {
        free(txn);
        return -ENOMEM;
    }
    *txnp = txn;
    return 0;
}

void
ovsdb_txn_destroy(struct ovsdb_txn *txn)
{
    if (txn) {
        json_decref(txn->ops);
        free(txn);
    }
}

bool
ovsdb_txn_is_id(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_')) {
        return false;
    }
    for (s++; *s; s++) {
        if (!(isalnum((unsigned char)*s) || *s == '_')) {
            return false;
        }
    }
    return true;
}

static bool
is_one_of__(const char *s, const char *const *list)
{
    for (; s && *list; list++) {
        if (!strcmp(s, *list)) {
            return true;
        }
    }
    return false;
}

static const char *const functions__[] = {
    "<", "<=", "==", "!=", ">=", ">", "includes", "excludes", NULL,
};

static const char *const mutators__[] = {
    "+=", "-=", "*=", "/=", "%=", "insert", "delete", NULL,
};

/* True if 'triple' is [column, operator, value] with 'operator' one of 'operators'. */
static bool
is_triple__(const json_t *triple, const char *const *operators)
{
    return json_is_array(triple) && json_array_size(triple) == 3 &&
           json_is_string(json_array_get(triple, 0)) &&
           json_is_string(json_array_get(triple, 1)) &&
           is_one_of__(json_string_value(json_array_get(triple, 1)), operators);
}

static bool
is_triple_array__(const json_t *json, const char *const *operators)
{
    if (!json_is_array(json)) {
        return false;
    }
    for (size_t i = 0; i < json_array_size(json); i++) {
        const json_t *triple = json_array_get(json, i);
        if (!is_triple__(triple, operators)) {
            return false;
        }
    }
    return true;
}

static bool
is_where__(const json_t *where)
{
    /* Besides clauses, OVS accepts the booleans true and false in conditions. */
    if (!json_is_array(where)) {
        return false;
    }
    for (size_t i = 0; i < json_array_size(where); i++) {
        const json_t *clause = json_array_get(where, i);
        if (!json_is_boolean(clause) && !is_triple__(clause, functions__)) {
            return false;
        }
    }
    return true;
}

static json_t *
columns_to_json__(const char *const *columns, bool *ok)
{
    json_t *array = json_array();
    *ok = array != NULL;
    for (; array && *columns; columns++) {
        if (!ovsdb_txn_is_id(*columns) ||
            json_array_append_new(array, json_string(*columns))) {
            *ok = false;
            break;
        }
    }
    return array;
}

/* Appends 'op' (taken) to 'txn', or records and returns 'error' (if nonzero) and drops
 * 'op'. */
static int
txn_append__(struct ovsdb_txn *txn, json_t *op, int error)
{
    if (!error && !op) {
        error = -ENOMEM;
    }
    if (!error && json_array_append_new(txn->ops, op)) {
        op = NULL;
        error = -ENOMEM;
    } else if (!error) {
        return 0;
    }
    json_decref(op);
    if (!txn->error) {
        txn->error = error;
    }
    return error;
}

static int
txn_fail__(struct ovsdb_txn *txn, int error, json_t *a, json_t *b)
{
    json_decref(a);
    json_decref(b);
    return txn_append__(txn, NULL, error);
}

int
ovsdb_txn_insert(struct ovsdb_txn *txn, const char *table, json_t *row,
                 const char *uuid_name)
{
    if (!ovsdb_txn_is_id(table) || !json_is_object(row) ||
        (uuid_name && !ovsdb_txn_is_id(uuid_name))) {
        return txn_fail__(txn, -EINVAL, row, NULL);
    }
    json_t *op = json_pack("{s:s, s:s, s:o}", "op", "insert", "table", table, "row", row);
    if (op && uuid_name && json_object_set_new(op, "uuid-name", json_string(uuid_name))) {
        json_decref(op);
        op = NULL;
    }
    return txn_append__(txn, op, 0);
}

int
ovsdb_txn_update(struct ovsdb_txn *txn, const char *table, json_t *where, json_t *row)
{
    if (!ovsdb_txn_is_id(table) || !is_where__(where) || !json_is_object(row)) {
        return txn_fail__(txn, -EINVAL, where, row);
    }
    json_t *op = json_pack("{s:s, s:s, s:o, s:o}", "op", "update", "table", table,
                           "where", where, "row", row);
    return txn_append__(txn, op, 0);
}

int
ovsdb_txn_mutate(struct ovsdb_txn *txn, const char *table, json_t *where,
                 json_t *mutations)
{
    if (json_is_array(mutations) && json_array_size(mutations) == 3 &&
        json_is_string(json_array_get(mutations, 0))) {
        /* A single mutation: wrap it. */
        json_t *wrapped = json_pack("[o]", mutations);
        if (!wrapped) {
            return txn_fail__(txn, -ENOMEM, where, NULL);
        }
        mutations = wrapped;
    }
    if (!ovsdb_txn_is_id(table) || !is_where__(where) ||
        !is_triple_array__(mutations, mutators__)) {
        return txn_fail__(txn, -EINVAL, where, mutations);
    }
    json_t *op = json_pack("{s:s, s:s, s:o, s:o}", "op", "mutate", "table", table,
                           "where", where, "mutations", mutations);
    return txn_append__(txn, op, 0);
}

int
ovsdb_txn_delete(struct ovsdb_txn *txn, const char *table, json_t *where)
{
    if (!ovsdb_txn_is_id(table) || !is_where__(where)) {
        return txn_fail__(txn, -EINVAL, where, NULL);
    }
    json_t *op =
        json_pack("{s:s, s:s, s:o}", "op", "delete", "table", table, "where", where);
    return txn_append__(txn, op, 0);
}

int
ovsdb_txn_select(struct ovsdb_txn *txn, const char *table, json_t *where,
                 const char *const *columns)
{
    if (!ovsdb_txn_is_id(table) || !is_where__(where)) {
        return txn_fail__(txn, -EINVAL, where, NULL);
    }
    json_t *cols = NULL;
    if (columns) {
        bool ok;
        cols = columns_to_json__(columns, &ok);
        if (!ok) {
            return txn_fail__(txn, cols ? -EINVAL : -ENOMEM, where, cols);
        }
    }
    json_t *op =
        json_pack("{s:s, s:s, s:o}", "op", "select", "table", table, "where", where);
    if (op && cols && json_object_set_new(op, "columns", cols)) {
        json_decref(op);
        op = NULL;
    } else if (!op) {
        json_decref(cols);
    }
    return txn_append__(txn, op, 0);
}

int
ovsdb_txn_wait(struct ovsdb_txn *txn, const char *table, json_t *where,
               const char *const *columns, bool until_equal, json_t *rows,
               int64_t timeout_ms)
{
    bool rows_ok = json_is_array(rows);
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *row = json_array_get(rows, i);
        rows_ok = rows_ok && json_is_object(row);
    }
    if (!ovsdb_txn_is_id(table) || !is_where__(where) || !columns || !rows_ok) {
        return txn_fail__(txn, -EINVAL, where, rows);
    }
    bool ok;
    json_t *cols = columns_to_json__(columns, &ok);
    if (!ok) {
        json_decref(cols);
        return txn_fail__(txn, cols ? -EINVAL : -ENOMEM, where, rows);
    }
    json_t *op = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o}", "op", "wait", "table", table,
                           "where", where, "columns", cols, "until",
                           until_equal ? "==" : "!=", "rows", rows);
    if (op && timeout_ms >= 0 &&
        json_object_set_new(op, "timeout", json_integer((json_int_t)timeout_ms))) {
        json_decref(op);
        op = NULL;
    }
    return txn_append__(txn, op, 0);
}

int
ovsdb_txn_comment(struct ovsdb_txn *txn, const char *comment)
{
    if (!comment) {
        return txn_fail__(txn, -EINVAL, NULL, NULL);
    }
    return txn_append__(txn, json_pack("{s:s, s:s}", "op", "comment", "comment", comment),
                        0);
}

size_t
ovsdb_txn_n_ops(const struct ovsdb_txn *txn)
{
    return json_array_size(txn->ops);
}

const json_t *
ovsdb_txn_ops(const struct ovsdb_txn *txn)
{
    return txn->ops;
}

int
ovsdb_txn_take(struct ovsdb_txn *txn, json_t **opsp)
{
    json_t *fresh = json_array();
    if (!fresh) {
        return -ENOMEM;
    }
    json_t *ops = txn->ops;
    int error = txn->error;
    txn->ops = fresh;
    txn->error = 0;
    if (error) {
        json_decref(ops);
        return error;
    }
    *opsp = ops;
    return 0;
}

json_t *
ovsdb_txn_where_create(void)
{
    return json_array();
}

int
ovsdb_txn_where_add(json_t *where, const char *column, const char *function,
                    json_t *value)
{
    if (!json_is_array(where) || !column || !*column ||
        !is_one_of__(function, functions__) || !value) {
        json_decref(value);
        return -EINVAL;
    }
    json_t *clause = json_pack("[s, s, o]", column, function, value);
    if (!clause) {
        return -ENOMEM;
    }
    return json_array_append_new(where, clause) ? -ENOMEM : 0;
}

json_t *
ovsdb_txn_uuid(const struct uuid *uuid)
{
    char s[UUID_LEN + 1];
    return json_pack("[s, s]", "uuid", uuid_to_string(uuid, s));
}

json_t *
ovsdb_txn_where_uuid(const struct uuid *uuid)
{
    json_t *where = ovsdb_txn_where_create();
    if (where && ovsdb_txn_where_add(where, "_uuid", "==", ovsdb_txn_uuid(uuid))) {
        json_decref(where);
        where = NULL;
    }
    return where;
}

json_t *
ovsdb_txn_mutation(const char *column, const char *mutator, json_t *value)
{
    if (!column || !*column || !is_one_of__(mutator, mutators__) || !value) {
        json_decref(value);
        return NULL;
    }
    return json_pack("[s, s, o]", column, mutator, value);
}

json_t *
ovsdb_txn_named_uuid(const char *name)
{
    if (!ovsdb_txn_is_id(name)) {
        return NULL;
    }
    return json_pack("[s, s]", "named-uuid", name);
}

json_t *
ovsdb_txn_set(json_t *elements)
{
    if (!json_is_array(elements)) {
        json_decref(elements);
        return NULL;
    }
    return json_pack("[s, o]", "set", elements);
}

json_t *
ovsdb_txn_map(json_t *pairs)
{
    bool ok = json_is_array(pairs);
    for (size_t i = 0; i < json_array_size(pairs); i++) {
        const json_t *pair = json_array_get(pairs, i);
        ok = ok && json_is_array(pair) && json_array_size(pair) == 2;
    }
    if (!ok) {
        json_decref(pairs);
        return NULL;
    }
    return json_pack("[s, o]", "map", pairs);
}
