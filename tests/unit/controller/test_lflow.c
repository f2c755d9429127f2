/* Unit tests of dpu/controller/lflow.h: Logical_Flow rows of an SB replica (built
 * from OVN's own SB schema) parsed into match and actions IR, with address sets and
 * port groups resolved from the replica, and errors that name the row. */
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

#include "dpu/controller/lflow.h"
#include "dpu/ovsdb/replica.h"
#include "dpu/ovsdb/schema.h"

#define SB_SCHEMA_PATH "/usr/share/ovn/ovn-sb.ovsschema"

#define DP1 "11111111-1111-1111-1111-111111111111"
#define DP2 "22222222-2222-2222-2222-222222222222"
#define GRP "33333333-3333-3333-3333-333333333333"
#define F_OK1 "a0000000-0000-0000-0000-000000000001"
#define F_OK2 "a0000000-0000-0000-0000-000000000002"
#define F_GRP "a0000000-0000-0000-0000-000000000003"
#define F_BAD_ACT "a0000000-0000-0000-0000-000000000004"
#define F_BAD_MATCH "a0000000-0000-0000-0000-000000000005"
#define F_NO_SET "a0000000-0000-0000-0000-000000000006"
#define F_PREREQ "a0000000-0000-0000-0000-000000000007"

struct fixture {
    struct ovsdb_schema *schema;
    struct ovsdb_replica *replica;
    struct symtab *symtab;
};

static const char *const sb_contents =
    "{\"Datapath_Binding\": {"
    "  \"" DP1 "\": {\"initial\": {\"tunnel_key\": 5}},"
    "  \"" DP2 "\": {\"initial\": {\"tunnel_key\": 6}}},"
    " \"Logical_DP_Group\": {"
    "  \"" GRP "\": {\"initial\": {\"datapaths\": [\"set\", [[\"uuid\", \"" DP1 "\"],"
    "                                                 [\"uuid\", \"" DP2 "\"]]]}}},"
    " \"Address_Set\": {"
    "  \"b0000000-0000-0000-0000-000000000001\": {\"initial\": {\"name\": \"as1\","
    "     \"addresses\": [\"set\", [\"10.0.0.1\", \"10.0.1.0/24\"]]}}},"
    " \"Port_Group\": {"
    "  \"c0000000-0000-0000-0000-000000000001\": {\"initial\": {\"name\": \"6_pg1\","
    "     \"ports\": [\"set\", [\"lp1\", \"lp2\"]]}}},"
    " \"Logical_Flow\": {"
    "  \"" F_OK1 "\": {\"initial\": {\"logical_datapath\": [\"uuid\", \"" DP2 "\"],"
    "     \"pipeline\": \"ingress\", \"table_id\": 4, \"priority\": 100,"
    "     \"match\": \"inport == @pg1 && ip4.src == $as1\","
    "     \"actions\": \"reg0[1] = 1; next;\","
    "     \"external_ids\": [\"map\", [[\"stage-name\", \"ls_in_acl\"]]]}},"
    "  \"" F_OK2 "\": {\"initial\": {\"logical_datapath\": [\"uuid\", \"" DP1 "\"],"
    "     \"pipeline\": \"egress\", \"table_id\": 2, \"priority\": 0,"
    "     \"match\": \"1\", \"actions\": \"next;\"}},"
    "  \"" F_GRP "\": {\"initial\": {\"logical_dp_group\": [\"uuid\", \"" GRP "\"],"
    "     \"pipeline\": \"ingress\", \"table_id\": 1, \"priority\": 5,"
    "     \"match\": \"outport == @pg1\", \"actions\": \"output;\"}},"
    "  \"" F_BAD_ACT "\": {\"initial\": {\"logical_datapath\": [\"uuid\", \"" DP1 "\"],"
    "     \"pipeline\": \"ingress\", \"table_id\": 3, \"priority\": 5,"
    "     \"match\": \"ip4\", \"actions\": \"ct_lb(10.0.0.1:80);\","
    "     \"external_ids\": [\"map\", [[\"stage-name\", \"ls_in_bogus\"]]]}},"
    "  \"" F_BAD_MATCH "\": {\"initial\": {\"logical_datapath\": [\"uuid\", \"" DP1 "\"],"
    "     \"pipeline\": \"egress\", \"table_id\": 7, \"priority\": 5,"
    "     \"match\": \"ip4 &&\", \"actions\": \"next;\","
    "     \"external_ids\": [\"map\", [[\"stage-name\", \"ls_out_bogus\"]]]}},"
    "  \"" F_NO_SET "\": {\"initial\": {\"logical_datapath\": [\"uuid\", \"" DP1 "\"],"
    "     \"pipeline\": \"ingress\", \"table_id\": 4, \"priority\": 5,"
    "     \"match\": \"inport == @pg1\", \"actions\": \"next;\"}},"
    "  \"" F_PREREQ "\": {\"initial\": {\"logical_datapath\": [\"uuid\", \"" DP1 "\"],"
    "     \"pipeline\": \"ingress\", \"table_id\": 9, \"priority\": 5,"
    "     \"match\": \"reg0[0] == 1\", \"actions\": \"ip4.dst = 10.0.0.5; next;\"}}}}";

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct ovnic_err err = {0};
    json_error_t jerr;

    if (!fx || ovsdb_schema_from_file(SB_SCHEMA_PATH, &fx->schema, &err) ||
        ovsdb_replica_create(fx->schema, &fx->replica) || symtab_create(&fx->symtab)) {
        return -1;
    }
    json_t *updates = json_loads(sb_contents, 0, &jerr);
    if (!updates) {
        fprintf(stderr, "bad test JSON: %s (line %d)\n", jerr.text, jerr.line);
        return -1;
    }
    int rc = ovsdb_replica_apply(fx->replica, OVSDB_UPDATE_V2, updates, &err);
    json_decref(updates);
    if (rc) {
        char buf[256];
        fprintf(stderr, "apply: %s\n", ovnic_err_format(&err, buf, sizeof buf));
        return -1;
    }
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    symtab_destroy(fx->symtab);
    ovsdb_replica_destroy(fx->replica);
    ovsdb_schema_destroy(fx->schema);
    free(fx);
    return 0;
}

