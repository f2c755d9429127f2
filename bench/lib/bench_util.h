/* ovnic benchmarks: what several benchmark programs share. */
#ifndef OVNIC_BENCH_UTIL_H
#define OVNIC_BENCH_UTIL_H 1

#include <stddef.h>

/** The source tree, into 'source' ('size' bytes): $OVNIC_SOURCE_DIR, else the one
 * recorded in the CMakeCache.txt of the build tree this program runs from
 * (BUILD/bench/PROG).  Returns 0, or -ENOENT (neither; 'source' untouched). */
int bench_find_source(char *source, size_t size);

#endif /* OVNIC_BENCH_UTIL_H */
