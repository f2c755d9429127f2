/* ovnic firmware images: the format's one parser and the builder (see image.h). */
#include "fw-images/image.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* Offsets in the fixed part of the header (docs/fw-image.md). */
#define OFF_MAGIC 0
#define OFF_FORMAT 8
#define OFF_TYPE 10
#define OFF_HEADER_SIZE 12
#define OFF_PAYLOAD_END 16
#define OFF_MAJOR 24
#define OFF_MINOR 28
#define OFF_PATCH 32
#define OFF_LABEL 36
#define OFF_SECURITY 60
#define OFF_BUILD_TIME 64
#define OFF_N_FAMILIES 72
#define OFF_N_SECTIONS 74
#define OFF_FLAGS 76
#define OFF_NAME 80
#define OFF_RESERVED 112
#define RESERVED_SIZE 16

/* In a section entry. */
#define SEC_OFF_NAME 0
#define SEC_OFF_OFFSET 32
#define SEC_OFF_SIZE 40
#define SEC_OFF_SHA256 48

/* In the signature block. */
#define SIGB_OFF_MAGIC 0
#define SIGB_OFF_COUNT 8
#define SIGB_OFF_RESERVED 10
#define SIGB_OFF_SIZE 12
#define SIG_OFF_ALG 0
#define SIG_OFF_LEN 2
#define SIG_OFF_RESERVED 4
#define SIG_OFF_KEY_ID 8
#define SIG_OFF_SIG 24

_Static_assert(OFF_RESERVED + RESERVED_SIZE == FW_IMAGE_FIXED_SIZE, "fixed header");
_Static_assert(SEC_OFF_SHA256 + FW_IMAGE_DIGEST_SIZE == FW_IMAGE_SECTION_ENTRY_SIZE,
               "section entry");
_Static_assert(SIG_OFF_SIG + FW_SIG_LEN == FW_SIG_ENTRY_SIZE, "signature entry");
_Static_assert(OFF_LABEL + FW_IMAGE_LABEL_SIZE == OFF_SECURITY, "label");
_Static_assert(OFF_NAME + FW_IMAGE_STRING_SIZE == OFF_RESERVED, "name");

#define OBJ "fw-image"

static uint16_t
get_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t
get_be64(const uint8_t *p)
{
    return ((uint64_t)get_be32(p) << 32) | get_be32(p + 4);
}

static void
put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static bool
is_all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

static bool
is_name_char(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           c == '.' || c == '_' || c == '+' || c == '-';
}

bool
fw_image_name_is_valid(const char *s)
{
    size_t n = strlen(s);

    if (!n || n > FW_IMAGE_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_name_char((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

static bool
is_label_valid(const char *s)
{
    size_t n = strlen(s);

    if (n > FW_IMAGE_LABEL_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];

        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
              (c >= 'a' && c <= 'z') || c == '.' || c == '-')) {
            return false;
        }
    }
    return true;
}

/* Copies the fixed-size string field at 'p' ('size' bytes) into 'out': its characters
 * then NUL padding only.  With 'allow_empty', an all-NUL field is "". */
static bool
get_string(const uint8_t *p, size_t size, char *out, bool allow_empty)
{
    size_t n = strnlen((const char *)p, size);

    if (n == size || !is_all_zero(p + n, size - n)) {
        return false; /* No NUL, or something after the padding starts. */
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return allow_empty ? is_label_valid(out) : fw_image_name_is_valid(out);
}

static void
put_string(uint8_t *p, size_t size, const char *s)
{
    memset(p, 0, size);
    memcpy(p, s, strlen(s));
}

int
fw_sha256(const void *data, size_t len, uint8_t out[FW_IMAGE_DIGEST_SIZE])
{
    return EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) ? 0 : -ENOMEM;
}

const char *
fw_hex_format(const uint8_t *data, size_t len, char *buf)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        buf[2 * i] = digits[data[i] >> 4];
        buf[2 * i + 1] = digits[data[i] & 15];
    }
    buf[2 * len] = '\0';
    return buf;
}

