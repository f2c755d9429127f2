/* ovnic: the pipeline proper, OVN's physical translation around the logical tables.
 *
 * A struct pipeline is built from an SB replica (pipeline_sync()): datapaths, port
 * bindings, multicast groups, chassis and their encapsulations, MAC bindings, FDB
 * entries and every Logical_Flow, parsed with lflow_parse_row() into one classifier
 * per logical datapath (ingress table N is classifier table N, egress table N is
 * classifier table PIPELINE_EGRESS_BASE + N).  pipeline_process() then walks one
 * packet through it, as ovn-controller's OpenFlow tables would:
 *
 *   physical ingress      a local VIF: datapath, inport, ct zones set, ingress table 0;
 *                         a Geneve tunnel: VNI = datapath, OVN option = inport/outport,
 *                         straight to the egress pipeline of the (local) outport;
 *                         a provider network: the localnet port of that VLAN, tag
 *                         removed, ingress table 0.
 *   logical ingress       table by table ("next"), each lookup in the datapath's
 *                         classifier, each matching flow's actions run by exec.h.
 *   output (ingress)      outport a remote port: Geneve toward its chassis (VNI =
 *                         datapath key, option = inport key (15 bits) and outport key
 *                         (16 bits)), or through the localnet port when the datapath has
 *                         one; a multicast group: one tunnel copy per remote chassis
 *                         hosting a member, then every local member through the egress
 *                         pipeline; a chassisredirect port resident here: its
 *                         distributed port; anything local: the loopback check
 *                         (inport == outport && !flags.loopback drops), registers
 *                         reg0..reg9 cleared, the outport's ct zone loaded, egress
 *                         table 0.
 *   output (egress)       a local VIF or localport: delivered; a patch port: the peer
 *                         datapath's ingress with inport = peer; a localnet port: out
 *                         to the provider network with its VLAN tag; an l2gateway port
 *                         bound here: likewise.
 *
 * Conntrack zones are assigned deterministically at sync time: every logical port
 * that is not a patch port gets a zone, and every logical router datapath a DNAT and
 * an SNAT zone, numbered from 1 in the byte order of their names ("<port>", and
 * "<datapath uuid>_dnat" / "_snat").  They are loaded into the registers OVN uses:
 * reg13 (the port's zone, on entry into a datapath and on entry into its egress
 * pipeline), reg11 and reg12 (the DNAT and SNAT zones of the datapath).
 *
 * Controller actions run as ovn-controller's pinctrl runs them:
 *
 *   - packet-building actions (arp { }, nd_ns { }, nd_na { }, icmp4 { }, icmp6 { },
 *     tcp_reset { }, reject { }, ...): the new packet is built by ctrl.h from the
 *     packet as it is at that point, its nested actions run with the walk's
 *     metadata, and it continues where those actions send it (a new walk, from the
 *     same datapath, pipeline and table);
 *   - put_dhcp_opts, put_dhcpv6_opts, put_nd_ra_opts and dns_lookup: the walk
 *     pauses, the DHCP reply, router advertisement or DNS answer is built by ctrl.h
 *     (DNS records from the SB DNS table), and the walk resumes on it with the result
 *     bit set (0, and the walk goes on with the original packet, if none could be
 *     built; a walk without packet bytes answers 1, and 0 for dns_lookup);
 *   - put_arp / put_nd: a MAC_Binding update is reported;
 *   - everything else is reported as it was recorded.
 * Deliveries of controller-built packets are flagged (from_controller) and never part
 * of a megaflow.
 *
 * The walk records, for the datapath, a megaflow (megaflow.h): the OR of every
 * classifier lookup's wildcards and every bit the actions read (bits written earlier in
 * the walk excluded: their values follow from bits already recorded), the input port
 * and tunnel fields always included, plus the composed action list (set-field, dec_ttl,
 * Geneve pop/push with OVN's option, VLAN pop/push, ct, controller, output, drop).
 *
 * Trace mode (pipeline_config.trace_mode) gives ovn-trace's semantics instead of a
 * chassis's: every port is resident here (is_chassis_resident() is true for every
 * known port), no tunnel is ever used, a multicast group floods every member through
 * the egress pipeline, a chassisredirect port is replaced with its distributed port,
 * and an egress output to anything but a patch port is a delivery of type
 * PIPELINE_OUT_LOGICAL.
 *
 * Sync is a full rebuild: every sync re-reads the tables and rebuilds the classifiers,
 * and bumps the generation (pipeline_generation()) that megaflow caches compare.
 *
 * Not thread-safe: one thread syncs and processes. */
