/* Unit tests of the underlay neighbour table (dpu/vswitch/neigh.h), on a fake clock:
 * requests and replies checked byte by byte, checksums verified independently. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/vswitch/neigh.h"

static uint64_t fake_now = 1000000;

static uint64_t
fake_clock(void)
{
    return fake_now;
}

static const uint8_t local_mac[6] = {0x0c, 0x42, 0xa1, 0, 0, 0x11};
static const uint8_t peer_mac[6] = {0x0c, 0x42, 0xa1, 0, 0, 0x12};
static const uint8_t peer2_mac[6] = {0x0c, 0x42, 0xa1, 0, 0, 0x22};
static const uint8_t gw_mac[6] = {0x0c, 0x42, 0xa1, 0, 0, 0x01};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero_mac[6] = {0};

#define RETRY 1000
#define REACHABLE 30000
#define STALE 10000

/* ---- Frames and checks. ---- */

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i < n; i++) {
        sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    }
    return sum;
}

static uint16_t
fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

static void
wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void
ip(const char *s, uint8_t out[16])
{
    memset(out, 0, 16);
    if (inet_pton(AF_INET, s, out) != 1) {
        assert_int_equal(inet_pton(AF_INET6, s, out), 1);
    }
}

static void
assert_icmp6_csum(const uint8_t *l3)
{
    size_t plen = rd16(l3 + 4);
    uint32_t sum = sum16(l3 + 8, 32, 0) + 58 + (uint32_t)plen;
    assert_int_equal(fold(sum16(l3 + 40, plen, sum)), 0xffff);
}

static struct neigh_table *
table_create(const char *local, const char *gateway, size_t max)
{
    struct neigh_config cfg = {
        .local_ip = local,
        .gateway = gateway,
        .reachable_ms = REACHABLE,
        .stale_ms = STALE,
        .retry_ms = RETRY,
        .max_entries = max,
        .now_ms = fake_clock,
    };
    memcpy(cfg.local_mac, local_mac, 6);
    struct neigh_table *t = NULL;
    assert_int_equal(neigh_create(&cfg, &t), 0);
    assert_non_null(t);
    return t;
}

/* An ARP frame ('vlan': with an 802.1Q tag, VID 100).  Returns its length (60 or
 * 64). */
static size_t
arp_frame(uint8_t *p, const uint8_t eth_dst[6], uint16_t op, const uint8_t sha[6],
          const char *spa, const uint8_t tha[6], const char *tpa, bool vlan)
{
    uint8_t a[16];
    memset(p, 0, 64);
    memcpy(p, eth_dst, 6);
    memcpy(p + 6, sha, 6);
    size_t l2 = 14;
    if (vlan) {
        wr16(p + 12, 0x8100);
        wr16(p + 14, 100);
        l2 = 18;
    }
    wr16(p + l2 - 2, 0x0806);
    uint8_t *h = p + l2;
    wr16(h, 1);
    wr16(h + 2, 0x0800);
    h[4] = 6;
    h[5] = 4;
    wr16(h + 6, op);
    memcpy(h + 8, sha, 6);
    ip(spa, a);
    memcpy(h + 14, a, 4);
    memcpy(h + 18, tha, 6);
    ip(tpa, a);
    memcpy(h + 24, a, 4);
    return vlan ? 64 : 60;
}

/* An NS (135) or NA (136) frame with link-layer option 'opt' (0: none) carrying 'll',
 * NA flags 'flags', hop limit 'hop'.  Returns its length. */
static size_t
nd_frame(uint8_t *p, uint8_t type, const uint8_t eth_src[6], const char *src,
         const char *dst, const char *target, uint8_t opt, const uint8_t ll[6],
         uint8_t flags, uint8_t hop)
{
    uint8_t dst_ip[16];
    ip(dst, dst_ip);
    size_t l4_len = opt ? 32 : 24;
    memset(p, 0, 14 + 40 + l4_len);
    if (dst_ip[0] == 0xff) {
        static const uint8_t mc[2] = {0x33, 0x33};
        memcpy(p, mc, 2);
        memcpy(p + 2, dst_ip + 12, 4);
    } else {
        memcpy(p, local_mac, 6);
    }
    memcpy(p + 6, eth_src, 6);
    wr16(p + 12, 0x86dd);
    uint8_t *l3 = p + 14;
    l3[0] = 0x60;
    wr16(l3 + 4, (uint16_t)l4_len);
    l3[6] = 58;
    l3[7] = hop;
    ip(src, l3 + 8);
    memcpy(l3 + 24, dst_ip, 16);
    uint8_t *l4 = l3 + 40;
    l4[0] = type;
    l4[4] = flags;
    ip(target, l4 + 8);
    if (opt) {
        l4[24] = opt;
        l4[25] = 1;
        memcpy(l4 + 26, ll, 6);
    }
    uint32_t sum = sum16(l3 + 8, 32, 0) + 58 + (uint32_t)l4_len;
    wr16(l4 + 2, (uint16_t)~fold(sum16(l4, l4_len, sum)));
    return 14 + 40 + l4_len;
}

static int
lookup(struct neigh_table *t, const char *s, uint8_t mac[6], uint8_t *req,
       size_t *req_len)
{
    uint8_t a[16];
    ip(s, a);
    return neigh_lookup(t, a, strchr(s, ':') != NULL, mac, req, 256, req_len);
}

