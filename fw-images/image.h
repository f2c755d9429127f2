/* ovnic firmware images: the on-disk format, its one parser, and the builder.
 *
 * An image is one file (docs/fw-image.md gives it byte by byte):
 *
 *   [0, header_size)            the header: a fixed part of FW_IMAGE_FIXED_SIZE bytes,
 *                               the compatible device families, the section table,
 *                               and the header digest (SHA-256 of what precedes it)
 *   [header_size, payload_end)  the payload: the sections, back to back, covering it
 *                               exactly (no gap, no overlap)
 *   [payload_end, end of file)  the signature block: zero or more detached
 *                               signatures over the header digest
 *
 * Every integer is big-endian and of fixed width; every string is a fixed-size field
 * of printable characters padded with NUL bytes.  The header digest covers the header,
 * and the header holds each section's SHA-256, so one signature over the header digest
 * covers every byte but the signature block itself.  Signatures can therefore be
 * added (k of n signers) without changing what they sign.
 *
 * fw_image_parse() is the only parser: it checks every limit, every offset, the header
 * digest and every section digest, and names the reason of any refusal in 'err'.
 * Signatures are checked against a trust store by fw_trust_verify() (trust.h). */
#ifndef OVNIC_FW_IMAGE_H
#define OVNIC_FW_IMAGE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/util/err.h"

/* ---- Format constants and limits. ------------------------------------------------ */

#define FW_IMAGE_MAGIC "OVNICFW\0" /* 8 bytes, NUL included. */
#define FW_IMAGE_MAGIC_LEN 8
#define FW_IMAGE_FORMAT_VERSION 1

#define FW_IMAGE_FIXED_SIZE 128 /* Fixed part of the header. */
#define FW_IMAGE_STRING_SIZE 32 /* Names, families: 31 characters + NUL padding. */
#define FW_IMAGE_LABEL_SIZE 24  /* Pre-release label: 23 characters + NUL padding. */
#define FW_IMAGE_SECTION_ENTRY_SIZE 80
#define FW_IMAGE_DIGEST_SIZE 32 /* SHA-256. */

#define FW_IMAGE_NAME_MAX (FW_IMAGE_STRING_SIZE - 1)
#define FW_IMAGE_LABEL_MAX (FW_IMAGE_LABEL_SIZE - 1)
#define FW_IMAGE_MAX_FAMILIES 16
#define FW_IMAGE_MAX_SECTIONS 32
#define FW_IMAGE_MAX_SECTION_SIZE ((uint64_t)256 << 20) /* 256 MiB. */
#define FW_IMAGE_MAX_SIZE ((uint64_t)1 << 30)           /* 1 GiB, whole file. */
#define FW_IMAGE_MAX_HEADER_SIZE                                          \
    (FW_IMAGE_FIXED_SIZE + FW_IMAGE_MAX_FAMILIES * FW_IMAGE_STRING_SIZE + \
     FW_IMAGE_MAX_SECTIONS * FW_IMAGE_SECTION_ENTRY_SIZE + FW_IMAGE_DIGEST_SIZE)

#define FW_SIG_BLOCK_MAGIC "OVNICSIG"
#define FW_SIG_BLOCK_HEADER_SIZE 16
#define FW_SIG_ENTRY_SIZE 88
#define FW_SIG_LEN 64 /* Ed25519, and ECDSA P-256 as r || s. */
#define FW_IMAGE_MAX_SIGNATURES 16
#define FW_KEY_ID_SIZE 16 /* First 16 bytes of SHA-256(SubjectPublicKeyInfo DER). */
#define FW_KEY_ID_HEX_SIZE (2 * FW_KEY_ID_SIZE + 1)
#define FW_DIGEST_HEX_SIZE (2 * FW_IMAGE_DIGEST_SIZE + 1)

/* What a signer signs: this context string (NUL included) then the header digest. */
#define FW_IMAGE_TBS_CONTEXT "ovnic-fw image v1"
#define FW_IMAGE_TBS_SIZE (sizeof FW_IMAGE_TBS_CONTEXT + FW_IMAGE_DIGEST_SIZE)

