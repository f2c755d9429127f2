/* ovnic-dpud: configuration file and command line (see config.h). */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpu/ovsdb/version.h"
#include "shared/proto/hostlink.h"
#include "shared/proto/hostlink_server.h"
#include "shared/util/log.h"

#define DPUD_VERSION "0.1.0"
#define DEFAULT_RUNDIR "/var/run/ovnic"
#define DEFAULT_PROBE_INTERVAL_MS 5000
#define DPUD_HOSTLINK_DOWN_DELAY_MS_DEFAULT 10000
/* The range of the vswitch's mbuf pool (vswitch_config.n_mbufs). */
#define DPUD_N_MBUFS_MIN 512
#define DPUD_N_MBUFS_MAX (1u << 24)

enum key_id {
    KEY_SYSTEM_ID,
    KEY_HOSTNAME,
    KEY_SB_REMOTE,
    KEY_CA_CERT,
    KEY_CERTIFICATE,
    KEY_PRIVATE_KEY,
    KEY_ENCAP_IP,
    KEY_ENCAP_CSUM,
    KEY_BRIDGE_MAPPINGS,
    KEY_PROBE_INTERVAL,
    KEY_MONITOR_ALL,
    KEY_CMS_OPTIONS,
    KEY_RUNDIR,
    KEY_LOG_FILE,
    KEY_LOG,
    KEY_REPRESENTORS,
    KEY_DATAPATH,
    KEY_DPDK_ARGS,
    KEY_MEMIF_DIR,
    KEY_UPLINK_DEVARGS,
    KEY_REPRESENTOR_DEVARGS,
    KEY_UPLINK_MAC,
    KEY_ENCAP_PREFIX_LEN,
    KEY_UNDERLAY_GATEWAY,
    KEY_UNDERLAY_MTU,
    KEY_IDLE_MIN_US,
    KEY_IDLE_MAX_US,
    KEY_N_MBUFS,
    KEY_HOSTLINK_LISTEN,
    KEY_HOSTLINK_CA_CERT,
    KEY_HOSTLINK_CERTIFICATE,
    KEY_HOSTLINK_PRIVATE_KEY,
    KEY_HOSTLINK_ALLOW_PLAIN,
    KEY_HOSTLINK_LEASE_MS,
    KEY_HOSTLINK_DOWN_DELAY_MS,
    KEY_HOSTLINK_HOSTS,
};

struct key_desc {
    const char *name;
    enum key_id id;
    const char *help;
};