static int
input(struct neigh_table *t, const uint8_t *pkt, size_t len, uint8_t *reply,
      size_t *reply_len)
{
    return neigh_input(t, pkt, len, reply, 256, reply_len);
}

/* The JSON entry for 'ip', or NULL. */
static const json_t *
dump_entry(const json_t *dump, const char *ip_s)
{
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(dump, "entries"), i, e)
    {
        if (!strcmp(json_string_value(json_object_get(e, "ip")), ip_s)) {
            return e;
        }
    }
    return NULL;
}

static void
assert_entry(struct neigh_table *t, const char *ip_s, const char *state, const char *mac,
             int requests)
{
    json_t *d = neigh_dump_json(t);
    assert_non_null(d);
    const json_t *e = dump_entry(d, ip_s);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "state")), state);
    if (mac) {
        assert_string_equal(json_string_value(json_object_get(e, "mac")), mac);
    } else {
        assert_true(json_is_null(json_object_get(e, "mac")));
    }
    if (requests >= 0) {
        assert_int_equal(json_integer_value(json_object_get(e, "requests")), requests);
    }
    json_decref(d);
}

static json_int_t
stat(struct neigh_table *t, const char *name)
{
    json_t *d = neigh_dump_json(t);
    assert_non_null(d);
    json_t *v = json_object_get(json_object_get(d, "stats"), name);
    assert_true(json_is_integer(v));
    json_int_t n = json_integer_value(v);
    json_decref(d);
    return n;
}

/* ---- IPv4 / ARP. ---- */

static void
check_arp_request(const uint8_t *req, size_t len, const uint8_t eth_dst[6],
                  const uint8_t tpa[4])
{
    uint8_t expect[60] = {0};
    memcpy(expect, eth_dst, 6);
    memcpy(expect + 6, local_mac, 6);
    static const uint8_t hdr[10] = {0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01};
    memcpy(expect + 12, hdr, 10);
    memcpy(expect + 22, local_mac, 6);
    static const uint8_t spa[4] = {192, 168, 100, 11};
    memcpy(expect + 28, spa, 4);
    memcpy(expect + 38, tpa, 4);
    assert_int_equal(len, 60);
    assert_memory_equal(req, expect, 60);
}

static void
test_arp_resolve(void **state)
{
    (void)state;
    struct neigh_table *t = table_create("192.168.100.11", NULL, 0);
    uint8_t mac[6], req[256], frame[64], reply[256];
    size_t req_len = 0, reply_len = 999;
    static const uint8_t tpa[4] = {192, 168, 100, 12};

    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_REQUEST);
    check_arp_request(req, req_len, bcast_mac, tpa);
    assert_entry(t, "192.168.100.12", "incomplete", NULL, 1);

    /* Pending until retry_ms has passed. */
    fake_now += RETRY - 1;
    req_len = 77;
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_PENDING);
    assert_int_equal(req_len, 77);
    fake_now += 1;
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_REQUEST);
    check_arp_request(req, req_len, bcast_mac, tpa);
    assert_entry(t, "192.168.100.12", "incomplete", NULL, 2);

    /* The reply. */
    size_t n = arp_frame(frame, local_mac, 2, peer_mac, "192.168.100.12", local_mac,
                         "192.168.100.11", false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    assert_int_equal(reply_len, 999);
    memset(mac, 0, 6);
    req_len = 55;
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_FOUND);
    assert_memory_equal(mac, peer_mac, 6);
    assert_int_equal(req_len, 0);
    assert_entry(t, "192.168.100.12", "reachable", "0c:42:a1:00:00:12", 2);
    assert_int_equal(stat(t, "requests_sent"), 2);
    assert_int_equal(stat(t, "learned"), 1);

    /* A reply nobody asked for, to us, is learned too; one for another host is not. */
    n = arp_frame(frame, local_mac, 2, peer2_mac, "192.168.100.22", local_mac,
                  "192.168.100.11", false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    assert_int_equal(lookup(t, "192.168.100.22", mac, req, &req_len), NEIGH_FOUND);
    assert_memory_equal(mac, peer2_mac, 6);
    n = arp_frame(frame, bcast_mac, 2, peer2_mac, "192.168.100.23", zero_mac,
                  "192.168.100.99", false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    assert_int_equal(lookup(t, "192.168.100.23", mac, req, &req_len), NEIGH_REQUEST);
    neigh_destroy(t);
}

static void
test_arp_expiry(void **state)
{
    (void)state;
    struct neigh_table *t = table_create("192.168.100.11", NULL, 0);
    uint8_t mac[6], req[256], frame[64], reply[256];
    size_t req_len = 0, reply_len;
    static const uint8_t tpa[4] = {192, 168, 100, 12};

    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_REQUEST);
    size_t n = arp_frame(frame, local_mac, 2, peer_mac, "192.168.100.12", local_mac,
                         "192.168.100.11", false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);

    /* Reachable until reachable_ms, then stale: the MAC is still used, and a unicast
     * request refreshes it, once per retry_ms. */
    fake_now += REACHABLE - 1;
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_FOUND);
    assert_int_equal(req_len, 0);
    fake_now += 1;
    assert_entry(t, "192.168.100.12", "stale", "0c:42:a1:00:00:12", 1);
    memset(mac, 0, 6);
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_FOUND);
    assert_memory_equal(mac, peer_mac, 6);
    check_arp_request(req, req_len, peer_mac, tpa);
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_FOUND);
    assert_int_equal(req_len, 0);
    fake_now += RETRY;
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_FOUND);
    assert_int_equal(req_len, 60);
    assert_entry(t, "192.168.100.12", "stale", "0c:42:a1:00:00:12", 3);

    /* A reply makes it reachable again. */
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    assert_entry(t, "192.168.100.12", "reachable", "0c:42:a1:00:00:12", 3);
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_FOUND);
    assert_int_equal(req_len, 0);

    /* Unanswered past reachable + stale: the MAC is forgotten, broadcast again. */
    fake_now += REACHABLE + STALE;
    assert_entry(t, "192.168.100.12", "incomplete", NULL, 3);
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_REQUEST);
    check_arp_request(req, req_len, bcast_mac, tpa);
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_PENDING);

    /* neigh_expire() drops it once nobody asks for it any more. */
    assert_int_equal(neigh_expire(t), 0);
    fake_now += STALE;
    assert_int_equal(neigh_expire(t), 1);
    json_t *d = neigh_dump_json(t);
    assert_int_equal(json_array_size(json_object_get(d, "entries")), 0);
    json_decref(d);
    neigh_destroy(t);
}

