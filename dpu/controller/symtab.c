/* ovnic: the OVN 23.03 logical-flow symbol table. */
#include "dpu/controller/symtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/hash.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(symtab);

#define F_(ID, NAME, WIDTH, FORMAT)              \
    [SYMTAB_F_##ID] = {.id = SYMTAB_F_##ID,      \
                       .name = NAME,             \
                       .width = WIDTH,           \
                       .format = LEX_F_##FORMAT, \
                       .matchable = true}
#define VIEW_(ID, NAME, WIDTH, FIRST, N)            \
    [SYMTAB_F_##ID] = {.id = SYMTAB_F_##ID,         \
                       .name = NAME,                \
                       .width = WIDTH,              \
                       .format = LEX_F_HEXADECIMAL, \
                       .matchable = true,           \
                       .view = SYMTAB_F_##FIRST,    \
                       .n_view = N}

static const struct symtab_field symtab_fields[SYMTAB_N_FIELDS] = {
    F_(INPORT, "inport", 0, HEXADECIMAL),
    F_(OUTPORT, "outport", 0, HEXADECIMAL),
    F_(REG0, "reg0", 32, HEXADECIMAL),
    F_(REG1, "reg1", 32, HEXADECIMAL),
    F_(REG2, "reg2", 32, HEXADECIMAL),
    F_(REG3, "reg3", 32, HEXADECIMAL),
    F_(REG4, "reg4", 32, HEXADECIMAL),
    F_(REG5, "reg5", 32, HEXADECIMAL),
    F_(REG6, "reg6", 32, HEXADECIMAL),
    F_(REG7, "reg7", 32, HEXADECIMAL),
    F_(REG8, "reg8", 32, HEXADECIMAL),
    F_(REG9, "reg9", 32, HEXADECIMAL),
    VIEW_(XXREG0, "xxreg0", 128, REG0, 4),
    VIEW_(XXREG1, "xxreg1", 128, REG4, 4),
    VIEW_(XREG4, "xreg4", 64, REG8, 2),
    F_(FLAGS, "flags", 32, HEXADECIMAL),
    F_(PKT_MARK, "pkt.mark", 32, HEXADECIMAL),
    F_(CT_STATE, "ct_state", 32, HEXADECIMAL),
    F_(CT_MARK, "ct_mark", 32, HEXADECIMAL),
    F_(CT_LABEL, "ct_label", 128, HEXADECIMAL),
    F_(ETH_SRC, "eth.src", 48, ETHERNET),
    F_(ETH_DST, "eth.dst", 48, ETHERNET),
    F_(ETH_TYPE, "eth.type", 16, HEXADECIMAL),
    F_(VLAN_TCI, "vlan.tci", 16, HEXADECIMAL),
    F_(IP_PROTO, "ip.proto", 8, HEXADECIMAL),
    F_(IP_DSCP, "ip.dscp", 6, HEXADECIMAL),
    F_(IP_ECN, "ip.ecn", 2, HEXADECIMAL),
    F_(IP_TTL, "ip.ttl", 8, HEXADECIMAL),
    F_(IP_FRAG, "ip.frag", 2, HEXADECIMAL),
    F_(IP4_SRC, "ip4.src", 32, IPV4),
    F_(IP4_DST, "ip4.dst", 32, IPV4),
    F_(IP6_SRC, "ip6.src", 128, IPV6),
    F_(IP6_DST, "ip6.dst", 128, IPV6),
    F_(IP6_LABEL, "ip6.label", 20, HEXADECIMAL),
    F_(ARP_OP, "arp.op", 16, HEXADECIMAL),
    F_(ARP_SPA, "arp.spa", 32, IPV4),
    F_(ARP_TPA, "arp.tpa", 32, IPV4),
    F_(ARP_SHA, "arp.sha", 48, ETHERNET),
    F_(ARP_THA, "arp.tha", 48, ETHERNET),
    F_(ICMP4_TYPE, "icmp4.type", 8, HEXADECIMAL),
    F_(ICMP4_CODE, "icmp4.code", 8, HEXADECIMAL),
    F_(ICMP6_TYPE, "icmp6.type", 8, HEXADECIMAL),
    F_(ICMP6_CODE, "icmp6.code", 8, HEXADECIMAL),
    F_(ND_TARGET, "nd.target", 128, IPV6),
    F_(ND_SLL, "nd.sll", 48, ETHERNET),
    F_(ND_TLL, "nd.tll", 48, ETHERNET),
    F_(TCP_SRC, "tcp.src", 16, HEXADECIMAL),
    F_(TCP_DST, "tcp.dst", 16, HEXADECIMAL),
    F_(TCP_FLAGS, "tcp.flags", 12, HEXADECIMAL),
    F_(UDP_SRC, "udp.src", 16, HEXADECIMAL),
    F_(UDP_DST, "udp.dst", 16, HEXADECIMAL),
    F_(SCTP_SRC, "sctp.src", 16, HEXADECIMAL),
    F_(SCTP_DST, "sctp.dst", 16, HEXADECIMAL),
    [SYMTAB_F_ICMP4_FRAG_MTU] = {.id = SYMTAB_F_ICMP4_FRAG_MTU,
                                 .name = "icmp4.frag_mtu",
                                 .width = 16,
                                 .format = LEX_F_DECIMAL},
    [SYMTAB_F_ICMP6_FRAG_MTU] = {.id = SYMTAB_F_ICMP6_FRAG_MTU,
                                 .name = "icmp6.frag_mtu",
                                 .width = 32,
                                 .format = LEX_F_DECIMAL},
};

