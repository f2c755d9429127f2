/* ovnic-hostd: network namespaces by name, pid or path. */
#ifndef OVNIC_HOST_NETNS_H
#define OVNIC_HOST_NETNS_H 1

#include <stdbool.h>
#include <stddef.h>

#include "shared/util/err.h"

/* Where "ip netns add NAME" puts a named namespace. */
#define NETNS_RUN_DIR "/run/netns"

/** The path of namespace 'spec' into 'buf': a decimal pid gives /proc/PID/ns/net, a
 * path (with a '/') stays as it is, anything else is a name under NETNS_RUN_DIR.
 * Returns 0, -EINVAL for an empty spec or a name of "." or "..", or -ENAMETOOLONG. */
int netns_path(const char *spec, char *buf, size_t size);

/** Opens namespace 'spec' (see netns_path()) read-only, close-on-exec.  Caller owns
 * '*fd'; close it with close().  Returns 0, -ENOENT if there is no such namespace, or
 * another negative errno (each with 'err' set). */
int netns_open(const char *spec, int *fd, struct ovnic_err *err);

/** Opens the caller's own namespace (/proc/self/ns/net, or /proc/thread-self/...).
 * Returns 0 or a negative errno. */
int netns_open_self(int *fd);

/** Moves the calling thread into namespace 'fd', saving its namespace in '*saved'
 * for netns_leave().  Returns 0 or a negative errno (then nothing changed). */
int netns_enter(int fd, int *saved);

/** Returns the calling thread to the namespace saved by netns_enter(), and closes
 * 'saved'.  Returns 0 or a negative errno. */
int netns_leave(int saved);

/** True if 'fd' is the caller's own namespace. */
bool netns_is_self(int fd);

#endif /* OVNIC_HOST_NETNS_H */
