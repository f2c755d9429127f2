/* ovnic trace differential test: the packet generator (see gen.h). */
#include "gen.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "shared/util/util.h"
#include "shared/util/uuid.h"

/* ---- The model ---- */

int
gen_model_create(struct gen_model **modelp)
{
    *modelp = calloc(1, sizeof **modelp);
    return *modelp ? 0 : -ENOMEM;
}

static void
port_free(struct gen_port *p)
{
    free(p->name);
    free(p->datapath);
    free(p->type);
    free(p->peer);
    for (size_t i = 0; i < p->n_ip4; i++) {
        free(p->ip4[i]);
    }
    for (size_t i = 0; i < p->n_ip6; i++) {
        free(p->ip6[i]);
    }
    free(p->ps_subnets);
}

static void
strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

void
gen_model_destroy(struct gen_model *m)
{
    if (!m) {
        return;
    }
    for (size_t i = 0; i < m->n_datapaths; i++) {
        free(m->datapaths[i].name);
    }
    free(m->datapaths);
    for (size_t i = 0; i < m->n_ports; i++) {
        port_free(&m->ports[i]);
    }
    free(m->ports);
    for (size_t i = 0; i < m->n_vips; i++) {
        free(m->vips[i].ip);
        free(m->vips[i].proto);
        strv_free(m->vips[i].backends, m->vips[i].n_backends);
        strv_free(m->vips[i].datapaths, m->vips[i].n_datapaths);
    }
    free(m->vips);
    strv_free(m->nat_ips, m->n_nat_ips);
    for (size_t i = 0; i < m->n_rejects; i++) {
        free(m->rejects[i].port);
    }
    free(m->rejects);
    free(m);
}

static int
strv_add(char ***v, size_t *n, const char *s)
{
    char **nv = realloc(*v, (*n + 1) * sizeof *nv);

    if (!nv) {
        return -ENOMEM;
    }
    *v = nv;
    nv[*n] = strdup(s);
    if (!nv[*n]) {
        return -ENOMEM;
    }
    (*n)++;
    return 0;
}

int
gen_model_add_datapath(struct gen_model *m, const char *name, bool is_router)
{
    struct gen_datapath *d = realloc(m->datapaths, (m->n_datapaths + 1) * sizeof *d);

    if (!d) {
        return -ENOMEM;
    }
    m->datapaths = d;
    d[m->n_datapaths].name = strdup(name);
    d[m->n_datapaths].is_router = is_router;
    if (!d[m->n_datapaths].name) {
        return -ENOMEM;
    }
    m->n_datapaths++;
    return 0;
}

/* Adds address "IP[/PLEN]" to 'p'. */
static int
port_add_addr(struct gen_port *p, const char *word)
{
    char ip[INET6_ADDRSTRLEN + 8];
    unsigned char buf[16];
    const char *slash = strchr(word, '/');
    int plen = -1;

    snprintf(ip, sizeof ip, "%.*s", slash ? (int)(slash - word) : (int)strlen(word),
             word);
    if (slash) {
        plen = atoi(slash + 1);
    }
    if (inet_pton(AF_INET, ip, buf) == 1) {
        if (p->n_ip4 == GEN_MAX_ADDRS) {
            return 0;
        }
        p->ip4_plen[p->n_ip4] = plen < 0 ? 32 : plen;
        p->ip4[p->n_ip4] = strdup(ip);
        return p->ip4[p->n_ip4++] ? 0 : -ENOMEM;
    } else if (inet_pton(AF_INET6, ip, buf) == 1) {
        if (p->n_ip6 == GEN_MAX_ADDRS) {
            return 0;
        }
        p->ip6_plen[p->n_ip6] = plen < 0 ? 128 : plen;
        p->ip6[p->n_ip6] = strdup(ip);
        return p->ip6[p->n_ip6++] ? 0 : -ENOMEM;
    }
    return -EINVAL;
}

static bool
is_mac(const char *s)
{
    unsigned int b[6];
    char end;
    return strlen(s) == 17 && sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
                                     &b[3], &b[4], &b[5], &end) == 6;
}

int
gen_model_add_port(struct gen_model *m, const char *name, const char *datapath,
                   const char *type, const char *mac_column, const char *peer)
{
    struct gen_port *p = realloc(m->ports, (m->n_ports + 1) * sizeof *p);
    int ret = 0;

    if (!p) {
        return -ENOMEM;
    }
    m->ports = p;
    p = &p[m->n_ports];
    memset(p, 0, sizeof *p);
    p->name = strdup(name);
    p->datapath = strdup(datapath);
    p->type = strdup(type ? type : "");
    p->peer = peer ? strdup(peer) : NULL;
    if (!p->name || !p->datapath || !p->type || (peer && !p->peer)) {
        port_free(p);
        return -ENOMEM;
    }
    if (mac_column) {
        char *copy = strdup(mac_column), *save = NULL;
        if (!copy) {
            port_free(p);
            return -ENOMEM;
        }
        char *w = strtok_r(copy, " ", &save);
        if (w && is_mac(w)) {
            p->has_mac = true;
            snprintf(p->mac, sizeof p->mac, "%s", w);
            while (!ret && (w = strtok_r(NULL, " ", &save))) {
                ret = port_add_addr(p, w);
            }
        }
        free(copy);
    }
    if (ret) {
        port_free(p);
        return ret;
    }
    m->n_ports++;
    return 0;
}

