/* ovnic: the per-lcore exact-match flow cache (see flowcache.h). */
#include "dpu/vswitch/flowcache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dpu/pipeline/packet.h"
#include "shared/util/util.h"

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

static inline uint64_t
rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint32_t
key_hash(const struct flowcache_key *k)
{
    uint64_t h = 0x2545f4914f6cdd1dULL ^ k->n_words;
    for (uint32_t i = 0; i < k->n_words; i++) {
        h = rotl64(h ^ k->w[i], 29) * 0x9e3779b97f4a7c15ULL;
    }
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return (uint32_t)h;
}

int
flowcache_extract(const uint8_t *p, size_t len, unsigned int flags, uint16_t in_port,
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
        k->hash = key_hash(k);
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
    k->hash = key_hash(k);
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
    __builtin_prefetch(&b[0]);
    __builtin_prefetch(&b[1]);
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

void *
flowcache_lookup(struct flowcache *fc, const struct flowcache_key *key, uint32_t *aux)
{
    struct fc_entry *b = bucket_of(fc, key->hash);
    for (int i = 0; i < FC_WAYS; i++) {
        if (entry_matches(&b[i], key, fc->epoch)) {
            fc->stats.n_hits++;
            if (aux) {
                *aux = b[i].aux;
            }
            return b[i].value;
        }
    }
    fc->stats.n_misses++;
    return NULL;
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
