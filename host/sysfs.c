/* ovnic-hostd: sysfs attributes (see sysfs.h). */
#include "host/sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
host_sysfs_read(const char *path, char *buf, size_t size)
{
    ssize_t len;
    int error = 0;
    int fd = -1;

    if (size == 0) {
        return -EINVAL;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    do {
        len = read(fd, buf, size);
    } while (len < 0 && errno == EINTR);
    if (len < 0) {
        error = -errno;
    } else if ((size_t)len >= size) {
        error = -EFBIG;
    }
    close(fd);
    if (error) {
        buf[0] = '\0';
        return error;
    }
    buf[len] = '\0';
    if (len > 0 && buf[len - 1] == '\n') {
        buf[--len] = '\0';
    }
    return (int)len;
}

int
host_sysfs_read_bin(const char *path, uint8_t *buf, size_t size)
{
    size_t total = 0;
    int error = 0;
    int fd = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    while (total < size && total < INT_MAX) {
        ssize_t len = read(fd, buf + total, size - total);

        if (len < 0) {
            if (errno == EINTR) {
                continue;
            }
            error = -errno;
            break;
        }
        if (len == 0) {
            break;
        }
        total += (size_t)len;
    }
    close(fd);
    return error ? error : (int)total;
}

int
host_sysfs_read_uint(const char *path, unsigned long *value)
{
    char text[64];
    char *end;
    unsigned long v;
    int error;

    error = host_sysfs_read(path, text, sizeof text);
    if (error < 0) {
        return error;
    }
    if (!isdigit((unsigned char)text[0])) {
        return -EINVAL;
    }
    errno = 0;
    v = strtoul(text, &end, 0);
    if (errno || end == text || *end != '\0') {
        return -EINVAL;
    }
    *value = v;
    return 0;
}

int
host_sysfs_write(const char *path, const char *text)
{
    size_t len = strlen(text);
    ssize_t n;
    int error = 0;
    int fd = -1;

    /* O_TRUNC as a shell's '>' does: sysfs ignores it, and a simulated tree of plain
     * files needs it. */
    fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    do {
        n = write(fd, text, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        error = -errno;
    } else if ((size_t)n != len) {
        error = -EIO;
    }
    if (close(fd) && !error) {
        error = -errno;
    }
    return error;
}

int
host_sysfs_link_name(const char *path, char *buf, size_t size)
{
    char target[PATH_MAX];
    const char *base;
    ssize_t len;

    len = readlink(path, target, sizeof target - 1);
    if (len < 0) {
        return -errno;
    }
    target[len] = '\0';
    while (len > 1 && target[len - 1] == '/') {
        target[--len] = '\0';
    }
    base = strrchr(target, '/');
    base = base ? base + 1 : target;
    if (strlen(base) >= size) {
        return -ENAMETOOLONG;
    }
    memcpy(buf, base, strlen(base) + 1);
    return 0;
}

bool
host_sysfs_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
host_sysfs_dir_foreach(const char *path, int (*cb)(const char *name, void *aux),
                       void *aux)
{
    char **names = NULL;
    size_t n = 0, allocated = 0;
    struct dirent *de;
    int error = 0;
    size_t i;
    DIR *dir;

    dir = opendir(path);
    if (!dir) {
        return -errno;
    }
    while ((de = readdir(dir))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
            continue;
        }
        if (n == allocated) {
            size_t new_allocated = allocated ? 2 * allocated : 16;
            char **p = realloc(names, new_allocated * sizeof *names);

            if (!p) {
                error = -ENOMEM;
                goto out;
            }
            names = p;
            allocated = new_allocated;
        }
        names[n] = strdup(de->d_name);
        if (!names[n]) {
            error = -ENOMEM;
            goto out;
        }
        n++;
    }
    if (n) {
        qsort(names, n, sizeof *names, name_cmp);
    }
    for (i = 0; i < n && !error; i++) {
        error = cb(names[i], aux);
    }

out:
    closedir(dir);
    for (i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    return error;
}
