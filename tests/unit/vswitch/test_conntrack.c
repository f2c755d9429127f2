/* Unit tests of the vswitch's connection tracker (dpu/vswitch/conntrack.h), with
 * frames built byte by byte, parsed with packet_parse(), and a clock the tests move. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/controller/actions.h"
#include "dpu/controller/symtab.h"
#include "dpu/pipeline/exec.h"
#include "dpu/pipeline/packet.h"
#include "dpu/vswitch/conntrack.h"
#include "shared/util/err.h"

/* ---- Clock. ---- */

static uint64_t fake_now = 1000000;

static uint64_t
fake_clock(void)
{
    return fake_now;
}

static struct conntrack *
ct_new(const struct conntrack_config *base)
{
    struct conntrack_config cfg = {0};
    struct conntrack *ct = NULL;

    if (base) {
        cfg = *base;
    }
    cfg.now_ms = fake_clock;
    assert_int_equal(conntrack_create(&cfg, &ct), 0);
    return ct;
}

/* ---- Frames. ---- */

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMP6 58

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

struct pkt {
    uint8_t b[2048];
    size_t len;
    struct pkey key;
    struct packet_layout lo;
};

/* What a frame carries. */
struct spec {
    bool ipv6;
    uint8_t proto;
    const char *src, *dst;
    uint16_t sport, dport; /* ICMP: type, code. */
    uint16_t flags;        /* TCP. */
    uint32_t seq, ack;     /* TCP; ICMP echo: 'seq' is the identifier. */
    uint16_t win;          /* TCP. */
    int wscale;            /* TCP SYN option, -1 for none. */
    size_t payload;        /* Bytes after the L4 header. */
    const uint8_t *quote;  /* ICMP error: the quoted datagram... */
    size_t quote_len;      /* ...of this many bytes. */
};

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
sum_bytes(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 2) {
        sum += (uint32_t)(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
    }
    return sum;
}

static uint16_t
fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Builds the IP datagram of 's' at 'ip' (no Ethernet header); returns its length. */
static size_t
build_ip(const struct spec *s, uint8_t *ip)
{
    size_t l3 = s->ipv6 ? 40 : 20;
    uint8_t *l4 = ip + l3;
    size_t l4len;

    if (s->proto == PROTO_TCP) {
        size_t opt = (s->flags & F_SYN) && s->wscale >= 0 ? 4 : 0;
        put16(l4, s->sport);
        put16(l4 + 2, s->dport);
        put32(l4 + 4, s->seq);
        put32(l4 + 8, s->ack);
        l4[12] = (uint8_t)(((20 + opt) / 4) << 4);
        l4[13] = (uint8_t)s->flags;
        put16(l4 + 14, s->win ? s->win : 65535);
        put16(l4 + 16, 0);
        put16(l4 + 18, 0);
        if (opt) {
            l4[20] = 1;
            l4[21] = 3;
            l4[22] = 3;
            l4[23] = (uint8_t)s->wscale;
        }
        l4len = 20 + opt;
    } else if (s->proto == PROTO_UDP) {
        put16(l4, s->sport);
        put16(l4 + 2, s->dport);
        put16(l4 + 4, (uint16_t)(8 + s->payload));
        put16(l4 + 6, 0);
        l4len = 8;
    } else {
        l4[0] = (uint8_t)s->sport;
        l4[1] = (uint8_t)s->dport;
        put16(l4 + 2, 0);
        put16(l4 + 4, (uint16_t)s->seq);
        put16(l4 + 6, 1);
        l4len = 8;
        if (s->quote) {
            memcpy(l4 + 8, s->quote, s->quote_len);
            l4len += s->quote_len;
        }
    }
    memset(l4 + l4len, 0xab, s->payload);
    size_t total = l3 + l4len + s->payload;

    if (!s->ipv6) {
        ip[0] = 0x45;
        ip[1] = 0;
        put16(ip + 2, (uint16_t)total);
        put32(ip + 4, 0);
        ip[8] = 64;
        ip[9] = s->proto;
        put16(ip + 10, 0);
        assert_int_equal(inet_pton(AF_INET, s->src, ip + 12), 1);
        assert_int_equal(inet_pton(AF_INET, s->dst, ip + 16), 1);
        put16(ip + 10, fold(sum_bytes(0, ip, 20)));
    } else {
        put32(ip, 0x60000000);
        put16(ip + 4, (uint16_t)(total - 40));
        ip[6] = s->proto;
        ip[7] = 64;
        assert_int_equal(inet_pton(AF_INET6, s->src, ip + 8), 1);
        assert_int_equal(inet_pton(AF_INET6, s->dst, ip + 24), 1);
    }
    /* L4 checksum (ICMPv4 without pseudo-header). */
    uint32_t sum = 0;
    size_t l4total = total - l3;
    if (s->proto != PROTO_ICMP) {
        size_t alen = s->ipv6 ? 16 : 4;
        uint8_t ph[4];
        sum = sum_bytes(sum, ip + (s->ipv6 ? 8 : 12), alen);
        sum = sum_bytes(sum, ip + (s->ipv6 ? 24 : 16), alen);
        put16(ph, 0);
        ph[2] = 0;
        ph[3] = s->proto;
        sum = sum_bytes(sum, ph, 4);
        sum += (uint32_t)l4total;
    }
    sum = sum_bytes(sum, l4, l4total);
    size_t cofs = s->proto == PROTO_TCP ? 16 : s->proto == PROTO_UDP ? 6 : 2;
    put16(l4 + cofs, fold(sum));
    return total;
}

static void
build(struct pkt *p, const struct spec *s)
{
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
    memset(p, 0, sizeof *p);
    memcpy(p->b, macs, 12);
    put16(p->b + 12, s->ipv6 ? 0x86dd : 0x0800);
    p->len = 14 + build_ip(s, p->b + 14);
    assert_int_equal(packet_parse(p->b, p->len, 0, &p->key, &p->lo, NULL, NULL), 0);
}

static struct pkt
tcp4(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint16_t flags,
     uint32_t seq, uint32_t ack, size_t payload)
{
    struct pkt p;
    struct spec s = {.proto = PROTO_TCP,
                     .src = src,
                     .dst = dst,
                     .sport = sport,
                     .dport = dport,
                     .flags = flags,
                     .seq = seq,
                     .ack = ack,
                     .payload = payload,
                     .wscale = -1};
    build(&p, &s);
    return p;
}

static struct pkt
udp(bool ipv6, const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
    struct pkt p;
    struct spec s = {.ipv6 = ipv6,
                     .proto = PROTO_UDP,
                     .src = src,
                     .dst = dst,
                     .sport = sport,
                     .dport = dport,
                     .payload = 12};
    build(&p, &s);
    return p;
}

static struct pkt
icmp_echo(bool ipv6, const char *src, const char *dst, bool request, uint16_t id)
{
    struct pkt p;
    uint8_t type = ipv6 ? (request ? 128 : 129) : (request ? 8 : 0);
    struct spec s = {.ipv6 = ipv6,
                     .proto = ipv6 ? PROTO_ICMP6 : PROTO_ICMP,
                     .src = src,
                     .dst = dst,
                     .sport = type,
                     .seq = id,
                     .payload = 16};
    build(&p, &s);
    return p;
}

/* ---- Operations. ---- */

static struct ct_op
mkop(enum ct_op_type type, uint16_t zone)
{
    struct ct_op op = {.type = type, .zone = zone, .backend = -1};
    op.recirc = type != CT_OP_COMMIT && type != CT_OP_CLEAR && type != CT_OP_SNAT_TO_VIP;
    op.commit = type == CT_OP_COMMIT || type == CT_OP_COMMIT_NAT || type == CT_OP_LB ||
                type == CT_OP_SNAT_TO_VIP;
    return op;
}

static uint32_t
run_op(struct conntrack *ct, struct ct_op *op, struct pkt *p)
{
    conntrack_set_packet(ct, p->b, p->len, &p->lo);
    assert_int_equal(conntrack_class.execute(ct, op, &p->key), 0);
    return op->state_out;
}

static uint32_t
ct_next(struct conntrack *ct, struct pkt *p, uint16_t zone)
{
    struct ct_op op = mkop(CT_OP_NEXT, zone);
    uint32_t st = run_op(ct, &op, p);
    assert_int_equal(ntohl(p->key.f.ct_state), st);
    assert_int_equal(ntohs(p->key.f.ct_zone), zone);
    return st;
}

static uint32_t
ct_commit(struct conntrack *ct, struct pkt *p, uint16_t zone)
{
    struct ct_op op = mkop(CT_OP_COMMIT, zone);
    return run_op(ct, &op, p);
}

