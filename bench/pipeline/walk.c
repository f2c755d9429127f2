/* ovnic benchmark: the pipeline's slow path (a full walk that produces a megaflow)
 * and its fast path (the megaflow cache), per core, on a topology of about 10,000
 * logical flows written by a real ovn-northd.
 *
 * Setup, in a fresh directory: OVN central (scripts/ovn-central.sh), the scale topology
 * (tests/topologies/scale.sh: tenant switches joined by a router, stateless port-group
 * ACLs with address sets, a conntrack switch with a load balancer), chassis hv1 and hv2
 * added with ovn-sbctl, half of the tenant VIFs bound to each (the load-balancer
 * clients to hv1), and an SB replica synchronised with ovsdb_cs.  The pipeline of hv1 is
 * synced from it.
 *
 * For each size (default 1,000 and 100,000 distinct packets), real frames from VIFs of
 * hv1: L2 within a switch (to VIFs of hv1 and of hv2), routed between switches, dropped
 * by an ACL (TCP 22 to a "db" port; to a blocked address set), and to the load-balancer
 * VIP.  Measured on one thread, in CPU time of that thread (so per core):
 *   cold   pipeline_process() on every packet: the whole walk (physical translation,
 *          every logical table, actions, megaflow composition); no cache involved;
 *   hot    megaflow_cache_lookup() of every cacheable packet's key, after inserting
 *          every walk's megaflow into a cache with the default 8,192-slot exact-match
 *          front (the EMC hit share is printed); "masked" is the same with a one-slot
 *          exact-match front, so nearly every lookup goes to the masked lookup;
 *          "key+lookup" adds pipeline_input_key() (frame parse, port lookup) to the
 *          default lookup.
 * The peer, measured in the same run, is the cold walk: hot/cold is how many cache
 * lookups one walk costs.  Also printed: the outcome of the packets (delivered here,
 * tunnelled, dropped, not cacheable), the distinct megaflows and masks, and the average
 * number of un-wildcarded key bits per megaflow.
 *
 * Prints a table and a JSON line (only the JSON line with --format=json).  Asserts
 * nothing about time. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/lib/bench_util.h"
#include "dpu/ovsdb/cs.h"
#include "dpu/ovsdb/datum.h"
#include "dpu/ovsdb/replica.h"
#include "dpu/pipeline/ct.h"
#include "dpu/pipeline/ctrl.h"
#include "dpu/pipeline/key.h"
#include "dpu/pipeline/megaflow.h"
#include "dpu/pipeline/pipeline.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/util.h"

#define PROG "bench_pipeline_walk"
#define MAX_SIZES 4
#define N_LB_CLIENTS 8
#define FRAME_MAX 80
#define SYNC_TIMEOUT_MS 60000

enum category { CAT_L2, CAT_ROUTED, CAT_ACL_DROP, CAT_LB, N_CATS };

static const char *const cat_names[N_CATS] = {"l2", "routed", "acl-drop", "lb-vip"};

struct bench_opts {
    int switches;
    int ports;
    long sizes[MAX_SIZES];
    int n_sizes;
    double min_s; /* Minimum CPU time of each timed measurement. */
    bool json_only;
};

/* A VIF of the scale topology. */
struct endpoint {
    char name[32];
    int sw; /* Switch index; -1 for sc-lbnet. */
    int port;
    uint8_t mac[6];
    uint32_t ip; /* Host order. */
    bool local;  /* Bound to hv1. */
    uint32_t in_port;
};

/* One distinct packet. */
struct packet {
    const struct endpoint *src;
    enum category cat;
    uint16_t len;
    uint8_t frame[FRAME_MAX];
};

struct size_result {
    long n;
    /* Outcomes of the walks, per category and in all. */
    long n_cat[N_CATS];
    long n_local[N_CATS];
    long n_tunnel[N_CATS];
    long n_drop[N_CATS];
    long n_uncacheable[N_CATS];
    /* Cold. */
    long cold_walks;
    double cold_s;
    double lookups_per_walk;
    /* Megaflows. */
    long n_megaflows;
    long n_masks;
    double avg_mask_bits;
    /* Hot. */
    long hot_keys;
    long hot_lookups;
    double hot_s;
    double emc_pct;
    double masked_pct;
    double miss_pct;
    long masked_lookups;
    double masked_s;
    long keyed_lookups;
    double keyed_s;
};

static struct {
    char dir[64];
    char source[PATH_MAX + 64];
    char central[PATH_MAX + 96];
    char nb[256];
    char sb[256];
    struct bench_watcher watcher;
} g = {.watcher = {.pid = -1, .write_fd = -1}};

static void fail(const char *fmt, ...) OVNIC_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list args;

    fprintf(stderr, PROG ": ");
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
}

static double
cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint32_t
rng_below(uint32_t n)
{
    return (uint32_t)(rng() % n);
}

/* ---- Locating the scripts ---- */

/* The source tree: $OVNIC_SOURCE_DIR, else the one recorded in the CMakeCache.txt of
 * the build tree this program is in (BUILD/bench/PROG). */