static const struct ovsdb_row *
flow_row(const struct fixture *fx, const char *uuid_s)
{
    struct uuid uuid;

    assert_int_equal(uuid_from_string(uuid_s, &uuid), 0);
    const struct ovsdb_row *row =
        ovsdb_replica_table_find(ovsdb_replica_table(fx->replica, "Logical_Flow"), &uuid);
    assert_non_null(row);
    return row;
}

static void
assert_match_ir(const struct lflow_parsed *p, const char *want)
{
    char *ir = expr_match_list_format(p->matches);
    assert_non_null(ir);
    assert_string_equal(ir, want);
    free(ir);
}

static void
test_parse_ok(void **state)
{
    struct fixture *fx = *state;
    struct lflow_parse_stats stats = {0};
    struct lflow_parsed *p = NULL;
    struct lflow_error error;

    /* Port group "pg1" on the datapath with tunnel key 6 is SB row "6_pg1". */
    assert_int_equal(
        lflow_parse_row(fx->symtab, fx->replica, flow_row(fx, F_OK1), &p, &error, &stats),
        0);
    assert_int_equal(p->pipeline, ACTION_PIPELINE_INGRESS);
    assert_int_equal(p->table_id, 4);
    assert_int_equal(p->priority, 100);
    assert_string_equal(p->stage, "ls_in_acl");
    assert_match_ir(p, "inport=\"lp1\" eth.type=0x800 ip4.src=10.0.0.1 || "
                       "inport=\"lp1\" eth.type=0x800 ip4.src=10.0.1.0/24 || "
                       "inport=\"lp2\" eth.type=0x800 ip4.src=10.0.0.1 || "
                       "inport=\"lp2\" eth.type=0x800 ip4.src=10.0.1.0/24");
    char *actions = action_list_format(p->actions);
    /* "next;" resolved against the flow's table. */
    assert_string_equal(actions, "reg0[1] = 1; next(pipeline=ingress,table=5);");
    free(actions);
    assert_int_equal(p->refs.n_address_sets, 1);
    assert_string_equal(p->refs.address_sets[0], "as1");
    assert_int_equal(p->refs.n_port_groups, 1);
    lflow_parsed_destroy(p);

    assert_int_equal(
        lflow_parse_row(fx->symtab, fx->replica, flow_row(fx, F_OK2), &p, NULL, &stats),
        0);
    assert_int_equal(p->pipeline, ACTION_PIPELINE_EGRESS);
    assert_string_equal(p->stage, "");
    assert_match_ir(p, "1");
    lflow_parsed_destroy(p);

    /* A flow of a datapath group finds the port group of one of its datapaths. */
    assert_int_equal(
        lflow_parse_row(fx->symtab, fx->replica, flow_row(fx, F_GRP), &p, NULL, &stats),
        0);
    assert_match_ir(p, "outport=\"lp1\" || outport=\"lp2\"");
    lflow_parsed_destroy(p);

    /* The actions' prerequisites are ANDed into the match. */
    assert_int_equal(lflow_parse_row(fx->symtab, fx->replica, flow_row(fx, F_PREREQ), &p,
                                     NULL, &stats),
                     0);
    assert_match_ir(p, "reg0=0x1/0x1 eth.type=0x800");
    lflow_parsed_destroy(p);

    assert_int_equal(stats.parsed, 4);
    assert_int_equal(stats.failed, 0);
}

