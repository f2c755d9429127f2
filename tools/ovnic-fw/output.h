/* ovnic-fw: prints a result as a table or as JSON, from the same JSON object, so that
 * both formats carry the same field names. */
#ifndef OVNIC_FW_OUTPUT_H
#define OVNIC_FW_OUTPUT_H 1

#include <jansson.h>
#include <stdio.h>

enum fw_output_format {
    FW_OUTPUT_TABLE,
    FW_OUTPUT_JSON,
};

/** Parses "table" or "json".  Returns 0 or -EINVAL. */
int fw_output_format_parse(const char *s, enum fw_output_format *format);

/** Prints object 'result' (borrowed) to 'out'.
 *
 * JSON: the object, indented, on its own.
 * Table: first one line per scalar member ("name  value"), an array of scalars as a
 * comma-separated list, a nested object as "name.member" lines; then, for each member
 * that is an array of objects, a blank line, "name:", and a table whose column
 * headers are the objects' member names. */
void fw_output_print(FILE *out, const json_t *result, enum fw_output_format format);

#endif /* OVNIC_FW_OUTPUT_H */
