/* ovnic: OVSDB atoms and datums (RFC 7047 section 5.1). */
#include "dpu/ovsdb/datum.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/hash.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(ovsdb_datum);

/* Largest magnitude below which every integral double is exactly an int64_t. */
#define REAL_EXACT_INT_LIMIT 9007199254740992.0 /* 2**53 */

static const char *const type_names[] = {
    [OVSDB_TYPE_VOID] = "void",     [OVSDB_TYPE_INTEGER] = "integer",
    [OVSDB_TYPE_REAL] = "real",     [OVSDB_TYPE_BOOLEAN] = "boolean",
    [OVSDB_TYPE_STRING] = "string", [OVSDB_TYPE_UUID] = "uuid",
};

const char *
ovsdb_atomic_type_to_string(enum ovsdb_atomic_type type)
{
    return (unsigned int)type < ARRAY_SIZE(type_names) ? type_names[type] : "?";
}

int
ovsdb_atomic_type_from_string(const char *name, enum ovsdb_atomic_type *type)
{
    for (size_t i = OVSDB_TYPE_INTEGER; i < ARRAY_SIZE(type_names); i++) {
        if (!strcmp(name, type_names[i])) {
            *type = (enum ovsdb_atomic_type)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* Counts the code points of the 'len' bytes at 's'.  Returns -1 if they are not valid
 * UTF-8 (overlong forms, surrogates and values above U+10FFFF are invalid). */
static long long
utf8_length__(const unsigned char *s, size_t len)
{
    long long n = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t extra;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            n++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return -1;
        }
        if (len - i <= extra) {
            return -1;
        }
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return -1;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((extra == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (extra == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
            return -1;
        }
        i += extra + 1;
        n++;
    }
    return n;
}

/* ---- Atoms ---- */

int
ovsdb_atom_check(const union ovsdb_atom *atom, const struct ovsdb_base_type *base,
                 struct ovnic_err *err)
{
    switch (base->type) {
    case OVSDB_TYPE_INTEGER:
        if (atom->integer < base->min_integer || atom->integer > base->max_integer) {
            return ovnic_err_set(err, -EINVAL, NULL, "integer out of range",
                                 "%lld not in [%lld, %lld]", (long long)atom->integer,
                                 (long long)base->min_integer,
                                 (long long)base->max_integer);
        }
        break;
    case OVSDB_TYPE_REAL:
        if (!(atom->real >= base->min_real && atom->real <= base->max_real)) {
            return ovnic_err_set(err, -EINVAL, NULL, "real out of range",
                                 "%.17g not in [%.17g, %.17g]", atom->real,
                                 base->min_real, base->max_real);
        }
        break;
    case OVSDB_TYPE_STRING: {
        size_t len = strlen(atom->string);
        long long n = utf8_length__((const unsigned char *)atom->string, len);
        if (n < 0) {
            return ovnic_err_set(err, -EINVAL, NULL, "string is not valid UTF-8", NULL);
        }
        if (n < base->min_length || n > base->max_length) {
            return ovnic_err_set(err, -EINVAL, NULL, "string length out of range",
                                 "\"%.40s\" has %lld characters, not in [%u, %u]",
                                 atom->string, n, base->min_length, base->max_length);
        }
        break;
    }
    case OVSDB_TYPE_VOID:
    case OVSDB_TYPE_BOOLEAN:
    case OVSDB_TYPE_UUID:
        break;
    }
    if (base->enum_ && ovsdb_datum_find_key(base->enum_, atom) < 0) {
        json_t *j = ovsdb_atom_to_json(atom, base->type);
        char *text = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        int error = ovnic_err_set(err, -EINVAL, NULL, "value not in enum", "%.60s",
                                  text ? text : "?");
        free(text);
        json_decref(j);
        return error;
    }
    return 0;
}

static int
atom_parse__(union ovsdb_atom *atom, enum ovsdb_atomic_type type, const json_t *json,
             struct ovnic_err *err)
{
    switch (type) {
    case OVSDB_TYPE_INTEGER:
        if (!json_is_integer(json)) {
            return ovnic_err_set(err, -EINVAL, NULL, "expected an integer", NULL);
        }
        atom->integer = json_integer_value(json);
        return 0;
    case OVSDB_TYPE_REAL:
        if (!json_is_number(json)) {
            return ovnic_err_set(err, -EINVAL, NULL, "expected a real", NULL);
        }
        atom->real = json_number_value(json);
        return 0;
    case OVSDB_TYPE_BOOLEAN:
        if (!json_is_boolean(json)) {
            return ovnic_err_set(err, -EINVAL, NULL, "expected a boolean", NULL);
        }
        atom->boolean = json_is_true(json);
        return 0;
    case OVSDB_TYPE_STRING: {
        if (!json_is_string(json)) {
            return ovnic_err_set(err, -EINVAL, NULL, "expected a string", NULL);
        }
        const char *s = json_string_value(json);
        size_t len = json_string_length(json);
        if (strlen(s) != len) {
            return ovnic_err_set(err, -EINVAL, NULL, "string contains a NUL character",
                                 NULL);
        }
        if (utf8_length__((const unsigned char *)s, len) < 0) {
            return ovnic_err_set(err, -EINVAL, NULL, "string is not valid UTF-8", NULL);
        }
        atom->string = malloc(len + 1);
        if (!atom->string) {
            return -ENOMEM;
        }
        memcpy(atom->string, s, len + 1);
        return 0;
    }
    case OVSDB_TYPE_UUID: {
        const json_t *tag = json_array_get(json, 0);
        const json_t *text = json_array_get(json, 1);
        if (!json_is_array(json) || json_array_size(json) != 2 || !json_is_string(tag) ||
            !json_is_string(text)) {
            return ovnic_err_set(err, -EINVAL, NULL, "expected [\"uuid\", \"<uuid>\"]",
                                 NULL);
        }
        if (!strcmp(json_string_value(tag), "named-uuid")) {
            return ovnic_err_set(err, -EINVAL, NULL, "named-uuid is not allowed here",
                                 "\"%.40s\"", json_string_value(text));
        }
        if (strcmp(json_string_value(tag), "uuid")) {
            return ovnic_err_set(err, -EINVAL, NULL, "expected [\"uuid\", \"<uuid>\"]",
                                 NULL);
        }
        if (json_string_length(text) != UUID_LEN ||
            uuid_from_string(json_string_value(text), &atom->uuid)) {
            return ovnic_err_set(err, -EINVAL, NULL, "malformed uuid", "\"%.40s\"",
                                 json_string_value(text));
        }
        return 0;
    }
    case OVSDB_TYPE_VOID:
        break;
    }
    return ovnic_err_set(err, -EINVAL, NULL, "no atom expected here", NULL);
}

int
ovsdb_atom_from_json(union ovsdb_atom *atom, const struct ovsdb_base_type *base,
                     const json_t *json, struct ovnic_err *err)
{
    union ovsdb_atom a = {.integer = 0};
    int error = atom_parse__(&a, base->type, json, err);
    if (error) {
        return error;
    }
    error = ovsdb_atom_check(&a, base, err);
    if (error) {
        ovsdb_atom_destroy(&a, base->type);
        return error;
    }
    *atom = a;
    return 0;
}

json_t *
ovsdb_atom_to_json(const union ovsdb_atom *atom, enum ovsdb_atomic_type type)
{
    switch (type) {
    case OVSDB_TYPE_INTEGER:
        return json_integer(atom->integer);
    case OVSDB_TYPE_REAL: {
        double r = atom->real;
        /* ovsdb-server writes integral reals without a fraction ("1", not "1.0"). */
        if (r > -REAL_EXACT_INT_LIMIT && r < REAL_EXACT_INT_LIMIT &&
            (double)(int64_t)r == r) {
            return json_integer((json_int_t)r);
        }
        return json_real(r);
    }
    case OVSDB_TYPE_BOOLEAN:
        return json_boolean(atom->boolean);
    case OVSDB_TYPE_STRING:
        /* Validated as UTF-8 when parsed. */
        return json_string_nocheck(atom->string);
    case OVSDB_TYPE_UUID: {
        char buf[UUID_LEN + 1];
        return json_pack("[ss]", "uuid", uuid_to_string(&atom->uuid, buf));
    }
    case OVSDB_TYPE_VOID:
        break;
    }
    return json_null();
}

int
ovsdb_atom_compare(const union ovsdb_atom *a, const union ovsdb_atom *b,
                   enum ovsdb_atomic_type type)
{
    switch (type) {
    case OVSDB_TYPE_INTEGER:
        return a->integer < b->integer ? -1 : a->integer > b->integer;
    case OVSDB_TYPE_REAL:
        return a->real < b->real ? -1 : a->real > b->real;
    case OVSDB_TYPE_BOOLEAN:
        return (int)a->boolean - (int)b->boolean;
    case OVSDB_TYPE_STRING: {
        int c = strcmp(a->string, b->string);
        return c < 0 ? -1 : c > 0;
    }
    case OVSDB_TYPE_UUID:
        return uuid_compare(&a->uuid, &b->uuid);
    case OVSDB_TYPE_VOID:
        break;
    }
    return 0;
}

bool
ovsdb_atom_equals(const union ovsdb_atom *a, const union ovsdb_atom *b,
                  enum ovsdb_atomic_type type)
{
    return !ovsdb_atom_compare(a, b, type);
}

uint32_t
ovsdb_atom_hash(const union ovsdb_atom *atom, enum ovsdb_atomic_type type, uint32_t basis)
{
    switch (type) {
    case OVSDB_TYPE_INTEGER:
        return hash_add64(basis, (uint64_t)atom->integer);
    case OVSDB_TYPE_REAL: {
        double r = atom->real == 0.0 ? 0.0 : atom->real; /* -0.0 equals 0.0. */
        return hash_bytes(&r, sizeof r, basis);
    }
    case OVSDB_TYPE_BOOLEAN:
        return hash_add32(basis, atom->boolean);
    case OVSDB_TYPE_STRING:
        return hash_string(atom->string, basis);
    case OVSDB_TYPE_UUID:
        return hash_bytes(atom->uuid.parts, sizeof atom->uuid.parts, basis);
    case OVSDB_TYPE_VOID:
        break;
    }
    return basis;
}

int
ovsdb_atom_clone(union ovsdb_atom *dst, const union ovsdb_atom *src,
                 enum ovsdb_atomic_type type)
{
    if (type == OVSDB_TYPE_STRING) {
        char *s = strdup(src->string);
        if (!s) {
            return -ENOMEM;
        }
        dst->string = s;
    } else {
        *dst = *src;
    }
    return 0;
}

void
ovsdb_atom_destroy(union ovsdb_atom *atom, enum ovsdb_atomic_type type)
{
    if (type == OVSDB_TYPE_STRING) {
        free(atom->string);
        atom->string = NULL;
    }
}

static void
atoms_destroy__(union ovsdb_atom *atoms, size_t n, enum ovsdb_atomic_type type)
{
    if (type == OVSDB_TYPE_STRING) {
        for (size_t i = 0; i < n; i++) {
            free(atoms[i].string);
        }
    }
}

/* ---- Datums ---- */

/* Allocates room for 'n' keys (and 'n' values if 'is_map') in one block. */
static int
datum_alloc__(struct ovsdb_datum *d, uint8_t key_type, uint8_t value_type, size_t n)
{
    bool is_map = value_type != OVSDB_TYPE_VOID;
    d->n = 0;
    d->key_type = key_type;
    d->value_type = value_type;
    d->keys = NULL;
    d->values = NULL;
    if (!n) {
        return 0;
    }
    if (n > UINT32_MAX) {
        return -ENOMEM;
    }
    d->keys = calloc(is_map ? 2 * n : n, sizeof *d->keys);
    if (!d->keys) {
        return -ENOMEM;
    }
    d->values = is_map ? d->keys + n : NULL;
    return 0;
}

void
ovsdb_datum_init_empty(struct ovsdb_datum *datum, const struct ovsdb_type *type)
{
    datum_alloc__(datum, type->key.type, type->value.type, 0);
}

static void
atom_init_default__(union ovsdb_atom *atom, enum ovsdb_atomic_type type)
{
    memset(atom, 0, sizeof *atom);
    if (type == OVSDB_TYPE_STRING) {
        atom->string = calloc(1, 1);
    }
}

int
ovsdb_datum_init_default(struct ovsdb_datum *datum, const struct ovsdb_type *type)
{
    struct ovsdb_datum d;
    int error = datum_alloc__(&d, type->key.type, type->value.type, type->n_min);
    if (error || !type->n_min) {
        *datum = d;
        return error;
    }
    atom_init_default__(&d.keys[0], type->key.type);
    if (d.values) {
        atom_init_default__(&d.values[0], type->value.type);
    }
    d.n = 1;
    if ((type->key.type == OVSDB_TYPE_STRING && !d.keys[0].string) ||
        (type->value.type == OVSDB_TYPE_STRING && !d.values[0].string)) {
        ovsdb_datum_destroy(&d);
        return -ENOMEM;
    }
    *datum = d;
    return 0;
}

void
ovsdb_datum_destroy(struct ovsdb_datum *datum)
{
    if (!datum) {
        return;
    }
    if (datum->keys) {
        atoms_destroy__(datum->keys, datum->n, datum->key_type);
        if (datum->values) {
            atoms_destroy__(datum->values, datum->n, datum->value_type);
        }
        free(datum->keys);
    }
    datum->n = 0;
    datum->keys = NULL;
    datum->values = NULL;
}

struct pair__ {
    union ovsdb_atom key;
    union ovsdb_atom value;
};

static int
compare_atoms_r__(const void *a, const void *b, void *type_)
{
    return ovsdb_atom_compare(a, b, *(const enum ovsdb_atomic_type *)type_);
}

static int
compare_pairs_r__(const void *a_, const void *b_, void *type_)
{
    const struct pair__ *a = a_, *b = b_;
    return ovsdb_atom_compare(&a->key, &b->key, *(const enum ovsdb_atomic_type *)type_);
}

/* Sorts the 'd->n' elements of 'd' by key and fails if two keys are equal. */
static int
datum_sort_unique__(struct ovsdb_datum *d, struct ovnic_err *err)
{
    enum ovsdb_atomic_type kt = d->key_type;
    if (d->n < 2) {
        return 0;
    }
    if (!d->values) {
        qsort_r(d->keys, d->n, sizeof *d->keys, compare_atoms_r__, &kt);
    } else {
        struct pair__ *pairs = malloc(d->n * sizeof *pairs);
        if (!pairs) {
            return -ENOMEM;
        }
        for (size_t i = 0; i < d->n; i++) {
            pairs[i].key = d->keys[i];
            pairs[i].value = d->values[i];
        }
        qsort_r(pairs, d->n, sizeof *pairs, compare_pairs_r__, &kt);
        for (size_t i = 0; i < d->n; i++) {
            d->keys[i] = pairs[i].key;
            d->values[i] = pairs[i].value;
        }
        free(pairs);
    }
    for (size_t i = 1; i < d->n; i++) {
        if (!ovsdb_atom_compare(&d->keys[i - 1], &d->keys[i], kt)) {
            json_t *j = ovsdb_atom_to_json(&d->keys[i], kt);
            char *text = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
            int error = ovnic_err_set(err, -EINVAL, NULL,
                                      d->values ? "map contains a duplicate key"
                                                : "set contains a duplicate element",
                                      "%.60s", text ? text : "?");
            free(text);
            json_decref(j);
            return error;
        }
    }
    return 0;
}

/* Parses 'json' as a datum of 'type' but with element count in [n_min, n_max]. */
static int
datum_parse__(struct ovsdb_datum *datum, const struct ovsdb_type *type,
              const json_t *json, uint32_t n_min, uint32_t n_max, struct ovnic_err *err)
{
    bool is_map = ovsdb_type_is_map(type);
    const json_t *elems = NULL;
    size_t n;
    int error;

    if (type->key.type == OVSDB_TYPE_VOID) {
        return ovnic_err_set(err, -EINVAL, NULL, "type has no key type", NULL);
    }
    if (is_map) {
        const json_t *tag = json_array_get(json, 0);
        elems = json_array_get(json, 1);
        if (json_array_size(json) != 2 || !json_is_string(tag) ||
            strcmp(json_string_value(tag), "map") || !json_is_array(elems)) {
            return ovnic_err_set(err, -EINVAL, NULL, "expected [\"map\", [...]]", NULL);
        }
        n = json_array_size(elems);
    } else {
        const json_t *tag = json_array_get(json, 0);
        if (json_array_size(json) == 2 && json_is_string(tag) &&
            !strcmp(json_string_value(tag), "set")) {
            elems = json_array_get(json, 1);
            if (!json_is_array(elems)) {
                return ovnic_err_set(err, -EINVAL, NULL, "expected [\"set\", [...]]",
                                     NULL);
            }
            n = json_array_size(elems);
        } else {
            n = 1;
        }
    }
    if (n < n_min || n > n_max) {
        return ovnic_err_set(err, -EINVAL, NULL, "wrong number of elements",
                             "%zu not in [%u, %u]", n, n_min, n_max);
    }

    struct ovsdb_datum d;
    error = datum_alloc__(&d, type->key.type, type->value.type, n);
    if (error) {
        return error;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *elem = elems ? json_array_get(elems, i) : json;
        if (is_map) {
            if (!json_is_array(elem) || json_array_size(elem) != 2) {
                error = ovnic_err_set(err, -EINVAL, NULL,
                                      "map element must be a [key, value] pair", NULL);
                goto err_free_datum;
            }
            error = ovsdb_atom_from_json(&d.keys[i], &type->key, json_array_get(elem, 0),
                                         err);
            if (error) {
                goto err_free_datum;
            }
            error = ovsdb_atom_from_json(&d.values[i], &type->value,
                                         json_array_get(elem, 1), err);
            if (error) {
                ovsdb_atom_destroy(&d.keys[i], type->key.type);
                goto err_free_datum;
            }
        } else {
            error = ovsdb_atom_from_json(&d.keys[i], &type->key, elem, err);
            if (error) {
                goto err_free_datum;
            }
        }
        d.n++;
    }
    error = datum_sort_unique__(&d, err);
    if (error) {
        goto err_free_datum;
    }
    *datum = d;
    return 0;

err_free_datum:
    ovsdb_datum_destroy(&d);
    return error;
}

int
ovsdb_datum_from_json(struct ovsdb_datum *datum, const struct ovsdb_type *type,
                      const json_t *json, struct ovnic_err *err)
{
    return datum_parse__(datum, type, json, type->n_min, type->n_max, err);
}

json_t *
ovsdb_datum_to_json(const struct ovsdb_datum *datum)
{
    bool is_map = ovsdb_datum_is_map(datum);
    if (!is_map && datum->n == 1) {
        return ovsdb_atom_to_json(&datum->keys[0], datum->key_type);
    }
    json_t *elems = json_array();
    if (!elems) {
        return NULL;
    }
    for (size_t i = 0; i < datum->n; i++) {
        json_t *elem;
        if (is_map) {
            elem = json_array();
            if (elem &&
                (json_array_append_new(
                     elem, ovsdb_atom_to_json(&datum->keys[i], datum->key_type)) ||
                 json_array_append_new(
                     elem, ovsdb_atom_to_json(&datum->values[i], datum->value_type)))) {
                json_decref(elem);
                elem = NULL;
            }
        } else {
            elem = ovsdb_atom_to_json(&datum->keys[i], datum->key_type);
        }
        if (json_array_append_new(elems, elem)) {
            json_decref(elems);
            return NULL;
        }
    }
    return json_pack("[so]", is_map ? "map" : "set", elems);
}

int
ovsdb_datum_clone(struct ovsdb_datum *dst, const struct ovsdb_datum *src)
{
    struct ovsdb_datum d;
    int error = datum_alloc__(&d, src->key_type, src->value_type, src->n);
    if (error) {
        return error;
    }
    for (size_t i = 0; i < src->n; i++) {
        if (ovsdb_atom_clone(&d.keys[i], &src->keys[i], src->key_type)) {
            goto err_free_datum;
        }
        if (d.values &&
            ovsdb_atom_clone(&d.values[i], &src->values[i], src->value_type)) {
            ovsdb_atom_destroy(&d.keys[i], src->key_type);
            goto err_free_datum;
        }
        d.n++;
    }
    *dst = d;
    return 0;

err_free_datum:
    ovsdb_datum_destroy(&d);
    return -ENOMEM;
}

void
ovsdb_datum_swap(struct ovsdb_datum *a, struct ovsdb_datum *b)
{
    struct ovsdb_datum tmp = *a;
    *a = *b;
    *b = tmp;
}

int
ovsdb_datum_compare(const struct ovsdb_datum *a, const struct ovsdb_datum *b)
{
    if (a->key_type != b->key_type) {
        return a->key_type < b->key_type ? -1 : 1;
    }
    if (a->value_type != b->value_type) {
        return a->value_type < b->value_type ? -1 : 1;
    }
    uint32_t n = MIN(a->n, b->n);
    for (uint32_t i = 0; i < n; i++) {
        int c = ovsdb_atom_compare(&a->keys[i], &b->keys[i], a->key_type);
        if (!c && a->values) {
            c = ovsdb_atom_compare(&a->values[i], &b->values[i], a->value_type);
        }
        if (c) {
            return c;
        }
    }
    return a->n < b->n ? -1 : a->n > b->n;
}

bool
ovsdb_datum_equals(const struct ovsdb_datum *a, const struct ovsdb_datum *b)
{
    return a->n == b->n && !ovsdb_datum_compare(a, b);
}

uint32_t
ovsdb_datum_hash(const struct ovsdb_datum *datum, uint32_t basis)
{
    uint32_t hash = hash_add32(basis, datum->n);
    for (uint32_t i = 0; i < datum->n; i++) {
        hash = ovsdb_atom_hash(&datum->keys[i], datum->key_type, hash);
        if (datum->values) {
            hash = ovsdb_atom_hash(&datum->values[i], datum->value_type, hash);
        }
    }
    return hash_finish(hash);
}

int
ovsdb_datum_check(const struct ovsdb_datum *datum, const struct ovsdb_type *type,
                  struct ovnic_err *err)
{
    if (datum->key_type != type->key.type || datum->value_type != type->value.type) {
        return ovnic_err_set(err, -EINVAL, NULL, "datum has the wrong type", NULL);
    }
    if (datum->n < type->n_min || datum->n > type->n_max) {
        return ovnic_err_set(err, -EINVAL, NULL, "wrong number of elements",
                             "%u not in [%u, %u]", datum->n, type->n_min, type->n_max);
    }
    for (uint32_t i = 0; i < datum->n; i++) {
        int error = ovsdb_atom_check(&datum->keys[i], &type->key, err);
        if (!error && datum->values) {
            error = ovsdb_atom_check(&datum->values[i], &type->value, err);
        }
        if (error) {
            return error;
        }
        if (i && ovsdb_atom_compare(&datum->keys[i - 1], &datum->keys[i],
                                    datum->key_type) >= 0) {
            return ovnic_err_set(err, -EINVAL, NULL, "keys are not sorted and unique",
                                 NULL);
        }
    }
    return 0;
}

bool
ovsdb_type_modify_is_diff(const struct ovsdb_type *type)
{
    return ovsdb_type_is_map(type) || type->n_max > 1;
}

/* Appends a copy of element 'i' of 'src' to 'dst' ('values' from 'vsrc' if not NULL,
 * else from 'src'). */
static int
append_clone__(struct ovsdb_datum *dst, const struct ovsdb_datum *src, uint32_t i,
               const struct ovsdb_datum *vsrc, uint32_t vi)
{
    union ovsdb_atom *k = &dst->keys[dst->n];
    if (ovsdb_atom_clone(k, &src->keys[i], src->key_type)) {
        return -ENOMEM;
    }
    if (dst->values) {
        const struct ovsdb_datum *v = vsrc ? vsrc : src;
        if (ovsdb_atom_clone(&dst->values[dst->n], &v->values[vsrc ? vi : i],
                             src->value_type)) {
            ovsdb_atom_destroy(k, src->key_type);
            return -ENOMEM;
        }
    }
    dst->n++;
    return 0;
}

/* Merges 'old' and 'diff' (both sorted) into 'out' if not NULL, and returns the number
 * of elements of the result (or a negative errno). */
static long long
merge_diff__(struct ovsdb_datum *out, const struct ovsdb_datum *old,
             const struct ovsdb_datum *diff)
{
    enum ovsdb_atomic_type kt = old->key_type;
    bool is_map = old->values != NULL || old->value_type != OVSDB_TYPE_VOID;
    uint32_t i = 0, j = 0;
    long long n = 0;

    while (i < old->n || j < diff->n) {
        int c = i >= old->n    ? 1
                : j >= diff->n ? -1
                               : ovsdb_atom_compare(&old->keys[i], &diff->keys[j], kt);
        if (c < 0) {
            if (out && append_clone__(out, old, i, NULL, 0)) {
                return -ENOMEM;
            }
            i++;
            n++;
        } else if (c > 0) {
            if (out && append_clone__(out, diff, j, NULL, 0)) {
                return -ENOMEM;
            }
            j++;
            n++;
        } else {
            if (is_map &&
                !ovsdb_atom_equals(&old->values[i], &diff->values[j], old->value_type)) {
                if (out && append_clone__(out, old, i, diff, j)) {
                    return -ENOMEM;
                }
                n++;
            }
            i++;
            j++;
        }
    }
    return n;
}

int
ovsdb_datum_apply_diff(struct ovsdb_datum *result, const struct ovsdb_datum *old,
                       const struct ovsdb_datum *diff, const struct ovsdb_type *type,
                       struct ovnic_err *err)
{
    if (old->key_type != diff->key_type || old->value_type != diff->value_type ||
        old->key_type != type->key.type || old->value_type != type->value.type) {
        return ovnic_err_set(err, -EINVAL, NULL, "diff has the wrong type", NULL);
    }
    long long n = merge_diff__(NULL, old, diff);
    if (n < type->n_min || n > type->n_max) {
        return ovnic_err_set(err, -EINVAL, NULL, "diff leaves a wrong number of elements",
                             "%lld not in [%u, %u]", n, type->n_min, type->n_max);
    }
    struct ovsdb_datum d;
    int error = datum_alloc__(&d, old->key_type, old->value_type, (size_t)n);
    if (error) {
        return error;
    }
    if (merge_diff__(&d, old, diff) < 0) {
        ovsdb_datum_destroy(&d);
        return -ENOMEM;
    }
    *result = d;
    return 0;
}

int
ovsdb_datum_apply_diff_json(struct ovsdb_datum *result, const struct ovsdb_datum *old,
                            const struct ovsdb_type *type, const json_t *diff,
                            struct ovnic_err *err)
{
    if (!ovsdb_type_modify_is_diff(type)) {
        return ovsdb_datum_from_json(result, type, diff, err);
    }
    struct ovsdb_datum d;
    int error = datum_parse__(&d, type, diff, 0, OVSDB_N_MAX_UNLIMITED, err);
    if (error) {
        return error;
    }
    error = ovsdb_datum_apply_diff(result, old, &d, type, err);
    ovsdb_datum_destroy(&d);
    return error;
}

long
ovsdb_datum_find_key(const struct ovsdb_datum *datum, const union ovsdb_atom *key)
{
    size_t lo = 0, hi = datum->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = ovsdb_atom_compare(key, &datum->keys[mid], datum->key_type);
        if (!c) {
            return (long)mid;
        } else if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return -1;
}

/* ---- Accessors ---- */

static bool
has_first__(const struct ovsdb_datum *datum, enum ovsdb_atomic_type type)
{
    return datum && datum->n && datum->key_type == type;
}

const char *
ovsdb_datum_get_string(const struct ovsdb_datum *datum, const char *default_)
{
    return has_first__(datum, OVSDB_TYPE_STRING) ? datum->keys[0].string : default_;
}

int64_t
ovsdb_datum_get_int(const struct ovsdb_datum *datum, int64_t default_)
{
    return has_first__(datum, OVSDB_TYPE_INTEGER) ? datum->keys[0].integer : default_;
}

double
ovsdb_datum_get_real(const struct ovsdb_datum *datum, double default_)
{
    if (has_first__(datum, OVSDB_TYPE_REAL)) {
        return datum->keys[0].real;
    } else if (has_first__(datum, OVSDB_TYPE_INTEGER)) {
        return (double)datum->keys[0].integer;
    }
    return default_;
}

bool
ovsdb_datum_get_bool(const struct ovsdb_datum *datum, bool default_)
{
    return has_first__(datum, OVSDB_TYPE_BOOLEAN) ? datum->keys[0].boolean : default_;
}

const struct uuid *
ovsdb_datum_get_uuid(const struct ovsdb_datum *datum)
{
    return has_first__(datum, OVSDB_TYPE_UUID) ? &datum->keys[0].uuid : NULL;
}

bool
ovsdb_datum_contains_string(const struct ovsdb_datum *datum, const char *key)
{
    if (!has_first__(datum, OVSDB_TYPE_STRING)) {
        return false;
    }
    union ovsdb_atom atom = {.string = (char *)key};
    return ovsdb_datum_find_key(datum, &atom) >= 0;
}

bool
ovsdb_datum_contains_uuid(const struct ovsdb_datum *datum, const struct uuid *uuid)
{
    if (!has_first__(datum, OVSDB_TYPE_UUID)) {
        return false;
    }
    union ovsdb_atom atom = {.uuid = *uuid};
    return ovsdb_datum_find_key(datum, &atom) >= 0;
}

const union ovsdb_atom *
ovsdb_datum_map_get(const struct ovsdb_datum *datum, const char *key)
{
    if (!has_first__(datum, OVSDB_TYPE_STRING) || !datum->values) {
        return NULL;
    }
    union ovsdb_atom atom = {.string = (char *)key};
    long i = ovsdb_datum_find_key(datum, &atom);
    return i >= 0 ? &datum->values[i] : NULL;
}

const char *
ovsdb_datum_map_get_string(const struct ovsdb_datum *datum, const char *key,
                           const char *default_)
{
    const union ovsdb_atom *v = ovsdb_datum_map_get(datum, key);
    return v && datum->value_type == OVSDB_TYPE_STRING ? v->string : default_;
}

int64_t
ovsdb_datum_map_get_int(const struct ovsdb_datum *datum, const char *key,
                        int64_t default_)
{
    const union ovsdb_atom *v = ovsdb_datum_map_get(datum, key);
    return v && datum->value_type == OVSDB_TYPE_INTEGER ? v->integer : default_;
}
