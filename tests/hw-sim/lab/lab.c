/* ovnic-sim lab: the topology builder (see lab.h). */
#include "tests/hw-sim/lab/lab.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared/util/json.h"
#include "shared/util/util.h"
#include "tests/hw-sim/nicsim/ctl_client.h"

#define NETNS_DIR "/var/run/netns"
#define READY_TIMEOUT_MS 60000
#define STOP_TIMEOUT_MS 10000

void
lab_config_init(struct lab_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->name, sizeof cfg->name, "lab");
    cfg->hosts = 2;
    cfg->vfs = 4;
    snprintf(cfg->underlay, sizeof cfg->underlay, "192.168.100.0/24");
    snprintf(cfg->profile, sizeof cfg->profile, "bf2");
}

static int
parse_count(const char *s, unsigned int max, unsigned int *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || !*s || *end || !isdigit((unsigned char)*s) || v < 1 || v > max) {
        return -EINVAL;
    }
    *out = (unsigned int)v;
    return 0;
}

static char *
trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) {
        *--end = '\0';
    }
    return s;
}

int
lab_config_read(struct lab_config *cfg, const char *path, struct ovnic_err *err)
{
    char line[1200];
    int lineno = 0;
    FILE *f;

    f = fopen(path, "re");
    if (!f) {
        return ovnic_err_set(err, -errno, "lab", "cannot read description", "%s", path);
    }
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        char *eq, *key, *value;
        int bad = 0;

        lineno++;
        if (hash) {
            *hash = '\0';
        }
        key = trim(line);
        if (!*key) {
            continue;
        }
        eq = strchr(key, '=');
        if (!eq) {
            bad = 1;
        } else {
            *eq = '\0';
            key = trim(key);
            value = trim(eq + 1);
            if (!strcmp(key, "name")) {
                bad = snprintf(cfg->name, sizeof cfg->name, "%s", value) >=
                      (int)sizeof cfg->name;
            } else if (!strcmp(key, "hosts")) {
                bad = parse_count(value, LAB_MAX_HOSTS, &cfg->hosts);
            } else if (!strcmp(key, "vfs")) {
                bad = parse_count(value, 62, &cfg->vfs);
            } else if (!strcmp(key, "enable_vfs")) {
                bad = strcmp(value, "yes") && strcmp(value, "no");
                cfg->enable_vfs = !strcmp(value, "yes");
            } else if (!strcmp(key, "underlay")) {
                bad = snprintf(cfg->underlay, sizeof cfg->underlay, "%s", value) >=
                      (int)sizeof cfg->underlay;
            } else if (!strcmp(key, "profile")) {
                bad = snprintf(cfg->profile, sizeof cfg->profile, "%s", value) >=
                      (int)sizeof cfg->profile;
            } else {
                bad = 1;
            }
        }
        if (bad) {
            fclose(f);
            return ovnic_err_set(err, -EINVAL, "lab", "bad description line",
                                 "%s:%d (keys: name, hosts, vfs, enable_vfs, underlay, "
                                 "profile)",
                                 path, lineno);
        }
    }
    fclose(f);
    return 0;
}

/* Parses "A.B.C.D/N" into the network address (host order) and prefix length. */
static int
parse_subnet(const char *s, uint32_t *net, unsigned int *plen)
{
    char addr[32];
    const char *slash = strchr(s, '/');
    struct in_addr in;
    unsigned int n;

    if (!slash || (size_t)(slash - s) >= sizeof addr || parse_count(slash + 1, 30, &n)) {
        return -EINVAL;
    }
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    if (inet_pton(AF_INET, addr, &in) != 1) {
        return -EINVAL;
    }
    *plen = n;
    *net = ntohl(in.s_addr) & (n ? ~0u << (32 - n) : 0);
    return 0;
}

static void
addr_format(uint32_t addr, char buf[16])
{
    struct in_addr in = {htonl(addr)};

    inet_ntop(AF_INET, &in, buf, 16);
}

