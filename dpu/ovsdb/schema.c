/* ovnic: OVSDB schemas and types (RFC 7047 section 3.2). */
#include "dpu/ovsdb/schema.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/ovsdb/datum.h"
#include "shared/util/hash.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(ovsdb_schema);

static bool
is_id__(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) {
        return false;
    }
    for (s++; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_')) {
            return false;
        }
    }
    return true;
}

/* "x.y.z" with decimal numbers. */
static bool
is_version__(const char *s)
{
    for (int part = 0; part < 3; part++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        while (*s >= '0' && *s <= '9') {
            s++;
        }
        if (part < 2 && *s++ != '.') {
            return false;
        }
    }
    return *s == '\0';
}

static void
base_type_init__(struct ovsdb_base_type *base, enum ovsdb_atomic_type type)
{
    memset(base, 0, sizeof *base);
    base->type = type;
    base->min_integer = INT64_MIN;
    base->max_integer = INT64_MAX;
    base->min_real = -DBL_MAX;
    base->max_real = DBL_MAX;
    base->min_length = 0;
    base->max_length = UINT_MAX;
}

static void
base_type_destroy__(struct ovsdb_base_type *base)
{
    if (base->enum_) {
        ovsdb_datum_destroy(base->enum_);
        free(base->enum_);
        base->enum_ = NULL;
    }
    free(base->ref_table);
    base->ref_table = NULL;
}

void
ovsdb_type_destroy(struct ovsdb_type *type)
{
    if (type) {
        base_type_destroy__(&type->key);
        base_type_destroy__(&type->value);
    }
}

/* A member of 'obj' that 'type' allows?  Members of base-type objects. */
static bool
base_member_allowed__(const char *name, enum ovsdb_atomic_type type)
{
    if (!strcmp(name, "type") || !strcmp(name, "enum")) {
        return true;
    }
    switch (type) {
    case OVSDB_TYPE_INTEGER:
        return !strcmp(name, "minInteger") || !strcmp(name, "maxInteger");
    case OVSDB_TYPE_REAL:
        return !strcmp(name, "minReal") || !strcmp(name, "maxReal");
    case OVSDB_TYPE_STRING:
        return !strcmp(name, "minLength") || !strcmp(name, "maxLength");
    case OVSDB_TYPE_UUID:
        return !strcmp(name, "refTable") || !strcmp(name, "refType");
    case OVSDB_TYPE_VOID:
    case OVSDB_TYPE_BOOLEAN:
        break;
    }
    return false;
}

static int
parse_length__(const json_t *json, const char *name, unsigned int *out,
               struct ovnic_err *err)
{
    if (!json_is_integer(json) || json_integer_value(json) < 0 ||
        (unsigned long long)json_integer_value(json) > UINT_MAX) {
        return ovnic_err_set(err, -EINVAL, NULL, "bad string length constraint",
                             "\"%s\" must be an integer in [0, %u]", name, UINT_MAX);
    }
    *out = (unsigned int)json_integer_value(json);
    return 0;
}

static int
parse_enum__(struct ovsdb_base_type *base, const json_t *json, struct ovnic_err *err)
{
    struct ovsdb_type enum_type;
    memset(&enum_type, 0, sizeof enum_type);
    base_type_init__(&enum_type.key, base->type);
    base_type_init__(&enum_type.value, OVSDB_TYPE_VOID);
    enum_type.n_min = 1;
    enum_type.n_max = OVSDB_N_MAX_UNLIMITED;

    struct ovsdb_datum *datum = malloc(sizeof *datum);
    if (!datum) {
        return -ENOMEM;
    }
    struct ovnic_err sub = {0};
    int error = ovsdb_datum_from_json(datum, &enum_type, json, &sub);
    if (error) {
        free(datum);
        return ovnic_err_set(err, error, NULL, "bad \"enum\"", "%s%s%s",
                             sub.message ? sub.message : "", sub.detail[0] ? ": " : "",
                             sub.detail);
    }
    base->enum_ = datum;
    return 0;
}

