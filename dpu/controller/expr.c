/* ovnic: OVN logical-flow match expressions -> normalised IR. */
#include "dpu/controller/expr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/log.h"

OVNIC_LOG_MODULE(expr);

#define EXPR_MAX_PAREN_DEPTH 100 /* Nested parentheses in one match. */
#define EXPR_MAX_NESTING 16      /* Nested predicate and prerequisite expansions. */

enum expr_type {
    EXPR_T_CMP,       /* Comparison of a symbol against a constant. */
    EXPR_T_AND,       /* Two or more subexpressions, all of which must hold. */
    EXPR_T_OR,        /* Two or more subexpressions, any of which must hold. */
    EXPR_T_BOOLEAN,   /* Constant true or false. */
    EXPR_T_CONDITION, /* is_chassis_resident("port"). */
};

enum expr_relop {
    EXPR_R_EQ,
    EXPR_R_NE,
    EXPR_R_LT,
    EXPR_R_LE,
    EXPR_R_GT,
    EXPR_R_GE,
};

struct expr {
    enum expr_type type;
    union {
        struct {
            const struct symtab_symbol *symbol;
            enum expr_relop relop;
            lex_u128 value; /* Integer symbols: bits in the symbol's own bit space. */
            lex_u128 mask;  /* Which bits are compared; 'value & ~mask' is 0. */
            char *string;   /* String symbols. */
        } cmp;
        struct {
            struct expr **subs;
            size_t n;
            size_t alloc;
        } andor;
        bool boolean;
        struct {
            char *port;
            bool negated;
        } cond;
    };
};

/* Error context shared by every step: keeps the first failure. */
struct ectx {
    struct ovnic_err err;
};

static bool
ectx_failed(const struct ectx *ec)
{
    return ec->err.code != 0;
}

static void
ectx_enomem(struct ectx *ec)
{
    ovnic_err_set(&ec->err, -ENOMEM, "match", "out of memory", NULL);
}

/* Copies the failure in 'ec' (if any) to 'err' (if any) and returns its code. */
static int
ectx_finish(const struct ectx *ec, struct ovnic_err *err)
{
    if (ec->err.code && err && !err->code) {
        *err = ec->err;
    }
    return ec->err.code;
}

/* ----- Growable text buffer. ----- */

struct sbuf {
    char *s;
    size_t len;
    size_t cap;
    bool enomem;
};

static void OVNIC_PRINTF(2, 3) sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    if (b->enomem) {
        return;
    }
    for (;;) {
        size_t avail = b->cap - b->len;
        va_list args;
        va_start(args, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? avail : 0, fmt, args);
        va_end(args);
        if (n < 0) {
            b->enomem = true;
            return;
        }
        if (b->s && (size_t)n < avail) {
            b->len += n;
            return;
        }
        size_t cap = MAX(b->cap * 2, b->len + n + 64);
        char *s = realloc(b->s, cap);
        if (!s) {
            b->enomem = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static char *
sbuf_steal(struct sbuf *b)
{
    if (b->enomem) {
        free(b->s);
        return NULL;
    }
    if (!b->s) {
        return strdup("");
    }
    return b->s;
}

/* Writes 's' as a JSON string literal. */
static void
sbuf_put_json_string(struct sbuf *b, const char *s)
{
    sbuf_printf(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            sbuf_printf(b, "\\\"");
            break;
        case '\\':
            sbuf_printf(b, "\\\\");
            break;
        case '\n':
            sbuf_printf(b, "\\n");
            break;
        case '\t':
            sbuf_printf(b, "\\t");
            break;
        case '\r':
            sbuf_printf(b, "\\r");
            break;
        default:
            if (*p < 0x20) {
                sbuf_printf(b, "\\u%04x", *p);
            } else {
                sbuf_printf(b, "%c", *p);
            }
            break;
        }
    }
    sbuf_printf(b, "\"");
}

/* ----- Tree construction. ----- */

static struct expr *
expr_alloc__(struct ectx *ec, enum expr_type type)
{
    struct expr *e = calloc(1, sizeof *e);
    if (!e) {
        ectx_enomem(ec);
        return NULL;
    }
    e->type = type;
    return e;
}

static struct expr *
expr_create_boolean__(struct ectx *ec, bool b)
{
    struct expr *e = expr_alloc__(ec, EXPR_T_BOOLEAN);
    if (e) {
        e->boolean = b;
    }
    return e;
}

void
expr_destroy(struct expr *e)
{
    if (!e) {
        return;
    }
    switch (e->type) {
    case EXPR_T_CMP:
        free(e->cmp.string);
        break;
    case EXPR_T_AND:
    case EXPR_T_OR:
        for (size_t i = 0; i < e->andor.n; i++) {
            expr_destroy(e->andor.subs[i]);
        }
        free(e->andor.subs);
        break;
    case EXPR_T_BOOLEAN:
        break;
    case EXPR_T_CONDITION:
        free(e->cond.port);
        break;
    }
    free(e);
}

static struct expr *
expr_clone__(struct ectx *ec, const struct expr *e)
{
    struct expr *new = expr_alloc__(ec, e->type);
    if (!new) {
        return NULL;
    }
    switch (e->type) {
    case EXPR_T_CMP:
        new->cmp = e->cmp;
        new->cmp.string = NULL;
        if (e->cmp.string && !(new->cmp.string = strdup(e->cmp.string))) {
            goto enomem;
        }
        break;
    case EXPR_T_AND:
    case EXPR_T_OR:
        new->andor.subs = calloc(e->andor.n, sizeof *new->andor.subs);
        if (!new->andor.subs) {
            goto enomem;
        }
        new->andor.alloc = e->andor.n;
        for (size_t i = 0; i < e->andor.n; i++) {
            new->andor.subs[i] = expr_clone__(ec, e->andor.subs[i]);
            if (!new->andor.subs[i]) {
                expr_destroy(new);
                return NULL;
            }
            new->andor.n++;
        }
        break;
    case EXPR_T_BOOLEAN:
        new->boolean = e->boolean;
        break;
    case EXPR_T_CONDITION:
        new->cond.negated = e->cond.negated;
        if (!(new->cond.port = strdup(e->cond.port))) {
            goto enomem;
        }
        break;
    }
    return new;

enomem:
    expr_destroy(new);
    ectx_enomem(ec);
    return NULL;
}

/* Appends the subexpressions of 'b' (or 'b' itself) to 'a->andor'.  Takes 'b'. */
static bool
expr_andor_append__(struct ectx *ec, struct expr *a, struct expr *b)
{
    size_t n_new = b->type == a->type ? b->andor.n : 1;
    struct expr **subs = a->andor.subs;
    if (a->andor.n + n_new > a->andor.alloc) {
        size_t alloc = MAX(a->andor.alloc * 2, a->andor.n + n_new);
        subs = realloc(a->andor.subs, alloc * sizeof *subs);
        if (!subs) {
            expr_destroy(b);
            ectx_enomem(ec);
            return false;
        }
        a->andor.subs = subs;
        a->andor.alloc = alloc;
    }
    if (b->type == a->type) {
        memcpy(&subs[a->andor.n], b->andor.subs, b->andor.n * sizeof *subs);
        a->andor.n += b->andor.n;
        free(b->andor.subs);
        free(b);
    } else {
        subs[a->andor.n++] = b;
    }
    return true;
}

/* Returns the AND or OR (per 'type') of 'a' and 'b', flattening nested nodes of the
 * same type.  Takes ownership of both, which must be nonnull.  Returns NULL only if
 * memory runs out. */
static struct expr *
expr_combine__(struct ectx *ec, enum expr_type type, struct expr *a, struct expr *b)
{
    if (a->type != type) {
        struct expr *e = expr_alloc__(ec, type);
        if (!e || !expr_andor_append__(ec, e, a)) {
            if (!e) {
                expr_destroy(a);
            }
            expr_destroy(e);
            expr_destroy(b);
            return NULL;
        }
        a = e;
    }
    if (!expr_andor_append__(ec, a, b)) {
        expr_destroy(a);
        return NULL;
    }
    return a;
}

static enum expr_relop
expr_relop_invert__(enum expr_relop r)
{
    switch (r) {
    case EXPR_R_EQ:
        return EXPR_R_NE;
    case EXPR_R_NE:
        return EXPR_R_EQ;
    case EXPR_R_LT:
        return EXPR_R_GE;
    case EXPR_R_LE:
        return EXPR_R_GT;
    case EXPR_R_GT:
        return EXPR_R_LE;
    case EXPR_R_GE:
        return EXPR_R_LT;
    }
    return r;
}

/* The relation that holds with the operands swapped: "5 < x" is "x > 5". */
static enum expr_relop
expr_relop_turn__(enum expr_relop r)
{
    switch (r) {
    case EXPR_R_LT:
        return EXPR_R_GT;
    case EXPR_R_LE:
        return EXPR_R_GE;
    case EXPR_R_GT:
        return EXPR_R_LT;
    case EXPR_R_GE:
        return EXPR_R_LE;
    case EXPR_R_EQ:
    case EXPR_R_NE:
        break;
    }
    return r;
}

static const char *
expr_relop_to_string__(enum expr_relop r)
{
    static const char *const names[] = {"==", "!=", "<", "<=", ">", ">="};
    return names[r];
}

static bool
expr_relop_from_token__(enum lex_type type, enum expr_relop *r)
{
    switch (type) {
    case LEX_T_EQ:
        *r = EXPR_R_EQ;
        return true;
    case LEX_T_NE:
        *r = EXPR_R_NE;
        return true;
    case LEX_T_LT:
        *r = EXPR_R_LT;
        return true;
    case LEX_T_LE:
        *r = EXPR_R_LE;
        return true;
    case LEX_T_GT:
        *r = EXPR_R_GT;
        return true;
    case LEX_T_GE:
        *r = EXPR_R_GE;
        return true;
    default:
        return false;
    }
}

static bool
expr_is_relop__(enum lex_type type)
{
    enum expr_relop r;
    return expr_relop_from_token__(type, &r);
}

/* Logical negation in place, by De Morgan's laws down to the leaves. */
static void
expr_not__(struct expr *e)
{
    switch (e->type) {
    case EXPR_T_CMP:
        e->cmp.relop = expr_relop_invert__(e->cmp.relop);
        break;
    case EXPR_T_AND:
    case EXPR_T_OR:
        for (size_t i = 0; i < e->andor.n; i++) {
            expr_not__(e->andor.subs[i]);
        }
        e->type = e->type == EXPR_T_AND ? EXPR_T_OR : EXPR_T_AND;
        break;
    case EXPR_T_BOOLEAN:
        e->boolean = !e->boolean;
        break;
    case EXPR_T_CONDITION:
        e->cond.negated = !e->cond.negated;
        break;
    }
}

/* ----- References. ----- */

void
expr_refs_init(struct expr_refs *refs)
{
    memset(refs, 0, sizeof *refs);
}

static void
expr_names_free__(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

void
expr_refs_destroy(struct expr_refs *refs)
{
    if (refs) {
        expr_names_free__(refs->address_sets, refs->n_address_sets);
        expr_names_free__(refs->port_groups, refs->n_port_groups);
        expr_names_free__(refs->resident_ports, refs->n_resident_ports);
        expr_refs_init(refs);
    }
}

static void
expr_names_add__(struct ectx *ec, char ***names, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++) {
        if (!strcmp((*names)[i], name)) {
            return;
        }
    }
    char **new = realloc(*names, (*n + 1) * sizeof *new);
    if (!new) {
        ectx_enomem(ec);
        return;
    }
    *names = new;
    if (!(new[*n] = strdup(name))) {
        ectx_enomem(ec);
        return;
    }
    (*n)++;
}

/* ----- Parsing. ----- */

struct parse_ctx {
    struct ectx *ec;
    struct lexer lexer;
    const struct symtab *symtab;
    const struct expr_lookup *lookup; /* May be NULL. */
    struct expr_refs *refs;           /* May be NULL. */
    bool not ;                        /* Inside an odd number of "!". */
    unsigned int paren_depth;
};

/* A field as written: a symbol and, for "sym[ofs..ofs+n_bits-1]", a bit range. */
struct field_ref {
    const struct symtab_symbol *symbol;
    int ofs;
    int n_bits;
    size_t pos; /* Where it was written. */
};

/* One constant, and a set of them. */
struct cval {
    lex_u128 value;
    lex_u128 mask;
    bool masked;
    enum lex_format format;
    char *string;
};

enum cset_type {
    CSET_NONE,
    CSET_INTEGER,
    CSET_STRING,
};

struct cset {
    struct cval *v;
    size_t n;
    size_t alloc;
    enum cset_type type;
    bool in_curlies;
    size_t pos; /* Where it was written. */
};

static void
cset_destroy(struct cset *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        free(cs->v[i].string);
    }
    free(cs->v);
    memset(cs, 0, sizeof *cs);
}

