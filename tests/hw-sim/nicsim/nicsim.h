/* ovnic-nicsim: the state of the simulated NIC process, shared by its main loop
 * (nicsim.c), its datapath (port.c) and its control server (ctl.c).
 *
 * One thread does everything: it polls the DPDK ports, runs packets through the
 * eSwitch interpreter, and between polls serves the control socket, the sysfs watch
 * and signals from a poll loop, sleeping with an exponential back-off while no packet
 * moves. */
#ifndef OVNIC_NICSIM_NICSIM_H
#define OVNIC_NICSIM_NICSIM_H 1

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "offload/esw.h"
#include "shared/util/err.h"
#include "shared/util/list.h"
#include "tests/hw-sim/eswitch/profile.h"
#include "tests/hw-sim/nicsim/fault.h"
#include "tests/hw-sim/nicsim/sysfs.h"

struct eswitch;
struct eswitch_result;
struct nicsim_flash;
struct poll_loop;
struct rpc_server;
struct rte_mbuf;
struct rte_mempool;

#define NICSIM_VERSION "0.1.0"

/* eSwitch port ids: the uplink, the PF, then VF N at NICSIM_PORT_VF0 + N. */
#define NICSIM_PORT_UPLINK 0
#define NICSIM_PORT_PF 1
#define NICSIM_PORT_VF0 2
#define NICSIM_MAX_PORTS (NICSIM_PORT_VF0 + NICSIM_SYSFS_MAX_VFS)
#define NICSIM_BURST 32

struct nicsim_port_stats {
    uint64_t rx_packets; /* From the netdev (VF, PF, wire) into the eSwitch. */
    uint64_t rx_bytes;
    uint64_t tx_packets; /* From the eSwitch out of the netdev. */
    uint64_t tx_bytes;
    uint64_t tx_dropped;     /* Refused by the netdev. */
    uint64_t rep_rx_packets; /* From the representor (software) into the eSwitch. */
    uint64_t rep_rx_bytes;
    uint64_t rep_tx_packets; /* From the eSwitch to the representor. */
    uint64_t rep_tx_bytes;
    uint64_t rep_tx_dropped; /* No client connected, or its ring full. */
    uint64_t link_dropped;   /* Dropped because the port's link is down. */
};

struct nicsim_txq {
    struct rte_mbuf *pkts[NICSIM_BURST];
    uint16_t n;
};

struct nicsim_port {
    bool active;
    uint16_t id; /* eSwitch port id. */
    enum esw_port_kind kind;
    uint16_t vf;
    char name[32];        /* Representor name: "p0", "pf0hpf", "pf0vfN". */
    char netdev[16];      /* ovnic-nicsim's end of the port (a packet socket on it). */
    char host_netdev[16]; /* The host's netdev ("pf0", "pf0vN"); the uplink: same. */
    bool own_veth;        /* ovnic-nicsim created 'netdev' and deletes it. */
    uint8_t host_mac[6];
    char eth_vdev[48]; /* DPDK device names. */
    char rep_vdev[48];
    uint16_t eth_port; /* DPDK port ids. */
    uint16_t rep_port;
    bool eth_open;
    bool rep_open;
    char memif_path[PATH_MAX];
    bool link_down; /* Fault: administratively down. */
    struct nicsim_port_stats stats;
    struct nicsim_txq eth_txq;
    struct nicsim_txq rep_txq;
};

/* Packets held by the uplink-delay fault. */
struct nicsim_delayq {
    struct rte_mbuf **pkts;
    uint64_t *due_ms;
    uint32_t size; /* Power of two. */
    uint32_t head; /* Next to release. */
    uint32_t tail; /* Next free slot. */
    uint64_t overflows;
};

