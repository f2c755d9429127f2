/* ovnic-hostd: VF provisioning (see vf.h). */
#include "host/vf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/netns.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(host_vf);

/* The error of a VF setting in words. */
static const char *
setting_strerror(int error)
{
    switch (error) {
    case -EOPNOTSUPP:
        return "operation not supported by the device";
    case -EPERM:
        return "not permitted";
    case -EINVAL:
        return "invalid value for the device";
    case -ENODEV:
        return "no such device";
    default:
        return strerror(-error);
    }
}

static void
setting_value_format(enum host_vf_setting s, const struct host_vf_value *v, char *buf,
                     size_t size)
{
    char mac[SRIOV_MAC_LEN];

    switch (s) {
    case HOST_VF_MAC:
        util_mac_format(v->mac, mac);
        snprintf(buf, size, "%s", mac);
        break;
    case HOST_VF_VLAN:
        snprintf(buf, size, "%u", v->vlan);
        break;
    case HOST_VF_TRUST:
        snprintf(buf, size, "%s", v->trust ? "on" : "off");
        break;
    case HOST_VF_SPOOFCHK:
        snprintf(buf, size, "%s", v->spoofchk ? "on" : "off");
        break;
    case HOST_VF_LINK_STATE:
        snprintf(buf, size, "%s", host_vf_link_state_name(v->link_state));
        break;
    case HOST_VF_RATE:
        snprintf(buf, size, "%u Mbit/s", v->max_tx_rate);
        break;
    case HOST_VF_N_SETTINGS:
    default:
        snprintf(buf, size, "?");
        break;
    }
}

int
vf_configure(struct host_nl *nl, const struct sriov_pf *pf, const struct sriov_vf *vf,
             const struct vf_config *config, struct vf_config_result *res)
{
    struct host_nl_link pf_link;
    int pf_error;
    int failed = 0;
    int s;

    memset(res, 0, sizeof *res);
    pf_error = pf->ifname[0] ? host_nl_link_get(nl, pf->ifname, &pf_link) : -ENODEV;
    for (s = 0; s < HOST_VF_N_SETTINGS; s++) {
        struct vf_setting_result *r;
        char value[48];
        int error;

        if (!config->has[s]) {
            continue;
        }
        r = &res->r[res->n++];
        r->setting = (enum host_vf_setting)s;
        setting_value_format(r->setting, &config->value, value, sizeof value);
        if (pf_error) {
            r->error = pf_error;
            snprintf(r->text, sizeof r->text, "VF %u: %s: the PF netdev '%s' is not here",
                     vf->vf, host_vf_setting_name(r->setting), pf->ifname);
            failed++;
            continue;
        }
        error = host_nl_vf_set(nl, pf_link.ifindex, vf->vf, r->setting, &config->value);
        if (error == -EOPNOTSUPP && r->setting == HOST_VF_MAC && vf->ifname[0]) {
            struct host_nl_link vf_link;

            if (!host_nl_link_get(nl, vf->ifname, &vf_link) &&
                !host_nl_link_set_mac(nl, vf_link.ifindex, config->value.mac)) {
                r->fallback = true;
                snprintf(r->text, sizeof r->text,
                         "VF %u: mac: %s set on the VF netdev %s (the device has no VF "
                         "MAC operation)",
                         vf->vf, value, vf->ifname);
                OLOG_INFO("%s", r->text);
                continue;
            }
        }
        r->error = error;
        if (error) {
            snprintf(r->text, sizeof r->text, "VF %u: %s: %s", vf->vf,
                     host_vf_setting_name(r->setting), setting_strerror(error));
            OLOG_INFO("%s (%s %s on PF %s)", r->text, host_vf_setting_name(r->setting),
                      value, pf->ifname);
            failed++;
        } else {
            snprintf(r->text, sizeof r->text, "VF %u: %s: %s", vf->vf,
                     host_vf_setting_name(r->setting), value);
        }
    }
    return failed;
}