static const struct key_desc keys[] = {
    {"system-id", KEY_SYSTEM_ID, "chassis name in the SB (required)"},
    {"hostname", KEY_HOSTNAME, "Chassis hostname (default: this host's name)"},
    {"sb-remote", KEY_SB_REMOTE, "SB remote(s): unix:PATH, tcp:IP:PORT, ssl:IP:PORT"},
    {"ca-cert", KEY_CA_CERT, "CA certificate (PEM) for ssl:"},
    {"certificate", KEY_CERTIFICATE, "certificate (PEM) for ssl:"},
    {"private-key", KEY_PRIVATE_KEY, "private key (PEM) for ssl:"},
    {"encap-ip", KEY_ENCAP_IP, "Geneve tunnel IP(s), comma-separated (required)"},
    {"encap-csum", KEY_ENCAP_CSUM, "Encap options:csum (default true)"},
    {"bridge-mappings", KEY_BRIDGE_MAPPINGS, "physnet:uplink,... (default none)"},
    {"probe-interval", KEY_PROBE_INTERVAL, "SB keepalive in ms, 0 off (default 5000)"},
    {"monitor-all", KEY_MONITOR_ALL, "monitor every SB row (default false)"},
    {"cms-options", KEY_CMS_OPTIONS, "Chassis other_config:ovn-cms-options"},
    {"rundir", KEY_RUNDIR, "control socket, pidfile, state (default " DEFAULT_RUNDIR ")"},
    {"log-file", KEY_LOG_FILE, "log to FILE instead of stderr"},
    {"log", KEY_LOG, "log levels, e.g. 'info' or 'ANY:warn,dpud:dbg'"},
    {"representors", KEY_REPRESENTORS, "PF-MAC/VF-NUM=NAME,... representor table"},
    {"datapath", KEY_DATAPATH, "none (control plane only, default) or dpdk"},
    {"dpdk-args", KEY_DPDK_ARGS,
     "extra EAL arguments (default: hugepages if reserved, else --no-huge)"},
    {"memif-dir", KEY_MEMIF_DIR, "representor sockets DIR/NAME.sock (ovnic-nicsim)"},
    {"uplink-devargs", KEY_UPLINK_DEVARGS, "DPDK devargs of the uplink representor"},
    {"representor-devargs", KEY_REPRESENTOR_DEVARGS,
     "DPDK devargs of a representor, '{name}' replaced"},
    {"uplink-mac", KEY_UPLINK_MAC, "MAC of the uplink (default: the port's)"},
    {"encap-prefix-len", KEY_ENCAP_PREFIX_LEN,
     "prefix of encap-ip's subnet (default 24)"},
    {"underlay-gateway", KEY_UNDERLAY_GATEWAY, "next hop for other subnets' endpoints"},
    {"underlay-mtu", KEY_UNDERLAY_MTU, "IP MTU of the underlay (default 1500)"},
    {"idle-min-us", KEY_IDLE_MIN_US, "datapath idle back-off: first sleep (default 20)"},
    {"idle-max-us", KEY_IDLE_MAX_US,
     "datapath idle back-off: longest sleep (default 2000)"},
    {"n-mbufs", KEY_N_MBUFS,
     "packet buffers of the datapath, 512..16777216 (default 16383)"},
    {"hostlink-listen", KEY_HOSTLINK_LISTEN,
     "serve hosts on pssl:PORT[:IP] (default off)"},
    {"hostlink-ca-cert", KEY_HOSTLINK_CA_CERT,
     "CA of host certificates (default ca-cert)"},
    {"hostlink-certificate", KEY_HOSTLINK_CERTIFICATE,
     "certificate shown to hosts (default certificate)"},
    {"hostlink-private-key", KEY_HOSTLINK_PRIVATE_KEY,
     "its private key (default private-key)"},
    {"hostlink-allow-plain", KEY_HOSTLINK_ALLOW_PLAIN,
     "allow punix:/ptcp: hostlink-listen, no TLS (default false)"},
    {"hostlink-lease-ms", KEY_HOSTLINK_LEASE_MS,
     "host lease, 100..3600000 ms (default 15000)"},
    {"hostlink-down-delay-ms", KEY_HOSTLINK_DOWN_DELAY_MS,
     "lost host: its ports down after, 0..3600000 ms (default 10000)"},
    {"hostlink-hosts", KEY_HOSTLINK_HOSTS,
     "HOST=PF-MAC[+PF-MAC...],... PFs of each host (default: one host owns all)"},
};

static int set_error(char *errbuf, size_t errlen, const char *fmt, ...)
    OVNIC_PRINTF(3, 4);

static int
set_error(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vsnprintf(errbuf, errlen, fmt, args);
    va_end(args);
    return -EINVAL;
}

static const struct key_desc *
key_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (!strcmp(keys[i].name, name)) {
            return &keys[i];
        }
    }
    return NULL;
}

int
dpud_config_parse_bool(const char *s, bool *value)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (!strcasecmp(s, yes[i])) {
            *value = true;
            return 0;
        }
        if (!strcasecmp(s, no[i])) {
            *value = false;
            return 0;
        }
    }
    return -EINVAL;
}

int
dpud_config_parse_mac(const char *s, char out[18])
{
    unsigned int b[6];
    char tail;

    if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
                                  &b[3], &b[4], &b[5], &tail) != 6) {
        return -EINVAL;
    }
    for (size_t i = 0; i < 17; i++) {
        if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i])) {
            return -EINVAL;
        }
    }
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
             b[5]);
    return 0;
}

static int
replace_string(char **field, const char *value)
{
    char *copy = strdup(value);

    if (!copy) {
        return -ENOMEM;
    }
    free(*field);
    *field = copy;
    return 0;
}

static void
free_strv(char **v)
{
    if (v) {
        for (char **p = v; *p; p++) {
            free(*p);
        }
        free(v);
    }
}

static void
free_representors(struct dpud_representor *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].pf_mac);
        free(r[i].name);
    }
    free(r);
}

/* Trims spaces at both ends of 's' in place and returns its new start. */
static char *
trim(char *s)
{
    size_t len;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1])) {
        s[--len] = '\0';
    }
    return s;
}

