/* ovnic: the symbol table of the OVN logical-flow language, as of OVN 23.03.
 *
 * A symbol is one of:
 *
 *   - a field (SYMTAB_FIELD): a packet header or metadata field with a width in bits,
 *     e.g. "ip4.dst" (32 bits) or "ct_label" (128 bits).  The string fields "inport"
 *     and "outport" have width 0 and hold logical port names.
 *   - a subfield (SYMTAB_SUBFIELD): bits [parent_ofs, parent_ofs + width) of a field,
 *     e.g. "vlan.vid" is vlan.tci[0..11], "ct.est" is ct_state[1], "reg0" is
 *     xxreg0[96..127].
 *   - a predicate (SYMTAB_PREDICATE): a 1-bit name for a Boolean expression, e.g. "ip4"
 *     expands to "eth.type == 0x800", "tcp" to "ip.proto == 6".
 *
 * Any symbol may have prerequisites: an expression that is implicitly ANDed whenever
 * the symbol is used ("tcp.dst" requires "tcp", "ip.proto" requires "ip").
 *
 * Every field is stored in one of the storage fields of enum symtab_field_id.  Those
 * are what the normalised match IR (expr.h) speaks of.  The logical registers are
 * stored as ten 32-bit fields reg0..reg9; xxreg0, xxreg1 and xreg4 are views over
 * several of them (xxreg0 is reg0..reg3, reg0 supplying its most significant bits).
 *
 * Symbols 23.03 defines are all here, and only those: the registers are reg0..reg9,
 * xreg0..xreg4 and xxreg0..xxreg1, as in OVN (reg10..reg15 hold OVN's own metadata). */
#ifndef OVNIC_CONTROLLER_SYMTAB_H
#define OVNIC_CONTROLLER_SYMTAB_H 1

#include <stdbool.h>
#include <stddef.h>

#include "dpu/controller/lex.h"
#include "shared/util/hmap.h"

/* Storage fields, in the order used for the terms of a normalised match. */
enum symtab_field_id {
    SYMTAB_F_INPORT,
    SYMTAB_F_OUTPORT,
    SYMTAB_F_REG0,
    SYMTAB_F_REG1,
    SYMTAB_F_REG2,
    SYMTAB_F_REG3,
    SYMTAB_F_REG4,
    SYMTAB_F_REG5,
    SYMTAB_F_REG6,
    SYMTAB_F_REG7,
    SYMTAB_F_REG8,
    SYMTAB_F_REG9,
    SYMTAB_F_XXREG0, /* View: reg0..reg3.  Never appears in the IR. */
    SYMTAB_F_XXREG1, /* View: reg4..reg7.  Never appears in the IR. */
    SYMTAB_F_XREG4,  /* View: reg8..reg9.  Never appears in the IR. */
    SYMTAB_F_FLAGS,
    SYMTAB_F_PKT_MARK,
    SYMTAB_F_CT_STATE,
    SYMTAB_F_CT_MARK,
    SYMTAB_F_CT_LABEL,
    SYMTAB_F_ETH_SRC,
    SYMTAB_F_ETH_DST,
    SYMTAB_F_ETH_TYPE,
    SYMTAB_F_VLAN_TCI,
    SYMTAB_F_IP_PROTO,
    SYMTAB_F_IP_DSCP,
    SYMTAB_F_IP_ECN,
    SYMTAB_F_IP_TTL,
    SYMTAB_F_IP_FRAG,
    SYMTAB_F_IP4_SRC,
    SYMTAB_F_IP4_DST,
    SYMTAB_F_IP6_SRC,
    SYMTAB_F_IP6_DST,
    SYMTAB_F_IP6_LABEL,
    SYMTAB_F_ARP_OP,
    SYMTAB_F_ARP_SPA,
    SYMTAB_F_ARP_TPA,
    SYMTAB_F_ARP_SHA,
    SYMTAB_F_ARP_THA,
    SYMTAB_F_ICMP4_TYPE,
    SYMTAB_F_ICMP4_CODE,
    SYMTAB_F_ICMP6_TYPE,
    SYMTAB_F_ICMP6_CODE,
    SYMTAB_F_ND_TARGET,
    SYMTAB_F_ND_SLL,
    SYMTAB_F_ND_TLL,
    SYMTAB_F_TCP_SRC,
    SYMTAB_F_TCP_DST,
    SYMTAB_F_TCP_FLAGS,
    SYMTAB_F_UDP_SRC,
    SYMTAB_F_UDP_DST,
    SYMTAB_F_SCTP_SRC,
    SYMTAB_F_SCTP_DST,
    SYMTAB_F_ICMP4_FRAG_MTU, /* Actions only. */
    SYMTAB_F_ICMP6_FRAG_MTU, /* Actions only. */
    SYMTAB_N_FIELDS
};

