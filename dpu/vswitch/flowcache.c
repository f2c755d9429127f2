/* ovnic: the per-lcore exact-match flow cache (see flowcache.h). */
#include "dpu/vswitch/flowcache.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dpu/pipeline/packet.h"
#include "shared/util/util.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define FC_HAVE_SSE42 1
#endif
#if defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>
#define FC_HAVE_ARMV8 1
#endif

#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_IPV6 0x86dd
#define ETH_TYPE_VLAN 0x8100
#define ETH_TYPE_QINQ 0x88a8
#define ETH_TYPE_TEB 0x6558
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMP6 58
#define ND_NS 135
#define ND_NA 136

/* Bits of the shape byte of word 0. */
#define SHAPE_IPV6 0x01
#define SHAPE_TUNNEL 0x02
#define SHAPE_OVN_OPT 0x04
#define SHAPE_OUTER_IPV6 0x08

static inline uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t
rd48(const uint8_t *p)
{
    return ((uint64_t)rd16(p) << 32) | rd32(p + 2);
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* ---- Extraction. ---- */

/* What one Ethernet + IP + L4 parse found. */
struct l3_info {
    uint64_t w0; /* eth_type, vlan, proto, shape bits (no in_port). */
    uint64_t w1, w2, w3;
    uint32_t l3, l4, end;
    uint8_t proto;
    bool ipv6;
    bool vlan;
};

/* Parses Ethernet [+VLAN] + IPv4/IPv6 + TCP/UDP/ICMP of [p + ofs, p + end) as the
 * packet parser does, refusing (-1) every shape this cache does not cover and every
 * frame the parser would reject. */
static int
parse_l2_l3(const uint8_t *p, size_t ofs, size_t end, struct l3_info *in)
{
    if (end < ofs || end - ofs < 14) {
        return -1;
    }
    const uint8_t *eth = p + ofs;
    uint16_t type = rd16(eth + 12);
    uint16_t vlan = 0;
    ofs += 14;
    in->vlan = false;
    if (type == ETH_TYPE_VLAN || type == ETH_TYPE_QINQ) {
        if (end - ofs < 4) {
            return -1;
        }
        vlan = (uint16_t)(rd16(p + ofs) | PKEY_VLAN_PRESENT);
        type = rd16(p + ofs + 2);
        ofs += 4;
        in->vlan = true;
    }
    const uint8_t *l3 = p + ofs;
    size_t avail = end - ofs;
    uint8_t proto, ttl, tos;
    uint32_t label = 0;
    size_t l4, l3_end;
    in->l3 = (uint32_t)ofs;
    if (type == ETH_TYPE_IPV4) {
        if (avail < 20 || l3[0] >> 4 != 4) {
            return -1;
        }
        size_t ihl = (size_t)(l3[0] & 0x0f) * 4;
        size_t tot = rd16(l3 + 2);
        if (ihl < 20 || tot < 20 || tot > avail || ihl > tot) {
            return -1;
        }
        if (rd16(l3 + 6) & 0x3fff) { /* A fragment. */
            return -1;
        }
        tos = l3[1];
        ttl = l3[8];
        proto = l3[9];
        if (proto != PROTO_TCP && proto != PROTO_UDP && proto != PROTO_ICMP) {
            return -1;
        }
        l4 = ofs + ihl;
        l3_end = ofs + tot;
        in->ipv6 = false;
    } else if (type == ETH_TYPE_IPV6) {
        if (avail < 40) {
            return -1;
        }
        uint32_t vtcfl = rd32(l3);
        size_t plen = rd16(l3 + 4);
        if (vtcfl >> 28 != 6 || plen > avail - 40) {
            return -1;
        }
        tos = (uint8_t)(vtcfl >> 20);
        label = vtcfl & 0xfffff;
        proto = l3[6];
        ttl = l3[7];
        if (proto != PROTO_TCP && proto != PROTO_UDP && proto != PROTO_ICMP6) {
            return -1;
        }
        l4 = ofs + 40;
        l3_end = ofs + 40 + plen;
        in->ipv6 = true;
    } else {
        return -1;
    }

    /* L4, with the parser's length checks. */
    const uint8_t *h = p + l4;
    size_t l4_avail = l3_end - l4;
    uint16_t a = 0, b = 0, tcp_flags = 0;
    switch (proto) {
    case PROTO_TCP: {
        if (l4_avail < 20) {
            return -1;
        }
        size_t doff = (size_t)(h[12] >> 4) * 4;
        if (doff < 20 || doff > l4_avail) {
            return -1;
        }
        a = rd16(h);
        b = rd16(h + 2);
        tcp_flags = rd16(h + 12) & 0x0fff;
        break;
    }
    case PROTO_UDP: {
        if (l4_avail < 8) {
            return -1;
        }
        size_t ulen = rd16(h + 4);
        if (ulen < 8 || ulen > l4_avail) {
            return -1;
        }
        a = rd16(h);
        b = rd16(h + 2);
        break;
    }
    default: /* ICMP, ICMPv6. */
        if (l4_avail < 4) {
            return -1;
        }
        if (proto == PROTO_ICMP6 && !h[1] && (h[0] == ND_NS || h[0] == ND_NA)) {
            return -1;
        }
        a = h[0];
        b = h[1];
        break;
    }

    in->w0 = ((uint64_t)type << 16) | ((uint64_t)vlan << 32) | ((uint64_t)proto << 48) |
             ((uint64_t)(in->ipv6 ? SHAPE_IPV6 : 0) << 56);
    in->w1 = rd48(eth) | ((uint64_t)ttl << 48) | ((uint64_t)tos << 56);
    in->w2 = rd48(eth + 6) | ((uint64_t)tcp_flags << 48);
    in->w3 = a | ((uint64_t)b << 16) | ((uint64_t)label << 32);
    in->l4 = (uint32_t)l4;
    in->end = (uint32_t)l3_end;
    in->proto = proto;
    return 0;
}

static inline void
put_addrs(struct flowcache_key *k, uint32_t *n, const uint8_t *l3, bool ipv6)
{
    if (ipv6) {
        memcpy(&k->w[*n], l3 + 8, 32);
        *n += 4;
    } else {
        memcpy(&k->w[*n], l3 + 12, 8);
        *n += 1;
    }
}

/* ---- The hash: CRC32C over the tuple's words, in two interleaved lanes (even and
 * odd words) so that the dependency chain is half as long.  The hardware CRC32C
 * instruction when the CPU has one (SSE4.2, ARMv8 CRC), else the same function in
 * software: every implementation gives the same values. ---- */

/* Reflected CRC32C (Castagnoli) tables for eight bytes at a time. */
static uint32_t crc_tab[8][256];

static void
crc_tab_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int b = 0; b < 8; b++) {
            c = (c >> 1) ^ (c & 1 ? 0x82f63b78u : 0);
        }
        crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) {
            uint32_t c = crc_tab[t - 1][i];
            crc_tab[t][i] = (c >> 8) ^ crc_tab[0][c & 0xff];
        }
    }
}

