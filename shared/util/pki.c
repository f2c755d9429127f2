/* ovnic: the small PKI behind ovnic's mutually authenticated TLS. */
#include "shared/util/pki.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "shared/util/log.h"

OVNIC_LOG_MODULE(pki);

/* Certificates start this long before their creation, against clock skew. */
#define PKI_BACKDATE_SEC 300

#define PKI_SERIAL_BYTES 16

/* Records an OpenSSL failure, with the first reason on the error queue. */
static int
pki_ssl_error__(struct ovnic_err *err, int code, const char *what)
{
    unsigned long e = ERR_peek_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return ovnic_err_set(err, code, "pki", what, "%s", reason ? reason : "OpenSSL error");
}

static int
pki_args_check__(const char *cn, unsigned int days, struct ovnic_err *err)
{
    if (!cn || !cn[0] || strlen(cn) > PKI_CN_MAX) {
        return ovnic_err_set(err, -EINVAL, "pki", "invalid common name",
                             "must have 1 to %d characters", PKI_CN_MAX);
    }
    for (const char *p = cn; *p; p++) {
        if (*p < 0x20 || *p > 0x7e) {
            return ovnic_err_set(err, -EINVAL, "pki", "invalid common name",
                                 "'%s': only printable ASCII is allowed", cn);
        }
    }
    if (!days || days > PKI_DAYS_MAX) {
        return ovnic_err_set(err, -EINVAL, "pki", "invalid lifetime",
                             "%u days: must be 1 to %u", days, PKI_DAYS_MAX);
    }
    return 0;
}

/* Opens 'path' for reading as a BIO, so that a missing file is reported with its
 * errno rather than as a parse failure. */
static int
pki_bio_open__(const char *path, BIO **biop, struct ovnic_err *err)
{
    if (!path) {
        return ovnic_err_set(err, -EINVAL, "pki", "no file given", NULL);
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int error = -errno;
        return ovnic_err_set(err, error, "pki", "cannot open file", "%s", path);
    }
    BIO *bio = BIO_new_fd(fd, BIO_CLOSE);
    if (!bio) {
        close(fd);
        return pki_ssl_error__(err, -ENOMEM, "cannot open file");
    }
    *biop = bio;
    return 0;
}

/* Never supplies a passphrase: ovnic keys are not encrypted, and nothing may prompt
 * on a terminal. */
static int
pki_no_passphrase__(char *buf OVNIC_UNUSED, int size OVNIC_UNUSED, int rw OVNIC_UNUSED,
                    void *aux OVNIC_UNUSED)
{
    return -1;
}

static int
pki_cert_load__(const char *path, X509 **certp, struct ovnic_err *err)
{
    BIO *bio;
    int error = pki_bio_open__(path, &bio, err);
    if (error) {
        return error;
    }
    X509 *cert = PEM_read_bio_X509(bio, NULL, pki_no_passphrase__, NULL);
    BIO_free(bio);
    if (!cert) {
        ERR_clear_error();
        return ovnic_err_set(err, -EINVAL, "pki", "no PEM certificate in file", "%s",
                             path);
    }
    *certp = cert;
    return 0;
}

static int
pki_key_load__(const char *path, EVP_PKEY **keyp, struct ovnic_err *err)
{
    BIO *bio;
    int error = pki_bio_open__(path, &bio, err);
    if (error) {
        return error;
    }
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, pki_no_passphrase__, NULL);
    BIO_free(bio);
    if (!key) {
        ERR_clear_error();
        return ovnic_err_set(err, -EINVAL, "pki",
                             "no unencrypted PEM private key in file", "%s", path);
    }
    *keyp = key;
    return 0;
}

/* A file being written: a temporary beside 'path', renamed over it by
 * pki_file_commit__(). */
struct pki_file {
    const char *path;
    char *tmp_path;
};

static void
pki_file_abort__(struct pki_file *f)
{
    if (f->tmp_path) {
        unlink(f->tmp_path);
    }
    free(f->tmp_path);
    f->tmp_path = NULL;
}

/* Writes the PEM of 'cert' or 'key' (exactly one is nonnull) to a temporary file
 * beside 'path', with 'mode'. */
