/* ovnic: TLS over OpenSSL 3 with mutual authentication.
 *
 * Used by stream.c for ssl:/pssl: remotes.  Both sides present a certificate signed by
 * the CA in 'ca_file' and verify the peer's against it.
 *
 * A 'struct tls_context' holds what is loaded from a 'struct tls_config' (CA,
 * certificate, key, peer name) for one role, client or server.  A 'struct
 * tls_conn' runs TLS over one connected, non-blocking socket that its caller owns.
 * Every function returns 0 or a negative errno; OpenSSL's error codes and error queue
 * never leave this module. */
#ifndef OVNIC_UTIL_TLS_H
#define OVNIC_UTIL_TLS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shared/util/err.h"

struct tls_config {
    const char *ca_file;   /* PEM CA certificate(s) to verify the peer.  Required. */
    const char *cert_file; /* PEM certificate presented to the peer.  Required. */
    const char *key_file;  /* PEM private key for 'cert_file'.  Required. */
    const char *peer_name; /* If nonnull, the peer certificate's CN or a DNS SAN must
                            * equal it (client: server name; server: client name). */
};

struct tls_context;
struct tls_conn;

enum tls_role {
    TLS_ROLE_CLIENT,
    TLS_ROLE_SERVER,
};

/** Loads 'config' (borrowed; nothing is kept from it) into a new context for 'role'.
 * TLS 1.2 or later; the peer must present a certificate that verifies against
 * 'config->ca_file' (a server requires a client certificate), and, if
 * 'config->peer_name' is set, whose CN or a DNS SAN equals it exactly.
 * Caller owns '*ctx'; free with tls_context_destroy().
 * Returns 0; -EINVAL if 'config' is NULL, lacks a file, has "" as 'peer_name', or
 * names a file that holds no valid PEM certificate/key, or a key that does not match
 * the certificate; -ENOENT, -EACCES (or another negative errno) if a file cannot be
 * read; -ENOMEM. */
int tls_context_create(const struct tls_config *config, enum tls_role role,
                       struct tls_context **ctx, struct ovnic_err *err);

/** Frees 'ctx' (may be NULL).  Connections created from it stay valid. */
void tls_context_destroy(struct tls_context *ctx);

/** Starts TLS over 'fd', a connected non-blocking stream socket (borrowed: the
 * caller closes it after tls_conn_destroy()).  'name' (copied) names the peer in
 * log messages.  Caller owns '*conn'; free with tls_conn_destroy().
 * Returns 0, -EINVAL if OpenSSL refuses the context's peer name, or -ENOMEM. */
int tls_conn_create(struct tls_context *ctx, int fd, const char *name,
                    struct tls_conn **conn);

/** Advances the handshake.  Returns 0 once it is complete, -EAGAIN while it needs
 * the socket to become ready (see tls_conn_want()), -EPROTO if the peer
 * was rejected or spoke something other than TLS (the reason is logged and kept in
 * tls_conn_error()), -ECONNRESET if the peer closed during the handshake, or
 * another negative errno from the socket. */
int tls_conn_handshake(struct tls_conn *conn);

/** Reads up to 'n' decrypted bytes.  Returns the count (> 0), 0 once the peer has
 * closed, -EAGAIN if no complete record is available (read until -EAGAIN before
 * waiting: decrypted bytes may be buffered), -EPROTO on a TLS failure, or another
 * negative errno.  Runs the handshake first if it is not complete. */
ssize_t tls_conn_recv(struct tls_conn *conn, void *buf, size_t n);

/** Encrypts and sends up to 'n' bytes.  Returns the count accepted (> 0, possibly
 * less than 'n'), -EAGAIN if the socket is full, -EPROTO on a TLS failure, or another
 * negative errno (-EPIPE, -ECONNRESET).  After -EAGAIN, the next call must pass the
 * same leading bytes again, at least as many as before: they may already be
 * encrypted and partly sent.  Never raises SIGPIPE. */
ssize_t tls_conn_send(struct tls_conn *conn, const void *buf, size_t n);

/** POLLIN/POLLOUT bits (the values of OVNIC_POLL_IN/OVNIC_POLL_OUT in poll.h) that the
 * last operation that returned -EAGAIN waits for, or 0 if none is pending. */
uint32_t tls_conn_want(const struct tls_conn *conn);

/** True once the handshake has completed. */
bool tls_conn_is_established(const struct tls_conn *conn);

/** The verified peer certificate's subject CN once established, else NULL.  Valid
 * until tls_conn_destroy(). */
const char *tls_conn_peer_cn(const struct tls_conn *conn);

/** Why the connection last failed (e.g. "certificate verify failed (unable to get
 * local issuer certificate)"), or "" if it has not.  Valid until the next call on
 * 'conn'. */
const char *tls_conn_error(const struct tls_conn *conn);

/** Sends a close notification if established (without waiting) and frees 'conn'
 * (may be NULL).  Does not close the socket. */
void tls_conn_destroy(struct tls_conn *conn);

#endif /* OVNIC_UTIL_TLS_H */
