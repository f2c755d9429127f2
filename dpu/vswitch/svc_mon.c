/* ovnic: load-balancer health checks (see svc_mon.h). */
#include "dpu/vswitch/svc_mon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/hash.h"
#include "shared/util/hmap.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(svc_mon);

#define ETH_HLEN_ 14
#define IP4_HLEN_ 20
#define TCP_HLEN_ 20
#define UDP_HLEN_ 8
#define UDP_PROBE_PAYLOAD 8
#define PROBE_TTL 63
#define PROBE_WINDOW 65160

#define TCP_FIN_ 0x01
#define TCP_SYN_ 0x02
#define TCP_RST_ 0x04
#define TCP_ACK_ 0x10

#define ICMP4_DST_UNREACH_ 3
#define ICMP4_PORT_UNREACH_ 3

enum svc_state {
    SVC_INIT,    /* First probe due at once. */
    SVC_WAITING, /* A probe is out; 'deadline' is its timeout. */
    SVC_IDLE,    /* Between probes; 'deadline' is the next one. */
};

struct svc {
    struct hmap_node node; /* In svc_mon->monitors, by uuid. */
    struct uuid uuid;
    char *lport; /* Owned. */
    bool udp;
    uint8_t dst_mac[6], src_mac[6];
    uint32_t ip, src_ip; /* Host order. */
    uint16_t port;

    uint64_t interval_ms, timeout_ms;
    unsigned int success_count, failure_count;

    enum svc_state state;
    uint64_t deadline;
    uint16_t tp_src; /* The probe's source port. */
    uint32_t seq;    /* TCP: the probe's sequence number. */
    unsigned int n_success, n_failures;
    enum svc_mon_status status;
    uint64_t probes, replies;
    bool seen; /* Mark of svc_mon_set(). */
};

struct svc_mon {
    struct svc_mon_ops ops;
    struct hmap monitors;
    uint64_t rng;
    struct svc_mon_stats st;
};

static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(10, 20);

/* ---- Helpers. ------------------------------------------------------------------ */

static uint32_t
rng_next(struct svc_mon *mon)
{
    /* xorshift64*. */
    uint64_t x = mon->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    mon->rng = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint16_t
rng_port(struct svc_mon *mon)
{
    return (uint16_t)(1024 + rng_next(mon) % (65536 - 1024));
}

static uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void
wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += rd16(p + i);
    }
    if (n & 1) {
        sum += (uint32_t)p[n - 1] << 8;
    }
    return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

static bool
mac_parse(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    char tail;
    if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                     &b[5], &tail) != 6) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = (uint8_t)b[i];
    }
    return true;
}

static bool
ip4_parse(const char *s, uint32_t *ip)
{
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1) {
        return false;
    }
    *ip = ntohl(a.s_addr);
    return true;
}

static void
ip4_format(uint32_t ip, char buf[16])
{
    snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
             ip & 0xff);
}

static uint64_t
opt_seconds(int64_t v, uint64_t dflt_ms)
{
    if (v <= 0) {
        return dflt_ms;
    }
    return (uint64_t)MIN(v, SVC_MON_MAX_SECONDS) * 1000;
}

static unsigned int
opt_count(int64_t v, unsigned int dflt)
{
    if (v <= 0) {
        return dflt;
    }
    return (unsigned int)MIN(v, 1000000);
}

/* ---- Lifetime. ----------------------------------------------------------------- */

int
svc_mon_create(const struct svc_mon_ops *ops, uint64_t seed, struct svc_mon **monp)
{
    if (!ops || !ops->send) {
        return -EINVAL;
    }
    struct svc_mon *mon = calloc(1, sizeof *mon);
    if (!mon) {
        return -ENOMEM;
    }
    mon->ops = *ops;
    hmap_init(&mon->monitors);
    mon->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
    *monp = mon;
    return 0;
}

static void
svc_free(struct svc *svc)
{
    free(svc->lport);
    free(svc);
}

void
svc_mon_destroy(struct svc_mon *mon)
{
    if (!mon) {
        return;
    }
    struct svc *svc, *next;
    HMAP_FOR_EACH_SAFE (svc, next, node, &mon->monitors) {
        hmap_remove(&mon->monitors, &svc->node);
        svc_free(svc);
    }
    hmap_destroy(&mon->monitors);
    free(mon);
}

