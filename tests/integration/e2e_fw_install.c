/* End to end: firmware images built, signed and verified with ovnic-fw, installed
 * with `ovnicctl fw` into the flash of a real ovnic-nicsim through its control
 * socket: a commit, a failed health check that rolls back, an exhausted boot counter,
 * anti-rollback (refused, then forced), a bad image refused before any write, a power
 * cut in the middle of an install, and a rollback.
 *
 * Needs root (network namespaces for ovnic-nicsim); exits 77 without it.  Label e2e. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ithelp.h"

static char nicsim_bin[4096], ovnicctl_bin[4096], fw_bin[4096];
static char *dir;
static char run_dir[4200], ctl[4300], dpu_ns[32], host_ns[32];
static pid_t nicsim_pid = -1;

static void
namespaces_delete(void)
{
    it_run(NULL, "ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", dpu_ns,
           host_ns);
}

static void
sleep_ms(int ms)
{
    usleep((useconds_t)ms * 1000);
}

/* Runs "ovnicctl ARGS" and returns its exit status; its stdout in '*out' (may be
 * NULL), stderr appended to DIR/stderr.log. */
static int OVNIC_PRINTF(2, 3) ctlcmd(char **out, const char *fmt, ...)
{
    char args[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return it_run(out, "OVNIC_NICSIM_SOCKET='%s' '%s' %s 2>>%s/stderr.log", ctl,
                  ovnicctl_bin, args, dir);
}

static int OVNIC_PRINTF(2, 3) fwcmd(char **out, const char *fmt, ...)
{
    char args[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return it_run(out, "cd %s && '%s' %s 2>>%s/stderr.log", dir, fw_bin, args, dir);
}

/* "ovnicctl fw status --format json" as JSON (caller owns). */
static json_t *
fw_status(void)
{
    char *out = NULL;
    json_t *json;

    assert_int_equal(ctlcmd(&out, "fw status --trust %s/trust.json --format json", dir),
                     0);
    json = json_loads(out, 0, NULL);
    assert_non_null(json);
    free(out);
    return json;
}

static const char *
jstr(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    assert_non_null(s);
    return s;
}

/* The slot that boots now holds a valid, trusted image of 'version', and the boot
 * selection is in 'state'. */
static void
assert_booted(const char *version, const char *state)
{
    json_t *st = fw_status();
    const json_t *slots = json_object_get(st, "slots");
    const char *booted = jstr(st, "booted");
    bool found = false;

    assert_string_equal(jstr(st, "state"), state);
    for (size_t i = 0; i < json_array_size(slots); i++) {
        const json_t *s = json_array_get(slots, i);

        if (!strcmp(jstr(s, "slot"), booted)) {
            assert_true(json_is_true(json_object_get(s, "valid")));
            assert_true(json_is_true(json_object_get(s, "trusted")));
            assert_string_equal(jstr(s, "version"), version);
            found = true;
        }
    }
    assert_true(found);
    json_decref(st);
}

static int
group_setup(void **state)
{
    int i;

    (void)state;
    snprintf(nicsim_bin, sizeof nicsim_bin, "%s/tests/hw-sim/nicsim/ovnic-nicsim",
             it_build_dir());
    snprintf(ovnicctl_bin, sizeof ovnicctl_bin, "%s/tools/ovnicctl/ovnicctl",
             it_build_dir());
    snprintf(fw_bin, sizeof fw_bin, "%s/fw-images/ovnic-fw", it_build_dir());
    dir = it_tmpdir_create();
    assert_non_null(dir);
    snprintf(run_dir, sizeof run_dir, "%s/run", dir);
    snprintf(ctl, sizeof ctl, "%s/nicsim.ctl", run_dir);
    snprintf(dpu_ns, sizeof dpu_ns, "fwd%d", (int)getpid());
    snprintf(host_ns, sizeof host_ns, "fwh%d", (int)getpid());
    atexit(namespaces_delete);
    assert_int_equal(it_run(NULL, "ip netns add %s && ip netns add %s", dpu_ns, host_ns),
                     0);
    char log[4300];
    snprintf(log, sizeof log, "%s/nicsim.log", dir);
    char *const argv[] = {"/usr/sbin/ip", "netns",         "exec",  dpu_ns,
                          nicsim_bin,     "--run-dir",     run_dir, "--host-netns",
                          host_ns,        "--profile",     "bf3",   "--flash-size",
                          "4194304",      "--idle-max-us", "5000",  NULL};
    nicsim_pid = it_spawn(argv, log);
    assert_true(nicsim_pid > 0);
    for (i = 0; i < 600 && access(ctl, F_OK); i++) {
        sleep_ms(50);
    }
    assert_int_equal(access(ctl, F_OK), 0);
    for (i = 0; i < 100 && ctlcmd(NULL, "nicsim status >/dev/null"); i++) {
        sleep_ms(50);
    }
    assert_true(i < 100);

    /* Keys, a 1-of-1 trust store, and the simulated NIC's bundle at three versions
     * (security versions 1, 2, 2), each signed. */
    assert_int_equal(fwcmd(NULL, "keygen --type ecdsa-p256 --out release.pem >/dev/null"),
                     0);
    assert_int_equal(fwcmd(NULL, "keygen --type ed25519 --out stranger.pem >/dev/null"),
                     0);
    assert_int_equal(fwcmd(NULL, "trust init trust.json --threshold 1 >/dev/null"), 0);
    assert_int_equal(
        fwcmd(NULL, "trust add trust.json release.pem.pub --name release >/dev/null"), 0);
    static const char *const versions[][2] = {
        {"1.0.0", "1"}, {"2.0.0", "2"}, {"2.1.0", "2"}};
    for (size_t v = 0; v < 3; v++) {
        assert_int_equal(
            fwcmd(NULL,
                  "build %s/fw-images/recipes/nicsim-bundle.json --out v%zu.img "
                  "--version %s --security-version %s >/dev/null && "
                  "'%s' sign --key release.pem v%zu.img >/dev/null",
                  it_source_dir(), v + 1, versions[v][0], versions[v][1], fw_bin, v + 1),
            0);
    }
    assert_int_equal(fwcmd(NULL,
                           "verify --trust trust.json --device OVNIC-SIM-BF3 v2.img "
                           ">/dev/null"),
                     0);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    if (nicsim_pid > 0) {
        it_proc_stop(nicsim_pid, IT_SIG_TERM, 10000);
    }
    namespaces_delete();
    it_tmpdir_remove(dir);
    free(dir);
    return 0;
}

static void
test_install_commit(void **state)
{
    char *out = NULL, *err = NULL;
    json_t *r, *st;

    (void)state;
    /* A fresh NIC: slot a empty and active. */
    st = fw_status();
    assert_string_equal(jstr(st, "state"), "committed");
    assert_true(json_is_null(json_object_get(st, "min_security_version")));
    json_decref(st);

    /* stderr to its own file: the progress. */
    assert_int_equal(
        it_run(&out,
               "OVNIC_NICSIM_SOCKET='%s' '%s' fw install %s/v1.img --trust "
               "%s/trust.json --health-cmd true --progress json --format json "
               "2>%s/progress.log",
               ctl, ovnicctl_bin, dir, dir, dir),
        0);
    r = json_loads(out, 0, NULL);
    assert_non_null(r);
    assert_string_equal(jstr(r, "result"), "committed");
    assert_string_equal(jstr(r, "slot"), "b");
    assert_string_equal(jstr(r, "version"), "1.0.0");
    json_decref(r);
    free(out);

    /* Progress: JSON lines (stderr is no terminal), every phase, bytes growing. */
    char path[4400];
    snprintf(path, sizeof path, "%s/progress.log", dir);
    err = it_file_read(path);
    assert_non_null(err);
    assert_non_null(strstr(err, "{\"phase\": \"write\", \"done\": 0,"));
    assert_non_null(strstr(err, "\"phase\": \"read-back\""));
    assert_non_null(strstr(err, "{\"phase\": \"commit\", \"done\": 1, \"total\": 1"));
    free(err);

    assert_booted("1.0.0", "committed");
    st = fw_status();
    assert_int_equal(json_integer_value(json_object_get(st, "min_security_version")), 1);
    assert_string_equal(jstr(st, "active"), "b");
    json_decref(st);

    /* Table output carries the same names. */
    assert_int_equal(ctlcmd(&out, "fw status --trust %s/trust.json", dir), 0);
    assert_non_null(strstr(out, "state                 committed"));
    assert_non_null(strstr(out, "slot  valid  trusted  name"));
    free(out);
}

static void
test_health_failure_rolls_back(void **state)
{
    char *out = NULL;
    json_t *r;

    (void)state;
    assert_int_equal(
        ctlcmd(&out,
               "fw install %s/v2.img --trust %s/trust.json --health-cmd false "
               "--health-timeout 0 --progress none --format json",
               dir, dir),
        1);
    r = json_loads(out, 0, NULL);
    assert_non_null(r);
    assert_string_equal(jstr(r, "result"), "rolled-back");
    assert_non_null(strstr(jstr(r, "health_reason"), "the health command failed"));
    json_decref(r);
    free(out);
    assert_booted("1.0.0", "committed");
}

static void
test_boot_counter_exhausted(void **state)
{
    json_t *st;

    (void)state;
    assert_int_equal(ctlcmd(NULL,
                            "fw install %s/v2.img --trust %s/trust.json "
                            "--no-health-check --progress none >/dev/null",
                            dir, dir),
                     0);
    assert_booted("2.0.0", "trial");
    /* The new version never commits: the NIC reboots until its boot counter runs
     * out, then boots the committed slot again. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ctlcmd(NULL, "nicsim flash reboot >/dev/null"), 0);
    }
    assert_booted("1.0.0", "committed");
    st = fw_status();
    assert_string_equal(jstr(st, "pending"), "-");
    json_decref(st);
    assert_int_equal(ctlcmd(NULL, "fw commit --progress none >/dev/null"), 1);
}

static void
test_refusals_before_writing(void **state)
{
    char *out = NULL, *log = NULL, path[4400];
    json_t *before, *after;

    (void)state;
    /* A truncated image, and one signed by an untrusted key. */
    assert_int_equal(it_run(NULL, "head -c 100000 %s/v2.img > %s/cut.img", dir, dir), 0);
    assert_int_equal(fwcmd(NULL,
                           "build %s/fw-images/recipes/nicsim-bundle.json --out "
                           "s.img --version 9.0.0 --security-version 9 >/dev/null "
                           "&& '%s' sign --key stranger.pem s.img >/dev/null",
                           it_source_dir(), fw_bin),
                     0);
    before = fw_status();
    assert_int_equal(ctlcmd(NULL,
                            "fw install %s/cut.img --trust %s/trust.json "
                            "--progress none >/dev/null",
                            dir, dir),
                     1);
    assert_int_equal(ctlcmd(NULL,
                            "fw install %s/s.img --trust %s/trust.json "
                            "--progress none >/dev/null",
                            dir, dir),
                     1);
    assert_int_equal(ctlcmd(NULL,
                            "fw install %s/v1.img --trust %s/trust.json --device "
                            "OVNIC-SIM-BF1 --progress none >/dev/null",
                            dir, dir),
                     1);
    after = fw_status();
    assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    snprintf(path, sizeof path, "%s/stderr.log", dir);
    log = it_file_read(path);
    assert_non_null(strstr(log, "truncated image"));
    assert_non_null(strstr(log, "not enough trusted signatures"));
    assert_non_null(strstr(log, "image not compatible with the device"));
    free(log);
    free(out);
}

static void
test_anti_rollback(void **state)
{
    char *out = NULL, *log, path[4400];
    json_t *r;

    (void)state;
    assert_int_equal(ctlcmd(NULL,
                            "fw install %s/v2.img --trust %s/trust.json --health-cmd "
                            "true --progress none >/dev/null",
                            dir, dir),
                     0);
    assert_booted("2.0.0", "committed");
    /* v1 has security version 1, below the committed 2. */
    assert_int_equal(ctlcmd(NULL,
                            "fw install %s/v1.img --trust %s/trust.json --health-cmd "
                            "true --progress none >/dev/null",
                            dir, dir),
                     1);
    assert_booted("2.0.0", "committed");
    snprintf(path, sizeof path, "%s/stderr.log", dir);
    log = it_file_read(path);
    assert_non_null(strstr(log, "downgrade below the security version"));
    free(log);
    /* Forced: installed, and the force is logged. */
    assert_int_equal(
        ctlcmd(&out,
               "fw install %s/v1.img --trust %s/trust.json --health-cmd true "
               "--force --progress none --format json",
               dir, dir),
        0);
    r = json_loads(out, 0, NULL);
    assert_true(json_is_true(json_object_get(r, "forced")));
    json_decref(r);
    free(out);
    log = it_file_read(path);
    assert_non_null(strstr(log, "FORCED: security version 1 is below the committed "
                                "minimum 2"));
    assert_non_null(strstr(log, "forced install of 'nicsim-bundle'"));
    free(log);
    assert_booted("1.0.0", "committed");
    /* Back up to 2.1.0. */
    assert_int_equal(ctlcmd(NULL,
                            "fw install %s/v3.img --trust %s/trust.json --health-cmd "
                            "true --progress none >/dev/null",
                            dir, dir),
                     0);
    assert_booted("2.1.0", "committed");
}

static void
test_power_cut_mid_install(void **state)
{
    (void)state;
    /* 2.1.0 is committed; v2 (2.0.0, same security version) is written, and the
     * power goes 700 kB into it. */
    assert_int_equal(ctlcmd(NULL, "nicsim fault set flash-powerloss 700000 >/dev/null"),
                     0);
    assert_int_equal(ctlcmd(NULL,
                            "fw install %s/v2.img --trust %s/trust.json --health-cmd "
                            "true --progress none >/dev/null",
                            dir, dir),
                     1);
    assert_int_equal(ctlcmd(NULL, "nicsim flash power-cycle >/dev/null"), 0);
    assert_booted("2.1.0", "committed");
    /* The same install, power on: it completes. */
    assert_int_equal(ctlcmd(NULL,
                            "fw install %s/v2.img --trust %s/trust.json --health-cmd "
                            "true --progress none >/dev/null",
                            dir, dir),
                     0);
    assert_booted("2.0.0", "committed");
}

static void
test_rollback(void **state)
{
    (void)state;
    /* A trial cancelled by hand. */
    assert_int_equal(ctlcmd(NULL,
                            "fw install %s/v3.img --trust %s/trust.json "
                            "--no-health-check --progress none >/dev/null",
                            dir, dir),
                     0);
    assert_booted("2.1.0", "trial");
    assert_int_equal(ctlcmd(NULL, "fw rollback --progress none >/dev/null"), 0);
    assert_booted("2.0.0", "committed");
    /* Back to the other slot's image (2.1.0, same security version): allowed. */
    assert_int_equal(ctlcmd(NULL,
                            "fw rollback --trust %s/trust.json --health-cmd true "
                            "--progress none >/dev/null",
                            dir),
                     0);
    assert_booted("2.1.0", "committed");
    /* Without a trial and without a store: a usage error. */
    assert_int_equal(ctlcmd(NULL, "fw rollback --progress none >/dev/null"), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_commit),
        cmocka_unit_test(test_health_failure_rolls_back),
        cmocka_unit_test(test_boot_counter_exhausted),
        cmocka_unit_test(test_refusals_before_writing),
        cmocka_unit_test(test_anti_rollback),
        cmocka_unit_test(test_power_cut_mid_install),
        cmocka_unit_test(test_rollback),
    };

    if (geteuid() != 0) {
        fprintf(stderr, "e2e_fw_install: needs root (network namespaces): skipped\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
