/* Unit tests of the load-balancer health checks (dpu/vswitch/svc_mon.h) on a fake
 * clock: probes checked byte by byte (checksums verified independently), replies
 * built as a backend's kernel would send them, verdicts, thresholds and status
 * reports. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dpu/vswitch/svc_mon.h"

#define MAX_SENT 16
#define MAX_STATUS 16

struct capture {
    size_t n_sent;
    char lport[MAX_SENT][32];
    uint8_t frame[MAX_SENT][SVC_MON_FRAME_MAX];
    size_t len[MAX_SENT];
    size_t n_status;
    struct uuid st_uuid[MAX_STATUS];
    char st[MAX_STATUS][16];
};

static void
cap_send(void *aux, const char *lport, const uint8_t *frame, size_t len)
{
    struct capture *c = aux;
    assert_true(c->n_sent < MAX_SENT);
    assert_true(len <= SVC_MON_FRAME_MAX);
    snprintf(c->lport[c->n_sent], sizeof c->lport[0], "%s", lport);
    memcpy(c->frame[c->n_sent], frame, len);
    c->len[c->n_sent++] = len;
}

static void
cap_status(void *aux, const struct uuid *uuid, const char *status)
{
    struct capture *c = aux;
    assert_true(c->n_status < MAX_STATUS);
    c->st_uuid[c->n_status] = *uuid;
    snprintf(c->st[c->n_status++], sizeof c->st[0], "%s", status);
}

static void
cap_reset(struct capture *c)
{
    memset(c, 0, sizeof *c);
}

static const uint8_t SVC_MAC[6] = {0x0e, 0xfd, 0xcb, 0x78, 0xfa, 0xc9};
static const uint8_t VM_MAC[6] = {0x0a, 0x00, 0x00, 0x00, 0x00, 0x02};
#define VM_IP 0x0a000002u  /* 10.0.0.2 */
#define SRC_IP 0x0a0000feu /* 10.0.0.254 */

static struct uuid
uuid_n(int n)
{
    struct uuid u;
    char s[64];
    snprintf(s, sizeof s, "00000000-0000-0000-0000-%012d", n);
    assert_int_equal(uuid_from_string(s, &u), 0);
    return u;
}

static struct svc_mon_spec
spec_tcp(int n)
{
    struct svc_mon_spec s = {
        .uuid = uuid_n(n),
        .logical_port = "vm2",
        .protocol = "tcp",
        .ip = "10.0.0.2",
        .port = 8080,
        .src_mac = "0e:fd:cb:78:fa:c9",
        .src_ip = "10.0.0.254",
        .dst_mac = "0a:00:00:00:00:02",
    };
    return s;
}

/* ---- Byte helpers and independent checksums. ---- */

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
    wr16(p, (uint16_t)(v >> 16));
    wr16(p + 2, (uint16_t)v);
}

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i < n; i++) {
        sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    }
    return sum;
}

static uint16_t
fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

/* The IPv4 header checksum and the L4 checksum (with pseudo-header) verify. */
static void
check_sums(const uint8_t *f, size_t len, bool l4_sum)
{
    const uint8_t *ip = f + 14;
    assert_int_equal(fold(sum16(ip, 20, 0)), 0xffff);
    if (l4_sum) {
        size_t l4_len = len - 34;
        uint8_t ph[12];
        memcpy(ph, ip + 12, 8);
        ph[8] = 0;
        ph[9] = ip[9];
        wr16(ph + 10, (uint16_t)l4_len);
        assert_int_equal(fold(sum16(f + 34, l4_len, sum16(ph, 12, 0))), 0xffff);
    }
}

/* A frame from the backend (vm2) to the monitor's source: IPv4 + 'l4'. */
static size_t
reply_frame(uint8_t *f, uint8_t proto, const uint8_t *l4, size_t l4_len)
{
    memcpy(f, SVC_MAC, 6);
    memcpy(f + 6, VM_MAC, 6);
    wr16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    wr16(ip + 2, (uint16_t)(20 + l4_len));
    ip[8] = 64;
    ip[9] = proto;
    wr32(ip + 12, VM_IP);
    wr32(ip + 16, SRC_IP);
    wr16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
    memcpy(f + 34, l4, l4_len);
    return 34 + l4_len;
}

