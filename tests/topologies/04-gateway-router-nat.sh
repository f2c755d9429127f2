#!/bin/bash
# Topology 04: a gateway router (bound to chassis gw-chassis-1) between a tenant
# switch and a provider network.  The provider switch reaches physnet1 on VLAN 104
# through a localnet port.  SNAT for the tenant subnet, a floating IP
# (dnat_and_snat) and a DNAT-only address.
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

nbctl --wait=sb \
    -- ls-add gw-tenant \
    -- lsp-add gw-tenant gw-vm1 \
    -- lsp-set-addresses gw-vm1 "0a:00:00:04:00:11 10.4.0.11" \
    -- lsp-add gw-tenant gw-vm2 \
    -- lsp-set-addresses gw-vm2 "0a:00:00:04:00:12 10.4.0.12" \
    -- lr-add gw-router \
    -- set Logical_Router gw-router options:chassis=gw-chassis-1 \
    -- lrp-add gw-router gw-lrp-tenant 0a:00:00:04:00:01 10.4.0.1/24 \
    -- lrp-add gw-router gw-lrp-public 0a:00:00:04:01:01 172.16.4.1/24 \
    -- lsp-add gw-tenant gw-tenant-rp \
    -- lsp-set-type gw-tenant-rp router \
    -- lsp-set-addresses gw-tenant-rp router \
    -- lsp-set-options gw-tenant-rp router-port=gw-lrp-tenant \
    -- ls-add gw-public \
    -- lsp-add gw-public gw-public-rp \
    -- lsp-set-type gw-public-rp router \
    -- lsp-set-addresses gw-public-rp router \
    -- lsp-set-options gw-public-rp router-port=gw-lrp-public \
    -- lsp-add gw-public gw-public-ln "" 104 \
    -- lsp-set-type gw-public-ln localnet \
    -- lsp-set-addresses gw-public-ln unknown \
    -- lsp-set-options gw-public-ln network_name=physnet1 \
    -- lr-nat-add gw-router snat 172.16.4.10 10.4.0.0/24 \
    -- lr-nat-add gw-router dnat_and_snat 172.16.4.100 10.4.0.11 \
    -- lr-nat-add gw-router dnat 172.16.4.101 10.4.0.12 \
    -- lr-route-add gw-router 0.0.0.0/0 172.16.4.254
