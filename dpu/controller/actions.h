/* ovnic: OVN logical-flow actions, and their IR.
 *
 * A Logical_Flow's actions, e.g.
 *
 *     ip.ttl--; reg0 = ip4.dst; eth.src = 0a:00:00:00:00:01; outport = "lrp1"; next;
 *
 * are parsed, as ovn-controller 23.03 parses them, into a list of ops (struct
 * action_list).  Every action that ovn-northd 23.03 writes is understood: control
 * (next, output, drop), assignments to fields and subfields (constants, masked
 * constants, other fields, "<->", "ip.ttl--"), connection tracking (ct_next,
 * ct_commit { }, ct_commit(...), ct_commit_nat, ct_dnat/ct_snat and their _in_czone
 * forms, ct_lb/ct_lb_mark, ct_clear, ct_snat_to_vip), nested packet generators (arp,
 * nd_na, nd_na_router, nd_ns, icmp4, icmp4_error, icmp6, icmp6_error, tcp_reset,
 * sctp_abort, reject, clone), and the controller actions (put_arp, put_nd, get_arp,
 * get_nd, lookup_arp, lookup_arp_ip, lookup_nd, lookup_nd_ip, put_dhcp_opts,
 * put_dhcpv6_opts, put_nd_ra_opts, dns_lookup, set_queue, log, set_meter,
 * trigger_event, bind_vport, handle_svc_check, handle_dhcpv6_reply, fwd_group,
 * check_pkt_larger, lookup_fdb, get_fdb, put_fdb, chk_lb_hairpin,
 * chk_lb_hairpin_reply, select, commit_ecmp_nh, chk_ecmp_nh_mac, chk_ecmp_nh,
 * commit_lb_aff, chk_lb_aff, check_in_port_sec, check_out_port_sec, igmp, push, pop).
 *
 * Assignments are checked against the symbol table (symtab.h): the destination must
 * be writable (ct_mark and ct_label only inside ct_commit), both sides of a move or
 * exchange must have the same width and type, and a constant must fit the bits it is
 * written to.  Like ovn-controller, every field an action touches contributes its
 * prerequisites ("ip4.src = ..." requires "ip4"), and so do nested actions ("arp { }"
 * requires "ip4"): the list's 'prereqs' is a match expression that the caller ANDs
 * with the flow's match.
 *
 * Failures fill an optional struct ovnic_err whose 'object' is "actions", 'message' a
 * static category ("syntax error", "unknown action", "field not writable", ...), and
 * 'detail' says what and where ("... at column 12").  No input can crash these
 * functions.
 *
 * The IR has a stable text form (action_list_format()), used by golden tests: ops
 * separated by "; ", fields named by their storage field with a bit range when not
 * whole ("flags.loopback" is "flags[0]", "reg0" stays "reg0", "xreg0[0..47]" is
 * "xxreg0[64..111]"), constants as written, and "drop" for an empty list. */
#ifndef OVNIC_CONTROLLER_ACTIONS_H
#define OVNIC_CONTROLLER_ACTIONS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/controller/lex.h"
#include "dpu/controller/symtab.h"
#include "shared/util/err.h"

enum action_type {
    /* Control. */
    ACTION_OUTPUT, /* output; */
    ACTION_NEXT,   /* next; next(N); next(pipeline=P, table=N); ('next') */

    /* Fields. */
    ACTION_LOAD,     /* dst = constant; ('dst', 'value') */
    ACTION_MOVE,     /* dst = src; ('dst', 'src') */
    ACTION_EXCHANGE, /* dst <-> src; ('dst', 'src') */
    ACTION_DEC_TTL,  /* ip.ttl--; ('dst' is ip.ttl) */
    ACTION_PUSH,     /* push(field); ('dst') */
    ACTION_POP,      /* pop(field); ('dst') */