int
lab_config_check(const struct lab_config *cfg, struct ovnic_err *err)
{
    uint32_t net;
    unsigned int plen;
    size_t i;

    if (!cfg->name[0] || strlen(cfg->name) > 16 ||
        !isalnum((unsigned char)cfg->name[0])) {
        return ovnic_err_set(err, -EINVAL, "lab", "bad name",
                             "'%s': 1 to 16 characters [a-z0-9-], starting with a letter "
                             "or digit",
                             cfg->name);
    }
    for (i = 0; cfg->name[i]; i++) {
        char c = cfg->name[i];

        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-')) {
            return ovnic_err_set(err, -EINVAL, "lab", "bad name", "'%s': only [a-z0-9-]",
                                 cfg->name);
        }
    }
    if (cfg->hosts < 1 || cfg->hosts > LAB_MAX_HOSTS) {
        return ovnic_err_set(err, -EINVAL, "lab", "bad host count", "%u: 1 to %d",
                             cfg->hosts, LAB_MAX_HOSTS);
    }
    if (cfg->vfs < 1 || cfg->vfs > 62) {
        return ovnic_err_set(err, -EINVAL, "lab", "bad VF count", "%u: 1 to 62",
                             cfg->vfs);
    }
    if (parse_subnet(cfg->underlay, &net, &plen)) {
        return ovnic_err_set(err, -EINVAL, "lab", "bad underlay subnet",
                             "'%s': expected A.B.C.D/N", cfg->underlay);
    }
    if ((1ull << (32 - plen)) < 12ull + cfg->hosts) {
        return ovnic_err_set(err, -EINVAL, "lab", "underlay subnet too small",
                             "%s: hosts use addresses .11 to .%u", cfg->underlay,
                             10 + cfg->hosts);
    }
    if (!cfg->dir[0]) {
        return ovnic_err_set(err, -EINVAL, "lab", "no directory", NULL);
    }
    return 0;
}

/* ---- Commands. ---------------------------------------------------------------- */

/* Runs 'argv' (no shell), stdout discarded; on failure, its stderr lands in 'err'. */
static int
run_argv(char *const argv[], struct ovnic_err *err)
{
    char output[512] = "";
    size_t used = 0;
    int pipefd[2];
    int status;
    pid_t pid;

    if (pipe2(pipefd, O_CLOEXEC)) {
        return -errno;
    }
    pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return -errno;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);

        dup2(null, 0);
        dup2(null, 1);
        dup2(pipefd[1], 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pipefd[1]);
    for (;;) {
        ssize_t n = read(pipefd[0], output + used, sizeof output - 1 - used);

        if (n > 0) {
            used += (size_t)n;
            if (used < sizeof output - 1) {
                continue;
            }
            char sink[256];
            while (read(pipefd[0], sink, sizeof sink) > 0) {
                continue;
            }
        } else if (n < 0 && errno == EINTR) {
            continue;
        }
        break;
    }
    output[used] = '\0';
    close(pipefd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        continue;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return 0;
    }
    {
        char cmd[256] = "";
        size_t len = 0;
        int i;

        for (i = 0; argv[i] && len < sizeof cmd - 1; i++) {
            len += (size_t)snprintf(cmd + len, sizeof cmd - len, "%s%s", i ? " " : "",
                                    argv[i]);
        }
        trim(output);
        return ovnic_err_set(err, -EIO, "lab", "command failed", "%s: %s", cmd,
                             output[0] ? output : "exit status not 0");
    }
}

/* Runs "ip ARGS..." (NULL-terminated). */
static int
ip(struct ovnic_err *err, ...)
{
    char *argv[32];
    va_list args;
    int n = 0;

    argv[n++] = "ip";
    va_start(args, err);
    while (n < (int)ARRAY_SIZE(argv) - 1 && (argv[n] = va_arg(args, char *))) {
        n++;
    }
    va_end(args);
    argv[n] = NULL;
    return run_argv(argv, err);
}

