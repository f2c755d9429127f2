/* ovnic: OVN logical-flow actions -> IR (see actions.h). */
#include "dpu/controller/actions.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(actions);

/* Nested blocks ("clone { clone { ... } }") deeper than this are refused, so that no
 * input can exhaust the stack. */
#define ACTION_MAX_DEPTH 32

/* ----- Growable text. ----- */

struct abuf {
    char *s;
    size_t len;
    size_t cap;
    bool enomem;
};

static void OVNIC_PRINTF(2, 3) abuf_printf(struct abuf *b, const char *fmt, ...)
{
    while (!b->enomem) {
        size_t avail = b->cap - b->len;
        va_list args;

        va_start(args, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? avail : 0, fmt, args);
        va_end(args);
        if (n < 0) {
            b->enomem = true;
        } else if (b->s && (size_t)n < avail) {
            b->len += (size_t)n;
            return;
        } else {
            size_t cap = MAX(b->cap * 2, b->len + (size_t)n + 64);
            char *s = realloc(b->s, cap);
            if (!s) {
                b->enomem = true;
            } else {
                b->s = s;
                b->cap = cap;
            }
        }
    }
}

static char *
abuf_steal(struct abuf *b)
{
    if (b->enomem) {
        free(b->s);
        return NULL;
    }
    return b->s ? b->s : strdup("");
}

static void
abuf_put_string(struct abuf *b, const char *s)
{
    abuf_printf(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            abuf_printf(b, "\\%c", *p);
        } else if (*p < 0x20) {
            abuf_printf(b, "\\u%04x", *p);
        } else {
            abuf_printf(b, "%c", *p);
        }
    }
    abuf_printf(b, "\"");
}

/* ----- Parser state. ----- */

/* Which fields an action may write: ct_mark and ct_label only inside ct_commit. */
enum action_scope {
    SCOPE_DEFAULT,
    SCOPE_CT_COMMIT,
};

struct actx {
    const struct symtab *symtab;
    const struct action_parse_params *params;
    struct lexer lexer;
    struct ovnic_err err;
    char **prereqs; /* Unique prerequisite expressions of the outermost list. */
    size_t n_prereqs;
    int depth;
};

static bool
actx_failed(const struct actx *ctx)
{
    return ctx->err.code != 0;
}

static void
actx_enomem(struct actx *ctx)
{
    ovnic_err_set(&ctx->err, -ENOMEM, "actions", "out of memory", NULL);
}

/* Up to 32 bytes of the current token's text, for messages. */
static const char *
token_text(const struct actx *ctx, char *buf, size_t size)
{
    const struct lex_token *t = &ctx->lexer.token;
    size_t len = t->end > t->start ? t->end - t->start : 0;
    size_t n = MIN(len, MIN(size - 4, (size_t)32));

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)ctx->lexer.input[t->start + i];
        buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (len > n) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

/* Reports the lexical error held by the current token, if it is one. */
static bool
lex_error(struct actx *ctx)
{
    const struct lex_token *t = &ctx->lexer.token;

    if (t->type != LEX_T_ERROR) {
        return false;
    }
    if (t->enomem) {
        actx_enomem(ctx);
    } else {
        ovnic_err_set(&ctx->err, -EINVAL, "actions", "syntax error", "%s, at column %zu",
                      t->error, t->start + 1);
    }
    return true;
}

/* Records an error about what was written at offset 'pos'. */
static void OVNIC_PRINTF(4, 5)
    fail(struct actx *ctx, size_t pos, const char *message, const char *fmt, ...)
{
    char detail[OVNIC_ERR_DETAIL_LEN];
    va_list args;

    if (actx_failed(ctx) || lex_error(ctx)) {
        return;
    }
    va_start(args, fmt);
    vsnprintf(detail, sizeof detail, fmt, args);
    va_end(args);
    ovnic_err_set(&ctx->err, -EINVAL, "actions", message, "%s, at column %zu", detail,
                  pos + 1);
}

/* Records a syntax error at the current token. */
static void
syntax_error(struct actx *ctx, const char *expecting)
{
    const struct lex_token *t = &ctx->lexer.token;
    char text[40];

    if (actx_failed(ctx) || lex_error(ctx)) {
        return;
    }
    if (t->type == LEX_T_END) {
        ovnic_err_set(&ctx->err, -EINVAL, "actions", "syntax error",
                      "at end of input: expecting %s", expecting);
    } else {
        ovnic_err_set(&ctx->err, -EINVAL, "actions", "syntax error",
                      "at `%s' (column %zu): expecting %s",
                      token_text(ctx, text, sizeof text), t->start + 1, expecting);
    }
}

static enum lex_type
tok(const struct actx *ctx)
{
    return ctx->lexer.token.type;
}

static size_t
tok_pos(const struct actx *ctx)
{
    return ctx->lexer.token.start;
}

static bool
tok_is_id(const struct actx *ctx, const char *id)
{
    return tok(ctx) == LEX_T_ID && !strcmp(ctx->lexer.token.s, id);
}

static void
advance(struct actx *ctx)
{
    lexer_get(&ctx->lexer);
}

static bool
match(struct actx *ctx, enum lex_type type)
{
    return lexer_match(&ctx->lexer, type);
}

static bool
force_match(struct actx *ctx, enum lex_type type)
{
    if (match(ctx, type)) {
        return true;
    }
    syntax_error(ctx, lex_type_to_string(type));
    return false;
}

static bool
force_match_id(struct actx *ctx, const char *id)
{
    if (lexer_match_id(&ctx->lexer, id)) {
        return true;
    }
    char expecting[48];
    snprintf(expecting, sizeof expecting, "`%s'", id);
    syntax_error(ctx, expecting);
    return false;
}

/* Takes the current string token's text (caller owns), or reports 'expecting'. */
static char *
take_string(struct actx *ctx, const char *expecting)
{
    if (tok(ctx) != LEX_T_STRING) {
        syntax_error(ctx, expecting);
        return NULL;
    }
    char *s = ctx->lexer.token.s;
    ctx->lexer.token.s = NULL;
    advance(ctx);
    if (!s) {
        /* The lexer always gives strings a buffer; treat absence as exhaustion. */
        actx_enomem(ctx);
    }
    return s;
}

/* Parses an unmasked integer in [min, max] into '*value'. */
static bool
parse_uint(struct actx *ctx, uint64_t min, uint64_t max, const char *what,
           uint64_t *value)
{
    const struct lex_token *t = &ctx->lexer.token;

    if (t->type != LEX_T_INTEGER) {
        syntax_error(ctx, what);
        return false;
    }
    if (t->value < min || t->value > max) {
        fail(ctx, t->start, "value out of range", "%s must be in the range %llu to %llu",
             what, (unsigned long long)min, (unsigned long long)max);
        return false;
    }
    *value = (uint64_t)t->value;
    advance(ctx);
    return true;
}

static void
add_prereq(struct actx *ctx, const char *prereq)
{
    if (!prereq || actx_failed(ctx)) {
        return;
    }
    for (size_t i = 0; i < ctx->n_prereqs; i++) {
        if (!strcmp(ctx->prereqs[i], prereq)) {
            return;
        }
    }
    char **p = realloc(ctx->prereqs, (ctx->n_prereqs + 1) * sizeof *p);
    if (!p) {
        actx_enomem(ctx);
        return;
    }
    ctx->prereqs = p;
    p[ctx->n_prereqs] = strdup(prereq);
    if (!p[ctx->n_prereqs]) {
        actx_enomem(ctx);
        return;
    }
    ctx->n_prereqs++;
}

/* ----- Lists and ops. ----- */

static void action_destroy(struct action *a);

static struct action_list *
list_create(struct actx *ctx)
{
    struct action_list *list = calloc(1, sizeof *list);
    if (!list) {
        actx_enomem(ctx);
    }
    return list;
}

void
action_list_destroy(struct action_list *list)
{
    if (list) {
        for (size_t i = 0; i < list->n_ops; i++) {
            action_destroy(&list->ops[i]);
        }
        free(list->ops);
        free(list->prereqs);
        free(list);
    }
}

static void
const_destroy(struct action_const *c)
{
    free(c->string);
    c->string = NULL;
}

static void
action_destroy(struct action *a)
{
    const_destroy(&a->value);
    action_list_destroy(a->nested);
    free(a->lb.backends);
    free(a->lb.hash_fields);
    for (size_t i = 0; i < a->n_options; i++) {
        for (size_t j = 0; j < a->options[i].n_values; j++) {
            const_destroy(&a->options[i].values[j]);
        }
        free(a->options[i].values);
    }
    free(a->options);
    free(a->log.name);
    free(a->log.meter);
    free(a->string);
    for (size_t i = 0; i < a->n_kvs; i++) {
        free(a->kvs[i].key);
        free(a->kvs[i].value);
    }
    free(a->kvs);
    free(a->members);
    free(a->hash_fields);
}

/* Appends a zeroed op of 'type' to 'list'.  Returns NULL if memory runs out. */
static struct action *
list_append(struct actx *ctx, struct action_list *list, enum action_type type, size_t pos)
{
    if (list->n_ops >= list->alloc) {
        size_t alloc = list->alloc ? list->alloc * 2 : 4;
        struct action *ops = realloc(list->ops, alloc * sizeof *ops);
        if (!ops) {
            actx_enomem(ctx);
            return NULL;
        }
        list->ops = ops;
        list->alloc = alloc;
    }
    struct action *a = &list->ops[list->n_ops++];
    memset(a, 0, sizeof *a);
    a->type = type;
    a->pos = pos;
    a->log.severity = -1;
    a->next.table = -1;
    return a;
}

/* Adds a key/value pair to 'a' (both copied). */
static bool
add_kv(struct actx *ctx, struct action *a, const char *key, char *value)
{
    struct action_kv *kvs = realloc(a->kvs, (a->n_kvs + 1) * sizeof *kvs);
    if (!kvs) {
        free(value);
        actx_enomem(ctx);
        return false;
    }
    a->kvs = kvs;
    kvs[a->n_kvs].key = strdup(key);
    kvs[a->n_kvs].value = value;
    a->n_kvs++;
    if (!kvs[a->n_kvs - 1].key) {
        actx_enomem(ctx);
        return false;
    }
    return true;
}

/* ----- Fields. ----- */

/* A field as written, resolved to its storage. */
struct fref {
    const struct symtab_symbol *symbol; /* As written. */
    struct action_field f;
    bool is_string;
    size_t pos;
};

/* Moves a range inside a register view onto the register that holds it, when it
 * fits in one: in a view of N registers starting at register R, register R + i
 * holds bits [(N - 1 - i) * 32, (N - i) * 32). */
static void
field_unview(struct action_field *f)
{
    const struct symtab_field *sf = f->field;

    if (!sf->n_view || f->n_bits <= 0) {
        return;
    }
    int first = f->ofs / 32;
    int last = (f->ofs + f->n_bits - 1) / 32;
    if (first == last) {
        int reg = sf->view + (sf->n_view - 1 - first);
        f->field = symtab_field_get((enum symtab_field_id)reg);
        f->ofs -= first * 32;
    }
}

