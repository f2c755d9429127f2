/* ovnic-nicsim: DPDK ports and the datapath (see nicsim.h).
 *
 * Each eSwitch port has two DPDK devices: a packet-socket device (net_af_packet) on
 * ovnic-nicsim's end of the port's veth pair, which stands for the wire or the host
 * function, and a memif server (net_memif), which is the port's representor on the
 * DPU side.  Devices are hot-plugged, so that VFs come and go at run time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "shared/util/log.h"
#include "shared/util/util.h"
#include "tests/hw-sim/eswitch/eswitch.h"
#include "tests/hw-sim/nicsim/netdev.h"
#include "tests/hw-sim/nicsim/nicsim.h"

OVNIC_LOG_MODULE(nicsim_port);

#define POOL_SIZE 8191
#define DELAYQ_SIZE 4096
#define NETDEV_MTU 9000

static const char *
kind_name(enum esw_port_kind kind)
{
    return kind == ESW_PORT_UPLINK ? "uplink" : kind == ESW_PORT_PF ? "pf" : "vf";
}

static int
delayq_init(struct nicsim_delayq *q)
{
    q->size = DELAYQ_SIZE;
    q->pkts = calloc(q->size, sizeof *q->pkts);
    q->due_ms = calloc(q->size, sizeof *q->due_ms);
    q->head = q->tail = 0;
    return q->pkts && q->due_ms ? 0 : -ENOMEM;
}

static void
delayq_uninit(struct nicsim_delayq *q)
{
    if (q->pkts) {
        while (q->head != q->tail) {
            rte_pktmbuf_free(q->pkts[q->head]);
            q->head = (q->head + 1) & (q->size - 1);
        }
    }
    free(q->pkts);
    free(q->due_ms);
    q->pkts = NULL;
    q->due_ms = NULL;
}

static bool
delayq_push(struct nicsim_delayq *q, struct rte_mbuf *m, uint64_t due)
{
    uint32_t next = (q->tail + 1) & (q->size - 1);

    if (next == q->head) {
        q->overflows++;
        return false;
    }
    q->pkts[q->tail] = m;
    q->due_ms[q->tail] = due;
    q->tail = next;
    return true;
}

/* Pops the oldest packet if it is due at 'now'. */
static struct rte_mbuf *
delayq_pop_due(struct nicsim_delayq *q, uint64_t now)
{
    struct rte_mbuf *m;

    if (q->head == q->tail || q->due_ms[q->head] > now) {
        return NULL;
    }
    m = q->pkts[q->head];
    q->head = (q->head + 1) & (q->size - 1);
    return m;
}