/* A TCP segment from backend port 'sport' to 'dport' with 'flags'. */
static size_t
tcp_reply(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
          uint8_t flags)
{
    uint8_t t[20] = {0};
    wr16(t, sport);
    wr16(t + 2, dport);
    wr32(t + 4, seq);
    wr32(t + 8, ack);
    t[12] = 5 << 4;
    t[13] = flags;
    wr16(t + 14, 64240);
    return reply_frame(f, 6, t, sizeof t);
}

/* ICMP port unreachable quoting the first 'quote' bytes of the IP datagram of probe
 * frame 'probe' (from its IP header on). */
static size_t
icmp_unreach(uint8_t *f, const uint8_t *probe, size_t quote, uint8_t type, uint8_t code)
{
    uint8_t m[8 + 64] = {0};
    m[0] = type;
    m[1] = code;
    memcpy(m + 8, probe + 14, quote);
    return reply_frame(f, 1, m, 8 + quote);
}

/* ---- Setup. ---- */

struct fixture {
    struct capture cap;
    struct svc_mon *mon;
};

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    struct svc_mon_ops ops = {.send = cap_send, .status = cap_status, .aux = &fx->cap};
    assert_int_equal(svc_mon_create(&ops, 42, &fx->mon), 0);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;
    svc_mon_destroy(fx->mon);
    free(fx);
    return 0;
}

/* ---- Tests. ---- */

static void
test_create_errors(void **state)
{
    (void)state;
    struct svc_mon *mon = (struct svc_mon *)0x1;
    struct svc_mon_ops none = {0};
    assert_int_equal(svc_mon_create(NULL, 1, &mon), -EINVAL);
    assert_int_equal(svc_mon_create(&none, 1, &mon), -EINVAL);
    assert_ptr_equal(mon, (struct svc_mon *)0x1);
    svc_mon_destroy(NULL);
    assert_null(svc_mon_status_name(SVC_MON_UNKNOWN));
    assert_string_equal(svc_mon_status_name(SVC_MON_ONLINE), "online");
    assert_string_equal(svc_mon_status_name(SVC_MON_OFFLINE), "offline");
}

static void
test_invalid_specs(void **state)
{
    struct fixture *fx = *state;
    struct svc_mon_spec s[8];
    for (int i = 0; i < 8; i++) {
        s[i] = spec_tcp(i + 1);
    }
    s[0].ip = "fe80::1";     /* IPv6: not probed. */
    s[1].port = 0;           /* Bad port. */
    s[2].port = 70000;       /* Bad port. */
    s[3].protocol = "sctp";  /* Unsupported. */
    s[4].src_mac = "zz";     /* Bad MAC. */
    s[5].dst_mac = NULL;     /* No MAC for the port. */
    s[6].logical_port = "";  /* No port. */
    s[7].src_ip = "10.0.0."; /* Bad source. */
    assert_int_equal(svc_mon_set(fx->mon, s, 8, 0), 0);
    struct svc_mon_stats st;
    svc_mon_get_stats(fx->mon, &st);
    assert_int_equal(st.n_invalid, 8);
    assert_int_equal(st.n_monitors, 0);
    assert_int_equal(svc_mon_run(fx->mon, 0), UINT64_MAX);
    assert_int_equal(fx->cap.n_sent, 0);

    /* A duplicate uuid keeps the first. */
    struct svc_mon_spec d[2] = {spec_tcp(1), spec_tcp(1)};
    d[1].port = 9999;
    assert_int_equal(svc_mon_set(fx->mon, d, 2, 0), 1);
    svc_mon_run(fx->mon, 0);
    assert_int_equal(fx->cap.n_sent, 1);
    assert_int_equal(rd16(fx->cap.frame[0] + 36), 8080);
}

