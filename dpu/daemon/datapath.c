/* ovnic-dpud: the daemon's side of the DPDK vswitch (see datapath.h). */
#include "datapath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(datapath);

#ifdef OVNIC_DPUD_VSWITCH

#include <arpa/inet.h>

#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "dpu/pipeline/ct.h"
#include "dpu/pipeline/ctrl.h"
#include "dpu/vswitch/vswitch.h"

/* One attached representor. */
struct dp_port {
    char *name;
    char *iface_id;
    char *devargs; /* What it was attached with. */
};

/* Devargs given with port-add for one representor, instead of the configuration's. */
struct dp_devargs {
    char *name;
    char *devargs;
};

struct dpud_dp {
    const struct dpud_config *config;
    struct vswitch *vs;
    struct dp_port *ports;
    size_t n_ports;
    struct dp_devargs *overrides;
    size_t n_overrides;

    /* MAC bindings from the callback (control thread only: vswitch_run() calls it). */
    struct dpud_mac_binding *mbs;
    size_t n_mbs;

    bool svc_changed;   /* A health check changed a status (svc_status_cb()). */
    bool ports_changed; /* A port changed state (port_state_cb()). */
};

static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 20);

static void
mac_binding_cb(void *aux, const char *logical_port, const struct ctrl_mac_binding *mb)
{
    struct dpud_dp *dp = aux;
    struct dpud_mac_binding *v = realloc(dp->mbs, (dp->n_mbs + 1) * sizeof *v);
    char *lp = strdup(logical_port);

    if (!v || !lp) {
        free(lp);
        if (v) {
            dp->mbs = v;
        }
        OLOG_WARN_RL(&rl, "out of memory: MAC binding of %s lost", logical_port);
        return;
    }
    dp->mbs = v;
    struct dpud_mac_binding *m = &v[dp->n_mbs++];
    memset(m, 0, sizeof *m);
    m->logical_port = lp;
    m->datapath = mb->datapath;
    snprintf(m->mac, sizeof m->mac, "%02x:%02x:%02x:%02x:%02x:%02x", mb->mac[0],
             mb->mac[1], mb->mac[2], mb->mac[3], mb->mac[4], mb->mac[5]);
    if (mb->ipv6) {
        uint8_t b[16];
        for (int i = 0; i < 16; i++) {
            b[i] = (uint8_t)(mb->ip >> (8 * (15 - i)));
        }
        inet_ntop(AF_INET6, b, m->ip, sizeof m->ip);
    } else {
        uint32_t ip = (uint32_t)mb->ip;
        snprintf(m->ip, sizeof m->ip, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
                 (ip >> 8) & 0xff, ip & 0xff);
    }
}

static void
svc_status_cb(void *aux, const struct uuid *uuid OVNIC_UNUSED,
              const char *status OVNIC_UNUSED)
{
    struct dpud_dp *dp = aux;
    dp->svc_changed = true;
}

static void
port_state_cb(void *aux, const char *name OVNIC_UNUSED, const char *lport OVNIC_UNUSED,
              enum vswitch_port_state state OVNIC_UNUSED)
{
    struct dpud_dp *dp = aux;
    dp->ports_changed = true;
}

/* The first network name of "physnet:bridge,...", or NULL.  Caller owns. */
static char *
provider_network(const char *mappings)
{
    if (!mappings || !*mappings) {
        return NULL;
    }
    const char *colon = strchr(mappings, ':');
    size_t n = colon ? (size_t)(colon - mappings) : strcspn(mappings, ",");
    return strndup(mappings, n);
}

/* The vswitch configuration of 'config', with 'aux' for its callbacks; '*uplink' and
 * '*network' receive strings it points to, which the caller frees. */
