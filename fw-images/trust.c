/* ovnic firmware images: the trust store and image verification (see trust.h). */
#include "fw-images/trust.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw-images/file.h"
#include "shared/util/json.h"
#include "shared/util/log.h"

OVNIC_LOG_MODULE(fw_trust);

#define OBJ "trust-store"

/* json_get_int_range() says -ERANGE; a bad member is -EINVAL here. */
static int
range_to_inval(int error, struct ovnic_err *err)
{
    if (error == -ERANGE) {
        if (err) {
            err->code = -EINVAL;
        }
        return -EINVAL;
    }
    return error;
}

struct fw_trust_key {
    struct fw_key *key; /* Public half. */
    char name[FW_TRUST_NAME_MAX + 1];
};

struct fw_trust_revoked {
    uint8_t key_id[FW_KEY_ID_SIZE];
    char reason[FW_TRUST_REASON_MAX + 1];
};

struct fw_trust {
    unsigned int threshold;
    size_t n_keys;
    struct fw_trust_key keys[FW_TRUST_MAX_KEYS];
    size_t n_revoked;
    struct fw_trust_revoked revoked[FW_TRUST_MAX_REVOKED];
};

static bool
is_printable(const char *s, size_t max, bool allow_empty)
{
    size_t n = strlen(s);

    if ((!n && !allow_empty) || n > max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

int
fw_trust_create(unsigned int threshold, struct fw_trust **trustp, struct ovnic_err *err)
{
    struct fw_trust *t;

    if (!threshold || threshold > FW_TRUST_MAX_KEYS) {
        return ovnic_err_set(err, -EINVAL, OBJ, "bad threshold", "%u: 1 to %d", threshold,
                             FW_TRUST_MAX_KEYS);
    }
    t = calloc(1, sizeof *t);
    if (!t) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    t->threshold = threshold;
    *trustp = t;
    return 0;
}

void
fw_trust_destroy(struct fw_trust *t)
{
    if (!t) {
        return;
    }
    for (size_t i = 0; i < t->n_keys; i++) {
        fw_key_destroy(t->keys[i].key);
    }
    free(t);
}

static const struct fw_trust_key *
find_key(const struct fw_trust *t, const uint8_t id[FW_KEY_ID_SIZE])
{
    for (size_t i = 0; i < t->n_keys; i++) {
        if (!memcmp(fw_key_id(t->keys[i].key), id, FW_KEY_ID_SIZE)) {
            return &t->keys[i];
        }
    }
    return NULL;
}

static const struct fw_trust_revoked *
find_revoked(const struct fw_trust *t, const uint8_t id[FW_KEY_ID_SIZE])
{
    for (size_t i = 0; i < t->n_revoked; i++) {
        if (!memcmp(t->revoked[i].key_id, id, FW_KEY_ID_SIZE)) {
            return &t->revoked[i];
        }
    }
    return NULL;
}

/* Adds 'key' (takes ownership). */
static int
key_add_take(struct fw_trust *t, struct fw_key *key, const char *name,
             struct ovnic_err *err)
{
    if (!is_printable(name, FW_TRUST_NAME_MAX, false)) {
        fw_key_destroy(key);
        return ovnic_err_set(err, -EINVAL, OBJ, "bad key name",
                             "1 to %d printable characters", FW_TRUST_NAME_MAX);
    }
    if (find_key(t, fw_key_id(key))) {
        int error = ovnic_err_set(err, -EEXIST, OBJ, "key already in the store", "%s",
                                  fw_key_id_hex(key));
        fw_key_destroy(key);
        return error;
    }
    if (t->n_keys >= FW_TRUST_MAX_KEYS) {
        fw_key_destroy(key);
        return ovnic_err_set(err, -E2BIG, OBJ, "too many keys", "at most %d",
                             FW_TRUST_MAX_KEYS);
    }
    t->keys[t->n_keys].key = key;
    snprintf(t->keys[t->n_keys].name, sizeof t->keys[t->n_keys].name, "%s", name);
    t->n_keys++;
    return 0;
}

int
fw_trust_key_add(struct fw_trust *t, const struct fw_key *key, const char *name,
                 struct ovnic_err *err)
{
    struct fw_key *copy;
    char *pem;
    int error;

    error = fw_key_public_pem(key, &pem, err);
    if (error) {
        return error;
    }
    error = fw_key_from_public_pem(pem, &copy, err);
    free(pem);
    return error ? error : key_add_take(t, copy, name, err);
}

int
fw_trust_revoke(struct fw_trust *t, const uint8_t key_id[FW_KEY_ID_SIZE],
                const char *reason, struct ovnic_err *err)
{
    char hex[FW_KEY_ID_HEX_SIZE];

    if (reason && !is_printable(reason, FW_TRUST_REASON_MAX, true)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "bad revocation reason",
                             "at most %d printable characters", FW_TRUST_REASON_MAX);
    }
    if (find_revoked(t, key_id)) {
        return ovnic_err_set(err, -EEXIST, OBJ, "key already revoked", "%s",
                             fw_hex_format(key_id, FW_KEY_ID_SIZE, hex));
    }
    if (t->n_revoked >= FW_TRUST_MAX_REVOKED) {
        return ovnic_err_set(err, -E2BIG, OBJ, "too many revoked keys", "at most %d",
                             FW_TRUST_MAX_REVOKED);
    }
    memcpy(t->revoked[t->n_revoked].key_id, key_id, FW_KEY_ID_SIZE);
    snprintf(t->revoked[t->n_revoked].reason, sizeof t->revoked[t->n_revoked].reason,
             "%s", reason ? reason : "");
    t->n_revoked++;
    return 0;
}

int
fw_trust_threshold_set(struct fw_trust *t, unsigned int threshold, struct ovnic_err *err)
{
    if (!threshold || threshold > FW_TRUST_MAX_KEYS) {
        return ovnic_err_set(err, -EINVAL, OBJ, "bad threshold", "%u: 1 to %d", threshold,
                             FW_TRUST_MAX_KEYS);
    }
    t->threshold = threshold;
    return 0;
}

unsigned int
fw_trust_threshold(const struct fw_trust *t)
{
    return t->threshold;
}

size_t
fw_trust_n_keys(const struct fw_trust *t)
{
    return t->n_keys;
}

static int
parse_key(const json_t *j, size_t i, struct fw_trust *t, struct ovnic_err *err)
{
    static const char *const members[] = {"key_id", "name", "algorithm", "public_key",
                                          NULL};
    const char *id, *name, *alg_name, *pem;
    uint8_t id_bin[FW_KEY_ID_SIZE];
    struct fw_key *key;
    char where[32];
    uint16_t alg;
    int error;

    snprintf(where, sizeof where, "keys[%zu]", i);
    if (!json_is_object(j)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "key is not an object", "%s", where);
    }
    error = json_check_members(j, members, OBJ, where, err);
    if (!error) {
        error = json_get_string(j, "key_id", &id, err);
    }
    if (!error) {
        error = json_get_string(j, "name", &name, err);
    }
    if (!error) {
        error = json_get_string(j, "algorithm", &alg_name, err);
    }
    if (!error) {
        error = json_get_string(j, "public_key", &pem, err);
    }
    if (error) {
        return error;
    }
    if (fw_hex_parse(id, id_bin, sizeof id_bin)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "bad key id",
                             "%s: '%s' is not %d hex digits", where, id,
                             2 * FW_KEY_ID_SIZE);
    }
    if (fw_sig_alg_parse(alg_name, &alg)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "unknown algorithm",
                             "%s: '%s' (ed25519 or ecdsa-p256)", where, alg_name);
    }
    error = fw_key_from_public_pem(pem, &key, err);
    if (error) {
        return error;
    }
    if (fw_key_alg(key) != alg) {
        error = ovnic_err_set(err, -EINVAL, OBJ, "algorithm does not match the key",
                              "%s: '%s' for a %s key", where, alg_name,
                              fw_sig_alg_name(fw_key_alg(key)));
        fw_key_destroy(key);
        return error;
    }
    if (memcmp(fw_key_id(key), id_bin, FW_KEY_ID_SIZE)) {
        error =
            ovnic_err_set(err, -EINVAL, OBJ, "key id does not match the key",
                          "%s: '%s', the key's id is %s", where, id, fw_key_id_hex(key));
        fw_key_destroy(key);
        return error;
    }
    if (find_key(t, id_bin)) {
        fw_key_destroy(key);
        return ovnic_err_set(err, -EINVAL, OBJ, "duplicate key", "%s: %s", where, id);
    }
    return key_add_take(t, key, name, err);
}