static void
test_parse_errors(void **state)
{
    struct fixture *fx = *state;
    struct lflow_parse_stats stats = {0};
    struct lflow_parsed *p = NULL;
    struct lflow_error error;
    char buf[512];

    assert_int_equal(lflow_parse_row(fx->symtab, fx->replica, flow_row(fx, F_BAD_ACT), &p,
                                     &error, &stats),
                     -EINVAL);
    assert_null(p);
    assert_string_equal(error.part, "actions");
    assert_string_equal(error.pipeline, "ingress");
    assert_int_equal(error.table_id, 3);
    assert_string_equal(error.stage, "ls_in_bogus");
    assert_string_equal(lflow_error_format(&error, buf, sizeof buf), F_BAD_ACT
                        " ingress table 3 (ls_in_bogus) actions: syntax error (at "
                        "`10.0.0.1' (column 7): expecting `backends')");

    assert_int_equal(lflow_parse_row(fx->symtab, fx->replica, flow_row(fx, F_BAD_MATCH),
                                     &p, &error, &stats),
                     -EINVAL);
    assert_string_equal(error.part, "match");
    assert_string_equal(error.pipeline, "egress");
    assert_string_equal(error.stage, "ls_out_bogus");
    assert_non_null(strstr(lflow_error_reason(&error, buf, sizeof buf), "end of input"));

    /* Port group "pg1" does not exist for the datapath with tunnel key 5. */
    assert_int_equal(lflow_parse_row(fx->symtab, fx->replica, flow_row(fx, F_NO_SET), &p,
                                     &error, &stats),
                     -EINVAL);
    assert_string_equal(error.part, "match");
    assert_non_null(strstr(lflow_error_format(&error, buf, sizeof buf), "pg1"));

    /* Not a Logical_Flow row. */
    struct uuid dp;
    assert_int_equal(uuid_from_string(DP1, &dp), 0);
    const struct ovsdb_row *row = ovsdb_replica_table_find(
        ovsdb_replica_table(fx->replica, "Datapath_Binding"), &dp);
    assert_int_equal(lflow_parse_row(fx->symtab, fx->replica, row, &p, &error, &stats),
                     -EINVAL);
    assert_string_equal(error.part, "row");

    assert_int_equal(stats.parsed, 0);
    assert_int_equal(stats.failed, 4);
    lflow_parsed_destroy(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
