/* Fuzz target: neigh_input() on arbitrary frames, against an IPv4 and an IPv6
 * neighbour table (each with a gateway, a static entry and a pending lookup), then a
 * lookup of what may have been learned and a JSON dump. */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/vswitch/neigh.h"

static uint64_t
fuzz_clock(void)
{
    return 5000000;
}

static void
run(const char *local, const char *gateway, const char *static_ip, const char *peer,
    bool ipv6, const uint8_t *data, size_t size)
{
    static const uint8_t local_mac[6] = {0x0c, 0x42, 0xa1, 0, 0, 0x11};
    static const uint8_t static_mac[6] = {0x0c, 0x42, 0xa1, 0, 0, 0x50};
    struct neigh_config cfg = {
        .local_ip = local,
        .gateway = gateway,
        .max_entries = 4,
        .now_ms = fuzz_clock,
    };
    memcpy(cfg.local_mac, local_mac, 6);
    struct neigh_table *t = NULL;
    if (neigh_create(&cfg, &t)) {
        abort();
    }
    if (neigh_add_static(t, static_ip, static_mac)) {
        abort();
    }

    uint8_t ip[16] = {0}, mac[6], buf[256];
    size_t len = 0;
    if (inet_pton(ipv6 ? AF_INET6 : AF_INET, peer, ip) != 1) {
        abort();
    }
    (void)neigh_lookup(t, ip, ipv6, mac, buf, sizeof buf, &len);

    size_t reply_len = 0;
    int r = neigh_input(t, data, size, buf, sizeof buf, &reply_len);
    if (r == 1 && (reply_len < 42 || reply_len > sizeof buf)) {
        abort();
    }
    /* A frame truncated by one byte must not read past its end either. */
    if (size) {
        uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
        if (copy) {
            memcpy(copy, data, size - 1);
            (void)neigh_input(t, copy, size - 1, buf, sizeof buf, &reply_len);
            free(copy);
        }
    }
    (void)neigh_lookup(t, ip, ipv6, mac, buf, sizeof buf, &len);
    json_decref(neigh_dump_json(t));
    neigh_destroy(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run("192.168.100.11", "192.168.100.1", "192.168.100.50", "192.168.100.12", false,
        data, size);
    run("fd00::11", "fd00::1", "fd00::50", "fd00::12", true, data, size);
    return 0;
}
