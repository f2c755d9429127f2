/* Classifier lookups per second on 10,000 OVN-like rules, with 1,000 and 100,000
 * distinct packets, beside a linear scan of the same rules measured in the same run
 * (the baseline), and the average number of key bits each lookup un-wildcards. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dpu/controller/expr.h"
#include "dpu/controller/symtab.h"
#include "dpu/pipeline/classifier.h"
#include "dpu/pipeline/key.h"
#include "shared/util/util.h"

#define N_RULES 10000

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int
port_key(void *aux, const char *name, uint32_t *key)
{
    (void)aux;
    *key = (uint32_t)atoi(name + 1) + 1;
    return 0;
}

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One installed conjunction, for the linear-scan baseline. */
struct flat {
    struct pkey_mask mask;
    struct pkey value;
    uint32_t priority;
};

static struct flat *flats;
static size_t n_flats;

static void
flatten(const struct expr_match_list *list, uint32_t priority)
{
    for (size_t i = 0; i < list->n_matches; i++) {
        struct flat *f = &flats[n_flats++];
        pkey_mask_init(&f->mask);
        pkey_init(&f->value);
        f->priority = priority;
        for (size_t t = 0; t < list->matches[i].n_terms; t++) {
            const struct expr_term *term = &list->matches[i].terms[t];
            enum pkey_field_id id;
            pkey_field_from_symtab(term->field->id, &id);
            if (term->type == EXPR_TERM_STRING) {
                uint32_t k;
                port_key(NULL, term->string, &k);
                pkey_mask_field_set(&f->mask, id, 0xffffffff);
                pkey_field_set(&f->value, id, k);
            } else {
                pkey_mask_field_set(&f->mask, id, term->mask);
                pkey_field_set(&f->value, id, term->value);
            }
        }
    }
}

static void
rule_text(int i, char *buf, size_t size, uint32_t *priority)
{
    int kind = i % 10;
    if (kind < 4) { /* Port security: inport + eth.src. */
        snprintf(buf, size, "inport == \"p%d\" && eth.src == 00:00:00:00:%02x:%02x",
                 i % 500, (i >> 8) & 0xff, i & 0xff);
        *priority = 50;
    } else if (kind < 7) { /* ACL: destination address and port. */
        snprintf(buf, size, "ip4.dst == 10.%d.%d.%d && tcp.dst == %d", (i >> 16) & 0xff,
                 (i >> 8) & 0xff, i & 0xff, 80 + i % 8);
        *priority = 2000;
    } else if (kind < 9) { /* Routes with prefixes /16 to /32. */
        int plen = 16 + i % 17;
        snprintf(buf, size, "ip4.dst == 10.%d.%d.%d/%d", (i >> 8) & 0xff, i & 0xff,
                 (i * 7) & 0xff, plen);
        *priority = (uint32_t)(100 + plen);
    } else { /* L2 lookup. */
        snprintf(buf, size, "eth.dst == 00:00:00:01:%02x:%02x", (i >> 8) & 0xff,
                 i & 0xff);
        *priority = 50;
    }
}

static void
make_packet(struct pkey *k)
{
    int i = (int)(rnd() % N_RULES);
    pkey_init(k);
    pkey_field_set(k, PKEY_F_INPORT, (uint32_t)(rnd() % 500) + 1);
    pkey_field_set(k, PKEY_F_ETH_SRC, ((lex_u128)((i >> 8) & 0xff) << 8) | (i & 0xff));
    pkey_field_set(k, PKEY_F_ETH_DST, (1ULL << 16) | (rnd() & 0xffff));
    pkey_field_set(k, PKEY_F_ETH_TYPE, 0x800);
    pkey_field_set(k, PKEY_F_IP_PROTO, rnd() % 2 ? 6 : 17);
    pkey_field_set(k, PKEY_F_IP4_DST, (10u << 24) | (rnd() & 0xffffff));
    pkey_field_set(k, PKEY_F_TCP_DST, 80 + rnd() % 10);
    pkey_field_set(k, PKEY_F_TCP_SRC, rnd() & 0xffff);
}

