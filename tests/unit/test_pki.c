/* Unit tests for shared/util/pki: CA creation, issuing, reading and verifying. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "shared/util/pki.h"

#define DAY 86400

struct fixture {
    char dir[64];
};

static char *
path_in(const struct fixture *f, const char *name)
{
    char *p;
    assert_true(asprintf(&p, "%s/%s", f->dir, name) > 0);
    return p;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ovnic-pki-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Number of entries in the fixture directory, to catch stray temporary files. */
static int
dir_count(const struct fixture *f)
{
    DIR *d = opendir(f->dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            n++;
        }
    }
    closedir(d);
    return n;
}

static mode_t
file_mode(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static X509 *
cert_read(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    X509 *cert = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(cert);
    return cert;
}

static EVP_PKEY *
key_read(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    EVP_PKEY *key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(key);
    return key;
}

static void
assert_p256(EVP_PKEY *key)
{
    char group[64];
    size_t len;
    assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
    assert_int_equal(EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
                                                    group, sizeof group, &len),
                     1);
    assert_string_equal(group, "prime256v1");
}

static void
test_ca_create(void **state)
{
    struct fixture *f = *state;
    char *ca_cert = path_in(f, "ca-cert.pem");
    char *ca_key = path_in(f, "ca-key.pem");
    struct ovnic_err err = {0};

    time_t before = time(NULL);
    assert_int_equal(pki_ca_create("ovnic test CA", 3650, ca_cert, ca_key, &err), 0);
    assert_false(ovnic_err_is_set(&err));
    assert_int_equal(dir_count(f), 2);
    assert_int_equal(file_mode(ca_key), 0600);
    assert_int_equal(file_mode(ca_cert), 0644);

    struct pki_cert_info info;
    assert_int_equal(pki_cert_info_read(ca_cert, &info, &err), 0);
    assert_string_equal(info.subject_cn, "ovnic test CA");
    assert_string_equal(info.issuer_cn, "ovnic test CA");
    assert_true(info.is_ca);
    assert_true(strlen(info.serial) > 0);
    assert_int_equal(info.not_after - info.not_before, 3650LL * DAY);
    assert_true(info.not_before <= (int64_t)before);
    assert_true(info.not_before >= (int64_t)before - 3600);

    /* Self-signed: it verifies against itself. */
    assert_int_equal(pki_cert_verify(ca_cert, ca_cert, &err), 0);

    X509 *cert = cert_read(ca_cert);
    EVP_PKEY *key = key_read(ca_key);
    assert_p256(key);
    assert_int_equal(X509_check_private_key(cert, key), 1);
    assert_int_equal(X509_check_ca(cert), 1);
    assert_int_equal(X509_get_version(cert), X509_VERSION_3);
    EVP_PKEY_free(key);
    X509_free(cert);

    free(ca_cert);
    free(ca_key);
}

static void
make_ca(const struct fixture *f, const char *prefix, char **cert, char **key)
{
    char name[64];
    snprintf(name, sizeof name, "%s-cert.pem", prefix);
    *cert = path_in(f, name);
    snprintf(name, sizeof name, "%s-key.pem", prefix);
    *key = path_in(f, name);
    assert_int_equal(pki_ca_create(prefix, 30, *cert, *key, NULL), 0);
}

