# shellcheck shell=bash
# ovnic end-to-end scenarios: a real OVN central, simulated hosts with DPUs
# (ovnic-sim lab: ovnic-nicsim per host), ovnic-dpud with its DPDK datapath on each
# DPU, and VMs (network namespaces holding a VF netdev).  Sourced, not run: used by
# tests/e2e/*.sh and scripts/demo.sh.
#
# The caller sets BUILD (build tree), TOP (source tree) and E2E_DIR (a fresh temp
# directory), and calls e2e_cleanup from its EXIT trap.

E2E_LAB=${E2E_LAB:-ovl$$}
E2E_HOSTS=()
E2E_PIDFILES=()
E2E_BOUND=()

e2e_step() {
    printf '\n\033[1m==> %s\033[0m\n' "$*"
}

e2e_fail() {
    echo "e2e: FAILED: $*" >&2
    for h in "${E2E_HOSTS[@]}"; do
        if [ -f "$E2E_DIR/dpu$h/dpud.log" ]; then
            echo "---- last lines of dpu$h/dpud.log" >&2
            tail -n 25 "$E2E_DIR/dpu$h/dpud.log" >&2
        fi
    done
    exit 1
}

e2e_tools() {
    OVNICCTL="$BUILD/tools/ovnicctl/ovnicctl"
    DPUD="$BUILD/dpu/daemon/ovnic-dpud"
    SIM="$BUILD/tests/hw-sim/lab/ovnic-sim"
    CENTRAL="$TOP/scripts/ovn-central.sh"
    export OVNIC_NICSIM="$BUILD/tests/hw-sim/nicsim/ovnic-nicsim"
    for t in "$OVNICCTL" "$DPUD" "$SIM" "$OVNIC_NICSIM"; do
        [ -x "$t" ] || { echo "e2e: $t is missing (build first)" >&2; exit 1; }
    done
    for t in ovn-nbctl ovsdb-server busybox ip ethtool; do
        command -v "$t" >/dev/null || { echo "e2e: $t not installed" >&2; exit 77; }
    done
    [ "$(id -u)" = 0 ] || { echo "e2e: needs root" >&2; exit 77; }
}

# e2e_central: NB and SB (standalone) and northd under $E2E_DIR/central.
e2e_central() {
    mkdir -p "$E2E_DIR/central"
    "$CENTRAL" start-nb "$E2E_DIR/central" >/dev/null
    SB=$("$CENTRAL" start-sb "$E2E_DIR/central")
    "$CENTRAL" start-northd "$E2E_DIR/central" >/dev/null
    NB="unix:$E2E_DIR/central/nb.sock"
    export SB NB
}

nbctl() {
    ovn-nbctl --db="$NB" --timeout=60 "$@"
}

# e2e_lab N VFS: the lab with N hosts and VFS VFs each, every VF enabled.
e2e_lab() {
    local n=$1 vfs=$2
    "$SIM" lab up --name "$E2E_LAB" --hosts "$n" --vfs "$vfs" --dir "$E2E_DIR/lab" \
        >"$E2E_DIR/lab-up.log" 2>&1 || { cat "$E2E_DIR/lab-up.log" >&2; e2e_fail "lab up"; }
    for h in $(seq 1 "$n"); do
        E2E_HOSTS+=("$h")
        e2e_host_vfs "$h" "$vfs" nowait
    done
    # Wait for the VF netdevs of the last host.
    e2e_host_vfs_wait "$n" "$vfs"
}

# e2e_host_vfs HOST N [nowait]: what the host's agent does: enables N VFs on host
# HOST's PF (sriov_numvfs), then waits until their netdevs appear in the host's
# namespace (unless nowait).
e2e_host_vfs() {
    local sysfs
    sysfs=$(lab_get "$1" sysfs_root)
    echo "$2" >"$sysfs/devices/pci0000:00/0000:03:00.0/sriov_numvfs"
    [ "${3:-}" = nowait ] || e2e_host_vfs_wait "$1" "$2"
}

e2e_host_vfs_wait() {
    for _ in $(seq 500); do
        ip -n "$E2E_LAB-h$1" link show "pf0v$(($2 - 1))" >/dev/null 2>&1 && return 0
        sleep 0.01
    done
    e2e_fail "VFs of host $1 did not appear"
}

# lab_get HOST KEY: a value of host HOST (1-based) from lab.json.
lab_get() {
    python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))["host_list"][int(sys.argv[2])-1]; print(h[sys.argv[3]])' \
        "$E2E_DIR/lab/lab.json" "$1" "$2"
}

# e2e_vm HOST VF NAME: namespace $E2E_LAB-hHOST-NAME receives VF VF as eth0.
e2e_vm() {
    ip netns add "$E2E_LAB-h$1-$3"
    e2e_vm_plug "$@"
}