/* Parses "IP/PLEN" into 'sn'.  True if it is a network: a prefix shorter than the
 * address with every host bit zero. */
static bool
subnet_parse(const char *text, struct gen_subnet *sn)
{
    char ip[64];
    const char *slash = strchr(text, '/');
    size_t len = slash ? (size_t)(slash - text) : 0;
    char *end;

    if (!slash || len >= sizeof ip) {
        return false;
    }
    memcpy(ip, text, len);
    ip[len] = '\0';
    memset(sn, 0, sizeof *sn);
    sn->ipv6 = strchr(ip, ':') != NULL;
    if (inet_pton(sn->ipv6 ? AF_INET6 : AF_INET, ip, sn->addr) != 1) {
        return false;
    }
    long plen = strtol(slash + 1, &end, 10);
    int width = sn->ipv6 ? 128 : 32;
    if (*end || end == slash + 1 || plen < 0 || plen >= width) {
        return false;
    }
    sn->plen = (int)plen;
    for (int bit = sn->plen; bit < width; bit++) {
        if (sn->addr[bit / 8] & (0x80 >> (bit % 8))) {
            return false;
        }
    }
    return true;
}

bool
gen_subnet_contains_host(const struct gen_subnet *sn, const char *text)
{
    uint8_t a[16] = {0};
    int width = sn->ipv6 ? 128 : 32;

    if (inet_pton(sn->ipv6 ? AF_INET6 : AF_INET, text, a) != 1 ||
        !memcmp(a, sn->addr, (size_t)width / 8)) {
        return false;
    }
    for (int bit = 0; bit < sn->plen; bit++) {
        uint8_t m = 0x80 >> (bit % 8);
        if ((a[bit / 8] & m) != (sn->addr[bit / 8] & m)) {
            return false;
        }
    }
    return true;
}

int
gen_model_add_port_security(struct gen_model *m, const char *port, const char *entry)
{
    struct gen_port *p = NULL;
    char *copy, *save = NULL;
    int ret = 0;

    for (size_t i = 0; i < m->n_ports && !p; i++) {
        if (!strcmp(m->ports[i].name, port)) {
            p = &m->ports[i];
        }
    }
    if (!p) {
        return -ENOENT;
    }
    copy = strdup(entry);
    if (!copy) {
        return -ENOMEM;
    }
    for (char *w = strtok_r(copy, " ", &save); w && !ret;
         w = strtok_r(NULL, " ", &save)) {
        struct gen_subnet sn;
        if (!subnet_parse(w, &sn)) {
            continue;
        }
        struct gen_subnet *v = realloc(p->ps_subnets, (p->n_ps_subnets + 1) * sizeof *v);
        if (!v) {
            ret = -ENOMEM;
            break;
        }
        v[p->n_ps_subnets++] = sn;
        p->ps_subnets = v;
    }
    free(copy);
    return ret;
}

/* Splits "IP:PORT", "[IP6]:PORT" or "IP" into 'ip' and '*port'. */
static int
split_ip_port(const char *s, char *ip, size_t size, int *port)
{
    const char *colon;

    *port = 0;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close) {
            return -EINVAL;
        }
        snprintf(ip, size, "%.*s", (int)(close - s - 1), s + 1);
        if (close[1] == ':') {
            *port = atoi(close + 2);
        }
    } else if ((colon = strchr(s, ':')) && !strchr(colon + 1, ':')) {
        snprintf(ip, size, "%.*s", (int)(colon - s), s);
        *port = atoi(colon + 1);
    } else {
        snprintf(ip, size, "%s", s);
    }
    return 0;
}

int
gen_model_add_vip(struct gen_model *m, const char *vip, const char *proto,
                  const char *backends, const char *datapath)
{
    char ip[INET6_ADDRSTRLEN + 8];
    int port;

    if (split_ip_port(vip, ip, sizeof ip, &port)) {
        return -EINVAL;
    }
    /* One VIP on several datapaths is one entry with several datapaths. */
    for (size_t i = 0; i < m->n_vips; i++) {
        struct gen_vip *v = &m->vips[i];
        if (!strcmp(v->ip, ip) && v->port == port && !strcmp(v->proto, proto)) {
            return strv_add(&v->datapaths, &v->n_datapaths, datapath);
        }
    }
    struct gen_vip *v = realloc(m->vips, (m->n_vips + 1) * sizeof *v);
    if (!v) {
        return -ENOMEM;
    }
    m->vips = v;
    v = &v[m->n_vips];
    memset(v, 0, sizeof *v);
    v->ip = strdup(ip);
    v->port = port;
    v->proto = strdup(proto);
    m->n_vips++;
    if (!v->ip || !v->proto) {
        return -ENOMEM;
    }
    char *copy = strdup(backends ? backends : ""), *save = NULL;
    int ret = copy ? 0 : -ENOMEM;
    for (char *b = copy ? strtok_r(copy, ",", &save) : NULL; b && !ret;
         b = strtok_r(NULL, ",", &save)) {
        ret = strv_add(&v->backends, &v->n_backends, b);
    }
    free(copy);
    return ret ? ret : strv_add(&v->datapaths, &v->n_datapaths, datapath);
}

static const char *
dp_name_of(const struct ovsdb_replica *sb, const struct uuid *uuid)
{
    const struct ovsdb_replica_table *t = ovsdb_replica_table(sb, "Datapath_Binding");
    const struct ovsdb_row *row = t ? ovsdb_replica_table_find(t, uuid) : NULL;

    return row ? ovsdb_datum_map_get_string(ovsdb_row_get(row, "external_ids"), "name",
                                            NULL)
               : NULL;
}

