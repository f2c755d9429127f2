/* ovnic: the per-lcore exact-match flow cache of the vswitch's hot path.
 *
 * The vswitch probes this cache before it parses a frame into a struct pkey.  A
 * small extractor (flowcache_extract()) reads, straight from the frame, a compact
 * tuple of every header field the packet parser (dpu/pipeline/packet.h) would put
 * into the key, for the common shapes only:
 *
 *   Ethernet [+ one 802.1Q/802.1ad tag]
 *     + IPv4 (any IHL, not a fragment)  + TCP, UDP or ICMP
 *     + IPv6 (no extension header)      + TCP, UDP or ICMPv6 other than NS/NA
 *
 * and, with FLOWCACHE_TUNNEL, the same inside Geneve (UDP port 6081 over such an
 * outer IPv4 or IPv6 header) with the VNI, the OVN option and the outer addresses.
 * Anything else (ARP, neighbour discovery, fragments, extension headers, SCTP, other
 * EtherTypes, a malformed frame) is refused, and the caller takes its ordinary path,
 * which counts drops as before.
 *
 * The tuple also holds the receive port.  For a shape it accepts, the extractor
 * checks every length the parser checks, and the tuple determines the parsed key:
 * two frames with equal tuples parse to keys that are equal in every field (the
 * tuple is never coarser than the key).  So a cache entry may stand for whatever the
 * key alone decides, e.g. the megaflow found for it, as long as the caller
 * invalidates the cache when anything else that decision used changes.
 *
 * The cache is 2-way set associative, with entries that carry the cache's epoch at
 * insertion: flowcache_invalidate() makes every entry stale in O(1).  Values are
 * opaque pointers (borrowed) plus a 32-bit word for the caller.
 *
 * Not thread-safe: one cache per lcore. */
#ifndef OVNIC_VSWITCH_FLOWCACHE_H
#define OVNIC_VSWITCH_FLOWCACHE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpu/controller/lex.h"
#include "dpu/pipeline/key.h"

/* The longest tuple: IPv6 in Geneve over IPv6. */
#define FLOWCACHE_KEY_WORDS 13

/* Flags for flowcache_extract(). */
#define FLOWCACHE_TUNNEL                                          \
    0x1 /* Take UDP to port 6081 as Geneve (PACKET_PARSE_TUNNEL). \
         */

/* A tuple.  Only w[0..n_words) is meaningful. */
struct flowcache_key {
    uint64_t w[FLOWCACHE_KEY_WORDS];
    uint32_t n_words;
    uint32_t hash;
};

/* Where the (inner) headers of an extracted frame are: byte offsets from the start
 * of the frame (after a tunnel pop, subtract 'l2'; after a VLAN pop, 4 from 'l3',
 * 'l4' and 'end'). */
struct flowcache_layout {
    uint32_t l2;   /* (Inner) Ethernet header. */
    uint32_t l3;   /* IPv4/IPv6 header. */
    uint32_t l4;   /* TCP/UDP/ICMP header. */
    uint32_t end;  /* End of the IP datagram. */
    uint8_t proto; /* IP protocol: 1, 6, 17 or 58. */
    bool ipv6;
    bool vlan;   /* The (inner) frame is tagged. */
    bool tunnel; /* Geneve: l2.. is the inner frame. */
};

/** Extracts the tuple of the 'len'-byte frame at 'data' received on port 'in_port'
 * into 'key' (with its hash) and the header offsets into 'layout'.  'flags':
 * FLOWCACHE_TUNNEL or 0, as the parser would be asked.  Reads only [data, data +
 * len).  Returns 0, or -1 for a frame of another shape (or malformed), leaving
 * 'key' and 'layout' unspecified. */
int flowcache_extract(const uint8_t *data, size_t len, unsigned int flags,
                      uint16_t in_port, struct flowcache_key *key,
                      struct flowcache_layout *layout);

/* The tuple's hash: CRC32C over its words (two interleaved lanes).  The
 * implementations give the same values; the best one this CPU has is chosen when the
 * program loads. */
enum flowcache_hash_impl {
    FLOWCACHE_HASH_PORTABLE, /* Table-driven, any CPU. */
    FLOWCACHE_HASH_SSE42,    /* x86-64 SSE4.2 CRC32 (detected at run time). */
    FLOWCACHE_HASH_ARMV8,    /* ARMv8 CRC32 (when built for a CPU that has it). */
};

/** True if this build and CPU can run 'impl'. */
bool flowcache_hash_impl_available(enum flowcache_hash_impl impl);

/** Selects 'impl' for every later flowcache_extract() (for tests and measurements;
 * all implementations give the same hashes).  Errors: -ENOTSUP ('impl' is not
 * available). */
int flowcache_hash_impl_set(enum flowcache_hash_impl impl);

/** The implementation in use. */
enum flowcache_hash_impl flowcache_hash_impl_get(void);

/** The hash of 'w[0..n)', as flowcache_extract() puts into a key. */
uint32_t flowcache_hash_words(const uint64_t *w, uint32_t n);

/** Turns the fixed-offset extractor of untagged IPv4 TCP/UDP frames (IHL 5) on (the
 * default) or off (every frame then takes the general extractor; the results are the
 * same, for tests). */
void flowcache_fast_ipv4_set(bool on);