static int
parse_revoked(const json_t *j, size_t i, struct fw_trust *t, struct ovnic_err *err)
{
    static const char *const members[] = {"key_id", "reason", NULL};
    uint8_t id_bin[FW_KEY_ID_SIZE];
    const char *id, *reason = NULL;
    char where[32];
    int error;

    snprintf(where, sizeof where, "revoked[%zu]", i);
    if (!json_is_object(j)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "revocation is not an object", "%s",
                             where);
    }
    error = json_check_members(j, members, OBJ, where, err);
    if (!error) {
        error = json_get_string(j, "key_id", &id, err);
    }
    if (!error) {
        error = json_get_string_opt(j, "reason", &reason, err);
    }
    if (error) {
        return error;
    }
    if (fw_hex_parse(id, id_bin, sizeof id_bin)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "bad key id",
                             "%s: '%s' is not %d hex digits", where, id,
                             2 * FW_KEY_ID_SIZE);
    }
    if (find_revoked(t, id_bin)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "duplicate revocation", "%s: %s", where,
                             id);
    }
    return fw_trust_revoke(t, id_bin, reason, err);
}

int
fw_trust_from_json(const json_t *json, struct fw_trust **trustp, struct ovnic_err *err)
{
    static const char *const members[] = {"format", "threshold", "keys", "revoked", NULL};
    const json_t *keys, *revoked = NULL;
    struct fw_trust *t = NULL;
    const char *format;
    int64_t threshold;
    int error;

    if (!json_is_object(json)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "not a JSON object", NULL);
    }
    error = json_check_members(json, members, OBJ, "the trust store", err);
    if (!error) {
        error = json_get_string(json, "format", &format, err);
    }
    if (!error && strcmp(format, FW_TRUST_FORMAT)) {
        error = ovnic_err_set(err, -EINVAL, OBJ, "unknown format", "'%s', expected '%s'",
                              format, FW_TRUST_FORMAT);
    }
    if (!error) {
        error =
            json_get_int_range(json, "threshold", 1, FW_TRUST_MAX_KEYS, &threshold, err);
    }
    if (!error) {
        error = json_get_array(json, "keys", &keys, err);
    }
    if (!error) {
        error = json_get_array_opt(json, "revoked", &revoked, err);
    }
    if (!error) {
        error = fw_trust_create((unsigned int)threshold, &t, err);
    }
    if (error) {
        return range_to_inval(error, err);
    }
    if (json_array_size(keys) > FW_TRUST_MAX_KEYS) {
        error = ovnic_err_set(err, -EINVAL, OBJ, "too many keys", "%zu, at most %d",
                              json_array_size(keys), FW_TRUST_MAX_KEYS);
        goto err_free;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        error = parse_key(json_array_get(keys, i), i, t, err);
        if (error) {
            goto err_free;
        }
    }
    for (size_t i = 0; revoked && i < json_array_size(revoked); i++) {
        error = parse_revoked(json_array_get(revoked, i), i, t, err);
        if (error) {
            goto err_free;
        }
    }
    *trustp = t;
    return 0;