static int
base_type_from_json__(struct ovsdb_base_type *base, const json_t *json,
                      struct ovnic_err *err)
{
    enum ovsdb_atomic_type atomic;
    int error;

    if (json_is_string(json)) {
        if (ovsdb_atomic_type_from_string(json_string_value(json), &atomic)) {
            return ovnic_err_set(err, -EINVAL, NULL, "unknown atomic type", "\"%s\"",
                                 json_string_value(json));
        }
        base_type_init__(base, atomic);
        return 0;
    }
    if (!json_is_object(json)) {
        return ovnic_err_set(err, -EINVAL, NULL, "base type must be a string or object",
                             NULL);
    }
    const json_t *type_json = json_object_get(json, "type");
    if (!json_is_string(type_json)) {
        return ovnic_err_set(err, -EINVAL, NULL, "base type lacks a \"type\" string",
                             NULL);
    }
    if (ovsdb_atomic_type_from_string(json_string_value(type_json), &atomic)) {
        return ovnic_err_set(err, -EINVAL, NULL, "unknown atomic type", "\"%s\"",
                             json_string_value(type_json));
    }
    for (void *it = json_object_iter((json_t *)json); it;
         it = json_object_iter_next((json_t *)json, it)) {
        const char *name = json_object_iter_key(it);
        if (!base_member_allowed__(name, atomic)) {
            return ovnic_err_set(err, -EINVAL, NULL, "member not allowed in base type",
                                 "\"%s\" for type %s", name,
                                 ovsdb_atomic_type_to_string(atomic));
        }
    }

    struct ovsdb_base_type b;
    base_type_init__(&b, atomic);
    switch (atomic) {
    case OVSDB_TYPE_INTEGER: {
        const json_t *min = json_object_get(json, "minInteger");
        const json_t *max = json_object_get(json, "maxInteger");
        if ((min && !json_is_integer(min)) || (max && !json_is_integer(max))) {
            return ovnic_err_set(err, -EINVAL, NULL, "integer bounds must be integers",
                                 NULL);
        }
        b.min_integer = min ? json_integer_value(min) : INT64_MIN;
        b.max_integer = max ? json_integer_value(max) : INT64_MAX;
        if (b.min_integer > b.max_integer) {
            return ovnic_err_set(err, -EINVAL, NULL, "minInteger exceeds maxInteger",
                                 "%lld > %lld", (long long)b.min_integer,
                                 (long long)b.max_integer);
        }
        break;
    }
    case OVSDB_TYPE_REAL: {
        const json_t *min = json_object_get(json, "minReal");
        const json_t *max = json_object_get(json, "maxReal");
        if ((min && !json_is_number(min)) || (max && !json_is_number(max))) {
            return ovnic_err_set(err, -EINVAL, NULL, "real bounds must be numbers", NULL);
        }
        b.min_real = min ? json_number_value(min) : -DBL_MAX;
        b.max_real = max ? json_number_value(max) : DBL_MAX;
        if (b.min_real > b.max_real) {
            return ovnic_err_set(err, -EINVAL, NULL, "minReal exceeds maxReal", "%g > %g",
                                 b.min_real, b.max_real);
        }
        break;
    }
    case OVSDB_TYPE_STRING: {
        const json_t *min = json_object_get(json, "minLength");
        const json_t *max = json_object_get(json, "maxLength");
        if (min && (error = parse_length__(min, "minLength", &b.min_length, err))) {
            return error;
        }
        if (max && (error = parse_length__(max, "maxLength", &b.max_length, err))) {
            return error;
        }
        if (b.min_length > b.max_length) {
            return ovnic_err_set(err, -EINVAL, NULL, "minLength exceeds maxLength",
                                 "%u > %u", b.min_length, b.max_length);
        }
        break;
    }
    case OVSDB_TYPE_UUID: {
        const json_t *ref_table = json_object_get(json, "refTable");
        const json_t *ref_type = json_object_get(json, "refType");
        if (ref_table) {
            if (!json_is_string(ref_table) || !is_id__(json_string_value(ref_table))) {
                return ovnic_err_set(err, -EINVAL, NULL,
                                     "\"refTable\" must be a table name", NULL);
            }
            b.ref_strong = true;
            if (ref_type) {
                const char *rt =
                    json_is_string(ref_type) ? json_string_value(ref_type) : "";
                if (!strcmp(rt, "weak")) {
                    b.ref_strong = false;
                } else if (strcmp(rt, "strong")) {
                    return ovnic_err_set(err, -EINVAL, NULL,
                                         "\"refType\" must be \"strong\" or \"weak\"",
                                         NULL);
                }
            }
        } else if (ref_type) {
            return ovnic_err_set(err, -EINVAL, NULL, "\"refType\" without \"refTable\"",
                                 NULL);
        }
        if (ref_table) {
            b.ref_table = strdup(json_string_value(ref_table));
            if (!b.ref_table) {
                return -ENOMEM;
            }
        }
        break;
    }
    case OVSDB_TYPE_VOID:
    case OVSDB_TYPE_BOOLEAN:
        break;
    }