int
nicsim_dp_init(struct nicsim *ns, struct ovnic_err *err)
{
    int error;

    ns->pool = rte_pktmbuf_pool_create("nicsim_pool", POOL_SIZE, 128, 0,
                                       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (!ns->pool) {
        return ovnic_err_set(err, -ENOMEM, "dpdk", "cannot create the mbuf pool", "%s",
                             rte_strerror(rte_errno));
    }
    ns->result = malloc(sizeof *ns->result);
    ns->scratch = malloc(ESWITCH_PKT_MAX);
    if (!ns->result || !ns->scratch) {
        return -ENOMEM;
    }
    error = delayq_init(&ns->uplink_in);
    if (!error) {
        error = delayq_init(&ns->uplink_out);
    }
    return error;
}

void
nicsim_dp_uninit(struct nicsim *ns)
{
    uint16_t id;

    for (id = NICSIM_MAX_PORTS; id-- > 0;) {
        nicsim_port_close(ns, id);
    }
    delayq_uninit(&ns->uplink_in);
    delayq_uninit(&ns->uplink_out);
    free(ns->result);
    free(ns->scratch);
    ns->result = NULL;
    ns->scratch = NULL;
    rte_mempool_free(ns->pool);
    ns->pool = NULL;
}

/* Hot-plugs vdev 'name' with 'args', configures one queue pair and starts it. */
static int
vdev_start(struct nicsim *ns, const char *name, const char *args, uint16_t *portp,
           struct ovnic_err *err)
{
    struct rte_eth_conf conf;
    uint16_t port;
    int error;

    error = rte_eal_hotplug_add("vdev", name, args);
    if (error) {
        return ovnic_err_set(err, error < 0 ? error : -EIO, "dpdk",
                             "cannot create device", "%s,%s", name, args);
    }
    if (rte_eth_dev_get_port_by_name(name, &port)) {
        error = ovnic_err_set(err, -ENODEV, "dpdk", "device has no port", "%s", name);
        goto err_remove;
    }
    memset(&conf, 0, sizeof conf);
    error = rte_eth_dev_configure(port, 1, 1, &conf);
    if (!error) {
        error = rte_eth_rx_queue_setup(port, 0, 512, SOCKET_ID_ANY, NULL, ns->pool);
    }
    if (!error) {
        error = rte_eth_tx_queue_setup(port, 0, 512, SOCKET_ID_ANY, NULL);
    }
    if (!error) {
        error = rte_eth_dev_start(port);
    }
    if (error) {
        ovnic_err_set(err, error < 0 ? error : -EIO, "dpdk", "cannot start device", "%s",
                      name);
        rte_eth_dev_close(port);
        goto err_remove;
    }
    *portp = port;
    return 0;

err_remove:
    rte_eal_hotplug_remove("vdev", name);
    return error < 0 ? error : -EIO;
}

static void
vdev_stop(const char *name, uint16_t port)
{
    rte_eth_dev_stop(port);
    rte_eth_dev_close(port);
    rte_eal_hotplug_remove("vdev", name);
}

static void
txq_drop(struct nicsim_txq *q)
{
    rte_pktmbuf_free_bulk(q->pkts, q->n);
    q->n = 0;
}

static int
netdev_prepare(const char *name, struct ovnic_err *err)
{
    int error;

    nicsim_netdev_disable_ipv6(name);
    error = nicsim_netdev_set_mtu(name, NETDEV_MTU);
    if (!error) {
        error = nicsim_netdev_set_up(name, true);
    }
    if (error) {
        return ovnic_err_set(err, error, "netdev", "cannot bring netdev up", "%s", name);
    }
    return 0;
}

int
nicsim_port_open(struct nicsim *ns, uint16_t id, enum esw_port_kind kind, uint16_t vf,
                 const char *host_netdev, const uint8_t *host_mac, struct ovnic_err *err)
{
    struct nicsim_port *p;
    char args[PATH_MAX + 128];
    char name[32];
    int error;

    if (id >= NICSIM_MAX_PORTS || ns->ports[id].active) {
        return ovnic_err_set(err, -EEXIST, "port", "port already open", "%u", id);
    }
    p = &ns->ports[id];
    memset(p, 0, sizeof *p);
    p->id = id;
    p->kind = kind;
    p->vf = vf;
    if (kind == ESW_PORT_UPLINK) {
        snprintf(p->name, sizeof p->name, "p0");
    } else if (kind == ESW_PORT_PF) {
        snprintf(p->name, sizeof p->name, "pf0hpf");
    } else {
        snprintf(p->name, sizeof p->name, "pf0vf%u", vf);
    }
    if (host_mac) {
        memcpy(p->host_mac, host_mac, 6);
    }

    /* The netdev. */
    if (kind == ESW_PORT_UPLINK && ns->opts.uplink) {
        snprintf(p->netdev, sizeof p->netdev, "%s", ns->opts.uplink);
        snprintf(p->host_netdev, sizeof p->host_netdev, "%s", ns->opts.uplink);
        if (!nicsim_netdev_exists(p->netdev)) {
            return ovnic_err_set(err, -ENODEV, "uplink", "no such netdev", "%s",
                                 p->netdev);
        }
    } else {
        int peer_ns = kind == ESW_PORT_UPLINK ? -1 : ns->host_netns_fd;

        snprintf(p->netdev, sizeof p->netdev, "%s%s", ns->opts.name,
                 kind == ESW_PORT_UPLINK ? "p0"
                 : kind == ESW_PORT_PF   ? "pf"
                                         : "vf");
        if (kind == ESW_PORT_VF) {
            size_t len = strlen(p->netdev);

            snprintf(p->netdev + len, sizeof p->netdev - len, "%u", vf);
        }
        if (kind == ESW_PORT_UPLINK) {
            snprintf(p->host_netdev, sizeof p->host_netdev, "%swire", ns->opts.name);
        } else {
            snprintf(p->host_netdev, sizeof p->host_netdev, "%s", host_netdev);
        }
        /* A netdev left by a run that died goes first. */
        nicsim_netdev_delete(p->netdev);
        error =
            nicsim_veth_create(p->netdev, NETDEV_MTU, p->host_netdev, peer_ns, host_mac,
                               kind == ESW_PORT_UPLINK ? NETDEV_MTU : 0, err);
        if (error) {
            return error;
        }
        p->own_veth = true;
        if (kind == ESW_PORT_UPLINK) {
            /* The far end of a made-up wire: up, for tests to send on. */
            nicsim_netdev_disable_ipv6(p->host_netdev);
            nicsim_netdev_set_up(p->host_netdev, true);
        }
    }
    error = netdev_prepare(p->netdev, err);
    if (error) {
        goto err_netdev;
    }

    /* The packet-socket device on it.  (Names are copied out first: 'p' lies inside
     * 'ns', and the compiler cannot tell the buffers apart.) */
    snprintf(name, sizeof name, "%s", p->name);
    snprintf(p->eth_vdev, sizeof p->eth_vdev, "net_af_packet_%s", name);
    snprintf(args, sizeof args, "iface=%s,qpairs=1,framecnt=512", p->netdev);
    error = vdev_start(ns, p->eth_vdev, args, &p->eth_port, err);
    if (error) {
        goto err_netdev;
    }
    p->eth_open = true;

    /* The representor. */
    if (snprintf(p->memif_path, sizeof p->memif_path, "%s/%s.sock", ns->memif_dir,
                 name) >= (int)sizeof(((struct sockaddr_un *)0)->sun_path)) {
        error = ovnic_err_set(err, -ENAMETOOLONG, "memif", "socket path too long", "%s",
                              p->memif_path);
        goto err_eth;
    }
    unlink(p->memif_path);
    snprintf(p->rep_vdev, sizeof p->rep_vdev, "net_memif_%s", name);
    snprintf(args, sizeof args, "role=server,id=0,socket=%s,socket-abstract=no",
             p->memif_path);
    error = vdev_start(ns, p->rep_vdev, args, &p->rep_port, err);
    if (error) {
        goto err_eth;
    }
    p->rep_open = true;
    p->active = true;
    OLOG_INFO("port %u %s (%s): netdev %s, host %s, representor %s", id, p->name,
              kind_name(kind), p->netdev, p->host_netdev, p->memif_path);
    return 0;

err_eth:
    vdev_stop(p->eth_vdev, p->eth_port);
    p->eth_open = false;
err_netdev:
    if (p->own_veth) {
        nicsim_netdev_delete(p->netdev);
    }
    memset(p, 0, sizeof *p);
    return error;
}

void
nicsim_port_close(struct nicsim *ns, uint16_t id)
{
    struct nicsim_port *p;

    if (id >= NICSIM_MAX_PORTS || !ns->ports[id].active) {
        return;
    }
    p = &ns->ports[id];
    txq_drop(&p->eth_txq);
    txq_drop(&p->rep_txq);
    if (p->rep_open) {
        vdev_stop(p->rep_vdev, p->rep_port);
        unlink(p->memif_path);
    }
    if (p->eth_open) {
        vdev_stop(p->eth_vdev, p->eth_port);
    }
    if (p->own_veth) {
        nicsim_netdev_delete(p->netdev);
    } else {
        nicsim_netdev_set_up(p->netdev, false);
    }
    OLOG_INFO("port %u %s closed", id, p->name);
    memset(p, 0, sizeof *p);
}

unsigned int
nicsim_port_remove_leftovers(struct nicsim *ns)
{
    unsigned int n = 0;

    for (unsigned int vf = 0; vf < NICSIM_SYSFS_MAX_VFS; vf++) {
        char name[32];

        snprintf(name, sizeof name, "%svf%u", ns->opts.name, vf);
        if (nicsim_netdev_exists(name) && !nicsim_netdev_delete(name)) {
            n++;
        }
    }
    return n;
}

int
nicsim_port_set_link(struct nicsim *ns, uint16_t id, bool up)
{
    struct nicsim_port *p;

    if (id >= NICSIM_MAX_PORTS || !ns->ports[id].active) {
        return -ENODEV;
    }
    p = &ns->ports[id];
    p->link_down = !up;
    /* The host sees its carrier follow: a veth has carrier while its peer is up. */
    nicsim_netdev_set_up(p->netdev, up);
    return 0;
}

struct nicsim_port *
nicsim_port_find(struct nicsim *ns, const char *name)
{
    char *end;
    unsigned long id;
    size_t i;

    for (i = 0; i < NICSIM_MAX_PORTS; i++) {
        struct nicsim_port *p = &ns->ports[i];

        if (p->active && (!strcmp(p->name, name) || !strcmp(p->netdev, name) ||
                          !strcmp(p->host_netdev, name))) {
            return p;
        }
    }
    id = strtoul(name, &end, 10);
    if (*name && !*end && id < NICSIM_MAX_PORTS && ns->ports[id].active) {
        return &ns->ports[id];
    }
    return NULL;
}

/* ---- Datapath. -------------------------------------------------------------- */

static void
txq_flush(struct nicsim_port *p, bool rep)
{
    struct nicsim_txq *q = rep ? &p->rep_txq : &p->eth_txq;
    uint16_t sent;
    uint16_t i;

    if (!q->n) {
        return;
    }
    sent = rte_eth_tx_burst(rep ? p->rep_port : p->eth_port, 0, q->pkts, q->n);
    for (i = sent; i < q->n; i++) {
        rte_pktmbuf_free(q->pkts[i]);
    }
    /* Bytes are counted at enqueue (txq_push()), packets here. */
    if (rep) {
        p->stats.rep_tx_packets += sent;
        p->stats.rep_tx_dropped += q->n - sent;
    } else {
        p->stats.tx_packets += sent;
        p->stats.tx_dropped += q->n - sent;
    }
    q->n = 0;
}

static void
txq_push(struct nicsim_port *p, bool rep, struct rte_mbuf *m)
{
    struct nicsim_txq *q = rep ? &p->rep_txq : &p->eth_txq;

    if (q->n == NICSIM_BURST) {
        txq_flush(p, rep);
    }
    if (rep) {
        p->stats.rep_tx_bytes += m->pkt_len;
    } else {
        p->stats.tx_bytes += m->pkt_len;
    }
    q->pkts[q->n++] = m;
}

/* Copies 'len' bytes into a new (possibly chained) mbuf. */
static struct rte_mbuf *
mbuf_from_bytes(struct rte_mempool *pool, const uint8_t *data, size_t len)
{
    struct rte_mbuf *head = rte_pktmbuf_alloc(pool);

    if (!head) {
        return NULL;
    }
    for (;;) {
        struct rte_mbuf *last = rte_pktmbuf_lastseg(head);
        size_t n = MIN(len, (size_t)rte_pktmbuf_tailroom(last));
        char *dst = rte_pktmbuf_append(head, (uint16_t)n);
        struct rte_mbuf *seg;

        memcpy(dst, data, n);
        data += n;
        len -= n;
        if (!len) {
            return head;
        }
        seg = rte_pktmbuf_alloc(pool);
        if (!seg || rte_pktmbuf_chain(head, seg)) {
            rte_pktmbuf_free(seg);
            rte_pktmbuf_free(head);
            return NULL;
        }
    }
}

static void
wire_send(struct nicsim *ns, struct nicsim_port *p, struct rte_mbuf *m, uint64_t now)
{
    if (p->kind == ESW_PORT_UPLINK) {
        if (nicsim_faults_uplink_drop(&ns->faults)) {
            rte_pktmbuf_free(m);
            return;
        }
        if (ns->faults.uplink_delay_ms) {
            if (!delayq_push(&ns->uplink_out, m, now + ns->faults.uplink_delay_ms)) {
                rte_pktmbuf_free(m);
            }
            return;
        }
    }
    txq_push(p, false, m);
}

static void
emit(struct nicsim *ns, const struct eswitch_output *out, uint64_t now)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 10);
    struct nicsim_port *p;
    struct rte_mbuf *m;

    if (out->port_id >= NICSIM_MAX_PORTS || !ns->ports[out->port_id].active) {
        OLOG_DBG_RL(&rl, "output to port %u, which does not exist", out->port_id);
        return;
    }
    p = &ns->ports[out->port_id];
    if (out->to_representor) {
        if (!p->rep_open) {
            p->stats.rep_tx_dropped++;
            return;
        }
    } else if (p->link_down) {
        p->stats.link_dropped++;
        return;
    }
    m = mbuf_from_bytes(ns->pool, out->data, out->len);
    if (!m) {
        if (out->to_representor) {
            p->stats.rep_tx_dropped++;
        } else {
            p->stats.tx_dropped++;
        }
        return;
    }
    if (out->to_representor) {
        txq_push(p, true, m);
    } else {
        wire_send(ns, p, m, now);
    }
}

