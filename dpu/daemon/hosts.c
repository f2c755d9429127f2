/* ovnic-dpud: the hosts of this DPU, served through hostlink (see hosts.h). */
#include "hosts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dpu/controller/binding.h"
#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "shared/proto/hostlink.h"
#include "shared/proto/hostlink_server.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/tls.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(hosts);

#define DPUD_HOSTS_SOFTWARE "ovnic-dpud 0.1.0"
#define DPUD_HOSTS_MAX 64 /* Host identities remembered at once. */

static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 20);

/* One PF of a host, from its last inventory. */
struct hpf {
    char mac[18];
    unsigned int vf_count;
    char serial[HOSTLINK_SERIAL_MAX + 1];
};

/* One attachment: the representor of (pf_mac, vf) carries 'iface_id'. */
struct hatt {
    char *iface_id;
    char pf_mac[18];
    unsigned int vf;
    char mac[18];
    char *representor;
};

/* Refusals, by kind. */
struct hrefused {
    uint64_t not_owned;
    uint64_t mac_mismatch;
    uint64_t bound_elsewhere;
    uint64_t not_found;
    uint64_t other;
};

struct host {
    struct dpud_hosts *hosts;
    char *identity;
    uint64_t session; /* 0: no session up. */
    unsigned int version;
    char *remote;
    uint64_t up_since_ms;   /* Of the session. */
    uint64_t down_since_ms; /* When the last session ended (0: never up here). */
    bool lost;              /* Gone for longer than the down delay. */
    struct poll_timer lost_timer;
    char *last_down_reason;

    bool have_inventory;
    struct hpf pfs[HOSTLINK_MAX_PFS];
    size_t n_pfs;

    struct hatt *atts;
    size_t n_atts;

    uint64_t requests;
    uint64_t resyncs;
    struct hrefused refused;
};

/* A request, answered in order.  One that names an iface-id whose Port_Binding the
 * replica lacks waits until the SB has answered a monitor condition that asks for
 * it (or HOSTS_WAIT_MS), since conditional monitoring only sends the rows of local
 * datapaths. */
#define HOSTS_WAIT_MS 10000
struct pending {
    uint64_t session;
    struct hostlink_msg msg;
    uint64_t waiting_since_ms; /* 0: not waiting yet. */
};

struct dpud_hosts {
    struct poll_loop *loop;
    const struct dpud_config *config;
    struct binding *binding;
    struct dpud_hosts_ops ops;
    void *aux;
    struct hostlink_server *server;

    struct host **hosts;
    size_t n_hosts;

    struct pending *pending;
    size_t n_pending, allocated_pending;

    char *cms_options;
    char serial[HOSTLINK_SERIAL_MAX + 1];

    const char **wanted; /* NULL-terminated; borrowed from 'pending'. */
    size_t n_wanted;
    struct poll_timer wait_timer;

    struct hrefused refused;
    uint64_t refused_hello; /* Identities refused at hello (hostlink-hosts). */
};

/* ---- Hosts and their attachments. ---- */

static struct host *
host_find(const struct dpud_hosts *hosts, const char *identity)
{
    for (size_t i = 0; i < hosts->n_hosts; i++) {
        if (!strcmp(hosts->hosts[i]->identity, identity)) {
            return hosts->hosts[i];
        }
    }
    return NULL;
}

static struct host *
host_by_session(const struct dpud_hosts *hosts, uint64_t session)
{
    for (size_t i = 0; i < hosts->n_hosts; i++) {
        if (hosts->hosts[i]->session == session) {
            return hosts->hosts[i];
        }
    }
    return NULL;
}

static struct host *
host_get(struct dpud_hosts *hosts, const char *identity)
{
    struct host *h = host_find(hosts, identity);
    struct host **v;

    if (h) {
        return h;
    }
    if (hosts->n_hosts >= DPUD_HOSTS_MAX) {
        /* Forget a host that holds nothing and has no session. */
        for (size_t i = 0; i < hosts->n_hosts; i++) {
            struct host *old = hosts->hosts[i];
            if (!old->session && !old->n_atts) {
                poll_timer_stop(hosts->loop, &old->lost_timer);
                free(old->identity);
                free(old->remote);
                free(old->last_down_reason);
                free(old->atts);
                free(old);
                hosts->hosts[i] = hosts->hosts[--hosts->n_hosts];
                break;
            }
        }
        if (hosts->n_hosts >= DPUD_HOSTS_MAX) {
            return NULL;
        }
    }
    v = realloc(hosts->hosts, (hosts->n_hosts + 1) * sizeof *v);
    if (!v) {
        return NULL;
    }
    hosts->hosts = v;
    h = calloc(1, sizeof *h);
    if (!h || !(h->identity = strdup(identity))) {
        free(h);
        return NULL;
    }
    h->hosts = hosts;
    poll_timer_init(&h->lost_timer);
    hosts->hosts[hosts->n_hosts++] = h;
    return h;
}

static void
host_destroy(struct host *h)
{
    for (size_t i = 0; i < h->n_atts; i++) {
        free(h->atts[i].iface_id);
        free(h->atts[i].representor);
    }
    poll_timer_stop(h->hosts->loop, &h->lost_timer);
    free(h->atts);
    free(h->identity);
    free(h->remote);
    free(h->last_down_reason);
    free(h);
}

