/* Unit tests of the action executor (dpu/pipeline/exec.h) on actions that
 * ovn-northd 23.03 writes, parsed with action_parse(). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdlib.h>

#include "dpu/controller/actions.h"
#include "dpu/controller/symtab.h"
#include "dpu/pipeline/ct.h"
#include "dpu/pipeline/exec.h"
#include "dpu/pipeline/key.h"

static struct symtab *symtab;

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

/* ---- Environment: two ports, one MAC binding, one FDB entry. ---- */

#define DP_KEY 7
#define VM1_KEY 1
#define VM2_KEY 2

static int
test_port_key(void *aux, const char *name, uint32_t *key)
{
    (void)aux;
    if (!strcmp(name, "vm1")) {
        *key = VM1_KEY;
        return 0;
    }
    if (!strcmp(name, "vm2")) {
        *key = VM2_KEY;
        return 0;
    }
    return -ENOENT;
}

static const uint8_t bound_mac[6] = {0x0a, 0x00, 0x00, 0x00, 0x00, 0x42};
#define BOUND_IP 0x0a000042 /* 10.0.0.66 */

static int
test_mac_binding(void *aux, uint32_t dp, uint32_t port, bool ipv6, lex_u128 ip,
                 uint8_t mac[6])
{
    (void)aux;
    if (dp == DP_KEY && port == VM1_KEY && !ipv6 && ip == BOUND_IP) {
        memcpy(mac, bound_mac, 6);
        return 0;
    }
    return -ENOENT;
}

static int
test_fdb(void *aux, uint32_t dp, const uint8_t mac[6], uint32_t *port)
{
    (void)aux;
    if (dp == DP_KEY && !memcmp(mac, bound_mac, 6)) {
        *port = VM2_KEY;
        return 0;
    }
    return -ENOENT;
}

static struct exec_env
make_env(struct ct_det *ct)
{
    struct exec_env env = {
        .ct_class = ct ? &ct_det_class : NULL,
        .ct = ct,
        .port_key = test_port_key,
        .mac_binding = test_mac_binding,
        .fdb = test_fdb,
    };
    return env;
}

static const struct exec_params ingress5 = {
    .pipeline = ACTION_PIPELINE_INGRESS,
    .table = 5,
    .pkt_len = 1000,
};

static struct action_list *
parse(const char *s)
{
    struct action_list *list = NULL;
    struct ovnic_err err = {0};
    int error = action_parse(symtab, s, NULL, &list, &err);
    if (error) {
        fail_msg("%s: %s (%s)", s, err.message, err.detail);
    }
    return list;
}

/* A TCP packet 10.0.0.5:40000 -> 10.0.0.100:80 from vm1 on datapath DP_KEY. */
static void
make_tcp_key(struct pkey *key)
{
    static const uint8_t src[6] = {0x0a, 0, 0, 0, 0, 0x05};
    static const uint8_t dst[6] = {0x0a, 0, 0, 0, 0, 0x01};

    pkey_init(key);
    key->f.datapath = htonl(DP_KEY);
    key->f.inport = htonl(VM1_KEY);
    memcpy(key->f.eth_src, src, 6);
    memcpy(key->f.eth_dst, dst, 6);
    key->f.eth_type = htons(0x0800);
    key->f.ip4_src = htonl(0x0a000005);
    key->f.ip4_dst = htonl(0x0a000064);
    key->f.ip_proto = 6;
    key->f.ip_ttl = 64;
    key->f.tcp_src = htons(40000);
    key->f.tcp_dst = htons(80);
}

static const struct exec_change *
find_change(const struct exec_result *r, enum pkey_field_id id)
{
    for (size_t i = 0; i < r->n_changes; i++) {
        if (r->changes[i].field == id) {
            return &r->changes[i];
        }
    }
    return NULL;
}

