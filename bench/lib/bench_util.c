/* ovnic benchmarks: what several benchmark programs share (see bench_util.h). */
#include "bench_util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
bench_find_source(char *source, size_t size)
{
    const char *env = getenv("OVNIC_SOURCE_DIR");
    char exe[PATH_MAX], line[PATH_MAX + 64];
    ssize_t n;
    FILE *f;

    if (env && *env) {
        snprintf(source, size, "%s", env);
        return 0;
    }
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        return -ENOENT;
    }
    exe[n] = '\0';
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(exe, '/');
        if (!slash) {
            return -ENOENT;
        }
        *slash = '\0';
    }
    snprintf(line, sizeof line, "%s/CMakeCache.txt", exe);
    f = fopen(line, "r");
    if (!f) {
        return -ENOENT;
    }
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "ovnic_SOURCE_DIR:STATIC=", 24)) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(source, size, "%s", line + 24);
            fclose(f);
            return 0;
        }
    }
    fclose(f);
    return -ENOENT;
}