/* Parses "name" or "name[low]" or "name[low..high]". */
static bool
parse_field(struct actx *ctx, struct fref *r)
{
    const struct lex_token *t = &ctx->lexer.token;

    memset(r, 0, sizeof *r);
    if (t->type != LEX_T_ID) {
        syntax_error(ctx, "field name");
        return false;
    }
    r->pos = t->start;
    r->symbol = symtab_lookup(ctx->symtab, t->s);
    if (!r->symbol) {
        fail(ctx, r->pos, "unknown field", "%s", t->s);
        return false;
    }
    const struct symtab_symbol *sym = r->symbol;
    if (sym->kind == SYMTAB_PREDICATE) {
        fail(ctx, r->pos, "not a field", "predicate %s cannot be used as a field",
             sym->name);
        return false;
    }
    advance(ctx);

    int low = 0, high = sym->width - 1;
    if (match(ctx, LEX_T_LSQUARE)) {
        uint64_t lo, hi;
        if (!sym->width) {
            fail(ctx, r->pos, "invalid subfield",
                 "cannot select subfield of string field %s", sym->name);
            return false;
        }
        if (!parse_uint(ctx, 0, 0x7fffffff, "bit index", &lo)) {
            return false;
        }
        hi = lo;
        if (match(ctx, LEX_T_ELLIPSIS) &&
            !parse_uint(ctx, 0, 0x7fffffff, "bit index", &hi)) {
            return false;
        }
        if (!force_match(ctx, LEX_T_RSQUARE)) {
            return false;
        }
        if (lo > hi) {
            fail(ctx, r->pos, "invalid subfield", "invalid bit range %llu to %llu",
                 (unsigned long long)lo, (unsigned long long)hi);
            return false;
        }
        if (hi >= (uint64_t)sym->width) {
            fail(ctx, r->pos, "invalid subfield",
                 "cannot select bits %llu to %llu of %d-bit field %s",
                 (unsigned long long)lo, (unsigned long long)hi, sym->width, sym->name);
            return false;
        }
        if (sym->level == SYMTAB_L_NOMINAL &&
            (lo != 0 || hi != (uint64_t)sym->width - 1)) {
            fail(ctx, r->pos, "invalid subfield",
                 "cannot select subfield of nominal field %s", sym->name);
            return false;
        }
        low = (int)lo;
        high = (int)hi;
    }

    /* Down to the storage field, collecting prerequisites on the way. */
    int ofs = low;
    const struct symtab_symbol *s = sym;
    while (s->kind == SYMTAB_SUBFIELD) {
        add_prereq(ctx, s->prereqs);
        ofs += s->parent_ofs;
        s = s->parent;
    }
    add_prereq(ctx, s->prereqs);
    r->f.field = s->field;
    r->is_string = symtab_field_is_string(s->field);
    r->f.ofs = r->is_string ? 0 : ofs;
    r->f.n_bits = r->is_string ? 0 : high - low + 1;
    field_unview(&r->f);
    return !actx_failed(ctx);
}

/* Checks that 'r' may be written in 'scope'. */
static bool
check_writable(struct actx *ctx, const struct fref *r, enum action_scope scope)
{
    enum symtab_rw rw = r->symbol->rw;

    if (rw == SYMTAB_RW || (rw == SYMTAB_RW_CT_COMMIT && scope == SCOPE_CT_COMMIT)) {
        return true;
    }
    fail(ctx, r->pos, "field not writable",
         rw == SYMTAB_RW_CT_COMMIT ? "%s may only be written inside ct_commit"
                                   : "%s is read-only",
         r->symbol->name);
    return false;
}

/* Checks that 'r' is a string field (if 'n_bits' is 0) or an integer field of exactly
 * 'n_bits' bits. */
static bool
check_field_type(struct actx *ctx, const struct fref *r, int n_bits)
{
    if (!n_bits) {
        if (!r->is_string) {
            fail(ctx, r->pos, "type mismatch",
                 "integer field %s used where a logical port (string) field is required",
                 r->symbol->name);
            return false;
        }
        return true;
    }
    if (r->is_string) {
        fail(ctx, r->pos, "type mismatch",
             "string field %s used where a %d-bit field is required", r->symbol->name,
             n_bits);
        return false;
    }
    if (r->f.n_bits != n_bits) {
        fail(ctx, r->pos, "width mismatch",
             "%d-bit field %s used where a %d-bit field is required", r->f.n_bits,
             r->symbol->name, n_bits);
        return false;
    }
    return true;
}

/* ----- Constants. ----- */

/* The width a constant occupies: addresses their full size, numbers their value. */
static int
const_width(const struct action_const *c)
{
    switch (c->format) {
    case LEX_F_IPV4:
        return 32;
    case LEX_F_IPV6:
        return 128;
    case LEX_F_ETHERNET:
        return 48;
    case LEX_F_DECIMAL:
    case LEX_F_HEXADECIMAL:
    default:
        return MAX(lex_u128_width(c->value), c->masked ? lex_u128_width(c->mask) : 0);
    }
}

/* Parses a string, integer or masked integer constant into 'c'. */
static bool
parse_const(struct actx *ctx, struct action_const *c)
{
    struct lex_token *t = &ctx->lexer.token;

    memset(c, 0, sizeof *c);
    switch (t->type) {
    case LEX_T_STRING:
        c->is_string = true;
        c->string = t->s;
        t->s = NULL;
        advance(ctx);
        if (!c->string) {
            actx_enomem(ctx);
            return false;
        }
        return true;
    case LEX_T_INTEGER:
    case LEX_T_MASKED_INTEGER:
        c->value = t->value;
        c->masked = t->type == LEX_T_MASKED_INTEGER;
        c->mask = c->masked ? t->mask : ~(lex_u128)0;
        c->format = t->format;
        advance(ctx);
        return true;
    case LEX_T_MACRO:
    case LEX_T_PORT_GROUP:
        fail(ctx, t->start, "syntax error",
             "address sets and port groups may not be"
             " used in actions");
        return false;
    case LEX_T_END:
    case LEX_T_ERROR:
    case LEX_T_ID:
    case LEX_T_LPAREN:
    case LEX_T_RPAREN:
    case LEX_T_LCURLY:
    case LEX_T_RCURLY:
    case LEX_T_LSQUARE:
    case LEX_T_RSQUARE:
    case LEX_T_EQ:
    case LEX_T_NE:
    case LEX_T_LT:
    case LEX_T_LE:
    case LEX_T_GT:
    case LEX_T_GE:
    case LEX_T_LOG_NOT:
    case LEX_T_LOG_AND:
    case LEX_T_LOG_OR:
    case LEX_T_ELLIPSIS:
    case LEX_T_COMMA:
    case LEX_T_SEMICOLON:
    case LEX_T_EQUALS:
    case LEX_T_EXCHANGE:
    case LEX_T_ARROW:
    case LEX_T_DECREMENT:
    case LEX_T_COLON:
    case LEX_T_HYPHEN:
    default:
        syntax_error(ctx, "constant");
        return false;
    }
}

/* ----- Assignments. ----- */

static bool parse_result_action(struct actx *ctx, struct action_list *list,
                                const struct fref *dst, enum action_scope scope);

/* "dst = constant", "dst = src", "dst <-> src", "ip.ttl--", "R = f(...)". */
/* Appends ACTION_MOVE ('src' assigned to 'dst') or ACTION_EXCHANGE ('dst' exchanged
 * with 'src'), once both fields are known to have the same type and width. */
static bool
append_field_pair(struct actx *ctx, struct action_list *list, enum action_type type,
                  size_t pos, const struct fref *dst, const struct fref *src)
{
    bool move = type == ACTION_MOVE;
    const char *verb = move ? "assign" : "exchange";
    const char *prep = move ? "to" : "with";
    /* The field named first in messages, and the other one. */
    const struct fref *x = move ? src : dst;
    const struct fref *y = move ? dst : src;

    if (dst->is_string != src->is_string) {
        fail(ctx, src->pos, "type mismatch", "cannot %s %s field %s %s %s field %s", verb,
             x->is_string ? "string" : "integer", x->symbol->name, prep,
             y->is_string ? "string" : "integer", y->symbol->name);
        return false;
    }
    if (dst->f.n_bits != src->f.n_bits) {
        fail(ctx, src->pos, "width mismatch",
             "cannot %s %d-bit field %s %s %d-bit field %s", verb, x->f.n_bits,
             x->symbol->name, prep, y->f.n_bits, y->symbol->name);
        return false;
    }
    struct action *a = list_append(ctx, list, type, pos);
    if (a) {
        a->dst = dst->f;
        a->src = src->f;
    }
    return a != NULL;
}

static bool
parse_assignment(struct actx *ctx, struct action_list *list, enum action_scope scope)
{
    struct fref dst, src;
    size_t pos = tok_pos(ctx);

    if (!parse_field(ctx, &dst)) {
        return false;
    }
    if (tok(ctx) == LEX_T_DECREMENT) {
        if (strcmp(dst.symbol->name, "ip.ttl")) {
            fail(ctx, dst.pos, "syntax error", "only ip.ttl may be decremented, not %s",
                 dst.symbol->name);
            return false;
        }
        advance(ctx);
        struct action *a = list_append(ctx, list, ACTION_DEC_TTL, pos);
        if (a) {
            a->dst = dst.f;
        }
        return a != NULL;
    }
    if (match(ctx, LEX_T_EXCHANGE)) {
        if (!check_writable(ctx, &dst, scope) || !parse_field(ctx, &src) ||
            !check_writable(ctx, &src, scope)) {
            return false;
        }
        return append_field_pair(ctx, list, ACTION_EXCHANGE, pos, &dst, &src);
    }
    if (!match(ctx, LEX_T_EQUALS)) {
        syntax_error(ctx, "`=', `<->' or `--'");
        return false;
    }
    if (!check_writable(ctx, &dst, scope)) {
        return false;
    }
    if (tok(ctx) == LEX_T_ID && lexer_lookahead(&ctx->lexer) == LEX_T_LPAREN) {
        return parse_result_action(ctx, list, &dst, scope);
    }
    if (tok(ctx) == LEX_T_ID) {
        return parse_field(ctx, &src) &&
               append_field_pair(ctx, list, ACTION_MOVE, pos, &dst, &src);
    }

    struct action_const c;
    size_t cpos = tok_pos(ctx);
    if (!parse_const(ctx, &c)) {
        return false;
    }
    if (c.is_string != dst.is_string) {
        fail(ctx, cpos, "type mismatch", "%s field %s is not compatible with %s constant",
             dst.is_string ? "string" : "integer", dst.symbol->name,
             c.is_string ? "string" : "integer");
        const_destroy(&c);
        return false;
    }
    if (!c.is_string) {
        int w = const_width(&c);
        if (w > dst.f.n_bits) {
            fail(ctx, cpos, "constant out of range",
                 "%d-bit constant does not fit in %d-bit field %s", w, dst.f.n_bits,
                 dst.symbol->name);
            return false;
        }
        lex_u128 all = lex_u128_bits(0, dst.f.n_bits);
        c.mask &= all;
        if (c.masked && !c.mask) {
            fail(ctx, cpos, "constant out of range", "mask selects no bit of %s",
                 dst.symbol->name);
            return false;
        }
        c.masked = c.mask != all;
    }
    struct action *a = list_append(ctx, list, ACTION_LOAD, pos);
    if (!a) {
        const_destroy(&c);
        return false;
    }
    a->dst = dst.f;
    a->value = c;
    return true;
}

