/* Unit tests for the classifier: priorities, ties, names, staged wildcards; random
 * rules against a linear-scan reference (same winner, and the recorded wildcards are
 * sufficient); incremental add/remove against a rebuild; every match northd 23.03
 * wrote compiles, and agrees with expr_match_list_evaluate() on random packets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/controller/expr.h"
#include "dpu/controller/symtab.h"
#include "dpu/pipeline/classifier.h"
#include "dpu/pipeline/key.h"

/* ----- Deterministic random numbers. ----- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned int
rndn(unsigned int n)
{
    return (unsigned int)(rnd() % n);
}

/* ----- Port names: "pN" has key N + 1; anything else is unknown.  Ports whose
 * number is even reside here. ----- */

static int
port_key_cb(void *aux, const char *name, uint32_t *key)
{
    (void)aux;
    if (name[0] == 'p' && name[1] >= '0' && name[1] <= '9') {
        *key = (uint32_t)atoi(name + 1) + 1;
        return 0;
    }
    return -ENOENT;
}

static bool
resident_cb(void *aux, const char *port)
{
    (void)aux;
    uint32_t key;
    return !port_key_cb(NULL, port, &key) && key % 2 == 1;
}

static const struct cls_resolver resolver = {port_key_cb, resident_cb, NULL};

static const char *const port_names[] = {"p0", "p1", "p2", "p3"};

/* ----- Hand-built IR. ----- */

#define MAX_CONJ 3
#define MAX_TERMS 8

struct trule {
    struct expr_match_list list;
    struct expr_match ms[MAX_CONJ];
    struct expr_term ts[MAX_CONJ][MAX_TERMS];
    unsigned int table;
    uint32_t priority;
    struct cls_rule *cr;
    bool live;
    uint64_t order; /* Addition order, for ties. */
};

static void
term_field(struct expr_term *t, enum symtab_field_id id, lex_u128 value, lex_u128 mask)
{
    memset(t, 0, sizeof *t);
    t->type = EXPR_TERM_FIELD;
    t->field = symtab_field_get(id);
    t->value = value & mask;
    t->mask = mask;
}

static void
term_string(struct expr_term *t, enum symtab_field_id id, const char *name)
{
    memset(t, 0, sizeof *t);
    t->type = EXPR_TERM_STRING;
    t->field = symtab_field_get(id);
    t->string = name;
}

/* Random values are drawn from small pools so that rules overlap and packets hit. */
static const uint32_t ip4_pool[] = {0x0a000001, 0x0a000002, 0x0a0001fe, 0xc0a80001};
static const uint32_t ip4_masks[] = {0xff000000, 0xffff0000, 0xffffff00, 0xffffffff};
static const uint16_t port_pool[] = {80, 443, 8080, 53};

static void
random_conj(struct trule *r, int c)
{
    struct expr_match *m = &r->ms[c];
    struct expr_term *t = r->ts[c];
    size_t n = 0;

    m->terms = t;
    if (rndn(2)) {
        term_string(&t[n++], SYMTAB_F_INPORT, port_names[rndn(4)]);
    }
    if (rndn(3) == 0) {
        static const uint32_t masks[] = {0xf, 0x1, 0x6};
        term_field(&t[n++], SYMTAB_F_REG0, rndn(4), masks[rndn(3)]);
    }
    if (rndn(4) == 0) {
        term_field(&t[n++], SYMTAB_F_CT_STATE, rndn(64), rndn(2) ? 0x3f : 0x22);
    }
    if (rndn(5) == 0) {
        term_field(&t[n++], SYMTAB_F_ETH_DST, (lex_u128)rndn(2) << 40, (lex_u128)1 << 40);
    }
    if (rndn(2)) {
        term_field(&t[n++], SYMTAB_F_ETH_TYPE, rndn(4) ? 0x800 : 0x86dd, 0xffff);
        if (rndn(2)) {
            term_field(&t[n++], SYMTAB_F_IP4_DST, ip4_pool[rndn(4)], ip4_masks[rndn(4)]);
        }
        if (rndn(2)) {
            term_field(&t[n++], SYMTAB_F_TCP_DST, port_pool[rndn(4)],
                       rndn(3) ? 0xffff : 0xfff0);
        }
    }
    m->n_terms = n;
}