/* One symbol definition. */
struct symtab_def {
    const char *name;
    enum symtab_kind kind;
    enum symtab_field_id field; /* FIELD. */
    enum symtab_level level;    /* FIELD. */
    enum symtab_rw rw;          /* FIELD, and SUBFIELD of a writable field. */
    const char *parent;         /* SUBFIELD. */
    int ofs;                    /* SUBFIELD. */
    int width;                  /* SUBFIELD. */
    const char *expansion;      /* PREDICATE. */
    const char *prereqs;
};

/* Fields: ordinal (maskable bit by bit) or nominal, writable by actions or not. */
#define FIELD_(NAME, ID, LEVEL, RW, PREREQS)                        \
    {                                                               \
        .name = NAME, .kind = SYMTAB_FIELD, .field = SYMTAB_F_##ID, \
        .level = SYMTAB_L_##LEVEL, .rw = RW, .prereqs = PREREQS     \
    }
#define ORD(NAME, ID, PREREQS) FIELD_(NAME, ID, ORDINAL, SYMTAB_RW, PREREQS)
#define ORD_RO(NAME, ID, PREREQS) FIELD_(NAME, ID, ORDINAL, SYMTAB_RO, PREREQS)
#define ORD_CT(NAME, ID) FIELD_(NAME, ID, ORDINAL, SYMTAB_RW_CT_COMMIT, NULL)
#define NOM(NAME, ID, PREREQS) FIELD_(NAME, ID, NOMINAL, SYMTAB_RW, PREREQS)
#define NOM_RO(NAME, ID, PREREQS) FIELD_(NAME, ID, NOMINAL, SYMTAB_RO, PREREQS)
/* Subfield NAME is bits LOW..HIGH of field PARENT. */
#define SUB(NAME, PARENT, LOW, HIGH, PREREQS)                                \
    {                                                                        \
        .name = NAME, .kind = SYMTAB_SUBFIELD, .parent = PARENT, .ofs = LOW, \
        .width = (HIGH) - (LOW) + 1, .prereqs = PREREQS                      \
    }
/* Predicate NAME stands for expression EXPANSION. */
#define PRED(NAME, EXPANSION)                                          \
    {                                                                  \
        .name = NAME, .kind = SYMTAB_PREDICATE, .expansion = EXPANSION \
    }

