/* Unit tests of the firmware image format: building, parsing, and every refusal of
 * the one parser (truncation at every length, every header byte flipped, oversized,
 * overlapping and out-of-file sections, malformed signature blocks). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fw-images/image.h"
#include "fw_test.h"

/* Parses and expects a refusal with 'code' whose message contains 'text'. */
static void
expect_refused(const uint8_t *img, size_t len, int code, const char *text)
{
    struct fw_image *image = malloc(sizeof *image);
    struct ovnic_err err = {0};
    int rc = fw_image_parse(img, len, image, &err);

    if (rc != code || !err.message || !strstr(err.message, text)) {
        char buf[512];

        print_error("expected %d '%s', got %d: %s\n", code, text, rc,
                    ovnic_err_format(&err, buf, sizeof buf));
        fail();
    }
    free(image);
}

static void
test_build_parse(void **state OVNIC_UNUSED)
{
    struct fw_image *image = malloc(sizeof *image);
    struct ovnic_err err = {0};
    char v[64];
    uint8_t *img;
    size_t len;

    assert_int_equal(t_build(1000, 0x11, 7, &img, &len), 0);
    assert_int_equal(fw_image_parse(img, len, image, &err), 0);
    assert_int_equal(image->hdr.format_version, 1);
    assert_int_equal(image->hdr.type, FW_IMAGE_TYPE_BUNDLE);
    assert_string_equal(fw_semver_format(&image->hdr.version, v, sizeof v), "1.2.3-rc.1");
    assert_int_equal(image->hdr.security_version, 7);
    assert_int_equal(image->hdr.build_time, 1700000000);
    assert_string_equal(image->hdr.name, "test-bundle");
    assert_int_equal(image->hdr.n_families, 2);
    assert_string_equal(image->hdr.families[1], "OVNIC-SIM-BF3");
    assert_int_equal(image->hdr.n_sections, 3);
    assert_int_equal(image->hdr.header_size, 128 + 2 * 32 + 3 * 80 + 32);
    assert_int_equal(image->hdr.sections[0].offset, image->hdr.header_size);
    assert_int_equal(image->hdr.sections[1].offset, image->hdr.header_size + 1000);
    assert_string_equal(image->hdr.sections[2].name, "dpu-software");
    assert_int_equal(image->hdr.payload_end, image->hdr.header_size + 3000);
    assert_int_equal(image->n_signatures, 0);
    assert_int_equal(image->size, len);
    assert_int_equal(len, image->hdr.payload_end + FW_SIG_BLOCK_HEADER_SIZE);
    assert_memory_equal(img, "OVNICFW", 8);
    /* Sections hold what was given. */
    assert_int_equal(img[image->hdr.sections[1].offset], 0x12);

    /* The header alone parses too (a sign request carries only that). */
    struct fw_image_header *hdr = malloc(sizeof *hdr);
    assert_int_equal(fw_image_header_parse(img, image->hdr.header_size, hdr, NULL), 0);
    assert_memory_equal(hdr->digest, image->hdr.digest, FW_IMAGE_DIGEST_SIZE);
    uint32_t hs;
    assert_int_equal(fw_image_header_size(img, FW_IMAGE_FIXED_SIZE, &hs, NULL), 0);
    assert_int_equal(hs, image->hdr.header_size);
    free(hdr);
    free(img);
    free(image);
}

static void
test_truncated_every_length(void **state OVNIC_UNUSED)
{
    uint8_t *img;
    size_t len;

    assert_int_equal(t_build(300, 0x20, 1, &img, &len), 0);
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1);

        memcpy(copy, img, n);
        expect_refused(copy, n, -EBADMSG, "truncated image");
        free(copy);
    }
    free(img);
}

static void
test_every_header_byte_flipped(void **state OVNIC_UNUSED)
{
    uint32_t header_size;
    unsigned int tried = 0;
    uint8_t *img;
    size_t len;

    assert_int_equal(t_build(200, 0x30, 1, &img, &len), 0);
    header_size = t_get_be32(img + T_OFF_HEADER_SIZE);
    for (uint32_t i = 0; i < header_size; i++) {
        static const uint8_t masks[] = {0xff, 0x01, 0x80};

        for (size_t m = 0; m < sizeof masks; m++) {
            struct fw_image *image = malloc(sizeof *image);
            struct ovnic_err err = {0};

            img[i] ^= masks[m];
            assert_int_not_equal(fw_image_parse(img, len, image, &err), 0);
            /* Every refusal names its reason. */
            assert_non_null(err.message);
            assert_true(err.code == -EBADMSG || err.code == -EFBIG);
            img[i] ^= masks[m];
            free(image);
            tried++;
        }
    }
    assert_int_equal(tried, 3 * header_size);
    /* And the untouched image still parses. */
    struct fw_image *image = malloc(sizeof *image);
    assert_int_equal(fw_image_parse(img, len, image, NULL), 0);
    free(image);
    free(img);
}

