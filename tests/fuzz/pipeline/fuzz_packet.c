/* libFuzzer target: the packet parser must never read outside the frame, and what it
 * reports must be consistent (offsets inside the frame, padding zero, a named drop
 * reason), with and without Geneve decapsulation. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/pipeline/key.h"
#include "dpu/pipeline/packet.h"

static void
check_ofs(uint32_t ofs, size_t len)
{
    if (ofs != PACKET_OFS_NONE && ofs > len) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, so that ASan catches any read past the end. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) {
        return 0;
    }
    if (size) {
        memcpy(copy, data, size);
    }
    for (unsigned int flags = 0; flags <= PACKET_PARSE_TUNNEL; flags++) {
        struct pkey key;
        struct packet_layout lo;
        enum packet_drop_reason reason;
        struct packet_drop_stats stats = {0};
        int rc = packet_parse(copy, size, flags, &key, &lo, &reason, &stats);
        if ((rc == 0) != (reason == PACKET_DROP_NONE) ||
            reason >= PACKET_N_DROP_REASONS) {
            abort();
        }
        if (stats.n_parsed + (rc ? stats.drops[reason] : 0) != 1) {
            abort();
        }
        if (!strcmp(packet_drop_reason_name(reason), "unknown")) {
            abort();
        }
        check_ofs(lo.l2, size);
        check_ofs(lo.l3, size);
        check_ofs(lo.l4, size);
        check_ofs(lo.l7, size);
        check_ofs(lo.end, size);
        check_ofs(lo.tunnel, size);
        if (key.f.pad0[0] | key.f.pad0[1] | key.f.pad1[0] | key.f.pad1[1] |
            key.f.pad1[2] | key.f.pad2 | key.f.pad3[0] | key.f.pad3[1]) {
            abort();
        }
        if (!(flags & PACKET_PARSE_TUNNEL) && key.f.tun_flags) {
            abort();
        }
        char buf[2048];
        size_t n = pkey_format(&key, NULL, buf, sizeof buf);
        if (n < sizeof buf && strlen(buf) != n) {
            abort();
        }
    }
    free(copy);
    return 0;
}
