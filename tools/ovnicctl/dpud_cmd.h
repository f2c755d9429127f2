/* ovnicctl: the "dpud" commands, which talk to ovnic-dpud's control socket
 * (status, port-add, port-del, port-list, representor-add, exit). */
#ifndef OVNICCTL_DPUD_CMD_H
#define OVNICCTL_DPUD_CMD_H 1

#include <jansson.h>

/** Sends the request 'method' with 'args' (an object, taken; may be NULL) to the
 * control socket at 'path' and waits up to 'timeout_ms' for the reply.  On success
 * '*result' is the result (caller owns).  On an error reply, '*errmsg' is its text
 * (caller owns; free()) and the return value its code (or -EPROTO).  Returns 0 or a
 * negative errno (-ETIMEDOUT, connection errors). */
int ovnicctl_dpud_call(const char *path, const char *method, json_t *args, int timeout_ms,
                       json_t **result, char **errmsg);

/** ovnic-dpud's default control socket: $OVNIC_RUNDIR/ovnic-dpud.ctl, else
 * /var/run/ovnic/ovnic-dpud.ctl.  Caller owns; free(); NULL on allocation failure. */
char *ovnicctl_dpud_default_target(void);

/** Reports a failed ovnicctl_dpud_call() of command 'path' to 'target': the daemon's
 * message 'errmsg' (taken; may be NULL), else why it could not be reached.  Returns
 * the exit status. */
int ovnicctl_dpud_report(const char *path, const char *target, int error, char *errmsg);

/** Prints 'json' indented, keys sorted.  Returns the exit status. */
int ovnicctl_print_json(const json_t *json);

/** Prints a scalar: a string as it is, null as "-", anything else as compact JSON. */
void ovnicctl_print_value(const json_t *v);

#endif /* OVNICCTL_DPUD_CMD_H */