static void
test_payload_byte_flipped(void **state OVNIC_UNUSED)
{
    uint32_t header_size;
    uint8_t *img;
    size_t len;

    assert_int_equal(t_build(64, 0x40, 1, &img, &len), 0);
    header_size = t_get_be32(img + T_OFF_HEADER_SIZE);
    for (size_t i = header_size; i < header_size + 3 * 64; i++) {
        img[i] ^= 0x01;
        expect_refused(img, len, -EBADMSG, "section digest mismatch");
        img[i] ^= 0x01;
    }
    free(img);
}

static void
test_oversized_section(void **state OVNIC_UNUSED)
{
    uint8_t *img;
    size_t len;

    assert_int_equal(t_build(64, 0x50, 1, &img, &len), 0);
    t_put_be64(t_section_entry(img, 2, 2) + T_SEC_SIZE, FW_IMAGE_MAX_SECTION_SIZE + 1);
    t_reseal(img);
    expect_refused(img, len, -EFBIG, "oversized section");
    free(img);

    /* The builder refuses one too, before laying anything out. */
    struct fw_image_spec spec = {
        .type = FW_IMAGE_TYPE_NIC_FIRMWARE,
        .name = "big",
        .n_families = 1,
        .families = {"X"},
        .n_sections = 1,
    };
    static const uint8_t byte;
    struct ovnic_err err = {0};
    spec.sections[0] = (struct fw_image_spec_section){
        "huge", &byte, (size_t)FW_IMAGE_MAX_SECTION_SIZE + 1};
    assert_int_equal(fw_image_build(&spec, &img, &len, &err), -EFBIG);
    assert_string_equal(err.message, "oversized section");
}

static void
test_overlapping_sections(void **state OVNIC_UNUSED)
{
    uint8_t *img;
    size_t len;

    assert_int_equal(t_build(64, 0x60, 1, &img, &len), 0);
    /* Section 1 starts 8 bytes inside section 0. */
    uint8_t *e1 = t_section_entry(img, 2, 1);
    t_put_be64(e1 + T_SEC_OFFSET, t_get_be64(e1 + T_SEC_OFFSET) - 8);
    t_reseal(img);
    expect_refused(img, len, -EBADMSG, "overlapping sections");
    free(img);

    /* Two sections at the same place. */
    assert_int_equal(t_build(64, 0x60, 1, &img, &len), 0);
    t_put_be64(t_section_entry(img, 2, 2) + T_SEC_OFFSET,
               t_get_be64(t_section_entry(img, 2, 0) + T_SEC_OFFSET));
    t_reseal(img);
    expect_refused(img, len, -EBADMSG, "overlapping sections");
    free(img);
}

static void
test_section_outside_file(void **state OVNIC_UNUSED)
{
    uint8_t *img;
    size_t len;

    /* Past the payload. */
    assert_int_equal(t_build(64, 0x70, 1, &img, &len), 0);
    uint8_t *e2 = t_section_entry(img, 2, 2);
    t_put_be64(e2 + T_SEC_OFFSET, t_get_be64(e2 + T_SEC_OFFSET) + 1);
    t_reseal(img);
    expect_refused(img, len, -EBADMSG, "section points outside the file");
    free(img);

    /* Far away: offset + size would wrap around 64 bits. */
    assert_int_equal(t_build(64, 0x70, 1, &img, &len), 0);
    e2 = t_section_entry(img, 2, 2);
    t_put_be64(e2 + T_SEC_OFFSET, UINT64_MAX - 10);
    t_reseal(img);
    expect_refused(img, len, -EBADMSG, "section points outside the file");
    free(img);

    /* Inside the header. */
    assert_int_equal(t_build(64, 0x70, 1, &img, &len), 0);
    t_put_be64(t_section_entry(img, 2, 0) + T_SEC_OFFSET, 16);
    t_reseal(img);
    expect_refused(img, len, -EBADMSG, "section overlaps the header");
    free(img);

    /* A payload that claims more than the file holds. */
    assert_int_equal(t_build(64, 0x70, 1, &img, &len), 0);
    uint64_t end = t_get_be64(img + T_OFF_PAYLOAD_END);
    t_put_be64(img + T_OFF_PAYLOAD_END, end + 4096);
    t_put_be64(t_section_entry(img, 2, 2) + T_SEC_SIZE, 64 + 4096);
    t_reseal(img);
    expect_refused(img, len, -EBADMSG, "truncated image");
    free(img);
}