static struct svc *
svc_find(const struct svc_mon *mon, const struct uuid *uuid)
{
    struct svc *svc;
    HMAP_FOR_EACH_WITH_HASH (svc, node, uuid_hash(uuid), &mon->monitors) {
        if (uuid_equals(&svc->uuid, uuid)) {
            return svc;
        }
    }
    return NULL;
}

/* ---- Configuration. ------------------------------------------------------------ */

/* The parsed target of 'spec' in 't' (only the target fields), or false. */
static bool
spec_parse(const struct svc_mon_spec *spec, struct svc *t, const char **why)
{
    memset(t, 0, sizeof *t);
    if (!spec->logical_port || !*spec->logical_port) {
        *why = "no logical port";
        return false;
    }
    if (!spec->protocol || !*spec->protocol || !strcmp(spec->protocol, "tcp")) {
        t->udp = false;
    } else if (!strcmp(spec->protocol, "udp")) {
        t->udp = true;
    } else {
        *why = "protocol not supported";
        return false;
    }
    if (!ip4_parse(spec->ip, &t->ip)) {
        *why = "not an IPv4 address";
        return false;
    }
    if (!ip4_parse(spec->src_ip, &t->src_ip)) {
        *why = "bad source IPv4 address";
        return false;
    }
    if (spec->port < 1 || spec->port > 65535) {
        *why = "bad port";
        return false;
    }
    t->port = (uint16_t)spec->port;
    if (!mac_parse(spec->src_mac, t->src_mac)) {
        *why = "bad source MAC";
        return false;
    }
    if (!mac_parse(spec->dst_mac, t->dst_mac)) {
        *why = "bad logical port MAC";
        return false;
    }
    return true;
}

static bool
target_equal(const struct svc *a, const struct svc *b, const char *lport)
{
    return a->udp == b->udp && a->ip == b->ip && a->src_ip == b->src_ip &&
           a->port == b->port && !memcmp(a->src_mac, b->src_mac, 6) &&
           !memcmp(a->dst_mac, b->dst_mac, 6) && !strcmp(a->lport, lport);
}

static void
svc_restart(struct svc *svc)
{
    svc->state = SVC_INIT;
    svc->deadline = 0;
    svc->tp_src = 0;
    svc->n_success = 0;
    svc->n_failures = 0;
    svc->status = SVC_MON_UNKNOWN;
}

int
svc_mon_set(struct svc_mon *mon, const struct svc_mon_spec *specs, size_t n,
            uint64_t now_ms OVNIC_UNUSED)
{
    struct svc *svc, *next;
    int error = 0;

    mon->st.n_invalid = 0;
    HMAP_FOR_EACH (svc, node, &mon->monitors) {
        svc->seen = false;
    }
    for (size_t i = 0; i < n; i++) {
        const struct svc_mon_spec *spec = &specs[i];
        struct svc t;
        const char *why = NULL;
        if (!spec_parse(spec, &t, &why)) {
            char u[UUID_LEN + 1];
            mon->st.n_invalid++;
            OLOG_WARN_RL(&rl, "Service_Monitor %s skipped: %s",
                         uuid_to_string(&spec->uuid, u), why);
            continue;
        }
        svc = svc_find(mon, &spec->uuid);
        if (svc && svc->seen) {
            continue; /* A duplicate uuid. */
        }
        if (!svc) {
            svc = calloc(1, sizeof *svc);
            char *lport = strdup(spec->logical_port);
            if (!svc || !lport) {
                free(svc);
                free(lport);
                error = -ENOMEM;
                continue;
            }
            svc->uuid = spec->uuid;
            svc->lport = lport;
            svc_restart(svc);
            hmap_insert(&mon->monitors, &svc->node, uuid_hash(&svc->uuid));
        } else if (!target_equal(svc, &t, spec->logical_port)) {
            char *lport = strdup(spec->logical_port);
            if (!lport) {
                svc->seen = true; /* Keep it as it was. */
                error = -ENOMEM;
                continue;
            }
            free(svc->lport);
            svc->lport = lport;
            svc_restart(svc);
        }
        svc->udp = t.udp;
        svc->ip = t.ip;
        svc->src_ip = t.src_ip;
        svc->port = t.port;
        memcpy(svc->src_mac, t.src_mac, 6);
        memcpy(svc->dst_mac, t.dst_mac, 6);
        svc->interval_ms = opt_seconds(spec->interval, SVC_MON_DEFAULT_INTERVAL_MS);
        svc->timeout_ms = opt_seconds(spec->timeout, SVC_MON_DEFAULT_TIMEOUT_MS);
        svc->success_count =
            opt_count(spec->success_count, SVC_MON_DEFAULT_SUCCESS_COUNT);
        svc->failure_count =
            opt_count(spec->failure_count, SVC_MON_DEFAULT_FAILURE_COUNT);
        svc->seen = true;
    }
    if (error) {
        /* Leave the monitors that were not listed: the caller tries again. */
        mon->st.n_monitors = hmap_count(&mon->monitors);
        return error;
    }
    HMAP_FOR_EACH_SAFE (svc, next, node, &mon->monitors) {
        if (!svc->seen) {
            hmap_remove(&mon->monitors, &svc->node);
            svc_free(svc);
        }
    }
    mon->st.n_monitors = hmap_count(&mon->monitors);
    return (int)MIN(mon->st.n_monitors, (uint64_t)INT32_MAX);
}

