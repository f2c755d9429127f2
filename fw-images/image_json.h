/* ovnic firmware images: the JSON description of an image, which `ovnic-fw inspect`
 * prints and a sign request carries.  Field names are those of docs/fw-image.md. */
#ifndef OVNIC_FW_IMAGE_JSON_H
#define OVNIC_FW_IMAGE_JSON_H 1

#include <jansson.h>

#include "fw-images/image.h"

/** The header as JSON: {"name", "type", "version", "security_version", "build_time",
 * "build_date", "format_version", "families": [...], "image_digest", "header_size",
 * "payload_size", "sections": [{"name", "offset", "size", "sha256"}]}.  Caller owns;
 * free with json_decref().  NULL if out of memory. */
json_t *fw_image_header_to_json(const struct fw_image_header *hdr);

/** The whole image: the header's members, then "size" and "signatures":
 * [{"key_id", "algorithm"}].  Caller owns; NULL if out of memory. */
json_t *fw_image_to_json(const struct fw_image *image);

#endif /* OVNIC_FW_IMAGE_JSON_H */
