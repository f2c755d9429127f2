/* ovnic-hostd: network namespaces (see netns.h). */
#include "host/netns.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
netns_path(const char *spec, char *buf, size_t size)
{
    size_t i;
    int n;

    if (!spec || !spec[0] || !strcmp(spec, ".") || !strcmp(spec, "..")) {
        return -EINVAL;
    }
    for (i = 0; isdigit((unsigned char)spec[i]); i++) {
        continue;
    }
    if (spec[i] == '\0' && i <= 9) {
        n = snprintf(buf, size, "/proc/%s/ns/net", spec);
    } else if (strchr(spec, '/')) {
        n = snprintf(buf, size, "%s", spec);
    } else {
        n = snprintf(buf, size, NETNS_RUN_DIR "/%s", spec);
    }
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int
netns_open(const char *spec, int *fdp, struct ovnic_err *err)
{
    char path[512];
    int error;
    int fd = -1;

    error = netns_path(spec, path, sizeof path);
    if (error) {
        return ovnic_err_set(err, error, "netns", "bad namespace name", "'%s'",
                             spec ? spec : "");
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = -errno;
        return ovnic_err_set(err, error, "netns",
                             error == -ENOENT ? "no such network namespace"
                                              : "cannot open the network namespace",
                             "%s", path);
    }
    *fdp = fd;
    return 0;
}

int
netns_open_self(int *fdp)
{
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        return -errno;
    }
    *fdp = fd;
    return 0;
}

int
netns_enter(int fd, int *saved)
{
    int self = -1;
    int error;

    error = netns_open_self(&self);
    if (error) {
        return error;
    }
    if (setns(fd, CLONE_NEWNET)) {
        error = -errno;
        close(self);
        return error;
    }
    *saved = self;
    return 0;
}

int
netns_leave(int saved)
{
    int error = setns(saved, CLONE_NEWNET) ? -errno : 0;

    close(saved);
    return error;
}

bool
netns_is_self(int fd)
{
    struct stat a, b;
    int self = -1;
    bool same;

    if (netns_open_self(&self)) {
        return false;
    }
    same = !fstat(fd, &a) && !fstat(self, &b) && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
    close(self);
    return same;
}
