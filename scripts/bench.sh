#!/bin/bash
# ovnic: run every benchmark program (BUILD_DIR/bench/bench_*) one after the other.
#
# Usage: scripts/bench.sh BUILD_DIR [ARGS...]
# ARGS (e.g. --format=json) are passed to every benchmark.  Each prints its figures
# beside the peer's, measured in the same run.  Exits non-zero if any benchmark fails.
set -u

PROG=${0##*/}
if [ $# -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
    echo "Usage: $PROG BUILD_DIR [ARGS...]" >&2
    exit 2
fi
build=$(cd "$1" 2>/dev/null && pwd -P) || {
    echo "$PROG: $1: no such build directory" >&2
    exit 2
}
shift
OVNIC_SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd -P)
OVNIC_BUILD_DIR=$build
export OVNIC_SOURCE_DIR OVNIC_BUILD_DIR

found=0
failed=0
for bench in "$build"/bench/bench_*; do
    if [ ! -f "$bench" ] || [ ! -x "$bench" ]; then
        continue
    fi
    found=$((found + 1))
    echo "== ${bench##*/}"
    start=$(date +%s%N)
    if ! "$bench" "$@"; then
        echo "$PROG: ${bench##*/} failed" >&2
        failed=$((failed + 1))
    fi
    ms=$((($(date +%s%N) - start) / 1000000))
    printf '== %s: %d.%03d s\n' "${bench##*/}" $((ms / 1000)) $((ms % 1000))
done
if [ $found = 0 ]; then
    echo "$PROG: no benchmark in $build/bench (build first)" >&2
    exit 1
fi
[ $failed = 0 ]
