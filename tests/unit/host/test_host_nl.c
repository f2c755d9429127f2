/* Unit tests of host/nl.c and vf_configure(): the libnl request built for each VF
 * setting (MAC, VLAN, trust, spoofchk, link state, rate) and for the netdev changes
 * (address, up, namespace and name), and the result of each setting when the
 * kernel refuses it.  nl_connect(), nl_send_auto(), nl_wait_for_ack() and
 * rtnl_link_get_kernel() are wrapped (-Wl,--wrap): the requests are captured as
 * the kernel would receive them, and the answers are the test's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/nl.h"
#include "host/vf.h"
#include "shared/util/util.h"

#define PF_IFINDEX 7
#define VF_IFINDEX 12

/* ---- The kernel's side. -------------------------------------------------------- */

static struct {
    uint8_t msgs[16][1024]; /* The requests, as sent. */
    int n_msgs;
    int ack[16]; /* Answer to request N (0 or -NLE_*). */
    int send_error;
    bool vf_list; /* rtnl_link_get_kernel() of the PF reports VF 3. */
} kern;

int __wrap_nl_connect(struct nl_sock *sk, int protocol);
int __wrap_nl_send_auto(struct nl_sock *sk, struct nl_msg *msg);
int __wrap_nl_wait_for_ack(struct nl_sock *sk);
int __wrap_rtnl_link_get_kernel(struct nl_sock *sk, int ifindex, const char *name,
                                struct rtnl_link **result);

int
__wrap_nl_connect(struct nl_sock *sk, int protocol)
{
    (void)sk;
    assert_int_equal(protocol, NETLINK_ROUTE);
    return 0;
}

int
__wrap_nl_send_auto(struct nl_sock *sk, struct nl_msg *msg)
{
    struct nlmsghdr *h = nlmsg_hdr(msg);

    (void)sk;
    if (kern.send_error) {
        return kern.send_error;
    }
    assert_true(kern.n_msgs < (int)ARRAY_SIZE(kern.msgs));
    assert_true(h->nlmsg_len <= sizeof kern.msgs[0]);
    memcpy(kern.msgs[kern.n_msgs++], h, h->nlmsg_len);
    return (int)h->nlmsg_len;
}

int
__wrap_nl_wait_for_ack(struct nl_sock *sk)
{
    (void)sk;
    return kern.ack[kern.n_msgs - 1];
}

int
__wrap_rtnl_link_get_kernel(struct nl_sock *sk, int ifindex, const char *name,
                            struct rtnl_link **result)
{
    static const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x13};
    struct rtnl_link *link;
    struct nl_addr *addr;

    (void)sk;
    (void)ifindex;
    if (strcmp(name, "pf0") && strcmp(name, "pf0v3")) {
        return -NLE_NODEV;
    }
    link = rtnl_link_alloc();
    rtnl_link_set_name(link, name);
    rtnl_link_set_ifindex(link, strcmp(name, "pf0") ? VF_IFINDEX : PF_IFINDEX);
    addr = nl_addr_build(AF_LLC, mac, 6);
    rtnl_link_set_addr(link, addr);
    nl_addr_put(addr);
    rtnl_link_set_flags(link, IFF_UP);
    rtnl_link_set_operstate(link, 6 /* IF_OPER_UP */);
    if (kern.vf_list && !strcmp(name, "pf0")) {
        struct rtnl_link_vf *vf = rtnl_link_vf_alloc();
        nl_vf_vlans_t *vlans;

        rtnl_link_vf_set_index(vf, 3);
        addr = nl_addr_build(AF_LLC, mac, 6);
        rtnl_link_vf_set_addr(vf, addr);
        nl_addr_put(addr);
        rtnl_link_vf_vlan_alloc(&vlans, 1);
        vlans->vlans[0].vf_vlan = 42;
        rtnl_link_vf_set_vlans(vf, vlans);
        rtnl_link_vf_vlan_put(vlans);
        rtnl_link_vf_set_spoofchk(vf, 1);
        rtnl_link_vf_set_trust(vf, 0);
        rtnl_link_vf_set_linkstate(vf, IFLA_VF_LINK_STATE_DISABLE);
        rtnl_link_vf_add(link, vf);
        rtnl_link_vf_put(vf);
    }
    *result = link;
    return 0;
}

static int
setup(void **state)
{
    struct host_nl *nl;

    memset(&kern, 0, sizeof kern);
    assert_int_equal(host_nl_open(-1, &nl), 0);
    *state = nl;
    return 0;
}

