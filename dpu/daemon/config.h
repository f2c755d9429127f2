/* ovnic-dpud: configuration from a "key = value" file and the command line.
 *
 * Every key of the file is also a command-line option "--KEY=VALUE" (or "--KEY
 * VALUE"); the command line overrides the file.  Lines of the file are "key = value";
 * '#' starts a comment; blank lines are ignored; a leading UTF-8 byte order mark is
 * skipped.  Values are taken as written after trimming spaces (no quoting).  A key
 * given twice in the file, a NUL byte, or a value that is not UTF-8 text is an error.
 * Every key is checked, alone and against the others, before anything starts; a
 * message names the key as the user wrote it ("--KEY", or "FILE:LINE: KEY").  See
 * docs/ovnic-dpud.md for every key. */
#ifndef OVNIC_DPUD_CONFIG_H
#define OVNIC_DPUD_CONFIG_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for the keys of config.c. */
#define DPUD_CONFIG_MAX_KEYS 40

/* One entry of the representor table: the representor of VF 'vf_num' of the PF
 * whose MAC is 'pf_mac'. */
struct dpud_representor {
    char *pf_mac; /* Lowercase "xx:xx:xx:xx:xx:xx". */
    uint32_t vf_num;
    char *name;
};

/* One entry of "hostlink-hosts": host 'name' (its certificate's CN) owns the PF whose
 * MAC is 'pf_mac'. */
struct dpud_host_pf {
    char *name;
    char *pf_mac; /* Lowercase "xx:xx:xx:xx:xx:xx". */
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

    /* The datapath (docs/ovnic-dpud.md, "Datapath"). */
    bool dpdk;                 /* datapath = dpdk (default: none). */
    char *dpdk_args;           /* Extra EAL arguments, or NULL. */
    char *memif_dir;           /* Representor sockets DIR/NAME.sock (simulation). */
    char *uplink_devargs;      /* DPDK devargs of the uplink representor, or NULL. */
    char *representor_devargs; /* Template with "{name}", or NULL. */
    char *uplink_mac;          /* Lowercase MAC, or NULL. */
    uint32_t encap_prefix_len; /* Default 0 (the vswitch's default). */
    char *underlay_gateway;    /* Or NULL. */
    uint32_t underlay_mtu;     /* Default 0 (the vswitch's default). */
    uint32_t idle_min_us;      /* Default 0 (the vswitch's default). */
    uint32_t idle_max_us;      /* Default 0 (the vswitch's default). */
    uint32_t n_mbufs;          /* Default 0 (the vswitch's default). */

    /* Hosts (docs/ovnic-dpud.md, "Hosts"). */
    char *hostlink_listen;           /* pssl:PORT[:IP] (punix: with allow-plain), or
                                      * NULL: no host sessions. */
    char *hostlink_ca_cert;          /* Default: ca-cert. */
    char *hostlink_certificate;      /* Default: certificate. */
    char *hostlink_private_key;      /* Default: private-key. */
    bool hostlink_allow_plain;       /* Allow punix:/ptcp: (tests only). */
    uint32_t hostlink_lease_ms;      /* Default HOSTLINK_LEASE_MS_DEFAULT. */
    uint32_t hostlink_down_delay_ms; /* Default 10000. */
    struct dpud_host_pf *hostlink_hosts;
    size_t n_hostlink_hosts;

    bool detach;  /* Command line only. */
    bool replace; /* Command line only: take over from a running daemon. */

    /* Where each key was given, for messages (config.c's business): 0 not given, -1
     * on the command line, else its line in 'config_file'. */
    int key_line[DPUD_CONFIG_MAX_KEYS];
};

/** The devargs of representor 'name' from the configuration ("representor-devargs"
 * with "{name}" replaced, else a net_memif client of "memif-dir"/NAME.sock), or NULL
 * if neither is set or 'name' is not a representor name
 * (binding_representor_name_check()).  Caller owns; free(). */
char *dpud_config_representor_devargs(const struct dpud_config *config, const char *name);

/** The devargs of the uplink ("uplink-devargs", else memif-dir/p0.sock), or NULL.
 * Caller owns; free(). */
char *dpud_config_uplink_devargs(const struct dpud_config *config);

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

/** Parses the text of a configuration file, 'len' bytes at 'text' (not
 * NUL-terminated; a NUL byte in it is an error), named 'name' in messages
 * ("NAME:LINE: ..."), into 'config' (zero-initialised, then given only to this
 * function and dpud_config_parse()).  Every key is checked as it is read; a key given
 * twice is an error naming both lines.  Returns 0, or -EINVAL (or -ENOMEM) with a
 * one-line message in 'errbuf'. */
int dpud_config_parse_text(struct dpud_config *config, const char *name, const char *text,
                           size_t len, char *errbuf, size_t errlen);

/** Checks what involves several keys (required keys, ssl: and its PEM files, the
 * underlay subnet, gateway and MTU, the idle back-off) and fills the defaults.
 * dpud_config_parse() calls it; so can a caller of dpud_config_parse_text().  Returns
 * 0, or -EINVAL (or -ENOMEM) with a one-line message in 'errbuf'. */
int dpud_config_finish(struct dpud_config *config, char *errbuf, size_t errlen);

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