/* ---- Frames. ------------------------------------------------------------------- */

/* Ethernet and IPv4 headers of a frame from the monitor's source to the backend with
 * 'l4_len' bytes of protocol 'proto' after them; returns the L4 offset. */
static size_t
put_eth_ip4(const struct svc *svc, uint8_t *f, uint8_t proto, size_t l4_len)
{
    memcpy(f, svc->dst_mac, 6);
    memcpy(f + 6, svc->src_mac, 6);
    wr16(f + 12, 0x0800);
    uint8_t *ip = f + ETH_HLEN_;
    ip[0] = 0x45;
    ip[1] = 0;
    wr16(ip + 2, (uint16_t)(IP4_HLEN_ + l4_len));
    wr16(ip + 4, 0);
    wr16(ip + 6, 0x4000); /* DF */
    ip[8] = PROBE_TTL;
    ip[9] = proto;
    wr16(ip + 10, 0);
    wr32(ip + 12, svc->src_ip);
    wr32(ip + 16, svc->ip);
    wr16(ip + 10, csum_fold(csum_add(0, ip, IP4_HLEN_)));
    return ETH_HLEN_ + IP4_HLEN_;
}

/* Checksum of the L4 bytes [l4, l4 + len) with the IPv4 pseudo-header. */
static uint16_t
l4_csum(const struct svc *svc, uint8_t proto, const uint8_t *l4, size_t len)
{
    uint8_t ph[12];
    wr32(ph, svc->src_ip);
    wr32(ph + 4, svc->ip);
    ph[8] = 0;
    ph[9] = proto;
    wr16(ph + 10, (uint16_t)len);
    return csum_fold(csum_add(csum_add(0, ph, sizeof ph), l4, len));
}

static void
send_tcp(struct svc_mon *mon, const struct svc *svc, uint8_t flags, uint32_t seq,
         uint32_t ack)
{
    uint8_t f[SVC_MON_FRAME_MAX];
    size_t o = put_eth_ip4(svc, f, 6, TCP_HLEN_);
    uint8_t *t = f + o;
    wr16(t, svc->tp_src);
    wr16(t + 2, svc->port);
    wr32(t + 4, seq);
    wr32(t + 8, ack);
    t[12] = 5 << 4;
    t[13] = flags;
    wr16(t + 14, PROBE_WINDOW);
    wr16(t + 16, 0);
    wr16(t + 18, 0);
    wr16(t + 16, l4_csum(svc, 6, t, TCP_HLEN_));
    mon->ops.send(mon->ops.aux, svc->lport, f, o + TCP_HLEN_);
}

static void
send_udp(struct svc_mon *mon, const struct svc *svc)
{
    uint8_t f[SVC_MON_FRAME_MAX];
    size_t len = UDP_HLEN_ + UDP_PROBE_PAYLOAD;
    size_t o = put_eth_ip4(svc, f, 17, len);
    uint8_t *u = f + o;
    wr16(u, svc->tp_src);
    wr16(u + 2, svc->port);
    wr16(u + 4, (uint16_t)len);
    wr16(u + 6, 0); /* No checksum, as IPv4 allows. */
    memset(u + UDP_HLEN_, 0, UDP_PROBE_PAYLOAD);
    mon->ops.send(mon->ops.aux, svc->lport, f, o + len);
}

