/* ovnic: hash functions for hmap keys.  A multiply-rotate mix in 32-bit words with a
 * murmur-style finaliser: quick, and good enough for hash tables. */
#include "shared/util/hash.h"

#include <string.h>

static inline uint32_t
rotl32__(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

uint32_t
hash_add32(uint32_t hash, uint32_t value)
{
    value *= 0xcc9e2d51u;
    value = rotl32__(value, 15);
    value *= 0x1b873593u;
    hash ^= value;
    hash = rotl32__(hash, 13);
    return hash * 5 + 0xe6546b64u;
}

uint32_t
hash_add64(uint32_t hash, uint64_t value)
{
    return hash_add32(hash_add32(hash, (uint32_t)value), (uint32_t)(value >> 32));
}

uint32_t
hash_finish(uint32_t hash)
{
    hash ^= hash >> 16;
    hash *= 0x85ebca6bu;
    hash ^= hash >> 13;
    hash *= 0xc2b2ae35u;
    hash ^= hash >> 16;
    return hash;
}

uint32_t
hash_bytes(const void *p_, size_t n, uint32_t basis)
{
    const unsigned char *p = p_;
    uint32_t hash = basis;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t w;
        memcpy(&w, p + i, 4);
        hash = hash_add32(hash, w);
    }
    if (i < n) {
        uint32_t w = 0;
        memcpy(&w, p + i, n - i);
        hash = hash_add32(hash, w);
    }
    return hash_finish(hash ^ (uint32_t)n);
}

uint32_t
hash_string(const char *s, uint32_t basis)
{
    return hash_bytes(s, strlen(s), basis);
}
