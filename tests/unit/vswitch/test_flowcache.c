/* Unit tests of the vswitch's exact-match flow cache (dpu/vswitch/flowcache.h): the
 * extractor against the packet parser (equal tuples must mean equal keys; a frame the
 * parser rejects is never accepted), the cache itself, and the incremental checksum
 * updates against checksums computed from scratch. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/pipeline/key.h"
#include "dpu/pipeline/packet.h"
#include "dpu/vswitch/flowcache.h"

/* ---- Frames. ---- */

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

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i < n; i++) {
        sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    }
    return sum;
}

static uint16_t
csum(const uint8_t *p, size_t n, uint32_t sum)
{
    sum = sum16(p, n, sum);
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Fills in the IPv4 header checksum and the L4 checksum from scratch. */
static void
fix_ip4(uint8_t *f, size_t l3)
{
    uint8_t *ip = f + l3;
    size_t ihl = (size_t)(ip[0] & 0xf) * 4;
    size_t tot = get16(ip + 2);
    put16(ip + 10, 0);
    put16(ip + 10, csum(ip, ihl, 0));
    uint8_t *l4 = ip + ihl;
    size_t l4_len = tot - ihl;
    uint32_t pseudo = sum16(ip + 12, 8, 0) + ip[9] + (uint32_t)l4_len;
    if (ip[9] == 6) {
        put16(l4 + 16, 0);
        put16(l4 + 16, csum(l4, l4_len, pseudo));
    } else if (ip[9] == 17) {
        put16(l4 + 6, 0);
        uint16_t c = csum(l4, l4_len, pseudo);
        put16(l4 + 6, c ? c : 0xffff);
    } else if (ip[9] == 1) {
        put16(l4 + 2, 0);
        put16(l4 + 2, csum(l4, l4_len, 0));
    }
}

/* Ethernet [+VLAN] + IPv4 (IHL 'ihl' words) + 'proto' with a 20-byte payload area. */
static size_t
frame_ip4(uint8_t *f, bool vlan, int ihl, uint8_t proto)
{
    static const uint8_t dst[6] = {0x0a, 0, 0, 0, 0, 2}, src[6] = {0x0a, 0, 0, 0, 0, 1};
    size_t o = 0;
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    o = 12;
    if (vlan) {
        put16(f + o, 0x8100);
        put16(f + o + 2, 100);
        o += 4;
    }
    put16(f + o, 0x0800);
    o += 2;
    size_t l3 = o;
    size_t l4_len = proto == 6 ? 20 + 8 : proto == 17 ? 8 + 12 : 8 + 12;
    size_t tot = (size_t)ihl * 4 + l4_len;
    memset(f + l3, 0, tot);
    f[l3] = (uint8_t)(0x40 | ihl);
    f[l3 + 1] = 0x2e;
    put16(f + l3 + 2, (uint16_t)tot);
    put16(f + l3 + 4, 0x1234);
    put16(f + l3 + 6, 0x4000);
    f[l3 + 8] = 64;
    f[l3 + 9] = proto;
    uint8_t a[8] = {10, 0, 0, 1, 10, 0, 0, 2};
    memcpy(f + l3 + 12, a, 8);
    uint8_t *l4 = f + l3 + (size_t)ihl * 4;
    if (proto == 6) {
        put16(l4, 1234);
        put16(l4 + 2, 80);
        l4[12] = 0x50;
        l4[13] = 0x18;
    } else if (proto == 17) {
        put16(l4, 1234);
        put16(l4 + 2, 53);
        put16(l4 + 4, (uint16_t)l4_len);
    } else {
        l4[0] = 8;
    }
    for (size_t i = l4_len - 8; i < l4_len; i++) {
        l4[i] = (uint8_t)(i * 7);
    }
    fix_ip4(f, l3);
    return l3 + tot;
}

static size_t
frame_ip6(uint8_t *f, uint8_t proto)
{
    static const uint8_t dst[6] = {0x0a, 0, 0, 0, 0, 2}, src[6] = {0x0a, 0, 0, 0, 0, 1};
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    put16(f + 12, 0x86dd);
    uint8_t *ip = f + 14;
    size_t plen = proto == 6 ? 20 : proto == 17 ? 8 : 8;
    memset(ip, 0, 40 + plen);
    ip[0] = 0x60;
    ip[1] = 0x12;
    ip[2] = 0x34;
    ip[3] = 0x56;
    put16(ip + 4, (uint16_t)plen);
    ip[6] = proto;
    ip[7] = 64;
    ip[8] = 0xfd;
    ip[23] = 1;
    ip[24] = 0xfd;
    ip[39] = 2;
    uint8_t *l4 = ip + 40;
    if (proto == 6) {
        put16(l4, 1000);
        put16(l4 + 2, 22);
        l4[12] = 0x50;
        l4[13] = 0x02;
    } else if (proto == 17) {
        put16(l4, 1000);
        put16(l4 + 2, 53);
        put16(l4 + 4, 8);
        put16(l4 + 6, 0x1111);
    } else {
        l4[0] = 128;
    }
    return 14 + 40 + plen;
}

/* Geneve over IPv4 around 'inner'. */
static size_t
frame_geneve(uint8_t *f, const uint8_t *inner, size_t ilen, bool ovn_opt)
{
    static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 9};
    memcpy(f, mac, 6);
    memcpy(f + 6, mac, 6);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    size_t glen = 8 + (ovn_opt ? 8 : 0);
    size_t ulen = 8 + glen + ilen;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + ulen));
    ip[8] = 64;
    ip[9] = 17;
    uint8_t a[8] = {192, 168, 100, 11, 192, 168, 100, 10};
    memcpy(ip + 12, a, 8);
    uint8_t *udp = ip + 20;
    put16(udp, 50000);
    put16(udp + 2, 6081);
    put16(udp + 4, (uint16_t)ulen);
    put16(udp + 6, 0);
    uint8_t *g = udp + 8;
    memset(g, 0, glen);
    g[0] = ovn_opt ? 2 : 0;
    put16(g + 2, 0x6558);
    g[6] = 5;
    if (ovn_opt) {
        put16(g + 8, 0x0102);
        g[10] = 0x80;
        g[11] = 1;
        put16(g + 12, 3);
        put16(g + 14, 1);
    }
    memcpy(g + glen, inner, ilen);
    return 14 + 20 + ulen;
}

