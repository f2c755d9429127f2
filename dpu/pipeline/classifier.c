/* ovnic: multi-table, priority-ordered, masked-match classifier (tuple-space search
 * with staged lookup and wildcard tracking).  See docs/pipeline-classifier.md. */
#include "dpu/pipeline/classifier.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/hash.h"
#include "shared/util/hmap.h"
#include "shared/util/list.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(classifier);

/* One installed conjunction of a rule. */
struct cls_entry {
    struct cls_entry *next; /* In its match's list: best first. */
    struct cls_rule *rule;
    struct cls_match *match;
};

/* The entries of one subtable that share one masked value. */
struct cls_match {
    struct hmap_node node;     /* In cls_subtable's 'matches', by value hash. */
    struct cls_subtable *st;   /* The subtable it belongs to. */
    struct cls_entry *entries; /* Priority descending, then rule id ascending. */
    uint64_t vals[];           /* The masked key words, in the subtable's word order. */
};

/* A hash of the first stages of a match's value: lets a lookup stop early. */
struct cls_stage_ref {
    struct hmap_node node;
    uint32_t count;
};

/* How many entries of a subtable have one priority. */
struct cls_prio {
    struct hmap_node node;
    uint32_t priority;
    uint32_t count;
};

/* All entries of one table with one mask. */
struct cls_subtable {
    struct hmap_node node; /* In cls_table's 'subtables', by mask hash. */
    struct pkey_mask mask;
    uint8_t n_words;                   /* Words the mask covers... */
    uint8_t words[PKEY_N_WORDS];       /* ...their indexes, ascending. */
    uint8_t stage_end[PKEY_N_STAGES];  /* End of each stage within 'words'. */
    bool indexed[PKEY_N_STAGES];       /* Stage checked against 'stages'[]. */
    struct hmap stages[PKEY_N_STAGES]; /* struct cls_stage_ref by partial hash. */
    struct hmap matches;               /* struct cls_match. */
    struct hmap prios;                 /* struct cls_prio. */
    uint32_t max_priority;
    size_t n_entries;
};

struct cls_table {
    struct hmap subtables;        /* struct cls_subtable. */
    struct cls_subtable **sorted; /* By 'max_priority', descending. */
    size_t n_sorted;
    size_t alloc_sorted;
};

struct cls_rule {
    struct ovnic_list node; /* In struct cls's 'rules'. */
    unsigned int table;
    uint32_t priority;
    uint64_t id; /* Order of addition: breaks ties between equal priorities. */
    void *data;
    struct cls_entry *entries; /* 'n_entries' installed. */
    size_t n_entries;
    size_t n_unresolved;
    size_t n_not_local;
    uint64_t n_hits; /* Lookups it answered. */
};

struct cls {
    struct cls_resolver resolver;
    struct cls_table *tables[CLS_MAX_TABLES];
    struct ovnic_list rules; /* Every struct cls_rule. */
    uint64_t next_id;
    struct cls_stats stats;
};

int
cls_create(const struct cls_resolver *resolver, struct cls **clsp)
{
    struct cls *cls = calloc(1, sizeof *cls);
    if (!cls) {
        return -ENOMEM;
    }
    if (resolver) {
        cls->resolver = *resolver;
    }
    ovnic_list_init(&cls->rules);
    *clsp = cls;
    return 0;
}

/* ----- Subtables. ----- */

static uint32_t
mask_hash__(const struct pkey_mask *mask)
{
    return hash_bytes(mask->w, sizeof mask->w, 0);
}

static struct cls_subtable *
subtable_create__(const struct pkey_mask *mask)
{
    struct cls_subtable *st = calloc(1, sizeof *st);
    if (!st) {
        return NULL;
    }
    st->mask = *mask;
    size_t n = 0;
    for (int k = 0; k < PKEY_N_STAGES; k++) {
        size_t begin = k ? PKEY_STAGE_END[k - 1] : 0;
        for (size_t w = begin; w < PKEY_STAGE_END[k]; w++) {
            if (mask->w[w]) {
                st->words[n++] = (uint8_t)w;
            }
        }
        st->stage_end[k] = (uint8_t)n;
        hmap_init(&st->stages[k]);
    }
    st->n_words = (uint8_t)n;
    /* A stage gets an index if it adds words and more words follow it: the last
     * stage is checked by 'matches' itself. */
    for (int k = 0; k < PKEY_N_STAGES; k++) {
        size_t begin = k ? st->stage_end[k - 1] : 0;
        st->indexed[k] = st->stage_end[k] > begin && st->stage_end[k] < n;
    }
    hmap_init(&st->matches);
    hmap_init(&st->prios);
    return st;
}

