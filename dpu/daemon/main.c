/* ovnic-dpud: process setup (configuration, logging, rundir, pidfile, signals,
 * detaching) around the daemon object of dpud.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "datapath.h"
#include "dpud.h"
#include "shared/util/log.h"
#include "shared/util/poll.h"
#include "shared/util/rpc_client.h"
#include "shared/util/util.h"

OVNIC_LOG_MODULE(dpud_main);

/* How long the replies to "exit" may take to drain before the process ends. */
#define FLUSH_TIMEOUT_MS 1000

/* --replace: how long the daemon replaced may take to answer and to exit. */
#define REPLACE_CALL_TIMEOUT_MS 5000
#define REPLACE_EXIT_TIMEOUT_MS 10000

struct process {
    int sig_fd;
    int pid_fd;
    char *pid_path;
    bool signalled;
    struct dpud *dpud;
};

/* Creates and locks the pidfile (the lock shows that this daemon runs; it goes
 * away with the process, so a pidfile left by a killed daemon is reused). */
static int
pidfile_open(struct process *proc, char *errbuf, size_t errlen)
{
    char buf[32];
    int fd = open(proc->pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0) {
        snprintf(errbuf, errlen, "cannot open pidfile %s: %s", proc->pid_path,
                 strerror(errno));
        return -errno;
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        ssize_t n = read(fd, buf, sizeof buf - 1);

        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        snprintf(errbuf, errlen, "already running (pid %s, pidfile %s)", *buf ? buf : "?",
                 proc->pid_path);
        close(fd);
        return -EBUSY;
    }
    /* The daemon that held the lock unlinks the file as it exits: a lock on a file
     * that is no longer at the path locks nothing. */
    struct stat held, named;
    if (fstat(fd, &held) || stat(proc->pid_path, &named) || held.st_dev != named.st_dev ||
        held.st_ino != named.st_ino) {
        close(fd);
        return -EAGAIN;
    }
    proc->pid_fd = fd;
    return 0;
}

/* Opens and locks the pidfile, trying again while another process replaces it. */
static int
pidfile_acquire(struct process *proc, char *errbuf, size_t errlen)
{
    int error;

    for (int i = 0; i < 100; i++) {
        error = pidfile_open(proc, errbuf, errlen);
        if (error != -EAGAIN) {
            return error;
        }
    }
    snprintf(errbuf, errlen, "pidfile %s keeps being replaced", proc->pid_path);
    return -EBUSY;
}

/* --replace: asks the daemon that holds the pidfile to exit for a restart (keeping
 * its SB rows, as "ovnicctl dpud exit --restart"), then waits until the pidfile is
 * ours. */
static int
replace_running(struct process *proc, const struct dpud_config *config, char *errbuf,
                size_t errlen)
{
    char *ctl = dpud_config_ctl_path(config);
    char *remote = NULL;
    struct rpc_client *client = NULL;
    struct ovnic_err err = {0};
    json_t *reply = NULL;
    int error;

    if (!ctl || asprintf(&remote, "unix:%s", ctl) < 0) {
        free(ctl);
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    error = rpc_client_open(remote, REPLACE_CALL_TIMEOUT_MS, &client, &err);
    if (!error) {
        error = rpc_client_call(client, "exit", json_pack("[{s:b}]", "restart", 1),
                                &reply, &err);
    }
    if (error) {
        char e[256];
        snprintf(errbuf, errlen,
                 "--replace: cannot ask the running daemon to exit (%s): %s", ctl,
                 ovnic_err_is_set(&err) ? ovnic_err_format(&err, e, sizeof e)
                                        : strerror(-error));
    } else if (json_object_get(reply, "error") &&
               !json_is_null(json_object_get(reply, "error"))) {
        char *text = json_dumps(json_object_get(reply, "error"), JSON_COMPACT);
        snprintf(errbuf, errlen, "--replace: the running daemon refused to exit: %s",
                 text ? text : "?");
        free(text);
        error = -EPERM;
    }
    json_decref(reply);
    rpc_client_close(client);
    free(remote);
    free(ctl);
    if (error) {
        return error;
    }

    uint64_t deadline = time_msec() + REPLACE_EXIT_TIMEOUT_MS;
    while ((error = pidfile_acquire(proc, errbuf, errlen)) == -EBUSY) {
        if (time_msec() >= deadline) {
            size_t n = strlen(errbuf);
            snprintf(errbuf + n, errlen - n, ": did not exit within %d s",
                     REPLACE_EXIT_TIMEOUT_MS / 1000);
            return error;
        }
        usleep(1000);
    }
    return error;
}

static int
pidfile_write(struct process *proc)
{
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());

    if (ftruncate(proc->pid_fd, 0) || pwrite(proc->pid_fd, buf, len, 0) != len) {
        return -errno;
    }
    return 0;
}

