/* ovnic-dpud: configuration from a "key = value" file and the command line.
 *
 * Every key of the file is also a command-line option "--KEY=VALUE" (or "--KEY
 * VALUE"); the command line overrides the file.  Lines of the file are "key = value";
 * '#' starts a comment; blank lines are ignored.  Values are taken as written after
 * trimming spaces (no quoting).  See docs/ovnic-dpud.md for every key. */
#ifndef OVNIC_DPUD_CONFIG_H
#define OVNIC_DPUD_CONFIG_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One entry of the representor table: the representor of VF 'vf_num' of the PF
 * whose MAC is 'pf_mac'. */
struct dpud_representor {
    char *pf_mac; /* Lowercase "xx:xx:xx:xx:xx:xx". */
    uint32_t vf_num;
    char *name;
};

struct dpud_config {
    char *config_file; /* --config, or NULL. */
    char *system_id;   /* Required. */
    char *hostname;    /* Default: gethostname(). */
    char *sb_remote;   /* Required: unix:, tcp:, ssl: or a comma-separated list. */
    char *ca_cert;
    char *certificate;
    char *private_key;
    char **encap_ips; /* Required: at least one.  NULL-terminated. */
    size_t n_encap_ips;
    bool encap_csum;         /* Default true. */
    char *bridge_mappings;   /* "physnet:bridge,..." (validated), default "". */
    uint32_t probe_interval; /* ms; default 5000; 0 disables keepalives. */
    bool monitor_all;        /* Default false. */
    char *cms_options;       /* Default "". */
    char *rundir;            /* Default "/var/run/ovnic". */
    char *log_file;          /* NULL: stderr. */
    char *log;               /* Log spec (see log.h), or NULL. */
    struct dpud_representor *representors;
    size_t n_representors;
    bool detach; /* Command line only. */
};

enum dpud_config_result {
    DPUD_CONFIG_OK,      /* Run the daemon. */
    DPUD_CONFIG_EXIT,    /* --help or --version was printed: exit 0. */
    DPUD_CONFIG_INVALID, /* Bad input: 'errbuf' says why. */
};

/** Parses 'argv' (and the file named by --config) into 'config', which must be
 * zero-initialised; on DPUD_CONFIG_OK it is complete and checked.  --help and
 * --version print to stdout.  On DPUD_CONFIG_INVALID, 'errbuf' holds a one-line
 * message.  In every case free 'config' with dpud_config_destroy(). */
enum dpud_config_result dpud_config_parse(struct dpud_config *config, int argc,
                                          char *argv[], char *errbuf, size_t errlen);

/** Frees what 'config' owns (may be NULL). */
void dpud_config_destroy(struct dpud_config *config);

/** Parses a boolean ("true"/"false", "yes"/"no", "on"/"off", "1"/"0").  Returns 0 or
 * -EINVAL. */
int dpud_config_parse_bool(const char *s, bool *value);

/** Parses a MAC address into lowercase "xx:xx:xx:xx:xx:xx" in 'out' (18 bytes).
 * Returns 0 or -EINVAL. */
int dpud_config_parse_mac(const char *s, char out[18]);

/** The control socket path, "RUNDIR/ovnic-dpud.ctl".  Caller owns; free(). */
char *dpud_config_ctl_path(const struct dpud_config *config);

/** The pidfile path, "RUNDIR/ovnic-dpud.pid".  Caller owns; free(). */
char *dpud_config_pid_path(const struct dpud_config *config);

/** The state file path, "RUNDIR/ovnic-dpud.state".  Caller owns; free(). */
char *dpud_config_state_path(const struct dpud_config *config);

#endif /* OVNIC_DPUD_CONFIG_H */
