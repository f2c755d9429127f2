/* ovnic: the physical view of the SB (see physical.h). */
#include "dpu/pipeline/physical.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dpu/controller/encap.h"
#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "shared/util/hash.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(physical);

static const struct {
    const char *name;
    enum phys_port_type type;
} port_types[] = {
    {"", PHYS_PORT_VIF},
    {"patch", PHYS_PORT_PATCH},
    {"router", PHYS_PORT_PATCH},
    {"localnet", PHYS_PORT_LOCALNET},
    {"l2gateway", PHYS_PORT_L2GATEWAY},
    {"l3gateway", PHYS_PORT_L3GATEWAY},
    {"chassisredirect", PHYS_PORT_CHASSISREDIRECT},
    {"external", PHYS_PORT_EXTERNAL},
    {"localport", PHYS_PORT_LOCALPORT},
    {"virtual", PHYS_PORT_VIRTUAL},
};

const char *
phys_port_type_name(enum phys_port_type type)
{
    for (size_t i = 0; i < ARRAY_SIZE(port_types); i++) {
        if (port_types[i].type == type) {
            return port_types[i].name;
        }
    }
    return "other";
}

static enum phys_port_type
port_type_from_string(const char *s)
{
    for (size_t i = 0; i < ARRAY_SIZE(port_types); i++) {
        if (!strcmp(port_types[i].name, s)) {
            return port_types[i].type;
        }
    }
    return PHYS_PORT_OTHER;
}

static uint32_t
hash_key2(uint32_t a, uint32_t b)
{
    return hash_finish(hash_add32(hash_add32(0, a), b));
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    char extra;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
               &extra) != 6) {
        return -EINVAL;
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = (uint8_t)b[i];
    }
    return 0;
}

static int
parse_ip(const char *s, bool *ipv6, lex_u128 *ip)
{
    uint8_t buf[16];
    if (inet_pton(AF_INET, s, buf) == 1) {
        *ipv6 = false;
        *ip = ((lex_u128)buf[0] << 24) | ((lex_u128)buf[1] << 16) |
              ((lex_u128)buf[2] << 8) | buf[3];
        return 0;
    }
    if (inet_pton(AF_INET6, s, buf) == 1) {
        lex_u128 v = 0;
        for (int i = 0; i < 16; i++) {
            v = (v << 8) | buf[i];
        }
        *ipv6 = true;
        *ip = v;
        return 0;
    }
    return -EINVAL;
}

/* Parses one port security entry "MAC [IP[/PLEN]...]" into 'ps'.  Returns 0,
 * -EINVAL (malformed: the entry is ignored) or -ENOMEM. */
static int
parse_port_sec(const char *text, struct phys_port_sec *ps)
{
    char *copy = strdup(text), *save = NULL;
    int error = 0;

    memset(ps, 0, sizeof *ps);
    if (!copy) {
        return -ENOMEM;
    }
    char *word = strtok_r(copy, " ", &save);
    if (!word || parse_mac(word, ps->mac)) {
        free(copy);
        return -EINVAL;
    }
    while (!error && (word = strtok_r(NULL, " ", &save)) != NULL) {
        struct phys_port_sec_addr a = {0};
        char *slash = strchr(word, '/');
        if (slash) {
            *slash = '\0';
        }
        if (parse_ip(word, &a.ipv6, &a.ip)) {
            error = -EINVAL;
            break;
        }
        unsigned int max = a.ipv6 ? 128 : 32;
        a.plen = max;
        if (slash) {
            char *end = NULL;
            unsigned long plen = strtoul(slash + 1, &end, 10);
            if (!slash[1] || *end || plen > max) {
                error = -EINVAL;
                break;
            }
            a.plen = (unsigned int)plen;
        }
        struct phys_port_sec_addr *addrs =
            realloc(ps->addrs, (ps->n_addrs + 1) * sizeof *addrs);
        if (!addrs) {
            error = -ENOMEM;
            break;
        }
        ps->addrs = addrs;
        ps->addrs[ps->n_addrs++] = a;
        if (a.ipv6) {
            ps->n_ip6++;
        } else {
            ps->n_ip4++;
        }
    }
    free(copy);
    if (error) {
        free(ps->addrs);
        memset(ps, 0, sizeof *ps);
    }
    return error;
}