static struct cval *
cset_add(struct parse_ctx *ctx, struct cset *cs)
{
    if (cs->n >= cs->alloc) {
        size_t alloc = cs->alloc ? cs->alloc * 2 : 4;
        struct cval *v = realloc(cs->v, alloc * sizeof *v);
        if (!v) {
            ectx_enomem(ctx->ec);
            return NULL;
        }
        cs->v = v;
        cs->alloc = alloc;
    }
    struct cval *c = &cs->v[cs->n++];
    memset(c, 0, sizeof *c);
    return c;
}

/* Writes up to 32 bytes of the current token's text, for messages. */
static const char *
parse_token_text__(const struct parse_ctx *ctx, char *buf, size_t size)
{
    const struct lex_token *t = &ctx->lexer.token;
    size_t len = t->end > t->start ? t->end - t->start : 0;
    size_t max = MIN(size - 4, (size_t)32);
    size_t n = MIN(len, max);
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
parse_lex_error__(struct parse_ctx *ctx)
{
    const struct lex_token *t = &ctx->lexer.token;
    if (t->type != LEX_T_ERROR) {
        return false;
    }
    if (t->enomem) {
        ectx_enomem(ctx->ec);
    } else {
        ovnic_err_set(&ctx->ec->err, -EINVAL, "match", "syntax error",
                      "%s, at column %zu", t->error, t->start + 1);
    }
    return true;
}

/* Records an error about what was written at offset 'pos'. */
static void OVNIC_PRINTF(5, 6) parse_error(struct parse_ctx *ctx, size_t pos, int code,
                                           const char *message, const char *fmt, ...)
{
    if (ectx_failed(ctx->ec) || parse_lex_error__(ctx)) {
        return;
    }
    char detail[OVNIC_ERR_DETAIL_LEN];
    va_list args;
    va_start(args, fmt);
    vsnprintf(detail, sizeof detail, fmt, args);
    va_end(args);
    ovnic_err_set(&ctx->ec->err, code, "match", message, "%s, at column %zu", detail,
                  pos + 1);
}

/* Records a syntax error at the current token: "at `&&' (column 5): expecting X". */
static void
parse_syntax_error(struct parse_ctx *ctx, const char *expecting)
{
    if (ectx_failed(ctx->ec) || parse_lex_error__(ctx)) {
        return;
    }
    const struct lex_token *t = &ctx->lexer.token;
    if (t->type == LEX_T_END) {
        ovnic_err_set(&ctx->ec->err, -EINVAL, "match", "syntax error",
                      "at end of input: expecting %s", expecting);
    } else {
        char text[40];
        ovnic_err_set(&ctx->ec->err, -EINVAL, "match", "syntax error",
                      "at `%s' (column %zu): expecting %s",
                      parse_token_text__(ctx, text, sizeof text), t->start + 1,
                      expecting);
    }
}

static bool
parse_force_match(struct parse_ctx *ctx, enum lex_type type)
{
    if (lexer_match(&ctx->lexer, type)) {
        return true;
    }
    parse_syntax_error(ctx, lex_type_to_string(type));
    return false;
}

static bool
parse_force_int(struct parse_ctx *ctx, int *value)
{
    const struct lex_token *t = &ctx->lexer.token;
    if (t->type == LEX_T_INTEGER && t->format == LEX_F_DECIMAL &&
        t->value <= 0x7fffffff) {
        *value = (int)t->value;
        lexer_get(&ctx->lexer);
        return true;
    }
    parse_syntax_error(ctx, "small integer");
    return false;
}

static bool
parse_field(struct parse_ctx *ctx, struct field_ref *f)
{
    const struct lex_token *t = &ctx->lexer.token;
    if (t->type != LEX_T_ID) {
        parse_syntax_error(ctx, "field name");
        return false;
    }
    f->pos = t->start;
    f->symbol = symtab_lookup(ctx->symtab, t->s);
    if (!f->symbol) {
        parse_error(ctx, f->pos, -EINVAL, "unknown field", "%s", t->s);
        return false;
    }
    const struct symtab_symbol *sym = f->symbol;
    if (sym->kind == SYMTAB_FIELD && !sym->field->matchable) {
        parse_error(ctx, f->pos, -EINVAL, "unsupported field",
                    "%s may only be used in actions", sym->name);
        return false;
    }
    lexer_get(&ctx->lexer);

    if (!lexer_match(&ctx->lexer, LEX_T_LSQUARE)) {
        f->ofs = 0;
        f->n_bits = sym->width;
        return true;
    }
    if (!sym->width) {
        parse_error(ctx, f->pos, -EINVAL, "invalid subfield",
                    "cannot select subfield of string field %s", sym->name);
        return false;
    }
    int low, high;
    if (!parse_force_int(ctx, &low)) {
        return false;
    }
    if (lexer_match(&ctx->lexer, LEX_T_ELLIPSIS)) {
        if (!parse_force_int(ctx, &high)) {
            return false;
        }
    } else {
        high = low;
    }
    if (!parse_force_match(ctx, LEX_T_RSQUARE)) {
        return false;
    }
    if (low > high) {
        parse_error(ctx, f->pos, -EINVAL, "invalid subfield",
                    "invalid bit range %d to %d", low, high);
        return false;
    } else if (high >= sym->width) {
        parse_error(ctx, f->pos, -EINVAL, "invalid subfield",
                    "cannot select bits %d to %d of %d-bit field %s", low, high,
                    sym->width, sym->name);
        return false;
    } else if (sym->level == SYMTAB_L_NOMINAL && (low != 0 || high != sym->width - 1)) {
        parse_error(ctx, f->pos, -EINVAL, "invalid subfield",
                    "cannot select subfield of nominal field %s", sym->name);
        return false;
    }
    f->ofs = low;
    f->n_bits = high - low + 1;
    return true;
}

static bool
cset_assign_type(struct parse_ctx *ctx, struct cset *cs, enum cset_type type)
{
    if (!cs->n || cs->type == type) {
        cs->type = type;
        return true;
    }
    parse_syntax_error(ctx, cs->type == CSET_INTEGER ? "integer" : "string");
    return false;
}

/* Calls a lookup callback for set 'name' of 'kind' ("address set" or "port group"). */
static bool
parse_lookup_set__(struct parse_ctx *ctx, const char *kind, char sigil,
                   int (*cb)(void *, const char *, const char *const **, size_t *),
                   const char *name, const char *const **values, size_t *n_values)
{
    size_t pos = ctx->lexer.token.start;
    int rc = cb ? cb(ctx->lookup->aux, name, values, n_values) : -ENOENT;
    if (rc == -ENOENT) {
        parse_error(ctx, pos, -EINVAL,
                    kind[0] == 'a' ? "unknown address set" : "unknown port group", "%c%s",
                    sigil, name);
        return false;
    } else if (rc < 0) {
        parse_error(ctx, pos, rc, "lookup failed", "%s %c%s: %s", kind, sigil, name,
                    strerror(-rc));
        return false;
    } else if (*n_values && !*values) {
        parse_error(ctx, pos, -EINVAL, "lookup failed", "%s %c%s: no values", kind, sigil,
                    name);
        return false;
    }
    return true;
}

static bool
parse_address_set(struct parse_ctx *ctx, struct cset *cs)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 20);
    const char *name = ctx->lexer.token.s;
    if (ctx->refs) {
        expr_names_add__(ctx->ec, &ctx->refs->address_sets, &ctx->refs->n_address_sets,
                         name);
    }
    const char *const *values = NULL;
    size_t n_values = 0;
    if (!parse_lookup_set__(ctx, "address set", '$',
                            ctx->lookup ? ctx->lookup->address_set : NULL, name, &values,
                            &n_values) ||
        !cset_assign_type(ctx, cs, CSET_INTEGER)) {
        return false;
    }
    for (size_t i = 0; i < n_values; i++) {
        struct lex_token t;
        const char *s = values[i] ? values[i] : "";
        size_t end = lex_token_parse(&t, s, 0);
        struct lex_token next;
        lex_token_parse(&next, s, end);
        if ((t.type == LEX_T_INTEGER || t.type == LEX_T_MASKED_INTEGER) &&
            next.type == LEX_T_END) {
            struct cval *c = cset_add(ctx, cs);
            if (!c) {
                lex_token_destroy(&t);
                lex_token_destroy(&next);
                return false;
            }
            c->value = t.value;
            c->mask = t.mask;
            c->masked = t.type == LEX_T_MASKED_INTEGER;
            c->format = t.format;
        } else {
            OLOG_WARN_RL(&rl, "address set %s: ignoring invalid address \"%.64s\"", name,
                         s);
        }
        lex_token_destroy(&t);
        lex_token_destroy(&next);
    }
    return true;
}

