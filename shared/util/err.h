/* ovnic: error descriptions for translation and parsing paths.
 *
 * Every function returns 0 or a negative errno.  Paths that translate outside input
 * (an SB row, a JSON-RPC message, an lflow, a rule) also take an optional
 * 'struct ovnic_err *' that records what failed, on which object, and why, in the
 * manner of 'struct rte_flow_error'. */
#ifndef OVNIC_UTIL_ERR_H
#define OVNIC_UTIL_ERR_H 1

#include <stdbool.h>

#include "shared/util/util.h"

#define OVNIC_ERR_OBJECT_LEN 64
#define OVNIC_ERR_DETAIL_LEN 192

struct ovnic_err {
    int code;                          /* Negative errno, 0 if unset. */
    const char *message;               /* Static text: what kind of failure. */
    char object[OVNIC_ERR_OBJECT_LEN]; /* The object that failed, e.g. "Port_Binding". */
    char detail[OVNIC_ERR_DETAIL_LEN]; /* Formatted specifics, may be empty. */
};

/** Records a failure in 'err' (which may be NULL) unless one is already recorded, so
 * that the innermost cause wins.  'code' must be a negative errno; 'message' must be a
 * static string; 'object' may be NULL; 'fmt' may be NULL.  Returns 'code', so callers
 * can write 'return ovnic_err_set(err, -EINVAL, ...)'. */
int ovnic_err_set(struct ovnic_err *err, int code, const char *object,
                  const char *message, const char *fmt, ...) OVNIC_PRINTF(5, 6);

/** Clears 'err' (may be NULL). */
void ovnic_err_clear(struct ovnic_err *err);

/** True if 'err' holds a failure. */
bool ovnic_err_is_set(const struct ovnic_err *err);

/** Formats 'err' as "object: message (detail): strerror" into 'buf'.  Returns 'buf'. */
const char *ovnic_err_format(const struct ovnic_err *err, char *buf, size_t size);

#endif /* OVNIC_UTIL_ERR_H */
