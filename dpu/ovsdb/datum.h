/* ovnic: OVSDB atoms and datums (RFC 7047 section 5.1).
 *
 * A datum is the value of one cell: a set of atoms, or a map from atoms to atoms.
 * Scalars are sets with exactly one element, optional values sets with at most one.
 * Keys are kept sorted and unique (in the order ovsdb-server uses), so that equal
 * datums have equal representations and lookups are binary searches.
 *
 * Memory: a datum owns one allocation that holds its keys followed by its values
 * (maps only); string atoms own their own copy of the text.  An empty datum owns
 * nothing.  A datum records its atomic types, so that it can be compared, printed or
 * freed without its column type at hand. */
#ifndef OVNIC_OVSDB_DATUM_H
#define OVNIC_OVSDB_DATUM_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/ovsdb/schema.h"
#include "shared/util/err.h"
#include "shared/util/uuid.h"

union ovsdb_atom {
    int64_t integer;
    double real;
    bool boolean;
    char *string; /* NUL-terminated, valid UTF-8, no embedded NUL; owned. */
    struct uuid uuid;
};

struct ovsdb_datum {
    uint32_t n;               /* Number of elements (pairs, for a map). */
    uint8_t key_type;         /* enum ovsdb_atomic_type, never OVSDB_TYPE_VOID. */
    uint8_t value_type;       /* OVSDB_TYPE_VOID unless this is a map. */
    union ovsdb_atom *keys;   /* 'n' keys, sorted, unique; NULL if 'n' is 0. */
    union ovsdb_atom *values; /* Maps: 'n' values, same allocation; else NULL. */
};

/* ---- Atoms ---- */

/** Name of 'type' as the schema spells it ("integer", ...; "void" for VOID). */
const char *ovsdb_atomic_type_to_string(enum ovsdb_atomic_type type);

/** Parses 'name' ("integer", "real", "boolean", "string", "uuid").  Returns 0 or
 * -EINVAL. */
int ovsdb_atomic_type_from_string(const char *name, enum ovsdb_atomic_type *type);

/** Parses one <atom> (borrowed) of 'base''s type and checks every constraint of
 * 'base' (range, length, enum).  On success '*atom' holds the value; the caller owns
 * it (free with ovsdb_atom_destroy()).  Returns 0 or -EINVAL ('err' says why), or
 * -ENOMEM. */
int ovsdb_atom_from_json(union ovsdb_atom *atom, const struct ovsdb_base_type *base,
                         const json_t *json, struct ovnic_err *err);

/** Checks 'atom' against the constraints of 'base' (whose type it must have).
 * Returns 0 or -EINVAL. */
int ovsdb_atom_check(const union ovsdb_atom *atom, const struct ovsdb_base_type *base,
                     struct ovnic_err *err);

/** The atom in RFC 7047 notation, as ovsdb-server writes it (integral reals as
 * integers, uuids as ["uuid", "..."]).  Caller owns the result; NULL on allocation
 * failure. */
json_t *ovsdb_atom_to_json(const union ovsdb_atom *atom, enum ovsdb_atomic_type type);

/** Three-way comparison in ovsdb-server's order (strings bytewise, uuids by their text
 * form). */
int ovsdb_atom_compare(const union ovsdb_atom *a, const union ovsdb_atom *b,
                       enum ovsdb_atomic_type type);
bool ovsdb_atom_equals(const union ovsdb_atom *a, const union ovsdb_atom *b,
                       enum ovsdb_atomic_type type);
uint32_t ovsdb_atom_hash(const union ovsdb_atom *atom, enum ovsdb_atomic_type type,
                         uint32_t basis);

/** Copies 'src' into '*dst' (strings duplicated).  Returns 0 or -ENOMEM. */
int ovsdb_atom_clone(union ovsdb_atom *dst, const union ovsdb_atom *src,
                     enum ovsdb_atomic_type type);

/** Frees what 'atom' owns (its string). */
void ovsdb_atom_destroy(union ovsdb_atom *atom, enum ovsdb_atomic_type type);

/* ---- Datums ---- */

/** Makes '*datum' an empty set or map for 'type' (owns nothing). */
void ovsdb_datum_init_empty(struct ovsdb_datum *datum, const struct ovsdb_type *type);

/** Makes '*datum' the default value for 'type': empty if 'type' allows that, else one
 * default atom (0, 0.0, false, "", or the all-zero uuid; and the same for the value of
 * a map).  Caller owns it.  Returns 0 or -ENOMEM. */
int ovsdb_datum_init_default(struct ovsdb_datum *datum, const struct ovsdb_type *type);

/** Parses a <value> (borrowed) of 'type': a bare atom (one-element set), ["set", [...]]
 * or ["map", [[k, v], ...]], checking every atom and the element count, and rejecting
 * duplicate elements or keys.  Caller owns '*datum' (free with ovsdb_datum_destroy());
 * untouched on failure.  Returns 0, -EINVAL ('err' says why) or -ENOMEM. */
int ovsdb_datum_from_json(struct ovsdb_datum *datum, const struct ovsdb_type *type,
                          const json_t *json, struct ovnic_err *err);

/** The datum in RFC 7047 notation exactly as ovsdb-server writes it: a map as
 * ["map", [[k, v], ...]] (even when empty); a set of one element as the bare atom;
 * any other set as ["set", [...]].  Caller owns the result; NULL on allocation
 * failure. */