/* ---- Extraction against the parser. ---- */

/* Checks that whenever 'f' is extracted, the parser accepts it with the same offsets. */
/* Extracts 'f' with every hash implementation this machine has, with and without
 * the fixed-offset IPv4 extractor: all must agree (accepted or not, tuple, hash,
 * layout).  Leaves the defaults selected. */
static int
extract_all_ways(const uint8_t *f, size_t len, unsigned int flags, uint16_t in_port,
                 struct flowcache_key *k, struct flowcache_layout *lo)
{
    enum flowcache_hash_impl def = flowcache_hash_impl_get();
    int rc = flowcache_extract(f, len, flags, in_port, k, lo);
    for (int impl = FLOWCACHE_HASH_PORTABLE; impl <= FLOWCACHE_HASH_ARMV8; impl++) {
        if (flowcache_hash_impl_set(impl)) {
            assert_false(flowcache_hash_impl_available(impl));
            continue;
        }
        for (int fast = 0; fast < 2; fast++) {
            struct flowcache_key k2;
            struct flowcache_layout lo2;
            memset(&k2, 0, sizeof k2);
            flowcache_fast_ipv4_set(fast);
            int rc2 = flowcache_extract(f, len, flags, in_port, &k2, &lo2);
            assert_int_equal(rc2, rc);
            if (!rc) {
                assert_int_equal(k2.n_words, k->n_words);
                assert_memory_equal(k2.w, k->w, k->n_words * sizeof k->w[0]);
                assert_int_equal(k2.hash, k->hash);
                assert_int_equal(k2.hash, flowcache_hash_words(k->w, k->n_words));
                assert_int_equal(lo2.l2, lo->l2);
                assert_int_equal(lo2.l3, lo->l3);
                assert_int_equal(lo2.l4, lo->l4);
                assert_int_equal(lo2.end, lo->end);
                assert_int_equal(lo2.proto, lo->proto);
                assert_int_equal(lo2.ipv6, lo->ipv6);
                assert_int_equal(lo2.vlan, lo->vlan);
                assert_int_equal(lo2.tunnel, lo->tunnel);
            }
        }
    }
    flowcache_fast_ipv4_set(true);
    assert_int_equal(flowcache_hash_impl_set(def), 0);
    return rc;
}

static bool
check_one(const uint8_t *f, size_t len, unsigned int flags, struct flowcache_key *k,
          struct pkey *key)
{
    struct flowcache_layout lo;
    if (extract_all_ways(f, len, flags, 7, k, &lo)) {
        return false;
    }
    struct packet_layout pl;
    enum packet_drop_reason reason;
    assert_int_equal(packet_parse(f, len,
                                  flags & FLOWCACHE_TUNNEL ? PACKET_PARSE_TUNNEL : 0, key,
                                  &pl, &reason, NULL),
                     0);
    assert_int_equal(lo.l2, pl.l2);
    assert_int_equal(lo.l3, pl.l3);
    assert_int_equal(lo.l4, pl.l4);
    assert_int_equal(lo.end, pl.end);
    assert_int_equal(lo.tunnel, (key->f.tun_flags & PKEY_TUN_PRESENT) != 0);
    assert_int_equal(lo.tunnel, flowcache_key_is_tunnel(k));
    return true;
}