/* ----- Field-argument actions. ----- */

/* Parses one field argument of 'n_bits' bits (0: a logical port field) into
 * a->args[]. */
static bool
parse_arg_field(struct actx *ctx, struct action *a, int n_bits)
{
    struct fref r;

    if (!parse_field(ctx, &r) || !check_field_type(ctx, &r, n_bits)) {
        return false;
    }
    a->args[a->n_args++] = r.f;
    return true;
}

/* "(" fields ")" with the widths in 'widths' (terminated by -1; 0 is a port). */
static bool
parse_arg_fields(struct actx *ctx, struct action *a, const int *widths)
{
    if (!force_match(ctx, LEX_T_LPAREN)) {
        return false;
    }
    for (size_t i = 0; widths[i] >= 0; i++) {
        if (i && !force_match(ctx, LEX_T_COMMA)) {
            return false;
        }
        if (!parse_arg_field(ctx, a, widths[i])) {
            return false;
        }
    }
    return force_match(ctx, LEX_T_RPAREN);
}

/* ----- DHCP and RA options. ----- */

struct opt_def {
    const char *name;
    int code;
    enum action_opt_type type;
};

static const struct opt_def dhcpv4_opts[] = {
    {"offerip", 0, ACTION_OPT_IPV4},
    {"netmask", 1, ACTION_OPT_IPV4},
    {"router", 3, ACTION_OPT_IPV4},
    {"dns_server", 6, ACTION_OPT_IPV4},
    {"log_server", 7, ACTION_OPT_IPV4},
    {"lpr_server", 9, ACTION_OPT_IPV4},
    {"hostname", 12, ACTION_OPT_STR},
    {"domain_name", 15, ACTION_OPT_STR},
    {"swap_server", 16, ACTION_OPT_IPV4},
    {"ip_forward_enable", 19, ACTION_OPT_BOOL},
    {"policy_filter", 21, ACTION_OPT_IPV4},
    {"default_ttl", 23, ACTION_OPT_UINT8},
    {"mtu", 26, ACTION_OPT_UINT16},
    {"broadcast_address", 28, ACTION_OPT_IPV4},
    {"router_discovery", 31, ACTION_OPT_BOOL},
    {"router_solicitation", 32, ACTION_OPT_IPV4},
    {"arp_cache_timeout", 35, ACTION_OPT_UINT32},
    {"ethernet_encap", 36, ACTION_OPT_BOOL},
    {"tcp_ttl", 37, ACTION_OPT_UINT8},
    {"tcp_keepalive_interval", 38, ACTION_OPT_UINT32},
    {"nis_server", 41, ACTION_OPT_IPV4},
    {"ntp_server", 42, ACTION_OPT_IPV4},
    {"netbios_name_server", 44, ACTION_OPT_IPV4},
    {"netbios_node_type", 46, ACTION_OPT_UINT8},
    {"lease_time", 51, ACTION_OPT_UINT32},
    {"server_id", 54, ACTION_OPT_IPV4},
    {"T1", 58, ACTION_OPT_UINT32},
    {"T2", 59, ACTION_OPT_UINT32},
    {"tftp_server", 66, ACTION_OPT_HOST_ID},
    {"bootfile_name", 67, ACTION_OPT_STR},
    {"domain_search_list", 119, ACTION_OPT_DOMAINS},
    {"classless_static_route", 121, ACTION_OPT_STATIC_ROUTES},
    {"tftp_server_address", 150, ACTION_OPT_IPV4},
    {"path_prefix", 210, ACTION_OPT_STR},
    {"ms_classless_static_route", 249, ACTION_OPT_STATIC_ROUTES},
    {"wpad", 252, ACTION_OPT_STR},
    {"next_server", 253, ACTION_OPT_IPV4},
    {"bootfile_name_alt", 254, ACTION_OPT_STR},
};

static const struct opt_def dhcpv6_opts[] = {
    {"server_id", 2, ACTION_OPT_MAC},      {"ia_addr", 5, ACTION_OPT_IPV6},
    {"dns_server", 23, ACTION_OPT_IPV6},   {"domain_search", 24, ACTION_OPT_STR},
    {"bootfile_name", 59, ACTION_OPT_STR}, {"bootfile_name_alt", 254, ACTION_OPT_STR},
};

static const struct opt_def nd_ra_opts[] = {
    {"addr_mode", -1, ACTION_OPT_STR},
    {"slla", -1, ACTION_OPT_MAC},
    {"prefix", -1, ACTION_OPT_IPV6},
    {"mtu", -1, ACTION_OPT_UINT32},
    {"router_preference", -1, ACTION_OPT_STR},
    {"rdnss", -1, ACTION_OPT_IPV6},
    {"dnssl", -1, ACTION_OPT_STR},
    {"route_info", -1, ACTION_OPT_STR},
};

static bool
opt_type_is_string(enum action_opt_type type)
{
    return type == ACTION_OPT_STR || type == ACTION_OPT_DOMAINS;
}

/* Checks the values of 'o' against its type, as ovn-controller does: numeric types
 * take integers, string types strings, host_id either. */
static bool
check_option(struct actx *ctx, const char *kind, const struct action_option *o,
             size_t pos)
{
    for (size_t i = 0; i < o->n_values; i++) {
        const struct action_const *c = &o->values[i];
        if (o->type == ACTION_OPT_HOST_ID) {
            continue;
        }
        if (opt_type_is_string(o->type) && !c->is_string) {
            fail(ctx, pos, "invalid option", "%s option %s requires a string value", kind,
                 o->name);
            return false;
        }
        if (!opt_type_is_string(o->type) && c->is_string) {
            fail(ctx, pos, "invalid option", "%s option %s requires a numeric value",
                 kind, o->name);
            return false;
        }
    }
    return true;
}

/* "(" [name "=" value-or-set {"," ...}] ")" for the option table 'defs'. */
static bool
parse_options(struct actx *ctx, struct action *a, const char *kind,
              const struct opt_def *defs, size_t n_defs)
{
    if (!force_match(ctx, LEX_T_LPAREN)) {
        return false;
    }
    if (match(ctx, LEX_T_RPAREN)) {
        return true;
    }
    do {
        const struct opt_def *def = NULL;
        size_t pos = tok_pos(ctx);

        if (tok(ctx) == LEX_T_ID) {
            for (size_t i = 0; i < n_defs; i++) {
                if (!strcmp(defs[i].name, ctx->lexer.token.s)) {
                    def = &defs[i];
                }
            }
        }
        if (!def) {
            char expecting[48];
            snprintf(expecting, sizeof expecting, "%s option name", kind);
            syntax_error(ctx, expecting);
            return false;
        }
        advance(ctx);
        if (!force_match(ctx, LEX_T_EQUALS)) {
            return false;
        }

        struct action_option *opts =
            realloc(a->options, (a->n_options + 1) * sizeof *opts);
        if (!opts) {
            actx_enomem(ctx);
            return false;
        }
        a->options = opts;
        struct action_option *o = &opts[a->n_options++];
        memset(o, 0, sizeof *o);
        o->name = def->name;
        o->code = def->code;
        o->type = def->type;

        bool curly = match(ctx, LEX_T_LCURLY);
        do {
            struct action_const *v = realloc(o->values, (o->n_values + 1) * sizeof *v);
            if (!v) {
                actx_enomem(ctx);
                return false;
            }
            o->values = v;
            if (!parse_const(ctx, &v[o->n_values])) {
                return false;
            }
            o->n_values++;
        } while (curly && match(ctx, LEX_T_COMMA));
        if (curly && !force_match(ctx, LEX_T_RCURLY)) {
            return false;
        }
        if (!check_option(ctx, kind, o, pos)) {
            return false;
        }
    } while (match(ctx, LEX_T_COMMA));
    return force_match(ctx, LEX_T_RPAREN);
}

static const struct action_option *
find_option(const struct action *a, const char *name)
{
    for (size_t i = 0; i < a->n_options; i++) {
        if (!strcmp(a->options[i].name, name)) {
            return &a->options[i];
        }
    }
    return NULL;
}

static bool
option_is_string(const struct action_option *o, const char *const *allowed)
{
    if (o->n_values != 1 || !o->values[0].is_string) {
        return false;
    }
    for (size_t i = 0; allowed[i]; i++) {
        if (!strcmp(o->values[0].string, allowed[i])) {
            return true;
        }
    }
    return false;
}

/* The rules of put_nd_ra_opts beyond the types of the values. */
static bool
check_nd_ra_options(struct actx *ctx, const struct action *a, size_t pos)
{
    static const char *const modes[] = {"slaac", "dhcpv6_stateful", "dhcpv6_stateless",
                                        NULL};
    static const char *const prfs[] = {"HIGH", "MEDIUM", "LOW", NULL};
    const struct action_option *mode = find_option(a, "addr_mode");
    const struct action_option *slla = find_option(a, "slla");
    const struct action_option *prf = find_option(a, "router_preference");

    if (!mode || !option_is_string(mode, modes)) {
        fail(ctx, pos, "invalid option",
             "put_nd_ra_opts requires addr_mode \"slaac\", \"dhcpv6_stateful\" or"
             " \"dhcpv6_stateless\"");
        return false;
    }
    if (!slla || slla->n_values != 1 || slla->values[0].format != LEX_F_ETHERNET ||
        slla->values[0].masked) {
        fail(ctx, pos, "invalid option",
             "put_nd_ra_opts requires slla, an Ethernet"
             " address");
        return false;
    }
    if (prf && !option_is_string(prf, prfs)) {
        fail(ctx, pos, "invalid option",
             "router_preference must be \"HIGH\", \"MEDIUM\" or \"LOW\"");
        return false;
    }
    bool has_prefix = false;
    for (size_t i = 0; i < a->n_options; i++) {
        const struct action_option *o = &a->options[i];
        if (strcmp(o->name, "prefix")) {
            continue;
        }
        for (size_t j = 0; j < o->n_values; j++) {
            const struct action_const *c = &o->values[j];
            if (c->format != LEX_F_IPV6 || !c->masked ||
                lex_u128_prefix_len(c->mask, 128) < 0) {
                fail(ctx, pos, "invalid option",
                     "prefix must be an IPv6 prefix such as"
                     " fd00::/64");
                return false;
            }
        }
        has_prefix = true;
    }
    if (!has_prefix && strcmp(mode->values[0].string, "dhcpv6_stateful")) {
        fail(ctx, pos, "invalid option",
             "prefix is required with addr_mode \"slaac\" or \"dhcpv6_stateless\"");
        return false;
    }
    return true;
}

/* ----- Result actions: "R = f(...)". ----- */