static void
subtable_destroy__(struct cls_subtable *st)
{
    for (int k = 0; k < PKEY_N_STAGES; k++) {
        struct cls_stage_ref *ref, *next;
        HMAP_FOR_EACH_SAFE (ref, next, node, &st->stages[k]) {
            hmap_remove(&st->stages[k], &ref->node);
            free(ref);
        }
        hmap_destroy(&st->stages[k]);
    }
    struct cls_match *m, *next_m;
    HMAP_FOR_EACH_SAFE (m, next_m, node, &st->matches) {
        hmap_remove(&st->matches, &m->node);
        free(m);
    }
    hmap_destroy(&st->matches);
    struct cls_prio *p, *next_p;
    HMAP_FOR_EACH_SAFE (p, next_p, node, &st->prios) {
        hmap_remove(&st->prios, &p->node);
        free(p);
    }
    hmap_destroy(&st->prios);
    free(st);
}

/* Restores the order of 'table->sorted' after the max priority of the subtable at
 * index 'i' changed. */
static void
table_resort__(struct cls_table *table, size_t i)
{
    struct cls_subtable **s = table->sorted;
    while (i > 0 && s[i - 1]->max_priority < s[i]->max_priority) {
        struct cls_subtable *t = s[i - 1];
        s[i - 1] = s[i];
        s[i] = t;
        i--;
    }
    while (i + 1 < table->n_sorted && s[i + 1]->max_priority > s[i]->max_priority) {
        struct cls_subtable *t = s[i + 1];
        s[i + 1] = s[i];
        s[i] = t;
        i++;
    }
}

static size_t
table_index_of__(const struct cls_table *table, const struct cls_subtable *st)
{
    for (size_t i = 0; i < table->n_sorted; i++) {
        if (table->sorted[i] == st) {
            return i;
        }
    }
    abort(); /* Every subtable of a table is in its sorted array. */
}

static struct cls_subtable *
table_find_subtable__(struct cls_table *table, const struct pkey_mask *mask,
                      uint32_t hash)
{
    struct cls_subtable *st;
    HMAP_FOR_EACH_WITH_HASH (st, node, hash, &table->subtables) {
        if (!memcmp(&st->mask, mask, sizeof *mask)) {
            return st;
        }
    }
    return NULL;
}

/* ----- Values and their hashes. ----- */

/* Hash of the words of 'key' under the subtable's mask; 'partial[k]' receives the
 * hash after stage k. */
static uint32_t
subtable_hash__(const struct cls_subtable *st, const uint64_t *key_words,
                uint32_t partial[PKEY_N_STAGES])
{
    uint32_t h = 0;
    size_t i = 0;
    for (int k = 0; k < PKEY_N_STAGES; k++) {
        for (; i < st->stage_end[k]; i++) {
            size_t w = st->words[i];
            h = hash_add64(h, key_words[w] & st->mask.w[w]);
        }
        partial[k] = hash_finish(h);
    }
    return hash_finish(h);
}

static struct cls_stage_ref *
stage_find__(const struct hmap *stage, uint32_t hash)
{
    struct hmap_node *node = hmap_first_with_hash(stage, hash);
    return node ? CONTAINER_OF(node, struct cls_stage_ref, node) : NULL;
}

static struct cls_prio *
prio_find__(const struct cls_subtable *st, uint32_t priority)
{
    struct cls_prio *p;
    HMAP_FOR_EACH_WITH_HASH (p, node, hash_add32(0, priority), &st->prios) {
        if (p->priority == priority) {
            return p;
        }
    }
    return NULL;
}

static bool
entry_better__(const struct cls_rule *a, const struct cls_rule *b)
{
    return a->priority > b->priority || (a->priority == b->priority && a->id < b->id);
}

/* ----- Adding and removing entries. ----- */

