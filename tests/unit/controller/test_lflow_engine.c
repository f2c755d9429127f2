/* Unit tests of dpu/controller/lflow_engine.h: an SB replica (OVN's own SB schema) fed
 * with update2 notifications; the engine re-parses exactly the flows that a change
 * touches (their own row, an address set or port group they name, their datapath),
 * follows the local datapaths, reports malformed rows, and counts full recomputes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/controller/ldp.h"
#include "dpu/controller/lflow_engine.h"
#include "dpu/ovsdb/replica.h"
#include "dpu/ovsdb/schema.h"

#define SB_SCHEMA_PATH "/usr/share/ovn/ovn-sb.ovsschema"

#define DP1 "11111111-1111-1111-1111-111111111111" /* tunnel key 5 */
#define DP2 "22222222-2222-2222-2222-222222222222" /* tunnel key 6 */
#define DP3 "33333333-3333-3333-3333-333333333333" /* tunnel key 7 */
#define GRP "44444444-4444-4444-4444-444444444444" /* DP1 and DP2 */
#define AS1 "b0000000-0000-0000-0000-000000000001"
#define AS2 "b0000000-0000-0000-0000-000000000002"
#define PG6 "c0000000-0000-0000-0000-000000000006"
#define PG5 "c0000000-0000-0000-0000-000000000005"
#define F1 "a0000000-0000-0000-0000-000000000001" /* DP2: @pg1, $as1 */
#define F2 "a0000000-0000-0000-0000-000000000002" /* DP1: $as1 */
#define F3 "a0000000-0000-0000-0000-000000000003" /* DP1: $as2 */
#define F4 "a0000000-0000-0000-0000-000000000004" /* DP1: plain */
#define F5 "a0000000-0000-0000-0000-000000000005" /* GRP: @pg1 */
#define F6 "a0000000-0000-0000-0000-000000000006" /* DP1: @pg1 (row 5_pg1) */
#define F7 "a0000000-0000-0000-0000-000000000007" /* DP3: plain */
#define F_NEW "a0000000-0000-0000-0000-000000000010"
#define F_BAD "a0000000-0000-0000-0000-000000000011"
#define N_INITIAL 7

struct fixture {
    struct ovsdb_schema *schema;
    struct ovsdb_replica *replica;
    struct lflow_engine *engine;
};

#define FLOW(UUID, DP, TABLE, MATCH, ACTIONS)                                    \
    "\"" UUID "\": {\"initial\": {\"logical_datapath\": [\"uuid\", \"" DP "\"]," \
    " \"pipeline\": \"ingress\", \"table_id\": " #TABLE ", \"priority\": 100,"   \
    " \"match\": \"" MATCH "\", \"actions\": \"" ACTIONS "\","                   \
    " \"external_ids\": [\"map\", [[\"stage-name\", \"ls_in_stage" #TABLE "\"]]]}}"

