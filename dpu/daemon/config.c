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
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dpu/controller/binding.h"
#include "dpu/ovsdb/version.h"
#include "shared/proto/hostlink.h"
#include "shared/proto/hostlink_server.h"
#include "shared/util/log.h"
#include "shared/util/stream.h"

#define DPUD_VERSION "0.1.0"
#define DEFAULT_RUNDIR "/var/run/ovnic"
#define DEFAULT_PROBE_INTERVAL_MS 5000
#define DPUD_HOSTLINK_DOWN_DELAY_MS_DEFAULT 10000

/* What the vswitch accepts (vswitch_config, dpu/vswitch/dpdk_vswitch.c), checked here
 * so that a bad value is refused before the EAL starts. */
#define DPUD_N_MBUFS_MIN 512
#define DPUD_N_MBUFS_MAX (1u << 24)
#define DPUD_MTU_MIN 576
#define DPUD_MTU_MIN_IPV6 1280 /* RFC 8200's minimum link MTU. */
#define DPUD_MTU_MAX 9216
#define DPUD_IDLE_MIN_DEFAULT 20
#define DPUD_IDLE_MAX_DEFAULT 2000
#define DPUD_IDLE_US_MAX 1000000
#define DPUD_EAL_ARGS_MAX 47 /* VS_MAX_EAL_ARGS (48) with the program name. */
#define DPUD_PREFIX_LEN_DEFAULT_V4 24
#define DPUD_PREFIX_LEN_DEFAULT_V6 64

/* A memif representor is a client of "DIR/NAME.sock", which must fit in sun_path
 * with its NUL for the longest name: DIR may have at most 108 - 1 - 1 - 53 - 5 = 48
 * bytes. */
#define DPUD_SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define DPUD_MEMIF_DIR_MAX \
    (DPUD_SUN_PATH_MAX - 1 - BINDING_REPRESENTOR_NAME_MAX - sizeof ".sock" + 1)

/* system-id and hostname: at most a DNS name's length. */
#define DPUD_HOSTNAME_MAX 255

/* The largest configuration file read. */
#define DPUD_CONFIG_FILE_MAX (16u << 20)

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
    N_KEYS
};
_Static_assert(N_KEYS <= DPUD_CONFIG_MAX_KEYS, "raise DPUD_CONFIG_MAX_KEYS");

struct key_desc {
    const char *name;
    enum key_id id;
    const char *help;
};

/* In the order of enum key_id (checked by key_desc_of()). */
static const struct key_desc keys[] = {
    {"system-id", KEY_SYSTEM_ID, "chassis name in the SB (required)"},
    {"hostname", KEY_HOSTNAME, "Chassis hostname (default: this host's name)"},
    {"sb-remote", KEY_SB_REMOTE,
     "SB remote(s), comma-separated: unix:PATH, tcp:IP:PORT, ssl:IP:PORT"},
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
    {"memif-dir", KEY_MEMIF_DIR,
     "representor sockets DIR/NAME.sock (ovnic-nicsim), at most 48 bytes"},
    {"uplink-devargs", KEY_UPLINK_DEVARGS, "DPDK devargs of the uplink representor"},
    {"representor-devargs", KEY_REPRESENTOR_DEVARGS,
     "DPDK devargs of a representor, '{name}' replaced"},
    {"uplink-mac", KEY_UPLINK_MAC, "MAC of the uplink (default: the port's)"},
    {"encap-prefix-len", KEY_ENCAP_PREFIX_LEN,
     "prefix of encap-ip's subnet (default 24, IPv6 64)"},
    {"underlay-gateway", KEY_UNDERLAY_GATEWAY, "next hop for other subnets' endpoints"},
    {"underlay-mtu", KEY_UNDERLAY_MTU,
     "IP MTU of the underlay, 576..9216 (default 1500)"},
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
_Static_assert(ARRAY_SIZE(keys) == N_KEYS, "one entry per key");

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

static int
set_nomem(char *errbuf, size_t errlen)
{
    snprintf(errbuf, errlen, "out of memory");
    return -ENOMEM;
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

static const char *
key_name(enum key_id id)
{
    return keys[id].id == id ? keys[id].name : "?";
}

/* Key 'id' as the user gave it, to start a message with: "--KEY" (command line),
 * "FILE:LINE: KEY" (configuration file) or "KEY" (not given: its default). */
static const char *
key_label(const struct dpud_config *c, enum key_id id, char *buf, size_t size)
{
    int line = c->key_line[id];

    if (line < 0) {
        snprintf(buf, size, "--%s", key_name(id));
    } else if (line > 0) {
        snprintf(buf, size, "%s:%d: %s", c->config_file ? c->config_file : "-", line,
                 key_name(id));
    } else {
        snprintf(buf, size, "%s", key_name(id));
    }
    return buf;
}

/* Key 'id' as the user gave it, inside a message: "--KEY", "KEY (FILE:LINE)" or
 * "KEY (default)". */
static const char *
key_ref(const struct dpud_config *c, enum key_id id, char *buf, size_t size)
{
    int line = c->key_line[id];

    if (line < 0) {
        snprintf(buf, size, "--%s", key_name(id));
    } else if (line > 0) {
        snprintf(buf, size, "%s (%s:%d)", key_name(id),
                 c->config_file ? c->config_file : "-", line);
    } else {
        snprintf(buf, size, "%s (default)", key_name(id));
    }
    return buf;
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

/* The length of the UTF-8 sequence at 's' (of at most 'n' bytes), or 0 if it is not
 * valid UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF). */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;

    if (s[0] < 0x80) {
        return 1;
    } else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        return 0;
    }
    return len;
}

/* Checks that 's' is UTF-8 text without control characters (tabs allowed): values
 * end up in the SB, in JSON, in paths and in log lines.  Writes what is wrong into
 * 'why' and returns false otherwise. */
static bool
is_text(const char *s, char *why, size_t size)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);

    for (size_t i = 0; i < n;) {
        size_t len;

        if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f) {
            snprintf(why, size, "a control character 0x%02x at byte %zu", u[i], i + 1);
            return false;
        }
        len = utf8_len(u + i, n - i);
        if (!len) {
            snprintf(why, size, "invalid UTF-8 at byte %zu", i + 1);
            return false;
        }
        i += len;
    }
    return true;
}