/** True if the tuple 'key' came from a Geneve frame. */
bool flowcache_key_is_tunnel(const struct flowcache_key *key);

/* ---- The cache. ---- */

struct flowcache;

struct flowcache_stats {
    uint64_t n_hits;
    uint64_t n_misses;
    uint64_t n_inserts;
    uint64_t n_evictions;     /* Inserts that replaced a live entry. */
    uint64_t n_skipped;       /* Inserts left out: the bucket was full. */
    uint64_t n_invalidations; /* flowcache_invalidate() calls. */
    uint64_t n_resizes;       /* Times the table grew (emptied). */
};

/** Creates an empty cache of at least 'n_entries' entries (rounded up to a power of
 * two, at least 2; 0: 65536), of 128 bytes each, in memory that is only backed once
 * used.  It grows (4 times, emptied) up to 'max_entries' (at least 'n_entries') once
 * the inserts that found their bucket full since it was made reach an eighth of its
 * size: a small table while few flows recur (fewer pages, fewer TLB misses), a large
 * one for many.  Caller owns; free with flowcache_destroy().  Errors: -ENOMEM,
 * -EINVAL ('max_entries' above 2^24). */
int flowcache_create(size_t n_entries, size_t max_entries, struct flowcache **fcp);

/** Frees 'fc'.  NULL is a no-op. */
void flowcache_destroy(struct flowcache *fc);

/** The number of entries. */
size_t flowcache_capacity(const struct flowcache *fc);

/** Prefetches the first way of the bucket of 'key' (a hint: call it early in a
 * burst). */
void flowcache_prefetch(const struct flowcache *fc, const struct flowcache_key *key);

/** The value stored for 'key' since the last invalidation, or NULL; '*aux' (may be
 * NULL) receives its word. */
void *flowcache_lookup(struct flowcache *fc, const struct flowcache_key *key,
                       uint32_t *aux);

/** Stores 'value' (not NULL; borrowed) and 'aux' for 'key', replacing what the key
 * had, else a stale entry of its bucket; if the bucket holds only live entries, one
 * such insert in 8 (the first included) replaces the older one, and the others are
 * left out (so that more recurring flows than a bucket holds do not evict each other
 * on every pass). */
void flowcache_insert(struct flowcache *fc, const struct flowcache_key *key, void *value,
                      uint32_t aux);

/** The first half of a burst lookup: for each i < 'n', extracts the tuple of the
 * 'lens[i]'-byte frame at 'frames[i]' (NULL: a frame without a tuple) received on
 * 'in_port' into 'keys[i]' (with its hash) and 'layouts[i]', as flowcache_extract()
 * does with 'flags', sets 'ok[i]' to whether it has one, and prefetches the first way
 * of the bucket of each tuple.  Changes nothing in 'fc'. */
void flowcache_extract_burst(const struct flowcache *fc, unsigned int flags,
                             uint16_t in_port, const uint8_t *const frames[],
                             const uint32_t lens[], size_t n, struct flowcache_key keys[],
                             struct flowcache_layout layouts[], bool ok[]);

/** The second half: looks up 'keys[i]' for i = 0, 1, ... as flowcache_lookup() does
 * (a frame without a tuple, '!ok[i]', finds NULL and counts as neither hit nor miss),
 * storing what it finds into 'values[i]', and stops after the first frame for which
 * that is NULL, or at 'n'.  Returns the number of frames looked up (at least 1 if
 * 'n' is): the caller handles them, then calls again for the rest, so that a frame
 * handled the ordinary way (which may insert or invalidate) is always seen before the
 * lookups of the frames that follow it. */
size_t flowcache_lookup_burst(struct flowcache *fc, const struct flowcache_key keys[],
                              const bool ok[], size_t n, void *values[]);

/** Makes every entry stale, in constant time. */
void flowcache_invalidate(struct flowcache *fc);

void flowcache_get_stats(const struct flowcache *fc, struct flowcache_stats *stats);

/* ---- Header rewrites with incremental checksum updates. ---- */

/** True if flowcache_rewrite() handles setting bits 'mask' of 'field' in a frame of
 * the family 'ipv6': the whole of eth.src, eth.dst, ip.ttl, and for IPv4 ip4.src,
 * ip4.dst and the TCP and UDP ports. */
bool flowcache_rewrite_supported(enum pkey_field_id field, lex_u128 mask, bool ipv6);

/** Sets 'field' (one that flowcache_rewrite_supported() accepts) of the frame at
 * 'frame', laid out as 'layout' (offsets from 'frame'), to 'value', and updates the
 * IPv4 header checksum and the TCP or UDP checksum incrementally (a UDP checksum of
 * 0 over IPv4, "none", stays 0).  Errors: -EINVAL (the frame lacks the header, e.g. a
 * TCP port of a UDP datagram), -EOPNOTSUPP (a field it does not handle). */
int flowcache_rewrite(uint8_t *frame, const struct flowcache_layout *layout,
                      enum pkey_field_id field, lex_u128 value);

/** Decrements the IPv4 TTL or IPv6 hop limit of the frame, updating the IPv4 header
 * checksum.  Errors: -EINVAL (it is already 0). */
int flowcache_dec_ttl(uint8_t *frame, const struct flowcache_layout *layout);

#endif /* OVNIC_VSWITCH_FLOWCACHE_H */
