/* Helpers shared by the unit tests of fw-images: a small image, and raw header
 * surgery (set a field, then re-seal the header digest so that the parser's later
 * checks are reached). */
#ifndef OVNIC_TESTS_FW_TEST_H
#define OVNIC_TESTS_FW_TEST_H 1

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw-images/image.h"

/* Offsets of docs/fw-image.md, repeated here on purpose: the tests pin the format. */
#define T_OFF_TYPE 10
#define T_OFF_HEADER_SIZE 12
#define T_OFF_PAYLOAD_END 16
#define T_OFF_SECURITY 60
#define T_OFF_N_FAMILIES 72
#define T_OFF_N_SECTIONS 74
#define T_SEC_OFFSET 32
#define T_SEC_SIZE 40

static inline void
t_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void
t_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (56 - 8 * i));
    }
}

static inline uint32_t
t_get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t
t_get_be64(const uint8_t *p)
{
    return ((uint64_t)t_get_be32(p) << 32) | t_get_be32(p + 4);
}

/* The section entry 'i' of the image at 'img' (with 'n_families' families). */
static inline uint8_t *
t_section_entry(uint8_t *img, size_t n_families, size_t i)
{
    return img + FW_IMAGE_FIXED_SIZE + n_families * FW_IMAGE_STRING_SIZE +
           i * FW_IMAGE_SECTION_ENTRY_SIZE;
}

/* Recomputes the header digest after an edit. */
static inline void
t_reseal(uint8_t *img)
{
    uint32_t hs = t_get_be32(img + T_OFF_HEADER_SIZE);

    fw_sha256(img, hs - FW_IMAGE_DIGEST_SIZE, img + hs - FW_IMAGE_DIGEST_SIZE);
}

/* Builds a small unsigned image: two families, three sections of 'size' bytes each
 * (filled with 'fill', 'fill'+1, 'fill'+2), security version 'security'. */
static inline int
t_build(size_t size, uint8_t fill, uint32_t security, uint8_t **imgp, size_t *lenp)
{
    uint8_t *a = malloc(size), *b = malloc(size), *c = malloc(size);
    struct fw_image_spec spec = {
        .type = FW_IMAGE_TYPE_BUNDLE,
        .version = {1, 2, 3, "rc.1"},
        .security_version = security,
        .build_time = 1700000000,
        .name = "test-bundle",
        .n_families = 2,
        .families = {"OVNIC-SIM-BF2", "OVNIC-SIM-BF3"},
        .n_sections = 3,
    };
    int error;

    memset(a, fill, size);
    memset(b, fill + 1, size);
    memset(c, fill + 2, size);
    spec.sections[0] = (struct fw_image_spec_section){"nic-firmware", a, size};
    spec.sections[1] = (struct fw_image_spec_section){"dpu-os", b, size};
    spec.sections[2] = (struct fw_image_spec_section){"dpu-software", c, size};
    error = fw_image_build(&spec, imgp, lenp, NULL);
    free(a);
    free(b);
    free(c);
    return error;
}

#endif /* OVNIC_TESTS_FW_TEST_H */