static void
random_rule(struct trule *r, unsigned int n_tables)
{
    memset(r, 0, sizeof *r);
    r->list.matches = r->ms;
    r->list.n_matches = 1 + rndn(MAX_CONJ);
    for (size_t c = 0; c < r->list.n_matches; c++) {
        random_conj(r, (int)c);
    }
    r->table = rndn(n_tables);
    r->priority = rndn(12);
}

static void
random_packet(struct pkey *k)
{
    pkey_init(k);
    pkey_field_set(k, PKEY_F_INPORT, rndn(6));
    pkey_field_set(k, PKEY_F_REG0, rndn(8));
    pkey_field_set(k, PKEY_F_CT_STATE, rndn(64));
    pkey_field_set(k, PKEY_F_ETH_DST, ((lex_u128)rndn(2) << 40) | rndn(4));
    static const uint16_t types[] = {0x800, 0x86dd, 0x806, 0x800};
    pkey_field_set(k, PKEY_F_ETH_TYPE, types[rndn(4)]);
    pkey_field_set(k, PKEY_F_IP4_DST, ip4_pool[rndn(4)] ^ (rndn(2) ? rndn(256) : 0));
    pkey_field_set(k, PKEY_F_TCP_DST, port_pool[rndn(4)] ^ (rndn(4) ? 0 : rndn(16)));
    pkey_field_set(k, PKEY_F_TCP_SRC, rnd() & 0xffff); /* Never matched on. */
    pkey_field_set(k, PKEY_F_IP6_DST, rnd());
}

/* ----- The reference: a linear scan. ----- */

static bool
conj_matches(const struct expr_match *m, const struct pkey *k)
{
    for (size_t i = 0; i < m->n_terms; i++) {
        const struct expr_term *t = &m->terms[i];
        enum pkey_field_id id;
        assert_int_equal(pkey_field_from_symtab(t->field->id, &id), 0);
        if (t->type == EXPR_TERM_STRING) {
            uint32_t port;
            if (port_key_cb(NULL, t->string, &port) || pkey_field_get(k, id) != port) {
                return false;
            }
        } else if ((pkey_field_get(k, id) & t->mask) != t->value) {
            return false;
        }
    }
    return true;
}

static const struct trule *
reference_lookup(const struct trule *rules, size_t n, unsigned int table,
                 const struct pkey *k)
{
    const struct trule *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct trule *r = &rules[i];
        if (!r->live || r->table != table) {
            continue;
        }
        if (best && (r->priority < best->priority ||
                     (r->priority == best->priority && r->order > best->order))) {
            continue;
        }
        for (size_t c = 0; c < r->list.n_matches; c++) {
            if (conj_matches(&r->ms[c], k)) {
                best = r;
                break;
            }
        }
    }
    return best;
}

static void
add_rule(struct cls *cls, struct trule *r, uint64_t *order)
{
    struct ovnic_err err = {0};
    assert_int_equal(cls_rule_add(cls, r->table, r->priority, &r->list, r, &r->cr, &err),
                     0);
    r->live = true;
    r->order = (*order)++;
}

static const struct trule *
lookup(struct cls *cls, unsigned int table, const struct pkey *k, struct pkey_mask *wc)
{
    const struct cls_rule *cr = cls_lookup(cls, table, k, wc);
    return cr ? cls_rule_data(cr) : NULL;
}

/* Checks 'cls' against the reference for 'n_packets' random packets in every table,
 * and that each lookup's wildcards are sufficient. */