static struct cls_table *
cls_table_get__(struct cls *cls, unsigned int table)
{
    if (!cls->tables[table]) {
        struct cls_table *t = calloc(1, sizeof *t);
        if (!t) {
            return NULL;
        }
        hmap_init(&t->subtables);
        cls->tables[table] = t;
    }
    return cls->tables[table];
}

/* Installs 'e' (of e->rule) with 'mask' and 'value' (already masked). */
static int
entry_insert__(struct cls *cls, struct cls_entry *e, const struct pkey_mask *mask,
               const struct pkey *value)
{
    struct cls_table *table = cls_table_get__(cls, e->rule->table);
    if (!table) {
        return -ENOMEM;
    }

    uint32_t mhash = mask_hash__(mask);
    struct cls_subtable *st = table_find_subtable__(table, mask, mhash);
    bool new_st = false;
    if (!st) {
        if (table->n_sorted == table->alloc_sorted) {
            size_t n = table->alloc_sorted ? 2 * table->alloc_sorted : 8;
            struct cls_subtable **s = realloc(table->sorted, n * sizeof *s);
            if (!s) {
                return -ENOMEM;
            }
            table->sorted = s;
            table->alloc_sorted = n;
        }
        st = subtable_create__(mask);
        if (!st) {
            return -ENOMEM;
        }
        new_st = true;
    }

    uint32_t partial[PKEY_N_STAGES];
    uint32_t hash = subtable_hash__(st, value->w, partial);
    struct cls_match *m = NULL, *iter;
    HMAP_FOR_EACH_WITH_HASH (iter, node, hash, &st->matches) {
        size_t i;
        for (i = 0; i < st->n_words && iter->vals[i] == value->w[st->words[i]]; i++) {
            continue;
        }
        if (i == st->n_words) {
            m = iter;
            break;
        }
    }

    /* Allocate everything before changing anything. */
    struct cls_match *new_m = NULL;
    struct cls_stage_ref *new_refs[PKEY_N_STAGES] = {NULL};
    struct cls_prio *new_p = NULL;
    if (!m) {
        new_m = calloc(1, sizeof *new_m + st->n_words * sizeof new_m->vals[0]);
        if (!new_m) {
            goto err_nomem;
        }
        for (int k = 0; k < PKEY_N_STAGES; k++) {
            if (st->indexed[k] && !stage_find__(&st->stages[k], partial[k])) {
                new_refs[k] = calloc(1, sizeof *new_refs[k]);
                if (!new_refs[k]) {
                    goto err_nomem;
                }
            }
        }
    }
    struct cls_prio *p = prio_find__(st, e->rule->priority);
    if (!p) {
        new_p = calloc(1, sizeof *new_p);
        if (!new_p) {
            goto err_nomem;
        }
    }

    if (new_st) {
        hmap_insert(&table->subtables, &st->node, mhash);
        st->max_priority = e->rule->priority;
        table->sorted[table->n_sorted++] = st;
        cls->stats.n_subtables++;
    }
    if (new_m) {
        m = new_m;
        m->st = st;
        for (size_t i = 0; i < st->n_words; i++) {
            m->vals[i] = value->w[st->words[i]];
        }
        hmap_insert(&st->matches, &m->node, hash);
        for (int k = 0; k < PKEY_N_STAGES; k++) {
            if (!st->indexed[k]) {
                continue;
            }
            struct cls_stage_ref *ref = new_refs[k];
            if (ref) {
                hmap_insert(&st->stages[k], &ref->node, partial[k]);
            } else {
                ref = stage_find__(&st->stages[k], partial[k]);
            }
            ref->count++;
        }
    }
    if (new_p) {
        p = new_p;
        p->priority = e->rule->priority;
        hmap_insert(&st->prios, &p->node, hash_add32(0, p->priority));
    }
    p->count++;

    struct cls_entry **pos = &m->entries;
    while (*pos && !entry_better__(e->rule, (*pos)->rule)) {
        pos = &(*pos)->next;
    }
    e->next = *pos;
    *pos = e;
    e->match = m;
    st->n_entries++;
    cls->stats.n_entries++;

    if (new_st || e->rule->priority > st->max_priority) {
        st->max_priority = MAX(st->max_priority, e->rule->priority);
        table_resort__(table, table_index_of__(table, st));
    }
    return 0;

err_nomem:
    free(new_p);
    for (int k = 0; k < PKEY_N_STAGES; k++) {
        free(new_refs[k]);
    }
    free(new_m);
    if (new_st) {
        subtable_destroy__(st);
    }
    return -ENOMEM;
}

