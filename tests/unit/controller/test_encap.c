/* Unit tests of dpu/controller/encap.h: the reasons an Encap ip is refused, and the
 * list of refused rows of the other chassis, kept from an SB replica (OVN's own SB
 * schema) fed with update2 notifications: each refused row is logged once, however
 * many steps run, and goes away when it is fixed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dpu/controller/encap.h"
#include "dpu/ovsdb/replica.h"
#include "dpu/ovsdb/schema.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

#define SB_SCHEMA_PATH "/usr/share/ovn/ovn-sb.ovsschema"

#define CH_OWN "c0000000-0000-0000-0000-000000000001"
#define CH_9 "c0000000-0000-0000-0000-000000000009"
#define EN_OWN "e0000000-0000-0000-0000-000000000001"
#define EN_9 "e0000000-0000-0000-0000-000000000009"

static void
test_refusal(void **state OVNIC_UNUSED)
{
    static const struct {
        const char *ip;
        int family;
        const char *why; /* NULL: accepted. */
    } cases[] = {
        {"192.0.2.9", AF_INET, NULL},
        {"192.0.2.9", AF_UNSPEC, NULL},
        {"2001:db8::9", AF_INET6, NULL},
        {"2001:db8::9", AF_UNSPEC, NULL},
        {"not-an-ip", AF_INET, "not an IP address"},
        {"", AF_INET, "not an IP address"},
        {"192.0.2.9/24", AF_INET, "not an IP address"},
        {" 192.0.2.9", AF_INET, "not an IP address"},
        {"192.0.2.256", AF_UNSPEC, "not an IP address"},
        {"::1", AF_INET6, "a loopback address"},
        {"::1", AF_INET, "a loopback address"},
        {"127.0.0.1", AF_INET, "a loopback address"},
        {"127.1.2.3", AF_UNSPEC, "a loopback address"},
        {"0.0.0.0", AF_INET, "the unspecified address"},
        {"::", AF_INET6, "the unspecified address"},
        {"255.255.255.255", AF_INET, "a broadcast address"},
        {"224.0.0.1", AF_INET, "a multicast address"},
        {"239.255.255.255", AF_UNSPEC, "a multicast address"},
        {"ff02::1", AF_INET6, "a multicast address"},
        {"2001:db8::9", AF_INET, "an IPv6 address, but the underlay is IPv4"},
        {"192.0.2.9", AF_INET6, "an IPv4 address, but the underlay is IPv6"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *why = encap_ip_refusal(cases[i].ip, cases[i].family);

        if (cases[i].why ? !why || strcmp(why, cases[i].why) : why != NULL) {
            fail_msg("\"%s\" (family %d): got '%s', want '%s'", cases[i].ip,
                     cases[i].family, why ? why : "(accepted)",
                     cases[i].why ? cases[i].why : "(accepted)");
        }
    }
    assert_string_equal(encap_ip_refusal(NULL, AF_INET), "not an IP address");
}

struct fixture {
    struct ovsdb_schema *schema;
    struct ovsdb_replica *replica;
    struct encap_check check;
    char log_path[64];
};

static void
apply(struct fixture *fx, const char *text)
{
    struct ovnic_err err = {0};
    json_error_t jerr;
    json_t *updates = json_loads(text, 0, &jerr);
    char buf[256];
    int rc;

    if (!updates) {
        fail_msg("bad test JSON: %s (column %d)", jerr.text, jerr.column);
    }
    rc = ovsdb_replica_apply(fx->replica, OVSDB_UPDATE_V2, updates, &err);
    json_decref(updates);
    if (rc) {
        fail_msg("apply: %s", ovnic_err_format(&err, buf, sizeof buf));
    }
}

/* Sets the ip of Encap EN_9 to 'ip' (a JSON string literal's contents). */
static void
set_ip(struct fixture *fx, const char *ip)
{
    char text[256];

    snprintf(text, sizeof text,
             "{\"Encap\": {\"" EN_9 "\": {\"modify\": {\"ip\": \"%s\"}}}}", ip);
    apply(fx, text);
}

/* One step as ovnic-dpud runs it: check if needed, clear the replica's tracking.
 * Returns whether the list changed. */
static bool
step(struct fixture *fx)
{
    bool changed = false;

    if (encap_check_is_needed(fx->replica)) {
        assert_int_equal(
            encap_check_run(&fx->check, fx->replica, "hv1", AF_INET, &changed), 0);
    }
    ovsdb_replica_track_clear(fx->replica);
    return changed;
}