static void
test_tcp_syn_ack_online(void **state)
{
    struct fixture *fx = *state;
    struct svc_mon_spec s = spec_tcp(1);
    s.interval = 2;
    s.timeout = 1;
    assert_int_equal(svc_mon_set(fx->mon, &s, 1, 1000), 1);
    assert_int_equal(svc_mon_status(fx->mon, &s.uuid), SVC_MON_UNKNOWN);

    /* The first probe goes at once. */
    assert_int_equal(svc_mon_run(fx->mon, 1000), 1000);
    assert_int_equal(fx->cap.n_sent, 1);
    const uint8_t *f = fx->cap.frame[0];
    assert_string_equal(fx->cap.lport[0], "vm2");
    assert_int_equal(fx->cap.len[0], 54);
    assert_memory_equal(f, VM_MAC, 6);
    assert_memory_equal(f + 6, SVC_MAC, 6);
    assert_int_equal(rd16(f + 12), 0x0800);
    assert_int_equal(f[14], 0x45);
    assert_int_equal(rd16(f + 16), 40);
    assert_int_equal(f[22], 63);
    assert_int_equal(f[23], 6);
    assert_int_equal(rd32(f + 26), SRC_IP);
    assert_int_equal(rd32(f + 30), VM_IP);
    uint16_t sport = rd16(f + 34);
    assert_true(sport >= 1024);
    assert_int_equal(rd16(f + 36), 8080);
    uint32_t seq = rd32(f + 38);
    assert_int_equal(rd32(f + 42), 0);
    assert_int_equal(f[46], 0x50);
    assert_int_equal(f[47], 0x02); /* SYN */
    check_sums(f, fx->cap.len[0], true);

    /* Nothing more until the reply or the timeout. */
    assert_int_equal(svc_mon_run(fx->mon, 1500), 500);
    assert_int_equal(fx->cap.n_sent, 1);

    /* SYN+ACK: online, and the connection is reset. */
    uint8_t r[128];
    size_t rl = tcp_reply(r, 8080, sport, 777000, seq + 1, 0x12);
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 1600), 0);
    assert_int_equal(svc_mon_status(fx->mon, &s.uuid), SVC_MON_ONLINE);
    assert_int_equal(fx->cap.n_status, 1);
    assert_string_equal(fx->cap.st[0], "online");
    assert_true(uuid_equals(&fx->cap.st_uuid[0], &s.uuid));
    assert_int_equal(fx->cap.n_sent, 2);
    const uint8_t *rst = fx->cap.frame[1];
    assert_int_equal(rd16(rst + 34), sport);
    assert_int_equal(rd16(rst + 36), 8080);
    assert_int_equal(rd32(rst + 38), seq + 1);
    assert_int_equal(rd32(rst + 42), 777001);
    assert_int_equal(rst[47], 0x14); /* RST+ACK */
    check_sums(rst, fx->cap.len[1], true);

    /* The same reply again (a retransmission) no longer matches. */
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 1700), -ENOENT);

    /* Next probe at 1600 + interval, from a new port; no status report while the
     * status holds. */
    assert_int_equal(svc_mon_run(fx->mon, 3599), 1);
    assert_int_equal(fx->cap.n_sent, 2);
    svc_mon_run(fx->mon, 3600);
    assert_int_equal(fx->cap.n_sent, 3);
    uint16_t sport2 = rd16(fx->cap.frame[2] + 34);
    uint32_t seq2 = rd32(fx->cap.frame[2] + 38);
    assert_true(sport2 != sport || seq2 != seq);
    rl = tcp_reply(r, 8080, sport2, 5, seq2 + 1, 0x12);
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 3610), 0);
    assert_int_equal(fx->cap.n_status, 1);

    struct svc_mon_stats st;
    svc_mon_get_stats(fx->mon, &st);
    assert_int_equal(st.probes, 2);
    assert_int_equal(st.resets, 2);
    assert_int_equal(st.successes, 2);
    assert_int_equal(st.replies, 2);
    assert_int_equal(st.unmatched, 1);
}