#ifndef OVNIC_PIPELINE_PIPELINE_H
#define OVNIC_PIPELINE_PIPELINE_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/controller/actions.h"
#include "dpu/pipeline/ct.h"
#include "dpu/pipeline/key.h"
#include "dpu/pipeline/megaflow.h"
#include "shared/util/err.h"
#include "shared/util/uuid.h"

struct ovsdb_replica;

/* Classifier table of egress table N (ingress table N is table N). */
#define PIPELINE_EGRESS_BASE 64

/* Walk limits. */
#define PIPELINE_DEFAULT_MAX_DEPTH 32 /* Datapath crossings (patch ports) per path. */
#define PIPELINE_DEFAULT_MAX_LOOKUPS              \
    4096 /* Classifier lookups per walk, branches \
          * included. */
#define PIPELINE_MAX_BRANCHES                        \
    256 /* Copies of the packet per walk (multicast, \
         * clone, controller-built packets). */

/** How a pipeline is set up.  Strings and pointers are borrowed for the call to
 * pipeline_create() only (copied), except 'ct' and 'aux', which must outlive the
 * pipeline. */
struct pipeline_config {
    /** This chassis's name (SB Chassis.name).  May be NULL or "" in trace mode. */
    const char *chassis;

    /** ovn-trace semantics instead of a chassis's (see the top of this file). */
    bool trace_mode;

    /** Conntrack backend (ct.h), e.g. &ct_det_class with a struct ct_det.  NULL: ct
     * operations are only recorded. */
    const struct ct_class *ct_class;
    void *ct;

    /** Overrides of the SB's MAC_Binding and FDB tables (exec_env semantics).  NULL:
     * the pipeline answers from the MAC_Binding and FDB rows of the last sync. */
    int (*mac_binding)(void *aux, uint32_t datapath, uint32_t port, bool ipv6,
                       lex_u128 ip, uint8_t mac[6]);
    int (*fdb)(void *aux, uint32_t datapath, const uint8_t mac[6], uint32_t *port);
    void *aux;

    /** Limits; 0 takes the PIPELINE_DEFAULT_* value. */
    unsigned int max_depth;
    unsigned int max_lookups;

    /** select() picks the member with this id when it has one (ovn-trace's
     * --select-id); 0: by the packet's hash, as the datapath does. */
    uint16_t select_id;
};

struct pipeline;

/** Counters of the last sync and of the walks since creation. */
struct pipeline_stats {
    uint64_t generation;     /* Number of syncs that succeeded. */
    uint64_t n_datapaths;    /* Datapath_Binding rows. */
    uint64_t n_ports;        /* Port_Binding rows. */
    uint64_t n_mcgroups;     /* Multicast_Group rows. */
    uint64_t n_lflows;       /* Logical_Flow rows parsed. */
    uint64_t n_lflow_errors; /* Logical_Flow rows that failed to parse (see
                              * pipeline_lflow_errors()). */
    uint64_t n_rules;        /* Classifier rules (one per flow and datapath). */
    uint64_t n_walks;        /* pipeline_process() calls. */
    uint64_t n_lookups;      /* Classifier lookups. */
    uint64_t n_deliveries;
    uint64_t n_drops;
    uint64_t n_loop_drops; /* Walks cut by max_depth or max_lookups. */
};

/** Creates an empty pipeline (no datapath: every packet drops until a sync).  Caller
 * owns '*pipelinep'; free with pipeline_destroy().
 * Errors: -EINVAL (no chassis name outside trace mode), -ENOMEM. */
int pipeline_create(const struct pipeline_config *config, struct pipeline **pipelinep);

/** Frees 'pipeline'.  NULL is a no-op. */
void pipeline_destroy(struct pipeline *pipeline);

/** Rebuilds everything from 'replica' (borrowed for the call; an SB replica with at
 * least Datapath_Binding, Port_Binding and Logical_Flow; Multicast_Group, Chassis,
 * Encap, MAC_Binding, FDB, Logical_DP_Group, Address_Set and Port_Group are used when
 * present).  Logical flows that do not parse are skipped and listed (see
 * pipeline_lflow_errors()); a flow that installs nothing because it names an unknown
 * port is counted in the classifier statistics.  Bumps the generation.
 *
 * Errors (the pipeline is left as it was): -EINVAL (not an SB replica: a table or
 * column is missing; 'err' says which), -ENOMEM. */
