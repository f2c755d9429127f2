/* Unit tests for OVN match expressions -> normalised IR. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/controller/expr.h"
#include "dpu/controller/symtab.h"

/* ----- A lookup with the address sets and port groups the tests use.  They mirror
 * the SB rows northd 23.03 wrote for the topology of northd-23.03.golden. ----- */

static const char *const as1[] = {"10.0.0.11", "10.0.0.12"};
static const char *const pg1_ip6[] = {"fd00::11"};
static const char *const svc_mac[] = {"fe:6a:8e:23:35:0f"};
static const char *const lb_ip4[] = {"10.0.0.100"};
static const char *const mixed[] = {"10.0.0.1", "not-an-address", "10.0.0.2 junk", "",
                                    "10.1.0.0/16"};
static const char *const pg1[] = {"lp1", "lp2"};

struct lookup_aux {
    int address_set_calls;
    int port_group_calls;
    int fail_with; /* If nonzero, every lookup returns it. */
};

static int
test_address_set(void *aux_, const char *name, const char *const **values, size_t *n)
{
    struct lookup_aux *aux = aux_;
    aux->address_set_calls++;
    if (aux->fail_with) {
        return aux->fail_with;
    }
#define SET(NAME, ARRAY)                   \
    if (!strcmp(name, NAME)) {             \
        *values = ARRAY;                   \
        *n = sizeof ARRAY / sizeof *ARRAY; \
        return 0;                          \
    }
    SET("as1", as1);
    SET("pg1_ip4", as1);
    SET("pg1_ip6", pg1_ip6);
    SET("svc_monitor_mac", svc_mac);
    SET("_rtr_lb_4_ip4", lb_ip4);
    SET("mixed", mixed);
#undef SET
    if (!strcmp(name, "empty")) {
        *values = NULL;
        *n = 0;
        return 0;
    }
    return -ENOENT;
}

static int
test_port_group(void *aux_, const char *name, const char *const **values, size_t *n)
{
    struct lookup_aux *aux = aux_;
    aux->port_group_calls++;
    if (aux->fail_with) {
        return aux->fail_with;
    }
    if (!strcmp(name, "pg1")) {
        *values = pg1;
        *n = 2;
        return 0;
    } else if (!strcmp(name, "pg_empty")) {
        *values = NULL;
        *n = 0;
        return 0;
    }
    return -ENOENT;
}

struct fixture {
    struct symtab *symtab;
    struct lookup_aux aux;
    struct expr_lookup lookup;
};

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx || symtab_create(&fx->symtab)) {
        free(fx);
        return -1;
    }
    fx->lookup.address_set = test_address_set;
    fx->lookup.port_group = test_port_group;
    fx->lookup.aux = &fx->aux;
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;
    symtab_destroy(fx->symtab);
    free(fx);
    return 0;
}

/* Compiles 's' and returns the IR text (caller frees), failing the test on error. */
static char *
compile(struct fixture *fx, const char *s)
{
    struct ovnic_err err = {0};
    struct expr_match_list *list = NULL;
    int rc = expr_compile(fx->symtab, s, &fx->lookup, NULL, &list, &err);
    if (rc) {
        char buf[400];
        fail_msg("%s: %s", s, ovnic_err_format(&err, buf, sizeof buf));
    }
    char *text = expr_match_list_format(list);
    assert_non_null(text);
    expr_match_list_destroy(list);
    return text;
}

static void
check_ir(struct fixture *fx, const char *s, const char *expected)
{
    char *text = compile(fx, s);
    if (strcmp(text, expected)) {
        fail_msg("match: %s\nexpected: %s\nactual:   %s", s, expected, text);
    }
    free(text);
}

/* ----- Golden cases. ----- */

