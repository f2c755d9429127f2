/* libFuzzer target: the DHCPv6 reply builder (ctrl_dhcpv6_reply_build()) must never
 * read outside the request nor write outside its buffer, and every reply it builds
 * must be a well-formed frame: parsable, with consistent lengths and a valid UDP
 * checksum.  The input is tried both as a DHCPv6 message (inside a fixed Ethernet,
 * IPv6 and UDP header) and as a whole frame. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/controller/actions.h"
#include "dpu/controller/symtab.h"
#include "dpu/pipeline/ctrl.h"
#include "dpu/pipeline/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct action *
dhcpv6_action(void)
{
    static struct symtab *symtab;
    static struct action_list *list;
    if (!list) {
        if (symtab_create(&symtab) ||
            action_parse(
                symtab,
                "reg0[3] = put_dhcpv6_opts(ia_addr = aef0::4, "
                "server_id = 00:00:00:10:00:01, dns_server = {ae70::1, ae70::2}, "
                "domain_search = \"ovn.org,a.test\", bootfile_name = \"x\", "
                "bootfile_name_alt = \"y\"); next;",
                NULL, &list, NULL)) {
            abort();
        }
    }
    return &list->ops[0];
}

static void
check_reply(const uint8_t *out, size_t out_len, size_t size)
{
    struct pkey key;
    struct packet_layout lay;
    if (out_len > size || packet_parse(out, out_len, 0, &key, &lay, NULL, NULL) ||
        lay.l4 == PACKET_OFS_NONE || lay.end != out_len) {
        abort();
    }
    const uint8_t *l4 = out + lay.l4;
    size_t l4_len = out_len - lay.l4;
    if (((size_t)l4[4] << 8 | l4[5]) != l4_len) {
        abort();
    }
    uint16_t c = ctrl_csum(out + lay.l3 + 8, 32, (uint32_t)l4_len + 17);
    c = ctrl_csum(l4, l4_len, (uint16_t)~c);
    if (c != 0 && c != 0xffff) {
        abort();
    }
}

static void
run(const uint8_t *frame, size_t len)
{
    /* A private copy, so that ASan catches any read past the end. */
    uint8_t *copy = malloc(len ? len : 1);
    size_t size = len + 1024;
    uint8_t *out = malloc(size);
    if (copy && out) {
        memcpy(copy, frame, len);
        size_t out_len = 0;
        if (!ctrl_dhcpv6_reply_build(dhcpv6_action(), copy, len, out, size, &out_len,
                                     NULL)) {
            check_reply(out, out_len, size);
        }
    }
    free(copy);
    free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t hdr[62] = {
        0x33,        0x33, 0x00,        0x01,        0x00,        0x02, 0x0a, 0x00,
        0x00,        0x00, 0x00,        0x05,        0x86,        0xdd, 0x60, 0,
        0,           0,    0,           0,           17,          1,    0xfe, 0x80,
        [38] = 0xff, 0x02, [51] = 0x01, [53] = 0x02, [54] = 0x02, 0x22, 0x02, 0x23};
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
    size_t udp_len = 8 + size;
    frame[18] = (uint8_t)(udp_len >> 8);
    frame[19] = (uint8_t)udp_len;
    frame[58] = (uint8_t)(udp_len >> 8);
    frame[59] = (uint8_t)udp_len;
    run(frame, sizeof hdr + size);
    free(frame);
    run(data, size);
    return 0;
}