static int
find_source(void)
{
    if (bench_find_source(g.source, sizeof g.source)) {
        return -ENOENT;
    }
    snprintf(g.central, sizeof g.central, "%s/scripts/ovn-central.sh", g.source);
    return access(g.central, X_OK) ? -ENOENT : 0;
}

/* ---- Processes ---- */

/* Starts the watcher (bench_util.h) that stops the daemons of the run directory and
 * removes it once this process is gone. */
static int
watcher_start(void)
{
    return bench_watcher_start(&g.watcher, g.central, g.dir, NULL);
}

static void
watcher_finish(void)
{
    bench_watcher_finish(&g.watcher);
}

static int run_cmd(char *out, size_t size, const char *fmt, ...) OVNIC_PRINTF(3, 4);

/* Runs a shell command (bench_run_cmdv()): with 'out', its first line of output goes
 * there; otherwise stdout is discarded.  Returns its exit status, or -1. */
static int
run_cmd(char *out, size_t size, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    int status = bench_run_cmdv(out, size, true, fmt, args);
    va_end(args);
    return status;
}

/* ---- The topology ---- */

static struct endpoint *endpoints; /* Tenant VIFs, switch by switch, then LB clients. */
static size_t n_endpoints;
static struct endpoint **locals; /* Tenant VIFs on hv1. */
static size_t n_locals;

static int
endpoints_make(const struct bench_opts *o)
{
    size_t n = (size_t)o->switches * (size_t)o->ports + N_LB_CLIENTS;
    uint32_t in_port = 1;

    endpoints = calloc(n, sizeof *endpoints);
    locals = calloc(n, sizeof *locals);
    if (!endpoints || !locals) {
        return -ENOMEM;
    }
    for (int s = 0; s < o->switches; s++) {
        for (int p = 0; p < o->ports; p++) {
            struct endpoint *e = &endpoints[n_endpoints++];
            snprintf(e->name, sizeof e->name, "sc-s%d-p%d", s, p);
            e->sw = s;
            e->port = p;
            uint8_t mac[6] = {
                0x0a, 0x01, 0x00, (uint8_t)s, (uint8_t)(p / 256), (uint8_t)(p % 256)};
            memcpy(e->mac, mac, 6);
            e->ip = (10u << 24) | ((uint32_t)(100 + s) << 16) |
                    ((uint32_t)(p / 200) << 8) | (uint32_t)(p % 200 + 10);
            e->local = !((p >> 1) & 1);
            if (e->local) {
                e->in_port = in_port++;
                locals[n_locals++] = e;
            }
        }
    }
    for (int c = 0; c < N_LB_CLIENTS; c++) {
        struct endpoint *e = &endpoints[n_endpoints++];
        snprintf(e->name, sizeof e->name, "sc-lb-c%d", c);
        e->sw = -1;
        e->port = c;
        uint8_t mac[6] = {0x0a, 0x01, 0x02, 0x00, 0x00, (uint8_t)c};
        memcpy(e->mac, mac, 6);
        e->ip = (10u << 24) | (99u << 16) | (uint32_t)(10 + c);
        e->local = true;
        e->in_port = in_port++;
    }
    return 0;
}

static int
central_start(const struct bench_opts *o)
{
    char out[256];

    snprintf(g.dir, sizeof g.dir, "/tmp/ovnic-pbench.XXXXXX");
    if (!mkdtemp(g.dir)) {
        fail("mkdtemp: %s", strerror(errno));
        return -errno;
    }
    if (watcher_start()) {
        fail("cannot start the cleanup watcher");
        rmdir(g.dir);
        return -1;
    }
    if (run_cmd(g.sb, sizeof g.sb, "'%s' start-sb %s", g.central, g.dir) ||
        run_cmd(g.nb, sizeof g.nb, "'%s' start-nb %s", g.central, g.dir) ||
        run_cmd(out, sizeof out, "'%s' start-northd %s", g.central, g.dir)) {
        fail("cannot start OVN central in %s", g.dir);
        return -1;
    }
    if (run_cmd(NULL, 0, "NB_REMOTE='%s' '%s/tests/topologies/scale.sh' %d %d", g.nb,
                g.source, o->switches, o->ports)) {
        fail("tests/topologies/scale.sh failed");
        return -1;
    }
    return 0;
}