static void
test_extract_shapes(void **state)
{
    uint8_t f[256], g[512];
    struct flowcache_key k;
    struct pkey key;
    struct flowcache_layout lo;
    size_t len;

    for (int vlan = 0; vlan < 2; vlan++) {
        static const uint8_t protos[] = {1, 6, 17};
        for (size_t i = 0; i < 3; i++) {
            for (int ihl = 5; ihl <= 7; ihl++) {
                len = frame_ip4(f, vlan, ihl, protos[i]);
                assert_true(check_one(f, len, 0, &k, &key));
                assert_int_equal(k.n_words, 5);
            }
        }
    }
    static const uint8_t protos6[] = {6, 17, 58};
    for (size_t i = 0; i < 3; i++) {
        len = frame_ip6(f, protos6[i]);
        assert_true(check_one(f, len, 0, &k, &key));
        assert_int_equal(k.n_words, 8);
    }
    len = frame_ip4(f, false, 5, 17);
    size_t glen = frame_geneve(g, f, len, true);
    assert_true(check_one(g, glen, FLOWCACHE_TUNNEL, &k, &key));
    assert_int_equal(k.n_words, 7);
    /* Without the tunnel flag it is ordinary UDP. */
    assert_true(check_one(g, glen, 0, &k, &key));
    assert_int_equal(k.n_words, 5);
    /* Geneve without OVN's option is still a tunnel shape (the pipeline refuses it). */
    glen = frame_geneve(g, f, len, false);
    assert_true(check_one(g, glen, FLOWCACHE_TUNNEL, &k, &key));

    /* Refused shapes. */
    len = frame_ip4(f, false, 5, 17);
    put16(f + 14 + 6, 0x2000); /* More fragments. */
    assert_int_equal(flowcache_extract(f, len, 0, 1, &k, &lo), -1);
    len = frame_ip4(f, false, 5, 17);
    put16(f + 14 + 6, 0x0010); /* A later fragment. */
    assert_int_equal(flowcache_extract(f, len, 0, 1, &k, &lo), -1);
    len = frame_ip4(f, false, 5, 47); /* GRE. */
    assert_int_equal(flowcache_extract(f, len, 0, 1, &k, &lo), -1);
    len = frame_ip6(f, 58);
    f[14 + 40] = 135; /* Neighbour solicitation. */
    assert_int_equal(flowcache_extract(f, len, 0, 1, &k, &lo), -1);
    f[14 + 41] = 1; /* ...with a code that is not ND: ordinary ICMPv6. */
    assert_int_equal(flowcache_extract(f, len, 0, 1, &k, &lo), 0);
    len = frame_ip6(f, 0); /* Hop-by-hop. */
    assert_int_equal(flowcache_extract(f, len, 0, 1, &k, &lo), -1);
    memset(f, 0, 60);
    put16(f + 12, 0x0806); /* ARP. */
    assert_int_equal(flowcache_extract(f, 60, 0, 1, &k, &lo), -1);
    put16(f + 12, 0x0040); /* 802.3 length. */
    assert_int_equal(flowcache_extract(f, 60, 0, 1, &k, &lo), -1);
    assert_int_equal(flowcache_extract(NULL, 0, 0, 1, &k, &lo), -1);
    (void)state;
}

/* Every truncation and many single-byte corruptions of valid frames: an extracted
 * frame is always one the parser accepts with the same offsets. */
static void
test_extract_never_accepts_more(void **state)
{
    uint8_t base[512], f[512], inner[256];
    struct flowcache_key k;
    struct pkey key;
    size_t lens[8];
    uint8_t frames[8][512];
    unsigned int flags[8];
    size_t n = 0;

    lens[n] = frame_ip4(frames[n], false, 5, 6), flags[n++] = 0;
    lens[n] = frame_ip4(frames[n], true, 6, 17), flags[n++] = 0;
    lens[n] = frame_ip4(frames[n], false, 5, 1), flags[n++] = 0;
    lens[n] = frame_ip6(frames[n], 6), flags[n++] = 0;
    lens[n] = frame_ip6(frames[n], 17), flags[n++] = 0;
    size_t ilen = frame_ip4(inner, false, 5, 6);
    lens[n] = frame_geneve(frames[n], inner, ilen, true), flags[n++] = FLOWCACHE_TUNNEL;
    ilen = frame_ip6(inner, 17);
    lens[n] = frame_geneve(frames[n], inner, ilen, true), flags[n++] = FLOWCACHE_TUNNEL;

    unsigned int seed = 12345;
    for (size_t i = 0; i < n; i++) {
        memcpy(base, frames[i], lens[i]);
        for (size_t len = 0; len <= lens[i]; len++) {
            check_one(base, len, flags[i], &k, &key);
        }
        for (int round = 0; round < 20000; round++) {
            memcpy(f, base, lens[i]);
            int n_mut = 1 + round % 3;
            for (int m = 0; m < n_mut; m++) {
                seed = seed * 1103515245 + 12345;
                size_t at = (seed >> 8) % lens[i];
                seed = seed * 1103515245 + 12345;
                f[at] = (uint8_t)(seed >> 16);
            }
            check_one(f, lens[i], flags[i], &k, &key);
        }
    }
    (void)state;
}

/* Frames that vary in every field the key holds, over small sets of values so that
 * equal tuples recur: equal tuples must always come with equal parsed keys. */