struct result_def {
    const char *name;
    enum action_type type;
    int r_bits; /* Required width of R: 1, 16 (at least), or -1 (port or 32 bits). */
};

static const struct result_def result_defs[] = {
    {"put_dhcp_opts", ACTION_PUT_DHCPV4_OPTS, 1},
    {"put_dhcpv6_opts", ACTION_PUT_DHCPV6_OPTS, 1},
    {"put_nd_ra_opts", ACTION_PUT_ND_RA_OPTS, 1},
    {"dns_lookup", ACTION_DNS_LOOKUP, 1},
    {"lookup_arp", ACTION_LOOKUP_ARP, 1},
    {"lookup_arp_ip", ACTION_LOOKUP_ARP_IP, 1},
    {"lookup_nd", ACTION_LOOKUP_ND, 1},
    {"lookup_nd_ip", ACTION_LOOKUP_ND_IP, 1},
    {"check_pkt_larger", ACTION_CHECK_PKT_LARGER, 1},
    {"lookup_fdb", ACTION_LOOKUP_FDB, 1},
    {"get_fdb", ACTION_GET_FDB, -1},
    {"chk_lb_hairpin", ACTION_CHK_LB_HAIRPIN, 1},
    {"chk_lb_hairpin_reply", ACTION_CHK_LB_HAIRPIN_REPLY, 1},
    {"select", ACTION_SELECT, 16},
    {"chk_ecmp_nh_mac", ACTION_CHK_ECMP_NH_MAC, 1},
    {"chk_ecmp_nh", ACTION_CHK_ECMP_NH, 1},
    {"chk_lb_aff", ACTION_CHK_LB_AFF, 1},
    {"check_in_port_sec", ACTION_CHECK_IN_PORT_SEC, 1},
    {"check_out_port_sec", ACTION_CHECK_OUT_PORT_SEC, 1},
};

static bool
parse_select(struct actx *ctx, struct action *a)
{
    if (!force_match(ctx, LEX_T_LPAREN)) {
        return false;
    }
    do {
        uint64_t value, weight = 100;
        if (!parse_uint(ctx, 0, 65535, "select member", &value)) {
            return false;
        }
        if (match(ctx, LEX_T_EQUALS) &&
            !parse_uint(ctx, 1, 65535, "select weight", &weight)) {
            return false;
        }
        struct action_select_member *m =
            realloc(a->members, (a->n_members + 1) * sizeof *m);
        if (!m) {
            actx_enomem(ctx);
            return false;
        }
        a->members = m;
        m[a->n_members].value = (uint16_t)value;
        m[a->n_members].weight = (uint16_t)weight;
        a->n_members++;
    } while (match(ctx, LEX_T_COMMA));
    if (a->n_members < 2) {
        syntax_error(ctx, "at least 2 select members");
        return false;
    }
    return force_match(ctx, LEX_T_RPAREN);
}

static bool
parse_result_action(struct actx *ctx, struct action_list *list, const struct fref *dst,
                    enum action_scope scope)
{
    const struct result_def *def = NULL;
    size_t pos = tok_pos(ctx);

    for (size_t i = 0; i < ARRAY_SIZE(result_defs); i++) {
        if (!strcmp(result_defs[i].name, ctx->lexer.token.s)) {
            def = &result_defs[i];
        }
    }
    if (!def) {
        fail(ctx, pos, "unknown action", "%s() does not return a value",
             ctx->lexer.token.s);
        return false;
    }
    if (def->r_bits == 1 && (dst->is_string || dst->f.n_bits != 1)) {
        fail(ctx, dst->pos, "width mismatch", "%s needs a 1-bit result field, not %s",
             def->name, dst->symbol->name);
        return false;
    } else if (def->r_bits == 16 && (dst->is_string || dst->f.n_bits < 16)) {
        fail(ctx, dst->pos, "width mismatch",
             "%s needs a result field of at least 16 bits, not %s", def->name,
             dst->symbol->name);
        return false;
    } else if (def->r_bits < 0 && !dst->is_string && dst->f.n_bits != 32) {
        fail(ctx, dst->pos, "width mismatch",
             "%s needs a logical port or 32-bit result field, not %s", def->name,
             dst->symbol->name);
        return false;
    }
    advance(ctx);

    struct action *a = list_append(ctx, list, def->type, dst->pos);
    if (!a) {
        return false;
    }
    a->dst = dst->f;
    static const int port_ip4_mac[] = {0, 32, 48, -1};
    static const int port_ip4[] = {0, 32, -1};
    static const int port_ip6_mac[] = {0, 128, 48, -1};
    static const int port_ip6[] = {0, 128, -1};
    static const int port_mac[] = {0, 48, -1};
    static const int mac[] = {48, -1};
    static const int none[] = {-1};

    switch (def->type) {
    case ACTION_PUT_DHCPV4_OPTS:
        if (!parse_options(ctx, a, "DHCPv4", dhcpv4_opts, ARRAY_SIZE(dhcpv4_opts))) {
            return false;
        }
        if (!find_option(a, "offerip")) {
            fail(ctx, pos, "invalid option", "put_dhcp_opts requires offerip");
            return false;
        }
        return true;
    case ACTION_PUT_DHCPV6_OPTS:
        return parse_options(ctx, a, "DHCPv6", dhcpv6_opts, ARRAY_SIZE(dhcpv6_opts));
    case ACTION_PUT_ND_RA_OPTS:
        return parse_options(ctx, a, "IPv6 ND RA", nd_ra_opts, ARRAY_SIZE(nd_ra_opts)) &&
               check_nd_ra_options(ctx, a, pos);
    case ACTION_LOOKUP_ARP:
        return parse_arg_fields(ctx, a, port_ip4_mac);
    case ACTION_LOOKUP_ARP_IP:
        return parse_arg_fields(ctx, a, port_ip4);
    case ACTION_LOOKUP_ND:
        return parse_arg_fields(ctx, a, port_ip6_mac);
    case ACTION_LOOKUP_ND_IP:
        return parse_arg_fields(ctx, a, port_ip6);
    case ACTION_LOOKUP_FDB:
        return parse_arg_fields(ctx, a, port_mac);
    case ACTION_GET_FDB:
        return parse_arg_fields(ctx, a, mac);
    case ACTION_CHECK_PKT_LARGER:
        return force_match(ctx, LEX_T_LPAREN) &&
               parse_uint(ctx, 0, UINT32_MAX, "packet length", &a->integer) &&
               force_match(ctx, LEX_T_RPAREN);
    case ACTION_SELECT:
        return parse_select(ctx, a);
    case ACTION_DNS_LOOKUP:
    case ACTION_CHK_LB_HAIRPIN:
    case ACTION_CHK_LB_HAIRPIN_REPLY:
    case ACTION_CHK_ECMP_NH_MAC:
    case ACTION_CHK_ECMP_NH:
    case ACTION_CHK_LB_AFF:
    case ACTION_CHECK_IN_PORT_SEC:
    case ACTION_CHECK_OUT_PORT_SEC:
        if (tok(ctx) == LEX_T_LPAREN && lexer_lookahead(&ctx->lexer) != LEX_T_RPAREN) {
            advance(ctx);
            fail(ctx, tok_pos(ctx), "syntax error", "%s takes no arguments", def->name);
            return false;
        }
        return parse_arg_fields(ctx, a, none);
    default:
        break;
    }
    (void)scope;
    fail(ctx, pos, "unknown action", "%s", def->name);
    return false;
}

/* ----- Connection tracking. ----- */

/* "ct_commit;", "ct_commit { ... };" or "ct_commit(ct_mark=V[/M], ct_label=V[/M]);". */
static bool parse_actions(struct actx *ctx, struct action_list *list,
                          enum lex_type sentinel, enum action_scope scope);

static bool
parse_nested(struct actx *ctx, struct action *a, enum action_scope scope)
{
    if (ctx->depth >= ACTION_MAX_DEPTH) {
        fail(ctx, tok_pos(ctx), "nesting too deep", "actions nested more than %d deep",
             ACTION_MAX_DEPTH);
        return false;
    }
    /* Prerequisites of nested actions do not apply to the flow (as in
     * ovn-controller): collect them aside and drop them. */
    char **saved = ctx->prereqs;
    size_t n_saved = ctx->n_prereqs;
    ctx->prereqs = NULL;
    ctx->n_prereqs = 0;
    ctx->depth++;
    bool ok = parse_actions(ctx, a->nested, LEX_T_RCURLY, scope);
    ctx->depth--;
    for (size_t i = 0; i < ctx->n_prereqs; i++) {
        free(ctx->prereqs[i]);
    }
    free(ctx->prereqs);
    ctx->prereqs = saved;
    ctx->n_prereqs = n_saved;
    return ok;
}

static bool
parse_ct_commit(struct actx *ctx, struct action *a)
{
    if (match(ctx, LEX_T_LCURLY)) {
        return parse_nested(ctx, a, SCOPE_CT_COMMIT);
    }
    if (!match(ctx, LEX_T_LPAREN)) {
        return true;
    }
    if (match(ctx, LEX_T_RPAREN)) {
        return true;
    }
    do {
        if (!tok_is_id(ctx, "ct_mark") && !tok_is_id(ctx, "ct_label")) {
            syntax_error(ctx, "ct_mark or ct_label");
            return false;
        }
        if (!parse_assignment(ctx, a->nested, SCOPE_CT_COMMIT)) {
            return false;
        }
        if (a->nested->ops[a->nested->n_ops - 1].type != ACTION_LOAD) {
            fail(ctx, a->nested->ops[a->nested->n_ops - 1].pos, "syntax error",
                 "ct_commit(...) takes constants only");
            return false;
        }
    } while (match(ctx, LEX_T_COMMA));
    return force_match(ctx, LEX_T_RPAREN);
}

/* An IPv4 or IPv6 address constant (no mask) into '*ip', '*ipv6'. */
static bool
parse_ip(struct actx *ctx, lex_u128 *ip, bool *ipv6, bool v6_only)
{
    const struct lex_token *t = &ctx->lexer.token;

    if (t->type != LEX_T_INTEGER ||
        (t->format != LEX_F_IPV6 && (v6_only || t->format != LEX_F_IPV4))) {
        syntax_error(ctx, v6_only ? "IPv6 address" : "IPv4 or IPv6 address");
        return false;
    }
    *ip = t->value;
    *ipv6 = t->format == LEX_F_IPV6;
    advance(ctx);
    return true;
}

/* "ct_dnat;", "ct_dnat(IP);", "ct_dnat(IP, PORT);", "ct_dnat(IP, LOW-HIGH);". */
static bool
parse_ct_nat(struct actx *ctx, struct action *a)
{
    if (!match(ctx, LEX_T_LPAREN)) {
        return true;
    }
    if (!parse_ip(ctx, &a->nat.ip, &a->nat.ipv6, false)) {
        return false;
    }
    a->nat.has_ip = true;
    if (match(ctx, LEX_T_COMMA)) {
        uint64_t lo, hi;
        if (!parse_uint(ctx, 1, 65535, "port", &lo)) {
            return false;
        }
        hi = lo;
        if (match(ctx, LEX_T_HYPHEN)) {
            size_t pos = tok_pos(ctx);
            if (!parse_uint(ctx, 1, 65535, "port", &hi)) {
                return false;
            }
            if (hi < lo) {
                fail(ctx, pos, "invalid port range",
                     "%llu-%llu: high port below low port", (unsigned long long)lo,
                     (unsigned long long)hi);
                return false;
            }
        }
        a->nat.port_lo = (uint16_t)lo;
        a->nat.port_hi = (uint16_t)hi;
    }
    return force_match(ctx, LEX_T_RPAREN);
}