static void
check_against_reference(struct cls *cls, const struct trule *rules, size_t n_rules,
                        unsigned int n_tables, int n_packets, size_t *n_hits)
{
    for (int p = 0; p < n_packets; p++) {
        struct pkey k;
        random_packet(&k);
        unsigned int table = rndn(n_tables);
        struct pkey_mask wc;
        pkey_mask_init(&wc);
        const struct trule *got = lookup(cls, table, &k, &wc);
        const struct trule *want = reference_lookup(rules, n_rules, table, &k);
        if (got != want) {
            char buf[1024];
            pkey_format(&k, NULL, buf, sizeof buf);
            fail_msg("packet %d table %u [%s]: got rule %p (prio %d) want %p (prio %d)",
                     p, table, buf, (void *)got, got ? (int)got->priority : -1,
                     (void *)want, want ? (int)want->priority : -1);
        }
        *n_hits += got != NULL;

        /* Any packet that agrees with 'k' on the bits of 'wc' gets the same rule. */
        for (int j = 0; j < 8; j++) {
            struct pkey other, q;
            random_packet(&other);
            for (size_t w = 0; w < PKEY_N_WORDS; w++) {
                q.w[w] = (k.w[w] & wc.w[w]) | (other.w[w] & ~wc.w[w]);
            }
            const struct trule *want_q = reference_lookup(rules, n_rules, table, &q);
            if (want_q != want) {
                char buf[1024];
                pkey_mask_format(&wc, buf, sizeof buf);
                fail_msg("wildcards %s too wide", buf);
            }
            assert_ptr_equal(lookup(cls, table, &q, NULL), want);
        }
    }
}

/* ----- Tests. ----- */

static struct symtab *symtab;

static struct expr_match_list *
compile(const char *s)
{
    struct expr_match_list *list = NULL;
    struct ovnic_err err = {0};
    if (expr_compile(symtab, s, NULL, NULL, &list, &err)) {
        char buf[256];
        fail_msg("%s: %s", s, ovnic_err_format(&err, buf, sizeof buf));
    }
    return list;
}

static struct cls_rule *
add_text(struct cls *cls, unsigned int table, uint32_t prio, const char *s, void *data)
{
    struct expr_match_list *list = compile(s);
    struct cls_rule *rule = NULL;
    assert_int_equal(cls_rule_add(cls, table, prio, list, data, &rule, NULL), 0);
    expr_match_list_destroy(list);
    return rule;
}

static void
test_cls_basic(void **state)
{
    struct cls *cls;
    int a, b, c, d, e;
    assert_int_equal(cls_create(&resolver, &cls), 0);

    add_text(cls, 0, 10, "ip4.dst == 10.0.0.0/24", &a);
    add_text(cls, 0, 20, "ip4.dst == 10.0.0.1 && tcp.dst == 80", &b);
    add_text(cls, 0, 10, "ip4.dst == 10.0.0.0/8", &c); /* Same priority as 'a'. */
    add_text(cls, 0, 5, "inport == \"p1\"", &d);
    add_text(cls, 7, 0, "1", &e);

    struct pkey k;
    pkey_init(&k);
    pkey_field_set(&k, PKEY_F_ETH_TYPE, 0x800);
    pkey_field_set(&k, PKEY_F_IP_PROTO, 6);
    pkey_field_set(&k, PKEY_F_IP4_DST, 0x0a000001);
    pkey_field_set(&k, PKEY_F_TCP_DST, 80);
    pkey_field_set(&k, PKEY_F_INPORT, 2);

    assert_ptr_equal(cls_rule_data(cls_lookup(cls, 0, &k, NULL)), &b);
    pkey_field_set(&k, PKEY_F_TCP_DST, 81);
    assert_ptr_equal(cls_rule_data(cls_lookup(cls, 0, &k, NULL)), &a); /* Added first. */
    pkey_field_set(&k, PKEY_F_IP4_DST, 0x0a010001);
    assert_ptr_equal(cls_rule_data(cls_lookup(cls, 0, &k, NULL)), &c);
    pkey_field_set(&k, PKEY_F_ETH_TYPE, 0x806);
    assert_ptr_equal(cls_rule_data(cls_lookup(cls, 0, &k, NULL)), &d);
    pkey_field_set(&k, PKEY_F_INPORT, 3);
    assert_null(cls_lookup(cls, 0, &k, NULL));
    assert_ptr_equal(cls_rule_data(cls_lookup(cls, 7, &k, NULL)), &e);
    assert_null(cls_lookup(cls, 8, &k, NULL));
    assert_null(cls_lookup(cls, 1000, &k, NULL));

    /* Staged lookup: an ARP packet from an unknown port misses every IPv4 subtable
     * at L2, so neither ip4.dst nor tcp.dst is un-wildcarded. */
    struct pkey_mask wc;
    pkey_mask_init(&wc);
    assert_null(cls_lookup(cls, 0, &k, &wc));
    char buf[512];
    pkey_mask_format(&wc, buf, sizeof buf);
    assert_string_equal(buf, "inport/0xffffffff eth.type/0xffff");

    /* Exact hit: the winning subtable's whole mask and the masks of the subtables
     * visited before it. */
    pkey_field_set(&k, PKEY_F_ETH_TYPE, 0x800);
    pkey_field_set(&k, PKEY_F_IP4_DST, 0x0a000001);
    pkey_field_set(&k, PKEY_F_TCP_DST, 80);
    pkey_mask_init(&wc);
    assert_ptr_equal(cls_rule_data(cls_lookup(cls, 0, &k, &wc)), &b);
    pkey_mask_format(&wc, buf, sizeof buf);
    assert_string_equal(buf, "eth.type/0xffff ip4.dst/255.255.255.255 ip.proto/0xff "
                             "tcp.dst/0xffff");

    struct cls_stats st;
    cls_get_stats(cls, &st);
    assert_int_equal(st.n_rules, 5);
    assert_int_equal(st.n_entries, 5);
    assert_int_equal(st.n_subtables, 5);
    assert_true(st.n_lookups >= 9);
    assert_true(st.n_stage_misses >= 1);
    cls_destroy(cls);
    cls_destroy(NULL);
    (void)state;
}

