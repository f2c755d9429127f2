#!/usr/bin/env bash
# ovnic: runs every libFuzzer target of a fuzz build for a fixed time each.
#
#   scripts/fuzz.sh BUILD-DIR [--seconds N] [--merge] [--format table|json] [TARGET...]
#
# BUILD-DIR was configured with CC=clang -DOVNIC_FUZZ=ON (see `make fuzz-build`); its
# fuzz-targets.txt lists each target with its seed corpus and dictionary.  Each target
# starts from its seed corpus and works in BUILD-DIR/fuzz/work/TARGET (emptied first).
# The run fails if any target crashes, leaks, trips a sanitizer, times out on an input,
# or covers fewer edges than its floor in tests/fuzz/coverage-floor.txt (a floor that
# catches a build whose libraries lost their coverage instrumentation).  Inputs that
# crashed are kept in BUILD-DIR/fuzz/artifacts/.
#
# With --merge, the inputs that add coverage are merged into the seed corpus in the
# source tree (libFuzzer -merge=1), so that the corpora grow from run to run.
set -euo pipefail

usage() {
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
}

build=""
seconds=20
merge=0
format=table
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=${2:-}; shift 2 ;;
        --seconds=*) seconds=${1#*=}; shift ;;
        --merge) merge=1; shift ;;
        --format) format=${2:-}; shift 2 ;;
        --format=*) format=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "fuzz.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
        *) if [ -z "$build" ]; then build=$1; else targets+=("$1"); fi; shift ;;
    esac
done
if [ -z "$build" ]; then
    echo "fuzz.sh: missing BUILD-DIR (see --help)" >&2
    exit 2
fi
case "$seconds" in
    ''|*[!0-9]*) echo "fuzz.sh: --seconds wants a whole number of seconds, not '$seconds'" >&2
                 exit 2 ;;
esac
if [ "$seconds" -lt 1 ] || [ "$seconds" -gt 86400 ]; then
    echo "fuzz.sh: --seconds must be 1..86400, not $seconds" >&2
    exit 2
fi
case "$format" in
    table|json) ;;
    *) echo "fuzz.sh: --format is table or json, not '$format'" >&2; exit 2 ;;
esac
manifest="$build/fuzz-targets.txt"
if [ ! -f "$manifest" ]; then
    echo "fuzz.sh: $manifest not found: configure $build with CC=clang -DOVNIC_FUZZ=ON" >&2
    exit 2
fi
top=$(cd "$(dirname "$0")/.." && pwd)
floors="$top/tests/fuzz/coverage-floor.txt"

# floor_of TARGET: the least number of covered edges expected of TARGET (0: none).
floor_of() {
    [ -f "$floors" ] || { echo 0; return; }
    awk -v t="$1" '$1 == t { print $2; found = 1 } END { if (!found) print 0 }' "$floors"
}

mapfile -t lines < <(grep -v '^[[:space:]]*$' "$manifest")
selected=()
for line in "${lines[@]}"; do
    name=${line%% *}
    if [ ${#targets[@]} -eq 0 ]; then
        selected+=("$line")
        continue
    fi
    for t in "${targets[@]}"; do
        [ "$t" = "$name" ] && selected+=("$line")
    done
done
if [ ${#selected[@]} -eq 0 ]; then
    echo "fuzz.sh: no such target: ${targets[*]} (see $manifest)" >&2
    exit 2
fi

out="$build/fuzz"
mkdir -p "$out/work" "$out/artifacts" "$out/logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
results=()
i=0
for line in "${selected[@]}"; do
    read -r name corpus dict <<<"$line"
    i=$((i + 1))
    bin=$(find "$build" -type f -name "$name" -perm -u+x | head -n 1)
    if [ -z "$bin" ]; then
        echo "fuzz.sh: $name is not built (cmake --build $build --target fuzz-all)" >&2
        exit 2
    fi
    work="$out/work/$name"
    log="$out/logs/$name.log"
    rm -rf "$work"
    mkdir -p "$work" "$corpus"
    args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=30 -rss_limit_mb=2048
          -artifact_prefix="$out/artifacts/$name-")
    [ "$dict" != "-" ] && args+=(-dict="$dict")
    printf '[%d/%d] %-16s %4d s ... ' "$i" "${#selected[@]}" "$name" "$seconds" >&2
    rc=0
    "$bin" "${args[@]}" "$work" "$corpus" >"$log" 2>&1 </dev/null || rc=$?
    # The last status line of libFuzzer: "#N DONE cov: E ft: F corp: C/S ...".
    status=$(grep -E '^#[0-9]+.*cov: [0-9]+' "$log" | tail -n 1 || true)
    edges=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$status")
    features=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")
    corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$status")
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    edges=${edges:-0}
    features=${features:-0}
    corp=${corp:-0}
    execs=${execs:-0}
    floor=$(floor_of "$name")
    verdict=ok
    if [ "$rc" -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
        verdict=crash
    elif [ "$edges" -lt "$floor" ]; then
        verdict=blind
    fi
    if [ "$verdict" = ok ] && [ "$merge" = 1 ]; then
        before=$(find "$corpus" -type f | wc -l)
        "$bin" -merge=1 "$corpus" "$work" >>"$log" 2>&1 </dev/null || verdict=merge-failed
        added=$(($(find "$corpus" -type f | wc -l) - before))
    else
        added=0
    fi
    echo "$verdict" >&2
    if [ "$verdict" != ok ]; then
        failed=1
        echo "---- $log (last lines)" >&2
        grep -E 'ERROR|SUMMARY|runtime error|artifact|Test unit written' "$log" | head -n 20 >&2 || true
        if [ "$verdict" = blind ]; then
            echo "$name covered $edges edges, below its floor of $floor: is the build instrumented?" >&2
        fi
    fi
    results+=("$name $seconds $execs $edges $features $corp $floor $added $verdict")
done

if [ "$format" = json ]; then
    printf '['
    sep=""
    for r in "${results[@]}"; do
        read -r name s execs edges features corp floor added verdict <<<"$r"
        printf '%s\n  {"target": "%s", "seconds": %d, "executions": %d, "edges": %d, "features": %d, "corpus": %d, "floor": %d, "merged": %d, "result": "%s"}' \
            "$sep" "$name" "$s" "$execs" "$edges" "$features" "$corp" "$floor" "$added" "$verdict"
        sep=","
    done
    printf '\n]\n'
else
    printf '\n%-16s %7s %11s %7s %8s %7s %6s %7s %s\n' target seconds executions edges \
        features corpus floor merged result
    for r in "${results[@]}"; do
        read -r name s execs edges features corp floor added verdict <<<"$r"
        printf '%-16s %7d %11d %7d %8d %7d %6d %7d %s\n' "$name" "$s" "$execs" "$edges" \
            "$features" "$corp" "$floor" "$added" "$verdict"
    done
fi
if [ "$failed" -ne 0 ]; then
    echo "fuzz.sh: FAILED (logs and crashing inputs under $out)" >&2
    exit 1
fi