static void
test_expr_basic(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *match;
        const char *ir;
    } cases[] = {
        {"1", "1"},
        {"0", "0"},
        {"!1", "0"},
        {"!(0)", "1"},
        {"inport == \"lp1\" && eth.src == {00:00:00:00:00:01, 00:00:00:00:00:02}",
         "inport=\"lp1\" eth.src=00:00:00:00:00:01 || "
         "inport=\"lp1\" eth.src=00:00:00:00:00:02"},
        {"ip4.dst == 10.0.0.0/24 && tcp.dst == 80",
         "eth.type=0x800 ip.proto=0x6 ip4.dst=10.0.0.0/24 tcp.dst=0x50"},
        {"ct.est && !ct.rel && !ct.new && !ct.inv && ct.rpl && ct_mark.blocked == 0",
         "ct_state=0x2a/0x3f ct_mark=0x0/0x1"},
        {"ip4 && ip4.dst == $as1 && outport == @pg1",
         "outport=\"lp1\" eth.type=0x800 ip4.dst=10.0.0.11 || "
         "outport=\"lp1\" eth.type=0x800 ip4.dst=10.0.0.12 || "
         "outport=\"lp2\" eth.type=0x800 ip4.dst=10.0.0.11 || "
         "outport=\"lp2\" eth.type=0x800 ip4.dst=10.0.0.12"},
        {"arp.op == 1 && arp.tpa == 10.0.0.1",
         "eth.type=0x806 arp.op=0x1 arp.tpa=10.0.0.1"},
        {"nd_ns && nd.target == fe80::1",
         "eth.type=0x86dd ip.proto=0x3a ip.ttl=0xff icmp6.type=0x87 icmp6.code=0x0 "
         "nd.target=fe80::1"},
        {"ip.ttl == {0, 1} && !ip.later_frag",
         "eth.type=0x800 ip.ttl=0x0 ip.frag=0x0/0x2 || "
         "eth.type=0x800 ip.ttl=0x1 ip.frag=0x0/0x2 || "
         "eth.type=0x86dd ip.ttl=0x0 ip.frag=0x0/0x2 || "
         "eth.type=0x86dd ip.ttl=0x1 ip.frag=0x0/0x2"},
        {"eth.dst[40]", "eth.dst=01:00:00:00:00:00/01:00:00:00:00:00"},
        {"eth.dst[40] == 0", "eth.dst=00:00:00:00:00:00/01:00:00:00:00:00"},
        {"!eth.mcast", "eth.dst=00:00:00:00:00:00/01:00:00:00:00:00"},
        {"eth.bcast", "eth.dst=ff:ff:ff:ff:ff:ff"},
        {"reg0[0..15] == 5", "reg0=0x5/0xffff"},
        {"reg0 == 5 && reg3[31]", "reg0=0x5 reg3=0x80000000/0x80000000"},
        {"xxreg0 == fe80::/64", "reg0=0xfe800000 reg1=0x0"},
        {"xxreg1 == 0x1", "reg4=0x0 reg5=0x0 reg6=0x0 reg7=0x1"},
        {"xreg0 == 0x100000002", "reg0=0x1 reg1=0x2"},
        {"xreg3[0..7] == 0xff", "reg7=0xff/0xff"},
        {"xreg4 == 0x100000002", "reg8=0x1 reg9=0x2"},
        {"reg9 == 7 && reg8[31]", "reg8=0x80000000/0x80000000 reg9=0x7"},
        {"!(reg0 != 5)", "reg0=0x5"},
        {"!reg0", "reg0=0x0"},
        {"flags.loopback", "flags=0x1/0x1"},
        {"flags.force_snat_for_lb == 1 && flags.skip_snat_for_lb == 0",
         "flags=0x8/0x208"},
        {"flags[1] == 0 && arp.op == 1 && arp.tpa == 172.16.0.1",
         "flags=0x0/0x2 eth.type=0x806 arp.op=0x1 arp.tpa=172.16.0.1"},
        {"pkt.mark == 0x10", "pkt.mark=0x10"},
        {"ct.trk", "ct_state=0x20/0x20"},
        {"!ct.trk", "ct_state=0x0/0x20"},
        {"ct_label.ecmp_reply_eth == 00:00:00:00:00:01",
         "ct_label=0x100000000/0xffffffffffff00000000"},
        {"ct_mark.ecmp_reply_port == 2", "ct_mark=0x20000/0xffff0000"},
        {"ct_label.blocked == 1 || ct_mark.natted",
         "ct_mark=0x2/0x2 || ct_label=0x1/0x1"},
        {"vlan.vid == 100", "vlan.tci=0x1064/0x1fff"},
        {"vlan.pcp == 5", "vlan.tci=0xb000/0xf000"},
        {"!vlan.present", "vlan.tci=0x0/0x1000"},
        {"ip4.mcast", "eth.dst=01:00:00:00:00:00/01:00:00:00:00:00 eth.type=0x800 "
                      "ip4.dst=224.0.0.0/4"},
        {"ip4.src_mcast", "eth.type=0x800 ip4.src=224.0.0.0/4"},
        {"ip6.mcast",
         "eth.dst=33:33:00:00:00:00/ff:ff:00:00:00:00 eth.type=0x86dd ip6.dst=ff00::/8"},
        {"mldv2", "eth.type=0x86dd ip.proto=0x3a ip6.dst=ff02::16 icmp6.type=0x8f"},
        {"mldv1", "eth.type=0x86dd ip.proto=0x3a ip6.src=fe80::/10 icmp6.type=0x82 || "
                  "eth.type=0x86dd ip.proto=0x3a ip6.src=fe80::/10 icmp6.type=0x83 || "
                  "eth.type=0x86dd ip.proto=0x3a ip6.src=fe80::/10 icmp6.type=0x84"},
        {"igmp", "eth.type=0x800 ip.proto=0x2"},
        {"icmp", "eth.type=0x800 ip.proto=0x1 || eth.type=0x86dd ip.proto=0x3a"},
        {"icmp4.type == 8 && icmp4.code == 0",
         "eth.type=0x800 ip.proto=0x1 icmp4.type=0x8 icmp4.code=0x0"},
        {"nd_ra",
         "eth.type=0x86dd ip.proto=0x3a ip.ttl=0xff icmp6.type=0x86 icmp6.code=0x0"},
        {"nd.sll == 00:00:00:00:00:01",
         "eth.type=0x86dd ip.proto=0x3a ip.ttl=0xff icmp6.type=0x87 icmp6.code=0x0 "
         "nd.sll=00:00:00:00:00:01"},
        {"nd",
         "eth.type=0x86dd ip.proto=0x3a ip.ttl=0xff icmp6.type=0x87 icmp6.code=0x0 || "
         "eth.type=0x86dd ip.proto=0x3a ip.ttl=0xff icmp6.type=0x88 icmp6.code=0x0"},
        {"ip.first_frag", "eth.type=0x800 ip.frag=0x1 || eth.type=0x86dd ip.frag=0x1"},
        {"ip.is_frag",
         "eth.type=0x800 ip.frag=0x1/0x1 || eth.type=0x86dd ip.frag=0x1/0x1"},
        {"ip.dscp == 46 && ip4", "eth.type=0x800 ip.dscp=0x2e"},
        {"ip.ecn == 3 && ip6", "eth.type=0x86dd ip.ecn=0x3"},
        {"ip6.label == 0x12345 && ip6.src == fe80::/10",
         "eth.type=0x86dd ip6.src=fe80::/10 ip6.label=0x12345"},
        {"tcp.flags == 0x2/0x12 && ip4",
         "eth.type=0x800 ip.proto=0x6 tcp.flags=0x2/0x12"},
        {"udp.src == 68 && udp.dst == 67 && ip4",
         "eth.type=0x800 ip.proto=0x11 udp.src=0x44 udp.dst=0x43"},
        {"sctp.dst == 3868 && ip6", "eth.type=0x86dd ip.proto=0x84 sctp.dst=0xf1c"},
        {"rarp.sha == 00:00:00:00:00:01", "eth.type=0x8035 arp.sha=00:00:00:00:00:01"},
        {"arp.sha == 00:00:00:00:00:00/01:00:00:00:00:00",
         "eth.type=0x806 arp.sha=00:00:00:00:00:00/01:00:00:00:00:00"},
        {"ip4.src == 1.2.3.4/255.255.0.255",
         "eth.type=0x800 ip4.src=1.2.0.4/255.255.0.255"},
        {"ip4.src == 0/0", "eth.type=0x800"},
        {"eth.type == 0x800 || eth.type == 0x86dd", "eth.type=0x800 || eth.type=0x86dd"},
        {"80 == tcp.dst && ip4", "eth.type=0x800 ip.proto=0x6 tcp.dst=0x50"},
        {"tcp.src > 65534 && ip4", "eth.type=0x800 ip.proto=0x6 tcp.src=0xffff"},
        {"tcp.src < 1 && ip4", "eth.type=0x800 ip.proto=0x6 tcp.src=0x0"},
        {"tcp.dst >= 0", "eth.type=0x800 ip.proto=0x6 || eth.type=0x86dd ip.proto=0x6"},
        {"udp.dst <= 65535 && ip6", "eth.type=0x86dd ip.proto=0x11"},
        {"reg1[0..3] < 2", "reg1=0x0/0xe"},
        {"reg1[4..7] >= 14", "reg1=0xe0/0xf0 || reg1=0xf0/0xf0"},
        {"ip4.src == {10.0.0.1, 10.0.0.1, 10.0.0.0/8}",
         "eth.type=0x800 ip4.src=10.0.0.0/8 || eth.type=0x800 ip4.src=10.0.0.1"},
        {"ip4.dst == {10.0.0.1 10.0.0.2,}",
         "eth.type=0x800 ip4.dst=10.0.0.1 || eth.type=0x800 ip4.dst=10.0.0.2"},
        {"(ip4 || ip6) && (tcp || udp) && ip4",
         "eth.type=0x800 ip.proto=0x6 || eth.type=0x800 ip.proto=0x11"},
        {"ip4 || (ip4 && tcp)", "eth.type=0x800 || eth.type=0x800 ip.proto=0x6"},
        {"outport == \"a\" && !(outport != \"a\")", "outport=\"a\""},
        {"inport == {\"p1\", \"p2\"} && inport == {\"p2\", \"p3\"}", "inport=\"p2\""},
        {"inport == \"a\\\"b\"", "inport=\"a\\\"b\""},
        {"// nothing but a comment\n1", "1"},
        {"ip4 /* v4 */ && ip4.dst == 10.0.0.1", "eth.type=0x800 ip4.dst=10.0.0.1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        check_ir(fx, cases[i].match, cases[i].ir);
    }
}