    const json_t *enum_json = json_object_get(json, "enum");
    if (enum_json && (error = parse_enum__(&b, enum_json, err))) {
        base_type_destroy__(&b);
        return error;
    }
    *base = b;
    return 0;
}

int
ovsdb_type_from_json(const json_t *json, struct ovsdb_type *type, struct ovnic_err *err)
{
    struct ovsdb_type t;
    int error;

    memset(&t, 0, sizeof t);
    base_type_init__(&t.value, OVSDB_TYPE_VOID);
    t.n_min = 1;
    t.n_max = 1;

    if (json_is_string(json)) {
        error = base_type_from_json__(&t.key, json, err);
        if (error) {
            return error;
        }
        *type = t;
        return 0;
    }
    if (!json_is_object(json)) {
        return ovnic_err_set(err, -EINVAL, NULL, "type must be a string or object", NULL);
    }

    for (void *it = json_object_iter((json_t *)json); it;
         it = json_object_iter_next((json_t *)json, it)) {
        const char *name = json_object_iter_key(it);
        if (strcmp(name, "key") && strcmp(name, "value") && strcmp(name, "min") &&
            strcmp(name, "max")) {
            return ovnic_err_set(err, -EINVAL, NULL, "member not allowed in type",
                                 "\"%s\"", name);
        }
    }

    const json_t *min = json_object_get(json, "min");
    const json_t *max = json_object_get(json, "max");
    if (min) {
        if (!json_is_integer(min) || json_integer_value(min) < 0 ||
            json_integer_value(min) > 1) {
            return ovnic_err_set(err, -EINVAL, NULL, "\"min\" must be 0 or 1", NULL);
        }
        t.n_min = (uint32_t)json_integer_value(min);
    }
    if (max) {
        if (json_is_string(max) && !strcmp(json_string_value(max), "unlimited")) {
            t.n_max = OVSDB_N_MAX_UNLIMITED;
        } else if (json_is_integer(max) && json_integer_value(max) >= 1) {
            json_int_t v = json_integer_value(max);
            t.n_max = v >= (json_int_t)OVSDB_N_MAX_UNLIMITED ? OVSDB_N_MAX_UNLIMITED
                                                             : (uint32_t)v;
        } else {
            return ovnic_err_set(err, -EINVAL, NULL,
                                 "\"max\" must be a positive integer or \"unlimited\"",
                                 NULL);
        }
    }
    if (t.n_min > t.n_max) {
        return ovnic_err_set(err, -EINVAL, NULL, "\"min\" exceeds \"max\"", NULL);
    }

    const json_t *key = json_object_get(json, "key");
    if (!key) {
        return ovnic_err_set(err, -EINVAL, NULL, "type lacks \"key\"", NULL);
    }
    error = base_type_from_json__(&t.key, key, err);
    if (error) {
        return error;
    }
    const json_t *value = json_object_get(json, "value");
    if (value) {
        error = base_type_from_json__(&t.value, value, err);
        if (error) {
            base_type_destroy__(&t.key);
            return error;
        }
    }
    *type = t;
    return 0;
}