static void
test_other_header_refusals(void **state OVNIC_UNUSED)
{
    uint8_t *img;
    size_t len;

    /* Unknown image type. */
    assert_int_equal(t_build(32, 1, 1, &img, &len), 0);
    t_put_be16(img + T_OFF_TYPE, 99);
    t_reseal(img);
    expect_refused(img, len, -EBADMSG, "unknown image type");
    free(img);

    /* A gap between sections: section 2 shorter than its room. */
    assert_int_equal(t_build(32, 1, 1, &img, &len), 0);
    t_put_be64(t_section_entry(img, 2, 2) + T_SEC_SIZE, 31);
    t_reseal(img);
    expect_refused(img, len, -EBADMSG, "unaccounted bytes in the payload");
    free(img);

    /* An empty section. */
    assert_int_equal(t_build(32, 1, 1, &img, &len), 0);
    t_put_be64(t_section_entry(img, 2, 2) + T_SEC_SIZE, 0);
    t_reseal(img);
    expect_refused(img, len, -EBADMSG, "empty section");
    free(img);

    /* Duplicate section names. */
    assert_int_equal(t_build(32, 1, 1, &img, &len), 0);
    memcpy(t_section_entry(img, 2, 1), t_section_entry(img, 2, 0), FW_IMAGE_STRING_SIZE);
    t_reseal(img);
    expect_refused(img, len, -EBADMSG, "duplicate section name");
    free(img);

    /* A name with a character outside the set, and one without NUL padding. */
    assert_int_equal(t_build(32, 1, 1, &img, &len), 0);
    t_section_entry(img, 2, 0)[2] = '/';
    t_reseal(img);
    expect_refused(img, len, -EBADMSG, "malformed section name");
    free(img);
    assert_int_equal(t_build(32, 1, 1, &img, &len), 0);
    memset(t_section_entry(img, 2, 0), 'a', FW_IMAGE_STRING_SIZE);
    t_reseal(img);
    expect_refused(img, len, -EBADMSG, "malformed section name");
    free(img);

    /* Counts over the limits, and counts that disagree with header_size. */
    assert_int_equal(t_build(32, 1, 1, &img, &len), 0);
    t_put_be16(img + T_OFF_N_SECTIONS, FW_IMAGE_MAX_SECTIONS + 1);
    expect_refused(img, len, -EBADMSG, "too many sections");
    t_put_be16(img + T_OFF_N_SECTIONS, 0);
    expect_refused(img, len, -EBADMSG, "image has no section");
    t_put_be16(img + T_OFF_N_SECTIONS, 2);
    expect_refused(img, len, -EBADMSG, "header size does not match its counts");
    t_put_be16(img + T_OFF_N_SECTIONS, 3);
    t_put_be16(img + T_OFF_N_FAMILIES, FW_IMAGE_MAX_FAMILIES + 1);
    expect_refused(img, len, -EBADMSG, "too many device families");
    t_put_be16(img + T_OFF_N_FAMILIES, 0);
    expect_refused(img, len, -EBADMSG, "no compatible device family");
    free(img);

    /* A duplicate family. */
    assert_int_equal(t_build(32, 1, 1, &img, &len), 0);
    memcpy(img + FW_IMAGE_FIXED_SIZE + FW_IMAGE_STRING_SIZE, img + FW_IMAGE_FIXED_SIZE,
           FW_IMAGE_STRING_SIZE);
    t_reseal(img);
    expect_refused(img, len, -EBADMSG, "duplicate device family");
    free(img);

    /* Not an image at all, and another format version. */
    assert_int_equal(t_build(32, 1, 1, &img, &len), 0);
    img[0] = 'X';
    expect_refused(img, len, -EBADMSG, "not an ovnic firmware image");
    img[0] = 'O';
    img[9] = 2;
    expect_refused(img, len, -EBADMSG, "unsupported format version");
    free(img);

    /* A reserved field set. */
    assert_int_equal(t_build(32, 1, 1, &img, &len), 0);
    img[120] = 1;
    t_reseal(img);
    expect_refused(img, len, -EBADMSG, "reserved header field is not zero");
    free(img);
}