#define N_VARIANTS 3000
static void
test_extract_equal_tuples_equal_keys(void **state)
{
    struct flowcache_key *keys = calloc(N_VARIANTS, sizeof *keys);
    struct pkey *pkeys = calloc(N_VARIANTS, sizeof *pkeys);
    assert_non_null(keys);
    assert_non_null(pkeys);
    uint8_t f[512], inner[256];
    unsigned int seed = 777;
    size_t n = 0, equal_pairs = 0;

#define RND(N) ((seed = seed * 1103515245 + 12345), (seed >> 16) % (N))
    for (int i = 0; i < N_VARIANTS; i++) {
        int shape = (int)RND(5);
        size_t len;
        uint8_t *fr = f;
        uint8_t *p = shape == 4 ? inner : f;
        unsigned int flags = 0;
        if (shape == 3) {
            len = frame_ip6(p, RND(2) ? 6 : 17);
            p[14 + 7] = (uint8_t)(63 + RND(2));
            p[14 + 3] = (uint8_t)RND(2);        /* Flow label. */
            p[14 + 1] = (uint8_t)(RND(2) << 4); /* Traffic class. */
            p[14 + 39] = (uint8_t)RND(2);
        } else {
            uint8_t proto = shape == 0 ? 6 : shape == 1 ? 17 : 1;
            bool vlan = RND(2);
            len = frame_ip4(p, vlan, 5 + (int)RND(2), proto);
            size_t l3 = vlan ? 18 : 14;
            if (vlan) {
                put16(p + 14, (uint16_t)(RND(2) ? 100 : 0x1064)); /* DEI differs. */
            }
            p[l3 + 1] = (uint8_t)RND(4); /* ECN. */
            p[l3 + 8] = (uint8_t)(63 + RND(2));
            p[l3 + 15] = (uint8_t)RND(2);
            p[l3 + 5] = (uint8_t)RND(256); /* IP ID: not in the key. */
            size_t l4 = l3 + (size_t)(p[l3] & 0xf) * 4;
            p[l4 + 1] = (uint8_t)RND(2);
            if (proto == 6) {
                p[l4 + 13] = (uint8_t)(RND(2) ? 0x10 : 0x18);
            }
            fix_ip4(p, l3);
        }
        p[5] = (uint8_t)RND(2);
        p[11] = (uint8_t)RND(2);
        if (shape == 4) {
            len = frame_geneve(f, inner, len, true);
            f[14 + 20 + 8 + 6] = (uint8_t)RND(2);  /* VNI. */
            f[14 + 20 + 8 + 15] = (uint8_t)RND(2); /* OVN egress. */
            f[14 + 15] = (uint8_t)RND(2);          /* Outer source. */
            f[14 + 20 + 1] = (uint8_t)RND(256);    /* Outer UDP source port. */
            flags = FLOWCACHE_TUNNEL;
        }
        uint16_t in_port = (uint16_t)RND(2);
        struct flowcache_layout lo;
        if (extract_all_ways(fr, len, flags, in_port, &keys[n], &lo)) {
            continue;
        }
        assert_int_equal(packet_parse(fr, len, flags ? PACKET_PARSE_TUNNEL : 0, &pkeys[n],
                                      NULL, NULL, NULL),
                         0);
        pkeys[n].f.in_port = in_port;
        for (size_t j = 0; j < n; j++) {
            if (keys[j].n_words == keys[n].n_words &&
                !memcmp(keys[j].w, keys[n].w, keys[n].n_words * 8)) {
                assert_int_equal(keys[j].hash, keys[n].hash);
                assert_memory_equal(&pkeys[j], &pkeys[n], sizeof pkeys[n]);
                equal_pairs++;
            } else {
                /* Different tuples may still be equal keys (e.g. the DEI bit), but
                 * equal keys from the same shape usually mean equal tuples. */
            }
        }
        n++;
    }
#undef RND
    assert_true(n > N_VARIANTS / 2);
    assert_true(equal_pairs > 100);
    free(keys);
    free(pkeys);
    (void)state;
}

/* ---- The hash. ---- */

/* The CRC32C update of 'crc' by bytes, bit by bit, without inversions: the reference. */
static uint32_t
crc32c_ref(uint32_t crc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) {
            crc = (crc >> 1) ^ (crc & 1 ? 0x82f63b78u : 0);
        }
    }
    return crc;
}

/* Every implementation this machine has gives the portable one's values, which are
 * the two-lane CRC32C the header describes; the selected default is the best. */
static void
test_hash_impls(void **state)
{
    enum flowcache_hash_impl def = flowcache_hash_impl_get();
    assert_true(flowcache_hash_impl_available(def));
    assert_true(flowcache_hash_impl_available(FLOWCACHE_HASH_PORTABLE));
#if defined(__x86_64__)
    assert_int_equal(def, __builtin_cpu_supports("sse4.2") ? FLOWCACHE_HASH_SSE42
                                                           : FLOWCACHE_HASH_PORTABLE);
    assert_false(flowcache_hash_impl_available(FLOWCACHE_HASH_ARMV8));
#endif
    assert_int_equal(flowcache_hash_impl_set((enum flowcache_hash_impl)99), -ENOTSUP);

    uint64_t w[FLOWCACHE_KEY_WORDS];
    uint64_t x = 0x0123456789abcdefULL;
    size_t n_checked = 0;
    for (int round = 0; round < 2000; round++) {
        for (size_t i = 0; i < FLOWCACHE_KEY_WORDS; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            w[i] = round % 7 ? x : (uint64_t)round; /* Some small values too. */
        }
        uint32_t n = 1 + (uint32_t)round % FLOWCACHE_KEY_WORDS;
        /* The reference: lane A over the even words, lane B over the odd ones (the
         * words as little-endian bytes, no inversions), B rotated by 16. */
        uint32_t a = 0x9e3779b9u ^ n, b = 0x7f4a7c15u;
        for (uint32_t i = 0; i < n; i++) {
            uint8_t bytes[8];
            for (int j = 0; j < 8; j++) {
                bytes[j] = (uint8_t)(w[i] >> (8 * j));
            }
            if (i % 2) {
                b = crc32c_ref(b, bytes, 8);
            } else {
                a = crc32c_ref(a, bytes, 8);
            }
        }
        uint32_t want = a ^ ((b << 16) | (b >> 16));
        for (int impl = FLOWCACHE_HASH_PORTABLE; impl <= FLOWCACHE_HASH_ARMV8; impl++) {
            if (flowcache_hash_impl_set(impl)) {
                continue;
            }
            assert_int_equal(flowcache_hash_impl_get(), impl);
            assert_int_equal(flowcache_hash_words(w, n), want);
            n_checked++;
        }
    }
    assert_true(n_checked >= 2000);
    /* The standard check value, through the reference. */
    assert_int_equal(~crc32c_ref(~0u, (const uint8_t *)"123456789", 9), 0xe3069283u);
    assert_int_equal(flowcache_hash_impl_set(def), 0);
    (void)state;
}