/* Contradictions and empty sets give the empty list, not an error. */
static void
test_expr_contradictions(void **state)
{
    struct fixture *fx = *state;
    static const char *const never[] = {
        "ip4 && ip6",
        "tcp && udp",
        "arp && ip",
        "outport == \"a\" && outport == \"b\"",
        "inport == {\"p1\", \"p2\"} && inport == \"p3\"",
        "ip4.src == $empty",
        "outport == @pg_empty",
        "reg0 == 1 && reg0 == 2",
        "xxreg0 == 1 && reg3 == 2",
        "reg0[0] && !reg0[0]",
        "eth.src == 00:00:00:00:00:01 && eth.src[0] == 0",
        "is_chassis_resident(\"cr-lrp\") && !is_chassis_resident(\"cr-lrp\")",
        "tcp.dst < 0",
        "tcp.dst > 65535",
        "(ip4 && ip6) || 0",
        "ct.new && ct.est && ct.new == 0",
    };
    for (size_t i = 0; i < sizeof never / sizeof *never; i++) {
        check_ir(fx, never[i], "0");
    }
    check_ir(fx, "ip4.src != $empty", "1");
    check_ir(fx, "0 || 1", "1");
    check_ir(fx, "tcp || 1", "1");
}

/* ----- Errors. ----- */

static void
check_error(struct fixture *fx, const char *s, int code, const char *message,
            const char *detail)
{
    struct ovnic_err err = {0};
    struct expr_match_list *list = (void *)1;
    int rc = expr_compile(fx->symtab, s, &fx->lookup, NULL, &list, &err);
    if (rc != code || !err.message || strcmp(err.message, message) ||
        !strstr(err.detail, detail)) {
        fail_msg("match: %s\nexpected: %d %s (%s)\nactual:   %d %s (%s)", s, code,
                 message, detail, rc, err.message ? err.message : "", err.detail);
    }
    assert_ptr_equal(list, (void *)1); /* Untouched on failure. */
    assert_string_equal(err.object, "match");
}