static int
teardown(void **state)
{
    host_nl_close(*state);
    return 0;
}

/* ---- Reading a captured request. ----------------------------------------------- */

static struct nlmsghdr *
msg_get(int i)
{
    assert_true(i < kern.n_msgs);
    return (struct nlmsghdr *)(void *)kern.msgs[i];
}

static struct ifinfomsg *
msg_ifi(int i)
{
    return nlmsg_data(msg_get(i));
}

static void
msg_parse(int i, struct nlattr *tb[IFLA_MAX + 1])
{
    struct nlmsghdr *h = msg_get(i);

    assert_int_equal(h->nlmsg_type, RTM_NEWLINK);
    assert_int_equal(nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL), 0);
}

/* The one IFLA_VF_INFO of request 'i': asserts that it holds exactly the attribute
 * 'type' and returns its payload, of 'size' bytes. */
static const void *
vf_attr(int i, int type, size_t size)
{
    struct nlattr *tb[IFLA_MAX + 1];
    struct nlattr *vtb[IFLA_VF_MAX + 1];
    struct nlattr *info = NULL, *nla;
    int rem, n_info = 0, n_attrs = 0, t;

    msg_parse(i, tb);
    assert_int_equal(msg_ifi(i)->ifi_index, PF_IFINDEX);
    assert_null(tb[IFLA_IFNAME]);
    assert_null(tb[IFLA_ADDRESS]);
    assert_non_null(tb[IFLA_VFINFO_LIST]);
    nla_for_each_nested(nla, tb[IFLA_VFINFO_LIST], rem)
    {
        assert_int_equal(nla_type(nla), IFLA_VF_INFO);
        info = nla;
        n_info++;
    }
    assert_int_equal(n_info, 1);
    assert_int_equal(nla_parse_nested(vtb, IFLA_VF_MAX, info, NULL), 0);
    for (t = 1; t <= IFLA_VF_MAX; t++) {
        n_attrs += vtb[t] != NULL;
    }
    assert_int_equal(n_attrs, 1);
    assert_non_null(vtb[type]);
    assert_int_equal(nla_len(vtb[type]), size);
    return nla_data(vtb[type]);
}

/* ---- One request per setting. -------------------------------------------------- */

static void
test_vf_mac(void **state)
{
    struct host_vf_value v = {.mac = {0x02, 0x42, 0xa1, 0x00, 0x01, 0x13}};
    const struct ifla_vf_mac *m;

    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_MAC, &v), 0);
    assert_int_equal(kern.n_msgs, 1);
    m = vf_attr(0, IFLA_VF_MAC, sizeof *m);
    assert_int_equal(m->vf, 3);
    assert_memory_equal(m->mac, v.mac, 6);
}

static void
test_vf_vlan(void **state)
{
    struct host_vf_value v = {.vlan = 42, .qos = 5};
    const struct ifla_vf_vlan *p;

    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_VLAN, &v), 0);
    p = vf_attr(0, IFLA_VF_VLAN, sizeof *p);
    assert_int_equal(p->vf, 3);
    assert_int_equal(p->vlan, 42);
    assert_int_equal(p->qos, 5);

    /* VLAN 0 removes it. */
    v.vlan = 0;
    v.qos = 0;
    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 1, HOST_VF_VLAN, &v), 0);
    p = vf_attr(1, IFLA_VF_VLAN, sizeof *p);
    assert_int_equal(p->vf, 1);
    assert_int_equal(p->vlan, 0);
}

static void
test_vf_trust(void **state)
{
    struct host_vf_value v = {.trust = true, .spoofchk = false};
    const struct ifla_vf_trust *p;

    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_TRUST, &v), 0);
    p = vf_attr(0, IFLA_VF_TRUST, sizeof *p);
    assert_int_equal(p->vf, 3);
    assert_int_equal(p->setting, 1);
    v.trust = false;
    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_TRUST, &v), 0);
    assert_int_equal(
        ((const struct ifla_vf_trust *)vf_attr(1, IFLA_VF_TRUST, sizeof *p))->setting, 0);
}

static void
test_vf_spoofchk(void **state)
{
    struct host_vf_value v = {.spoofchk = true, .trust = false};
    const struct ifla_vf_spoofchk *p;

    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 0, HOST_VF_SPOOFCHK, &v), 0);
    p = vf_attr(0, IFLA_VF_SPOOFCHK, sizeof *p);
    assert_int_equal(p->vf, 0);
    assert_int_equal(p->setting, 1);
    v.spoofchk = false;
    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 0, HOST_VF_SPOOFCHK, &v), 0);
    p = vf_attr(1, IFLA_VF_SPOOFCHK, sizeof *p);
    assert_int_equal(p->setting, 0);
}

