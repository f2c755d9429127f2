#!/bin/bash
# Topology 06: load balancers on a switch and on its router.  lb6-web (TCP) has a
# health check, with ip_port_mappings naming the backends' logical ports and the
# source address of the probes, and hashes on the source and destination addresses;
# lb6-dns is UDP; lb6-aff uses session affinity; lb6-v6 is an IPv6 VIP.
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

nbctl --wait=sb \
    -- ls-add lb6-net \
    -- lsp-add lb6-net lb6-vm1 \
    -- lsp-set-addresses lb6-vm1 "0a:00:00:06:00:11 10.6.0.11 fd00:6::11" \
    -- lsp-add lb6-net lb6-vm2 \
    -- lsp-set-addresses lb6-vm2 "0a:00:00:06:00:12 10.6.0.12 fd00:6::12" \
    -- lsp-add lb6-net lb6-vm3 \
    -- lsp-set-addresses lb6-vm3 "0a:00:00:06:00:13 10.6.0.13" \
    -- lsp-add lb6-net lb6-client \
    -- lsp-set-addresses lb6-client "0a:00:00:06:00:21 10.6.0.21" \
    -- lr-add lb6-router \
    -- lrp-add lb6-router lb6-lrp 0a:00:00:06:00:01 10.6.0.1/24 fd00:6::1/64 \
    -- lsp-add lb6-net lb6-rp \
    -- lsp-set-type lb6-rp router \
    -- lsp-set-addresses lb6-rp router \
    -- lsp-set-options lb6-rp router-port=lb6-lrp \
    -- lb-add lb6-web 10.6.0.100:80 10.6.0.11:8080,10.6.0.12:8080 tcp \
    -- set Load_Balancer lb6-web ip_port_mappings:10.6.0.11=lb6-vm1:10.6.0.2 \
       ip_port_mappings:10.6.0.12=lb6-vm2:10.6.0.2 selection_fields=ip_src,ip_dst \
    -- --id=@hc create Load_Balancer_Health_Check 'vip="10.6.0.100:80"' \
       options:interval=5 options:timeout=20 options:success_count=3 \
       options:failure_count=3 \
    -- add Load_Balancer lb6-web health_check @hc \
    -- lb-add lb6-dns 10.6.0.101:53 10.6.0.11:53,10.6.0.12:53 udp \
    -- lb-add lb6-aff 10.6.0.102:443 10.6.0.13:443,10.6.0.12:443 tcp \
    -- set Load_Balancer lb6-aff options:affinity_timeout=60 \
    -- lb-add lb6-v6 '[fd00:6::100]:80' '[fd00:6::11]:80,[fd00:6::12]:80' tcp \
    -- ls-lb-add lb6-net lb6-web \
    -- ls-lb-add lb6-net lb6-dns \
    -- ls-lb-add lb6-net lb6-aff \
    -- ls-lb-add lb6-net lb6-v6 \
    -- lr-lb-add lb6-router lb6-web \
    -- lr-lb-add lb6-router lb6-aff