static void
pidfile_close(struct process *proc)
{
    if (proc->pid_fd >= 0) {
        unlink(proc->pid_path);
        close(proc->pid_fd);
        proc->pid_fd = -1;
    }
}

static void
signal_cb(struct poll_loop *loop OVNIC_UNUSED, int fd, uint32_t events OVNIC_UNUSED,
          void *aux)
{
    struct process *proc = aux;
    struct signalfd_siginfo si;

    while (read(fd, &si, sizeof si) == sizeof si) {
        OLOG_INFO("%s: exiting, SB rows kept", strsignal(si.ssi_signo));
        proc->signalled = true;
        dpud_stop(proc->dpud);
    }
}

static int
signals_open(void)
{
    sigset_t set;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL)) {
        return -errno;
    }
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* Forks: the parent waits until the child says it is ready (one byte on 'pipe') and
 * exits with 0, or with 1 if the child failed first.  Returns in the child. */
static int
detach_start(int *ready_fd)
{
    int fds[2];
    pid_t pid;

    if (pipe(fds)) {
        return -errno;
    }
    pid = fork();
    if (pid < 0) {
        return -errno;
    }
    if (pid > 0) {
        char c;
        ssize_t n;

        close(fds[1]);
        do {
            n = read(fds[0], &c, 1);
        } while (n < 0 && errno == EINTR);
        _exit(n == 1 ? 0 : 1);
    }
    close(fds[0]);
    setsid();
    *ready_fd = fds[1];
    return 0;
}

static void
detach_finish(int ready_fd)
{
    int null = open("/dev/null", O_RDWR);

    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO) {
            close(null);
        }
    }
    if (write(ready_fd, "", 1) != 1) {
        OLOG_WARN("cannot notify the parent process");
    }
    close(ready_fd);
}

