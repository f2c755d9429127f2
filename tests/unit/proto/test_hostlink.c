/* Unit tests for shared/proto/hostlink: the message schema and codec.
 *
 * Every message is encoded and decoded back, for both protocol versions; every
 * validation rule is broken once, on a valid message, and must be refused with its
 * errno, the wire code malformed (or unknown-method), and the path of the member in
 * the error; version negotiation, error codes, the text forms of MACs and PCI
 * addresses, replies and error replies are checked as well. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shared/proto/hostlink.h"
#include "shared/util/jsonrpc.h"
#include "shared/util/util.h"

/* ---- Helpers. ----------------------------------------------------------------- */

static json_t *
parse(const char *text)
{
    json_error_t jerr;
    json_t *json = json_loads(
        text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

    if (!json) {
        fail_msg("bad test JSON: %s: %s", jerr.text, text);
    }
    return json;
}

/* Sets the member at 'path' ("pfs/0/vfs/1/mac") of 'root' to 'value' (parsed JSON
 * text), or deletes it if 'value' is NULL. */
static void
patch(json_t *root, const char *path, const char *value)
{
    char *copy = strdup(path), *save = NULL;
    json_t *parent = root;
    char *tok = strtok_r(copy, "/", &save);

    assert_non_null(copy);
    for (;;) {
        char *next = strtok_r(NULL, "/", &save);

        if (!next) {
            break;
        }
        parent = json_is_array(parent) ? json_array_get(parent, (size_t)atoi(tok))
                                       : json_object_get(parent, tok);
        assert_non_null(parent);
        tok = next;
    }
    if (json_is_array(parent)) {
        size_t i = (size_t)atoi(tok);

        if (value) {
            assert_int_equal(json_array_set_new(parent, i, parse(value)), 0);
        } else {
            assert_int_equal(json_array_remove(parent, i), 0);
        }
    } else if (value) {
        assert_int_equal(json_object_set_new(parent, tok, parse(value)), 0);
    } else {
        assert_int_equal(json_object_del(parent, tok), 0);
    }
    free(copy);
}

static const char *const base_hello =
    "{\"min-version\": 1, \"max-version\": 2, \"name\": \"host-1\","
    " \"software\": \"ovnic-hostd 0.1.0\"}";

static const char *const base_inventory =
    "{\"pfs\": [{\"pci\": \"0000:03:00.0\", \"mac\": \"02:00:00:00:01:00\","
    "  \"netdev\": \"enp3s0f0\", \"serial\": \"MT2232X01234\", \"vf-count\": 2,"
    "  \"vfs\": [{\"num\": 0, \"pci\": \"0000:03:00.2\", \"netdev\": \"enp3s0f0v0\","
    "            \"mac\": \"02:00:00:00:01:01\", \"link\": \"up\","
    "            \"driver\": \"mlx5_core\", \"attached-to\": \"netns\","
    "            \"attached-name\": \"vm1\", \"iface-id\": \"lsp1\"},"
    "           {\"num\": 1, \"pci\": \"0000:03:00.3\", \"mac\": \"00:00:00:00:00:00\","
    "            \"link\": \"down\", \"attached-to\": \"none\"}]},"
    " {\"pci\": \"0000:03:00.1\", \"mac\": \"02:00:00:00:02:00\", \"vf-count\": 0,"
    "  \"vfs\": []}]}";

static const char *const base_settings =
    "{\"vlan\": 100, \"qos\": 3, \"trust\": false, \"spoofchk\": true,"
    " \"min-tx-rate\": 0, \"max-tx-rate\": 10000}";

static const char *const base_vf_status =
    "{\"pf-mac\": \"02:00:00:00:01:00\", \"vf\": {\"num\": 3, \"pci\": \"0000:03:00.5\","
    " \"mac\": \"02:00:00:00:01:04\", \"link\": \"up\", \"attached-to\": \"vm\","
    " \"attached-name\": \"vm-7\", \"driver\": \"vfio-pci\", \"iface-id\": \"lsp7\"}}";

static const char *const base_attach =
    "{\"pf-mac\": \"02:00:00:00:01:00\", \"vf-num\": 3, \"iface-id\": \"lsp7\","
    " \"mac\": \"0a:58:0a:00:00:07\"}";

static const char *const base_plug =
    "{\"iface-id\": \"lsp7\", \"pf-mac\": \"02:00:00:00:01:00\", \"vf-num\": 3,"
    " \"state\": \"refused\", \"code\": 8, \"error\": \"MAC differs\"}";

/* The resync base: base_inventory and two attachments. */
static json_t *
make_resync(void)
{
    json_t *r = json_object();

    json_object_set_new(r, "inventory", parse(base_inventory));
    json_object_set_new(r, "attachments", json_array());
    json_array_append_new(json_object_get(r, "attachments"), parse(base_attach));
    json_array_append_new(json_object_get(r, "attachments"),
                          parse("{\"pf-mac\": \"02:00:00:00:01:00\", \"vf-num\": 0,"
                                " \"iface-id\": \"lsp1\","
                                " \"mac\": \"02:00:00:00:01:01\"}"));
    return r;
}

static json_t *
base_of(const char *method)
{
    if (!strcmp(method, "hello")) {
        return parse(base_hello);
    } else if (!strcmp(method, "keepalive")) {
        return parse("{\"seq\": 5}");
    } else if (!strcmp(method, "inventory")) {
        return parse(base_inventory);
    } else if (!strcmp(method, "vf-status")) {
        return parse(base_vf_status);
    } else if (!strcmp(method, "attach-request")) {
        return parse(base_attach);
    } else if (!strcmp(method, "detach-request")) {
        return parse("{\"iface-id\": \"lsp7\"}");
    } else if (!strcmp(method, "resync")) {
        return make_resync();
    } else if (!strcmp(method, "plug-result")) {
        return parse(base_plug);
    } else if (!strcmp(method, "bye")) {
        return parse("{\"code\": 15, \"error\": \"silent\"}");
    }
    fail_msg("no base for %s", method);
    return NULL;
}

static bool
is_request(const char *method)
{
    return strcmp(method, "plug-result") && strcmp(method, "bye");
}

/* Decodes 'obj' (taken) as 'method' of 'version'.  Returns the errno. */
static int
decode(const char *method, json_t *obj, unsigned int version, struct hostlink_msg *msg,
       struct ovnic_err *err)
{
    json_t *params = json_array();
    json_t *id = is_request(method) ? json_integer(7) : NULL;
    int error;

    json_array_append_new(params, obj);
    error = hostlink_msg_decode(method, params, id, version, msg, err);
    json_decref(params);
    json_decref(id);
    return error;
}

/* ---- Valid messages. ---------------------------------------------------------- */

static void
test_bases_decode(void **state OVNIC_UNUSED)
{
    static const char *const methods[] = {"hello",     "keepalive",      "inventory",
                                          "vf-status", "attach-request", "detach-request",
                                          "resync",    "plug-result",    "bye"};

    for (unsigned int v = 1; v <= HOSTLINK_VERSION_MAX; v++) {
        for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
            struct hostlink_msg msg;
            struct ovnic_err err = {0};
            int error = decode(methods[i], base_of(methods[i]), v, &msg, &err);
            char text[512];

            if (error) {
                fail_msg("%s v%u: %s", methods[i], v,
                         ovnic_err_format(&err, text, sizeof text));
            }
            assert_int_equal(msg.method, (int)i);
            assert_int_equal(msg.id, is_request(methods[i]) ? 7 : 0);
            hostlink_msg_clear(&msg);
        }
    }
}