static void
test_signature_block(void **state OVNIC_UNUSED)
{
    struct fw_signature sig = {.alg = FW_SIG_ALG_ED25519};
    struct fw_image *image = malloc(sizeof *image);
    uint8_t *img, *signed_img, *bigger;
    size_t len, signed_len;
    uint64_t end;

    assert_int_equal(t_build(32, 1, 1, &img, &len), 0);
    memset(sig.key_id, 0xab, sizeof sig.key_id);
    memset(sig.sig, 0xcd, sizeof sig.sig);
    assert_int_equal(
        fw_image_signature_add(img, len, &sig, &signed_img, &signed_len, NULL), 0);
    assert_int_equal(signed_len, len + FW_SIG_ENTRY_SIZE);
    assert_int_equal(fw_image_parse(signed_img, signed_len, image, NULL), 0);
    assert_int_equal(image->n_signatures, 1);
    assert_memory_equal(image->signatures[0].sig, sig.sig, FW_SIG_LEN);
    end = image->hdr.payload_end;

    /* Signatures leave the header digest alone. */
    struct fw_image *unsigned_image = malloc(sizeof *unsigned_image);
    assert_int_equal(fw_image_parse(img, len, unsigned_image, NULL), 0);
    assert_memory_equal(unsigned_image->hdr.digest, image->hdr.digest,
                        FW_IMAGE_DIGEST_SIZE);
    free(unsigned_image);

    /* The same key again replaces its signature; another key adds one. */
    uint8_t *twice;
    size_t twice_len;
    sig.sig[0] = 0x01;
    assert_int_equal(
        fw_image_signature_add(signed_img, signed_len, &sig, &twice, &twice_len, NULL),
        0);
    assert_int_equal(twice_len, signed_len);
    free(twice);
    sig.key_id[0] = 0x00;
    assert_int_equal(
        fw_image_signature_add(signed_img, signed_len, &sig, &twice, &twice_len, NULL),
        0);
    assert_int_equal(twice_len, signed_len + FW_SIG_ENTRY_SIZE);
    free(twice);

    /* Unknown algorithm, bad length field, bad magic, bad count. */
    signed_img[end + FW_SIG_BLOCK_HEADER_SIZE + 1] = 9;
    expect_refused(signed_img, signed_len, -EBADMSG, "unknown signature algorithm");
    signed_img[end + FW_SIG_BLOCK_HEADER_SIZE + 1] = FW_SIG_ALG_ED25519;
    signed_img[end + FW_SIG_BLOCK_HEADER_SIZE + 3] = 63;
    expect_refused(signed_img, signed_len, -EBADMSG, "malformed signature entry");
    signed_img[end + FW_SIG_BLOCK_HEADER_SIZE + 3] = 64;
    signed_img[end] = 'x';
    expect_refused(signed_img, signed_len, -EBADMSG, "malformed signature block");
    signed_img[end] = 'O';
    signed_img[end + 9] = 2;
    expect_refused(signed_img, signed_len, -EBADMSG, "malformed signature block");
    signed_img[end + 9] = 17;
    expect_refused(signed_img, signed_len, -EBADMSG, "too many signatures");
    signed_img[end + 9] = 1;
    assert_int_equal(fw_image_parse(signed_img, signed_len, image, NULL), 0);

    /* Trailing bytes after the signature block. */
    bigger = calloc(1, signed_len + 1);
    memcpy(bigger, signed_img, signed_len);
    expect_refused(bigger, signed_len + 1, -EBADMSG, "trailing bytes after the image");
    free(bigger);

    /* A signature entry cut off. */
    expect_refused(signed_img, signed_len - 1, -EBADMSG, "truncated image");

    /* More signatures than the format holds. */
    struct fw_signature many[FW_IMAGE_MAX_SIGNATURES + 1];
    memset(many, 0, sizeof many);
    assert_int_equal(fw_image_signatures_set(img, len, many, FW_IMAGE_MAX_SIGNATURES + 1,
                                             &twice, &twice_len, NULL),
                     -E2BIG);
    free(image);
    free(img);
    free(signed_img);
}