static struct ct_op
nat_op(enum ct_op_type type, uint16_t zone, const char *ip, uint16_t lo, uint16_t hi)
{
    struct ct_op op = mkop(type, zone);
    if (ip) {
        uint8_t b[16];
        op.has_nat_ip = true;
        op.commit = true;
        op.nat_ipv6 = strchr(ip, ':') != NULL;
        assert_int_equal(inet_pton(op.nat_ipv6 ? AF_INET6 : AF_INET, ip, b), 1);
        for (int i = 0; i < (op.nat_ipv6 ? 16 : 4); i++) {
            op.nat_ip = (op.nat_ip << 8) | b[i];
        }
        op.nat_port_lo = lo;
        op.nat_port_hi = hi;
    }
    return op;
}

static uint32_t
ct_nat(struct conntrack *ct, struct pkt *p, enum ct_op_type type, uint16_t zone,
       const char *ip, uint16_t lo, uint16_t hi)
{
    struct ct_op op = nat_op(type, zone, ip, lo, hi);
    return run_op(ct, &op, p);
}

static uint32_t
ip4(const char *s)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return a.s_addr;
}

static uint64_t
n_conns(const struct conntrack *ct)
{
    struct conntrack_stats s;
    conntrack_get_stats(ct, &s);
    return s.n_conns;
}

static struct conntrack_stats
stats(const struct conntrack *ct)
{
    struct conntrack_stats s;
    conntrack_get_stats(ct, &s);
    return s;
}

/* The "state" of the only connection of 'zone' in the dump. */
static const char *
dump_state(const struct conntrack *ct, int zone, char *buf, size_t size)
{
    json_t *d = conntrack_dump_json(ct, zone, 0);
    assert_non_null(d);
    assert_int_equal(json_array_size(d), 1);
    snprintf(buf, size, "%s",
             json_string_value(json_object_get(json_array_get(d, 0), "state")));
    json_decref(d);
    return buf;
}

#define TRK CT_STATE_TRK
#define NEW CT_STATE_NEW
#define EST CT_STATE_EST
#define RPL CT_STATE_RPL
#define REL CT_STATE_REL
#define INV CT_STATE_INV
#define SNAT CT_STATE_SNAT
#define DNAT CT_STATE_DNAT

/* ---- Tests. ---- */

static void
test_create_destroy(void **state)
{
    struct conntrack_config cfg = {.max_conns = (size_t)1 << 30};
    struct conntrack *ct = (struct conntrack *)&cfg;

    assert_int_equal(conntrack_create(&cfg, &ct), -EINVAL);
    assert_ptr_equal(ct, (struct conntrack *)&cfg);
    assert_int_equal(conntrack_create(NULL, &ct), 0);
    json_t *s = conntrack_stats_json(ct);
    assert_int_equal(json_integer_value(json_object_get(s, "max_conns")), 262144);
    json_decref(s);
    conntrack_destroy(ct);
    conntrack_destroy(NULL);
    assert_string_equal(conntrack_class.name, "conntrack");
    (void)state;
}

static void
test_udp_states_and_zones(void **state)
{
    struct conntrack *ct = ct_new(NULL);
    struct pkt p;

    /* Unknown: new, and nothing is held until a commit. */
    p = udp(false, "10.0.0.1", 5000, "10.0.0.2", 53);
    assert_int_equal(ct_next(ct, &p, 1), TRK | NEW);
    p = udp(false, "10.0.0.1", 5000, "10.0.0.2", 53);
    assert_int_equal(ct_next(ct, &p, 1), TRK | NEW);
    assert_int_equal(n_conns(ct), 0);
    assert_int_equal(ct_commit(ct, &p, 1), TRK | NEW);
    assert_int_equal(n_conns(ct), 1);

    /* Original direction before a reply: still new. */
    p = udp(false, "10.0.0.1", 5000, "10.0.0.2", 53);
    assert_int_equal(ct_next(ct, &p, 1), TRK | NEW);
    /* The reply: est|rpl; then the original direction is est. */
    p = udp(false, "10.0.0.2", 53, "10.0.0.1", 5000);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);
    p = udp(false, "10.0.0.1", 5000, "10.0.0.2", 53);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST);

    /* Zones isolate: the same packets are unknown in zone 2. */
    p = udp(false, "10.0.0.2", 53, "10.0.0.1", 5000);
    assert_int_equal(ct_next(ct, &p, 2), TRK | NEW);
    p = udp(false, "10.0.0.1", 5000, "10.0.0.2", 53);
    assert_int_equal(ct_next(ct, &p, 2), TRK | NEW);
    assert_int_equal(ct_commit(ct, &p, 2), TRK | NEW);
    assert_int_equal(n_conns(ct), 2);

    /* Another port is another connection. */
    p = udp(false, "10.0.0.1", 5001, "10.0.0.2", 53);
    assert_int_equal(ct_next(ct, &p, 1), TRK | NEW);

    /* Flush per zone, then all. */
    p = udp(false, "10.0.0.3", 1, "10.0.0.4", 2);
    ct_commit(ct, &p, 3);
    assert_int_equal(conntrack_flush(ct, 2), 1);
    assert_int_equal(n_conns(ct), 2);
    p = udp(false, "10.0.0.2", 53, "10.0.0.1", 5000);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);
    assert_int_equal(conntrack_flush(ct, -1), 2);
    assert_int_equal(n_conns(ct), 0);
    p = udp(false, "10.0.0.2", 53, "10.0.0.1", 5000);
    assert_int_equal(ct_next(ct, &p, 1), TRK | NEW);

    /* ct_clear. */
    struct ct_op op = mkop(CT_OP_CLEAR, 0);
    p.key.f.ct_mark = htonl(7);
    assert_int_equal(run_op(ct, &op, &p), 0);
    assert_int_equal(p.key.f.ct_state, 0);
    assert_int_equal(p.key.f.ct_mark, 0);
    assert_int_equal(p.key.f.ct_zone, 0);

    /* Not IP: invalid. */
    pkey_init(&p.key);
    p.key.f.eth_type = htons(0x0806);
    assert_int_equal(ct_next(ct, &p, 1), TRK | INV);
    assert_true(stats(ct).n_invalid >= 1);
    conntrack_destroy(ct);
    (void)state;
}

static void
test_commit_mark_label(void **state)
{
    struct conntrack *ct = ct_new(NULL);
    struct pkt p = udp(false, "10.0.0.1", 7, "10.0.0.2", 8);
    struct ct_op op = mkop(CT_OP_COMMIT, 5);

    op.mark_value = 0x11;
    op.mark_mask = 0xff;
    op.label_value = (lex_u128)0xab << 100;
    op.label_mask = (lex_u128)0xff << 100;
    p.key.f.ct_state = htonl(TRK | NEW);
    run_op(ct, &op, &p);
    /* COMMIT does not recirculate: ct_state stays, mark and label are loaded. */
    assert_int_equal(ntohl(p.key.f.ct_state), TRK | NEW);
    assert_int_equal(ntohl(p.key.f.ct_mark), 0x11);
    assert_true(pkey_field_get(&p.key, PKEY_F_CT_LABEL) == (lex_u128)0xab << 100);

    /* Bits outside the masks are kept. */
    op = mkop(CT_OP_COMMIT, 5);
    op.mark_value = 0x200;
    op.mark_mask = 0xf00;
    op.label_value = 1;
    op.label_mask = 1;
    p = udp(false, "10.0.0.1", 7, "10.0.0.2", 8);
    run_op(ct, &op, &p);

    p = udp(false, "10.0.0.2", 8, "10.0.0.1", 7);
    assert_int_equal(ct_next(ct, &p, 5), TRK | EST | RPL);
    assert_int_equal(ntohl(p.key.f.ct_mark), 0x211);
    assert_true(pkey_field_get(&p.key, PKEY_F_CT_LABEL) == (((lex_u128)0xab << 100) | 1));

    /* Unknown in another zone: mark and label are 0. */
    p = udp(false, "10.0.0.2", 8, "10.0.0.1", 7);
    p.key.f.ct_mark = htonl(0x55);
    assert_int_equal(ct_next(ct, &p, 6), TRK | NEW);
    assert_int_equal(p.key.f.ct_mark, 0);
    conntrack_destroy(ct);
    (void)state;
}

/* A TCP connection 10.0.0.1:40000 -> 10.0.0.2:80 set up with a handshake:
 * client ISN 1000, server ISN 5000. */