static void
test_arp_answer(void **state)
{
    (void)state;
    struct neigh_table *t = table_create("192.168.100.11", NULL, 0);
    uint8_t mac[6], req[256], frame[64], reply[256];
    size_t req_len = 0, reply_len = 0;

    /* A request for the local IP: answered, and its sender learned. */
    size_t n = arp_frame(frame, bcast_mac, 1, peer_mac, "192.168.100.12", zero_mac,
                         "192.168.100.11", false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 1);
    uint8_t expect[60] = {0};
    memcpy(expect, peer_mac, 6);
    memcpy(expect + 6, local_mac, 6);
    static const uint8_t hdr[10] = {0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02};
    memcpy(expect + 12, hdr, 10);
    memcpy(expect + 22, local_mac, 6);
    static const uint8_t spa[4] = {192, 168, 100, 11}, tpa[4] = {192, 168, 100, 12};
    memcpy(expect + 28, spa, 4);
    memcpy(expect + 32, peer_mac, 6);
    memcpy(expect + 38, tpa, 4);
    assert_int_equal(reply_len, 60);
    assert_memory_equal(reply, expect, 60);
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_FOUND);
    assert_memory_equal(mac, peer_mac, 6);
    assert_int_equal(stat(t, "replies_sent"), 1);

    /* With an 802.1Q tag, the reply carries it too. */
    n = arp_frame(frame, bcast_mac, 1, peer_mac, "192.168.100.12", zero_mac,
                  "192.168.100.11", true);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 1);
    assert_int_equal(reply_len, 60);
    assert_memory_equal(reply, expect, 12);
    static const uint8_t tag[4] = {0x81, 0x00, 0x00, 100};
    assert_memory_equal(reply + 12, tag, 4);
    assert_memory_equal(reply + 16, expect + 12, 2 + 28);
    static const uint8_t pad[14] = {0};
    assert_memory_equal(reply + 46, pad, 14);

    /* An ARP probe (sender IP 0) is answered, nothing learned. */
    n = arp_frame(frame, bcast_mac, 1, peer2_mac, "0.0.0.0", zero_mac, "192.168.100.11",
                  false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 1);
    assert_memory_equal(reply, peer2_mac, 6);
    static const uint8_t zero4[4] = {0};
    assert_memory_equal(reply + 38, zero4, 4);
    assert_int_equal(stat(t, "learned"), 1);

    /* A request for another IP: no reply, sender not learned. */
    n = arp_frame(frame, bcast_mac, 1, peer2_mac, "192.168.100.22", zero_mac,
                  "192.168.100.13", false);
    reply_len = 5;
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    assert_int_equal(reply_len, 5);
    assert_int_equal(lookup(t, "192.168.100.22", mac, req, &req_len), NEIGH_REQUEST);

    /* A gratuitous ARP refreshes an entry that exists (the MAC moved), and creates
     * none. */
    n = arp_frame(frame, bcast_mac, 1, peer2_mac, "192.168.100.12", zero_mac,
                  "192.168.100.12", false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_FOUND);
    assert_memory_equal(mac, peer2_mac, 6);
    n = arp_frame(frame, bcast_mac, 2, peer2_mac, "192.168.100.44", bcast_mac,
                  "192.168.100.44", false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    json_t *d = neigh_dump_json(t);
    assert_null(dump_entry(d, "192.168.100.44"));
    json_decref(d);

    /* Someone claiming the local IP is not learned. */
    n = arp_frame(frame, bcast_mac, 2, peer2_mac, "192.168.100.11", bcast_mac,
                  "192.168.100.11", false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    d = neigh_dump_json(t);
    assert_null(dump_entry(d, "192.168.100.11"));
    json_decref(d);

    /* A reply buffer too small. */
    n = arp_frame(frame, bcast_mac, 1, peer_mac, "192.168.100.12", zero_mac,
                  "192.168.100.11", false);
    assert_int_equal(neigh_input(t, frame, n, reply, 59, &reply_len), -ENOSPC);
    neigh_destroy(t);
}

static void
test_gateway(void **state)
{
    (void)state;
    struct neigh_table *t = table_create("192.168.100.11", "192.168.100.1", 0);
    uint8_t mac[6], req[256], frame[64], reply[256];
    size_t req_len = 0, reply_len;
    static const uint8_t gw[4] = {192, 168, 100, 1}, peer[4] = {192, 168, 100, 12};

    /* Off-subnet endpoints resolve the gateway. */
    assert_int_equal(lookup(t, "10.1.2.3", mac, req, &req_len), NEIGH_REQUEST);
    check_arp_request(req, req_len, bcast_mac, gw);
    assert_int_equal(lookup(t, "172.16.0.9", mac, req, &req_len), NEIGH_PENDING);
    /* On-subnet ones themselves. */
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_REQUEST);
    check_arp_request(req, req_len, bcast_mac, peer);

    size_t n = arp_frame(frame, local_mac, 2, gw_mac, "192.168.100.1", local_mac,
                         "192.168.100.11", false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    assert_int_equal(lookup(t, "10.9.9.9", mac, req, &req_len), NEIGH_FOUND);
    assert_memory_equal(mac, gw_mac, 6);
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), NEIGH_PENDING);

    json_t *d = neigh_dump_json(t);
    assert_string_equal(json_string_value(json_object_get(d, "gateway")),
                        "192.168.100.1");
    assert_string_equal(json_string_value(json_object_get(d, "local_ip")),
                        "192.168.100.11");
    assert_string_equal(json_string_value(json_object_get(d, "local_mac")),
                        "0c:42:a1:00:00:11");
    json_decref(d);
    neigh_destroy(t);

    /* A /16 puts 192.168.7.7 on-link. */
    struct neigh_config cfg = {.local_ip = "192.168.100.11",
                               .prefix_len = 16,
                               .gateway = "192.168.0.1",
                               .now_ms = fake_clock};
    memcpy(cfg.local_mac, local_mac, 6);
    assert_int_equal(neigh_create(&cfg, &t), 0);
    static const uint8_t far[4] = {192, 168, 7, 7};
    assert_int_equal(lookup(t, "192.168.7.7", mac, req, &req_len), NEIGH_REQUEST);
    check_arp_request(req, req_len, bcast_mac, far);
    neigh_destroy(t);
}