int pipeline_sync(struct pipeline *pipeline, const struct ovsdb_replica *replica,
                  struct ovnic_err *err);

/** The generation: 0 before the first sync, incremented by each successful sync.  A
 * megaflow computed at another generation is stale. */
uint64_t pipeline_generation(const struct pipeline *pipeline);

void pipeline_get_stats(const struct pipeline *pipeline, struct pipeline_stats *stats);

/** Number of Logical_Flow rows that failed to parse at the last sync, and the i-th of
 * them as one line (lflow_error_format()).  Borrowed: valid until the next sync. */
size_t pipeline_n_lflow_errors(const struct pipeline *pipeline);
const char *pipeline_lflow_error(const struct pipeline *pipeline, size_t i);

/* ---- Names and keys, for tools and tests. ---- */

/** Tunnel key of logical port 'name': 0 and '*key', or -ENOENT. */
int pipeline_port_key(const struct pipeline *pipeline, const char *name, uint32_t *key);

/** Name of the port or multicast group with tunnel key 'key' in datapath 'datapath',
 * or NULL.  Borrowed: valid until the next sync. */
const char *pipeline_port_name(const struct pipeline *pipeline, uint32_t datapath,
                               uint32_t key);

/** Tunnel key of the datapath called 'name' (external_ids:name, or the uuid), or of
 * the datapath of the logical port 'name': 0 and '*key', or -ENOENT. */
int pipeline_datapath_key(const struct pipeline *pipeline, const char *name,
                          uint32_t *key);

/** Display name of datapath 'key' (external_ids:name, else the uuid), or NULL.
 * Borrowed: valid until the next sync. */
const char *pipeline_datapath_name(const struct pipeline *pipeline, uint32_t key);

/** The conntrack zone of logical port 'name' (0 and '*zone'), or of router datapath
 * 'name' with suffix "_dnat" / "_snat" (as "<datapath uuid>_dnat"); -ENOENT. */
int pipeline_ct_zone(const struct pipeline *pipeline, const char *name, uint16_t *zone);

/* ---- Walking one packet. ---- */

enum pipeline_input_type {
    PIPELINE_IN_VIF,      /* From a logical port of this chassis ('port'). */
    PIPELINE_IN_TUNNEL,   /* From the underlay: Geneve with OVN's option. */
    PIPELINE_IN_LOCALNET, /* From provider network 'port' (options:network_name); the
                           * frame's VLAN tag (or none) selects the localnet port. */
};

/** Where a packet comes from, and the packet. */
struct pipeline_input {
    enum pipeline_input_type type;
    const char *port; /* VIF: logical port name; LOCALNET: network name.  Borrowed. */
    uint32_t in_port; /* Physical receive port, copied into the key (in_port). */

    /* The packet: raw bytes (borrowed; for TUNNEL the outer headers included), or,
     * when 'packet' is NULL, a ready key (borrowed) whose header and tunnel fields
     * are used (metadata fields are set by the pipeline).  Without bytes, no
     * controller-built packet and no delivered bytes are produced. */
    const uint8_t *packet;
    size_t len;
    const struct pkey *key;

    bool trace; /* Record the trace (stages, with texts); slower. */
};

/** One line of a trace. */
enum pipeline_trace_type {
    PIPELINE_TRACE_PIPELINE, /* Entering a pipeline: text "ingress(dp=..., inport=...)".
                              */
    PIPELINE_TRACE_FLOW,     /* A logical flow matched; its fields are set. */
    PIPELINE_TRACE_NO_MATCH, /* No flow matched in 'table': the packet drops. */
    PIPELINE_TRACE_PHYSICAL, /* A step of the physical translation (text). */
    PIPELINE_TRACE_CT,       /* A conntrack operation and its result (text). */
    PIPELINE_TRACE_CTRL,     /* A controller action (text). */
    PIPELINE_TRACE_OUTPUT,   /* A delivery (text). */
    PIPELINE_TRACE_DROP,     /* A drop (text: the reason). */
};