err_free:
    fw_trust_destroy(t);
    return error;
}

int
fw_trust_load(const char *path, struct fw_trust **trustp, struct ovnic_err *err)
{
    json_t *json;
    uint8_t *data;
    size_t len;
    int error;

    error = fw_file_read(path, FW_TRUST_MAX_FILE_SIZE, &data, &len, err);
    if (error) {
        return error;
    }
    error = json_from_buffer((const char *)data, len, &json, err);
    free(data);
    if (error) {
        return error;
    }
    error = fw_trust_from_json(json, trustp, err);
    json_decref(json);
    if (error && err && strlen(path) < sizeof err->object) {
        /* Name the file in the message. */
        snprintf(err->object, sizeof err->object, "%s", path);
    }
    return error;
}

json_t *
fw_trust_to_json(const struct fw_trust *t)
{
    json_t *keys = json_array();
    json_t *revoked = json_array();
    char hex[FW_KEY_ID_HEX_SIZE];

    if (!keys || !revoked) {
        goto err;
    }
    for (size_t i = 0; i < t->n_keys; i++) {
        const struct fw_key *key = t->keys[i].key;
        char *pem;

        if (fw_key_public_pem(key, &pem, NULL)) {
            goto err;
        }
        json_array_append_new(
            keys, json_pack("{s:s, s:s, s:s, s:s}", "key_id", fw_key_id_hex(key), "name",
                            t->keys[i].name, "algorithm",
                            fw_sig_alg_name(fw_key_alg(key)), "public_key", pem));
        free(pem);
    }
    for (size_t i = 0; i < t->n_revoked; i++) {
        json_array_append_new(
            revoked, json_pack("{s:s, s:s}", "key_id",
                               fw_hex_format(t->revoked[i].key_id, FW_KEY_ID_SIZE, hex),
                               "reason", t->revoked[i].reason));
    }
    return json_pack("{s:s, s:I, s:o, s:o}", "format", FW_TRUST_FORMAT, "threshold",
                     (json_int_t)t->threshold, "keys", keys, "revoked", revoked);

err:
    json_decref(keys);
    json_decref(revoked);
    return NULL;
}

