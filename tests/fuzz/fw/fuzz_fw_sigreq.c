/* Fuzz target: the files of external signing, which cross from one machine to
 * another: a sign request read by the signing machine (fw_sign_request_sign()), and a
 * sign response read back by the build host (fw_sign_response_attach()).  Each input
 * is JSON text tried as both.
 *
 * The image responses are attached to is built here from a fixed spec, the same as
 * the recipe the seeds in tests/fuzz/corpus/fw_sigreq/ were made from (name
 * fuzz-sigreq, nic-firmware 1.2.3, security version 4, build time 1700000000, family
 * OVNIC-SIM-BF3, two text sections), so that the seed responses are for it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw-images/image.h"
#include "fw-images/key.h"
#include "fw-images/sigreq.h"
#include "shared/util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fw_key *key;
static uint8_t *image;
static size_t image_len;

static void
init(void)
{
    static const char fw[] = "firmware bytes for the sign request fuzzer\n";
    static const char config[] = "profile=bf3\n";
    struct fw_image_spec spec = {
        .type = FW_IMAGE_TYPE_NIC_FIRMWARE,
        .version = {1, 2, 3, ""},
        .security_version = 4,
        .build_time = 1700000000,
        .name = "fuzz-sigreq",
        .n_families = 1,
        .families = {"OVNIC-SIM-BF3"},
        .n_sections = 2,
    };

    spec.sections[0] = (struct fw_image_spec_section){"nic-firmware", fw, strlen(fw)};
    spec.sections[1] = (struct fw_image_spec_section){"config", config, strlen(config)};
    if (fw_key_generate(FW_SIG_ALG_ED25519, &key, NULL) ||
        fw_image_build(&spec, &image, &image_len, NULL)) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *json, *resp;
    uint8_t *out;
    size_t out_len;

    if (!key) {
        init();
    }
    if (json_from_buffer((const char *)data, size, &json, NULL)) {
        return 0;
    }
    if (!fw_sign_request_sign(json, key, NULL, &resp, NULL)) {
        /* What the signer answered must attach to an image of that header only if
         * it is ours; either way it must not crash. */
        if (!fw_sign_response_attach(image, image_len, resp, &out, &out_len, NULL,
                                     NULL)) {
            free(out);
        }
        json_decref(resp);
    }
    if (!fw_sign_response_attach(image, image_len, json, &out, &out_len, NULL, NULL)) {
        struct fw_image *parsed = malloc(sizeof *parsed);

        /* An attached signature leaves a valid image. */
        if (!parsed || fw_image_parse(out, out_len, parsed, NULL) ||
            parsed->n_signatures != 1) {
            abort();
        }
        free(parsed);
        free(out);
    }
    json_decref(json);
    return 0;
}