static bool
parse_port_group(struct parse_ctx *ctx, struct cset *cs)
{
    const char *name = ctx->lexer.token.s;
    if (ctx->refs) {
        expr_names_add__(ctx->ec, &ctx->refs->port_groups, &ctx->refs->n_port_groups,
                         name);
    }
    const char *const *values = NULL;
    size_t n_values = 0;
    if (!parse_lookup_set__(ctx, "port group", '@',
                            ctx->lookup ? ctx->lookup->port_group : NULL, name, &values,
                            &n_values) ||
        !cset_assign_type(ctx, cs, CSET_STRING)) {
        return false;
    }
    for (size_t i = 0; i < n_values; i++) {
        if (!values[i]) {
            continue;
        }
        struct cval *c = cset_add(ctx, cs);
        if (!c) {
            return false;
        }
        if (!(c->string = strdup(values[i]))) {
            ectx_enomem(ctx->ec);
            return false;
        }
    }
    return true;
}

static bool
parse_constant(struct parse_ctx *ctx, struct cset *cs)
{
    const struct lex_token *t = &ctx->lexer.token;
    bool ok;

    switch (t->type) {
    case LEX_T_STRING: {
        if (!cset_assign_type(ctx, cs, CSET_STRING)) {
            return false;
        }
        struct cval *c = cset_add(ctx, cs);
        if (!c) {
            return false;
        }
        if (!(c->string = strdup(t->s))) {
            ectx_enomem(ctx->ec);
            return false;
        }
        break;
    }
    case LEX_T_INTEGER:
    case LEX_T_MASKED_INTEGER: {
        if (!cset_assign_type(ctx, cs, CSET_INTEGER)) {
            return false;
        }
        struct cval *c = cset_add(ctx, cs);
        if (!c) {
            return false;
        }
        c->value = t->value;
        c->masked = t->type == LEX_T_MASKED_INTEGER;
        c->mask = c->masked ? t->mask : 0;
        c->format = t->format;
        break;
    }
    case LEX_T_MACRO:
        ok = parse_address_set(ctx, cs);
        if (!ok || ectx_failed(ctx->ec)) {
            return false;
        }
        break;
    case LEX_T_PORT_GROUP:
        ok = parse_port_group(ctx, cs);
        if (!ok || ectx_failed(ctx->ec)) {
            return false;
        }
        break;
    default:
        parse_syntax_error(ctx, "constant");
        return false;
    }
    lexer_get(&ctx->lexer);
    return true;
}

/* Parses a constant or a {}-enclosed set of them into 'cs' (caller must destroy it,
 * whatever the result). */
static bool
parse_constant_set(struct parse_ctx *ctx, struct cset *cs)
{
    memset(cs, 0, sizeof *cs);
    cs->pos = ctx->lexer.token.start;
    if (!lexer_match(&ctx->lexer, LEX_T_LCURLY)) {
        return parse_constant(ctx, cs);
    }
    cs->in_curlies = true;
    do {
        if (!parse_constant(ctx, cs)) {
            return false;
        }
        lexer_match(&ctx->lexer, LEX_T_COMMA);
    } while (!lexer_match(&ctx->lexer, LEX_T_RCURLY));
    return true;
}

/* The fewest bits that hold constant 'c' as written. */
static int
cval_width(const struct cval *c)
{
    if (c->masked) {
        return lex_u128_width(c->mask);
    }
    switch (c->format) {
    case LEX_F_IPV4:
        return 32;
    case LEX_F_IPV6:
        return 128;
    case LEX_F_ETHERNET:
        return 48;
    case LEX_F_DECIMAL:
    case LEX_F_HEXADECIMAL:
        break;
    }
    return lex_u128_width(c->value);
}

static const char *
symtab_level_to_string__(enum symtab_level level)
{
    return level == SYMTAB_L_NOMINAL   ? "nominal"
           : level == SYMTAB_L_BOOLEAN ? "Boolean"
                                       : "ordinal";
}

static struct expr *
make_cmp1__(struct parse_ctx *ctx, const struct field_ref *f, enum expr_relop r,
            struct cval *c)
{
    struct expr *e = expr_alloc__(ctx->ec, EXPR_T_CMP);
    if (!e) {
        return NULL;
    }
    e->cmp.symbol = f->symbol;
    e->cmp.relop = r;
    if (f->symbol->width) {
        lex_u128 field_bits = lex_u128_bits(f->ofs, f->n_bits);
        e->cmp.value = (c->value << f->ofs) & field_bits;
        e->cmp.mask = c->masked ? (c->mask << f->ofs) & field_bits : field_bits;
        e->cmp.value &= e->cmp.mask;
    } else {
        e->cmp.string = c->string;
        c->string = NULL;
    }
    return e;
}

/* Builds "f r cs", checking every rule of the language.  Destroys 'cs'. */
static struct expr *
make_cmp(struct parse_ctx *ctx, const struct field_ref *f, enum expr_relop r,
         struct cset *cs)
{
    const struct symtab_symbol *sym = f->symbol;
    struct expr *e = NULL;

    if (cs->type != CSET_NONE && (cs->type == CSET_STRING) != (sym->width == 0)) {
        parse_error(ctx, f->pos, -EINVAL, "type mismatch",
                    "%s field %s is not compatible with %s constant",
                    sym->width ? "integer" : "string", sym->name,
                    cs->type == CSET_STRING ? "string" : "integer");
        goto out;
    }
    if (sym->width) {
        for (size_t i = 0; i < cs->n; i++) {
            const struct cval *c = &cs->v[i];
            if (cval_width(c) > f->n_bits) {
                char buf[96];
                if (c->masked) {
                    lex_masked_value_format(c->value, c->mask, c->format, buf,
                                            sizeof buf);
                } else {
                    lex_value_format(c->value, c->format, buf, sizeof buf);
                }
                parse_error(ctx, cs->pos, -EINVAL, "constant out of range",
                            "%s: %s does not fit in %d bits", sym->name, buf, f->n_bits);
                goto out;
            }
        }
    }

    if (r != EXPR_R_EQ && r != EXPR_R_NE) {
        const char *why = NULL;
        char buf[96];
        if (cs->in_curlies) {
            why = "with value sets";
        } else if (sym->level != SYMTAB_L_ORDINAL) {
            snprintf(buf, sizeof buf, "with %s field %s",
                     symtab_level_to_string__(sym->level), sym->name);
            why = buf;
        } else if (!cs->n) {
            why = "to compare a field against an empty value set";
        } else if (cs->v[0].masked) {
            why = "with masked constants (use a subfield instead)";
        }
        if (why) {
            parse_error(ctx, f->pos, -EINVAL, "unsupported comparison",
                        "only == and != may be used %s", why);
            goto out;
        }
    }

