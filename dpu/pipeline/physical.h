/* ovnic: the physical view of the SB that the pipeline walks over.
 *
 * phys_build() reads an SB replica into plain indexed tables: logical datapaths (by
 * tunnel key), logical ports (by name and by datapath and key), multicast groups,
 * chassis with their Geneve encapsulation IP, MAC bindings, FDB entries and DNS
 * records (the SB DNS table's records, for each of its datapaths), and
 * assigns the conntrack zones (see pipeline.h).  Where a port lives is resolved here:
 * the Port_Binding's chassis, else for an l3gateway port options:l3gateway-chassis,
 * else for a chassisredirect port the highest-priority chassis of its HA chassis group.
 *
 * Everything is owned by the struct phys and immutable until phys_destroy(). */
#ifndef OVNIC_PIPELINE_PHYSICAL_H
#define OVNIC_PIPELINE_PHYSICAL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/controller/lex.h"
#include "shared/util/err.h"
#include "shared/util/hmap.h"
#include "shared/util/uuid.h"

struct cls;
struct ovsdb_replica;

enum phys_port_type {
    PHYS_PORT_VIF,             /* "" */
    PHYS_PORT_PATCH,           /* "patch" (also "router" on the switch side) */
    PHYS_PORT_LOCALNET,        /* "localnet" */
    PHYS_PORT_L2GATEWAY,       /* "l2gateway" */
    PHYS_PORT_L3GATEWAY,       /* "l3gateway" */
    PHYS_PORT_CHASSISREDIRECT, /* "chassisredirect" */
    PHYS_PORT_EXTERNAL,        /* "external" */
    PHYS_PORT_LOCALPORT,       /* "localport" */
    PHYS_PORT_VIRTUAL,         /* "virtual" */
    PHYS_PORT_OTHER,           /* vtep, remote, and types not known here */
};

struct phys_datapath {
    struct hmap_node node; /* In phys.datapaths, by key. */
    struct uuid uuid;
    uint32_t key;
    char *name; /* external_ids:name, else the uuid text. */
    bool is_router;
    uint16_t dnat_zone; /* Routers: zones of "<uuid>_dnat", "<uuid>_snat"; else 0. */
    uint16_t snat_zone;
    struct phys_port *localnet; /* First localnet port (by key), or NULL. */
    struct cls *cls;            /* Classifier of its logical flows (set by the user). */
};

/* One address of a port security entry: 'ip'/'plen' (IPv4 as a 32-bit number). */
struct phys_port_sec_addr {
    bool ipv6;
    lex_u128 ip;
    unsigned int plen;
};

/* One Port_Binding.port_security entry, "MAC [IP[/PLEN]...]": the source (ingress)
 * or destination (egress) MAC the port may use, and with it these addresses. */
struct phys_port_sec {
    uint8_t mac[6];
    struct phys_port_sec_addr *addrs; /* Owned. */
    size_t n_addrs;
    size_t n_ip4, n_ip6; /* Of each family in 'addrs'. */
};

struct phys_port {
    struct hmap_node name_node; /* In phys.ports_by_name. */
    struct hmap_node key_node;  /* In phys.ports_by_key, by (datapath, key). */
    char *name;
    uint32_t key;
    struct phys_datapath *dp;
    enum phys_port_type type;
    char *type_name;
    char *chassis;   /* Name of the chassis it lives on, or NULL. */
    bool is_local;   /* Lives on this chassis (always, in trace mode). */
    char *peer_name; /* Patch: options:peer. */
    struct phys_port *peer;
    char *network;                  /* Localnet, l2gateway: options:network_name. */
    int tag;                        /* Localnet: VLAN tag, or -1. */
    char *distributed;              /* Chassisredirect: options:distributed-port. */
    uint16_t zone;                  /* Conntrack zone, 0 for patch ports. */
    struct phys_port_sec *port_sec; /* Port_Binding.port_security; none: off.  Owned. */
    size_t n_port_sec;
};

struct phys_mcgroup {
    struct hmap_node node; /* In phys.mcgroups, by (datapath, key). */
    char *name;
    uint32_t key;
    struct phys_datapath *dp;
    struct phys_port **ports; /* Members, sorted by key. */
    size_t n_ports;
};