int
vf_libvirt_xml(const char *vf_pci, const char *mac, int vlan, char *buf, size_t size)
{
    unsigned int domain, bus, slot, fn;
    char mac_line[64] = "";
    char vlan_lines[96] = "";
    int n;

    if (!sriov_pci_addr_is_valid(vf_pci) ||
        sscanf(vf_pci, "%4x:%2x:%2x.%1x", &domain, &bus, &slot, &fn) != 4) {
        return -EINVAL;
    }
    if (mac && mac[0]) {
        snprintf(mac_line, sizeof mac_line, "  <mac address='%s'/>\n", mac);
    }
    if (vlan > 0) {
        snprintf(vlan_lines, sizeof vlan_lines,
                 "  <vlan>\n"
                 "    <tag id='%d'/>\n"
                 "  </vlan>\n",
                 vlan);
    }
    n = snprintf(buf, size,
                 "<interface type='hostdev' managed='no'>\n"
                 "%s"
                 "  <source>\n"
                 "    <address type='pci' domain='0x%04x' bus='0x%02x' slot='0x%02x' "
                 "function='0x%x'/>\n"
                 "  </source>\n"
                 "%s"
                 "</interface>\n",
                 mac_line, domain, bus, slot, fn, vlan_lines);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
}

/* ---- Under the state lock. ----------------------------------------------------- */

struct locked {
    int lock_fd;
    struct host_state st;
};

static int
locked_open(const struct host_ctx *ctx, struct locked *l, struct ovnic_err *err)
{
    int error;

    host_state_init(&l->st);
    error = host_state_lock(ctx->state_dir, &l->lock_fd, err);
    if (error) {
        return error;
    }
    error = host_state_load(ctx->state_dir, &l->st, err);
    if (error) {
        host_state_unlock(l->lock_fd);
    }
    return error;
}

static void
locked_close(struct locked *l)
{
    host_state_clear(&l->st);
    host_state_unlock(l->lock_fd);
}

int
vf_numvfs_set(const struct host_ctx *ctx, const char *pf_name, unsigned int numvfs,
              bool force, struct sriov_pf *out, struct ovnic_err *err)
{
    struct sriov_pf pf;
    struct locked l;
    size_t attached = 0, i;
    int error;

    error = locked_open(ctx, &l, err);
    if (error) {
        return error;
    }
    error = sriov_pf_find(ctx->sysfs_root, pf_name, &pf, err);
    if (error) {
        goto out;
    }
    for (i = 0; i < l.st.n; i++) {
        attached += !strcmp(l.st.records[i].pf, pf.pci_addr);
    }
    if (attached && numvfs != pf.num_vfs) {
        if (!force) {
            error = ovnic_err_set(err, -EBUSY, "sriov_numvfs",
                                  "VFs of this PF are attached: detach them first",
                                  "%zu attached on %s (--force drops their records)",
                                  attached, pf.pci_addr);
            goto out;
        }
        for (i = l.st.n; i-- > 0;) {
            if (!strcmp(l.st.records[i].pf, pf.pci_addr)) {
                host_state_remove(&l.st, pf.pci_addr, l.st.records[i].vf);
            }
        }
        error = host_state_save(ctx->state_dir, &l.st, err);
        if (error) {
            goto out;
        }
    }
    error = sriov_numvfs_set(ctx->sysfs_root, &pf, numvfs, err);
    if (!error && out) {
        *out = pf;
    }

out:
    locked_close(&l);
    return error;
}

static int
attach_netns(const struct host_ctx *ctx, struct host_nl *nl,
             const struct vf_attach_request *req, struct vf_attach_result *res,
             struct ovnic_err *err)
{
    struct host_nl_link link, other;
    struct host_nl *ns_nl = NULL;
    const char *name;
    int ns_fd = -1;
    int error;