/* One backend: "IP4[:PORT]", "IP6" or "[IP6][:PORT]". */
static bool
parse_backend(struct actx *ctx, struct action_backend *b)
{
    uint64_t port = 0;

    memset(b, 0, sizeof *b);
    if (match(ctx, LEX_T_LSQUARE)) {
        if (!parse_ip(ctx, &b->ip, &b->ipv6, true) || !force_match(ctx, LEX_T_RSQUARE)) {
            return false;
        }
    } else if (!parse_ip(ctx, &b->ip, &b->ipv6, false)) {
        return false;
    }
    if (match(ctx, LEX_T_COLON) && !parse_uint(ctx, 0, 65535, "port", &port)) {
        return false;
    }
    b->port = (uint16_t)port;
    return true;
}

/* "ct_lb;" or "ct_lb(backends=B, ...[; hash_fields="..."][; skip_snat|force_snat]);". */
static bool
parse_ct_lb(struct actx *ctx, struct action *a)
{
    struct action_lb *lb = &a->lb;

    if (!match(ctx, LEX_T_LPAREN)) {
        return true;
    }
    lb->has_backends = true;
    if (match(ctx, LEX_T_RPAREN)) {
        return true;
    }
    if (!force_match_id(ctx, "backends") || !force_match(ctx, LEX_T_EQUALS)) {
        return false;
    }
    while (tok(ctx) != LEX_T_SEMICOLON && tok(ctx) != LEX_T_RPAREN) {
        struct action_backend *b =
            realloc(lb->backends, (lb->n_backends + 1) * sizeof *b);
        if (!b) {
            actx_enomem(ctx);
            return false;
        }
        lb->backends = b;
        if (!parse_backend(ctx, &b[lb->n_backends])) {
            return false;
        }
        lb->n_backends++;
        if (!match(ctx, LEX_T_COMMA)) {
            break;
        }
    }
    if (match(ctx, LEX_T_SEMICOLON)) {
        if (lexer_match_id(&ctx->lexer, "hash_fields")) {
            if (!force_match(ctx, LEX_T_EQUALS)) {
                return false;
            }
            lb->hash_fields = take_string(ctx, "hash_fields string");
            if (!lb->hash_fields) {
                return false;
            }
            if (!match(ctx, LEX_T_SEMICOLON)) {
                return force_match(ctx, LEX_T_RPAREN);
            }
        }
        if (lexer_match_id(&ctx->lexer, "skip_snat")) {
            lb->ct_flag = ACTION_CT_FLAG_SKIP_SNAT;
        } else if (lexer_match_id(&ctx->lexer, "force_snat")) {
            lb->ct_flag = ACTION_CT_FLAG_FORCE_SNAT;
        } else {
            syntax_error(ctx, "hash_fields, skip_snat or force_snat");
            return false;
        }
    }
    return force_match(ctx, LEX_T_RPAREN);
}

/* ----- Other controller actions. ----- */

/* Parses "= NAME" where NAME is one of 'names' ("" entries never match), and stores
 * NAME's index in '*index'.  'expected' lists the names for the message. */
static bool
parse_id_choice(struct actx *ctx, const char *const names[], size_t n,
                const char *expected, int *index)
{
    if (!force_match(ctx, LEX_T_EQUALS)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (names[i][0] && lexer_match_id(&ctx->lexer, names[i])) {
            *index = (int)i;
            return true;
        }
    }
    syntax_error(ctx, expected);
    return false;
}

/* parse_id_choice() indexes stand for these enums' values. */
_Static_assert(ACTION_LOG_ALLOW == 0 && ACTION_LOG_DROP == 1 && ACTION_LOG_REJECT == 2,
               "verdict names follow enum action_log_verdict");
_Static_assert(ACTION_PIPELINE_INGRESS == 1 && ACTION_PIPELINE_EGRESS == 2,
               "pipeline names follow enum action_pipeline");

static bool
parse_log(struct actx *ctx, struct action *a)
{
    static const char *const severities[] = {"",        "alert",  "",     "",
                                             "warning", "notice", "info", "debug"};
    /* Indexed by enum action_log_verdict. */
    static const char *const verdicts[] = {"allow", "drop", "reject"};
    bool has_verdict = false;
    int i;

    if (!force_match(ctx, LEX_T_LPAREN)) {
        return false;
    }
    while (tok(ctx) != LEX_T_RPAREN) {
        if (lexer_match_id(&ctx->lexer, "verdict")) {
            if (!parse_id_choice(ctx, verdicts, ARRAY_SIZE(verdicts),
                                 "allow, drop or reject", &i)) {
                return false;
            }
            a->log.verdict = (enum action_log_verdict)i;
            has_verdict = true;
        } else if (lexer_match_id(&ctx->lexer, "name")) {
            free(a->log.name);
            a->log.name = NULL;
            if (!force_match(ctx, LEX_T_EQUALS) ||
                !(a->log.name = take_string(ctx, "string"))) {
                return false;
            }
        } else if (lexer_match_id(&ctx->lexer, "meter")) {
            free(a->log.meter);
            a->log.meter = NULL;
            if (!force_match(ctx, LEX_T_EQUALS) ||
                !(a->log.meter = take_string(ctx, "string"))) {
                return false;
            }
        } else if (lexer_match_id(&ctx->lexer, "severity")) {
            if (!parse_id_choice(ctx, severities, ARRAY_SIZE(severities),
                                 "alert, warning, notice, info or debug", &i)) {
                return false;
            }
            a->log.severity = i;
        } else {
            syntax_error(ctx, "verdict, name, severity or meter");
            return false;
        }
        if (!match(ctx, LEX_T_COMMA)) {
            break;
        }
    }
    if (!has_verdict) {
        syntax_error(ctx, "verdict");
        return false;
    }
    return force_match(ctx, LEX_T_RPAREN);
}

static bool
parse_trigger_event(struct actx *ctx, struct action *a)
{
    static const char *const keys[] = {"vip", "protocol", "load_balancer"};

    if (!force_match(ctx, LEX_T_LPAREN) || !force_match_id(ctx, "event") ||
        !force_match(ctx, LEX_T_EQUALS)) {
        return false;
    }
    size_t pos = tok_pos(ctx);
    a->string = take_string(ctx, "event name string");
    if (!a->string) {
        return false;
    }
    if (strcmp(a->string, "empty_lb_backends")) {
        fail(ctx, pos, "unknown event", "\"%s\" (known: \"empty_lb_backends\")",
             a->string);
        return false;
    }
    while (match(ctx, LEX_T_COMMA)) {
        const char *key = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
            if (tok_is_id(ctx, keys[i])) {
                key = keys[i];
            }
        }
        if (!key) {
            syntax_error(ctx, "vip, protocol or load_balancer");
            return false;
        }
        advance(ctx);
        if (!force_match(ctx, LEX_T_EQUALS)) {
            return false;
        }
        char *value = take_string(ctx, "string");
        if (!value || !add_kv(ctx, a, key, value)) {
            return false;
        }
    }
    return force_match(ctx, LEX_T_RPAREN);
}

static bool
parse_fwd_group(struct actx *ctx, struct action *a)
{
    if (!force_match(ctx, LEX_T_LPAREN)) {
        return false;
    }
    if (lexer_match_id(&ctx->lexer, "liveness")) {
        if (!force_match(ctx, LEX_T_EQUALS)) {
            return false;
        }
        if (tok(ctx) == LEX_T_STRING && (!strcmp(ctx->lexer.token.s, "true") ||
                                         !strcmp(ctx->lexer.token.s, "false"))) {
            a->liveness = !strcmp(ctx->lexer.token.s, "true");
            advance(ctx);
        } else if (tok_is_id(ctx, "true") || tok_is_id(ctx, "false")) {
            a->liveness = tok_is_id(ctx, "true");
            advance(ctx);
        } else {
            syntax_error(ctx, "true or false");
            return false;
        }
        if (!force_match(ctx, LEX_T_COMMA)) {
            return false;
        }
    }
    if (!force_match_id(ctx, "childports") || !force_match(ctx, LEX_T_EQUALS)) {
        return false;
    }
    do {
        char *port = take_string(ctx, "port name string");
        if (!port || !add_kv(ctx, a, "childports", port)) {
            return false;
        }
    } while (match(ctx, LEX_T_COMMA));
    return force_match(ctx, LEX_T_RPAREN);
}

static bool
parse_proto(struct actx *ctx, uint8_t *proto)
{
    if (lexer_match_id(&ctx->lexer, "tcp")) {
        *proto = IPPROTO_TCP;
    } else if (lexer_match_id(&ctx->lexer, "udp")) {
        *proto = IPPROTO_UDP;
    } else if (lexer_match_id(&ctx->lexer, "sctp")) {
        *proto = IPPROTO_SCTP;
    } else {
        syntax_error(ctx, "tcp, udp or sctp");
        return false;
    }
    return true;
}

static bool
parse_commit_ecmp_nh(struct actx *ctx, struct action *a)
{
    if (!force_match(ctx, LEX_T_LPAREN) || !force_match_id(ctx, "ipv6") ||
        !force_match(ctx, LEX_T_EQUALS)) {
        return false;
    }
    if (lexer_match_id(&ctx->lexer, "true")) {
        a->ipv6 = true;
    } else if (!lexer_match_id(&ctx->lexer, "false")) {
        syntax_error(ctx, "true or false");
        return false;
    }
    return force_match(ctx, LEX_T_COMMA) && force_match_id(ctx, "proto") &&
           force_match(ctx, LEX_T_EQUALS) && parse_proto(ctx, &a->proto) &&
           force_match(ctx, LEX_T_RPAREN);
}

/* Checks that 's' is "IPv4:PORT" or "[IPv6]:PORT". */
static bool
ip_port_is_valid(const char *s)
{
    struct lexer lexer;
    bool ok = false;

    lexer_init(&lexer, s);
    lexer_get(&lexer);
    if (lexer_match(&lexer, LEX_T_LSQUARE)) {
        ok = lexer.token.type == LEX_T_INTEGER && lexer.token.format == LEX_F_IPV6;
        lexer_get(&lexer);
        ok = ok && lexer_match(&lexer, LEX_T_RSQUARE);
    } else {
        ok = lexer.token.type == LEX_T_INTEGER && lexer.token.format == LEX_F_IPV4;
        lexer_get(&lexer);
    }
    ok = ok && lexer_match(&lexer, LEX_T_COLON) && lexer.token.type == LEX_T_INTEGER &&
         lexer.token.format == LEX_F_DECIMAL && lexer.token.value <= 65535;
    ok = ok && lexer_get(&lexer) == LEX_T_END;
    lexer_destroy(&lexer);
    return ok;
}