enum fw_image_type {
    FW_IMAGE_TYPE_NIC_FIRMWARE = 1, /* "nic-firmware" */
    FW_IMAGE_TYPE_DPU_SOFTWARE = 2, /* "dpu-software" */
    FW_IMAGE_TYPE_BUNDLE = 3,       /* "bundle": firmware and DPU software */
};

enum fw_sig_alg {
    FW_SIG_ALG_ED25519 = 1,    /* "ed25519" */
    FW_SIG_ALG_ECDSA_P256 = 2, /* "ecdsa-p256": SHA-256, r || s */
};

/* ---- The parsed image. ------------------------------------------------------------ */

struct fw_semver {
    uint32_t major;
    uint32_t minor;
    uint32_t patch;
    char label[FW_IMAGE_LABEL_SIZE]; /* Pre-release label, "" if none. */
};

struct fw_section {
    char name[FW_IMAGE_STRING_SIZE];
    uint64_t offset; /* From the start of the file. */
    uint64_t size;
    uint8_t sha256[FW_IMAGE_DIGEST_SIZE];
};

struct fw_signature {
    uint16_t alg; /* enum fw_sig_alg. */
    uint8_t key_id[FW_KEY_ID_SIZE];
    uint8_t sig[FW_SIG_LEN];
};

struct fw_image_header {
    uint16_t format_version;
    uint16_t type; /* enum fw_image_type. */
    uint32_t header_size;
    uint64_t payload_end; /* Where the signature block starts. */
    struct fw_semver version;
    uint32_t security_version; /* Anti-rollback: never installed below the minimum. */
    uint64_t build_time;       /* Unix time, seconds. */
    char name[FW_IMAGE_STRING_SIZE];
    size_t n_families;
    char families[FW_IMAGE_MAX_FAMILIES][FW_IMAGE_STRING_SIZE];
    size_t n_sections;
    struct fw_section sections[FW_IMAGE_MAX_SECTIONS];
    uint8_t digest[FW_IMAGE_DIGEST_SIZE]; /* Header digest: the image's identity. */
};

struct fw_image {
    struct fw_image_header hdr;
    size_t n_signatures;
    struct fw_signature signatures[FW_IMAGE_MAX_SIGNATURES];
    uint64_t size; /* Of the whole file. */
};

/* ---- Parsing. --------------------------------------------------------------------- */

/** Parses and checks the header of an image: 'len' bytes at 'data', which may be a
 * prefix of the file (at least the header; see fw_image_header_size()).  Checks the
 * magic, format version, counts and limits, the header digest (so that any changed
 * byte of the header is refused), the image type, every string, and the section
 * table: each section non-empty, at most FW_IMAGE_MAX_SECTION_SIZE, inside the payload
 * area, none overlapping another, together covering the payload exactly, names
 * unique.  Fills '*hdr' (untouched on failure).
 * Returns 0, -EBADMSG (truncated, corrupted, malformed: 'err' names the reason), or
 * -EFBIG (a section or the image over its limit). */
int fw_image_header_parse(const void *data, size_t len, struct fw_image_header *hdr,
                          struct ovnic_err *err);

/** Parses and checks a whole image: 'len' bytes at 'data' are the entire file.  On
 * top of fw_image_header_parse(): the file holds the whole payload, every section's
 * SHA-256 matches, and the signature block is well formed and ends the file.  Does
 * not check the signatures themselves (fw_trust_verify() does).  Fills '*image'
 * (untouched on failure).
 * Returns 0, -EBADMSG or -EFBIG (see fw_image_header_parse()). */
int fw_image_parse(const void *data, size_t len, struct fw_image *image,
                   struct ovnic_err *err);

/** The size of the header announced by the first bytes of an image, so that a reader
 * knows how much to read before fw_image_header_parse().  'len' must be at least
 * FW_IMAGE_FIXED_SIZE.  Returns 0 with '*size' set, or -EBADMSG (too short, not an
 * image, counts over their limits). */
int fw_image_header_size(const void *data, size_t len, uint32_t *size,
                         struct ovnic_err *err);

/** The bytes that a signer signs for the image whose header digest is 'digest'
 * (FW_IMAGE_TBS_SIZE bytes into 'tbs'). */