/* Runs one packet (consumed) through the eSwitch. */
static void
process(struct nicsim *ns, struct nicsim_port *in, bool from_rep, struct rte_mbuf *m,
        uint64_t now)
{
    const uint8_t *data;
    uint32_t len = m->pkt_len;
    size_t i;

    if (len > ESWITCH_PKT_MAX) {
        rte_pktmbuf_free(m);
        return;
    }
    if (m->nb_segs == 1) {
        data = rte_pktmbuf_mtod(m, const uint8_t *);
    } else {
        data = rte_pktmbuf_read(m, 0, len, ns->scratch);
        if (!data) {
            rte_pktmbuf_free(m);
            return;
        }
    }
    eswitch_process(ns->esw, in->id, from_rep, data, len, now, ns->result);
    rte_pktmbuf_free(m);
    if (ns->result->verdict == ESWITCH_DROP) {
        return;
    }
    for (i = 0; i < ns->result->n_outputs; i++) {
        emit(ns, &ns->result->outputs[i], now);
    }
}

static void
port_receive(struct nicsim *ns, struct nicsim_port *p, bool rep, struct rte_mbuf **pkts,
             uint16_t n, uint64_t now)
{
    uint16_t i;

    for (i = 0; i < n; i++) {
        struct rte_mbuf *m = pkts[i];

        if (rep) {
            p->stats.rep_rx_packets++;
            p->stats.rep_rx_bytes += m->pkt_len;
        } else {
            p->stats.rx_packets++;
            p->stats.rx_bytes += m->pkt_len;
            if (p->link_down) {
                p->stats.link_dropped++;
                rte_pktmbuf_free(m);
                continue;
            }
            if (p->kind == ESW_PORT_UPLINK) {
                if (nicsim_faults_uplink_drop(&ns->faults)) {
                    rte_pktmbuf_free(m);
                    continue;
                }
                if (ns->faults.uplink_delay_ms) {
                    if (!delayq_push(&ns->uplink_in, m,
                                     now + ns->faults.uplink_delay_ms)) {
                        rte_pktmbuf_free(m);
                    }
                    continue;
                }
            }
        }
        process(ns, p, rep, m, now);
    }
}

