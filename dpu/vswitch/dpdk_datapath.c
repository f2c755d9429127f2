/* ovnic: the datapath lcore of the DPDK vswitch (see vswitch.h, dpdk_datapath.h). */
#include "dpu/vswitch/dpdk_datapath.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dpu/pipeline/ct.h"
#include "dpu/pipeline/ctrl.h"
#include "dpu/vswitch/conntrack.h"
#include "dpu/vswitch/flowcache.h"
#include "dpu/vswitch/neigh.h"
#include "dpu/vswitch/tunnel.h"
#include "shared/util/hash.h"
#include "shared/util/hmap.h"
#include "shared/util/log.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(vswitch_dp);

#define VS_LIKELY(X) __builtin_expect(!!(X), 1)
#define VS_UNLIKELY(X) __builtin_expect(!!(X), 0)

#define VS_SET(CTR, V) __atomic_store_n(&(CTR), (V), __ATOMIC_RELAXED)

#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_IPV6 0x86dd
#define ETH_TYPE_VLAN 0x8100
#define IPPROTO_ICMPV6_ 58
#define ND_NS 135
#define ND_NA 136

#define VS_SWEEP_MS 100
#define VS_MAX_FRAGS 16
#define VS_FRAG_BUF (VS_MAX_FRAGS * 2048)
#define VS_NEIGH_BUF 256

/* ---- Conntrack as the pipeline sees it. ---------------------------------------- */

static int
vs_ct_execute(void *ct_, struct ct_op *op, struct pkey *key)
{
    struct vs_ct *ct = ct_;
    if (ct->trace) {
        return ct_det_class.execute(ct->det, op, key);
    }
    return conntrack_class.execute(ct->ct, op, key);
}

const struct ct_class vs_ct_class = {
    .name = "vswitch",
    .execute = vs_ct_execute,
};

/* ---- Drop reasons. ------------------------------------------------------------- */

static const char *const static_reasons[] = {
    [VS_DROP_NO_PIPELINE - PACKET_N_DROP_REASONS] = "no pipeline",
    [VS_DROP_NOT_FOR_US - PACKET_N_DROP_REASONS] = "uplink frame not for this chassis",
    [VS_DROP_CTRL_RATE - PACKET_N_DROP_REASONS] = "ctrl rate limit",
    [VS_DROP_NEIGH - PACKET_N_DROP_REASONS] = "neighbour unresolved",
    [VS_DROP_TX_FULL - PACKET_N_DROP_REASONS] = "tx full",
    [VS_DROP_TOO_BIG - PACKET_N_DROP_REASONS] = "too big",
    [VS_DROP_NO_PORT - PACKET_N_DROP_REASONS] = "no representor for port",
    [VS_DROP_NO_MBUF - PACKET_N_DROP_REASONS] = "no mbuf",
    [VS_DROP_ENCAP - PACKET_N_DROP_REASONS] = "encapsulation failed",
    [VS_DROP_REWRITE - PACKET_N_DROP_REASONS] = "header rewrite failed",
    [VS_DROP_INPUT - PACKET_N_DROP_REASONS] = "input refused by the pipeline",
    [VS_DROP_NOMEM - PACKET_N_DROP_REASONS] = "out of memory",
    [VS_DROP_PORT_DOWN - PACKET_N_DROP_REASONS] = "port down",
    [VS_DROP_OTHER - PACKET_N_DROP_REASONS] = "other",
};
_Static_assert(ARRAY_SIZE(static_reasons) ==
                   VS_DROP_FIRST_DYNAMIC - PACKET_N_DROP_REASONS,
               "drop reason names");

void
vs_drops_init(struct vs_drops *drops)
{
    memset(drops, 0, sizeof *drops);
    for (int i = 0; i < PACKET_N_DROP_REASONS; i++) {
        snprintf(drops->names[i], VS_DROP_NAME_LEN, "%s",
                 i == PACKET_DROP_NONE ? "unparsed" : packet_drop_reason_name(i));
    }
    for (size_t i = 0; i < ARRAY_SIZE(static_reasons); i++) {
        snprintf(drops->names[PACKET_N_DROP_REASONS + i], VS_DROP_NAME_LEN, "%s",
                 static_reasons[i]);
    }
    drops->n = VS_DROP_FIRST_DYNAMIC;
}

/* The counter key of a pipeline drop reason: the text before the first quoted name
 * or parenthesis, without a trailing number (except for "no flow matched in ... table
 * N", whose table numbers are bounded), so that the set of keys stays small. */
static void
drop_reason_key(const char *reason, char key[VS_DROP_NAME_LEN])
{
    size_t n = strcspn(reason, "\"(");
    if (n >= VS_DROP_NAME_LEN) {
        n = VS_DROP_NAME_LEN - 1;
    }
    memcpy(key, reason, n);
    key[n] = '\0';
    bool keep_digits = !strncmp(key, "no flow matched", 15);
    while (n && (key[n - 1] == ' ' || key[n - 1] == ':' || key[n - 1] == ',' ||
                 (!keep_digits && key[n - 1] >= '0' && key[n - 1] <= '9'))) {
        key[--n] = '\0';
    }
    if (!n) {
        snprintf(key, VS_DROP_NAME_LEN, "%s", "pipeline drop");
    }
}

/* Index of the counter of pipeline drop 'reason', registering it if new.  Lcore
 * only. */
static size_t
drop_reason_index(struct vswitch *vs, const char *reason)
{
    char key[VS_DROP_NAME_LEN];
    drop_reason_key(reason ? reason : "", key);
    size_t n = vs->drops.n;
    for (size_t i = PACKET_N_DROP_REASONS; i < n; i++) {
        if (!strcmp(vs->drops.names[i], key)) {
            return i;
        }
    }
    if (n >= VS_MAX_DROP_REASONS) {
        return VS_DROP_OTHER;
    }
    memcpy(vs->drops.names[n], key, VS_DROP_NAME_LEN);
    __atomic_store_n(&vs->drops.n, n + 1, __ATOMIC_RELEASE);
    return n;
}

/* ---- The lcore's context. ------------------------------------------------------ */

struct dp {
    struct vswitch *vs;
    const struct vs_ports *ports;
    struct vs_pipe *pipe;
    uint64_t now_tsc;
    uint64_t now_ms;
    uint8_t neigh_buf[VS_NEIGH_BUF];
    uint8_t *frag_buf; /* VS_FRAG_BUF bytes. */

    /* The exact-match flow cache in front of everything (see "The fast path"). */
    struct flowcache *fc; /* NULL if it could not be allocated. */
    struct hmap progs;    /* struct fc_prog, by megaflow. */
    uint64_t fc_mf_epoch; /* The megaflow cache's epoch the entries were made at. */
    uint64_t fc_hits;
};

static void
drop_mbuf(struct dp *d, struct vs_port *in, struct rte_mbuf *m, size_t reason)
{
    VS_INC(d->vs->drops.counts[reason]);
    if (in) {
        VS_INC(in->st.rx_dropped);
    }
    rte_pktmbuf_free(m);
}

