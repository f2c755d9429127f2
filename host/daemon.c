/* ovnic-hostd: the daemon (see daemon.h). */
#include "host/daemon.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/inventory.h"
#include "host/state.h"
#include "shared/proto/hostlink.h"
#include "shared/proto/hostlink_client.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/rpc_server.h"
#include "shared/util/tls.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(hostd);

#define HOSTD_SOFTWARE "ovnic-hostd 0.1.0"
#define HOSTD_CTL_MAX_MSG ((size_t)1 << 20)

static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 20);

struct dpu {
    struct hostd *hd;
    const struct hostd_dpu_config *cfg;
    struct hostlink_client *client;
    uint64_t plugged, unplugged, refused; /* plug-results received. */
};

/* A control request waiting for a DPU's answer. */
struct waiter {
    struct hostd *hd;
    struct waiter *next;
    struct dpu *dpu;
    uint64_t conn;
    json_t *id;
    json_t *result; /* The local outcome, answered with the DPU's. */
    bool undo;      /* On refusal, detach locally (an attach). */
    char pf[SRIOV_PCI_ADDR_LEN];
    unsigned int vf;
};

struct hostd {
    struct poll_loop *loop;
    const struct hostd_config *config;
    struct tls_config tls;
    struct rpc_server *ctl;
    struct dpu dpus[HOSTD_MAX_DPUS];
    size_t n_dpus;
    struct waiter *waiters;
    bool done;
};

/* ---- PFs and their DPUs. ---- */

static void
lower(char *s)
{
    for (; *s; s++) {
        *s = (char)tolower((unsigned char)*s);
    }
}

/* The DPU of PF 'pf', or NULL. */
static struct dpu *
pf_dpu(struct hostd *hd, const struct sriov_pf *pf)
{
    const struct hostd_config *c = hd->config;
    char mac[SRIOV_MAC_LEN];

    snprintf(mac, sizeof mac, "%s", pf->mac);
    lower(mac);
    for (size_t i = 0; i < c->n_pf_map; i++) {
        char key[64];

        snprintf(key, sizeof key, "%s", c->pf_map[i].pf);
        lower(key);
        if (!strcmp(key, pf->pci_addr) || !strcmp(key, mac)) {
            for (size_t j = 0; j < hd->n_dpus; j++) {
                if (!strcmp(hd->dpus[j].cfg->name, c->pf_map[i].dpu)) {
                    return &hd->dpus[j];
                }
            }
            return NULL;
        }
    }
    return hd->n_dpus == 1 && !c->n_pf_map ? &hd->dpus[0] : NULL;
}

/* Copies 's' into 'dst' if every byte is a letter, a digit or one of 'extra' and it
 * fits; else leaves 'dst' empty.  Returns whether it was copied. */
static bool
copy_checked(char *dst, size_t size, const char *s, const char *extra)
{
    size_t n = strlen(s);

    dst[0] = '\0';
    if (n >= size) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i])) {
            return false;
        }
    }
    memcpy(dst, s, n + 1);
    return true;
}

/* A VF's MAC for the DPU: unicast or all zero. */
static void
mac_or_zero(const char *s, struct hostlink_mac *mac)
{
    memset(mac, 0, sizeof *mac);
    if (!s[0] || hostlink_mac_parse(s, mac) || hostlink_mac_is_multicast(mac)) {
        memset(mac, 0, sizeof *mac);
    }
}

static int
pf_fill(const struct inv_pf *p, struct hostlink_pf *out)
{
    int error;

    if (hostlink_pci_parse(p->pf.pci_addr, &out->pci) ||
        hostlink_mac_parse(p->pf.mac, &out->mac) || hostlink_mac_is_zero(&out->mac) ||
        hostlink_mac_is_multicast(&out->mac)) {
        return -EINVAL;
    }
    copy_checked(out->netdev, sizeof out->netdev, p->pf.ifname, "_.-@+");
    copy_checked(out->serial, sizeof out->serial, p->pf.serial, "_.-");
    error = hostlink_pf_alloc_vfs(out, p->n_vfs);
    if (error) {
        return error;
    }
    for (size_t i = 0; i < p->n_vfs; i++) {
        const struct inv_vf *v = &p->vfs[i];
        struct hostlink_vf *o = &out->vfs[i];

        o->num = (uint16_t)v->vf.vf;
        if (hostlink_pci_parse(v->vf.pci_addr, &o->pci)) {
            return -EINVAL;
        }
        copy_checked(o->netdev, sizeof o->netdev, v->netdev, "_.-@+");
        mac_or_zero(v->mac, &o->mac);
        o->link = !strcmp(v->link, "up")     ? HOSTLINK_LINK_UP
                  : !strcmp(v->link, "down") ? HOSTLINK_LINK_DOWN
                                             : HOSTLINK_LINK_UNKNOWN;
        copy_checked(o->driver, sizeof o->driver, v->vf.driver, "_.-");
        if (v->attached) {
            o->attached_to = v->att.kind == HOST_ATTACH_VM ? HOSTLINK_ATTACH_VM
                                                           : HOSTLINK_ATTACH_NETNS;
            if (!copy_checked(o->attached_name, sizeof o->attached_name,
                              v->att.kind == HOST_ATTACH_VM ? "vm" : v->att.netns,
                              "._-:@+")) {
                /* A path or pid: its last component names it well enough. */
                const char *slash = strrchr(v->att.netns, '/');
                if (!copy_checked(o->attached_name, sizeof o->attached_name,
                                  slash ? slash + 1 : v->att.netns, "._-:@+")) {
                    snprintf(o->attached_name, sizeof o->attached_name, "netns");
                }
            }
            copy_checked(o->iface_id, sizeof o->iface_id, v->att.iface_id, "-_.:@/+=");
        }
    }
    return 0;
}