static void
test_expr_errors(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *match;
        const char *message;
        const char *detail;
    } cases[] = {
        /* Syntax. */
        {"ip4 && && ip6", "syntax error",
         "at `&&' (column 8): expecting field or constant"},
        {"", "syntax error", "at end of input: expecting field or constant"},
        {"ip4 &&", "syntax error", "at end of input: expecting field or constant"},
        {"ip4 ip6", "syntax error", "at `ip6' (column 5): expecting end of input"},
        {"(ip4", "syntax error", "at end of input: expecting `)'"},
        {"ip4)", "syntax error", "at `)' (column 4): expecting end of input"},
        {"ip4 && ip6 || tcp", "syntax error",
         "`&&' and `||' must be parenthesized when used together, at column 12"},
        {"!tcp.dst == 80", "syntax error",
         "missing parentheses around operand of `!', at column 2"},
        {"!!ct.est", "syntax error", "at `!' (column 2): expecting field or constant"},
        {"tcp.dst == ", "syntax error", "at end of input: expecting constant"},
        {"tcp.dst = 80", "syntax error",
         "at `=' (column 9): expecting relational operator"},
        {"inport", "syntax error", "at end of input: expecting relational operator"},
        {"tcp.dst", "syntax error",
         "explicit `!= 0' is required for inequality test of multibit field tcp.dst"},
        {"80 tcp.dst", "syntax error", "at `tcp.dst' (column 4): expecting relational"},
        {"80 == 81", "syntax error", "at `81' (column 7): expecting field name"},
        {"1 < tcp.dst > 5", "syntax error", "range expressions must have the form"},
        {"tcp.dst == {}", "syntax error", "at `}' (column 13): expecting constant"},
        {"tcp.dst == {80", "syntax error", "at end of input: expecting constant"},
        {"ip4.src == {10.0.0.1, \"x\"}", "syntax error",
         "at `\"x\"' (column 23): expecting integer"},
        {"reg0[0..] == 1", "syntax error", "at `]' (column 9): expecting small integer"},
        {"reg0[0..1 == 1", "syntax error", "at `==' (column 11): expecting `]'"},
        {"reg0[0x1] == 1", "syntax error", "expecting small integer"},
        {"ip4 & tcp", "syntax error", "`&' is only valid as part of `&&', at column 5"},
        {"ip4.dst == 10.0.0.0/33", "syntax error",
         "value and mask have incompatible formats, at column 12"},
        {"inport == \"lp1", "syntax error",
         "input ends inside quoted string, at column 11"},
        {"ip4.dst == 012", "syntax error", "leading zeros"},
        /* Names. */
        {"foo == 1", "unknown field", "foo, at column 1"},
        {"ip4 && reg10 == 1", "unknown field", "reg10, at column 8"},
        {"flags.localnet", "unknown field", "flags.localnet"},
        {"foo(\"x\")", "unknown function", "foo, at column 1"},
        {"ip4.src == $nope", "unknown address set", "$nope, at column 12"},
        {"outport == @nope", "unknown port group", "@nope, at column 12"},
        {"icmp4.frag_mtu == 1400", "unsupported field", "may only be used in actions"},
        /* Types, widths, levels. */
        {"tcp.dst == 70000", "constant out of range",
         "tcp.dst: 70000 does not fit in 16 bits, at column 12"},
        {"ip4.src == fe80::1", "constant out of range",
         "ip4.src: fe80::1 does not fit in 32"},
        {"reg0[0..3] == 0x10", "constant out of range", "does not fit in 4 bits"},
        {"ip.frag == 4", "constant out of range", "does not fit in 2 bits"},
        {"ip4 == 2", "constant out of range", "does not fit in 1 bits"},
        {"inport == 5", "type mismatch",
         "string field inport is not compatible with integer constant"},
        {"tcp.dst == \"80\"", "type mismatch",
         "integer field tcp.dst is not compatible with string constant"},
        {"ip4.src == @pg1", "type mismatch", "not compatible with string constant"},
        {"inport[0] == 1", "invalid subfield",
         "cannot select subfield of string field inport"},
        {"eth.type[0..7] == 8", "invalid subfield",
         "cannot select subfield of nominal field eth.type"},
        {"reg0[5..3] == 1", "invalid subfield", "invalid bit range 5 to 3"},
        {"reg0[30..32] == 1", "invalid subfield",
         "cannot select bits 30 to 32 of 32-bit field reg0"},
        {"!ip4", "unsupported comparison",
         "nominal predicate ip4 may only be tested positively"},
        {"tcp == 0", "unsupported comparison", "nominal predicate tcp"},
        {"!(ip4 && tcp)", "unsupported comparison", "nominal predicate ip4"},
        {"ip.proto != 6", "unsupported comparison",
         "nominal field ip.proto may only be tested for equality"},
        {"!(eth.type == 0x800)", "unsupported comparison", "nominal field eth.type"},
        {"inport != \"lp1\"", "unsupported comparison", "nominal field inport"},
        {"ip.ttl < 5", "unsupported comparison",
         "only == and != may be used with nominal field ip.ttl"},
        {"vlan.present > 0", "unsupported comparison",
         "only == and != may be used with Boolean field vlan.present"},
        {"tcp.dst < {80, 90}", "unsupported comparison", "with value sets"},
        {"tcp.dst < 0x50/0xf0", "unsupported comparison", "with masked constants"},
        {"ip4.src < $empty", "unsupported comparison", "against an empty value set"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        check_error(fx, cases[i].match, -EINVAL, cases[i].message, cases[i].detail);
    }

    /* Parentheses nested too deeply. */
    char deep[512];
    size_t n = 0;
    for (int i = 0; i < 150; i++) {
        deep[n++] = '(';
    }
    memcpy(deep + n, "ip4", 4);
    check_error(fx, deep, -EINVAL, "nesting too deep",
                "parentheses nested more than 100");

    /* A readable one-line form, as the engine logs it. */
    struct ovnic_err err = {0};
    struct expr_match_list *list = NULL;
    assert_int_equal(
        expr_compile(fx->symtab, "tcp.dst == 70000", NULL, NULL, &list, &err), -EINVAL);
    char buf[300];
    assert_string_equal(ovnic_err_format(&err, buf, sizeof buf),
                        "match: constant out of range (tcp.dst: 70000 does not fit in 16 "
                        "bits, at column 12): Invalid argument");

    /* NULL 'err' is allowed. */
    assert_int_equal(expr_compile(fx->symtab, "ip4 &&", NULL, NULL, &list, NULL),
                     -EINVAL);
}