    if (req->ifname && !host_nl_ifname_is_valid(req->ifname)) {
        return ovnic_err_set(err, -EINVAL, "ifname", "not a netdev name",
                             "'%.32s': 1 to 15 bytes, no '/', ':' or space", req->ifname);
    }
    if (!res->vf.ifname[0]) {
        return ovnic_err_set(err, -ENODEV, "VF", "the VF has no netdev",
                             "VF %u (%s), driver '%s'", res->vf.vf, res->vf.pci_addr,
                             res->vf.driver);
    }
    error = host_nl_link_get(nl, res->vf.ifname, &link);
    if (error) {
        return ovnic_err_set(err, error, "VF", "the VF's netdev is not in this namespace",
                             "VF %u: %s", res->vf.vf, res->vf.ifname);
    }
    error = netns_open(req->netns, &ns_fd, err);
    if (error) {
        return error;
    }
    if (netns_is_self(ns_fd)) {
        close(ns_fd);
        return ovnic_err_set(err, -EINVAL, "netns", "is the host's own namespace", "%s",
                             req->netns);
    }
    error = host_nl_open(ns_fd, &ns_nl);
    if (error) {
        close(ns_fd);
        return ovnic_err_set(err, error, "netns",
                             "cannot open rtnetlink in the namespace", "%s", req->netns);
    }
    /* The kernel moves a netdev before it renames it, and leaves it moved when the
     * name is taken there: so look first. */
    name = req->ifname ? req->ifname : res->vf.ifname;
    if (!host_nl_link_get(ns_nl, name, &other)) {
        error = ovnic_err_set(err, -EEXIST, "netns", "the name is taken in the namespace",
                              "%s already has %s", req->netns, name);
        goto out;
    }
    vf_configure(nl, &res->pf, &res->vf, &req->config, &res->settings);

    error = host_nl_link_move(nl, link.ifindex, ns_fd, name);
    if (error) {
        int self_fd = -1;

        ovnic_err_set(err, error, "netns",
                      error == -EEXIST ? "the name is taken in the namespace"
                                       : "cannot move the VF's netdev",
                      "%s as %s into %s", res->vf.ifname, name, req->netns);
        /* Moved but not renamed: bring it back. */
        if (!host_nl_link_get(ns_nl, res->vf.ifname, &other) &&
            other.ifindex == link.ifindex && !netns_open_self(&self_fd)) {
            host_nl_link_move(ns_nl, other.ifindex, self_fd, NULL);
            close(self_fd);
        }
        goto out;
    }
    res->record.kind = HOST_ATTACH_NETNS;
    snprintf(res->record.netns, sizeof res->record.netns, "%s", req->netns);
    snprintf(res->record.ifname, sizeof res->record.ifname, "%s", name);
    snprintf(res->record.host_ifname, sizeof res->record.host_ifname, "%s",
             res->vf.ifname);
    snprintf(res->record.host_driver, sizeof res->record.host_driver, "%s",
             res->vf.driver);

out:
    host_nl_close(ns_nl);
    close(ns_fd);
    return error;
}

/* Moves an attached netdev back (the undo of attach_netns()). */
static int
netns_return(const struct host_attachment *a, char *warning, size_t wsize,
             struct ovnic_err *err)
{
    struct host_nl *nl, *host_nl;
    struct host_nl_link link;
    int self_fd = -1;
    int ns_fd = -1;
    int error;

