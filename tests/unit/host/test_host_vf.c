/* Unit tests of host/vf.c's attach and detach for a VM on a fake sysfs tree: the VF
 * settings go through the PF (libnl requests) before the VF is bound to vfio-pci
 * (driver_override, unbind, drivers_probe), the record keeps what detach needs, and
 * detach gives the VF back to its driver.  libnl's socket calls and
 * host_sysfs_write() are wrapped (-Wl,--wrap) to play the kernel. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "host/state.h"
#include "host/sysfs.h"
#include "host/vf.h"
#include "shared/util/util.h"
#include "tests/unit/host/fake_sysfs.h"

#define PF_IFINDEX 7

static struct {
    const char *root;
    char log[32][128]; /* Every request, in order: "nl:TYPE" or "sysfs:REL=TEXT". */
    int n_log;
    int nl_ack; /* Answer to every VF request. */
} k;

static void
log_add(const char *fmt, const char *a, const char *b)
{
    assert_true(k.n_log < (int)ARRAY_SIZE(k.log));
    snprintf(k.log[k.n_log++], sizeof k.log[0], fmt, a, b);
}

int __wrap_nl_connect(struct nl_sock *sk, int protocol);
int __wrap_nl_send_auto(struct nl_sock *sk, struct nl_msg *msg);
int __wrap_nl_wait_for_ack(struct nl_sock *sk);
int __wrap_rtnl_link_get_kernel(struct nl_sock *sk, int ifindex, const char *name,
                                struct rtnl_link **result);
int __real_host_sysfs_write(const char *path, const char *text);
int __wrap_host_sysfs_write(const char *path, const char *text);

int
__wrap_nl_connect(struct nl_sock *sk, int protocol)
{
    (void)sk;
    (void)protocol;
    return 0;
}

int
__wrap_nl_send_auto(struct nl_sock *sk, struct nl_msg *msg)
{
    struct nlattr *tb[IFLA_MAX + 1];
    struct nlattr *info, *vtb[IFLA_VF_MAX + 1];
    char type[16] = "?";
    int t;

    (void)sk;
    assert_int_equal(
        nlmsg_parse(nlmsg_hdr(msg), sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL), 0);
    if (tb[IFLA_VFINFO_LIST]) {
        info = nla_data(tb[IFLA_VFINFO_LIST]);
        assert_int_equal(nla_parse_nested(vtb, IFLA_VF_MAX, info, NULL), 0);
        for (t = 1; t <= IFLA_VF_MAX; t++) {
            if (vtb[t]) {
                snprintf(type, sizeof type, "vf%d", t);
            }
        }
    } else if (tb[IFLA_ADDRESS]) {
        snprintf(type, sizeof type, "address");
    }
    log_add("nl:%s%s", type, "");
    return 0;
}

int
__wrap_nl_wait_for_ack(struct nl_sock *sk)
{
    (void)sk;
    return !strncmp(k.log[k.n_log - 1], "nl:vf", 5) ? k.nl_ack : 0;
}

int
__wrap_rtnl_link_get_kernel(struct nl_sock *sk, int ifindex, const char *name,
                            struct rtnl_link **result)
{
    struct rtnl_link *link;

    (void)sk;
    (void)ifindex;
    if (strcmp(name, "p0") && strcmp(name, "p0v1")) {
        return -NLE_NODEV;
    }
    link = rtnl_link_alloc();
    rtnl_link_set_name(link, name);
    rtnl_link_set_ifindex(link, strcmp(name, "p0") ? 20 : PF_IFINDEX);
    *result = link;
    return 0;
}