static bool
netns_exists(const char *name)
{
    char path[PATH_MAX];

    snprintf(path, sizeof path, NETNS_DIR "/%s", name);
    return access(path, F_OK) == 0;
}

static int
netns_add(const char *name, struct ovnic_err *err)
{
    int rc = ip(err, "netns", "add", name, NULL);

    if (!rc) {
        rc = ip(err, "-n", name, "link", "set", "lo", "up", NULL);
    }
    return rc;
}

/* ---- Files. ------------------------------------------------------------------- */

static void
host_dir(const struct lab_config *cfg, unsigned int i, const char *sub, char *buf,
         size_t size)
{
    snprintf(buf, size, "%s/h%u%s%s", cfg->dir, i, sub[0] ? "/" : "", sub);
}

static int
rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void
rm_rf(const char *path)
{
    nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static pid_t
pidfile_read(const char *path)
{
    FILE *f = fopen(path, "re");
    int pid = -1;

    if (f) {
        if (fscanf(f, "%d", &pid) != 1) {
            pid = -1;
        }
        fclose(f);
    }
    return pid > 0 ? pid : -1;
}

static bool
pid_is_nicsim(pid_t pid)
{
    char path[64];
    char comm[64] = "";
    FILE *f;

    if (pid <= 0) {
        return false;
    }
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    f = fopen(path, "re");
    if (!f) {
        return false;
    }
    if (!fgets(comm, sizeof comm, f)) {
        comm[0] = '\0';
    }
    fclose(f);
    return !strncmp(comm, "ovnic-nicsim", 12);
}

/* ---- ovnic-nicsim. ------------------------------------------------------------ */

static int
find_nicsim(const struct lab_config *cfg, char *buf, size_t size)
{
    static const char *const rel[] = {"ovnic-nicsim", "../nicsim/ovnic-nicsim"};
    char self[PATH_MAX - 64];
    const char *env = getenv("OVNIC_NICSIM");
    ssize_t n;
    size_t i;

    if (cfg->nicsim[0] || (env && env[0])) {
        snprintf(buf, size, "%s", cfg->nicsim[0] ? cfg->nicsim : env);
        return access(buf, X_OK) ? -ENOENT : 0;
    }
    n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        *strrchr(self, '/') = '\0';
        for (i = 0; i < ARRAY_SIZE(rel); i++) {
            snprintf(buf, size, "%s/%s", self, rel[i]);
            if (!access(buf, X_OK)) {
                return 0;
            }
        }
    }
    snprintf(buf, size, "ovnic-nicsim");
    return 0; /* Let execvp() search PATH. */
}

/* Starts ovnic-nicsim for host 'i' inside its DPU namespace, detached. */
static int
nicsim_start(const struct lab_config *cfg, unsigned int i, const char *nicsim,
             struct ovnic_err *err)
{
    char run_dir[PATH_MAX], sysfs[PATH_MAX], log[PATH_MAX];
    char dpu_ns[64], host_ns[64], netns_path[PATH_MAX];
    char vfs[16], mac[32];
    char *argv[32];
    int argc = 0;
    int status;
    pid_t pid;

    host_dir(cfg, i, "nicsim", run_dir, sizeof run_dir);
    host_dir(cfg, i, "sys", sysfs, sizeof sysfs);
    host_dir(cfg, i, "nicsim.log", log, sizeof log);
    snprintf(dpu_ns, sizeof dpu_ns, "%s-dpu%u", cfg->name, i);
    snprintf(host_ns, sizeof host_ns, "%s-h%u", cfg->name, i);
    snprintf(netns_path, sizeof netns_path, NETNS_DIR "/%s", dpu_ns);
    snprintf(vfs, sizeof vfs, "%u", cfg->vfs);
    snprintf(mac, sizeof mac, "0c:42:a1:00:%02x:01", i);