static void
table_schema_destroy__(struct ovsdb_table_schema *table)
{
    if (!table) {
        return;
    }
    for (size_t i = 0; i < table->n_columns; i++) {
        free(table->columns[i].name);
        ovsdb_type_destroy(&table->columns[i].type);
    }
    free(table->columns);
    free(table->name);
    free(table);
}

void
ovsdb_schema_destroy(struct ovsdb_schema *schema)
{
    if (!schema) {
        return;
    }
    for (size_t i = 0; i < schema->n_tables; i++) {
        table_schema_destroy__(schema->table_array[i]);
    }
    free(schema->table_array);
    hmap_destroy(&schema->tables);
    free(schema->name);
    free(schema->version);
    free(schema->cksum);
    free(schema);
}

/* Copies the message and detail of 'sub' into 'err' with 'object' and a prefix. */
static int
err_wrap__(struct ovnic_err *err, int code, const char *object, const char *prefix,
           const struct ovnic_err *sub)
{
    return ovnic_err_set(err, code, object, sub->message ? sub->message : "bad schema",
                         "%s%s%s", prefix, sub->detail[0] ? ": " : "", sub->detail);
}

static int
column_from_json__(struct ovsdb_column_schema *column, const char *table_name,
                   const char *name, const json_t *json, struct ovnic_err *err)
{
    if (!is_id__(name) || name[0] == '_') {
        return ovnic_err_set(err, -EINVAL, table_name, "bad column name",
                             "\"%s\" (names starting with '_' are reserved)", name);
    }
    if (!json_is_object(json)) {
        return ovnic_err_set(err, -EINVAL, table_name, "column schema must be an object",
                             "column %s", name);
    }
    const json_t *mutable_ = json_object_get(json, "mutable");
    const json_t *ephemeral = json_object_get(json, "ephemeral");
    if ((mutable_ && !json_is_boolean(mutable_)) ||
        (ephemeral && !json_is_boolean(ephemeral))) {
        return ovnic_err_set(err, -EINVAL, table_name,
                             "\"mutable\" and \"ephemeral\" must be booleans",
                             "column %s", name);
    }
    const json_t *type = json_object_get(json, "type");
    if (!type) {
        return ovnic_err_set(err, -EINVAL, table_name, "column lacks \"type\"",
                             "column %s", name);
    }
    struct ovnic_err sub = {0};
    char prefix[128];
    int error = ovsdb_type_from_json(type, &column->type, &sub);
    if (error) {
        snprintf(prefix, sizeof prefix, "column %s", name);
        return err_wrap__(err, error, table_name, prefix, &sub);
    }
    column->name = strdup(name);
    if (!column->name) {
        ovsdb_type_destroy(&column->type);
        return -ENOMEM;
    }
    column->mutable_ = mutable_ ? json_is_true(mutable_) : true;
    column->ephemeral = ephemeral ? json_is_true(ephemeral) : false;
    return 0;
}

static int
check_indexes__(const struct ovsdb_table_schema *table, const json_t *indexes,
                struct ovnic_err *err)
{
    if (!json_is_array(indexes)) {
        return ovnic_err_set(err, -EINVAL, table->name, "\"indexes\" must be an array",
                             NULL);
    }
    for (size_t i = 0; i < json_array_size(indexes); i++) {
        const json_t *index = json_array_get(indexes, i);
        if (!json_is_array(index) || !json_array_size(index)) {
            return ovnic_err_set(err, -EINVAL, table->name,
                                 "each index must be a non-empty array of column names",
                                 NULL);
        }
        for (size_t j = 0; j < json_array_size(index); j++) {
            const char *col = json_string_value(json_array_get(index, j));
            if (!col || (!ovsdb_table_schema_find_column(table, col) &&
                         strcmp(col, "_uuid") && strcmp(col, "_version"))) {
                return ovnic_err_set(err, -EINVAL, table->name,
                                     "index names an unknown column", "\"%s\"",
                                     col ? col : "?");
            }
        }
    }
    return 0;
}