unsigned int
nicsim_dp_poll(struct nicsim *ns)
{
    struct rte_mbuf *pkts[NICSIM_BURST];
    uint64_t now = time_msec();
    struct nicsim_port *uplink = &ns->ports[NICSIM_PORT_UPLINK];
    unsigned int total = 0;
    struct rte_mbuf *m;
    size_t i;

    for (i = 0; i < NICSIM_MAX_PORTS; i++) {
        struct nicsim_port *p = &ns->ports[i];
        uint16_t n;

        if (!p->active) {
            continue;
        }
        n = rte_eth_rx_burst(p->eth_port, 0, pkts, NICSIM_BURST);
        port_receive(ns, p, false, pkts, n, now);
        total += n;
        n = rte_eth_rx_burst(p->rep_port, 0, pkts, NICSIM_BURST);
        port_receive(ns, p, true, pkts, n, now);
        total += n;
    }
    if (uplink->active) {
        while ((m = delayq_pop_due(&ns->uplink_in, now))) {
            process(ns, uplink, false, m, now);
            total++;
        }
        while ((m = delayq_pop_due(&ns->uplink_out, now))) {
            txq_push(uplink, false, m);
            total++;
        }
    }
    for (i = 0; i < NICSIM_MAX_PORTS; i++) {
        if (ns->ports[i].active) {
            txq_flush(&ns->ports[i], false);
            txq_flush(&ns->ports[i], true);
        }
    }
    ns->polls++;
    return total;
}