static int
bits_set(const struct pkey_mask *m)
{
    int n = 0;
    for (size_t i = 0; i < PKEY_N_WORDS; i++) {
        n += __builtin_popcountll(m->w[i]);
    }
    return n;
}

int
main(void)
{
    struct symtab *symtab;
    struct cls *cls;
    struct cls_resolver res = {.port_key = port_key};
    if (symtab_create(&symtab) || cls_create(&res, &cls)) {
        return 1;
    }
    flats = calloc(N_RULES * 2, sizeof *flats);
    if (!flats) {
        return 1;
    }

    double t0 = now();
    for (int i = 0; i < N_RULES; i++) {
        char text[256];
        uint32_t prio;
        struct expr_match_list *list;
        rule_text(i, text, sizeof text, &prio);
        if (expr_compile(symtab, text, NULL, NULL, &list, NULL) ||
            cls_rule_add(cls, 0, prio, list, NULL, NULL, NULL)) {
            fprintf(stderr, "cannot add %s\n", text);
            return 1;
        }
        flatten(list, prio);
        expr_match_list_destroy(list);
    }
    double t_add = now() - t0;
    struct cls_stats st;
    cls_get_stats(cls, &st);
    printf(
        "classifier: %d rules, %llu entries, %llu subtables, compiled+added in %.3f s\n",
        N_RULES, (unsigned long long)st.n_entries, (unsigned long long)st.n_subtables,
        t_add);

    static const size_t n_distinct[] = {1000, 100000};
    for (size_t d = 0; d < 2; d++) {
        size_t n = n_distinct[d];
        struct pkey *pkts = malloc(n * sizeof *pkts);
        if (!pkts) {
            return 1;
        }
        for (size_t i = 0; i < n; i++) {
            make_packet(&pkts[i]);
        }

        const size_t n_lookups = 1000000;
        uint64_t hits = 0, wc_bits = 0;
        struct cls_stats before;
        cls_get_stats(cls, &before);
        t0 = now();
        for (size_t i = 0; i < n_lookups; i++) {
            struct pkey_mask wc;
            pkey_mask_init(&wc);
            hits += cls_lookup(cls, 0, &pkts[i % n], &wc) != NULL;
            if (i < n) {
                wc_bits += (uint64_t)bits_set(&wc);
            }
        }
        double t_cls = now() - t0;
        cls_get_stats(cls, &st);

        /* Baseline: linear scan over every conjunction. */
        const size_t n_scan = 500;
        uint64_t scan_hits = 0;
        t0 = now();
        for (size_t i = 0; i < n_scan; i++) {
            const struct pkey *k = &pkts[i % n];
            const struct flat *best = NULL;
            for (size_t f = 0; f < n_flats; f++) {
                if ((!best || flats[f].priority > best->priority) &&
                    pkey_equal_masked(k, &flats[f].value, &flats[f].mask)) {
                    best = &flats[f];
                }
            }
            scan_hits += best != NULL;
        }
        double t_scan = now() - t0;

        double rate = n_lookups / t_cls, scan_rate = n_scan / t_scan;
        printf("%zu distinct packets: classifier %.0f lookups/s (%.1f%% hits, %.1f "
               "subtables visited, %.1f key bits un-wildcarded per lookup); linear scan "
               "%.0f lookups/s (%.1f%% hits); ratio %.1fx\n",
               n, rate, 100.0 * hits / n_lookups,
               (double)(st.n_subtable_visits - before.n_subtable_visits) / n_lookups,
               (double)wc_bits / (double)MIN(n, n_lookups), scan_rate,
               100.0 * scan_hits / n_scan, rate / scan_rate);
        free(pkts);
    }
    cls_destroy(cls);
    symtab_destroy(symtab);
    free(flats);
    return 0;
}
