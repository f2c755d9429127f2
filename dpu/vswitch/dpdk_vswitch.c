/* ovnic: the DPDK vswitch, control-thread side: EAL, ports, handover of port tables
 * and pipelines to the datapath lcore (dpdk_datapath.c), views (see vswitch.h). */
#include "dpu/vswitch/vswitch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_alarm.h>
#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "dpu/pipeline/ct.h"
#include "dpu/vswitch/conntrack.h"
#include "dpu/vswitch/dpdk_datapath.h"
#include "dpu/vswitch/neigh.h"
#include "dpu/vswitch/tunnel.h"
#include "shared/util/hash.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(vswitch);

static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 20);

#define VS_DEFAULT_EAL_ARGS "--no-huge -m 512"
#define VS_HUGE_EAL_ARGS "-m 512"
#define VS_HUGE_PAGES_NEEDED 256 /* 2 MB pages for "-m 512". */

/* The EAL arguments when none are configured: hugepages when enough 2 MB pages are
 * free and a hugetlbfs is mounted, else --no-huge. */
static const char *
default_eal_args(void)
{
    FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
    unsigned long free_pages = 0;
    bool mounted = false;

    if (f) {
        if (fscanf(f, "%lu", &free_pages) != 1) {
            free_pages = 0;
        }
        fclose(f);
    }
    f = fopen("/proc/mounts", "r");
    if (f) {
        char line[512];
        while (!mounted && fgets(line, sizeof line, f)) {
            mounted = strstr(line, " hugetlbfs ") != NULL;
        }
        fclose(f);
    }
    return free_pages >= VS_HUGE_PAGES_NEEDED && mounted ? VS_HUGE_EAL_ARGS
                                                         : VS_DEFAULT_EAL_ARGS;
}
#define VS_MAX_EAL_ARGS 48
#define VS_RX_DESC 1024
#define VS_TX_DESC 1024
#define VS_WAIT_MS 5000

/* ---- EAL: once per process. ---------------------------------------------------- */

static pthread_mutex_t eal_mutex = PTHREAD_MUTEX_INITIALIZER;
static int eal_state; /* 0: not started, 1: running, < 0: failed (errno). */
static unsigned int pool_serial;
/* The mbuf pool that vswitch_prepare() created for the next vswitch_create(), under
 * eal_mutex. */
static struct rte_mempool *prepared_pool;

/* "(0-1)" or "(2,5)": the CPUs this thread may run on. */
static void
cpu_list(const cpu_set_t *set, char *buf, size_t size)
{
    size_t n = 0;
    int first = -1;
    n += (size_t)snprintf(buf + n, size - n, "(");
    for (int cpu = 0; cpu <= CPU_SETSIZE && n < size; cpu++) {
        bool in = cpu < CPU_SETSIZE && CPU_ISSET(cpu, set);
        if (in && first < 0) {
            first = cpu;
        } else if (!in && first >= 0) {
            n += (size_t)snprintf(buf + n, size - n, "%s%d", n > 1 ? "," : "", first);
            if (cpu - 1 > first && n < size) {
                n += (size_t)snprintf(buf + n, size - n, "-%d", cpu - 1);
            }
            first = -1;
        }
    }
    if (n < size) {
        snprintf(buf + n, size - n, ")");
    }
}

static int
eal_start(const struct vswitch *vs, struct ovnic_err *err)
{
    pthread_mutex_lock(&eal_mutex);
    if (eal_state) {
        int state = eal_state;
        pthread_mutex_unlock(&eal_mutex);
        return state > 0 ? 0
                         : ovnic_err_set(err, state, "dpdk",
                                         "EAL failed to start earlier", NULL);
    }

    cpu_set_t saved;
    char cpus[256];
    char lcores[600];
    char prefix[300];
    char *copy = strdup(vs->eal_args);
    char *argv[VS_MAX_EAL_ARGS + 12];
    int argc = 0;
    int error = 0;

    if (!copy) {
        pthread_mutex_unlock(&eal_mutex);
        return -ENOMEM;
    }
    if (sched_getaffinity(0, sizeof saved, &saved)) {
        CPU_ZERO(&saved);
        CPU_SET(0, &saved);
    }
    cpu_list(&saved, cpus, sizeof cpus);
    snprintf(lcores, sizeof lcores, "--lcores=0@%s,1@%s", cpus, cpus);

    argv[argc++] = "ovnic-vswitch";
    char *save = NULL;
    for (char *tok = strtok_r(copy, " \t", &save); tok;
         tok = strtok_r(NULL, " \t", &save)) {
        if (argc >= VS_MAX_EAL_ARGS) {
            error =
                ovnic_err_set(err, -EINVAL, "eal_args", "too many EAL arguments", NULL);
            goto out;
        }
        argv[argc++] = tok;
    }
    /* --in-memory does not go with --no-huge: then no shared files, and a runtime
     * directory of our own, removed once the EAL is up (nothing uses it then). */
    bool no_huge = false;
    for (int i = 1; i < argc; i++) {
        no_huge |= !strcmp(argv[i], "--no-huge");
    }
    bool rm_runtime_dir = false;
    if (vs->file_prefix) {
        snprintf(prefix, sizeof prefix, "--file-prefix=%s", vs->file_prefix);
        argv[argc++] = prefix;
    } else if (no_huge) {
        snprintf(prefix, sizeof prefix, "--file-prefix=ovnic-vswitch-%ld",
                 (long)getpid());
        argv[argc++] = prefix;
        argv[argc++] = "--no-shconf";
        rm_runtime_dir = true;
    } else {
        argv[argc++] = "--in-memory";
    }
    argv[argc++] = "--no-pci";
    argv[argc++] = "--no-telemetry";
    argv[argc++] = lcores;
    /* net_memif logs an error for each connection its server refuses, which the
     * vswitch reports itself (as port states).  The EAL applies the levels to the
     * drivers it loads as plugins in the reverse order of the options: the specific
     * one comes first. */
    argv[argc++] = "--log-level=pmd.net.memif:critical";
    argv[argc++] = "--log-level=*:error";
    argv[argc] = NULL;

    int rc = rte_eal_init(argc, argv);
    if (rc < 0) {
        error = -(rte_errno ? rte_errno : EINVAL);
        ovnic_err_set(err, error, "dpdk", "rte_eal_init failed", "%s",
                      rte_strerror(rte_errno));
        eal_state = error;
        goto out;
    }
    /* The EAL pinned this thread: let the scheduler place it as before. */
    sched_setaffinity(0, sizeof saved, &saved);
    if (rm_runtime_dir) {
        rmdir(rte_eal_get_runtime_dir());
    }
    eal_state = 1;

out:
    free(copy);
    pthread_mutex_unlock(&eal_mutex);
    return error;
}

/* ---- Ports. -------------------------------------------------------------------- */