/* The kernel's side of driver binding (as in test_host_sriov.c). */
int
__wrap_host_sysfs_write(const char *path, const char *text)
{
    const char *rel = path + strlen(k.root) + 1;
    size_t len = strlen(rel);
    char addr[16];

    log_add("sysfs:%s=%s", rel, text);
    if (len > 17 && !strcmp(rel + len - 16, "/driver_override")) {
        fake_writef(k.root, rel, "%s", strcmp(text, "\n") ? text : "(null)\n");
        return 0;
    }
    if (len > 14 && !strcmp(rel + len - 14, "/driver/unbind")) {
        char link[512];

        snprintf(addr, sizeof addr, "%.12s", rel + strlen("bus/pci/devices/"));
        snprintf(link, sizeof link, "%s/bus/pci/devices/%s/driver", k.root, addr);
        unlink(link);
        return 0;
    }
    if (!strcmp(rel, "bus/pci/drivers_probe")) {
        char rel2[256], target[128];
        const char *ov;

        snprintf(rel2, sizeof rel2, "bus/pci/devices/%s/driver_override", text);
        ov = fake_read(k.root, rel2);
        snprintf(target, sizeof target, "../../drivers/%s",
                 ov && strcmp(ov, "(null)\n") ? ov : "mlx5_core");
        snprintf(rel2, sizeof rel2, "bus/pci/devices/%s/driver", text);
        fake_symlink(k.root, rel2, target);
        return 0;
    }
    return __real_host_sysfs_write(path, text);
}

static int
setup(void **state)
{
    char *root = fake_tmpdir();

    memset(&k, 0, sizeof k);
    k.root = root;
    fake_pf(root, "0000:03:00.0", "p0", 8, 2);
    fake_writef(root, "bus/pci/drivers/vfio-pci/bind", "%s", "");
    fake_writef(root, "bus/pci/drivers/vfio-pci/unbind", "%s", "");
    *state = root;
    return 0;
}

static int
teardown(void **state)
{
    fake_rm_rf(*state);
    free(*state);
    return 0;
}

static void
request_init(struct vf_attach_request *req)
{
    memset(req, 0, sizeof *req);
    req->vf = 1;
    req->kind = HOST_ATTACH_VM;
    req->iface_id = "lsp-vm";
    req->config.has[HOST_VF_MAC] = true;
    memcpy(req->config.value.mac, (uint8_t[6]){0x02, 0x42, 0xa1, 0, 1, 0x11}, 6);
    req->config.has[HOST_VF_VLAN] = true;
    req->config.value.vlan = 42;
    req->config.has[HOST_VF_SPOOFCHK] = true;
    req->config.value.spoofchk = true;
}

static void
test_attach_detach_vm(void **state)
{
    const char *root = *state;
    char state_dir[512];
    struct host_ctx ctx = {root, state_dir};
    struct vf_attach_request req;
    struct vf_attach_result res;
    struct vf_detach_result dres;
    struct host_state st;
    struct ovnic_err err;
    char xml[512];

    _Static_assert(IFLA_VF_MAC == 1 && IFLA_VF_VLAN == 2 && IFLA_VF_SPOOFCHK == 4,
                   "the log names attributes by number");
    snprintf(state_dir, sizeof state_dir, "%s/state", root);
    request_init(&req);
    ovnic_err_clear(&err);
    assert_int_equal(vf_attach(&ctx, &req, &res, &err), 0);

    /* Settings first, through the PF, then the binding. */
    assert_int_equal(k.n_log, 6);
    assert_string_equal(k.log[0], "nl:vf1"); /* IFLA_VF_MAC */
    assert_string_equal(k.log[1], "nl:vf2"); /* IFLA_VF_VLAN */
    assert_string_equal(k.log[2], "nl:vf4"); /* IFLA_VF_SPOOFCHK */
    assert_string_equal(k.log[3],
                        "sysfs:bus/pci/devices/0000:03:00.3/driver_override=vfio-pci");
    assert_string_equal(k.log[4],
                        "sysfs:bus/pci/devices/0000:03:00.3/driver/unbind=0000:03:00.3");
    assert_string_equal(k.log[5], "sysfs:bus/pci/drivers_probe=0000:03:00.3");
    assert_int_equal(res.settings.n, 3);
    assert_string_equal(res.vf.driver, "vfio-pci");

    assert_string_equal(res.record.host_driver, "mlx5_core");
    assert_string_equal(res.record.host_ifname, "p0v1");
    assert_string_equal(res.record.mac, "02:42:a1:00:01:11");
    assert_int_equal(res.record.vlan, 42);
    host_state_init(&st);
    assert_int_equal(host_state_load(state_dir, &st, NULL), 0);
    assert_int_equal(st.n, 1);
    assert_int_equal(st.records[0].kind, HOST_ATTACH_VM);
    assert_string_equal(st.records[0].iface_id, "lsp-vm");
    host_state_clear(&st);

    assert_true(vf_libvirt_xml(res.record.vf_pci, res.record.mac, res.record.vlan, xml,
                               sizeof xml) > 0);
    assert_non_null(strstr(xml, "function='0x3'"));
    assert_non_null(strstr(xml, "<tag id='42'/>"));

    /* Twice: refused, nothing sent. */
    k.n_log = 0;
    ovnic_err_clear(&err);
    assert_int_equal(vf_attach(&ctx, &req, &res, &err), -EBUSY);
    assert_int_equal(k.n_log, 0);

    /* Detach: back to mlx5_core. */
    assert_int_equal(vf_detach(&ctx, NULL, 1, &dres, NULL), 0);
    assert_string_equal(dres.warning, "");
    assert_int_equal(dres.record.kind, HOST_ATTACH_VM);
    assert_int_equal(k.n_log, 3);
    assert_string_equal(k.log[0],
                        "sysfs:bus/pci/devices/0000:03:00.3/driver_override=\n");
    assert_string_equal(fake_read(root, "bus/pci/devices/0000:03:00.3/driver_override"),
                        "(null)\n");
    {
        char drv[16];
        char path[512];

        snprintf(path, sizeof path, "%s/bus/pci/devices/0000:03:00.3/driver", root);
        assert_int_equal(host_sysfs_link_name(path, drv, sizeof drv), 0);
        assert_string_equal(drv, "mlx5_core");
    }
    host_state_init(&st);
    assert_int_equal(host_state_load(state_dir, &st, NULL), 0);
    assert_int_equal(st.n, 0);
    host_state_clear(&st);
    assert_int_equal(vf_detach(&ctx, NULL, 1, &dres, NULL), -ENOENT);
}