static void
test_expr_lookup_failures(void **state)
{
    struct fixture *fx = *state;
    struct ovnic_err err = {0};
    struct expr_match_list *list = NULL;

    /* No lookup at all: references cannot resolve. */
    assert_int_equal(expr_compile(fx->symtab, "ip4.src == $as1", NULL, NULL, &list, &err),
                     -EINVAL);
    assert_string_equal(err.message, "unknown address set");

    /* A callback error fails the parse with that error. */
    fx->aux.fail_with = -EIO;
    ovnic_err_clear(&err);
    assert_int_equal(
        expr_compile(fx->symtab, "ip4.src == $as1", &fx->lookup, NULL, &list, &err),
        -EIO);
    assert_string_equal(err.message, "lookup failed");
    assert_non_null(strstr(err.detail, "address set $as1"));
    ovnic_err_clear(&err);
    assert_int_equal(
        expr_compile(fx->symtab, "outport == @pg1", &fx->lookup, NULL, &list, &err),
        -EIO);
    assert_non_null(strstr(err.detail, "port group @pg1"));
    fx->aux.fail_with = 0;

    /* Entries that are not single addresses are skipped; the rest are used. */
    check_ir(fx, "ip4.src == $mixed",
             "eth.type=0x800 ip4.src=10.0.0.1 || eth.type=0x800 ip4.src=10.1.0.0/16");
}

static void
test_expr_refs(void **state)
{
    struct fixture *fx = *state;
    struct expr_refs refs;
    struct expr_match_list *list = NULL;

    expr_refs_init(&refs);
    assert_int_equal(
        expr_compile(
            fx->symtab,
            "outport == @pg1 && ip4.src == $pg1_ip4 && ip4.dst == {$as1, $pg1_ip4} "
            "&& is_chassis_resident(\"cr-lrp\")",
            &fx->lookup, &refs, &list, NULL),
        0);
    expr_match_list_destroy(list);
    assert_int_equal(refs.n_address_sets, 2);
    assert_string_equal(refs.address_sets[0], "pg1_ip4");
    assert_string_equal(refs.address_sets[1], "as1");
    assert_int_equal(refs.n_port_groups, 1);
    assert_string_equal(refs.port_groups[0], "pg1");
    assert_int_equal(refs.n_resident_ports, 1);
    assert_string_equal(refs.resident_ports[0], "cr-lrp");

    /* Names are recorded even when they do not resolve, so that a flow is parsed again
     * when the set appears. */
    assert_int_equal(
        expr_compile(fx->symtab, "ip4.src == $later", &fx->lookup, &refs, &list, NULL),
        -EINVAL);
    assert_int_equal(refs.n_address_sets, 3);
    assert_string_equal(refs.address_sets[2], "later");
    expr_refs_destroy(&refs);
    assert_int_equal(refs.n_address_sets, 0);
    expr_refs_destroy(NULL);
}

static bool
resident_lp1(void *aux, const char *port)
{
    (*(int *)aux)++;
    return !strcmp(port, "lp1");
}

static bool
flow_resident_lp1(const void *aux, const char *port)
{
    (void)aux;
    return !strcmp(port, "lp1");
}

