/* ovnic-nicsim: the simulated NIC, a process of its own (see nicsim.h and
 * docs/ovnic-nicsim.md). */
#include "tests/hw-sim/nicsim/nicsim.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "tests/hw-sim/eswitch/eswitch.h"
#include "tests/hw-sim/nicsim/flash.h"
#include "tests/hw-sim/nicsim/netdev.h"

OVNIC_LOG_MODULE(nicsim);

#define EXIT_USAGE 2

static const char usage_text[] =
    "Usage: ovnic-nicsim --run-dir DIR [OPTIONS]\n"
    "\n"
    "Simulates a SmartNIC: an eSwitch (rte_flow interpreter) between an uplink, a PF\n"
    "and its VFs (veth pairs, read with packet sockets), with one DPDK memif\n"
    "representor per port for the DPU, an SR-IOV sysfs tree, a firmware flash and\n"
    "injectable faults, driven through a control socket (RUN-DIR/nicsim.ctl).\n"
    "\n"
    "Options:\n"
    "  --run-dir DIR        control socket, memif sockets, pidfile (required)\n"
    "  --name NAME          prefix of this process's netdev names (default: ns;\n"
    "                       1 to 6 characters)\n"
    "  --profile P          device profile: bf2, bf3 or a profile file (default: bf2)\n"
    "  --sysfs-root DIR     root of the simulated sysfs (default: RUN-DIR/sys)\n"
    "  --host-netns NS      network namespace (name or path) for the PF and VF\n"
    "                       netdevs (default: this process's)\n"
    "  --uplink IFNAME      existing netdev to use as the wire (default: a veth pair\n"
    "                       NAMEp0 / NAMEwire is made)\n"
    "  --pf-ifname NAME     host PF netdev name (default: pf0); VF N is NAMEvN\n"
    "  --pci-addr ADDR      PF PCI address (default: 0000:03:00.0)\n"
    "  --pf-mac MAC         PF MAC (default: 0c:42:a1:00:00:01)\n"
    "  --total-vfs N        sriov_totalvfs (default: 8)\n"
    "  --numvfs N           VFs to enable at start (default: 0)\n"
    "  --flash-dir DIR      firmware flash files (default: RUN-DIR/flash)\n"
    "  --flash-size BYTES   size of each flash slot (default: 4194304)\n"
    "  --idle-min-us US     first idle sleep of the datapath (default: 20)\n"
    "  --idle-max-us US     longest idle sleep of the datapath (default: 2000)\n"
    "  --pidfile PATH       (default: RUN-DIR/nicsim.pid)\n"
    "  --log-file PATH      log there instead of stderr\n"
    "  -v, --verbose[=SPEC] log verbosely (SPEC as 'nicsim_ctl:dbg'; default: dbg)\n"
    "  -h, --help           show this help\n"
    "  -V, --version        show the version\n";

static int
usage_error(const char *fmt, const char *arg)
{
    fputs("ovnic-nicsim: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'ovnic-nicsim --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

static int
parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    if (!*s || *s == '-') {
        return -EINVAL;
    }
    v = strtoull(s, &end, 10);
    if (errno || *end || v > max) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    int n = 0;
    int i;

    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
               &n) != 6 ||
        s[n]) {
        return -EINVAL;
    }
    for (i = 0; i < 6; i++) {
        mac[i] = (uint8_t)b[i];
    }
    return (mac[0] & 1) ? -EINVAL : 0;
}

enum {
    OPT_RUN_DIR = 256,
    OPT_NAME,
    OPT_PROFILE,
    OPT_SYSFS_ROOT,
    OPT_HOST_NETNS,
    OPT_UPLINK,
    OPT_PF_IFNAME,
    OPT_PCI_ADDR,
    OPT_PF_MAC,
    OPT_TOTAL_VFS,
    OPT_NUMVFS,
    OPT_FLASH_DIR,
    OPT_FLASH_SIZE,
    OPT_IDLE_MIN,
    OPT_IDLE_MAX,
    OPT_PIDFILE,
    OPT_LOG_FILE,
};