/* How many lines of the log contain 'needle'. */
static int
log_count(const struct fixture *fx, const char *needle)
{
    FILE *f = fopen(fx->log_path, "r");
    char line[1024];
    int n = 0;

    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        n += strstr(line, needle) != NULL;
    }
    fclose(f);
    return n;
}

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct ovnic_err err = {0};
    int fd;

    if (!fx || ovsdb_schema_from_file(SB_SCHEMA_PATH, &fx->schema, &err) ||
        ovsdb_replica_create(fx->schema, &fx->replica)) {
        return -1;
    }
    encap_check_init(&fx->check);
    snprintf(fx->log_path, sizeof fx->log_path, "/tmp/test_encap.XXXXXX");
    fd = mkstemp(fx->log_path);
    if (fd < 0 || ovnic_log_open_file(fx->log_path)) {
        return -1;
    }
    close(fd);
    *state = fx;
    apply(fx, "{\"Chassis\": {"
              "  \"" CH_OWN "\": {\"initial\": {\"name\": \"hv1\","
              "     \"encaps\": [\"uuid\", \"" EN_OWN "\"]}},"
              "  \"" CH_9 "\": {\"initial\": {\"name\": \"hv9\","
              "     \"encaps\": [\"uuid\", \"" EN_9 "\"]}}},"
              " \"Encap\": {"
              "  \"" EN_OWN "\": {\"initial\": {\"type\": \"geneve\", \"ip\": \"::1\","
              "     \"chassis_name\": \"hv1\"}},"
              "  \"" EN_9 "\": {\"initial\": {\"type\": \"geneve\","
              "     \"ip\": \"192.0.2.9\", \"chassis_name\": \"hv9\"}}}}");
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    ovnic_log_open_file(NULL);
    unlink(fx->log_path);
    encap_check_destroy(&fx->check);
    ovsdb_replica_destroy(fx->replica);
    ovsdb_schema_destroy(fx->schema);
    free(fx);
    return 0;
}

/* Each bad value is listed with its reason and logged once, however many steps see
 * it; this chassis's own rows are not checked; a fixed row leaves the list. */
static void
test_check(void **state)
{
    static const struct {
        const char *ip;
        const char *why;
    } bad[] = {
        {"not-an-ip", "not an IP address"},
        {"", "not an IP address"},
        {"::1", "a loopback address"},
        {"0.0.0.0", "the unspecified address"},
        {"255.255.255.255", "a broadcast address"},
        {"2001:db8::9", "an IPv6 address, but the underlay is IPv4"},
    };
    struct fixture *fx = *state;
    char needle[256];

    /* hv9 is fine, and hv1's own "::1" is not ours to judge here. */
    assert_false(step(fx));
    assert_int_equal(fx->check.n_bad, 0);

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        set_ip(fx, bad[i].ip);
        assert_true(step(fx));
        assert_int_equal(fx->check.n_bad, 1);
        assert_string_equal(fx->check.bad[0].chassis, "hv9");
        assert_string_equal(fx->check.bad[0].type, "geneve");
        assert_string_equal(fx->check.bad[0].ip, bad[i].ip);
        assert_string_equal(fx->check.bad[0].reason, bad[i].why);

        json_t *j = encap_check_to_json(&fx->check);
        assert_int_equal(json_array_size(j), 1);
        const json_t *e = json_array_get(j, 0);
        assert_string_equal(json_string_value(json_object_get(e, "chassis")), "hv9");
        assert_string_equal(json_string_value(json_object_get(e, "ip")), bad[i].ip);
        assert_string_equal(json_string_value(json_object_get(e, "reason")), bad[i].why);
        assert_string_equal(json_string_value(json_object_get(e, "encap_uuid")), EN_9);
        json_decref(j);

        /* Other changes to the chassis rows: checked again, nothing new to log. */
        for (int k = 0; k < 5; k++) {
            char text[256];

            snprintf(text, sizeof text,
                     "{\"Chassis\": {\"" CH_9 "\": {\"modify\": "
                     "{\"hostname\": \"h%zu-%d\"}}}}",
                     i, k);
            apply(fx, text);
            assert_false(step(fx));
            assert_int_equal(fx->check.n_bad, 1);
        }
        snprintf(needle, sizeof needle,
                 "chassis \"hv9\": Encap geneve ip \"%s\" refused (%s)", bad[i].ip,
                 bad[i].why);
        assert_int_equal(log_count(fx, needle), 1);
    }

    /* Fixed: the entry goes, with one line saying so. */
    set_ip(fx, "192.0.2.19");
    assert_true(step(fx));
    assert_int_equal(fx->check.n_bad, 0);
    assert_int_equal(log_count(fx, "chassis \"hv9\": Encap geneve ip \"2001:db8::9\" "
                                   "no longer refused"),
                     1);

    /* Refused again, then the chassis is deleted: the entry goes with it. */
    set_ip(fx, "not-an-ip");
    assert_true(step(fx));
    assert_int_equal(fx->check.n_bad, 1);
    apply(fx, "{\"Chassis\": {\"" CH_9 "\": {\"delete\": null}},"
              " \"Encap\": {\"" EN_9 "\": {\"delete\": null}}}");
    assert_true(step(fx));
    assert_int_equal(fx->check.n_bad, 0);
    json_t *j = encap_check_to_json(&fx->check);
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusal),
        cmocka_unit_test_setup_teardown(test_check, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