static void
test_cls_names_and_errors(void **state)
{
    struct cls *cls;
    assert_int_equal(cls_create(&resolver, &cls), 0);
    struct pkey k;
    pkey_init(&k);

    /* Unknown port name: that conjunction is not installed, the other one is. */
    struct cls_rule *r = add_text(cls, 1, 1, "inport == {\"p2\", \"nope\"}", NULL);
    assert_int_equal(cls_rule_n_entries(r), 1);
    assert_int_equal(cls_rule_n_unresolved(r), 1);
    assert_int_equal(cls_rule_table(r), 1);
    assert_int_equal(cls_rule_priority(r), 1);
    pkey_field_set(&k, PKEY_F_INPORT, 3);
    assert_ptr_equal(cls_lookup(cls, 1, &k, NULL), r);
    pkey_field_set(&k, PKEY_F_INPORT, 0);
    assert_null(cls_lookup(cls, 1, &k, NULL));

    /* is_chassis_resident(): p1 (key 2) is not local, p0 (key 1) is. */
    r = add_text(cls, 2, 1, "is_chassis_resident(\"p0\") && reg1 == 1", NULL);
    assert_int_equal(cls_rule_n_entries(r), 1);
    r = add_text(cls, 2, 1, "is_chassis_resident(\"p1\") && reg1 == 2", NULL);
    assert_int_equal(cls_rule_n_entries(r), 0);
    r = add_text(cls, 2, 1, "!is_chassis_resident(\"p1\") && reg1 == 3", NULL);
    assert_int_equal(cls_rule_n_entries(r), 1);
    struct cls_stats st;
    cls_get_stats(cls, &st);
    assert_int_equal(st.n_unresolved, 1);
    assert_int_equal(st.n_not_local, 1);
    cls_rule_remove(cls, r);
    cls_rule_remove(cls, NULL);

    /* "0" makes a rule that matches nothing. */
    r = add_text(cls, 3, 1, "ip4 && ip6", NULL);
    assert_int_equal(cls_rule_n_entries(r), 0);
    assert_null(cls_lookup(cls, 3, &k, NULL));

    /* Errors leave nothing behind. */
    struct expr_match_list *list = compile("ip4.dst == 10.0.0.1");
    struct ovnic_err err = {0};
    assert_int_equal(cls_rule_add(cls, CLS_MAX_TABLES, 1, list, NULL, NULL, &err),
                     -EINVAL);
    assert_true(ovnic_err_is_set(&err));
    list->matches[0].terms[0].field = symtab_field_get(SYMTAB_F_ICMP4_FRAG_MTU);
    ovnic_err_clear(&err);
    assert_int_equal(cls_rule_add(cls, 0, 1, list, NULL, NULL, &err), -EINVAL);
    assert_string_equal(err.message, "unsupported field");
    expr_match_list_destroy(list);
    struct cls_stats st2;
    cls_get_stats(cls, &st2);
    assert_int_equal(st2.n_rules, 4);
    assert_int_equal(st2.n_entries, 2);

    /* Without a resolver no name is known and nothing is resident. */
    struct cls *bare;
    assert_int_equal(cls_create(NULL, &bare), 0);
    r = add_text(bare, 0, 1, "outport == \"p1\" || is_chassis_resident(\"p0\")", NULL);
    assert_int_equal(cls_rule_n_entries(r), 0);
    cls_destroy(bare);
    cls_destroy(cls);
    (void)state;
}