static struct vs_port *
port_by_lport(const struct vs_ports *ports, const char *lport)
{
    uint32_t h = hash_string(lport, 0);
    for (size_t i = 0; i < ports->n; i++) {
        struct vs_port *p = ports->ports[i];
        if (p->lport && p->lport_hash == h && !strcmp(p->lport, lport)) {
            return p;
        }
    }
    return NULL;
}

static void
tx_flush(struct dp *d, struct vs_port *p)
{
    uint16_t n = p->n_tx;
    if (!n) {
        return;
    }
    if (VS_UNLIKELY(!p->dp_live)) {
        /* Its device is down or being restarted (see struct vs_port). */
        rte_pktmbuf_free_bulk(p->txq, n);
        VS_ADD(p->st.tx_dropped, n);
        VS_ADD(d->vs->drops.counts[VS_DROP_PORT_DOWN], n);
        p->n_tx = 0;
        return;
    }
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < n; i++) {
        bytes += rte_pktmbuf_pkt_len(p->txq[i]);
    }
    uint16_t sent = rte_eth_tx_burst(p->port_id, 0, p->txq, n);
    if (sent < n) {
        sent += rte_eth_tx_burst(p->port_id, 0, p->txq + sent, n - sent);
    }
    for (uint16_t i = sent; i < n; i++) {
        bytes -= rte_pktmbuf_pkt_len(p->txq[i]);
        rte_pktmbuf_free(p->txq[i]);
    }
    if (sent < n) {
        VS_ADD(p->st.tx_dropped, n - sent);
        VS_ADD(d->vs->drops.counts[VS_DROP_TX_FULL], n - sent);
    }
    VS_ADD(p->st.tx_packets, sent);
    VS_ADD(p->st.tx_bytes, bytes);
    VS_ADD(d->vs->st.tx, sent);
    p->n_tx = 0;
}

static void
tx_enqueue(struct dp *d, struct vs_port *p, struct rte_mbuf *m)
{
    if (p->n_tx == VS_BURST) {
        tx_flush(d, p);
    }
    p->txq[p->n_tx++] = m;
}

/* A new mbuf holding [data, data + len), or NULL. */
static struct rte_mbuf *
mbuf_from_bytes(struct dp *d, const uint8_t *data, size_t len, size_t *reason)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(d->vs->pool);
    if (!m) {
        *reason = VS_DROP_NO_MBUF;
        return NULL;
    }
    char *p = len <= UINT16_MAX ? rte_pktmbuf_append(m, (uint16_t)len) : NULL;
    if (!p) {
        rte_pktmbuf_free(m);
        *reason = VS_DROP_TOO_BIG;
        return NULL;
    }
    memcpy(p, data, len);
    return m;
}

/* Sends [data, data + len) on the uplink (ARP/ND the vswitch itself produces). */
static void
send_on_uplink(struct dp *d, const uint8_t *data, size_t len)
{
    struct vs_port *up = d->ports->uplink;
    size_t reason;
    if (!up) {
        return;
    }
    struct rte_mbuf *m = mbuf_from_bytes(d, data, len, &reason);
    if (!m) {
        VS_INC(d->vs->drops.counts[reason]);
        return;
    }
    VS_INC(d->vs->st.neigh_tx);
    tx_enqueue(d, up, m);
}

/* ---- Outputs. ------------------------------------------------------------------ */

/* Where one copy of a packet goes. */
struct vs_out {
    enum megaflow_output_type type;
    const char *port; /* Logical port (LOCAL). */
    uint32_t tun_id;  /* TUNNEL. */
    uint16_t tun_inport;
    uint16_t tun_outport;
    const char *remote_ip;
    int vlan; /* LOCALNET: -1 untagged. */
};

static int
vlan_push(struct rte_mbuf *m, int vlan)
{
    if (rte_pktmbuf_data_len(m) < 14) {
        return -EINVAL;
    }
    uint8_t *p = (uint8_t *)rte_pktmbuf_prepend(m, 4);
    if (!p) {
        return -ENOSPC;
    }
    memmove(p, p + 4, 12);
    p[12] = ETH_TYPE_VLAN >> 8;
    p[13] = ETH_TYPE_VLAN & 0xff;
    p[14] = (uint8_t)((vlan >> 8) & 0x0f);
    p[15] = (uint8_t)(vlan & 0xff);
    return 0;
}

static int
vlan_pop(struct rte_mbuf *m)
{
    uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
    if (rte_pktmbuf_data_len(m) < 18 || p[12] != (ETH_TYPE_VLAN >> 8) ||
        p[13] != (ETH_TYPE_VLAN & 0xff)) {
        return -EINVAL;
    }
    memmove(p + 4, p, 12);
    rte_pktmbuf_adj(m, 4);
    return 0;
}

/* Hash of the inner flow for the outer UDP source port. */
static uint32_t
inner_flow_hash(const uint8_t *pkt, size_t len)
{
    /* Addresses and ports sit within the first 54 bytes of untagged IPv4 and IPv6
     * frames; the Ethernet header alone when nothing else is there. */
    size_t n = len < 54 ? len : 54;
    return hash_bytes(pkt, n, 0x6081);
}

static void output_tunnel(struct dp *d, struct vs_port *in, struct rte_mbuf *m,
                          const struct vs_out *o);

/* The inner frame 'm' does not fit the underlay once encapsulated. */
static void
too_big(struct dp *d, struct vs_port *in, struct rte_mbuf *m, const struct vs_out *o,
        bool outer_ipv6)
{
    struct vswitch *vs = d->vs;
    const uint8_t *pkt = rte_pktmbuf_mtod(m, const uint8_t *);
    size_t len = rte_pktmbuf_data_len(m);
    unsigned int mtu = vs->cfg.underlay_mtu;
    size_t overhead = (outer_ipv6 ? TUNNEL_HDR_LEN_IP6 : TUNNEL_HDR_LEN_IP4) - 14;
    bool ipv4 = len >= 34 && pkt[12] == (ETH_TYPE_IPV4 >> 8) && pkt[13] == 0x00;

    if (ipv4 && !(pkt[20] & 0x40) && mtu > overhead + 14 + 28) {
        size_t lens[VS_MAX_FRAGS];
        int n = tunnel_ip4_fragment(pkt, len, (unsigned int)(mtu - overhead - 14),
                                    d->frag_buf, VS_FRAG_BUF, lens, VS_MAX_FRAGS);
        if (n > 0) {
            size_t ofs = 0;
            for (int i = 0; i < n; i++) {
                size_t reason;
                struct rte_mbuf *f =
                    mbuf_from_bytes(d, d->frag_buf + ofs, lens[i], &reason);
                ofs += lens[i];
                if (!f) {
                    VS_INC(vs->drops.counts[reason]);
                    continue;
                }
                output_tunnel(d, in, f, o);
            }
            rte_pktmbuf_free(m);
            return;
        }
    }

    /* Tell the sender, if it is a local port and we have an address of its family. */
    bool inner_ipv6 = len >= 54 && pkt[12] == (ETH_TYPE_IPV6 >> 8) && pkt[13] == 0xdd;
    if (in && !in->uplink && (ipv4 || inner_ipv6) && vs->has_encap &&
        vs->encap_ipv6 == inner_ipv6) {
        size_t out_len;
        uint8_t buf[CTRL_ICMP6_ERROR_MAX + 64];
        if (!tunnel_too_big_build(pkt, len, mtu, outer_ipv6, vs->encap_ip, buf,
                                  sizeof buf, &out_len)) {
            size_t reason;
            struct rte_mbuf *r = mbuf_from_bytes(d, buf, out_len, &reason);
            if (r) {
                VS_INC(vs->st.ctrl_packets);
                tx_enqueue(d, in, r);
            }
        }
    }
    drop_mbuf(d, NULL, m, VS_DROP_TOO_BIG);
}