static void
test_tcp_rst_and_thresholds(void **state)
{
    struct fixture *fx = *state;
    struct svc_mon_spec s = spec_tcp(1);
    s.interval = 1;
    s.success_count = 2;
    s.failure_count = 2;
    assert_int_equal(svc_mon_set(fx->mon, &s, 1, 0), 1);
    uint64_t now = 0;
    uint8_t r[128];
    size_t rl;

    /* Two successes to go online. */
    for (int i = 0; i < 2; i++) {
        svc_mon_run(fx->mon, now);
        const uint8_t *p = fx->cap.frame[fx->cap.n_sent - 1];
        rl = tcp_reply(r, 8080, rd16(p + 34), 1, rd32(p + 38) + 1, 0x12);
        assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, now + 10), 0);
        assert_int_equal(svc_mon_status(fx->mon, &s.uuid),
                         i == 0 ? SVC_MON_UNKNOWN : SVC_MON_ONLINE);
        now += 1010;
    }
    /* One RST is not enough; a success in between starts the count again. */
    svc_mon_run(fx->mon, now);
    const uint8_t *p = fx->cap.frame[fx->cap.n_sent - 1];
    rl = tcp_reply(r, 8080, rd16(p + 34), 0, rd32(p + 38) + 1, 0x14);
    size_t sent = fx->cap.n_sent;
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, now + 10), 0);
    assert_int_equal(fx->cap.n_sent, sent); /* Nothing answers a RST. */
    assert_int_equal(svc_mon_status(fx->mon, &s.uuid), SVC_MON_ONLINE);
    now += 1010;
    svc_mon_run(fx->mon, now);
    p = fx->cap.frame[fx->cap.n_sent - 1];
    rl = tcp_reply(r, 8080, rd16(p + 34), 1, rd32(p + 38) + 1, 0x12);
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, now + 10), 0);
    for (int i = 0; i < 2; i++) {
        now += 1010;
        svc_mon_run(fx->mon, now);
        p = fx->cap.frame[fx->cap.n_sent - 1];
        rl = tcp_reply(r, 8080, rd16(p + 34), 0, rd32(p + 38) + 1, 0x14);
        assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, now + 10), 0);
        assert_int_equal(svc_mon_status(fx->mon, &s.uuid),
                         i == 0 ? SVC_MON_ONLINE : SVC_MON_OFFLINE);
    }
    assert_int_equal(fx->cap.n_status, 2);
    assert_string_equal(fx->cap.st[1], "offline");
}

static void
test_tcp_timeout(void **state)
{
    struct fixture *fx = *state;
    struct svc_mon_spec s = spec_tcp(1);
    assert_int_equal(svc_mon_set(fx->mon, &s, 1, 0), 1);
    assert_int_equal(svc_mon_run(fx->mon, 0), SVC_MON_DEFAULT_TIMEOUT_MS);
    assert_int_equal(svc_mon_run(fx->mon, 2999), 1);
    assert_int_equal(svc_mon_status(fx->mon, &s.uuid), SVC_MON_UNKNOWN);
    /* No answer in 3 s: offline; the next probe after the interval. */
    assert_int_equal(svc_mon_run(fx->mon, 3000), SVC_MON_DEFAULT_INTERVAL_MS);
    assert_int_equal(svc_mon_status(fx->mon, &s.uuid), SVC_MON_OFFLINE);
    assert_int_equal(fx->cap.n_sent, 1);
    /* A reply to the timed-out probe is late. */
    const uint8_t *p = fx->cap.frame[0];
    uint8_t r[128];
    size_t rl = tcp_reply(r, 8080, rd16(p + 34), 1, rd32(p + 38) + 1, 0x12);
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 3100), -ENOENT);
    svc_mon_run(fx->mon, 8000);
    assert_int_equal(fx->cap.n_sent, 2);
    struct svc_mon_stats st;
    svc_mon_get_stats(fx->mon, &st);
    assert_int_equal(st.timeouts, 1);
    assert_int_equal(st.failures, 1);
}