static void
tcp_handshake(struct conntrack *ct, uint16_t zone)
{
    struct pkt p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_SYN, 1000, 0, 0);
    assert_int_equal(ct_next(ct, &p, zone), TRK | NEW);
    ct_commit(ct, &p, zone);
    p = tcp4("10.0.0.2", 80, "10.0.0.1", 40000, F_SYN | F_ACK, 5000, 1001, 0);
    assert_int_equal(ct_next(ct, &p, zone), TRK | EST | RPL);
    p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_ACK, 1001, 5001, 0);
    assert_int_equal(ct_next(ct, &p, zone), TRK | EST);
}

static void
test_tcp_fin_sequence_and_reopen(void **state)
{
    struct conntrack *ct = ct_new(NULL);
    char buf[32];
    struct pkt p;

    p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_SYN, 1000, 0, 0);
    ct_commit(ct, &p, 1);
    assert_string_equal(dump_state(ct, 1, buf, sizeof buf), "SYN_SENT");
    p = tcp4("10.0.0.2", 80, "10.0.0.1", 40000, F_SYN | F_ACK, 5000, 1001, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);
    assert_string_equal(dump_state(ct, 1, buf, sizeof buf), "SYN_RECV");
    p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_ACK, 1001, 5001, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST);
    assert_string_equal(dump_state(ct, 1, buf, sizeof buf), "ESTABLISHED");

    /* Data both ways. */
    p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_ACK | F_PSH, 1001, 5001, 100);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST);
    p = tcp4("10.0.0.2", 80, "10.0.0.1", 40000, F_ACK | F_PSH, 5001, 1101, 200);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);

    /* Client closes. */
    p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_FIN | F_ACK, 1101, 5201, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST);
    assert_string_equal(dump_state(ct, 1, buf, sizeof buf), "FIN_WAIT");
    /* An ACK short of the FIN does not acknowledge it. */
    p = tcp4("10.0.0.2", 80, "10.0.0.1", 40000, F_ACK, 5201, 1101, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);
    assert_string_equal(dump_state(ct, 1, buf, sizeof buf), "FIN_WAIT");
    p = tcp4("10.0.0.2", 80, "10.0.0.1", 40000, F_ACK, 5201, 1102, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);
    assert_string_equal(dump_state(ct, 1, buf, sizeof buf), "CLOSE_WAIT");
    p = tcp4("10.0.0.2", 80, "10.0.0.1", 40000, F_FIN | F_ACK, 5201, 1102, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);
    assert_string_equal(dump_state(ct, 1, buf, sizeof buf), "LAST_ACK");
    p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_ACK, 1102, 5202, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST);
    assert_string_equal(dump_state(ct, 1, buf, sizeof buf), "TIME_WAIT");

    /* The FIN timeout applies now. */
    json_t *d = conntrack_dump_json(ct, 1, 0);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(d, 0), "expires_ms")), 30000);
    json_decref(d);

    /* A new SYN on the same tuple reopens: new, then a fresh connection on commit. */
    uint64_t created = stats(ct).n_created;
    p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_SYN, 90000, 0, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | NEW);
    assert_int_equal(n_conns(ct), 0);
    ct_commit(ct, &p, 1);
    assert_int_equal(stats(ct).n_created, created + 1);
    assert_string_equal(dump_state(ct, 1, buf, sizeof buf), "SYN_SENT");
    conntrack_destroy(ct);
    (void)state;
}

static void
test_tcp_window_and_rst(void **state)
{
    struct conntrack *ct = ct_new(NULL);
    char buf[32];
    struct pkt p;

    tcp_handshake(ct, 1);
    uint64_t inv = stats(ct).n_invalid;

    /* Beyond the window the server announced (65535). */
    p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_ACK, 1001 + 200000, 5001, 10);
    assert_int_equal(ct_next(ct, &p, 1), TRK | INV);
    /* Acknowledging data the server never sent. */
    p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_ACK, 1001, 5001 + 100000, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | INV);
    /* Far behind what was already sent. */
    p = tcp4("10.0.0.2", 80, "10.0.0.1", 40000, F_ACK, 5001 - 300000, 1001, 10);
    assert_int_equal(ct_next(ct, &p, 1), TRK | INV);
    assert_int_equal(stats(ct).n_invalid, inv + 3);
    /* In the window: fine; the invalid ones changed nothing. */
    p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_ACK, 1001, 5001, 1000);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST);
    assert_string_equal(dump_state(ct, 1, buf, sizeof buf), "ESTABLISHED");

    /* Without the bytes, only the flags are tracked. */
    p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_ACK, 1001 + 200000, 5001, 10);
    struct ct_op op = mkop(CT_OP_NEXT, 1);
    conntrack_set_packet(ct, NULL, 0, NULL);
    assert_int_equal(conntrack_class.execute(ct, &op, &p.key), 0);
    assert_int_equal(op.state_out, TRK | EST);

    /* RST closes; what follows is invalid but a new SYN. */
    p = tcp4("10.0.0.2", 80, "10.0.0.1", 40000, F_RST, 5001, 0, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);
    assert_string_equal(dump_state(ct, 1, buf, sizeof buf), "CLOSED");
    p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_ACK, 2001, 5001, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | INV);
    json_t *d = conntrack_dump_json(ct, 1, 0);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(d, 0), "expires_ms")), 1000);
    json_decref(d);
    p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_SYN, 7777, 0, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | NEW);

    /* Liberal tracking takes any sequence number. */
    conntrack_destroy(ct);
    struct conntrack_config cfg = {.tcp_liberal = true};
    ct = ct_new(&cfg);
    tcp_handshake(ct, 1);
    p = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, F_ACK, 1001 + 200000, 5001, 10);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST);

    /* A SYN-ACK or an RST cannot start a connection; a bare ACK is picked up. */
    p = tcp4("10.0.0.5", 1, "10.0.0.6", 2, F_SYN | F_ACK, 1, 1, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | INV);
    p = tcp4("10.0.0.5", 1, "10.0.0.6", 2, F_RST, 1, 1, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | INV);
    p = tcp4("10.0.0.5", 1, "10.0.0.6", 2, F_SYN | F_FIN, 1, 0, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | INV);
    p = tcp4("10.0.0.5", 1, "10.0.0.6", 2, F_ACK, 1, 1, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | NEW);
    ct_commit(ct, &p, 1);
    p = tcp4("10.0.0.6", 2, "10.0.0.5", 1, F_ACK, 99, 1, 0);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);
    conntrack_destroy(ct);
    (void)state;
}

static void
test_tcp_window_scale(void **state)
{
    struct conntrack *ct = ct_new(NULL);
    struct spec s = {.proto = PROTO_TCP,
                     .src = "10.0.0.1",
                     .dst = "10.0.0.2",
                     .sport = 1234,
                     .dport = 443,
                     .flags = F_SYN,
                     .seq = 100,
                     .win = 1000,
                     .wscale = 7};
    struct pkt p;

    build(&p, &s);
    ct_commit(ct, &p, 1);
    s = (struct spec){.proto = PROTO_TCP,
                      .src = "10.0.0.2",
                      .dst = "10.0.0.1",
                      .sport = 443,
                      .dport = 1234,
                      .flags = F_SYN | F_ACK,
                      .seq = 900,
                      .ack = 101,
                      .win = 1000,
                      .wscale = 7};
    build(&p, &s);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);
    /* The server announces 1000 << 7 = 128000 bytes: data 100000 bytes ahead fits. */
    s = (struct spec){.proto = PROTO_TCP,
                      .src = "10.0.0.2",
                      .dst = "10.0.0.1",
                      .sport = 443,
                      .dport = 1234,
                      .flags = F_ACK,
                      .seq = 901,
                      .ack = 101,
                      .win = 1000,
                      .wscale = -1};
    build(&p, &s);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);
    s = (struct spec){.proto = PROTO_TCP,
                      .src = "10.0.0.1",
                      .dst = "10.0.0.2",
                      .sport = 1234,
                      .dport = 443,
                      .flags = F_ACK,
                      .seq = 101 + 100000,
                      .ack = 901,
                      .win = 1000,
                      .wscale = -1};
    build(&p, &s);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST);
    /* ...but not 200000. */
    s.seq = 101 + 200000;
    build(&p, &s);
    assert_int_equal(ct_next(ct, &p, 1), TRK | INV);
    conntrack_destroy(ct);
    (void)state;
}