static void
test_create_errors(void **state)
{
    (void)state;
    struct neigh_table *t = (struct neigh_table *)&t;
    struct neigh_config cfg = {.local_ip = "192.168.100.11", .now_ms = fake_clock};
    memcpy(cfg.local_mac, local_mac, 6);

    cfg.local_ip = "192.168.100.300";
    assert_int_equal(neigh_create(&cfg, &t), -EINVAL);
    cfg.local_ip = NULL;
    assert_int_equal(neigh_create(&cfg, &t), -EINVAL);
    cfg.local_ip = "224.0.0.1";
    assert_int_equal(neigh_create(&cfg, &t), -EINVAL);
    cfg.local_ip = "192.168.100.11";
    cfg.gateway = "10.0.0.1"; /* Outside the subnet. */
    assert_int_equal(neigh_create(&cfg, &t), -EINVAL);
    cfg.gateway = "fd00::1"; /* Other family. */
    assert_int_equal(neigh_create(&cfg, &t), -EINVAL);
    cfg.gateway = "nonsense";
    assert_int_equal(neigh_create(&cfg, &t), -EINVAL);
    cfg.gateway = NULL;
    cfg.prefix_len = 33;
    assert_int_equal(neigh_create(&cfg, &t), -EINVAL);
    cfg.prefix_len = 0;
    cfg.local_mac[0] = 0x01; /* Multicast. */
    assert_int_equal(neigh_create(&cfg, &t), -EINVAL);
    assert_int_equal(neigh_create(NULL, &t), -EINVAL);
    assert_ptr_equal(t, (struct neigh_table *)&t); /* Untouched. */
    neigh_destroy(NULL);
}

static void
test_lookup_errors(void **state)
{
    (void)state;
    struct neigh_table *t = table_create("192.168.100.11", NULL, 0);
    uint8_t mac[6], req[256], a[16];
    size_t req_len = 0;

    assert_int_equal(lookup(t, "fd00::12", mac, req, &req_len), -EINVAL);
    assert_int_equal(lookup(t, "192.168.100.11", mac, req, &req_len), -EINVAL);
    assert_int_equal(lookup(t, "0.0.0.0", mac, req, &req_len), -EINVAL);
    assert_int_equal(lookup(t, "239.1.1.1", mac, req, &req_len), -EINVAL);
    assert_int_equal(lookup(t, "255.255.255.255", mac, req, &req_len), -EINVAL);
    ip("192.168.100.12", a);
    assert_int_equal(neigh_lookup(t, a, false, mac, req, 59, &req_len), -ENOSPC);
    assert_int_equal(stat(t, "requests_sent"), 0);
    neigh_destroy(t);
}