static void
test_vf_link_state(void **state)
{
    static const uint32_t states[] = {HOST_VF_LINK_AUTO, HOST_VF_LINK_ENABLE,
                                      HOST_VF_LINK_DISABLE};
    static const uint32_t kernel[] = {IFLA_VF_LINK_STATE_AUTO, IFLA_VF_LINK_STATE_ENABLE,
                                      IFLA_VF_LINK_STATE_DISABLE};
    struct host_vf_value v = {0};
    size_t i;

    for (i = 0; i < ARRAY_SIZE(states); i++) {
        const struct ifla_vf_link_state *p;

        v.link_state = states[i];
        assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 2, HOST_VF_LINK_STATE, &v),
                         0);
        p = vf_attr((int)i, IFLA_VF_LINK_STATE, sizeof *p);
        assert_int_equal(p->vf, 2);
        assert_int_equal(p->link_state, kernel[i]);
    }
    v.link_state = 3;
    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 2, HOST_VF_LINK_STATE, &v),
                     -EINVAL);
    assert_int_equal(kern.n_msgs, 3);
}

static void
test_vf_rate(void **state)
{
    struct host_vf_value v = {.max_tx_rate = 1000, .min_tx_rate = 0};
    const struct ifla_vf_rate *p;

    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_RATE, &v), 0);
    p = vf_attr(0, IFLA_VF_RATE, sizeof *p);
    assert_int_equal(p->vf, 3);
    assert_int_equal(p->max_tx_rate, 1000);
    assert_int_equal(p->min_tx_rate, 0);
    /* No limit. */
    v.max_tx_rate = 0;
    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_RATE, &v), 0);
    p = vf_attr(1, IFLA_VF_RATE, sizeof *p);
    assert_int_equal(p->max_tx_rate, 0);
}

static void
test_vf_bad_values(void **state)
{
    struct host_vf_value v = {.mac = {0x01, 0, 0, 0, 0, 1}};

    /* Refused before anything is sent. */
    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_MAC, &v), -EINVAL);
    v.vlan = 4096;
    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_VLAN, &v), -EINVAL);
    v.vlan = 1;
    v.qos = 8;
    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_VLAN, &v), -EINVAL);
    v.max_tx_rate = 10;
    v.min_tx_rate = 20;
    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_RATE, &v), -EINVAL);
    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_N_SETTINGS, &v),
                     -EINVAL);
    assert_int_equal(kern.n_msgs, 0);
}

static void
test_vf_errors(void **state)
{
    struct host_vf_value v = {.spoofchk = true};

    kern.ack[0] = -NLE_OPNOTSUPP;
    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_SPOOFCHK, &v),
                     -EOPNOTSUPP);
    kern.ack[1] = -NLE_PERM;
    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_SPOOFCHK, &v), -EPERM);
    kern.ack[2] = -NLE_INVAL;
    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_SPOOFCHK, &v),
                     -EINVAL);
    kern.send_error = -NLE_BAD_SOCK;
    assert_int_equal(host_nl_vf_set(*state, PF_IFINDEX, 3, HOST_VF_SPOOFCHK, &v),
                     -ENOTSOCK);
    assert_int_equal(kern.n_msgs, 3);
}

static void
test_errno_mapping(void **state)
{
    (void)state;
    assert_int_equal(host_nl_errno(0), 0);
    assert_int_equal(host_nl_errno(-NLE_OPNOTSUPP), -EOPNOTSUPP);
    assert_int_equal(host_nl_errno(NLE_OPNOTSUPP), -EOPNOTSUPP);
    assert_int_equal(host_nl_errno(-NLE_NODEV), -ENODEV);
    assert_int_equal(host_nl_errno(-NLE_OBJ_NOTFOUND), -ENOENT);
    assert_int_equal(host_nl_errno(-NLE_EXIST), -EEXIST);
    assert_int_equal(host_nl_errno(-NLE_BUSY), -EBUSY);
    assert_int_equal(host_nl_errno(-NLE_NOMEM), -ENOMEM);
    assert_int_equal(host_nl_errno(-NLE_RANGE), -ERANGE);
    assert_int_equal(host_nl_errno(-NLE_NOACCESS), -EACCES);
    assert_int_equal(host_nl_errno(-NLE_PARSE_ERR), -EBADMSG);
    assert_int_equal(host_nl_errno(-NLE_FAILURE), -EIO);
    assert_int_equal(host_nl_errno(-9999), -EIO);
}