static void
output_tunnel(struct dp *d, struct vs_port *in, struct rte_mbuf *m,
              const struct vs_out *o)
{
    struct vswitch *vs = d->vs;
    struct vs_port *up = d->ports->uplink;
    if (!up || !vs->neigh || !vs->has_encap) {
        /* An uplink that has no device yet (the NIC is absent) is down. */
        drop_mbuf(d, NULL, m,
                  !up && vs->cfg.uplink_devargs ? VS_DROP_PORT_DOWN : VS_DROP_ENCAP);
        return;
    }
    struct tunnel_params tp;
    memset(&tp, 0, sizeof tp);
    bool ipv6;
    if (tunnel_ip_parse(o->remote_ip, tp.dst_ip, &ipv6) || ipv6 != vs->encap_ipv6) {
        drop_mbuf(d, NULL, m, VS_DROP_ENCAP);
        return;
    }
    size_t req_len = 0;
    int nr = neigh_lookup(vs->neigh, tp.dst_ip, ipv6, tp.dst_mac, d->neigh_buf,
                          sizeof d->neigh_buf, &req_len);
    if (nr != NEIGH_FOUND) {
        if (nr == NEIGH_REQUEST && req_len) {
            send_on_uplink(d, d->neigh_buf, req_len);
        }
        drop_mbuf(d, NULL, m, VS_DROP_NEIGH);
        return;
    }
    size_t len = rte_pktmbuf_data_len(m);
    if (!tunnel_fits(len, ipv6, vs->cfg.underlay_mtu)) {
        too_big(d, in, m, o, ipv6);
        return;
    }
    tp.ipv6 = ipv6;
    memcpy(tp.src_ip, vs->encap_ip, 16);
    memcpy(tp.src_mac, vs->uplink_mac, 6);
    tp.vni = o->tun_id;
    tp.ovn_inport = o->tun_inport;
    tp.ovn_outport = o->tun_outport;
    tp.flow_hash = inner_flow_hash(rte_pktmbuf_mtod(m, const uint8_t *), len);
    uint8_t hdr[TUNNEL_HDR_MAX];
    size_t hdr_len;
    if (tunnel_encap_header(&tp, rte_pktmbuf_mtod(m, const uint8_t *), len, hdr,
                            sizeof hdr, &hdr_len)) {
        drop_mbuf(d, NULL, m, VS_DROP_ENCAP);
        return;
    }
    char *p = hdr_len <= UINT16_MAX ? rte_pktmbuf_prepend(m, (uint16_t)hdr_len) : NULL;
    if (!p) {
        drop_mbuf(d, NULL, m, VS_DROP_ENCAP);
        return;
    }
    memcpy(p, hdr, hdr_len);
    VS_INC(vs->st.tunnel_tx);
    tx_enqueue(d, up, m);
}

/* Sends 'm' (ownership passes) where 'o' says. */
static void
output_mbuf(struct dp *d, struct vs_port *in, struct rte_mbuf *m, const struct vs_out *o)
{
    struct vs_port *p;
    switch (o->type) {
    case MEGAFLOW_OUT_LOCAL:
        p = port_by_lport(d->ports, o->port);
        if (!p) {
            drop_mbuf(d, NULL, m, VS_DROP_NO_PORT);
            return;
        }
        tx_enqueue(d, p, m);
        return;
    case MEGAFLOW_OUT_TUNNEL:
        output_tunnel(d, in, m, o);
        return;
    case MEGAFLOW_OUT_LOCALNET:
        p = d->ports->uplink;
        if (!p) {
            drop_mbuf(d, NULL, m,
                      d->vs->cfg.uplink_devargs ? VS_DROP_PORT_DOWN : VS_DROP_NO_PORT);
            return;
        }
        if (o->vlan >= 0 && vlan_push(m, o->vlan)) {
            drop_mbuf(d, NULL, m, VS_DROP_REWRITE);
            return;
        }
        tx_enqueue(d, p, m);
        return;
    case MEGAFLOW_OUT_LOGICAL:
    default:
        drop_mbuf(d, NULL, m, VS_DROP_NO_PORT);
        return;
    }
}

/* ---- Classifying what arrives. ------------------------------------------------- */

static bool
is_neigh_frame(const struct pkey *key)
{
    uint16_t et = ntohs(key->f.eth_type);
    if (et == ETH_TYPE_ARP) {
        return true;
    }
    return et == ETH_TYPE_IPV6 && key->f.ip_proto == IPPROTO_ICMPV6_ &&
           (key->f.icmp6_type == ND_NS || key->f.icmp6_type == ND_NA);
}

static bool
tunnel_is_ours(const struct vswitch *vs, const struct pkey *key)
{
    if (!vs->has_encap) {
        return false;
    }
    if (vs->encap_ipv6) {
        return !memcmp(key->f.tun_ip6_dst, vs->encap_ip, 16);
    }
    return !memcmp(&key->f.tun_ip4_dst, vs->encap_ip, 4);
}

/* How a frame from 'port' enters the pipeline: parses it into 'key' and 'layout' and
 * fills 'in' (type and port).  Returns 0, or the drop reason (> 0), or -1 for a frame
 * the vswitch consumed itself (ARP/ND for the underlay).  'consume_neigh': hand
 * ARP/ND frames on the uplink to the neighbour table (false for traces). */
static int
classify(struct dp *d, const struct vs_port *port, const uint8_t *data, size_t len,
         struct pkey *key, struct packet_layout *layout, struct pipeline_input *in,
         bool consume_neigh)
{
    struct vswitch *vs = d->vs;
    enum packet_drop_reason reason = PACKET_DROP_NONE;
    unsigned int flags = port->uplink && vs->has_encap ? PACKET_PARSE_TUNNEL : 0;

    memset(in, 0, sizeof *in);
    in->in_port = port->port_id;
    if (packet_parse(data, len, flags, key, layout, &reason, NULL)) {
        return reason ? (int)reason : (int)VS_DROP_OTHER;
    }
    if (!port->uplink) {
        in->type = PIPELINE_IN_VIF;
        in->port = port->lport;
        return 0;
    }
    if (key->f.tun_flags & PKEY_TUN_PRESENT) {
        if (tunnel_is_ours(vs, key)) {
            in->type = PIPELINE_IN_TUNNEL;
            return 0;
        }
        if (!vs->provider_network) {
            return VS_DROP_NOT_FOR_US;
        }
        if (packet_parse(data, len, 0, key, layout, &reason, NULL)) {
            return reason ? (int)reason : (int)VS_DROP_OTHER;
        }
    }
    if (consume_neigh && vs->neigh && is_neigh_frame(key)) {
        size_t reply_len = 0;
        VS_INC(vs->st.neigh_rx);
        int rc = neigh_input(vs->neigh, data, len, d->neigh_buf, sizeof d->neigh_buf,
                             &reply_len);
        if (rc == 1 && reply_len) {
            send_on_uplink(d, d->neigh_buf, reply_len);
            return -1;
        }
        if (!vs->provider_network) {
            return -1;
        }
    }
    if (!vs->provider_network) {
        return VS_DROP_NOT_FOR_US;
    }
    in->type = PIPELINE_IN_LOCALNET;
    in->port = vs->provider_network;
    return 0;
}

