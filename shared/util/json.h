/* ovnic: JSON utilities over jansson, with the OVSDB (RFC 7047) notations.
 *
 * - Typed member getters that explain failures through 'struct ovnic_err':
 *
 *       const char *method;
 *       const json_t *params;
 *       int error = json_get_string(msg, "method", &method, err);
 *       if (!error) {
 *           error = json_get_array(msg, "params", &params, err);
 *       }
 *
 *   The required variants fail with -EINVAL when the member is missing or has the
 *   wrong type.  The "_opt" variants return 0 and leave the output untouched when the
 *   member is missing or null (so set the default first), and fail with -EINVAL only
 *   when it is present with the wrong type.  Every getter also fails with -EINVAL if
 *   'obj' is not an object.  Values that come out are borrowed from 'obj' and valid
 *   while 'obj' is.
 *
 * - Text: json_to_string() (compact), json_from_buffer() (one complete value) and
 *   struct json_framer (values back to back in a byte stream).
 *
 * - OVSDB notations: ["uuid", "..."], ["named-uuid", "..."], ["set", [...]],
 *   ["map", [[k, v], ...]], and json_ovsdb_datum_equal(), which compares two values
 *   treating sets and maps as unordered (and a one-element set as its element). */
#ifndef OVNIC_UTIL_JSON_H
#define OVNIC_UTIL_JSON_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/util/err.h"
#include "shared/util/uuid.h"

/* ---- Member getters. ---------------------------------------------------------- */

/** Refuses a member of object 'obj' whose name is not in 'allowed' (NULL-terminated):
 * -EINVAL, with 'err' (domain 'domain') naming the member and 'where' ("'M' in
 * WHERE").  Returns 0 when every member is allowed. */
int json_check_members(const json_t *obj, const char *const *allowed, const char *domain,
                       const char *where, struct ovnic_err *err);

/** Any value of member 'key' of 'obj' (null included).  Borrowed.
 * Returns 0, or -EINVAL if 'obj' is not an object or has no member 'key'. */
int json_get(const json_t *obj, const char *key, const json_t **out,
             struct ovnic_err *err);

/** String member.  '*out' is borrowed (NUL-terminated; a string holding a NUL byte is
 * rejected).  Returns 0 or -EINVAL. */
int json_get_string(const json_t *obj, const char *key, const char **out,
                    struct ovnic_err *err);
int json_get_string_opt(const json_t *obj, const char *key, const char **out,
                        struct ovnic_err *err);

/** Integer member (a JSON number without fraction or exponent).  Returns 0 or
 * -EINVAL. */
int json_get_int(const json_t *obj, const char *key, int64_t *out, struct ovnic_err *err);
int json_get_int_opt(const json_t *obj, const char *key, int64_t *out,
                     struct ovnic_err *err);

/** Integer member within ['min', 'max'].  Returns 0, -EINVAL (missing, wrong type) or
 * -ERANGE (out of range). */
int json_get_int_range(const json_t *obj, const char *key, int64_t min, int64_t max,
                       int64_t *out, struct ovnic_err *err);

/** Number member (integer or real), as a double.  Returns 0 or -EINVAL. */
int json_get_number(const json_t *obj, const char *key, double *out,
                    struct ovnic_err *err);

/** Boolean member.  Returns 0 or -EINVAL. */
int json_get_bool(const json_t *obj, const char *key, bool *out, struct ovnic_err *err);
int json_get_bool_opt(const json_t *obj, const char *key, bool *out,
                      struct ovnic_err *err);

/** Object member.  '*out' is borrowed.  Returns 0 or -EINVAL. */
int json_get_object(const json_t *obj, const char *key, const json_t **out,
                    struct ovnic_err *err);
int json_get_object_opt(const json_t *obj, const char *key, const json_t **out,
                        struct ovnic_err *err);

/** Array member.  '*out' is borrowed.  Returns 0 or -EINVAL. */
int json_get_array(const json_t *obj, const char *key, const json_t **out,
                   struct ovnic_err *err);
int json_get_array_opt(const json_t *obj, const char *key, const json_t **out,
                       struct ovnic_err *err);