static bool
is_ip_address(const char *s)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int
parse_encap_ips(struct dpud_config *config, const char *value, char *errbuf,
                size_t errlen)
{
    char *copy = strdup(value), *save = NULL;
    char **ips = NULL;
    size_t n = 0;
    int error = 0;

    if (!copy) {
        return -ENOMEM;
    }
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char **ips_;

        tok = trim(tok);
        if (!is_ip_address(tok)) {
            error = set_error(errbuf, errlen, "encap-ip: '%s' is not an IP address", tok);
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(ips[i], tok)) {
                error = set_error(errbuf, errlen, "encap-ip: '%s' given twice", tok);
                goto out;
            }
        }
        ips_ = realloc(ips, (n + 2) * sizeof *ips);
        if (!ips_) {
            error = -ENOMEM;
            goto out;
        }
        ips = ips_;
        ips[n] = strdup(tok);
        if (!ips[n]) {
            error = -ENOMEM;
            goto out;
        }
        ips[++n] = NULL;
    }
    if (!n) {
        error = set_error(errbuf, errlen, "encap-ip: no address given");
    }
out:
    free(copy);
    if (error) {
        free_strv(ips);
        return error;
    }
    free_strv(config->encap_ips);
    config->encap_ips = ips;
    config->n_encap_ips = n;
    return 0;
}

static bool
is_name(const char *s)
{
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (!isalnum((unsigned char)*s) && !strchr("-_.", *s)) {
            return false;
        }
    }
    return true;
}

static int
check_bridge_mappings(const char *value, char *errbuf, size_t errlen)
{
    char *copy = strdup(value), *save = NULL;
    int error = 0;

    if (!copy) {
        return -ENOMEM;
    }
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');

        if (!colon) {
            error = set_error(errbuf, errlen,
                              "bridge-mappings: '%s' is not PHYSNET:UPLINK", trim(tok));
            break;
        }
        *colon = '\0';
        if (!is_name(trim(tok)) || !is_name(trim(colon + 1))) {
            error = set_error(errbuf, errlen,
                              "bridge-mappings: bad entry '%s:%s' (names are letters, "
                              "digits, '-', '_' and '.')",
                              trim(tok), trim(colon + 1));
            break;
        }
    }
    free(copy);
    return error;
}

static int
parse_representors(struct dpud_config *config, const char *value, char *errbuf,
                   size_t errlen)
{
    struct dpud_representor *r = NULL;
    char *copy = strdup(value), *save = NULL;
    size_t n = 0;
    int error = 0;

    if (!copy) {
        return -ENOMEM;
    }
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *slash = strchr(tok, '/'), *eq = strchr(tok, '=');
        struct dpud_representor *r_;
        char mac[18], *end;
        unsigned long vf;

        if (!slash || !eq || eq < slash) {
            error = set_error(errbuf, errlen,
                              "representors: '%s' is not PF-MAC/VF-NUM=NAME", trim(tok));
            goto out;
        }
        *slash = *eq = '\0';
        if (dpud_config_parse_mac(trim(tok), mac)) {
            error = set_error(errbuf, errlen, "representors: bad PF MAC '%s'", trim(tok));
            goto out;
        }
        errno = 0;
        vf = strtoul(trim(slash + 1), &end, 10);
        if (errno || *end || !*trim(slash + 1) || vf > UINT16_MAX) {
            error = set_error(errbuf, errlen, "representors: bad VF number '%s'",
                              trim(slash + 1));
            goto out;
        }
        if (!is_name(trim(eq + 1))) {
            error =
                set_error(errbuf, errlen, "representors: bad name '%s'", trim(eq + 1));
            goto out;
        }
        r_ = realloc(r, (n + 1) * sizeof *r);
        if (!r_) {
            error = -ENOMEM;
            goto out;
        }
        r = r_;
        r[n].pf_mac = strdup(mac);
        r[n].vf_num = vf;
        r[n].name = strdup(trim(eq + 1));
        n++;
        if (!r[n - 1].pf_mac || !r[n - 1].name) {
            error = -ENOMEM;
            goto out;
        }
    }
out:
    free(copy);
    if (error) {
        free_representors(r, n);
        return error;
    }
    free_representors(config->representors, config->n_representors);
    config->representors = r;
    config->n_representors = n;
    return 0;
}

