/* Fuzz target for the checks of an Encap "ip" from the SB (encap_ip_refusal()): any
 * bytes are refused or accepted without a crash, and an address accepted for either
 * underlay is accepted for exactly one of IPv4 and IPv6. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dpu/controller/encap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *ip = malloc(size + 1);

    if (!ip) {
        return 0;
    }
    memcpy(ip, data, size);
    ip[size] = '\0';

    const char *any = encap_ip_refusal(ip, AF_UNSPEC);
    const char *v4 = encap_ip_refusal(ip, AF_INET);
    const char *v6 = encap_ip_refusal(ip, AF_INET6);

    if (!any ? !v4 == !v6 : !v4 || !v6) {
        abort();
    }
    free(ip);
    return 0;
}