/* Port_Binding.port_security of 'row' into 'port'.  Malformed entries are left out,
 * as ovn-controller does. */
static int
build_port_sec(struct phys_port *port, const struct ovsdb_row *row)
{
    const struct ovsdb_datum *d = ovsdb_row_get(row, "port_security");
    if (!d || !d->n || d->key_type != OVSDB_TYPE_STRING) {
        return 0;
    }
    port->port_sec = calloc(d->n, sizeof *port->port_sec);
    if (!port->port_sec) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < d->n; i++) {
        int error = parse_port_sec(d->keys[i].string, &port->port_sec[port->n_port_sec]);
        if (error == -ENOMEM) {
            return error;
        }
        if (!error) {
            port->n_port_sec++;
        }
    }
    return 0;
}

static uint32_t
mb_hash(uint32_t dp, uint32_t port, lex_u128 ip)
{
    return hash_bytes(&ip, sizeof ip, hash_key2(dp, port));
}

/* Table 'name' of 'replica', checking it has 'columns' (NULL-terminated). */
static int
table_get(const struct ovsdb_replica *replica, const char *name, bool required,
          const char *const *columns, struct ovsdb_replica_table **tablep,
          struct ovnic_err *err)
{
    struct ovsdb_replica_table *t = ovsdb_replica_table(replica, name);
    *tablep = NULL;
    if (!t) {
        if (required) {
            return ovnic_err_set(err, -EINVAL, name, "not an SB replica",
                                 "table %s missing", name);
        }
        return 0;
    }
    const struct ovsdb_table_schema *ts = ovsdb_replica_table_schema(t);
    for (size_t i = 0; columns[i]; i++) {
        if (!ovsdb_table_schema_find_column(ts, columns[i])) {
            if (!required) {
                return 0;
            }
            return ovnic_err_set(err, -EINVAL, name, "not an SB replica",
                                 "column %s missing", columns[i]);
        }
    }
    *tablep = t;
    return 0;
}

static const char *
row_string(const struct ovsdb_row *row, const char *column)
{
    return ovsdb_datum_get_string(ovsdb_row_get(row, column), "");
}

static const char *
row_map_string(const struct ovsdb_row *row, const char *column, const char *key)
{
    return ovsdb_datum_map_get_string(ovsdb_row_get(row, column), key, NULL);
}

static char *
xstrdup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static const char *
chassis_name_of(const struct ovsdb_replica_table *chassis_t, const struct uuid *uuid)
{
    if (!chassis_t || !uuid) {
        return NULL;
    }
    const struct ovsdb_row *row = ovsdb_replica_table_find(chassis_t, uuid);
    return row ? row_string(row, "name") : NULL;
}

/* The chassis of highest priority in HA_Chassis_Group 'group'. */
static const char *
ha_group_chassis(const struct ovsdb_replica *replica,
                 const struct ovsdb_replica_table *chassis_t, const struct uuid *group)
{
    struct ovsdb_replica_table *groups = ovsdb_replica_table(replica, "HA_Chassis_Group");
    struct ovsdb_replica_table *has = ovsdb_replica_table(replica, "HA_Chassis");
    if (!groups || !has || !group) {
        return NULL;
    }
    const struct ovsdb_row *g = ovsdb_replica_table_find(groups, group);
    const struct ovsdb_datum *members = g ? ovsdb_row_get(g, "ha_chassis") : NULL;
    if (!members) {
        return NULL;
    }
    const char *best = NULL;
    int64_t best_prio = -1;
    for (size_t i = 0; i < members->n; i++) {
        const struct ovsdb_row *h = ovsdb_replica_table_find(has, &members->keys[i].uuid);
        if (!h) {
            continue;
        }
        int64_t prio = ovsdb_datum_get_int(ovsdb_row_get(h, "priority"), 0);
        const char *name =
            chassis_name_of(chassis_t, ovsdb_datum_get_uuid(ovsdb_row_get(h, "chassis")));
        if (name && prio > best_prio) {
            best = name;
            best_prio = prio;
        }
    }
    return best;
}

static int
compare_ports(const void *a_, const void *b_)
{
    const struct phys_port *const *a = a_;
    const struct phys_port *const *b = b_;
    return (*a)->key < (*b)->key ? -1 : (*a)->key > (*b)->key;
}