struct pipeline_trace_entry {
    enum pipeline_trace_type type;
    unsigned int depth; /* Nesting, for indentation. */
    uint32_t datapath;
    char *dp_name;                 /* Owned. */
    enum action_pipeline pipeline; /* INGRESS or EGRESS. */
    int table;                     /* Logical table. */
    /* FLOW only. */
    int priority;
    struct uuid uuid; /* The Logical_Flow row. */
    char *stage;      /* external_ids:stage-name ("" if none).  Owned. */
    char *match;      /* The row's match text.  Owned. */
    char *actions;    /* The row's actions text.  Owned. */
    /* Every type: what happened ("next(1)", "output to \"p1\"", ...).  Owned. */
    char *text;
};

enum pipeline_output_type {
    PIPELINE_OUT_LOCAL,    /* To a VIF (or localport) bound to this chassis. */
    PIPELINE_OUT_TUNNEL,   /* Geneve toward another chassis. */
    PIPELINE_OUT_LOCALNET, /* To a provider network, with 'vlan' if tagged. */
    PIPELINE_OUT_LOGICAL,  /* Trace mode: out of the logical network through 'port'. */
};

/* Room for pipeline_output.built_by: a few nested action names. */
#define PIPELINE_BUILT_BY_MAX 64

/** One copy of the packet leaving the pipeline. */
struct pipeline_output {
    enum pipeline_output_type type;
    uint32_t datapath; /* Datapath of the output port (or group). */
    uint32_t port_key; /* The logical port (or, TUNNEL, the group) key. */
    char *port;        /* Its name.  Owned. */
    struct pkey key;   /* The packet's key as it leaves (headers and metadata). */
    uint8_t *packet;   /* The frame with every header change applied (the inner frame
                        * for TUNNEL), or NULL if the input had no bytes.  Owned. */
    size_t len;
    bool from_controller; /* Built by a controller action (not in the megaflow). */
    char built_by[PIPELINE_BUILT_BY_MAX]; /* The packet-building controller actions
                                           * that made it, outermost first, joined by
                                           * '/' ("reject", "arp/icmp4"); "" if none. */

    /* TUNNEL. */
    char *chassis;            /* Destination chassis name.  Owned. */
    char *encap_ip;           /* Its Encap IP (Geneve).  Owned. */
    uint32_t tun_id;          /* VNI: the datapath key. */
    uint16_t tun_ovn_inport;  /* OVN option: ingress port key (15 bits). */
    uint16_t tun_ovn_outport; /* OVN option: egress port key (or group key). */

    /* LOCALNET. */
    char *network; /* options:network_name.  Owned. */
    int vlan;      /* VLAN ID pushed, or -1 for untagged. */
};

/** One copy of the packet that was dropped. */
struct pipeline_drop {
    uint32_t datapath;
    enum action_pipeline pipeline;
    int table;            /* -1 if not in a logical table. */
    char *reason;         /* "no flow matched", "loopback", "drop action", ...  Owned. */
    int error;            /* Negative errno when an action failed, else 0. */
    bool from_controller; /* A controller-built packet. */
    char built_by[PIPELINE_BUILT_BY_MAX]; /* As in struct pipeline_output. */
};

/** One controller action met during the walk. */
struct pipeline_ctrl {
    enum action_type type;
    uint32_t datapath;
    enum action_pipeline pipeline;
    int table;
    char *text;      /* "put_arp(port=\"lrp1\", ip=10.0.0.5, mac=...)" etc.  Owned. */
    uint8_t *packet; /* The packet it built (before its nested actions, for packet
                      * builders; the DHCP reply for put_dhcp_opts), or NULL.  Owned. */
    size_t len;
    int error; /* Why no packet could be built (negative errno), or 0. */

    /* put_arp / put_nd: the MAC_Binding update. */
    bool has_mac_binding;
    uint32_t mb_port;
    bool mb_ipv6;
    lex_u128 mb_ip;
    uint8_t mb_mac[6];
};

/** What became of one packet.  Initialise with pipeline_result_init(); every array is
 * owned by the result: free with pipeline_result_destroy(). */
struct pipeline_result {
    struct pipeline_output *outputs;
    size_t n_outputs;
    struct pipeline_drop *drops;
    size_t n_drops;
    struct pipeline_ctrl *ctrls;
    size_t n_ctrls;
    struct pipeline_trace_entry *trace; /* Only with pipeline_input.trace. */
    size_t n_trace;

    /* The megaflow of the walk (see megaflow.h): its mask and masked key, and the
     * composed actions.  'megaflow.cacheable' is false when the walk cannot be
     * replayed from a cache (conntrack recirculation, controller actions, overflowed
     * executor arrays, an input error). */
    struct megaflow megaflow;