static void
test_expr_chassis_resident(void **state)
{
    struct fixture *fx = *state;

    /* Without a callback the condition stays in the IR. */
    check_ir(fx, "is_chassis_resident(\"cr-lrp\") && eth.dst == 00:00:00:00:00:ff",
             "eth.dst=00:00:00:00:00:ff is_chassis_resident(\"cr-lrp\")");
    check_ir(fx, "!is_chassis_resident(\"b\") && is_chassis_resident(\"a\")",
             "is_chassis_resident(\"a\") !is_chassis_resident(\"b\")");
    check_ir(fx, "is_chassis_resident(\"a\") || is_chassis_resident(\"a\")",
             "is_chassis_resident(\"a\")");

    /* With one, it folds to a constant. */
    int calls = 0;
    struct expr_lookup lookup = {.is_chassis_resident = resident_lp1, .aux = &calls};
    struct expr_match_list *list = NULL;
    assert_int_equal(expr_compile(fx->symtab, "is_chassis_resident(\"lp1\") && ip4",
                                  &lookup, NULL, &list, NULL),
                     0);
    char *text = expr_match_list_format(list);
    assert_string_equal(text, "eth.type=0x800");
    free(text);
    expr_match_list_destroy(list);
    assert_int_equal(expr_compile(fx->symtab, "is_chassis_resident(\"lp2\") && ip4",
                                  &lookup, NULL, &list, NULL),
                     0);
    assert_int_equal(list->n_matches, 0);
    expr_match_list_destroy(list);
    assert_int_equal(calls, 2);

    /* Evaluation of a condition left in the IR. */
    assert_int_equal(expr_compile(fx->symtab, "!is_chassis_resident(\"lp1\")", NULL, NULL,
                                  &list, NULL),
                     0);
    struct expr_flow flow;
    memset(&flow, 0, sizeof flow);
    assert_true(expr_match_list_evaluate(list, &flow));
    flow.is_chassis_resident = flow_resident_lp1;
    assert_false(expr_match_list_evaluate(list, &flow));
    expr_match_list_destroy(list);

    check_error(fx, "is_chassis_resident(lp1)", -EINVAL, "syntax error",
                "at `lp1' (column 21): expecting string");
    check_error(fx, "is_chassis_resident(\"lp1\"", -EINVAL, "syntax error",
                "at end of input: expecting `)'");
}

static void
test_expr_limit(void **state)
{
    struct fixture *fx = *state;
    struct ovnic_err err = {0};
    struct expr *parsed = NULL, *annotated = NULL;
    struct expr_match_list *list = NULL;

    /* 16 x 16 x 2 conjunctions. */
    const char *s = "tcp.src != 0 && tcp.dst != 0";
    assert_int_equal(expr_parse(fx->symtab, s, NULL, NULL, &parsed, &err), 0);
    assert_int_equal(expr_annotate(fx->symtab, parsed, &annotated, &err), 0);
    assert_int_equal(expr_normalize(annotated, 100, &list, &err), -E2BIG);
    assert_null(list);
    assert_string_equal(err.message, "expression too complex");
    assert_non_null(strstr(err.detail, "more than 100 conjunctions"));
    assert_int_equal(expr_normalize(annotated, 0, &list, NULL), 0);
    assert_int_equal(list->n_matches, 512);
    expr_match_list_destroy(list);
    expr_destroy(parsed);
    expr_destroy(annotated);

    /* The default limit stops a blow-up. */
    ovnic_err_clear(&err);
    assert_int_equal(expr_compile(fx->symtab,
                                  "ip6.src != ::1 && ip6.dst != ::1 && tcp.src != 0",
                                  NULL, NULL, &list, &err),
                     -E2BIG);
}

/* The tree's text form parses back to the same tree. */
static void
test_expr_format(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *match;
        const char *parsed;
        const char *annotated;
    } cases[] = {
        {"ip4.dst == 10.0.0.0/24 && tcp.dst == 80",
         "ip4.dst == 10.0.0.0/24 && tcp.dst == 0x50",
         "ip4.dst == 10.0.0.0/24 && eth.type == 0x800 && tcp.dst == 0x50 && "
         "ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd)"},
        /* As ovn-controller 23.03: a negated predicate negates its prerequisites. */
        {"!ip.later_frag", "!ip.later_frag",
         "!ip.frag[1] || (eth.type != 0x800 && eth.type != 0x86dd)"},
        {"reg0[0..15] == 5", "reg0[0..15] == 0x5", "xxreg0[96..111] == 0x5"},
        {"vlan.vid == 100", "vlan.vid == 0x64",
         "vlan.tci[0..11] == 0x64 && vlan.tci[12]"},
        {"inport == {\"a\", \"b\"}", "inport == \"a\" || inport == \"b\"",
         "inport == \"a\" || inport == \"b\""},
        {"!(tcp.dst == 80 || tcp.dst != 90) && ip4",
         "tcp.dst != 0x50 && tcp.dst == 0x5a && ip4",
         "tcp.dst != 0x50 && ip.proto == 0x6 && (eth.type == 0x800 || eth.type == "
         "0x86dd) && "
         "tcp.dst == 0x5a && ip.proto == 0x6 && (eth.type == 0x800 || eth.type == "
         "0x86dd) && "
         "eth.type == 0x800"},
        {"tcp.dst == {80, 443}", "tcp.dst == 0x50 || tcp.dst == 0x1bb",
         "(tcp.dst == 0x50 || tcp.dst == 0x1bb) && ip.proto == 0x6 && "
         "(eth.type == 0x800 || eth.type == 0x86dd)"},
        {"eth.src == 00:00:00:00:00:00/01:00:00:00:00:00", "!eth.src[40]",
         "!eth.src[40]"},
        {"eth.src == 00:00:00:00:00:00/03:00:00:00:00:00",
         "eth.src == 00:00:00:00:00:00/03:00:00:00:00:00",
         "eth.src == 00:00:00:00:00:00/03:00:00:00:00:00"},
        {"reg1 == 0x1/0x101", "reg1 == 0x1/0x101",
         "xxreg0 == 0x10000000000000000/0x1010000000000000000"},
        {"1024 <= tcp.src <= 49151", "tcp.src >= 0x400 && tcp.src <= 0xbfff",
         "tcp.src >= 0x400 && tcp.src <= 0xbfff && ip.proto == 0x6 && "
         "(eth.type == 0x800 || eth.type == 0x86dd)"},
        {"is_chassis_resident(\"p\\\"1\")", "is_chassis_resident(\"p\\\"1\")",
         "is_chassis_resident(\"p\\\"1\")"},
        {"!ct.est", "!ct.est", "!ct_state[1] && ct_state[5]"},
        /* Nominal fields take no subscripts, so partial masks print as value/mask. */
        {"arp.op == 0/48", "arp.op == 0x0/0x30",
         "arp.op == 0x0/0x30 && eth.type == 0x806"},
        {"ip.proto == 0x1/0x1 && ip4", "ip.proto == 0x1/0x1 && ip4",
         "ip.proto == 0x1/0x1 && (eth.type == 0x800 || eth.type == 0x86dd) && "
         "eth.type == 0x800"},
        {"ip4.dst[8..15] > 3", "ip4.dst[8..15] > 0x3",
         "ip4.dst[8..15] > 0x3 && eth.type == 0x800"},
        {"0", "0", "0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct expr *parsed = NULL, *annotated = NULL, *again = NULL;
        assert_int_equal(
            expr_parse(fx->symtab, cases[i].match, NULL, NULL, &parsed, NULL), 0);
        char *text = expr_format(parsed);
        if (strcmp(text, cases[i].parsed)) {
            fail_msg("parsed %s\nexpected: %s\nactual:   %s", cases[i].match,
                     cases[i].parsed, text);
        }
        assert_int_equal(expr_parse(fx->symtab, text, NULL, NULL, &again, NULL), 0);
        char *text2 = expr_format(again);
        assert_string_equal(text, text2);
        free(text2);
        free(text);

        assert_int_equal(expr_annotate(fx->symtab, parsed, &annotated, NULL), 0);
        text = expr_format(annotated);
        if (strcmp(text, cases[i].annotated)) {
            fail_msg("annotated %s\nexpected: %s\nactual:   %s", cases[i].match,
                     cases[i].annotated, text);
        }
        free(text);
        expr_destroy(again);
        expr_destroy(annotated);
        expr_destroy(parsed);
    }
    expr_destroy(NULL);
    expr_match_list_destroy(NULL);
}

