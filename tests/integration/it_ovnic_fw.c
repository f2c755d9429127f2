/* Integration test of the ovnic-fw tool: --help of every command, keys of both types,
 * a build from the example recipe, local signing and the external-signing pair
 * (sign-request on the build host, sign-response where the key is,
 * attach-signature), verify against a 2-of-2 trust store with revocation, the
 * device and security-version checks, inspect of a bad image, and the same field
 * names in table and JSON output.  Label integration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ithelp.h"

static char fw_bin[4096];
static char *dir;

/* Runs "ovnic-fw ARGS" in the test directory; stdout in '*out' (may be NULL), stderr
 * in DIR/err (overwritten). */
static int OVNIC_PRINTF(2, 3) fw(char **out, const char *fmt, ...)
{
    char args[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return it_run(out, "cd %s && '%s' %s 2>err", dir, fw_bin, args);
}

static char *
last_stderr(void)
{
    char path[4200];

    snprintf(path, sizeof path, "%s/err", dir);
    return it_file_read(path);
}

static json_t *
fw_json(const char *fmt, const char *arg, int expected_status)
{
    char *out = NULL;
    json_t *json;
    char args[4096];

    snprintf(args, sizeof args, fmt, arg);
    assert_int_equal(fw(&out, "%s --format json", args), expected_status);
    json = json_loads(out, 0, NULL);
    if (!json) {
        print_error("not JSON: %s\n", out);
        fail();
    }
    free(out);
    return json;
}

/* Every scalar member of 'json' starts a line of the table output of the same
 * command, and every array of objects is a titled table whose header holds the
 * objects' member names. */
static void
assert_same_fields(const char *args)
{
    json_t *json = fw_json("%s", args, 0);
    char *table = NULL;
    const char *key;
    json_t *v;

    assert_int_equal(fw(&table, "%s", args), 0);
    json_object_foreach(json, key, v)
    {
        char line[256];

        if (json_is_array(v) && json_array_size(v) &&
            json_is_object(json_array_get(v, 0))) {
            const char *sub;
            json_t *sv;

            snprintf(line, sizeof line, "\n%s:\n", key);
            assert_non_null(strstr(table, line));
            json_object_foreach(json_array_get(v, 0), sub, sv)
            {
                assert_non_null(strstr(strstr(table, line), sub));
            }
        } else {
            snprintf(line, sizeof line, "\n%s ", key);
            if (strncmp(table, line + 1, strlen(line) - 1) && !strstr(table, line)) {
                print_error("'%s' is in the JSON of '%s' but not in its table:\n%s\n",
                            key, args, table);
                fail();
            }
        }
    }
    free(table);
    json_decref(json);
}

static int
group_setup(void **state)
{
    (void)state;
    snprintf(fw_bin, sizeof fw_bin, "%s/fw-images/ovnic-fw", it_build_dir());
    dir = it_tmpdir_create();
    assert_non_null(dir);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    it_tmpdir_remove(dir);
    free(dir);
    return 0;
}

static void
test_help(void **state)
{
    static const char *const cmds[] = {
        "keygen",           "build",  "sign",    "sign-request", "sign-response",
        "attach-signature", "verify", "inspect", "trust"};
    char *out = NULL;

    (void)state;
    assert_int_equal(fw(&out, "--help"), 0);
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char *sub = NULL;

        assert_non_null(strstr(out, cmds[i]));
        assert_int_equal(fw(&sub, "%s --help", cmds[i]), 0);
        assert_non_null(strstr(sub, "Usage: ovnic-fw "));
        assert_non_null(strstr(sub, cmds[i]));
        free(sub);
    }
    free(out);
    assert_int_equal(fw(NULL, "no-such-command"), 2);
    assert_int_equal(fw(NULL, "inspect --format xml x"), 2);
}