static int
pki_file_write__(struct pki_file *f, const char *path, mode_t mode, X509 *cert,
                 EVP_PKEY *key, struct ovnic_err *err)
{
    int error;

    f->path = path;
    if (asprintf(&f->tmp_path, "%s.tmpXXXXXX", path) < 0) {
        f->tmp_path = NULL;
        return ovnic_err_set(err, -ENOMEM, "pki", "out of memory", NULL);
    }
    /* mkstemp() creates the file with mode 0600, so a key is never readable by
     * others, even for a moment. */
    int fd = mkostemp(f->tmp_path, O_CLOEXEC);
    if (fd < 0) {
        error = -errno;
        free(f->tmp_path);
        f->tmp_path = NULL;
        return ovnic_err_set(err, error, "pki", "cannot create file", "%s", path);
    }
    if (fchmod(fd, mode) < 0) {
        error = ovnic_err_set(err, -errno, "pki", "cannot set file mode", "%s", path);
        close(fd);
        goto err_abort;
    }

    BIO *bio = BIO_new_fd(fd, BIO_CLOSE);
    if (!bio) {
        close(fd);
        error = pki_ssl_error__(err, -ENOMEM, "cannot write file");
        goto err_abort;
    }
    int ok = cert ? PEM_write_bio_X509(bio, cert)
                  : PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
    if (!ok || BIO_flush(bio) != 1) {
        BIO_free(bio);
        error = pki_ssl_error__(err, -EIO, "cannot write file");
        goto err_abort;
    }
    if (fsync(fd) < 0) {
        error = ovnic_err_set(err, -errno, "pki", "cannot write file", "%s", path);
        BIO_free(bio);
        goto err_abort;
    }
    BIO_free(bio);
    return 0;

err_abort:
    pki_file_abort__(f);
    return error;
}

static int
pki_file_commit__(struct pki_file *f, struct ovnic_err *err)
{
    if (rename(f->tmp_path, f->path) < 0) {
        int error = -errno;
        pki_file_abort__(f);
        return ovnic_err_set(err, error, "pki", "cannot rename file into place", "%s",
                             f->path);
    }
    free(f->tmp_path);
    f->tmp_path = NULL;
    return 0;
}

/* Writes 'key' to 'key_path' and 'cert' to 'cert_path', each only once both have
 * been written out completely. */
static int
pki_pair_write__(X509 *cert, const char *cert_path, EVP_PKEY *key, const char *key_path,
                 struct ovnic_err *err)
{
    struct pki_file key_file = {0};
    struct pki_file cert_file = {0};
    int error;

    if (!cert_path || !key_path) {
        return ovnic_err_set(err, -EINVAL, "pki", "no file given", NULL);
    }
    error = pki_file_write__(&key_file, key_path, 0600, NULL, key, err);
    if (error) {
        return error;
    }
    error = pki_file_write__(&cert_file, cert_path, 0644, cert, NULL, err);
    if (error) {
        goto err_abort_key;
    }
    error = pki_file_commit__(&key_file, err);
    if (error) {
        goto err_abort_cert;
    }
    return pki_file_commit__(&cert_file, err);

err_abort_cert:
    pki_file_abort__(&cert_file);
err_abort_key:
    pki_file_abort__(&key_file);
    return error;
}

static int
pki_key_generate__(EVP_PKEY **keyp, struct ovnic_err *err)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key) {
        return pki_ssl_error__(err, -ENOMEM, "cannot generate EC P-256 key");
    }
    *keyp = key;
    return 0;
}

/* Adds extension 'nid' with 'value' in OpenSSL's configuration syntax. */
static int
pki_ext_add__(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (!ext) {
        return -EIO;
    }
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -ENOMEM;
}

/* Adds a subjectAltName holding the single DNS name 'dns'.  Built directly rather
 * than through the configuration syntax, which would interpret commas in it. */
static int
pki_san_add__(X509 *cert, const char *dns)
{
    int error = -ENOMEM;
    GENERAL_NAMES *names = GENERAL_NAMES_new();
    GENERAL_NAME *name = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    if (!names || !name || !ia5 || !ASN1_STRING_set(ia5, dns, (int)strlen(dns))) {
        goto out;
    }
    GENERAL_NAME_set0_value(name, GEN_DNS, ia5);
    ia5 = NULL;
    if (!sk_GENERAL_NAME_push(names, name)) {
        goto out;
    }
    name = NULL;
    if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_REPLACE) ==
        1) {
        error = 0;
    }

