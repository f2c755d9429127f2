/* ovnic firmware images: sign requests and responses (see sigreq.h). */
#include "fw-images/sigreq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw-images/image_json.h"
#include "shared/util/json.h"

#define OBJ "sign-request"
#define OBJ_RESP "sign-response"

static char *
hex_dup(const uint8_t *data, size_t len)
{
    char *hex = malloc(2 * len + 1);

    return hex ? (char *)fw_hex_format(data, len, hex) : NULL;
}

int
fw_sign_request_create(const void *data, size_t len, json_t **reqp, struct ovnic_err *err)
{
    struct fw_image *image = malloc(sizeof *image);
    json_t *req = NULL;
    char *hex = NULL;
    int error;

    if (!image) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    error = fw_image_parse(data, len, image, err);
    if (error) {
        goto out;
    }
    hex = hex_dup(data, image->hdr.header_size);
    req = fw_image_header_to_json(&image->hdr);
    if (!hex || !req ||
        json_object_set_new(req, "format", json_string(FW_SIGN_REQUEST_FORMAT)) ||
        json_object_set_new(req, "header", json_string(hex))) {
        error = ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
        json_decref(req);
        goto out;
    }
    *reqp = req;

out:
    free(hex);
    free(image);
    return error;
}

int
fw_sign_request_sign(const json_t *req, const struct fw_key *key,
                     struct fw_image_header *hdr_out, json_t **respp,
                     struct ovnic_err *err)
{
    struct fw_image_header *hdr = NULL;
    const char *format, *header_hex;
    struct fw_signature sig;
    uint8_t *header = NULL;
    json_t *expected = NULL;
    char *pem = NULL, *sig_hex = NULL;
    char digest_hex[FW_DIGEST_HEX_SIZE];
    const char *k;
    json_t *v;
    size_t len;
    int error;

    if (!json_is_object(req)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "not a JSON object", NULL);
    }
    error = json_get_string(req, "format", &format, err);
    if (!error && strcmp(format, FW_SIGN_REQUEST_FORMAT)) {
        error =
            ovnic_err_set(err, -EINVAL, OBJ, "not a sign request",
                          "format '%s', expected '%s'", format, FW_SIGN_REQUEST_FORMAT);
    }
    if (!error) {
        error = json_get_string(req, "header", &header_hex, err);
    }
    if (error) {
        return error;
    }
    len = strlen(header_hex) / 2;
    if (len > FW_IMAGE_MAX_HEADER_SIZE) {
        return ovnic_err_set(err, -EINVAL, OBJ, "header too long", "%zu bytes", len);
    }
    header = malloc(len ? len : 1);
    hdr = malloc(sizeof *hdr);
    if (!header || !hdr) {
        error = ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
        goto out;
    }
    if (fw_hex_parse(header_hex, header, len)) {
        error = ovnic_err_set(err, -EINVAL, OBJ, "header is not hex", NULL);
        goto out;
    }
    error = fw_image_header_parse(header, len, hdr, err);
    if (error) {
        goto out;
    }
    if (hdr->header_size != len) {
        error = ovnic_err_set(err, -EBADMSG, OBJ, "trailing bytes after the header",
                              "%zu bytes, the header takes %u", len, hdr->header_size);
        goto out;
    }
    /* What a person at the signing machine reads must be what gets signed. */
    expected = fw_image_header_to_json(hdr);
    if (!expected) {
        error = ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
        goto out;
    }
    json_object_foreach(expected, k, v)
    {
        if (!json_equal(v, json_object_get(req, k))) {
            error = ovnic_err_set(err, -EBADMSG, OBJ,
                                  "request metadata does not match its header",
                                  "member '%s'", k);
            goto out;
        }
    }
    json_object_foreach((json_t *)req, k, v)
    {
        if (strcmp(k, "format") && strcmp(k, "header") && !json_object_get(expected, k)) {
            error = ovnic_err_set(err, -EINVAL, OBJ, "unknown member", "'%s'", k);
            goto out;
        }
    }
    error = fw_key_sign(key, hdr->digest, &sig, err);
    if (error) {
        goto out;
    }
    error = fw_key_public_pem(key, &pem, err);
    if (error) {
        goto out;
    }
    sig_hex = hex_dup(sig.sig, sizeof sig.sig);
    *respp =
        sig_hex
            ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "format",
                        FW_SIGN_RESPONSE_FORMAT, "image_digest",
                        fw_hex_format(hdr->digest, sizeof hdr->digest, digest_hex),
                        "key_id", fw_key_id_hex(key), "algorithm",
                        fw_sig_alg_name(sig.alg), "signature", sig_hex, "public_key", pem)
            : NULL;
    if (!*respp) {
        error = ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
        goto out;
    }
    if (hdr_out) {
        *hdr_out = *hdr;
    }