static void
free_host_pfs(struct dpud_host_pf *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].pf_mac);
    }
    free(h);
}

/* "HOST=PF-MAC[+PF-MAC...],...": each PF belongs to one host. */
static int
parse_hostlink_hosts(struct dpud_config *config, const char *value, char *errbuf,
                     size_t errlen)
{
    struct dpud_host_pf *h = NULL;
    char *copy = strdup(value), *save = NULL;
    size_t n = 0;
    int error = 0;

    if (!copy) {
        return -ENOMEM;
    }
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '='), *save2 = NULL;

        if (!eq) {
            error = set_error(errbuf, errlen,
                              "hostlink-hosts: '%s' is not HOST=PF-MAC[+PF-MAC...]",
                              trim(tok));
            goto out;
        }
        *eq = '\0';
        const char *name = trim(tok);
        if (!*name || strlen(name) > 64 ||
            strspn(name, "abcdefghijklmnopqrstuvwxyz"
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789._-:@") != strlen(name)) {
            error = set_error(errbuf, errlen, "hostlink-hosts: bad host name '%s'", name);
            goto out;
        }
        for (char *m = strtok_r(eq + 1, "+", &save2); m;
             m = strtok_r(NULL, "+", &save2)) {
            struct dpud_host_pf *h_;
            char mac[18];

            if (dpud_config_parse_mac(trim(m), mac)) {
                error =
                    set_error(errbuf, errlen, "hostlink-hosts: bad PF MAC '%s'", trim(m));
                goto out;
            }
            for (size_t i = 0; i < n; i++) {
                if (!strcmp(h[i].pf_mac, mac)) {
                    error = set_error(errbuf, errlen,
                                      "hostlink-hosts: PF %s given to two hosts (%s, %s)",
                                      mac, h[i].name, name);
                    goto out;
                }
            }
            h_ = realloc(h, (n + 1) * sizeof *h);
            if (!h_) {
                error = -ENOMEM;
                goto out;
            }
            h = h_;
            h[n].name = strdup(name);
            h[n].pf_mac = strdup(mac);
            n++;
            if (!h[n - 1].name || !h[n - 1].pf_mac) {
                error = -ENOMEM;
                goto out;
            }
        }
    }
out:
    free(copy);
    if (error) {
        free_host_pfs(h, n);
        return error;
    }
    free_host_pfs(config->hostlink_hosts, config->n_hostlink_hosts);
    config->hostlink_hosts = h;
    config->n_hostlink_hosts = n;
    return 0;
}

