/* Unit tests of external signing: a sign request made from an image, signed where
 * the key is (Ed25519 and ECDSA P-256), attached back, and verified; and the
 * refusals: tampered requests, responses for another image or with a bad
 * signature. */
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
#include "fw-images/key.h"
#include "fw-images/sigreq.h"
#include "fw-images/trust.h"
#include "fw_test.h"

static void
test_external_signing_both_types(void **state OVNIC_UNUSED)
{
    struct fw_key *keys[2];
    struct fw_trust *t;
    uint8_t *img;
    size_t len;

    assert_int_equal(fw_key_generate(FW_SIG_ALG_ED25519, &keys[0], NULL), 0);
    assert_int_equal(fw_key_generate(FW_SIG_ALG_ECDSA_P256, &keys[1], NULL), 0);
    assert_int_equal(fw_trust_create(2, &t, NULL), 0);
    assert_int_equal(fw_trust_key_add(t, keys[0], "hsm-a", NULL), 0);
    assert_int_equal(fw_trust_key_add(t, keys[1], "hsm-b", NULL), 0);
    assert_int_equal(t_build(700, 0x33, 2, &img, &len), 0);

    for (int i = 0; i < 2; i++) {
        struct fw_image_header *hdr = malloc(sizeof *hdr);
        struct fw_signature sig;
        json_t *req, *resp;
        uint8_t *out;
        size_t outlen;

        /* Build host: the request carries the header and the metadata, not the
         * payload. */
        assert_int_equal(fw_sign_request_create(img, len, &req, NULL), 0);
        assert_string_equal(json_string_value(json_object_get(req, "format")),
                            FW_SIGN_REQUEST_FORMAT);
        assert_string_equal(json_string_value(json_object_get(req, "name")),
                            "test-bundle");
        assert_int_equal(strlen(json_string_value(json_object_get(req, "header"))),
                         2 * (128 + 64 + 240 + 32));

        /* Signing machine: only the request and the key. */
        assert_int_equal(fw_sign_request_sign(req, keys[i], hdr, &resp, NULL), 0);
        assert_string_equal(hdr->name, "test-bundle");
        assert_int_equal(hdr->security_version, 2);
        assert_string_equal(json_string_value(json_object_get(resp, "key_id")),
                            fw_key_id_hex(keys[i]));
        assert_string_equal(json_string_value(json_object_get(resp, "algorithm")),
                            i ? "ecdsa-p256" : "ed25519");

        /* Build host again: attach. */
        assert_int_equal(
            fw_sign_response_attach(img, len, resp, &out, &outlen, &sig, NULL), 0);
        assert_memory_equal(sig.key_id, fw_key_id(keys[i]), FW_KEY_ID_SIZE);
        free(img);
        img = out;
        len = outlen;
        json_decref(req);
        json_decref(resp);
        free(hdr);
    }

    /* Both signatures came the external way; the 2-of-2 store accepts them. */
    struct fw_verify_result *r = malloc(sizeof *r);
    assert_int_equal(fw_image_check(img, len, t, NULL, NULL, r, NULL), 0);
    assert_int_equal(r->n_trusted, 2);
    assert_string_equal(r->sigs[0].key_name, "hsm-a");
    assert_string_equal(r->sigs[1].key_name, "hsm-b");
    free(r);
    free(img);
    fw_trust_destroy(t);
    fw_key_destroy(keys[0]);
    fw_key_destroy(keys[1]);
}