    argv[argc++] = (char *)nicsim;
    argv[argc++] = "--run-dir";
    argv[argc++] = run_dir;
    argv[argc++] = "--name";
    argv[argc++] = "n";
    argv[argc++] = "--sysfs-root";
    argv[argc++] = sysfs;
    argv[argc++] = "--host-netns";
    argv[argc++] = host_ns;
    argv[argc++] = "--uplink";
    argv[argc++] = "p0";
    argv[argc++] = "--total-vfs";
    argv[argc++] = vfs;
    if (cfg->enable_vfs) {
        argv[argc++] = "--numvfs";
        argv[argc++] = vfs;
    }
    argv[argc++] = "--pf-mac";
    argv[argc++] = mac;
    argv[argc++] = "--profile";
    argv[argc++] = (char *)cfg->profile;
    argv[argc++] = "--log-file";
    argv[argc++] = log;
    argv[argc] = NULL;

    pid = fork();
    if (pid < 0) {
        return -errno;
    }
    if (pid == 0) {
        /* Detach twice, so that ovnic-nicsim outlives this command. */
        int fd;

        setsid();
        if (fork() != 0) {
            _exit(0);
        }
        fd = open(netns_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET)) {
            _exit(126);
        }
        fd = open("/dev/null", O_RDWR);
        dup2(fd, 0);
        dup2(fd, 1);
        fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        continue;
    }
    (void)err;
    return 0;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* Waits until host 'i''s ovnic-nicsim answers, and returns its ports. */
static int
nicsim_wait_ready(const struct lab_config *cfg, unsigned int i, json_t **ports,
                  struct ovnic_err *err)
{
    uint64_t deadline = time_msec() + READY_TIMEOUT_MS;
    char ctl[PATH_MAX], pidfile[PATH_MAX], log[PATH_MAX];
    struct nicsim_client *client;

    host_dir(cfg, i, "nicsim/nicsim.ctl", ctl, sizeof ctl);
    host_dir(cfg, i, "nicsim/nicsim.pid", pidfile, sizeof pidfile);
    host_dir(cfg, i, "nicsim.log", log, sizeof log);
    while (time_msec() < deadline) {
        pid_t pid = pidfile_read(pidfile);

        if (!nicsim_client_open(ctl, 5000, &client, NULL)) {
            json_t *result = NULL;
            int rc = nicsim_client_call(client, "ports", NULL, &result, err);

            nicsim_client_close(client);
            if (!rc) {
                *ports = result;
            }
            return rc;
        }
        if (pid > 0 && !pid_is_nicsim(pid)) {
            return ovnic_err_set(err, -ESRCH, "lab", "ovnic-nicsim exited",
                                 "host h%u: see %s", i, log);
        }
        sleep_ms(50);
    }
    return ovnic_err_set(err, -ETIMEDOUT, "lab", "ovnic-nicsim did not start",
                         "host h%u: see %s", i, log);
}

static const char *
port_mac(const json_t *ports, const char *name)
{
    const json_t *list = json_object_get(ports, "ports");
    const json_t *p;
    size_t i;

    json_array_foreach(list, i, p)
    {
        const char *n = json_string_value(json_object_get(p, "name"));

        if (n && !strcmp(n, name)) {
            return json_string_value(json_object_get(p, "mac"));
        }
    }
    return NULL;
}

/* ---- up / down / status. ------------------------------------------------------- */

static int
state_path(const struct lab_config *cfg, char *buf, size_t size)
{
    return snprintf(buf, size, "%s/lab.json", cfg->dir) >= (int)size ? -ENAMETOOLONG : 0;
}

