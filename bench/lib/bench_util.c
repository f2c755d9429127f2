/* ovnic benchmarks: what several benchmark programs share (see bench_util.h). */
#include "bench_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

int
bench_watcher_start(struct bench_watcher *w, const char *central, const char *dir,
                    const char *extra)
{
    int fds[2];

    w->pid = -1;
    w->write_fd = -1;
    if (pipe2(fds, O_CLOEXEC)) {
        return -errno;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);

        setsid();
        dup2(fds[0], STDIN_FILENO);
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        execl("/bin/sh", "sh", "-c",
              "cat >/dev/null; \"$0\" stop \"$1\"; rm -rf \"$1\"; "
              "[ -z \"$2\" ] || rm -rf \"$2\"",
              central, dir, extra ? extra : "", (char *)NULL);
        _exit(127);
    }
    int error = pid < 0 ? -errno : 0;
    close(fds[0]);
    if (error) {
        close(fds[1]);
        return error;
    }
    w->pid = pid;
    w->write_fd = fds[1];
    return 0;
}

void
bench_watcher_finish(struct bench_watcher *w)
{
    if (w->write_fd >= 0) {
        close(w->write_fd);
        w->write_fd = -1;
    }
    if (w->pid > 0) {
        waitpid(w->pid, NULL, 0);
        w->pid = -1;
    }
}

int
bench_run_cmdv(char *out, size_t size, bool first_line, const char *fmt, va_list args)
{
    char *cmd, *full;
    FILE *p;
    int status;

    if (vasprintf(&cmd, fmt, args) < 0) {
        return -1;
    }
    if (asprintf(&full, "%s%s", cmd, out ? "" : " >/dev/null") < 0) {
        free(cmd);
        return -1;
    }
    free(cmd);
    fflush(stdout);
    p = popen(full, "r");
    free(full);
    if (!p) {
        return -1;
    }
    if (out) {
        size_t n = 0;
        if (first_line) {
            if (!fgets(out, (int)size, p)) {
                out[0] = '\0';
            }
            n = strcspn(out, "\n");
        } else {
            n = fread(out, 1, size - 1, p);
        }
        out[n] = '\0';
        while (n > 0 && out[n - 1] == '\n') {
            out[--n] = '\0';
        }
        while (fgetc(p) != EOF) {
            continue;
        }
    }
    status = pclose(p);
    return status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