/* How often the links of the up ports are read. */
#define VS_LINK_POLL_MS 100
/* Back-off between the attempts on a port that is not up. */
#define VS_RETRY_MIN_MS 100
#define VS_RETRY_MAX_MS 1000
/* A started port whose link is not up by then is tried again. */
#define VS_CONNECT_MS 1000
/* How often the link of a started port is read. */
#define VS_CONNECT_POLL_MS 5
/* How long port_add() and create() wait for a link. */
#define VS_ADD_WAIT_MS 500
/* How often a port that stays down is logged. */
#define VS_REMIND_MS 30000

const char *
vswitch_port_state_name(enum vswitch_port_state state)
{
    switch (state) {
    case VSWITCH_PORT_UP:
        return "up";
    case VSWITCH_PORT_DOWN:
        return "down";
    case VSWITCH_PORT_WAITING:
        return "waiting";
    }
    return "unknown";
}

static void
port_free(struct vs_port *p)
{
    if (p) {
        free(p->lport);
        free(p->devargs);
        free(p->devname);
        free(p);
    }
}

/* Stopping and starting a device on the EAL interrupt thread.  That thread is where
 * the PMDs serve their control channels (net_memif's connection to its server, its
 * handshake and its loss), so that a stop or start run there never runs beside a
 * disconnect or a handshake of the same device. */

enum vs_intr_op {
    VS_INTR_STOP,
    VS_INTR_RESTART, /* Stop (if started), then start. */
};

struct vs_intr_call {
    uint16_t port_id;
    enum vs_intr_op op;
    int result;
    bool done; /* Atomic. */
};

static void
intr_call_cb(void *arg)
{
    struct vs_intr_call *c = arg;
    int error = rte_eth_dev_stop(c->port_id);

    if (c->op == VS_INTR_RESTART) {
        error = rte_eth_dev_start(c->port_id);
    }
    c->result = error;
    __atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
}

static int
port_intr_call(uint16_t port_id, enum vs_intr_op op)
{
    struct vs_intr_call c = {.port_id = port_id, .op = op};

    if (rte_eal_alarm_set(1, intr_call_cb, &c)) {
        intr_call_cb(&c); /* No interrupt thread to run it: here, then. */
        return c.result;
    }
    uint64_t deadline = time_msec() + VS_WAIT_MS;
    while (!__atomic_load_n(&c.done, __ATOMIC_ACQUIRE)) {
        /* Once cancelled (or waited for, if it runs), 'c' is ours again. */
        if (time_msec() > deadline && rte_eal_alarm_cancel(intr_call_cb, &c) > 0) {
            return -ETIMEDOUT;
        }
        struct timespec ts = {0, 50 * 1000};
        nanosleep(&ts, NULL);
    }
    return c.result;
}

/* Stops, closes and detaches the device of 'p', and frees 'p'. */
static void
port_detach(struct vs_port *p)
{
    struct rte_eth_dev_info info;
    char *bus = NULL;
    char *dev = NULL;

    if (!p->has_dev) {
        goto out;
    }
    if (!rte_eth_dev_info_get(p->port_id, &info) && info.device) {
        bus = strdup(rte_bus_name(rte_dev_bus(info.device)));
        dev = strdup(rte_dev_name(info.device));
    }
    port_intr_call(p->port_id, VS_INTR_STOP);
    if (!p->probed) {
        goto out;
    }
    rte_eth_dev_close(p->port_id);
    if (bus && dev) {
        rte_eal_hotplug_remove(bus, dev);
    }
out:
    free(bus);
    free(dev);
    port_free(p);
}

/* A new port, without its device.  Errors: -ENOMEM, -ENODEV (no driver takes
 * 'devargs', and no device of that name exists). */
static int
port_new(const char *name, const char *devargs, const char *lport, struct vs_port **portp,
         struct ovnic_err *err)
{
    struct vs_port *p = calloc(1, sizeof *p);

    if (!p) {
        return -ENOMEM;
    }
    snprintf(p->name, sizeof p->name, "%s", name);
    p->devargs = strdup(devargs);
    p->devname = strndup(devargs, strcspn(devargs, ","));
    p->lport = lport ? strdup(lport) : NULL;
    if (!p->devargs || !p->devname || (lport && !p->lport)) {
        port_free(p);
        return -ENOMEM;
    }
    p->lport_hash = lport ? hash_string(lport, 0) : 0;
    p->uplink = !lport;
    p->port_id = RTE_MAX_ETHPORTS;
    p->state = VSWITCH_PORT_WAITING;
    p->state_ms = time_msec();
    backoff_init(&p->backoff, VS_RETRY_MIN_MS, VS_RETRY_MAX_MS);

    /* A device that is absent may come, a driver that is absent will not. */
    uint16_t id;
    if (rte_eth_dev_get_port_by_name(p->devname, &id)) {
        struct rte_devargs da;
        memset(&da, 0, sizeof da);
        int error = rte_devargs_parse(&da, devargs);
        free(da.data); /* What rte_devargs_reset() does (an experimental API). */
        if (error) {
            port_free(p);
            return ovnic_err_set(err, -ENODEV, name, "no driver for devargs", "%s",
                                 devargs);
        }
    }
    *portp = p;
    return 0;
}

/* The uplink's neighbour table, with MAC 'mac'. */
static int
neigh_open(struct vswitch *vs, const uint8_t mac[6], struct neigh_table **tablep,
           struct ovnic_err *err)
{
    struct neigh_config nc = {
        .local_ip = vs->cfg.encap_ip,
        .prefix_len = vs->cfg.encap_plen,
        .gateway = vs->cfg.underlay_gateway,
    };
    memcpy(nc.local_mac, mac, 6);
    int error = neigh_create(&nc, tablep);
    if (error) {
        ovnic_err_set(err, error, "underlay", "bad encap IP or gateway", "%s / %s",
                      vs->cfg.encap_ip,
                      vs->cfg.underlay_gateway ? vs->cfg.underlay_gateway : "-");
    }
    return error;
}

/* Finds (adopts) or probes the device of 'p', and configures its queues; it is
 * started by port_start(). */
