# ovnic reference topologies: what every topology script shares.  Sourced, not run.
#
# A topology script takes the NB remote from $NB_REMOTE or from its first argument,
# builds its logical network with ovn-nbctl in one transaction, and returns once
# ovn-northd has written the result to the SB (--wait=sb).  Names, MACs and addresses
# are fixed, and distinct between topologies, so that every topology can be applied to
# the same NB.

topo_init() {
    NB_REMOTE=${NB_REMOTE:-${1:-}}
    if [ -z "$NB_REMOTE" ]; then
        echo "usage: NB_REMOTE=REMOTE ${0##*/}  or  ${0##*/} REMOTE" >&2
        exit 2
    fi
    export NB_REMOTE
}

# nbctl ARGS...: ovn-nbctl against $NB_REMOTE, failing rather than hanging.
nbctl() {
    ovn-nbctl --db="$NB_REMOTE" --timeout=60 "$@"
}