static const struct symtab_def symtab_defs[] = {
    /* Logical ports. */
    NOM("inport", INPORT, NULL),
    NOM("outport", OUTPORT, NULL),

    /* Logical registers: xxregN overlays reg(4N)..reg(4N+3), the lowest-numbered
     * register holding the most significant bits; xregN overlays two. */
    ORD("xxreg0", XXREG0, NULL),
    ORD("xxreg1", XXREG1, NULL),
    SUB("xreg0", "xxreg0", 64, 127, NULL),
    SUB("xreg1", "xxreg0", 0, 63, NULL),
    SUB("xreg2", "xxreg1", 64, 127, NULL),
    SUB("xreg3", "xxreg1", 0, 63, NULL),
    ORD("xreg4", XREG4, NULL),
    SUB("reg0", "xxreg0", 96, 127, NULL),
    SUB("reg1", "xxreg0", 64, 95, NULL),
    SUB("reg2", "xxreg0", 32, 63, NULL),
    SUB("reg3", "xxreg0", 0, 31, NULL),
    SUB("reg4", "xxreg1", 96, 127, NULL),
    SUB("reg5", "xxreg1", 64, 95, NULL),
    SUB("reg6", "xxreg1", 32, 63, NULL),
    SUB("reg7", "xxreg1", 0, 31, NULL),
    SUB("reg8", "xreg4", 32, 63, NULL),
    SUB("reg9", "xreg4", 0, 31, NULL),

    /* Logical flags. */
    ORD("flags", FLAGS, NULL),
    SUB("flags.loopback", "flags", 0, 0, NULL),
    SUB("flags.force_snat_for_dnat", "flags", 2, 2, NULL),
    SUB("flags.force_snat_for_lb", "flags", 3, 3, NULL),
    SUB("flags.skip_snat_for_lb", "flags", 9, 9, NULL),
    SUB("flags.use_snat_zone", "flags", 11, 11, NULL),

    /* Connection tracking. */
    ORD_CT("ct_mark", CT_MARK),
    SUB("ct_mark.blocked", "ct_mark", 0, 0, NULL),
    SUB("ct_mark.natted", "ct_mark", 1, 1, NULL),
    SUB("ct_mark.ecmp_reply_port", "ct_mark", 16, 31, NULL),
    SUB("ct_mark.skip_snat", "ct_mark", 2, 2, NULL),
    SUB("ct_mark.force_snat", "ct_mark", 3, 3, NULL),
    ORD_CT("ct_label", CT_LABEL),
    SUB("ct_label.blocked", "ct_label", 0, 0, NULL),
    SUB("ct_label.natted", "ct_label", 1, 1, NULL),
    SUB("ct_label.ecmp_reply_eth", "ct_label", 32, 79, NULL),
    SUB("ct_label.ecmp_reply_port", "ct_label", 80, 95, NULL),
    SUB("ct_label.label", "ct_label", 96, 127, NULL),
    SUB("ct_label.skip_snat", "ct_label", 2, 2, NULL),
    SUB("ct_label.force_snat", "ct_label", 3, 3, NULL),
    ORD_RO("ct_state", CT_STATE, NULL),
    SUB("ct.new", "ct_state", 0, 0, "ct.trk"),
    SUB("ct.est", "ct_state", 1, 1, "ct.trk"),
    SUB("ct.rel", "ct_state", 2, 2, "ct.trk"),
    SUB("ct.rpl", "ct_state", 3, 3, "ct.trk"),
    SUB("ct.inv", "ct_state", 4, 4, "ct.trk"),
    SUB("ct.trk", "ct_state", 5, 5, NULL),
    SUB("ct.snat", "ct_state", 6, 6, "ct.trk"),
    SUB("ct.dnat", "ct_state", 7, 7, "ct.trk"),

    /* Ethernet and VLAN. */
    ORD("eth.src", ETH_SRC, NULL),
    ORD("eth.dst", ETH_DST, NULL),
    NOM_RO("eth.type", ETH_TYPE, NULL),
    PRED("eth.bcast", "eth.dst == ff:ff:ff:ff:ff:ff"),
    SUB("eth.mcast", "eth.dst", 40, 40, NULL),
    PRED("eth.mcastv6", "eth.dst[32..47] == 0x3333"),
    ORD("vlan.tci", VLAN_TCI, NULL),
    PRED("vlan.present", "vlan.tci[12]"),
    SUB("vlan.pcp", "vlan.tci", 13, 15, "vlan.present"),
    SUB("vlan.vid", "vlan.tci", 0, 11, "vlan.present"),

    /* IP. */
    PRED("ip4", "eth.type == 0x800"),
    PRED("ip6", "eth.type == 0x86dd"),
    PRED("ip", "ip4 || ip6"),
    NOM_RO("ip.proto", IP_PROTO, "ip"),
    NOM("ip.dscp", IP_DSCP, "ip"),
    NOM("ip.ecn", IP_ECN, "ip"),
    NOM("ip.ttl", IP_TTL, "ip"),
    ORD("ip4.src", IP4_SRC, "ip4"),
    ORD("ip4.dst", IP4_DST, "ip4"),
    PRED("ip4.src_mcast", "ip4.src[28..31] == 0xe"),
    PRED("ip4.mcast", "eth.mcast && ip4.dst[28..31] == 0xe"),
    PRED("icmp4", "ip4 && ip.proto == 1"),
    NOM("icmp4.type", ICMP4_TYPE, "icmp4"),
    NOM("icmp4.code", ICMP4_CODE, "icmp4"),
    PRED("igmp", "ip4 && ip.proto == 2"),
    ORD("ip6.src", IP6_SRC, "ip6"),
    ORD("ip6.dst", IP6_DST, "ip6"),
    ORD("ip6.label", IP6_LABEL, "ip6"),
    PRED("ip6.mcast_rsvd", "ip6.dst[116..127] == 0xff0 && ip6.dst[0..111] == 0x0"),
    PRED("ip6.mcast_all_nodes", "ip6.dst == ff01::1 || ip6.dst == ff02::1"),
    PRED("ip6.mcast_all_rtrs", "ip6.dst == ff01::2 || ip6.dst == ff02::2 || "
                               "ip6.dst == ff05::2"),
    PRED("ip6.mcast_sol_node", "ip6.dst == ff02::1:ff00:0000/104"),
    PRED("ip6.mcast_flood", "eth.mcastv6 && (ip6.mcast_rsvd || ip6.mcast_all_nodes || "
                            "ip6.mcast_all_rtrs || ip6.mcast_sol_node)"),
    PRED("ip6.mcast", "eth.mcastv6 && ip6.dst[120..127] == 0xff"),
    PRED("icmp6", "ip6 && ip.proto == 58"),
    NOM("icmp6.type", ICMP6_TYPE, "icmp6"),
    NOM("icmp6.code", ICMP6_CODE, "icmp6"),
    PRED("icmp", "icmp4 || icmp6"),
    ORD_RO("ip.frag", IP_FRAG, "ip"),
    PRED("ip.is_frag", "ip.frag[0]"),
    PRED("ip.later_frag", "ip.frag[1]"),
    PRED("ip.first_frag", "ip.is_frag && !ip.later_frag"),

    /* ARP and RARP (which share the ARP fields). */
    PRED("arp", "eth.type == 0x806"),
    NOM("arp.op", ARP_OP, "arp"),
    ORD("arp.spa", ARP_SPA, "arp"),
    ORD("arp.sha", ARP_SHA, "arp"),
    ORD("arp.tpa", ARP_TPA, "arp"),
    ORD("arp.tha", ARP_THA, "arp"),
    PRED("rarp", "eth.type == 0x8035"),
    NOM("rarp.op", ARP_OP, "rarp"),
    ORD("rarp.spa", ARP_SPA, "rarp"),
    ORD("rarp.sha", ARP_SHA, "rarp"),
    ORD("rarp.tpa", ARP_TPA, "rarp"),
    ORD("rarp.tha", ARP_THA, "rarp"),

    /* IPv6 neighbour discovery and multicast listener discovery. */
    PRED("nd", "icmp6.type == {135, 136} && icmp6.code == 0 && ip.ttl == 255"),
    PRED("nd_ns", "icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255"),
    PRED("nd_na", "icmp6.type == 136 && icmp6.code == 0 && ip.ttl == 255"),
    PRED("nd_rs", "icmp6.type == 133 && icmp6.code == 0 && ip.ttl == 255"),
    PRED("nd_ra", "icmp6.type == 134 && icmp6.code == 0 && ip.ttl == 255"),
    ORD("nd.target", ND_TARGET, "nd"),
    ORD("nd.sll", ND_SLL, "nd_ns"),
    ORD("nd.tll", ND_TLL, "nd_na"),
    PRED("mldv1", "ip6.src == fe80::/10 && icmp6.type == {130, 131, 132}"),
    PRED("mldv2", "ip6.dst == ff02::16 && icmp6.type == 143"),

    /* Transport. */
    PRED("tcp", "ip.proto == 6"),
    ORD("tcp.src", TCP_SRC, "tcp"),
    ORD("tcp.dst", TCP_DST, "tcp"),
    ORD_RO("tcp.flags", TCP_FLAGS, "tcp"),
    PRED("udp", "ip.proto == 17"),
    ORD("udp.src", UDP_SRC, "udp"),
    ORD("udp.dst", UDP_DST, "udp"),
    PRED("sctp", "ip.proto == 132"),
    ORD("sctp.src", SCTP_SRC, "sctp"),
    ORD("sctp.dst", SCTP_DST, "sctp"),

    ORD("pkt.mark", PKT_MARK, NULL),

    /* Written by actions only. */
    NOM("icmp4.frag_mtu", ICMP4_FRAG_MTU, NULL),
    NOM("icmp6.frag_mtu", ICMP6_FRAG_MTU, NULL),
};