/* Zone numbering: every name in byte order, from 1. */
struct zone_name {
    char *name;
    uint16_t *zone;
};

static int
compare_zone_names(const void *a_, const void *b_)
{
    const struct zone_name *a = a_;
    const struct zone_name *b = b_;
    return strcmp(a->name, b->name);
}

static int
assign_zones(struct phys *phys)
{
    size_t n = 0,
           alloc = hmap_count(&phys->ports_by_name) + 2 * hmap_count(&phys->datapaths);
    struct zone_name *names = calloc(alloc ? alloc : 1, sizeof *names);
    if (!names) {
        return -ENOMEM;
    }
    int error = 0;
    struct phys_port *port;
    HMAP_FOR_EACH (port, name_node, &phys->ports_by_name) {
        if (port->type != PHYS_PORT_PATCH) {
            names[n].name = strdup(port->name);
            names[n].zone = &port->zone;
            if (!names[n++].name) {
                error = -ENOMEM;
                goto out;
            }
        }
    }
    struct phys_datapath *dp;
    HMAP_FOR_EACH (dp, node, &phys->datapaths) {
        if (!dp->is_router) {
            continue;
        }
        char u[UUID_LEN + 1];
        uuid_to_string(&dp->uuid, u);
        for (int i = 0; i < 2; i++) {
            size_t len = strlen(u) + 6;
            names[n].name = malloc(len);
            if (!names[n].name) {
                error = -ENOMEM;
                goto out;
            }
            snprintf(names[n].name, len, "%s_%s", u, i ? "snat" : "dnat");
            names[n++].zone = i ? &dp->snat_zone : &dp->dnat_zone;
        }
    }
    qsort(names, n, sizeof *names, compare_zone_names);
    for (size_t i = 0; i < n; i++) {
        *names[i].zone = i < 65535 ? (uint16_t)(i + 1) : 0;
    }
    phys->n_zones = n;
out:
    for (size_t i = 0; i < n; i++) {
        free(names[i].name);
    }
    free(names);
    return error;
}

static void
port_free(struct phys_port *port)
{
    if (port) {
        free(port->name);
        free(port->type_name);
        free(port->chassis);
        free(port->peer_name);
        free(port->network);
        free(port->distributed);
        for (size_t i = 0; i < port->n_port_sec; i++) {
            free(port->port_sec[i].addrs);
        }
        free(port->port_sec);
        free(port);
    }
}

static int
build_datapaths(struct phys *phys, const struct ovsdb_replica *replica,
                struct ovnic_err *err)
{
    static const char *const cols[] = {"tunnel_key", "external_ids", NULL};
    struct ovsdb_replica_table *t;
    int error = table_get(replica, "Datapath_Binding", true, cols, &t, err);
    if (error) {
        return error;
    }
    const struct ovsdb_row *row;
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        struct phys_datapath *dp = calloc(1, sizeof *dp);
        if (!dp) {
            return -ENOMEM;
        }
        dp->uuid = *ovsdb_row_uuid(row);
        dp->key = (uint32_t)ovsdb_datum_get_int(ovsdb_row_get(row, "tunnel_key"), 0);
        const struct ovsdb_datum *ext = ovsdb_row_get(row, "external_ids");
        dp->is_router = ovsdb_datum_map_get_string(ext, "logical-router", NULL) != NULL;
        const char *name = ovsdb_datum_map_get_string(ext, "name", NULL);
        char u[UUID_LEN + 1];
        dp->name = strdup(name ? name : uuid_to_string(&dp->uuid, u));
        hmap_insert(&phys->datapaths, &dp->node, hash_add32(0, dp->key));
        if (!dp->name) {
            return -ENOMEM;
        }
    }
    return 0;
}

static struct phys_datapath *
datapath_by_uuid(const struct phys *phys, const struct uuid *uuid)
{
    struct phys_datapath *dp;
    if (!uuid) {
        return NULL;
    }
    HMAP_FOR_EACH (dp, node, &phys->datapaths) {
        if (uuid_equals(&dp->uuid, uuid)) {
            return dp;
        }
    }
    return NULL;
}