static void
test_decoded_fields(void **state OVNIC_UNUSED)
{
    struct hostlink_msg msg;
    const struct hostlink_inventory *inv;
    const struct hostlink_vf *vf;

    assert_int_equal(decode("inventory", parse(base_inventory), 1, &msg, NULL), 0);
    inv = &msg.u.inventory;
    assert_int_equal(inv->n_pfs, 2);
    assert_int_equal(inv->pfs[0].pci.domain, 0);
    assert_int_equal(inv->pfs[0].pci.bus, 3);
    assert_int_equal(inv->pfs[0].pci.slot, 0);
    assert_int_equal(inv->pfs[1].pci.func, 1);
    assert_int_equal(inv->pfs[0].mac.b[4], 1);
    assert_string_equal(inv->pfs[0].netdev, "enp3s0f0");
    assert_string_equal(inv->pfs[0].serial, "MT2232X01234");
    assert_string_equal(inv->pfs[1].serial, "");
    assert_int_equal(inv->pfs[0].vf_count, 2);
    assert_int_equal(inv->pfs[0].n_vfs, 2);
    assert_int_equal(inv->pfs[1].n_vfs, 0);
    vf = &inv->pfs[0].vfs[0];
    assert_int_equal(vf->num, 0);
    assert_int_equal(vf->pci.func, 2);
    assert_string_equal(vf->netdev, "enp3s0f0v0");
    assert_int_equal(vf->mac.b[5], 1);
    assert_int_equal(vf->link, HOSTLINK_LINK_UP);
    assert_string_equal(vf->driver, "mlx5_core");
    assert_int_equal(vf->attached_to, HOSTLINK_ATTACH_NETNS);
    assert_string_equal(vf->attached_name, "vm1");
    assert_string_equal(vf->iface_id, "lsp1");
    assert_false(vf->has_settings);
    vf = &inv->pfs[0].vfs[1];
    assert_true(hostlink_mac_is_zero(&vf->mac));
    assert_int_equal(vf->link, HOSTLINK_LINK_DOWN);
    assert_int_equal(vf->attached_to, HOSTLINK_ATTACH_NONE);
    assert_string_equal(vf->netdev, "");
    assert_string_equal(vf->iface_id, "");
    hostlink_msg_clear(&msg);
    assert_null(msg.u.inventory.pfs);

    /* Version 2: the settings. */
    json_t *obj = parse(base_inventory);

    patch(obj, "pfs/0/vfs/1/settings", base_settings);
    assert_int_equal(decode("inventory", obj, 2, &msg, NULL), 0);
    vf = &msg.u.inventory.pfs[0].vfs[1];
    assert_true(vf->has_settings);
    assert_int_equal(vf->settings.vlan, 100);
    assert_int_equal(vf->settings.qos, 3);
    assert_false(vf->settings.trust);
    assert_true(vf->settings.spoofchk);
    assert_int_equal(vf->settings.max_tx_rate, 10000);
    hostlink_msg_clear(&msg);

    assert_int_equal(decode("plug-result", parse(base_plug), 1, &msg, NULL), 0);
    assert_int_equal(msg.u.plug_result.state, HOSTLINK_REFUSED);
    assert_int_equal(msg.u.plug_result.code, HOSTLINK_ERR_MAC_MISMATCH);
    assert_string_equal(msg.u.plug_result.message, "MAC differs");
    assert_int_equal(msg.u.plug_result.vf_num, 3);
    hostlink_msg_clear(&msg);
}

/* ---- Round trips of structs built in C. --------------------------------------- */

static void
fill_vf(struct hostlink_vf *vf, uint16_t num, bool settings)
{
    memset(vf, 0, sizeof *vf);
    vf->num = num;
    vf->pci = (struct hostlink_pci){0x0001, 0x81, (uint8_t)(num / 8), (uint8_t)(num % 8)};
    snprintf(vf->netdev, sizeof vf->netdev, "eth%uv%u", num % 10, num);
    vf->mac = (struct hostlink_mac){{0x02, 0, 0, 0, (uint8_t)(num >> 8), (uint8_t)num}};
    vf->link = (enum hostlink_link)(num % 3);
    snprintf(vf->driver, sizeof vf->driver, "%s", num % 2 ? "vfio-pci" : "mlx5_core");
    vf->attached_to = (enum hostlink_attach_kind)(num % 3);
    if (vf->attached_to) {
        snprintf(vf->attached_name, sizeof vf->attached_name, "target-%u", num);
    }
    if (num % 4) {
        snprintf(vf->iface_id, sizeof vf->iface_id, "ns_pod-%u", num);
    }
    vf->has_settings = settings;
    if (settings) {
        vf->settings = (struct hostlink_vf_settings){
            num, num % 8, num % 2, !(num % 2), num, num ? 1000u * num : 0};
    }
}

static void
assert_pci_equal(const struct hostlink_pci *a, const struct hostlink_pci *b)
{
    assert_int_equal(a->domain, b->domain);
    assert_int_equal(a->bus, b->bus);
    assert_int_equal(a->slot, b->slot);
    assert_int_equal(a->func, b->func);
}

static void
assert_plug_equal(const struct hostlink_plug_result *a,
                  const struct hostlink_plug_result *b)
{
    assert_string_equal(a->iface_id, b->iface_id);
    assert_memory_equal(&a->pf_mac, &b->pf_mac, sizeof a->pf_mac);
    assert_int_equal(a->vf_num, b->vf_num);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->code, b->code);
    assert_string_equal(a->message, b->message);
}

static void
assert_vf_equal(const struct hostlink_vf *a, const struct hostlink_vf *b, bool settings)
{
    assert_int_equal(a->num, b->num);
    assert_pci_equal(&a->pci, &b->pci);
    assert_string_equal(a->netdev, b->netdev);
    assert_memory_equal(&a->mac, &b->mac, sizeof a->mac);
    assert_int_equal(a->link, b->link);
    assert_string_equal(a->driver, b->driver);
    assert_int_equal(a->attached_to, b->attached_to);
    assert_string_equal(a->attached_name, b->attached_name);
    assert_string_equal(a->iface_id, b->iface_id);
    assert_int_equal(b->has_settings, settings && a->has_settings);
    if (b->has_settings) {
        assert_int_equal(a->settings.vlan, b->settings.vlan);
        assert_int_equal(a->settings.qos, b->settings.qos);
        assert_int_equal(a->settings.trust, b->settings.trust);
        assert_int_equal(a->settings.spoofchk, b->settings.spoofchk);
        assert_int_equal(a->settings.min_tx_rate, b->settings.min_tx_rate);
        assert_int_equal(a->settings.max_tx_rate, b->settings.max_tx_rate);
    }
}

static void
assert_inventory_equal(const struct hostlink_inventory *a,
                       const struct hostlink_inventory *b, bool settings)
{
    assert_int_equal(a->n_pfs, b->n_pfs);
    for (size_t i = 0; i < a->n_pfs; i++) {
        const struct hostlink_pf *pa = &a->pfs[i], *pb = &b->pfs[i];

        assert_pci_equal(&pa->pci, &pb->pci);
        assert_memory_equal(&pa->mac, &pb->mac, sizeof pa->mac);
        assert_string_equal(pa->netdev, pb->netdev);
        assert_string_equal(pa->serial, pb->serial);
        assert_int_equal(pa->vf_count, pb->vf_count);
        assert_int_equal(pa->n_vfs, pb->n_vfs);
        for (size_t j = 0; j < pa->n_vfs; j++) {
            assert_vf_equal(&pa->vfs[j], &pb->vfs[j], settings);
        }
    }
}

/* An inventory of 'n_pfs' PFs of 'n_vfs' VFs each, distinct everywhere. */
static void
fill_inventory(struct hostlink_inventory *inv, size_t n_pfs, size_t n_vfs, bool settings)
{
    assert_int_equal(hostlink_inventory_alloc(inv, n_pfs), 0);
    for (size_t i = 0; i < n_pfs; i++) {
        struct hostlink_pf *pf = &inv->pfs[i];

        pf->pci = (struct hostlink_pci){0, (uint8_t)(0x10 + i), 0, 0};
        pf->mac = (struct hostlink_mac){{0x02, 0xff, 0, 0, 0, (uint8_t)i}};
        snprintf(pf->netdev, sizeof pf->netdev, "enp%us0", (unsigned int)(i % 100));
        snprintf(pf->serial, sizeof pf->serial, "MT%04u", (unsigned int)(i % 10000));
        assert_int_equal(hostlink_pf_alloc_vfs(pf, n_vfs), 0);
        for (size_t j = 0; j < n_vfs; j++) {
            /* Numbered backwards: any order is valid. */
            fill_vf(&pf->vfs[j], (uint16_t)(n_vfs - 1 - j), settings);
            pf->vfs[j].pci.domain = (uint16_t)(0x100 + i);
        }
    }
}