/* The state of 'dpu': its PFs and the attachments with an iface-id on them. */
static int
dpu_state(struct dpu *dpu, struct hostlink_resync *rs, struct ovnic_err *err)
{
    struct host_inventory inv = {0};
    size_t n_pfs = 0, n_atts = 0;
    int error;

    error = host_inventory_get(&dpu->hd->config->ctx, &inv, err);
    if (error) {
        return error;
    }
    for (size_t i = 0; i < inv.n_pfs; i++) {
        if (pf_dpu(dpu->hd, &inv.pfs[i].pf) == dpu) {
            n_pfs++;
            for (size_t j = 0; j < inv.pfs[i].n_vfs; j++) {
                n_atts += inv.pfs[i].vfs[j].attached;
            }
        }
    }
    error = hostlink_inventory_alloc(&rs->inventory, n_pfs);
    if (!error) {
        error = hostlink_resync_alloc_attachments(rs, n_atts);
    }
    n_pfs = n_atts = 0;
    for (size_t i = 0; !error && i < inv.n_pfs; i++) {
        const struct inv_pf *p = &inv.pfs[i];
        struct hostlink_pf *o;

        if (pf_dpu(dpu->hd, &p->pf) != dpu) {
            continue;
        }
        o = &rs->inventory.pfs[n_pfs++];
        error = pf_fill(p, o);
        if (error) {
            ovnic_err_set(err, error, p->pf.pci_addr, "PF not reportable", NULL);
            break;
        }
        for (size_t j = 0; j < p->n_vfs; j++) {
            const struct inv_vf *v = &p->vfs[j];
            struct hostlink_attach *a;
            bool dup = false;

            if (!v->attached || !v->att.iface_id[0]) {
                continue;
            }
            for (size_t k = 0; k < n_atts; k++) {
                dup |= !strcmp(rs->attachments[k].iface_id, v->att.iface_id);
            }
            a = &rs->attachments[n_atts];
            memset(a, 0, sizeof *a);
            a->pf_mac = o->mac;
            a->vf_num = (uint16_t)v->vf.vf;
            mac_or_zero(v->att.mac[0] ? v->att.mac : v->mac, &a->mac);
            if (dup || hostlink_mac_is_zero(&a->mac) ||
                !copy_checked(a->iface_id, sizeof a->iface_id, v->att.iface_id,
                              "-_.:@/+=")) {
                OLOG_WARN_RL(&rl,
                             "VF %u of %s (iface-id %s): not reported to DPU %s "
                             "(%s)",
                             v->vf.vf, p->pf.pci_addr, v->att.iface_id, dpu->cfg->name,
                             dup ? "iface-id on two VFs" : "no MAC or a bad iface-id");
                continue;
            }
            n_atts++;
        }
    }
    rs->n_attachments = n_atts;
    host_inventory_clear(&inv);
    return error;
}

/* ---- Sessions. ---- */

static int
get_state_cb(void *aux, struct hostlink_resync *state)
{
    struct dpu *dpu = aux;
    struct ovnic_err err = {0};
    char buf[256];
    int error = dpu_state(dpu, state, &err);

    if (error) {
        OLOG_WARN_RL(&rl, "DPU %s: cannot build the resync: %s", dpu->cfg->name,
                     ovnic_err_is_set(&err) ? ovnic_err_format(&err, buf, sizeof buf)
                                            : strerror(-error));
    }
    return error;
}