    /* Connection tracking. */
    ACTION_CT_NEXT,          /* ct_next; */
    ACTION_CT_COMMIT,        /* ct_commit { ... }; or ct_commit(k=v, ...); ('nested') */
    ACTION_CT_COMMIT_NAT,    /* ct_commit_nat; */
    ACTION_CT_DNAT,          /* ct_dnat; ct_dnat(IP[, PORT[-PORT]]); ('nat') */
    ACTION_CT_SNAT,          /* ct_snat ... ('nat') */
    ACTION_CT_DNAT_IN_CZONE, /* ct_dnat_in_czone ... ('nat') */
    ACTION_CT_SNAT_IN_CZONE, /* ct_snat_in_czone ... ('nat') */
    ACTION_CT_LB,            /* ct_lb; ct_lb(backends=...; hash_fields="..."; flag); */
    ACTION_CT_LB_MARK,       /* ct_lb_mark, same syntax. ('lb') */
    ACTION_CT_CLEAR,         /* ct_clear; */
    ACTION_CT_SNAT_TO_VIP,   /* ct_snat_to_vip; */

    /* Nested actions: "name { ... };" ('nested'). */
    ACTION_CLONE,
    ACTION_ARP,
    ACTION_ND_NA,
    ACTION_ND_NA_ROUTER,
    ACTION_ND_NS,
    ACTION_ICMP4,
    ACTION_ICMP4_ERROR,
    ACTION_ICMP6,
    ACTION_ICMP6_ERROR,
    ACTION_TCP_RESET,
    ACTION_SCTP_ABORT,
    ACTION_REJECT,

    /* Sent to the controller, or handled by it. */
    ACTION_IGMP,                 /* igmp; */
    ACTION_PUT_ARP,              /* put_arp(port, ip4, mac); ('args') */
    ACTION_PUT_ND,               /* put_nd(port, ip6, mac); ('args') */
    ACTION_GET_ARP,              /* get_arp(port, ip4); ('args') */
    ACTION_GET_ND,               /* get_nd(port, ip6); ('args') */
    ACTION_LOOKUP_ARP,           /* R = lookup_arp(port, ip4, mac); */
    ACTION_LOOKUP_ARP_IP,        /* R = lookup_arp_ip(port, ip4); */
    ACTION_LOOKUP_ND,            /* R = lookup_nd(port, ip6, mac); */
    ACTION_LOOKUP_ND_IP,         /* R = lookup_nd_ip(port, ip6); */
    ACTION_PUT_DHCPV4_OPTS,      /* R = put_dhcp_opts(name = value, ...); ('options') */
    ACTION_PUT_DHCPV6_OPTS,      /* R = put_dhcpv6_opts(...); ('options') */
    ACTION_PUT_ND_RA_OPTS,       /* R = put_nd_ra_opts(...); ('options') */
    ACTION_DNS_LOOKUP,           /* R = dns_lookup(); */
    ACTION_SET_QUEUE,            /* set_queue(N); ('integer') */
    ACTION_LOG,                  /* log(verdict=..., name=..., ...); ('log') */
    ACTION_SET_METER,            /* set_meter(rate[, burst]); ('integer', 'integer2') */
    ACTION_TRIGGER_EVENT,        /* trigger_event(event = "...", k = "v", ...); */
    ACTION_BIND_VPORT,           /* bind_vport("vport", port); ('string', 'args') */
    ACTION_HANDLE_SVC_CHECK,     /* handle_svc_check(port); ('args') */
    ACTION_HANDLE_DHCPV6_REPLY,  /* handle_dhcpv6_reply; */
    ACTION_FWD_GROUP,            /* fwd_group([liveness="true",] childports="p", ...); */
    ACTION_CHECK_PKT_LARGER,     /* R = check_pkt_larger(N); ('integer') */
    ACTION_LOOKUP_FDB,           /* R = lookup_fdb(port, mac); ('args') */
    ACTION_GET_FDB,              /* R = get_fdb(mac); ('args'; R a port or 32 bits) */
    ACTION_PUT_FDB,              /* put_fdb(port, mac); ('args') */
    ACTION_CHK_LB_HAIRPIN,       /* R = chk_lb_hairpin(); */
    ACTION_CHK_LB_HAIRPIN_REPLY, /* R = chk_lb_hairpin_reply(); */
    ACTION_SELECT,               /* R = select(N[=W], ...); ('select'; R >= 16 bits) */
    ACTION_COMMIT_ECMP_NH,       /* commit_ecmp_nh(ipv6 = B, proto = P); ('ecmp') */
    ACTION_CHK_ECMP_NH_MAC,      /* R = chk_ecmp_nh_mac(); */
    ACTION_CHK_ECMP_NH,          /* R = chk_ecmp_nh(); */
    ACTION_COMMIT_LB_AFF,        /* commit_lb_aff(vip=, backend=, proto=, timeout=); */
    ACTION_CHK_LB_AFF,           /* R = chk_lb_aff(); */
    ACTION_CHECK_IN_PORT_SEC,    /* R = check_in_port_sec(); */
    ACTION_CHECK_OUT_PORT_SEC,   /* R = check_out_port_sec(); */