static int
hex_digit(int c)
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
fw_hex_parse(const char *s, uint8_t *data, size_t len)
{
    if (strlen(s) != 2 * len) {
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        int hi = hex_digit((unsigned char)s[2 * i]);
        int lo = hex_digit((unsigned char)s[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return -EINVAL;
        }
        data[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static const char *const type_names[] = {
    [FW_IMAGE_TYPE_NIC_FIRMWARE] = "nic-firmware",
    [FW_IMAGE_TYPE_DPU_SOFTWARE] = "dpu-software",
    [FW_IMAGE_TYPE_BUNDLE] = "bundle",
};

const char *
fw_image_type_name(unsigned int type)
{
    return type < ARRAY_SIZE(type_names) ? type_names[type] : NULL;
}

int
fw_image_type_parse(const char *s, uint16_t *type)
{
    for (size_t i = 1; i < ARRAY_SIZE(type_names); i++) {
        if (!strcmp(s, type_names[i])) {
            *type = (uint16_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *
fw_sig_alg_name(unsigned int alg)
{
    return alg == FW_SIG_ALG_ED25519      ? "ed25519"
           : alg == FW_SIG_ALG_ECDSA_P256 ? "ecdsa-p256"
                                          : NULL;
}

int
fw_sig_alg_parse(const char *s, uint16_t *alg)
{
    if (!strcmp(s, "ed25519")) {
        *alg = FW_SIG_ALG_ED25519;
    } else if (!strcmp(s, "ecdsa-p256")) {
        *alg = FW_SIG_ALG_ECDSA_P256;
    } else {
        return -EINVAL;
    }
    return 0;
}

/* Parses a decimal number without leading zeros, up to UINT32_MAX, advancing '*sp'. */
static int
parse_u32(const char **sp, uint32_t *out)
{
    const char *s = *sp;
    uint64_t v = 0;
    size_t n = 0;

    while (s[n] >= '0' && s[n] <= '9') {
        v = v * 10 + (uint64_t)(s[n] - '0');
        if (v > UINT32_MAX) {
            return -EINVAL;
        }
        n++;
    }
    if (!n || (n > 1 && s[0] == '0')) {
        return -EINVAL;
    }
    *out = (uint32_t)v;
    *sp = s + n;
    return 0;
}

int
fw_semver_parse(const char *s, struct fw_semver *v)
{
    struct fw_semver r = {0};

    if (parse_u32(&s, &r.major) || *s++ != '.' || parse_u32(&s, &r.minor) ||
        *s++ != '.' || parse_u32(&s, &r.patch)) {
        return -EINVAL;
    }
    if (*s == '-') {
        s++;
        if (!*s || strlen(s) > FW_IMAGE_LABEL_MAX || !is_label_valid(s)) {
            return -EINVAL;
        }
        memcpy(r.label, s, strlen(s) + 1);
    } else if (*s) {
        return -EINVAL;
    }
    *v = r;
    return 0;
}

const char *
fw_semver_format(const struct fw_semver *v, char *buf, size_t size)
{
    snprintf(buf, size, "%" PRIu32 ".%" PRIu32 ".%" PRIu32 "%s%s", v->major, v->minor,
             v->patch, v->label[0] ? "-" : "", v->label);
    return buf;
}

void
fw_image_tbs(const uint8_t digest[FW_IMAGE_DIGEST_SIZE], uint8_t tbs[FW_IMAGE_TBS_SIZE])
{
    memcpy(tbs, FW_IMAGE_TBS_CONTEXT, sizeof FW_IMAGE_TBS_CONTEXT);
    memcpy(tbs + sizeof FW_IMAGE_TBS_CONTEXT, digest, FW_IMAGE_DIGEST_SIZE);
}

static size_t
header_size_of(size_t n_families, size_t n_sections)
{
    return FW_IMAGE_FIXED_SIZE + n_families * FW_IMAGE_STRING_SIZE +
           n_sections * FW_IMAGE_SECTION_ENTRY_SIZE + FW_IMAGE_DIGEST_SIZE;
}

/* The structural checks that tell how large the header is. */
static int
check_prefix(const uint8_t *p, size_t len, uint32_t *sizep, struct ovnic_err *err)
{
    unsigned int n_families, n_sections;
    uint32_t header_size;

    if (len < FW_IMAGE_FIXED_SIZE) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "truncated image",
                             "%zu bytes, the header alone takes at least %d", len,
                             FW_IMAGE_FIXED_SIZE);
    }
    if (memcmp(p + OFF_MAGIC, FW_IMAGE_MAGIC, FW_IMAGE_MAGIC_LEN)) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "not an ovnic firmware image",
                             "bad magic at offset 0");
    }
    if (get_be16(p + OFF_FORMAT) != FW_IMAGE_FORMAT_VERSION) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "unsupported format version",
                             "%u, this reader knows %d", get_be16(p + OFF_FORMAT),
                             FW_IMAGE_FORMAT_VERSION);
    }
    n_families = get_be16(p + OFF_N_FAMILIES);
    n_sections = get_be16(p + OFF_N_SECTIONS);
    if (!n_families) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "no compatible device family", NULL);
    }
    if (n_families > FW_IMAGE_MAX_FAMILIES) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "too many device families",
                             "%u, at most %d", n_families, FW_IMAGE_MAX_FAMILIES);
    }
    if (!n_sections) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "image has no section", NULL);
    }
    if (n_sections > FW_IMAGE_MAX_SECTIONS) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "too many sections", "%u, at most %d",
                             n_sections, FW_IMAGE_MAX_SECTIONS);
    }
    header_size = get_be32(p + OFF_HEADER_SIZE);
    if (header_size != header_size_of(n_families, n_sections)) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "header size does not match its counts",
                             "header_size %" PRIu32 ", %u families and %u sections "
                             "take %zu",
                             header_size, n_families, n_sections,
                             header_size_of(n_families, n_sections));
    }
    *sizep = header_size;
    return 0;
}