static int
port_dev_open(struct vswitch *vs, struct vs_port *p, struct ovnic_err *err)
{
    const char *name = p->name;
    bool probed = false;
    int error;

    /* A device probed already (e.g. a representor probed with its PF, or a port an
     * embedding program created) is adopted: it is configured and started here, and
     * only stopped when the port goes. */
    uint16_t id;
    bool found = !rte_eth_dev_get_port_by_name(p->devname, &id);
    if (!found) {
        /* The EAL logs each failed probe; the vswitch says why once (and then when
         * the reason changes): quiet on the next attempts. */
        int eal_level = rte_log_get_level(RTE_LOGTYPE_EAL);
        if (p->attempts > 1 && eal_level >= 0) {
            rte_log_set_level(RTE_LOGTYPE_EAL, RTE_LOG_CRIT);
        }
        error = rte_dev_probe(p->devargs);
        if (p->attempts > 1 && eal_level >= 0) {
            rte_log_set_level(RTE_LOGTYPE_EAL, (uint32_t)eal_level);
        }
        if (error && error != -EEXIST) {
            return ovnic_err_set(err, -ENODEV, name, "devargs do not attach", "%s",
                                 rte_strerror(error < 0 ? -error : error));
        }
        probed = !error;
        found = !rte_eth_dev_get_port_by_name(p->devname, &id);
    }
    if (!found) {
        struct rte_dev_iterator it;
        uint16_t match;
        RTE_ETH_FOREACH_MATCHING_DEV(match, p->devargs, &it)
        {
            if (!found) {
                found = true;
                id = match;
            }
        }
    }
    if (!found) {
        if (probed) {
            rte_eal_hotplug_remove("vdev", p->devname);
        }
        return ovnic_err_set(err, -ENODEV, name, "no Ethernet port for devargs", NULL);
    }
    for (size_t i = 0; i < vs->n_ports; i++) {
        if (vs->ports[i] != p && vs->ports[i]->has_dev && vs->ports[i]->port_id == id) {
            return ovnic_err_set(err, -EEXIST, name, "device already in use", NULL);
        }
    }

    struct rte_eth_conf conf;
    uint16_t nb_rx = VS_RX_DESC, nb_tx = VS_TX_DESC;
    memset(&conf, 0, sizeof conf);
    error = rte_eth_dev_configure(id, 1, 1, &conf);
    if (!error) {
        error = rte_eth_dev_adjust_nb_rx_tx_desc(id, &nb_rx, &nb_tx);
    }
    if (!error) {
        error = rte_eth_rx_queue_setup(id, 0, nb_rx, rte_eth_dev_socket_id(id), NULL,
                                       vs->pool);
    }
    if (!error) {
        error = rte_eth_tx_queue_setup(id, 0, nb_tx, rte_eth_dev_socket_id(id), NULL);
    }
    if (error) {
        if (probed) {
            rte_eth_dev_close(id);
            rte_eal_hotplug_remove("vdev", p->devname);
        }
        return ovnic_err_set(err, -ENODEV, name, "cannot configure the port", "%s",
                             rte_strerror(error < 0 ? -error : error));
    }
    p->port_id = id;
    p->probed = probed;
    p->has_dev = true;
    if (p->uplink) {
        if (!vs->cfg.uplink_mac) {
            struct rte_ether_addr ea;
            if (!rte_eth_macaddr_get(id, &ea)) {
                memcpy(vs->uplink_mac, ea.addr_bytes, 6);
            }
        }
        /* Before the lcore gets a table with the uplink, which it reads it through. */
        if (vs->neigh_pending) {
            struct ovnic_err nerr = {0};
            char buf[256];
            if (neigh_open(vs, vs->uplink_mac, &vs->neigh, &nerr)) {
                OLOG_ERR("uplink: no neighbour table: %s",
                         ovnic_err_format(&nerr, buf, sizeof buf));
            }
            vs->neigh_pending = false;
        }
    }
    return 0;
}

/* Starts the configured device of 'p' (stopping it first if it runs). */
static int
port_start(struct vs_port *p, struct ovnic_err *err)
{
    int error = port_intr_call(p->port_id, VS_INTR_RESTART);

    if (error == -1 && !strncmp(p->devname, "net_memif", 9)) {
        /* net_memif says only -1; its client fails to start when nothing accepts
         * its connection. */
        return ovnic_err_set(err, -ECONNREFUSED, p->name, "cannot start the port",
                             "no memif server on its socket");
    }
    if (error) {
        return ovnic_err_set(err, error < 0 ? error : -EIO, p->name,
                             "cannot start the port", "%s",
                             rte_strerror(error < 0 ? -error : error));
    }
    /* Start restores what the port had; say it again, for drivers that forget. */
    rte_eth_promiscuous_enable(p->port_id);
    return 0;
}

static bool
port_link_is_up(const struct vs_port *p)
{
    struct rte_eth_link link;

    memset(&link, 0, sizeof link);
    return p->has_dev && !rte_eth_link_get_nowait(p->port_id, &link) &&
           link.link_status == RTE_ETH_LINK_UP;
}

/* Publishes a table of the ports that have a device, live where up, and waits until
 * the lcore runs it (the lcore leaves the old one at the top of its next loop). */