/* Writes 's' into 'buf' with every byte that is not printable ASCII as "\xNN", so
 * that a message shows what is there (a stray BOM or control character). */
static const char *
escape(const char *s, char *buf, size_t size)
{
    size_t n = 0;

    for (; *s && n + 5 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            buf[n++] = (char)c;
        } else {
            n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
        }
    }
    if (*s && n + 4 <= size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n < size ? n : size - 1] = '\0';
    return buf;
}

/* Parses the numeric IPv4 or IPv6 address 's' into 'ip' (16 bytes, IPv4 in the first
 * 4), '*v6' telling which. */
static bool
ip_parse(const char *s, uint8_t ip[16], bool *v6)
{
    memset(ip, 0, 16);
    if (inet_pton(AF_INET, s, ip) == 1) {
        *v6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, s, ip) == 1) {
        *v6 = true;
        return true;
    }
    return false;
}

/* What keeps 'ip' from being a unicast address (a tunnel endpoint or a next hop), or
 * NULL. */
static const char *
ip_non_unicast(const uint8_t ip[16], bool v6)
{
    static const uint8_t zero[16];

    if (!memcmp(ip, zero, v6 ? 16 : 4)) {
        return "the unspecified address";
    }
    if (v6) {
        return ip[0] == 0xff ? "a multicast address" : NULL;
    }
    if ((ip[0] & 0xf0) == 0xe0) {
        return "a multicast address";
    }
    if (ip[0] == 0xff && ip[1] == 0xff && ip[2] == 0xff && ip[3] == 0xff) {
        return "the broadcast address";
    }
    return NULL;
}

static bool
ip_in_subnet(const uint8_t a[16], const uint8_t b[16], unsigned int plen)
{
    size_t bytes = plen / 8;

    if (memcmp(a, b, bytes)) {
        return false;
    }
    if (plen % 8) {
        uint8_t mask = (uint8_t)(0xff << (8 - plen % 8));
        return !((a[bytes] ^ b[bytes]) & mask);
    }
    return true;
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

/* Splits 'value' at commas into trimmed elements.  An empty element (",,", a ','
 * at either end, or an empty 'value' when 'allow_empty' is false) is an error that
 * names its position.  On success '*elemsp' is a NULL-terminated array that the
 * caller frees with free_strv(). */
static int
split_list(const char *label, const char *value, bool allow_empty, char ***elemsp,
           size_t *np, char *errbuf, size_t errlen)
{
    char **elems = NULL;
    size_t n = 0;

    if (!value[strspn(value, " \t\n\v\f\r")]) {
        if (!allow_empty) {
            return set_error(errbuf, errlen, "%s: empty", label);
        }
        elems = calloc(1, sizeof *elems);
        if (!elems) {
            return set_nomem(errbuf, errlen);
        }
        *elemsp = elems;
        *np = 0;
        return 0;
    }
    for (const char *p = value;; n++) {
        size_t len = strcspn(p, ",");
        char **elems_ = realloc(elems, (n + 2) * sizeof *elems);
        char *elem;

        if (!elems_) {
            free_strv(elems);
            return set_nomem(errbuf, errlen);
        }
        elems = elems_;
        elems[n] = NULL;
        elem = strndup(p, len);
        if (!elem) {
            free_strv(elems);
            return set_nomem(errbuf, errlen);
        }
        elems[n] = elem;
        elems[n + 1] = NULL;
        if (!*trim(elem)) {
            free_strv(elems);
            return set_error(errbuf, errlen, "%s: empty element (number %zu) in '%s'",
                             label, n + 1, value);
        }
        memmove(elem, trim(elem), strlen(trim(elem)) + 1);
        p += len;
        if (!*p) {
            n++;
            break;
        }
        p++;
    }
    *elemsp = elems;
    *np = n;
    return 0;
}

static int
parse_encap_ips(struct dpud_config *config, const char *label, const char *value,
                char *errbuf, size_t errlen)
{
    uint8_t(*bin)[16] = NULL;
    char **ips = NULL;
    size_t n = 0;
    int error;

    error = split_list(label, value, false, &ips, &n, errbuf, errlen);
    if (error) {
        return error;
    }
    bin = calloc(n ? n : 1, sizeof *bin);
    if (!bin) {
        free_strv(ips);
        return set_nomem(errbuf, errlen);
    }
    for (size_t i = 0; i < n; i++) {
        const char *problem;
        bool v6;

        if (!ip_parse(ips[i], bin[i], &v6)) {
            error =
                set_error(errbuf, errlen, "%s: '%s' is not an IP address", label, ips[i]);
            goto out;
        }
        problem = ip_non_unicast(bin[i], v6);
        if (problem) {
            error = set_error(errbuf, errlen,
                              "%s: '%s' is %s, not a tunnel endpoint's address", label,
                              ips[i], problem);
            goto out;
        }
        for (size_t j = 0; j < i; j++) {
            if (!memcmp(bin[i], bin[j], 16)) {
                error = set_error(errbuf, errlen, "%s: '%s' given twice", label, ips[i]);
                goto out;
            }
        }
    }
out:
    free(bin);
    if (error) {
        free_strv(ips);
        return error;
    }
    free_strv(config->encap_ips);
    config->encap_ips = ips;
    config->n_encap_ips = n;
    return 0;
}

/* Checks "physnet:uplink,..." and stores it with the spaces around elements removed
 * (as it is published in ovn-bridge-mappings). */
static int
parse_bridge_mappings(struct dpud_config *config, const char *label, const char *value,
                      char *errbuf, size_t errlen)
{
    char **elems = NULL, *out = NULL;
    size_t n = 0, len = 1;
    int error;

    error = split_list(label, value, true, &elems, &n, errbuf, errlen);
    if (error) {
        return error;
    }
    for (size_t i = 0; i < n; i++) {
        char *colon = strchr(elems[i], ':');
        char *net = elems[i], *uplink;

        if (!colon) {
            error = set_error(errbuf, errlen, "%s: '%s' is not PHYSNET:UPLINK", label,
                              elems[i]);
            goto out;
        }
        *colon = '\0';
        net = trim(net);
        uplink = trim(colon + 1);
        if (!is_name(net) || !is_name(uplink)) {
            error = set_error(errbuf, errlen,
                              "%s: bad entry '%s:%s' (names are letters, digits, '-', "
                              "'_' and '.')",
                              label, net, uplink);
            goto out;
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(elems[j], net)) {
                error =
                    set_error(errbuf, errlen,
                              "%s: physnet '%s' is mapped twice (to '%s' and to '%s')",
                              label, net, elems[j] + strlen(elems[j]) + 1, uplink);
                goto out;
            }
        }
        /* Keep "net\0uplink" in place for the checks of the next elements. */
        len += strlen(net) + 1 + strlen(uplink) + 1;
        memmove(elems[i], net, strlen(net) + 1);
        memmove(elems[i] + strlen(elems[i]) + 1, uplink, strlen(uplink) + 1);
    }
    out = malloc(len);
    if (!out) {
        error = set_nomem(errbuf, errlen);
        goto out;
    }
    out[0] = '\0';
    for (size_t i = 0, o = 0; i < n; i++) {
        const char *net = elems[i], *uplink = elems[i] + strlen(elems[i]) + 1;
        o += (size_t)sprintf(out + o, "%s%s:%s", i ? "," : "", net, uplink);
    }
    free(config->bridge_mappings);
    config->bridge_mappings = out;
out:
    free_strv(elems);
    return error;
}