/* The attachment of 'iface_id' among all hosts, and its host. */
static struct hatt *
att_find_iface(const struct dpud_hosts *hosts, const char *iface_id, struct host **hp)
{
    for (size_t i = 0; i < hosts->n_hosts; i++) {
        struct host *h = hosts->hosts[i];
        for (size_t j = 0; j < h->n_atts; j++) {
            if (!strcmp(h->atts[j].iface_id, iface_id)) {
                *hp = h;
                return &h->atts[j];
            }
        }
    }
    return NULL;
}

static struct hatt *
att_find_vf(const struct host *h, const char *pf_mac, unsigned int vf)
{
    for (size_t j = 0; j < h->n_atts; j++) {
        if (!strcmp(h->atts[j].pf_mac, pf_mac) && h->atts[j].vf == vf) {
            return &h->atts[j];
        }
    }
    return NULL;
}

/* Unplugs and forgets attachment 'a' of 'h'. */
static void
att_remove(struct dpud_hosts *hosts, struct host *h, struct hatt *a, const char *why)
{
    int error = binding_port_del(hosts->binding, a->representor);

    if (error && error != -ENOENT) {
        OLOG_WARN_RL(&rl, "host %s: cannot unplug %s from %s: %s", h->identity,
                     a->iface_id, a->representor, strerror(-error));
    }
    OLOG_INFO("host %s: %s unplugged from %s (%s)", h->identity, a->iface_id,
              a->representor, why);
    free(a->iface_id);
    free(a->representor);
    *a = h->atts[--h->n_atts];
    hosts->ops.save(hosts->aux);
    hosts->ops.schedule(hosts->aux);
}

/* ---- What this DPU and this host own. ---- */

static const char *
representor_of(const struct dpud_config *config, const char *pf_mac, unsigned int vf)
{
    for (size_t i = 0; i < config->n_representors; i++) {
        if (!strcmp(config->representors[i].pf_mac, pf_mac) &&
            config->representors[i].vf_num == vf) {
            return config->representors[i].name;
        }
    }
    return NULL;
}

static bool
is_dpu_pf(const struct dpud_config *config, const char *pf_mac)
{
    for (size_t i = 0; i < config->n_representors; i++) {
        if (!strcmp(config->representors[i].pf_mac, pf_mac)) {
            return true;
        }
    }
    return false;
}

/* Whether 'identity' may use PF 'pf_mac' of this DPU. */
static bool
host_owns_pf(const struct dpud_config *config, const char *identity, const char *pf_mac)
{
    if (!is_dpu_pf(config, pf_mac)) {
        return false;
    }
    if (!config->n_hostlink_hosts) {
        return true;
    }
    for (size_t i = 0; i < config->n_hostlink_hosts; i++) {
        if (!strcmp(config->hostlink_hosts[i].name, identity) &&
            !strcmp(config->hostlink_hosts[i].pf_mac, pf_mac)) {
            return true;
        }
    }
    return false;
}

static bool
is_listed_host(const struct dpud_config *config, const char *identity)
{
    if (!config->n_hostlink_hosts) {
        return true;
    }
    for (size_t i = 0; i < config->n_hostlink_hosts; i++) {
        if (!strcmp(config->hostlink_hosts[i].name, identity)) {
            return true;
        }
    }
    return false;
}

static const struct hpf *
host_pf(const struct host *h, const char *pf_mac)
{
    for (size_t i = 0; i < h->n_pfs; i++) {
        if (!strcmp(h->pfs[i].mac, pf_mac)) {
            return &h->pfs[i];
        }
    }
    return NULL;
}

/* ---- Refusals. ---- */

static int refuse(struct dpud_hosts *hosts, struct host *h, int code, char *msg,
                  size_t size, const char *fmt, ...) OVNIC_PRINTF(6, 7);

static int
refuse(struct dpud_hosts *hosts, struct host *h, int code, char *msg, size_t size,
       const char *fmt, ...)
{
    va_list args;
    uint64_t *counter;

    va_start(args, fmt);
    vsnprintf(msg, size, fmt, args);
    va_end(args);
    switch (code) {
    case HOSTLINK_ERR_NOT_OWNED:
        counter = &h->refused.not_owned;
        hosts->refused.not_owned++;
        break;
    case HOSTLINK_ERR_MAC_MISMATCH:
        counter = &h->refused.mac_mismatch;
        hosts->refused.mac_mismatch++;
        break;
    case HOSTLINK_ERR_BOUND_ELSEWHERE:
        counter = &h->refused.bound_elsewhere;
        hosts->refused.bound_elsewhere++;
        break;
    case HOSTLINK_ERR_NOT_FOUND:
        counter = &h->refused.not_found;
        hosts->refused.not_found++;
        break;
    default:
        counter = &h->refused.other;
        hosts->refused.other++;
        break;
    }
    (*counter)++;
    OLOG_WARN_RL(&rl, "host %s: refused (%s): %s", h->identity, hostlink_error_name(code),
                 msg);
    return code;
}

/* ---- The SB side of a request. ---- */

static const struct ovsdb_row *
pb_find(const struct ovsdb_replica *replica, const char *lport)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Port_Binding");
    const struct ovsdb_row *row;

    if (!t) {
        return NULL;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        if (!strcmp(ovsdb_datum_get_string(ovsdb_row_get(row, "logical_port"), ""),
                    lport)) {
            return row;
        }
    }
    return NULL;
}