static int
parse_uint32(const char *value, uint32_t *out)
{
    unsigned long long v;
    char *end;

    errno = 0;
    v = strtoull(value, &end, 10);
    if (errno || !*value || *end || value[0] == '-' || v > UINT32_MAX) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

/* Applies one "key = value".  'where' names the source for messages. */
static int
apply_key(struct dpud_config *config, const char *name, const char *value,
          const char *where, char *errbuf, size_t errlen)
{
    const struct key_desc *key = key_find(name);
    int error = 0;
    bool b;

    if (!key) {
        return set_error(errbuf, errlen, "%sunknown key '%s'", where, name);
    }
    switch (key->id) {
    case KEY_SYSTEM_ID:
        if (!is_name(value)) {
            return set_error(errbuf, errlen,
                             "%ssystem-id: '%s' must be letters, digits, '-', '_', '.'",
                             where, value);
        }
        return replace_string(&config->system_id, value);
    case KEY_HOSTNAME:
        if (!*value) {
            return set_error(errbuf, errlen, "%shostname: empty", where);
        }
        return replace_string(&config->hostname, value);
    case KEY_SB_REMOTE:
        return replace_string(&config->sb_remote, value);
    case KEY_CA_CERT:
        return replace_string(&config->ca_cert, value);
    case KEY_CERTIFICATE:
        return replace_string(&config->certificate, value);
    case KEY_PRIVATE_KEY:
        return replace_string(&config->private_key, value);
    case KEY_ENCAP_IP:
        error = parse_encap_ips(config, value, errbuf, errlen);
        break;
    case KEY_ENCAP_CSUM:
    case KEY_MONITOR_ALL:
    case KEY_HOSTLINK_ALLOW_PLAIN:
        if (dpud_config_parse_bool(value, &b)) {
            return set_error(errbuf, errlen, "%s%s: '%s' is not a boolean", where,
                             key->name, value);
        }
        *(key->id == KEY_ENCAP_CSUM    ? &config->encap_csum
          : key->id == KEY_MONITOR_ALL ? &config->monitor_all
                                       : &config->hostlink_allow_plain) = b;
        return 0;
    case KEY_HOSTLINK_LISTEN:
        if (!*value) {
            return set_error(errbuf, errlen, "%shostlink-listen: empty", where);
        }
        return replace_string(&config->hostlink_listen, value);
    case KEY_HOSTLINK_CA_CERT:
        return replace_string(&config->hostlink_ca_cert, value);
    case KEY_HOSTLINK_CERTIFICATE:
        return replace_string(&config->hostlink_certificate, value);
    case KEY_HOSTLINK_PRIVATE_KEY:
        return replace_string(&config->hostlink_private_key, value);
    case KEY_HOSTLINK_HOSTS:
        error = parse_hostlink_hosts(config, value, errbuf, errlen);
        break;
    case KEY_HOSTLINK_LEASE_MS:
    case KEY_HOSTLINK_DOWN_DELAY_MS: {
        uint32_t v, min = key->id == KEY_HOSTLINK_LEASE_MS ? HOSTLINK_LEASE_MIN_MS : 0;

        if (parse_uint32(value, &v) || v < min || v > HOSTLINK_LEASE_MAX_MS) {
            return set_error(errbuf, errlen, "%s%s: '%s' is not a number from %u to %u",
                             where, key->name, value, min, HOSTLINK_LEASE_MAX_MS);
        }
        *(key->id == KEY_HOSTLINK_LEASE_MS ? &config->hostlink_lease_ms
                                           : &config->hostlink_down_delay_ms) = v;
        return 0;
    }
    case KEY_BRIDGE_MAPPINGS:
        error = check_bridge_mappings(value, errbuf, errlen);
        return error ? error : replace_string(&config->bridge_mappings, value);
    case KEY_PROBE_INTERVAL:
        if (parse_uint32(value, &config->probe_interval) ||
            (config->probe_interval && config->probe_interval < 1000)) {
            return set_error(errbuf, errlen,
                             "%sprobe-interval: '%s' is not 0 or a number of ms >= 1000",
                             where, value);
        }
        return 0;
    case KEY_CMS_OPTIONS:
        return replace_string(&config->cms_options, value);
    case KEY_RUNDIR:
        if (!*value) {
            return set_error(errbuf, errlen, "%srundir: empty", where);
        }
        return replace_string(&config->rundir, value);
    case KEY_LOG_FILE:
        return replace_string(&config->log_file, value);
    case KEY_LOG:
        return replace_string(&config->log, value);
    case KEY_REPRESENTORS:
        error = parse_representors(config, value, errbuf, errlen);
        break;
    case KEY_DATAPATH:
        if (strcmp(value, "none") && strcmp(value, "dpdk")) {
            return set_error(errbuf, errlen, "%sdatapath: '%s' is not 'none' or 'dpdk'",
                             where, value);
        }
        config->dpdk = !strcmp(value, "dpdk");
        return 0;
    case KEY_DPDK_ARGS:
        return replace_string(&config->dpdk_args, value);
    case KEY_MEMIF_DIR:
        return replace_string(&config->memif_dir, value);
    case KEY_UPLINK_DEVARGS:
        return replace_string(&config->uplink_devargs, value);
    case KEY_REPRESENTOR_DEVARGS:
        if (!strstr(value, "{name}")) {
            return set_error(errbuf, errlen, "%srepresentor-devargs: '%s' has no {name}",
                             where, value);
        }
        return replace_string(&config->representor_devargs, value);
    case KEY_UPLINK_MAC: {
        char mac[18];
        if (dpud_config_parse_mac(value, mac)) {
            return set_error(errbuf, errlen, "%suplink-mac: '%s' is not a MAC", where,
                             value);
        }
        return replace_string(&config->uplink_mac, mac);
    }
    case KEY_UNDERLAY_GATEWAY:
        return replace_string(&config->underlay_gateway, value);
    case KEY_ENCAP_PREFIX_LEN:
    case KEY_UNDERLAY_MTU:
    case KEY_IDLE_MIN_US:
    case KEY_IDLE_MAX_US:
    case KEY_N_MBUFS: {
        uint32_t v;
        uint32_t max = key->id == KEY_ENCAP_PREFIX_LEN ? 128
                       : key->id == KEY_UNDERLAY_MTU   ? 65535
                       : key->id == KEY_N_MBUFS        ? DPUD_N_MBUFS_MAX
                                                       : 1000000;
        uint32_t min = key->id == KEY_UNDERLAY_MTU ? 576
                       : key->id == KEY_N_MBUFS    ? DPUD_N_MBUFS_MIN
                                                   : 1;
        if (parse_uint32(value, &v) || v < min || v > max) {
            return set_error(errbuf, errlen, "%s%s: '%s' is not a number from %u to %u",
                             where, key->name, value, min, max);
        }
        *(key->id == KEY_ENCAP_PREFIX_LEN ? &config->encap_prefix_len
          : key->id == KEY_UNDERLAY_MTU   ? &config->underlay_mtu
          : key->id == KEY_IDLE_MIN_US    ? &config->idle_min_us
          : key->id == KEY_IDLE_MAX_US    ? &config->idle_max_us
                                          : &config->n_mbufs) = v;
        return 0;
    }
    }
    if (error == -EINVAL && *where) {
        /* Prefix the file position to the message already written. */
        char msg[256];

        snprintf(msg, sizeof msg, "%s", errbuf);
        set_error(errbuf, errlen, "%s%s", where, msg);
    }
    return error;
}

static int
load_file(struct dpud_config *config, const char *path, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, where[300];
    size_t cap = 0;
    int lineno = 0, error = 0;

    if (!f) {
        return set_error(errbuf, errlen, "cannot open config file '%s': %s", path,
                         strerror(errno));
    }
    while (getline(&line, &cap, f) > 0) {
        char *hash = strchr(line, '#'), *eq, *s;

        lineno++;
        if (hash) {
            *hash = '\0';
        }
        s = trim(line);
        if (!*s) {
            continue;
        }
        snprintf(where, sizeof where, "%s:%d: ", path, lineno);
        eq = strchr(s, '=');
        if (!eq) {
            error = set_error(errbuf, errlen, "%sexpected 'key = value'", where);
            break;
        }
        *eq = '\0';
        error = apply_key(config, trim(s), trim(eq + 1), where, errbuf, errlen);
        if (error) {
            break;
        }
    }
    if (!error && ferror(f)) {
        error = set_error(errbuf, errlen, "cannot read config file '%s'", path);
    }
    free(line);
    fclose(f);
    return error;
}

static void
print_help(void)
{
    printf("ovnic-dpud: OVN chassis control plane of an ovnic DPU\n"
           "Usage: ovnic-dpud [--config=FILE] [--KEY=VALUE...] [--detach] [--replace]\n"
           "\n"
           "Every configuration key can be given in FILE as 'KEY = VALUE' or on the\n"
           "command line as --KEY=VALUE (which wins):\n");
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        printf("  --%-24s %s\n", keys[i].name, keys[i].help);
    }
    printf("\nOther options:\n"
           "  --config=FILE        read configuration keys from FILE\n"
           "  --detach             run in the background once ready\n"
           "  --replace            take over from the ovnic-dpud running on the same\n"
           "                       rundir: start DPDK first, then make it exit\n"
           "  -h, --help           show this help\n"
           "  -V, --version        show the version\n"
           "\nWith datapath = none, flows are considered installed as soon as a port\n"
           "binding is committed; with datapath = dpdk, the DPDK vswitch forwards.\n");
}

