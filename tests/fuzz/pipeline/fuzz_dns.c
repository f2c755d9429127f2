/* libFuzzer target: the DNS answer builder (ctrl_dns_reply_build()) must never read
 * outside the query nor write outside its buffer, and every answer it builds must be
 * a well-formed frame: parsable, with consistent lengths and a valid UDP checksum, a
 * response with one question.  The input is tried both as a DNS message (inside a
 * fixed Ethernet, IPv4 and UDP header) and as a whole frame. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/pipeline/ctrl.h"
#include "dpu/pipeline/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Answers every name, in the several forms a record takes. */
static const char *
lookup(void *aux, const char *name)
{
    (void)aux;
    if (strstr(name, "none")) {
        return NULL;
    } else if (strstr(name, "arpa")) {
        return "vm1.ovn.org";
    } else if (strstr(name, "bad")) {
        return "10.0.0.256 not..a..name";
    } else if (strstr(name, "v4")) {
        return "10.0.0.4";
    }
    return "10.0.0.4 aef0::4 10.0.0.5";
}

static void
check_reply(const uint8_t *out, size_t out_len, size_t size)
{
    struct pkey key;
    struct packet_layout lay;
    if (out_len > size || packet_parse(out, out_len, 0, &key, &lay, NULL, NULL) ||
        lay.l7 == PACKET_OFS_NONE || lay.end != out_len || out_len - lay.l7 < 12) {
        abort();
    }
    const uint8_t *l3 = out + lay.l3, *l4 = out + lay.l4, *dns = out + lay.l7;
    size_t l4_len = out_len - lay.l4;
    bool v6 = (l3[0] >> 4) == 6;
    if (((size_t)l4[4] << 8 | l4[5]) != l4_len || !(dns[2] & 0x80) || dns[4] ||
        dns[5] != 1 || (!dns[6] && !dns[7])) {
        abort();
    }
    uint16_t c = ctrl_csum(l3 + (v6 ? 8 : 12), v6 ? 32 : 8, (uint32_t)l4_len + 17);
    c = ctrl_csum(l4, l4_len, (uint16_t)~c);
    if (c != 0 && c != 0xffff) {
        abort();
    }
}

static void
run(const uint8_t *frame, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    size_t size = len + 2048;
    uint8_t *out = malloc(size);
    if (copy && out) {
        memcpy(copy, frame, len);
        size_t out_len = 0;
        if (!ctrl_dns_reply_build(lookup, NULL, copy, len, out, size, &out_len, NULL)) {
            check_reply(out, out_len, size);
        }
    }
    free(copy);
    free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t hdr[42] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x05, 0x08,
        0x00, 0x45, 0,    0,    0,    0,    0,    0,    0,    64,   17,   0,    0,
        10,   0,    0,    4,    10,   0,    0,    1,    0x82, 0x35, 0x00, 0x35};
    if (size > 60000) {
        return 0;
    }
    uint8_t *frame = malloc(sizeof hdr + size);
    if (!frame) {
        return 0;
    }
    memcpy(frame, hdr, sizeof hdr);
    if (size) {
        memcpy(frame + sizeof hdr, data, size);
    }
    size_t total = 20 + 8 + size, udp_len = 8 + size;
    frame[16] = (uint8_t)(total >> 8);
    frame[17] = (uint8_t)total;
    frame[38] = (uint8_t)(udp_len >> 8);
    frame[39] = (uint8_t)udp_len;
    run(frame, sizeof hdr + size);
    free(frame);
    run(data, size);
    return 0;
}
