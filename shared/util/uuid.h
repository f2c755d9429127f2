/* ovnic: RFC 4122 UUIDs as OVSDB uses them. */
#ifndef OVNIC_UTIL_UUID_H
#define OVNIC_UTIL_UUID_H 1

#include <stdbool.h>
#include <stdint.h>

/** Length of "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" without the NUL. */
#define UUID_LEN 36

struct uuid {
    uint32_t parts[4]; /* Big-endian reading order of the text form. */
};

/** Parses the 36-character text form (case-insensitive).  Returns 0 or -EINVAL;
 * '*uuid' is untouched on failure. */
int uuid_from_string(const char *s, struct uuid *uuid);

/** True if 's' is a well-formed UUID string. */
bool uuid_is_string(const char *s);

/** Writes the lowercase text form and a NUL into 'buf' (UUID_LEN + 1 bytes).
 * Returns 'buf'. */
char *uuid_to_string(const struct uuid *uuid, char buf[UUID_LEN + 1]);

/** A random (version 4) UUID. */
void uuid_generate(struct uuid *uuid);

void uuid_zero(struct uuid *uuid);
bool uuid_is_zero(const struct uuid *uuid);
bool uuid_equals(const struct uuid *a, const struct uuid *b);
int uuid_compare(const struct uuid *a, const struct uuid *b);
uint32_t uuid_hash(const struct uuid *uuid);

#endif /* OVNIC_UTIL_UUID_H */
