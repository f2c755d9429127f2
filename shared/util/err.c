/* ovnic: error descriptions for translation and parsing paths. */
#include "shared/util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
ovnic_err_set(struct ovnic_err *err, int code, const char *object, const char *message,
              const char *fmt, ...)
{
    if (!err || err->code) {
        return code;
    }
    err->code = code;
    err->message = message;
    snprintf(err->object, sizeof err->object, "%s", object ? object : "");
    err->detail[0] = '\0';
    if (fmt) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(err->detail, sizeof err->detail, fmt, args);
        va_end(args);
    }
    return code;
}

void
ovnic_err_clear(struct ovnic_err *err)
{
    if (err) {
        memset(err, 0, sizeof *err);
    }
}

bool
ovnic_err_is_set(const struct ovnic_err *err)
{
    return err && err->code;
}

const char *
ovnic_err_format(const struct ovnic_err *err, char *buf, size_t size)
{
    if (!ovnic_err_is_set(err)) {
        snprintf(buf, size, "no error");
        return buf;
    }
    snprintf(buf, size, "%s%s%s%s%s%s: %s", err->object, err->object[0] ? ": " : "",
             err->message ? err->message : "error", err->detail[0] ? " (" : "",
             err->detail, err->detail[0] ? ")" : "", strerror(-err->code));
    return buf;
}