    if (sym->level == SYMTAB_L_NOMINAL) {
        if (sym->kind == SYMTAB_PREDICATE) {
            for (size_t i = 0; i < cs->n; i++) {
                bool positive = (cs->v[i].value & 1) != 0;
                positive ^= r == EXPR_R_NE;
                positive ^= ctx->not ;
                if (!positive) {
                    parse_error(ctx, f->pos, -EINVAL, "unsupported comparison",
                                "nominal predicate %s may only be tested positively",
                                sym->name);
                    goto out;
                }
            }
        } else if (r != (ctx->not ? EXPR_R_NE : EXPR_R_EQ)) {
            parse_error(ctx, f->pos, -EINVAL, "unsupported comparison",
                        "nominal field %s may only be tested for equality (taking "
                        "enclosing `!' into account)",
                        sym->name);
            goto out;
        }
    }

    if (!cs->n) {
        e = expr_create_boolean__(ctx->ec, r == EXPR_R_NE);
        goto out;
    }
    e = make_cmp1__(ctx, f, r, &cs->v[0]);
    for (size_t i = 1; e && i < cs->n; i++) {
        struct expr *e2 = make_cmp1__(ctx, f, r, &cs->v[i]);
        if (!e2) {
            expr_destroy(e);
            e = NULL;
            break;
        }
        e = expr_combine__(ctx->ec, r == EXPR_R_EQ ? EXPR_T_OR : EXPR_T_AND, e, e2);
    }

out:
    cset_destroy(cs);
    return e;
}

static struct expr *parse_expr(struct parse_ctx *ctx);

static struct expr *
parse_chassis_resident(struct parse_ctx *ctx)
{
    const struct lex_token *t = &ctx->lexer.token;
    if (t->type != LEX_T_STRING) {
        parse_syntax_error(ctx, "string");
        return NULL;
    }
    char *port = strdup(t->s);
    if (!port) {
        ectx_enomem(ctx->ec);
        return NULL;
    }
    lexer_get(&ctx->lexer);
    if (!parse_force_match(ctx, LEX_T_RPAREN)) {
        free(port);
        return NULL;
    }
    if (ctx->refs) {
        expr_names_add__(ctx->ec, &ctx->refs->resident_ports,
                         &ctx->refs->n_resident_ports, port);
    }

    struct expr *e;
    if (ctx->lookup && ctx->lookup->is_chassis_resident) {
        e = expr_create_boolean__(
            ctx->ec, ctx->lookup->is_chassis_resident(ctx->lookup->aux, port));
        free(port);
    } else {
        e = expr_alloc__(ctx->ec, EXPR_T_CONDITION);
        if (e) {
            e->cond.port = port;
        } else {
            free(port);
        }
    }
    return e;
}

static struct expr *
parse_primary(struct parse_ctx *ctx, bool *atomic)
{
    struct lexer *lexer = &ctx->lexer;

    *atomic = false;
    if (lexer_match(lexer, LEX_T_LPAREN)) {
        if (ctx->paren_depth >= EXPR_MAX_PAREN_DEPTH) {
            parse_error(ctx, lexer->token.start, -EINVAL, "nesting too deep",
                        "parentheses nested more than %d deep", EXPR_MAX_PAREN_DEPTH);
            return NULL;
        }
        ctx->paren_depth++;
        struct expr *e = parse_expr(ctx);
        ctx->paren_depth--;
        if (!e || !parse_force_match(ctx, LEX_T_RPAREN)) {
            expr_destroy(e);
            return NULL;
        }
        *atomic = true;
        return e;
    }

    if (lexer->token.type == LEX_T_ID) {
        if (lexer_lookahead(lexer) == LEX_T_LPAREN) {
            if (!strcmp(lexer->token.s, "is_chassis_resident")) {
                lexer_get(lexer);
                lexer_get(lexer);
                *atomic = true;
                return parse_chassis_resident(ctx);
            }
            parse_error(ctx, lexer->token.start, -EINVAL, "unknown function", "%s",
                        lexer->token.s);
            return NULL;
        }

        struct field_ref f;
        if (!parse_field(ctx, &f)) {
            return NULL;
        }

        enum expr_relop r;
        if (!expr_relop_from_token__(lexer->token.type, &r)) {
            /* A field alone means "field != 0", which is only implicit for 1-bit
             * fields (and inside "!", where "!reg0" means "reg0 == 0"). */
            if (!f.n_bits || lexer->token.type == LEX_T_EQUALS) {
                parse_syntax_error(ctx, "relational operator");
                return NULL;
            } else if (f.n_bits > 1 && !ctx->not ) {
                parse_error(ctx, f.pos, -EINVAL, "syntax error",
                            "explicit `!= 0' is required for inequality test of "
                            "multibit field %s against 0",
                            f.symbol->name);
                return NULL;
            }
            *atomic = true;

            struct cset cs = {.type = CSET_INTEGER, .pos = f.pos};
            struct cval *c = cset_add(ctx, &cs);
            if (!c) {
                cset_destroy(&cs);
                return NULL;
            }
            c->format = LEX_F_HEXADECIMAL;
            return make_cmp(ctx, &f, EXPR_R_NE, &cs);
        }
        lexer_get(lexer);

        struct cset cs;
        if (!parse_constant_set(ctx, &cs)) {
            cset_destroy(&cs);
            return NULL;
        }
        return make_cmp(ctx, &f, r, &cs);
    }

    /* A constant first: "0", "1", "80 == tcp.dst", or "1024 <= tcp.src <= 49151". */
    switch (lexer->token.type) {
    case LEX_T_STRING:
    case LEX_T_INTEGER:
    case LEX_T_MASKED_INTEGER:
    case LEX_T_MACRO:
    case LEX_T_PORT_GROUP:
    case LEX_T_LCURLY:
        break;
    default:
        parse_syntax_error(ctx, "field or constant");
        return NULL;
    }

    struct cset c1;
    if (!parse_constant_set(ctx, &c1)) {
        cset_destroy(&c1);
        return NULL;
    }
    if (!expr_is_relop__(lexer->token.type) && c1.n == 1 && c1.type == CSET_INTEGER &&
        c1.v[0].format == LEX_F_DECIMAL && !c1.v[0].masked && !c1.in_curlies &&
        c1.v[0].value <= 1) {
        bool b = c1.v[0].value != 0;
        cset_destroy(&c1);
        *atomic = true;
        return expr_create_boolean__(ctx->ec, b);
    }

    enum expr_relop r1;
    struct field_ref f;
    if (!expr_relop_from_token__(lexer->token.type, &r1)) {
        parse_syntax_error(ctx, "relational operator");
        cset_destroy(&c1);
        return NULL;
    }
    lexer_get(lexer);
    if (!parse_field(ctx, &f)) {
        cset_destroy(&c1);
        return NULL;
    }

    enum expr_relop r2;
    if (!expr_relop_from_token__(lexer->token.type, &r2)) {
        return make_cmp(ctx, &f, expr_relop_turn__(r1), &c1);
    }
    size_t r2_pos = lexer->token.start;
    lexer_get(lexer);

    struct cset c2;
    if (!parse_constant_set(ctx, &c2)) {
        cset_destroy(&c1);
        cset_destroy(&c2);
        return NULL;
    }
    bool r1_lt = r1 == EXPR_R_LT || r1 == EXPR_R_LE;
    bool r2_lt = r2 == EXPR_R_LT || r2 == EXPR_R_LE;
    bool r1_gt = r1 == EXPR_R_GT || r1 == EXPR_R_GE;
    bool r2_gt = r2 == EXPR_R_GT || r2 == EXPR_R_GE;
    if (!((r1_lt && r2_lt) || (r1_gt && r2_gt))) {
        parse_error(ctx, r2_pos, -EINVAL, "syntax error",
                    "range expressions must have the form `x < field < y' or "
                    "`x > field > y' (with `<=' or `>=' allowed)");
        cset_destroy(&c1);
        cset_destroy(&c2);
        return NULL;
    }
    struct expr *e1 = make_cmp(ctx, &f, expr_relop_turn__(r1), &c1);
    struct expr *e2 = make_cmp(ctx, &f, r2, &c2);
    if (!e1 || !e2) {
        expr_destroy(e1);
        expr_destroy(e2);
        return NULL;
    }
    return expr_combine__(ctx->ec, EXPR_T_AND, e1, e2);
}

static struct expr *
parse_not(struct parse_ctx *ctx)
{
    bool atomic;

    if (!lexer_match(&ctx->lexer, LEX_T_LOG_NOT)) {
        return parse_primary(ctx, &atomic);
    }
    size_t pos = ctx->lexer.token.start;
    ctx->not = !ctx->not ;
    struct expr *e = parse_primary(ctx, &atomic);
    ctx->not = !ctx->not ;
    if (e && !atomic) {
        parse_error(ctx, pos, -EINVAL, "syntax error",
                    "missing parentheses around operand of `!'");
        expr_destroy(e);
        return NULL;
    }
    if (e) {
        expr_not__(e);
    }
    return e;
}