static void
probe(struct svc_mon *mon, struct svc *svc, uint64_t now)
{
    if (svc->udp) {
        if (!svc->tp_src) {
            svc->tp_src = rng_port(mon);
        }
        send_udp(mon, svc);
    } else {
        svc->tp_src = rng_port(mon);
        svc->seq = rng_next(mon);
        send_tcp(mon, svc, TCP_SYN_, svc->seq, 0);
    }
    svc->probes++;
    mon->st.probes++;
    svc->state = SVC_WAITING;
    svc->deadline = now + svc->timeout_ms;
}

/* ---- Verdicts. ----------------------------------------------------------------- */

static void
set_status(struct svc_mon *mon, struct svc *svc, enum svc_mon_status status)
{
    if (svc->status == status) {
        return;
    }
    svc->status = status;
    mon->st.status_changes++;
    char u[UUID_LEN + 1], ip[16];
    ip4_format(svc->ip, ip);
    OLOG_INFO("service %s:%u (%s, %s) is %s", ip, svc->port, svc->lport,
              uuid_to_string(&svc->uuid, u), svc_mon_status_name(status));
    if (mon->ops.status) {
        mon->ops.status(mon->ops.aux, &svc->uuid, svc_mon_status_name(status));
    }
}

static void
verdict(struct svc_mon *mon, struct svc *svc, bool success, uint64_t now)
{
    if (success) {
        mon->st.successes++;
        svc->n_failures = 0;
        if (svc->n_success < UINT32_MAX) {
            svc->n_success++;
        }
        if (svc->n_success >= svc->success_count) {
            set_status(mon, svc, SVC_MON_ONLINE);
        }
    } else {
        mon->st.failures++;
        svc->n_success = 0;
        if (svc->n_failures < UINT32_MAX) {
            svc->n_failures++;
        }
        if (svc->n_failures >= svc->failure_count) {
            set_status(mon, svc, SVC_MON_OFFLINE);
        }
    }
    svc->state = SVC_IDLE;
    svc->deadline = now + svc->interval_ms;
}

uint64_t
svc_mon_run(struct svc_mon *mon, uint64_t now_ms)
{
    uint64_t next = UINT64_MAX;
    struct svc *svc;

    HMAP_FOR_EACH (svc, node, &mon->monitors) {
        switch (svc->state) {
        case SVC_INIT:
            probe(mon, svc, now_ms);
            break;
        case SVC_WAITING:
            if (now_ms >= svc->deadline) {
                mon->st.timeouts++;
                verdict(mon, svc, svc->udp, now_ms);
            }
            break;
        case SVC_IDLE:
            if (now_ms >= svc->deadline) {
                probe(mon, svc, now_ms);
            }
            break;
        }
        uint64_t wait = svc->deadline > now_ms ? svc->deadline - now_ms : 0;
        next = MIN(next, wait);
    }
    return next;
}

/* ---- Replies. ------------------------------------------------------------------ */

/* A monitor of 'lport' probing (ip, port, protocol) whose probe left from 'tp_src'
 * and is still waiting. */
static struct svc *
svc_match(const struct svc_mon *mon, const char *lport, bool udp, uint32_t ip,
          uint32_t src_ip, uint16_t port, uint16_t tp_src)
{
    struct svc *svc;
    HMAP_FOR_EACH (svc, node, &mon->monitors) {
        if (svc->state == SVC_WAITING && svc->udp == udp && svc->ip == ip &&
            svc->src_ip == src_ip && svc->port == port && svc->tp_src == tp_src &&
            !strcmp(svc->lport, lport)) {
            return svc;
        }
    }
    return NULL;
}

/* Checks an IPv4 header at [ip, ip + avail): its header length in '*hlen' and the
 * bytes it covers (total length, bounded by 'avail') in '*tot'. */
static bool
ip4_header_ok(const uint8_t *ip, size_t avail, size_t *hlen, size_t *tot)
{
    if (avail < IP4_HLEN_ || (ip[0] >> 4) != 4) {
        return false;
    }
    size_t h = (size_t)(ip[0] & 0x0f) * 4;
    size_t t = rd16(ip + 2);
    if (h < IP4_HLEN_ || h > avail || t < h) {
        return false;
    }
    *hlen = h;
    *tot = MIN(t, avail);
    return true;
}

