/* ovnic firmware images: building an image from a recipe (see recipe.h). */
#include "fw-images/recipe.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fw-images/file.h"
#include "fw-images/image.h"
#include "shared/util/json.h"

#define OBJ "recipe"

/* json_get_int_range() says -ERANGE; a bad member is -EINVAL here. */
static int
range_to_inval(int error, struct ovnic_err *err)
{
    if (error == -ERANGE) {
        if (err) {
            err->code = -EINVAL;
        }
        return -EINVAL;
    }
    return error;
}

int
fw_recipe_generate(const char *seed, uint8_t *out, size_t len)
{
    size_t seed_len = strlen(seed);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint64_t i = 0;

    if (!ctx) {
        return -ENOMEM;
    }
    while (len) {
        uint8_t block[FW_IMAGE_DIGEST_SIZE];
        uint8_t counter[8];
        size_t n = MIN(len, sizeof block);

        for (int b = 0; b < 8; b++) {
            counter[b] = (uint8_t)(i >> (56 - 8 * b));
        }
        if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
            !EVP_DigestUpdate(ctx, seed, seed_len) ||
            !EVP_DigestUpdate(ctx, counter, sizeof counter) ||
            !EVP_DigestFinal_ex(ctx, block, NULL)) {
            EVP_MD_CTX_free(ctx);
            return -ENOMEM;
        }
        memcpy(out, block, n);
        out += n;
        len -= n;
        i++;
    }
    EVP_MD_CTX_free(ctx);
    return 0;
}