static void
entry_remove__(struct cls *cls, struct cls_entry *e)
{
    struct cls_table *table = cls->tables[e->rule->table];
    struct cls_match *m = e->match;
    struct cls_subtable *st = m->st;

    struct cls_entry **pos = &m->entries;
    while (*pos != e) {
        pos = &(*pos)->next;
    }
    *pos = e->next;
    st->n_entries--;
    cls->stats.n_entries--;

    struct cls_prio *p = prio_find__(st, e->rule->priority);
    if (!--p->count) {
        hmap_remove(&st->prios, &p->node);
        free(p);
    }

    if (!m->entries) {
        uint32_t partial[PKEY_N_STAGES];
        struct pkey value;
        pkey_init(&value);
        for (size_t i = 0; i < st->n_words; i++) {
            value.w[st->words[i]] = m->vals[i];
        }
        subtable_hash__(st, value.w, partial);
        for (int k = 0; k < PKEY_N_STAGES; k++) {
            if (st->indexed[k]) {
                struct cls_stage_ref *ref = stage_find__(&st->stages[k], partial[k]);
                if (!--ref->count) {
                    hmap_remove(&st->stages[k], &ref->node);
                    free(ref);
                }
            }
        }
        hmap_remove(&st->matches, &m->node);
        free(m);
    }

    size_t idx = table_index_of__(table, st);
    if (!st->n_entries) {
        memmove(&table->sorted[idx], &table->sorted[idx + 1],
                (table->n_sorted - idx - 1) * sizeof table->sorted[0]);
        table->n_sorted--;
        hmap_remove(&table->subtables, &st->node);
        subtable_destroy__(st);
        cls->stats.n_subtables--;
    } else if (e->rule->priority == st->max_priority &&
               !prio_find__(st, st->max_priority)) {
        uint32_t max = 0;
        HMAP_FOR_EACH (p, node, &st->prios) {
            max = MAX(max, p->priority);
        }
        st->max_priority = max;
        table_resort__(table, idx);
    }
}

/* ----- Rules. ----- */

/* Turns conjunction 'match' into a mask and a value.  Returns 0, 1 if the
 * conjunction cannot match (unknown port: '*unresolved' set; or a false
 * is_chassis_resident()), or -EINVAL. */
static int
conj_compile__(const struct cls *cls, const struct expr_match *match,
               struct pkey_mask *mask, struct pkey *value, bool *unresolved,
               struct ovnic_err *err)
{
    pkey_mask_init(mask);
    pkey_init(value);
    *unresolved = false;
    for (size_t i = 0; i < match->n_terms; i++) {
        const struct expr_term *t = &match->terms[i];
        enum pkey_field_id id;

        if (t->type == EXPR_TERM_CHASSIS_RESIDENT) {
            bool resident =
                cls->resolver.is_chassis_resident &&
                cls->resolver.is_chassis_resident(cls->resolver.aux, t->string);
            if (resident == t->negated) {
                return 1;
            }
            continue;
        }
        if (!t->field || pkey_field_from_symtab(t->field->id, &id)) {
            return ovnic_err_set(err, -EINVAL, "match", "unsupported field",
                                 "%s cannot be matched by the classifier",
                                 t->field ? t->field->name : "(none)");
        }
        if (t->type == EXPR_TERM_STRING) {
            uint32_t port;
            if (!cls->resolver.port_key ||
                cls->resolver.port_key(cls->resolver.aux, t->string, &port)) {
                *unresolved = true;
                return 1;
            }
            pkey_mask_field_set(mask, id, 0xffffffff);
            pkey_field_set(value, id, port);
        } else {
            pkey_mask_field_set(mask, id, t->mask);
            pkey_field_set(value, id, t->value & t->mask);
        }
    }
    pkey_apply_mask(value, mask);
    return 0;
}