/* ---- Packets ---- */

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* Ethernet + IPv4 + TCP (SYN) or UDP, 8 bytes of payload, valid checksums. */
static uint16_t
frame_build(uint8_t *f, const uint8_t dst_mac[6], const uint8_t src_mac[6],
            uint32_t src_ip, uint32_t dst_ip, uint8_t proto, uint16_t sport,
            uint16_t dport)
{
    size_t l4_len = (proto == 6 ? 20 : 8) + 8;
    uint8_t *ip = f + 14, *l4 = ip + 20;
    uint32_t pseudo;

    memset(f, 0, FRAME_MAX);
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, src_mac, 6);
    put16(f + 12, 0x0800);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + l4_len));
    ip[6] = 0x40; /* DF. */
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, src_ip);
    put32(ip + 16, dst_ip);
    put16(ip + 10, ctrl_csum(ip, 20, 0));
    put16(l4, sport);
    put16(l4 + 2, dport);
    if (proto == 6) {
        put32(l4 + 4, (uint32_t)rng());
        l4[12] = 5 << 4;
        l4[13] = 0x02;
        put16(l4 + 14, 64240);
        memcpy(l4 + 20, "ovnic-pb", 8);
    } else {
        put16(l4 + 4, (uint16_t)l4_len);
        memcpy(l4 + 8, "ovnic-pb", 8);
    }
    pseudo = (src_ip >> 16) + (src_ip & 0xffff) + (dst_ip >> 16) + (dst_ip & 0xffff) +
             proto + (uint32_t)l4_len;
    put16(l4 + (proto == 6 ? 16 : 6), ctrl_csum(l4, l4_len, pseudo));
    return (uint16_t)(14 + 20 + l4_len);
}

static const uint16_t app_ports[] = {80, 443, 5432, 8080, 53, 123};

/* Fills 'pk' with a packet of category 'cat'. */
static void
packet_make(const struct bench_opts *o, struct packet *pk, enum category cat)
{
    const struct endpoint *src, *dst;
    uint8_t router_mac[6] = {0x0a, 0x01, 0x01, 0x00, 0x00, 0x00};
    uint16_t sport = (uint16_t)(1024 + rng_below(64512));
    uint8_t proto = rng_below(2) ? 6 : 17;
    uint16_t dport = app_ports[rng_below(ARRAY_SIZE(app_ports))];
    int sw;

    pk->cat = cat;
    switch (cat) {
    case CAT_L2:
        src = locals[rng_below((uint32_t)n_locals)];
        do {
            dst = &endpoints[(size_t)src->sw * (size_t)o->ports +
                             rng_below((uint32_t)o->ports)];
        } while (dst == src && o->ports > 1);
        pk->len = frame_build(pk->frame, dst->mac, src->mac, src->ip, dst->ip, proto,
                              sport, dport);
        break;
    case CAT_ROUTED:
        src = locals[rng_below((uint32_t)n_locals)];
        sw = o->switches > 1
                 ? (src->sw + 1 + (int)rng_below((uint32_t)o->switches - 1)) % o->switches
                 : src->sw;
        dst = &endpoints[(size_t)sw * (size_t)o->ports + rng_below((uint32_t)o->ports)];
        router_mac[5] = (uint8_t)src->sw;
        pk->len = frame_build(pk->frame, router_mac, src->mac, src->ip, dst->ip, proto,
                              sport, dport);
        break;
    case CAT_ACL_DROP:
        src = locals[rng_below((uint32_t)n_locals)];
        if (rng_below(2) && o->ports > 3) {
            /* SSH to a "db" (odd) port of hv1 on the same switch: to-lport drop. */
            int p;
            do {
                p = (int)rng_below((uint32_t)o->ports);
            } while (!(p & 1) || ((p >> 1) & 1));
            dst = &endpoints[(size_t)src->sw * (size_t)o->ports + (size_t)p];
            pk->len = frame_build(pk->frame, dst->mac, src->mac, src->ip, dst->ip, 6,
                                  sport, 22);
        } else {
            /* To the blocked address set, through the router: from-lport drop. */
            uint32_t ip = rng_below(2) ? (192u << 24) | (2u << 8) | rng_below(256)
                                       : (198u << 24) | (51u << 16) | (100u << 8) | 7u;
            router_mac[5] = (uint8_t)src->sw;
            pk->len = frame_build(pk->frame, router_mac, src->mac, src->ip, ip, proto,
                                  sport, dport);
        }
        break;
    case CAT_LB:
    default:
        src = &endpoints[n_endpoints - N_LB_CLIENTS + rng_below(N_LB_CLIENTS)];
        router_mac[4] = 0x01;
        pk->len = frame_build(pk->frame, router_mac, src->mac, src->ip,
                              (10u << 24) | (99u << 16) | 100u, 6, sport, 80);
        break;
    }
    pk->src = src;
}

/* Open-addressing set of 64-bit frame hashes, to keep the packets distinct. */
struct seen {
    uint64_t *slots;
    size_t mask;
};

static uint64_t
frame_hash(const struct packet *pk)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < pk->len; i++) {
        /* Skip the TCP sequence number: it does not make a packet distinct. */
        if (pk->frame[23] == 6 && i >= 38 && i < 42) {
            continue;
        }
        h = (h ^ pk->frame[i]) * 1099511628211ULL;
    }
    return h | 1;
}

static bool
seen_add(struct seen *s, uint64_t h)
{
    for (size_t i = h & s->mask;; i = (i + 1) & s->mask) {
        if (!s->slots[i]) {
            s->slots[i] = h;
            return true;
        }
        if (s->slots[i] == h) {
            return false;
        }
    }
}

