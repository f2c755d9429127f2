/* ovnic firmware images: signing keys (see key.h). */
#include "fw-images/key.h"
#include "fw-images/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define OBJ "fw-key"
#define P256_COORD 32

struct fw_key {
    EVP_PKEY *pkey;
    uint16_t alg;
    bool has_private;
    uint8_t id[FW_KEY_ID_SIZE];
    char id_hex[FW_KEY_ID_HEX_SIZE];
};

static int
ssl_error(struct ovnic_err *err, int code, const char *what)
{
    unsigned long e = ERR_peek_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;

    ERR_clear_error();
    return ovnic_err_set(err, code, OBJ, what, "%s", reason ? reason : "OpenSSL error");
}

static int
no_passphrase(char *buf OVNIC_UNUSED, int size OVNIC_UNUSED, int rw OVNIC_UNUSED,
              void *aux OVNIC_UNUSED)
{
    return -1;
}

/* Wraps 'pkey' (takes ownership) after checking that it is Ed25519 or P-256. */
static int
key_wrap(EVP_PKEY *pkey, bool has_private, struct fw_key **keyp, struct ovnic_err *err)
{
    unsigned char *der = NULL;
    uint8_t digest[FW_IMAGE_DIGEST_SIZE];
    struct fw_key *key;
    uint16_t alg;
    int der_len;

    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        alg = FW_SIG_ALG_ED25519;
    } else if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[64];
        size_t glen = 0;

        if (!EVP_PKEY_get_utf8_string_param(pkey, "group", group, sizeof group, &glen) ||
            (strcmp(group, "prime256v1") && strcmp(group, "P-256"))) {
            EVP_PKEY_free(pkey);
            ERR_clear_error();
            return ovnic_err_set(err, -EINVAL, OBJ, "unsupported key type",
                                 "an EC key on another curve than P-256");
        }
        alg = FW_SIG_ALG_ECDSA_P256;
    } else {
        EVP_PKEY_free(pkey);
        return ovnic_err_set(err, -EINVAL, OBJ, "unsupported key type",
                             "keys are ed25519 or ecdsa-p256");
    }
    der_len = i2d_PUBKEY(pkey, &der);
    if (der_len <= 0) {
        EVP_PKEY_free(pkey);
        return ssl_error(err, -ENOMEM, "cannot encode the public key");
    }
    if (fw_sha256(der, (size_t)der_len, digest)) {
        OPENSSL_free(der);
        EVP_PKEY_free(pkey);
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    OPENSSL_free(der);
    key = calloc(1, sizeof *key);
    if (!key) {
        EVP_PKEY_free(pkey);
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    key->pkey = pkey;
    key->alg = alg;
    key->has_private = has_private;
    memcpy(key->id, digest, FW_KEY_ID_SIZE);
    fw_hex_format(key->id, FW_KEY_ID_SIZE, key->id_hex);
    *keyp = key;
    return 0;
}

int
fw_key_generate(uint16_t alg, struct fw_key **keyp, struct ovnic_err *err)
{
    EVP_PKEY *pkey;

    if (alg == FW_SIG_ALG_ED25519) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    } else if (alg == FW_SIG_ALG_ECDSA_P256) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    } else {
        return ovnic_err_set(err, -EINVAL, OBJ, "unknown key type", "%u", alg);
    }
    if (!pkey) {
        return ssl_error(err, -ENOMEM, "key generation failed");
    }
    return key_wrap(pkey, true, keyp, err);
}

static int
bio_open_file(const char *path, BIO **biop, struct ovnic_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    BIO *bio;

    if (fd < 0) {
        return ovnic_err_set(err, -errno, OBJ, "cannot open key file", "%s", path);
    }
    bio = BIO_new_fd(fd, BIO_CLOSE);
    if (!bio) {
        close(fd);
        return ssl_error(err, -ENOMEM, "cannot open key file");
    }
    *biop = bio;
    return 0;
}

int
fw_key_load_private(const char *path, struct fw_key **keyp, struct ovnic_err *err)
{
    EVP_PKEY *pkey;
    BIO *bio;
    int error;

    error = bio_open_file(path, &bio, err);
    if (error) {
        return error;
    }
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (!pkey) {
        ERR_clear_error();
        return ovnic_err_set(err, -EINVAL, OBJ, "no unencrypted PEM private key in file",
                             "%s", path);
    }
    return key_wrap(pkey, true, keyp, err);
}

