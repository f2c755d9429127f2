#!/bin/bash
# Topology 13: IP multicast: IGMP/MLD snooping and querier on two switches, and a
# router relaying multicast between them.
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

args=(-- lr-add mc-router -- set Logical_Router mc-router options:mcast_relay=true)
for i in 1 2; do
    args+=(-- ls-add "mc-ls$i"
           -- set Logical_Switch "mc-ls$i" other_config:mcast_snoop=true
              other_config:mcast_querier=true other_config:mcast_eth_src=0a:00:00:13:0$i:fe
              other_config:mcast_ip4_src=10.13.$i.254 other_config:mcast_ip6_src=fe80::13:$i
              other_config:mcast_flood_unregistered=false
           -- lrp-add mc-router "mc-lrp$i" "0a:00:00:13:0$i:01" "10.13.$i.1/24"
              "fd00:13:$i::1/64"
           -- set Logical_Router_Port "mc-lrp$i" options:mcast_flood=true
           -- lsp-add "mc-ls$i" "mc-ls$i-rp"
           -- lsp-set-type "mc-ls$i-rp" router
           -- lsp-set-addresses "mc-ls$i-rp" router
           -- lsp-set-options "mc-ls$i-rp" "router-port=mc-lrp$i"
           -- lsp-add "mc-ls$i" "mc-vm$i"
           -- lsp-set-addresses "mc-vm$i" "0a:00:00:13:0$i:11 10.13.$i.11 fd00:13:$i::11"
           -- set Logical_Switch_Port "mc-vm$i" options:mcast_flood_reports=true)
done
nbctl --wait=sb "${args[@]}"
