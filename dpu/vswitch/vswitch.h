/* ovnic: the DPDK vswitch of ovnic-dpud.
 *
 * A struct vswitch owns DPDK (EAL, one mbuf pool), the representor ports (one per VF
 * of this DPU's host, and the uplink's), the connection tracker (conntrack.h), the
 * underlay neighbour table (neigh.h) and one datapath lcore that runs, in bursts and
 * to completion:
 *
 *     rx → parse (packet.h) → exact-match / megaflow cache (megaflow.h)
 *        → on a miss, or for a megaflow that is not cacheable: the pipeline walk
 *          (pipeline.h) with the real conntrack, the megaflow inserted if cacheable
 *        → actions: header rewrites, Geneve push (tunnel.h) toward the remote
 *          chassis's encap IP (next hop from neigh.h), VLAN push for a provider
 *          network, local delivery → tx in bursts.
 *
 * What arrives on the uplink is taken apart first: ARP/ND for the local encap IP
 * (neigh.h), Geneve to the local encap IP (PIPELINE_IN_TUNNEL), and, if a provider
 * network is configured, everything else (PIPELINE_IN_LOCALNET).
 *
 * The control thread (the daemon's poll loop, which called vswitch_create()) builds a
 * new pipeline from the SB replica on each change (vswitch_pipeline_sync()) and hands
 * it to the lcore by publishing a pointer; the lcore switches at the start of its next
 * burst and acknowledges the generation; the old pipeline is freed by the control
 * thread once acknowledged (vswitch_run()).  Ports are added and removed the same way.
 *
 * Idle back-off: after 'idle_polls' empty polls the lcore sleeps, from idle_min_us
 * doubling up to idle_max_us; one packet resets it.
 *
 * Controller actions run on the lcore inside the walk (the pipeline builds ARP, ND,
 * ICMP, DHCP replies...), rate-limited per input port ('ctrl_pps'); what needs the
 * SB (put_arp/put_nd MAC bindings) is queued to the control thread and reported by
 * vswitch_run() through the callbacks. */
#ifndef OVNIC_VSWITCH_VSWITCH_H
#define OVNIC_VSWITCH_VSWITCH_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/pipeline/ctrl.h"
#include "dpu/vswitch/svc_mon.h"
#include "shared/util/err.h"

struct ovsdb_replica;
struct vswitch;

/* The state of a port (the uplink or a representor).  A port whose device goes away
 * or whose link goes down (the NIC resets, a firmware update reboots it, the memif
 * server exits) is "down": the datapath stops using it, and the control thread tries
 * it again with back-off (100 ms doubling to 1 s): if its link does not come back by
 * itself, it stops and starts the device, which makes net_memif connect again.  A
 * port that has had no working device yet (the NIC is absent) is "waiting", and is
 * tried the same way.  What the datapath would send on a port that is not up is
 * dropped as "port down". */
enum vswitch_port_state {
    VSWITCH_PORT_UP,
    VSWITCH_PORT_DOWN,
    VSWITCH_PORT_WAITING,
};

/** "up", "down", "waiting". */
const char *vswitch_port_state_name(enum vswitch_port_state state);

struct vswitch_config {
    const char *chassis; /* This chassis's name (SB Chassis.name).  Required. */

    /* EAL.  'eal_args': extra arguments, space-separated ("--no-huge -m 512"); NULL:
     * "-m 512" on hugepages when 256 free 2 MB pages and a hugetlbfs mount exist, else
     * "--no-huge -m 512".  The vswitch adds --file-prefix=FILE_PREFIX if
     * 'file_prefix' is set, else --in-memory (with --no-huge, which --in-memory does
     * not accept: --no-shconf and a per-process prefix instead), --no-pci,
     * --no-telemetry, quiet logs, and an lcore list with the main lcore (the calling
     * thread) and one datapath lcore, both floating over the CPUs the process may use.
     * The EAL starts with the first vswitch_create() of the process and stays up; one
     * vswitch at a time owns the datapath lcore (-EBUSY for a second). */
    const char *eal_args;
    const char *file_prefix;
    unsigned int n_mbufs; /* [16383] */

    /* Idle back-off of the datapath lcore. */
    unsigned int idle_polls;  /* [64] */
    unsigned int idle_min_us; /* [20] */
    unsigned int idle_max_us; /* [2000] */

    /* Underlay.  'uplink_devargs': DPDK devargs of the uplink representor
     * ("net_memif_p0,role=client,socket=/run/nicsim/memif/p0.sock,socket-abstract=no"),
     * or NULL for none (then no tunnel and no provider network). */
    const char *uplink_devargs;
    const char *uplink_mac;       /* MAC used on the uplink ("0c:42:a1:..."); NULL: the
                                   * port's own. */
    const char *encap_ip;         /* This chassis's Geneve endpoint. */
    unsigned int encap_plen;      /* Its prefix length on the uplink (0: 24 / 64). */
    const char *underlay_gateway; /* Next hop outside that prefix, or NULL. */
    unsigned int underlay_mtu;    /* IP MTU of the underlay [1500]. */
    const char *provider_network; /* Network name (localnet options:network_name)
                                   * carried untunnelled on the uplink, or NULL. */