static int
public_from_bio(BIO *bio, const char *what, struct fw_key **keyp, struct ovnic_err *err)
{
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);

    if (!pkey) {
        ERR_clear_error();
        return ovnic_err_set(err, -EINVAL, OBJ, "no PEM public key", "%s", what);
    }
    return key_wrap(pkey, false, keyp, err);
}

int
fw_key_from_public_pem(const char *pem, struct fw_key **keyp, struct ovnic_err *err)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    int error;

    if (!bio) {
        return ssl_error(err, -ENOMEM, "out of memory");
    }
    error = public_from_bio(bio, "in the text given", keyp, err);
    BIO_free(bio);
    return error;
}

int
fw_key_load_public(const char *path, struct fw_key **keyp, struct ovnic_err *err)
{
    BIO *bio;
    int error;

    error = bio_open_file(path, &bio, err);
    if (error) {
        return error;
    }
    error = public_from_bio(bio, path, keyp, err);
    BIO_free(bio);
    return error;
}

void
fw_key_destroy(struct fw_key *key)
{
    if (key) {
        EVP_PKEY_free(key->pkey);
        free(key);
    }
}

/* Encodes 'key' as PEM (its private key when 'private', else its public key) into a
 * memory BIO: caller frees it, cleansing its bytes first (free_pem()). */
static int
key_pem(const struct fw_key *key, bool private, BIO **biop, struct ovnic_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());

    if (!bio ||
        !(private ? PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL)
                  : PEM_write_bio_PUBKEY(bio, key->pkey))) {
        BIO_free(bio);
        return ssl_error(err, -ENOMEM,
                         private ? "cannot encode the private key"
                                 : "cannot encode the public key");
    }
    *biop = bio;
    return 0;
}

static void
free_pem(BIO *bio)
{
    char *data;
    long len = BIO_get_mem_data(bio, &data);

    if (len > 0) {
        OPENSSL_cleanse(data, (size_t)len);
    }
    BIO_free(bio);
}

/* Writes 'key' as PEM to 'path' through a temporary file renamed into place, with
 * 'mode' from the start (fw_file_write()). */
static int
save_pem(const struct fw_key *key, const char *path, mode_t mode, bool private,
         struct ovnic_err *err)
{
    BIO *bio;
    char *data;
    int error = key_pem(key, private, &bio, err);

    if (!error) {
        long len = BIO_get_mem_data(bio, &data);
        error = fw_file_write(path, data, (size_t)len, mode, err);
        free_pem(bio);
    }
    return error;
}

int
fw_key_save_private(const struct fw_key *key, const char *path, struct ovnic_err *err)
{
    if (!key->has_private) {
        return ovnic_err_set(err, -EINVAL, OBJ, "not a private key", NULL);
    }
    return save_pem(key, path, 0600, true, err);
}

int
fw_key_save_public(const struct fw_key *key, const char *path, struct ovnic_err *err)
{
    return save_pem(key, path, 0644, false, err);
}

int
fw_key_public_pem(const struct fw_key *key, char **pemp, struct ovnic_err *err)
{
    BIO *bio;
    char *data, *pem;
    long len;
    int error = key_pem(key, false, &bio, err);

    if (error) {
        return error;
    }
    len = BIO_get_mem_data(bio, &data);
    pem = malloc((size_t)len + 1);
    if (!pem) {
        free_pem(bio);
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    memcpy(pem, data, (size_t)len);
    pem[len] = '\0';
    free_pem(bio);
    *pemp = pem;
    return 0;
}

uint16_t
fw_key_alg(const struct fw_key *key)
{
    return key->alg;
}

const uint8_t *
fw_key_id(const struct fw_key *key)
{
    return key->id;
}

const char *
fw_key_id_hex(const struct fw_key *key)
{
    return key->id_hex;
}

bool
fw_key_has_private(const struct fw_key *key)
{
    return key->has_private;
}

/* Converts a DER ECDSA signature to r || s. */
static int
ecdsa_der_to_raw(const unsigned char *der, size_t len, uint8_t raw[FW_SIG_LEN])
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
    const BIGNUM *r, *s;
    int ok;

    if (!es) {
        return -EIO;
    }
    ECDSA_SIG_get0(es, &r, &s);
    ok = BN_bn2binpad(r, raw, P256_COORD) == P256_COORD &&
         BN_bn2binpad(s, raw + P256_COORD, P256_COORD) == P256_COORD;
    ECDSA_SIG_free(es);
    return ok ? 0 : -EIO;
}

