/* ovnic: load-balancer health checks in the DPDK vswitch (see vswitch.h, svc_mon.h).
 *
 * The monitors (svc_mon.h) live on the control thread.  The datapath lcore never
 * takes a lock for them: two single-producer single-consumer rte_rings carry mbufs
 * that start with the logical port's name (VS_NAME_LEN bytes) followed by a frame:
 *
 *   rx  lcore → control thread: the packets handle_svc_check() sent up (replies);
 *   tx  control thread → lcore: probes and resets, sent out of the representor of
 *       the logical port.
 *
 * Both rings are bounded; what does not fit is counted and dropped (a lost probe is a
 * timeout, a lost reply too: the health check itself tolerates loss). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dpu/vswitch/dpdk_datapath.h"
#include "dpu/vswitch/svc_mon.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(vswitch_svc);

#define VS_SVC_RING 256 /* Power of two. */

struct vs_svc {
    struct svc_mon *mon;
    struct rte_ring *rx, *tx;

    /* Written by the lcore. */
    uint64_t rx_queued, rx_dropped, tx_no_port;
    /* Written by the control thread. */
    uint64_t tx_queued, tx_dropped;
};

static unsigned int ring_serial;

static void
svc_send(void *aux, const char *lport, const uint8_t *frame, size_t len)
{
    struct vswitch *vs = aux;
    struct vs_svc *svc = vs->svc;
    struct rte_mbuf *m = rte_pktmbuf_alloc(vs->pool);
    char *p = m ? rte_pktmbuf_append(m, (uint16_t)(VS_NAME_LEN + len)) : NULL;

    if (!p) {
        rte_pktmbuf_free(m);
        VS_INC(svc->tx_dropped);
        return;
    }
    memset(p, 0, VS_NAME_LEN);
    snprintf(p, VS_NAME_LEN, "%s", lport);
    memcpy(p + VS_NAME_LEN, frame, len);
    if (rte_ring_sp_enqueue(svc->tx, m)) {
        rte_pktmbuf_free(m);
        VS_INC(svc->tx_dropped);
        return;
    }
    VS_INC(svc->tx_queued);
}

static void
svc_status(void *aux, const struct uuid *uuid, const char *status)
{
    struct vswitch *vs = aux;
    if (vs->cfg.svc_status_cb) {
        vs->cfg.svc_status_cb(vs->cfg.aux, uuid, status);
    }
}