static void
test_exec_register_load(void **state)
{
    struct action_list *list = parse("reg0[0] = 1; reg1[8..15] = 0x5a; next;");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey_mask wc;
    struct pkey key;

    make_tcp_key(&key);
    pkey_mask_init(&wc);
    exec_result_init(&r, &wc);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    assert_int_equal(r.next_pipeline, ACTION_PIPELINE_INGRESS);
    assert_int_equal(r.next_table, 6);
    assert_int_equal(ntohl(key.f.regs[0]), 1);
    assert_int_equal(ntohl(key.f.regs[1]), 0x5a00);
    assert_int_equal(r.n_changes, 0); /* Registers are not headers. */
    /* Nothing was read from the packet. */
    struct pkey_mask zero;
    pkey_mask_init(&zero);
    assert_memory_equal(&wc, &zero, sizeof wc);
    assert_string_equal(exec_verdict_name(r.verdict), "next");
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_icmp_echo_reply(void **state)
{
    struct action_list *list =
        parse("eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; "
              "icmp4.type = 0; flags.loopback = 1; next;");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey_mask wc;
    struct pkey key, orig;

    make_tcp_key(&key);
    key.f.ip_proto = 1;
    key.f.icmp4_type = 8;
    orig = key;
    pkey_mask_init(&wc);
    exec_result_init(&r, &wc);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    assert_memory_equal(key.f.eth_src, orig.f.eth_dst, 6);
    assert_memory_equal(key.f.eth_dst, orig.f.eth_src, 6);
    assert_int_equal(key.f.ip4_src, orig.f.ip4_dst);
    assert_int_equal(key.f.ip4_dst, orig.f.ip4_src);
    assert_int_equal(key.f.ip_ttl, 255);
    assert_int_equal(key.f.icmp4_type, 0);
    assert_int_equal(ntohl(key.f.flags), 1);

    /* Six header fields changed; flags is metadata. */
    assert_int_equal(r.n_changes, 6);
    const struct exec_change *c = find_change(&r, PKEY_F_IP4_SRC);
    assert_non_null(c);
    assert_true(c->value == 0x0a000064);
    assert_null(find_change(&r, PKEY_F_FLAGS));

    /* The addresses were read (whole), the TTL and type were not. */
    assert_true(pkey_mask_field_get(&wc, PKEY_F_ETH_SRC) == (((lex_u128)1 << 48) - 1));
    assert_true(pkey_mask_field_get(&wc, PKEY_F_IP4_DST) == 0xffffffff);
    assert_true(pkey_mask_field_get(&wc, PKEY_F_IP_TTL) == 0);
    assert_true(pkey_mask_field_get(&wc, PKEY_F_ICMP4_TYPE) == 0);

    /* The changes describe the final key exactly. */
    struct pkey check = orig;
    for (size_t i = 0; i < r.n_changes; i++) {
        const struct exec_change *ch = &r.changes[i];
        lex_u128 v = pkey_field_get(&check, ch->field);
        pkey_field_set(&check, ch->field, (v & ~ch->mask) | ch->value);
    }
    check.f.flags = key.f.flags;
    assert_memory_equal(&check, &key, sizeof key);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_written_not_wildcarded(void **state)
{
    struct action_list *a = parse("reg0 = ip4.dst; next;");
    struct action_list *b = parse("ip4.dst = 192.168.0.1; reg0 = ip4.dst; next;");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey_mask wc;
    struct pkey key;

    make_tcp_key(&key);
    pkey_mask_init(&wc);
    exec_result_init(&r, &wc);
    assert_int_equal(exec_run(&env, &ingress5, a, &key, &r), 0);
    assert_int_equal(ntohl(key.f.regs[0]), 0x0a000064);
    assert_true(pkey_mask_field_get(&wc, PKEY_F_IP4_DST) == 0xffffffff);

    make_tcp_key(&key);
    pkey_mask_init(&wc);
    exec_result_init(&r, &wc);
    assert_int_equal(exec_run(&env, &ingress5, b, &key, &r), 0);
    assert_int_equal(ntohl(key.f.regs[0]), 0xc0a80001);
    assert_true(pkey_mask_field_get(&wc, PKEY_F_IP4_DST) == 0);
    action_list_destroy(a);
    action_list_destroy(b);
    (void)state;
}

static void
test_exec_register_views(void **state)
{
    struct action_list *list = parse("xxreg0 = ip6.dst; xreg4[0..15] = 0x1234; next;");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey key;

    pkey_init(&key);
    key.f.eth_type = htons(0x86dd);
    for (int i = 0; i < 16; i++) {
        key.f.ip6_dst[i] = (uint8_t)(0xf0 + i);
    }
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    /* xxreg0 is reg0..reg3 with reg0 the most significant. */
    assert_int_equal(ntohl(key.f.regs[0]), 0xf0f1f2f3);
    assert_int_equal(ntohl(key.f.regs[3]), 0xfcfdfeff);
    /* xreg4 is reg8..reg9: its low bits are in reg9. */
    assert_int_equal(ntohl(key.f.regs[9]), 0x1234);
    assert_int_equal(ntohl(key.f.regs[8]), 0);
    action_list_destroy(list);

    /* A range across registers: xxreg0[16..47] spans reg3 and reg2. */
    list = parse("xxreg0[16..47] = 0xaabbccdd; next;");
    pkey_init(&key);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(ntohl(key.f.regs[3]), 0xccdd0000);
    assert_int_equal(ntohl(key.f.regs[2]), 0x0000aabb);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_push_pop(void **state)
{
    struct action_list *list = parse("push(xxreg1); xxreg1 = ct_label; "
                                     "eth.dst = xxreg1[32..79]; pop(xxreg1); next;");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey key;

    make_tcp_key(&key);
    key.f.regs[4] = htonl(0x11111111);
    key.f.regs[7] = htonl(0x77777777);
    /* ct_label.ecmp_reply_eth is ct_label[32..79]. */
    pkey_field_set(&key, PKEY_F_CT_LABEL, (lex_u128)0x0a0000000099ULL << 32);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_true(pkey_field_get(&key, PKEY_F_ETH_DST) == 0x0a0000000099ULL);
    assert_int_equal(ntohl(key.f.regs[4]), 0x11111111);
    assert_int_equal(ntohl(key.f.regs[7]), 0x77777777);
    action_list_destroy(list);

    list = parse("pop(reg0); next;");
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), -EINVAL);
    assert_int_equal(r.verdict, EXEC_DROP);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_dec_ttl(void **state)
{
    struct action_list *list = parse("ip.ttl--; next;");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey_mask wc;
    struct pkey key;

    make_tcp_key(&key);
    pkey_mask_init(&wc);
    exec_result_init(&r, &wc);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    assert_int_equal(key.f.ip_ttl, 63);
    assert_true(pkey_mask_field_get(&wc, PKEY_F_IP_TTL) == 0xff);
    assert_int_equal(r.n_changes, 1);

    key.f.ip_ttl = 1;
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_DROP);
    assert_int_equal(r.error, 0);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_output(void **state)
{
    struct action_list *list = parse("outport = \"vm2\"; output;");
    struct action_list *bad = parse("outport = \"nope\"; output;");
    struct action_list *drop = parse("drop;");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey key;

    make_tcp_key(&key);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_OUTPUT);
    assert_int_equal(r.outport, VM2_KEY);
    assert_int_equal(ntohl(key.f.outport), VM2_KEY);
    assert_int_equal(r.n_changes, 0);

    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, bad, &key, &r), -ENOENT);
    assert_int_equal(r.verdict, EXEC_DROP);
    assert_int_equal(r.error, -ENOENT);
    assert_non_null(r.error_msg);

    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, drop, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_DROP);
    assert_int_equal(r.error, 0);
    action_list_destroy(list);
    action_list_destroy(bad);
    action_list_destroy(drop);
    (void)state;
}