static void
test_tcp_unmatched(void **state)
{
    struct fixture *fx = *state;
    struct svc_mon_spec s = spec_tcp(1);
    assert_int_equal(svc_mon_set(fx->mon, &s, 1, 0), 1);
    svc_mon_run(fx->mon, 0);
    const uint8_t *p = fx->cap.frame[0];
    uint16_t sport = rd16(p + 34);
    uint32_t seq = rd32(p + 38);
    uint8_t r[128];
    size_t rl;

    rl = tcp_reply(r, 8080, sport, 1, seq + 2, 0x12); /* Wrong ack. */
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 1), -ENOENT);
    rl = tcp_reply(r, 8081, sport, 1, seq + 1, 0x12); /* Wrong service port. */
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 1), -ENOENT);
    rl = tcp_reply(r, 8080, (uint16_t)(sport + 1), 1, seq + 1, 0x12); /* Wrong port. */
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 1), -ENOENT);
    rl = tcp_reply(r, 8080, sport, 1, seq + 1, 0x12);
    assert_int_equal(svc_mon_input(fx->mon, "vm3", r, rl, 1), -ENOENT); /* Other port. */
    rl = tcp_reply(r, 8080, sport, 1, seq + 1, 0x10);                   /* A bare ACK. */
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 1), -ENOENT);
    assert_int_equal(svc_mon_status(fx->mon, &s.uuid), SVC_MON_UNKNOWN);

    /* Malformed frames. */
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, 10, 1), -EINVAL);
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, 40, 1), -EINVAL); /* Short TCP. */
    uint8_t bad[128];
    memcpy(bad, r, rl);
    bad[14] = 0x44; /* IHL 4. */
    assert_int_equal(svc_mon_input(fx->mon, "vm2", bad, rl, 1), -EINVAL);
    memcpy(bad, r, rl);
    bad[23] = 17; /* UDP: never a reply. */
    assert_int_equal(svc_mon_input(fx->mon, "vm2", bad, rl, 1), -EINVAL);
    memcpy(bad, r, rl);
    wr16(bad + 12, 0x86dd);
    assert_int_equal(svc_mon_input(fx->mon, "vm2", bad, rl, 1), -EINVAL);
    assert_int_equal(svc_mon_input(fx->mon, NULL, r, rl, 1), -EINVAL);

    /* The real answer still counts. */
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 1), -ENOENT); /* (bare ACK) */
    rl = tcp_reply(r, 8080, sport, 1, seq + 1, 0x12);
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 2), 0);
    struct svc_mon_stats st;
    svc_mon_get_stats(fx->mon, &st);
    assert_int_equal(st.malformed, 6);
    assert_int_equal(st.unmatched, 6);
    assert_int_equal(st.replies, 1);
}

static void
test_udp(void **state)
{
    struct fixture *fx = *state;
    struct svc_mon_spec s = spec_tcp(7);
    s.protocol = "udp";
    s.port = 53;
    assert_int_equal(svc_mon_set(fx->mon, &s, 1, 0), 1);
    svc_mon_run(fx->mon, 0);
    assert_int_equal(fx->cap.n_sent, 1);
    const uint8_t *f = fx->cap.frame[0];
    assert_int_equal(fx->cap.len[0], 50);
    assert_int_equal(f[23], 17);
    assert_int_equal(rd16(f + 16), 36);
    uint16_t sport = rd16(f + 34);
    assert_true(sport >= 1024);
    assert_int_equal(rd16(f + 36), 53);
    assert_int_equal(rd16(f + 38), 16);
    assert_int_equal(rd16(f + 40), 0);
    check_sums(f, fx->cap.len[0], false);

    /* Silence is success for UDP. */
    svc_mon_run(fx->mon, 3000);
    assert_int_equal(svc_mon_status(fx->mon, &s.uuid), SVC_MON_ONLINE);
    assert_int_equal(fx->cap.n_status, 1);

    /* Next probe from the same port; a port unreachable quoting it: offline. */
    svc_mon_run(fx->mon, 8000);
    assert_int_equal(fx->cap.n_sent, 2);
    const uint8_t *p = fx->cap.frame[1];
    assert_int_equal(rd16(p + 34), sport);
    uint8_t r[128];
    size_t rl = icmp_unreach(r, p, 28, 3, 1); /* Host unreachable: not ours. */
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 8001), -ENOENT);
    rl = icmp_unreach(r, p, 10, 3, 3); /* Truncated quote. */
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 8001), -EINVAL);
    uint8_t q[64];
    memcpy(q, p, 50);
    wr16(q + 34, (uint16_t)(sport + 1)); /* Another socket's datagram. */
    rl = icmp_unreach(r, q, 36, 3, 3);
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 8001), -ENOENT);
    rl = icmp_unreach(r, p, 36, 3, 3);
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 8002), 0);
    assert_int_equal(svc_mon_status(fx->mon, &s.uuid), SVC_MON_OFFLINE);
    assert_int_equal(fx->cap.n_status, 2);
    assert_string_equal(fx->cap.st[1], "offline");
    /* Linux quotes only the IP and UDP headers (28 bytes): enough too. */
    svc_mon_run(fx->mon, 13002);
    rl = icmp_unreach(r, fx->cap.frame[2], 28, 3, 3);
    assert_int_equal(svc_mon_input(fx->mon, "vm2", r, rl, 13003), 0);
}

