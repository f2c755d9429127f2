/* ovnic: the datapath lcore of the DPDK vswitch, and the state it shares with the
 * control thread (dpdk_vswitch.c).  Internal to dpu/vswitch: vswitch.h is the API.
 *
 * Sharing rules:
 *   - what the control thread publishes (a port table, a pipeline, a request) is
 *     immutable until the lcore acknowledges it; pointers and acknowledgements move
 *     with release/acquire atomics;
 *   - counters have one writer, the lcore (relaxed atomic stores), and are read by
 *     the control thread with relaxed atomic loads;
 *   - the megaflow cache, the exec scratch and the tx buffers belong to the lcore
 *     alone; the control thread reaches the cache only through a request the lcore
 *     runs (struct vs_request). */
#ifndef OVNIC_VSWITCH_DPDK_DATAPATH_H
#define OVNIC_VSWITCH_DPDK_DATAPATH_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dpu/pipeline/exec.h"
#include "dpu/pipeline/megaflow.h"
#include "dpu/pipeline/packet.h"
#include "dpu/pipeline/pipeline.h"
#include "dpu/vswitch/vswitch.h"
#include "shared/util/backoff.h"
#include "shared/util/list.h"

struct rte_mbuf;
struct rte_mempool;
struct conntrack;
struct neigh_table;
struct ct_det;

#define VS_MAX_PORTS 64
#define VS_BURST 32
#define VS_NAME_LEN 64
#define VS_MAX_DROP_REASONS 128
#define VS_DROP_NAME_LEN 64
#define VS_MB_QUEUE_LEN 256
#define VS_META_WORDS 21 /* The metadata and tunnel words of struct pkey (stage 0). */
#define VS_FLOWCACHE_MIN 8192   /* Flow cache entries per lcore at first (1 MB), */
#define VS_FLOWCACHE_MAX 524288 /* ...and at most (64 MB). */

/* Counter helpers: one writer (the lcore), readers elsewhere. */
#define VS_ADD(CTR, N)                                                        \
    __atomic_store_n(&(CTR), __atomic_load_n(&(CTR), __ATOMIC_RELAXED) + (N), \
                     __ATOMIC_RELAXED)
#define VS_INC(CTR) VS_ADD(CTR, 1)
#define VS_GET(CTR) __atomic_load_n(&(CTR), __ATOMIC_RELAXED)

/* Drop reasons the vswitch itself gives; the parser's come first (the index is the
 * enum packet_drop_reason), then these, then the pipeline's, registered as met. */
enum vs_drop {
    VS_DROP_NO_PIPELINE = PACKET_N_DROP_REASONS, /* "no pipeline" */
    VS_DROP_NOT_FOR_US,                          /* "uplink frame not for this chassis" */
    VS_DROP_CTRL_RATE,                           /* "ctrl rate limit" */
    VS_DROP_NEIGH,                               /* "neighbour unresolved" */
    VS_DROP_TX_FULL,                             /* "tx full" */
    VS_DROP_TOO_BIG,                             /* "too big" */
    VS_DROP_NO_PORT,                             /* "no representor for port" */
    VS_DROP_NO_MBUF,                             /* "no mbuf" */
    VS_DROP_ENCAP,                               /* "encapsulation failed" */
    VS_DROP_REWRITE,                             /* "header rewrite failed" */
    VS_DROP_INPUT,                               /* "input refused by the pipeline" */
    VS_DROP_NOMEM,                               /* "out of memory" */
    VS_DROP_PORT_DOWN,                           /* "port down" */
    VS_DROP_OTHER,                               /* "other" (the reason table is full) */
    VS_DROP_FIRST_DYNAMIC,
};

/* Drop counters by reason.  The lcore appends names (then publishes 'n'). */
struct vs_drops {
    char names[VS_MAX_DROP_REASONS][VS_DROP_NAME_LEN];
    uint64_t counts[VS_MAX_DROP_REASONS];
    size_t n; /* Atomic. */
};

struct vs_port_stats {
    uint64_t rx_packets, rx_bytes;
    uint64_t tx_packets, tx_bytes;
    uint64_t rx_dropped, tx_dropped;
    uint64_t walks, megaflow_hits;
    uint64_t ctrl_drops;
};