out:
    json_decref(expected);
    free(sig_hex);
    free(pem);
    free(header);
    free(hdr);
    return error;
}

int
fw_sign_response_attach(const void *data, size_t len, const json_t *resp, uint8_t **outp,
                        size_t *outlenp, struct fw_signature *sig_out,
                        struct ovnic_err *err)
{
    static const char *const members[] = {"format",    "image_digest", "key_id",
                                          "algorithm", "signature",    "public_key"};
    const char *format, *digest_hex, *key_hex, *alg_name, *sig_hex, *pem;
    uint8_t digest[FW_IMAGE_DIGEST_SIZE];
    struct fw_image_header *hdr = NULL;
    struct fw_key *key = NULL;
    struct fw_signature sig;
    int error;

    if (!json_is_object(resp)) {
        return ovnic_err_set(err, -EINVAL, OBJ_RESP, "not a JSON object", NULL);
    }
    if (json_object_size(resp) != ARRAY_SIZE(members)) {
        return ovnic_err_set(err, -EINVAL, OBJ_RESP, "malformed response",
                             "expected exactly the members format, image_digest, key_id, "
                             "algorithm, signature, public_key");
    }
    error = json_get_string(resp, "format", &format, err);
    if (!error && strcmp(format, FW_SIGN_RESPONSE_FORMAT)) {
        error =
            ovnic_err_set(err, -EINVAL, OBJ_RESP, "not a sign response",
                          "format '%s', expected '%s'", format, FW_SIGN_RESPONSE_FORMAT);
    }
    if (!error) {
        error = json_get_string(resp, "image_digest", &digest_hex, err);
    }
    if (!error) {
        error = json_get_string(resp, "key_id", &key_hex, err);
    }
    if (!error) {
        error = json_get_string(resp, "algorithm", &alg_name, err);
    }
    if (!error) {
        error = json_get_string(resp, "signature", &sig_hex, err);
    }
    if (!error) {
        error = json_get_string(resp, "public_key", &pem, err);
    }
    if (error) {
        return error;
    }
    memset(&sig, 0, sizeof sig);
    if (fw_hex_parse(digest_hex, digest, sizeof digest) ||
        fw_hex_parse(key_hex, sig.key_id, sizeof sig.key_id) ||
        fw_hex_parse(sig_hex, sig.sig, sizeof sig.sig) ||
        fw_sig_alg_parse(alg_name, &sig.alg)) {
        return ovnic_err_set(err, -EINVAL, OBJ_RESP, "malformed response",
                             "a digest, key id, signature or algorithm is not valid");
    }
    hdr = malloc(sizeof *hdr);
    if (!hdr) {
        return ovnic_err_set(err, -ENOMEM, OBJ_RESP, "out of memory", NULL);
    }
    error = fw_image_header_parse(data, len, hdr, err);
    if (error) {
        goto out;
    }
    if (memcmp(hdr->digest, digest, sizeof digest)) {
        error = ovnic_err_set(err, -ESTALE, OBJ_RESP, "response is for another image",
                              "its image digest is %s", digest_hex);
        goto out;
    }
    error = fw_key_from_public_pem(pem, &key, err);
    if (error) {
        goto out;
    }
    if (memcmp(fw_key_id(key), sig.key_id, FW_KEY_ID_SIZE)) {
        error = ovnic_err_set(err, -EINVAL, OBJ_RESP, "key id does not match the key",
                              "'%s', the key's id is %s", key_hex, fw_key_id_hex(key));
        goto out;
    }
    error = fw_key_verify(key, hdr->digest, &sig, err);
    if (error) {
        goto out;
    }
    error = fw_image_signature_add(data, len, &sig, outp, outlenp, err);
    if (!error && sig_out) {
        *sig_out = sig;
    }

out:
    fw_key_destroy(key);
    free(hdr);
    return error;
}