/* 40% L2, 35% routed, 15% ACL-dropped, 10% to the VIP. */
static struct packet *
packets_make(const struct bench_opts *o, long n)
{
    struct packet *pks = calloc((size_t)n, sizeof *pks);
    struct seen seen = {0};
    size_t slots = 1;

    while (slots < (size_t)n * 2) {
        slots <<= 1;
    }
    seen.slots = calloc(slots, sizeof *seen.slots);
    seen.mask = slots - 1;
    if (!pks || !seen.slots) {
        free(pks);
        free(seen.slots);
        return NULL;
    }
    for (long i = 0; i < n; i++) {
        uint32_t r = rng_below(100);
        enum category cat = r < 40   ? CAT_L2
                            : r < 75 ? CAT_ROUTED
                            : r < 90 ? CAT_ACL_DROP
                                     : CAT_LB;
        do {
            packet_make(o, &pks[i], cat);
        } while (!seen_add(&seen, frame_hash(&pks[i])));
    }
    free(seen.slots);
    return pks;
}

static void
input_init(struct pipeline_input *in, const struct packet *pk)
{
    memset(in, 0, sizeof *in);
    in->type = PIPELINE_IN_VIF;
    in->port = pk->src->name;
    in->in_port = pk->src->in_port;
    in->packet = pk->frame;
    in->len = pk->len;
}

/* ---- Measurements ---- */

/* The megaflow of the first packet of each kind (or why it has none), for the table. */
static char samples[N_CATS][1024];

static int
mask_bits(const struct pkey_mask *m)
{
    int n = 0;

    for (size_t i = 0; i < PKEY_N_WORDS; i++) {
        n += __builtin_popcountll(m->w[i]);
    }
    return n;
}

/* Walks every packet once (untimed): outcomes, keys of the cacheable ones, and both
 * caches filled. */
static int
collect(struct pipeline *pl, const struct packet *pks, long n, struct pkey *keys,
        long *n_keys, long *key_pk, struct megaflow_cache *caches[2],
        struct size_result *res)
{
    struct pipeline_result r;
    struct pipeline_input in;
    long bits = 0;

    pipeline_result_init(&r);
    *n_keys = 0;
    for (long i = 0; i < n; i++) {
        const struct packet *pk = &pks[i];
        enum category c = pk->cat;

        input_init(&in, pk);
        if (pipeline_process(pl, &in, &r)) {
            pipeline_result_destroy(&r);
            return -ENOMEM;
        }
        if (r.error) {
            fail("packet %ld from %s refused: %s", i, pk->src->name,
                 r.error_msg ? r.error_msg : strerror(-r.error));
            pipeline_result_destroy(&r);
            return -EINVAL;
        }
        res->n_cat[c]++;
        bool local = false, tunnel = false;
        for (size_t j = 0; j < r.n_outputs; j++) {
            local |= r.outputs[j].type == PIPELINE_OUT_LOCAL;
            tunnel |= r.outputs[j].type == PIPELINE_OUT_TUNNEL;
        }
        res->n_local[c] += local;
        res->n_tunnel[c] += tunnel;
        res->n_drop[c] += !r.n_outputs;
        if (!samples[c][0]) {
            if (r.megaflow.cacheable) {
                megaflow_format(&r.megaflow, samples[c], sizeof samples[c]);
            } else {
                snprintf(samples[c], sizeof samples[c], "not cacheable: %s",
                         r.megaflow.uncacheable_reason ? r.megaflow.uncacheable_reason
                                                       : "?");
            }
        }
        if (!r.megaflow.cacheable) {
            res->n_uncacheable[c]++;
        } else {
            size_t before = 0;
            struct megaflow_cache_stats st;

            megaflow_cache_get_stats(caches[0], &st);
            before = st.n_entries;
            for (int k = 0; k < 2; k++) {
                int rc = megaflow_cache_insert(caches[k], &r.megaflow);
                if (rc) {
                    fail("megaflow insert: %s", strerror(-rc));
                    pipeline_result_destroy(&r);
                    return rc;
                }
            }
            megaflow_cache_get_stats(caches[0], &st);
            if (st.n_entries > before) {
                bits += mask_bits(&r.megaflow.mask);
            }
            keys[*n_keys] = r.input_key;
            key_pk[*n_keys] = i;
            (*n_keys)++;
        }
        pipeline_result_destroy(&r);
    }
    struct megaflow_cache_stats st;
    megaflow_cache_get_stats(caches[0], &st);
    res->n_megaflows = (long)st.n_entries;
    res->n_masks = (long)st.n_masks;
    res->avg_mask_bits = st.n_entries ? (double)bits / (double)st.n_entries : 0;
    return 0;
}

/* Timed cold walks: passes over every packet until 'min_s' of CPU time. */
static int
measure_cold(struct pipeline *pl, const struct packet *pks, long n, double min_s,
             struct size_result *res)
{
    struct pipeline_stats before, after;
    struct pipeline_result r;
    struct pipeline_input in;
    double t0 = cpu_now(), t;