out:
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(name);
    GENERAL_NAMES_free(names);
    return error;
}

/* Builds and signs a certificate for 'cn' and 'key'.  'issuer'/'issuer_key' sign it;
 * if 'issuer' is NULL, it is a self-signed CA signed by 'key'. */
static int
pki_cert_build__(const char *cn, unsigned int days, EVP_PKEY *key, X509 *issuer,
                 EVP_PKEY *issuer_key, X509 **certp, struct ovnic_err *err)
{
    bool is_ca = !issuer;
    unsigned char serial[PKI_SERIAL_BYTES];
    BIGNUM *bn = NULL;
    int error;

    X509 *cert = X509_new();
    if (!cert) {
        return pki_ssl_error__(err, -ENOMEM, "cannot create certificate");
    }
    if (!X509_set_version(cert, X509_VERSION_3)) {
        goto err_ssl;
    }

    /* A random positive serial: unique without keeping state. */
    if (RAND_bytes(serial, sizeof serial) != 1) {
        goto err_ssl;
    }
    serial[0] &= 0x7f;
    serial[0] |= 0x01 << 6;
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert))) {
        goto err_ssl;
    }

    time_t now = time(NULL);
    if (!X509_time_adj_ex(X509_getm_notBefore(cert), 0, -PKI_BACKDATE_SEC, &now) ||
        !X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, -PKI_BACKDATE_SEC, &now)) {
        goto err_ssl;
    }

    X509_NAME *subject = X509_get_subject_name(cert);
    if (!X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                    (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_issuer_name(cert, is_ca ? subject : X509_get_subject_name(issuer)) ||
        !X509_set_pubkey(cert, key)) {
        goto err_ssl;
    }

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, is_ca ? cert : issuer, cert, NULL, NULL, 0);
    if (is_ca) {
        error = pki_ext_add__(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE");
        if (!error) {
            error =
                pki_ext_add__(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        }
    } else {
        error = pki_ext_add__(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE");
        if (!error) {
            error = pki_ext_add__(cert, &ctx, NID_key_usage, "critical,digitalSignature");
        }
        if (!error) {
            error = pki_ext_add__(cert, &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
        }
        if (!error) {
            error = pki_san_add__(cert, cn);
        }
    }
    if (!error) {
        error = pki_ext_add__(cert, &ctx, NID_subject_key_identifier, "hash");
    }
    if (!error) {
        error = pki_ext_add__(cert, &ctx, NID_authority_key_identifier, "keyid:always");
    }
    if (error) {
        goto err_ssl;
    }

    if (!X509_sign(cert, is_ca ? key : issuer_key, EVP_sha256())) {
        goto err_ssl;
    }
    BN_free(bn);
    *certp = cert;
    return 0;

err_ssl:
    BN_free(bn);
    X509_free(cert);
    return pki_ssl_error__(err, -EIO, "cannot build certificate");
}

int
pki_ca_create(const char *cn, unsigned int days, const char *cert_path,
              const char *key_path, struct ovnic_err *err)
{
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;

    int error = pki_args_check__(cn, days, err);
    if (!error) {
        error = pki_key_generate__(&key, err);
    }
    if (!error) {
        error = pki_cert_build__(cn, days, key, NULL, NULL, &cert, err);
    }
    if (!error) {
        error = pki_pair_write__(cert, cert_path, key, key_path, err);
    }
    if (!error) {
        OLOG_INFO("created CA \"%s\" valid for %u days: %s", cn, days, cert_path);
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return error;
}

int
pki_cert_issue(const char *ca_cert_path, const char *ca_key_path, const char *cn,
               unsigned int days, const char *cert_path, const char *key_path,
               struct ovnic_err *err)
{
    X509 *ca_cert = NULL;
    EVP_PKEY *ca_key = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int error;

    error = pki_args_check__(cn, days, err);
    if (error) {
        return error;
    }
    error = pki_cert_load__(ca_cert_path, &ca_cert, err);
    if (error) {
        return error;
    }
    error = pki_key_load__(ca_key_path, &ca_key, err);
    if (error) {
        goto err_free_ca_cert;
    }
    if (!(X509_get_extension_flags(ca_cert) & EXFLAG_CA)) {
        error = ovnic_err_set(err, -EINVAL, "pki", "not a CA certificate", "%s",
                              ca_cert_path);
        goto err_free_ca_key;
    }
    if (X509_check_private_key(ca_cert, ca_key) != 1) {
        ERR_clear_error();
        error = ovnic_err_set(err, -EINVAL, "pki", "CA key does not match CA certificate",
                              "%s", ca_key_path);
        goto err_free_ca_key;
    }

    error = pki_key_generate__(&key, err);
    if (error) {
        goto err_free_ca_key;
    }
    error = pki_cert_build__(cn, days, key, ca_cert, ca_key, &cert, err);
    if (error) {
        goto err_free_key;
    }
    error = pki_pair_write__(cert, cert_path, key, key_path, err);
    if (!error) {
        OLOG_INFO("issued certificate \"%s\" valid for %u days: %s", cn, days, cert_path);
    }

    X509_free(cert);
err_free_key:
    EVP_PKEY_free(key);
err_free_ca_key:
    EVP_PKEY_free(ca_key);
err_free_ca_cert:
    X509_free(ca_cert);
    return error;
}

/* Copies the first CN of 'name' into 'buf' (of PKI_CN_MAX + 1 bytes), or "" if it
 * has none that is a plain string that fits. */
static void
pki_name_cn_get__(const X509_NAME *name, char *buf)
{
    buf[0] = '\0';
    int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (idx < 0) {
        return;
    }
    const ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    unsigned char *utf8 = NULL;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len >= 0 && len <= PKI_CN_MAX && !memchr(utf8, '\0', (size_t)len)) {
        memcpy(buf, utf8, (size_t)len);
        buf[len] = '\0';
    }
    OPENSSL_free(utf8);
}

static int
pki_time_get__(const ASN1_TIME *t, int64_t *secs)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
        return -EINVAL;
    }
    *secs = (int64_t)timegm(&tm);
    return 0;
}

int
pki_cert_info_read(const char *cert_path, struct pki_cert_info *info,
                   struct ovnic_err *err)
{
    struct pki_cert_info tmp;
    X509 *cert;

    int error = pki_cert_load__(cert_path, &cert, err);
    if (error) {
        return error;
    }
    memset(&tmp, 0, sizeof tmp);
    pki_name_cn_get__(X509_get_subject_name(cert), tmp.subject_cn);
    pki_name_cn_get__(X509_get_issuer_name(cert), tmp.issuer_cn);
    if (pki_time_get__(X509_get0_notBefore(cert), &tmp.not_before) ||
        pki_time_get__(X509_get0_notAfter(cert), &tmp.not_after)) {
        error = ovnic_err_set(err, -EINVAL, "pki", "unreadable validity dates", "%s",
                              cert_path);
        goto out;
    }
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    if (hex) {
        snprintf(tmp.serial, sizeof tmp.serial, "%s", hex);
    }
    OPENSSL_free(hex);
    BN_free(bn);
    tmp.is_ca = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
    ERR_clear_error();
    *info = tmp;

out:
    X509_free(cert);
    return error;
}

int
pki_cert_verify(const char *ca_cert_path, const char *cert_path, struct ovnic_err *err)
{
    X509 *ca_cert = NULL;
    X509 *cert = NULL;
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    int error;

    error = pki_cert_load__(ca_cert_path, &ca_cert, err);
    if (error) {
        return error;
    }
    error = pki_cert_load__(cert_path, &cert, err);
    if (error) {
        goto out;
    }
    store = X509_STORE_new();
    ctx = X509_STORE_CTX_new();
    if (!store || !ctx || !X509_STORE_add_cert(store, ca_cert) ||
        !X509_STORE_CTX_init(ctx, store, cert, NULL)) {
        error = pki_ssl_error__(err, -ENOMEM, "cannot set up verification");
        goto out;
    }
    if (X509_verify_cert(ctx) != 1) {
        int verr = X509_STORE_CTX_get_error(ctx);
        bool expired =
            verr == X509_V_ERR_CERT_HAS_EXPIRED || verr == X509_V_ERR_CERT_NOT_YET_VALID;
        ERR_clear_error();
        error = ovnic_err_set(err, expired ? -EKEYEXPIRED : -EKEYREJECTED, "pki",
                              "certificate does not verify against CA", "%s: %s",
                              cert_path, X509_verify_cert_error_string(verr));
    }

out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(cert);
    X509_free(ca_cert);
    return error;
}
