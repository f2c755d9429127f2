/* ovnic: small helpers shared by every module. */
#ifndef OVNIC_UTIL_UTIL_H
#define OVNIC_UTIL_UTIL_H 1

#include <stddef.h>
#include <stdint.h>

/** Pointer to the structure of type STRUCT that contains MEMBER at POINTER. */
#define CONTAINER_OF(POINTER, STRUCT, MEMBER) \
    ((STRUCT *)(void *)((char *)(POINTER)-offsetof(STRUCT, MEMBER)))

/** Like CONTAINER_OF, typed after OBJECT (which need not be initialised yet). */
#define OBJECT_CONTAINING(POINTER, OBJECT, MEMBER)                                  \
    ((__typeof__(OBJECT))(void *)((char *)(POINTER)-offsetof(__typeof__(*(OBJECT)), \
                                                             MEMBER)))

#define ARRAY_SIZE(ARRAY) (sizeof(ARRAY) / sizeof((ARRAY)[0]))

#define OVNIC_UNUSED __attribute__((unused))
#define OVNIC_PRINTF(FMT, ARG1) __attribute__((format(printf, FMT, ARG1)))

#define MIN(A, B) ((A) < (B) ? (A) : (B))
#define MAX(A, B) ((A) > (B) ? (A) : (B))

/** Monotonic time in milliseconds. */
uint64_t time_msec(void);

/** Monotonic time in microseconds. */
uint64_t time_usec(void);

/** Length of a MAC address as text, "xx:xx:xx:xx:xx:xx", without its NUL. */
#define UTIL_MAC_LEN 17

/** Parses exactly "xx:xx:xx:xx:xx:xx" (hex digits of either case) into 'mac', which
 * is written only on success.  Returns 0 or -EINVAL. */
int util_mac_parse(const char *s, uint8_t mac[6]);

/** Formats 'mac' as "xx:xx:xx:xx:xx:xx" (lowercase) into 'buf'; returns 'buf'. */
char *util_mac_format(const uint8_t mac[6], char buf[UTIL_MAC_LEN + 1]);

/** Creates directory 'path' and its missing parents (mode 0755), as "mkdir -p".
 * Returns 0 (also when it exists), -ENAMETOOLONG (PATH_MAX bytes or more), -ENOENT
 * (an empty path), or the errno of mkdir(). */
int util_mkdir_p(const char *path);

/** Wall-clock time in milliseconds since the Unix epoch. */
uint64_t time_wall_msec(void);

#endif /* OVNIC_UTIL_UTIL_H */