static const char *
chassis_name(const struct ovsdb_replica *replica, const struct uuid *uuid)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "Chassis");
    const struct ovsdb_row *row = t ? ovsdb_replica_table_find(t, uuid) : NULL;

    return row ? ovsdb_datum_get_string(ovsdb_row_get(row, "name"), "?") : "?";
}

/* Whether the "mac" column of 'pb' assigns 'mac' (lowercase): the first word of one
 * of its entries. */
static bool
pb_assigns_mac(const struct ovsdb_row *pb, const char *mac)
{
    const struct ovsdb_datum *d = ovsdb_row_get(pb, "mac");

    for (uint32_t i = 0; d && i < d->n; i++) {
        char word[18], lmac[18];
        const char *s = d->keys[i].string;
        size_t n = strcspn(s, " ");

        if (n != 17) {
            continue;
        }
        memcpy(word, s, 17);
        word[17] = '\0';
        if (!dpud_config_parse_mac(word, lmac) && !strcmp(lmac, mac)) {
            return true;
        }
    }
    return false;
}

/* Whether 'pb' is requested for another chassis than ours; '*who' names it. */
static bool
pb_requested_elsewhere(const struct ovsdb_row *pb, const struct dpud_hosts_ctx *ctx,
                       const char **who)
{
    const struct uuid *req = ovsdb_datum_get_uuid(ovsdb_row_get(pb, "requested_chassis"));
    const char *opt =
        ovsdb_datum_map_get_string(ovsdb_row_get(pb, "options"), "requested-chassis", "");

    if (req) {
        *who = chassis_name(ctx->replica, req);
        return !uuid_equals(req, ctx->chassis_uuid);
    }
    if (*opt) {
        char copy[512], *save = NULL;

        snprintf(copy, sizeof copy, "%s", opt);
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (!strcmp(t, ctx->chassis_name) || !strcmp(t, ctx->hostname)) {
                return false;
            }
        }
        *who = opt;
        return true;
    }
    return false;
}

/* Checks and plugs attachment 'a' of host 'h'.  Returns HOSTLINK_OK or the code of
 * the refusal, with 'msg' saying why. */
static int
host_attach(struct dpud_hosts *hosts, struct host *h, const struct hostlink_attach *a,
            const struct dpud_hosts_ctx *ctx, char *msg, size_t size)
{
    char pf_mac[HOSTLINK_MAC_LEN + 1], mac[HOSTLINK_MAC_LEN + 1];
    const struct hpf *pf;
    const char *rep, *who;
    const struct ovsdb_row *pb;
    struct host *other;
    struct hatt *old;
    struct ovnic_err err = {0};
    int error;

    hostlink_mac_format(&a->pf_mac, pf_mac);
    hostlink_mac_format(&a->mac, mac);
    if (!host_owns_pf(hosts->config, h->identity, pf_mac)) {
        return refuse(hosts, h, HOSTLINK_ERR_NOT_OWNED, msg, size,
                      "%s: PF %s is not a PF of host %s on this DPU", a->iface_id, pf_mac,
                      h->identity);
    }
    pf = host_pf(h, pf_mac);
    if (!pf || a->vf_num >= pf->vf_count) {
        return refuse(hosts, h, HOSTLINK_ERR_NOT_OWNED, msg, size,
                      "%s: VF %u of PF %s: the host reported %u VFs on it", a->iface_id,
                      a->vf_num, pf_mac, pf ? pf->vf_count : 0);
    }
    rep = representor_of(hosts->config, pf_mac, a->vf_num);
    if (!rep) {
        return refuse(hosts, h, HOSTLINK_ERR_NOT_FOUND, msg, size,
                      "%s: VF %u of PF %s has no representor on this DPU", a->iface_id,
                      a->vf_num, pf_mac);
    }
    pb = pb_find(ctx->replica, a->iface_id);
    if (!pb) {
        return refuse(hosts, h, HOSTLINK_ERR_NOT_FOUND, msg, size,
                      "%s: no such logical port in the Southbound database", a->iface_id);
    }
    if (*ovsdb_datum_get_string(ovsdb_row_get(pb, "type"), "")) {
        return refuse(hosts, h, HOSTLINK_ERR_NOT_FOUND, msg, size,
                      "%s: not a VIF port (type %s)", a->iface_id,
                      ovsdb_datum_get_string(ovsdb_row_get(pb, "type"), ""));
    }
    if (pb_requested_elsewhere(pb, ctx, &who)) {
        return refuse(hosts, h, HOSTLINK_ERR_BOUND_ELSEWHERE, msg, size,
                      "%s: requested for chassis %s", a->iface_id, who);
    }
    {
        const struct uuid *ch = ovsdb_datum_get_uuid(ovsdb_row_get(pb, "chassis"));
        if (ch && !uuid_equals(ch, ctx->chassis_uuid)) {
            return refuse(hosts, h, HOSTLINK_ERR_BOUND_ELSEWHERE, msg, size,
                          "%s: bound to chassis %s", a->iface_id,
                          chassis_name(ctx->replica, ch));
        }
    }
    if (!pb_assigns_mac(pb, mac)) {
        return refuse(hosts, h, HOSTLINK_ERR_MAC_MISMATCH, msg, size,
                      "%s: MAC %s is not one the Southbound assigns to it (mac: %s)",
                      a->iface_id, mac,
                      ovsdb_datum_get_string(ovsdb_row_get(pb, "mac"), "none"));
    }
    old = att_find_iface(hosts, a->iface_id, &other);
    if (old && other != h) {
        return refuse(hosts, h, HOSTLINK_ERR_BOUND_ELSEWHERE, msg, size,
                      "%s: attached here by another host", a->iface_id);
    }
    if (old && !strcmp(old->representor, rep)) {
        /* The same attachment again (a resync): nothing to re-plug. */
        snprintf(old->mac, sizeof old->mac, "%s", mac);
        return HOSTLINK_OK;
    }
    if (old) {
        att_remove(hosts, h, old, "re-plugged on another VF");
    }
    old = att_find_vf(h, pf_mac, a->vf_num);
    if (old) {
        att_remove(hosts, h, old, "VF given to another port");
    }

    error = binding_port_add(hosts->binding, rep, a->iface_id, NULL, &err);
    if (error) {
        char buf[200];
        return refuse(hosts, h,
                      error == -EEXIST ? HOSTLINK_ERR_BOUND_ELSEWHERE
                                       : HOSTLINK_ERR_INTERNAL,
                      msg, size, "%s: cannot plug representor %s: %s", a->iface_id, rep,
                      error == -EEXIST         ? "it carries another port"
                      : ovnic_err_is_set(&err) ? ovnic_err_format(&err, buf, sizeof buf)
                                               : strerror(-error));
    }
    struct hatt *v = realloc(h->atts, (h->n_atts + 1) * sizeof *v);
    char *iface = strdup(a->iface_id), *rcopy = strdup(rep);
    if (!v || !iface || !rcopy) {
        if (v) {
            h->atts = v;
        }
        free(iface);
        free(rcopy);
        binding_port_del(hosts->binding, rep);
        snprintf(msg, size, "out of memory");
        return HOSTLINK_ERR_INTERNAL;
    }
    h->atts = v;
    v[h->n_atts] =
        (struct hatt){.iface_id = iface, .vf = a->vf_num, .representor = rcopy};
    snprintf(v[h->n_atts].pf_mac, sizeof v[h->n_atts].pf_mac, "%s", pf_mac);
    snprintf(v[h->n_atts].mac, sizeof v[h->n_atts].mac, "%s", mac);
    h->n_atts++;
    OLOG_INFO("host %s: %s plugged on %s (PF %s VF %u, MAC %s)", h->identity, a->iface_id,
              rep, pf_mac, a->vf_num, mac);
    hosts->ops.save(hosts->aux);
    hosts->ops.schedule(hosts->aux);
    return HOSTLINK_OK;
}

