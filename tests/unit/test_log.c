/* Unit tests for shared/util/log: levels, per-module levels, specs, rate limiting and
 * file output. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/util/log.h"

OVNIC_LOG_MODULE(test_log);

/* A second module, registered by hand since OVNIC_LOG_MODULE is once per file. */
static struct ovnic_log_module other_module = {"test_log_other", -1, NULL};

static char tmpdir[64];

static void
sleep_ms__(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
        continue;
    }
}

/* Contents of 'path', NUL-terminated.  Caller frees. */
static char *
slurp__(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t cap = 65536;
    char *buf = calloc(1, cap);
    assert_non_null(buf);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static size_t
count_lines__(const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

static void
log_path__(char *path, size_t size, const char *name)
{
    snprintf(path, size, "%s/%s", tmpdir, name);
}

static bool
on__(const struct ovnic_log_module *m, enum ovnic_log_level level)
{
    return ovnic_log_is_enabled(m, level);
}

/* Must run first: OVNIC_LOG is read on the first check. */
static void
test_env_spec(void **state)
{
    assert_true(on__(&ovnic_log_module__, OVNIC_LOG_DBG));
    assert_false(on__(&other_module, OVNIC_LOG_DBG));
    assert_true(on__(&other_module, OVNIC_LOG_INFO));
    assert_int_equal(ovnic_log_set_level(NULL, OVNIC_LOG_INFO), 0);
    assert_false(on__(&ovnic_log_module__, OVNIC_LOG_DBG));
}

static void
test_levels(void **state)
{
    assert_int_equal(ovnic_log_set_level(NULL, OVNIC_LOG_INFO), 0);
    assert_true(on__(&ovnic_log_module__, OVNIC_LOG_ERR));
    assert_true(on__(&ovnic_log_module__, OVNIC_LOG_WARN));
    assert_true(on__(&ovnic_log_module__, OVNIC_LOG_INFO));
    assert_false(on__(&ovnic_log_module__, OVNIC_LOG_DBG));
    assert_false(on__(&ovnic_log_module__, OVNIC_LOG_OFF));

    assert_int_equal(ovnic_log_set_level("ANY", OVNIC_LOG_WARN), 0);
    assert_true(on__(&ovnic_log_module__, OVNIC_LOG_WARN));
    assert_false(on__(&ovnic_log_module__, OVNIC_LOG_INFO));
    assert_false(on__(&other_module, OVNIC_LOG_INFO));

    assert_int_equal(ovnic_log_set_level(NULL, OVNIC_LOG_OFF), 0);
    assert_false(on__(&ovnic_log_module__, OVNIC_LOG_ERR));
    assert_false(on__(&other_module, OVNIC_LOG_ERR));

    assert_int_equal(ovnic_log_set_level(NULL, OVNIC_LOG_DBG), 0);
    assert_true(on__(&ovnic_log_module__, OVNIC_LOG_DBG));
    assert_true(on__(&other_module, OVNIC_LOG_DBG));
    assert_int_equal(ovnic_log_set_level(NULL, OVNIC_LOG_INFO), 0);
}

static void
test_module_level(void **state)
{
    assert_int_equal(ovnic_log_set_level(NULL, OVNIC_LOG_WARN), 0);
    assert_int_equal(ovnic_log_set_level("test_log", OVNIC_LOG_DBG), 0);
    assert_true(on__(&ovnic_log_module__, OVNIC_LOG_DBG));
    assert_false(on__(&other_module, OVNIC_LOG_INFO));
    assert_true(on__(&other_module, OVNIC_LOG_WARN));

    /* A module may also be quieter than the default. */
    assert_int_equal(ovnic_log_set_level("test_log_other", OVNIC_LOG_OFF), 0);
    assert_false(on__(&other_module, OVNIC_LOG_ERR));

    assert_int_equal(ovnic_log_set_level("no_such_module", OVNIC_LOG_DBG), -ENOENT);

    /* Setting every module drops the per-module levels. */
    assert_int_equal(ovnic_log_set_level("ANY", OVNIC_LOG_ERR), 0);
    assert_false(on__(&ovnic_log_module__, OVNIC_LOG_WARN));
    assert_true(on__(&other_module, OVNIC_LOG_ERR));
    assert_int_equal(ovnic_log_set_level(NULL, OVNIC_LOG_INFO), 0);
}

static void
test_spec(void **state)
{
    assert_int_equal(ovnic_log_set_spec("warn"), 0);
    assert_false(on__(&ovnic_log_module__, OVNIC_LOG_INFO));

    assert_int_equal(ovnic_log_set_spec("test_log:dbg"), 0);
    assert_true(on__(&ovnic_log_module__, OVNIC_LOG_DBG));
    assert_false(on__(&other_module, OVNIC_LOG_INFO));

    assert_int_equal(ovnic_log_set_spec("ANY:err,test_log_other:info"), 0);
    assert_false(on__(&ovnic_log_module__, OVNIC_LOG_WARN));
    assert_true(on__(&other_module, OVNIC_LOG_INFO));
    assert_false(on__(&other_module, OVNIC_LOG_DBG));

    assert_int_equal(ovnic_log_set_spec("info test_log:DEBUG, test_log_other:Warning"),
                     0);
    assert_true(on__(&ovnic_log_module__, OVNIC_LOG_DBG));
    assert_true(on__(&other_module, OVNIC_LOG_WARN));
    assert_false(on__(&other_module, OVNIC_LOG_INFO));

    assert_int_equal(ovnic_log_set_spec("test_log:loud"), -EINVAL);
    assert_int_equal(ovnic_log_set_spec("test_log:"), -EINVAL);
    assert_int_equal(ovnic_log_set_spec("bogus"), -EINVAL);
    assert_int_equal(ovnic_log_set_spec("no_such_module:dbg"), -ENOENT);
    assert_int_equal(ovnic_log_set_spec(""), 0);
    assert_int_equal(ovnic_log_set_level(NULL, OVNIC_LOG_INFO), 0);
}

static void
test_level_strings(void **state)
{
    static const struct {
        const char *s;
        enum ovnic_log_level level;
    } good[] = {
        {"off", OVNIC_LOG_OFF},   {"err", OVNIC_LOG_ERR},      {"ERROR", OVNIC_LOG_ERR},
        {"warn", OVNIC_LOG_WARN}, {"Warning", OVNIC_LOG_WARN}, {"info", OVNIC_LOG_INFO},
        {"dbg", OVNIC_LOG_DBG},   {"debug", OVNIC_LOG_DBG},
    };
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        enum ovnic_log_level level = (enum ovnic_log_level)99;
        assert_int_equal(ovnic_log_level_from_string(good[i].s, &level), 0);
        assert_int_equal(level, good[i].level);
    }
    const char *bad[] = {"", "inf", "debugging", "5", " info"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        enum ovnic_log_level level = OVNIC_LOG_WARN;
        assert_int_equal(ovnic_log_level_from_string(bad[i], &level), -EINVAL);
        assert_int_equal(level, OVNIC_LOG_WARN);
    }
    assert_string_equal(ovnic_log_level_to_string(OVNIC_LOG_OFF), "OFF");
    assert_string_equal(ovnic_log_level_to_string(OVNIC_LOG_ERR), "ERR");
    assert_string_equal(ovnic_log_level_to_string(OVNIC_LOG_WARN), "WARN");
    assert_string_equal(ovnic_log_level_to_string(OVNIC_LOG_INFO), "INFO");
    assert_string_equal(ovnic_log_level_to_string(OVNIC_LOG_DBG), "DBG");
    assert_string_equal(ovnic_log_level_to_string((enum ovnic_log_level)42), "?");
}

static void
check_line_format__(const char *line, const char *module, const char *level,
                    const char *text)
{
    /* "2026-11-21T22:10:00.123Z|00042|module|LEVEL|text" */
    assert_true(strlen(line) > 31);
    assert_true(line[4] == '-' && line[7] == '-' && line[10] == 'T' && line[13] == ':' &&
                line[16] == ':' && line[19] == '.' && line[23] == 'Z' && line[24] == '|');
    for (int i = 25; i < 30; i++) {
        assert_true(line[i] >= '0' && line[i] <= '9');
    }
    char expected[256];
    snprintf(expected, sizeof expected, "|%s|%s|%s", module, level, text);
    assert_string_equal(line + 30, expected);
}

static void
test_output_file(void **state)
{
    char path[128];
    log_path__(path, sizeof path, "out.log");
    assert_int_equal(ovnic_log_set_level(NULL, OVNIC_LOG_INFO), 0);
    assert_int_equal(ovnic_log_open_file(path), 0);

    OLOG_WARN("hello %d", 42);
    OLOG_DBG("not written");
    OLOG_INFO("info %s", "line");
    ovnic_log(&other_module, OVNIC_LOG_ERR, "from %s", "other");

    char *text = slurp__(path);
    assert_int_equal(count_lines__(text), 3);
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    check_line_format__(line, "test_log", "WARN", "hello 42");
    line = strtok_r(NULL, "\n", &save);
    check_line_format__(line, "test_log", "INFO", "info line");
    line = strtok_r(NULL, "\n", &save);
    check_line_format__(line, "test_log_other", "ERR", "from other");
    free(text);

    /* A file that cannot be opened leaves the output where it was. */
    char bad[160];
    log_path__(bad, sizeof bad, "missing-dir/out.log");
    assert_int_equal(ovnic_log_open_file(bad), -ENOENT);
    OLOG_ERR("still here");
    text = slurp__(path);
    assert_int_equal(count_lines__(text), 4);
    assert_non_null(strstr(text, "|test_log|ERR|still here\n"));
    free(text);

    /* Back to stderr: the file no longer grows. */
    assert_int_equal(ovnic_log_open_file(NULL), 0);
    OLOG_WARN("to stderr");
    text = slurp__(path);
    assert_int_equal(count_lines__(text), 4);
    free(text);

    /* Reopening appends. */
    assert_int_equal(ovnic_log_open_file(path), 0);
    OLOG_WARN("appended");
    assert_int_equal(ovnic_log_open_file(NULL), 0);
    text = slurp__(path);
    assert_int_equal(count_lines__(text), 5);
    assert_non_null(strstr(text, "|test_log|WARN|appended\n"));
    assert_non_null(strstr(text, "|test_log|WARN|hello 42\n"));
    free(text);
    unlink(path);
}

/* 120 messages per minute: one token every 500 ms. */
static void
test_ratelimit_allow(void **state)
{
    struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(120, 2);
    assert_true(ovnic_ratelimit_allow(&rl));
    assert_true(ovnic_ratelimit_allow(&rl));
    assert_false(ovnic_ratelimit_allow(&rl));
    assert_false(ovnic_ratelimit_allow(&rl));
    assert_int_equal(rl.suppressed, 2);

    /* Tokens come back with time; a fraction of a token already earned is kept. */
    sleep_ms__(750);
    assert_true(ovnic_ratelimit_allow(&rl));
    sleep_ms__(375);
    assert_true(ovnic_ratelimit_allow(&rl));

    /* Never more than the burst. */
    struct ovnic_ratelimit full = OVNIC_RATELIMIT_INIT(6000, 3);
    assert_true(ovnic_ratelimit_allow(&full));
    sleep_ms__(100);
    int allowed = 0;
    for (int i = 0; i < 10; i++) {
        allowed += ovnic_ratelimit_allow(&full);
    }
    assert_true(allowed >= 3 && allowed <= 4);

    /* A zero rate allows the burst and then nothing. */
    struct ovnic_ratelimit none = OVNIC_RATELIMIT_INIT(0, 1);
    assert_true(ovnic_ratelimit_allow(&none));
    sleep_ms__(20);
    assert_false(ovnic_ratelimit_allow(&none));
}

static void
warn_rl__(int i)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(120, 2);
    OLOG_WARN_RL(&rl, "peer sent junk #%d", i);
}

