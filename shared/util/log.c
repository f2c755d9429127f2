/* ovnic: per-module logging with levels and rate limiting. */
#include "shared/util/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Logging is process-wide by nature: the registry, default level and output are the
 * only mutable globals in ovnic, guarded by one mutex. */
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct ovnic_log_module *log_modules;
static enum ovnic_log_level log_default_level = OVNIC_LOG_INFO;
static FILE *log_file;
static unsigned int log_seq;

static const char *const level_names[] = {"OFF", "ERR", "WARN", "INFO", "DBG"};

void
ovnic_log_module_register__(struct ovnic_log_module *module)
{
    pthread_mutex_lock(&log_mutex);
    module->next = log_modules;
    log_modules = module;
    pthread_mutex_unlock(&log_mutex);
}

static void
log_env_once__(void)
{
    const char *spec = getenv("OVNIC_LOG");
    if (spec) {
        ovnic_log_set_spec(spec);
    }
}

static void
log_env_init__(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, log_env_once__);
}

bool
ovnic_log_is_enabled(const struct ovnic_log_module *module, enum ovnic_log_level level)
{
    log_env_init__();
    int cur = module->level >= 0 ? module->level : (int)log_default_level;
    return level != OVNIC_LOG_OFF && (int)level <= cur;
}

static void
log_write__(const struct ovnic_log_module *module, enum ovnic_log_level level,
            unsigned int suppressed, const char *fmt, va_list args)
{
    char ts[40];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);

    pthread_mutex_lock(&log_mutex);
    FILE *out = log_file ? log_file : stderr;
    fprintf(out, "%s.%03ldZ|%05u|%s|%s|", ts, now.tv_nsec / 1000000, ++log_seq,
            module->name, level_names[level]);
    vfprintf(out, fmt, args);
    if (suppressed) {
        fprintf(out, " (%u similar messages suppressed)", suppressed);
    }
    fputc('\n', out);
    fflush(out);
    pthread_mutex_unlock(&log_mutex);
}

void
ovnic_log(const struct ovnic_log_module *module, enum ovnic_log_level level,
          const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    log_write__(module, level, 0, fmt, args);
    va_end(args);
}

bool
ovnic_ratelimit_allow(struct ovnic_ratelimit *rl)
{
    /* 'rate' messages per minute: one token every 60000 / rate ms. */
    const uint64_t unit = 60000;
    uint64_t now = time_msec();
    if (!rl->initialised) {
        rl->initialised = true;
        rl->tokens = rl->burst;
        rl->last_ms = now;
        rl->suppressed = 0;
    }
    uint64_t elapsed = now - rl->last_ms;
    if (elapsed) {
        uint64_t add = elapsed * rl->rate / unit;
        if (add) {
            uint64_t t = rl->tokens + add;
            if (t >= rl->burst) {
                rl->tokens = rl->burst;
                rl->last_ms = now;
            } else {
                /* Keep the fraction of a token already earned. */
                rl->tokens = (unsigned int)t;
                rl->last_ms += add * unit / rl->rate;
            }
        }
    }
    if (rl->tokens) {
        rl->tokens--;
        return true;
    }
    rl->suppressed++;
    return false;
}

void
ovnic_log_rl(const struct ovnic_log_module *module, enum ovnic_log_level level,
             struct ovnic_ratelimit *rl, const char *fmt, ...)
{
    pthread_mutex_lock(&log_mutex);
    bool allow = ovnic_ratelimit_allow(rl);
    unsigned int suppressed = 0;
    if (allow) {
        suppressed = rl->suppressed;
        rl->suppressed = 0;
    }
    pthread_mutex_unlock(&log_mutex);
    if (allow) {
        va_list args;
        va_start(args, fmt);
        log_write__(module, level, suppressed, fmt, args);
        va_end(args);
    }
}

int
ovnic_log_level_from_string(const char *s, enum ovnic_log_level *level)
{
    static const struct {
        const char *name;
        enum ovnic_log_level level;
    } names[] = {
        {"off", OVNIC_LOG_OFF},   {"err", OVNIC_LOG_ERR},      {"error", OVNIC_LOG_ERR},
        {"warn", OVNIC_LOG_WARN}, {"warning", OVNIC_LOG_WARN}, {"info", OVNIC_LOG_INFO},
        {"dbg", OVNIC_LOG_DBG},   {"debug", OVNIC_LOG_DBG},
    };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (!strcasecmp(s, names[i].name)) {
            *level = names[i].level;
            return 0;
        }
    }
    return -EINVAL;
}

const char *
ovnic_log_level_to_string(enum ovnic_log_level level)
{
    return (unsigned int)level < ARRAY_SIZE(level_names) ? level_names[level] : "?";
}

int
ovnic_log_set_level(const char *name, enum ovnic_log_level level)
{
    int error = 0;
    pthread_mutex_lock(&log_mutex);
    if (!name || !strcasecmp(name, "ANY")) {
        log_default_level = level;
        for (struct ovnic_log_module *m = log_modules; m; m = m->next) {
            m->level = -1;
        }
    } else {
        error = -ENOENT;
        for (struct ovnic_log_module *m = log_modules; m; m = m->next) {
            if (!strcmp(m->name, name)) {
                m->level = level;
                error = 0;
            }
        }
    }
    pthread_mutex_unlock(&log_mutex);
    return error;
}

int
ovnic_log_set_spec(const char *spec)
{
    char *copy = strdup(spec);
    if (!copy) {
        return -ENOMEM;
    }
    int error = 0;
    char *save = NULL;
    for (char *item = strtok_r(copy, ", ", &save); item && !error;
         item = strtok_r(NULL, ", ", &save)) {
        char *colon = strchr(item, ':');
        enum ovnic_log_level level;
        if (colon) {
            *colon = '\0';
            error = ovnic_log_level_from_string(colon + 1, &level);
            if (!error) {
                error = ovnic_log_set_level(item, level);
            }
        } else {
            error = ovnic_log_level_from_string(item, &level);
            if (!error) {
                error = ovnic_log_set_level(NULL, level);
            }
        }
    }
    free(copy);
    return error;
}

int
ovnic_log_open_file(const char *path)
{
    FILE *f = NULL;
    if (path) {
        f = fopen(path, "ae");
        if (!f) {
            return -errno;
        }
    }
    pthread_mutex_lock(&log_mutex);
    FILE *old = log_file;
    log_file = f;
    pthread_mutex_unlock(&log_mutex);
    if (old) {
        fclose(old);
    }
    return 0;
}
