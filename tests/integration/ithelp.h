/* ovnic integration tests: temporary directories, OVN central through
 * scripts/ovn-central.sh, child processes, poll-loop waits, and comparison of the
 * client's replica with what ovsdb-server itself reports.
 *
 * Every directory made by it_tmpdir_create() and every process started by
 * it_spawn() is cleaned up at exit.  A small watcher process also cleans them up if
 * the test process dies without running its exit handlers (crash, abort, SIGKILL). */
#ifndef OVNIC_ITHELP_H
#define OVNIC_ITHELP_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "dpu/ovsdb/cs.h"
#include "shared/util/util.h"

struct poll_loop;
struct ovsdb_cs;

/** The source tree ($OVNIC_SOURCE_DIR, else the tree this file was compiled from).
 * Static. */
const char *it_source_dir(void);

/** The build tree ($OVNIC_BUILD_DIR, else the current directory).  Static. */
const char *it_build_dir(void);

/** The absolute path of scripts/ovn-central.sh.  Static. */
const char *it_central_script(void);

/** Makes a fresh directory under /tmp, registered for cleanup: at exit, every daemon
 * with a pidfile in it is stopped and the directory is removed.  Returns the path
 * (caller owns; free()), or NULL on failure (with a message on stderr). */
char *it_tmpdir_create(void);

/** Stops the daemons of 'dir' and removes it now. */
void it_tmpdir_remove(const char *dir);

/** Runs 'cmd' with /bin/sh -c in its own process group, stdin from /dev/null, stderr
 * passed through.  If 'out' is nonnull, stdout is captured into '*out' (caller owns;
 * free()), NUL-terminated.  The command is killed after 'timeout_ms' (0: 120 s).
 * Returns its exit status (0-255), 128+N if killed by signal N, or -1 if it could not
 * be run or timed out. */
int it_run_timeout(char **out, int timeout_ms, const char *cmd);

/** it_run_timeout() with the default timeout and a printf-style command. */
int it_run(char **out, const char *fmt, ...) OVNIC_PRINTF(2, 3);

/** Runs scripts/ovn-central.sh with 'args' (printf-style, shell syntax) and returns
 * its stdout with the trailing newline removed (caller owns; free()), or NULL if it
 * failed. */
char *it_central(const char *fmt, ...) OVNIC_PRINTF(1, 2);

/** Runs "ovn-sbctl --db=DB ARGS" ('args' printf-style, shell syntax) with a timeout,
 * and returns its stdout (caller owns; free()), or NULL if it failed (its stderr is
 * passed through). */
char *it_sbctl(const char *db, const char *fmt, ...) OVNIC_PRINTF(2, 3);

/** Starts 'argv[0]' (a path) with 'argv' in the background, stdout and stderr to
 * 'out_path' (or inherited if NULL).  Registered for cleanup.  Returns the pid, or -1. */
pid_t it_spawn(char *const argv[], const char *out_path);

enum it_signal {
    IT_SIG_NONE,
    IT_SIG_TERM,
    IT_SIG_KILL,
    IT_SIG_INT,
};

/** Sends 'sig' to process 'pid' (any process, e.g. a daemon from its pidfile).
 * Returns 0 or -1. */
int it_proc_kill(pid_t pid, enum it_signal sig);

/** Sends 'sig' to 'pid' from it_spawn() and waits up to 'timeout_ms' for it to exit;
 * kills it with SIGKILL past that.  Returns its exit status, 128+N if killed by
 * signal N, or -1 on error. */
int it_proc_stop(pid_t pid, enum it_signal sig, int timeout_ms);

/** The pid recorded in pidfile 'path', or -1. */
pid_t it_pidfile_read(const char *path);

/** Runs 'loop' until 'pred(aux)' is true or 'timeout_ms' have passed.  Returns whether
 * 'pred' held. */
bool it_loop_until(struct poll_loop *loop, bool (*pred)(void *aux), void *aux,
                   int timeout_ms);