static void
test_builder_refusals(void **state OVNIC_UNUSED)
{
    static const uint8_t data[4] = {1, 2, 3, 4};
    struct fw_image_spec spec = {
        .type = FW_IMAGE_TYPE_DPU_SOFTWARE,
        .name = "ok",
        .n_families = 1,
        .families = {"F"},
        .n_sections = 2,
    };
    struct ovnic_err err = {0};
    uint8_t *img;
    size_t len;

    spec.sections[0] = (struct fw_image_spec_section){"a", data, 4};
    spec.sections[1] = (struct fw_image_spec_section){"a", data, 4};
    assert_int_equal(fw_image_build(&spec, &img, &len, &err), -EINVAL);
    assert_string_equal(err.message, "duplicate section name");

    ovnic_err_clear(&err);
    spec.sections[1] = (struct fw_image_spec_section){"b", data, 0};
    assert_int_equal(fw_image_build(&spec, &img, &len, &err), -EINVAL);
    assert_string_equal(err.message, "empty section");

    ovnic_err_clear(&err);
    spec.sections[1] = (struct fw_image_spec_section){"name/with/slash", data, 4};
    assert_int_equal(fw_image_build(&spec, &img, &len, &err), -EINVAL);
    assert_string_equal(err.message, "invalid section name");

    ovnic_err_clear(&err);
    spec.sections[1] = (struct fw_image_spec_section){"b", data, 4};
    spec.families[0] = "a-family-name-that-is-far-too-long-for-the-field";
    assert_int_equal(fw_image_build(&spec, &img, &len, &err), -EINVAL);
    assert_string_equal(err.message, "invalid device family");

    ovnic_err_clear(&err);
    spec.families[0] = "F";
    spec.n_sections = FW_IMAGE_MAX_SECTIONS + 1;
    assert_int_equal(fw_image_build(&spec, &img, &len, &err), -EINVAL);
    assert_string_equal(err.message, "bad number of sections");

    spec.n_sections = 2;
    assert_int_equal(fw_image_build(&spec, &img, &len, NULL), 0);
    free(img);
}

static void
test_text_forms(void **state OVNIC_UNUSED)
{
    struct fw_semver v;
    char buf[64];
    uint8_t bytes[2];
    uint16_t t;

    assert_int_equal(fw_semver_parse("0.0.0", &v), 0);
    assert_int_equal(fw_semver_parse("4294967295.1.2-beta.2", &v), 0);
    assert_string_equal(fw_semver_format(&v, buf, sizeof buf), "4294967295.1.2-beta.2");
    assert_int_equal(fw_semver_parse("4294967296.0.0", &v), -EINVAL);
    assert_int_equal(fw_semver_parse("01.0.0", &v), -EINVAL);
    assert_int_equal(fw_semver_parse("1.0", &v), -EINVAL);
    assert_int_equal(fw_semver_parse("1.0.0-", &v), -EINVAL);
    assert_int_equal(fw_semver_parse("1.0.0-a_b", &v), -EINVAL);
    assert_int_equal(fw_semver_parse("1.0.0x", &v), -EINVAL);
    assert_int_equal(fw_image_type_parse("bundle", &t), 0);
    assert_int_equal(t, FW_IMAGE_TYPE_BUNDLE);
    assert_int_equal(fw_image_type_parse("rootfs", &t), -EINVAL);
    assert_null(fw_image_type_name(0));
    assert_int_equal(fw_hex_parse("aB", bytes, 1), 0);
    assert_int_equal(bytes[0], 0xab);
    assert_int_equal(fw_hex_parse("abc", bytes, 1), -EINVAL);
    assert_int_equal(fw_hex_parse("zz", bytes, 1), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_parse),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_every_header_byte_flipped),
        cmocka_unit_test(test_payload_byte_flipped),
        cmocka_unit_test(test_oversized_section),
        cmocka_unit_test(test_overlapping_sections),
        cmocka_unit_test(test_section_outside_file),
        cmocka_unit_test(test_other_header_refusals),
        cmocka_unit_test(test_signature_block),
        cmocka_unit_test(test_builder_refusals),
        cmocka_unit_test(test_text_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