/* Adds the VIPs of Load_Balancer row 'row' on each of its datapaths. */
static int
add_lb_row(struct gen_model *m, const struct ovsdb_replica *sb,
           const struct ovsdb_row *row)
{
    const struct ovsdb_datum *vips = ovsdb_row_get(row, "vips");
    const char *proto = ovsdb_datum_get_string(ovsdb_row_get(row, "protocol"), "tcp");
    const struct ovsdb_datum *dps = ovsdb_row_get(row, "datapaths");
    const struct uuid *group = ovsdb_datum_get_uuid(ovsdb_row_get(row, "datapath_group"));
    const struct ovsdb_replica_table *groups =
        ovsdb_replica_table(sb, "Logical_DP_Group");
    const struct ovsdb_row *grow =
        group && groups ? ovsdb_replica_table_find(groups, group) : NULL;
    const struct ovsdb_datum *gdps = grow ? ovsdb_row_get(grow, "datapaths") : NULL;
    int ret = 0;

    for (uint32_t i = 0; vips && i < vips->n && !ret; i++) {
        const struct ovsdb_datum *sets[2] = {dps, gdps};
        for (size_t s = 0; s < 2 && !ret; s++) {
            for (uint32_t j = 0; sets[s] && j < sets[s]->n && !ret; j++) {
                const char *name = dp_name_of(sb, &sets[s]->keys[j].uuid);
                if (name) {
                    ret = gen_model_add_vip(m, vips->keys[i].string, proto,
                                            vips->values[i].string, name);
                }
            }
        }
    }
    return ret;
}

/* qsort(), which may not be given a NULL array even when it is empty. */
static void
sort_if(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1) {
        qsort(base, n, size, cmp);
    }
}

static int
datapath_cmp(const void *a_, const void *b_)
{
    const struct gen_datapath *a = a_, *b = b_;
    return strcmp(a->name, b->name);
}

static int
port_cmp(const void *a_, const void *b_)
{
    const struct gen_port *a = a_, *b = b_;
    return strcmp(a->name, b->name);
}

static int
vip_cmp(const void *a_, const void *b_)
{
    const struct gen_vip *a = a_, *b = b_;
    int c = strcmp(a->ip, b->ip);
    if (!c) {
        c = (a->port > b->port) - (a->port < b->port);
    }
    return c ? c : strcmp(a->proto, b->proto);
}

static int
str_cmp(const void *a_, const void *b_)
{
    const char *const *a = a_, *const *b = b_;
    return strcmp(*a, *b);
}

int
gen_model_add_reject(struct gen_model *m, const char *match, bool to_lport)
{
    const char *key = to_lport ? "outport == \"" : "inport == \"";
    const char *p = strstr(match, key);
    char port[128];
    if (!p) {
        return 0;
    }
    p += strlen(key);
    size_t n = strcspn(p, "\"");
    if (!n || n >= sizeof port) {
        return 0;
    }
    memcpy(port, p, n);
    port[n] = '\0';
    static const char *const protos[] = {"tcp", "udp", "sctp"};
    for (size_t k = 0; k < ARRAY_SIZE(protos); k++) {
        char dst[16];
        int dport = 0;
        snprintf(dst, sizeof dst, "%s.dst == ", protos[k]);
        const char *d = strstr(match, dst);
        if (d) {
            dport = atoi(d + strlen(dst));
        } else {
            /* The bare protocol, as a word of its own. */
            size_t len = strlen(protos[k]);
            bool found = false;
            for (const char *w = strstr(match, protos[k]); w && !found;
                 w = strstr(w + 1, protos[k])) {
                found = (w == match || !isalnum((unsigned char)w[-1])) &&
                        !isalnum((unsigned char)w[len]) && w[len] != '.' && w[len] != '_';
            }
            if (!found) {
                continue;
            }
        }
        bool dup = false;
        for (size_t i = 0; i < m->n_rejects && !dup; i++) {
            const struct gen_reject *r = &m->rejects[i];
            dup = r->to_lport == to_lport && r->dport == dport &&
                  !strcmp(r->port, port) && !strcmp(r->proto, protos[k]);
        }
        if (dup) {
            continue;
        }
        struct gen_reject *r = realloc(m->rejects, (m->n_rejects + 1) * sizeof *r);
        if (!r) {
            return -ENOMEM;
        }
        m->rejects = r;
        r = &r[m->n_rejects];
        memset(r, 0, sizeof *r);
        r->port = strdup(port);
        if (!r->port) {
            return -ENOMEM;
        }
        r->to_lport = to_lport;
        snprintf(r->proto, sizeof r->proto, "%s", protos[k]);
        r->dport = dport;
        m->n_rejects++;
    }
    return 0;
}

static int
reject_cmp(const void *a_, const void *b_)
{
    const struct gen_reject *a = a_, *b = b_;
    int c = strcmp(a->port, b->port);
    if (!c) {
        c = strcmp(a->proto, b->proto);
    }
    if (!c) {
        c = (int)a->to_lport - (int)b->to_lport;
    }
    return c ? c : a->dport - b->dport;
}

