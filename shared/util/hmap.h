/* ovnic: intrusive hash map.
 *
 * Objects embed a 'struct hmap_node'; the map never allocates or frees them.  The
 * caller computes the hash and compares keys:
 *
 *     struct port { struct hmap_node node; char *name; };
 *     hmap_insert(&ports, &p->node, hash_string(p->name, 0));
 *     HMAP_FOR_EACH_WITH_HASH (p, node, hash_string(name, 0), &ports) {
 *         if (!strcmp(p->name, name)) { ... }
 *     }
 *
 * Several nodes may be embedded for several indexes. */
#ifndef OVNIC_UTIL_HMAP_H
#define OVNIC_UTIL_HMAP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/util/util.h"

struct hmap_node {
    uint32_t hash;
    struct hmap_node *next;
};

struct hmap {
    struct hmap_node **buckets; /* 'mask + 1' buckets; points to 'one' when mask is 0. */
    struct hmap_node *one;
    size_t mask;
    size_t n;
};

#define HMAP_INITIALIZER(HMAP)   \
    {                            \
        &(HMAP)->one, NULL, 0, 0 \
    }

void hmap_init(struct hmap *);
/** Frees the bucket array; the nodes belong to the caller. */
void hmap_destroy(struct hmap *);
/** Removes every node (without freeing them). */
void hmap_clear(struct hmap *);
void hmap_swap(struct hmap *, struct hmap *);

static inline size_t
hmap_count(const struct hmap *hmap)
{
    return hmap->n;
}

static inline bool
hmap_is_empty(const struct hmap *hmap)
{
    return hmap->n == 0;
}

/** Inserts 'node' with 'hash', growing the map if needed.  Duplicates are allowed. */
void hmap_insert(struct hmap *, struct hmap_node *node, uint32_t hash);
/** Removes 'node', which must be in the map. */
void hmap_remove(struct hmap *, struct hmap_node *node);
/** Puts 'new_node' in the place of 'old_node' (same hash). */
void hmap_replace(struct hmap *, struct hmap_node *old_node, struct hmap_node *new_node);

/** First node with 'hash', or NULL. */
struct hmap_node *hmap_first_with_hash(const struct hmap *, uint32_t hash);
/** Next node after 'node' with the same hash, or NULL. */
struct hmap_node *hmap_next_with_hash(const struct hmap_node *node);
/** First node in the map, or NULL. */
struct hmap_node *hmap_first(const struct hmap *);
/** Node following 'node' in iteration order, or NULL. */
struct hmap_node *hmap_next(const struct hmap *, const struct hmap_node *node);

#define HMAP_NODE_TO_OBJ__(NODE, ITER, MEMBER) \
    ((NODE) ? OBJECT_CONTAINING(NODE, ITER, MEMBER) : NULL)

#define HMAP_FOR_EACH_WITH_HASH(ITER, MEMBER, HASH, HMAP)                           \
    for (ITER = HMAP_NODE_TO_OBJ__(hmap_first_with_hash(HMAP, HASH), ITER, MEMBER); \
         ITER != NULL;                                                              \
         ITER = HMAP_NODE_TO_OBJ__(hmap_next_with_hash(&(ITER)->MEMBER), ITER, MEMBER))

#define HMAP_FOR_EACH(ITER, MEMBER, HMAP)                                         \
    for (ITER = HMAP_NODE_TO_OBJ__(hmap_first(HMAP), ITER, MEMBER); ITER != NULL; \
         ITER = HMAP_NODE_TO_OBJ__(hmap_next(HMAP, &(ITER)->MEMBER), ITER, MEMBER))

/** Iteration that allows removing (and freeing) ITER inside the loop. */
#define HMAP_FOR_EACH_SAFE(ITER, NEXT, MEMBER, HMAP)                                   \
    for (ITER = HMAP_NODE_TO_OBJ__(hmap_first(HMAP), ITER, MEMBER);                    \
         ITER != NULL &&                                                               \
         ((NEXT = HMAP_NODE_TO_OBJ__(hmap_next(HMAP, &(ITER)->MEMBER), ITER, MEMBER)), \
          1);                                                                          \
         ITER = NEXT)

#endif /* OVNIC_UTIL_HMAP_H */