int
fw_image_header_size(const void *data, size_t len, uint32_t *size, struct ovnic_err *err)
{
    return check_prefix(data, len, size, err);
}

int
fw_image_header_parse(const void *data, size_t len, struct fw_image_header *out,
                      struct ovnic_err *err)
{
    const uint8_t *p = data;
    struct fw_image_header *h;
    uint8_t digest[FW_IMAGE_DIGEST_SIZE];
    uint32_t header_size;
    uint64_t covered = 0;
    const uint8_t *q;
    int error;

    error = check_prefix(p, len, &header_size, err);
    if (error) {
        return error;
    }
    if (len < header_size) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "truncated image",
                             "%zu bytes, the header takes %" PRIu32, len, header_size);
    }
    /* Any change to the header from here on is caught by its digest, before its
     * fields are believed. */
    if (fw_sha256(p, header_size - FW_IMAGE_DIGEST_SIZE, digest)) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    if (memcmp(digest, p + header_size - FW_IMAGE_DIGEST_SIZE, FW_IMAGE_DIGEST_SIZE)) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "corrupted header",
                             "header digest mismatch");
    }

    h = calloc(1, sizeof *h);
    if (!h) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    h->format_version = get_be16(p + OFF_FORMAT);
    h->type = get_be16(p + OFF_TYPE);
    h->header_size = header_size;
    h->payload_end = get_be64(p + OFF_PAYLOAD_END);
    h->version.major = get_be32(p + OFF_MAJOR);
    h->version.minor = get_be32(p + OFF_MINOR);
    h->version.patch = get_be32(p + OFF_PATCH);
    h->security_version = get_be32(p + OFF_SECURITY);
    h->build_time = get_be64(p + OFF_BUILD_TIME);
    h->n_families = get_be16(p + OFF_N_FAMILIES);
    h->n_sections = get_be16(p + OFF_N_SECTIONS);
    memcpy(h->digest, digest, sizeof digest);

    if (!fw_image_type_name(h->type)) {
        error = ovnic_err_set(err, -EBADMSG, OBJ, "unknown image type", "%u", h->type);
        goto out;
    }
    if (get_be32(p + OFF_FLAGS) || !is_all_zero(p + OFF_RESERVED, RESERVED_SIZE)) {
        error =
            ovnic_err_set(err, -EBADMSG, OBJ, "reserved header field is not zero", NULL);
        goto out;
    }
    if (!get_string(p + OFF_LABEL, FW_IMAGE_LABEL_SIZE, h->version.label, true)) {
        error = ovnic_err_set(err, -EBADMSG, OBJ, "malformed version label", NULL);
        goto out;
    }
    if (!get_string(p + OFF_NAME, FW_IMAGE_STRING_SIZE, h->name, false)) {
        error = ovnic_err_set(err, -EBADMSG, OBJ, "malformed image name", NULL);
        goto out;
    }

    q = p + FW_IMAGE_FIXED_SIZE;
    for (size_t i = 0; i < h->n_families; i++, q += FW_IMAGE_STRING_SIZE) {
        if (!get_string(q, FW_IMAGE_STRING_SIZE, h->families[i], false)) {
            error = ovnic_err_set(err, -EBADMSG, OBJ, "malformed device family",
                                  "family %zu", i);
            goto out;
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(h->families[i], h->families[j])) {
                error = ovnic_err_set(err, -EBADMSG, OBJ, "duplicate device family",
                                      "'%s'", h->families[i]);
                goto out;
            }
        }
    }

    if (h->payload_end > FW_IMAGE_MAX_SIZE) {
        error = ovnic_err_set(err, -EFBIG, OBJ, "image too large",
                              "payload ends at %" PRIu64 ", images are at most %" PRIu64
                              " bytes",
                              h->payload_end, FW_IMAGE_MAX_SIZE);
        goto out;
    }
    if (h->payload_end < header_size) {
        error = ovnic_err_set(err, -EBADMSG, OBJ, "payload ends inside the header",
                              "payload_end %" PRIu64 ", header_size %" PRIu32,
                              h->payload_end, header_size);
        goto out;
    }

    for (size_t i = 0; i < h->n_sections; i++, q += FW_IMAGE_SECTION_ENTRY_SIZE) {
        struct fw_section *s = &h->sections[i];

        s->offset = get_be64(q + SEC_OFF_OFFSET);
        s->size = get_be64(q + SEC_OFF_SIZE);
        memcpy(s->sha256, q + SEC_OFF_SHA256, FW_IMAGE_DIGEST_SIZE);
        if (!get_string(q + SEC_OFF_NAME, FW_IMAGE_STRING_SIZE, s->name, false)) {
            error = ovnic_err_set(err, -EBADMSG, OBJ, "malformed section name",
                                  "section %zu", i);
            goto out;
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(s->name, h->sections[j].name)) {
                error = ovnic_err_set(err, -EBADMSG, OBJ, "duplicate section name",
                                      "'%s'", s->name);
                goto out;
            }
        }
        if (!s->size) {
            error = ovnic_err_set(err, -EBADMSG, OBJ, "empty section", "'%s'", s->name);
            goto out;
        }
        if (s->size > FW_IMAGE_MAX_SECTION_SIZE) {
            error = ovnic_err_set(err, -EFBIG, OBJ, "oversized section",
                                  "'%s' has %" PRIu64 " bytes, at most %" PRIu64, s->name,
                                  s->size, FW_IMAGE_MAX_SECTION_SIZE);
            goto out;
        }
        if (s->offset < header_size) {
            error = ovnic_err_set(err, -EBADMSG, OBJ, "section overlaps the header",
                                  "'%s' at offset %" PRIu64 ", header ends at %" PRIu32,
                                  s->name, s->offset, header_size);
            goto out;
        }
        /* No overflow: offset <= payload_end <= 1 GiB is checked first. */
        if (s->offset > h->payload_end || s->size > h->payload_end - s->offset) {
            error = ovnic_err_set(err, -EBADMSG, OBJ, "section points outside the file",
                                  "'%s' at %" PRIu64 "+%" PRIu64
                                  ", the payload ends at %" PRIu64,
                                  s->name, s->offset, s->size, h->payload_end);
            goto out;
        }
        for (size_t j = 0; j < i; j++) {
            const struct fw_section *o = &h->sections[j];

            if (s->offset < o->offset + o->size && o->offset < s->offset + s->size) {
                error = ovnic_err_set(
                    err, -EBADMSG, OBJ, "overlapping sections",
                    "'%s' (%" PRIu64 "+%" PRIu64 ") and '%s' (%" PRIu64 "+%" PRIu64 ")",
                    o->name, o->offset, o->size, s->name, s->offset, s->size);
                goto out;
            }
        }
        covered += s->size;
    }
    /* Disjoint sections inside the payload that add up to its size cover it. */
    if (covered != h->payload_end - header_size) {
        error = ovnic_err_set(err, -EBADMSG, OBJ, "unaccounted bytes in the payload",
                              "sections cover %" PRIu64 " of %" PRIu64 " bytes", covered,
                              h->payload_end - header_size);
        goto out;
    }
    *out = *h;