/* ---- The fast path: a cached megaflow. ----------------------------------------- */

static bool
megaflow_replayable(const struct megaflow *mf, size_t *last_output)
{
    *last_output = SIZE_MAX;
    for (size_t i = 0; i < mf->n_actions; i++) {
        const struct megaflow_action *a = &mf->actions[i];
        if (a->type == MEGAFLOW_ACT_CONTROLLER ||
            (a->type == MEGAFLOW_ACT_CT && (a->ct.recirc || a->ct.type == CT_OP_LB))) {
            return false;
        }
        if (a->type == MEGAFLOW_ACT_OUTPUT) {
            *last_output = i;
        }
    }
    return true;
}

/* Writes the pending header changes of d->vs->xr into 'm'. */
static int
flush_changes(struct dp *d, struct rte_mbuf *m, size_t *applied)
{
    struct exec_result *xr = d->vs->xr;
    if (xr->n_changes > *applied) {
        int error = ctrl_packet_apply(rte_pktmbuf_mtod(m, uint8_t *),
                                      rte_pktmbuf_data_len(m), xr, *applied, NULL);
        if (error) {
            return error;
        }
        *applied = xr->n_changes;
    }
    return 0;
}

static int
push_change(struct dp *d, struct rte_mbuf *m, size_t *applied, enum pkey_field_id field,
            lex_u128 value, lex_u128 mask)
{
    struct exec_result *xr = d->vs->xr;
    if (xr->n_changes == EXEC_MAX_CHANGES) {
        int error = flush_changes(d, m, applied);
        if (error) {
            return error;
        }
        xr->n_changes = 0;
        *applied = 0;
    }
    struct exec_change *c = &xr->changes[xr->n_changes++];
    c->field = field;
    c->value = value & mask;
    c->mask = mask;
    return 0;
}

static void
megaflow_apply(struct dp *d, struct vs_port *in, struct rte_mbuf *m,
               const struct packet_layout *layout, const struct pkey *lookup_key,
               const struct megaflow *mf, size_t last_output)
{
    struct vswitch *vs = d->vs;
    struct exec_result *xr = vs->xr;
    struct pkey cur = *lookup_key;
    size_t applied = 0;
    int error = 0;

    xr->n_changes = 0;
    xr->has_frag_mtu = false;
    if (last_output == SIZE_MAX) {
        drop_mbuf(d, in, m, mf->tag ? mf->tag : VS_DROP_OTHER);
        return;
    }
    for (size_t i = 0; i <= last_output; i++) {
        const struct megaflow_action *a = &mf->actions[i];
        switch (a->type) {
        case MEGAFLOW_ACT_TUNNEL_POP:
            if (layout->l2 == PACKET_OFS_NONE ||
                !rte_pktmbuf_adj(m, (uint16_t)layout->l2)) {
                error = -EINVAL;
            }
            break;
        case MEGAFLOW_ACT_VLAN_POP:
            error = vlan_pop(m);
            break;
        case MEGAFLOW_ACT_SET: {
            lex_u128 v = pkey_field_get(&cur, a->field);
            pkey_field_set(&cur, a->field, (v & ~a->mask) | (a->value & a->mask));
            error = push_change(d, m, &applied, a->field, a->value, a->mask);
            break;
        }
        case MEGAFLOW_ACT_DEC_TTL: {
            lex_u128 ttl = pkey_field_get(&cur, PKEY_F_IP_TTL);
            if (!ttl) {
                error = -EINVAL;
                break;
            }
            pkey_field_set(&cur, PKEY_F_IP_TTL, ttl - 1);
            error = push_change(d, m, &applied, PKEY_F_IP_TTL, ttl - 1, 0xff);
            break;
        }
        case MEGAFLOW_ACT_CT: {
            error = flush_changes(d, m, &applied);
            if (error) {
                break;
            }
            struct packet_layout l;
            struct pkey k;
            const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
            size_t len = rte_pktmbuf_data_len(m);
            bool bytes = !packet_parse(p, len, 0, &k, &l, NULL, NULL);
            if (bytes) {
                conntrack_set_packet(vs->ct, p, len, &l);
            }
            struct ct_op op = a->ct;
            error = conntrack_class.execute(vs->ct, &op, &cur);
            conntrack_set_packet(vs->ct, NULL, 0, NULL);
            break;
        }
        case MEGAFLOW_ACT_OUTPUT: {
            error = flush_changes(d, m, &applied);
            if (error) {
                break;
            }
            struct vs_out o = {
                .type = a->output_type,
                .port = a->port,
                .tun_id = a->tun_id,
                .tun_inport = a->tun_inport,
                .tun_outport = a->tun_outport,
                .remote_ip = a->remote_ip,
                .vlan = a->vlan,
            };
            if (i == last_output) {
                output_mbuf(d, in, m, &o);
                return;
            }
            struct rte_mbuf *c = rte_pktmbuf_copy(m, vs->pool, 0, UINT32_MAX);
            if (!c) {
                VS_INC(vs->drops.counts[VS_DROP_NO_MBUF]);
            } else {
                output_mbuf(d, in, c, &o);
            }
            break;
        }
        case MEGAFLOW_ACT_CONTROLLER:
        default:
            error = -EINVAL;
            break;
        }
        if (error) {
            drop_mbuf(d, in, m, VS_DROP_REWRITE);
            return;
        }
    }
}

/* ---- The slow path: a walk through the pipeline. ------------------------------- */

static bool
ctrl_token_take(struct dp *d, struct vs_port *p)
{
    struct vswitch *vs = d->vs;
    uint64_t pps = vs->cfg.ctrl_pps;
    uint64_t cap = pps * vs->tsc_hz;
    uint64_t elapsed = d->now_tsc - p->tokens_tsc;
    p->tokens_tsc = d->now_tsc;
    if (elapsed > vs->tsc_hz) {
        elapsed = vs->tsc_hz;
    }
    p->tokens += elapsed * pps;
    if (p->tokens > cap) {
        p->tokens = cap;
    }
    if (p->tokens < vs->tsc_hz) {
        return false;
    }
    p->tokens -= vs->tsc_hz;
    return true;
}

static void
queue_mac_binding(struct dp *d, const struct pipeline_ctrl *c)
{
    struct vswitch *vs = d->vs;
    const char *name = pipeline_port_name(d->pipe->pipeline, c->datapath, c->mb_port);
    if (!name) {
        return;
    }
    pthread_mutex_lock(&vs->mb_mutex);
    if (vs->mb_n < VS_MB_QUEUE_LEN) {
        struct vs_mb_event *ev = &vs->mb_queue[vs->mb_n++];
        snprintf(ev->lport, sizeof ev->lport, "%s", name);
        ev->mb.datapath = c->datapath;
        ev->mb.port = c->mb_port;
        ev->mb.ipv6 = c->mb_ipv6;
        ev->mb.ip = c->mb_ip;
        memcpy(ev->mb.mac, c->mb_mac, 6);
    } else {
        VS_INC(vs->st.mb_dropped);
    }
    pthread_mutex_unlock(&vs->mb_mutex);
}

