/* ovnic: OVN logical-flow match expressions, and their normalised IR.
 *
 * A Logical_Flow match such as
 *
 *     inport == "lp1" && ip4.dst == 10.0.0.0/24 && tcp.dst == {80, 443}
 *
 * goes through three steps, as in ovn-controller:
 *
 *   1. expr_parse(): text -> syntax tree.  Address sets ($name) and port groups
 *      (@name) are resolved here through the caller's struct expr_lookup, "!" is pushed
 *      down to the comparisons, and every rule of the language about types, widths and
 *      levels of measurement is checked.
 *   2. expr_annotate(): subfields become their fields ("vlan.vid" -> vlan.tci[0..11]),
 *      predicates are expanded ("tcp" -> "ip.proto == 6"), and every symbol's
 *      prerequisites are ANDed in ("tcp.dst" requires "tcp", which requires "ip").
 *   3. expr_normalize(): "!=", "<", "<=", ">", ">=" become masked equalities, and the
 *      whole expression becomes a disjunction of conjunctions of (field, value, mask)
 *      terms over the storage fields of symtab.h: a struct expr_match_list.
 *      Contradictory conjunctions ("ip4 && ip6") are removed, as are duplicates.
 *
 * expr_compile() does all three.  Each step reports failures through an optional
 * struct ovnic_err whose 'object' is "match", 'message' a static category such as
 * "syntax error" or "unknown field", and 'detail' says where, e.g.
 * "at `&&' (column 12): expecting field or constant".  No input can crash these
 * functions: text that is not a valid match gives -EINVAL.
 *
 * The IR has a stable text form (expr_match_list_format()), used by golden tests:
 *
 *     eth.type=0x800 ip.proto=0x6 ip4.dst=10.0.0.0/24 tcp.dst=0x50
 *
 * one conjunction per "||"-separated group, terms in storage-field order, a mask shown
 * only when not all ones.  "1" is the list holding one empty conjunction (matches
 * everything), "0" the empty list (matches nothing). */
#ifndef OVNIC_CONTROLLER_EXPR_H
#define OVNIC_CONTROLLER_EXPR_H 1

#include <stdbool.h>
#include <stddef.h>

#include "dpu/controller/lex.h"
#include "dpu/controller/symtab.h"
#include "shared/util/err.h"

/* ----- Syntax trees. ----- */

/** A parsed match expression.  Opaque; free with expr_destroy(). */
struct expr;

/** Resolves the names a match refers to.  Every member may be NULL: a reference that
 * cannot be resolved is an error ("unknown address set"), except is_chassis_resident()
 * (see below). */
struct expr_lookup {
    /** Looks up address set 'name' (written "$name"; "$pg_ip4" and "$pg_ip6" are the
     * address sets of a port group).  On success returns 0 and stores the set's
     * addresses in '*values' / '*n_values' (borrowed by the parser only until the
     * callback returns to it; it copies them).  Returns -ENOENT if there is no such
     * set, or another negative errno, which fails the parse. */
    int (*address_set)(void *aux, const char *name, const char *const **values,
                       size_t *n_values);

    /** Looks up port group 'name' (written "@name"), returning its logical port
     * names, as address_set() does.  The callback decides how names map to SB
     * Port_Group rows (for example "<datapath key>_<name>", then "<name>"). */
    int (*port_group)(void *aux, const char *name, const char *const **values,
                      size_t *n_values);

    /** Returns whether logical port 'port' resides on this chassis, for
     * is_chassis_resident("port").  If NULL, the condition stays in the IR as a term
     * of type EXPR_TERM_CHASSIS_RESIDENT, for the caller to decide later. */
    bool (*is_chassis_resident)(void *aux, const char *port);

    void *aux;
};

/** Names a match referred to, so that a change to one of them can re-parse exactly the
 * flows that use it.  Names are recorded even when the lookup fails. */
struct expr_refs {
    char **address_sets; /* Without "$". */
    size_t n_address_sets;
    char **port_groups; /* Without "@". */
    size_t n_port_groups;
    char **resident_ports; /* Arguments of is_chassis_resident(). */
    size_t n_resident_ports;
};

/** Initialises 'refs' as empty. */
void expr_refs_init(struct expr_refs *refs);

/** Frees what 'refs' holds and leaves it empty.  NULL is a no-op. */
void expr_refs_destroy(struct expr_refs *refs);

/** Parses match expression 's' with the symbols of 'symtab'.  'lookup' (may be NULL)
 * resolves "$" and "@" references and is_chassis_resident(); 'refs' (may be NULL)
 * receives the names referred to, added to what it holds.  On success stores the tree
 * in '*exprp' (caller owns; free with expr_destroy()).
 *
 * Errors: -EINVAL (invalid match; 'err' says why), -ENOMEM, or a negative errno
 * returned by a lookup callback. */
