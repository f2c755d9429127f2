/* ovnic firmware images: signing with a key held elsewhere, so that a release key
 * never sits on the build host.
 *
 *   build host                          signing machine (holds the key)
 *   fw_sign_request_create(image) ──>   request file
 *                                       fw_sign_request_sign(request, key)
 *   response file               <──    (re-parses the header, checks that the digest
 *   fw_sign_response_attach(image,      and the metadata shown are the header's, signs)
 *                           response)
 *
 * A request carries the whole header (hex), so that the signer checks what it signs
 * with the same parser as the device, and never signs a bare digest:
 *
 *   {"format": "ovnic-fw-sign-request-v1", "header": HEX, <the members of
 *    fw_image_header_to_json()>}
 *
 * A response: {"format": "ovnic-fw-sign-response-v1", "image_digest": HEX64,
 * "key_id": HEX32, "algorithm": ALG, "signature": HEX128, "public_key": PEM}. */
#ifndef OVNIC_FW_SIGREQ_H
#define OVNIC_FW_SIGREQ_H 1

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "fw-images/image.h"
#include "fw-images/key.h"
#include "shared/util/err.h"

#define FW_SIGN_REQUEST_FORMAT "ovnic-fw-sign-request-v1"
#define FW_SIGN_RESPONSE_FORMAT "ovnic-fw-sign-response-v1"
#define FW_SIGREQ_MAX_FILE_SIZE ((size_t)1 << 20)

/** The sign request for the image 'data' (which must parse with fw_image_parse()).
 * Caller owns '*reqp'; free with json_decref().  Returns 0, -EBADMSG/-EFBIG (the
 * image does not parse) or -ENOMEM. */
int fw_sign_request_create(const void *data, size_t len, json_t **reqp,
                           struct ovnic_err *err);

/** Checks the request 'req' and signs it with 'key' (which must hold a private key).
 * The header in the request must parse, and every metadata member must be what the
 * header says.  Stores the header in '*hdr' (may be NULL) so that the caller can show
 * what it signed.  Caller owns '*respp'; free with json_decref().  Returns 0, -EINVAL
 * (a malformed request), -EBADMSG (its header does not parse or does not match its
 * metadata), or the errors of fw_key_sign(). */
int fw_sign_request_sign(const json_t *req, const struct fw_key *key,
                         struct fw_image_header *hdr, json_t **respp,
                         struct ovnic_err *err);

/** Adds the signature in response 'resp' to the image 'data': the response must be
 * for this image (same header digest) and its signature must verify with the public
 * key it names.  Stores the signature in '*sig' (may be NULL).  Caller owns '*outp';
 * free with free().  Returns 0, -EINVAL (a malformed response), -ESTALE (a response
 * for another image), -EKEYREJECTED (the signature does not verify), or the errors of
 * fw_image_signature_add(). */
int fw_sign_response_attach(const void *data, size_t len, const json_t *resp,
                            uint8_t **outp, size_t *outlenp, struct fw_signature *sig,
                            struct ovnic_err *err);

#endif /* OVNIC_FW_SIGREQ_H */
