#!/bin/bash
# ovnic: start and stop OVN central (NB/SB ovsdb-servers, ovn-northd) without systemd,
# with every file (databases, pidfiles, sockets, logs) inside one directory.
#
# Usage: ovn-central.sh COMMAND DIR [ARGS...]; run with --help for the list.
set -eu

PROG=${0##*/}
OVN_SCHEMA_DIR=${OVN_SCHEMA_DIR:-/usr/share/ovn}
START_TIMEOUT=${OVN_CENTRAL_TIMEOUT:-20}

# Settings of one database, as saved in DIR/{sb,nb}.conf (see conf_load).
n=1
client_base=
raft_base=
ssl_base=
ssl_key=
ssl_cert=
ssl_ca=
election_timer=

usage() {
    cat <<EOF
$PROG: start and stop OVN central in a directory, without systemd.

Usage: $PROG COMMAND DIR [OPTIONS]

Commands:
  start-sb DIR [OPTIONS]     create (if needed) and start the Southbound database
  start-nb DIR [OPTIONS]     create (if needed) and start the Northbound database
  start-northd DIR           start ovn-northd on DIR's NB and SB (unix sockets)
  stop DIR                   stop every daemon with a pidfile in DIR and wait for it
  kill-member DIR I [--db sb|nb] [--signal SIG]
                             stop member I (1-based; 1 for a standalone server) with
                             SIG (default KILL) and wait until it exits
  start-member DIR I [--db sb|nb]
                             start member I again with its original options
  status DIR                 show each daemon, its pid and whether it runs
  remote DIR [sb|nb] [tcp|unix|ssl]
                             print the comma-separated remote list of a database

Options of start-sb and start-nb:
  --cluster N                run an N-member RAFT cluster (default: standalone)
  --port-base P              client ports P..P+N-1, RAFT ports P+N..P+2N-1, SSL ports
                             P+2N..P+3N-1 (default: free ports chosen automatically)
  --ssl-key FILE --ssl-cert FILE --ssl-ca FILE
                             also listen with pssl: (mutual TLS) on 127.0.0.1
  --fresh                    delete existing database files first
  --no-init                  do not run ovn-sbctl/ovn-nbctl init on a new database
  --election-timer MS        RAFT election timer (default: ovsdb-tool's)

start-sb and start-nb print the tcp: remote list on stdout, e.g.
  tcp:127.0.0.1:6641,tcp:127.0.0.1:6642,tcp:127.0.0.1:6643
File names in DIR: sb.db, sb.pid, sb.ctl, sb.sock, sb.log for a standalone server;
sb1.db, sb1.pid, ... for cluster members; sb.conf records the options.

Environment: OVN_CENTRAL_TIMEOUT (seconds to wait for a server, default 20),
OVN_SCHEMA_DIR (default /usr/share/ovn).
EOF
}

die() {
    echo "$PROG: $*" >&2
    exit 1
}

absdir() {
    [ -d "$1" ] || die "$1: no such directory"
    (cd "$1" && pwd -P)
}

# member_name DB N I: file prefix of member I of an N-member database.
member_name() {
    if [ "$2" -eq 1 ]; then
        echo "$1"
    else
        echo "$1$3"
    fi
}

db_schema() {
    case $1 in
    sb) echo "$OVN_SCHEMA_DIR/ovn-sb.ovsschema" ;;
    nb) echo "$OVN_SCHEMA_DIR/ovn-nb.ovsschema" ;;
    esac
}

db_name() {
    case $1 in
    sb) echo OVN_Southbound ;;
    nb) echo OVN_Northbound ;;
    esac
}

db_ctl() {
    case $1 in
    sb) echo ovn-sbctl ;;
    nb) echo ovn-nbctl ;;
    esac
}

# port_busy P: true if any IPv4/IPv6 TCP socket uses local port P.
port_busy() {
    local hex
    hex=$(printf ':%04X' "$1")
    awk -v p="$hex" 'NR > 1 && substr($2, length($2) - 4) == p { found = 1 }
                     END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# pick_port_base COUNT: a base P such that P..P+COUNT-1 are all unused.
pick_port_base() {
    local count=$1 base try i ok
    base=$((20000 + ($$ * 97 + RANDOM) % 30000))
    for try in $(seq 1 200); do
        ok=1
        for i in $(seq 0 $((count - 1))); do
            if port_busy $((base + i)); then
                ok=0
                break
            fi
        done
        if [ $ok = 1 ]; then
            echo $base
            return 0
        fi
        base=$((20000 + (base - 20000 + count + 7 * try) % 30000))
    done
    die "no free block of $count TCP ports"
}

# port_listening P: true if some socket listens on 127.0.0.1:P.
port_listening() {
    local hex
    hex=$(printf '0100007F:%04X' "$1")
    awk -v a="$hex" 'NR > 1 && $2 == a && $4 == "0A" { found = 1 } END { exit !found }' \
        /proc/net/tcp
}

# pid_of_file F: the pid in pidfile F if that process runs and was started with F.
pid_of_file() {
    local f=$1 pid
    [ -f "$f" ] || return 1
    pid=$(cat "$f" 2>/dev/null) || return 1
    case $pid in
    '' | *[!0-9]*) return 1 ;;
    esac
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$f" || return 1
    echo "$pid"
}