int
fw_trust_save(const struct fw_trust *t, const char *path, struct ovnic_err *err)
{
    json_t *json = fw_trust_to_json(t);
    char *text;
    int error;

    if (!json) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    text = json_dumps(json, JSON_INDENT(2));
    json_decref(json);
    if (!text) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    size_t len = strlen(text);
    char *withnl = realloc(text, len + 2);
    if (!withnl) {
        free(text);
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    withnl[len] = '\n';
    withnl[len + 1] = '\0';
    error = fw_file_write(path, withnl, len + 1, 0644, err);
    free(withnl);
    return error;
}

const char *
fw_sig_verdict_name(enum fw_sig_verdict v)
{
    switch (v) {
    case FW_SIG_TRUSTED:
        return "trusted";
    case FW_SIG_UNKNOWN_KEY:
        return "unknown-key";
    case FW_SIG_REVOKED:
        return "revoked";
    case FW_SIG_BAD:
        return "bad-signature";
    case FW_SIG_DUPLICATE:
        return "duplicate";
    }
    return "?";
}

static void
check_signature(const struct fw_trust *t, const struct fw_image *image, size_t i,
                struct fw_verify_result *r)
{
    const struct fw_signature *sig = &image->signatures[i];
    struct fw_sig_check *c = &r->sigs[i];
    const struct fw_trust_revoked *rev;
    const struct fw_trust_key *tk;
    struct ovnic_err kerr = {0};

    memcpy(c->key_id, sig->key_id, FW_KEY_ID_SIZE);
    c->alg = sig->alg;
    tk = find_key(t, sig->key_id);
    if (tk) {
        snprintf(c->key_name, sizeof c->key_name, "%s", tk->name);
    }
    rev = find_revoked(t, sig->key_id);
    if (rev) {
        c->verdict = FW_SIG_REVOKED;
        snprintf(c->reason, sizeof c->reason, "key revoked%s%s",
                 rev->reason[0] ? ": " : "", rev->reason);
        return;
    }
    if (!tk) {
        c->verdict = FW_SIG_UNKNOWN_KEY;
        snprintf(c->reason, sizeof c->reason, "key not in the trust store");
        return;
    }
    for (size_t j = 0; j < i; j++) {
        if (r->sigs[j].verdict == FW_SIG_TRUSTED &&
            !memcmp(r->sigs[j].key_id, sig->key_id, FW_KEY_ID_SIZE)) {
            c->verdict = FW_SIG_DUPLICATE;
            snprintf(c->reason, sizeof c->reason, "this key signed already");
            return;
        }
    }
    if (fw_key_verify(tk->key, image->hdr.digest, sig, &kerr)) {
        c->verdict = FW_SIG_BAD;
        snprintf(c->reason, sizeof c->reason, "%s", kerr.message);
        return;
    }
    c->verdict = FW_SIG_TRUSTED;
    r->n_trusted++;
}

/* Appends "KEYID: reason" of every refused signature to 'buf'. */
static void
format_refusals(const struct fw_verify_result *r, char *buf, size_t size)
{
    size_t n = strlen(buf);

    for (size_t i = 0; i < r->n_sigs && n < size; i++) {
        char hex[FW_KEY_ID_HEX_SIZE];

        if (r->sigs[i].verdict == FW_SIG_TRUSTED) {
            continue;
        }
        n += (size_t)snprintf(buf + n, size - n, "; %s: %s",
                              fw_hex_format(r->sigs[i].key_id, FW_KEY_ID_SIZE, hex),
                              r->sigs[i].reason);
    }
}

int
fw_trust_verify(const struct fw_trust *t, const struct fw_image *image,
                const struct fw_verify_policy *policy, struct fw_verify_result *r,
                struct ovnic_err *err)
{
    const struct fw_image_header *h = &image->hdr;
    int error = 0;

    memset(r, 0, sizeof *r);
    r->threshold = t->threshold;
    r->n_sigs = image->n_signatures;
    for (size_t i = 0; i < image->n_signatures; i++) {
        check_signature(t, image, i, r);
    }
    r->signatures_ok = r->n_trusted >= r->threshold;
    r->device_ok = true;
    if (policy && policy->device) {
        r->device_ok = false;
        for (size_t i = 0; i < h->n_families; i++) {
            if (!strcmp(h->families[i], policy->device)) {
                r->device_ok = true;
            }
        }
    }
    r->security_ok = !policy || !policy->check_security ||
                     h->security_version >= policy->min_security_version;

    if (!r->signatures_ok) {
        char detail[OVNIC_ERR_DETAIL_LEN];

        snprintf(detail, sizeof detail, "%u of the %u required%s", r->n_trusted,
                 r->threshold, image->n_signatures ? "" : "; the image is not signed");
        format_refusals(r, detail, sizeof detail);
        error = ovnic_err_set(err, -EKEYREJECTED, "fw-image",
                              "not enough trusted signatures", "%s", detail);
    } else if (!r->device_ok) {
        char list[OVNIC_ERR_DETAIL_LEN] = "";
        size_t n = 0;

        for (size_t i = 0; i < h->n_families && n < sizeof list; i++) {
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "",
                                  h->families[i]);
        }
        error = ovnic_err_set(
            err, -ENODEV, "fw-image", "image not compatible with the device",
            "device family '%s'; the image is for %s", policy->device, list);
    } else if (!r->security_ok) {
        error =
            ovnic_err_set(err, -EPERM, "fw-image", "downgrade below the security version",
                          "image security version %" PRIu32 ", minimum %" PRIu32,
                          h->security_version, policy->min_security_version);
    }
    return error;
}