int
gen_model_from_replica(const struct ovsdb_replica *sb, struct gen_model **modelp)
{
    const struct ovsdb_replica_table *dps = ovsdb_replica_table(sb, "Datapath_Binding");
    const struct ovsdb_replica_table *pbs = ovsdb_replica_table(sb, "Port_Binding");
    const struct ovsdb_replica_table *lbs = ovsdb_replica_table(sb, "Load_Balancer");
    const struct ovsdb_row *row;
    struct gen_model *m;
    int ret;

    if (!dps || !pbs) {
        return -EINVAL;
    }
    ret = gen_model_create(&m);
    if (ret) {
        return ret;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, dps) {
        const struct ovsdb_datum *ids = ovsdb_row_get(row, "external_ids");
        const char *name = ovsdb_datum_map_get_string(ids, "name", NULL);
        if (name && !ret) {
            ret = gen_model_add_datapath(
                m, name, ovsdb_datum_map_get_string(ids, "logical-router", NULL) != NULL);
        }
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, pbs) {
        const char *dp =
            dp_name_of(sb, ovsdb_datum_get_uuid(ovsdb_row_get(row, "datapath")));
        const struct ovsdb_datum *macs = ovsdb_row_get(row, "mac");
        if (!dp || ret) {
            continue;
        }
        ret = gen_model_add_port(
            m, ovsdb_datum_get_string(ovsdb_row_get(row, "logical_port"), ""), dp,
            ovsdb_datum_get_string(ovsdb_row_get(row, "type"), ""),
            macs && macs->n ? macs->keys[0].string : NULL,
            ovsdb_datum_map_get_string(ovsdb_row_get(row, "options"), "peer", NULL));
        const struct ovsdb_datum *ps = ovsdb_row_get(row, "port_security");
        for (size_t i = 0; !ret && ps && i < ps->n; i++) {
            ret = gen_model_add_port_security(
                m, ovsdb_datum_get_string(ovsdb_row_get(row, "logical_port"), ""),
                ps->keys[i].string);
        }
    }
    if (lbs) {
        OVSDB_TABLE_FOR_EACH_ROW (row, lbs) {
            if (!ret) {
                ret = add_lb_row(m, sb, row);
            }
        }
    }
    const struct ovsdb_replica_table *lfs = ovsdb_replica_table(sb, "Logical_Flow");
    if (lfs) {
        OVSDB_TABLE_FOR_EACH_ROW (row, lfs) {
            const char *stage = ovsdb_datum_map_get_string(
                ovsdb_row_get(row, "external_ids"), "stage-name", "");
            const char *actions =
                ovsdb_datum_get_string(ovsdb_row_get(row, "actions"), "");
            bool out = !strcmp(stage, "ls_out_acl");
            if (!ret && (out || !strcmp(stage, "ls_in_acl")) &&
                strstr(actions, "reject {")) {
                ret = gen_model_add_reject(
                    m, ovsdb_datum_get_string(ovsdb_row_get(row, "match"), ""), out);
            }
        }
    }
    if (ret) {
        gen_model_destroy(m);
        return ret;
    }
    /* Row order in a replica follows the rows' uuids, which differ between runs: the
     * model is put in name order so that the same topology and seed give the same
     * packets. */
    sort_if(m->datapaths, m->n_datapaths, sizeof *m->datapaths, datapath_cmp);
    sort_if(m->ports, m->n_ports, sizeof *m->ports, port_cmp);
    sort_if(m->vips, m->n_vips, sizeof *m->vips, vip_cmp);
    sort_if(m->rejects, m->n_rejects, sizeof *m->rejects, reject_cmp);
    for (size_t i = 0; i < m->n_vips; i++) {
        sort_if(m->vips[i].datapaths, m->vips[i].n_datapaths, sizeof(char *), str_cmp);
    }
    *modelp = m;
    return 0;
}

int
gen_model_add_nat(struct gen_model *m, const char *external_ip)
{
    /* Kept sorted: the order they are listed in does not change the packets. */
    int ret = strv_add(&m->nat_ips, &m->n_nat_ips, external_ip);
    if (!ret) {
        sort_if(m->nat_ips, m->n_nat_ips, sizeof *m->nat_ips, str_cmp);
    }
    return ret;
}

/* ---- Generating ---- */

struct gen {
    const struct gen_model *m;
    uint64_t state;
    struct gen_packet *packets;
    size_t n, cap;
    int error;
};

static uint64_t
rnd(struct gen *g)
{
    /* splitmix64. */
    uint64_t z = (g->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t
rnd_below(struct gen *g, size_t n)
{
    return n ? (size_t)(rnd(g) % n) : 0;
}

static const char *
rnd_ct(struct gen *g)
{
    static const char *const states[] = {"new", "est", "est,rpl"};
    return states[rnd_below(g, ARRAY_SIZE(states))];
}

static void emit(struct gen *g, const char *category, const char *datapath,
                 const char *ct, const char *lb_dst, const char *fmt, ...)
    OVNIC_PRINTF(6, 7);

static void
emit(struct gen *g, const char *category, const char *datapath, const char *ct,
     const char *lb_dst, const char *fmt, ...)
{
    struct gen_packet *p;
    va_list ap;
    char *flow;

    if (g->error) {
        return;
    }
    va_start(ap, fmt);
    if (vasprintf(&flow, fmt, ap) < 0) {
        flow = NULL;
    }
    va_end(ap);
    if (!flow) {
        g->error = -ENOMEM;
        return;
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 256;
        p = realloc(g->packets, cap * sizeof *p);
        if (!p) {
            free(flow);
            g->error = -ENOMEM;
            return;
        }
        g->packets = p;
        g->cap = cap;
    }
    p = &g->packets[g->n];
    p->microflow = flow;
    p->datapath = strdup(datapath);
    p->ct = ct ? strdup(ct) : NULL;
    p->lb_dst = lb_dst ? strdup(lb_dst) : NULL;
    p->category = category;
    g->n++;
    if (!p->datapath || (ct && !p->ct) || (lb_dst && !p->lb_dst)) {
        g->error = -ENOMEM;
    }
}

static const struct gen_port *
port_by_name(const struct gen_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_ports; i++) {
        if (!strcmp(m->ports[i].name, name)) {
            return &m->ports[i];
        }
    }
    return NULL;
}

static bool
dp_is_router(const struct gen_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_datapaths; i++) {
        if (!strcmp(m->datapaths[i].name, name)) {
            return m->datapaths[i].is_router;
        }
    }
    return false;
}