# wait_exit PID SECONDS: true once PID has exited (or is a zombie).
wait_exit() {
    local pid=$1 limit=$(($2 * 20)) i state
    for i in $(seq 1 $limit); do
        if [ ! -e "/proc/$pid" ]; then
            return 0
        fi
        state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
        if [ "$state" = Z ] || [ -z "$state" ]; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

stop_pidfile() {
    local f=$1 sig=${2:-TERM} pid
    pid=$(pid_of_file "$f") || {
        rm -f "$f"
        return 0
    }
    kill -s "$sig" "$pid" 2>/dev/null || true
    if ! wait_exit "$pid" 5; then
        kill -s KILL "$pid" 2>/dev/null || true
        wait_exit "$pid" 5 || die "process $pid ($f) does not exit"
    fi
    rm -f "$f"
}

conf_load() {
    local dir=$1 db=$2
    [ -f "$dir/$db.conf" ] || die "$dir: no $db database was started here"
    # shellcheck disable=SC1090
    . "$dir/$db.conf"
}

# server_start DIR DB I: starts member I of DB with the options in DB.conf.
server_start() {
    local dir=$1 db=$2 i=$3 name port sslport
    conf_load "$dir" "$db"
    name=$(member_name "$db" "$n" "$i")
    port=$((client_base + i - 1))
    set -- "$dir/$name.db" --detach --no-chdir --pidfile="$dir/$name.pid" \
        --log-file="$dir/$name.log" --unixctl="$dir/$name.ctl" \
        --remote=punix:"$dir/$name.sock" --remote=ptcp:"$port":127.0.0.1
    if [ -n "$ssl_key" ]; then
        sslport=$((ssl_base + i - 1))
        set -- "$@" --remote=pssl:"$sslport":127.0.0.1 --private-key="$ssl_key" \
            --certificate="$ssl_cert" --ca-cert="$ssl_ca"
    fi
    ovsdb-server "$@" >/dev/null 2>>"$dir/$name.err" ||
        die "ovsdb-server $name failed to start (see $dir/$name.err)"
}

# server_check DIR DB I: waits until member I listens; fails on a bind error.
server_check() {
    local dir=$1 db=$2 i=$3 name port
    conf_load "$dir" "$db"
    name=$(member_name "$db" "$n" "$i")
    port=$((client_base + i - 1))
    for _ in $(seq 1 $((START_TIMEOUT * 20))); do
        if grep -q 'Address already in use' "$dir/$name.log" 2>/dev/null; then
            return 1
        fi
        if port_listening "$port"; then
            return 0
        fi
        sleep 0.05
    done
    die "$name does not listen on port $port (see $dir/$name.log)"
}

server_wait_connected() {
    local dir=$1 db=$2 i=$3 name
    conf_load "$dir" "$db"
    name=$(member_name "$db" "$n" "$i")
    ovsdb-client --timeout="$START_TIMEOUT" wait unix:"$dir/$name.sock" \
        "$(db_name "$db")" connected >/dev/null 2>&1 ||
        die "$name did not join its cluster (see $dir/$name.log)"
}

remote_list() {
    local dir=$1 db=$2 kind=$3 i name list=""
    conf_load "$dir" "$db"
    for i in $(seq 1 "$n"); do
        name=$(member_name "$db" "$n" "$i")
        case $kind in
        tcp) list="$list,tcp:127.0.0.1:$((client_base + i - 1))" ;;
        unix) list="$list,unix:$dir/$name.sock" ;;
        ssl)
            [ -n "$ssl_key" ] || die "$db was started without SSL"
            list="$list,ssl:127.0.0.1:$((ssl_base + i - 1))"
            ;;
        *) die "unknown remote kind '$kind'" ;;
        esac
    done
    echo "${list#,}"
}

# db_create DIR DB N: creates standalone or clustered database files.
db_create() {
    local dir=$1 db=$2 n=$3 schema i name raft peers
    schema=$(db_schema "$db")
    if [ "$n" -eq 1 ]; then
        ovsdb-tool create "$dir/$db.db" "$schema"
        return
    fi
    peers=""
    for i in $(seq 1 "$n"); do
        name=$(member_name "$db" "$n" "$i")
        raft="tcp:127.0.0.1:$((raft_base + i - 1))"
        if [ "$i" -eq 1 ]; then
            ovsdb-tool ${election_timer:+--election-timer="$election_timer"} \
                create-cluster "$dir/$name.db" "$schema" "$raft" 2>>"$dir/$name.err"
        else
            # shellcheck disable=SC2086
            ovsdb-tool join-cluster "$dir/$name.db" "$(db_name "$db")" "$raft" $peers
        fi
        peers="$peers $raft"
    done
}

