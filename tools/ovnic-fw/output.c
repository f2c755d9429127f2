/* ovnic-fw: table and JSON output (see output.h). */
#include "output.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int
fw_output_format_parse(const char *s, enum fw_output_format *format)
{
    if (!strcmp(s, "table")) {
        *format = FW_OUTPUT_TABLE;
    } else if (!strcmp(s, "json")) {
        *format = FW_OUTPUT_JSON;
    } else {
        return -EINVAL;
    }
    return 0;
}

/* The text of a scalar (or of an array of scalars).  Caller owns; free(). */
static char *
scalar_text(const json_t *v)
{
    char *s = NULL;

    switch (json_typeof(v)) {
    case JSON_STRING:
        s = strdup(json_string_value(v)[0] ? json_string_value(v) : "-");
        break;
    case JSON_INTEGER:
        if (asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0) {
            s = NULL;
        }
        break;
    case JSON_REAL:
        if (asprintf(&s, "%g", json_real_value(v)) < 0) {
            s = NULL;
        }
        break;
    case JSON_TRUE:
        s = strdup("true");
        break;
    case JSON_FALSE:
        s = strdup("false");
        break;
    case JSON_NULL:
        s = strdup("-");
        break;
    case JSON_ARRAY: {
        size_t len = 0;

        s = strdup(json_array_size(v) ? "" : "-");
        for (size_t i = 0; s && i < json_array_size(v); i++) {
            char *e = scalar_text(json_array_get(v, i));
            char *n;

            if (!e || asprintf(&n, "%s%s%s", s, i ? ", " : "", e) < 0) {
                free(e);
                free(s);
                return NULL;
            }
            free(e);
            free(s);
            s = n;
            len++;
        }
        break;
    }
    case JSON_OBJECT:
        s = json_dumps(v, JSON_COMPACT);
        break;
    }
    return s;
}

static bool
is_object_array(const json_t *v)
{
    if (!json_is_array(v) || !json_array_size(v)) {
        return false;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (!json_is_object(json_array_get(v, i))) {
            return false;
        }
    }
    return true;
}

/* Key/value lines of the scalar members of 'obj', names prefixed by 'prefix'. */
static void
print_scalars(FILE *out, const json_t *obj, const char *prefix, int width)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)obj, key, v)
    {
        char *name;

        if (asprintf(&name, "%s%s%s", prefix, key, json_is_object(v) ? "." : "") < 0) {
            continue;
        }
        if (json_is_object(v)) {
            print_scalars(out, v, name, width);
        } else if (!is_object_array(v)) {
            char *text = scalar_text(v);

            fprintf(out, "%-*s  %s\n", width, name, text ? text : "?");
            free(text);
        }
        free(name);
    }
}

static int
scalar_width(const json_t *obj, size_t prefix_len)
{
    const char *key;
    int width = 0;
    json_t *v;

    json_object_foreach((json_t *)obj, key, v)
    {
        int w;

        if (json_is_object(v)) {
            w = scalar_width(v, prefix_len + strlen(key) + 1);
        } else if (is_object_array(v)) {
            continue;
        } else {
            w = (int)(prefix_len + strlen(key));
        }
        width = w > width ? w : width;
    }
    return width;
}

static void
print_table(FILE *out, const char *title, const json_t *rows)
{
    const json_t *first = json_array_get(rows, 0);
    size_t n_cols = json_object_size(first);
    const char **cols = calloc(n_cols ? n_cols : 1, sizeof *cols);
    int *widths = calloc(n_cols ? n_cols : 1, sizeof *widths);
    const char *key;
    size_t c = 0;
    json_t *v;

    fprintf(out, "\n%s:\n", title);
    if (!cols || !widths) {
        goto out;
    }
    json_object_foreach((json_t *)first, key, v)
    {
        cols[c] = key;
        widths[c] = (int)strlen(key);
        c++;
    }
    for (size_t r = 0; r < json_array_size(rows); r++) {
        for (c = 0; c < n_cols; c++) {
            char *text = scalar_text(json_object_get(json_array_get(rows, r), cols[c]));
            int w = text ? (int)strlen(text) : 1;

            widths[c] = w > widths[c] ? w : widths[c];
            free(text);
        }
    }
    for (c = 0; c < n_cols; c++) {
        fprintf(out, "%s%-*s", c ? "  " : "", c + 1 < n_cols ? widths[c] : 0, cols[c]);
    }
    fputc('\n', out);
    for (size_t r = 0; r < json_array_size(rows); r++) {
        for (c = 0; c < n_cols; c++) {
            const json_t *cell = json_object_get(json_array_get(rows, r), cols[c]);
            char *text = cell ? scalar_text(cell) : strdup("-");

            fprintf(out, "%s%-*s", c ? "  " : "", c + 1 < n_cols ? widths[c] : 0,
                    text ? text : "?");
            free(text);
        }
        fputc('\n', out);
    }

out:
    free(cols);
    free(widths);
}

void
fw_output_print(FILE *out, const json_t *result, enum fw_output_format format)
{
    const char *key;
    json_t *v;

    if (format == FW_OUTPUT_JSON) {
        char *text = json_dumps(result, JSON_INDENT(2));

        if (text) {
            fprintf(out, "%s\n", text);
            free(text);
        }
        return;
    }
    print_scalars(out, result, "", scalar_width(result, 0));
    json_object_foreach((json_t *)result, key, v)
    {
        if (is_object_array(v)) {
            print_table(out, key, v);
        }
    }
}