int
lab_up(const struct lab_config *cfg, struct ovnic_err *err)
{
    char underlay_ns[64], gw_cidr[32], gw[16], nicsim[PATH_MAX], path[PATH_MAX];
    json_t *state = NULL, *hosts;
    struct ovnic_err down_err;
    unsigned int plen, i;
    uint32_t net;
    int rc;

    rc = lab_config_check(cfg, err);
    if (rc) {
        return rc;
    }
    parse_subnet(cfg->underlay, &net, &plen);
    snprintf(underlay_ns, sizeof underlay_ns, "%s-underlay", cfg->name);
    if (netns_exists(underlay_ns)) {
        return ovnic_err_set(err, -EEXIST, "lab", "lab already up",
                             "namespace %s exists: run 'ovnic-sim lab down --name %s' "
                             "first",
                             underlay_ns, cfg->name);
    }
    rc = find_nicsim(cfg, nicsim, sizeof nicsim);
    if (rc) {
        return ovnic_err_set(err, rc, "lab", "ovnic-nicsim not found", "%s", nicsim);
    }
    rc = util_mkdir_p(cfg->dir);
    if (rc) {
        return ovnic_err_set(err, rc, "lab", "cannot create directory", "%s", cfg->dir);
    }

    /* The underlay. */
    addr_format(net + 1, gw);
    snprintf(gw_cidr, sizeof gw_cidr, "%s/%u", gw, plen);
    rc = netns_add(underlay_ns, err);
    if (!rc) {
        rc = ip(err, "-n", underlay_ns, "link", "add", "br0", "type", "bridge", NULL);
    }
    if (!rc) {
        rc = ip(err, "-n", underlay_ns, "link", "set", "br0", "mtu", "9000", "up", NULL);
    }
    if (!rc) {
        rc = ip(err, "-n", underlay_ns, "addr", "add", gw_cidr, "dev", "br0", NULL);
    }

    /* The hosts and their DPUs. */
    for (i = 1; !rc && i <= cfg->hosts; i++) {
        char host_ns[64], dpu_ns[64], port[16];

        snprintf(host_ns, sizeof host_ns, "%s-h%u", cfg->name, i);
        snprintf(dpu_ns, sizeof dpu_ns, "%s-dpu%u", cfg->name, i);
        snprintf(port, sizeof port, "h%u", i);
        host_dir(cfg, i, "", path, sizeof path);
        rm_rf(path);
        rc = util_mkdir_p(path);
        if (rc) {
            ovnic_err_set(err, rc, "lab", "cannot create directory", "%s", path);
            break;
        }
        rc = netns_add(host_ns, err);
        if (!rc) {
            rc = netns_add(dpu_ns, err);
        }
        if (!rc) {
            rc = ip(err, "link", "add", port, "netns", underlay_ns, "mtu", "9000", "type",
                    "veth", "peer", "name", "p0", "netns", dpu_ns, "mtu", "9000", NULL);
        }
        if (!rc) {
            rc = ip(err, "-n", underlay_ns, "link", "set", port, "master", "br0", "up",
                    NULL);
        }
        if (!rc) {
            rc = nicsim_start(cfg, i, nicsim, err);
        }
    }

    /* Wait for every ovnic-nicsim, and record the state. */
    state =
        json_pack("{s:s,s:s,s:i,s:i,s:b,s:s,s:s,s:s,s:s,s:s,s:s,s:[]}", "name", cfg->name,
                  "dir", cfg->dir, "hosts", (int)cfg->hosts, "vfs", (int)cfg->vfs,
                  "enable_vfs", cfg->enable_vfs, "underlay", cfg->underlay,
                  "underlay_netns", underlay_ns, "bridge", "br0", "gateway", gw,
                  "profile", cfg->profile, "nicsim", nicsim, "host_list");
    hosts = json_object_get(state, "host_list");
    for (i = 1; !rc && i <= cfg->hosts; i++) {
        char host_ns[64], dpu_ns[64], encap[16], sub[PATH_MAX], ctl[PATH_MAX],
            pidfile[PATH_MAX], sysfs[PATH_MAX], memif[PATH_MAX], log[PATH_MAX];
        json_t *ports = NULL;
        const char *mac;

        rc = nicsim_wait_ready(cfg, i, &ports, err);
        if (rc) {
            break;
        }
        snprintf(host_ns, sizeof host_ns, "%s-h%u", cfg->name, i);
        snprintf(dpu_ns, sizeof dpu_ns, "%s-dpu%u", cfg->name, i);
        snprintf(sub, sizeof sub, "h%u", i);
        addr_format(net + 10 + i, encap);
        host_dir(cfg, i, "nicsim/nicsim.ctl", ctl, sizeof ctl);
        host_dir(cfg, i, "nicsim/nicsim.pid", pidfile, sizeof pidfile);
        host_dir(cfg, i, "nicsim/memif", memif, sizeof memif);
        host_dir(cfg, i, "sys", sysfs, sizeof sysfs);
        host_dir(cfg, i, "nicsim.log", log, sizeof log);
        mac = port_mac(ports, "p0");
        json_array_append_new(
            hosts,
            json_pack("{s:i,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "index",
                      (int)i, "host", sub, "netns", host_ns, "dpu_netns", dpu_ns, "pid",
                      (int)pidfile_read(pidfile), "pidfile", pidfile, "ctl", ctl,
                      "memif_dir", memif, "sysfs_root", sysfs, "log", log, "encap_ip",
                      encap, "uplink", "p0", "uplink_mac", mac ? mac : ""));
        json_decref(ports);
    }
    if (!rc) {
        state_path(cfg, path, sizeof path);
        if (json_dump_file(state, path, JSON_INDENT(2) | JSON_SORT_KEYS)) {
            rc = ovnic_err_set(err, -EIO, "lab", "cannot write state", "%s", path);
        }
    }
    json_decref(state);
    if (rc) {
        memset(&down_err, 0, sizeof down_err);
        lab_down(cfg, &down_err);
    }
    return rc;
}