out:
    free(h);
    return error;
}

static int
parse_signatures(const uint8_t *p, uint64_t len, struct fw_image *image,
                 struct ovnic_err *err)
{
    unsigned int count;
    uint32_t size;

    if (len < FW_SIG_BLOCK_HEADER_SIZE) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "truncated image",
                             "the signature block is missing or cut (%" PRIu64
                             " bytes after the payload)",
                             len);
    }
    if (memcmp(p + SIGB_OFF_MAGIC, FW_SIG_BLOCK_MAGIC, 8)) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "malformed signature block",
                             "bad magic at offset %" PRIu64, image->hdr.payload_end);
    }
    count = get_be16(p + SIGB_OFF_COUNT);
    size = get_be32(p + SIGB_OFF_SIZE);
    if (get_be16(p + SIGB_OFF_RESERVED)) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "malformed signature block",
                             "reserved field is not zero");
    }
    if (count > FW_IMAGE_MAX_SIGNATURES) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "too many signatures", "%u, at most %d",
                             count, FW_IMAGE_MAX_SIGNATURES);
    }
    if (size != FW_SIG_BLOCK_HEADER_SIZE + count * FW_SIG_ENTRY_SIZE) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "malformed signature block",
                             "block_size %" PRIu32 " for %u signatures", size, count);
    }
    if (len < size) {
        return ovnic_err_set(
            err, -EBADMSG, OBJ, "truncated image",
            "the signature block has %" PRIu64 " of its %" PRIu32 " bytes", len, size);
    }
    if (len > size) {
        return ovnic_err_set(err, -EBADMSG, OBJ, "trailing bytes after the image",
                             "%" PRIu64 " bytes after the signature block", len - size);
    }
    for (unsigned int i = 0; i < count; i++) {
        const uint8_t *e = p + FW_SIG_BLOCK_HEADER_SIZE + i * FW_SIG_ENTRY_SIZE;
        struct fw_signature *s = &image->signatures[i];

        s->alg = get_be16(e + SIG_OFF_ALG);
        if (!fw_sig_alg_name(s->alg)) {
            return ovnic_err_set(err, -EBADMSG, OBJ, "unknown signature algorithm",
                                 "signature %u: %u", i, s->alg);
        }
        if (get_be16(e + SIG_OFF_LEN) != FW_SIG_LEN || get_be32(e + SIG_OFF_RESERVED)) {
            return ovnic_err_set(err, -EBADMSG, OBJ, "malformed signature entry",
                                 "signature %u", i);
        }
        memcpy(s->key_id, e + SIG_OFF_KEY_ID, FW_KEY_ID_SIZE);
        memcpy(s->sig, e + SIG_OFF_SIG, FW_SIG_LEN);
    }
    image->n_signatures = count;
    return 0;
}

