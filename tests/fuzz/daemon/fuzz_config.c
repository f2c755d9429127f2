/* Fuzz target: the configuration-file parser of ovnic-dpud (dpu/daemon/config.c).
 *
 * The input is the text of a configuration file.  It is parsed with
 * dpud_config_parse_text(), then checked with dpud_config_finish(), as ovnic-dpud
 * does with --config.  Each either succeeds or fails with a one-line message.  A
 * configuration that passes must hold what the daemon relies on: the required keys,
 * remotes that stream_remote_list_check() accepts, representor names that
 * binding_representor_name_check() accepts (so that the devargs made from them hold
 * no extra ','), and an idle back-off whose first sleep is not longer than its
 * longest. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpu/controller/binding.h"
#include "dpu/daemon/config.h"
#include "shared/util/log.h"
#include "shared/util/stream.h"

static size_t
count_char(const char *s, char c)
{
    size_t n = 0;

    for (; *s; s++) {
        n += *s == c;
    }
    return n;
}

static void
check_message(const char *errbuf)
{
    if (!errbuf[0] || strchr(errbuf, '\n')) {
        abort();
    }
}

static void
check_config(const struct dpud_config *c)
{
    if (!c->system_id || !c->sb_remote || !c->hostname || !c->rundir ||
        !c->bridge_mappings || !c->cms_options || !c->n_encap_ips ||
        c->encap_ips[c->n_encap_ips] ||
        stream_remote_list_check(c->sb_remote, NULL, NULL)) {
        abort();
    }
    for (size_t i = 0; i < c->n_representors; i++) {
        const char *name = c->representors[i].name;
        if (binding_representor_name_check(name, NULL) ||
            c->representors[i].vf_num > 65535 ||
            strlen(c->representors[i].pf_mac) != 17) {
            abort();
        }
        char *devargs = dpud_config_representor_devargs(c, name);
        if (c->memif_dir && !c->representor_devargs &&
            (!devargs || count_char(devargs, ',') != 3)) {
            abort();
        }
        free(devargs);
    }
    unsigned int min = c->idle_min_us ? c->idle_min_us : 20;
    unsigned int max = c->idle_max_us ? c->idle_max_us : 2000;
    if (min > max) {
        abort();
    }
    if (c->dpdk && !c->memif_dir && !c->uplink_devargs) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dpud_config config = {0};
    char errbuf[512];

    ovnic_log_set_level(NULL, OVNIC_LOG_OFF);
    errbuf[0] = '\0';
    if (dpud_config_parse_text(&config, "fuzz.conf", (const char *)data, size, errbuf,
                               sizeof errbuf)) {
        check_message(errbuf);
    } else if (dpud_config_finish(&config, errbuf, sizeof errbuf)) {
        check_message(errbuf);
    } else {
        check_config(&config);
    }
    dpud_config_destroy(&config);
    return 0;
}