static void
state_changed_cb(void *aux, enum hostlink_client_state state, int status,
                 const char *message)
{
    struct dpu *dpu = aux;

    if (state == HOSTLINK_CLIENT_UP) {
        if (status) {
            OLOG_WARN("DPU %s: session up; the resync was refused in part: %s: %s",
                      dpu->cfg->name, hostlink_error_name(status), message);
        } else {
            OLOG_INFO("DPU %s: session up, state resynced", dpu->cfg->name);
        }
    } else if (state == HOSTLINK_CLIENT_BACKOFF && status) {
        OLOG_INFO_RL(&rl, "DPU %s: session down: %s%s%s", dpu->cfg->name,
                     status > 0 ? hostlink_error_name(status) : strerror(-status),
                     message && *message ? ": " : "", message ? message : "");
    }
}

static void
notify_cb(void *aux, const struct hostlink_msg *msg)
{
    struct dpu *dpu = aux;

    if (msg->method == HOSTLINK_PLUG_RESULT) {
        const struct hostlink_plug_result *r = &msg->u.plug_result;
        if (r->state == HOSTLINK_PLUGGED) {
            dpu->plugged++;
        } else if (r->state == HOSTLINK_UNPLUGGED) {
            dpu->unplugged++;
        } else {
            dpu->refused++;
        }
        OLOG_INFO("DPU %s: %s VF %u: %s", dpu->cfg->name, r->iface_id, r->vf_num,
                  r->state == HOSTLINK_PLUGGED     ? "plugged"
                  : r->state == HOSTLINK_UNPLUGGED ? "unplugged"
                                                   : r->message);
    }
}

/* ---- Control socket. ---- */

static void
waiter_free(struct waiter *w)
{
    struct waiter **p;

    for (p = &w->hd->waiters; *p && *p != w; p = &(*p)->next) {
        continue;
    }
    if (*p) {
        *p = w->next;
    }
    json_decref(w->id);
    json_decref(w->result);
    free(w);
}

static void
reply_cb(void *aux, uint64_t id OVNIC_UNUSED, int status, const char *message)
{
    struct waiter *w = aux;
    struct hostd *hd = w->hd;

    if (status > 0) {
        char text[512];

        if (w->undo) {
            struct vf_detach_result res;
            struct ovnic_err err = {0};

            if (vf_detach(&hd->config->ctx, w->pf, w->vf, &res, &err)) {
                OLOG_WARN("cannot undo the attachment of VF %u of %s", w->vf, w->pf);
            }
        }
        snprintf(text, sizeof text, "DPU %s refused: %s: %s%s", w->dpu->cfg->name,
                 hostlink_error_name(status), message ? message : "",
                 w->undo ? " (the VF is detached again)" : "");
        rpc_server_reply_error(hd->ctl, w->conn, w->id, -EPERM, text);
    } else {
        json_object_set_new(w->result, "dpu", json_string(w->dpu->cfg->name));
        json_object_set_new(
            w->result, "dpu_status",
            json_string(status ? "session lost: sent at the next resync" : "accepted"));
        rpc_server_reply(hd->ctl, w->conn, w->id, w->result); /* Takes it. */
        w->result = NULL;
    }
    waiter_free(w);
}

/* Sends 'msg' to 'dpu' and answers control request 'id' of 'conn' with 'result'
 * (taken) once the DPU has answered, or now if its session is down. */
static void
dpu_request(struct hostd *hd, struct dpu *dpu, const struct hostlink_msg *msg,
            uint64_t conn, const json_t *id, json_t *result, bool undo, const char *pf,
            unsigned int vf)
{
    struct ovnic_err err = {0};
    struct waiter *w = calloc(1, sizeof *w);
    int error;

    if (!w) {
        json_decref(result);
        rpc_server_reply_error(hd->ctl, conn, id, -ENOMEM, "out of memory");
        return;
    }
    *w = (struct waiter){.hd = hd,
                         .dpu = dpu,
                         .conn = conn,
                         .id = json_deep_copy(id),
                         .result = result,
                         .undo = undo,
                         .vf = vf};
    snprintf(w->pf, sizeof w->pf, "%s", pf);
    w->next = hd->waiters;
    hd->waiters = w;
    error = hostlink_client_request(dpu->client, msg, reply_cb, w, NULL, &err);
    if (error) {
        /* Not connected: the next resync carries it. */
        json_object_set_new(result, "dpu", json_string(dpu->cfg->name));
        json_object_set_new(result, "dpu_status",
                            json_string(error == -ENOTCONN
                                            ? "not connected: sent at the next resync"
                                            : "not sent"));
        rpc_server_reply(hd->ctl, conn, id, result);
        w->result = NULL;
        waiter_free(w);
    }
}