    pipeline_get_stats(pl, &before);
    pipeline_result_init(&r);
    res->cold_walks = 0;
    do {
        for (long i = 0; i < n; i++) {
            input_init(&in, &pks[i]);
            if (pipeline_process(pl, &in, &r)) {
                pipeline_result_destroy(&r);
                return -ENOMEM;
            }
            pipeline_result_destroy(&r);
        }
        res->cold_walks += n;
        t = cpu_now() - t0;
    } while (t < min_s);
    res->cold_s = t;
    pipeline_get_stats(pl, &after);
    res->lookups_per_walk =
        (double)(after.n_lookups - before.n_lookups) / (double)res->cold_walks;
    return 0;
}

/* Timed lookups of 'keys' in the order 'order', passes until 'min_s'.  With 'pks',
 * each key is first recomputed from its frame with pipeline_input_key(). */
static long
measure_hot(struct pipeline *pl, struct megaflow_cache *cache, const struct pkey *keys,
            const long *order, long n, const struct packet *pks, const long *key_pk,
            double min_s, double *seconds, long *n_found)
{
    uint64_t gen = pipeline_generation(pl);
    long lookups = 0, found = 0;
    double t0 = cpu_now(), t;

    do {
        if (pks) {
            for (long i = 0; i < n; i++) {
                struct pipeline_input in;
                struct pkey key;

                input_init(&in, &pks[key_pk[order[i]]]);
                if (!pipeline_input_key(pl, &in, &key, NULL)) {
                    found += megaflow_cache_lookup(cache, &key, gen) != NULL;
                }
            }
        } else {
            for (long i = 0; i < n; i++) {
                found += megaflow_cache_lookup(cache, &keys[order[i]], gen) != NULL;
            }
        }
        lookups += n;
        t = cpu_now() - t0;
    } while (t < min_s);
    *seconds = t;
    *n_found = found;
    return lookups;
}

static int
measure_size(struct pipeline *pl, const struct bench_opts *o, long n,
             struct size_result *res)
{
    struct megaflow_cache *caches[2] = {NULL, NULL};
    struct megaflow_cache_stats s0, s1;
    struct packet *pks = NULL;
    struct pkey *keys = NULL;
    long *order = NULL, *key_pk = NULL, n_keys = 0, found;
    int rc = -ENOMEM;

    memset(res, 0, sizeof *res);
    res->n = n;
    pks = packets_make(o, n);
    keys = malloc((size_t)n * sizeof *keys);
    order = malloc((size_t)n * sizeof *order);
    key_pk = malloc((size_t)n * sizeof *key_pk);
    if (!pks || !keys || !order || !key_pk ||
        megaflow_cache_create((size_t)n + 1, 0, &caches[0]) ||
        megaflow_cache_create((size_t)n + 1, 1, &caches[1])) {
        goto out;
    }
    rc = collect(pl, pks, n, keys, &n_keys, key_pk, caches, res);
    if (rc) {
        goto out;
    }
    rc = measure_cold(pl, pks, n, o->min_s, res);
    if (rc) {
        goto out;
    }

    /* Lookups in a fixed random order of the cacheable packets. */
    for (long i = 0; i < n_keys; i++) {
        order[i] = i;
    }
    for (long i = n_keys - 1; i > 0; i--) {
        long j = (long)rng_below((uint32_t)i + 1), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    res->hot_keys = n_keys;
    if (!n_keys) {
        rc = 0;
        goto out;
    }
    megaflow_cache_get_stats(caches[0], &s0);
    res->hot_lookups = measure_hot(pl, caches[0], keys, order, n_keys, NULL, NULL,
                                   o->min_s, &res->hot_s, &found);
    megaflow_cache_get_stats(caches[0], &s1);
    res->emc_pct = 100.0 * (double)(s1.n_emc_hits - s0.n_emc_hits) / res->hot_lookups;
    res->masked_pct =
        100.0 * (double)(s1.n_masked_hits - s0.n_masked_hits) / res->hot_lookups;
    res->miss_pct = 100.0 * (double)(s1.n_misses - s0.n_misses) / res->hot_lookups;
    res->masked_lookups = measure_hot(pl, caches[1], keys, order, n_keys, NULL, NULL,
                                      o->min_s, &res->masked_s, &found);
    res->keyed_lookups = measure_hot(pl, caches[0], keys, order, n_keys, pks, key_pk,
                                     o->min_s, &res->keyed_s, &found);
    if (found != res->keyed_lookups) {
        fail("%ld of %ld keys recomputed from their frames missed the cache",
             res->keyed_lookups - found, res->keyed_lookups);
    }
    rc = 0;

out:
    megaflow_cache_destroy(caches[0]);
    megaflow_cache_destroy(caches[1]);
    free(pks);
    free(keys);
    free(order);
    free(key_pk);
    return rc;
}

/* ---- The SB replica ---- */

static int
replica_sync(struct poll_loop **loopp, struct ovsdb_cs **csp)
{
    struct ovsdb_cs_config cfg = {
        .remotes = g.sb,
        .database = "OVN_Southbound",
        .monitor_all = true,
    };
    struct ovnic_err err = {0};
    uint64_t deadline;

    if (poll_loop_create(loopp) || ovsdb_cs_create(*loopp, &cfg, csp, &err)) {
        fail("cannot create the SB client session");
        return -1;
    }
    deadline = time_msec() + SYNC_TIMEOUT_MS;
    while (!ovsdb_cs_is_synced(*csp)) {
        if (time_msec() >= deadline) {
            fail("SB replica not synchronised after %d ms", SYNC_TIMEOUT_MS);
            return -ETIMEDOUT;
        }
        poll_loop_run_once(*loopp, 100);
    }
    return 0;
}

/* Adds chassis 'name' (with a Geneve encap at 'ip') to 'ops', as "ovn-sbctl
 * chassis-add" would. */
static void
chassis_ops(json_t *ops, const char *name, const char *ip)
{
    char encap[16];

    snprintf(encap, sizeof encap, "encap_%s", name);
    json_array_append_new(
        ops, json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s,s:[s,[[s,s]]]}}", "op", "insert",
                       "table", "Encap", "uuid-name", encap, "row", "type", "geneve",
                       "ip", ip, "chassis_name", name, "options", "map", "csum", "true"));
    json_array_append_new(ops, json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:[s,s]}}", "op",
                                         "insert", "table", "Chassis", "uuid-name", name,
                                         "row", "name", name, "hostname", name, "encaps",
                                         "named-uuid", encap));
}

