/* ovnic integration: the OVSDB client session over ssl: with mutual authentication,
 * against a real SB ovsdb-server listening with pssl:, with certificates made by
 * ovnic's own PKI (shared/util/pki.h).  Clients with a certificate from another CA,
 * or that do not trust the server's CA, or that expect another server name, never get
 * in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/ovsdb/cs.h"
#include "ithelp.h"
#include "shared/util/pki.h"
#include "shared/util/poll.h"
#include "shared/util/tls.h"
#include "shared/util/util.h"

#define SB_DB "OVN_Southbound"
#define WAIT_MS 10000
#define REJECT_WAIT_MS 3000
#define SERVER_CN "ovnic-sb"

/* File names inside the test directory. */
struct pki_files {
    char ca[256], ca_key[256];
    char server[256], server_key[256];
    char client[256], client_key[256];
    char other_ca[256], other_ca_key[256];
    char intruder[256], intruder_key[256];
};

struct sb_ssl {
    char *dir;
    char *tcp; /* Plain remote, for ovn-sbctl. */
    char *ssl; /* ssl:127.0.0.1:PORT */
    struct pki_files pki;
    char dump_opts[1024]; /* ovsdb-client options to use the client certificate. */
};

static struct sb_ssl sbs;

static void
path_set(char *buf, const char *name)
{
    snprintf(buf, 256, "%s/%s", sbs.dir, name);
}

static int
pki_make(struct pki_files *p)
{
    struct ovnic_err err = {0};
    char msg[512];
    int error;

    path_set(p->ca, "ca.pem");
    path_set(p->ca_key, "ca-key.pem");
    path_set(p->server, "server.pem");
    path_set(p->server_key, "server-key.pem");
    path_set(p->client, "client.pem");
    path_set(p->client_key, "client-key.pem");
    path_set(p->other_ca, "other-ca.pem");
    path_set(p->other_ca_key, "other-ca-key.pem");
    path_set(p->intruder, "intruder.pem");
    path_set(p->intruder_key, "intruder-key.pem");

    error = pki_ca_create("ovnic-it-ca", 2, p->ca, p->ca_key, &err);
    error = error ? error
                  : pki_cert_issue(p->ca, p->ca_key, SERVER_CN, 2, p->server,
                                   p->server_key, &err);
    error = error ? error
                  : pki_cert_issue(p->ca, p->ca_key, "ovnic-dpu-1", 2, p->client,
                                   p->client_key, &err);
    error = error
                ? error
                : pki_ca_create("ovnic-other-ca", 2, p->other_ca, p->other_ca_key, &err);
    error = error ? error
                  : pki_cert_issue(p->other_ca, p->other_ca_key, "ovnic-dpu-1", 2,
                                   p->intruder, p->intruder_key, &err);
    if (error) {
        fprintf(stderr, "PKI: %s\n", ovnic_err_format(&err, msg, sizeof msg));
    }
    return error;
}

static int
group_setup(void **state OVNIC_UNUSED)
{
    sbs.dir = it_tmpdir_create();
    if (!sbs.dir || pki_make(&sbs.pki)) {
        return -1;
    }
    sbs.tcp = it_central("start-sb '%s' --ssl-key '%s' --ssl-cert '%s' --ssl-ca '%s'",
                         sbs.dir, sbs.pki.server_key, sbs.pki.server, sbs.pki.ca);
    sbs.ssl = it_central("remote '%s' sb ssl", sbs.dir);
    snprintf(sbs.dump_opts, sizeof sbs.dump_opts, "-p '%s' -c '%s' -C '%s'",
             sbs.pki.client_key, sbs.pki.client, sbs.pki.ca);
    return sbs.tcp && sbs.ssl && !strncmp(sbs.ssl, "ssl:", 4) ? 0 : -1;
}

static int
group_teardown(void **state OVNIC_UNUSED)
{
    it_tmpdir_remove(sbs.dir);
    free(sbs.dir);
    free(sbs.tcp);
    free(sbs.ssl);
    return 0;
}

static void
client_create(struct it_fixture *fx, const struct tls_config *tls)
{
    struct ovsdb_cs_config cfg = it_cs_config(sbs.ssl, SB_DB);

    cfg.tls = tls;
    cfg.backoff_max_ms = 300;
    assert_int_equal(it_fixture_client_create(fx, &cfg), 0);
}

static void
sbctl_run(const char *args)
{
    char *out = it_sbctl(sbs.tcp, "%s", args);

    assert_non_null(out);
    free(out);
}

/* Mutual authentication succeeds: the replica follows writes and equals a dump made
 * over ssl: by ovsdb-client with the same client certificate. */
