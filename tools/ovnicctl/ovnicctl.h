/* ovnicctl: the command table and what every command shares.
 *
 * Commands form a tree: a group (such as "ovsdb") has subcommands, a leaf has a run
 * function.  A new command is one more entry in its parent's table. */
#ifndef OVNICCTL_H
#define OVNICCTL_H 1

#include <stdbool.h>

#define OVNICCTL_VERSION "0.1.0"

/* Exit statuses. */
#define OVNICCTL_EXIT_OK 0
#define OVNICCTL_EXIT_FAILURE 1 /* The command ran and failed (server, timeout...). */
#define OVNICCTL_EXIT_USAGE 2   /* Bad command line. */

struct ovnicctl_command {
    const char *name;
    const char *summary; /* One line, shown in the parent's help. */
    const char *help;    /* Full help: usage line, description, options. */

    /* Leaf: runs the command with its own argv (argv[0] is the command name).
     * Returns an OVNICCTL_EXIT_* status. */
    int (*run)(int argc, char *argv[]);

    /* Group: its subcommands, ending with NULL. */
    const struct ovnicctl_command *const *subcommands;
};

/** The "ovsdb" command group (ovsdb_cmd.c). */
extern const struct ovnicctl_command ovnicctl_ovsdb_command;

/** The "lflow-check" command (lflow_cmd.c). */
extern const struct ovnicctl_command ovnicctl_lflow_check_command;

/** The "nicsim" command: drives a simulated NIC (nicsim_cmd.c). */
extern const struct ovnicctl_command ovnicctl_nicsim_command;

/** The "dpud" command group: controls a running ovnic-dpud (dpud_cmd.c). */
extern const struct ovnicctl_command ovnicctl_dpud_command;

/** The "dpctl" and "conntrack" command groups: the DPDK datapath of a running
 * ovnic-dpud (dp_cmd.c). */
extern const struct ovnicctl_command ovnicctl_dpctl_command;
extern const struct ovnicctl_command ovnicctl_conntrack_command;

/** The "trace" command: a packet through ovnic's pipeline (trace_cmd.c). */
extern const struct ovnicctl_command ovnicctl_trace_command;

/* The output formats of every command that prints something: "--format=table" (the
 * default: text for people) and "--format=json". */
enum ovnicctl_format {
    OVNICCTL_FORMAT_TABLE,
    OVNICCTL_FORMAT_JSON,
};

/* The help line of --format, the same in every command. */
#define OVNICCTL_FORMAT_HELP "  --format=table|json   output format (default: table)\n"

/** Parses the --format word 'word' of command 'path' into '*format'.  Every command
 * takes its --format through this function, so that they all accept the same words.
 * Returns -1 on success, or OVNICCTL_EXIT_USAGE after printing "unknown format
 * 'WORD' (use table or json)". */
int ovnicctl_format_parse(const char *path, const char *word,
                          enum ovnicctl_format *format);

/** The "fw" command group: the firmware installer on the DPU (fw_cmd.c). */
extern const struct ovnicctl_command ovnicctl_fw_command;

/** Prints "ovnicctl: <message>" and a hint to use --help on stderr, for a usage
 * error in command 'path' (e.g. "ovsdb monitor").  Returns OVNICCTL_EXIT_USAGE. */
int ovnicctl_usage_error(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Prints "ovnicctl: <message>" on stderr.  Returns OVNICCTL_EXIT_FAILURE. */
int ovnicctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* OVNICCTL_H */
