/* ovnic: the underlay neighbour table (ARP and IPv6 neighbour discovery). */
#include "dpu/vswitch/neigh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/pipeline/ctrl.h"
#include "dpu/pipeline/key.h"
#include "dpu/pipeline/packet.h"
#include "shared/util/hash.h"
#include "shared/util/hmap.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(neigh);

#define ETH_LEN 14
#define ETH_MIN_FRAME 60 /* Without the FCS. */
#define ARP_LEN 28
#define IP6_LEN 40
#define ND_LEN 32 /* NS/NA with one link-layer address option. */
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_IP 0x0800
#define ETH_TYPE_IPV6 0x86dd
#define ICMP6_NS 135
#define ICMP6_NA 136
#define ND_OPT_SLL 1
#define ND_OPT_TLL 2
#define NA_FLAG_ROUTER 0x80
#define NA_FLAG_SOLICITED 0x40
#define NA_FLAG_OVERRIDE 0x20

enum neigh_state {
    NEIGH_S_INCOMPLETE,
    NEIGH_S_REACHABLE,
    NEIGH_S_STALE,
    NEIGH_S_STATIC,
};

struct neigh_entry {
    struct hmap_node node; /* In neigh_table.entries, by hash of 'ip'. */
    uint8_t ip[16];
    uint8_t mac[6];
    bool has_mac;
    bool is_static;
    uint64_t confirmed_ms; /* Last confirmation (or creation, while incomplete). */
    uint64_t request_ms;   /* Last request sent (valid if 'requested'). */
    bool requested;        /* A request went out since the last confirmation. */
    uint32_t requests;     /* Requests sent for it in all. */
};

struct neigh_stats {
    uint64_t requests_sent;
    uint64_t replies_sent;
    uint64_t learned;
    uint64_t malformed;
    uint64_t ignored;
};

struct neigh_table {
    pthread_mutex_t mutex;
    bool ipv6;
    uint8_t local_ip[16];
    uint8_t local_mac[6];
    unsigned int prefix_len;
    bool has_gateway;
    uint8_t gateway[16];
    uint32_t reachable_ms;
    uint32_t stale_ms;
    uint32_t retry_ms;
    size_t max_entries;
    uint64_t (*now_ms)(void);
    struct hmap entries;
    struct neigh_stats stats;
};

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static bool
is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

static bool
mac_is_unicast(const uint8_t mac[6])
{
    return !(mac[0] & 1) && !is_zero(mac, 6);
}

static size_t
ip_len(const struct neigh_table *t)
{
    return t->ipv6 ? 16 : 4;
}

static int
ip_parse(const char *text, uint8_t ip[16], bool *ipv6)
{
    uint8_t buf[16] = {0};
    if (!text) {
        return -EINVAL;
    }
    if (inet_pton(AF_INET, text, buf) == 1) {
        *ipv6 = false;
    } else if (inet_pton(AF_INET6, text, buf) == 1) {
        *ipv6 = true;
    } else {
        return -EINVAL;
    }
    memcpy(ip, buf, 16);
    return 0;
}

static void
ip_format(const uint8_t ip[16], bool ipv6, char buf[INET6_ADDRSTRLEN])
{
    inet_ntop(ipv6 ? AF_INET6 : AF_INET, ip, buf, INET6_ADDRSTRLEN);
}

static void
mac_format(const uint8_t mac[6], char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
             mac[4], mac[5]);
}

/* Whether 'ip' is a usable neighbour address: not unspecified, not multicast or
 * broadcast. */
static bool
ip_is_unicast(const struct neigh_table *t, const uint8_t ip[16])
{
    if (is_zero(ip, ip_len(t))) {
        return false;
    }
    if (t->ipv6) {
        return ip[0] != 0xff;
    }
    return (ip[0] & 0xf0) != 0xe0 &&
           !(ip[0] == 0xff && ip[1] == 0xff && ip[2] == 0xff && ip[3] == 0xff);
}