# e2e_vm_plug HOST VF NAME: VM NAME (its namespace exists) receives VF VF as eth0,
# e.g. again after a NIC reset destroyed the VF it had.
e2e_vm_plug() {
    local h=$1 vf=$2 ns="$E2E_LAB-h$1-$3"
    ip -n "$E2E_LAB-h$h" link set "pf0v$vf" netns "$ns"
    ip -n "$ns" link set "pf0v$vf" name eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
}

vm_ns() {
    echo "$E2E_LAB-h$1-$2"
}

vm_mac() {
    ip -n "$(vm_ns "$1" "$2")" -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# e2e_dpud HOST [KEY=VALUE...]: ovnic-dpud for host HOST with its DPDK datapath.
e2e_dpud() {
    local h=$1 dir="$E2E_DIR/dpu$1"
    shift
    mkdir -p "$dir"
    "$DPUD" --system-id="hv$h" --sb-remote="$SB" --encap-ip="$(lab_get "$h" encap_ip)" \
        --rundir="$dir" --log-file="$dir/dpud.log" --datapath=dpdk \
        --memif-dir="$(lab_get "$h" memif_dir)" --uplink-mac="$(lab_get "$h" uplink_mac)" \
        --dpdk-args="--no-huge -m 256" "$@" --detach ||
        e2e_fail "ovnic-dpud hv$h did not start"
}

# e2e_dpud_stop HOST: stops ovnic-dpud of host HOST with SIGTERM (a clean exit) and
# waits for it.
e2e_dpud_stop() {
    local pidf="$E2E_DIR/dpu$1/ovnic-dpud.pid" pid
    pid=$(cat "$pidf") || e2e_fail "no pidfile for ovnic-dpud hv$1"
    kill "$pid"
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    e2e_fail "ovnic-dpud hv$1 did not exit"
}

# sb_up LPORT: Port_Binding.up of LPORT ("true", "false", or "" when unset).
sb_up() {
    ovn-sbctl --db="$SB" --bare --columns=up find Port_Binding logical_port="$1"
}

# e2e_wait_sb_up LPORT VALUE [SECONDS]: waits (default 10 s) until sb_up LPORT gives
# VALUE; prints how long it took in ms.
e2e_wait_sb_up() {
    local start now deadline
    start=$(date +%s%N)
    deadline=$((start + ${3:-10} * 1000000000))
    while :; do
        now=$(date +%s%N)
        [ "$(sb_up "$1")" = "$2" ] && { echo $(((now - start) / 1000000)); return 0; }
        [ "$now" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

dpud_ctl() {
    local h=$1
    shift
    "$OVNICCTL" "$@" --target="$E2E_DIR/dpu$h/ovnic-dpud.ctl"
}

# e2e_dhcp HOST VM: DHCPv4 in the VM with busybox udhcpc; prints the address.
e2e_dhcp() {
    local ns
    ns=$(vm_ns "$1" "$2")
    cat >"$E2E_DIR/udhcpc.sh" <<'EOF'
#!/bin/sh
case "$1" in
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    ;;
esac
exit 0
EOF
    chmod +x "$E2E_DIR/udhcpc.sh"
    ip netns exec "$ns" busybox udhcpc -i eth0 -n -q -t 5 -T 2 -s "$E2E_DIR/udhcpc.sh" \
        >"$E2E_DIR/udhcpc-$1-$2.log" 2>&1 || { cat "$E2E_DIR/udhcpc-$1-$2.log" >&2; return 1; }
    ip -n "$ns" -4 -o addr show dev eth0 | awk '{print $4}'
}

vm_exec() {
    local ns
    ns=$(vm_ns "$1" "$2")
    shift 2
    ip netns exec "$ns" "$@"
}

# e2e_vm_ip HOST VM ADDR/PLEN [GATEWAY]: a static IPv4 address (and default route).
e2e_vm_ip() {
    local ns
    ns=$(vm_ns "$1" "$2")
    ip -n "$ns" addr add "$3" dev eth0
    if [ -n "${4:-}" ]; then
        ip -n "$ns" route replace default via "$4" dev eth0
    fi
}

# e2e_bind HOST REPRESENTOR LPORT...: binds representors (pf0vfN) to logical ports,
# pairs of arguments after HOST; then waits until every bound port is up in the SB.
e2e_bind() {
    local h=$1
    shift
    local ports=()
    while [ $# -ge 2 ]; do
        dpud_ctl "$h" dpud port-add "$1" --iface-id="$2" >/dev/null ||
            e2e_fail "port-add $1 $2 on hv$h"
        ports+=("$2")
        shift 2
    done
    E2E_BOUND+=("${ports[@]}")
}

# e2e_wait_up: --wait=hv, then every port bound with e2e_bind must be up.
e2e_wait_up() {
    timeout 60 ovn-nbctl --db="$NB" --wait=hv sync || e2e_fail "--wait=hv"
    local p up
    for p in "${E2E_BOUND[@]}"; do
        for _ in $(seq 50); do
            up=$(ovn-sbctl --db="$SB" --bare --columns=up find Port_Binding logical_port="$p")
            [ "$up" = true ] && break
            sleep 0.1
        done
        [ "$up" = true ] || e2e_fail "Port_Binding $p is not up"
    done
}

# e2e_spawn HOST VM NAME CMD...: CMD runs in the background inside the VM, output in
# $E2E_DIR/NAME.log, pid in $E2E_DIR/NAME.pid; e2e_cleanup stops it.
e2e_spawn() {
    local ns name=$3
    ns=$(vm_ns "$1" "$2")
    shift 3
    ip netns exec "$ns" "$@" >"$E2E_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$E2E_DIR/$name.pid"
    E2E_PIDFILES+=("$E2E_DIR/$name.pid")
}

# e2e_track_pidfile FILE: e2e_cleanup stops the process whose pid FILE holds (for
# daemons that write their own pidfile).
e2e_track_pidfile() {
    E2E_PIDFILES+=("$1")
}

# e2e_wait_listen HOST VM PORT: waits (5 s) until a TCP socket listens on PORT in the VM.
e2e_wait_listen() {
    for _ in $(seq 50); do
        vm_exec "$1" "$2" ss -Hltn "sport = :$3" | grep -q LISTEN && return 0
        sleep 0.1
    done
    e2e_fail "nothing listens on port $3 in $2"
}

# e2e_ping HOST VM DEST [COUNT]: ping (ping -6 for an IPv6 DEST), one retry round for
# the first packets that resolve neighbours; prints "min/avg/max" RTT in ms.
e2e_ping() {
    local out
    out=$(vm_exec "$1" "$2" ping -n -c "${4:-5}" -i 0.2 -W 2 "$3" 2>&1) ||
        out=$(vm_exec "$1" "$2" ping -n -c "${4:-5}" -i 0.2 -W 2 "$3" 2>&1) ||
        { echo "$out" >&2; return 1; }
    echo "$out" | sed -n 's|^rtt min/avg/max/mdev = \([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\)/.*|\1/\2/\3|p'
}

# eui64 PREFIX:: MAC: the SLAAC address (modified EUI-64) of MAC in a /64 PREFIX.
eui64() {
    python3 -c '
import ipaddress, sys
m = [int(x, 16) for x in sys.argv[2].split(":")]
iid = bytes([m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]])
net = ipaddress.IPv6Address(sys.argv[1]).packed[:8]
print(ipaddress.IPv6Address(net + iid))' "$1" "$2"
}

# e2e_vm_ra HOST VM: the VM takes router advertisements (a host, not a router) and
# skips duplicate address detection, so addresses are usable at once.
e2e_vm_ra() {
    vm_exec "$1" "$2" sysctl -qw net.ipv6.conf.eth0.forwarding=0 \
        net.ipv6.conf.eth0.accept_ra=2 net.ipv6.conf.eth0.autoconf=1 \
        net.ipv6.conf.eth0.accept_dad=0 net.ipv6.conf.eth0.router_solicitation_interval=1
}

# e2e_vm_relink HOST VM: eth0 down and up, so the kernel solicits routers again.
e2e_vm_relink() {
    local ns
    ns=$(vm_ns "$1" "$2")
    ip -n "$ns" link set eth0 down
    ip -n "$ns" link set eth0 up
}

# e2e_wait_addr6 HOST VM ADDR: waits (10 s) until ADDR is configured on eth0.
e2e_wait_addr6() {
    for _ in $(seq 100); do
        vm_exec "$1" "$2" ip -6 -o addr show dev eth0 | grep -q " $3/64 " && return 0
        sleep 0.1
    done
    vm_exec "$1" "$2" ip -6 addr show dev eth0 >&2
    return 1
}

# e2e_finish: the EXIT trap of a scenario (KEEP=--keep keeps the files).
e2e_finish() {
    local rc=$?
    e2e_cleanup
    if [ "${KEEP:-}" != "--keep" ] && [ $rc = 0 ]; then
        rm -rf "$E2E_DIR"
    else
        echo "e2e: files kept in $E2E_DIR"
    fi
}

e2e_stop_pidfiles() {
    local f pid
    for f in "${E2E_PIDFILES[@]}"; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        [ -n "$pid" ] || continue
        kill "$pid" 2>/dev/null || continue
        for _ in $(seq 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    done
}

e2e_cleanup() {
    e2e_stop_pidfiles
    for h in "${E2E_HOSTS[@]}"; do
        local pidf="$E2E_DIR/dpu$h/ovnic-dpud.pid"
        if [ -f "$pidf" ]; then
            local pid
            pid=$(cat "$pidf")
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    if [ -n "${SIM:-}" ] && [ -d "$E2E_DIR/lab" ]; then
        "$SIM" lab down --name "$E2E_LAB" --dir "$E2E_DIR/lab" >/dev/null 2>&1 || true
    fi
    if [ -d "$E2E_DIR/central" ]; then
        "$CENTRAL" stop "$E2E_DIR/central" >/dev/null 2>&1 || true
    fi
}