/* The CRC32C of the 8 little-endian bytes of 'v' continuing from 'crc' (no
 * inversions): what the CRC32 instructions compute. */
static inline uint32_t
crc_sw_u64(uint32_t crc, uint64_t v)
{
    uint64_t x = crc ^ v;
    return crc_tab[7][x & 0xff] ^ crc_tab[6][(x >> 8) & 0xff] ^
           crc_tab[5][(x >> 16) & 0xff] ^ crc_tab[4][(x >> 24) & 0xff] ^
           crc_tab[3][(x >> 32) & 0xff] ^ crc_tab[2][(x >> 40) & 0xff] ^
           crc_tab[1][(x >> 48) & 0xff] ^ crc_tab[0][x >> 56];
}

#define FC_HASH_SEED_A 0x9e3779b9u
#define FC_HASH_SEED_B 0x7f4a7c15u

/* The hash of 'w[0..n)', with 'CRC' as the step. */
#define FC_HASH_BODY(CRC, W, N)                                  \
    do {                                                         \
        uint32_t a_ = FC_HASH_SEED_A ^ (N), b_ = FC_HASH_SEED_B; \
        uint32_t i_ = 0;                                         \
        for (; i_ + 1 < (N); i_ += 2) {                          \
            a_ = CRC(a_, (W)[i_]);                               \
            b_ = CRC(b_, (W)[i_ + 1]);                           \
        }                                                        \
        if (i_ < (N)) {                                          \
            a_ = CRC(a_, (W)[i_]);                               \
        }                                                        \
        return a_ ^ ((b_ << 16) | (b_ >> 16));                   \
    } while (0)

static inline uint32_t
hash_portable(const uint64_t *w, uint32_t n)
{
    FC_HASH_BODY(crc_sw_u64, w, n);
}

/* Hashes keys[i] for every i < n with ok[i], with 'HASH' as the hash, and prefetches
 * the first way of each one's bucket in 'fc' (see flowcache_extract_burst()). */
