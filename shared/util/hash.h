/* ovnic: hash functions for hmap keys (not cryptographic). */
#ifndef OVNIC_UTIL_HASH_H
#define OVNIC_UTIL_HASH_H 1

#include <stddef.h>
#include <stdint.h>

/** Hashes 'n' bytes at 'p' with 'basis'. */
uint32_t hash_bytes(const void *p, size_t n, uint32_t basis);

/** Hashes a NUL-terminated string with 'basis'. */
uint32_t hash_string(const char *s, uint32_t basis);

/** Mixes 'value' into 'hash'. */
uint32_t hash_add32(uint32_t hash, uint32_t value);
uint32_t hash_add64(uint32_t hash, uint64_t value);

/** Final avalanche. */
uint32_t hash_finish(uint32_t hash);

#endif /* OVNIC_UTIL_HASH_H */