static const char *const sb_contents =
    "{\"Datapath_Binding\": {"
    "  \"" DP1 "\": {\"initial\": {\"tunnel_key\": 5}},"
    "  \"" DP2 "\": {\"initial\": {\"tunnel_key\": 6}},"
    "  \"" DP3 "\": {\"initial\": {\"tunnel_key\": 7}}},"
    " \"Logical_DP_Group\": {"
    "  \"" GRP "\": {\"initial\": {\"datapaths\": [\"set\", [[\"uuid\", \"" DP1 "\"],"
    "                                                 [\"uuid\", \"" DP2 "\"]]]}}},"
    " \"Address_Set\": {"
    "  \"" AS1 "\": {\"initial\": {\"name\": \"as1\","
    "     \"addresses\": [\"set\", [\"10.0.0.1\", \"10.0.1.0/24\"]]}},"
    "  \"" AS2 "\": {\"initial\": {\"name\": \"as2\", \"addresses\": \"10.9.9.9\"}}},"
    " \"Port_Group\": {"
    "  \"" PG6 "\": {\"initial\": {\"name\": \"6_pg1\","
    "     \"ports\": [\"set\", [\"lp1\", \"lp2\"]]}},"
    "  \"" PG5 "\": {\"initial\": {\"name\": \"5_pg1\", \"ports\": \"lp5\"}}},"
    " \"Logical_Flow\": {" FLOW(F1, DP2, 4, "inport == @pg1 && ip4.src == $as1", "next;") "," FLOW(
        F2, DP1, 4, "ip4.dst == $as1",
        "next;") "," FLOW(F3, DP1, 5, "ip4.dst == $as2",
                          "next;") "," FLOW(F4, DP1, 6, "ip4",
                                            "next;") ","
                                                     "  \"" F5 "\": {\"initial\": "
                                                     "{\"logical_dp_group\": "
                                                     "[\"uuid\", \"" GRP "\"],"
                                                     "     \"pipeline\": \"ingress\", "
                                                     "\"table_id\": 1, \"priority\": 5,"
                                                     "     \"match\": \"outport == "
                                                     "@pg1\", \"actions\": "
                                                     "\"output;\"}}," FLOW(
                                                         F6, DP1, 7, "inport == @pg1",
                                                         "next;") "," FLOW(F7, DP3, 8,
                                                                           "ip6",
                                                                           "next;") "}}";

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

/* One step as ovnic-dpud runs it: track, clear the replica's tracking, run. */
static void
step(struct fixture *fx, const struct ldp *ldp)
{
    lflow_engine_track(fx->engine, fx->replica);
    ovsdb_replica_track_clear(fx->replica);
    assert_int_equal(lflow_engine_run(fx->engine, fx->replica, ldp), 0);
    assert_true(lflow_engine_is_current(fx->engine));
}

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct ovnic_err err = {0};

    if (!fx || ovsdb_schema_from_file(SB_SCHEMA_PATH, &fx->schema, &err) ||
        ovsdb_replica_create(fx->schema, &fx->replica) ||
        lflow_engine_create(&fx->engine)) {
        return -1;
    }
    *state = fx;
    apply(fx, sb_contents);
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    lflow_engine_destroy(fx->engine);
    ovsdb_replica_destroy(fx->replica);
    ovsdb_schema_destroy(fx->schema);
    free(fx);
    return 0;
}

static struct lflow_engine_stats
stats(const struct fixture *fx)
{
    struct lflow_engine_stats s;

    lflow_engine_get_stats(fx->engine, &s);
    return s;
}

static const struct lflow_parsed *
find(const struct fixture *fx, const char *uuid_s)
{
    struct uuid uuid;

    assert_int_equal(uuid_from_string(uuid_s, &uuid), 0);
    return lflow_engine_find(fx->engine, &uuid);
}

static const struct lflow_error *
find_failure(const struct fixture *fx, const char *uuid_s)
{
    struct uuid uuid;

    assert_int_equal(uuid_from_string(uuid_s, &uuid), 0);
    return lflow_engine_find_failure(fx->engine, &uuid);
}

/* The match IR of flow 'uuid_s' as text; caller frees. */
static char *
match_ir(const struct fixture *fx, const char *uuid_s)
{
    const struct lflow_parsed *p = find(fx, uuid_s);

    assert_non_null(p);
    return expr_match_list_format(p->matches);
}

static void
ldp_add(struct ldp *ldp, const char *uuid_s, int64_t key)
{
    struct ldp_datapath *dp = calloc(1, sizeof *dp);

    assert_non_null(dp);
    assert_int_equal(uuid_from_string(uuid_s, &dp->uuid), 0);
    dp->tunnel_key = key;
    hmap_insert(&ldp->datapaths, &dp->node, uuid_hash(&dp->uuid));
}