static void
test_dnat_and_unnat(void **state)
{
    struct conntrack *ct = ct_new(NULL);
    struct pkt p;

    /* Client 10.0.0.1:40000 -> VIP 172.16.0.10:80, DNAT to 10.0.0.2:8080. */
    p = tcp4("10.0.0.1", 40000, "172.16.0.10", 80, F_SYN, 1, 0, 0);
    assert_int_equal(ct_nat(ct, &p, CT_OP_DNAT, 3, "10.0.0.2", 8080, 8080),
                     TRK | NEW | DNAT);
    assert_int_equal(p.key.f.ip4_dst, ip4("10.0.0.2"));
    assert_int_equal(ntohs(p.key.f.tcp_dst), 8080);
    assert_int_equal(p.key.f.ip4_src, ip4("10.0.0.1"));
    assert_int_equal(n_conns(ct), 1);

    /* The reply is un-NATed by ct_dnat without an address. */
    p = tcp4("10.0.0.2", 8080, "10.0.0.1", 40000, F_SYN | F_ACK, 100, 2, 0);
    assert_int_equal(ct_nat(ct, &p, CT_OP_DNAT, 3, NULL, 0, 0), TRK | EST | RPL | SNAT);
    assert_int_equal(p.key.f.ip4_src, ip4("172.16.0.10"));
    assert_int_equal(ntohs(p.key.f.tcp_src), 80);
    assert_int_equal(p.key.f.ip4_dst, ip4("10.0.0.1"));

    /* A later packet with ct_dnat(ip) follows the connection, not a new NAT. */
    p = tcp4("10.0.0.1", 40000, "172.16.0.10", 80, F_ACK, 2, 101, 0);
    assert_int_equal(ct_nat(ct, &p, CT_OP_DNAT, 3, "10.9.9.9", 0, 0), TRK | EST | DNAT);
    assert_int_equal(p.key.f.ip4_dst, ip4("10.0.0.2"));
    /* ...and so does ct_dnat without an address. */
    p = tcp4("10.0.0.1", 40000, "172.16.0.10", 80, F_ACK, 2, 101, 0);
    assert_int_equal(ct_nat(ct, &p, CT_OP_DNAT, 3, NULL, 0, 0), TRK | EST | DNAT);
    assert_int_equal(ntohs(p.key.f.tcp_dst), 8080);

    /* After NAT, a second operation in the zone finds the same connection
     * (ct_commit after ct_lb in a switch) and leaves the header alone. */
    assert_int_equal(ct_next(ct, &p, 3), TRK | EST);
    assert_int_equal(p.key.f.ip4_dst, ip4("10.0.0.2"));
    /* ct_next does not NAT. */
    p = tcp4("10.0.0.1", 40000, "172.16.0.10", 80, F_ACK, 2, 101, 0);
    assert_int_equal(ct_next(ct, &p, 3), TRK | EST);
    assert_int_equal(p.key.f.ip4_dst, ip4("172.16.0.10"));

    /* Without a connection, ct_dnat without an address is new and commits nothing. */
    p = tcp4("10.0.0.7", 1, "172.16.0.10", 80, F_SYN, 1, 0, 0);
    assert_int_equal(ct_nat(ct, &p, CT_OP_DNAT, 3, NULL, 0, 0), TRK | NEW);
    assert_int_equal(n_conns(ct), 1);

    /* An address of the other family. */
    p = tcp4("10.0.0.7", 1, "172.16.0.10", 80, F_SYN, 1, 0, 0);
    struct ct_op op = nat_op(CT_OP_DNAT, 3, "fd00::1", 0, 0);
    conntrack_set_packet(ct, p.b, p.len, &p.lo);
    assert_int_equal(conntrack_class.execute(ct, &op, &p.key), -EAFNOSUPPORT);

    /* ct_commit_nat commits and applies the connection's NAT. */
    p = tcp4("10.0.0.2", 8080, "10.0.0.1", 40000, F_ACK, 101, 2, 0);
    op = mkop(CT_OP_COMMIT_NAT, 3);
    assert_int_equal(run_op(ct, &op, &p), TRK | EST | RPL | SNAT);
    assert_int_equal(p.key.f.ip4_src, ip4("172.16.0.10"));
    p = udp(false, "10.0.0.8", 1, "10.0.0.9", 2);
    op = mkop(CT_OP_COMMIT_NAT, 3);
    assert_int_equal(run_op(ct, &op, &p), TRK | NEW);
    assert_int_equal(n_conns(ct), 2);
    assert_true(stats(ct).n_nat >= 5);
    conntrack_destroy(ct);
    (void)state;
}

static void
test_snat_ports(void **state)
{
    struct conntrack *ct = ct_new(NULL);
    struct pkt p;
    uint16_t ports[2];

    /* Two clients with the same source port, SNAT to one address, range 5000-5001. */
    for (int i = 0; i < 2; i++) {
        p = udp(false, i ? "10.0.0.2" : "10.0.0.1", 7000, "8.8.8.8", 53);
        assert_int_equal(ct_nat(ct, &p, CT_OP_SNAT, 9, "192.0.2.1", 5000, 5001),
                         TRK | NEW | SNAT);
        assert_int_equal(p.key.f.ip4_src, ip4("192.0.2.1"));
        ports[i] = ntohs(p.key.f.udp_src);
        assert_true(ports[i] >= 5000 && ports[i] <= 5001);
        assert_int_equal(p.key.f.ip4_dst, ip4("8.8.8.8"));
    }
    assert_int_not_equal(ports[0], ports[1]);
    /* The range is used up: refused. */
    p = udp(false, "10.0.0.3", 7000, "8.8.8.8", 53);
    assert_int_equal(ct_nat(ct, &p, CT_OP_SNAT, 9, "192.0.2.1", 5000, 5001), TRK | INV);
    assert_int_equal(n_conns(ct), 2);

    /* Replies go back to their clients. */
    for (int i = 0; i < 2; i++) {
        p = udp(false, "8.8.8.8", 53, "192.0.2.1", ports[i]);
        assert_int_equal(ct_nat(ct, &p, CT_OP_SNAT, 9, NULL, 0, 0),
                         TRK | EST | RPL | DNAT);
        assert_int_equal(p.key.f.ip4_dst, ip4(i ? "10.0.0.2" : "10.0.0.1"));
        assert_int_equal(ntohs(p.key.f.udp_dst), 7000);
    }

    /* Without a range: the source port is kept while free, else another is chosen. */
    p = udp(false, "10.1.0.1", 4444, "8.8.4.4", 53);
    ct_nat(ct, &p, CT_OP_SNAT, 9, "192.0.2.2", 0, 0);
    assert_int_equal(ntohs(p.key.f.udp_src), 4444);
    p = udp(false, "10.1.0.2", 4444, "8.8.4.4", 53);
    assert_int_equal(ct_nat(ct, &p, CT_OP_SNAT, 9, "192.0.2.2", 0, 0), TRK | NEW | SNAT);
    assert_int_not_equal(ntohs(p.key.f.udp_src), 4444);
    assert_true(ntohs(p.key.f.udp_src) >= 1024);
    uint16_t second = ntohs(p.key.f.udp_src);
    p = udp(false, "8.8.4.4", 53, "192.0.2.2", second);
    assert_int_equal(ct_nat(ct, &p, CT_OP_SNAT, 9, NULL, 0, 0), TRK | EST | RPL | DNAT);
    assert_int_equal(p.key.f.ip4_dst, ip4("10.1.0.2"));
    assert_int_equal(ntohs(p.key.f.udp_dst), 4444);

    /* DNAT with a port range picks a free port in it. */
    p = udp(false, "10.2.0.1", 1000, "203.0.113.1", 80);
    ct_nat(ct, &p, CT_OP_DNAT, 10, "10.2.0.9", 8000, 8010);
    assert_true(ntohs(p.key.f.udp_dst) >= 8000 && ntohs(p.key.f.udp_dst) <= 8010);

    json_t *d = conntrack_dump_json(ct, 9, 0);
    assert_int_equal(json_array_size(d), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "nat")),
                        "snat");
    json_decref(d);
    conntrack_destroy(ct);
    (void)state;
}

static struct action_backend lb_backends[3] = {
    {.ip = 0x0a000101, .port = 8080},
    {.ip = 0x0a000102, .port = 8080},
    {.ip = 0x0a000103, .port = 0},
};