int
fw_image_parse(const void *data, size_t len, struct fw_image *out, struct ovnic_err *err)
{
    const uint8_t *p = data;
    struct fw_image *image;
    int error;

    if (len > FW_IMAGE_MAX_SIZE) {
        return ovnic_err_set(err, -EFBIG, OBJ, "image too large",
                             "%zu bytes, at most %" PRIu64, len, FW_IMAGE_MAX_SIZE);
    }
    image = calloc(1, sizeof *image);
    if (!image) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    error = fw_image_header_parse(p, len, &image->hdr, err);
    if (error) {
        goto out;
    }
    image->size = len;
    if (image->hdr.payload_end > len) {
        error = ovnic_err_set(err, -EBADMSG, OBJ, "truncated image",
                              "%zu bytes, the payload ends at %" PRIu64, len,
                              image->hdr.payload_end);
        goto out;
    }
    error = parse_signatures(p + image->hdr.payload_end, len - image->hdr.payload_end,
                             image, err);
    if (error) {
        goto out;
    }
    for (size_t i = 0; i < image->hdr.n_sections; i++) {
        const struct fw_section *s = &image->hdr.sections[i];
        uint8_t digest[FW_IMAGE_DIGEST_SIZE];

        if (fw_sha256(p + s->offset, s->size, digest)) {
            error = ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
            goto out;
        }
        if (memcmp(digest, s->sha256, sizeof digest)) {
            error = ovnic_err_set(err, -EBADMSG, OBJ, "section digest mismatch",
                                  "section '%s' is corrupted", s->name);
            goto out;
        }
    }
    *out = *image;

out:
    free(image);
    return error;
}