    error = netns_open(a->netns, &ns_fd, NULL);
    if (error == -ENOENT) {
        snprintf(warning, wsize,
                 "namespace %s no longer exists: its netdevs went back to the host or "
                 "were destroyed with it",
                 a->netns);
        return 0;
    }
    if (error) {
        return ovnic_err_set(err, error, "netns", "cannot open the namespace", "%s",
                             a->netns);
    }
    error = host_nl_open(ns_fd, &nl);
    close(ns_fd);
    if (error) {
        return ovnic_err_set(err, error, "netns",
                             "cannot open rtnetlink in the namespace", "%s", a->netns);
    }
    error = host_nl_link_get(nl, a->ifname, &link);
    if (error) {
        ovnic_err_set(err, error, "netns", "the VF's netdev is not in the namespace",
                      "no %s in %s (renamed or moved from there?)", a->ifname, a->netns);
        goto out;
    }
    /* As in attach_netns(): a taken name would leave it moved under its other
     * name. */
    if (a->host_ifname[0] && !host_nl_open(-1, &host_nl)) {
        struct host_nl_link other;

        error = host_nl_link_get(host_nl, a->host_ifname, &other) ? 0 : -EEXIST;
        host_nl_close(host_nl);
        if (error) {
            ovnic_err_set(err, error, "netns", "the host name of the netdev is taken",
                          "%s exists in the host", a->host_ifname);
            goto out;
        }
    }
    error = netns_open_self(&self_fd);
    if (!error) {
        error = host_nl_link_move(nl, link.ifindex, self_fd,
                                  a->host_ifname[0] ? a->host_ifname : NULL);
        close(self_fd);
    }
    if (error) {
        ovnic_err_set(err, error, "netns",
                      error == -EEXIST ? "the host name of the netdev is taken"
                                       : "cannot move the netdev back",
                      "%s of %s as %s", a->ifname, a->netns, a->host_ifname);
    }

out:
    host_nl_close(nl);
    return error;
}

int
vf_attach(const struct host_ctx *ctx, const struct vf_attach_request *req,
          struct vf_attach_result *res, struct ovnic_err *err)
{
    const struct host_attachment *old;
    struct host_nl *nl = NULL;
    struct locked l;
    int error;

    memset(res, 0, sizeof *res);
    if (req->vf >= SRIOV_MAX_VFS) {
        return ovnic_err_set(err, -ERANGE, "VF", "VF number out of range", "%u >= %d",
                             req->vf, SRIOV_MAX_VFS);
    }
    if (req->iface_id && strlen(req->iface_id) >= HOST_STATE_IFACE_ID_LEN) {
        return ovnic_err_set(err, -ERANGE, "iface-id", "too long", "more than %d bytes",
                             HOST_STATE_IFACE_ID_LEN - 1);
    }
    if (req->kind == HOST_ATTACH_NETNS &&
        (!req->netns || strlen(req->netns) >= HOST_STATE_NETNS_LEN)) {
        return ovnic_err_set(err, -EINVAL, "netns", "a namespace is needed", NULL);
    }
    error = locked_open(ctx, &l, err);
    if (error) {
        return error;
    }
    error = sriov_pf_find(ctx->sysfs_root, req->pf, &res->pf, err);
    if (!error) {
        error = sriov_vf_get(ctx->sysfs_root, &res->pf, req->vf, &res->vf, err);
    }
    if (error) {
        goto out;
    }
    old = host_state_find(&l.st, res->pf.pci_addr, req->vf);
    if (old) {
        error = ovnic_err_set(err, -EBUSY, "VF", "already attached: detach it first",
                              "VF %u of %s is attached to %s%s%s", req->vf,
                              res->pf.pci_addr, host_attach_kind_name(old->kind),
                              old->kind == HOST_ATTACH_NETNS ? " " : "", old->netns);
        goto out;
    }
    error = host_nl_open(-1, &nl);
    if (error) {
        ovnic_err_set(err, error, "rtnetlink", "cannot open a socket", NULL);
        goto out;
    }

    res->record.vf = req->vf;
    res->record.vlan = req->config.has[HOST_VF_VLAN] ? req->config.value.vlan : -1;
    snprintf(res->record.pf, sizeof res->record.pf, "%s", res->pf.pci_addr);
    snprintf(res->record.vf_pci, sizeof res->record.vf_pci, "%s", res->vf.pci_addr);
    snprintf(res->record.iface_id, sizeof res->record.iface_id, "%s",
             req->iface_id ? req->iface_id : "");
    if (req->config.has[HOST_VF_MAC]) {
        util_mac_format(req->config.value.mac, res->record.mac);
    }
    res->record.since_ms = time_wall_msec();

