/* libFuzzer target: the connection tracker on arbitrary frames.
 *
 * Input: two frames, each with the conntrack operations run on it:
 *
 *     N_A, N_A x (TYPE, ZONE, ARG), LEN_A (2 bytes, big-endian), FRAME_A,
 *     N_B, N_B x (TYPE, ZONE, ARG), FRAME_B (the rest)
 *
 * Each frame is parsed with packet_parse(); when it parses, its operations run on its
 * key with the bytes given (conntrack_set_packet()), and an ICMP error's quoted
 * header is rewritten (conntrack_rewrite_related()).  FRAME_B is typically a reply to
 * FRAME_A, or an ICMP error quoting it.  ARG picks NAT addresses and port ranges,
 * load-balancer backends and hash fields, mark and label writes.  The tracker is
 * small (4 connections) so that the full table is reached; the clock moves between
 * the frames.  Every result must be consistent: ct_state has trk, NAT never changes
 * what it must not, the dump and statistics agree. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/pipeline/packet.h"
#include "dpu/vswitch/conntrack.h"

static uint64_t fuzz_now;

static uint64_t
fuzz_clock(void)
{
    return fuzz_now;
}

static struct action_backend backends4[] = {
    {.ip = 0x0a000101, .port = 8080},
    {.ip = 0x0a000102, .port = 0},
};
static struct action_backend backends6[] = {
    {.ipv6 = true, .ip = ((lex_u128)0xfd00 << 112) | 0x101, .port = 80},
};
static char hash_ip_src[] = "ip_src";
static char hash_mixed[] = "ip_dst,tp_dst,bogus";

static void
fill_op(struct ct_op *op, uint8_t type, uint8_t zone, uint8_t arg, struct action_lb *lb)
{
    memset(op, 0, sizeof *op);
    op->type = (enum ct_op_type)(type % (CT_OP_SNAT_TO_VIP + 1));
    op->zone = zone % 4;
    op->backend = -1;
    op->recirc = op->type != CT_OP_COMMIT && op->type != CT_OP_CLEAR &&
                 op->type != CT_OP_SNAT_TO_VIP;
    switch (op->type) {
    case CT_OP_COMMIT:
        op->commit = true;
        op->mark_value = arg;
        op->mark_mask = arg & 0x0f;
        op->label_value = (lex_u128)arg << 64;
        op->label_mask = (lex_u128)(arg & 0xf0) << 64;
        break;
    case CT_OP_DNAT:
    case CT_OP_SNAT:
        if (arg & 1) {
            op->has_nat_ip = true;
            op->commit = true;
            op->nat_ipv6 = arg & 2;
            op->nat_ip = op->nat_ipv6 ? ((lex_u128)0xfd00 << 112) | (arg >> 4)
                                      : 0xc0000200u | (arg >> 4);
            if (arg & 4) {
                op->nat_port_lo = 5000;
                op->nat_port_hi = (uint16_t)(5000 + (arg >> 6));
            }
        }
        break;
    case CT_OP_LB:
        op->commit = true;
        memset(lb, 0, sizeof *lb);
        if (arg & 1) {
            lb->has_backends = true;
            if (arg & 2) {
                lb->backends = backends6;
                lb->n_backends = 1;
            } else {
                lb->backends = backends4;
                lb->n_backends = 2;
            }
            lb->hash_fields = arg & 4 ? hash_ip_src : arg & 8 ? hash_mixed : NULL;
            lb->ct_flag = (enum action_ct_flag)((arg >> 4) % 3);
        }
        op->lb = lb;
        op->lb_mark = arg & 0x80;
        break;
    case CT_OP_COMMIT_NAT:
    case CT_OP_SNAT_TO_VIP:
        op->commit = true;
        break;
    case CT_OP_NEXT:
    case CT_OP_CLEAR:
        break;
    }
}

static bool
addr_equal(const struct pkey *a, const struct pkey *b)
{
    return a->f.ip4_src == b->f.ip4_src && a->f.ip4_dst == b->f.ip4_dst &&
           !memcmp(a->f.ip6_src, b->f.ip6_src, 16) &&
           !memcmp(a->f.ip6_dst, b->f.ip6_dst, 16) && a->f.tcp_src == b->f.tcp_src &&
           a->f.tcp_dst == b->f.tcp_dst && a->f.udp_src == b->f.udp_src &&
           a->f.udp_dst == b->f.udp_dst && a->f.sctp_src == b->f.sctp_src &&
           a->f.sctp_dst == b->f.sctp_dst;
}

/* Runs the operations at 'ops' (n x 3 bytes) on 'frame'. */
static void
run_frame(struct conntrack *ct, const uint8_t *ops, size_t n_ops, const uint8_t *frame,
          size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    struct pkey key;
    struct packet_layout lo;

    if (!copy) {
        return;
    }
    if (len) {
        memcpy(copy, frame, len);
    }
    if (packet_parse(copy, len, 0, &key, &lo, NULL, NULL)) {
        free(copy);
        return;
    }
    conntrack_set_packet(ct, copy, len, &lo);
    for (size_t i = 0; i < n_ops; i++) {
        struct action_lb lb;
        struct ct_op op;
        struct pkey before = key;

        fill_op(&op, ops[3 * i], ops[3 * i + 1], ops[3 * i + 2], &lb);
        int error = conntrack_class.execute(ct, &op, &key);
        if (error) {
            if (!addr_equal(&before, &key)) {
                abort(); /* A refused operation changed the packet. */
            }
            continue;
        }
        uint32_t st = op.state_out;
        if (op.type == CT_OP_CLEAR) {
            if (st || key.f.ct_state || key.f.ct_mark || key.f.ct_zone) {
                abort();
            }
            continue;
        }
        if (!(st & CT_STATE_TRK)) {
            abort();
        }
        if ((st & CT_STATE_INV) &&
            (!addr_equal(&before, &key) || (st & ~(CT_STATE_TRK | CT_STATE_INV)))) {
            abort(); /* Invalid packets are neither NATed nor anything else. */
        }
        if (!(st & (CT_STATE_SNAT | CT_STATE_DNAT)) && !addr_equal(&before, &key)) {
            abort(); /* Rewritten without saying so. */
        }
        if (op.type == CT_OP_NEXT && !addr_equal(&before, &key)) {
            abort(); /* ct_next never NATs. */
        }
        if (op.recirc &&
            (ntohl(key.f.ct_state) != st || ntohs(key.f.ct_zone) != op.zone)) {
            abort();
        }
        if (op.backend >= 0 && (!op.lb || (size_t)op.backend >= op.lb->n_backends)) {
            abort();
        }
        if (key.f.pad0[0] | key.f.pad0[1] | key.f.pad2 | key.f.pad3[0] | key.f.pad3[1]) {
            abort();
        }
    }
    if (conntrack_rewrite_related(ct, copy, len) < 0) {
        abort();
    }
    conntrack_set_packet(ct, NULL, 0, NULL);
    free(copy);
}