/* ---- Building. -------------------------------------------------------------------- */

static int
check_spec(const struct fw_image_spec *spec, struct ovnic_err *err)
{
    if (!fw_image_type_name(spec->type)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "unknown image type", "%u", spec->type);
    }
    if (!spec->name || !fw_image_name_is_valid(spec->name)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "invalid image name",
                             "'%s': 1 to %d of [0-9A-Za-z._+-]",
                             spec->name ? spec->name : "", FW_IMAGE_NAME_MAX);
    }
    if (!is_label_valid(spec->version.label) ||
        strnlen(spec->version.label, FW_IMAGE_LABEL_SIZE) == FW_IMAGE_LABEL_SIZE) {
        return ovnic_err_set(err, -EINVAL, OBJ, "invalid version label", NULL);
    }
    if (!spec->n_families || spec->n_families > FW_IMAGE_MAX_FAMILIES) {
        return ovnic_err_set(err, -EINVAL, OBJ, "bad number of device families",
                             "%zu: 1 to %d", spec->n_families, FW_IMAGE_MAX_FAMILIES);
    }
    for (size_t i = 0; i < spec->n_families; i++) {
        if (!spec->families[i] || !fw_image_name_is_valid(spec->families[i])) {
            return ovnic_err_set(err, -EINVAL, OBJ, "invalid device family",
                                 "'%s': 1 to %d of [0-9A-Za-z._+-]",
                                 spec->families[i] ? spec->families[i] : "",
                                 FW_IMAGE_NAME_MAX);
        }
    }
    if (!spec->n_sections || spec->n_sections > FW_IMAGE_MAX_SECTIONS) {
        return ovnic_err_set(err, -EINVAL, OBJ, "bad number of sections", "%zu: 1 to %d",
                             spec->n_sections, FW_IMAGE_MAX_SECTIONS);
    }
    for (size_t i = 0; i < spec->n_sections; i++) {
        const struct fw_image_spec_section *s = &spec->sections[i];

        if (!s->name || !fw_image_name_is_valid(s->name)) {
            return ovnic_err_set(err, -EINVAL, OBJ, "invalid section name",
                                 "'%s': 1 to %d of [0-9A-Za-z._+-]",
                                 s->name ? s->name : "", FW_IMAGE_NAME_MAX);
        }
        if (s->size > FW_IMAGE_MAX_SECTION_SIZE) {
            return ovnic_err_set(err, -EFBIG, OBJ, "oversized section",
                                 "'%s' has %zu bytes, at most %" PRIu64, s->name, s->size,
                                 FW_IMAGE_MAX_SECTION_SIZE);
        }
    }
    return 0;
}

