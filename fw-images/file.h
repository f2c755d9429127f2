/* ovnic firmware images: whole-file reads and atomic writes, for images, trust stores,
 * recipes and sign request/response files. */
#ifndef OVNIC_FW_FILE_H
#define OVNIC_FW_FILE_H 1

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shared/util/err.h"

/** Reads the whole of 'path' ("-": standard input) into a new buffer, NUL-terminated
 * (the NUL is not counted in '*lenp').  A file over 'max' bytes is refused.  Caller
 * owns '*datap'; free with free().  Returns 0, -EFBIG, -ENOMEM, or the negative errno
 * of the failed system call ('err' names the file). */
int fw_file_read(const char *path, size_t max, uint8_t **datap, size_t *lenp,
                 struct ovnic_err *err);

/** Replaces 'path' ("-": standard output) with 'len' bytes at 'data': written to a
 * temporary file beside it with 'mode', flushed to disk, then renamed over it, so
 * that a reader sees the old file or the new one, never a part.  Returns 0 or a
 * negative errno. */
int fw_file_write(const char *path, const void *data, size_t len, mode_t mode,
                  struct ovnic_err *err);

#endif /* OVNIC_FW_FILE_H */