static void
test_ratelimit_log(void **state)
{
    char path[128];
    log_path__(path, sizeof path, "rl.log");
    assert_int_equal(ovnic_log_set_level(NULL, OVNIC_LOG_INFO), 0);
    assert_int_equal(ovnic_log_open_file(path), 0);

    for (int i = 0; i < 5; i++) {
        warn_rl__(i);
    }
    char *text = slurp__(path);
    assert_int_equal(count_lines__(text), 2);
    assert_non_null(strstr(text, "|WARN|peer sent junk #0\n"));
    assert_non_null(strstr(text, "|WARN|peer sent junk #1\n"));
    free(text);

    /* After a pause it logs again and says how many were dropped. */
    sleep_ms__(600);
    warn_rl__(5);
    text = slurp__(path);
    assert_int_equal(count_lines__(text), 3);
    assert_non_null(
        strstr(text, "|WARN|peer sent junk #5 (3 similar messages suppressed)\n"));
    free(text);

    /* The count starts over. */
    sleep_ms__(600);
    warn_rl__(6);
    text = slurp__(path);
    assert_int_equal(count_lines__(text), 4);
    assert_non_null(strstr(text, "|WARN|peer sent junk #6\n"));
    free(text);

    /* Disabled messages are not counted as suppressed. */
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(120, 1);
    OLOG_DBG_RL(&rl, "debug");
    OLOG_DBG_RL(&rl, "debug");
    assert_int_equal(rl.suppressed, 0);
    OLOG_INFO_RL(&rl, "first info");
    text = slurp__(path);
    assert_int_equal(count_lines__(text), 5);
    assert_non_null(strstr(text, "|INFO|first info\n"));
    free(text);

    assert_int_equal(ovnic_log_open_file(NULL), 0);
    unlink(path);
}

static int
setup_dir(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ovnic-test-log-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
remove_entry__(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int
teardown_dir(void **state)
{
    ovnic_log_open_file(NULL);
    return nftw(tmpdir, remove_entry__, 8, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
    setenv("OVNIC_LOG", "test_log:dbg", 1);
    ovnic_log_module_register__(&other_module);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_spec),        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_module_level),    cmocka_unit_test(test_spec),
        cmocka_unit_test(test_level_strings),   cmocka_unit_test(test_output_file),
        cmocka_unit_test(test_ratelimit_allow), cmocka_unit_test(test_ratelimit_log),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