int
fw_image_build(const struct fw_image_spec *spec, uint8_t **datap, size_t *lenp,
               struct ovnic_err *err)
{
    struct fw_image *check;
    uint64_t payload_end;
    size_t header_size;
    uint8_t *buf, *q;
    uint64_t offset;
    size_t len;
    int error;

    error = check_spec(spec, err);
    if (error) {
        return error;
    }
    header_size = header_size_of(spec->n_families, spec->n_sections);
    payload_end = header_size;
    for (size_t i = 0; i < spec->n_sections; i++) {
        payload_end += spec->sections[i].size;
    }
    if (payload_end + FW_SIG_BLOCK_HEADER_SIZE > FW_IMAGE_MAX_SIZE) {
        return ovnic_err_set(err, -EFBIG, OBJ, "image too large",
                             "%" PRIu64 " bytes, at most %" PRIu64,
                             payload_end + FW_SIG_BLOCK_HEADER_SIZE, FW_IMAGE_MAX_SIZE);
    }
    len = (size_t)payload_end + FW_SIG_BLOCK_HEADER_SIZE;
    buf = calloc(1, len);
    if (!buf) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    memcpy(buf + OFF_MAGIC, FW_IMAGE_MAGIC, FW_IMAGE_MAGIC_LEN);
    put_be16(buf + OFF_FORMAT, FW_IMAGE_FORMAT_VERSION);
    put_be16(buf + OFF_TYPE, spec->type);
    put_be32(buf + OFF_HEADER_SIZE, (uint32_t)header_size);
    put_be64(buf + OFF_PAYLOAD_END, payload_end);
    put_be32(buf + OFF_MAJOR, spec->version.major);
    put_be32(buf + OFF_MINOR, spec->version.minor);
    put_be32(buf + OFF_PATCH, spec->version.patch);
    put_string(buf + OFF_LABEL, FW_IMAGE_LABEL_SIZE, spec->version.label);
    put_be32(buf + OFF_SECURITY, spec->security_version);
    put_be64(buf + OFF_BUILD_TIME, spec->build_time);
    put_be16(buf + OFF_N_FAMILIES, (uint16_t)spec->n_families);
    put_be16(buf + OFF_N_SECTIONS, (uint16_t)spec->n_sections);
    put_string(buf + OFF_NAME, FW_IMAGE_STRING_SIZE, spec->name);

    q = buf + FW_IMAGE_FIXED_SIZE;
    for (size_t i = 0; i < spec->n_families; i++, q += FW_IMAGE_STRING_SIZE) {
        put_string(q, FW_IMAGE_STRING_SIZE, spec->families[i]);
    }
    offset = header_size;
    for (size_t i = 0; i < spec->n_sections; i++, q += FW_IMAGE_SECTION_ENTRY_SIZE) {
        const struct fw_image_spec_section *s = &spec->sections[i];

        put_string(q + SEC_OFF_NAME, FW_IMAGE_STRING_SIZE, s->name);
        put_be64(q + SEC_OFF_OFFSET, offset);
        put_be64(q + SEC_OFF_SIZE, s->size);
        if (s->size) {
            memcpy(buf + offset, s->data, s->size);
        }
        if (fw_sha256(buf + offset, s->size, q + SEC_OFF_SHA256)) {
            error = ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
            goto err_free;
        }
        offset += s->size;
    }
    if (fw_sha256(buf, header_size - FW_IMAGE_DIGEST_SIZE, q)) {
        error = ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
        goto err_free;
    }
    memcpy(buf + payload_end + SIGB_OFF_MAGIC, FW_SIG_BLOCK_MAGIC, 8);
    put_be32(buf + payload_end + SIGB_OFF_SIZE, FW_SIG_BLOCK_HEADER_SIZE);