    ACTION_N_TYPES
};

enum action_pipeline {
    ACTION_PIPELINE_CURRENT, /* The pipeline of the flow ("next;"). */
    ACTION_PIPELINE_INGRESS,
    ACTION_PIPELINE_EGRESS,
};

/** Number of logical tables per pipeline that "next" may reach (0..28), as in
 * ovn-controller 23.03. */
#define ACTION_MAX_TABLES 29

/** Bits [ofs, ofs + n_bits) of a storage field.  'field' is a register view
 * (field->n_view > 0) only when the bits span more than one register; bits within
 * one register are given as that register ("reg0[3]").  For string fields (inport,
 * outport) 'n_bits' is 0. */
struct action_field {
    const struct symtab_field *field;
    int ofs;
    int n_bits;
};

/** A constant: an integer (with a mask when written "value/mask") or a string. */
struct action_const {
    bool is_string;
    char *string;           /* String constant (owned), else NULL. */
    lex_u128 value;         /* Integer constant; bit 0 is the least significant. */
    lex_u128 mask;          /* All ones over 'value's width unless 'masked'. */
    bool masked;            /* Written "value/mask". */
    enum lex_format format; /* How it was written. */
};

/** ct_dnat(IP[, PORT[-PORT]]) and friends.  Without arguments, 'has_ip' is false. */
struct action_nat {
    bool has_ip;
    bool ipv6;
    lex_u128 ip;
    uint16_t port_lo; /* 0: no port range. */
    uint16_t port_hi; /* Equal to 'port_lo' for a single port. */
};

struct action_backend {
    bool ipv6;
    lex_u128 ip;
    uint16_t port; /* 0: none given. */
};

enum action_ct_flag {
    ACTION_CT_FLAG_NONE,
    ACTION_CT_FLAG_SKIP_SNAT,
    ACTION_CT_FLAG_FORCE_SNAT,
};

/** ct_lb and ct_lb_mark.  Without arguments ("ct_lb;") 'has_backends' is false. */
struct action_lb {
    bool has_backends;
    struct action_backend *backends; /* Owned. */
    size_t n_backends;
    char *hash_fields; /* Owned, or NULL. */
    enum action_ct_flag ct_flag;
};

/** How an option's value is checked and encoded (ovn-l7 option types). */
enum action_opt_type {
    ACTION_OPT_IPV4,    /* One or more IPv4 addresses. */
    ACTION_OPT_IPV6,    /* One or more IPv6 addresses (RA prefix: masked). */
    ACTION_OPT_MAC,     /* An Ethernet address. */
    ACTION_OPT_STR,     /* A string. */
    ACTION_OPT_HOST_ID, /* A string or an IPv4 address (tftp_server). */
    ACTION_OPT_DOMAINS, /* A comma-separated list of domains, as a string. */
    ACTION_OPT_BOOL,    /* 0 or 1. */
    ACTION_OPT_UINT8,   /* Integers, encoded on 1, 2 or 4 bytes. */
    ACTION_OPT_UINT16,
    ACTION_OPT_UINT32,
    ACTION_OPT_STATIC_ROUTES, /* Pairs: network/prefix, next hop. */
};

/** One "name = value" of put_dhcp_opts, put_dhcpv6_opts or put_nd_ra_opts. */
struct action_option {
    const char *name; /* Static. */
    int code;         /* DHCP option code; -1 for RA options. */
    enum action_opt_type type;
    struct action_const *values; /* Owned; one, or the elements of "{...}". */
    size_t n_values;
};