static int
host_detach(struct dpud_hosts *hosts, struct host *h, const char *iface_id, char *msg,
            size_t size)
{
    struct host *other;
    struct hatt *a = att_find_iface(hosts, iface_id, &other);

    if (!a || other != h) {
        return refuse(hosts, h, HOSTLINK_ERR_NOT_FOUND, msg, size,
                      "%s: not attached by host %s", iface_id, h->identity);
    }
    att_remove(hosts, h, a, "detach-request");
    return HOSTLINK_OK;
}

/* Takes the inventory 'inv' of 'h': every PF must be one of this host's on this
 * DPU. */
static int
host_inventory(struct dpud_hosts *hosts, struct host *h,
               const struct hostlink_inventory *inv, char *msg, size_t size)
{
    for (size_t i = 0; i < inv->n_pfs; i++) {
        char mac[HOSTLINK_MAC_LEN + 1];

        hostlink_mac_format(&inv->pfs[i].mac, mac);
        if (!host_owns_pf(hosts->config, h->identity, mac)) {
            return refuse(hosts, h, HOSTLINK_ERR_NOT_OWNED, msg, size,
                          "inventory: PF %s is not a PF of host %s on this DPU", mac,
                          h->identity);
        }
    }
    h->n_pfs = inv->n_pfs;
    for (size_t i = 0; i < inv->n_pfs; i++) {
        hostlink_mac_format(&inv->pfs[i].mac, h->pfs[i].mac);
        h->pfs[i].vf_count = inv->pfs[i].vf_count;
        snprintf(h->pfs[i].serial, sizeof h->pfs[i].serial, "%s", inv->pfs[i].serial);
        if (*inv->pfs[i].serial && strcmp(hosts->serial, inv->pfs[i].serial)) {
            snprintf(hosts->serial, sizeof hosts->serial, "%s", inv->pfs[i].serial);
            OLOG_INFO("card serial number %s (host %s)", hosts->serial, h->identity);
            hosts->ops.schedule(hosts->aux);
        }
    }
    h->have_inventory = true;
    /* An attachment on a VF that is gone (fewer VFs, or the PF gone) is dropped. */
    for (size_t j = 0; j < h->n_atts;) {
        const struct hpf *pf = host_pf(h, h->atts[j].pf_mac);
        if (!pf || h->atts[j].vf >= pf->vf_count) {
            att_remove(hosts, h, &h->atts[j], "VF no longer reported");
        } else {
            j++;
        }
    }
    return HOSTLINK_OK;
}