void fw_image_tbs(const uint8_t digest[FW_IMAGE_DIGEST_SIZE],
                  uint8_t tbs[FW_IMAGE_TBS_SIZE]);

/* ---- Building. -------------------------------------------------------------------- */

struct fw_image_spec_section {
    const char *name;
    const void *data; /* Borrowed. */
    size_t size;
};

struct fw_image_spec {
    uint16_t type;
    struct fw_semver version;
    uint32_t security_version;
    uint64_t build_time;
    const char *name;
    size_t n_families;
    const char *families[FW_IMAGE_MAX_FAMILIES];
    size_t n_sections;
    struct fw_image_spec_section sections[FW_IMAGE_MAX_SECTIONS];
};

/** Lays out an unsigned image (an empty signature block) from 'spec', sections in
 * the given order, and checks the result with fw_image_parse().  Caller owns '*datap';
 * free with free().  Returns 0, -EINVAL (a field of 'spec' the format cannot hold:
 * 'err' says which), -EFBIG, or -ENOMEM. */
int fw_image_build(const struct fw_image_spec *spec, uint8_t **datap, size_t *lenp,
                   struct ovnic_err *err);

/** Writes a copy of the image 'data' (which must parse) with its signature block
 * replaced by the 'n' signatures 'sigs'.  Caller owns '*outp'; free with free().
 * Returns 0, -EBADMSG/-EFBIG (the image does not parse), -E2BIG (more than
 * FW_IMAGE_MAX_SIGNATURES), or -ENOMEM. */
int fw_image_signatures_set(const void *data, size_t len, const struct fw_signature *sigs,
                            size_t n, uint8_t **outp, size_t *outlenp,
                            struct ovnic_err *err);

/** Adds 'sig' to the image 'data': a signature by the same key is replaced, any other
 * is kept.  Same ownership and errors as fw_image_signatures_set(). */
int fw_image_signature_add(const void *data, size_t len, const struct fw_signature *sig,
                           uint8_t **outp, size_t *outlenp, struct ovnic_err *err);

/* ---- Names and text forms. -------------------------------------------------------- */

/** "nic-firmware", "dpu-software", "bundle", or NULL for another value. */
const char *fw_image_type_name(unsigned int type);

/** Parses an image type name.  Returns 0 or -EINVAL. */
int fw_image_type_parse(const char *s, uint16_t *type);

/** "ed25519", "ecdsa-p256", or NULL. */
const char *fw_sig_alg_name(unsigned int alg);

/** Parses "ed25519" or "ecdsa-p256".  Returns 0 or -EINVAL. */
int fw_sig_alg_parse(const char *s, uint16_t *alg);

/** Parses "MAJOR.MINOR.PATCH" or "MAJOR.MINOR.PATCH-LABEL" (decimal numbers without
 * leading zeros, up to 2^32-1; LABEL of 1 to FW_IMAGE_LABEL_MAX of [0-9A-Za-z.-]).
 * Returns 0 or -EINVAL. */
int fw_semver_parse(const char *s, struct fw_semver *v);

/** Formats 'v' into 'buf' as fw_semver_parse() reads it.  Returns 'buf'. */
const char *fw_semver_format(const struct fw_semver *v, char *buf, size_t size);

/** True if 's' may be a section name, image name or device family: 1 to
 * FW_IMAGE_NAME_MAX characters of [0-9A-Za-z._+-]. */
bool fw_image_name_is_valid(const char *s);

/** Lower-case hex of 'len' bytes into 'buf' (2 * len + 1 bytes).  Returns 'buf'. */
const char *fw_hex_format(const uint8_t *data, size_t len, char *buf);

/** Parses exactly 'len' bytes of hex (either case) from 's'.  Returns 0 or -EINVAL. */
int fw_hex_parse(const char *s, uint8_t *data, size_t len);

/** SHA-256 of 'len' bytes.  Returns 0 or -ENOMEM. */
int fw_sha256(const void *data, size_t len, uint8_t out[FW_IMAGE_DIGEST_SIZE]);

#endif /* OVNIC_FW_IMAGE_H */
