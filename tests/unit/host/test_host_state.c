/* Unit tests of host/state.c (the record of attachments: parsing as outside input,
 * atomic saves, the lock) and of the small helpers of host/vf.c (MAC text, the
 * libvirt element, the VF count refused while a VF is attached). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "host/state.h"
#include "host/vf.h"
#include "shared/util/util.h"
#include "tests/unit/host/fake_sysfs.h"

static int
setup(void **state)
{
    *state = fake_tmpdir();
    return 0;
}

static int
teardown(void **state)
{
    fake_rm_rf(*state);
    free(*state);
    return 0;
}

static struct host_attachment
record(const char *pf, unsigned int vf, enum host_attach_kind kind)
{
    struct host_attachment a;

    memset(&a, 0, sizeof a);
    snprintf(a.pf, sizeof a.pf, "%s", pf);
    a.vf = vf;
    snprintf(a.vf_pci, sizeof a.vf_pci, "0000:03:00.%u", (2 + vf) & 7);
    a.kind = kind;
    if (kind == HOST_ATTACH_NETNS) {
        snprintf(a.netns, sizeof a.netns, "vm%u", vf);
        snprintf(a.ifname, sizeof a.ifname, "eth0");
    } else {
        snprintf(a.host_driver, sizeof a.host_driver, "mlx5_core");
    }
    snprintf(a.host_ifname, sizeof a.host_ifname, "pf0v%u", vf);
    snprintf(a.iface_id, sizeof a.iface_id, "lsp-%u", vf);
    snprintf(a.mac, sizeof a.mac, "02:42:a1:00:01:%02x", (0x10 + vf) & 0xff);
    a.vlan = kind == HOST_ATTACH_VM ? 100 : -1;
    a.since_ms = 1700000000000ULL + vf;
    return a;
}

static void
test_roundtrip(void **state)
{
    const char *dir = *state;
    struct host_state st, back;
    struct host_attachment a;
    struct ovnic_err err;
    char sub[512];

    host_state_init(&st);
    host_state_init(&back);
    /* A missing directory is an empty state. */
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    assert_int_equal(host_state_load(sub, &back, NULL), 0);
    assert_int_equal(back.n, 0);

    a = record("0000:81:00.0", 1, HOST_ATTACH_VM);
    assert_int_equal(host_state_put(&st, &a), 0);
    a = record("0000:03:00.0", 2, HOST_ATTACH_NETNS);
    assert_int_equal(host_state_put(&st, &a), 0);
    a = record("0000:03:00.0", 0, HOST_ATTACH_NETNS);
    assert_int_equal(host_state_put(&st, &a), 0);
    /* Replaces. */
    snprintf(a.iface_id, sizeof a.iface_id, "replaced");
    assert_int_equal(host_state_put(&st, &a), 0);
    assert_int_equal(st.n, 3);
    /* Kept in PF, VF order. */
    assert_string_equal(st.records[0].pf, "0000:03:00.0");
    assert_int_equal(st.records[0].vf, 0);
    assert_int_equal(st.records[1].vf, 2);
    assert_string_equal(st.records[2].pf, "0000:81:00.0");

    ovnic_err_clear(&err);
    assert_int_equal(host_state_save(sub, &st, &err), 0);
    assert_null(fake_read(sub, "." HOST_STATE_FILE ".tmp"));
    assert_int_equal(host_state_load(sub, &back, &err), 0);
    assert_int_equal(back.n, 3);
    assert_memory_equal(&back.records[0], &st.records[0], sizeof st.records[0]);
    assert_memory_equal(&back.records[2], &st.records[2], sizeof st.records[2]);
    assert_string_equal(host_state_find(&back, "0000:03:00.0", 0)->iface_id, "replaced");
    assert_null(host_state_find(&back, "0000:03:00.0", 1));

    assert_true(host_state_remove(&back, "0000:03:00.0", 0));
    assert_false(host_state_remove(&back, "0000:03:00.0", 0));
    assert_int_equal(back.n, 2);
    assert_string_equal(back.records[0].pf, "0000:03:00.0");
    assert_int_equal(back.records[0].vf, 2);
    host_state_clear(&st);
    host_state_clear(&back);
}

static void
parse_fails(const char *text, int error, const char *in_detail)
{
    struct host_state st;
    struct ovnic_err err;

    host_state_init(&st);
    ovnic_err_clear(&err);
    assert_int_equal(host_state_parse(text, strlen(text), &st, &err), error);
    assert_int_equal(st.n, 0);
    assert_null(st.records);
    if (in_detail) {
        char msg[512];

        ovnic_err_format(&err, msg, sizeof msg);
        if (!strstr(msg, in_detail)) {
            fail_msg("'%s' does not mention '%s'", msg, in_detail);
        }
    }
}

#define REC(EXTRA)                                                              \
    "{\"version\": 1, \"attachments\": [{\"pf\": \"0000:03:00.0\", \"vf\": 0, " \
    "\"vf_pci\": \"0000:03:00.2\", \"kind\": \"netns\", \"netns\": \"vm1\", "   \
    "\"ifname\": \"eth0\"" EXTRA "}]}"