static void
test_lb(void **state)
{
    struct conntrack *ct = ct_new(NULL);
    struct action_lb lb = {
        .has_backends = true, .backends = lb_backends, .n_backends = 3};
    int chosen[64];
    int counts[3] = {0};
    struct pkt p;

    for (int i = 0; i < 64; i++) {
        p = tcp4("10.0.0.5", (uint16_t)(30000 + i), "172.16.0.1", 80, F_SYN, 1, 0, 0);
        struct ct_op op = mkop(CT_OP_LB, 4);
        op.lb = &lb;
        op.lb_mark = true;
        assert_int_equal(run_op(ct, &op, &p), TRK | NEW | DNAT);
        assert_in_range(op.backend, 0, 2);
        chosen[i] = op.backend;
        counts[op.backend]++;
        assert_int_equal(ntohl(p.key.f.ip4_dst), lb_backends[op.backend].ip);
        assert_int_equal(ntohs(p.key.f.tcp_dst), op.backend == 2 ? 80 : 8080);
        assert_int_equal(ntohl(p.key.f.ct_mark), CT_MARK_NATTED);
    }
    for (int b = 0; b < 3; b++) {
        assert_true(counts[b] > 0);
    }

    /* The choice stays with the connection, even when the backend list changes. */
    struct action_lb lb2 = {
        .has_backends = true, .backends = lb_backends, .n_backends = 2};
    for (int i = 0; i < 64; i++) {
        p = tcp4("10.0.0.5", (uint16_t)(30000 + i), "172.16.0.1", 80, F_SYN, 1, 0, 0);
        struct ct_op op = mkop(CT_OP_LB, 4);
        op.lb = chosen[i] == 2 ? &lb : &lb2;
        op.lb_mark = true;
        conntrack_set_packet(ct, NULL, 0, NULL);
        assert_int_equal(conntrack_class.execute(ct, &op, &p.key), 0);
        assert_int_equal(op.state_out, TRK | NEW | DNAT);
        assert_int_equal(op.backend, chosen[i]);
        assert_int_equal(ntohl(p.key.f.ip4_dst), lb_backends[chosen[i]].ip);
    }

    /* The reply is un-NATed by a bare ct_lb_mark. */
    int b0 = chosen[0];
    p = tcp4(b0 == 0   ? "10.0.1.1"
             : b0 == 1 ? "10.0.1.2"
                       : "10.0.1.3",
             b0 == 2 ? 80 : 8080, "10.0.0.5", 30000, F_SYN | F_ACK, 50, 2, 0);
    struct action_lb bare = {0};
    struct ct_op op = mkop(CT_OP_LB, 4);
    op.lb = &bare;
    op.lb_mark = true;
    conntrack_set_packet(ct, NULL, 0, NULL);
    assert_int_equal(conntrack_class.execute(ct, &op, &p.key), 0);
    assert_int_equal(op.state_out, TRK | EST | RPL | SNAT);
    assert_int_equal(p.key.f.ip4_src, ip4("172.16.0.1"));
    assert_int_equal(ntohs(p.key.f.tcp_src), 80);
    assert_int_equal(ntohl(p.key.f.ct_mark), CT_MARK_NATTED);

    /* The same connection in a new tracker gets the same backend: a hash. */
    struct conntrack *ct2 = ct_new(NULL);
    for (int i = 0; i < 8; i++) {
        p = tcp4("10.0.0.5", (uint16_t)(30000 + i), "172.16.0.1", 80, F_SYN, 1, 0, 0);
        op = mkop(CT_OP_LB, 4);
        op.lb = &lb;
        run_op(ct2, &op, &p);
        assert_int_equal(op.backend, chosen[i]);
        /* ct_lb: natted goes to ct_label. */
        assert_true(pkey_field_get(&p.key, PKEY_F_CT_LABEL) == CT_MARK_NATTED);
        assert_int_equal(p.key.f.ct_mark, 0);
    }
    conntrack_destroy(ct2);

    /* hash_fields: only the client address counts; skip_snat, force_snat. */
    char fields[] = "ip_src";
    struct action_lb lb3 = {.has_backends = true,
                            .backends = lb_backends,
                            .n_backends = 3,
                            .hash_fields = fields,
                            .ct_flag = ACTION_CT_FLAG_SKIP_SNAT};
    int first = -1;
    for (int i = 0; i < 32; i++) {
        p = udp(false, "10.0.0.77", (uint16_t)(1000 + i), "172.16.0.2", 53);
        op = mkop(CT_OP_LB, 4);
        op.lb = &lb3;
        op.lb_mark = true;
        run_op(ct, &op, &p);
        if (first < 0) {
            first = op.backend;
        }
        assert_int_equal(op.backend, first);
        assert_int_equal(ntohl(p.key.f.ct_mark), CT_MARK_NATTED | CT_MARK_SKIP_SNAT);
    }
    int seen[3] = {0};
    for (int i = 0; i < 64; i++) {
        char src[32];
        snprintf(src, sizeof src, "10.0.3.%d", i + 1);
        p = udp(false, src, 1000, "172.16.0.2", 53);
        op = mkop(CT_OP_LB, 4);
        op.lb = &lb3;
        run_op(ct, &op, &p);
        seen[op.backend] = 1;
    }
    assert_int_equal(seen[0] + seen[1] + seen[2], 3);
    lb3.ct_flag = ACTION_CT_FLAG_FORCE_SNAT;
    p = udp(false, "10.0.9.9", 9, "172.16.0.2", 53);
    op = mkop(CT_OP_LB, 4);
    op.lb = &lb3;
    run_op(ct, &op, &p);
    assert_true(pkey_field_get(&p.key, PKEY_F_CT_LABEL) ==
                (CT_MARK_NATTED | CT_MARK_FORCE_SNAT));

    /* A backend of the other family. */
    struct action_backend v6b = {.ipv6 = true, .ip = 1, .port = 80};
    struct action_lb lb6 = {.has_backends = true, .backends = &v6b, .n_backends = 1};
    p = udp(false, "10.0.9.10", 9, "172.16.0.2", 53);
    op = mkop(CT_OP_LB, 4);
    op.lb = &lb6;
    conntrack_set_packet(ct, p.b, p.len, &p.lo);
    assert_int_equal(conntrack_class.execute(ct, &op, &p.key), -EAFNOSUPPORT);
    conntrack_destroy(ct);
    (void)state;
}

static void
test_icmp_echo(void **state)
{
    struct conntrack *ct = ct_new(NULL);
    struct pkt p;

    p = icmp_echo(false, "10.0.0.1", "10.0.0.2", true, 77);
    assert_int_equal(ct_next(ct, &p, 1), TRK | NEW);
    ct_commit(ct, &p, 1);
    p = icmp_echo(false, "10.0.0.2", "10.0.0.1", false, 77);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);
    p = icmp_echo(false, "10.0.0.1", "10.0.0.2", true, 77);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST);
    /* Another identifier is another connection. */
    p = icmp_echo(false, "10.0.0.1", "10.0.0.2", true, 78);
    assert_int_equal(ct_next(ct, &p, 1), TRK | NEW);
    /* A reply to nothing, or an echo request the other way with the same id. */
    p = icmp_echo(false, "10.0.0.2", "10.0.0.1", false, 78);
    assert_int_equal(ct_next(ct, &p, 1), TRK | INV);
    p = icmp_echo(false, "10.0.0.2", "10.0.0.1", true, 77);
    assert_int_equal(ct_next(ct, &p, 1), TRK | NEW);

    /* SNAT of echo: the reply comes back to the client. */
    p = icmp_echo(false, "10.0.0.1", "8.8.8.8", true, 5);
    assert_int_equal(ct_nat(ct, &p, CT_OP_SNAT, 2, "192.0.2.1", 0, 0), TRK | NEW | SNAT);
    p = icmp_echo(false, "8.8.8.8", "192.0.2.1", false, 5);
    assert_int_equal(ct_nat(ct, &p, CT_OP_SNAT, 2, NULL, 0, 0), TRK | EST | RPL | DNAT);
    assert_int_equal(p.key.f.ip4_dst, ip4("10.0.0.1"));

    /* ICMPv6 echo. */
    p = icmp_echo(true, "fd00::1", "fd00::2", true, 9);
    ct_commit(ct, &p, 1);
    p = icmp_echo(true, "fd00::2", "fd00::1", false, 9);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);

    json_t *d = conntrack_dump_json(ct, 1, 0);
    assert_int_equal(json_array_size(d), 2);
    json_t *e = json_array_get(d, 0);
    assert_string_equal(json_string_value(json_object_get(e, "proto")), "icmp");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(e, "orig"), "id")), 77);
    assert_string_equal(json_string_value(json_object_get(e, "state")), "ESTABLISHED");
    json_decref(d);
    conntrack_destroy(ct);
    (void)state;
}

/* An ICMP error from 'src' to 'dst' quoting the first 28 (IPv4) or 48 (IPv6) bytes of
 * datagram 'q'. */