/* A port a packet can start from on a switch: a VIF (type "") or a localnet port. */
static bool
is_vif(const struct gen_port *p)
{
    return !p->type[0] && p->has_mac;
}

/* The router port facing switch port 'sp' (its peer), or NULL. */
static const struct gen_port *
router_port_of(const struct gen_model *m, const struct gen_port *sp)
{
    const struct gen_port *rp = sp->peer ? port_by_name(m, sp->peer) : NULL;
    return rp && dp_is_router(m, rp->datapath) && rp->has_mac ? rp : NULL;
}

/* The L4 part of a microflow: "tcp && tcp.src==S && tcp.dst==D". */
static void
l4_text(char *buf, size_t size, const char *proto, int src, int dst)
{
    snprintf(buf, size, "%s && %s.src==%d && %s.dst==%d", proto, proto, src, proto, dst);
}

/* IPv6 solicited-node multicast address and MAC of 'ip6'. */
static void
solicited_node(const char *ip6, char *addr, size_t size, char *mac, size_t mac_size)
{
    unsigned char a[16];

    if (inet_pton(AF_INET6, ip6, a) != 1) {
        snprintf(addr, size, "ff02::1:ff00:1");
        snprintf(mac, mac_size, "33:33:ff:00:00:01");
        return;
    }
    snprintf(addr, size, "ff02::1:ff%02x:%02x%02x", a[13], a[14], a[15]);
    snprintf(mac, mac_size, "33:33:ff:%02x:%02x:%02x", a[13], a[14], a[15]);
}

/* Packets between 'src' and another port 'dst' of the same switch. */
static void
gen_same_switch(struct gen *g, const struct gen_port *src, const struct gen_port *dst)
{
    char l4[128];
    const char *dp = src->datapath;

    if (src->n_ip4 && dst->n_ip4) {
        const char *sip = src->ip4[0], *dip = dst->ip4[rnd_below(g, dst->n_ip4)];
        emit(g, "arp-request", dp, NULL, NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==ff:ff:ff:ff:ff:ff && arp.op==1"
             " && arp.sha==%s && arp.spa==%s && arp.tpa==%s",
             src->name, src->mac, src->mac, sip, dip);
        emit(g, "arp-reply", dp, NULL, NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==%s && arp.op==2 && arp.sha==%s"
             " && arp.spa==%s && arp.tha==%s && arp.tpa==%s",
             src->name, src->mac, dst->mac, src->mac, sip, dst->mac, dip);
        emit(g, "icmp4-local", dp, rnd_ct(g), NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip4.src==%s && ip4.dst==%s"
             " && ip.ttl==64 && icmp4 && icmp4.type==8 && icmp4.code==0",
             src->name, src->mac, dst->mac, sip, dip);
        static const char *const protos[] = {"tcp", "udp"};
        static const int ports[] = {22, 80, 443, 5432, 53, 8080, 3000};
        const char *proto = protos[rnd_below(g, 2)];
        l4_text(l4, sizeof l4, proto, 1024 + (int)rnd_below(g, 60000),
                ports[rnd_below(g, ARRAY_SIZE(ports))]);
        emit(g, !strcmp(proto, "tcp") ? "tcp-local" : "udp-local", dp, rnd_ct(g), NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip4.src==%s && ip4.dst==%s"
             " && ip.ttl==64 && %s",
             src->name, src->mac, dst->mac, sip, dip, l4);
    }
    if (src->n_ip6 && dst->n_ip6) {
        const char *sip = src->ip6[0], *dip = dst->ip6[0];
        char sn[64], snmac[24];
        solicited_node(dip, sn, sizeof sn, snmac, sizeof snmac);
        emit(g, "nd-ns", dp, NULL, NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip6.src==%s && ip6.dst==%s"
             " && ip.ttl==255 && icmp6.type==135 && icmp6.code==0 && nd.target==%s"
             " && nd.sll==%s",
             src->name, src->mac, snmac, sip, sn, dip, src->mac);
        emit(g, "icmp6-local", dp, rnd_ct(g), NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip6.src==%s && ip6.dst==%s"
             " && ip.ttl==64 && icmp6.type==128 && icmp6.code==0",
             src->name, src->mac, dst->mac, sip, dip);
        l4_text(l4, sizeof l4, "tcp", 1024 + (int)rnd_below(g, 60000), 80);
        emit(g, "tcp6-local", dp, rnd_ct(g), NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip6.src==%s && ip6.dst==%s"
             " && ip.ttl==64 && %s",
             src->name, src->mac, dst->mac, sip, dip, l4);
    }
}