static struct vswitch_config
vswitch_config_of(const struct dpud_config *config, void *aux, char **uplink,
                  char **network)
{
    *uplink = dpud_config_uplink_devargs(config);
    *network = provider_network(config->bridge_mappings);
    struct vswitch_config vc = {
        .chassis = config->system_id,
        .eal_args = config->dpdk_args,
        .idle_min_us = config->idle_min_us,
        .idle_max_us = config->idle_max_us,
        .n_mbufs = config->n_mbufs,
        .uplink_devargs = *uplink,
        .uplink_mac = config->uplink_mac,
        .encap_ip = config->encap_ips ? config->encap_ips[0] : NULL,
        .encap_plen = config->encap_prefix_len,
        .underlay_gateway = config->underlay_gateway,
        .underlay_mtu = config->underlay_mtu,
        .provider_network = *network,
        .mac_binding_cb = mac_binding_cb,
        .svc_status_cb = svc_status_cb,
        .port_state_cb = port_state_cb,
        .aux = aux,
    };
    return vc;
}

int
dpud_dp_prepare(const struct dpud_config *config, struct ovnic_err *err)
{
    char *uplink, *network;
    struct vswitch_config vc = vswitch_config_of(config, NULL, &uplink, &network);
    int error = vswitch_prepare(&vc, err);

    free(uplink);
    free(network);
    return error;
}

int
dpud_dp_create(const struct dpud_config *config, struct dpud_dp **dpp,
               struct ovnic_err *err)
{
    struct dpud_dp *dp = calloc(1, sizeof *dp);
    char *uplink, *network;
    int error;

    if (!dp) {
        return -ENOMEM;
    }
    dp->config = config;
    struct vswitch_config vc = vswitch_config_of(config, dp, &uplink, &network);
    error = vswitch_create(&vc, &dp->vs, err);
    free(uplink);
    free(network);
    if (error) {
        free(dp);
        return error;
    }
    *dpp = dp;
    return 0;
}

void
dpud_dp_destroy(struct dpud_dp *dp)
{
    if (!dp) {
        return;
    }
    vswitch_destroy(dp->vs);
    for (size_t i = 0; i < dp->n_ports; i++) {
        free(dp->ports[i].name);
        free(dp->ports[i].iface_id);
        free(dp->ports[i].devargs);
    }
    free(dp->ports);
    for (size_t i = 0; i < dp->n_overrides; i++) {
        free(dp->overrides[i].name);
        free(dp->overrides[i].devargs);
    }
    free(dp->overrides);
    for (size_t i = 0; i < dp->n_mbs; i++) {
        free(dp->mbs[i].logical_port);
    }
    free(dp->mbs);
    free(dp);
}

static const json_t *
vif_find(const json_t *vifs, const char *name)
{
    size_t i;
    const json_t *v;

    json_array_foreach(vifs, i, v)
    {
        const char *rep = json_string_value(json_object_get(v, "representor"));
        if (rep && !strcmp(rep, name)) {
            return v;
        }
    }
    return NULL;
}

static void
port_remove_at(struct dpud_dp *dp, size_t i)
{
    free(dp->ports[i].name);
    free(dp->ports[i].iface_id);
    free(dp->ports[i].devargs);
    dp->ports[i] = dp->ports[--dp->n_ports];
}

static struct dp_devargs *
override_find(const struct dpud_dp *dp, const char *name)
{
    for (size_t i = 0; i < dp->n_overrides; i++) {
        if (!strcmp(dp->overrides[i].name, name)) {
            return &dp->overrides[i];
        }
    }
    return NULL;
}

/* The devargs to attach representor 'name' with: its port-add's, else the
 * configuration's; NULL if none (or out of memory).  Caller owns. */
static char *
port_devargs(const struct dpud_dp *dp, const char *name)
{
    const struct dp_devargs *o = override_find(dp, name);
    return o ? strdup(o->devargs) : dpud_config_representor_devargs(dp->config, name);
}

int
dpud_dp_port_devargs_set(struct dpud_dp *dp, const char *name, const char *devargs)
{
    struct dp_devargs *o = override_find(dp, name);

    if (!devargs) {
        if (o) {
            free(o->name);
            free(o->devargs);
            *o = dp->overrides[--dp->n_overrides];
        }
        return 0;
    }
    char *copy = strdup(devargs);
    if (!copy) {
        return -ENOMEM;
    }
    if (o) {
        free(o->devargs);
        o->devargs = copy;
        return 0;
    }
    struct dp_devargs *v =
        realloc(dp->overrides, (dp->n_overrides + 1) * sizeof *dp->overrides);
    char *name_copy = strdup(name);
    if (!v || !name_copy) {
        if (v) {
            dp->overrides = v;
        }
        free(copy);
        free(name_copy);
        return -ENOMEM;
    }
    dp->overrides = v;
    v[dp->n_overrides].name = name_copy;
    v[dp->n_overrides].devargs = copy;
    dp->n_overrides++;
    return 0;
}

