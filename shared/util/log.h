/* ovnic: per-module logging with levels and rate limiting.
 *
 * Each .c file declares its module once:
 *
 *     OVNIC_LOG_MODULE(ovsdb_cs);
 *
 * and then logs with OLOG_ERR/OLOG_WARN/OLOG_INFO/OLOG_DBG(fmt, ...).  Anything a
 * peer can trigger is logged through the rate-limited variants:
 *
 *     static struct ovnic_ratelimit rl = OVNIC_RATELIMIT_INIT(5, 20);
 *     OLOG_WARN_RL(&rl, "bad message from %s", name);
 *
 * Output goes to stderr by default, or to a file (ovnic_log_open_file()).  Messages
 * look like "2026-11-21T22:10:00.123Z|0042|ovsdb_cs|WARN|text". */
#ifndef OVNIC_UTIL_LOG_H
#define OVNIC_UTIL_LOG_H 1

#include <stdbool.h>
#include <stdint.h>

#include "shared/util/util.h"

enum ovnic_log_level {
    OVNIC_LOG_OFF,
    OVNIC_LOG_ERR,
    OVNIC_LOG_WARN,
    OVNIC_LOG_INFO,
    OVNIC_LOG_DBG,
};

struct ovnic_log_module {
    const char *name;
    int level;                     /* enum ovnic_log_level, or -1: use default. */
    struct ovnic_log_module *next; /* Registry of every module. */
};

/** Token bucket: 'rate' messages per minute, bursts of up to 'burst'. */
struct ovnic_ratelimit {
    unsigned int rate;
    unsigned int burst;
    unsigned int tokens; /* Messages that may be written now. */
    uint64_t last_ms;
    unsigned int suppressed; /* Messages dropped since the last one printed. */
    bool initialised;
};

#define OVNIC_RATELIMIT_INIT(RATE, BURST) \
    {                                     \
        .rate = (RATE), .burst = (BURST)  \
    }

void ovnic_log_module_register__(struct ovnic_log_module *);

#define OVNIC_LOG_MODULE(NAME)                                             \
    static struct ovnic_log_module ovnic_log_module__ = {#NAME, -1, NULL}; \
    __attribute__((constructor)) static void ovnic_log_init_##NAME(void)   \
    {                                                                      \
        ovnic_log_module_register__(&ovnic_log_module__);                  \
    }

/** True if a message of 'level' from 'module' would be written. */
bool ovnic_log_is_enabled(const struct ovnic_log_module *module,
                          enum ovnic_log_level level);

/** Writes one message.  Use the OLOG_* macros instead. */
void ovnic_log(const struct ovnic_log_module *module, enum ovnic_log_level level,
               const char *fmt, ...) OVNIC_PRINTF(3, 4);

/** Like ovnic_log(), but drops the message if 'rl' has no token left. */
void ovnic_log_rl(const struct ovnic_log_module *module, enum ovnic_log_level level,
                  struct ovnic_ratelimit *rl, const char *fmt, ...) OVNIC_PRINTF(4, 5);

/** Returns true if 'rl' allows one more event now (and consumes a token). */
bool ovnic_ratelimit_allow(struct ovnic_ratelimit *rl);

/** Sets the level of module 'name', or of every module if 'name' is NULL or "ANY".
 * Returns 0, or -ENOENT if no such module exists. */
int ovnic_log_set_level(const char *name, enum ovnic_log_level level);

/** Parses "err", "warn", "info", "dbg"/"debug", "off".  Returns 0 or -EINVAL. */
int ovnic_log_level_from_string(const char *s, enum ovnic_log_level *level);
const char *ovnic_log_level_to_string(enum ovnic_log_level level);

/** Parses a spec such as "info", "ovsdb_cs:dbg", or "ANY:warn,ovsdb_cs:dbg" and
 * applies it.  Returns 0, -EINVAL on a bad spec, -ENOENT on an unknown module. */
int ovnic_log_set_spec(const char *spec);

/** Directs output to 'path' (appended), or back to stderr if 'path' is NULL.
 * Returns 0 or a negative errno. */
int ovnic_log_open_file(const char *path);

#define OLOG__(LEVEL, ...)                                      \
    do {                                                        \
        if (ovnic_log_is_enabled(&ovnic_log_module__, LEVEL)) { \
            ovnic_log(&ovnic_log_module__, LEVEL, __VA_ARGS__); \
        }                                                       \
    } while (0)
#define OLOG_RL__(LEVEL, RL, ...)                                      \
    do {                                                               \
        if (ovnic_log_is_enabled(&ovnic_log_module__, LEVEL)) {        \
            ovnic_log_rl(&ovnic_log_module__, LEVEL, RL, __VA_ARGS__); \
        }                                                              \
    } while (0)

#define OLOG_ERR(...) OLOG__(OVNIC_LOG_ERR, __VA_ARGS__)
#define OLOG_WARN(...) OLOG__(OVNIC_LOG_WARN, __VA_ARGS__)
#define OLOG_INFO(...) OLOG__(OVNIC_LOG_INFO, __VA_ARGS__)
#define OLOG_DBG(...) OLOG__(OVNIC_LOG_DBG, __VA_ARGS__)
#define OLOG_ERR_RL(RL, ...) OLOG_RL__(OVNIC_LOG_ERR, RL, __VA_ARGS__)
#define OLOG_WARN_RL(RL, ...) OLOG_RL__(OVNIC_LOG_WARN, RL, __VA_ARGS__)
#define OLOG_INFO_RL(RL, ...) OLOG_RL__(OVNIC_LOG_INFO, RL, __VA_ARGS__)
#define OLOG_DBG_RL(RL, ...) OLOG_RL__(OVNIC_LOG_DBG, RL, __VA_ARGS__)

#endif /* OVNIC_UTIL_LOG_H */