int
main(int argc, char *argv[])
{
    struct dpud_config config = {0};
    struct process proc = {.sig_fd = -1, .pid_fd = -1};
    struct poll_loop *loop = NULL;
    struct ovnic_err err = {0};
    char errbuf[512];
    int ready_fd = -1;
    int status = EXIT_FAILURE;
    int error;

    ovnic_log_set_level(NULL, OVNIC_LOG_INFO);
    switch (dpud_config_parse(&config, argc, argv, errbuf, sizeof errbuf)) {
    case DPUD_CONFIG_OK:
        break;
    case DPUD_CONFIG_EXIT:
        dpud_config_destroy(&config);
        return EXIT_SUCCESS;
    case DPUD_CONFIG_INVALID:
        fprintf(stderr, "ovnic-dpud: %s\nTry 'ovnic-dpud --help'.\n", errbuf);
        dpud_config_destroy(&config);
        return 2;
    }
    if (config.log_file && (error = ovnic_log_open_file(config.log_file))) {
        fprintf(stderr, "ovnic-dpud: cannot open log file %s: %s\n", config.log_file,
                strerror(-error));
        goto out;
    }
    if ((error = util_mkdir_p(config.rundir))) {
        fprintf(stderr, "ovnic-dpud: cannot create rundir %s: %s\n", config.rundir,
                strerror(-error));
        goto out;
    }
    proc.pid_path = dpud_config_pid_path(&config);
    if (!proc.pid_path) {
        fprintf(stderr, "ovnic-dpud: out of memory\n");
        goto out;
    }
    error = pidfile_acquire(&proc, errbuf, sizeof errbuf);
    bool replacing = error == -EBUSY && config.replace;
    if (error && !replacing) {
        fprintf(stderr, "ovnic-dpud: %s\n", errbuf);
        goto out;
    }
    if (config.detach && (error = detach_start(&ready_fd))) {
        fprintf(stderr, "ovnic-dpud: cannot detach: %s\n", strerror(-error));
        goto out;
    }
    if (replacing) {
        /* What takes time and needs nothing the running daemon holds happens while it
         * still forwards: DPDK's start and its packet buffers. */
        uint64_t t0 = time_msec();
        if (config.dpdk && (error = dpud_dp_prepare(&config, &err))) {
            fprintf(stderr, "ovnic-dpud: %s\n",
                    ovnic_err_is_set(&err) ? ovnic_err_format(&err, errbuf, sizeof errbuf)
                                           : strerror(-error));
            goto out;
        }
        uint64_t t1 = time_msec();
        if (replace_running(&proc, &config, errbuf, sizeof errbuf)) {
            fprintf(stderr, "ovnic-dpud: %s\n", errbuf);
            goto out;
        }
        OLOG_INFO(
            "replacing the running daemon: prepared in %llu ms, it exited in %llu ms",
            (unsigned long long)(t1 - t0), (unsigned long long)(time_msec() - t1));
    }
    if ((error = pidfile_write(&proc))) {
        fprintf(stderr, "ovnic-dpud: cannot write pidfile %s: %s\n", proc.pid_path,
                strerror(-error));
        goto out;
    }
    proc.sig_fd = signals_open();
    if (proc.sig_fd < 0 || poll_loop_create(&loop)) {
        fprintf(stderr, "ovnic-dpud: cannot set up the event loop\n");
        goto out;
    }
    error = dpud_create(loop, &config, &proc.dpud, &err);
    if (error) {
        fprintf(stderr, "ovnic-dpud: %s\n",
                ovnic_err_is_set(&err) ? ovnic_err_format(&err, errbuf, sizeof errbuf)
                                       : strerror(-error));
        goto out;
    }
    if (poll_loop_fd_add(loop, proc.sig_fd, OVNIC_POLL_IN, signal_cb, &proc)) {
        fprintf(stderr, "ovnic-dpud: cannot watch signals\n");
        goto out;
    }
    if (ready_fd >= 0) {
        detach_finish(ready_fd);
        ready_fd = -1;
    }

    while (!dpud_is_done(proc.dpud)) {
        if (poll_loop_run_once(loop, -1) < 0) {
            OLOG_ERR("event loop failed");
            goto out;
        }
    }
    /* Let the replies to "exit" reach their clients. */
    for (uint64_t deadline = time_msec() + FLUSH_TIMEOUT_MS;
         !dpud_is_flushed(proc.dpud) && time_msec() < deadline;) {
        poll_loop_run_once(loop, 50);
    }
    status = EXIT_SUCCESS;

out:
    if (ready_fd >= 0) {
        close(ready_fd);
    }
    dpud_destroy(proc.dpud);
    if (loop && proc.sig_fd >= 0) {
        poll_loop_fd_remove(loop, proc.sig_fd);
    }
    poll_loop_destroy(loop);
    if (proc.sig_fd >= 0) {
        close(proc.sig_fd);
    }
    pidfile_close(&proc);
    free(proc.pid_path);
    dpud_config_destroy(&config);
    return status;
}
