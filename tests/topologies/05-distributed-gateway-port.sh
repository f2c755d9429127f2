#!/bin/bash
# Topology 05: a distributed router whose external port is a distributed gateway
# port, scheduled on gateway chassis dgp-chassis-1 (priority 20) and dgp-chassis-2
# (10).  SNAT on the gateway port, a distributed floating IP (dnat_and_snat with the
# VM's logical port and an external MAC), a centralised one, and a provider network
# (localnet, VLAN 105) behind it.  The port is also MTU-limited (gateway_mtu).
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

nbctl --wait=sb \
    -- ls-add dgp-tenant \
    -- lsp-add dgp-tenant dgp-vm1 \
    -- lsp-set-addresses dgp-vm1 "0a:00:00:05:00:11 10.5.0.11" \
    -- lsp-add dgp-tenant dgp-vm2 \
    -- lsp-set-addresses dgp-vm2 "0a:00:00:05:00:12 10.5.0.12" \
    -- lr-add dgp-router \
    -- lrp-add dgp-router dgp-lrp-tenant 0a:00:00:05:00:01 10.5.0.1/24 \
    -- lrp-add dgp-router dgp-lrp-ext 0a:00:00:05:01:01 172.16.5.1/24 \
    -- lrp-set-gateway-chassis dgp-lrp-ext dgp-chassis-1 20 \
    -- lrp-set-gateway-chassis dgp-lrp-ext dgp-chassis-2 10 \
    -- set Logical_Router_Port dgp-lrp-ext options:gateway_mtu=1400 \
    -- lsp-add dgp-tenant dgp-tenant-rp \
    -- lsp-set-type dgp-tenant-rp router \
    -- lsp-set-addresses dgp-tenant-rp router \
    -- lsp-set-options dgp-tenant-rp router-port=dgp-lrp-tenant \
    -- ls-add dgp-ext \
    -- lsp-add dgp-ext dgp-ext-rp \
    -- lsp-set-type dgp-ext-rp router \
    -- lsp-set-addresses dgp-ext-rp router \
    -- lsp-set-options dgp-ext-rp router-port=dgp-lrp-ext \
    -- lsp-add dgp-ext dgp-ext-ln "" 105 \
    -- lsp-set-type dgp-ext-ln localnet \
    -- lsp-set-addresses dgp-ext-ln unknown \
    -- lsp-set-options dgp-ext-ln network_name=physnet1 \
    -- lr-nat-add dgp-router snat 172.16.5.10 10.5.0.0/24 \
    -- lr-nat-add dgp-router dnat_and_snat 172.16.5.100 10.5.0.11 dgp-vm1 0a:00:00:05:02:11 \
    -- lr-nat-add dgp-router dnat_and_snat 172.16.5.101 10.5.0.12 \
    -- lr-route-add dgp-router 0.0.0.0/0 172.16.5.254