static bool
in_subnet(const struct neigh_table *t, const uint8_t ip[16])
{
    unsigned int bits = t->prefix_len;
    size_t bytes = bits / 8;
    if (memcmp(ip, t->local_ip, bytes)) {
        return false;
    }
    if (bits % 8) {
        uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));
        return !((ip[bytes] ^ t->local_ip[bytes]) & mask);
    }
    return true;
}

static bool
is_local(const struct neigh_table *t, const uint8_t ip[16])
{
    return !memcmp(ip, t->local_ip, ip_len(t));
}

static uint64_t
now_ms(const struct neigh_table *t)
{
    return t->now_ms ? t->now_ms() : time_msec();
}

static uint64_t
age_of(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

/* ---- Entries. ---- */

static uint32_t
ip_hash(const uint8_t ip[16])
{
    return hash_bytes(ip, 16, 0);
}

static struct neigh_entry *
entry_find(const struct neigh_table *t, const uint8_t ip[16])
{
    struct neigh_entry *e;
    HMAP_FOR_EACH_WITH_HASH (e, node, ip_hash(ip), &t->entries) {
        if (!memcmp(e->ip, ip, 16)) {
            return e;
        }
    }
    return NULL;
}

static enum neigh_state
entry_state(const struct neigh_table *t, const struct neigh_entry *e, uint64_t now)
{
    if (e->is_static) {
        return NEIGH_S_STATIC;
    }
    if (!e->has_mac) {
        return NEIGH_S_INCOMPLETE;
    }
    uint64_t age = age_of(now, e->confirmed_ms);
    if (age < t->reachable_ms) {
        return NEIGH_S_REACHABLE;
    }
    if (age < (uint64_t)t->reachable_ms + t->stale_ms) {
        return NEIGH_S_STALE;
    }
    return NEIGH_S_INCOMPLETE; /* Expired: its MAC is no longer used. */
}

/* Whether 'e' is of no more use: a learned entry past reachable + stale, or an
 * incomplete one nobody asked for in max(stale, retry) ms. */
static bool
entry_is_dead(const struct neigh_table *t, const struct neigh_entry *e, uint64_t now)
{
    if (e->is_static) {
        return false;
    }
    if (e->has_mac) {
        return entry_state(t, e, now) == NEIGH_S_INCOMPLETE;
    }
    uint64_t idle = MAX(t->stale_ms, t->retry_ms);
    return age_of(now, e->requested ? e->request_ms : e->confirmed_ms) >= idle;
}

static void
entry_remove(struct neigh_table *t, struct neigh_entry *e)
{
    hmap_remove(&t->entries, &e->node);
    free(e);
}

/* Makes room for one more entry if the table is full: removes a dead entry, else the
 * incomplete entry whose last request is oldest (if it is older than retry_ms).
 * Returns 0 or -ENOSPC. */
static int
make_room(struct neigh_table *t, uint64_t now)
{
    if (hmap_count(&t->entries) < t->max_entries) {
        return 0;
    }
    struct neigh_entry *e, *victim = NULL;
    HMAP_FOR_EACH (e, node, &t->entries) {
        if (entry_is_dead(t, e, now)) {
            victim = e;
            break;
        }
        if (!e->is_static && entry_state(t, e, now) == NEIGH_S_INCOMPLETE &&
            age_of(now, e->request_ms) >= t->retry_ms &&
            (!victim || e->request_ms < victim->request_ms)) {
            victim = e;
        }
    }
    if (!victim) {
        return -ENOSPC;
    }
    entry_remove(t, victim);
    return 0;
}

static struct neigh_entry *
entry_create(struct neigh_table *t, const uint8_t ip[16], uint64_t now)
{
    if (make_room(t, now)) {
        return NULL;
    }
    struct neigh_entry *e = calloc(1, sizeof *e);
    if (!e) {
        return NULL;
    }
    memcpy(e->ip, ip, 16);
    e->confirmed_ms = now;
    hmap_insert(&t->entries, &e->node, ip_hash(ip));
    return e;
}

/* Records that 'ip' is at 'mac' now.  'create': add an entry if there is none. */
static void
learn(struct neigh_table *t, const uint8_t ip[16], const uint8_t mac[6], bool create,
      uint64_t now)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(5, 20);
    uint8_t key[16] = {0};

    memcpy(key, ip, ip_len(t));
    if (!ip_is_unicast(t, key) || !mac_is_unicast(mac)) {
        return;
    }
    if (is_local(t, key)) {
        char s[INET6_ADDRSTRLEN], m[18];
        ip_format(key, t->ipv6, s);
        mac_format(mac, m);
        OLOG_WARN_RL(&rl, "%s (the local encap IP) claimed by %s", s, m);
        return;
    }
    struct neigh_entry *e = entry_find(t, key);
    if (!e) {
        if (!create) {
            return;
        }
        e = entry_create(t, key, now);
        if (!e) {
            char s[INET6_ADDRSTRLEN];
            ip_format(key, t->ipv6, s);
            OLOG_WARN_RL(&rl, "neighbour table full (%zu entries): %s not learned",
                         t->max_entries, s);
            return;
        }
    }
    if (e->is_static) {
        return;
    }
    if (!e->has_mac || memcmp(e->mac, mac, 6)) {
        t->stats.learned++;
    }
    memcpy(e->mac, mac, 6);
    e->has_mac = true;
    e->confirmed_ms = now;
    e->requested = false;
}