static int
host_resync(struct dpud_hosts *hosts, struct host *h, const struct hostlink_resync *rs,
            const struct dpud_hosts_ctx *ctx, char *msg, size_t size)
{
    int code = host_inventory(hosts, h, &rs->inventory, msg, size);
    char one[HOSTLINK_MESSAGE_MAX + 1];
    size_t n_refused = 0;

    h->resyncs++;
    if (code) {
        return code;
    }
    /* What the host no longer lists goes first, so that a VF may change hands. */
    for (size_t j = 0; j < h->n_atts;) {
        bool listed = false;
        for (size_t i = 0; i < rs->n_attachments && !listed; i++) {
            listed = !strcmp(rs->attachments[i].iface_id, h->atts[j].iface_id);
        }
        if (!listed) {
            att_remove(hosts, h, &h->atts[j], "not in the host's resync");
        } else {
            j++;
        }
    }
    for (size_t i = 0; i < rs->n_attachments; i++) {
        int c = host_attach(hosts, h, &rs->attachments[i], ctx, one, sizeof one);
        if (c) {
            if (!n_refused++) {
                code = c;
                snprintf(msg, size, "%s", one);
            }
        }
    }
    if (n_refused > 1) {
        char first[HOSTLINK_MESSAGE_MAX + 1];
        snprintf(first, sizeof first, "%s", msg);
        if (snprintf(msg, size, "%zu attachments refused; first: %s", n_refused, first) >=
            (int)size) {
            /* Cut: the message says so. */
            memcpy(msg + size - 4, "...", 4);
        }
    }
    return code;
}

static void
handle(struct dpud_hosts *hosts, struct host *h, const struct hostlink_msg *m,
       const struct dpud_hosts_ctx *ctx)
{
    char msg[HOSTLINK_MESSAGE_MAX + 1] = "";
    int code = HOSTLINK_OK;

    h->requests++;
    switch (m->method) {
    case HOSTLINK_INVENTORY:
        code = host_inventory(hosts, h, &m->u.inventory, msg, sizeof msg);
        break;
    case HOSTLINK_VF_STATUS: {
        char pf_mac[HOSTLINK_MAC_LEN + 1];
        hostlink_mac_format(&m->u.vf_status.pf_mac, pf_mac);
        const struct hpf *pf = host_pf(h, pf_mac);
        if (!host_owns_pf(hosts->config, h->identity, pf_mac) || !pf ||
            m->u.vf_status.vf.num >= pf->vf_count) {
            code = refuse(hosts, h, HOSTLINK_ERR_NOT_OWNED, msg, sizeof msg,
                          "vf-status: VF %u of PF %s is not one of host %s",
                          m->u.vf_status.vf.num, pf_mac, h->identity);
        }
        break;
    }
    case HOSTLINK_ATTACH_REQUEST:
        code = host_attach(hosts, h, &m->u.attach, ctx, msg, sizeof msg);
        break;
    case HOSTLINK_DETACH_REQUEST:
        code = host_detach(hosts, h, m->u.detach.iface_id, msg, sizeof msg);
        break;
    case HOSTLINK_RESYNC:
        code = host_resync(hosts, h, &m->u.resync, ctx, msg, sizeof msg);
        break;
    case HOSTLINK_HELLO:
    case HOSTLINK_KEEPALIVE:
    case HOSTLINK_PLUG_RESULT:
    case HOSTLINK_BYE:
    case HOSTLINK_N_METHODS:
        code = HOSTLINK_ERR_UNSUPPORTED;
        snprintf(msg, sizeof msg, "unexpected request");
        break;
    }
    hostlink_server_reply(hosts->server, h->session, m->id, code, code ? msg : NULL);
}

/* The first iface-id of 'm' without a Port_Binding in the replica, or NULL. */
static const char *
missing_lport(const struct hostlink_msg *m, const struct dpud_hosts_ctx *ctx)
{
    if (m->method == HOSTLINK_ATTACH_REQUEST) {
        return pb_find(ctx->replica, m->u.attach.iface_id) ? NULL : m->u.attach.iface_id;
    }
    if (m->method == HOSTLINK_RESYNC) {
        for (size_t i = 0; i < m->u.resync.n_attachments; i++) {
            const char *id = m->u.resync.attachments[i].iface_id;
            if (!pb_find(ctx->replica, id)) {
                return id;
            }
        }
    }
    return NULL;
}

static void
wait_timer_cb(struct poll_loop *loop OVNIC_UNUSED, struct poll_timer *timer OVNIC_UNUSED,
              void *aux)
{
    struct dpud_hosts *hosts = aux;
    hosts->ops.schedule(hosts->aux);
}

/* Rebuilds the wanted iface-ids from the waiting requests. */
static void
wanted_update(struct dpud_hosts *hosts)
{
    size_t n = 0;

    free(hosts->wanted);
    hosts->wanted = NULL;
    hosts->n_wanted = 0;
    for (size_t i = 0; i < hosts->n_pending; i++) {
        const struct hostlink_msg *m = &hosts->pending[i].msg;
        n += m->method == HOSTLINK_ATTACH_REQUEST ? 1
             : m->method == HOSTLINK_RESYNC       ? m->u.resync.n_attachments
                                                  : 0;
    }
    if (!n || !(hosts->wanted = calloc(n + 1, sizeof *hosts->wanted))) {
        return;
    }
    for (size_t i = 0; i < hosts->n_pending; i++) {
        const struct hostlink_msg *m = &hosts->pending[i].msg;
        if (m->method == HOSTLINK_ATTACH_REQUEST) {
            hosts->wanted[hosts->n_wanted++] = m->u.attach.iface_id;
        } else if (m->method == HOSTLINK_RESYNC) {
            for (size_t j = 0; j < m->u.resync.n_attachments; j++) {
                hosts->wanted[hosts->n_wanted++] = m->u.resync.attachments[j].iface_id;
            }
        }
    }
}

