/* ovnic: JSON utilities over jansson, with the OVSDB (RFC 7047) notations. */
#include "shared/util/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- A growing string buffer. ------------------------------------------------- */

struct jbuf {
    char *s;
    size_t len;
    size_t cap;
    bool failed;
};

static bool
jbuf_reserve__(struct jbuf *b, size_t n)
{
    if (b->failed) {
        return false;
    }
    if (n + 1 > b->cap - b->len || !b->s) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->len < n + 1) {
            if (cap > SIZE_MAX / 2) {
                b->failed = true;
                return false;
            }
            cap *= 2;
        }
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = true;
            return false;
        }
        b->s = s;
        b->cap = cap;
    }
    return true;
}

static void
jbuf_put__(struct jbuf *b, const char *data, size_t n)
{
    if (jbuf_reserve__(b, n)) {
        memcpy(b->s + b->len, data, n);
        b->len += n;
        b->s[b->len] = '\0';
    }
}

static void
jbuf_puts__(struct jbuf *b, const char *s)
{
    jbuf_put__(b, s, strlen(s));
}

static void
jbuf_putc__(struct jbuf *b, char c)
{
    jbuf_put__(b, &c, 1);
}

static void OVNIC_PRINTF(2, 3) jbuf_printf__(struct jbuf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, args);
    va_end(args);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->failed = true;
        return;
    }
    jbuf_put__(b, tmp, (size_t)n);
}

/* Returns the NUL-terminated contents (caller frees), or NULL after a failure. */
static char *
jbuf_take__(struct jbuf *b)
{
    if (b->failed || !jbuf_reserve__(b, 0)) {
        free(b->s);
        return NULL;
    }
    b->s[b->len] = '\0';
    return b->s;
}

/* ---- Member getters. ---------------------------------------------------------- */