/* Level of measurement (see ovn-sb(5)): nominal symbols may only be tested for
 * equality; ordinal ones allow subscripts and < <= > >=; Boolean is for predicates
 * over ordinal fields only. */
enum symtab_level {
    SYMTAB_L_NOMINAL,
    SYMTAB_L_BOOLEAN,
    SYMTAB_L_ORDINAL,
};

/* Who may assign to a symbol in actions. */
enum symtab_rw {
    SYMTAB_RO,           /* Read-only. */
    SYMTAB_RW,           /* Writable by any action. */
    SYMTAB_RW_CT_COMMIT, /* Writable only inside ct_commit { ... }. */
};

struct symtab_field {
    enum symtab_field_id id;
    const char *name;          /* Name used in the IR text form. */
    int width;                 /* Bits; 0 for string fields. */
    enum lex_format format;    /* How values are written in the IR text form. */
    bool matchable;            /* False for fields usable only in actions. */
    enum symtab_field_id view; /* For register views: the first register covered. */
    int n_view;                /* For register views: how many registers (else 0). */
};

enum symtab_kind {
    SYMTAB_FIELD,
    SYMTAB_SUBFIELD,
    SYMTAB_PREDICATE,
};

struct symtab_symbol {
    const char *name;
    enum symtab_kind kind;
    int width;               /* Bits: 0 for string fields, 1 for predicates. */
    enum symtab_level level; /* Computed for predicates from their expansion. */
    enum symtab_rw rw;
    const char *prereqs; /* Expression text, or NULL. */

    const struct symtab_field *field;   /* SYMTAB_FIELD: where it is stored. */
    const struct symtab_symbol *parent; /* SYMTAB_SUBFIELD: the containing field. */
    int parent_ofs;                     /* SYMTAB_SUBFIELD: its lowest bit there. */
    const char *expansion;              /* SYMTAB_PREDICATE: expression text. */

    struct hmap_node node; /* In struct symtab's index.  Private. */
};

struct symtab;

/** Builds the OVN 23.03 symbol table.  On success stores it in '*symtabp' (caller owns;
 * free with symtab_destroy()).  The table is immutable and may be shared by any
 * number of parsers.  Errors: -ENOMEM. */
int symtab_create(struct symtab **symtabp);

/** Frees 'symtab'.  NULL is a no-op. */
void symtab_destroy(struct symtab *symtab);

/** Returns the symbol called 'name', or NULL.  Borrowed: valid until the table is
 * destroyed. */
const struct symtab_symbol *symtab_lookup(const struct symtab *symtab, const char *name);

/** Number of symbols, and the i-th in definition order (i < symtab_count()). */
size_t symtab_count(const struct symtab *symtab);
const struct symtab_symbol *symtab_symbol_at(const struct symtab *symtab, size_t i);

/** Storage field 'id' (must be < SYMTAB_N_FIELDS).  Static data. */
const struct symtab_field *symtab_field_get(enum symtab_field_id id);

/** True if 'field' holds a logical port name rather than an integer. */
static inline bool
symtab_field_is_string(const struct symtab_field *field)
{
    return field->width == 0;
}

#endif /* OVNIC_CONTROLLER_SYMTAB_H */