const char *const *
dpud_hosts_wanted_lports(const struct dpud_hosts *hosts, size_t *n)
{
    *n = hosts->n_wanted;
    return hosts->wanted;
}

void
dpud_hosts_run(struct dpud_hosts *hosts, const struct dpud_hosts_ctx *ctx)
{
    uint64_t now = time_msec();
    size_t i;

    for (i = 0; i < hosts->n_pending; i++) {
        struct pending *p = &hosts->pending[i];
        struct host *h = host_by_session(hosts, p->session);

        if (h && missing_lport(&p->msg, ctx)) {
            if (!p->waiting_since_ms) {
                /* Ask the SB for the row (the next condition update), and wait. */
                p->waiting_since_ms = now;
                poll_timer_start(hosts->loop, &hosts->wait_timer, HOSTS_WAIT_MS,
                                 wait_timer_cb, hosts);
                break;
            }
            if (!ctx->conditions_acked && now - p->waiting_since_ms < HOSTS_WAIT_MS) {
                break;
            }
        }
        if (h) {
            handle(hosts, h, &p->msg, ctx);
        }
        hostlink_msg_clear(&p->msg);
    }
    /* What is left waits, in order. */
    if (i && i < hosts->n_pending) {
        memmove(hosts->pending, hosts->pending + i,
                (hosts->n_pending - i) * sizeof *hosts->pending);
    }
    hosts->n_pending -= i;
    wanted_update(hosts);

    /* The cms-options, with the card serial number. */
    const char *base = hosts->config->cms_options ? hosts->config->cms_options : "";
    char *want = NULL;
    if (*hosts->serial) {
        if (asprintf(&want, "%s%scard-serial-number=%s", base, *base ? "," : "",
                     hosts->serial) < 0) {
            want = NULL;
        }
    } else {
        want = strdup(base);
    }
    if (want && (!hosts->cms_options || strcmp(want, hosts->cms_options))) {
        free(hosts->cms_options);
        hosts->cms_options = want;
    } else {
        free(want);
    }
}

/* ---- Server callbacks. ---- */

static void
lost_timer_cb(struct poll_loop *loop OVNIC_UNUSED, struct poll_timer *timer OVNIC_UNUSED,
              void *aux)
{
    struct host *h = aux;

    if (!h->session) {
        h->lost = true;
        OLOG_WARN("host %s gone for %u ms: its %zu port(s) are marked down (they "
                  "still forward)",
                  h->identity, h->hosts->config->hostlink_down_delay_ms, h->n_atts);
        h->hosts->ops.schedule(h->hosts->aux);
    }
}

static int
session_up_cb(void *aux, const struct hostlink_session_info *info, char *why, size_t size)
{
    struct dpud_hosts *hosts = aux;
    struct host *h;

    if (!is_listed_host(hosts->config, info->identity)) {
        hosts->refused_hello++;
        snprintf(why, size, "host %s is not a host of this DPU (hostlink-hosts)",
                 info->identity);
        OLOG_WARN_RL(&rl, "refused host %s from %s: not in hostlink-hosts",
                     info->identity, info->remote ? info->remote : "?");
        return HOSTLINK_ERR_UNAUTHORIZED;
    }
    h = host_get(hosts, info->identity);
    if (!h) {
        snprintf(why, size, "too many hosts");
        return HOSTLINK_ERR_BUSY;
    }
    h->session = info->id;
    h->version = info->version;
    h->up_since_ms = time_msec();
    free(h->remote);
    h->remote = info->remote ? strdup(info->remote) : NULL;
    poll_timer_stop(hosts->loop, &h->lost_timer);
    if (h->lost) {
        h->lost = false;
        OLOG_INFO("host %s is back: its ports are up again", h->identity);
        hosts->ops.schedule(hosts->aux);
    }
    OLOG_INFO("host %s connected from %s (hostlink version %u)", h->identity,
              info->remote ? info->remote : "?", info->version);
    return HOSTLINK_OK;
}

static void
session_down_cb(void *aux, uint64_t session, enum hostlink_down_reason reason)
{
    struct dpud_hosts *hosts = aux;
    struct host *h = host_by_session(hosts, session);

    if (!h) {
        return;
    }
    h->session = 0;
    h->down_since_ms = time_msec();
    free(h->last_down_reason);
    h->last_down_reason = strdup(hostlink_down_reason_to_string(reason));
    OLOG_INFO("host %s: session ended (%s); %zu port(s) kept", h->identity,
              hostlink_down_reason_to_string(reason), h->n_atts);
    poll_timer_start(hosts->loop, &h->lost_timer, hosts->config->hostlink_down_delay_ms,
                     lost_timer_cb, h);
}