    /* The builder's output must satisfy the parser: empty or duplicate sections and
     * duplicate families are refused here. */
    check = malloc(sizeof *check);
    if (!check) {
        error = ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
        goto err_free;
    }
    error = fw_image_parse(buf, len, check, err);
    free(check);
    if (error) {
        if (error == -EBADMSG) {
            error = -EINVAL;
            if (err) {
                err->code = -EINVAL;
            }
        }
        goto err_free;
    }
    *datap = buf;
    *lenp = len;
    return 0;

err_free:
    free(buf);
    return error;
}

int
fw_image_signatures_set(const void *data, size_t len, const struct fw_signature *sigs,
                        size_t n, uint8_t **outp, size_t *outlenp, struct ovnic_err *err)
{
    struct fw_image_header *hdr;
    uint8_t *buf, *block;
    size_t outlen;
    int error;

    if (n > FW_IMAGE_MAX_SIGNATURES) {
        return ovnic_err_set(err, -E2BIG, OBJ, "too many signatures", "%zu, at most %d",
                             n, FW_IMAGE_MAX_SIGNATURES);
    }
    hdr = malloc(sizeof *hdr);
    if (!hdr) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    error = fw_image_header_parse(data, len, hdr, err);
    if (error) {
        free(hdr);
        return error;
    }
    if (hdr->payload_end > len) {
        error = ovnic_err_set(err, -EBADMSG, OBJ, "truncated image",
                              "%zu bytes, the payload ends at %" PRIu64, len,
                              hdr->payload_end);
        free(hdr);
        return error;
    }
    outlen = (size_t)hdr->payload_end + FW_SIG_BLOCK_HEADER_SIZE + n * FW_SIG_ENTRY_SIZE;
    buf = malloc(outlen);
    if (!buf) {
        free(hdr);
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    memcpy(buf, data, (size_t)hdr->payload_end);
    block = buf + hdr->payload_end;
    free(hdr);
    memset(block, 0, FW_SIG_BLOCK_HEADER_SIZE + n * FW_SIG_ENTRY_SIZE);
    memcpy(block + SIGB_OFF_MAGIC, FW_SIG_BLOCK_MAGIC, 8);
    put_be16(block + SIGB_OFF_COUNT, (uint16_t)n);
    put_be32(block + SIGB_OFF_SIZE,
             (uint32_t)(FW_SIG_BLOCK_HEADER_SIZE + n * FW_SIG_ENTRY_SIZE));
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = block + FW_SIG_BLOCK_HEADER_SIZE + i * FW_SIG_ENTRY_SIZE;

        put_be16(e + SIG_OFF_ALG, sigs[i].alg);
        put_be16(e + SIG_OFF_LEN, FW_SIG_LEN);
        memcpy(e + SIG_OFF_KEY_ID, sigs[i].key_id, FW_KEY_ID_SIZE);
        memcpy(e + SIG_OFF_SIG, sigs[i].sig, FW_SIG_LEN);
    }
    *outp = buf;
    *outlenp = outlen;
    return 0;
}

int
fw_image_signature_add(const void *data, size_t len, const struct fw_signature *sig,
                       uint8_t **outp, size_t *outlenp, struct ovnic_err *err)
{
    struct fw_image *image;
    size_t n = 0;
    int error;

    image = malloc(sizeof *image);
    if (!image) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    error = fw_image_parse(data, len, image, err);
    if (error) {
        free(image);
        return error;
    }
    for (size_t i = 0; i < image->n_signatures; i++) {
        if (memcmp(image->signatures[i].key_id, sig->key_id, FW_KEY_ID_SIZE)) {
            image->signatures[n++] = image->signatures[i];
        }
    }
    if (n >= FW_IMAGE_MAX_SIGNATURES) {
        free(image);
        return ovnic_err_set(err, -E2BIG, OBJ, "too many signatures",
                             "the image already has %d", FW_IMAGE_MAX_SIGNATURES);
    }
    image->signatures[n++] = *sig;
    error = fw_image_signatures_set(data, len, image->signatures, n, outp, outlenp, err);
    free(image);
    return error;
}
