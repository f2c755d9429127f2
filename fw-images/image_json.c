/* ovnic firmware images: JSON description of an image (see image_json.h). */
#include "fw-images/image_json.h"

#include <stdio.h>
#include <time.h>

json_t *
fw_image_header_to_json(const struct fw_image_header *h)
{
    char version[64], digest[FW_DIGEST_HEX_SIZE], date[32];
    json_t *families = json_array();
    json_t *sections = json_array();
    time_t t = (time_t)h->build_time;
    struct tm tm;

    if (!families || !sections) {
        json_decref(families);
        json_decref(sections);
        return NULL;
    }
    if (gmtime_r(&t, &tm)) {
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    } else {
        snprintf(date, sizeof date, "-");
    }
    for (size_t i = 0; i < h->n_families; i++) {
        json_array_append_new(families, json_string(h->families[i]));
    }
    for (size_t i = 0; i < h->n_sections; i++) {
        const struct fw_section *s = &h->sections[i];
        char sha[FW_DIGEST_HEX_SIZE];

        json_array_append_new(sections,
                              json_pack("{s:s, s:I, s:I, s:s}", "name", s->name, "offset",
                                        (json_int_t)s->offset, "size",
                                        (json_int_t)s->size, "sha256",
                                        fw_hex_format(s->sha256, sizeof s->sha256, sha)));
    }
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:i, s:o, s:s, s:I, s:I, s:o}",
                     "name", h->name, "type", fw_image_type_name(h->type), "version",
                     fw_semver_format(&h->version, version, sizeof version),
                     "security_version", (json_int_t)h->security_version, "build_time",
                     (json_int_t)h->build_time, "build_date", date, "format_version",
                     (int)h->format_version, "families", families, "image_digest",
                     fw_hex_format(h->digest, sizeof h->digest, digest), "header_size",
                     (json_int_t)h->header_size, "payload_size",
                     (json_int_t)(h->payload_end - h->header_size), "sections", sections);
}

json_t *
fw_image_to_json(const struct fw_image *image)
{
    json_t *json = fw_image_header_to_json(&image->hdr);
    json_t *sigs = json_array();

    if (!json || !sigs) {
        json_decref(json);
        json_decref(sigs);
        return NULL;
    }
    for (size_t i = 0; i < image->n_signatures; i++) {
        const struct fw_signature *s = &image->signatures[i];
        char hex[FW_KEY_ID_HEX_SIZE];

        json_array_append_new(sigs,
                              json_pack("{s:s, s:s}", "key_id",
                                        fw_hex_format(s->key_id, FW_KEY_ID_SIZE, hex),
                                        "algorithm", fw_sig_alg_name(s->alg)));
    }
    json_object_set_new(json, "size", json_integer((json_int_t)image->size));
    json_object_set_new(json, "signatures", sigs);
    return json;
}