struct bind_txn {
    bool done;
    int error;
};

static void
bind_done(void *aux, int error, const json_t *result, const char *errmsg)
{
    struct bind_txn *t = aux;
    size_t i;
    json_t *op;

    t->done = true;
    t->error = error;
    if (error) {
        fail("binding transaction: %s", errmsg ? errmsg : strerror(-error));
        return;
    }
    json_array_foreach(result, i, op)
    {
        json_t *count = json_object_get(op, "count");
        if (json_object_get(op, "error") || (count && json_integer_value(count) != 1)) {
            fail("binding transaction: operation %zu failed", i);
            t->error = -EPROTO;
            return;
        }
    }
}

/* Port_Binding rows of the replica that have a chassis. */
static size_t
count_bound(struct ovsdb_cs *cs)
{
    const struct ovsdb_replica_table *t =
        ovsdb_replica_table(ovsdb_cs_replica(cs), "Port_Binding");
    const struct ovsdb_row *row;
    size_t n = 0;

    if (t) {
        OVSDB_TABLE_FOR_EACH_ROW (row, t) {
            const struct ovsdb_datum *d = ovsdb_row_get(row, "chassis");
            n += d && d->n == 1;
        }
    }
    return n;
}

/* Adds chassis hv1 and hv2 and binds every VIF to one of them, in one transaction
 * (as "ovn-sbctl chassis-add" and "lsp-bind" would), then waits until the replica
 * shows it. */
static int
bind_ports(struct poll_loop *loop, struct ovsdb_cs *cs)
{
    struct bind_txn txn = {0};
    json_t *ops = json_array();
    uint64_t deadline;

    chassis_ops(ops, "hv1", "192.168.0.1");
    chassis_ops(ops, "hv2", "192.168.0.2");
    for (size_t i = 0; i < n_endpoints; i++) {
        json_array_append_new(ops, json_pack("{s:s,s:s,s:[[s,s,s]],s:{s:[s,s]}}", "op",
                                             "update", "table", "Port_Binding", "where",
                                             "logical_port", "==", endpoints[i].name,
                                             "row", "chassis", "named-uuid",
                                             endpoints[i].local ? "hv1" : "hv2"));
    }
    if (ovsdb_cs_transact(cs, ops, bind_done, &txn)) {
        fail("cannot send the binding transaction");
        return -EIO;
    }
    deadline = time_msec() + SYNC_TIMEOUT_MS;
    while (!txn.done || count_bound(cs) < n_endpoints) {
        if (txn.error) {
            return txn.error;
        }
        if (time_msec() >= deadline) {
            fail("bindings not seen after %d ms", SYNC_TIMEOUT_MS);
            return -ETIMEDOUT;
        }
        poll_loop_run_once(loop, 100);
    }
    return 0;
}

/* ---- Output ---- */

static double
rate(double n, double s)
{
    return s > 0 ? n / s : 0;
}