static void
check_consistent(const struct conntrack *ct)
{
    struct conntrack_stats s;
    conntrack_get_stats(ct, &s);
    if (s.n_conns > 4 || s.n_conns + s.n_expired > s.n_created ||
        s.n_invalid > s.n_lookups) {
        /* n_conns + n_expired can be less than n_created (reopened and flushed
         * connections), never more. */
        abort();
    }
    json_t *d = conntrack_dump_json(ct, -1, 0);
    if (!d || json_array_size(d) != s.n_conns) {
        abort();
    }
    json_decref(d);
    json_t *j = conntrack_stats_json(ct);
    if (!j) {
        abort();
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conntrack_config cfg = {.max_conns = 4, .now_ms = fuzz_clock};
    struct conntrack *ct;
    size_t pos = 0;

    if (size < 1) {
        return 0;
    }
    fuzz_now = 1000000;
    if (conntrack_create(&cfg, &ct)) {
        return 0;
    }

    size_t n_a = data[pos++] % 5;
    if (size - pos < 3 * n_a + 2) {
        goto out;
    }
    const uint8_t *ops_a = data + pos;
    pos += 3 * n_a;
    size_t len_a = (size_t)data[pos] << 8 | data[pos + 1];
    pos += 2;
    if (len_a > size - pos) {
        len_a = size - pos;
    }
    run_frame(ct, ops_a, n_a, data + pos, len_a);
    pos += len_a;
    check_consistent(ct);

    fuzz_now += 500;
    if (pos < size) {
        size_t n_b = data[pos++] % 5;
        if (size - pos >= 3 * n_b) {
            const uint8_t *ops_b = data + pos;
            pos += 3 * n_b;
            run_frame(ct, ops_b, n_b, data + pos, size - pos);
            check_consistent(ct);
        }
    }

    fuzz_now += 40000;
    conntrack_sweep(ct, 1);
    conntrack_flush(ct, 1);
    conntrack_sweep(ct, 0);
    check_consistent(ct);

out:
    conntrack_destroy(ct);
    return 0;
}