static void
test_cls_random_vs_reference(void **state)
{
    enum { N_RULES = 600, N_TABLES = 3 };
    struct trule *rules = calloc(N_RULES, sizeof *rules);
    assert_non_null(rules);
    struct cls *cls;
    assert_int_equal(cls_create(&resolver, &cls), 0);

    uint64_t order = 0;
    size_t n_hits = 0;
    for (size_t i = 0; i < N_RULES; i++) {
        random_rule(&rules[i], N_TABLES);
        add_rule(cls, &rules[i], &order);
        if (i == 10 || i == 100) {
            check_against_reference(cls, rules, i + 1, N_TABLES, 500, &n_hits);
        }
    }
    check_against_reference(cls, rules, N_RULES, N_TABLES, 3000, &n_hits);
    assert_true(n_hits > 1000); /* The pools make rules hit often. */

    struct cls_stats st;
    cls_get_stats(cls, &st);
    assert_int_equal(st.n_rules, N_RULES);
    cls_destroy(cls);
    free(rules);
    (void)state;
}

static void
test_cls_incremental_vs_rebuild(void **state)
{
    enum { N_RULES = 400, N_TABLES = 2 };
    struct trule *rules = calloc(N_RULES, sizeof *rules);
    assert_non_null(rules);
    struct cls *cls;
    assert_int_equal(cls_create(&resolver, &cls), 0);

    uint64_t order = 0;
    size_t n_hits = 0;
    for (int round = 0; round < 6; round++) {
        /* Churn: add the missing, remove some of the present. */
        for (size_t i = 0; i < N_RULES; i++) {
            if (!rules[i].live && rndn(2)) {
                random_rule(&rules[i], N_TABLES);
                add_rule(cls, &rules[i], &order);
            } else if (rules[i].live && rndn(3) == 0) {
                cls_rule_remove(cls, rules[i].cr);
                rules[i].live = false;
            }
        }

        /* A classifier built from scratch with the live rules, in addition order. */
        struct cls *fresh;
        assert_int_equal(cls_create(&resolver, &fresh), 0);
        uint64_t fresh_order = 0;
        for (uint64_t o = 0; o < order; o++) {
            for (size_t i = 0; i < N_RULES; i++) {
                if (rules[i].live && rules[i].order == o) {
                    struct cls_rule *cr;
                    assert_int_equal(cls_rule_add(fresh, rules[i].table,
                                                  rules[i].priority, &rules[i].list,
                                                  &rules[i], &cr, NULL),
                                     0);
                    fresh_order++;
                }
            }
        }
        struct cls_stats a, b;
        cls_get_stats(cls, &a);
        cls_get_stats(fresh, &b);
        assert_int_equal(a.n_rules, fresh_order);
        assert_int_equal(a.n_rules, b.n_rules);
        assert_int_equal(a.n_entries, b.n_entries);
        assert_int_equal(a.n_subtables, b.n_subtables);

        for (int p = 0; p < 1500; p++) {
            struct pkey k;
            random_packet(&k);
            unsigned int table = rndn(N_TABLES);
            struct pkey_mask wa, wb;
            pkey_mask_init(&wa);
            pkey_mask_init(&wb);
            const struct trule *ra = lookup(cls, table, &k, &wa);
            const struct trule *rb = lookup(fresh, table, &k, &wb);
            assert_ptr_equal(ra, rb);
            assert_ptr_equal(ra, reference_lookup(rules, N_RULES, table, &k));
            n_hits += ra != NULL;
        }
        cls_destroy(fresh);
        check_against_reference(cls, rules, N_RULES, N_TABLES, 200, &n_hits);
    }
    assert_true(n_hits > 1000);

    /* Remove everything: the classifier is empty again. */
    for (size_t i = 0; i < N_RULES; i++) {
        if (rules[i].live) {
            cls_rule_remove(cls, rules[i].cr);
        }
    }
    struct cls_stats st;
    cls_get_stats(cls, &st);
    assert_int_equal(st.n_rules, 0);
    assert_int_equal(st.n_entries, 0);
    assert_int_equal(st.n_subtables, 0);
    assert_int_equal(st.n_unresolved, 0);
    cls_destroy(cls);
    free(rules);
    (void)state;
}