static void
test_build_sign_verify(void **state)
{
    json_t *j;
    char *err;

    (void)state;
    /* Keys of both types; a 2-of-2 store. */
    j = fw_json("keygen --type ed25519 --out %s", "a.pem", 0);
    assert_string_equal(json_string_value(json_object_get(j, "algorithm")), "ed25519");
    assert_int_equal(strlen(json_string_value(json_object_get(j, "key_id"))), 32);
    json_decref(j);
    j = fw_json("keygen --type ecdsa-p256 --out %s", "b.pem", 0);
    char *b_id = strdup(json_string_value(json_object_get(j, "key_id")));
    json_decref(j);
    assert_int_equal(fw(NULL, "trust init t.json --threshold 2 >/dev/null"), 0);
    assert_int_equal(fw(NULL, "trust add t.json a.pem.pub --name release-a >/dev/null"),
                     0);
    assert_int_equal(fw(NULL, "trust add t.json b.pem.pub --name release-b >/dev/null"),
                     0);

    /* The simulated NIC's bundle. */
    char recipe[4200];
    snprintf(recipe, sizeof recipe, "%s/fw-images/recipes/nicsim-bundle.json",
             it_source_dir());
    j = fw_json("build %s --out img --build-time 1700000000", recipe, 0);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "nicsim-bundle");
    assert_int_equal(json_array_size(json_object_get(j, "sections")), 4);
    json_decref(j);

    /* Unsigned: refused, and the reason names it. */
    j = fw_json("verify --trust t.json %s", "img", 1);
    assert_string_equal(json_string_value(json_object_get(j, "result")), "refused");
    assert_non_null(strstr(json_string_value(json_object_get(j, "reason")),
                           "not enough trusted signatures"));
    json_decref(j);

    /* One local signature (Ed25519): 1 of 2. */
    assert_int_equal(fw(NULL, "sign --key a.pem img >/dev/null"), 0);
    j = fw_json("verify --trust t.json %s", "img", 1);
    assert_int_equal(json_integer_value(json_object_get(j, "trusted")), 1);
    json_decref(j);

    /* The ECDSA key signs elsewhere: only the request and the response travel. */
    assert_int_equal(fw(NULL, "sign-request img --out req.json >/dev/null"), 0);
    assert_int_equal(fw(NULL, "sign-response --key b.pem req.json --out resp.json "
                              ">/dev/null"),
                     0);
    j = fw_json("attach-signature img %s", "resp.json", 0);
    assert_int_equal(json_integer_value(json_object_get(j, "signatures")), 2);
    json_decref(j);

    /* 2 of 2, for the right device and security version. */
    j = fw_json(
        "verify --trust t.json --device OVNIC-SIM-BF3 --min-security-version 1 %s", "img",
        0);
    assert_string_equal(json_string_value(json_object_get(j, "result")), "valid");
    json_t *sigs = json_object_get(j, "signatures");
    assert_int_equal(json_array_size(sigs), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(sigs, 1), "name")), "release-b");
    json_decref(j);
    assert_same_fields("verify --trust t.json img");
    assert_same_fields("inspect img");
    assert_same_fields("trust show t.json");

    /* Wrong device; downgrade. */
    j = fw_json("verify --trust t.json --device MT_0000000884 %s", "img", 1);
    assert_non_null(strstr(json_string_value(json_object_get(j, "reason")),
                           "image not compatible with the device"));
    json_decref(j);
    j = fw_json("verify --trust t.json --min-security-version 2 %s", "img", 1);
    assert_non_null(strstr(json_string_value(json_object_get(j, "reason")),
                           "downgrade below the security version"));
    json_decref(j);

    /* Revoke the ECDSA key: its signature no longer counts, and verify says why. */
    char args[256];
    snprintf(args, sizeof args, "trust revoke t.json %s --reason 'key leaked' >/dev/null",
             b_id);
    assert_int_equal(fw(NULL, "%s", args), 0);
    j = fw_json("verify --trust t.json %s", "img", 1);
    sigs = json_object_get(j, "signatures");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(sigs, 1), "result")), "revoked");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(sigs, 1), "reason")),
        "key revoked: key leaked");
    json_decref(j);
    err = last_stderr();
    assert_non_null(strstr(err, "refused: fw-image: not enough trusted signatures"));
    free(err);
    free(b_id);

    /* A response for another image is refused before anything is written. */
    assert_int_equal(fw(NULL, "build %s --out other --version 7.0.0 >/dev/null", recipe),
                     0);
    assert_int_equal(fw(NULL, "attach-signature other resp.json --out signed-other"), 1);
    err = last_stderr();
    assert_non_null(strstr(err, "response is for another image"));
    free(err);
    assert_int_equal(it_run(NULL, "test ! -e %s/signed-other", dir), 0);

    /* A bad image: inspect names the reason. */
    assert_int_equal(it_run(NULL, "head -c 4000 %s/img > %s/cut", dir, dir), 0);
    assert_int_equal(fw(NULL, "inspect cut"), 1);
    err = last_stderr();
    assert_non_null(strstr(err, "truncated image"));
    free(err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_build_sign_verify),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
