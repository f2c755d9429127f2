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

/** Wall-clock time in milliseconds since the Unix epoch. */
uint64_t time_wall_msec(void);

#endif /* OVNIC_UTIL_UTIL_H */
