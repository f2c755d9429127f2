/* Unit tests of signing keys and the trust store: sign and verify with Ed25519 and
 * ECDSA P-256, k of n thresholds, revoked, unknown and duplicate signers, bad
 * signatures, device compatibility, anti-rollback, and the trust store file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fw-images/file.h"
#include "fw-images/image.h"
#include "fw-images/key.h"
#include "fw-images/trust.h"
#include "fw_test.h"
#include "shared/util/json.h"

struct ctx {
    char dir[64];
    struct fw_key *ed[2];    /* Ed25519 keys. */
    struct fw_key *ec[2];    /* ECDSA P-256 keys. */
    struct fw_key *stranger; /* In no trust store. */
    uint8_t *img;            /* Unsigned. */
    size_t len;
};

static int
setup(void **state)
{
    struct ctx *ctx = calloc(1, sizeof *ctx);

    snprintf(ctx->dir, sizeof ctx->dir, "/tmp/fw-trust-XXXXXX");
    assert_non_null(mkdtemp(ctx->dir));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(fw_key_generate(FW_SIG_ALG_ED25519, &ctx->ed[i], NULL), 0);
        assert_int_equal(fw_key_generate(FW_SIG_ALG_ECDSA_P256, &ctx->ec[i], NULL), 0);
    }
    assert_int_equal(fw_key_generate(FW_SIG_ALG_ED25519, &ctx->stranger, NULL), 0);
    assert_int_equal(t_build(500, 0x5a, 4, &ctx->img, &ctx->len), 0);
    *state = ctx;
    return 0;
}

static int
teardown(void **state)
{
    struct ctx *ctx = *state;
    char cmd[128];

    for (int i = 0; i < 2; i++) {
        fw_key_destroy(ctx->ed[i]);
        fw_key_destroy(ctx->ec[i]);
    }
    fw_key_destroy(ctx->stranger);
    free(ctx->img);
    snprintf(cmd, sizeof cmd, "rm -rf %s", ctx->dir);
    assert_int_equal(system(cmd), 0);
    free(ctx);
    return 0;
}