struct nicsim_options {
    const char *run_dir;
    const char *name;       /* Prefix of ovnic-nicsim's netdev names (<= 6 chars). */
    const char *profile;    /* "bf2", "bf3" or a file. */
    const char *sysfs_root; /* NULL: a tree under run_dir/sys. */
    const char *host_netns; /* Where PF/VF netdevs go; NULL: our own namespace. */
    const char *uplink;     /* Existing netdev; NULL: a veth pair is made. */
    const char *pf_ifname;
    const char *pci_addr;
    const char *pidfile;
    const char *log_file;
    const char *flash_dir;
    size_t flash_size;
    unsigned int total_vfs;
    unsigned int numvfs; /* VFs enabled at start. */
    uint8_t pf_mac[6];
    uint32_t idle_min_us;
    uint32_t idle_max_us;
};

struct nicsim {
    struct nicsim_options opts;
    char ctl_path[PATH_MAX];
    char memif_dir[PATH_MAX];
    char eal_prefix[64];
    int host_netns_fd;

    struct eswitch_profile profile;
    struct eswitch *esw;
    struct eswitch_result *result; /* Scratch space of the datapath. */
    uint8_t *scratch;              /* Linearised packet. */
    struct rte_mempool *pool;
    struct nicsim_port ports[NICSIM_MAX_PORTS];
    struct nicsim_delayq uplink_in;  /* Received from the wire, not yet processed. */
    struct nicsim_delayq uplink_out; /* Bound for the wire, not yet sent. */

    struct nicsim_faults faults;
    struct nicsim_flash *flash;
    struct nicsim_sysfs *sysfs;

    struct poll_loop *loop;
    struct rpc_server *ctl; /* The control socket (ctl.c). */
    int signal_fd;
    bool exiting;

    uint64_t start_ms;
    uint64_t idle_sleeps; /* Times the datapath slept. */
    uint64_t polls;
};

/* ---- port.c: DPDK ports and the datapath. ---------------------------------- */

/** Prepares the mempool and the datapath's scratch space.  Returns 0 or a negative
 * errno. */
int nicsim_dp_init(struct nicsim *ns, struct ovnic_err *err);

/** Releases what nicsim_dp_init() and the ports hold. */
void nicsim_dp_uninit(struct nicsim *ns);

/** Brings up port 'id' of kind 'kind' (VF number 'vf'): its netdev (a veth pair, made
 * unless the port is the given uplink), the packet-socket device on it, and the
 * memif representor.  'host_mac' is the MAC of the host's end (may be NULL).
 * Returns 0 or a negative errno, with everything undone on failure. */
int nicsim_port_open(struct nicsim *ns, uint16_t id, enum esw_port_kind kind, uint16_t vf,
                     const char *host_netdev, const uint8_t *host_mac,
                     struct ovnic_err *err);

/** Tears port 'id' down (no-op if it is not active). */
void nicsim_port_close(struct nicsim *ns, uint16_t id);

/** Deletes the VF netdevs that an earlier run left behind (one killed with SIGKILL
 * cannot remove them), wherever their host ends are: a NIC that starts has no VF until
 * the host enables SR-IOV again.  Returns how many there were. */
unsigned int nicsim_port_remove_leftovers(struct nicsim *ns);

/** Sets the link of port 'id' up or down.  Returns 0, -ENODEV. */
int nicsim_port_set_link(struct nicsim *ns, uint16_t id, bool up);

/** The port whose representor or netdev is named 'name', or whose id is 'name' in
 * decimal; NULL if none is active. */
struct nicsim_port *nicsim_port_find(struct nicsim *ns, const char *name);

/** Receives from every port, runs the packets through the eSwitch and sends what
 * comes out.  Returns the number of packets received. */
unsigned int nicsim_dp_poll(struct nicsim *ns);

/** Milliseconds until the next delayed packet is due, or -1 if none is held. */
int nicsim_dp_next_due_ms(const struct nicsim *ns);

/** Port 'port' as JSON (caller owns). */
json_t *nicsim_port_to_json(const struct nicsim *ns, const struct nicsim_port *port);

/* ---- ctl.c: the control socket. ------------------------------------------- */

/** Listens on ns->ctl_path.  Returns 0 or a negative errno. */
int nicsim_ctl_open(struct nicsim *ns, struct ovnic_err *err);

/** Closes the listener and every connection. */
void nicsim_ctl_close(struct nicsim *ns);

#endif /* OVNIC_NICSIM_NICSIM_H */
