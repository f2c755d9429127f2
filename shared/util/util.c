/* ovnic: small helpers shared by every module. */
#include "shared/util/util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

uint64_t
time_msec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
time_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
time_wall_msec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
util_mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (!len) {
        return -ENOENT;
    }
    if (len >= sizeof buf) {
        return -ENAMETOOLONG;
    }
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];

            buf[i] = '\0';
            if (mkdir(buf, 0755) && errno != EEXIST) {
                return -errno;
            }
            buf[i] = c;
        }
    }
    return 0;
}

static int
hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

int
util_mac_parse(const char *s, uint8_t mac[6])
{
    uint8_t m[6];

    if (strlen(s) != UTIL_MAC_LEN) {
        return -EINVAL;
    }
    for (size_t i = 0; i < 6; i++) {
        int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

        if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':')) {
            return -EINVAL;
        }
        m[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(mac, m, sizeof m);
    return 0;
}

char *
util_mac_format(const uint8_t mac[6], char buf[UTIL_MAC_LEN + 1])
{
    snprintf(buf, UTIL_MAC_LEN + 1, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
             mac[2], mac[3], mac[4], mac[5]);
    return buf;
}
