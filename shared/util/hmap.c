/* ovnic: intrusive hash map. */
#include "shared/util/hmap.h"

#include <stdlib.h>
#include <string.h>

void
hmap_init(struct hmap *hmap)
{
    hmap->buckets = &hmap->one;
    hmap->one = NULL;
    hmap->mask = 0;
    hmap->n = 0;
}

void
hmap_destroy(struct hmap *hmap)
{
    if (hmap && hmap->buckets != &hmap->one) {
        free(hmap->buckets);
        hmap->buckets = &hmap->one;
        hmap->one = NULL;
        hmap->mask = 0;
        hmap->n = 0;
    }
}

void
hmap_clear(struct hmap *hmap)
{
    if (hmap->n) {
        hmap->n = 0;
        memset(hmap->buckets, 0, (hmap->mask + 1) * sizeof *hmap->buckets);
    }
}

static void
hmap_fix_one__(struct hmap *hmap)
{
    if (hmap->mask == 0) {
        hmap->buckets = &hmap->one;
    }
}

void
hmap_swap(struct hmap *a, struct hmap *b)
{
    struct hmap tmp = *a;
    *a = *b;
    *b = tmp;
    hmap_fix_one__(a);
    hmap_fix_one__(b);
}

static void
hmap_resize__(struct hmap *hmap, size_t new_mask)
{
    struct hmap_node **buckets = calloc(new_mask + 1, sizeof *buckets);
    if (!buckets) {
        return; /* Stay at the current size: slower, still correct. */
    }
    for (size_t i = 0; i <= hmap->mask; i++) {
        struct hmap_node *node = hmap->buckets[i];
        while (node) {
            struct hmap_node *next = node->next;
            struct hmap_node **bucket = &buckets[node->hash & new_mask];
            node->next = *bucket;
            *bucket = node;
            node = next;
        }
    }
    if (hmap->buckets != &hmap->one) {
        free(hmap->buckets);
    }
    hmap->buckets = buckets;
    hmap->mask = new_mask;
}

void
hmap_insert(struct hmap *hmap, struct hmap_node *node, uint32_t hash)
{
    node->hash = hash;
    struct hmap_node **bucket = &hmap->buckets[hash & hmap->mask];
    node->next = *bucket;
    *bucket = node;
    hmap->n++;
    if (hmap->n / 2 > hmap->mask) {
        hmap_resize__(hmap, hmap->mask * 2 + 1 < 7 ? 7 : hmap->mask * 2 + 1);
    }
}

void
hmap_remove(struct hmap *hmap, struct hmap_node *node)
{
    struct hmap_node **pp = &hmap->buckets[node->hash & hmap->mask];
    while (*pp != node) {
        pp = &(*pp)->next;
    }
    *pp = node->next;
    hmap->n--;
}

void
hmap_replace(struct hmap *hmap, struct hmap_node *old_node, struct hmap_node *new_node)
{
    struct hmap_node **pp = &hmap->buckets[old_node->hash & hmap->mask];
    while (*pp != old_node) {
        pp = &(*pp)->next;
    }
    new_node->hash = old_node->hash;
    new_node->next = old_node->next;
    *pp = new_node;
}

struct hmap_node *
hmap_first_with_hash(const struct hmap *hmap, uint32_t hash)
{
    struct hmap_node *node = hmap->buckets[hash & hmap->mask];
    while (node && node->hash != hash) {
        node = node->next;
    }
    return node;
}

struct hmap_node *
hmap_next_with_hash(const struct hmap_node *node)
{
    uint32_t hash = node->hash;
    for (node = node->next; node && node->hash != hash; node = node->next) {
        continue;
    }
    return (struct hmap_node *)node;
}

static struct hmap_node *
hmap_next_bucket__(const struct hmap *hmap, size_t start)
{
    for (size_t i = start; i <= hmap->mask; i++) {
        if (hmap->buckets[i]) {
            return hmap->buckets[i];
        }
    }
    return NULL;
}

struct hmap_node *
hmap_first(const struct hmap *hmap)
{
    return hmap_next_bucket__(hmap, 0);
}

struct hmap_node *
hmap_next(const struct hmap *hmap, const struct hmap_node *node)
{
    if (node->next) {
        return node->next;
    }
    return hmap_next_bucket__(hmap, (node->hash & hmap->mask) + 1);
}
