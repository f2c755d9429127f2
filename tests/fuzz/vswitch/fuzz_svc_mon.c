/* Fuzz target: svc_mon_input() (the reply parser of the health checks) on arbitrary
 * frames, against a TCP and a UDP monitor that each have a probe out.
 *
 * Input: one control byte, then the frame.  Control bit 0: the TCP destination port
 * and acknowledgement number are overwritten with those the TCP probe expects (an
 * untagged IPv4 frame with a 20-byte header is assumed), so that the fuzzer reaches
 * the verdicts; bit 1: likewise the source port of the UDP datagram quoted by an ICMP
 * error; bit 2: the frame comes from the UDP monitor's logical port. */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/vswitch/svc_mon.h"

struct probes {
    uint16_t tcp_sport;
    uint32_t tcp_seq;
    uint16_t udp_sport;
    size_t n_sent;
};

static void
fuzz_send(void *aux, const char *lport, const uint8_t *frame, size_t len)
{
    struct probes *p = aux;
    if (len < 38 || len > SVC_MON_FRAME_MAX || !lport) {
        abort();
    }
    if (frame[23] == 6 && frame[47] == 0x02) {
        p->tcp_sport = (uint16_t)((frame[34] << 8) | frame[35]);
        p->tcp_seq = ((uint32_t)frame[38] << 24) | ((uint32_t)frame[39] << 16) |
                     ((uint32_t)frame[40] << 8) | frame[41];
    } else if (frame[23] == 17) {
        p->udp_sport = (uint16_t)((frame[34] << 8) | frame[35]);
    }
    p->n_sent++;
}

static void
fuzz_status(void *aux, const struct uuid *uuid, const char *status)
{
    (void)aux;
    if (!uuid || !status) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct probes p = {0};
    struct svc_mon_ops ops = {.send = fuzz_send, .status = fuzz_status, .aux = &p};
    struct svc_mon *mon = NULL;
    if (svc_mon_create(&ops, 1, &mon)) {
        abort();
    }
    struct svc_mon_spec specs[2] = {
        {.logical_port = "vm2",
         .protocol = "tcp",
         .ip = "10.0.0.2",
         .port = 80,
         .src_mac = "0e:fd:cb:78:fa:c9",
         .src_ip = "10.0.0.254",
         .dst_mac = "0a:00:00:00:00:02"},
        {.logical_port = "vm3",
         .protocol = "udp",
         .ip = "10.0.0.3",
         .port = 53,
         .src_mac = "0e:fd:cb:78:fa:c9",
         .src_ip = "10.0.0.254",
         .dst_mac = "0a:00:00:00:00:03"},
    };
    uuid_from_string("11111111-1111-1111-1111-111111111111", &specs[0].uuid);
    uuid_from_string("22222222-2222-2222-2222-222222222222", &specs[1].uuid);
    if (svc_mon_set(mon, specs, 2, 0) != 2) {
        abort();
    }
    svc_mon_run(mon, 0);
    if (p.n_sent != 2) {
        abort();
    }

    uint8_t ctl = size ? data[0] : 0;
    const uint8_t *frame = size ? data + 1 : data;
    size_t len = size ? size - 1 : 0;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        abort();
    }
    if (len) {
        memcpy(copy, frame, len);
    }
    if ((ctl & 1) && len >= 46) {
        uint32_t ack = p.tcp_seq + 1;
        copy[36] = (uint8_t)(p.tcp_sport >> 8);
        copy[37] = (uint8_t)p.tcp_sport;
        copy[42] = (uint8_t)(ack >> 24);
        copy[43] = (uint8_t)(ack >> 16);
        copy[44] = (uint8_t)(ack >> 8);
        copy[45] = (uint8_t)ack;
    }
    if ((ctl & 2) && len >= 64) {
        copy[62] = (uint8_t)(p.udp_sport >> 8);
        copy[63] = (uint8_t)p.udp_sport;
    }
    const char *lport = (ctl & 4) ? "vm3" : "vm2";
    size_t before = p.n_sent;
    int r = svc_mon_input(mon, lport, copy, len, 10);
    if (r != 0 && r != -EINVAL && r != -ENOENT) {
        abort();
    }
    if (r != 0 && p.n_sent != before) {
        abort(); /* Only a matched SYN+ACK is answered. */
    }
    /* One byte shorter must not read past the end either. */
    if (len) {
        uint8_t *shorter = malloc(len - 1 ? len - 1 : 1);
        if (shorter) {
            memcpy(shorter, copy, len - 1);
            (void)svc_mon_input(mon, lport, shorter, len - 1, 11);
            free(shorter);
        }
    }
    svc_mon_run(mon, 20000);
    json_t *j = svc_mon_json(mon, 20000);
    json_decref(j);
    free(copy);
    svc_mon_destroy(mon);
    return 0;
}