static struct pkt
icmp_error(const struct pkt *q, bool ipv6, const char *src, const char *dst)
{
    struct pkt p;
    size_t qlen = MIN(q->len - 14, ipv6 ? 48 : 28);
    struct spec s = {.ipv6 = ipv6,
                     .proto = ipv6 ? PROTO_ICMP6 : PROTO_ICMP,
                     .src = src,
                     .dst = dst,
                     .sport = ipv6 ? 1 : 3,
                     .dport = ipv6 ? 4 : 3,
                     .quote = q->b + 14,
                     .quote_len = qlen};
    build(&p, &s);
    return p;
}

static void
check_icmp_checksums(const struct pkt *p, bool ipv6)
{
    const uint8_t *ip = p->b + 14;
    size_t l3 = ipv6 ? 40 : 20;
    size_t total = p->len - 14;
    uint32_t sum = 0;
    if (ipv6) {
        uint8_t ph[4] = {0, 0, 0, PROTO_ICMP6};
        sum = sum_bytes(sum, ip + 8, 32);
        sum = sum_bytes(sum, ph, 4);
        sum += (uint32_t)(total - l3);
    } else {
        const uint8_t *inner = ip + l3 + 8;
        assert_int_equal(fold(sum_bytes(0, inner, 20)), 0);
    }
    sum = sum_bytes(sum, ip + l3, total - l3);
    assert_int_equal(fold(sum), 0);
}

static void
test_icmp_related(void **state)
{
    struct conntrack *ct = ct_new(NULL);
    struct pkt p, q, e;

    /* A UDP connection DNATed from VIP 172.16.0.1:53 to 10.0.1.1:5353. */
    p = udp(false, "10.0.0.5", 4000, "172.16.0.1", 53);
    assert_int_equal(ct_nat(ct, &p, CT_OP_DNAT, 1, "10.0.1.1", 5353, 5353),
                     TRK | NEW | DNAT);
    /* The datagram as it left: 10.0.0.5:4000 -> 10.0.1.1:5353. */
    q = udp(false, "10.0.0.5", 4000, "10.0.1.1", 5353);

    /* The backend answers port unreachable: related, travelling as a reply. */
    e = icmp_error(&q, false, "10.0.1.1", "10.0.0.5");
    assert_int_equal(ct_next(ct, &e, 1), TRK | REL | RPL);
    assert_int_equal(e.key.f.ip4_src, ip4("10.0.1.1"));
    assert_int_equal(conntrack_rewrite_related(ct, e.b, e.len), 0);

    /* With NAT: outer source and quoted destination become the VIP. */
    e = icmp_error(&q, false, "10.0.1.1", "10.0.0.5");
    assert_int_equal(ct_nat(ct, &e, CT_OP_DNAT, 1, NULL, 0, 0), TRK | REL | RPL | SNAT);
    assert_int_equal(e.key.f.ip4_src, ip4("172.16.0.1"));
    assert_int_equal(e.key.f.ip4_dst, ip4("10.0.0.5"));
    assert_int_equal(conntrack_rewrite_related(ct, e.b, e.len - 1), -EINVAL);
    assert_int_equal(conntrack_rewrite_related(ct, e.b, e.len), 1);
    const uint8_t *inner = e.b + 14 + 20 + 8;
    assert_memory_equal(inner + 16, &(uint32_t){ip4("172.16.0.1")}, 4);
    assert_int_equal(get16(inner + 22), 53);
    assert_int_equal(get16(inner + 20), 4000);
    /* The outer source as the pipeline would write it, then every checksum holds. */
    memcpy(e.b + 14 + 12, &e.key.f.ip4_src, 4);
    check_icmp_checksums(&e, false);
    /* The quoted UDP checksum was adjusted: recompute it over the pseudo-header and
     * the 8 quoted bytes plus the 12-byte payload we know. */
    {
        uint8_t full[8 + 12];
        memcpy(full, inner + 20, 8);
        memset(full + 8, 0xab, 12);
        uint8_t ph[4] = {0, 0, 0, PROTO_UDP};
        uint32_t sum = sum_bytes(0, inner + 12, 8);
        sum = sum_bytes(sum, ph, 4);
        sum += 20;
        sum = sum_bytes(sum, full, 20);
        assert_int_equal(fold(sum), 0);
    }

    /* An error from a router on the way keeps its source. */
    e = icmp_error(&q, false, "10.0.0.254", "10.0.0.5");
    assert_int_equal(ct_nat(ct, &e, CT_OP_DNAT, 1, NULL, 0, 0), TRK | REL | RPL);
    assert_int_equal(e.key.f.ip4_src, ip4("10.0.0.254"));
    assert_int_equal(conntrack_rewrite_related(ct, e.b, e.len), 1);

    /* Unrelated errors, and errors without their bytes, are invalid. */
    q = udp(false, "10.0.0.5", 4001, "10.0.1.1", 5353);
    e = icmp_error(&q, false, "10.0.1.1", "10.0.0.5");
    assert_int_equal(ct_next(ct, &e, 1), TRK | INV);
    q = udp(false, "10.0.0.5", 4000, "10.0.1.1", 5353);
    e = icmp_error(&q, false, "10.0.1.1", "10.0.0.5");
    struct ct_op op = mkop(CT_OP_NEXT, 1);
    conntrack_set_packet(ct, NULL, 0, NULL);
    assert_int_equal(conntrack_class.execute(ct, &op, &e.key), 0);
    assert_int_equal(op.state_out, TRK | INV);
    assert_int_equal(stats(ct).n_related, 3);

    /* An error travelling in the original direction (about the reply). */
    q = udp(false, "172.16.0.1", 53, "10.0.0.5", 4000);
    e = icmp_error(&q, false, "10.0.0.5", "172.16.0.1");
    assert_int_equal(ct_nat(ct, &e, CT_OP_DNAT, 1, NULL, 0, 0), TRK | REL | DNAT);
    assert_int_equal(e.key.f.ip4_dst, ip4("10.0.1.1"));
    assert_int_equal(conntrack_rewrite_related(ct, e.b, e.len), 1);
    inner = e.b + 14 + 20 + 8;
    assert_memory_equal(inner + 12, &(uint32_t){ip4("10.0.1.1")}, 4);
    assert_int_equal(get16(inner + 20), 5353);

    /* A TCP connection SNATed; a time-exceeded error from a router comes back. */
    p = tcp4("10.0.0.5", 40000, "198.51.100.1", 443, F_SYN, 10, 0, 0);
    assert_int_equal(ct_nat(ct, &p, CT_OP_SNAT, 7, "192.0.2.9", 0, 0), TRK | NEW | SNAT);
    q = tcp4("192.0.2.9", 40000, "198.51.100.1", 443, F_SYN, 10, 0, 0);
    e = icmp_error(&q, false, "203.0.113.1", "192.0.2.9");
    assert_int_equal(ct_nat(ct, &e, CT_OP_SNAT, 7, NULL, 0, 0), TRK | REL | RPL | DNAT);
    assert_int_equal(e.key.f.ip4_dst, ip4("10.0.0.5"));
    assert_int_equal(conntrack_rewrite_related(ct, e.b, e.len), 1);
    memcpy(e.b + 14 + 16, &e.key.f.ip4_dst, 4);
    check_icmp_checksums(&e, false);

    /* ICMPv6: a UDP flow DNATed, the backend's error. */
    p = udp(true, "fd00::5", 4000, "fd00:ffff::1", 53);
    assert_int_equal(ct_nat(ct, &p, CT_OP_DNAT, 1, "fd00:1::1", 0, 0), TRK | NEW | DNAT);
    q = udp(true, "fd00::5", 4000, "fd00:1::1", 53);
    e = icmp_error(&q, true, "fd00:1::1", "fd00::5");
    assert_int_equal(ct_nat(ct, &e, CT_OP_DNAT, 1, NULL, 0, 0), TRK | REL | RPL | SNAT);
    uint8_t vip[16];
    inet_pton(AF_INET6, "fd00:ffff::1", vip);
    assert_memory_equal(e.key.f.ip6_src, vip, 16);
    assert_int_equal(conntrack_rewrite_related(ct, e.b, e.len), 1);
    assert_memory_equal(e.b + 14 + 40 + 8 + 24, vip, 16);
    /* The checksum holds over the outer addresses as they were: the outer rewrite
     * (pseudo-header) is the pipeline's. */
    check_icmp_checksums(&e, true);
    conntrack_destroy(ct);
    (void)state;
}

