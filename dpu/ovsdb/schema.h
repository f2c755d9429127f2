/* ovnic: OVSDB schemas and types (RFC 7047 section 3.2). */
#ifndef OVNIC_OVSDB_SCHEMA_H
#define OVNIC_OVSDB_SCHEMA_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/util/err.h"
#include "shared/util/hmap.h"

enum ovsdb_atomic_type {
    OVSDB_TYPE_VOID, /* Only as a value type: "no value" (a set, not a map). */
    OVSDB_TYPE_INTEGER,
    OVSDB_TYPE_REAL,
    OVSDB_TYPE_BOOLEAN,
    OVSDB_TYPE_STRING,
    OVSDB_TYPE_UUID,
};

struct ovsdb_datum;

struct ovsdb_base_type {
    enum ovsdb_atomic_type type;
    struct ovsdb_datum *enum_; /* Allowed values ("enum"), or NULL. */
    int64_t min_integer, max_integer;
    double min_real, max_real;
    unsigned int min_length, max_length; /* Strings. */
    char *ref_table;                     /* UUIDs: "refTable", or NULL. */
    bool ref_strong;                     /* UUIDs: "refType" is "strong". */
};

#define OVSDB_N_MAX_UNLIMITED UINT32_MAX

struct ovsdb_type {
    struct ovsdb_base_type key;
    struct ovsdb_base_type value; /* type OVSDB_TYPE_VOID for scalars and sets. */
    uint32_t n_min;
    uint32_t n_max;
};

struct ovsdb_column_schema {
    char *name;
    struct ovsdb_type type;
    bool mutable_;
    bool ephemeral;
    size_t index; /* Position in the table's 'columns'. */
};

#define OVSDB_MAX_ROWS_UNLIMITED UINT64_MAX

struct ovsdb_table_schema {
    struct hmap_node node; /* In ovsdb_schema's 'tables', by hash_string(name). */
    char *name;
    struct ovsdb_column_schema *columns; /* User columns, in schema order. */
    size_t n_columns;
    bool is_root;
    uint64_t max_rows; /* OVSDB_MAX_ROWS_UNLIMITED if the schema sets no limit. */
    size_t index;      /* Position in the schema's 'table_array'. */
};

struct ovsdb_schema {
    char *name;
    char *version;
    char *cksum;
    struct hmap tables;
    struct ovsdb_table_schema **table_array; /* Sorted by name. */
    size_t n_tables;
};

/** Parses a <database-schema> (borrowed).  Caller owns '*schema'; free with
 * ovsdb_schema_destroy().  Returns 0 or -EINVAL (with 'err' saying where).
 *
 * Unknown members are rejected inside column types (an unknown constraint could not
 * be enforced) and ignored in database, table and column objects, so that a newer
 * server's schema stays readable.  "indexes" is checked for shape and otherwise
 * ignored.  May also return -ENOMEM. */
int ovsdb_schema_from_json(const json_t *json, struct ovsdb_schema **schema,
                           struct ovnic_err *err);

/** Reads and parses the schema file at 'path'.  Returns 0, a negative errno from
 * reading the file, or an error of ovsdb_schema_from_json(). */
int ovsdb_schema_from_file(const char *path, struct ovsdb_schema **schema,
                           struct ovnic_err *err);

void ovsdb_schema_destroy(struct ovsdb_schema *schema);

/** Parses a column <type> (borrowed): an atomic type name, or an object with "key",
 * optional "value", "min" (0 or 1) and "max" (>= 1 or "unlimited").  References
 * ("refTable") are not resolved here.  Caller owns '*type'; free with
 * ovsdb_type_destroy(); untouched on failure.  Returns 0, -EINVAL or -ENOMEM. */
int ovsdb_type_from_json(const json_t *json, struct ovsdb_type *type,
                         struct ovnic_err *err);

/** Frees what 'type' owns (enums, refTable names); 'type' may be NULL. */
void ovsdb_type_destroy(struct ovsdb_type *type);

/** True if 'type' is a map (has a value type). */
static inline bool
ovsdb_type_is_map(const struct ovsdb_type *type)
{
    return type->value.type != OVSDB_TYPE_VOID;
}

/** True if 'type' holds exactly one atom (min 1, max 1, not a map). */
static inline bool
ovsdb_type_is_scalar(const struct ovsdb_type *type)
{
    return type->n_min == 1 && type->n_max == 1 && !ovsdb_type_is_map(type);
}

const struct ovsdb_table_schema *
ovsdb_schema_find_table(const struct ovsdb_schema *schema, const char *name);
const struct ovsdb_column_schema *
ovsdb_table_schema_find_column(const struct ovsdb_table_schema *table, const char *name);

#endif /* OVNIC_OVSDB_SCHEMA_H */