/* ---- Building frames. ---- */

/* Ethernet header at 'p'. */
static void
eth_put(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(p, dst, 6);
    memcpy(p + 6, src, 6);
    put16(p + 12, type);
}

/* An ARP packet (Ethernet/IPv4) of operation 'op' at 'p', padded to the Ethernet
 * minimum.  Returns the frame length. */
static size_t
arp_put(uint8_t *p, const uint8_t eth_dst[6], const uint8_t src_mac[6], uint16_t op,
        const uint8_t sha[6], const uint8_t spa[4], const uint8_t tha[6],
        const uint8_t tpa[4])
{
    memset(p, 0, ETH_MIN_FRAME);
    eth_put(p, eth_dst, src_mac, ETH_TYPE_ARP);
    uint8_t *a = p + ETH_LEN;
    put16(a, 1);
    put16(a + 2, ETH_TYPE_IP);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, op);
    memcpy(a + 8, sha, 6);
    memcpy(a + 14, spa, 4);
    memcpy(a + 18, tha, 6);
    memcpy(a + 24, tpa, 4);
    return ETH_MIN_FRAME;
}

/* An NS or NA with one link-layer address option at 'p'.  Returns its length. */
static size_t
nd_put(uint8_t *p, const uint8_t eth_dst[6], const uint8_t eth_src[6],
       const uint8_t ip_src[16], const uint8_t ip_dst[16], uint8_t type, uint8_t flags,
       const uint8_t target[16], const uint8_t ll[6])
{
    eth_put(p, eth_dst, eth_src, ETH_TYPE_IPV6);
    uint8_t *l3 = p + ETH_LEN;
    memset(l3, 0, IP6_LEN + ND_LEN);
    l3[0] = 0x60;
    put16(l3 + 4, ND_LEN);
    l3[6] = 58;
    l3[7] = 255;
    memcpy(l3 + 8, ip_src, 16);
    memcpy(l3 + 24, ip_dst, 16);
    uint8_t *l4 = l3 + IP6_LEN;
    l4[0] = type;
    l4[4] = flags;
    memcpy(l4 + 8, target, 16);
    l4[24] = type == ICMP6_NS ? ND_OPT_SLL : ND_OPT_TLL;
    l4[25] = 1;
    memcpy(l4 + 26, ll, 6);

    uint8_t pseudo[40] = {0};
    memcpy(pseudo, ip_src, 16);
    memcpy(pseudo + 16, ip_dst, 16);
    pseudo[35] = ND_LEN;
    pseudo[39] = 58;
    uint32_t sum = (uint16_t)~ctrl_csum(pseudo, sizeof pseudo, 0);
    put16(l4 + 2, ctrl_csum(l4, ND_LEN, sum));
    return ETH_LEN + IP6_LEN + ND_LEN;
}

