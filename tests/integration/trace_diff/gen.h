/* ovnic trace differential test: a packet generator.
 *
 * From what an OVN Southbound database says about the logical network (struct
 * gen_model: switches, routers, their ports with MACs and addresses, load-balancer
 * VIPs; NAT addresses added from the NB), it makes packets to trace, each as an
 * ovn-trace microflow with its datapath and conntrack assumptions (struct gen_packet):
 *
 *   ARP requests and replies, ICMP echo, TCP and UDP between ports of one switch,
 *   routed to other subnets, to the router itself, to addresses outside (NAT and the
 *   default route), to load-balancer VIPs (ct "new" with a backend as --lb-dst),
 *   IPv6 neighbour solicitations, router solicitations and ICMPv6, DHCPv4 discover
 *   and request, DHCPv6 solicit, broadcast and multicast, spoofed sources (port
 *   security), TCP, UDP and SCTP over IPv4 and IPv6 that a reject ACL answers (to
 *   and from the port it names), traffic from the provider network (localnet ports) to
 * router and NAT addresses, and traffic from ports that stand for VMs on other chassis
 * (which ovn-trace, having no physical view, starts at their logical inport too).
 *
 * IP packets are traced as first packets (ct "new"), established ones ("est") and
 * replies ("est,rpl"), chosen by the seeded generator; every conntrack lookup of one
 * packet sees the same state.  The same model and seed always give the same packets. */
#ifndef OVNIC_TRACE_DIFF_GEN_H
#define OVNIC_TRACE_DIFF_GEN_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ovsdb_replica;

#define GEN_MAX_ADDRS 8

/* An IPv4 or IPv6 network. */
struct gen_subnet {
    bool ipv6;
    uint8_t addr[16]; /* Network byte order; IPv4 in the first 4 bytes. */
    int plen;
};

/** True if 'ip' (text, IPv4 or IPv6) lies in 'subnet' and is not the network address
 * itself. */
bool gen_subnet_contains_host(const struct gen_subnet *subnet, const char *ip);

/* A logical port and what the SB says of it. */
struct gen_port {
    char *name;
    char *datapath; /* Datapath name. */
    char *type;     /* Port_Binding type: "", "patch", "localnet", "l3gateway"... */
    char *peer;     /* options:peer, or NULL. */
    bool has_mac;
    char mac[18];                /* "0a:00:00:00:00:01". */
    char *ip4[GEN_MAX_ADDRS];    /* Addresses ("10.0.0.5"). */
    int ip4_plen[GEN_MAX_ADDRS]; /* Prefix length (32 for a VIF). */
    size_t n_ip4;
    char *ip6[GEN_MAX_ADDRS];
    int ip6_plen[GEN_MAX_ADDRS];
    size_t n_ip6;

    /* Port_Binding.port_security addresses written as a network ("10.9.0.0/24": a
     * prefix shorter than the address, host part zero), which admit the whole
     * subnet. */
    struct gen_subnet *ps_subnets;
    size_t n_ps_subnets;
};

struct gen_datapath {
    char *name;
    bool is_router;
};

/* A load-balancer VIP with its backends. */
struct gen_vip {
    char *ip;        /* "10.0.0.100" or "fd00::100". */
    int port;        /* 0 if none. */
    char *proto;     /* "tcp", "udp", "sctp". */
    char **backends; /* "IP:PORT" or "[IP6]:PORT" or "IP". */
    size_t n_backends;
    char **datapaths; /* Names of the datapaths it applies to. */
    size_t n_datapaths;
};

/* A reject ACL as northd writes it into ls_in_acl (from-lport) or ls_out_acl
 * (to-lport): the port it names and a protocol with its destination port. */
struct gen_reject {
    char *port; /* inport (from-lport) or outport (to-lport). */
    bool to_lport;
    char proto[8]; /* "tcp", "udp", "sctp". */
    int dport;     /* 0: the match names none (any port). */
};

struct gen_model {
    struct gen_datapath *datapaths;
    size_t n_datapaths;
    struct gen_port *ports;
    size_t n_ports;
    struct gen_vip *vips;
    size_t n_vips;
    char **nat_ips; /* NAT external addresses. */
    size_t n_nat_ips;
    struct gen_reject *rejects; /* From the Logical_Flow table, deduplicated. */
    size_t n_rejects;
};

/** Fills a model from SB replica 'sb' (Datapath_Binding, Port_Binding and, if present,
 * Load_Balancer and Logical_DP_Group).  Caller owns '*modelp'; free with
 * gen_model_destroy().  Errors: -EINVAL (a table is missing), -ENOMEM. */
int gen_model_from_replica(const struct ovsdb_replica *sb, struct gen_model **modelp);

/** Creates an empty model (for building one by hand).  Errors: -ENOMEM. */
int gen_model_create(struct gen_model **modelp);

/** Adds a datapath, a port ('mac_column' as in Port_Binding.mac: "MAC IP/PLEN ...",
 * "router" or "unknown"; 'peer' may be NULL) or a NAT external address.  Errors:
 * -ENOMEM, -EINVAL (a malformed address). */
int gen_model_add_datapath(struct gen_model *model, const char *name, bool is_router);
int gen_model_add_port(struct gen_model *model, const char *name, const char *datapath,
                       const char *type, const char *mac_column, const char *peer);
int gen_model_add_nat(struct gen_model *model, const char *external_ip);

/** Adds to port 'port' (added before) the network addresses of Port_Binding
 * .port_security entry 'entry' ("MAC [IP[/PLEN]...]"); other addresses are ignored.
 * Errors: -ENOENT (no such port), -ENOMEM. */
int gen_model_add_port_security(struct gen_model *model, const char *port,
                                const char *entry);

/** Adds VIP 'vip' ("IP:PORT", "[IP6]:PORT" or "IP") of protocol 'proto' with backends
 * 'backends' (comma-separated, as in Load_Balancer.vips) on 'datapath'.  Errors:
 * -ENOMEM, -EINVAL. */
int gen_model_add_vip(struct gen_model *model, const char *vip, const char *proto,
                      const char *backends, const char *datapath);

/** Adds the reject ACLs that logical flow 'match' (of stage ls_in_acl if 'to_lport' is
 * false, else ls_out_acl) with a reject action stands for: one per protocol it names
 * ("tcp.dst == 23", "sctp"), with the port of its "inport == \"P\"" or
 * "outport == \"P\"".  A match naming no port or no protocol adds nothing.  Errors:
 * -ENOMEM. */
int gen_model_add_reject(struct gen_model *model, const char *match, bool to_lport);

/** Frees 'model'.  NULL is a no-op. */
void gen_model_destroy(struct gen_model *model);

/* One packet to trace. */
struct gen_packet {
    char *datapath;
    char *microflow;
    char *ct;             /* Uniform ct_state ("new", "est", "est,rpl"), or NULL. */
    char *lb_dst;         /* --lb-dst, or NULL. */
    const char *category; /* "arp-request", "tcp-routed", "lb-vip"... Static. */
};

/** Generates at least 'min_packets' packets from 'model' (rounds over every source
 * port until there are enough; at least one round), reproducibly from 'seed'.  Caller
 * owns '*packetsp'; free with gen_packets_destroy().  Errors: -ENOMEM, -ENOENT (the
 * model has no port to send from). */
int gen_packets(const struct gen_model *model, uint64_t seed, size_t min_packets,
                struct gen_packet **packetsp, size_t *n_packetsp);

/** Frees 'n' packets.  NULL is a no-op. */
void gen_packets_destroy(struct gen_packet *packets, size_t n);

#endif /* OVNIC_TRACE_DIFF_GEN_H */
