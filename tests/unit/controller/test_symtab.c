/* Unit tests for the OVN 23.03 symbol table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/controller/symtab.h"

static int
setup(void **state)
{
    struct symtab *symtab;
    if (symtab_create(&symtab)) {
        return -1;
    }
    *state = symtab;
    return 0;
}

static int
teardown(void **state)
{
    symtab_destroy(*state);
    symtab_destroy(NULL);
    return 0;
}

static const struct symtab_symbol *
get(void **state, const char *name)
{
    const struct symtab_symbol *sym = symtab_lookup(*state, name);
    if (!sym) {
        fail_msg("no symbol %s", name);
    }
    return sym;
}

/* Every symbol OVN 23.03 defines for matches, and nothing else. */
static void
test_symtab_names(void **state)
{
    static const char *const names[] = {
        "inport",
        "outport",
        "xxreg0",
        "xxreg1",
        "xreg0",
        "xreg1",
        "xreg2",
        "xreg3",
        "xreg4",
        "reg0",
        "reg1",
        "reg2",
        "reg3",
        "reg4",
        "reg5",
        "reg6",
        "reg7",
        "reg8",
        "reg9",
        "flags",
        "flags.loopback",
        "flags.force_snat_for_dnat",
        "flags.force_snat_for_lb",
        "flags.skip_snat_for_lb",
        "flags.use_snat_zone",
        "ct_mark",
        "ct_mark.blocked",
        "ct_mark.natted",
        "ct_mark.ecmp_reply_port",
        "ct_mark.skip_snat",
        "ct_mark.force_snat",
        "ct_label",
        "ct_label.blocked",
        "ct_label.natted",
        "ct_label.ecmp_reply_eth",
        "ct_label.ecmp_reply_port",
        "ct_label.label",
        "ct_label.skip_snat",
        "ct_label.force_snat",
        "ct_state",
        "ct.new",
        "ct.est",
        "ct.rel",
        "ct.rpl",
        "ct.inv",
        "ct.trk",
        "ct.snat",
        "ct.dnat",
        "eth.src",
        "eth.dst",
        "eth.type",
        "eth.bcast",
        "eth.mcast",
        "eth.mcastv6",
        "vlan.tci",
        "vlan.present",
        "vlan.pcp",
        "vlan.vid",
        "ip4",
        "ip6",
        "ip",
        "ip.proto",
        "ip.dscp",
        "ip.ecn",
        "ip.ttl",
        "ip4.src",
        "ip4.dst",
        "ip4.src_mcast",
        "ip4.mcast",
        "icmp4",
        "icmp4.type",
        "icmp4.code",
        "igmp",
        "ip6.src",
        "ip6.dst",
        "ip6.label",
        "ip6.mcast_rsvd",
        "ip6.mcast_all_nodes",
        "ip6.mcast_all_rtrs",
        "ip6.mcast_sol_node",
        "ip6.mcast_flood",
        "ip6.mcast",
        "icmp6",
        "icmp6.type",
        "icmp6.code",
        "icmp",
        "ip.frag",
        "ip.is_frag",
        "ip.later_frag",
        "ip.first_frag",
        "arp",
        "arp.op",
        "arp.spa",
        "arp.sha",
        "arp.tpa",
        "arp.tha",
        "rarp",
        "rarp.op",
        "rarp.spa",
        "rarp.sha",
        "rarp.tpa",
        "rarp.tha",
        "nd",
        "nd_ns",
        "nd_na",
        "nd_rs",
        "nd_ra",
        "nd.target",
        "nd.sll",
        "nd.tll",
        "mldv1",
        "mldv2",
        "tcp",
        "tcp.src",
        "tcp.dst",
        "tcp.flags",
        "udp",
        "udp.src",
        "udp.dst",
        "sctp",
        "sctp.src",
        "sctp.dst",
        "pkt.mark",
        "icmp4.frag_mtu",
        "icmp6.frag_mtu",
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        get(state, names[i]);
    }
    assert_int_equal(symtab_count(*state), sizeof names / sizeof *names);

    /* Later OVN releases, or OVN's own metadata registers: not in 23.03. */
    static const char *const absent[] = {
        "reg10",
        "reg15",
        "xreg5",
        "xxreg2",
        "flags.localnet",
        "flags.icmp_snat",
        "nd_ns_mcast",
        "ct_mark.obs_stage",
        "ct_label.obs_point_id",
        "dhcpv4",
        "",
    };
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++) {
        assert_null(symtab_lookup(*state, absent[i]));
    }
    assert_null(symtab_symbol_at(*state, symtab_count(*state)));
}