json_t *
fw_verify_result_to_json(const struct fw_verify_result *r)
{
    json_t *sigs = json_array();

    if (!sigs) {
        return NULL;
    }
    for (size_t i = 0; i < r->n_sigs; i++) {
        const struct fw_sig_check *c = &r->sigs[i];
        char hex[FW_KEY_ID_HEX_SIZE];

        json_array_append_new(
            sigs, json_pack("{s:s, s:s, s:s, s:s, s:s}", "key_id",
                            fw_hex_format(c->key_id, FW_KEY_ID_SIZE, hex), "name",
                            c->key_name, "algorithm", fw_sig_alg_name(c->alg), "result",
                            fw_sig_verdict_name(c->verdict), "reason", c->reason));
    }
    return json_pack("{s:I, s:I, s:o, s:b, s:b, s:b}", "threshold",
                     (json_int_t)r->threshold, "trusted", (json_int_t)r->n_trusted,
                     "signatures", sigs, "signatures_ok", r->signatures_ok, "device_ok",
                     r->device_ok, "security_ok", r->security_ok);
}

int
fw_image_check(const void *data, size_t len, const struct fw_trust *trust,
               const struct fw_verify_policy *policy, struct fw_image *image_out,
               struct fw_verify_result *result_out, struct ovnic_err *err)
{
    struct fw_verify_result *result = malloc(sizeof *result);
    struct fw_image *image = malloc(sizeof *image);
    int error;

    if (!image || !result) {
        free(image);
        free(result);
        return ovnic_err_set(err, -ENOMEM, "fw-image", "out of memory", NULL);
    }
    error = fw_image_parse(data, len, image, err);
    if (!error) {
        error = fw_trust_verify(trust, image, policy, result, err);
        if (image_out) {
            *image_out = *image;
        }
        if (result_out) {
            *result_out = *result;
        }
    }
    free(image);
    free(result);
    return error;
}