static void
slow_path(struct dp *d, struct vs_port *in, struct rte_mbuf *m,
          struct pipeline_input *pin, const struct packet_layout *layout)
{
    struct vswitch *vs = d->vs;
    struct pipeline_result *r = &vs->result;
    const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
    size_t len = rte_pktmbuf_data_len(m);

    pin->packet = data;
    pin->len = len;
    pin->key = NULL;
    conntrack_set_packet(vs->ct, data, len, layout);
    int error = pipeline_process(d->pipe->pipeline, pin, r);
    conntrack_set_packet(vs->ct, NULL, 0, NULL);
    VS_INC(vs->st.walks);
    VS_INC(in->st.walks);
    if (error) {
        drop_mbuf(d, in, m, VS_DROP_NOMEM);
        pipeline_result_destroy(r);
        return;
    }

    bool ctrl_ok = true;
    if (r->n_ctrls) {
        ctrl_ok = ctrl_token_take(d, in);
        if (!ctrl_ok) {
            VS_INC(in->st.ctrl_drops);
            VS_INC(vs->drops.counts[VS_DROP_CTRL_RATE]);
        }
    }
    for (size_t i = 0; ctrl_ok && i < r->n_ctrls; i++) {
        if (r->ctrls[i].has_mac_binding) {
            queue_mac_binding(d, &r->ctrls[i]);
        }
        if (r->ctrls[i].type == ACTION_HANDLE_SVC_CHECK) {
            vs_svc_reply(vs, in->lport, data, len);
        }
    }

    size_t n_sent = 0;
    for (size_t i = 0; i < r->n_outputs; i++) {
        const struct pipeline_output *o = &r->outputs[i];
        size_t reason = 0;
        if (o->from_controller && !ctrl_ok) {
            continue;
        }
        if (!o->packet) {
            VS_INC(vs->drops.counts[VS_DROP_REWRITE]);
            continue;
        }
        struct rte_mbuf *nm = mbuf_from_bytes(d, o->packet, o->len, &reason);
        if (!nm) {
            VS_INC(vs->drops.counts[reason]);
            continue;
        }
        if (o->from_controller) {
            VS_INC(vs->st.ctrl_packets);
        }
        struct vs_out out = {
            .port = o->port,
            .tun_id = o->tun_id,
            .tun_inport = o->tun_ovn_inport,
            .tun_outport = o->tun_ovn_outport,
            .remote_ip = o->encap_ip ? o->encap_ip : "",
            .vlan = o->vlan,
        };
        switch (o->type) {
        case PIPELINE_OUT_LOCAL:
            out.type = MEGAFLOW_OUT_LOCAL;
            break;
        case PIPELINE_OUT_TUNNEL:
            out.type = MEGAFLOW_OUT_TUNNEL;
            break;
        case PIPELINE_OUT_LOCALNET:
            out.type = MEGAFLOW_OUT_LOCALNET;
            break;
        case PIPELINE_OUT_LOGICAL:
        default:
            out.type = MEGAFLOW_OUT_LOGICAL;
            break;
        }
        output_mbuf(d, in, nm, &out);
        n_sent++;
    }

    uint32_t drop_tag = 0;
    if (!r->n_outputs) {
        if (r->error) {
            drop_tag = VS_DROP_INPUT;
        } else {
            drop_tag = (uint32_t)drop_reason_index(vs, r->n_drops ? r->drops[0].reason
                                                                  : "dropped");
        }
        VS_INC(vs->drops.counts[drop_tag]);
        VS_INC(in->st.rx_dropped);
    }
    if (r->megaflow.cacheable) {
        r->megaflow.generation = d->pipe->generation;
        r->megaflow.tag = drop_tag;
        if (!megaflow_cache_insert(vs->cache, &r->megaflow)) {
            VS_INC(vs->st.megaflow_inserts);
        }
    }
    (void)n_sent;
    rte_pktmbuf_free(m);
    pipeline_result_destroy(r);
}

/* Sends the health-check probes the control thread queued, each out of the
 * representor of its logical port (dpdk_svc.c). */
static void
svc_tx(struct dp *d)
{
    struct rte_mbuf *pkts[VS_BURST];
    unsigned int n = vs_svc_tx_dequeue(d->vs, pkts, VS_BURST);
    for (unsigned int i = 0; i < n; i++) {
        char lport[VS_NAME_LEN];
        memcpy(lport, rte_pktmbuf_mtod(pkts[i], const char *), VS_NAME_LEN);
        lport[VS_NAME_LEN - 1] = '\0';
        struct vs_port *p = port_by_lport(d->ports, lport);
        if (!p) {
            vs_svc_tx_no_port(d->vs);
            drop_mbuf(d, NULL, pkts[i], VS_DROP_NO_PORT);
            continue;
        }
        rte_pktmbuf_adj(pkts[i], VS_NAME_LEN);
        VS_INC(d->vs->st.ctrl_packets);
        tx_enqueue(d, p, pkts[i]);
    }
}

/* ---- The fast path: the flow cache. ------------------------------------------- */

_Static_assert(offsetof(struct pkey_fields, eth_dst) == VS_META_WORDS * 8,
               "metadata words");

/* How the flow cache replays one megaflow: its actions, with the representor of each
 * local output resolved.  Valid while the flow cache's entries are (fc_sync()). */
struct fc_prog {
    struct hmap_node node; /* In dp->progs, by megaflow. */
    const struct megaflow *mf;
    size_t last_output;      /* SIZE_MAX: a drop. */
    bool ok4, ok6;           /* Replayable here for IPv4 / IPv6 frames. */
    struct vs_port *direct;  /* Non-NULL: the program is only an output to this
                              * representor (no rewrites, no copies). */
    struct vs_port *local[]; /* Per action: the port of a local output, or NULL. */
};

static void
fc_progs_clear(struct dp *d)
{
    struct fc_prog *prog, *next;
    HMAP_FOR_EACH_SAFE (prog, next, node, &d->progs) {
        hmap_remove(&d->progs, &prog->node);
        free(prog);
    }
}

/* Empties the flow cache (its entries and programs). */
static void
fc_reset(struct dp *d)
{
    if (d->fc) {
        flowcache_invalidate(d->fc);
        fc_progs_clear(d);
    }
    d->fc_mf_epoch = megaflow_cache_epoch(d->vs->cache);
}

/* Empties the flow cache if the megaflows its entries point at may be gone. */
static inline void
fc_sync(struct dp *d)
{
    if (megaflow_cache_epoch(d->vs->cache) != d->fc_mf_epoch) {
        fc_reset(d);
    }
}

/* The program of 'mf' (replayable, last output 'last_output'), compiled on first
 * use.  NULL on allocation failure. */
