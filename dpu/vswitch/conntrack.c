/* ovnic: the vswitch's connection tracker (see conntrack.h, docs/conntrack.md). */
#include "dpu/vswitch/conntrack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/hash.h"
#include "shared/util/hmap.h"
#include "shared/util/list.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(conntrack);

#define CT_DEFAULT_MAX_CONNS 262144
#define CT_LIMIT_MAX_CONNS (1u << 26)

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMP6 58
#define PROTO_SCTP 132

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define TCP_MAX_ACK_WINDOW 66000 /* Slack for ACKs below what the peer sent. */
#define TCP_WSCALE_NONE 0xff

/* The connection's key in one direction: addresses (IPv4 in the first 4 bytes, the
 * rest zero), ports in host order (ICMP echo: 'sport' the identifier, 'dport' the
 * message type), zone, protocol, family.  No padding: hashed and compared as bytes. */
struct ct_tuple {
    uint8_t src[16];
    uint8_t dst[16];
    uint16_t sport;
    uint16_t dport;
    uint16_t zone;
    uint8_t proto;
    uint8_t ipv6;
};
_Static_assert(sizeof(struct ct_tuple) == 40, "ct_tuple has no padding");

enum ct_dir { CT_DIR_ORIG, CT_DIR_REPLY };

enum ct_tcp_state {
    TCPS_NONE,
    TCPS_SYN_SENT,
    TCPS_SYN_RECV,
    TCPS_ESTABLISHED,
    TCPS_FIN_WAIT,
    TCPS_CLOSE_WAIT,
    TCPS_LAST_ACK,
    TCPS_TIME_WAIT,
    TCPS_CLOSED,
};

static const char *const tcp_state_names[] = {
    [TCPS_NONE] = "NONE",         [TCPS_SYN_SENT] = "SYN_SENT",
    [TCPS_SYN_RECV] = "SYN_RECV", [TCPS_ESTABLISHED] = "ESTABLISHED",
    [TCPS_FIN_WAIT] = "FIN_WAIT", [TCPS_CLOSE_WAIT] = "CLOSE_WAIT",
    [TCPS_LAST_ACK] = "LAST_ACK", [TCPS_TIME_WAIT] = "TIME_WAIT",
    [TCPS_CLOSED] = "CLOSED",
};

/* Timeout classes: one expiry list each, kept in expiry order (every member of a
 * list has the same timeout, so refreshing moves a connection to the tail). */
enum ct_tmo {
    TMO_TCP_SYN,
    TMO_TCP_EST,
    TMO_TCP_FIN,
    TMO_TCP_CLOSED,
    TMO_UDP_FIRST,
    TMO_UDP_EST,
    TMO_ICMP,
    TMO_OTHER,
    N_TMO
};

/* One direction of a TCP connection, as its sender. */
struct ct_peer {
    uint32_t end;    /* Highest sequence sent, plus length. */
    uint32_t maxend; /* Highest sequence the other side allows (its ack + window). */
    uint32_t maxwin; /* Largest window announced (scaled). */
    uint32_t fin_end;
    uint8_t wscale; /* Shift, or TCP_WSCALE_NONE before the handshake decides. */
    bool seen;      /* A segment in this direction was tracked with its bytes. */
    bool fin;       /* Sent a FIN... */
    bool fin_acked; /* ...that the other side acknowledged. */
};

struct ct_entry {
    struct hmap_node node;
    struct ct_tuple tuple;
    uint8_t dir; /* enum ct_dir: which of its connection's two entries. */
};

#define CONN_NAT_SRC 0x01
#define CONN_NAT_DST 0x02

struct ct_conn {
    struct ct_entry key[2]; /* [CT_DIR_ORIG], [CT_DIR_REPLY]. */
    struct ovnic_list exp_node;
    uint64_t expires;
    uint32_t mark;
    lex_u128 label;
    uint8_t tmo;       /* enum ct_tmo. */
    uint8_t tcp_state; /* enum ct_tcp_state. */
    uint8_t nat;       /* CONN_NAT_*. */
    bool seen_reply;
    bool liberal; /* Picked up mid-stream: no window checks. */
    struct ct_peer peer[2];
};

struct conntrack {
    pthread_mutex_t mutex;
    struct hmap table; /* struct ct_entry, both directions. */
    struct ovnic_list exp[N_TMO];
    size_t max_conns;
    uint32_t tmo_ms[N_TMO];
    bool tcp_liberal;
    uint64_t (*now_ms)(void);
    struct conntrack_stats stats;
    uint32_t basis; /* Of the table's hash: differs between instances. */

    /* The packet the datapath thread is working on (conntrack_set_packet()). */
    const uint8_t *pkt;
    size_t pkt_len;
    struct packet_layout lo;
    bool inner_parsed;          /* The quoted header of an ICMP error was looked at... */
    bool inner_ok;              /* ...and is usable. */
    struct ct_tuple inner_orig; /* As in the frame. */
    struct ct_tuple inner_cur;  /* As the operations so far translated it. */
    uint32_t inner_l3, inner_l4, inner_end;
};

/* ---- Byte, sequence and protocol utilities. ---- */

static uint64_t
ct_now(const struct conntrack *ct)
{
    return ct->now_ms ? ct->now_ms() : time_msec();
}

static void
ct_lock(const struct conntrack *ct)
{
    pthread_mutex_lock(&((struct conntrack *)ct)->mutex);
}

static void
ct_unlock(const struct conntrack *ct)
{
    pthread_mutex_unlock(&((struct conntrack *)ct)->mutex);
}

static uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static bool
seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static bool
seq_gt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

static bool
proto_has_ports(uint8_t proto)
{
    return proto == PROTO_TCP || proto == PROTO_UDP || proto == PROTO_SCTP;
}

static bool
icmp_is_echo(bool ipv6, uint8_t type)
{
    return ipv6 ? type == 128 || type == 129 : type == 8 || type == 0;
}

static bool
icmp_is_echo_request(bool ipv6, uint8_t type)
{
    return ipv6 ? type == 128 : type == 8;
}

static uint8_t
icmp_echo_peer(bool ipv6, uint8_t type)
{
    if (ipv6) {
        return type == 128 ? 129 : 128;
    }
    return type == 8 ? 0 : 8;
}

