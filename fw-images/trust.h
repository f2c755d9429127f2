/* ovnic firmware images: the trust store, and verification of an image against it.
 *
 * A trust store is a JSON file (docs/fw-image.md):
 *
 *   {"format": "ovnic-fw-trust-v1",
 *    "threshold": K,
 *    "keys": [{"key_id": HEX32, "name": NAME, "algorithm": "ed25519" | "ecdsa-p256",
 *              "public_key": PEM}, ...],
 *    "revoked": [{"key_id": HEX32, "reason": TEXT}, ...]}
 *
 * An image is authentic when at least K distinct trusted keys signed its header
 * digest.  A signature counts only if its key is in "keys", is not in "revoked", and
 * the signature verifies; a second signature by the same key does not count again.
 * Verification reports, for every signature, whether it counted and why not. */
#ifndef OVNIC_FW_TRUST_H
#define OVNIC_FW_TRUST_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw-images/image.h"
#include "fw-images/key.h"
#include "shared/util/err.h"

#define FW_TRUST_FORMAT "ovnic-fw-trust-v1"
#define FW_TRUST_MAX_KEYS 64
#define FW_TRUST_MAX_REVOKED 256
#define FW_TRUST_NAME_MAX 63
#define FW_TRUST_REASON_MAX 127
#define FW_TRUST_MAX_FILE_SIZE ((size_t)1 << 20)

struct fw_trust;

/** Creates an empty trust store with threshold 'threshold' (>= 1).  Caller owns
 * '*trustp'; free with fw_trust_destroy().  Returns 0, -EINVAL or -ENOMEM. */
int fw_trust_create(unsigned int threshold, struct fw_trust **trustp,
                    struct ovnic_err *err);

/** Reads a trust store from 'path'.  Every member is checked: unknown members, a key
 * id that is not the key's, a duplicate key, a threshold of 0 are refused.  (A
 * threshold above the number of usable keys is allowed: no image verifies until
 * enough keys are added.)  Caller owns '*trustp'.  Returns 0, -EINVAL ('err' names the
 * member), or a negative errno if the file cannot be read. */
int fw_trust_load(const char *path, struct fw_trust **trustp, struct ovnic_err *err);

/** The same from a JSON value (borrowed). */
int fw_trust_from_json(const json_t *json, struct fw_trust **trustp,
                       struct ovnic_err *err);

/** The trust store as JSON, in the format fw_trust_load() reads.  Caller owns; free
 * with json_decref().  NULL if out of memory. */
json_t *fw_trust_to_json(const struct fw_trust *trust);

/** Writes the trust store to 'path' atomically.  Returns 0 or a negative errno. */
int fw_trust_save(const struct fw_trust *trust, const char *path, struct ovnic_err *err);

void fw_trust_destroy(struct fw_trust *trust);

/** Adds the public half of 'key' (borrowed) under 'name' (1 to FW_TRUST_NAME_MAX
 * printable characters).  Returns 0, -EEXIST (the key is there already), -EINVAL, or
 * -E2BIG (FW_TRUST_MAX_KEYS reached). */
int fw_trust_key_add(struct fw_trust *trust, const struct fw_key *key, const char *name,
                     struct ovnic_err *err);

/** Revokes the key with id 'key_id' (which need not be in the store) for 'reason'
 * (may be NULL).  Returns 0, -EEXIST (already revoked), -E2BIG, or -EINVAL. */
int fw_trust_revoke(struct fw_trust *trust, const uint8_t key_id[FW_KEY_ID_SIZE],
                    const char *reason, struct ovnic_err *err);

/** Sets the threshold (1 to FW_TRUST_MAX_KEYS).  Returns 0 or -EINVAL. */
int fw_trust_threshold_set(struct fw_trust *trust, unsigned int threshold,
                           struct ovnic_err *err);

unsigned int fw_trust_threshold(const struct fw_trust *trust);
size_t fw_trust_n_keys(const struct fw_trust *trust);

/** What became of one signature of an image. */
enum fw_sig_verdict {
    FW_SIG_TRUSTED,     /* Counted toward the threshold. */
    FW_SIG_UNKNOWN_KEY, /* No such key in the store. */
    FW_SIG_REVOKED,     /* The key is revoked. */
    FW_SIG_BAD,         /* The signature does not verify (or the algorithm differs). */
    FW_SIG_DUPLICATE,   /* Another signature by the same key counted already. */
};

/** "trusted", "unknown-key", "revoked", "bad-signature", "duplicate". */
const char *fw_sig_verdict_name(enum fw_sig_verdict verdict);

struct fw_sig_check {
    uint8_t key_id[FW_KEY_ID_SIZE];
    uint16_t alg;
    enum fw_sig_verdict verdict;
    char key_name[FW_TRUST_NAME_MAX + 1];  /* "" if the key is not in the store. */
    char reason[FW_TRUST_REASON_MAX + 64]; /* Why it did not count; "" if it did. */
};

/** What the image must also satisfy. */
struct fw_verify_policy {
    const char *device; /* Device family the image must list; NULL: not checked. */
    bool check_security;
    uint32_t min_security_version; /* With 'check_security'. */
};

struct fw_verify_result {
    size_t n_sigs;
    struct fw_sig_check sigs[FW_IMAGE_MAX_SIGNATURES];
    unsigned int n_trusted; /* Distinct trusted keys whose signature verified. */
    unsigned int threshold;
    bool signatures_ok; /* n_trusted >= threshold. */
    bool device_ok;     /* True if not checked. */
    bool security_ok;   /* True if not checked. */
};

/** Checks the signatures of 'image' (parsed by fw_image_parse(); borrowed) against
 * 'trust', then 'policy' (may be NULL), filling '*result' in every case.
 * Returns 0 if the image passes, else the first failure in this order: -EKEYREJECTED
 * (fewer than 'threshold' trusted signatures: 'err' lists what was refused), -ENODEV
 * (the device family is not among the image's), -EPERM (security version below the
 * minimum: a downgrade). */
int fw_trust_verify(const struct fw_trust *trust, const struct fw_image *image,
                    const struct fw_verify_policy *policy,
                    struct fw_verify_result *result, struct ovnic_err *err);

/** Everything an installer checks before it writes a byte: fw_image_parse() of the
 * 'len' bytes at 'data', then fw_trust_verify().  Fills '*image' (may be NULL) when
 * the image parses, and '*result' (may be NULL) when it parses.  Returns 0 or the
 * first failure of either (-EBADMSG, -EFBIG, -EKEYREJECTED, -ENODEV, -EPERM), with
 * 'err' naming the reason. */
int fw_image_check(const void *data, size_t len, const struct fw_trust *trust,
                   const struct fw_verify_policy *policy, struct fw_image *image,
                   struct fw_verify_result *result, struct ovnic_err *err);

/** The outcome of fw_trust_verify() as JSON: {"threshold", "trusted", "signatures":
 * [{"key_id", "name", "algorithm", "result", "reason"}], "signatures_ok",
 * "device_ok", "security_ok"}.  Caller owns; NULL if out of memory. */
json_t *fw_verify_result_to_json(const struct fw_verify_result *result);

#endif /* OVNIC_FW_TRUST_H */