static void
test_timeouts_and_sweep(void **state)
{
    struct conntrack_config cfg = {
        .udp_first_ms = 1000, .udp_est_ms = 5000, .icmp_ms = 1500};
    struct conntrack *ct = ct_new(&cfg);
    struct pkt p;

    p = udp(false, "10.0.0.1", 1, "10.0.0.2", 2);
    ct_commit(ct, &p, 1);
    p = udp(false, "10.0.0.1", 3, "10.0.0.2", 4);
    ct_commit(ct, &p, 1);
    p = udp(false, "10.0.0.2", 4, "10.0.0.1", 3);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL); /* Now 5000 ms. */
    p = icmp_echo(false, "10.0.0.1", "10.0.0.2", true, 1);
    ct_commit(ct, &p, 1);

    fake_now += 999;
    assert_int_equal(conntrack_sweep(ct, 0), 0);
    p = udp(false, "10.0.0.1", 1, "10.0.0.2", 2);
    assert_int_equal(ct_next(ct, &p, 1), TRK | NEW); /* Refreshed: 1000 more. */
    fake_now += 1000;
    /* Found dead at lookup. */
    p = udp(false, "10.0.0.1", 1, "10.0.0.2", 2);
    assert_int_equal(ct_next(ct, &p, 1), TRK | NEW);
    assert_int_equal(n_conns(ct), 2);
    assert_int_equal(stats(ct).n_expired, 1);
    /* The ICMP one (1500) goes by the sweep. */
    assert_int_equal(conntrack_sweep(ct, 0), 1);
    assert_int_equal(n_conns(ct), 1);
    fake_now += 3001;
    assert_int_equal(conntrack_sweep(ct, 1), 1);
    assert_int_equal(n_conns(ct), 0);
    assert_int_equal(stats(ct).n_expired, 3);

    /* Sweep honours 'max'. */
    for (int i = 0; i < 5; i++) {
        p = udp(false, "10.0.0.1", (uint16_t)(100 + i), "10.0.0.2", 2);
        ct_commit(ct, &p, 1);
    }
    fake_now += 1000;
    assert_int_equal(conntrack_sweep(ct, 2), 2);
    assert_int_equal(conntrack_sweep(ct, 0), 3);

    /* Defaults. */
    conntrack_destroy(ct);
    ct = ct_new(NULL);
    p = udp(false, "10.0.0.1", 1, "10.0.0.2", 2);
    ct_commit(ct, &p, 1);
    p = tcp4("10.0.0.1", 1, "10.0.0.2", 2, F_SYN, 1, 0, 0);
    ct_commit(ct, &p, 1);
    struct pkt o;
    struct spec s = {.proto = 47, .src = "10.0.0.1", .dst = "10.0.0.2"};
    build(&o, &s);
    ct_commit(ct, &o, 1);
    json_t *d = conntrack_dump_json(ct, -1, 0);
    assert_int_equal(json_array_size(d), 3);
    /* Sorted by protocol number within the zone: tcp 6, udp 17, gre 47. */
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(d, 0), "expires_ms")), 30000);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(d, 1), "expires_ms")), 30000);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(d, 2), "expires_ms")), 60000);
    assert_string_equal(json_string_value(json_object_get(json_array_get(d, 2), "proto")),
                        "47");
    json_decref(d);
    conntrack_destroy(ct);
    (void)state;
}

static void
test_max_conns(void **state)
{
    struct conntrack_config cfg = {.max_conns = 2};
    struct conntrack *ct = ct_new(&cfg);
    struct pkt p;

    for (int i = 0; i < 2; i++) {
        p = udp(false, "10.0.0.1", (uint16_t)(1 + i), "10.0.0.2", 2);
        ct_commit(ct, &p, 1);
    }
    p = udp(false, "10.0.0.1", 3, "10.0.0.2", 2);
    assert_int_equal(ct_commit(ct, &p, 1), TRK | INV);
    p = udp(false, "10.0.0.1", 3, "10.0.0.2", 2);
    assert_int_equal(ct_nat(ct, &p, CT_OP_DNAT, 1, "10.0.0.9", 0, 0), TRK | INV);
    assert_int_equal(p.key.f.ip4_dst, ip4("10.0.0.2"));
    struct conntrack_stats s = stats(ct);
    assert_int_equal(s.n_conns, 2);
    assert_int_equal(s.n_full_drops, 2);
    assert_int_equal(s.n_invalid, 2);
    /* Existing connections still work. */
    p = udp(false, "10.0.0.2", 2, "10.0.0.1", 1);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);
    conntrack_destroy(ct);
    (void)state;
}

static void
test_dump_and_stats_json(void **state)
{
    struct conntrack *ct = ct_new(NULL);
    struct pkt p;

    p = udp(false, "10.0.0.9", 1, "10.0.0.2", 2);
    ct_commit(ct, &p, 7);
    p = udp(false, "10.0.0.1", 1, "10.0.0.2", 2);
    ct_commit(ct, &p, 7);
    p = tcp4("10.0.0.1", 5, "172.16.0.1", 80, F_SYN, 1, 0, 0);
    ct_nat(ct, &p, CT_OP_DNAT, 3, "10.0.0.2", 8080, 8080);

    json_t *d = conntrack_dump_json(ct, -1, 0);
    assert_int_equal(json_array_size(d), 3);
    json_t *e = json_array_get(d, 0);
    assert_int_equal(json_integer_value(json_object_get(e, "zone")), 3);
    assert_string_equal(json_string_value(json_object_get(e, "proto")), "tcp");
    assert_string_equal(json_string_value(json_object_get(e, "nat")), "dnat");
    assert_string_equal(json_string_value(json_object_get(e, "state")), "SYN_SENT");
    json_t *r = json_object_get(e, "reply");
    assert_string_equal(json_string_value(json_object_get(r, "src")), "10.0.0.2");
    assert_int_equal(json_integer_value(json_object_get(r, "sport")), 8080);
    json_t *o = json_object_get(e, "orig");
    assert_string_equal(json_string_value(json_object_get(o, "dst")), "172.16.0.1");
    assert_int_equal(json_integer_value(json_object_get(o, "dport")), 80);
    assert_string_equal(json_string_value(json_object_get(e, "label")),
                        "0x00000000000000000000000000000000");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(d, 1), "orig"), "src")),
                        "10.0.0.1");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(d, 2), "orig"), "src")),
                        "10.0.0.9");
    json_decref(d);

    d = conntrack_dump_json(ct, 7, 1);
    assert_int_equal(json_array_size(d), 1);
    json_decref(d);
    d = conntrack_dump_json(ct, 99, 0);
    assert_int_equal(json_array_size(d), 0);
    json_decref(d);

    json_t *s = conntrack_stats_json(ct);
    assert_int_equal(json_integer_value(json_object_get(s, "n_conns")), 3);
    assert_int_equal(json_integer_value(json_object_get(s, "n_created")), 3);
    assert_int_equal(json_integer_value(json_object_get(s, "n_lookups")), 3);
    assert_int_equal(json_integer_value(json_object_get(s, "n_nat")), 1);
    assert_int_equal(json_integer_value(json_object_get(s, "max_conns")), 262144);
    assert_non_null(json_object_get(s, "n_full_drops"));
    assert_non_null(json_object_get(s, "n_related"));
    assert_non_null(json_object_get(s, "n_expired"));
    assert_non_null(json_object_get(s, "n_invalid"));
    json_decref(s);
    conntrack_destroy(ct);
    (void)state;
}