static struct dpu *
dpu_of_pci(struct hostd *hd, const char *pf_pci, struct sriov_pf *pf)
{
    struct sriov_pf *pfs = NULL;
    size_t n = 0;
    struct dpu *dpu = NULL;

    if (!sriov_pf_list(hd->config->ctx.sysfs_root, &pfs, &n, NULL)) {
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(pfs[i].pci_addr, pf_pci)) {
                dpu = pf_dpu(hd, &pfs[i]);
                *pf = pfs[i];
            }
        }
    }
    free(pfs);
    return dpu;
}

/* Sends 'dpu' the inventory of its PFs, answered by nobody (the attach-request that
 * follows is). */
static void
dpu_send_inventory(struct dpu *dpu)
{
    struct hostlink_msg msg = {.method = HOSTLINK_RESYNC};
    struct ovnic_err err = {0};
    struct hostlink_msg inv = {.method = HOSTLINK_INVENTORY};

    if (dpu_state(dpu, &msg.u.resync, &err)) {
        hostlink_msg_clear(&msg);
        return;
    }
    inv.u.inventory = msg.u.resync.inventory;
    msg.u.resync.inventory = (struct hostlink_inventory){0};
    hostlink_client_request(dpu->client, &inv, NULL, NULL, NULL, &err);
    hostlink_msg_clear(&inv);
    hostlink_msg_clear(&msg);
}

static void
ctl_attach(struct hostd *hd, uint64_t conn, const json_t *id, const json_t *args)
{
    struct vf_attach_request req;
    struct vf_attach_result res;
    struct ovnic_err err = {0};
    char text[512];
    int error;

    error = hostd_attach_request_from_json(args, &req, &err);
    if (error) {
        rpc_server_reply_error(hd->ctl, conn, id, error,
                               ovnic_err_format(&err, text, sizeof text));
        return;
    }
    /* The same iface-id on another VF: a re-plug, so the old VF goes first. */
    if (req.iface_id) {
        struct host_state st;
        host_state_init(&st);
        if (!host_state_load(hd->config->ctx.state_dir, &st, NULL)) {
            for (size_t i = 0; i < st.n; i++) {
                const struct host_attachment *a = &st.records[i];
                struct vf_detach_result dres;
                if (!strcmp(a->iface_id, req.iface_id)) {
                    OLOG_INFO("%s moves from VF %u of %s", req.iface_id, a->vf, a->pf);
                    vf_detach(&hd->config->ctx, a->pf, a->vf, &dres, NULL);
                }
            }
        }
        host_state_clear(&st);
    }
    memset(&res, 0, sizeof res);
    error = vf_attach(&hd->config->ctx, &req, &res, &err);
    if (error) {
        rpc_server_reply_error(hd->ctl, conn, id, error,
                               ovnic_err_format(&err, text, sizeof text));
        return;
    }
    json_t *settings = json_array();
    for (size_t i = 0; settings && i < res.settings.n; i++) {
        const struct vf_setting_result *r = &res.settings.r[i];
        json_array_append_new(settings, json_pack("{s:s, s:b, s:s}", "setting",
                                                  host_vf_setting_name(r->setting), "ok",
                                                  !r->error, "message", r->text));
    }
    json_t *result = json_pack(
        "{s:s, s:i, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:o}", "pf", res.pf.pci_addr, "vf",
        (int)req.vf, "vf_pci", res.vf.pci_addr, "kind", host_attach_kind_name(req.kind),
        "netns", res.record.netns[0] ? res.record.netns : NULL, "netdev",
        res.record.ifname[0] ? res.record.ifname : NULL, "iface_id", req.iface_id, "mac",
        res.record.mac[0] ? res.record.mac : NULL, "settings",
        settings ? settings : json_array());
    struct sriov_pf pf;
    struct dpu *dpu = dpu_of_pci(hd, res.pf.pci_addr, &pf);
    if (!result) {
        rpc_server_reply_error(hd->ctl, conn, id, -ENOMEM, "out of memory");
        return;
    }
    if (!req.iface_id || !dpu) {
        json_object_set_new(result, "dpu",
                            dpu ? json_string(dpu->cfg->name) : json_null());
        json_object_set_new(result, "dpu_status",
                            json_string(dpu ? "no iface-id: nothing to plug"
                                            : "the PF belongs to no DPU"));
        rpc_server_reply(hd->ctl, conn, id, result);
        return;
    }

    struct hostlink_msg msg = {.method = HOSTLINK_ATTACH_REQUEST};
    struct hostlink_attach *a = &msg.u.attach;
    if (hostlink_mac_parse(pf.mac, &a->pf_mac) ||
        !copy_checked(a->iface_id, sizeof a->iface_id, req.iface_id, "-_.:@/+=")) {
        json_decref(result);
        vf_detach(&hd->config->ctx, res.pf.pci_addr, req.vf,
                  &(struct vf_detach_result){0}, NULL);
        rpc_server_reply_error(hd->ctl, conn, id, -EINVAL,
                               "the PF MAC or the iface-id cannot be sent to the DPU");
        return;
    }
    a->vf_num = (uint16_t)req.vf;
    mac_or_zero(res.record.mac[0] ? res.record.mac : res.vf.mac, &a->mac);
    if (hostlink_mac_is_zero(&a->mac)) {
        json_decref(result);
        vf_detach(&hd->config->ctx, res.pf.pci_addr, req.vf,
                  &(struct vf_detach_result){0}, NULL);
        rpc_server_reply_error(hd->ctl, conn, id, -EINVAL,
                               "the VF has no MAC to report: give --mac");
        return;
    }
    dpu_send_inventory(dpu);
    dpu_request(hd, dpu, &msg, conn, id, result, true, res.pf.pci_addr, req.vf);
}