static int
table_from_json__(struct ovsdb_table_schema **tablep, const char *name,
                  const json_t *json, struct ovnic_err *err)
{
    int error;

    if (!is_id__(name)) {
        return ovnic_err_set(err, -EINVAL, name, "bad table name", NULL);
    }
    if (!json_is_object(json)) {
        return ovnic_err_set(err, -EINVAL, name, "table schema must be an object", NULL);
    }
    const json_t *columns = json_object_get(json, "columns");
    if (!json_is_object(columns)) {
        return ovnic_err_set(err, -EINVAL, name, "table lacks a \"columns\" object",
                             NULL);
    }
    const json_t *is_root = json_object_get(json, "isRoot");
    if (is_root && !json_is_boolean(is_root)) {
        return ovnic_err_set(err, -EINVAL, name, "\"isRoot\" must be a boolean", NULL);
    }
    const json_t *max_rows = json_object_get(json, "maxRows");
    if (max_rows && (!json_is_integer(max_rows) || json_integer_value(max_rows) < 1)) {
        return ovnic_err_set(err, -EINVAL, name, "\"maxRows\" must be a positive integer",
                             NULL);
    }

    struct ovsdb_table_schema *table = calloc(1, sizeof *table);
    if (!table) {
        return -ENOMEM;
    }
    table->name = strdup(name);
    size_t n = json_object_size(columns);
    table->columns = calloc(n ? n : 1, sizeof *table->columns);
    if (!table->name || !table->columns) {
        error = -ENOMEM;
        goto err_free_table;
    }
    table->is_root = is_root ? json_is_true(is_root) : false;
    table->max_rows =
        max_rows ? (uint64_t)json_integer_value(max_rows) : OVSDB_MAX_ROWS_UNLIMITED;

    for (void *it_col = json_object_iter((json_t *)columns); it_col;
         it_col = json_object_iter_next((json_t *)columns, it_col)) {
        const char *col_name = json_object_iter_key(it_col);
        const json_t *col_json = json_object_iter_value(it_col);
        struct ovsdb_column_schema *column = &table->columns[table->n_columns];
        error = column_from_json__(column, name, col_name, col_json, err);
        if (error) {
            goto err_free_table;
        }
        column->index = table->n_columns++;
    }

    const json_t *indexes = json_object_get(json, "indexes");
    if (indexes && (error = check_indexes__(table, indexes, err))) {
        goto err_free_table;
    }
    *tablep = table;
    return 0;

err_free_table:
    table_schema_destroy__(table);
    return error;
}

static int
compare_tables__(const void *a_, const void *b_)
{
    const struct ovsdb_table_schema *const *a = a_;
    const struct ovsdb_table_schema *const *b = b_;
    return strcmp((*a)->name, (*b)->name);
}

static int
check_refs__(const struct ovsdb_schema *schema, const struct ovsdb_table_schema *table,
             const struct ovsdb_base_type *base, const char *column,
             struct ovnic_err *err)
{
    if (base->type == OVSDB_TYPE_UUID && base->ref_table &&
        !ovsdb_schema_find_table(schema, base->ref_table)) {
        return ovnic_err_set(err, -EINVAL, table->name, "refTable names an unknown table",
                             "column %s: \"%s\"", column, base->ref_table);
    }
    return 0;
}

int
ovsdb_schema_from_json(const json_t *json, struct ovsdb_schema **schemap,
                       struct ovnic_err *err)
{
    int error;