static size_t
request_len(const struct neigh_table *t)
{
    return t->ipv6 ? ETH_LEN + IP6_LEN + ND_LEN : ETH_MIN_FRAME;
}

/* Builds the request for 'e' into 'req': broadcast ARP or an NS to the solicited-node
 * group while it has no MAC; unicast to its MAC (and, for NS, its IP) to refresh a
 * stale one.  Returns the length. */
static size_t
request_build(struct neigh_table *t, struct neigh_entry *e, uint8_t *req, uint64_t now)
{
    size_t n;
    bool unicast = e->has_mac;

    if (!t->ipv6) {
        static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        static const uint8_t zero[6] = {0};
        n = arp_put(req, unicast ? e->mac : bcast, t->local_mac, 1, t->local_mac,
                    t->local_ip, zero, e->ip);
    } else {
        uint8_t dst_ip[16] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
        uint8_t dst_mac[6] = {0x33, 0x33, 0xff};
        if (unicast) {
            memcpy(dst_ip, e->ip, 16);
            memcpy(dst_mac, e->mac, 6);
        } else {
            memcpy(dst_ip + 13, e->ip + 13, 3);
            memcpy(dst_mac + 3, e->ip + 13, 3);
        }
        n = nd_put(req, dst_mac, t->local_mac, t->local_ip, dst_ip, ICMP6_NS, 0, e->ip,
                   t->local_mac);
    }
    e->requested = true;
    e->request_ms = now;
    e->requests++;
    t->stats.requests_sent++;
    return n;
}

/* ---- Creation. ---- */

int
neigh_create(const struct neigh_config *config, struct neigh_table **tablep)
{
    uint8_t local[16], gw[16] = {0};
    bool v6, gw_v6;

    if (!config || !tablep || ip_parse(config->local_ip, local, &v6)) {
        return -EINVAL;
    }
    if (config->prefix_len > (v6 ? 128u : 32u) || !mac_is_unicast(config->local_mac)) {
        return -EINVAL;
    }

    struct neigh_table *t = calloc(1, sizeof *t);
    if (!t) {
        return -ENOMEM;
    }
    t->ipv6 = v6;
    memcpy(t->local_ip, local, 16);
    memcpy(t->local_mac, config->local_mac, 6);
    t->prefix_len = config->prefix_len ? config->prefix_len : (v6 ? 64 : 24);
    t->reachable_ms = config->reachable_ms ? config->reachable_ms : 300000;
    t->stale_ms = config->stale_ms ? config->stale_ms : 60000;
    t->retry_ms = config->retry_ms ? config->retry_ms : 1000;
    t->max_entries = config->max_entries ? config->max_entries : 4096;
    t->now_ms = config->now_ms;
    if (!ip_is_unicast(t, local)) {
        free(t);
        return -EINVAL;
    }
    if (config->gateway) {
        if (ip_parse(config->gateway, gw, &gw_v6) || gw_v6 != v6 ||
            !ip_is_unicast(t, gw) || !in_subnet(t, gw) || is_local(t, gw)) {
            free(t);
            return -EINVAL;
        }
        t->has_gateway = true;
        memcpy(t->gateway, gw, 16);
    }
    hmap_init(&t->entries);
    if (pthread_mutex_init(&t->mutex, NULL)) {
        hmap_destroy(&t->entries);
        free(t);
        return -ENOMEM;
    }
    *tablep = t;
    return 0;
}

void
neigh_destroy(struct neigh_table *t)
{
    if (!t) {
        return;
    }
    struct neigh_entry *e, *next;
    HMAP_FOR_EACH_SAFE (e, next, node, &t->entries) {
        entry_remove(t, e);
    }
    hmap_destroy(&t->entries);
    pthread_mutex_destroy(&t->mutex);
    free(t);
}

/* ---- Lookup. ---- */