/* One DPDK port: the uplink or a representor.  Created and destroyed by the control
 * thread; between, shared by the port tables that list it (once it has a device).
 *
 * The control thread keeps its state (dpdk_vswitch.c, "Link state"): up (the lcore
 * polls it), down (its link went down: it is tried again with back-off), waiting (it
 * has had no working device yet: tried the same way).  Only an up port is live in the
 * table the lcore runs, and the device of a port that is not live is stopped and
 * started only once the lcore runs a table where it is not, so that no burst runs on
 * it meanwhile. */
struct vs_port {
    char name[VS_NAME_LEN];
    char *lport;   /* Logical port (NULL for the uplink).  Owned. */
    char *devargs; /* Owned. */
    char *devname; /* Device name for detaching.  Owned. */
    uint16_t port_id;
    bool uplink;
    bool probed; /* Probed here (detached when the port goes), or adopted. */
    uint32_t lport_hash;

    /* The control thread's. */
    bool has_dev;    /* 'port_id' is a configured device (probed or adopted). */
    bool connecting; /* Started; waiting until 'connect_ms' for the link. */
    enum vswitch_port_state state;
    uint64_t state_ms;   /* When 'state' was entered (time_msec()). */
    uint64_t next_ms;    /* Not up: when to try again. */
    uint64_t connect_ms; /* Connecting: when to give up on this attempt. */
    uint64_t remind_ms;  /* Not up: when to log again that it is not. */
    struct backoff backoff;
    uint32_t attempts;    /* Since 'state' was entered. */
    uint64_t link_losses; /* Times its link went down. */
    uint64_t recoveries;  /* Times it came back up after that. */
    char error[192];      /* Why the last attempt failed ("" if none). */

    /* The lcore's. */
    bool dp_live; /* Its table's 'live' flag, copied when the lcore takes the table. */
    struct rte_mbuf *txq[VS_BURST];
    uint16_t n_tx;
    uint64_t tokens;     /* Controller actions allowed now. */
    uint64_t tokens_tsc; /* When they were last refilled. */
    /* ...the metadata words of the key a frame from this representor starts its walk
     * with (datapath, inport, zones, in_port), computed once per pipeline. */
    uint64_t in_meta_gen; /* Pipeline generation + 1 they were computed at; 0: none. */
    int in_meta_state;    /* 0: valid; < 0: the pipeline refuses the port; 1: compute
                           * the key per packet (pipeline_input_key()). */
    uint64_t in_meta[VS_META_WORDS];

    struct vs_port_stats st;
};

/* An immutable port table, as published to the lcore: the ports that have a device.
 * The lcore receives from and sends on the live ones only; what it would send on
 * another is dropped ("port down"). */
struct vs_ports {
    uint64_t version;
    size_t n;
    struct vs_port *ports[VS_MAX_PORTS];
    bool live[VS_MAX_PORTS];
    struct vs_port *uplink; /* Also in 'ports', or NULL. */
};

/* One pipeline handed to the lcore. */
struct vs_pipe {
    struct ovnic_list node; /* In vswitch->retired, once replaced. */
    struct pipeline *pipeline;
    uint64_t generation;
};

/* Conntrack as the live pipeline sees it: the vswitch's tracker, or, while the lcore
 * runs a trace, a deterministic one (so that a trace reads no state and changes
 * none). */
struct vs_ct {
    struct conntrack *ct;
    struct ct_det *det;
    bool trace;
};

extern const struct ct_class vs_ct_class;

/* A request the lcore runs for the control thread. */
enum vs_request_type {
    VS_REQ_MEGAFLOWS,
    VS_REQ_TRACE,
};

struct vs_request {
    enum vs_request_type type;
    /* MEGAFLOWS. */
    size_t limit;
    /* TRACE. */
    const struct vs_port *port;
    const uint8_t *pkt;
    size_t len;
    /* Result. */
    json_t *json;
    struct ovnic_err err;
};

