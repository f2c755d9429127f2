#!/bin/bash
# Topology 12: a gateway router with ECMP default routes with symmetric replies,
# source-IP routing, and routing policies (reroute, drop, allow).
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

nbctl --wait=sb \
    -- ls-add ecmp-tenant \
    -- lsp-add ecmp-tenant ecmp-vm1 \
    -- lsp-set-addresses ecmp-vm1 "0a:00:00:12:00:11 10.12.0.11" \
    -- lsp-add ecmp-tenant ecmp-vm2 \
    -- lsp-set-addresses ecmp-vm2 "0a:00:00:12:00:12 10.12.0.12" \
    -- lr-add ecmp-router \
    -- set Logical_Router ecmp-router options:chassis=ecmp-chassis-1 \
    -- lrp-add ecmp-router ecmp-lrp-tenant 0a:00:00:12:00:01 10.12.0.1/24 \
    -- lrp-add ecmp-router ecmp-lrp-ext 0a:00:00:12:01:01 172.16.12.1/24 \
    -- lsp-add ecmp-tenant ecmp-tenant-rp \
    -- lsp-set-type ecmp-tenant-rp router \
    -- lsp-set-addresses ecmp-tenant-rp router \
    -- lsp-set-options ecmp-tenant-rp router-port=ecmp-lrp-tenant \
    -- ls-add ecmp-ext \
    -- lsp-add ecmp-ext ecmp-ext-rp \
    -- lsp-set-type ecmp-ext-rp router \
    -- lsp-set-addresses ecmp-ext-rp router \
    -- lsp-set-options ecmp-ext-rp router-port=ecmp-lrp-ext \
    -- lsp-add ecmp-ext ecmp-ext-ln \
    -- lsp-set-type ecmp-ext-ln localnet \
    -- lsp-set-addresses ecmp-ext-ln unknown \
    -- lsp-set-options ecmp-ext-ln network_name=physnet1 \
    -- --ecmp-symmetric-reply lr-route-add ecmp-router 0.0.0.0/0 172.16.12.253 \
    -- --ecmp-symmetric-reply lr-route-add ecmp-router 0.0.0.0/0 172.16.12.254 \
    -- --ecmp lr-route-add ecmp-router 192.168.12.0/24 172.16.12.251 \
    -- --ecmp lr-route-add ecmp-router 192.168.12.0/24 172.16.12.252 \
    -- --policy=src-ip lr-route-add ecmp-router 10.12.0.12/32 172.16.12.250 \
    -- lr-policy-add ecmp-router 100 'ip4.src == 10.12.0.11 && ip4.dst == 8.8.8.8' \
       reroute 172.16.12.249 \
    -- lr-policy-add ecmp-router 90 'ip4.dst == 10.99.0.0/16' drop \
    -- lr-policy-add ecmp-router 80 'ip4.src == 10.12.0.0/24 && tcp.dst == 25' allow