int
neigh_lookup(struct neigh_table *t, const uint8_t ip[16], bool ipv6, uint8_t mac[6],
             uint8_t *req, size_t size, size_t *req_len)
{
    uint8_t key[16] = {0};
    int result;

    if (!t || !ip || !mac || !req || !req_len || ipv6 != t->ipv6) {
        return -EINVAL;
    }
    memcpy(key, ip, ip_len(t));
    if (!ip_is_unicast(t, key) || is_local(t, key)) {
        return -EINVAL;
    }
    if (size < request_len(t)) {
        return -ENOSPC;
    }
    if (t->has_gateway && !in_subnet(t, key)) {
        memcpy(key, t->gateway, 16);
    }

    pthread_mutex_lock(&t->mutex);
    uint64_t now = now_ms(t);
    struct neigh_entry *e = entry_find(t, key);
    if (!e) {
        e = entry_create(t, key, now);
        if (!e) {
            result = -ENOSPC;
            goto out;
        }
    }

    switch (entry_state(t, e, now)) {
    case NEIGH_S_STATIC:
    case NEIGH_S_REACHABLE:
        memcpy(mac, e->mac, 6);
        *req_len = 0;
        result = NEIGH_FOUND;
        break;
    case NEIGH_S_STALE:
        /* Still usable; refresh it, once per retry_ms. */
        memcpy(mac, e->mac, 6);
        if (!e->requested || age_of(now, e->request_ms) >= t->retry_ms) {
            *req_len = request_build(t, e, req, now);
        } else {
            *req_len = 0;
        }
        result = NEIGH_FOUND;
        break;
    case NEIGH_S_INCOMPLETE:
    default:
        if (e->has_mac) {
            /* Expired: forget the MAC and start over. */
            e->has_mac = false;
            e->requested = false;
        }
        if (e->requested && age_of(now, e->request_ms) < t->retry_ms) {
            result = NEIGH_PENDING;
        } else {
            *req_len = request_build(t, e, req, now);
            result = NEIGH_REQUEST;
        }
        break;
    }

out:
    pthread_mutex_unlock(&t->mutex);
    return result;
}

/* ---- Input. ---- */

static int
malformed(struct neigh_table *t, const char *why)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(5, 20);
    t->stats.malformed++;
    OLOG_WARN_RL(&rl, "malformed frame on the uplink: %s", why);
    return -EINVAL;
}

static int
arp_input(struct neigh_table *t, const uint8_t *pkt, const struct packet_layout *lay,
          uint8_t *reply, size_t size, size_t *reply_len, uint64_t now)
{
    if (lay->l3 == PACKET_OFS_NONE || lay->end - lay->l3 < ARP_LEN) {
        return malformed(t, "truncated ARP");
    }
    const uint8_t *a = pkt + lay->l3;
    if (get16(a) != 1 || get16(a + 2) != ETH_TYPE_IP || a[4] != 6 || a[5] != 4) {
        return malformed(t, "ARP not for Ethernet and IPv4");
    }
    uint16_t op = get16(a + 6);
    if (op != 1 && op != 2) {
        return malformed(t, "ARP operation not request or reply");
    }
    const uint8_t *sha = a + 8, *spa = a + 14, *tpa = a + 24;
    if (!mac_is_unicast(sha)) {
        return malformed(t, "ARP sender hardware address not unicast");
    }
    if (t->ipv6) {
        t->stats.ignored++;
        return 0;
    }

    bool for_us = !memcmp(tpa, t->local_ip, 4);
    bool gratuitous = !memcmp(spa, tpa, 4);
    bool answer = op == 1 && for_us;
    size_t l2_len = lay->l3 - lay->l2;
    if (answer && size < MAX(l2_len + ARP_LEN, (size_t)ETH_MIN_FRAME)) {
        return -ENOSPC;
    }

    /* A reply to us or a request for us creates an entry for the sender; an
     * announcement only refreshes an entry that exists. */
    if (!is_zero(spa, 4) && (for_us || gratuitous)) {
        learn(t, spa, sha, for_us && !gratuitous, now);
    } else {
        t->stats.ignored += !answer;
    }
    if (!answer) {
        return 0;
    }

    /* Reply with the request's own L2 header (its VLAN tag, if any). */
    size_t n = arp_put(reply, pkt + lay->l2 + 6, t->local_mac, 2, t->local_mac,
                       t->local_ip, sha, spa);
    if (l2_len != ETH_LEN) {
        memmove(reply + l2_len, reply + ETH_LEN, ARP_LEN);
        memcpy(reply + 12, pkt + lay->l2 + 12, l2_len - 12);
        put16(reply + l2_len - 2, ETH_TYPE_ARP);
        n = MAX(l2_len + ARP_LEN, (size_t)ETH_MIN_FRAME);
        memset(reply + l2_len + ARP_LEN, 0, n - (l2_len + ARP_LEN));
    }
    *reply_len = n;
    t->stats.replies_sent++;
    return 1;
}