/* Packets from 'src' through its switch's router port 'rp' (in router 'rp->datapath')
 * to other subnets, the router itself and the outside. */
static void
gen_routed(struct gen *g, const struct gen_port *src, const struct gen_port *rp)
{
    const struct gen_model *m = g->m;
    const char *dp = src->datapath;
    char l4[128];

    if (src->n_ip4 && rp->n_ip4) {
        const char *sip = src->ip4[0];
        /* ARP for the gateway, ping the gateway. */
        emit(g, "arp-gateway", dp, NULL, NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==ff:ff:ff:ff:ff:ff && arp.op==1"
             " && arp.sha==%s && arp.spa==%s && arp.tpa==%s",
             src->name, src->mac, src->mac, sip, rp->ip4[0]);
        emit(g, "icmp4-router", dp, rnd_ct(g), NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip4.src==%s && ip4.dst==%s"
             " && ip.ttl==64 && icmp4 && icmp4.type==8 && icmp4.code==0",
             src->name, src->mac, rp->mac, sip, rp->ip4[0]);
        /* To a VIF behind another port of the same router. */
        for (size_t i = 0; i < m->n_ports; i++) {
            const struct gen_port *orp = &m->ports[i];
            if (orp == rp || strcmp(orp->datapath, rp->datapath) || !orp->peer) {
                continue;
            }
            const struct gen_port *osp = port_by_name(m, orp->peer);
            if (!osp) {
                continue;
            }
            for (size_t j = 0; j < m->n_ports; j++) {
                const struct gen_port *dst = &m->ports[j];
                if (!is_vif(dst) || !dst->n_ip4 || strcmp(dst->datapath, osp->datapath) ||
                    rnd_below(g, 2)) {
                    continue;
                }
                emit(g, "icmp4-routed", dp, rnd_ct(g), NULL,
                     "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip4.src==%s"
                     " && ip4.dst==%s && ip.ttl==64 && icmp4 && icmp4.type==8"
                     " && icmp4.code==0",
                     src->name, src->mac, rp->mac, sip, dst->ip4[0]);
                l4_text(l4, sizeof l4, rnd_below(g, 2) ? "tcp" : "udp",
                        1024 + (int)rnd_below(g, 60000), 80);
                emit(g, "l4-routed", dp, rnd_ct(g), NULL,
                     "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip4.src==%s"
                     " && ip4.dst==%s && ip.ttl==64 && %s",
                     src->name, src->mac, rp->mac, sip, dst->ip4[0], l4);
            }
        }
        /* Outside: the default route, SNAT; an address in no subnet; TTL expiring. */
        l4_text(l4, sizeof l4, "tcp", 1024 + (int)rnd_below(g, 60000), 443);
        emit(g, "tcp-external", dp, rnd_ct(g), NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip4.src==%s"
             " && ip4.dst==8.8.8.8 && ip.ttl==64 && %s",
             src->name, src->mac, rp->mac, sip, l4);
        emit(g, "icmp4-ttl1", dp, rnd_ct(g), NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip4.src==%s"
             " && ip4.dst==8.8.4.4 && ip.ttl==1 && icmp4 && icmp4.type==8"
             " && icmp4.code==0",
             src->name, src->mac, rp->mac, sip);
        for (size_t i = 0; i < m->n_nat_ips; i++) {
            if (strchr(m->nat_ips[i], ':') || rnd_below(g, 3)) {
                continue;
            }
            emit(g, "icmp4-nat-ip", dp, rnd_ct(g), NULL,
                 "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip4.src==%s"
                 " && ip4.dst==%s && ip.ttl==64 && icmp4 && icmp4.type==8"
                 " && icmp4.code==0",
                 src->name, src->mac, rp->mac, sip, m->nat_ips[i]);
        }
    }
    if (src->n_ip6 && rp->n_ip6) {
        const char *sip = src->ip6[0];
        /* No neighbour solicitation for the router's own address: ovn-trace 23.03
         * aborts on the nd_na_router { } that answers it (an assertion in
         * ovnact_get_ND_NA()), so there is no oracle for it. */
        emit(g, "icmp6-router", dp, rnd_ct(g), NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip6.src==%s && ip6.dst==%s"
             " && ip.ttl==64 && icmp6.type==128 && icmp6.code==0",
             src->name, src->mac, rp->mac, sip, rp->ip6[0]);
    }
    if (rp->n_ip6) {
        /* Router solicitation from the link-local address. */
        emit(g, "ipv6-rs", dp, NULL, NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==33:33:00:00:00:02"
             " && ip6.src==fe80::8:ff:fe00:1 && ip6.dst==ff02::2 && ip.ttl==255"
             " && icmp6.type==133 && icmp6.code==0",
             src->name, src->mac);
    }
}

/* Packets from 'src' that do not depend on other ports: DHCP, broadcast, multicast,
 * spoofed sources. */