static const struct fc_prog *
fc_prog_get(struct dp *d, const struct megaflow *mf, size_t last_output)
{
    uint32_t h = hash_add64(0, (uint64_t)(uintptr_t)mf);
    struct fc_prog *prog;
    HMAP_FOR_EACH_WITH_HASH (prog, node, h, &d->progs) {
        if (prog->mf == mf) {
            return prog;
        }
    }
    prog = calloc(1, sizeof *prog + mf->n_actions * sizeof prog->local[0]);
    if (!prog) {
        return NULL;
    }
    prog->mf = mf;
    prog->last_output = last_output;
    prog->ok4 = prog->ok6 = true;
    for (size_t i = 0; last_output != SIZE_MAX && i <= last_output; i++) {
        const struct megaflow_action *a = &mf->actions[i];
        switch (a->type) {
        case MEGAFLOW_ACT_TUNNEL_POP:
        case MEGAFLOW_ACT_VLAN_POP:
        case MEGAFLOW_ACT_DEC_TTL:
            break;
        case MEGAFLOW_ACT_SET:
            prog->ok4 &= flowcache_rewrite_supported(a->field, a->mask, false);
            prog->ok6 &= flowcache_rewrite_supported(a->field, a->mask, true);
            break;
        case MEGAFLOW_ACT_OUTPUT:
            if (a->output_type == MEGAFLOW_OUT_LOCAL) {
                prog->local[i] = port_by_lport(d->ports, a->port);
            }
            break;
        case MEGAFLOW_ACT_CT:
        case MEGAFLOW_ACT_CONTROLLER:
        default:
            prog->ok4 = prog->ok6 = false;
            break;
        }
    }
    if (last_output == 0 && mf->actions[0].output_type == MEGAFLOW_OUT_LOCAL) {
        prog->direct = prog->local[0];
    }
    hmap_insert(&d->progs, &prog->node, h);
    return prog;
}

/* Sends 'm' (ownership passes) out of output action 'a' of a program. */
static void
fc_output(struct dp *d, struct vs_port *in, struct rte_mbuf *m,
          const struct megaflow_action *a, struct vs_port *local)
{
    if (a->output_type == MEGAFLOW_OUT_LOCAL) {
        if (local) {
            tx_enqueue(d, local, m);
        } else {
            drop_mbuf(d, NULL, m, VS_DROP_NO_PORT);
        }
        return;
    }
    struct vs_out o = {
        .type = a->output_type,
        .port = a->port,
        .tun_id = a->tun_id,
        .tun_inport = a->tun_inport,
        .tun_outport = a->tun_outport,
        .remote_ip = a->remote_ip,
        .vlan = a->vlan,
    };
    output_mbuf(d, in, m, &o);
}

/* Does to 'm', laid out as 'lo', what megaflow_apply() does with the program's
 * megaflow, header rewrites written in place with incremental checksum updates. */
static void
fc_apply(struct dp *d, struct vs_port *in, struct rte_mbuf *m, struct flowcache_layout lo,
         const struct fc_prog *prog)
{
    const struct megaflow *mf = prog->mf;
    if (prog->last_output == SIZE_MAX) {
        drop_mbuf(d, in, m, mf->tag ? mf->tag : VS_DROP_OTHER);
        return;
    }
    for (size_t i = 0; i <= prog->last_output; i++) {
        const struct megaflow_action *a = &mf->actions[i];
        int error = 0;
        switch (a->type) {
        case MEGAFLOW_ACT_TUNNEL_POP:
            if (!rte_pktmbuf_adj(m, (uint16_t)lo.l2)) {
                error = -EINVAL;
                break;
            }
            lo.l3 -= lo.l2;
            lo.l4 -= lo.l2;
            lo.end -= lo.l2;
            lo.l2 = 0;
            break;
        case MEGAFLOW_ACT_VLAN_POP:
            error = vlan_pop(m);
            if (!error) {
                lo.l3 -= 4;
                lo.l4 -= 4;
                lo.end -= 4;
                lo.vlan = false;
            }
            break;
        case MEGAFLOW_ACT_SET:
            error = flowcache_rewrite(rte_pktmbuf_mtod(m, uint8_t *), &lo, a->field,
                                      a->value & a->mask);
            break;
        case MEGAFLOW_ACT_DEC_TTL:
            error = flowcache_dec_ttl(rte_pktmbuf_mtod(m, uint8_t *), &lo);
            break;
        case MEGAFLOW_ACT_OUTPUT: {
            if (i == prog->last_output) {
                fc_output(d, in, m, a, prog->local[i]);
                return;
            }
            struct rte_mbuf *c = rte_pktmbuf_copy(m, d->vs->pool, 0, UINT32_MAX);
            if (!c) {
                VS_INC(d->vs->drops.counts[VS_DROP_NO_MBUF]);
            } else {
                fc_output(d, in, c, a, prog->local[i]);
            }
            break;
        }
        case MEGAFLOW_ACT_CT:
        case MEGAFLOW_ACT_CONTROLLER:
        default:
            error = -EINVAL;
            break;
        }
        if (error) {
            drop_mbuf(d, in, m, VS_DROP_REWRITE);
            return;
        }
    }
}

/* Remembers, for the flow cache tuple 'fk' of a frame whose key found 'mf', that
 * frames of that tuple get 'mf'.  Only for a megaflow the program replays, and a
 * tuple of the kind the input was (a Geneve tuple for tunnel input only). */
static void
fc_learn(struct dp *d, const struct pipeline_input *pin, const struct flowcache_key *fk,
         const struct flowcache_layout *lo, const struct megaflow *mf, size_t last_output)
{
    if (!d->fc || (pin->type == PIPELINE_IN_TUNNEL) != flowcache_key_is_tunnel(fk)) {
        return;
    }
    fc_sync(d);
    const struct fc_prog *prog = fc_prog_get(d, mf, last_output);
    if (prog && (lo->ipv6 ? prog->ok6 : prog->ok4)) {
        flowcache_insert(d->fc, fk, (void *)prog, 0);
    }
}

/* ---- One packet. --------------------------------------------------------------- */

/* Makes the metadata words of 'p' (a representor) current.  Returns 0 (valid), < 0
 * (the pipeline refuses the port), or 1 (compute the key per packet). */
static int
port_meta(struct dp *d, struct vs_port *p)
{
    uint64_t tag = d->pipe->generation + 1;
    if (p->in_meta_gen == tag) {
        return p->in_meta_state;
    }
    struct pkey zero, out;
    pkey_init(&zero);
    struct pipeline_input pin = {
        .type = PIPELINE_IN_VIF,
        .port = p->lport,
        .in_port = p->port_id,
        .key = &zero,
    };
    int error = pipeline_input_key(d->pipe->pipeline, &pin, &out, NULL);
    if (!error) {
        /* The entry of a representor sets metadata only; if it ever touches the
         * headers, the key is built per packet. */
        error = memcmp(&out.w[VS_META_WORDS], &zero.w[VS_META_WORDS],
                       sizeof out - VS_META_WORDS * 8)
                    ? 1
                    : 0;
        memcpy(p->in_meta, out.w, sizeof p->in_meta);
    }
    p->in_meta_state = error;
    p->in_meta_gen = tag;
    return error;
}

