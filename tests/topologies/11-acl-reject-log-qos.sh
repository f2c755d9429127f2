#!/bin/bash
# Topology 11: ACL actions beyond allow/drop (reject, logging with a meter,
# allow-stateless, a tiered ACL) and QoS (DSCP marking, rate limiting), plus a
# localnet port with a queue.
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

nbctl --wait=sb \
    -- ls-add acl-net \
    -- lsp-add acl-net acl-vm1 \
    -- lsp-set-addresses acl-vm1 "0a:00:00:11:00:11 10.11.0.11 fd00:11::11" \
    -- lsp-add acl-net acl-vm2 \
    -- lsp-set-addresses acl-vm2 "0a:00:00:11:00:12 10.11.0.12 fd00:11::12" \
    -- lsp-add acl-net acl-ln \
    -- lsp-set-type acl-ln localnet \
    -- lsp-set-addresses acl-ln unknown \
    -- lsp-set-options acl-ln network_name=physnet2 qos_max_rate=100000000 \
       qos_burst=1000000 \
    -- meter-add acl-meter drop 100 pktps 10 \
    -- acl-add acl-net to-lport 1000 'outport == "acl-vm1" && tcp.dst == 23' reject \
    -- --log --name=deny-telnet6 --severity=warning --meter=acl-meter \
       acl-add acl-net to-lport 1000 'outport == "acl-vm1" && ip6 && tcp.dst == 2323' drop \
    -- --log --name=allow-web --severity=info \
       acl-add acl-net to-lport 900 'outport == "acl-vm1" && tcp.dst == 80' allow-related \
    -- acl-add acl-net from-lport 800 'inport == "acl-vm2" && udp.dst == 5000' \
       allow-stateless \
    -- acl-add acl-net to-lport 700 'outport == "acl-vm2" && sctp' reject \
    -- acl-add acl-net from-lport 1000 \
       'inport == "acl-vm1" && (tcp.dst == 2121 || udp.dst == 2121 || sctp.dst == 2121)' \
       reject \
    -- acl-add acl-net to-lport 1000 'outport == "acl-vm1" && udp.dst == 23' reject \
    -- acl-add acl-net from-lport 600 'inport == "acl-vm1" && ip4.dst == 10.11.0.12' allow \
    -- qos-add acl-net from-lport 100 'inport == "acl-vm1"' dscp=12 \
    -- qos-add acl-net from-lport 90 'inport == "acl-vm2" && ip4' rate=1000 burst=100