enum dpud_config_result
dpud_config_parse(struct dpud_config *config, int argc, char *argv[], char *errbuf,
                  size_t errlen)
{
    char hostname[256];
    int i;

    config->encap_csum = true;
    config->probe_interval = DEFAULT_PROBE_INTERVAL_MS;
    config->hostlink_lease_ms = HOSTLINK_LEASE_MS_DEFAULT;
    config->hostlink_down_delay_ms = DPUD_HOSTLINK_DOWN_DELAY_MS_DEFAULT;

    /* First pass: --help, --version, --config. */
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            print_help();
            return DPUD_CONFIG_EXIT;
        } else if (!strcmp(arg, "-V") || !strcmp(arg, "--version")) {
            printf("ovnic-dpud (ovnic) %s\n%s\n", DPUD_VERSION, ovsdb_client_version());
            return DPUD_CONFIG_EXIT;
        } else if (!strncmp(arg, "--config=", 9)) {
            if (replace_string(&config->config_file, arg + 9)) {
                goto nomem;
            }
        } else if (!strcmp(arg, "--config")) {
            if (i + 1 >= argc) {
                set_error(errbuf, errlen, "option '--config' needs a value");
                return DPUD_CONFIG_INVALID;
            }
            if (replace_string(&config->config_file, argv[++i])) {
                goto nomem;
            }
        }
    }
    if (config->config_file && load_file(config, config->config_file, errbuf, errlen)) {
        return DPUD_CONFIG_INVALID;
    }

    /* Second pass: every other option overrides the file. */
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        char name[64];
        const char *value;
        const char *eq;

        if (!strcmp(arg, "--config")) {
            i++;
            continue;
        } else if (!strncmp(arg, "--config=", 9)) {
            continue;
        } else if (!strcmp(arg, "--detach")) {
            config->detach = true;
            continue;
        } else if (!strcmp(arg, "--replace")) {
            config->replace = true;
            continue;
        } else if (strncmp(arg, "--", 2) || !arg[2]) {
            set_error(errbuf, errlen, "unexpected argument '%s'", arg);
            return DPUD_CONFIG_INVALID;
        }
        eq = strchr(arg, '=');
        snprintf(name, sizeof name, "%.*s",
                 (int)(eq ? (size_t)(eq - arg - 2) : strlen(arg + 2)), arg + 2);
        if (!key_find(name)) {
            set_error(errbuf, errlen, "unknown option '%s'", arg);
            return DPUD_CONFIG_INVALID;
        }
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            set_error(errbuf, errlen, "option '--%s' needs a value", name);
            return DPUD_CONFIG_INVALID;
        }
        if (apply_key(config, name, value, "", errbuf, errlen)) {
            return DPUD_CONFIG_INVALID;
        }
    }

    /* Defaults and required keys. */
    if (!config->system_id) {
        set_error(errbuf, errlen, "system-id is required");
        return DPUD_CONFIG_INVALID;
    }
    if (!config->sb_remote || !*config->sb_remote) {
        set_error(errbuf, errlen, "sb-remote is required");
        return DPUD_CONFIG_INVALID;
    }
    if (strstr(config->sb_remote, "ssl:") &&
        (!config->ca_cert || !config->certificate || !config->private_key)) {
        set_error(errbuf, errlen,
                  "an ssl: sb-remote needs ca-cert, certificate and private-key");
        return DPUD_CONFIG_INVALID;
    }
    if (!config->n_encap_ips) {
        set_error(errbuf, errlen, "encap-ip is required");
        return DPUD_CONFIG_INVALID;
    }
    if (config->dpdk && !config->memif_dir && !config->uplink_devargs) {
        set_error(errbuf, errlen,
                  "datapath = dpdk needs an uplink: set memif-dir or uplink-devargs");
        return DPUD_CONFIG_INVALID;
    }
    if (config->hostlink_listen) {
        struct ovnic_err err = {0};
        char ebuf[256];
        bool tls;

        /* The hostlink TLS files default to those of the SB connection. */
        if ((!config->hostlink_ca_cert && config->ca_cert &&
             replace_string(&config->hostlink_ca_cert, config->ca_cert)) ||
            (!config->hostlink_certificate && config->certificate &&
             replace_string(&config->hostlink_certificate, config->certificate)) ||
            (!config->hostlink_private_key && config->private_key &&
             replace_string(&config->hostlink_private_key, config->private_key))) {
            goto nomem;
        }
        bool have_tls = config->hostlink_ca_cert && config->hostlink_certificate &&
                        config->hostlink_private_key;
        if (hostlink_check_transport(config->hostlink_listen, true,
                                     config->hostlink_allow_plain, have_tls, &tls,
                                     &err)) {
            set_error(errbuf, errlen, "hostlink-listen: %s",
                      ovnic_err_format(&err, ebuf, sizeof ebuf));
            return DPUD_CONFIG_INVALID;
        }
        for (size_t i = 0; i < config->n_hostlink_hosts; i++) {
            bool found = false;
            for (size_t j = 0; j < config->n_representors && !found; j++) {
                found = !strcmp(config->representors[j].pf_mac,
                                config->hostlink_hosts[i].pf_mac);
            }
            if (!found) {
                set_error(errbuf, errlen,
                          "hostlink-hosts: PF %s of host %s has no representor in "
                          "'representors'",
                          config->hostlink_hosts[i].pf_mac,
                          config->hostlink_hosts[i].name);
                return DPUD_CONFIG_INVALID;
            }
        }
    } else if (config->n_hostlink_hosts) {
        set_error(errbuf, errlen, "hostlink-hosts needs hostlink-listen");
        return DPUD_CONFIG_INVALID;
    }
    if (!config->hostname) {
        if (gethostname(hostname, sizeof hostname)) {
            snprintf(hostname, sizeof hostname, "%s", config->system_id);
        }
        hostname[sizeof hostname - 1] = '\0';
        if (replace_string(&config->hostname, hostname)) {
            goto nomem;
        }
    }
    if ((!config->rundir && replace_string(&config->rundir, DEFAULT_RUNDIR)) ||
        (!config->bridge_mappings && replace_string(&config->bridge_mappings, "")) ||
        (!config->cms_options && replace_string(&config->cms_options, ""))) {
        goto nomem;
    }
    if (config->log && ovnic_log_set_spec(config->log)) {
        set_error(errbuf, errlen, "log: bad specification '%s'", config->log);
        return DPUD_CONFIG_INVALID;
    }
    return DPUD_CONFIG_OK;