/* One packet, the ordinary way: parse, build the key, probe the megaflow cache,
 * replay or walk.  'fk' and 'flo' (NULL if the frame has no flow cache tuple): its
 * tuple, for the flow cache to learn the megaflow found. */
static void
process_packet(struct dp *d, struct vs_port *in, struct rte_mbuf *m,
               const struct flowcache_key *fk, const struct flowcache_layout *flo)
{
    struct vswitch *vs = d->vs;
    size_t len = rte_pktmbuf_pkt_len(m);
    VS_INC(in->st.rx_packets);
    VS_ADD(in->st.rx_bytes, len);

    if (m->nb_segs > 1 && rte_pktmbuf_linearize(m)) {
        drop_mbuf(d, in, m, VS_DROP_TOO_BIG);
        return;
    }
    const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
    struct pkey key;
    struct packet_layout layout;
    struct pipeline_input pin;
    int rc = classify(d, in, data, len, &key, &layout, &pin, true);
    if (rc < 0) {
        rte_pktmbuf_free(m);
        return;
    }
    if (rc > 0) {
        drop_mbuf(d, in, m, (size_t)rc);
        return;
    }
    if (!d->pipe) {
        drop_mbuf(d, in, m, VS_DROP_NO_PIPELINE);
        return;
    }
    if (pin.type == PIPELINE_IN_TUNNEL) {
        VS_INC(vs->st.tunnel_rx);
    }

    /* The key the walk would start from: for a representor, the parsed key (whose
     * metadata words are all 0) with the port's metadata words; else built. */
    struct pkey lookup;
    const struct pkey *lk = &lookup;
    int meta = pin.type == PIPELINE_IN_VIF ? port_meta(d, in) : 1;
    if (meta < 0) {
        drop_mbuf(d, in, m, VS_DROP_INPUT);
        return;
    }
    if (!meta) {
        memcpy(key.w, in->in_meta, sizeof in->in_meta);
        lk = &key;
    } else {
        pin.key = &key;
        if (pipeline_input_key(d->pipe->pipeline, &pin, &lookup, NULL)) {
            drop_mbuf(d, in, m, VS_DROP_INPUT);
            return;
        }
        pin.key = NULL;
    }
    const struct megaflow *mf = megaflow_cache_lookup(vs->cache, lk, d->pipe->generation);
    size_t last_output;
    if (mf && megaflow_replayable(mf, &last_output)) {
        megaflow_cache_account(vs->cache, mf, len, d->now_ms);
        VS_INC(vs->st.megaflow_hits);
        VS_INC(in->st.megaflow_hits);
        if (fk) {
            fc_learn(d, &pin, fk, flo, mf, last_output);
        }
        megaflow_apply(d, in, m, &layout, lk, mf, last_output);
        return;
    }
    slow_path(d, in, m, &pin, &layout);
}

/* A burst received on 'in': the flow cache tuples of all, their buckets prefetched,
 * then each packet from the flow cache, or the ordinary way.  The lookups run ahead
 * of the packets they are for only up to the next packet that takes the ordinary way
 * (flowcache_lookup_burst()): that one may fill or empty the cache, and free the
 * programs the entries point to. */
static void
process_burst(struct dp *d, struct vs_port *in, struct rte_mbuf **pkts, uint16_t n)
{
    struct vswitch *vs = d->vs;
    if (VS_UNLIKELY(!d->frag_buf)) {
        for (uint16_t j = 0; j < n; j++) {
            drop_mbuf(d, in, pkts[j], VS_DROP_NOMEM);
        }
        return;
    }
    if (VS_UNLIKELY(!d->fc || !d->pipe)) {
        for (uint16_t j = 0; j < n; j++) {
            process_packet(d, in, pkts[j], NULL, NULL);
            if (d->fc) {
                fc_sync(d);
            }
        }
        return;
    }

    struct flowcache_key keys[VS_BURST];
    struct flowcache_layout los[VS_BURST];
    const uint8_t *frames[VS_BURST];
    uint32_t lens[VS_BURST];
    void *progs[VS_BURST];
    bool ok[VS_BURST];
    unsigned int flags = in->uplink && vs->has_encap ? FLOWCACHE_TUNNEL : 0;
    for (uint16_t j = 0; j < n; j++) {
        struct rte_mbuf *m = pkts[j];
        frames[j] =
            VS_LIKELY(m->nb_segs == 1) ? rte_pktmbuf_mtod(m, const uint8_t *) : NULL;
        lens[j] = rte_pktmbuf_data_len(m);
        rte_prefetch0(rte_pktmbuf_mtod(m, void *));
    }
    flowcache_extract_burst(d->fc, flags, in->port_id, frames, lens, n, keys, los, ok);

    /* The hits' counters, added once per burst. */
    uint64_t hits = 0, hit_bytes = 0, hit_tunnel = 0;
    uint64_t now_ms = d->now_ms;
    struct megaflow_cache *cache = vs->cache;
    for (uint16_t j = 0; j < n;) {
        uint16_t end = (uint16_t)(j + flowcache_lookup_burst(d->fc, keys + j, ok + j,
                                                             n - j, progs + j));
        for (; j < end; j++) {
            struct rte_mbuf *m = pkts[j];
            const struct fc_prog *prog = progs[j];
            if (VS_UNLIKELY(!prog)) {
                process_packet(d, in, m, ok[j] ? &keys[j] : NULL, &los[j]);
                fc_sync(d);
                continue;
            }
            uint32_t len = rte_pktmbuf_pkt_len(m);
            hits++;
            hit_bytes += len;
            hit_tunnel += los[j].tunnel;
            megaflow_cache_account(cache, prog->mf, len, now_ms);
            struct vs_port *out = prog->direct;
            if (VS_LIKELY(out != NULL)) {
                if (VS_UNLIKELY(out->n_tx == VS_BURST)) {
                    tx_flush(d, out);
                }
                out->txq[out->n_tx++] = m;
            } else {
                fc_apply(d, in, m, los[j], prog);
            }
        }
    }
    if (hits) {
        VS_ADD(in->st.rx_packets, hits);
        VS_ADD(in->st.rx_bytes, hit_bytes);
        if (hit_tunnel) {
            VS_ADD(vs->st.tunnel_rx, hit_tunnel);
        }
        /* emc_hits and megaflow_hits move together, so that samples of the two stay
         * close. */
        d->fc_hits += hits;
        VS_ADD(vs->st.emc_hits, hits);
        VS_ADD(vs->st.megaflow_hits, hits);
        VS_ADD(in->st.megaflow_hits, hits);
    }
}

/* ---- Requests from the control thread. ----------------------------------------- */

struct mf_dump {
    json_t *array;
    uint64_t generation;
    uint64_t now_ms;
    bool nomem;
};