/* Stops the ovnic-nicsim of pidfile 'pidfile', by pid. */
static int
nicsim_stop(const char *pidfile, struct ovnic_err *err)
{
    pid_t pid = pidfile_read(pidfile);
    uint64_t deadline;

    if (!pid_is_nicsim(pid)) {
        return 0;
    }
    kill(pid, SIGTERM);
    deadline = time_msec() + STOP_TIMEOUT_MS;
    while (pid_is_nicsim(pid)) {
        if (time_msec() > deadline) {
            char path[64];

            kill(pid, SIGKILL);
            sleep_ms(100);
            /* What its exit would have removed: DPDK's run directory. */
            snprintf(path, sizeof path, "/var/run/dpdk/ovnic-nicsim-%d", (int)pid);
            rmdir(path);
            return ovnic_err_set(err, -ETIMEDOUT, "lab", "ovnic-nicsim killed",
                                 "pid %d ignored SIGTERM for %d ms", (int)pid,
                                 STOP_TIMEOUT_MS);
        }
        sleep_ms(20);
    }
    return 0;
}

/* True if namespace 'ns' belongs to lab 'name': NAME-underlay, NAME-hI, NAME-dpuI,
 * NAME-hI-ANYTHING. */
static bool
netns_is_lab(const char *name, const char *ns)
{
    size_t len = strlen(name);
    const char *p;

    if (strncmp(ns, name, len) || ns[len] != '-') {
        return false;
    }
    p = ns + len + 1;
    if (!strcmp(p, "underlay")) {
        return true;
    }
    if (!strncmp(p, "dpu", 3)) {
        p += 3;
    } else if (*p == 'h') {
        p++;
    } else {
        return false;
    }
    if (!isdigit((unsigned char)*p)) {
        return false;
    }
    while (isdigit((unsigned char)*p)) {
        p++;
    }
    return *p == '\0' || (*p == '-' && ns[len + 1] == 'h' && p[1]);
}