static void
test_cert_issue(void **state)
{
    struct fixture *f = *state;
    char *ca_cert, *ca_key, *other_cert, *other_key;
    make_ca(f, "ca", &ca_cert, &ca_key);
    make_ca(f, "other-ca", &other_cert, &other_key);
    char *cert_path = path_in(f, "hv1-cert.pem");
    char *key_path = path_in(f, "hv1-key.pem");
    struct ovnic_err err = {0};

    assert_int_equal(
        pki_cert_issue(ca_cert, ca_key, "hv1", 30, cert_path, key_path, &err), 0);
    assert_int_equal(dir_count(f), 6);
    assert_int_equal(file_mode(key_path), 0600);
    assert_int_equal(file_mode(cert_path), 0644);

    struct pki_cert_info info;
    assert_int_equal(pki_cert_info_read(cert_path, &info, NULL), 0);
    assert_string_equal(info.subject_cn, "hv1");
    assert_string_equal(info.issuer_cn, "ca");
    assert_false(info.is_ca);
    assert_int_equal(info.not_after - info.not_before, 30LL * DAY);

    assert_int_equal(pki_cert_verify(ca_cert, cert_path, &err), 0);
    assert_false(ovnic_err_is_set(&err));
    assert_int_equal(pki_cert_verify(other_cert, cert_path, &err), -EKEYREJECTED);
    assert_non_null(err.message);
    assert_non_null(strstr(err.detail, "issuer"));

    X509 *cert = cert_read(cert_path);
    EVP_PKEY *key = key_read(key_path);
    assert_p256(key);
    assert_int_equal(X509_check_private_key(cert, key), 1);
    /* The DNS SAN alone (CN ignored) carries the name. */
    assert_int_equal(
        X509_check_host(cert, "hv1", 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL), 1);
    assert_int_equal(
        X509_check_host(cert, "hv2", 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL), 0);
    assert_int_equal(X509_check_purpose(cert, X509_PURPOSE_SSL_SERVER, 0), 1);
    assert_int_equal(X509_check_purpose(cert, X509_PURPOSE_SSL_CLIENT, 0), 1);
    assert_int_equal(X509_check_ca(cert), 0);
    EVP_PKEY_free(key);
    X509_free(cert);

    /* Reissuing replaces both files with a new key and serial, leaving nothing else
     * behind. */
    char serial[sizeof info.serial];
    memcpy(serial, info.serial, sizeof serial);
    assert_int_equal(pki_cert_issue(ca_cert, ca_key, "hv1", 7, cert_path, key_path, NULL),
                     0);
    assert_int_equal(dir_count(f), 6);
    assert_int_equal(pki_cert_info_read(cert_path, &info, NULL), 0);
    assert_string_not_equal(info.serial, serial);
    assert_int_equal(info.not_after - info.not_before, 7LL * DAY);
    cert = cert_read(cert_path);
    key = key_read(key_path);
    assert_int_equal(X509_check_private_key(cert, key), 1);
    EVP_PKEY_free(key);
    X509_free(cert);

    free(cert_path);
    free(key_path);
    free(ca_cert);
    free(ca_key);
    free(other_cert);
    free(other_key);
}

static void
test_lifetimes(void **state)
{
    struct fixture *f = *state;
    char *ca_cert, *ca_key;
    make_ca(f, "ca", &ca_cert, &ca_key);
    char *cert_path = path_in(f, "c.pem");
    char *key_path = path_in(f, "k.pem");
    static const unsigned int days[] = {1, 2, 365, 3650, PKI_DAYS_MAX};

    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        struct pki_cert_info info;
        assert_int_equal(
            pki_cert_issue(ca_cert, ca_key, "node", days[i], cert_path, key_path, NULL),
            0);
        assert_int_equal(pki_cert_info_read(cert_path, &info, NULL), 0);
        assert_int_equal(info.not_after - info.not_before, (int64_t)days[i] * DAY);
        assert_true(info.not_before <= (int64_t)time(NULL));
    }

    free(cert_path);
    free(key_path);
    free(ca_cert);
    free(ca_key);
}

static void
test_bad_arguments(void **state)
{
    struct fixture *f = *state;
    char *ca_cert, *ca_key;
    make_ca(f, "ca", &ca_cert, &ca_key);
    char *cert_path = path_in(f, "c.pem");
    char *key_path = path_in(f, "k.pem");
    char long_cn[PKI_CN_MAX + 2];
    memset(long_cn, 'a', sizeof long_cn - 1);
    long_cn[sizeof long_cn - 1] = '\0';
    struct {
        const char *cn;
        unsigned int days;
    } cases[] = {
        {"", 10},          {NULL, 10}, {long_cn, 10},
        {"bad\nname", 10}, {"ok", 0},  {"ok", PKI_DAYS_MAX + 1},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ovnic_err err = {0};
        assert_int_equal(pki_cert_issue(ca_cert, ca_key, cases[i].cn, cases[i].days,
                                        cert_path, key_path, &err),
                         -EINVAL);
        assert_int_equal(err.code, -EINVAL);
        assert_non_null(err.message);
        ovnic_err_clear(&err);
        assert_int_equal(
            pki_ca_create(cases[i].cn, cases[i].days, cert_path, key_path, &err),
            -EINVAL);
        assert_non_null(err.message);
    }
    /* The longest CN is fine. */
    long_cn[PKI_CN_MAX] = '\0';
    assert_int_equal(
        pki_cert_issue(ca_cert, ca_key, long_cn, 1, cert_path, key_path, NULL), 0);
    assert_int_equal(dir_count(f), 4);

    free(cert_path);
    free(key_path);
    free(ca_cert);
    free(ca_key);
}