static int
build_ports(struct phys *phys, const struct ovsdb_replica *replica, struct ovnic_err *err)
{
    static const char *const cols[] = {"logical_port", "tunnel_key", "datapath", "type",
                                       "options",      "chassis",    "tag",      NULL};
    static const char *const chassis_cols[] = {"name", "encaps", NULL};
    struct ovsdb_replica_table *t, *chassis_t;
    int error = table_get(replica, "Port_Binding", true, cols, &t, err);
    if (!error) {
        error = table_get(replica, "Chassis", false, chassis_cols, &chassis_t, err);
    }
    if (error) {
        return error;
    }
    const struct ovsdb_row *row;
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        struct phys_datapath *dp =
            datapath_by_uuid(phys, ovsdb_datum_get_uuid(ovsdb_row_get(row, "datapath")));
        const char *name = row_string(row, "logical_port");
        if (!dp || !name[0] || phys_port_find(phys, name)) {
            continue;
        }
        struct phys_port *port = calloc(1, sizeof *port);
        if (!port) {
            return -ENOMEM;
        }
        const char *type = row_string(row, "type");
        port->name = strdup(name);
        port->type_name = strdup(type);
        port->key = (uint32_t)ovsdb_datum_get_int(ovsdb_row_get(row, "tunnel_key"), 0);
        port->dp = dp;
        port->type = port_type_from_string(type);
        port->tag = (int)ovsdb_datum_get_int(ovsdb_row_get(row, "tag"), -1);

        const char *chassis = chassis_name_of(
            chassis_t, ovsdb_datum_get_uuid(ovsdb_row_get(row, "chassis")));
        if (!chassis && port->type == PHYS_PORT_L3GATEWAY) {
            chassis = row_map_string(row, "options", "l3gateway-chassis");
        }
        if (!chassis && port->type == PHYS_PORT_CHASSISREDIRECT) {
            const struct ovsdb_datum *g = ovsdb_row_get(row, "ha_chassis_group");
            chassis =
                ha_group_chassis(replica, chassis_t, g ? ovsdb_datum_get_uuid(g) : NULL);
        }
        port->chassis = xstrdup_or_null(chassis);
        port->peer_name = xstrdup_or_null(row_map_string(row, "options", "peer"));
        port->network = xstrdup_or_null(row_map_string(row, "options", "network_name"));
        port->distributed =
            xstrdup_or_null(row_map_string(row, "options", "distributed-port"));
        if (phys->trace_mode) {
            port->is_local = true;
        } else if (port->type == PHYS_PORT_PATCH || port->type == PHYS_PORT_LOCALNET ||
                   port->type == PHYS_PORT_LOCALPORT) {
            port->is_local = true; /* Present on every chassis. */
        } else {
            port->is_local = port->chassis && phys->chassis_name &&
                             !strcmp(port->chassis, phys->chassis_name);
        }
        hmap_insert(&phys->ports_by_name, &port->name_node, hash_string(name, 0));
        hmap_insert(&phys->ports_by_key, &port->key_node, hash_key2(dp->key, port->key));
        if (!port->name || !port->type_name || (chassis && !port->chassis) ||
            build_port_sec(port, row)) {
            return -ENOMEM;
        }
    }

    /* Peers, and the localnet port of each datapath. */
    struct phys_port *port;
    HMAP_FOR_EACH (port, name_node, &phys->ports_by_name) {
        if (port->peer_name) {
            port->peer = phys_port_find(phys, port->peer_name);
        }
        if (port->type == PHYS_PORT_LOCALNET &&
            (!port->dp->localnet || port->dp->localnet->key > port->key)) {
            port->dp->localnet = port;
        }
    }

    /* Chassis and their encapsulations. */
    if (chassis_t) {
        struct ovsdb_replica_table *encap_t = ovsdb_replica_table(replica, "Encap");
        OVSDB_TABLE_FOR_EACH_ROW (row, chassis_t) {
            struct phys_chassis *ch = calloc(1, sizeof *ch);
            if (!ch) {
                return -ENOMEM;
            }
            ch->uuid = *ovsdb_row_uuid(row);
            ch->name = strdup(row_string(row, "name"));
            hmap_insert(&phys->chassis, &ch->node,
                        hash_string(row_string(row, "name"), 0));
            if (!ch->name) {
                return -ENOMEM;
            }
            const struct ovsdb_datum *encaps = ovsdb_row_get(row, "encaps");
            for (size_t i = 0; encap_t && encaps && i < encaps->n; i++) {
                const struct ovsdb_row *e =
                    ovsdb_replica_table_find(encap_t, &encaps->keys[i].uuid);
                if (!e) {
                    continue;
                }
                bool geneve = !strcmp(row_string(e, "type"), "geneve");
                const char *why = encap_ip_refusal(row_string(e, "ip"), AF_UNSPEC);
                if (why) {
                    /* Logged and shown by the controller (encap.h); here the walk
                     * says why it drops. */
                    if (!ch->refused_ip) {
                        ch->refused_ip = strdup(row_string(e, "ip"));
                        ch->encap_refusal = why;
                        if (!ch->refused_ip) {
                            return -ENOMEM;
                        }
                    }
                    continue;
                }
                if (!ch->encap_ip || geneve) {
                    free(ch->encap_ip);
                    ch->encap_ip = strdup(row_string(e, "ip"));
                    if (!ch->encap_ip) {
                        return -ENOMEM;
                    }
                    if (geneve) {
                        break;
                    }
                }
            }
        }
    }
    return 0;
}