/* ----- Semantics, checked packet by packet. ----- */

/* Compiles 's' and checks, for every value of 'field' (with the prerequisites of TCP
 * over IPv4 satisfied), that the IR and the annotated tree both agree with 'want'. */
static void
check_exhaustive(struct fixture *fx, const char *s, enum symtab_field_id field, int width,
                 bool (*want)(unsigned int))
{
    struct expr *parsed = NULL, *annotated = NULL;
    struct expr_match_list *list = NULL;
    assert_int_equal(expr_parse(fx->symtab, s, NULL, NULL, &parsed, NULL), 0);
    assert_int_equal(expr_annotate(fx->symtab, parsed, &annotated, NULL), 0);
    assert_int_equal(expr_normalize(annotated, 0, &list, NULL), 0);

    struct expr_flow flow;
    memset(&flow, 0, sizeof flow);
    flow.values[SYMTAB_F_ETH_TYPE] = 0x800;
    flow.values[SYMTAB_F_IP_PROTO] = 6;
    for (unsigned int v = 0; v < (1u << width); v++) {
        flow.values[field] = v;
        bool w = want(v);
        if (expr_match_list_evaluate(list, &flow) != w ||
            expr_evaluate(annotated, &flow) != w) {
            fail_msg("%s: wrong for value %u (want %d)", s, v, w);
        }
    }
    expr_match_list_destroy(list);
    expr_destroy(annotated);
    expr_destroy(parsed);
}

static bool
want_1000_1999(unsigned int v)
{
    return v >= 1000 && v <= 1999;
}

static bool
want_gt_1023(unsigned int v)
{
    return v > 1023;
}

static bool
want_lt_32768(unsigned int v)
{
    return v < 32768;
}

static bool
want_le_12345_or_443(unsigned int v)
{
    return v <= 12345 || v == 443;
}

static bool
want_ne_80(unsigned int v)
{
    return v != 80;
}

static bool
want_not_range(unsigned int v)
{
    return !(v >= 10 && v < 20000);
}

static bool
want_ge_1_lt_65535(unsigned int v)
{
    return v >= 1 && v < 65535;
}

static bool
want_reg_range(unsigned int v)
{
    return ((v >> 4) & 0xff) >= 7 && ((v >> 4) & 0xff) <= 200;
}

static void
test_expr_ranges_exhaustive(void **state)
{
    struct fixture *fx = *state;
    check_exhaustive(fx, "tcp.dst >= 1000 && tcp.dst <= 1999", SYMTAB_F_TCP_DST, 16,
                     want_1000_1999);
    check_exhaustive(fx, "1000 <= tcp.dst <= 1999", SYMTAB_F_TCP_DST, 16, want_1000_1999);
    check_exhaustive(fx, "1999 >= tcp.dst >= 1000", SYMTAB_F_TCP_DST, 16, want_1000_1999);
    check_exhaustive(fx, "tcp.src > 1023", SYMTAB_F_TCP_SRC, 16, want_gt_1023);
    check_exhaustive(fx, "32768 > tcp.src", SYMTAB_F_TCP_SRC, 16, want_lt_32768);
    check_exhaustive(fx, "tcp.src <= 12345 || tcp.src == 443", SYMTAB_F_TCP_SRC, 16,
                     want_le_12345_or_443);
    check_exhaustive(fx, "tcp.dst != 80", SYMTAB_F_TCP_DST, 16, want_ne_80);
    check_exhaustive(fx, "!(tcp.dst >= 10 && tcp.dst < 20000)", SYMTAB_F_TCP_DST, 16,
                     want_not_range);
    check_exhaustive(fx, "tcp.dst >= 1 && tcp.dst < 65535", SYMTAB_F_TCP_DST, 16,
                     want_ge_1_lt_65535);
    check_exhaustive(fx, "reg0[4..11] >= 7 && reg0[4..11] <= 200", SYMTAB_F_REG0, 16,
                     want_reg_range);
}