static void
print_table(const struct bench_opts *o, const struct pipeline_stats *ps, double sync_ms,
            const struct size_result *res, int n_res)
{
    printf("%s: %d switches x %d VIFs + router + LB switch: %" PRIu64
           " logical flows (%" PRIu64 " unparsed), %" PRIu64 " datapaths, %" PRIu64
           " ports; %zu VIFs on hv1, the others on hv2; pipeline_sync %.0f ms\n",
           PROG, o->switches, o->ports, ps->n_lflows, ps->n_lflow_errors, ps->n_datapaths,
           ps->n_ports, n_locals + N_LB_CLIENTS, sync_ms);
    printf("one thread, rates per CPU-second of that thread (per core)\n\n");
    printf("%-8s %-9s %7s %7s %7s %7s %7s\n", "packets", "kind", "count", "local",
           "tunnel", "drop", "no-mf");
    for (int i = 0; i < n_res; i++) {
        for (int c = 0; c < N_CATS; c++) {
            printf("%-8ld %-9s %7ld %7ld %7ld %7ld %7ld\n", res[i].n, cat_names[c],
                   res[i].n_cat[c], res[i].n_local[c], res[i].n_tunnel[c],
                   res[i].n_drop[c], res[i].n_uncacheable[c]);
        }
    }
    printf("(no-mf: not cacheable, conntrack recirculation: never in the cache)\n\n");
    printf("%-8s %11s %8s %8s %6s %6s %12s %6s %6s %12s %12s %9s\n", "packets",
           "cold walk/s", "us/walk", "megaflow", "masks", "bits", "hot lookup/s", "EMC%",
           "mask%", "masked-only/s", "key+lookup/s", "hot/cold");
    for (int i = 0; i < n_res; i++) {
        const struct size_result *r = &res[i];
        double cold = rate((double)r->cold_walks, r->cold_s);
        double hot = rate((double)r->hot_lookups, r->hot_s);
        printf("%-8ld %11.0f %8.1f %8ld %6ld %6.1f %12.0f %6.1f %6.1f %13.0f %12.0f "
               "%9.0f\n",
               r->n, cold, cold > 0 ? 1e6 / cold : 0, r->n_megaflows, r->n_masks,
               r->avg_mask_bits, hot, r->emc_pct, r->masked_pct,
               rate((double)r->masked_lookups, r->masked_s),
               rate((double)r->keyed_lookups, r->keyed_s), cold > 0 ? hot / cold : 0);
    }
    printf("\ncold: pipeline_process() on each distinct packet (full walk, megaflow "
           "composed; %.0f classifier lookups per walk at the largest size)\n"
           "hot: megaflow_cache_lookup() of the cacheable packets' keys, 8192-slot EMC "
           "in front; masked-only: 1-slot EMC; key+lookup: pipeline_input_key() + "
           "lookup\n"
           "peer: the cold walk of the same packets; hot/cold = cache lookups per "
           "walk's cost\n",
           n_res ? res[n_res - 1].lookups_per_walk : 0.0);
    printf("\nfirst megaflow of each kind:\n");
    for (int c = 0; c < N_CATS; c++) {
        printf("  %-9s %s\n", cat_names[c], samples[c]);
    }
}

static void
print_json(const struct bench_opts *o, const struct pipeline_stats *ps, double sync_ms,
           const struct size_result *res, int n_res)
{
    json_t *sizes = json_array();
    json_t *top;
    char *s;

    for (int i = 0; i < n_res; i++) {
        const struct size_result *r = &res[i];
        double cold = rate((double)r->cold_walks, r->cold_s);
        double hot = rate((double)r->hot_lookups, r->hot_s);
        json_t *cats = json_object();

        for (int c = 0; c < N_CATS; c++) {
            json_object_set_new(
                cats, cat_names[c],
                json_pack("{s:I,s:I,s:I,s:I,s:I}", "count", (json_int_t)r->n_cat[c],
                          "local", (json_int_t)r->n_local[c], "tunnel",
                          (json_int_t)r->n_tunnel[c], "drop", (json_int_t)r->n_drop[c],
                          "uncacheable", (json_int_t)r->n_uncacheable[c]));
        }
        json_array_append_new(
            sizes,
            json_pack("{s:I,s:o,s:f,s:f,s:I,s:I,s:f,s:I,s:f,s:f,s:f,s:f,s:f,s:f}",
                      "packets", (json_int_t)r->n, "kinds", cats, "cold_walks_per_s",
                      cold, "lookups_per_walk", r->lookups_per_walk, "megaflows",
                      (json_int_t)r->n_megaflows, "masks", (json_int_t)r->n_masks,
                      "avg_mask_bits", r->avg_mask_bits, "hot_keys",
                      (json_int_t)r->hot_keys, "hot_lookups_per_s", hot, "emc_hit_pct",
                      r->emc_pct, "masked_hit_pct", r->masked_pct,
                      "masked_only_lookups_per_s",
                      rate((double)r->masked_lookups, r->masked_s),
                      "key_and_lookup_per_s", rate((double)r->keyed_lookups, r->keyed_s),
                      "hot_over_cold", cold > 0 ? hot / cold : 0.0));
    }
    top = json_pack(
        "{s:s,s:{s:i,s:i,s:I,s:I,s:I,s:I,s:f},s:s,s:o}", "bench", "pipeline_walk",
        "topology", "switches", o->switches, "vifs_per_switch", o->ports, "logical_flows",
        (json_int_t)ps->n_lflows, "lflow_errors", (json_int_t)ps->n_lflow_errors,
        "datapaths", (json_int_t)ps->n_datapaths, "ports", (json_int_t)ps->n_ports,
        "sync_ms", sync_ms, "unit", "per CPU-second of one thread", "sizes", sizes);
    s = top ? json_dumps(top, JSON_COMPACT) : NULL;
    if (s) {
        printf("%s\n", s);
    }
    free(s);
    json_decref(top);
}