static void
test_attach_vm_refused_settings(void **state)
{
    const char *root = *state;
    char state_dir[512];
    struct host_ctx ctx = {root, state_dir};
    struct vf_attach_request req;
    struct vf_attach_result res;

    /* Every VF setting refused (as on a veth): the VF is bound all the same, and
     * the MAC falls back to the VF's netdev before it goes away. */
    snprintf(state_dir, sizeof state_dir, "%s/state", root);
    request_init(&req);
    k.nl_ack = -NLE_OPNOTSUPP;
    assert_int_equal(vf_attach(&ctx, &req, &res, NULL), 0);
    assert_int_equal(res.settings.n, 3);
    assert_true(res.settings.r[0].fallback);
    assert_string_equal(res.settings.r[1].text,
                        "VF 1: vlan: operation not supported by the device");
    assert_string_equal(res.settings.r[2].text,
                        "VF 1: spoofchk: operation not supported by the device");
    assert_string_equal(k.log[1], "nl:address");
    assert_string_equal(res.vf.driver, "vfio-pci");
}

static void
test_attach_vm_without_vfio(void **state)
{
    const char *root = *state;
    char state_dir[512];
    struct host_ctx ctx = {root, state_dir};
    struct vf_attach_request req;
    struct vf_attach_result res;
    struct host_state st;
    struct ovnic_err err;
    char path[512];

    snprintf(state_dir, sizeof state_dir, "%s/state", root);
    snprintf(path, sizeof path, "%s/bus/pci/drivers/vfio-pci", root);
    fake_rm_rf(path);
    request_init(&req);
    ovnic_err_clear(&err);
    assert_int_equal(vf_attach(&ctx, &req, &res, &err), -ENODEV);
    assert_string_equal(err.object, "vfio-pci");
    /* Nothing applied, nothing written, nothing recorded. */
    assert_int_equal(k.n_log, 0);
    assert_int_equal(res.settings.n, 0);
    host_state_init(&st);
    assert_int_equal(host_state_load(state_dir, &st, NULL), 0);
    assert_int_equal(st.n, 0);

    /* A VF that does not exist, a netns attachment without a namespace. */
    req.vf = 5;
    assert_int_equal(vf_attach(&ctx, &req, &res, NULL), -ENOENT);
    req.vf = 300;
    assert_int_equal(vf_attach(&ctx, &req, &res, NULL), -ERANGE);
    req.vf = 0;
    req.kind = HOST_ATTACH_NETNS;
    assert_int_equal(vf_attach(&ctx, &req, &res, NULL), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_attach_detach_vm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attach_vm_refused_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attach_vm_without_vfio, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