    size_t ct_max_conns;   /* [262144] */
    size_t megaflow_max;   /* [65536] */
    unsigned int ctrl_pps; /* Controller actions per second per port [1000]. */

    /* Reported by vswitch_run() on the control thread.  May be NULL. */
    void (*mac_binding_cb)(void *aux, const char *logical_port,
                           const struct ctrl_mac_binding *mb);
    /* The status of Service_Monitor 'uuid' became 'status' ("online" / "offline";
     * see vswitch_svc_monitors_set()). */
    void (*svc_status_cb)(void *aux, const struct uuid *uuid, const char *status);
    /* Port 'name' (logical port 'lport', NULL for the uplink) went into 'state'. */
    void (*port_state_cb)(void *aux, const char *name, const char *lport,
                          enum vswitch_port_state state);
    void *aux;
};

/** Starts DPDK (once per process), the uplink and the datapath lcore.  'config' is
 * copied.  An uplink whose device cannot be attached or started yet (the NIC is
 * absent) is "waiting" (see enum vswitch_port_state; logged).  Caller owns; free with
 * vswitch_destroy().
 * Errors: -EINVAL (bad configuration; 'err' says which), -ENODEV (no driver takes the
 * uplink's devargs), -EBUSY (another vswitch runs in this process), -ENOMEM, or what
 * rte_eal_init() gives. */
int vswitch_create(const struct vswitch_config *config, struct vswitch **vsp,
                   struct ovnic_err *err);

/** Does the part of vswitch_create() that needs no port: starts the EAL and creates
 * the mbuf pool, which the next vswitch_create() with the same 'n_mbufs' adopts.  A
 * daemon that takes over from another one calls it while the other still forwards,
 * so that only the ports and the lcore remain for the switch-over.  Errors as
 * vswitch_create(). */
int vswitch_prepare(const struct vswitch_config *config, struct ovnic_err *err);

/** Stops the lcore, closes the ports and frees everything.  NULL is a no-op. */
void vswitch_destroy(struct vswitch *vs);

/** Attaches the representor port 'name' (e.g. "pf0vf0") with DPDK devargs 'devargs'
 * and binds it to logical port 'lport' (the Port_Binding's logical_port: packets
 * from it enter the pipeline as PIPELINE_IN_VIF from 'lport'; deliveries to 'lport'
 * leave through it).  The device is hot-plugged (rte_dev_probe()); one that exists
 * already (a representor probed with its PF, a port the program created) is adopted
 * and, when the port goes, only stopped.  Returns once the datapath polls it, or with
 * the port "waiting" if its device cannot be attached or started yet (then it is tried
 * again with back-off; vswitch_port_state() and vswitch_ports_json() tell, the log
 * says why).
 * Errors: -EEXIST (name, lport or device taken), -ENODEV (no driver takes the devargs),
 * -ENOSPC (64 ports), -EINVAL, -ENOMEM, -ETIMEDOUT (the datapath did not take it). */
int vswitch_port_add(struct vswitch *vs, const char *name, const char *devargs,
                     const char *lport, struct ovnic_err *err);

/** Detaches port 'name', once the datapath has stopped polling it.  Errors: -ENOENT,
 * -ETIMEDOUT. */
int vswitch_port_del(struct vswitch *vs, const char *name);

/** The state of port 'name' ("uplink" for the uplink): an enum vswitch_port_state,
 * or -ENOENT. */
int vswitch_port_state(const struct vswitch *vs, const char *name);

/** Builds a new pipeline from SB replica 'sb' (borrowed for the call) and hands it to
 * the datapath.  Returns the new generation (> 0), or a negative errno (the datapath
 * keeps the previous pipeline; 'err' says why). */
int64_t vswitch_pipeline_sync(struct vswitch *vs, const struct ovsdb_replica *sb,
                              struct ovnic_err *err);

/** The generation the datapath lcore runs (0 before the first sync). */
uint64_t vswitch_generation_live(const struct vswitch *vs);

/** Control-thread housekeeping: frees pipelines the lcore has left, delivers queued
 * events (MAC bindings) to the callbacks, sweeps expired connections and
 * neighbours, reads the links of the up ports (every 100 ms: a link that went down
 * makes its port "down", logged once) and tries the ports that are not up when their
 * back-off expires (their state changes go to 'port_state_cb').  Call it at least
 * every 100 ms and after vswitch_pipeline_sync().  Returns how long (ms) until it
 * wants to run again. */
unsigned int vswitch_run(struct vswitch *vs);

/** Load-balancer health checks (svc_mon.h): makes the monitors those of 'specs' (n
 * Service_Monitor rows of logical ports bound to this chassis; borrowed for the
 * call).  Probes leave through the representor of the monitored logical port;
 * replies reach the monitors through the handle_svc_check() controller action, which
 * the datapath lcore queues to the control thread; vswitch_run() runs the monitors
 * and reports status changes through 'svc_status_cb'.  Returns the number of
 * monitors, or -ENOMEM (see svc_mon_set()). */