static void
test_symtab_fields(void **state)
{
    const struct symtab_symbol *s = get(state, "inport");
    assert_int_equal(s->kind, SYMTAB_FIELD);
    assert_int_equal(s->width, 0);
    assert_int_equal(s->level, SYMTAB_L_NOMINAL);
    assert_true(symtab_field_is_string(s->field));

    s = get(state, "eth.type");
    assert_int_equal(s->width, 16);
    assert_int_equal(s->level, SYMTAB_L_NOMINAL);
    assert_int_equal(s->rw, SYMTAB_RO);

    s = get(state, "ip4.dst");
    assert_int_equal(s->width, 32);
    assert_int_equal(s->level, SYMTAB_L_ORDINAL);
    assert_string_equal(s->prereqs, "ip4");
    assert_int_equal(s->field->id, SYMTAB_F_IP4_DST);
    assert_int_equal(s->field->format, LEX_F_IPV4);

    s = get(state, "tcp.dst");
    assert_string_equal(s->prereqs, "tcp");
    assert_int_equal(s->rw, SYMTAB_RW);

    s = get(state, "ct_mark");
    assert_int_equal(s->rw, SYMTAB_RW_CT_COMMIT);
    assert_int_equal(get(state, "ct_mark.blocked")->rw, SYMTAB_RW_CT_COMMIT);
    assert_int_equal(get(state, "ct.est")->rw, SYMTAB_RO);

    /* Widths as OpenFlow defines them. */
    assert_int_equal(get(state, "ip.frag")->width, 2);
    assert_int_equal(get(state, "ip.dscp")->width, 6);
    assert_int_equal(get(state, "ip.ecn")->width, 2);
    assert_int_equal(get(state, "ip6.label")->width, 20);
    assert_int_equal(get(state, "tcp.flags")->width, 12);
    assert_int_equal(get(state, "ct_label")->width, 128);
    assert_int_equal(get(state, "xxreg1")->width, 128);
    assert_int_equal(get(state, "xreg4")->width, 64);

    /* RARP shares ARP's storage. */
    assert_ptr_equal(get(state, "rarp.sha")->field, get(state, "arp.sha")->field);
    assert_string_equal(get(state, "rarp.sha")->prereqs, "rarp");

    /* Fields usable only in actions. */
    assert_false(get(state, "icmp4.frag_mtu")->field->matchable);
    assert_true(get(state, "icmp4.type")->field->matchable);
}