static void
rule_free__(struct cls *cls, struct cls_rule *rule)
{
    for (size_t i = rule->n_entries; i-- > 0;) {
        struct cls_entry *e = &rule->entries[i];
        entry_remove__(cls, e);
    }
    cls->stats.n_unresolved -= rule->n_unresolved;
    cls->stats.n_not_local -= rule->n_not_local;
    ovnic_list_remove(&rule->node);
    free(rule->entries);
    free(rule);
}

int
cls_rule_add(struct cls *cls, unsigned int table, uint32_t priority,
             const struct expr_match_list *match, void *rule_data,
             struct cls_rule **rulep, struct ovnic_err *err)
{
    if (table >= CLS_MAX_TABLES) {
        return ovnic_err_set(err, -EINVAL, "match", "invalid table", "%u >= %d", table,
                             CLS_MAX_TABLES);
    }

    /* Check every term before installing anything. */
    for (size_t i = 0; i < match->n_matches; i++) {
        const struct expr_match *m = &match->matches[i];
        for (size_t j = 0; j < m->n_terms; j++) {
            const struct expr_term *t = &m->terms[j];
            enum pkey_field_id id;
            if (t->type != EXPR_TERM_CHASSIS_RESIDENT &&
                (!t->field || pkey_field_from_symtab(t->field->id, &id))) {
                return ovnic_err_set(err, -EINVAL, "match", "unsupported field",
                                     "%s cannot be matched by the classifier",
                                     t->field ? t->field->name : "(none)");
            }
        }
    }

    struct cls_rule *rule = calloc(1, sizeof *rule);
    if (!rule) {
        return -ENOMEM;
    }
    rule->table = table;
    rule->priority = priority;
    rule->id = cls->next_id++;
    rule->data = rule_data;
    ovnic_list_push_back(&cls->rules, &rule->node);
    if (match->n_matches) {
        rule->entries = calloc(match->n_matches, sizeof *rule->entries);
        if (!rule->entries) {
            ovnic_list_remove(&rule->node);
            free(rule);
            return -ENOMEM;
        }
    }

    for (size_t i = 0; i < match->n_matches; i++) {
        struct pkey_mask mask;
        struct pkey value;
        bool unresolved;
        int rc = conj_compile__(cls, &match->matches[i], &mask, &value, &unresolved, err);
        if (rc < 0) {
            rule_free__(cls, rule);
            return rc;
        } else if (rc > 0) {
            if (unresolved) {
                rule->n_unresolved++;
                cls->stats.n_unresolved++;
            } else {
                rule->n_not_local++;
                cls->stats.n_not_local++;
            }
            continue;
        }
        struct cls_entry *e = &rule->entries[rule->n_entries];
        e->rule = rule;
        rc = entry_insert__(cls, e, &mask, &value);
        if (rc) {
            rule_free__(cls, rule);
            return ovnic_err_set(err, rc, "match", "out of memory", NULL);
        }
        rule->n_entries++;
    }
    cls->stats.n_rules++;
    if (rule->n_unresolved) {
        OLOG_DBG("rule %p (table %u, priority %u): %zu conjunctions name unknown ports",
                 rule_data, table, priority, rule->n_unresolved);
    }
    if (rulep) {
        *rulep = rule;
    }
    return 0;
}

void
cls_rule_remove(struct cls *cls, struct cls_rule *rule)
{
    if (!rule) {
        return;
    }
    rule_free__(cls, rule);
    cls->stats.n_rules--;
}

/* ----- Lookup. ----- */

static void
unwildcard__(const struct cls_subtable *st, size_t n, struct pkey_mask *wc)
{
    if (wc) {
        for (size_t i = 0; i < n; i++) {
            size_t w = st->words[i];
            wc->w[w] |= st->mask.w[w];
        }
    }
}

static const struct cls_match *
subtable_lookup__(struct cls *cls, const struct cls_subtable *st, const struct pkey *key,
                  struct pkey_mask *wc)
{
    uint32_t h = 0;
    size_t i = 0;
    for (int k = 0; k < PKEY_N_STAGES; k++) {
        for (; i < st->stage_end[k]; i++) {
            size_t w = st->words[i];
            h = hash_add64(h, key->w[w] & st->mask.w[w]);
        }
        if (st->indexed[k] && !stage_find__(&st->stages[k], hash_finish(h))) {
            /* No value of this subtable agrees with 'key' on the words seen so far:
             * those bits alone prove the miss. */
            unwildcard__(st, i, wc);
            cls->stats.n_stage_misses++;
            return NULL;
        }
    }
    unwildcard__(st, st->n_words, wc);