static struct expr *
parse_expr(struct parse_ctx *ctx)
{
    struct expr *e = parse_not(ctx);
    if (!e) {
        return NULL;
    }

    enum lex_type op = ctx->lexer.token.type;
    if (op != LEX_T_LOG_AND && op != LEX_T_LOG_OR) {
        return e;
    }
    enum expr_type type = op == LEX_T_LOG_AND ? EXPR_T_AND : EXPR_T_OR;
    lexer_get(&ctx->lexer);
    do {
        struct expr *e2 = parse_not(ctx);
        if (!e2) {
            expr_destroy(e);
            return NULL;
        }
        e = expr_combine__(ctx->ec, type, e, e2);
        if (!e) {
            return NULL;
        }
    } while (lexer_match(&ctx->lexer, op));

    if (ctx->lexer.token.type == LEX_T_LOG_AND || ctx->lexer.token.type == LEX_T_LOG_OR) {
        parse_error(ctx, ctx->lexer.token.start, -EINVAL, "syntax error",
                    "`&&' and `||' must be parenthesized when used together");
        expr_destroy(e);
        return NULL;
    }
    return e;
}

/* Parses 's' into a tree, recording failures in 'ec'. */
static struct expr *
expr_parse__(struct ectx *ec, const struct symtab *symtab, const char *s,
             const struct expr_lookup *lookup, struct expr_refs *refs)
{
    struct parse_ctx ctx = {
        .ec = ec,
        .symtab = symtab,
        .lookup = lookup,
        .refs = refs,
    };
    lexer_init(&ctx.lexer, s);
    lexer_get(&ctx.lexer);

    struct expr *e = parse_expr(&ctx);
    if (e && ctx.lexer.token.type != LEX_T_END) {
        parse_syntax_error(&ctx, "end of input");
    }
    if (ectx_failed(ec)) {
        expr_destroy(e);
        e = NULL;
    }
    lexer_destroy(&ctx.lexer);
    return e;
}

int
expr_parse(const struct symtab *symtab, const char *s, const struct expr_lookup *lookup,
           struct expr_refs *refs, struct expr **exprp, struct ovnic_err *err)
{
    struct ectx ec = {0};
    struct expr *e = expr_parse__(&ec, symtab, s ? s : "", lookup, refs);
    if (ectx_finish(&ec, err)) {
        expr_destroy(e);
        return ec.err.code;
    }
    *exprp = e;
    return 0;
}

/* ----- Annotation. ----- */

struct annotate_ctx {
    struct ectx *ec;
    const struct symtab *symtab;
};

static struct expr *annotate(struct annotate_ctx *ctx, struct expr *e, bool prereqs,
                             int depth);

/* Parses and annotates the expansion or prerequisite text 's' of 'sym'. */
static struct expr *
annotate_text(struct annotate_ctx *ctx, const struct symtab_symbol *sym, const char *s,
              int depth)
{
    if (depth >= EXPR_MAX_NESTING) {
        ovnic_err_set(&ctx->ec->err, -EINVAL, "match", "nesting too deep",
                      "expansion of %s nests more than %d deep", sym->name,
                      EXPR_MAX_NESTING);
        return NULL;
    }
    struct ectx sub = {0};
    struct expr *e = expr_parse__(&sub, ctx->symtab, s, NULL, NULL);
    if (!e) {
        if (sub.err.code == -ENOMEM) {
            ectx_enomem(ctx->ec);
        } else {
            ovnic_err_set(&ctx->ec->err, sub.err.code, "match", "invalid symbol",
                          "expansion of %s: %s", sym->name, sub.err.detail);
        }
        return NULL;
    }
    return annotate(ctx, e, true, depth + 1);
}

/* If every comparison in 'e' names the same symbol, returns it, otherwise NULL. */
static const struct symtab_symbol *
expr_unique_symbol__(const struct expr *e)
{
    switch (e->type) {
    case EXPR_T_CMP:
        return e->cmp.symbol;
    case EXPR_T_AND:
    case EXPR_T_OR: {
        const struct symtab_symbol *sym = NULL;
        for (size_t i = 0; i < e->andor.n; i++) {
            const struct symtab_symbol *s = expr_unique_symbol__(e->andor.subs[i]);
            if (!s || (sym && s != sym)) {
                return NULL;
            }
            sym = s;
        }
        return sym;
    }
    case EXPR_T_BOOLEAN:
    case EXPR_T_CONDITION:
        break;
    }
    return NULL;
}

static struct expr *
annotate_and_prereqs__(struct annotate_ctx *ctx, struct expr *e,
                       const struct symtab_symbol *sym, int depth)
{
    if (!sym->prereqs) {
        return e;
    }
    struct expr *p = annotate_text(ctx, sym, sym->prereqs, depth);
    if (!p) {
        expr_destroy(e);
        return NULL;
    }
    return expr_combine__(ctx->ec, EXPR_T_AND, e, p);
}

static struct expr *
annotate_cmp(struct annotate_ctx *ctx, struct expr *e, bool prereqs, int depth)
{
    const struct symtab_symbol *sym = e->cmp.symbol;

    switch (sym->kind) {
    case SYMTAB_FIELD:
        break;

    case SYMTAB_SUBFIELD:
        e->cmp.value <<= sym->parent_ofs;
        e->cmp.mask <<= sym->parent_ofs;
        e->cmp.symbol = sym->parent;
        if (prereqs) {
            e = annotate_and_prereqs__(ctx, e, sym->parent, depth);
        }
        break;

    case SYMTAB_PREDICATE: {
        bool eq = e->cmp.relop == EXPR_R_EQ;
        if (!(e->cmp.mask & 1)) {
            /* "pred == 0/0" holds for every packet. */
            expr_destroy(e);
            e = expr_create_boolean__(ctx->ec, eq);
            break;
        }
        bool positive = ((e->cmp.value & 1) != 0) == eq;
        expr_destroy(e);
        e = annotate_text(ctx, sym, sym->expansion, depth);
        if (e && !positive) {
            expr_not__(e);
        }
        break;
    }
    }

    if (e && prereqs) {
        e = annotate_and_prereqs__(ctx, e, sym, depth);
    }
    return e;
}

/* Annotates 'e' (taken) and returns the result, or NULL on failure. */
static struct expr *
annotate(struct annotate_ctx *ctx, struct expr *e, bool prereqs, int depth)
{
    switch (e->type) {
    case EXPR_T_CMP:
        return annotate_cmp(ctx, e, prereqs, depth);

    case EXPR_T_AND:
    case EXPR_T_OR: {
        /* When every term names one symbol ("tcp.dst == 80 || tcp.dst == 443"), its
         * prerequisites are added once for the whole node. */
        const struct symtab_symbol *unique = prereqs ? expr_unique_symbol__(e) : NULL;
        bool sub_prereqs = prereqs && !unique;

        struct expr **subs = e->andor.subs;
        size_t n = e->andor.n;
        enum expr_type type = e->type;
        free(e);

        struct expr *result = NULL;
        size_t i;
        for (i = 0; i < n; i++) {
            struct expr *sub = annotate(ctx, subs[i], sub_prereqs, depth);
            if (!sub) {
                break;
            }
            result = result ? expr_combine__(ctx->ec, type, result, sub) : sub;
            if (!result) {
                break;
            }
        }
        if (i < n) {
            for (i++; i < n; i++) {
                expr_destroy(subs[i]);
            }
            expr_destroy(result);
            free(subs);
            return NULL;
        }
        free(subs);
        if (result && unique) {
            result = annotate_and_prereqs__(ctx, result, unique, depth);
        }
        return result;
    }

    case EXPR_T_BOOLEAN:
    case EXPR_T_CONDITION:
        break;
    }
    return e;
}

int
expr_annotate(const struct symtab *symtab, const struct expr *expr,
              struct expr **annotatedp, struct ovnic_err *err)
{
    struct ectx ec = {0};
    struct annotate_ctx ctx = {.ec = &ec, .symtab = symtab};

    struct expr *e = expr_clone__(&ec, expr);
    if (e) {
        e = annotate(&ctx, e, true, 0);
    }
    if (ectx_finish(&ec, err)) {
        expr_destroy(e);
        return ec.err.code;
    }
    *annotatedp = e;
    return 0;
}

/* ----- Simplification: every comparison becomes a masked equality. ----- */

/* ORs "x == value/mask", where x is the integer symbol that 'e' compares, into
 * '*result' (NULL: nothing yet).  Returns false if memory ran out. */
static bool
simplify_or_eq__(struct ectx *ec, struct expr **result, const struct expr *e,
                 lex_u128 value, lex_u128 mask)
{
    struct expr *t = expr_alloc__(ec, EXPR_T_CMP);

    if (!t) {
        return false;
    }
    t->cmp.symbol = e->cmp.symbol;
    t->cmp.relop = EXPR_R_EQ;
    t->cmp.value = value;
    t->cmp.mask = mask;
    *result = *result ? expr_combine__(ec, EXPR_T_OR, *result, t) : t;
    return *result != NULL;
}

/* Ends the rewrite of 'e' (taken) into the disjunction 'result' (taken; NULL: no
 * term, which is false).  Returns the result, or NULL if the rewrite failed. */
static struct expr *
simplify_or_finish__(struct ectx *ec, struct expr *e, struct expr *result)
{
    expr_destroy(e);
    if (ectx_failed(ec)) {
        expr_destroy(result);
        return NULL;
    }
    return result ? result : expr_create_boolean__(ec, false);
}