static void
test_exec_next_forms(void **state)
{
    struct action_list *list = parse("next(pipeline=egress, table=3);");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey key;

    pkey_init(&key);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    assert_int_equal(r.next_pipeline, ACTION_PIPELINE_EGRESS);
    assert_int_equal(r.next_table, 3);
    action_list_destroy(list);

    /* "next;" from the last table goes nowhere. */
    struct exec_params last = ingress5;
    last.table = ACTION_MAX_TABLES - 1;
    list = parse("next;");
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &last, list, &key, &r), -EINVAL);
    assert_int_equal(r.verdict, EXEC_DROP);
    action_list_destroy(list);

    /* Ops after next are not run, and are counted. */
    list = parse("next; reg0 = 1;");
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.n_skipped, 1);
    assert_int_equal(key.f.regs[0], 0);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_lookup_arp(void **state)
{
    struct action_list *list =
        parse("reg9[2] = lookup_arp(inport, arp.spa, arp.sha); next;");
    struct action_list *ip_only =
        parse("reg9[3] = lookup_arp_ip(inport, arp.spa); next;");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey_mask wc;
    struct pkey key;

    pkey_init(&key);
    key.f.datapath = htonl(DP_KEY);
    key.f.inport = htonl(VM1_KEY);
    key.f.eth_type = htons(0x0806);
    key.f.arp_op = htons(1);
    key.f.arp_spa = htonl(BOUND_IP);
    memcpy(key.f.arp_sha, bound_mac, 6);

    pkey_mask_init(&wc);
    exec_result_init(&r, &wc);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(ntohl(key.f.regs[9]), 1 << 2);
    assert_true(pkey_mask_field_get(&wc, PKEY_F_ARP_SPA) == 0xffffffff);
    assert_true(pkey_mask_field_get(&wc, PKEY_F_ARP_SHA) != 0);
    assert_true(pkey_mask_field_get(&wc, PKEY_F_INPORT) == 0xffffffff);

    /* Another MAC: no match. */
    key.f.regs[9] = htonl(1 << 2);
    key.f.arp_sha[5] = 0x43;
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(ntohl(key.f.regs[9]), 0);

    /* lookup_arp_ip ignores the MAC. */
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, ip_only, &key, &r), 0);
    assert_int_equal(ntohl(key.f.regs[9]), 1 << 3);

    /* Unknown IP. */
    key.f.arp_spa = htonl(BOUND_IP + 1);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, ip_only, &key, &r), 0);
    assert_int_equal(ntohl(key.f.regs[9]), 0);

    /* Without a MAC_Binding source, nothing is known. */
    key.f.arp_spa = htonl(BOUND_IP);
    env.mac_binding = NULL;
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, ip_only, &key, &r), 0);
    assert_int_equal(ntohl(key.f.regs[9]), 0);
    action_list_destroy(list);
    action_list_destroy(ip_only);
    (void)state;
}