json_t *ovsdb_datum_to_json(const struct ovsdb_datum *datum);

/** Frees what 'datum' owns and leaves it empty (may be NULL). */
void ovsdb_datum_destroy(struct ovsdb_datum *datum);

/** Deep copy of 'src' into '*dst'.  Caller owns '*dst'.  Returns 0 or -ENOMEM. */
int ovsdb_datum_clone(struct ovsdb_datum *dst, const struct ovsdb_datum *src);

/** Swaps the contents of 'a' and 'b'. */
void ovsdb_datum_swap(struct ovsdb_datum *a, struct ovsdb_datum *b);

/** Three-way comparison (element by element, then by size).  Datums of different
 * types compare by type. */
int ovsdb_datum_compare(const struct ovsdb_datum *a, const struct ovsdb_datum *b);
bool ovsdb_datum_equals(const struct ovsdb_datum *a, const struct ovsdb_datum *b);
uint32_t ovsdb_datum_hash(const struct ovsdb_datum *datum, uint32_t basis);

/** Checks that 'datum' fits 'type': same atomic types, element count within
 * [n_min, n_max], every atom within its constraints.  Returns 0 or -EINVAL. */
int ovsdb_datum_check(const struct ovsdb_datum *datum, const struct ovsdb_type *type,
                      struct ovnic_err *err);

/** True if a "modify" of OVS's update2/update3 carries a diff for a column of 'type'
 * (maps, and sets that may hold more than one element), false if it carries the new
 * value (columns with at most one element). */
bool ovsdb_type_modify_is_diff(const struct ovsdb_type *type);

/** Parses the <value> (borrowed) of a "modify" for a column of 'type' and applies it
 * to 'old' (borrowed): for a set, the elements it lists are toggled (symmetric
 * difference); for a map, a listed key that is present with the same value is
 * removed, present with another value takes the new value, absent is added.  The
 * result must fit 'type'.  For a column whose modify carries a new value
 * (ovsdb_type_modify_is_diff() false) this is ovsdb_datum_from_json().  Caller owns
 * '*result'; untouched on failure.  Returns 0, -EINVAL ('err' says why) or -ENOMEM. */
int ovsdb_datum_apply_diff_json(struct ovsdb_datum *result, const struct ovsdb_datum *old,
                                const struct ovsdb_type *type, const json_t *diff,
                                struct ovnic_err *err);

/** Applies the already parsed 'diff' (same types as 'old'; sorted and unique) to
 * 'old', as above, and checks the element count against 'type'.  Returns 0, -EINVAL or
 * -ENOMEM. */
int ovsdb_datum_apply_diff(struct ovsdb_datum *result, const struct ovsdb_datum *old,
                           const struct ovsdb_datum *diff, const struct ovsdb_type *type,
                           struct ovnic_err *err);

/** Index of 'key' among the datum's keys, or -1 (binary search).  'key' must have the
 * datum's key type. */
long ovsdb_datum_find_key(const struct ovsdb_datum *datum, const union ovsdb_atom *key);

/** True if 'datum' has no element. */
static inline bool
ovsdb_datum_is_empty(const struct ovsdb_datum *datum)
{
    return datum->n == 0;
}

/** True if 'datum' is a map. */
static inline bool
ovsdb_datum_is_map(const struct ovsdb_datum *datum)
{
    return datum->value_type != OVSDB_TYPE_VOID;
}

/* ---- Accessors for consumers.  Each checks the datum's type and returns the
 * default when the datum is NULL, empty, or of another type. ---- */

/** First key as a string (borrowed, valid while the datum is), or 'default_'. */
const char *ovsdb_datum_get_string(const struct ovsdb_datum *datum, const char *default_);

/** First key as an integer, or 'default_'. */
int64_t ovsdb_datum_get_int(const struct ovsdb_datum *datum, int64_t default_);

/** First key as a real (integers are converted), or 'default_'. */
double ovsdb_datum_get_real(const struct ovsdb_datum *datum, double default_);

/** First key as a boolean, or 'default_'. */
bool ovsdb_datum_get_bool(const struct ovsdb_datum *datum, bool default_);

/** First key as a uuid (borrowed), or NULL. */
const struct uuid *ovsdb_datum_get_uuid(const struct ovsdb_datum *datum);

/** True if the set (or map keys) of strings 'datum' contains 'key'. */
bool ovsdb_datum_contains_string(const struct ovsdb_datum *datum, const char *key);

/** True if the set (or map keys) of uuids 'datum' contains 'uuid'. */
bool ovsdb_datum_contains_uuid(const struct ovsdb_datum *datum, const struct uuid *uuid);

/** In a map with string keys: the value atom for 'key' (borrowed), or NULL. */
const union ovsdb_atom *ovsdb_datum_map_get(const struct ovsdb_datum *datum,
                                            const char *key);

/** In a map from strings to strings: the value for 'key' (borrowed), or 'default_'. */
const char *ovsdb_datum_map_get_string(const struct ovsdb_datum *datum, const char *key,
                                       const char *default_);

/** In a map with string keys and integer values: the value for 'key', or
 * 'default_'. */
int64_t ovsdb_datum_map_get_int(const struct ovsdb_datum *datum, const char *key,
                                int64_t default_);

#endif /* OVNIC_OVSDB_DATUM_H */