struct symtab {
    struct hmap index;             /* Of struct symtab_symbol, by name. */
    struct symtab_symbol *symbols; /* ARRAY_SIZE(symtab_defs), in definition order. */
    size_t n;
};

const struct symtab_field *
symtab_field_get(enum symtab_field_id id)
{
    return (unsigned int)id < SYMTAB_N_FIELDS ? &symtab_fields[id] : NULL;
}

const struct symtab_symbol *
symtab_lookup(const struct symtab *symtab, const char *name)
{
    const struct symtab_symbol *sym;
    HMAP_FOR_EACH_WITH_HASH (sym, node, hash_string(name, 0), &symtab->index) {
        if (!strcmp(sym->name, name)) {
            return sym;
        }
    }
    return NULL;
}

size_t
symtab_count(const struct symtab *symtab)
{
    return symtab->n;
}

const struct symtab_symbol *
symtab_symbol_at(const struct symtab *symtab, size_t i)
{
    return i < symtab->n ? &symtab->symbols[i] : NULL;
}

/* A predicate is nominal if its expansion names any nominal symbol, otherwise
 * Boolean.  Every name in an expansion is defined before the predicate. */
static enum symtab_level
symtab_predicate_level__(const struct symtab *symtab, const char *expansion)
{
    enum symtab_level level = SYMTAB_L_BOOLEAN;
    struct lexer lexer;

    lexer_init(&lexer, expansion);
    while (lexer_get(&lexer) != LEX_T_END && lexer.token.type != LEX_T_ERROR) {
        if (lexer.token.type == LEX_T_ID) {
            const struct symtab_symbol *sym = symtab_lookup(symtab, lexer.token.s);
            if (sym && sym->level == SYMTAB_L_NOMINAL) {
                level = SYMTAB_L_NOMINAL;
            }
        }
    }
    lexer_destroy(&lexer);
    return level;
}