enum action_log_verdict {
    ACTION_LOG_ALLOW,
    ACTION_LOG_DROP,
    ACTION_LOG_REJECT,
};

/** log(...).  'severity' is -1 when not given, else a syslog level (1 alert .. 7
 * debug). */
struct action_log {
    enum action_log_verdict verdict;
    int severity;
    char *name;  /* Owned, or NULL. */
    char *meter; /* Owned, or NULL. */
};

/** "key = value" with a string value (trigger_event, commit_lb_aff). */
struct action_kv {
    char *key;
    char *value;
};

struct action_select_member {
    uint16_t value;
    uint16_t weight; /* 100 when not given. */
};

struct action_list;

/** One op.  Which members are used depends on 'type' (see enum action_type). */
struct action {
    enum action_type type;
    size_t pos; /* Byte offset in the text. */

    struct action_field dst;   /* Assigned field, or the result R of "R = f(...)". */
    struct action_field src;   /* MOVE, EXCHANGE. */
    struct action_const value; /* LOAD. */

    struct action_list *nested; /* Nested actions, ct_commit: owned, never NULL. */

    struct {
        enum action_pipeline pipeline;
        int table; /* -1: the table after the current one. */
    } next;

    struct action_nat nat;
    struct action_lb lb;

    struct action_option *options; /* Owned. */
    size_t n_options;

    struct action_field args[3]; /* Field arguments, in order. */
    size_t n_args;

    uint64_t integer;  /* set_queue, check_pkt_larger, set_meter rate, commit_lb_aff
                        * timeout. */
    uint64_t integer2; /* set_meter burst (0: none). */
    bool has_integer2;

    struct action_log log;

    char *string; /* bind_vport port, trigger_event event.  Owned. */

    struct action_kv *kvs; /* trigger_event options, commit_lb_aff vip/backend,
                            * fwd_group child ports (key "childports"). */
    size_t n_kvs;

    struct action_select_member *members; /* SELECT.  Owned. */
    size_t n_members;
    char *hash_fields; /* SELECT with hash fields.  Owned, or NULL. */

    bool ipv6;     /* COMMIT_ECMP_NH. */
    bool liveness; /* FWD_GROUP. */
    uint8_t proto; /* COMMIT_ECMP_NH, COMMIT_LB_AFF: IPPROTO_TCP/UDP/SCTP. */
};

/** A list of ops, run in order.  Empty means drop. */
struct action_list {
    struct action *ops;
    size_t n_ops;
    size_t alloc;
    char *prereqs; /* Match text the flow must also satisfy, or NULL.  Owned. */
};

/** What the parser knows of the flow's place.  Without it (NULL), "next;" stays
 * relative and "next(pipeline=egress)" from ingress cannot be refused. */
struct action_parse_params {
    enum action_pipeline pipeline; /* INGRESS or EGRESS. */
    int cur_table;                 /* The flow's table_id, or -1 if unknown. */
};

/** Parses actions 's' (NUL-terminated) with the symbols of 'symtab'.  'params' may be
 * NULL.  On success stores the ops in '*listp' (caller owns; free with
 * action_list_destroy()).  "drop;" alone, or text holding nothing but comments,
 * gives an empty list.
 *
 * Errors: -EINVAL (invalid actions; 'err' says why), -ENOMEM. */
int action_parse(const struct symtab *symtab, const char *s,
                 const struct action_parse_params *params, struct action_list **listp,
                 struct ovnic_err *err);

/** Frees 'list'.  NULL is a no-op. */
void action_list_destroy(struct action_list *list);

/** Returns the text form of 'list' (see the top of this file).  Caller owns; free
 * with free().  Returns NULL if memory runs out. */
char *action_list_format(const struct action_list *list);

/** The action's name as written in the language ("ct_lb_mark", "put_dhcp_opts";
 * "load", "move", "exchange", "dec_ttl" for assignments).  Static. */
const char *action_type_name(enum action_type type);

/** Counts the ops of 'list', nested ones included. */
size_t action_list_count(const struct action_list *list);

#endif /* OVNIC_CONTROLLER_ACTIONS_H */