static void
test_set_changes(void **state)
{
    struct fixture *fx = *state;
    struct svc_mon_spec s[2] = {spec_tcp(1), spec_tcp(2)};
    s[1].logical_port = "vm3";
    s[1].ip = "10.0.0.3";
    assert_int_equal(svc_mon_set(fx->mon, s, 2, 0), 2);
    svc_mon_run(fx->mon, 0);
    assert_int_equal(fx->cap.n_sent, 2);
    svc_mon_run(fx->mon, 3000); /* Both time out: offline. */
    assert_int_equal(svc_mon_status(fx->mon, &s[0].uuid), SVC_MON_OFFLINE);
    assert_int_equal(svc_mon_status(fx->mon, &s[1].uuid), SVC_MON_OFFLINE);

    /* New options keep the state; a new target starts over; a gone row stops. */
    s[0].interval = 60;
    assert_int_equal(svc_mon_set(fx->mon, s, 1, 3000), 1);
    assert_int_equal(svc_mon_status(fx->mon, &s[0].uuid), SVC_MON_OFFLINE);
    assert_int_equal(svc_mon_status(fx->mon, &s[1].uuid), SVC_MON_UNKNOWN);
    s[0].port = 8081;
    assert_int_equal(svc_mon_set(fx->mon, s, 1, 3000), 1);
    assert_int_equal(svc_mon_status(fx->mon, &s[0].uuid), SVC_MON_UNKNOWN);
    cap_reset(&fx->cap);
    assert_int_equal(svc_mon_run(fx->mon, 3000), 3000);
    assert_int_equal(fx->cap.n_sent, 1);
    assert_int_equal(rd16(fx->cap.frame[0] + 36), 8081);

    json_t *j = svc_mon_json(fx->mon, 3000);
    assert_non_null(j);
    assert_int_equal(json_array_size(j), 1);
    json_t *o = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(o, "logical_port")), "vm2");
    assert_string_equal(json_string_value(json_object_get(o, "state")), "waiting");
    assert_true(json_is_null(json_object_get(o, "status")));
    assert_int_equal(json_integer_value(json_object_get(o, "interval_ms")), 60000);
    assert_int_equal(json_integer_value(json_object_get(o, "port")), 8081);
    json_decref(j);
    j = svc_mon_stats_json(fx->mon);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "monitors")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "probes")), 3);
    json_decref(j);

    assert_int_equal(svc_mon_set(fx->mon, NULL, 0, 3000), 0);
    assert_int_equal(svc_mon_run(fx->mon, 3000), UINT64_MAX);
}

static void
test_deterministic(void **state)
{
    (void)state;
    /* The same seed gives the same probes. */
    struct capture c1, c2;
    cap_reset(&c1);
    cap_reset(&c2);
    struct svc_mon_ops o1 = {.send = cap_send, .aux = &c1};
    struct svc_mon_ops o2 = {.send = cap_send, .aux = &c2};
    struct svc_mon *m1, *m2;
    assert_int_equal(svc_mon_create(&o1, 7, &m1), 0);
    assert_int_equal(svc_mon_create(&o2, 7, &m2), 0);
    struct svc_mon_spec s = spec_tcp(1);
    svc_mon_set(m1, &s, 1, 0);
    svc_mon_set(m2, &s, 1, 0);
    svc_mon_run(m1, 0);
    svc_mon_run(m2, 0);
    assert_int_equal(c1.n_sent, 1);
    assert_memory_equal(c1.frame[0], c2.frame[0], c1.len[0]);
    svc_mon_destroy(m1);
    svc_mon_destroy(m2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test_setup_teardown(test_invalid_specs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_syn_ack_online, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_rst_and_thresholds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_unmatched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_changes, setup, teardown),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