nomem:
    set_error(errbuf, errlen, "out of memory");
    return DPUD_CONFIG_INVALID;
}

void
dpud_config_destroy(struct dpud_config *config)
{
    if (!config) {
        return;
    }
    free(config->config_file);
    free(config->system_id);
    free(config->hostname);
    free(config->sb_remote);
    free(config->ca_cert);
    free(config->certificate);
    free(config->private_key);
    free_strv(config->encap_ips);
    free(config->bridge_mappings);
    free(config->cms_options);
    free(config->rundir);
    free(config->log_file);
    free(config->log);
    free(config->dpdk_args);
    free(config->memif_dir);
    free(config->uplink_devargs);
    free(config->representor_devargs);
    free(config->uplink_mac);
    free(config->underlay_gateway);
    free_representors(config->representors, config->n_representors);
    free(config->hostlink_listen);
    free(config->hostlink_ca_cert);
    free(config->hostlink_certificate);
    free(config->hostlink_private_key);
    free_host_pfs(config->hostlink_hosts, config->n_hostlink_hosts);
    memset(config, 0, sizeof *config);
}

static char *
rundir_path(const struct dpud_config *config, const char *name)
{
    char *path = NULL;

    if (asprintf(&path, "%s/%s", config->rundir, name) < 0) {
        return NULL;
    }
    return path;
}