static int
parse_representors(struct dpud_config *config, const char *label, const char *value,
                   char *errbuf, size_t errlen)
{
    struct dpud_representor *r = NULL;
    char **elems = NULL;
    size_t n = 0, n_elems = 0;
    int error;

    error = split_list(label, value, true, &elems, &n_elems, errbuf, errlen);
    if (error) {
        return error;
    }
    r = calloc(n_elems ? n_elems : 1, sizeof *r);
    if (!r) {
        free_strv(elems);
        return set_nomem(errbuf, errlen);
    }
    for (size_t i = 0; i < n_elems; i++) {
        char *tok = elems[i];
        char *slash = strchr(tok, '/'), *eq = strchr(tok, '=');
        struct ovnic_err err = {0};
        char mac[18], *end, *vf_s, *name;
        unsigned long vf;

        if (!slash || !eq || eq < slash) {
            error = set_error(errbuf, errlen, "%s: '%s' is not PF-MAC/VF-NUM=NAME", label,
                              tok);
            goto out;
        }
        *slash = *eq = '\0';
        if (dpud_config_parse_mac(trim(tok), mac)) {
            error = set_error(errbuf, errlen, "%s: bad PF MAC '%s'", label, trim(tok));
            goto out;
        }
        vf_s = trim(slash + 1);
        errno = 0;
        vf = strtoul(vf_s, &end, 10);
        if (errno || *end || !isdigit((unsigned char)*vf_s) || vf > UINT16_MAX) {
            error = set_error(errbuf, errlen,
                              "%s: bad VF number '%s' (a number from 0 to 65535)", label,
                              vf_s);
            goto out;
        }
        name = trim(eq + 1);
        if (binding_representor_name_check(name, &err)) {
            error =
                set_error(errbuf, errlen, "%s: %s (%s)", label, err.message, err.detail);
            goto out;
        }
        for (size_t j = 0; j < n; j++) {
            if (!strcmp(r[j].pf_mac, mac) && r[j].vf_num == vf) {
                error =
                    set_error(errbuf, errlen,
                              "%s: PF %s VF %lu is mapped twice (to '%s' and to '%s')",
                              label, mac, vf, r[j].name, name);
                goto out;
            }
            if (!strcmp(r[j].name, name)) {
                error = set_error(errbuf, errlen,
                                  "%s: representor '%s' is given twice (PF %s VF %" PRIu32
                                  " and PF %s VF %lu)",
                                  label, name, r[j].pf_mac, r[j].vf_num, mac, vf);
                goto out;
            }
        }
        r[n].pf_mac = strdup(mac);
        r[n].vf_num = (uint32_t)vf;
        r[n].name = strdup(name);
        n++;
        if (!r[n - 1].pf_mac || !r[n - 1].name) {
            error = set_nomem(errbuf, errlen);
            goto out;
        }
    }
out:
    free_strv(elems);
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
parse_hostlink_hosts(struct dpud_config *config, const char *label, const char *value,
                     char *errbuf, size_t errlen)
{
    struct dpud_host_pf *h = NULL;
    char *copy = strdup(value), *save = NULL;
    size_t n = 0;
    int error = 0;

    if (!copy) {
        return set_nomem(errbuf, errlen);
    }
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '='), *save2 = NULL;

        if (!eq) {
            error = set_error(errbuf, errlen, "%s: '%s' is not HOST=PF-MAC[+PF-MAC...]",
                              label, trim(tok));
            goto out;
        }
        *eq = '\0';
        const char *name = trim(tok);
        if (!*name || strlen(name) > 64 ||
            strspn(name, "abcdefghijklmnopqrstuvwxyz"
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789._-:@") != strlen(name)) {
            error = set_error(errbuf, errlen, "%s: bad host name '%s'", label, name);
            goto out;
        }
        for (char *m = strtok_r(eq + 1, "+", &save2); m;
             m = strtok_r(NULL, "+", &save2)) {
            struct dpud_host_pf *h_;
            char mac[18];

            if (dpud_config_parse_mac(trim(m), mac)) {
                error = set_error(errbuf, errlen, "%s: bad PF MAC '%s'", label, trim(m));
                goto out;
            }
            for (size_t i = 0; i < n; i++) {
                if (!strcmp(h[i].pf_mac, mac)) {
                    error =
                        set_error(errbuf, errlen, "%s: PF %s given to two hosts (%s, %s)",
                                  label, mac, h[i].name, name);
                    goto out;
                }
            }
            h_ = realloc(h, (n + 1) * sizeof *h);
            if (!h_) {
                error = set_nomem(errbuf, errlen);
                goto out;
            }
            h = h_;
            h[n].name = strdup(name);
            h[n].pf_mac = strdup(mac);
            n++;
            if (!h[n - 1].name || !h[n - 1].pf_mac) {
                error = set_nomem(errbuf, errlen);
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

/* A decimal number, digits only (no sign, no spaces). */
static int
parse_uint32(const char *value, uint32_t *out)
{
    unsigned long long v;
    char *end;

    if (!isdigit((unsigned char)value[0])) {
        return -EINVAL;
    }
    errno = 0;
    v = strtoull(value, &end, 10);
    if (errno || *end || v > UINT32_MAX) {
        return -EINVAL;
    }
    *out = (uint32_t)v;
    return 0;
}

/* Checks the syntax of a log specification ("LEVEL" or "MODULE:LEVEL", comma- or
 * space-separated).  Whether each module exists is checked when it is applied. */
static bool
log_spec_is_valid(const char *spec)
{
    char *copy = strdup(spec), *save = NULL;
    bool ok = copy && *spec;

    for (char *item = copy ? strtok_r(copy, ", ", &save) : NULL; item && ok;
         item = strtok_r(NULL, ", ", &save)) {
        char *colon = strchr(item, ':');
        enum ovnic_log_level level;

        ok = !ovnic_log_level_from_string(colon ? colon + 1 : item, &level) &&
             (!colon || colon > item);
    }
    free(copy);
    return ok;
}

static int
parse_dpdk_args(struct dpud_config *config, const char *label, const char *value,
                char *errbuf, size_t errlen)
{
    size_t n = 0;

    for (const char *p = value; *p;) {
        p += strspn(p, " \t");
        if (*p) {
            n++;
            p += strcspn(p, " \t");
        }
    }
    if (!n) {
        return set_error(errbuf, errlen,
                         "%s: empty (give EAL arguments, or leave the key out for the "
                         "default)",
                         label);
    }
    if (n > DPUD_EAL_ARGS_MAX) {
        return set_error(errbuf, errlen, "%s: %zu arguments, at most %d", label, n,
                         DPUD_EAL_ARGS_MAX);
    }
    return replace_string(&config->dpdk_args, value) ? set_nomem(errbuf, errlen) : 0;
}

/* Applies one "key = value" from line 'line' of the file (or -1: the command line). */
static int
apply_key(struct dpud_config *config, const struct key_desc *key, const char *value,
          int line, char *errbuf, size_t errlen)
{
    char label[PATH_MAX + 64], why[64];
    int error;
    bool b;

    config->key_line[key->id] = line;
    key_label(config, key->id, label, sizeof label);
    if (!is_text(value, why, sizeof why)) {
        return set_error(errbuf, errlen, "%s: the value has %s", label, why);
    }

#define STORE(FIELD) \
    (replace_string(&config->FIELD, value) ? set_nomem(errbuf, errlen) : 0)
#define NONEMPTY()                                                \
    do {                                                          \
        if (!*value) {                                            \
            return set_error(errbuf, errlen, "%s: empty", label); \
        }                                                         \
    } while (0)

    switch (key->id) {
    case KEY_SYSTEM_ID:
        if (strlen(value) > DPUD_HOSTNAME_MAX) {
            return set_error(errbuf, errlen, "%s: %zu bytes, at most %d", label,
                             strlen(value), DPUD_HOSTNAME_MAX);
        }
        if (!is_name(value)) {
            return set_error(errbuf, errlen,
                             "%s: '%s' must be 1 to %d letters, digits, '-', '_', '.'",
                             label, value, DPUD_HOSTNAME_MAX);
        }
        return STORE(system_id);
    case KEY_HOSTNAME:
        NONEMPTY();
        if (strlen(value) > DPUD_HOSTNAME_MAX) {
            return set_error(errbuf, errlen, "%s: longer than %d bytes", label,
                             DPUD_HOSTNAME_MAX);
        }
        return STORE(hostname);
    case KEY_SB_REMOTE: {
        struct ovnic_err err = {0};
        error = stream_remote_list_check(value, NULL, &err);
        if (error == -ENOMEM) {
            return set_nomem(errbuf, errlen);
        }
        if (error) {
            return set_error(errbuf, errlen,
                             "%s: %s (a remote is unix:PATH, tcp:IP:PORT or "
                             "ssl:IP:PORT, several comma-separated)",
                             label, err.detail);
        }
        return STORE(sb_remote);
    }
    case KEY_CA_CERT:
        NONEMPTY();
        return STORE(ca_cert);
    case KEY_CERTIFICATE:
        NONEMPTY();
        return STORE(certificate);
    case KEY_PRIVATE_KEY:
        NONEMPTY();
        return STORE(private_key);
    case KEY_ENCAP_IP:
        return parse_encap_ips(config, label, value, errbuf, errlen);
    case KEY_ENCAP_CSUM:
    case KEY_MONITOR_ALL:
    case KEY_HOSTLINK_ALLOW_PLAIN:
        if (dpud_config_parse_bool(value, &b)) {
            return set_error(
                errbuf, errlen,
                "%s: '%s' is not a boolean (true/false, yes/no, on/off, 1/0)", label,
                value);
        }
        *(key->id == KEY_ENCAP_CSUM    ? &config->encap_csum
          : key->id == KEY_MONITOR_ALL ? &config->monitor_all
                                       : &config->hostlink_allow_plain) = b;
        return 0;
    case KEY_HOSTLINK_LISTEN:
        NONEMPTY();
        return STORE(hostlink_listen);
    case KEY_HOSTLINK_CA_CERT:
        NONEMPTY();
        return STORE(hostlink_ca_cert);
    case KEY_HOSTLINK_CERTIFICATE:
        NONEMPTY();
        return STORE(hostlink_certificate);
    case KEY_HOSTLINK_PRIVATE_KEY:
        NONEMPTY();
        return STORE(hostlink_private_key);
    case KEY_HOSTLINK_HOSTS:
        return parse_hostlink_hosts(config, label, value, errbuf, errlen);
    case KEY_HOSTLINK_LEASE_MS:
    case KEY_HOSTLINK_DOWN_DELAY_MS: {
        uint32_t v, min = key->id == KEY_HOSTLINK_LEASE_MS ? HOSTLINK_LEASE_MIN_MS : 0;

        if (parse_uint32(value, &v) || v < min || v > HOSTLINK_LEASE_MAX_MS) {
            return set_error(errbuf, errlen, "%s: '%s' is not a number from %u to %u",
                             label, value, min, HOSTLINK_LEASE_MAX_MS);
        }
        *(key->id == KEY_HOSTLINK_LEASE_MS ? &config->hostlink_lease_ms
                                           : &config->hostlink_down_delay_ms) = v;
        return 0;
    }
    case KEY_BRIDGE_MAPPINGS:
        return parse_bridge_mappings(config, label, value, errbuf, errlen);
    case KEY_PROBE_INTERVAL:
        if (parse_uint32(value, &config->probe_interval) ||
            (config->probe_interval && config->probe_interval < 1000)) {
            return set_error(errbuf, errlen,
                             "%s: '%s' is not 0 or a number of ms >= 1000", label, value);
        }
        return 0;
    case KEY_CMS_OPTIONS:
        return STORE(cms_options);
    case KEY_RUNDIR:
        NONEMPTY();
        /* The longest file in it: "ovnic-dpud.state.tmp". */
        if (strlen(value) > PATH_MAX - 32) {
            return set_error(errbuf, errlen, "%s: longer than %d bytes", label,
                             PATH_MAX - 32);
        }
        return STORE(rundir);
    case KEY_LOG_FILE:
        NONEMPTY();
        return STORE(log_file);
    case KEY_LOG:
        if (!log_spec_is_valid(value)) {
            return set_error(errbuf, errlen,
                             "%s: bad specification '%s' (LEVEL or MODULE:LEVEL, "
                             "comma-separated; levels off, err, warn, info, dbg)",
                             label, value);
        }
        return STORE(log);
    case KEY_REPRESENTORS:
        return parse_representors(config, label, value, errbuf, errlen);
    case KEY_DATAPATH:
        if (strcmp(value, "none") && strcmp(value, "dpdk")) {
            return set_error(errbuf, errlen, "%s: '%s' is not 'none' or 'dpdk'", label,
                             value);
        }
        config->dpdk = !strcmp(value, "dpdk");
        return 0;
    case KEY_DPDK_ARGS:
        return parse_dpdk_args(config, label, value, errbuf, errlen);
    case KEY_MEMIF_DIR:
        NONEMPTY();
        if (strchr(value, ',')) {
            return set_error(errbuf, errlen,
                             "%s: '%s' has a ',', which would end the DPDK devargs",
                             label, value);
        }
        if (strlen(value) > DPUD_MEMIF_DIR_MAX) {
            return set_error(
                errbuf, errlen,
                "%s: %zu bytes, at most %zu, so that DIR/NAME.sock fits in a "
                "unix socket address (%zu bytes) for every representor name "
                "(up to %d bytes)",
                label, strlen(value), (size_t)DPUD_MEMIF_DIR_MAX,
                (size_t)DPUD_SUN_PATH_MAX, BINDING_REPRESENTOR_NAME_MAX);
        }
        return STORE(memif_dir);
    case KEY_UPLINK_DEVARGS:
        NONEMPTY();
        return STORE(uplink_devargs);
    case KEY_REPRESENTOR_DEVARGS:
        if (!strstr(value, "{name}")) {
            return set_error(errbuf, errlen, "%s: '%s' has no {name}", label, value);
        }
        return STORE(representor_devargs);
    case KEY_UPLINK_MAC: {
        char mac[18];
        unsigned int first;
        if (dpud_config_parse_mac(value, mac)) {
            return set_error(errbuf, errlen, "%s: '%s' is not a MAC", label, value);
        }
        sscanf(mac, "%2x", &first);
        if ((first & 1) || !strcmp(mac, "00:00:00:00:00:00")) {
            return set_error(errbuf, errlen, "%s: '%s' is not a unicast MAC", label,
                             value);
        }
        return replace_string(&config->uplink_mac, mac) ? set_nomem(errbuf, errlen) : 0;
    }
    case KEY_UNDERLAY_GATEWAY: {
        uint8_t ip[16];
        bool v6;
        if (!ip_parse(value, ip, &v6)) {
            return set_error(errbuf, errlen, "%s: '%s' is not an IP address", label,
                             value);
        }
        return STORE(underlay_gateway);
    }
    case KEY_ENCAP_PREFIX_LEN:
    case KEY_UNDERLAY_MTU:
    case KEY_IDLE_MIN_US:
    case KEY_IDLE_MAX_US:
    case KEY_N_MBUFS: {
        uint32_t v;
        uint32_t max = key->id == KEY_ENCAP_PREFIX_LEN ? 128
                       : key->id == KEY_UNDERLAY_MTU   ? DPUD_MTU_MAX
                       : key->id == KEY_N_MBUFS        ? DPUD_N_MBUFS_MAX
                                                       : DPUD_IDLE_US_MAX;
        uint32_t min = key->id == KEY_UNDERLAY_MTU ? DPUD_MTU_MIN
                       : key->id == KEY_N_MBUFS    ? DPUD_N_MBUFS_MIN
                                                   : 1;
        if (parse_uint32(value, &v) || v < min || v > max) {
            return set_error(errbuf, errlen, "%s: '%s' is not a number from %u to %u",
                             label, value, min, max);
        }
        *(key->id == KEY_ENCAP_PREFIX_LEN ? &config->encap_prefix_len
          : key->id == KEY_UNDERLAY_MTU   ? &config->underlay_mtu
          : key->id == KEY_IDLE_MIN_US    ? &config->idle_min_us
          : key->id == KEY_IDLE_MAX_US    ? &config->idle_max_us
                                          : &config->n_mbufs) = v;
        return 0;
    }
    case N_KEYS:
        break;
    }
#undef STORE
#undef NONEMPTY
    return set_error(errbuf, errlen, "%s: not handled", label);
}

int
dpud_config_parse_text(struct dpud_config *config, const char *name, const char *text,
                       size_t len, char *errbuf, size_t errlen)
{
    const char *p = text, *end = text + len;
    char *line = NULL;
    int lineno = 0, error = 0;

    if (!config->config_file || strcmp(config->config_file, name)) {
        if (replace_string(&config->config_file, name)) {
            return set_nomem(errbuf, errlen);
        }
    }
    /* A UTF-8 byte order mark, as some editors write, is skipped. */
    if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) {
        p += 3;
    }
    while (p < end && !error) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *nul = memchr(p, '\0', n);
        const struct key_desc *key;
        char *eq, *hash, *s, *k;

        lineno++;
        if (nul) {
            error = set_error(errbuf, errlen,
                              "%s:%d: NUL byte at byte %zu of the line (a text file is "
                              "expected)",
                              name, lineno, (size_t)(nul - p) + 1);
            break;
        }
        free(line);
        line = strndup(p, n);
        p += n + (nl ? 1 : 0);
        if (!line) {
            error = set_nomem(errbuf, errlen);
            break;
        }
        hash = strchr(line, '#');
        if (hash) {
            *hash = '\0';
        }
        s = trim(line);
        if (!*s) {
            continue;
        }
        eq = strchr(s, '=');
        if (!eq) {
            error =
                set_error(errbuf, errlen, "%s:%d: expected 'key = value'", name, lineno);
            break;
        }
        *eq = '\0';
        k = trim(s);
        if (!*k) {
            error = set_error(errbuf, errlen,
                              "%s:%d: expected 'key = value' (no key before '=')", name,
                              lineno);
            break;
        }
        key = key_find(k);
        if (!key) {
            char shown[160];
            error = set_error(errbuf, errlen, "%s:%d: unknown key '%s'", name, lineno,
                              escape(k, shown, sizeof shown));
            break;
        }
        if (config->key_line[key->id] > 0) {
            error = set_error(errbuf, errlen, "%s:%d: %s: given twice (first at line %d)",
                              name, lineno, key->name, config->key_line[key->id]);
            break;
        }
        error = apply_key(config, key, trim(eq + 1), lineno, errbuf, errlen);
    }
    free(line);
    return error;
}

static int
load_file(struct dpud_config *config, const char *path, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int error = 0;

    if (!f) {
        return set_error(errbuf, errlen, "cannot open config file '%s': %s", path,
                         strerror(errno));
    }
    for (;;) {
        size_t n;

        if (len == cap) {
            char *buf_;
            if (cap >= DPUD_CONFIG_FILE_MAX) {
                error =
                    set_error(errbuf, errlen, "config file '%s' is larger than %u MiB",
                              path, DPUD_CONFIG_FILE_MAX >> 20);
                goto out;
            }
            cap = cap ? cap * 2 : 4096;
            buf_ = realloc(buf, cap);
            if (!buf_) {
                error = set_nomem(errbuf, errlen);
                goto out;
            }
            buf = buf_;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (!n) {
            break;
        }
    }
    if (ferror(f)) {
        error = set_error(errbuf, errlen, "cannot read config file '%s': %s", path,
                          strerror(errno));
        goto out;
    }
    error = dpud_config_parse_text(config, path, buf ? buf : "", len, errbuf, errlen);
out:
    free(buf);
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
           "binding is committed; with datapath = dpdk, the DPDK vswitch forwards.\n"
           "\nExit status: 0 after a clean exit, 1 on a failure at run time (such as\n"
           "'already running'), 2 for bad input (an unknown key, a malformed value).\n");
}

/* The checks that involve the underlay keys: the first encap IP's subnet, the gateway
 * in it, the MTU. */
static int
check_underlay(struct dpud_config *c, char *errbuf, size_t errlen)
{
    char l1[PATH_MAX + 64], l2[PATH_MAX + 64];
    const char *encap = c->encap_ips[0];
    unsigned int plen;
    uint8_t ip[16], gw[16];
    bool v6, gw_v6;

    if (!ip_parse(encap, ip, &v6)) {
        return set_error(errbuf, errlen, "%s: '%s' is not an IP address",
                         key_label(c, KEY_ENCAP_IP, l1, sizeof l1), encap);
    }
    plen = c->encap_prefix_len ? c->encap_prefix_len
           : v6                ? DPUD_PREFIX_LEN_DEFAULT_V6
                               : DPUD_PREFIX_LEN_DEFAULT_V4;
    if (!v6 && plen > 32) {
        return set_error(errbuf, errlen,
                         "%s: %u is longer than an IPv4 address (at most 32): the first "
                         "address of %s, %s, is IPv4",
                         key_label(c, KEY_ENCAP_PREFIX_LEN, l1, sizeof l1), plen,
                         key_ref(c, KEY_ENCAP_IP, l2, sizeof l2), encap);
    }
    if (c->underlay_gateway) {
        const char *gateway = c->underlay_gateway;
        const char *problem;

        key_label(c, KEY_UNDERLAY_GATEWAY, l1, sizeof l1);
        key_ref(c, KEY_ENCAP_IP, l2, sizeof l2);
        if (!ip_parse(gateway, gw, &gw_v6)) {
            return set_error(errbuf, errlen, "%s: '%s' is not an IP address", l1,
                             gateway);
        }
        if (gw_v6 != v6) {
            return set_error(errbuf, errlen,
                             "%s: '%s' is an %s address, but the first address of %s, "
                             "%s, is %s",
                             l1, gateway, gw_v6 ? "IPv6" : "IPv4", l2, encap,
                             v6 ? "IPv6" : "IPv4");
        }
        problem = ip_non_unicast(gw, gw_v6);
        if (problem) {
            return set_error(errbuf, errlen, "%s: '%s' is %s, not a next hop", l1,
                             gateway, problem);
        }
        if (!memcmp(gw, ip, 16)) {
            return set_error(errbuf, errlen,
                             "%s: '%s' is this chassis's own encap IP (%s)", l1, gateway,
                             l2);
        }
        if (!ip_in_subnet(gw, ip, plen)) {
            char l3[PATH_MAX + 64];
            return set_error(errbuf, errlen,
                             "%s: '%s' is not on the uplink's subnet %s/%u (the first "
                             "address of %s, prefix length from %s)",
                             l1, gateway, encap, plen, l2,
                             key_ref(c, KEY_ENCAP_PREFIX_LEN, l3, sizeof l3));
        }
    }
    if (v6 && c->underlay_mtu && c->underlay_mtu < DPUD_MTU_MIN_IPV6) {
        return set_error(errbuf, errlen,
                         "%s: %u is below IPv6's minimum MTU (%d): the first address of "
                         "%s, %s, is IPv6",
                         key_label(c, KEY_UNDERLAY_MTU, l1, sizeof l1), c->underlay_mtu,
                         DPUD_MTU_MIN_IPV6, key_ref(c, KEY_ENCAP_IP, l2, sizeof l2),
                         encap);
    }
    return 0;
}

int
dpud_config_finish(struct dpud_config *config, char *errbuf, size_t errlen)
{
    char l1[PATH_MAX + 64], l2[PATH_MAX + 64];
    char hostname[256];
    bool ssl = false;
    int error;

    if (!config->system_id) {
        return set_error(errbuf, errlen, "system-id is required");
    }
    if (!config->sb_remote || !*config->sb_remote) {
        return set_error(errbuf, errlen, "sb-remote is required");
    }
    error = stream_remote_list_check(config->sb_remote, &ssl, NULL);
    if (error) {
        /* Checked when it was given: only allocation can fail here. */
        return error == -ENOMEM
                   ? set_nomem(errbuf, errlen)
                   : set_error(errbuf, errlen, "%s: malformed remote",
                               key_label(config, KEY_SB_REMOTE, l1, sizeof l1));
    }
    if (ssl) {
        static const enum key_id tls_keys[] = {KEY_CA_CERT, KEY_CERTIFICATE,
                                               KEY_PRIVATE_KEY};
        const char *files[] = {config->ca_cert, config->certificate, config->private_key};

        if (!files[0] || !files[1] || !files[2]) {
            return set_error(errbuf, errlen,
                             "%s: an ssl: remote needs ca-cert, certificate and "
                             "private-key",
                             key_label(config, KEY_SB_REMOTE, l1, sizeof l1));
        }
        for (size_t i = 0; i < ARRAY_SIZE(tls_keys); i++) {
            if (access(files[i], R_OK)) {
                return set_error(errbuf, errlen, "%s: cannot read '%s': %s",
                                 key_label(config, tls_keys[i], l1, sizeof l1), files[i],
                                 strerror(errno));
            }
        }
    }
    if (!config->n_encap_ips) {
        return set_error(errbuf, errlen, "encap-ip is required");
    }
    error = check_underlay(config, errbuf, errlen);
    if (error) {
        return error;
    }
    {
        unsigned int min =
            config->idle_min_us ? config->idle_min_us : DPUD_IDLE_MIN_DEFAULT;
        unsigned int max =
            config->idle_max_us ? config->idle_max_us : DPUD_IDLE_MAX_DEFAULT;
        if (min > max) {
            bool blame_max =
                config->key_line[KEY_IDLE_MAX_US] && !config->key_line[KEY_IDLE_MIN_US];
            enum key_id blamed = blame_max ? KEY_IDLE_MAX_US : KEY_IDLE_MIN_US;
            enum key_id other = blame_max ? KEY_IDLE_MIN_US : KEY_IDLE_MAX_US;
            return set_error(
                errbuf, errlen,
                "%s: %u is %s %s, %u (the first idle sleep cannot be "
                "longer than the longest)",
                key_label(config, blamed, l1, sizeof l1), blame_max ? max : min,
                blame_max ? "shorter than" : "longer than",
                key_ref(config, other, l2, sizeof l2), blame_max ? min : max);
        }
    }
    if (config->dpdk && !config->memif_dir && !config->uplink_devargs) {
        return set_error(
            errbuf, errlen,
            "datapath = dpdk needs an uplink: set memif-dir or uplink-devargs");
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
            return set_nomem(errbuf, errlen);
        }
        bool have_tls = config->hostlink_ca_cert && config->hostlink_certificate &&
                        config->hostlink_private_key;
        if (hostlink_check_transport(config->hostlink_listen, true,
                                     config->hostlink_allow_plain, have_tls, &tls,
                                     &err)) {
            return set_error(errbuf, errlen, "%s: %s",
                             key_label(config, KEY_HOSTLINK_LISTEN, l1, sizeof l1),
                             ovnic_err_format(&err, ebuf, sizeof ebuf));
        }
        for (size_t i = 0; i < config->n_hostlink_hosts; i++) {
            bool found = false;
            for (size_t j = 0; j < config->n_representors && !found; j++) {
                found = !strcmp(config->representors[j].pf_mac,
                                config->hostlink_hosts[i].pf_mac);
            }
            if (!found) {
                return set_error(errbuf, errlen,
                                 "%s: PF %s of host %s has no representor in "
                                 "'representors'",
                                 key_label(config, KEY_HOSTLINK_HOSTS, l1, sizeof l1),
                                 config->hostlink_hosts[i].pf_mac,
                                 config->hostlink_hosts[i].name);
            }
        }
    } else if (config->n_hostlink_hosts) {
        return set_error(errbuf, errlen, "%s needs hostlink-listen",
                         key_label(config, KEY_HOSTLINK_HOSTS, l1, sizeof l1));
    }
    if (!config->hostname) {
        if (gethostname(hostname, sizeof hostname)) {
            snprintf(hostname, sizeof hostname, "%s", config->system_id);
        }
        hostname[sizeof hostname - 1] = '\0';
        if (replace_string(&config->hostname, hostname)) {
            return set_nomem(errbuf, errlen);
        }
    }
    if ((!config->rundir && replace_string(&config->rundir, DEFAULT_RUNDIR)) ||
        (!config->bridge_mappings && replace_string(&config->bridge_mappings, "")) ||
        (!config->cms_options && replace_string(&config->cms_options, ""))) {
        return set_nomem(errbuf, errlen);
    }
    return 0;
}

/* Whether 'arg' is one of the options (a key, --config, --detach...), so that it is
 * not taken as the value of the option before it. */
static bool
is_option(const char *arg)
{
    char name[64];
    size_t len;

    if (strncmp(arg, "--", 2)) {
        return false;
    }
    len = strcspn(arg + 2, "=");
    if (len >= sizeof name) {
        return false;
    }
    memcpy(name, arg + 2, len);
    name[len] = '\0';
    return key_find(name) || !strcmp(name, "config") || !strcmp(name, "detach") ||
           !strcmp(name, "help") || !strcmp(name, "version");
}

enum dpud_config_result
dpud_config_parse(struct dpud_config *config, int argc, char *argv[], char *errbuf,
                  size_t errlen)
{
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
            if (i + 1 >= argc || is_option(argv[i + 1])) {
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
        const struct key_desc *key;
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
            char shown[160];
            set_error(errbuf, errlen, "unexpected argument '%s'",
                      escape(arg, shown, sizeof shown));
            return DPUD_CONFIG_INVALID;
        }
        eq = strchr(arg, '=');
        snprintf(name, sizeof name, "%.*s",
                 (int)(eq ? (size_t)(eq - arg - 2) : strlen(arg + 2)), arg + 2);
        key = key_find(name);
        if (!key) {
            char shown[160];
            set_error(errbuf, errlen, "unknown option '%s'",
                      escape(arg, shown, sizeof shown));
            return DPUD_CONFIG_INVALID;
        }
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc && !is_option(argv[i + 1])) {
            value = argv[++i];
        } else {
            set_error(errbuf, errlen, "option '--%s' needs a value", name);
            return DPUD_CONFIG_INVALID;
        }
        if (apply_key(config, key, value, -1, errbuf, errlen)) {
            return DPUD_CONFIG_INVALID;
        }
    }

    if (dpud_config_finish(config, errbuf, errlen)) {
        return DPUD_CONFIG_INVALID;
    }
    if (config->log && ovnic_log_set_spec(config->log)) {
        char label[PATH_MAX + 64];
        set_error(errbuf, errlen, "%s: bad specification '%s' (unknown module?)",
                  key_label(config, KEY_LOG, label, sizeof label), config->log);
        return DPUD_CONFIG_INVALID;
    }
    return DPUD_CONFIG_OK;

nomem:
    set_nomem(errbuf, errlen);
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
    /* Every way a name comes in checks it; never splice anything else. */
    if (binding_representor_name_check(name, NULL)) {
        errno = EINVAL;
        return NULL;
    }
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