static void
ctl_detach(struct hostd *hd, uint64_t conn, const json_t *id, const json_t *args)
{
    const char *pf = json_string_value(json_object_get(args, "pf"));
    const json_t *vf = json_object_get(args, "vf");
    struct vf_detach_result res;
    struct ovnic_err err = {0};
    char text[512];
    int error;

    if (!json_is_integer(vf) || json_integer_value(vf) < 0 ||
        json_integer_value(vf) >= SRIOV_MAX_VFS ||
        (json_object_get(args, "pf") && !json_is_null(json_object_get(args, "pf")) &&
         !pf)) {
        rpc_server_reply_error(hd->ctl, conn, id, -EINVAL,
                               "detach needs \"vf\" (0 to 255) and an optional \"pf\"");
        return;
    }
    error =
        vf_detach(&hd->config->ctx, pf, (unsigned int)json_integer_value(vf), &res, &err);
    if (error) {
        rpc_server_reply_error(hd->ctl, conn, id, error,
                               ovnic_err_format(&err, text, sizeof text));
        return;
    }
    json_t *result =
        json_pack("{s:s, s:i, s:s, s:s, s:s?, s:s?, s:s?, s:s?}", "pf", res.record.pf,
                  "vf", (int)res.record.vf, "vf_pci", res.record.vf_pci, "kind",
                  host_attach_kind_name(res.record.kind), "netns",
                  res.record.netns[0] ? res.record.netns : NULL, "netdev",
                  res.record.host_ifname[0] ? res.record.host_ifname : NULL, "iface_id",
                  res.record.iface_id[0] ? res.record.iface_id : NULL, "warning",
                  res.warning[0] ? res.warning : NULL);
    struct sriov_pf p;
    struct dpu *dpu = dpu_of_pci(hd, res.record.pf, &p);
    struct hostlink_msg msg = {.method = HOSTLINK_DETACH_REQUEST};

    if (!result) {
        rpc_server_reply_error(hd->ctl, conn, id, -ENOMEM, "out of memory");
        return;
    }
    if (!dpu || !res.record.iface_id[0] ||
        !copy_checked(msg.u.detach.iface_id, sizeof msg.u.detach.iface_id,
                      res.record.iface_id, "-_.:@/+=")) {
        json_object_set_new(result, "dpu",
                            dpu ? json_string(dpu->cfg->name) : json_null());
        rpc_server_reply(hd->ctl, conn, id, result);
        return;
    }
    dpu_request(hd, dpu, &msg, conn, id, result, false, res.record.pf, res.record.vf);
}

static json_t *
status_json(const struct hostd *hd)
{
    json_t *dpus = json_array();
    struct sriov_pf *pfs = NULL;
    size_t n = 0;

    sriov_pf_list(hd->config->ctx.sysfs_root, &pfs, &n, NULL);
    for (size_t i = 0; dpus && i < hd->n_dpus; i++) {
        const struct dpu *dpu = &hd->dpus[i];
        json_t *pf_list = json_array();
        json_t *session = hostlink_client_to_json(dpu->client);

        for (size_t j = 0; pf_list && j < n; j++) {
            if (pf_dpu((struct hostd *)hd, &pfs[j]) == dpu) {
                json_array_append_new(
                    pf_list,
                    json_pack("{s:s, s:s}", "pci", pfs[j].pci_addr, "mac", pfs[j].mac));
            }
        }
        json_array_append_new(
            dpus,
            json_pack("{s:s, s:s, s:o, s:o, s:I, s:I, s:I}", "name", dpu->cfg->name,
                      "remote", dpu->cfg->remote, "pfs", pf_list ? pf_list : json_array(),
                      "session", session ? session : json_null(), "plugged",
                      (json_int_t)dpu->plugged, "unplugged", (json_int_t)dpu->unplugged,
                      "refused", (json_int_t)dpu->refused));
    }
    free(pfs);
    return json_pack("{s:s, s:s, s:s, s:o}", "name", hd->config->name, "sysfs_root",
                     hd->config->ctx.sysfs_root, "state_dir", hd->config->ctx.state_dir,
                     "dpus", dpus ? dpus : json_array());
}