static void
mf_dump_one(void *aux, const struct megaflow *mf, const struct megaflow_usage *u)
{
    struct mf_dump *dump = aux;
    if (mf->generation != dump->generation || dump->nomem) {
        return;
    }
    size_t n = pkey_format(&mf->key, &mf->mask, NULL, 0);
    size_t na = megaflow_actions_format(mf, NULL, 0);
    char *match = malloc(n + 1);
    char *actions = malloc(na + 1);
    json_t *o = NULL;
    if (match && actions) {
        pkey_format(&mf->key, &mf->mask, match, n + 1);
        megaflow_actions_format(mf, actions, na + 1);
        o = json_pack("{s:s,s:s,s:I,s:I,s:o}", "match", match, "actions", actions,
                      "packets", (json_int_t)u->n_packets, "bytes",
                      (json_int_t)u->n_bytes, "used_ms",
                      u->used_ms ? json_integer((json_int_t)(dump->now_ms - u->used_ms))
                                 : json_null());
    }
    if (!o || json_array_append_new(dump->array, o)) {
        dump->nomem = true;
    }
    free(match);
    free(actions);
}

static void
run_trace(struct dp *d, struct vs_request *req)
{
    struct vswitch *vs = d->vs;
    struct pkey key;
    struct packet_layout layout;
    struct pipeline_input pin;

    if (!d->pipe) {
        ovnic_err_set(&req->err, -EAGAIN, "trace", "no pipeline yet", NULL);
        return;
    }
    int rc = classify(d, req->port, req->pkt, req->len, &key, &layout, &pin, false);
    if (rc) {
        ovnic_err_set(&req->err, -EINVAL, "trace", "frame not accepted", "%s",
                      rc > 0 && rc < VS_MAX_DROP_REASONS ? vs->drops.names[rc]
                                                         : "ARP/ND");
        return;
    }
    pin.packet = req->pkt;
    pin.len = req->len;
    pin.trace = true;
    struct pipeline_result r;
    pipeline_result_init(&r);
    vs->vct.trace = true;
    int error = pipeline_process(d->pipe->pipeline, &pin, &r);
    vs->vct.trace = false;
    if (error) {
        ovnic_err_set(&req->err, error, "trace", "pipeline walk failed", NULL);
    } else {
        req->json = pipeline_result_to_json(&r);
        if (!req->json) {
            ovnic_err_set(&req->err, -ENOMEM, "trace", "out of memory", NULL);
        }
    }
    pipeline_result_destroy(&r);
}

static void
run_request(struct dp *d, struct vs_request *req)
{
    struct vswitch *vs = d->vs;
    switch (req->type) {
    case VS_REQ_MEGAFLOWS: {
        struct mf_dump dump = {
            .array = json_array(),
            .generation = d->pipe ? d->pipe->generation : 0,
            .now_ms = d->now_ms,
        };
        if (dump.array) {
            megaflow_cache_walk(vs->cache, mf_dump_one, &dump, 0);
            if (req->limit) {
                while (json_array_size(dump.array) > req->limit) {
                    json_array_remove(dump.array, json_array_size(dump.array) - 1);
                }
            }
        }
        if (dump.nomem) {
            json_decref(dump.array);
            dump.array = NULL;
        }
        req->json = dump.array;
        break;
    }
    case VS_REQ_TRACE:
        run_trace(d, req);
        break;
    }
}

/* ---- The loop. ----------------------------------------------------------------- */

static void
refresh_clock(struct dp *d)
{
    d->now_tsc = rte_get_tsc_cycles();
    d->now_ms = d->now_tsc / (d->vs->tsc_hz / 1000);
}

/* "emc_hits" counts the exact-match answers: the flow cache's and the megaflow
 * cache's own. */
static void
publish_cache_stats(struct dp *d)
{
    struct vswitch *vs = d->vs;
    struct megaflow_cache_stats s;
    megaflow_cache_get_stats(vs->cache, &s);
    VS_SET(vs->st.emc_hits, s.n_emc_hits + d->fc_hits);
    VS_SET(vs->st.misses, s.n_misses);
    VS_SET(vs->st.megaflow_entries, s.n_entries);
}

int
vs_datapath_main(void *arg)
{
    struct vswitch *vs = arg;
    struct dp d = {.vs = vs};
    struct rte_mbuf *pkts[VS_BURST];
    unsigned int idle = 0;
    unsigned int sleep_us = 0;
    uint64_t next_sweep_ms = 0;

    d.frag_buf = malloc(VS_FRAG_BUF);
    if (!d.frag_buf) {
        OLOG_ERR("datapath lcore: out of memory");
    }
    hmap_init(&d.progs);
    if (flowcache_create(VS_FLOWCACHE_MIN, VS_FLOWCACHE_MAX, &d.fc)) {
        OLOG_WARN("datapath lcore: no memory for the flow cache; running without it");
        d.fc = NULL;
    }
    fc_reset(&d);
    refresh_clock(&d);
    while (!__atomic_load_n(&vs->stop, __ATOMIC_ACQUIRE)) {
        struct vs_ports *ports = __atomic_load_n(&vs->ports_pub, __ATOMIC_ACQUIRE);
        if (ports != d.ports) {
            d.ports = ports;
            for (size_t i = 0; i < ports->n; i++) {
                ports->ports[i]->dp_live = ports->live[i];
            }
            fc_reset(&d);
            __atomic_store_n(&vs->ports_ack, ports->version, __ATOMIC_RELEASE);
        }
        struct vs_pipe *pipe = __atomic_load_n(&vs->pipe_pub, __ATOMIC_ACQUIRE);
        if (pipe != d.pipe) {
            d.pipe = pipe;
            fc_reset(&d);
            __atomic_store_n(&vs->gen_ack, pipe->generation, __ATOMIC_RELEASE);
        }
        refresh_clock(&d);
        struct vs_request *req =
            __atomic_exchange_n(&vs->req_pub, NULL, __ATOMIC_ACQ_REL);
        if (req) {
            run_request(&d, req);
            __atomic_add_fetch(&vs->req_done, 1, __ATOMIC_RELEASE);
        }
        svc_tx(&d);

        unsigned int n_rx = 0;
        for (size_t i = 0; i < d.ports->n; i++) {
            struct vs_port *p = d.ports->ports[i];
            if (!p->dp_live) {
                continue;
            }
            uint16_t n = rte_eth_rx_burst(p->port_id, 0, pkts, VS_BURST);
            if (!n) {
                continue;
            }
            n_rx += n;
            process_burst(&d, p, pkts, n);
        }
        for (size_t i = 0; i < d.ports->n; i++) {
            tx_flush(&d, d.ports->ports[i]);
        }
        VS_INC(vs->st.polls);
        if (n_rx) {
            VS_ADD(vs->st.rx, n_rx);
            publish_cache_stats(&d);
            idle = 0;
            sleep_us = 0;
        }
        if (d.now_ms >= next_sweep_ms) {
            next_sweep_ms = d.now_ms + VS_SWEEP_MS;
            conntrack_sweep(vs->ct, 1024);
            publish_cache_stats(&d);
        }
        if (!n_rx && ++idle >= vs->cfg.idle_polls) {
            sleep_us =
                sleep_us ? MIN(sleep_us * 2, vs->cfg.idle_max_us) : vs->cfg.idle_min_us;
            struct timespec ts = {sleep_us / 1000000, (long)(sleep_us % 1000000) * 1000};
            nanosleep(&ts, NULL);
            VS_INC(vs->st.idle_sleeps);
        }
    }
    fc_progs_clear(&d);
    hmap_destroy(&d.progs);
    flowcache_destroy(d.fc);
    free(d.frag_buf);
    return 0;
}