/* ---- Netdev changes. ----------------------------------------------------------- */

static void
test_link_changes(void **state)
{
    static const uint8_t mac[6] = {0x02, 0x42, 0xa1, 0x00, 0x01, 0x10};
    struct nlattr *tb[IFLA_MAX + 1];

    assert_int_equal(host_nl_link_set_mac(*state, VF_IFINDEX, mac), 0);
    msg_parse(0, tb);
    assert_int_equal(msg_ifi(0)->ifi_index, VF_IFINDEX);
    assert_non_null(tb[IFLA_ADDRESS]);
    assert_int_equal(nla_len(tb[IFLA_ADDRESS]), 6);
    assert_memory_equal(nla_data(tb[IFLA_ADDRESS]), mac, 6);
    assert_null(tb[IFLA_VFINFO_LIST]);

    assert_int_equal(host_nl_link_set_up(*state, VF_IFINDEX, true), 0);
    assert_int_equal(msg_ifi(1)->ifi_flags & IFF_UP, IFF_UP);
    assert_int_equal(msg_ifi(1)->ifi_change, IFF_UP);
    assert_int_equal(host_nl_link_set_up(*state, VF_IFINDEX, false), 0);
    assert_int_equal(msg_ifi(2)->ifi_flags & IFF_UP, 0);
    assert_int_equal(msg_ifi(2)->ifi_change, IFF_UP);

    /* Into a namespace with a new name: one request with both. */
    assert_int_equal(host_nl_link_move(*state, VF_IFINDEX, 42, "eth0"), 0);
    msg_parse(3, tb);
    assert_int_equal(msg_ifi(3)->ifi_index, VF_IFINDEX);
    assert_non_null(tb[IFLA_NET_NS_FD]);
    assert_int_equal(nla_get_u32(tb[IFLA_NET_NS_FD]), 42);
    assert_non_null(tb[IFLA_IFNAME]);
    assert_string_equal(nla_get_string(tb[IFLA_IFNAME]), "eth0");

    /* Without a name, the name stays. */
    assert_int_equal(host_nl_link_move(*state, VF_IFINDEX, 43, NULL), 0);
    msg_parse(4, tb);
    assert_int_equal(nla_get_u32(tb[IFLA_NET_NS_FD]), 43);
    assert_null(tb[IFLA_IFNAME]);

    assert_int_equal(host_nl_link_rename(*state, VF_IFINDEX, "pf0v3"), 0);
    msg_parse(5, tb);
    assert_string_equal(nla_get_string(tb[IFLA_IFNAME]), "pf0v3");
    assert_null(tb[IFLA_NET_NS_FD]);

    /* Bad names are refused before anything is sent. */
    assert_int_equal(host_nl_link_move(*state, VF_IFINDEX, 42, ""), -EINVAL);
    assert_int_equal(host_nl_link_move(*state, VF_IFINDEX, 42, "a/b"), -EINVAL);
    assert_int_equal(host_nl_link_move(*state, VF_IFINDEX, 42, "0123456789abcdef"),
                     -EINVAL);
    assert_int_equal(host_nl_link_rename(*state, VF_IFINDEX, "a b"), -EINVAL);
    assert_int_equal(host_nl_link_rename(*state, VF_IFINDEX, ".."), -EINVAL);
    assert_int_equal(kern.n_msgs, 6);

    /* The name is taken in the namespace. */
    kern.ack[6] = -NLE_EXIST;
    assert_int_equal(host_nl_link_move(*state, VF_IFINDEX, 42, "eth0"), -EEXIST);
}

