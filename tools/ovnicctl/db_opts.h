/* ovnicctl: what the commands that read an OVSDB database through ovnic's client
 * session share: the common options (--db, --format, --timeout, --leader-only, the TLS
 * files and, where accepted, --database) with their help text, and a session that
 * runs until its first synchronisation.
 *
 * Parse and run functions return -1 to go on, or an OVNICCTL_EXIT_* status after
 * printing the error; this is how every ovnicctl command reports. */
#ifndef OVNICCTL_DB_OPTS_H
#define OVNICCTL_DB_OPTS_H 1

#include <stdbool.h>

#include "ovnicctl.h"
#include "shared/util/tls.h"

#define OVNICCTL_DB_DEFAULT_DATABASE "OVN_Southbound"
#define OVNICCTL_DB_DEFAULT_TIMEOUT_S 10.0

/* Help lines for the options: OVNICCTL_DB_HELP_DB, then (if the command accepts it) a
 * --database line, then OVNICCTL_DB_HELP_COMMON. */
#define OVNICCTL_DB_HELP_DB                                                            \
    "  --db=REMOTE           server(s): unix:PATH, tcp:IP:PORT or ssl:IP:PORT, or a\n" \
    "                        comma-separated list of cluster members (required)\n"
#define OVNICCTL_DB_HELP_COMMON                                                       \
    OVNICCTL_FORMAT_HELP                                                              \
    "  --timeout=SECS        give up if not synchronised within SECS (default: 10;\n" \
    "                        0: wait forever)\n"                                      \
    "  --leader-only         only accept a cluster's leader (default: any member)\n"  \
    "  --ca-cert=FILE        CA certificate to verify the server (ssl:)\n"            \
    "  --certificate=FILE    client certificate (ssl:)\n"                             \
    "  --private-key=FILE    private key of the client certificate (ssl:)\n"          \
    "  --peer-name=NAME      require the server certificate's CN or DNS name NAME\n"  \
    "  -h, --help            show this help\n"

/* The most flags a command may add to the common options. */
#define OVNICCTL_DB_MAX_FLAGS 8

/* An option without a value that one command adds ("--no-initial"). */
struct ovnicctl_db_flag {
    const char *name; /* Without the leading "--".  Static. */
    bool *value;      /* Set to true when the option is given.  Borrowed. */
};

struct ovnicctl_db_opts {
    /* What the command accepts; set before parsing. */
    const char *path;   /* The command, for messages ("ovsdb dump").  Static. */
    bool with_database; /* --database=NAME (else the database is the default). */
    bool with_args;     /* Arguments after the options (else a usage error). */
    const struct ovnicctl_db_flag *flags; /* Ends with {NULL}; NULL for none. */

    /* What the command line says.  Strings are borrowed from argv. */
    const char *db;
    const char *database;
    enum ovnicctl_format format;
    double timeout_s; /* 0: no limit. */
    bool leader_only;
    struct tls_config tls;
    int first_arg; /* Index in argv of the first argument after the options. */
};

/** Parses the options in 'argv' (argv[0] is the command name) into 'opts', whose
 * first four members say what the command accepts; checks that --db is given and
 * well formed, and that ssl: remotes have their TLS files.  Returns -1 on success, or
 * OVNICCTL_EXIT_USAGE after printing the error. */
int ovnicctl_db_opts_parse(struct ovnicctl_db_opts *opts, int argc, char *argv[]);

struct ovsdb_cs;
struct poll_loop;

/* A client session for one run of a command, with the stop signals watched. */
struct ovnicctl_db_session {
    const struct ovnicctl_db_opts *opts; /* Borrowed. */
    struct poll_loop *loop;
    struct ovsdb_cs *cs;
    int sig_fd;
    bool done;         /* A signal or the command ended the run... */
    int status;        /* ...with this OVNICCTL_EXIT_* status. */
    int signal_status; /* The status that a stop signal ends the run with. */

    /* Optional: called before each wait for synchronisation, to end the run early
     * with ovnicctl_db_session_finish() (e.g. on a table the schema lacks). */
    void (*check)(struct ovnicctl_db_session *);
};

/** Connects a client session to the database of 'opts' (borrowed; must outlive the
 * session), monitoring 'tables' (NULL-terminated; NULL for every table), with
 * SIGINT/SIGTERM/SIGHUP ending the run with 'signal_status'.  Returns -1 on success
 * (close with ovnicctl_db_session_close()), or an exit status after printing the
 * error, with nothing left to close. */
int ovnicctl_db_session_open(struct ovnicctl_db_session *s,
                             const struct ovnicctl_db_opts *opts,
                             const char *const *tables, int signal_status);

/** Runs 's' until it is synchronised, and returns true; or, when the timeout of its
 * options passes (the error is printed), a signal arrives or the run ends otherwise,
 * returns false with 's->done' and 's->status' set. */
bool ovnicctl_db_session_wait_synced(struct ovnicctl_db_session *s);

/** Ends the run of 's' with 'status', unless it has already ended. */
void ovnicctl_db_session_finish(struct ovnicctl_db_session *s, int status);

/** Closes the session, its loop and its signal fd. */
void ovnicctl_db_session_close(struct ovnicctl_db_session *s);

#endif /* OVNICCTL_DB_OPTS_H */
