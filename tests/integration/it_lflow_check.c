/* ovnic integration: every logical flow that a real ovn-northd 23.03 writes for the
 * reference topologies (tests/topologies) parses with ovnic's match and actions
 * parsers, as "ovnicctl lflow-check" reports it; and a malformed flow inserted by
 * hand is reported by uuid, stage and reason while the rest still parse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ithelp.h"
#include "shared/util/util.h"

struct central {
    char *dir;
    char *sb; /* tcp: remote of the SB. */
    char *nb; /* tcp: remote of the NB. */
};

static struct central central;

static int
group_setup(void **state OVNIC_UNUSED)
{
    central.dir = it_tmpdir_create();
    if (!central.dir) {
        return -1;
    }
    central.sb = it_central("start-sb '%s'", central.dir);
    central.nb = it_central("start-nb '%s'", central.dir);
    char *northd = it_central("start-northd '%s'", central.dir);
    free(northd);
    if (!central.sb || !central.nb || strncmp(central.sb, "tcp:", 4) ||
        strncmp(central.nb, "tcp:", 4)) {
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state OVNIC_UNUSED)
{
    if (central.dir) {
        it_tmpdir_remove(central.dir);
    }
    free(central.dir);
    free(central.sb);
    free(central.nb);
    return 0;
}

/* Runs "ovnicctl lflow-check --format=json" on the SB.  Returns the parsed output
 * (caller owns) and its exit status in '*status'. */
static json_t *
lflow_check(int *status)
{
    char *out = NULL;
    json_error_t jerr;

    *status = it_run(&out,
                     "'%s/tools/ovnicctl/ovnicctl' lflow-check --db='%s' --format=json"
                     " --timeout=20",
                     it_build_dir(), central.sb);
    json_t *json = out ? json_loads(out, 0, &jerr) : NULL;
    if (!json) {
        fprintf(stderr, "lflow-check output is not JSON (status %d): %s\n", *status,
                out ? out : "(none)");
    }
    free(out);
    return json;
}

static json_int_t
json_int_of(const json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

/* Prints the failures of an lflow-check report, to explain a failed assertion. */
static void
print_failures(const json_t *report)
{
    size_t i;
    json_t *f;

    json_array_foreach(json_object_get(report, "failures"), i, f)
    {
        fprintf(stderr, "  %s %s: %s\n    match: %s\n    actions: %s\n",
                json_string_value(json_object_get(f, "uuid")),
                json_string_value(json_object_get(f, "stage")),
                json_string_value(json_object_get(f, "reason")),
                json_string_value(json_object_get(f, "match")),
                json_string_value(json_object_get(f, "actions")));
    }
}

/* Applies each topology in turn; after each one, every flow must parse and there
 * must be more flows than before. */
static void
test_topologies_parse(void **state OVNIC_UNUSED)
{
    char *list = NULL;
    json_int_t prev_total = 0;
    size_t n_topologies = 0;

    assert_int_equal(it_run(&list, "'%s/tests/topologies/all.sh' list", it_source_dir()),
                     0);
    assert_non_null(list);
    for (char *save = NULL, *path = strtok_r(list, "\n", &save); path;
         path = strtok_r(NULL, "\n", &save)) {
        int status;

        fprintf(stderr, "topology %s\n", strrchr(path, '/') + 1);
        assert_int_equal(it_run(NULL, "NB_REMOTE='%s' '%s' >/dev/null", central.nb, path),
                         0);
        json_t *report = lflow_check(&status);
        assert_non_null(report);
        json_int_t total = json_int_of(report, "total");
        json_int_t failed = json_int_of(report, "failed");
        if (failed) {
            print_failures(report);
        }
        assert_int_equal(failed, 0);
        assert_int_equal(status, 0);
        assert_true(total > 0);
        assert_true(total > prev_total);
        assert_int_equal(json_int_of(report, "parsed"), total);
        assert_true(json_array_size(json_object_get(report, "stages")) > 0);
        prev_total = total;
        n_topologies++;
        json_decref(report);
    }
    free(list);
    assert_true(n_topologies >= 10);
}

/* Two malformed flows (bad actions, unknown address set in the match) inserted with
 * ovn-northd paused, so that it does not remove them. */
static void
test_malformed_flow_reported(void **state OVNIC_UNUSED)
{
    int status;
    json_t *before = lflow_check(&status);
    assert_non_null(before);
    json_int_t total = json_int_of(before, "total");
    json_decref(before);

    assert_int_equal(it_run(NULL, "ovn-appctl -t '%s/northd.ctl' pause", central.dir), 0);
    char *dp = it_sbctl(central.sb, "--bare --columns=_uuid find Datapath_Binding"
                                    " external_ids:name=l2-sw");
    assert_non_null(dp);
    dp[strcspn(dp, "\n")] = '\0';
    char *bad_actions =
        it_sbctl(central.sb,
                 "create Logical_Flow logical_datapath=%s pipeline=ingress table_id=3"
                 " priority=7 'match=\"ip4\"' 'actions=\"ct_lb(10.0.0.1:80);\"'"
                 " external_ids:stage-name=ls_in_bogus_actions",
                 dp);
    char *bad_match =
        it_sbctl(central.sb,
                 "create Logical_Flow logical_datapath=%s pipeline=egress table_id=2"
                 " priority=7 'match=\"ip4.src == $no_such_set\"' 'actions=\"next;\"'"
                 " external_ids:stage-name=ls_out_bogus_match",
                 dp);
    assert_non_null(bad_actions);
    assert_non_null(bad_match);
    bad_actions[strcspn(bad_actions, "\n")] = '\0';
    bad_match[strcspn(bad_match, "\n")] = '\0';

    json_t *report = lflow_check(&status);
    assert_non_null(report);
    assert_int_equal(status, 1);
    assert_int_equal(json_int_of(report, "total"), total + 2);
    assert_int_equal(json_int_of(report, "parsed"), total);
    assert_int_equal(json_int_of(report, "failed"), 2);

    json_t *failures = json_object_get(report, "failures");
    assert_int_equal(json_array_size(failures), 2);
    size_t i, seen = 0;
    json_t *f;
    json_array_foreach(failures, i, f)
    {
        const char *uuid = json_string_value(json_object_get(f, "uuid"));
        const char *stage = json_string_value(json_object_get(f, "stage"));
        const char *reason = json_string_value(json_object_get(f, "reason"));
        const char *part = json_string_value(json_object_get(f, "part"));
        assert_non_null(uuid);
        assert_non_null(reason);
        if (!strcmp(uuid, bad_actions)) {
            assert_string_equal(stage, "ls_in_bogus_actions");
            assert_string_equal(part, "actions");
            assert_string_equal(json_string_value(json_object_get(f, "pipeline")),
                                "ingress");
            assert_int_equal(json_int_of(f, "table"), 3);
            assert_non_null(strstr(reason, "syntax error"));
            assert_non_null(strstr(reason, "column 7"));
            seen |= 1;
        } else if (!strcmp(uuid, bad_match)) {
            assert_string_equal(stage, "ls_out_bogus_match");
            assert_string_equal(part, "match");
            assert_string_equal(json_string_value(json_object_get(f, "pipeline")),
                                "egress");
            assert_non_null(strstr(reason, "no_such_set"));
            seen |= 2;
        }
    }
    assert_int_equal(seen, 3);
    json_decref(report);

    /* The table form reports the same, with exit status 1. */
    char *out = NULL;
    status = it_run(&out, "'%s/tools/ovnicctl/ovnicctl' lflow-check --db='%s'",
                    it_build_dir(), central.sb);
    assert_int_equal(status, 1);
    assert_non_null(out);
    assert_non_null(strstr(out, bad_actions));
    assert_non_null(strstr(out, "failed 2"));
    free(out);

    /* Once they are gone, everything parses again. */
    free(it_sbctl(central.sb, "destroy Logical_Flow %s", bad_actions));
    free(it_sbctl(central.sb, "destroy Logical_Flow %s", bad_match));
    report = lflow_check(&status);
    assert_non_null(report);
    assert_int_equal(status, 0);
    assert_int_equal(json_int_of(report, "failed"), 0);
    json_decref(report);
    assert_int_equal(it_run(NULL, "ovn-appctl -t '%s/northd.ctl' resume", central.dir),
                     0);

    free(dp);
    free(bad_actions);
    free(bad_match);
}

/* Usage errors and an unreachable server. */
static void
test_errors(void **state OVNIC_UNUSED)
{
    const char *ctl = it_build_dir();

    assert_int_equal(
        it_run(NULL, "'%s/tools/ovnicctl/ovnicctl' lflow-check 2>/dev/null", ctl), 2);
    assert_int_equal(it_run(NULL,
                            "'%s/tools/ovnicctl/ovnicctl' lflow-check --db=bogus"
                            " 2>/dev/null",
                            ctl),
                     2);
    assert_int_equal(it_run(NULL,
                            "'%s/tools/ovnicctl/ovnicctl' lflow-check --db='%s'"
                            " --format=xml 2>/dev/null",
                            ctl, central.sb),
                     2);
    assert_int_equal(it_run(NULL,
                            "'%s/tools/ovnicctl/ovnicctl' lflow-check"
                            " --db=tcp:127.0.0.1:1 --timeout=1 2>/dev/null",
                            ctl),
                     1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topologies_parse),
        cmocka_unit_test(test_malformed_flow_reported),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