int
lab_down(const struct lab_config *cfg, struct ovnic_err *err)
{
    char path[PATH_MAX];
    struct dirent *de;
    int first = 0;
    unsigned int i;
    DIR *dir;
    int rc;

    if (!cfg->name[0] || !cfg->dir[0]) {
        return ovnic_err_set(err, -EINVAL, "lab", "name and directory required", NULL);
    }
    /* Every host directory, whatever lab.json says. */
    for (i = 1; i <= LAB_MAX_HOSTS; i++) {
        host_dir(cfg, i, "nicsim/nicsim.pid", path, sizeof path);
        rc = nicsim_stop(path, err);
        if (rc && !first) {
            first = rc;
        }
    }
    dir = opendir(NETNS_DIR);
    if (dir) {
        char names[256][64];
        size_t n = 0, k;

        while ((de = readdir(dir)) && n < ARRAY_SIZE(names)) {
            size_t len = strlen(de->d_name);

            if (netns_is_lab(cfg->name, de->d_name) && len < sizeof names[0]) {
                memcpy(names[n++], de->d_name, len + 1);
            }
        }
        closedir(dir);
        for (k = 0; k < n; k++) {
            rc = ip(err, "netns", "del", names[k], NULL);
            if (rc && !first) {
                first = rc;
            }
        }
    }
    for (i = 1; i <= LAB_MAX_HOSTS; i++) {
        host_dir(cfg, i, "nicsim", path, sizeof path);
        rm_rf(path);
        host_dir(cfg, i, "sys", path, sizeof path);
        rm_rf(path);
    }
    if (!state_path(cfg, path, sizeof path)) {
        unlink(path);
    }
    return first;
}

/* ---- One host's NIC. ------------------------------------------------------- */

/* Reads lab.json into '*statep' and the description it was made with into 'out' (a
 * copy of 'cfg' with the lab's counts, profile and ovnic-nicsim binary), and checks
 * that 'host' is one of its hosts. */
static int
state_load(const struct lab_config *cfg, unsigned int host, struct lab_config *out,
           json_t **statep, struct ovnic_err *err)
{
    char path[PATH_MAX];
    json_error_t jerr;
    json_t *state;
    const char *profile, *nicsim;

    state_path(cfg, path, sizeof path);
    state = json_load_file(path, 0, &jerr);
    if (!state) {
        return ovnic_err_set(err, access(path, F_OK) ? -ENOENT : -EINVAL, "lab",
                             "no lab state", "%s: %s", path, jerr.text);
    }
    *out = *cfg;
    out->hosts = (unsigned int)json_integer_value(json_object_get(state, "hosts"));
    out->vfs = (unsigned int)json_integer_value(json_object_get(state, "vfs"));
    out->enable_vfs = json_is_true(json_object_get(state, "enable_vfs"));
    profile = json_string_value(json_object_get(state, "profile"));
    nicsim = json_string_value(json_object_get(state, "nicsim"));
    if (profile) {
        snprintf(out->profile, sizeof out->profile, "%s", profile);
    }
    if (!cfg->nicsim[0] && nicsim) {
        snprintf(out->nicsim, sizeof out->nicsim, "%s", nicsim);
    }
    if (host < 1 || host > out->hosts ||
        !json_array_get(json_object_get(state, "host_list"), host - 1)) {
        json_decref(state);
        return ovnic_err_set(err, -EINVAL, "lab", "no such host", "h%u: the lab has %u",
                             host, out->hosts);
    }
    *statep = state;
    return 0;
}

int
lab_nic_stop(const struct lab_config *cfg, unsigned int host, bool kill_it,
             struct ovnic_err *err)
{
    struct lab_config lab;
    char pidfile[PATH_MAX];
    json_t *state;
    uint64_t deadline;
    pid_t pid;
    int rc;

    rc = state_load(cfg, host, &lab, &state, err);
    if (rc) {
        return rc;
    }
    json_decref(state);
    host_dir(&lab, host, "nicsim/nicsim.pid", pidfile, sizeof pidfile);
    pid = pidfile_read(pidfile);
    if (!pid_is_nicsim(pid)) {
        return ovnic_err_set(err, -ESRCH, "lab", "ovnic-nicsim is not running",
                             "host h%u (%s)", host, pidfile);
    }
    if (!kill_it) {
        return nicsim_stop(pidfile, err);
    }
    kill(pid, SIGKILL);
    deadline = time_msec() + STOP_TIMEOUT_MS;
    while (pid_is_nicsim(pid) && time_msec() < deadline) {
        sleep_ms(10);
    }
    {
        /* What its exit would have removed: DPDK's run directory. */
        char path[64];

        snprintf(path, sizeof path, "/var/run/dpdk/ovnic-nicsim-%d", (int)pid);
        rmdir(path);
    }
    return 0;
}