/* Checks the ICMPv6 checksum of the message at 'l4' ('len' bytes) under the IPv6
 * header 'l3'. */
static bool
icmp6_csum_ok(const uint8_t *l3, const uint8_t *l4, size_t len)
{
    uint8_t pseudo[40] = {0};
    memcpy(pseudo, l3 + 8, 32);
    pseudo[32] = (uint8_t)(len >> 24);
    pseudo[33] = (uint8_t)(len >> 16);
    pseudo[34] = (uint8_t)(len >> 8);
    pseudo[35] = (uint8_t)len;
    pseudo[39] = 58;
    uint32_t sum = (uint16_t)~ctrl_csum(pseudo, sizeof pseudo, 0);
    return ctrl_csum(l4, len, sum) == 0;
}

static int
nd_input(struct neigh_table *t, const uint8_t *pkt, const struct packet_layout *lay,
         const struct pkey_fields *f, uint8_t *reply, size_t size, size_t *reply_len,
         uint64_t now)
{
    static const uint8_t zero_mac[6] = {0};
    const uint8_t *l3 = pkt + lay->l3;
    const uint8_t *l4 = pkt + lay->l4;
    size_t len = lay->end - lay->l4;
    uint8_t type = f->icmp6_type;

    /* RFC 4861 7.1.1 and 7.1.2. */
    if (f->ip_ttl != 255) {
        return malformed(t, "neighbour discovery with hop limit below 255");
    }
    if (f->icmp6_code != 0) {
        return malformed(t, "neighbour discovery with code not 0");
    }
    if (len < 24) {
        return malformed(t, "truncated neighbour discovery");
    }
    if (!icmp6_csum_ok(l3, l4, len)) {
        return malformed(t, "bad ICMPv6 checksum");
    }
    if (f->nd_target[0] == 0xff) {
        return malformed(t, "multicast neighbour discovery target");
    }
    bool src_unspec = is_zero(f->ip6_src, 16);
    bool has_sll = memcmp(f->nd_sll, zero_mac, 6);
    bool has_tll = memcmp(f->nd_tll, zero_mac, 6);
    bool dst_mcast = f->ip6_dst[0] == 0xff;

    if (!t->ipv6) {
        t->stats.ignored++;
        return 0;
    }

    if (type == ICMP6_NA) {
        uint8_t flags = l4[4];
        if (dst_mcast && flags & NA_FLAG_SOLICITED) {
            return malformed(t, "solicited neighbour advertisement to a multicast group");
        }
        if (!has_tll) {
            t->stats.ignored++;
            return 0;
        }
        /* A solicited NA to us creates an entry; an unsolicited one refreshes. */
        bool create = (flags & NA_FLAG_SOLICITED) && !memcmp(f->ip6_dst, t->local_ip, 16);
        learn(t, f->nd_target, f->nd_tll, create, now);
        return 0;
    }

    /* Neighbour solicitation. */
    if (src_unspec && (has_sll || !dst_mcast)) {
        return malformed(t, "duplicate address detection NS with a source address "
                            "option or to unicast");
    }
    if (memcmp(f->nd_target, t->local_ip, 16)) {
        t->stats.ignored++;
        return 0;
    }
    size_t l2_len = lay->l3 - lay->l2;
    if (size < l2_len + IP6_LEN + ND_LEN) {
        return -ENOSPC;
    }
    if (!src_unspec && has_sll) {
        learn(t, f->ip6_src, f->nd_sll, true, now);
    }

    uint8_t dst_ip[16], dst_mac[6];
    uint8_t flags = NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE;
    if (src_unspec) {
        /* Someone's duplicate address detection: defend to all nodes. */
        static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 0x01};
        static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
        memcpy(dst_ip, all_nodes, 16);
        memcpy(dst_mac, all_nodes_mac, 6);
        flags = NA_FLAG_OVERRIDE;
    } else {
        memcpy(dst_ip, f->ip6_src, 16);
        memcpy(dst_mac, has_sll ? f->nd_sll : f->eth_src, 6);
    }
    size_t n = nd_put(reply, dst_mac, t->local_mac, t->local_ip, dst_ip, ICMP6_NA, flags,
                      t->local_ip, t->local_mac);
    if (l2_len != ETH_LEN) {
        memmove(reply + l2_len, reply + ETH_LEN, n - ETH_LEN);
        memcpy(reply + 12, pkt + lay->l2 + 12, l2_len - 12);
        put16(reply + l2_len - 2, ETH_TYPE_IPV6);
        n += l2_len - ETH_LEN;
    }
    *reply_len = n;
    t->stats.replies_sent++;
    return 1;
}