/* The fixed-offset IPv4 extractor against the general one on the frames it takes,
 * and the ones at its edges it must leave to the general one. */
static void
test_extract_fast_ipv4(void **state)
{
    uint8_t f[256];
    struct flowcache_key k;
    struct pkey key;
    struct flowcache_layout lo;
    size_t len;

    /* Every frame goes through check_one(), which compares both extractors. */
    static const uint8_t protos[] = {1, 6, 17, 47};
    for (size_t i = 0; i < sizeof protos; i++) {
        len = frame_ip4(f, false, 5, protos[i]);
        assert_int_equal(check_one(f, len, 0, &k, &key), protos[i] != 47);
        /* Trailing bytes after the datagram (Ethernet padding). */
        memset(f + len, 0xa5, 20);
        assert_int_equal(check_one(f, len + 20, 0, &k, &key), protos[i] != 47);
    }
    /* UDP to the Geneve port: ordinary UDP without the tunnel flag, and with it a
     * tunnel frame only if it is Geneve (here it is not: the general path refuses). */
    len = frame_ip4(f, false, 5, 17);
    put16(f + 34 + 2, PACKET_GENEVE_PORT);
    assert_true(check_one(f, len, 0, &k, &key));
    assert_false(check_one(f, len, FLOWCACHE_TUNNEL, &k, &key));
    /* TCP data offsets at and past the end; total lengths at the edges. */
    for (int doff = 0; doff < 16; doff++) {
        len = frame_ip4(f, false, 5, 6);
        f[34 + 12] = (uint8_t)(doff << 4 | (f[34 + 12] & 0x0f));
        check_one(f, len, 0, &k, &key);
    }
    for (int tot = 0; tot < 80; tot++) {
        len = frame_ip4(f, false, 5, tot % 2 ? 6 : 17);
        put16(f + 14 + 2, (uint16_t)tot); /* The parser does not check checksums. */
        check_one(f, len, 0, &k, &key);
    }
    /* Versions and header lengths around 0x45, and the DF bit (not a fragment). */
    for (int vihl = 0x40; vihl < 0x70; vihl++) {
        len = frame_ip4(f, false, 5, 17);
        f[14] = (uint8_t)vihl;
        check_one(f, len, 0, &k, &key);
    }
    len = frame_ip4(f, false, 5, 6);
    put16(f + 14 + 6, 0x4000);
    assert_true(check_one(f, len, 0, &k, &key));
    /* Frames too long for the parser. */
    static uint8_t big[PACKET_MAX_LEN + 64];
    len = frame_ip4(big, false, 5, 17);
    assert_int_equal(extract_all_ways(big, PACKET_MAX_LEN + 1, 0, 1, &k, &lo), -1);
    (void)state;
}

/* ---- The cache. ---- */

static void
make_key(struct flowcache_key *k, uint64_t v, uint32_t hash)
{
    memset(k, 0, sizeof *k);
    k->w[0] = v;
    k->w[4] = ~v;
    k->n_words = 5;
    k->hash = hash;
}