/* ----- Every match northd 23.03 wrote. ----- */

static const char *const as1[] = {"10.0.0.11", "10.0.0.12"};
static const char *const pg1_ip6[] = {"fd00::11"};
static const char *const svc_mac[] = {"fe:6a:8e:23:35:0f"};
static const char *const lb_ip4[] = {"10.0.0.100"};
static const char *const pg1[] = {"lp1", "lp2"};

static int
golden_address_set(void *aux, const char *name, const char *const **values, size_t *n)
{
    (void)aux;
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
    return -ENOENT;
}

static int
golden_port_group(void *aux, const char *name, const char *const **values, size_t *n)
{
    (void)aux;
    SET("pg1", pg1);
#undef SET
    return -ENOENT;
}

/* Port names of the golden topology get keys 1, 2, ... as they are first seen. */
struct name_table {
    char *names[256];
    size_t n;
};

static int
golden_port_key(void *aux, const char *name, uint32_t *key)
{
    struct name_table *nt = aux;
    for (size_t i = 0; i < nt->n; i++) {
        if (!strcmp(nt->names[i], name)) {
            *key = (uint32_t)i + 1;
            return 0;
        }
    }
    if (nt->n == 256) {
        return -ENOSPC;
    }
    nt->names[nt->n] = strdup(name);
    *key = (uint32_t)++nt->n;
    return 0;
}

static bool
golden_resident(void *aux, const char *port)
{
    (void)aux;
    return strlen(port) % 2 == 0;
}

static bool
golden_resident_flow(const void *aux, const char *port)
{
    return golden_resident((void *)aux, port);
}

/* Sets the field of 'term' in 'k' so that the term holds (random outside the mask). */
static void
satisfy(struct pkey *k, const struct expr_term *t, struct name_table *nt)
{
    enum pkey_field_id id;
    if (t->type == EXPR_TERM_CHASSIS_RESIDENT) {
        return;
    }
    assert_int_equal(pkey_field_from_symtab(t->field->id, &id), 0);
    if (t->type == EXPR_TERM_STRING) {
        uint32_t port;
        assert_int_equal(golden_port_key(nt, t->string, &port), 0);
        pkey_field_set(k, id, port);
    } else {
        lex_u128 noise = ((lex_u128)rnd() << 64) | rnd();
        pkey_field_set(k, id, t->value | (noise & ~t->mask));
    }
}