static int
build_mcgroups(struct phys *phys, const struct ovsdb_replica *replica,
               struct ovnic_err *err)
{
    static const char *const cols[] = {"datapath", "name", "tunnel_key", "ports", NULL};
    struct ovsdb_replica_table *t, *pb_t = ovsdb_replica_table(replica, "Port_Binding");
    int error = table_get(replica, "Multicast_Group", false, cols, &t, err);
    if (error || !t) {
        return error;
    }
    const struct ovsdb_row *row;
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        struct phys_datapath *dp =
            datapath_by_uuid(phys, ovsdb_datum_get_uuid(ovsdb_row_get(row, "datapath")));
        if (!dp) {
            continue;
        }
        struct phys_mcgroup *mc = calloc(1, sizeof *mc);
        if (!mc) {
            return -ENOMEM;
        }
        mc->name = strdup(row_string(row, "name"));
        mc->key = (uint32_t)ovsdb_datum_get_int(ovsdb_row_get(row, "tunnel_key"), 0);
        mc->dp = dp;
        hmap_insert(&phys->mcgroups, &mc->node, hash_key2(dp->key, mc->key));
        const struct ovsdb_datum *ports = ovsdb_row_get(row, "ports");
        if (!mc->name) {
            return -ENOMEM;
        }
        if (!ports || !ports->n) {
            continue;
        }
        mc->ports = calloc(ports->n, sizeof *mc->ports);
        if (!mc->ports) {
            return -ENOMEM;
        }
        for (size_t i = 0; i < ports->n; i++) {
            const struct ovsdb_row *pb =
                ovsdb_replica_table_find(pb_t, &ports->keys[i].uuid);
            struct phys_port *p =
                pb ? phys_port_find(phys, row_string(pb, "logical_port")) : NULL;
            if (p && p->dp == dp) {
                mc->ports[mc->n_ports++] = p;
            }
        }
        qsort(mc->ports, mc->n_ports, sizeof *mc->ports, compare_ports);
    }
    return 0;
}

static int
build_bindings(struct phys *phys, const struct ovsdb_replica *replica)
{
    struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "MAC_Binding");
    const struct ovsdb_row *row;
    if (t && ovsdb_table_schema_find_column(ovsdb_replica_table_schema(t), "datapath")) {
        OVSDB_TABLE_FOR_EACH_ROW (row, t) {
            struct phys_port *port =
                phys_port_find(phys, row_string(row, "logical_port"));
            struct phys_mac_binding mb = {0};
            if (!port || parse_ip(row_string(row, "ip"), &mb.ipv6, &mb.ip) ||
                parse_mac(row_string(row, "mac"), mb.mac)) {
                continue;
            }
            mb.datapath = port->dp->key;
            mb.port = port->key;
            struct phys_mac_binding *copy = malloc(sizeof *copy);
            if (!copy) {
                return -ENOMEM;
            }
            *copy = mb;
            hmap_insert(&phys->mac_bindings, &copy->node,
                        mb_hash(mb.datapath, mb.port, mb.ip));
        }
    }
    t = ovsdb_replica_table(replica, "FDB");
    if (t && ovsdb_table_schema_find_column(ovsdb_replica_table_schema(t), "dp_key")) {
        OVSDB_TABLE_FOR_EACH_ROW (row, t) {
            struct phys_fdb f = {0};
            if (parse_mac(row_string(row, "mac"), f.mac)) {
                continue;
            }
            f.datapath = (uint32_t)ovsdb_datum_get_int(ovsdb_row_get(row, "dp_key"), 0);
            f.port = (uint32_t)ovsdb_datum_get_int(ovsdb_row_get(row, "port_key"), 0);
            struct phys_fdb *copy = malloc(sizeof *copy);
            if (!copy) {
                return -ENOMEM;
            }
            *copy = f;
            hmap_insert(&phys->fdbs, &copy->node, hash_bytes(f.mac, 6, f.datapath));
        }
    }
    return 0;
}