/* Returns -1 to go on, or an exit status. */
static int
parse_options(int argc, char *argv[], struct nicsim_options *o)
{
    static const struct option longopts[] = {
        {"run-dir", required_argument, NULL, OPT_RUN_DIR},
        {"name", required_argument, NULL, OPT_NAME},
        {"profile", required_argument, NULL, OPT_PROFILE},
        {"sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT},
        {"host-netns", required_argument, NULL, OPT_HOST_NETNS},
        {"uplink", required_argument, NULL, OPT_UPLINK},
        {"pf-ifname", required_argument, NULL, OPT_PF_IFNAME},
        {"pci-addr", required_argument, NULL, OPT_PCI_ADDR},
        {"pf-mac", required_argument, NULL, OPT_PF_MAC},
        {"total-vfs", required_argument, NULL, OPT_TOTAL_VFS},
        {"numvfs", required_argument, NULL, OPT_NUMVFS},
        {"flash-dir", required_argument, NULL, OPT_FLASH_DIR},
        {"flash-size", required_argument, NULL, OPT_FLASH_SIZE},
        {"idle-min-us", required_argument, NULL, OPT_IDLE_MIN},
        {"idle-max-us", required_argument, NULL, OPT_IDLE_MAX},
        {"pidfile", required_argument, NULL, OPT_PIDFILE},
        {"log-file", required_argument, NULL, OPT_LOG_FILE},
        {"verbose", optional_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static const uint8_t default_mac[6] = {0x0c, 0x42, 0xa1, 0x00, 0x00, 0x01};
    unsigned long long v;
    int c;

    memset(o, 0, sizeof *o);
    o->name = "ns";
    o->profile = "bf2";
    o->pf_ifname = "pf0";
    o->total_vfs = 8;
    o->flash_size = 4u << 20;
    o->idle_min_us = 20;
    o->idle_max_us = 2000;
    memcpy(o->pf_mac, default_mac, 6);

    while ((c = getopt_long(argc, argv, "v::hV", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_RUN_DIR:
            o->run_dir = optarg;
            break;
        case OPT_NAME:
            if (!optarg[0] || strlen(optarg) > 6 || strpbrk(optarg, "/ \t.:")) {
                return usage_error("bad --name '%s': 1 to 6 characters", optarg);
            }
            o->name = optarg;
            break;
        case OPT_PROFILE:
            o->profile = optarg;
            break;
        case OPT_SYSFS_ROOT:
            o->sysfs_root = optarg;
            break;
        case OPT_HOST_NETNS:
            o->host_netns = optarg;
            break;
        case OPT_UPLINK:
            o->uplink = optarg;
            break;
        case OPT_PF_IFNAME:
            o->pf_ifname = optarg;
            break;
        case OPT_PCI_ADDR:
            o->pci_addr = optarg;
            break;
        case OPT_PF_MAC:
            if (parse_mac(optarg, o->pf_mac)) {
                return usage_error("bad --pf-mac '%s': a unicast xx:xx:xx:xx:xx:xx",
                                   optarg);
            }
            break;
        case OPT_TOTAL_VFS:
            if (parse_uint(optarg, NICSIM_SYSFS_MAX_VFS, &v) || v == 0) {
                return usage_error("bad --total-vfs '%s': 1 to 64", optarg);
            }
            o->total_vfs = (unsigned int)v;
            break;
        case OPT_NUMVFS:
            if (parse_uint(optarg, NICSIM_SYSFS_MAX_VFS, &v)) {
                return usage_error("bad --numvfs '%s'", optarg);
            }
            o->numvfs = (unsigned int)v;
            break;
        case OPT_FLASH_DIR:
            o->flash_dir = optarg;
            break;
        case OPT_FLASH_SIZE:
            if (parse_uint(optarg, 1ull << 30, &v) || v < 4096) {
                return usage_error("bad --flash-size '%s': 4096 to 1073741824", optarg);
            }
            o->flash_size = (size_t)v;
            break;
        case OPT_IDLE_MIN:
        case OPT_IDLE_MAX:
            if (parse_uint(optarg, 100000, &v) || v == 0) {
                return usage_error("bad idle sleep '%s': 1 to 100000 us", optarg);
            }
            if (c == OPT_IDLE_MIN) {
                o->idle_min_us = (uint32_t)v;
            } else {
                o->idle_max_us = (uint32_t)v;
            }
            break;
        case OPT_PIDFILE:
            o->pidfile = optarg;
            break;
        case OPT_LOG_FILE:
            o->log_file = optarg;
            break;
        case 'v':
            if (optarg ? ovnic_log_set_spec(optarg)
                       : ovnic_log_set_level(NULL, OVNIC_LOG_DBG)) {
                return usage_error("bad log specification '%s'", optarg ? optarg : "");
            }
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 'V':
            printf("ovnic-nicsim (ovnic) %s\n", NICSIM_VERSION);
            return 0;
        default:
            return usage_error("%s", "bad option");
        }
    }
    if (optind < argc) {
        return usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (!o->run_dir) {
        return usage_error("%s", "--run-dir is required");
    }
    if (o->numvfs > o->total_vfs) {
        return usage_error("%s", "--numvfs exceeds --total-vfs");
    }
    if (o->idle_min_us > o->idle_max_us) {
        return usage_error("%s", "--idle-min-us exceeds --idle-max-us");
    }
    return -1;
}

/* ---- Pidfile. ----------------------------------------------------------------- */

static bool
pid_is_nicsim(pid_t pid)
{
    char path[64];
    char comm[64] = "";
    FILE *f;

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

static int
pidfile_write(const char *path)
{
    char buf[32];
    FILE *f;
    int fd;

    f = fopen(path, "re");
    if (f) {
        int pid = 0;

        if (fscanf(f, "%d", &pid) == 1 && pid > 0 && pid != getpid() &&
            pid_is_nicsim(pid)) {
            fclose(f);
            fprintf(stderr, "ovnic-nicsim: already running as pid %d (%s)\n", pid, path);
            return -EEXIST;
        }
        fclose(f);
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "ovnic-nicsim: cannot write pidfile %s: %s\n", path,
                strerror(errno));
        return -errno;
    }
    snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    if (write(fd, buf, strlen(buf)) < 0) {
        close(fd);
        return -errno;
    }
    close(fd);
    return 0;
}

/* ---- Callbacks. --------------------------------------------------------------- */

static int
vf_add(void *aux, unsigned int vf, const char *ifname, const uint8_t mac[6])
{
    struct nicsim *ns = aux;
    struct ovnic_err err = {0};
    int rc;

    rc = nicsim_port_open(ns, (uint16_t)(NICSIM_PORT_VF0 + vf), ESW_PORT_VF, (uint16_t)vf,
                          ifname, mac, &err);
    if (rc) {
        char text[256];

        OLOG_ERR("cannot create VF %u: %s", vf,
                 ovnic_err_format(&err, text, sizeof text));
    }
    return rc;
}

static void
vf_del(void *aux, unsigned int vf)
{
    nicsim_port_close(aux, (uint16_t)(NICSIM_PORT_VF0 + vf));
}

static const struct nicsim_sysfs_ops sysfs_ops = {vf_add, vf_del};

static void
sysfs_cb(struct poll_loop *loop, int fd, uint32_t events, void *aux)
{
    struct nicsim *ns = aux;

    if (nicsim_sysfs_run(ns->sysfs) < 0) {
        OLOG_ERR("sysfs watch failed");
    }
}

static void
signal_cb(struct poll_loop *loop, int fd, uint32_t events, void *aux)
{
    struct nicsim *ns = aux;
    struct signalfd_siginfo si;

    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        OLOG_INFO("signal %u: exiting", si.ssi_signo);
        ns->exiting = true;
    }
}

/* ---- EAL. --------------------------------------------------------------------- */

static int
eal_start(struct nicsim *ns, FILE *log_stream)
{
    cpu_set_t saved;
    char lcores[32];
    char *argv[16];
    int argc = 0;
    int cpu;
    int rc;

    if (sched_getaffinity(0, sizeof saved, &saved)) {
        return -errno;
    }
    for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &saved); cpu++) {
        continue;
    }
    snprintf(lcores, sizeof lcores, "0@%d", cpu < CPU_SETSIZE ? cpu : 0);
    snprintf(ns->eal_prefix, sizeof ns->eal_prefix, "ovnic-nicsim-%d", (int)getpid());
    argv[argc++] = "ovnic-nicsim";
    argv[argc++] = "--no-huge";
    argv[argc++] = "-m";
    argv[argc++] = "128";
    argv[argc++] = "--no-shconf";
    argv[argc++] = "--no-pci";
    argv[argc++] = "--no-telemetry";
    argv[argc++] = "--lcores";
    argv[argc++] = lcores;
    argv[argc++] = "--file-prefix";
    argv[argc++] = ns->eal_prefix;
    argv[argc++] = "--log-level=warning";
    /* memif complains that it cannot serve secondary processes (--no-shconf). */
    argv[argc++] = "--log-level=pmd.net.memif:critical";
    argv[argc] = NULL;

    rte_openlog_stream(log_stream);
    rc = rte_eal_init(argc, argv);
    if (rc < 0) {
        return -rte_errno;
    }
    /* The EAL pinned this thread to one CPU: several simulated NICs share the
     * machine, so let the scheduler place it. */
    sched_setaffinity(0, sizeof saved, &saved);
    return 0;
}

static void
eal_stop(struct nicsim *ns)
{
    char path[PATH_MAX];

    rte_eal_cleanup();
    snprintf(path, sizeof path, "/var/run/dpdk/%s", ns->eal_prefix);
    rmdir(path);
}

/* ---- Main loop. --------------------------------------------------------------- */

static void
run(struct nicsim *ns)
{
    uint32_t idle_us = 0;
    unsigned int busy = 0;

    while (!ns->exiting) {
        int due;

        if (nicsim_dp_poll(ns)) {
            idle_us = 0;
            if (++busy % 64 == 0) {
                poll_loop_run_once(ns->loop, 0);
            }
            continue;
        }
        idle_us = idle_us ? MIN(idle_us * 2, ns->opts.idle_max_us) : ns->opts.idle_min_us;
        ns->idle_sleeps++;
        due = nicsim_dp_next_due_ms(ns);
        if (idle_us >= 1000) {
            int timeout = (int)(idle_us / 1000);

            if (due >= 0 && due < timeout) {
                timeout = due;
            }
            poll_loop_run_once(ns->loop, timeout);
        } else {
            struct timespec ts = {0, (long)idle_us * 1000};

            poll_loop_run_once(ns->loop, 0);
            nanosleep(&ts, NULL);
        }
    }
}

static int
mkdir_one(const char *path)
{
    if (mkdir(path, 0755) && errno != EEXIST) {
        fprintf(stderr, "ovnic-nicsim: cannot create %s: %s\n", path, strerror(errno));
        return -errno;
    }
    return 0;
}

int
main(int argc, char *argv[])
{
    static struct nicsim nicsim;
    struct nicsim *ns = &nicsim;
    char sysfs_root[PATH_MAX];
    char flash_dir[PATH_MAX];
    char pidfile[PATH_MAX];
    struct nicsim_sysfs_config scfg;
    struct ovnic_err err = {0};
    struct esw_error eerr;
    FILE *log_stream = stderr;
    bool eal_up = false;
    bool pid_written = false;
    unsigned int max_vfs;
    sigset_t sigs;
    char text[512];
    int status = EXIT_FAILURE;
    int rc;

    ovnic_log_set_level(NULL, OVNIC_LOG_INFO);
    rc = parse_options(argc, argv, &ns->opts);
    if (rc >= 0) {
        return rc;
    }
    ns->start_ms = time_msec();
    ns->host_netns_fd = -1;
    ns->signal_fd = -1;
    nicsim_faults_init(&ns->faults);

    if (ns->opts.log_file) {
        if (ovnic_log_open_file(ns->opts.log_file)) {
            fprintf(stderr, "ovnic-nicsim: cannot open log file %s\n", ns->opts.log_file);
            return EXIT_FAILURE;
        }
        log_stream = fopen(ns->opts.log_file, "ae");
        if (!log_stream) {
            return EXIT_FAILURE;
        }
        setvbuf(log_stream, NULL, _IOLBF, 0);
    }
    if (mkdir_one(ns->opts.run_dir)) {
        goto out;
    }
    snprintf(ns->memif_dir, sizeof ns->memif_dir, "%s/memif", ns->opts.run_dir);
    snprintf(ns->ctl_path, sizeof ns->ctl_path, "%s/nicsim.ctl", ns->opts.run_dir);
    snprintf(pidfile, sizeof pidfile, "%s", ns->opts.pidfile ? ns->opts.pidfile : "");
    if (!ns->opts.pidfile) {
        snprintf(pidfile, sizeof pidfile, "%s/nicsim.pid", ns->opts.run_dir);
    }
    snprintf(sysfs_root, sizeof sysfs_root, "%s",
             ns->opts.sysfs_root ? ns->opts.sysfs_root : "");
    if (!ns->opts.sysfs_root) {
        snprintf(sysfs_root, sizeof sysfs_root, "%s/sys", ns->opts.run_dir);
    }
    snprintf(flash_dir, sizeof flash_dir, "%s",
             ns->opts.flash_dir ? ns->opts.flash_dir : "");
    if (!ns->opts.flash_dir) {
        snprintf(flash_dir, sizeof flash_dir, "%s/flash", ns->opts.run_dir);
    }
    if (mkdir_one(ns->memif_dir)) {
        goto out;
    }
    if (pidfile_write(pidfile)) {
        goto out;
    }
    pid_written = true;

    /* Signals arrive through signalfd: block them before the EAL starts threads,
     * which inherit the mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    ns->signal_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);

    esw_error_clear(&eerr);
    rc = eswitch_profile_load(ns->opts.profile, &ns->profile, &eerr);
    if (!rc) {
        rc = eswitch_create(&ns->profile, &ns->esw);
    }
    if (rc) {
        OLOG_ERR("profile '%s': %s", ns->opts.profile,
                 esw_error_format(&eerr, text, sizeof text));
        goto out;
    }
    max_vfs = ns->profile.max_ports > NICSIM_PORT_VF0
                  ? ns->profile.max_ports - NICSIM_PORT_VF0
                  : 0;
    if (ns->opts.total_vfs > max_vfs) {
        OLOG_ERR("--total-vfs %u: profile %s has room for %u VFs", ns->opts.total_vfs,
                 ns->profile.name, max_vfs);
        goto out;
    }
    rc = nicsim_flash_open(flash_dir, ns->opts.flash_size, &ns->faults, &ns->flash, &err);
    if (rc) {
        OLOG_ERR("flash: %s", ovnic_err_format(&err, text, sizeof text));
        goto out;
    }
    if (ns->opts.host_netns) {
        ns->host_netns_fd = nicsim_netns_open(ns->opts.host_netns);
        if (ns->host_netns_fd < 0) {
            OLOG_ERR("cannot open network namespace '%s': %s", ns->opts.host_netns,
                     strerror(-ns->host_netns_fd));
            goto out;
        }
    }

    rc = eal_start(ns, log_stream);
    if (rc) {
        OLOG_ERR("DPDK EAL initialisation failed: %s", strerror(-rc));
        goto out;
    }
    eal_up = true;
    rc = nicsim_dp_init(ns, &err);
    if (!rc) {
        unsigned int n = nicsim_port_remove_leftovers(ns);

        if (n) {
            OLOG_INFO("removed %u VF netdev%s left by an earlier run", n,
                      n == 1 ? "" : "s");
        }
        rc = nicsim_port_open(ns, NICSIM_PORT_UPLINK, ESW_PORT_UPLINK, 0, "", NULL, &err);
    }
    if (!rc) {
        rc = nicsim_port_open(ns, NICSIM_PORT_PF, ESW_PORT_PF, 0, ns->opts.pf_ifname,
                              ns->opts.pf_mac, &err);
    }
    if (rc) {
        OLOG_ERR("%s", ovnic_err_format(&err, text, sizeof text));
        goto out;
    }

    memset(&scfg, 0, sizeof scfg);
    scfg.root = sysfs_root;
    scfg.pci_addr = ns->opts.pci_addr;
    scfg.pf_ifname = ns->opts.pf_ifname;
    scfg.total_vfs = ns->opts.total_vfs;
    memcpy(scfg.pf_mac, ns->opts.pf_mac, 6);
    rc = nicsim_sysfs_create(&scfg, &sysfs_ops, ns, &ns->sysfs, &err);
    if (!rc && ns->opts.numvfs) {
        rc = nicsim_sysfs_numvfs_set(ns->sysfs, ns->opts.numvfs, &err);
    }
    if (rc) {
        OLOG_ERR("sysfs: %s", ovnic_err_format(&err, text, sizeof text));
        goto out;
    }

    rc = poll_loop_create(&ns->loop);
    if (!rc) {
        rc = nicsim_ctl_open(ns, &err);
    }
    if (!rc) {
        rc = poll_loop_fd_add(ns->loop, nicsim_sysfs_fd(ns->sysfs), OVNIC_POLL_IN,
                              sysfs_cb, ns);
    }
    if (!rc && ns->signal_fd >= 0) {
        rc = poll_loop_fd_add(ns->loop, ns->signal_fd, OVNIC_POLL_IN, signal_cb, ns);
    }
    if (rc) {
        OLOG_ERR("control socket %s: %s", ns->ctl_path,
                 ovnic_err_format(&err, text, sizeof text));
        goto out;
    }
    OLOG_INFO("ready: profile %s, control socket %s, sysfs %s", ns->profile.name,
              ns->ctl_path, nicsim_sysfs_pf_dir(ns->sysfs));
    run(ns);
    status = EXIT_SUCCESS;

out:
    if (ns->loop) {
        nicsim_ctl_close(ns);
    }
    if (ns->sysfs) {
        if (ns->loop) {
            poll_loop_fd_remove(ns->loop, nicsim_sysfs_fd(ns->sysfs));
        }
        nicsim_sysfs_destroy(ns->sysfs);
    }
    poll_loop_destroy(ns->loop);
    if (eal_up) {
        nicsim_dp_uninit(ns);
        eal_stop(ns);
    }
    eswitch_destroy(ns->esw);
    nicsim_flash_close(ns->flash);
    if (ns->host_netns_fd >= 0) {
        close(ns->host_netns_fd);
    }
    if (ns->signal_fd >= 0) {
        close(ns->signal_fd);
    }
    if (pid_written) {
        unlink(pidfile);
    }
    if (log_stream != stderr) {
        fclose(log_stream);
    }
    OLOG_INFO("exited");
    return status;
}
