/* ovnic: TLS over OpenSSL 3 with mutual authentication.
 *
 * Used by stream.c for ssl:/pssl: remotes.  Both sides present a certificate signed by
 * the CA in 'ca_file' and verify the peer's against it. */
#ifndef OVNIC_UTIL_TLS_H
#define OVNIC_UTIL_TLS_H 1

#include <stdbool.h>

#include "shared/util/err.h"

struct tls_config {
    const char *ca_file;   /* PEM CA certificate(s) to verify the peer.  Required. */
    const char *cert_file; /* PEM certificate presented to the peer.  Required. */
    const char *key_file;  /* PEM private key for 'cert_file'.  Required. */
    const char *peer_name; /* If nonnull, the peer certificate's CN or a DNS SAN must
                            * equal it (client: server name; server: client name). */
};

#endif /* OVNIC_UTIL_TLS_H */