static void
test_symtab_subfields(void **state)
{
    const struct symtab_symbol *s = get(state, "vlan.vid");
    assert_int_equal(s->kind, SYMTAB_SUBFIELD);
    assert_ptr_equal(s->parent, get(state, "vlan.tci"));
    assert_int_equal(s->parent_ofs, 0);
    assert_int_equal(s->width, 12);
    assert_string_equal(s->prereqs, "vlan.present");

    s = get(state, "reg0");
    assert_ptr_equal(s->parent, get(state, "xxreg0"));
    assert_int_equal(s->parent_ofs, 96);
    assert_int_equal(s->width, 32);
    s = get(state, "reg7");
    assert_ptr_equal(s->parent, get(state, "xxreg1"));
    assert_int_equal(s->parent_ofs, 0);
    s = get(state, "reg8");
    assert_ptr_equal(s->parent, get(state, "xreg4"));
    assert_int_equal(s->parent_ofs, 32);
    s = get(state, "xreg1");
    assert_ptr_equal(s->parent, get(state, "xxreg0"));
    assert_int_equal(s->parent_ofs, 0);
    assert_int_equal(s->width, 64);

    s = get(state, "ct.trk");
    assert_int_equal(s->parent_ofs, 5);
    assert_null(s->prereqs);
    assert_string_equal(get(state, "ct.new")->prereqs, "ct.trk");
    assert_int_equal(get(state, "ct.dnat")->parent_ofs, 7);

    s = get(state, "ct_label.ecmp_reply_eth");
    assert_int_equal(s->parent_ofs, 32);
    assert_int_equal(s->width, 48);
    s = get(state, "ct_mark.ecmp_reply_port");
    assert_int_equal(s->parent_ofs, 16);
    assert_int_equal(s->width, 16);
    assert_int_equal(get(state, "flags.skip_snat_for_lb")->parent_ofs, 9);
    assert_int_equal(get(state, "flags.use_snat_zone")->parent_ofs, 11);
    assert_int_equal(get(state, "eth.mcast")->parent_ofs, 40);
}

static void
test_symtab_predicates(void **state)
{
    const struct symtab_symbol *s = get(state, "tcp");
    assert_int_equal(s->kind, SYMTAB_PREDICATE);
    assert_int_equal(s->width, 1);
    assert_string_equal(s->expansion, "ip.proto == 6");

    /* A predicate over a nominal field is nominal, otherwise Boolean. */
    static const char *const nominal[] = {
        "ip4",   "ip6",   "ip",    "icmp4", "icmp6", "icmp",  "igmp", "arp", "rarp", "nd",
        "nd_ns", "nd_na", "nd_rs", "nd_ra", "mldv1", "mldv2", "tcp",  "udp", "sctp",
    };
    static const char *const boolean[] = {
        "eth.bcast",           "eth.mcastv6",        "vlan.present",
        "ip4.src_mcast",       "ip4.mcast",          "ip6.mcast_rsvd",
        "ip6.mcast_all_nodes", "ip6.mcast_all_rtrs", "ip6.mcast_sol_node",
        "ip6.mcast_flood",     "ip6.mcast",          "ip.is_frag",
        "ip.later_frag",       "ip.first_frag",
    };
    for (size_t i = 0; i < sizeof nominal / sizeof *nominal; i++) {
        assert_int_equal(get(state, nominal[i])->level, SYMTAB_L_NOMINAL);
    }
    for (size_t i = 0; i < sizeof boolean / sizeof *boolean; i++) {
        assert_int_equal(get(state, boolean[i])->level, SYMTAB_L_BOOLEAN);
    }
}

static void
test_symtab_field_table(void **state)
{
    (void)state;
    for (int i = 0; i < SYMTAB_N_FIELDS; i++) {
        const struct symtab_field *f = symtab_field_get(i);
        assert_non_null(f);
        assert_int_equal(f->id, i);
        assert_non_null(f->name);
        assert_true(f->width >= 0 && f->width <= 128);
        if (f->n_view) {
            assert_int_equal(f->width, 32 * f->n_view);
        }
    }
    assert_null(symtab_field_get(SYMTAB_N_FIELDS));
    assert_null(symtab_field_get(-1));
    assert_int_equal(symtab_field_get(SYMTAB_F_XXREG1)->view, SYMTAB_F_REG4);
    assert_string_equal(symtab_field_get(SYMTAB_F_REG9)->name, "reg9");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symtab_names),
        cmocka_unit_test(test_symtab_fields),
        cmocka_unit_test(test_symtab_subfields),
        cmocka_unit_test(test_symtab_predicates),
        cmocka_unit_test(test_symtab_field_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