static void
test_cache(void **state)
{
    struct flowcache *fc;
    assert_int_equal(flowcache_create(8, 1u << 25, &fc), -EINVAL);
    assert_int_equal(flowcache_create(5, 0, &fc), 0);
    assert_int_equal(flowcache_capacity(fc), 8);

    int vals[8];
    struct flowcache_key a, b, c, d;
    uint32_t aux = 0;
    make_key(&a, 1, 0x10); /* Bucket 0. */
    make_key(&b, 2, 0x20); /* Bucket 0 too. */
    make_key(&c, 3, 0x30); /* Bucket 0 too. */
    make_key(&d, 4, 0x11); /* Bucket 1. */
    assert_null(flowcache_lookup(fc, &a, &aux));
    flowcache_insert(fc, &a, &vals[0], 10);
    flowcache_prefetch(fc, &a);
    assert_ptr_equal(flowcache_lookup(fc, &a, &aux), &vals[0]);
    assert_int_equal(aux, 10);
    flowcache_insert(fc, &a, &vals[1], 11); /* Replaces. */
    assert_ptr_equal(flowcache_lookup(fc, &a, NULL), &vals[1]);
    flowcache_insert(fc, &b, &vals[2], 12);
    flowcache_insert(fc, &d, &vals[3], 13);
    assert_ptr_equal(flowcache_lookup(fc, &a, NULL), &vals[1]);
    assert_ptr_equal(flowcache_lookup(fc, &b, &aux), &vals[2]);
    assert_int_equal(aux, 12);
    /* A third key in a full bucket evicts the older one (a). */
    flowcache_insert(fc, &c, &vals[4], 14);
    assert_null(flowcache_lookup(fc, &a, NULL));
    assert_ptr_equal(flowcache_lookup(fc, &b, NULL), &vals[2]);
    assert_ptr_equal(flowcache_lookup(fc, &c, NULL), &vals[4]);
    assert_ptr_equal(flowcache_lookup(fc, &d, NULL), &vals[3]);
    /* The next 7 inserts into the full bucket are left out, the 8th replaces. */
    for (int i = 0; i < 7; i++) {
        flowcache_insert(fc, &a, &vals[0], 0);
        assert_null(flowcache_lookup(fc, &a, NULL));
    }
    flowcache_insert(fc, &a, &vals[0], 0);
    assert_ptr_equal(flowcache_lookup(fc, &a, NULL), &vals[0]);
    assert_ptr_equal(flowcache_lookup(fc, &c, NULL), &vals[4]);
    assert_null(flowcache_lookup(fc, &b, NULL));
    flowcache_insert(fc, &b, &vals[2], 12);
    flowcache_insert(fc, &a, &vals[1], 11);

    /* Same hash, different words, or fewer words: a miss. */
    struct flowcache_key e = c;
    e.w[4] ^= 1;
    assert_null(flowcache_lookup(fc, &e, NULL));
    e = c;
    e.n_words = 4;
    assert_null(flowcache_lookup(fc, &e, NULL));

    flowcache_invalidate(fc);
    assert_null(flowcache_lookup(fc, &b, NULL));
    assert_null(flowcache_lookup(fc, &d, NULL));
    flowcache_insert(fc, &a, &vals[5], 15); /* Takes a stale slot: no eviction. */
    flowcache_insert(fc, &b, &vals[6], 16);
    assert_ptr_equal(flowcache_lookup(fc, &a, NULL), &vals[5]);
    assert_ptr_equal(flowcache_lookup(fc, &b, NULL), &vals[6]);

    struct flowcache_stats st;
    flowcache_get_stats(fc, &st);
    assert_int_equal(st.n_inserts, 9);
    assert_int_equal(st.n_evictions, 2);
    assert_int_equal(st.n_skipped, 8);
    assert_int_equal(st.n_invalidations, 1);
    assert_true(st.n_hits >= 9);
    assert_true(st.n_misses >= 5);
    flowcache_destroy(fc);
    flowcache_destroy(NULL);
    (void)state;
}

/* The burst extractor gives, frame by frame, what flowcache_extract() gives, with
 * every hash implementation and with and without the fixed-offset extractor; the
 * burst lookup stops after the first frame without a value and counts as
 * flowcache_lookup() does. */
