/* ovnic firmware images: recipes, the JSON manifests an image is built from.
 *
 *   {"format": "ovnic-fw-recipe-v1",
 *    "name": NAME, "type": "nic-firmware" | "dpu-software" | "bundle",
 *    "version": "MAJOR.MINOR.PATCH[-LABEL]", "security_version": N,
 *    "build_time": UNIX-SECONDS,                       (optional)
 *    "families": [PSID, ...],
 *    "sections": [{"name": NAME, "file": PATH}            a file's bytes, PATH relative
 *                                                         to the recipe's directory
 *                 | {"name": NAME, "text": TEXT}          the UTF-8 bytes of TEXT
 *                 | {"name": NAME, "generate": {"seed": TEXT, "size": N}}, ...]}
 *
 * A generated section is N deterministic pseudo-random bytes: the concatenation of
 * SHA-256(seed || BE64(i)) for i = 0, 1, ..., cut at N.  Example recipes live in
 * fw-images/recipes/ (docs/fw-image.md). */
#ifndef OVNIC_FW_RECIPE_H
#define OVNIC_FW_RECIPE_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/util/err.h"

#define FW_RECIPE_FORMAT "ovnic-fw-recipe-v1"
#define FW_RECIPE_MAX_FILE_SIZE ((size_t)1 << 20)

/** Values that replace the recipe's (each only if set). */
struct fw_recipe_overrides {
    const char *version; /* "MAJOR.MINOR.PATCH[-LABEL]", or NULL. */
    bool has_security_version;
    uint32_t security_version;
    bool has_build_time;
    uint64_t build_time;
};

/** Builds the unsigned image that the recipe 'recipe' (borrowed) describes; relative
 * file names are resolved in 'base_dir'.  When neither the recipe nor 'overrides' give
 * a build time, 'default_build_time' is used.  Caller owns '*imagep'; free with
 * free().  Returns 0, -EINVAL (a bad member: 'err' names it), -EFBIG, -ENOMEM, or the
 * negative errno of a section file that cannot be read. */
int fw_recipe_build_json(const json_t *recipe, const char *base_dir,
                         const struct fw_recipe_overrides *overrides,
                         uint64_t default_build_time, uint8_t **imagep, size_t *lenp,
                         struct ovnic_err *err);

/** The same, from the recipe file 'path' (section files relative to its directory). */
int fw_recipe_build(const char *path, const struct fw_recipe_overrides *overrides,
                    uint64_t default_build_time, uint8_t **imagep, size_t *lenp,
                    struct ovnic_err *err);

/** Fills 'len' bytes at 'out' as a "generate" section with 'seed'.  Returns 0 or
 * -ENOMEM. */
int fw_recipe_generate(const char *seed, uint8_t *out, size_t len);

#endif /* OVNIC_FW_RECIPE_H */