int expr_parse(const struct symtab *symtab, const char *s,
               const struct expr_lookup *lookup, struct expr_refs *refs,
               struct expr **exprp, struct ovnic_err *err);

/** Expands the subfields, predicates and prerequisites of 'expr' (borrowed), which
 * expr_parse() made with 'symtab'.  On success stores a new tree that refers only to
 * fields in '*annotatedp' (caller owns; free with expr_destroy()).
 * Errors: -ENOMEM, -EINVAL (a symbol's expansion is invalid; not with the built-in
 * table). */
int expr_annotate(const struct symtab *symtab, const struct expr *expr,
                  struct expr **annotatedp, struct ovnic_err *err);

/** Frees 'expr'.  NULL is a no-op. */
void expr_destroy(struct expr *expr);

/** Returns 'expr' as text that parses back to an equivalent tree, e.g.
 * "ip4.dst == 10.0.0.0/24 && tcp.dst == 0x50".  Caller owns; free with free().
 * Returns NULL if memory runs out. */
char *expr_format(const struct expr *expr);

/* ----- Normalised IR. ----- */

enum expr_term_type {
    EXPR_TERM_FIELD,            /* (field & mask) == value. */
    EXPR_TERM_STRING,           /* inport or outport == string. */
    EXPR_TERM_CHASSIS_RESIDENT, /* is_chassis_resident(string) != negated. */
};

struct expr_term {
    enum expr_term_type type;
    const struct symtab_field *field; /* FIELD, STRING.  Never a register view. */
    lex_u128 value;                   /* FIELD: bit 0 is the field's lowest bit. */
    lex_u128 mask;                    /* FIELD: nonzero; 'value & ~mask' is 0. */
    const char *string;               /* STRING, CHASSIS_RESIDENT: a port name. */
    bool negated;                     /* CHASSIS_RESIDENT. */
};

/** A conjunction: all terms must hold.  Terms are sorted by field (string fields and
 * then conditions last) and at most one term names each field or condition port. */
struct expr_match {
    struct expr_term *terms;
    size_t n_terms;
};

/** A disjunction: a packet matches if any of 'matches' holds.  Sorted, duplicate-free.
 * Strings pointed to by terms belong to the list. */
struct expr_match_list {
    struct expr_match *matches;
    size_t n_matches;
    char **strings; /* Private: storage for the terms' strings. */
    size_t n_strings;
};

/** Default limit on the number of conjunctions one match may expand to. */
#define EXPR_MAX_MATCHES_DEFAULT 65536

/** Normalises 'annotated' (borrowed; made by expr_annotate()) into a match list.  On
 * success stores it in '*listp' (caller owns; free with expr_match_list_destroy()).
 * An expression that can never be true gives an empty list, not an error.
 * Errors: -E2BIG (more than 'max_matches' conjunctions; 0 means the default),
 * -ENOMEM, -EINVAL (not an annotated tree). */
int expr_normalize(const struct expr *annotated, size_t max_matches,
                   struct expr_match_list **listp, struct ovnic_err *err);

/** expr_parse(), expr_annotate() and expr_normalize() with the default limit, in one
 * call.  Same arguments and errors as those. */
int expr_compile(const struct symtab *symtab, const char *s,
                 const struct expr_lookup *lookup, struct expr_refs *refs,
                 struct expr_match_list **listp, struct ovnic_err *err);

/** Frees 'list'.  NULL is a no-op. */
void expr_match_list_destroy(struct expr_match_list *list);

/** Returns the text form of 'list' (see the top of this file).  Caller owns; free with
 * free().  Returns NULL if memory runs out. */
char *expr_match_list_format(const struct expr_match_list *list);

/** Writes the text form of one term, e.g. "ip4.dst=10.0.0.0/24", into 'buf'.
 * Returns 'buf'. */
const char *expr_term_format(const struct expr_term *term, char *buf, size_t size);

/* ----- Evaluation against one packet, for tests and tracing. ----- */

struct expr_flow {
    lex_u128 values[SYMTAB_N_FIELDS]; /* Integer fields; register views are ignored. */
    const char *inport;               /* NULL matches no port name. */
    const char *outport;
    /* For conditions left in the IR or tree; NULL means "resides nowhere". */
    bool (*is_chassis_resident)(const void *aux, const char *port);
    const void *aux;
};

/** True if annotated tree 'annotated' is true for 'flow'.  A tree that still names
 * subfields or predicates (not annotated) evaluates to false. */
bool expr_evaluate(const struct expr *annotated, const struct expr_flow *flow);

/** True if some conjunction of 'list' holds for 'flow'. */
bool expr_match_list_evaluate(const struct expr_match_list *list,
                              const struct expr_flow *flow);

#endif /* OVNIC_CONTROLLER_EXPR_H */