static void
test_ssl_sync(void **state)
{
    struct it_fixture *fx = *state;
    struct tls_config tls = {
        .ca_file = sbs.pki.ca,
        .cert_file = sbs.pki.client,
        .key_file = sbs.pki.client_key,
        .peer_name = SERVER_CN,
    };
    struct ovsdb_cs_stats stats;
    json_t *dump;

    client_create(fx, &tls);
    assert_true(it_loop_until(fx->loop, it_cs_is_synced, fx->cs, WAIT_MS));
    assert_string_equal(ovsdb_cs_remote(fx->cs), sbs.ssl);

    sbctl_run("-- chassis-add hv-tls geneve 10.50.0.1"
              " -- set Chassis hv-tls external_ids:secure=yes"
              " -- --id=@dp create Datapath_Binding tunnel_key=77"
              " -- create Port_Binding logical_port=lp-tls datapath=@dp tunnel_key=3"
              " 'mac=\"00:00:00:00:50:01 10.50.1.1\"'"
              " -- create Logical_Flow logical_datapath=@dp pipeline=egress table_id=1"
              " priority=10 'match=\"outport == \\\"lp-tls\\\"\"' 'actions=\"output;\"'");
    dump =
        it_wait_replica_matches_server(fx->loop, fx->cs, sbs.ssl, sbs.dump_opts, WAIT_MS);
    assert_non_null(dump);
    assert_int_equal(it_db_count(dump, "Port_Binding"), 1);
    json_decref(dump);

    ovsdb_cs_get_stats(fx->cs, &stats);
    assert_int_equal(stats.errors, 0);
    assert_int_equal(stats.full_syncs, 1);
}

/* A client rejected during or right after the handshake keeps retrying, counts each
 * failure, and never reaches SYNCED. */
static void
expect_rejected(struct it_fixture *fx, const struct tls_config *tls, const char *what)
{
    struct ovsdb_cs_stats stats;

    client_create(fx, tls);
    assert_false(it_loop_until(fx->loop, it_cs_is_synced, fx->cs, REJECT_WAIT_MS));
    assert_null(ovsdb_cs_replica(fx->cs));
    ovsdb_cs_get_stats(fx->cs, &stats);
    printf("%s: state %s, %llu errors, %llu connects\n", what,
           ovsdb_cs_state_to_string(ovsdb_cs_state(fx->cs)),
           (unsigned long long)stats.errors, (unsigned long long)stats.connects);
    assert_true(stats.errors >= 2);
    assert_int_equal(stats.full_syncs, 0);
}

/* The server does not know the client's CA. */
static void
test_ssl_client_from_other_ca(void **state)
{
    struct tls_config tls = {
        .ca_file = sbs.pki.ca,
        .cert_file = sbs.pki.intruder,
        .key_file = sbs.pki.intruder_key,
    };

    expect_rejected(*state, &tls, "client certificate from another CA");
}

/* The client does not trust the server's CA. */
static void
test_ssl_server_from_other_ca(void **state)
{
    struct tls_config tls = {
        .ca_file = sbs.pki.other_ca,
        .cert_file = sbs.pki.intruder,
        .key_file = sbs.pki.intruder_key,
    };

    expect_rejected(*state, &tls, "server certificate from an untrusted CA");
}

/* The server's certificate is valid but names another server. */
static void
test_ssl_wrong_peer_name(void **state)
{
    struct tls_config tls = {
        .ca_file = sbs.pki.ca,
        .cert_file = sbs.pki.client,
        .key_file = sbs.pki.client_key,
        .peer_name = "not-" SERVER_CN,
    };

    expect_rejected(*state, &tls, "server with another name");
}

/* ovnicctl over ssl:. */
static void
test_ssl_ovnicctl(void **state OVNIC_UNUSED)
{
    char *out = NULL;

    assert_int_equal(
        it_run(&out,
               "'%s/tools/ovnicctl/ovnicctl' ovsdb dump --db=%s --ca-cert='%s'"
               " --certificate='%s' --private-key='%s' --peer-name=" SERVER_CN " Chassis",
               it_build_dir(), sbs.ssl, sbs.pki.ca, sbs.pki.client, sbs.pki.client_key),
        0);
    assert_non_null(strstr(out, "hv-tls"));
    free(out);
    assert_int_equal(
        it_run(NULL,
               "'%s/tools/ovnicctl/ovnicctl' ovsdb dump --db=%s --ca-cert='%s'"
               " --certificate='%s' --private-key='%s' --timeout=2 Chassis",
               it_build_dir(), sbs.ssl, sbs.pki.ca, sbs.pki.intruder,
               sbs.pki.intruder_key),
        1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ssl_sync, it_fixture_setup,
                                        it_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ssl_client_from_other_ca, it_fixture_setup,
                                        it_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ssl_server_from_other_ca, it_fixture_setup,
                                        it_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ssl_wrong_peer_name, it_fixture_setup,
                                        it_fixture_teardown),
        cmocka_unit_test(test_ssl_ovnicctl),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