static void
ldp_del(struct ldp *ldp, const char *uuid_s)
{
    struct ldp_datapath *dp;
    struct uuid uuid;

    assert_int_equal(uuid_from_string(uuid_s, &uuid), 0);
    HMAP_FOR_EACH_WITH_HASH (dp, node, uuid_hash(&uuid), &ldp->datapaths) {
        if (uuid_equals(&dp->uuid, &uuid)) {
            hmap_remove(&ldp->datapaths, &dp->node);
            free(dp);
            return;
        }
    }
    fail_msg("%s not local", uuid_s);
}

/* The first run is a full recompute; a step with no change does nothing. */
static void
test_first_run_full(void **state)
{
    struct fixture *fx = *state;
    struct lflow_engine_stats s;

    assert_false(lflow_engine_is_current(fx->engine));
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.full_recomputes, 1);
    assert_string_equal(s.last_full_reason, "first run");
    assert_int_equal(s.flows, N_INITIAL);
    assert_int_equal(s.failures, 0);
    assert_int_equal(s.parsed_full, N_INITIAL);
    assert_int_equal(s.parsed_total, N_INITIAL);
    assert_int_equal(s.incremental_runs, 0);
    assert_non_null(find(fx, F5));

    /* An empty list of failures. */
    json_t *j = lflow_engine_to_json(fx->engine, true, 10);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "failed_flows")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "full_recomputes")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "last_full_reason")),
                        "first run");
    assert_true(json_is_true(json_object_get(j, "current")));
    json_decref(j);

    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.full_recomputes, 1);
    assert_int_equal(s.incremental_runs, 0);
    assert_int_equal(s.parsed_total, N_INITIAL);
}