/* ---- Main ---- */

static void
usage(void)
{
    printf("Usage: " PROG " [--format=table|json] [--switches=N] [--ports=N]\n"
           "       [--packets=N[,N...]] [--min-time=SECONDS]\n"
           "Defaults: 10 switches of 235 VIFs (about 10,000 logical flows), 1000 and "
           "100000 packets, 0.5 s per timed measurement.\n");
}

static int
parse_sizes(const char *s, struct bench_opts *o)
{
    char *end;

    o->n_sizes = 0;
    while (*s && o->n_sizes < MAX_SIZES) {
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > 10000000 || (*end && *end != ',')) {
            return -EINVAL;
        }
        o->sizes[o->n_sizes++] = v;
        s = *end ? end + 1 : end;
    }
    return *s || !o->n_sizes ? -EINVAL : 0;
}

static int
parse_args(int argc, char *argv[], struct bench_opts *o)
{
    *o = (struct bench_opts){.switches = 10, .ports = 235, .min_s = 0.5};
    o->sizes[0] = 1000;
    o->sizes[1] = 100000;
    o->n_sizes = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = strchr(a, '=');
        v = v ? v + 1 : (i + 1 < argc ? argv[i + 1] : "");
        bool sep = !strchr(a, '=');

        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            exit(0);
        } else if (!strncmp(a, "--format", 8)) {
            if (!strcmp(v, "json")) {
                o->json_only = true;
            } else if (strcmp(v, "table")) {
                return -EINVAL;
            }
        } else if (!strncmp(a, "--switches", 10)) {
            o->switches = atoi(v);
        } else if (!strncmp(a, "--ports", 7)) {
            o->ports = atoi(v);
        } else if (!strncmp(a, "--packets", 9)) {
            if (parse_sizes(v, o)) {
                return -EINVAL;
            }
        } else if (!strncmp(a, "--min-time", 10)) {
            o->min_s = atof(v);
        } else {
            return -EINVAL;
        }
        i += sep;
    }
    if (o->switches < 1 || o->switches > 100 || o->ports < 4 || o->ports > 10000 ||
        o->min_s < 0 || o->min_s > 60) {
        return -EINVAL;
    }
    return 0;
}

int
main(int argc, char *argv[])
{
    struct size_result res[MAX_SIZES];
    struct pipeline_config cfg = {.chassis = "hv1"};
    struct pipeline_stats ps;
    struct poll_loop *loop = NULL;
    struct ovsdb_cs *cs = NULL;
    struct pipeline *pl = NULL;
    struct ct_det *ct = NULL;
    struct ovnic_err err = {0};
    struct bench_opts o;
    double t0, sync_ms;
    int n_res = 0, status = 1;

    if (parse_args(argc, argv, &o)) {
        usage();
        return 2;
    }
    if (find_source()) {
        fail("scripts/ovn-central.sh not found (set OVNIC_SOURCE_DIR)");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    ovnic_log_set_level(NULL, OVNIC_LOG_WARN);
    if (endpoints_make(&o)) {
        fail("out of memory");
        goto out;
    }
    if (!o.json_only) {
        fprintf(stderr, PROG ": starting OVN central and building the topology...\n");
    }
    if (central_start(&o) || replica_sync(&loop, &cs) || bind_ports(loop, cs)) {
        goto out;
    }
    if (ct_det_create(&ct)) {
        goto out;
    }
    cfg.ct_class = &ct_det_class;
    cfg.ct = ct;
    if (pipeline_create(&cfg, &pl)) {
        fail("pipeline_create failed");
        goto out;
    }
    t0 = (double)time_msec();
    if (pipeline_sync(pl, ovsdb_cs_replica(cs), &err)) {
        fail("pipeline_sync failed: %s %s %s", err.message ? err.message : "?",
             err.object, err.detail);
        goto out;
    }
    sync_ms = (double)time_msec() - t0;
    pipeline_get_stats(pl, &ps);
    /* The SB is no longer needed: stop the daemons before measuring. */
    ovsdb_cs_destroy(cs);
    cs = NULL;
    watcher_finish();

    for (int i = 0; i < o.n_sizes; i++) {
        if (!o.json_only) {
            fprintf(stderr, PROG ": %ld packets...\n", o.sizes[i]);
        }
        if (measure_size(pl, &o, o.sizes[i], &res[n_res])) {
            fail("measuring %ld packets failed", o.sizes[i]);
            goto out;
        }
        n_res++;
    }
    if (!o.json_only) {
        print_table(&o, &ps, sync_ms, res, n_res);
    }
    print_json(&o, &ps, sync_ms, res, n_res);
    status = 0;

out:
    pipeline_destroy(pl);
    ct_det_destroy(ct);
    ovsdb_cs_destroy(cs);
    poll_loop_destroy(loop);
    watcher_finish();
    free(endpoints);
    free(locals);
    return status;
}