static struct expr *
simplify_ne(struct ectx *ec, struct expr *e)
{
    /* "x != v/m" holds if any bit of m differs from v. */
    struct expr *result = NULL;
    lex_u128 mask = e->cmp.mask;
    for (int i = 0; i < 128; i++) {
        lex_u128 bit = (lex_u128)1 << i;
        if ((mask & bit) &&
            !simplify_or_eq__(ec, &result, e, (e->cmp.value & bit) ^ bit, bit)) {
            break;
        }
    }
    return simplify_or_finish__(ec, e, result);
}

static struct expr *
simplify_relational(struct ectx *ec, struct expr *e)
{
    lex_u128 mask = e->cmp.mask;
    lex_u128 value = e->cmp.value;
    enum expr_relop r = e->cmp.relop;
    bool lt = r == EXPR_R_LT || r == EXPR_R_LE;
    bool eq = r == EXPR_R_LE || r == EXPR_R_GE;

    if (!mask) {
        /* Cannot come from the parser, which refuses masked relations. */
        expr_destroy(e);
        return expr_create_boolean__(ec, eq);
    }
    int start = lex_u128_width(mask & -mask) - 1;
    int end = lex_u128_width(mask);

    /* "x >= 0" and "x <= max" always hold; "x > 0" and "x < max" are "x != v". */
    if ((!lt && !value) || (lt && value == mask)) {
        if (eq) {
            expr_destroy(e);
            return expr_create_boolean__(ec, true);
        }
        return simplify_ne(ec, e);
    }

    struct expr *result = NULL;
    if (eq) {
        result = expr_alloc__(ec, EXPR_T_CMP);
        if (!result) {
            expr_destroy(e);
            return NULL;
        }
        result->cmp = e->cmp;
        result->cmp.relop = EXPR_R_EQ;
    }
    /* "x > v": for each 0-bit z of v, x has 1 at z and v's bits above z.
     * "x < v": for each 1-bit z of v, x has 0 at z and v's bits above z. */
    for (int z = start; z < end; z++) {
        lex_u128 bit = (lex_u128)1 << z;
        if (((value & bit) != 0) != lt) {
            continue;
        }
        lex_u128 low = lex_u128_bits(start, z - start);
        if (!simplify_or_eq__(ec, &result, e, (value ^ bit) & ~low, mask & ~low)) {
            break;
        }
    }
    return simplify_or_finish__(ec, e, result);
}

/* Returns an equivalent of 'e' (taken) whose comparisons are all equalities, with
 * constant subexpressions folded. */
static struct expr *
simplify(struct ectx *ec, struct expr *e)
{
    switch (e->type) {
    case EXPR_T_CMP:
        if (!e->cmp.symbol->width) {
            return e;
        }
        switch (e->cmp.relop) {
        case EXPR_R_EQ:
            if (!e->cmp.mask) {
                expr_destroy(e);
                return expr_create_boolean__(ec, true);
            }
            return e;
        case EXPR_R_NE:
            return simplify_ne(ec, e);
        case EXPR_R_LT:
        case EXPR_R_LE:
        case EXPR_R_GT:
        case EXPR_R_GE:
            return simplify_relational(ec, e);
        }
        return e;

    case EXPR_T_AND:
    case EXPR_T_OR: {
        bool short_circuit = e->type == EXPR_T_OR;
        size_t n = 0;
        for (size_t i = 0; i < e->andor.n; i++) {
            struct expr *sub = simplify(ec, e->andor.subs[i]);
            e->andor.subs[i] = NULL;
            if (!sub) {
                for (i++; i < e->andor.n; i++) {
                    expr_destroy(e->andor.subs[i]);
                    e->andor.subs[i] = NULL;
                }
                e->andor.n = n;
                expr_destroy(e);
                return NULL;
            }
            if (sub->type == EXPR_T_BOOLEAN) {
                bool b = sub->boolean;
                expr_destroy(sub);
                if (b == short_circuit) {
                    for (i++; i < e->andor.n; i++) {
                        expr_destroy(e->andor.subs[i]);
                        e->andor.subs[i] = NULL;
                    }
                    e->andor.n = n;
                    expr_destroy(e);
                    return expr_create_boolean__(ec, short_circuit);
                }
                continue;
            }
            e->andor.subs[n++] = sub;
        }
        e->andor.n = n;
        if (n == 0) {
            expr_destroy(e);
            return expr_create_boolean__(ec, !short_circuit);
        } else if (n == 1) {
            struct expr *sub = e->andor.subs[0];
            e->andor.n = 0;
            expr_destroy(e);
            return sub;
        }
        return e;
    }

    case EXPR_T_BOOLEAN:
    case EXPR_T_CONDITION:
        break;
    }
    return e;
}

/* ----- Disjunctive normal form. ----- */

static int
u128_cmp__(lex_u128 a, lex_u128 b)
{
    return a < b ? -1 : a > b;
}

/* Terms sort by field, with conditions last (by port name). */
static int
term_key__(const struct expr_term *t)
{
    return t->type == EXPR_TERM_CHASSIS_RESIDENT ? SYMTAB_N_FIELDS : (int)t->field->id;
}

static int
term_slot_cmp__(const struct expr_term *a, const struct expr_term *b)
{
    int ka = term_key__(a), kb = term_key__(b);
    if (ka != kb) {
        return ka < kb ? -1 : 1;
    }
    if (a->type == EXPR_TERM_CHASSIS_RESIDENT) {
        return strcmp(a->string, b->string);
    }
    return 0;
}

static int
term_cmp__(const struct expr_term *a, const struct expr_term *b)
{
    int c = term_slot_cmp__(a, b);
    if (c) {
        return c;
    }
    switch (a->type) {
    case EXPR_TERM_FIELD:
        c = u128_cmp__(a->value, b->value);
        return c ? c : u128_cmp__(a->mask, b->mask);
    case EXPR_TERM_STRING:
        return strcmp(a->string, b->string);
    case EXPR_TERM_CHASSIS_RESIDENT:
        return (int)a->negated - (int)b->negated;
    }
    return 0;
}

static int
match_cmp__(const struct expr_match *a, const struct expr_match *b)
{
    size_t n = MIN(a->n_terms, b->n_terms);
    for (size_t i = 0; i < n; i++) {
        int c = term_cmp__(&a->terms[i], &b->terms[i]);
        if (c) {
            return c;
        }
    }
    return a->n_terms < b->n_terms ? -1 : a->n_terms > b->n_terms;
}

static int
match_qsort_cmp__(const void *a, const void *b)
{
    return match_cmp__(a, b);
}

/* A growable list of conjunctions under construction.  Strings in terms are borrowed
 * from the tree being normalised. */
struct mlist {
    struct expr_match *m;
    size_t n;
    size_t alloc;
};

struct dnf_ctx {
    struct ectx *ec;
    size_t max_matches;
};

static void
mlist_clear(struct mlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->m[i].terms);
    }
    free(l->m);
    memset(l, 0, sizeof *l);
}

/* Appends 'm' (taken) to 'l'. */
static bool
mlist_push(struct dnf_ctx *ctx, struct mlist *l, struct expr_match *m)
{
    if (l->n >= ctx->max_matches) {
        free(m->terms);
        ovnic_err_set(&ctx->ec->err, -E2BIG, "match", "expression too complex",
                      "expands to more than %zu conjunctions", ctx->max_matches);
        return false;
    }
    if (l->n >= l->alloc) {
        size_t alloc = l->alloc ? l->alloc * 2 : 4;
        struct expr_match *new = realloc(l->m, alloc * sizeof *new);
        if (!new) {
            free(m->terms);
            ectx_enomem(ctx->ec);
            return false;
        }
        l->m = new;
        l->alloc = alloc;
    }
    l->m[l->n++] = *m;
    return true;
}

/* Sorts 'l' and removes duplicates.  If some conjunction is empty (always true), the
 * whole list becomes that one conjunction. */
static void
mlist_canonicalize(struct mlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!l->m[i].n_terms) {
            for (size_t j = 0; j < l->n; j++) {
                free(l->m[j].terms);
            }
            l->m[0].terms = NULL;
            l->m[0].n_terms = 0;
            l->n = 1;
            return;
        }
    }
    if (l->n < 2) {
        return;
    }
    qsort(l->m, l->n, sizeof *l->m, match_qsort_cmp__);
    size_t n = 1;
    for (size_t i = 1; i < l->n; i++) {
        if (match_cmp__(&l->m[n - 1], &l->m[i])) {
            l->m[n++] = l->m[i];
        } else {
            free(l->m[i].terms);
        }
    }
    l->n = n;
}

/* Adds 't' to conjunction 'm', whose 'terms' has room for one more.  Returns false if
 * the conjunction became a contradiction. */
static bool
match_add_term__(struct expr_match *m, const struct expr_term *t)
{
    size_t i;
    for (i = 0; i < m->n_terms; i++) {
        int c = term_slot_cmp__(&m->terms[i], t);
        if (c > 0) {
            break;
        } else if (c == 0) {
            struct expr_term *u = &m->terms[i];
            switch (t->type) {
            case EXPR_TERM_FIELD:
                if ((u->value ^ t->value) & u->mask & t->mask) {
                    return false;
                }
                u->value |= t->value;
                u->mask |= t->mask;
                return true;
            case EXPR_TERM_STRING:
                return !strcmp(u->string, t->string);
            case EXPR_TERM_CHASSIS_RESIDENT:
                return u->negated == t->negated;
            }
            return true;
        }
    }
    memmove(&m->terms[i + 1], &m->terms[i], (m->n_terms - i) * sizeof *m->terms);
    m->terms[i] = *t;
    m->n_terms++;
    return true;
}