/* Inserted, modified and deleted Logical_Flow rows are parsed again one by one. */
static void
test_flow_changes(void **state)
{
    struct fixture *fx = *state;
    struct lflow_engine_stats s;
    char *ir;

    step(fx, NULL);
    apply(fx, "{\"Logical_Flow\": {" FLOW(F_NEW, DP1, 9, "tcp.dst == 80", "next;") "}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.incremental_runs, 1);
    assert_int_equal(s.parsed_incremental, 1);
    assert_int_equal(s.parsed_new, 1);
    assert_int_equal(s.flows, N_INITIAL + 1);
    assert_non_null(find(fx, F_NEW));

    apply(fx, "{\"Logical_Flow\": {\"" F4 "\": {\"modify\": {\"match\": \"ip6\"}}}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.parsed_incremental, 2);
    assert_int_equal(s.reparsed_flow, 1);
    ir = match_ir(fx, F4);
    assert_string_equal(ir, "eth.type=0x86dd");
    free(ir);

    apply(fx, "{\"Logical_Flow\": {\"" F3 "\": {\"delete\": null}}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.removed, 1);
    assert_int_equal(s.flows, N_INITIAL);
    assert_int_equal(s.parsed_incremental, 2);
    assert_null(find(fx, F3));

    /* Nothing names "as2" any more. */
    apply(fx, "{\"Address_Set\": {\"" AS2 "\": {\"modify\": "
              "{\"addresses\": [\"set\", [\"10.9.9.8\"]]}}}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.parsed_incremental, 2);
    assert_int_equal(s.reparsed_address_set, 0);
    assert_int_equal(s.full_recomputes, 1);
}

/* A changed address set re-parses exactly the flows that name it. */
static void
test_address_set_change(void **state)
{
    struct fixture *fx = *state;
    struct lflow_engine_stats s;
    char *ir;

    step(fx, NULL);
    apply(fx, "{\"Address_Set\": {\"" AS1 "\": {\"modify\": "
              "{\"addresses\": [\"set\", [\"10.0.1.0/24\"]]}}}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.reparsed_address_set, 2); /* F1 and F2. */
    assert_int_equal(s.parsed_incremental, 2);
    assert_int_equal(s.parsed_total, N_INITIAL + 2);
    assert_int_equal(s.full_recomputes, 1);
    ir = match_ir(fx, F2);
    assert_string_equal(ir, "eth.type=0x800 ip4.dst=10.0.0.1");
    free(ir);

    /* Deleting the set leaves both flows failing, with the name in the reason. */
    apply(fx, "{\"Address_Set\": {\"" AS1 "\": {\"delete\": null}}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.reparsed_address_set, 4);
    assert_int_equal(s.failures, 2);
    assert_int_equal(s.flows, N_INITIAL - 2);
    assert_null(find(fx, F2));
    assert_non_null(find_failure(fx, F2));

    /* ... and its return fixes them. */
    apply(fx, "{\"Address_Set\": {\"" AS1 "\": {\"insert\": "
              "{\"name\": \"as1\", \"addresses\": \"10.1.1.1\"}}}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.reparsed_address_set, 6);
    assert_int_equal(s.failures, 0);
    assert_int_equal(s.failures_total, 2);
    assert_int_equal(s.flows, N_INITIAL);
    ir = match_ir(fx, F2);
    assert_string_equal(ir, "eth.type=0x800 ip4.dst=10.1.1.1");
    free(ir);
}

/* "<key>_<name>" port-group rows re-parse only the flows of the datapath with that
 * key; a datapath's new tunnel key re-parses its port-group flows. */
static void
test_port_group_and_datapath(void **state)
{
    struct fixture *fx = *state;
    struct lflow_engine_stats s;
    char *ir;

    step(fx, NULL);
    apply(fx, "{\"Port_Group\": {\"" PG6 "\": {\"modify\": "
              "{\"ports\": [\"set\", [\"lp3\"]]}}}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.reparsed_port_group, 2); /* F1 (key 6) and F5 (keys 5, 6). */
    assert_int_equal(s.parsed_incremental, 2);

    apply(fx, "{\"Port_Group\": {\"" PG5 "\": {\"modify\": "
              "{\"ports\": [\"set\", [\"lp6\"]]}}}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.reparsed_port_group, 4); /* F5 and F6. */
    ir = match_ir(fx, F6);
    assert_string_equal(ir, "inport=\"lp5\" || inport=\"lp6\"");
    free(ir);

    /* DP2 becomes key 8: F1 has no "8_pg1" and fails; F5 falls back to "5_pg1". */
    apply(fx, "{\"Datapath_Binding\": {\"" DP2 "\": {\"modify\": {\"tunnel_key\": 8}}}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.reparsed_datapath, 2);
    assert_int_equal(s.failures, 1);
    assert_non_null(find_failure(fx, F1));
    ir = match_ir(fx, F5);
    assert_string_equal(ir, "outport=\"lp5\" || outport=\"lp6\"");
    free(ir);

    /* A new "8_pg1" row fixes F1. */
    apply(fx, "{\"Port_Group\": {\"c0000000-0000-0000-0000-000000000008\": "
              "{\"insert\": {\"name\": \"8_pg1\", \"ports\": \"lp8\"}}}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.failures, 0);
    ir = match_ir(fx, F1);
    assert_string_equal(ir, "inport=\"lp8\" eth.type=0x800 ip4.src=10.0.0.1 || "
                            "inport=\"lp8\" eth.type=0x800 ip4.src=10.0.1.0/24");
    free(ir);
    assert_int_equal(s.full_recomputes, 1);
}

/* A malformed row is reported with its uuid, stage, table and the parser's message,
 * counted, and skipped; the other flows stay. */
static void
test_bad_flow(void **state)
{
    struct fixture *fx = *state;
    const struct lflow_error *e;
    struct lflow_engine_stats s;
    const json_t *f;
    json_t *j;

    step(fx, NULL);
    apply(fx,
          "{\"Logical_Flow\": {" FLOW(F_BAD, DP1, 3, "ip4 && $nope &&", "next;") "}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.failures, 1);
    assert_int_equal(s.failures_total, 1);
    assert_int_equal(s.flows, N_INITIAL);
    e = find_failure(fx, F_BAD);
    assert_non_null(e);
    assert_string_equal(e->stage, "ls_in_stage3");
    assert_string_equal(e->part, "match");
    assert_int_equal(e->table_id, 3);
    assert_null(find(fx, F_BAD));

    j = lflow_engine_to_json(fx->engine, true, 10);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "failures")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "flows")), N_INITIAL);
    assert_int_equal(json_array_size(json_object_get(j, "failed_flows")), 1);
    f = json_array_get(json_object_get(j, "failed_flows"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "uuid")), F_BAD);
    assert_string_equal(json_string_value(json_object_get(f, "stage")), "ls_in_stage3");
    assert_string_equal(json_string_value(json_object_get(f, "pipeline")), "ingress");
    assert_int_equal(json_integer_value(json_object_get(f, "table")), 3);
    assert_string_equal(json_string_value(json_object_get(f, "match")),
                        "ip4 && $nope &&");
    assert_non_null(strstr(json_string_value(json_object_get(f, "reason")), "nope"));
    assert_false(json_is_true(json_object_get(j, "failed_flows_truncated")));
    json_decref(j);

    j = lflow_engine_to_json(fx->engine, true, 0);
    assert_int_equal(json_array_size(json_object_get(j, "failed_flows")), 0);
    assert_true(json_is_true(json_object_get(j, "failed_flows_truncated")));
    json_decref(j);
    j = lflow_engine_to_json(fx->engine, false, 0);
    assert_null(json_object_get(j, "failed_flows"));
    json_decref(j);

    /* The names of the failed match are indexed: "$nope" appearing re-parses it
     * (it still fails, now at the end of the text). */
    apply(fx, "{\"Address_Set\": {\"b0000000-0000-0000-0000-000000000009\": "
              "{\"insert\": {\"name\": \"nope\", \"addresses\": \"10.0.0.9\"}}}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.reparsed_address_set, 1);
    assert_int_equal(s.failures_total, 2);
    e = find_failure(fx, F_BAD);
    assert_non_null(e);
    assert_null(strstr(e->err.detail, "nope"));

    /* Fixing the row clears the failure; deleting a failing row also does. */
    apply(fx, "{\"Logical_Flow\": {\"" F_BAD "\": {\"modify\": {\"match\": "
              "\"ip4 && ip4.src == $nope\"}}}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.failures, 0);
    assert_int_equal(s.flows, N_INITIAL + 1);
    apply(fx,
          "{\"Logical_Flow\": {\"" F_BAD "\": {\"modify\": {\"actions\": \"bogus;\"}}}}");
    step(fx, NULL);
    assert_int_equal(stats(fx).failures, 1);
    assert_string_equal(find_failure(fx, F_BAD)->part, "actions");
    apply(fx, "{\"Logical_Flow\": {\"" F_BAD "\": {\"delete\": null}}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.failures, 0);
    assert_int_equal(s.flows, N_INITIAL);
    assert_int_equal(s.full_recomputes, 1);
}

/* Full recomputes: on request (a full resync), on a renamed address set, on a new
 * replica object; each counted with its reason. */
static void
test_full_recompute(void **state)
{
    struct fixture *fx = *state;
    struct ovsdb_replica *other;
    struct lflow_engine_stats s;
    json_error_t jerr;
    json_t *contents;

    step(fx, NULL);
    lflow_engine_request_full(fx->engine, "full resync");
    assert_false(lflow_engine_is_current(fx->engine));
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.full_recomputes, 2);
    assert_string_equal(s.last_full_reason, "full resync");
    assert_int_equal(s.parsed_full, 2 * N_INITIAL);
    assert_int_equal(s.flows, N_INITIAL);

    apply(fx, "{\"Address_Set\": {\"" AS2 "\": {\"modify\": {\"name\": \"as3\"}}}}");
    step(fx, NULL);
    s = stats(fx);
    assert_int_equal(s.full_recomputes, 3);
    assert_string_equal(s.last_full_reason, "an address set or port group was renamed");
    assert_int_equal(s.failures, 1); /* F3 names "as2". */

    /* A rebuilt replica (another object) holding the same rows. */
    assert_int_equal(ovsdb_replica_create(fx->schema, &other), 0);
    contents = json_loads(sb_contents, 0, &jerr);
    assert_non_null(contents);
    assert_int_equal(ovsdb_replica_apply(other, OVSDB_UPDATE_V2, contents, NULL), 0);
    json_decref(contents);
    ovsdb_replica_track_clear(other);
    assert_int_equal(lflow_engine_run(fx->engine, other, NULL), 0);
    s = stats(fx);
    assert_int_equal(s.full_recomputes, 4);
    assert_string_equal(s.last_full_reason, "replica rebuilt");
    assert_int_equal(s.failures, 0);
    assert_int_equal(s.flows, N_INITIAL);
    /* Back to the first: the engine holds no row of 'other'. */
    assert_int_equal(lflow_engine_run(fx->engine, fx->replica, NULL), 0);
    ovsdb_replica_destroy(other);
    assert_int_equal(stats(fx).full_recomputes, 5);
}

/* Only flows of local datapaths are parsed; flows follow datapaths that become local
 * or stop being local, and datapath groups that change. */
static void
test_local_datapaths(void **state)
{
    struct fixture *fx = *state;
    struct lflow_engine_stats s;
    struct ldp ldp;

    ldp_init(&ldp);
    ldp_add(&ldp, DP3, 7);
    step(fx, &ldp);
    s = stats(fx);
    assert_int_equal(s.flows, 1); /* F7. */
    assert_non_null(find(fx, F7));

    /* DP1 becomes local: its flows and the group's flow are parsed. */
    ldp_add(&ldp, DP1, 5);
    step(fx, &ldp);
    s = stats(fx);
    assert_int_equal(s.parsed_new, 5); /* F2, F3, F4, F5, F6. */
    assert_int_equal(s.flows, 6);
    assert_null(find(fx, F1));
    assert_int_equal(s.full_recomputes, 1);

    /* A flow of a datapath that is not local is not parsed. */
    apply(fx, "{\"Logical_Flow\": {" FLOW(F_NEW, DP2, 9, "ip4", "next;") "}}");
    step(fx, &ldp);
    s = stats(fx);
    assert_int_equal(s.parsed_new, 5);
    assert_null(find(fx, F_NEW));

    /* The group loses DP1: its flow goes. */
    apply(fx, "{\"Logical_DP_Group\": {\"" GRP "\": {\"modify\": {\"datapaths\": "
              "[\"set\", [[\"uuid\", \"" DP1 "\"]]]}}}}");
    step(fx, &ldp);
    s = stats(fx);
    assert_int_equal(s.removed, 1);
    assert_null(find(fx, F5));

    /* ... and gets it back. */
    apply(fx, "{\"Logical_DP_Group\": {\"" GRP "\": {\"modify\": {\"datapaths\": "
              "[\"set\", [[\"uuid\", \"" DP1 "\"]]]}}}}");
    step(fx, &ldp);
    assert_non_null(find(fx, F5));
    assert_int_equal(stats(fx).parsed_new, 6);

    /* DP1 stops being local; DP2 becomes local. */
    ldp_del(&ldp, DP1);
    ldp_add(&ldp, DP2, 6);
    step(fx, &ldp);
    s = stats(fx);
    assert_int_equal(s.removed, 1 + 4); /* F2, F3, F4, F6. */
    assert_non_null(find(fx, F1));
    assert_non_null(find(fx, F5));
    assert_non_null(find(fx, F_NEW));
    assert_null(find(fx, F2));
    assert_int_equal(s.flows, 4); /* F1, F5, F7, F_NEW. */

    /* Without a filter, every flow. */
    step(fx, NULL);
    assert_int_equal(stats(fx).flows, N_INITIAL + 1);
    assert_int_equal(stats(fx).full_recomputes, 1);
    ldp_destroy(&ldp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_run_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flow_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_set_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_group_and_datapath, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_recompute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_datapaths, setup, teardown),
    };
    lflow_engine_destroy(NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