static bool
parse_commit_lb_aff(struct actx *ctx, struct action *a)
{
    static const char *const keys[] = {"vip", "backend"};

    if (!force_match(ctx, LEX_T_LPAREN)) {
        return false;
    }
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (!force_match_id(ctx, keys[i]) || !force_match(ctx, LEX_T_EQUALS)) {
            return false;
        }
        size_t pos = tok_pos(ctx);
        char *value = take_string(ctx, "\"IP:PORT\" string");
        if (!value) {
            return false;
        }
        if (!ip_port_is_valid(value)) {
            fail(ctx, pos, "invalid address", "%s \"%s\" is not IPv4:PORT or [IPv6]:PORT",
                 keys[i], value);
            free(value);
            return false;
        }
        if (!add_kv(ctx, a, keys[i], value) || !force_match(ctx, LEX_T_COMMA)) {
            return false;
        }
    }
    return force_match_id(ctx, "proto") && force_match(ctx, LEX_T_EQUALS) &&
           parse_proto(ctx, &a->proto) && force_match(ctx, LEX_T_COMMA) &&
           force_match_id(ctx, "timeout") && force_match(ctx, LEX_T_EQUALS) &&
           parse_uint(ctx, 0, UINT32_MAX, "timeout", &a->integer) &&
           force_match(ctx, LEX_T_RPAREN);
}

static bool
parse_next(struct actx *ctx, struct action *a)
{
    /* Indexed by enum action_pipeline. */
    static const char *const pipelines[] = {"", "ingress", "egress"};
    const struct action_parse_params *p = ctx->params;
    size_t pos = a->pos;
    uint64_t table;
    int pipeline;

    a->next.pipeline = ACTION_PIPELINE_CURRENT;
    a->next.table = -1;
    if (match(ctx, LEX_T_LPAREN)) {
        if (tok(ctx) == LEX_T_INTEGER) {
            if (!parse_uint(ctx, 0, 255, "table number", &table)) {
                return false;
            }
            a->next.table = (int)table;
        } else {
            do {
                if (lexer_match_id(&ctx->lexer, "pipeline")) {
                    if (!parse_id_choice(ctx, pipelines, ARRAY_SIZE(pipelines),
                                         "ingress or egress", &pipeline)) {
                        return false;
                    }
                    a->next.pipeline = (enum action_pipeline)pipeline;
                } else if (lexer_match_id(&ctx->lexer, "table")) {
                    if (!force_match(ctx, LEX_T_EQUALS) ||
                        !parse_uint(ctx, 0, 255, "table number", &table)) {
                        return false;
                    }
                    a->next.table = (int)table;
                } else {
                    syntax_error(ctx, "pipeline or table");
                    return false;
                }
            } while (match(ctx, LEX_T_COMMA));
        }
        if (!force_match(ctx, LEX_T_RPAREN)) {
            return false;
        }
    }
    if (p && a->next.pipeline == ACTION_PIPELINE_CURRENT) {
        a->next.pipeline = p->pipeline;
    }
    if (p && p->cur_table >= 0 && a->next.table < 0) {
        a->next.table = p->cur_table + 1;
    }
    if (a->next.table >= ACTION_MAX_TABLES) {
        fail(ctx, pos, "invalid table", "\"next\" cannot advance beyond table %d",
             ACTION_MAX_TABLES - 1);
        return false;
    }
    return true;
}

/* ----- Statements. ----- */

struct keyword_def {
    const char *name;
    enum action_type type;
    const char *prereq; /* Nested actions: what they require of the flow. */
};

static const struct keyword_def keywords[] = {
    {"output", ACTION_OUTPUT, NULL},
    {"next", ACTION_NEXT, NULL},
    {"ct_next", ACTION_CT_NEXT, NULL},
    {"ct_commit", ACTION_CT_COMMIT, NULL},
    {"ct_commit_nat", ACTION_CT_COMMIT_NAT, NULL},
    {"ct_dnat", ACTION_CT_DNAT, NULL},
    {"ct_snat", ACTION_CT_SNAT, NULL},
    {"ct_dnat_in_czone", ACTION_CT_DNAT_IN_CZONE, NULL},
    {"ct_snat_in_czone", ACTION_CT_SNAT_IN_CZONE, NULL},
    {"ct_lb", ACTION_CT_LB, NULL},
    {"ct_lb_mark", ACTION_CT_LB_MARK, NULL},
    {"ct_clear", ACTION_CT_CLEAR, NULL},
    {"ct_snat_to_vip", ACTION_CT_SNAT_TO_VIP, NULL},
    {"clone", ACTION_CLONE, NULL},
    {"arp", ACTION_ARP, "ip4"},
    {"nd_na", ACTION_ND_NA, "nd_ns"},
    {"nd_na_router", ACTION_ND_NA_ROUTER, "nd_ns"},
    {"nd_ns", ACTION_ND_NS, "ip6"},
    {"icmp4", ACTION_ICMP4, "ip4"},
    {"icmp4_error", ACTION_ICMP4_ERROR, "ip4"},
    {"icmp6", ACTION_ICMP6, "ip6"},
    {"icmp6_error", ACTION_ICMP6_ERROR, "ip6"},
    {"tcp_reset", ACTION_TCP_RESET, "tcp"},
    {"sctp_abort", ACTION_SCTP_ABORT, "sctp"},
    {"reject", ACTION_REJECT, NULL},
    {"igmp", ACTION_IGMP, NULL},
    {"put_arp", ACTION_PUT_ARP, NULL},
    {"put_nd", ACTION_PUT_ND, NULL},
    {"get_arp", ACTION_GET_ARP, NULL},
    {"get_nd", ACTION_GET_ND, NULL},
    {"set_queue", ACTION_SET_QUEUE, NULL},
    {"log", ACTION_LOG, NULL},
    {"set_meter", ACTION_SET_METER, NULL},
    {"trigger_event", ACTION_TRIGGER_EVENT, NULL},
    {"bind_vport", ACTION_BIND_VPORT, NULL},
    {"handle_svc_check", ACTION_HANDLE_SVC_CHECK, NULL},
    {"handle_dhcpv6_reply", ACTION_HANDLE_DHCPV6_REPLY, NULL},
    {"fwd_group", ACTION_FWD_GROUP, NULL},
    {"put_fdb", ACTION_PUT_FDB, NULL},
    {"commit_ecmp_nh", ACTION_COMMIT_ECMP_NH, NULL},
    {"commit_lb_aff", ACTION_COMMIT_LB_AFF, NULL},
    {"push", ACTION_PUSH, NULL},
    {"pop", ACTION_POP, NULL},
};

static bool
is_nested_type(enum action_type type)
{
    return (type >= ACTION_CLONE && type <= ACTION_REJECT) || type == ACTION_CT_COMMIT;
}

/* Parses the arguments of keyword action 'a' (its name already consumed). */
static bool
parse_keyword_args(struct actx *ctx, struct action *a, enum action_scope scope)
{
    static const int port_ip4_mac[] = {0, 32, 48, -1};
    static const int port_ip6_mac[] = {0, 128, 48, -1};
    static const int port_ip4[] = {0, 32, -1};
    static const int port_ip6[] = {0, 128, -1};
    static const int port_mac[] = {0, 48, -1};
    static const int port[] = {0, -1};

    switch (a->type) {
    case ACTION_NEXT:
        return parse_next(ctx, a);
    case ACTION_CT_COMMIT:
        return parse_ct_commit(ctx, a);
    case ACTION_CT_DNAT:
    case ACTION_CT_SNAT:
    case ACTION_CT_DNAT_IN_CZONE:
    case ACTION_CT_SNAT_IN_CZONE:
        return parse_ct_nat(ctx, a);
    case ACTION_CT_LB:
    case ACTION_CT_LB_MARK:
        return parse_ct_lb(ctx, a);
    case ACTION_CLONE:
        return force_match(ctx, LEX_T_LCURLY) && parse_nested(ctx, a, scope);
    case ACTION_ARP:
    case ACTION_ND_NA:
    case ACTION_ND_NA_ROUTER:
    case ACTION_ND_NS:
    case ACTION_ICMP4:
    case ACTION_ICMP4_ERROR:
    case ACTION_ICMP6:
    case ACTION_ICMP6_ERROR:
    case ACTION_TCP_RESET:
    case ACTION_SCTP_ABORT:
    case ACTION_REJECT:
        return force_match(ctx, LEX_T_LCURLY) && parse_nested(ctx, a, SCOPE_DEFAULT);
    case ACTION_PUT_ARP:
        return parse_arg_fields(ctx, a, port_ip4_mac);
    case ACTION_PUT_ND:
        return parse_arg_fields(ctx, a, port_ip6_mac);
    case ACTION_GET_ARP:
        return parse_arg_fields(ctx, a, port_ip4);
    case ACTION_GET_ND:
        return parse_arg_fields(ctx, a, port_ip6);
    case ACTION_PUT_FDB:
        return parse_arg_fields(ctx, a, port_mac);
    case ACTION_HANDLE_SVC_CHECK:
        return parse_arg_fields(ctx, a, port);
    case ACTION_SET_QUEUE:
        return force_match(ctx, LEX_T_LPAREN) &&
               parse_uint(ctx, 0, 61440, "queue id", &a->integer) &&
               force_match(ctx, LEX_T_RPAREN);
    case ACTION_SET_METER:
        if (!force_match(ctx, LEX_T_LPAREN) ||
            !parse_uint(ctx, 1, UINT32_MAX, "meter rate", &a->integer)) {
            return false;
        }
        if (match(ctx, LEX_T_COMMA)) {
            a->has_integer2 = true;
            if (!parse_uint(ctx, 0, UINT32_MAX, "meter burst", &a->integer2)) {
                return false;
            }
        }
        return force_match(ctx, LEX_T_RPAREN);
    case ACTION_LOG:
        return parse_log(ctx, a);
    case ACTION_TRIGGER_EVENT:
        return parse_trigger_event(ctx, a);
    case ACTION_BIND_VPORT:
        return force_match(ctx, LEX_T_LPAREN) &&
               (a->string = take_string(ctx, "port name string")) != NULL &&
               force_match(ctx, LEX_T_COMMA) && parse_arg_field(ctx, a, 0) &&
               force_match(ctx, LEX_T_RPAREN);
    case ACTION_FWD_GROUP:
        return parse_fwd_group(ctx, a);
    case ACTION_COMMIT_ECMP_NH:
        return parse_commit_ecmp_nh(ctx, a);
    case ACTION_COMMIT_LB_AFF:
        return parse_commit_lb_aff(ctx, a);
    case ACTION_PUSH:
    case ACTION_POP: {
        struct fref r;
        if (!force_match(ctx, LEX_T_LPAREN) || !parse_field(ctx, &r)) {
            return false;
        }
        if (a->type == ACTION_POP && !check_writable(ctx, &r, scope)) {
            return false;
        }
        a->dst = r.f;
        return force_match(ctx, LEX_T_RPAREN);
    }
    default:
        return true;
    }
}

