/* Fuzz target for the logical-flow actions parser: bad input must be rejected
 * cleanly, and what it accepts must print to text that parses again to the same
 * text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/controller/actions.h"
#include "dpu/controller/symtab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses 's' and checks the round trip through the text form. */
static void
fuzz_one(const struct symtab *symtab, const char *s, const struct action_parse_params *p)
{
    struct action_list *list = NULL;
    struct ovnic_err err = {0};

    if (action_parse(symtab, s, p, &list, &err)) {
        if (err.code >= 0 || !err.message) {
            abort(); /* A failure must say what failed. */
        }
        return;
    }
    char *text = action_list_format(list);
    if (!text) {
        abort();
    }
    struct action_list *again = NULL;
    if (action_parse(symtab, text, p, &again, &err)) {
        fprintf(stderr, "formatted actions do not parse: %s\n", text);
        abort();
    }
    char *text2 = action_list_format(again);
    if (!text2 || strcmp(text, text2)) {
        fprintf(stderr, "text form changed: '%s' -> '%s'\n", text, text2 ? text2 : "");
        abort();
    }
    (void)action_list_count(list);
    free(text2);
    free(text);
    action_list_destroy(again);
    action_list_destroy(list);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct symtab *symtab;
    static const struct action_parse_params params = {
        .pipeline = ACTION_PIPELINE_INGRESS,
        .cur_table = 7,
    };

    if (!symtab && symtab_create(&symtab)) {
        abort();
    }
    char *s = malloc(size + 1);
    if (!s) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    fuzz_one(symtab, s, NULL);
    fuzz_one(symtab, s, &params);
    free(s);
    return 0;
}
