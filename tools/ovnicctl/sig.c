/* ovnicctl: signal handling through signalfd (see sig.h). */
#include "sig.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void
stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
}

void
ovnicctl_signals_default(void)
{
    signal(SIGPIPE, SIG_IGN);
}

int
ovnicctl_signals_open(void)
{
    sigset_t set;
    int fd;

    stop_signals(&set);
    if (sigprocmask(SIG_BLOCK, &set, NULL)) {
        return -errno;
    }
    fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        int error = -errno;

        sigprocmask(SIG_UNBLOCK, &set, NULL);
        return error;
    }
    return fd;
}

int
ovnicctl_signals_read(int fd)
{
    struct signalfd_siginfo info;
    ssize_t n;

    do {
        n = read(fd, &info, sizeof info);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return errno == EAGAIN ? 0 : -errno;
    }
    if ((size_t)n != sizeof info) {
        return -EIO;
    }
    return (int)info.ssi_signo;
}

void
ovnicctl_signals_close(int fd)
{
    if (fd >= 0) {
        close(fd);
    }
}

const char *
ovnicctl_signal_name(int signo)
{
    switch (signo) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    default:
        return strsignal(signo);
    }
}
