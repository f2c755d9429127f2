/* ovnic: RFC 4122 UUIDs as OVSDB uses them. */
#include "shared/util/uuid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "shared/util/hash.h"
#include "shared/util/util.h"

static int
hexval__(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    } else if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int
uuid_from_string(const char *s, struct uuid *uuid)
{
    struct uuid u = {{0, 0, 0, 0}};
    int nibble = 0;
    for (int i = 0; i < UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return -EINVAL;
            }
            continue;
        }
        int v = hexval__(s[i]);
        if (v < 0) {
            return -EINVAL;
        }
        u.parts[nibble / 8] = (u.parts[nibble / 8] << 4) | (uint32_t)v;
        nibble++;
    }
    if (s[UUID_LEN] != '\0') {
        return -EINVAL;
    }
    *uuid = u;
    return 0;
}

bool
uuid_is_string(const char *s)
{
    struct uuid u;
    return !uuid_from_string(s, &u);
}

char *
uuid_to_string(const struct uuid *uuid, char buf[UUID_LEN + 1])
{
    snprintf(buf, UUID_LEN + 1, "%08x-%04x-%04x-%04x-%04x%08x", uuid->parts[0],
             uuid->parts[1] >> 16, uuid->parts[1] & 0xffff, uuid->parts[2] >> 16,
             uuid->parts[2] & 0xffff, uuid->parts[3]);
    return buf;
}

void
uuid_generate(struct uuid *uuid)
{
    ssize_t n;
    do {
        n = getrandom(uuid->parts, sizeof uuid->parts, 0);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof uuid->parts) {
        /* No kernel randomness (e.g. a sandbox without getrandom()): derive the bits
         * from clocks, the process and a counter, so that UUIDs still differ. */
        static uint32_t counter;
        uint32_t c = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
        uint32_t h = hash_add64(hash_add64(c, time_wall_msec()), time_msec());
        h = hash_add32(h, (uint32_t)getpid());
        for (int i = 0; i < 4; i++) {
            h = hash_add32(h, (uint32_t)i);
            uuid->parts[i] = hash_finish(h);
        }
    }
    uuid->parts[1] = (uuid->parts[1] & 0xffff0fffu) | 0x00004000u;
    uuid->parts[2] = (uuid->parts[2] & 0x3fffffffu) | 0x80000000u;
}

void
uuid_zero(struct uuid *uuid)
{
    memset(uuid, 0, sizeof *uuid);
}

bool
uuid_is_zero(const struct uuid *uuid)
{
    return !(uuid->parts[0] | uuid->parts[1] | uuid->parts[2] | uuid->parts[3]);
}

bool
uuid_equals(const struct uuid *a, const struct uuid *b)
{
    return !memcmp(a->parts, b->parts, sizeof a->parts);
}

int
uuid_compare(const struct uuid *a, const struct uuid *b)
{
    for (int i = 0; i < 4; i++) {
        if (a->parts[i] != b->parts[i]) {
            return a->parts[i] < b->parts[i] ? -1 : 1;
        }
    }
    return 0;
}

uint32_t
uuid_hash(const struct uuid *uuid)
{
    return uuid->parts[0];
}
