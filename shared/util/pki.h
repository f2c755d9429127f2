/* ovnic: the small PKI behind ovnic's mutually authenticated TLS.
 *
 * ovnic manages its own CA: a self-signed CA certificate with an EC P-256 key, which
 * issues one certificate per daemon or client (also EC P-256, signed with SHA-256).
 * An issued certificate carries its CN again as a DNS subjectAltName, and may be used
 * both as a TLS server and as a TLS client.  Lifetimes are in days; a certificate is
 * valid from 5 minutes before its creation (to tolerate clock skew between peers)
 * until exactly 'days' days after that.
 *
 * Files are PEM.  They are written atomically (a temporary file renamed into place),
 * private keys unencrypted with mode 0600, certificates with mode 0644, so that a
 * server that reads them while they are replaced sees either the old or the new
 * file. */
#ifndef OVNIC_UTIL_PKI_H
#define OVNIC_UTIL_PKI_H 1

#include <stdbool.h>
#include <stdint.h>

#include "shared/util/err.h"

/** Longest CN, in bytes (X.520's upper bound for a common name). */
#define PKI_CN_MAX 64

/** Longest lifetime accepted, in days (100 years). */
#define PKI_DAYS_MAX 36500u

/** What pki_cert_info_read() reports about a certificate. */
struct pki_cert_info {
    char subject_cn[PKI_CN_MAX + 1]; /* "" if the subject has no usable CN. */
    char issuer_cn[PKI_CN_MAX + 1];  /* "" if the issuer has no usable CN. */
    char serial[65];                 /* Hex, possibly truncated. */
    int64_t not_before;              /* Unix time, seconds. */
    int64_t not_after;               /* Unix time, seconds. */
    bool is_ca;                      /* basicConstraints CA:TRUE. */
};

/** Creates a self-signed CA named 'cn' (1 to PKI_CN_MAX printable ASCII characters),
 * valid for 'days' days (1 to PKI_DAYS_MAX), with a new EC P-256 key.  Writes the
 * certificate to 'cert_path' and the key to 'key_path', replacing existing files.
 * Returns 0, -EINVAL on a bad 'cn' or 'days', a negative errno if a file cannot be
 * written (-ENOENT if its directory does not exist, -EACCES...), or -ENOMEM/-EIO if
 * OpenSSL fails. */
int pki_ca_create(const char *cn, unsigned int days, const char *cert_path,
                  const char *key_path, struct ovnic_err *err);

/** Issues a certificate for 'cn' (with a DNS subjectAltName equal to 'cn'), valid
 * for 'days' days, with a new EC P-256 key, signed by the CA whose certificate and
 * key are read from 'ca_cert_path' and 'ca_key_path'.  Writes the certificate to
 * 'cert_path' and the key to 'key_path', replacing existing files.
 * Returns 0, -EINVAL on a bad 'cn' or 'days', if a CA file holds no PEM certificate
 * or unencrypted key, if the certificate is not a CA's, or if the key does not
 * match it; a negative errno if a file cannot be read or written; -ENOMEM/-EIO if
 * OpenSSL fails. */
int pki_cert_issue(const char *ca_cert_path, const char *ca_key_path, const char *cn,
                   unsigned int days, const char *cert_path, const char *key_path,
                   struct ovnic_err *err);

/** Reads the first PEM certificate in 'cert_path' into '*info' (untouched on
 * failure).  Returns 0, -EINVAL if the file holds no PEM certificate or its dates
 * cannot be read, or a negative errno if it cannot be read. */
int pki_cert_info_read(const char *cert_path, struct pki_cert_info *info,
                       struct ovnic_err *err);

/** Checks that the certificate in 'cert_path' is signed by the CA in 'ca_cert_path'
 * and valid now.  Returns 0, -EKEYREJECTED if it does not verify (the reason is in
 * 'err'), -EKEYEXPIRED if it (or the CA) has expired or is not yet valid, -EINVAL if
 * a file holds no PEM certificate, or a negative errno if a file cannot be read. */
int pki_cert_verify(const char *ca_cert_path, const char *cert_path,
                    struct ovnic_err *err);

#endif /* OVNIC_UTIL_PKI_H */