static bool
parse_action(struct actx *ctx, struct action_list *list, enum action_scope scope)
{
    const struct lex_token *t = &ctx->lexer.token;

    if (t->type != LEX_T_ID) {
        syntax_error(ctx, "action");
        return false;
    }
    enum lex_type next = lexer_lookahead(&ctx->lexer);
    if (next == LEX_T_EQUALS || next == LEX_T_EXCHANGE || next == LEX_T_LSQUARE ||
        next == LEX_T_DECREMENT) {
        if (!parse_assignment(ctx, list, scope)) {
            return false;
        }
        return force_match(ctx, LEX_T_SEMICOLON);
    }
    if (!strcmp(t->s, "drop")) {
        fail(ctx, t->start, "syntax error", "\"drop\" must be the only action");
        return false;
    }

    const struct keyword_def *kw = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(keywords); i++) {
        if (!strcmp(keywords[i].name, t->s)) {
            kw = &keywords[i];
        }
    }
    if (!kw) {
        if (symtab_lookup(ctx->symtab, t->s)) {
            advance(ctx);
            syntax_error(ctx, "`=', `<->' or `--' after a field");
        } else {
            fail(ctx, t->start, "unknown action", "%s", t->s);
        }
        return false;
    }
    struct action *a = list_append(ctx, list, kw->type, t->start);
    if (!a) {
        return false;
    }
    advance(ctx);
    if (is_nested_type(kw->type)) {
        a->nested = list_create(ctx);
        if (!a->nested) {
            return false;
        }
    }
    if (!parse_keyword_args(ctx, a, scope)) {
        return false;
    }
    add_prereq(ctx, kw->prereq);
    return force_match(ctx, LEX_T_SEMICOLON);
}

/* Parses actions up to 'sentinel' (LEX_T_END or LEX_T_RCURLY), which is consumed. */
static bool
parse_actions(struct actx *ctx, struct action_list *list, enum lex_type sentinel,
              enum action_scope scope)
{
    /* "drop;" alone is the empty list. */
    if (tok_is_id(ctx, "drop") && lexer_lookahead(&ctx->lexer) == LEX_T_SEMICOLON) {
        advance(ctx);
        advance(ctx);
        if (tok(ctx) != sentinel) {
            fail(ctx, tok_pos(ctx), "syntax error", "\"drop\" must be the only action");
            return false;
        }
        advance(ctx);
        return true;
    }
    while (!match(ctx, sentinel)) {
        if (tok(ctx) == LEX_T_END) {
            syntax_error(ctx, lex_type_to_string(sentinel));
            return false;
        }
        if (!parse_action(ctx, list, scope)) {
            return false;
        }
    }
    return !actx_failed(ctx);
}

static int
prereq_cmp(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;
    return strcmp(*a, *b);
}

/* The flow's prerequisites as one expression: "p1 && p2", sorted. */
static char *
prereqs_join(struct actx *ctx)
{
    struct abuf b = {0};

    if (!ctx->n_prereqs) {
        return NULL;
    }
    qsort(ctx->prereqs, ctx->n_prereqs, sizeof *ctx->prereqs, prereq_cmp);
    for (size_t i = 0; i < ctx->n_prereqs; i++) {
        const char *p = ctx->prereqs[i];
        bool paren = strpbrk(p, " |&!") != NULL;
        abuf_printf(&b, "%s%s%s%s", i ? " && " : "", paren ? "(" : "", p,
                    paren ? ")" : "");
    }
    char *s = abuf_steal(&b);
    if (!s) {
        actx_enomem(ctx);
    }
    return s;
}

int
action_parse(const struct symtab *symtab, const char *s,
             const struct action_parse_params *params, struct action_list **listp,
             struct ovnic_err *err)
{
    struct actx ctx = {.symtab = symtab, .params = params};
    struct action_list *list = NULL;

    if (!symtab || !s || !listp) {
        return ovnic_err_set(err, -EINVAL, "actions", "invalid argument", NULL);
    }
    lexer_init(&ctx.lexer, s);
    lexer_get(&ctx.lexer);
    list = list_create(&ctx);
    if (list && parse_actions(&ctx, list, LEX_T_END, SCOPE_DEFAULT)) {
        list->prereqs = prereqs_join(&ctx);
    }
    lexer_destroy(&ctx.lexer);
    for (size_t i = 0; i < ctx.n_prereqs; i++) {
        free(ctx.prereqs[i]);
    }
    free(ctx.prereqs);

    if (actx_failed(&ctx)) {
        action_list_destroy(list);
        if (err) {
            ovnic_err_set(err, ctx.err.code, ctx.err.object, ctx.err.message, "%s",
                          ctx.err.detail);
        }
        return ctx.err.code;
    }
    *listp = list;
    return 0;
}

/* ----- Text form. ----- */

static const char *const type_names[ACTION_N_TYPES] = {
    [ACTION_OUTPUT] = "output",
    [ACTION_NEXT] = "next",
    [ACTION_LOAD] = "load",
    [ACTION_MOVE] = "move",
    [ACTION_EXCHANGE] = "exchange",
    [ACTION_DEC_TTL] = "dec_ttl",
    [ACTION_PUSH] = "push",
    [ACTION_POP] = "pop",
    [ACTION_CT_NEXT] = "ct_next",
    [ACTION_CT_COMMIT] = "ct_commit",
    [ACTION_CT_COMMIT_NAT] = "ct_commit_nat",
    [ACTION_CT_DNAT] = "ct_dnat",
    [ACTION_CT_SNAT] = "ct_snat",
    [ACTION_CT_DNAT_IN_CZONE] = "ct_dnat_in_czone",
    [ACTION_CT_SNAT_IN_CZONE] = "ct_snat_in_czone",
    [ACTION_CT_LB] = "ct_lb",
    [ACTION_CT_LB_MARK] = "ct_lb_mark",
    [ACTION_CT_CLEAR] = "ct_clear",
    [ACTION_CT_SNAT_TO_VIP] = "ct_snat_to_vip",
    [ACTION_CLONE] = "clone",
    [ACTION_ARP] = "arp",
    [ACTION_ND_NA] = "nd_na",
    [ACTION_ND_NA_ROUTER] = "nd_na_router",
    [ACTION_ND_NS] = "nd_ns",
    [ACTION_ICMP4] = "icmp4",
    [ACTION_ICMP4_ERROR] = "icmp4_error",
    [ACTION_ICMP6] = "icmp6",
    [ACTION_ICMP6_ERROR] = "icmp6_error",
    [ACTION_TCP_RESET] = "tcp_reset",
    [ACTION_SCTP_ABORT] = "sctp_abort",
    [ACTION_REJECT] = "reject",
    [ACTION_IGMP] = "igmp",
    [ACTION_PUT_ARP] = "put_arp",
    [ACTION_PUT_ND] = "put_nd",
    [ACTION_GET_ARP] = "get_arp",
    [ACTION_GET_ND] = "get_nd",
    [ACTION_LOOKUP_ARP] = "lookup_arp",
    [ACTION_LOOKUP_ARP_IP] = "lookup_arp_ip",
    [ACTION_LOOKUP_ND] = "lookup_nd",
    [ACTION_LOOKUP_ND_IP] = "lookup_nd_ip",
    [ACTION_PUT_DHCPV4_OPTS] = "put_dhcp_opts",
    [ACTION_PUT_DHCPV6_OPTS] = "put_dhcpv6_opts",
    [ACTION_PUT_ND_RA_OPTS] = "put_nd_ra_opts",
    [ACTION_DNS_LOOKUP] = "dns_lookup",
    [ACTION_SET_QUEUE] = "set_queue",
    [ACTION_LOG] = "log",
    [ACTION_SET_METER] = "set_meter",
    [ACTION_TRIGGER_EVENT] = "trigger_event",
    [ACTION_BIND_VPORT] = "bind_vport",
    [ACTION_HANDLE_SVC_CHECK] = "handle_svc_check",
    [ACTION_HANDLE_DHCPV6_REPLY] = "handle_dhcpv6_reply",
    [ACTION_FWD_GROUP] = "fwd_group",
    [ACTION_CHECK_PKT_LARGER] = "check_pkt_larger",
    [ACTION_LOOKUP_FDB] = "lookup_fdb",
    [ACTION_GET_FDB] = "get_fdb",
    [ACTION_PUT_FDB] = "put_fdb",
    [ACTION_CHK_LB_HAIRPIN] = "chk_lb_hairpin",
    [ACTION_CHK_LB_HAIRPIN_REPLY] = "chk_lb_hairpin_reply",
    [ACTION_SELECT] = "select",
    [ACTION_COMMIT_ECMP_NH] = "commit_ecmp_nh",
    [ACTION_CHK_ECMP_NH_MAC] = "chk_ecmp_nh_mac",
    [ACTION_CHK_ECMP_NH] = "chk_ecmp_nh",
    [ACTION_COMMIT_LB_AFF] = "commit_lb_aff",
    [ACTION_CHK_LB_AFF] = "chk_lb_aff",
    [ACTION_CHECK_IN_PORT_SEC] = "check_in_port_sec",
    [ACTION_CHECK_OUT_PORT_SEC] = "check_out_port_sec",
};

const char *
action_type_name(enum action_type type)
{
    return (unsigned int)type < ACTION_N_TYPES && type_names[type] ? type_names[type]
                                                                   : "unknown";
}

static void
format_field(struct abuf *b, const struct action_field *f)
{
    const struct symtab_field *sf = f->field;

    if (!sf) {
        abuf_printf(b, "?");
    } else if (symtab_field_is_string(sf) || (f->ofs == 0 && f->n_bits == sf->width)) {
        abuf_printf(b, "%s", sf->name);
    } else if (f->n_bits == 1) {
        abuf_printf(b, "%s[%d]", sf->name, f->ofs);
    } else {
        abuf_printf(b, "%s[%d..%d]", sf->name, f->ofs, f->ofs + f->n_bits - 1);
    }
}

static void
format_const(struct abuf *b, const struct action_const *c)
{
    char buf[128];

    if (c->is_string) {
        abuf_put_string(b, c->string ? c->string : "");
    } else if (c->masked) {
        abuf_printf(
            b, "%s",
            lex_masked_value_format(c->value, c->mask, c->format, buf, sizeof buf));
    } else {
        abuf_printf(b, "%s", lex_value_format(c->value, c->format, buf, sizeof buf));
    }
}

static void
format_ip(struct abuf *b, lex_u128 ip, bool ipv6, bool brackets)
{
    char buf[64];

    lex_value_format(ip, ipv6 ? LEX_F_IPV6 : LEX_F_IPV4, buf, sizeof buf);
    abuf_printf(b, brackets && ipv6 ? "[%s]" : "%s", buf);
}

static const char *
pipeline_name(enum action_pipeline p)
{
    return p == ACTION_PIPELINE_INGRESS  ? "ingress"
           : p == ACTION_PIPELINE_EGRESS ? "egress"
                                         : "current";
}