int
lab_nic_start(const struct lab_config *cfg, unsigned int host, uint64_t *ready_ms,
              struct ovnic_err *err)
{
    char pidfile[PATH_MAX], nicsim[PATH_MAX], path[PATH_MAX];
    struct lab_config lab;
    json_t *state, *h, *ports = NULL;
    uint64_t start;
    pid_t pid;
    int rc;

    rc = state_load(cfg, host, &lab, &state, err);
    if (rc) {
        return rc;
    }
    host_dir(&lab, host, "nicsim/nicsim.pid", pidfile, sizeof pidfile);
    pid = pidfile_read(pidfile);
    if (pid_is_nicsim(pid)) {
        json_decref(state);
        return ovnic_err_set(err, -EEXIST, "lab", "ovnic-nicsim is running",
                             "host h%u: pid %d", host, (int)pid);
    }
    unlink(pidfile); /* Left by a run that was killed. */
    rc = find_nicsim(&lab, nicsim, sizeof nicsim);
    if (rc) {
        json_decref(state);
        return ovnic_err_set(err, rc, "lab", "ovnic-nicsim not found", "%s", nicsim);
    }
    start = time_msec();
    rc = nicsim_start(&lab, host, nicsim, err);
    if (!rc) {
        rc = nicsim_wait_ready(&lab, host, &ports, err);
    }
    if (rc) {
        json_decref(state);
        return rc;
    }
    if (ready_ms) {
        *ready_ms = time_msec() - start;
    }
    h = json_array_get(json_object_get(state, "host_list"), host - 1);
    json_object_set_new(h, "pid", json_integer(pidfile_read(pidfile)));
    {
        const char *mac = port_mac(ports, "p0");

        if (mac) {
            json_object_set_new(h, "uplink_mac", json_string(mac));
        }
    }
    json_decref(ports);
    state_path(&lab, path, sizeof path);
    if (json_dump_file(state, path, JSON_INDENT(2) | JSON_SORT_KEYS)) {
        rc = ovnic_err_set(err, -EIO, "lab", "cannot write state", "%s", path);
    }
    json_decref(state);
    return rc;
}

int
lab_status(const struct lab_config *cfg, json_t **statusp, struct ovnic_err *err)
{
    char path[PATH_MAX];
    json_error_t jerr;
    json_t *state, *hosts, *h;
    size_t i;

    state_path(cfg, path, sizeof path);
    state = json_load_file(path, 0, &jerr);
    if (!state) {
        return ovnic_err_set(err, access(path, F_OK) ? -ENOENT : -EINVAL, "lab",
                             "no lab state", "%s: %s", path, jerr.text);
    }
    hosts = json_object_get(state, "host_list");
    json_array_foreach(hosts, i, h)
    {
        const char *ctl = json_string_value(json_object_get(h, "ctl"));
        const char *pidfile = json_string_value(json_object_get(h, "pidfile"));
        pid_t pid = pidfile ? pidfile_read(pidfile) : -1;
        bool running = pid_is_nicsim(pid);
        struct nicsim_client *client;

        json_object_set_new(h, "running", json_boolean(running));
        if (running) {
            json_object_set_new(h, "pid", json_integer(pid));
        }
        if (running && ctl && !nicsim_client_open(ctl, 3000, &client, NULL)) {
            json_t *st = NULL, *ports = NULL;

            if (!nicsim_client_call(client, "status", NULL, &st, NULL)) {
                json_object_set_new(h, "nicsim", st);
            }
            if (!nicsim_client_call(client, "ports", NULL, &ports, NULL)) {
                json_object_set(h, "ports", json_object_get(ports, "ports"));
                json_decref(ports);
            }
            nicsim_client_close(client);
        }
    }
    *statusp = state;
    return 0;
}