int
vs_svc_create(struct vswitch *vs, struct ovnic_err *err)
{
    struct vs_svc *svc = calloc(1, sizeof *svc);
    char name[RTE_RING_NAMESIZE];
    int error;

    if (!svc) {
        return ovnic_err_set(err, -ENOMEM, "vswitch", "out of memory", NULL);
    }
    vs->svc = svc;
    struct svc_mon_ops ops = {.send = svc_send, .status = svc_status, .aux = vs};
    error =
        svc_mon_create(&ops, time_wall_msec() ^ ((uint64_t)getpid() << 32), &svc->mon);
    if (error) {
        return ovnic_err_set(err, error, "vswitch", "cannot create the health checks",
                             NULL);
    }
    unsigned int serial = __atomic_add_fetch(&ring_serial, 1, __ATOMIC_RELAXED);
    snprintf(name, sizeof name, "ovnic_svc_rx_%u", serial);
    svc->rx =
        rte_ring_create(name, VS_SVC_RING, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    snprintf(name, sizeof name, "ovnic_svc_tx_%u", serial);
    svc->tx =
        rte_ring_create(name, VS_SVC_RING, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!svc->rx || !svc->tx) {
        return ovnic_err_set(err, -ENOMEM, "dpdk", "cannot create the health-check rings",
                             "%s", rte_strerror(rte_errno));
    }
    return 0;
}

static void
ring_drain_free(struct rte_ring *r)
{
    void *m;
    while (r && !rte_ring_sc_dequeue(r, &m)) {
        rte_pktmbuf_free(m);
    }
}

void
vs_svc_destroy(struct vswitch *vs)
{
    struct vs_svc *svc = vs->svc;
    if (!svc) {
        return;
    }
    ring_drain_free(svc->rx);
    ring_drain_free(svc->tx);
    rte_ring_free(svc->rx);
    rte_ring_free(svc->tx);
    svc_mon_destroy(svc->mon);
    free(svc);
    vs->svc = NULL;
}

unsigned int
vs_svc_run(struct vswitch *vs)
{
    struct vs_svc *svc = vs->svc;
    uint64_t now = time_msec();
    void *ms[32];
    unsigned int n;

    while ((n = rte_ring_sc_dequeue_burst(svc->rx, ms, ARRAY_SIZE(ms), NULL))) {
        for (unsigned int i = 0; i < n; i++) {
            struct rte_mbuf *m = ms[i];
            const char *p = rte_pktmbuf_mtod(m, const char *);
            size_t len = rte_pktmbuf_data_len(m);
            char lport[VS_NAME_LEN];
            if (len > VS_NAME_LEN) {
                memcpy(lport, p, VS_NAME_LEN);
                lport[VS_NAME_LEN - 1] = '\0';
                (void)svc_mon_input(svc->mon, lport, (const uint8_t *)p + VS_NAME_LEN,
                                    len - VS_NAME_LEN, now);
            }
            rte_pktmbuf_free(m);
        }
    }
    uint64_t next = svc_mon_run(svc->mon, now);
    return next > 100 ? 100 : (unsigned int)next;
}

void
vs_svc_reply(struct vswitch *vs, const char *lport, const uint8_t *frame, size_t len)
{
    struct vs_svc *svc = vs->svc;
    if (!lport || len > RTE_MBUF_DEFAULT_DATAROOM - VS_NAME_LEN) {
        VS_INC(svc->rx_dropped);
        return;
    }
    struct rte_mbuf *m = rte_pktmbuf_alloc(vs->pool);
    char *p = m ? rte_pktmbuf_append(m, (uint16_t)(VS_NAME_LEN + len)) : NULL;
    if (!p) {
        rte_pktmbuf_free(m);
        VS_INC(svc->rx_dropped);
        return;
    }
    memset(p, 0, VS_NAME_LEN);
    snprintf(p, VS_NAME_LEN, "%s", lport);
    memcpy(p + VS_NAME_LEN, frame, len);
    if (rte_ring_sp_enqueue(svc->rx, m)) {
        rte_pktmbuf_free(m);
        VS_INC(svc->rx_dropped);
        return;
    }
    VS_INC(svc->rx_queued);
}

unsigned int
vs_svc_tx_dequeue(struct vswitch *vs, struct rte_mbuf **pkts, unsigned int n)
{
    return rte_ring_sc_dequeue_burst(vs->svc->tx, (void **)pkts, n, NULL);
}

void
vs_svc_tx_no_port(struct vswitch *vs)
{
    VS_INC(vs->svc->tx_no_port);
}

/* ---- API (vswitch.h). ---------------------------------------------------------- */

int
vswitch_svc_monitors_set(struct vswitch *vs, const struct svc_mon_spec *specs, size_t n)
{
    return svc_mon_set(vs->svc->mon, specs, n, time_msec());
}

enum svc_mon_status
vswitch_svc_monitor_status(const struct vswitch *vs, const struct uuid *uuid)
{
    return svc_mon_status(vs->svc->mon, uuid);
}

json_t *
vswitch_svc_monitors_json(const struct vswitch *vs)
{
    const struct vs_svc *svc = vs->svc;
    json_t *stats = svc_mon_stats_json(svc->mon);
    json_t *mons = svc_mon_json(svc->mon, time_msec());
    json_t *o = NULL;

    if (stats && mons &&
        !json_object_set_new(stats, "rx_queued",
                             json_integer((json_int_t)VS_GET(svc->rx_queued))) &&
        !json_object_set_new(stats, "rx_dropped",
                             json_integer((json_int_t)VS_GET(svc->rx_dropped))) &&
        !json_object_set_new(stats, "tx_queued",
                             json_integer((json_int_t)VS_GET(svc->tx_queued))) &&
        !json_object_set_new(stats, "tx_dropped",
                             json_integer((json_int_t)VS_GET(svc->tx_dropped))) &&
        !json_object_set_new(stats, "tx_no_port",
                             json_integer((json_int_t)VS_GET(svc->tx_no_port)))) {
        o = json_pack("{s:o,s:o}", "monitors", mons, "stats", stats);
        return o;
    }
    json_decref(stats);
    json_decref(mons);
    return NULL;
}