static void
test_exec_get_arp(void **state)
{
    struct action_list *list = parse("get_arp(outport, reg0); next;");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey key;

    make_tcp_key(&key);
    key.f.outport = htonl(VM1_KEY);
    key.f.regs[0] = htonl(BOUND_IP);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_memory_equal(key.f.eth_dst, bound_mac, 6);
    assert_non_null(find_change(&r, PKEY_F_ETH_DST));

    key.f.regs[0] = htonl(BOUND_IP + 1);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    static const uint8_t zero[6];
    assert_memory_equal(key.f.eth_dst, zero, 6);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_fdb(void **state)
{
    struct action_list *lookup = parse("reg0[11] = lookup_fdb(inport, eth.src); next;");
    struct action_list *get = parse("outport = get_fdb(eth.dst); next;");
    struct action_list *put = parse("put_fdb(inport, eth.src); next;");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey key;

    make_tcp_key(&key);
    memcpy(key.f.eth_src, bound_mac, 6);
    key.f.inport = htonl(VM2_KEY);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, lookup, &key, &r), 0);
    assert_int_equal(ntohl(key.f.regs[0]), 1 << 11);
    key.f.inport = htonl(VM1_KEY);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, lookup, &key, &r), 0);
    assert_int_equal(ntohl(key.f.regs[0]), 0);

    memcpy(key.f.eth_dst, bound_mac, 6);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, get, &key, &r), 0);
    assert_int_equal(ntohl(key.f.outport), VM2_KEY);
    key.f.eth_dst[0] = 0x02;
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, get, &key, &r), 0);
    assert_int_equal(key.f.outport, 0);

    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, put, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    assert_int_equal(r.n_ctrl, 1);
    assert_int_equal(r.ctrl[0].type, ACTION_PUT_FDB);
    assert_true(r.ctrl[0].args[0] == VM1_KEY);
    assert_true(r.ctrl[0].args[1] == 0x0a0000000042ULL);
    action_list_destroy(lookup);
    action_list_destroy(get);
    action_list_destroy(put);
    (void)state;
}