db_files_remove() {
    local dir=$1 db=$2 f
    for f in "$dir/$db".db "$dir/$db"[0-9]*.db "$dir/.$db".db.~lock~ \
        "$dir/.$db"[0-9]*.db.~lock~; do
        rm -f "$f"
    done
}

cmd_start_db() {
    local db=$1 dir n=1 port_base="" fresh=0 init=1 key="" cert="" ca="" timer=""
    local auto i name created ok count
    dir=$(absdir "${2:?DIR required}")
    shift 2
    while [ $# -gt 0 ]; do
        case $1 in
        --cluster) n=${2:?}; shift ;;
        --cluster=*) n=${1#*=} ;;
        --port-base) port_base=${2:?}; shift ;;
        --port-base=*) port_base=${1#*=} ;;
        --ssl-key) key=${2:?}; shift ;;
        --ssl-cert) cert=${2:?}; shift ;;
        --ssl-ca) ca=${2:?}; shift ;;
        --election-timer) timer=${2:?}; shift ;;
        --fresh) fresh=1 ;;
        --no-init) init=0 ;;
        *) die "start-$db: unknown option '$1'" ;;
        esac
        shift
    done
    case $n in
    '' | *[!0-9]* | 0) die "--cluster needs a positive number" ;;
    esac
    if [ -n "$key$cert$ca" ] && { [ -z "$key" ] || [ -z "$cert" ] || [ -z "$ca" ]; }; then
        die "--ssl-key, --ssl-cert and --ssl-ca go together"
    fi
    for f in "$key" "$cert" "$ca"; do
        [ -z "$f" ] || [ -r "$f" ] || die "$f: cannot read"
    done
    [ -z "$key" ] || key=$(cd "$(dirname "$key")" && pwd -P)/$(basename "$key")
    [ -z "$cert" ] || cert=$(cd "$(dirname "$cert")" && pwd -P)/$(basename "$cert")
    [ -z "$ca" ] || ca=$(cd "$(dirname "$ca")" && pwd -P)/$(basename "$ca")

    for i in $(seq 1 "$n"); do
        name=$(member_name "$db" "$n" "$i")
        if pid_of_file "$dir/$name.pid" >/dev/null; then
            die "$name already runs in $dir"
        fi
    done
    if [ $fresh = 1 ]; then
        db_files_remove "$dir" "$db"
    fi

    count=$((n * 2))
    [ -z "$key" ] || count=$((n * 3))
    auto=0
    [ -n "$port_base" ] || auto=1
    for _ in 1 2 3 4 5; do
        if [ $auto = 1 ]; then
            port_base=$(pick_port_base $count)
        fi
        cat >"$dir/$db.conf" <<EOF
n=$n
client_base=$port_base
raft_base=$((port_base + n))
ssl_base=$((port_base + 2 * n))
ssl_key='$key'
ssl_cert='$cert'
ssl_ca='$ca'
election_timer='$timer'
EOF
        conf_load "$dir" "$db"
        created=0
        if [ ! -f "$dir/$(member_name "$db" "$n" 1).db" ]; then
            db_create "$dir" "$db" "$n"
            created=1
        fi
        for i in $(seq 1 "$n"); do
            server_start "$dir" "$db" "$i"
        done
        ok=1
        for i in $(seq 1 "$n"); do
            server_check "$dir" "$db" "$i" || ok=0
        done
        if [ $ok = 1 ]; then
            break
        fi
        # A port was taken between the probe and the bind: start over elsewhere.
        for i in $(seq 1 "$n"); do
            stop_pidfile "$dir/$(member_name "$db" "$n" "$i").pid"
            rm -f "$dir/$(member_name "$db" "$n" "$i").log"
        done
        [ $created = 0 ] || db_files_remove "$dir" "$db"
        [ $auto = 1 ] || die "ports $port_base.. are in use"
    done
    [ $ok = 1 ] || die "could not find free ports"
    if [ "$n" -gt 1 ]; then
        for i in $(seq 1 "$n"); do
            server_wait_connected "$dir" "$db" "$i"
        done
    fi
    if [ $created = 1 ] && [ $init = 1 ]; then
        "$(db_ctl "$db")" --timeout="$START_TIMEOUT" \
            --db="$(remote_list "$dir" "$db" unix)" init ||
            die "$(db_ctl "$db") init failed"
    fi
    remote_list "$dir" "$db" tcp
}

