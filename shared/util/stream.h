/* ovnic: non-blocking byte streams over unix:, tcp: and ssl: remotes, and passive
 * listeners punix:, ptcp:, pssl:.
 *
 * Remote syntax (as in OVS/OVN):
 *   unix:PATH            tcp:IP:PORT  (IPv6 as tcp:[::1]:PORT)     ssl:IP:PORT
 *   punix:PATH           ptcp:PORT[:IP]                            pssl:PORT[:IP]
 *
 * ssl: and pssl: need a 'struct tls_config' (see tls.h) with CA, certificate and key;
 * both sides authenticate each other.  All I/O is non-blocking: a stream is driven from
 * a poll loop by watching stream_fd() for stream_poll_events(). */
#ifndef OVNIC_UTIL_STREAM_H
#define OVNIC_UTIL_STREAM_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shared/util/err.h"

struct stream;
struct pstream;
struct tls_config;

/** Starts connecting to 'remote'.  'tls' is required for ssl: and ignored otherwise
 * (borrowed; copied as needed).  On success '*stream' is owned by the caller; free
 * with stream_close().  The connection may still be in progress: see
 * stream_connect().  Returns 0, -EINVAL on a malformed remote (see
 * stream_remote_check()) or missing TLS config, -EAFNOSUPPORT on an unknown method, or a
 * negative errno from socket()/connect(). */
int stream_open(const char *remote, const struct tls_config *tls, struct stream **stream,
                struct ovnic_err *err);

/** Checks that 'remote' is an active remote that stream_open() accepts, without
 * opening anything: "unix:PATH" (PATH not empty, shorter than PATH_MAX),
 * "tcp:IP:PORT" or "ssl:IP:PORT", with IP a numeric IPv4 address or an IPv6 address
 * in brackets ("tcp:[::1]:6641") and PORT 1..65535.  Host names are not resolved, so
 * they are refused.  Returns 0, -EINVAL for a malformed remote, or -EAFNOSUPPORT for
 * an unknown method; 'err' (may be NULL) then says what is wrong (missing port, port
 * out of range, not an IP address, unknown method...) and quotes the remote. */
int stream_remote_check(const char *remote, struct ovnic_err *err);

/** Checks 'remotes', a comma-separated list of active remotes (spaces and tabs around
 * each are ignored), each with stream_remote_check().  An empty list or an empty
 * element ("a,,b", a trailing ',') is -EINVAL.  On success, sets '*has_ssl' (may be
 * NULL) to whether one of them is ssl:.  Returns 0, -EINVAL, -EAFNOSUPPORT or
 * -ENOMEM, with 'err' (may be NULL) naming the remote at fault. */
int stream_remote_list_check(const char *remotes, bool *has_ssl, struct ovnic_err *err);

/** Advances a connection in progress (TCP connect, TLS handshake).  Returns 0 once
 * connected, -EAGAIN while in progress (wait for stream_poll_events()), or a negative
 * errno on failure (-ECONNREFUSED, -EPROTO for a TLS failure or a rejected peer...). */
int stream_connect(struct stream *stream);

/** Receives up to 'n' bytes.  Returns the number received (> 0), 0 on orderly close by
 * the peer, -EAGAIN if nothing is available now, or another negative errno.  Call it
 * until -EAGAIN before waiting: a TLS stream may hold decrypted bytes that poll()
 * does not see. */
ssize_t stream_recv(struct stream *stream, void *buf, size_t n);

/** Sends up to 'n' bytes.  Returns the number accepted (> 0, possibly less than 'n'),
 * -EAGAIN if none can be accepted now, or another negative errno (-EPIPE or
 * -ECONNRESET once the peer has gone; never SIGPIPE).  After -EAGAIN, the next call
 * must offer the same leading bytes again, at least as many: a TLS stream may already
 * have encrypted them.  (A caller that sends from the head of an output queue does
 * this naturally.) */
ssize_t stream_send(struct stream *stream, const void *buf, size_t n);

/** The fd to watch. */
int stream_fd(const struct stream *stream);

/** The OVNIC_POLL_IN/OVNIC_POLL_OUT events to watch so that the pending operation can
 * progress (a TLS stream may need OVNIC_POLL_OUT to read, or OVNIC_POLL_IN to write).
 * 'want_send' says whether the caller has output waiting. */
uint32_t stream_poll_events(const struct stream *stream, bool want_send);

/** The remote's name as given to stream_open() or "unix:..."/"tcp:IP:PORT" for an
 * accepted stream.  Valid until stream_close(). */
const char *stream_name(const struct stream *stream);

/** For a connected TLS stream: the peer certificate's subject CN, else NULL.  Valid
 * until stream_close(). */
const char *stream_peer_name(const struct stream *stream);

/** Closes and frees 'stream' (may be NULL). */
void stream_close(struct stream *stream);

/** Starts listening on 'name' (punix:, ptcp:, pssl:).  'tls' is required for pssl:.
 * Caller owns '*pstream'; free with pstream_close().  For ptcp:/pssl: with port 0, the
 * bound port is returned by pstream_port(). */
int pstream_open(const char *name, const struct tls_config *tls, struct pstream **pstream,
                 struct ovnic_err *err);

/** Accepts one connection.  Returns 0 with '*stream' set (its TLS handshake may still
 * be in progress: drive it with stream_connect()), -EAGAIN if none is waiting, or a
 * negative errno. */
int pstream_accept(struct pstream *pstream, struct stream **stream);

int pstream_fd(const struct pstream *pstream);
uint16_t pstream_port(const struct pstream *pstream);

/** Closes 'pstream' (may be NULL); removes the socket file of punix:. */
void pstream_close(struct pstream *pstream);

#endif /* OVNIC_UTIL_STREAM_H */