    const struct cls_match *m;
    HMAP_FOR_EACH_WITH_HASH (m, node, hash_finish(h), &st->matches) {
        for (i = 0; i < st->n_words; i++) {
            size_t w = st->words[i];
            if (m->vals[i] != (key->w[w] & st->mask.w[w])) {
                break;
            }
        }
        if (i == st->n_words) {
            return m;
        }
    }
    return NULL;
}

const struct cls_rule *
cls_lookup(struct cls *cls, unsigned int table, const struct pkey *key,
           struct pkey_mask *wc)
{
    cls->stats.n_lookups++;
    if (table >= CLS_MAX_TABLES || !cls->tables[table]) {
        return NULL;
    }

    const struct cls_table *t = cls->tables[table];
    const struct cls_rule *best = NULL;
    for (size_t i = 0; i < t->n_sorted; i++) {
        const struct cls_subtable *st = t->sorted[i];
        if (best && st->max_priority < best->priority) {
            break; /* Nothing further can beat 'best'. */
        }
        cls->stats.n_subtable_visits++;
        const struct cls_match *m = subtable_lookup__(cls, st, key, wc);
        if (m && (!best || entry_better__(m->entries->rule, best))) {
            best = m->entries->rule;
        }
    }
    if (best) {
        cls->stats.n_hits++;
        ((struct cls_rule *)best)->n_hits++;
    }
    return best;
}

uint64_t
cls_rule_hits(const struct cls_rule *rule)
{
    return rule->n_hits;
}

static int
rule_order(const void *a_, const void *b_)
{
    const struct cls_rule *a = *(const struct cls_rule *const *)a_;
    const struct cls_rule *b = *(const struct cls_rule *const *)b_;
    if (a->table != b->table) {
        return a->table < b->table ? -1 : 1;
    }
    if (a->priority != b->priority) {
        return a->priority > b->priority ? -1 : 1;
    }
    return a->id < b->id ? -1 : a->id > b->id;
}

int
cls_rules_sorted(const struct cls *cls, const struct cls_rule ***rulesp, size_t *np)
{
    size_t n = 0;
    const struct cls_rule *rule;

    LIST_FOR_EACH (rule, node, &cls->rules) {
        n++;
    }
    const struct cls_rule **v = malloc((n ? n : 1) * sizeof *v);
    if (!v) {
        return -ENOMEM;
    }
    n = 0;
    LIST_FOR_EACH (rule, node, &cls->rules) {
        v[n++] = rule;
    }
    if (n > 1) {
        qsort(v, n, sizeof *v, rule_order);
    }
    *rulesp = v;
    *np = n;
    return 0;
}

/* ----- The rest. ----- */

void
cls_destroy(struct cls *cls)
{
    if (!cls) {
        return;
    }
    struct cls_rule *rule, *next;
    LIST_FOR_EACH_SAFE (rule, next, node, &cls->rules) {
        free(rule->entries);
        free(rule);
    }
    for (size_t t = 0; t < CLS_MAX_TABLES; t++) {
        struct cls_table *table = cls->tables[t];
        if (!table) {
            continue;
        }
        for (size_t i = 0; i < table->n_sorted; i++) {
            subtable_destroy__(table->sorted[i]);
        }
        hmap_destroy(&table->subtables);
        free(table->sorted);
        free(table);
    }
    free(cls);
}

void *
cls_rule_data(const struct cls_rule *rule)
{
    return rule->data;
}

uint32_t
cls_rule_priority(const struct cls_rule *rule)
{
    return rule->priority;
}

unsigned int
cls_rule_table(const struct cls_rule *rule)
{
    return rule->table;
}

size_t
cls_rule_n_entries(const struct cls_rule *rule)
{
    return rule->n_entries;
}

size_t
cls_rule_n_unresolved(const struct cls_rule *rule)
{
    return rule->n_unresolved;
}

void
cls_get_stats(const struct cls *cls, struct cls_stats *stats)
{
    *stats = cls->stats;
}
