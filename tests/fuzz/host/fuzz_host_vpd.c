/* Fuzz target: PCI VPD as a device's "vpd" file gives it (host/vpd.c).  Every
 * keyword lookup and the Identifier String either fail with a documented error or
 * return a printable, NUL-terminated value of the length they say. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/vpd.h"

static void
check(int n, const char *buf, size_t size)
{
    size_t i;

    if (n < 0) {
        if (n != -ENOENT && n != -EBADMSG && n != -EILSEQ && n != -ENAMETOOLONG) {
            abort();
        }
        return;
    }
    if ((size_t)n >= size || strlen(buf) != (size_t)n) {
        abort();
    }
    for (i = 0; i < (size_t)n; i++) {
        if (buf[i] < 0x20 || buf[i] > 0x7e) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keywords[] = {"SN", "PN", "EC", "V0", "RV", "YA"};
    char buf[64];
    size_t i;

    for (i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
        check(vpd_keyword_find(data, size, keywords[i], buf, sizeof buf), buf,
              sizeof buf);
        check(vpd_keyword_find(data, size, keywords[i], buf, 4), buf, 4);
    }
    check(vpd_id_string(data, size, buf, sizeof buf), buf, sizeof buf);
    return 0;
}
