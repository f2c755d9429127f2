#!/bin/bash
# ovnic reference topologies: list them, or apply them to an NB database.
#
#   all.sh list                 print the path of every topology script, in order
#   all.sh apply REMOTE [N...]  apply every topology (or those numbered N) to REMOTE
set -eu
dir=$(cd "$(dirname "$0")" && pwd -P)

topologies() {
    ls "$dir"/[0-9][0-9]-*.sh | sort
}

case "${1:-}" in
list)
    topologies
    ;;
apply)
    [ $# -ge 2 ] || { echo "usage: ${0##*/} apply REMOTE [N...]" >&2; exit 2; }
    remote=$2
    shift 2
    for t in $(topologies); do
        name=${t##*/}
        if [ $# -gt 0 ]; then
            want=no
            for n in "$@"; do
                if [ "${name%%-*}" = "$(printf %02d "$((10#$n))")" ]; then
                    want=yes
                fi
            done
            [ $want = yes ] || continue
        fi
        echo "applying $name" >&2
        NB_REMOTE=$remote "$t" >/dev/null
    done
    ;;
*)
    echo "usage: ${0##*/} list | apply REMOTE [N...]" >&2
    exit 2
    ;;
esac
