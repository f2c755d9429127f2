/* ovnic-hostd: PCI VPD parsing (see vpd.h). */
#include "host/vpd.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define VPD_TAG_ID_STRING 0x82
#define VPD_TAG_VPD_R 0x90
#define VPD_TAG_VPD_W 0x91
#define VPD_SMALL_TAG_END 0x0f

/* Copies 'len' bytes of value 'p' into 'buf' after checking them. */
static int
value_copy(const uint8_t *p, size_t len, char *buf, size_t size)
{
    size_t i;

    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\0')) {
        len--;
    }
    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e) {
            return -EILSEQ;
        }
    }
    if (len >= size) {
        return -ENAMETOOLONG;
    }
    memcpy(buf, p, len);
    buf[len] = '\0';
    return (int)len;
}

/* Walks the resources of 'vpd'.  For each large resource, calls 'cb'; stops at the
 * End tag.  Returns what 'cb' returns when nonzero, -ENOENT at the End tag, or
 * -EBADMSG. */
static int
resources_walk(const uint8_t *vpd, size_t len,
               int (*cb)(uint8_t tag, const uint8_t *data, size_t dlen, void *aux),
               void *aux)
{
    size_t off = 0;

    if (len > VPD_MAX_SIZE) {
        len = VPD_MAX_SIZE;
    }
    while (off < len) {
        uint8_t b = vpd[off];

        if (b & 0x80) {
            size_t dlen;
            int error;

            if (len - off < 3) {
                return -EBADMSG;
            }
            dlen = (size_t)vpd[off + 1] | ((size_t)vpd[off + 2] << 8);
            if (dlen > len - off - 3) {
                return -EBADMSG;
            }
            error = cb(b, vpd + off + 3, dlen, aux);
            if (error) {
                return error;
            }
            off += 3 + dlen;
        } else {
            uint8_t tag = (b >> 3) & 0x0f;
            size_t dlen = b & 0x07;

            if (tag == VPD_SMALL_TAG_END) {
                return -ENOENT;
            }
            if (dlen > len - off - 1) {
                return -EBADMSG;
            }
            off += 1 + dlen;
        }
    }
    return -EBADMSG;
}

struct keyword_search {
    const char *keyword;
    char *buf;
    size_t size;
};

static int
keyword_cb(uint8_t tag, const uint8_t *data, size_t dlen, void *aux_)
{
    struct keyword_search *aux = aux_;
    size_t off = 0;

    if (tag != VPD_TAG_VPD_R && tag != VPD_TAG_VPD_W) {
        return 0;
    }
    while (off < dlen) {
        size_t klen;

        if (dlen - off < 3) {
            return -EBADMSG;
        }
        klen = data[off + 2];
        if (klen > dlen - off - 3) {
            return -EBADMSG;
        }
        if (data[off] == (uint8_t)aux->keyword[0] &&
            data[off + 1] == (uint8_t)aux->keyword[1]) {
            int n = value_copy(data + off + 3, klen, aux->buf, aux->size);

            /* 0 means "not found" to resources_walk(); an empty value is found. */
            return n == 0 ? 1 : n;
        }
        off += 3 + klen;
    }
    return 0;
}

int
vpd_keyword_find(const uint8_t *vpd, size_t len, const char keyword[2], char *buf,
                 size_t size)
{
    struct keyword_search aux = {keyword, buf, size};
    int n;

    if (size == 0) {
        return -ENAMETOOLONG;
    }
    n = resources_walk(vpd, len, keyword_cb, &aux);
    if (n == 1 && buf[0] == '\0') {
        return 0;
    }
    return n;
}

static int
id_cb(uint8_t tag, const uint8_t *data, size_t dlen, void *aux_)
{
    struct keyword_search *aux = aux_;
    int n;

    if (tag != VPD_TAG_ID_STRING) {
        return 0;
    }
    n = value_copy(data, dlen, aux->buf, aux->size);
    return n == 0 ? 1 : n;
}

int
vpd_id_string(const uint8_t *vpd, size_t len, char *buf, size_t size)
{
    struct keyword_search aux = {NULL, buf, size};
    int n;

    if (size == 0) {
        return -ENAMETOOLONG;
    }
    n = resources_walk(vpd, len, id_cb, &aux);
    if (n == 1 && buf[0] == '\0') {
        return 0;
    }
    return n;
}