/* Random packets: the IR and the annotated tree agree for assorted matches. */
static void
check_agreement(struct fixture *fx, const char *s)
{
    struct expr *parsed = NULL, *annotated = NULL;
    struct expr_match_list *list = NULL;
    struct ovnic_err err = {0};
    if (expr_parse(fx->symtab, s, &fx->lookup, NULL, &parsed, &err) ||
        expr_annotate(fx->symtab, parsed, &annotated, &err) ||
        expr_normalize(annotated, 0, &list, &err)) {
        char buf[300];
        fail_msg("%s: %s", s, ovnic_err_format(&err, buf, sizeof buf));
    }

    static const char *const ports[] = {"lp1", "lp2", "lrp0", "lrp-pub", NULL};
    uint32_t seed = 12345;
    for (int round = 0; round < 2000; round++) {
        struct expr_flow flow;
        memset(&flow, 0, sizeof flow);
        for (int i = 0; i < SYMTAB_N_FIELDS; i++) {
            lex_u128 v = 0;
            for (int k = 0; k < 4; k++) {
                seed = seed * 1664525u + 1013904223u;
                v = (v << 32) | seed;
            }
            flow.values[i] = v;
        }
        /* Borrow field values from some conjunction so that matches happen. */
        seed = seed * 1664525u + 1013904223u;
        if (list->n_matches && (seed >> 8) % 4) {
            const struct expr_match *m = &list->matches[(seed >> 12) % list->n_matches];
            for (size_t j = 0; j < m->n_terms; j++) {
                const struct expr_term *t = &m->terms[j];
                if (t->type == EXPR_TERM_FIELD && ((seed >> (j % 8)) & 1 || round & 1)) {
                    flow.values[t->field->id] =
                        (flow.values[t->field->id] & ~t->mask) | t->value;
                } else if (t->type == EXPR_TERM_STRING) {
                    if (t->field->id == SYMTAB_F_INPORT) {
                        flow.inport = t->string;
                    } else {
                        flow.outport = t->string;
                    }
                }
            }
        }
        if (!flow.inport) {
            flow.inport = ports[(seed >> 3) % 5];
        }
        if (!flow.outport) {
            flow.outport = ports[(seed >> 7) % 5];
        }
        flow.is_chassis_resident = (seed >> 20) & 1 ? flow_resident_lp1 : NULL;
        if (expr_evaluate(annotated, &flow) != expr_match_list_evaluate(list, &flow)) {
            fail_msg("%s: IR and tree disagree in round %d", s, round);
        }
    }
    expr_match_list_destroy(list);
    expr_destroy(annotated);
    expr_destroy(parsed);
}

static void
test_expr_agreement(void **state)
{
    struct fixture *fx = *state;
    static const char *const matches[] = {
        "ip.ttl == {0, 1} && !ip.later_frag",
        "!ip.first_frag",
        "!eth.bcast && ip4",
        "!(ip4.src == 10.0.0.0/8) && ip4",
        "(ct.new && !ct.est) || (!ct.est && ct.trk && ct_mark.blocked == 1)",
        "ip6.mcast_flood",
        "outport == @pg1 && ip4 && ip4.src == $as1 && tcp.dst >= 1000 && tcp.dst <= 1999",
        "!is_chassis_resident(\"lp1\") && inport == \"lp2\" && reg0[3]",
        "xxreg0 == fe80::/64 && xreg1[0..7] != 5",
        "ip4.dst != {10.0.0.1, 10.0.0.2} && ip4",
        "!(vlan.present && vlan.vid == 5)",
        "eth.src[0..15] < 0x1234",
        "ct_label.ecmp_reply_port == 7 || ct_label[127]",
    };
    for (size_t i = 0; i < sizeof matches / sizeof *matches; i++) {
        check_agreement(fx, matches[i]);
    }
}

/* ----- Every match northd 23.03 wrote for a sample topology. ----- */

static void
test_expr_northd_corpus(void **state)
{
    struct fixture *fx = *state;
    const char *dir = getenv("OVNIC_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/unit/controller/northd-23.03.golden",
             dir ? dir : ".");
    FILE *f = fopen(path, "r");
    if (!f) {
        fail_msg("cannot open %s", path);
    }

    static char line[65536], match[65536];
    int n = 0;
    bool have_match = false;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, "match ", 6)) {
            snprintf(match, sizeof match, "%s", line + 6);
            have_match = true;
        } else if (!strncmp(line, "ir ", 3)) {
            assert_true(have_match);
            check_ir(fx, match, line + 3);
            check_agreement(fx, match);
            have_match = false;
            n++;
        }
    }
    fclose(f);
    assert_true(n >= 200);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_expr_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_contradictions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_lookup_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_refs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_chassis_resident, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_ranges_exhaustive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_agreement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_northd_corpus, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
