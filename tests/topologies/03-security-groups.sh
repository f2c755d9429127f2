#!/bin/bash
# Topology 03: Neutron-style security groups.  Every port is in neutron_pg_drop
# (default drop both ways); the "web" group allows all egress (allow-related, so
# replies come back), ICMP and HTTP from anywhere, and traffic from its own members;
# the "db" group allows SSH from the web group (a remote group: $pg_sg_web_ip4) and
# PostgreSQL from a management address set.
set -eu
. "$(dirname "$0")/common.sh"
topo_init "$@"

nbctl --wait=sb \
    -- ls-add sg-net \
    -- lsp-add sg-net sg-web1 \
    -- lsp-set-addresses sg-web1 "0a:00:00:03:00:11 10.3.0.11 fd00:3::11" \
    -- lsp-set-port-security sg-web1 "0a:00:00:03:00:11 10.3.0.11 fd00:3::11" \
    -- lsp-add sg-net sg-web2 \
    -- lsp-set-addresses sg-web2 "0a:00:00:03:00:12 10.3.0.12 fd00:3::12" \
    -- lsp-set-port-security sg-web2 "0a:00:00:03:00:12 10.3.0.12 fd00:3::12" \
    -- lsp-add sg-net sg-db1 \
    -- lsp-set-addresses sg-db1 "0a:00:00:03:00:21 10.3.0.21" \
    -- lsp-set-port-security sg-db1 "0a:00:00:03:00:21 10.3.0.21" \
    -- pg-add neutron_pg_drop sg-web1 sg-web2 sg-db1 \
    -- pg-add pg_sg_web sg-web1 sg-web2 \
    -- pg-add pg_sg_db sg-db1 \
    -- create Address_Set name=as_sg_mgmt 'addresses=["192.168.3.0/24", "10.3.99.5"]' \
    -- acl-add neutron_pg_drop from-lport 1001 'inport == @neutron_pg_drop && ip' drop \
    -- acl-add neutron_pg_drop to-lport 1001 'outport == @neutron_pg_drop && ip' drop \
    -- acl-add pg_sg_web from-lport 1002 'inport == @pg_sg_web && ip4' allow-related \
    -- acl-add pg_sg_web from-lport 1002 'inport == @pg_sg_web && ip6' allow-related \
    -- acl-add pg_sg_web to-lport 1002 \
       'outport == @pg_sg_web && ip4 && ip4.src == $pg_sg_web_ip4' allow-related \
    -- acl-add pg_sg_web to-lport 1002 'outport == @pg_sg_web && ip4 && icmp4' allow-related \
    -- acl-add pg_sg_web to-lport 1002 \
       'outport == @pg_sg_web && ip4 && tcp && tcp.dst == {80, 443}' allow-related \
    -- acl-add pg_sg_web to-lport 1002 \
       'outport == @pg_sg_web && ip6 && ip6.src == $pg_sg_web_ip6 && udp.dst == 53' allow \
    -- acl-add pg_sg_db from-lport 1002 'inport == @pg_sg_db && ip4' allow-related \
    -- acl-add pg_sg_db to-lport 1002 \
       'outport == @pg_sg_db && ip4 && ip4.src == $pg_sg_web_ip4 && tcp.dst == 22' allow-related \
    -- acl-add pg_sg_db to-lport 1002 \
       'outport == @pg_sg_db && ip4 && ip4.src == $as_sg_mgmt && 5432 <= tcp.dst <= 5433' \
       allow-related