/** A short name for the type of 'json' ("object", "string", ...; "absent" for NULL),
 * for messages.  Static. */
const char *json_type_name(const json_t *json);

/* ---- Text. -------------------------------------------------------------------- */

/** Compact serialisation of any value (scalars included), keys in insertion order.
 * Caller owns the result; free with free().  NULL if 'json' is NULL or out of
 * memory. */
char *json_to_string(const json_t *json);

/** Like json_to_string(), with object keys sorted: a stable form for logs and tests. */
char *json_to_string_sorted(const json_t *json);

/** Parses 'len' bytes at 'buf' as exactly one JSON value (of any type; whitespace
 * around it allowed).  On success stores a new value in '*out'; caller owns it (free
 * with json_decref()).  Returns 0, -EINVAL on malformed input (the error records the
 * line, column and cause), or -ENOMEM. */
int json_from_buffer(const char *buf, size_t len, json_t **out, struct ovnic_err *err);

/** Finds the messages in a byte stream: JSON-RPC over a stream carries JSON objects
 * back to back with no other framing.  The framer remembers how far it has scanned, so
 * feeding a growing buffer costs time linear in its length:
 *
 *     struct json_framer framer;
 *     json_framer_init(&framer);
 *     on more bytes appended to 'buf':
 *         while (!(error = json_framer_parse(&framer, buf, len, &msg, &n, err))) {
 *             handle(msg); json_decref(msg);
 *             drop the first 'n' bytes of 'buf', len -= n;
 *         }
 *         -EAGAIN: wait for more bytes; anything else: drop the connection.
 */
struct json_framer {
    size_t scanned; /* Bytes of the current buffer already examined. */
    size_t depth;   /* Open '{'/'[' not yet closed. */
    bool in_string;
    bool escaped; /* Previous byte was a backslash inside a string. */
};

/** Prepares 'framer' for a stream. */
void json_framer_init(struct json_framer *framer);

/** Extracts the first JSON object or array from 'buf' ('len' bytes), where 'buf' starts
 * at the first byte not yet consumed and holds at least the bytes given to the previous
 * call.  On success stores a new value in '*out' (caller owns; free with json_decref())
 * and the number of bytes it used, leading whitespace included, in '*consumed', and
 * resets 'framer' for the next value, which starts at 'buf' + '*consumed'.  Returns 0,
 * -EAGAIN if 'buf' holds only part of a value (or only whitespace), -EINVAL if the value
 * is malformed or not an object or array, or -ENOMEM.  Outputs are untouched on
 * failure.  After -EINVAL the stream cannot be resynchronised: drop it (and
 * json_framer_init() before using 'framer' on another one). */
int json_framer_parse(struct json_framer *framer, const char *buf, size_t len,
                      json_t **out, size_t *consumed, struct ovnic_err *err);

/** json_framer_parse() with a fresh framer: for a buffer examined only once. */
int json_parse_prefix(const char *buf, size_t len, json_t **out, size_t *consumed,
                      struct ovnic_err *err);

/* ---- OVSDB notations. --------------------------------------------------------- */

/** ["uuid", "<uuid>"].  Caller owns; free with json_decref().  NULL if out of
 * memory. */
json_t *json_ovsdb_uuid(const struct uuid *uuid);

/** Parses ["uuid", "<uuid>"] into '*uuid'.  Returns 0 or -EINVAL. */
int json_ovsdb_uuid_parse(const json_t *json, struct uuid *uuid, struct ovnic_err *err);

/** ["named-uuid", 'name'].  'name' must be an OVSDB <id> ([A-Za-z_][A-Za-z0-9_]*).
 * Caller owns; free with json_decref().  NULL if 'name' is invalid or out of memory. */
json_t *json_ovsdb_named_uuid(const char *name);

/** Parses ["named-uuid", "<id>"]; '*name' is borrowed from 'json'.  Returns 0 or
 * -EINVAL. */
int json_ovsdb_named_uuid_parse(const json_t *json, const char **name,
                                struct ovnic_err *err);

