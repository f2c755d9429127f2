/* ovnic firmware images: signing keys (Ed25519 and ECDSA P-256, through OpenSSL 3
 * EVP).
 *
 * A key's id is the first FW_KEY_ID_SIZE bytes of the SHA-256 of its public key's
 * DER SubjectPublicKeyInfo, written as 32 lower-case hex digits.  Keys are stored as
 * PEM: the private key unencrypted (PKCS#8, mode 0600), the public key as
 * SubjectPublicKeyInfo.
 *
 * An Ed25519 signature is the 64 bytes of RFC 8032 over the to-be-signed bytes
 * (fw_image_tbs()); an ECDSA P-256 signature is over their SHA-256, stored as r || s
 * (32 bytes each, big-endian), so that every signature has the same fixed width. */
#ifndef OVNIC_FW_KEY_H
#define OVNIC_FW_KEY_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw-images/image.h"
#include "shared/util/err.h"

struct fw_key;

/** Creates a new key of algorithm 'alg' (enum fw_sig_alg).  Caller owns '*keyp'; free
 * with fw_key_destroy().  Returns 0, -EINVAL (unknown algorithm) or -ENOMEM. */
int fw_key_generate(uint16_t alg, struct fw_key **keyp, struct ovnic_err *err);

/** Reads a PEM private key (Ed25519 or P-256) from 'path'.  Caller owns '*keyp'.
 * Returns 0, a negative errno if the file cannot be read, or -EINVAL (no unencrypted
 * PEM private key, or a key of another type). */
int fw_key_load_private(const char *path, struct fw_key **keyp, struct ovnic_err *err);

/** Parses a PEM public key held in 'pem'.  Caller owns '*keyp'.  Returns 0 or
 * -EINVAL. */
int fw_key_from_public_pem(const char *pem, struct fw_key **keyp, struct ovnic_err *err);

/** Reads a PEM public key from 'path'.  Returns as fw_key_from_public_pem(), or a
 * negative errno if the file cannot be read. */
int fw_key_load_public(const char *path, struct fw_key **keyp, struct ovnic_err *err);

void fw_key_destroy(struct fw_key *key);

/** Writes the private key to 'path' (mode 0600, atomically).  Returns 0, -EINVAL (a
 * public key only), or a negative errno. */
int fw_key_save_private(const struct fw_key *key, const char *path,
                        struct ovnic_err *err);

/** Writes the public key to 'path' (mode 0644, atomically).  Returns 0 or a negative
 * errno. */
int fw_key_save_public(const struct fw_key *key, const char *path, struct ovnic_err *err);

/** The public key as PEM.  Caller owns '*pemp'; free with free().  Returns 0 or
 * -ENOMEM. */
int fw_key_public_pem(const struct fw_key *key, char **pemp, struct ovnic_err *err);

/** The key's algorithm (enum fw_sig_alg). */
uint16_t fw_key_alg(const struct fw_key *key);

/** The key's id (FW_KEY_ID_SIZE bytes).  Valid while 'key' is. */
const uint8_t *fw_key_id(const struct fw_key *key);

/** The key's id as hex.  Valid while 'key' is. */
const char *fw_key_id_hex(const struct fw_key *key);

/** True if 'key' holds its private half. */
bool fw_key_has_private(const struct fw_key *key);

/** Signs the image whose header digest is 'digest' into '*sig' (algorithm, key id,
 * signature).  Returns 0, -EINVAL (a public key only) or -EIO (OpenSSL failed). */
int fw_key_sign(const struct fw_key *key, const uint8_t digest[FW_IMAGE_DIGEST_SIZE],
                struct fw_signature *sig, struct ovnic_err *err);

/** Checks that 'sig' is 'key''s signature of the image whose header digest is
 * 'digest'.  Returns 0, or -EKEYREJECTED (another algorithm, another key id, or a
 * signature that does not verify). */
int fw_key_verify(const struct fw_key *key, const uint8_t digest[FW_IMAGE_DIGEST_SIZE],
                  const struct fw_signature *sig, struct ovnic_err *err);

#endif /* OVNIC_FW_KEY_H */