int
neigh_input(struct neigh_table *t, const uint8_t *pkt, size_t len, uint8_t *reply,
            size_t size, size_t *reply_len)
{
    struct pkey key;
    struct packet_layout lay;
    enum packet_drop_reason reason;
    int error;

    if (!t || (!pkt && len) || !reply || !reply_len) {
        return -EINVAL;
    }
    pthread_mutex_lock(&t->mutex);
    uint64_t now = now_ms(t);
    if (packet_parse(pkt, len, 0, &key, &lay, &reason, NULL)) {
        error = malformed(t, packet_drop_reason_name(reason));
        goto out;
    }
    const struct pkey_fields *f = &key.f;
    uint16_t eth_type = ntohs(f->eth_type);
    if (eth_type == ETH_TYPE_ARP) {
        error = arp_input(t, pkt, &lay, reply, size, reply_len, now);
    } else if (eth_type == ETH_TYPE_IPV6 && lay.l4 != PACKET_OFS_NONE &&
               f->ip_proto == 58 && !(f->ip_frag & PKEY_FRAG_ANY) &&
               (f->icmp6_type == ICMP6_NS || f->icmp6_type == ICMP6_NA)) {
        error = nd_input(t, pkt, &lay, f, reply, size, reply_len, now);
    } else {
        t->stats.ignored++;
        error = 0;
    }
out:
    pthread_mutex_unlock(&t->mutex);
    return error;
}

/* ---- Static entries, flush, expiry. ---- */

int
neigh_add_static(struct neigh_table *t, const char *ip_s, const uint8_t mac[6])
{
    uint8_t ip[16];
    bool v6;
    int error = 0;

    if (!t || !mac || ip_parse(ip_s, ip, &v6) || v6 != t->ipv6 || !ip_is_unicast(t, ip) ||
        is_local(t, ip) || !mac_is_unicast(mac)) {
        return -EINVAL;
    }
    pthread_mutex_lock(&t->mutex);
    uint64_t now = now_ms(t);
    struct neigh_entry *e = entry_find(t, ip);
    if (!e) {
        e = entry_create(t, ip, now);
        if (!e) {
            error = -ENOSPC;
            goto out;
        }
    }
    e->is_static = true;
    e->has_mac = true;
    memcpy(e->mac, mac, 6);
    e->confirmed_ms = now;
    e->requested = false;
out:
    pthread_mutex_unlock(&t->mutex);
    return error;
}

size_t
neigh_flush(struct neigh_table *t)
{
    size_t n = 0;
    if (!t) {
        return 0;
    }
    pthread_mutex_lock(&t->mutex);
    struct neigh_entry *e, *next;
    HMAP_FOR_EACH_SAFE (e, next, node, &t->entries) {
        if (!e->is_static) {
            entry_remove(t, e);
            n++;
        }
    }
    pthread_mutex_unlock(&t->mutex);
    return n;
}