char *
dpud_config_ctl_path(const struct dpud_config *config)
{
    return rundir_path(config, "ovnic-dpud.ctl");
}

char *
dpud_config_pid_path(const struct dpud_config *config)
{
    return rundir_path(config, "ovnic-dpud.pid");
}

char *
dpud_config_state_path(const struct dpud_config *config)
{
    return rundir_path(config, "ovnic-dpud.state");
}

/* Replaces every "{name}" of 'template' with 'name'.  Caller owns; NULL on allocation
 * failure. */
static char *
template_expand(const char *template, const char *name)
{
    size_t n = 1;
    for (const char *p = template; *p; p++) {
        n += strncmp(p, "{name}", 6) ? 1 : strlen(name);
    }
    char *out = malloc(n), *o = out;
    if (!out) {
        return NULL;
    }
    for (const char *p = template; *p;) {
        if (!strncmp(p, "{name}", 6)) {
            o = stpcpy(o, name);
            p += 6;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

char *
dpud_config_representor_devargs(const struct dpud_config *config, const char *name)
{
    if (config->representor_devargs) {
        return template_expand(config->representor_devargs, name);
    }
    if (config->memif_dir) {
        char *s = NULL;
        if (asprintf(&s, "net_memif_%s,role=client,socket=%s/%s.sock,socket-abstract=no",
                     name, config->memif_dir, name) < 0) {
            return NULL;
        }
        return s;
    }
    return NULL;
}

char *
dpud_config_uplink_devargs(const struct dpud_config *config)
{
    if (config->uplink_devargs) {
        return strdup(config->uplink_devargs);
    }
    return config->memif_dir ? dpud_config_representor_devargs(config, "p0") : NULL;
}