static void
test_table_full(void **state)
{
    (void)state;
    struct neigh_table *t = table_create("192.168.100.11", NULL, 2);
    uint8_t mac[6], req[256], frame[64], reply[256];
    size_t req_len = 0, reply_len;
    static const uint8_t c_ip[4] = {192, 168, 100, 3};

    assert_int_equal(lookup(t, "192.168.100.1", mac, req, &req_len), NEIGH_REQUEST);
    fake_now += 10;
    assert_int_equal(lookup(t, "192.168.100.2", mac, req, &req_len), NEIGH_REQUEST);
    /* Both requests are fresh: nothing to evict. */
    assert_int_equal(lookup(t, "192.168.100.3", mac, req, &req_len), -ENOSPC);
    /* Once the oldest request is older than retry_ms, its entry makes room. */
    fake_now += RETRY - 10;
    assert_int_equal(lookup(t, "192.168.100.3", mac, req, &req_len), NEIGH_REQUEST);
    check_arp_request(req, req_len, bcast_mac, c_ip);
    json_t *d = neigh_dump_json(t);
    assert_int_equal(json_array_size(json_object_get(d, "entries")), 2);
    assert_null(dump_entry(d, "192.168.100.1"));
    json_decref(d);

    /* Full of resolved entries: nothing to evict, for lookups, learning and statics. */
    size_t n = arp_frame(frame, local_mac, 2, peer_mac, "192.168.100.2", local_mac,
                         "192.168.100.11", false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    n = arp_frame(frame, local_mac, 2, peer2_mac, "192.168.100.3", local_mac,
                  "192.168.100.11", false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    fake_now += RETRY;
    assert_int_equal(lookup(t, "192.168.100.4", mac, req, &req_len), -ENOSPC);
    n = arp_frame(frame, local_mac, 2, gw_mac, "192.168.100.5", local_mac,
                  "192.168.100.11", false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    assert_int_equal(neigh_add_static(t, "192.168.100.6", gw_mac), -ENOSPC);
    d = neigh_dump_json(t);
    assert_null(dump_entry(d, "192.168.100.5"));
    json_decref(d);

    /* Expired entries make room. */
    fake_now += REACHABLE + STALE;
    assert_int_equal(lookup(t, "192.168.100.4", mac, req, &req_len), NEIGH_REQUEST);
    neigh_destroy(t);
}

static void
test_static(void **state)
{
    (void)state;
    struct neigh_table *t = table_create("192.168.100.11", NULL, 0);
    uint8_t mac[6], req[256], frame[64], reply[256];
    size_t req_len = 0, reply_len;

    assert_int_equal(neigh_add_static(t, "192.168.100.50", peer_mac), 0);
    assert_int_equal(lookup(t, "192.168.100.50", mac, req, &req_len), NEIGH_FOUND);
    assert_memory_equal(mac, peer_mac, 6);
    /* Never expires, never refreshed. */
    fake_now += 10ull * (REACHABLE + STALE);
    req_len = 9;
    assert_int_equal(lookup(t, "192.168.100.50", mac, req, &req_len), NEIGH_FOUND);
    assert_int_equal(req_len, 0);
    assert_entry(t, "192.168.100.50", "static", "0c:42:a1:00:00:12", 0);
    assert_int_equal(neigh_expire(t), 0);

    /* What arrives does not change it. */
    size_t n = arp_frame(frame, local_mac, 2, peer2_mac, "192.168.100.50", local_mac,
                         "192.168.100.11", false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    assert_int_equal(lookup(t, "192.168.100.50", mac, req, &req_len), NEIGH_FOUND);
    assert_memory_equal(mac, peer_mac, 6);

    /* Replacing; turning a learned entry static. */
    assert_int_equal(neigh_add_static(t, "192.168.100.50", gw_mac), 0);
    assert_int_equal(lookup(t, "192.168.100.50", mac, req, &req_len), NEIGH_FOUND);
    assert_memory_equal(mac, gw_mac, 6);
    assert_int_equal(lookup(t, "192.168.100.51", mac, req, &req_len), NEIGH_REQUEST);
    assert_int_equal(neigh_add_static(t, "192.168.100.51", peer2_mac), 0);
    assert_int_equal(lookup(t, "192.168.100.51", mac, req, &req_len), NEIGH_FOUND);
    assert_memory_equal(mac, peer2_mac, 6);

    /* Flush removes learned entries only. */
    assert_int_equal(lookup(t, "192.168.100.52", mac, req, &req_len), NEIGH_REQUEST);
    assert_int_equal(neigh_flush(t), 1);
    assert_int_equal(neigh_flush(t), 0);
    assert_int_equal(lookup(t, "192.168.100.50", mac, req, &req_len), NEIGH_FOUND);

    /* Errors. */
    static const uint8_t mcast[6] = {0x01, 0, 0x5e, 0, 0, 1};
    assert_int_equal(neigh_add_static(t, "fd00::50", peer_mac), -EINVAL);
    assert_int_equal(neigh_add_static(t, "192.168.100.11", peer_mac), -EINVAL);
    assert_int_equal(neigh_add_static(t, "192.168.100.53", mcast), -EINVAL);
    assert_int_equal(neigh_add_static(t, "192.168.100.53", zero_mac), -EINVAL);
    assert_int_equal(neigh_add_static(t, "bogus", peer_mac), -EINVAL);
    assert_int_equal(neigh_add_static(t, NULL, peer_mac), -EINVAL);
    neigh_destroy(t);
}

static void
test_malformed(void **state)
{
    (void)state;
    struct neigh_table *t = table_create("192.168.100.11", NULL, 0);
    uint8_t frame[128], reply[256];
    size_t reply_len = 7;
    json_int_t bad = 0;

    /* Truncated Ethernet, truncated ARP. */
    size_t n = arp_frame(frame, bcast_mac, 1, peer_mac, "192.168.100.12", zero_mac,
                         "192.168.100.11", false);
    assert_int_equal(input(t, frame, 10, reply, &reply_len), -EINVAL);
    assert_int_equal(stat(t, "malformed"), ++bad);
    assert_int_equal(input(t, frame, 14 + 20, reply, &reply_len), -EINVAL);
    assert_int_equal(stat(t, "malformed"), ++bad);
    /* Not Ethernet/IPv4 ARP. */
    frame[14 + 1] = 6;
    assert_int_equal(input(t, frame, n, reply, &reply_len), -EINVAL);
    assert_int_equal(stat(t, "malformed"), ++bad);
    frame[14 + 1] = 1;
    frame[14 + 4] = 8;
    assert_int_equal(input(t, frame, n, reply, &reply_len), -EINVAL);
    assert_int_equal(stat(t, "malformed"), ++bad);
    frame[14 + 4] = 6;
    /* Operation 3. */
    frame[14 + 7] = 3;
    assert_int_equal(input(t, frame, n, reply, &reply_len), -EINVAL);
    assert_int_equal(stat(t, "malformed"), ++bad);
    frame[14 + 7] = 1;
    /* Multicast sender MAC. */
    frame[14 + 8] = 0x01;
    assert_int_equal(input(t, frame, n, reply, &reply_len), -EINVAL);
    assert_int_equal(stat(t, "malformed"), ++bad);
    frame[14 + 8] = peer_mac[0];
    assert_int_equal(input(t, frame, n, reply, &reply_len), 1);
    assert_int_equal(stat(t, "malformed"), bad);

    /* Neither ARP nor ND: ignored, not malformed. */
    memset(frame, 0, 64);
    memcpy(frame, local_mac, 6);
    frame[12] = 0x08;
    frame[13] = 0x00;
    frame[14] = 0x45;
    frame[17] = 20;
    assert_int_equal(input(t, frame, 60, reply, &reply_len), 0);
    assert_int_equal(stat(t, "ignored"), 1);
    assert_int_equal(stat(t, "malformed"), bad);
    neigh_destroy(t);

    /* ND, on an IPv6 table. */
    t = table_create("fd00::11", NULL, 0);
    bad = 0;
    reply_len = 7;
    n = nd_frame(frame, 135, peer_mac, "fd00::12", "ff02::1:ff00:11", "fd00::11", 1,
                 peer_mac, 0, 64); /* Hop limit 64. */
    assert_int_equal(input(t, frame, n, reply, &reply_len), -EINVAL);
    assert_int_equal(stat(t, "malformed"), ++bad);
    n = nd_frame(frame, 135, peer_mac, "fd00::12", "ff02::1:ff00:11", "fd00::11", 1,
                 peer_mac, 0, 255);
    frame[n - 1] ^= 1; /* Checksum. */
    assert_int_equal(input(t, frame, n, reply, &reply_len), -EINVAL);
    assert_int_equal(stat(t, "malformed"), ++bad);
    frame[n - 1] ^= 1;
    frame[14 + 40 + 1] = 1; /* Code 1 (checksum no longer matters). */
    assert_int_equal(input(t, frame, n, reply, &reply_len), -EINVAL);
    assert_int_equal(stat(t, "malformed"), ++bad);
    /* Multicast target. */
    n = nd_frame(frame, 135, peer_mac, "fd00::12", "ff02::1:ff00:11", "ff02::1", 1,
                 peer_mac, 0, 255);
    assert_int_equal(input(t, frame, n, reply, &reply_len), -EINVAL);
    assert_int_equal(stat(t, "malformed"), ++bad);
    /* A solicited NA to a multicast group. */
    n = nd_frame(frame, 136, peer_mac, "fd00::12", "ff02::1", "fd00::12", 2, peer_mac,
                 0x60, 255);
    assert_int_equal(input(t, frame, n, reply, &reply_len), -EINVAL);
    assert_int_equal(stat(t, "malformed"), ++bad);
    /* DAD NS with a source link-layer option. */
    n = nd_frame(frame, 135, peer_mac, "::", "ff02::1:ff00:11", "fd00::11", 1, peer_mac,
                 0, 255);
    assert_int_equal(input(t, frame, n, reply, &reply_len), -EINVAL);
    assert_int_equal(stat(t, "malformed"), ++bad);
    /* An option of length 0 (packet_parse() rejects it). */
    n = nd_frame(frame, 135, peer_mac, "fd00::12", "ff02::1:ff00:11", "fd00::11", 1,
                 peer_mac, 0, 255);
    frame[14 + 40 + 25] = 0;
    assert_int_equal(input(t, frame, n, reply, &reply_len), -EINVAL);
    assert_int_equal(stat(t, "malformed"), ++bad);
    /* Truncated NS (20 bytes of ICMPv6). */
    n = nd_frame(frame, 135, peer_mac, "fd00::12", "ff02::1:ff00:11", "fd00::11", 0, NULL,
                 0, 255);
    frame[14 + 5] = 20;
    assert_int_equal(input(t, frame, 14 + 40 + 20, reply, &reply_len), -EINVAL);
    assert_int_equal(stat(t, "malformed"), ++bad);
    assert_int_equal(reply_len, 7);

    /* ARP on an IPv6 table: ignored. */
    n = arp_frame(frame, bcast_mac, 1, peer_mac, "192.168.100.12", zero_mac,
                  "192.168.100.11", false);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    assert_int_equal(stat(t, "ignored"), 1);
    neigh_destroy(t);
}

/* ---- IPv6 / ND. ---- */

static void
check_ns(const uint8_t *req, size_t len, const char *target, bool unicast)
{
    uint8_t tgt[16], dst[16];
    ip(target, tgt);
    assert_int_equal(len, 14 + 40 + 32);
    if (unicast) {
        memcpy(dst, tgt, 16);
        assert_memory_equal(req, peer_mac, 6);
    } else {
        static const uint8_t snm[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
        memcpy(dst, snm, 13);
        memcpy(dst + 13, tgt + 13, 3);
        static const uint8_t mc[3] = {0x33, 0x33, 0xff};
        assert_memory_equal(req, mc, 3);
        assert_memory_equal(req + 3, tgt + 13, 3);
    }
    assert_memory_equal(req + 6, local_mac, 6);
    assert_int_equal(rd16(req + 12), 0x86dd);
    const uint8_t *l3 = req + 14;
    static const uint8_t v6hdr[8] = {0x60, 0, 0, 0, 0, 32, 58, 255};
    assert_memory_equal(l3, v6hdr, 8);
    uint8_t src[16];
    ip("fd00::11", src);
    assert_memory_equal(l3 + 8, src, 16);
    assert_memory_equal(l3 + 24, dst, 16);
    const uint8_t *l4 = l3 + 40;
    assert_int_equal(l4[0], 135);
    assert_int_equal(l4[1], 0);
    static const uint8_t zero4[4] = {0};
    assert_memory_equal(l4 + 4, zero4, 4);
    assert_memory_equal(l4 + 8, tgt, 16);
    static const uint8_t sll[2] = {1, 1};
    assert_memory_equal(l4 + 24, sll, 2);
    assert_memory_equal(l4 + 26, local_mac, 6);
    assert_icmp6_csum(l3);
}

static void
test_nd_resolve(void **state)
{
    (void)state;
    struct neigh_table *t = table_create("fd00::11", NULL, 0);
    uint8_t mac[6], req[256], frame[128], reply[256];
    size_t req_len = 0, reply_len = 3;

    assert_int_equal(lookup(t, "fd00::1:2:12", mac, req, &req_len), NEIGH_REQUEST);
    check_ns(req, req_len, "fd00::1:2:12", false);
    assert_int_equal(lookup(t, "fd00::1:2:12", mac, req, &req_len), NEIGH_PENDING);
    fake_now += RETRY;
    assert_int_equal(lookup(t, "fd00::1:2:12", mac, req, &req_len), NEIGH_REQUEST);
    assert_entry(t, "fd00::1:2:12", "incomplete", NULL, 2);

    /* An NA without a target link-layer option teaches nothing. */
    size_t n = nd_frame(frame, 136, peer_mac, "fd00::1:2:12", "fd00::11", "fd00::1:2:12",
                        0, NULL, 0x60, 255);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    assert_entry(t, "fd00::1:2:12", "incomplete", NULL, 2);

    /* The solicited NA. */
    n = nd_frame(frame, 136, peer_mac, "fd00::1:2:12", "fd00::11", "fd00::1:2:12", 2,
                 peer_mac, 0x60, 255);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    assert_int_equal(reply_len, 3);
    assert_int_equal(lookup(t, "fd00::1:2:12", mac, req, &req_len), NEIGH_FOUND);
    assert_memory_equal(mac, peer_mac, 6);
    assert_entry(t, "fd00::1:2:12", "reachable", "0c:42:a1:00:00:12", 2);

    /* Stale: a unicast NS to the neighbour's address refreshes it. */
    fake_now += REACHABLE;
    assert_int_equal(lookup(t, "fd00::1:2:12", mac, req, &req_len), NEIGH_FOUND);
    check_ns(req, req_len, "fd00::1:2:12", true);

    /* An unsolicited NA with override moves it. */
    n = nd_frame(frame, 136, peer2_mac, "fd00::1:2:12", "ff02::1", "fd00::1:2:12", 2,
                 peer2_mac, 0x20, 255);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    assert_int_equal(lookup(t, "fd00::1:2:12", mac, req, &req_len), NEIGH_FOUND);
    assert_memory_equal(mac, peer2_mac, 6);
    assert_int_equal(req_len, 0);
    /* ...but creates no entry. */
    n = nd_frame(frame, 136, peer2_mac, "fd00::33", "ff02::1", "fd00::33", 2, peer2_mac,
                 0x20, 255);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    json_t *d = neigh_dump_json(t);
    assert_null(dump_entry(d, "fd00::33"));
    json_decref(d);

    /* Lookups of another family, of multicast. */
    assert_int_equal(lookup(t, "192.168.100.12", mac, req, &req_len), -EINVAL);
    assert_int_equal(lookup(t, "ff02::1", mac, req, &req_len), -EINVAL);
    assert_int_equal(lookup(t, "::", mac, req, &req_len), -EINVAL);
    neigh_destroy(t);
}

static void
check_na(const uint8_t *reply, size_t len, const uint8_t eth_dst[6], const char *dst,
         uint8_t flags)
{
    uint8_t local[16], dst_ip[16];
    ip("fd00::11", local);
    ip(dst, dst_ip);
    assert_int_equal(len, 14 + 40 + 32);
    assert_memory_equal(reply, eth_dst, 6);
    assert_memory_equal(reply + 6, local_mac, 6);
    assert_int_equal(rd16(reply + 12), 0x86dd);
    const uint8_t *l3 = reply + 14;
    static const uint8_t v6hdr[8] = {0x60, 0, 0, 0, 0, 32, 58, 255};
    assert_memory_equal(l3, v6hdr, 8);
    assert_memory_equal(l3 + 8, local, 16);
    assert_memory_equal(l3 + 24, dst_ip, 16);
    const uint8_t *l4 = l3 + 40;
    assert_int_equal(l4[0], 136);
    assert_int_equal(l4[1], 0);
    assert_int_equal(l4[4], flags);
    assert_int_equal(l4[5] | l4[6] | l4[7], 0);
    assert_memory_equal(l4 + 8, local, 16);
    static const uint8_t tll[2] = {2, 1};
    assert_memory_equal(l4 + 24, tll, 2);
    assert_memory_equal(l4 + 26, local_mac, 6);
    assert_icmp6_csum(l3);
}

static void
test_nd_answer(void **state)
{
    (void)state;
    struct neigh_table *t = table_create("fd00::11", NULL, 0);
    uint8_t mac[6], req[256], frame[128], reply[256];
    size_t req_len = 0, reply_len = 0;

    /* An NS for the local IP: an NA back (solicited, override), sender learned. */
    size_t n = nd_frame(frame, 135, peer_mac, "fd00::12", "ff02::1:ff00:11", "fd00::11",
                        1, peer_mac, 0, 255);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 1);
    check_na(reply, reply_len, peer_mac, "fd00::12", 0x60);
    assert_int_equal(lookup(t, "fd00::12", mac, req, &req_len), NEIGH_FOUND);
    assert_memory_equal(mac, peer_mac, 6);

    /* Duplicate address detection of the local IP: defended to all nodes. */
    static const uint8_t all_nodes[6] = {0x33, 0x33, 0, 0, 0, 1};
    n = nd_frame(frame, 135, peer2_mac, "::", "ff02::1:ff00:11", "fd00::11", 0, NULL, 0,
                 255);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 1);
    check_na(reply, reply_len, all_nodes, "ff02::1", 0x20);

    /* An NS without SLL (unicast): answered to its Ethernet source. */
    n = nd_frame(frame, 135, peer2_mac, "fd00::22", "fd00::11", "fd00::11", 0, NULL, 0,
                 255);
    assert_int_equal(input(t, frame, n, reply, &reply_len), 1);
    check_na(reply, reply_len, peer2_mac, "fd00::22", 0x60);

    /* An NS for another target: nothing. */
    n = nd_frame(frame, 135, peer2_mac, "fd00::22", "ff02::1:ff00:13", "fd00::13", 1,
                 peer2_mac, 0, 255);
    reply_len = 1;
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    assert_int_equal(reply_len, 1);
    json_t *d = neigh_dump_json(t);
    assert_null(dump_entry(d, "fd00::22"));
    json_decref(d);
    assert_int_equal(stat(t, "replies_sent"), 3);

    /* Reply buffer too small. */
    n = nd_frame(frame, 135, peer_mac, "fd00::12", "ff02::1:ff00:11", "fd00::11", 1,
                 peer_mac, 0, 255);
    assert_int_equal(neigh_input(t, frame, n, reply, 80, &reply_len), -ENOSPC);
    neigh_destroy(t);
}

static void
test_dump_json(void **state)
{
    (void)state;
    struct neigh_table *t = table_create("192.168.100.11", NULL, 0);
    uint8_t mac[6], req[256], frame[64], reply[256];
    size_t req_len = 0, reply_len;

    assert_int_equal(lookup(t, "192.168.100.200", mac, req, &req_len), NEIGH_REQUEST);
    assert_int_equal(neigh_add_static(t, "192.168.100.3", peer2_mac), 0);
    size_t n = arp_frame(frame, local_mac, 2, peer_mac, "192.168.100.20", local_mac,
                         "192.168.100.11", false);
    fake_now += 250;
    assert_int_equal(input(t, frame, n, reply, &reply_len), 0);
    fake_now += 500;

    json_t *d = neigh_dump_json(t);
    assert_non_null(d);
    char *text = json_dumps(d, JSON_SORT_KEYS | JSON_COMPACT);
    assert_non_null(text);
    assert_string_equal(
        text, "{\"entries\":["
              "{\"age_ms\":750,\"ip\":\"192.168.100.3\",\"mac\":\"0c:42:a1:00:00:22\","
              "\"requests\":0,\"state\":\"static\"},"
              "{\"age_ms\":500,\"ip\":\"192.168.100.20\",\"mac\":\"0c:42:a1:00:00:12\","
              "\"requests\":0,\"state\":\"reachable\"},"
              "{\"age_ms\":750,\"ip\":\"192.168.100.200\",\"mac\":null,"
              "\"requests\":1,\"state\":\"incomplete\"}],"
              "\"gateway\":null,\"local_ip\":\"192.168.100.11\","
              "\"local_mac\":\"0c:42:a1:00:00:11\","
              "\"stats\":{\"ignored\":0,\"learned\":1,\"malformed\":0,\"replies_sent\":0,"
              "\"requests_sent\":1}}");
    free(text);
    json_decref(d);
    neigh_destroy(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arp_resolve),   cmocka_unit_test(test_arp_expiry),
        cmocka_unit_test(test_arp_answer),    cmocka_unit_test(test_gateway),
        cmocka_unit_test(test_create_errors), cmocka_unit_test(test_lookup_errors),
        cmocka_unit_test(test_table_full),    cmocka_unit_test(test_static),
        cmocka_unit_test(test_malformed),     cmocka_unit_test(test_nd_resolve),
        cmocka_unit_test(test_nd_answer),     cmocka_unit_test(test_dump_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