int
nicsim_dp_next_due_ms(const struct nicsim *ns)
{
    const struct nicsim_delayq *qs[2] = {&ns->uplink_in, &ns->uplink_out};
    uint64_t now = time_msec();
    int best = -1;
    size_t i;

    for (i = 0; i < 2; i++) {
        const struct nicsim_delayq *q = qs[i];

        if (q->pkts && q->head != q->tail) {
            uint64_t due = q->due_ms[q->head];
            int ms = due > now ? (int)MIN(due - now, 10000) : 0;

            if (best < 0 || ms < best) {
                best = ms;
            }
        }
    }
    return best;
}

static void
mac_to_string(const uint8_t mac[6], char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
             mac[4], mac[5]);
}

json_t *
nicsim_port_to_json(const struct nicsim *ns, const struct nicsim_port *p)
{
    const struct nicsim_port_stats *s = &p->stats;
    struct rte_eth_link link;
    char mac_s[18] = "";
    char host_mac_s[18];
    uint8_t mac[6];
    bool connected = false;

    (void)ns;
    if (!nicsim_netdev_get_mac(p->netdev, mac)) {
        mac_to_string(mac, mac_s);
    }
    mac_to_string(p->host_mac, host_mac_s);
    if (p->rep_open && !rte_eth_link_get_nowait(p->rep_port, &link)) {
        connected = link.link_status == RTE_ETH_LINK_UP;
    }
    return json_pack(
        "{s:i,s:s,s:s,s:i,s:i,s:s,s:s,s:s,s:s,s:s,s:b,s:s,"
        "s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}}",
        "id", p->id, "name", p->name, "kind", kind_name(p->kind), "pf", 0, "vf",
        p->kind == ESW_PORT_VF ? p->vf : 0, "netdev", p->netdev, "mac", mac_s,
        "host_netdev", p->host_netdev, "host_mac", host_mac_s, "memif", p->memif_path,
        "memif_connected", connected, "link", p->link_down ? "down" : "up", "stats",
        "rx_packets", (json_int_t)s->rx_packets, "rx_bytes", (json_int_t)s->rx_bytes,
        "tx_packets", (json_int_t)s->tx_packets, "tx_bytes", (json_int_t)s->tx_bytes,
        "tx_dropped", (json_int_t)s->tx_dropped, "rep_rx_packets",
        (json_int_t)s->rep_rx_packets, "rep_rx_bytes", (json_int_t)s->rep_rx_bytes,
        "rep_tx_packets", (json_int_t)s->rep_tx_packets, "rep_tx_bytes",
        (json_int_t)s->rep_tx_bytes, "rep_tx_dropped", (json_int_t)s->rep_tx_dropped,
        "link_dropped", (json_int_t)s->link_dropped);
}