static void
test_parse_bad(void **state)
{
    struct host_state st;

    (void)state;
    host_state_init(&st);
    assert_int_equal(host_state_parse(REC(""), strlen(REC("")), &st, NULL), 0);
    assert_int_equal(st.n, 1);
    assert_int_equal(st.records[0].vlan, -1);
    host_state_clear(&st);

    parse_fails("", -EINVAL, NULL);
    parse_fails("[]", -EINVAL, "not a JSON object");
    parse_fails("{\"version\": 2, \"attachments\": []}", -ERANGE, "version");
    parse_fails("{\"version\": 1}", -EINVAL, "attachments");
    parse_fails("{\"version\": 1, \"attachments\": [3]}", -EINVAL, "record 0");
    parse_fails(REC(", \"kind\": \"vm\""), -EINVAL, NULL); /* Duplicate member. */
    parse_fails(
        "{\"version\": 1, \"attachments\": [{\"pf\": \"0000:03:00.0\", \"vf\": 0, "
        "\"vf_pci\": \"0000:03:00.2\", \"kind\": \"box\"}]}",
        -EINVAL, "kind");
    parse_fails(
        "{\"version\": 1, \"attachments\": [{\"pf\": \"0000:03:00.0\", \"vf\": 0, "
        "\"vf_pci\": \"0000:03:00.2\", \"kind\": \"netns\"}]}",
        -EINVAL, "needs 'netns' and 'ifname'");
    parse_fails("{\"version\": 1, \"attachments\": [{\"pf\": \"03:00.0\", \"vf\": 0, "
                "\"vf_pci\": \"0000:03:00.2\", \"kind\": \"vm\"}]}",
                -EINVAL, "'pf'");
    parse_fails(
        "{\"version\": 1, \"attachments\": [{\"pf\": \"0000:03:00.0\", \"vf\": 256, "
        "\"vf_pci\": \"0000:03:00.2\", \"kind\": \"vm\"}]}",
        -ERANGE, "vf");
    parse_fails(REC(", \"vlan\": 4096"), -ERANGE, "vlan");
    parse_fails(REC(", \"mac\": \"02:42:a1:00:01\""), -EINVAL, "'mac'");
    parse_fails(REC(", \"host_ifname\": \"a/b\""), -EINVAL, "host_ifname");
    parse_fails(REC(", \"host_ifname\": \"0123456789abcdef\""), -ERANGE, "too long");
    parse_fails(REC(", \"iface_id\": \"a\\u0001b\""), -EINVAL, "iface_id");
    parse_fails(REC(", \"since_ms\": -1"), -ERANGE, "since_ms");
    parse_fails(
        "{\"version\": 1, \"attachments\": [{\"pf\": \"0000:03:00.0\", \"vf\": 0, "
        "\"vf_pci\": \"0000:03:00.2\", \"kind\": \"vm\"}, {\"pf\": "
        "\"0000:03:00.0\", \"vf\": 0, \"vf_pci\": \"0000:03:00.2\", \"kind\": "
        "\"vm\"}]}",
        -EINVAL, "duplicate");
}

static void
test_parse_limits(void **state)
{
    struct host_state st;
    size_t big = HOST_STATE_MAX_BYTES + 1;
    char *text = malloc(big + 1);

    (void)state;
    memset(text, ' ', big);
    text[big] = '\0';
    parse_fails(text, -EFBIG, "too large");
    free(text);

    /* put() stops at HOST_STATE_MAX_RECORDS. */
    host_state_init(&st);
    for (unsigned int i = 0; i < HOST_STATE_MAX_RECORDS; i++) {
        struct host_attachment a = record(i & 1 ? "0000:03:00.0" : "0000:04:00.0",
                                          i / 2 % SRIOV_MAX_VFS, HOST_ATTACH_VM);

        snprintf(a.pf, sizeof a.pf, "0000:%02x:%02x.0", i / (2 * SRIOV_MAX_VFS), i & 1);
        assert_int_equal(host_state_put(&st, &a), 0);
    }
    {
        struct host_attachment a = record("0000:ff:00.0", 0, HOST_ATTACH_VM);

        assert_int_equal(host_state_put(&st, &a), -EFBIG);
    }
    host_state_clear(&st);
}

static void
test_load_errors(void **state)
{
    const char *dir = *state;
    struct host_state st;
    struct ovnic_err err;
    char msg[512];

    host_state_init(&st);
    fake_writef(dir, HOST_STATE_FILE, "{\"version\": 1, \"attachments\": [");
    ovnic_err_clear(&err);
    assert_int_equal(host_state_load(dir, &st, &err), -EINVAL);
    ovnic_err_format(&err, msg, sizeof msg);
    assert_non_null(strstr(msg, HOST_STATE_FILE));

    /* Saving where a file stands in the way of the directory. */
    {
        char path[512];

        snprintf(path, sizeof path, "%s/" HOST_STATE_FILE "/sub", dir);
        ovnic_err_clear(&err);
        assert_true(host_state_save(path, &st, &err) < 0);
        assert_true(ovnic_err_is_set(&err));
    }
}