static char *
str_lower(const char *s)
{
    char *copy = strdup(s);
    if (copy) {
        for (char *p = copy; *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
    }
    return copy;
}

static uint32_t
dns_hash(uint32_t datapath, const char *lower_name)
{
    return hash_string(lower_name, hash_add32(0, datapath));
}

static struct phys_dns_record *
dns_find(const struct phys *phys, uint32_t datapath, const char *lower_name)
{
    struct phys_dns_record *r;
    HMAP_FOR_EACH_WITH_HASH (r, node, dns_hash(datapath, lower_name),
                             &phys->dns_records) {
        if (r->datapath == datapath && !strcmp(r->name, lower_name)) {
            return r;
        }
    }
    return NULL;
}

static void
dns_record_free(struct phys_dns_record *r)
{
    if (r) {
        free(r->name);
        free(r->value);
        free(r);
    }
}

/* The SB DNS table: every record of a row, for each of the row's datapaths. */
static int
build_dns(struct phys *phys, const struct ovsdb_replica *replica)
{
    struct ovsdb_replica_table *t = ovsdb_replica_table(replica, "DNS");
    const struct ovsdb_table_schema *ts = t ? ovsdb_replica_table_schema(t) : NULL;
    if (!t || !ovsdb_table_schema_find_column(ts, "records") ||
        !ovsdb_table_schema_find_column(ts, "datapaths")) {
        return 0;
    }
    const struct ovsdb_row *row;
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        const struct ovsdb_datum *records = ovsdb_row_get(row, "records");
        const struct ovsdb_datum *dps = ovsdb_row_get(row, "datapaths");
        if (!records || !dps || !records->values) {
            continue;
        }
        for (size_t i = 0; i < dps->n; i++) {
            const struct phys_datapath *dp = datapath_by_uuid(phys, &dps->keys[i].uuid);
            if (!dp) {
                continue;
            }
            for (size_t j = 0; j < records->n; j++) {
                struct phys_dns_record *r = calloc(1, sizeof *r);
                if (!r) {
                    return -ENOMEM;
                }
                r->datapath = dp->key;
                r->name = str_lower(records->keys[j].string);
                r->value = strdup(records->values[j].string);
                if (!r->name || !r->value) {
                    dns_record_free(r);
                    return -ENOMEM;
                }
                if (dns_find(phys, r->datapath, r->name)) {
                    dns_record_free(r);
                    continue;
                }
                hmap_insert(&phys->dns_records, &r->node, dns_hash(r->datapath, r->name));
            }
        }
    }
    return 0;
}

const char *
phys_dns_lookup(const struct phys *phys, uint32_t datapath, const char *name)
{
    char *lower = str_lower(name);
    const struct phys_dns_record *r = lower ? dns_find(phys, datapath, lower) : NULL;
    free(lower);
    return r ? r->value : NULL;
}

void
phys_init(struct phys *phys)
{
    memset(phys, 0, sizeof *phys);
    hmap_init(&phys->datapaths);
    hmap_init(&phys->ports_by_name);
    hmap_init(&phys->ports_by_key);
    hmap_init(&phys->mcgroups);
    hmap_init(&phys->chassis);
    hmap_init(&phys->mac_bindings);
    hmap_init(&phys->fdbs);
    hmap_init(&phys->dns_records);
}