static void
write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void
test_bad_files(void **state)
{
    struct fixture *f = *state;
    char *ca_cert, *ca_key, *other_cert, *other_key;
    make_ca(f, "ca", &ca_cert, &ca_key);
    make_ca(f, "other", &other_cert, &other_key);
    char *cert_path = path_in(f, "c.pem");
    char *key_path = path_in(f, "k.pem");
    char *garbage = path_in(f, "garbage.pem");
    char *missing = path_in(f, "missing.pem");
    char *no_dir = path_in(f, "no/such/dir/c.pem");
    write_file(garbage, "-----BEGIN CERTIFICATE-----\nnot base64!\n");
    struct ovnic_err err = {0};
    struct pki_cert_info info = {.subject_cn = "untouched"};

    assert_int_equal(pki_cert_issue(missing, ca_key, "x", 1, cert_path, key_path, &err),
                     -ENOENT);
    assert_non_null(strstr(err.detail, "missing.pem"));
    ovnic_err_clear(&err);
    assert_int_equal(pki_cert_issue(ca_cert, missing, "x", 1, cert_path, key_path, &err),
                     -ENOENT);
    ovnic_err_clear(&err);
    assert_int_equal(pki_cert_issue(garbage, ca_key, "x", 1, cert_path, key_path, &err),
                     -EINVAL);
    ovnic_err_clear(&err);
    assert_int_equal(pki_cert_issue(ca_cert, garbage, "x", 1, cert_path, key_path, &err),
                     -EINVAL);
    ovnic_err_clear(&err);
    /* A key that is not the CA's. */
    assert_int_equal(
        pki_cert_issue(ca_cert, other_key, "x", 1, cert_path, key_path, &err), -EINVAL);
    assert_string_equal(err.message, "CA key does not match CA certificate");
    ovnic_err_clear(&err);
    /* Output into a directory that does not exist. */
    assert_int_equal(pki_cert_issue(ca_cert, ca_key, "x", 1, no_dir, key_path, &err),
                     -ENOENT);
    ovnic_err_clear(&err);
    assert_int_equal(pki_ca_create("x", 1, no_dir, key_path, &err), -ENOENT);
    ovnic_err_clear(&err);
    assert_int_equal(dir_count(f), 5);

    /* A leaf certificate cannot act as a CA. */
    assert_int_equal(
        pki_cert_issue(ca_cert, ca_key, "leaf", 1, cert_path, key_path, NULL), 0);
    assert_int_equal(
        pki_cert_issue(cert_path, key_path, "x", 1, cert_path, key_path, &err), -EINVAL);
    assert_string_equal(err.message, "not a CA certificate");
    ovnic_err_clear(&err);

    assert_int_equal(pki_cert_info_read(missing, &info, &err), -ENOENT);
    ovnic_err_clear(&err);
    assert_int_equal(pki_cert_info_read(garbage, &info, &err), -EINVAL);
    assert_string_equal(info.subject_cn, "untouched");
    ovnic_err_clear(&err);
    assert_int_equal(pki_cert_verify(ca_cert, garbage, &err), -EINVAL);
    ovnic_err_clear(&err);
    assert_int_equal(pki_cert_verify(missing, ca_cert, &err), -ENOENT);

    free(cert_path);
    free(key_path);
    free(garbage);
    free(missing);
    free(no_dir);
    free(ca_cert);
    free(ca_key);
    free(other_cert);
    free(other_key);
}

/* A certificate signed by the CA that expired yesterday is reported as expired. */
static void
test_verify_expired(void **state)
{
    struct fixture *f = *state;
    char *ca_cert, *ca_key;
    make_ca(f, "ca", &ca_cert, &ca_key);
    char *old_path = path_in(f, "old.pem");

    X509 *ca = cert_read(ca_cert);
    EVP_PKEY *key = key_read(ca_key);
    X509 *cert = X509_new();
    assert_non_null(cert);
    assert_int_equal(X509_set_version(cert, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert), 42), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(cert), -10L * DAY));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(cert), -1L * DAY));
    assert_int_equal(X509_NAME_add_entry_by_NID(X509_get_subject_name(cert),
                                                NID_commonName, MBSTRING_UTF8,
                                                (const unsigned char *)"old", -1, -1, 0),
                     1);
    assert_int_equal(X509_set_issuer_name(cert, X509_get_subject_name(ca)), 1);
    assert_int_equal(X509_set_pubkey(cert, key), 1);
    assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
    FILE *fp = fopen(old_path, "w");
    assert_non_null(fp);
    assert_int_equal(PEM_write_X509(fp, cert), 1);
    fclose(fp);

    struct ovnic_err err = {0};
    assert_int_equal(pki_cert_verify(ca_cert, old_path, &err), -EKEYEXPIRED);
    assert_non_null(strstr(err.detail, "expired"));

    X509_free(cert);
    EVP_PKEY_free(key);
    X509_free(ca);
    free(old_path);
    free(ca_cert);
    free(ca_key);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ca_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cert_issue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifetimes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_expired, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