#define FC_HASH_KEYS_BODY(HASH, FC, KEYS, OK, N)                               \
    do {                                                                       \
        for (size_t i_ = 0; i_ < (N); i_++) {                                  \
            if ((OK)[i_]) {                                                    \
                struct flowcache_key *k_ = &(KEYS)[i_];                        \
                k_->hash = HASH(k_->w, k_->n_words);                           \
                __builtin_prefetch(                                            \
                    &(FC)->entries[(k_->hash & (FC)->bucket_mask) * FC_WAYS]); \
            }                                                                  \
        }                                                                      \
    } while (0)

#ifdef FC_HAVE_SSE42
static inline __attribute__((target("sse4.2"))) uint32_t
crc_sse42_u64(uint32_t crc, uint64_t v)
{
    return (uint32_t)_mm_crc32_u64(crc, v);
}

static inline __attribute__((target("sse4.2"))) uint32_t
hash_sse42(const uint64_t *w, uint32_t n)
{
    FC_HASH_BODY(crc_sse42_u64, w, n);
}
#endif

#ifdef FC_HAVE_ARMV8
static inline uint32_t
crc_armv8_u64(uint32_t crc, uint64_t v)
{
    return __crc32cd(crc, v);
}

static inline uint32_t
hash_armv8(const uint64_t *w, uint32_t n)
{
    FC_HASH_BODY(crc_armv8_u64, w, n);
}
#endif

/* The implementation in use (enum flowcache_hash_impl), chosen at load time, and
 * whether the fixed-offset IPv4 extractor is used. */
static _Atomic int fc_hash_impl = FLOWCACHE_HASH_PORTABLE;
static _Atomic bool fc_fast_ipv4 = true;

static void __attribute__((constructor)) fc_hash_init(void)
{
    crc_tab_init();
    enum flowcache_hash_impl best = FLOWCACHE_HASH_PORTABLE;
    if (flowcache_hash_impl_available(FLOWCACHE_HASH_SSE42)) {
        best = FLOWCACHE_HASH_SSE42;
    } else if (flowcache_hash_impl_available(FLOWCACHE_HASH_ARMV8)) {
        best = FLOWCACHE_HASH_ARMV8;
    }
    atomic_store_explicit(&fc_hash_impl, best, memory_order_relaxed);
}

bool
flowcache_hash_impl_available(enum flowcache_hash_impl impl)
{
    switch (impl) {
    case FLOWCACHE_HASH_PORTABLE:
        return true;
    case FLOWCACHE_HASH_SSE42:
#ifdef FC_HAVE_SSE42
        return __builtin_cpu_supports("sse4.2");
#else
        return false;
#endif
    case FLOWCACHE_HASH_ARMV8:
#ifdef FC_HAVE_ARMV8
        return true;
#else
        return false;
#endif
    default:
        return false;
    }
}

int
flowcache_hash_impl_set(enum flowcache_hash_impl impl)
{
    if (!flowcache_hash_impl_available(impl)) {
        return -ENOTSUP;
    }
    atomic_store_explicit(&fc_hash_impl, impl, memory_order_relaxed);
    return 0;
}

enum flowcache_hash_impl
flowcache_hash_impl_get(void)
{
    return atomic_load_explicit(&fc_hash_impl, memory_order_relaxed);
}

void
flowcache_fast_ipv4_set(bool on)
{
    atomic_store_explicit(&fc_fast_ipv4, on, memory_order_relaxed);
}

uint32_t
flowcache_hash_words(const uint64_t *w, uint32_t n)
{
    switch (atomic_load_explicit(&fc_hash_impl, memory_order_relaxed)) {
#ifdef FC_HAVE_SSE42
    case FLOWCACHE_HASH_SSE42:
        return hash_sse42(w, n);
#endif
#ifdef FC_HAVE_ARMV8
    case FLOWCACHE_HASH_ARMV8:
        return hash_armv8(w, n);
#endif
    default:
        return hash_portable(w, n);
    }
}

static inline uint32_t
key_hash(const struct flowcache_key *k)
{
    return flowcache_hash_words(k->w, k->n_words);
}