/* Loads the bytes of section 'j' into '*datap' (caller owns). */
static int
section_load(const json_t *j, size_t i, const char *base_dir, const char **namep,
             uint8_t **datap, size_t *lenp, struct ovnic_err *err)
{
    static const char *const members[] = {"name", "file", "text", "generate", NULL};
    const char *name, *file = NULL, *text = NULL;
    const json_t *gen = NULL;
    char where[32];
    int error;

    snprintf(where, sizeof where, "sections[%zu]", i);
    if (!json_is_object(j)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "section is not an object", "%s", where);
    }
    error = json_check_members(j, members, OBJ, where, err);
    if (!error) {
        error = json_get_string(j, "name", &name, err);
    }
    if (!error) {
        error = json_get_string_opt(j, "file", &file, err);
    }
    if (!error) {
        error = json_get_string_opt(j, "text", &text, err);
    }
    if (!error) {
        error = json_get_object_opt(j, "generate", &gen, err);
    }
    if (error) {
        return error;
    }
    if (!fw_image_name_is_valid(name)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "invalid section name",
                             "%s: '%s': 1 to %d of [0-9A-Za-z._+-]", where, name,
                             FW_IMAGE_NAME_MAX);
    }
    if ((file != NULL) + (text != NULL) + (gen != NULL) != 1) {
        return ovnic_err_set(err, -EINVAL, OBJ, "section needs one source",
                             "%s ('%s'): exactly one of file, text, generate", where,
                             name);
    }
    *namep = name;
    if (file) {
        char *path;

        if (file[0] == '/') {
            path = strdup(file);
        } else if (asprintf(&path, "%s/%s", base_dir, file) < 0) {
            path = NULL;
        }
        if (!path) {
            return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
        }
        error = fw_file_read(path, FW_IMAGE_MAX_SECTION_SIZE, datap, lenp, err);
        free(path);
        return error == -EFBIG ? ovnic_err_set(err, -EFBIG, OBJ, "oversized section",
                                               "%s ('%s')", where, name)
                               : error;
    }
    if (text) {
        *lenp = strlen(text);
        *datap = (uint8_t *)strdup(text);
        return *datap ? 0 : ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }

    static const char *const gen_members[] = {"seed", "size", NULL};
    const char *seed;
    int64_t size;

    error = json_check_members(gen, gen_members, OBJ, where, err);
    if (!error) {
        error = json_get_string(gen, "seed", &seed, err);
    }
    if (!error) {
        error = json_get_int_range(gen, "size", 0, (int64_t)FW_IMAGE_MAX_SECTION_SIZE + 1,
                                   &size, err);
    }
    if (error) {
        return range_to_inval(error, err);
    }
    if ((uint64_t)size > FW_IMAGE_MAX_SECTION_SIZE) {
        return ovnic_err_set(err, -EFBIG, OBJ, "oversized section",
                             "%s ('%s'): %" PRId64 " bytes, at most %" PRIu64, where,
                             name, size, FW_IMAGE_MAX_SECTION_SIZE);
    }
    *datap = malloc(size ? (size_t)size : 1);
    if (!*datap) {
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    if (fw_recipe_generate(seed, *datap, (size_t)size)) {
        free(*datap);
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    *lenp = (size_t)size;
    return 0;
}

int
fw_recipe_build_json(const json_t *recipe, const char *base_dir,
                     const struct fw_recipe_overrides *ov, uint64_t default_build_time,
                     uint8_t **imagep, size_t *lenp, struct ovnic_err *err)
{
    static const char *const members[] = {
        "format",     "name",     "type",     "version", "security_version",
        "build_time", "families", "sections", NULL,
    };
    const char *format, *name, *type_name, *version;
    uint8_t *datas[FW_IMAGE_MAX_SECTIONS] = {NULL};
    const json_t *families, *sections;
    struct fw_image_spec spec;
    int64_t security, build_time = -1;
    int error;

    memset(&spec, 0, sizeof spec);
    if (!json_is_object(recipe)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "not a JSON object", NULL);
    }
    error = json_check_members(recipe, members, OBJ, "the recipe", err);
    if (!error) {
        error = json_get_string(recipe, "format", &format, err);
    }
    if (!error && strcmp(format, FW_RECIPE_FORMAT)) {
        error = ovnic_err_set(err, -EINVAL, OBJ, "unknown format", "'%s', expected '%s'",
                              format, FW_RECIPE_FORMAT);
    }
    if (!error) {
        error = json_get_string(recipe, "name", &name, err);
    }
    if (!error) {
        error = json_get_string(recipe, "type", &type_name, err);
    }
    if (!error) {
        error = json_get_string(recipe, "version", &version, err);
    }
    if (!error) {
        error =
            json_get_int_range(recipe, "security_version", 0, UINT32_MAX, &security, err);
    }
    if (!error) {
        error = json_get_int_opt(recipe, "build_time", &build_time, err);
    }
    if (!error) {
        error = json_get_array(recipe, "families", &families, err);
    }
    if (!error) {
        error = json_get_array(recipe, "sections", &sections, err);
    }
    if (error) {
        return range_to_inval(error, err);
    }
    if (ov && ov->version) {
        version = ov->version;
    }
    if (fw_image_type_parse(type_name, &spec.type)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "unknown image type",
                             "'%s' (nic-firmware, dpu-software or bundle)", type_name);
    }
    if (fw_semver_parse(version, &spec.version)) {
        return ovnic_err_set(err, -EINVAL, OBJ, "bad version",
                             "'%s': MAJOR.MINOR.PATCH[-LABEL]", version);
    }
    spec.name = name;
    spec.security_version = (uint32_t)security;
    if (ov && ov->has_security_version) {
        spec.security_version = ov->security_version;
    }
    if (build_time < -1) {
        return ovnic_err_set(err, -EINVAL, OBJ, "bad build_time", "%" PRId64, build_time);
    }
    spec.build_time = build_time >= 0 ? (uint64_t)build_time : default_build_time;
    if (ov && ov->has_build_time) {
        spec.build_time = ov->build_time;
    }
    if (!json_array_size(families) || json_array_size(families) > FW_IMAGE_MAX_FAMILIES) {
        return ovnic_err_set(err, -EINVAL, OBJ, "bad number of device families",
                             "%zu: 1 to %d", json_array_size(families),
                             FW_IMAGE_MAX_FAMILIES);
    }
    spec.n_families = json_array_size(families);
    for (size_t i = 0; i < spec.n_families; i++) {
        const json_t *f = json_array_get(families, i);

        if (!json_is_string(f)) {
            return ovnic_err_set(err, -EINVAL, OBJ, "device family is not a string",
                                 "families[%zu]", i);
        }
        spec.families[i] = json_string_value(f);
    }
    if (!json_array_size(sections) || json_array_size(sections) > FW_IMAGE_MAX_SECTIONS) {
        return ovnic_err_set(err, -EINVAL, OBJ, "bad number of sections", "%zu: 1 to %d",
                             json_array_size(sections), FW_IMAGE_MAX_SECTIONS);
    }
    spec.n_sections = json_array_size(sections);
    for (size_t i = 0; i < spec.n_sections; i++) {
        struct fw_image_spec_section *s = &spec.sections[i];

        error = section_load(json_array_get(sections, i), i, base_dir, &s->name,
                             &datas[i], &s->size, err);
        if (error) {
            goto out;
        }
        s->data = datas[i];
    }
    error = fw_image_build(&spec, imagep, lenp, err);

out:
    for (size_t i = 0; i < FW_IMAGE_MAX_SECTIONS; i++) {
        free(datas[i]);
    }
    return error;
}

int
fw_recipe_build(const char *path, const struct fw_recipe_overrides *ov,
                uint64_t default_build_time, uint8_t **imagep, size_t *lenp,
                struct ovnic_err *err)
{
    char *copy, *dir;
    json_t *json;
    uint8_t *data;
    size_t len;
    int error;

    error = fw_file_read(path, FW_RECIPE_MAX_FILE_SIZE, &data, &len, err);
    if (error) {
        return error;
    }
    error = json_from_buffer((const char *)data, len, &json, err);
    free(data);
    if (error) {
        return error;
    }
    copy = strdup(path);
    if (!copy) {
        json_decref(json);
        return ovnic_err_set(err, -ENOMEM, OBJ, "out of memory", NULL);
    }
    dir = dirname(copy);
    error = fw_recipe_build_json(json, dir, ov, default_build_time, imagep, lenp, err);
    free(copy);
    json_decref(json);
    return error;
}
