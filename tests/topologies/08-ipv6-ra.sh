#!/bin/bash
# Topology 08: IPv6 router advertisements.  Three router ports: SLAAC with periodic
# RAs, MTU, RDNSS and DNSSL; DHCPv6-stateful; DHCPv6-stateless with route info.
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

nbctl --wait=sb \
    -- lr-add ra-router \
    -- lrp-add ra-router ra-lrp1 0a:00:00:08:01:01 fd00:8:1::1/64 \
    -- set Logical_Router_Port ra-lrp1 ipv6_ra_configs:address_mode=slaac \
       ipv6_ra_configs:send_periodic=true ipv6_ra_configs:max_interval=30 \
       ipv6_ra_configs:min_interval=10 ipv6_ra_configs:mtu=1450 \
       ipv6_ra_configs:rdnss=fd00:8:1::53 ipv6_ra_configs:dnssl=ovnic.test \
       ipv6_ra_configs:router_preference=HIGH \
    -- lrp-add ra-router ra-lrp2 0a:00:00:08:02:01 fd00:8:2::1/64 \
    -- set Logical_Router_Port ra-lrp2 ipv6_ra_configs:address_mode=dhcpv6_stateful \
    -- lrp-add ra-router ra-lrp3 0a:00:00:08:03:01 fd00:8:3::1/64 \
    -- set Logical_Router_Port ra-lrp3 ipv6_ra_configs:address_mode=dhcpv6_stateless \
       'ipv6_ra_configs:route_info="HIGH-fd00:8:100::/48,LOW-fd00:8:200::/48"' \
    -- ls-add ra-ls1 \
    -- lsp-add ra-ls1 ra-ls1-rp -- lsp-set-type ra-ls1-rp router \
    -- lsp-set-addresses ra-ls1-rp router -- lsp-set-options ra-ls1-rp router-port=ra-lrp1 \
    -- lsp-add ra-ls1 ra-vm1 -- lsp-set-addresses ra-vm1 "0a:00:00:08:01:11 fd00:8:1::11" \
    -- ls-add ra-ls2 \
    -- lsp-add ra-ls2 ra-ls2-rp -- lsp-set-type ra-ls2-rp router \
    -- lsp-set-addresses ra-ls2-rp router -- lsp-set-options ra-ls2-rp router-port=ra-lrp2 \
    -- lsp-add ra-ls2 ra-vm2 -- lsp-set-addresses ra-vm2 "0a:00:00:08:02:11 fd00:8:2::11" \
    -- ls-add ra-ls3 \
    -- lsp-add ra-ls3 ra-ls3-rp -- lsp-set-type ra-ls3-rp router \
    -- lsp-set-addresses ra-ls3-rp router -- lsp-set-options ra-ls3-rp router-port=ra-lrp3 \
    -- lsp-add ra-ls3 ra-vm3 -- lsp-set-addresses ra-vm3 "0a:00:00:08:03:11 fd00:8:3::11"