static bool
icmp_is_error(bool ipv6, uint8_t type)
{
    if (ipv6) {
        return type >= 1 && type <= 4;
    }
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static uint32_t
tuple_hash(const struct conntrack *ct, const struct ct_tuple *t)
{
    return hash_bytes(t, sizeof *t, ct->basis);
}

static void
tuple_reverse(const struct ct_tuple *t, struct ct_tuple *r)
{
    *r = *t;
    memcpy(r->src, t->dst, 16);
    memcpy(r->dst, t->src, 16);
    if (proto_has_ports(t->proto)) {
        r->sport = t->dport;
        r->dport = t->sport;
    } else if ((t->proto == PROTO_ICMP || t->proto == PROTO_ICMP6) &&
               icmp_is_echo(t->ipv6, (uint8_t)t->dport)) {
        r->dport = icmp_echo_peer(t->ipv6, (uint8_t)t->dport);
    }
}

/* ---- The table. ---- */

static struct ct_entry *
table_find(const struct conntrack *ct, const struct ct_tuple *t)
{
    uint32_t hash = tuple_hash(ct, t);
    for (struct hmap_node *n = hmap_first_with_hash(&ct->table, hash); n;
         n = hmap_next_with_hash(n)) {
        struct ct_entry *e = CONTAINER_OF(n, struct ct_entry, node);
        if (!memcmp(&e->tuple, t, sizeof *t)) {
            return e;
        }
    }
    return NULL;
}

static struct ct_conn *
entry_conn(struct ct_entry *e)
{
    return e->dir == CT_DIR_ORIG ? CONTAINER_OF(e, struct ct_conn, key[0])
                                 : CONTAINER_OF(e, struct ct_conn, key[1]);
}

static void
conn_set_timeout(struct conntrack *ct, struct ct_conn *c, enum ct_tmo tmo, uint64_t now)
{
    c->tmo = (uint8_t)tmo;
    c->expires = now + ct->tmo_ms[tmo];
    ovnic_list_remove(&c->exp_node);
    ovnic_list_push_back(&ct->exp[tmo], &c->exp_node);
}

static void
conn_delete(struct conntrack *ct, struct ct_conn *c)
{
    hmap_remove(&ct->table, &c->key[CT_DIR_ORIG].node);
    hmap_remove(&ct->table, &c->key[CT_DIR_REPLY].node);
    ovnic_list_remove(&c->exp_node);
    ct->stats.n_conns--;
    free(c);
}

static bool
conn_is_expired(const struct ct_conn *c, uint64_t now)
{
    return c->expires <= now;
}

/* A connection with the original tuple 'orig' and reply tuple 'reply' (both free in
 * the table), or NULL when the table is full or memory runs out. */
static struct ct_conn *
conn_create(struct conntrack *ct, const struct ct_tuple *orig,
            const struct ct_tuple *reply)
{
    static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(6, 2);
    if (ct->stats.n_conns >= ct->max_conns) {
        ct->stats.n_full_drops++;
        OLOG_WARN_RL(&rl,
                     "connection table full (%zu connections): new connection "
                     "refused",
                     ct->max_conns);
        return NULL;
    }
    struct ct_conn *c = calloc(1, sizeof *c);
    if (!c) {
        return NULL;
    }
    c->key[CT_DIR_ORIG].tuple = *orig;
    c->key[CT_DIR_ORIG].dir = CT_DIR_ORIG;
    c->key[CT_DIR_REPLY].tuple = *reply;
    c->key[CT_DIR_REPLY].dir = CT_DIR_REPLY;

    struct ct_tuple rev;
    tuple_reverse(orig, &rev);
    if (memcmp(rev.dst, reply->dst, 16) || rev.dport != reply->dport) {
        c->nat |= CONN_NAT_SRC;
    }
    if (memcmp(rev.src, reply->src, 16) || rev.sport != reply->sport) {
        c->nat |= CONN_NAT_DST;
    }
    for (int i = 0; i < 2; i++) {
        c->peer[i].wscale = TCP_WSCALE_NONE;
    }
    ovnic_list_init(&c->exp_node);
    hmap_insert(&ct->table, &c->key[CT_DIR_ORIG].node, tuple_hash(ct, orig));
    hmap_insert(&ct->table, &c->key[CT_DIR_REPLY].node, tuple_hash(ct, reply));
    ct->stats.n_conns++;
    ct->stats.n_created++;
    return c;
}

/* Where a packet stands with respect to the table. */
struct ct_match {
    struct ct_conn *conn; /* NULL: none. */
    bool reply;           /* The packet travels in the reply direction. */
    bool translated;      /* Its header already has the connection's NAT applied. */
};

/* Finds the connection of the packet with tuple 't' (its current header).  A packet
 * whose header a NAT connection of this zone already translated is found through
 * the reverse of the other direction's tuple.  Expired connections found on the way
 * are removed. */
static void
ct_lookup(struct conntrack *ct, const struct ct_tuple *t, uint64_t now,
          struct ct_match *m)
{
    memset(m, 0, sizeof *m);
    for (int pass = 0; pass < 2; pass++) {
        struct ct_tuple rev;
        struct ct_entry *e;
        bool translated = false;

        e = table_find(ct, t);
        if (!e) {
            tuple_reverse(t, &rev);
            e = table_find(ct, &rev);
            if (e && !entry_conn(e)->nat) {
                e = NULL;
            }
            translated = true;
        }
        if (!e) {
            return;
        }
        struct ct_conn *c = entry_conn(e);
        if (conn_is_expired(c, now)) {
            conn_delete(ct, c);
            ct->stats.n_expired++;
            continue;
        }
        m->conn = c;
        m->translated = translated;
        m->reply = translated ? e->dir == CT_DIR_ORIG : e->dir == CT_DIR_REPLY;
        return;
    }
}

/* ---- Key <-> tuple. ---- */

enum pkt_kind {
    PKT_NORMAL,     /* Can start a connection. */
    PKT_NO_CREATE,  /* Belongs to a connection or is invalid (ICMP echo reply). */
    PKT_ICMP_ERROR, /* An ICMP/ICMPv6 error: related, or invalid. */
    PKT_INVALID,    /* Not trackable: not IP, a fragment. */
};

static bool
key_is_ipv6(const struct pkey *key)
{
    return ntohs(key->f.eth_type) == 0x86dd;
}

static void
key_port_fields(uint8_t proto, enum pkey_field_id *src, enum pkey_field_id *dst)
{
    switch (proto) {
    case PROTO_TCP:
        *src = PKEY_F_TCP_SRC;
        *dst = PKEY_F_TCP_DST;
        break;
    case PROTO_UDP:
        *src = PKEY_F_UDP_SRC;
        *dst = PKEY_F_UDP_DST;
        break;
    default:
        *src = PKEY_F_SCTP_SRC;
        *dst = PKEY_F_SCTP_DST;
        break;
    }
}

/* The ICMP echo identifier of the current packet, from its bytes (0 without). */
static uint16_t
pkt_icmp_id(const struct conntrack *ct)
{
    if (ct->pkt && ct->lo.l4 != PACKET_OFS_NONE && (size_t)ct->lo.l4 + 8 <= ct->pkt_len) {
        return rd16(ct->pkt + ct->lo.l4 + 4);
    }
    return 0;
}

static enum pkt_kind
key_to_tuple(const struct conntrack *ct, const struct pkey *key, uint16_t zone,
             struct ct_tuple *t)
{
    uint16_t eth_type = ntohs(key->f.eth_type);

    memset(t, 0, sizeof *t);
    t->zone = zone;
    if (eth_type == 0x0800) {
        memcpy(t->src, &key->f.ip4_src, 4);
        memcpy(t->dst, &key->f.ip4_dst, 4);
    } else if (eth_type == 0x86dd) {
        t->ipv6 = 1;
        memcpy(t->src, key->f.ip6_src, 16);
        memcpy(t->dst, key->f.ip6_dst, 16);
    } else {
        return PKT_INVALID;
    }
    if (key->f.ip_frag & PKEY_FRAG_ANY) {
        return PKT_INVALID;
    }
    t->proto = key->f.ip_proto;
    if (proto_has_ports(t->proto)) {
        enum pkey_field_id fs, fd;
        key_port_fields(t->proto, &fs, &fd);
        t->sport = (uint16_t)pkey_field_get(key, fs);
        t->dport = (uint16_t)pkey_field_get(key, fd);
    } else if (t->proto == (t->ipv6 ? PROTO_ICMP6 : PROTO_ICMP)) {
        uint8_t type = t->ipv6 ? key->f.icmp6_type : key->f.icmp4_type;
        if (icmp_is_error(t->ipv6, type)) {
            return PKT_ICMP_ERROR;
        }
        if (icmp_is_echo(t->ipv6, type)) {
            t->sport = pkt_icmp_id(ct);
            t->dport = type;
            return icmp_is_echo_request(t->ipv6, type) ? PKT_NORMAL : PKT_NO_CREATE;
        }
    }
    return PKT_NORMAL;
}

static void
u128_to_bytes(lex_u128 v, uint8_t *b, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        b[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* Writes address 'addr' (tuple form) into the key's source or destination. */
static bool
key_set_addr(struct pkey *key, bool ipv6, bool dst, const uint8_t addr[16])
{
    uint8_t *field = ipv6 ? (dst ? key->f.ip6_dst : key->f.ip6_src)
                          : (uint8_t *)(dst ? &key->f.ip4_dst : &key->f.ip4_src);
    size_t n = ipv6 ? 16 : 4;
    if (!memcmp(field, addr, n)) {
        return false;
    }
    memcpy(field, addr, n);
    return true;
}

static bool
key_set_port(struct pkey *key, uint8_t proto, bool dst, uint16_t port)
{
    enum pkey_field_id fs, fd;
    if (!proto_has_ports(proto)) {
        return false;
    }
    key_port_fields(proto, &fs, &fd);
    if ((uint16_t)pkey_field_get(key, dst ? fd : fs) == port) {
        return false;
    }
    pkey_field_set(key, dst ? fd : fs, port);
    return true;
}

/* Rewrites the key of a packet travelling in direction 'reply' so that it leaves
 * the connection's zone translated.  Returns CT_STATE_SNAT/DNAT for the side(s)
 * rewritten. */
static uint32_t
conn_nat_key(const struct ct_conn *c, bool reply, struct pkey *key)
{
    const struct ct_tuple *other = &c->key[reply ? CT_DIR_ORIG : CT_DIR_REPLY].tuple;
    bool ipv6 = other->ipv6;
    uint32_t state = 0;

    /* Both the address and the port are rewritten, whichever of them changes. */
    bool src_addr = key_set_addr(key, ipv6, false, other->dst);
    bool src_port = key_set_port(key, other->proto, false, other->dport);
    bool dst_addr = key_set_addr(key, ipv6, true, other->src);
    bool dst_port = key_set_port(key, other->proto, true, other->sport);

    if (src_addr || src_port) {
        state |= CT_STATE_SNAT;
    }
    if (dst_addr || dst_port) {
        state |= CT_STATE_DNAT;
    }
    return state;
}

static void
key_load_conn(struct pkey *key, const struct ct_conn *c)
{
    key->f.ct_mark = htonl(c ? c->mark : 0);
    pkey_field_set(key, PKEY_F_CT_LABEL, c ? c->label : 0);
}

/* ---- TCP. ---- */

/* A TCP segment's fields from the packet's bytes. */
struct tcp_seg {
    uint32_t seq, ack, len;
    uint16_t win;
    uint8_t wscale; /* TCP_WSCALE_NONE if the SYN had no window-scale option. */
};

static bool
tcp_seg_get(const struct conntrack *ct, struct tcp_seg *s)
{
    const struct packet_layout *lo = &ct->lo;
    if (!ct->pkt || lo->l4 == PACKET_OFS_NONE || lo->l7 == PACKET_OFS_NONE ||
        (size_t)lo->l4 + 20 > ct->pkt_len || lo->l7 < lo->l4 + 20 || lo->end < lo->l7 ||
        lo->end > ct->pkt_len) {
        return false;
    }
    const uint8_t *th = ct->pkt + lo->l4;
    s->seq = rd32(th + 4);
    s->ack = rd32(th + 8);
    s->win = rd16(th + 14);
    s->len = lo->end - lo->l7;
    s->wscale = TCP_WSCALE_NONE;
    for (uint32_t i = 20; i < lo->l7 - lo->l4;) {
        uint8_t kind = th[i];
        if (kind == 0) {
            break;
        }
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= lo->l7 - lo->l4 || th[i + 1] < 2) {
            break;
        }
        if (kind == 3 && th[i + 1] == 3 && i + 2 < lo->l7 - lo->l4) {
            s->wscale = MIN(th[i + 2], 14);
        }
        i += th[i + 1];
    }
    return true;
}

/* Sequence-window tracking of segment 's' from direction 'dir'.  Returns false when
 * the segment lies outside what the two sides announced. */
static bool
tcp_in_window(struct ct_conn *c, int dir, uint16_t flags, const struct tcp_seg *s,
              bool check)
{
    struct ct_peer *snd = &c->peer[dir];
    struct ct_peer *rcv = &c->peer[!dir];
    bool syn = flags & TCP_SYN;
    uint32_t end = s->seq + s->len + (syn ? 1 : 0) + ((flags & TCP_FIN) ? 1 : 0);
    uint32_t win = s->win;
    uint32_t ack = s->ack;

    if (syn) {
        if (!snd->seen) {
            snd->wscale = s->wscale;
            if ((flags & TCP_ACK) && !rcv->seen) {
                c->liberal = true; /* The handshake's SYN was not seen with bytes. */
            } else if (flags & TCP_ACK) {
                /* The SYN-ACK settles window scaling: both sides or none. */
                if (snd->wscale == TCP_WSCALE_NONE || rcv->wscale == TCP_WSCALE_NONE) {
                    snd->wscale = rcv->wscale = 0;
                }
            }
            snd->end = snd->maxend = end;
            snd->maxwin = MAX(win, 1);
            snd->seen = true;
        }
    } else {
        if (snd->wscale != TCP_WSCALE_NONE) {
            win <<= snd->wscale;
        }
        if (!snd->seen) {
            snd->end = snd->maxend = end;
            snd->maxwin = MAX(win, 1);
            snd->seen = true;
        }
    }
    if (!(flags & TCP_ACK)) {
        ack = rcv->end;
    }
    if (check && !c->liberal && rcv->seen) {
        uint32_t ack_slack = MAX(snd->maxwin, TCP_MAX_ACK_WINDOW);
        if (seq_gt(s->seq, snd->maxend) || seq_lt(end, snd->end - rcv->maxwin) ||
            seq_gt(ack, rcv->end) || seq_lt(ack, rcv->end - ack_slack)) {
            return false;
        }
    }
    if (snd->maxwin < win) {
        snd->maxwin = win;
    }
    if (seq_gt(end, snd->end)) {
        snd->end = end;
    }
    if ((flags & TCP_ACK) && rcv->seen && !seq_lt(ack + win, rcv->maxend)) {
        rcv->maxend = ack + win + (win ? 0 : 1);
    }
    return true;
}

enum tcp_verdict { TCP_VALID, TCP_INVALID, TCP_REOPEN };

static enum ct_tmo
tcp_tmo(enum ct_tcp_state st)
{
    switch (st) {
    case TCPS_NONE:
    case TCPS_SYN_SENT:
    case TCPS_SYN_RECV:
        return TMO_TCP_SYN;
    case TCPS_ESTABLISHED:
        return TMO_TCP_EST;
    case TCPS_FIN_WAIT:
    case TCPS_CLOSE_WAIT:
    case TCPS_LAST_ACK:
    case TCPS_TIME_WAIT:
        return TMO_TCP_FIN;
    case TCPS_CLOSED:
    default:
        return TMO_TCP_CLOSED;
    }
}

/* Runs the TCP state machine for a segment of 'c' in direction 'dir'. */
static enum tcp_verdict
tcp_update(struct conntrack *ct, struct ct_conn *c, int dir, const struct pkey *key,
           uint64_t now)
{
    uint16_t flags = ntohs(key->f.tcp_flags) & 0x3f;
    bool syn = flags & TCP_SYN, ack = flags & TCP_ACK, fin = flags & TCP_FIN;
    bool rst = flags & TCP_RST;
    enum ct_tcp_state st = c->tcp_state;
    struct tcp_seg seg = {0};
    bool has_seg = tcp_seg_get(ct, &seg);

    if ((syn && (fin || rst)) || !flags) {
        return TCP_INVALID;
    }
    if (syn && !ack && (st == TCPS_TIME_WAIT || st == TCPS_CLOSED)) {
        return TCP_REOPEN;
    }
    if (st == TCPS_CLOSED) {
        return rst ? TCP_VALID : TCP_INVALID;
    }

    /* What the state machine accepts, before touching the windows. */
    enum ct_tcp_state next = st;
    if (rst) {
        next = TCPS_CLOSED;
    } else if (syn && !ack) {
        if (st == TCPS_NONE) {
            next = TCPS_SYN_SENT;
        } else if (st == TCPS_SYN_SENT) {
            next = dir == CT_DIR_ORIG ? TCPS_SYN_SENT : TCPS_SYN_RECV;
        } else {
            return TCP_INVALID;
        }
    } else if (syn) {
        if (dir != CT_DIR_REPLY ||
            (st != TCPS_SYN_SENT && st != TCPS_SYN_RECV && st != TCPS_ESTABLISHED)) {
            return TCP_INVALID;
        }
        if (st == TCPS_SYN_SENT) {
            next = TCPS_SYN_RECV;
        }
    } else if (st == TCPS_NONE) {
        next = TCPS_ESTABLISHED;
        c->liberal = true;
    } else if (st == TCPS_SYN_SENT) {
        return TCP_INVALID;
    } else if (st == TCPS_SYN_RECV) {
        next = TCPS_ESTABLISHED;
    }

    if (st == TCPS_NONE && !has_seg) {
        c->liberal = true; /* Windows learned from the first segment on only. */
    }
    if (has_seg && !tcp_in_window(c, dir, flags, &seg, !ct->tcp_liberal && !c->liberal)) {
        return TCP_INVALID;
    }

    if (next >= TCPS_ESTABLISHED && next != TCPS_CLOSED) {
        struct ct_peer *me = &c->peer[dir], *other = &c->peer[!dir];
        if (ack && other->fin &&
            (!has_seg || !other->seen || !seq_lt(seg.ack, other->fin_end))) {
            other->fin_acked = true;
        }
        if (fin && !me->fin) {
            me->fin = true;
            me->fin_end = has_seg ? seg.seq + seg.len + 1 : 0;
        }
        int n_fin = me->fin + other->fin;
        if (n_fin == 2) {
            next = me->fin_acked && other->fin_acked ? TCPS_TIME_WAIT : TCPS_LAST_ACK;
        } else if (n_fin == 1) {
            const struct ct_peer *closer = me->fin ? me : other;
            next = closer->fin_acked ? TCPS_CLOSE_WAIT : TCPS_FIN_WAIT;
        }
    }
    if (next < st && st != TCPS_NONE && next != TCPS_CLOSED) {
        next = st; /* Never back, except to CLOSED. */
    }
    c->tcp_state = (uint8_t)next;
    conn_set_timeout(ct, c, tcp_tmo(next), now);
    return TCP_VALID;
}

/* Updates 'c' for a packet in direction 'reply'.  TCP_REOPEN: the connection must be
 * replaced by a new one. */
static enum tcp_verdict
conn_update(struct conntrack *ct, struct ct_conn *c, bool reply, const struct pkey *key,
            uint64_t now)
{
    uint8_t proto = c->key[CT_DIR_ORIG].tuple.proto;
    enum tcp_verdict v = TCP_VALID;

    if (proto == PROTO_TCP) {
        v = tcp_update(ct, c, reply ? CT_DIR_REPLY : CT_DIR_ORIG, key, now);
    } else if (proto == PROTO_UDP || proto == PROTO_SCTP) {
        conn_set_timeout(ct, c, c->seen_reply || reply ? TMO_UDP_EST : TMO_UDP_FIRST,
                         now);
    } else if (proto == PROTO_ICMP || proto == PROTO_ICMP6) {
        conn_set_timeout(ct, c, TMO_ICMP, now);
    } else {
        conn_set_timeout(ct, c, TMO_OTHER, now);
    }
    if (v == TCP_VALID && reply) {
        c->seen_reply = true;
    }
    return v;
}

static uint32_t
conn_state(const struct ct_conn *c, bool reply)
{
    if (reply) {
        return CT_STATE_TRK | CT_STATE_EST | CT_STATE_RPL;
    }
    return CT_STATE_TRK | (c->seen_reply ? CT_STATE_EST : CT_STATE_NEW);
}

/* Whether a packet of kind 'kind' with 'key' may start a connection. */
static bool
key_may_create(enum pkt_kind kind, const struct pkey *key)
{
    if (kind != PKT_NORMAL) {
        return false;
    }
    if (key->f.ip_proto == PROTO_TCP) {
        uint16_t flags = ntohs(key->f.tcp_flags) & 0x3f;
        if (!flags || (flags & TCP_RST) || ((flags & TCP_SYN) && (flags & TCP_ACK)) ||
            ((flags & TCP_SYN) && (flags & TCP_FIN))) {
            return false;
        }
    }
    return true;
}

/* ---- NAT and load balancing. ---- */

static bool
tuple_pair_free(const struct conntrack *ct, const struct ct_tuple *reply)
{
    struct ct_tuple rev;
    tuple_reverse(reply, &rev);
    return !table_find(ct, reply) && !table_find(ct, &rev);
}

/* Chooses the reply tuple of a new connection with original tuple 'orig' whose
 * destination ('dnat') or source becomes 'addr', with a port in [lo, hi] (lo 0: the
 * original port, or for SNAT any free port from 1024 when it is taken).  Returns
 * false when every candidate collides with a tracked connection. */
static bool
nat_choose(const struct conntrack *ct, const struct ct_tuple *orig, bool dnat,
           const uint8_t addr[16], uint16_t lo, uint16_t hi, struct ct_tuple *reply)
{
    tuple_reverse(orig, reply);
    memcpy(dnat ? reply->src : reply->dst, addr, 16);
    uint16_t *port = dnat ? &reply->sport : &reply->dport;

    if (!proto_has_ports(orig->proto)) {
        return tuple_pair_free(ct, reply);
    }
    if (!lo) {
        if (tuple_pair_free(ct, reply)) {
            return true;
        }
        if (dnat) {
            return false;
        }
        lo = 1024;
        hi = 65535;
    }
    if (hi < lo) {
        hi = lo;
    }
    uint32_t n = (uint32_t)hi - lo + 1;
    uint32_t start = tuple_hash(ct, orig) % n;
    for (uint32_t i = 0; i < n; i++) {
        *port = (uint16_t)(lo + (start + i) % n);
        if (tuple_pair_free(ct, reply)) {
            return true;
        }
    }
    return false;
}

static void
nat_addr(bool ipv6, lex_u128 ip, uint8_t addr[16])
{
    memset(addr, 0, 16);
    u128_to_bytes(ip, addr, ipv6 ? 16 : 4);
}

/* Hash of the fields 'names' (comma- or space-separated, as ct_lb's hash_fields)
 * of 'key', or of the 5-tuple when 'names' is NULL or names none it knows. */
static uint32_t
lb_hash(const struct pkey *key, const char *names)
{
    const bool ipv6 = key_is_ipv6(key);
    const uint8_t proto = key->f.ip_proto;
    enum pkey_field_id fs, fd;
    uint32_t h = 0;
    int n_used = 0;

    key_port_fields(proto, &fs, &fd);
    const lex_u128 sport = proto_has_ports(proto) ? pkey_field_get(key, fs) : 0;
    const lex_u128 dport = proto_has_ports(proto) ? pkey_field_get(key, fd) : 0;
    const lex_u128 src = pkey_field_get(key, ipv6 ? PKEY_F_IP6_SRC : PKEY_F_IP4_SRC);
    const lex_u128 dst = pkey_field_get(key, ipv6 ? PKEY_F_IP6_DST : PKEY_F_IP4_DST);

    for (const char *p = names ? names : ""; *p;) {
        size_t n = strcspn(p, ", ");
        lex_u128 v = 0;
        bool known = true;
#define NAME_IS(S) (n == sizeof(S) - 1 && !strncmp(p, S, n))
        if (NAME_IS("eth_src")) {
            v = pkey_field_get(key, PKEY_F_ETH_SRC);
        } else if (NAME_IS("eth_dst")) {
            v = pkey_field_get(key, PKEY_F_ETH_DST);
        } else if (NAME_IS("ip_src") || NAME_IS("ipv6_src")) {
            v = src;
        } else if (NAME_IS("ip_dst") || NAME_IS("ipv6_dst")) {
            v = dst;
        } else if (NAME_IS("tp_src") || NAME_IS("tcp_src") || NAME_IS("udp_src") ||
                   NAME_IS("sctp_src")) {
            v = sport;
        } else if (NAME_IS("tp_dst") || NAME_IS("tcp_dst") || NAME_IS("udp_dst") ||
                   NAME_IS("sctp_dst")) {
            v = dport;
        } else if (NAME_IS("nw_proto") || NAME_IS("ip_proto")) {
            v = proto;
        } else {
            known = false;
        }
#undef NAME_IS
        if (known) {
            h = hash_add64(h, (uint64_t)(v >> 64));
            h = hash_add64(h, (uint64_t)v);
            n_used++;
        }
        p += n;
        p += strspn(p, ", ");
    }
    if (!n_used) {
        h = hash_add64(h, (uint64_t)(src >> 64));
        h = hash_add64(h, (uint64_t)src);
        h = hash_add64(h, (uint64_t)(dst >> 64));
        h = hash_add64(h, (uint64_t)dst);
        h = hash_add32(h, proto);
        h = hash_add32(h, (uint32_t)(sport << 16 | dport));
    }
    return hash_finish(h);
}

/* The index in 'lb' of the backend connection 'c' was balanced to, or -1. */
static int
lb_backend_index(const struct action_lb *lb, const struct ct_conn *c)
{
    if (!lb || !(c->nat & CONN_NAT_DST)) {
        return -1;
    }
    const struct ct_tuple *r = &c->key[CT_DIR_REPLY].tuple;
    for (size_t i = 0; i < lb->n_backends; i++) {
        const struct action_backend *b = &lb->backends[i];
        uint8_t addr[16];
        if (b->ipv6 != (bool)r->ipv6) {
            continue;
        }
        nat_addr(b->ipv6, b->ip, addr);
        if (!memcmp(addr, r->src, 16) && (!b->port || b->port == r->sport)) {
            return (int)i;
        }
    }
    return -1;
}

static void
lb_set_flags(struct ct_conn *c, const struct ct_op *op)
{
    uint32_t bits = CT_MARK_NATTED;
    if (op->lb->ct_flag == ACTION_CT_FLAG_SKIP_SNAT) {
        bits |= CT_MARK_SKIP_SNAT;
    } else if (op->lb->ct_flag == ACTION_CT_FLAG_FORCE_SNAT) {
        bits |= CT_MARK_FORCE_SNAT;
    }
    if (op->lb_mark) {
        c->mark |= bits;
    } else {
        c->label |= bits;
    }
}

/* ---- ICMP errors. ---- */

/* Parses the header quoted by the current packet's ICMP error, once per packet. */
static bool
inner_parse(struct conntrack *ct, bool ipv6)
{
    if (ct->inner_parsed) {
        return ct->inner_ok;
    }
    ct->inner_parsed = true;
    ct->inner_ok = false;

    const struct packet_layout *lo = &ct->lo;
    if (!ct->pkt || lo->l4 == PACKET_OFS_NONE || lo->end > ct->pkt_len ||
        lo->l4 > lo->end) {
        return false;
    }
    const uint8_t *p = ct->pkt;
    uint32_t end = lo->end;
    uint32_t l3 = lo->l4 + 8;
    uint32_t l4;
    uint8_t proto;
    struct ct_tuple *t = &ct->inner_orig;

    memset(t, 0, sizeof *t);
    if (!ipv6) {
        if ((size_t)l3 + 20 > end || (p[l3] >> 4) != 4) {
            return false;
        }
        uint32_t ihl = (p[l3] & 0x0f) * 4u;
        if (ihl < 20 || (size_t)l3 + ihl > end || (rd16(p + l3 + 6) & 0x1fff)) {
            return false;
        }
        proto = p[l3 + 9];
        memcpy(t->src, p + l3 + 12, 4);
        memcpy(t->dst, p + l3 + 16, 4);
        l4 = l3 + ihl;
    } else {
        if ((size_t)l3 + 40 > end || (p[l3] >> 4) != 6) {
            return false;
        }
        t->ipv6 = 1;
        memcpy(t->src, p + l3 + 8, 16);
        memcpy(t->dst, p + l3 + 24, 16);
        proto = p[l3 + 6];
        l4 = l3 + 40;
        for (int i = 0; i < PACKET_MAX_IPV6_EXT; i++) {
            if (proto == 0 || proto == 43 || proto == 60) {
                if ((size_t)l4 + 8 > end) {
                    return false;
                }
                proto = p[l4];
                l4 += (p[l4 + 1] + 1u) * 8;
            } else if (proto == 44) {
                if ((size_t)l4 + 8 > end || (rd16(p + l4 + 2) & 0xfff8)) {
                    return false;
                }
                proto = p[l4];
                l4 += 8;
            } else {
                break;
            }
        }
    }
    t->proto = proto;
    if (proto_has_ports(proto)) {
        if ((size_t)l4 + 4 > end) {
            return false;
        }
        t->sport = rd16(p + l4);
        t->dport = rd16(p + l4 + 2);
    } else if (proto == (ipv6 ? PROTO_ICMP6 : PROTO_ICMP)) {
        if ((size_t)l4 + 8 > end || !icmp_is_echo(ipv6, p[l4])) {
            return false; /* An error about an error, or about no connection. */
        }
        t->sport = rd16(p + l4 + 4);
        t->dport = p[l4];
    }
    ct->inner_cur = *t;
    ct->inner_l3 = l3;
    ct->inner_l4 = l4;
    ct->inner_end = end;
    ct->inner_ok = true;
    return true;
}

/* Handles an ICMP error in zone 'zone'.  Returns its ct_state. */
static uint32_t
ct_related(struct conntrack *ct, struct pkey *key, uint16_t zone, bool do_nat,
           uint64_t now, const struct ct_conn **connp)
{
    bool ipv6 = key_is_ipv6(key);
    struct ct_tuple inner, rev;
    struct ct_entry *e;
    bool translate;
    int d; /* The direction the error travels. */

    *connp = NULL;
    if (!inner_parse(ct, ipv6)) {
        return CT_STATE_TRK | CT_STATE_INV;
    }
    inner = ct->inner_cur;
    inner.zone = zone;
    tuple_reverse(&inner, &rev);
    e = table_find(ct, &rev);
    if (e) {
        d = e->dir;
        translate = true;
    } else {
        e = table_find(ct, &inner);
        if (!e) {
            return CT_STATE_TRK | CT_STATE_INV;
        }
        d = !e->dir;
        translate = false;
    }
    struct ct_conn *c = entry_conn(e);
    if (conn_is_expired(c, now)) {
        conn_delete(ct, c);
        ct->stats.n_expired++;
        return CT_STATE_TRK | CT_STATE_INV;
    }
    ct->stats.n_related++;
    uint32_t state = CT_STATE_TRK | CT_STATE_REL | (d == CT_DIR_REPLY ? CT_STATE_RPL : 0);
    if (do_nat && translate && c->nat) {
        const struct ct_tuple *here = &c->key[d].tuple;
        const struct ct_tuple *other = &c->key[!d].tuple;
        uint8_t cur[16] = {0};
        size_t n = ipv6 ? 16 : 4;
        bool changed = false;

        memcpy(cur, ipv6 ? key->f.ip6_src : (const uint8_t *)&key->f.ip4_src, n);
        if (!memcmp(cur, here->src, 16) && key_set_addr(key, ipv6, false, other->dst)) {
            state |= CT_STATE_SNAT;
            changed = true;
        }
        memset(cur, 0, sizeof cur);
        memcpy(cur, ipv6 ? key->f.ip6_dst : (const uint8_t *)&key->f.ip4_dst, n);
        if (!memcmp(cur, here->dst, 16) && key_set_addr(key, ipv6, true, other->src)) {
            state |= CT_STATE_DNAT;
            changed = true;
        }
        struct ct_tuple q = *other;
        q.zone = 0;
        if (memcmp(&q, &ct->inner_cur, sizeof q)) {
            ct->inner_cur = q;
            changed = true;
        }
        if (changed) {
            ct->stats.n_nat++;
        }
    }
    *connp = c;
    return state;
}

/* The VIP that the DNAT zone (reg11) balanced the connection of 'key' from, for
 * ct_snat_to_vip. */
static bool
snat_to_vip_addr(struct conntrack *ct, const struct pkey *key, uint64_t now,
                 uint8_t vip[16])
{
    struct ct_tuple t;
    struct ct_match m;
    uint16_t dnat_zone = (uint16_t)ntohl(key->f.regs[CT_REG_DNAT_ZONE]);

    if (key_to_tuple(ct, key, dnat_zone, &t) == PKT_INVALID) {
        return false;
    }
    ct_lookup(ct, &t, now, &m);
    if (!m.conn || m.reply || !(m.conn->nat & CONN_NAT_DST)) {
        return false;
    }
    memcpy(vip, m.conn->key[CT_DIR_ORIG].tuple.dst, 16);
    return true;
}

/* ---- execute(). ---- */

static void
commit_writes(struct ct_conn *c, const struct ct_op *op)
{
    if (op->type == CT_OP_COMMIT) {
        c->mark = (c->mark & ~op->mark_mask) | (op->mark_value & op->mark_mask);
        c->label = (c->label & ~op->label_mask) | (op->label_value & op->label_mask);
    }
}

/* Whether 'op' translates the packets of an existing NAT connection. */
static bool
op_applies_nat(const struct ct_op *op)
{
    return op->type == CT_OP_DNAT || op->type == CT_OP_SNAT || op->type == CT_OP_LB ||
           op->type == CT_OP_COMMIT_NAT || op->type == CT_OP_SNAT_TO_VIP;
}

/* Creates the connection of a new packet as 'op' says, translating 'key'.  Returns
 * the packet's ct_state; '*connp' the connection, if one was made.  Negative errno
 * for an operation that cannot apply to this packet. */
static int
ct_create_for_op(struct conntrack *ct, struct ct_op *op, struct pkey *key,
                 const struct ct_tuple *t, uint64_t now, uint32_t *statep,
                 struct ct_conn **connp)
{
    struct ct_tuple reply;
    bool nat = false;
    bool dnat = false;
    uint8_t addr[16];
    uint16_t lo = 0, hi = 0;
    int backend = -1;

    *connp = NULL;
    switch (op->type) {
    case CT_OP_COMMIT:
    case CT_OP_COMMIT_NAT:
        break;
    case CT_OP_DNAT:
    case CT_OP_SNAT:
        if (!op->has_nat_ip) {
            *statep = CT_STATE_TRK | CT_STATE_NEW;
            return 0;
        }
        if (op->nat_ipv6 != (bool)t->ipv6) {
            return -EAFNOSUPPORT;
        }
        nat = true;
        dnat = op->type == CT_OP_DNAT;
        nat_addr(op->nat_ipv6, op->nat_ip, addr);
        lo = op->nat_port_lo;
        hi = op->nat_port_hi;
        break;
    case CT_OP_LB: {
        if (!op->lb || !op->lb->has_backends || !op->lb->n_backends) {
            *statep = CT_STATE_TRK | CT_STATE_NEW;
            return 0;
        }
        backend = (int)(lb_hash(key, op->lb->hash_fields) % op->lb->n_backends);
        const struct action_backend *b = &op->lb->backends[backend];
        if (b->ipv6 != (bool)t->ipv6) {
            return -EAFNOSUPPORT;
        }
        nat = dnat = true;
        nat_addr(b->ipv6, b->ip, addr);
        lo = hi = b->port;
        break;
    }
    case CT_OP_SNAT_TO_VIP:
        if (!snat_to_vip_addr(ct, key, now, addr)) {
            *statep = CT_STATE_TRK | CT_STATE_NEW;
            return 0;
        }
        nat = true;
        break;
    case CT_OP_NEXT:
    case CT_OP_CLEAR:
    default:
        *statep = CT_STATE_TRK | CT_STATE_NEW;
        return 0;
    }

    if (nat) {
        if (!nat_choose(ct, t, dnat, addr, lo, hi, &reply)) {
            static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(6, 2);
            OLOG_WARN_RL(&rl, "zone %u: no free NAT tuple for a new connection", t->zone);
            *statep = CT_STATE_TRK | CT_STATE_INV;
            return 0;
        }
    } else {
        tuple_reverse(t, &reply);
    }
    struct ct_conn *c = conn_create(ct, t, &reply);
    if (!c) {
        *statep = CT_STATE_TRK | CT_STATE_INV;
        return 0;
    }
    if (conn_update(ct, c, false, key, now) != TCP_VALID) {
        conn_delete(ct, c);
        ct->stats.n_created--;
        *statep = CT_STATE_TRK | CT_STATE_INV;
        return 0;
    }
    if (op->type == CT_OP_LB) {
        lb_set_flags(c, op);
        op->backend = backend;
    }
    commit_writes(c, op);
    uint32_t state = CT_STATE_TRK | CT_STATE_NEW;
    if (c->nat) {
        state |= conn_nat_key(c, false, key);
    }
    *statep = state;
    *connp = c;
    return 0;
}

static int
ct_execute_locked(struct conntrack *ct, struct ct_op *op, struct pkey *key, uint64_t now)
{
    struct ct_tuple t;
    struct ct_match m;
    uint32_t state;
    const struct ct_conn *found = NULL;

    enum pkt_kind kind = key_to_tuple(ct, key, op->zone, &t);
    if (kind == PKT_INVALID) {
        state = CT_STATE_TRK | CT_STATE_INV;
    } else if (kind == PKT_ICMP_ERROR) {
        state = ct_related(ct, key, op->zone, op_applies_nat(op), now, &found);
    } else {
        ct_lookup(ct, &t, now, &m);
        if (m.conn) {
            enum tcp_verdict v = conn_update(ct, m.conn, m.reply, key, now);
            if (v == TCP_REOPEN) {
                conn_delete(ct, m.conn);
                m.conn = NULL;
            } else if (v == TCP_INVALID) {
                state = CT_STATE_TRK | CT_STATE_INV;
                goto done;
            } else {
                state = conn_state(m.conn, m.reply);
                if (op_applies_nat(op) && !m.translated && m.conn->nat) {
                    state |= conn_nat_key(m.conn, m.reply, key);
                }
                commit_writes(m.conn, op);
                op->backend =
                    op->type == CT_OP_LB ? lb_backend_index(op->lb, m.conn) : -1;
                found = m.conn;
            }
        }
        if (!m.conn) {
            if (!key_may_create(kind, key)) {
                state = CT_STATE_TRK | CT_STATE_INV;
            } else {
                struct ct_conn *c = NULL;
                int error = ct_create_for_op(ct, op, key, &t, now, &state, &c);
                if (error) {
                    return error;
                }
                found = c;
            }
        }
    }
done:
    if (state & (CT_STATE_SNAT | CT_STATE_DNAT)) {
        ct->stats.n_nat++;
    }
    if (state & CT_STATE_INV) {
        ct->stats.n_invalid++;
        found = NULL;
    }
    if (found || op->recirc) {
        key_load_conn(key, found);
    }
    if (op->recirc) {
        key->f.ct_state = htonl(state);
        key->f.ct_zone = htons(op->zone);
    }
    op->state_out = state;
    return 0;
}

static int
ct_execute(void *ct_, struct ct_op *op, struct pkey *key)
{
    struct conntrack *ct = ct_;

    if ((unsigned int)op->type > CT_OP_SNAT_TO_VIP) {
        return -EINVAL;
    }
    op->backend = -1;
    if (op->type == CT_OP_CLEAR) {
        key->f.ct_state = 0;
        key->f.ct_mark = 0;
        memset(key->f.ct_label, 0, sizeof key->f.ct_label);
        key->f.ct_zone = 0;
        op->state_out = 0;
        ct_lock(ct);
        ct->stats.n_lookups++;
        ct_unlock(ct);
        return 0;
    }
    uint64_t now = ct_now(ct);
    ct_lock(ct);
    ct->stats.n_lookups++;
    int error = ct_execute_locked(ct, op, key, now);
    ct_unlock(ct);
    return error;
}

const struct ct_class conntrack_class = {
    .name = "conntrack",
    .execute = ct_execute,
};

/* ---- Public API. ---- */

int
conntrack_create(const struct conntrack_config *config, struct conntrack **ctp)
{
    struct conntrack_config cfg = {0};
    if (config) {
        cfg = *config;
    }
    if (cfg.max_conns > CT_LIMIT_MAX_CONNS) {
        return -EINVAL;
    }
    struct conntrack *ct = calloc(1, sizeof *ct);
    if (!ct) {
        return -ENOMEM;
    }
    if (pthread_mutex_init(&ct->mutex, NULL)) {
        free(ct);
        return -ENOMEM;
    }
    hmap_init(&ct->table);
    for (int i = 0; i < N_TMO; i++) {
        ovnic_list_init(&ct->exp[i]);
    }
    ct->max_conns = cfg.max_conns ? cfg.max_conns : CT_DEFAULT_MAX_CONNS;
#define TMO(FIELD, DEFAULT) (cfg.FIELD ? cfg.FIELD : (DEFAULT))
    ct->tmo_ms[TMO_TCP_SYN] = TMO(tcp_syn_ms, 30000);
    ct->tmo_ms[TMO_TCP_EST] = TMO(tcp_est_ms, 86400000);
    ct->tmo_ms[TMO_TCP_FIN] = TMO(tcp_fin_ms, 30000);
    ct->tmo_ms[TMO_TCP_CLOSED] = TMO(tcp_closed_ms, 1000);
    ct->tmo_ms[TMO_UDP_FIRST] = TMO(udp_first_ms, 30000);
    ct->tmo_ms[TMO_UDP_EST] = TMO(udp_est_ms, 180000);
    ct->tmo_ms[TMO_ICMP] = TMO(icmp_ms, 30000);
    ct->tmo_ms[TMO_OTHER] = TMO(other_ms, 60000);
#undef TMO
    ct->tcp_liberal = cfg.tcp_liberal;
    ct->basis = hash_add64((uint32_t)time_wall_msec(), (uint64_t)(uintptr_t)ct);
    ct->now_ms = cfg.now_ms;
    *ctp = ct;
    return 0;
}

static size_t
flush_locked(struct conntrack *ct, int zone)
{
    size_t n = 0;
    for (int i = 0; i < N_TMO; i++) {
        struct ovnic_list *head = &ct->exp[i];
        for (struct ovnic_list *node = head->next, *next; node != head; node = next) {
            struct ct_conn *c = CONTAINER_OF(node, struct ct_conn, exp_node);
            next = node->next;
            if (zone < 0 || c->key[CT_DIR_ORIG].tuple.zone == zone) {
                conn_delete(ct, c);
                n++;
            }
        }
    }
    return n;
}

void
conntrack_destroy(struct conntrack *ct)
{
    if (!ct) {
        return;
    }
    flush_locked(ct, -1);
    hmap_destroy(&ct->table);
    pthread_mutex_destroy(&ct->mutex);
    free(ct);
}

void
conntrack_set_packet(struct conntrack *ct, const uint8_t *pkt, size_t len,
                     const struct packet_layout *layout)
{
    ct->inner_parsed = false;
    ct->inner_ok = false;
    if (!pkt || !layout) {
        ct->pkt = NULL;
        ct->pkt_len = 0;
        return;
    }
    ct->pkt = pkt;
    ct->pkt_len = len;
    ct->lo = *layout;
}

/* Adjusts the ones'-complement checksum 'csum' for bytes 'old' becoming 'new' ('n'
 * bytes at an even offset of the summed data). */
static uint16_t
csum_adjust(uint16_t csum, const uint8_t *old, const uint8_t *new, size_t n)
{
    uint32_t sum = (uint16_t)~csum;
    for (size_t i = 0; i < n; i += 2) {
        uint16_t o = (uint16_t)(old[i] << 8 | (i + 1 < n ? old[i + 1] : 0));
        uint16_t w = (uint16_t)(new[i] << 8 | (i + 1 < n ? new[i + 1] : 0));
        sum += (uint16_t)~o;
        sum += w;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

int
conntrack_rewrite_related(struct conntrack *ct, uint8_t *pkt, size_t len)
{
    if (!ct->pkt || !ct->inner_ok) {
        return 0;
    }
    if (len != ct->pkt_len) {
        return -EINVAL;
    }
    const struct ct_tuple *o = &ct->inner_orig, *n = &ct->inner_cur;
    if (!memcmp(o, n, sizeof *o)) {
        return 0;
    }
    bool ipv6 = o->ipv6;
    uint32_t l3 = ct->inner_l3, l4 = ct->inner_l4, end = ct->inner_end;
    uint32_t icmp = ct->lo.l4;
    uint8_t before[128];
    uint32_t region_end = MIN(end, l4 + 20);
    size_t region = region_end - l3;
    size_t alen = ipv6 ? 16 : 4;

    if (region > sizeof before) {
        region = sizeof before;
        region_end = l3 + (uint32_t)region;
    }
    memcpy(before, pkt + l3, region);

    /* Addresses, and the quoted IPv4 header checksum. */
    memcpy(pkt + l3 + (ipv6 ? 8 : 12), n->src, alen);
    memcpy(pkt + l3 + (ipv6 ? 24 : 16), n->dst, alen);
    if (!ipv6) {
        uint32_t ihl = (pkt[l3] & 0x0f) * 4u;
        wr16(pkt + l3 + 10, 0);
        uint32_t sum = 0;
        for (uint32_t i = 0; i < ihl; i += 2) {
            sum += rd16(pkt + l3 + i);
        }
        while (sum >> 16) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        wr16(pkt + l3 + 10, (uint16_t)~sum);
    }
    /* Ports, and the quoted TCP/UDP checksum when it is quoted. */
    if (proto_has_ports(o->proto) && l4 + 4 <= end) {
        wr16(pkt + l4, n->sport);
        wr16(pkt + l4 + 2, n->dport);
        uint32_t cofs = o->proto == PROTO_TCP ? 16 : o->proto == PROTO_UDP ? 6 : 0;
        if (cofs && l4 + cofs + 2 <= end) {
            uint16_t c = rd16(pkt + l4 + cofs);
            if (c || ipv6 || o->proto != PROTO_UDP) {
                uint8_t op[4], np[4];
                wr16(op, o->sport);
                wr16(op + 2, o->dport);
                wr16(np, n->sport);
                wr16(np + 2, n->dport);
                c = csum_adjust(c, o->src, n->src, alen);
                c = csum_adjust(c, o->dst, n->dst, alen);
                c = csum_adjust(c, op, np, 4);
                if (!c && o->proto == PROTO_UDP) {
                    c = 0xffff;
                }
                wr16(pkt + l4 + cofs, c);
            }
        }
    }
    /* The ICMP checksum over what changed (the quote starts 8 bytes in: even). */
    if (icmp + 4 <= len) {
        wr16(pkt + icmp + 2,
             csum_adjust(rd16(pkt + icmp + 2), before, pkt + l3, region_end - l3));
    }
    return 1;
}

size_t
conntrack_sweep(struct conntrack *ct, size_t max)
{
    uint64_t now = ct_now(ct);
    size_t n = 0;

    ct_lock(ct);
    for (int i = 0; i < N_TMO && (!max || n < max); i++) {
        while (!ovnic_list_is_empty(&ct->exp[i]) && (!max || n < max)) {
            struct ct_conn *c = CONTAINER_OF(ct->exp[i].next, struct ct_conn, exp_node);
            if (!conn_is_expired(c, now)) {
                break;
            }
            conn_delete(ct, c);
            ct->stats.n_expired++;
            n++;
        }
    }
    ct_unlock(ct);
    return n;
}

size_t
conntrack_flush(struct conntrack *ct, int zone)
{
    ct_lock(ct);
    size_t n = flush_locked(ct, zone);
    ct_unlock(ct);
    return n;
}

void
conntrack_get_stats(const struct conntrack *ct, struct conntrack_stats *stats)
{
    ct_lock(ct);
    *stats = ct->stats;
    ct_unlock(ct);
}

static int
tuple_cmp(const struct ct_tuple *a, const struct ct_tuple *b)
{
    int d;
    if (a->zone != b->zone) {
        return a->zone < b->zone ? -1 : 1;
    }
    if (a->ipv6 != b->ipv6) {
        return a->ipv6 < b->ipv6 ? -1 : 1;
    }
    if (a->proto != b->proto) {
        return a->proto < b->proto ? -1 : 1;
    }
    if ((d = memcmp(a->src, b->src, 16)) || (d = memcmp(a->dst, b->dst, 16))) {
        return d;
    }
    if (a->sport != b->sport) {
        return a->sport < b->sport ? -1 : 1;
    }
    return a->dport < b->dport ? -1 : a->dport > b->dport;
}

static int
conn_cmp(const void *a_, const void *b_)
{
    const struct ct_conn *const *a = a_, *const *b = b_;
    return tuple_cmp(&(*a)->key[CT_DIR_ORIG].tuple, &(*b)->key[CT_DIR_ORIG].tuple);
}

static const char *
proto_name(uint8_t proto, char *buf, size_t size)
{
    switch (proto) {
    case PROTO_TCP:
        return "tcp";
    case PROTO_UDP:
        return "udp";
    case PROTO_SCTP:
        return "sctp";
    case PROTO_ICMP:
        return "icmp";
    case PROTO_ICMP6:
        return "icmpv6";
    default:
        snprintf(buf, size, "%u", proto);
        return buf;
    }
}

static json_t *
tuple_json(const struct ct_tuple *t)
{
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    inet_ntop(t->ipv6 ? AF_INET6 : AF_INET, t->src, src, sizeof src);
    inet_ntop(t->ipv6 ? AF_INET6 : AF_INET, t->dst, dst, sizeof dst);
    if (proto_has_ports(t->proto)) {
        return json_pack("{s:s, s:s, s:I, s:I}", "src", src, "dst", dst, "sport",
                         (json_int_t)t->sport, "dport", (json_int_t)t->dport);
    }
    if ((t->proto == PROTO_ICMP || t->proto == PROTO_ICMP6) &&
        icmp_is_echo(t->ipv6, (uint8_t)t->dport)) {
        return json_pack("{s:s, s:s, s:I, s:I}", "src", src, "dst", dst, "id",
                         (json_int_t)t->sport, "type", (json_int_t)t->dport);
    }
    return json_pack("{s:s, s:s}", "src", src, "dst", dst);
}

static json_t *
conn_json(const struct ct_conn *c, uint64_t now)
{
    static const char *const nat_names[] = {"none", "snat", "dnat", "snat+dnat"};
    const struct ct_tuple *o = &c->key[CT_DIR_ORIG].tuple;
    char pbuf[8], label[40];
    const char *state;

    if (o->proto == PROTO_TCP) {
        state = tcp_state_names[c->tcp_state];
    } else {
        state = c->seen_reply ? "ESTABLISHED" : "NEW";
    }
    snprintf(label, sizeof label, "0x%016llx%016llx",
             (unsigned long long)(c->label >> 64), (unsigned long long)c->label);
    return json_pack("{s:I, s:s, s:o, s:o, s:s, s:I, s:s, s:I, s:s}", "zone",
                     (json_int_t)o->zone, "proto",
                     proto_name(o->proto, pbuf, sizeof pbuf), "orig", tuple_json(o),
                     "reply", tuple_json(&c->key[CT_DIR_REPLY].tuple), "state", state,
                     "mark", (json_int_t)c->mark, "label", label, "expires_ms",
                     (json_int_t)(c->expires > now ? c->expires - now : 0), "nat",
                     nat_names[c->nat & 3]);
}

json_t *
conntrack_dump_json(const struct conntrack *ct, int zone, size_t limit)
{
    uint64_t now = ct_now(ct);
    json_t *array = json_array();
    if (!array) {
        return NULL;
    }
    ct_lock(ct);
    size_t n = 0, cap = (size_t)ct->stats.n_conns;
    const struct ct_conn **conns = malloc((cap ? cap : 1) * sizeof *conns);
    if (!conns) {
        goto err;
    }
    for (int i = 0; i < N_TMO; i++) {
        const struct ovnic_list *head = &ct->exp[i];
        for (const struct ovnic_list *node = head->next; node != head;
             node = node->next) {
            const struct ct_conn *c = CONTAINER_OF(node, struct ct_conn, exp_node);
            if ((zone < 0 || c->key[CT_DIR_ORIG].tuple.zone == zone) && n < cap) {
                conns[n++] = c;
            }
        }
    }
    qsort(conns, n, sizeof *conns, conn_cmp);
    if (limit && n > limit) {
        n = limit;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *j = conn_json(conns[i], now);
        if (!j || json_array_append_new(array, j)) {
            goto err;
        }
    }
    ct_unlock(ct);
    free(conns);
    return array;

err:
    ct_unlock(ct);
    free(conns);
    json_decref(array);
    return NULL;
}

json_t *
conntrack_stats_json(const struct conntrack *ct)
{
    struct conntrack_stats s;
    conntrack_get_stats(ct, &s);
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "n_conns", (json_int_t)s.n_conns,
        "n_created", (json_int_t)s.n_created, "n_expired", (json_int_t)s.n_expired,
        "n_lookups", (json_int_t)s.n_lookups, "n_invalid", (json_int_t)s.n_invalid,
        "n_full_drops", (json_int_t)s.n_full_drops, "n_nat", (json_int_t)s.n_nat,
        "n_related", (json_int_t)s.n_related, "max_conns", (json_int_t)ct->max_conns);
}