/* Builds the single conjunction for comparison or condition 'e'. */
static bool
dnf_leaf(struct dnf_ctx *ctx, const struct expr *e, struct mlist *out)
{
    struct expr_term terms[4];
    size_t n = 0;

    if (e->type == EXPR_T_CONDITION) {
        terms[n++] = (struct expr_term){
            .type = EXPR_TERM_CHASSIS_RESIDENT,
            .string = e->cond.port,
            .negated = e->cond.negated,
        };
    } else {
        const struct symtab_symbol *sym = e->cmp.symbol;
        if (sym->kind != SYMTAB_FIELD || e->cmp.relop != EXPR_R_EQ) {
            ovnic_err_set(&ctx->ec->err, -EINVAL, "match", "not annotated",
                          "cannot normalise comparison on %s", sym->name);
            return false;
        }
        const struct symtab_field *field = sym->field;
        if (!field->width) {
            terms[n++] = (struct expr_term){
                .type = EXPR_TERM_STRING,
                .field = field,
                .string = e->cmp.string,
            };
        } else if (field->n_view) {
            /* A register view: one term per 32-bit register it touches. */
            for (int k = 0; k < field->n_view; k++) {
                int shift = 32 * (field->n_view - 1 - k);
                lex_u128 m = (e->cmp.mask >> shift) & 0xffffffffu;
                if (m) {
                    terms[n++] = (struct expr_term){
                        .type = EXPR_TERM_FIELD,
                        .field = symtab_field_get(field->view + k),
                        .value = (e->cmp.value >> shift) & m,
                        .mask = m,
                    };
                }
            }
        } else {
            terms[n++] = (struct expr_term){
                .type = EXPR_TERM_FIELD,
                .field = field,
                .value = e->cmp.value & e->cmp.mask,
                .mask = e->cmp.mask,
            };
        }
    }

    struct expr_match m = {.terms = malloc(MAX(n, (size_t)1) * sizeof *m.terms)};
    if (!m.terms) {
        ectx_enomem(ctx->ec);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        match_add_term__(&m, &terms[i]);
    }
    return mlist_push(ctx, out, &m);
}

/* Sets 'out' to every consistent conjunction of one member of 'a' and one of 'b'. */
static bool
dnf_cross(struct dnf_ctx *ctx, const struct mlist *a, const struct mlist *b,
          struct mlist *out)
{
    for (size_t i = 0; i < a->n; i++) {
        for (size_t j = 0; j < b->n; j++) {
            const struct expr_match *ma = &a->m[i], *mb = &b->m[j];
            size_t cap = ma->n_terms + mb->n_terms;
            struct expr_match m = {.terms =
                                       malloc(MAX(cap, (size_t)1) * sizeof *m.terms)};
            if (!m.terms) {
                ectx_enomem(ctx->ec);
                return false;
            }
            memcpy(m.terms, ma->terms, ma->n_terms * sizeof *m.terms);
            m.n_terms = ma->n_terms;
            bool ok = true;
            for (size_t k = 0; ok && k < mb->n_terms; k++) {
                ok = match_add_term__(&m, &mb->terms[k]);
            }
            if (!ok) {
                free(m.terms);
            } else if (!mlist_push(ctx, out, &m)) {
                return false;
            }
        }
    }
    return true;
}

/* Converts simplified tree 'e' into a list of conjunctions in 'out' (empty on entry). */
static bool
dnf(struct dnf_ctx *ctx, const struct expr *e, struct mlist *out)
{
    switch (e->type) {
    case EXPR_T_BOOLEAN:
        if (e->boolean) {
            struct expr_match m = {.terms = NULL, .n_terms = 0};
            return mlist_push(ctx, out, &m);
        }
        return true;

    case EXPR_T_CMP:
    case EXPR_T_CONDITION:
        return dnf_leaf(ctx, e, out);

    case EXPR_T_OR:
        for (size_t i = 0; i < e->andor.n; i++) {
            struct mlist sub = {0};
            if (!dnf(ctx, e->andor.subs[i], &sub)) {
                mlist_clear(&sub);
                return false;
            }
            for (size_t j = 0; j < sub.n; j++) {
                if (!mlist_push(ctx, out, &sub.m[j])) {
                    for (j++; j < sub.n; j++) {
                        free(sub.m[j].terms);
                    }
                    free(sub.m);
                    return false;
                }
            }
            free(sub.m);
        }
        mlist_canonicalize(out);
        return true;

    case EXPR_T_AND: {
        if (!dnf(ctx, e->andor.subs[0], out)) {
            return false;
        }
        for (size_t i = 1; i < e->andor.n && out->n; i++) {
            struct mlist sub = {0}, cross = {0};
            if (!dnf(ctx, e->andor.subs[i], &sub) || !dnf_cross(ctx, out, &sub, &cross)) {
                mlist_clear(&sub);
                mlist_clear(&cross);
                return false;
            }
            mlist_clear(&sub);
            mlist_clear(out);
            mlist_canonicalize(&cross);
            *out = cross;
        }
        return true;
    }
    }
    return true;
}

static int
ptr_cmp__(const void *a_, const void *b_)
{
    uintptr_t a = (uintptr_t) * (const char *const *)a_;
    uintptr_t b = (uintptr_t) * (const char *const *)b_;
    return a < b ? -1 : a > b;
}

/* Moves 'l' into a new match list whose strings it owns. */
static struct expr_match_list *
mlist_finish(struct ectx *ec, struct mlist *l)
{
    struct expr_match_list *list = calloc(1, sizeof *list);
    if (!list) {
        ectx_enomem(ec);
        return NULL;
    }

    /* Copy each distinct borrowed string once. */
    size_t n_ptrs = 0;
    for (size_t i = 0; i < l->n; i++) {
        for (size_t j = 0; j < l->m[i].n_terms; j++) {
            n_ptrs += l->m[i].terms[j].string != NULL;
        }
    }
    const char **ptrs = NULL;
    if (n_ptrs) {
        ptrs = malloc(n_ptrs * sizeof *ptrs);
        if (!ptrs) {
            goto enomem;
        }
        size_t k = 0;
        for (size_t i = 0; i < l->n; i++) {
            for (size_t j = 0; j < l->m[i].n_terms; j++) {
                if (l->m[i].terms[j].string) {
                    ptrs[k++] = l->m[i].terms[j].string;
                }
            }
        }
        qsort(ptrs, n_ptrs, sizeof *ptrs, ptr_cmp__);
        size_t n_unique = 1;
        for (size_t i = 1; i < n_ptrs; i++) {
            if (ptrs[i] != ptrs[n_unique - 1]) {
                ptrs[n_unique++] = ptrs[i];
            }
        }
        list->strings = calloc(n_unique, sizeof *list->strings);
        if (!list->strings) {
            goto enomem;
        }
        for (size_t i = 0; i < n_unique; i++) {
            if (!(list->strings[i] = strdup(ptrs[i]))) {
                goto enomem;
            }
            list->n_strings++;
        }
        for (size_t i = 0; i < l->n; i++) {
            for (size_t j = 0; j < l->m[i].n_terms; j++) {
                struct expr_term *t = &l->m[i].terms[j];
                if (t->string) {
                    const char **p =
                        bsearch(&t->string, ptrs, n_unique, sizeof *ptrs, ptr_cmp__);
                    t->string = list->strings[p - ptrs];
                }
            }
        }
    }
    free(ptrs);

    list->matches = l->m;
    list->n_matches = l->n;
    memset(l, 0, sizeof *l);
    return list;

enomem:
    free(ptrs);
    expr_match_list_destroy(list);
    ectx_enomem(ec);
    return NULL;
}

int
expr_normalize(const struct expr *annotated, size_t max_matches,
               struct expr_match_list **listp, struct ovnic_err *err)
{
    struct ectx ec = {0};
    struct dnf_ctx ctx = {
        .ec = &ec,
        .max_matches = max_matches ? max_matches : EXPR_MAX_MATCHES_DEFAULT,
    };
    struct expr_match_list *list = NULL;
    struct mlist l = {0};

    struct expr *e = expr_clone__(&ec, annotated);
    if (e) {
        e = simplify(&ec, e);
    }
    if (e && dnf(&ctx, e, &l)) {
        mlist_canonicalize(&l);
        list = mlist_finish(&ec, &l);
    }
    mlist_clear(&l);
    expr_destroy(e);
    if (ectx_finish(&ec, err)) {
        expr_match_list_destroy(list);
        return ec.err.code;
    }
    *listp = list;
    return 0;
}

int
expr_compile(const struct symtab *symtab, const char *s, const struct expr_lookup *lookup,
             struct expr_refs *refs, struct expr_match_list **listp,
             struct ovnic_err *err)
{
    struct expr *parsed = NULL, *annotated = NULL;
    int rc = expr_parse(symtab, s, lookup, refs, &parsed, err);
    if (!rc) {
        rc = expr_annotate(symtab, parsed, &annotated, err);
    }
    if (!rc) {
        rc = expr_normalize(annotated, 0, listp, err);
    }
    expr_destroy(parsed);
    expr_destroy(annotated);
    return rc;
}