static void
test_cls_northd_golden(void **state)
{
    const char *dir = getenv("OVNIC_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/unit/controller/northd-23.03.golden",
             dir ? dir : ".");
    FILE *f = fopen(path, "r");
    if (!f) {
        fail_msg("cannot open %s", path);
    }

    struct name_table nt = {.n = 0};
    struct cls_resolver res = {golden_port_key, golden_resident, &nt};
    struct cls *cls;
    assert_int_equal(cls_create(&res, &cls), 0);
    struct expr_lookup lk = {.address_set = golden_address_set,
                             .port_group = golden_port_group};

    enum { MAX_LISTS = 1024 };
    struct expr_match_list **lists = calloc(MAX_LISTS, sizeof *lists);
    assert_non_null(lists);
    uint32_t *prios = calloc(MAX_LISTS, sizeof *prios);
    assert_non_null(prios);
    size_t n = 0, n_conj = 0, n_resident_false = 0;
    static char line[65536];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "match ", 6)) {
            continue;
        }
        assert_true(n < MAX_LISTS);
        struct ovnic_err err = {0};
        assert_int_equal(expr_compile(symtab, line + 6, &lk, NULL, &lists[n], &err), 0);
        /* Each match is one rule in table 0; as northd does, more specific matches get
         * higher priorities (here: the most terms of any conjunction), with many ties. */
        for (size_t c = 0; c < lists[n]->n_matches; c++) {
            prios[n] = MAX(prios[n], (uint32_t)lists[n]->matches[c].n_terms);
        }
        struct cls_rule *rule;
        assert_int_equal(cls_rule_add(cls, 0, prios[n], lists[n], lists[n], &rule, &err),
                         0);
        assert_int_equal(cls_rule_n_unresolved(rule), 0);
        n_conj += lists[n]->n_matches;
        n_resident_false += lists[n]->n_matches - cls_rule_n_entries(rule);
        n++;
    }
    fclose(f);
    assert_true(n >= 200);

    struct cls_stats st;
    cls_get_stats(cls, &st);
    assert_int_equal(st.n_rules, n);
    assert_int_equal(st.n_entries + st.n_not_local, n_conj);
    assert_int_equal(st.n_not_local, n_resident_false);

    /* Random packets built to satisfy a random conjunction of a random rule (and
     * random elsewhere): the winner must be the first list, in priority order, that
     * expr_match_list_evaluate() says matches. */
    size_t n_hits = 0;
    for (int p = 0; p < 4000; p++) {
        struct pkey k;
        pkey_init(&k);
        for (int j = 0; j < 3; j++) {
            const struct expr_match_list *l = lists[rndn((unsigned int)n)];
            if (l->n_matches) {
                const struct expr_match *m =
                    &l->matches[rndn((unsigned int)l->n_matches)];
                for (size_t t = 0; t < m->n_terms; t++) {
                    satisfy(&k, &m->terms[t], &nt);
                }
            }
        }

        struct expr_flow flow = {.is_chassis_resident = golden_resident_flow};
        for (int id = 0; id < SYMTAB_N_FIELDS; id++) {
            enum pkey_field_id pf;
            if (!pkey_field_from_symtab(id, &pf) &&
                !symtab_field_is_string(symtab_field_get(id))) {
                flow.values[id] = pkey_field_get(&k, pf);
            }
        }
        uint32_t in = (uint32_t)pkey_field_get(&k, PKEY_F_INPORT);
        uint32_t out = (uint32_t)pkey_field_get(&k, PKEY_F_OUTPORT);
        flow.inport = in && in <= nt.n ? nt.names[in - 1] : NULL;
        flow.outport = out && out <= nt.n ? nt.names[out - 1] : NULL;

        const struct expr_match_list *want = NULL;
        uint32_t want_prio = 0;
        for (size_t i = 0; i < n; i++) {
            if ((!want || prios[i] > want_prio) &&
                expr_match_list_evaluate(lists[i], &flow)) {
                want = lists[i];
                want_prio = prios[i];
            }
        }
        struct pkey_mask wc;
        pkey_mask_init(&wc);
        const struct cls_rule *got = cls_lookup(cls, 0, &k, &wc);
        if ((got ? cls_rule_data(got) : NULL) != want) {
            char buf[2048];
            pkey_format(&k, NULL, buf, sizeof buf);
            fail_msg("packet [%s]: classifier and evaluation disagree", buf);
        }
        n_hits += want_prio > 1;
    }
    assert_true(n_hits > 1000);

    for (size_t i = 0; i < n; i++) {
        expr_match_list_destroy(lists[i]);
    }
    free(lists);
    free(prios);
    for (size_t i = 0; i < nt.n; i++) {
        free(nt.names[i]);
    }
    cls_destroy(cls);
    (void)state;
}

static int
setup(void **state)
{
    (void)state;
    return symtab_create(&symtab);
}

static int
teardown(void **state)
{
    (void)state;
    symtab_destroy(symtab);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cls_basic),
        cmocka_unit_test(test_cls_names_and_errors),
        cmocka_unit_test(test_cls_random_vs_reference),
        cmocka_unit_test(test_cls_incremental_vs_rebuild),
        cmocka_unit_test(test_cls_northd_golden),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