    struct pkey input_key; /* The key the walk started from (metadata set). */
    int error;             /* The input itself was refused (negative errno), or 0. */
    char *error_msg;       /* Why.  Owned, or NULL. */
};

void pipeline_result_init(struct pipeline_result *result);

/** Frees what 'result' holds and leaves it initialised.  NULL is a no-op. */
void pipeline_result_destroy(struct pipeline_result *result);

/** Computes the key a walk of 'in' starts from: the parsed packet (or in->key), with
 * in_port, the datapath, inport (and, from a tunnel, outport), the zone registers
 * set, and for a localnet input the VLAN tag removed.  It is the key a megaflow cache
 * is probed with.
 *
 * Errors: -EINVAL (malformed packet, missing OVN option), -ENOENT (unknown port,
 * network or datapath), -EHOSTUNREACH (tunnel to a port not on this chassis);
 * 'err' (may be NULL) says why. */
int pipeline_input_key(const struct pipeline *pipeline, const struct pipeline_input *in,
                       struct pkey *key, struct ovnic_err *err);

/** Walks the packet of 'in' through the pipeline and fills 'out' (initialised with
 * pipeline_result_init(); previous contents are freed).  An input that cannot enter
 * (as pipeline_input_key()) gives no output, 'out->error' and a drop.
 *
 * Returns 0 (whatever became of the packet), or -ENOMEM. */
int pipeline_process(struct pipeline *pipeline, const struct pipeline_input *in,
                     struct pipeline_result *out);

/** Writes the trace of 'result' as indented text, one entry a line, in the manner of
 * ovn-trace --detailed.  Caller owns; free with free().  NULL on allocation failure. */
char *pipeline_trace_format(const struct pipeline_result *result);

/** Writes the megaflow of 'result' as one line "MATCH, actions:ACTIONS" (see
 * megaflow_format()).  Caller owns; free with free().  NULL on allocation failure. */
char *pipeline_megaflow_format(const struct pipeline_result *result);

/** The whole result as JSON:
 *   {"error": "...",                                   (only if refused)
 *    "outputs": [{"type": "local"|"tunnel"|"localnet"|"logical", "datapath": N,
 *                 "port": "...", "port_key": N, "key": "pkey_format() text",
 *                 "packet": "hex", "from_controller": B, "built_by": "...", "chassis":
 * "...", "encap_ip": "...", "tun_id": N, "tun_ovn_inport": N, "tun_ovn_outport": N,
 * "network": "...", "vlan": N}], "drops": [{"datapath": N, "pipeline":
 * "ingress"|"egress", "table": N, "reason": "...", "from_controller": B, "built_by":
 * "..."}], "controller": [{"action": "...", "datapath": N, "text": "...", "packet":
 * "hex"}], "megaflow": {"match": "...", "actions": "...", "cacheable": B}, "trace":
 * [{"type": "...", "depth": N, "datapath": N, "dp": "...", "pipeline": "...", "table": N,
 * "priority": N, "stage": "...", "uuid": "...", "match": "...", "actions": "...", "text":
 * "..."}]} Members that do not apply are left out.  Caller owns; NULL on allocation
 * failure. */
json_t *pipeline_result_to_json(const struct pipeline_result *result);

/** The logical flows installed in the classifiers of datapath 'datapath' (its name;
 * NULL: every datapath), like ovs-ofctl dump-flows: a JSON array of {"datapath",
 * "datapath_key", "pipeline", "table", "priority", "stage", "uuid", "match",
 * "actions", "installed" (conjunctions installed), "hits" (lookups the flow
 * answered)}, by datapath key, pipeline and table, then priority (highest first).
 * Reads the hit counters without synchronisation: a dump while another thread walks
 * may show slightly old counts.  Caller owns.  Returns NULL, with 'err' saying why (may
 * be NULL), if 'datapath' names no datapath (-ENOENT) or on allocation failure
 * (-ENOMEM). */
json_t *pipeline_flows_json(const struct pipeline *pipeline, const char *datapath,
                            struct ovnic_err *err);

/** Static names: "local", "tunnel", "localnet", "logical"; "pipeline", "flow",
 * "no-match", "physical", "ct", "controller", "output", "drop". */
const char *pipeline_output_type_name(enum pipeline_output_type type);
const char *pipeline_trace_type_name(enum pipeline_trace_type type);

#endif /* OVNIC_PIPELINE_PIPELINE_H */