static const char *
proto_name(uint8_t proto)
{
    return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "sctp";
}

static void format_list(struct abuf *b, const struct action_list *list);

static void
format_args(struct abuf *b, const struct action *a)
{
    abuf_printf(b, "(");
    for (size_t i = 0; i < a->n_args; i++) {
        abuf_printf(b, "%s", i ? ", " : "");
        format_field(b, &a->args[i]);
    }
    abuf_printf(b, ")");
}

static void
format_options(struct abuf *b, const struct action *a)
{
    abuf_printf(b, "(");
    for (size_t i = 0; i < a->n_options; i++) {
        const struct action_option *o = &a->options[i];
        abuf_printf(b, "%s%s=", i ? ", " : "", o->name);
        if (o->n_values != 1) {
            abuf_printf(b, "{");
        }
        for (size_t j = 0; j < o->n_values; j++) {
            abuf_printf(b, "%s", j ? ", " : "");
            format_const(b, &o->values[j]);
        }
        if (o->n_values != 1) {
            abuf_printf(b, "}");
        }
    }
    abuf_printf(b, ")");
}

static void
format_action(struct abuf *b, const struct action *a)
{
    static const char *const severities[] = {"",        "alert",  "",     "",
                                             "warning", "notice", "info", "debug"};
    static const char *const verdicts[] = {"allow", "drop", "reject"};
    const char *name = action_type_name(a->type);

    switch (a->type) {
    case ACTION_LOAD:
        format_field(b, &a->dst);
        abuf_printf(b, " = ");
        format_const(b, &a->value);
        return;
    case ACTION_MOVE:
    case ACTION_EXCHANGE:
        format_field(b, &a->dst);
        abuf_printf(b, a->type == ACTION_MOVE ? " = " : " <-> ");
        format_field(b, &a->src);
        return;
    case ACTION_DEC_TTL:
        format_field(b, &a->dst);
        abuf_printf(b, "--");
        return;
    case ACTION_PUSH:
    case ACTION_POP:
        abuf_printf(b, "%s(", name);
        format_field(b, &a->dst);
        abuf_printf(b, ")");
        return;
    case ACTION_NEXT:
        if (a->next.pipeline == ACTION_PIPELINE_CURRENT && a->next.table < 0) {
            abuf_printf(b, "next");
        } else if (a->next.pipeline == ACTION_PIPELINE_CURRENT) {
            abuf_printf(b, "next(table=%d)", a->next.table);
        } else if (a->next.table < 0) {
            abuf_printf(b, "next(pipeline=%s)", pipeline_name(a->next.pipeline));
        } else {
            abuf_printf(b, "next(pipeline=%s,table=%d)", pipeline_name(a->next.pipeline),
                        a->next.table);
        }
        return;
    case ACTION_CT_DNAT:
    case ACTION_CT_SNAT:
    case ACTION_CT_DNAT_IN_CZONE:
    case ACTION_CT_SNAT_IN_CZONE:
        abuf_printf(b, "%s", name);
        if (a->nat.has_ip) {
            abuf_printf(b, "(");
            format_ip(b, a->nat.ip, a->nat.ipv6, false);
            if (a->nat.port_lo && a->nat.port_lo == a->nat.port_hi) {
                abuf_printf(b, ", %u", a->nat.port_lo);
            } else if (a->nat.port_lo) {
                abuf_printf(b, ", %u-%u", a->nat.port_lo, a->nat.port_hi);
            }
            abuf_printf(b, ")");
        }
        return;
    case ACTION_CT_LB:
    case ACTION_CT_LB_MARK:
        abuf_printf(b, "%s", name);
        if (a->lb.has_backends) {
            abuf_printf(b, "(backends=");
            for (size_t i = 0; i < a->lb.n_backends; i++) {
                const struct action_backend *be = &a->lb.backends[i];
                abuf_printf(b, "%s", i ? "," : "");
                format_ip(b, be->ip, be->ipv6, be->port != 0);
                if (be->port) {
                    abuf_printf(b, ":%u", be->port);
                }
            }
            if (a->lb.hash_fields) {
                abuf_printf(b, "; hash_fields=");
                abuf_put_string(b, a->lb.hash_fields);
            }
            if (a->lb.ct_flag != ACTION_CT_FLAG_NONE) {
                abuf_printf(b, "; %s",
                            a->lb.ct_flag == ACTION_CT_FLAG_SKIP_SNAT ? "skip_snat"
                                                                      : "force_snat");
            }
            abuf_printf(b, ")");
        }
        return;
    case ACTION_PUT_ARP:
    case ACTION_PUT_ND:
    case ACTION_GET_ARP:
    case ACTION_GET_ND:
    case ACTION_PUT_FDB:
    case ACTION_HANDLE_SVC_CHECK:
        abuf_printf(b, "%s", name);
        format_args(b, a);
        return;
    case ACTION_LOOKUP_ARP:
    case ACTION_LOOKUP_ARP_IP:
    case ACTION_LOOKUP_ND:
    case ACTION_LOOKUP_ND_IP:
    case ACTION_LOOKUP_FDB:
    case ACTION_GET_FDB:
    case ACTION_DNS_LOOKUP:
    case ACTION_CHK_LB_HAIRPIN:
    case ACTION_CHK_LB_HAIRPIN_REPLY:
    case ACTION_CHK_ECMP_NH_MAC:
    case ACTION_CHK_ECMP_NH:
    case ACTION_CHK_LB_AFF:
    case ACTION_CHECK_IN_PORT_SEC:
    case ACTION_CHECK_OUT_PORT_SEC:
        format_field(b, &a->dst);
        abuf_printf(b, " = %s", name);
        format_args(b, a);
        return;
    case ACTION_PUT_DHCPV4_OPTS:
    case ACTION_PUT_DHCPV6_OPTS:
    case ACTION_PUT_ND_RA_OPTS:
        format_field(b, &a->dst);
        abuf_printf(b, " = %s", name);
        format_options(b, a);
        return;
    case ACTION_CHECK_PKT_LARGER:
        format_field(b, &a->dst);
        abuf_printf(b, " = %s(%llu)", name, (unsigned long long)a->integer);
        return;
    case ACTION_SELECT:
        format_field(b, &a->dst);
        abuf_printf(b, " = %s(", name);
        for (size_t i = 0; i < a->n_members; i++) {
            abuf_printf(b, "%s%u=%u", i ? ", " : "", a->members[i].value,
                        a->members[i].weight);
        }
        abuf_printf(b, ")");
        return;
    case ACTION_SET_QUEUE:
        abuf_printf(b, "%s(%llu)", name, (unsigned long long)a->integer);
        return;
    case ACTION_SET_METER:
        abuf_printf(b, "%s(%llu", name, (unsigned long long)a->integer);
        if (a->has_integer2) {
            abuf_printf(b, ", %llu", (unsigned long long)a->integer2);
        }
        abuf_printf(b, ")");
        return;
    case ACTION_LOG:
        abuf_printf(b, "log(verdict=%s", verdicts[a->log.verdict]);
        if (a->log.name) {
            abuf_printf(b, ", name=");
            abuf_put_string(b, a->log.name);
        }
        if (a->log.severity > 0 && a->log.severity < (int)ARRAY_SIZE(severities)) {
            abuf_printf(b, ", severity=%s", severities[a->log.severity]);
        }
        if (a->log.meter) {
            abuf_printf(b, ", meter=");
            abuf_put_string(b, a->log.meter);
        }
        abuf_printf(b, ")");
        return;
    case ACTION_TRIGGER_EVENT:
        abuf_printf(b, "trigger_event(event=");
        abuf_put_string(b, a->string ? a->string : "");
        for (size_t i = 0; i < a->n_kvs; i++) {
            abuf_printf(b, ", %s=", a->kvs[i].key);
            abuf_put_string(b, a->kvs[i].value);
        }
        abuf_printf(b, ")");
        return;
    case ACTION_BIND_VPORT:
        abuf_printf(b, "bind_vport(");
        abuf_put_string(b, a->string ? a->string : "");
        abuf_printf(b, ", ");
        format_field(b, &a->args[0]);
        abuf_printf(b, ")");
        return;
    case ACTION_FWD_GROUP:
        abuf_printf(b,
                    "fwd_group(liveness=%s, childports=", a->liveness ? "true" : "false");
        for (size_t i = 0; i < a->n_kvs; i++) {
            abuf_printf(b, "%s", i ? ", " : "");
            abuf_put_string(b, a->kvs[i].value);
        }
        abuf_printf(b, ")");
        return;
    case ACTION_COMMIT_ECMP_NH:
        abuf_printf(b, "commit_ecmp_nh(ipv6=%s, proto=%s)", a->ipv6 ? "true" : "false",
                    proto_name(a->proto));
        return;
    case ACTION_COMMIT_LB_AFF:
        abuf_printf(b, "commit_lb_aff(");
        for (size_t i = 0; i < a->n_kvs; i++) {
            abuf_printf(b, "%s=", a->kvs[i].key);
            abuf_put_string(b, a->kvs[i].value);
            abuf_printf(b, ", ");
        }
        abuf_printf(b, "proto=%s, timeout=%llu)", proto_name(a->proto),
                    (unsigned long long)a->integer);
        return;
    case ACTION_CT_COMMIT:
    case ACTION_CLONE:
    case ACTION_ARP:
    case ACTION_ND_NA:
    case ACTION_ND_NA_ROUTER:
    case ACTION_ND_NS:
    case ACTION_ICMP4:
    case ACTION_ICMP4_ERROR:
    case ACTION_ICMP6:
    case ACTION_ICMP6_ERROR:
    case ACTION_TCP_RESET:
    case ACTION_SCTP_ABORT:
    case ACTION_REJECT:
        abuf_printf(b, "%s { ", name);
        if (a->nested && a->nested->n_ops) {
            format_list(b, a->nested);
            abuf_printf(b, " ");
        }
        abuf_printf(b, "}");
        return;
    case ACTION_OUTPUT:
    case ACTION_CT_NEXT:
    case ACTION_CT_COMMIT_NAT:
    case ACTION_CT_CLEAR:
    case ACTION_CT_SNAT_TO_VIP:
    case ACTION_IGMP:
    case ACTION_HANDLE_DHCPV6_REPLY:
    case ACTION_N_TYPES:
    default:
        abuf_printf(b, "%s", name);
        return;
    }
}

static void
format_list(struct abuf *b, const struct action_list *list)
{
    for (size_t i = 0; i < list->n_ops; i++) {
        abuf_printf(b, "%s", i ? " " : "");
        format_action(b, &list->ops[i]);
        abuf_printf(b, ";");
    }
}

char *
action_list_format(const struct action_list *list)
{
    struct abuf b = {0};

    if (!list->n_ops) {
        abuf_printf(&b, "drop;");
    } else {
        format_list(&b, list);
    }
    return abuf_steal(&b);
}

size_t
action_list_count(const struct action_list *list)
{
    size_t n = 0;

    for (size_t i = 0; list && i < list->n_ops; i++) {
        n += 1 + action_list_count(list->ops[i].nested);
    }
    return n;
}
