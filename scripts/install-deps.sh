#!/usr/bin/env bash
# Installs every Debian package that ovnic's build, tests, demo and benchmarks need.
# Idempotent: when everything is present it only checks, in about a second.
set -euo pipefail

PACKAGES=(
    build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
    libjansson-dev libnl-3-dev libnl-route-3-dev libibverbs-dev rdma-core libssl-dev
    libcmocka-dev openssl
    dpdk dpdk-dev libdpdk-dev
    ovn-central ovn-host ovn-common openvswitch-switch openvswitch-common
    openvswitch-switch-dpdk
    iproute2 iputils-ping tcpdump iperf3 netcat-openbsd busybox ethtool procps
)

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q </dev/null
# The packages try to start services through systemd; without systemd that fails
# harmlessly.  Nothing is started.
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
echo "install-deps: done"