/* Signs 'img' with each of the 'n' keys in turn (local signing). */
static void
sign_with(uint8_t **img, size_t *len, struct fw_key **keys, size_t n)
{
    struct fw_image_header *hdr = malloc(sizeof *hdr);

    assert_int_equal(fw_image_header_parse(*img, *len, hdr, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        struct fw_signature sig;
        uint8_t *out;
        size_t outlen;

        assert_int_equal(fw_key_sign(keys[i], hdr->digest, &sig, NULL), 0);
        assert_int_equal(sig.alg, fw_key_alg(keys[i]));
        assert_memory_equal(sig.key_id, fw_key_id(keys[i]), FW_KEY_ID_SIZE);
        assert_int_equal(fw_image_signature_add(*img, *len, &sig, &out, &outlen, NULL),
                         0);
        free(*img);
        *img = out;
        *len = outlen;
    }
    free(hdr);
}

static uint8_t *
copy_image(const struct ctx *ctx, size_t *len)
{
    uint8_t *img = malloc(ctx->len);

    memcpy(img, ctx->img, ctx->len);
    *len = ctx->len;
    return img;
}

static struct fw_trust *
store(unsigned int k, struct fw_key **keys, size_t n)
{
    struct fw_trust *t;

    assert_int_equal(fw_trust_create(k, &t, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        char name[32];

        snprintf(name, sizeof name, "key-%zu", i);
        assert_int_equal(fw_trust_key_add(t, keys[i], name, NULL), 0);
    }
    return t;
}

/* fw_image_check() of 'img' must give 'code', and 'message' (if not NULL). */
static struct fw_verify_result *
check(const uint8_t *img, size_t len, const struct fw_trust *t,
      const struct fw_verify_policy *policy, int code, const char *message)
{
    struct fw_verify_result *r = calloc(1, sizeof *r);
    struct ovnic_err err = {0};
    char buf[512];
    int rc;

    rc = fw_image_check(img, len, t, policy, NULL, r, &err);
    if (rc != code || (message && (!err.message || strcmp(err.message, message)))) {
        print_error("expected %d '%s', got %d: %s\n", code, message ? message : "", rc,
                    ovnic_err_format(&err, buf, sizeof buf));
        fail();
    }
    return r;
}

static void
test_keys(void **state)
{
    struct ctx *ctx = *state;
    char priv[256], pub[512];
    struct fw_key *k;
    char *pem;

    for (int i = 0; i < 2; i++) {
        struct fw_key *orig = i ? ctx->ec[0] : ctx->ed[0];

        snprintf(priv, sizeof priv, "%s/key%d.pem", ctx->dir, i);
        snprintf(pub, sizeof pub, "%s/key%d.pub", ctx->dir, i);
        assert_int_equal(fw_key_save_private(orig, priv, NULL), 0);
        assert_int_equal(fw_key_save_public(orig, pub, NULL), 0);
        struct stat st;
        assert_int_equal(stat(priv, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        assert_int_equal(fw_key_load_private(priv, &k, NULL), 0);
        assert_true(fw_key_has_private(k));
        assert_string_equal(fw_key_id_hex(k), fw_key_id_hex(orig));
        assert_int_equal(fw_key_alg(k), i ? FW_SIG_ALG_ECDSA_P256 : FW_SIG_ALG_ED25519);
        fw_key_destroy(k);

        assert_int_equal(fw_key_load_public(pub, &k, NULL), 0);
        assert_false(fw_key_has_private(k));
        assert_string_equal(fw_key_id_hex(k), fw_key_id_hex(orig));
        assert_int_equal(fw_key_public_pem(k, &pem, NULL), 0);
        assert_non_null(strstr(pem, "BEGIN PUBLIC KEY"));
        free(pem);

        /* A public key cannot sign. */
        uint8_t digest[FW_IMAGE_DIGEST_SIZE] = {0};
        struct fw_signature sig;
        assert_int_equal(fw_key_sign(k, digest, &sig, NULL), -EINVAL);
        assert_int_equal(fw_key_save_private(k, priv, NULL), -EINVAL);
        fw_key_destroy(k);
    }
    assert_string_not_equal(fw_key_id_hex(ctx->ed[0]), fw_key_id_hex(ctx->ed[1]));
    assert_int_equal(strlen(fw_key_id_hex(ctx->ed[0])), 32);

    /* Not a key; an RSA key; a missing file. */
    struct ovnic_err err = {0};
    snprintf(priv, sizeof priv, "%s/junk.pem", ctx->dir);
    assert_int_equal(fw_file_write(priv, "junk", 4, 0600, NULL), 0);
    assert_int_equal(fw_key_load_private(priv, &k, &err), -EINVAL);
    assert_int_equal(fw_key_load_public(priv, &k, NULL), -EINVAL);
    snprintf(pub, sizeof pub,
             "openssl genpkey -algorithm RSA -out %s/rsa.pem "
             "-pkeyopt rsa_keygen_bits:1024 2>/dev/null",
             ctx->dir);
    if (system(pub) == 0) {
        snprintf(priv, sizeof priv, "%s/rsa.pem", ctx->dir);
        ovnic_err_clear(&err);
        assert_int_equal(fw_key_load_private(priv, &k, &err), -EINVAL);
        assert_string_equal(err.message, "unsupported key type");
    }
    snprintf(priv, sizeof priv, "%s/none.pem", ctx->dir);
    assert_int_equal(fw_key_load_private(priv, &k, NULL), -ENOENT);
    assert_int_equal(fw_key_generate(99, &k, NULL), -EINVAL);
}

static void
test_sign_verify_both_types(void **state)
{
    struct ctx *ctx = *state;

    for (int i = 0; i < 2; i++) {
        struct fw_key *key = i ? ctx->ec[0] : ctx->ed[0];
        struct fw_trust *t = store(1, &key, 1);
        struct fw_verify_result *r;
        size_t len;
        uint8_t *img = copy_image(ctx, &len);

        /* Unsigned: refused. */
        free(check(img, len, t, NULL, -EKEYREJECTED, "not enough trusted signatures"));
        sign_with(&img, &len, &key, 1);
        r = check(img, len, t, NULL, 0, NULL);
        assert_int_equal(r->n_sigs, 1);
        assert_int_equal(r->n_trusted, 1);
        assert_int_equal(r->sigs[0].verdict, FW_SIG_TRUSTED);
        assert_string_equal(r->sigs[0].key_name, "key-0");
        assert_true(r->signatures_ok && r->device_ok && r->security_ok);
        free(r);

        /* Any flipped signature byte: refused as a bad signature. */
        struct fw_image *image = malloc(sizeof *image);
        assert_int_equal(fw_image_parse(img, len, image, NULL), 0);
        size_t sig_at = image->hdr.payload_end + FW_SIG_BLOCK_HEADER_SIZE + 24;
        for (size_t b = 0; b < FW_SIG_LEN; b += 7) {
            img[sig_at + b] ^= 0x04;
            r = check(img, len, t, NULL, -EKEYREJECTED, "not enough trusted signatures");
            assert_int_equal(r->sigs[0].verdict, FW_SIG_BAD);
            free(r);
            img[sig_at + b] ^= 0x04;
        }
        free(image);

        /* The signed image with another section payload: refused before the
         * signatures are even looked at. */
        img[600] ^= 1;
        free(check(img, len, t, NULL, -EBADMSG, "section digest mismatch"));
        img[600] ^= 1;
        free(check(img, len, t, NULL, 0, NULL));
        fw_trust_destroy(t);
        free(img);
    }
}

static void
test_wrongly_signed(void **state)
{
    struct ctx *ctx = *state;
    struct fw_trust *t = store(1, ctx->ed, 1);
    struct fw_image_header *hdr = malloc(sizeof *hdr);
    struct fw_verify_result *r;
    struct fw_signature sig;
    uint8_t *img, *out;
    size_t len, outlen;

    /* A signature by the stranger, passed off under the trusted key's id. */
    img = copy_image(ctx, &len);
    assert_int_equal(fw_image_header_parse(img, len, hdr, NULL), 0);
    assert_int_equal(fw_key_sign(ctx->stranger, hdr->digest, &sig, NULL), 0);
    memcpy(sig.key_id, fw_key_id(ctx->ed[0]), FW_KEY_ID_SIZE);
    assert_int_equal(fw_image_signature_add(img, len, &sig, &out, &outlen, NULL), 0);
    r = check(out, outlen, t, NULL, -EKEYREJECTED, "not enough trusted signatures");
    assert_int_equal(r->sigs[0].verdict, FW_SIG_BAD);
    assert_string_equal(r->sigs[0].reason, "bad signature");
    free(r);
    free(out);

    /* The trusted key's signature of another image. */
    uint8_t other[FW_IMAGE_DIGEST_SIZE];
    memcpy(other, hdr->digest, sizeof other);
    other[0] ^= 1;
    assert_int_equal(fw_key_sign(ctx->ed[0], other, &sig, NULL), 0);
    assert_int_equal(fw_image_signature_add(img, len, &sig, &out, &outlen, NULL), 0);
    r = check(out, outlen, t, NULL, -EKEYREJECTED, NULL);
    assert_int_equal(r->sigs[0].verdict, FW_SIG_BAD);
    free(r);
    free(out);

    /* An Ed25519 key id on an ECDSA signature. */
    assert_int_equal(fw_key_sign(ctx->ed[0], hdr->digest, &sig, NULL), 0);
    sig.alg = FW_SIG_ALG_ECDSA_P256;
    assert_int_equal(fw_image_signature_add(img, len, &sig, &out, &outlen, NULL), 0);
    r = check(out, outlen, t, NULL, -EKEYREJECTED, NULL);
    assert_int_equal(r->sigs[0].verdict, FW_SIG_BAD);
    assert_string_equal(r->sigs[0].reason, "signature algorithm does not match the key");
    free(r);
    free(out);

    /* Signed by an untrusted key. */
    sign_with(&img, &len, &ctx->stranger, 1);
    r = check(img, len, t, NULL, -EKEYREJECTED, "not enough trusted signatures");
    assert_int_equal(r->sigs[0].verdict, FW_SIG_UNKNOWN_KEY);
    assert_string_equal(r->sigs[0].reason, "key not in the trust store");
    assert_string_equal(r->sigs[0].key_name, "");
    free(r);
    free(img);
    free(hdr);
    fw_trust_destroy(t);
}

static void
test_threshold_k_of_n(void **state)
{
    struct ctx *ctx = *state;
    struct fw_key *all[4] = {ctx->ed[0], ctx->ec[0], ctx->ed[1], ctx->ec[1]};
    struct fw_trust *t = store(3, all, 4);
    struct fw_verify_result *r;
    struct ovnic_err err = {0};
    size_t len;
    uint8_t *img = copy_image(ctx, &len);

    /* One and two of three: refused, with the count in the message. */
    sign_with(&img, &len, &all[0], 1);
    free(check(img, len, t, NULL, -EKEYREJECTED, NULL));
    sign_with(&img, &len, &all[1], 1);
    assert_int_equal(fw_image_check(img, len, t, NULL, NULL, NULL, &err), -EKEYREJECTED);
    assert_non_null(strstr(err.detail, "2 of the 3 required"));

    /* The same key twice does not count twice (here, one signature replaced). */
    sign_with(&img, &len, &all[1], 1);
    free(check(img, len, t, NULL, -EKEYREJECTED, NULL));

    /* A hand-made duplicate entry is reported as such. */
    struct fw_image *image = malloc(sizeof *image);
    assert_int_equal(fw_image_parse(img, len, image, NULL), 0);
    image->signatures[2] = image->signatures[1];
    uint8_t *dup;
    size_t dup_len;
    assert_int_equal(
        fw_image_signatures_set(img, len, image->signatures, 3, &dup, &dup_len, NULL), 0);
    r = check(dup, dup_len, t, NULL, -EKEYREJECTED, NULL);
    assert_int_equal(r->sigs[2].verdict, FW_SIG_DUPLICATE);
    assert_int_equal(r->n_trusted, 2);
    free(r);
    free(dup);
    free(image);

    /* A stranger's signature does not make up the count. */
    sign_with(&img, &len, &ctx->stranger, 1);
    free(check(img, len, t, NULL, -EKEYREJECTED, NULL));

    /* Three distinct trusted keys, both types mixed: valid. */
    sign_with(&img, &len, &all[3], 1);
    r = check(img, len, t, NULL, 0, NULL);
    assert_int_equal(r->n_sigs, 4);
    assert_int_equal(r->n_trusted, 3);
    assert_int_equal(r->threshold, 3);
    assert_int_equal(r->sigs[2].verdict, FW_SIG_UNKNOWN_KEY);
    free(r);

    /* Threshold 4 of 4: refused again until the fourth signs. */
    assert_int_equal(fw_trust_threshold_set(t, 4, NULL), 0);
    free(check(img, len, t, NULL, -EKEYREJECTED, NULL));
    sign_with(&img, &len, &all[2], 1);
    free(check(img, len, t, NULL, 0, NULL));
    assert_int_equal(fw_trust_threshold_set(t, 0, NULL), -EINVAL);
    free(img);
    fw_trust_destroy(t);
}

static void
test_revocation(void **state)
{
    struct ctx *ctx = *state;
    struct fw_key *two[2] = {ctx->ed[0], ctx->ec[0]};
    struct fw_trust *t = store(2, two, 2);
    struct fw_verify_result *r;
    struct ovnic_err err = {0};
    size_t len;
    uint8_t *img = copy_image(ctx, &len);

    sign_with(&img, &len, two, 2);
    free(check(img, len, t, NULL, 0, NULL));
    assert_int_equal(fw_trust_revoke(t, fw_key_id(ctx->ec[0]), "key leaked", NULL), 0);
    assert_int_equal(fw_image_check(img, len, t, NULL, NULL, NULL, &err), -EKEYREJECTED);
    assert_non_null(strstr(err.detail, fw_key_id_hex(ctx->ec[0])));
    assert_non_null(strstr(err.detail, "key revoked: key leaked"));
    r = check(img, len, t, NULL, -EKEYREJECTED, NULL);
    assert_int_equal(r->sigs[0].verdict, FW_SIG_TRUSTED);
    assert_int_equal(r->sigs[1].verdict, FW_SIG_REVOKED);
    assert_string_equal(r->sigs[1].key_name, "key-1");
    free(r);
    /* Down to one key: a threshold of 1 passes with the other key only. */
    assert_int_equal(fw_trust_threshold_set(t, 1, NULL), 0);
    free(check(img, len, t, NULL, 0, NULL));
    assert_int_equal(fw_trust_revoke(t, fw_key_id(ctx->ec[0]), NULL, NULL), -EEXIST);
    /* Revoking a key that is not in the store is allowed (and its signatures are
     * reported as revoked rather than unknown). */
    assert_int_equal(fw_trust_revoke(t, fw_key_id(ctx->stranger), "compromised", NULL),
                     0);
    sign_with(&img, &len, &ctx->stranger, 1);
    r = check(img, len, t, NULL, 0, NULL);
    assert_int_equal(r->sigs[2].verdict, FW_SIG_REVOKED);
    free(r);
    free(img);
    fw_trust_destroy(t);
}

static void
test_device_and_security_version(void **state)
{
    struct ctx *ctx = *state;
    struct fw_trust *t = store(1, ctx->ed, 1);
    struct fw_verify_policy policy = {0};
    struct fw_verify_result *r;
    struct ovnic_err err = {0};
    size_t len;
    uint8_t *img = copy_image(ctx, &len);

    sign_with(&img, &len, ctx->ed, 1);
    policy.device = "OVNIC-SIM-BF3";
    free(check(img, len, t, &policy, 0, NULL));
    policy.device = "MT_0000000884";
    r = check(img, len, t, &policy, -ENODEV, "image not compatible with the device");
    assert_false(r->device_ok);
    assert_true(r->signatures_ok);
    free(r);
    assert_int_equal(fw_image_check(img, len, t, &policy, NULL, NULL, &err), -ENODEV);
    assert_non_null(strstr(err.detail, "OVNIC-SIM-BF2, OVNIC-SIM-BF3"));

    /* The image has security version 4. */
    policy.device = NULL;
    policy.check_security = true;
    policy.min_security_version = 4;
    free(check(img, len, t, &policy, 0, NULL));
    policy.min_security_version = 5;
    r = check(img, len, t, &policy, -EPERM, "downgrade below the security version");
    assert_false(r->security_ok);
    free(r);

    /* Signatures are checked first: an unsigned downgrade is reported unsigned. */
    free(check(ctx->img, ctx->len, t, &policy, -EKEYREJECTED, NULL));
    free(img);
    fw_trust_destroy(t);
}

static void
test_trust_store_file(void **state)
{
    struct ctx *ctx = *state;
    struct fw_key *keys[3] = {ctx->ed[0], ctx->ec[0], ctx->ec[1]};
    struct fw_trust *t = store(2, keys, 3), *u;
    struct ovnic_err err = {0};
    char path[128];
    json_t *json;

    snprintf(path, sizeof path, "%s/trust.json", ctx->dir);
    assert_int_equal(fw_trust_revoke(t, fw_key_id(ctx->ec[1]), "retired", NULL), 0);
    assert_int_equal(fw_trust_key_add(t, ctx->ed[0], "again", NULL), -EEXIST);
    assert_int_equal(fw_trust_save(t, path, NULL), 0);
    assert_int_equal(fw_trust_load(path, &u, &err), 0);
    assert_int_equal(fw_trust_threshold(u), 2);
    assert_int_equal(fw_trust_n_keys(u), 3);
    json_t *a = fw_trust_to_json(t), *b = fw_trust_to_json(u);
    assert_true(json_equal(a, b));
    json_decref(b);
    fw_trust_destroy(u);

    /* Each corruption of the file is refused with its reason. */
    struct {
        const char *member; /* Of keys[0], or of the top level if 'top'. */
        bool top;
        json_t *value;
        const char *message;
    } cases[] = {
        {"threshold", true, json_integer(0), "integer out of range"},
        {"format", true, json_string("other"), "unknown format"},
        {"tresholds", true, json_integer(1), "unknown member"},
        {"key_id", false, json_string("00112233445566778899aabbccddeeff"),
         "key id does not match the key"},
        {"key_id", false, json_string("xyz"), "bad key id"},
        {"algorithm", false, json_string("ecdsa-p256"),
         "algorithm does not match the key"},
        {"algorithm", false, json_string("rsa"), "unknown algorithm"},
        {"public_key", false, json_string("not a key"), "no PEM public key"},
        {"extra", false, json_true(), "unknown member"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        json_t *copy = json_deep_copy(a);
        json_t *target =
            cases[i].top ? copy : json_array_get(json_object_get(copy, "keys"), 0);

        json_object_set_new(target, cases[i].member, cases[i].value);
        ovnic_err_clear(&err);
        if (fw_trust_from_json(copy, &u, &err) != -EINVAL || !err.message ||
            !strstr(err.message, cases[i].message)) {
            print_error("case %zu: expected '%s', got '%s'\n", i, cases[i].message,
                        err.message ? err.message : "(success)");
            fail();
        }
        json_decref(copy);
    }

    /* A duplicate key. */
    json = json_deep_copy(a);
    json_array_append(json_object_get(json, "keys"),
                      json_array_get(json_object_get(json, "keys"), 0));
    ovnic_err_clear(&err);
    assert_int_equal(fw_trust_from_json(json, &u, &err), -EINVAL);
    assert_string_equal(err.message, "duplicate key");
    json_decref(json);

    /* Not JSON at all, and a missing file. */
    assert_int_equal(fw_file_write(path, "{\"threshold\": ", 14, 0644, NULL), 0);
    assert_int_equal(fw_trust_load(path, &u, NULL), -EINVAL);
    snprintf(path, sizeof path, "%s/none.json", ctx->dir);
    assert_int_equal(fw_trust_load(path, &u, NULL), -ENOENT);
    json_decref(a);
    fw_trust_destroy(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_sign_verify_both_types),
        cmocka_unit_test(test_wrongly_signed),
        cmocka_unit_test(test_threshold_k_of_n),
        cmocka_unit_test(test_revocation),
        cmocka_unit_test(test_device_and_security_version),
        cmocka_unit_test(test_trust_store_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