/** Runs 'loop' for 'ms' milliseconds. */
void it_loop_run_for(struct poll_loop *loop, int ms);

/** Predicate for it_loop_until(): the client session 'aux' is synced. */
bool it_cs_is_synced(void *aux);

/* A poll loop and a client session, for one test. */
struct it_fixture {
    struct poll_loop *loop;
    struct ovsdb_cs *cs; /* NULL until the test creates it. */
};

/** cmocka setup: stores a new struct it_fixture, with its loop, in '*state'.  Returns
 * 0, or -1 on failure. */
int it_fixture_setup(void **state);

/** cmocka teardown: destroys the fixture in '*state', its client session (if any)
 * and its loop.  Returns 0. */
int it_fixture_teardown(void **state);

/** The client configuration the tests start from: 'remotes' and 'database'
 * (borrowed), 5 s probes, 50 to 500 ms back-off, every table monitored, no TLS. */
struct ovsdb_cs_config it_cs_config(const char *remotes, const char *database);

/** Creates the client session of 'fx' with 'cfg'.  Returns 0, or a negative errno
 * after writing the error to stderr. */
int it_fixture_client_create(struct it_fixture *fx, const struct ovsdb_cs_config *cfg);

/** it_fixture_client_create(), then runs the loop of 'fx' until the client is
 * synchronised.  Returns 0, a negative errno from creating the client, or
 * -ETIMEDOUT if it was not synchronised within 'timeout_ms' (with a message on
 * stderr). */
int it_fixture_client_start(struct it_fixture *fx, const struct ovsdb_cs_config *cfg,
                            int timeout_ms);

/** Fetches the whole of 'database' from 'remote' with "ovsdb-client dump -f json",
 * with extra ovsdb-client options 'opts' (e.g. "--no-leader-only", SSL files; may be
 * NULL), in the shape of ovsdb_replica_to_json(): {"Table": {"uuid": {"col": datum}}},
 * without "_uuid" and "_version".  Caller owns the result; NULL on failure. */
json_t *it_dump(const char *remote, const char *database, const char *opts);

/** Compares two databases in the shape of ovsdb_replica_to_json(), datum by datum,
 * with sets and maps compared regardless of order, a one-element set equal to its
 * element, and reals equal to integers of the same value.  On a mismatch, writes the
 * first difference to stderr, prefixed by 'what' (unless NULL). */
bool it_db_equal(const json_t *a, const json_t *b, const char *what);

/** it_db_equal() without the report. */
bool it_db_same(const json_t *a, const json_t *b);

/** Runs 'loop' until the replica of 'cs' equals 'expected' (the shape of
 * ovsdb_replica_to_json()), up to 'timeout_ms'.  On timeout, prints the first
 * difference.  Returns whether they became equal. */
bool it_wait_replica_equals(struct poll_loop *loop, struct ovsdb_cs *cs,
                            const json_t *expected, int timeout_ms);

/** Runs 'loop' until the replica of 'cs' equals a dump of 'remote' (as it_dump() with
 * 'opts'), dumping again every second so that a cluster member that applies changes
 * after the client has seen them does not fail the comparison.  Returns the last
 * dump (caller owns), or NULL after 'timeout_ms' (printing the first difference). */
json_t *it_wait_replica_matches_server(struct poll_loop *loop, struct ovsdb_cs *cs,
                                       const char *remote, const char *opts,
                                       int timeout_ms);

/** Datum 'column' of row 'uuid' of 'table' in a database object, or NULL. */
const json_t *it_db_get(const json_t *db, const char *table, const char *uuid,
                        const char *column);

/** Number of rows of 'table' in a database object (0 if absent). */
size_t it_db_count(const json_t *db, const char *table);

/** Reads the whole file 'path'.  Caller owns the result; NULL on failure. */
char *it_file_read(const char *path);

#endif /* OVNIC_ITHELP_H */