static void
request_cb(void *aux, uint64_t session, const struct hostlink_msg *msg)
{
    struct dpud_hosts *hosts = aux;
    struct pending *p;

    if (hosts->n_pending == hosts->allocated_pending) {
        size_t n = hosts->allocated_pending ? 2 * hosts->allocated_pending : 16;
        p = realloc(hosts->pending, n * sizeof *p);
        if (!p) {
            goto nomem;
        }
        hosts->pending = p;
        hosts->allocated_pending = n;
    }
    p = &hosts->pending[hosts->n_pending];
    if (hostlink_msg_clone(msg, &p->msg)) {
        goto nomem;
    }
    p->session = session;
    p->waiting_since_ms = 0;
    hosts->n_pending++;
    hosts->ops.schedule(hosts->aux);
    return;

nomem:
    hostlink_server_reply(hosts->server, session, msg->id, HOSTLINK_ERR_INTERNAL,
                          "out of memory");
}

/* ---- Life cycle. ---- */

int
dpud_hosts_create(struct poll_loop *loop, const struct dpud_config *config,
                  struct binding *binding, const struct dpud_hosts_ops *ops, void *aux,
                  struct dpud_hosts **hostsp, struct ovnic_err *err)
{
    struct tls_config tls = {
        .ca_file = config->hostlink_ca_cert,
        .cert_file = config->hostlink_certificate,
        .key_file = config->hostlink_private_key,
    };
    struct hostlink_server_config sc;
    struct hostlink_server_ops sops = {
        .session_up = session_up_cb,
        .session_down = session_down_cb,
        .request = request_cb,
    };
    struct dpud_hosts *hosts = calloc(1, sizeof *hosts);
    int error;

    if (!hosts) {
        return ovnic_err_set(err, -ENOMEM, "hostlink", "out of memory", NULL);
    }
    hosts->loop = loop;
    hosts->config = config;
    hosts->binding = binding;
    hosts->ops = *ops;
    hosts->aux = aux;
    poll_timer_init(&hosts->wait_timer);
    hosts->cms_options = strdup(config->cms_options ? config->cms_options : "");
    if (!hosts->cms_options) {
        free(hosts);
        return ovnic_err_set(err, -ENOMEM, "hostlink", "out of memory", NULL);
    }
    hostlink_server_config_default(&sc);
    sc.listen = config->hostlink_listen;
    sc.tls = tls.ca_file ? &tls : NULL;
    sc.allow_plain = config->hostlink_allow_plain;
    sc.name = config->system_id;
    sc.software = DPUD_HOSTS_SOFTWARE;
    sc.lease_ms = config->hostlink_lease_ms;
    sc.keepalive_ms = config->hostlink_lease_ms / 3 < HOSTLINK_LEASE_MIN_MS
                          ? HOSTLINK_LEASE_MIN_MS
                          : config->hostlink_lease_ms / 3;
    error = hostlink_server_create(loop, &sc, &sops, hosts, &hosts->server, err);
    if (error) {
        free(hosts->cms_options);
        free(hosts);
        return error;
    }
    OLOG_INFO("serving hosts on %s (lease %u ms, ports down %u ms after a host is lost)",
              config->hostlink_listen, config->hostlink_lease_ms,
              config->hostlink_down_delay_ms);
    *hostsp = hosts;
    return 0;
}

void
dpud_hosts_destroy(struct dpud_hosts *hosts)
{
    if (!hosts) {
        return;
    }
    hostlink_server_destroy(hosts->server);
    for (size_t i = 0; i < hosts->n_pending; i++) {
        hostlink_msg_clear(&hosts->pending[i].msg);
    }
    free(hosts->pending);
    free(hosts->wanted);
    poll_timer_stop(hosts->loop, &hosts->wait_timer);
    for (size_t i = 0; i < hosts->n_hosts; i++) {
        host_destroy(hosts->hosts[i]);
    }
    free(hosts->hosts);
    free(hosts->cms_options);
    free(hosts);
}

bool
dpud_hosts_vif_ready(const struct dpud_hosts *hosts, const char *representor)
{
    for (size_t i = 0; i < hosts->n_hosts; i++) {
        const struct host *h = hosts->hosts[i];
        for (size_t j = 0; j < h->n_atts; j++) {
            if (!strcmp(h->atts[j].representor, representor)) {
                return !h->lost;
            }
        }
    }
    return true;
}

const char *
dpud_hosts_cms_options(const struct dpud_hosts *hosts)
{
    return hosts->cms_options;
}

static json_t *
refused_json(const struct hrefused *r)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "not_owned", (json_int_t)r->not_owned,
                     "mac_mismatch", (json_int_t)r->mac_mismatch, "bound_elsewhere",
                     (json_int_t)r->bound_elsewhere, "not_found",
                     (json_int_t)r->not_found, "other", (json_int_t)r->other);
}