void
expr_match_list_destroy(struct expr_match_list *list)
{
    if (!list) {
        return;
    }
    for (size_t i = 0; i < list->n_matches; i++) {
        free(list->matches[i].terms);
    }
    free(list->matches);
    expr_names_free__(list->strings, list->n_strings);
    free(list);
}

/* ----- Text forms. ----- */

static void
format_term(struct sbuf *b, const struct expr_term *t)
{
    switch (t->type) {
    case EXPR_TERM_FIELD: {
        char buf[128];
        const struct symtab_field *f = t->field;
        if (t->mask == lex_u128_bits(0, f->width)) {
            lex_value_format(t->value, f->format, buf, sizeof buf);
        } else {
            lex_masked_value_format(t->value, t->mask, f->format, buf, sizeof buf);
        }
        sbuf_printf(b, "%s=%s", f->name, buf);
        break;
    }
    case EXPR_TERM_STRING:
        sbuf_printf(b, "%s=", t->field->name);
        sbuf_put_json_string(b, t->string);
        break;
    case EXPR_TERM_CHASSIS_RESIDENT:
        sbuf_printf(b, "%sis_chassis_resident(", t->negated ? "!" : "");
        sbuf_put_json_string(b, t->string);
        sbuf_printf(b, ")");
        break;
    }
}

const char *
expr_term_format(const struct expr_term *term, char *buf, size_t size)
{
    struct sbuf b = {0};
    format_term(&b, term);
    snprintf(buf, size, "%s", b.enomem || !b.s ? "" : b.s);
    free(b.s);
    return buf;
}

char *
expr_match_list_format(const struct expr_match_list *list)
{
    struct sbuf b = {0};
    if (!list->n_matches) {
        sbuf_printf(&b, "0");
    }
    for (size_t i = 0; i < list->n_matches; i++) {
        const struct expr_match *m = &list->matches[i];
        if (i) {
            sbuf_printf(&b, " || ");
        }
        if (!m->n_terms) {
            sbuf_printf(&b, "1");
        }
        for (size_t j = 0; j < m->n_terms; j++) {
            if (j) {
                sbuf_printf(&b, " ");
            }
            format_term(&b, &m->terms[j]);
        }
    }
    return sbuf_steal(&b);
}

/* The display format of a symbol's values when all its bits are compared. */
static enum lex_format
symbol_format__(const struct symtab_symbol *sym)
{
    return sym->kind == SYMTAB_FIELD ? sym->field->format : LEX_F_HEXADECIMAL;
}

static void
format_cmp(struct sbuf *b, const struct expr *e)
{
    const struct symtab_symbol *sym = e->cmp.symbol;
    const char *op = expr_relop_to_string__(e->cmp.relop);
    char buf[128];

    if (!sym->width) {
        sbuf_printf(b, "%s %s ", sym->name, op);
        sbuf_put_json_string(b, e->cmp.string);
        return;
    }

    lex_u128 mask = e->cmp.mask;
    int ofs = mask ? lex_u128_width(mask & -mask) - 1 : 0;
    int n = mask ? lex_u128_width(mask) - ofs : 0;
    bool contiguous = mask && mask == lex_u128_bits(ofs, n);
    bool eq_ne = e->cmp.relop == EXPR_R_EQ || e->cmp.relop == EXPR_R_NE;

    /* Nominal fields take no subscripts: partial masks are written "value/mask". */
    bool subscript = sym->level != SYMTAB_L_NOMINAL;

    if (contiguous && n == 1 && eq_ne && (subscript || sym->width == 1)) {
        bool positive = ((e->cmp.value & mask) != 0) == (e->cmp.relop == EXPR_R_EQ);
        sbuf_printf(b, "%s%s", positive ? "" : "!", sym->name);
        if (sym->width > 1) {
            sbuf_printf(b, "[%d]", ofs);
        }
        return;
    }

    enum lex_format fmt = symbol_format__(sym);
    bool address = fmt == LEX_F_IPV4 || fmt == LEX_F_IPV6 || fmt == LEX_F_ETHERNET;
    if (contiguous && n == sym->width) {
        sbuf_printf(b, "%s %s %s", sym->name, op,
                    lex_value_format(e->cmp.value, fmt, buf, sizeof buf));
    } else if (contiguous && subscript && !(eq_ne && address)) {
        sbuf_printf(
            b, "%s[%d..%d] %s %s", sym->name, ofs, ofs + n - 1, op,
            lex_value_format(e->cmp.value >> ofs, LEX_F_HEXADECIMAL, buf, sizeof buf));
    } else {
        /* Only == and != reach here: the parser refuses masked relations. */
        sbuf_printf(b, "%s %s %s", sym->name, op,
                    lex_masked_value_format(e->cmp.value, mask,
                                            address ? fmt : LEX_F_HEXADECIMAL, buf,
                                            sizeof buf));
    }
}

static void
format_expr(struct sbuf *b, const struct expr *e)
{
    switch (e->type) {
    case EXPR_T_CMP:
        format_cmp(b, e);
        break;
    case EXPR_T_AND:
    case EXPR_T_OR:
        for (size_t i = 0; i < e->andor.n; i++) {
            const struct expr *sub = e->andor.subs[i];
            if (i) {
                sbuf_printf(b, e->type == EXPR_T_AND ? " && " : " || ");
            }
            bool parens = sub->type == EXPR_T_AND || sub->type == EXPR_T_OR;
            sbuf_printf(b, "%s", parens ? "(" : "");
            format_expr(b, sub);
            sbuf_printf(b, "%s", parens ? ")" : "");
        }
        break;
    case EXPR_T_BOOLEAN:
        sbuf_printf(b, "%d", e->boolean ? 1 : 0);
        break;
    case EXPR_T_CONDITION:
        sbuf_printf(b, "%sis_chassis_resident(", e->cond.negated ? "!" : "");
        sbuf_put_json_string(b, e->cond.port);
        sbuf_printf(b, ")");
        break;
    }
}

char *
expr_format(const struct expr *expr)
{
    struct sbuf b = {0};
    format_expr(&b, expr);
    return sbuf_steal(&b);
}

/* ----- Evaluation. ----- */

static lex_u128
flow_value__(const struct expr_flow *flow, const struct symtab_field *field)
{
    if (!field->n_view) {
        return flow->values[field->id] & lex_u128_bits(0, field->width);
    }
    lex_u128 v = 0;
    for (int k = 0; k < field->n_view; k++) {
        v = (v << 32) | (flow->values[field->view + k] & 0xffffffffu);
    }
    return v;
}

static const char *
flow_port__(const struct expr_flow *flow, const struct symtab_field *field)
{
    return field->id == SYMTAB_F_INPORT ? flow->inport : flow->outport;
}

static bool
flow_resident__(const struct expr_flow *flow, const char *port)
{
    return flow->is_chassis_resident && flow->is_chassis_resident(flow->aux, port);
}

bool
expr_evaluate(const struct expr *e, const struct expr_flow *flow)
{
    switch (e->type) {
    case EXPR_T_CMP: {
        const struct symtab_symbol *sym = e->cmp.symbol;
        if (sym->kind != SYMTAB_FIELD) {
            return false;
        }
        if (!sym->width) {
            const char *port = flow_port__(flow, sym->field);
            bool eq = port && !strcmp(port, e->cmp.string);
            return e->cmp.relop == EXPR_R_NE ? !eq : eq;
        }
        lex_u128 x = flow_value__(flow, sym->field) & e->cmp.mask;
        lex_u128 v = e->cmp.value;
        switch (e->cmp.relop) {
        case EXPR_R_EQ:
            return x == v;
        case EXPR_R_NE:
            return x != v;
        case EXPR_R_LT:
            return x < v;
        case EXPR_R_LE:
            return x <= v;
        case EXPR_R_GT:
            return x > v;
        case EXPR_R_GE:
            return x >= v;
        }
        return false;
    }
    case EXPR_T_AND:
        for (size_t i = 0; i < e->andor.n; i++) {
            if (!expr_evaluate(e->andor.subs[i], flow)) {
                return false;
            }
        }
        return true;
    case EXPR_T_OR:
        for (size_t i = 0; i < e->andor.n; i++) {
            if (expr_evaluate(e->andor.subs[i], flow)) {
                return true;
            }
        }
        return false;
    case EXPR_T_BOOLEAN:
        return e->boolean;
    case EXPR_T_CONDITION:
        return flow_resident__(flow, e->cond.port) != e->cond.negated;
    }
    return false;
}

bool
expr_match_list_evaluate(const struct expr_match_list *list, const struct expr_flow *flow)
{
    for (size_t i = 0; i < list->n_matches; i++) {
        const struct expr_match *m = &list->matches[i];
        bool ok = true;
        for (size_t j = 0; ok && j < m->n_terms; j++) {
            const struct expr_term *t = &m->terms[j];
            switch (t->type) {
            case EXPR_TERM_FIELD:
                ok = (flow_value__(flow, t->field) & t->mask) == t->value;
                break;
            case EXPR_TERM_STRING: {
                const char *port = flow_port__(flow, t->field);
                ok = port && !strcmp(port, t->string);
                break;
            }
            case EXPR_TERM_CHASSIS_RESIDENT:
                ok = flow_resident__(flow, t->string) != t->negated;
                break;
            }
        }
        if (ok) {
            return true;
        }
    }
    return false;
}
