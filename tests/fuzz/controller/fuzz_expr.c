/* Fuzz target for the logical-flow match language: lexer, parser, annotation and
 * normalisation must reject bad input cleanly, and what they accept must print back to
 * text that parses again and means the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/controller/expr.h"
#include "dpu/controller/symtab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_as1[] = {"10.0.0.1", "10.0.0.2", "192.168.0.0/16", "bogus"};
static const char *const fuzz_as6[] = {"fe80::1", "2001:db8::/32"};
static const char *const fuzz_pg1[] = {"lp1", "lp2", "lp3"};

static int
fuzz_address_set(void *aux, const char *name, const char *const **values, size_t *n)
{
    (void)aux;
    if (!strcmp(name, "as1") || !strcmp(name, "pg1_ip4")) {
        *values = fuzz_as1;
        *n = sizeof fuzz_as1 / sizeof *fuzz_as1;
    } else if (!strcmp(name, "as6") || !strcmp(name, "pg1_ip6")) {
        *values = fuzz_as6;
        *n = sizeof fuzz_as6 / sizeof *fuzz_as6;
    } else if (!strcmp(name, "empty")) {
        *values = NULL;
        *n = 0;
    } else {
        return -2; /* -ENOENT */
    }
    return 0;
}

static int
fuzz_port_group(void *aux, const char *name, const char *const **values, size_t *n)
{
    (void)aux;
    if (strcmp(name, "pg1")) {
        return -2;
    }
    *values = fuzz_pg1;
    *n = sizeof fuzz_pg1 / sizeof *fuzz_pg1;
    return 0;
}

static bool
fuzz_resident(const void *aux, const char *port)
{
    (void)aux;
    return !strcmp(port, "lp1");
}

/* Checks that 'list' and 'annotated' agree on a few pseudo-random packets. */
static void
fuzz_check_agreement(const struct expr *annotated, const struct expr_match_list *list,
                     uint32_t seed)
{
    static const char *const ports[] = {"lp1", "lp2", "lp9", NULL};
    for (int round = 0; round < 16; round++) {
        struct expr_flow flow;
        memset(&flow, 0, sizeof flow);
        for (int i = 0; i < SYMTAB_N_FIELDS; i++) {
            lex_u128 v = 0;
            for (int k = 0; k < 4; k++) {
                seed = seed * 1103515245u + 12345u;
                v = (v << 32) | seed;
            }
            /* Often use a value some term of the list wants, to hit matches. */
            if (list->n_matches && (seed & 1)) {
                const struct expr_match *m =
                    &list->matches[(seed >> 1) % list->n_matches];
                for (size_t j = 0; j < m->n_terms; j++) {
                    const struct expr_term *t = &m->terms[j];
                    if (t->type == EXPR_TERM_FIELD && (int)t->field->id == i) {
                        v = (v & ~t->mask) | t->value;
                    }
                }
            }
            flow.values[i] = v;
        }
        flow.inport = ports[(seed >> 3) % 4];
        flow.outport = ports[(seed >> 5) % 4];
        flow.is_chassis_resident = fuzz_resident;
        if (expr_evaluate(annotated, &flow) != expr_match_list_evaluate(list, &flow)) {
            abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct symtab *symtab;
    if (!symtab && symtab_create(&symtab)) {
        abort();
    }

    char *s = malloc(size + 1);
    if (!s) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';

    struct expr_lookup lookup = {
        .address_set = fuzz_address_set,
        .port_group = fuzz_port_group,
    };
    struct expr_refs refs;
    expr_refs_init(&refs);

    struct ovnic_err err = {0};
    struct expr *parsed = NULL, *annotated = NULL;
    struct expr_match_list *list = NULL;
    if (!expr_parse(symtab, s, &lookup, &refs, &parsed, &err)) {
        /* The text form must parse back. */
        char *text = expr_format(parsed);
        struct expr *again = NULL;
        if (text && expr_parse(symtab, text, &lookup, NULL, &again, NULL)) {
            abort();
        }
        expr_destroy(again);
        free(text);

        if (!expr_annotate(symtab, parsed, &annotated, &err) &&
            !expr_normalize(annotated, 4096, &list, &err)) {
            char *ir = expr_match_list_format(list);
            free(ir);
            uint32_t seed = 0;
            for (size_t i = 0; i < size; i++) {
                seed = seed * 31 + data[i];
            }
            fuzz_check_agreement(annotated, list, seed);
        }
    } else if (!err.code || !err.message) {
        abort();
    }

    expr_match_list_destroy(list);
    expr_destroy(annotated);
    expr_destroy(parsed);
    expr_refs_destroy(&refs);
    free(s);
    return 0;
}