static void
round_trip(const struct hostlink_msg *in, unsigned int version, struct hostlink_msg *out)
{
    struct jsonrpc_msg *jmsg;
    struct ovnic_err err = {0};
    char text[512];
    json_t *json;
    char *s;

    if (hostlink_msg_encode(in, version, &jmsg, &err)) {
        fail_msg("encode %s v%u: %s", hostlink_method_name(in->method), version,
                 ovnic_err_format(&err, text, sizeof text));
    }
    /* Through the wire form: text, parsed back, as a connection would. */
    json = jsonrpc_msg_to_json(jmsg);
    jsonrpc_msg_destroy(jmsg);
    s = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    json = parse(s);
    free(s);
    assert_int_equal(jsonrpc_msg_from_json(json, &jmsg, NULL), 0);
    json_decref(json);
    if (hostlink_msg_from_jsonrpc(jmsg, version, out, &err)) {
        fail_msg("decode %s v%u: %s", hostlink_method_name(in->method), version,
                 ovnic_err_format(&err, text, sizeof text));
    }
    jsonrpc_msg_destroy(jmsg);
    assert_int_equal(out->method, in->method);
    assert_int_equal(out->id, hostlink_method_is_request(in->method) ? in->id : 0);
}

static void
test_round_trip(void **state OVNIC_UNUSED)
{
    for (unsigned int v = HOSTLINK_VERSION_MIN; v <= HOSTLINK_VERSION_MAX; v++) {
        struct hostlink_msg in, out;

        memset(&in, 0, sizeof in);
        in.method = HOSTLINK_HELLO;
        in.id = HOSTLINK_ID_MAX;
        in.u.hello = (struct hostlink_hello){1, 255, "dpu-7.rack:3@dc_1", "x ~ y"};
        round_trip(&in, v, &out);
        assert_int_equal(out.u.hello.min_version, 1);
        assert_int_equal(out.u.hello.max_version, 255);
        assert_string_equal(out.u.hello.name, in.u.hello.name);
        assert_string_equal(out.u.hello.software, in.u.hello.software);

        memset(&in, 0, sizeof in);
        in.method = HOSTLINK_KEEPALIVE;
        in.id = 0;
        in.u.keepalive.seq = HOSTLINK_ID_MAX;
        round_trip(&in, v, &out);
        assert_int_equal(out.u.keepalive.seq, HOSTLINK_ID_MAX);

        memset(&in, 0, sizeof in);
        in.method = HOSTLINK_INVENTORY;
        in.id = 12;
        fill_inventory(&in.u.inventory, 3, 17, true);
        round_trip(&in, v, &out);
        assert_inventory_equal(&in.u.inventory, &out.u.inventory, v >= 2);
        hostlink_msg_clear(&in);
        hostlink_msg_clear(&out);

        memset(&in, 0, sizeof in);
        in.method = HOSTLINK_VF_STATUS;
        in.id = 13;
        in.u.vf_status.pf_mac = (struct hostlink_mac){{0x02, 1, 2, 3, 4, 5}};
        fill_vf(&in.u.vf_status.vf, 5, true);
        round_trip(&in, v, &out);
        assert_memory_equal(&out.u.vf_status.pf_mac, &in.u.vf_status.pf_mac, 6);
        assert_vf_equal(&in.u.vf_status.vf, &out.u.vf_status.vf, v >= 2);

        memset(&in, 0, sizeof in);
        in.method = HOSTLINK_ATTACH_REQUEST;
        in.id = 14;
        in.u.attach = (struct hostlink_attach){
            {{0x02, 1, 2, 3, 4, 5}}, 255, "a/b:c@d=e+f", {{0x0a, 0x58, 0, 0, 0, 1}}};
        round_trip(&in, v, &out);
        assert_memory_equal(&out.u.attach, &in.u.attach, sizeof in.u.attach);

        memset(&in, 0, sizeof in);
        in.method = HOSTLINK_DETACH_REQUEST;
        in.id = 15;
        memset(in.u.detach.iface_id, 'x', HOSTLINK_IFACE_ID_MAX);
        round_trip(&in, v, &out);
        assert_string_equal(out.u.detach.iface_id, in.u.detach.iface_id);

        memset(&in, 0, sizeof in);
        in.method = HOSTLINK_RESYNC;
        in.id = 16;
        fill_inventory(&in.u.resync.inventory, 2, 4, false);
        assert_int_equal(hostlink_resync_alloc_attachments(&in.u.resync, 3), 0);
        for (uint16_t i = 0; i < 3; i++) {
            struct hostlink_attach *a = &in.u.resync.attachments[i];

            a->pf_mac = in.u.resync.inventory.pfs[i % 2].mac;
            a->vf_num = i;
            snprintf(a->iface_id, sizeof a->iface_id, "port-%u", i);
            a->mac = (struct hostlink_mac){{0x0a, 0, 0, 0, 0, (uint8_t)(i + 1)}};
        }
        round_trip(&in, v, &out);
        assert_inventory_equal(&in.u.resync.inventory, &out.u.resync.inventory, false);
        assert_int_equal(out.u.resync.n_attachments, 3);
        assert_memory_equal(out.u.resync.attachments, in.u.resync.attachments,
                            3 * sizeof *in.u.resync.attachments);
        hostlink_msg_clear(&in);
        hostlink_msg_clear(&out);

        memset(&in, 0, sizeof in);
        in.method = HOSTLINK_PLUG_RESULT;
        in.u.plug_result = (struct hostlink_plug_result){
            "lsp1", {{2, 0, 0, 0, 0, 1}}, 9, HOSTLINK_PLUGGED, 0, ""};
        round_trip(&in, v, &out);
        assert_plug_equal(&out.u.plug_result, &in.u.plug_result);
        in.u.plug_result.state = HOSTLINK_REFUSED;
        in.u.plug_result.code = HOSTLINK_ERR_BOUND_ELSEWHERE;
        snprintf(in.u.plug_result.message, sizeof in.u.plug_result.message,
                 "bound to chassis dpu-2");
        round_trip(&in, v, &out);
        assert_plug_equal(&out.u.plug_result, &in.u.plug_result);

        memset(&in, 0, sizeof in);
        in.method = HOSTLINK_BYE;
        in.u.bye.code = HOSTLINK_ERR_WIRE_MAX;
        round_trip(&in, v, &out);
        assert_int_equal(out.u.bye.code, HOSTLINK_ERR_WIRE_MAX);
        assert_string_equal(out.u.bye.message, "");
    }
}

/* Version 1 leaves out what it lacks; a version 1 decoder refuses it. */
static void
test_version_fields(void **state OVNIC_UNUSED)
{
    struct hostlink_msg in = {.method = HOSTLINK_VF_STATUS, .id = 1};
    json_t *params;

    in.u.vf_status.pf_mac = (struct hostlink_mac){{0x02, 1, 2, 3, 4, 5}};
    fill_vf(&in.u.vf_status.vf, 2, true);
    assert_int_equal(hostlink_msg_to_params(&in, 1, &params, NULL), 0);
    assert_null(
        json_object_get(json_object_get(json_array_get(params, 0), "vf"), "settings"));
    json_decref(params);
    assert_int_equal(hostlink_msg_to_params(&in, 2, &params, NULL), 0);
    assert_non_null(
        json_object_get(json_object_get(json_array_get(params, 0), "vf"), "settings"));
    json_decref(params);

    /* No version 3 here. */
    assert_int_equal(hostlink_msg_to_params(&in, 3, &params, NULL), -EINVAL);
}

