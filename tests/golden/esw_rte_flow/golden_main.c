/* Golden test driver of the rte_flow eSwitch backend's translation.
 *
 * Usage: esw_rte_flow_golden CASE_DIR
 *
 * CASE_DIR/input describes a megaflow-like rule, one "key = value" per line:
 *
 *   proxy = 0                     transfer proxy port
 *   group_offset = 1              optional
 *   attr = group=0 priority=3     optional
 *   match = in_port=1,eth_dst=02:00:00:00:00:02,ip_dst=10.0.0.0/24,ip_proto=6,tp_dst=80
 *   actions = set_eth_dst:02:00:00:00:00:09,dec_ttl,output:0,count
 *
 * Match keys: in_port, in_rep, eth_src, eth_dst, eth_type, vlan, ip_src, ip_dst
 * (A.B.C.D[/LEN]), ip_proto, ipv6_src, ipv6_dst, tp_src, tp_dst, icmp_type, and for a
 * packet arriving in Geneve: tun_src, tun_dst, tun_vni, tun_ovn (IN:OUT port keys).
 * Actions: set_eth_src:MAC, set_eth_dst:MAC, set_ip_src:IP, set_ip_dst:IP,
 * set_ipv6_dst:IP6, set_tp_src:N, set_tp_dst:N, modify_ip_dst:IP, dec_ttl, count,
 * age:SEC, meter:ID, drop, jump:GROUP, output:PORT, to_rep:PORT, decap, ct,
 * encap:vni=N;src=IP;dst=IP;eth_src=MAC;eth_dst=MAC;in=N;out=N.
 *
 * Two optional keys select the device's template/async API instead of one
 * rte_flow_create():
 *
 *   template = 4096               rules of the template table (0: the default size)
 *   device = queues=4 queue_size=2048 counters=0 aging=65536
 *                                 what rte_flow_info_get() would report
 *
 * The rule is translated for the device and rendered as testpmd commands (or as
 * "error: ..." when the translation refuses it), and compared with CASE_DIR/expected:
 * "flow create ..." without "template", otherwise the "flow configure",
 * "flow pattern_template", "flow actions_template" and "flow template_table" commands
 * of the rule's shape, then "flow queue ... create", "flow push" and "flow pull".
 * With OVNIC_GOLDEN_UPDATE=1, CASE_DIR/expected is rewritten instead. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offload/esw_rte_flow.h"
#include "tests/hw-sim/eswitch/geneve.h"

#define GOLDEN_MAX 32

struct rule_in {
    struct rte_flow_attr attr;
    struct rte_flow_item items[GOLDEN_MAX];
    size_t n_items;
    struct rte_flow_action actions[GOLDEN_MAX];
    size_t n_actions;

    struct rte_flow_item_ethdev port;
    struct rte_flow_item_eth eth, eth_m, outer_eth;
    struct rte_flow_item_vlan vlan;
    struct rte_flow_item_ipv4 ip, ip_m, outer_ip, outer_ip_m;
    struct rte_flow_item_ipv6 ip6, ip6_m;
    struct rte_flow_item_udp udp, udp_m;
    struct rte_flow_item_tcp tcp, tcp_m;
    struct rte_flow_item_icmp icmp, icmp_m;
    struct rte_flow_item_geneve gnv;
    struct rte_flow_item_geneve_opt opt;
    uint32_t opt_data;

    struct rte_flow_action_set_mac macs[4];
    struct rte_flow_action_set_ipv4 ips[4];
    struct rte_flow_action_set_ipv6 ip6s[2];
    struct rte_flow_action_set_tp tps[4];
    struct rte_flow_action_modify_field mfs[2];
    struct rte_flow_action_age age;
    struct rte_flow_action_meter meter;
    struct rte_flow_action_jump jump;
    struct rte_flow_action_ethdev outs[4];
    struct rte_flow_action_raw_encap encap;
    uint8_t encap_data[128];
    struct rte_flow_action_conntrack ct;
    size_t n_macs, n_ips, n_ip6s, n_tps, n_mfs, n_outs;
};

static int
die(const char *what, const char *arg)
{
    fprintf(stderr, "golden: %s: %s\n", what, arg);
    exit(2);
}

static void
parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) {
        die("bad MAC", s);
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = (uint8_t)b[i];
    }
}

static void
parse_ip(const char *s, uint32_t *addr, uint32_t *mask)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    char *slash = strchr(buf, '/');
    int len = 32;
    if (slash) {
        *slash = '\0';
        len = atoi(slash + 1);
    }
    struct in_addr a;
    if (inet_pton(AF_INET, buf, &a) != 1 || len < 0 || len > 32) {
        die("bad IPv4 address", s);
    }
    *addr = a.s_addr;
    if (mask) {
        *mask = htonl(len ? 0xffffffffu << (32 - len) : 0);
    }
}

static void
parse_ip6(const char *s, uint8_t addr[16])
{
    if (inet_pton(AF_INET6, s, addr) != 1) {
        die("bad IPv6 address", s);
    }
}

static unsigned long
num(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (end == s || *end) {
        die("bad number", s);
    }
    return v;
}

static void
add_item(struct rule_in *r, enum rte_flow_item_type type, const void *spec,
         const void *mask)
{
    r->items[r->n_items++] =
        (struct rte_flow_item){.type = type, .spec = spec, .mask = mask};
}

static void
add_action(struct rule_in *r, enum rte_flow_action_type type, const void *conf)
{
    r->actions[r->n_actions++] = (struct rte_flow_action){.type = type, .conf = conf};
}

static void
parse_match(struct rule_in *r, char *s)
{
    bool has_port = false, port_rep = false, has_eth = false, has_vlan = false;
    bool has_ip = false, has_ip6 = false, tunnel = false, has_ovn = false;
    bool has_outer_ip = false;
    int proto = -1;
    long tp_src = -1, tp_dst = -1, icmp_type = -1;
    char *save = NULL;
    for (char *kv = strtok_r(s, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            die("bad match", kv);
        }
        *eq = '\0';
        const char *k = kv, *v = eq + 1;
        if (!strcmp(k, "in_port") || !strcmp(k, "in_rep")) {
            has_port = true;
            port_rep = !strcmp(k, "in_rep");
            r->port.port_id = (uint16_t)num(v);
        } else if (!strcmp(k, "eth_src")) {
            parse_mac(v, r->eth.hdr.src_addr.addr_bytes);
            memset(&r->eth_m.hdr.src_addr, 0xff, 6);
            has_eth = true;
        } else if (!strcmp(k, "eth_dst")) {
            parse_mac(v, r->eth.hdr.dst_addr.addr_bytes);
            memset(&r->eth_m.hdr.dst_addr, 0xff, 6);
            has_eth = true;
        } else if (!strcmp(k, "eth_type")) {
            r->eth.hdr.ether_type = htons((uint16_t)num(v));
            r->eth_m.hdr.ether_type = 0xffff;
            has_eth = true;
        } else if (!strcmp(k, "vlan")) {
            r->vlan.hdr.vlan_tci = htons((uint16_t)num(v));
            has_vlan = true;
        } else if (!strcmp(k, "ip_src")) {
            uint32_t a, m;
            parse_ip(v, &a, &m);
            r->ip.hdr.src_addr = a;
            r->ip_m.hdr.src_addr = m;
            has_ip = true;
        } else if (!strcmp(k, "ip_dst")) {
            uint32_t a, m;
            parse_ip(v, &a, &m);
            r->ip.hdr.dst_addr = a;
            r->ip_m.hdr.dst_addr = m;
            has_ip = true;
        } else if (!strcmp(k, "ipv6_src")) {
            parse_ip6(v, r->ip6.hdr.src_addr);
            memset(r->ip6_m.hdr.src_addr, 0xff, 16);
            has_ip6 = true;
        } else if (!strcmp(k, "ipv6_dst")) {
            parse_ip6(v, r->ip6.hdr.dst_addr);
            memset(r->ip6_m.hdr.dst_addr, 0xff, 16);
            has_ip6 = true;
        } else if (!strcmp(k, "ip_proto")) {
            proto = (int)num(v);
        } else if (!strcmp(k, "tp_src")) {
            tp_src = (long)num(v);
        } else if (!strcmp(k, "tp_dst")) {
            tp_dst = (long)num(v);
        } else if (!strcmp(k, "icmp_type")) {
            icmp_type = (long)num(v);
        } else if (!strcmp(k, "tun_src")) {
            uint32_t a, m;
            parse_ip(v, &a, &m);
            r->outer_ip.hdr.src_addr = a;
            r->outer_ip_m.hdr.src_addr = m;
            tunnel = has_outer_ip = true;
        } else if (!strcmp(k, "tun_dst")) {
            uint32_t a, m;
            parse_ip(v, &a, &m);
            r->outer_ip.hdr.dst_addr = a;
            r->outer_ip_m.hdr.dst_addr = m;
            tunnel = has_outer_ip = true;
        } else if (!strcmp(k, "tun_vni")) {
            unsigned long vni = num(v);
            r->gnv.vni[0] = (uint8_t)(vni >> 16);
            r->gnv.vni[1] = (uint8_t)(vni >> 8);
            r->gnv.vni[2] = (uint8_t)vni;
            tunnel = true;
        } else if (!strcmp(k, "tun_ovn")) {
            unsigned int in, out;
            if (sscanf(v, "%u:%u", &in, &out) != 2) {
                die("bad tun_ovn", v);
            }
            r->opt_data = htonl((in & 0x7fff) << 16 | (out & 0xffff));
            r->opt.option_class = htons(GENEVE_OVN_CLASS);
            r->opt.option_type = GENEVE_OVN_TYPE;
            r->opt.option_len = 1;
            r->opt.data = &r->opt_data;
            tunnel = has_ovn = true;
        } else {
            die("unknown match key", k);
        }
    }
    if (has_port) {
        add_item(r,
                 port_rep ? RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR
                          : RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT,
                 &r->port, NULL);
    }
    if (tunnel) {
        add_item(r, RTE_FLOW_ITEM_TYPE_ETH, NULL, NULL);
        add_item(r, RTE_FLOW_ITEM_TYPE_IPV4, has_outer_ip ? &r->outer_ip : NULL,
                 has_outer_ip ? &r->outer_ip_m : NULL);
        add_item(r, RTE_FLOW_ITEM_TYPE_GENEVE, &r->gnv, NULL);
        if (has_ovn) {
            add_item(r, RTE_FLOW_ITEM_TYPE_GENEVE_OPT, &r->opt, NULL);
        }
    }
    if (has_eth || has_vlan || (!tunnel && (has_ip || has_ip6))) {
        add_item(r, RTE_FLOW_ITEM_TYPE_ETH, has_eth ? &r->eth : NULL,
                 has_eth ? &r->eth_m : NULL);
    }
    if (has_vlan) {
        add_item(r, RTE_FLOW_ITEM_TYPE_VLAN, &r->vlan, NULL);
    }
    if (proto >= 0 && has_ip) {
        r->ip.hdr.next_proto_id = (uint8_t)proto;
        r->ip_m.hdr.next_proto_id = 0xff;
    }
    if (proto >= 0 && has_ip6) {
        r->ip6.hdr.proto = (uint8_t)proto;
        r->ip6_m.hdr.proto = 0xff;
    }
    if (has_ip) {
        add_item(r, RTE_FLOW_ITEM_TYPE_IPV4, &r->ip, &r->ip_m);
    }
    if (has_ip6) {
        add_item(r, RTE_FLOW_ITEM_TYPE_IPV6, &r->ip6, &r->ip6_m);
    }
    if (proto == 6 || proto == 17) {
        uint16_t src = tp_src >= 0 ? htons((uint16_t)tp_src) : 0;
        uint16_t dst = tp_dst >= 0 ? htons((uint16_t)tp_dst) : 0;
        uint16_t msrc = tp_src >= 0 ? 0xffff : 0;
        uint16_t mdst = tp_dst >= 0 ? 0xffff : 0;
        if (proto == 6) {
            r->tcp.hdr.src_port = src;
            r->tcp.hdr.dst_port = dst;
            r->tcp_m.hdr.src_port = msrc;
            r->tcp_m.hdr.dst_port = mdst;
        } else {
            r->udp.hdr.src_port = src;
            r->udp.hdr.dst_port = dst;
            r->udp_m.hdr.src_port = msrc;
            r->udp_m.hdr.dst_port = mdst;
        }
        if (proto == 6) {
            add_item(r, RTE_FLOW_ITEM_TYPE_TCP, &r->tcp, &r->tcp_m);
        } else {
            add_item(r, RTE_FLOW_ITEM_TYPE_UDP, &r->udp, &r->udp_m);
        }
    } else if (proto == 1) {
        if (icmp_type >= 0) {
            r->icmp.hdr.icmp_type = (uint8_t)icmp_type;
            r->icmp_m.hdr.icmp_type = 0xff;
        }
        add_item(r, RTE_FLOW_ITEM_TYPE_ICMP, &r->icmp, &r->icmp_m);
    }
    r->items[r->n_items].type = RTE_FLOW_ITEM_TYPE_END;
}

static void
parse_encap(struct rule_in *r, char *s)
{
    struct geneve_encap g = {.ovn_opt = false};
    char *save = NULL;
    for (char *kv = strtok_r(s, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            die("bad encap", kv);
        }
        *eq = '\0';
        const char *k = kv, *v = eq + 1;
        uint32_t a;
        if (!strcmp(k, "vni")) {
            g.vni = (uint32_t)num(v);
        } else if (!strcmp(k, "src")) {
            parse_ip(v, &a, NULL);
            memcpy(g.ip_src, &a, 4);
        } else if (!strcmp(k, "dst")) {
            parse_ip(v, &a, NULL);
            memcpy(g.ip_dst, &a, 4);
        } else if (!strcmp(k, "eth_src")) {
            parse_mac(v, g.eth_src);
        } else if (!strcmp(k, "eth_dst")) {
            parse_mac(v, g.eth_dst);
        } else if (!strcmp(k, "in")) {
            g.in_port = (uint16_t)num(v);
            g.ovn_opt = true;
        } else if (!strcmp(k, "out")) {
            g.out_port = (uint16_t)num(v);
            g.ovn_opt = true;
        } else {
            die("unknown encap key", k);
        }
    }
    r->encap.size = geneve_encap_build(&g, r->encap_data, sizeof r->encap_data);
    if (!r->encap.size) {
        die("cannot build encap", "");
    }
    r->encap.data = r->encap_data;
    add_action(r, RTE_FLOW_ACTION_TYPE_RAW_ENCAP, &r->encap);
}

static void
parse_actions(struct rule_in *r, char *s)
{
    char *save = NULL;
    for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *arg = strchr(tok, ':');
        if (arg) {
            *arg++ = '\0';
        }
        const char *a = tok;
        bool needs_arg = strcmp(a, "dec_ttl") && strcmp(a, "count") &&
                         strcmp(a, "drop") && strcmp(a, "decap") && strcmp(a, "ct");
        if (needs_arg && !arg) {
            die("action needs an argument", a);
        }
        if (r->n_macs >= 4 || r->n_ips >= 4 || r->n_tps >= 4 || r->n_outs >= 4 ||
            r->n_ip6s >= 2 || r->n_mfs >= 2 || r->n_actions >= GOLDEN_MAX - 1) {
            die("too many actions", a);
        }
        if (!strcmp(a, "set_eth_src") || !strcmp(a, "set_eth_dst")) {
            struct rte_flow_action_set_mac *m = &r->macs[r->n_macs++];
            parse_mac(arg, m->mac_addr);
            add_action(r,
                       !strcmp(a, "set_eth_src") ? RTE_FLOW_ACTION_TYPE_SET_MAC_SRC
                                                 : RTE_FLOW_ACTION_TYPE_SET_MAC_DST,
                       m);
        } else if (!strcmp(a, "set_ip_src") || !strcmp(a, "set_ip_dst")) {
            struct rte_flow_action_set_ipv4 *ip = &r->ips[r->n_ips++];
            uint32_t addr;
            parse_ip(arg, &addr, NULL);
            ip->ipv4_addr = addr;
            add_action(r,
                       !strcmp(a, "set_ip_src") ? RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC
                                                : RTE_FLOW_ACTION_TYPE_SET_IPV4_DST,
                       ip);
        } else if (!strcmp(a, "set_ipv6_dst")) {
            struct rte_flow_action_set_ipv6 *ip6 = &r->ip6s[r->n_ip6s++];
            parse_ip6(arg, ip6->ipv6_addr);
            add_action(r, RTE_FLOW_ACTION_TYPE_SET_IPV6_DST, ip6);
        } else if (!strcmp(a, "set_tp_src") || !strcmp(a, "set_tp_dst")) {
            struct rte_flow_action_set_tp *tp = &r->tps[r->n_tps++];
            tp->port = htons((uint16_t)num(arg));
            add_action(r,
                       !strcmp(a, "set_tp_src") ? RTE_FLOW_ACTION_TYPE_SET_TP_SRC
                                                : RTE_FLOW_ACTION_TYPE_SET_TP_DST,
                       tp);
        } else if (!strcmp(a, "modify_ip_dst")) {
            struct rte_flow_action_modify_field *mf = &r->mfs[r->n_mfs++];
            uint32_t addr;
            parse_ip(arg, &addr, NULL);
            mf->operation = RTE_FLOW_MODIFY_SET;
            mf->dst.field = RTE_FLOW_FIELD_IPV4_DST;
            mf->src.field = RTE_FLOW_FIELD_VALUE;
            memcpy(mf->src.value, &addr, 4);
            mf->width = 32;
            add_action(r, RTE_FLOW_ACTION_TYPE_MODIFY_FIELD, mf);
        } else if (!strcmp(a, "dec_ttl")) {
            add_action(r, RTE_FLOW_ACTION_TYPE_DEC_TTL, NULL);
        } else if (!strcmp(a, "count")) {
            add_action(r, RTE_FLOW_ACTION_TYPE_COUNT, NULL);
        } else if (!strcmp(a, "drop")) {
            add_action(r, RTE_FLOW_ACTION_TYPE_DROP, NULL);
        } else if (!strcmp(a, "decap")) {
            add_action(r, RTE_FLOW_ACTION_TYPE_RAW_DECAP, NULL);
        } else if (!strcmp(a, "ct")) {
            r->ct.enable = 1;
            r->ct.is_original_dir = 1;
            r->ct.state = RTE_FLOW_CONNTRACK_STATE_ESTABLISHED;
            add_action(r, RTE_FLOW_ACTION_TYPE_CONNTRACK, &r->ct);
        } else if (!strcmp(a, "age")) {
            r->age.timeout = (uint32_t)num(arg);
            add_action(r, RTE_FLOW_ACTION_TYPE_AGE, &r->age);
        } else if (!strcmp(a, "meter")) {
            r->meter.mtr_id = (uint32_t)num(arg);
            add_action(r, RTE_FLOW_ACTION_TYPE_METER, &r->meter);
        } else if (!strcmp(a, "jump")) {
            r->jump.group = (uint32_t)num(arg);
            add_action(r, RTE_FLOW_ACTION_TYPE_JUMP, &r->jump);
        } else if (!strcmp(a, "output") || !strcmp(a, "to_rep")) {
            struct rte_flow_action_ethdev *o = &r->outs[r->n_outs++];
            o->port_id = (uint16_t)num(arg);
            add_action(r,
                       !strcmp(a, "output") ? RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT
                                            : RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR,
                       o);
        } else if (!strcmp(a, "encap")) {
            parse_encap(r, arg);
        } else {
            die("unknown action", a);
        }
    }
    r->actions[r->n_actions].type = RTE_FLOW_ACTION_TYPE_END;
}

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n')) {
        s[--n] = '\0';
    }
    return s;
}

static char *
read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strdup(buf);
}

/* The template/async form of 'out' into 'text'. */
static void
render_template(const struct esw_rte_flow_xlate_cfg *cfg,
                const struct esw_rte_flow_rule *out, uint32_t nb_flows,
                const struct rte_flow_port_info *pinfo,
                const struct rte_flow_queue_info *qinfo, char *text, size_t size)
{
    static struct esw_rte_flow_template t;
    struct esw_error err;
    esw_error_clear(&err);
    if (esw_rte_flow_template_build(out, nb_flows, &t, &err)) {
        char why[512];
        snprintf(text, size, "error: %s\n", esw_error_format(&err, why, sizeof why));
        return;
    }
    if (!pinfo->max_nb_queues) {
        /* As the backend: no queues, one rte_flow_create() per rule. */
        int n = snprintf(text, size, "# no queues: rte_flow_create()\n");
        esw_rule_format(&out->attr, out->items, out->actions, cfg->proxy_port, text + n,
                        size - (size_t)n - 1);
        strcat(text, "\n");
        return;
    }
    struct esw_rte_flow_port_cfg pcfg;
    esw_rte_flow_port_cfg_choose(pinfo, qinfo, 1u << 20, &pcfg);
    size_t len = 0;
    int n = esw_rte_flow_template_format(&pcfg, &t, cfg->proxy_port, 0, text, size);
    if (n < 0 || (size_t)n >= size) {
        die("rendering too long", "template");
    }
    len = (size_t)n;
    n = esw_rte_flow_queue_format(out, cfg->proxy_port, 0, 0, true, text + len,
                                  size - len);
    if (n < 0 || (size_t)n >= size - len) {
        die("rendering too long", "queue");
    }
    len += (size_t)n;
    n = snprintf(text + len, size - len, "\nflow push %u queue 0\nflow pull %u queue 0\n",
                 cfg->proxy_port, cfg->proxy_port);
    if (n < 0 || (size_t)n >= size - len) {
        die("rendering too long", "push");
    }
}

