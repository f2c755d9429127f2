/* Fuzz target: the record of VF attachments (STATE-DIR/attachments.json, host/state.c)
 * as it may be found on disk, damaged or edited.  A record that parses holds what
 * the rest of host/ relies on: valid PCI addresses, a VF number in range, a known
 * kind with its members, and no duplicate. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct host_state st;
    struct ovnic_err err;
    size_t i, j;

    host_state_init(&st);
    ovnic_err_clear(&err);
    if (host_state_parse((const char *)data, size, &st, &err)) {
        if (!ovnic_err_is_set(&err) || st.n || st.records) {
            abort();
        }
        return 0;
    }
    for (i = 0; i < st.n; i++) {
        const struct host_attachment *a = &st.records[i];

        if (!sriov_pci_addr_is_valid(a->pf) || !sriov_pci_addr_is_valid(a->vf_pci) ||
            a->vf >= SRIOV_MAX_VFS || a->vlan < -1 || a->vlan > 4095 ||
            (a->kind != HOST_ATTACH_NETNS && a->kind != HOST_ATTACH_VM) ||
            (a->kind == HOST_ATTACH_NETNS && (!a->netns[0] || !a->ifname[0]))) {
            abort();
        }
        for (j = 0; j < i; j++) {
            if (st.records[j].vf == a->vf && !strcmp(st.records[j].pf, a->pf)) {
                abort();
            }
        }
    }
    host_state_clear(&st);
    return 0;
}