static void
test_tampered_requests(void **state OVNIC_UNUSED)
{
    struct ovnic_err err = {0};
    struct fw_key *key;
    json_t *req, *bad, *resp;
    uint8_t *img;
    size_t len;

    assert_int_equal(fw_key_generate(FW_SIG_ALG_ED25519, &key, NULL), 0);
    assert_int_equal(t_build(100, 0x44, 3, &img, &len), 0);
    assert_int_equal(fw_sign_request_create(img, len, &req, NULL), 0);

    /* Metadata that says something else than the header. */
    static const struct {
        const char *member;
        const char *value;
    } lies[] = {
        {"version", "9.9.9"},
        {"name", "other"},
        {"image_digest", "00"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(lies); i++) {
        bad = json_deep_copy(req);
        json_object_set_new(bad, lies[i].member, json_string(lies[i].value));
        ovnic_err_clear(&err);
        assert_int_equal(fw_sign_request_sign(bad, key, NULL, &resp, &err), -EBADMSG);
        assert_string_equal(err.message, "request metadata does not match its header");
        json_decref(bad);
    }
    bad = json_deep_copy(req);
    json_object_set_new(bad, "security_version", json_integer(9));
    assert_int_equal(fw_sign_request_sign(bad, key, NULL, &resp, NULL), -EBADMSG);
    json_decref(bad);

    /* A header changed in transit (one hex digit): its digest no longer matches. */
    bad = json_deep_copy(req);
    char *hex = strdup(json_string_value(json_object_get(bad, "header")));
    hex[300] = hex[300] == '0' ? '1' : '0';
    json_object_set_new(bad, "header", json_string(hex));
    ovnic_err_clear(&err);
    assert_int_equal(fw_sign_request_sign(bad, key, NULL, &resp, &err), -EBADMSG);
    assert_string_equal(err.message, "corrupted header");
    free(hex);
    json_decref(bad);

    /* Unknown members, another format, no header. */
    bad = json_deep_copy(req);
    json_object_set_new(bad, "note", json_string("sign me"));
    assert_int_equal(fw_sign_request_sign(bad, key, NULL, &resp, NULL), -EINVAL);
    json_object_del(bad, "note");
    json_object_set_new(bad, "format", json_string("ovnic-fw-sign-response-v1"));
    assert_int_equal(fw_sign_request_sign(bad, key, NULL, &resp, NULL), -EINVAL);
    json_object_del(bad, "format");
    assert_int_equal(fw_sign_request_sign(bad, key, NULL, &resp, NULL), -EINVAL);
    json_decref(bad);

    /* The header with extra bytes after it. */
    bad = json_deep_copy(req);
    char *longer;
    assert_true(
        asprintf(&longer, "%s00", json_string_value(json_object_get(bad, "header"))) > 0);
    json_object_set_new(bad, "header", json_string(longer));
    assert_int_equal(fw_sign_request_sign(bad, key, NULL, &resp, NULL), -EBADMSG);
    free(longer);
    json_decref(bad);

    /* A public key cannot answer. */
    char *pem;
    struct fw_key *pub;
    assert_int_equal(fw_key_public_pem(key, &pem, NULL), 0);
    assert_int_equal(fw_key_from_public_pem(pem, &pub, NULL), 0);
    assert_int_equal(fw_sign_request_sign(req, pub, NULL, &resp, NULL), -EINVAL);
    fw_key_destroy(pub);
    free(pem);

    json_decref(req);
    free(img);
    fw_key_destroy(key);
}

static void
test_bad_responses(void **state OVNIC_UNUSED)
{
    struct ovnic_err err = {0};
    uint8_t *img, *other, *out;
    size_t len, other_len, outlen;
    struct fw_key *key, *key2;
    json_t *req, *resp, *bad;

    assert_int_equal(fw_key_generate(FW_SIG_ALG_ECDSA_P256, &key, NULL), 0);
    assert_int_equal(fw_key_generate(FW_SIG_ALG_ECDSA_P256, &key2, NULL), 0);
    assert_int_equal(t_build(100, 0x55, 3, &img, &len), 0);
    assert_int_equal(t_build(100, 0x56, 3, &other, &other_len), 0);
    assert_int_equal(fw_sign_request_create(img, len, &req, NULL), 0);
    assert_int_equal(fw_sign_request_sign(req, key, NULL, &resp, NULL), 0);

    /* For another image. */
    assert_int_equal(
        fw_sign_response_attach(other, other_len, resp, &out, &outlen, NULL, &err),
        -ESTALE);
    assert_string_equal(err.message, "response is for another image");

    /* A flipped signature digit. */
    bad = json_deep_copy(resp);
    char *sig = strdup(json_string_value(json_object_get(bad, "signature")));
    sig[10] = sig[10] == 'a' ? 'b' : 'a';
    json_object_set_new(bad, "signature", json_string(sig));
    ovnic_err_clear(&err);
    assert_int_equal(fw_sign_response_attach(img, len, bad, &out, &outlen, NULL, &err),
                     -EKEYREJECTED);
    assert_string_equal(err.message, "bad signature");
    free(sig);
    json_decref(bad);

    /* Another public key substituted (its id no longer matches, then its signature
     * does not verify). */
    char *pem;
    assert_int_equal(fw_key_public_pem(key2, &pem, NULL), 0);
    bad = json_deep_copy(resp);
    json_object_set_new(bad, "public_key", json_string(pem));
    assert_int_equal(fw_sign_response_attach(img, len, bad, &out, &outlen, NULL, NULL),
                     -EINVAL);
    json_object_set_new(bad, "key_id", json_string(fw_key_id_hex(key2)));
    assert_int_equal(fw_sign_response_attach(img, len, bad, &out, &outlen, NULL, NULL),
                     -EKEYREJECTED);
    free(pem);
    json_decref(bad);

    /* Malformed: an extra member, a missing one, not hex. */
    bad = json_deep_copy(resp);
    json_object_set_new(bad, "extra", json_true());
    assert_int_equal(fw_sign_response_attach(img, len, bad, &out, &outlen, NULL, NULL),
                     -EINVAL);
    json_object_del(bad, "extra");
    json_object_set_new(bad, "signature", json_string("zz"));
    assert_int_equal(fw_sign_response_attach(img, len, bad, &out, &outlen, NULL, NULL),
                     -EINVAL);
    json_object_del(bad, "signature");
    assert_int_equal(fw_sign_response_attach(img, len, bad, &out, &outlen, NULL, NULL),
                     -EINVAL);
    json_decref(bad);

    /* The untouched response still attaches. */
    assert_int_equal(fw_sign_response_attach(img, len, resp, &out, &outlen, NULL, NULL),
                     0);
    free(out);
    json_decref(req);
    json_decref(resp);
    free(img);
    free(other);
    fw_key_destroy(key);
    fw_key_destroy(key2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_external_signing_both_types),
        cmocka_unit_test(test_tampered_requests),
        cmocka_unit_test(test_bad_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