static void
test_burst(void **state)
{
    enum { N = 12 };
    static uint8_t bufs[N][512];
    uint8_t inner[256];
    const uint8_t *frames[N];
    uint32_t lens[N];
    size_t ilen = frame_ip4(inner, false, 5, 6);
    for (int i = 0; i < N; i++) {
        uint8_t *f = bufs[i];
        size_t len;
        switch (i % 6) {
        case 0:
            len = frame_ip4(f, false, 5, 17);
            put16(f + 14 + 20, (uint16_t)(1000 + i)); /* A distinct flow. */
            break;
        case 1:
            len = frame_ip4(f, i > 6, 6, 6);
            break;
        case 2:
            len = frame_ip6(f, 17);
            put16(f + 14 + 40, (uint16_t)(3000 + i));
            break;
        case 3:
            len = frame_geneve(f, inner, ilen, true);
            put16(f + 14 + 20, (uint16_t)(4000 + i)); /* Outer UDP source port. */
            break;
        case 4:
            memset(f, 0, 60);
            put16(f + 12, 0x0806); /* ARP: no tuple. */
            len = 60;
            break;
        default:
            len = frame_ip4(f, false, 5, 6);
            put16(f + 14 + 20 + 2, (uint16_t)(2000 + i));
            break;
        }
        frames[i] = f;
        lens[i] = (uint32_t)len;
    }
    frames[10] = NULL; /* A frame the caller gives no tuple. */

    struct flowcache *fc;
    assert_int_equal(flowcache_create(64, 0, &fc), 0);
    enum flowcache_hash_impl def = flowcache_hash_impl_get();
    for (int impl = FLOWCACHE_HASH_PORTABLE; impl <= FLOWCACHE_HASH_ARMV8; impl++) {
        if (flowcache_hash_impl_set(impl)) {
            continue;
        }
        for (int fast = 0; fast < 2; fast++) {
            flowcache_fast_ipv4_set(fast);
            for (unsigned int flags = 0; flags <= FLOWCACHE_TUNNEL; flags++) {
                struct flowcache_key keys[N];
                struct flowcache_layout los[N];
                bool ok[N];
                memset(keys, 0, sizeof keys);
                flowcache_extract_burst(fc, flags, 9, frames, lens, N, keys, los, ok);
                for (int i = 0; i < N; i++) {
                    struct flowcache_key k;
                    struct flowcache_layout lo;
                    int rc = flowcache_extract(frames[i], lens[i], flags, 9, &k, &lo);
                    assert_int_equal(ok[i], rc == 0);
                    if (rc) {
                        continue;
                    }
                    assert_int_equal(keys[i].n_words, k.n_words);
                    assert_memory_equal(keys[i].w, k.w, k.n_words * sizeof k.w[0]);
                    assert_int_equal(keys[i].hash, k.hash);
                    assert_int_equal(los[i].l2, lo.l2);
                    assert_int_equal(los[i].l3, lo.l3);
                    assert_int_equal(los[i].l4, lo.l4);
                    assert_int_equal(los[i].end, lo.end);
                    assert_int_equal(los[i].proto, lo.proto);
                    assert_int_equal(los[i].ipv6, lo.ipv6);
                    assert_int_equal(los[i].vlan, lo.vlan);
                    assert_int_equal(los[i].tunnel, lo.tunnel);
                }
                assert_false(ok[4]);
                assert_false(ok[10]);
                assert_true(ok[0] && ok[1] && ok[2] && ok[3] && ok[5]);
                assert_int_equal(flowcache_key_is_tunnel(&keys[3]),
                                 flags == FLOWCACHE_TUNNEL);
            }
        }
    }
    flowcache_fast_ipv4_set(true);
    assert_int_equal(flowcache_hash_impl_set(def), 0);

    /* Lookups. */
    struct flowcache_key keys[N];
    struct flowcache_layout los[N];
    bool ok[N];
    void *values[N];
    int vals[N];
    flowcache_extract_burst(fc, 0, 9, frames, lens, N, keys, los, ok);
    for (int i = 0; i < N; i++) {
        if (ok[i] && i != 2) {
            flowcache_insert(fc, &keys[i], &vals[i], 0);
        }
    }
    struct flowcache_stats st0, st;
    flowcache_get_stats(fc, &st0);
    /* 0 and 1 hit, 2 misses: the first call stops there. */
    assert_int_equal(flowcache_lookup_burst(fc, keys, ok, N, values), 3);
    assert_ptr_equal(values[0], &vals[0]);
    assert_ptr_equal(values[1], &vals[1]);
    assert_null(values[2]);
    flowcache_get_stats(fc, &st);
    assert_int_equal(st.n_hits - st0.n_hits, 2);
    assert_int_equal(st.n_misses - st0.n_misses, 1);
    /* What the caller learnt from frame 2 is seen by the next call. */
    flowcache_insert(fc, &keys[2], &vals[2], 0);
    assert_int_equal(flowcache_lookup_burst(fc, keys + 2, ok + 2, N - 2, values + 2), 3);
    assert_ptr_equal(values[2], &vals[2]);
    assert_ptr_equal(values[3], &vals[3]);
    assert_null(values[4]); /* No tuple: neither hit nor miss. */
    flowcache_get_stats(fc, &st0);
    assert_int_equal(st0.n_hits - st.n_hits, 2);
    assert_int_equal(st0.n_misses, st.n_misses);
    assert_int_equal(flowcache_lookup_burst(fc, keys + 5, ok + 5, N - 5, values + 5), 6);
    for (int i = 5; i < 10; i++) {
        assert_ptr_equal(values[i], &vals[i]);
    }
    assert_null(values[10]);
    assert_int_equal(flowcache_lookup_burst(fc, keys + 10, ok + 10, N - 10, values + 10),
                     1);
    assert_null(values[10]);
    assert_int_equal(flowcache_lookup_burst(fc, keys + 11, ok + 11, 1, values + 11), 1);
    assert_ptr_equal(values[11], &vals[11]);
    assert_int_equal(flowcache_lookup_burst(fc, keys, ok, 0, values), 0);
    /* After an invalidation every tuple misses. */
    flowcache_invalidate(fc);
    assert_int_equal(flowcache_lookup_burst(fc, keys, ok, N, values), 1);
    assert_null(values[0]);
    flowcache_destroy(fc);
    (void)state;
}

/* A small table grows once its buckets overflow, up to its maximum. */
static void
test_cache_grows(void **state)
{
    struct flowcache *fc;
    int val;
    assert_int_equal(flowcache_create(64, 1024, &fc), 0);
    assert_int_equal(flowcache_capacity(fc), 64);
    for (uint32_t i = 0; i < 4000; i++) {
        struct flowcache_key k;
        make_key(&k, i, i * 2654435761u);
        flowcache_insert(fc, &k, &val, i);
    }
    struct flowcache_stats st;
    flowcache_get_stats(fc, &st);
    assert_int_equal(flowcache_capacity(fc), 1024);
    assert_int_equal(st.n_resizes, 2);
    /* Emptied, the larger table takes keys as before. */
    flowcache_invalidate(fc);
    struct flowcache_key k;
    uint32_t aux;
    make_key(&k, 3999, 3999 * 2654435761u);
    assert_null(flowcache_lookup(fc, &k, &aux));
    flowcache_insert(fc, &k, &val, 3999);
    assert_ptr_equal(flowcache_lookup(fc, &k, &aux), &val);
    assert_int_equal(aux, 3999);
    flowcache_destroy(fc);
    (void)state;
}

/* ---- Rewrites. ---- */