static int
input_tcp(struct svc_mon *mon, const char *lport, const uint8_t *ip, const uint8_t *l4,
          size_t l4_len, uint64_t now)
{
    if (l4_len < TCP_HLEN_) {
        return -EINVAL;
    }
    uint32_t src = rd32(ip + 12), dst = rd32(ip + 16);
    uint16_t sport = rd16(l4), dport = rd16(l4 + 2);
    uint32_t seq = rd32(l4 + 4), ack = rd32(l4 + 8);
    uint8_t flags = l4[13];

    struct svc *svc = svc_match(mon, lport, false, src, dst, sport, dport);
    if (!svc || !(flags & TCP_ACK_) || ack != svc->seq + 1) {
        mon->st.unmatched++;
        return -ENOENT;
    }
    if ((flags & (TCP_SYN_ | TCP_ACK_ | TCP_RST_ | TCP_FIN_)) == (TCP_SYN_ | TCP_ACK_)) {
        mon->st.replies++;
        svc->replies++;
        /* Close the half-open connection: RST at the sequence number it expects. */
        send_tcp(mon, svc, TCP_RST_ | TCP_ACK_, ack, seq + 1);
        mon->st.resets++;
        verdict(mon, svc, true, now);
        return 0;
    }
    if (flags & TCP_RST_) {
        mon->st.replies++;
        svc->replies++;
        verdict(mon, svc, false, now);
        return 0;
    }
    mon->st.unmatched++;
    return -ENOENT;
}

static int
input_icmp(struct svc_mon *mon, const char *lport, const uint8_t *ip, const uint8_t *l4,
           size_t l4_len, uint64_t now)
{
    if (l4_len < 8) {
        return -EINVAL;
    }
    if (l4[0] != ICMP4_DST_UNREACH_ || l4[1] != ICMP4_PORT_UNREACH_) {
        mon->st.unmatched++;
        return -ENOENT;
    }
    const uint8_t *in = l4 + 8;
    size_t in_avail = l4_len - 8, in_hlen, in_tot;
    if (!ip4_header_ok(in, in_avail, &in_hlen, &in_tot) || in_avail < in_hlen + 4) {
        return -EINVAL;
    }
    if (in[9] != 17) {
        mon->st.unmatched++;
        return -ENOENT;
    }
    /* The quoted probe: from the monitor's source to the backend. */
    uint32_t q_src = rd32(in + 12), q_dst = rd32(in + 16);
    const uint8_t *u = in + in_hlen;
    uint16_t q_sport = rd16(u), q_dport = rd16(u + 2);
    if (q_dst != rd32(ip + 12)) {
        mon->st.unmatched++;
        return -ENOENT;
    }
    struct svc *svc = svc_match(mon, lport, true, q_dst, q_src, q_dport, q_sport);
    if (!svc) {
        mon->st.unmatched++;
        return -ENOENT;
    }
    mon->st.replies++;
    svc->replies++;
    verdict(mon, svc, false, now);
    return 0;
}

int
svc_mon_input(struct svc_mon *mon, const char *lport, const uint8_t *frame, size_t len,
              uint64_t now_ms)
{
    size_t o = ETH_HLEN_;
    if (!lport || !frame || len < ETH_HLEN_) {
        goto malformed;
    }
    uint16_t et = rd16(frame + 12);
    if (et == 0x8100) {
        if (len < ETH_HLEN_ + 4) {
            goto malformed;
        }
        et = rd16(frame + 16);
        o += 4;
    }
    if (et != 0x0800) {
        goto malformed;
    }
    const uint8_t *ip = frame + o;
    size_t hlen, tot;
    if (!ip4_header_ok(ip, len - o, &hlen, &tot)) {
        goto malformed;
    }
    if (rd16(ip + 6) & 0x1fff) {
        goto malformed; /* A non-first fragment has no L4 header. */
    }
    int error;
    if (ip[9] == 6) {
        error = input_tcp(mon, lport, ip, ip + hlen, tot - hlen, now_ms);
    } else if (ip[9] == 1) {
        error = input_icmp(mon, lport, ip, ip + hlen, tot - hlen, now_ms);
    } else {
        error = -EINVAL;
    }
    if (error == -EINVAL) {
        goto malformed;
    }
    return error;

malformed:
    mon->st.malformed++;
    OLOG_DBG_RL(&rl, "health check reply from %s not understood", lport ? lport : "?");
    return -EINVAL;
}