static void
ctl_request_cb(void *aux, uint64_t conn, const struct rpc_server_request *req)
{
    struct hostd *hd = aux;
    const json_t *args = json_array_get(req->params, 0);

    if (json_array_size(req->params) > 1 || (args && !json_is_object(args))) {
        rpc_server_reply_error(hd->ctl, conn, req->id, -EINVAL,
                               "params must be [] or [{arguments}]");
        return;
    }
    if (!strcmp(req->method, "status")) {
        json_t *s = status_json(hd);
        if (s) {
            rpc_server_reply(hd->ctl, conn, req->id, s);
        } else {
            rpc_server_reply_error(hd->ctl, conn, req->id, -ENOMEM, "out of memory");
        }
    } else if (!strcmp(req->method, "attach")) {
        ctl_attach(hd, conn, req->id, args);
    } else if (!strcmp(req->method, "detach")) {
        ctl_detach(hd, conn, req->id, args);
    } else if (!strcmp(req->method, "exit")) {
        OLOG_INFO("exiting on request");
        rpc_server_reply(hd->ctl, conn, req->id, json_object());
        hd->done = true;
    } else {
        rpc_server_reply_error(hd->ctl, conn, req->id, -ENOSYS, "unknown method");
    }
}

/* ---- The attach request on the control socket. ---- */

json_t *
hostd_attach_request_to_json(const struct vf_attach_request *req)
{
    const struct host_vf_value *v = &req->config.value;
    json_t *s = json_object();
    json_t *o = json_pack("{s:s?, s:i, s:s, s:s?, s:s?, s:s?}", "pf", req->pf, "vf",
                          (int)req->vf, "kind", host_attach_kind_name(req->kind), "netns",
                          req->netns, "ifname", req->ifname, "iface_id", req->iface_id);

    if (!o || !s) {
        json_decref(o);
        json_decref(s);
        return NULL;
    }
    if (req->config.has[HOST_VF_MAC]) {
        char mac[SRIOV_MAC_LEN];
        util_mac_format(v->mac, mac);
        json_object_set_new(s, "mac", json_string(mac));
    }
    if (req->config.has[HOST_VF_VLAN]) {
        json_object_set_new(s, "vlan", json_integer(v->vlan));
    }
    if (req->config.has[HOST_VF_TRUST]) {
        json_object_set_new(s, "trust", json_boolean(v->trust));
    }
    if (req->config.has[HOST_VF_SPOOFCHK]) {
        json_object_set_new(s, "spoofchk", json_boolean(v->spoofchk));
    }
    if (req->config.has[HOST_VF_LINK_STATE]) {
        json_object_set_new(s, "link_state", json_integer(v->link_state));
    }
    if (req->config.has[HOST_VF_RATE]) {
        json_object_set_new(s, "rate", json_integer(v->max_tx_rate));
    }
    json_object_set_new(o, "settings", s);
    return o;
}

static bool
opt_string(const json_t *o, const char *key, size_t max, const char **out)
{
    const json_t *v = json_object_get(o, key);

    *out = NULL;
    if (!v || json_is_null(v)) {
        return true;
    }
    if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) >= max) {
        return false;
    }
    for (const char *p = json_string_value(v); *p; p++) {
        if (!isprint((unsigned char)*p)) {
            return false;
        }
    }
    *out = json_string_value(v);
    return true;
}

