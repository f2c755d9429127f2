/* ovnic benchmarks: what several benchmark programs share. */
#ifndef OVNIC_BENCH_UTIL_H
#define OVNIC_BENCH_UTIL_H 1

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/** The source tree, into 'source' ('size' bytes): $OVNIC_SOURCE_DIR, else the one
 * recorded in the CMakeCache.txt of the build tree this program runs from
 * (BUILD/bench/PROG).  Returns 0, or -ENOENT (neither; 'source' untouched). */
int bench_find_source(char *source, size_t size);

/** Runs the shell command 'fmt'/'args'.  With 'out', its output goes there: the first
 * line if 'first_line', else all of it (at most 'size' - 1 bytes, the rest read and
 * discarded), trailing newlines removed; without 'out', stdout is discarded.
 * Returns the command's exit status (128 if it did not exit), or -1. */
int bench_run_cmdv(char *out, size_t size, bool first_line, const char *fmt,
                   va_list args);

/* A shell in its own session that waits for this process to go away, however it ends
 * (its end of a pipe closes), then runs "CENTRAL stop DIR" (scripts/ovn-central.sh:
 * every daemon with a pidfile in DIR) and removes DIR and, if given, one more path. */
struct bench_watcher {
    pid_t pid;    /* -1 when not running. */
    int write_fd; /* Our end of the pipe, -1 when closed. */
};

/** Starts the watcher of run directory 'dir' with 'central' (the path of
 * scripts/ovn-central.sh); 'extra' (may be NULL) is removed as well.  Returns 0 or a
 * negative errno ('w' then not running). */
int bench_watcher_start(struct bench_watcher *w, const char *central, const char *dir,
                        const char *extra);

/** Lets the watcher do its work now and waits for it.  Safe when not running. */
void bench_watcher_finish(struct bench_watcher *w);

#endif /* OVNIC_BENCH_UTIL_H */