cmd_start_northd() {
    local dir
    dir=$(absdir "${1:?DIR required}")
    ovn-northd --ovnnb-db="$(remote_list "$dir" nb unix)" \
        --ovnsb-db="$(remote_list "$dir" sb unix)" --detach --no-chdir \
        --pidfile="$dir/northd.pid" --log-file="$dir/northd.log" \
        --unixctl="$dir/northd.ctl" >/dev/null 2>>"$dir/northd.err" ||
        die "ovn-northd failed to start (see $dir/northd.err)"
}

cmd_stop() {
    local dir f
    dir=$(absdir "${1:?DIR required}")
    # northd first, so that it does not log about the databases going away.
    for f in "$dir"/northd.pid "$dir"/*.pid; do
        [ -e "$f" ] || continue
        stop_pidfile "$f"
    done
}

member_args() {
    MEMBER_DB=sb
    MEMBER_SIG=KILL
    while [ $# -gt 0 ]; do
        case $1 in
        --db) MEMBER_DB=${2:?}; shift ;;
        --db=*) MEMBER_DB=${1#*=} ;;
        --signal) MEMBER_SIG=${2:?}; shift ;;
        --signal=*) MEMBER_SIG=${1#*=} ;;
        *) die "unknown option '$1'" ;;
        esac
        shift
    done
    case $MEMBER_DB in
    sb | nb) ;;
    *) die "--db must be sb or nb" ;;
    esac
}

member_check() {
    case $1 in
    '' | *[!0-9]*) die "member index must be a number, not '$1'" ;;
    esac
    if [ "$1" -lt 1 ] || [ "$1" -gt "$n" ]; then
        die "member $1 does not exist"
    fi
}

cmd_kill_member() {
    local dir i name
    dir=$(absdir "${1:?DIR required}")
    i=${2:?member index required}
    shift 2
    member_args "$@"
    conf_load "$dir" "$MEMBER_DB"
    member_check "$i"
    name=$(member_name "$MEMBER_DB" "$n" "$i")
    pid_of_file "$dir/$name.pid" >/dev/null || die "$name does not run"
    stop_pidfile "$dir/$name.pid" "$MEMBER_SIG"
}

cmd_start_member() {
    local dir i name
    dir=$(absdir "${1:?DIR required}")
    i=${2:?member index required}
    shift 2
    member_args "$@"
    conf_load "$dir" "$MEMBER_DB"
    member_check "$i"
    name=$(member_name "$MEMBER_DB" "$n" "$i")
    if pid_of_file "$dir/$name.pid" >/dev/null; then
        die "$name already runs"
    fi
    : >"$dir/$name.log.new"
    cat "$dir/$name.log" >>"$dir/$name.log.old" 2>/dev/null || true
    mv "$dir/$name.log.new" "$dir/$name.log"
    server_start "$dir" "$MEMBER_DB" "$i"
    server_check "$dir" "$MEMBER_DB" "$i" || die "$name: port in use"
    if [ "$n" -gt 1 ]; then
        server_wait_connected "$dir" "$MEMBER_DB" "$i"
    fi
}

cmd_status() {
    local dir f pid db i name role
    dir=$(absdir "${1:?DIR required}")
    for f in "$dir"/*.pid; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .pid)
        if pid=$(pid_of_file "$f"); then
            role=""
            case $name in
            sb* | nb*)
                db=${name%%[0-9]*}
                role=$(ovs-appctl -t "$dir/$name.ctl" cluster/status "$(db_name "$db")" \
                    2>/dev/null | sed -n 's/^Role: //p' || true)
                ;;
            esac
            echo "$name: running, pid $pid${role:+, $role}"
        else
            echo "$name: not running"
        fi
    done
    for db in nb sb; do
        if [ -f "$dir/$db.conf" ]; then
            echo "$db remotes: $(remote_list "$dir" "$db" tcp)"
        fi
    done
}

cmd_remote() {
    local dir db=${2:-sb} kind=${3:-tcp}
    dir=$(absdir "${1:?DIR required}")
    case $db in
    sb | nb) ;;
    *) die "remote: database must be sb or nb" ;;
    esac
    remote_list "$dir" "$db" "$kind"
}

[ $# -ge 1 ] || {
    usage >&2
    exit 2
}
cmd=$1
shift
case $cmd in
-h | --help | help) usage ;;
start-sb) cmd_start_db sb "$@" ;;
start-nb) cmd_start_db nb "$@" ;;
start-northd) cmd_start_northd "$@" ;;
stop) cmd_stop "$@" ;;
kill-member) cmd_kill_member "$@" ;;
start-member) cmd_start_member "$@" ;;
status) cmd_status "$@" ;;
remote) cmd_remote "$@" ;;
*)
    echo "$PROG: unknown command '$cmd'" >&2
    usage >&2
    exit 2
    ;;
esac