json_t *
dpud_dp_devargs_save(const struct dpud_dp *dp)
{
    json_t *o = json_object();

    for (size_t i = 0; o && i < dp->n_overrides; i++) {
        if (json_object_set_new(o, dp->overrides[i].name,
                                json_string(dp->overrides[i].devargs))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

int
dpud_dp_devargs_restore(struct dpud_dp *dp, const json_t *saved)
{
    const char *name;
    const json_t *v;

    if (!json_is_object(saved)) {
        return -EINVAL;
    }
    json_object_foreach((json_t *)saved, name, v)
    {
        if (!*name || !json_is_string(v) || !*json_string_value(v)) {
            return -EINVAL;
        }
    }
    json_object_foreach((json_t *)saved, name, v)
    {
        int error = dpud_dp_port_devargs_set(dp, name, json_string_value(v));
        if (error) {
            return error;
        }
    }
    return 0;
}

void
dpud_dp_sync_ports(struct dpud_dp *dp, const json_t *vifs)
{
    /* Gone, bound to another logical port now, or to be attached with other devargs:
     * detach. */
    for (size_t i = 0; i < dp->n_ports;) {
        const json_t *v = vif_find(vifs, dp->ports[i].name);
        const char *iface = v ? json_string_value(json_object_get(v, "iface_id")) : NULL;
        if (iface && !strcmp(iface, dp->ports[i].iface_id)) {
            char *want = port_devargs(dp, dp->ports[i].name);
            bool same = want && !strcmp(want, dp->ports[i].devargs);
            free(want);
            if (same) {
                i++;
                continue;
            }
        }
        int error = vswitch_port_del(dp->vs, dp->ports[i].name);
        if (error && error != -ENOENT) {
            OLOG_WARN_RL(&rl, "cannot detach representor %s: %s", dp->ports[i].name,
                         strerror(-error));
        }
        OLOG_INFO("representor %s detached", dp->ports[i].name);
        port_remove_at(dp, i);
        dp->ports_changed = true;
    }

    /* New: attach. */
    size_t k;
    const json_t *v;
    json_array_foreach(vifs, k, v)
    {
        const char *rep = json_string_value(json_object_get(v, "representor"));
        const char *iface = json_string_value(json_object_get(v, "iface_id"));
        if (!rep || !iface || dpud_dp_has_port(dp, rep)) {
            continue;
        }
        char *devargs = port_devargs(dp, rep);
        if (!devargs) {
            OLOG_WARN_RL(&rl,
                         "representor %s: no devargs (set representor-devargs or "
                         "memif-dir, or give them with port-add)",
                         rep);
            continue;
        }
        struct dp_port *p = realloc(dp->ports, (dp->n_ports + 1) * sizeof *p);
        if (!p) {
            free(devargs);
            continue;
        }
        dp->ports = p;
        struct ovnic_err err = {0};
        int error = vswitch_port_add(dp->vs, rep, devargs, iface, &err);
        if (error) {
            char buf[256];
            OLOG_WARN_RL(&rl, "cannot attach representor %s (%s): %s", rep, devargs,
                         ovnic_err_is_set(&err) ? ovnic_err_format(&err, buf, sizeof buf)
                                                : strerror(-error));
            free(devargs);
            continue;
        }
        if (vswitch_port_state(dp->vs, rep) == VSWITCH_PORT_UP) {
            OLOG_INFO("representor %s attached for %s (%s)", rep, iface, devargs);
        } else {
            OLOG_INFO("representor %s for %s waits for its device (%s)", rep, iface,
                      devargs);
        }
        dp->ports_changed = true;
        p[dp->n_ports].name = strdup(rep);
        p[dp->n_ports].iface_id = strdup(iface);
        p[dp->n_ports].devargs = devargs;
        if (!p[dp->n_ports].name || !p[dp->n_ports].iface_id) {
            free(p[dp->n_ports].name);
            free(p[dp->n_ports].iface_id);
            free(devargs);
            vswitch_port_del(dp->vs, rep);
            continue;
        }
        dp->n_ports++;
    }
}

bool
dpud_dp_has_port(const struct dpud_dp *dp, const char *name)
{
    for (size_t i = 0; i < dp->n_ports; i++) {
        if (!strcmp(dp->ports[i].name, name)) {
            return true;
        }
    }
    return false;
}

bool
dpud_dp_port_is_up(const struct dpud_dp *dp, const char *name)
{
    return dpud_dp_has_port(dp, name) &&
           vswitch_port_state(dp->vs, name) == VSWITCH_PORT_UP;
}

bool
dpud_dp_take_ports_changed(struct dpud_dp *dp)
{
    bool changed = dp->ports_changed;
    dp->ports_changed = false;
    return changed;
}

json_t *
dpud_dp_ports_status(const struct dpud_dp *dp)
{
    static const char *const keys[] = {"name",     "lport",    "state",
                                       "state_ms", "attempts", "error"};
    json_t *ports = vswitch_ports_json(dp->vs);
    json_t *out = json_array();
    size_t i;
    json_t *p;

    if (!ports || !out) {
        json_decref(ports);
        json_decref(out);
        return NULL;
    }
    json_array_foreach(ports, i, p)
    {
        json_t *o = json_object();
        for (size_t k = 0; o && k < ARRAY_SIZE(keys); k++) {
            if (json_object_set(o, keys[k], json_object_get(p, keys[k]))) {
                json_decref(o);
                o = NULL;
            }
        }
        if (!o || json_array_append_new(out, o)) {
            json_decref(ports);
            json_decref(out);
            return NULL;
        }
    }
    json_decref(ports);
    return out;
}

int64_t
dpud_dp_sync_pipeline(struct dpud_dp *dp, const struct ovsdb_replica *replica,
                      struct ovnic_err *err)
{
    return vswitch_pipeline_sync(dp->vs, replica, err);
}

uint64_t
dpud_dp_generation_live(const struct dpud_dp *dp)
{
    return vswitch_generation_live(dp->vs);
}

unsigned int
dpud_dp_run(struct dpud_dp *dp)
{
    return vswitch_run(dp->vs);
}

size_t
dpud_dp_take_mac_bindings(struct dpud_dp *dp, struct dpud_mac_binding **mbs)
{
    size_t n = dp->n_mbs;

    *mbs = dp->mbs;
    dp->mbs = NULL;
    dp->n_mbs = 0;
    return n;
}

/* The MAC of Port_Binding 'pb' to probe 'ip' at: that of the "MAC IP..." entry
 * listing 'ip', else the first entry that lists no IPv4 address (as ovn-controller
 * picks it).  Writes it to 'mac' (18 bytes) or returns false. */
static bool
svc_port_mac(const struct ovsdb_row *pb, const char *ip, char mac[18])
{
    const struct ovsdb_datum *d = ovsdb_row_get(pb, "mac");
    bool fallback = false;

    for (size_t i = 0; d && i < d->n; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", d->keys[i].string);
        char *save = NULL;
        char *first = strtok_r(buf, " ", &save);
        if (!first || strlen(first) != 17) {
            continue;
        }
        bool has_ip4 = false;
        for (char *w = strtok_r(NULL, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            struct in_addr a;
            char *slash = strchr(w, '/');
            if (slash) {
                *slash = '\0';
            }
            if (inet_pton(AF_INET, w, &a) == 1) {
                has_ip4 = true;
                if (!strcmp(w, ip)) {
                    memcpy(mac, first, 18);
                    return true;
                }
            }
        }
        if (!has_ip4 && !fallback) {
            memcpy(mac, first, 18);
            fallback = true;
        }
    }
    return fallback;
}

int
dpud_dp_sync_svc_monitors(struct dpud_dp *dp, const struct ovsdb_replica *replica,
                          const struct uuid *chassis)
{
    const struct ovsdb_replica_table *smt =
        ovsdb_replica_table(replica, "Service_Monitor");
    const struct ovsdb_replica_table *pbt = ovsdb_replica_table(replica, "Port_Binding");
    const struct ovsdb_replica_table *gt = ovsdb_replica_table(replica, "SB_Global");
    size_t n_rows = smt ? ovsdb_replica_table_count(smt) : 0;
    struct svc_mon_spec *specs = calloc(n_rows ? n_rows : 1, sizeof *specs);
    char(*macs)[18] = calloc(n_rows ? n_rows : 1, sizeof *macs);
    const char *svc_mac = NULL;
    const struct ovsdb_row *row;
    size_t n = 0;
    int error;

    if (!specs || !macs) {
        free(specs);
        free(macs);
        return -ENOMEM;
    }
    if (gt) {
        OVSDB_TABLE_FOR_EACH_ROW (row, gt) {
            svc_mac = ovsdb_datum_map_get_string(ovsdb_row_get(row, "options"),
                                                 "svc_monitor_mac", NULL);
        }
    }
    if (smt && pbt && chassis) {
        OVSDB_TABLE_FOR_EACH_ROW (row, smt) {
            const char *lport =
                ovsdb_datum_get_string(ovsdb_row_get(row, "logical_port"), "");
            const char *ip = ovsdb_datum_get_string(ovsdb_row_get(row, "ip"), "");
            const struct ovsdb_row *pb = NULL, *r;
            OVSDB_TABLE_FOR_EACH_ROW (r, pbt) {
                if (!strcmp(ovsdb_datum_get_string(ovsdb_row_get(r, "logical_port"), ""),
                            lport)) {
                    pb = r;
                    break;
                }
            }
            const struct uuid *ch =
                pb ? ovsdb_datum_get_uuid(ovsdb_row_get(pb, "chassis")) : NULL;
            if (!ch || !uuid_equals(ch, chassis) || !svc_port_mac(pb, ip, macs[n])) {
                continue; /* Probed by the chassis that hosts the port. */
            }
            const struct ovsdb_datum *opts = ovsdb_row_get(row, "options");
            struct svc_mon_spec *s = &specs[n];
            s->uuid = *ovsdb_row_uuid(row);
            s->logical_port = lport;
            s->protocol = ovsdb_datum_get_string(ovsdb_row_get(row, "protocol"), "tcp");
            s->ip = ip;
            s->port = ovsdb_datum_get_int(ovsdb_row_get(row, "port"), 0);
            s->src_ip = ovsdb_datum_get_string(ovsdb_row_get(row, "src_ip"), "");
            /* northd writes SB_Global's svc_monitor_mac into each row. */
            s->src_mac = ovsdb_datum_get_string(ovsdb_row_get(row, "src_mac"),
                                                svc_mac ? svc_mac : "");
            if (!*s->src_mac && svc_mac) {
                s->src_mac = svc_mac;
            }
            s->dst_mac = macs[n];
            s->interval = atoll(ovsdb_datum_map_get_string(opts, "interval", "0"));
            s->timeout = atoll(ovsdb_datum_map_get_string(opts, "timeout", "0"));
            s->success_count =
                atoll(ovsdb_datum_map_get_string(opts, "success_count", "0"));
            s->failure_count =
                atoll(ovsdb_datum_map_get_string(opts, "failure_count", "0"));
            n++;
        }
    }
    error = vswitch_svc_monitors_set(dp->vs, specs, n);
    free(specs);
    free(macs);
    return error;
}

const char *
dpud_dp_svc_status(const struct dpud_dp *dp, const struct uuid *uuid)
{
    return svc_mon_status_name(vswitch_svc_monitor_status(dp->vs, uuid));
}

bool
dpud_dp_take_svc_changed(struct dpud_dp *dp)
{
    bool changed = dp->svc_changed;
    dp->svc_changed = false;
    return changed;
}

/* Parses a hex string into a new buffer.  Caller owns. */
static uint8_t *
hex_decode(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    if (!n || n % 2) {
        return NULL;
    }
    uint8_t *b = malloc(n / 2);
    if (!b) {
        return NULL;
    }
    for (size_t i = 0; i < n / 2; i++) {
        unsigned int v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            free(b);
            return NULL;
        }
        b[i] = (uint8_t)v;
    }
    *len = n / 2;
    return b;
}

static int
int_arg(const json_t *args, const char *name, long long dflt, long long min,
        long long max, long long *out)
{
    const json_t *v = json_object_get(args, name);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min ||
        json_integer_value(v) > max) {
        return -EINVAL;
    }
    *out = json_integer_value(v);
    return 0;
}

bool
dpud_dp_ctl(struct dpud_dp *dp, const char *method, const json_t *args, json_t **result,
            int *error, char *errbuf, size_t errlen)
{
    long long zone, limit;

    *result = NULL;
    *error = 0;
    if (!strcmp(method, "dp-ports")) {
        *result = vswitch_ports_json(dp->vs);
    } else if (!strcmp(method, "dp-stats")) {
        *result = vswitch_stats_json(dp->vs);
    } else if (!strcmp(method, "dp-flows")) {
        if (int_arg(args, "limit", 0, 0, INT32_MAX, &limit)) {
            *error = -EINVAL;
            snprintf(errbuf, errlen, "\"limit\" must be a non-negative integer");
            return true;
        }
        *result = vswitch_megaflows_json(dp->vs, (size_t)limit);
    } else if (!strcmp(method, "dp-pipeline")) {
        const json_t *dpname = json_object_get(args, "datapath");
        if (dpname && !json_is_string(dpname)) {
            *error = -EINVAL;
            snprintf(errbuf, errlen, "\"datapath\" must be a string");
            return true;
        }
        struct ovnic_err perr = {0};
        *result = vswitch_pipeline_json(dp->vs, json_string_value(dpname), &perr);
        if (!*result && perr.code == -ENOENT) {
            *error = -ENOENT;
            snprintf(errbuf, errlen, "unknown datapath \"%s\"",
                     json_string_value(dpname));
            return true;
        }
    } else if (!strcmp(method, "dp-neigh")) {
        *result = vswitch_neigh_json(dp->vs);
    } else if (!strcmp(method, "conntrack-dump") || !strcmp(method, "conntrack-flush")) {
        /* No zone: every zone. */
        const json_t *zarg = json_object_get(args, "zone");
        uint16_t z;

        zone = -1;
        if (zarg && !json_is_null(zarg)) {
            if (ct_zone_parse(zarg, &z)) {
                *error = -EINVAL;
                snprintf(errbuf, errlen, "bad \"zone\": " CT_ZONE_ERROR);
                return true;
            }
            zone = z;
        }
        if (!strcmp(method, "conntrack-dump") &&
            int_arg(args, "limit", 0, 0, INT32_MAX, &limit)) {
            *error = -EINVAL;
            snprintf(errbuf, errlen, "\"limit\" must be a non-negative integer");
            return true;
        }
        if (!strcmp(method, "conntrack-dump")) {
            *result = vswitch_conntrack_json(dp->vs, (int)zone, (size_t)limit);
        } else {
            size_t n = vswitch_conntrack_flush(dp->vs, (int)zone);
            *result = json_pack("{s:I}", "flushed", (json_int_t)n);
        }
    } else if (!strcmp(method, "conntrack-stats")) {
        *result = vswitch_conntrack_stats_json(dp->vs);
    } else if (!strcmp(method, "dp-svc-monitors")) {
        *result = vswitch_svc_monitors_json(dp->vs);
    } else if (!strcmp(method, "dp-trace")) {
        const char *port = json_string_value(json_object_get(args, "port"));
        const char *hex = json_string_value(json_object_get(args, "packet"));
        size_t len = 0;
        uint8_t *pkt = hex ? hex_decode(hex, &len) : NULL;
        if (!port || !pkt) {
            free(pkt);
            *error = -EINVAL;
            snprintf(errbuf, errlen,
                     "dp-trace needs \"port\" and \"packet\" (the frame in hex)");
            return true;
        }
        struct ovnic_err err = {0};
        *result = vswitch_trace_json(dp->vs, port, pkt, len, &err);
        free(pkt);
        if (!*result) {
            *error = -EINVAL;
            if (ovnic_err_is_set(&err)) {
                ovnic_err_format(&err, errbuf, errlen);
            } else {
                snprintf(errbuf, errlen, "trace failed");
            }
            return true;
        }
    } else {
        return false;
    }
    if (!*result) {
        *error = -ENOMEM;
        snprintf(errbuf, errlen, "out of memory");
    }
    return true;
}

#else /* !OVNIC_DPUD_VSWITCH */

int
dpud_dp_prepare(const struct dpud_config *config OVNIC_UNUSED, struct ovnic_err *err)
{
    return ovnic_err_set(err, -EOPNOTSUPP,
                         "datapath = dpdk: ovnic-dpud was built without DPDK");
}

int
dpud_dp_create(const struct dpud_config *config OVNIC_UNUSED,
               struct dpud_dp **dpp OVNIC_UNUSED, struct ovnic_err *err)
{
    return ovnic_err_set(err, -EOPNOTSUPP,
                         "datapath = dpdk: ovnic-dpud was built without DPDK");
}

void
dpud_dp_destroy(struct dpud_dp *dp OVNIC_UNUSED)
{}

void
dpud_dp_sync_ports(struct dpud_dp *dp OVNIC_UNUSED, const json_t *vifs OVNIC_UNUSED)
{}

bool
dpud_dp_has_port(const struct dpud_dp *dp OVNIC_UNUSED, const char *name OVNIC_UNUSED)
{
    return false;
}

bool
dpud_dp_port_is_up(const struct dpud_dp *dp OVNIC_UNUSED, const char *name OVNIC_UNUSED)
{
    return false;
}

bool
dpud_dp_take_ports_changed(struct dpud_dp *dp OVNIC_UNUSED)
{
    return false;
}

json_t *
dpud_dp_ports_status(const struct dpud_dp *dp OVNIC_UNUSED)
{
    return json_array();
}

int
dpud_dp_port_devargs_set(struct dpud_dp *dp OVNIC_UNUSED, const char *name OVNIC_UNUSED,
                         const char *devargs OVNIC_UNUSED)
{
    return -EOPNOTSUPP;
}

json_t *
dpud_dp_devargs_save(const struct dpud_dp *dp OVNIC_UNUSED)
{
    return json_object();
}

int
dpud_dp_devargs_restore(struct dpud_dp *dp OVNIC_UNUSED, const json_t *saved OVNIC_UNUSED)
{
    return -EOPNOTSUPP;
}

int64_t
dpud_dp_sync_pipeline(struct dpud_dp *dp OVNIC_UNUSED,
                      const struct ovsdb_replica *replica OVNIC_UNUSED,
                      struct ovnic_err *err)
{
    return ovnic_err_set(err, -EOPNOTSUPP, "built without DPDK");
}

uint64_t
dpud_dp_generation_live(const struct dpud_dp *dp OVNIC_UNUSED)
{
    return 0;
}

unsigned int
dpud_dp_run(struct dpud_dp *dp OVNIC_UNUSED)
{
    return 1000;
}

size_t
dpud_dp_take_mac_bindings(struct dpud_dp *dp OVNIC_UNUSED, struct dpud_mac_binding **mbs)
{
    *mbs = NULL;
    return 0;
}

int
dpud_dp_sync_svc_monitors(struct dpud_dp *dp OVNIC_UNUSED,
                          const struct ovsdb_replica *replica OVNIC_UNUSED,
                          const struct uuid *chassis OVNIC_UNUSED)
{
    return -EOPNOTSUPP;
}

const char *
dpud_dp_svc_status(const struct dpud_dp *dp OVNIC_UNUSED,
                   const struct uuid *uuid OVNIC_UNUSED)
{
    return NULL;
}

bool
dpud_dp_take_svc_changed(struct dpud_dp *dp OVNIC_UNUSED)
{
    return false;
}

bool
dpud_dp_ctl(struct dpud_dp *dp OVNIC_UNUSED, const char *method OVNIC_UNUSED,
            const json_t *args OVNIC_UNUSED, json_t **result OVNIC_UNUSED,
            int *error OVNIC_UNUSED, char *errbuf OVNIC_UNUSED,
            size_t errlen OVNIC_UNUSED)
{
    return false;
}

#endif /* OVNIC_DPUD_VSWITCH */