int vswitch_svc_monitors_set(struct vswitch *vs, const struct svc_mon_spec *specs,
                             size_t n);

/** Status of monitor 'uuid' (svc_mon_status()). */
enum svc_mon_status vswitch_svc_monitor_status(const struct vswitch *vs,
                                               const struct uuid *uuid);

/* ---- Operational views (JSON; caller owns; NULL on allocation failure). ---- */

/** Health checks: {"monitors": svc_mon_json(), "stats": svc_mon_stats_json() plus
 * "rx_queued", "rx_dropped" (replies the lcore queued / could not queue),
 * "tx_queued", "tx_dropped" (probes handed to / refused by the lcore), "tx_no_port"
 * (probes for a logical port without a representor)}. */
json_t *vswitch_svc_monitors_json(const struct vswitch *vs);

/** Ports: [{"name", "lport", "port_id", "devargs", "link", "state" ("up", "down",
 * "waiting"), "state_ms" (time in that state), "attempts" (to bring it up since),
 * "error" (why the last one failed, or null), "link_losses", "recoveries",
 * "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "rx_dropped", "tx_dropped",
 * "pipeline_walks", "megaflow_hits", "ctrl_rate_drops", "link_speed_mbps"}], the
 * uplink included (name "uplink", lport null); "port_id" is null while the port has
 * no device. */
json_t *vswitch_ports_json(const struct vswitch *vs);

/** Datapath totals: {"generation", "lcore", "polls", "idle_sleeps", "rx", "tx",
 * "walks", "emc_hits", "megaflow_hits", "misses", "tunnel_rx", "tunnel_tx",
 * "neigh_rx", "neigh_tx", "ctrl_packets", "megaflows", "megaflow_inserts",
 * "mac_bindings_dropped", "mbufs_in_use", "drops": {REASON: N, ...}} where "drops"
 * lists the reasons with a count: the parser's (packet_drop_reason_name()), the
 * pipeline's (its drop text up to the first quoted name, e.g. "no flow matched in
 * ingress table 5", "dropped by the actions"), "ctrl rate limit", "neighbour
 * unresolved", "tx full", "too big", "no pipeline", "no representor for port",
 * "uplink frame not for this chassis", "input refused by the pipeline", "no mbuf",
 * "encapsulation failed", "header rewrite failed", "out of memory", "port down"
 * (docs/vswitch.md).
 * A packet dropped from the megaflow cache counts under the reason of the walk that
 * made the megaflow. */
json_t *vswitch_stats_json(const struct vswitch *vs);

/** The megaflow cache, like dpctl/dump-flows: [{"match", "actions", "packets",
 * "bytes", "used_ms"}], at most 'limit' (0: all), of the live generation.  "packets"
 * and "bytes" count cache hits (not the walk that inserted it); "used_ms" is the time
 * since the last hit, or null.  Built on the datapath lcore between two bursts; NULL
 * if it does not answer within 5 s. */
json_t *vswitch_megaflows_json(const struct vswitch *vs, size_t limit);

/** The logical flows of the latest pipeline per datapath and table, like ovs-ofctl
 * dump-flows (pipeline_flows_json()): of datapath 'datapath' (name), or of every
 * datapath if NULL; "hits" counts the lookups each flow answered in the datapath.
 * NULL, with 'err' saying why, if 'datapath' names no datapath of the pipeline
 * (-ENOENT) or on allocation failure (-ENOMEM). */
json_t *vswitch_pipeline_json(const struct vswitch *vs, const char *datapath,
                              struct ovnic_err *err);

/** Conntrack and neighbour views: conntrack_dump_json(), conntrack_stats_json(),
 * neigh_dump_json() of the vswitch's instances; conntrack_flush(). */
json_t *vswitch_conntrack_json(const struct vswitch *vs, int zone, size_t limit);
json_t *vswitch_conntrack_stats_json(const struct vswitch *vs);
size_t vswitch_conntrack_flush(struct vswitch *vs, int zone);
json_t *vswitch_neigh_json(const struct vswitch *vs);

/** Traces the Ethernet frame [pkt, pkt + len) as if it arrived on port 'port' (a
 * representor name, or "uplink") through the live pipeline and returns
 * pipeline_result_to_json() of it (nothing is sent, no megaflow is inserted).  The
 * walk runs on the datapath lcore between two bursts (the pipeline is the lcore's);
 * its conntrack operations are answered by a deterministic tracker (ct_det, as
 * ovn-trace answers without --ct: trk|est), so a trace neither reads nor changes the
 * live connections.  Errors (NULL and 'err'): -ENOENT (unknown port), -EINVAL
 * (malformed frame, or one the uplink would not take into the pipeline), -EAGAIN (no
 * pipeline yet), -ETIMEDOUT (the lcore did not answer in 5 s), -ENOMEM. */
json_t *vswitch_trace_json(struct vswitch *vs, const char *port, const uint8_t *pkt,
                           size_t len, struct ovnic_err *err);

#endif /* OVNIC_VSWITCH_VSWITCH_H */