static void
test_ipv6(void **state)
{
    struct conntrack *ct = ct_new(NULL);
    struct pkt p;
    struct spec s = {.ipv6 = true,
                     .proto = PROTO_TCP,
                     .src = "fd00::1",
                     .dst = "fd00::2",
                     .sport = 1000,
                     .dport = 22,
                     .flags = F_SYN,
                     .seq = 1,
                     .wscale = -1};

    build(&p, &s);
    assert_int_equal(ct_next(ct, &p, 1), TRK | NEW);
    ct_commit(ct, &p, 1);
    s = (struct spec){.ipv6 = true,
                      .proto = PROTO_TCP,
                      .src = "fd00::2",
                      .dst = "fd00::1",
                      .sport = 22,
                      .dport = 1000,
                      .flags = F_SYN | F_ACK,
                      .seq = 50,
                      .ack = 2,
                      .wscale = -1};
    build(&p, &s);
    assert_int_equal(ct_next(ct, &p, 1), TRK | EST | RPL);

    /* UDP SNAT in IPv6. */
    p = udp(true, "fd00::1", 5000, "2001:db8::53", 53);
    assert_int_equal(ct_nat(ct, &p, CT_OP_SNAT, 2, "2001:db8:1::1", 0, 0),
                     TRK | NEW | SNAT);
    uint8_t a[16];
    inet_pton(AF_INET6, "2001:db8:1::1", a);
    assert_memory_equal(p.key.f.ip6_src, a, 16);
    p = udp(true, "2001:db8::53", 53, "2001:db8:1::1", 5000);
    assert_int_equal(ct_nat(ct, &p, CT_OP_SNAT, 2, NULL, 0, 0), TRK | EST | RPL | DNAT);
    inet_pton(AF_INET6, "fd00::1", a);
    assert_memory_equal(p.key.f.ip6_dst, a, 16);

    /* The same addresses as IPv4-sized bytes do not collide with IPv4. */
    p = udp(true, "::a00:1", 1, "::a00:2", 2);
    ct_commit(ct, &p, 3);
    p = udp(false, "10.0.0.1", 1, "10.0.0.2", 2);
    assert_int_equal(ct_next(ct, &p, 3), TRK | NEW);

    /* An IPv6 fragment is not tracked. */
    p = udp(true, "fd00::1", 5000, "2001:db8::53", 53);
    p.key.f.ip_frag = PKEY_FRAG_ANY;
    assert_int_equal(ct_next(ct, &p, 2), TRK | INV);

    json_t *d = conntrack_dump_json(ct, 2, 0);
    json_t *o = json_object_get(json_array_get(d, 0), "orig");
    assert_string_equal(json_string_value(json_object_get(o, "dst")), "2001:db8::53");
    json_decref(d);
    conntrack_destroy(ct);
    (void)state;
}

static void
test_snat_to_vip(void **state)
{
    struct conntrack *ct = ct_new(NULL);
    struct action_backend b = {.ip = 0x0a000102, .port = 80};
    struct action_lb lb = {.has_backends = true, .backends = &b, .n_backends = 1};
    struct pkt p = tcp4("10.0.0.2", 40000, "172.16.0.1", 80, F_SYN, 1, 0, 0);

    /* A router: LB in DNAT zone 11, then hairpin SNAT to the VIP in zone 12. */
    p.key.f.regs[CT_REG_DNAT_ZONE] = htonl(11);
    struct ct_op op = mkop(CT_OP_LB, 11);
    op.lb = &lb;
    op.lb_mark = true;
    assert_int_equal(run_op(ct, &op, &p), TRK | NEW | DNAT);
    op = mkop(CT_OP_SNAT_TO_VIP, 12);
    assert_int_equal(run_op(ct, &op, &p), TRK | NEW | SNAT);
    assert_int_equal(p.key.f.ip4_src, ip4("172.16.0.1"));
    assert_int_equal(p.key.f.ip4_dst, ip4("10.0.1.2"));
    assert_int_equal(n_conns(ct), 2);

    /* No DNAT connection: nothing to do. */
    p = tcp4("10.0.0.3", 1, "10.0.0.4", 80, F_SYN, 1, 0, 0);
    p.key.f.regs[CT_REG_DNAT_ZONE] = htonl(11);
    op = mkop(CT_OP_SNAT_TO_VIP, 12);
    assert_int_equal(run_op(ct, &op, &p), TRK | NEW);
    assert_int_equal(p.key.f.ip4_src, ip4("10.0.0.3"));
    assert_int_equal(n_conns(ct), 2);
    conntrack_destroy(ct);
    (void)state;
}

/* ---- Through the executor. ---- */

static struct action_list *
parse_actions(const struct symtab *symtab, const char *s)
{
    struct action_list *list = NULL;
    struct ovnic_err err = {0};
    if (action_parse(symtab, s, NULL, &list, &err)) {
        fail_msg("%s: %s", s, err.message);
    }
    return list;
}

static void
test_exec_switch_lb(void **state)
{
    struct symtab *symtab;
    struct conntrack *ct = ct_new(NULL);
    struct exec_env env = {.ct_class = &conntrack_class, .ct = ct};
    struct exec_params params = {.pipeline = ACTION_PIPELINE_INGRESS, .table = 6};
    struct exec_result r;
    struct pkt p;

    assert_int_equal(symtab_create(&symtab), 0);
    struct action_list *lb =
        parse_actions(symtab, "ct_lb_mark(backends=10.0.1.13:8080);");
    struct action_list *commit =
        parse_actions(symtab, "ct_commit { ct_mark.blocked = 0; ct_label.blocked = 1; }; "
                              "next;");
    struct action_list *next = parse_actions(symtab, "ct_next;");

    /* Request: ct_lb_mark DNATs; the header change is recorded. */
    p = tcp4("10.0.0.5", 33000, "172.16.0.1", 80, F_SYN, 1, 0, 0);
    p.key.f.regs[CT_REG_CT_ZONE] = htonl(4);
    conntrack_set_packet(ct, p.b, p.len, &p.lo);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &params, lb, &p.key, &r), 0);
    assert_int_equal(r.verdict, EXEC_NEXT);
    assert_int_equal(r.n_ct, 1);
    assert_int_equal(r.ct[0].backend, 0);
    assert_int_equal(r.ct[0].state_out, TRK | NEW | DNAT);
    /* The key the walk goes on with carries the backend. */
    assert_int_equal(ntohl(p.key.f.ip4_dst), 0x0a00010d);
    assert_int_equal(ntohs(p.key.f.tcp_dst), 8080);
    assert_int_equal(ntohs(p.key.f.ct_zone), 4);
    assert_int_equal(ntohl(p.key.f.ct_mark), CT_MARK_NATTED);

    /* Then the ACL's commit in the same zone lands on the same connection. */
    assert_int_equal(exec_run(&env, &params, commit, &p.key, &r), 0);
    assert_int_equal(n_conns(ct), 1);
    assert_int_equal(ntohl(p.key.f.ct_mark), CT_MARK_NATTED);

    /* The reply, looked up with ct_next in zone 4: est|rpl with the label written. */
    p = tcp4("10.0.1.13", 8080, "10.0.0.5", 33000, F_SYN | F_ACK, 9, 2, 0);
    p.key.f.regs[CT_REG_CT_ZONE] = htonl(4);
    conntrack_set_packet(ct, p.b, p.len, &p.lo);
    exec_result_init(&r, NULL);
    assert_int_equal(exec_run(&env, &params, next, &p.key, &r), 0);
    assert_int_equal(r.ct[0].state_out, TRK | EST | RPL);
    assert_true(pkey_field_get(&p.key, PKEY_F_CT_LABEL) == 1);
    assert_int_equal(ntohl(p.key.f.ct_mark), CT_MARK_NATTED);

    action_list_destroy(lb);
    action_list_destroy(commit);
    action_list_destroy(next);
    symtab_destroy(symtab);
    conntrack_destroy(ct);
    (void)state;
}

/* ---- Threads. ---- */

static volatile int stop_reader;

static void *
reader_main(void *ct_)
{
    struct conntrack *ct = ct_;
    while (!stop_reader) {
        json_t *d = conntrack_dump_json(ct, -1, 16);
        json_decref(d);
        json_t *s = conntrack_stats_json(ct);
        json_decref(s);
        conntrack_flush(ct, 999);
    }
    return NULL;
}

static void
test_threads(void **state)
{
    struct conntrack *ct = ct_new(NULL);
    pthread_t thread;

    stop_reader = 0;
    assert_int_equal(pthread_create(&thread, NULL, reader_main, ct), 0);
    for (int i = 0; i < 2000; i++) {
        struct pkt p = udp(false, "10.0.0.1", (uint16_t)(1 + i % 500), "10.0.0.2", 2);
        ct_commit(ct, &p, 999);
        if (i % 100 == 0) {
            conntrack_sweep(ct, 0);
        }
    }
    stop_reader = 1;
    pthread_join(thread, NULL);
    struct conntrack_stats s = stats(ct);
    assert_true(s.n_created >= 500);
    assert_int_equal(s.n_lookups, 2000);
    conntrack_destroy(ct);
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_destroy),
        cmocka_unit_test(test_udp_states_and_zones),
        cmocka_unit_test(test_commit_mark_label),
        cmocka_unit_test(test_tcp_fin_sequence_and_reopen),
        cmocka_unit_test(test_tcp_window_and_rst),
        cmocka_unit_test(test_tcp_window_scale),
        cmocka_unit_test(test_dnat_and_unnat),
        cmocka_unit_test(test_snat_ports),
        cmocka_unit_test(test_lb),
        cmocka_unit_test(test_icmp_echo),
        cmocka_unit_test(test_icmp_related),
        cmocka_unit_test(test_timeouts_and_sweep),
        cmocka_unit_test(test_max_conns),
        cmocka_unit_test(test_dump_and_stats_json),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_snat_to_vip),
        cmocka_unit_test(test_exec_switch_lb),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