/* The largest resync at every bound fits the message limit. */
static void
test_max_size(void **state OVNIC_UNUSED)
{
    struct hostlink_msg msg = {.method = HOSTLINK_RESYNC, .id = HOSTLINK_ID_MAX};
    struct hostlink_resync *r = &msg.u.resync;
    size_t n = 0, len;
    json_t *params;
    char *text;

    fill_inventory(&r->inventory, HOSTLINK_MAX_PFS, HOSTLINK_MAX_VFS_PER_PF, true);
    assert_int_equal(hostlink_resync_alloc_attachments(r, HOSTLINK_MAX_VFS), 0);
    for (size_t i = 0; i < HOSTLINK_MAX_PFS; i++) {
        struct hostlink_pf *pf = &r->inventory.pfs[i];

        for (size_t j = 0; j < pf->n_vfs; j++) {
            struct hostlink_vf *vf = &pf->vfs[j];
            struct hostlink_attach *a = &r->attachments[n];

            memset(vf->netdev, 'n', HOSTLINK_NETDEV_MAX);
            memset(vf->driver, 'd', HOSTLINK_DRIVER_MAX);
            vf->attached_to = HOSTLINK_ATTACH_NETNS;
            memset(vf->attached_name, 't', HOSTLINK_TARGET_MAX);
            snprintf(vf->iface_id, sizeof vf->iface_id, "%04zu", n);
            memset(vf->iface_id + 4, 'i', HOSTLINK_IFACE_ID_MAX - 4);
            vf->settings = (struct hostlink_vf_settings){
                4095, 7, true, true, HOSTLINK_RATE_MAX_MBPS, HOSTLINK_RATE_MAX_MBPS};
            a->pf_mac = pf->mac;
            a->vf_num = vf->num;
            snprintf(a->iface_id, sizeof a->iface_id, "%s", vf->iface_id);
            a->mac = (struct hostlink_mac){{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff}};
            n++;
        }
        memset(pf->serial, 's', HOSTLINK_SERIAL_MAX);
    }
    assert_int_equal(hostlink_msg_to_params(&msg, HOSTLINK_VERSION_MAX, &params, NULL),
                     0);
    text = json_dumps(params, JSON_COMPACT);
    len = strlen(text);
    print_message("largest resync: %zu bytes, limit %zu\n", len, HOSTLINK_MAX_MSG);
    assert_true(len + 100 < HOSTLINK_MAX_MSG / 2);
    free(text);
    json_decref(params);

    /* One more PF or VF is past the bounds. */
    assert_int_equal(hostlink_inventory_alloc(&r->inventory, HOSTLINK_MAX_PFS + 1),
                     -EMSGSIZE);
    assert_int_equal(
        hostlink_pf_alloc_vfs(&r->inventory.pfs[0], HOSTLINK_MAX_VFS_PER_PF + 1),
        -EMSGSIZE);
    hostlink_msg_clear(&msg);
}

/* The encoder refuses what the peer would refuse. */
static void
test_encode_refuses(void **state OVNIC_UNUSED)
{
    struct hostlink_msg m = {.method = HOSTLINK_ATTACH_REQUEST, .id = 1};
    struct ovnic_err err = {0};
    struct jsonrpc_msg *jmsg = NULL;

    m.u.attach = (struct hostlink_attach){
        {{0x02, 1, 2, 3, 4, 5}}, 3, "bad id", {{0x0a, 0, 0, 0, 0, 1}}};
    assert_int_equal(hostlink_msg_encode(&m, 1, &jmsg, &err), -EINVAL);
    assert_null(jmsg);
    assert_non_null(strstr(err.detail, "attach-request.iface-id"));

    snprintf(m.u.attach.iface_id, sizeof m.u.attach.iface_id, "ok");
    m.u.attach.mac.b[0] = 0x01; /* Multicast. */
    assert_int_equal(hostlink_msg_encode(&m, 1, &jmsg, NULL), -EINVAL);
    m.u.attach.mac.b[0] = 0x02;
    m.u.attach.vf_num = HOSTLINK_MAX_VFS_PER_PF;
    assert_int_equal(hostlink_msg_encode(&m, 1, &jmsg, NULL), -ERANGE);
    m.u.attach.vf_num = 0;
    m.id = HOSTLINK_ID_MAX + 1;
    assert_int_equal(hostlink_msg_encode(&m, 1, &jmsg, NULL), -ERANGE);
    m.id = 1;
    assert_int_equal(hostlink_msg_encode(&m, 1, &jmsg, NULL), 0);
    jsonrpc_msg_destroy(jmsg);

    /* An inventory whose VF count disagrees with its VFs. */
    struct hostlink_msg inv = {.method = HOSTLINK_INVENTORY, .id = 2};

    fill_inventory(&inv.u.inventory, 1, 4, false);
    inv.u.inventory.pfs[0].vf_count = 5;
    assert_int_equal(hostlink_msg_encode(&inv, 1, &jmsg, NULL), -EINVAL);
    inv.u.inventory.pfs[0].vf_count = 4;
    inv.u.inventory.pfs[0].vfs[1].num = 0; /* Two VF 0. */
    assert_int_equal(hostlink_msg_encode(&inv, 1, &jmsg, NULL), -EINVAL);
    hostlink_msg_clear(&inv);

    /* A method out of range. */
    m.method = HOSTLINK_N_METHODS;
    assert_int_equal(hostlink_msg_encode(&m, 1, &jmsg, NULL), -ENOSYS);
}

static void
test_clone(void **state OVNIC_UNUSED)
{
    struct hostlink_msg in = {.method = HOSTLINK_RESYNC, .id = 3}, out;

    fill_inventory(&in.u.resync.inventory, 2, 3, true);
    assert_int_equal(hostlink_resync_alloc_attachments(&in.u.resync, 1), 0);
    snprintf(in.u.resync.attachments[0].iface_id, HOSTLINK_IFACE_ID_MAX, "p");
    assert_int_equal(hostlink_msg_clone(&in, &out), 0);
    assert_ptr_not_equal(out.u.resync.inventory.pfs, in.u.resync.inventory.pfs);
    assert_ptr_not_equal(out.u.resync.attachments, in.u.resync.attachments);
    assert_inventory_equal(&in.u.resync.inventory, &out.u.resync.inventory, true);
    assert_string_equal(out.u.resync.attachments[0].iface_id, "p");
    hostlink_msg_clear(&in);
    hostlink_msg_clear(&out);
}

/* ---- Every validation rule. --------------------------------------------------- */

struct rule {
    const char *method;
    const char *path;  /* Member changed ("" for none). */
    const char *value; /* Its new JSON text, NULL to delete it. */
    unsigned int version;
    int error;
    const char *where; /* Expected in the error's detail. */
};

#define LONG16 "\"abcdefghijklmnop\""
#define S256_RAW                                                                     \
    "0123456789012345678901234567890123456789012345678901234567890123456789012345"   \
    "6789012345678901234567890123456789012345678901234567890123456789012345678901"   \
    "234567890123456789012345678901234567890123456789012345678901234567890123456789" \
    "01234567890123456789012345"
#define S256 "\"" S256_RAW "\""
#define S257 "\"x" S256_RAW "\""
#define S65 "\"01234567890123456789012345678901234567890123456789012345678901234\""