struct phys_chassis {
    struct hmap_node node; /* In phys.chassis, by name. */
    char *name;
    struct uuid uuid;
    char *encap_ip; /* Geneve encap IP (else the first encap), or NULL. */
    /* The first encap IP refused (encap_ip_refusal()), and why; NULL if none. */
    char *refused_ip;
    const char *encap_refusal;
};

struct phys_mac_binding {
    struct hmap_node node; /* By (datapath, port, ip). */
    uint32_t datapath;
    uint32_t port;
    bool ipv6;
    lex_u128 ip;
    uint8_t mac[6];
};

struct phys_fdb {
    struct hmap_node node; /* By (datapath, mac). */
    uint32_t datapath;
    uint8_t mac[6];
    uint32_t port;
};

/* One record of an SB DNS row, for one of its datapaths. */
struct phys_dns_record {
    struct hmap_node node; /* In phys.dns_records, by (datapath, name). */
    uint32_t datapath;
    char *name;  /* Lower case. */
    char *value; /* Addresses ("10.0.0.5 aef0::5"), or a host name for a PTR. */
};

struct phys {
    char *chassis_name; /* This chassis, or NULL. */
    bool trace_mode;
    struct hmap datapaths;
    struct hmap ports_by_name;
    struct hmap ports_by_key;
    struct hmap mcgroups;
    struct hmap chassis;
    struct hmap mac_bindings;
    struct hmap fdbs;
    struct hmap dns_records;
    size_t n_zones;
};

/** Initialises 'phys' as empty (no datapath). */
void phys_init(struct phys *phys);

/** Builds 'phys' (uninitialised) from 'replica' (borrowed for the call) for chassis
 * 'chassis_name' (may be NULL).  On failure 'phys' holds nothing (phys_destroy() is
 * still safe).  Errors: -EINVAL (a required table or column is missing), -ENOMEM. */
int phys_build(struct phys *phys, const struct ovsdb_replica *replica,
               const char *chassis_name, bool trace_mode, struct ovnic_err *err);

/** Frees what 'phys' holds (not the classifiers: the user destroys them first). */
void phys_destroy(struct phys *phys);

struct phys_datapath *phys_datapath_find(const struct phys *phys, uint32_t key);
struct phys_datapath *phys_datapath_find_name(const struct phys *phys, const char *name);
struct phys_port *phys_port_find(const struct phys *phys, const char *name);
struct phys_port *phys_port_find_key(const struct phys *phys, uint32_t datapath,
                                     uint32_t key);
struct phys_mcgroup *phys_mcgroup_find(const struct phys *phys, uint32_t datapath,
                                       uint32_t key);
struct phys_chassis *phys_chassis_find(const struct phys *phys, const char *name);

/** The localnet port of network 'network' with VLAN 'vlan' (-1: untagged), the one
 * with the lowest datapath key if several; or NULL. */
struct phys_port *phys_localnet_find(const struct phys *phys, const char *network,
                                     int vlan);

/** is_chassis_resident(): in trace mode, whether the port exists; else whether it
 * lives on this chassis. */
bool phys_port_is_resident(const struct phys *phys, const char *name);

/** MAC_Binding and FDB lookups (exec_env semantics): 0 or -ENOENT. */
int phys_mac_binding_lookup(const struct phys *phys, uint32_t datapath, uint32_t port,
                            bool ipv6, lex_u128 ip, uint8_t mac[6]);
int phys_fdb_lookup(const struct phys *phys, uint32_t datapath, const uint8_t mac[6],
                    uint32_t *port);

/** dns_lookup: the value of the DNS record 'name' (compared without regard to case)
 * of datapath 'datapath', or NULL.  Borrowed: valid until phys_destroy().  When DNS
 * rows of one datapath give a name twice, the row read first wins. */
const char *phys_dns_lookup(const struct phys *phys, uint32_t datapath, const char *name);

/** The zone of port 'name', or of "<uuid>_dnat"/"_snat": 0 and '*zone', -ENOENT. */
int phys_zone_find(const struct phys *phys, const char *name, uint16_t *zone);

/** Static name of 'type' as in Port_Binding.type ("" for a VIF). */
const char *phys_port_type_name(enum phys_port_type type);

#endif /* OVNIC_PIPELINE_PHYSICAL_H */