static void
gen_own(struct gen *g, const struct gen_port *src)
{
    const char *dp = src->datapath;

    emit(g, "dhcpv4", dp, NULL, NULL,
         "inport==\"%s\" && eth.src==%s && eth.dst==ff:ff:ff:ff:ff:ff && ip4.src==0.0.0.0"
         " && ip4.dst==255.255.255.255 && ip.ttl==64 && udp && udp.src==68"
         " && udp.dst==67",
         src->name, src->mac);
    emit(g, "dhcpv6-solicit", dp, NULL, NULL,
         "inport==\"%s\" && eth.src==%s && eth.dst==33:33:00:01:00:02"
         " && ip6.src==fe80::8:ff:fe00:2 && ip6.dst==ff02::1:2 && ip.ttl==1 && udp"
         " && udp.src==546 && udp.dst==547",
         src->name, src->mac);
    if (src->n_ip4) {
        emit(g, "broadcast", dp, rnd_ct(g), NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==ff:ff:ff:ff:ff:ff && ip4.src==%s"
             " && ip4.dst==255.255.255.255 && ip.ttl==64 && udp && udp.src==%d"
             " && udp.dst==%d",
             src->name, src->mac, src->ip4[0], 1024 + (int)rnd_below(g, 1000),
             5000 + (int)rnd_below(g, 1000));
        emit(g, "multicast4", dp, rnd_ct(g), NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==01:00:5e:01:01:01 && ip4.src==%s"
             " && ip4.dst==239.1.1.1 && ip.ttl==1 && udp && udp.src==5000"
             " && udp.dst==5001",
             src->name, src->mac, src->ip4[0]);
        emit(g, "spoof-ip", dp, rnd_ct(g), NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==ff:ff:ff:ff:ff:ff"
             " && ip4.src==192.0.2.%d && ip4.dst==255.255.255.255 && ip.ttl==64 && udp"
             " && udp.src==1000 && udp.dst==2000",
             src->name, src->mac, 1 + (int)rnd_below(g, 250));
    }
    if (src->n_ip6) {
        emit(g, "multicast6", dp, rnd_ct(g), NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==33:33:00:00:00:fb && ip6.src==%s"
             " && ip6.dst==ff02::fb && ip.ttl==255 && udp && udp.src==5353"
             " && udp.dst==5353",
             src->name, src->mac, src->ip6[0]);
    }
    emit(g, "spoof-mac", dp, NULL, NULL,
         "inport==\"%s\" && eth.src==02:00:00:00:%02x:%02x && eth.dst==ff:ff:ff:ff:ff:ff"
         " && arp.op==1 && arp.sha==02:00:00:00:00:01 && arp.spa==192.0.2.1"
         " && arp.tpa==192.0.2.2",
         src->name, (unsigned)rnd_below(g, 256), (unsigned)rnd_below(g, 256));
}

/* Packets to load-balancer VIPs from 'src' (in a datapath the VIP applies to, or
 * behind a router it applies to). */
static void
gen_vips(struct gen *g, const struct gen_port *src, const struct gen_port *rp)
{
    const struct gen_model *m = g->m;

    for (size_t i = 0; i < m->n_vips; i++) {
        const struct gen_vip *v = &m->vips[i];
        bool ipv6 = strchr(v->ip, ':') != NULL;
        bool here = false, via_router = false;

        for (size_t j = 0; j < v->n_datapaths; j++) {
            here |= !strcmp(v->datapaths[j], src->datapath);
            via_router |= rp && !strcmp(v->datapaths[j], rp->datapath);
        }
        if ((!here && !via_router) || (ipv6 ? !src->n_ip6 : !src->n_ip4) ||
            (strcmp(v->proto, "tcp") && strcmp(v->proto, "udp"))) {
            continue;
        }
        const char *dmac = rp ? rp->mac : "0a:ff:ff:ff:ff:01";
        const char *lb_dst =
            v->n_backends ? v->backends[rnd_below(g, v->n_backends)] : NULL;
        char l4[128];
        l4_text(l4, sizeof l4, v->proto, 1024 + (int)rnd_below(g, 60000),
                v->port ? v->port : 80);
        emit(g, v->n_backends ? "lb-vip" : "lb-vip-empty", src->datapath, "new", lb_dst,
             "inport==\"%s\" && eth.src==%s && eth.dst==%s && %s.src==%s && %s.dst==%s"
             " && ip.ttl==64 && %s",
             src->name, src->mac, dmac, ipv6 ? "ip6" : "ip4",
             ipv6 ? src->ip6[0] : src->ip4[0], ipv6 ? "ip6" : "ip4", v->ip, l4);
    }
}

/* Packets from the provider network: localnet port 'ln' to the router ports on its
 * switch and to NAT addresses. */