static void
test_link_get(void **state)
{
    struct host_nl_link link;
    struct host_nl_vf_info info;

    assert_int_equal(host_nl_link_get(*state, "pf0v3", &link), 0);
    assert_int_equal(link.ifindex, VF_IFINDEX);
    assert_string_equal(link.ifname, "pf0v3");
    assert_true(link.has_mac);
    assert_true(link.up);
    assert_string_equal(link.operstate, "up");
    assert_int_equal(host_nl_link_get(*state, "nosuch", &link), -ENODEV);
    assert_int_equal(host_nl_link_get(*state, "", &link), -ENODEV);

    /* A PF without VF ops (a veth) reports no VF. */
    assert_int_equal(host_nl_vf_info_get(*state, "pf0", 3, &info), -ENOENT);
    kern.vf_list = true;
    assert_int_equal(host_nl_vf_info_get(*state, "pf0", 3, &info), 0);
    assert_true(info.has_mac);
    assert_int_equal(info.mac[5], 0x13);
    assert_true(info.has_vlan);
    assert_int_equal(info.vlan, 42);
    assert_true(info.has_spoofchk);
    assert_true(info.spoofchk);
    assert_true(info.has_trust);
    assert_false(info.trust);
    assert_int_equal(info.link_state, HOST_VF_LINK_DISABLE);
    assert_int_equal(host_nl_vf_info_get(*state, "pf0", 2, &info), -ENOENT);
}

/* ---- vf_configure(): every setting, each refused in turn. ---------------------- */

static void
config_all(struct vf_config *c)
{
    int s;

    memset(c, 0, sizeof *c);
    for (s = 0; s < HOST_VF_N_SETTINGS; s++) {
        c->has[s] = true;
    }
    memcpy(c->value.mac, (uint8_t[6]){0x02, 0x42, 0xa1, 0x00, 0x01, 0x13}, 6);
    c->value.vlan = 10;
    c->value.trust = true;
    c->value.spoofchk = false;
    c->value.link_state = HOST_VF_LINK_ENABLE;
    c->value.max_tx_rate = 100;
}

static void
vf_fixture(struct sriov_pf *pf, struct sriov_vf *vf, const char *vf_ifname)
{
    memset(pf, 0, sizeof *pf);
    memset(vf, 0, sizeof *vf);
    snprintf(pf->pci_addr, sizeof pf->pci_addr, "0000:03:00.0");
    snprintf(pf->ifname, sizeof pf->ifname, "pf0");
    vf->vf = 3;
    snprintf(vf->pci_addr, sizeof vf->pci_addr, "0000:03:00.5");
    snprintf(vf->ifname, sizeof vf->ifname, "%s", vf_ifname);
}

static void
test_configure_all(void **state)
{
    static const int types[HOST_VF_N_SETTINGS] = {
        IFLA_VF_MAC,      IFLA_VF_VLAN,       IFLA_VF_TRUST,
        IFLA_VF_SPOOFCHK, IFLA_VF_LINK_STATE, IFLA_VF_RATE,
    };
    static const size_t sizes[HOST_VF_N_SETTINGS] = {
        sizeof(struct ifla_vf_mac),        sizeof(struct ifla_vf_vlan),
        sizeof(struct ifla_vf_trust),      sizeof(struct ifla_vf_spoofchk),
        sizeof(struct ifla_vf_link_state), sizeof(struct ifla_vf_rate),
    };
    struct vf_config_result res;
    struct vf_config c;
    struct sriov_pf pf;
    struct sriov_vf vf;
    int s;

    config_all(&c);
    vf_fixture(&pf, &vf, "pf0v3");
    assert_int_equal(vf_configure(*state, &pf, &vf, &c, &res), 0);
    assert_int_equal(res.n, HOST_VF_N_SETTINGS);
    assert_int_equal(kern.n_msgs, HOST_VF_N_SETTINGS);
    for (s = 0; s < HOST_VF_N_SETTINGS; s++) {
        assert_int_equal(res.r[s].setting, s);
        assert_int_equal(res.r[s].error, 0);
        assert_false(res.r[s].fallback);
        vf_attr(s, types[s], sizes[s]);
    }
    assert_string_equal(res.r[HOST_VF_SPOOFCHK].text, "VF 3: spoofchk: off");
    assert_string_equal(res.r[HOST_VF_VLAN].text, "VF 3: vlan: 10");
    assert_string_equal(res.r[HOST_VF_RATE].text, "VF 3: rate: 100 Mbit/s");

    /* Only what is asked for. */
    memset(&c.has, 0, sizeof c.has);
    c.has[HOST_VF_TRUST] = true;
    kern.n_msgs = 0;
    assert_int_equal(vf_configure(*state, &pf, &vf, &c, &res), 0);
    assert_int_equal(res.n, 1);
    assert_int_equal(kern.n_msgs, 1);
    vf_attr(0, IFLA_VF_TRUST, sizeof(struct ifla_vf_trust));
}