static const struct rule rules[] = {
    /* hello */
    {"hello", "min-version", NULL, 0, -EPROTO, "hello.min-version"},
    {"hello", "min-version", "0", 0, -ERANGE, "hello.min-version"},
    {"hello", "min-version", "-1", 0, -ERANGE, "hello.min-version"},
    {"hello", "max-version", "256", 0, -ERANGE, "hello.max-version"},
    {"hello", "max-version", "1.5", 0, -EPROTO, "hello.max-version"},
    {"hello", "max-version", "\"2\"", 0, -EPROTO, "hello.max-version"},
    {"hello", "min-version", "3", 0, -EINVAL, "hello"},
    {"hello", "name", NULL, 0, -EPROTO, "hello.name"},
    {"hello", "name", "\"\"", 0, -EINVAL, "hello.name"},
    {"hello", "name", "\"host 1\"", 0, -EINVAL, "hello.name"},
    {"hello", "name", S65, 0, -EMSGSIZE, "hello.name"},
    {"hello", "name", "7", 0, -EPROTO, "hello.name"},
    {"hello", "software", "\"a\\nb\"", 0, -EINVAL, "hello.software"},
    {"hello", "software", "\"caf\\u00e9\"", 0, -EINVAL, "hello.software"},
    {"hello", "software", S65, 0, -EMSGSIZE, "hello.software"},
    {"hello", "extra", "1", 0, -EPROTO, "hello: \"extra\""},
    /* keepalive */
    {"keepalive", "seq", "-1", 1, -ERANGE, "keepalive.seq"},
    {"keepalive", "seq", "9007199254740992", 1, -ERANGE, "keepalive.seq"},
    {"keepalive", "seq", "null", 1, -EPROTO, "keepalive.seq"},
    {"keepalive", "seq", NULL, 1, -EPROTO, "keepalive.seq"},
    /* inventory: PFs */
    {"inventory", "pfs", "{}", 1, -EPROTO, "inventory.pfs"},
    {"inventory", "pfs", NULL, 1, -EPROTO, "inventory.pfs"},
    {"inventory", "pfs", "[1,2,3,4,5,6,7,8,9]", 1, -EMSGSIZE, "inventory.pfs"},
    {"inventory", "pfs/1", "7", 1, -EPROTO, "inventory.pfs[1]"},
    {"inventory", "pfs/0/pci", "\"0000:03:20.0\"", 1, -EINVAL, "inventory.pfs[0].pci"},
    {"inventory", "pfs/0/pci", "\"0000:03:00.8\"", 1, -EINVAL, "inventory.pfs[0].pci"},
    {"inventory", "pfs/0/pci", "\"03:00.0\"", 1, -EINVAL, "inventory.pfs[0].pci"},
    {"inventory", "pfs/0/pci", "\"0000:0g:00.0\"", 1, -EINVAL, "inventory.pfs[0].pci"},
    {"inventory", "pfs/0/pci", "\"0000:03:00.0 \"", 1, -EMSGSIZE, "inventory.pfs[0].pci"},
    {"inventory", "pfs/0/mac", "\"01:00:00:00:01:00\"", 1, -EINVAL,
     "inventory.pfs[0].mac"},
    {"inventory", "pfs/0/mac", "\"00:00:00:00:00:00\"", 1, -EINVAL,
     "inventory.pfs[0].mac"},
    {"inventory", "pfs/0/mac", "\"02-00-00-00-01-00\"", 1, -EINVAL,
     "inventory.pfs[0].mac"},
    {"inventory", "pfs/0/mac", "\"02:00:00:00:01:0\"", 1, -EINVAL,
     "inventory.pfs[0].mac"},
    {"inventory", "pfs/0/mac", "\"02:00:00:00:02:00\"", 1, -EINVAL, "duplicate PF MAC"},
    {"inventory", "pfs/1/pci", "\"0000:03:00.0\"", 1, -EINVAL, "0000:03:00.0"},
    {"inventory", "pfs/1/pci", "\"0000:03:00.2\"", 1, -EINVAL, "0000:03:00.2"},
    {"inventory", "pfs/0/netdev", LONG16, 1, -EMSGSIZE, "inventory.pfs[0].netdev"},
    {"inventory", "pfs/0/netdev", "\"a/b\"", 1, -EINVAL, "inventory.pfs[0].netdev"},
    {"inventory", "pfs/0/netdev", "\"..\"", 1, -EINVAL, "inventory.pfs[0].netdev"},
    {"inventory", "pfs/0/serial", "\"MT 1\"", 1, -EINVAL, "inventory.pfs[0].serial"},
    {"inventory", "pfs/0/serial", S65, 1, -EMSGSIZE, "inventory.pfs[0].serial"},
    {"inventory", "pfs/0/vf-count", "257", 1, -ERANGE, "inventory.pfs[0].vf-count"},
    {"inventory", "pfs/0/vf-count", "3", 1, -EINVAL, "inventory.pfs[0].vfs"},
    {"inventory", "pfs/0/vfs", "{}", 1, -EPROTO, "inventory.pfs[0].vfs"},
    {"inventory", "pfs/0/unknown", "1", 1, -EPROTO, "inventory.pfs[0]: \"unknown\""},
    /* inventory: VFs */
    {"inventory", "pfs/0/vfs/1/num", "2", 1, -EINVAL, "inventory.pfs[0].vfs[1]"},
    {"inventory", "pfs/0/vfs/1/num", "0", 1, -EINVAL, "duplicate VF"},
    {"inventory", "pfs/0/vfs/1/num", "256", 1, -ERANGE, "inventory.pfs[0].vfs[1].num"},
    {"inventory", "pfs/0/vfs/1/pci", NULL, 1, -EPROTO, "inventory.pfs[0].vfs[1].pci"},
    {"inventory", "pfs/0/vfs/1/mac", "\"33:33:00:00:00:01\"", 1, -EINVAL,
     "inventory.pfs[0].vfs[1].mac"},
    {"inventory", "pfs/0/vfs/0/netdev", "\"\"", 1, -EINVAL,
     "inventory.pfs[0].vfs[0].netdev"},
    {"inventory", "pfs/0/vfs/0/netdev", "\"a:b\"", 1, -EINVAL,
     "inventory.pfs[0].vfs[0].netdev"},
    {"inventory", "pfs/0/vfs/0/netdev", "\".\"", 1, -EINVAL,
     "inventory.pfs[0].vfs[0].netdev"},
    {"inventory", "pfs/0/vfs/0/link", "\"sideways\"", 1, -EINVAL,
     "inventory.pfs[0].vfs[0].link"},
    {"inventory", "pfs/0/vfs/0/link", NULL, 1, -EPROTO, "inventory.pfs[0].vfs[0].link"},
    {"inventory", "pfs/0/vfs/0/driver", "\"mlx5 core\"", 1, -EINVAL,
     "inventory.pfs[0].vfs[0].driver"},
    {"inventory", "pfs/0/vfs/0/driver", "\"abcdefghijklmnopqrstuvwxyz012345\"", 1,
     -EMSGSIZE, "inventory.pfs[0].vfs[0].driver"},
    {"inventory", "pfs/0/vfs/0/attached-to", "\"container\"", 1, -EINVAL,
     "inventory.pfs[0].vfs[0].attached-to"},
    {"inventory", "pfs/0/vfs/0/attached-name", NULL, 1, -EPROTO,
     "inventory.pfs[0].vfs[0].attached-name"},
    {"inventory", "pfs/0/vfs/1/attached-name", "\"vm2\"", 1, -EINVAL,
     "inventory.pfs[0].vfs[1].attached-name"},
    {"inventory", "pfs/0/vfs/0/attached-name", "\"vm 1\"", 1, -EINVAL,
     "inventory.pfs[0].vfs[0].attached-name"},
    {"inventory", "pfs/0/vfs/0/attached-name", S65, 1, -EMSGSIZE,
     "inventory.pfs[0].vfs[0].attached-name"},
    {"inventory", "pfs/0/vfs/0/iface-id", S256, 1, -EMSGSIZE,
     "inventory.pfs[0].vfs[0].iface-id"},
    {"inventory", "pfs/0/vfs/0/iface-id", "\"lsp 1\"", 1, -EINVAL,
     "inventory.pfs[0].vfs[0].iface-id"},
    {"inventory", "pfs/0/vfs/0/iface-id", "\"lsp\\u00001\"", 1, -EINVAL,
     "inventory.pfs[0].vfs[0].iface-id"},
    {"inventory", "pfs/0/vfs/0/iface-id", "\"lsp\\\"1\"", 1, -EINVAL,
     "inventory.pfs[0].vfs[0].iface-id"},
    {"inventory", "pfs/0/vfs/0/iface-id", "[]", 1, -EPROTO,
     "inventory.pfs[0].vfs[0].iface-id"},
    {"inventory", "pfs/0/vfs/0/settings", base_settings, 1, -EPROTO,
     "inventory.pfs[0].vfs[0]: \"settings\""},
    {"inventory", "pfs/0/vfs/0/settings", "[]", 2, -EPROTO,
     "inventory.pfs[0].vfs[0].settings"},
    /* vf-status */
    {"vf-status", "pf-mac", NULL, 1, -EPROTO, "vf-status.pf-mac"},
    {"vf-status", "vf", "[]", 1, -EPROTO, "vf-status.vf"},
    {"vf-status", "vf/num", "1000", 1, -ERANGE, "vf-status.vf.num"},
    {"vf-status", "vf/mac", "\"ff:ff:ff:ff:ff:ff\"", 1, -EINVAL, "vf-status.vf.mac"},
    /* attach-request, detach-request */
    {"attach-request", "vf-num", "256", 1, -ERANGE, "attach-request.vf-num"},
    {"attach-request", "vf-num", "true", 1, -EPROTO, "attach-request.vf-num"},
    {"attach-request", "mac", "\"00:00:00:00:00:00\"", 1, -EINVAL, "attach-request.mac"},
    {"attach-request", "mac", "\"03:00:00:00:00:01\"", 1, -EINVAL, "attach-request.mac"},
    {"attach-request", "pf-mac", "\"01:00:5e:00:00:01\"", 1, -EINVAL,
     "attach-request.pf-mac"},
    {"attach-request", "iface-id", "\"\"", 1, -EINVAL, "attach-request.iface-id"},
    {"attach-request", "iface-id", NULL, 1, -EPROTO, "attach-request.iface-id"},
    {"attach-request", "vf", "3", 1, -EPROTO, "attach-request: \"vf\""},
    {"detach-request", "iface-id", NULL, 1, -EPROTO, "detach-request.iface-id"},
    {"detach-request", "iface-id", S256, 1, -EMSGSIZE, "detach-request.iface-id"},
    {"detach-request", "pf-mac", "\"02:00:00:00:01:00\"", 1, -EPROTO,
     "detach-request: \"pf-mac\""},
    /* resync */
    {"resync", "inventory", NULL, 1, -EPROTO, "resync.inventory"},
    {"resync", "attachments", NULL, 1, -EPROTO, "resync.attachments"},
    {"resync", "attachments", "{}", 1, -EPROTO, "resync.attachments"},
    {"resync", "attachments/1/iface-id", "\"lsp7\"", 1, -EINVAL, "duplicate iface-id"},
    {"resync", "attachments/1/vf-num", "3", 1, -EINVAL, "two attachments of one VF"},
    {"resync", "attachments/1/mac", "\"x\"", 1, -EINVAL, "resync.attachments[1].mac"},
    {"resync", "inventory/pfs/0/vfs/0/mac", "1", 1, -EPROTO,
     "resync.inventory.pfs[0].vfs[0].mac"},
    /* plug-result, bye */
    {"plug-result", "code", NULL, 1, -EPROTO, "plug-result.code"},
    {"plug-result", "code", "0", 1, -ERANGE, "plug-result.code"},
    {"plug-result", "code", "1000", 1, -ERANGE, "plug-result.code"},
    {"plug-result", "state", "\"plugged\"", 1, -EINVAL, "plug-result.code"},
    {"plug-result", "state", "\"gone\"", 1, -EINVAL, "plug-result.state"},
    {"plug-result", "error", "\"a\\u0001b\"", 1, -EINVAL, "plug-result.error"},
    {"plug-result", "error", S257, 1, -EMSGSIZE, "plug-result.error"},
    {"bye", "code", "0", 1, -ERANGE, "bye.code"},
    {"bye", "code", NULL, 1, -EPROTO, "bye.code"},
    {"bye", "error", "\"\\t\"", 1, -EINVAL, "bye.error"},
};