/* Big-endian loads of 4 and 8 bytes. */
static inline uint32_t
ld32be(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint64_t
ld64be(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* The common case at fixed offsets: an untagged IPv4 frame with a 20-byte header,
 * not a fragment, carrying TCP or UDP (not Geneve when 'flags' asks for tunnels).
 * Fills 'k' and 'lo' exactly as the general extractor would and returns 0, or
 * returns -1 for any other frame, which the general extractor then decides. */
static inline __attribute__((always_inline)) int
extract_ipv4_fast(const uint8_t *p, size_t len, unsigned int flags, uint16_t in_port,
                  struct flowcache_key *k, struct flowcache_layout *lo)
{
    if (len < 14 + 20 + 8 || len > PACKET_MAX_LEN) {
        return -1;
    }
    uint32_t type_vihl_tos = ld32be(p + 12);
    if (type_vihl_tos >> 8 != ((uint32_t)ETH_TYPE_IPV4 << 8 | 0x45)) {
        return -1;
    }
    const uint8_t *l3 = p + 14;
    const uint8_t *h = l3 + 20;
    /* Total length, identification, flags and fragment offset, TTL, protocol. */
    uint64_t tot_to_proto = ld64be(l3 + 2);
    uint32_t tot = (uint32_t)(tot_to_proto >> 48);
    uint32_t l4_avail = tot - 20;
    uint8_t proto = (uint8_t)tot_to_proto;
    uint8_t ttl = (uint8_t)(tot_to_proto >> 8);
    uint16_t tcp_flags = 0;
    if (tot < 20 || tot > len - 14 || ((tot_to_proto >> 16) & 0x3fff)) {
        return -1;
    }
    uint32_t ports = ld32be(h);
    if (proto == PROTO_UDP) {
        uint32_t ulen = rd16(h + 4);
        if (l4_avail < 8 || ulen < 8 || ulen > l4_avail ||
            ((flags & FLOWCACHE_TUNNEL) && (uint16_t)ports == PACKET_GENEVE_PORT)) {
            return -1;
        }
    } else if (proto == PROTO_TCP) {
        if (l4_avail < 20) {
            return -1;
        }
        uint32_t doff = (uint32_t)(h[12] >> 4) * 4;
        if (doff < 20 || doff > l4_avail) {
            return -1;
        }
        tcp_flags = rd16(h + 12) & 0x0fff;
    } else {
        return -1;
    }
    k->w[0] = ((uint64_t)ETH_TYPE_IPV4 << 16) | ((uint64_t)proto << 48) | in_port;
    k->w[1] = (ld64be(p) >> 16) | ((uint64_t)ttl << 48) |
              ((uint64_t)(uint8_t)type_vihl_tos << 56);
    k->w[2] = (ld64be(p + 6) >> 16) | ((uint64_t)tcp_flags << 48);
    k->w[3] = (ports >> 16) | ((uint64_t)(ports & 0xffff) << 16);
    memcpy(&k->w[4], l3 + 12, 8);
    k->n_words = 5;
    *lo = (struct flowcache_layout){
        .l2 = 0,
        .l3 = 14,
        .l4 = 34,
        .end = 14 + tot,
        .proto = proto,
    };
    return 0;
}

/* flowcache_extract() without the hash (k->hash is left unspecified); 'fast': whether
 * to try the fixed-offset extractor first. */
static int extract_general(const uint8_t *p, size_t len, unsigned int flags,
                           uint16_t in_port, struct flowcache_key *k,
                           struct flowcache_layout *lo);

static inline __attribute__((always_inline)) int
extract_nohash(const uint8_t *p, size_t len, unsigned int flags, uint16_t in_port,
               struct flowcache_key *k, struct flowcache_layout *lo, bool fast)
{
    if (__builtin_expect(p && fast && !extract_ipv4_fast(p, len, flags, in_port, k, lo),
                         1)) {
        return 0;
    }
    return extract_general(p, len, flags, in_port, k, lo);
}

int
flowcache_extract(const uint8_t *p, size_t len, unsigned int flags, uint16_t in_port,
                  struct flowcache_key *k, struct flowcache_layout *lo)
{
    bool fast = atomic_load_explicit(&fc_fast_ipv4, memory_order_relaxed);
    if (extract_nohash(p, len, flags, in_port, k, lo, fast)) {
        return -1;
    }
    k->hash = key_hash(k);
    return 0;
}

static int
extract_general(const uint8_t *p, size_t len, unsigned int flags, uint16_t in_port,
                struct flowcache_key *k, struct flowcache_layout *lo)
{
    struct l3_info in;
    if (!p || len > PACKET_MAX_LEN || parse_l2_l3(p, 0, len, &in)) {
        return -1;
    }
    uint32_t n = 0;
    bool tunnel = (flags & FLOWCACHE_TUNNEL) && in.proto == PROTO_UDP &&
                  rd16(p + in.l4 + 2) == PACKET_GENEVE_PORT;
    if (!tunnel) {
        k->w[0] = in.w0 | in_port;
        k->w[1] = in.w1;
        k->w[2] = in.w2;
        k->w[3] = in.w3;
        n = 4;
        put_addrs(k, &n, p + in.l3, in.ipv6);
        k->n_words = n;
        *lo = (struct flowcache_layout){
            .l2 = 0,
            .l3 = in.l3,
            .l4 = in.l4,
            .end = in.end,
            .proto = in.proto,
            .ipv6 = in.ipv6,
            .vlan = in.vlan,
            .tunnel = false,
        };
        return 0;
    }

    /* Geneve: the header, then its options (the parser's checks), then the inner
     * frame, which ends where the UDP length says. */
    const struct l3_info outer = in;
    size_t ofs = outer.l4 + 8;
    size_t gend = outer.l4 + rd16(p + outer.l4 + 4);
    size_t avail = gend - ofs;
    const uint8_t *g = p + ofs;
    if (avail < 8 || g[0] >> 6 || rd16(g + 2) != ETH_TYPE_TEB) {
        return -1;
    }
    size_t optlen = (size_t)(g[0] & 0x3f) * 4;
    if (optlen > avail - 8) {
        return -1;
    }
    uint8_t shape = SHAPE_TUNNEL;
    uint32_t ovn = 0;
    for (size_t o = 8; o < 8 + optlen;) {
        size_t left = 8 + optlen - o;
        if (left < 4) {
            return -1;
        }
        size_t olen = (size_t)(g[o + 3] & 0x1f) * 4;
        if (olen > left - 4) {
            return -1;
        }
        if (rd16(g + o) == PACKET_OVN_OPT_CLASS && g[o + 2] == PACKET_OVN_OPT_TYPE) {
            if (olen != 4 || shape & SHAPE_OVN_OPT) {
                return -1;
            }
            ovn = rd32(g + o + 4) & 0x7fffffff; /* 15-bit ingress, 16-bit egress. */
            shape |= SHAPE_OVN_OPT;
        }
        o += 4 + olen;
    }
    uint32_t vni = rd32(g + 4) >> 8;
    size_t inner_ofs = ofs + 8 + optlen;
    if (parse_l2_l3(p, inner_ofs, gend, &in)) {
        return -1;
    }
    if (outer.ipv6) {
        shape |= SHAPE_OUTER_IPV6;
    }
    k->w[0] = in.w0 | in_port | ((uint64_t)shape << 56);
    k->w[1] = in.w1;
    k->w[2] = in.w2;
    k->w[3] = in.w3;
    n = 4;
    put_addrs(k, &n, p + in.l3, in.ipv6);
    k->w[n++] = vni | ((uint64_t)ovn << 24);
    put_addrs(k, &n, p + outer.l3, outer.ipv6);
    k->n_words = n;
    *lo = (struct flowcache_layout){
        .l2 = (uint32_t)inner_ofs,
        .l3 = in.l3,
        .l4 = in.l4,
        .end = in.end,
        .proto = in.proto,
        .ipv6 = in.ipv6,
        .vlan = in.vlan,
        .tunnel = true,
    };
    return 0;
}

bool
flowcache_key_is_tunnel(const struct flowcache_key *key)
{
    return key->n_words && ((key->w[0] >> 56) & SHAPE_TUNNEL);
}

/* ---- The cache. ---- */

/* 128 bytes: for an IPv4 tuple, the header and the key share the first cache line. */
struct fc_entry {
    uint32_t hash;
    uint32_t epoch; /* 0: never used. */
    uint32_t n_words;
    uint32_t aux;
    void *value;
    uint64_t w[FLOWCACHE_KEY_WORDS];
};
_Static_assert(sizeof(struct fc_entry) == 128, "flow cache entry size");

#define FC_WAYS 2

/* Of the inserts that find their bucket full of live entries, one in this many
 * replaces one: flows that keep coming back (more of them than a bucket holds) do not
 * evict each other on every pass, and dead entries still make way. */
#define FC_FULL_REPLACE 8

/* A table starts small (fewer pages to touch, fewer TLB misses) and grows, by this
 * factor, once the inserts that found their bucket full since it was made reach an
 * eighth of its size. */
#define FC_GROWTH 4

struct flowcache {
    struct fc_entry *entries; /* n_buckets * FC_WAYS, mmap()ed (zero, page-aligned). */
    size_t bucket_mask;
    size_t map_size;
    size_t max_entries;
    size_t since_resize; /* Inserts that found their bucket full, since the resize. */
    uint32_t n_full;     /* Inserts that found their bucket full. */
    uint32_t epoch;      /* Never 0. */
    struct flowcache_stats stats;
};

/* Maps a zeroed table of 'n' entries. */
static struct fc_entry *
table_map(size_t n, size_t *sizep)
{
    /* Anonymous memory: zero, and only the pages used are ever backed; transparent
     * huge pages where the kernel gives them (fewer TLB misses on a large table). */
    size_t size = n * sizeof(struct fc_entry);
    void *mem =
        mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    madvise(mem, size, MADV_HUGEPAGE);
#endif
    *sizep = size;
    return mem;
}

static size_t
round_entries(size_t n)
{
    size_t r = FC_WAYS;
    while (r < n) {
        r <<= 1;
    }
    return r;
}

int
flowcache_create(size_t n_entries, size_t max_entries, struct flowcache **fcp)
{
    if (!n_entries) {
        n_entries = 65536;
    }
    if (max_entries < n_entries) {
        max_entries = n_entries;
    }
    if (max_entries > ((size_t)1 << 24)) {
        return -EINVAL;
    }
    size_t n = round_entries(n_entries);
    struct flowcache *fc = calloc(1, sizeof *fc);
    if (!fc) {
        return -ENOMEM;
    }
    fc->entries = table_map(n, &fc->map_size);
    if (!fc->entries) {
        free(fc);
        return -ENOMEM;
    }
    fc->bucket_mask = n / FC_WAYS - 1;
    fc->max_entries = round_entries(max_entries);
    fc->epoch = 1;
    *fcp = fc;
    return 0;
}

/* Replaces the table with one FC_GROWTH times larger (up to the maximum), empty.
 * Keeps the old one if the new one cannot be had. */
static void
grow(struct flowcache *fc)
{
    size_t n = MIN(flowcache_capacity(fc) * FC_GROWTH, fc->max_entries);
    size_t size;
    struct fc_entry *entries = table_map(n, &size);
    fc->since_resize = 0;
    if (!entries) {
        return;
    }
    munmap(fc->entries, fc->map_size);
    fc->entries = entries;
    fc->map_size = size;
    fc->bucket_mask = n / FC_WAYS - 1;
    fc->epoch = 1;
    fc->stats.n_resizes++;
}

void
flowcache_destroy(struct flowcache *fc)
{
    if (fc) {
        munmap(fc->entries, fc->map_size);
        free(fc);
    }
}

size_t
flowcache_capacity(const struct flowcache *fc)
{
    return (fc->bucket_mask + 1) * FC_WAYS;
}

static inline struct fc_entry *
bucket_of(const struct flowcache *fc, uint32_t hash)
{
    return &fc->entries[(hash & fc->bucket_mask) * FC_WAYS];
}

void
flowcache_prefetch(const struct flowcache *fc, const struct flowcache_key *key)
{
    const struct fc_entry *b = bucket_of(fc, key->hash);
    /* The first way only: it holds the newest entry of the bucket, and while few flows
     * recur, the only one.  A key found in the second way costs the lookup a miss. */
    __builtin_prefetch(&b[0]);
}

static inline bool
entry_matches(const struct fc_entry *e, const struct flowcache_key *key, uint32_t epoch)
{
    if (e->hash != key->hash || e->n_words != key->n_words || e->epoch != epoch) {
        return false;
    }
    uint64_t diff = 0;
    for (uint32_t i = 0; i < key->n_words; i++) {
        diff |= e->w[i] ^ key->w[i];
    }
    return !diff;
}

/* The live entry of 'key', or NULL. */
static inline const struct fc_entry *
lookup_entry(const struct flowcache *fc, const struct flowcache_key *key)
{
    const struct fc_entry *b = bucket_of(fc, key->hash);
    if (__builtin_expect(entry_matches(&b[0], key, fc->epoch), 1)) {
        return &b[0];
    }
    return entry_matches(&b[1], key, fc->epoch) ? &b[1] : NULL;
}

void *
flowcache_lookup(struct flowcache *fc, const struct flowcache_key *key, uint32_t *aux)
{
    const struct fc_entry *e = lookup_entry(fc, key);
    if (e) {
        fc->stats.n_hits++;
        if (aux) {
            *aux = e->aux;
        }
        return e->value;
    }
    fc->stats.n_misses++;
    return NULL;
}

#ifdef FC_HAVE_SSE42
static __attribute__((target("sse4.2"))) void
hash_keys_sse42(const struct flowcache *fc, struct flowcache_key keys[], const bool ok[],
                size_t n)
{
    FC_HASH_KEYS_BODY(hash_sse42, fc, keys, ok, n);
}
#endif

#ifdef FC_HAVE_ARMV8
static void
hash_keys_armv8(const struct flowcache *fc, struct flowcache_key keys[], const bool ok[],
                size_t n)
{
    FC_HASH_KEYS_BODY(hash_armv8, fc, keys, ok, n);
}
#endif

static void
hash_keys_portable(const struct flowcache *fc, struct flowcache_key keys[],
                   const bool ok[], size_t n)
{
    FC_HASH_KEYS_BODY(hash_portable, fc, keys, ok, n);
}

void
flowcache_extract_burst(const struct flowcache *fc, unsigned int flags, uint16_t in_port,
                        const uint8_t *const frames[], const uint32_t lens[], size_t n,
                        struct flowcache_key keys[], struct flowcache_layout layouts[],
                        bool ok[])
{
    /* All the extractions, then all the hashes and prefetches: each pass is a tight
     * loop, and the hashes run in the instruction set's own loop. */
    bool fast = atomic_load_explicit(&fc_fast_ipv4, memory_order_relaxed);
    for (size_t i = 0; i < n; i++) {
        ok[i] = !extract_nohash(frames[i], lens[i], flags, in_port, &keys[i], &layouts[i],
                                fast);
    }
    switch (atomic_load_explicit(&fc_hash_impl, memory_order_relaxed)) {
#ifdef FC_HAVE_SSE42
    case FLOWCACHE_HASH_SSE42:
        hash_keys_sse42(fc, keys, ok, n);
        break;
#endif
#ifdef FC_HAVE_ARMV8
    case FLOWCACHE_HASH_ARMV8:
        hash_keys_armv8(fc, keys, ok, n);
        break;
#endif
    default:
        hash_keys_portable(fc, keys, ok, n);
        break;
    }
}

size_t
flowcache_lookup_burst(struct flowcache *fc, const struct flowcache_key keys[],
                       const bool ok[], size_t n, void *values[])
{
    size_t i = 0;
    uint64_t hits = 0;
    while (i < n) {
        const struct fc_entry *e = ok[i] ? lookup_entry(fc, &keys[i]) : NULL;
        if (!e) {
            fc->stats.n_misses += ok[i];
            values[i++] = NULL;
            break;
        }
        hits++;
        values[i++] = e->value;
    }
    fc->stats.n_hits += hits;
    return i;
}

void
flowcache_insert(struct flowcache *fc, const struct flowcache_key *key, void *value,
                 uint32_t aux)
{
    struct fc_entry *b = bucket_of(fc, key->hash);
    struct fc_entry *e = NULL;
    for (int i = 0; i < FC_WAYS && !e; i++) {
        if (entry_matches(&b[i], key, fc->epoch)) {
            e = &b[i];
        }
    }
    if (!e) {
        /* The first way holds the newest entry, the second the older one: a new key
         * goes first, and a live first entry moves down over the second. */
        if (b[0].epoch == fc->epoch) {
            if (b[1].epoch == fc->epoch) {
                if (++fc->since_resize > flowcache_capacity(fc) / 8 &&
                    flowcache_capacity(fc) < fc->max_entries) {
                    grow(fc);
                    flowcache_insert(fc, key, value, aux);
                    return;
                }
                if (fc->n_full++ % FC_FULL_REPLACE) {
                    fc->stats.n_skipped++;
                    return;
                }
                fc->stats.n_evictions++;
            }
            b[1] = b[0];
        }
        e = &b[0];
    }
    e->hash = key->hash;
    e->epoch = fc->epoch;
    e->n_words = key->n_words;
    e->aux = aux;
    e->value = value;
    memcpy(e->w, key->w, key->n_words * sizeof key->w[0]);
    fc->stats.n_inserts++;
}

void
flowcache_invalidate(struct flowcache *fc)
{
    fc->stats.n_invalidations++;
    if (++fc->epoch == 0) {
        /* Wrapped: entries of an old epoch 1.. could look live again. */
        memset(fc->entries, 0, flowcache_capacity(fc) * sizeof *fc->entries);
        fc->epoch = 1;
    }
}

void
flowcache_get_stats(const struct flowcache *fc, struct flowcache_stats *stats)
{
    *stats = fc->stats;
}

/* ---- Rewrites. ---- */

/* RFC 1624: the checksum 'sum' of data in which 16-bit word 'old' became 'new'. */
static inline uint16_t
csum_update16(uint16_t sum, uint16_t old, uint16_t new)
{
    uint32_t s = (uint16_t)~sum + (uint32_t)(uint16_t)~old + new;
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static inline uint16_t
csum_update32(uint16_t sum, uint32_t old, uint32_t new)
{
    sum = csum_update16(sum, (uint16_t)(old >> 16), (uint16_t)(new >> 16));
    return csum_update16(sum, (uint16_t)old, (uint16_t) new);
}

bool
flowcache_rewrite_supported(enum pkey_field_id field, lex_u128 mask, bool ipv6)
{
    const struct pkey_field_info *info = pkey_field_info(field);
    if (mask != lex_u128_bits(0, info->n_bits)) {
        return false;
    }
    switch (field) {
    case PKEY_F_ETH_SRC:
    case PKEY_F_ETH_DST:
    case PKEY_F_IP_TTL:
        return true;
    case PKEY_F_IP4_SRC:
    case PKEY_F_IP4_DST:
    case PKEY_F_TCP_SRC:
    case PKEY_F_TCP_DST:
    case PKEY_F_UDP_SRC:
    case PKEY_F_UDP_DST:
        return !ipv6;
    default:
        return false;
    }
}

/* The offset of the L4 checksum of the frame, or 0 if it has none to update. */
static size_t
l4_csum_ofs(const uint8_t *frame, const struct flowcache_layout *lo)
{
    if (lo->proto == PROTO_TCP) {
        return lo->l4 + 16;
    }
    if (lo->proto == PROTO_UDP) {
        size_t ofs = lo->l4 + 6;
        return !lo->ipv6 && !rd16(frame + ofs) ? 0 : ofs;
    }
    return 0;
}

static void
l4_csum_fix(uint8_t *frame, size_t ofs, uint8_t proto, uint16_t sum)
{
    if (proto == PROTO_UDP && !sum) {
        sum = 0xffff;
    }
    wr16(frame + ofs, sum);
}

int
flowcache_rewrite(uint8_t *frame, const struct flowcache_layout *lo,
                  enum pkey_field_id field, lex_u128 value)
{
    uint8_t *l3 = frame + lo->l3;
    switch (field) {
    case PKEY_F_ETH_SRC:
    case PKEY_F_ETH_DST: {
        uint8_t *mac = frame + lo->l2 + (field == PKEY_F_ETH_SRC ? 6 : 0);
        for (int i = 0; i < 6; i++) {
            mac[i] = (uint8_t)(value >> (8 * (5 - i)));
        }
        return 0;
    }
    case PKEY_F_IP_TTL:
        if (lo->ipv6) {
            l3[7] = (uint8_t)value;
        } else {
            uint16_t old = rd16(l3 + 8);
            l3[8] = (uint8_t)value;
            wr16(l3 + 10, csum_update16(rd16(l3 + 10), old, rd16(l3 + 8)));
        }
        return 0;
    case PKEY_F_IP4_SRC:
    case PKEY_F_IP4_DST: {
        if (lo->ipv6) {
            return -EINVAL;
        }
        uint8_t *a = l3 + (field == PKEY_F_IP4_SRC ? 12 : 16);
        uint32_t old = rd32(a), new = (uint32_t)value;
        a[0] = (uint8_t)(new >> 24);
        a[1] = (uint8_t)(new >> 16);
        a[2] = (uint8_t)(new >> 8);
        a[3] = (uint8_t) new;
        wr16(l3 + 10, csum_update32(rd16(l3 + 10), old, new));
        size_t cofs = l4_csum_ofs(frame, lo);
        if (cofs) {
            l4_csum_fix(frame, cofs, lo->proto,
                        csum_update32(rd16(frame + cofs), old, new));
        }
        return 0;
    }
    case PKEY_F_TCP_SRC:
    case PKEY_F_TCP_DST:
    case PKEY_F_UDP_SRC:
    case PKEY_F_UDP_DST: {
        bool tcp = field == PKEY_F_TCP_SRC || field == PKEY_F_TCP_DST;
        if (lo->proto != (tcp ? PROTO_TCP : PROTO_UDP)) {
            return -EINVAL;
        }
        uint8_t *port =
            frame + lo->l4 + (field == PKEY_F_TCP_SRC || field == PKEY_F_UDP_SRC ? 0 : 2);
        uint16_t old = rd16(port), new = (uint16_t)value;
        wr16(port, new);
        size_t cofs = l4_csum_ofs(frame, lo);
        if (cofs) {
            l4_csum_fix(frame, cofs, lo->proto,
                        csum_update16(rd16(frame + cofs), old, new));
        }
        return 0;
    }
    default:
        return -EOPNOTSUPP;
    }
}

int
flowcache_dec_ttl(uint8_t *frame, const struct flowcache_layout *lo)
{
    const uint8_t *l3 = frame + lo->l3;
    uint8_t ttl = lo->ipv6 ? l3[7] : l3[8];
    if (!ttl) {
        return -EINVAL;
    }
    return flowcache_rewrite(frame, lo, PKEY_F_IP_TTL, (lex_u128)(ttl - 1));
}