static void
test_configure_each_refused(void **state)
{
    struct vf_config_result res;
    struct vf_config c;
    struct sriov_pf pf;
    struct sriov_vf vf;
    int refused, s;

    config_all(&c);
    /* No VF netdev here: the MAC cannot fall back to it. */
    vf_fixture(&pf, &vf, "");
    for (refused = 0; refused < HOST_VF_N_SETTINGS; refused++) {
        char expected[128];

        memset(&kern, 0, sizeof kern);
        kern.ack[refused] = -NLE_OPNOTSUPP;
        assert_int_equal(vf_configure(*state, &pf, &vf, &c, &res), 1);
        /* The others are still sent and applied. */
        assert_int_equal(kern.n_msgs, HOST_VF_N_SETTINGS);
        for (s = 0; s < HOST_VF_N_SETTINGS; s++) {
            assert_int_equal(res.r[s].error, s == refused ? -EOPNOTSUPP : 0);
        }
        snprintf(expected, sizeof expected,
                 "VF 3: %s: operation not supported by the device",
                 host_vf_setting_name((enum host_vf_setting)refused));
        assert_string_equal(res.r[refused].text, expected);
    }
    /* Other refusals name the setting too. */
    memset(&kern, 0, sizeof kern);
    kern.ack[HOST_VF_TRUST] = -NLE_PERM;
    assert_int_equal(vf_configure(*state, &pf, &vf, &c, &res), 1);
    assert_string_equal(res.r[HOST_VF_TRUST].text, "VF 3: trust: not permitted");
}

static void
test_configure_mac_fallback(void **state)
{
    struct nlattr *tb[IFLA_MAX + 1];
    struct vf_config_result res;
    struct vf_config c;
    struct sriov_pf pf;
    struct sriov_vf vf;

    memset(&c, 0, sizeof c);
    c.has[HOST_VF_MAC] = true;
    memcpy(c.value.mac, (uint8_t[6]){0x02, 0x42, 0xa1, 0x00, 0x01, 0x13}, 6);
    vf_fixture(&pf, &vf, "pf0v3");
    kern.ack[0] = -NLE_OPNOTSUPP;
    assert_int_equal(vf_configure(*state, &pf, &vf, &c, &res), 0);
    assert_int_equal(res.n, 1);
    assert_int_equal(res.r[0].error, 0);
    assert_true(res.r[0].fallback);
    assert_non_null(strstr(res.r[0].text, "set on the VF netdev pf0v3"));
    /* The PF's VF request, then the VF netdev's own address. */
    assert_int_equal(kern.n_msgs, 2);
    vf_attr(0, IFLA_VF_MAC, sizeof(struct ifla_vf_mac));
    msg_parse(1, tb);
    assert_int_equal(msg_ifi(1)->ifi_index, VF_IFINDEX);
    assert_memory_equal(nla_data(tb[IFLA_ADDRESS]), c.value.mac, 6);

    /* The fallback fails too: the first error stands. */
    memset(&kern, 0, sizeof kern);
    kern.ack[0] = -NLE_OPNOTSUPP;
    kern.ack[1] = -NLE_BUSY;
    assert_int_equal(vf_configure(*state, &pf, &vf, &c, &res), 1);
    assert_int_equal(res.r[0].error, -EOPNOTSUPP);
    assert_false(res.r[0].fallback);
}

static void
test_configure_no_pf_netdev(void **state)
{
    struct vf_config_result res;
    struct vf_config c;
    struct sriov_pf pf;
    struct sriov_vf vf;

    config_all(&c);
    vf_fixture(&pf, &vf, "pf0v3");
    snprintf(pf.ifname, sizeof pf.ifname, "gone");
    assert_int_equal(vf_configure(*state, &pf, &vf, &c, &res), HOST_VF_N_SETTINGS);
    assert_int_equal(kern.n_msgs, 0);
    assert_int_equal(res.r[0].error, -ENODEV);
    assert_string_equal(res.r[HOST_VF_SPOOFCHK].text,
                        "VF 3: spoofchk: the PF netdev 'gone' is not here");
}

int
main(void)
{
#define T(F) cmocka_unit_test_setup_teardown(F, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_vf_mac),
        T(test_vf_vlan),
        T(test_vf_trust),
        T(test_vf_spoofchk),
        T(test_vf_link_state),
        T(test_vf_rate),
        T(test_vf_bad_values),
        T(test_vf_errors),
        cmocka_unit_test(test_errno_mapping),
        T(test_link_changes),
        T(test_link_get),
        T(test_configure_all),
        T(test_configure_each_refused),
        T(test_configure_mac_fallback),
        T(test_configure_no_pf_netdev),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
