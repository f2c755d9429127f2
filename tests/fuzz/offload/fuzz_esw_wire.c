/* Fuzz target: the eSwitch rule decoder (outside input from the simulated NIC's
 * control socket).  A rule that decodes must encode again to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "offload/esw_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct esw_wire_rule *rule = NULL;
    struct esw_error error;
    esw_error_clear(&error);
    if (esw_wire_rule_decode(data, size, &rule, &error)) {
        return 0;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    esw_error_clear(&error);
    if (esw_wire_rule_encode(&rule->attr, rule->items, rule->actions, rule->masks, &buf,
                             &len, &error)) {
        abort();
    }
    if (len != size || memcmp(buf, data, len)) {
        abort();
    }
    char text[4096];
    esw_rule_format(&rule->attr, rule->items, rule->actions, 0, text, sizeof text);
    free(buf);
    esw_wire_rule_destroy(rule);
    return 0;
}