/* ---- Views. -------------------------------------------------------------------- */

enum svc_mon_status
svc_mon_status(const struct svc_mon *mon, const struct uuid *uuid)
{
    const struct svc *svc = svc_find(mon, uuid);
    return svc ? svc->status : SVC_MON_UNKNOWN;
}

const char *
svc_mon_status_name(enum svc_mon_status status)
{
    switch (status) {
    case SVC_MON_ONLINE:
        return "online";
    case SVC_MON_OFFLINE:
        return "offline";
    case SVC_MON_UNKNOWN:
    default:
        return NULL;
    }
}

void
svc_mon_get_stats(const struct svc_mon *mon, struct svc_mon_stats *stats)
{
    *stats = mon->st;
}

static int
svc_cmp(const void *a_, const void *b_)
{
    const struct svc *a = *(const struct svc *const *)a_;
    const struct svc *b = *(const struct svc *const *)b_;
    int c = strcmp(a->lport, b->lport);
    return c ? c : uuid_compare(&a->uuid, &b->uuid);
}

static const char *
state_name(enum svc_state s)
{
    return s == SVC_INIT ? "init" : s == SVC_WAITING ? "waiting" : "idle";
}

json_t *
svc_mon_json(const struct svc_mon *mon, uint64_t now_ms)
{
    size_t n = hmap_count(&mon->monitors);
    const struct svc **v = calloc(n ? n : 1, sizeof *v);
    json_t *array = json_array();
    size_t i = 0;
    const struct svc *svc;

    if (!v || !array) {
        goto nomem;
    }
    HMAP_FOR_EACH (svc, node, &mon->monitors) {
        v[i++] = svc;
    }
    qsort(v, n, sizeof *v, svc_cmp);
    for (i = 0; i < n; i++) {
        char u[UUID_LEN + 1], ip[16], src[16];
        svc = v[i];
        ip4_format(svc->ip, ip);
        ip4_format(svc->src_ip, src);
        const char *st = svc_mon_status_name(svc->status);
        json_t *o = json_pack(
            "{s:s,s:s,s:s,s:s,s:i,s:s,s:o,s:s,s:I,s:I,s:i,s:i,s:i,s:i,s:I,s:I,s:I}",
            "uuid", uuid_to_string(&svc->uuid, u), "logical_port", svc->lport, "protocol",
            svc->udp ? "udp" : "tcp", "ip", ip, "port", (int)svc->port, "src_ip", src,
            "status", st ? json_string(st) : json_null(), "state", state_name(svc->state),
            "interval_ms", (json_int_t)svc->interval_ms, "timeout_ms",
            (json_int_t)svc->timeout_ms, "success_count", (int)svc->success_count,
            "failure_count", (int)svc->failure_count, "n_success", (int)svc->n_success,
            "n_failures", (int)svc->n_failures, "probes", (json_int_t)svc->probes,
            "replies", (json_int_t)svc->replies, "next_ms",
            (json_int_t)(svc->deadline > now_ms ? svc->deadline - now_ms : 0));
        if (!o || json_array_append_new(array, o)) {
            goto nomem;
        }
    }
    free(v);
    return array;

nomem:
    free(v);
    json_decref(array);
    return NULL;
}

json_t *
svc_mon_stats_json(const struct svc_mon *mon)
{
    const struct svc_mon_stats *s = &mon->st;
    return json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "monitors",
        (json_int_t)hmap_count(&mon->monitors), "invalid", (json_int_t)s->n_invalid,
        "probes", (json_int_t)s->probes, "resets", (json_int_t)s->resets, "successes",
        (json_int_t)s->successes, "failures", (json_int_t)s->failures, "timeouts",
        (json_int_t)s->timeouts, "replies", (json_int_t)s->replies, "unmatched",
        (json_int_t)s->unmatched, "malformed", (json_int_t)s->malformed, "status_changes",
        (json_int_t)s->status_changes);
}