static int
ports_publish(struct vswitch *vs)
{
    struct vs_ports *old = vs->ports_cur;
    struct vs_ports *t = calloc(1, sizeof *t);
    if (!t) {
        vs->publish_pending = true;
        return -ENOMEM;
    }
    for (size_t i = 0; i < vs->n_ports; i++) {
        struct vs_port *p = vs->ports[i];
        if (p->has_dev) {
            t->live[t->n] = p->state == VSWITCH_PORT_UP;
            t->ports[t->n++] = p;
            if (p->uplink) {
                t->uplink = p;
            }
        }
    }
    t->version = ++vs->ports_version;
    vs->ports_cur = t;
    __atomic_store_n(&vs->ports_pub, t, __ATOMIC_RELEASE);
    vs->publish_pending = true;

    if (vs->lcore_running) {
        uint64_t deadline = time_msec() + VS_WAIT_MS;
        while (__atomic_load_n(&vs->ports_ack, __ATOMIC_ACQUIRE) < t->version) {
            if (time_msec() > deadline) {
                /* The lcore is stuck: keep the old table rather than free it under
                 * it. */
                OLOG_ERR("datapath lcore did not take the new port table");
                return -ETIMEDOUT;
            }
            struct timespec ts = {0, 50 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    free(old);
    vs->publish_pending = false;
    return 0;
}

static struct vs_port *
port_find(const struct vswitch *vs, const char *name, const char *lport)
{
    for (size_t i = 0; i < vs->n_ports; i++) {
        struct vs_port *p = vs->ports[i];
        if ((name && !strcmp(p->name, name)) ||
            (lport && p->lport && !strcmp(p->lport, lport))) {
            return p;
        }
    }
    return NULL;
}

static void
port_remove(struct vswitch *vs, const struct vs_port *p)
{
    for (size_t i = 0; i < vs->n_ports; i++) {
        if (vs->ports[i] == p) {
            memmove(&vs->ports[i], &vs->ports[i + 1],
                    (vs->n_ports - i - 1) * sizeof vs->ports[0]);
            vs->n_ports--;
            return;
        }
    }
}

/* ---- Link state. ----------------------------------------------------------------
 *
 * net_memif (DPDK 22.11) raises no link-state event: when its server goes away, the
 * client's link goes down and stays down, and the client does not connect again by
 * itself; stopping and starting the device makes it connect again (with the same MAC
 * address, queues and port id).  So the control thread reads the links of the up
 * ports every VS_LINK_POLL_MS (rte_eth_link_get_nowait(): for net_memif, one read of
 * the port's data), takes a port that lost its link out of the lcore's use, and tries
 * it again with back-off: an attempt first looks whether the link came back by
 * itself (drivers that reconnect alone), else stops and starts the device (opening
 * it first if the port never had one); a started port that gets its link within
 * VS_CONNECT_MS is up again. */

static void
port_state_set(struct vswitch *vs, struct vs_port *p, enum vswitch_port_state state,
               uint64_t now)
{
    p->state = state;
    p->state_ms = now;
    p->attempts = 0;
    p->connecting = false;
    p->remind_ms = now + VS_REMIND_MS;
    backoff_reset(&p->backoff);
    if (state != VSWITCH_PORT_UP) {
        /* The first attempt after VS_RETRY_MIN_MS: the driver finishes its own
         * disconnect meanwhile. */
        p->next_ms = now + backoff_next(&p->backoff);
    } else {
        p->error[0] = '\0';
    }
    if (vs->cfg.port_state_cb) {
        vs->cfg.port_state_cb(vs->cfg.aux, p->name, p->lport, state);
    }
}

/* An attempt on 'p' failed because of 'err'. */
static void
port_failed(struct vs_port *p, const struct ovnic_err *err, uint64_t now)
{
    struct ovnic_err e = *err;
    char buf[sizeof p->error];

    e.object[0] = '\0'; /* The port, named already. */
    ovnic_err_format(&e, buf, sizeof buf);
    if (strcmp(buf, p->error)) {
        /* Logged when the reason changes (e.g. the socket appears, then refuses),
         * except the first (said with the state). */
        if (p->error[0] || p->attempts > 1) {
            OLOG_INFO_RL(&rl, "port %s: %s; trying again", p->name, buf);
        }
        snprintf(p->error, sizeof p->error, "%s", buf);
    }
    p->connecting = false;
    p->next_ms = now + backoff_next(&p->backoff);
}

static void
port_became_up(struct vswitch *vs, struct vs_port *p, uint64_t now)
{
    uint64_t ms = now - p->state_ms;

    if (p->state == VSWITCH_PORT_DOWN) {
        p->recoveries++;
        OLOG_INFO("port %s: link up again, after %" PRIu64 " ms down and %u attempt%s",
                  p->name, ms, p->attempts, p->attempts == 1 ? "" : "s");
    } else {
        OLOG_INFO("port %s (%s): attached as DPDK port %u, after %" PRIu64
                  " ms waiting and %u attempt%s",
                  p->name, p->devargs, p->port_id, ms, p->attempts,
                  p->attempts == 1 ? "" : "s");
    }
    port_state_set(vs, p, VSWITCH_PORT_UP, now);

    /* Its NIC is back, it seems: try the other ports that are not up at once, and
     * from the shortest back-off again. */
    for (size_t i = 0; i < vs->n_ports; i++) {
        struct vs_port *o = vs->ports[i];
        if (o != p && o->state != VSWITCH_PORT_UP && !o->connecting) {
            backoff_reset(&o->backoff);
            o->next_ms = now;
        }
    }
}

/* One attempt to bring 'p' (not up) up: from here, connecting (or failed: returns
 * why, and 'err' says it). */
static int
port_try(struct vswitch *vs, struct vs_port *p, uint64_t now, struct ovnic_err *err)
{
    int error = 0;

    p->attempts++;
    if (port_link_is_up(p)) {
        /* Back by itself: nothing to restart. */
        p->connecting = true;
        p->connect_ms = now;
        return 0;
    }
    if (!p->has_dev) {
        error = port_dev_open(vs, p, err);
    }
    if (!error) {
        error = port_start(p, err);
    }
    if (error) {
        port_failed(p, err, now);
        return error;
    }
    p->connecting = true;
    p->connect_ms = now + VS_CONNECT_MS;
    return 0;
}

/* The first attempt on a new port: brings it up if its device is there (waiting up to
 * VS_ADD_WAIT_MS for its link), else leaves it waiting, logged.  Fails only where
 * waiting would not help: -EEXIST (another port has the device), -ENOMEM. */
static int
port_first_try(struct vswitch *vs, struct vs_port *p, struct ovnic_err *err)
{
    uint64_t now = time_msec();
    uint64_t deadline = now + VS_ADD_WAIT_MS;
    struct ovnic_err e = {0};

    int error = port_try(vs, p, now, &e);
    if (error == -EEXIST || error == -ENOMEM) {
        if (err) {
            *err = e;
        }
        return error;
    }
    while (p->connecting && !port_link_is_up(p) && time_msec() < deadline) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (p->connecting && port_link_is_up(p)) {
        p->state = VSWITCH_PORT_UP;
        p->state_ms = time_msec();
        p->attempts = 0;
        p->connecting = false;
        return 0;
    }
    OLOG_WARN("port %s (%s): waiting for its device: %s; trying again every %d to %d ms",
              p->name, p->devargs, p->error[0] ? p->error : "its link is not up yet",
              VS_RETRY_MIN_MS, VS_RETRY_MAX_MS);
    p->remind_ms = now + VS_REMIND_MS;
    return 0;
}

/* Watches the links of the up ports and tries the others.  Returns the ms until it
 * wants to run again. */
static unsigned int
ports_run(struct vswitch *vs)
{
    uint64_t now = time_msec();
    bool poll = now >= vs->link_poll_ms;
    bool changed = vs->publish_pending;
    uint64_t next;

    if (poll) {
        vs->link_poll_ms = now + VS_LINK_POLL_MS;
    }
    next = vs->link_poll_ms;
    for (size_t i = 0; i < vs->n_ports; i++) {
        struct vs_port *p = vs->ports[i];
        bool had_dev = p->has_dev;

        if (p->state == VSWITCH_PORT_UP) {
            if (poll && !port_link_is_up(p)) {
                p->link_losses++;
                OLOG_WARN("port %s (%s): link down: the NIC's end of it is gone; "
                          "reconnecting every %d to %d ms",
                          p->name, p->devargs, VS_RETRY_MIN_MS, VS_RETRY_MAX_MS);
                port_state_set(vs, p, VSWITCH_PORT_DOWN, now);
                changed = true;
            }
        } else if (p->connecting) {
            if (port_link_is_up(p)) {
                port_became_up(vs, p, now);
                changed = true;
            } else if (now >= p->connect_ms) {
                struct ovnic_err err = {0};
                ovnic_err_set(&err, -ETIMEDOUT, p->name, "started, but its link is down",
                              "after %d ms", VS_CONNECT_MS);
                port_failed(p, &err, now);
            }
        } else if (now >= p->next_ms && !vs->publish_pending) {
            /* (Not while the lcore may still use the port: see ports_publish().) */
            struct ovnic_err err = {0};
            port_try(vs, p, now, &err);
            if (p->connecting && port_link_is_up(p)) {
                port_became_up(vs, p, now);
                changed = true;
            }
        }
        if (p->state != VSWITCH_PORT_UP) {
            if (now >= p->remind_ms) {
                OLOG_WARN("port %s: still %s after %" PRIu64 " s and %u attempts%s%s",
                          p->name, vswitch_port_state_name(p->state),
                          (now - p->state_ms) / 1000, p->attempts,
                          p->error[0] ? ": " : "", p->error);
                p->remind_ms = now + VS_REMIND_MS;
            }
            next = MIN(next, p->connecting ? now + VS_CONNECT_POLL_MS : p->next_ms);
        }
        changed |= p->has_dev != had_dev;
    }
    if (changed) {
        ports_publish(vs);
    }
    return next > now ? (unsigned int)MIN(next - now, 1000u) : 1;
}

int
vswitch_port_state(const struct vswitch *vs, const char *name)
{
    const struct vs_port *p = name ? port_find(vs, name, NULL) : NULL;
    return p ? (int)p->state : -ENOENT;
}

int
vswitch_port_add(struct vswitch *vs, const char *name, const char *devargs,
                 const char *lport, struct ovnic_err *err)
{
    if (!name || !*name || strlen(name) >= VS_NAME_LEN || !devargs || !*devargs ||
        !lport || !*lport || !strcmp(name, "uplink")) {
        return ovnic_err_set(err, -EINVAL, "port", "bad port name, devargs or lport",
                             "%s", name ? name : "(null)");
    }
    if (port_find(vs, name, lport)) {
        return ovnic_err_set(err, -EEXIST, name, "port name or logical port taken", "%s",
                             lport);
    }
    if (vs->n_ports >= VS_MAX_PORTS) {
        return ovnic_err_set(err, -ENOSPC, name, "too many ports", NULL);
    }
    struct vs_port *p;
    int error = port_new(name, devargs, lport, &p, err);
    if (error) {
        return error;
    }
    error = port_first_try(vs, p, err);
    if (error) {
        port_detach(p);
        return error;
    }
    vs->ports[vs->n_ports++] = p;
    error = ports_publish(vs);
    if (error == -ETIMEDOUT) {
        /* Published but not acknowledged: it must stay. */
        return ovnic_err_set(err, error, name, "datapath did not take the port", NULL);
    }
    if (error) {
        port_remove(vs, p);
        port_detach(p);
        return ovnic_err_set(err, error, name, "cannot publish the port table", NULL);
    }
    if (p->state == VSWITCH_PORT_UP) {
        OLOG_INFO("port %s (%s) attached as DPDK port %u for %s", name, devargs,
                  p->port_id, lport);
    }
    return 0;
}

int
vswitch_port_del(struct vswitch *vs, const char *name)
{
    struct vs_port *p = name && strcmp(name, "uplink") ? port_find(vs, name, NULL) : NULL;
    if (!p) {
        return -ENOENT;
    }
    port_remove(vs, p);
    int error = ports_publish(vs);
    if (error == -ENOMEM) {
        vs->ports[vs->n_ports++] = p; /* The lcore still has it. */
    }
    if (error) {
        return error;
    }
    OLOG_INFO("port %s detached", name);
    port_detach(p);
    return 0;
}

/* ---- Pipelines. ---------------------------------------------------------------- */

static void
pipes_collect(struct vswitch *vs)
{
    uint64_t ack = __atomic_load_n(&vs->gen_ack, __ATOMIC_ACQUIRE);
    struct vs_pipe *p, *next;
    LIST_FOR_EACH_SAFE (p, next, node, &vs->retired) {
        if (!vs->lcore_running || p->generation < ack) {
            ovnic_list_remove(&p->node);
            pipeline_destroy(p->pipeline);
            free(p);
        }
    }
}

int64_t
vswitch_pipeline_sync(struct vswitch *vs, const struct ovsdb_replica *sb,
                      struct ovnic_err *err)
{
    struct pipeline_config pc = {
        .chassis = vs->chassis,
        .ct_class = &vs_ct_class,
        .ct = &vs->vct,
    };
    struct pipeline *pl;
    int error = pipeline_create(&pc, &pl);
    if (error) {
        return ovnic_err_set(err, error, "pipeline", "cannot create a pipeline", NULL);
    }
    error = pipeline_sync(pl, sb, err);
    if (error) {
        pipeline_destroy(pl);
        return error;
    }
    struct vs_pipe *p = calloc(1, sizeof *p);
    if (!p) {
        pipeline_destroy(pl);
        return ovnic_err_set(err, -ENOMEM, "pipeline", "out of memory", NULL);
    }
    p->pipeline = pl;
    p->generation = ++vs->generation;
    if (vs->pipe_cur) {
        ovnic_list_push_back(&vs->retired, &vs->pipe_cur->node);
    }
    vs->pipe_cur = p;
    __atomic_store_n(&vs->pipe_pub, p, __ATOMIC_RELEASE);
    pipes_collect(vs);
    return (int64_t)p->generation;
}

uint64_t
vswitch_generation_live(const struct vswitch *vs)
{
    return __atomic_load_n(&vs->gen_ack, __ATOMIC_ACQUIRE);
}

unsigned int
vswitch_run(struct vswitch *vs)
{
    pipes_collect(vs);

    struct vs_mb_event events[VS_MB_QUEUE_LEN];
    size_t n;
    pthread_mutex_lock(&vs->mb_mutex);
    n = vs->mb_n;
    memcpy(events, vs->mb_queue, n * sizeof *events);
    vs->mb_n = 0;
    pthread_mutex_unlock(&vs->mb_mutex);
    for (size_t i = 0; i < n && vs->cfg.mac_binding_cb; i++) {
        vs->cfg.mac_binding_cb(vs->cfg.aux, events[i].lport, &events[i].mb);
    }
    unsigned int svc_ms = vs_svc_run(vs);
    unsigned int ports_ms = ports_run(vs);
    return MIN(MIN(svc_ms, ports_ms), ovnic_list_is_empty(&vs->retired) ? 100u : 10u);
}

/* ---- Requests to the lcore. ---------------------------------------------------- */

static int
request_run(struct vswitch *vs, struct vs_request *req)
{
    if (!vs->lcore_running) {
        return -ESRCH;
    }
    uint64_t done = __atomic_load_n(&vs->req_done, __ATOMIC_ACQUIRE);
    __atomic_store_n(&vs->req_pub, req, __ATOMIC_RELEASE);
    uint64_t deadline = time_msec() + VS_WAIT_MS;
    for (;;) {
        if (__atomic_load_n(&vs->req_done, __ATOMIC_ACQUIRE) != done) {
            return 0;
        }
        if (time_msec() > deadline) {
            struct vs_request *expected = req;
            if (__atomic_compare_exchange_n(&vs->req_pub, &expected, NULL, false,
                                            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                return -ETIMEDOUT;
            }
            /* Taken: it finishes soon. */
        }
        struct timespec ts = {0, 50 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* ---- Create, destroy. ---------------------------------------------------------- */

static int
mac_parse(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    char extra;
    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
               &extra) != 6) {
        return -EINVAL;
    }
    for (int i = 0; i < 6; i++) {
        if (b[i] > 0xff) {
            return -EINVAL;
        }
        mac[i] = (uint8_t)b[i];
    }
    return 0;
}

static char *
dup_opt(const char *s, bool *nomem)
{
    if (!s) {
        return NULL;
    }
    char *d = strdup(s);
    if (!d) {
        *nomem = true;
    }
    return d;
}

static int
config_copy(struct vswitch *vs, const struct vswitch_config *cfg, struct ovnic_err *err)
{
    bool nomem = false;
    if (!cfg->chassis || !*cfg->chassis) {
        return ovnic_err_set(err, -EINVAL, "chassis", "chassis name required", NULL);
    }
    vs->cfg = *cfg;
    vs->chassis = dup_opt(cfg->chassis, &nomem);
    vs->eal_args = dup_opt(cfg->eal_args ? cfg->eal_args : default_eal_args(), &nomem);
    vs->file_prefix = dup_opt(cfg->file_prefix, &nomem);
    vs->uplink_devargs = dup_opt(cfg->uplink_devargs, &nomem);
    vs->uplink_mac_str = dup_opt(cfg->uplink_mac, &nomem);
    vs->encap_ip_str = dup_opt(cfg->encap_ip, &nomem);
    vs->gateway = dup_opt(cfg->underlay_gateway, &nomem);
    vs->provider_network = dup_opt(cfg->provider_network, &nomem);
    if (nomem) {
        return -ENOMEM;
    }
    vs->cfg.chassis = vs->chassis;
    vs->cfg.eal_args = vs->eal_args;
    vs->cfg.file_prefix = vs->file_prefix;
    vs->cfg.uplink_devargs = vs->uplink_devargs;
    vs->cfg.uplink_mac = vs->uplink_mac_str;
    vs->cfg.encap_ip = vs->encap_ip_str;
    vs->cfg.underlay_gateway = vs->gateway;
    vs->cfg.provider_network = vs->provider_network;

    struct vswitch_config *c = &vs->cfg;
    c->n_mbufs = c->n_mbufs ? c->n_mbufs : 16383;
    c->idle_polls = c->idle_polls ? c->idle_polls : 64;
    c->idle_min_us = c->idle_min_us ? c->idle_min_us : 20;
    c->idle_max_us = c->idle_max_us ? c->idle_max_us : 2000;
    c->underlay_mtu = c->underlay_mtu ? c->underlay_mtu : 1500;
    c->ct_max_conns = c->ct_max_conns ? c->ct_max_conns : 262144;
    c->megaflow_max = c->megaflow_max ? c->megaflow_max : 65536;
    c->ctrl_pps = c->ctrl_pps ? c->ctrl_pps : 1000;

    if (c->n_mbufs < 512 || c->n_mbufs > (1u << 24)) {
        return ovnic_err_set(err, -EINVAL, "n_mbufs", "out of range [512, 16777216]",
                             "%u", c->n_mbufs);
    }
    if (c->idle_min_us > c->idle_max_us || c->idle_max_us > 1000000) {
        return ovnic_err_set(err, -EINVAL, "idle_min_us",
                             "need idle_min_us <= "
                             "idle_max_us <= 1000000",
                             NULL);
    }
    if (c->underlay_mtu < 576 || c->underlay_mtu > 9216) {
        return ovnic_err_set(err, -EINVAL, "underlay_mtu", "out of range [576, 9216]",
                             "%u", c->underlay_mtu);
    }
    if (c->ctrl_pps > 1000000) {
        return ovnic_err_set(err, -EINVAL, "ctrl_pps", "out of range [1, 1000000]", "%u",
                             c->ctrl_pps);
    }
    if (c->uplink_mac && mac_parse(c->uplink_mac, vs->uplink_mac)) {
        return ovnic_err_set(err, -EINVAL, "uplink_mac", "not a MAC address", "%s",
                             c->uplink_mac);
    }
    if (c->encap_ip) {
        if (tunnel_ip_parse(c->encap_ip, vs->encap_ip, &vs->encap_ipv6)) {
            return ovnic_err_set(err, -EINVAL, "encap_ip", "not an IP address", "%s",
                                 c->encap_ip);
        }
        if (c->encap_plen > (vs->encap_ipv6 ? 128u : 32u)) {
            return ovnic_err_set(err, -EINVAL, "encap_plen", "prefix length out of range",
                                 "%u", c->encap_plen);
        }
    }
    if (!c->uplink_devargs && (c->encap_ip || c->provider_network)) {
        return ovnic_err_set(err, -EINVAL, "uplink_devargs",
                             "encap_ip and provider_network need an uplink", NULL);
    }
    return 0;
}

static struct vswitch *
vs_alloc(void)
{
    struct vswitch *vs = calloc(1, sizeof *vs);

    if (vs) {
        ovnic_list_init(&vs->retired);
        pthread_mutex_init(&vs->mb_mutex, NULL);
        vs_drops_init(&vs->drops);
        pipeline_result_init(&vs->result);
        vs->lcore_id = RTE_MAX_LCORE;
    }
    return vs;
}

/* The mbuf pool of 'vs': the one vswitch_prepare() made if its size matches, else a
 * new one. */
static int
pool_get(struct vswitch *vs, struct ovnic_err *err)
{
    pthread_mutex_lock(&eal_mutex);
    struct rte_mempool *pool = prepared_pool;
    prepared_pool = NULL;
    pthread_mutex_unlock(&eal_mutex);
    if (pool && pool->size == vs->cfg.n_mbufs) {
        vs->pool = pool;
        return 0;
    }
    if (pool) {
        rte_mempool_free(pool);
    }

    char pool_name[RTE_MEMPOOL_NAMESIZE];
    snprintf(pool_name, sizeof pool_name, "ovnic_vs_%u",
             __atomic_add_fetch(&pool_serial, 1, __ATOMIC_RELAXED));
    vs->pool = rte_pktmbuf_pool_create(pool_name, vs->cfg.n_mbufs, 256, 0,
                                       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (!vs->pool) {
        return ovnic_err_set(err, -ENOMEM, "dpdk", "cannot create the mbuf pool", "%s",
                             rte_strerror(rte_errno));
    }
    return 0;
}

int
vswitch_prepare(const struct vswitch_config *config, struct ovnic_err *err)
{
    struct vswitch *vs = vs_alloc();
    int error;

    if (!vs) {
        return -ENOMEM;
    }
    error = config_copy(vs, config, err);
    if (!error) {
        error = eal_start(vs, err);
    }
    if (!error) {
        error = pool_get(vs, err);
    }
    if (!error) {
        pthread_mutex_lock(&eal_mutex);
        if (prepared_pool) {
            rte_mempool_free(prepared_pool);
        }
        prepared_pool = vs->pool;
        vs->pool = NULL;
        pthread_mutex_unlock(&eal_mutex);
    }
    vswitch_destroy(vs);
    return error;
}

int
vswitch_create(const struct vswitch_config *config, struct vswitch **vsp,
               struct ovnic_err *err)
{
    struct vswitch *vs = vs_alloc();
    uint64_t t_start = time_usec();
    uint64_t t_eal, t_pool, t_state, t_uplink;
    int error;

    if (!vs) {
        return -ENOMEM;
    }
    error = config_copy(vs, config, err);
    if (error) {
        goto err;
    }
    error = eal_start(vs, err);
    if (error) {
        goto err;
    }
    t_eal = time_usec();
    vs->tsc_hz = rte_get_tsc_hz();
    if (vs->tsc_hz < 1000) {
        error = ovnic_err_set(err, -ENOTSUP, "dpdk", "no usable TSC", NULL);
        goto err;
    }
    vs->lcore_id = rte_get_next_lcore(-1, 1, 0);
    if (vs->lcore_id >= RTE_MAX_LCORE) {
        error = ovnic_err_set(err, -EINVAL, "dpdk", "no datapath lcore", NULL);
        goto err;
    }
    if (rte_eal_get_lcore_state(vs->lcore_id) != WAIT) {
        error = ovnic_err_set(err, -EBUSY, "dpdk",
                              "the datapath lcore is taken by another vswitch", NULL);
        vs->lcore_id = RTE_MAX_LCORE;
        goto err;
    }

    error = pool_get(vs, err);
    if (error) {
        goto err;
    }
    t_pool = time_usec();

    struct conntrack_config cc = {.max_conns = vs->cfg.ct_max_conns};
    error = conntrack_create(&cc, &vs->ct);
    if (!error) {
        error = ct_det_create(&vs->vct.det);
    }
    if (!error) {
        error = megaflow_cache_create(vs->cfg.megaflow_max, 0, &vs->cache);
    }
    if (!error) {
        vs->xr = malloc(sizeof *vs->xr);
        error = vs->xr ? 0 : -ENOMEM;
    }
    if (error) {
        ovnic_err_set(err, error, "vswitch", "cannot create the datapath state", NULL);
        goto err;
    }
    exec_result_init(vs->xr, NULL);
    vs->vct.ct = vs->ct;
    error = vs_svc_create(vs, err);
    if (error) {
        goto err;
    }

    t_state = time_usec();
    struct vs_port *uplink = NULL;
    if (vs->cfg.uplink_devargs) {
        error = port_new("uplink", vs->cfg.uplink_devargs, NULL, &uplink, err);
        if (error) {
            error = error == -ENOMEM ? error : -ENODEV;
            goto err;
        }
        vs->ports[vs->n_ports++] = uplink;
        vs->uplink_port = uplink;
    }
    if (uplink && vs->cfg.encap_ip) {
        /* The neighbour table answers with the uplink's MAC: when that is the
         * device's own, the table is made once the device is there (the
         * configuration is checked now, with a stand-in MAC). */
        static const uint8_t stand_in[6] = {0x02, 0, 0, 0, 0, 0x01};
        error = neigh_open(vs, vs->cfg.uplink_mac ? vs->uplink_mac : stand_in, &vs->neigh,
                           err);
        if (error) {
            goto err;
        }
        if (!vs->cfg.uplink_mac) {
            neigh_destroy(vs->neigh);
            vs->neigh = NULL;
            vs->neigh_pending = true;
        }
        vs->has_encap = true;
    }
    if (uplink) {
        error = port_first_try(vs, uplink, err);
        if (error) {
            goto err;
        }
    }
    t_uplink = time_usec();
    error = ports_publish(vs);
    if (error) {
        goto err;
    }

    error = rte_eal_remote_launch(vs_datapath_main, vs, vs->lcore_id);
    if (error) {
        error = ovnic_err_set(err, error < 0 ? error : -EBUSY, "dpdk",
                              "cannot launch the datapath lcore", NULL);
        goto err;
    }
    vs->lcore_running = true;
    OLOG_INFO("vswitch for chassis %s: datapath on lcore %u, %u mbufs%s%s", vs->chassis,
              vs->lcore_id, vs->cfg.n_mbufs, uplink ? ", uplink " : "",
              uplink ? vs->cfg.uplink_devargs : "");
    /* Where the start went (EAL: 0 when it was up already, e.g. vswitch_prepare()). */
    OLOG_INFO("vswitch started in %.1f ms: EAL %.1f ms, mbuf pool %.1f ms, datapath "
              "state %.1f ms, uplink %.1f ms, lcore %.1f ms",
              (time_usec() - t_start) / 1e3, (t_eal - t_start) / 1e3,
              (t_pool - t_eal) / 1e3, (t_state - t_pool) / 1e3,
              (t_uplink - t_state) / 1e3, (time_usec() - t_uplink) / 1e3);
    *vsp = vs;
    return 0;

err:
    vswitch_destroy(vs);
    return error;
}

void
vswitch_destroy(struct vswitch *vs)
{
    if (!vs) {
        return;
    }
    if (vs->lcore_running) {
        __atomic_store_n(&vs->stop, true, __ATOMIC_RELEASE);
        rte_eal_wait_lcore(vs->lcore_id);
        vs->lcore_running = false;
    }
    for (size_t i = 0; i < vs->n_ports; i++) {
        port_detach(vs->ports[i]);
    }
    free(vs->ports_cur);
    pipes_collect(vs);
    if (vs->pipe_cur) {
        pipeline_destroy(vs->pipe_cur->pipeline);
        free(vs->pipe_cur);
    }
    pipeline_result_destroy(&vs->result);
    megaflow_cache_destroy(vs->cache);
    free(vs->xr);
    neigh_destroy(vs->neigh);
    ct_det_destroy(vs->vct.det);
    conntrack_destroy(vs->ct);
    vs_svc_destroy(vs);
    if (vs->pool) {
        rte_mempool_free(vs->pool);
    }
    pthread_mutex_destroy(&vs->mb_mutex);
    free(vs->chassis);
    free(vs->eal_args);
    free(vs->file_prefix);
    free(vs->uplink_devargs);
    free(vs->uplink_mac_str);
    free(vs->encap_ip_str);
    free(vs->gateway);
    free(vs->provider_network);
    free(vs);
}

/* ---- Views. -------------------------------------------------------------------- */

static json_t *
jint(uint64_t v)
{
    return json_integer((json_int_t)v);
}

json_t *
vswitch_ports_json(const struct vswitch *vs)
{
    json_t *a = json_array();
    uint64_t now = time_msec();
    for (size_t i = 0; a && i < vs->n_ports; i++) {
        const struct vs_port *p = vs->ports[i];
        struct rte_eth_link link;
        memset(&link, 0, sizeof link);
        if (p->has_dev) {
            rte_eth_link_get_nowait(p->port_id, &link);
        }
        json_t *o = json_pack(
            "{s:s,s:o,s:o,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
            "s:o,s:o,s:o}",
            "name", p->name, "lport", p->lport ? json_string(p->lport) : json_null(),
            "port_id", p->has_dev ? json_integer(p->port_id) : json_null(), "devargs",
            p->devargs, "link", link.link_status ? "up" : "down", "state",
            vswitch_port_state_name(p->state), "state_ms", jint(now - p->state_ms),
            "attempts", jint(p->attempts), "error",
            p->error[0] && p->state != VSWITCH_PORT_UP ? json_string(p->error)
                                                       : json_null(),
            "link_losses", jint(p->link_losses), "recoveries", jint(p->recoveries),
            "rx_packets", jint(VS_GET(p->st.rx_packets)), "rx_bytes",
            jint(VS_GET(p->st.rx_bytes)), "tx_packets", jint(VS_GET(p->st.tx_packets)),
            "tx_bytes", jint(VS_GET(p->st.tx_bytes)), "rx_dropped",
            jint(VS_GET(p->st.rx_dropped)), "tx_dropped", jint(VS_GET(p->st.tx_dropped)),
            "pipeline_walks", jint(VS_GET(p->st.walks)), "megaflow_hits",
            jint(VS_GET(p->st.megaflow_hits)), "ctrl_rate_drops",
            jint(VS_GET(p->st.ctrl_drops)), "link_speed_mbps", jint(link.link_speed));
        if (!o || json_array_append_new(a, o)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *
vswitch_stats_json(const struct vswitch *vs)
{
    const struct vs_dp_stats *s = &vs->st;
    json_t *drops = json_object();
    size_t n = __atomic_load_n(&vs->drops.n, __ATOMIC_ACQUIRE);
    for (size_t i = 1; drops && i < n; i++) {
        uint64_t c = VS_GET(vs->drops.counts[i]);
        if (c && json_object_set_new(drops, vs->drops.names[i], jint(c))) {
            json_decref(drops);
            drops = NULL;
        }
    }
    if (!drops) {
        return NULL;
    }
    return json_pack(
        "{s:o,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
        "s:o}",
        "generation", jint(vswitch_generation_live(vs)), "lcore", (int)vs->lcore_id,
        "polls", jint(VS_GET(s->polls)), "idle_sleeps", jint(VS_GET(s->idle_sleeps)),
        "rx", jint(VS_GET(s->rx)), "tx", jint(VS_GET(s->tx)), "walks",
        jint(VS_GET(s->walks)), "emc_hits", jint(VS_GET(s->emc_hits)), "megaflow_hits",
        jint(VS_GET(s->megaflow_hits)), "misses", jint(VS_GET(s->misses)), "tunnel_rx",
        jint(VS_GET(s->tunnel_rx)), "tunnel_tx", jint(VS_GET(s->tunnel_tx)), "neigh_rx",
        jint(VS_GET(s->neigh_rx)), "neigh_tx", jint(VS_GET(s->neigh_tx)), "ctrl_packets",
        jint(VS_GET(s->ctrl_packets)), "megaflows", jint(VS_GET(s->megaflow_entries)),
        "megaflow_inserts", jint(VS_GET(s->megaflow_inserts)), "mac_bindings_dropped",
        jint(VS_GET(s->mb_dropped)), "mbufs_in_use",
        jint(vs->pool ? rte_mempool_in_use_count(vs->pool) : 0), "drops", drops);
}

json_t *
vswitch_megaflows_json(const struct vswitch *vs_, size_t limit)
{
    struct vswitch *vs = (struct vswitch *)vs_;
    struct vs_request req = {.type = VS_REQ_MEGAFLOWS, .limit = limit};
    if (request_run(vs, &req)) {
        return NULL;
    }
    return req.json;
}

json_t *
vswitch_conntrack_json(const struct vswitch *vs, int zone, size_t limit)
{
    return conntrack_dump_json(vs->ct, zone, limit);
}

json_t *
vswitch_conntrack_stats_json(const struct vswitch *vs)
{
    return conntrack_stats_json(vs->ct);
}

size_t
vswitch_conntrack_flush(struct vswitch *vs, int zone)
{
    return conntrack_flush(vs->ct, zone);
}

json_t *
vswitch_pipeline_json(const struct vswitch *vs, const char *datapath,
                      struct ovnic_err *err)
{
    /* The latest pipeline given out: immutable once built, and freed only after it
     * is replaced; its hit counters are those the lcore keeps. */
    if (!vs->pipe_cur) {
        if (datapath) {
            ovnic_err_set(err, -ENOENT, "datapath", "no such datapath", "%s", datapath);
            return NULL;
        }
        return json_array();
    }
    return pipeline_flows_json(vs->pipe_cur->pipeline, datapath, err);
}

json_t *
vswitch_neigh_json(const struct vswitch *vs)
{
    if (!vs->neigh) {
        return json_pack("{s:n,s:[]}", "local_ip", "entries");
    }
    return neigh_dump_json(vs->neigh);
}

json_t *
vswitch_trace_json(struct vswitch *vs, const char *port, const uint8_t *pkt, size_t len,
                   struct ovnic_err *err)
{
    const struct vs_port *p = NULL;
    if (port && !strcmp(port, "uplink")) {
        p = vs->uplink_port;
    } else if (port) {
        p = port_find(vs, port, NULL);
    }
    if (!p) {
        ovnic_err_set(err, -ENOENT, "trace", "unknown port", "%s",
                      port ? port : "(null)");
        return NULL;
    }
    if (!pkt || len < 14 || len > PACKET_MAX_LEN) {
        ovnic_err_set(err, -EINVAL, "trace", "malformed frame", "%zu bytes", len);
        return NULL;
    }
    struct vs_request req = {.type = VS_REQ_TRACE, .port = p, .pkt = pkt, .len = len};
    int error = request_run(vs, &req);
    if (error) {
        ovnic_err_set(err, error, "trace", "datapath did not answer", NULL);
        return NULL;
    }
    if (!req.json) {
        if (err && ovnic_err_is_set(&req.err)) {
            *err = req.err;
        } else {
            ovnic_err_set(err, -ENOMEM, "trace", "out of memory", NULL);
        }
    }
    return req.json;
}