/* Converts r || s to DER.  Caller owns '*derp' (OPENSSL_free()). */
static int
ecdsa_raw_to_der(const uint8_t raw[FW_SIG_LEN], unsigned char **derp, int *lenp)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, P256_COORD, NULL);
    BIGNUM *s = BN_bin2bn(raw + P256_COORD, P256_COORD, NULL);
    int len;

    if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        return -ENOMEM;
    }
    *derp = NULL;
    len = i2d_ECDSA_SIG(es, derp);
    ECDSA_SIG_free(es);
    if (len <= 0) {
        return -ENOMEM;
    }
    *lenp = len;
    return 0;
}

int
fw_key_sign(const struct fw_key *key, const uint8_t digest[FW_IMAGE_DIGEST_SIZE],
            struct fw_signature *sig, struct ovnic_err *err)
{
    uint8_t tbs[FW_IMAGE_TBS_SIZE];
    unsigned char buf[128];
    size_t len = sizeof buf;
    struct fw_signature out;
    EVP_MD_CTX *ctx;
    int ok;

    if (!key->has_private) {
        return ovnic_err_set(err, -EINVAL, OBJ, "not a private key",
                             "key %s is public only", key->id_hex);
    }
    fw_image_tbs(digest, tbs);
    ctx = EVP_MD_CTX_new();
    if (!ctx) {
        return ssl_error(err, -ENOMEM, "out of memory");
    }
    ok = EVP_DigestSignInit(ctx, NULL,
                            key->alg == FW_SIG_ALG_ED25519 ? NULL : EVP_sha256(), NULL,
                            key->pkey) == 1 &&
         EVP_DigestSign(ctx, buf, &len, tbs, sizeof tbs) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        return ssl_error(err, -EIO, "signing failed");
    }
    memset(&out, 0, sizeof out);
    out.alg = key->alg;
    memcpy(out.key_id, key->id, FW_KEY_ID_SIZE);
    if (key->alg == FW_SIG_ALG_ED25519) {
        if (len != FW_SIG_LEN) {
            return ovnic_err_set(err, -EIO, OBJ, "signing failed",
                                 "unexpected Ed25519 signature length %zu", len);
        }
        memcpy(out.sig, buf, FW_SIG_LEN);
    } else if (ecdsa_der_to_raw(buf, len, out.sig)) {
        return ovnic_err_set(err, -EIO, OBJ, "signing failed",
                             "cannot decode the ECDSA signature");
    }
    *sig = out;
    return 0;
}

int
fw_key_verify(const struct fw_key *key, const uint8_t digest[FW_IMAGE_DIGEST_SIZE],
              const struct fw_signature *sig, struct ovnic_err *err)
{
    uint8_t tbs[FW_IMAGE_TBS_SIZE];
    unsigned char *der = NULL;
    const unsigned char *s;
    EVP_MD_CTX *ctx;
    size_t slen;
    int ok;

    if (sig->alg != key->alg) {
        return ovnic_err_set(err, -EKEYREJECTED, OBJ,
                             "signature algorithm does not match "
                             "the key",
                             "%s signature, %s key",
                             fw_sig_alg_name(sig->alg) ? fw_sig_alg_name(sig->alg) : "?",
                             fw_sig_alg_name(key->alg));
    }
    if (memcmp(sig->key_id, key->id, FW_KEY_ID_SIZE)) {
        return ovnic_err_set(err, -EKEYREJECTED, OBJ, "signature names another key",
                             NULL);
    }
    if (key->alg == FW_SIG_ALG_ED25519) {
        s = sig->sig;
        slen = FW_SIG_LEN;
    } else {
        int len;

        if (ecdsa_raw_to_der(sig->sig, &der, &len)) {
            return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
        }
        s = der;
        slen = (size_t)len;
    }
    fw_image_tbs(digest, tbs);
    ctx = EVP_MD_CTX_new();
    ok = ctx &&
         EVP_DigestVerifyInit(ctx, NULL,
                              key->alg == FW_SIG_ALG_ED25519 ? NULL : EVP_sha256(), NULL,
                              key->pkey) == 1 &&
         EVP_DigestVerify(ctx, s, slen, tbs, sizeof tbs) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ERR_clear_error();
    if (!ok) {
        return ovnic_err_set(err, -EKEYREJECTED, OBJ, "bad signature",
                             "does not verify with key %s", key->id_hex);
    }
    return 0;
}