static void
test_lock(void **state)
{
    int fd = -1, fd2 = -1;
    char sub[512];

    snprintf(sub, sizeof sub, "%s/locks", (const char *)*state);
    assert_int_equal(host_state_lock(sub, &fd, NULL), 0);
    assert_true(fd >= 0);
    host_state_unlock(fd);
    assert_int_equal(host_state_lock(sub, &fd2, NULL), 0);
    host_state_unlock(fd2);
    host_state_unlock(-1);
}

/* ---- vf.c helpers. ------------------------------------------------------------- */

static void
test_mac(void **state)
{
    uint8_t mac[6];
    char buf[SRIOV_MAC_LEN];

    (void)state;
    assert_int_equal(util_mac_parse("02:42:A1:00:01:ff", mac), 0);
    util_mac_format(mac, buf);
    assert_string_equal(buf, "02:42:a1:00:01:ff");
    assert_int_equal(util_mac_parse("02:42:a1:00:01", mac), -EINVAL);
    assert_int_equal(util_mac_parse("02:42:a1:00:01:ff:", mac), -EINVAL);
    assert_int_equal(util_mac_parse("02-42-a1-00-01-ff", mac), -EINVAL);
    assert_int_equal(util_mac_parse("2:42:a1:00:01:ff0", mac), -EINVAL);
    assert_int_equal(util_mac_parse(" 2:42:a1:00:01:ff", mac), -EINVAL);
    assert_int_equal(util_mac_parse("", mac), -EINVAL);
}

static void
test_libvirt_xml(void **state)
{
    char buf[512];

    (void)state;
    assert_true(vf_libvirt_xml("0000:03:00.5", "02:42:a1:00:01:13", 42, buf, sizeof buf) >
                0);
    assert_string_equal(buf, "<interface type='hostdev' managed='no'>\n"
                             "  <mac address='02:42:a1:00:01:13'/>\n"
                             "  <source>\n"
                             "    <address type='pci' domain='0x0000' bus='0x03' "
                             "slot='0x00' function='0x5'/>\n"
                             "  </source>\n"
                             "  <vlan>\n"
                             "    <tag id='42'/>\n"
                             "  </vlan>\n"
                             "</interface>\n");
    assert_true(vf_libvirt_xml("abcd:81:1f.7", "", -1, buf, sizeof buf) > 0);
    assert_string_equal(buf, "<interface type='hostdev' managed='no'>\n"
                             "  <source>\n"
                             "    <address type='pci' domain='0xabcd' bus='0x81' "
                             "slot='0x1f' function='0x7'/>\n"
                             "  </source>\n"
                             "</interface>\n");
    assert_int_equal(vf_libvirt_xml("0000:03:00.5", "", 0, buf, 40), -ENAMETOOLONG);
    assert_int_equal(vf_libvirt_xml("03:00.5", "", 0, buf, sizeof buf), -EINVAL);
}

static void
test_numvfs_while_attached(void **state)
{
    const char *root = *state;
    struct host_ctx ctx;
    struct host_state st;
    struct host_attachment a = record("0000:03:00.0", 1, HOST_ATTACH_NETNS);
    struct sriov_pf pf;
    struct ovnic_err err;
    char state_dir[512];

    snprintf(state_dir, sizeof state_dir, "%s/state", root);
    ctx.sysfs_root = root;
    ctx.state_dir = state_dir;
    fake_pf(root, "0000:03:00.0", "p0", 8, 2);
    host_state_init(&st);
    assert_int_equal(host_state_put(&st, &a), 0);
    assert_int_equal(host_state_save(state_dir, &st, NULL), 0);
    host_state_clear(&st);

    ovnic_err_clear(&err);
    assert_int_equal(vf_numvfs_set(&ctx, NULL, 4, false, &pf, &err), -EBUSY);
    assert_non_null(strstr(err.message, "detach them first"));
    assert_string_equal(fake_read(root, "bus/pci/devices/0000:03:00.0/sriov_numvfs"),
                        "2\n");
    /* The same count is no change. */
    assert_int_equal(vf_numvfs_set(&ctx, "p0", 2, false, &pf, NULL), 0);
    /* --force drops the record (the fake tree is plain files: 2 -> 0 -> 4). */
    assert_int_equal(vf_numvfs_set(&ctx, "p0", 4, true, &pf, NULL), 0);
    assert_int_equal(pf.num_vfs, 4);
    assert_int_equal(host_state_load(state_dir, &st, NULL), 0);
    assert_int_equal(st.n, 0);
    host_state_clear(&st);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
        cmocka_unit_test(test_mac),
        cmocka_unit_test(test_libvirt_xml),
        cmocka_unit_test_setup_teardown(test_numvfs_while_attached, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