    if (!json_is_object(json)) {
        return ovnic_err_set(err, -EINVAL, NULL, "schema must be a JSON object", NULL);
    }
    const json_t *name = json_object_get(json, "name");
    if (!json_is_string(name) || !is_id__(json_string_value(name))) {
        return ovnic_err_set(err, -EINVAL, NULL, "schema lacks a valid \"name\"", NULL);
    }
    const json_t *version = json_object_get(json, "version");
    if (version &&
        (!json_is_string(version) || !is_version__(json_string_value(version)))) {
        return ovnic_err_set(err, -EINVAL, json_string_value(name),
                             "\"version\" must be \"x.y.z\"", NULL);
    }
    const json_t *cksum = json_object_get(json, "cksum");
    if (cksum && !json_is_string(cksum)) {
        return ovnic_err_set(err, -EINVAL, json_string_value(name),
                             "\"cksum\" must be a string", NULL);
    }
    const json_t *tables = json_object_get(json, "tables");
    if (!json_is_object(tables)) {
        return ovnic_err_set(err, -EINVAL, json_string_value(name),
                             "schema lacks a \"tables\" object", NULL);
    }

    struct ovsdb_schema *schema = calloc(1, sizeof *schema);
    if (!schema) {
        return -ENOMEM;
    }
    hmap_init(&schema->tables);
    size_t n = json_object_size(tables);
    schema->name = strdup(json_string_value(name));
    schema->version = version ? strdup(json_string_value(version)) : NULL;
    schema->cksum = cksum ? strdup(json_string_value(cksum)) : NULL;
    schema->table_array = calloc(n ? n : 1, sizeof *schema->table_array);
    if (!schema->name || (version && !schema->version) || (cksum && !schema->cksum) ||
        !schema->table_array) {
        error = -ENOMEM;
        goto err_free_schema;
    }

    for (void *it_table = json_object_iter((json_t *)tables); it_table;
         it_table = json_object_iter_next((json_t *)tables, it_table)) {
        const char *table_name = json_object_iter_key(it_table);
        const json_t *table_json = json_object_iter_value(it_table);
        struct ovsdb_table_schema *table = NULL;
        error = table_from_json__(&table, table_name, table_json, err);
        if (error) {
            goto err_free_schema;
        }
        schema->table_array[schema->n_tables++] = table;
        hmap_insert(&schema->tables, &table->node, hash_string(table->name, 0));
    }
    qsort(schema->table_array, schema->n_tables, sizeof *schema->table_array,
          compare_tables__);
    for (size_t i = 0; i < schema->n_tables; i++) {
        struct ovsdb_table_schema *table = schema->table_array[i];
        table->index = i;
        for (size_t j = 0; j < table->n_columns; j++) {
            const struct ovsdb_column_schema *c = &table->columns[j];
            error = check_refs__(schema, table, &c->type.key, c->name, err);
            if (!error) {
                error = check_refs__(schema, table, &c->type.value, c->name, err);
            }
            if (error) {
                goto err_free_schema;
            }
        }
    }
    OLOG_DBG("parsed schema %s %s: %zu tables", schema->name,
             schema->version ? schema->version : "", schema->n_tables);
    *schemap = schema;
    return 0;

err_free_schema:
    ovsdb_schema_destroy(schema);
    return error;
}

int
ovsdb_schema_from_file(const char *path, struct ovsdb_schema **schema,
                       struct ovnic_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int error = -errno;
        return ovnic_err_set(err, error, path, "cannot open schema file", NULL);
    }
    json_error_t jerr;
    json_t *json = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!json) {
        return ovnic_err_set(err, -EINVAL, path, "schema file is not valid JSON",
                             "line %d: %s", jerr.line, jerr.text);
    }
    int error = ovsdb_schema_from_json(json, schema, err);
    json_decref(json);
    return error;
}

const struct ovsdb_table_schema *
ovsdb_schema_find_table(const struct ovsdb_schema *schema, const char *name)
{
    const struct ovsdb_table_schema *table;
    HMAP_FOR_EACH_WITH_HASH (table, node, hash_string(name, 0), &schema->tables) {
        if (!strcmp(table->name, name)) {
            return table;
        }
    }
    return NULL;
}

const struct ovsdb_column_schema *
ovsdb_table_schema_find_column(const struct ovsdb_table_schema *table, const char *name)
{
    /* Tables have few columns (at most a few dozen): a linear scan beats hashing. */
    for (size_t i = 0; i < table->n_columns; i++) {
        if (!strcmp(table->columns[i].name, name)) {
            return &table->columns[i];
        }
    }
    return NULL;
}