struct vs_mb_event {
    char lport[VS_NAME_LEN];
    struct ctrl_mac_binding mb;
};

struct vs_dp_stats {
    uint64_t polls, idle_sleeps;
    uint64_t rx, tx;
    uint64_t walks, emc_hits, megaflow_hits, misses;
    uint64_t megaflow_inserts, megaflow_entries;
    uint64_t tunnel_rx, tunnel_tx;
    uint64_t neigh_rx, neigh_tx;
    uint64_t ctrl_packets;
    uint64_t mb_dropped;
};

struct vswitch {
    struct vswitch_config cfg; /* Strings copied below. */
    char *chassis, *eal_args, *file_prefix, *uplink_devargs, *uplink_mac_str;
    char *encap_ip_str, *gateway, *provider_network;

    struct rte_mempool *pool;
    unsigned int lcore_id;
    bool lcore_running;
    uint64_t tsc_hz;

    /* Underlay. */
    bool has_encap;
    bool encap_ipv6;
    uint8_t encap_ip[16];
    uint8_t uplink_mac[6];
    struct neigh_table *neigh; /* NULL without an uplink and encap IP. */

    struct conntrack *ct;
    struct vs_ct vct;

    /* Control thread. */
    struct vs_port *ports[VS_MAX_PORTS]; /* Every port, with a device or not. */
    size_t n_ports;
    struct vs_port *uplink_port; /* Also in 'ports', or NULL. */
    bool neigh_pending;          /* 'neigh' waits for the uplink's MAC. */
    uint64_t link_poll_ms;       /* When to read the links of the up ports next. */
    bool publish_pending;        /* The latest table is not the lcore's yet. */
    struct vs_ports *ports_cur;  /* The latest table (published). */
    uint64_t ports_version;
    uint64_t generation;       /* Last pipeline generation given out. */
    struct vs_pipe *pipe_cur;  /* The latest pipeline published, or NULL. */
    struct ovnic_list retired; /* struct vs_pipe waiting for the lcore to leave. */

    /* Shared with the lcore (atomics). */
    struct vs_ports *ports_pub;
    uint64_t ports_ack;
    struct vs_pipe *pipe_pub;
    uint64_t gen_ack;
    bool stop;
    struct vs_request *req_pub; /* Posted by the control thread, cleared when done. */
    uint64_t req_done;          /* Count of requests completed. */

    pthread_mutex_t mb_mutex;
    struct vs_mb_event mb_queue[VS_MB_QUEUE_LEN];
    size_t mb_n;

    struct vs_drops drops;
    struct vs_dp_stats st;

    /* Health checks (dpdk_svc.c): monitors on the control thread, rings both ways. */
    struct vs_svc *svc;

    /* The lcore's own. */
    struct megaflow_cache *cache;
    struct pipeline_result result;
    struct exec_result *xr;
};

/** The datapath lcore's main function (rte_eal_remote_launch()); 'arg' is the
 * struct vswitch.  Returns 0 when vs->stop is set. */
int vs_datapath_main(void *arg);

/** Registers the static drop reasons of 'vs'. */
void vs_drops_init(struct vs_drops *drops);

/* Health checks (dpdk_svc.c).  vs_svc_create() / vs_svc_destroy() / vs_svc_run(): the
 * control thread (destroy once the lcore stopped, before the mbuf pool goes);
 * vs_svc_reply() and vs_svc_tx_dequeue(): the lcore (lock-free rings).  The probes
 * dequeued start with VS_NAME_LEN bytes holding the logical port's name (NUL-padded),
 * then the frame. */
int vs_svc_create(struct vswitch *vs, struct ovnic_err *err);
void vs_svc_destroy(struct vswitch *vs);
unsigned int vs_svc_run(struct vswitch *vs);
void vs_svc_reply(struct vswitch *vs, const char *lport, const uint8_t *frame,
                  size_t len);
unsigned int vs_svc_tx_dequeue(struct vswitch *vs, struct rte_mbuf **pkts,
                               unsigned int n);
void vs_svc_tx_no_port(struct vswitch *vs);

#endif /* OVNIC_VSWITCH_DPDK_DATAPATH_H */