static void
test_rules(void **state OVNIC_UNUSED)
{
    for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
        const struct rule *r = &rules[i];
        json_t *obj = base_of(r->method);
        struct hostlink_msg msg;
        struct ovnic_err err = {0};
        char text[512];
        int error;

        if (r->path[0]) {
            patch(obj, r->path, r->value);
        }
        msg.method = HOSTLINK_N_METHODS;
        error = decode(r->method, obj, r->version, &msg, &err);
        ovnic_err_format(&err, text, sizeof text);
        if (error != r->error || !strstr(text, r->where)) {
            fail_msg("rule %zu (%s %s = %s): got %d (%s), want %d at \"%s\"", i,
                     r->method, r->path, r->value ? r->value : "(deleted)", error, text,
                     r->error, r->where);
        }
        /* Untouched on failure. */
        assert_int_equal(msg.method, HOSTLINK_N_METHODS);
        assert_int_equal(hostlink_error_from_errno(error), HOSTLINK_ERR_MALFORMED);
    }
}

/* Rules of the envelope: method, id, params. */
static void
test_envelope(void **state OVNIC_UNUSED)
{
    json_t *params = json_pack("[o]", parse("{\"seq\": 1}"));
    json_t *hello = json_pack("[o]", parse(base_hello));
    json_t *plug = json_pack("[o]", parse(base_plug));
    struct hostlink_msg msg;
    struct ovnic_err err = {0};
    json_t *id = json_integer(1);

    assert_int_equal(hostlink_msg_decode("keepalive", params, id, 1, &msg, NULL), 0);

    /* Methods. */
    assert_int_equal(hostlink_msg_decode("echo", params, id, 1, &msg, &err), -ENOSYS);
    assert_int_equal(hostlink_error_from_errno(-ENOSYS), HOSTLINK_ERR_UNKNOWN_METHOD);
    assert_non_null(strstr(err.detail, "echo"));
    assert_int_equal(hostlink_msg_decode("keepalive", params, id, 0, &msg, NULL),
                     -ENOSYS);
    assert_int_equal(hostlink_msg_decode("hello", hello, id, 0, &msg, NULL), 0);
    assert_int_equal(hostlink_msg_decode("keepalive", params, id, 3, &msg, NULL),
                     -EINVAL);

    /* Ids. */
    assert_int_equal(hostlink_msg_decode("keepalive", params, NULL, 1, &msg, NULL),
                     -EPROTO);
    assert_int_equal(hostlink_msg_decode("keepalive", params, json_null(), 1, &msg, NULL),
                     -EPROTO);
    json_t *bad = json_string("1");
    assert_int_equal(hostlink_msg_decode("keepalive", params, bad, 1, &msg, NULL),
                     -EPROTO);
    json_decref(bad);
    bad = json_integer(-1);
    assert_int_equal(hostlink_msg_decode("keepalive", params, bad, 1, &msg, NULL),
                     -ERANGE);
    json_decref(bad);
    bad = json_integer((json_int_t)HOSTLINK_ID_MAX + 1);
    assert_int_equal(hostlink_msg_decode("keepalive", params, bad, 1, &msg, &err),
                     -ERANGE);
    json_decref(bad);
    bad = json_real(1.0);
    assert_int_equal(hostlink_msg_decode("keepalive", params, bad, 1, &msg, NULL),
                     -EPROTO);
    json_decref(bad);

    /* A notification of the DPU sent as a request; and without an id. */
    assert_int_equal(hostlink_msg_decode("plug-result", plug, id, 1, &msg, NULL),
                     -EPROTO);
    assert_int_equal(hostlink_msg_decode("plug-result", plug, NULL, 1, &msg, NULL), 0);
    hostlink_msg_clear(&msg);

    /* Params: exactly one object. */
    bad = json_array();
    assert_int_equal(hostlink_msg_decode("keepalive", bad, id, 1, &msg, NULL), -EPROTO);
    json_array_append_new(bad, json_object());
    json_array_append_new(bad, json_object());
    assert_int_equal(hostlink_msg_decode("keepalive", bad, id, 1, &msg, NULL), -EPROTO);
    json_decref(bad);
    bad = json_pack("[i]", 1);
    assert_int_equal(hostlink_msg_decode("keepalive", bad, id, 1, &msg, NULL), -EPROTO);
    json_decref(bad);
    bad = json_object();
    assert_int_equal(hostlink_msg_decode("keepalive", bad, id, 1, &msg, NULL), -EPROTO);
    json_decref(bad);

    /* From JSON-RPC: a reply is no request. */
    struct jsonrpc_msg *reply = jsonrpc_msg_create_reply(json_object(), id);
    assert_int_equal(hostlink_msg_from_jsonrpc(reply, 1, &msg, NULL), -EPROTO);
    jsonrpc_msg_destroy(reply);

    json_decref(id);
    json_decref(params);
    json_decref(hello);
    json_decref(plug);
}