/** Length of the <id> that json_ovsdb_uuid_to_name() writes, without the NUL. */
#define JSON_OVSDB_UUID_NAME_LEN (4 + UUID_LEN)

/** Writes an OVSDB <id> derived from 'uuid' ("row_" then the UUID with '_' for '-'),
 * so that a row inserted under a UUID chosen in advance can be referred to in the same
 * transaction.  Returns 'buf'. */
char *json_ovsdb_uuid_to_name(const struct uuid *uuid,
                              char buf[JSON_OVSDB_UUID_NAME_LEN + 1]);

/** ["named-uuid", <name from json_ovsdb_uuid_to_name()>].  Caller owns; free with
 * json_decref().  NULL if out of memory. */
json_t *json_ovsdb_named_uuid_from_uuid(const struct uuid *uuid);

/** Parses ["named-uuid", <name from json_ovsdb_uuid_to_name()>] back into '*uuid'.
 * Returns 0 or -EINVAL (also for a valid named-uuid with another kind of name). */
int json_ovsdb_named_uuid_to_uuid(const json_t *json, struct uuid *uuid,
                                  struct ovnic_err *err);

/** ["set", 'elements'] (NULL: an empty array).  Takes ownership of 'elements', which
 * must be an array (it is released on failure too).  Caller owns the result; free with
 * json_decref().  NULL if 'elements' is not an array or out of memory. */
json_t *json_ovsdb_set(json_t *elements);

/** ["map", 'pairs'] (NULL: an empty array), 'pairs' being an array of two-element
 * arrays.  Same ownership rules as json_ovsdb_set(). */
json_t *json_ovsdb_map(json_t *pairs);

/** Appends 'element' to a set made by json_ovsdb_set().  Takes ownership of
 * 'element'.  Returns 0, -EINVAL if 'set' is not a set, or -ENOMEM. */
int json_ovsdb_set_add(json_t *set, json_t *element);

/** Appends the pair ['key', 'value'] to a map made by json_ovsdb_map().  Takes
 * ownership of 'key' and 'value'.  Returns 0, -EINVAL if 'map' is not a map, or
 * -ENOMEM. */
int json_ovsdb_map_add(json_t *map, json_t *key, json_t *value);

/** The elements of an OVSDB set datum: '*elems' is the array inside ["set", [...]]
 * (borrowed) and '*single' is NULL; or, for a datum written as a bare atom, '*elems'
 * is NULL and '*single' is that atom (borrowed).  Use json_ovsdb_set_size() and
 * json_ovsdb_set_get() for a simpler walk.  Returns 0 or -EINVAL. */
int json_ovsdb_set_parse(const json_t *datum, const json_t **elems, const json_t **single,
                         struct ovnic_err *err);

/** Number of elements of a set datum (1 for a bare atom); 0 if not a set datum. */
size_t json_ovsdb_set_size(const json_t *datum);

/** Element 'i' of a set datum (a bare atom is its own element 0), borrowed; NULL if out
 * of range or not a set datum. */
const json_t *json_ovsdb_set_get(const json_t *datum, size_t i);

/** The pairs of ["map", [[k, v], ...]]: '*pairs' is the inner array (borrowed), every
 * element of which was checked to be a two-element array.  Returns 0 or -EINVAL. */
int json_ovsdb_map_parse(const json_t *datum, const json_t **pairs,
                         struct ovnic_err *err);

/** Compares two values as OVSDB data: sets and maps compare as unordered collections
 * (duplicates counted), a one-element set equals its element, an integer equals a
 * real of the same value, ["uuid", ...] values compare case-insensitively, and object
 * members compare recursively by key.  NULL equals only NULL.  False if out of
 * memory. */
bool json_ovsdb_datum_equal(const json_t *a, const json_t *b);

/** A canonical text form of 'json' under the rules of json_ovsdb_datum_equal(): two
 * values are equal exactly when their canonical forms are.  It reads as compact JSON
 * (NULL gives "").  Caller owns; free with free().  NULL if out of memory. */
char *json_ovsdb_canonical(const json_t *json);

#endif /* OVNIC_UTIL_JSON_H */