static void
assert_ip4_checksums_valid(const uint8_t *f, size_t l3)
{
    uint8_t copy[512];
    size_t tot = get16(f + l3 + 2);
    memcpy(copy, f, l3 + tot);
    uint8_t udp_zero = f[l3 + 9] == 17 && !get16(f + l3 + (f[l3] & 0xf) * 4 + 6);
    fix_ip4(copy, l3);
    if (udp_zero) {
        size_t c = l3 + (size_t)(f[l3] & 0xf) * 4 + 6;
        copy[c] = copy[c + 1] = 0;
    }
    assert_memory_equal(copy, f, l3 + tot);
}

static void
test_rewrite(void **state)
{
    uint8_t f[256];
    struct flowcache_key k;
    struct flowcache_layout lo;
    static const uint8_t protos[] = {1, 6, 17};

    for (int vlan = 0; vlan < 2; vlan++) {
        for (size_t i = 0; i < 3; i++) {
            size_t len = frame_ip4(f, vlan, 6, protos[i]);
            size_t l3 = vlan ? 18 : 14;
            assert_int_equal(flowcache_extract(f, len, 0, 1, &k, &lo), 0);
            assert_int_equal(flowcache_rewrite(f, &lo, PKEY_F_ETH_SRC, 0x0a0000000099ULL),
                             0);
            assert_int_equal(f[6], 0x0a);
            assert_int_equal(f[11], 0x99);
            assert_int_equal(flowcache_rewrite(f, &lo, PKEY_F_ETH_DST, 0x020000000042ULL),
                             0);
            assert_int_equal(f[0], 0x02);
            assert_int_equal(f[5], 0x42);
            assert_int_equal(flowcache_dec_ttl(f, &lo), 0);
            assert_int_equal(f[l3 + 8], 63);
            assert_ip4_checksums_valid(f, l3);
            assert_int_equal(flowcache_rewrite(f, &lo, PKEY_F_IP4_SRC, 0xc0a80105), 0);
            assert_int_equal(flowcache_rewrite(f, &lo, PKEY_F_IP4_DST, 0xac10fffe), 0);
            assert_int_equal(f[l3 + 12], 192);
            assert_int_equal(f[l3 + 19], 254);
            assert_ip4_checksums_valid(f, l3);
            int rc_tcp = flowcache_rewrite(f, &lo, PKEY_F_TCP_DST, 8080);
            int rc_udp = flowcache_rewrite(f, &lo, PKEY_F_UDP_SRC, 40000);
            assert_int_equal(rc_tcp, protos[i] == 6 ? 0 : -EINVAL);
            assert_int_equal(rc_udp, protos[i] == 17 ? 0 : -EINVAL);
            assert_ip4_checksums_valid(f, l3);
            assert_int_equal(flowcache_rewrite(f, &lo, PKEY_F_IP_TTL, 1), 0);
            assert_int_equal(flowcache_dec_ttl(f, &lo), 0);
            assert_int_equal(flowcache_dec_ttl(f, &lo), -EINVAL);
            assert_ip4_checksums_valid(f, l3);
        }
    }

    /* A UDP checksum of 0 ("none") stays 0. */
    size_t len = frame_ip4(f, false, 5, 17);
    put16(f + 14 + 20 + 6, 0);
    assert_int_equal(flowcache_extract(f, len, 0, 1, &k, &lo), 0);
    assert_int_equal(flowcache_rewrite(f, &lo, PKEY_F_IP4_DST, 0x0a000063), 0);
    assert_int_equal(flowcache_rewrite(f, &lo, PKEY_F_UDP_DST, 99), 0);
    assert_int_equal(get16(f + 14 + 20 + 6), 0);
    assert_ip4_checksums_valid(f, 14);

    /* IPv6: hop limit; ports and addresses are not handled. */
    len = frame_ip6(f, 6);
    assert_int_equal(flowcache_extract(f, len, 0, 1, &k, &lo), 0);
    assert_int_equal(flowcache_dec_ttl(f, &lo), 0);
    assert_int_equal(f[14 + 7], 63);
    assert_int_equal(flowcache_rewrite(f, &lo, PKEY_F_IP6_SRC, 1), -EOPNOTSUPP);
    assert_true(flowcache_rewrite_supported(PKEY_F_IP_TTL, 0xff, true));
    assert_true(flowcache_rewrite_supported(PKEY_F_ETH_SRC, 0xffffffffffffULL, true));
    assert_false(flowcache_rewrite_supported(PKEY_F_ETH_SRC, 0xff, false));
    assert_false(flowcache_rewrite_supported(PKEY_F_TCP_SRC, 0xffff, true));
    assert_true(flowcache_rewrite_supported(PKEY_F_TCP_SRC, 0xffff, false));
    assert_false(flowcache_rewrite_supported(PKEY_F_IP_DSCP, 0x3f, false));
    assert_false(flowcache_rewrite_supported(PKEY_F_IP6_DST, ~(lex_u128)0, true));
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extract_shapes),
        cmocka_unit_test(test_extract_never_accepts_more),
        cmocka_unit_test(test_extract_equal_tuples_equal_keys),
        cmocka_unit_test(test_hash_impls),
        cmocka_unit_test(test_extract_fast_ipv4),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_cache_grows),
        cmocka_unit_test(test_burst),
        cmocka_unit_test(test_rewrite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