/* ---- Replies. ----------------------------------------------------------------- */

static struct jsonrpc_msg *
jreply(const char *text)
{
    json_t *json = parse(text);
    struct jsonrpc_msg *msg;

    assert_int_equal(jsonrpc_msg_from_json(json, &msg, NULL), 0);
    json_decref(json);
    return msg;
}

static int
decode_reply(enum hostlink_method method, const char *text, struct hostlink_reply *r)
{
    struct jsonrpc_msg *msg = jreply(text);
    int error = hostlink_reply_decode(method, msg, r, NULL);

    jsonrpc_msg_destroy(msg);
    return error;
}

static void
test_replies(void **state OVNIC_UNUSED)
{
    struct hostlink_hello_reply h = {{1, 2, "dpu-1", "ovnic-dpud 0.1.0"}, 2, 15000, 5000};
    struct hostlink_reply r;
    struct jsonrpc_msg *msg;
    json_t *json;
    char *text;

    /* Hello reply round trip. */
    assert_int_equal(hostlink_reply_encode(HOSTLINK_HELLO, 9, &h, 0, &msg, NULL), 0);
    assert_int_equal(hostlink_reply_decode(HOSTLINK_HELLO, msg, &r, NULL), 0);
    jsonrpc_msg_destroy(msg);
    assert_int_equal(r.id, 9);
    assert_int_equal(r.code, 0);
    assert_int_equal(r.u.hello.version, 2);
    assert_int_equal(r.u.hello.lease_ms, 15000);
    assert_int_equal(r.u.hello.keepalive_ms, 5000);
    assert_string_equal(r.u.hello.hello.name, "dpu-1");

    /* The version must be within the DPU's range, the keepalive within the lease. */
    h.version = 3;
    assert_int_equal(hostlink_reply_encode(HOSTLINK_HELLO, 9, &h, 0, &msg, NULL),
                     -ERANGE);
    h.version = 2;
    h.keepalive_ms = 20000;
    assert_int_equal(hostlink_reply_encode(HOSTLINK_HELLO, 9, &h, 0, &msg, NULL),
                     -ERANGE);
    h.keepalive_ms = 5000;
    h.lease_ms = 50;
    assert_int_equal(hostlink_reply_encode(HOSTLINK_HELLO, 9, &h, 0, &msg, NULL),
                     -ERANGE);

    /* Keepalive and the plain {}. */
    assert_int_equal(hostlink_reply_encode(HOSTLINK_KEEPALIVE, 4, NULL, 77, &msg, NULL),
                     0);
    assert_int_equal(hostlink_reply_decode(HOSTLINK_KEEPALIVE, msg, &r, NULL), 0);
    assert_int_equal(r.u.seq, 77);
    jsonrpc_msg_destroy(msg);
    assert_int_equal(
        hostlink_reply_encode(HOSTLINK_ATTACH_REQUEST, 4, NULL, 0, &msg, NULL), 0);
    json = jsonrpc_msg_to_json(msg);
    text = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"error\":null,\"id\":4,\"result\":{}}");
    free(text);
    json_decref(json);
    jsonrpc_msg_destroy(msg);
    assert_int_equal(hostlink_reply_encode(HOSTLINK_PLUG_RESULT, 4, NULL, 0, &msg, NULL),
                     -EINVAL);

    assert_int_equal(decode_reply(HOSTLINK_INVENTORY,
                                  "{\"result\": {}, \"error\": null, \"id\": 3}", &r),
                     0);
    assert_int_equal(decode_reply(HOSTLINK_INVENTORY,
                                  "{\"result\": {\"x\": 1}, \"error\": null, \"id\": 3}",
                                  &r),
                     -EPROTO);
    assert_int_equal(decode_reply(HOSTLINK_INVENTORY,
                                  "{\"result\": [], \"error\": null, \"id\": 3}", &r),
                     -EPROTO);
    assert_int_equal(decode_reply(HOSTLINK_INVENTORY,
                                  "{\"result\": {}, \"error\": null, \"id\": \"3\"}", &r),
                     -EPROTO);
    assert_int_equal(
        decode_reply(HOSTLINK_KEEPALIVE,
                     "{\"result\": {\"seq\": -4}, \"error\": null, \"id\": 3}", &r),
        -ERANGE);
    assert_int_equal(
        decode_reply(HOSTLINK_HELLO, "{\"result\": {}, \"error\": null, \"id\": 3}", &r),
        -EPROTO);

    /* Error replies. */
    assert_int_equal(decode_reply(HOSTLINK_ATTACH_REQUEST,
                                  "{\"error\": {\"error\": \"not yours\", \"code\": 7},"
                                  " \"id\": 5}",
                                  &r),
                     0);
    assert_int_equal(r.code, HOSTLINK_ERR_NOT_OWNED);
    assert_string_equal(r.message, "not yours");
    assert_int_equal(r.id, 5);
    /* An error with a null id (which JSON-RPC parsing refuses, so built here). */
    msg = jsonrpc_msg_create_error(json_pack("{s:s, s:i}", "error", "x", "code", 1),
                                   json_null());
    assert_int_equal(hostlink_reply_decode(HOSTLINK_ATTACH_REQUEST, msg, &r, NULL), 0);
    jsonrpc_msg_destroy(msg);
    assert_int_equal(r.id, UINT64_MAX);
    assert_int_equal(r.code, HOSTLINK_ERR_MALFORMED);
    assert_int_equal(
        decode_reply(HOSTLINK_ATTACH_REQUEST,
                     "{\"error\": {\"error\": \"x\", \"code\": 0}, \"id\": 5}", &r),
        -ERANGE);
    assert_int_equal(decode_reply(HOSTLINK_ATTACH_REQUEST,
                                  "{\"error\": {\"error\": \"x\", \"code\": 1000},"
                                  " \"id\": 5}",
                                  &r),
                     -ERANGE);
    assert_int_equal(decode_reply(HOSTLINK_ATTACH_REQUEST,
                                  "{\"error\": {\"error\": \"x\", \"code\": -22},"
                                  " \"id\": 5}",
                                  &r),
                     -ERANGE);
    assert_int_equal(decode_reply(HOSTLINK_ATTACH_REQUEST,
                                  "{\"error\": \"plain text\", \"id\": 5}", &r),
                     -EPROTO);
    assert_int_equal(decode_reply(HOSTLINK_ATTACH_REQUEST,
                                  "{\"error\": {\"error\": " S257 ", \"code\": 1},"
                                  " \"id\": 5}",
                                  &r),
                     -EMSGSIZE);
    assert_int_equal(decode_reply(HOSTLINK_ATTACH_REQUEST,
                                  "{\"error\": {\"error\": \"x\", \"code\": 1, \"y\": 2},"
                                  " \"id\": 5}",
                                  &r),
                     -EPROTO);
    msg = jreply("{\"method\": \"keepalive\", \"params\": [], \"id\": 1}");
    assert_int_equal(hostlink_reply_decode(HOSTLINK_KEEPALIVE, msg, &r, NULL), -EPROTO);
    jsonrpc_msg_destroy(msg);

    /* The error object is bounded and printable whatever it is given. */
    char big[600];

    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    big[3] = '\n';
    json = hostlink_error_json(HOSTLINK_ERR_INTERNAL, big);
    assert_int_equal(strlen(json_string_value(json_object_get(json, "error"))),
                     HOSTLINK_MESSAGE_MAX);
    assert_int_equal(json_string_value(json_object_get(json, "error"))[3], '?');
    json_decref(json);
    json = hostlink_error_json(HOSTLINK_ERR_RATE_LIMITED, NULL);
    assert_string_equal(json_string_value(json_object_get(json, "error")),
                        "rate-limited");
    json_decref(json);
    assert_null(hostlink_error_json(0, "x"));
    assert_null(hostlink_error_json(HOSTLINK_ERR_WIRE_MAX + 1, "x"));
}