static bool
opt_int(const json_t *s, const char *key, long long min, long long max, bool *has,
        long long *out)
{
    const json_t *v = json_object_get(s, key);

    *has = v != NULL;
    if (!v) {
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min ||
        json_integer_value(v) > max) {
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

int
hostd_attach_request_from_json(const json_t *o, struct vf_attach_request *req,
                               struct ovnic_err *err)
{
    static const char *const known[] = {"pf",     "vf",       "kind",    "netns",
                                        "ifname", "iface_id", "settings"};
    const json_t *vf = json_object_get(o, "vf");
    const char *kind = json_string_value(json_object_get(o, "kind"));
    const json_t *s = json_object_get(o, "settings");
    const char *key;
    const json_t *value;
    struct vf_attach_request r;
    long long n;
    bool has;

    memset(&r, 0, sizeof r);
    if (!json_is_object(o)) {
        return ovnic_err_set(err, -EINVAL, "attach", "arguments must be an object", NULL);
    }
    json_object_foreach((json_t *)o, key, value)
    {
        bool ok = false;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
            ok |= !strcmp(known[i], key);
        }
        if (!ok) {
            return ovnic_err_set(err, -EINVAL, "attach", "unknown argument", "%s", key);
        }
    }
    if (!json_is_integer(vf) || json_integer_value(vf) < 0 ||
        json_integer_value(vf) >= SRIOV_MAX_VFS) {
        return ovnic_err_set(err, -EINVAL, "attach", "\"vf\" must be 0 to 255", NULL);
    }
    r.vf = (unsigned int)json_integer_value(vf);
    if (!kind || (strcmp(kind, "netns") && strcmp(kind, "vm"))) {
        return ovnic_err_set(err, -EINVAL, "attach", "\"kind\" must be netns or vm",
                             NULL);
    }
    r.kind = !strcmp(kind, "vm") ? HOST_ATTACH_VM : HOST_ATTACH_NETNS;
    if (!opt_string(o, "pf", SRIOV_PCI_ADDR_LEN + SRIOV_IFNAME_LEN, &r.pf) ||
        !opt_string(o, "netns", HOST_STATE_NETNS_LEN, &r.netns) ||
        !opt_string(o, "ifname", SRIOV_IFNAME_LEN, &r.ifname) ||
        !opt_string(o, "iface_id", HOST_STATE_IFACE_ID_LEN, &r.iface_id)) {
        return ovnic_err_set(err, -EINVAL, "attach",
                             "\"pf\", \"netns\", \"ifname\" and \"iface_id\" must be "
                             "printable strings of their lengths",
                             NULL);
    }
    if ((r.kind == HOST_ATTACH_NETNS) != !!r.netns ||
        (r.ifname && r.kind == HOST_ATTACH_VM)) {
        return ovnic_err_set(err, -EINVAL, "attach",
                             "\"netns\" (and \"ifname\") go with kind netns only", NULL);
    }
    if (r.ifname && !host_nl_ifname_is_valid(r.ifname)) {
        return ovnic_err_set(err, -EINVAL, "attach", "bad \"ifname\"", "%s", r.ifname);
    }
    if (s && !json_is_object(s)) {
        return ovnic_err_set(err, -EINVAL, "attach", "\"settings\" must be an object",
                             NULL);
    }
    if (s) {
        struct host_vf_value *v = &r.config.value;
        const json_t *mac = json_object_get(s, "mac");
        const json_t *b;

        if (mac) {
            if (!json_is_string(mac) || util_mac_parse(json_string_value(mac), v->mac) ||
                (v->mac[0] & 1)) {
                return ovnic_err_set(err, -EINVAL, "attach", "bad settings.mac", NULL);
            }
            r.config.has[HOST_VF_MAC] = true;
        }
        if (!opt_int(s, "vlan", 0, 4094, &has, &n)) {
            return ovnic_err_set(err, -EINVAL, "attach", "bad settings.vlan", NULL);
        }
        r.config.has[HOST_VF_VLAN] = has;
        v->vlan = has ? (uint16_t)n : 0;
        if (!opt_int(s, "link_state", 0, 2, &has, &n)) {
            return ovnic_err_set(err, -EINVAL, "attach", "bad settings.link_state", NULL);
        }
        r.config.has[HOST_VF_LINK_STATE] = has;
        v->link_state = has ? (uint32_t)n : 0;
        if (!opt_int(s, "rate", 0, UINT32_MAX, &has, &n)) {
            return ovnic_err_set(err, -EINVAL, "attach", "bad settings.rate", NULL);
        }
        r.config.has[HOST_VF_RATE] = has;
        v->max_tx_rate = has ? (uint32_t)n : 0;
        if ((b = json_object_get(s, "trust"))) {
            if (!json_is_boolean(b)) {
                return ovnic_err_set(err, -EINVAL, "attach", "bad settings.trust", NULL);
            }
            r.config.has[HOST_VF_TRUST] = true;
            v->trust = json_is_true(b);
        }
        if ((b = json_object_get(s, "spoofchk"))) {
            if (!json_is_boolean(b)) {
                return ovnic_err_set(err, -EINVAL, "attach", "bad settings.spoofchk",
                                     NULL);
            }
            r.config.has[HOST_VF_SPOOFCHK] = true;
            v->spoofchk = json_is_true(b);
        }
    }
    *req = r;
    return 0;
}

/* ---- Life cycle. ---- */

int
hostd_create(struct poll_loop *loop, const struct hostd_config *config,
             struct hostd **hdp, struct ovnic_err *err)
{
    struct hostd *hd;
    struct rpc_server_settings settings;
    struct sriov_pf *pfs = NULL;
    char *ctl = NULL, *name = NULL;
    size_t n = 0;
    int error;

    if (!config->n_dpus || config->n_dpus > HOSTD_MAX_DPUS) {
        return ovnic_err_set(err, -EINVAL, "run", "give 1 to 8 --dpu NAME=REMOTE", NULL);
    }
    hd = calloc(1, sizeof *hd);
    if (!hd) {
        return ovnic_err_set(err, -ENOMEM, "run", "out of memory", NULL);
    }
    hd->loop = loop;
    hd->config = config;
    hd->tls = (struct tls_config){.ca_file = config->ca_cert,
                                  .cert_file = config->certificate,
                                  .key_file = config->private_key};
    hd->n_dpus = config->n_dpus;
    for (size_t i = 0; i < config->n_dpus; i++) {
        hd->dpus[i].hd = hd;
        hd->dpus[i].cfg = &config->dpus[i];
    }

    /* Every mapping names a DPU, and every PF belongs to one. */
    for (size_t i = 0; i < config->n_pf_map; i++) {
        bool found = false;
        for (size_t j = 0; j < config->n_dpus; j++) {
            found |= !strcmp(config->dpus[j].name, config->pf_map[i].dpu);
        }
        if (!found) {
            error = ovnic_err_set(err, -EINVAL, "--pf", "names no --dpu", "%s",
                                  config->pf_map[i].dpu);
            goto err;
        }
    }
    error = sriov_pf_list(config->ctx.sysfs_root, &pfs, &n, err);
    if (error) {
        goto err;
    }
    for (size_t i = 0; i < n; i++) {
        if (!pf_dpu(hd, &pfs[i])) {
            OLOG_WARN("PF %s (%s) belongs to no DPU: it is not reported", pfs[i].pci_addr,
                      pfs[i].mac);
        }
    }
    free(pfs);

    if (config->ctl_path) {
        ctl = strdup(config->ctl_path);
    } else if (asprintf(&ctl, "%s/%s", config->ctx.state_dir, HOSTD_CTL_NAME) < 0) {
        ctl = NULL;
    }
    if (!ctl || asprintf(&name, "punix:%s", ctl) < 0) {
        error = ovnic_err_set(err, -ENOMEM, "run", "out of memory", NULL);
        goto err;
    }
    {
        int lock;
        /* Creates the state directory if needed. */
        error = host_state_lock(config->ctx.state_dir, &lock, err);
        if (error) {
            goto err;
        }
        host_state_unlock(lock);
    }
    unlink(ctl);
    rpc_server_settings_default(&settings);
    settings.name = "control socket";
    settings.max_msg = HOSTD_CTL_MAX_MSG;
    error =
        rpc_server_create(loop, name, NULL, &settings, ctl_request_cb, hd, &hd->ctl, err);
    if (error) {
        goto err;
    }

    for (size_t i = 0; i < hd->n_dpus; i++) {
        struct hostlink_client_config cc = {
            .remote = config->dpus[i].remote,
            .tls = config->ca_cert ? &hd->tls : NULL,
            .allow_plain = config->allow_plain,
            .name = config->name,
            .software = HOSTD_SOFTWARE,
            .keepalive_ms = config->keepalive_ms,
        };
        struct hostlink_client_ops ops = {
            .get_state = get_state_cb,
            .state_changed = state_changed_cb,
            .notify = notify_cb,
        };

        error = hostlink_client_create(loop, &cc, &ops, &hd->dpus[i], &hd->dpus[i].client,
                                       err);
        if (error) {
            goto err;
        }
        OLOG_INFO("DPU %s: connecting to %s", config->dpus[i].name,
                  config->dpus[i].remote);
    }
    free(ctl);
    free(name);
    *hdp = hd;
    return 0;

err:
    free(ctl);
    free(name);
    hostd_destroy(hd);
    return error;
}

void
hostd_destroy(struct hostd *hd)
{
    if (!hd) {
        return;
    }
    for (size_t i = 0; i < hd->n_dpus; i++) {
        hostlink_client_destroy(hd->dpus[i].client);
    }
    while (hd->waiters) {
        waiter_free(hd->waiters);
    }
    rpc_server_destroy(hd->ctl);
    free(hd);
}

bool
hostd_is_done(const struct hostd *hd)
{
    return hd->done && rpc_server_is_flushed(hd->ctl);
}