size_t
neigh_expire(struct neigh_table *t)
{
    size_t n = 0;
    if (!t) {
        return 0;
    }
    pthread_mutex_lock(&t->mutex);
    uint64_t now = now_ms(t);
    struct neigh_entry *e, *next;
    HMAP_FOR_EACH_SAFE (e, next, node, &t->entries) {
        if (entry_is_dead(t, e, now)) {
            entry_remove(t, e);
            n++;
        }
    }
    pthread_mutex_unlock(&t->mutex);
    return n;
}

/* ---- JSON. ---- */

static int
entry_cmp(const void *a_, const void *b_)
{
    const struct neigh_entry *const *a = a_, *const *b = b_;
    return memcmp((*a)->ip, (*b)->ip, 16);
}

static const char *
state_name(enum neigh_state s)
{
    switch (s) {
    case NEIGH_S_REACHABLE:
        return "reachable";
    case NEIGH_S_STALE:
        return "stale";
    case NEIGH_S_STATIC:
        return "static";
    case NEIGH_S_INCOMPLETE:
    default:
        return "incomplete";
    }
}

static json_t *
entry_json(const struct neigh_table *t, const struct neigh_entry *e, uint64_t now)
{
    char ip[INET6_ADDRSTRLEN], mac[18];
    enum neigh_state s = entry_state(t, e, now);

    ip_format(e->ip, t->ipv6, ip);
    mac_format(e->mac, mac);
    return json_pack("{s:s,s:o,s:s,s:I,s:I}", "ip", ip, "mac",
                     s == NEIGH_S_INCOMPLETE ? json_null() : json_string(mac), "state",
                     state_name(s), "age_ms", (json_int_t)age_of(now, e->confirmed_ms),
                     "requests", (json_int_t)e->requests);
}

json_t *
neigh_dump_json(const struct neigh_table *table)
{
    /* The lock is the one thing a reader changes. */
    struct neigh_table *t = (struct neigh_table *)table;
    json_t *root = NULL, *entries = NULL;
    const struct neigh_entry **sorted = NULL;
    char ip[INET6_ADDRSTRLEN], mac[18];

    if (!t) {
        return NULL;
    }
    pthread_mutex_lock(&t->mutex);
    uint64_t now = now_ms(t);
    size_t n = hmap_count(&t->entries);
    sorted = malloc(MAX(n, (size_t)1) * sizeof *sorted);
    entries = json_array();
    if (!sorted || !entries) {
        goto err;
    }
    size_t i = 0;
    const struct neigh_entry *e;
    HMAP_FOR_EACH (e, node, &t->entries) {
        sorted[i++] = e;
    }
    qsort(sorted, n, sizeof *sorted, entry_cmp);
    for (i = 0; i < n; i++) {
        json_t *j = entry_json(t, sorted[i], now);
        if (!j || json_array_append_new(entries, j)) {
            goto err;
        }
    }

    ip_format(t->local_ip, t->ipv6, ip);
    mac_format(t->local_mac, mac);
    json_t *gw = json_null();
    if (t->has_gateway) {
        char g[INET6_ADDRSTRLEN];
        ip_format(t->gateway, t->ipv6, g);
        gw = json_string(g);
    }
    root = json_pack("{s:s,s:s,s:o,s:o,s:{s:I,s:I,s:I,s:I,s:I}}", "local_ip", ip,
                     "local_mac", mac, "gateway", gw, "entries", entries, "stats",
                     "requests_sent", (json_int_t)t->stats.requests_sent, "replies_sent",
                     (json_int_t)t->stats.replies_sent, "learned",
                     (json_int_t)t->stats.learned, "malformed",
                     (json_int_t)t->stats.malformed, "ignored",
                     (json_int_t)t->stats.ignored);
    entries = NULL; /* json_pack() took it, even on failure. */
err:
    pthread_mutex_unlock(&t->mutex);
    json_decref(entries);
    free(sorted);
    return root;
}