const char *
json_type_name(const json_t *json)
{
    if (!json) {
        return "absent";
    }
    switch (json_typeof(json)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "real";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

/* Looks up 'key' in 'obj'.  Stores the value (NULL when absent or null and
 * '!required') in '*out'. */
static int
member__(const json_t *obj, const char *key, bool required, const json_t **out,
         struct ovnic_err *err)
{
    if (!json_is_object(obj)) {
        return ovnic_err_set(err, -EINVAL, key, "not a JSON object", "got %s",
                             json_type_name(obj));
    }
    const json_t *value = json_object_get(obj, key);
    if (!required && json_is_null(value)) {
        value = NULL;
    }
    if (!value && required) {
        return ovnic_err_set(err, -EINVAL, key, "missing member", NULL);
    }
    *out = value;
    return 0;
}

static int
wrong_type__(const char *key, const char *expected, const json_t *value,
             struct ovnic_err *err)
{
    return ovnic_err_set(err, -EINVAL, key, "member has the wrong type",
                         "expected %s, got %s", expected, json_type_name(value));
}

int
json_check_members(const json_t *obj, const char *const *allowed, const char *domain,
                   const char *where, struct ovnic_err *err)
{
    const char *key;
    json_t *value;

    json_object_foreach((json_t *)obj, key, value)
    {
        const char *const *a;

        for (a = allowed; *a && strcmp(*a, key); a++) {
            continue;
        }
        if (!*a) {
            return ovnic_err_set(err, -EINVAL, domain, "unknown member", "'%s' in %s",
                                 key, where);
        }
    }
    return 0;
}

int
json_get(const json_t *obj, const char *key, const json_t **out, struct ovnic_err *err)
{
    return member__(obj, key, true, out, err);
}

static int
get_string__(const json_t *obj, const char *key, bool required, const char **out,
             struct ovnic_err *err)
{
    const json_t *value;
    int error = member__(obj, key, required, &value, err);
    if (error || !value) {
        return error;
    }
    if (!json_is_string(value)) {
        return wrong_type__(key, "string", value, err);
    }
    const char *s = json_string_value(value);
    if (strlen(s) != json_string_length(value)) {
        return ovnic_err_set(err, -EINVAL, key, "string holds a NUL byte", NULL);
    }
    *out = s;
    return 0;
}

int
json_get_string(const json_t *obj, const char *key, const char **out,
                struct ovnic_err *err)
{
    return get_string__(obj, key, true, out, err);
}

int
json_get_string_opt(const json_t *obj, const char *key, const char **out,
                    struct ovnic_err *err)
{
    return get_string__(obj, key, false, out, err);
}

static int
get_int__(const json_t *obj, const char *key, bool required, int64_t *out,
          struct ovnic_err *err)
{
    const json_t *value;
    int error = member__(obj, key, required, &value, err);
    if (error || !value) {
        return error;
    }
    if (!json_is_integer(value)) {
        return wrong_type__(key, "integer", value, err);
    }
    *out = json_integer_value(value);
    return 0;
}

int
json_get_int(const json_t *obj, const char *key, int64_t *out, struct ovnic_err *err)
{
    return get_int__(obj, key, true, out, err);
}

int
json_get_int_opt(const json_t *obj, const char *key, int64_t *out, struct ovnic_err *err)
{
    return get_int__(obj, key, false, out, err);
}

int
json_get_int_range(const json_t *obj, const char *key, int64_t min, int64_t max,
                   int64_t *out, struct ovnic_err *err)
{
    int64_t value = 0;
    int error = get_int__(obj, key, true, &value, err);
    if (error) {
        return error;
    }
    if (value < min || value > max) {
        return ovnic_err_set(err, -ERANGE, key, "integer out of range",
                             "%" PRId64 " not in [%" PRId64 ", %" PRId64 "]", value, min,
                             max);
    }
    *out = value;
    return 0;
}

int
json_get_number(const json_t *obj, const char *key, double *out, struct ovnic_err *err)
{
    const json_t *value;
    int error = member__(obj, key, true, &value, err);
    if (error) {
        return error;
    }
    if (!json_is_number(value)) {
        return wrong_type__(key, "number", value, err);
    }
    *out = json_number_value(value);
    return 0;
}

static int
get_bool__(const json_t *obj, const char *key, bool required, bool *out,
           struct ovnic_err *err)
{
    const json_t *value;
    int error = member__(obj, key, required, &value, err);
    if (error || !value) {
        return error;
    }
    if (!json_is_boolean(value)) {
        return wrong_type__(key, "boolean", value, err);
    }
    *out = json_is_true(value);
    return 0;
}

int
json_get_bool(const json_t *obj, const char *key, bool *out, struct ovnic_err *err)
{
    return get_bool__(obj, key, true, out, err);
}

int
json_get_bool_opt(const json_t *obj, const char *key, bool *out, struct ovnic_err *err)
{
    return get_bool__(obj, key, false, out, err);
}

static int
get_typed__(const json_t *obj, const char *key, bool required, json_type type,
            const char *type_name, const json_t **out, struct ovnic_err *err)
{
    const json_t *value;
    int error = member__(obj, key, required, &value, err);
    if (error || !value) {
        return error;
    }
    if (json_typeof(value) != type) {
        return wrong_type__(key, type_name, value, err);
    }
    *out = value;
    return 0;
}

int
json_get_object(const json_t *obj, const char *key, const json_t **out,
                struct ovnic_err *err)
{
    return get_typed__(obj, key, true, JSON_OBJECT, "object", out, err);
}

int
json_get_object_opt(const json_t *obj, const char *key, const json_t **out,
                    struct ovnic_err *err)
{
    return get_typed__(obj, key, false, JSON_OBJECT, "object", out, err);
}

int
json_get_array(const json_t *obj, const char *key, const json_t **out,
               struct ovnic_err *err)
{
    return get_typed__(obj, key, true, JSON_ARRAY, "array", out, err);
}

int
json_get_array_opt(const json_t *obj, const char *key, const json_t **out,
                   struct ovnic_err *err)
{
    return get_typed__(obj, key, false, JSON_ARRAY, "array", out, err);
}

/* ---- Text. -------------------------------------------------------------------- */

static int
dump_cb__(const char *buffer, size_t size, void *b_)
{
    struct jbuf *b = b_;
    jbuf_put__(b, buffer, size);
    return b->failed ? -1 : 0;
}

static char *
to_string__(const json_t *json, size_t flags)
{
    if (!json) {
        return NULL;
    }
    struct jbuf b = {NULL, 0, 0, false};
    if (json_dump_callback(json, dump_cb__, &b, flags | JSON_COMPACT | JSON_ENCODE_ANY)) {
        free(b.s);
        return NULL;
    }
    return jbuf_take__(&b);
}

char *
json_to_string(const json_t *json)
{
    return to_string__(json, 0);
}

char *
json_to_string_sorted(const json_t *json)
{
    return to_string__(json, JSON_SORT_KEYS);
}

static int
load__(const char *buf, size_t len, size_t flags, json_t **out, struct ovnic_err *err)
{
    json_error_t jerr;
    json_t *json = json_loadb(buf, len, flags | JSON_REJECT_DUPLICATES, &jerr);
    if (!json) {
        if (json_error_code(&jerr) == json_error_out_of_memory) {
            return ovnic_err_set(err, -ENOMEM, "JSON", "out of memory while parsing",
                                 NULL);
        }
        return ovnic_err_set(err, -EINVAL, "JSON", "malformed JSON",
                             "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    }
    *out = json;
    return 0;
}

int
json_from_buffer(const char *buf, size_t len, json_t **out, struct ovnic_err *err)
{
    return load__(buf, len, JSON_DECODE_ANY, out, err);
}

void
json_framer_init(struct json_framer *framer)
{
    memset(framer, 0, sizeof *framer);
}

static bool
is_space__(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
json_framer_parse(struct json_framer *framer, const char *buf, size_t len, json_t **out,
                  size_t *consumed, struct ovnic_err *err)
{
    if (framer->scanned > len) {
        /* The caller shrank the buffer under us: start over. */
        json_framer_init(framer);
    }
    for (size_t i = framer->scanned; i < len; i++) {
        char c = buf[i];
        if (!framer->depth) {
            if (c == '{' || c == '[') {
                framer->depth = 1;
            } else if (!is_space__(c)) {
                json_framer_init(framer);
                return ovnic_err_set(
                    err, -EINVAL, "JSON", "stream value is not an object or array",
                    "unexpected byte 0x%02x at offset %zu", (unsigned char)c, i);
            }
        } else if (framer->in_string) {
            if (framer->escaped) {
                framer->escaped = false;
            } else if (c == '\\') {
                framer->escaped = true;
            } else if (c == '"') {
                framer->in_string = false;
            }
        } else if (c == '"') {
            framer->in_string = true;
        } else if (c == '{' || c == '[') {
            framer->depth++;
        } else if ((c == '}' || c == ']') && !--framer->depth) {
            json_framer_init(framer);
            int error = load__(buf, i + 1, 0, out, err);
            if (!error) {
                *consumed = i + 1;
            }
            return error;
        }
    }
    framer->scanned = len;
    return -EAGAIN;
}

int
json_parse_prefix(const char *buf, size_t len, json_t **out, size_t *consumed,
                  struct ovnic_err *err)
{
    struct json_framer framer;
    json_framer_init(&framer);
    return json_framer_parse(&framer, buf, len, out, consumed, err);
}

/* ---- OVSDB notations. --------------------------------------------------------- */

/* If 'json' is [<tag>, <x>] returns <x>, otherwise NULL. */
static const json_t *
tagged__(const json_t *json, const char *tag)
{
    if (json_is_array(json) && json_array_size(json) == 2) {
        const json_t *name = json_array_get(json, 0);
        if (json_is_string(name) && !strcmp(json_string_value(name), tag)) {
            return json_array_get(json, 1);
        }
    }
    return NULL;
}

/* [<tag>, 'value'], taking ownership of 'value' (released on failure too). */
static json_t *
tag_new__(const char *tag, json_t *value)
{
    json_t *array = json_array();
    if (!array || json_array_append_new(array, json_string(tag))) {
        json_decref(array);
        json_decref(value);
        return NULL;
    }
    if (json_array_append_new(array, value)) {
        json_decref(array);
        return NULL;
    }
    return array;
}

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

json_t *
json_ovsdb_uuid(const struct uuid *uuid)
{
    char s[UUID_LEN + 1];
    json_t *str = json_string(uuid_to_string(uuid, s));
    return str ? tag_new__("uuid", str) : NULL;
}

int
json_ovsdb_uuid_parse(const json_t *json, struct uuid *uuid, struct ovnic_err *err)
{
    const json_t *value = tagged__(json, "uuid");
    if (!json_is_string(value)) {
        return ovnic_err_set(err, -EINVAL, "uuid", "expected [\"uuid\", <uuid>]",
                             "got %s", json_type_name(json));
    }
    if (uuid_from_string(json_string_value(value), uuid)) {
        return ovnic_err_set(err, -EINVAL, "uuid", "malformed UUID", "\"%.40s\"",
                             json_string_value(value));
    }
    return 0;
}

json_t *
json_ovsdb_named_uuid(const char *name)
{
    if (!is_id__(name)) {
        return NULL;
    }
    json_t *str = json_string(name);
    return str ? tag_new__("named-uuid", str) : NULL;
}

int
json_ovsdb_named_uuid_parse(const json_t *json, const char **name, struct ovnic_err *err)
{
    const json_t *value = tagged__(json, "named-uuid");
    if (!json_is_string(value)) {
        return ovnic_err_set(err, -EINVAL, "named-uuid",
                             "expected [\"named-uuid\", <id>]", "got %s",
                             json_type_name(json));
    }
    const char *s = json_string_value(value);
    if (strlen(s) != json_string_length(value) || !is_id__(s)) {
        return ovnic_err_set(err, -EINVAL, "named-uuid", "malformed <id>", "\"%.40s\"",
                             s);
    }
    *name = s;
    return 0;
}

#define UUID_NAME_PREFIX "row_"

char *
json_ovsdb_uuid_to_name(const struct uuid *uuid, char buf[JSON_OVSDB_UUID_NAME_LEN + 1])
{
    _Static_assert(sizeof UUID_NAME_PREFIX - 1 + UUID_LEN == JSON_OVSDB_UUID_NAME_LEN,
                   "name length");
    char s[UUID_LEN + 1];
    uuid_to_string(uuid, s);
    for (char *p = s; *p; p++) {
        if (*p == '-') {
            *p = '_';
        }
    }
    snprintf(buf, JSON_OVSDB_UUID_NAME_LEN + 1, "%s%s", UUID_NAME_PREFIX, s);
    return buf;
}

json_t *
json_ovsdb_named_uuid_from_uuid(const struct uuid *uuid)
{
    char name[JSON_OVSDB_UUID_NAME_LEN + 1];
    return json_ovsdb_named_uuid(json_ovsdb_uuid_to_name(uuid, name));
}

int
json_ovsdb_named_uuid_to_uuid(const json_t *json, struct uuid *uuid,
                              struct ovnic_err *err)
{
    const char *name;
    int error = json_ovsdb_named_uuid_parse(json, &name, err);
    if (error) {
        return error;
    }
    size_t prefix = sizeof UUID_NAME_PREFIX - 1;
    if (strlen(name) != JSON_OVSDB_UUID_NAME_LEN ||
        strncmp(name, UUID_NAME_PREFIX, prefix)) {
        return ovnic_err_set(err, -EINVAL, "named-uuid", "name does not encode a UUID",
                             "\"%.40s\"", name);
    }
    char s[UUID_LEN + 1];
    memcpy(s, name + prefix, sizeof s);
    for (char *p = s; *p; p++) {
        if (*p == '_') {
            *p = '-';
        }
    }
    if (uuid_from_string(s, uuid)) {
        return ovnic_err_set(err, -EINVAL, "named-uuid", "name does not encode a UUID",
                             "\"%.40s\"", name);
    }
    return 0;
}

static json_t *
collection_new__(const char *tag, json_t *elements)
{
    if (!elements) {
        elements = json_array();
        if (!elements) {
            return NULL;
        }
    } else if (!json_is_array(elements)) {
        json_decref(elements);
        return NULL;
    }
    return tag_new__(tag, elements);
}

json_t *
json_ovsdb_set(json_t *elements)
{
    return collection_new__("set", elements);
}

json_t *
json_ovsdb_map(json_t *pairs)
{
    return collection_new__("map", pairs);
}

int
json_ovsdb_set_add(json_t *set, json_t *element)
{
    json_t *elems = (json_t *)tagged__(set, "set");
    if (!json_is_array(elems)) {
        json_decref(element);
        return -EINVAL;
    }
    return json_array_append_new(elems, element) ? -ENOMEM : 0;
}

int
json_ovsdb_map_add(json_t *map, json_t *key, json_t *value)
{
    json_t *pairs = (json_t *)tagged__(map, "map");
    if (!json_is_array(pairs)) {
        json_decref(key);
        json_decref(value);
        return -EINVAL;
    }
    json_t *pair = json_array();
    if (!pair) {
        json_decref(key);
        json_decref(value);
        return -ENOMEM;
    }
    int a = json_array_append_new(pair, key);
    int b = json_array_append_new(pair, value);
    if (a || b || json_array_append_new(pairs, pair)) {
        /* json_array_append_new() releases its argument on failure. */
        if (a || b) {
            json_decref(pair);
        }
        return -ENOMEM;
    }
    return 0;
}

/* True if 'json' may be an OVSDB atom: a string, number, boolean, or a (named-)uuid. */
static bool
is_atom__(const json_t *json)
{
    switch (json_typeof(json)) {
    case JSON_STRING:
    case JSON_INTEGER:
    case JSON_REAL:
    case JSON_TRUE:
    case JSON_FALSE:
        return true;
    case JSON_ARRAY:
        return json_is_string(tagged__(json, "uuid")) ||
               json_is_string(tagged__(json, "named-uuid"));
    case JSON_OBJECT:
    case JSON_NULL:
    default:
        return false;
    }
}

int
json_ovsdb_set_parse(const json_t *datum, const json_t **elems, const json_t **single,
                     struct ovnic_err *err)
{
    const json_t *inner = tagged__(datum, "set");
    if (json_is_array(inner)) {
        *elems = inner;
        *single = NULL;
        return 0;
    }
    if (datum && is_atom__(datum)) {
        *elems = NULL;
        *single = datum;
        return 0;
    }
    return ovnic_err_set(err, -EINVAL, "set", "expected an atom or [\"set\", [...]]",
                         "got %s", json_type_name(datum));
}

size_t
json_ovsdb_set_size(const json_t *datum)
{
    const json_t *elems, *single;
    if (json_ovsdb_set_parse(datum, &elems, &single, NULL)) {
        return 0;
    }
    return elems ? json_array_size(elems) : 1;
}

const json_t *
json_ovsdb_set_get(const json_t *datum, size_t i)
{
    const json_t *elems, *single;
    if (json_ovsdb_set_parse(datum, &elems, &single, NULL)) {
        return NULL;
    }
    if (elems) {
        return json_array_get(elems, i);
    }
    return i == 0 ? single : NULL;
}

int
json_ovsdb_map_parse(const json_t *datum, const json_t **pairs, struct ovnic_err *err)
{
    const json_t *inner = tagged__(datum, "map");
    if (!json_is_array(inner)) {
        return ovnic_err_set(err, -EINVAL, "map", "expected [\"map\", [...]]", "got %s",
                             json_type_name(datum));
    }
    size_t i;
    const json_t *pair;
    json_array_foreach(inner, i, pair)
    {
        if (!json_is_array(pair) || json_array_size(pair) != 2) {
            return ovnic_err_set(err, -EINVAL, "map", "map pair is not [key, value]",
                                 "pair %zu", i);
        }
    }
    *pairs = inner;
    return 0;
}

/* ---- Canonical form and OVSDB equality. --------------------------------------- */

static void canon__(struct jbuf *b, const json_t *json);

static void
canon_string__(struct jbuf *b, const char *s, size_t n)
{
    jbuf_putc__(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            jbuf_putc__(b, '\\');
            jbuf_putc__(b, (char)c);
        } else if (c < 0x20) {
            jbuf_printf__(b, "\\u%04x", c);
        } else {
            jbuf_putc__(b, (char)c);
        }
    }
    jbuf_putc__(b, '"');
}

static int
compare_strings__(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;
    return strcmp(*a, *b);
}

/* Canonical forms of the elements of 'array' (map pairs if 'pairs'), sorted.  Marks 'b'
 * failed if out of memory.  Free the result with free_strings__(). */
static char **
sorted_elements__(struct jbuf *b, const json_t *array, bool pairs)
{
    size_t n = json_array_size(array);
    char **strings = calloc(n ? n : 1, sizeof *strings);
    if (!strings) {
        b->failed = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *elem = json_array_get(array, i);
        struct jbuf eb = {NULL, 0, 0, false};
        if (pairs && json_is_array(elem) && json_array_size(elem) == 2) {
            /* A map pair is [key, value], never a tagged value itself. */
            jbuf_putc__(&eb, '[');
            canon__(&eb, json_array_get(elem, 0));
            jbuf_putc__(&eb, ',');
            canon__(&eb, json_array_get(elem, 1));
            jbuf_putc__(&eb, ']');
        } else {
            canon__(&eb, elem);
        }
        strings[i] = jbuf_take__(&eb);
        if (!strings[i]) {
            b->failed = true;
        }
    }
    if (!b->failed) {
        qsort(strings, n, sizeof *strings, compare_strings__);
    }
    return strings;
}

static void
free_strings__(char **strings, size_t n)
{
    if (strings) {
        for (size_t i = 0; i < n; i++) {
            free(strings[i]);
        }
        free(strings);
    }
}

static void
canon_collection__(struct jbuf *b, const char *tag, const json_t *elems)
{
    size_t n = json_array_size(elems);
    char **strings = sorted_elements__(b, elems, !strcmp(tag, "map"));
    if (!b->failed) {
        if (n == 1 && !strcmp(tag, "set")) {
            jbuf_puts__(b, strings[0]);
        } else {
            jbuf_printf__(b, "[\"%s\",[", tag);
            for (size_t i = 0; i < n; i++) {
                if (i) {
                    jbuf_putc__(b, ',');
                }
                jbuf_puts__(b, strings[i]);
            }
            jbuf_puts__(b, "]]");
        }
    }
    free_strings__(strings, n);
}

static void
canon_object__(struct jbuf *b, const json_t *json)
{
    size_t n = json_object_size(json);
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    if (!keys) {
        b->failed = true;
        return;
    }
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)json, key, value)
    {
        keys[i++] = key;
    }
    qsort(keys, n, sizeof *keys, compare_strings__);
    jbuf_putc__(b, '{');
    for (i = 0; i < n; i++) {
        if (i) {
            jbuf_putc__(b, ',');
        }
        canon_string__(b, keys[i], strlen(keys[i]));
        jbuf_putc__(b, ':');
        canon__(b, json_object_get(json, keys[i]));
    }
    jbuf_putc__(b, '}');
    free(keys);
}

static void
canon_array__(struct jbuf *b, const json_t *json)
{
    const json_t *inner = tagged__(json, "set");
    if (json_is_array(inner)) {
        canon_collection__(b, "set", inner);
        return;
    }
    inner = tagged__(json, "map");
    if (json_is_array(inner)) {
        canon_collection__(b, "map", inner);
        return;
    }
    inner = tagged__(json, "uuid");
    struct uuid uuid;
    if (json_is_string(inner) && !uuid_from_string(json_string_value(inner), &uuid)) {
        char s[UUID_LEN + 1];
        jbuf_printf__(b, "[\"uuid\",\"%s\"]", uuid_to_string(&uuid, s));
        return;
    }
    jbuf_putc__(b, '[');
    for (size_t i = 0; i < json_array_size(json); i++) {
        if (i) {
            jbuf_putc__(b, ',');
        }
        canon__(b, json_array_get(json, i));
    }
    jbuf_putc__(b, ']');
}

static void
canon_real__(struct jbuf *b, double d)
{
    /* An integral value prints as the integer it equals, so that 1.0 matches 1. */
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
        (double)(int64_t)d == d) {
        jbuf_printf__(b, "%" PRId64, (int64_t)d);
    } else {
        jbuf_printf__(b, "%.17g", d);
    }
}

static void
canon__(struct jbuf *b, const json_t *json)
{
    if (!json || b->failed) {
        return;
    }
    switch (json_typeof(json)) {
    case JSON_OBJECT:
        canon_object__(b, json);
        break;
    case JSON_ARRAY:
        canon_array__(b, json);
        break;
    case JSON_STRING:
        canon_string__(b, json_string_value(json), json_string_length(json));
        break;
    case JSON_INTEGER:
        jbuf_printf__(b, "%" PRId64, (int64_t)json_integer_value(json));
        break;
    case JSON_REAL:
        canon_real__(b, json_real_value(json));
        break;
    case JSON_TRUE:
        jbuf_puts__(b, "true");
        break;
    case JSON_FALSE:
        jbuf_puts__(b, "false");
        break;
    case JSON_NULL:
        jbuf_puts__(b, "null");
        break;
    }
}

char *
json_ovsdb_canonical(const json_t *json)
{
    struct jbuf b = {NULL, 0, 0, false};
    canon__(&b, json);
    return jbuf_take__(&b);
}

bool
json_ovsdb_datum_equal(const json_t *a, const json_t *b)
{
    if (!a || !b) {
        return a == b;
    }
    if (json_equal((json_t *)a, (json_t *)b)) {
        return true;
    }
    char *ca = json_ovsdb_canonical(a);
    char *cb = json_ovsdb_canonical(b);
    bool equal = ca && cb && !strcmp(ca, cb);
    free(ca);
    free(cb);
    return equal;
}