    if (req->kind == HOST_ATTACH_NETNS) {
        error = attach_netns(ctx, nl, req, res, err);
    } else {
        res->record.kind = HOST_ATTACH_VM;
        snprintf(res->record.host_driver, sizeof res->record.host_driver, "%s",
                 res->vf.driver);
        snprintf(res->record.host_ifname, sizeof res->record.host_ifname, "%s",
                 res->vf.ifname);
        /* Settings go through the PF, before the VF's netdev disappears; and only
         * once the VF can be bound. */
        error = sriov_vf_bind_check(ctx->sysfs_root, &res->vf, HOST_VM_DRIVER, err);
        if (error) {
            goto out;
        }
        vf_configure(nl, &res->pf, &res->vf, &req->config, &res->settings);
        error = sriov_vf_bind(ctx->sysfs_root, &res->vf, HOST_VM_DRIVER, err);
    }
    if (error) {
        goto out;
    }
    error = host_state_put(&l.st, &res->record);
    if (!error) {
        error = host_state_save(ctx->state_dir, &l.st, err);
    }
    if (error) {
        /* Unrecorded, the attachment could not be detached: undo it. */
        char warning[512];

        ovnic_err_set(err, error, "attachments", "cannot record the attachment", NULL);
        if (req->kind == HOST_ATTACH_NETNS) {
            netns_return(&res->record, warning, sizeof warning, NULL);
        } else {
            sriov_vf_bind(ctx->sysfs_root, &res->vf, NULL, NULL);
        }
        goto out;
    }
    OLOG_INFO("VF %u of %s attached to %s %s (iface-id '%s')", req->vf, res->pf.pci_addr,
              host_attach_kind_name(res->record.kind), res->record.netns,
              res->record.iface_id);

out:
    host_nl_close(nl);
    locked_close(&l);
    return error;
}

int
vf_detach(const struct host_ctx *ctx, const char *pf_name, unsigned int vf,
          struct vf_detach_result *res, struct ovnic_err *err)
{
    const struct host_attachment *a;
    struct sriov_pf pf;
    struct sriov_vf v;
    struct locked l;
    int error;

    memset(res, 0, sizeof *res);
    error = locked_open(ctx, &l, err);
    if (error) {
        return error;
    }
    error = sriov_pf_find(ctx->sysfs_root, pf_name, &pf, err);
    if (error) {
        goto out;
    }
    a = host_state_find(&l.st, pf.pci_addr, vf);
    if (!a) {
        error = ovnic_err_set(err, -ENOENT, "VF", "not attached", "VF %u of %s", vf,
                              pf.pci_addr);
        goto out;
    }
    res->record = *a;
    if (a->kind == HOST_ATTACH_NETNS) {
        error = netns_return(a, res->warning, sizeof res->warning, err);
    } else if (!sriov_vf_get(ctx->sysfs_root, &pf, vf, &v, NULL)) {
        error = sriov_vf_bind(ctx->sysfs_root, &v, NULL, err);
    } else {
        snprintf(res->warning, sizeof res->warning,
                 "VF %u of %s no longer exists: nothing to give back to its driver", vf,
                 pf.pci_addr);
    }
    if (error) {
        goto out;
    }
    host_state_remove(&l.st, pf.pci_addr, vf);
    error = host_state_save(ctx->state_dir, &l.st, err);
    if (!error) {
        OLOG_INFO("VF %u of %s detached from %s %s", vf, pf.pci_addr,
                  host_attach_kind_name(res->record.kind), res->record.netns);
    }

out:
    locked_close(&l);
    return error;
}