int
phys_build(struct phys *phys, const struct ovsdb_replica *replica,
           const char *chassis_name, bool trace_mode, struct ovnic_err *err)
{
    phys_init(phys);
    phys->trace_mode = trace_mode;
    int error = -ENOMEM;
    if (chassis_name && chassis_name[0]) {
        phys->chassis_name = strdup(chassis_name);
        if (!phys->chassis_name) {
            goto fail;
        }
    }
    error = build_datapaths(phys, replica, err);
    if (!error) {
        error = build_ports(phys, replica, err);
    }
    if (!error) {
        error = build_mcgroups(phys, replica, err);
    }
    if (!error) {
        error = build_bindings(phys, replica);
    }
    if (!error) {
        error = build_dns(phys, replica);
    }
    if (!error) {
        error = assign_zones(phys);
    }
    if (!error) {
        return 0;
    }
fail:
    if (error == -ENOMEM) {
        ovnic_err_set(err, error, "pipeline", "out of memory", NULL);
    }
    phys_destroy(phys);
    phys_init(phys);
    return error;
}

void
phys_destroy(struct phys *phys)
{
    struct phys_port *port, *next_port;
    HMAP_FOR_EACH_SAFE (port, next_port, name_node, &phys->ports_by_name) {
        hmap_remove(&phys->ports_by_name, &port->name_node);
        port_free(port);
    }
    struct phys_datapath *dp, *next_dp;
    HMAP_FOR_EACH_SAFE (dp, next_dp, node, &phys->datapaths) {
        hmap_remove(&phys->datapaths, &dp->node);
        free(dp->name);
        free(dp);
    }
    struct phys_mcgroup *mc, *next_mc;
    HMAP_FOR_EACH_SAFE (mc, next_mc, node, &phys->mcgroups) {
        hmap_remove(&phys->mcgroups, &mc->node);
        free(mc->name);
        free(mc->ports);
        free(mc);
    }
    struct phys_chassis *ch, *next_ch;
    HMAP_FOR_EACH_SAFE (ch, next_ch, node, &phys->chassis) {
        hmap_remove(&phys->chassis, &ch->node);
        free(ch->name);
        free(ch->encap_ip);
        free(ch->refused_ip);
        free(ch);
    }
    struct phys_mac_binding *mb, *next_mb;
    HMAP_FOR_EACH_SAFE (mb, next_mb, node, &phys->mac_bindings) {
        hmap_remove(&phys->mac_bindings, &mb->node);
        free(mb);
    }
    struct phys_fdb *f, *next_f;
    HMAP_FOR_EACH_SAFE (f, next_f, node, &phys->fdbs) {
        hmap_remove(&phys->fdbs, &f->node);
        free(f);
    }
    hmap_destroy(&phys->datapaths);
    hmap_destroy(&phys->ports_by_name);
    hmap_destroy(&phys->ports_by_key);
    hmap_destroy(&phys->mcgroups);
    hmap_destroy(&phys->chassis);
    hmap_destroy(&phys->mac_bindings);
    struct phys_dns_record *dr, *next_dr;
    HMAP_FOR_EACH_SAFE (dr, next_dr, node, &phys->dns_records) {
        hmap_remove(&phys->dns_records, &dr->node);
        dns_record_free(dr);
    }
    hmap_destroy(&phys->fdbs);
    hmap_destroy(&phys->dns_records);
    free(phys->chassis_name);
    phys->chassis_name = NULL;
}

struct phys_datapath *
phys_datapath_find(const struct phys *phys, uint32_t key)
{
    struct phys_datapath *dp;
    HMAP_FOR_EACH_WITH_HASH (dp, node, hash_add32(0, key), &phys->datapaths) {
        if (dp->key == key) {
            return dp;
        }
    }
    return NULL;
}

struct phys_datapath *
phys_datapath_find_name(const struct phys *phys, const char *name)
{
    struct phys_datapath *dp;
    HMAP_FOR_EACH (dp, node, &phys->datapaths) {
        char u[UUID_LEN + 1];
        if (!strcmp(dp->name, name) || !strcmp(uuid_to_string(&dp->uuid, u), name)) {
            return dp;
        }
    }
    return NULL;
}