int
main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CASE_DIR\n", argv[0]);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/input", argv[1]);
    FILE *f = fopen(path, "r");
    if (!f) {
        die("cannot open", path);
    }
    static struct rule_in r;
    struct esw_rte_flow_xlate_cfg cfg = {0};
    bool template = false;
    uint32_t nb_flows = 0;
    struct rte_flow_port_info pinfo = {.max_nb_queues = 1};
    struct rte_flow_queue_info qinfo = {0};
    r.attr.transfer = 1;
    r.items[0].type = RTE_FLOW_ITEM_TYPE_END;
    r.actions[0].type = RTE_FLOW_ACTION_TYPE_END;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash) {
            *hash = '\0';
        }
        char *eq = strchr(line, '=');
        if (!eq) {
            if (*trim(line)) {
                die("bad line", line);
            }
            continue;
        }
        *eq = '\0';
        char *key = trim(line), *value = trim(eq + 1);
        if (!strcmp(key, "proxy")) {
            cfg.proxy_port = (uint16_t)num(value);
        } else if (!strcmp(key, "group_offset")) {
            cfg.group_offset = (uint32_t)num(value);
        } else if (!strcmp(key, "attr")) {
            unsigned int group = 0, prio = 0;
            if (sscanf(value, "group=%u priority=%u", &group, &prio) != 2) {
                die("bad attr", value);
            }
            r.attr.group = group;
            r.attr.priority = prio;
        } else if (!strcmp(key, "template")) {
            template = true;
            nb_flows = (uint32_t)num(value);
        } else if (!strcmp(key, "device")) {
            unsigned int q, qs, c, a;
            if (sscanf(value, "queues=%u queue_size=%u counters=%u aging=%u", &q, &qs, &c,
                       &a) != 4) {
                die("bad device", value);
            }
            pinfo.max_nb_queues = q;
            pinfo.max_nb_counters = c;
            pinfo.max_nb_aging_objects = a;
            qinfo.max_size = qs;
        } else if (!strcmp(key, "match")) {
            parse_match(&r, value);
        } else if (!strcmp(key, "actions")) {
            parse_actions(&r, value);
        } else {
            die("unknown key", key);
        }
    }
    fclose(f);

    static struct esw_rte_flow_rule out;
    struct esw_error err;
    esw_error_clear(&err);
    char text[8192];
    if (esw_rte_flow_translate(&cfg, &r.attr, r.items, r.actions, NULL, &out, &err)) {
        char why[512];
        snprintf(text, sizeof text, "error: %s\n",
                 esw_error_format(&err, why, sizeof why));
    } else if (template) {
        render_template(&cfg, &out, nb_flows, &pinfo, &qinfo, text, sizeof text);
    } else {
        int n = esw_rule_format(&out.attr, out.items, out.actions, cfg.proxy_port, text,
                                sizeof text - 1);
        if (n < 0 || (size_t)n >= sizeof text - 1) {
            die("rendering too long", argv[1]);
        }
        strcat(text, "\n");
    }

    snprintf(path, sizeof path, "%s/expected", argv[1]);
    const char *update = getenv("OVNIC_GOLDEN_UPDATE");
    if (update && !strcmp(update, "1")) {
        FILE *o = fopen(path, "w");
        if (!o || fputs(text, o) < 0 || fclose(o)) {
            die("cannot write", path);
        }
        return 0;
    }
    char *expected = read_all(path);
    if (!expected) {
        die("cannot read", path);
    }
    int rc = strcmp(expected, text) ? 1 : 0;
    if (rc) {
        fprintf(stderr, "golden mismatch in %s\n--- expected\n%s--- got\n%s", argv[1],
                expected, text);
    }
    free(expected);
    return rc;
}