int
symtab_create(struct symtab **symtabp)
{
    struct symtab *symtab = calloc(1, sizeof *symtab);
    if (!symtab) {
        return -ENOMEM;
    }
    symtab->symbols = calloc(ARRAY_SIZE(symtab_defs), sizeof *symtab->symbols);
    if (!symtab->symbols) {
        free(symtab);
        return -ENOMEM;
    }
    hmap_init(&symtab->index);

    for (size_t i = 0; i < ARRAY_SIZE(symtab_defs); i++) {
        const struct symtab_def *def = &symtab_defs[i];
        struct symtab_symbol *sym = &symtab->symbols[i];

        sym->name = def->name;
        sym->kind = def->kind;
        sym->prereqs = def->prereqs;
        switch (def->kind) {
        case SYMTAB_FIELD:
            sym->field = &symtab_fields[def->field];
            sym->width = sym->field->width;
            sym->level = def->level;
            sym->rw = def->rw;
            break;
        case SYMTAB_SUBFIELD:
            sym->parent = symtab_lookup(symtab, def->parent);
            /* The static table defines every parent first, as a field. */
            if (!sym->parent || sym->parent->kind != SYMTAB_FIELD) {
                OLOG_ERR("symbol %s: bad parent %s", def->name, def->parent);
                symtab_destroy(symtab);
                return -EINVAL;
            }
            sym->parent_ofs = def->ofs;
            sym->width = def->width;
            sym->level = sym->parent->level;
            sym->rw = sym->parent->rw;
            break;
        case SYMTAB_PREDICATE:
            sym->expansion = def->expansion;
            sym->width = 1;
            sym->level = symtab_predicate_level__(symtab, def->expansion);
            sym->rw = SYMTAB_RO;
            break;
        }
        hmap_insert(&symtab->index, &sym->node, hash_string(sym->name, 0));
        symtab->n++;
    }
    *symtabp = symtab;
    return 0;
}

void
symtab_destroy(struct symtab *symtab)
{
    if (symtab) {
        hmap_destroy(&symtab->index);
        free(symtab->symbols);
        free(symtab);
    }
}