json_t *
dpud_hosts_to_json(const struct dpud_hosts *hosts)
{
    struct hostlink_server_stats st;
    json_t *list = json_array();
    uint64_t now = time_msec();

    hostlink_server_get_stats(hosts->server, &st);
    for (size_t i = 0; list && i < hosts->n_hosts; i++) {
        const struct host *h = hosts->hosts[i];
        json_t *atts = json_array(), *pfs = json_array();

        for (size_t j = 0; atts && j < h->n_atts; j++) {
            const struct hatt *a = &h->atts[j];
            json_array_append_new(atts, json_pack("{s:s, s:s, s:i, s:s, s:s}", "iface_id",
                                                  a->iface_id, "pf_mac", a->pf_mac, "vf",
                                                  (int)a->vf, "mac", a->mac,
                                                  "representor", a->representor));
        }
        for (size_t j = 0; pfs && j < h->n_pfs; j++) {
            json_array_append_new(pfs, json_pack("{s:s, s:i, s:s}", "mac", h->pfs[j].mac,
                                                 "vf_count", (int)h->pfs[j].vf_count,
                                                 "serial", h->pfs[j].serial));
        }
        json_array_append_new(
            list,
            json_pack("{s:s, s:s, s:b, s:i, s:s?, s:I, s:s?, s:I, s:I, s:o, s:o, s:o}",
                      "identity", h->identity, "state",
                      h->session ? "up"
                      : h->lost  ? "lost"
                                 : "down",
                      "lost", h->lost, "version", (int)h->version, "remote", h->remote,
                      "for_ms",
                      (json_int_t)(h->session         ? now - h->up_since_ms
                                   : h->down_since_ms ? now - h->down_since_ms
                                                      : 0),
                      "last_down_reason", h->last_down_reason, "requests",
                      (json_int_t)h->requests, "resyncs", (json_int_t)h->resyncs, "pfs",
                      pfs ? pfs : json_array(), "attachments", atts ? atts : json_array(),
                      "refused", refused_json(&h->refused)));
    }
    return json_pack(
        "{s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
        "listen", hosts->config->hostlink_listen, "port",
        (json_int_t)hostlink_server_port(hosts->server), "card_serial_number",
        hosts->serial, "lease_ms", (json_int_t)hosts->config->hostlink_lease_ms,
        "down_delay_ms", (json_int_t)hosts->config->hostlink_down_delay_ms, "sessions",
        (json_int_t)st.sessions, "admitted", (json_int_t)st.admitted, "refused_version",
        (json_int_t)st.refused_version, "refused_hello",
        (json_int_t)(st.refused_owner + hosts->refused_hello), "expired",
        (json_int_t)st.expired, "malformed", (json_int_t)st.malformed, "rate_limited",
        (json_int_t)st.rate_limited, "refused", refused_json(&hosts->refused), "hosts",
        list ? list : json_array(), "server", hostlink_server_to_json(hosts->server));
}

json_t *
dpud_hosts_save(const struct dpud_hosts *hosts)
{
    json_t *list = json_array();

    for (size_t i = 0; list && i < hosts->n_hosts; i++) {
        const struct host *h = hosts->hosts[i];
        for (size_t j = 0; j < h->n_atts; j++) {
            const struct hatt *a = &h->atts[j];
            json_array_append_new(list,
                                  json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}", "host",
                                            h->identity, "iface_id", a->iface_id,
                                            "pf_mac", a->pf_mac, "vf", (int)a->vf, "mac",
                                            a->mac, "representor", a->representor));
        }
    }
    return list;
}

int
dpud_hosts_restore(struct dpud_hosts *hosts, const json_t *saved)
{
    size_t i;
    json_t *o;

    if (!json_is_array(saved)) {
        return -EINVAL;
    }
    json_array_foreach(saved, i, o)
    {
        const char *host = json_string_value(json_object_get(o, "host"));
        const char *iface = json_string_value(json_object_get(o, "iface_id"));
        const char *pf_mac = json_string_value(json_object_get(o, "pf_mac"));
        const char *mac = json_string_value(json_object_get(o, "mac"));
        const char *rep = json_string_value(json_object_get(o, "representor"));
        const json_t *vf = json_object_get(o, "vf");
        char lpf[18], lmac[18];
        struct host *h;
        struct hatt *v;

        if (!host || !iface || !*iface || !pf_mac || dpud_config_parse_mac(pf_mac, lpf) ||
            !mac || dpud_config_parse_mac(mac, lmac) || !rep || !json_is_integer(vf) ||
            json_integer_value(vf) < 0 ||
            json_integer_value(vf) >= HOSTLINK_MAX_VFS_PER_PF) {
            return -EINVAL;
        }
        h = host_get(hosts, host);
        v = h ? realloc(h->atts, (h->n_atts + 1) * sizeof *v) : NULL;
        if (!v) {
            return -ENOMEM;
        }
        h->atts = v;
        v[h->n_atts] = (struct hatt){.iface_id = strdup(iface),
                                     .vf = (unsigned int)json_integer_value(vf),
                                     .representor = strdup(rep)};
        snprintf(v[h->n_atts].pf_mac, sizeof v[h->n_atts].pf_mac, "%s", lpf);
        snprintf(v[h->n_atts].mac, sizeof v[h->n_atts].mac, "%s", lmac);
        if (!v[h->n_atts].iface_id || !v[h->n_atts].representor) {
            free(v[h->n_atts].iface_id);
            free(v[h->n_atts].representor);
            return -ENOMEM;
        }
        h->n_atts++;
        /* Until the host says otherwise, it is as if it had just gone away. */
        h->down_since_ms = time_msec();
        if (!poll_timer_is_armed(&h->lost_timer)) {
            poll_timer_start(hosts->loop, &h->lost_timer,
                             hosts->config->hostlink_down_delay_ms, lost_timer_cb, h);
        }
    }
    return 0;
}
