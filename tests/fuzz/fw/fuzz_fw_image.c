/* Fuzz target: the firmware image parser (outside input: an image handed to
 * ovnic-fw or to the installer), and what runs on a parsed image: verification
 * against a trust store, the JSON description, and re-writing the signature block.
 *
 * Each input is parsed twice: as it is, and "sealed", with every section digest and
 * the header digest recomputed over the input's own bytes, so that the fuzzer gets
 * past the digests to the checks behind them (types, strings, section layout,
 * signature block).  The trust store holds two Ed25519 public keys, one of them
 * revoked; the seeds in tests/fuzz/corpus/fw_image/ are signed by them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw-images/image.h"
#include "fw-images/image_json.h"
#include "fw-images/key.h"
#include "fw-images/trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char trusted_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAFFOp6BxnNvbBV2AOr6GXt/SvKHz+ltnjk0I5OmMvMJE=\n"
    "-----END PUBLIC KEY-----\n";
static const char revoked_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAT4pxO5Leh54T0RvlpfI9UhdskaKQ9kstlwULto0FAeE=\n"
    "-----END PUBLIC KEY-----\n";

static struct fw_trust *
trust_store(void)
{
    static struct fw_trust *trust;
    struct fw_key *a, *b;

    if (trust) {
        return trust;
    }
    if (fw_trust_create(1, &trust, NULL) ||
        fw_key_from_public_pem(trusted_pem, &a, NULL) ||
        fw_key_from_public_pem(revoked_pem, &b, NULL) ||
        fw_trust_key_add(trust, a, "fuzz-trusted", NULL) ||
        fw_trust_key_add(trust, b, "fuzz-revoked", NULL) ||
        fw_trust_revoke(trust, fw_key_id(b), "revoked for the fuzzer", NULL)) {
        abort();
    }
    fw_key_destroy(a);
    fw_key_destroy(b);
    return trust;
}

static uint32_t
be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t
be64(const uint8_t *p)
{
    return ((uint64_t)be32(p) << 32) | be32(p + 4);
}

/* Recomputes, in place, the digests of the sections that lie inside the buffer, then
 * the header digest.  Returns false if the prefix does not announce a header that
 * fits. */
static bool
seal(uint8_t *buf, size_t size)
{
    uint32_t header_size;
    size_t n_families, n_sections;

    if (fw_image_header_size(buf, size, &header_size, NULL) || header_size > size) {
        return false;
    }
    n_families = (size_t)(buf[72] << 8 | buf[73]);
    n_sections = (size_t)(buf[74] << 8 | buf[75]);
    for (size_t i = 0; i < n_sections; i++) {
        uint8_t *e = buf + FW_IMAGE_FIXED_SIZE + n_families * FW_IMAGE_STRING_SIZE +
                     i * FW_IMAGE_SECTION_ENTRY_SIZE;
        uint64_t off = be64(e + 32), len = be64(e + 40);

        if (off <= size && len <= size - off) {
            fw_sha256(buf + off, (size_t)len, e + 48);
        }
    }
    fw_sha256(buf, header_size - FW_IMAGE_DIGEST_SIZE,
              buf + header_size - FW_IMAGE_DIGEST_SIZE);
    return true;
}

static void
exercise(const uint8_t *data, size_t size)
{
    struct fw_verify_policy policy = {
        .device = "OVNIC-SIM-BF3", .check_security = true, .min_security_version = 1};
    struct fw_verify_result *result = malloc(sizeof *result);
    struct fw_image_header *hdr = malloc(sizeof *hdr);
    struct fw_image *image = malloc(sizeof *image);

    if (!result || !hdr || !image) {
        abort();
    }
    fw_image_header_parse(data, size, hdr, NULL);
    if (!fw_image_parse(data, size, image, NULL)) {
        uint8_t *copy;
        size_t copy_len;
        json_t *json;

        fw_trust_verify(trust_store(), image, &policy, result, NULL);
        json = fw_verify_result_to_json(result);
        json_decref(json);
        json = fw_image_to_json(image);
        if (!json) {
            abort();
        }
        json_decref(json);
        /* Writing the same signatures back gives the same bytes. */
        if (fw_image_signatures_set(data, size, image->signatures, image->n_signatures,
                                    &copy, &copy_len, NULL) ||
            copy_len != size || memcmp(copy, data, size)) {
            abort();
        }
        free(copy);
    }
    free(result);
    free(hdr);
    free(image);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *sealed;

    exercise(data, size);
    if (size > ((size_t)4 << 20)) {
        return 0;
    }
    sealed = malloc(size ? size : 1);
    if (!sealed) {
        abort();
    }
    memcpy(sealed, data, size);
    if (seal(sealed, size)) {
        exercise(sealed, size);
    }
    free(sealed);
    return 0;
}