struct phys_port *
phys_port_find(const struct phys *phys, const char *name)
{
    struct phys_port *port;
    HMAP_FOR_EACH_WITH_HASH (port, name_node, hash_string(name, 0),
                             &phys->ports_by_name) {
        if (!strcmp(port->name, name)) {
            return port;
        }
    }
    return NULL;
}

struct phys_port *
phys_port_find_key(const struct phys *phys, uint32_t datapath, uint32_t key)
{
    struct phys_port *port;
    HMAP_FOR_EACH_WITH_HASH (port, key_node, hash_key2(datapath, key),
                             &phys->ports_by_key) {
        if (port->dp->key == datapath && port->key == key) {
            return port;
        }
    }
    return NULL;
}

struct phys_mcgroup *
phys_mcgroup_find(const struct phys *phys, uint32_t datapath, uint32_t key)
{
    struct phys_mcgroup *mc;
    HMAP_FOR_EACH_WITH_HASH (mc, node, hash_key2(datapath, key), &phys->mcgroups) {
        if (mc->dp->key == datapath && mc->key == key) {
            return mc;
        }
    }
    return NULL;
}

struct phys_chassis *
phys_chassis_find(const struct phys *phys, const char *name)
{
    struct phys_chassis *ch;
    HMAP_FOR_EACH_WITH_HASH (ch, node, hash_string(name, 0), &phys->chassis) {
        if (!strcmp(ch->name, name)) {
            return ch;
        }
    }
    return NULL;
}

struct phys_port *
phys_localnet_find(const struct phys *phys, const char *network, int vlan)
{
    struct phys_port *best = NULL, *port;
    HMAP_FOR_EACH (port, name_node, &phys->ports_by_name) {
        if (port->type == PHYS_PORT_LOCALNET && port->network &&
            !strcmp(port->network, network) && port->tag == vlan &&
            (!best || port->dp->key < best->dp->key)) {
            best = port;
        }
    }
    return best;
}

bool
phys_port_is_resident(const struct phys *phys, const char *name)
{
    const struct phys_port *port = phys_port_find(phys, name);
    if (!port) {
        return false;
    }
    if (phys->trace_mode) {
        return true;
    }
    return port->chassis && phys->chassis_name &&
           !strcmp(port->chassis, phys->chassis_name);
}

int
phys_mac_binding_lookup(const struct phys *phys, uint32_t datapath, uint32_t port,
                        bool ipv6, lex_u128 ip, uint8_t mac[6])
{
    struct phys_mac_binding *mb;
    HMAP_FOR_EACH_WITH_HASH (mb, node, mb_hash(datapath, port, ip), &phys->mac_bindings) {
        if (mb->datapath == datapath && mb->port == port && mb->ipv6 == ipv6 &&
            mb->ip == ip) {
            memcpy(mac, mb->mac, 6);
            return 0;
        }
    }
    return -ENOENT;
}

int
phys_fdb_lookup(const struct phys *phys, uint32_t datapath, const uint8_t mac[6],
                uint32_t *port)
{
    struct phys_fdb *f;
    HMAP_FOR_EACH_WITH_HASH (f, node, hash_bytes(mac, 6, datapath), &phys->fdbs) {
        if (f->datapath == datapath && !memcmp(f->mac, mac, 6)) {
            *port = f->port;
            return 0;
        }
    }
    return -ENOENT;
}

int
phys_zone_find(const struct phys *phys, const char *name, uint16_t *zone)
{
    const struct phys_port *port = phys_port_find(phys, name);
    if (port && port->type != PHYS_PORT_PATCH) {
        *zone = port->zone;
        return 0;
    }
    size_t len = strlen(name);
    if (len == UUID_LEN + 5 && name[UUID_LEN] == '_') {
        char u[UUID_LEN + 1];
        struct uuid uuid;
        memcpy(u, name, UUID_LEN);
        u[UUID_LEN] = '\0';
        if (!uuid_from_string(u, &uuid)) {
            struct phys_datapath *dp = datapath_by_uuid(phys, &uuid);
            if (dp && dp->is_router) {
                if (!strcmp(name + UUID_LEN, "_dnat")) {
                    *zone = dp->dnat_zone;
                    return 0;
                }
                if (!strcmp(name + UUID_LEN, "_snat")) {
                    *zone = dp->snat_zone;
                    return 0;
                }
            }
        }
    }
    return -ENOENT;
}
