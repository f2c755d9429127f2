/* ovnic firmware images: whole-file reads and atomic writes (see file.h). */
#include "fw-images/file.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OBJ "file"

int
fw_file_read(const char *path, size_t max, uint8_t **datap, size_t *lenp,
             struct ovnic_err *err)
{
    bool is_stdin = !strcmp(path, "-");
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    size_t len = 0, cap = 0;
    uint8_t *buf = NULL;
    int error;

    if (fd < 0) {
        return ovnic_err_set(err, -errno, OBJ, "cannot open file", "%s", path);
    }
    for (;;) {
        ssize_t n;

        if (cap - len < 2) {
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *nbuf;

            if (cap > max + 1) {
                error = ovnic_err_set(err, -EFBIG, OBJ, "file too large",
                                      "%s: more than %zu bytes", path, max);
                goto err_free;
            }
            nbuf = realloc(buf, ncap);
            if (!nbuf) {
                error = ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", "%s", path);
                goto err_free;
            }
            buf = nbuf;
            cap = ncap;
        }
        n = read(fd, buf + len, cap - len - 1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            error = ovnic_err_set(err, -errno, OBJ, "cannot read file", "%s", path);
            goto err_free;
        }
        if (!n) {
            break;
        }
        len += (size_t)n;
        if (len > max) {
            error = ovnic_err_set(err, -EFBIG, OBJ, "file too large",
                                  "%s: more than %zu bytes", path, max);
            goto err_free;
        }
    }
    if (!is_stdin) {
        close(fd);
    }
    buf[len] = '\0';
    *datap = buf;
    *lenp = len;
    return 0;

err_free:
    if (!is_stdin) {
        close(fd);
    }
    free(buf);
    return error;
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int
fw_file_write(const char *path, const void *data, size_t len, mode_t mode,
              struct ovnic_err *err)
{
    char *tmp;
    int error;
    int fd;

    if (!strcmp(path, "-")) {
        error = write_all(STDOUT_FILENO, data, len);
        return error ? ovnic_err_set(err, error, OBJ, "cannot write", "standard output")
                     : 0;
    }
    if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        error = ovnic_err_set(err, -errno, OBJ, "cannot create file", "%s", path);
        free(tmp);
        return error;
    }
    if (fchmod(fd, mode) < 0) {
        error = ovnic_err_set(err, -errno, OBJ, "cannot set file mode", "%s", path);
        goto err_close;
    }
    error = write_all(fd, data, len);
    if (error || fsync(fd) < 0) {
        error = ovnic_err_set(err, error ? error : -errno, OBJ, "cannot write file", "%s",
                              path);
        goto err_close;
    }
    if (close(fd) < 0) {
        fd = -1;
        error = ovnic_err_set(err, -errno, OBJ, "cannot write file", "%s", path);
        goto err_close;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        error = ovnic_err_set(err, -errno, OBJ, "cannot write file", "%s", path);
        goto err_close;
    }
    free(tmp);
    return 0;

err_close:
    if (fd >= 0) {
        close(fd);
    }
    unlink(tmp);
    free(tmp);
    return error;
}