static void
gen_provider(struct gen *g, const struct gen_port *ln)
{
    const struct gen_model *m = g->m;
    static const char ext_mac[] = "0a:ee:00:00:00:01";
    const char *dp = ln->datapath;

    for (size_t i = 0; i < m->n_ports; i++) {
        const struct gen_port *sp = &m->ports[i];
        const struct gen_port *rp;
        if (strcmp(sp->datapath, dp) || !(rp = router_port_of(m, sp)) || !rp->n_ip4) {
            continue;
        }
        /* An outside host in the router port's subnet. */
        unsigned char a[4];
        char ext_ip[INET_ADDRSTRLEN];
        if (inet_pton(AF_INET, rp->ip4[0], a) != 1) {
            continue;
        }
        a[3] = (unsigned char)(200 + rnd_below(g, 50));
        inet_ntop(AF_INET, a, ext_ip, sizeof ext_ip);
        emit(g, "provider-arp", dp, NULL, NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==ff:ff:ff:ff:ff:ff && arp.op==1"
             " && arp.sha==%s && arp.spa==%s && arp.tpa==%s",
             ln->name, ext_mac, ext_mac, ext_ip, rp->ip4[0]);
        emit(g, "provider-icmp4", dp, rnd_ct(g), NULL,
             "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip4.src==%s && ip4.dst==%s"
             " && ip.ttl==64 && icmp4 && icmp4.type==8 && icmp4.code==0",
             ln->name, ext_mac, rp->mac, ext_ip, rp->ip4[0]);
        for (size_t j = 0; j < m->n_nat_ips; j++) {
            const char *nat = m->nat_ips[j];
            if (strchr(nat, ':')) {
                continue;
            }
            char l4[128];
            emit(g, "provider-arp-nat", dp, NULL, NULL,
                 "inport==\"%s\" && eth.src==%s && eth.dst==ff:ff:ff:ff:ff:ff"
                 " && arp.op==1 && arp.sha==%s && arp.spa==%s && arp.tpa==%s",
                 ln->name, ext_mac, ext_mac, ext_ip, nat);
            l4_text(l4, sizeof l4, "tcp", 1024 + (int)rnd_below(g, 60000), 22);
            emit(g, "provider-nat", dp, rnd_ct(g), NULL,
                 "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip4.src==%s"
                 " && ip4.dst==%s && ip.ttl==64 && %s",
                 ln->name, ext_mac, rp->mac, ext_ip, nat, l4);
        }
    }
}

/* One round over every source port. */
/* Packets a reject ACL answers: to its port from every other VIF of its switch
 * (to-lport), or from it to them (from-lport), over IPv4 and IPv6 when both ends have
 * such addresses. */
static void
gen_rejects(struct gen *g)
{
    const struct gen_model *m = g->m;
    for (size_t i = 0; i < m->n_rejects && !g->error; i++) {
        const struct gen_reject *r = &m->rejects[i];
        const struct gen_port *own = port_by_name(m, r->port);
        if (!own || !is_vif(own)) {
            continue;
        }
        for (size_t j = 0; j < m->n_ports; j++) {
            const struct gen_port *peer = &m->ports[j];
            if (peer == own || !is_vif(peer) || strcmp(peer->datapath, own->datapath)) {
                continue;
            }
            const struct gen_port *src = r->to_lport ? peer : own;
            const struct gen_port *dst = r->to_lport ? own : peer;
            char l4[128];
            int dport = r->dport ? r->dport : 1 + (int)rnd_below(g, 65535);
            l4_text(l4, sizeof l4, r->proto, 1024 + (int)rnd_below(g, 60000), dport);
            const char *category = r->to_lport ? "reject-to-lport" : "reject-from-lport";
            if (src->n_ip4 && dst->n_ip4) {
                emit(g, category, src->datapath, rnd_ct(g), NULL,
                     "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip4.src==%s && "
                     "ip4.dst==%s && ip.ttl==64 && %s",
                     src->name, src->mac, dst->mac, src->ip4[0], dst->ip4[0], l4);
            }
            if (src->n_ip6 && dst->n_ip6) {
                const char *category6 =
                    r->to_lport ? "reject6-to-lport" : "reject6-from-lport";
                emit(g, category6, src->datapath, rnd_ct(g), NULL,
                     "inport==\"%s\" && eth.src==%s && eth.dst==%s && ip6.src==%s && "
                     "ip6.dst==%s && ip.ttl==64 && %s",
                     src->name, src->mac, dst->mac, src->ip6[0], dst->ip6[0], l4);
            }
        }
    }
}

static void
gen_round(struct gen *g)
{
    const struct gen_model *m = g->m;

    for (size_t i = 0; i < m->n_ports && !g->error; i++) {
        const struct gen_port *src = &m->ports[i];

        if (dp_is_router(m, src->datapath)) {
            continue;
        }
        if (!strcmp(src->type, "localnet")) {
            gen_provider(g, src);
            continue;
        }
        if (!is_vif(src)) {
            continue;
        }
        /* The router port of the switch, if any. */
        const struct gen_port *rp = NULL;
        for (size_t j = 0; j < m->n_ports && !rp; j++) {
            if (!strcmp(m->ports[j].datapath, src->datapath)) {
                rp = router_port_of(m, &m->ports[j]);
            }
        }
        for (size_t j = 0; j < m->n_ports; j++) {
            const struct gen_port *dst = &m->ports[j];
            if (dst != src && is_vif(dst) && !strcmp(dst->datapath, src->datapath)) {
                gen_same_switch(g, src, dst);
            }
        }
        if (rp) {
            gen_routed(g, src, rp);
        }
        gen_own(g, src);
        gen_vips(g, src, rp);
    }
    gen_rejects(g);
}

int
gen_packets(const struct gen_model *m, uint64_t seed, size_t min_packets,
            struct gen_packet **packetsp, size_t *n_packetsp)
{
    struct gen g = {.m = m, .state = seed};
    size_t last = (size_t)-1;

    do {
        gen_round(&g);
        if (g.n == last || !g.n) {
            break;
        }
        last = g.n;
    } while (!g.error && g.n < min_packets);
    if (!g.error && !g.n) {
        g.error = -ENOENT;
    }
    if (g.error) {
        gen_packets_destroy(g.packets, g.n);
        return g.error;
    }
    *packetsp = g.packets;
    *n_packetsp = g.n;
    return 0;
}

void
gen_packets_destroy(struct gen_packet *packets, size_t n)
{
    if (!packets) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(packets[i].datapath);
        free(packets[i].microflow);
        free(packets[i].ct);
        free(packets[i].lb_dst);
    }
    free(packets);
}