static void
test_exec_put_arp(void **state)
{
    struct action_list *list = parse("put_arp(inport, arp.spa, arp.sha); next;");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey key;

    pkey_init(&key);
    key.f.datapath = htonl(DP_KEY);
    key.f.inport = htonl(VM1_KEY);
    key.f.eth_type = htons(0x0806);
    key.f.arp_spa = htonl(0x0a000009);
    memcpy(key.f.arp_sha, bound_mac, 6);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    assert_int_equal(r.n_ctrl, 1);
    assert_int_equal(r.ctrl[0].type, ACTION_PUT_ARP);
    assert_false(r.ctrl[0].pause);
    assert_int_equal(r.ctrl[0].datapath, DP_KEY);
    assert_true(r.ctrl[0].args[0] == VM1_KEY);
    assert_true(r.ctrl[0].args[1] == 0x0a000009);
    assert_true(r.ctrl[0].args[2] == 0x0a0000000042ULL);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_put_dhcp_opts_pause(void **state)
{
    struct action_list *list =
        parse("reg0[3] = put_dhcp_opts(offerip = 10.0.0.11, router = 10.0.0.1, "
              "netmask = 255.255.255.0, lease_time = 3600, server_id = 10.0.0.1); next;");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey key;

    make_tcp_key(&key);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_PAUSE);
    assert_int_equal(r.n_ctrl, 1);
    assert_true(r.ctrl[0].pause);
    assert_int_equal(r.ctrl[0].action->n_options, 5);
    assert_int_equal(key.f.regs[0], 0);

    assert_int_equal(exec_resume(&env, &ingress5, &key, &r, 1), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    assert_int_equal(r.next_table, 6);
    assert_int_equal(ntohl(key.f.regs[0]), 1 << 3);
    /* Not paused any more. */
    assert_int_equal(exec_resume(&env, &ingress5, &key, &r, 1), -EINVAL);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_ct_lb_mark(void **state)
{
    struct action_list *list =
        parse("ct_lb_mark(backends=10.0.1.13:8080,10.0.1.14:8080);");
    struct ct_det *ct;
    assert_int_equal(ct_det_create(&ct), 0);
    struct exec_env env = make_env(ct);
    struct exec_result r;
    struct pkey key;

    assert_int_equal(ct_det_set_lb_dst(ct, "10.0.1.14:8080"), 0);
    assert_int_equal(ct_det_push_state(ct, "new"), 0);
    make_tcp_key(&key);
    key.f.regs[13] = htonl(9); /* The port's zone. */
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    assert_int_equal(r.next_table, 6);
    assert_int_equal(r.n_ct, 1);
    assert_int_equal(r.ct[0].type, CT_OP_LB);
    assert_true(r.ct[0].lb_mark);
    assert_true(r.ct[0].recirc);
    assert_int_equal(r.ct[0].zone, 9);
    assert_int_equal(r.ct[0].zone_reg, CT_REG_CT_ZONE);
    assert_int_equal(r.ct[0].backend, 1);
    assert_int_equal(ntohl(key.f.ip4_dst), 0x0a00010e);
    assert_int_equal(ntohs(key.f.tcp_dst), 8080);
    assert_int_equal(ntohl(key.f.ct_state), CT_STATE_TRK | CT_STATE_NEW | CT_STATE_DNAT);
    assert_int_equal(ntohl(key.f.ct_mark) & CT_MARK_NATTED, CT_MARK_NATTED);
    assert_int_equal(ntohs(key.f.ct_zone), 9);
    /* NAT is the tracker's doing, not a set-field. */
    assert_int_equal(r.n_changes, 0);
    ct_det_destroy(ct);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_ct_snat_router(void **state)
{
    struct action_list *list = parse("ct_snat(172.16.0.10);");
    struct ct_det *ct;
    assert_int_equal(ct_det_create(&ct), 0);
    struct exec_env env = make_env(ct);
    struct exec_params params = ingress5;
    struct exec_result r;
    struct pkey key;

    params.pipeline = ACTION_PIPELINE_EGRESS;
    params.table = 2;
    params.is_router = true;
    make_tcp_key(&key);
    key.f.regs[11] = htonl(3);
    key.f.regs[12] = htonl(4);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &params, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    assert_int_equal(r.next_pipeline, ACTION_PIPELINE_EGRESS);
    assert_int_equal(r.next_table, 3);
    assert_int_equal(r.ct[0].type, CT_OP_SNAT);
    assert_int_equal(r.ct[0].zone, 4);
    assert_int_equal(r.ct[0].zone_reg, CT_REG_SNAT_ZONE);
    assert_true(r.ct[0].commit);
    assert_int_equal(ntohl(key.f.ip4_src), 0xac10000a);
    assert_int_equal(ntohl(key.f.ct_state) & CT_STATE_SNAT, CT_STATE_SNAT);
    ct_det_destroy(ct);
    action_list_destroy(list);

    /* ct_dnat in a router uses the DNAT zone, ct_next too. */
    list = parse("ct_dnat;");
    assert_int_equal(ct_det_create(&ct), 0);
    env = make_env(ct);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &params, list, &key, &r), 0);
    assert_int_equal(r.ct[0].zone, 3);
    assert_int_equal(r.ct[0].zone_reg, CT_REG_DNAT_ZONE);
    assert_false(r.ct[0].has_nat_ip);
    ct_det_destroy(ct);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_ct_next_states(void **state)
{
    struct action_list *list = parse("ct_next;");
    struct ct_det *ct;
    assert_int_equal(ct_det_create(&ct), 0);
    struct exec_env env = make_env(ct);
    struct exec_result r;
    struct pkey_mask wc;
    struct pkey key;

    assert_int_equal(ct_det_push_state(ct, "new"), 0);
    assert_int_equal(ct_det_push_state(ct, "rel,rpl"), 0);
    make_tcp_key(&key);
    pkey_mask_init(&wc);
    exec_result_init(&r, &wc);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(ntohl(key.f.ct_state), CT_STATE_TRK | CT_STATE_NEW);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(ntohl(key.f.ct_state), CT_STATE_TRK | CT_STATE_REL | CT_STATE_RPL);
    /* Queue exhausted: trk|est, as ovn-trace. */
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(ntohl(key.f.ct_state), CT_STATE_TRK | CT_STATE_EST);
    assert_int_equal(r.n_ct, 3);
    /* ct_state comes from the tracker: not a wildcard of the packet. */
    assert_true(pkey_mask_field_get(&wc, PKEY_F_CT_STATE) == 0);
    assert_true(pkey_mask_field_get(&wc, PKEY_F_REG0 + 13) == 0xffff);
    assert_int_equal(ct_det_count(ct, CT_OP_NEXT), 3);
    ct_det_destroy(ct);

    /* Without a backend the operation is only recorded. */
    env = make_env(NULL);
    make_tcp_key(&key);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    assert_int_equal(r.n_ct, 1);
    assert_int_equal(key.f.ct_state, 0);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_ct_commit(void **state)
{
    struct action_list *list =
        parse("ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; }; next;");
    struct ct_det *ct;
    assert_int_equal(ct_det_create(&ct), 0);
    struct exec_env env = make_env(ct);
    struct exec_result r;
    struct pkey key;

    make_tcp_key(&key);
    key.f.regs[3] = htonl(0xdeadbeef);
    key.f.ct_mark = htonl(0x3);
    key.f.regs[13] = htonl(5);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    assert_int_equal(r.n_ct, 1);
    const struct ct_op *op = &r.ct[0];
    assert_int_equal(op->type, CT_OP_COMMIT);
    assert_true(op->commit);
    assert_false(op->recirc);
    assert_int_equal(op->zone, 5);
    assert_int_equal(op->mark_mask, 1);
    assert_int_equal(op->mark_value, 0);
    assert_true(op->label_mask == ((lex_u128)0xffffffff << 96));
    assert_true(op->label_value == ((lex_u128)0xdeadbeef << 96));
    assert_int_equal(ntohl(key.f.ct_mark), 0x2);
    assert_true(pkey_field_get(&key, PKEY_F_CT_LABEL) == ((lex_u128)0xdeadbeef << 96));
    ct_det_destroy(ct);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_clone_fork(void **state)
{
    struct action_list *list =
        parse("eth.src = 0a:00:00:00:00:99; clone { ct_clear; inport = outport; "
              "outport = \"\"; flags = 0; flags.loopback = 1; "
              "next(pipeline=ingress, table=0); }; outport = \"vm1\"; output;");
    struct ct_det *ct;
    assert_int_equal(ct_det_create(&ct), 0);
    struct exec_env env = make_env(ct);
    struct exec_params egress = {.pipeline = ACTION_PIPELINE_EGRESS, .table = 9};
    struct exec_result r, child;
    struct pkey key;

    make_tcp_key(&key);
    key.f.outport = htonl(VM2_KEY);
    key.f.ct_state = htonl(CT_STATE_TRK | CT_STATE_EST);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &egress, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_OUTPUT);
    assert_int_equal(r.outport, VM1_KEY);
    assert_int_equal(r.n_forks, 1);
    /* The clone did not touch the main path. */
    assert_int_equal(ntohl(key.f.ct_state), CT_STATE_TRK | CT_STATE_EST);
    assert_int_equal(ntohl(key.f.inport), VM1_KEY);

    const struct exec_fork *f = &r.forks[0];
    struct pkey fkey = f->key;
    exec_result_init_fork(&child, &r, f);
    assert_int_equal(child.n_changes, 1); /* eth.src from before the clone. */
    assert_int_equal(exec_run(&env, &f->params, f->actions, &fkey, &child), 0);
    assert_int_equal(child.verdict, EXEC_NEXT);
    assert_int_equal(child.next_pipeline, ACTION_PIPELINE_INGRESS);
    assert_int_equal(child.next_table, 0);
    assert_int_equal(ntohl(fkey.f.inport), VM2_KEY);
    assert_int_equal(fkey.f.outport, 0);
    assert_int_equal(ntohl(fkey.f.flags), 1);
    assert_int_equal(fkey.f.ct_state, 0);
    assert_int_equal(child.n_ct, 1);
    assert_int_equal(child.ct[0].type, CT_OP_CLEAR);
    ct_det_destroy(ct);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_controller_packets(void **state)
{
    struct action_list *list = parse(
        "icmp4_error { reg9[0] = 1; eth.dst = 0a:00:00:05:00:01; "
        "ip4.dst = ip4.src; ip4.src = 10.5.0.1; ip.ttl = 255; icmp4.type = 3; "
        "icmp4.code = 4; icmp4.frag_mtu = 1400; next(pipeline=ingress, table=0); };");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey key;

    make_tcp_key(&key);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    /* The packet goes to the controller; the original is not forwarded. */
    assert_int_equal(r.verdict, EXEC_DROP);
    assert_int_equal(r.n_ctrl, 1);
    assert_int_equal(r.ctrl[0].type, ACTION_ICMP4_ERROR);
    const struct action_list *nested = r.ctrl[0].action->nested;
    assert_non_null(nested);

    /* The nested actions run on the generated packet's key. */
    struct pkey gen = key;
    struct exec_result gr;
    exec_result_init(&gr, NULL);
    assert_int_equal(exec_run(&env, &ingress5, nested, &gen, &gr), 0);
    assert_int_equal(gr.verdict, EXEC_NEXT);
    assert_int_equal(gr.next_table, 0);
    assert_true(gr.has_frag_mtu);
    assert_int_equal(gr.frag_mtu, 1400);
    assert_int_equal(ntohl(gen.f.ip4_src), 0x0a050001);
    assert_int_equal(ntohl(gen.f.ip4_dst), 0x0a000005);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_check_pkt_larger(void **state)
{
    struct action_list *list = parse("reg9[1] = check_pkt_larger(1514); next;");
    struct exec_env env = make_env(NULL);
    struct exec_params p = ingress5;
    struct exec_result r;
    struct pkey key;

    make_tcp_key(&key);
    p.pkt_len = 1514;
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &p, list, &key, &r), 0);
    assert_int_equal(key.f.regs[9], 0);
    assert_true(r.pkt_len_checked);
    assert_int_equal(r.pkt_len_threshold, 1514);
    p.pkt_len = 1515;
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &p, list, &key, &r), 0);
    assert_int_equal(ntohl(key.f.regs[9]), 2);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_select_deterministic(void **state)
{
    struct action_list *list = parse("reg8[16..31] = select(1=50, 2=50); next;");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey key;
    int seen[3] = {0};

    for (int port = 1000; port < 1200; port++) {
        uint32_t first = 0;
        for (int rep = 0; rep < 2; rep++) {
            make_tcp_key(&key);
            key.f.tcp_src = htons((uint16_t)port);
            exec_result_init(&r, NULL);
            assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
            uint32_t v = ntohl(key.f.regs[8]) >> 16;
            assert_true(v == 1 || v == 2);
            if (rep) {
                assert_int_equal(v, first);
            }
            first = v;
        }
        seen[first]++;
    }
    /* Both members are used. */
    assert_true(seen[1] > 40 && seen[2] > 40);
    action_list_destroy(list);
    (void)state;
}

/* select() ends the list and continues in the next table, as a group bucket does;
 * with a select id it picks that member whatever the hash. */
static void
test_exec_select_next_and_id(void **state)
{
    struct action_list *list = parse("reg8[16..31] = select(1, 2, 3);");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey key;

    for (uint16_t id = 1; id <= 3; id++) {
        env.select_id = id;
        for (int port = 1000; port < 1010; port++) {
            make_tcp_key(&key);
            key.f.tcp_src = htons((uint16_t)port);
            exec_result_init(&r, NULL);
            assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
            assert_int_equal(r.verdict, EXEC_NEXT);
            assert_int_equal(r.next_table, ingress5.table + 1);
            assert_int_equal(ntohl(key.f.regs[8]) >> 16, id);
        }
    }
    /* An id no member has: by the hash, still one of them. */
    env.select_id = 9;
    make_tcp_key(&key);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    uint32_t v = ntohl(key.f.regs[8]) >> 16;
    assert_true(v >= 1 && v <= 3);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_misc_recorded(void **state)
{
    struct action_list *list =
        parse("set_queue(10); log(name=\"acl1\", severity=info, verdict=allow); "
              "reg0[15] = check_in_port_sec(); reg0[12] = chk_lb_hairpin(); next;");
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey key;

    make_tcp_key(&key);
    key.f.regs[0] = htonl(0xffffffff);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    assert_int_equal(r.queue_id, 10);
    assert_int_equal(r.n_logs, 1);
    assert_string_equal(r.logs[0]->log.name, "acl1");
    assert_int_equal(ntohl(key.f.regs[0]) & ((1 << 15) | (1 << 12)), 0);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_overflow_counted(void **state)
{
    /* Each ct_clear closes the set-field run, so every eth.src write is new. */
    char buf[4096];
    size_t len = 0;
    for (int i = 0; i < EXEC_MAX_CHANGES + 3; i++) {
        len += (size_t)snprintf(buf + len, sizeof buf - len,
                                "eth.src = 0a:00:00:00:00:%02x; ct_clear; ", i);
    }
    snprintf(buf + len, sizeof buf - len, "next;");
    struct action_list *list = parse(buf);
    struct exec_env env = make_env(NULL);
    struct exec_result r;
    struct pkey key;

    make_tcp_key(&key);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &ingress5, list, &key, &r), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    assert_int_equal(r.n_changes, EXEC_MAX_CHANGES);
    assert_int_equal(r.n_ct, EXEC_MAX_CT);
    assert_true(r.n_overflows >= 3);
    assert_int_equal(key.f.eth_src[5], EXEC_MAX_CHANGES + 2);
    action_list_destroy(list);
    (void)state;
}

static void
test_exec_changes_diff(void **state)
{
    struct exec_result r;
    struct pkey a, b;

    make_tcp_key(&a);
    b = a;
    b.f.ip_ttl = 9;
    b.f.regs[0] = htonl(1);
    b.f.tcp_dst = htons(81);
    exec_result_init(&r, NULL);
    exec_changes_diff(&a, &b, &r);
    assert_int_equal(r.n_changes, 2);
    assert_non_null(find_change(&r, PKEY_F_IP_TTL));
    assert_non_null(find_change(&r, PKEY_F_TCP_DST));
    assert_true(exec_field_is_header(PKEY_F_ETH_DST));
    assert_false(exec_field_is_header(PKEY_F_OUTPORT));
    (void)state;
}

/* Every action string ovn-northd 23.03 wrote for the reference topologies (the fuzz
 * seeds) runs on a TCP, an ARP and an IPv6 key without crashing or leaking. */
static void
test_exec_northd_corpus(void **state)
{
    const char *srcdir = getenv("OVNIC_SOURCE_DIR");
    char dir[1024];
    size_t n_files = 0, n_ok = 0;

    if (!srcdir) {
        skip();
    }
    snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/actions", srcdir);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "northd", 6)) {
            continue;
        }
        char path[2048], text[8192];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        size_t len = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[len] = '\0';

        struct action_list *list = NULL;
        if (action_parse(symtab, text, NULL, &list, NULL)) {
            continue;
        }
        n_files++;
        for (int kind = 0; kind < 3; kind++) {
            struct ct_det *ct;
            assert_int_equal(ct_det_create(&ct), 0);
            struct exec_env env = make_env(ct);
            struct exec_params params = ingress5;
            params.is_router = kind == 1;
            struct exec_result r;
            struct pkey_mask wc;
            struct pkey key;
            make_tcp_key(&key);
            if (kind == 1) {
                key.f.eth_type = htons(0x0806);
            } else if (kind == 2) {
                key.f.eth_type = htons(0x86dd);
            }
            pkey_mask_init(&wc);
            exec_result_init(&r, &wc);
            int error = exec_run(&env, &params, list, &key, &r);
            if (error) {
                /* Unknown ports, and NAT to an address of the other family than the
                 * key's (the flow's match rules that out in a real walk). */
                assert_true(error == -ENOENT || error == -EAFNOSUPPORT);
                assert_int_equal(r.verdict, EXEC_DROP);
            } else {
                n_ok++;
                assert_true(r.verdict <= EXEC_PAUSE);
                if (r.verdict == EXEC_PAUSE) {
                    assert_int_equal(exec_resume(&env, &params, &key, &r, 1), 0);
                }
            }
            ct_det_destroy(ct);
        }
        action_list_destroy(list);
    }
    closedir(d);
    assert_true(n_files >= 100);
    assert_true(n_ok >= n_files * 2);
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec_register_load),
        cmocka_unit_test(test_exec_icmp_echo_reply),
        cmocka_unit_test(test_exec_written_not_wildcarded),
        cmocka_unit_test(test_exec_register_views),
        cmocka_unit_test(test_exec_push_pop),
        cmocka_unit_test(test_exec_dec_ttl),
        cmocka_unit_test(test_exec_output),
        cmocka_unit_test(test_exec_next_forms),
        cmocka_unit_test(test_exec_lookup_arp),
        cmocka_unit_test(test_exec_get_arp),
        cmocka_unit_test(test_exec_fdb),
        cmocka_unit_test(test_exec_put_arp),
        cmocka_unit_test(test_exec_put_dhcp_opts_pause),
        cmocka_unit_test(test_exec_ct_lb_mark),
        cmocka_unit_test(test_exec_ct_snat_router),
        cmocka_unit_test(test_exec_ct_next_states),
        cmocka_unit_test(test_exec_ct_commit),
        cmocka_unit_test(test_exec_clone_fork),
        cmocka_unit_test(test_exec_controller_packets),
        cmocka_unit_test(test_exec_check_pkt_larger),
        cmocka_unit_test(test_exec_select_deterministic),
        cmocka_unit_test(test_exec_select_next_and_id),
        cmocka_unit_test(test_exec_misc_recorded),
        cmocka_unit_test(test_exec_overflow_counted),
        cmocka_unit_test(test_exec_changes_diff),
        cmocka_unit_test(test_exec_northd_corpus),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
