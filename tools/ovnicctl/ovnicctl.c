/* ovnicctl: command-line control of ovnic.  Parses the global options and walks the
 * command table down to the command to run. */
#include "ovnicctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/ovsdb/version.h"
#include "shared/util/log.h"
#include "sig.h"

static const struct ovnicctl_command *const top_subcommands[] = {
    &ovnicctl_ovsdb_command, &ovnicctl_lflow_check_command, &ovnicctl_nicsim_command,
    &ovnicctl_dpud_command,  &ovnicctl_dpctl_command,       &ovnicctl_conntrack_command,
    &ovnicctl_trace_command, &ovnicctl_fw_command,          NULL,
};

static const struct ovnicctl_command top_command = {
    .name = "ovnicctl",
    .summary = "control ovnic",
    .help = "Usage: ovnicctl [OPTIONS] COMMAND [ARGS...]\n"
            "\n"
            "Global options (before COMMAND):\n"
            "  -v, --verbose[=SPEC]  log verbosely: SPEC as in 'ovsdb_cs:dbg' or 'info'\n"
            "                        (default: 'dbg' for every module)\n"
            "  -h, --help            show this help, or a command's with COMMAND --help\n"
            "  -V, --version         show the version\n",
    .subcommands = top_subcommands,
};

int
ovnicctl_usage_error(const char *path, const char *fmt, ...)
{
    va_list args;

    fputs("ovnicctl: ", stderr);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fprintf(stderr, "\nTry 'ovnicctl %s%s--help' for more information.\n",
            path ? path : "", path && *path ? " " : "");
    return OVNICCTL_EXIT_USAGE;
}

int
ovnicctl_format_parse(const char *path, const char *word, enum ovnicctl_format *format)
{
    if (!strcmp(word, "table")) {
        *format = OVNICCTL_FORMAT_TABLE;
    } else if (!strcmp(word, "json")) {
        *format = OVNICCTL_FORMAT_JSON;
    } else {
        return ovnicctl_usage_error(path, "unknown format '%s' (use table or json)",
                                    word);
    }
    return -1;
}

int
ovnicctl_error(const char *fmt, ...)
{
    va_list args;

    fputs("ovnicctl: ", stderr);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    return OVNICCTL_EXIT_FAILURE;
}

static bool
is_help(const char *arg)
{
    return !strcmp(arg, "-h") || !strcmp(arg, "--help") || !strcmp(arg, "help");
}

static void
print_group_help(const struct ovnicctl_command *cmd)
{
    const struct ovnicctl_command *const *sub;

    fputs(cmd->help, stdout);
    printf("\nCommands:\n");
    for (sub = cmd->subcommands; *sub; sub++) {
        printf("  %-12s %s\n", (*sub)->name, (*sub)->summary);
    }
}

/* Runs 'cmd' with 'argv' (argv[0] is its name); 'path' names it for messages. */
static int
dispatch(const struct ovnicctl_command *cmd, const char *path, int argc, char *argv[])
{
    const struct ovnicctl_command *const *sub;
    char subpath[256];
    int i;

    if (cmd->run) {
        for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
            if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
                fputs(cmd->help, stdout);
                return OVNICCTL_EXIT_OK;
            }
        }
        return cmd->run(argc, argv);
    }
    if (argc < 2) {
        return ovnicctl_usage_error(path, "missing command");
    }
    if (is_help(argv[1])) {
        print_group_help(cmd);
        return OVNICCTL_EXIT_OK;
    }
    if (argv[1][0] == '-') {
        return ovnicctl_usage_error(path, "unknown option '%s'", argv[1]);
    }
    for (sub = cmd->subcommands; *sub; sub++) {
        if (!strcmp((*sub)->name, argv[1])) {
            snprintf(subpath, sizeof subpath, "%s%s%s", path, *path ? " " : "",
                     (*sub)->name);
            return dispatch(*sub, subpath, argc - 1, argv + 1);
        }
    }
    return ovnicctl_usage_error(path, "unknown command '%s'", argv[1]);
}

int
main(int argc, char *argv[])
{
    int i;

    /* Quiet by default: warnings and errors only. */
    ovnic_log_set_level(NULL, OVNIC_LOG_WARN);
    ovnicctl_signals_default();

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *arg = argv[i];

        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            print_group_help(&top_command);
            return OVNICCTL_EXIT_OK;
        } else if (!strcmp(arg, "-V") || !strcmp(arg, "--version")) {
            printf("ovnicctl (ovnic) %s\n%s\n", OVNICCTL_VERSION, ovsdb_client_version());
            return OVNICCTL_EXIT_OK;
        } else if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
            ovnic_log_set_level(NULL, OVNIC_LOG_DBG);
        } else if (!strncmp(arg, "--verbose=", 10) || !strncmp(arg, "-v", 2)) {
            const char *spec = arg[1] == 'v' ? arg + 2 : arg + 10;

            if (ovnic_log_set_spec(spec)) {
                return ovnicctl_usage_error("", "bad log specification '%s'", spec);
            }
        } else {
            return ovnicctl_usage_error("", "unknown option '%s'", arg);
        }
    }
    return dispatch(&top_command, "", argc - i + 1, argv + i - 1);
}