/* ---- Versions, codes, field types. -------------------------------------------- */

static void
test_negotiate(void **state OVNIC_UNUSED)
{
    unsigned int v = 99;

    /* Overlap: the highest common version. */
    assert_int_equal(hostlink_version_negotiate(1, 2, 1, 2, &v), HOSTLINK_OK);
    assert_int_equal(v, 2);
    assert_int_equal(hostlink_version_negotiate(1, 2, 1, 1, &v), HOSTLINK_OK);
    assert_int_equal(v, 1);
    assert_int_equal(hostlink_version_negotiate(1, 2, 2, 9, &v), HOSTLINK_OK);
    assert_int_equal(v, 2);
    assert_int_equal(hostlink_version_negotiate(3, 7, 1, 5, &v), HOSTLINK_OK);
    assert_int_equal(v, 5);

    /* Below the minimum. */
    v = 99;
    assert_int_equal(hostlink_version_negotiate(2, 2, 1, 1, &v),
                     HOSTLINK_ERR_VERSION_TOO_OLD);
    assert_int_equal(v, 99);
    /* No overlap the other way: the peer is newer than anything we speak. */
    assert_int_equal(hostlink_version_negotiate(1, 2, 3, 4, &v),
                     HOSTLINK_ERR_VERSION_TOO_NEW);
    assert_int_equal(v, 99);
}

static void
test_error_codes(void **state OVNIC_UNUSED)
{
    for (int code = 0; code <= HOSTLINK_ERR_LAST; code++) {
        int back = -1;

        assert_string_not_equal(hostlink_error_name(code), "unknown");
        assert_int_equal(hostlink_error_from_name(hostlink_error_name(code), &back), 0);
        assert_int_equal(back, code);
    }
    assert_string_equal(hostlink_error_name(HOSTLINK_ERR_VERSION_TOO_OLD),
                        "version-too-old");
    assert_string_equal(hostlink_error_name(HOSTLINK_ERR_MAC_MISMATCH), "mac-mismatch");
    assert_string_equal(hostlink_error_name(500), "unknown");
    int code;
    assert_int_equal(hostlink_error_from_name("nope", &code), -EINVAL);

    assert_true(hostlink_error_is_fatal(HOSTLINK_ERR_MALFORMED));
    assert_true(hostlink_error_is_fatal(HOSTLINK_ERR_VERSION_TOO_OLD));
    assert_true(hostlink_error_is_fatal(HOSTLINK_ERR_LEASE_EXPIRED));
    assert_false(hostlink_error_is_fatal(HOSTLINK_ERR_NOT_OWNED));
    assert_false(hostlink_error_is_fatal(HOSTLINK_ERR_RATE_LIMITED));
    assert_false(hostlink_error_is_fatal(HOSTLINK_OK));

    assert_int_equal(hostlink_error_from_errno(-EPROTO), HOSTLINK_ERR_MALFORMED);
    assert_int_equal(hostlink_error_from_errno(-EMSGSIZE), HOSTLINK_ERR_MALFORMED);
    assert_int_equal(hostlink_error_from_errno(-EBUSY), HOSTLINK_ERR_BUSY);
    assert_int_equal(hostlink_error_from_errno(-ETIMEDOUT), HOSTLINK_ERR_TIMEOUT);
    assert_int_equal(hostlink_error_from_errno(-ENOMEM), HOSTLINK_ERR_INTERNAL);

    for (int m = 0; m < HOSTLINK_N_METHODS; m++) {
        enum hostlink_method back;

        assert_int_equal(hostlink_method_from_name(hostlink_method_name(m), &back), 0);
        assert_int_equal(back, m);
        assert_int_equal(hostlink_method_since(m), 1);
    }
    enum hostlink_method mm;
    assert_int_equal(hostlink_method_from_name("fw-chunk", &mm), -ENOSYS);
    assert_true(hostlink_method_is_request(HOSTLINK_RESYNC));
    assert_false(hostlink_method_is_request(HOSTLINK_PLUG_RESULT));
}

static void
test_field_types(void **state OVNIC_UNUSED)
{
    struct hostlink_mac mac = {{0}};
    struct hostlink_pci pci = {0};
    char m[HOSTLINK_MAC_LEN + 1], p[HOSTLINK_PCI_LEN + 1];

    assert_int_equal(hostlink_mac_parse("0A:58:ff:00:Be:ef", &mac), 0);
    assert_string_equal(hostlink_mac_format(&mac, m), "0a:58:ff:00:be:ef");
    assert_false(hostlink_mac_is_multicast(&mac));
    assert_false(hostlink_mac_is_zero(&mac));
    assert_int_equal(hostlink_mac_parse("0a:58:ff:00:be", &mac), -EINVAL);
    assert_int_equal(hostlink_mac_parse("0a:58:ff:00:be:eg", &mac), -EINVAL);
    assert_int_equal(hostlink_mac_parse("0a-58-ff-00-be-ef", &mac), -EINVAL);
    assert_int_equal(hostlink_mac_parse("0a:58:ff:00:be:ef:", &mac), -EINVAL);
    assert_string_equal(hostlink_mac_format(&mac, m), "0a:58:ff:00:be:ef");

    assert_int_equal(hostlink_pci_parse("ABCD:ef:1f.7", &pci), 0);
    assert_int_equal(pci.domain, 0xabcd);
    assert_int_equal(pci.bus, 0xef);
    assert_int_equal(pci.slot, 0x1f);
    assert_int_equal(pci.func, 7);
    assert_string_equal(hostlink_pci_format(&pci, p), "abcd:ef:1f.7");
    assert_int_equal(hostlink_pci_parse("abcd:ef:20.0", &pci), -EINVAL);
    assert_int_equal(hostlink_pci_parse("abcd:ef:1f.8", &pci), -EINVAL);
    assert_int_equal(hostlink_pci_parse("abcd-ef:1f.0", &pci), -EINVAL);
    assert_int_equal(hostlink_pci_parse("ef:1f.0", &pci), -EINVAL);
    assert_int_equal(pci.domain, 0xabcd);
}

static void
test_transport(void **state OVNIC_UNUSED)
{
    bool tls = false;
    struct ovnic_err err = {0};

    assert_int_equal(
        hostlink_check_transport("ssl:10.0.0.1:6640", false, false, true, &tls, NULL), 0);
    assert_true(tls);
    assert_int_equal(
        hostlink_check_transport("ssl:10.0.0.1:6640", false, false, false, &tls, NULL),
        -EINVAL);
    assert_int_equal(hostlink_check_transport("pssl:6640", true, false, true, &tls, NULL),
                     0);
    assert_int_equal(
        hostlink_check_transport("unix:/run/x", false, false, true, &tls, &err), -EINVAL);
    assert_non_null(strstr(err.message, "explicitly"));
    assert_int_equal(
        hostlink_check_transport("tcp:1.2.3.4:5", false, false, true, &tls, NULL),
        -EINVAL);
    assert_int_equal(
        hostlink_check_transport("unix:/run/x", false, true, false, &tls, NULL), 0);
    assert_false(tls);
    assert_int_equal(
        hostlink_check_transport("punix:/run/x", true, true, false, &tls, NULL), 0);
    assert_int_equal(
        hostlink_check_transport("ssl:1.2.3.4:5", true, true, true, &tls, NULL), -EINVAL);
    assert_int_equal(hostlink_check_transport("http://x", false, true, true, &tls, NULL),
                     -EINVAL);
    assert_int_equal(hostlink_check_transport(NULL, false, true, true, &tls, NULL),
                     -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bases_decode), cmocka_unit_test(test_decoded_fields),
        cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_version_fields),
        cmocka_unit_test(test_max_size),     cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_clone),        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_envelope),     cmocka_unit_test(test_replies),
        cmocka_unit_test(test_negotiate),    cmocka_unit_test(test_error_codes),
        cmocka_unit_test(test_field_types),  cmocka_unit_test(test_transport),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
